//! Volunteer service in the UI, phone first: the activity list (public), the organizer's
//! activity form, the activity page with sign-ups and — for its organizer — the roster,
//! check-in/out from the roster, missing check-outs and bulk hour confirmation; the big-screen
//! rotating check-in QR, the check-in page a volunteer's phone opens from it, the volunteer's
//! own record with correction requests, and the organization's correction reviews.
//!
//! Times are entered and shown in Beijing time (UTC+8, no daylight saving) and stored in UTC.
//! The handlers call the same services as the API.

use std::collections::HashMap;

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::accounts::Role;
use wushe_domain::volunteering::activity::{ActivityStatus, ServiceCategory};
use wushe_domain::volunteering::attendance::AttendanceStatus;
use wushe_domain::volunteering::hours::hours_label;
use wushe_domain::volunteering::signup::{SignupAction, SignupStatus};
use wushe_store::Page;

use super::{render, set_flash, take_flash, url_encode, Layout};
use crate::api::volunteering::ActivityParams;
use crate::auth::{CurrentUser, MaybeUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering::{
    self as svc, ActivityInput, ActivityView, CheckInput, ConfirmInput, ConfirmItem, CorrectionInput, SlotInput,
};
use crate::state::AppState;

// ---------- Beijing time ----------

fn local(t: DateTime<Utc>) -> NaiveDateTime {
    wushe_domain::time::local_datetime(t)
}

/// "2026-05-01 09:00" in Beijing time.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// The value of a `datetime-local` input for an instant.
pub fn fmt_input(t: DateTime<Utc>) -> String {
    local(t).format("%Y-%m-%dT%H:%M").to_string()
}

/// "2026-05-01 09:00–12:00", or both ends in full when they fall on different days.
pub fn fmt_range(s: DateTime<Utc>, e: DateTime<Utc>) -> String {
    let (ls, le) = (local(s), local(e));
    if ls.date() == le.date() {
        format!("{}–{}", ls.format("%Y-%m-%d %H:%M"), le.format("%H:%M"))
    } else {
        format!("{} 至 {}", ls.format("%Y-%m-%d %H:%M"), le.format("%Y-%m-%d %H:%M"))
    }
}

/// A Beijing time typed into a form (`datetime-local`, or "2026-05-01 09:00" from browsers
/// without that input) as UTC; None when empty.
pub fn parse_local(field: &str, s: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .ok_or_else(|| AppError::validation(field, "时间格式应为 2026-05-01 09:00（北京时间）"))?;
    Ok(Some(wushe_domain::time::from_local(naive)))
}

fn given(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|v| !v.is_empty())
}

/// A number typed into a form (None when empty).
fn number<T: std::str::FromStr>(field: &str, s: &str, what: &str) -> Result<Option<T>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| AppError::validation(field, format!("应为{what}")))
}

fn category_options() -> Vec<(&'static str, &'static str)> {
    ServiceCategory::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
}

/// Bootstrap badge colour of an activity status.
fn status_class(status: &str) -> &'static str {
    match status {
        "published" => "text-bg-success",
        "draft" => "text-bg-secondary",
        "closed" => "text-bg-dark",
        _ => "text-bg-danger",
    }
}

fn signup_label(status: &str) -> &'static str {
    SignupStatus::parse(status).map_or("未知", SignupStatus::label)
}

fn attendance_label(status: &str) -> &'static str {
    AttendanceStatus::parse(status).map_or("未知", AttendanceStatus::label)
}

/// A page again with its error (the status of the error).
fn with_status(mut res: Response, status: StatusCode) -> Response {
    *res.status_mut() = status;
    res
}

// ---------- the list ----------

pub struct ActivityCard {
    pub id: i64,
    pub title: String,
    pub category_label: String,
    pub status_label: String,
    pub status_class: &'static str,
    pub organization_name: String,
    pub when: String,
    pub address: String,
    /// Still published although its time is over (the organizer has not closed it).
    pub past: bool,
}

impl From<ActivityView> for ActivityCard {
    fn from(a: ActivityView) -> Self {
        ActivityCard {
            id: a.id,
            past: a.status == ActivityStatus::Published.as_str() && a.ends_at < Utc::now(),
            status_class: status_class(&a.status),
            when: fmt_range(a.starts_at, a.ends_at),
            title: a.title,
            category_label: a.category_label,
            status_label: a.status_label,
            organization_name: a.organization_name,
            address: a.address,
        }
    }
}

#[derive(Template)]
#[template(path = "volunteering/list.html")]
struct ListPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    items: Vec<ActivityCard>,
    total: String,
    q: String,
    category: String,
    region: String,
    upcoming: bool,
    categories: Vec<(&'static str, &'static str)>,
    can_create: bool,
    logged_in: bool,
    page: u32,
    pages: u32,
    page_base: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    q: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    category: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    region: String,
    /// "1" when "只看未结束" is ticked.
    #[serde(deserialize_with = "crate::text::label::one", default)]
    upcoming: String,
    /// Set by the filter form: without it (first visit) only upcoming activities are shown.
    #[serde(deserialize_with = "crate::text::label::one", default)]
    f: String,
    page: Option<u32>,
}

/// `GET /activities`: the public sees published ones; staff and officials their scope.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    MaybeUser(user): MaybeUser,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    let upcoming = p.f.is_empty() || !p.upcoming.is_empty();
    let params = ActivityParams {
        q: given(&p.q),
        region: given(&p.region),
        category: given(&p.category),
        upcoming: Some(upcoming),
        ..Default::default()
    };
    let page = Page::new(p.page, Some(20));
    let listed = match params.filter() {
        Ok(f) => svc::list_activities(&state, user.as_ref(), &f, &page).await,
        Err(e) => Err(e),
    };
    let (res, error) = match listed {
        Ok(res) => (Some(res), None),
        Err(e @ AppError::Validation { .. }) => (None, Some(e)),
        Err(e) => return Err(e),
    };
    let layout = Layout::new(&session, user.as_ref(), "志愿活动", "activities")
        .await?
        .crumb("/", "首页")
        .crumb("/activities", "志愿活动");
    let page_base = format!(
        "/activities?f=1&q={}&category={}&region={}&upcoming={}&",
        url_encode(p.q.trim()),
        url_encode(p.category.trim()),
        url_encode(p.region.trim()),
        if upcoming { "1" } else { "" }
    );
    let status = error.as_ref().map(AppError::status);
    let mut out = ListPage {
        layout,
        flash: take_flash(&session).await,
        error: error.map(|e| e.to_string()),
        items: Vec::new(),
        total: "0".into(),
        q: p.q,
        category: p.category,
        region: p.region,
        upcoming,
        categories: category_options(),
        can_create: user.as_ref().is_some_and(|u| u.role.runs_activities()),
        logged_in: user.is_some(),
        page: 1,
        pages: 1,
        page_base,
    };
    if let Some(res) = res {
        out.total = res.total_label();
        out.page = res.page.page;
        out.pages = res.pages();
        out.items = res.items.into_iter().map(Into::into).collect();
    }
    let html = render(&out)?;
    Ok(match status {
        Some(s) => with_status(html, s),
        None => html,
    })
}

// ---------- the organizer's form ----------

/// Field problems of the activity form (Chinese field names, as the service names them).
#[derive(Default)]
pub struct Problems {
    list: Vec<(String, String)>,
    by_field: HashMap<String, Vec<String>>,
}

impl Problems {
    fn push(&mut self, field: &str, message: String) {
        // the service calls the slot list "slots"
        let field = if field == "slots" { "时段" } else { field };
        self.by_field.entry(field.to_string()).or_default().push(message.clone());
        self.list.push((field.to_string(), message));
    }

    fn take(&mut self, e: AppError) -> Option<AppError> {
        match e {
            AppError::Validation { field, message } => {
                self.push(&field, message);
                None
            }
            e => Some(e),
        }
    }

    fn err(&self, field: &str) -> String {
        self.by_field.get(field).map(|v| v.join("；")).unwrap_or_default()
    }

    fn invalid(&self, field: &str) -> &'static str {
        if self.by_field.contains_key(field) {
            " is-invalid"
        } else {
            ""
        }
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[derive(Default, Clone)]
pub struct SlotForm {
    starts: String,
    ends: String,
    capacity: String,
}

/// The activity form as typed (time slots repeat their field names, one row each).
#[derive(Default)]
pub struct ActivityForm {
    title: String,
    content: String,
    category: String,
    division_code: String,
    address: String,
    latitude: String,
    longitude: String,
    checkin_radius_m: String,
    min_age: String,
    risky: bool,
    timebank: bool,
    auto_approve: bool,
    recruit_until: String,
    organization_id: String,
    slots: Vec<SlotForm>,
    publish: bool,
}

/// Slot rows the form shows at least.
const MIN_SLOT_ROWS: usize = 3;

impl ActivityForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> ActivityForm {
        let mut f = ActivityForm::default();
        let (mut starts, mut ends, mut caps) = (Vec::new(), Vec::new(), Vec::new());
        for (k, v) in pairs {
            match k.as_str() {
                "title" => f.title = v,
                "content" => f.content = v,
                "category" => f.category = v,
                "division_code" => f.division_code = v,
                "address" => f.address = v,
                "latitude" => f.latitude = v,
                "longitude" => f.longitude = v,
                "checkin_radius_m" => f.checkin_radius_m = v,
                "min_age" => f.min_age = v,
                "recruit_until" => f.recruit_until = v,
                "organization_id" => f.organization_id = v,
                "risky" => f.risky = true,
                "timebank" => f.timebank = true,
                "auto_approve" => f.auto_approve = true,
                "publish" => f.publish = true,
                "slot_starts" => starts.push(v),
                "slot_ends" => ends.push(v),
                "slot_capacity" => caps.push(v),
                _ => {}
            }
        }
        let n = starts.len().max(ends.len()).max(caps.len());
        for i in 0..n {
            let get = |v: &Vec<String>| v.get(i).cloned().unwrap_or_default();
            f.slots.push(SlotForm { starts: get(&starts), ends: get(&ends), capacity: get(&caps) });
        }
        f
    }

    /// Pad to the minimum number of rows for display (and drop empty rows beyond it).
    fn padded(mut self) -> ActivityForm {
        self.slots
            .retain(|s| !(s.starts.trim().is_empty() && s.ends.trim().is_empty() && s.capacity.trim().is_empty()));
        while self.slots.len() < MIN_SLOT_ROWS {
            self.slots.push(SlotForm::default());
        }
        self
    }

    /// The service's input, or the problems the form already shows (every one of them).
    fn input(&self, problems: &mut Problems) -> Option<ActivityInput> {
        let mut ok = true;
        let mut take = |r: Result<Option<f64>, AppError>| match r {
            Ok(v) => v,
            Err(e) => {
                ok = false;
                problems.take(e);
                None
            }
        };
        let latitude = take(number("坐标", &self.latitude, "数字（纬度，如 30.55）"));
        let longitude = take(number("坐标", &self.longitude, "数字（经度，如 114.30）"));
        let mut ints = |field: &str, s: &str, what: &str| match number::<i64>(field, s, what) {
            Ok(v) => v,
            Err(e) => {
                ok = false;
                problems.take(e);
                None
            }
        };
        let checkin_radius_m = ints("签到范围", &self.checkin_radius_m, "整数（米）");
        let min_age = ints("最低年龄", &self.min_age, "整数（周岁）");
        let organization_id = ints("举办组织", &self.organization_id, "组织编号（数字）");
        let recruit_until = match parse_local("报名截止", &self.recruit_until) {
            Ok(v) => v,
            Err(e) => {
                ok = false;
                problems.take(e);
                None
            }
        };
        let mut slots = Vec::new();
        for (i, s) in self.slots.iter().enumerate() {
            if s.starts.trim().is_empty() && s.ends.trim().is_empty() && s.capacity.trim().is_empty() {
                continue;
            }
            let row = i + 1;
            let starts = parse_local("时段", &s.starts);
            let ends = parse_local("时段", &s.ends);
            let cap = number::<i64>("时段", &s.capacity, "整数（名额）");
            match (starts, ends, cap) {
                (Ok(Some(st)), Ok(Some(en)), Ok(Some(c))) => {
                    slots.push(SlotInput { starts_at: st, ends_at: en, capacity: c })
                }
                (st, en, c) => {
                    ok = false;
                    let why = [st.err(), en.err(), c.err()]
                        .into_iter()
                        .flatten()
                        .map(|e| match e {
                            AppError::Validation { message, .. } => message,
                            e => e.to_string(),
                        })
                        .next()
                        .unwrap_or_else(|| "开始时间、结束时间和名额都要填写".into());
                    problems.push("时段", format!("第 {row} 行：{why}"));
                }
            }
        }
        if slots.is_empty() && ok {
            problems.push("时段", "至少填写一个时段（开始时间、结束时间和名额）".into());
            ok = false;
        }
        ok.then(|| ActivityInput {
            title: self.title.clone(),
            content: self.content.clone(),
            category: self.category.clone(),
            division_code: self.division_code.clone(),
            address: self.address.clone(),
            latitude,
            longitude,
            checkin_radius_m,
            required_skills: Vec::new(),
            min_age,
            risky: self.risky,
            timebank: self.timebank,
            auto_approve: self.auto_approve,
            recruit_until,
            slots,
            publish: self.publish,
            organization_id,
        })
    }
}

#[derive(Template)]
#[template(path = "volunteering/new.html")]
struct NewPage {
    layout: Layout,
    form: ActivityForm,
    error: Option<String>,
    problems: Problems,
    categories: Vec<(&'static str, &'static str)>,
    /// Administrators name the organization; staff run their own.
    needs_org: bool,
}

async fn new_page(
    session: &Session,
    user: &CurrentUser,
    form: ActivityForm,
    problems: Problems,
    error: Option<String>,
) -> Result<Response, AppError> {
    let layout = Layout::new(session, Some(user), "发布志愿活动", "activities")
        .await?
        .crumb("/", "首页")
        .crumb("/activities", "志愿活动")
        .crumb("", "发布活动");
    render(&NewPage {
        layout,
        form: form.padded(),
        error,
        problems,
        categories: category_options(),
        needs_org: user.organization_id.is_none(),
    })
}

/// `GET /activities/new`
pub async fn new_form(session: Session, user: CurrentUser) -> Result<Response, AppError> {
    user.require(user.role.runs_activities())?;
    let form = ActivityForm {
        division_code: user.scope_division.clone(),
        category: ServiceCategory::Community.as_str().into(),
        auto_approve: true,
        ..Default::default()
    };
    new_page(&session, &user, form, Problems::default(), None).await
}

/// `POST /activities`
pub async fn create(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    user.require(user.role.runs_activities())?;
    let f = ActivityForm::from_pairs(pairs);
    let mut problems = Problems::default();
    let Some(input) = f.input(&mut problems) else {
        let res = new_page(&session, &user, f, problems, None).await?;
        return Ok(with_status(res, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let title = input.title.trim().to_string();
    let published = input.publish;
    match svc::create_activity(&state, &user, &meta, input).await {
        Ok(id) => {
            let what = if published { "已发布" } else { "已保存为草稿" };
            set_flash(&session, &format!("{what}：{title}")).await;
            Ok(Redirect::to(&format!("/activities/{id}")).into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            problems.take(e);
            let res = new_page(&session, &user, f, problems, None).await?;
            Ok(with_status(res, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e @ AppError::Conflict(_)) => {
            let (status, m) = (e.status(), e.to_string());
            Ok(with_status(new_page(&session, &user, f, problems, Some(m)).await?, status))
        }
        Err(e) => Err(e),
    }
}

// ---------- the activity page ----------

/// The volunteer's own sign-up for a slot.
pub struct MySignup {
    id: i64,
    status_label: &'static str,
    active: bool,
}

pub struct SlotView {
    id: i64,
    when: String,
    capacity: i64,
    approved: i64,
    left: i64,
    waitlisted: i64,
    pending: i64,
    started: bool,
    mine: Option<MySignup>,
    /// No sign-up in play for the slot yet.
    can_sign_up: bool,
}

pub struct AttView {
    id: i64,
    signup_id: i64,
    name: String,
    number: String,
    slot_time: String,
    in_at: String,
    out_at: String,
    /// Length between check-in and check-out (hours), for confirmation.
    length: String,
    /// Default for resolving a missing check-out: the slot's end.
    out_default: String,
    note: String,
}

pub struct SignupView {
    id: i64,
    name: String,
    number: String,
    slot_time: String,
    status: String,
    status_label: &'static str,
    attendance: String,
    can_approve: bool,
    can_decline: bool,
    can_cancel: bool,
    can_checkin: bool,
    can_checkout: bool,
}

#[derive(Template)]
#[template(path = "volunteering/show.html")]
struct ShowPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    a: ActivityView,
    when: String,
    recruit_until: String,
    status_class: &'static str,
    published: bool,
    slots: Vec<SlotView>,
    logged_in: bool,
    /// A volunteer account linked to a registry person (may sign up).
    volunteer: bool,
    manages: bool,
    /// The organizer or an overseeing official: the roster is shown.
    sees_roster: bool,
    transitions: Vec<(&'static str, &'static str, &'static str)>,
    signups: Vec<SignupView>,
    flagged: Vec<AttView>,
    closed: Vec<AttView>,
    confirmed: usize,
    login_href: String,
}

async fn show_page(
    state: &AppState,
    session: &Session,
    user: Option<&CurrentUser>,
    id: i64,
    error: Option<String>,
) -> Result<Response, AppError> {
    let d = svc::activity_detail(state, user, id).await?;
    let now = Utc::now();
    let mine = match user {
        Some(u) => svc::my_signups(state, u, id).await?,
        None => Vec::new(),
    };
    let slot_time: HashMap<i64, String> = d.slots.iter().map(|s| (s.id, fmt_range(s.starts_at, s.ends_at))).collect();
    let slot_end: HashMap<i64, DateTime<Utc>> = d.slots.iter().map(|s| (s.id, s.ends_at)).collect();
    let slots = d
        .slots
        .iter()
        .map(|s| {
            // the sign-up in play for the slot, else the latest one
            let mut own: Vec<_> = mine.iter().filter(|m| m.slot_id == s.id).collect();
            own.sort_by_key(|m| (SignupStatus::parse(&m.status).is_some_and(SignupStatus::is_active), m.id));
            let mine = own.last().map(|m| MySignup {
                id: m.id,
                status_label: signup_label(&m.status),
                active: SignupStatus::parse(&m.status).is_some_and(SignupStatus::is_active),
            });
            SlotView {
                id: s.id,
                when: fmt_range(s.starts_at, s.ends_at),
                capacity: s.capacity,
                approved: s.approved,
                left: (s.capacity - s.approved).max(0),
                waitlisted: s.waitlisted,
                pending: s.pending,
                started: s.starts_at <= now,
                can_sign_up: mine.as_ref().is_none_or(|m| !m.active),
                mine,
            }
        })
        .collect();
    let from = ActivityStatus::parse(&d.activity.status);
    let transitions = [
        (ActivityStatus::Published, "发布", "btn-success"),
        (ActivityStatus::Closed, "结束活动", "btn-outline-dark"),
        (ActivityStatus::Cancelled, "取消活动", "btn-outline-danger"),
    ]
    .into_iter()
    .filter(|(to, _, _)| d.manages && from.is_some_and(|f| f.can_become(*to)))
    .map(|(to, label, class)| (to.as_str(), label, class))
    .collect();
    let published = d.activity.status == ActivityStatus::Published.as_str();
    let sees_roster = d.manages || user.is_some_and(|u| u.role.oversees_volunteering());
    let (mut signups, mut flagged, mut closed, mut confirmed) = (Vec::new(), Vec::new(), Vec::new(), 0);
    if sees_roster {
        let (rows, atts) = svc::roster(state, user.ok_or(AppError::Unauthenticated)?, id).await?;
        let by_signup: HashMap<i64, &wushe_store::volunteering::attendance::AttendanceRow> =
            atts.iter().map(|t| (t.signup_id, t)).collect();
        for s in &rows {
            let st = SignupStatus::parse(&s.status);
            let att = by_signup.get(&s.id);
            let attendance = match att {
                Some(t) => {
                    let mut l = format!("{} {}", attendance_label(&t.status), fmt_time(t.checked_in_at));
                    if let Some(o) = t.checked_out_at {
                        l.push_str(&format!(" → {}", fmt_time(o)));
                    }
                    l
                }
                None => String::new(),
            };
            let m = d.manages;
            signups.push(SignupView {
                id: s.id,
                name: s.person_name.clone(),
                number: s.volunteer_number.clone(),
                slot_time: slot_time.get(&s.slot_id).cloned().unwrap_or_default(),
                status: s.status.clone(),
                status_label: signup_label(&s.status),
                attendance,
                can_approve: m && st == Some(SignupStatus::Pending),
                can_decline: m && matches!(st, Some(SignupStatus::Pending | SignupStatus::Waitlisted)),
                can_cancel: m && att.is_none() && st.is_some_and(SignupStatus::is_active),
                can_checkin: m && published && att.is_none() && st == Some(SignupStatus::Approved),
                can_checkout: m && att.is_some_and(|t| t.status == AttendanceStatus::Open.as_str()),
            });
        }
        for t in &atts {
            let view = AttView {
                id: t.id,
                signup_id: t.signup_id,
                name: t.person_name.clone(),
                number: t.volunteer_number.clone(),
                slot_time: fmt_range(t.slot_starts_at, t.slot_ends_at),
                in_at: fmt_time(t.checked_in_at),
                out_at: t.checked_out_at.map(fmt_time).unwrap_or_default(),
                length: t
                    .checked_out_at
                    .map(|o| format!("{} 小时", hours_label((o - t.checked_in_at).num_minutes().max(0))))
                    .unwrap_or_default(),
                out_default: fmt_input(slot_end.get(&t.slot_id).copied().unwrap_or(t.slot_ends_at).min(now)),
                note: t.resolution_note.clone().unwrap_or_default(),
            };
            match AttendanceStatus::parse(&t.status) {
                Some(AttendanceStatus::Flagged) => flagged.push(view),
                Some(AttendanceStatus::Closed) => closed.push(view),
                Some(AttendanceStatus::Confirmed) => confirmed += 1,
                _ => {}
            }
        }
    }
    let layout = Layout::new(session, user, &d.activity.title, "activities")
        .await?
        .crumb("/", "首页")
        .crumb("/activities", "志愿活动")
        .crumb("", d.activity.title.clone());
    let page = ShowPage {
        layout,
        flash: take_flash(session).await,
        error,
        when: fmt_range(d.activity.starts_at, d.activity.ends_at),
        recruit_until: d.activity.recruit_until.map(fmt_time).unwrap_or_default(),
        status_class: status_class(&d.activity.status),
        published,
        slots,
        logged_in: user.is_some(),
        volunteer: user.is_some_and(|u| u.role == Role::Volunteer && u.person_id.is_some()),
        manages: d.manages,
        sees_roster,
        transitions,
        signups,
        flagged,
        closed,
        confirmed,
        login_href: format!("/login?next={}", url_encode(&format!("/activities/{id}"))),
        a: d.activity,
    };
    render(&page)
}

/// `GET /activities/{id}`
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    MaybeUser(user): MaybeUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    show_page(&state, &session, user.as_ref(), id, None).await
}

/// After an action on the activity page: back to it with a message, or the page again with
/// the problem (validation and conflicts; other errors are error pages).
async fn after_action(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    id: i64,
    result: Result<String, AppError>,
) -> Result<Response, AppError> {
    match result {
        Ok(msg) => {
            set_flash(session, &msg).await;
            Ok(Redirect::to(&format!("/activities/{id}")).into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let (status, m) = (e.status(), e.to_string());
            Ok(with_status(show_page(state, session, Some(user), id, Some(m)).await?, status))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct StatusForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    status: String,
}

/// `POST /activities/{id}/status`: publish, close or cancel.
pub async fn set_status(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Result<Response, AppError> {
    let result = match ActivityStatus::parse(&f.status) {
        Some(to) => svc::set_activity_status(&state, &user, &meta, id, to)
            .await
            .map(|()| format!("活动已改为「{}」", to.label())),
        None => Err(AppError::validation("活动状态", format!("未知的活动状态「{}」", f.status))),
    };
    after_action(&state, &session, &user, id, result).await
}

#[derive(Deserialize, Default)]
pub struct SignupForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    slot_id: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    note: String,
}

/// `POST /activities/{id}/signups`: a volunteer signs up for a slot.
pub async fn sign_up(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<SignupForm>,
) -> Result<Response, AppError> {
    let result = match f.slot_id.trim().parse::<i64>() {
        Ok(slot) => svc::sign_up(&state, &user, &meta, id, slot, given(&f.note))
            .await
            .map(|r| format!("报名成功，当前状态：{}", r.status_label)),
        Err(_) => Err(AppError::validation("时段", "请选择要报名的时段")),
    };
    after_action(&state, &session, &user, id, result).await
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    action: String,
}

/// `POST /activities/{id}/signups/{signup_id}`: approve, decline or cancel (the organizer),
/// or withdraw one's own (cancel).
pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path((id, signup_id)): Path<(i64, i64)>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let action = match f.action.as_str() {
        "approve" => Some(SignupAction::Approve { place_free: false }),
        "decline" => Some(SignupAction::Decline),
        "cancel" => Some(SignupAction::Cancel),
        _ => None,
    };
    let result = match action {
        Some(a) => svc::act_on_signup(&state, &user, &meta, signup_id, a)
            .await
            .map(|r| format!("报名已改为「{}」", r.status_label)),
        None => Err(AppError::validation("操作", format!("未知的操作「{}」", f.action))),
    };
    after_action(&state, &session, &user, id, result).await
}

#[derive(Deserialize, Default)]
pub struct RosterForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    signup_id: String,
    /// Resolving a missing check-out: when the service ended (Beijing time).
    #[serde(deserialize_with = "crate::text::label::one", default)]
    checked_out_at: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    note: String,
}

impl RosterForm {
    fn input(&self, activity_id: i64) -> Result<CheckInput, AppError> {
        let signup_id =
            self.signup_id.trim().parse::<i64>().map_err(|_| AppError::validation("报名", "缺少报名编号"))?;
        Ok(CheckInput {
            activity_id,
            code: None,
            latitude: None,
            longitude: None,
            signup_id: Some(signup_id),
            checked_out_at: parse_local("签退时间", &self.checked_out_at)?,
            note: given(&self.note),
        })
    }
}

/// `POST /activities/{id}/roster/check-in`: the organizer checks a volunteer in.
pub async fn roster_check_in(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<RosterForm>,
) -> Result<Response, AppError> {
    let result = match f.input(id) {
        Ok(input) => svc::check_in(&state, &user, &meta, input).await.map(|r| format!("已签到：{}", fmt_time(r.at))),
        Err(e) => Err(e),
    };
    after_action(&state, &session, &user, id, result).await
}

/// `POST /activities/{id}/roster/check-out`: the organizer checks a volunteer out, or
/// resolves a missing check-out with the time the service ended.
pub async fn roster_check_out(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<RosterForm>,
) -> Result<Response, AppError> {
    let result = match f.input(id) {
        Ok(input) => svc::check_out(&state, &user, &meta, input).await.map(|r| format!("已签退：{}", fmt_time(r.at))),
        Err(e) => Err(e),
    };
    after_action(&state, &session, &user, id, result).await
}

/// `POST /activities/{id}/confirm`: confirm the hours of the ticked attendances at once
/// (`attendance_id` repeated; `travel_{id}` and `evaluation_{id}` per row).
pub async fn confirm(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let values: HashMap<&str, &str> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut items = Vec::new();
    let mut bad = None;
    for (k, v) in &pairs {
        if k != "attendance_id" {
            continue;
        }
        let Ok(aid) = v.trim().parse::<i64>() else { continue };
        let travel = values.get(format!("travel_{aid}").as_str()).copied().unwrap_or("");
        match number::<i64>("路途时间", travel, "整数（分钟）") {
            Ok(t) => items.push(ConfirmItem {
                attendance_id: aid,
                travel_minutes: t.unwrap_or(0),
                evaluation: values.get(format!("evaluation_{aid}").as_str()).and_then(|e| given(e)),
            }),
            Err(e) => bad = Some(e),
        }
    }
    let result = if let Some(e) = bad {
        Err(e)
    } else if items.is_empty() {
        Err(AppError::validation("确认时长", "请至少勾选一条已签退的记录"))
    } else {
        svc::confirm(&state, &user, &meta, ConfirmInput { items }).await.map(|recs| {
            let total: i64 = recs.iter().map(|r| r.credited_minutes).sum();
            let capped = recs.iter().filter(|r| r.capped_by_activity || r.capped_by_day).count();
            let mut m = format!("已确认 {} 条服务记录，共 {} 小时", recs.len(), hours_label(total));
            if capped > 0 {
                m.push_str(&format!("（其中 {capped} 条按活动时长或每日上限核减）"));
            }
            m
        })
    };
    after_action(&state, &session, &user, id, result).await
}

// ---------- the big-screen QR ----------

#[derive(Template)]
#[template(path = "volunteering/qr.html")]
struct QrPage {
    layout: Layout,
    a: ActivityView,
    fragment: String,
}

#[derive(Template)]
#[template(path = "volunteering/qr_code.html")]
struct QrFragment {
    svg: String,
    code: String,
    url: String,
    valid_until: String,
}

/// The check-in page's address for a code: absolute when the request names its host.
fn checkin_url(headers: &HeaderMap, activity_id: i64, code: &str) -> String {
    let path = format!("/checkin?a={activity_id}&c={code}");
    match super::request_origin(headers) {
        Some(origin) => format!("{origin}{path}"),
        None => path,
    }
}

/// An SVG QR code of `text` (no XML declaration, so it can sit inside HTML).
fn qr_svg(text: &str) -> Result<String, AppError> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(AppError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(320, 320)
        .dark_color(qrcode::render::svg::Color("#000"))
        .light_color(qrcode::render::svg::Color("#fff"))
        .build();
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen("<svg ", "<svg role=\"img\" aria-label=\"签到二维码\" ", 1))
}

async fn qr_fragment(state: &AppState, user: &CurrentUser, headers: &HeaderMap, id: i64) -> Result<String, AppError> {
    let (code, valid_until) = svc::checkin_code(state, user, id).await?;
    let url = checkin_url(headers, id, &code);
    QrFragment { svg: qr_svg(&url)?, code, url, valid_until: local(valid_until).format("%H:%M:%S").to_string() }
        .render()
        .map_err(AppError::internal)
}

/// `GET /activities/{id}/qr`: the organizer's screen with the rotating check-in code.
pub async fn qr(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let fragment = qr_fragment(&state, &user, &headers, id).await?;
    let d = svc::activity_detail(&state, Some(&user), id).await?;
    let layout = Layout::new(&session, Some(&user), &format!("签到二维码 - {}", d.activity.title), "activities")
        .await?
        .crumb("/", "首页")
        .crumb("/activities", "志愿活动")
        .crumb(format!("/activities/{id}"), d.activity.title.clone())
        .crumb("", "签到二维码");
    render(&QrPage { layout, a: d.activity, fragment })
}

/// `GET /activities/{id}/qr/code`: the QR and code alone (htmx polls it every 10 s).
pub async fn qr_code(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let html = qr_fragment(&state, &user, &headers, id).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

// ---------- the volunteer's check-in page ----------

#[derive(Template)]
#[template(path = "volunteering/checkin.html")]
struct CheckinPage {
    layout: Layout,
    a: ActivityView,
    code: String,
    /// The activity checks the position (a geofence).
    fence: bool,
    /// (succeeded, message) after a check-in or check-out.
    result: Option<(bool, String)>,
}

async fn checkin_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    id: i64,
    code: String,
    result: Option<(bool, String)>,
) -> Result<Response, AppError> {
    let d = svc::activity_detail(state, Some(user), id).await?;
    let layout = Layout::new(session, Some(user), "现场签到", "activities")
        .await?
        .crumb("/activities", "志愿活动")
        .crumb(format!("/activities/{id}"), d.activity.title.clone())
        .crumb("", "现场签到");
    let fence = d.activity.checkin_radius_m.is_some() && d.activity.latitude.is_some();
    render(&CheckinPage { layout, a: d.activity, code, fence, result })
}

#[derive(Deserialize, Default)]
pub struct CheckinQuery {
    a: Option<i64>,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    c: String,
}

/// `GET /checkin?a=&c=`: opened from the QR. Without a session: to the login and back here.
pub async fn checkin_form(
    State(state): State<AppState>,
    session: Session,
    MaybeUser(user): MaybeUser,
    Query(q): Query<CheckinQuery>,
) -> Result<Response, AppError> {
    let Some(id) = q.a else {
        return Err(AppError::BadRequest("缺少活动编号，请扫描活动现场的签到二维码".into()));
    };
    let Some(user) = user else {
        let back = format!("/checkin?a={id}&c={}", url_encode(q.c.trim()));
        return Ok(Redirect::to(&format!("/login?next={}&reason=unauthenticated", url_encode(&back))).into_response());
    };
    checkin_page(&state, &session, &user, id, q.c.trim().to_string(), None).await
}

#[derive(Deserialize, Default)]
pub struct CheckForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    activity_id: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    code: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    latitude: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    longitude: String,
}

async fn check(
    state: AppState,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    f: CheckForm,
    out: bool,
) -> Result<Response, AppError> {
    let id = f.activity_id.trim().parse::<i64>().map_err(|_| AppError::BadRequest("缺少活动编号".into()))?;
    let coord = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    let input = CheckInput {
        activity_id: id,
        code: given(&f.code),
        latitude: coord(&f.latitude),
        longitude: coord(&f.longitude),
        signup_id: None,
        checked_out_at: None,
        note: None,
    };
    let done = if out {
        svc::check_out(&state, &user, &meta, input).await
    } else {
        svc::check_in(&state, &user, &meta, input).await
    };
    let code = f.code.trim().to_string();
    match done {
        Ok(r) => {
            let what = if out { "签退成功" } else { "签到成功" };
            let msg = format!("{what}：{}（北京时间）", fmt_time(r.at));
            checkin_page(&state, &session, &user, id, code, Some((true, msg))).await
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let status = e.status();
            let msg = match e {
                AppError::Validation { field, message } if field == "code" => message,
                e => e.to_string(),
            };
            Ok(with_status(checkin_page(&state, &session, &user, id, code, Some((false, msg))).await?, status))
        }
        Err(e) => Err(e),
    }
}

/// `POST /checkin`
pub async fn check_in(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<CheckForm>,
) -> Result<Response, AppError> {
    check(state, session, user, meta, f, false).await
}

/// `POST /checkout`
pub async fn check_out(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<CheckForm>,
) -> Result<Response, AppError> {
    check(state, session, user, meta, f, true).await
}

// ---------- the volunteer's record ----------

pub struct ServiceView {
    id: i64,
    uid: String,
    date: String,
    activity_id: i64,
    activity_title: String,
    organization_name: String,
    time: String,
    hours: String,
    travel: String,
    status_label: &'static str,
    in_force: bool,
    start_input: String,
    end_input: String,
}

pub struct CorrectionRowView {
    id: i64,
    pending: bool,
    status_label: &'static str,
    void: bool,
    kind_label: &'static str,
    person_name: String,
    volunteer_number: String,
    activity_id: i64,
    activity_title: String,
    record_time: String,
    record_hours: String,
    asked_time: String,
    travel: i64,
    reason: String,
    requested_at: String,
    review_note: String,
}

impl From<svc::CorrectionView> for CorrectionRowView {
    fn from(v: svc::CorrectionView) -> Self {
        let c = v.correction;
        CorrectionRowView {
            id: c.id,
            pending: c.status == "pending",
            status_label: v.status_label,
            void: c.void,
            kind_label: v.kind_label,
            person_name: v.person_name,
            volunteer_number: v.volunteer_number,
            activity_id: v.record.activity_id,
            activity_title: v.record.activity_title,
            record_time: fmt_range(v.record.started_at, v.record.ended_at),
            record_hours: hours_label(v.record.credited_minutes),
            asked_time: match (c.started_at, c.ended_at) {
                (Some(s), Some(e)) => fmt_range(s, e),
                _ => String::new(),
            },
            travel: c.travel_minutes,
            reason: c.reason,
            requested_at: fmt_time(c.requested_at),
            review_note: c.review_note.unwrap_or_default(),
        }
    }
}

/// A correction form as typed (shown again with its problem).
#[derive(Default)]
pub struct CorrectionForm {
    record_id: i64,
    void: bool,
    reason: String,
    started_at: String,
    ended_at: String,
    travel_minutes: String,
}

#[derive(Template)]
#[template(path = "volunteering/record.html")]
struct RecordPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    total_hours: String,
    years: Vec<(String, String)>,
    stars: String,
    star_level: u8,
    hours_to_next_star: Option<i64>,
    approved_star_level: u8,
    approved_stars: String,
    /// Star awards other than the approved ones held: (stars, label of its state).
    star_awards: Vec<(String, String)>,
    services: Vec<ServiceView>,
    corrections: Vec<CorrectionRowView>,
    form: CorrectionForm,
    /// Organizations that recorded the volunteer's hours (each may be asked for a certificate).
    issuers: Vec<crate::service::certificates::IssuerView>,
    certificates: Vec<super::certificates::CertCard>,
}

async fn record_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    error: Option<String>,
    form: CorrectionForm,
) -> Result<Response, AppError> {
    let person = match (user.role, user.person_id) {
        (Role::Volunteer, Some(p)) => p,
        (Role::Volunteer, None) => {
            return Err(AppError::Forbidden("您的账号尚未关联志愿者登记信息，请联系所在组织".into()));
        }
        _ => return Err(AppError::Forbidden("“我的志愿记录”是志愿者本人的页面".into())),
    };
    // the latest 200 services; the totals above cover all of them
    let rec = svc::volunteer_record(state, user, person, &Page::new(None, Some(Page::MAX_PER_PAGE))).await?;
    let corrections = svc::corrections_list(state, user, 100).await?;
    let issuers = crate::service::certificates::issuers(state, user).await?;
    let certificates = crate::service::certificates::list(
        state,
        user,
        &Default::default(),
        &Page::new(None, Some(Page::MAX_PER_PAGE)),
    )
    .await?
    .items;
    let services = rec
        .services
        .into_iter()
        .map(|r| ServiceView {
            id: r.id,
            date: r.service_date.to_string(),
            activity_id: r.activity_id,
            time: fmt_range(r.started_at, r.ended_at),
            hours: hours_label(r.credited_minutes),
            travel: r.travel_minutes.to_string(),
            status_label: match (r.superseded, r.supersedes_id.is_some()) {
                (true, _) if r.voided => "已作废",
                (true, _) => "已更正（已被新记录取代）",
                (false, true) => "更正后记录",
                (false, false) => "有效",
            },
            in_force: !r.superseded,
            start_input: fmt_input(r.started_at),
            end_input: fmt_input(r.ended_at),
            uid: r.uid,
            activity_title: r.activity_title,
            organization_name: r.organization_name,
        })
        .collect();
    let layout = Layout::new(session, Some(user), "我的志愿记录", "me_record")
        .await?
        .crumb("/", "首页")
        .crumb("", "我的志愿记录");
    render(&RecordPage {
        layout,
        flash: take_flash(session).await,
        error,
        total_hours: rec.total_hours,
        years: rec.years.into_iter().map(|y| (y.year, y.hours)).collect(),
        stars: rec.stars,
        star_level: rec.star_level,
        hours_to_next_star: rec.hours_to_next_star,
        approved_star_level: rec.approved_star_level,
        approved_stars: rec.approved_stars,
        star_awards: rec.star_awards.iter().map(award_line).collect(),
        services,
        corrections: corrections.into_iter().map(Into::into).collect(),
        form,
        issuers,
        certificates: certificates.into_iter().map(Into::into).collect(),
    })
}

/// One star award on the volunteer's record: the stars and what became of it.
fn award_line(a: &crate::service::stars::AwardView) -> (String, String) {
    let state = match a.status.as_str() {
        "pending" if a.eligible_on > crate::service::registry::today() => {
            format!("已达到时长，注册满规定期限后（{} 起）由{}民政部门审批", a.eligible_on, a.approving_level_label)
        }
        "pending" => format!("已达到时长，待{}民政部门审批", a.approving_level_label),
        "approved" => format!(
            "{} 由{}认定",
            a.decided_at.map(fmt_time).unwrap_or_default(),
            a.decided_by_name.clone().unwrap_or_default()
        ),
        "rejected" => format!("未通过：{}", a.decision_note.clone().unwrap_or_default()),
        _ => "时长更正后低于门槛，已失效".to_string(),
    };
    (a.stars.clone(), format!("{}星 · {} · {state}", a.star, a.status_label))
}

/// The record page again with a problem of a certificate request.
pub async fn my_record_with_error(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    error: String,
) -> Result<Response, AppError> {
    record_page(state, session, user, Some(error), CorrectionForm::default()).await
}

/// `GET /me/record`
pub async fn my_record(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
) -> Result<Response, AppError> {
    record_page(&state, &session, &user, None, CorrectionForm::default()).await
}

#[derive(Deserialize, Default)]
pub struct CorrectionRequestForm {
    /// time (the default) | void
    #[serde(deserialize_with = "crate::text::label::one", default)]
    kind: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    reason: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    started_at: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    ended_at: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    travel_minutes: String,
}

/// `POST /service-records/{id}/corrections`: the volunteer asks for a correction.
pub async fn request_correction(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(record_id): Path<i64>,
    Form(f): Form<CorrectionRequestForm>,
) -> Result<Response, AppError> {
    let void = f.kind == "void";
    let parsed = (|| -> Result<CorrectionInput, AppError> {
        if !matches!(f.kind.as_str(), "" | "time" | "void") {
            return Err(AppError::validation("更正类型", "请选择“更正时间”或“作废”"));
        }
        if void {
            // the form still carries the record's times: a void keeps none
            return Ok(CorrectionInput {
                reason: f.reason.clone(),
                void,
                started_at: None,
                ended_at: None,
                travel_minutes: 0,
            });
        }
        // missing times are named by the service, as for the API
        let started_at = parse_local("开始时间", &f.started_at)?;
        let ended_at = parse_local("结束时间", &f.ended_at)?;
        let travel_minutes = number::<i64>("路途时间", &f.travel_minutes, "整数（分钟）")?.unwrap_or(0);
        Ok(CorrectionInput { reason: f.reason.clone(), void, started_at, ended_at, travel_minutes })
    })();
    let result = match parsed {
        Ok(input) => svc::request_correction(&state, &user, &meta, record_id, input).await,
        Err(e) => Err(e),
    };
    let back_to = if user.role == Role::Volunteer { "/me/record" } else { "/corrections" };
    match result {
        Ok(_) => {
            set_flash(&session, "更正申请已提交，等待组织审核").await;
            Ok(Redirect::to(back_to).into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) if user.role == Role::Volunteer => {
            let (status, m) = (e.status(), e.to_string());
            let form = CorrectionForm {
                record_id,
                void,
                reason: f.reason,
                started_at: f.started_at,
                ended_at: f.ended_at,
                travel_minutes: f.travel_minutes,
            };
            Ok(with_status(record_page(&state, &session, &user, Some(m), form).await?, status))
        }
        Err(e) => Err(e),
    }
}

// ---------- the organization's correction reviews ----------

/// A record a spot-check found untrue or doubtful, for its organization to correct.
pub struct FlaggedView {
    record_id: i64,
    check_title: String,
    person_name: String,
    volunteer_number: String,
    activity_id: i64,
    activity_title: String,
    time: String,
    hours: String,
    finding_label: String,
    note: String,
    /// What has been done about it since.
    state: String,
    /// Whether a correction may still be asked for (in force, none pending).
    open: bool,
    start_input: String,
    end_input: String,
}

impl From<crate::service::spot_checks::FlaggedRecord> for FlaggedView {
    fn from(f: crate::service::spot_checks::FlaggedRecord) -> Self {
        let r = f.record;
        let state = match (r.superseded, r.correction_status.as_deref()) {
            (true, _) if r.voided => "已作废",
            (true, _) => "已更正（新记录已取代）",
            (false, Some("pending")) => "已申请更正，待审核",
            (false, Some("rejected")) => "更正申请被驳回，请重新申请",
            _ => "尚未处理",
        };
        FlaggedView {
            record_id: r.record_id,
            check_title: f.check_title,
            person_name: r.person_name,
            volunteer_number: r.volunteer_number,
            activity_id: r.activity_id,
            activity_title: r.activity_title,
            time: fmt_range(r.started_at, r.ended_at),
            hours: r.hours,
            finding_label: r.finding_label.unwrap_or_default(),
            note: r.note.unwrap_or_default(),
            state: state.into(),
            open: !r.superseded && r.correction_status.as_deref() != Some("pending"),
            start_input: fmt_input(r.started_at),
            end_input: fmt_input(r.ended_at),
        }
    }
}

#[derive(Template)]
#[template(path = "volunteering/corrections.html")]
struct CorrectionsPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    items: Vec<CorrectionRowView>,
    flagged: Vec<FlaggedView>,
}

async fn corrections_page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    error: Option<String>,
) -> Result<Response, AppError> {
    user.require(user.role.runs_activities())?;
    let items = svc::corrections_list(state, user, 200).await?;
    let flagged = crate::service::spot_checks::flagged(state, user, &Page::new(None, Some(Page::MAX_PER_PAGE))).await?;
    let layout = Layout::new(session, Some(user), "时长更正申请", "activities")
        .await?
        .crumb("/", "首页")
        .crumb("/activities", "志愿活动")
        .crumb("", "时长更正申请");
    render(&CorrectionsPage {
        layout,
        flash: take_flash(session).await,
        error,
        items: items.into_iter().map(Into::into).collect(),
        flagged: flagged.items.into_iter().map(Into::into).collect(),
    })
}

/// `GET /corrections`: requests to the organization, pending first.
pub async fn corrections(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
) -> Result<Response, AppError> {
    corrections_page(&state, &session, &user, None).await
}

#[derive(Deserialize, Default)]
pub struct ReviewForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    decision: String,
    #[serde(deserialize_with = "crate::text::note::one", default)]
    note: String,
}

/// `POST /corrections/{id}/review`: approve (a new record supersedes the old; a void
/// withdraws it) or reject.
pub async fn review_correction(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, AppError> {
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            let e = format!("未知的审核结果「{other}」");
            let res = corrections_page(&state, &session, &user, Some(e)).await?;
            return Ok(with_status(res, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    match svc::review_correction(&state, &user, &meta, id, approve, given(&f.note)).await {
        Ok(new_id) => {
            let done = match (approve, new_id) {
                (true, Some(_)) => "已通过更正，新记录已生效",
                (true, None) => "已通过作废，原记录不再计入时长",
                (false, _) => "已驳回更正申请",
            };
            set_flash(&session, done).await;
            Ok(Redirect::to("/corrections").into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            let (status, m) = (e.status(), e.to_string());
            Ok(with_status(corrections_page(&state, &session, &user, Some(m)).await?, status))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn beijing_time_round_trips() {
        let t = parse_local("t", "2026-05-01T09:30").unwrap().unwrap();
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 5, 1, 1, 30, 0).unwrap());
        assert_eq!(fmt_input(t), "2026-05-01T09:30");
        assert_eq!(parse_local("t", "2026-05-01 09:30").unwrap(), Some(t));
        assert_eq!(parse_local("t", " ").unwrap(), None);
        assert!(parse_local("t", "5月1日").is_err());
        assert_eq!(fmt_range(t, t + Duration::hours(3)), "2026-05-01 09:30–12:30");
        assert_eq!(fmt_range(t, t + Duration::hours(15)), "2026-05-01 09:30 至 2026-05-02 00:30");
    }

    #[test]
    fn qr_url_is_absolute_only_for_a_sane_host() {
        let mut h = HeaderMap::new();
        assert_eq!(checkin_url(&h, 7, "123456"), "/checkin?a=7&c=123456");
        h.insert(header::HOST, "wushe.example.cn:8080".parse().unwrap());
        assert_eq!(checkin_url(&h, 7, "123456"), "http://wushe.example.cn:8080/checkin?a=7&c=123456");
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(checkin_url(&h, 7, "1").starts_with("https://"));
        h.insert(header::HOST, "evil\"host".parse().unwrap());
        assert_eq!(checkin_url(&h, 7, "1"), "/checkin?a=7&c=1");
        let svg = qr_svg("http://x/checkin?a=1&c=2").unwrap();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    }
}
