//! The double-entry ledgers (coins and points). A posting is one transaction row and its
//! entries summing to zero (−units from one account, +units to another; coins taken from a
//! person are split by deposit date, one entry per date, mirrored on a receiving person);
//! a person's balance is updated in the same statement set with conditions, so it never goes
//! negative and a capped account never passes its cap, whatever the concurrency. System
//! accounts (issuance, redemptions …) have no limits; their balance changes are summed and
//! written when the transaction commits.
//! Entries are only ever inserted.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use sqlx::FromRow;
use wushe_domain::timebank::ledger::{Ledger, Movement, MovementError, SystemAccount};
use wushe_domain::timebank::lots::{Flow, Lot};

use crate::{on_db, on_tx, Db, Page, Paged, StoreError, Tx};

/// One side of a posting.
#[derive(Debug, Clone, Copy)]
pub enum Side {
    Person(i64),
    System(SystemAccount),
}

/// Why a posting was refused (the caller turns it into the user's message).
#[derive(Debug)]
pub enum PostError {
    Rule(MovementError),
    Store(StoreError),
}

impl From<StoreError> for PostError {
    fn from(e: StoreError) -> Self {
        PostError::Store(e)
    }
}

impl From<sqlx::Error> for PostError {
    fn from(e: sqlx::Error) -> Self {
        PostError::Store(e.into())
    }
}

async fn system_account(tx: &mut Tx, ledger: Ledger, key: &str) -> Result<i64, StoreError> {
    let memo_key = (ledger.as_str().to_string(), key.to_string());
    if let Some(id) = tx.memo.system_accounts.get(&memo_key) {
        return Ok(*id);
    }
    // kept across transactions once one that used it committed (`Tx::commit`)
    let id = match tx.shared.system_account(ledger.as_str(), key) {
        Some(id) => id,
        None => find_or_create_system_account(tx, ledger, key).await?,
    };
    tx.memo.system_accounts.insert(memo_key, id);
    Ok(id)
}

async fn find_or_create_system_account(tx: &mut Tx, ledger: Ledger, key: &str) -> Result<i64, StoreError> {
    let row: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO ledger_accounts (ledger, system_key, balance, created_at) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (ledger, system_key) WHERE system_key IS NOT NULL DO NOTHING RETURNING id"
    )
    .bind(ledger.as_str())
    .bind(key)
    .bind(crate::time::now())
    .fetch_optional(c)
    .await)?;
    if let Some((id,)) = row {
        return Ok(id);
    }
    let (id,): (i64,) =
        on_tx!(tx, |c| sqlx::query_as("SELECT id FROM ledger_accounts WHERE ledger = $1 AND system_key = $2")
            .bind(ledger.as_str())
            .bind(key)
            .fetch_one(c)
            .await)?;
    Ok(id)
}

/// Change a system account's balance by `delta` (system accounts may go negative, so
/// nothing needs checking now). The change is summed in the transaction and written at
/// commit: every confirmation moves the same issuance account, and one update per batch
/// instead of one per posting keeps that row from becoming the bottleneck.
async fn move_system(tx: &mut Tx, ledger: Ledger, s: SystemAccount, delta: i64) -> Result<i64, StoreError> {
    let id = system_account(tx, ledger, s.key()).await?;
    *tx.memo.system_deltas.entry(id).or_default() += delta;
    Ok(id)
}

/// Write the summed system-account changes (called by commit).
pub(crate) async fn write_system_balances(tx: &mut Tx) -> Result<(), StoreError> {
    for (id, delta) in std::mem::take(&mut tx.memo.system_deltas) {
        if delta == 0 {
            continue;
        }
        on_tx!(tx, |c| sqlx::query("UPDATE ledger_accounts SET balance = balance + $1 WHERE id = $2")
            .bind(delta)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Take `units` from a side: a person only down to zero (else Insufficient).
async fn debit(tx: &mut Tx, ledger: Ledger, side: Side, units: i64) -> Result<i64, PostError> {
    match side {
        Side::System(s) => Ok(move_system(tx, ledger, s, -units).await?),
        Side::Person(p) => {
            let row: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
                "UPDATE ledger_accounts SET balance = balance - $1 \
                 WHERE ledger = $2 AND person_id = $3 AND balance >= $1 RETURNING id"
            )
            .bind(units)
            .bind(ledger.as_str())
            .bind(p)
            .fetch_optional(c)
            .await)?;
            match row {
                Some((id,)) => Ok(id),
                None => {
                    let balance = balance_tx(tx, ledger, p).await?;
                    Err(PostError::Rule(MovementError::Insufficient { balance, needed: units }))
                }
            }
        }
    }
}

/// Give `units` to a side: a person's account is created on first credit; `cap` refuses a
/// credit that would pass it.
async fn credit(tx: &mut Tx, ledger: Ledger, side: Side, units: i64, cap: Option<i64>) -> Result<i64, PostError> {
    match side {
        Side::System(s) => Ok(move_system(tx, ledger, s, units).await?),
        Side::Person(p) => {
            if cap.is_some_and(|c| units > c) {
                return Err(PostError::Rule(MovementError::OverCap));
            }
            let row: Option<(i64,)> = on_tx!(tx, |c| sqlx::query_as(
                "INSERT INTO ledger_accounts (ledger, person_id, balance, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (ledger, person_id) WHERE person_id IS NOT NULL \
                 DO UPDATE SET balance = ledger_accounts.balance + excluded.balance \
                 WHERE $5 IS NULL OR ledger_accounts.balance + excluded.balance <= $5 RETURNING id"
            )
            .bind(ledger.as_str())
            .bind(p)
            .bind(units)
            .bind(crate::time::now())
            .bind(cap)
            .fetch_optional(c)
            .await)?;
            row.map(|r| r.0).ok_or(PostError::Rule(MovementError::OverCap))
        }
    }
}

pub struct Posting<'a> {
    pub ledger: Ledger,
    pub movement: &'a Movement,
    pub from: Side,
    pub to: Side,
    /// Cap of the receiving person's account, in units.
    pub cap: Option<i64>,
    pub memo: Option<&'a str>,
    pub record_id: Option<i64>,
    pub division_code: &'a str,
    pub by: Option<i64>,
    /// When it happened (now unless history is written as it was, as the demo does).
    pub at: Option<DateTime<Utc>>,
    /// Coins taken from a person, by deposit date (oldest first, summing to the units): one
    /// entry each, mirrored on the receiving person so the coins keep their dates. Empty:
    /// one entry a side, dated by the transaction.
    pub lots: &'a [Lot],
}

/// Post a movement: the transaction row, both balances and the entries. Returns its id.
pub async fn post(tx: &mut Tx, p: &Posting<'_>) -> Result<i64, PostError> {
    p.movement.check().map_err(PostError::Rule)?;
    let units = p.movement.units();
    if !p.lots.is_empty() && p.lots.iter().map(|l| l.units).sum::<i64>() != units {
        return Err(PostError::Store(StoreError::Conflict("分批日期的时间币与转出数量不符".into())));
    }
    let from = debit(tx, p.ledger, p.from, units).await?;
    let to = credit(tx, p.ledger, p.to, units, p.cap).await?;
    let at = p.at.map(|t| t.trunc_subsecs(6)).unwrap_or_else(crate::time::now);
    let (tid,): (i64,) = on_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO ledger_transactions (ledger, kind, memo, record_id, division_code, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(p.ledger.as_str())
    .bind(p.movement.kind())
    .bind(p.memo)
    .bind(p.record_id)
    .bind(p.division_code)
    .bind(p.by)
    .bind(at)
    .fetch_one(c)
    .await)?;
    if p.lots.is_empty() {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount) VALUES ($1, $2, $3), ($1, $4, $5)"
        )
        .bind(tid)
        .bind(from)
        .bind(-units)
        .bind(to)
        .bind(units)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        return Ok(tid);
    }
    let mut rows: Vec<(i64, i64, Option<DateTime<Utc>>)> =
        p.lots.iter().map(|l| (from, -l.units, Some(l.deposited_at))).collect();
    match p.to {
        Side::Person(_) => rows.extend(p.lots.iter().map(|l| (to, l.units, Some(l.deposited_at)))),
        Side::System(_) => rows.push((to, units, None)),
    }
    for (account, amount, dated) in rows {
        on_tx!(tx, |c| sqlx::query(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount, deposited_at) VALUES ($1, $2, $3, $4)"
        )
        .bind(tid)
        .bind(account)
        .bind(amount)
        .bind(dated)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(tid)
}

/// Post several movements: what `post` does for each, with one statement per thousand rows
/// where it can. Movements into people's accounts without a cap (earnings) are summed per
/// account; the transaction rows and entries are inserted together. Postings with lots, a
/// cap or a person paying go through `post` one by one. Returns the transaction ids in
/// order; the first refusal refuses them all (callers check their rules first).
pub async fn post_many(tx: &mut Tx, ps: &[Posting<'_>]) -> Result<Vec<i64>, PostError> {
    let simple = |p: &Posting<'_>| p.lots.is_empty() && p.cap.is_none() && matches!(p.from, Side::System(_));
    if ps.len() < 2 || !ps.iter().all(simple) {
        let mut out = Vec::with_capacity(ps.len());
        for p in ps {
            out.push(post(tx, p).await?);
        }
        return Ok(out);
    }
    let mut sides = Vec::with_capacity(ps.len());
    let mut credits: std::collections::BTreeMap<(&'static str, i64), i64> = std::collections::BTreeMap::new();
    for p in ps {
        p.movement.check().map_err(PostError::Rule)?;
        let units = p.movement.units();
        let Side::System(from) = p.from else { unreachable!("checked as simple") };
        let from = move_system(tx, p.ledger, from, -units).await?;
        let to = match p.to {
            Side::System(s) => Some(move_system(tx, p.ledger, s, units).await?),
            Side::Person(person) => {
                *credits.entry((p.ledger.as_str(), person)).or_default() += units;
                None
            }
        };
        sides.push((from, to, units));
    }
    let credits: Vec<((&str, i64), i64)> = credits.into_iter().collect();
    let mut accounts = std::collections::HashMap::with_capacity(credits.len());
    let now = crate::time::now();
    for chunk in crate::query::statement_chunks(tx.backend(), &credits) {
        let got: Vec<(i64, String, i64)> = on_tx!(tx, |c| {
            let mut qb =
                sqlx::QueryBuilder::new("INSERT INTO ledger_accounts (ledger, person_id, balance, created_at) ");
            qb.push_values(chunk, |mut b, ((ledger, person), units)| {
                b.push_bind(*ledger).push_bind(*person).push_bind(*units).push_bind(now);
            });
            qb.push(
                " ON CONFLICT (ledger, person_id) WHERE person_id IS NOT NULL \
                 DO UPDATE SET balance = ledger_accounts.balance + excluded.balance RETURNING id, ledger, person_id",
            );
            qb.build_query_as().fetch_all(c).await
        })?;
        accounts.extend(got.into_iter().map(|(id, ledger, person)| ((ledger, person), id)));
    }
    let mut ids = Vec::with_capacity(ps.len());
    for chunk in crate::query::statement_chunks(tx.backend(), ps) {
        let mut got: Vec<(i64,)> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO ledger_transactions (ledger, kind, memo, record_id, division_code, created_by, created_at) ",
            );
            qb.push_values(chunk, |mut b, p| {
                b.push_bind(p.ledger.as_str())
                    .push_bind(p.movement.kind())
                    .push_bind(p.memo)
                    .push_bind(p.record_id)
                    .push_bind(p.division_code)
                    .push_bind(p.by)
                    .push_bind(p.at.map(|t| t.trunc_subsecs(6)).unwrap_or(now));
            });
            qb.push(" RETURNING id");
            qb.build_query_as().fetch_all(c).await
        })?;
        // both engines number the rows of one INSERT in the order of its VALUES
        got.sort_unstable();
        ids.extend(got.into_iter().map(|r| r.0));
    }
    let mut entries = Vec::with_capacity(ps.len() * 2);
    for ((p, (from, to, units)), tid) in ps.iter().zip(&sides).zip(&ids) {
        let to = match (to, p.to) {
            (Some(id), _) => *id,
            (None, Side::Person(person)) => *accounts
                .get(&(p.ledger.as_str().to_string(), person))
                .ok_or_else(|| StoreError::Conflict("账户写入不完整".into()))?,
            (None, Side::System(_)) => unreachable!("system sides have ids"),
        };
        entries.push((*tid, *from, -units));
        entries.push((*tid, to, *units));
    }
    for chunk in crate::query::statement_chunks(tx.backend(), &entries) {
        on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO ledger_entries (transaction_id, account_id, amount) ");
            qb.push_values(chunk, |mut b, (tid, account, amount)| {
                b.push_bind(*tid).push_bind(*account).push_bind(*amount);
            });
            qb.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(ids)
}

/// Hold a person's account until the transaction ends, so the lots read next are the ones
/// the movement changes (concurrent movements of the account wait; SQLite has one writer).
pub async fn lock(tx: &mut Tx, ledger: Ledger, person_id: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| sqlx::query("UPDATE ledger_accounts SET balance = balance WHERE ledger = $1 AND person_id = $2")
        .bind(ledger.as_str())
        .bind(person_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(FromRow)]
struct FlowRow {
    amount: i64,
    deposited_at: DateTime<Utc>,
}

const FLOWS_SQL: &str =
    "SELECT e.amount, COALESCE(e.deposited_at, t.created_at) AS deposited_at FROM ledger_entries e \
     JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.transaction_id \
     WHERE a.ledger = $1 AND a.person_id = $2 ORDER BY e.id";

fn to_flows(rows: Vec<FlowRow>) -> Vec<Flow> {
    rows.into_iter().map(|r| Flow { units: r.amount, deposited_at: r.deposited_at }).collect()
}

/// A person's entries on a ledger as flows in posting order (to replay their lots), inside
/// the movement's transaction.
pub async fn flows_tx(tx: &mut Tx, ledger: Ledger, person_id: i64) -> Result<Vec<Flow>, StoreError> {
    let rows = on_tx!(tx, |c| sqlx::query_as::<_, FlowRow>(FLOWS_SQL)
        .bind(ledger.as_str())
        .bind(person_id)
        .fetch_all(c)
        .await)?;
    Ok(to_flows(rows))
}

pub async fn flows(db: &Db, ledger: Ledger, person_id: i64) -> Result<Vec<Flow>, StoreError> {
    let rows = on_db!(db, |c| sqlx::query_as::<_, FlowRow>(FLOWS_SQL)
        .bind(ledger.as_str())
        .bind(person_id)
        .fetch_all(c)
        .await)?;
    Ok(to_flows(rows))
}

/// People holding coins deposited at or before `cutoff` (whose coins may have expired),
/// after `after`, by id, at most `limit`.
pub async fn expiry_candidates(db: &Db, cutoff: DateTime<Utc>, after: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = on_db!(db, |c| sqlx::query_as(
        "SELECT a.person_id FROM ledger_accounts a WHERE a.ledger = 'coins' AND a.person_id IS NOT NULL \
         AND a.balance > 0 AND a.person_id > $1 AND EXISTS (SELECT 1 FROM ledger_entries e \
         JOIN ledger_transactions t ON t.id = e.transaction_id WHERE e.account_id = a.id AND e.amount > 0 \
         AND COALESCE(e.deposited_at, t.created_at) <= $2) ORDER BY a.person_id LIMIT $3"
    )
    .bind(after)
    .bind(cutoff)
    .bind(limit)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// One line of a statement: a transaction as it touched the account, with the balance after
/// it (in date order) and the other side.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct StatementRow {
    pub transaction_id: i64,
    pub kind: String,
    pub memo: Option<String>,
    pub record_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Units in (+) or out (−) of this account.
    pub amount: i64,
    pub balance_after: i64,
    /// The other person, for gifts.
    pub counterparty_id: Option<i64>,
    pub counterparty_name: Option<String>,
    /// The system account on the other side (issuance, services_received, redemptions, lapsed).
    pub counterparty_system: Option<String>,
    /// The activity of the service record that earned it.
    pub activity_title: Option<String>,
}

/// A person's statement on one ledger, newest first, a page at a time. The running balance
/// is summed over the whole account in date order, so it ends at the balance.
pub async fn statement(
    db: &Db,
    ledger: Ledger,
    person_id: i64,
    page: &Page,
) -> Result<Paged<StatementRow>, StoreError> {
    let account: Option<(i64,)> =
        on_db!(db, |c| sqlx::query_as("SELECT id FROM ledger_accounts WHERE ledger = $1 AND person_id = $2")
            .bind(ledger.as_str())
            .bind(person_id)
            .fetch_optional(c)
            .await)?;
    let Some((account,)) = account else {
        return Ok(Paged { items: Vec::new(), total: 0, capped: false, page: page.clone() });
    };
    let total = crate::query::fetch_count(
        db,
        "SELECT COUNT(DISTINCT transaction_id) FROM ledger_entries WHERE account_id = $1",
        &[crate::query::Param::Int(account)],
    )
    .await?;
    let items = on_db!(db, |c| {
        sqlx::query_as::<_, StatementRow>(
        "WITH mine AS (SELECT transaction_id, CAST(SUM(amount) AS BIGINT) AS amount FROM ledger_entries \
           WHERE account_id = $1 GROUP BY transaction_id), \
         run AS (SELECT t.id AS transaction_id, t.kind, t.memo, t.record_id, t.created_at, m.amount, \
           CAST(SUM(m.amount) OVER (ORDER BY t.created_at, t.id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) \
             AS balance_after \
           FROM mine m JOIN ledger_transactions t ON t.id = m.transaction_id) \
         SELECT r.transaction_id, r.kind, r.memo, r.record_id, r.created_at, r.amount, r.balance_after, \
           (SELECT a2.person_id FROM ledger_entries e2 JOIN ledger_accounts a2 ON a2.id = e2.account_id \
             WHERE e2.transaction_id = r.transaction_id AND e2.account_id <> $1 ORDER BY e2.id LIMIT 1) AS counterparty_id, \
           (SELECT p.name FROM ledger_entries e2 JOIN ledger_accounts a2 ON a2.id = e2.account_id \
             JOIN people p ON p.id = a2.person_id \
             WHERE e2.transaction_id = r.transaction_id AND e2.account_id <> $1 ORDER BY e2.id LIMIT 1) AS counterparty_name, \
           (SELECT a2.system_key FROM ledger_entries e2 JOIN ledger_accounts a2 ON a2.id = e2.account_id \
             WHERE e2.transaction_id = r.transaction_id AND e2.account_id <> $1 ORDER BY e2.id LIMIT 1) AS counterparty_system, \
           (SELECT ac.title FROM service_records sr JOIN activities ac ON ac.id = sr.activity_id \
             WHERE sr.id = r.record_id) AS activity_title \
         FROM run r ORDER BY r.created_at DESC, r.transaction_id DESC LIMIT $2 OFFSET $3"
    )
    .bind(account)
    .bind(page.limit())
    .bind(page.offset())
    .fetch_all(c)
    .await
    })?;
    Ok(Paged { items, total, capped: false, page: page.clone() })
}

/// Balances of several people on one ledger (0 for those without an account).
pub async fn balances(db: &Db, ledger: Ledger, person_ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut out = Vec::with_capacity(person_ids.len());
    for chunk in person_ids.chunks(200) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT person_id, balance FROM ledger_accounts WHERE ledger = $1 AND person_id IN ({list})");
        let rows: Vec<(i64, i64)> = on_db!(db, |c| sqlx::query_as(&sql).bind(ledger.as_str()).fetch_all(c).await)?;
        out.extend(rows);
    }
    Ok(out)
}

pub async fn balance_tx(tx: &mut Tx, ledger: Ledger, person_id: i64) -> Result<i64, StoreError> {
    let row: Option<(i64,)> =
        on_tx!(tx, |c| sqlx::query_as("SELECT balance FROM ledger_accounts WHERE ledger = $1 AND person_id = $2")
            .bind(ledger.as_str())
            .bind(person_id)
            .fetch_optional(c)
            .await)?;
    Ok(row.map_or(0, |r| r.0))
}

pub async fn balance(db: &Db, ledger: Ledger, person_id: i64) -> Result<i64, StoreError> {
    let row: Option<(i64,)> =
        on_db!(db, |c| sqlx::query_as("SELECT balance FROM ledger_accounts WHERE ledger = $1 AND person_id = $2")
            .bind(ledger.as_str())
            .bind(person_id)
            .fetch_optional(c)
            .await)?;
    Ok(row.map_or(0, |r| r.0))
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct EntryRow {
    pub transaction_id: i64,
    pub kind: String,
    pub amount: i64,
    pub memo: Option<String>,
    pub record_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A person's entries on one ledger, newest first.
pub async fn entries(db: &Db, ledger: Ledger, person_id: i64, limit: i64) -> Result<Vec<EntryRow>, StoreError> {
    Ok(on_db!(db, |c| sqlx::query_as::<_, EntryRow>(
        "SELECT e.transaction_id, t.kind, e.amount, t.memo, t.record_id, t.created_at FROM ledger_entries e \
         JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.transaction_id \
         WHERE a.ledger = $1 AND a.person_id = $2 ORDER BY e.id DESC LIMIT $3"
    )
    .bind(ledger.as_str())
    .bind(person_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Units outstanding on a ledger: the sum of person balances (what issuance has not got back).
pub async fn outstanding(db: &Db, ledger: Ledger) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_db!(db, |c| {
        sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM ledger_accounts WHERE ledger = $1 AND person_id IS NOT NULL"
    )
    .bind(ledger.as_str())
    .fetch_one(c)
    .await
    })?;
    Ok(n)
}

/// The ledgers' invariants, checked from scratch: (accounts whose balance differs from the
/// sum of their entries, transactions whose entries do not sum to zero, negative person
/// balances). All zero on a sound ledger.
pub async fn verify(db: &Db) -> Result<(i64, i64, i64), StoreError> {
    let q = |sql: &'static str| async move { crate::query::fetch_count(db, sql, &[]).await };
    let drift = q("SELECT COUNT(*) FROM ledger_accounts a WHERE a.balance <> \
                   (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e WHERE e.account_id = a.id)")
    .await?;
    let unbalanced = q("SELECT COUNT(*) FROM (SELECT transaction_id FROM ledger_entries GROUP BY transaction_id \
                        HAVING SUM(amount) <> 0) t")
    .await?;
    let negative = q("SELECT COUNT(*) FROM ledger_accounts WHERE person_id IS NOT NULL AND balance < 0").await?;
    Ok((drift, unbalanced, negative))
}

/// Units a person earned on a ledger through one service record (net of earlier reversals).
pub async fn earned_by_record(tx: &mut Tx, ledger: Ledger, person_id: i64, record_id: i64) -> Result<i64, StoreError> {
    let (n,): (i64,) = on_tx!(tx, |c| sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(e.amount), 0) AS BIGINT) FROM ledger_transactions t \
         JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id \
         WHERE t.record_id = $1 AND t.ledger = $2 AND a.person_id = $3"
    )
    .bind(record_id)
    .bind(ledger.as_str())
    .bind(person_id)
    .fetch_one(c)
    .await)?;
    Ok(n)
}
