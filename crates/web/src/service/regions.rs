use wushe_domain::codes::division::DivisionCode;
use wushe_store::regions::{self, Division};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

pub fn parse_code(field: &str, input: &str) -> Result<DivisionCode, AppError> {
    DivisionCode::parse(input.trim()).map_err(|e| AppError::validation(field, e.to_string()))
}

/// A region with its chain of parents and its children.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RegionView {
    #[schema(value_type = Object)]
    pub region: Division,
    #[schema(value_type = Vec<Object>)]
    pub ancestors: Vec<Division>,
    #[schema(value_type = Vec<Object>)]
    pub children: Vec<Division>,
}

fn check_scope(user: &CurrentUser, code: &DivisionCode) -> Result<(), AppError> {
    if user.covers(code.prefix()) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!("区域 {} 不在您的管辖范围内", code.prefix())))
    }
}

pub async fn load(state: &AppState, user: &CurrentUser, code: &DivisionCode) -> Result<Division, AppError> {
    check_scope(user, code)?;
    regions::get(&state.db, code).await?.ok_or_else(|| AppError::NotFound(format!("区划代码 {} 不存在", code.prefix())))
}

pub async fn view(state: &AppState, user: &CurrentUser, code: &DivisionCode) -> Result<RegionView, AppError> {
    let region = load(state, user, code).await?;
    let ancestors = regions::ancestors(&state.db, code).await?;
    let children = regions::children(&state.db, Some(code)).await?;
    Ok(RegionView { region, ancestors, children })
}

/// The root of the user's scope: their own region, or the whole country for a national scope.
pub async fn scope_root(state: &AppState, user: &CurrentUser) -> Result<RegionView, AppError> {
    if user.scope_division.is_empty() {
        let children = regions::children(&state.db, None).await?;
        Ok(RegionView { region: Division::national(&children), ancestors: Vec::new(), children })
    } else {
        let code = parse_code("管辖区域", &user.scope_division)?;
        view(state, user, &code).await
    }
}

pub async fn children(state: &AppState, user: &CurrentUser, code: &DivisionCode) -> Result<Vec<Division>, AppError> {
    load(state, user, code).await?;
    Ok(regions::children(&state.db, Some(code)).await?)
}

pub async fn search(state: &AppState, user: &CurrentUser, q: &str, limit: i64) -> Result<Vec<Division>, AppError> {
    if q.chars().count() > 50 {
        return Err(AppError::validation("q", "搜索词不能超过 50 个字符"));
    }
    Ok(regions::search(&state.db, &user.scope(), q, limit.clamp(1, 200)).await?)
}
