//! Coin lots and expiry: a person's coins past their expiry go to the lapsed account, in a
//! movement of their own or by the background job.

use chrono::{DateTime, Utc};
use serde::Serialize;
use wushe_domain::timebank::ledger::{Ledger, Movement, SystemAccount};
use wushe_domain::timebank::lots::Lots;
use wushe_domain::timebank::TimebankRules;
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::timebank::ledger::{self, Posting, Side};
use wushe_store::timebank::supermarket;
use wushe_store::{settings, Db, Tx};

use crate::error::AppError;

use super::{inconsistent, refused, system_actor};

/// Expire what is due of a person's coins (when the rules set an expiry): one movement to the
/// lapsed account taking the lots past their expiry, audited. Returns the units expired.
/// Runs inside the caller's transaction, with the account held.
pub async fn expire_person(
    tx: &mut Tx,
    tb: &TimebankRules,
    person_id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<i64, AppError> {
    if tb.expiry().is_none() {
        return Ok(0);
    }
    ledger::lock(tx, Ledger::Coins, person_id).await?;
    Ok(expire_held(tx, tb, person_id, now, actor).await?.0)
}

/// The person's coin lots after expiring what is due (the account is held by the caller).
async fn expire_held(
    tx: &mut Tx,
    tb: &TimebankRules,
    person_id: i64,
    now: DateTime<Utc>,
    actor: &Actor,
) -> Result<(i64, Lots), AppError> {
    let mut held =
        Lots::replay(ledger::flows_tx(tx, Ledger::Coins, person_id).await?).map_err(|_| inconsistent(person_id))?;
    let Some(months) = tb.expiry() else {
        return Ok((0, held));
    };
    let due = held.due(months, now);
    if due == 0 {
        return Ok((0, held));
    }
    let parts = held.take(due).map_err(|_| inconsistent(person_id))?;
    let division = supermarket::division_of(tx, person_id).await?;
    let m = Movement::Expire { units: due };
    let memo = format!("存入满 {months} 个月未使用");
    let p = Posting {
        ledger: Ledger::Coins,
        movement: &m,
        from: Side::Person(person_id),
        to: Side::System(SystemAccount::Lapsed),
        cap: None,
        memo: Some(&memo),
        record_id: None,
        division_code: &division,
        by: actor.user_id,
        at: None,
        lots: &parts,
    };
    let tid = ledger::post(tx, &p).await.map_err(|e| refused(e, Ledger::Coins))?;
    audit::append(
        tx,
        actor,
        &Event {
            action: "expire",
            entity: "timebank",
            entity_id: Some(tid.to_string()),
            division_code: &division,
            organization_id: None,
            summary: serde_json::json!({
                "person": person_id, "units": due,
                "deposited": parts.iter().map(|l| l.deposited_at).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    Ok((due, held))
}

/// Hold a person's coin account, expire what is due, and return the lots left to take from.
pub(super) async fn coin_lots(
    tx: &mut Tx,
    tb: &TimebankRules,
    person_id: i64,
    actor: &Actor,
) -> Result<Lots, AppError> {
    ledger::lock(tx, Ledger::Coins, person_id).await?;
    Ok(expire_held(tx, tb, person_id, wushe_store::time::now(), actor).await?.1)
}

/// What one run of the expiry job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExpiryRun {
    pub people: i64,
    pub units: i64,
}

/// Expire every coin past its expiry at `now` (the background job; idempotent: a second run
/// at the same instant finds nothing due). Each person's expiry is its own transaction.
pub async fn expire_due(db: &Db, now: DateTime<Utc>) -> Result<ExpiryRun, AppError> {
    let tb: TimebankRules = settings::get(db, crate::service::volunteering::TIMEBANK_RULES_KEY).await?;
    let mut run = ExpiryRun::default();
    let Some(months) = tb.expiry() else {
        return Ok(run);
    };
    let Some(cutoff) = now.checked_sub_months(chrono::Months::new(months)) else {
        return Ok(run);
    };
    let actor = system_actor();
    let mut after = 0;
    loop {
        let batch = ledger::expiry_candidates(db, cutoff, after, 500).await?;
        let Some(last) = batch.last() else { break };
        after = *last;
        for person in batch {
            // read without holding anything; only people with coins due take the write lock
            let due = Lots::replay(ledger::flows(db, Ledger::Coins, person).await?)
                .map_err(|_| inconsistent(person))?
                .due(months, now);
            if due == 0 {
                continue;
            }
            let mut tx = db.begin().await?;
            ledger::lock(&mut tx, Ledger::Coins, person).await?;
            let (n, _) = expire_held(&mut tx, &tb, person, now, &actor).await?;
            tx.commit().await?;
            if n > 0 {
                run.people += 1;
                run.units += n;
            }
        }
    }
    Ok(run)
}
