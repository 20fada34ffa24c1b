//! The activity page: slots and the volunteer's own sign-ups, and for its organizer the
//! roster, status changes, decisions on sign-ups, roster check-in/out and hour confirmation.

use std::collections::HashMap;

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::accounts::Role;
use wushe_domain::volunteering::activity::ActivityStatus;
use wushe_domain::volunteering::attendance::AttendanceStatus;
use wushe_domain::volunteering::hours::hours_label;
use wushe_domain::volunteering::signup::{SignupAction, SignupStatus};

use crate::auth::{CurrentUser, MaybeUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering::{self as svc, ActivityView, CheckInput, ConfirmInput, ConfirmItem};
use crate::state::AppState;
use crate::ui::{render, set_flash, take_flash, url_encode, Layout};

use super::{
    attendance_label, fmt_input, fmt_range, fmt_time, given, number, parse_local, signup_label, status_class,
    with_status,
};

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
