#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support: a failed fixture is the report
//! Dev-only test support: a fresh database on either backend per test, a small slice of the
//! real division table, account fixtures and an in-process HTTP client for the whole app.
//!
//! PostgreSQL tests run when `WUSHE_TEST_PG_URL` points at a server (for example
//! `postgres://wushe:wushe@127.0.0.1:5432/wushe_test`); each test gets its own schema. Under
//! CI (`CI` set) a missing variable fails the PostgreSQL tests instead of skipping them.

pub mod http;
pub mod volunteering;

use std::sync::OnceLock;

use wushe_domain::accounts::{Role, Scope};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::accounts::{password, users};
use wushe_store::{on_db, regions, Db, DbOptions};

pub use http::{Client, Resp, TestApp};

pub const PG_ENV: &str = "WUSHE_TEST_PG_URL";
pub const PASSWORD: &str = "Wushe@2026";

/// The PostgreSQL server's URL from [`PG_ENV`]. Unset outside CI: `None`, having said on
/// the run's output that the calling test is skipped; unset under CI (`CI` set): a panic,
/// so that a missing server fails the run instead of passing it untested.
pub fn pg_url() -> Option<String> {
    match std::env::var(PG_ENV) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("CI 中必须设置 {PG_ENV}，PostgreSQL 测试不能跳过");
            }
            skip_notice(&format!("跳过 PostgreSQL 测试：未设置 {PG_ENV}"));
            None
        }
    }
}

/// One line on the run's own stderr, `SKIPPED <test>: <why>`. The test harness captures
/// `eprintln!` and shows it only for a test that fails, so a skipped test that passes would
/// say nothing; a write to the stderr handle is not captured.
pub fn skip_notice(why: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated, empty database that cleans up after itself.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL is not configured outside CI.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let t = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let db = Db::connect(&url, &DbOptions::default()).await.expect("open sqlite");
                TestDb { db, url, _dir: Some(dir), pg_schema: None }
            }
            Backend::Postgres => {
                let base = pg_url()?;
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = Db::connect(&base, &DbOptions { max_connections: 2, ..Default::default() })
                    .await
                    .expect("connect postgres");
                on_db!(&admin, |c| sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(c).await.map(|_| ()))
                    .expect("create schema");
                admin.close().await;
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                let db = Db::connect(&url, &DbOptions { max_connections: 5, ..Default::default() })
                    .await
                    .expect("connect schema");
                TestDb { db, url, _dir: None, pg_schema: Some((base, schema)) }
            }
        };
        t.db.migrate().await.expect("migrate");
        Some(t)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg_schema.take() {
            // Drop the schema from a helper thread: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) = Db::connect(&base, &DbOptions { max_connections: 1, ..Default::default() }).await
                    {
                        let _ = on_db!(&admin, |c| sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                            .execute(c)
                            .await
                            .map(|_| ()));
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Define a test that runs on both backends: `db_test!(name, |db| async move { … });`
/// expands to `name::sqlite` and `name::postgres`. The closure gets a migrated `Db` with the
/// Hubei slice of the division table loaded.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($db: ::wushe_store::Db) {
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::TestDb::new($crate::Backend::Sqlite).await.expect("sqlite");
                $crate::load_test_divisions(&t.db).await;
                run(t.db.clone()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = $crate::TestDb::new($crate::Backend::Postgres).await else { return };
                $crate::load_test_divisions(&t.db).await;
                run(t.db.clone()).await;
                t.db.close().await;
            }
        }
    };
}

/// Codes kept in the test slice: every province, Hubei's cities and counties, everything in
/// 武昌区 (420106) and 洪山区 (420111), and 东莞 (4419, a city without counties).
pub fn test_division_filter(code: &str) -> bool {
    code.len() == 2
        || (code.starts_with("42") && code.len() <= 6)
        || code.starts_with("420106")
        || code.starts_with("420111")
        || (code.starts_with("4419") && code.len() <= 9)
        || code == "44"
}

/// Load the test slice into `db`, through the same `regions::load_table` a deployment's
/// first start uses.
pub async fn load_test_divisions(db: &Db) {
    regions::load_table(db, test_divisions_gz(), &|_| true, |_, _| {}).await.expect("load divisions");
}

/// The test slice as a table of its own (gzip TSV, `code<TAB>name`, in the shipped table's
/// order), cut from the shipped table once per test process: each load then reads 691 rows
/// instead of decompressing and parsing the 665,276 of the whole country twice. The counts
/// `load_table` stores are counts among the kept rows either way, so the loaded rows are the
/// same as from the shipped table with [`test_division_filter`].
fn test_divisions_gz() -> &'static [u8] {
    static SLICE: OnceLock<Vec<u8>> = OnceLock::new();
    SLICE.get_or_init(|| {
        use std::io::Write;
        let rows = regions::parse_table(regions::DIVISIONS_2023_GZ, &test_division_filter).expect("parse divisions");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for d in &rows {
            writeln!(gz, "{}\t{}", d.code, d.name).expect("write slice");
        }
        gz.finish().expect("gzip slice")
    })
}

/// One argon2 hash of [`PASSWORD`], shared by all fixtures (hashing is slow by design).
pub fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| password::hash(PASSWORD))
}

/// Create a user directly in the store (with its audit entry); returns the id.
pub async fn create_user(db: &Db, username: &str, role: Role, scope: &str, org: Option<i64>) -> i64 {
    let scope = Scope { division: scope.to_string(), organization_id: org };
    let mut tx = db.begin().await.expect("begin");
    let id = users::create(
        &mut tx,
        &users::NewUser {
            username,
            display_name: username,
            password_hash: password_hash(),
            role,
            scope: &scope,
            created_by: None,
        },
    )
    .await
    .expect("create user");
    audit::append(
        &mut tx,
        &Actor { username: Some("fixture".into()), ..Default::default() },
        &Event {
            action: "create",
            entity: "user",
            entity_id: Some(id.to_string()),
            division_code: &scope.division,
            organization_id: org,
            summary: serde_json::json!({"after": {"username": username}}),
        },
    )
    .await
    .expect("audit");
    tx.commit().await.expect("commit");
    id
}

/// A registered social-work agency (registered 2020-01-01), through the same code path as
/// the UI and API.
pub async fn create_org(db: &Db, name: &str, division12: &str) -> i64 {
    use wushe_domain::registry::org::initial_history;
    let v = wushe_web::service::registry::ValidOrg {
        name: name.to_string(),
        credit_code: None,
        types: vec![wushe_domain::registry::org::OrgType::SocialWorkAgency],
        code: wushe_domain::codes::division::DivisionCode::parse(division12).expect("division"),
        authority: "测试民政局".into(),
        phone: None,
        legal: None,
        contact: None,
        address: None,
        document_number: None,
        history: initial_history(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"), false),
    };
    let mut tx = db.begin().await.expect("begin");
    let id =
        wushe_web::service::registry::write_new_org(&mut tx, &Actor::default(), None, &v).await.expect("create org");
    tx.commit().await.expect("commit");
    id
}

/// A valid citizen ID: `first17` (17 digits) plus its check character.
pub fn citizen_id(first17: &str) -> String {
    let c = wushe_domain::codes::citizen_id::check_char(first17).expect("17 digits");
    format!("{first17}{c}")
}

/// The demo-like cast: admin, province, two county officials, a station worker, an org staff.
pub async fn seed_cast(db: &Db) -> Cast {
    let org = create_org(db, "武昌区测试社工中心", "420106000000").await;
    Cast {
        admin: create_user(db, "admin", Role::Admin, "", None).await,
        province: create_user(db, "province", Role::Official, "42", None).await,
        county: create_user(db, "county", Role::Official, "420106", None).await,
        county2: create_user(db, "county2", Role::Official, "420111", None).await,
        station: create_user(db, "station", Role::SocialWorker, "420106001", None).await,
        org_staff: create_user(db, "org", Role::OrgStaff, "420106", Some(org)).await,
        org,
    }
}

pub struct Cast {
    pub admin: i64,
    pub province: i64,
    pub county: i64,
    pub county2: i64,
    pub station: i64,
    pub org_staff: i64,
    pub org: i64,
}
