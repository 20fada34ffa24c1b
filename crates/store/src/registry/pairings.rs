//! Pairing programmes (结对帮扶, 牵手计划) between organizations.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::FromRow;
use wushe_domain::accounts::Scope;

use crate::query::{self, Filter, Param};
use crate::{on_tx, Db, StoreError, Tx};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PairingRow {
    pub id: i64,
    pub programme: String,
    pub helper_org_id: i64,
    pub helper_name: String,
    pub helper_division: String,
    pub helped_org_id: i64,
    pub helped_name: String,
    pub helped_division: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub goals: String,
    pub created_at: DateTime<Utc>,
}

pub struct NewPairing<'a> {
    pub programme: &'a str,
    pub helper_org_id: i64,
    pub helped_org_id: i64,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub goals: &'a str,
    pub created_by: Option<i64>,
}

pub async fn create(tx: &mut Tx, p: &NewPairing<'_>) -> Result<i64, StoreError> {
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO pairings (programme, helper_org_id, helped_org_id, starts_on, ends_on, goals, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
    )
    .bind(p.programme)
    .bind(p.helper_org_id)
    .bind(p.helped_org_id)
    .bind(p.starts_on)
    .bind(p.ends_on)
    .bind(p.goals)
    .bind(crate::time::now())
    .bind(p.created_by)
    .fetch_one(c)
    .await
    })?;
    Ok(id)
}

/// Pairings in which at least one side lies in the scope (an official sees the programmes
/// that reach into their region); optionally only those of one organization.
pub async fn list(db: &Db, scope: &Scope, org: Option<i64>) -> Result<Vec<PairingRow>, StoreError> {
    let (lo, hi) = scope.division_range();
    let mut w = Filter::new();
    w.and(
        "((a.division_code >= {} AND a.division_code <= {}) OR (b.division_code >= {} AND b.division_code <= {}))",
        vec![Param::Text(lo.clone()), Param::Text(hi.clone()), Param::Text(lo), Param::Text(hi)],
    );
    if let Some(own) = scope.organization_id {
        w.and("(p.helper_org_id = {} OR p.helped_org_id = {})", vec![Param::Int(own), Param::Int(own)]);
    }
    if let Some(o) = org {
        w.and("(p.helper_org_id = {} OR p.helped_org_id = {})", vec![Param::Int(o), Param::Int(o)]);
    }
    let sql = format!(
        "SELECT p.id, p.programme, p.helper_org_id, a.name AS helper_name, a.division_code AS helper_division, \
         p.helped_org_id, b.name AS helped_name, b.division_code AS helped_division, p.starts_on, p.ends_on, p.goals, \
         p.created_at FROM pairings p JOIN organizations a ON a.id = p.helper_org_id \
         JOIN organizations b ON b.id = p.helped_org_id{} ORDER BY p.starts_on DESC, p.id DESC LIMIT 500",
        w.where_sql()
    );
    query::fetch_all::<PairingRow>(db, &sql, &w.params).await
}
