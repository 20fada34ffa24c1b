//! Sign-ups: a volunteer signs up for a slot, the organizer decides, the roster, and the
//! caller's own sign-ups for the activity page.

use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;
use wushe_domain::accounts::Role;
use wushe_domain::volunteering::activity::{self, ActivityStatus, Eligibility};
use wushe_domain::volunteering::signup::SignupAction;
use wushe_store::accounts::audit::{self, Event};
use wushe_store::volunteering::activities;
use wushe_store::volunteering::attendance as attendance_store;
use wushe_store::volunteering::signups;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::{manages, require_manages, split_keys, viewer, volunteer_person};

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResult {
    pub signup_id: i64,
    pub status: String,
    pub status_label: String,
}

pub async fn sign_up(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    activity_id: i64,
    slot_id: i64,
    note: Option<String>,
) -> Result<SignupResult, AppError> {
    let person = volunteer_person(user)?;
    let mut tx = state.db.begin().await?;
    let a = activities::get_tx(&mut tx, activity_id).await?;
    let status = ActivityStatus::parse(&a.status).unwrap_or(ActivityStatus::Draft);
    // a volunteer sees what the public sees: the answer for a draft is the one for no activity
    if !status.is_public() {
        return Err(AppError::from(wushe_store::StoreError::NotFound));
    }
    let slot = activities::slot_tx(&mut tx, slot_id).await?;
    if slot.activity_id != activity_id {
        return Err(AppError::NotFound("该活动没有这个时段".into()));
    }
    let facts = signups::volunteer_facts(&mut tx, person).await?;
    let required = split_keys(&a.required_skills);
    let el = Eligibility {
        min_age: a.min_age,
        risky: a.risky,
        required_skills: &required,
        recruit_until: a.recruit_until,
        status,
        slot_starts: slot.starts_at,
    };
    let skills = split_keys(&facts.skills);
    activity::may_sign_up(&el, facts.birth_date, facts.has_guardian, &skills, Utc::now())
        .map_err(AppError::Conflict)?;
    let note = note.map(|n| n.trim().chars().take(200).collect::<String>()).filter(|n| !n.is_empty());
    let (id, status) = signups::create(&mut tx, slot_id, activity_id, person, a.auto_approve, note.as_deref()).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "sign_up",
            entity: "signup",
            entity_id: Some(id.to_string()),
            division_code: &a.division_code,
            organization_id: Some(a.organization_id),
            summary: serde_json::json!({ "activity": activity_id, "slot": slot_id, "status": status.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(SignupResult { signup_id: id, status: status.as_str().into(), status_label: status.label().into() })
}

/// The organizer approves / declines / cancels, or the volunteer cancels their own.
pub async fn act_on_signup(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    signup_id: i64,
    action: SignupAction,
) -> Result<SignupResult, AppError> {
    let mut tx = state.db.begin().await?;
    let s = signups::get_tx(&mut tx, signup_id).await?;
    let a = activities::get_tx(&mut tx, s.activity_id).await?;
    let own = user.person_id == Some(s.person_id) && matches!(action, SignupAction::Cancel);
    if !own {
        require_manages(user, &a)?;
    }
    let status = signups::act(&mut tx, signup_id, action, Some(user.id)).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "signup_decision",
            entity: "signup",
            entity_id: Some(signup_id.to_string()),
            division_code: &a.division_code,
            organization_id: Some(a.organization_id),
            summary: serde_json::json!({ "from": s.status, "to": status.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(SignupResult { signup_id, status: status.as_str().into(), status_label: status.label().into() })
}

pub async fn roster(
    state: &AppState,
    user: &CurrentUser,
    activity_id: i64,
) -> Result<(Vec<signups::SignupRow>, Vec<attendance_store::AttendanceRow>), AppError> {
    let a = activities::get(&state.db, &viewer(Some(user)), activity_id).await?;
    if !manages(user, &a) && !user.role.oversees_volunteering() {
        return Err(AppError::Forbidden("只有举办组织和主管部门可以查看花名册".into()));
    }
    Ok((
        signups::for_activity(&state.db, activity_id).await?,
        attendance_store::for_activity(&state.db, activity_id).await?,
    ))
}

/// The caller's own sign-ups for an activity (volunteers with a registry person; empty for
/// everyone else), for the activity page.
pub async fn my_signups(
    state: &AppState,
    user: &CurrentUser,
    activity_id: i64,
) -> Result<Vec<signups::SignupRow>, AppError> {
    let Some(person) = user.person_id.filter(|_| user.role == Role::Volunteer) else {
        return Ok(Vec::new());
    };
    Ok(signups::for_person_activity(&state.db, person, activity_id).await?)
}
