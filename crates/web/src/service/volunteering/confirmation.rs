//! Hour confirmation through the group-commit writer ([`Confirmations`]), and the writes
//! of confirmed records that the HTTP path, the demo and the benchmark share.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::accounts::Role;
use wushe_domain::time::local_date;
use wushe_domain::volunteering::{hours, HourRules, StarRules};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::stats::{self, Delta};
use wushe_store::volunteering::activities;
use wushe_store::volunteering::attendance as attendance_store;
use wushe_store::volunteering::counts;
use wushe_store::volunteering::records::{self, NewRecord};
use wushe_store::{settings, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::{record_deltas, HOUR_RULES_KEY, STAR_RULES_KEY};

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
