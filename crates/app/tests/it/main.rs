#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed assertion is the report
//! The `wushe` binary's integration tests, in one test binary (a module per area) instead
//! of a binary per file: `admin` (the admin and demo commands on a fresh database) and
//! `durability` (a server killed mid-burst). The browser tests are a binary of their own,
//! `tests/browser.rs` (see there why).

mod admin;
mod durability;
