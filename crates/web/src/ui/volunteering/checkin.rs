//! The check-in page a volunteer's phone opens from the QR, and its check-in and check-out.

use crate::ui::Form;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::{CurrentUser, MaybeUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering::{self as svc, ActivityView, CheckInput};
use crate::state::AppState;
use crate::ui::{render, url_encode, Layout};

use super::{fmt_time, given, with_status};

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
