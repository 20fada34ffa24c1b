use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wushe_store::registry::banned;
use wushe_store::registry::organizations::{self as orgs, OrgFilter, OrgSort, OrganizationRow, StatusRow};

use super::{ApiJson, ApiQuery};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::{AppError, ErrorBody};
use crate::export;
use crate::service::registry::{self as svc, BannedInput, NewOrgInput, OrgDetail, OrgStatusInput, PublicOrg};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDto {
    pub id: i64,
    pub name: String,
    pub credit_code: Option<String>,
    pub org_type: String,
    pub org_type_label: String,
    /// Significant digits of the region of activity.
    pub division_code: String,
    pub registration_authority: Option<String>,
    pub registered_on: Option<String>,
    pub status: String,
    pub status_label: String,
    pub is_charity: bool,
    pub fundraising_qualified: bool,
    pub legal_representative: Option<String>,
    pub contact_person: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
}

impl From<OrganizationRow> for OrgDto {
    fn from(o: OrganizationRow) -> Self {
        use wushe_domain::registry::org::{OrgStatus, OrgType};
        OrgDto {
            org_type_label: OrgType::parse(&o.org_type).map(|t| t.label().to_string()).unwrap_or_default(),
            status_label: OrgStatus::parse(&o.status).map(|s| s.label().to_string()).unwrap_or_default(),
            division_code: wushe_domain::codes::division::DivisionCode::parse(&o.division_code)
                .map(|c| c.prefix().to_string())
                .unwrap_or(o.division_code),
            id: o.id,
            name: o.name,
            credit_code: o.credit_code,
            org_type: o.org_type,
            registration_authority: o.registration_authority,
            registered_on: o.registered_on.map(|d| d.to_string()),
            status: o.status,
            is_charity: o.is_charity,
            fundraising_qualified: o.fundraising_qualified,
            legal_representative: o.legal_representative,
            contact_person: o.contact_person,
            contact_phone: o.contact_phone,
            address: o.address,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusEntryDto {
    pub status: String,
    pub status_label: String,
    pub effective_on: String,
    pub authority: String,
    pub document_number: Option<String>,
    pub note: Option<String>,
    pub recorded_at: String,
}

impl From<StatusRow> for StatusEntryDto {
    fn from(h: StatusRow) -> Self {
        StatusEntryDto {
            status_label: wushe_domain::registry::org::OrgStatus::parse(&h.status)
                .map(|s| s.label().to_string())
                .unwrap_or_default(),
            status: h.status,
            effective_on: h.effective_on.to_string(),
            authority: h.authority,
            document_number: h.document_number,
            note: h.note,
            recorded_at: h.recorded_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDetailDto {
    pub organization: OrgDto,
    pub types: Vec<String>,
    /// Oldest first; never edited.
    pub status_history: Vec<StatusEntryDto>,
}

impl From<OrgDetail> for OrgDetailDto {
    fn from(d: OrgDetail) -> Self {
        OrgDetailDto {
            organization: d.org.into(),
            types: d.types,
            status_history: d.history.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgListParams {
    /// Name fragment (two characters work: 社工, 慈善) or a full credit code.
    #[serde(default, deserialize_with = "crate::text::line::opt")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Region subtree (code prefix) inside your scope.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub region: Option<String>,
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub org_type: Option<String>,
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub status: Option<String>,
    /// newest (default) | name | code
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// `csv` or `xlsx` to download every row the filter selects (not just one page).
    #[param(max_length = 4, pattern = "^(csv|xlsx)?$")]
    pub format: Option<String>,
}

impl OrgListParams {
    pub fn filter(&self) -> Result<OrgFilter, AppError> {
        let region = match self.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(crate::service::regions::parse_code("region", r)?.prefix().to_string()),
            None => None,
        };
        let sort = match self.sort.as_deref().unwrap_or("newest") {
            "newest" | "" => OrgSort::Newest,
            "name" => OrgSort::Name,
            "code" => OrgSort::Code,
            other => return Err(AppError::validation("sort", format!("未知的排序方式「{other}」"))),
        };
        Ok(OrgFilter {
            q: self.q.clone(),
            region,
            org_type: self.org_type.clone(),
            status: self.status.clone(),
            charity: None,
            sort,
        })
    }
}

/// Organizations inside your scope; with `format=csv|xlsx` the whole selection as a file.
#[utoipa::path(operation_id = "listOrganizations", get, path = "/api/v1/organizations", tag = "registry", params(OrgListParams),
    responses((status = 200, description = "JSON page, or a CSV / xlsx file with format=", content(
        (super::ListPage<OrgDto> = "application/json"),
        (String = "text/csv"),
        (crate::api::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiQuery(p): ApiQuery<OrgListParams>,
) -> Result<Response, AppError> {
    let filter = p.filter()?;
    if let Some(format) = export::Format::parse(p.format.as_deref())? {
        let table = svc::export_organizations(&state, &user, &meta, &filter).await?;
        return export::download(&table, format);
    }
    let page = crate::service::page(p.page, p.per_page)?;
    let res = orgs::list(&state.db, &user.scope(), &filter, &page).await?;
    Ok(Json(super::ListPage::<OrgDto>::of(res, Into::into)).into_response())
}

/// Register an organization in your scope (officials and administrators).
#[utoipa::path(operation_id = "createOrganization", post, path = "/api/v1/organizations", tag = "registry", request_body = NewOrgInput,
    responses((status = 201, body = OrgDetailDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<NewOrgInput>,
) -> Result<(StatusCode, Json<OrgDetailDto>), AppError> {
    let d = svc::create_organization(&state, &user, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// One organization with its types and status history.
#[utoipa::path(operation_id = "getOrganization", get, path = "/api/v1/organizations/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = OrgDetailDto), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn get_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<OrgDetailDto>, AppError> {
    Ok(Json(svc::detail(&state, &user, id).await?.into()))
}

/// Record a status decision (recognition, fundraising qualification, suspension, revocation…).
#[utoipa::path(operation_id = "changeOrganizationStatus", post, path = "/api/v1/organizations/{id}/status", tag = "registry", params(("id" = i64, Path)),
    request_body = OrgStatusInput,
    responses((status = 200, body = OrgDetailDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn change_status(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<OrgStatusInput>,
) -> Result<Json<OrgDetailDto>, AppError> {
    Ok(Json(svc::change_status(&state, &user, &meta, id, input).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicParams {
    /// Name fragment (at least 2 characters) or full credit code.
    #[serde(deserialize_with = "crate::text::line::one")]
    #[param(max_length = 200)]
    pub q: String,
}

/// Public lookup (no login): is an organization registered, what is its status — or is it banned.
#[utoipa::path(operation_id = "publicOrganizationLookup", get, path = "/api/v1/public/organizations", tag = "public", params(PublicParams),
    responses((status = 200, body = Vec<PublicOrg>), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn public_lookup(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PublicParams>,
) -> Result<Json<Vec<PublicOrg>>, AppError> {
    Ok(Json(svc::public_lookup(&state, &p.q).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BannedDto {
    pub id: i64,
    pub name: String,
    pub banned_on: String,
    pub authority: String,
    pub document_number: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BannedParams {
    #[serde(default, deserialize_with = "crate::text::line::opt")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// The published list of banned (illegal) organizations (no login).
#[utoipa::path(operation_id = "listBannedOrganizations", get, path = "/api/v1/public/banned-organizations", tag = "public", params(BannedParams),
    responses((status = 200, body = Vec<BannedDto>)))]
pub async fn list_banned(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<BannedParams>,
) -> Result<Json<Vec<BannedDto>>, AppError> {
    let res = banned::list(&state.db, p.q.as_deref(), &crate::service::page(p.page, p.per_page)?).await?;
    Ok(Json(
        res.items
            .into_iter()
            .map(|b| BannedDto {
                id: b.id,
                name: b.name,
                banned_on: b.banned_on.to_string(),
                authority: b.authority,
                document_number: b.document_number,
                note: b.note,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Add an organization to the banned list (officials and administrators).
#[utoipa::path(operation_id = "createBannedOrganization", post, path = "/api/v1/banned-organizations", tag = "registry", request_body = BannedInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_banned(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<BannedInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = svc::add_banned(&state, &user, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PairingDto {
    pub id: i64,
    pub programme: String,
    pub helper_org_id: i64,
    pub helper_name: String,
    pub helped_org_id: i64,
    pub helped_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub goals: String,
}

impl From<wushe_store::registry::pairings::PairingRow> for PairingDto {
    fn from(p: wushe_store::registry::pairings::PairingRow) -> Self {
        PairingDto {
            id: p.id,
            programme: p.programme,
            helper_org_id: p.helper_org_id,
            helper_name: p.helper_name,
            helped_org_id: p.helped_org_id,
            helped_name: p.helped_name,
            starts_on: p.starts_on.to_string(),
            ends_on: p.ends_on.to_string(),
            goals: p.goals,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairingParams {
    /// Only the pairings of this organization.
    pub organization_id: Option<i64>,
}

/// Pairing programmes (结对帮扶) reaching into your scope.
#[utoipa::path(operation_id = "listPairings", get, path = "/api/v1/pairings", tag = "registry", params(PairingParams),
    responses((status = 200, body = Vec<PairingDto>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list_pairings(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<PairingParams>,
) -> Result<Json<Vec<PairingDto>>, AppError> {
    let rows = wushe_store::registry::pairings::list(&state.db, &user.scope(), p.organization_id).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Record a pairing programme between two organizations in your scope.
#[utoipa::path(operation_id = "createPairing", post, path = "/api/v1/pairings", tag = "registry", request_body = svc::PairingInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_pairing(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<svc::PairingInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = svc::create_pairing(&state, &user, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}
