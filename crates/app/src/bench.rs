//! `wushe bench …`: measured performance figures (reported in docs/performance.md).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use wushe_domain::accounts::{Role, Scope};
use wushe_store::accounts::{password, tokens, users};
use wushe_store::{on_db, regions, Db, DbOptions};

use crate::progress;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Division table load, restart time, region page latency and server memory.
    Regions {
        /// sqlite (default) or postgres (uses WUSHE_BENCH_PG_URL).
        #[arg(long, default_value = "sqlite")]
        db: String,
        /// Requests for the latency figure.
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Regions { db, requests } => regions_bench(&db, requests).await,
    }
}

struct Target {
    url: String,
    dir: tempfile::TempDir,
    pg_schema: Option<(String, String)>,
}

async fn target(kind: &str) -> anyhow::Result<Target> {
    let dir = tempfile::tempdir()?;
    match kind {
        "sqlite" => {
            Ok(Target { url: format!("sqlite://{}", dir.path().join("bench.db").display()), dir, pg_schema: None })
        }
        "postgres" => {
            let base = std::env::var("WUSHE_BENCH_PG_URL").or_else(|_| std::env::var("WUSHE_TEST_PG_URL")).context(
                "PostgreSQL 基准测试需要设置 WUSHE_BENCH_PG_URL（例如 postgres://wushe:wushe@127.0.0.1/wushe）",
            )?;
            let schema = format!("bench_{}", std::process::id());
            let admin = Db::connect(&base, &DbOptions::default()).await?;
            on_db!(&admin, |c| sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(c).await.map(|_| ()))?;
            admin.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
            Ok(Target { url, dir, pg_schema: Some((base, schema)) })
        }
        other => anyhow::bail!("未知数据库类型「{other}」：应为 sqlite 或 postgres"),
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One HTTP/1.1 GET over a fresh loopback connection; returns the status code.
fn http_get(port: u16, path: &str, token: Option<&str>) -> anyhow::Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let head = String::from_utf8_lossy(&buf[..buf.len().min(64)]).to_string();
    head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).with_context(|| format!("无效的 HTTP 响应：{head}"))
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// A `wushe serve` child process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    ready: Duration,
}

impl Server {
    fn peak_mb(&self) -> Option<f64> {
        peak_rss_kb(self.child.id()).map(|kb| kb as f64 / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `wushe serve` on the target database and wait until /healthz answers 200.
async fn start_serve(t: &Target, limit: Duration, what: &str) -> anyhow::Result<Server> {
    let port = free_port()?;
    let started = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .env("DATABASE_URL", &t.url)
        .env("WUSHE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WUSHE_DATA_DIR", t.dir.path())
        .env("WUSHE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut server = Server { child, port, ready: Duration::ZERO };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("{what}：等待 /healthz"));
    while started.elapsed() < limit {
        if let Ok(200) = http_get(port, "/healthz", None) {
            server.ready = started.elapsed();
            spinner.finish_and_clear();
            return Ok(server);
        }
        if let Some(status) = server.child.try_wait()? {
            anyhow::bail!("serve 进程提前退出：{status}");
        }
        spinner.tick();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    anyhow::bail!("服务在 {} 秒内未就绪", limit.as_secs())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

async fn regions_bench(kind: &str, requests: usize) -> anyhow::Result<()> {
    let t = target(kind).await?;
    println!("wushe bench regions —— 数据库：{kind}");

    // 1. First start of `wushe serve` on an empty database: migrate, load every division,
    //    serve. Timed until /healthz answers; the process's peak memory includes the load.
    let first = start_serve(&t, Duration::from_secs(120), "首次启动（建库并载入全国行政区划）").await?;
    println!("首次启动至可服务（含载入 665,276 个区划）：{:.2} 秒（目标 < 15 秒）", first.ready.as_secs_f64());
    if let Some(mb) = first.peak_mb() {
        println!("首次启动 serve 进程峰值内存（VmHWM）：{mb:.1} MB（目标 < 150 MB）");
    }
    drop(first);

    // A province official with an API token drives the page requests.
    let db = Db::connect(&t.url, &DbOptions::default()).await?;
    let n = regions::children(&db, None).await?.len();
    anyhow::ensure!(n == 31, "载入后应有 31 个省级区划，实际 {n}");
    let hash = password::hash("Bench@2026x");
    let mut tx = db.begin().await?;
    let uid = users::create(
        &mut tx,
        &users::NewUser {
            username: "bench-province",
            display_name: "基准测试",
            password_hash: &hash,
            role: Role::Official,
            scope: &Scope::region("42"),
            created_by: None,
        },
    )
    .await?;
    let (_, token) = tokens::create(&mut tx, uid, "bench", None).await?;
    tx.commit().await?;
    db.close().await;

    // 2. A later start on the loaded database.
    let server = start_serve(&t, Duration::from_secs(30), "再次启动").await?;
    println!("再次启动至可服务（/healthz 200）：{:.0} 毫秒（目标 < 1000 毫秒）", server.ready.as_secs_f64() * 1000.0);
    let port = server.port;

    // 3. The province region page (HTML, with child counts at every level).
    let pb = progress::bar(requests as u64, "请求湖北省区划页面");
    let mut ms = Vec::with_capacity(requests);
    for i in 0..requests + 20 {
        let s = Instant::now();
        let status = http_get(port, "/regions/42", Some(&token))?;
        anyhow::ensure!(status == 200, "区划页面返回 {status}");
        if i >= 20 {
            ms.push(s.elapsed().as_secs_f64() * 1000.0);
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    let api_status = http_get(port, "/api/v1/regions/42", Some(&token))?;
    anyhow::ensure!(api_status == 200, "区划 API 返回 {api_status}");
    ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "省级区划页面（GET /regions/42，含各级下级区划计数，回环 HTTP 往返）：p50 {:.2} 毫秒，p95 {:.2} 毫秒，p99 {:.2} 毫秒（目标 < 20 毫秒）",
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99)
    );

    // 4. Peak memory of the serving process.
    match server.peak_mb() {
        Some(mb) => {
            println!("再次启动后 serve 进程峰值内存（VmHWM，含 {requests} 次页面请求）：{mb:.1} MB（目标 < 150 MB）")
        }
        None => println!("serve 进程峰值内存：本系统无法读取 /proc"),
    }
    drop(server);

    if let Some((base, schema)) = &t.pg_schema {
        let admin = Db::connect(base, &DbOptions::default()).await?;
        on_db!(&admin, |c| sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(c).await.map(|_| ()))?;
        admin.close().await;
    }
    Ok(())
}
