//! The database handle: one enum over the two native sqlx pools.
//!
//! Every query is written once in portable SQL and expanded into both arms by [`on_db!`] or
//! [`on_tx!`], so each arm is type-checked against its own backend. No `sqlx::Any`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::shared::Shared;
use crate::writer_cpu::WriterCpu;
use crate::StoreError;

/// Which backend a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Statements the SQLite writer keeps prepared (sqlx's default is 100): every statement of
/// the program's writes, and up to 11 sizes of each multi-row one (`statement_chunks`), so
/// none is evicted and planned again (docs/decisions/0004).
const WRITER_STATEMENTS: usize = 1024;

/// The SQLite writer's page cache, KiB. Kept small: SQLite walks the whole page cache at the
/// end of many write transactions (`pcache1TruncateUnsafe` after a page split parks a page
/// past the end of the file), so a large cache makes every commit slower; pages not in it
/// come from the operating system's cache. See docs/decisions/0006.
const WRITER_CACHE_KIB: u32 = 8_000;

/// The writer's page cache for a bulk transaction ([`Db::begin_bulk`]): a 100,000-row
/// import touches every index of people, grams, memberships and the audit log in one
/// transaction, which must fit in the cache or spill to the WAL (docs/decisions/0006).
const BULK_CACHE_KIB: u32 = 262_144;

/// SQLite keeps one writer connection (writes never contend for the lock) and a pool of
/// readers; PostgreSQL has one pool.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite { writer: SqlitePool, reader: SqlitePool, state: Arc<WriterState>, shared: Arc<Shared> },
    Postgres { pool: PgPool, shared: Arc<Shared> },
}

/// The SQLite writer's own state: where its threads go ([`crate::writer_cpu`]: the CPU
/// chosen when the database was opened, and the name sqlx gave the writer connection's
/// thread, a new one if the connection is ever opened again), and its page cache's size.
#[derive(Debug)]
pub struct WriterState {
    cpu: Option<usize>,
    thread: Mutex<Option<String>>,
    /// The writer's page cache is raised for a bulk transaction (set back by the next
    /// `begin`; only the holder of the one writer connection reads or changes it).
    bulk_cache: std::sync::atomic::AtomicBool,
}

/// A write transaction on either backend, with what it remembers until it ends.
pub struct Tx {
    /// Public for [`on_tx!`] only.
    #[doc(hidden)]
    pub conn: TxConn,
    pub(crate) memo: TxMemo,
    /// What the database's transactions share (kept only from committed state).
    pub(crate) shared: Arc<Shared>,
}

/// The backend's transaction (reached through [`on_tx!`]).
pub enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// State a transaction keeps so that a batch of many small writes (group commit) does not
/// repeat the same statements: settings and ledger system accounts looked up once, the
/// audit chain's head carried from one entry to the next, and the system accounts' balance
/// changes summed; both are written back once at commit.
#[derive(Default)]
pub(crate) struct TxMemo {
    /// Settings read in this transaction, as stored (JSON), by key.
    pub settings: HashMap<String, Option<String>>,
    /// The audit chain's head (last sequence number and hash) after this transaction's
    /// entries; `dirty` when it must be written back.
    pub audit_head: Option<AuditHead>,
    /// Ledger system accounts' ids by (ledger, key).
    pub system_accounts: HashMap<(String, String), i64>,
    /// Balance changes of system accounts not yet written, by account id (written in id
    /// order at commit, so concurrent PostgreSQL transactions lock them in one order).
    pub system_deltas: BTreeMap<i64, i64>,
    /// An account or token changed: caches of who is signed in must look again once this
    /// commits (`users::auth_epoch`).
    pub auth_changed: bool,
    /// A setting was written: the settings kept in [`Shared`] are stale once this commits.
    pub settings_changed: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct AuditHead {
    pub seq: i64,
    pub hash: String,
    pub dirty: bool,
}

/// What a savepoint must restore besides the database: see [`Tx::mark`].
pub struct TxMark {
    audit_head: Option<AuditHead>,
    system_deltas: BTreeMap<i64, i64>,
}

/// Run the same body against the reader pool of either backend.
/// `on_db!(db, |c| sqlx::query("…").fetch_all(c).await)`
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { reader, .. } => {
                let $c = reader;
                $body
            }
            $crate::db::Db::Postgres { pool, .. } => {
                let $c = pool;
                $body
            }
        }
    };
}

/// Run the same body inside a transaction of either backend: `$c` is `&mut *conn`.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut ($tx).conn {
            $crate::db::TxConn::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::TxConn::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Options for opening a database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Readers in the SQLite pool, or connections in the PostgreSQL pool.
    pub max_connections: u32,
    /// `synchronous=FULL` (default) survives power loss; NORMAL only a process crash.
    pub sqlite_synchronous_full: bool,
    /// Where the SQLite writer runs (the server asks for `Auto`).
    pub writer_cpu: WriterCpu,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 8, sqlite_synchronous_full: true, writer_cpu: WriterCpu::Off }
    }
}

impl Db {
    /// Open the database named by a URL: `sqlite://path` or `postgres://…`.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db, StoreError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            Self::open_sqlite(Path::new(path), opts).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let o = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Config(format!("PostgreSQL 连接串无效：{e}")))?;
            Self::open_postgres(o, opts).await
        } else {
            Err(StoreError::Config(format!(
                "不支持的数据库地址「{}」：只支持 sqlite://文件路径 或 postgres://用户:密码@主机/库名",
                redact_url(url)
            )))
        }
    }

    pub async fn open_sqlite(path: &Path, opts: &DbOptions) -> Result<Db, StoreError> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Config(format!("无法创建数据目录 {}：{e}", dir.display())))?;
        let state = Arc::new(WriterState {
            cpu: opts.writer_cpu.choose(dir),
            thread: Mutex::default(),
            bulk_cache: Default::default(),
        });
        let named = state.clone();
        let writer_thread = move |id: u64| {
            let name = format!("wushe-sqlw-{id}");
            if let Ok(mut t) = named.thread.lock() {
                *t = Some(name.clone());
            }
            name
        };
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .synchronous(if opts.sqlite_synchronous_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal })
            .pragma("wal_autocheckpoint", "4000")
            .pragma("cache_size", "-32000")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // The one writer keeps its statements prepared (`WRITER_STATEMENTS`); its page
            // cache is [`WRITER_CACHE_KIB`], raised for bulk transactions (`begin_bulk`).
            .connect_with(
                base.clone()
                    .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                    .statement_cache_capacity(WRITER_STATEMENTS)
                    .thread_name(writer_thread),
            )
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .min_connections(1)
            // A reader's page cache is dropped whenever a write has committed since its last
            // read (WAL mode), i.e. on almost every read under load; mapped pages of the
            // database file are read in place instead of being copied into a fresh cache.
            .connect_with(base.read_only(true).pragma("mmap_size", "1073741824"))
            .await?;
        Ok(Db::Sqlite { writer, reader, state, shared: Arc::default() })
    }

    pub async fn open_postgres(o: PgConnectOptions, opts: &DbOptions) -> Result<Db, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(o)
            .await?;
        Ok(Db::Postgres { pool, shared: Arc::default() })
    }

    /// The CPU for the SQLite writer and the name of its connection's thread, when the
    /// database was opened with a [`WriterCpu`] that chose one.
    pub fn writer_placement(&self) -> Option<(usize, String)> {
        match self {
            Db::Sqlite { state, .. } => {
                let thread = state.thread.lock().ok()?.clone()?;
                Some((state.cpu?, thread))
            }
            Db::Postgres { .. } => None,
        }
    }

    /// What this database's transactions share.
    pub(crate) fn shared(&self) -> &Shared {
        match self {
            Db::Sqlite { shared, .. } | Db::Postgres { shared, .. } => shared,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Begin a write transaction. On SQLite it is `BEGIN IMMEDIATE` on the single writer, so
    /// a transaction never fails half-way for want of the write lock.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        self.begin_with_cache(false).await
    }

    /// Begin a write transaction that writes many rows at once (an import): on SQLite the
    /// writer's page cache is [`BULK_CACHE_KIB`] until the next transaction begins.
    pub async fn begin_bulk(&self) -> Result<Tx, StoreError> {
        self.begin_with_cache(true).await
    }

    async fn begin_with_cache(&self, bulk: bool) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { writer, state, shared, .. } => {
                let mut t = writer.begin_with("BEGIN IMMEDIATE").await?;
                let was_bulk = state.bulk_cache.swap(bulk, std::sync::atomic::Ordering::SeqCst);
                if bulk != was_bulk {
                    let kib = if bulk { BULK_CACHE_KIB } else { WRITER_CACHE_KIB };
                    sqlx::query(&format!("PRAGMA cache_size = -{kib}")).execute(&mut *t).await?;
                }
                Tx::new(TxConn::Sqlite(t), shared.clone())
            }
            Db::Postgres { pool, shared } => Tx::new(TxConn::Postgres(pool.begin().await?), shared.clone()),
        })
    }

    /// Apply the migrations of this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { writer, .. } => sqlx::migrate!("./migrations/sqlite").run(writer).await?,
            Db::Postgres { pool, .. } => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// An online copy of a SQLite database into a new file (`VACUUM INTO`: a consistent
    /// snapshot while the server keeps running). PostgreSQL is backed up with `pg_dump`.
    pub async fn backup_into(&self, out: &std::path::Path) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { writer, .. } => {
                sqlx::query("VACUUM INTO $1").bind(out.to_string_lossy().to_string()).execute(writer).await?;
                Ok(())
            }
            Db::Postgres { .. } => Err(StoreError::Config(
                "PostgreSQL 请使用 pg_dump 备份，例如：pg_dump -Fc -f wushe.dump \"$DATABASE_URL\"（见 README）".into(),
            )),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, reader, .. } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres { pool, .. } => pool.close().await,
        }
    }

    /// Bring the database to its steady state after a bulk load, as autovacuum does on its
    /// own schedule: the planner's statistics (without them PostgreSQL plans searches as if
    /// the tables were empty) and, on PostgreSQL, the visibility map (without it an index-only
    /// scan still visits every row's page).
    pub async fn analyze(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { writer, .. } => sqlx::query("ANALYZE").execute(writer).await.map(|_| ())?,
            Db::Postgres { pool, .. } => sqlx::query("VACUUM ANALYZE").execute(pool).await.map(|_| ())?,
        }
        Ok(())
    }

    /// Cheap liveness probe used by `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_db!(self, |c| sqlx::query("SELECT 1").execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    fn new(conn: TxConn, shared: Arc<Shared>) -> Tx {
        Tx { conn, memo: TxMemo::default(), shared }
    }

    pub fn backend(&self) -> Backend {
        match self.conn {
            TxConn::Sqlite(_) => Backend::Sqlite,
            TxConn::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        crate::accounts::audit::write_head(&mut self).await?;
        crate::timebank::ledger::write_system_balances(&mut self).await?;
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Postgres(t) => t.commit().await?,
        }
        // after the commit: a lookup that began before it and cached the old answer did so
        // under the old epoch
        if self.memo.auth_changed {
            crate::accounts::users::auth_changed();
        }
        if self.memo.settings_changed {
            self.shared.settings_changed();
        }
        self.shared.keep_system_accounts(&self.memo.system_accounts);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.conn {
            TxConn::Sqlite(t) => t.rollback().await?,
            TxConn::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// Remember the in-memory state before a savepoint; [`Tx::rewind`] puts it back when the
    /// savepoint is rolled back, so memory and database agree again.
    pub fn mark(&self) -> TxMark {
        TxMark { audit_head: self.memo.audit_head.clone(), system_deltas: self.memo.system_deltas.clone() }
    }

    pub fn rewind(&mut self, mark: TxMark) {
        self.memo.audit_head = mark.audit_head;
        self.memo.system_deltas = mark.system_deltas;
        // a rolled-back write may have changed a setting or created an account: look again
        self.memo.settings.clear();
        self.memo.system_accounts.clear();
    }
}

/// Hide the password in a database URL before it is shown or logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}://{}:***{}", &url[..s], &creds[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_password() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://a.db"), "sqlite://a.db");
    }
}
