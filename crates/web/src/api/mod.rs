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
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};
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
            JsonRejection::JsonDataError(e) => json_data_error(&e),
            JsonRejection::BytesRejection(_) => AppError::PayloadTooLarge,
            other => AppError::BadRequest(format!("无法读取请求体：{}", other.body_text())),
        }
    }
}

/// A body that is JSON but not of the request's shape, as an error naming the JSON
/// field (its path, e.g. `slots[0].capacity`) and the rule, in Chinese where the rule is ours
/// (the text policy) or serde's common ones.
fn json_data_error(e: &axum::extract::rejection::JsonDataError) -> AppError {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(p) = err.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            let message = p.inner().to_string();
            // serde_json appends the position; the field path says more.
            let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
            let path = p.path().to_string();
            let field = if path == "." { "请求体".to_string() } else { path };
            return AppError::Malformed { field, message: serde_message(message) };
        }
        source = err.source();
    }
    AppError::BadRequest(format!("JSON 字段不符合要求：{}", e.body_text()))
}

/// serde's own messages in Chinese (the variable part kept).
fn serde_message(m: &str) -> String {
    if let Some(f) = m.strip_prefix("missing field ") {
        format!("缺少必填字段 {}", f.trim_matches('`'))
    } else if let Some(rest) = m.strip_prefix("invalid type: ") {
        format!("类型不符：{rest}")
    } else if let Some(rest) = m.strip_prefix("invalid value: ") {
        format!("取值无效：{rest}")
    } else if let Some(rest) = m.strip_prefix("unknown variant ") {
        format!("取值无效：{rest}")
    } else if let Some(rest) = m.strip_prefix("invalid length ") {
        format!("长度不符：{rest}")
    } else if let Some(rest) = m.strip_prefix("premature end of input") {
        format!("内容不完整{rest}")
    } else {
        m.to_string()
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

/// The one list envelope of the API: a page of the items a filter selects, how many it
/// selects (counted up to 10,000; `total_capped` says counting stopped there), and the page.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// Matches, counted up to 10,000.
    pub total: i64,
    /// More than `total` match (counting stopped at the cap).
    pub total_capped: bool,
    pub page: u32,
    pub per_page: u32,
}

impl<T> From<wushe_store::Paged<T>> for ListPage<T> {
    fn from(p: wushe_store::Paged<T>) -> ListPage<T> {
        ListPage::of(p, |x| x)
    }
}

impl<T> ListPage<T> {
    /// A store page as the API answers it, each row made an item.
    pub fn of<U>(p: wushe_store::Paged<U>, item: impl FnMut(U) -> T) -> ListPage<T> {
        ListPage {
            items: p.items.into_iter().map(item).collect(),
            total: p.total,
            total_capped: p.capped,
            page: p.page.page,
            per_page: p.page.per_page,
        }
    }
}

/// A file's bytes (a PDF, a workbook) as the spec describes them: a binary string.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

#[derive(OpenApi)]
#[openapi(
    info(title = "五社联动服务平台 API", version = "1", description = "Wushe JSON API. 认证：`Authorization: Bearer <token>`（由 POST /api/v1/auth/token 取得）或浏览器会话（不安全请求须带 X-CSRF-Token）。文本字段：去除首尾空白，不能含控制字符（多行字段可含换行和制表符），不超过 maxLength 个字符；违反时 400，error.field 指明字段。"),
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

/// Every API operation, each with the schemas it uses.
fn operations() -> Vec<UtoipaMethodRouter<AppState>> {
    vec![
        routes!(auth::issue_token),
        routes!(auth::me),
        routes!(auth::list_tokens, auth::create_token),
        routes!(auth::revoke_token),
        routes!(regions::search),
        routes!(regions::get_region),
        routes!(regions::children),
        routes!(users::list, users::create),
        routes!(users::get_user),
        routes!(users::set_active),
        routes!(audit::list),
        routes!(registry::list, registry::create),
        routes!(registry::get_org),
        routes!(registry::change_status),
        routes!(registry::public_lookup),
        routes!(registry::list_banned),
        routes!(registry::create_banned),
        routes!(registry::list_pairings, registry::create_pairing),
        routes!(people::list_volunteers, people::create_volunteer),
        routes!(people::get_volunteer, people::update_volunteer),
        routes!(people::leave_organization),
        routes!(people::reveal_volunteer),
        routes!(people::list_social_workers, people::create_social_worker),
        routes!(people::get_social_worker, people::update_social_worker),
        routes!(people::reveal_social_worker),
        routes!(people::list_beneficiaries, people::create_beneficiary),
        routes!(people::get_beneficiary, people::update_beneficiary),
        routes!(people::reveal_beneficiary),
        routes!(people::dictionaries),
        routes!(people::list_skills, people::create_skill),
        routes!(people::update_skill),
        routes!(volunteering::list, volunteering::create),
        routes!(volunteering::get_activity),
        routes!(volunteering::set_status),
        routes!(volunteering::checkin_code),
        routes!(volunteering::roster),
        routes!(volunteering::sign_up),
        routes!(volunteering::decide),
        routes!(volunteering::check_in),
        routes!(volunteering::check_out),
        routes!(volunteering::confirm),
        routes!(volunteering::request_correction),
        routes!(volunteering::review_correction),
        routes!(volunteering::record),
        routes!(volunteering::list_policies, volunteering::create_policy),
        routes!(volunteering::get_settings, volunteering::put_settings),
        routes!(volunteering::stats),
        routes!(timebank::holders),
        routes!(officials::list_star_awards),
        routes!(officials::decide_star_award),
        routes!(officials::list_spot_checks, officials::create_spot_check),
        routes!(officials::flagged_records),
        routes!(officials::get_spot_check),
        routes!(officials::set_finding),
        routes!(officials::complete_spot_check),
        routes!(officials::publish_spot_check),
        routes!(officials::verify_spot_check),
        routes!(officials::public_spot_checks),
        routes!(officials::public_spot_check),
        routes!(certificates::list, certificates::request),
        routes!(certificates::issuers),
        routes!(certificates::get_certificate),
        routes!(certificates::decide),
        routes!(certificates::pdf),
        routes!(certificates::verify),
        routes!(timebank::account),
        routes!(timebank::statement),
        routes!(timebank::transfer),
        routes!(timebank::spend),
        routes!(timebank::add_relation),
        routes!(timebank::remove_relation),
        routes!(timebank::list_outlets, timebank::create_outlet),
        routes!(timebank::get_outlet),
        routes!(timebank::list_goods, timebank::add_goods),
        routes!(timebank::outlet_redemptions),
        routes!(timebank::update_goods),
        routes!(timebank::restock),
        routes!(timebank::redeem),
        routes!(people::template),
        routes!(people::import_progress),
        // Imports take files: their route raises the body limit.
        routes!(people::import_file).layer(axum::extract::DefaultBodyLimit::max(crate::service::import::BODY_LIMIT)),
    ]
}

/// The refusals an operation can give besides its own, added to every operation the same
/// way the server gives them: the request's shape (400, 422), its size (413, 414, 431), its
/// content type (415), the credential (401, 403: also CSRF), the record in the path or body (404),
/// the rate limits (429, the paths of `ratelimit`), the writer (503) and a fault (500).
struct Refusals;

impl Modify for Refusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        // Each refusal once under components/responses (`E400` …), referenced by operations.
        const REFUSALS: [(&str, &str); 12] = [
            ("400", "请求格式错误（JSON、路径或查询参数无法解析）"),
            ("401", "未登录或令牌无效"),
            ("403", "无权进行此操作（或会话请求缺少 CSRF 令牌）"),
            ("404", "记录（路径或请求体中所指）不存在或不在您的管辖范围内"),
            ("413", "请求体过大"),
            ("414", "请求地址过长"),
            ("415", "请求内容类型不受支持"),
            ("422", "字段不符合规则（error.field 指明字段）"),
            ("429", "请求过于频繁"),
            ("431", "请求头过大"),
            ("500", "服务器内部错误（error.request_id 供查询）"),
            ("503", "暂时无法写入，可以安全重试"),
        ];
        let components = openapi.components.get_or_insert_with(Default::default);
        for (code, description) in REFUSALS {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            let response = ResponseBuilder::new().description(description).content("application/json", content).build();
            components.responses.insert(format!("E{code}"), response.into());
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ];
            for (op, unsafe_method) in ops {
                let Some(op) = op.as_mut() else { continue };
                let params = op.parameters.as_deref().unwrap_or_default();
                let in_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
                let has_body = op.request_body.is_some();
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let limited = path.starts_with("/api/v1/public/") || (path == "/api/v1/auth/token" && unsafe_method);
                let gives = |code: &str| match code {
                    "401" | "403" => secured,
                    // the record in the path, or one the body names (a sign-up, a person, goods)
                    "404" => in_path || has_body,
                    "413" | "415" => has_body,
                    "422" => has_body || !params.is_empty(),
                    "429" => limited,
                    "503" => unsafe_method,
                    _ => true,
                };
                let codes: Vec<&str> = REFUSALS.iter().map(|(c, _)| *c).filter(|c| gives(c)).collect();
                for code in codes {
                    if !op.responses.responses.contains_key(code) {
                        let to = Ref::new(format!("#/components/responses/E{code}"));
                        op.responses.responses.insert(code.to_string(), to.into());
                    }
                }
            }
        }
    }
}

/// The API routes and the OpenAPI document describing exactly them.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut spec) = operations()
        .into_iter()
        .fold(OpenApiRouter::with_openapi(ApiDoc::openapi()), OpenApiRouter::routes)
        .split_for_parts();
    Refusals.modify(&mut spec);
    (router, spec)
}

/// Schema names that two different Rust types claim. The spec keeps one schema per name, so
/// a clash silently documents one operation with another's body; this is checked by a test.
pub fn schema_name_clashes() -> Vec<String> {
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut clashes = std::collections::BTreeSet::new();
    for (schemas, _, _) in operations() {
        for (name, schema) in schemas {
            let json = serde_json::to_string(&schema).unwrap_or_default();
            match seen.get(&name) {
                Some(earlier) if *earlier != json => {
                    clashes.insert(name);
                }
                Some(_) => {}
                None => {
                    seen.insert(name, json);
                }
            }
        }
    }
    clashes.into_iter().collect()
}

/// The spec as served at `/api/openapi.json` (also snapshot-tested).
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().1
}
