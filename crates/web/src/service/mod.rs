//! Use cases shared by the UI and the API handlers: each validates input, applies the domain
//! rule, calls the store and writes the audit entry in the same transaction.

pub mod accounts;
pub mod certificates;
pub mod import;
pub mod people;
pub mod regions;
pub mod registry;
pub mod skills;
pub mod spot_checks;
pub mod stars;
pub mod timebank;
pub mod volunteering;

use wushe_store::Page;

use crate::error::AppError;

/// The highest page number a list answers (deeper paging is a filter's job).
pub const MAX_PAGE: u32 = 1_000_000;

/// The page a list asks for: out-of-range values are refused with the limits, not clamped,
/// so a client asking for 1,000 rows learns it gets at most [`Page::MAX_PER_PAGE`]. The API
/// documents the same bounds on every `page` and `per_page` parameter.
pub fn page(page: Option<u32>, per_page: Option<u32>) -> Result<Page, AppError> {
    if let Some(n) = page.filter(|n| !(1..=MAX_PAGE).contains(n)) {
        return Err(AppError::validation("page", format!("页码应为 1–{MAX_PAGE}，不能是 {n}")));
    }
    if let Some(n) = per_page.filter(|n| !(1..=Page::MAX_PER_PAGE).contains(n)) {
        return Err(AppError::validation("per_page", format!("每页条数应为 1–{}，不能是 {n}", Page::MAX_PER_PAGE)));
    }
    Ok(Page::new(page, per_page))
}
