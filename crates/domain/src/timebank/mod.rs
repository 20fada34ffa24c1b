//! Time bank (时间银行) and points (积分, 爱心超市): double-entry ledgers. Every movement is
//! a transaction whose entries sum to zero across accounts; a balance is the sum of its
//! account's entries; entries are never updated or deleted; a person's balance never goes
//! negative. Coins are kept in minutes (1 coin = 1 hour of eligible service = 60 units), so
//! part-hours are not lost to rounding.

pub mod ledger;
pub mod lots;
pub mod rules;

pub use ledger::{Movement, MovementError};
pub use lots::{Lot, Lots};
pub use rules::{PointRules, TimebankRules};
