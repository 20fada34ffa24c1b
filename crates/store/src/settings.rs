//! Deployment settings edited by administrators: one JSON value per key, read with a typed
//! default when unset.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{on_db, on_tx, Db, StoreError, Tx};

/// The value of `key`, or `T::default()` when it was never set. Answered from what the
/// database's transactions keep ([`crate::shared`]) when it is fresh.
pub async fn get<T: DeserializeOwned + Default>(db: &Db, key: &str) -> Result<T, StoreError> {
    let shared = db.shared();
    if let Some(json) = shared.setting(key) {
        return parse(key, json.as_deref());
    }
    let epoch = shared.settings_epoch();
    let row: Option<(String,)> =
        on_db!(db, |c| sqlx::query_as("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(c).await)?;
    let json = row.map(|r| r.0);
    let value = parse(key, json.as_deref());
    shared.keep_setting(epoch, key, json);
    value
}

/// The same, read inside a transaction: what the transaction wrote, else what is kept
/// across transactions, else the database.
pub async fn get_tx<T: DeserializeOwned + Default>(tx: &mut Tx, key: &str) -> Result<T, StoreError> {
    if let Some(json) = tx.memo.settings.get(key) {
        return parse(key, json.as_deref());
    }
    // once this transaction wrote a setting, only the database knows what it holds now (a
    // savepoint rolled back forgets in memory what it wrote, not what came before it)
    let mine = tx.memo.settings_changed;
    if let Some(json) = tx.shared.setting(key).filter(|_| !mine) {
        let value = parse(key, json.as_deref());
        tx.memo.settings.insert(key.to_string(), json);
        return value;
    }
    let epoch = tx.shared.settings_epoch();
    let row: Option<(String,)> =
        on_tx!(tx, |c| sqlx::query_as("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(c).await)?;
    let json = row.map(|r| r.0);
    let value = parse(key, json.as_deref());
    if !mine {
        tx.shared.keep_setting(epoch, key, json.clone());
    }
    tx.memo.settings.insert(key.to_string(), json);
    value
}

fn parse<T: DeserializeOwned + Default>(key: &str, json: Option<&str>) -> Result<T, StoreError> {
    match json {
        Some(json) => {
            serde_json::from_str(json).map_err(|e| StoreError::Integrity(format!("设置「{key}」无法读取：{e}")))
        }
        None => Ok(T::default()),
    }
}

pub async fn set<T: Serialize>(tx: &mut Tx, key: &str, value: &T, by: Option<i64>) -> Result<(), StoreError> {
    let json = serde_json::to_string(value).map_err(|e| StoreError::Integrity(e.to_string()))?;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by"
    )
    .bind(key)
    .bind(&json)
    .bind(crate::time::now())
    .bind(by)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.memo.settings.insert(key.to_string(), Some(json));
    tx.memo.settings_changed = true;
    Ok(())
}
