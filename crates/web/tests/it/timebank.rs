//! Time bank and points through the API on both backends: coins and points earned by a
//! confirmed time-bank service, gifts only to recorded direct relatives, spending from 60,
//! love-supermarket redemptions taking points and stock together, and the ledger invariants
//! after many concurrent transfers and redemptions (no negative balance, every balance the
//! sum of its entries, every transaction summing to zero, stock never below zero), and staff
//! removing a relation recorded by mistake (API and page).

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use wushe_domain::accounts::Role;
use wushe_domain::timebank::ledger::Ledger;
use wushe_store::accounts::users;
use wushe_store::timebank::ledger;
use wushe_store::{on_tx, Db};
use wushe_testkit::volunteering::{register_volunteer, serve};
use wushe_testkit::{citizen_id, create_user, db_test, seed_cast, Client, TestApp, PASSWORD};
use wushe_web::service::timebank as svc;

async fn volunteer(db: &Db, county: &mut Client, username: &str, seq: u32, birth: &str) -> i64 {
    let given = ["甲", "乙", "丙", "丁", "戊"][seq as usize % 5];
    let body = json!({"name": format!("李{given}"), "citizen_id": citizen_id(&format!("420106{birth}{seq:03}")),
        "division_code": "420106001001", "skills": ["心理疏导"], "phone": format!("137{seq:08}")});
    register_volunteer(db, county, username, &body).await
}

/// A three-hour time-bank service by the volunteer, confirmed by the organization.
async fn serve_three_hours(db: &Db, org: &mut Client, vol: &mut Client) {
    let s = Utc::now() + Duration::minutes(20);
    let body = json!({"title": "时间银行助老", "content": "陪伴老人", "category": "扶老助残", "division_code": "420106001001",
        "address": "积玉桥社区", "publish": true, "timebank": true,
        "slots": [{"starts_at": s, "ends_at": s + Duration::hours(3), "capacity": 10}]});
    let aid = org.json(Method::POST, "/api/v1/activities", &body).await.json()["id"].as_i64().unwrap();
    let slot = org.get(&format!("/api/v1/activities/{aid}")).await.json()["slots"][0]["id"].as_i64().unwrap();
    serve(db, org, vol, (aid, slot), 180).await;
}

db_test!(coins_points_and_the_love_supermarket_under_concurrency, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let child = volunteer(&db, &mut county, "child", 1, "19900307").await;
    let parent = volunteer(&db, &mut county, "parent", 2, "19550101").await;
    let stranger = volunteer(&db, &mut county, "stranger", 3, "19800101").await;
    let mut org = app.api("org").await;
    let mut c = app.api("child").await;
    serve_three_hours(&db, &mut org, &mut c).await;

    // 180 minutes credit 180 (30-minute units): 3 coins and 30 points
    let acc = c.get(&format!("/api/v1/timebank/accounts/{child}")).await;
    assert_eq!(acc.status, StatusCode::OK, "{}", acc.body);
    let acc = acc.json();
    assert_eq!(
        (acc["coin_units"].as_i64(), acc["coins"].as_str(), acc["points"].as_i64()),
        (Some(180), Some("3"), Some(30))
    );
    let mut s = app.api("stranger").await;
    assert_eq!(s.get(&format!("/api/v1/timebank/accounts/{child}")).await.status, StatusCode::FORBIDDEN);

    // gifts only to recorded direct relatives
    let t = json!({"to_person_id": parent, "coins": 1});
    let r = c.json(Method::POST, "/api/v1/timebank/transfers", &t).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("直系亲属"), "{}", r.body);
    let mut station = app.api("station").await;
    let r = station
        .json(
            Method::POST,
            "/api/v1/timebank/relations",
            &json!({"person_id": child, "relative_id": parent, "relation": "父母"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = c.json(Method::POST, "/api/v1/timebank/transfers", &json!({"to_person_id": stranger, "coins": 1})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // twelve concurrent gifts of one coin from three: exactly three succeed
    let mut handles = Vec::new();
    for _ in 0..12 {
        let mut c = app.api("child").await;
        let t = t.clone();
        handles.push(tokio::spawn(async move { c.json(Method::POST, "/api/v1/timebank/transfers", &t).await.status }));
    }
    let mut ok = 0;
    for h in handles {
        match h.await.unwrap() {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("transfer answered {other}"),
        }
    }
    assert_eq!(ok, 3);
    assert_eq!(ledger::balance(&db, wushe_domain::timebank::ledger::Ledger::Coins, parent).await.unwrap(), 180);

    // spending from 60: the parent (born 1955) may, the child may not
    let r = station
        .json(Method::POST, "/api/v1/timebank/spend", &json!({"person_id": child, "coins": 1, "memo": "助洁服务"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = station
        .json(Method::POST, "/api/v1/timebank/spend", &json!({"person_id": parent, "coins": 2.5, "memo": "助浴服务"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = station
        .json(Method::POST, "/api/v1/timebank/spend", &json!({"person_id": parent, "coins": 1, "memo": "助浴服务"}))
        .await;
    assert!(r.error_message().contains("余额不足"), "{}", r.body);

    // the love supermarket: 30 points, goods at 10 with a stock of 2, redeemed concurrently
    let r = station
        .json(
            Method::POST,
            "/api/v1/outlets",
            &json!({"name": "积玉桥爱心超市", "division_code": "420106001001", "address": "社区一楼"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let outlet = r.json()["id"].as_i64().unwrap();
    let r = station
        .json(
            Method::POST,
            &format!("/api/v1/outlets/{outlet}/goods"),
            &json!({"name": "大米 5 斤", "points": 10, "stock": 2}),
        )
        .await;
    let rice = r.json()["id"].as_i64().unwrap();
    let r = station
        .json(
            Method::POST,
            &format!("/api/v1/outlets/{outlet}/goods"),
            &json!({"name": "食用油", "points": 15, "stock": 10}),
        )
        .await;
    let oil = r.json()["id"].as_i64().unwrap();
    let mut handles = Vec::new();
    for i in 0..10 {
        let mut c = app.api("child").await;
        let goods = if i % 2 == 0 { rice } else { oil };
        handles.push(tokio::spawn(async move {
            c.json(Method::POST, "/api/v1/redemptions", &json!({"goods_id": goods})).await.status
        }));
    }
    for h in handles {
        let st = h.await.unwrap();
        assert!(st == StatusCode::CREATED || st == StatusCode::CONFLICT, "{st}");
    }
    let acc = c.get(&format!("/api/v1/timebank/accounts/{child}")).await.json();
    let points = acc["points"].as_i64().unwrap();
    let goods = station.get(&format!("/api/v1/outlets/{outlet}/goods")).await.json();
    let stock =
        |id: i64| goods["items"].as_array().unwrap().iter().find(|g| g["id"] == id).unwrap()["stock"].as_i64().unwrap();
    let (rice_taken, oil_taken) = (2 - stock(rice), 10 - stock(oil));
    assert!(stock(rice) >= 0 && stock(oil) >= 0);
    assert_eq!(30 - points, rice_taken * 10 + oil_taken * 15, "points and stock moved together");
    assert!((0..15).contains(&points), "redeemed until nothing more fits: {points}");

    // the ledgers balance
    assert_eq!(ledger::verify(&db).await.unwrap(), (0, 0, 0));
});

/// Sign in through the login form (a browser session with its CSRF token).
async fn login(app: &TestApp, user: &str) -> Client {
    let mut c = app.client();
    let r = c.login(user, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "login {user}: {}", r.body);
    c
}

/// A login for a registry person already registered (e.g. an elder's resident account).
async fn login_for(db: &Db, username: &str, role: Role, person: i64) {
    let uid = create_user(db, username, role, "420106", None).await;
    let mut tx = db.begin().await.unwrap();
    users::link_person(&mut tx, uid, person).await.unwrap();
    tx.commit().await.unwrap();
}

async fn balance(db: &Db, l: Ledger, person: i64) -> i64 {
    ledger::balance(db, l, person).await.unwrap()
}

async fn count(db: &Db, sql: &str) -> i64 {
    wushe_store::query::fetch_count(db, sql, &[]).await.unwrap()
}

db_test!(time_bank_and_love_supermarket_pages, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let child = volunteer(&db, &mut county, "child", 1, "19900307").await;
    // the parent's login is a resident's (an elder served, registered as a volunteer long ago)
    let parent_id_number = citizen_id("42010619550101002");
    let body = json!({"name": "李父", "citizen_id": parent_id_number, "division_code": "420106001001",
        "phone": "13700000099"});
    let r = county.json(Method::POST, "/api/v1/volunteers", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let parent = r.json()["id"].as_i64().unwrap();
    login_for(&db, "parent", Role::Resident, parent).await;
    create_user(&db, "unlinked", Role::Volunteer, "420106", None).await;
    let mut org = app.api("org").await;
    let mut c = app.api("child").await;
    serve_three_hours(&db, &mut org, &mut c).await;

    // the holder's own page: balances, the statement line of the service, no relatives yet
    let mut child_ui = login(&app, "child").await;
    let r = child_ui.get("/timebank").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<meta name=\"viewport\""));
    assert!(r.body.contains("id=\"coin-balance\">3<") && r.body.contains("id=\"point-balance\">30<"), "{}", r.body);
    assert!(r.body.contains("时间银行助老") && r.body.contains("服务获得") && r.body.contains("+3"), "{}", r.body);
    assert!(r.body.contains("id=\"no-relatives\"") && r.body.contains("id=\"spend-not-yet\""), "{}", r.body);
    assert!(r.body.contains("href=\"/timebank\"") && r.body.contains("href=\"/outlets\""), "navigation");
    let r = child_ui.get("/timebank?ledger=points").await;
    assert!(r.body.contains("+30") && r.body.contains("余额 <span class=\"line-balance\">30</span>"), "{}", r.body);
    // not a holder's page for staff, nor for a login without a registry person
    for who in ["station", "org", "county"] {
        let mut s = login(&app, who).await;
        assert_eq!(s.get("/timebank").await.status, StatusCode::FORBIDDEN, "{who}");
    }
    let mut unlinked = login(&app, "unlinked").await;
    let r = unlinked.get("/timebank").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("尚未关联"), "{}", r.body);

    // station staff: the lookup and the person's account in scope; others refused
    let mut station = login(&app, "station").await;
    let r = station.get("/timebank/people?q=李乙").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains(&format!("href=\"/timebank/people/{child}\"")) && r.body.contains("********"),
        "{}",
        r.body
    );
    assert!(r.body.contains("href=\"/timebank/people\""), "navigation for staff");
    let r = station.get(&format!("/timebank/people/{child}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"relation-form\"") && !r.body.contains("id=\"record-spend-form\""), "{}", r.body);
    let mut county2 = login(&app, "county2").await;
    assert_eq!(county2.get(&format!("/timebank/people/{child}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(unlinked.get("/timebank/people").await.status, StatusCode::FORBIDDEN);
    let mut org_ui = login(&app, "org").await;
    let r = org_ui.get(&format!("/timebank/people/{child}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "not a member of the organization");

    // recording the relative: CSRF required, then the child's page offers gifts and paying
    let rel = [("relative", parent_id_number.as_str()), ("relation", "父母")];
    let r = station.post_form_raw(&format!("/timebank/people/{child}/relations"), &rel).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");
    let r = station
        .post_form(&format!("/timebank/people/{child}/relations"), &[("relative", "nobody"), ("relation", "父母")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("未找到"), "{}", r.body);
    let r = station
        .post_form(
            &format!("/timebank/people/{child}/relations"),
            &[("relative", &parent_id_number), ("relation", "朋友")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = station.post_form(&format!("/timebank/people/{child}/relations"), &rel).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(station.get(&format!("/timebank/people/{child}")).await.body.contains("父母：<a href"), "relative listed");

    // gifts through the form
    let r = child_ui.get("/timebank").await;
    assert!(r.body.contains("id=\"transfer-form\"") && r.body.contains("id=\"spend-form\""), "{}", r.body);
    let p = parent.to_string();
    let r = child_ui.post_form_raw("/timebank/transfer", &[("to_person_id", &p), ("coins", "1")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");
    let r = child_ui.post_form("/timebank/transfer", &[("to_person_id", &p), ("coins", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(child_ui.get("/timebank").await.body.contains("已转赠 1 个时间币"));
    let r = child_ui.post_form("/timebank/transfer", &[("to_person_id", &p), ("coins", "10")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("余额不足") && r.body.contains("value=\"10\""), "typed value kept: {}", r.body);
    let r = child_ui.post_form("/timebank/transfer", &[("to_person_id", &p), ("coins", "一个")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(balance(&db, Ledger::Coins, parent).await, 60);

    // spending: the child (36) pays for the parent (71); not for themselves
    let r = child_ui
        .post_form("/timebank/spend", &[("person_id", &child.to_string()), ("coins", "0.5"), ("service", "助洁")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("须年满 60 周岁"), "{}", r.body);
    let r = child_ui
        .post_form("/timebank/spend", &[("person_id", &p), ("coins", "0.5"), ("service", "助洁"), ("memo", "擦窗")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(balance(&db, Ledger::Coins, child).await, 90);
    assert!(child_ui.get("/timebank").await.body.contains("助洁：擦窗（为父母李父代付）"));
    // the resident elder spends their own, and the station records one paid by them
    let mut parent_ui = login(&app, "parent").await;
    let r = parent_ui.get("/timebank").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("本人（李父）") && r.body.contains("子女：李乙"), "{}", r.body);
    let r = parent_ui.post_form("/timebank/spend", &[("person_id", ""), ("coins", "0.5"), ("service", "助浴")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = station.get(&format!("/timebank/people/{parent}")).await;
    assert!(r.body.contains("id=\"record-spend-form\""), "{}", r.body);
    let r = station
        .post_form(
            &format!("/timebank/people/{parent}/spend"),
            &[("payer_person_id", &p), ("coins", "0.5"), ("service", "助餐")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(balance(&db, Ledger::Coins, parent).await, 0);
    let r =
        station.post_form(&format!("/timebank/people/{parent}/spend"), &[("coins", "0.5"), ("service", "助餐")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("余额不足"), "{}", r.body);

    // the love supermarket: opened and stocked by the station, not by volunteers or org staff
    let outlet_form = [("name", "积玉桥爱心超市"), ("division_code", "420106001001"), ("address", "社区一楼")];
    let r = child_ui.post_form("/outlets", &outlet_form).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = station.post_form("/outlets", &outlet_form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let outlet: i64 = r.location().unwrap().trim_start_matches("/outlets/").parse().unwrap();
    assert!(station.get("/outlets").await.body.contains(&format!("href=\"/outlets/{outlet}\"")));
    let r = org_ui
        .post_form(&format!("/outlets/{outlet}/goods"), &[("name", "大米"), ("points", "10"), ("stock", "2")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = station
        .post_form(&format!("/outlets/{outlet}/goods"), &[("name", "大米 5 斤"), ("points", "10"), ("stock", "2")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let rice = count(&db, "SELECT MAX(id) FROM goods").await;
    let r = station
        .post_form(&format!("/outlets/{outlet}/goods"), &[("name", "油"), ("points", "零"), ("stock", "2")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // price, restock, a correction below zero refused, all audited
    let r = station.post_form(&format!("/goods/{rice}/price"), &[("points", "12")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = station.post_form(&format!("/goods/{rice}/restock"), &[("quantity", "3"), ("note", "爱心企业捐赠")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = station.post_form(&format!("/goods/{rice}/restock"), &[("quantity", "-10")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("库存不能小于 0"), "{}", r.body);
    let mut county2_api = app.api("county2").await;
    let r = county2_api.json(Method::PATCH, &format!("/api/v1/goods/{rice}"), &json!({"points": 1})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "out of scope");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'goods' AND action IN ('create', 'update', 'restock')"
        )
        .await,
        3
    );

    // the child redeems their own points on the outlet page; the station at the counter
    let r = child_ui.get(&format!("/outlets/{outlet}")).await;
    assert!(
        r.body.contains("我的积分：<strong>30</strong>") && r.body.contains("class=\"d-flex gap-1 redeem-form\""),
        "{}",
        r.body
    );
    assert!(!r.body.contains("id=\"counter-form\""), "no counter for volunteers");
    let r = child_ui
        .post_form(&format!("/outlets/{outlet}/redeem"), &[("goods_id", &rice.to_string()), ("quantity", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let child_id_number = citizen_id(&format!("42010619900307{:03}", 1));
    let counter = [("q", child_id_number.as_str()), ("goods_id", &rice.to_string()), ("quantity", "1")];
    assert_eq!(county2.get(&format!("/outlets/{outlet}")).await.status, StatusCode::OK, "outlets are public");
    let r = county2.post_form(&format!("/outlets/{outlet}/redeem"), &counter).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the child is out of county2's scope: {}", r.body);
    let r = station.post_form(&format!("/outlets/{outlet}/redeem"), &counter).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(balance(&db, Ledger::Points, child).await, 6);
    let r = station.post_form(&format!("/outlets/{outlet}/redeem"), &counter).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("余额不足"), "{}", r.body);
    let r = station.get(&format!("/outlets/{outlet}")).await;
    assert!(r.body.contains("id=\"counter-form\"") && r.body.contains("李乙 · 大米 5 斤 × 1"), "{}", r.body);
    assert!(r.body.contains("<span class=\"goods-stock\">3</span>"), "5 − 2 redeemed: {}", r.body);
    // taken off the shelf: hidden from volunteers and not redeemable
    let r = station.post_form(&format!("/goods/{rice}/active"), &[("active", "0")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = child_ui.get(&format!("/outlets/{outlet}")).await;
    assert!(!r.body.contains(&format!("id=\"goods-{rice}\"")) && r.body.contains("id=\"no-goods\""), "{}", r.body);
    let r = c.json(Method::POST, "/api/v1/redemptions", &json!({"goods_id": rice})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // the statement API: newest first, the balance after each line ending at the balance
    let r = c.get(&format!("/api/v1/timebank/accounts/{child}/statement?ledger=points&per_page=1")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let st = r.json();
    assert_eq!((st["total"].as_i64(), st["items"][0]["balance_after"].as_i64()), (Some(3), Some(6)));
    assert_eq!(st["items"][0]["kind"], "redeem");
    let r = c.get(&format!("/api/v1/timebank/accounts/{child}/statement?ledger=coins")).await.json();
    let kinds: Vec<&str> = r["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["spend", "transfer", "earn"]);
    assert_eq!(r["items"][1]["counterparty"], "李父");
    let r = county.get("/api/v1/timebank/accounts?q=李乙&role=volunteer").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["items"].as_array().unwrap().iter().any(|h| h["id"] == child && h["points"] == 6));

    assert_eq!(ledger::verify(&db).await.unwrap(), (0, 0, 0));
});

/// Move a coin deposit back in time (as if earned then): the fixture a year of waiting needs.
async fn backdate_deposit(db: &Db, nth: i64, at: chrono::DateTime<Utc>) {
    let mut tx = db.begin().await.unwrap();
    on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE ledger_transactions SET created_at = $1 WHERE id = (SELECT id FROM ledger_transactions \
         WHERE ledger = 'coins' AND kind = 'earn' ORDER BY id LIMIT 1 OFFSET $2)"
    )
    .bind(at)
    .bind(nth)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    tx.commit().await.unwrap();
}

db_test!(coins_expire_oldest_first_once, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let child = volunteer(&db, &mut county, "child", 1, "19900307").await;
    let parent = volunteer(&db, &mut county, "parent", 2, "19550101").await;
    let mut admin = app.api("admin").await;
    let mut rules = admin.get("/api/v1/settings/volunteering").await.json();
    rules["timebank"]["expiry_months"] = json!(12);
    let r = admin.json(Method::PUT, "/api/v1/settings/volunteering", &rules).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut station = app.api("station").await;
    let r = station
        .json(
            Method::POST,
            "/api/v1/timebank/relations",
            &json!({"person_id": child, "relative_id": parent, "relation": "父母"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let mut org = app.api("org").await;
    let mut c = app.api("child").await;
    // two services: lot A (3 coins) then lot B (3 coins); A earned 11 months and 20 days ago
    serve_three_hours(&db, &mut org, &mut c).await;
    serve_three_hours(&db, &mut org, &mut c).await;
    let now = Utc::now();
    let a_at = now.checked_sub_months(chrono::Months::new(12)).unwrap() + Duration::days(10);
    backdate_deposit(&db, 0, a_at).await;

    // 即将过期: lot A within 30 days, in the API and on the page
    let acc = c.get(&format!("/api/v1/timebank/accounts/{child}")).await.json();
    assert_eq!((acc["coin_units"].as_i64(), acc["expired_units"].as_i64()), (Some(360), Some(0)));
    assert_eq!(acc["expiring_soon"].as_array().unwrap().len(), 1, "{acc}");
    assert_eq!((acc["expiring_soon"][0]["units"].as_i64(), acc["expiry_months"].as_i64()), (Some(180), Some(12)));
    let mut ui = login(&app, "child").await;
    let page = ui.get("/timebank").await.body;
    assert!(page.contains("即将过期") && page.contains("3 个时间币将于"), "{page}");

    // a gift takes the oldest coins, which keep their date: the parent's expire with A
    let r = c.json(Method::POST, "/api/v1/timebank/transfers", &json!({"to_person_id": parent, "coins": 1})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let acc = c.get(&format!("/api/v1/timebank/accounts/{parent}")).await;
    assert_eq!(acc.status, StatusCode::FORBIDDEN, "not the child's to see");
    let mut p = app.api("parent").await;
    let acc = p.get(&format!("/api/v1/timebank/accounts/{parent}")).await.json();
    assert_eq!(acc["expiring_soon"][0]["units"].as_i64(), Some(60), "{acc}");

    // the job, eleven days on: A's remaining two coins and the parent's gift lapse, once
    let later = now + Duration::days(11);
    let run = svc::expire_due(&db, later).await.unwrap();
    assert_eq!(run, svc::ExpiryRun { people: 2, units: 180 });
    assert_eq!(svc::expire_due(&db, later).await.unwrap(), svc::ExpiryRun::default(), "idempotent");
    assert_eq!((balance(&db, Ledger::Coins, child).await, balance(&db, Ledger::Coins, parent).await), (180, 0));
    assert_eq!(
        count(&db, "SELECT balance FROM ledger_accounts WHERE ledger = 'coins' AND system_key = 'lapsed'").await,
        180
    );
    // each expiry entry names the deposit date it took (A's)
    let dated = count(
        &db,
        "SELECT COUNT(*) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
         WHERE t.kind = 'expire' AND e.amount < 0 AND e.deposited_at IS NOT NULL",
    )
    .await;
    assert_eq!(dated, 2);
    let st = c.get(&format!("/api/v1/timebank/accounts/{child}/statement")).await.json();
    assert_eq!(
        (st["items"][0]["kind"].as_str(), st["items"][0]["counterparty"].as_str()),
        (Some("expire"), Some("到期失效"))
    );
    assert_eq!((st["items"][0]["amount"].as_i64(), st["items"][0]["balance_after"].as_i64()), (Some(-120), Some(180)));

    // coins past their expiry cannot be given even before the job takes them: a third
    // service (lot C), earned 13 months ago
    serve_three_hours(&db, &mut org, &mut c).await;
    backdate_deposit(&db, 2, now.checked_sub_months(chrono::Months::new(13)).unwrap()).await;
    let acc = c.get(&format!("/api/v1/timebank/accounts/{child}")).await.json();
    assert_eq!((acc["coin_units"].as_i64(), acc["expired_units"].as_i64()), (Some(360), Some(180)));
    assert!(ui.get("/timebank").await.body.contains("id=\"expired-pending\""));
    let r = c.json(Method::POST, "/api/v1/timebank/transfers", &json!({"to_person_id": parent, "coins": 4})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("现有 3 个时间币"), "{}", r.body);
    assert_eq!(balance(&db, Ledger::Coins, child).await, 360, "a refused gift expires nothing either");
    // a gift expires what is due first, then takes from B
    let r = c.json(Method::POST, "/api/v1/timebank/transfers", &json!({"to_person_id": parent, "coins": 1})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!((balance(&db, Ledger::Coins, child).await, balance(&db, Ledger::Coins, parent).await), (120, 60));
    let acc = p.get(&format!("/api/v1/timebank/accounts/{parent}")).await.json();
    assert!(acc["expiring_soon"].as_array().unwrap().is_empty(), "B's coins have a year to go: {acc}");
    let st = c.get(&format!("/api/v1/timebank/accounts/{child}/statement")).await.json();
    let kinds: Vec<&str> = st["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    // in date order: C (13 months ago), A, B, the gift and the job's expiry, then today's
    assert_eq!(kinds, ["transfer", "expire", "expire", "transfer", "earn", "earn", "earn"]);
    assert_eq!(svc::expire_due(&db, Utc::now()).await.unwrap(), svc::ExpiryRun::default(), "nothing left due");
    assert_eq!(ledger::verify(&db).await.unwrap(), (0, 0, 0));
});

db_test!(sign_ups_gifts_and_redemptions_at_once, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let child = volunteer(&db, &mut county, "child", 1, "19900307").await;
    let parent = volunteer(&db, &mut county, "parent", 2, "19550101").await;
    let mut others = Vec::new();
    for i in 0..8u32 {
        volunteer(&db, &mut county, &format!("vol{i}"), 10 + i, "19850505").await;
        others.push(format!("vol{i}"));
    }
    let mut org = app.api("org").await;
    let mut c = app.api("child").await;
    serve_three_hours(&db, &mut org, &mut c).await;
    let mut station = app.api("station").await;
    station
        .json(
            Method::POST,
            "/api/v1/timebank/relations",
            &json!({"person_id": child, "relative_id": parent, "relation": "父母"}),
        )
        .await;
    let r = station
        .json(
            Method::POST,
            "/api/v1/outlets",
            &json!({"name": "积玉桥爱心超市", "division_code": "420106001001", "address": "一楼"}),
        )
        .await;
    let outlet = r.json()["id"].as_i64().unwrap();
    let mut goods = Vec::new();
    for (name, points, stock) in [("大米", 10, 2), ("食用油", 15, 10)] {
        let body = json!({"name": name, "points": points, "stock": stock});
        goods.push(
            station.json(Method::POST, &format!("/api/v1/outlets/{outlet}/goods"), &body).await.json()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    // an activity with five places, auto-approved: the rest wait
    let s = Utc::now() + Duration::days(2);
    let body = json!({"title": "时间银行陪伴", "content": "陪伴老人", "category": "扶老助残", "division_code": "420106001001",
        "address": "积玉桥社区", "publish": true, "timebank": true, "auto_approve": true,
        "slots": [{"starts_at": s, "ends_at": s + Duration::hours(2), "capacity": 5}]});
    let aid = org.json(Method::POST, "/api/v1/activities", &body).await.json()["id"].as_i64().unwrap();
    let slot = org.get(&format!("/api/v1/activities/{aid}")).await.json()["slots"][0]["id"].as_i64().unwrap();

    // everything at once: eight sign-ups, twelve gifts of one coin from three, ten redemptions
    // one login each (logins are rate-limited), many clients on its token
    let child_token = c.token_for("child", PASSWORD).await;
    let mut signers = Vec::new();
    for u in &others {
        signers.push(app.api(u).await);
    }
    let mut tasks = Vec::new();
    for mut v in signers {
        tasks.push(tokio::spawn(async move {
            let r = v.json(Method::POST, &format!("/api/v1/activities/{aid}/signups"), &json!({"slot_id": slot})).await;
            ("signup", r.status)
        }));
    }
    for _ in 0..12 {
        let mut v = app.client().with_bearer(&child_token);
        tasks.push(tokio::spawn(async move {
            let r =
                v.json(Method::POST, "/api/v1/timebank/transfers", &json!({"to_person_id": parent, "coins": 1})).await;
            ("transfer", r.status)
        }));
    }
    for i in 0..10 {
        let mut v = app.client().with_bearer(&child_token);
        let g = goods[i % 2];
        tasks.push(tokio::spawn(async move {
            ("redeem", v.json(Method::POST, "/api/v1/redemptions", &json!({"goods_id": g})).await.status)
        }));
    }
    let (mut signed, mut gifts) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            ("signup", StatusCode::CREATED) => signed += 1,
            ("transfer", StatusCode::CREATED) => gifts += 1,
            ("redeem", StatusCode::CREATED) | (_, StatusCode::CONFLICT) => {}
            (what, st) => panic!("{what} answered {st}"),
        }
    }
    assert_eq!((signed, gifts), (8, 3));
    let approved =
        count(&db, &format!("SELECT COUNT(*) FROM signups WHERE slot_id = {slot} AND status = 'approved'")).await;
    assert_eq!(approved, 5, "no more places taken than there are");
    assert_eq!((balance(&db, Ledger::Coins, child).await, balance(&db, Ledger::Coins, parent).await), (0, 180));
    let points = balance(&db, Ledger::Points, child).await;
    let stock = |id: i64| format!("SELECT stock FROM goods WHERE id = {id}");
    let (rice, oil) = (count(&db, &stock(goods[0])).await, count(&db, &stock(goods[1])).await);
    assert!(rice >= 0 && oil >= 0);
    assert_eq!(30 - points, (2 - rice) * 10 + (10 - oil) * 15, "points and stock moved together");
    assert!((0..15).contains(&points), "{points}");
    assert_eq!(ledger::verify(&db).await.unwrap(), (0, 0, 0));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM ledger_accounts WHERE balance < 0 AND person_id IS NOT NULL").await, 0);
});

db_test!(staff_remove_a_recorded_relation, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let child = volunteer(&db, &mut county, "child", 1, "19900307").await;
    let parent = volunteer(&db, &mut county, "parent", 2, "19550101").await;
    let mut org = app.api("org").await;
    let mut c = app.api("child").await;
    serve_three_hours(&db, &mut org, &mut c).await;
    let mut station = app.api("station").await;
    let mut county2 = app.api("county2").await;
    let relation = json!({"person_id": child, "relative_id": parent, "relation": "父母"});
    let relatives = |acc: &serde_json::Value| {
        acc["relatives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["person_id"].as_i64().unwrap(), r["relation"].as_str().unwrap().to_string()))
            .collect::<Vec<_>>()
    };

    // recorded (not by staff out of scope), listed both ways, and a gift goes through
    let r = county2.json(Method::POST, "/api/v1/timebank/relations", &relation).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "out of scope: {}", r.body);
    let r = station.json(Method::POST, "/api/v1/timebank/relations", &relation).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let acc = station.get(&format!("/api/v1/timebank/accounts/{child}")).await.json();
    assert_eq!(relatives(&acc), [(parent, "父母".to_string())]);
    let acc = station.get(&format!("/api/v1/timebank/accounts/{parent}")).await.json();
    assert_eq!(relatives(&acc), [(child, "子女".to_string())]);
    let gift = json!({"to_person_id": parent, "coins": 1});
    let r = c.json(Method::POST, "/api/v1/timebank/transfers", &gift).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(balance(&db, Ledger::Coins, parent).await, 60);

    // only staff who keep the time bank, in scope, may remove it
    let path = format!("/api/v1/timebank/relations/{child}/{parent}");
    let r = c.send(Method::DELETE, &path, None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a volunteer: {}", r.body);
    let r = org.send(Method::DELETE, &path, None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "organization staff: {}", r.body);
    let r = county2.send(Method::DELETE, &path, None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "out of scope: {}", r.body);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM person_relations").await, 2, "nothing removed yet");

    // removed: both directions gone, gifts refused, the past gift kept
    let r = station.send(Method::DELETE, &path, None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM person_relations").await, 0);
    let acc = station.get(&format!("/api/v1/timebank/accounts/{child}")).await.json();
    assert!(relatives(&acc).is_empty(), "{acc}");
    let acc = station.get(&format!("/api/v1/timebank/accounts/{parent}")).await.json();
    assert!(relatives(&acc).is_empty(), "{acc}");
    let r = c.json(Method::POST, "/api/v1/timebank/transfers", &gift).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("直系亲属"), "{}", r.body);
    let r = station
        .json(
            Method::POST,
            "/api/v1/timebank/spend",
            &json!({"person_id": parent, "coins": 0.5, "memo": "助洁", "payer_person_id": child}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no longer pays for the parent: {}", r.body);
    assert_eq!(balance(&db, Ledger::Coins, parent).await, 60, "the past gift stays");
    let st = c.get(&format!("/api/v1/timebank/accounts/{child}/statement?ledger=coins")).await.json();
    assert_eq!(st["items"][0]["kind"], "transfer");

    // nothing left to remove, either way round
    for p in [path.clone(), format!("/api/v1/timebank/relations/{parent}/{child}")] {
        let r = station.send(Method::DELETE, &p, None, vec![], &[]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
        assert!(r.error_message().contains("没有登记亲属关系"), "{}", r.body);
    }
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'remove_relation' AND entity = 'person' \
                 AND entity_id = '{child}'"
            )
        )
        .await,
        1
    );
    let audit = county.get("/api/v1/audit?action=remove_relation").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let entry = &audit.json()["items"][0];
    assert_eq!((entry["entity"].as_str(), entry["username"].as_str()), (Some("person"), Some("station")), "{entry}");
    let summary: serde_json::Value = serde_json::from_str(entry["summary"].as_str().unwrap()).unwrap();
    assert_eq!((summary["relative"].as_i64(), summary["relation"].as_str()), (Some(parent), Some("父母")), "{summary}");
    assert_eq!(summary["relative_name"], "李*", "the name masked as in other audit entries");

    // the page: a 解除 button per relative for staff, with CSRF, a confirmation and a flash
    let r = station.json(Method::POST, "/api/v1/timebank/relations", &relation).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let mut station_ui = login(&app, "station").await;
    let page = format!("/timebank/people/{child}");
    let remove = format!("/timebank/people/{child}/relations/{parent}/remove");
    let r = station_ui.get(&page).await;
    assert!(r.body.contains(&format!("action=\"{remove}\"")) && r.body.contains(">解除</button>"), "{}", r.body);
    assert!(r.body.contains("confirm(") && r.body.contains("确定解除与李丙（父母）的亲属关系吗"), "{}", r.body);
    let mut child_ui = login(&app, "child").await;
    assert!(!child_ui.get("/timebank").await.body.contains(">解除</button>"), "not on the holder's own page");
    assert_eq!(child_ui.post_form(&remove, &[]).await.status, StatusCode::FORBIDDEN);
    let r = station_ui.post_form_raw(&remove, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");
    let r = station_ui.post_form(&remove, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some(page.as_str()));
    let r = station_ui.get(&page).await;
    assert!(r.body.contains("已解除亲属关系：李丙（父母）") && r.body.contains("id=\"no-relatives\""), "{}", r.body);
    assert!(!r.body.contains(">解除</button>"), "{}", r.body);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM person_relations").await, 0);
    // sent twice: said on the page
    let r = station_ui.post_form(&remove, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("id=\"form-error\"") && r.body.contains("两人之间没有登记亲属关系"), "{}", r.body);
    assert_eq!(ledger::verify(&db).await.unwrap(), (0, 0, 0));
});
