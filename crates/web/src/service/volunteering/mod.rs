//! Volunteer service: activities, sign-ups, check-in/out, hour confirmation (through the
//! group-commit writer), a volunteer's record with totals and star level, corrections.
//! One file per part; this module holds the settings keys and the helpers several parts share.

mod activities;
mod attendance;
mod confirmation;
mod corrections;
mod insurance;
mod record;
mod settings;
mod signups;
mod stats;

pub use activities::*;
pub use attendance::*;
pub use confirmation::*;
pub use corrections::*;
pub use insurance::*;
pub use record::*;
pub use settings::*;
pub use signups::*;
pub use stats::*;

use wushe_domain::accounts::Role;
use wushe_domain::stats::metric;
use wushe_store::stats::Delta;
use wushe_store::volunteering::activities::ActivityRow;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

pub const HOUR_RULES_KEY: &str = "volunteering.hours";
pub const STAR_RULES_KEY: &str = "volunteering.stars";
pub const TIMEBANK_RULES_KEY: &str = "volunteering.timebank";
pub const POINT_RULES_KEY: &str = "volunteering.points";

/// Comma-joined dictionary keys as stored.
fn split_keys(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect()
}

fn e6(v: f64) -> i64 {
    (v * 1e6).round() as i64
}

/// The organization a user runs activities (and insurance) for: staff their own, an
/// administrator the one named, which must exist in their scope. Staff naming another
/// organization are refused, not silently given their own.
async fn own_org(state: &AppState, user: &CurrentUser, requested: Option<i64>) -> Result<i64, AppError> {
    user.require(user.role.runs_activities())?;
    match (user.organization_id, requested, user.role) {
        (Some(o), Some(r), _) if r != o => {
            Err(AppError::Forbidden("只能为本组织进行此操作，不能指定其他组织（organization_id）".into()))
        }
        (Some(o), _, _) => Ok(o),
        (None, Some(o), Role::Admin) => {
            match wushe_store::registry::organizations::get_organization(&state.db, &user.scope(), o).await {
                Ok(_) => Ok(o),
                Err(wushe_store::StoreError::NotFound) => {
                    Err(AppError::validation("organization_id", format!("组织 {o} 不存在或不在您的管辖范围内")))
                }
                Err(e) => Err(e.into()),
            }
        }
        _ => Err(AppError::validation("organization_id", "请指定举办活动的组织")),
    }
}

/// Whether the user runs this activity (its organization's staff, or an administrator).
fn manages(user: &CurrentUser, a: &ActivityRow) -> bool {
    user.role.runs_activities() && (user.role == Role::Admin || user.organization_id == Some(a.organization_id))
}

fn require_manages(user: &CurrentUser, a: &ActivityRow) -> Result<(), AppError> {
    if manages(user, a) {
        Ok(())
    } else {
        Err(AppError::Forbidden("只有举办该活动的组织可以进行此操作".into()))
    }
}

fn volunteer_person(user: &CurrentUser) -> Result<i64, AppError> {
    match (user.role, user.person_id) {
        (Role::Volunteer, Some(p)) => Ok(p),
        (Role::Volunteer, None) => Err(AppError::Forbidden("您的账号尚未关联志愿者登记信息，请联系所在组织".into())),
        _ => Err(AppError::Forbidden("请使用志愿者账号报名和签到".into())),
    }
}

/// The figures one record moves (sign −1 when a correction takes it back).
fn record_deltas(code: &str, category: &str, day: chrono::NaiveDate, minutes: i64, sign: i64) -> Vec<Delta> {
    vec![
        Delta::new(metric::VOLUNTEER_MINUTES, code, day, sign * minutes),
        Delta::new(metric::minutes_in(category), code, day, sign * minutes),
        Delta::new(metric::SERVICE_RECORDS, code, day, sign),
    ]
}
