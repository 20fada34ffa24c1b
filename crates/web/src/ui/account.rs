use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_store::accounts::{sessions, tokens};

use super::{render, set_flash, take_flash, Layout};
use crate::auth::{start_session, CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::accounts as svc;
use crate::state::AppState;

pub struct TokenLine {
    id: i64,
    name: String,
    token_prefix: String,
    created: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage {
    layout: Layout,
    flash: Option<String>,
    user: CurrentUser,
    tokens: Vec<TokenLine>,
    new_token: Option<String>,
    pw_error: Option<String>,
}

async fn page(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    new_token: Option<String>,
    pw_error: Option<String>,
) -> Result<Response, AppError> {
    let rows = tokens::list_for_user(&state.db, user.id).await?;
    let tokens = rows
        .into_iter()
        .map(|t| TokenLine {
            id: t.id,
            name: t.name,
            token_prefix: t.token_prefix,
            created: wushe_domain::time::format_local(t.created_at, "%Y-%m-%d %H:%M"),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let layout =
        Layout::new(session, Some(user), "我的账户", "account").await?.crumb("/", "首页").crumb("/account", "我的账户");
    render(&AccountPage { layout, flash: take_flash(session).await, user: user.clone(), tokens, new_token, pw_error })
}

pub async fn index(State(state): State<AppState>, session: Session, user: CurrentUser) -> Result<Response, AppError> {
    page(&state, &session, &user, None, None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    old_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    match svc::change_password(&state, &user, &meta, &f.old_password, &f.new_password).await {
        Ok(()) => {
            // End every other session of this user; keep this one under a new id.
            sessions::delete_for_user(&state.db, user.id).await?;
            start_session(&session, user.id).await?;
            set_flash(&session, "密码已修改，其他设备上的登录已退出").await;
            Ok(Redirect::to("/account").into_response())
        }
        Err(e @ AppError::Validation { .. }) => {
            let status = e.status();
            Ok((status, page(&state, &session, &user, None, Some(e.to_string())).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(deserialize_with = "crate::text::line::one")]
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<TokenForm>,
) -> Result<Response, AppError> {
    let (_, secret) = svc::create_token(&state, &user, &meta, &f.name).await?;
    page(&state, &session, &user, Some(secret), None).await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    svc::revoke_token(&state, &user, &meta, id).await?;
    set_flash(&session, "令牌已撤销").await;
    Ok(Redirect::to("/account").into_response())
}
