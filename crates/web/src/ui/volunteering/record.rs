//! The volunteer's own record (`/me/record`): totals, stars, services, certificates, and
//! their correction requests.

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::accounts::Role;
use wushe_domain::volunteering::hours::hours_label;
use wushe_store::Page;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering::{self as svc, CorrectionInput};
use crate::state::AppState;
use crate::ui::{render, set_flash, take_flash, Layout};

use super::{fmt_input, fmt_range, fmt_time, number, parse_local, with_status, CorrectionRowView};

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
    certificates: Vec<crate::ui::certificates::CertCard>,
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
