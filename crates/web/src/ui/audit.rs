use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_store::accounts::audit::{self, AuditFilter};
use wushe_store::Page;

use super::{render, url_encode, Layout};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    username: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    entity: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    entity_id: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    from: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    to: String,
    page: Option<u32>,
}

pub struct AuditLine {
    id: i64,
    at: String,
    who: String,
    action: String,
    entity: String,
    summary: String,
    origin: String,
}

#[derive(Template)]
#[template(path = "audit/list.html")]
struct AuditPage {
    layout: Layout,
    f: AuditQuery,
    rows: Vec<AuditLine>,
    total: i64,
    page: u32,
    pages: u32,
    page_base: String,
}

fn day_start(field: &str, s: &str, plus_days: i64) -> Result<Option<DateTime<Utc>>, AppError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::validation(field, "日期格式应为 YYYY-MM-DD"))?;
    let d = d + chrono::Duration::days(plus_days);
    let local = d.and_hms_opt(0, 0, 0).map(wushe_domain::time::from_local);
    Ok(local.map(|t| t.with_timezone(&Utc)))
}

pub fn action_label(a: &str) -> &str {
    match a {
        "create" => "新建",
        "update" => "修改",
        "delete" => "删除",
        "login" => "登录",
        "lock" => "锁定",
        "enable" => "启用",
        "disable" => "停用",
        "revoke" => "撤销",
        "change_password" => "修改密码",
        "view_full" => "查看完整个人信息",
        "approve" => "审批通过",
        "reject" => "驳回",
        "finding" => "记录核查结论",
        "complete" => "完成",
        "publish" => "公开",
        "follow_rules" => "按新设置核对",
        other => other,
    }
}

pub async fn list(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    user.require(user.role.reads_audit())?;
    let s = |v: &str| Some(v.trim().to_string()).filter(|x| !x.is_empty());
    let filter = AuditFilter {
        username: s(&q.username),
        entity: s(&q.entity),
        entity_id: s(&q.entity_id),
        from: day_start("开始日期", &q.from, 0)?,
        to: day_start("结束日期", &q.to, 1)?,
        ..Default::default()
    };
    let res = audit::list(&state.db, &user.scope(), &filter, &Page::new(q.page, Some(50))).await?;
    let rows = res
        .items
        .iter()
        .map(|r| AuditLine {
            id: r.id,
            at: wushe_domain::time::format_local(r.at, "%Y-%m-%d %H:%M:%S"),
            who: r.username.clone().unwrap_or_else(|| "（未登录）".into()),
            action: action_label(&r.action).to_string(),
            entity: format!("{} {}", r.entity, r.entity_id.clone().unwrap_or_default()),
            summary: r.summary.clone(),
            origin: format!("{} {}", r.ip.clone().unwrap_or_default(), r.request_id.clone().unwrap_or_default()),
        })
        .collect();
    let page_base = format!(
        "/audit?username={}&entity={}&entity_id={}&from={}&to={}&",
        url_encode(&q.username),
        url_encode(&q.entity),
        url_encode(&q.entity_id),
        url_encode(&q.from),
        url_encode(&q.to)
    );
    let layout =
        Layout::new(&session, Some(&user), "审计日志", "audit").await?.crumb("/", "首页").crumb("/audit", "审计日志");
    render(&AuditPage { layout, f: q, rows, total: res.total, page: res.page.page, pages: res.pages(), page_base })
}
