//! Time bank, points and love supermarkets: the ledgers and the goods.

pub mod ledger;
pub mod supermarket;
