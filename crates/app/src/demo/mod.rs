//! The demo data set: Hubei (42), the province of the first seed policy. Accounts for every
//! role, all with the documented demo password.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use chrono::{Duration, NaiveDate};
use wushe_domain::accounts::{Role, Scope};
use wushe_domain::codes::division::DivisionCode;
use wushe_domain::registry::org::{self as rules, OrgStatus, OrgType, RegistryRules, StatusEvent};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::accounts::{password, users};
use wushe_store::registry::banned;
use wushe_store::{meta, regions, Db};
use wushe_web::auth::CurrentUser;
use wushe_web::service::registry::{self, NewOrgInput};
use wushe_web::{AppState, WebConfig};

use crate::progress;
use crate::synth::Synth;

pub mod database;
mod officials;
mod timebank;
mod volunteering;

/// Confirm attendances the demo has just closed, with the same writes as the API, each
/// credited by `rules` and given `evaluation()`. Returns the records written.
#[allow(clippy::too_many_arguments)]
async fn confirm_closed(
    tx: &mut wushe_store::Tx,
    activity_id: i64,
    attendance_ids: &[i64],
    by: &wushe_web::service::volunteering::Confirmer<'_>,
    rules: &wushe_domain::volunteering::HourRules,
    earn: &wushe_web::service::timebank::EarnRules,
    stars: &wushe_domain::volunteering::StarRules,
    mut evaluation: impl FnMut() -> &'static str,
) -> anyhow::Result<usize> {
    use wushe_store::volunteering::{activities, attendance};
    use wushe_web::service::volunteering::{write_confirmations, ConfirmWrite};
    let activity = activities::recording_tx(tx, activity_id).await?;
    let found = attendance::attended_many_tx(tx, attendance_ids).await?;
    let mut writes = Vec::with_capacity(attendance_ids.len());
    for id in attendance_ids {
        let attendance = found.get(id).context("签到记录")?;
        let ended = attendance.checked_out_at.context("签退时间")?;
        let credit = wushe_domain::volunteering::hours::credit(rules, attendance.checked_in_at, ended, 0, 0, by.at)
            .map_err(|e| anyhow::anyhow!(e.message()))?;
        writes.push(ConfirmWrite {
            by,
            activity: &activity,
            attendance,
            ended,
            credit,
            evaluation: Some(evaluation()),
        });
    }
    write_confirmations(tx, earn, stars, &writes).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(writes.len())
}

pub const DEMO_PASSWORD: &str = "Wushe@2026";
const SEEDED_KEY: &str = "demo_seeded";

pub struct DemoAccount {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub scope: &'static str,
    pub org: bool,
    pub note: &'static str,
}

pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        username: "admin",
        display_name: "系统管理员",
        role: Role::Admin,
        scope: "",
        org: false,
        note: "全部区域",
    },
    DemoAccount {
        username: "province",
        display_name: "省民政厅 李明",
        role: Role::Official,
        scope: "42",
        org: false,
        note: "湖北省",
    },
    DemoAccount {
        username: "city",
        display_name: "武汉市民政局 周敏",
        role: Role::Official,
        scope: "4201",
        org: false,
        note: "武汉市（审批三、四星志愿者）",
    },
    DemoAccount {
        username: "county",
        display_name: "武昌区民政局 王芳",
        role: Role::Official,
        scope: "420106",
        org: false,
        note: "武昌区",
    },
    DemoAccount {
        username: "county2",
        display_name: "洪山区民政局 张伟",
        role: Role::Official,
        scope: "420111",
        org: false,
        note: "洪山区",
    },
    DemoAccount {
        username: "station",
        display_name: "积玉桥街道社工站 陈静",
        role: Role::SocialWorker,
        scope: "420106001",
        org: false,
        note: "武昌区积玉桥街道社工站",
    },
    DemoAccount {
        username: "org",
        display_name: "心连心社工中心 刘洋",
        role: Role::OrgStaff,
        scope: "420106",
        org: true,
        note: "武昌区心连心社会工作服务中心",
    },
    DemoAccount {
        username: "volunteer",
        display_name: "志愿者 赵磊",
        role: Role::Volunteer,
        scope: "420106001",
        org: false,
        note: "积玉桥街道",
    },
    DemoAccount {
        username: "resident",
        display_name: "居民 孙丽",
        role: Role::Resident,
        scope: "420106001",
        org: false,
        note: "积玉桥街道",
    },
];

pub async fn is_seeded(db: &Db) -> anyhow::Result<bool> {
    Ok(meta::get(db, SEEDED_KEY).await?.is_some())
}

/// The demo organization of the `org` account.
const DEMO_ORG: &str = "武昌区心连心社会工作服务中心";

/// The eleven national bodies in the Ministry of Civil Affairs' fourth 2021 list of illegal
/// social organizations whose websites were shut down.
const BANNED_2021_4: [&str; 11] = [
    "中国教师继续教育协会",
    "中国人民文艺家协会",
    "中国智慧教育联合会",
    "中国宠物产业联盟",
    "中国包装联盟",
    "中国美术高考教育联盟",
    "全国房地产 CIO 联盟",
    "全国校园文学联盟",
    "中国境外学位与学生信息中心",
    "中国清洁服务行业国家等级资质评定中心",
    "丝绸之路国际公益美术馆",
];

async fn create_user(
    tx: &mut wushe_store::Tx,
    actor: &Actor,
    a: &DemoAccount,
    hash: &str,
    org: Option<i64>,
) -> anyhow::Result<i64> {
    let scope = Scope { division: a.scope.to_string(), organization_id: org };
    let id = users::create(
        tx,
        &users::NewUser {
            username: a.username,
            display_name: a.display_name,
            password_hash: hash,
            role: a.role,
            scope: &scope,
            created_by: None,
        },
    )
    .await?;
    audit::append(
        tx,
        actor,
        &Event {
            action: "create",
            entity: "user",
            entity_id: Some(id.to_string()),
            division_code: a.scope,
            organization_id: org,
            summary: serde_json::json!({"after": {"username": a.username, "role": a.role.as_str(), "scope_division": a.scope}}),
        },
    )
    .await?;
    Ok(id)
}

/// Seed the demo province once: accounts, the banned list, and a few thousand organizations
/// across Hubei's counties with realistic status histories. Everything goes through the same
/// validation and writing code as the UI and API, in one transaction.
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
pub async fn seed(db: &Db, keys: &wushe_store::crypto::KeyRing) -> anyhow::Result<()> {
    if is_seeded(db).await? {
        return Ok(());
    }
    if users::find_for_login(db, "admin").await?.is_some() {
        anyhow::bail!("演示数据上次没有生成完（可能被中断），请加 --reset 重新生成");
    }
    let hash = tokio::task::spawn_blocking(|| password::hash(DEMO_PASSWORD)).await?;
    // `database::classify` recognizes the demo's accounts by this actor.
    let system = Actor {
        username: Some(database::SEEDER.0.into()),
        role: Some(database::SEEDER.1.into()),
        ..Default::default()
    };
    let state = AppState::new(db.clone(), keys.clone(), WebConfig::default());

    // Accounts first (the admin acts for the seeding), the org account after its organization.
    let mut tx = db.begin().await?;
    let (mut admin_id, mut volunteer_id) = (0, 0);
    for a in ACCOUNTS.iter().filter(|a| !a.org) {
        let id = create_user(&mut tx, &system, a, &hash, None).await?;
        match a.role {
            Role::Admin => admin_id = id,
            Role::Volunteer => volunteer_id = id,
            _ => {}
        }
    }
    tx.commit().await?;
    let admin_row = users::find_by_id_unscoped(db, admin_id).await?.context("演示管理员账户缺失")?;
    let admin = CurrentUser::from_row(admin_row, false);
    let actor = Actor {
        user_id: Some(admin.id),
        username: Some(admin.username.clone()),
        role: Some("admin".into()),
        ..Default::default()
    };

    let mut synth = Synth::new(2026);
    let orgs = plan_organizations(db, &mut synth).await?;
    let pb = progress::bar(orgs.len() as u64 + 1, "生成演示社会组织");
    let mut valid = Vec::with_capacity(orgs.len());
    for (input, extra) in orgs {
        let mut v = registry::validate_new_org(&state, &admin, input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        for ev in extra {
            // Keep only the later decisions the state machine allows.
            if rules::check_transition(&v.history, ev.status, ev.effective, &RegistryRules::default()).is_ok() {
                v.history.push(ev);
            }
        }
        valid.push(v);
    }
    let mut tx = db.begin().await?;
    let mut org_id = None;
    let mut orgs_by_county: HashMap<String, Vec<i64>> = HashMap::new();
    for (i, v) in valid.iter().enumerate() {
        let id =
            registry::write_new_org(&mut tx, &actor, Some(admin.id), v).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if i == 0 {
            org_id = Some(id);
        }
        if OrgStatus::parse(store_status(v)).is_some_and(|s| s.is_active()) {
            orgs_by_county.entry(v.code.full()[..6].to_string()).or_default().push(id);
        }
        pb.inc(1);
    }
    let mut staff = (0, "");
    for a in ACCOUNTS.iter().filter(|a| a.org) {
        staff = (create_user(&mut tx, &system, a, &hash, org_id).await?, a.display_name);
    }
    for name in BANNED_2021_4 {
        let id = banned::create(
            &mut tx,
            &banned::NewBanned {
                name,
                banned_on: NaiveDate::from_ymd_opt(2021, 12, 31).expect("date"),
                authority: "民政部",
                document_number: Some("2021年第四批被关停网站的非法社会组织名单"),
                note: Some("演示数据：名单来自民政部 2021 年第四批公告，日期记为当年年末，具体日期以公告为准"),
                division_code: "",
            },
        )
        .await?;
        audit::append(
            &mut tx,
            &actor,
            &Event {
                action: "create",
                entity: "banned_organization",
                entity_id: Some(id.to_string()),
                division_code: "",
                organization_id: None,
                summary: serde_json::json!({"after": {"name": name, "authority": "民政部"}}),
            },
        )
        .await?;
    }
    pb.finish_and_clear();
    // People refer to the organizations, which the checks read through the reader pool.
    tx.commit().await?;
    let mut tx = db.begin().await?;
    let counts = seed_people(&state, &admin, &mut tx, &mut synth, org_id, &orgs_by_county).await?;
    tx.commit().await?;
    // A year of volunteer service: the demo organization, then one organization per county.
    let mut runs: Vec<(String, i64)> = Vec::new();
    if let Some(o) = org_id {
        runs.push(("420106".into(), o));
    }
    let mut counties: Vec<&String> = orgs_by_county.keys().collect();
    counties.sort();
    for c in counties {
        if let Some(o) = orgs_by_county[c].iter().find(|o| Some(**o) != org_id) {
            runs.push((c.clone(), *o));
        }
    }
    let v = volunteering::seed(&state, &admin, staff, volunteer_id, &runs, &mut synth).await?;
    let tb = match org_id {
        Some(o) => Some(timebank::seed(&state, &admin, o, staff, v.demo_person, &mut synth).await?),
        None => None,
    };
    let o = officials::seed(&state, org_id.context("演示组织缺失")?, &mut synth).await?;
    let mut tx = db.begin().await?;
    meta::set(&mut tx, SEEDED_KEY, &wushe_store::time::now().to_rfc3339()).await?;
    tx.commit().await?;
    wushe_store::stats::rollup_all(db).await?;
    println!(
        "已生成演示数据：{} 个社会组织，{} 个非法社会组织，{} 名志愿者，{} 名社会工作者，{} 名服务对象，{} 个志愿活动，{} 条已确认的服务记录，{} 份有效的志愿服务记录证明；\
         星级志愿者已认定 {} 个、待审批 {} 个，抽查 2 次（1 次已公开）",
        valid.len(),
        BANNED_2021_4.len(),
        counts[0],
        counts[1],
        counts[2],
        v.activities + 1,
        v.records + o.records,
        v.certificates,
        o.approved,
        o.pending
    );
    if let Some(t) = tb {
        println!(
            "时间银行：{} 条时间银行服务记录，{} 个爱心超市、{} 种物品、{} 笔兑换；时间币有效期设为 12 个月；resident 账户为 volunteer 的父母（已登记直系亲属）",
            t.timebank_records, t.outlets, t.goods, t.redemptions
        );
    }
    Ok(())
}

fn store_status(v: &registry::ValidOrg) -> &'static str {
    rules::standing(&v.history).status.map(OrgStatus::as_str).unwrap_or("registered")
}

/// Counties of the province with their townships and villages (significant digits).
struct CountyPlaces {
    county6: String,
    townships: Vec<String>,
    villages: Vec<String>,
}

async fn places(db: &Db, province: &str) -> anyhow::Result<Vec<CountyPlaces>> {
    let mut out = Vec::new();
    let prov = DivisionCode::parse(province)?;
    for city in regions::children(db, Some(&prov)).await? {
        for county in regions::children(db, Some(&DivisionCode::parse(&city.code)?)).await? {
            let code = DivisionCode::parse(&county.code)?;
            let mut townships = Vec::new();
            let mut villages = Vec::new();
            for t in regions::children(db, Some(&code)).await? {
                let tc = DivisionCode::parse(&t.code)?;
                for v in regions::children(db, Some(&tc)).await? {
                    villages.push(v.code);
                }
                townships.push(tc.prefix().to_string());
            }
            if !villages.is_empty() && code.full().len() >= 6 {
                out.push(CountyPlaces { county6: code.full()[..6].to_string(), townships, villages });
            }
        }
    }
    Ok(out)
}

const AVAILABILITY: &[&str] = &["周末上午", "周末全天", "工作日晚上", "工作日白天", "节假日", "随时可约"];

/// Volunteers, social workers and beneficiaries in every county, through the same checks
/// and writing code as forms and imports. Returns the counts per role.
async fn seed_people(
    state: &AppState,
    admin: &CurrentUser,
    tx: &mut wushe_store::Tx,
    synth: &mut Synth,
    demo_org: Option<i64>,
    orgs_by_county: &HashMap<String, Vec<i64>>,
) -> anyhow::Result<[usize; 3]> {
    use wushe_domain::registry::person::{BeneficiaryCategory as Cat, CredentialLevel};
    use wushe_web::service::people::{self, BeneficiaryInput, Checker, PersonInput, SocialWorkerInput, VolunteerInput};

    let counties = places(&state.db, "42").await?;
    // Skills come from the dictionary administrators keep (seeded by the migration).
    let skill_keys: Vec<String> =
        wushe_store::registry::skills::dictionary(&state.db).await?.active().map(|e| e.key.clone()).collect();
    anyhow::ensure!(!skill_keys.is_empty(), "技能字典为空");
    let today = wushe_web::service::registry::today();
    let mut used_ids: HashSet<String> = HashSet::new();
    let mut person = |synth: &mut Synth, c: &CountyPlaces, years: (i32, i32)| loop {
        let id = synth.citizen_id(&c.county6, years);
        if used_ids.insert(id.clone()) {
            return PersonInput {
                name: synth.person_name(),
                citizen_id: id,
                phone: Some(synth.mobile()),
                division_code: synth.pick(&c.villages).clone(),
                address: None,
            };
        }
    };
    let mut checker = Checker::new(state, admin);
    let mut entries = Vec::new();
    let mut counts = [0usize; 3];
    let total: u64 = counties.len() as u64;
    let pb = progress::bar(total, "生成演示人员");
    for c in &counties {
        let home = c.county6 == "420106";
        let orgs = orgs_by_county.get(&c.county6).map(Vec::as_slice).unwrap_or_default();
        for i in 0..if home { 1500 } else { synth.range(150, 320) } {
            let minor = synth.chance(0.03);
            let p = person(synth, c, if minor { (2010, 2012) } else { (1955, 2007) });
            let skills: Vec<String> = (0..synth.range(1, 4)).map(|_| synth.pick(&skill_keys).clone()).collect();
            let org = if home && i < 400 {
                demo_org
            } else if !orgs.is_empty() && synth.chance(0.5) {
                Some(*synth.pick(orgs))
            } else {
                None
            };
            let input = VolunteerInput {
                skills: vec![skills.join(",")],
                availability: Some(synth.pick(AVAILABILITY).to_string()),
                guardian_name: minor.then(|| synth.person_name()),
                guardian_phone: minor.then(|| synth.mobile()),
                guardian_consent_on: minor.then(|| (today - Duration::days(synth.range(1, 300) as i64)).to_string()),
                organization_id: org,
                person: p,
                ..Default::default()
            };
            entries.push(checker.volunteer(&input).await?.map_err(|e| anyhow::anyhow!("演示志愿者数据无效：{e:?}"))?);
            counts[0] += 1;
        }
        for _ in 0..if home { 40 } else { synth.range(4, 12) } {
            let level = *synth.pick(&[
                CredentialLevel::Assistant,
                CredentialLevel::Assistant,
                CredentialLevel::Intermediate,
                CredentialLevel::Senior,
            ]);
            let registered = today - Duration::days(synth.range(30, 1400) as i64);
            let input = SocialWorkerInput {
                person: person(synth, c, (1965, 2000)),
                credential_level: level.as_str().into(),
                certificate_number: Some(format!(
                    "SW{}{}{:05}",
                    registered.format("%Y"),
                    &c.county6,
                    synth.range(1, 99_999)
                )),
                registered_on: registered.to_string(),
                ce_hours: Some(synth.range(0, 110) as i64),
                employer_org_id: if home && demo_org.is_some() && synth.chance(0.5) {
                    demo_org
                } else if orgs.is_empty() {
                    None
                } else {
                    Some(*synth.pick(orgs))
                },
                station_code: Some(synth.pick(&c.townships).clone()),
            };
            match checker.social_worker(&input).await? {
                Ok(e) => {
                    entries.push(e);
                    counts[1] += 1;
                }
                Err(e) => anyhow::bail!("演示社会工作者数据无效：{e:?}"),
            }
        }
        for _ in 0..if home { 500 } else { synth.range(60, 140) } {
            let (cats, years): (Vec<Cat>, (i32, i32)) = match synth.range(0, 6) {
                0 => (vec![Cat::AdvancedAge, Cat::LeftBehindElderly], (1930, 1945)),
                1 => (vec![Cat::SubsistenceAllowance], (1950, 1990)),
                2 => (vec![Cat::ExtremePoverty, Cat::Disabled], (1940, 1980)),
                3 => (vec![Cat::LeftBehindChildren], (2012, 2020)),
                4 => (vec![Cat::ChildrenInDifficulty, Cat::SubsistenceAllowance], (2010, 2021)),
                _ => (vec![Cat::DisabledCare, Cat::AdvancedAge], (1932, 1950)),
            };
            let p = person(synth, c, years);
            let minor = years.0 >= 2008;
            let guardian = minor.then(|| synth.person_name());
            let input = BeneficiaryInput {
                categories: vec![cats.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")],
                guardian_relation: minor.then(|| synth.pick(&["祖父", "祖母", "母亲", "父亲"]).to_string()),
                guardian_phone: minor.then(|| synth.mobile()),
                consent_given_by: guardian.clone().unwrap_or_else(|| p.name.clone()),
                guardian_name: guardian,
                consent_on: (today - Duration::days(synth.range(1, 700) as i64)).to_string(),
                serving_org_id: if home && synth.chance(0.3) {
                    demo_org
                } else if !orgs.is_empty() && synth.chance(0.4) {
                    Some(*synth.pick(orgs))
                } else {
                    None
                },
                person: PersonInput { phone: if minor { None } else { p.phone.clone() }, ..p },
            };
            entries
                .push(checker.beneficiary(&input).await?.map_err(|e| anyhow::anyhow!("演示服务对象数据无效：{e:?}"))?);
            counts[2] += 1;
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let pb = progress::bar(entries.len() as u64, "写入演示人员");
    for chunk in entries.chunks(5000) {
        let plans = people::plan(tx, state, admin, chunk).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        people::apply(tx, state, admin, chunk, &plans).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    Ok(counts)
}

/// New organizations for every county of Hubei, the demo organization first, each with the
/// later status decisions to try (recognition as a charity, fundraising qualification).
#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
async fn plan_organizations(db: &Db, synth: &mut Synth) -> anyhow::Result<Vec<(NewOrgInput, Vec<StatusEvent>)>> {
    let mut out = vec![(
        NewOrgInput {
            name: DEMO_ORG.into(),
            credit_code: Some(synth.credit_code("52", "420106")),
            org_type: OrgType::SocialWorkAgency.as_str().into(),
            division_code: "420106".into(),
            registration_authority: "武汉市武昌区民政局".into(),
            registered_on: "2016-05-20".into(),
            legal_representative: Some("刘洋".into()),
            contact_person: Some("刘洋".into()),
            contact_phone: Some("027-88886666".into()),
            address: Some("武汉市武昌区积玉桥街道和平大道 1 号".into()),
            ..Default::default()
        },
        Vec::new(),
    )];
    let mut names: HashSet<String> = HashSet::from([DEMO_ORG.to_string()]);
    let hubei = DivisionCode::parse("42").expect("code");
    let types = [
        (OrgType::SocialWorkAgency, 5),
        (OrgType::VolunteerOrganization, 5),
        (OrgType::CommunitySocialOrganization, 6),
        (OrgType::SocialServiceOrganization, 4),
        (OrgType::Association, 3),
        (OrgType::CharityOrganization, 2),
        (OrgType::Foundation, 1),
        (OrgType::IndustryAssociation, 1),
        (OrgType::HubOrganization, 1),
    ];
    let weighted: Vec<OrgType> = types.iter().flat_map(|(t, w)| std::iter::repeat_n(*t, *w)).collect();
    let today = wushe_web::service::registry::today();
    for city in regions::children(db, Some(&hubei)).await? {
        let city_code = DivisionCode::parse(&city.code)?;
        for county in regions::children(db, Some(&city_code)).await? {
            let county_code = DivisionCode::parse(&county.code)?;
            let townships = regions::children(db, Some(&county_code)).await?;
            let authority = format!("{}民政局", county.name);
            for _ in 0..synth.range(15, 40) {
                let t = *synth.pick(&weighted);
                let name = synth.org_name(&county.name, t);
                if !names.insert(name.clone()) {
                    continue;
                }
                let reg_type = match t {
                    OrgType::Foundation => "53",
                    OrgType::Association | OrgType::IndustryAssociation | OrgType::HubOrganization => "51",
                    _ => "52",
                };
                let county6 = &county.code[..6];
                let registered =
                    NaiveDate::from_ymd_opt(2008, 1, 1).expect("date") + Duration::days(synth.range(0, 6500) as i64);
                let registered = registered.min(today);
                let place =
                    if !townships.is_empty() && synth.chance(0.6) { Some(synth.pick(&townships)) } else { None };
                let division = place.map(|p| p.code.clone()).unwrap_or_else(|| county.code.clone());
                let address =
                    format!("{}{}{}号", county.name, place.map(|p| p.name.as_str()).unwrap_or(""), synth.range(1, 300));
                let mut extra = Vec::new();
                if matches!(
                    t,
                    OrgType::SocialServiceOrganization
                        | OrgType::Foundation
                        | OrgType::Association
                        | OrgType::SocialWorkAgency
                ) && synth.chance(0.25)
                {
                    let recognized = (registered + Duration::days(synth.range(180, 2500) as i64)).min(today);
                    extra.push(StatusEvent::new(OrgStatus::RecognizedCharity, recognized));
                }
                let charity_from =
                    extra.first().map(|e| e.effective).or((t == OrgType::CharityOrganization).then_some(registered));
                if let Some(since) = charity_from {
                    if synth.chance(0.4) {
                        let qualified = (since + Duration::days(synth.range(366, 1500) as i64)).min(today);
                        extra.push(StatusEvent::new(OrgStatus::FundraisingQualified, qualified));
                    }
                }
                if synth.chance(0.02) {
                    let last = extra.last().map(|e| e.effective).unwrap_or(registered);
                    extra.push(StatusEvent::new(
                        OrgStatus::Deregistered,
                        (last + Duration::days(synth.range(30, 900) as i64)).min(today),
                    ));
                }
                let contact = synth.person_name();
                out.push((
                    NewOrgInput {
                        credit_code: Some(synth.credit_code(reg_type, county6)),
                        org_type: t.as_str().into(),
                        division_code: division,
                        registration_authority: authority.clone(),
                        registered_on: registered.to_string(),
                        legal_representative: Some(synth.person_name()),
                        contact_person: Some(contact),
                        contact_phone: Some(synth.mobile()),
                        address: Some(address),
                        name,
                        ..Default::default()
                    },
                    extra,
                ));
            }
        }
    }
    Ok(out)
}

pub fn print_accounts(url: &str) {
    println!();
    println!("五社联动服务平台（演示）已启动：{url}");
    println!("演示账户（密码均为 {DEMO_PASSWORD}，仅供演示）：");
    for a in ACCOUNTS {
        println!("  {:<10} {:<18} {}", a.username, a.role.label(), a.note);
    }
    println!("API 文档：{url}/api/docs    按 Ctrl+C 停止");
    println!();
}
