//! The tower-sessions store on our own database. Session ids are kept only as SHA-256 hashes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use crate::{on_db, on_tx, Db};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// The session key under which the web layer keeps the signed-in user (`{"user_id": …}`);
/// the store lifts the id into its own column so a user's sessions can be ended together.
pub const SESSION_AUTH_KEY: &str = "auth";

fn id_hash(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn to_chrono(t: time::OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl DbSessionStore {
    async fn upsert(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let user_id = record.data.get(SESSION_AUTH_KEY).and_then(|a| a.get("user_id")).and_then(|v| v.as_i64());
        let mut tx = self.db.begin().await.map_err(backend)?;
        on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id_hash) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expires_at = excluded.expires_at"
        )
        .bind(id_hash(&record.id))
        .bind(user_id)
        .bind(&data)
        .bind(to_chrono(record.expiry_date))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.upsert(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, DateTime<Utc>)> = on_db!(&self.db, |c| sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2"
        )
        .bind(id_hash(id))
        .bind(crate::time::now())
        .fetch_optional(c)
        .await)
        .map_err(backend)?;
        let Some((data, expires_at)) = row else { return Ok(None) };
        let data = serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires_at.timestamp()).map_err(backend)?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let mut tx = self.db.begin().await.map_err(backend)?;
        on_tx!(&mut tx, |c| sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash(id))
            .execute(c)
            .await
            .map(|r| r.rows_affected()))
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let mut tx = self.db.begin().await.map_err(backend)?;
        on_tx!(&mut tx, |c| sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(crate::time::now())
            .execute(c)
            .await
            .map(|r| r.rows_affected()))
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}

/// End every session of a user (after a password change or deactivation).
pub async fn delete_for_user(db: &Db, user_id: i64) -> Result<u64, crate::StoreError> {
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |c| sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}
