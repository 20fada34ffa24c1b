//! Bringing a deployment up: open the database, migrate, load the division table on first
//! start, make sure the key file exists.

use std::time::Instant;

use anyhow::Context;
use wushe_store::regions;
use wushe_store::registry::grams;
use wushe_store::Db;

use crate::config::Config;
use crate::progress;

pub async fn open(cfg: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&cfg.database_url, &cfg.db_options()?)
        .await
        .with_context(|| format!("无法打开数据库 {}", wushe_store::db::redact_url(&cfg.database_url)))?;
    db.migrate().await.context("数据库迁移失败")?;
    rebuild_search_index_if_flagged(&db).await?;
    if let Some(n) = wushe_web::service::stars::follow_rules_if_flagged(&db)
        .await
        .map_err(|e| anyhow::anyhow!("按星级设置核对已有服务时长失败：{e}"))?
    {
        println!("已按星级设置核对已有服务时长：{n} 名志愿者达到星级门槛，待审批");
    }
    Ok(db)
}

/// Rebuild the name-search index when a migration changed its rules (see `grams::rebuild`).
async fn rebuild_search_index_if_flagged(db: &Db) -> anyhow::Result<()> {
    if !grams::needs_rebuild(db).await? {
        return Ok(());
    }
    let t = Instant::now();
    let pb = progress::bar(0, "重建名称检索索引");
    let n = grams::rebuild(db, |done, total| {
        pb.set_length(total);
        pb.set_position(done);
    })
    .await
    .context("重建名称检索索引失败")?;
    pb.finish_and_clear();
    println!("已重建名称检索索引：{n} 个名称，用时 {:.1} 秒", t.elapsed().as_secs_f64());
    Ok(())
}

/// Load the shipped division table if this database has none. Returns whether it loaded.
pub async fn ensure_divisions(db: &Db) -> anyhow::Result<bool> {
    if regions::loaded_edition(db).await?.is_some() {
        return Ok(false);
    }
    let t = Instant::now();
    let pb = progress::bar(0, "首次启动：载入全国行政区划");
    let n = regions::load_table(db, regions::DIVISIONS_2023_GZ, &|_| true, |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    })
    .await?;
    pb.finish_and_clear();
    println!("已载入 {n} 个行政区划（{} 年版），用时 {:.1} 秒", regions::DIVISION_EDITION, t.elapsed().as_secs_f64());
    Ok(true)
}

/// Load the key file, creating it on first start.
pub fn ensure_keys(cfg: &Config) -> anyhow::Result<wushe_store::crypto::KeyRing> {
    wushe_store::crypto::KeyRing::load_or_create(&cfg.key_file()).map_err(|e| anyhow::anyhow!("{e}"))
}
