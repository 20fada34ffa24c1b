//! Background work of a serving process: folding statistics deltas into the rollups (so
//! officials' figures trail the writes by seconds), flagging missing check-outs and expiring
//! time coins past their expiry (when the rules set one).

use std::time::Duration;

use wushe_store::volunteering::attendance;
use wushe_store::{stats, Db};

/// How often waiting statistics deltas are folded.
const ROLLUP_EVERY: Duration = Duration::from_secs(2);
/// How often open attendances past their slot are flagged for the organizer.
const FLAG_EVERY: Duration = Duration::from_secs(300);
/// How often coins past their expiry are moved to the lapsed account. Spending and gifts
/// expire what is due first anyway, so this only keeps balances shown up to date.
const EXPIRE_EVERY: Duration = Duration::from_secs(3600);

pub fn start(db: &Db) {
    let d = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(ROLLUP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = stats::rollup_waiting(&d).await {
                tracing::warn!(error = %e, "statistics rollup failed; retrying");
            }
        }
    });
    let d = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FLAG_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let grace = wushe_domain::volunteering::attendance::MISSING_CHECKOUT_GRACE_HOURS;
            match attendance::flag_missing_checkouts(&d, wushe_store::time::now(), grace).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(flagged = n, "missing check-outs flagged for organizers"),
                Err(e) => tracing::warn!(error = %e, "flagging missing check-outs failed"),
            }
        }
    });
    let d = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EXPIRE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match wushe_web::service::timebank::expire_due(&d, wushe_store::time::now()).await {
                Ok(r) if r.people == 0 => {}
                Ok(r) => tracing::info!(people = r.people, units = r.units, "expired time coins moved to lapsed"),
                Err(e) => tracing::warn!(error = %e, "expiring time coins failed"),
            }
        }
    });
}
