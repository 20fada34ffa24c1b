use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_store::accounts::tokens;

use super::ApiJson;
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::{AppError, ErrorBody};
use crate::service::accounts as svc;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub username: String,
    pub password: String,
    /// Name shown in the user's token list.
    #[serde(deserialize_with = "crate::text::line::opt", default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Shown only once.
    pub token: String,
    pub id: i64,
}

/// Exchange a username and password for an API token.
#[utoipa::path(operation_id = "issueToken", post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 400, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn issue_token(
    State(state): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), AppError> {
    let row = svc::login(&state, &meta, &req.username, &req.password).await?;
    let user = crate::auth::CurrentUser::from_row(row, true);
    let name = req.name.unwrap_or_else(|| "API 登录".into());
    let (id, token) = svc::create_token(&state, &user, &meta, &name).await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token, id })))
}

/// The signed-in user.
#[utoipa::path(operation_id = "getMe", get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = CurrentUser), (status = 401, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn me(user: CurrentUser) -> Json<CurrentUser> {
    Json(user)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// The first characters of the token, to tell tokens apart.
    pub token_prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// The signed-in user's API tokens.
#[utoipa::path(operation_id = "listTokens", get, path = "/api/v1/tokens", tag = "auth",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn list_tokens(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<TokenInfo>>, AppError> {
    let rows = tokens::list_for_user(&state.db, user.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TokenInfo {
                id: t.id,
                name: t.name,
                token_prefix: t.token_prefix,
                created_at: t.created_at.to_rfc3339(),
                revoked_at: t.revoked_at.map(|d| d.to_rfc3339()),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub name: String,
}

/// Create a token for the signed-in user.
#[utoipa::path(operation_id = "createToken", post, path = "/api/v1/tokens", tag = "auth", request_body = NewToken,
    responses((status = 201, body = TokenResponse), (status = 422, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<TokenResponse>), AppError> {
    let (id, token) = svc::create_token(&state, &user, &meta, &req.name).await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token, id })))
}

/// Revoke one of the signed-in user's tokens.
#[utoipa::path(operation_id = "revokeToken", delete, path = "/api/v1/tokens/{id}", tag = "auth", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    svc::revoke_token(&state, &user, &meta, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
