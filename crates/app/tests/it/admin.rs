//! `wushe admin create|reset-password` and `wushe demo`'s choice of database, through the
//! real binary, on a fresh SQLite file and (when `WUSHE_TEST_PG_URL` is set) a fresh
//! PostgreSQL schema of its own. Under CI a missing PostgreSQL URL fails instead of skipping.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use wushe_domain::accounts::Scope;
use wushe_store::accounts::audit::{self, AuditFilter};
use wushe_store::accounts::{password, users};
use wushe_store::{Db, DbOptions, Page};

/// A database for one test: a SQLite file in a temporary folder, or a new, empty schema of
/// the PostgreSQL test database (dropped afterwards). Nothing is migrated: the commands
/// must work on a fresh database.
struct Target {
    url: String,
    dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Target {
    fn sqlite() -> Target {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("wushe.db").display());
        Target { url, dir, pg: None }
    }

    /// `None` (having said so) when PostgreSQL is not configured outside CI.
    async fn postgres() -> Option<Target> {
        let base = wushe_testkit::pg_url()?;
        let schema = format!("t_{}", uuid_like());
        let pool = sqlx::PgPool::connect(&base).await.expect("connect postgres");
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&pool).await.expect("create schema");
        pool.close().await;
        // The same way testkit points a connection at a schema of its own.
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(Target { url, dir: tempfile::tempdir().expect("temp dir"), pg: Some((base, schema)) })
    }

    /// `wushe …` against this database (from `DATABASE_URL`, as a deployment's would be).
    fn wushe(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wushe"));
        c.args(args)
            .env("DATABASE_URL", &self.url)
            .env("WUSHE_DATA_DIR", self.dir.path().join("data"))
            .env("WUSHE_LOG", "warn")
            .env_remove("WUSHE_CONFIG")
            .env_remove("WUSHE_DATABASE_URL")
            .current_dir(self.dir.path());
        c
    }

    /// Run `wushe …` with `stdin` piped in (not a terminal).
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        run_with_stdin(self.wushe(args), stdin)
    }

    async fn db(&self) -> Db {
        Db::connect(&self.url, &DbOptions { max_connections: 2, ..Default::default() }).await.expect("open database")
    }

    /// Tables of the test's schema (or SQLite file).
    async fn tables(&self) -> Vec<String> {
        match &self.pg {
            None => {
                let path = self.dir.path().join("wushe.db");
                if !path.exists() {
                    return Vec::new();
                }
                let db = self.db().await;
                let Db::Sqlite { reader, .. } = &db else { unreachable!() };
                let rows: Vec<(String,)> = sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(reader)
                    .await
                    .unwrap();
                db.close().await;
                rows.into_iter().map(|r| r.0).collect()
            }
            Some((base, schema)) => {
                let pool = sqlx::PgPool::connect(base).await.expect("connect postgres");
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT tablename::TEXT FROM pg_tables WHERE schemaname = $1")
                        .bind(schema)
                        .fetch_all(&pool)
                        .await
                        .unwrap();
                pool.close().await;
                rows.into_iter().map(|r| r.0).collect()
            }
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg.take() {
            // Drop cannot await: drop the schema from a helper thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&base).await {
                        let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&pool).await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

fn uuid_like() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

fn run_with_stdin(mut c: Command, stdin: &str) -> Output {
    let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run wushe");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait for wushe")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[track_caller]
fn ok(o: &Output) -> String {
    assert!(o.status.success(), "wushe failed: {}", text(o));
    text(o)
}

/// Fails, and says so in Chinese with `why` in the message.
#[track_caller]
fn refused(o: &Output, why: &str) -> String {
    let t = text(o);
    assert!(!o.status.success(), "wushe should have failed: {t}");
    assert!(t.contains("错误：") && t.contains(why), "expected「{why}」in: {t}");
    t
}

/// Define a test on both databases: `both!(name, body)` gives `name::sqlite` and
/// `name::postgres`, each calling `body(&Target)`.
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(&super::Target::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = super::Target::postgres().await else { return };
                super::$body(&t).await;
            }
        }
    };
}

both!(admin_create_and_reset_password, admin_create_and_reset_password_body);
both!(demo_refuses_other_data, demo_refuses_other_data_body);
both!(demo_reset_clears_only_its_own, demo_reset_clears_only_its_own_body);
both!(demo_seeds_reuses_and_resets, demo_seeds_reuses_and_resets_body);

async fn admin_create_and_reset_password_body(t: &Target) {
    // No password on the command line, ever.
    let o = t.run(&["admin", "create", "--username", "admin", "--password", "Secret123"], "");
    assert!(!o.status.success(), "a --password argument must not exist: {}", text(&o));
    // The UI's password rule, on a fresh database (migrated by the command itself).
    refused(&t.run(&["admin", "create", "--username", "admin"], "short1\n"), "密码至少 8 位");
    refused(&t.run(&["admin", "create", "--username", "admin"], "onlyletters\n"), "密码须同时包含字母和数字");
    refused(&t.run(&["admin", "create", "--username", "admin"], ""), "没有读到密码");
    refused(&t.run(&["admin", "create", "--username", "张三"], "Secret123\n"), "用户名无效");
    refused(&t.run(&["admin", "create", "--username", "root", "--display-name", " "], "Secret123\n"), "姓名不能为空");
    refused(
        &t.run(&["admin", "create", "--username", "root", "--display-name", "管理员\u{1b}[2J"], "Secret123\n"),
        "控制字符",
    );
    let db = t.db().await;
    assert!(users::find_for_login(&db, "admin").await.unwrap().is_none(), "nothing created by refused commands");
    db.close().await;

    let out = ok(&t.run(&["admin", "create", "--username", "Admin", "--display-name", "平台管理员"], "Secret123\n"));
    assert!(out.contains("已创建系统管理员「admin」"), "{out}");
    // A second administrator only when asked for.
    refused(&t.run(&["admin", "create", "--username", "admin2"], "Secret123\n"), "--another");
    refused(&t.run(&["admin", "create", "--username", "admin", "--another"], "Secret123\n"), "已存在");
    ok(&t.run(&["admin", "create", "--username", "admin2", "--another"], "Other456\r\n"));

    let db = t.db().await;
    let admin = users::find_for_login(&db, "admin").await.unwrap().expect("admin created");
    assert_eq!(admin.role, "admin");
    assert_eq!(admin.display_name, "平台管理员");
    assert_eq!(admin.scope_division, "");
    assert_eq!(admin.organization_id, None);
    assert!(admin.active);
    assert!(password::verify("Secret123", &admin.password_hash));
    let admin2 = users::find_for_login(&db, "admin2").await.unwrap().expect("second admin");
    assert_eq!(admin2.display_name, "系统管理员");
    assert!(password::verify("Other456", &admin2.password_hash), "one line from stdin, CR LF stripped");

    // Locked out after failed logins: reset-password lets the administrator in again.
    let until = wushe_store::time::now() + chrono::Duration::minutes(15);
    users::record_login_failure(&db, admin.id, 0, Some(until)).await.unwrap();
    db.close().await;
    refused(&t.run(&["admin", "reset-password", "nobody"], "Newpass789\n"), "用户「nobody」不存在");
    refused(&t.run(&["admin", "reset-password", "admin"], "weak\n"), "密码至少 8 位");
    refused(&t.run(&["admin", "reset-password", "admin"], "Secret123\n"), "新密码不能与原密码相同");
    let out = ok(&t.run(&["admin", "reset-password", "ADMIN"], "Newpass789\n"));
    assert!(out.contains("已重设「admin」"), "{out}");

    let db = t.db().await;
    let admin = users::find_for_login(&db, "admin").await.unwrap().expect("admin");
    assert!(password::verify("Newpass789", &admin.password_hash), "the new password logs in");
    assert!(!password::verify("Secret123", &admin.password_hash), "the old one no longer does");
    assert_eq!(admin.failed_logins, 0);
    assert_eq!(admin.locked_until, None, "the lock is lifted");

    // Audited in the hash-chained log, by the command line rather than a user.
    let f = AuditFilter { entity: Some("user".into()), ..Default::default() };
    let log = audit::list(&db, &Scope::national(), &f, &Page::new(None, Some(50))).await.unwrap().items;
    let seen: Vec<(&str, Option<&str>)> =
        log.iter().rev().map(|e| (e.action.as_str(), e.entity_id.as_deref())).collect();
    let (id1, id2) = (admin.id.to_string(), admin2.id.to_string());
    assert_eq!(
        seen,
        vec![("create", Some(id1.as_str())), ("create", Some(id2.as_str())), ("reset_password", Some(id1.as_str()))]
    );
    for e in &log {
        assert_eq!((e.user_id, e.username.as_deref(), e.role.as_deref()), (None, Some("cli"), Some("system")));
        assert_eq!(e.division_code, "");
    }
    assert!(log[2].summary.contains("\"role\":\"admin\""), "{}", log[2].summary);
    assert!(log[0].summary.contains("\"locked_until\""), "{}", log[0].summary);
    db.close().await;
    let out = ok(&t.run(&["audit", "verify"], ""));
    assert!(out.contains("共 3 条，哈希链校验通过"), "{out}");
}

/// `wushe demo` on the test's database: on SQLite the file in `--data-dir` (the README's
/// way), on PostgreSQL `--database-url`, the key file in the test's folder.
fn demo(t: &Target, extra: &[&str]) -> Command {
    let dir = t.dir.path().to_str().unwrap();
    let mut args = vec!["demo", "--listen", "127.0.0.1:0"];
    match t.pg {
        None => args.extend(["--data-dir", dir]),
        Some(_) => args.extend(["--data-dir", dir, "--database-url", &t.url]),
    }
    args.extend_from_slice(extra);
    let mut c = t.wushe(&args);
    if t.pg.is_none() {
        c.env_remove("DATABASE_URL");
    }
    c
}

async fn demo_refuses_other_data_body(t: &Target) {
    // A deployment with its first administrator is not the demo's to seed, nor to reset.
    ok(&t.run(&["admin", "create", "--username", "admin"], "Secret123\n"));
    let why = "不是演示程序建立的账户";
    let t0 = Instant::now();
    refused(&run_with_stdin(demo(t, &[]), ""), why);
    refused(&run_with_stdin(demo(t, &["--reset"]), ""), why);
    // DATABASE_URL alone selects the database too.
    let mut c = t.wushe(&["demo", "--listen", "127.0.0.1:0"]);
    c.arg("--data-dir").arg(t.dir.path().join("demo-data"));
    refused(&run_with_stdin(c, ""), why);
    assert!(t0.elapsed() < Duration::from_secs(60), "refused before loading anything");
    let db = t.db().await;
    let admin = users::find_for_login(&db, "admin").await.unwrap().expect("the administrator is still there");
    assert!(password::verify("Secret123", &admin.password_hash));
    assert!(users::find_for_login(&db, "province").await.unwrap().is_none(), "no demo account was written");
    assert_eq!(wushe_store::meta::get(&db, "demo_seeded").await.unwrap(), None);
    db.close().await;
}

async fn demo_reset_clears_only_its_own_body(t: &Target) {
    // Another program's table in the database: refused before anything is migrated.
    let db = t.db().await;
    match &db {
        Db::Sqlite { writer, .. } => {
            sqlx::query("CREATE TABLE invoices (id INTEGER PRIMARY KEY)").execute(writer).await.unwrap();
        }
        Db::Postgres { pool, .. } => {
            sqlx::query("CREATE TABLE invoices (id INTEGER PRIMARY KEY)").execute(pool).await.unwrap();
        }
    }
    db.close().await;
    refused(&run_with_stdin(demo(t, &[]), ""), "不属于本程序的表（invoices");
    refused(&run_with_stdin(demo(t, &["--reset"]), ""), "--reset 只清空演示程序自己生成的数据库");
    assert_eq!(t.tables().await, vec!["invoices".to_string()], "nothing migrated, nothing dropped");

    // An unfinished demo (its accounts, written as the demo writes them, no completion mark):
    // refused without --reset, cleared with it — this program's tables only.
    let db = t.db().await;
    db.migrate().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let id = users::create(
        &mut tx,
        &users::NewUser {
            username: "admin",
            display_name: "系统管理员",
            password_hash: "x",
            role: wushe_domain::accounts::Role::Admin,
            scope: &Scope::national(),
            created_by: None,
        },
    )
    .await
    .unwrap();
    let actor = audit::Actor { username: Some("demo".into()), role: Some("system".into()), ..Default::default() };
    let ev = audit::Event {
        action: "create",
        entity: "user",
        entity_id: Some(id.to_string()),
        division_code: "",
        organization_id: None,
        summary: serde_json::json!({}),
    };
    audit::append(&mut tx, &actor, &ev).await.unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    refused(&run_with_stdin(demo(t, &[]), ""), "演示数据上次没有生成完");
    if t.pg.is_none() {
        // --reset deletes a SQLite file as a whole: not with another program's table in it.
        refused(&run_with_stdin(demo(t, &["--reset"]), ""), "不属于本程序的表（invoices）");
        let db = t.db().await;
        let Db::Sqlite { writer, .. } = &db else { unreachable!() };
        sqlx::query("DROP TABLE invoices").execute(writer).await.unwrap();
        db.close().await;
    }
    // With --reset the database is cleared; the key file's folder being a file then stops
    // the run before it seeds (a whole seeding is the next test's).
    let blocker = t.dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let mut c = t.wushe(&["demo", "--database-url", &t.url, "--listen", "127.0.0.1:0", "--reset", "--data-dir"]);
    c.arg(&blocker);
    let out = run_with_stdin(c, "");
    assert!(text(&out).contains("已清空演示数据库"), "{}", text(&out));
    match t.pg {
        Some(_) => assert_eq!(t.tables().await, vec!["invoices".to_string()], "only this program's tables dropped"),
        None => assert!(!t.dir.path().join("wushe.db").exists(), "the demo's SQLite file is deleted"),
    }
}

/// The whole demo seeding: serve it, log in, stop; run again and it is reused; reset clears it.
async fn demo_seeds_reuses_and_resets_body(t: &Target) {
    let t0 = Instant::now();
    let log = t.dir.path().join("demo-stderr.txt");
    let (server, url, out) = start(demo(t, &[]), &log, Duration::from_secs(900));
    assert!(out.contains("生成演示数据") && out.contains("已生成演示数据"), "{out}");
    let token = post_token(&url, &log, "admin", "Wushe@2026");
    assert!(token.contains("\"token\""), "{token}");
    drop(server);
    eprintln!("demo seeded in {:.0} s", t0.elapsed().as_secs_f64());

    let (server, url, out) = start(demo(t, &[]), &log, Duration::from_secs(120));
    assert!(out.contains("沿用") && !out.contains("已生成演示数据"), "{out}");
    assert!(post_token(&url, &log, "county", "Wushe@2026").contains("\"token\""));
    drop(server);

    // The admin commands work on the demo's database like on any other.
    refused(&t.run(&["admin", "create", "--username", "admin9"], "Secret123\n"), "--another");
    // --reset clears it (stopped before seeding again, as in the test above).
    let blocker = t.dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let mut c = t.wushe(&["demo", "--database-url", &t.url, "--listen", "127.0.0.1:0", "--reset", "--data-dir"]);
    c.arg(&blocker);
    let o = run_with_stdin(c, "");
    assert!(text(&o).contains("已清空演示数据库"), "{}", text(&o));
    assert_eq!(t.tables().await, Vec::<String>::new(), "the demo's tables are gone");
}

/// A running server, stopped when dropped (also when a test fails half-way).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let child = &mut self.0;
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Start a server and wait for its banner; returns it, its address and what it said.
fn start(mut c: Command, stderr: &std::path::Path, patience: Duration) -> (Server, String, String) {
    let err = std::fs::File::create(stderr).expect("stderr file");
    let mut child = c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(err).spawn().expect("start wushe");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading after the banner: a closed pipe would fail the server's next print.
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + patience;
    let mut said = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                said.push_str(&line);
                said.push('\n');
                if let Some(at) = line.find("已启动：http://") {
                    let addr = line[at + "已启动：http://".len()..].trim().to_string();
                    return (Server(child), addr, said);
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let err = std::fs::read_to_string(stderr).unwrap_or_default();
                panic!("wushe demo did not start: {said}{err}");
            }
        }
    }
}

/// `POST /api/v1/auth/token` over a plain TCP connection; returns the response.
fn post_token(addr: &str, log: &std::path::Path, username: &str, password: &str) -> String {
    let body = format!(r#"{{"username":"{username}","password":"{password}"}}"#);
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "POST /api/v1/auth/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut resp = String::new();
    if let Err(e) = s.read_to_string(&mut resp) {
        panic!("{e}: {resp}\nserver: {}", std::fs::read_to_string(log).unwrap_or_default());
    }
    assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
    resp
}
