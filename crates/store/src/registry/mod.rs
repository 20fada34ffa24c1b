//! The registry: organizations (with their status history), banned organizations and
//! people (volunteers, social workers, beneficiaries). Names are indexed by n-grams for Chinese fragment search.

pub mod banned;
pub mod grams;
pub mod organizations;
pub mod pairings;
pub mod people;
pub mod skills;
