//! Volunteer service certificates: the volunteer's request, the issuing organization's
//! decisions, lists, the full view, the PDF, and the public verification by number.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wushe_domain::volunteering::certificate::CertificateAction;

use super::registry::Created;
use super::{ApiJson, ApiQuery};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::{AppError, ErrorBody};
use crate::service::certificates::{
    self as svc, CertificateDetail, CertificateView, IssuerView, PublicCertificate, RequestInput,
};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CertificateParams {
    /// requested | publicity | issued | declined | revoked
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub status: Option<String>,
    pub organization_id: Option<i64>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// Certificates: a volunteer's own, an organization's, or those issued in an official's
/// region; requests in progress first.
#[utoipa::path(operation_id = "listCertificates", get, path = "/api/v1/certificates", tag = "volunteering",
    params(CertificateParams), responses((status = 200, body = super::ListPage<CertificateView>), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<CertificateParams>,
) -> Result<Json<super::ListPage<CertificateView>>, AppError> {
    let page = crate::service::page(p.page, p.per_page)?;
    let f = svc::ListFilter { status: p.status, organization_id: p.organization_id };
    let res = svc::list(&state, &user, &f, &page).await?;
    Ok(Json(super::ListPage::from(res)))
}

/// Ask an organization that recorded your hours for a certificate (volunteers; free of
/// charge). One request per organization at a time.
#[utoipa::path(operation_id = "requestCertificate", post, path = "/api/v1/certificates", tag = "volunteering",
    request_body = RequestInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn request(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<RequestInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = svc::request(&state, &user, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerList {
    pub items: Vec<IssuerView>,
}

/// The organizations that recorded your hours, which you may ask for a certificate (volunteers).
#[utoipa::path(operation_id = "listCertificateIssuers", get, path = "/api/v1/certificates/issuers", tag = "volunteering",
    responses((status = 200, body = IssuerList), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn issuers(State(state): State<AppState>, user: CurrentUser) -> Result<Json<IssuerList>, AppError> {
    Ok(Json(IssuerList { items: svc::issuers(&state, &user).await? }))
}

/// One certificate in full: holder, issuer, the itemized services and the total (audited).
#[utoipa::path(operation_id = "getCertificate", get, path = "/api/v1/certificates/{id}", tag = "volunteering",
    params(("id" = i64, Path)),
    responses((status = 200, body = CertificateDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_certificate(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Json<CertificateDetail>, AppError> {
    Ok(Json(svc::detail(&state, &user, &meta, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CertificateDecision {
    /// issue (starts the publicity first when that setting is on) | decline | revoke
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub action: String,
    /// Required to decline or revoke (2–200 characters).
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// The issuing organization issues, declines or revokes a certificate (its staff; never
/// their own). The person in charge comes from the organization's record, the handler is
/// the acting user.
#[utoipa::path(operation_id = "decideCertificate", post, path = "/api/v1/certificates/{id}/decision", tag = "volunteering",
    params(("id" = i64, Path)), request_body = CertificateDecision,
    responses((status = 200, body = CertificateView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<CertificateDecision>,
) -> Result<Json<CertificateView>, AppError> {
    let action = parse_action(&input.action)?;
    Ok(Json(svc::decide(&state, &user, &meta, id, action, input.reason.as_deref()).await?))
}

pub fn parse_action(s: &str) -> Result<CertificateAction, AppError> {
    match s {
        "issue" => Ok(CertificateAction::Issue),
        "decline" => Ok(CertificateAction::Decline),
        "revoke" => Ok(CertificateAction::Revoke),
        other => Err(AppError::validation("action", format!("未知的操作「{other}」，应为 issue、decline 或 revoke"))),
    }
}

/// The issued certificate as a PDF (A4, with the QR code of its public verification page;
/// audited).
#[utoipa::path(operation_id = "getCertificatePdf", get, path = "/api/v1/certificates/{id}/pdf", tag = "volunteering",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", body = crate::api::Binary), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (name, bytes) = svc::pdf(&state, &user, &meta, id, crate::ui::request_origin(&headers)).await?;
    let disposition =
        format!("attachment; filename=\"certificate.pdf\"; filename*=UTF-8''{}", crate::ui::url_encode(&name));
    let mut res = bytes.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(res)
}

/// Verify a certificate (no login): valid or revoked, the issuer and its credit code, the
/// masked holder, the volunteer number, the hours and the issue date. Rate-limited.
#[utoipa::path(operation_id = "verifyCertificate", get, path = "/api/v1/public/certificates/{number}", tag = "public",
    params(("number" = String, Path, max_length = 40, description = "certificate number, with or without dashes")),
    responses((status = 200, body = PublicCertificate), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<PublicCertificate>, AppError> {
    Ok(Json(svc::verify(&state, &number).await?))
}
