//! The time bank and love supermarkets of the demo street (积玉桥街道, 武昌区): the local
//! rule that coins expire after 12 months, time-bank elder-care services of the past year
//! for the demo volunteer and neighbours (confirmed through the same writes as the API, so
//! they deposit coins and points as they would have), the volunteer's elderly parent as a
//! recorded direct relative (the `resident` account) with a gift of coins and a service paid
//! with them, three community outlets with everyday goods, and redemptions at their
//! counters. Every movement goes through the services of the UI and API; at the end the
//! ledgers must verify clean.

use anyhow::Context;
use chrono::Duration;
use wushe_domain::accounts::Scope;
use wushe_domain::codes::division::DivisionCode;
use wushe_domain::registry::person::PersonRole;
use wushe_domain::timebank::ledger::Ledger;
use wushe_domain::volunteering::activity::ServiceCategory;
use wushe_domain::volunteering::HourRules;
use wushe_store::accounts::audit::Actor;
use wushe_store::accounts::users;
use wushe_store::registry::people::{self, PeopleFilter};
use wushe_store::timebank::ledger;
use wushe_store::volunteering::attendance::{self as attendance_store, ClosedAttendance};
use wushe_store::volunteering::{activities, signups};
use wushe_store::{regions, Db};
use wushe_web::auth::{CurrentUser, RequestMeta};
use wushe_web::service::timebank::{self as svc, EarnRules, GoodsInput, OutletInput, RedeemInput, RelationInput};
use wushe_web::service::volunteering::{self as vsvc, Confirmer};
use wushe_web::AppState;

use crate::synth::Synth;

/// Goods of a community love supermarket: name, points, usual stock.
const GOODS: &[(&str, i64, i64)] = &[
    ("东北大米 5 斤", 50, 30),
    ("金龙鱼食用油 1.8 升", 80, 20),
    ("立白洗衣液 2 公斤", 40, 25),
    ("鸡蛋 10 枚", 25, 40),
    ("维达抽纸 6 包", 30, 30),
    ("海天生抽 500 毫升", 15, 24),
    ("纯棉毛巾", 20, 50),
    ("中华牙膏", 15, 36),
    ("洗洁精 1.5 公斤", 18, 30),
    ("不锈钢保温杯", 100, 8),
    ("折叠雨伞", 60, 10),
    ("老花镜", 35, 12),
];

/// Outlets: name, township (significant digits), address.
const OUTLETS: &[(&str, &str, &str)] = &[
    ("积玉桥街道爱心超市", "420106001", "和平大道 1 号社区党群服务中心一楼"),
    ("中华路街道邻里爱心超市", "420106002", "中华路 88 号社区服务站"),
    ("粮道街道幸福爱心超市", "420106003", "粮道街 36 号社区活动中心"),
];

pub struct Seeded {
    pub outlets: usize,
    pub goods: usize,
    pub redemptions: usize,
    pub timebank_records: usize,
}

fn user_of(row: users::UserRow) -> CurrentUser {
    CurrentUser::from_row(row, false)
}

async fn login(db: &Db, username: &str) -> anyhow::Result<CurrentUser> {
    Ok(user_of(users::find_for_login(db, username).await?.with_context(|| format!("演示账户 {username} 缺失"))?))
}

/// `demo_person` is the registry person behind the `volunteer` account; `org` the demo
/// organization that runs the time-bank services.
pub async fn seed(
    state: &AppState,
    admin: &CurrentUser,
    org: i64,
    org_staff: (i64, &str),
    demo_person: i64,
    synth: &mut Synth,
) -> anyhow::Result<Seeded> {
    let db = &state.db;
    let meta = RequestMeta::default();
    let station = login(db, "station").await?;

    // the local rule: coins expire 12 months after they were deposited
    let mut rules = vsvc::settings_view(state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    rules.timebank.expiry_months = Some(12);
    vsvc::update_settings(state, admin, &meta, rules).await.map_err(|e| anyhow::anyhow!("{e}"))?;

    // neighbours of the demo volunteer in the same street serve with them
    let street = PeopleFilter { region: Some("420106001".into()), ..Default::default() };
    let vols = people::select_all(db, &state.keys, &Scope::national(), PersonRole::Volunteer, &street, 40).await?;
    let mut team: Vec<i64> = vec![demo_person];
    team.extend(vols.iter().map(|v| v.id).filter(|id| *id != demo_person).take(6));
    let records = time_bank_services(state, admin, org, org_staff, &team, synth).await?;

    // the demo volunteer's elderly parent: a beneficiary of the street, the `resident` login
    let today = wushe_web::service::registry::today();
    let me = vols.iter().find(|v| v.id == demo_person).map(|v| v.birth_date);
    let elders = people::select_all(db, &state.keys, &Scope::national(), PersonRole::Beneficiary, &street, 400).await?;
    let parent = elders
        .iter()
        .filter(|e| wushe_domain::volunteering::activity::age_on(e.birth_date, today) >= 65)
        .find(|e| me.is_none_or(|b| (b - e.birth_date).num_days() > 18 * 365))
        .or_else(|| elders.iter().find(|e| wushe_domain::volunteering::activity::age_on(e.birth_date, today) >= 60))
        .context("积玉桥街道没有 60 岁以上的服务对象")?;
    let resident = login(db, "resident").await?;
    let mut tx = db.begin().await?;
    users::link_person(&mut tx, resident.id, parent.id).await?;
    tx.commit().await?;
    let rel =
        |person_id, relative_id, relation: &str| RelationInput { person_id, relative_id, relation: relation.into() };
    svc::add_relation(state, &station, &meta, rel(demo_person, parent.id, "父母"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // two neighbours who are married to each other
    if team.len() >= 3 {
        svc::add_relation(state, &station, &meta, rel(team[1], team[2], "配偶"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    // the volunteer gives the parent two coins (the oldest go first), and the parent has a
    // bath at home paid with one and a half of them, recorded by the station
    let volunteer = login(db, "volunteer").await?;
    let coins = ledger::balance(db, Ledger::Coins, demo_person).await?;
    if coins >= 120 {
        svc::transfer(state, &volunteer, &meta, svc::TransferInput { to_person_id: parent.id, coins: 2.0 })
            .await
            .map_err(|e| anyhow::anyhow!("演示转赠：{e}"))?;
        let spend = svc::SpendInput {
            person_id: parent.id,
            coins: 1.5,
            memo: "助浴：上门助浴 1.5 小时".into(),
            payer_person_id: None,
        };
        svc::spend(state, &station, &meta, spend).await.map_err(|e| anyhow::anyhow!("演示兑换服务：{e}"))?;
    }

    // the outlets and their goods
    let mut outlets = Vec::new();
    let mut n_goods = 0;
    for (name, township, address) in OUTLETS {
        let villages = regions::children(db, Some(&DivisionCode::parse(township)?)).await?;
        let Some(village) = villages.first() else { continue };
        let input =
            OutletInput { name: (*name).into(), division_code: village.code.clone(), address: (*address).into() };
        let id = svc::create_outlet(state, admin, &meta, input).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut goods = Vec::new();
        for (g, points, stock) in GOODS {
            if outlets.is_empty() || synth.chance(0.7) {
                let stock = (*stock as u64 * synth.range(60, 140) / 100) as i64;
                let input = GoodsInput { name: (*g).into(), points: *points, stock };
                goods.push((
                    svc::add_goods(state, admin, &meta, id, input).await.map_err(|e| anyhow::anyhow!("{e}"))?,
                    *points,
                ));
                n_goods += 1;
            }
        }
        outlets.push((id, goods));
    }

    // redemptions: the demo volunteer's own, and neighbours' at the street outlet's counter
    let mut n_redeemed = 0;
    let (_, street_goods) = outlets.first().context("爱心超市")?;
    let ids: Vec<i64> = vols.iter().map(|v| v.id).collect();
    let points = ledger::balances(db, Ledger::Points, &ids).await?;
    for (person, balance) in points {
        let mut left = balance;
        for _ in 0..synth.range(1, 4) {
            let (goods_id, price) = *synth.pick(street_goods);
            if price > left {
                continue;
            }
            let (user, person_id) = if person == demo_person { (&volunteer, None) } else { (&station, Some(person)) };
            let input = RedeemInput { goods_id, quantity: 1, person_id };
            match svc::redeem(state, user, &meta, input).await {
                Ok(_) => {
                    left -= price;
                    n_redeemed += 1;
                }
                Err(wushe_web::error::AppError::Conflict(_)) => {} // sold out
                Err(e) => anyhow::bail!("演示兑换：{e}"),
            }
        }
    }

    // nothing of the past year is due yet, but the job runs as it would
    svc::expire_due(db, wushe_store::time::now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let (drift, unbalanced, negative) = ledger::verify(db).await?;
    anyhow::ensure!(
        (drift, unbalanced, negative) == (0, 0, 0),
        "演示账本不平：{drift} 个账户余额与分录不符，{unbalanced} 笔交易分录不平，{negative} 个负余额"
    );
    Ok(Seeded { outlets: outlets.len(), goods: n_goods, redemptions: n_redeemed, timebank_records: records })
}

/// Time-bank elder-care services of the past year by `team`, confirmed by the organization
/// the day after (so they deposit coins and points dated then). Returns the records written.
async fn time_bank_services(
    state: &AppState,
    admin: &CurrentUser,
    org: i64,
    org_staff: (i64, &str),
    team: &[i64],
    synth: &mut Synth,
) -> anyhow::Result<usize> {
    let rules = HourRules::default();
    let actor = Actor { user_id: Some(org_staff.0), username: Some("org".into()), ..Default::default() };
    let mut n = 0;
    // the first one falls just inside a year ago: its coins are about to expire
    for days_ago in [352i64, 290, 210, 150, 95, 40] {
        let day = wushe_web::service::registry::today() - Duration::days(days_ago);
        let starts = super::volunteering::local(day, 9);
        let ends = starts + Duration::hours(synth.range(2, 4) as i64);
        let id = super::volunteering::create(
            state,
            admin,
            org,
            "420106",
            "时间银行·助老服务",
            ServiceCategory::Elderly,
            "为独居、高龄老人上门助洁、助餐、陪伴聊天，服务时长存入时间银行",
            starts,
            ends,
            10,
            true,
        )
        .await?;
        let slot = activities::slots(&state.db, id).await?.first().context("时段")?.id;
        let mut tx = state.db.begin().await?;
        let earn = EarnRules::load(&mut tx).await?;
        let stars: wushe_domain::volunteering::StarRules =
            wushe_store::settings::get_tx(&mut tx, vsvc::STAR_RULES_KEY).await?;
        let signed = signups::insert_approved_bulk(&mut tx, slot, id, team, starts - Duration::days(4)).await?;
        let rows: Vec<ClosedAttendance> = signed
            .iter()
            .map(|(p, s)| ClosedAttendance {
                signup_id: *s,
                slot_id: slot,
                activity_id: id,
                person_id: *p,
                checked_in_at: starts + Duration::minutes(synth.range(0, 10) as i64),
                checked_out_at: ends - Duration::minutes(synth.range(0, 10) as i64),
            })
            .collect();
        let att_ids = attendance_store::insert_closed_bulk(&mut tx, &rows).await?;
        let at = ends + Duration::hours(20);
        let by = Confirmer { user_id: org_staff.0, name: org_staff.1, at, actor: &actor };
        n += super::confirm_closed(&mut tx, id, &att_ids, &by, &rules, &earn, &stars, || "良好").await?;
        tx.commit().await?;
    }
    Ok(n)
}
