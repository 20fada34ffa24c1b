use askama::Template;
use axum::extract::State;
use axum::response::Response;
use tower_sessions::Session;
use wushe_store::registry::organizations as orgs;
use wushe_store::{accounts::users, regions};

use super::{render, take_flash, Layout};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::service::regions::{self as svc, RegionView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home/index.html")]
struct HomePage {
    layout: Layout,
    flash: Option<String>,
    display_name: String,
    view: RegionView,
    users_total: String,
    orgs_total: String,
    edition: String,
    chart: String,
    region_href: String,
    /// Volunteer-service figures of the scope (officials, station staff, administrators).
    oversees: bool,
    /// Star approvals and spot-checks (civil-affairs officials, administrators).
    supervises: bool,
}

/// ECharts option: villages per child region, as a horizontal bar chart.
pub fn children_chart(view: &RegionView) -> String {
    if view.children.is_empty() || view.region.level >= 4 {
        return String::new();
    }
    let mut kids: Vec<_> = view.children.iter().collect();
    kids.sort_by_key(|c| c.n_village);
    let names: Vec<&str> = kids.iter().map(|c| c.name.as_str()).collect();
    let values: Vec<i32> = kids.iter().map(|c| c.n_village).collect();
    let height_hint = names.len();
    serde_json::json!({
        "grid": {"left": 8, "right": 24, "top": 8, "bottom": 8, "containLabel": true},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "data": names, "axisLabel": {"interval": if height_hint > 20 { 1 } else { 0 }}},
        "series": [{"type": "bar", "name": "村级单位", "data": values, "itemStyle": {"color": "#0d6efd"}}]
    })
    .to_string()
}

pub async fn index(State(state): State<AppState>, session: Session, user: CurrentUser) -> Result<Response, AppError> {
    let view = svc::scope_root(&state, &user).await?;
    let scope = user.scope();
    let users_total = super::thousands(users::count_in_scope(&state.db, &scope).await?);
    let orgs_total = super::thousands(orgs::count_in_scope(&state.db, &scope).await?);
    let edition = regions::loaded_edition(&state.db).await?.unwrap_or_else(|| "未加载".into());
    let layout = Layout::new(&session, Some(&user), "首页", "home").await?.crumb("/", "首页");
    let region_href = if user.scope_division.is_empty() {
        "/regions".to_string()
    } else {
        format!("/regions/{}", user.scope_division)
    };
    let page = HomePage {
        flash: take_flash(&session).await,
        display_name: user.display_name.clone(),
        chart: children_chart(&view),
        view,
        users_total,
        orgs_total,
        edition,
        region_href,
        oversees: user.role.oversees_volunteering(),
        supervises: user.role.supervises_volunteering(),
        layout,
    };
    render(&page)
}
