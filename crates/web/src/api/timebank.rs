//! Time bank, points and love supermarkets.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::registry::Created;
use super::{ApiJson, ApiQuery};
use crate::auth::{CurrentUser, RequestMeta};
use crate::error::{AppError, ErrorBody};
use crate::service::timebank::{
    self as svc, AccountView, GoodsInput, OutletInput, RedeemInput, RelationInput, SpendInput, TransferInput,
};
use crate::state::AppState;

/// A person's time-bank coins and points with their entries (own, or in your scope).
#[utoipa::path(operation_id = "getTimebankAccount", get, path = "/api/v1/timebank/accounts/{id}", tag = "timebank",
    params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = AccountView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn account(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<AccountView>, AppError> {
    Ok(Json(svc::account(&state, &user, id).await?))
}

/// Give coins to a direct relative (volunteers, from their own account).
#[utoipa::path(operation_id = "transferCoins", post, path = "/api/v1/timebank/transfers", tag = "timebank", request_body = TransferInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn transfer(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<TransferInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    Ok((StatusCode::CREATED, Json(Created { id: svc::transfer(&state, &user, &meta, input).await? })))
}

/// Record a service an elder received, paid in coins (station and organization staff).
#[utoipa::path(operation_id = "spendCoins", post, path = "/api/v1/timebank/spend", tag = "timebank", request_body = SpendInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn spend(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<SpendInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    Ok((StatusCode::CREATED, Json(Created { id: svc::spend(&state, &user, &meta, input).await? })))
}

/// Record that two people are direct relatives (station staff, officials).
#[utoipa::path(operation_id = "addRelation", post, path = "/api/v1/timebank/relations", tag = "timebank", request_body = RelationInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_relation(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<RelationInput>,
) -> Result<StatusCode, AppError> {
    svc::add_relation(&state, &user, &meta, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutletParams {
    /// Region code prefix.
    pub region: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutletList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<wushe_store::timebank::supermarket::OutletRow>,
}

/// Love supermarkets of a region.
#[utoipa::path(operation_id = "listOutlets", get, path = "/api/v1/outlets", tag = "timebank", params(OutletParams),
    responses((status = 200, body = OutletList)), security(("bearer" = []), ("session" = [])))]
pub async fn list_outlets(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiQuery(p): ApiQuery<OutletParams>,
) -> Result<Json<OutletList>, AppError> {
    Ok(Json(OutletList { items: svc::outlets(&state, p.region.as_deref()).await? }))
}

/// Open a love supermarket (station staff, officials).
#[utoipa::path(operation_id = "createOutlet", post, path = "/api/v1/outlets", tag = "timebank", request_body = OutletInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn create_outlet(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<OutletInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    Ok((StatusCode::CREATED, Json(Created { id: svc::create_outlet(&state, &user, &meta, input).await? })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GoodsList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<wushe_store::timebank::supermarket::GoodsRow>,
}

/// Goods of a love supermarket with their point prices and stock.
#[utoipa::path(operation_id = "listGoods", get, path = "/api/v1/outlets/{id}/goods", tag = "timebank", params(("id" = i64, Path)),
    responses((status = 200, body = GoodsList)), security(("bearer" = []), ("session" = [])))]
pub async fn list_goods(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<GoodsList>, AppError> {
    Ok(Json(GoodsList { items: svc::goods(&state, id).await? }))
}

/// Add goods to a love supermarket in your scope.
#[utoipa::path(operation_id = "addGoods", post, path = "/api/v1/outlets/{id}/goods", tag = "timebank", params(("id" = i64, Path)),
    request_body = GoodsInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add_goods(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<GoodsInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    Ok((StatusCode::CREATED, Json(Created { id: svc::add_goods(&state, &user, &meta, id, input).await? })))
}

/// Redeem points for goods (points and stock together or not at all).
#[utoipa::path(operation_id = "redeem", post, path = "/api/v1/redemptions", tag = "timebank", request_body = RedeemInput,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn redeem(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    ApiJson(input): ApiJson<RedeemInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    Ok((StatusCode::CREATED, Json(Created { id: svc::redeem(&state, &user, &meta, input).await? })))
}
