use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_store::regions::Division;

use super::{render, Layout};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::service::regions::{self as svc, RegionView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "regions/show.html")]
struct RegionPage {
    layout: Layout,
    view: RegionView,
    code: String,
    level_label: String,
    child_level: i16,
}

#[derive(Template)]
#[template(path = "regions/search_results.html")]
struct SearchResults {
    q: String,
    results: Vec<Division>,
}

/// `/regions`: the root of the user's scope.
pub async fn root(State(state): State<AppState>, session: Session, user: CurrentUser) -> Result<Response, AppError> {
    if !user.scope_division.is_empty() {
        return Ok(Redirect::to(&format!("/regions/{}", user.scope_division)).into_response());
    }
    let view = svc::scope_root(&state, &user).await?;
    page(&session, &user, view, String::new()).await
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let code = svc::parse_code("区划代码", &code)?;
    let view = svc::view(&state, &user, &code).await?;
    page(&session, &user, view, code.prefix().to_string()).await
}

async fn page(session: &Session, user: &CurrentUser, view: RegionView, code: String) -> Result<Response, AppError> {
    let mut layout = Layout::new(session, Some(user), &view.region.name, "regions").await?;
    if user.scope_division.is_empty() {
        layout = layout.crumb("/regions", "全国");
    }
    // Breadcrumbs: the chain of parents, linked only where inside the user's scope.
    for a in &view.ancestors {
        let href = if user.covers(&a.code) { format!("/regions/{}", a.prefix()) } else { String::new() };
        layout = layout.crumb(href, a.name.clone());
    }
    if !code.is_empty() {
        layout = layout.crumb(format!("/regions/{code}"), view.region.name.clone());
    }
    let level_label = if view.region.level == 0 { "全国".to_string() } else { view.region.level_label().to_string() };
    let child_level = view.region.level + 1;
    render(&RegionPage { layout, view, code, level_label, child_level })
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    q: String,
}

/// Region search: a fragment for htmx, a full page otherwise (no-JS fallback).
pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let results = svc::search(&state, &user, &q.q, 30).await?;
    render(&SearchResults { q: q.q.trim().to_string(), results })
}
