//! Wushe domain: pure types and rules (codes, privacy masking, …). No I/O.

pub mod accounts;
pub mod codes;
pub mod privacy;
pub mod registry;
pub mod stats;
pub mod text;
pub mod time;
pub mod timebank;
pub mod volunteering;
