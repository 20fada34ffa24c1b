//! Configuration: defaults, then an optional TOML file, then `WUSHE_*` environment variables,
//! then `DATABASE_URL`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://path/to/wushe.db` (default) or `postgres://user:password@host/db`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// Folder for the SQLite file, the key file and backups.
    pub data_dir: PathBuf,
    /// Set when serving behind HTTPS.
    pub secure_cookies: bool,
    pub session_idle_minutes: i64,
    pub db_max_connections: u32,
    /// Largest request body in bytes.
    pub body_limit: usize,
    /// `synchronous=FULL` on SQLite (durable against power loss).
    pub sqlite_synchronous_full: bool,
    /// The CPU for SQLite's writer: `auto` (the one taking the disk's interrupts), `off`,
    /// or a CPU number (see `wushe_store::writer_cpu`).
    pub writer_cpu: String,
    /// Login and token attempts per client IP per minute.
    pub login_per_minute: u32,
    /// Public lookups per client IP per minute.
    pub public_per_minute: u32,
    /// The site's public address, printed in certificates' QR codes (empty: the address
    /// each request came to).
    pub public_url: String,
    /// tracing filter, e.g. `info` or `wushe=debug,tower_http=info`.
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: String::new(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("wushe-data"),
            secure_cookies: false,
            session_idle_minutes: 30,
            db_max_connections: 8,
            body_limit: 2 * 1024 * 1024,
            sqlite_synchronous_full: true,
            writer_cpu: "auto".into(),
            login_per_minute: 30,
            public_per_minute: 120,
            public_url: String::new(),
            log: "info,sqlx=warn,tower_http=warn".into(),
        }
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                anyhow::bail!("配置文件 {} 不存在", f.display());
            }
            fig = fig.merge(Toml::file(f));
        }
        let mut cfg: Config = fig
            .merge(Env::prefixed("WUSHE_"))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .context("配置无效")?;
        if cfg.database_url.is_empty() {
            cfg.database_url = cfg.default_sqlite_url();
        }
        Ok(cfg)
    }

    pub fn default_sqlite_url(&self) -> String {
        format!("sqlite://{}", self.data_dir.join("wushe.db").display())
    }

    pub fn key_file(&self) -> PathBuf {
        self.data_dir.join("wushe-keys.json")
    }

    pub fn web(&self) -> wushe_web::WebConfig {
        wushe_web::WebConfig {
            secure_cookies: self.secure_cookies,
            session_idle_minutes: self.session_idle_minutes,
            body_limit: self.body_limit,
            login_per_minute: self.login_per_minute,
            public_per_minute: self.public_per_minute,
            public_url: self.public_url.clone(),
        }
    }

    pub fn db_options(&self) -> anyhow::Result<wushe_store::DbOptions> {
        Ok(wushe_store::DbOptions {
            max_connections: self.db_max_connections,
            sqlite_synchronous_full: self.sqlite_synchronous_full,
            writer_cpu: self.writer_cpu.parse().map_err(|e: String| anyhow::anyhow!("配置无效：{e}"))?,
        })
    }
}
