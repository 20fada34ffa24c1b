//! A year of volunteer service in the demo province: every county's first active
//! organization runs a monthly activity; its county's volunteers sign up, attend and have
//! their hours confirmed — through the same activity service and confirmation writes as the
//! API (history is written as it would have been confirmed at the time). The `org`
//! account's organization also has upcoming activities to sign up for and one running now,
//! which the `volunteer` account has signed up for, so QR check-in can be tried at once.
//! A few organizations have issued service certificates (the demo organization also has a
//! revoked one and a request waiting for review), so officials' figures count them.

use std::collections::HashMap;

use anyhow::Context;
use chrono::{Duration, NaiveDate, Utc};
use wushe_domain::accounts::Scope;
use wushe_domain::registry::person::PersonRole;
use wushe_domain::volunteering::activity::ServiceCategory;
use wushe_domain::volunteering::HourRules;
use wushe_store::accounts::audit::Actor;
use wushe_store::registry::people::{self, PeopleFilter};
use wushe_store::volunteering::activities;
use wushe_store::volunteering::attendance::{self as attendance_store, ClosedAttendance};
use wushe_store::volunteering::signups;
use wushe_web::auth::CurrentUser;
use wushe_web::service::volunteering::{self as svc, ActivityInput, Confirmer, SlotInput};
use wushe_web::AppState;

use crate::progress;
use crate::synth::Synth;

const TITLES: &[(&str, ServiceCategory, &str)] = &[
    ("社区助老陪伴", ServiceCategory::Elderly, "上门探访独居老人，陪伴聊天、读报，检查水电燃气安全"),
    ("四点半课堂", ServiceCategory::Children, "为双职工家庭孩子提供课后作业辅导与阅读陪伴"),
    ("文明交通劝导", ServiceCategory::Safety, "在路口协助交警开展文明出行劝导"),
    ("社区环境清洁日", ServiceCategory::Environment, "清理楼道堆物、绿化带垃圾，宣传垃圾分类"),
    ("义诊进社区", ServiceCategory::Health, "协助医护人员为居民量血压、测血糖，登记健康档案"),
    ("法律咨询服务", ServiceCategory::Legal, "律师志愿者解答婚姻家庭、劳动纠纷等法律问题"),
    ("防汛应急巡查", ServiceCategory::Emergency, "汛期沿江堤段巡查，发现险情及时报告"),
    ("困难家庭帮扶走访", ServiceCategory::Poverty, "走访低保、特困家庭，了解需求并登记"),
    ("全民健身指导", ServiceCategory::Culture, "在社区广场指导居民科学健身"),
    ("反诈宣传", ServiceCategory::Science, "向老年人讲解常见电信诈骗手法"),
];

/// Beijing local time on `day` at `hour`, as UTC.
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub(super) fn local(day: NaiveDate, hour: u32) -> chrono::DateTime<Utc> {
    wushe_domain::time::from_local(day.and_hms_opt(hour, 0, 0).expect("hour"))
}

pub struct Seeded {
    pub activities: usize,
    pub records: usize,
    /// The registry person behind the `volunteer` account.
    pub demo_person: i64,
    pub certificates: usize,
}

/// `orgs` are (county, organization) pairs, the demo organization first.
pub async fn seed(
    state: &AppState,
    admin: &CurrentUser,
    org_staff: (i64, &str),
    demo_volunteer_user: i64,
    orgs: &[(String, i64)],
    synth: &mut Synth,
) -> anyhow::Result<Seeded> {
    let today = wushe_web::service::registry::today();
    let rules = HourRules::default();
    let earn = wushe_web::service::timebank::EarnRules::default();
    let stars = wushe_domain::volunteering::StarRules::default();
    let actor = Actor { user_id: Some(admin.id), username: Some(admin.username.clone()), ..Default::default() };
    let pb = progress::bar(orgs.len() as u64, "生成一年的志愿服务记录");
    let (mut n_activities, mut n_records) = (0, 0);
    let mut volunteers_of: HashMap<String, Vec<i64>> = HashMap::new();
    let mut demo_person = None;
    // who served with each organization (certificates come from these)
    let mut served_for: HashMap<i64, Vec<i64>> = HashMap::new();
    for (i, (county, org)) in orgs.iter().enumerate() {
        if !volunteers_of.contains_key(county) {
            let f = PeopleFilter { region: Some(county.clone()), ..Default::default() };
            let rows =
                people::select_all(&state.db, &state.keys, &Scope::national(), PersonRole::Volunteer, &f, 80).await?;
            volunteers_of.insert(county.clone(), rows.into_iter().map(|r| r.id).collect());
        }
        let mut pool = volunteers_of[county].clone();
        if pool.len() < 5 {
            pb.inc(1);
            continue;
        }
        let is_demo = i == 0;
        if is_demo {
            // the demo volunteer account: a volunteer of 积玉桥街道 who serves with the demo organization
            let f = PeopleFilter { region: Some("420106001".into()), ..Default::default() };
            let p = people::select_all(&state.db, &state.keys, &Scope::national(), PersonRole::Volunteer, &f, 1)
                .await?
                .first()
                .map(|r| r.id)
                .context("积玉桥街道没有志愿者")?;
            let mut tx = state.db.begin().await?;
            wushe_store::accounts::users::link_person(&mut tx, demo_volunteer_user, p).await?;
            let joined = people::memberships(&mut tx, &[p]).await?;
            if !joined.iter().any(|(_, o)| o == org) {
                people::join_organizations(&mut tx, &[(p, *org, today - Duration::days(400))]).await?;
            }
            tx.commit().await?;
            pool.retain(|x| *x != p);
            pool.insert(0, p);
            demo_person = Some(p);
        }
        let (confirmer_id, confirmer_name) = if is_demo { org_staff } else { (admin.id, "组织管理员") };
        // one activity a month over the past year
        for month_back in (1..=12i64).rev() {
            let day = today - Duration::days(month_back * 30 - synth.range(0, 20) as i64);
            let (title, category, content) = *synth.pick(TITLES);
            let hour = *synth.pick(&[9u32, 14]);
            let starts = local(day, hour);
            let ends = starts + Duration::hours(synth.range(2, 5) as i64);
            let capacity = synth.range(8, 21) as i64;
            let id =
                create(state, admin, *org, county, title, category, content, starts, ends, capacity, false).await?;
            n_activities += 1;
            let mut chosen: Vec<i64> = Vec::new();
            if is_demo {
                chosen.push(pool[0]);
            }
            while chosen.len() < capacity.min(pool.len() as i64) as usize {
                let p = *synth.pick(&pool);
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            let slot = activities::slots(&state.db, id).await?.first().context("时段")?.id;
            let mut tx = state.db.begin().await?;
            let signed = signups::insert_approved_bulk(&mut tx, slot, id, &chosen, starts - Duration::days(5)).await?;
            let rows: Vec<ClosedAttendance> = signed
                .iter()
                .map(|(p, s)| {
                    let late = synth.range(0, 15) as i64;
                    let early = synth.range(0, 20) as i64;
                    ClosedAttendance {
                        signup_id: *s,
                        slot_id: slot,
                        activity_id: id,
                        person_id: *p,
                        checked_in_at: starts + Duration::minutes(late),
                        checked_out_at: ends - Duration::minutes(early),
                    }
                })
                .collect();
            let att_ids = attendance_store::insert_closed_bulk(&mut tx, &rows).await?;
            // the last month's services of the demo organization wait for confirmation
            if !(is_demo && month_back == 1) {
                let at = ends + Duration::hours(20);
                let by = Confirmer { user_id: confirmer_id, name: confirmer_name, at, actor: &actor };
                let served = served_for.entry(*org).or_default();
                for r in &rows {
                    if !served.contains(&r.person_id) {
                        served.push(r.person_id);
                    }
                }
                let evaluation = || *synth.pick(&["优秀", "良好", "良好", "合格"]);
                n_records +=
                    super::confirm_closed(&mut tx, id, &att_ids, &by, &rules, &earn, &stars, evaluation).await?;
            }
            tx.commit().await?;
        }
        if is_demo {
            // upcoming activities to sign up for, and one running now
            for (k, (title, category, content)) in TITLES.iter().take(3).enumerate() {
                let starts = local(today + Duration::days(7 * (k as i64 + 1)), 9);
                create(
                    state,
                    admin,
                    *org,
                    county,
                    title,
                    *category,
                    content,
                    starts,
                    starts + Duration::hours(3),
                    20,
                    false,
                )
                .await?;
                n_activities += 1;
            }
            let now = Utc::now();
            let id = create(
                state,
                admin,
                *org,
                county,
                "今日社区助老陪伴",
                ServiceCategory::Elderly,
                "今天上午的上门探访：扫描现场二维码签到、签退",
                now - Duration::hours(1),
                now + Duration::hours(3),
                20,
                true,
            )
            .await?;
            n_activities += 1;
            let slot = activities::slots(&state.db, id).await?.first().context("时段")?.id;
            let mut tx = state.db.begin().await?;
            let first: Vec<i64> = pool.iter().take(8).copied().collect();
            signups::insert_approved_bulk(&mut tx, slot, id, &first, now - Duration::days(3)).await?;
            tx.commit().await?;
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let demo_person = demo_person.context("演示志愿者账号没有关联志愿者")?;
    let certificates = seed_certificates(state, admin, org_staff.0, orgs, &served_for, Some(demo_person)).await?;
    Ok(Seeded { activities: n_activities, records: n_records, demo_person, certificates })
}

/// Certificates issued by the demo organization (its staff as handler; one revoked, one
/// request waiting for review) and by a few other counties' organizations, through the same
/// decision code as the UI and API. The demo volunteer is left to ask for their own.
async fn seed_certificates(
    state: &AppState,
    admin: &CurrentUser,
    staff_id: i64,
    orgs: &[(String, i64)],
    served_for: &HashMap<i64, Vec<i64>>,
    demo_person: Option<i64>,
) -> anyhow::Result<usize> {
    use wushe_domain::volunteering::certificate::CertificateAction;
    use wushe_store::volunteering::certificates as store;
    use wushe_web::service::certificates as certs;
    let staff_row = wushe_store::accounts::users::find_by_id_unscoped(&state.db, staff_id).await?;
    let staff = staff_row.map(|r| CurrentUser::from_row(r, false)).context("演示组织账号缺失")?;
    let meta = wushe_web::auth::RequestMeta::default();
    let mut issued = 0;
    for (k, (_, org)) in orgs.iter().take(6).enumerate() {
        let demo_org = k == 0;
        let by = if demo_org { &staff } else { admin };
        let people: Vec<i64> =
            served_for.get(org).into_iter().flatten().copied().filter(|p| Some(*p) != demo_person).collect();
        let Some(org_row) =
            wushe_store::registry::organizations::get_organization(&state.db, &Scope::national(), *org).await.ok()
        else {
            continue;
        };
        let n = if demo_org { 6 } else { 2 };
        for (i, p) in people.iter().take(n).enumerate() {
            let mut tx = state.db.begin().await?;
            let id = store::insert_request(
                &mut tx,
                &store::NewRequest {
                    person_id: *p,
                    organization_id: *org,
                    division_code: &org_row.division_code,
                    purpose: Some(["评优评先", "升学", "求职", "社区积分兑换"][i % 4]),
                    requested_by: admin.id,
                },
            )
            .await?;
            tx.commit().await?;
            // the demo organization's last request waits for its staff to review
            if demo_org && i > 1 && i + 1 == n.min(people.len()) {
                continue;
            }
            certs::decide(state, by, &meta, id, CertificateAction::Issue, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            issued += 1;
            if demo_org && i == 0 {
                certs::decide(
                    state,
                    by,
                    &meta,
                    id,
                    CertificateAction::Revoke,
                    Some("演示：所列一条服务记录有误，已更正后重新出具"),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                issued -= 1;
            }
        }
    }
    Ok(issued)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn create(
    state: &AppState,
    admin: &CurrentUser,
    org: i64,
    county: &str,
    title: &str,
    category: ServiceCategory,
    content: &str,
    starts: chrono::DateTime<Utc>,
    ends: chrono::DateTime<Utc>,
    capacity: i64,
    near_jiyuqiao: bool,
) -> anyhow::Result<i64> {
    let (division, address, lat, lng) = if near_jiyuqiao || county == "420106" {
        ("420106001001".to_string(), "武昌区积玉桥街道社区党群服务中心", Some(30.5573), Some(114.3089))
    } else {
        (format!("{county}000000"), "社区党群服务中心", None, None)
    };
    let input = ActivityInput {
        title: title.into(),
        content: content.into(),
        category: category.as_str().into(),
        division_code: division,
        address: address.into(),
        latitude: lat,
        longitude: lng,
        checkin_radius_m: None,
        required_skills: vec![],
        min_age: Some(16),
        risky: category == ServiceCategory::Emergency,
        timebank: category == ServiceCategory::Elderly,
        auto_approve: true,
        recruit_until: None,
        slots: vec![SlotInput { starts_at: starts, ends_at: ends, capacity }],
        publish: true,
        organization_id: Some(org),
    };
    svc::create_activity(state, admin, &Default::default(), input).await.map_err(|e| anyhow::anyhow!("{e}"))
}
