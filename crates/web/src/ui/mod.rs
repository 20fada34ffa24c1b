//! The server-rendered Chinese UI (askama + htmx). Handlers call the same services as the API.

pub mod account;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod dictionaries;
pub mod home;
pub mod imports;
pub mod officials;
pub mod people;
pub mod regions;
pub mod registry;
pub mod timebank;
pub mod users;
pub mod volunteering;

use askama::Template;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_sessions::Session;

use crate::auth::{csrf_token, CurrentUser};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::index))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/regions", get(regions::root))
        .route("/regions/search", get(regions::search))
        .route("/regions/{code}", get(regions::show))
        .route("/users", get(users::list).post(users::create))
        .route("/users/new", get(users::new_form))
        .route("/users/{id}", get(users::show))
        .route("/users/{id}/active", post(users::set_active))
        .route("/audit", get(audit::list))
        .route("/organizations", get(registry::list).post(registry::create))
        .route("/organizations/new", get(registry::new_form))
        .route("/organizations/{id}", get(registry::show))
        .route("/organizations/{id}/status", post(registry::change_status))
        .route("/organizations/{id}/pairings", post(registry::create_pairing))
        .route("/public/organizations", get(registry::public_lookup))
        .route("/volunteers", get(people::list::<people::Volunteers>).post(people::create::<people::Volunteers>))
        .route("/volunteers/new", get(people::new_form::<people::Volunteers>))
        .route("/volunteers/{id}", get(people::show::<people::Volunteers>))
        .route("/volunteers/{id}/personal-data", post(people::reveal::<people::Volunteers>))
        .route("/volunteers/{id}/edit", post(people::update::<people::Volunteers>))
        .route("/volunteers/{id}/organizations/{org_id}/leave", post(people::leave))
        .route(
            "/social-workers",
            get(people::list::<people::SocialWorkers>).post(people::create::<people::SocialWorkers>),
        )
        .route("/social-workers/new", get(people::new_form::<people::SocialWorkers>))
        .route("/social-workers/{id}", get(people::show::<people::SocialWorkers>))
        .route("/social-workers/{id}/personal-data", post(people::reveal::<people::SocialWorkers>))
        .route("/social-workers/{id}/edit", post(people::update::<people::SocialWorkers>))
        .route(
            "/beneficiaries",
            get(people::list::<people::Beneficiaries>).post(people::create::<people::Beneficiaries>),
        )
        .route("/beneficiaries/new", get(people::new_form::<people::Beneficiaries>))
        .route("/beneficiaries/{id}", get(people::show::<people::Beneficiaries>))
        .route("/beneficiaries/{id}/personal-data", post(people::reveal::<people::Beneficiaries>))
        .route("/beneficiaries/{id}/edit", post(people::update::<people::Beneficiaries>))
        .route("/dictionaries/skills", get(dictionaries::index).post(dictionaries::create))
        .route("/dictionaries/skills/{key}", post(dictionaries::update))
        .route("/imports", get(imports::index))
        .route(
            "/imports/{kind}",
            post(imports::upload).layer(DefaultBodyLimit::max(crate::service::import::BODY_LIMIT)),
        )
        .route("/imports/jobs/{id}", get(imports::job))
        .route("/imports/jobs/{id}/progress", get(imports::progress))
        .route("/activities", get(volunteering::list).post(volunteering::create))
        .route("/activities/new", get(volunteering::new_form))
        .route("/activities/{id}", get(volunteering::show))
        .route("/activities/{id}/status", post(volunteering::set_status))
        .route("/activities/{id}/signups", post(volunteering::sign_up))
        .route("/activities/{id}/signups/{signup_id}", post(volunteering::decide))
        .route("/activities/{id}/roster/check-in", post(volunteering::roster_check_in))
        .route("/activities/{id}/roster/check-out", post(volunteering::roster_check_out))
        .route("/activities/{id}/confirm", post(volunteering::confirm))
        .route("/activities/{id}/qr", get(volunteering::qr))
        .route("/activities/{id}/qr/code", get(volunteering::qr_code))
        .route("/checkin", get(volunteering::checkin_form).post(volunteering::check_in))
        .route("/checkout", post(volunteering::check_out))
        .route("/me/record", get(volunteering::my_record))
        .route("/service-records/{id}/corrections", post(volunteering::request_correction))
        .route("/corrections", get(volunteering::corrections))
        .route("/corrections/{id}/review", post(volunteering::review_correction))
        .route("/timebank", get(timebank::mine))
        .route("/timebank/transfer", post(timebank::transfer))
        .route("/timebank/spend", post(timebank::spend))
        .route("/timebank/people", get(timebank::people))
        .route("/timebank/people/{id}", get(timebank::person))
        .route("/timebank/people/{id}/relations", post(timebank::add_relation))
        .route("/timebank/people/{id}/relations/{relative_id}/remove", post(timebank::remove_relation))
        .route("/timebank/people/{id}/spend", post(timebank::record_spend))
        .route("/outlets", get(timebank::outlets).post(timebank::create_outlet))
        .route("/outlets/{id}", get(timebank::outlet))
        .route("/outlets/{id}/goods", post(timebank::add_goods))
        .route("/outlets/{id}/redeem", post(timebank::redeem))
        .route("/goods/{id}/price", post(timebank::set_price))
        .route("/goods/{id}/active", post(timebank::set_active))
        .route("/goods/{id}/restock", post(timebank::restock))
        .route("/stars", get(officials::stars_index))
        .route("/stars/{id}/decision", post(officials::decide_star))
        .route("/spot-checks", get(officials::checks_index).post(officials::create_check))
        .route("/spot-checks/{id}", get(officials::check_show))
        .route("/spot-checks/{id}/verification", get(officials::check_verify))
        .route("/spot-checks/{id}/records/{record_id}", post(officials::set_finding))
        .route("/spot-checks/{id}/complete", post(officials::complete_check))
        .route("/spot-checks/{id}/publish", post(officials::publish_check))
        .route("/public/spot-checks", get(officials::public_index))
        .route("/public/spot-checks/{id}", get(officials::public_show))
        .route("/stats/volunteering", get(officials::stats_page))
        .route("/certificates", get(certificates::list).post(certificates::request))
        .route("/certificates/{id}", get(certificates::show))
        .route("/certificates/{id}/decision", post(certificates::decide))
        .route("/verify", get(certificates::verify_form))
        .route("/verify/{number}", get(certificates::verify))
        .route("/account", get(account::index))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

pub struct Crumb {
    pub href: String,
    pub label: String,
}

/// What every page's frame needs: the user, the CSRF token, navigation for the role.
pub struct Layout {
    pub title: String,
    pub user: Option<CurrentUser>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// The people registry's pages (a dropdown in the navbar); empty for roles without them.
    pub people_nav: Vec<NavItem>,
    pub people_active: bool,
    /// Volunteer-service supervision (figures, star approvals, spot-checks): a dropdown after
    /// the activities; empty for roles without them.
    pub oversight_nav: Vec<NavItem>,
    pub oversight_active: bool,
    pub crumbs: Vec<Crumb>,
    pub scope_label: String,
    pub css: String,
    pub app_css: String,
    pub js_bootstrap: String,
    pub js_htmx: String,
    pub js_echarts: String,
    pub js_app: String,
}

impl Layout {
    pub async fn new(
        session: &Session,
        user: Option<&CurrentUser>,
        title: &str,
        section: &str,
    ) -> Result<Layout, AppError> {
        // Token-authenticated requests carry no cookie, so they need no CSRF token (and must
        // not create a session on every call).
        let csrf = if user.is_some_and(|u| u.via_token) { String::new() } else { csrf_token(session).await? };
        let mut nav = Vec::new();
        let mut people_nav = Vec::new();
        let mut oversight_nav = Vec::new();
        if let Some(u) = user {
            for (href, label, key, shown) in [
                ("/stats/volunteering", "志愿服务统计", "stats", u.role.oversees_volunteering()),
                ("/stars", "星级志愿者审批", "stars", u.role.supervises_volunteering()),
                ("/spot-checks", "服务记录抽查", "spot_checks", u.role.supervises_volunteering()),
                ("/public/spot-checks", "抽查结果公示", "public", u.role.oversees_volunteering()),
            ] {
                if shown {
                    oversight_nav.push(NavItem { href, label, active: key == section });
                }
            }
            if u.role.works_with_people() {
                for (href, label, key) in [
                    ("/volunteers", "志愿者", "volunteers"),
                    ("/social-workers", "社会工作者", "social_workers"),
                    ("/beneficiaries", "服务对象", "beneficiaries"),
                    ("/imports", "批量导入", "imports"),
                ] {
                    people_nav.push(NavItem { href, label, active: key == section });
                }
            }
            let items: [(&'static str, &'static str, &'static str, bool); 13] = [
                ("/", "首页", "home", true),
                ("/regions", "行政区划", "regions", true),
                ("/organizations", "社会组织", "organizations", true),
                ("/activities", "志愿活动", "activities", true),
                ("/me/record", "我的志愿记录", "me_record", u.role == wushe_domain::accounts::Role::Volunteer),
                ("/timebank", "我的时间银行", "timebank", u.role.holds_timebank_account() && u.person_id.is_some()),
                ("/timebank/people", "时间银行", "timebank_people", u.role.works_with_people()),
                ("/outlets", "爱心超市", "outlets", true),
                (
                    "/certificates",
                    "志愿证明",
                    "certificates",
                    u.role.runs_activities() || u.role.oversees_volunteering(),
                ),
                ("/users", "用户管理", "users", u.role.manages_users()),
                ("/dictionaries/skills", "技能字典", "dictionaries", u.role.manages_dictionaries()),
                ("/audit", "审计日志", "audit", u.role.reads_audit()),
                ("/account", "我的账户", "account", true),
            ];
            for (href, label, key, shown) in items {
                if shown {
                    nav.push(NavItem { href, label, active: key == section });
                }
            }
        }
        let scope_label = user.map(|u| u.scope_name.clone()).unwrap_or_default();
        Ok(Layout {
            title: title.to_string(),
            user: user.cloned(),
            csrf,
            nav,
            people_active: people_nav.iter().any(|i| i.active),
            people_nav,
            oversight_active: oversight_nav.iter().any(|i| i.active),
            oversight_nav,
            crumbs: Vec::new(),
            scope_label,
            css: crate::assets::url("bootstrap.min.css"),
            app_css: crate::assets::url("app.css"),
            js_bootstrap: crate::assets::url("bootstrap.bundle.min.js"),
            js_htmx: crate::assets::url("htmx.min.js"),
            js_echarts: crate::assets::url("echarts.min.js"),
            js_app: crate::assets::url("app.js"),
        })
    }

    pub fn crumb(mut self, href: impl Into<String>, label: impl Into<String>) -> Layout {
        self.crumbs.push(Crumb { href: href.into(), label: label.into() });
        self
    }
}

/// Render a template into a response, turning template errors into a 500 with request id.
pub fn render<T: Template>(t: &T) -> Result<Response, AppError> {
    let html = t.render().map_err(AppError::internal)?;
    Ok(Html(html).into_response())
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
    request_id: &'a str,
    css: String,
}

pub fn error_page(status: StatusCode, message: &str, request_id: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        reason: match status.as_u16() {
            400 | 422 => "请求有误",
            401 => "需要登录",
            403 => "无权访问",
            404 => "未找到",
            409 => "数据冲突",
            413 => "内容过大",
            423 => "账户已锁定",
            429 => "请求过多",
            _ => "出错了",
        },
        message,
        request_id,
        css: crate::assets::url("bootstrap.min.css"),
    };
    let html = page
        .render()
        .unwrap_or_else(|_| format!("<h1>{}</h1><p>请求编号：{}</p>", escape(message), escape(request_id)));
    (status, Html(html)).into_response()
}

/// A form body whose rejections become Chinese errors: a field refused by the text policy
/// (too long, a control character) says which rule, instead of axum's English text.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Form), rejection(AppError))]
pub struct Form<T>(pub T);

impl From<axum::extract::rejection::FormRejection> for AppError {
    fn from(r: axum::extract::rejection::FormRejection) -> Self {
        use axum::extract::rejection::FormRejection;
        match r {
            FormRejection::InvalidFormContentType(_) => {
                AppError::UnsupportedMediaType("表单内容类型应为 application/x-www-form-urlencoded".into())
            }
            FormRejection::BytesRejection(_) => AppError::PayloadTooLarge,
            other => {
                // "Failed to deserialize form body: <serde's message>": keep the message.
                let text = other.body_text();
                let message = text.split_once(": ").map_or(text.as_str(), |(_, m)| m);
                AppError::BadRequest(format!("表单内容不符合要求：{message}"))
            }
        }
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// This site's address as the request names it (`http://host:port`), when the Host header
/// is a plain host name; `https` behind a proxy that says so.
pub fn request_origin(headers: &axum::http::HeaderMap) -> Option<String> {
    let host = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or("");
    let host_ok = !host.is_empty()
        && host.len() <= 255
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return None;
    }
    let proto = match headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).map(str::trim) {
        Some("https") => "https",
        _ => "http",
    };
    Some(format!("{proto}://{host}"))
}

pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e.trim_start_matches('=').to_string()).unwrap_or_default()
}

/// A page-level message after a form post (shown once).
pub const FLASH_KEY: &str = "flash";

pub async fn take_flash(session: &Session) -> Option<String> {
    session.remove::<String>(FLASH_KEY).await.ok().flatten()
}

pub async fn set_flash(session: &Session, msg: &str) {
    let _ = session.insert(FLASH_KEY, msg).await;
}

/// Format a count with thousands separators for display.
pub fn thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}
