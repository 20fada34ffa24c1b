//! Corrections of service records: requests by the volunteer or the recording organization,
//! their review (a successor record, or a void), and the review lists.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::accounts::Role;
use wushe_domain::time::local_date;
use wushe_domain::volunteering::{hours, HourRules, StarRules};
use wushe_store::accounts::audit::{self, Event};
use wushe_store::stats::{self, Delta};
use wushe_store::volunteering::counts;
use wushe_store::volunteering::records::{self, NewRecord, RecordRow};
use wushe_store::{settings, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::{record_deltas, HOUR_RULES_KEY, STAR_RULES_KEY};

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
