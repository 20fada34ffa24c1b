//! Volunteer service rules (志愿服务条例 2017; 民政部令第67号 2021): credited hours, star
//! levels, the sign-up and attendance state machines, rotating check-in codes and the
//! geofence, correction requests, service certificates, star awards and their approval,
//! spot-checks of records, and the volunteer counts behind officials' figures.

pub mod activity;
pub mod attendance;
pub mod certificate;
pub mod counts;
pub mod hours;
pub mod signup;
pub mod spot_check;
pub mod stars;

pub use hours::{Credit, HourRules, Rounding};
pub use stars::StarRules;

/// Whole minutes between two instants (negative when `end` is before `start`).
pub fn minutes_between(start: chrono::DateTime<chrono::Utc>, end: chrono::DateTime<chrono::Utc>) -> i64 {
    (end - start).num_minutes()
}
