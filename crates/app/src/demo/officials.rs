//! Officials' part of the demo: long-serving volunteers of 武昌区 whose confirmed hours reach
//! star thresholds (through the same confirmation writes as the API, which create the
//! awards), some stars approved by the county official and some left pending — a 3-star for
//! the city official — and one rejected; a spot-check of 武昌区's records with its findings,
//! completed and published, whose untrue and doubtful records wait on the organization's
//! correction page; and a second spot-check still in progress.

use anyhow::Context;
use chrono::{Duration, NaiveDate, Utc};
use wushe_domain::accounts::Scope;
use wushe_domain::registry::person::PersonRole;
use wushe_domain::volunteering::activity::ServiceCategory;
use wushe_domain::volunteering::{HourRules, StarRules};
use wushe_store::accounts::audit::Actor;
use wushe_store::accounts::users;
use wushe_store::registry::people::{self, PeopleFilter};
use wushe_store::volunteering::attendance::{self as attendance_store, ClosedAttendance};
use wushe_store::volunteering::{activities, signups, stars as star_store};
use wushe_web::auth::{CurrentUser, RequestMeta};
use wushe_web::service::spot_checks::{self as checks, FindingInput, SpotCheckInput};
use wushe_web::service::stars;
use wushe_web::service::volunteering::{self as svc, ActivityInput, Confirmer, SlotInput};
use wushe_web::AppState;

use crate::synth::Synth;

pub struct Seeded {
    pub approved: usize,
    pub pending: usize,
    pub records: usize,
}

async fn account(state: &AppState, username: &str) -> anyhow::Result<CurrentUser> {
    let row = users::find_for_login(&state.db, username).await?.with_context(|| format!("演示账户 {username} 缺失"))?;
    Ok(CurrentUser::from_row(row, false))
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Weekly sessions of one long-running activity, 09:00–16:30 Beijing time on Saturdays going
/// back from last week; each credits 7.5 hours under the default hour rules.
fn sessions(today: NaiveDate, n: usize) -> Vec<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
    let last_saturday = today - Duration::days(i64::from(chrono::Datelike::weekday(&today).num_days_from_sunday()) + 1);
    (0..n)
        .rev()
        .map(|k| {
            let day = last_saturday - Duration::weeks(k as i64);
            let start = super::volunteering::local(day, 9);
            (start, start + Duration::minutes(450))
        })
        .collect()
}

pub async fn seed(state: &AppState, org_id: i64, synth: &mut Synth) -> anyhow::Result<Seeded> {
    let today = wushe_web::service::registry::today();
    let admin = account(state, "admin").await?;
    let county = account(state, "county").await?;
    let staff = account(state, "org").await?;
    let demo_person = account(state, "volunteer").await?.person_id.context("演示志愿者账号没有关联志愿者")?;

    // five long-serving volunteers of 武昌区: the demo volunteer first
    let f = PeopleFilter { region: Some("420106".into()), ..Default::default() };
    let pool = people::select_all(&state.db, &state.keys, &Scope::national(), PersonRole::Volunteer, &f, 60).await?;
    let mut chosen = vec![demo_person];
    for p in pool.iter().map(|r| r.id) {
        if chosen.len() == 5 {
            break;
        }
        if !chosen.contains(&p) && synth.range(0, 3) == 0 {
            chosen.push(p);
        }
    }
    anyhow::ensure!(chosen.len() == 5, "武昌区的志愿者不足 5 名");
    // sessions each: 315 h (stars 1–2), 615 h (1–3), 105 h, 120 h, 112.5 h (1 each)
    let plan: Vec<(i64, usize)> = chosen.iter().copied().zip([42usize, 82, 14, 16, 15]).collect();
    let slots = sessions(today, 82);
    let input = ActivityInput {
        title: "社区养老服务驿站常驻志愿服务".into(),
        content: "每周六在积玉桥社区养老服务驿站值守：陪伴老人、协助助餐、组织文体活动".into(),
        category: ServiceCategory::Elderly.as_str().into(),
        division_code: "420106001001".into(),
        address: "武昌区积玉桥街道社区养老服务驿站".into(),
        latitude: Some(30.5573),
        longitude: Some(114.3089),
        checkin_radius_m: None,
        required_skills: vec![],
        min_age: Some(18),
        risky: false,
        // service for elders: hours also deposit time coins
        timebank: true,
        auto_approve: true,
        recruit_until: None,
        slots: slots.iter().map(|(s, e)| SlotInput { starts_at: *s, ends_at: *e, capacity: 10 }).collect(),
        publish: true,
        organization_id: Some(org_id),
    };
    let activity_id = svc::create_activity(state, &admin, &RequestMeta::default(), input).await.map_err(err)?;
    let slot_rows = activities::slots(&state.db, activity_id).await?;
    let rules = HourRules::default();
    let earn = wushe_web::service::timebank::EarnRules::default();
    let star_rules = StarRules::default();
    let actor = Actor { user_id: Some(staff.id), username: Some(staff.username.clone()), ..Default::default() };
    let mut records = 0;
    let mut tx = state.db.begin().await?;
    for (k, slot) in slot_rows.iter().enumerate() {
        // the most devoted serve every week; the others joined later
        let who: Vec<i64> = plan.iter().filter(|(_, n)| k + n >= slot_rows.len()).map(|(p, _)| *p).collect();
        if who.is_empty() {
            continue;
        }
        let signed =
            signups::insert_approved_bulk(&mut tx, slot.id, activity_id, &who, slot.starts_at - Duration::days(3))
                .await?;
        let rows: Vec<ClosedAttendance> = signed
            .iter()
            .map(|(p, s)| ClosedAttendance {
                signup_id: *s,
                slot_id: slot.id,
                activity_id,
                person_id: *p,
                checked_in_at: slot.starts_at,
                checked_out_at: slot.ends_at,
            })
            .collect();
        let ids = attendance_store::insert_closed_bulk(&mut tx, &rows).await?;
        let at = slot.ends_at + Duration::hours(20);
        let by = Confirmer { user_id: staff.id, name: &staff.display_name, at, actor: &actor };
        records +=
            super::confirm_closed(&mut tx, activity_id, &ids, &by, &rules, &earn, &star_rules, || "优秀").await?;
    }
    tx.commit().await?;

    // the county official decides on the stars of its level: approves most, rejects one
    let (mut approved, mut pending) = (0, 0);
    let meta = RequestMeta::default();
    for (i, (person, _)) in plan.iter().enumerate() {
        for award in star_store::for_person(&state.db, *person).await? {
            let decision = match (i, award.star) {
                (0, 1) | (1, 1) | (1, 2) | (3, 1) => Some((true, Some("服务时长经核实，予以认定".to_string()))),
                (4, 1) => Some((false, Some("部分服务时长尚在核实，待核实后重新审批".to_string()))),
                _ => None,
            };
            match decision {
                Some((approve, note)) => {
                    stars::decide(state, &county, &meta, award.id, approve, note).await.map_err(err)?;
                    if approve {
                        approved += 1;
                    }
                }
                None => pending += 1,
            }
        }
    }

    // a spot-check of 武昌区's last year, completed and published …
    let input = SpotCheckInput {
        region: Some("420106".into()),
        title: None,
        period_from: today - Duration::days(365),
        period_to: today - Duration::days(1),
        sample_size: Some(12),
        sample_percent: None,
        seed: Some(format!("wuchang-{}", today.format("%Y%m%d"))),
    };
    let id = checks::create(state, &county, &meta, input).await.map_err(err)?;
    let items = checks::detail(state, &county, id).await.map_err(err)?.items;
    // the problems are found in the demo organization's records, so its staff see them
    let ours: Vec<usize> = (0..items.len()).filter(|k| items[*k].organization_id == org_id).collect();
    let (bad, unsure) = match ours.as_slice() {
        [a, b, ..] => (*a, *b),
        _ => (0, 1),
    };
    let (mut untrue, mut doubtful) = (0, 0);
    for (k, item) in items.iter().enumerate() {
        let (finding, note) = if k == bad {
            ("untrue", Some("电话回访服务对象，当天未见该志愿者到场服务"))
        } else if k == unsure {
            ("doubtful", Some("签退时间晚于活动结束近两小时，组织未能提供说明"))
        } else {
            ("genuine", None)
        };
        if finding == "untrue" {
            untrue += 1;
        }
        if finding == "doubtful" {
            doubtful += 1;
        }
        let f = FindingInput { finding: finding.into(), note: note.map(str::to_string) };
        checks::set_finding(state, &county, &meta, id, item.record_id, f).await.map_err(err)?;
    }
    let conclusion = format!(
        "抽查武昌区近一年已确认的志愿服务记录 {} 条：属实 {} 条，不属实 {untrue} 条，存疑 {doubtful} 条。\
         已通知相关组织核实并通过更正程序处理，处理结果将在下次抽查中复核。",
        items.len(),
        items.len() - untrue - doubtful
    );
    checks::complete(state, &county, &meta, id, &conclusion).await.map_err(err)?;
    checks::publish(state, &county, &meta, id).await.map_err(err)?;
    // … and one of 积玉桥街道 still in progress
    let input = SpotCheckInput {
        region: Some("420106001".into()),
        title: Some("积玉桥街道本季度志愿服务记录抽查".into()),
        period_from: today - Duration::days(90),
        period_to: today - Duration::days(1),
        sample_size: None,
        sample_percent: Some(5),
        seed: None,
    };
    checks::create(state, &county, &meta, input).await.map_err(err)?;
    Ok(Seeded { approved, pending, records })
}
