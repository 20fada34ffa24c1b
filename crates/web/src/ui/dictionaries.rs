//! The volunteer skill dictionary page (administrators): the skills with their order and
//! state, a form per skill to rename, reorder or (de)activate it, and a form to add one.
//! Other roles may look at the list.

use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{render, set_flash, take_flash, Layout};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::skills::{self as svc, NewSkillInput, SkillPatch, SkillView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "dictionaries/skills.html")]
struct SkillsPage {
    layout: Layout,
    flash: Option<String>,
    /// A problem with the last form sent, shown above the list.
    error: Option<String>,
    items: Vec<SkillView>,
    can_edit: bool,
    /// The add form as typed (kept when it comes back with a problem).
    new_key: String,
    new_label: String,
}

async fn page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    error: Option<AppError>,
    typed: (String, String),
) -> Result<Response, AppError> {
    let layout = Layout::new(session, Some(user), "技能字典", "dictionaries")
        .await?
        .crumb("/", "首页")
        .crumb("/dictionaries/skills", "技能字典");
    let status = error.as_ref().map(AppError::status);
    let out = render(&SkillsPage {
        layout,
        flash: take_flash(session).await,
        error: error.map(|e| e.to_string()),
        items: svc::list(state).await?,
        can_edit: user.role.manages_dictionaries(),
        new_key: typed.0,
        new_label: typed.1,
    })?;
    Ok(match status {
        Some(s) => (s, out).into_response(),
        None => out,
    })
}

pub async fn index(State(state): State<AppState>, session: Session, user: CurrentUser) -> Result<Response, AppError> {
    page(&state, &session, &user, None, Default::default()).await
}

#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    key: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    label: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    sort_order: String,
}

/// A sort order typed into a form (empty: keep or put last).
fn sort_order(s: &str) -> Result<Option<i64>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| AppError::validation("排序", "应为整数"))
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<NewForm>,
) -> Result<Response, AppError> {
    let result = match sort_order(&f.sort_order) {
        Ok(sort_order) => {
            let input = NewSkillInput { key: f.key.clone(), label: f.label.clone(), sort_order };
            svc::create(&state, &user, &meta, &input).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => {
            set_flash(&session, &format!("已添加技能：{}", s.label)).await;
            Ok(Redirect::to("/dictionaries/skills").into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            page(&state, &session, &user, Some(e), (f.key, f.label)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    label: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    sort_order: String,
    /// The checkbox: present when checked.
    #[serde(deserialize_with = "crate::text::label::opt", default)]
    active: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(key): Path<String>,
    Form(f): Form<EditForm>,
) -> Result<Response, AppError> {
    let result = match sort_order(&f.sort_order) {
        Ok(sort_order) => {
            let patch = SkillPatch { label: Some(f.label), sort_order, active: Some(f.active.is_some()) };
            svc::update(&state, &user, &meta, &key, &patch).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => {
            let state_label = if s.active { "启用" } else { "停用" };
            set_flash(&session, &format!("已保存技能「{}」（{state_label}）", s.label)).await;
            Ok(Redirect::to("/dictionaries/skills").into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_))) => {
            page(&state, &session, &user, Some(e), Default::default()).await
        }
        Err(e) => Err(e),
    }
}
