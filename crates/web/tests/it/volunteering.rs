//! Volunteer service through the API on both backends: publishing, sign-ups with capacity and
//! the waiting list (also under concurrent sign-ups), rotating-code check-in, the geofence and
//! insurance refusals, check-out and its resolution by the organizer, hour confirmation (never
//! one's own), the record with totals and star level, corrections superseding records, and
//! the statistics the writes feed.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use wushe_store::{stats, Db};
use wushe_testkit::volunteering::{backdate_check_in, register_volunteer, serve};
use wushe_testkit::{citizen_id, db_test, seed_cast, Client, TestApp};

/// Register a volunteer (by the county official) with a login of their own; returns the person id.
async fn volunteer(db: &Db, county: &mut Client, username: &str, seq: u32, birth: &str) -> i64 {
    let id = citizen_id(&format!("420106{birth}{seq:03}"));
    let given = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸"][seq as usize % 10];
    let mut body = json!({"name": format!("王{given}"), "citizen_id": id, "phone": format!("139{seq:08}"),
        "division_code": "420106001001", "skills": ["心理疏导"]});
    if birth.starts_with("20") {
        body["guardian_name"] = json!("家长");
        body["guardian_phone"] = json!("13800000000");
        body["guardian_consent_on"] = json!("2026-01-01");
    }
    register_volunteer(db, county, username, &body).await
}

fn activity(title: &str, capacity: i64, starts_in_min: i64) -> Value {
    let s = Utc::now() + Duration::minutes(starts_in_min);
    json!({"title": title, "content": "陪伴社区老人聊天、读报", "category": "扶老助残", "division_code": "420106001001",
           "address": "积玉桥社区活动室", "publish": true,
           "slots": [{"starts_at": s, "ends_at": s + Duration::hours(3), "capacity": capacity}]})
}

async fn create_activity(org: &mut Client, body: &Value) -> (i64, i64) {
    let r = org.json(Method::POST, "/api/v1/activities", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let d = org.get(&format!("/api/v1/activities/{id}")).await.json();
    (id, d["slots"][0]["id"].as_i64().unwrap())
}

db_test!(the_volunteer_path_end_to_end, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let p1 = volunteer(&db, &mut county, "vol1", 1, "19900307").await;
    volunteer(&db, &mut county, "vol2", 2, "19910101").await;
    let p3 = volunteer(&db, &mut county, "vol3", 3, "19920101").await;
    let mut org = app.api("org").await;
    let (mut v1, mut v2, mut v3) = (app.api("vol1").await, app.api("vol2").await, app.api("vol3").await);

    // validation names the field
    let mut bad = activity("读报", 2, 30);
    bad["category"] = json!("不存在");
    let r = org.json(Method::POST, "/api/v1/activities", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_message().contains("服务类别"), "{}", r.body);
    assert_eq!(
        v1.json(Method::POST, "/api/v1/activities", &activity("陪伴老人", 2, 30)).await.status,
        StatusCode::FORBIDDEN
    );

    let (aid, slot) = create_activity(&mut org, &activity("陪伴社区老人", 2, 30)).await;
    // the public sees it without logging in
    let mut public = app.client();
    let l = public.get("/api/v1/activities?q=社区老人").await;
    assert_eq!(l.json()["total"], 1, "{}", l.body);

    // capacity 2: two approved, the third waits; a cancellation promotes it
    let s = json!({"slot_id": slot});
    let path = format!("/api/v1/activities/{aid}/signups");
    assert_eq!(v1.json(Method::POST, &path, &s).await.json()["status"], "approved");
    let r2 = v2.json(Method::POST, &path, &s).await.json();
    assert_eq!(r2["status"], "approved");
    let r3 = v3.json(Method::POST, &path, &s).await.json();
    assert_eq!(r3["status"], "waitlisted");
    assert_eq!(v1.json(Method::POST, &path, &s).await.status, StatusCode::CONFLICT, "no double sign-up");
    let cancel = json!({"action": "cancel"});
    let r = v2.json(Method::POST, &format!("/api/v1/signups/{}/decision", r2["signup_id"]), &cancel).await;
    assert_eq!(r.json()["status"], "cancelled", "{}", r.body);
    let roster = org.get(&format!("/api/v1/activities/{aid}/roster")).await.json();
    let st: Vec<&str> = roster["signups"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap()).collect();
    assert_eq!(st, vec!["approved", "cancelled", "approved"], "v3 promoted");
    // someone else's sign-up cannot be cancelled by a volunteer
    let r = v1.json(Method::POST, &format!("/api/v1/signups/{}/decision", r3["signup_id"]), &cancel).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // check-in: a code is required, a wrong one refused, the current one works once
    let ci = "/api/v1/attendance/check-in";
    assert_eq!(v1.json(Method::POST, ci, &json!({"activity_id": aid})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = v1.json(Method::POST, ci, &json!({"activity_id": aid, "code": "000000x"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("签到码"), "{}", r.body);
    assert_eq!(v1.get(&format!("/api/v1/activities/{aid}/checkin-code")).await.status, StatusCode::FORBIDDEN);
    let code =
        org.get(&format!("/api/v1/activities/{aid}/checkin-code")).await.json()["code"].as_str().unwrap().to_string();
    let r = v1.json(Method::POST, ci, &json!({"activity_id": aid, "code": code})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a1 = r.json()["attendance_id"].as_i64().unwrap();
    assert_eq!(
        v1.json(Method::POST, ci, &json!({"activity_id": aid, "code": code})).await.status,
        StatusCode::CONFLICT
    );
    // the organizer checks v3 in from the roster
    let r = org.json(Method::POST, ci, &json!({"activity_id": aid, "signup_id": r3["signup_id"]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a3 = r.json()["attendance_id"].as_i64().unwrap();

    // three hours of service
    backdate_check_in(&db, a1, Duration::hours(3)).await;
    backdate_check_in(&db, a3, Duration::hours(3)).await;
    let co = "/api/v1/attendance/check-out";
    let confirm = |ids: &[i64]| json!({"items": ids.iter().map(|i| json!({"attendance_id": i, "travel_minutes": 20})).collect::<Vec<_>>()});
    let r = org.json(Method::POST, "/api/v1/service-records/confirm", &confirm(&[a1])).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "not checked out yet");
    assert!(r.error_message().contains("尚未签退"), "{}", r.body);
    let r = v1.json(Method::POST, co, &json!({"activity_id": aid, "code": code})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out_at = Utc::now() - Duration::minutes(10);
    let r = org
        .json(Method::POST, co, &json!({"activity_id": aid, "signup_id": r3["signup_id"], "checked_out_at": out_at}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // volunteers never confirm; the organization confirms both at once
    assert_eq!(
        v1.json(Method::POST, "/api/v1/service-records/confirm", &confirm(&[a1])).await.status,
        StatusCode::FORBIDDEN
    );
    let r = org.json(Method::POST, "/api/v1/service-records/confirm", &confirm(&[a1, a3])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let recs = r.json();
    // 180 min − 20 travel = 160, rounded down to 30-minute units; 170 − 20 = 150
    assert_eq!(recs[0]["credited_minutes"], 150);
    assert_eq!(recs[1]["credited_minutes"], 150);
    let r = org.json(Method::POST, "/api/v1/service-records/confirm", &confirm(&[a1])).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "confirmed once only");

    // the record: own, in scope, not someone else's
    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await;
    assert_eq!(rec.status, StatusCode::OK, "{}", rec.body);
    let rec = rec.json();
    assert_eq!((rec["total_minutes"].as_i64(), rec["services"].as_array().unwrap().len()), (Some(150), 1));
    assert_eq!(rec["star_level"], 0);
    assert_eq!(rec["hours_to_next_star"], 98);
    assert_eq!(v3.get(&format!("/api/v1/volunteers/{p1}/record")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(county.get(&format!("/api/v1/volunteers/{p1}/record")).await.status, StatusCode::OK);
    let mut county2 = app.api("county2").await;
    assert_eq!(county2.get(&format!("/api/v1/volunteers/{p1}/record")).await.status, StatusCode::NOT_FOUND);

    // a correction: requested by the volunteer, approved by the organization, both kept
    let rid = recs[0]["record_id"].as_i64().unwrap();
    let start = Utc::now() - Duration::hours(4);
    let corr = json!({"reason": "签到晚了一小时", "started_at": start, "ended_at": start + Duration::hours(3)});
    let r = v1.json(Method::POST, &format!("/api/v1/service-records/{rid}/corrections"), &corr).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let cid = r.json()["id"].as_i64().unwrap();
    let r = v1.json(Method::POST, &format!("/api/v1/corrections/{cid}/review"), &json!({"approve": true})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = org.json(Method::POST, &format!("/api/v1/corrections/{cid}/review"), &json!({"approve": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await.json();
    assert_eq!(rec["total_minutes"], 180);
    let services = rec["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(services.iter().filter(|s| s["superseded"] == true).count(), 1);
    assert_eq!(rec["services_total"], 2);
    let one = v1.get(&format!("/api/v1/volunteers/{p1}/record?per_page=1")).await.json();
    assert_eq!((one["services"].as_array().unwrap().len(), one["services_total"].as_i64()), (1, Some(2)));
    assert!(services.iter().any(|s| s["supersedes_id"] == rid));

    // figures: 150 + 150, then the correction −150 +180
    stats::rollup_all(&db).await.unwrap();
    let year = wushe_domain::stats::year_key(
        wushe_domain::time::local_date(Utc::now()).format("%Y").to_string().parse().unwrap(),
    );
    let year_of_service =
        wushe_domain::stats::year_key(wushe_domain::time::local_date(start).format("%Y").to_string().parse().unwrap());
    assert_eq!(year, year_of_service, "test assumes the service day is in this year");
    assert_eq!(stats::value(&db, "volunteer_minutes", "420106", &year).await.unwrap(), 330);
    assert_eq!(stats::value(&db, "service_records", "42", &year).await.unwrap(), 2);
    assert_eq!(stats::value(&db, "checkins", "420106001001", &year).await.unwrap(), 2);
    assert_eq!(stats::value(&db, "volunteer_minutes:elderly", "", &year).await.unwrap(), 330);
    let _ = p3;
});

db_test!(a_draft_is_invisible_to_volunteers, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    volunteer(&db, &mut county, "vol1", 1, "19900307").await;
    let (mut org, mut v1) = (app.api("org").await, app.api("vol1").await);
    let mut body = activity("尚在筹备的探访", 5, 30);
    body["publish"] = json!(false);
    let (aid, slot) = create_activity(&mut org, &body).await;
    assert_eq!(v1.get(&format!("/api/v1/activities/{aid}")).await.status, StatusCode::NOT_FOUND);
    // signing up answers exactly as for an activity that does not exist
    let draft = v1.json(Method::POST, &format!("/api/v1/activities/{aid}/signups"), &json!({"slot_id": slot})).await;
    let none = v1.json(Method::POST, "/api/v1/activities/987654/signups", &json!({"slot_id": slot})).await;
    assert_eq!(draft.status, StatusCode::NOT_FOUND, "{}", draft.body);
    assert_eq!((draft.status, draft.error_message()), (none.status, none.error_message()));
    // once published, the same sign-up goes through
    let r = org.json(Method::POST, &format!("/api/v1/activities/{aid}/status"), &json!({"status": "published"})).await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = v1.json(Method::POST, &format!("/api/v1/activities/{aid}/signups"), &json!({"slot_id": slot})).await;
    assert_eq!(r.json()["status"], "approved", "{}", r.body);
});

db_test!(capacity_holds_under_concurrent_sign_ups, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let n = 16;
    for i in 0..n {
        volunteer(&db, &mut county, &format!("cap{i}"), 100 + i, "19900101").await;
    }
    let mut org = app.api("org").await;
    let (aid, slot) = create_activity(&mut org, &activity("社区义诊", 5, 60 * 24)).await;
    let mut handles = Vec::new();
    for i in 0..n {
        let mut c = app.api(&format!("cap{i}")).await;
        handles.push(tokio::spawn(async move {
            c.json(Method::POST, &format!("/api/v1/activities/{aid}/signups"), &json!({"slot_id": slot})).await.json()
                ["status"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| *s == "approved").count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "waitlisted").count(), n as usize - 5);
    let d = org.get(&format!("/api/v1/activities/{aid}")).await.json();
    assert_eq!(
        (d["slots"][0]["approved"].as_i64(), d["slots"][0]["waitlisted"].as_i64()),
        (Some(5), Some(n as i64 - 5))
    );
});

db_test!(geofence_insurance_and_minors, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let p = volunteer(&db, &mut county, "adult", 1, "19900307").await;
    volunteer(&db, &mut county, "teen", 2, "20100101").await;
    let mut org = app.api("org").await;
    let mut body = activity("江滩防汛巡查", 10, 20);
    body["risky"] = json!(true);
    body["latitude"] = json!(30.5434);
    body["longitude"] = json!(114.3425);
    body["checkin_radius_m"] = json!(200);
    let (aid, slot) = create_activity(&mut org, &body).await;
    let mut adult = app.api("adult").await;
    let mut teen = app.api("teen").await;
    let path = format!("/api/v1/activities/{aid}/signups");
    let r = teen.json(Method::POST, &path, &json!({"slot_id": slot})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("未成年"), "{}", r.body);
    assert_eq!(adult.json(Method::POST, &path, &json!({"slot_id": slot})).await.status, StatusCode::CREATED);

    let code =
        org.get(&format!("/api/v1/activities/{aid}/checkin-code")).await.json()["code"].as_str().unwrap().to_string();
    let ci = "/api/v1/attendance/check-in";
    let r = adult.json(Method::POST, ci, &json!({"activity_id": aid, "code": code})).await;
    assert!(r.error_message().contains("定位"), "{}", r.body);
    let r = adult
        .json(Method::POST, ci, &json!({"activity_id": aid, "code": code, "latitude": 30.56, "longitude": 114.3425}))
        .await;
    assert!(r.error_message().contains("超出签到范围"), "{}", r.body);
    let here = json!({"activity_id": aid, "code": code, "latitude": 30.5436, "longitude": 114.3427});
    let r = adult.json(Method::POST, ci, &here).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("意外险"), "{}", r.body);

    // a policy covers only the organization's own volunteers
    let today = wushe_domain::time::local_date(Utc::now());
    let policy = |ids: Vec<i64>| {
        json!({"insurer": "测试保险公司", "policy_number": "P-2026-001",
        "starts_on": today - Duration::days(30), "ends_on": today + Duration::days(300), "person_ids": ids})
    };
    let r = org.json(Method::POST, "/api/v1/insurance-policies", &policy(vec![p])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.error_message().contains("不是本组织的志愿者"), "{}", r.body);
    let mut tx = db.begin().await.unwrap();
    wushe_store::registry::people::join_organizations(&mut tx, &[(p, cast.org, today)]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        adult.json(Method::POST, "/api/v1/insurance-policies", &policy(vec![p])).await.status,
        StatusCode::FORBIDDEN
    );
    let r = org.json(Method::POST, "/api/v1/insurance-policies", &policy(vec![p])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let l = org.get("/api/v1/insurance-policies").await.json();
    assert_eq!(l["items"][0]["covered"], 1);
    let r = adult.json(Method::POST, ci, &here).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
});

db_test!(settings_and_officials_figures, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut admin = app.api("admin").await;
    let mut county = app.api("county").await;
    let s = admin.get("/api/v1/settings/volunteering").await.json();
    assert_eq!(s["hours"]["unit_minutes"], 30);
    assert_eq!(s["stars"]["thresholds_hours"][0], 100);
    let mut changed = s.clone();
    changed["stars"]["thresholds_hours"] = json!([50, 150, 300, 800, 1500]);
    changed["hours"]["unit_minutes"] = json!(60);
    changed["hours"]["rounding"] = json!("up");
    assert_eq!(county.json(Method::PUT, "/api/v1/settings/volunteering", &changed).await.status, StatusCode::FORBIDDEN);
    let mut bad = changed.clone();
    bad["stars"]["thresholds_hours"] = json!([50, 40, 300, 800, 1500]);
    let r = admin.json(Method::PUT, "/api/v1/settings/volunteering", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_message().contains("递增"), "{}", r.body);
    let r = admin.json(Method::PUT, "/api/v1/settings/volunteering", &changed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(admin.get("/api/v1/settings/volunteering").await.json()["hours"]["rounding"], "up");

    // one confirmed service under the new rules: 100 minutes round up to 2 hours
    let p = volunteer(&db, &mut county, "fig1", 1, "19900307").await;
    let mut org = app.api("org").await;
    let (aid, _slot) = create_activity(&mut org, &activity("社区读书会", 5, 20)).await;
    let mut vol = app.api("fig1").await;
    let d = vol.get(&format!("/api/v1/activities/{aid}")).await.json();
    let slot = d["slots"][0]["id"].as_i64().unwrap();
    let r = vol.json(Method::POST, &format!("/api/v1/activities/{aid}/signups"), &json!({"slot_id": slot})).await;
    let sid = r.json()["signup_id"].clone();
    let r = org.json(Method::POST, "/api/v1/attendance/check-in", &json!({"activity_id": aid, "signup_id": sid})).await;
    let att = r.json()["attendance_id"].as_i64().unwrap();
    backdate_check_in(&db, att, Duration::minutes(100)).await;
    let r =
        org.json(Method::POST, "/api/v1/attendance/check-out", &json!({"activity_id": aid, "signup_id": sid})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r =
        org.json(Method::POST, "/api/v1/service-records/confirm", &json!({"items": [{"attendance_id": att}]})).await;
    assert_eq!(r.json()[0]["credited_minutes"], 120, "{}", r.body);
    let rec = vol.get(&format!("/api/v1/volunteers/{p}/record")).await.json();
    assert_eq!(rec["hours_to_next_star"], 48, "new thresholds apply");

    stats::rollup_all(&db).await.unwrap();
    let f = county.get("/api/v1/stats/volunteering").await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    let f = f.json();
    assert_eq!(f["region"], "420106");
    assert_eq!(f["totals"][0]["value"], 120);
    assert_eq!(f["totals"][3]["value"], 1, "one activity published");
    let month = wushe_domain::time::local_date(Utc::now() - Duration::minutes(100)).format("%m").to_string();
    let m: usize = month.parse().unwrap();
    assert_eq!(f["minutes_by_month"][m - 1], 120);
    assert!(f["minutes_by_category"].as_array().unwrap().iter().any(|c| c["key"] == "elderly" && c["value"] == 120));
    assert_eq!(f["minutes_by_subregion"][0]["key"], "420106001");
    let mut county2 = app.api("county2").await;
    assert_eq!(county2.get("/api/v1/stats/volunteering?region=420106").await.status, StatusCode::FORBIDDEN);
    assert_eq!(vol.get("/api/v1/stats/volunteering").await.status, StatusCode::FORBIDDEN);
});

db_test!(concurrent_confirmations_are_merged_but_answered_each, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(volunteer(&db, &mut county, &format!("mc{i}"), 200 + i, "19900101").await);
    }
    let mut org = app.api("org").await;
    let (aid, slot) = create_activity(&mut org, &activity("社区清洁", 10, -200)).await;
    // six finished services, written as the roster would leave them
    let starts = Utc::now() - Duration::minutes(200);
    let mut tx = db.begin().await.unwrap();
    let signed = wushe_store::volunteering::signups::insert_approved_bulk(
        &mut tx,
        slot,
        aid,
        &people,
        starts - Duration::days(1),
    )
    .await
    .unwrap();
    let rows: Vec<_> = signed
        .iter()
        .map(|(p, s)| wushe_store::volunteering::attendance::ClosedAttendance {
            signup_id: *s,
            slot_id: slot,
            activity_id: aid,
            person_id: *p,
            checked_in_at: starts,
            checked_out_at: starts + Duration::minutes(180),
        })
        .collect();
    let att = wushe_store::volunteering::attendance::insert_closed_bulk(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();

    // every attendance asked for twice at once, and one bulk request with an unknown item
    let mut handles = Vec::new();
    for (k, items) in att.iter().chain(att.iter()).map(|a| vec![*a]).chain([vec![999_999, att[0]]]).enumerate() {
        let mut c = app.api("org").await;
        handles.push(tokio::spawn(async move {
            let body = json!({"items": items.iter().map(|i| json!({"attendance_id": i})).collect::<Vec<_>>()});
            let r = c.json(Method::POST, "/api/v1/service-records/confirm", &body).await;
            (k, items, r.status, r.body)
        }));
    }
    let mut created = std::collections::HashMap::new();
    for h in handles {
        let (k, items, status, body) = h.await.unwrap();
        if items.len() == 2 {
            assert_eq!(status, StatusCode::CONFLICT, "{body}");
            assert!(body.contains("签到记录不存在"), "{body}");
            continue;
        }
        match status {
            StatusCode::CREATED => *created.entry(items[0]).or_insert(0) += 1,
            StatusCode::CONFLICT => assert!(body.contains("时长已确认"), "{k}: {body}"),
            s => panic!("{k}: {s} {body}"),
        }
    }
    assert_eq!(created.len(), 6, "each attendance confirmed: {created:?}");
    assert!(created.values().all(|n| *n == 1), "and only once: {created:?}");
    let (records,): (i64,) =
        wushe_store::on_db!(&db, |c| sqlx::query_as("SELECT COUNT(*) FROM service_records WHERE activity_id = $1")
            .bind(aid)
            .fetch_one(c)
            .await)
        .unwrap();
    assert_eq!(records, 6);
    let (audited,): (i64,) = wushe_store::on_db!(&db, |c| sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'confirm' AND entity = 'service_record'"
    )
    .fetch_one(c)
    .await)
    .unwrap();
    assert_eq!(audited, 6);
    assert_eq!(wushe_store::accounts::audit::verify(&db, |_, _| {}).await.unwrap().broken, None);
    assert_eq!(wushe_store::timebank::ledger::verify(&db).await.unwrap(), (0, 0, 0));
    // each volunteer's record has the one service
    for p in &people {
        let rec = county.get(&format!("/api/v1/volunteers/{p}/record")).await.json();
        assert_eq!(rec["services_total"], 1, "{rec}");
    }
});

db_test!(concurrent_check_ins_count_once, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    for i in 0..4 {
        volunteer(&db, &mut county, &format!("ci{i}"), 300 + i, "19900101").await;
    }
    let mut org = app.api("org").await;
    let (aid, slot) = create_activity(&mut org, &activity("社区巡逻", 10, 5)).await;
    for i in 0..4 {
        let mut v = app.api(&format!("ci{i}")).await;
        let r = v.json(Method::POST, &format!("/api/v1/activities/{aid}/signups"), &json!({"slot_id": slot})).await;
        assert_eq!(r.json()["status"], "approved", "{}", r.body);
    }
    let code =
        org.get(&format!("/api/v1/activities/{aid}/checkin-code")).await.json()["code"].as_str().unwrap().to_string();
    // every volunteer scans twice at once, and one scans a wrong code
    let mut handles = Vec::new();
    for (i, code) in (0..4).chain(0..4).map(|i| (i, code.clone())).chain([(0, "000000x".to_string())]) {
        let mut v = app.api(&format!("ci{i}")).await;
        handles.push(tokio::spawn(async move {
            let r =
                v.json(Method::POST, "/api/v1/attendance/check-in", &json!({"activity_id": aid, "code": code})).await;
            (i, r.status, r.body)
        }));
    }
    let (mut created, mut twice, mut bad_code) = (Vec::new(), 0, 0);
    for h in handles {
        let (i, status, body) = h.await.unwrap();
        match status {
            StatusCode::CREATED => created.push(i),
            StatusCode::CONFLICT if body.contains("已签到") => twice += 1,
            StatusCode::CONFLICT if body.contains("签到码") => bad_code += 1,
            s => panic!("{i}: {s} {body}"),
        }
    }
    created.sort();
    assert_eq!((created, twice, bad_code), (vec![0, 1, 2, 3], 4, 1));
    let roster = org.get(&format!("/api/v1/activities/{aid}/roster")).await.json();
    assert_eq!(roster["attendance"].as_array().map(Vec::len), Some(4), "{roster}");
});

/// A three-hour service of `vol` at a new activity (a time-bank one when asked), checked in
/// and out by the organization and confirmed: (record id, attendance id).
async fn serve_three_hours(db: &Db, org: &mut Client, vol: &mut Client, title: &str, timebank: bool) -> (i64, i64) {
    let mut body = activity(title, 5, 30);
    body["timebank"] = json!(timebank);
    let activity = create_activity(org, &body).await;
    let done = serve(db, org, vol, activity, 180).await;
    assert_eq!(done.credited_minutes, 180);
    (done.record_id, done.attendance_id)
}

db_test!(a_void_withdraws_a_record_and_all_it_moved, |db| async move {
    use wushe_domain::timebank::ledger::Ledger;
    use wushe_store::timebank::ledger;
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let p1 = volunteer(&db, &mut county, "vol1", 1, "19900307").await;
    let parent = volunteer(&db, &mut county, "parent", 2, "19550101").await;
    let (mut org, mut v1) = (app.api("org").await, app.api("vol1").await);
    // a time-bank service entered by mistake, and a genuine one
    let (wrong, wrong_att) = serve_three_hours(&db, &mut org, &mut v1, "时间银行助老", true).await;
    let (genuine, _) = serve_three_hours(&db, &mut org, &mut v1, "社区读报", false).await;
    let balance = |l| {
        let db = db.clone();
        async move { ledger::balance(&db, l, p1).await.unwrap() }
    };
    // 3 coins from the time-bank service, 30 points from each
    assert_eq!((balance(Ledger::Coins).await, balance(Ledger::Points).await), (180, 60));
    // one coin already given to a parent: taking back cannot reach it, as for any correction
    let mut station = app.api("station").await;
    let rel = json!({"person_id": p1, "relative_id": parent, "relation": "父母"});
    assert_eq!(station.json(Method::POST, "/api/v1/timebank/relations", &rel).await.status, StatusCode::NO_CONTENT);
    let r = v1.json(Method::POST, "/api/v1/timebank/transfers", &json!({"to_person_id": parent, "coins": 1})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // an issued certificate lists both records
    let r = v1.json(Method::POST, "/api/v1/certificates", &json!({"organization_id": cast.org})).await;
    let cert = r.json()["id"].as_i64().unwrap();
    let r = org.json(Method::POST, &format!("/api/v1/certificates/{cert}/decision"), &json!({"action": "issue"})).await;
    assert_eq!(r.json()["status"], "issued", "{}", r.body);

    stats::rollup_all(&db).await.unwrap();
    let year = wushe_domain::stats::year_key(
        wushe_domain::time::local_date(Utc::now() - Duration::hours(5)).format("%Y").to_string().parse().unwrap(),
    );
    let figures = || {
        let (db, year) = (db.clone(), year.clone());
        async move {
            stats::rollup_all(&db).await.unwrap();
            let mut out = Vec::new();
            for (metric, region) in [
                ("volunteer_minutes", "420106"),
                ("volunteer_minutes:elderly", ""),
                ("service_records", "42"),
                ("active_volunteers", "420106"),
            ] {
                out.push(stats::value(&db, metric, region, &year).await.unwrap());
            }
            out
        }
    };
    assert_eq!(figures().await, vec![360, 360, 2, 1]);

    // times are asked for unless it is a void; the reason rule stands
    let path = format!("/api/v1/service-records/{wrong}/corrections");
    let r = org.json(Method::POST, &path, &json!({"reason": "登记错人，实际未参加"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.error_message().contains("开始时间"), "{}", r.body);
    let start = Utc::now() - Duration::hours(5);
    let bad = json!({"reason": "登记错人，实际未参加", "started_at": start, "ended_at": start});
    assert!(org.json(Method::POST, &path, &bad).await.error_message().contains("结束时间"));
    let r = org.json(Method::POST, &path, &json!({"reason": "错", "void": true})).await;
    assert!(r.error_message().contains("更正理由"), "{}", r.body);

    // the organization asks for the void; the volunteer cannot approve it, the organization does
    let r = org.json(Method::POST, &path, &json!({"reason": "登记错人，实际未参加", "void": true})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let cid = r.json()["id"].as_i64().unwrap();
    let review = format!("/api/v1/corrections/{cid}/review");
    assert_eq!(v1.json(Method::POST, &review, &json!({"approve": true})).await.status, StatusCode::FORBIDDEN);
    let before_void = wushe_store::time::now();
    let r = org.json(Method::POST, &review, &json!({"approve": true, "note": "核实无误"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["new_record_id"].is_null(), "{}", r.body);

    // superseded with no successor; the totals, coins, points and figures drop by it
    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await.json();
    assert_eq!((rec["total_minutes"].as_i64(), rec["services_total"].as_i64()), (Some(180), Some(2)), "{rec}");
    let services = rec["services"].as_array().unwrap();
    let voided = services.iter().find(|s| s["id"] == wrong).unwrap();
    assert_eq!((voided["superseded"].as_bool(), voided["voided"].as_bool()), (Some(true), Some(true)), "{voided}");
    assert!(services.iter().all(|s| s["supersedes_id"] != wrong), "no successor");
    let kept = services.iter().find(|s| s["id"] == genuine).unwrap();
    assert_eq!((kept["superseded"].as_bool(), kept["voided"].as_bool()), (Some(false), Some(false)));
    // 120 of the 180 coin units were still held; the given coin stays with the parent
    assert_eq!((balance(Ledger::Coins).await, balance(Ledger::Points).await), (0, 30));
    assert_eq!(ledger::balance(&db, Ledger::Coins, parent).await.unwrap(), 60);
    assert_eq!(ledger::verify(&db).await.unwrap(), (0, 0, 0));
    assert_eq!(figures().await, vec![180, 180, 1, 1], "still active: the genuine service stands");
    assert_eq!(org.get("/api/v1/certificates").await.json()["items"][0]["records_corrected"], true);
    // a spot-check drawn now no longer samples the voided record; one drawn before the void did
    let population = |as_of| {
        let db = db.clone();
        async move {
            let today = wushe_domain::time::local_date(Utc::now());
            let (from, to) = (today - Duration::days(1), today);
            let mut ids = Vec::new();
            wushe_store::volunteering::spot_checks::population(&db, "420106", from, to, as_of, |id| ids.push(id))
                .await
                .unwrap();
            ids
        }
    };
    assert_eq!(population(before_void).await, vec![wrong, genuine]);
    assert_eq!(population(wushe_store::time::now()).await, vec![genuine]);
    let (summary,): (String,) = wushe_store::on_db!(&db, |c| sqlx::query_as(
        "SELECT summary FROM audit_log WHERE action = 'approve_correction' AND entity_id = $1"
    )
    .bind(wrong.to_string())
    .fetch_one(c)
    .await)
    .unwrap();
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!((summary["void"].as_bool(), summary["new_record"].is_null()), (Some(true), true), "{summary}");

    // a voided service stays voided: its attendance cannot be confirmed again, nor the record corrected
    let again = json!({"items": [{"attendance_id": wrong_att}]});
    let r = org.json(Method::POST, "/api/v1/service-records/confirm", &again).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.error_message().contains("时长已确认"), "{}", r.body);
    let r = v1.json(Method::POST, &path, &json!({"reason": "再次申请作废", "void": true})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.error_message().contains("已作废"), "{}", r.body);

    // a time correction works as before (the volunteer asks, sending times as old clients do)
    let corr = json!({"reason": "实际服务了四个小时", "started_at": start, "ended_at": start + Duration::hours(4)});
    let r = v1.json(Method::POST, &format!("/api/v1/service-records/{genuine}/corrections"), &corr).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let cid = r.json()["id"].as_i64().unwrap();
    let r = org.json(Method::POST, &format!("/api/v1/corrections/{cid}/review"), &json!({"approve": true})).await;
    let successor = r.json()["new_record_id"].as_i64().expect("a new record");
    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await.json();
    assert_eq!(rec["total_minutes"], 240);
    let old = rec["services"].as_array().unwrap().iter().find(|s| s["id"] == genuine).unwrap().clone();
    assert_eq!((old["superseded"].as_bool(), old["voided"].as_bool()), (Some(true), Some(false)));
    assert_eq!(figures().await, vec![240, 240, 1, 1]);
    assert_eq!(balance(Ledger::Points).await, 40);

    // voiding the corrected record takes the last service of the year: no longer active
    let body = json!({"reason": "重复登记，已在其他组织记录", "void": true});
    let r = org.json(Method::POST, &format!("/api/v1/service-records/{successor}/corrections"), &body).await;
    let cid = r.json()["id"].as_i64().unwrap();
    let r = org.json(Method::POST, &format!("/api/v1/corrections/{cid}/review"), &json!({"approve": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await.json();
    assert_eq!((rec["total_minutes"].as_i64(), rec["services_total"].as_i64()), (Some(0), Some(3)), "{rec}");
    assert_eq!(figures().await, vec![0, 0, 0, 0]);
    assert_eq!((balance(Ledger::Coins).await, balance(Ledger::Points).await), (0, 0));
    assert_eq!(ledger::verify(&db).await.unwrap(), (0, 0, 0));
    assert_eq!(wushe_store::accounts::audit::verify(&db, |_, _| {}).await.unwrap().broken, None);
});
