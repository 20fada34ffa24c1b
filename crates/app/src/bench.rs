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

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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

    // 1. First start: migrate, parse the shipped table, load every division.
    let t0 = Instant::now();
    let db = Db::connect(&t.url, &DbOptions::default()).await?;
    db.migrate().await?;
    let rows = regions::parse_table(regions::DIVISIONS_2023_GZ, &|_| true)?;
    let pb = progress::bar(rows.len() as u64, "载入行政区划");
    regions::load(&db, &rows, |n| pb.set_position(n as u64)).await?;
    pb.finish_and_clear();
    let first_start = t0.elapsed();
    println!("首次启动载入 {} 个区划：{:.2} 秒（目标 < 15 秒）", rows.len(), first_start.as_secs_f64());

    // A province official with an API token drives the page requests.
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

    // 2. A later start of `wushe serve` on the loaded database, until /healthz answers.
    let port = free_port()?;
    let exe = std::env::current_exe()?;
    let t1 = Instant::now();
    let child = Command::new(exe)
        .arg("serve")
        .env("DATABASE_URL", &t.url)
        .env("WUSHE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WUSHE_DATA_DIR", t.dir.path())
        .env("WUSHE_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let child = KillOnDrop(child);
    let mut ready = None;
    while t1.elapsed() < Duration::from_secs(30) {
        if let Ok(200) = http_get(port, "/healthz", None) {
            ready = Some(t1.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ready = ready.context("服务在 30 秒内未就绪")?;
    println!("再次启动至可服务（/healthz 200）：{:.0} 毫秒（目标 < 1000 毫秒）", ready.as_secs_f64() * 1000.0);

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
    let rss = peak_rss_kb(child.0.id()).map(|kb| kb as f64 / 1024.0);
    match rss {
        Some(mb) => println!("serve 进程峰值内存（VmHWM）：{mb:.1} MB（目标 < 150 MB）"),
        None => println!("serve 进程峰值内存：本系统无法读取 /proc"),
    }
    drop(child);

    if let Some((base, schema)) = &t.pg_schema {
        let admin = Db::connect(base, &DbOptions::default()).await?;
        on_db!(&admin, |c| sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(c).await.map(|_| ()))?;
        admin.close().await;
    }
    Ok(())
}
