//! Bulk import in the UI: template downloads and an upload form per kind, then a page with a
//! progress bar (polled with htmx) and the report: counts when written, or every problem by
//! row and column when nothing was written.
//!
//! The upload is sent by htmx (`hx-encoding="multipart/form-data"`), which carries the
//! session's CSRF token in the `X-CSRF-Token` header like every htmx request. Without
//! JavaScript the browser posts the same form itself: its first field is the token, which the
//! CSRF guard reads before the file.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::{render, Layout};
use crate::api::people::{parse_kind, read_upload};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::import::{self, ImportKind, ImportReport, Phase, Progress};
use crate::state::AppState;

/// One kind's card on the import page.
struct KindCard {
    key: &'static str,
    label: &'static str,
    /// Column headers, required ones marked with `*`.
    columns: Vec<String>,
}

#[derive(Template)]
#[template(path = "imports/index.html")]
struct IndexPage {
    layout: Layout,
    kinds: Vec<KindCard>,
    max_rows: usize,
    max_mb: usize,
}

pub async fn index(session: Session, user: CurrentUser) -> Result<Response, AppError> {
    let kinds: Vec<KindCard> = ImportKind::ALL
        .into_iter()
        .filter(|k| k.allowed(&user))
        .map(|k| KindCard {
            key: k.as_str(),
            label: k.label(),
            columns: k
                .columns()
                .iter()
                .map(|c| if c.required { format!("{}*", c.header) } else { c.header.to_string() })
                .collect(),
        })
        .collect();
    user.require(!kinds.is_empty())?;
    let layout = Layout::new(&session, Some(&user), "批量导入", "imports")
        .await?
        .crumb("/", "首页")
        .crumb("/imports", "批量导入");
    render(&IndexPage { layout, kinds, max_rows: import::MAX_ROWS, max_mb: import::BODY_LIMIT / (1024 * 1024) })
}

/// Receive the file and start the import in the background; go to its progress page.
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    headers: HeaderMap,
    Path(kind): Path<String>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let kind = parse_kind(&kind)?;
    let (name, bytes) = read_upload(mp).await?;
    let id = import::start(&state, &user, &meta, kind, name, bytes)?;
    let to = format!("/imports/jobs/{id}");
    if headers.contains_key("hx-request") {
        let mut res = Html(String::new()).into_response();
        res.headers_mut().insert("hx-redirect", HeaderValue::from_str(&to).map_err(AppError::internal)?);
        Ok(res)
    } else {
        Ok(Redirect::to(&to).into_response())
    }
}

#[derive(Template)]
#[template(path = "imports/progress.html")]
struct ProgressFragment {
    id: String,
    finished: bool,
    phase_label: &'static str,
    percent: u32,
    done: usize,
    total: usize,
    report: Option<ImportReport>,
    failure: Option<String>,
    list_href: &'static str,
    label: &'static str,
}

fn list_href(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Organizations => "/organizations",
        ImportKind::Volunteers => "/volunteers",
        ImportKind::SocialWorkers => "/social-workers",
        ImportKind::Beneficiaries => "/beneficiaries",
    }
}

fn fragment(id: &str, kind: ImportKind, p: Progress) -> Result<String, AppError> {
    // The phase turns to done a moment before the report is stored: poll until it is there.
    let finished = p.report.is_some() || p.failure.is_some();
    let phase_label =
        if finished || !matches!(p.phase, Phase::Done) { p.phase.label() } else { Phase::Writing.label() };
    ProgressFragment {
        id: id.to_string(),
        finished,
        phase_label,
        percent: if finished { 100 } else { p.percent().min(99) },
        done: p.done,
        total: p.total,
        report: p.report,
        failure: p.failure,
        list_href: list_href(kind),
        label: kind.label(),
    }
    .render()
    .map_err(AppError::internal)
}

fn find_job(state: &AppState, user: &CurrentUser, id: &str) -> Result<std::sync::Arc<import::Job>, AppError> {
    state.imports.get(id, user.id).ok_or_else(|| AppError::NotFound("导入任务不存在或已过期".into()))
}

#[derive(Template)]
#[template(path = "imports/job.html")]
struct JobPage {
    layout: Layout,
    label: &'static str,
    file_name: String,
    progress: String,
}

pub async fn job(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let job = find_job(&state, &user, &id)?;
    let layout = Layout::new(&session, Some(&user), &format!("导入{}", job.kind.label()), "imports")
        .await?
        .crumb("/", "首页")
        .crumb("/imports", "批量导入")
        .crumb("", job.file_name.clone());
    render(&JobPage {
        layout,
        label: job.kind.label(),
        file_name: job.file_name.clone(),
        progress: fragment(&id, job.kind, job.snapshot())?,
    })
}

/// The progress fragment; it polls itself every 500 ms until the import has finished.
pub async fn progress(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let job = find_job(&state, &user, &id)?;
    Ok(Html(fragment(&id, job.kind, job.snapshot())?).into_response())
}
