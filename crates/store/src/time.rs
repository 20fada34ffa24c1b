//! Timestamps are stored in UTC with microsecond precision, so that the text form SQLite keeps
//! sorts the same way as PostgreSQL's TIMESTAMPTZ.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
