//! Wushe's database layer. Repositories take a [`Scope`](wushe_domain::accounts::Scope) for
//! every list or load, so there is no unscoped path from a handler to personal data.

pub mod crypto;
pub mod db;

pub mod error;
pub mod group_commit;
pub mod meta;
pub mod query;
pub mod schema;
pub mod shared;
pub mod time;
pub mod writer_cpu;

pub mod accounts;
pub mod regions;
pub mod registry;
pub mod settings;
pub mod stats;
pub mod timebank;
pub mod volunteering;

pub use db::{Backend, Db, DbOptions, Tx, TxMark};
pub use error::StoreError;

/// The one pagination of Wushe: 1-based page number and page size (capped).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Default for Page {
    fn default() -> Self {
        Page { page: 1, per_page: 20 }
    }
}

impl Page {
    pub const MAX_PER_PAGE: u32 = 200;

    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Page {
        Page { page: page.unwrap_or(1).max(1), per_page: per_page.unwrap_or(20).clamp(1, Self::MAX_PER_PAGE) }
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

/// One page of results with the total count of the filter (see [`query::COUNT_CAP`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// More than `total` rows match: counting stopped at the cap.
    pub capped: bool,
    pub page: Page,
}

impl<T> Paged<T> {
    /// The count as shown: `10000+` when counting stopped at the cap.
    pub fn total_label(&self) -> String {
        if self.capped {
            format!("{}+", self.total)
        } else {
            self.total.to_string()
        }
    }

    pub fn pages(&self) -> u32 {
        let per = i64::from(self.page.per_page.max(1));
        u32::try_from((self.total + per - 1) / per).unwrap_or(u32::MAX).max(1)
    }
}

/// Escape `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}
