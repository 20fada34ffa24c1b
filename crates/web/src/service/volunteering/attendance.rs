//! Check-in and check-out: check-ins are merged by the group-commit writer ([`CheckIns`]),
//! check-outs run through it one by one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wushe_domain::accounts::Role;
use wushe_domain::stats::metric;
use wushe_domain::time::local_date;
use wushe_domain::volunteering::activity::ActivityStatus;
use wushe_domain::volunteering::attendance::{self as att, GeoPoint};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::stats::{self, Delta};
use wushe_store::volunteering::activities::{self, ActivityRow};
use wushe_store::volunteering::attendance::{self as attendance_store, CheckIn};
use wushe_store::volunteering::{insurance, signups};
use wushe_store::{StoreError, Tx};

use crate::auth::{CurrentUser, RequestMeta};
use crate::error::AppError;
use crate::state::AppState;

use super::{e6, volunteer_person};

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
