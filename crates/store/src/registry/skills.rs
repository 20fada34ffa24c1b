//! The volunteer skill dictionary, kept by administrators. Keys are stored with volunteers
//! (`volunteers.skills`, comma-separated), so a key is never deleted or renamed: a skill is
//! retired by deactivating it, and only its label and order change.

use sqlx::FromRow;
use wushe_domain::registry::person::{SkillDictionary, SkillEntry};

use crate::{on_db, on_tx, Db, StoreError, Tx};

#[derive(FromRow)]
struct Row {
    key: String,
    label: String,
    sort_order: i64,
    active: bool,
}

impl From<Row> for SkillEntry {
    fn from(r: Row) -> SkillEntry {
        SkillEntry { key: r.key, label: r.label, sort_order: r.sort_order, active: r.active }
    }
}

const COLS: &str = "key, label, sort_order, active";

/// The whole dictionary (a few dozen rows), active and inactive.
pub async fn dictionary(db: &Db) -> Result<SkillDictionary, StoreError> {
    let rows: Vec<Row> = on_db!(db, |c| sqlx::query_as(&format!("SELECT {COLS} FROM skills")).fetch_all(c).await)?;
    Ok(SkillDictionary::new(rows.into_iter().map(Into::into).collect()))
}

/// The dictionary as seen inside a write transaction (for checks that must not race).
pub async fn dictionary_tx(tx: &mut Tx) -> Result<SkillDictionary, StoreError> {
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(&format!("SELECT {COLS} FROM skills")).fetch_all(c).await)?;
    Ok(SkillDictionary::new(rows.into_iter().map(Into::into).collect()))
}

fn conflict(e: StoreError, label: &str) -> StoreError {
    if e.is_unique_violation() {
        StoreError::Conflict(format!("技能「{label}」已存在"))
    } else {
        e
    }
}

/// Add a skill; the key and label must be new (checked by the caller, enforced here).
pub async fn insert(tx: &mut Tx, e: &SkillEntry) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("INSERT INTO skills (key, label, sort_order, active) VALUES ($1, $2, $3, $4)")
        .bind(&e.key)
        .bind(&e.label)
        .bind(e.sort_order)
        .bind(e.active)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|err| conflict(err.into(), &e.label))?;
    Ok(())
}

/// Set a skill's label, order and active flag (never its key).
pub async fn update(tx: &mut Tx, e: &SkillEntry) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query("UPDATE skills SET label = $1, sort_order = $2, active = $3 WHERE key = $4")
        .bind(&e.label)
        .bind(e.sort_order)
        .bind(e.active)
        .bind(&e.key)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|err| conflict(err.into(), &e.label))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// How many volunteers hold a skill (shown before deactivating it).
pub async fn holders(db: &Db, key: &str) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_db!(db, |c| sqlx::query_as(
        "SELECT COUNT(*) FROM volunteers WHERE (',' || skills || ',') LIKE $1 ESCAPE '\\'"
    )
    .bind(format!("%,{},%", crate::escape_like(key)))
    .fetch_one(c)
    .await)?;
    Ok(n)
}
