//! Activities: their input and views, creating one, publishing, closing or cancelling it,
//! the lists and the detail, and the organizer's current check-in code.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::stats::metric;
use wushe_domain::time::local_date;
use wushe_domain::volunteering::activity::{self, ActivityStatus, ServiceCategory};
use wushe_domain::volunteering::attendance::{self as att, GeoPoint};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::stats::{self, Delta};
use wushe_store::volunteering::activities::{self, ActivityFilter, ActivityRow, NewActivity, SlotRow, Viewer};
use wushe_store::{regions, Page, Paged};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::{e6, manages, own_org, require_manages, split_keys};

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SlotInput {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ActivityInput {
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub title: String,
    #[serde(deserialize_with = "crate::text::long_text::one")]
    #[schema(max_length = 10000)]
    pub content: String,
    /// Service category key (see `GET /api/v1/activities/dictionaries`) or its Chinese label.
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub category: String,
    /// Division code of the place (down to village).
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub division_code: String,
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Check-in radius in metres (needs the coordinates).
    pub checkin_radius_m: Option<i64>,
    #[serde(deserialize_with = "crate::text::label::many", default)]
    pub required_skills: Vec<String>,
    pub min_age: Option<i64>,
    #[serde(default)]
    pub risky: bool,
    #[serde(default)]
    pub timebank: bool,
    #[serde(default = "yes")]
    pub auto_approve: bool,
    pub recruit_until: Option<DateTime<Utc>>,
    pub slots: Vec<SlotInput>,
    /// Publish at once (otherwise saved as a draft).
    #[serde(default)]
    pub publish: bool,
    /// Administrators only: the organization running it (staff run their own).
    pub organization_id: Option<i64>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityView {
    pub id: i64,
    pub organization_id: i64,
    pub organization_name: String,
    pub title: String,
    pub content: String,
    pub category: String,
    pub category_label: String,
    pub division_code: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub checkin_radius_m: Option<i64>,
    pub required_skills: Vec<String>,
    pub min_age: Option<i64>,
    pub risky: bool,
    pub timebank: bool,
    pub auto_approve: bool,
    pub recruit_until: Option<DateTime<Utc>>,
    pub status: String,
    pub status_label: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl From<ActivityRow> for ActivityView {
    fn from(a: ActivityRow) -> Self {
        let category_label = ServiceCategory::parse(&a.category).map_or(a.category.clone(), |c| c.label().into());
        let status_label = ActivityStatus::parse(&a.status).map_or(a.status.clone(), |s| s.label().into());
        ActivityView {
            id: a.id,
            organization_id: a.organization_id,
            organization_name: a.organization_name,
            title: a.title,
            content: a.content,
            category: a.category,
            category_label,
            division_code: a.division_code,
            address: a.address,
            latitude: a.latitude_e6.map(|v| v as f64 / 1e6),
            longitude: a.longitude_e6.map(|v| v as f64 / 1e6),
            checkin_radius_m: a.checkin_radius_m,
            required_skills: split_keys(&a.required_skills),
            min_age: a.min_age,
            risky: a.risky,
            timebank: a.timebank,
            auto_approve: a.auto_approve,
            recruit_until: a.recruit_until,
            status: a.status,
            status_label,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityDetail {
    pub activity: ActivityView,
    #[schema(value_type = Vec<Object>)]
    pub slots: Vec<SlotRow>,
    /// Whether the caller runs this activity (sees the roster and confirms hours).
    pub manages: bool,
}

/// Who sees activities how: staff and officials by scope, everyone else the public list.
pub fn viewer(user: Option<&CurrentUser>) -> Viewer {
    match user {
        Some(u) if u.role.runs_activities() || u.role.oversees_volunteering() => Viewer::Scoped(u.scope()),
        _ => Viewer::Public,
    }
}

pub async fn create_activity(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: ActivityInput,
) -> Result<i64, AppError> {
    let org = own_org(state, user, input.organization_id).await?;
    let title = input.title.trim();
    if title.chars().count() < 2 || title.chars().count() > 100 {
        return Err(AppError::validation("活动名称", "应为 2–100 个字符"));
    }
    let content = input.content.trim();
    if content.is_empty() || content.chars().count() > 5000 {
        return Err(AppError::validation("活动内容", "不能为空，且不超过 5000 个字符"));
    }
    let category = ServiceCategory::parse(&input.category)
        .ok_or_else(|| AppError::validation("服务类别", format!("未知的服务类别「{}」", input.category)))?;
    let code = crate::service::regions::parse_code("活动地点", &input.division_code)?;
    if !regions::exists(&state.db, &code).await? {
        return Err(AppError::validation("活动地点", format!("区划代码 {} 不存在", code.prefix())));
    }
    let address = input.address.trim();
    if address.is_empty() || address.chars().count() > 200 {
        return Err(AppError::validation("详细地址", "不能为空，且不超过 200 个字符"));
    }
    let point = match (input.latitude, input.longitude) {
        (Some(lat), Some(lng)) => Some(
            GeoPoint::new(lat, lng).ok_or_else(|| AppError::validation("坐标", "纬度应在 ±90、经度应在 ±180 之间"))?,
        ),
        (None, None) => None,
        _ => return Err(AppError::validation("坐标", "纬度和经度应同时填写")),
    };
    if let Some(r) = input.checkin_radius_m {
        if point.is_none() {
            return Err(AppError::validation("签到范围", "设置签到范围需要先填写活动地点坐标"));
        }
        if !(20..=5000).contains(&r) {
            return Err(AppError::validation("签到范围", "应在 20–5000 米之间"));
        }
    }
    if let Some(a) = input.min_age {
        if !(8..=80).contains(&a) {
            return Err(AppError::validation("最低年龄", "应在 8–80 周岁之间"));
        }
    }
    if input.slots.is_empty() || input.slots.len() > 100 {
        return Err(AppError::validation("slots", "至少一个、至多 100 个时段"));
    }
    let mut slots = Vec::with_capacity(input.slots.len());
    for s in &input.slots {
        activity::check_slot(s.starts_at, s.ends_at, s.capacity).map_err(|(f, m)| AppError::validation(f, m))?;
        slots.push((s.starts_at, s.ends_at, s.capacity));
    }
    let last_start = slots.iter().map(|s| s.0).max().unwrap_or_else(Utc::now);
    if input.recruit_until.is_some_and(|d| d > last_start) {
        return Err(AppError::validation("报名截止", "不能晚于最后一个时段的开始时间"));
    }
    let skills: Vec<String> =
        input.required_skills.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    let secret: [u8; 16] = rand::random();
    let status = if input.publish { ActivityStatus::Published } else { ActivityStatus::Draft };
    let mut tx = state.db.begin().await?;
    let id = activities::insert(
        &mut tx,
        &NewActivity {
            organization_id: org,
            title,
            content,
            category: category.as_str(),
            division_code: code.full(),
            address,
            latitude_e6: point.map(|p| e6(p.lat)),
            longitude_e6: point.map(|p| e6(p.lng)),
            checkin_radius_m: input.checkin_radius_m,
            required_skills: &skills.join(","),
            min_age: input.min_age,
            risky: input.risky,
            timebank: input.timebank,
            auto_approve: input.auto_approve,
            recruit_until: input.recruit_until,
            status: status.as_str(),
            checkin_secret: &secret,
            slots: &slots,
            created_by: Some(user.id),
        },
    )
    .await?;
    if status == ActivityStatus::Published {
        stats::append(&mut tx, &[Delta::new(metric::ACTIVITIES, code.full(), local_date(Utc::now()), 1)]).await?;
    }
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "activity",
            entity_id: Some(id.to_string()),
            division_code: code.full(),
            organization_id: Some(org),
            summary: serde_json::json!({ "title": title, "status": status.as_str(), "slots": slots.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn set_activity_status(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    id: i64,
    to: ActivityStatus,
) -> Result<(), AppError> {
    let a = activities::get(&state.db, &viewer(Some(user)), id).await?;
    require_manages(user, &a)?;
    let from = ActivityStatus::parse(&a.status).ok_or_else(|| AppError::internal("unknown activity status"))?;
    if !from.can_become(to) {
        return Err(AppError::Conflict(format!("活动当前为「{}」，不能改为「{}」", from.label(), to.label())));
    }
    let mut tx = state.db.begin().await?;
    activities::set_status(&mut tx, id, from.as_str(), to.as_str()).await?;
    if to == ActivityStatus::Published {
        stats::append(&mut tx, &[Delta::new(metric::ACTIVITIES, &a.division_code, local_date(Utc::now()), 1)]).await?;
    }
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "status",
            entity: "activity",
            entity_id: Some(id.to_string()),
            division_code: &a.division_code,
            organization_id: Some(a.organization_id),
            summary: serde_json::json!({ "from": from.as_str(), "to": to.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_activities(
    state: &AppState,
    user: Option<&CurrentUser>,
    f: &ActivityFilter,
    page: &Page,
) -> Result<Paged<ActivityView>, AppError> {
    let p = activities::list(&state.db, &viewer(user), f, page).await?;
    Ok(Paged {
        items: p.items.into_iter().map(ActivityView::from).collect(),
        total: p.total,
        capped: p.capped,
        page: p.page,
    })
}

pub async fn activity_detail(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: i64,
) -> Result<ActivityDetail, AppError> {
    let a = activities::get(&state.db, &viewer(user), id).await?;
    let slots = activities::slots(&state.db, id).await?;
    let manages = user.is_some_and(|u| manages(u, &a));
    Ok(ActivityDetail { activity: a.into(), slots, manages })
}

/// The code the organizer's screen shows now, and when it changes.
pub async fn checkin_code(state: &AppState, user: &CurrentUser, id: i64) -> Result<(String, DateTime<Utc>), AppError> {
    let a = activities::get(&state.db, &viewer(Some(user)), id).await?;
    require_manages(user, &a)?;
    let secret = activities::checkin_secret(&state.db, id).await?;
    Ok(att::current_code(&secret, id, Utc::now()))
}
