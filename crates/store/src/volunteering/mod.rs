//! Volunteer service: activities and their slots, sign-ups, attendance, confirmed service
//! records and their corrections, certificates, insurance, star awards, spot-checks and the
//! summable parts of officials' volunteer counts. Lists and loads take the caller's scope.

pub mod activities;
pub mod attendance;
pub mod certificates;
pub mod counts;
pub mod insurance;
pub mod records;
pub mod signups;
pub mod spot_checks;
pub mod stars;
