//! People use cases: registering volunteers, social workers and beneficiaries (one person
//! record per citizen ID, several roles), scoped lists and details with masked data, the
//! audited full view, and exports. The bulk import validates and writes through the same
//! functions ([`Checker`], [`plan`], [`apply`]).
//! One file per part; this module holds the field errors, the role check and the small
//! field rules the checker and the edits share.

mod checker;
mod edits;
mod input;
mod lists;
mod patches;
mod registration;
mod views;

pub use checker::*;
pub use edits::*;
pub use input::*;
pub use lists::*;
pub use patches::*;
pub use registration::*;
pub use views::*;

use chrono::NaiveDate;
use serde::Serialize;
use wushe_domain::registry::person::PersonRole;

use crate::auth::CurrentUser;
use crate::error::AppError;

/// A field that failed a rule: the field's Chinese name (also the import column) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn ferr(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_string(), message: message.into() }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> AppError {
        AppError::validation(e.field, e.message)
    }
}

/// Who may work with people in which role.
pub fn require_role(user: &CurrentUser, role: PersonRole, writing: bool) -> Result<(), AppError> {
    let allowed = user.role.works_with_people()
        && !(writing && role == PersonRole::SocialWorker && !user.role.registers_social_workers());
    user.require(allowed)
}

fn opt(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn text(errs: &mut Vec<FieldError>, field: &str, s: &Option<String>, max: usize) -> Option<String> {
    let v = opt(s)?;
    if v.chars().count() > max {
        errs.push(ferr(field, format!("不能超过 {max} 个字符")));
        return None;
    }
    Some(v.to_string())
}

fn date(errs: &mut Vec<FieldError>, field: &str, s: &str, today: NaiveDate) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Err(_) => {
            errs.push(ferr(field, if s.trim().is_empty() { "不能为空" } else { "日期格式应为 YYYY-MM-DD" }));
            None
        }
        Ok(d) if d > today => {
            errs.push(ferr(field, "不能晚于今天"));
            None
        }
        Ok(d) => Some(d),
    }
}
