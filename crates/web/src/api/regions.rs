use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use wushe_store::regions::Division;

use super::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::service::regions::{self as svc, RegionView};
use crate::state::AppState;

/// A division as the API shows it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RegionDto {
    /// Significant digits: 2 (province), 4, 6, 9 or 12 (village).
    pub code: String,
    /// Full 12-digit statistical code.
    pub code12: String,
    pub name: String,
    /// 1 province … 5 village.
    pub level: i16,
    pub level_label: String,
    pub parent_code: Option<String>,
    /// 街道 / 镇 / 乡 for townships, 居委会 / 村委会 for villages.
    pub kind: Option<String>,
    /// Regions below this one at each level.
    pub counts: RegionCounts,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RegionCounts {
    pub cities: i32,
    pub counties: i32,
    pub townships: i32,
    pub villages: i32,
    pub subdistricts: i32,
    pub towns: i32,
    pub rural_townships: i32,
    pub communities: i32,
    pub rural_villages: i32,
}

impl From<&Division> for RegionDto {
    fn from(d: &Division) -> Self {
        RegionDto {
            code: d.prefix().to_string(),
            code12: d.code12(),
            name: d.name.clone(),
            level: d.level,
            level_label: d.level_label().to_string(),
            parent_code: d.parent_code.clone(),
            kind: d.kind.clone(),
            counts: RegionCounts {
                cities: d.n_city,
                counties: d.n_county,
                townships: d.n_township,
                villages: d.n_village,
                subdistricts: d.n_subdistrict,
                towns: d.n_town,
                rural_townships: d.n_rural_township,
                communities: d.n_community,
                rural_villages: d.n_rural_village,
            },
        }
    }
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RegionDetail {
    pub region: RegionDto,
    /// Province first.
    pub ancestors: Vec<RegionDto>,
    pub children: Vec<RegionDto>,
}

impl From<&RegionView> for RegionDetail {
    fn from(v: &RegionView) -> Self {
        RegionDetail {
            region: (&v.region).into(),
            ancestors: v.ancestors.iter().map(Into::into).collect(),
            children: v.children.iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Name fragment (e.g. 武昌) or code prefix (e.g. 420106).
    #[serde(deserialize_with = "crate::text::line::one")]
    #[param(max_length = 200)]
    pub q: String,
    /// At most this many results (default 50, max 200).
    pub limit: Option<i64>,
}

/// Find regions in your scope by name fragment or code.
#[utoipa::path(operation_id = "searchRegions", get, path = "/api/v1/regions", tag = "regions", params(SearchParams),
    responses((status = 200, body = Vec<RegionDto>), (status = 422, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<Vec<RegionDto>>, AppError> {
    let rows = svc::search(&state, &user, &p.q, p.limit.unwrap_or(50)).await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}

/// One region with its parents, children and counts at every level below.
#[utoipa::path(operation_id = "getRegion", get, path = "/api/v1/regions/{code}", tag = "regions", params(("code" = String, Path, max_length = 12, description = "2/4/6/9/12-digit code")),
    responses((status = 200, body = RegionDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn get_region(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<RegionDetail>, AppError> {
    let code = svc::parse_code("区划代码", &code)?;
    let view = svc::view(&state, &user, &code).await?;
    Ok(Json((&view).into()))
}

/// The regions directly below a region.
#[utoipa::path(operation_id = "listRegionChildren", get, path = "/api/v1/regions/{code}/children", tag = "regions", params(("code" = String, Path, max_length = 12)),
    responses((status = 200, body = Vec<RegionDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn children(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> Result<Json<Vec<RegionDto>>, AppError> {
    let code = svc::parse_code("区划代码", &code)?;
    let rows = svc::children(&state, &user, &code).await?;
    Ok(Json(rows.iter().map(Into::into).collect()))
}
