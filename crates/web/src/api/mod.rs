//! The JSON API under `/api/v1`. Routes and the OpenAPI document come from one list.

pub mod audit;
pub mod auth;
pub mod certificates;
pub mod officials;
pub mod people;
pub mod regions;
pub mod registry;
pub mod timebank;
pub mod users;
pub mod volunteering;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::state::AppState;

/// JSON body whose rejections become Chinese validation errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                AppError::UnsupportedMediaType("请求内容类型应为 application/json".into())
            }
            JsonRejection::JsonSyntaxError(e) => AppError::BadRequest(format!("JSON 格式错误：{}", e.body_text())),
            JsonRejection::JsonDataError(e) => AppError::BadRequest(format!("JSON 字段不符合要求：{}", e.body_text())),
            JsonRejection::BytesRejection(_) => AppError::PayloadTooLarge,
            other => AppError::BadRequest(format!("无法读取请求体：{}", other.body_text())),
        }
    }
}

/// Query string whose rejections become Chinese errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest(format!("查询参数错误：{}", r.body_text()))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "五社联动服务平台 API", version = "1", description = "Wushe JSON API. 认证：`Authorization: Bearer <token>`（由 POST /api/v1/auth/token 取得）或浏览器会话（不安全请求须带 X-CSRF-Token）。"),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&Security),
    tags((name = "auth", description = "登录与令牌"), (name = "regions", description = "行政区划"),
         (name = "users", description = "用户与权限"), (name = "audit", description = "审计日志"),
         (name = "registry", description = "社会组织登记"), (name = "people", description = "志愿者、社会工作者、服务对象与批量导入"), (name = "volunteering", description = "志愿服务：活动、报名、签到、时长确认、记录与证明"), (name = "timebank", description = "时间银行、积分与爱心超市"), (name = "public", description = "公开查询（无需登录）"))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
    }
}

/// The API routes and the OpenAPI document describing exactly them.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::issue_token))
        .routes(routes!(auth::me))
        .routes(routes!(auth::list_tokens, auth::create_token))
        .routes(routes!(auth::revoke_token))
        .routes(routes!(regions::search))
        .routes(routes!(regions::get_region))
        .routes(routes!(regions::children))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get_user))
        .routes(routes!(users::set_active))
        .routes(routes!(audit::list))
        .routes(routes!(registry::list, registry::create))
        .routes(routes!(registry::get_org))
        .routes(routes!(registry::change_status))
        .routes(routes!(registry::public_lookup))
        .routes(routes!(registry::list_banned))
        .routes(routes!(registry::create_banned))
        .routes(routes!(registry::list_pairings, registry::create_pairing))
        .routes(routes!(people::list_volunteers, people::create_volunteer))
        .routes(routes!(people::get_volunteer, people::update_volunteer))
        .routes(routes!(people::leave_organization))
        .routes(routes!(people::reveal_volunteer))
        .routes(routes!(people::list_social_workers, people::create_social_worker))
        .routes(routes!(people::get_social_worker, people::update_social_worker))
        .routes(routes!(people::reveal_social_worker))
        .routes(routes!(people::list_beneficiaries, people::create_beneficiary))
        .routes(routes!(people::get_beneficiary, people::update_beneficiary))
        .routes(routes!(people::reveal_beneficiary))
        .routes(routes!(people::dictionaries))
        .routes(routes!(people::list_skills, people::create_skill))
        .routes(routes!(people::update_skill))
        .routes(routes!(volunteering::list, volunteering::create))
        .routes(routes!(volunteering::get_activity))
        .routes(routes!(volunteering::set_status))
        .routes(routes!(volunteering::checkin_code))
        .routes(routes!(volunteering::roster))
        .routes(routes!(volunteering::sign_up))
        .routes(routes!(volunteering::decide))
        .routes(routes!(volunteering::check_in))
        .routes(routes!(volunteering::check_out))
        .routes(routes!(volunteering::confirm))
        .routes(routes!(volunteering::request_correction))
        .routes(routes!(volunteering::review_correction))
        .routes(routes!(volunteering::record))
        .routes(routes!(volunteering::list_policies, volunteering::create_policy))
        .routes(routes!(volunteering::get_settings, volunteering::put_settings))
        .routes(routes!(volunteering::stats))
        .routes(routes!(timebank::holders))
        .routes(routes!(officials::list_star_awards))
        .routes(routes!(officials::decide_star_award))
        .routes(routes!(officials::list_spot_checks, officials::create_spot_check))
        .routes(routes!(officials::flagged_records))
        .routes(routes!(officials::get_spot_check))
        .routes(routes!(officials::set_finding))
        .routes(routes!(officials::complete_spot_check))
        .routes(routes!(officials::publish_spot_check))
        .routes(routes!(officials::verify_spot_check))
        .routes(routes!(officials::public_spot_checks))
        .routes(routes!(officials::public_spot_check))
        .routes(routes!(certificates::list, certificates::request))
        .routes(routes!(certificates::issuers))
        .routes(routes!(certificates::get_certificate))
        .routes(routes!(certificates::decide))
        .routes(routes!(certificates::pdf))
        .routes(routes!(certificates::verify))
        .routes(routes!(timebank::account))
        .routes(routes!(timebank::statement))
        .routes(routes!(timebank::transfer))
        .routes(routes!(timebank::spend))
        .routes(routes!(timebank::add_relation))
        .routes(routes!(timebank::remove_relation))
        .routes(routes!(timebank::list_outlets, timebank::create_outlet))
        .routes(routes!(timebank::get_outlet))
        .routes(routes!(timebank::list_goods, timebank::add_goods))
        .routes(routes!(timebank::outlet_redemptions))
        .routes(routes!(timebank::update_goods))
        .routes(routes!(timebank::restock))
        .routes(routes!(timebank::redeem))
        .routes(routes!(people::template))
        .routes(routes!(people::import_progress))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(people::import_file))
                .layer(axum::extract::DefaultBodyLimit::max(crate::service::import::BODY_LIMIT)),
        )
        .split_for_parts()
}

/// The spec as served at `/api/openapi.json` (also snapshot-tested).
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().1
}
