use crate::ui::Form;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{render, Layout};
use crate::auth::{start_session, RequestMeta};
use crate::error::AppError;
use crate::service::accounts as svc;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    username: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    reason: Option<String>,
}

/// Only same-site paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/login") => n.to_string(),
        _ => "/".to_string(),
    }
}

pub async fn login_form(session: Session, Query(q): Query<LoginQuery>) -> Result<Response, AppError> {
    let notice = match q.reason.as_deref() {
        Some("session_expired") => Some("登录已过期，请重新登录".to_string()),
        Some("unauthenticated") => Some("请先登录".to_string()),
        _ => None,
    };
    let layout = Layout::new(&session, None, "登录", "login").await?;
    render(&LoginPage { layout, next: safe_next(q.next.as_deref()), username: String::new(), error: None, notice })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(deserialize_with = "crate::text::label::one")]
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    session: Session,
    meta: RequestMeta,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    match svc::login(&state, &meta, &f.username, &f.password).await {
        Ok(user) => {
            start_session(&session, user.id).await?;
            Ok(Redirect::to(&safe_next(f.next.as_deref())).into_response())
        }
        Err(e @ (AppError::BadRequest(_) | AppError::Locked(_) | AppError::Forbidden(_))) => {
            let status = e.status();
            let layout = Layout::new(&session, None, "登录", "login").await?;
            let page = LoginPage {
                layout,
                next: safe_next(f.next.as_deref()),
                username: f.username,
                error: Some(e.to_string()),
                notice: None,
            };
            Ok((status, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn logout(session: Session) -> Result<Response, AppError> {
    session.flush().await.map_err(AppError::internal)?;
    Ok(Redirect::to("/login").into_response())
}
