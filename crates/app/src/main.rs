//! `wushe`: the Wushe (五社联动服务平台) server and its command-line tools.

mod admin;
mod bench;
mod config;
mod demo;
mod jobs;
mod progress;
mod startup;
mod synth;

use std::net::SocketAddr;
use std::path::PathBuf;
use wushe_store::crypto::KeyRing;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use wushe_store::Db;

use crate::config::Config;

/// mimalloc's per-thread heaps for blocks allocated on one thread and freed on another (the
/// HTTP threads and the writer); SQLite keeps the C allocator. See docs/decisions/0008.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "wushe", version, about = "五社联动服务平台 Wushe")]
struct Cli {
    /// TOML configuration file (settings can also come from WUSHE_* variables and DATABASE_URL).
    #[arg(long, global = true, env = "WUSHE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and API.
    Serve {
        /// Address to listen on (overrides config and WUSHE_LISTEN).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Create (or reuse) a demo deployment with demo accounts, and serve it: SQLite in
    /// --data-dir, or the database of --database-url / DATABASE_URL (PostgreSQL too), which
    /// must be empty or hold a demo seeded before.
    Demo {
        /// Folder of the SQLite database (unless --database-url) and of the key file.
        #[arg(long, default_value = "wushe-data")]
        data_dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// `postgres://…` or `sqlite://…` instead of the SQLite file in --data-dir.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// Clear the demo database and start over (only a database the demo itself seeded).
        #[arg(long)]
        reset: bool,
    },
    /// Apply database migrations and load reference data, then exit.
    Migrate,
    /// Online backup of the SQLite database to a file.
    Backup {
        /// Target file (must not exist).
        out: PathBuf,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Administrator accounts from the terminal: the first system administrator, and a new
    /// password for a locked-out one.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Benchmarks; figures go to docs/performance.md.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain and report the first tampered, inserted or deleted entry.
    Verify,
}

fn init_tracing(filter: &str) {
    let filter = EnvFilter::try_from_env("WUSHE_LOG").unwrap_or_else(|_| EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // A clear message for people; no backtrace for expected failures.
            eprintln!("错误：{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen } => {
            let mut cfg = Config::load(cli.config.as_deref())?;
            if let Some(l) = listen {
                cfg.listen = l;
            }
            init_tracing(&cfg.log);
            let (db, keys) = prepare(&cfg).await?;
            serve(&cfg, db, keys, None).await
        }
        Command::Demo { data_dir, listen, database_url, reset } => {
            let mut cfg = Config::load(cli.config.as_deref())?;
            cfg.data_dir = data_dir;
            cfg.listen = listen;
            cfg.database_url =
                database_url.filter(|u| !u.trim().is_empty()).unwrap_or_else(|| cfg.default_sqlite_url());
            init_tracing(&cfg.log);
            demo::database::check(&cfg.database_url, reset).await?;
            let (db, keys) = prepare(&cfg).await?;
            demo::seed(&db, &keys).await?;
            serve(&cfg, db, keys, Some(demo::print_accounts)).await
        }
        Command::Migrate => {
            let cfg = Config::load(cli.config.as_deref())?;
            init_tracing(&cfg.log);
            let (db, _) = prepare(&cfg).await?;
            db.close().await;
            println!("数据库已是最新结构");
            Ok(())
        }
        Command::Backup { out } => {
            let cfg = Config::load(cli.config.as_deref())?;
            init_tracing(&cfg.log);
            let db = startup::open(&cfg).await?;
            backup(&db, &out).await?;
            db.close().await;
            Ok(())
        }
        Command::Audit { command: AuditCommand::Verify } => {
            let cfg = Config::load(cli.config.as_deref())?;
            init_tracing(&cfg.log);
            let db = startup::open(&cfg).await?;
            let ok = verify_audit(&db).await?;
            db.close().await;
            if !ok {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Admin { command } => {
            let cfg = Config::load(cli.config.as_deref())?;
            init_tracing(&cfg.log);
            let db = startup::open(&cfg).await?;
            let done = admin::run(&db, command).await;
            db.close().await;
            done
        }
        Command::Bench { command } => {
            init_tracing("warn");
            bench::run(command).await
        }
    }
}

async fn prepare(cfg: &Config) -> anyhow::Result<(Db, KeyRing)> {
    let keys = startup::ensure_keys(cfg)?;
    let db = startup::open(cfg).await?;
    startup::ensure_divisions(&db).await?;
    Ok((db, keys))
}

async fn serve(cfg: &Config, db: Db, keys: KeyRing, banner: Option<fn(&str)>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(&cfg.listen).await.with_context(|| format!("无法监听 {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    match banner {
        Some(f) => f(&url),
        None => println!("五社联动服务平台已启动：{url}（{}）", db.backend().name()),
    }
    let app = wushe_web::app(wushe_web::AppState::new(db.clone(), keys, cfg.web()));
    jobs::start(&db);
    // Without TCP_NODELAY a keep-alive client waits out the delayed-ACK timer (~40 ms on
    // Linux) whenever a response leaves in two segments.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    db.close().await;
    println!("已停止");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn backup(db: &Db, out: &std::path::Path) -> anyhow::Result<()> {
    if out.exists() {
        anyhow::bail!("目标文件 {} 已存在，请换一个文件名", out.display());
    }
    db.backup_into(out).await?;
    let size = std::fs::metadata(out)?.len();
    println!("已备份到 {}（{:.1} MB）", out.display(), size as f64 / 1e6);
    Ok(())
}

async fn verify_audit(db: &Db) -> anyhow::Result<bool> {
    let pb = progress::bar(0, "校验审计日志哈希链");
    let report = wushe_store::accounts::audit::verify(db, |done, total| {
        pb.set_length(total.max(0) as u64);
        pb.set_position(done.max(0) as u64);
    })
    .await?;
    pb.finish_and_clear();
    match report.broken {
        None => {
            println!("审计日志完整：共 {} 条，哈希链校验通过", report.entries);
            Ok(true)
        }
        Some((id, why)) => {
            println!("审计日志被篡改：第 {id} 条起校验失败：{why}（此前 {} 条完好）", report.entries);
            Ok(false)
        }
    }
}
