#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed assertion is the report
//! The domain's property tests, in one test binary (a module per area) instead of a binary
//! per file, each linked on its own. Proptest replays the failures it once found in a module
//! from `tests/proptest-regressions/<module>.txt` (its default place for a module of a crate
//! with a `main.rs`) before generating new cases.

mod any_text_props;
mod certificate_props;
mod codes_props;
mod registry_props;
