//! API tokens for machine clients. Only a SHA-256 of the token is stored; the token itself is
//! shown once, when it is created.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::FromRow;

use crate::{on_db, on_tx, Db, StoreError, Tx};

pub const TOKEN_PREFIX: &str = "wst_";

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token_prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Create a token; returns its row id and the secret, which is never stored.
pub async fn create(
    tx: &mut Tx,
    user_id: i64,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(i64, String), StoreError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let (id,): (i64,) = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO api_tokens (user_id, name, token_hash, token_prefix, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
    )
    .bind(user_id)
    .bind(name)
    .bind(hash_token(&secret))
    .bind(&prefix)
    .bind(crate::time::now())
    .bind(expires_at)
    .fetch_one(c)
    .await)?;
    Ok((id, secret))
}

pub async fn list_for_user(db: &Db, user_id: i64) -> Result<Vec<TokenRow>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, TokenRow>(
        "SELECT id, user_id, name, token_prefix, created_at, expires_at, last_used_at, revoked_at \
         FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"
    )
    .bind(user_id)
    .fetch_all(c)
    .await)?)
}

/// Revoke one of the user's own tokens; NotFound when it is not theirs or already revoked.
pub async fn revoke(tx: &mut Tx, user_id: i64, token_id: i64) -> Result<(), StoreError> {
    tx.memo.auth_changed = true;
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL"
    )
    .bind(crate::time::now())
    .bind(token_id)
    .bind(user_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
