//! Accident insurance of volunteers (risky activities refuse check-in without it).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

use crate::{on_db, on_tx, Db, StoreError, Tx};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct PolicyRow {
    pub id: i64,
    pub organization_id: i64,
    pub insurer: String,
    pub policy_number: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub note: Option<String>,
    pub covered: i64,
    pub created_at: DateTime<Utc>,
}

pub struct NewPolicy<'a> {
    pub organization_id: i64,
    pub insurer: &'a str,
    pub policy_number: &'a str,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub note: Option<&'a str>,
    pub person_ids: &'a [i64],
    pub created_by: Option<i64>,
}

pub async fn insert(tx: &mut Tx, p: &NewPolicy<'_>) -> Result<i64, StoreError> {
    let r: Result<(i64,), StoreError> = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO insurance_policies (organization_id, insurer, policy_number, starts_on, ends_on, note, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
    )
    .bind(p.organization_id)
    .bind(p.insurer)
    .bind(p.policy_number)
    .bind(p.starts_on)
    .bind(p.ends_on)
    .bind(p.note)
    .bind(p.created_by)
    .bind(crate::time::now())
    .fetch_one(c)
    .await)
    .map_err(StoreError::from);
    let id = match r {
        Ok((id,)) => id,
        Err(e) if e.is_unique_violation() => {
            return Err(StoreError::Conflict(format!("保单「{} {}」已登记", p.insurer, p.policy_number)))
        }
        Err(e) => return Err(e),
    };
    add_covered(tx, id, p.person_ids).await?;
    Ok(id)
}

pub async fn add_covered(tx: &mut Tx, policy_id: i64, person_ids: &[i64]) -> Result<(), StoreError> {
    for chunk in person_ids.chunks(500) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO insurance_covered (policy_id, person_id) ");
            qb.push_values(chunk, |mut b, pid| {
                b.push_bind(policy_id).push_bind(*pid);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Whether the person is covered by a policy in force on `day`.
pub async fn is_covered(tx: &mut Tx, person_id: i64, day: NaiveDate) -> Result<bool, StoreError> {
    let row: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT p.id FROM insurance_covered ic JOIN insurance_policies p ON p.id = ic.policy_id \
         WHERE ic.person_id = $1 AND p.starts_on <= $2 AND p.ends_on >= $2 LIMIT 1"
    )
    .bind(person_id)
    .bind(day)
    .fetch_optional(c)
    .await)?;
    Ok(row.is_some())
}

pub async fn for_organization(db: &Db, organization_id: i64) -> Result<Vec<PolicyRow>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, PolicyRow>(
        "SELECT p.id, p.organization_id, p.insurer, p.policy_number, p.starts_on, p.ends_on, p.note, \
         (SELECT COUNT(*) FROM insurance_covered ic WHERE ic.policy_id = p.id) AS covered, p.created_at \
         FROM insurance_policies p WHERE p.organization_id = $1 ORDER BY p.ends_on DESC, p.id DESC"
    )
    .bind(organization_id)
    .fetch_all(c)
    .await)?)
}
