use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wushe_domain::accounts::Role;
use wushe_store::accounts::users::{self, UserFilter, UserRow};

use super::{ApiJson, ApiQuery};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::{AppError, ErrorBody};
use crate::service::accounts::{self as svc, NewUserInput};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_label: String,
    pub scope_division: String,
    pub organization_id: Option<i64>,
    pub active: bool,
    pub locked: bool,
    pub created_at: String,
}

impl From<UserRow> for UserDto {
    fn from(u: UserRow) -> Self {
        let locked = u.locked_until.is_some_and(|t| t > chrono::Utc::now());
        UserDto {
            id: u.id,
            role_label: u.role().label().to_string(),
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            scope_division: u.scope_division,
            organization_id: u.organization_id,
            active: u.active,
            locked,
            created_at: u.created_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Fragment of username or name.
    #[serde(default, deserialize_with = "crate::text::line::opt")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub role: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// Users inside your scope.
#[utoipa::path(operation_id = "listUsers", get, path = "/api/v1/users", tag = "users", params(ListParams),
    responses((status = 200, body = super::ListPage<UserDto>), (status = 403, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<super::ListPage<UserDto>>, AppError> {
    user.require(user.role.manages_users())?;
    let role = match p.role.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(Role::parse(r).ok_or_else(|| AppError::validation("role", format!("未知角色「{r}」")))?),
        None => None,
    };
    let filter = UserFilter { q: p.q.filter(|q| !q.trim().is_empty()), role };
    let page = crate::service::page(p.page, p.per_page)?;
    let res = users::list(&state.db, &user.scope(), &filter, &page).await?;
    Ok(Json(super::ListPage::of(res, Into::into)))
}

/// Create a user inside your scope, with a role no higher than your own.
#[utoipa::path(operation_id = "createUser", post, path = "/api/v1/users", tag = "users", request_body = NewUserInput,
    responses((status = 201, body = UserDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<NewUserInput>,
) -> Result<(StatusCode, Json<UserDto>), AppError> {
    let row = svc::create_user(&state, &user, &meta, input).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// One user inside your scope.
#[utoipa::path(operation_id = "getUser", get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<UserDto>, AppError> {
    user.require(user.role.manages_users())?;
    Ok(Json(users::get(&state.db, &user.scope(), id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ActiveInput {
    pub active: bool,
}

/// Enable (and unlock) or disable a user inside your scope.
#[utoipa::path(operation_id = "setUserActive", put, path = "/api/v1/users/{id}/active", tag = "users", params(("id" = i64, Path)), request_body = ActiveInput,
    responses((status = 200, body = UserDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn set_active(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ActiveInput>,
) -> Result<Json<UserDto>, AppError> {
    Ok(Json(svc::set_active(&state, &user, &meta, id, input.active).await?.into()))
}
