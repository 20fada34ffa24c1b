//! Deployment facts kept in the `meta` table (loaded table edition, demo seeding, …).

use crate::{on_db, on_tx, Db, StoreError, Tx};

pub async fn get(db: &Db, key: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> =
        on_db!(db, |c| sqlx::query_as("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(c).await)?;
    Ok(row.map(|r| r.0))
}

pub async fn set(tx: &mut Tx, key: &str, value: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )
    .bind(key)
    .bind(value)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, key: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM meta WHERE key = $1")
        .bind(key)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
