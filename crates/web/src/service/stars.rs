//! Star levels (星级志愿者): awards follow a volunteer's confirmed hours (created when a
//! threshold is reached, lapsed when a correction takes the hours back), and officials at
//! the approving level the settings name approve or reject them for volunteers whose home
//! region is in their scope.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wushe_domain::stats::metric;
use wushe_domain::volunteering::stars::{
    self as rules, stars_label, ApprovingLevel, AwardStatus, DecisionRefused, StarChange,
};
use wushe_domain::volunteering::{hours, StarRules};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::stats::{self, Delta};
use wushe_store::volunteering::counts;
use wushe_store::volunteering::stars::{self as store, AwardRow, QueueFilter, QueueRow};
use wushe_store::{settings, Db, Paged, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::service::volunteering::STAR_RULES_KEY;
use crate::state::AppState;

/// What changed in a volunteer's awards (for the audit entry of the write that caused it).
#[derive(Debug, Default, Serialize)]
pub struct Changed {
    pub created: Vec<u8>,
    pub lapsed: Vec<u8>,
}

impl Changed {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.lapsed.is_empty()
    }
}

/// Bring a volunteer's awards in line with their confirmed hours, in the transaction that
/// changed them. `hours_only_rose` (a new confirmation) skips volunteers below the first
/// threshold, who have nothing to create or lapse.
pub async fn follow_hours(
    tx: &mut Tx,
    rules: &StarRules,
    person_id: i64,
    hours_only_rose: bool,
) -> Result<Changed, AppError> {
    Ok(follow_hours_many(tx, rules, &[person_id], hours_only_rose).await?.remove(&person_id).unwrap_or_default())
}

/// `follow_hours` for several volunteers, with one read of each kind for all of them.
/// Returns what changed for those whose awards changed.
pub async fn follow_hours_many(
    tx: &mut Tx,
    rules: &StarRules,
    people: &[i64],
    hours_only_rose: bool,
) -> Result<std::collections::HashMap<i64, Changed>, AppError> {
    let mut out = std::collections::HashMap::new();
    let totals = store::total_minutes_many(tx, people).await?;
    let total = |p: &i64| totals.get(p).copied().unwrap_or(0);
    let mut people: Vec<i64> =
        people.iter().copied().filter(|p| !(hours_only_rose && rules.reached(total(p)) == 0)).collect();
    people.sort_unstable();
    people.dedup();
    if people.is_empty() {
        return Ok(out);
    }
    let mut awards = store::for_people_tx(tx, &people).await?;
    people.retain(|p| awards.contains_key(p) || rules.reached(total(p)) > 0);
    if people.is_empty() {
        return Ok(out);
    }
    let enrolments = counts::enrolments_tx(tx, &people).await?;
    let today = crate::service::registry::today();
    for person_id in people {
        let Some(enrolment) = enrolments.get(&person_id) else { continue };
        let facts: Vec<rules::Award> =
            awards.remove(&person_id).unwrap_or_default().iter().map(AwardRow::fact).collect();
        let changes = rules::reconcile(rules, total(&person_id), Some(enrolment.registered_on), today, &facts);
        if changes.is_empty() {
            continue;
        }
        let held_before = rules::held_star(&facts);
        let mut lapsed_ids = Vec::new();
        let mut changed = Changed::default();
        for c in &changes {
            match c {
                StarChange::Create { star, threshold_minutes, eligible_on } => {
                    if store::insert(tx, person_id, *star, *threshold_minutes, today, *eligible_on).await?.is_some() {
                        changed.created.push(*star);
                    }
                }
                StarChange::Lapse { id, star, .. } => {
                    store::lapse(tx, *id).await?;
                    lapsed_ids.push(*id);
                    changed.lapsed.push(*star);
                }
                StarChange::Reschedule { id, eligible_on } => store::reschedule(tx, *id, *eligible_on).await?,
            }
        }
        let after: Vec<rules::Award> = facts.into_iter().filter(|a| !lapsed_ids.contains(&a.id)).collect();
        held_moved(tx, &enrolment.division, held_before, rules::held_star(&after), today).await?;
        out.insert(person_id, changed);
    }
    Ok(out)
}

/// The star-holder figures when a volunteer's highest approved star changes.
async fn held_moved(tx: &mut Tx, division: &str, before: u8, after: u8, day: NaiveDate) -> Result<(), AppError> {
    if before == after {
        return Ok(());
    }
    let mut d = Vec::new();
    if before > 0 {
        d.push(Delta::new(metric::star_volunteers(before), division, day, -1));
    }
    if after > 0 {
        d.push(Delta::new(metric::star_volunteers(after), division, day, 1));
    }
    stats::append(tx, &d).await?;
    Ok(())
}

/// Set by migration 0010 when hours were confirmed before star awards existed.
pub const FOLLOW_RULES_FLAG: &str = "stars_reconcile";

/// Every volunteer with an award or enough hours, after the star rules changed (or for
/// hours confirmed before awards existed). Returns how many volunteers' awards changed.
pub async fn follow_rules(db: &Db, rules: &StarRules) -> Result<usize, AppError> {
    let first = rules.threshold_minutes(1).unwrap_or(i64::MAX);
    let mut changed = 0;
    for chunk in store::candidates(db, first).await?.chunks(500) {
        let mut tx = db.begin().await?;
        for (person, _) in chunk {
            if !follow_hours(&mut tx, rules, *person, false).await?.is_empty() {
                changed += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(changed)
}

/// Start-up: create the awards of hours confirmed before awards existed, once (the flag is
/// cleared last, so an interrupted run starts again). Returns the volunteers changed.
pub async fn follow_rules_if_flagged(db: &Db) -> Result<Option<usize>, AppError> {
    if wushe_store::meta::get(db, FOLLOW_RULES_FLAG).await?.is_none() {
        return Ok(None);
    }
    let rules: StarRules = settings::get(db, STAR_RULES_KEY).await?;
    let n = follow_rules(db, &rules).await?;
    let mut tx = db.begin().await?;
    wushe_store::meta::delete(&mut tx, FOLLOW_RULES_FLAG).await?;
    tx.commit().await?;
    Ok(Some(n))
}

// ---------- views ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct AwardView {
    pub id: i64,
    pub person_id: i64,
    pub star: u8,
    /// "★★★☆☆"
    pub stars: String,
    /// pending | approved | rejected | lapsed
    pub status: String,
    pub status_label: String,
    /// county | city | province: who approves this star under the current settings.
    pub approving_level: String,
    pub approving_level_label: String,
    /// Hours the star needs (as created).
    pub threshold_hours: i64,
    pub reached_on: NaiveDate,
    /// First day it may be approved (the minimum registration period).
    pub eligible_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Approval note or the reason for a rejection.
    pub decision_note: Option<String>,
    pub lapsed_at: Option<DateTime<Utc>>,
}

fn award_view(rules: &StarRules, a: &AwardRow) -> AwardView {
    let star = u8::try_from(a.star).unwrap_or(0);
    let level = rules.approving_level(star).unwrap_or(ApprovingLevel::Province);
    AwardView {
        id: a.id,
        person_id: a.person_id,
        star,
        stars: stars_label(star),
        status: a.status.clone(),
        status_label: a.status().label().into(),
        approving_level: level.as_str().into(),
        approving_level_label: level.label().into(),
        threshold_hours: a.threshold_minutes / 60,
        reached_on: a.reached_on,
        eligible_on: a.eligible_on,
        created_at: a.created_at,
        decided_by_name: a.decided_by_name.clone(),
        decided_at: a.decided_at,
        decision_note: a.decision_note.clone(),
        lapsed_at: a.lapsed_at,
    }
}

/// A volunteer's awards for their record (the caller has checked who may see it).
pub async fn of_person(state: &AppState, person_id: i64) -> Result<(u8, Vec<AwardView>), AppError> {
    let rules: StarRules = settings::get(&state.db, STAR_RULES_KEY).await?;
    let rows = store::for_person(&state.db, person_id).await?;
    let facts: Vec<rules::Award> = rows.iter().map(AwardRow::fact).collect();
    Ok((rules::held_star(&facts), rows.iter().map(|a| award_view(&rules, a)).collect()))
}

/// An award in an official's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    #[serde(flatten)]
    pub award: AwardView,
    pub person_name: String,
    pub volunteer_number: String,
    /// Home region (12 digits).
    pub division_code: String,
    pub registered_on: NaiveDate,
    /// Confirmed hours in force now, e.g. "123.5".
    pub total_hours: String,
    /// Whether the caller may approve it now (their level, scope, the registration period).
    pub can_approve: bool,
    /// Whether the caller may reject it.
    pub can_reject: bool,
    /// Why not, when the caller's level or the date stands in the way.
    pub blocked_reason: Option<String>,
}

fn queue_item(user: &CurrentUser, rules: &StarRules, q: QueueRow, today: NaiveDate) -> QueueItem {
    let row = AwardRow {
        id: q.id,
        person_id: q.person_id,
        star: q.star,
        status: q.status.clone(),
        threshold_minutes: q.threshold_minutes,
        reached_on: q.reached_on,
        eligible_on: q.eligible_on,
        created_at: q.created_at,
        decided_by_name: q.decided_by_name.clone(),
        decided_at: q.decided_at,
        decision_note: q.decision_note.clone(),
        total_at_decision: None,
        lapsed_at: q.lapsed_at,
    };
    let check = |approve: bool| {
        if !user.role.approves_stars() {
            return Err("只有民政干部可以审批星级".to_string());
        }
        rules::check_decision(
            rules,
            row.fact().star,
            row.status(),
            &user.scope_division,
            &q.division_code,
            approve,
            q.eligible_on,
            q.total_minutes,
            today,
        )
        .map_err(|e| e.to_string())
    };
    let (approve, reject) = (check(true), check(false));
    let blocked_reason = match (&approve, row.status()) {
        (Err(e), AwardStatus::Pending) => Some(e.clone()),
        _ => None,
    };
    QueueItem {
        award: award_view(rules, &row),
        person_name: q.person_name,
        volunteer_number: q.volunteer_number,
        division_code: q.division_code,
        registered_on: q.registered_on,
        total_hours: hours::hours_label(q.total_minutes),
        can_approve: approve.is_ok(),
        can_reject: reject.is_ok(),
        blocked_reason,
    }
}

#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// pending (default) | approved | rejected | lapsed | all
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub status: Option<String>,
    /// One star (1–5); default: the stars your level approves (all stars for administrators
    /// and officials whose level approves none).
    #[param(minimum = 1, maximum = 5)]
    pub star: Option<u8>,
    /// Also list stars other levels approve (read only).
    pub all_levels: Option<bool>,
    /// A sub-region of your scope.
    #[serde(default, deserialize_with = "crate::text::label::opt")]
    #[param(max_length = 50)]
    pub region: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub total: i64,
    pub total_capped: bool,
    pub page: u32,
    pub per_page: u32,
    /// The caller's approving level (absent: approves no star).
    pub level: Option<String>,
    pub level_label: Option<String>,
    /// The stars the caller's level approves under the settings.
    pub approves_stars: Vec<u8>,
}

fn require_supervisor(user: &CurrentUser) -> Result<(), AppError> {
    if user.role.supervises_volunteering() {
        Ok(())
    } else {
        Err(AppError::Forbidden("只有民政部门和系统管理员可以查看星级审批".into()))
    }
}

/// The awards of volunteers whose home region is in the caller's scope.
pub async fn queue(state: &AppState, user: &CurrentUser, p: &QueueParams) -> Result<QueuePage, AppError> {
    require_supervisor(user)?;
    let rules: StarRules = settings::get(&state.db, STAR_RULES_KEY).await?;
    let level = if user.role.approves_stars() { ApprovingLevel::of_scope(&user.scope_division) } else { None };
    let mine = level.map(|l| rules.stars_approved_by(l)).unwrap_or_default();
    let statuses =
        match p.status.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("pending") {
            "all" => Vec::new(),
            s => vec![AwardStatus::parse(s)
                .ok_or_else(|| AppError::validation("status", format!("未知的审批状态「{s}」")))?],
        };
    let stars = match p.star {
        Some(s) if (1..=5).contains(&s) => vec![s],
        Some(_) => return Err(AppError::validation("star", "星级应为 1–5")),
        None if !p.all_levels.unwrap_or(false) && !mine.is_empty() => mine.clone(),
        None => Vec::new(),
    };
    let region = match p.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => {
            let code = crate::service::regions::parse_code("region", r)?;
            if !user.covers(code.prefix()) {
                return Err(AppError::Forbidden(format!("区划 {} 不在您的管辖范围内", code.prefix())));
            }
            Some(code.prefix().to_string())
        }
        None => None,
    };
    let page = crate::service::page(p.page, p.per_page)?;
    let res: Paged<QueueRow> =
        store::queue(&state.db, &user.scope_division, &QueueFilter { statuses, stars, region }, &page).await?;
    let today = crate::service::registry::today();
    Ok(QueuePage {
        total: res.total,
        total_capped: res.capped,
        page: page.page,
        per_page: page.per_page,
        items: res.items.into_iter().map(|q| queue_item(user, &rules, q, today)).collect(),
        level: level.map(|l| l.as_str().to_string()),
        level_label: level.map(|l| l.label().to_string()),
        approves_stars: mine,
    })
}

/// Approve or reject a pending award (an official of the approving level whose scope covers
/// the volunteer's home region); who and when are recorded and audited.
pub async fn decide(
    state: &AppState,
    user: &CurrentUser,
    meta: &RequestMeta,
    award_id: i64,
    approve: bool,
    note: Option<String>,
) -> Result<AwardView, AppError> {
    require_supervisor(user)?;
    if !user.role.approves_stars() {
        return Err(AppError::Forbidden("只有民政干部可以审批星级".into()));
    }
    let note = note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(AppError::validation("审批意见", "不能超过 200 个字符"));
    }
    if !approve && note.as_ref().is_none_or(|n| n.chars().count() < 2) {
        return Err(AppError::validation("驳回理由", "驳回时须填写理由（至少 2 个字）"));
    }
    let rules: StarRules = settings::get(&state.db, STAR_RULES_KEY).await?;
    let today = crate::service::registry::today();
    let mut tx = state.db.begin().await?;
    let q = store::get_tx(&mut tx, award_id).await?;
    if !user.scope().covers_division(&q.division_code) {
        return Err(AppError::NotFound("星级记录不存在或不在您的管辖范围内".into()));
    }
    let star = u8::try_from(q.star).unwrap_or(0);
    let status = AwardStatus::parse(&q.status).unwrap_or(AwardStatus::Lapsed);
    rules::check_decision(
        &rules,
        star,
        status,
        &user.scope_division,
        &q.division_code,
        approve,
        q.eligible_on,
        q.total_minutes,
        today,
    )
    .map_err(|e| match e {
        DecisionRefused::WrongLevel { .. } | DecisionRefused::OutsideScope => AppError::Forbidden(e.to_string()),
        _ => AppError::Conflict(e.to_string()),
    })?;
    let held_before = counts::held_star_tx(&mut tx, q.person_id).await?;
    store::decide(
        &mut tx,
        award_id,
        &store::Decision {
            approve,
            by: user.id,
            by_name: &user.display_name,
            note: note.as_deref(),
            total_minutes: q.total_minutes,
        },
    )
    .await?;
    if approve {
        held_moved(&mut tx, &q.division_code, held_before, held_before.max(star), today).await?;
    }
    audit::append(
        &mut tx,
        &meta.actor(Some(user)),
        &Event {
            action: if approve { "approve" } else { "reject" },
            entity: "star_award",
            entity_id: Some(award_id.to_string()),
            division_code: &q.division_code,
            organization_id: None,
            summary: serde_json::json!({ "person": q.person_id, "star": star, "note": note,
                                         "total_minutes": q.total_minutes }),
        },
    )
    .await?;
    tx.commit().await?;
    let row = store::for_person(&state.db, q.person_id)
        .await?
        .into_iter()
        .find(|a| a.id == award_id)
        .ok_or_else(|| AppError::internal("star award vanished"))?;
    Ok(award_view(&rules, &row))
}
