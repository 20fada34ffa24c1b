//! Officials' supervision of volunteer service: the star-approval queue and decisions, and
//! spot-checks of hour records (抽查) with their public results.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::registry::Created;
use super::{ApiJson, ApiQuery};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::{AppError, ErrorBody};
use crate::service::spot_checks::{
    self as checks, FindingInput, FlaggedRecord, PublicSpotCheck, PublicSpotCheckDetail, SpotCheckDetail,
    SpotCheckInput, SpotCheckParams, SpotCheckView, Verification,
};
use crate::service::stars::{self, AwardView, QueuePage, QueueParams};
use crate::state::AppState;

/// Star awards of volunteers at home in your region: by default the pending ones your level
/// approves (county: 1–2 stars, city: 3–4, province: 5, per the settings).
#[utoipa::path(operation_id = "listStarAwards", get, path = "/api/v1/star-awards", tag = "volunteering",
    params(QueueParams), responses((status = 200, body = QueuePage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_star_awards(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<QueueParams>,
) -> Result<Json<QueuePage>, AppError> {
    Ok(Json(stars::queue(&state, &user, &p).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StarDecisionInput {
    pub approve: bool,
    /// Required when rejecting: the reason (shown on the volunteer's record).
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Approve or reject a pending star (officials of the approving level whose scope covers the
/// volunteer's home region; approval waits for the minimum registration period).
#[utoipa::path(operation_id = "decideStarAward", post, path = "/api/v1/star-awards/{id}/decision", tag = "volunteering",
    params(("id" = i64, Path)), request_body = StarDecisionInput,
    responses((status = 200, body = AwardView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn decide_star_award(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<StarDecisionInput>,
) -> Result<Json<AwardView>, AppError> {
    Ok(Json(stars::decide(&state, &user, &meta, id, input.approve, input.note).await?))
}

/// Spot-checks of regions inside your scope, newest first, in any stage.
#[utoipa::path(operation_id = "listSpotChecks", get, path = "/api/v1/spot-checks", tag = "volunteering",
    params(SpotCheckParams), responses((status = 200, body = super::ListPage<SpotCheckView>), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_spot_checks(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<SpotCheckParams>,
) -> Result<Json<super::ListPage<SpotCheckView>>, AppError> {
    let r = checks::list(&state, &user, &p).await?;
    Ok(Json(super::ListPage::from(r)))
}

/// Start a spot-check: the sample is drawn at once from the confirmed records in force in
/// the region and period (by SHA-256 rank under the seed, which is recorded).
#[utoipa::path(operation_id = "createSpotCheck", post, path = "/api/v1/spot-checks", tag = "volunteering",
    request_body = SpotCheckInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_spot_check(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<SpotCheckInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = checks::create(&state, &user, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A spot-check with its sampled records and findings (officials covering its region).
#[utoipa::path(operation_id = "getSpotCheck", get, path = "/api/v1/spot-checks/{id}", tag = "volunteering",
    params(("id" = i64, Path)), responses((status = 200, body = SpotCheckDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_spot_check(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<SpotCheckDetail>, AppError> {
    Ok(Json(checks::detail(&state, &user, id).await?))
}

/// Record the finding for one sampled record (属实 / 不属实 / 存疑, with a note for the
/// last two) while the check is in progress.
#[utoipa::path(operation_id = "setSpotCheckFinding", put, path = "/api/v1/spot-checks/{id}/records/{record_id}", tag = "volunteering",
    params(("id" = i64, Path), ("record_id" = i64, Path)), request_body = FindingInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn set_finding(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path((id, record_id)): Path<(i64, i64)>,
    ApiJson(input): ApiJson<FindingInput>,
) -> Result<StatusCode, AppError> {
    checks::set_finding(&state, &user, &meta, id, record_id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompleteInput {
    /// The conclusion to publish (4–2000 characters).
    #[serde(deserialize_with = "crate::text::note::one")]
    #[schema(max_length = 2000)]
    pub conclusion: String,
}

/// Complete a spot-check once every sampled record has a finding.
#[utoipa::path(operation_id = "completeSpotCheck", post, path = "/api/v1/spot-checks/{id}/complete", tag = "volunteering",
    params(("id" = i64, Path)), request_body = CompleteInput,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn complete_spot_check(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<CompleteInput>,
) -> Result<StatusCode, AppError> {
    checks::complete(&state, &user, &meta, id, &input.conclusion).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publish a completed spot-check on the public list.
#[utoipa::path(operation_id = "publishSpotCheck", post, path = "/api/v1/spot-checks/{id}/publish", tag = "volunteering",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn publish_spot_check(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    checks::publish(&state, &user, &meta, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Repeat a spot-check's draw: the population as of the moment of the draw, ranked by the
/// recorded seed; says whether population and sample are the ones recorded.
#[utoipa::path(operation_id = "verifySpotCheck", get, path = "/api/v1/spot-checks/{id}/verification", tag = "volunteering",
    params(("id" = i64, Path)), responses((status = 200, body = Verification), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn verify_spot_check(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Verification>, AppError> {
    Ok(Json(checks::verify(&state, &user, id).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlaggedParams {
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// Records found untrue or doubtful in completed spot-checks: your organization's (to
/// correct through `requestCorrection`), or your region's (officials).
#[utoipa::path(operation_id = "listFlaggedRecords", get, path = "/api/v1/spot-checks/flagged-records", tag = "volunteering",
    params(FlaggedParams), responses((status = 200, body = super::ListPage<FlaggedRecord>), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn flagged_records(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<FlaggedParams>,
) -> Result<Json<super::ListPage<FlaggedRecord>>, AppError> {
    let r = checks::flagged(&state, &user, &crate::service::page(p.page, p.per_page)?).await?;
    Ok(Json(super::ListPage::from(r)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicSpotCheckParams {
    /// Checks of this region (or inside it), as a division code prefix.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub region: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// Published spot-check results (no login): region, period, sample, findings, conclusion.
#[utoipa::path(operation_id = "listPublicSpotChecks", get, path = "/api/v1/public/spot-checks", tag = "public",
    params(PublicSpotCheckParams), responses((status = 200, body = super::ListPage<PublicSpotCheck>), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn public_spot_checks(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PublicSpotCheckParams>,
) -> Result<Json<super::ListPage<PublicSpotCheck>>, AppError> {
    let params = SpotCheckParams { status: None, region: p.region, page: p.page, per_page: p.per_page };
    let r = checks::public_list(&state, &params).await?;
    Ok(Json(super::ListPage::from(r)))
}

/// One published spot-check with its sampled records (volunteers' names masked).
#[utoipa::path(operation_id = "getPublicSpotCheck", get, path = "/api/v1/public/spot-checks/{id}", tag = "public",
    params(("id" = i64, Path)), responses((status = 200, body = PublicSpotCheckDetail), (status = 404, body = ErrorBody)))]
pub async fn public_spot_check(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<PublicSpotCheckDetail>, AppError> {
    Ok(Json(checks::public_detail(&state, id).await?))
}
