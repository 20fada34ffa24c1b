//! Group commit: the hot write paths (check-ins, hour confirmations) send their work to one
//! writer task, which runs every job waiting at that moment in a single transaction, commits
//! once (one fsync with SQLite's `synchronous=FULL`) and only then answers each caller.
//! Durability stays per request; the cost of a flush is shared by everyone who waited for it.
//!
//! Jobs are refused rarely, so a batch first runs without savepoints (two statements per job
//! saved). When a job is refused, the batch is rolled back and run again with each job in its
//! own savepoint, so the refused job's writes are undone and the others' kept. Jobs therefore
//! must be safe to run twice: they only read and write through the transaction they are given.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};

use crate::{on_tx, Db, StoreError, Tx};

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Jobs one transaction takes at most (bounds the latency one commit adds).
pub const MAX_BATCH: usize = 512;

trait Job: Send {
    /// Run inside the batch's transaction; false when the job refused (its writes must be
    /// undone). May be called again after a rollback; the last run's result is the answer.
    fn apply<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFut<'a, bool>;
    /// Answer the caller once the batch is committed (or failed).
    fn finish(self: Box<Self>, committed: Result<(), String>);
}

struct ClosureJob<F, T, E> {
    f: F,
    out: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for ClosureJob<F, T, E>
where
    F: for<'a> Fn(&'a mut Tx) -> BoxFut<'a, Result<T, E>> + Send,
    T: Send,
    E: From<StoreError> + Send,
{
    fn apply<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFut<'a, bool> {
        Box::pin(async move {
            let r = (self.f)(tx).await;
            let ok = r.is_ok();
            self.out = Some(r);
            ok
        })
    }

    fn finish(self: Box<Self>, committed: Result<(), String>) {
        let out = match (self.out, committed) {
            // refused on its own merits (and rolled back): that is the answer either way
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(e)) => Err(E::from(StoreError::Unavailable(e))),
            (None, _) => Err(E::from(StoreError::Unavailable("写入任务未执行".into()))),
        };
        let _ = self.reply.send(out);
    }
}

/// Handle to the writer task (cheap to clone).
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Box<dyn Job>>,
}

impl GroupCommit {
    /// Start the writer task on the current Tokio runtime.
    pub fn start(db: Db) -> GroupCommit {
        let (queue, rx) = mpsc::channel::<Box<dyn Job>>(MAX_BATCH * 8);
        tokio::spawn(writer(db, rx));
        GroupCommit { queue }
    }

    /// Run `f` in the next batch's transaction and return its result after the commit. An
    /// `Err` from `f` rolls back only `f`'s own writes. `f` may be run more than once (see
    /// the module notes); only its last run counts.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: for<'a> Fn(&'a mut Tx) -> BoxFut<'a, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(ClosureJob { f, out: None, reply });
        self.queue
            .send(job)
            .await
            .map_err(|_| E::from(StoreError::Unavailable("写入队列已关闭（服务正在停止）".into())))?;
        answer.await.map_err(|_| E::from(StoreError::Unavailable("写入任务中断".into())))?
    }
}

async fn savepoint(tx: &mut Tx, sql: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = rx.recv().await {
        let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        // Its own task, so a panicking job loses only its batch (rolled back, callers told
        // the write was interrupted) and the writer keeps serving.
        let db = db.clone();
        let ran = tokio::spawn(async move {
            let r = run_batch(&db, &mut batch).await.map_err(|e| e.to_string());
            (batch, r)
        })
        .await;
        match ran {
            Ok((batch, result)) => {
                if let Err(e) = &result {
                    tracing::error!(error = %e, jobs = batch.len(), "group commit failed");
                }
                for job in batch {
                    job.finish(result.clone());
                }
            }
            Err(e) => tracing::error!(error = %e, "group commit batch panicked"),
        }
    }
}

async fn run_batch(db: &Db, batch: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for job in batch.iter_mut() {
        if !job.apply(&mut tx).await {
            tx.rollback().await?;
            return if batch.len() == 1 { Ok(()) } else { run_with_savepoints(db, batch).await };
        }
    }
    tx.commit().await
}

async fn run_with_savepoints(db: &Db, batch: &mut [Box<dyn Job>]) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for job in batch.iter_mut() {
        savepoint(&mut tx, "SAVEPOINT job").await?;
        let mark = tx.mark();
        if job.apply(&mut tx).await {
            savepoint(&mut tx, "RELEASE SAVEPOINT job").await?;
        } else {
            savepoint(&mut tx, "ROLLBACK TO SAVEPOINT job").await?;
            savepoint(&mut tx, "RELEASE SAVEPOINT job").await?;
            tx.rewind(mark);
        }
    }
    tx.commit().await
}
