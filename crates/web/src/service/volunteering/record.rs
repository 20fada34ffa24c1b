//! A volunteer's record: totals per year, star level earned and approved, star awards and
//! one page of services.

use serde::Serialize;
use utoipa::ToSchema;
use wushe_domain::volunteering::{hours, StarRules};
use wushe_store::volunteering::records::{self, RecordRow};
use wushe_store::volunteering::signups;
use wushe_store::{settings, Page};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

use super::STAR_RULES_KEY;

#[derive(Debug, Serialize, ToSchema)]
pub struct YearTotal {
    pub year: String,
    pub minutes: i64,
    pub hours: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolunteerRecord {
    pub person_id: i64,
    pub total_minutes: i64,
    pub total_hours: String,
    pub years: Vec<YearTotal>,
    /// Star level the confirmed hours earn (0–5) under the deployment's rules.
    pub star_level: u8,
    pub stars: String,
    /// Hours to the next star (absent at five stars).
    pub hours_to_next_star: Option<i64>,
    /// The highest star approved by the civil-affairs department of the approving level
    /// (0 = none); `star_level` is what the hours earn, this is what has been confirmed.
    pub approved_star_level: u8,
    pub approved_stars: String,
    /// Every star award: pending ones (reached, awaiting approval), approved (who, when),
    /// rejected (with the reason) and lapsed (after a correction).
    pub star_awards: Vec<crate::service::stars::AwardView>,
    /// One page of the services, newest first (superseded ones marked).
    #[schema(value_type = Vec<Object>)]
    pub services: Vec<RecordRow>,
    /// All services on record (in force and superseded).
    pub services_total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// A volunteer's record: their own, or one in the caller's scope (staff and officials).
pub async fn volunteer_record(
    state: &AppState,
    user: &CurrentUser,
    person_id: i64,
    page: &Page,
) -> Result<VolunteerRecord, AppError> {
    if user.person_id != Some(person_id) {
        // staff see the record only of volunteers they may see in the registry
        crate::service::people::require_role(user, wushe_domain::registry::person::PersonRole::Volunteer, false)?;
        wushe_store::registry::people::get(
            &state.db,
            &state.keys,
            &user.scope(),
            wushe_domain::registry::person::PersonRole::Volunteer,
            person_id,
        )
        .await?;
    }
    let stars: StarRules = settings::get(&state.db, STAR_RULES_KEY).await?;
    let services = records::for_person(&state.db, person_id, page).await?;
    let years = records::yearly_minutes(&state.db, person_id).await?;
    let total: i64 = years.iter().map(|y| y.1).sum();
    let registered = signups::registered_on(&state.db, person_id).await?;
    let level = stars.level(total, registered, crate::service::registry::today());
    let (approved, star_awards) = crate::service::stars::of_person(state, person_id).await?;
    Ok(VolunteerRecord {
        approved_star_level: approved,
        approved_stars: wushe_domain::volunteering::stars::stars_label(approved),
        star_awards,
        person_id,
        total_minutes: total,
        total_hours: hours::hours_label(total),
        years: years
            .into_iter()
            .map(|(y, m)| YearTotal { year: y, minutes: m, hours: hours::hours_label(m) })
            .collect(),
        star_level: level,
        stars: wushe_domain::volunteering::stars::stars_label(level),
        hours_to_next_star: stars.hours_to_next(total),
        services: services.items,
        services_total: services.total,
        page: page.page,
        per_page: page.per_page,
    })
}
