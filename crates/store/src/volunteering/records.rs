//! Confirmed service records (志愿服务记录) and correction requests. A record's facts are
//! never updated: a correction inserts a new record that names the one it supersedes, and
//! the old one is only marked superseded, so both stay readable. A void (作废) correction
//! marks the record superseded with no successor: the service did not happen.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RecordRow {
    pub id: i64,
    pub uid: String,
    pub person_id: i64,
    pub activity_id: i64,
    pub activity_title: String,
    pub organization_id: i64,
    pub organization_name: String,
    pub attendance_id: Option<i64>,
    pub division_code: String,
    pub address: String,
    pub category: String,
    pub service_date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub travel_minutes: i64,
    pub recorded_minutes: i64,
    pub credited_minutes: i64,
    pub evaluation: Option<String>,
    pub timebank: bool,
    pub superseded: bool,
    /// Withdrawn by an approved void correction (superseded, with no successor).
    pub voided: bool,
    pub supersedes_id: Option<i64>,
    pub confirmed_by_name: String,
    pub confirmed_at: DateTime<Utc>,
}

// `voided` looks into the corrections only for superseded records (few), through their index
const COLS: &str = "r.id, r.uid, r.person_id, r.activity_id, a.title AS activity_title, r.organization_id, \
    o.name AS organization_name, r.attendance_id, r.division_code, a.address, r.category, r.service_date, r.started_at, \
    r.ended_at, r.travel_minutes, r.recorded_minutes, r.credited_minutes, r.evaluation, r.timebank, r.superseded, \
    CASE WHEN r.superseded THEN EXISTS (SELECT 1 FROM record_corrections k WHERE k.record_id = r.id \
    AND k.void = TRUE AND k.status = 'approved') ELSE FALSE END AS voided, \
    r.supersedes_id, r.confirmed_by_name, r.confirmed_at";
const FROM: &str = " FROM service_records r JOIN activities a ON a.id = r.activity_id \
    JOIN organizations o ON o.id = r.organization_id";

pub struct NewRecord<'a> {
    pub person_id: i64,
    pub activity_id: i64,
    pub organization_id: i64,
    pub attendance_id: Option<i64>,
    pub division_code: &'a str,
    pub category: &'a str,
    pub service_date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub travel_minutes: i64,
    pub recorded_minutes: i64,
    pub credited_minutes: i64,
    pub evaluation: Option<&'a str>,
    pub timebank: bool,
    pub supersedes_id: Option<i64>,
    pub confirmed_by: i64,
    pub confirmed_by_name: &'a str,
    pub confirmed_at: DateTime<Utc>,
}

/// Insert a record; returns (id, uid). Conflict when the attendance already has one.
pub async fn insert(tx: &mut Tx, r: &NewRecord<'_>) -> Result<(i64, String), StoreError> {
    let mut ids = insert_many(tx, std::slice::from_ref(r)).await?;
    Ok(ids.remove(0))
}

/// Insert records with one statement per thousand; returns (id, uid) of each, in order.
/// Conflict when an attendance already has a record.
pub async fn insert_many(tx: &mut Tx, rows: &[NewRecord<'_>]) -> Result<Vec<(i64, String)>, StoreError> {
    let uids: Vec<String> = rows.iter().map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let mut by_uid = std::collections::HashMap::with_capacity(rows.len());
    for (chunk, uids) in
        crate::query::statement_chunks(tx.backend(), rows).zip(crate::query::statement_chunks(tx.backend(), &uids))
    {
        let res: Result<Vec<(i64, String)>, StoreError> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO service_records (uid, person_id, activity_id, organization_id, attendance_id, division_code, \
                 category, service_date, started_at, ended_at, travel_minutes, recorded_minutes, credited_minutes, evaluation, \
                 timebank, supersedes_id, confirmed_by, confirmed_by_name, confirmed_at) ",
            );
            qb.push_values(chunk.iter().zip(uids), |mut b, (r, uid)| {
                b.push_bind(uid)
                    .push_bind(r.person_id)
                    .push_bind(r.activity_id)
                    .push_bind(r.organization_id)
                    .push_bind(r.attendance_id)
                    .push_bind(r.division_code)
                    .push_bind(r.category)
                    .push_bind(r.service_date)
                    .push_bind(r.started_at)
                    .push_bind(r.ended_at)
                    .push_bind(r.travel_minutes)
                    .push_bind(r.recorded_minutes)
                    .push_bind(r.credited_minutes)
                    .push_bind(r.evaluation)
                    .push_bind(r.timebank)
                    .push_bind(r.supersedes_id)
                    .push_bind(r.confirmed_by)
                    .push_bind(r.confirmed_by_name)
                    .push_bind(r.confirmed_at);
            });
            qb.push(" RETURNING id, uid");
            qb.build_query_as::<(i64, String)>().fetch_all(c).await
        })
        .map_err(StoreError::from);
        match res {
            Ok(got) => by_uid.extend(got.into_iter().map(|(id, uid)| (uid, id))),
            Err(e) if e.is_unique_violation() => return Err(StoreError::Conflict("该签到记录的时长已确认".into())),
            Err(e) => return Err(e),
        }
    }
    uids.into_iter()
        .map(|uid| {
            by_uid.get(&uid).map(|id| (*id, uid)).ok_or_else(|| StoreError::Conflict("服务记录写入不完整".into()))
        })
        .collect()
}

/// Mark a record superseded by a correction (or voided). Conflict if it already was.
pub async fn mark_superseded(tx: &mut Tx, id: i64) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE service_records SET superseded = TRUE WHERE id = $1 AND superseded = FALSE"
    )
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::Conflict("该服务记录已被更正过，请查看最新记录".into()));
    }
    Ok(())
}

/// Minutes in force already credited to each (person, service date) asked for; pairs with
/// none are left out.
pub async fn credited_on_many(
    tx: &mut Tx,
    keys: &[(i64, NaiveDate)],
) -> Result<std::collections::HashMap<(i64, NaiveDate), i64>, StoreError> {
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let mut out = std::collections::HashMap::new();
    for chunk in crate::query::statement_chunks(tx.backend(), &keys) {
        // exactly the asked (person, day) pairs, each a range of the person index (people
        // IN … AND days IN … summed every combination: ten times the rows for a batch)
        let rows: Vec<(i64, NaiveDate, i64)> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT r.person_id, r.service_date, CAST(SUM(r.credited_minutes) AS BIGINT) FROM (",
            );
            qb.push_values(chunk, |mut b, (person, day)| {
                b.push_bind(*person).push_bind(*day);
            });
            qb.push(
                ") v CROSS JOIN service_records r WHERE r.person_id = v.column1 AND r.superseded = FALSE \
                 AND r.service_date = v.column2 GROUP BY r.person_id, r.service_date",
            );
            qb.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|(p, d, n)| ((p, d), n)));
    }
    Ok(out)
}

/// Minutes credited to a person on a local day, over records in force.
pub async fn credited_on(tx: &mut Tx, person_id: i64, day: NaiveDate) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(credited_minutes), 0) AS BIGINT) FROM service_records \
         WHERE person_id = $1 AND superseded = FALSE AND service_date = $2"
    )
    .bind(person_id)
    .bind(day)
    .fetch_one(c)
    .await)?;
    Ok(n)
}

pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<RecordRow, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE r.id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, RecordRow>(&sql).bind(id).fetch_optional(c).await)?.ok_or(StoreError::NotFound)
}

pub async fn get(db: &Db, id: i64) -> Result<RecordRow, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE r.id = $1");
    on_db!(db, |c| sqlx::query_as::<_, RecordRow>(&sql).bind(id).fetch_optional(c).await)?.ok_or(StoreError::NotFound)
}

/// A page of a person's records (in force and superseded), newest service first.
pub async fn for_person(db: &Db, person_id: i64, page: &Page) -> Result<Paged<RecordRow>, StoreError> {
    let (total,): (i64,) = on_db!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM service_records WHERE person_id = $1")
        .bind(person_id)
        .fetch_one(c)
        .await)?;
    let sql = format!(
        "SELECT {COLS}{FROM} WHERE r.person_id = $1 ORDER BY r.service_date DESC, r.id DESC LIMIT $2 OFFSET $3"
    );
    let items = on_db!(db, |c| sqlx::query_as::<_, RecordRow>(&sql)
        .bind(person_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(c)
        .await)?;
    Ok(Paged { items, total, capped: false, page: page.clone() })
}

/// A person's minutes in force per year (from the covering index).
pub async fn yearly_minutes(db: &Db, person_id: i64) -> Result<Vec<(String, i64)>, StoreError> {
    let rows: Vec<(String, i64)> = on_db!(db, |c| {
        sqlx::query_as(
        "SELECT SUBSTR(CAST(service_date AS TEXT), 1, 4) AS y, CAST(SUM(credited_minutes) AS BIGINT) FROM service_records \
         WHERE person_id = $1 AND superseded = FALSE GROUP BY y ORDER BY y"
    )
    .bind(person_id)
    .fetch_all(c)
    .await
    })?;
    Ok(rows)
}

/// Records of an activity, for the organizer.
pub async fn for_activity(db: &Db, activity_id: i64) -> Result<Vec<RecordRow>, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE r.activity_id = $1 ORDER BY r.id");
    Ok(on_db!(db, |c| sqlx::query_as::<_, RecordRow>(&sql).bind(activity_id).fetch_all(c).await)?)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CorrectionRow {
    pub id: i64,
    pub record_id: i64,
    pub organization_id: i64,
    pub person_id: i64,
    pub requested_by: i64,
    pub requested_at: DateTime<Utc>,
    pub reason: String,
    /// Withdraw the record (the service did not happen): no times, no successor.
    pub void: bool,
    /// The times asked for (absent for a void).
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub travel_minutes: i64,
    pub status: String,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub new_record_id: Option<i64>,
    pub person_name: String,
    pub volunteer_number: String,
}

const CORR_COLS: &str = "c.id, c.record_id, c.organization_id, c.person_id, c.requested_by, c.requested_at, c.reason, \
    c.void, c.started_at, c.ended_at, c.travel_minutes, c.status, c.reviewed_at, c.review_note, c.new_record_id, \
    p.name AS person_name, v.volunteer_number";
const CORR_FROM: &str = " FROM record_corrections c JOIN people p ON p.id = c.person_id \
    JOIN volunteers v ON v.person_id = c.person_id";

pub struct NewCorrection<'a> {
    pub record_id: i64,
    pub organization_id: i64,
    pub person_id: i64,
    pub requested_by: i64,
    pub reason: &'a str,
    pub void: bool,
    /// Both set unless `void` (the table's CHECK holds it too).
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub travel_minutes: i64,
}

pub async fn request_correction(tx: &mut Tx, c_: &NewCorrection<'_>) -> Result<i64, StoreError> {
    let pending: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT id FROM record_corrections WHERE record_id = $1 AND status = 'pending'"
    )
    .bind(c_.record_id)
    .fetch_optional(c)
    .await)?;
    if pending.is_some() {
        return Err(StoreError::Conflict("该记录已有待审核的更正申请".into()));
    }
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO record_corrections (record_id, organization_id, person_id, requested_by, requested_at, reason, \
         started_at, ended_at, travel_minutes, status, void) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10) \
         RETURNING id"
    )
    .bind(c_.record_id)
    .bind(c_.organization_id)
    .bind(c_.person_id)
    .bind(c_.requested_by)
    .bind(crate::time::now())
    .bind(c_.reason)
    .bind(c_.started_at)
    .bind(c_.ended_at)
    .bind(c_.travel_minutes)
    .bind(c_.void)
    .fetch_one(c)
    .await
    })?;
    Ok(id)
}

pub async fn correction_tx(tx: &mut Tx, id: i64) -> Result<CorrectionRow, StoreError> {
    let sql = format!("SELECT {CORR_COLS}{CORR_FROM} WHERE c.id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, CorrectionRow>(&sql).bind(id).fetch_optional(c).await)?
        .ok_or(StoreError::NotFound)
}

/// Close a pending request as approved (with the new record; none for a void) or rejected.
pub async fn review_correction(
    tx: &mut Tx,
    id: i64,
    approved: bool,
    by: i64,
    note: Option<&str>,
    new_record_id: Option<i64>,
) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE record_corrections SET status = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4, \
         new_record_id = $5 WHERE id = $6 AND status = 'pending'"
    )
    .bind(if approved { "approved" } else { "rejected" })
    .bind(by)
    .bind(crate::time::now())
    .bind(note)
    .bind(new_record_id)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::Conflict("该更正申请已处理".into()));
    }
    Ok(())
}

/// Correction requests to an organization (pending first), or of a person.
pub async fn corrections(
    db: &Db,
    organization_id: Option<i64>,
    person_id: Option<i64>,
    limit: i64,
) -> Result<Vec<CorrectionRow>, StoreError> {
    let sql = format!(
        "SELECT {CORR_COLS}{CORR_FROM} WHERE ($1 IS NULL OR c.organization_id = $1) \
         AND ($2 IS NULL OR c.person_id = $2) ORDER BY CASE c.status WHEN 'pending' THEN 0 ELSE 1 END, c.id DESC LIMIT $3"
    );
    Ok(on_db!(db, |c| sqlx::query_as::<_, CorrectionRow>(&sql)
        .bind(organization_id)
        .bind(person_id)
        .bind(limit)
        .fetch_all(c)
        .await)?)
}
