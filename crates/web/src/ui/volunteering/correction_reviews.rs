//! The organization's correction reviews (`/corrections`): requests to review and the
//! records spot-checks flagged.

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_store::Page;

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering as svc;
use crate::state::AppState;
use crate::ui::{render, set_flash, take_flash, Layout};

use super::{fmt_input, fmt_range, given, with_status, CorrectionRowView};

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
