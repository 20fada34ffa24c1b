//! Sign-ups. A place is taken by one atomic `UPDATE … WHERE approved < capacity` (and the
//! table's CHECK), so concurrent sign-ups can never overbook a slot on either backend; the
//! status rules are `wushe_domain::volunteering::signup`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use wushe_domain::volunteering::signup::{self, SignupAction, SignupStatus};

use crate::{on_db, on_tx, Db, StoreError, Tx};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SignupRow {
    pub id: i64,
    pub slot_id: i64,
    pub activity_id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub volunteer_number: String,
    pub status: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const COLS: &str = "g.id, g.slot_id, g.activity_id, g.person_id, p.name AS person_name, v.volunteer_number, \
    g.status, g.note, g.created_at, g.decided_at";
const FROM: &str = " FROM signups g JOIN people p ON p.id = g.person_id JOIN volunteers v ON v.person_id = g.person_id";

/// Take a place in the slot if one is free.
async fn take_place(tx: &mut Tx, slot_id: i64) -> Result<bool, StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE activity_slots SET approved = approved + 1 WHERE id = $1 AND approved < capacity"
    )
    .bind(slot_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

async fn free_place(tx: &mut Tx, slot_id: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("UPDATE activity_slots SET approved = approved - 1 WHERE id = $1 AND approved > 0")
        .bind(slot_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A new sign-up; returns its id and status. Conflict when the volunteer already has an
/// active sign-up for the slot.
pub async fn create(
    tx: &mut Tx,
    slot_id: i64,
    activity_id: i64,
    person_id: i64,
    auto_approve: bool,
    note: Option<&str>,
) -> Result<(i64, SignupStatus), StoreError> {
    let existing: Option<(i64,)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT id FROM signups WHERE slot_id = $1 AND person_id = $2 AND status IN ('pending', 'approved', 'waitlisted')"
    )
    .bind(slot_id)
    .bind(person_id)
    .fetch_optional(c)
    .await
    })?;
    if existing.is_some() {
        return Err(StoreError::Conflict("您已报名该时段".into()));
    }
    let place = auto_approve && take_place(tx, slot_id).await?;
    let status = signup::initial(auto_approve, place);
    let now = crate::time::now();
    let r: Result<(i64,), StoreError> = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO signups (slot_id, activity_id, person_id, status, note, created_at, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(slot_id)
    .bind(activity_id)
    .bind(person_id)
    .bind(status.as_str())
    .bind(note)
    .bind(now)
    .bind(auto_approve.then_some(now))
    .fetch_one(c)
    .await)
    .map_err(StoreError::from);
    match r {
        Ok((id,)) => Ok((id, status)),
        Err(e) if e.is_unique_violation() => Err(StoreError::Conflict("您已报名该时段".into())),
        Err(e) => Err(e),
    }
}

pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<SignupRow, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE g.id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, SignupRow>(&sql).bind(id).fetch_optional(c).await)?.ok_or(StoreError::NotFound)
}

/// Apply an action to a sign-up: Ok(new status), or Conflict with the rule's message.
/// A freed place goes to the oldest waiting sign-up of the slot.
pub async fn act(tx: &mut Tx, id: i64, action: SignupAction, by: Option<i64>) -> Result<SignupStatus, StoreError> {
    let row = get_tx(tx, id).await?;
    let from = SignupStatus::parse(&row.status).ok_or_else(|| StoreError::Integrity(row.status.clone()))?;
    let action = match action {
        SignupAction::Approve { .. } if from == SignupStatus::Pending => {
            SignupAction::Approve { place_free: take_place(tx, row.slot_id).await? }
        }
        a => a,
    };
    let to = signup::transition(from, action).map_err(|e| StoreError::Conflict(e.0))?;
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE signups SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4 AND status = $5"
    )
    .bind(to.as_str())
    .bind(crate::time::now())
    .bind(by)
    .bind(id)
    .bind(from.as_str())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::Conflict("报名状态已变化，请刷新后重试".into()));
    }
    if signup::frees_place(from, to) {
        free_place(tx, row.slot_id).await?;
        promote_waiting(tx, row.slot_id).await?;
    }
    Ok(to)
}

/// Fill free places from the waiting list, oldest first. Returns the promoted sign-up ids.
pub async fn promote_waiting(tx: &mut Tx, slot_id: i64) -> Result<Vec<i64>, StoreError> {
    let mut promoted = Vec::new();
    loop {
        let next: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT id FROM signups WHERE slot_id = $1 AND status = 'waitlisted' ORDER BY id LIMIT 1"
        )
        .bind(slot_id)
        .fetch_optional(c)
        .await)?;
        let Some((id,)) = next else { break };
        if !take_place(tx, slot_id).await? {
            break;
        }
        on_tx!(tx, |c| sqlx::query("UPDATE signups SET status = 'approved', decided_at = $1 WHERE id = $2")
            .bind(crate::time::now())
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        promoted.push(id);
    }
    Ok(promoted)
}

/// Sign-ups of an activity (the organizer's roster), by slot and arrival.
pub async fn for_activity(db: &Db, activity_id: i64) -> Result<Vec<SignupRow>, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE g.activity_id = $1 ORDER BY g.slot_id, g.id");
    Ok(on_db!(db, |c| sqlx::query_as::<_, SignupRow>(&sql).bind(activity_id).fetch_all(c).await)?)
}

/// A volunteer's sign-ups for one activity.
pub async fn for_person_activity(db: &Db, person_id: i64, activity_id: i64) -> Result<Vec<SignupRow>, StoreError> {
    let sql = format!("SELECT {COLS}{FROM} WHERE g.person_id = $1 AND g.activity_id = $2 ORDER BY g.id");
    Ok(on_db!(db, |c| sqlx::query_as::<_, SignupRow>(&sql).bind(person_id).bind(activity_id).fetch_all(c).await)?)
}

type Time = DateTime<Utc>;

/// Approved sign-ups by (activity, person): (sign-up, slot, slot start, slot end), earliest first.
pub type Approved = std::collections::HashMap<(i64, i64), Vec<(i64, i64, Time, Time)>>;

/// The approved sign-ups of each (activity, person) pair, earliest slot first.
pub async fn approved_for_many(tx: &mut Tx, pairs: &[(i64, i64)]) -> Result<Approved, StoreError> {
    let mut out = Approved::new();
    let mut pairs = pairs.to_vec();
    pairs.sort_unstable();
    pairs.dedup();
    for chunk in crate::query::statement_chunks(tx.backend(), &pairs) {
        // driven from the pairs, each one seek in the (person, activity, status) index
        let rows: Vec<(i64, i64, i64, i64, Time, Time)> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT g.activity_id, g.person_id, g.id, g.slot_id, s.starts_at, s.ends_at FROM (",
            );
            qb.push_values(chunk, |mut b, (activity, person)| {
                b.push_bind(*activity).push_bind(*person);
            });
            qb.push(
                ") v CROSS JOIN signups g JOIN activity_slots s ON s.id = g.slot_id \
                 WHERE g.person_id = v.column2 AND g.activity_id = v.column1 AND g.status = 'approved' \
                 ORDER BY s.starts_at",
            );
            qb.build_query_as().fetch_all(c).await
        })?;
        for (activity, person, id, slot, starts, ends) in rows {
            out.entry((activity, person)).or_default().push((id, slot, starts, ends));
        }
    }
    Ok(out)
}

/// What a sign-up is checked against, about the volunteer.
#[derive(Debug, Clone, FromRow)]
pub struct VolunteerFacts {
    pub birth_date: chrono::NaiveDate,
    pub has_guardian: bool,
    pub skills: String,
}

pub async fn volunteer_facts(tx: &mut Tx, person_id: i64) -> Result<VolunteerFacts, StoreError> {
    on_tx!(tx, |c| sqlx::query_as::<_, VolunteerFacts>(
        "SELECT p.birth_date, v.guardian_name IS NOT NULL AS has_guardian, v.skills FROM people p \
         JOIN volunteers v ON v.person_id = p.id WHERE p.id = $1"
    )
    .bind(person_id)
    .fetch_optional(c)
    .await)?
    .ok_or_else(|| StoreError::Conflict("您还不是登记在册的志愿者".into()))
}

/// When the volunteer registered (for the star rules' minimum period).
pub async fn registered_on(db: &Db, person_id: i64) -> Result<Option<chrono::NaiveDate>, StoreError> {
    let row: Option<(chrono::NaiveDate,)> =
        on_db!(db, |c| sqlx::query_as("SELECT registered_on FROM volunteers WHERE person_id = $1")
            .bind(person_id)
            .fetch_optional(c)
            .await)?;
    Ok(row.map(|r| r.0))
}

/// Approved sign-ups written in bulk (demo history, benchmarks): takes the places in the
/// slot (the CHECK refuses overbooking) and returns (person id, sign-up id).
pub async fn insert_approved_bulk(
    tx: &mut Tx,
    slot_id: i64,
    activity_id: i64,
    person_ids: &[i64],
    at: DateTime<Utc>,
) -> Result<Vec<(i64, i64)>, StoreError> {
    for chunk in person_ids.chunks(1000) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO signups (slot_id, activity_id, person_id, status, created_at, decided_at) ",
            );
            qb.push_values(chunk, |mut b, pid| {
                b.push_bind(slot_id)
                    .push_bind(activity_id)
                    .push_bind(*pid)
                    .push("'approved'")
                    .push_bind(at)
                    .push_bind(at);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    on_tx!(tx, |c| sqlx::query("UPDATE activity_slots SET approved = approved + $1 WHERE id = $2")
        .bind(person_ids.len() as i64)
        .bind(slot_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT person_id, id FROM signups WHERE slot_id = $1 AND status = 'approved' ORDER BY id"
    )
    .bind(slot_id)
    .fetch_all(c)
    .await)?)
}

pub async fn birth_date(tx: &mut Tx, person_id: i64) -> Result<chrono::NaiveDate, StoreError> {
    let row: Option<(chrono::NaiveDate,)> =
        on_tx!(tx, |c| sqlx::query_as("SELECT birth_date FROM people WHERE id = $1")
            .bind(person_id)
            .fetch_optional(c)
            .await)?;
    row.map(|r| r.0).ok_or(StoreError::NotFound)
}
