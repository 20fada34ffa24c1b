//! Users, sessions, API tokens, passwords and the audit log.

pub mod audit;
pub mod password;
pub mod sessions;
pub mod tokens;
pub mod users;
