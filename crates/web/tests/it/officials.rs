//! Officials' supervision of volunteer service on both backends: star awards approved by the
//! level the settings name and only within scope, and following corrections; spot-checks
//! drawn reproducibly from a seed inside the official's region, findings, completion and
//! publication with names masked, the organization's follow-up; and the officials' figures,
//! counted exactly (distinct volunteers from summable parts).

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use wushe_domain::accounts::Role;
use wushe_domain::volunteering::spot_check;
use wushe_store::stats::{self, Delta};
use wushe_store::Db;
use wushe_testkit::volunteering::{self, register_volunteer};
use wushe_testkit::{citizen_id, create_user, db_test, seed_cast, Client, TestApp, PASSWORD};

const NAMES: [&str; 6] = ["王甲", "李乙", "张丙", "赵丁", "钱戊", "孙己"];

/// Register a volunteer with a login of their own (by `official`, at home in `home`);
/// returns the person id.
async fn volunteer(db: &Db, official: &mut Client, username: &str, seq: u32, home: &str) -> i64 {
    let body = json!({"name": NAMES[seq as usize % NAMES.len()], "citizen_id": citizen_id(&format!("42010619900307{seq:03}")),
        "phone": format!("139{seq:08}"), "division_code": home, "skills": ["心理疏导"]});
    register_volunteer(db, official, username, &body).await
}

/// Publish an activity at `place` starting in 20 minutes; returns (activity, slot).
async fn activity(org: &mut Client, title: &str, place: &str, timebank: bool) -> (i64, i64) {
    let s = Utc::now() + Duration::minutes(20);
    let body = json!({"title": title, "content": "陪伴社区老人聊天、读报", "category": "扶老助残", "division_code": place,
        "address": "社区活动室", "publish": true, "timebank": timebank,
        "slots": [{"starts_at": s, "ends_at": s + Duration::hours(4), "capacity": 10}]});
    let r = org.json(Method::POST, "/api/v1/activities", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let d = org.get(&format!("/api/v1/activities/{id}")).await.json();
    (id, d["slots"][0]["id"].as_i64().unwrap())
}

/// `vol` serves `minutes` (checked in that long ago, out now) and the organization confirms;
/// returns (record id, credited minutes).
async fn serve(db: &Db, org: &mut Client, vol: &mut Client, activity: (i64, i64), minutes: i64) -> (i64, i64) {
    let done = volunteering::serve(db, org, vol, activity, minutes).await;
    (done.record_id, done.credited_minutes)
}

/// Stars at 1–5 hours, so a few hours of service reach them.
async fn hourly_stars(admin: &mut Client, min_registration_months: Option<u32>) {
    let mut s = admin.get("/api/v1/settings/volunteering").await.json();
    s["stars"]["thresholds_hours"] = json!([1, 2, 3, 4, 5]);
    s["stars"]["min_registration_months"] = json!(min_registration_months);
    let r = admin.json(Method::PUT, "/api/v1/settings/volunteering", &s).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

fn awards(page: &Value) -> Vec<(i64, i64, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_i64().unwrap(), a["star"].as_i64().unwrap(), a["status"].as_str().unwrap().to_string()))
        .collect()
}

fn award_id(list: &[(i64, i64, String)], star: i64) -> i64 {
    list.iter().find(|a| a.1 == star).unwrap_or_else(|| panic!("star {star} in {list:?}")).0
}

async fn decide(c: &mut Client, id: i64, approve: bool, note: Option<&str>) -> (StatusCode, Value) {
    let r = c
        .json(Method::POST, &format!("/api/v1/star-awards/{id}/decision"), &json!({"approve": approve, "note": note}))
        .await;
    let v = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

db_test!(stars_are_approved_by_the_right_level_within_scope_and_follow_corrections, |db| async move {
    seed_cast(&db).await;
    create_user(&db, "city", Role::Official, "4201", None).await;
    create_user(&db, "city2", Role::Official, "4202", None).await;
    let app = TestApp::new(db.clone());
    let mut admin = app.api("admin").await;
    hourly_stars(&mut admin, None).await;
    let mut county = app.api("county").await;
    let p1 = volunteer(&db, &mut county, "vol1", 1, "420106001001").await;
    let mut org = app.api("org").await;
    let mut v1 = app.api("vol1").await;

    // 180 credited minutes: stars 1, 2 and 3 are reached, each pending
    let a1 = activity(&mut org, "社区陪伴", "420106001001", false).await;
    let (rid, credited) = serve(&db, &mut org, &mut v1, a1, 200).await;
    assert_eq!(credited, 180);
    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await.json();
    assert_eq!(rec["approved_star_level"], 0);
    let mut st: Vec<(i64, String)> = rec["star_awards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["star"].as_i64().unwrap(), a["status"].as_str().unwrap().to_string()))
        .collect();
    st.sort();
    assert_eq!(st, vec![(1, "pending".into()), (2, "pending".into()), (3, "pending".into())]);

    // each level sees the stars it approves; others see nothing or may not look
    let q = county.get("/api/v1/star-awards").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let q = q.json();
    assert_eq!((q["level"].as_str(), q["approves_stars"].clone()), (Some("county"), json!([1, 2])));
    let mine = awards(&q);
    assert_eq!(mine.iter().map(|a| a.1).collect::<Vec<_>>(), vec![1, 2]);
    assert!(q["items"].as_array().unwrap().iter().all(|a| a["can_approve"] == true));
    let all = awards(&county.get("/api/v1/star-awards?all_levels=true").await.json());
    assert_eq!(all.len(), 3);
    let three = award_id(&all, 3);
    let mut city = app.api("city").await;
    let cq = awards(&city.get("/api/v1/star-awards").await.json());
    assert_eq!(cq, vec![(three, 3, "pending".to_string())]);
    let mut province = app.api("province").await;
    assert_eq!(province.get("/api/v1/star-awards").await.json()["total"], 0, "province approves 5 stars only");
    let mut county2 = app.api("county2").await;
    assert_eq!(county2.get("/api/v1/star-awards?all_levels=true").await.json()["total"], 0, "outside the scope");
    let mut city2 = app.api("city2").await;
    assert_eq!(city2.get("/api/v1/star-awards").await.json()["total"], 0);
    for who in ["station", "org", "vol1"] {
        let mut c = app.api(who).await;
        assert_eq!(c.get("/api/v1/star-awards").await.status, StatusCode::FORBIDDEN, "{who}");
    }

    // a county official cannot approve a 3-star, nor anyone outside the volunteer's region
    let (s, e) = decide(&mut county, three, true, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(e["error"]["message"].as_str().unwrap().contains("市级"), "{e}");
    assert_eq!(decide(&mut city2, three, true, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(decide(&mut county2, award_id(&mine, 1), true, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(decide(&mut province, award_id(&mine, 1), true, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(decide(&mut admin, award_id(&mine, 1), true, None).await.0, StatusCode::FORBIDDEN);

    // the county approves star 1 through its page, rejects star 2 (a reason is required)
    let mut page = app.client();
    assert_eq!(page.login("county", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let html = page.get("/stars").await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.body.contains(&format!("award-{}", award_id(&mine, 1))) && html.body.contains(NAMES[1]));
    let r = page.post_form(&format!("/stars/{}/decision", award_id(&mine, 1)), &[("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let approved = page.get("/stars?status=approved").await.body;
    assert!(approved.contains(&format!("award-{}", award_id(&mine, 1))) && approved.contains("已认定为1星志愿者"));
    assert_eq!(decide(&mut county, award_id(&mine, 1), true, None).await.0, StatusCode::CONFLICT, "decided once");
    assert_eq!(decide(&mut county, award_id(&mine, 2), false, None).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, v) = decide(&mut county, award_id(&mine, 2), false, Some("时长有待核实")).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("rejected")));
    let (s, v) = decide(&mut city, three, true, Some("予以认定")).await;
    assert_eq!(
        (s, v["status"].as_str(), v["decided_by_name"].as_str()),
        (StatusCode::OK, Some("approved"), Some("city"))
    );
    assert!(v["decided_at"].is_string());

    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await.json();
    assert_eq!((rec["approved_star_level"].as_i64(), rec["approved_stars"].as_str()), (Some(3), Some("★★★☆☆")));
    let mut me = app.client();
    assert_eq!(me.login("vol1", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let html = me.get("/me/record").await.body;
    assert!(html.contains("已认定 3 星志愿者") && html.contains("未通过：时长有待核实"), "{html}");
    stats::rollup_all(&db).await.unwrap();
    let f = county.get("/api/v1/stats/volunteering").await.json();
    let by_level: Vec<i64> =
        f["stars_by_level"].as_array().unwrap().iter().map(|x| x["value"].as_i64().unwrap()).collect();
    assert_eq!(by_level, vec![0, 0, 1, 0, 0], "one volunteer, counted at the highest approved star");

    // a correction takes the hours down to 90 minutes: the 3-star lapses, the 1-star stands
    let start = Utc::now() - Duration::minutes(200);
    let corr =
        json!({"reason": "实际只服务了一个半小时", "started_at": start, "ended_at": start + Duration::minutes(100)});
    let r = v1.json(Method::POST, &format!("/api/v1/service-records/{rid}/corrections"), &corr).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let cid = r.json()["id"].as_i64().unwrap();
    let r = org.json(Method::POST, &format!("/api/v1/corrections/{cid}/review"), &json!({"approve": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await.json();
    assert_eq!((rec["total_minutes"].as_i64(), rec["approved_star_level"].as_i64()), (Some(90), Some(1)));
    let status_of = |rec: &Value, star: i64| -> Vec<String> {
        rec["star_awards"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["star"] == star)
            .map(|a| a["status"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(status_of(&rec, 3), vec!["lapsed"]);
    assert_eq!(status_of(&rec, 1), vec!["approved"]);
    assert_eq!(status_of(&rec, 2), vec!["rejected"]);
    assert_eq!(decide(&mut city, three, true, None).await.0, StatusCode::CONFLICT, "a lapsed star is not approved");
    stats::rollup_all(&db).await.unwrap();
    let f = city.get("/api/v1/stats/volunteering").await.json();
    let by_level: Vec<i64> =
        f["stars_by_level"].as_array().unwrap().iter().map(|x| x["value"].as_i64().unwrap()).collect();
    assert_eq!(by_level, vec![1, 0, 0, 0, 0]);

    // more service (270 minutes in all): the rejected star comes back for review, and the
    // lapsed and new ones are pending again
    let a2 = activity(&mut org, "社区读报", "420106001001", false).await;
    serve(&db, &mut org, &mut v1, a2, 200).await;
    let rec = v1.get(&format!("/api/v1/volunteers/{p1}/record")).await.json();
    assert_eq!(rec["total_minutes"], 270);
    assert_eq!(status_of(&rec, 2), vec!["rejected", "pending"]);
    assert_eq!(status_of(&rec, 3), vec!["lapsed", "pending"]);
    assert_eq!(status_of(&rec, 4), vec!["pending"]);
    assert!(status_of(&rec, 5).is_empty());

    // a minimum registration period in the settings: pending stars wait for it
    hourly_stars(&mut admin, Some(12)).await;
    let q = county.get("/api/v1/star-awards").await.json();
    let item = &q["items"][0];
    assert_eq!(item["star"], 2);
    assert_eq!(item["can_approve"], false);
    assert!(item["blocked_reason"].as_str().unwrap().contains("注册时间未满"), "{item}");
    let (s, e) = decide(&mut county, item["id"].as_i64().unwrap(), true, None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(e["error"]["message"].as_str().unwrap().contains("注册时间未满"), "{e}");
});

db_test!(spot_checks_are_reproducible_scoped_and_published_masked, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.api("county").await;
    let mut county2 = app.api("county2").await;
    let mut org = app.api("org").await;
    let mut people = Vec::new();
    for i in 0..4u32 {
        let home = if i < 3 { "420106001001" } else { "420111001001" };
        let who = if i < 3 { &mut county } else { &mut county2 };
        people.push(volunteer(&db, who, &format!("sv{i}"), 10 + i, home).await);
    }
    // three records in 武昌区, one in 洪山区
    let here = activity(&mut org, "社区陪伴", "420106001001", false).await;
    let there = activity(&mut org, "江滩清洁", "420111001001", false).await;
    let mut in_wuchang = Vec::new();
    for i in 0..3 {
        let mut v = app.api(&format!("sv{i}")).await;
        in_wuchang.push(serve(&db, &mut org, &mut v, here, 120).await.0);
    }
    let mut v3 = app.api("sv3").await;
    let hongshan_record = serve(&db, &mut org, &mut v3, there, 120).await.0;

    let today = wushe_domain::time::local_date(Utc::now());
    let body = |region: &str, seed: &str| {
        json!({"region": region, "period_from": today - Duration::days(30), "period_to": today,
               "sample_size": 2, "seed": seed})
    };
    // outside the scope: refused
    let r = county.json(Method::POST, "/api/v1/spot-checks", &body("420111", "abcd-1234")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let mut bad = body("420106", "abcd-1234");
    bad["sample_percent"] = json!(10);
    assert_eq!(county.json(Method::POST, "/api/v1/spot-checks", &bad).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut station = app.api("station").await;
    assert_eq!(
        station.json(Method::POST, "/api/v1/spot-checks", &body("420106001", "abcd-1234")).await.status,
        StatusCode::FORBIDDEN
    );

    let r = county.json(Method::POST, "/api/v1/spot-checks", &body("420106", "wuchang-2026")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let d = county.get(&format!("/api/v1/spot-checks/{id}")).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let d = d.json();
    assert_eq!((d["check"]["population"].as_i64(), d["check"]["sample_size"].as_i64()), (Some(3), Some(2)));
    assert_eq!(d["check"]["seed"], "wuchang-2026");
    let sample: Vec<i64> = d["items"].as_array().unwrap().iter().map(|i| i["record_id"].as_i64().unwrap()).collect();
    assert!(sample.iter().all(|r| in_wuchang.contains(r)), "only records of the region: {sample:?}");
    assert!(!sample.contains(&hongshan_record));
    // the seed decides: the published method over the same records gives the same sample
    assert_eq!(sample, spot_check::draw("wuchang-2026", &in_wuchang, 2));
    assert_eq!(d["check"]["population_digest"].as_str().unwrap(), spot_check::population_digest(&in_wuchang));
    let r = county.json(Method::POST, "/api/v1/spot-checks", &body("420106", "wuchang-2026")).await;
    let again = county.get(&format!("/api/v1/spot-checks/{}", r.json()["id"])).await.json();
    let sample2: Vec<i64> =
        again["items"].as_array().unwrap().iter().map(|i| i["record_id"].as_i64().unwrap()).collect();
    assert_eq!(sample2, sample, "same seed, same records: same sample");
    let v = county.get(&format!("/api/v1/spot-checks/{id}/verification")).await.json();
    assert_eq!((v["population_matches"].as_bool(), v["sample_matches"].as_bool()), (Some(true), Some(true)), "{v}");
    // 洪山区's official checks 洪山区 only
    let r = county2.json(Method::POST, "/api/v1/spot-checks", &body("420111", "hongshan-1")).await;
    let theirs = county2.get(&format!("/api/v1/spot-checks/{}", r.json()["id"])).await.json();
    assert_eq!(theirs["items"][0]["record_id"], hongshan_record);

    // before publication nobody outside the region sees it
    assert_eq!(county2.get(&format!("/api/v1/spot-checks/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(county2.get("/api/v1/spot-checks").await.json()["total"], 1, "only their own");
    let mut public = app.client();
    assert_eq!(public.get(&format!("/api/v1/public/spot-checks/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(public.get("/api/v1/public/spot-checks").await.json()["total"], 0);
    assert_eq!(public.get(&format!("/public/spot-checks/{id}")).await.status, StatusCode::NOT_FOUND);
    let mut province = app.api("province").await;
    assert_eq!(
        province.get(&format!("/api/v1/spot-checks/{id}")).await.status,
        StatusCode::OK,
        "the province covers it"
    );

    // findings: a note is required for 不属实; completion needs every record checked
    let (bad_rec, good_rec) = (sample[0], sample[1]);
    let put = |rec: i64| format!("/api/v1/spot-checks/{id}/records/{rec}");
    let r = county.json(Method::PUT, &put(bad_rec), &json!({"finding": "不属实"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let note = "回访服务对象当天无人上门";
    let r = county.json(Method::PUT, &put(bad_rec), &json!({"finding": "untrue", "note": note})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        county2.json(Method::PUT, &put(good_rec), &json!({"finding": "genuine"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        county.json(Method::PUT, &put(hongshan_record), &json!({"finding": "genuine"})).await.status,
        StatusCode::CONFLICT,
        "not in the sample"
    );
    let done = json!({"conclusion": "抽查 2 条，1 条不属实，已责令更正"});
    let r = county.json(Method::POST, &format!("/api/v1/spot-checks/{id}/complete"), &done).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_message().contains("没有核查结论"), "{}", r.body);
    assert_eq!(
        county.json(Method::POST, &format!("/api/v1/spot-checks/{id}/publish"), &json!({})).await.status,
        StatusCode::CONFLICT,
        "not completed yet"
    );
    // the UI form records the other finding
    let mut page = app.client();
    assert_eq!(page.login("county", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let html = page.get(&format!("/spot-checks/{id}")).await;
    assert!(html.body.contains("wuchang-2026") && html.body.contains(&format!("item-{good_rec}")));
    let r =
        page.post_form(&format!("/spot-checks/{id}/records/{good_rec}"), &[("finding", "genuine"), ("note", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = county.json(Method::POST, &format!("/api/v1/spot-checks/{id}/complete"), &done).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = county.json(Method::PUT, &put(good_rec), &json!({"finding": "doubtful", "note": "再看看"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "findings are fixed once completed");

    // the organization sees the untrue record and asks for a correction through the usual flow
    let f = org.get("/api/v1/spot-checks/flagged-records").await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.body);
    let f = f.json();
    assert_eq!(f["total"], 1);
    assert_eq!(
        (f["items"][0]["record_id"].as_i64(), f["items"][0]["finding"].as_str()),
        (Some(bad_rec), Some("untrue"))
    );
    let url = f["items"][0]["correction_url"].as_str().unwrap().to_string();
    let mut org_page = app.client();
    assert_eq!(org_page.login("org", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let html = org_page.get("/corrections").await.body;
    assert!(html.contains(&format!("flagged-{bad_rec}")) && html.contains(note), "{html}");
    let start = Utc::now() - Duration::minutes(120);
    let corr = json!({"reason": "抽查核查不属实，更正为实际时间", "started_at": start, "ended_at": start + Duration::minutes(31)});
    assert_eq!(org.json(Method::POST, &url, &corr).await.status, StatusCode::CREATED);
    let f = org.get("/api/v1/spot-checks/flagged-records").await.json();
    assert_eq!(f["items"][0]["correction_status"], "pending");
    assert_eq!(county2.get("/api/v1/spot-checks/flagged-records").await.json()["total"], 0);
    assert_eq!(v3.get("/api/v1/spot-checks/flagged-records").await.status, StatusCode::FORBIDDEN);

    // published: public, with counts and the conclusion, and no personal data in the clear
    let r = county.json(Method::POST, &format!("/api/v1/spot-checks/{id}/publish"), &json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        county.json(Method::POST, &format!("/api/v1/spot-checks/{id}/publish"), &json!({})).await.status,
        StatusCode::CONFLICT
    );
    let l = public.get("/api/v1/public/spot-checks").await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.body);
    let l = l.json();
    assert_eq!(l["total"], 1);
    let c = &l["items"][0];
    assert_eq!(
        (c["genuine"].as_i64(), c["untrue"].as_i64(), c["doubtful"].as_i64(), c["sample_size"].as_i64()),
        (Some(1), Some(1), Some(0), Some(2))
    );
    assert_eq!(
        (c["region_name"].as_str(), c["conclusion"].as_str()),
        (Some("武昌区"), Some("抽查 2 条，1 条不属实，已责令更正"))
    );
    let detail = public.get(&format!("/api/v1/public/spot-checks/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    let html = public.get(&format!("/public/spot-checks/{id}")).await;
    assert_eq!(html.status, StatusCode::OK);
    let listing = public.get("/public/spot-checks").await;
    for body in [&detail.body, &html.body, &l.to_string(), &listing.body] {
        for i in 0..4 {
            let name = NAMES[(10 + i) % NAMES.len()];
            assert!(!body.contains(name), "full name {name} in {body}");
            let id_no = citizen_id(&format!("42010619900307{:03}", 10 + i));
            assert!(!body.contains(&id_no) && !body.contains(&id_no[..14]), "ID number in public page");
            assert!(!body.contains(&format!("139{:08}", 10 + i)), "phone in public page");
        }
        assert!(!body.contains(note), "the checker's note is not published");
        assert!(!body.contains("V420106"), "no volunteer numbers");
    }
    let items = detail.json()["items"].clone();
    let masked: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["volunteer"].as_str().unwrap()).collect();
    assert!(masked.iter().all(|m| m.ends_with('*') && m.chars().count() == 2), "{masked:?}");
    assert!(html.body.contains("不属实") && html.body.contains("wuchang-2026"));
    // and now anyone sees it, also the other county
    assert_eq!(county2.get(&format!("/api/v1/public/spot-checks/{id}")).await.status, StatusCode::OK);
});

db_test!(officials_figures_count_exactly_what_was_created, |db| async move {
    let cast = seed_cast(&db).await;
    create_user(&db, "city", Role::Official, "4201", None).await;
    let app = TestApp::new(db.clone());
    let mut admin = app.api("admin").await;
    hourly_stars(&mut admin, None).await;
    let mut county = app.api("county").await;
    let mut county2 = app.api("county2").await;
    let mut province = app.api("province").await;
    let mut org = app.api("org").await;
    // homes: three in 武昌区, two in 洪山区
    let p0 = volunteer(&db, &mut county, "fig0", 20, "420106001001").await;
    let p1 = volunteer(&db, &mut county, "fig1", 21, "420106001001").await;
    let p2 = volunteer(&db, &mut county, "fig2", 22, "420106001001").await;
    volunteer(&db, &mut county2, "fig3", 23, "420111001001").await;
    volunteer(&db, &mut county2, "fig4", 24, "420111001001").await;
    // two activities in 武昌区 (one a time-bank activity), one in 洪山区
    let a = activity(&mut org, "助老时间银行", "420106001001", true).await;
    let b = activity(&mut org, "社区读报", "420106001001", false).await;
    let c = activity(&mut org, "江滩清洁", "420111001001", false).await;
    let (mut v0, mut v1, mut v3) = (app.api("fig0").await, app.api("fig1").await, app.api("fig3").await);
    // f0 serves three times, in both districts; f1 once; f3 (洪山区) once in 武昌区
    let m = [
        serve(&db, &mut org, &mut v0, a, 130).await.1,
        serve(&db, &mut org, &mut v0, b, 70).await.1,
        serve(&db, &mut org, &mut v0, c, 100).await.1,
        serve(&db, &mut org, &mut v1, b, 95).await.1,
        serve(&db, &mut org, &mut v3, a, 65).await.1,
    ];
    assert_eq!(m, [120, 60, 90, 90, 60]);
    // f2's role ends today; f1 moves to 洪山区 (the province may move people between districts)
    let r = county
        .json(
            Method::PATCH,
            &format!("/api/v1/volunteers/{p2}"),
            &json!({"ended_on": wushe_domain::time::local_date(Utc::now()), "end_reason": "迁出"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = province
        .json(Method::PATCH, &format!("/api/v1/volunteers/{p1}"), &json!({"division_code": "420111001001"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // f0 (120 + 60 + 90 = 270 min) holds an approved 1-star
    let q = county.get("/api/v1/star-awards").await.json();
    let first = awards(&q).into_iter().find(|x| x.1 == 1).unwrap().0;
    assert_eq!(decide(&mut county, first, true, None).await.0, StatusCode::OK);
    // certificates are counted by their own module: issued twice, revoked once
    let day = wushe_domain::time::local_date(Utc::now());
    let mut tx = db.begin().await.unwrap();
    stats::append(
        &mut tx,
        &[
            Delta::new("certificates", "420106001001", day, 1),
            Delta::new("certificates", "420106001001", day, 1),
            Delta::new("certificates", "420106001001", day, -1),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    stats::rollup_all(&db).await.unwrap();

    let year = chrono::Datelike::year(&day);
    let path = |region: &str| format!("/api/v1/stats/volunteering?region={region}&year={year}");
    let r = county.get(&path("420106")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let f = r.json();
    // the existing contract stays
    assert_eq!(f["totals"][0]["key"], "volunteer_minutes");
    assert_eq!(f["totals"][0]["value"], 120 + 60 + 90 + 60, "minutes served in 武昌区");
    assert_eq!(f["totals"][3]["value"], 2, "activities published in 武昌区");
    assert_eq!(f["activities"], 2);
    assert_eq!(f["registered_volunteers"], 1, "f0 only: f1 moved away today, f2 ended today");
    assert_eq!(f["active_volunteers"], 2, "f0 and f1 (who lived here when they served), each once");
    assert_eq!(f["certificates"], 1);
    assert_eq!(f["minutes_by_month"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).sum::<i64>(), 330);
    let elderly =
        f["minutes_by_category"].as_array().unwrap().iter().find(|x| x["key"] == "elderly").unwrap()["value"].clone();
    assert_eq!(elderly, 330);
    let by_level: Vec<i64> =
        f["stars_by_level"].as_array().unwrap().iter().map(|x| x["value"].as_i64().unwrap()).collect();
    assert_eq!(by_level, vec![1, 0, 0, 0, 0]);
    // coins: f0's 120 minutes on the time-bank activity (f3's 60 are at home in 洪山区)
    assert_eq!((f["timebank_coin_minutes"].as_i64(), f["timebank_coins"].as_str()), (Some(120), Some("2")));
    assert_eq!(f["region_name"], "武昌区");

    let g = county2.get(&path("420111")).await.json();
    assert_eq!(g["activities"], 1);
    assert_eq!(g["totals"][0]["value"], 90);
    assert_eq!(g["registered_volunteers"], 3, "f3, f4 and f1 who moved in");
    assert_eq!(g["active_volunteers"], 1, "f3 (served in 武昌区, lives here)");
    assert_eq!(g["timebank_coin_minutes"], 60);

    // the city: distinct volunteers from summable parts — f0 served in both districts, once
    let mut city = app.api("city").await;
    let h = city.get(&path("4201")).await.json();
    assert_eq!(h["active_volunteers"], 3, "f0, f1, f3");
    assert_eq!(h["registered_volunteers"], 4);
    assert_eq!(h["totals"][0]["value"], 420);
    assert_eq!(h["activities"], 3);
    assert_eq!(h["timebank_coin_minutes"], 180);
    let sub = |code: &str| h["subregions"].as_array().unwrap().iter().find(|s| s["code"] == code).unwrap().clone();
    let (w, hs) = (sub("420106"), sub("420111"));
    assert_eq!((w["active_volunteers"].as_i64(), hs["active_volunteers"].as_i64()), (Some(2), Some(1)));
    assert_eq!((w["registered_volunteers"].as_i64(), hs["registered_volunteers"].as_i64()), (Some(1), Some(3)));
    assert_eq!((w["volunteer_minutes"].as_i64(), hs["volunteer_minutes"].as_i64()), (Some(330), Some(90)));
    assert_eq!((w["star_volunteers"].as_i64(), w["certificates"].as_i64()), (Some(1), Some(1)));
    assert_eq!(sub("420102")["activities"], 0, "regions without figures show as zero");
    // last year: nothing yet, and registrations are dated today
    let prev = city.get(&format!("/api/v1/stats/volunteering?region=4201&year={}", year - 1)).await.json();
    assert_eq!((prev["registered_volunteers"].as_i64(), prev["active_volunteers"].as_i64()), (Some(0), Some(0)));

    // scope: 洪山区 cannot read 武昌区; volunteers read no figures
    assert_eq!(county2.get("/api/v1/stats/volunteering?region=420106").await.status, StatusCode::FORBIDDEN);
    assert_eq!(v0.get("/api/v1/stats/volunteering").await.status, StatusCode::FORBIDDEN);

    // the page: cards, a chart and a table for each, drill-down links
    let mut page = app.client();
    assert_eq!(page.login("city", PASSWORD).await.status, StatusCode::SEE_OTHER);
    let html = page.get(&format!("/stats/volunteering?year={year}")).await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.body);
    for id in ["stat-active", "month-chart", "month-table", "category-table", "star-table", "subregion-table"] {
        assert!(html.body.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(html.body.contains("/stats/volunteering?region=420106&amp;year="), "drill-down link");
    assert!(html.body.contains("echarts"), "the chart library is included");
    let html = page.get("/stats/volunteering?region=420111").await.body;
    assert!(html.contains("洪山区"));
    let mut station = app.client();
    assert_eq!(station.login("station", PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(station.get("/stats/volunteering?region=420106").await.status, StatusCode::FORBIDDEN);
    let _ = (cast, p0);
});
