//! The deployment's volunteering rules (hours, stars, time bank, points, certificates):
//! reading them and the administrators' audited change.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::accounts::Role;
use wushe_domain::timebank::{PointRules, TimebankRules};
use wushe_domain::volunteering::{HourRules, StarRules};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::settings;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::{HOUR_RULES_KEY, POINT_RULES_KEY, STAR_RULES_KEY, TIMEBANK_RULES_KEY};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VolunteeringSettings {
    /// Credited hours: rounding unit and mode, caps per activity and per day, back-fill days.
    #[schema(value_type = Object)]
    pub hours: HourRules,
    /// Star thresholds (hours), approving level per star, minimum registration months.
    #[schema(value_type = Object)]
    pub stars: StarRules,
    /// Time bank: depositor and withdrawal ages, storage cap, gifts to relatives, expiry.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub timebank: TimebankRules,
    /// Points earned per credited hour.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub points: PointRules,
    /// Certificates: the optional in-unit publicity before issue (off by default; 7 days).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub certificates: wushe_domain::volunteering::certificate::CertificateRules,
}

pub async fn settings_view(state: &AppState) -> Result<VolunteeringSettings, AppError> {
    Ok(VolunteeringSettings {
        hours: settings::get(&state.db, HOUR_RULES_KEY).await?,
        stars: settings::get(&state.db, STAR_RULES_KEY).await?,
        timebank: settings::get(&state.db, TIMEBANK_RULES_KEY).await?,
        points: settings::get(&state.db, POINT_RULES_KEY).await?,
        certificates: settings::get(&state.db, crate::service::certificates::CERTIFICATE_RULES_KEY).await?,
    })
}

/// Change the deployment's volunteering rules (administrators); audited with before/after.
pub async fn update_settings(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    new: VolunteeringSettings,
) -> Result<VolunteeringSettings, AppError> {
    user.require(user.role == Role::Admin)?;
    new.hours.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    new.stars.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    new.timebank.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    new.points.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    new.certificates.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    let before = settings_view(state).await?;
    let stars_changed = before.stars != new.stars;
    let mut tx = state.db.begin().await?;
    settings::set(&mut tx, HOUR_RULES_KEY, &new.hours, Some(user.id)).await?;
    settings::set(&mut tx, STAR_RULES_KEY, &new.stars, Some(user.id)).await?;
    settings::set(&mut tx, TIMEBANK_RULES_KEY, &new.timebank, Some(user.id)).await?;
    settings::set(&mut tx, POINT_RULES_KEY, &new.points, Some(user.id)).await?;
    settings::set(&mut tx, crate::service::certificates::CERTIFICATE_RULES_KEY, &new.certificates, Some(user.id))
        .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "update",
            entity: "settings",
            entity_id: Some("volunteering".into()),
            division_code: "",
            organization_id: None,
            summary: serde_json::json!({ "before": before, "after": new }),
        },
    )
    .await?;
    tx.commit().await?;
    if stars_changed {
        // awards follow the new thresholds and registration period at once
        let changed = crate::service::stars::follow_rules(&state.db, &new.stars).await?;
        let mut tx = state.db.begin().await?;
        audit::append(
            &mut tx,
            &meta.actor(Some(user)),
            &Event {
                action: "follow_rules",
                entity: "star_award",
                entity_id: None,
                division_code: "",
                organization_id: None,
                summary: serde_json::json!({ "volunteers_changed": changed }),
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(new)
}
