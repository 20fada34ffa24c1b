//! Star awards (星级志愿者认定): created pending when a volunteer's confirmed hours reach a
//! star's threshold (in the confirmation's or correction's own transaction), decided by an
//! official of the approving level, lapsed when a correction takes the hours back below.
//! Queue lists take the official's region: the volunteer's home region must be inside it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;
use wushe_domain::volunteering::stars::{Award, AwardStatus};

use crate::query::{self, Filter, Param};
use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AwardRow {
    pub id: i64,
    pub person_id: i64,
    pub star: i64,
    pub status: String,
    pub threshold_minutes: i64,
    pub reached_on: NaiveDate,
    pub eligible_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub total_at_decision: Option<i64>,
    pub lapsed_at: Option<DateTime<Utc>>,
}

impl AwardRow {
    pub fn status(&self) -> AwardStatus {
        AwardStatus::parse(&self.status).unwrap_or(AwardStatus::Lapsed)
    }

    /// What the domain rules need.
    pub fn fact(&self) -> Award {
        Award {
            id: self.id,
            star: u8::try_from(self.star).unwrap_or(0),
            status: self.status(),
            threshold_minutes: self.threshold_minutes,
            reached_on: self.reached_on,
            eligible_on: self.eligible_on,
            total_at_decision: self.total_at_decision,
        }
    }
}

const COLS: &str = "s.id, s.person_id, s.star, s.status, s.threshold_minutes, s.reached_on, s.eligible_on, \
    s.created_at, s.decided_by_name, s.decided_at, s.decision_note, s.total_at_decision, s.lapsed_at";

/// Confirmed minutes in force of several people (people with none are left out).
pub async fn total_minutes_many(
    tx: &mut Tx,
    people: &[i64],
) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
    let rows: Vec<(i64, i64)> = query::fetch_in_tx(
        tx,
        "SELECT person_id, CAST(SUM(credited_minutes) AS BIGINT) FROM service_records \
         WHERE superseded = FALSE AND person_id IN (",
        people,
        ") GROUP BY person_id",
    )
    .await?;
    Ok(rows.into_iter().collect())
}

/// The awards of several people, each person's oldest first.
pub async fn for_people_tx(
    tx: &mut Tx,
    people: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<AwardRow>>, StoreError> {
    let head = format!("SELECT {COLS} FROM star_awards s WHERE s.person_id IN (");
    let rows: Vec<AwardRow> = query::fetch_in_tx(tx, &head, people, ") ORDER BY s.id").await?;
    let mut out: std::collections::HashMap<i64, Vec<AwardRow>> = std::collections::HashMap::new();
    for r in rows {
        out.entry(r.person_id).or_default().push(r);
    }
    Ok(out)
}

pub async fn for_person(db: &Db, person_id: i64) -> Result<Vec<AwardRow>, StoreError> {
    let sql = format!("SELECT {COLS} FROM star_awards s WHERE s.person_id = $1 ORDER BY s.id");
    Ok(on_db!(db, |c| sqlx::query_as::<_, AwardRow>(&sql).bind(person_id).fetch_all(c).await)?)
}

/// A new pending award; None when the star is already pending or approved (a concurrent
/// write created it first: nothing is left to do).
pub async fn insert(
    tx: &mut Tx,
    person_id: i64,
    star: u8,
    threshold_minutes: i64,
    reached_on: NaiveDate,
    eligible_on: NaiveDate,
) -> Result<Option<i64>, StoreError> {
    let row: Option<(i64,)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO star_awards (person_id, star, status, threshold_minutes, reached_on, eligible_on, created_at) \
         VALUES ($1, $2, 'pending', $3, $4, $5, $6) \
         ON CONFLICT (person_id, star) WHERE status IN ('pending', 'approved') DO NOTHING RETURNING id"
    )
    .bind(person_id)
    .bind(i64::from(star))
    .bind(threshold_minutes)
    .bind(reached_on)
    .bind(eligible_on)
    .bind(crate::time::now())
    .fetch_optional(c)
    .await
    })?;
    Ok(row.map(|r| r.0))
}

/// A pending or approved award lapses (the hours no longer reach it).
pub async fn lapse(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE star_awards SET status = 'lapsed', lapsed_at = $1 WHERE id = $2 AND status IN ('pending', 'approved')"
    )
    .bind(crate::time::now())
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A pending award's first day of approval moves (the registration period changed).
pub async fn reschedule(tx: &mut Tx, id: i64, eligible_on: NaiveDate) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("UPDATE star_awards SET eligible_on = $1 WHERE id = $2 AND status = 'pending'")
        .bind(eligible_on)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub struct Decision<'a> {
    pub approve: bool,
    pub by: i64,
    pub by_name: &'a str,
    pub note: Option<&'a str>,
    /// The volunteer's total at the decision (a rejection holds until it grows).
    pub total_minutes: i64,
}

/// Approve or reject a pending award. Conflict when it was decided meanwhile.
pub async fn decide(tx: &mut Tx, id: i64, d: &Decision<'_>) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE star_awards SET status = $1, decided_by = $2, decided_by_name = $3, decided_at = $4, \
         decision_note = $5, total_at_decision = $6 WHERE id = $7 AND status = 'pending'"
    )
    .bind(if d.approve { AwardStatus::Approved.as_str() } else { AwardStatus::Rejected.as_str() })
    .bind(d.by)
    .bind(d.by_name)
    .bind(crate::time::now())
    .bind(d.note)
    .bind(d.total_minutes)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::Conflict("该星级已被处理，请刷新后查看".into()));
    }
    Ok(())
}

/// An award with its volunteer, for the officials' queue.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct QueueRow {
    pub id: i64,
    pub person_id: i64,
    pub star: i64,
    pub status: String,
    pub threshold_minutes: i64,
    pub reached_on: NaiveDate,
    pub eligible_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub lapsed_at: Option<DateTime<Utc>>,
    pub person_name: String,
    pub volunteer_number: String,
    /// The volunteer's home region (12 digits).
    pub division_code: String,
    pub registered_on: NaiveDate,
    /// Confirmed minutes in force now.
    pub total_minutes: i64,
}

const QUEUE_COLS: &str = "s.id, s.person_id, s.star, s.status, s.threshold_minutes, s.reached_on, s.eligible_on, \
    s.created_at, s.decided_by_name, s.decided_at, s.decision_note, s.lapsed_at, p.name AS person_name, \
    v.volunteer_number, p.division_code, v.registered_on, \
    (SELECT CAST(COALESCE(SUM(r.credited_minutes), 0) AS BIGINT) FROM service_records r \
     WHERE r.person_id = s.person_id AND r.superseded = FALSE) AS total_minutes";
const QUEUE_FROM: &str =
    " FROM star_awards s JOIN people p ON p.id = s.person_id JOIN volunteers v ON v.person_id = s.person_id";

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Statuses to list (empty: all).
    pub statuses: Vec<AwardStatus>,
    /// Stars to list (empty: all).
    pub stars: Vec<u8>,
    /// A sub-region of the official's region (significant digits).
    pub region: Option<String>,
}

/// Awards of volunteers whose home region is inside `scope_division`, pending first by age.
pub async fn queue(db: &Db, scope_division: &str, f: &QueueFilter, page: &Page) -> Result<Paged<QueueRow>, StoreError> {
    let mut w = Filter::new();
    w.within_division("p.division_code", scope_division);
    if let Some(r) = f.region.as_deref().filter(|r| !r.is_empty()) {
        w.within_division("p.division_code", r);
    }
    if !f.statuses.is_empty() {
        let marks = vec!["{}"; f.statuses.len()].join(", ");
        w.and(
            &format!("s.status IN ({marks})"),
            f.statuses.iter().map(|s| Param::Text(s.as_str().to_string())).collect(),
        );
    }
    if !f.stars.is_empty() {
        let marks = vec!["{}"; f.stars.len()].join(", ");
        w.and(&format!("s.star IN ({marks})"), f.stars.iter().map(|s| Param::Int(i64::from(*s))).collect());
    }
    let fw = format!("{QUEUE_FROM}{}", w.where_sql());
    let (total, capped) = query::fetch_count_capped(db, &fw, &w.params, query::COUNT_CAP).await?;
    let n = w.next_placeholder();
    let sql = format!(
        "SELECT {QUEUE_COLS}{fw} ORDER BY CASE s.status WHEN 'pending' THEN 0 ELSE 1 END, \
         CASE WHEN s.status = 'pending' THEN s.id ELSE -s.id END LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let mut params = w.params.clone();
    params.push(Param::Int(page.limit()));
    params.push(Param::Int(page.offset()));
    let items = query::fetch_all(db, &sql, &params).await?;
    Ok(Paged { items, total, capped, page: page.clone() })
}

/// One award with its volunteer, inside a write transaction (the caller checks the scope).
pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<QueueRow, StoreError> {
    let sql = format!("SELECT {QUEUE_COLS}{QUEUE_FROM} WHERE s.id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, QueueRow>(&sql).bind(id).fetch_optional(c).await)?.ok_or(StoreError::NotFound)
}

/// Volunteers to bring in line after the star rules changed: everyone with an award, and
/// everyone whose confirmed total reaches `min_minutes`. Returns (person, total).
pub async fn candidates(db: &Db, min_minutes: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT t.person_id, t.total FROM (SELECT person_id, CAST(SUM(credited_minutes) AS BIGINT) AS total \
         FROM service_records WHERE superseded = FALSE GROUP BY person_id) t \
         WHERE t.total >= $1 OR t.person_id IN (SELECT person_id FROM star_awards) \
         UNION SELECT s.person_id, 0 FROM star_awards s \
         WHERE NOT EXISTS (SELECT 1 FROM service_records r WHERE r.person_id = s.person_id AND r.superseded = FALSE) \
         ORDER BY 1"
    )
    .bind(min_minutes)
    .fetch_all(c)
    .await)?)
}
