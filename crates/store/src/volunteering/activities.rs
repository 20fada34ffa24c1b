//! Activities and their time slots.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use wushe_domain::accounts::Scope;
use wushe_domain::registry::search;

use crate::query::{self, Filter, Param};
use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ActivityRow {
    pub id: i64,
    pub organization_id: i64,
    pub organization_name: String,
    pub title: String,
    pub content: String,
    pub category: String,
    pub division_code: String,
    pub address: String,
    pub latitude_e6: Option<i64>,
    pub longitude_e6: Option<i64>,
    pub checkin_radius_m: Option<i64>,
    pub required_skills: String,
    pub min_age: Option<i64>,
    pub risky: bool,
    pub timebank: bool,
    pub auto_approve: bool,
    pub recruit_until: Option<DateTime<Utc>>,
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

const COLS: &str = "a.id, a.organization_id, o.name AS organization_name, a.title, a.content, a.category, \
    a.division_code, a.address, a.latitude_e6, a.longitude_e6, a.checkin_radius_m, a.required_skills, a.min_age, \
    a.risky, a.timebank, a.auto_approve, a.recruit_until, a.status, a.starts_at, a.ends_at, a.created_at";

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SlotRow {
    pub id: i64,
    pub activity_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i64,
    /// Sign-ups holding a place.
    pub approved: i64,
    /// Sign-ups waiting for a place.
    pub waitlisted: i64,
    /// Sign-ups waiting for the organization's decision.
    pub pending: i64,
}

pub struct NewActivity<'a> {
    pub organization_id: i64,
    pub title: &'a str,
    pub content: &'a str,
    pub category: &'a str,
    pub division_code: &'a str,
    pub address: &'a str,
    pub latitude_e6: Option<i64>,
    pub longitude_e6: Option<i64>,
    pub checkin_radius_m: Option<i64>,
    pub required_skills: &'a str,
    pub min_age: Option<i64>,
    pub risky: bool,
    pub timebank: bool,
    pub auto_approve: bool,
    pub recruit_until: Option<DateTime<Utc>>,
    pub status: &'a str,
    pub checkin_secret: &'a [u8],
    /// (starts, ends, capacity), at least one.
    pub slots: &'a [(DateTime<Utc>, DateTime<Utc>, i64)],
    pub created_by: Option<i64>,
}

pub async fn insert(tx: &mut Tx, a: &NewActivity<'_>) -> Result<i64, StoreError> {
    let starts = a.slots.iter().map(|s| s.0).min().ok_or_else(|| StoreError::Integrity("活动没有时段".into()))?;
    let ends = a.slots.iter().map(|s| s.1).max().unwrap_or(starts);
    let now = crate::time::now();
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO activities (organization_id, title, title_folded, content, category, division_code, address, \
         latitude_e6, longitude_e6, checkin_radius_m, required_skills, min_age, risky, timebank, auto_approve, \
         recruit_until, status, checkin_secret, starts_at, ends_at, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22) \
         RETURNING id"
    )
    .bind(a.organization_id)
    .bind(a.title)
    .bind(search::fold(a.title))
    .bind(a.content)
    .bind(a.category)
    .bind(a.division_code)
    .bind(a.address)
    .bind(a.latitude_e6)
    .bind(a.longitude_e6)
    .bind(a.checkin_radius_m)
    .bind(a.required_skills)
    .bind(a.min_age)
    .bind(a.risky)
    .bind(a.timebank)
    .bind(a.auto_approve)
    .bind(a.recruit_until)
    .bind(a.status)
    .bind(a.checkin_secret)
    .bind(starts)
    .bind(ends)
    .bind(a.created_by)
    .bind(now)
    .fetch_one(c)
    .await
    })?;
    for chunk in a.slots.chunks(200) {
        on_tx!(tx, |c| {
            let mut qb =
                sqlx::QueryBuilder::new("INSERT INTO activity_slots (activity_id, starts_at, ends_at, capacity) ");
            qb.push_values(chunk, |mut b, (s, e, cap)| {
                b.push_bind(id).push_bind(*s).push_bind(*e).push_bind(*cap);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(id)
}

/// Move an activity from `from` to `to` (the caller checked the rule); Conflict if it changed.
pub async fn set_status(tx: &mut Tx, id: i64, from: &str, to: &str) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE activities SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4"
    )
    .bind(to)
    .bind(crate::time::now())
    .bind(id)
    .bind(from)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::Conflict("活动状态已被他人修改，请刷新后重试".into()));
    }
    Ok(())
}

/// Who is asking for activities.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// Staff and officials: everything in their scope, in any status.
    Scoped(Scope),
    /// Volunteers and the public: published and finished activities anywhere.
    Public,
}

#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Title fragment.
    pub q: Option<String>,
    /// Region subtree (significant digits).
    pub region: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub organization_id: Option<i64>,
    /// Only activities that have not ended by this instant.
    pub upcoming_after: Option<DateTime<Utc>>,
    /// Near a point: (latitude_e6, longitude_e6, radius in metres), by bounding box.
    pub near: Option<(i64, i64, i64)>,
}

fn filter(viewer: &Viewer, f: &ActivityFilter) -> Filter {
    let mut w = Filter::new();
    match viewer {
        Viewer::Scoped(scope) => match scope.organization_id {
            Some(org) => {
                w.and("a.organization_id = {}", vec![Param::Int(org)]);
            }
            None => {
                w.within_division("a.division_code", &scope.division);
            }
        },
        Viewer::Public => {
            w.and("a.status IN ('published', 'closed')", vec![]);
        }
    }
    if let Some(r) = f.region.as_deref().filter(|r| !r.is_empty()) {
        w.within_division("a.division_code", r);
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        w.and(
            "a.title_folded LIKE {} ESCAPE '\\'",
            vec![Param::Text(format!("%{}%", crate::escape_like(&search::fold(q))))],
        );
    }
    if let Some(c) = f.category.as_deref().filter(|c| !c.is_empty()) {
        w.and("a.category = {}", vec![Param::Text(c.to_string())]);
    }
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        w.and("a.status = {}", vec![Param::Text(s.to_string())]);
    }
    if let Some(o) = f.organization_id {
        w.and("a.organization_id = {}", vec![Param::Int(o)]);
    }
    if let Some(t) = f.upcoming_after {
        w.and("a.ends_at > {}", vec![Param::Time(t)]);
    }
    if let Some((lat, lng, r)) = f.near {
        // 1e-6 degree of latitude ≈ 0.111 m; longitude shrinks with cos(latitude)
        let dlat = r * 9;
        let cos = (lat as f64 / 1e6).to_radians().cos().max(0.1);
        let dlng = (r as f64 * 9.0 / cos) as i64;
        w.and(
            "a.latitude_e6 BETWEEN {} AND {} AND a.longitude_e6 BETWEEN {} AND {}",
            vec![Param::Int(lat - dlat), Param::Int(lat + dlat), Param::Int(lng - dlng), Param::Int(lng + dlng)],
        );
    }
    w
}

/// Activities, soonest first for upcoming lists, newest first otherwise.
pub async fn list(db: &Db, viewer: &Viewer, f: &ActivityFilter, page: &Page) -> Result<Paged<ActivityRow>, StoreError> {
    let w = filter(viewer, f);
    let fw = format!(" FROM activities a JOIN organizations o ON o.id = a.organization_id{}", w.where_sql());
    let (total, capped) = query::fetch_count_capped(db, &fw, &w.params, query::COUNT_CAP).await?;
    let n = w.next_placeholder();
    let order = if f.upcoming_after.is_some() { "a.starts_at, a.id" } else { "a.starts_at DESC, a.id DESC" };
    let sql = format!("SELECT {COLS}{fw} ORDER BY {order} LIMIT ${n} OFFSET ${}", n + 1);
    let mut params = w.params.clone();
    params.push(Param::Int(page.limit()));
    params.push(Param::Int(page.offset()));
    let items = query::fetch_all(db, &sql, &params).await?;
    Ok(Paged { items, total, capped, page: page.clone() })
}

/// One activity the viewer may see.
pub async fn get(db: &Db, viewer: &Viewer, id: i64) -> Result<ActivityRow, StoreError> {
    let mut w = filter(viewer, &ActivityFilter::default());
    w.and("a.id = {}", vec![Param::Int(id)]);
    let sql =
        format!("SELECT {COLS} FROM activities a JOIN organizations o ON o.id = a.organization_id{}", w.where_sql());
    query::fetch_all::<ActivityRow>(db, &sql, &w.params).await?.into_iter().next().ok_or(StoreError::NotFound)
}

/// An activity by id inside a write transaction (no scope: the caller checks its rule).
pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<ActivityRow, StoreError> {
    let sql =
        format!("SELECT {COLS} FROM activities a JOIN organizations o ON o.id = a.organization_id WHERE a.id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, ActivityRow>(&sql).bind(id).fetch_optional(c).await)?.ok_or(StoreError::NotFound)
}

/// What recording hours needs of an activity (a confirmation batch reads dozens).
#[derive(Debug, Clone, FromRow)]
pub struct Recording {
    pub id: i64,
    pub organization_id: i64,
    pub division_code: String,
    pub category: String,
    pub timebank: bool,
}

const RECORDING: &str = "SELECT id, organization_id, division_code, category, timebank FROM activities";

/// Several activities for recording hours, by id (unknown ids are left out).
pub async fn recording_many_tx(
    tx: &mut Tx,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Recording>, StoreError> {
    let head = format!("{RECORDING} WHERE id IN (");
    let rows: Vec<Recording> = crate::query::fetch_in_tx(tx, &head, ids, ")").await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// One activity for recording hours.
pub async fn recording_tx(tx: &mut Tx, id: i64) -> Result<Recording, StoreError> {
    recording_many_tx(tx, &[id]).await?.remove(&id).ok_or(StoreError::NotFound)
}

/// Several activities by id inside a write transaction (unknown ids are left out).
pub async fn get_many_tx(tx: &mut Tx, ids: &[i64]) -> Result<std::collections::HashMap<i64, ActivityRow>, StoreError> {
    let head =
        format!("SELECT {COLS} FROM activities a JOIN organizations o ON o.id = a.organization_id WHERE a.id IN (");
    let rows: Vec<ActivityRow> = crate::query::fetch_in_tx(tx, &head, ids, ")").await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// The secret behind an activity's rotating check-in code.
pub async fn checkin_secret(db: &Db, id: i64) -> Result<Vec<u8>, StoreError> {
    let row: Option<(Vec<u8>,)> =
        on_db!(db, |c| sqlx::query_as("SELECT checkin_secret FROM activities WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?;
    row.map(|r| r.0).ok_or(StoreError::NotFound)
}

const SLOT_COLS: &str = "s.id, s.activity_id, s.starts_at, s.ends_at, s.capacity, s.approved, \
    (SELECT COUNT(*) FROM signups g WHERE g.slot_id = s.id AND g.status = 'waitlisted') AS waitlisted, \
    (SELECT COUNT(*) FROM signups g WHERE g.slot_id = s.id AND g.status = 'pending') AS pending";

pub async fn slots(db: &Db, activity_id: i64) -> Result<Vec<SlotRow>, StoreError> {
    let sql = format!("SELECT {SLOT_COLS} FROM activity_slots s WHERE s.activity_id = $1 ORDER BY s.starts_at, s.id");
    Ok(on_db!(db, |c| sqlx::query_as::<_, SlotRow>(&sql).bind(activity_id).fetch_all(c).await)?)
}

pub async fn slot_tx(tx: &mut Tx, slot_id: i64) -> Result<SlotRow, StoreError> {
    let sql = format!("SELECT {SLOT_COLS} FROM activity_slots s WHERE s.id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, SlotRow>(&sql).bind(slot_id).fetch_optional(c).await)?
        .ok_or(StoreError::NotFound)
}

/// The check-in secrets of several activities.
pub async fn checkin_secrets_tx(
    tx: &mut Tx,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<u8>>, StoreError> {
    let rows: Vec<(i64, Vec<u8>)> =
        crate::query::fetch_in_tx(tx, "SELECT id, checkin_secret FROM activities WHERE id IN (", ids, ")").await?;
    Ok(rows.into_iter().collect())
}

pub async fn checkin_secret_tx(tx: &mut Tx, id: i64) -> Result<Vec<u8>, StoreError> {
    let row: Option<(Vec<u8>,)> =
        on_tx!(tx, |c| sqlx::query_as("SELECT checkin_secret FROM activities WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?;
    row.map(|r| r.0).ok_or(StoreError::NotFound)
}
