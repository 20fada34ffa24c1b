//! Accident-insurance policies an organization records for its volunteers.

use serde::Deserialize;
use utoipa::ToSchema;
use wushe_store::accounts::audit::{self, Event};
use wushe_store::volunteering::insurance;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::own_org;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PolicyInput {
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub insurer: String,
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub policy_number: String,
    /// YYYY-MM-DD
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Volunteers covered (person ids of the organization's volunteers).
    pub person_ids: Vec<i64>,
    /// Administrators only: the organization holding the policy.
    pub organization_id: Option<i64>,
}

/// Record an accident-insurance policy for the organization's volunteers.
pub async fn create_policy(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: PolicyInput,
) -> Result<i64, AppError> {
    let org = own_org(state, user, input.organization_id).await?;
    let insurer = input.insurer.trim();
    let number = input.policy_number.trim();
    if insurer.is_empty() || insurer.chars().count() > 100 {
        return Err(AppError::validation("保险公司", "不能为空，且不超过 100 个字符"));
    }
    if number.is_empty() || number.chars().count() > 64 {
        return Err(AppError::validation("保单号", "不能为空，且不超过 64 个字符"));
    }
    if input.ends_on < input.starts_on {
        return Err(AppError::validation("保险止期", "不能早于起期"));
    }
    if input.person_ids.is_empty() || input.person_ids.len() > 100_000 {
        return Err(AppError::validation("被保险人", "至少一人，至多 100,000 人"));
    }
    let mut ids = input.person_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = state.db.begin().await?;
    let members: std::collections::HashSet<i64> = wushe_store::registry::people::memberships(&mut tx, &ids)
        .await?
        .into_iter()
        .filter(|(_, o)| *o == org)
        .map(|(p, _)| p)
        .collect();
    if let Some(stranger) = ids.iter().find(|p| !members.contains(p)) {
        return Err(AppError::validation("被保险人", format!("人员 {stranger} 不是本组织的志愿者")));
    }
    let id = insurance::insert(
        &mut tx,
        &insurance::NewPolicy {
            organization_id: org,
            insurer,
            policy_number: number,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            note: input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()),
            person_ids: &ids,
            created_by: Some(user.id),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "insurance_policy",
            entity_id: Some(id.to_string()),
            division_code: &user.scope_division,
            organization_id: Some(org),
            summary: serde_json::json!({ "insurer": insurer, "number": number, "covered": ids.len(),
                                         "from": input.starts_on, "to": input.ends_on }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn policies(
    state: &AppState,
    user: &CurrentUser,
    organization_id: Option<i64>,
) -> Result<Vec<insurance::PolicyRow>, AppError> {
    let org = own_org(state, user, organization_id).await?;
    Ok(insurance::for_organization(&state.db, org).await?)
}
