//! Volunteer service: activities, sign-ups, check-in/out, hour confirmation, corrections and
//! a volunteer's record.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wushe_domain::volunteering::activity::{ActivityStatus, ServiceCategory};
use wushe_domain::volunteering::signup::SignupAction;
use wushe_store::volunteering::activities::ActivityFilter;

use super::registry::Created;
use super::{ApiJson, ApiQuery};
use crate::auth::{CurrentUser, MaybeUser, RequestMeta};
use crate::error::{AppError, ErrorBody};
use crate::service::volunteering::{
    self as svc, ActivityDetail, ActivityInput, ActivityView, AttendanceResult, CheckInput, ConfirmInput,
    ConfirmedRecord, CorrectionInput, SignupResult, VolunteerRecord,
};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// Title fragment.
    #[serde(default, deserialize_with = "crate::text::line::opt")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Region subtree (code prefix).
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub region: Option<String>,
    /// Service category key.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub category: Option<String>,
    /// draft | published | closed | cancelled
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub status: Option<String>,
    pub organization_id: Option<i64>,
    /// Only activities that have not ended yet, soonest first.
    pub upcoming: Option<bool>,
    /// Near a point (with `lng` and `km`).
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub km: Option<f64>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

impl ActivityParams {
    pub fn filter(&self) -> Result<ActivityFilter, AppError> {
        let region = match self.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(crate::service::regions::parse_code("region", r)?.prefix().to_string()),
            None => None,
        };
        let category = match self.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => Some(
                ServiceCategory::parse(c)
                    .ok_or_else(|| AppError::validation("category", format!("未知的服务类别「{c}」")))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let status = match self.status.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(s) => Some(
                ActivityStatus::parse(s)
                    .ok_or_else(|| AppError::validation("status", format!("未知的活动状态「{s}」")))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let near = match (self.lat, self.lng) {
            (Some(lat), Some(lng)) => {
                let p = wushe_domain::volunteering::attendance::GeoPoint::new(lat, lng)
                    .ok_or_else(|| AppError::validation("lat", "坐标超出范围"))?;
                let km = self.km.unwrap_or(5.0).clamp(0.1, 200.0);
                Some(((p.lat * 1e6) as i64, (p.lng * 1e6) as i64, (km * 1000.0) as i64))
            }
            _ => None,
        };
        Ok(ActivityFilter {
            q: self.q.clone(),
            region,
            category,
            status,
            organization_id: self.organization_id,
            upcoming_after: self.upcoming.unwrap_or(false).then(Utc::now),
            near,
        })
    }
}

/// Activities: the public and volunteers see published ones; staff and officials everything
/// in their scope.
#[utoipa::path(operation_id = "listActivities", get, path = "/api/v1/activities", tag = "volunteering", params(ActivityParams),
    responses((status = 200, body = super::ListPage<ActivityView>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    ApiQuery(p): ApiQuery<ActivityParams>,
) -> Result<Json<super::ListPage<ActivityView>>, AppError> {
    let page = crate::service::page(p.page, p.per_page)?;
    let res = svc::list_activities(&state, user.as_ref(), &p.filter()?, &page).await?;
    Ok(Json(super::ListPage::from(res)))
}

/// Publish an activity (organization staff for their organization).
#[utoipa::path(operation_id = "createActivity", post, path = "/api/v1/activities", tag = "volunteering", request_body = ActivityInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<ActivityInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = svc::create_activity(&state, &user, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One activity with its slots and their places.
#[utoipa::path(operation_id = "getActivity", get, path = "/api/v1/activities/{id}", tag = "volunteering", params(("id" = i64, Path)),
    responses((status = 200, body = ActivityDetail), (status = 404, body = ErrorBody)))]
pub async fn get_activity(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(id): Path<i64>,
) -> Result<Json<ActivityDetail>, AppError> {
    Ok(Json(svc::activity_detail(&state, user.as_ref(), id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivityStatusInput {
    /// published | closed | cancelled
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub status: String,
}

/// Publish, close or cancel an activity.
#[utoipa::path(operation_id = "setActivityStatus", post, path = "/api/v1/activities/{id}/status", tag = "volunteering",
    params(("id" = i64, Path)), request_body = ActivityStatusInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn set_status(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ActivityStatusInput>,
) -> Result<StatusCode, AppError> {
    let to = ActivityStatus::parse(&input.status)
        .ok_or_else(|| AppError::validation("status", format!("未知的活动状态「{}」", input.status)))?;
    svc::set_activity_status(&state, &user, &meta, id, to).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinCode {
    /// Six digits; the QR on the organizer's screen encodes the check-in page with it.
    pub code: String,
    /// When the code changes (the previous code stays valid one more period).
    pub valid_until: DateTime<Utc>,
}

/// The rotating check-in code of an activity (its organizers only).
#[utoipa::path(operation_id = "getCheckinCode", get, path = "/api/v1/activities/{id}/checkin-code", tag = "volunteering",
    params(("id" = i64, Path)), responses((status = 200, body = CheckinCode), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn checkin_code(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<CheckinCode>, AppError> {
    let (code, valid_until) = svc::checkin_code(&state, &user, id).await?;
    Ok(Json(CheckinCode { code, valid_until }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Roster {
    #[schema(value_type = Vec<Object>)]
    pub signups: Vec<wushe_store::volunteering::signups::SignupRow>,
    #[schema(value_type = Vec<Object>)]
    pub attendance: Vec<wushe_store::volunteering::attendance::AttendanceRow>,
}

/// Sign-ups and attendance of an activity (its organizers and overseeing officials).
#[utoipa::path(operation_id = "getRoster", get, path = "/api/v1/activities/{id}/roster", tag = "volunteering",
    params(("id" = i64, Path)), responses((status = 200, body = Roster), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn roster(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Roster>, AppError> {
    let (signups, attendance) = svc::roster(&state, &user, id).await?;
    Ok(Json(Roster { signups, attendance }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignupInput {
    pub slot_id: i64,
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Sign up for a slot (volunteers). Approved at once when the activity approves
/// automatically and a place is free, otherwise pending or on the waiting list.
#[utoipa::path(operation_id = "signUp", post, path = "/api/v1/activities/{id}/signups", tag = "volunteering",
    params(("id" = i64, Path)), request_body = SignupInput,
    responses((status = 201, body = SignupResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn sign_up(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<SignupInput>,
) -> Result<(StatusCode, Json<SignupResult>), AppError> {
    let r = svc::sign_up(&state, &user, &meta, id, input.slot_id, input.note).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionInput {
    /// approve | decline | cancel
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub action: String,
}

/// Decide on a sign-up (organizers), or withdraw your own (`cancel`).
#[utoipa::path(operation_id = "decideSignup", post, path = "/api/v1/signups/{id}/decision", tag = "volunteering",
    params(("id" = i64, Path)), request_body = DecisionInput,
    responses((status = 200, body = SignupResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<SignupResult>, AppError> {
    let action = match input.action.as_str() {
        "approve" => SignupAction::Approve { place_free: false },
        "decline" => SignupAction::Decline,
        "cancel" => SignupAction::Cancel,
        other => return Err(AppError::validation("action", format!("未知的操作「{other}」"))),
    };
    Ok(Json(svc::act_on_signup(&state, &user, &meta, id, action).await?))
}

/// Check in: a volunteer with the code from the activity's QR (and their position when the
/// activity has a check-in radius), or an organizer for a sign-up from the roster.
#[utoipa::path(operation_id = "checkIn", post, path = "/api/v1/attendance/check-in", tag = "volunteering", request_body = CheckInput,
    responses((status = 201, body = AttendanceResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn check_in(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<CheckInput>,
) -> Result<(StatusCode, Json<AttendanceResult>), AppError> {
    Ok((StatusCode::CREATED, Json(svc::check_in(&state, &user, &meta, input).await?)))
}

/// Check out (the same ways), or an organizer resolving a missing check-out with the time
/// the service ended (`checked_out_at`, `note`).
#[utoipa::path(operation_id = "checkOut", post, path = "/api/v1/attendance/check-out", tag = "volunteering", request_body = CheckInput,
    responses((status = 200, body = AttendanceResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn check_out(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<CheckInput>,
) -> Result<Json<AttendanceResult>, AppError> {
    Ok(Json(svc::check_out(&state, &user, &meta, input).await?))
}

/// Confirm hours of checked-out attendances (one or many; all or none). Credited minutes
/// follow the deployment's hour rules; nobody confirms their own hours.
#[utoipa::path(operation_id = "confirmHours", post, path = "/api/v1/service-records/confirm", tag = "volunteering",
    request_body = ConfirmInput,
    responses((status = 201, body = Vec<ConfirmedRecord>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<ConfirmInput>,
) -> Result<(StatusCode, Json<Vec<ConfirmedRecord>>), AppError> {
    Ok((StatusCode::CREATED, Json(svc::confirm(&state, &user, &meta, input).await?)))
}

/// Ask for a correction of a confirmed record (the volunteer, or the recording organization):
/// new times, or `void` when the service did not happen. A voided record cannot be corrected again.
#[utoipa::path(operation_id = "requestCorrection", post, path = "/api/v1/service-records/{id}/corrections", tag = "volunteering",
    params(("id" = i64, Path)), request_body = CorrectionInput,
    responses((status = 201, body = Created), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn request_correction(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<CorrectionInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = svc::request_correction(&state, &user, &meta, id, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewInput {
    pub approve: bool,
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewResult {
    /// The record that supersedes the corrected one (when approved; none for a void).
    pub new_record_id: Option<i64>,
}

/// Approve (a new record supersedes the old; both kept. A void withdraws the old record with
/// no successor, taking back its hours, coins, points and figures) or reject a correction request.
#[utoipa::path(operation_id = "reviewCorrection", post, path = "/api/v1/corrections/{id}/review", tag = "volunteering",
    params(("id" = i64, Path)), request_body = ReviewInput,
    responses((status = 200, body = ReviewResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn review_correction(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<ReviewResult>, AppError> {
    let new_record_id = svc::review_correction(&state, &user, &meta, id, input.approve, input.note).await?;
    Ok(Json(ReviewResult { new_record_id }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordParams {
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// A volunteer's record: totals per year and overall, star level, and a page of the
/// services (newest first).
#[utoipa::path(operation_id = "getVolunteerRecord", get, path = "/api/v1/volunteers/{id}/record", tag = "volunteering",
    params(("id" = i64, Path, description = "person id"), RecordParams),
    responses((status = 200, body = VolunteerRecord), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiQuery(p): ApiQuery<RecordParams>,
) -> Result<Json<VolunteerRecord>, AppError> {
    Ok(Json(svc::volunteer_record(&state, &user, id, &crate::service::page(p.page, p.per_page)?).await?))
}

/// Record an accident-insurance policy covering the organization's volunteers (risky
/// activities refuse check-in to anyone not covered on the day).
#[utoipa::path(operation_id = "createInsurancePolicy", post, path = "/api/v1/insurance-policies", tag = "volunteering",
    request_body = svc::PolicyInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_policy(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<svc::PolicyInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = svc::create_policy(&state, &user, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyParams {
    /// Administrators: whose policies.
    pub organization_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<wushe_store::volunteering::insurance::PolicyRow>,
}

/// The organization's insurance policies, latest first.
#[utoipa::path(operation_id = "listInsurancePolicies", get, path = "/api/v1/insurance-policies", tag = "volunteering",
    params(PolicyParams), responses((status = 200, body = PolicyList), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_policies(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<PolicyParams>,
) -> Result<Json<PolicyList>, AppError> {
    Ok(Json(PolicyList { items: svc::policies(&state, &user, p.organization_id).await? }))
}

/// The deployment's volunteering rules: credited hours and star levels.
#[utoipa::path(operation_id = "getVolunteeringSettings", get, path = "/api/v1/settings/volunteering", tag = "volunteering",
    responses((status = 200, body = svc::VolunteeringSettings)), security(("bearer" = []), ("session" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> Result<Json<svc::VolunteeringSettings>, AppError> {
    Ok(Json(svc::settings_view(&state).await?))
}

/// Change the volunteering rules (administrators; audited with before and after).
#[utoipa::path(operation_id = "putVolunteeringSettings", put, path = "/api/v1/settings/volunteering", tag = "volunteering",
    request_body = svc::VolunteeringSettings,
    responses((status = 200, body = svc::VolunteeringSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<svc::VolunteeringSettings>,
) -> Result<Json<svc::VolunteeringSettings>, AppError> {
    Ok(Json(svc::update_settings(&state, &user, &meta, input).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Region code prefix inside your scope (default: your scope).
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub region: Option<String>,
    /// Calendar year (default: this year).
    pub year: Option<i32>,
}

/// Volunteering figures of a region in your scope (officials, station staff, administrators).
#[utoipa::path(operation_id = "getVolunteeringStats", get, path = "/api/v1/stats/volunteering", tag = "volunteering",
    params(StatsParams), responses((status = 200, body = svc::VolunteeringStats), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn stats(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<svc::VolunteeringStats>, AppError> {
    Ok(Json(svc::region_stats(&state, &user, p.region.as_deref(), p.year).await?))
}
