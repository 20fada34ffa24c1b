//! Time bank and points through the API on both backends: coins and points earned by a
//! confirmed time-bank service, gifts only to recorded direct relatives, spending from 60,
//! love-supermarket redemptions taking points and stock together, and the ledger invariants
//! after many concurrent transfers and redemptions (no negative balance, every balance the
//! sum of its entries, every transaction summing to zero, stock never below zero).

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use wushe_domain::accounts::Role;
use wushe_store::accounts::users;
use wushe_store::timebank::ledger;
use wushe_store::{on_tx, Db};
use wushe_testkit::{citizen_id, create_user, db_test, seed_cast, Client, TestApp, PASSWORD};

async fn api(app: &TestApp, user: &str) -> Client {
    let mut c = app.client();
    c.token_for(user, PASSWORD).await;
    c
}

async fn volunteer(db: &Db, county: &mut Client, username: &str, seq: u32, birth: &str) -> i64 {
    let given = ["甲", "乙", "丙", "丁", "戊"][seq as usize % 5];
    let body = json!({"name": format!("李{given}"), "citizen_id": citizen_id(&format!("420106{birth}{seq:03}")),
        "division_code": "420106001001", "skills": ["心理疏导"], "phone": format!("137{seq:08}")});
    let r = county.json(Method::POST, "/api/v1/volunteers", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let pid = r.json()["id"].as_i64().unwrap();
    let uid = create_user(db, username, Role::Volunteer, "420106", None).await;
    let mut tx = db.begin().await.unwrap();
    users::link_person(&mut tx, uid, pid).await.unwrap();
    tx.commit().await.unwrap();
    pid
}

/// A three-hour time-bank service by the volunteer, confirmed by the organization.
async fn serve_three_hours(db: &Db, org: &mut Client, vol: &mut Client) {
    let s = Utc::now() + Duration::minutes(20);
    let body = json!({"title": "时间银行助老", "content": "陪伴老人", "category": "扶老助残", "division_code": "420106001001",
        "address": "积玉桥社区", "publish": true, "timebank": true,
        "slots": [{"starts_at": s, "ends_at": s + Duration::hours(3), "capacity": 10}]});
    let aid = org.json(Method::POST, "/api/v1/activities", &body).await.json()["id"].as_i64().unwrap();
    let slot = org.get(&format!("/api/v1/activities/{aid}")).await.json()["slots"][0]["id"].as_i64().unwrap();
    let sid =
        vol.json(Method::POST, &format!("/api/v1/activities/{aid}/signups"), &json!({"slot_id": slot})).await.json()
            ["signup_id"]
            .clone();
    let r = org.json(Method::POST, "/api/v1/attendance/check-in", &json!({"activity_id": aid, "signup_id": sid})).await;
    let att = r.json()["attendance_id"].as_i64().unwrap();
    let at = wushe_store::time::now() - Duration::hours(3);
    let mut tx = db.begin().await.unwrap();
    on_tx!(&mut tx, |c| sqlx::query("UPDATE attendance SET checked_in_at = $1 WHERE id = $2")
        .bind(at)
        .bind(att)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    tx.commit().await.unwrap();
    org.json(Method::POST, "/api/v1/attendance/check-out", &json!({"activity_id": aid, "signup_id": sid})).await;
    let r =
        org.json(Method::POST, "/api/v1/service-records/confirm", &json!({"items": [{"attendance_id": att}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

db_test!(coins_points_and_the_love_supermarket_under_concurrency, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = api(&app, "county").await;
    let child = volunteer(&db, &mut county, "child", 1, "19900307").await;
    let parent = volunteer(&db, &mut county, "parent", 2, "19550101").await;
    let stranger = volunteer(&db, &mut county, "stranger", 3, "19800101").await;
    let mut org = api(&app, "org").await;
    let mut c = api(&app, "child").await;
    serve_three_hours(&db, &mut org, &mut c).await;

    // 180 minutes credit 180 (30-minute units): 3 coins and 30 points
    let acc = c.get(&format!("/api/v1/timebank/accounts/{child}")).await;
    assert_eq!(acc.status, StatusCode::OK, "{}", acc.body);
    let acc = acc.json();
    assert_eq!(
        (acc["coin_units"].as_i64(), acc["coins"].as_str(), acc["points"].as_i64()),
        (Some(180), Some("3"), Some(30))
    );
    let mut s = api(&app, "stranger").await;
    assert_eq!(s.get(&format!("/api/v1/timebank/accounts/{child}")).await.status, StatusCode::FORBIDDEN);

    // gifts only to recorded direct relatives
    let t = json!({"to_person_id": parent, "coins": 1});
    let r = c.json(Method::POST, "/api/v1/timebank/transfers", &t).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("直系亲属"), "{}", r.body);
    let mut station = api(&app, "station").await;
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
        let mut c = api(&app, "child").await;
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
        let mut c = api(&app, "child").await;
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
