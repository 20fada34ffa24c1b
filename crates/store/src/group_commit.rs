//! Group commit: the hot write paths (check-ins, hour confirmations) send their work to one
//! writer task, which runs every job waiting at that moment in a single transaction, commits
//! once (one fsync with SQLite's `synchronous=FULL`) and only then answers each caller.
//! Durability stays per request; the cost of a flush is shared by everyone who waited for it.
//!
//! Jobs are refused rarely, so a batch first runs without savepoints (two statements per job
//! saved). When a job is refused, the batch is rolled back and run again with each job in its
//! own savepoint, so the refused job's writes are undone and the others' kept. Jobs therefore
//! must be safe to run twice: they only read and write through the transaction they are given.
//!
//! Requests of one kind can also be merged (`GroupCommit::merge`): the batch hands all of
//! them to one call, which reads and writes for all of them with a few statements each
//! touching many rows. With SQLite every statement is a round trip to the connection's own
//! thread, so statements per batch, not per request, is what lets a batch keep pace.

use std::any::{Any, TypeId};
use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};

use crate::{on_tx, Db, StoreError, Tx};

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Jobs one transaction takes at most (bounds the latency one commit adds).
pub const MAX_BATCH: usize = 512;

trait Job: Send + 'static {
    /// Run inside the batch's transaction; false when the job refused (its writes must be
    /// undone). May be called again after a rollback; the last run's result is the answer.
    fn apply<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFut<'a, bool>;
    /// Answer the caller once the batch is committed (or failed).
    fn finish(self: Box<Self>, committed: Result<(), String>);
    /// Jobs of the same kind may be merged into one.
    fn kind(&self) -> Option<TypeId> {
        None
    }
    /// Take in a job of the same `kind`.
    fn absorb(&mut self, _other: Box<dyn Job>) {}
    /// Requests this job answers.
    fn requests(&self) -> usize {
        1
    }
    /// Undo merging: one job per request.
    fn split(self: Box<Self>) -> Vec<Box<dyn Job>>;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// One answer per item, or the failure of the whole call.
pub type Answers<O, E> = Result<Vec<Result<O, E>>, E>;

/// Work that many requests submit and one call performs for all of them.
pub trait Merge: 'static {
    type Item: Send + Sync + 'static;
    type Out: Send + 'static;
    type Err: From<StoreError> + Send + 'static;
    /// Perform every item, answering each in order. An item answered with an error must
    /// have left no writes; an error of the whole call undoes the batch, which is then run
    /// again with each request on its own. May be called again after a rollback.
    fn apply<'a>(tx: &'a mut Tx, items: &'a [Self::Item]) -> BoxFut<'a, Answers<Self::Out, Self::Err>>;
}

struct MergedJob<M: Merge> {
    items: Vec<M::Item>,
    replies: Vec<oneshot::Sender<Result<M::Out, M::Err>>>,
    out: Option<Answers<M::Out, M::Err>>,
}

impl<M: Merge> Job for MergedJob<M> {
    fn apply<'a>(&'a mut self, tx: &'a mut Tx) -> BoxFut<'a, bool> {
        Box::pin(async move {
            let r = M::apply(tx, &self.items).await;
            let ok = r.is_ok();
            self.out = Some(r);
            ok
        })
    }

    fn finish(self: Box<Self>, committed: Result<(), String>) {
        let n = self.replies.len();
        let outs: Vec<Result<M::Out, M::Err>> = match (self.out, committed) {
            (Some(Ok(each)), Ok(())) if each.len() == n => each,
            (Some(Ok(each)), Err(e)) if each.len() == n => each
                .into_iter()
                .map(|r| r.and_then(|_| Err(M::Err::from(StoreError::Unavailable(e.clone())))))
                .collect(),
            (Some(Err(e)), _) if n == 1 => vec![Err(e)],
            _ => (0..n).map(|_| Err(M::Err::from(StoreError::Unavailable("写入任务未完成".into())))).collect(),
        };
        for (reply, out) in self.replies.into_iter().zip(outs) {
            let _ = reply.send(out);
        }
    }

    fn kind(&self) -> Option<TypeId> {
        Some(TypeId::of::<M>())
    }

    fn absorb(&mut self, other: Box<dyn Job>) {
        if let Ok(other) = other.into_any().downcast::<MergedJob<M>>() {
            self.items.extend(other.items);
            self.replies.extend(other.replies);
        }
    }

    fn requests(&self) -> usize {
        self.items.len()
    }

    fn split(self: Box<Self>) -> Vec<Box<dyn Job>> {
        if self.items.len() == 1 {
            return vec![self];
        }
        self.items
            .into_iter()
            .zip(self.replies)
            .map(|(item, reply)| {
                Box::new(MergedJob::<M> { items: vec![item], replies: vec![reply], out: None }) as Box<dyn Job>
            })
            .collect()
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

struct ClosureJob<F, T, E> {
    f: F,
    out: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for ClosureJob<F, T, E>
where
    F: for<'a> Fn(&'a mut Tx) -> BoxFut<'a, Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn split(self: Box<Self>) -> Vec<Box<dyn Job>> {
        vec![self]
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }

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
    /// Start the writer on a thread of its own with its own single-threaded runtime: a batch
    /// waits for each statement's answer, and a task woken from the database's thread on the
    /// shared runtime queues behind the HTTP tasks, which under load stretched every batch
    /// several times over. The thread ends when the last handle is dropped.
    pub fn start(db: Db) -> GroupCommit {
        let (queue, rx) = mpsc::channel::<Box<dyn Job>>(MAX_BATCH * 8);
        let mut builder = tokio::runtime::Builder::new_current_thread();
        match db.backend() {
            // SQLite answers through channels, never sockets: without an I/O driver the
            // runtime sleeps on a futex, and an answer wakes it without an eventfd write and
            // an epoll round (docs/decisions/0005)
            crate::Backend::Sqlite => builder.enable_time(),
            crate::Backend::Postgres => builder.enable_all(),
        };
        let runtime = builder.build();
        match runtime {
            Ok(rt) => {
                let spawned =
                    std::thread::Builder::new().name("wushe-writer".into()).spawn(move || rt.block_on(writer(db, rx)));
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "cannot start the writer thread");
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot build the writer runtime"),
        }
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

    /// Submit `item` to be performed by `M::apply` together with the other requests of
    /// the same kind in the next batch; answered after the commit.
    pub async fn merge<M: Merge>(&self, item: M::Item) -> Result<M::Out, M::Err> {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(MergedJob::<M> { items: vec![item], replies: vec![reply], out: None });
        self.queue
            .send(job)
            .await
            .map_err(|_| M::Err::from(StoreError::Unavailable("写入队列已关闭（服务正在停止）".into())))?;
        answer.await.map_err(|_| M::Err::from(StoreError::Unavailable("写入任务中断".into())))?
    }
}

/// Merge the jobs of the same kind (the first of a kind takes in the later ones).
fn coalesce(batch: Vec<Box<dyn Job>>) -> Vec<Box<dyn Job>> {
    let mut out: Vec<Box<dyn Job>> = Vec::with_capacity(batch.len());
    for job in batch {
        match job.kind().and_then(|k| out.iter_mut().find(|j| j.kind() == Some(k))) {
            Some(into) => into.absorb(job),
            None => out.push(job),
        }
    }
    out
}

async fn savepoint(tx: &mut Tx, sql: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Box<dyn Job>>) {
    let mut placed = None;
    while let Some(first) = rx.recv().await {
        place(&db, &mut placed);
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
        let ran = tokio::spawn(async move { run_batch(&db, coalesce(batch)).await }).await;
        match ran {
            Ok((batch, result)) => {
                let result = result.map_err(|e| e.to_string());
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

/// Keep this thread and the SQLite connection's thread on the chosen CPU
/// ([`crate::writer_cpu`]); checked before every batch, as the connection may be new.
fn place(db: &Db, placed: &mut Option<String>) {
    let Some((cpu, thread)) = db.writer_placement() else { return };
    if placed.as_ref() == Some(&thread) {
        return;
    }
    if crate::writer_cpu::place(cpu, &thread) {
        tracing::info!(cpu, "写入线程与其 SQLite 连接线程固定在 CPU {cpu}");
    } else {
        tracing::warn!(cpu, "无法把写入线程固定在 CPU {cpu}，由系统调度");
    }
    *placed = Some(thread);
}

async fn run_batch(db: &Db, mut batch: Vec<Box<dyn Job>>) -> (Vec<Box<dyn Job>>, Result<(), StoreError>) {
    let started = std::time::Instant::now();
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => return (batch, Err(e)),
    };
    for job in batch.iter_mut() {
        if !job.apply(&mut tx).await {
            if let Err(e) = tx.rollback().await {
                return (batch, Err(e));
            }
            let mut jobs: Vec<Box<dyn Job>> = batch.into_iter().flat_map(|j| j.split()).collect();
            if jobs.len() == 1 {
                // refused on its own: its answer is that refusal, and nothing is left to write
                return (jobs, Ok(()));
            }
            let r = run_with_savepoints(db, &mut jobs).await;
            return (jobs, r);
        }
    }
    let applied = started.elapsed();
    let r = tx.commit().await;
    // where a batch's time goes (`WUSHE_LOG=wushe_store::group_commit=debug`)
    tracing::debug!(
        jobs = batch.len(),
        requests = batch.iter().map(|j| j.requests()).sum::<usize>(),
        apply_us = applied.as_micros() as u64,
        commit_us = (started.elapsed() - applied).as_micros() as u64,
        "batch committed"
    );
    (batch, r)
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
