//! Use cases shared by the UI and the API handlers: each validates input, applies the domain
//! rule, calls the store and writes the audit entry in the same transaction.

pub mod accounts;
pub mod certificates;
pub mod import;
pub mod people;
pub mod regions;
pub mod registry;
pub mod skills;
pub mod spot_checks;
pub mod stars;
pub mod timebank;
pub mod volunteering;
