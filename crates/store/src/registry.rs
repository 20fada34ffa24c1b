//! Organizations (the registry issue extends this with people, status history and imports).

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use wushe_domain::accounts::Scope;

use crate::{on_db, on_tx, Db, StoreError, Tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub credit_code: Option<String>,
    pub org_type: String,
    pub division_code: String,
    pub created_at: DateTime<Utc>,
}

pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub credit_code: Option<&'a str>,
    pub org_type: &'a str,
    pub division_code: &'a str,
}

pub async fn create_organization(tx: &mut Tx, o: &NewOrganization<'_>) -> Result<i64, StoreError> {
    let res: Result<(i64,), sqlx::Error> = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO organizations (name, credit_code, org_type, division_code, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(o.name)
    .bind(o.credit_code)
    .bind(o.org_type)
    .bind(o.division_code)
    .bind(crate::time::now())
    .fetch_one(c)
    .await);
    match res.map_err(StoreError::from) {
        Ok((id,)) => Ok(id),
        Err(e) if e.is_unique_violation() => Err(StoreError::Conflict("统一社会信用代码已登记".into())),
        Err(e) => Err(e),
    }
}

/// Load an organization inside the caller's scope (region subtree, and the caller's own
/// organization for organization staff).
pub async fn get_organization(db: &Db, scope: &Scope, id: i64) -> Result<OrganizationRow, StoreError> {
    let row: Option<OrganizationRow> = on_db!(db, |c| sqlx::query_as(
        "SELECT id, name, credit_code, org_type, division_code, created_at FROM organizations WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?;
    match row {
        Some(r) if scope.covers_division(&r.division_code) && scope.organization_id.is_none_or(|o| o == r.id) => Ok(r),
        _ => Err(StoreError::NotFound),
    }
}

pub async fn find_by_credit_code(db: &Db, credit_code: &str) -> Result<Option<OrganizationRow>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT id, name, credit_code, org_type, division_code, created_at FROM organizations WHERE credit_code = $1"
    )
    .bind(credit_code)
    .fetch_optional(c)
    .await)?)
}

pub async fn count_in_scope(db: &Db, scope: &Scope) -> Result<i64, StoreError> {
    let (lo, hi) = scope.division_range();
    let (n,): (i64,) = on_db!(db, |c| sqlx::query_as(
        "SELECT COUNT(*) FROM organizations WHERE division_code >= $1 AND division_code <= $2 \
         AND ($3 IS NULL OR id = $3)"
    )
    .bind(&lo)
    .bind(&hi)
    .bind(scope.organization_id)
    .fetch_one(c)
    .await)?;
    Ok(n)
}
