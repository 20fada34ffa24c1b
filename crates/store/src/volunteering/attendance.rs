//! Attendance: one row per approved sign-up that checked in.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

use crate::{on_db, on_tx, Db, StoreError, Tx};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AttendanceRow {
    pub id: i64,
    pub signup_id: i64,
    pub slot_id: i64,
    pub activity_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub volunteer_number: String,
    pub checked_in_at: DateTime<Utc>,
    pub check_in_method: String,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub check_out_method: Option<String>,
    pub status: String,
    pub resolution_note: Option<String>,
    pub slot_starts_at: DateTime<Utc>,
    pub slot_ends_at: DateTime<Utc>,
}

const COLS: &str = "t.id, t.signup_id, t.slot_id, t.activity_id, t.person_id, p.name AS person_name, \
    v.volunteer_number, t.checked_in_at, t.check_in_method, t.checked_out_at, t.check_out_method, t.status, \
    t.resolution_note, s.starts_at AS slot_starts_at, s.ends_at AS slot_ends_at";
const FROM: &str = " FROM attendance t JOIN people p ON p.id = t.person_id \
    JOIN volunteers v ON v.person_id = t.person_id JOIN activity_slots s ON s.id = t.slot_id";

pub struct CheckIn {
    pub signup_id: i64,
    pub slot_id: i64,
    pub activity_id: i64,
    pub person_id: i64,
    pub at: DateTime<Utc>,
    /// "qr" or "roster".
    pub method: &'static str,
    pub by: Option<i64>,
    pub position_e6: Option<(i64, i64)>,
}

/// Check several in with one statement per thousand; returns the attendance ids in order.
/// Conflict when a sign-up is already checked in (callers look first, with `checked_in`).
pub async fn check_in_many(tx: &mut Tx, rows: &[CheckIn]) -> Result<Vec<i64>, StoreError> {
    let mut by_signup = std::collections::HashMap::with_capacity(rows.len());
    for chunk in crate::query::statement_chunks(tx.backend(), rows) {
        let r: Result<Vec<(i64, i64)>, StoreError> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO attendance (signup_id, slot_id, activity_id, person_id, checked_in_at, check_in_method, \
                 checked_in_by, latitude_e6, longitude_e6, status) ",
            );
            qb.push_values(chunk, |mut b, c_in| {
                b.push_bind(c_in.signup_id)
                    .push_bind(c_in.slot_id)
                    .push_bind(c_in.activity_id)
                    .push_bind(c_in.person_id)
                    .push_bind(c_in.at)
                    .push_bind(c_in.method)
                    .push_bind(c_in.by)
                    .push_bind(c_in.position_e6.map(|p| p.0))
                    .push_bind(c_in.position_e6.map(|p| p.1))
                    .push_bind("open");
            });
            qb.push(" RETURNING id, signup_id");
            qb.build_query_as().fetch_all(c).await
        })
        .map_err(StoreError::from);
        match r {
            Ok(got) => by_signup.extend(got.into_iter().map(|(id, signup)| (signup, id))),
            Err(e) if e.is_unique_violation() => return Err(StoreError::Conflict("已签到，无需重复签到".into())),
            Err(e) => return Err(e),
        }
    }
    rows.iter()
        .map(|r| by_signup.get(&r.signup_id).copied().ok_or_else(|| StoreError::Conflict("签到写入不完整".into())))
        .collect()
}

/// Which of these sign-ups already have an attendance.
pub async fn checked_in(tx: &mut Tx, signups: &[i64]) -> Result<std::collections::HashSet<i64>, StoreError> {
    let rows: Vec<(i64,)> =
        crate::query::fetch_in_tx(tx, "SELECT signup_id FROM attendance WHERE signup_id IN (", signups, ")").await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// What confirming hours needs of an attendance: no joins, as a batch reads hundreds.
#[derive(Debug, Clone, FromRow)]
pub struct Attended {
    pub id: i64,
    pub activity_id: i64,
    pub person_id: i64,
    pub checked_in_at: DateTime<Utc>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub status: String,
}

/// Several attendances by id, for confirming (unknown ids are left out).
pub async fn attended_many_tx(
    tx: &mut Tx,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Attended>, StoreError> {
    let head = "SELECT id, activity_id, person_id, checked_in_at, checked_out_at, status FROM attendance WHERE id IN (";
    let rows: Vec<Attended> = crate::query::fetch_in_tx(tx, head, ids, ")").await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// The person's attendance at the activity that is still open (to check out).
pub async fn open_for(tx: &mut Tx, activity_id: i64, person_id: i64) -> Result<Option<AttendanceRow>, StoreError> {
    let sql = format!(
        "SELECT {COLS}{FROM} WHERE t.activity_id = $1 AND t.person_id = $2 AND t.status = 'open' ORDER BY t.id DESC LIMIT 1"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, AttendanceRow>(&sql)
        .bind(activity_id)
        .bind(person_id)
        .fetch_optional(c)
        .await)?)
}

/// The attendance of a sign-up, if it checked in.
pub async fn for_signup(tx: &mut Tx, signup_id: i64) -> Result<Option<AttendanceRow>, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE t.signup_id = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, AttendanceRow>(&sql).bind(signup_id).fetch_optional(c).await)?)
}

/// Close an open (or, by the organizer, a flagged) attendance. Conflict if it is neither.
pub async fn check_out(
    tx: &mut Tx,
    id: i64,
    at: DateTime<Utc>,
    method: &str,
    by: Option<i64>,
    note: Option<&str>,
    allow_flagged: bool,
) -> Result<(), StoreError> {
    let states = if allow_flagged { "('open', 'flagged')" } else { "('open')" };
    let sql = format!(
        "UPDATE attendance SET checked_out_at = $1, check_out_method = $2, checked_out_by = $3, status = 'closed', \
         resolution_note = COALESCE($4, resolution_note) WHERE id = $5 AND status IN {states}"
    );
    let n = on_tx!(tx, |c| sqlx::query(&sql)
        .bind(at)
        .bind(method)
        .bind(by)
        .bind(note)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::Conflict("该签到记录已签退或已确认".into()));
    }
    Ok(())
}

/// Mark a closed attendance as confirmed (its service record was written). Conflict if it
/// is not closed — e.g. confirmed a moment ago by someone else.
pub async fn mark_confirmed(tx: &mut Tx, ids: &[i64]) -> Result<(), StoreError> {
    let conflict = || StoreError::Conflict("签到记录不是「已签退」状态（或重复），不能确认时长".into());
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != ids.len() {
        return Err(conflict());
    }
    let mut marked = 0;
    for list in crate::query::in_list_chunks(&distinct) {
        marked += on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "UPDATE attendance SET status = 'confirmed' WHERE status = 'closed' AND id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in &list {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    if marked != ids.len() as u64 {
        return Err(conflict());
    }
    Ok(())
}

/// Flag open attendances whose slot ended more than `grace_hours` before `now`.
pub async fn flag_missing_checkouts(db: &Db, now: DateTime<Utc>, grace_hours: i64) -> Result<u64, StoreError> {
    let cutoff = now - chrono::Duration::hours(grace_hours);
    let mut tx = db.begin().await?;
    let n = on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE attendance SET status = 'flagged' WHERE status = 'open' \
         AND slot_id IN (SELECT id FROM activity_slots WHERE ends_at < $1)"
    )
    .bind(cutoff)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(n)
}

/// An activity's attendance (the organizer's roster view).
pub async fn for_activity(db: &Db, activity_id: i64) -> Result<Vec<AttendanceRow>, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE t.activity_id = $1 ORDER BY t.slot_id, t.id");
    Ok(on_db!(db, |c| sqlx::query_as::<_, AttendanceRow>(&sql).bind(activity_id).fetch_all(c).await)?)
}

/// A finished attendance written in bulk (demo history, benchmarks).
pub struct ClosedAttendance {
    pub signup_id: i64,
    pub slot_id: i64,
    pub activity_id: i64,
    pub person_id: i64,
    pub checked_in_at: DateTime<Utc>,
    pub checked_out_at: DateTime<Utc>,
}

/// Insert closed attendances; returns their ids in the order given.
pub async fn insert_closed_bulk(tx: &mut Tx, rows: &[ClosedAttendance]) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        let got: Vec<(i64, i64)> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO attendance (signup_id, slot_id, activity_id, person_id, checked_in_at, check_in_method, \
                 checked_out_at, check_out_method, status) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.signup_id)
                    .push_bind(r.slot_id)
                    .push_bind(r.activity_id)
                    .push_bind(r.person_id)
                    .push_bind(r.checked_in_at)
                    .push("'roster'")
                    .push_bind(r.checked_out_at)
                    .push("'roster'")
                    .push("'closed'");
            });
            qb.push(" RETURNING signup_id, id");
            qb.build_query_as().fetch_all(c).await
        })?;
        // RETURNING order is not promised: match by sign-up
        let by_signup: std::collections::HashMap<i64, i64> = got.into_iter().collect();
        for r in chunk {
            ids.push(*by_signup.get(&r.signup_id).ok_or_else(|| StoreError::Integrity("签到记录未写入".into()))?);
        }
    }
    Ok(ids)
}
