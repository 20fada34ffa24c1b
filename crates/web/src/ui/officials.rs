//! Officials' pages for volunteer service: the star-approval queue, spot-checks of hour
//! records (the list and the draw, findings, completion, publication, a repeat of the
//! draw), the public spot-check results, and the statistics page with its charts (each
//! chart has its table underneath, for screen readers and browsers without JavaScript).
//! The handlers call the same services as the API.

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::volunteering::hours::hours_label;
use wushe_domain::volunteering::spot_check::Finding;

use super::volunteering::fmt_time;
use super::{render, set_flash, take_flash, thousands, url_encode, Layout};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::spot_checks::{self as checks, SpotCheckInput, SpotCheckParams, SpotCheckView};
use crate::service::stars::{self, QueueParams};
use crate::service::volunteering::{self as vol, VolunteeringStats};
use crate::state::AppState;

fn given(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|v| !v.is_empty())
}

fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

/// Errors a form shows again on its page (the rest become error pages).
fn shown(e: &AppError) -> bool {
    matches!(e, AppError::Validation { .. } | AppError::Conflict(_) | AppError::Forbidden(_))
}

// ---------- the star-approval queue ----------

pub struct StarRow {
    id: i64,
    person_id: i64,
    person_name: String,
    volunteer_number: String,
    division_code: String,
    star: u8,
    stars: String,
    status: String,
    status_label: String,
    approving_level_label: String,
    total_hours: String,
    threshold_hours: i64,
    reached_on: String,
    eligible_on: String,
    decided: String,
    note: String,
    can_approve: bool,
    can_reject: bool,
    blocked_reason: String,
}

#[derive(Template)]
#[template(path = "officials/stars.html")]
struct StarsPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    items: Vec<StarRow>,
    total: String,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    all_levels: bool,
    approves: String,
    page: u32,
    pages: u32,
    page_base: String,
}

#[derive(Deserialize, Default)]
pub struct StarsQuery {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    status: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    all: String,
    page: Option<u32>,
}

async fn stars_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    q: &StarsQuery,
    error: Option<String>,
) -> Result<Response, AppError> {
    let status = given(&q.status).unwrap_or_else(|| "pending".into());
    let all_levels = !q.all.is_empty();
    let params = QueueParams {
        status: Some(status.clone()),
        all_levels: Some(all_levels),
        page: q.page,
        per_page: Some(20),
        ..Default::default()
    };
    let res = stars::queue(state, user, &params).await?;
    let layout = Layout::new(session, Some(user), "星级志愿者审批", "stars")
        .await?
        .crumb("/", "首页")
        .crumb("", "星级志愿者审批");
    let pages = u32::try_from((res.total + 19) / 20).unwrap_or(1).max(1);
    let approves = if res.approves_stars.is_empty() {
        "您的管辖层级不审批星级，以下仅供查看".to_string()
    } else {
        format!(
            "您是{}民政部门，审批 {} 星",
            res.level_label.clone().unwrap_or_default(),
            res.approves_stars.iter().map(u8::to_string).collect::<Vec<_>>().join("、")
        )
    };
    let items = res
        .items
        .into_iter()
        .map(|i| StarRow {
            id: i.award.id,
            person_id: i.award.person_id,
            person_name: i.person_name,
            volunteer_number: i.volunteer_number,
            division_code: i.division_code,
            star: i.award.star,
            stars: i.award.stars,
            status: i.award.status,
            status_label: i.award.status_label,
            approving_level_label: i.award.approving_level_label,
            total_hours: i.total_hours,
            threshold_hours: i.award.threshold_hours,
            reached_on: i.award.reached_on.to_string(),
            eligible_on: i.award.eligible_on.to_string(),
            decided: match (&i.award.decided_by_name, i.award.decided_at) {
                (Some(n), Some(t)) => format!("{n}（{}）", fmt_time(t)),
                _ => i.award.lapsed_at.map(|t| format!("更正后失效（{}）", fmt_time(t))).unwrap_or_default(),
            },
            note: i.award.decision_note.unwrap_or_default(),
            can_approve: i.can_approve,
            can_reject: i.can_reject,
            blocked_reason: i.blocked_reason.unwrap_or_default(),
        })
        .collect();
    render(&StarsPage {
        layout,
        flash: take_flash(session).await,
        error,
        items,
        total: thousands(res.total),
        statuses: vec![
            ("pending", "待审批"),
            ("approved", "已认定"),
            ("rejected", "未通过"),
            ("lapsed", "已失效"),
            ("all", "全部"),
        ],
        page_base: format!("/stars?status={}&all={}&", url_encode(&status), if all_levels { "1" } else { "" }),
        status,
        all_levels,
        approves,
        page: res.page,
        pages,
    })
}

/// `GET /stars`: the awards of the caller's region, pending first.
pub async fn stars_index(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(q): Query<StarsQuery>,
) -> Result<Response, AppError> {
    stars_page(&state, &session, &user, &q, None).await
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    decision: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    note: String,
}

/// `POST /stars/{id}/decision`: approve or reject.
pub async fn decide_star(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let approve = match f.decision.as_str() {
        "approve" => Ok(true),
        "reject" => Ok(false),
        other => Err(AppError::validation("审批结果", format!("未知的审批结果「{other}」"))),
    };
    let result = match approve {
        Ok(a) => stars::decide(&state, &user, &meta, id, a, given(&f.note)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => {
            let msg = if a.status == "approved" {
                format!("已认定为{}星志愿者", a.star)
            } else {
                format!("已驳回{}星申请", a.star)
            };
            set_flash(&session, &msg).await;
            Ok(Redirect::to("/stars").into_response())
        }
        Err(e) if shown(&e) => {
            let status = e.status();
            let page = stars_page(&state, &session, &user, &StarsQuery::default(), Some(e.to_string())).await?;
            Ok(with_status(page, status))
        }
        Err(e) => Err(e),
    }
}

// ---------- spot-checks ----------

pub struct CheckCard {
    id: i64,
    title: String,
    region_name: String,
    period: String,
    sample: String,
    status: String,
    status_label: String,
    genuine: i64,
    untrue: i64,
    doubtful: i64,
    unchecked: i64,
    date: String,
}

impl From<SpotCheckView> for CheckCard {
    fn from(c: SpotCheckView) -> Self {
        CheckCard {
            id: c.id,
            title: c.title,
            region_name: c.region_name,
            period: format!("{} 至 {}", c.period_from, c.period_to),
            sample: format!("从 {} 条中抽取 {} 条（{}）", thousands(c.population), c.sample_size, c.sample_rule),
            status_label: c.status_label,
            genuine: c.genuine,
            untrue: c.untrue,
            doubtful: c.doubtful,
            unchecked: c.unchecked,
            date: c.published_at.or(c.completed_at).map_or_else(|| fmt_time(c.drawn_at), fmt_time),
            status: c.status,
        }
    }
}

/// The new-check form as typed.
#[derive(Deserialize, Default, Clone)]
pub struct CheckForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    region: String,
    #[serde(deserialize_with = "crate::text::line::one", default)]
    title: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    period_from: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    period_to: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    sample_size: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    sample_percent: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    seed: String,
}

#[derive(Template)]
#[template(path = "officials/spot_checks.html")]
struct ChecksPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    items: Vec<CheckCard>,
    total: String,
    form: CheckForm,
    scope_hint: String,
    page: u32,
    pages: u32,
    page_base: String,
}

#[derive(Deserialize, Default)]
pub struct ChecksQuery {
    page: Option<u32>,
}

async fn checks_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    page: Option<u32>,
    form: CheckForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let res = checks::list(state, user, &SpotCheckParams { page, per_page: Some(20), ..Default::default() }).await?;
    let layout = Layout::new(session, Some(user), "志愿服务记录抽查", "spot_checks")
        .await?
        .crumb("/", "首页")
        .crumb("", "志愿服务记录抽查");
    let pages = res.pages();
    render(&ChecksPage {
        layout,
        flash: take_flash(session).await,
        error,
        total: thousands(res.total),
        page: res.page.page,
        pages,
        page_base: "/spot-checks?".into(),
        items: res.items.into_iter().map(Into::into).collect(),
        scope_hint: if user.scope_division.is_empty() {
            "全部区域".into()
        } else {
            format!("{}（{}）", user.scope_name, user.scope_division)
        },
        form,
    })
}

/// `GET /spot-checks`: the checks of the caller's region and the form for a new one.
pub async fn checks_index(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(q): Query<ChecksQuery>,
) -> Result<Response, AppError> {
    let today = crate::service::registry::today();
    let form = CheckForm {
        period_from: NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap_or(today).to_string(),
        period_to: today.to_string(),
        sample_size: "20".into(),
        ..Default::default()
    };
    checks_page(&state, &session, &user, q.page, form, None).await
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| AppError::validation(field, "日期格式应为 2026-05-01"))
}

fn parse_count(field: &str, s: &str) -> Result<Option<u32>, AppError> {
    match given(s) {
        None => Ok(None),
        Some(v) => v.trim_end_matches('%').parse().map(Some).map_err(|_| AppError::validation(field, "应为正整数")),
    }
}

/// `POST /spot-checks`: draw the sample.
pub async fn create_check(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<CheckForm>,
) -> Result<Response, AppError> {
    let input = (|| -> Result<SpotCheckInput, AppError> {
        Ok(SpotCheckInput {
            region: given(&f.region),
            title: given(&f.title),
            period_from: parse_date("开始日期", &f.period_from)?,
            period_to: parse_date("结束日期", &f.period_to)?,
            sample_size: parse_count("抽样数量", &f.sample_size)?,
            sample_percent: parse_count("抽样比例", &f.sample_percent)?,
            seed: given(&f.seed),
        })
    })();
    let result = match input {
        Ok(i) => checks::create(&state, &user, &meta, i).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => {
            set_flash(&session, "已抽取样本，请逐条核查并填写结论").await;
            Ok(Redirect::to(&format!("/spot-checks/{id}")).into_response())
        }
        Err(e) if shown(&e) => {
            let status = e.status();
            Ok(with_status(checks_page(&state, &session, &user, None, f, Some(e.to_string())).await?, status))
        }
        Err(e) => Err(e),
    }
}

pub struct ItemRow {
    record_id: i64,
    position: i64,
    person_id: i64,
    person_name: String,
    volunteer_number: String,
    organization_name: String,
    activity_id: i64,
    activity_title: String,
    time: String,
    hours: String,
    finding: String,
    finding_label: String,
    note: String,
    checked: String,
    record_state: String,
}

#[derive(Template)]
#[template(path = "officials/spot_check.html")]
struct CheckPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    check: SpotCheckView,
    items: Vec<ItemRow>,
    findings: Vec<(&'static str, &'static str)>,
    in_progress: bool,
    completed: bool,
    drawn_at: String,
    verification: Option<checks::Verification>,
    conclusion: String,
}

async fn check_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    id: i64,
    error: Option<String>,
    verification: Option<checks::Verification>,
    conclusion: String,
) -> Result<Response, AppError> {
    let d = checks::detail(state, user, id).await?;
    let layout = Layout::new(session, Some(user), &d.check.title, "spot_checks")
        .await?
        .crumb("/", "首页")
        .crumb("/spot-checks", "志愿服务记录抽查")
        .crumb("", d.check.title.clone());
    let items = d
        .items
        .into_iter()
        .map(|i| ItemRow {
            record_id: i.record_id,
            position: i.position,
            person_id: i.person_id,
            person_name: i.person_name,
            volunteer_number: i.volunteer_number,
            organization_name: i.organization_name,
            activity_id: i.activity_id,
            activity_title: i.activity_title,
            time: super::volunteering::fmt_range(i.started_at, i.ended_at),
            hours: i.hours,
            finding: i.finding.unwrap_or_default(),
            finding_label: i.finding_label.unwrap_or_default(),
            note: i.note.unwrap_or_default(),
            checked: match (i.checked_by_name, i.checked_at) {
                (Some(n), Some(t)) => format!("{n} {}", fmt_time(t)),
                _ => String::new(),
            },
            record_state: match (i.superseded, i.correction_status.as_deref()) {
                (true, _) if i.voided => "已作废".into(),
                (true, _) => "已更正（新记录已取代）".into(),
                (false, Some("pending")) => "更正申请待审核".into(),
                (false, Some("rejected")) => "更正申请被驳回".into(),
                _ => String::new(),
            },
        })
        .collect();
    let status = d.check.status.clone();
    render(&CheckPage {
        layout,
        flash: take_flash(session).await,
        error,
        drawn_at: fmt_time(d.check.drawn_at),
        in_progress: status == "in_progress",
        completed: status == "completed",
        conclusion: if conclusion.is_empty() { d.check.conclusion.clone().unwrap_or_default() } else { conclusion },
        check: d.check,
        items,
        findings: Finding::ALL.iter().map(|f| (f.as_str(), f.label())).collect(),
        verification,
    })
}

/// `GET /spot-checks/{id}`
pub async fn check_show(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    check_page(&state, &session, &user, id, None, None, String::new()).await
}

/// `GET /spot-checks/{id}/verification`: the page with the repeated draw.
pub async fn check_verify(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let v = checks::verify(&state, &user, id).await?;
    check_page(&state, &session, &user, id, None, Some(v), String::new()).await
}

#[derive(Deserialize, Default)]
pub struct FindingForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    finding: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    note: String,
}

/// `POST /spot-checks/{id}/records/{record_id}`: the finding for one sampled record.
pub async fn set_finding(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path((id, record_id)): Path<(i64, i64)>,
    Form(f): Form<FindingForm>,
) -> Result<Response, AppError> {
    let input = checks::FindingInput { finding: f.finding, note: given(&f.note) };
    match checks::set_finding(&state, &user, &meta, id, record_id, input).await {
        Ok(()) => {
            set_flash(&session, "已保存核查结论").await;
            Ok(Redirect::to(&format!("/spot-checks/{id}#item-{record_id}")).into_response())
        }
        Err(e) if shown(&e) => {
            let status = e.status();
            let m = format!("记录 {record_id}：{e}");
            Ok(with_status(check_page(&state, &session, &user, id, Some(m), None, String::new()).await?, status))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct CompleteForm {
    #[serde(deserialize_with = "crate::text::note::one", default)]
    conclusion: String,
}

/// `POST /spot-checks/{id}/complete`
pub async fn complete_check(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<CompleteForm>,
) -> Result<Response, AppError> {
    match checks::complete(&state, &user, &meta, id, &f.conclusion).await {
        Ok(()) => {
            set_flash(&session, "抽查已完成。核查为不属实或存疑的记录已推送给举办组织更正；确认无误后可公开结果").await;
            Ok(Redirect::to(&format!("/spot-checks/{id}")).into_response())
        }
        Err(e) if shown(&e) => {
            let status = e.status();
            let page = check_page(&state, &session, &user, id, Some(e.to_string()), None, f.conclusion).await?;
            Ok(with_status(page, status))
        }
        Err(e) => Err(e),
    }
}

/// `POST /spot-checks/{id}/publish`
pub async fn publish_check(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    match checks::publish(&state, &user, &meta, id).await {
        Ok(()) => {
            set_flash(&session, "抽查结果已向社会公开").await;
            Ok(Redirect::to(&format!("/spot-checks/{id}")).into_response())
        }
        Err(e) if shown(&e) => {
            let status = e.status();
            let page = check_page(&state, &session, &user, id, Some(e.to_string()), None, String::new()).await?;
            Ok(with_status(page, status))
        }
        Err(e) => Err(e),
    }
}

// ---------- the public results ----------

#[derive(Template)]
#[template(path = "officials/public_spot_checks.html")]
struct PublicChecksPage {
    layout: Layout,
    items: Vec<checks::PublicSpotCheck>,
    total: String,
    page: u32,
    pages: u32,
    page_base: String,
}

/// `GET /public/spot-checks`: published results, no login.
pub async fn public_index(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<ChecksQuery>,
) -> Result<Response, AppError> {
    let res = checks::public_list(&state, &SpotCheckParams { page: q.page, per_page: Some(20), ..Default::default() })
        .await?;
    let layout = Layout::new(&session, None, "志愿服务记录抽查结果公示", "public")
        .await?
        .crumb("/public/spot-checks", "志愿服务记录抽查结果公示");
    render(&PublicChecksPage {
        layout,
        total: thousands(res.total),
        page: res.page.page,
        pages: res.pages(),
        page_base: "/public/spot-checks?".into(),
        items: res.items,
    })
}

#[derive(Template)]
#[template(path = "officials/public_spot_check.html")]
struct PublicCheckPage {
    layout: Layout,
    check: checks::PublicSpotCheck,
    published: String,
    items: Vec<checks::PublicSampledRecord>,
}

/// `GET /public/spot-checks/{id}`
pub async fn public_show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = checks::public_detail(&state, id).await?;
    let layout = Layout::new(&session, None, &d.check.title, "public")
        .await?
        .crumb("/public/spot-checks", "志愿服务记录抽查结果公示")
        .crumb("", d.check.title.clone());
    render(&PublicCheckPage {
        layout,
        published: d.check.published_at.map(fmt_time).unwrap_or_default(),
        check: d.check,
        items: d.items,
    })
}

// ---------- statistics ----------

/// One row of a chart's table.
pub struct TableRow {
    label: String,
    value: String,
}

pub struct SubRow {
    code: String,
    name: String,
    activities: String,
    registered: String,
    active: String,
    hours: String,
    records: String,
    certificates: String,
    stars: String,
    coins: String,
}

#[derive(Template)]
#[template(path = "officials/stats.html")]
struct StatsPage {
    layout: Layout,
    region: String,
    region_name: String,
    year: i32,
    /// (year, selected)
    years: Vec<(i32, bool)>,
    /// Ancestors inside the caller's scope: (code, name), for navigating back up.
    trail: Vec<(String, String)>,
    cards: Vec<(String, String, String)>,
    pending: String,
    month_chart: String,
    months: Vec<TableRow>,
    category_chart: String,
    categories: Vec<TableRow>,
    star_chart: String,
    stars: Vec<TableRow>,
    sub_chart: String,
    subregions: Vec<SubRow>,
}

#[derive(Deserialize, Default)]
pub struct StatsQuery {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    region: String,
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    year: Option<String>,
}

fn hours_f(minutes: i64) -> f64 {
    (minutes as f64 / 6.0).round() / 10.0
}

fn month_chart(s: &VolunteeringStats) -> String {
    let months: Vec<String> = (1..=12).map(|m| format!("{m}月")).collect();
    let values: Vec<f64> = s.minutes_by_month.iter().map(|m| hours_f(*m)).collect();
    serde_json::json!({
        "grid": {"left": 8, "right": 16, "top": 24, "bottom": 8, "containLabel": true},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "name": "小时"},
        "series": [{"type": "bar", "name": "确认服务时长（小时）", "data": values, "itemStyle": {"color": "#0d6efd"}}]
    })
    .to_string()
}

fn category_chart(s: &VolunteeringStats) -> String {
    let data: Vec<serde_json::Value> = s
        .minutes_by_category
        .iter()
        .filter(|c| c.value > 0)
        .map(|c| serde_json::json!({"name": c.label, "value": hours_f(c.value)}))
        .collect();
    if data.is_empty() {
        return String::new();
    }
    serde_json::json!({
        "tooltip": {"trigger": "item", "formatter": "{b}：{c} 小时（{d}%）"},
        "series": [{"type": "pie", "radius": ["35%", "65%"], "data": data, "label": {"formatter": "{b}\n{d}%"}}]
    })
    .to_string()
}

fn star_chart(s: &VolunteeringStats) -> String {
    let names: Vec<&str> = s.stars_by_level.iter().map(|f| f.label.as_str()).collect();
    let values: Vec<i64> = s.stars_by_level.iter().map(|f| f.value).collect();
    serde_json::json!({
        "grid": {"left": 8, "right": 16, "top": 24, "bottom": 8, "containLabel": true},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": names},
        "yAxis": {"type": "value", "name": "人", "minInterval": 1},
        "series": [{"type": "bar", "name": "星级志愿者（人）", "data": values, "itemStyle": {"color": "#e0a800"}}]
    })
    .to_string()
}

fn sub_chart(s: &VolunteeringStats) -> String {
    let rows: Vec<_> = s.subregions.iter().filter(|r| r.volunteer_minutes > 0 || r.registered_volunteers > 0).collect();
    if rows.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let hours: Vec<f64> = rows.iter().map(|r| hours_f(r.volunteer_minutes)).collect();
    let active: Vec<i64> = rows.iter().map(|r| r.active_volunteers).collect();
    serde_json::json!({
        "grid": {"left": 8, "right": 16, "top": 32, "bottom": 8, "containLabel": true},
        "legend": {"top": 0},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": names, "inverse": true},
        "series": [
            {"type": "bar", "name": "确认服务时长（小时）", "data": hours, "itemStyle": {"color": "#0d6efd"}},
            {"type": "bar", "name": "活跃志愿者（人）", "data": active, "itemStyle": {"color": "#20c997"}}
        ]
    })
    .to_string()
}

/// `GET /stats/volunteering?region=&year=`: a region's figures with drill-down.
pub async fn stats_page(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let year = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        Some(y) => Some(y.parse::<i32>().map_err(|_| AppError::validation("年份", "应为四位数字"))?),
        None => None,
    };
    let s = vol::region_stats(&state, &user, given(&q.region).as_deref(), year).await?;
    let this_year = chrono::Datelike::year(&crate::service::registry::today());
    let mut trail = Vec::new();
    if let Ok(code) = wushe_domain::codes::division::DivisionCode::parse(&s.region) {
        for a in wushe_store::regions::ancestors(&state.db, &code).await? {
            if user.covers(&a.code) {
                trail.push((a.code, a.name));
            }
        }
    }
    let total = |k: &str| s.totals.iter().find(|f| f.key == k).map_or(0, |f| f.value);
    let cards = vec![
        ("activities".into(), "发布活动（个）".into(), thousands(s.activities)),
        ("registered".into(), "注册志愿者（人，年末）".into(), thousands(s.registered_volunteers)),
        ("active".into(), "活跃志愿者（人，本年有服务）".into(), thousands(s.active_volunteers)),
        ("hours".into(), "确认服务时长（小时）".into(), hours_label(total("volunteer_minutes"))),
        ("records".into(), "服务记录（条）".into(), thousands(total("service_records"))),
        ("certificates".into(), "出具志愿服务证明（份）".into(), thousands(s.certificates)),
        ("coins".into(), "时间币结余（个，当前）".into(), s.timebank_coins.clone()),
    ];
    let layout =
        Layout::new(&session, Some(&user), "志愿服务统计", "stats").await?.crumb("/", "首页").crumb("", "志愿服务统计");
    let page = StatsPage {
        layout,
        region_name: s.region_name.clone(),
        year: s.year,
        years: (this_year - 9..=this_year).rev().map(|y| (y, y == s.year)).collect(),
        trail,
        cards,
        pending: if s.pending_deltas > 0 { thousands(s.pending_deltas) } else { String::new() },
        month_chart: month_chart(&s),
        months: s
            .minutes_by_month
            .iter()
            .enumerate()
            .map(|(i, m)| TableRow { label: format!("{}月", i + 1), value: hours_label(*m) })
            .collect(),
        category_chart: category_chart(&s),
        categories: s
            .minutes_by_category
            .iter()
            .map(|c| TableRow { label: c.label.clone(), value: hours_label(c.value) })
            .collect(),
        star_chart: star_chart(&s),
        stars: s
            .stars_by_level
            .iter()
            .map(|f| TableRow { label: f.label.clone(), value: thousands(f.value) })
            .collect(),
        sub_chart: sub_chart(&s),
        subregions: s
            .subregions
            .iter()
            .map(|r| SubRow {
                code: r.code.clone(),
                name: r.name.clone(),
                activities: thousands(r.activities),
                registered: thousands(r.registered_volunteers),
                active: thousands(r.active_volunteers),
                hours: hours_label(r.volunteer_minutes),
                records: thousands(r.service_records),
                certificates: thousands(r.certificates),
                stars: thousands(r.star_volunteers),
                coins: wushe_domain::timebank::rules::coins_label(r.timebank_coin_minutes),
            })
            .collect(),
        region: s.region,
    };
    render(&page)
}
