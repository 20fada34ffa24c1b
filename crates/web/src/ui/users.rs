use crate::ui::Form;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::accounts::Role;
use wushe_store::accounts::users::{self, UserFilter};
use wushe_store::Page;

use super::{render, set_flash, take_flash, url_encode, Layout};
use crate::api::users::UserDto;
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::accounts::{self as svc, NewUserInput};
use crate::state::AppState;

fn role_options(max: Role) -> Vec<(&'static str, &'static str)> {
    Role::ALL.into_iter().filter(|r| r.rank() <= max.rank()).map(|r| (r.as_str(), r.label())).collect()
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct ListPage {
    layout: Layout,
    flash: Option<String>,
    items: Vec<UserDto>,
    total: i64,
    q: String,
    role: String,
    roles: Vec<(&'static str, &'static str)>,
    page: u32,
    pages: u32,
    page_base: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    q: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    role: String,
    page: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    user.require(user.role.manages_users())?;
    let filter = UserFilter { q: Some(p.q.trim().to_string()).filter(|q| !q.is_empty()), role: Role::parse(&p.role) };
    let res = users::list(&state.db, &user.scope(), &filter, &Page::new(p.page, Some(20))).await?;
    let layout =
        Layout::new(&session, Some(&user), "用户管理", "users").await?.crumb("/", "首页").crumb("/users", "用户管理");
    let page = ListPage {
        layout,
        flash: take_flash(&session).await,
        total: res.total,
        page: res.page.page,
        pages: res.pages(),
        page_base: format!("/users?q={}&role={}&", url_encode(&p.q), url_encode(&p.role)),
        items: res.items.into_iter().map(Into::into).collect(),
        q: p.q,
        role: p.role,
        roles: role_options(Role::Admin),
    };
    render(&page)
}

#[derive(Deserialize, Default)]
pub struct UserForm {
    #[serde(deserialize_with = "crate::text::label::one", default)]
    username: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    role: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    scope_division: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    organization_id: String,
}

#[derive(Template)]
#[template(path = "users/new.html")]
struct NewPage {
    layout: Layout,
    form: UserForm,
    error: Option<String>,
    roles: Vec<(&'static str, &'static str)>,
    scope_hint: String,
}

async fn new_page(
    session: &Session,
    user: &CurrentUser,
    form: UserForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let layout = Layout::new(session, Some(user), "新建用户", "users")
        .await?
        .crumb("/", "首页")
        .crumb("/users", "用户管理")
        .crumb("", "新建用户");
    let scope_hint = if user.scope_division.is_empty() { "全国".to_string() } else { user.scope_division.clone() };
    render(&NewPage { layout, form, error, roles: role_options(user.role), scope_hint })
}

pub async fn new_form(session: Session, user: CurrentUser) -> Result<Response, AppError> {
    user.require(user.role.manages_users())?;
    let form = UserForm { scope_division: user.scope_division.clone(), role: "volunteer".into(), ..Default::default() };
    new_page(&session, &user, form, None).await
}

pub async fn create(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Form(f): Form<UserForm>,
) -> Result<Response, AppError> {
    let organization_id = match f.organization_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => return new_page(&session, &user, f, Some("所属组织编号：应为数字".into())).await,
        },
    };
    let input = NewUserInput {
        username: f.username.clone(),
        display_name: f.display_name.clone(),
        password: f.password.clone(),
        role: f.role.clone(),
        scope_division: f.scope_division.clone(),
        organization_id,
    };
    match svc::create_user(&state, &user, &meta, input).await {
        Ok(row) => {
            set_flash(&session, &format!("已创建用户 {}", row.username)).await;
            Ok(Redirect::to(&format!("/users/{}", row.id)).into_response())
        }
        Err(e @ (AppError::Validation { .. } | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let status = e.status();
            let f = UserForm { password: String::new(), ..f };
            Ok((status, new_page(&session, &user, f, Some(e.to_string())).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "users/show.html")]
struct ShowPage {
    layout: Layout,
    flash: Option<String>,
    u: UserDto,
    can_manage: bool,
}

pub async fn show(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    user.require(user.role.manages_users())?;
    let row = users::get(&state.db, &user.scope(), id).await?;
    let can_manage = row.id != user.id && row.role().rank() <= user.role.rank();
    let layout = Layout::new(&session, Some(&user), &row.display_name, "users")
        .await?
        .crumb("/", "首页")
        .crumb("/users", "用户管理")
        .crumb("", row.username.clone());
    render(&ShowPage { layout, flash: take_flash(&session).await, u: row.into(), can_manage })
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: bool,
}

pub async fn set_active(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    Form(f): Form<ActiveForm>,
) -> Result<Response, AppError> {
    let row = svc::set_active(&state, &user, &meta, id, f.active).await?;
    set_flash(&session, if f.active { "账户已启用并解锁" } else { "账户已停用" }).await;
    Ok(Redirect::to(&format!("/users/{}", row.id)).into_response())
}
