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
    self as svc, AccountView, GoodsInput, GoodsPatch, HolderView, OutletInput, RedeemInput, RelationInput,
    RestockInput, SpendInput, StatementLine, TransferInput,
};
use crate::state::AppState;
use wushe_domain::registry::person::PersonRole;
use wushe_domain::timebank::ledger::Ledger;
use wushe_store::timebank::supermarket::{GoodsRow, OutletRow, RedemptionRow};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolderParams {
    /// volunteer (default) | beneficiary
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub role: Option<String>,
    /// Name fragment, citizen ID (exact), phone number (exact) or volunteer number.
    #[serde(default, deserialize_with = "crate::text::line::opt")]
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

impl HolderParams {
    pub fn role(&self) -> Result<PersonRole, AppError> {
        match self.role.as_deref().map(str::trim).unwrap_or("") {
            "" | "volunteer" => Ok(PersonRole::Volunteer),
            "beneficiary" => Ok(PersonRole::Beneficiary),
            other => {
                Err(AppError::validation("role", format!("未知的人员类别「{other}」：应为 volunteer 或 beneficiary")))
            }
        }
    }
}

/// Find volunteers or beneficiaries in your scope with their coin and point balances (staff).
#[utoipa::path(operation_id = "listTimebankHolders", get, path = "/api/v1/timebank/accounts", tag = "timebank", params(HolderParams),
    responses((status = 200, body = super::ListPage<HolderView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn holders(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<HolderParams>,
) -> Result<Json<super::ListPage<HolderView>>, AppError> {
    let page = crate::service::page(p.page, p.per_page)?;
    let res = svc::holders(&state, &user, p.role()?, p.q.as_deref(), &page).await?;
    Ok(Json(super::ListPage::from(res)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementParams {
    /// coins (default) | points
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub ledger: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// The ledger a statement is asked for.
pub fn parse_ledger(s: Option<&str>) -> Result<Ledger, AppError> {
    match s.map(str::trim).unwrap_or("") {
        "" | "coins" => Ok(Ledger::Coins),
        "points" => Ok(Ledger::Points),
        other => Err(AppError::validation("ledger", format!("未知的账户「{other}」：应为 coins 或 points"))),
    }
}

/// A person's statement on the coin or point ledger, newest first, with the balance after
/// each line (own, or in your scope).
#[utoipa::path(operation_id = "getTimebankStatement", get, path = "/api/v1/timebank/accounts/{id}/statement", tag = "timebank",
    params(("id" = i64, Path, description = "person id"), StatementParams),
    responses((status = 200, body = super::ListPage<StatementLine>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn statement(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    ApiQuery(p): ApiQuery<StatementParams>,
) -> Result<Json<super::ListPage<StatementLine>>, AppError> {
    let page = crate::service::page(p.page, p.per_page)?;
    let res = svc::statement(&state, &user, id, parse_ledger(p.ledger.as_deref())?, &page).await?;
    Ok(Json(super::ListPage::from(res)))
}

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

/// Remove a recorded direct-relative relation, both directions (station staff, officials).
/// Past gifts and services paid stay in the ledger as they were.
#[utoipa::path(operation_id = "removeRelation", delete, path = "/api/v1/timebank/relations/{person_id}/{relative_id}", tag = "timebank",
    params(("person_id" = i64, Path), ("relative_id" = i64, Path)),
    responses((status = 204, description = "Relation removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove_relation(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path((person_id, relative_id)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    svc::remove_relation(&state, &user, &meta, person_id, relative_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutletParams {
    /// Region code prefix.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct OutletView {
    pub id: i64,
    pub name: String,
    pub division_code: String,
    pub address: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<OutletRow> for OutletView {
    fn from(o: OutletRow) -> Self {
        OutletView {
            id: o.id,
            name: o.name,
            division_code: o.division_code,
            address: o.address,
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GoodsView {
    pub id: i64,
    pub outlet_id: i64,
    pub name: String,
    /// Price in points.
    pub points: i64,
    pub stock: i64,
    /// On the shelf.
    pub active: bool,
}

impl From<GoodsRow> for GoodsView {
    fn from(g: GoodsRow) -> Self {
        GoodsView { id: g.id, outlet_id: g.outlet_id, name: g.name, points: g.points, stock: g.stock, active: g.active }
    }
}

/// One love supermarket.
#[utoipa::path(operation_id = "getOutlet", get, path = "/api/v1/outlets/{id}", tag = "timebank", params(("id" = i64, Path)),
    responses((status = 200, body = OutletView), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn get_outlet(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<OutletView>, AppError> {
    Ok(Json(svc::outlet(&state, id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedemptionList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<RedemptionRow>,
}

/// The latest redemptions at a love supermarket (its keepers).
#[utoipa::path(operation_id = "listOutletRedemptions", get, path = "/api/v1/outlets/{id}/redemptions", tag = "timebank",
    params(("id" = i64, Path)),
    responses((status = 200, body = RedemptionList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn outlet_redemptions(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<RedemptionList>, AppError> {
    Ok(Json(RedemptionList { items: svc::outlet_redemptions(&state, &user, id).await? }))
}

/// Change a good's point price or take it off the shelf (the outlet's keepers; audited).
#[utoipa::path(operation_id = "updateGoods", patch, path = "/api/v1/goods/{id}", tag = "timebank", params(("id" = i64, Path)),
    request_body = GoodsPatch,
    responses((status = 200, body = GoodsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn update_goods(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<GoodsPatch>,
) -> Result<Json<GoodsView>, AppError> {
    Ok(Json(svc::update_goods(&state, &user, &meta, id, input).await?.into()))
}

/// Add to a good's stock, or correct it down (never below zero; the outlet's keepers; audited).
#[utoipa::path(operation_id = "restockGoods", post, path = "/api/v1/goods/{id}/restock", tag = "timebank", params(("id" = i64, Path)),
    request_body = RestockInput,
    responses((status = 200, body = GoodsView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn restock(
    State(state): State<AppState>,
    user: CurrentUser,
    meta: RequestMeta,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<RestockInput>,
) -> Result<Json<GoodsView>, AppError> {
    Ok(Json(svc::restock(&state, &user, &meta, id, input).await?.into()))
}
