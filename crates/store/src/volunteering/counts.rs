//! The summable parts behind officials' volunteer counts (`domain::volunteering::counts`):
//! the years in which a volunteer has a record in force (a year turning active or inactive
//! is one delta at the volunteer's home region), registration changes, and time-bank coins
//! held by the people of a region.

use chrono::{Datelike, NaiveDate};
use wushe_domain::stats::metric;
use wushe_domain::timebank::ledger::Ledger;
use wushe_domain::volunteering::counts::{active_day, enrolment_deltas, Enrolment};

use crate::stats::{self, Delta};
use crate::{on_db, on_tx, Db, StoreError, Tx};

/// Records in force were added, one per (person, service date): a volunteer's first record
/// of a year makes the year active (returned as deltas to append, at the home region).
/// A year already active is found and left as it is, so it costs no write.
pub async fn records_added(tx: &mut Tx, added: &[(i64, NaiveDate)]) -> Result<Vec<Delta>, StoreError> {
    // one row per (person, year), dated by its first record
    let mut per_year: std::collections::BTreeMap<(i64, i64), NaiveDate> = std::collections::BTreeMap::new();
    for (person, day) in added {
        let first = per_year.entry((*person, i64::from(day.year()))).or_insert(*day);
        *first = (*first).min(*day);
    }
    let rows: Vec<((i64, i64), NaiveDate)> = per_year.into_iter().collect();
    let mut out = Vec::new();
    for chunk in crate::query::statement_chunks(tx.backend(), &rows) {
        let became_active: Vec<(i64, i64, String)> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO volunteer_years (person_id, year, division_code) \
                 SELECT v.column1, v.column2, p.division_code FROM (",
            );
            qb.push_values(chunk, |mut b, ((person, year), _)| {
                b.push_bind(*person).push_bind(*year);
            });
            qb.push(
                ") v JOIN people p ON p.id = v.column1 WHERE TRUE \
                 ON CONFLICT (person_id, year) DO NOTHING RETURNING person_id, year, division_code",
            );
            qb.build_query_as().fetch_all(c).await
        })?;
        let first: std::collections::HashMap<(i64, i64), NaiveDate> = chunk.iter().copied().collect();
        for (person, year, division) in became_active {
            if let Some(day) = first.get(&(person, year)) {
                out.push(Delta::new(metric::ACTIVE_VOLUNTEERS, &division, active_day(*day), 1));
            }
        }
    }
    Ok(out)
}

/// A record left its year (superseded or voided, already marked): if the volunteer has no
/// other record in force dated in that year, the year is no longer active, and its delta
/// is taken back where it was counted.
pub async fn record_removed(tx: &mut Tx, person_id: i64, service_date: NaiveDate) -> Result<Option<Delta>, StoreError> {
    let year = service_date.year();
    let (from, to) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31));
    let (Some(from), Some(to)) = (from, to) else { return Ok(None) };
    let left: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT person_id FROM service_records WHERE person_id = $1 AND superseded = FALSE \
         AND service_date >= $2 AND service_date <= $3 LIMIT 1"
    )
    .bind(person_id)
    .bind(from)
    .bind(to)
    .fetch_optional(c)
    .await)?;
    if left.is_some() {
        return Ok(None);
    }
    let gone: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as(
        "DELETE FROM volunteer_years WHERE person_id = $1 AND year = $2 RETURNING division_code"
    )
    .bind(person_id)
    .bind(i64::from(year))
    .fetch_optional(c)
    .await)?;
    Ok(gone.map(|(division,)| Delta::new(metric::ACTIVE_VOLUNTEERS, &division, active_day(service_date), -1)))
}

/// What the registered-volunteer count knows of a person (None: not a volunteer).
pub async fn enrolment_tx(tx: &mut Tx, person_id: i64) -> Result<Option<Enrolment>, StoreError> {
    let row: Option<(String, NaiveDate, Option<NaiveDate>)> = on_tx!(tx, |c| sqlx::query_as(
        "SELECT p.division_code, v.registered_on, v.ended_on FROM people p \
         JOIN volunteers v ON v.person_id = p.id WHERE p.id = $1"
    )
    .bind(person_id)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|(division, registered_on, ended_on)| Enrolment { division, registered_on, ended_on }))
}

/// What the registered-volunteer count knows of several people (non-volunteers left out).
pub async fn enrolments_tx(
    tx: &mut Tx,
    people: &[i64],
) -> Result<std::collections::HashMap<i64, Enrolment>, StoreError> {
    let rows: Vec<(i64, String, NaiveDate, Option<NaiveDate>)> = crate::query::fetch_in_tx(
        tx,
        "SELECT p.id, p.division_code, v.registered_on, v.ended_on FROM people p \
         JOIN volunteers v ON v.person_id = p.id WHERE p.id IN (",
        people,
        ")",
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, division, registered_on, ended_on)| (id, Enrolment { division, registered_on, ended_on }))
        .collect())
}

/// The highest approved star of a person (0 = none).
pub async fn held_star_tx(tx: &mut Tx, person_id: i64) -> Result<u8, StoreError> {
    let (s,): (i64,) = on_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT CAST(COALESCE(MAX(star), 0) AS BIGINT) FROM star_awards WHERE person_id = $1 AND status = 'approved'"
    )
    .bind(person_id)
    .fetch_one(c)
    .await
    })?;
    Ok(u8::try_from(s).unwrap_or(0))
}

/// After a person was edited: the registered-volunteer count follows a new home region or
/// a changed end of the role, and a star holder's star moves with them. `before` is the
/// enrolment read before the edit, in the same transaction.
pub async fn person_edited(tx: &mut Tx, person_id: i64, before: Option<Enrolment>) -> Result<(), StoreError> {
    let (Some(before), Some(after)) = (before, enrolment_tx(tx, person_id).await?) else {
        return Ok(());
    };
    let today = wushe_domain::time::local_date(crate::time::now());
    let mut deltas: Vec<Delta> = enrolment_deltas(Some(&before), &after, today)
        .into_iter()
        .map(|(region, day, amount)| Delta::new(metric::REGISTERED_VOLUNTEERS, &region, day, amount))
        .collect();
    if before.division != after.division {
        let star = held_star_tx(tx, person_id).await?;
        if star > 0 {
            deltas.push(Delta::new(metric::star_volunteers(star), &before.division, today, -1));
            deltas.push(Delta::new(metric::star_volunteers(star), &after.division, today, 1));
        }
    }
    if !deltas.is_empty() {
        stats::append(tx, &deltas).await?;
    }
    Ok(())
}

/// Newly inserted volunteers join the registered count at their home region on the day
/// they registered.
pub async fn volunteers_registered(tx: &mut Tx, person_ids: &[i64]) -> Result<(), StoreError> {
    for chunk in person_ids.chunks(1000) {
        on_tx!(tx, |c| {
            let mut qb =
                sqlx::QueryBuilder::new("INSERT INTO stat_deltas (metric, division_code, day, amount) SELECT ");
            qb.push_bind(metric::REGISTERED_VOLUNTEERS);
            qb.push(", p.division_code, v.registered_on, 1 FROM volunteers v JOIN people p ON p.id = v.person_id WHERE v.person_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Time-bank coins (in minutes) held by the people whose home is in `region`.
pub async fn coins_outstanding(db: &Db, region: &str) -> Result<i64, StoreError> {
    let (lo, hi) = wushe_domain::accounts::division_range(region);
    let (n,): (i64,) = on_db!(db, |c| {
        sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(a.balance), 0) AS BIGINT) FROM ledger_accounts a JOIN people p ON p.id = a.person_id \
         WHERE a.ledger = $1 AND p.division_code >= $2 AND p.division_code <= $3"
    )
    .bind(Ledger::Coins.as_str())
    .bind(lo)
    .bind(hi)
    .fetch_one(c)
    .await
    })?;
    Ok(n)
}

/// The same per direct sub-region (`child_len` significant digits).
pub async fn coins_outstanding_by_child(
    db: &Db,
    region: &str,
    child_len: usize,
) -> Result<Vec<(String, i64)>, StoreError> {
    let (lo, hi) = wushe_domain::accounts::division_range(region);
    Ok(on_db!(db, |c| sqlx::query_as(
        "SELECT SUBSTR(p.division_code, 1, $4) AS child, CAST(SUM(a.balance) AS BIGINT) FROM ledger_accounts a \
         JOIN people p ON p.id = a.person_id WHERE a.ledger = $1 AND p.division_code >= $2 AND p.division_code <= $3 \
         GROUP BY 1 ORDER BY 1"
    )
    .bind(Ledger::Coins.as_str())
    .bind(lo)
    .bind(hi)
    .bind(child_len as i32)
    .fetch_all(c)
    .await)?)
}
