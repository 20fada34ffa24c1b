//! Spot-checks of hour records (抽查): the population a sample is drawn from, the check and
//! its sampled records with a finding each, the officials' and the public lists, and the
//! follow-ups an organization must act on. The draw itself is a domain rule
//! (`domain::volunteering::spot_check::draw`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

use crate::query::{self, Filter, Param};
use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

/// The records a check samples from: confirmed records in force at `as_of` whose place is
/// in `region` and whose service day is in the period. A record superseded by a correction
/// confirmed after `as_of` still counts (it was in force then), and so does one voided after
/// `as_of`, so the same query repeated later reads the population the draw saw. Each record id goes to `each`, in ascending
/// order, as the rows stream in (a province's year is never held at once).
pub async fn population(
    db: &Db,
    region: &str,
    from: NaiveDate,
    to: NaiveDate,
    as_of: DateTime<Utc>,
    mut each: impl FnMut(i64),
) -> Result<(), StoreError> {
    use futures_util::TryStreamExt;
    let (lo, hi) = wushe_domain::accounts::division_range(region);
    let sql = "SELECT r.id FROM service_records r \
         WHERE r.division_code >= $1 AND r.division_code <= $2 AND r.service_date >= $3 AND r.service_date <= $4 \
         AND r.confirmed_at <= $5 AND NOT EXISTS (SELECT 1 FROM service_records n \
         WHERE n.supersedes_id = r.id AND n.confirmed_at <= $5) AND NOT EXISTS (SELECT 1 FROM record_corrections v \
         WHERE v.record_id = r.id AND v.void = TRUE AND v.status = 'approved' AND v.reviewed_at <= $5) ORDER BY r.id";
    on_db!(db, |c| {
        let mut rows = sqlx::query_as::<_, (i64,)>(sql).bind(&lo).bind(&hi).bind(from).bind(to).bind(as_of).fetch(c);
        while let Some((id,)) = rows.try_next().await? {
            each(id);
        }
        Ok::<(), sqlx::Error>(())
    })?;
    Ok(())
}

/// The organizations of some records: (record id, organization id).
pub async fn organizations_of(db: &Db, record_ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut out = Vec::with_capacity(record_ids.len());
    for chunk in record_ids.chunks(500) {
        let rows: Vec<(i64, i64)> = on_db!(db, |c| {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, organization_id FROM service_records WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

pub struct NewCheck<'a> {
    pub region: &'a str,
    pub title: &'a str,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub sample_mode: &'a str,
    pub sample_param: i64,
    pub seed: &'a str,
    pub population: i64,
    pub population_digest: &'a str,
    pub drawn_at: DateTime<Utc>,
    pub created_by: i64,
    pub created_by_name: &'a str,
    /// The sample in draw order: (record id, organization id).
    pub sample: &'a [(i64, i64)],
}

/// Record a check and its sample (in progress).
pub async fn insert(tx: &mut Tx, c_: &NewCheck<'_>) -> Result<i64, StoreError> {
    let (id,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO spot_checks (region, title, period_from, period_to, sample_mode, sample_param, seed, population, \
         population_digest, sample_size, drawn_at, status, created_by, created_by_name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'in_progress', $12, $13) RETURNING id"
    )
    .bind(c_.region)
    .bind(c_.title)
    .bind(c_.period_from)
    .bind(c_.period_to)
    .bind(c_.sample_mode)
    .bind(c_.sample_param)
    .bind(c_.seed)
    .bind(c_.population)
    .bind(c_.population_digest)
    .bind(c_.sample.len() as i64)
    .bind(c_.drawn_at)
    .bind(c_.created_by)
    .bind(c_.created_by_name)
    .fetch_one(c)
    .await
    })?;
    for (k, chunk) in c_.sample.chunks(500).enumerate() {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO spot_check_items (spot_check_id, record_id, position, organization_id) ",
            );
            qb.push_values(chunk.iter().enumerate(), |mut b, (i, (rid, org))| {
                b.push_bind(id).push_bind(*rid).push_bind((k * 500 + i + 1) as i64).push_bind(*org);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(id)
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CheckRow {
    pub id: i64,
    /// The region checked (significant digits).
    pub region: String,
    pub title: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub sample_mode: String,
    pub sample_param: i64,
    pub seed: String,
    pub population: i64,
    pub population_digest: String,
    pub sample_size: i64,
    pub drawn_at: DateTime<Utc>,
    pub status: String,
    pub conclusion: Option<String>,
    pub created_by: i64,
    pub created_by_name: String,
    pub completed_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub genuine: i64,
    pub untrue: i64,
    pub doubtful: i64,
    pub unchecked: i64,
}

const COLS: &str = "c.id, c.region, c.title, c.period_from, c.period_to, c.sample_mode, c.sample_param, c.seed, \
    c.population, c.population_digest, c.sample_size, c.drawn_at, c.status, c.conclusion, c.created_by, \
    c.created_by_name, c.completed_at, c.published_at, \
    (SELECT COUNT(*) FROM spot_check_items i WHERE i.spot_check_id = c.id AND i.finding = 'genuine') AS genuine, \
    (SELECT COUNT(*) FROM spot_check_items i WHERE i.spot_check_id = c.id AND i.finding = 'untrue') AS untrue, \
    (SELECT COUNT(*) FROM spot_check_items i WHERE i.spot_check_id = c.id AND i.finding = 'doubtful') AS doubtful, \
    (SELECT COUNT(*) FROM spot_check_items i WHERE i.spot_check_id = c.id AND i.finding IS NULL) AS unchecked";

/// Who lists checks: officials see every check of a region inside theirs (any stage); the
/// public sees published checks only.
#[derive(Debug, Clone)]
pub enum CheckViewer {
    Region(String),
    Public,
}

fn visible(v: &CheckViewer, w: &mut Filter) {
    match v {
        CheckViewer::Region(scope) => {
            // the check's region starts with the scope (codes are digits: nothing to escape)
            w.and("c.region LIKE {}", vec![Param::Text(format!("{scope}%"))]);
        }
        CheckViewer::Public => {
            w.and("c.status = 'published'", vec![]);
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CheckFilter {
    pub status: Option<String>,
    /// Checks of this region or inside it.
    pub region: Option<String>,
}

/// Checks, newest first (published ones by publication for the public).
pub async fn list(db: &Db, v: &CheckViewer, f: &CheckFilter, page: &Page) -> Result<Paged<CheckRow>, StoreError> {
    let mut w = Filter::new();
    visible(v, &mut w);
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        w.and("c.status = {}", vec![Param::Text(s.to_string())]);
    }
    if let Some(r) = f.region.as_deref().filter(|r| !r.is_empty()) {
        w.and("c.region LIKE {}", vec![Param::Text(format!("{r}%"))]);
    }
    let fw = format!(" FROM spot_checks c{}", w.where_sql());
    let (total, capped) = query::fetch_count_capped(db, &fw, &w.params, query::COUNT_CAP).await?;
    let n = w.next_placeholder();
    let order = match v {
        CheckViewer::Public => "c.published_at DESC, c.id DESC",
        CheckViewer::Region(_) => "c.id DESC",
    };
    let sql = format!("SELECT {COLS}{fw} ORDER BY {order} LIMIT ${n} OFFSET ${}", n + 1);
    let mut params = w.params.clone();
    params.push(Param::Int(page.limit()));
    params.push(Param::Int(page.offset()));
    let items = query::fetch_all(db, &sql, &params).await?;
    Ok(Paged { items, total, capped, page: page.clone() })
}

/// One check the viewer may see.
pub async fn get(db: &Db, v: &CheckViewer, id: i64) -> Result<CheckRow, StoreError> {
    let mut w = Filter::new();
    visible(v, &mut w);
    w.and("c.id = {}", vec![Param::Int(id)]);
    let sql = format!("SELECT {COLS} FROM spot_checks c{}", w.where_sql());
    query::fetch_all::<CheckRow>(db, &sql, &w.params).await?.into_iter().next().ok_or(StoreError::NotFound)
}

/// One check inside a write transaction (the caller checks who may act on it).
pub async fn get_tx(tx: &mut Tx, id: i64) -> Result<CheckRow, StoreError> {
    let sql = format!("SELECT {COLS} FROM spot_checks c WHERE c.id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, CheckRow>(&sql).bind(id).fetch_optional(c).await)?.ok_or(StoreError::NotFound)
}

/// A sampled record with what was found.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ItemRow {
    pub spot_check_id: i64,
    pub record_id: i64,
    pub position: i64,
    pub organization_id: i64,
    pub organization_name: String,
    pub finding: Option<String>,
    pub note: Option<String>,
    pub checked_by_name: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
    pub record_uid: String,
    pub person_id: i64,
    pub person_name: String,
    pub volunteer_number: String,
    pub activity_id: i64,
    pub activity_title: String,
    pub division_code: String,
    pub service_date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub credited_minutes: i64,
    /// The record was corrected since (a newer record supersedes it).
    pub superseded: bool,
    /// Withdrawn by an approved void correction (superseded with no successor).
    pub voided: bool,
    /// The latest correction request of the record (pending / approved / rejected).
    pub correction_status: Option<String>,
}

const ITEM_COLS: &str = "i.spot_check_id, i.record_id, i.position, i.organization_id, o.name AS organization_name, \
    i.finding, i.note, i.checked_by_name, i.checked_at, r.uid AS record_uid, r.person_id, p.name AS person_name, \
    v.volunteer_number, r.activity_id, a.title AS activity_title, r.division_code, r.service_date, r.started_at, \
    r.ended_at, r.credited_minutes, r.superseded, \
    CASE WHEN r.superseded THEN EXISTS (SELECT 1 FROM record_corrections k WHERE k.record_id = r.id \
    AND k.void = TRUE AND k.status = 'approved') ELSE FALSE END AS voided, \
    (SELECT rc.status FROM record_corrections rc WHERE rc.record_id = r.id ORDER BY rc.id DESC LIMIT 1) \
    AS correction_status";
const ITEM_FROM: &str = " FROM spot_check_items i JOIN service_records r ON r.id = i.record_id \
    JOIN activities a ON a.id = r.activity_id JOIN organizations o ON o.id = i.organization_id \
    JOIN people p ON p.id = r.person_id JOIN volunteers v ON v.person_id = r.person_id";

/// The sample of a check, in draw order.
pub async fn items(db: &Db, check_id: i64) -> Result<Vec<ItemRow>, StoreError> {
    let sql = format!("SELECT {ITEM_COLS}{ITEM_FROM} WHERE i.spot_check_id = $1 ORDER BY i.position");
    Ok(on_db!(db, |c| sqlx::query_as::<_, ItemRow>(&sql).bind(check_id).fetch_all(c).await)?)
}

/// The findings of a check inside a write transaction: (record id, finding).
pub async fn findings_tx(tx: &mut Tx, check_id: i64) -> Result<Vec<(i64, Option<String>)>, StoreError> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT record_id, finding FROM spot_check_items WHERE spot_check_id = $1 ORDER BY position"
    )
    .bind(check_id)
    .fetch_all(c)
    .await)?)
}

pub struct NewFinding<'a> {
    pub finding: &'a str,
    pub note: Option<&'a str>,
    pub by: i64,
    pub by_name: &'a str,
}

/// Record (or change) the finding for one sampled record of a check in progress.
pub async fn set_finding(tx: &mut Tx, check_id: i64, record_id: i64, f: &NewFinding<'_>) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE spot_check_items SET finding = $1, note = $2, checked_by = $3, checked_by_name = $4, checked_at = $5 \
         WHERE spot_check_id = $6 AND record_id = $7 \
         AND EXISTS (SELECT 1 FROM spot_checks c WHERE c.id = $6 AND c.status = 'in_progress')"
    )
    .bind(f.finding)
    .bind(f.note)
    .bind(f.by)
    .bind(f.by_name)
    .bind(crate::time::now())
    .bind(check_id)
    .bind(record_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(StoreError::Conflict("该记录不在本次抽查的样本中，或抽查已完成".into()));
    }
    Ok(())
}

/// Close a check in progress with its conclusion.
pub async fn complete(tx: &mut Tx, id: i64, conclusion: &str, by: i64) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE spot_checks SET status = 'completed', conclusion = $1, completed_at = $2, completed_by = $3 \
         WHERE id = $4 AND status = 'in_progress'"
    )
    .bind(conclusion)
    .bind(crate::time::now())
    .bind(by)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::Conflict("抽查已完成，不能重复完成".into()));
    }
    Ok(())
}

/// Publish a completed check.
pub async fn publish(tx: &mut Tx, id: i64, by: i64) -> Result<(), StoreError> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE spot_checks SET status = 'published', published_at = $1, published_by = $2 \
         WHERE id = $3 AND status = 'completed'"
    )
    .bind(crate::time::now())
    .bind(by)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::Conflict("只有已完成且尚未公开的抽查可以公开".into()));
    }
    Ok(())
}

/// A sampled record found untrue or doubtful, with the check it was found in.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FlaggedRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub item: ItemRow,
    pub check_title: String,
    pub check_region: String,
    pub check_status: String,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Who sees follow-ups: an organization its own records; officials those of their region.
#[derive(Debug, Clone)]
pub enum FlaggedViewer {
    Organization(i64),
    Region(String),
}

/// Records found untrue or doubtful in completed or published checks, newest check first.
pub async fn flagged(db: &Db, v: &FlaggedViewer, page: &Page) -> Result<Paged<FlaggedRow>, StoreError> {
    let mut w = Filter::new();
    w.and("i.finding IN ('untrue', 'doubtful') AND c.status IN ('completed', 'published')", vec![]);
    match v {
        FlaggedViewer::Organization(org) => {
            w.and("i.organization_id = {}", vec![Param::Int(*org)]);
        }
        FlaggedViewer::Region(scope) => {
            w.within_division("r.division_code", scope);
        }
    }
    let fw = format!("{ITEM_FROM} JOIN spot_checks c ON c.id = i.spot_check_id{}", w.where_sql());
    let (total, capped) = query::fetch_count_capped(db, &fw, &w.params, query::COUNT_CAP).await?;
    let n = w.next_placeholder();
    let sql = format!(
        "SELECT {ITEM_COLS}, c.title AS check_title, c.region AS check_region, c.status AS check_status, \
         c.completed_at{fw} ORDER BY c.id DESC, i.position LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let mut params = w.params.clone();
    params.push(Param::Int(page.limit()));
    params.push(Param::Int(page.offset()));
    let items = query::fetch_all(db, &sql, &params).await?;
    Ok(Paged { items, total, capped, page: page.clone() })
}
