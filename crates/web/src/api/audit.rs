use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wushe_store::accounts::audit::{self, AuditFilter, AuditRow};

use super::ApiQuery;
use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryDto {
    pub id: i64,
    pub at: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub division_code: String,
    /// JSON: `{"before": …, "after": …}` or event details.
    pub summary: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub hash: String,
}

impl From<AuditRow> for AuditEntryDto {
    fn from(r: AuditRow) -> Self {
        AuditEntryDto {
            id: r.id,
            at: r.at.to_rfc3339(),
            user_id: r.user_id,
            username: r.username,
            role: r.role,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            division_code: r.division_code,
            summary: r.summary,
            ip: r.ip,
            request_id: r.request_id,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    pub user_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub username: Option<String>,
    /// Record type, e.g. `user`.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub entity: Option<String>,
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub entity_id: Option<String>,
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub action: Option<String>,
    /// RFC 3339 timestamp, inclusive.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// RFC 3339 timestamp, exclusive.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

impl AuditParams {
    pub fn filter(&self) -> AuditFilter {
        let s = |v: &Option<String>| v.clone().filter(|x| !x.trim().is_empty());
        AuditFilter {
            user_id: self.user_id,
            username: s(&self.username),
            entity: s(&self.entity),
            entity_id: s(&self.entity_id),
            action: s(&self.action),
            from: self.from,
            to: self.to,
        }
    }
}

/// The audit log of your scope, newest first.
#[utoipa::path(operation_id = "listAudit", get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = super::ListPage<AuditEntryDto>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<super::ListPage<AuditEntryDto>>, AppError> {
    user.require(user.role.reads_audit())?;
    let page = crate::service::page(p.page, p.per_page)?;
    let res = audit::list(&state.db, &user.scope(), &p.filter(), &page).await?;
    Ok(Json(super::ListPage::of(res, Into::into)))
}
