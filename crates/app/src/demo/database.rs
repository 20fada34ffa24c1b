//! Which database `wushe demo` may use. The demo seeds SQLite or PostgreSQL alike, but only
//! a database with nothing of anybody else's in it: it is looked at before anything is
//! migrated or written, and `--reset` clears only a database whose every account the demo
//! itself created.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context;
use wushe_store::{meta, schema, Db, DbOptions};

use super::SEEDED_KEY;

/// How the demo's seeding writes its accounts into the audit log (username, role); every
/// account of a demo database has such a `create user` entry.
pub const SEEDER: (&str, &str) = ("demo", "system");

/// What the demo found in the database it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoDb {
    /// Nothing but (possibly) this program's empty tables and reference data.
    Fresh,
    /// A demo seeded completely before: reused as it is.
    Seeded,
    /// A demo whose seeding did not finish: only its own accounts, no completion mark.
    Interrupted,
    /// Somebody else's data; the demo neither seeds nor resets it. Says what was found.
    Foreign(String),
}

/// The SQLite file behind a `sqlite://` URL (`None` for PostgreSQL).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//");
    Some(PathBuf::from(path.split('?').next().unwrap_or(path)))
}

/// Look at the database behind `url` without changing it (a missing SQLite file is fresh and
/// stays missing).
pub async fn inspect(url: &str) -> anyhow::Result<DemoDb> {
    if let Some(path) = sqlite_path(url) {
        if !path.exists() {
            return Ok(DemoDb::Fresh);
        }
    }
    let db = Db::connect(url, &DbOptions { max_connections: 2, ..Default::default() })
        .await
        .with_context(|| format!("无法打开数据库 {}", wushe_store::db::redact_url(url)))?;
    let found = classify(&db).await;
    db.close().await;
    found
}

/// Tables of the current schema that this program did not create.
async fn foreign_tables(present: &BTreeSet<String>) -> anyhow::Result<Vec<String>> {
    let own = schema::own_tables().await?;
    Ok(present.difference(&own).cloned().collect())
}

/// The decision, on an open database (nothing is migrated or written).
pub async fn classify(db: &Db) -> anyhow::Result<DemoDb> {
    let present = schema::tables(db).await?;
    if present.is_empty() {
        return Ok(DemoDb::Fresh);
    }
    if !["meta", "users", "audit_log"].iter().all(|t| present.contains(*t)) {
        let some: Vec<&str> = present.iter().take(5).map(String::as_str).collect();
        return Ok(DemoDb::Foreign(format!("库中已有不属于本程序的表（{} 等）", some.join("、"))));
    }
    if meta::get(db, SEEDED_KEY).await?.is_some() {
        return Ok(DemoDb::Seeded);
    }
    let users = wushe_store::accounts::users::count_in_scope(db, &wushe_domain::accounts::Scope::national()).await?;
    if users > 0 {
        let others = wushe_store::accounts::users::count_not_created_by(db, SEEDER.0, SEEDER.1).await?;
        if others > 0 {
            return Ok(DemoDb::Foreign(format!("库中已有 {others} 个不是演示程序建立的账户")));
        }
        return Ok(DemoDb::Interrupted);
    }
    for (table, what) in [
        ("organizations", "社会组织"),
        ("people", "人员"),
        ("banned_organizations", "非法社会组织"),
        ("activities", "志愿活动"),
    ] {
        if present.contains(table) && schema::row_count(db, table).await? > 0 {
            return Ok(DemoDb::Foreign(format!("库中已有{what}记录")));
        }
    }
    let other = foreign_tables(&present).await?;
    if !other.is_empty() {
        return Ok(DemoDb::Foreign(format!("库中已有不属于本程序的表（{}）", other.join("、"))));
    }
    Ok(DemoDb::Fresh)
}

/// Before the demo opens its database: clear it when asked (`--reset`), then refuse one that
/// holds somebody else's data or an unfinished seeding.
pub async fn check(url: &str, reset: bool) -> anyhow::Result<()> {
    let shown = wushe_store::db::redact_url(url);
    if reset && self::reset(url).await? {
        println!("已清空演示数据库 {shown}，重新开始");
    }
    match inspect(url).await? {
        DemoDb::Fresh => {
            println!("在 {shown} 生成演示数据");
            Ok(())
        }
        DemoDb::Seeded => {
            println!("沿用 {shown} 中已有的演示数据（加 --reset 重新生成）");
            Ok(())
        }
        DemoDb::Interrupted => anyhow::bail!("演示数据上次没有生成完（可能被中断），请加 --reset 重新生成"),
        DemoDb::Foreign(why) => anyhow::bail!(
            "{shown}：{why}。演示只使用空的数据库或演示程序自己生成的数据库，不会写入别人的数据；\
             请换一个空库（PostgreSQL 可先 createdb 一个新库），或用 --data-dir 指定另一个目录"
        ),
    }
}

/// Clear a demo database so the demo can start over: the SQLite file, or on PostgreSQL this
/// program's tables in the current schema (nothing else in the database is touched). Only
/// for what [`inspect`] found to be the demo's own.
/// Returns whether there was anything to clear.
pub async fn reset(url: &str) -> anyhow::Result<bool> {
    match inspect(url).await? {
        DemoDb::Foreign(why) => anyhow::bail!(
            "{}：{why}。--reset 只清空演示程序自己生成的数据库，这个库不会被删除",
            wushe_store::db::redact_url(url)
        ),
        DemoDb::Fresh => return Ok(false),
        DemoDb::Seeded | DemoDb::Interrupted => {}
    }
    if let Some(path) = sqlite_path(url) {
        // The file goes as a whole: not with anybody else's table in it.
        let db = Db::connect(url, &DbOptions { max_connections: 1, ..Default::default() }).await?;
        let present = schema::tables(&db).await;
        db.close().await;
        let other = foreign_tables(&present?).await?;
        if !other.is_empty() {
            anyhow::bail!(
                "{}：库中还有不属于本程序的表（{}），--reset 不会删除这个文件",
                wushe_store::db::redact_url(url),
                other.join("、")
            );
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let p = PathBuf::from(p);
            if p.exists() {
                std::fs::remove_file(&p).with_context(|| format!("无法删除 {}", p.display()))?;
            }
        }
        return Ok(true);
    }
    let db = Db::connect(url, &DbOptions { max_connections: 2, ..Default::default() }).await?;
    let dropped = schema::drop_own_tables(&db).await;
    db.close().await;
    dropped?;
    Ok(true)
}
