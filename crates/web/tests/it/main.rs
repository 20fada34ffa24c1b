#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed assertion is the report
//! The HTTP layer's integration tests on both backends, in one test binary (a module per
//! area) instead of a binary per file, each linked on its own. `db_test!` names a test
//! `<area>::<name>::{sqlite,postgres}`; one area: `cargo test -p wushe-web --test it auth::`.

mod auth;
mod certificates;
mod errors;
mod officials;
mod openapi;
mod people;
mod people_ui;
mod registry;
mod scope;
mod timebank;
mod volunteering;
mod volunteering_ui;
