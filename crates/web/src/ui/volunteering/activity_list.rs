//! The activity list (`GET /activities`): published activities for the public, the scope's
//! for staff and officials, with filters and pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use tower_sessions::Session;
use wushe_domain::volunteering::activity::ActivityStatus;
use wushe_store::Page;

use crate::api::volunteering::ActivityParams;
use crate::auth::MaybeUser;
use crate::error::AppError;
use crate::service::volunteering::{self as svc, ActivityView};
use crate::state::AppState;
use crate::ui::{render, take_flash, url_encode, Layout};

use super::{category_options, fmt_range, given, status_class, with_status};

pub struct ActivityCard {
    pub id: i64,
    pub title: String,
    pub category_label: String,
    pub status_label: String,
    pub status_class: &'static str,
    pub organization_name: String,
    pub when: String,
    pub address: String,
    /// Still published although its time is over (the organizer has not closed it).
    pub past: bool,
}

impl From<ActivityView> for ActivityCard {
    fn from(a: ActivityView) -> Self {
        ActivityCard {
            id: a.id,
            past: a.status == ActivityStatus::Published.as_str() && a.ends_at < Utc::now(),
            status_class: status_class(&a.status),
            when: fmt_range(a.starts_at, a.ends_at),
            title: a.title,
            category_label: a.category_label,
            status_label: a.status_label,
            organization_name: a.organization_name,
            address: a.address,
        }
    }
}

#[derive(Template)]
#[template(path = "volunteering/list.html")]
struct ListPage {
    layout: Layout,
    flash: Option<String>,
    error: Option<String>,
    items: Vec<ActivityCard>,
    total: String,
    q: String,
    category: String,
    region: String,
    upcoming: bool,
    categories: Vec<(&'static str, &'static str)>,
    can_create: bool,
    logged_in: bool,
    page: u32,
    pages: u32,
    page_base: String,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(deserialize_with = "crate::text::line::one", default)]
    q: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    category: String,
    #[serde(deserialize_with = "crate::text::label::one", default)]
    region: String,
    /// "1" when "只看未结束" is ticked.
    #[serde(deserialize_with = "crate::text::label::one", default)]
    upcoming: String,
    /// Set by the filter form: without it (first visit) only upcoming activities are shown.
    #[serde(deserialize_with = "crate::text::label::one", default)]
    f: String,
    page: Option<u32>,
}

/// `GET /activities`: the public sees published ones; staff and officials their scope.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    MaybeUser(user): MaybeUser,
    Query(p): Query<ListQuery>,
) -> Result<Response, AppError> {
    let upcoming = p.f.is_empty() || !p.upcoming.is_empty();
    let params = ActivityParams {
        q: given(&p.q),
        region: given(&p.region),
        category: given(&p.category),
        upcoming: Some(upcoming),
        ..Default::default()
    };
    let page = Page::new(p.page, Some(20));
    let listed = match params.filter() {
        Ok(f) => svc::list_activities(&state, user.as_ref(), &f, &page).await,
        Err(e) => Err(e),
    };
    let (res, error) = match listed {
        Ok(res) => (Some(res), None),
        Err(e @ AppError::Validation { .. }) => (None, Some(e)),
        Err(e) => return Err(e),
    };
    let layout = Layout::new(&session, user.as_ref(), "志愿活动", "activities")
        .await?
        .crumb("/", "首页")
        .crumb("/activities", "志愿活动");
    let page_base = format!(
        "/activities?f=1&q={}&category={}&region={}&upcoming={}&",
        url_encode(p.q.trim()),
        url_encode(p.category.trim()),
        url_encode(p.region.trim()),
        if upcoming { "1" } else { "" }
    );
    let status = error.as_ref().map(AppError::status);
    let mut out = ListPage {
        layout,
        flash: take_flash(&session).await,
        error: error.map(|e| e.to_string()),
        items: Vec::new(),
        total: "0".into(),
        q: p.q,
        category: p.category,
        region: p.region,
        upcoming,
        categories: category_options(),
        can_create: user.as_ref().is_some_and(|u| u.role.runs_activities()),
        logged_in: user.is_some(),
        page: 1,
        pages: 1,
        page_base,
    };
    if let Some(res) = res {
        out.total = res.total_label();
        out.page = res.page.page;
        out.pages = res.pages();
        out.items = res.items.into_iter().map(Into::into).collect();
    }
    let html = render(&out)?;
    Ok(match status {
        Some(s) => with_status(html, s),
        None => html,
    })
}
