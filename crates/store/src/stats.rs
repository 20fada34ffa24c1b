//! Statistics (ARCHITECTURE.md "Statistics"): writes append deltas in their own transaction;
//! [`rollup`] folds waiting deltas into region × period sums and deletes exactly the deltas it
//! consumed (in one snapshot: PostgreSQL ids commit out of order). Reads are point lookups.

use std::collections::HashMap;

use chrono::NaiveDate;
use wushe_domain::stats::{periods_of, regions_of};

use crate::{on_db, on_tx, Db, StoreError, Tx};

/// One change to a figure at a place (12-digit division code) on a local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub metric: String,
    pub division_code: String,
    pub day: NaiveDate,
    pub amount: i64,
}

impl Delta {
    pub fn new(metric: impl Into<String>, division_code: &str, day: NaiveDate, amount: i64) -> Delta {
        Delta { metric: metric.into(), division_code: division_code.to_string(), day, amount }
    }
}

/// Append deltas in the caller's transaction (the write and its figures commit together).
/// Deltas of the same figure, region and day are summed first (a batch of check-ins at one
/// activity is one row), and sums of zero are left out.
pub async fn append(tx: &mut Tx, deltas: &[Delta]) -> Result<(), StoreError> {
    let mut sums: std::collections::BTreeMap<(&str, &str, NaiveDate), i64> = std::collections::BTreeMap::new();
    for d in deltas {
        *sums.entry((&d.metric, &d.division_code, d.day)).or_default() += d.amount;
    }
    let deltas: Vec<Delta> =
        sums.into_iter().filter(|(_, n)| *n != 0).map(|((m, code, day), n)| Delta::new(m, code, day, n)).collect();
    for chunk in crate::query::statement_chunks(tx.backend(), &deltas) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO stat_deltas (metric, division_code, day, amount) ");
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(&d.metric).push_bind(&d.division_code).push_bind(d.day).push_bind(d.amount);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Deltas folded per rollup transaction.
pub const ROLLUP_BATCH: i64 = 20_000;

/// Fold up to `ROLLUP_BATCH` waiting deltas into the rollups; returns how many it consumed.
///
/// The deltas are summed by the database and only the sums are read: the rollup holds the
/// one SQLite writer (docs/decisions/0013). The consumed deltas
/// are those with ids up to the largest summed, all read and deleted in one snapshot: the
/// SQLite writer excludes every other write, and on PostgreSQL the transaction is
/// REPEATABLE READ, so a delta committed meanwhile with a smaller id (sequences hand out ids
/// before commit) is neither summed nor deleted, and a second rollup running at the same
/// time fails instead of counting the same deltas twice.
pub async fn rollup(db: &Db) -> Result<usize, StoreError> {
    let mut tx = db.begin().await?;
    if let crate::db::TxConn::Postgres(c) = &mut tx.conn {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut **c).await?;
    }
    let groups: Vec<(String, String, NaiveDate, i64, i64, i64)> = on_tx!(&mut tx, |c| sqlx::query_as(
        "SELECT metric, division_code, day, CAST(SUM(amount) AS BIGINT), COUNT(*), MAX(id) \
         FROM (SELECT id, metric, division_code, day, amount FROM stat_deltas ORDER BY id LIMIT $1) d \
         GROUP BY metric, division_code, day"
    )
    .bind(ROLLUP_BATCH)
    .fetch_all(c)
    .await)?;
    let Some(last) = groups.iter().map(|g| g.5).max() else {
        return Ok(0);
    };
    let mut sums: HashMap<(String, String, String), i64> = HashMap::new();
    for (metric, code, day, amount, _, _) in &groups {
        for period in periods_of(*day) {
            for region in regions_of(code) {
                *sums.entry((metric.clone(), period.clone(), region.to_string())).or_default() += amount;
            }
        }
    }
    let now = crate::time::now();
    let sums: Vec<_> = sums.into_iter().collect();
    for chunk in crate::query::statement_chunks(tx.backend(), &sums) {
        on_tx!(&mut tx, |c| {
            let mut qb =
                sqlx::QueryBuilder::new("INSERT INTO stat_rollups (metric, period, region, value, updated_at) ");
            qb.push_values(chunk, |mut b, ((m, p, r), v)| {
                b.push_bind(m).push_bind(p).push_bind(r).push_bind(*v).push_bind(now);
            });
            qb.push(
                " ON CONFLICT (metric, period, region) DO UPDATE SET value = stat_rollups.value + excluded.value, \
                 updated_at = excluded.updated_at",
            );
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    let consumed = on_tx!(&mut tx, |c| sqlx::query("DELETE FROM stat_deltas WHERE id <= $1")
        .bind(last)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    let counted: i64 = groups.iter().map(|g| g.4).sum();
    if consumed != counted as u64 {
        // cannot happen in one snapshot; refuse rather than lose or double a figure
        tx.rollback().await?;
        return Err(StoreError::Conflict(format!("统计增量汇总不一致：汇总 {counted} 条，删除 {consumed} 条")));
    }
    tx.commit().await?;
    Ok(consumed as usize)
}

/// Fold every waiting delta (tests, the bench, and the worker's catch-up).
pub async fn rollup_all(db: &Db) -> Result<usize, StoreError> {
    let mut n = 0;
    loop {
        let k = rollup(db).await?;
        if k == 0 {
            return Ok(n);
        }
        n += k;
    }
}

/// Fold the deltas waiting now, in full batches while there is a backlog. Deltas appended
/// meanwhile wait for the next call: chasing them under a steady write load kept the
/// writer connection in a rollup transaction (with its own flush) between every batch.
pub async fn rollup_waiting(db: &Db) -> Result<usize, StoreError> {
    let mut n = 0;
    loop {
        let k = rollup(db).await?;
        n += k;
        if k < ROLLUP_BATCH as usize {
            return Ok(n);
        }
    }
}

/// One figure: a metric for a region ("" national, or a code prefix) and a period key.
pub async fn value(db: &Db, metric: &str, region: &str, period: &str) -> Result<i64, StoreError> {
    let v: Option<(i64,)> = on_db!(db, |c| sqlx::query_as(
        "SELECT value FROM stat_rollups WHERE metric = $1 AND period = $2 AND region = $3"
    )
    .bind(metric)
    .bind(period)
    .bind(region)
    .fetch_optional(c)
    .await)?;
    Ok(v.map_or(0, |r| r.0))
}

/// Several periods of one metric for one region (e.g. the twelve months of a year).
pub async fn series(db: &Db, metric: &str, region: &str, periods: &[String]) -> Result<Vec<i64>, StoreError> {
    let mut out = Vec::with_capacity(periods.len());
    for p in periods {
        out.push(value(db, metric, region, p).await?);
    }
    Ok(out)
}

/// The figures of a region's direct children (prefixes of `child_len` digits) for a period.
pub async fn children(
    db: &Db,
    metric: &str,
    parent: &str,
    child_len: usize,
    period: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let (lo, hi) = (parent.to_string(), format!("{parent}\u{10FFFF}"));
    let rows: Vec<(String, i64)> = on_db!(db, |c| sqlx::query_as(
        "SELECT region, value FROM stat_rollups WHERE metric = $1 AND period = $2 AND region > $3 AND region < $4 \
         AND LENGTH(region) = $5 ORDER BY region"
    )
    .bind(metric)
    .bind(period)
    .bind(&lo)
    .bind(&hi)
    .bind(child_len as i64)
    .fetch_all(c)
    .await)?;
    Ok(rows)
}

/// A stock at the end of `year` (registered volunteers, star holders): the sum of the
/// metric's year figures through that year, for one region.
pub async fn through_year(db: &Db, metric: &str, region: &str, year: i32) -> Result<i64, StoreError> {
    let years = wushe_domain::stats::years_through(year);
    let (n,): (i64,) = on_db!(db, |c| {
        let mut qb =
            sqlx::QueryBuilder::new("SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM stat_rollups WHERE metric = ");
        qb.push_bind(metric).push(" AND region = ").push_bind(region).push(" AND period IN (");
        let mut sep = qb.separated(", ");
        for y in &years {
            sep.push_bind(y);
        }
        qb.push(")");
        qb.build_query_as().fetch_one(c).await
    })?;
    Ok(n)
}

/// The same stock for each direct child of `parent` (`child_len` significant digits).
pub async fn children_through_year(
    db: &Db,
    metric: &str,
    parent: &str,
    child_len: usize,
    year: i32,
) -> Result<Vec<(String, i64)>, StoreError> {
    let years = wushe_domain::stats::years_through(year);
    let (lo, hi) = (parent.to_string(), format!("{parent}\u{10FFFF}"));
    Ok(on_db!(db, |c| {
        let mut qb =
            sqlx::QueryBuilder::new("SELECT region, CAST(SUM(value) AS BIGINT) FROM stat_rollups WHERE metric = ");
        qb.push_bind(metric).push(" AND region > ").push_bind(&lo).push(" AND region < ").push_bind(&hi);
        qb.push(" AND LENGTH(region) = ").push_bind(child_len as i64).push(" AND period IN (");
        let mut sep = qb.separated(", ");
        for y in &years {
            sep.push_bind(y);
        }
        qb.push(") GROUP BY region ORDER BY region");
        qb.build_query_as().fetch_all(c).await
    })?)
}

/// Deltas not yet folded (how far behind the figures are).
pub async fn pending(db: &Db) -> Result<i64, StoreError> {
    crate::query::fetch_count(db, "SELECT COUNT(*) FROM stat_deltas", &[]).await
}
