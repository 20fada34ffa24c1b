//! Volunteer service: activities and their slots, sign-ups, attendance, confirmed service
//! records and their corrections, certificates, insurance. Lists and loads take the caller's scope.

pub mod activities;
pub mod attendance;
pub mod certificates;
pub mod insurance;
pub mod records;
pub mod signups;
