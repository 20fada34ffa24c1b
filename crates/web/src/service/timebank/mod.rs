//! Time bank and points: earning from confirmed service, gifts to direct relatives, spending
//! coins on services received, coin expiry, love-supermarket outlets, goods and redemptions,
//! and a person's accounts. Every movement is a double-entry posting
//! (`store::timebank::ledger`); coins leave an account oldest first (`domain::timebank::lots`)
//! and coins past their expiry are taken before anything else.
//! One file per part; this module holds the refusals, the scope check and the lot helpers
//! several parts share.

mod accounts;
mod earning;
mod expiry;
mod movements;
mod supermarkets;

pub use accounts::*;
pub use earning::*;
pub use expiry::*;
pub use movements::*;
pub use supermarkets::*;

use wushe_domain::timebank::ledger::{Ledger, MovementError};
use wushe_domain::timebank::lots::{Lot, Lots};
use wushe_store::accounts::audit::Actor;
use wushe_store::timebank::ledger::PostError;
use wushe_store::StoreError;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

fn refused(e: PostError, l: Ledger) -> AppError {
    match e {
        PostError::Rule(m) => AppError::Conflict(m.message(l)),
        PostError::Store(s) => s.into(),
    }
}

/// Who the expiry job acts as in the audit log.
fn system_actor() -> Actor {
    Actor { username: Some("system".into()), role: Some("system".into()), ..Default::default() }
}

fn inconsistent(person_id: i64) -> AppError {
    AppError::internal(format!("时间币账户 {person_id} 的分录无法按先进先出还原"))
}

/// Take `units` from lots, oldest first; the refusal names the balance.
fn take(lots: &mut Lots, units: i64) -> Result<Vec<Lot>, AppError> {
    lots.take(units).map_err(|o| {
        AppError::Conflict(MovementError::Insufficient { balance: o.balance, needed: o.needed }.message(Ledger::Coins))
    })
}

fn not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound("记录不存在或不在您的管辖范围内".into()),
        e => e.into(),
    }
}

/// Staff act only for people they may see in the registry (any role).
async fn require_in_scope(state: &AppState, user: &CurrentUser, person_id: i64) -> Result<(), AppError> {
    user.require(user.role.works_with_people())?;
    wushe_store::registry::people::person_in_scope(&state.db, &user.scope(), person_id)
        .await?
        .then_some(())
        .ok_or_else(|| AppError::NotFound("记录不存在或不在您的管辖范围内".into()))
}

#[cfg(test)]
mod tests {
    use super::accounts::beijing_date;
    use super::movements::units_of;
    use chrono::{NaiveDate, Utc};

    #[test]
    fn coins_typed_become_units() {
        assert_eq!(units_of(1.5).unwrap(), 90);
        assert!(units_of(0.0).is_err() && units_of(f64::NAN).is_err() && units_of(-1.0).is_err());
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 31, 17, 0, 0).unwrap();
        assert_eq!(beijing_date(t), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
    }
}
