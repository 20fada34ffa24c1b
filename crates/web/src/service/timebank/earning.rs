//! Earning from confirmed service: points for every record, coins for time-bank activities
//! (from the depositor age, up to the cap), and taking back what a superseded record earned.

use chrono::{DateTime, Utc};
use wushe_domain::timebank::ledger::{Ledger, Movement, SystemAccount};
use wushe_domain::timebank::{PointRules, TimebankRules};
use wushe_store::timebank::ledger::{self, Posting, Side};
use wushe_store::{settings, StoreError, Tx};

use crate::error::AppError;
use crate::service::volunteering::{POINT_RULES_KEY, TIMEBANK_RULES_KEY};

use super::expiry::{coin_lots, expire_person};
use super::{refused, system_actor, take};

/// Rules the earning of one confirmation follows (read once per job).
#[derive(Debug, Clone, Default)]
pub struct EarnRules {
    pub timebank: TimebankRules,
    pub points: PointRules,
}

impl EarnRules {
    pub async fn load(tx: &mut Tx) -> Result<EarnRules, StoreError> {
        Ok(EarnRules {
            timebank: settings::get_tx(tx, TIMEBANK_RULES_KEY).await?,
            points: settings::get_tx(tx, POINT_RULES_KEY).await?,
        })
    }
}

/// What one confirmed record may earn.
#[derive(Debug, Clone, Copy)]
pub struct Earning<'a> {
    pub person_id: i64,
    pub record_id: i64,
    pub timebank: bool,
    pub minutes: i64,
    pub division_code: &'a str,
    pub by: i64,
    pub at: DateTime<Utc>,
}

/// Points for every confirmed record (posted together), coins for time-bank activities
/// (from the depositor age, up to the storage cap, one by one since each depends on the
/// balance). Runs inside the confirmations' transaction.
pub async fn earn(tx: &mut Tx, r: &EarnRules, records: &[Earning<'_>]) -> Result<(), AppError> {
    let points: Vec<(Movement, &Earning)> = records
        .iter()
        .map(|e| (Movement::Earn { units: r.points.earned(e.minutes) }, e))
        .filter(|(m, _)| m.units() > 0)
        .collect();
    let postings: Vec<Posting> = points
        .iter()
        .map(|(m, e)| {
            let to = Side::Person(e.person_id);
            posting(
                Ledger::Points,
                m,
                Side::System(SystemAccount::Issuance),
                to,
                None,
                Some(e.record_id),
                e.division_code,
                e.by,
                e.at,
            )
        })
        .collect();
    ledger::post_many(tx, &postings).await.map_err(|e| refused(e, Ledger::Points))?;
    for e in records.iter().filter(|e| e.timebank && e.minutes > 0) {
        let birth = wushe_store::volunteering::signups::birth_date(tx, e.person_id).await?;
        let age = wushe_domain::volunteering::activity::age_on(birth, crate::service::registry::today());
        if r.timebank.deposits_at(age) {
            // coins past their expiry no longer count against the cap
            expire_person(tx, &r.timebank, e.person_id, wushe_store::time::now(), &system_actor()).await?;
            let balance = ledger::balance_tx(tx, Ledger::Coins, e.person_id).await?;
            let units = r.timebank.deposit_units(e.minutes, balance);
            if units > 0 {
                let m = Movement::Earn { units };
                let p = posting(
                    Ledger::Coins,
                    &m,
                    Side::System(SystemAccount::Issuance),
                    Side::Person(e.person_id),
                    Some(r.timebank.cap_units()),
                    Some(e.record_id),
                    e.division_code,
                    e.by,
                    e.at,
                );
                ledger::post(tx, &p).await.map_err(|e| refused(e, Ledger::Coins))?;
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn posting<'a>(
    l: Ledger,
    m: &'a Movement,
    from: Side,
    to: Side,
    cap: Option<i64>,
    record_id: Option<i64>,
    division_code: &'a str,
    by: i64,
    at: DateTime<Utc>,
) -> Posting<'a> {
    Posting {
        ledger: l,
        movement: m,
        from,
        to,
        cap,
        memo: None,
        record_id,
        division_code,
        by: Some(by),
        at: Some(at),
        lots: &[],
    }
}

/// Take back what a superseded record earned (as far as the balance allows: what was already
/// spent stays spent, and the shortfall is noted on the reversal). Coins go oldest first,
/// after any that expired.
pub async fn reverse_earnings(
    tx: &mut Tx,
    person_id: i64,
    record_id: i64,
    division_code: &str,
    by: i64,
) -> Result<(), AppError> {
    let tb: TimebankRules = settings::get_tx(tx, crate::service::volunteering::TIMEBANK_RULES_KEY).await?;
    for l in [Ledger::Points, Ledger::Coins] {
        let earned = wushe_store::timebank::ledger::earned_by_record(tx, l, person_id, record_id).await?;
        if earned <= 0 {
            continue;
        }
        let mut held = match l {
            Ledger::Coins => Some(coin_lots(tx, &tb, person_id, &system_actor()).await?),
            Ledger::Points => None,
        };
        let balance = match &held {
            Some(h) => h.balance(),
            None => ledger::balance_tx(tx, l, person_id).await?,
        };
        let units = earned.min(balance);
        if units <= 0 {
            continue;
        }
        let parts = match held.as_mut() {
            Some(h) => take(h, units)?,
            None => Vec::new(),
        };
        let m = Movement::Reverse { units };
        let memo = (units < earned).then(|| format!("应扣回 {earned}，余额仅 {balance}，已全部扣回余额"));
        let p = Posting {
            ledger: l,
            movement: &m,
            from: Side::Person(person_id),
            to: Side::System(SystemAccount::Lapsed),
            cap: None,
            memo: memo.as_deref(),
            record_id: Some(record_id),
            division_code,
            by: Some(by),
            at: None,
            lots: &parts,
        };
        ledger::post(tx, &p).await.map_err(|e| refused(e, l))?;
    }
    Ok(())
}
