//! People in the registry: volunteers, social workers and beneficiaries (one person record
//! per citizen ID, several roles), their dictionaries, and bulk imports.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wushe_domain::registry::person::{BeneficiaryCategory, CredentialLevel, PersonRole};
use wushe_domain::registry::OrgType;
use wushe_store::registry::people::{FullPersonalData, PeopleFilter, PeopleSort, RoleStatus};

use super::registry::Created;
use super::{ApiJson, ApiQuery};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::{AppError, ErrorBody};
use crate::export;
use crate::service::import::{self, ImportKind, ImportReport, Progress};
use crate::service::people::{
    self as svc, BeneficiaryInput, BeneficiaryPatch, Checker, PersonDetail, PersonView, RolePatch, SocialWorkerInput,
    SocialWorkerPatch, VolunteerInput, VolunteerPatch,
};
use crate::service::skills::{self as skills_svc, NewSkillInput, SkillPatch, SkillView};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleParams {
    /// Name fragment (two characters work), citizen ID (exact), phone number (exact),
    /// volunteer number or certificate number.
    #[serde(default, deserialize_with = "crate::text::line::opt")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Home region subtree (code prefix) inside your scope.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub region: Option<String>,
    /// Volunteers: skill key or label (deactivated skills too: volunteers keep them).
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub skill: Option<String>,
    /// Social workers: credential level key.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub credential_level: Option<String>,
    /// Beneficiaries: category key.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub category: Option<String>,
    /// Volunteers of / social workers employed by / beneficiaries served by this organization.
    pub organization_id: Option<i64>,
    /// newest (default) | name | region
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub sort: Option<String>,
    /// current (default): roles that go on | ended | all
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// `csv` or `xlsx` to download every row the filter selects.
    #[param(max_length = 4, pattern = "^(csv|xlsx)?$")]
    pub format: Option<String>,
}

impl PeopleParams {
    pub fn filter(&self, role: PersonRole) -> Result<PeopleFilter, AppError> {
        let region = match self.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => Some(crate::service::regions::parse_code("region", r)?.prefix().to_string()),
            None => None,
        };
        let sort = match self.sort.as_deref().unwrap_or("newest") {
            "newest" | "" => PeopleSort::Newest,
            "name" => PeopleSort::Name,
            "region" => PeopleSort::Region,
            other => return Err(AppError::validation("sort", format!("未知的排序方式「{other}」"))),
        };
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let status = match self.status.as_deref().unwrap_or("current") {
            "current" | "" => RoleStatus::Current,
            "ended" => RoleStatus::Ended,
            "all" => RoleStatus::All,
            other => return Err(AppError::validation("status", format!("未知的状态「{other}」"))),
        };
        let kind = match role {
            // Checked against the skill dictionary by the service.
            PersonRole::Volunteer => given(&self.skill),
            PersonRole::SocialWorker => given(&self.credential_level)
                .map(|s| {
                    CredentialLevel::parse(&s)
                        .map(|k| k.as_str().to_string())
                        .ok_or_else(|| AppError::validation("credential_level", format!("未知的资格等级「{s}」")))
                })
                .transpose()?,
            PersonRole::Beneficiary => given(&self.category)
                .map(|s| {
                    BeneficiaryCategory::parse(&s)
                        .map(|k| k.as_str().to_string())
                        .ok_or_else(|| AppError::validation("category", format!("未知的对象类别「{s}」")))
                })
                .transpose()?,
        };
        if self.q.as_deref().is_some_and(|q| q.chars().count() > 60) {
            return Err(AppError::validation("q", "搜索内容不能超过 60 个字符"));
        }
        Ok(PeopleFilter { q: self.q.clone(), region, kind, organization_id: self.organization_id, sort, status })
    }
}

/// List (or export) people in one role.
pub async fn list_role(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    role: PersonRole,
    p: &PeopleParams,
) -> Result<Response, AppError> {
    let filter = p.filter(role)?;
    if let Some(format) = export::Format::parse(p.format.as_deref())? {
        let table = svc::export(state, user, meta, role, &filter).await?;
        return export::download(&table, format);
    }
    let page = crate::service::page(p.page, p.per_page)?;
    let res = svc::list(state, user, role, &filter, &page).await?;
    Ok(Json(super::ListPage::from(res)).into_response())
}

/// Volunteers in your scope (organization staff: your organization's); `format=csv|xlsx`
/// downloads the whole selection.
#[utoipa::path(operation_id = "listVolunteers", get, path = "/api/v1/volunteers", tag = "people", params(PeopleParams),
    responses((status = 200, description = "JSON page, or a CSV / xlsx file with format=", content(
        (super::ListPage<PersonView> = "application/json"), (String = "text/csv"),
        (crate::api::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_volunteers(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiQuery(p): ApiQuery<PeopleParams>,
) -> Result<Response, AppError> {
    list_role(&state, &user, &meta, PersonRole::Volunteer, &p).await
}

/// Register a volunteer (a volunteer number is issued; an already registered person takes
/// on the role, or joins your organization).
#[utoipa::path(operation_id = "createVolunteer", post, path = "/api/v1/volunteers", tag = "people", request_body = VolunteerInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_volunteer(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<VolunteerInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    svc::require_role(&user, PersonRole::Volunteer, true)?;
    let entry = Checker::new(&state, &user).volunteer(&input).await?;
    let id = svc::register(&state, &user, &meta, entry).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One volunteer (masked personal data).
#[utoipa::path(operation_id = "getVolunteer", get, path = "/api/v1/volunteers/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = PersonDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_volunteer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<PersonDetail>, AppError> {
    Ok(Json(svc::detail(&state, &user, PersonRole::Volunteer, id).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FullPersonalDataDto {
    pub citizen_id: String,
    pub phone: Option<String>,
    pub guardian_phone: Option<String>,
}

impl From<FullPersonalData> for FullPersonalDataDto {
    fn from(f: FullPersonalData) -> Self {
        FullPersonalDataDto { citizen_id: f.citizen_id, phone: f.phone, guardian_phone: f.guardian_phone }
    }
}

/// The unmasked ID number and phones (officials, administrators, station staff); audited.
#[utoipa::path(operation_id = "revealVolunteer", get, path = "/api/v1/volunteers/{id}/personal-data", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = FullPersonalDataDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn reveal_volunteer(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Json<FullPersonalDataDto>, AppError> {
    Ok(Json(svc::reveal(&state, &user, &meta, PersonRole::Volunteer, id).await?.into()))
}

/// Change a volunteer's phone, address, home region, skills, availability or location, or end
/// the role (`ended_on`). Same permission as registering; every change is audited.
#[utoipa::path(operation_id = "updateVolunteer", patch, path = "/api/v1/volunteers/{id}", tag = "people", params(("id" = i64, Path)),
    request_body = VolunteerPatch,
    responses((status = 200, body = PersonDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_volunteer(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(p): ApiJson<VolunteerPatch>,
) -> Result<Json<PersonDetail>, AppError> {
    Ok(Json(svc::edit(&state, &user, &meta, id, &RolePatch::Volunteer(p)).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeaveParams {
    /// Why the volunteer left (optional).
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[param(max_length = 2000)]
    pub reason: Option<String>,
}

/// The volunteer leaves the organization: the membership ends (kept in the volunteer's
/// history) and the change is audited. Organization staff: your own organization only.
#[utoipa::path(operation_id = "leaveOrganization", delete, path = "/api/v1/volunteers/{id}/organizations/{org_id}", tag = "people",
    params(("id" = i64, Path), ("org_id" = i64, Path), LeaveParams),
    responses((status = 204, description = "Membership ended"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn leave_organization(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path((id, org_id)): Path<(i64, i64)>,
    ApiQuery(p): ApiQuery<LeaveParams>,
) -> Result<StatusCode, AppError> {
    svc::leave_organization(&state, &user, &meta, id, org_id, p.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Social workers in your scope (organization staff: your employees).
#[utoipa::path(operation_id = "listSocialWorkers", get, path = "/api/v1/social-workers", tag = "people", params(PeopleParams),
    responses((status = 200, description = "JSON page, or a CSV / xlsx file with format=", content(
        (super::ListPage<PersonView> = "application/json"), (String = "text/csv"),
        (crate::api::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_social_workers(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiQuery(p): ApiQuery<PeopleParams>,
) -> Result<Response, AppError> {
    list_role(&state, &user, &meta, PersonRole::SocialWorker, &p).await
}

/// Register a social worker with their credential.
#[utoipa::path(operation_id = "createSocialWorker", post, path = "/api/v1/social-workers", tag = "people", request_body = SocialWorkerInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_social_worker(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<SocialWorkerInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    svc::require_role(&user, PersonRole::SocialWorker, true)?;
    let entry = Checker::new(&state, &user).social_worker(&input).await?;
    let id = svc::register(&state, &user, &meta, entry).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One social worker, with registration validity and continuing-education status.
#[utoipa::path(operation_id = "getSocialWorker", get, path = "/api/v1/social-workers/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = PersonDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_social_worker(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<PersonDetail>, AppError> {
    Ok(Json(svc::detail(&state, &user, PersonRole::SocialWorker, id).await?))
}

/// The unmasked ID number and phone of a social worker; audited.
#[utoipa::path(operation_id = "revealSocialWorker", get, path = "/api/v1/social-workers/{id}/personal-data", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = FullPersonalDataDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn reveal_social_worker(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Json<FullPersonalDataDto>, AppError> {
    Ok(Json(svc::reveal(&state, &user, &meta, PersonRole::SocialWorker, id).await?.into()))
}

/// Change a social worker's phone, address, home region or credential facts (level,
/// certificate, registration date, continuing-education hours, employer, station), or end the
/// role. Audited.
#[utoipa::path(operation_id = "updateSocialWorker", patch, path = "/api/v1/social-workers/{id}", tag = "people", params(("id" = i64, Path)),
    request_body = SocialWorkerPatch,
    responses((status = 200, body = PersonDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_social_worker(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(p): ApiJson<SocialWorkerPatch>,
) -> Result<Json<PersonDetail>, AppError> {
    Ok(Json(svc::edit(&state, &user, &meta, id, &RolePatch::SocialWorker(p)).await?))
}

/// Beneficiaries (服务对象) in your scope (organization staff: those you serve).
#[utoipa::path(operation_id = "listBeneficiaries", get, path = "/api/v1/beneficiaries", tag = "people", params(PeopleParams),
    responses((status = 200, description = "JSON page, or a CSV / xlsx file with format=", content(
        (super::ListPage<PersonView> = "application/json"), (String = "text/csv"),
        (crate::api::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list_beneficiaries(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiQuery(p): ApiQuery<PeopleParams>,
) -> Result<Response, AppError> {
    list_role(&state, &user, &meta, PersonRole::Beneficiary, &p).await
}

/// Register a beneficiary with categories, guardian (minors) and the consent record.
#[utoipa::path(operation_id = "createBeneficiary", post, path = "/api/v1/beneficiaries", tag = "people", request_body = BeneficiaryInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_beneficiary(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<BeneficiaryInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    svc::require_role(&user, PersonRole::Beneficiary, true)?;
    let entry = Checker::new(&state, &user).beneficiary(&input).await?;
    let id = svc::register(&state, &user, &meta, entry).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// One beneficiary.
#[utoipa::path(operation_id = "getBeneficiary", get, path = "/api/v1/beneficiaries/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = PersonDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_beneficiary(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<PersonDetail>, AppError> {
    Ok(Json(svc::detail(&state, &user, PersonRole::Beneficiary, id).await?))
}

/// The unmasked ID number and phones of a beneficiary; audited.
#[utoipa::path(operation_id = "revealBeneficiary", get, path = "/api/v1/beneficiaries/{id}/personal-data", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = FullPersonalDataDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn reveal_beneficiary(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Json<FullPersonalDataDto>, AppError> {
    Ok(Json(svc::reveal(&state, &user, &meta, PersonRole::Beneficiary, id).await?.into()))
}

/// Change a beneficiary's phone, address, home region, categories, guardian or serving
/// organization, or end the role (no longer served). Audited.
#[utoipa::path(operation_id = "updateBeneficiary", patch, path = "/api/v1/beneficiaries/{id}", tag = "people", params(("id" = i64, Path)),
    request_body = BeneficiaryPatch,
    responses((status = 200, body = PersonDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_beneficiary(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(p): ApiJson<BeneficiaryPatch>,
) -> Result<Json<PersonDetail>, AppError> {
    Ok(Json(svc::edit(&state, &user, &meta, id, &RolePatch::Beneficiary(p)).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DictEntry {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dictionaries {
    pub skills: Vec<DictEntry>,
    pub beneficiary_categories: Vec<DictEntry>,
    pub credential_levels: Vec<DictEntry>,
    pub organization_types: Vec<DictEntry>,
}

/// The registry's dictionaries: skills (the active ones), beneficiary categories, credential
/// levels, organization types (keys for the API, labels for people; imports accept either).
#[utoipa::path(operation_id = "dictionaries", get, path = "/api/v1/dictionaries", tag = "people",
    responses((status = 200, body = Dictionaries), (status = 401, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn dictionaries(State(state): State<AppState>, _user: CurrentUser) -> Result<Json<Dictionaries>, AppError> {
    fn d<T: Copy>(all: &[T], key: fn(T) -> &'static str, label: fn(T) -> &'static str) -> Vec<DictEntry> {
        all.iter().map(|v| DictEntry { key: key(*v).into(), label: label(*v).into() }).collect()
    }
    let skills = skills_svc::list(&state).await?;
    Ok(Json(Dictionaries {
        skills: skills.into_iter().filter(|s| s.active).map(|s| DictEntry { key: s.key, label: s.label }).collect(),
        beneficiary_categories: d(&BeneficiaryCategory::ALL, BeneficiaryCategory::as_str, BeneficiaryCategory::label),
        credential_levels: d(&CredentialLevel::ALL, CredentialLevel::as_str, CredentialLevel::label),
        organization_types: d(&OrgType::ALL, OrgType::as_str, OrgType::label),
    }))
}

/// The volunteer skill dictionary with retired skills and the display order.
#[utoipa::path(operation_id = "listSkills", get, path = "/api/v1/dictionaries/skills", tag = "people",
    responses((status = 200, body = Vec<SkillView>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list_skills(State(state): State<AppState>, _user: CurrentUser) -> Result<Json<Vec<SkillView>>, AppError> {
    Ok(Json(skills_svc::list(&state).await?))
}

/// Add a skill to the dictionary (administrators). Audited.
#[utoipa::path(operation_id = "createSkill", post, path = "/api/v1/dictionaries/skills", tag = "people", request_body = NewSkillInput,
    responses((status = 201, body = SkillView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_skill(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<NewSkillInput>,
) -> Result<(StatusCode, Json<SkillView>), AppError> {
    Ok((StatusCode::CREATED, Json(skills_svc::create(&state, &user, &meta, &input).await?)))
}

/// Rename a skill, change its order, or deactivate / reactivate it (administrators). Keys
/// are never deleted: volunteers keep a deactivated skill. Audited.
#[utoipa::path(operation_id = "updateSkill", patch, path = "/api/v1/dictionaries/skills/{key}", tag = "people", params(("key" = String, Path, max_length = 50)),
    request_body = SkillPatch,
    responses((status = 200, body = SkillView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_skill(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(key): Path<String>,
    ApiJson(p): ApiJson<SkillPatch>,
) -> Result<Json<SkillView>, AppError> {
    Ok(Json(skills_svc::update(&state, &user, &meta, &key, &p).await?))
}

pub fn parse_kind(kind: &str) -> Result<ImportKind, AppError> {
    ImportKind::parse(kind).ok_or_else(|| {
        AppError::NotFound(format!(
            "没有「{kind}」这种导入，可选 organizations、volunteers、social_workers、beneficiaries"
        ))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateParams {
    /// xlsx (default) or csv
    #[param(max_length = 4, pattern = "^(csv|xlsx)?$")]
    pub format: Option<String>,
}

/// The import template of a kind (organizations | volunteers | social_workers | beneficiaries).
#[utoipa::path(operation_id = "importTemplate", get, path = "/api/v1/imports/{kind}/template", tag = "people",
    params(("kind" = String, Path, max_length = 30), TemplateParams),
    responses((status = 200, description = "The template", content(
        (crate::api::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "text/csv"))),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn template(
    _user: CurrentUser,
    Path(kind): Path<String>,
    ApiQuery(p): ApiQuery<TemplateParams>,
) -> Result<Response, AppError> {
    let kind = parse_kind(&kind)?;
    let format = export::Format::parse(p.format.as_deref())?.unwrap_or(export::Format::Xlsx);
    export::download(&import::template(kind), format)
}

/// The uploaded file of a multipart form (field `file`): its name and bytes.
pub async fn read_upload(mut mp: Multipart) -> Result<(String, Vec<u8>), AppError> {
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::BadRequest(format!("上传内容无法读取：{e}")))?
    {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload").to_string();
            let bytes = field.bytes().await.map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
                _ => AppError::BadRequest(format!("上传内容无法读取：{e}")),
            })?;
            return Ok((name, bytes.to_vec()));
        }
    }
    Err(AppError::validation("file", "请选择要导入的文件"))
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The .xlsx or UTF-8 .csv file, laid out as the template.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Import a file (multipart field `file`): every row is checked first; with any problem
/// nothing is written and the report lists every problem by row and column (422); a clean
/// file is written in one transaction (200). Rows already registered are skipped.
#[utoipa::path(operation_id = "importFile", post, path = "/api/v1/imports/{kind}", tag = "people", params(("kind" = String, Path, max_length = 30)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 200, body = ImportReport), (status = 422, body = ImportReport), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn import_file(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(kind): Path<String>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let kind = parse_kind(&kind)?;
    let (_, bytes) = read_upload(mp).await?;
    let report = import::run(&state, &user, &meta, kind, &bytes, None).await?;
    let status = if report.written { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Json(report)).into_response())
}

/// Progress of an import started from the web UI (only its own user sees it).
#[utoipa::path(operation_id = "importProgress", get, path = "/api/v1/imports/jobs/{id}", tag = "people", params(("id" = String, Path, max_length = 64)),
    responses((status = 200, body = Progress), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn import_progress(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Progress>, AppError> {
    let job = state.imports.get(&id, user.id).ok_or_else(|| AppError::NotFound("导入任务不存在或已过期".into()))?;
    Ok(Json(job.snapshot()))
}
