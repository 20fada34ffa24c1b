//! The registry: organizations (with their status history), banned organizations and,
//! later, people. Names are indexed by n-grams for Chinese fragment search.

pub mod banned;
pub mod grams;
pub mod organizations;
pub mod pairings;
