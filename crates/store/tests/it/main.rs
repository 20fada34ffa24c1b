#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed assertion is the report
//! The store's integration tests on both backends, in one test binary (a module per area)
//! instead of a binary per file, each linked on its own. `db_test!` names a test
//! `<area>::<name>::{sqlite,postgres}`; one area: `cargo test -p wushe-store --test it regions::`.

mod accounts;
mod full_table;
mod group_commit;
mod parity;
mod people_edits;
mod regions;
mod registry;
mod stats;
