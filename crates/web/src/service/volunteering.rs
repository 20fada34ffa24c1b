//! Volunteer service: activities, sign-ups, check-in/out, hour confirmation (through the
//! group-commit writer), a volunteer's record with totals and star level, corrections.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::accounts::Role;
use wushe_domain::stats::metric;
use wushe_domain::time::local_date;
use wushe_domain::timebank::{PointRules, TimebankRules};
use wushe_domain::volunteering::activity::{self, ActivityStatus, Eligibility, ServiceCategory};
use wushe_domain::volunteering::attendance::{self as att, GeoPoint};
use wushe_domain::volunteering::signup::SignupAction;
use wushe_domain::volunteering::{hours, HourRules, StarRules};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::stats::{self, Delta};
use wushe_store::volunteering::activities::{self, ActivityFilter, ActivityRow, NewActivity, SlotRow, Viewer};
use wushe_store::volunteering::attendance::{self as attendance_store, CheckIn};
use wushe_store::volunteering::records::{self, NewRecord, RecordRow};
use wushe_store::volunteering::{counts, insurance, signups};
use wushe_store::{regions, settings, Page, Paged, StoreError, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

pub const HOUR_RULES_KEY: &str = "volunteering.hours";
pub const STAR_RULES_KEY: &str = "volunteering.stars";
pub const TIMEBANK_RULES_KEY: &str = "volunteering.timebank";
pub const POINT_RULES_KEY: &str = "volunteering.points";

// ---------- activities ----------

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

/// Comma-joined dictionary keys as stored.
fn split_keys(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect()
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

fn e6(v: f64) -> i64 {
    (v * 1e6).round() as i64
}

/// Who sees activities how: staff and officials by scope, everyone else the public list.
pub fn viewer(user: Option<&CurrentUser>) -> Viewer {
    match user {
        Some(u) if u.role.runs_activities() || u.role.oversees_volunteering() => Viewer::Scoped(u.scope()),
        _ => Viewer::Public,
    }
}

/// The organization a user runs activities (and insurance) for: staff their own, an
/// administrator the one named, which must exist in their scope. Staff naming another
/// organization are refused, not silently given their own.
async fn own_org(state: &AppState, user: &CurrentUser, requested: Option<i64>) -> Result<i64, AppError> {
    user.require(user.role.runs_activities())?;
    match (user.organization_id, requested, user.role) {
        (Some(o), Some(r), _) if r != o => {
            Err(AppError::Forbidden("只能为本组织进行此操作，不能指定其他组织（organization_id）".into()))
        }
        (Some(o), _, _) => Ok(o),
        (None, Some(o), Role::Admin) => {
            match wushe_store::registry::organizations::get_organization(&state.db, &user.scope(), o).await {
                Ok(_) => Ok(o),
                Err(wushe_store::StoreError::NotFound) => {
                    Err(AppError::validation("organization_id", format!("组织 {o} 不存在或不在您的管辖范围内")))
                }
                Err(e) => Err(e.into()),
            }
        }
        _ => Err(AppError::validation("organization_id", "请指定举办活动的组织")),
    }
}

/// Whether the user runs this activity (its organization's staff, or an administrator).
fn manages(user: &CurrentUser, a: &ActivityRow) -> bool {
    user.role.runs_activities() && (user.role == Role::Admin || user.organization_id == Some(a.organization_id))
}

fn require_manages(user: &CurrentUser, a: &ActivityRow) -> Result<(), AppError> {
    if manages(user, a) {
        Ok(())
    } else {
        Err(AppError::Forbidden("只有举办该活动的组织可以进行此操作".into()))
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

// ---------- sign-ups ----------

fn volunteer_person(user: &CurrentUser) -> Result<i64, AppError> {
    match (user.role, user.person_id) {
        (Role::Volunteer, Some(p)) => Ok(p),
        (Role::Volunteer, None) => Err(AppError::Forbidden("您的账号尚未关联志愿者登记信息，请联系所在组织".into())),
        _ => Err(AppError::Forbidden("请使用志愿者账号报名和签到".into())),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResult {
    pub signup_id: i64,
    pub status: String,
    pub status_label: String,
}

pub async fn sign_up(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    activity_id: i64,
    slot_id: i64,
    note: Option<String>,
) -> Result<SignupResult, AppError> {
    let person = volunteer_person(user)?;
    let mut tx = state.db.begin().await?;
    let a = activities::get_tx(&mut tx, activity_id).await?;
    let status = ActivityStatus::parse(&a.status).unwrap_or(ActivityStatus::Draft);
    // a volunteer sees what the public sees: the answer for a draft is the one for no activity
    if !status.is_public() {
        return Err(AppError::from(wushe_store::StoreError::NotFound));
    }
    let slot = activities::slot_tx(&mut tx, slot_id).await?;
    if slot.activity_id != activity_id {
        return Err(AppError::NotFound("该活动没有这个时段".into()));
    }
    let facts = signups::volunteer_facts(&mut tx, person).await?;
    let required = split_keys(&a.required_skills);
    let el = Eligibility {
        min_age: a.min_age,
        risky: a.risky,
        required_skills: &required,
        recruit_until: a.recruit_until,
        status,
        slot_starts: slot.starts_at,
    };
    let skills = split_keys(&facts.skills);
    activity::may_sign_up(&el, facts.birth_date, facts.has_guardian, &skills, Utc::now())
        .map_err(AppError::Conflict)?;
    let note = note.map(|n| n.trim().chars().take(200).collect::<String>()).filter(|n| !n.is_empty());
    let (id, status) = signups::create(&mut tx, slot_id, activity_id, person, a.auto_approve, note.as_deref()).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "sign_up",
            entity: "signup",
            entity_id: Some(id.to_string()),
            division_code: &a.division_code,
            organization_id: Some(a.organization_id),
            summary: serde_json::json!({ "activity": activity_id, "slot": slot_id, "status": status.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(SignupResult { signup_id: id, status: status.as_str().into(), status_label: status.label().into() })
}

/// The organizer approves / declines / cancels, or the volunteer cancels their own.
pub async fn act_on_signup(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    signup_id: i64,
    action: SignupAction,
) -> Result<SignupResult, AppError> {
    let mut tx = state.db.begin().await?;
    let s = signups::get_tx(&mut tx, signup_id).await?;
    let a = activities::get_tx(&mut tx, s.activity_id).await?;
    let own = user.person_id == Some(s.person_id) && matches!(action, SignupAction::Cancel);
    if !own {
        require_manages(user, &a)?;
    }
    let status = signups::act(&mut tx, signup_id, action, Some(user.id)).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "signup_decision",
            entity: "signup",
            entity_id: Some(signup_id.to_string()),
            division_code: &a.division_code,
            organization_id: Some(a.organization_id),
            summary: serde_json::json!({ "from": s.status, "to": status.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(SignupResult { signup_id, status: status.as_str().into(), status_label: status.label().into() })
}

pub async fn roster(
    state: &AppState,
    user: &CurrentUser,
    activity_id: i64,
) -> Result<(Vec<signups::SignupRow>, Vec<attendance_store::AttendanceRow>), AppError> {
    let a = activities::get(&state.db, &viewer(Some(user)), activity_id).await?;
    if !manages(user, &a) && !user.role.oversees_volunteering() {
        return Err(AppError::Forbidden("只有举办组织和主管部门可以查看花名册".into()));
    }
    Ok((
        signups::for_activity(&state.db, activity_id).await?,
        attendance_store::for_activity(&state.db, activity_id).await?,
    ))
}

// ---------- check-in / check-out (group commit) ----------

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CheckInput {
    pub activity_id: i64,
    /// The 6-digit code from the activity's QR (volunteers scanning it themselves).
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[schema(max_length = 50)]
    pub code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Organizers checking someone in or out from the roster: the sign-up.
    pub signup_id: Option<i64>,
    /// Organizers resolving a missing check-out: when the service ended.
    pub checked_out_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceResult {
    pub attendance_id: i64,
    pub status: String,
    pub status_label: String,
    pub at: DateTime<Utc>,
}

/// Who is checking whom: the volunteer with a valid code (and inside the fence), or the
/// organizer from the roster.
#[derive(Clone)]
struct Check {
    person: Option<i64>,
    user_id: i64,
    organizer: bool,
    signup_id: Option<i64>,
    code: Option<String>,
    position: Option<GeoPoint>,
    actor: Actor,
}

fn check_of(user: &CurrentUser, meta: &RequestMeta, input: &CheckInput) -> Result<Check, AppError> {
    let position = match (input.latitude, input.longitude) {
        (Some(lat), Some(lng)) => GeoPoint::new(lat, lng),
        _ => None,
    };
    let organizer = input.signup_id.is_some();
    if !organizer {
        volunteer_person(user)?;
        if input.code.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(AppError::validation("code", "请扫描活动现场的签到二维码"));
        }
    }
    Ok(Check {
        person: user.person_id,
        user_id: user.id,
        organizer: organizer && user.role.runs_activities(),
        signup_id: input.signup_id,
        code: input.code.clone(),
        position,
        actor: meta.actor(Some(user)),
    })
}

async fn checked_activity(
    tx: &mut Tx,
    ck: &Check,
    user_org: Option<i64>,
    admin: bool,
    activity_id: i64,
    now: DateTime<Utc>,
    allow_closed: bool,
) -> Result<ActivityRow, AppError> {
    let a = activities::get_tx(tx, activity_id).await?;
    let secret = if ck.signup_id.is_some() { None } else { Some(activity_secret(tx, activity_id).await?) };
    check_activity(ck, user_org, admin, &a, secret.as_deref(), now, allow_closed)?;
    Ok(a)
}

/// May `ck` check in or out at activity `a` now: the organizer of its own activity, or
/// a volunteer with the current code; and the activity must be open.
fn check_activity(
    ck: &Check,
    user_org: Option<i64>,
    admin: bool,
    a: &ActivityRow,
    secret: Option<&[u8]>,
    now: DateTime<Utc>,
    allow_closed: bool,
) -> Result<(), AppError> {
    if ck.signup_id.is_some() {
        if !(ck.organizer && (admin || user_org == Some(a.organization_id))) {
            return Err(AppError::Forbidden("只有举办该活动的组织可以代为签到、签退".into()));
        }
    } else if !att::code_is_valid(secret.unwrap_or_default(), a.id, ck.code.as_deref().unwrap_or(""), now) {
        return Err(AppError::Conflict("签到码无效或已过期，请扫描现场正在显示的二维码".into()));
    }
    let open =
        a.status == ActivityStatus::Published.as_str() || (allow_closed && a.status == ActivityStatus::Closed.as_str());
    if !open {
        return Err(AppError::Conflict(format!(
            "活动{}，不能签到",
            ActivityStatus::parse(&a.status).map_or("", |s| s.label())
        )));
    }
    Ok(())
}

async fn activity_secret(tx: &mut Tx, id: i64) -> Result<Vec<u8>, StoreError> {
    activities::checkin_secret_tx(tx, id).await
}

pub async fn check_in(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: CheckInput,
) -> Result<AttendanceResult, AppError> {
    let ck = check_of(user, meta, &input)?;
    let request = CheckInRequest {
        ck,
        org: user.organization_id,
        admin: user.role == Role::Admin,
        activity_id: input.activity_id,
    };
    state.writes.merge::<CheckIns>(request).await
}

/// One check-in, as the writer takes it.
pub struct CheckInRequest {
    ck: Check,
    org: Option<i64>,
    admin: bool,
    activity_id: i64,
}

/// The check-ins of one group-commit batch: one read of each kind (activities, their
/// secrets, the volunteers' approved sign-ups, sign-ups already checked in) for all of
/// them, each checked in memory, then written together.
pub struct CheckIns;

impl wushe_store::group_commit::Merge for CheckIns {
    type Item = CheckInRequest;
    type Out = AttendanceResult;
    type Err = AppError;

    fn apply<'a>(
        tx: &'a mut Tx,
        requests: &'a [CheckInRequest],
    ) -> wushe_store::group_commit::BoxFut<'a, Result<Vec<Result<AttendanceResult, AppError>>, AppError>> {
        Box::pin(check_in_requests(tx, requests))
    }
}

async fn check_in_requests(
    tx: &mut Tx,
    requests: &[CheckInRequest],
) -> Result<Vec<Result<AttendanceResult, AppError>>, AppError> {
    let now = wushe_store::time::now();
    let ids: Vec<i64> = requests.iter().map(|r| r.activity_id).collect();
    let acts = activities::get_many_tx(tx, &ids).await?;
    let qr: Vec<i64> = requests.iter().filter(|r| r.ck.signup_id.is_none()).map(|r| r.activity_id).collect();
    let secrets = activities::checkin_secrets_tx(tx, &qr).await?;
    let pairs: Vec<(i64, i64)> = requests
        .iter()
        .filter(|r| r.ck.signup_id.is_none())
        .map(|r| (r.activity_id, r.ck.person.unwrap_or_default()))
        .collect();
    let approved = signups::approved_for_many(tx, &pairs).await?;
    let mut candidate_ids: Vec<i64> = approved.values().flatten().map(|c| c.0).collect();
    candidate_ids.extend(requests.iter().filter_map(|r| r.ck.signup_id));
    let mut taken = attendance_store::checked_in(tx, &candidate_ids).await?;
    let mut answers = Vec::with_capacity(requests.len());
    let (mut rows, mut whose): (Vec<CheckIn>, Vec<(&ActivityRow, &Actor)>) = (Vec::new(), Vec::new());
    for r in requests {
        match plan_check_in(tx, r, &acts, &secrets, &approved, &taken, now).await {
            Ok((c, a)) => {
                taken.insert(c.signup_id);
                answers.push(Ok(rows.len()));
                rows.push(c);
                whose.push((a, &r.ck.actor));
            }
            Err(e) => answers.push(Err(e)),
        }
    }
    let ids = attendance_store::check_in_many(tx, &rows).await?;
    let deltas: Vec<Delta> =
        whose.iter().map(|(a, _)| Delta::new(metric::CHECKINS, &a.division_code, local_date(now), 1)).collect();
    stats::append(tx, &deltas).await?;
    let events: Vec<Event> = rows
        .iter()
        .zip(&whose)
        .zip(&ids)
        .map(|((c, (a, _)), id)| Event {
            action: "check_in",
            entity: "attendance",
            entity_id: Some(id.to_string()),
            division_code: &a.division_code,
            organization_id: Some(a.organization_id),
            summary: serde_json::json!({ "activity": a.id, "person": c.person_id, "method": c.method }),
        })
        .collect();
    let entries: Vec<(&Actor, &Event)> = whose.iter().zip(&events).map(|((_, actor), e)| (*actor, e)).collect();
    audit::append_many(tx, &entries).await?;
    Ok(answers
        .into_iter()
        .map(|a| {
            a.map(|k| AttendanceResult {
                attendance_id: ids[k],
                status: att::AttendanceStatus::Open.as_str().into(),
                status_label: att::AttendanceStatus::Open.label().into(),
                at: now,
            })
        })
        .collect())
}

/// One check-in's checks against what the batch read (and, on the organizer's roster and
/// for risky activities, what it reads for that one alone).
async fn plan_check_in<'a>(
    tx: &mut Tx,
    r: &CheckInRequest,
    acts: &'a std::collections::HashMap<i64, ActivityRow>,
    secrets: &std::collections::HashMap<i64, Vec<u8>>,
    approved: &signups::Approved,
    taken: &std::collections::HashSet<i64>,
    now: DateTime<Utc>,
) -> Result<(CheckIn, &'a ActivityRow), AppError> {
    let ck = &r.ck;
    let a = acts.get(&r.activity_id).ok_or(AppError::from(StoreError::NotFound))?;
    check_activity(ck, r.org, r.admin, a, secrets.get(&a.id).map(Vec::as_slice), now, false)?;
    // the sign-up: named by the organizer, or the volunteer's approved one whose slot is open now
    let candidates = match ck.signup_id {
        Some(sid) => {
            let s = signups::get_tx(tx, sid).await?;
            if s.activity_id != a.id || s.status != "approved" {
                return Err(AppError::Conflict("该报名未被录用或不属于此活动".into()));
            }
            let slot = activities::slot_tx(tx, s.slot_id).await?;
            vec![(s.id, s.slot_id, slot.starts_at, slot.ends_at, s.person_id)]
        }
        None => {
            let person = ck.person.unwrap_or_default();
            let mine = approved.get(&(a.id, person)).cloned().unwrap_or_default();
            mine.into_iter().map(|(id, slot, s, e)| (id, slot, s, e, person)).collect()
        }
    };
    if candidates.is_empty() {
        return Err(AppError::Conflict("您没有该活动已录用的报名，不能签到".into()));
    }
    let mut last_err = String::new();
    let mut chosen = None;
    for c in candidates {
        match att::checkin_window(c.2, c.3, now) {
            Ok(()) => {
                chosen = Some(c);
                break;
            }
            Err(e) => last_err = e,
        }
    }
    let Some((signup_id, slot_id, _, _, person)) = chosen else {
        return Err(AppError::Conflict(last_err));
    };
    if taken.contains(&signup_id) {
        return Err(AppError::Conflict("已签到，无需重复签到".into()));
    }
    if !ck.organizer {
        let center = match (a.latitude_e6, a.longitude_e6) {
            (Some(la), Some(lo)) => GeoPoint::new(la as f64 / 1e6, lo as f64 / 1e6),
            _ => None,
        };
        att::check_fence(center, a.checkin_radius_m, ck.position).map_err(AppError::Conflict)?;
    }
    if a.risky && !insurance::is_covered(tx, person, local_date(now)).await? {
        return Err(AppError::Conflict(
            "本活动有风险，须先为志愿者投保意外险：您今天不在任何有效保单的被保险人名单中，请联系组织方".into(),
        ));
    }
    let check_in = CheckIn {
        signup_id,
        slot_id,
        activity_id: a.id,
        person_id: person,
        at: now,
        method: if ck.organizer { "roster" } else { "qr" },
        by: Some(ck.user_id),
        position_e6: ck.position.map(|p| (e6(p.lat), e6(p.lng))),
    };
    Ok((check_in, a))
}

pub async fn check_out(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: CheckInput,
) -> Result<AttendanceResult, AppError> {
    let ck = check_of(user, meta, &input)?;
    let (org, admin) = (user.organization_id, user.role == Role::Admin);
    state
        .writes
        .run(move |tx| {
            let (ck, input) = (ck.clone(), input.clone());
            Box::pin(async move {
                let now = wushe_store::time::now();
                // a finished activity still takes check-outs (and the organizer's resolutions)
                let a = checked_activity(tx, &ck, org, admin, input.activity_id, now, true).await?;
                let open = match ck.signup_id {
                    Some(sid) => attendance_store::for_signup(tx, sid).await?,
                    None => attendance_store::open_for(tx, a.id, ck.person.unwrap_or_default()).await?,
                };
                let Some(t) = open.filter(|t| t.activity_id == a.id) else {
                    return Err(AppError::Conflict("没有找到该活动未签退的签到记录".into()));
                };
                let at = match (ck.organizer, input.checked_out_at) {
                    (true, Some(at)) => {
                        if at <= t.checked_in_at || at > now {
                            return Err(AppError::validation("签退时间", "应晚于签到时间且不晚于现在"));
                        }
                        at
                    }
                    _ => now,
                };
                let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
                attendance_store::check_out(tx, t.id, at, if ck.organizer { "roster" } else { "qr" }, Some(ck.user_id), note, ck.organizer)
                    .await?;
                audit::append(
                    tx,
                    &ck.actor,
                    &Event {
                        action: "check_out",
                        entity: "attendance",
                        entity_id: Some(t.id.to_string()),
                        division_code: &a.division_code,
                        organization_id: Some(a.organization_id),
                        summary: serde_json::json!({ "activity": a.id, "person": t.person_id, "was": t.status, "note": note }),
                    },
                )
                .await?;
                Ok(AttendanceResult {
                    attendance_id: t.id,
                    status: att::AttendanceStatus::Closed.as_str().into(),
                    status_label: att::AttendanceStatus::Closed.label().into(),
                    at,
                })
            })
        })
        .await
}

// ---------- hour confirmation (group commit) ----------

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConfirmItem {
    pub attendance_id: i64,
    /// Travel minutes to exclude (default 0).
    #[serde(default)]
    pub travel_minutes: i64,
    /// Quality evaluation (优秀 / 良好 / 合格 …).
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub evaluation: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConfirmInput {
    /// One or many (bulk) attendances to confirm; all or none are confirmed.
    pub items: Vec<ConfirmItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmedRecord {
    pub attendance_id: i64,
    pub record_id: i64,
    pub record_uid: String,
    pub credited_minutes: i64,
    pub capped_by_activity: bool,
    pub capped_by_day: bool,
}

pub const MAX_CONFIRM_ITEMS: usize = 500;

pub async fn confirm(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: ConfirmInput,
) -> Result<Vec<ConfirmedRecord>, AppError> {
    user.require(user.role.runs_activities())?;
    if input.items.is_empty() || input.items.len() > MAX_CONFIRM_ITEMS {
        return Err(AppError::validation("items", format!("一次确认 1–{MAX_CONFIRM_ITEMS} 条签到记录")));
    }
    for it in &input.items {
        if !(0..=24 * 60).contains(&it.travel_minutes) {
            return Err(AppError::validation("路途时间", "应在 0–1440 分钟之间"));
        }
    }
    let request = ConfirmRequest {
        actor: meta.actor(Some(user)),
        user_id: user.id,
        user_name: user.display_name.clone(),
        organization_id: user.organization_id,
        person_id: user.person_id,
        admin: user.role == Role::Admin,
        items: input.items,
    };
    state.writes.merge::<Confirmations>(request).await
}

/// One request to confirm hours, as the writer takes it.
pub struct ConfirmRequest {
    actor: Actor,
    user_id: i64,
    user_name: String,
    organization_id: Option<i64>,
    person_id: Option<i64>,
    admin: bool,
    items: Vec<ConfirmItem>,
}

/// The confirmation requests of one group-commit batch, checked and written together: one
/// read of each kind for all their attendances, then `write_confirmations`. A request is
/// all or nothing; a refused one leaves no writes and does not count against the others'
/// day caps.
pub struct Confirmations;

impl wushe_store::group_commit::Merge for Confirmations {
    type Item = ConfirmRequest;
    type Out = Vec<ConfirmedRecord>;
    type Err = AppError;

    fn apply<'a>(
        tx: &'a mut Tx,
        requests: &'a [ConfirmRequest],
    ) -> wushe_store::group_commit::BoxFut<'a, Result<Vec<Result<Vec<ConfirmedRecord>, AppError>>, AppError>> {
        Box::pin(confirm_requests(tx, requests))
    }
}

async fn confirm_requests(
    tx: &mut Tx,
    requests: &[ConfirmRequest],
) -> Result<Vec<Result<Vec<ConfirmedRecord>, AppError>>, AppError> {
    let rules: HourRules = settings::get_tx(tx, HOUR_RULES_KEY).await?;
    let earn = crate::service::timebank::EarnRules::load(tx).await?;
    let stars: StarRules = settings::get_tx(tx, STAR_RULES_KEY).await?;
    let now = wushe_store::time::now();
    let ids: Vec<i64> = requests.iter().flat_map(|r| r.items.iter().map(|i| i.attendance_id)).collect();
    let attendances = attendance_store::attended_many_tx(tx, &ids).await?;
    let activity_ids: Vec<i64> = attendances.values().map(|t| t.activity_id).collect();
    let activities = activities::recording_many_tx(tx, &activity_ids).await?;
    let days: Vec<(i64, chrono::NaiveDate)> =
        attendances.values().map(|t| (t.person_id, local_date(t.checked_in_at))).collect();
    let mut same_day = records::credited_on_many(tx, &days).await?;
    let confirmers: Vec<Confirmer> = requests
        .iter()
        .map(|r| Confirmer { user_id: r.user_id, name: &r.user_name, at: now, actor: &r.actor })
        .collect();
    let mut taken = std::collections::HashSet::new();
    let mut answers = Vec::with_capacity(requests.len());
    let mut writes = Vec::new();
    for (r, by) in requests.iter().zip(&confirmers) {
        // checked against what the batch's earlier requests took, kept only if all pass
        let mut day_after = std::collections::HashMap::new();
        let mut mine = Vec::with_capacity(r.items.len());
        let checked = (|| {
            for (i, it) in r.items.iter().enumerate() {
                let at =
                    |m: String| AppError::Conflict(format!("第 {} 条（签到记录 {}）：{m}", i + 1, it.attendance_id));
                let t = attendances.get(&it.attendance_id).ok_or_else(|| at("签到记录不存在".into()))?;
                let a = activities.get(&t.activity_id).ok_or_else(|| at("活动不存在".into()))?;
                if !(r.admin || r.organization_id == Some(a.organization_id)) {
                    return Err(AppError::Forbidden(format!(
                        "第 {} 条：只有举办活动的组织可以确认时长（谁组织谁记录）",
                        i + 1
                    )));
                }
                if r.person_id == Some(t.person_id) {
                    return Err(AppError::Forbidden("不能确认自己的志愿服务时长".into()));
                }
                let ended = match (t.status.as_str(), t.checked_out_at) {
                    _ if taken.contains(&t.id) || mine.iter().any(|w: &ConfirmWrite| w.attendance.id == t.id) => {
                        return Err(at("时长已确认".into()))
                    }
                    ("closed", Some(out_at)) => out_at,
                    ("open", _) => return Err(at("尚未签退".into())),
                    ("flagged", _) => return Err(at("缺少签退，请先补登签退时间".into())),
                    ("confirmed", _) => return Err(at("时长已确认".into())),
                    _ => return Err(at("签到记录状态异常".into())),
                };
                let key = (t.person_id, local_date(t.checked_in_at));
                let before = *day_after.get(&key).or(same_day.get(&key)).unwrap_or(&0);
                let credit = hours::credit(&rules, t.checked_in_at, ended, it.travel_minutes, before, now)
                    .map_err(|e| at(e.message()))?;
                day_after.insert(key, before + credit.credited_minutes);
                let evaluation = it.evaluation.as_deref().map(str::trim).filter(|e| !e.is_empty());
                mine.push(ConfirmWrite { by, activity: a, attendance: t, ended, credit, evaluation });
            }
            Ok(())
        })();
        match checked {
            Ok(()) => {
                taken.extend(mine.iter().map(|w| w.attendance.id));
                same_day.extend(day_after);
                answers.push(Ok(mine.len()));
                writes.extend(mine);
            }
            Err(e) => answers.push(Err(e)),
        }
    }
    let written = write_confirmations(tx, &earn, &stars, &writes).await?;
    let mut done = writes.iter().zip(written);
    Ok(answers
        .into_iter()
        .map(|a| {
            a.map(|n| {
                done.by_ref()
                    .take(n)
                    .map(|(w, (rid, uid))| ConfirmedRecord {
                        attendance_id: w.attendance.id,
                        record_id: rid,
                        record_uid: uid,
                        credited_minutes: w.credit.credited_minutes,
                        capped_by_activity: w.credit.capped_by_activity,
                        capped_by_day: w.credit.capped_by_day,
                    })
                    .collect()
            })
        })
        .collect())
}

/// Who confirms, and when.
pub struct Confirmer<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub at: DateTime<Utc>,
    pub actor: &'a Actor,
}

/// One confirmation after its checks.
pub struct ConfirmWrite<'a> {
    pub by: &'a Confirmer<'a>,
    pub activity: &'a activities::Recording,
    pub attendance: &'a attendance_store::Attended,
    pub ended: DateTime<Utc>,
    pub credit: hours::Credit,
    pub evaluation: Option<&'a str>,
}

/// The writes of confirmations, after their checks: the service records, the attendances
/// marked confirmed, the volunteers' years (active-volunteer count), the statistics
/// deltas, the earnings, any star the hours now reach, and the audit entries, each kind
/// with one statement per thousand rows. The HTTP path, the demo's history and the
/// benchmark's raw rate all write exactly these rows. Returns (id, uid) of each record.
pub async fn write_confirmations(
    tx: &mut Tx,
    earn: &crate::service::timebank::EarnRules,
    stars: &StarRules,
    items: &[ConfirmWrite<'_>],
) -> Result<Vec<(i64, String)>, AppError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<NewRecord> = items
        .iter()
        .map(|w| NewRecord {
            person_id: w.attendance.person_id,
            activity_id: w.activity.id,
            organization_id: w.activity.organization_id,
            attendance_id: Some(w.attendance.id),
            division_code: &w.activity.division_code,
            category: &w.activity.category,
            service_date: local_date(w.attendance.checked_in_at),
            started_at: w.attendance.checked_in_at,
            ended_at: w.ended,
            travel_minutes: w.credit.travel_minutes,
            recorded_minutes: w.credit.recorded_minutes,
            credited_minutes: w.credit.credited_minutes,
            evaluation: w.evaluation,
            timebank: w.activity.timebank,
            supersedes_id: None,
            confirmed_by: w.by.user_id,
            confirmed_by_name: w.by.name,
            confirmed_at: w.by.at,
        })
        .collect();
    let ids = records::insert_many(tx, &rows).await?;
    let attendance_ids: Vec<i64> = items.iter().map(|w| w.attendance.id).collect();
    attendance_store::mark_confirmed(tx, &attendance_ids).await?;
    let mut deltas: Vec<Delta> = rows
        .iter()
        .flat_map(|r| record_deltas(r.division_code, r.category, r.service_date, r.credited_minutes, 1))
        .collect();
    let added: Vec<(i64, chrono::NaiveDate)> = rows.iter().map(|r| (r.person_id, r.service_date)).collect();
    deltas.extend(counts::records_added(tx, &added).await?);
    stats::append(tx, &deltas).await?;
    let earnings: Vec<crate::service::timebank::Earning> = rows
        .iter()
        .zip(&ids)
        .map(|(r, (rid, _))| crate::service::timebank::Earning {
            person_id: r.person_id,
            record_id: *rid,
            timebank: r.timebank,
            minutes: r.credited_minutes,
            division_code: r.division_code,
            by: r.confirmed_by,
            at: r.confirmed_at,
        })
        .collect();
    crate::service::timebank::earn(tx, earn, &earnings).await?;
    let people: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
    let star_changes = crate::service::stars::follow_hours_many(tx, stars, &people, true).await?;
    let events: Vec<Event> = items
        .iter()
        .zip(&ids)
        .enumerate()
        .map(|(i, (w, (rid, _)))| {
            let person = w.attendance.person_id;
            // a star reached is told on the volunteer's last confirmation of the batch
            let last = !items[i + 1..].iter().any(|later| later.attendance.person_id == person);
            let reached = star_changes.get(&person).filter(|_| last).map(|c| c.created.clone()).unwrap_or_default();
            Event {
                action: "confirm",
                entity: "service_record",
                entity_id: Some(rid.to_string()),
                division_code: &w.activity.division_code,
                organization_id: Some(w.activity.organization_id),
                summary: serde_json::json!({
                    "attendance": w.attendance.id, "person": person, "credited_minutes": w.credit.credited_minutes,
                    "travel_minutes": w.credit.travel_minutes, "stars_reached": reached
                }),
            }
        })
        .collect();
    let entries: Vec<(&Actor, &Event)> = items.iter().zip(&events).map(|(w, e)| (w.by.actor, e)).collect();
    audit::append_many(tx, &entries).await?;
    Ok(ids)
}

/// The figures one record moves (sign −1 when a correction takes it back).
fn record_deltas(code: &str, category: &str, day: chrono::NaiveDate, minutes: i64, sign: i64) -> Vec<Delta> {
    vec![
        Delta::new(metric::VOLUNTEER_MINUTES, code, day, sign * minutes),
        Delta::new(metric::minutes_in(category), code, day, sign * minutes),
        Delta::new(metric::SERVICE_RECORDS, code, day, sign),
    ]
}

// ---------- corrections ----------

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CorrectionInput {
    /// Why (4–500 characters).
    #[serde(deserialize_with = "crate::text::note::one")]
    #[schema(max_length = 2000)]
    pub reason: String,
    /// Void the record (作废): the service did not happen (entered by mistake, a duplicate,
    /// the wrong person). Approval withdraws it and writes no new record; no times are asked.
    #[serde(default)]
    pub void: bool,
    /// The actual start (required unless `void`).
    pub started_at: Option<DateTime<Utc>>,
    /// The actual end, after the start (required unless `void`).
    pub ended_at: Option<DateTime<Utc>>,
    /// Travel minutes to exclude (default 0; not used by a void).
    #[serde(default)]
    pub travel_minutes: i64,
}

/// The volunteer (own record) or the recording organization asks for a correction.
pub async fn request_correction(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    record_id: i64,
    input: CorrectionInput,
) -> Result<i64, AppError> {
    let r = records::get(&state.db, record_id).await?;
    let own = user.person_id == Some(r.person_id);
    let org_staff =
        user.role.runs_activities() && (user.role == Role::Admin || user.organization_id == Some(r.organization_id));
    if !own && !org_staff {
        return Err(AppError::NotFound("记录不存在或不在您的管辖范围内".into()));
    }
    if r.voided {
        return Err(AppError::Conflict("该记录已作废，不能再申请更正".into()));
    }
    if r.superseded {
        return Err(AppError::Conflict("该记录已被更正，请对最新记录提出申请".into()));
    }
    let reason = input.reason.trim();
    if reason.chars().count() < 4 || reason.chars().count() > 500 {
        return Err(AppError::validation("更正理由", "应为 4–500 个字符"));
    }
    // a void carries no times: whatever was sent with it is not kept
    let (started_at, ended_at) = if input.void {
        (None, None)
    } else {
        let start = input.started_at.ok_or_else(|| AppError::validation("开始时间", "请填写实际开始时间"))?;
        let end = input.ended_at.ok_or_else(|| AppError::validation("结束时间", "请填写实际结束时间"))?;
        if end <= start {
            return Err(AppError::validation("结束时间", "应晚于开始时间"));
        }
        (Some(start), Some(end))
    };
    let mut tx = state.db.begin().await?;
    let id = records::request_correction(
        &mut tx,
        &records::NewCorrection {
            record_id,
            organization_id: r.organization_id,
            person_id: r.person_id,
            requested_by: user.id,
            reason,
            void: input.void,
            started_at,
            ended_at,
            travel_minutes: if input.void { 0 } else { input.travel_minutes.max(0) },
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "request_correction",
            entity: "service_record",
            entity_id: Some(record_id.to_string()),
            division_code: &r.division_code,
            organization_id: Some(r.organization_id),
            summary: serde_json::json!({ "correction": id, "reason": reason, "void": input.void }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The recording organization approves or rejects. Approval takes the old record back and,
/// unless the request voids it, writes a new record that supersedes it (both kept).
pub async fn review_correction(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    correction_id: i64,
    approve: bool,
    note: Option<String>,
) -> Result<Option<i64>, AppError> {
    user.require(user.role.runs_activities())?;
    let rules: HourRules = settings::get(&state.db, HOUR_RULES_KEY).await?;
    let star_rules: StarRules = settings::get(&state.db, STAR_RULES_KEY).await?;
    let mut tx = state.db.begin().await?;
    let c = records::correction_tx(&mut tx, correction_id).await?;
    if !(user.role == Role::Admin || user.organization_id == Some(c.organization_id)) {
        return Err(AppError::NotFound("记录不存在或不在您的管辖范围内".into()));
    }
    if user.person_id == Some(c.person_id) {
        return Err(AppError::Forbidden("不能审核自己的时长更正".into()));
    }
    let old = records::get_tx(&mut tx, c.record_id).await?;
    let note = note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let mut new_id = None;
    let mut star_changes = crate::service::stars::Changed::default();
    let mut certificates_marked = 0;
    if approve {
        let successor = match (c.void, c.started_at, c.ended_at) {
            (true, _, _) => None,
            (false, Some(start), Some(end)) => Some((start, end)),
            _ => return Err(AppError::internal(format!("更正申请 {correction_id} 缺少更正后的时间"))),
        };
        let (marked, mut deltas) = take_back(&mut tx, &old, user.id).await?;
        certificates_marked = marked;
        let mut new_day = None;
        if let Some((start, end)) = successor {
            let (id, day, added) = write_successor(&mut tx, &rules, user, &old, start, end, c.travel_minutes).await?;
            deltas.extend(added);
            (new_id, new_day) = (Some(id), Some(day));
        }
        // the volunteer's years: only a record leaving its year moves them (a void always does)
        let year = chrono::Datelike::year(&old.service_date);
        if new_day.map(|d| chrono::Datelike::year(&d)) != Some(year) {
            deltas.extend(counts::record_removed(&mut tx, c.person_id, old.service_date).await?);
            if let Some(day) = new_day {
                deltas.extend(counts::records_added(&mut tx, &[(c.person_id, day)]).await?);
            }
        }
        stats::append(&mut tx, &deltas).await?;
        // hours may have gone down: stars no longer reached lapse, new ones become eligible
        star_changes = crate::service::stars::follow_hours(&mut tx, &star_rules, c.person_id, false).await?;
    }
    records::review_correction(&mut tx, correction_id, approve, user.id, note, new_id).await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: if approve { "approve_correction" } else { "reject_correction" },
            entity: "service_record",
            entity_id: Some(old.id.to_string()),
            division_code: &old.division_code,
            organization_id: Some(old.organization_id),
            summary: serde_json::json!({ "correction": correction_id, "void": c.void, "new_record": new_id,
                                         "note": note, "stars_reached": star_changes.created,
                                         "stars_lapsed": star_changes.lapsed,
                                         "certificates_marked": certificates_marked }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(new_id)
}

/// Take a record in force back, for a correction or a void: marked superseded, issued
/// certificates listing it marked for re-issue, its earnings reversed. Returns the
/// certificates marked and the deltas taking its figures back; the volunteer's year count
/// is the caller's (a correction within the year keeps it). Its attendance stays confirmed,
/// so a voided service cannot be confirmed again.
async fn take_back(tx: &mut Tx, old: &RecordRow, by: i64) -> Result<(u64, Vec<Delta>), AppError> {
    records::mark_superseded(tx, old.id).await?;
    // issued certificates keep what they stated; they are marked for re-issue instead
    let marked =
        wushe_store::volunteering::certificates::mark_records_corrected(tx, old.id, wushe_store::time::now()).await?;
    crate::service::timebank::reverse_earnings(tx, old.person_id, old.id, &old.division_code, by).await?;
    Ok((marked, record_deltas(&old.division_code, &old.category, old.service_date, old.credited_minutes, -1)))
}

/// The record that supersedes `old` with the corrected times, credited by the hour rules
/// and earning as a confirmation does. Returns its id, its service day and its deltas
/// (the volunteer's year count is the caller's).
async fn write_successor(
    tx: &mut Tx,
    rules: &HourRules,
    user: &CurrentUser,
    old: &RecordRow,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    travel_minutes: i64,
) -> Result<(i64, chrono::NaiveDate, Vec<Delta>), AppError> {
    let day = local_date(started_at);
    // the old record is superseded already: its minutes no longer count against the day cap
    let same_day = records::credited_on(tx, old.person_id, day).await?;
    // the back-fill window counts from the original confirmation, not from today
    let credit = hours::credit(rules, started_at, ended_at, travel_minutes, same_day, old.confirmed_at.max(ended_at))
        .map_err(|e| AppError::Conflict(e.message()))?;
    let now = wushe_store::time::now();
    let (id, _) = records::insert(
        tx,
        &NewRecord {
            person_id: old.person_id,
            activity_id: old.activity_id,
            organization_id: old.organization_id,
            attendance_id: None,
            division_code: &old.division_code,
            category: &old.category,
            service_date: day,
            started_at,
            ended_at,
            travel_minutes: credit.travel_minutes,
            recorded_minutes: credit.recorded_minutes,
            credited_minutes: credit.credited_minutes,
            evaluation: old.evaluation.as_deref(),
            timebank: old.timebank,
            supersedes_id: Some(old.id),
            confirmed_by: user.id,
            confirmed_by_name: &user.display_name,
            confirmed_at: now,
        },
    )
    .await?;
    let earn = crate::service::timebank::EarnRules::load(tx).await?;
    let earning = crate::service::timebank::Earning {
        person_id: old.person_id,
        record_id: id,
        timebank: old.timebank,
        minutes: credit.credited_minutes,
        division_code: &old.division_code,
        by: user.id,
        at: now,
    };
    crate::service::timebank::earn(tx, &earn, &[earning]).await?;
    Ok((id, day, record_deltas(&old.division_code, &old.category, day, credit.credited_minutes, 1)))
}

// ---------- insurance ----------

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PolicyInput {
    #[serde(deserialize_with = "crate::text::line::one")]
    #[schema(max_length = 200)]
    pub insurer: String,
    #[serde(deserialize_with = "crate::text::label::one")]
    #[schema(max_length = 50)]
    pub policy_number: String,
    /// YYYY-MM-DD
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
    #[serde(default, deserialize_with = "crate::text::note::opt")]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Volunteers covered (person ids of the organization's volunteers).
    pub person_ids: Vec<i64>,
    /// Administrators only: the organization holding the policy.
    pub organization_id: Option<i64>,
}

/// Record an accident-insurance policy for the organization's volunteers.
pub async fn create_policy(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    input: PolicyInput,
) -> Result<i64, AppError> {
    let org = own_org(state, user, input.organization_id).await?;
    let insurer = input.insurer.trim();
    let number = input.policy_number.trim();
    if insurer.is_empty() || insurer.chars().count() > 100 {
        return Err(AppError::validation("保险公司", "不能为空，且不超过 100 个字符"));
    }
    if number.is_empty() || number.chars().count() > 64 {
        return Err(AppError::validation("保单号", "不能为空，且不超过 64 个字符"));
    }
    if input.ends_on < input.starts_on {
        return Err(AppError::validation("保险止期", "不能早于起期"));
    }
    if input.person_ids.is_empty() || input.person_ids.len() > 100_000 {
        return Err(AppError::validation("被保险人", "至少一人，至多 100,000 人"));
    }
    let mut ids = input.person_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = state.db.begin().await?;
    let members: std::collections::HashSet<i64> = wushe_store::registry::people::memberships(&mut tx, &ids)
        .await?
        .into_iter()
        .filter(|(_, o)| *o == org)
        .map(|(p, _)| p)
        .collect();
    if let Some(stranger) = ids.iter().find(|p| !members.contains(p)) {
        return Err(AppError::validation("被保险人", format!("人员 {stranger} 不是本组织的志愿者")));
    }
    let id = insurance::insert(
        &mut tx,
        &insurance::NewPolicy {
            organization_id: org,
            insurer,
            policy_number: number,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            note: input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()),
            person_ids: &ids,
            created_by: Some(user.id),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "create",
            entity: "insurance_policy",
            entity_id: Some(id.to_string()),
            division_code: &user.scope_division,
            organization_id: Some(org),
            summary: serde_json::json!({ "insurer": insurer, "number": number, "covered": ids.len(),
                                         "from": input.starts_on, "to": input.ends_on }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn policies(
    state: &AppState,
    user: &CurrentUser,
    organization_id: Option<i64>,
) -> Result<Vec<insurance::PolicyRow>, AppError> {
    let org = own_org(state, user, organization_id).await?;
    Ok(insurance::for_organization(&state.db, org).await?)
}

// ---------- settings ----------

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VolunteeringSettings {
    /// Credited hours: rounding unit and mode, caps per activity and per day, back-fill days.
    #[schema(value_type = Object)]
    pub hours: HourRules,
    /// Star thresholds (hours), approving level per star, minimum registration months.
    #[schema(value_type = Object)]
    pub stars: StarRules,
    /// Time bank: depositor and withdrawal ages, storage cap, gifts to relatives, expiry.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub timebank: TimebankRules,
    /// Points earned per credited hour.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub points: PointRules,
    /// Certificates: the optional in-unit publicity before issue (off by default; 7 days).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub certificates: wushe_domain::volunteering::certificate::CertificateRules,
}

pub async fn settings_view(state: &AppState) -> Result<VolunteeringSettings, AppError> {
    Ok(VolunteeringSettings {
        hours: settings::get(&state.db, HOUR_RULES_KEY).await?,
        stars: settings::get(&state.db, STAR_RULES_KEY).await?,
        timebank: settings::get(&state.db, TIMEBANK_RULES_KEY).await?,
        points: settings::get(&state.db, POINT_RULES_KEY).await?,
        certificates: settings::get(&state.db, crate::service::certificates::CERTIFICATE_RULES_KEY).await?,
    })
}

/// Change the deployment's volunteering rules (administrators); audited with before/after.
pub async fn update_settings(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    new: VolunteeringSettings,
) -> Result<VolunteeringSettings, AppError> {
    user.require(user.role == Role::Admin)?;
    new.hours.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    new.stars.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    new.timebank.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    new.points.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    new.certificates.validate().map_err(|(f, m)| AppError::validation(f, m))?;
    let before = settings_view(state).await?;
    let stars_changed = before.stars != new.stars;
    let mut tx = state.db.begin().await?;
    settings::set(&mut tx, HOUR_RULES_KEY, &new.hours, Some(user.id)).await?;
    settings::set(&mut tx, STAR_RULES_KEY, &new.stars, Some(user.id)).await?;
    settings::set(&mut tx, TIMEBANK_RULES_KEY, &new.timebank, Some(user.id)).await?;
    settings::set(&mut tx, POINT_RULES_KEY, &new.points, Some(user.id)).await?;
    settings::set(&mut tx, crate::service::certificates::CERTIFICATE_RULES_KEY, &new.certificates, Some(user.id))
        .await?;
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: "update",
            entity: "settings",
            entity_id: Some("volunteering".into()),
            division_code: "",
            organization_id: None,
            summary: serde_json::json!({ "before": before, "after": new }),
        },
    )
    .await?;
    tx.commit().await?;
    if stars_changed {
        // awards follow the new thresholds and registration period at once
        let changed = crate::service::stars::follow_rules(&state.db, &new.stars).await?;
        let mut tx = state.db.begin().await?;
        audit::append(
            &mut tx,
            &meta.actor(Some(user)),
            &Event {
                action: "follow_rules",
                entity: "star_award",
                entity_id: None,
                division_code: "",
                organization_id: None,
                summary: serde_json::json!({ "volunteers_changed": changed }),
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(new)
}

// ---------- officials' figures ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct Figure {
    pub key: String,
    pub label: String,
    pub value: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolunteeringStats {
    /// Region code prefix ("" = the whole deployment).
    pub region: String,
    pub year: i32,
    /// Confirmed hours, records, check-ins, activities published in the year.
    pub totals: Vec<Figure>,
    /// Confirmed minutes per month (January first).
    pub minutes_by_month: Vec<i64>,
    /// Confirmed minutes per service category in the year.
    pub minutes_by_category: Vec<Figure>,
    /// Confirmed minutes per direct sub-region in the year.
    pub minutes_by_subregion: Vec<Figure>,
    /// Statistics deltas not yet folded in (the figures trail the writes by this much).
    pub pending_deltas: i64,
    /// The region's name.
    pub region_name: String,
    /// Activities published in the year.
    pub activities: i64,
    /// Volunteers registered with their home in the region at the end of the year (today,
    /// for the current year).
    pub registered_volunteers: i64,
    /// Volunteers at home in the region with a confirmed service in force in the year, each
    /// counted once (summed from per-volunteer parts, never from sub-regions' counts).
    pub active_volunteers: i64,
    /// Certificates issued in the year, net of revocations.
    pub certificates: i64,
    /// Volunteers by their highest approved star (1–5) at the end of the year.
    pub stars_by_level: Vec<Figure>,
    /// Time-bank coins held now by people at home in the region, in minutes (60 = 1 coin).
    pub timebank_coin_minutes: i64,
    /// The same in coins, e.g. "12.5".
    pub timebank_coins: String,
    /// The same figures for each direct sub-region (for drilling down).
    pub subregions: Vec<SubregionStats>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubregionStats {
    pub code: String,
    pub name: String,
    pub activities: i64,
    pub registered_volunteers: i64,
    pub active_volunteers: i64,
    pub volunteer_minutes: i64,
    pub service_records: i64,
    pub certificates: i64,
    /// Volunteers holding an approved star (any level) at the end of the year.
    pub star_volunteers: i64,
    pub timebank_coin_minutes: i64,
}

/// Officials' figures for a region in their scope, read from the rollups (and, for coins,
/// from the balances of the region's people).
pub async fn region_stats(
    state: &AppState,
    user: &CurrentUser,
    region: Option<&str>,
    year: Option<i32>,
) -> Result<VolunteeringStats, AppError> {
    user.require(user.role.oversees_volunteering())?;
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => crate::service::regions::parse_code("region", r)?.prefix().to_string(),
        None => user.scope_division.clone(),
    };
    if !user.covers(&region) {
        return Err(AppError::Forbidden(format!("区划 {region} 不在您的管辖范围内")));
    }
    let this_year = chrono::Datelike::year(&crate::service::registry::today());
    let year = year.unwrap_or(this_year);
    if !(wushe_domain::stats::FIRST_YEAR..=this_year + 1).contains(&year) {
        return Err(AppError::validation(
            "year",
            format!("年份应在 {}–{} 之间", wushe_domain::stats::FIRST_YEAR, this_year + 1),
        ));
    }
    let db = &state.db;
    let y = wushe_domain::stats::year_key(year);
    let mut totals = Vec::new();
    for (key, label) in [
        (metric::VOLUNTEER_MINUTES, "确认服务时长（分钟）"),
        (metric::SERVICE_RECORDS, "服务记录（条）"),
        (metric::CHECKINS, "签到（人次）"),
        (metric::ACTIVITIES, "发布活动（个）"),
        (metric::CERTIFICATES, "出具证明（份）"),
    ] {
        totals.push(Figure { key: key.into(), label: label.into(), value: stats::value(db, key, &region, &y).await? });
    }
    let total_of = |k: &str| totals.iter().find(|f| f.key == k).map_or(0, |f| f.value);
    let (activities, certificates) = (total_of(metric::ACTIVITIES), total_of(metric::CERTIFICATES));
    let months: Vec<String> = (1..=12).map(|m| wushe_domain::stats::month_key(year, m)).collect();
    let minutes_by_month = stats::series(db, metric::VOLUNTEER_MINUTES, &region, &months).await?;
    let mut minutes_by_category = Vec::new();
    for c in ServiceCategory::ALL {
        let v = stats::value(db, &metric::minutes_in(c.as_str()), &region, &y).await?;
        minutes_by_category.push(Figure { key: c.as_str().into(), label: c.label().into(), value: v });
    }
    let child_len = wushe_domain::stats::LEVEL_LENGTHS.iter().copied().find(|l| *l > region.len());
    let mut minutes_by_subregion = Vec::new();
    if let Some(len) = child_len {
        for (code, v) in stats::children(db, metric::VOLUNTEER_MINUTES, &region, len, &y).await? {
            let label = match wushe_domain::codes::division::DivisionCode::parse(&code) {
                Ok(dc) => regions::get(db, &dc).await?.map_or(code.clone(), |d| d.name),
                Err(_) => code.clone(),
            };
            minutes_by_subregion.push(Figure { key: code, label, value: v });
        }
    }
    let mut stars_by_level = Vec::new();
    for star in 1..=5u8 {
        stars_by_level.push(Figure {
            key: star.to_string(),
            label: format!("{star}星"),
            value: stats::through_year(db, &metric::star_volunteers(star), &region, year).await?,
        });
    }
    let coins = wushe_store::volunteering::counts::coins_outstanding(db, &region).await?;
    Ok(VolunteeringStats {
        region_name: crate::service::spot_checks::region_name(state, &region).await?,
        activities,
        registered_volunteers: stats::through_year(db, metric::REGISTERED_VOLUNTEERS, &region, year).await?,
        active_volunteers: stats::value(db, metric::ACTIVE_VOLUNTEERS, &region, &y).await?,
        certificates,
        stars_by_level,
        timebank_coin_minutes: coins,
        timebank_coins: wushe_domain::timebank::rules::coins_label(coins),
        subregions: subregion_stats(state, &region, year).await?,
        region,
        year,
        totals,
        minutes_by_month,
        minutes_by_category,
        minutes_by_subregion,
        pending_deltas: stats::pending(db).await?,
    })
}

/// Every direct sub-region (from the division table, so regions without figures show as
/// zero), each figure one grouped read over the children.
async fn subregion_stats(state: &AppState, region: &str, year: i32) -> Result<Vec<SubregionStats>, AppError> {
    use std::collections::HashMap;
    let db = &state.db;
    let kids = if region.is_empty() {
        regions::children(db, None).await?
    } else {
        match wushe_domain::codes::division::DivisionCode::parse(region) {
            Ok(code) => regions::children(db, Some(&code)).await?,
            Err(_) => Vec::new(),
        }
    };
    let Some(len) = kids.first().map(|k| k.code.len()) else {
        return Ok(Vec::new());
    };
    let y = wushe_domain::stats::year_key(year);
    let map = |rows: Vec<(String, i64)>| rows.into_iter().collect::<HashMap<String, i64>>();
    let of_year = |m: &'static str| {
        let y = y.clone();
        async move { stats::children(db, m, region, len, &y).await.map(map) }
    };
    let activities = of_year(metric::ACTIVITIES).await?;
    let active = of_year(metric::ACTIVE_VOLUNTEERS).await?;
    let minutes = of_year(metric::VOLUNTEER_MINUTES).await?;
    let records = of_year(metric::SERVICE_RECORDS).await?;
    let certificates = of_year(metric::CERTIFICATES).await?;
    let registered = map(stats::children_through_year(db, metric::REGISTERED_VOLUNTEERS, region, len, year).await?);
    let mut starred: HashMap<String, i64> = HashMap::new();
    for star in 1..=5u8 {
        for (code, v) in stats::children_through_year(db, &metric::star_volunteers(star), region, len, year).await? {
            *starred.entry(code).or_default() += v;
        }
    }
    let coins = map(wushe_store::volunteering::counts::coins_outstanding_by_child(db, region, len).await?);
    let get = |m: &HashMap<String, i64>, k: &str| m.get(k).copied().unwrap_or(0);
    Ok(kids
        .into_iter()
        .map(|k| SubregionStats {
            activities: get(&activities, &k.code),
            registered_volunteers: get(&registered, &k.code),
            active_volunteers: get(&active, &k.code),
            volunteer_minutes: get(&minutes, &k.code),
            service_records: get(&records, &k.code),
            certificates: get(&certificates, &k.code),
            star_volunteers: get(&starred, &k.code),
            timebank_coin_minutes: get(&coins, &k.code),
            code: k.code,
            name: k.name,
        })
        .collect())
}

// ---------- the volunteer's record ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct YearTotal {
    pub year: String,
    pub minutes: i64,
    pub hours: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VolunteerRecord {
    pub person_id: i64,
    pub total_minutes: i64,
    pub total_hours: String,
    pub years: Vec<YearTotal>,
    /// Star level the confirmed hours earn (0–5) under the deployment's rules.
    pub star_level: u8,
    pub stars: String,
    /// Hours to the next star (absent at five stars).
    pub hours_to_next_star: Option<i64>,
    /// The highest star approved by the civil-affairs department of the approving level
    /// (0 = none); `star_level` is what the hours earn, this is what has been confirmed.
    pub approved_star_level: u8,
    pub approved_stars: String,
    /// Every star award: pending ones (reached, awaiting approval), approved (who, when),
    /// rejected (with the reason) and lapsed (after a correction).
    pub star_awards: Vec<crate::service::stars::AwardView>,
    /// One page of the services, newest first (superseded ones marked).
    #[schema(value_type = Vec<Object>)]
    pub services: Vec<RecordRow>,
    /// All services on record (in force and superseded).
    pub services_total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// A volunteer's record: their own, or one in the caller's scope (staff and officials).
pub async fn volunteer_record(
    state: &AppState,
    user: &CurrentUser,
    person_id: i64,
    page: &Page,
) -> Result<VolunteerRecord, AppError> {
    if user.person_id != Some(person_id) {
        // staff see the record only of volunteers they may see in the registry
        crate::service::people::require_role(user, wushe_domain::registry::person::PersonRole::Volunteer, false)?;
        wushe_store::registry::people::get(
            &state.db,
            &state.keys,
            &user.scope(),
            wushe_domain::registry::person::PersonRole::Volunteer,
            person_id,
        )
        .await?;
    }
    let stars: StarRules = settings::get(&state.db, STAR_RULES_KEY).await?;
    let services = records::for_person(&state.db, person_id, page).await?;
    let years = records::yearly_minutes(&state.db, person_id).await?;
    let total: i64 = years.iter().map(|y| y.1).sum();
    let registered = signups::registered_on(&state.db, person_id).await?;
    let level = stars.level(total, registered, crate::service::registry::today());
    let (approved, star_awards) = crate::service::stars::of_person(state, person_id).await?;
    Ok(VolunteerRecord {
        approved_star_level: approved,
        approved_stars: wushe_domain::volunteering::stars::stars_label(approved),
        star_awards,
        person_id,
        total_minutes: total,
        total_hours: hours::hours_label(total),
        years: years
            .into_iter()
            .map(|(y, m)| YearTotal { year: y, minutes: m, hours: hours::hours_label(m) })
            .collect(),
        star_level: level,
        stars: wushe_domain::volunteering::stars::stars_label(level),
        hours_to_next_star: stars.hours_to_next(total),
        services: services.items,
        services_total: services.total,
        page: page.page,
        per_page: page.per_page,
    })
}

// ---------- for the web UI's pages ----------

/// The caller's own sign-ups for an activity (volunteers with a registry person; empty for
/// everyone else), for the activity page.
pub async fn my_signups(
    state: &AppState,
    user: &CurrentUser,
    activity_id: i64,
) -> Result<Vec<signups::SignupRow>, AppError> {
    let Some(person) = user.person_id.filter(|_| user.role == Role::Volunteer) else {
        return Ok(Vec::new());
    };
    Ok(signups::for_person_activity(&state.db, person, activity_id).await?)
}

/// A correction request with the record it would correct and who asked (for review lists).
#[derive(Debug, Serialize)]
pub struct CorrectionView {
    pub correction: records::CorrectionRow,
    pub status_label: &'static str,
    /// 更正时间 or 作废（未实际服务）.
    pub kind_label: &'static str,
    /// The record the request corrects.
    pub record: RecordRow,
    pub person_name: String,
    pub volunteer_number: String,
}

/// Correction requests, pending first: to the caller's organization (staff; administrators
/// see all), or the volunteer's own.
pub async fn corrections_list(
    state: &AppState,
    user: &CurrentUser,
    limit: i64,
) -> Result<Vec<CorrectionView>, AppError> {
    let (org, person) = if user.role.runs_activities() {
        (user.organization_id, None)
    } else if user.role == Role::Volunteer && user.person_id.is_some() {
        (None, user.person_id)
    } else {
        return Err(AppError::Forbidden("只有举办活动的组织和志愿者本人可以查看时长更正申请".into()));
    };
    let rows = records::corrections(&state.db, org, person, limit.clamp(1, 500)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        let record = records::get(&state.db, c.record_id).await?;
        let (person_name, volunteer_number) = (c.person_name.clone(), c.volunteer_number.clone());
        let status_label = match c.status.as_str() {
            "pending" => "待审核",
            "approved" => "已通过",
            "rejected" => "未通过",
            _ => "未知",
        };
        let kind_label = if c.void { "作废（未实际服务）" } else { "更正时间" };
        out.push(CorrectionView { correction: c, status_label, kind_label, record, person_name, volunteer_number });
    }
    Ok(out)
}
