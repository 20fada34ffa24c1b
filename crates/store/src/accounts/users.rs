//! User accounts. Every list and load takes the caller's scope.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use wushe_domain::accounts::{Role, Scope};

use crate::query::{self, Filter, Param};
use crate::{on_db, on_tx, Db, StoreError, Tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: String,
    pub scope_division: String,
    pub organization_id: Option<i64>,
    pub active: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub password_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The registry person behind the account (a volunteer's own login).
    pub person_id: Option<i64>,
}

impl UserRow {
    pub fn role(&self) -> Role {
        // Roles are written only through `Role::as_str`; an unknown one gets the least power.
        Role::parse(&self.role).unwrap_or(Role::Resident)
    }

    pub fn scope(&self) -> Scope {
        Scope { division: self.scope_division.clone(), organization_id: self.organization_id }
    }
}

const COLS: &str = "id, username, display_name, password_hash, role, scope_division, organization_id, active, \
                    failed_logins, locked_until, password_changed_at, created_at, person_id";

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub scope: &'a Scope,
    pub created_by: Option<i64>,
}

pub async fn create(tx: &mut Tx, u: &NewUser<'_>) -> Result<i64, StoreError> {
    let now = crate::time::now();
    let sql = "INSERT INTO users (username, display_name, password_hash, role, scope_division, organization_id, \
               active, failed_logins, password_changed_at, created_at, created_by) \
               VALUES ($1, $2, $3, $4, $5, $6, TRUE, 0, $7, $7, $8) RETURNING id";
    let res: Result<(i64,), sqlx::Error> = on_tx!(tx, |c| sqlx::query_as(sql)
        .bind(u.username)
        .bind(u.display_name)
        .bind(u.password_hash)
        .bind(u.role.as_str())
        .bind(&u.scope.division)
        .bind(u.scope.organization_id)
        .bind(now)
        .bind(u.created_by)
        .fetch_one(c)
        .await);
    match res {
        Ok((id,)) => Ok(id),
        Err(e) => {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                Err(StoreError::Conflict(format!("用户名「{}」已存在", u.username)))
            } else {
                Err(e)
            }
        }
    }
}

/// Load by username for login: unscoped by necessity, and used only by authentication.
pub async fn find_for_login(db: &Db, username: &str) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLS} FROM users WHERE username = $1");
    Ok(on_db!(db, |c| sqlx::query_as::<_, UserRow>(&sql).bind(username).fetch_optional(c).await)?)
}

/// Load the user behind an authenticated session or token.
pub async fn find_by_id_unscoped(db: &Db, id: i64) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLS} FROM users WHERE id = $1");
    Ok(on_db!(db, |c| sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(c).await)?)
}

/// Who presents a credential: an API token's secret, or a signed-in session's user id.
pub enum Credential<'a> {
    Token(&'a str),
    Session(i64),
}

/// The user behind a credential, with the name of their scope's region and, for a token,
/// when it expires, in one query: every authenticated request asks this (or a cache of its
/// answers, kept valid by [`auth_epoch`]).
pub async fn authenticate(db: &Db, by: Credential<'_>) -> Result<Option<Authenticated>, StoreError> {
    let cols: Vec<String> = COLS.split(',').map(|c| format!("u.{}", c.trim())).collect();
    let select = format!("SELECT {}, d.name AS scope_name", cols.join(", "));
    let from = "FROM users u LEFT JOIN divisions d ON d.code = u.scope_division";
    Ok(match by {
        Credential::Token(secret) => {
            let sql = format!(
                "{select}, t.expires_at AS token_expires_at {from} JOIN api_tokens t ON t.user_id = u.id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)"
            );
            on_db!(db, |c| sqlx::query_as::<_, Authenticated>(&sql)
                .bind(crate::accounts::tokens::hash_token(secret))
                .bind(crate::time::now())
                .fetch_optional(c)
                .await)?
        }
        Credential::Session(id) => {
            let sql = format!("{select}, CAST(NULL AS TIMESTAMPTZ) AS token_expires_at {from} WHERE u.id = $1");
            on_db!(db, |c| sqlx::query_as::<_, Authenticated>(&sql).bind(id).fetch_optional(c).await)?
        }
    })
}

/// What [`authenticate`] found.
#[derive(FromRow)]
pub struct Authenticated {
    #[sqlx(flatten)]
    pub user: UserRow,
    /// The scope's region (None for the national scope).
    pub scope_name: Option<String>,
    /// When the token presented expires (None for a session or a token without end).
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// Changes after every commit that may change what [`authenticate`] answers (an account
/// deactivated or linked to a person, a token revoked). A cache of its answers keeps the
/// epoch each was read at and asks again once it moved. One for the process (a deployment
/// is one process): a change in one database only costs the caches of the others a lookup.
static AUTH_EPOCH: AtomicU64 = AtomicU64::new(0);

/// The current epoch: read it before asking [`authenticate`] and keep it with the answer.
pub fn auth_epoch() -> u64 {
    AUTH_EPOCH.load(Ordering::SeqCst)
}

/// Mark every cached answer of [`authenticate`] stale.
pub fn auth_changed() {
    AUTH_EPOCH.fetch_add(1, Ordering::SeqCst);
}

/// Load a user the caller may see: the user's scope must lie inside the caller's.
pub async fn get(db: &Db, scope: &Scope, id: i64) -> Result<UserRow, StoreError> {
    let row = find_by_id_unscoped(db, id).await?.ok_or(StoreError::NotFound)?;
    if scope.contains(&row.scope()) {
        Ok(row)
    } else {
        Err(StoreError::NotFound)
    }
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<Role>,
}

pub async fn list(
    db: &Db,
    scope: &Scope,
    f: &UserFilter,
    page: &crate::Page,
) -> Result<crate::Paged<UserRow>, StoreError> {
    let mut w = Filter::new();
    w.and("scope_division LIKE {}", vec![Param::Text(format!("{}%", crate::escape_like(&scope.division)))]);
    if let Some(org) = scope.organization_id {
        w.and("organization_id = {}", vec![Param::Int(org)]);
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let like = format!("%{}%", crate::escape_like(q));
        w.and(
            "(username LIKE {} ESCAPE '\\' OR display_name LIKE {} ESCAPE '\\')",
            vec![Param::Text(like.clone()), Param::Text(like)],
        );
    }
    if let Some(role) = f.role {
        w.and("role = {}", vec![Param::Text(role.as_str().to_string())]);
    }
    let total = query::fetch_count(db, &format!("SELECT COUNT(*) FROM users{}", w.where_sql()), &w.params).await?;
    let n = w.next_placeholder();
    let sql = format!("SELECT {COLS} FROM users{} ORDER BY id LIMIT ${n} OFFSET ${}", w.where_sql(), n + 1);
    let mut params = w.params.clone();
    params.extend([Param::Int(page.limit()), Param::Int(page.offset())]);
    let items = query::fetch_all::<UserRow>(db, &sql, &params).await?;
    Ok(crate::Paged { items, total, capped: false, page: page.clone() })
}

pub async fn record_login_failure(
    db: &Db,
    id: i64,
    failed: i32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |c| sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
        .bind(failed)
        .bind(locked_until)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    tx.commit().await
}

pub async fn record_login_success(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_password(tx: &mut Tx, id: i64, password_hash: &str) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_logins = 0, locked_until = NULL WHERE id = $3"
    )
    .bind(password_hash)
    .bind(crate::time::now())
    .bind(id)
    .execute(c)
    .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn set_active(tx: &mut Tx, id: i64, active: bool) -> Result<(), StoreError> {
    tx.memo.auth_changed = true;
    on_tx!(tx, |c| sqlx::query("UPDATE users SET active = $1, failed_logins = 0, locked_until = NULL WHERE id = $2")
        .bind(active)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn count_in_scope(db: &Db, scope: &Scope) -> Result<i64, StoreError> {
    let like = format!("{}%", scope.division);
    let (n,): (i64,) = on_db!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM users WHERE scope_division LIKE $1")
        .bind(&like)
        .fetch_one(c)
        .await)?;
    Ok(n)
}

/// Link an account to the registry person it belongs to (one account per person).
pub async fn link_person(tx: &mut Tx, user_id: i64, person_id: i64) -> Result<(), StoreError> {
    let taken: Option<(i64,)> =
        on_tx!(tx, |c| sqlx::query_as("SELECT id FROM users WHERE person_id = $1 AND id <> $2")
            .bind(person_id)
            .bind(user_id)
            .fetch_optional(c)
            .await)?;
    if taken.is_some() {
        return Err(StoreError::Conflict("此人已有账号".into()));
    }
    tx.memo.auth_changed = true;
    on_tx!(tx, |c| sqlx::query("UPDATE users SET person_id = $1 WHERE id = $2")
        .bind(person_id)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Active accounts with the system administrator's role (`wushe admin create` refuses a
/// second one unless asked).
pub async fn count_active_admins(db: &Db) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_db!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = $1 AND active = TRUE")
        .bind(Role::Admin.as_str())
        .fetch_one(c)
        .await)?;
    Ok(n)
}

/// Accounts whose creation the audit log does not attribute to `actor` (an audit entry
/// `create user` by that username and role): how `wushe demo` tells its own accounts from
/// anybody else's.
pub async fn count_not_created_by(db: &Db, actor_username: &str, actor_role: &str) -> Result<i64, StoreError> {
    let sql = "SELECT COUNT(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM audit_log a \
               WHERE a.entity = 'user' AND a.action = 'create' AND a.entity_id = CAST(u.id AS TEXT) \
               AND a.username = $1 AND a.role = $2)";
    let (n,): (i64,) = on_db!(db, |c| sqlx::query_as(sql).bind(actor_username).bind(actor_role).fetch_one(c).await)?;
    Ok(n)
}
