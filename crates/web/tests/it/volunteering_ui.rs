//! Volunteer service through the UI on both backends: the organizer's form and publishing,
//! the public list, a volunteer's sign-up on the activity page, the big-screen QR, the
//! phone's check-in page, check-out from the roster, bulk hour confirmation, the volunteer's
//! record, a correction request and its review, CSRF and who may see the QR.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use wushe_domain::accounts::Role;
use wushe_store::accounts::users;
use wushe_store::Db;
use wushe_testkit::volunteering::backdate_check_ins_of_activity;
use wushe_testkit::{citizen_id, create_user, db_test, seed_cast, Client, TestApp, PASSWORD};

async fn login(app: &TestApp, user: &str) -> Client {
    let mut c = app.client();
    let r = c.login(user, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "login {user}: {}", r.body);
    assert_eq!(c.get("/").await.status, StatusCode::OK);
    c
}

/// Register a volunteer through the API (as the county official) and give them a login.
async fn volunteer(db: &Db, app: &TestApp, username: &str, seq: u32) -> i64 {
    let mut county = app.client();
    county.token_for("county", PASSWORD).await;
    let given = ["甲", "乙", "丙", "丁"][seq as usize % 4];
    let body = json!({"name": format!("李志愿{given}"), "citizen_id": citizen_id(&format!("42010619900307{seq:03}")),
        "phone": format!("139{seq:08}"), "division_code": "420106001001"});
    let r = county.json(Method::POST, "/api/v1/volunteers", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let pid = r.json()["id"].as_i64().unwrap();
    let uid = create_user(db, username, Role::Volunteer, "420106", None).await;
    let mut tx = db.begin().await.unwrap();
    users::link_person(&mut tx, uid, pid).await.unwrap();
    tx.commit().await.unwrap();
    pid
}

/// A `datetime-local` value in Beijing time.
fn bj(t: DateTime<Utc>) -> String {
    wushe_domain::time::format_local(t, "%Y-%m-%dT%H:%M")
}

/// The first number following `marker` in `html`.
fn number_after(html: &str, marker: &str) -> i64 {
    let i = html.find(marker).unwrap_or_else(|| panic!("{marker} not in page: {html}")) + marker.len();
    html[i..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("a number")
}

fn activity_form<'a>(title: &'a str, starts: &'a str, ends: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("content", "陪伴社区老人聊天、读报"),
        ("category", "elderly"),
        ("division_code", "420106001001"),
        ("address", "积玉桥社区活动室"),
        ("latitude", ""),
        ("longitude", ""),
        ("checkin_radius_m", ""),
        ("min_age", ""),
        ("recruit_until", ""),
        ("auto_approve", "1"),
        ("slot_starts", starts),
        ("slot_ends", ends),
        ("slot_capacity", "5"),
        ("slot_starts", ""),
        ("slot_ends", ""),
        ("slot_capacity", ""),
        ("slot_starts", ""),
        ("slot_ends", ""),
        ("slot_capacity", ""),
    ]
}

db_test!(activity_sign_up_check_in_and_hours_through_the_pages, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    volunteer(&db, &app, "vol1", 1).await;
    volunteer(&db, &app, "vol2", 2).await;
    let mut org = login(&app, "org").await;

    // the form: at least three slot rows, Beijing time
    let r = org.get("/activities/new").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<meta name=\"viewport\""));
    assert!(r.body.matches("name=\"slot_starts\"").count() >= 3, "{}", r.body);
    assert!(r.body.contains("扶老助残") && r.body.contains("立即发布"));

    // problems are named next to their fields, and what was typed stays
    let s = Utc::now() + Duration::minutes(30);
    let (starts, ends) = (bj(s), bj(s + Duration::hours(3)));
    let mut bad = activity_form("读", &starts, &ends);
    bad[12] = ("slot_ends", "明天");
    let r = org.post_form("/activities", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("data-field=\"时段\"") && r.body.contains("第 1 行"), "{}", r.body);
    assert!(r.body.contains("value=\"积玉桥社区活动室\""), "typed values kept");
    let r = org.post_form("/activities", &activity_form("读", &starts, &ends)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("data-field=\"活动名称\""), "{}", r.body);

    // saved as a draft, then published
    let title = "陪伴社区老人读报";
    let r = org.post_form("/activities", &activity_form(title, &starts, &ends)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let path = r.location().unwrap().to_string();
    let aid: i64 = path.trim_start_matches("/activities/").parse().expect("activity path");
    let r = org.get(&path).await;
    assert!(r.body.contains("已保存为草稿") && r.body.contains("草稿"), "{}", r.body);
    let mut public = app.client();
    assert_eq!(public.get(&path).await.status, StatusCode::NOT_FOUND, "drafts are not public");
    let r = org.post_form(&format!("{path}/status"), &[("status", "published")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = org.get(&path).await;
    assert!(r.body.contains("招募中") && r.body.contains("剩余 5"), "{}", r.body);
    assert!(r.body.contains(&format!("href=\"{path}/qr\"")), "QR link for the organizer");

    // the public list and page, without logging in
    let r = public.get("/activities").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(title) && r.body.contains("<meta name=\"viewport\""), "{}", r.body);
    assert!(r.body.contains("href=\"/activities\""), "nav link for the public");
    let r = public.get("/activities?f=1&q=%E8%AF%BB%E6%8A%A5&category=elderly&upcoming=1").await; // 读报
    assert!(r.body.contains(title), "{}", r.body);
    let r = public.get("/activities?f=1&q=%E7%8E%AF%E4%BF%9D").await; // 环保
    assert!(!r.body.contains(title) && r.body.contains("没有符合条件的活动"));
    let r = public.get("/activities?region=12x").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"filter-error\""));
    let r = public.get(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("登录后报名") && !r.body.contains("roster"), "{}", r.body);

    // a volunteer signs up on the page
    let mut v1 = login(&app, "vol1").await;
    let r = v1.get("/").await;
    assert!(r.body.contains("href=\"/me/record\"") && r.body.contains("我的志愿记录"), "volunteer nav");
    let r = v1.get(&path).await;
    assert!(r.body.contains(&format!("action=\"{path}/signups\"")), "{}", r.body);
    let slot = number_after(&r.body, "name=\"slot_id\" value=\"");
    let r = v1.post_form(&format!("{path}/signups"), &[("slot_id", &slot.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = v1.get(&path).await;
    assert!(r.body.contains("我的报名：已录用") && r.body.contains("剩余 4"), "{}", r.body);
    let r = v1.post_form(&format!("{path}/signups"), &[("slot_id", &slot.to_string())]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no double sign-up");
    assert!(r.body.contains("id=\"action-error\""), "{}", r.body);
    // CSRF is enforced
    let r = v1.post_form_raw(&format!("{path}/signups"), &[("slot_id", &slot.to_string())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("CSRF"), "{}", r.body);

    // the organizer's QR screen; a volunteer may not open it
    let r = org.get(&format!("{path}/qr")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<svg") && r.body.contains("hx-trigger=\"every 10s\""), "{}", r.body);
    assert!(r.body.contains(&format!("hx-get=\"{path}/qr/code\"")));
    let code = format!("{:06}", number_after(&r.body, "id=\"checkin-code\" aria-label=\"签到码\">"));
    assert!(
        r.body.contains(&format!("/checkin?a={aid}&amp;c={code}"))
            || r.body.contains(&format!("/checkin?a={aid}&#38;c={code}"))
    );
    let r = org.get(&format!("{path}/qr/code")).await;
    assert!(r.status == StatusCode::OK && r.body.contains("<svg") && !r.body.contains("<html"));
    assert_eq!(v1.get(&format!("{path}/qr")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(v1.get(&format!("{path}/qr/code")).await.status, StatusCode::FORBIDDEN);

    // the check-in page: to the login and back, then check in with the current code
    let checkin = format!("/checkin?a={aid}&c={code}");
    let r = public.get(&checkin).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let to = r.location().unwrap().to_string();
    assert!(to.starts_with("/login?next=%2Fcheckin%3Fa%3D"), "{to}");
    public.get(&to).await;
    let r = public.post_form("/login", &[("username", "vol2"), ("password", PASSWORD), ("next", &checkin)]).await;
    assert_eq!(r.location(), Some(checkin.as_str()), "back to the check-in page after login");
    let r = v1.get(&checkin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains(title) && r.body.contains(&format!("value=\"{code}\"")) && r.body.contains("name=\"latitude\"")
    );
    assert!(r.body.contains("<meta name=\"viewport\""));
    let aid_s = aid.to_string();
    let fields = [("activity_id", aid_s.as_str()), ("code", "000000x"), ("latitude", ""), ("longitude", "")];
    let r = v1.post_form("/checkin", &fields).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("id=\"checkin-result\"") && r.body.contains("签到码无效"), "{}", r.body);
    let fields = [("activity_id", aid_s.as_str()), ("code", code.as_str()), ("latitude", ""), ("longitude", "")];
    let r = v1.post_form("/checkin", &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("签到成功") && r.body.contains("北京时间"), "{}", r.body);

    // three hours later the organizer checks the volunteer out from the roster
    backdate_check_ins_of_activity(&db, aid, Duration::hours(3)).await;
    let r = org.get(&path).await;
    assert!(r.body.contains("id=\"roster\"") && r.body.contains("李志愿乙") && r.body.contains("已签到"), "{}", r.body);
    let i = r.body.find(&format!("action=\"{path}/roster/check-out\"")).expect("check-out button");
    let signup = number_after(&r.body[i..], "name=\"signup_id\" value=\"");
    let r = org.post_form(&format!("{path}/roster/check-out"), &[("signup_id", &signup.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // and confirms the hours with the bulk form
    let r = org.get(&path).await;
    assert!(r.body.contains("已签到") || r.body.contains("已签退"), "{}", r.body);
    assert!(r.body.contains("id=\"confirm-form\""), "{}", r.body);
    let att = number_after(&r.body, "name=\"attendance_id\" value=\"");
    let r = org.post_form(&format!("{path}/confirm"), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "nothing ticked");
    let travel = format!("travel_{att}");
    let r = org
        .post_form(
            &format!("{path}/confirm"),
            &[("attendance_id", &att.to_string()), (&travel, "0"), (&format!("evaluation_{att}"), "优秀")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = org.get(&path).await;
    assert!(r.body.contains("已确认 1 条服务记录，共 3 小时"), "{}", r.body);
    assert!(r.body.contains("时长已确认"), "{}", r.body);

    // the volunteer's record
    let r = v1.get("/me/record").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"total-hours\">3<"), "{}", r.body);
    assert!(r.body.contains(title) && r.body.contains("武昌区测试社工中心") && r.body.contains("有效"), "{}", r.body);
    assert!(r.body.contains("☆☆☆☆☆") && r.body.contains("可升一星"), "{}", r.body);
    let rid = number_after(&r.body, "action=\"/service-records/");

    // a correction: asked for on the record page, approved by the organization
    let start = Utc::now() - Duration::hours(4);
    let r = v1
        .post_form(
            &format!("/service-records/{rid}/corrections"),
            &[
                ("reason", "短"),
                ("started_at", &bj(start)),
                ("ended_at", &bj(start + Duration::hours(4))),
                ("travel_minutes", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("更正理由") && r.body.contains("id=\"form-error\""), "{}", r.body);
    let r = v1
        .post_form(
            &format!("/service-records/{rid}/corrections"),
            &[
                ("reason", "实际提前一小时到岗"),
                ("started_at", &bj(start)),
                ("ended_at", &bj(start + Duration::hours(4))),
                ("travel_minutes", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some("/me/record"));
    let r = v1.get("/me/record").await;
    assert!(r.body.contains("更正申请已提交") && r.body.contains("待审核"), "{}", r.body);
    assert_eq!(v1.get("/corrections").await.status, StatusCode::FORBIDDEN);
    let r = org.get("/corrections").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("实际提前一小时到岗") && r.body.contains("李志愿乙"), "{}", r.body);
    let cid = number_after(&r.body, "action=\"/corrections/");
    let r = org.post_form(&format!("/corrections/{cid}/review"), &[("decision", "approve"), ("note", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = v1.get("/me/record").await;
    assert!(r.body.contains("已更正") && r.body.contains("更正后记录"), "{}", r.body);
    assert!(r.body.contains("id=\"total-hours\">4<"), "{}", r.body);

    // a void (作废): chosen on the same form, whose times are then not used
    assert!(r.body.contains("value=\"void\"") && r.body.contains("作废（未实际服务）"), "{}", r.body);
    let rid = number_after(&r.body, "action=\"/service-records/");
    let path = format!("/service-records/{rid}/corrections");
    let r = v1.post_form(&path, &[("kind", "both"), ("reason", "重复登记，未实际服务")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("更正类型"), "{}", r.body);
    let r = v1
        .post_form(
            &path,
            &[
                ("kind", "void"),
                ("reason", "重复登记，未实际服务"),
                ("started_at", ""),
                ("ended_at", "x"),
                ("travel_minutes", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = v1.get("/me/record").await;
    assert!(r.body.contains("待审核") && r.body.contains("申请作废"), "{}", r.body);
    let r = org.get("/corrections").await;
    assert!(r.body.contains("class=\"badge text-bg-danger correction-kind\">作废（未实际服务）"), "{}", r.body);
    assert!(r.body.contains("重复登记，未实际服务"), "{}", r.body);
    let cid = number_after(&r.body, "action=\"/corrections/");
    let r = org.post_form(&format!("/corrections/{cid}/review"), &[("decision", "approve"), ("note", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(org.get("/corrections").await.body.contains("已通过作废"));
    let r = v1.get("/me/record").await;
    assert!(r.body.contains("已作废") && r.body.contains("id=\"total-hours\">0<"), "{}", r.body);
    assert!(!r.body.contains("action=\"/service-records/"), "nothing left in force to correct: {}", r.body);
});

db_test!(roster_decisions_and_permissions, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    volunteer(&db, &app, "vol1", 1).await;
    let mut org = login(&app, "org").await;
    let s = Utc::now() + Duration::days(2);
    let (starts, ends) = (bj(s), bj(s + Duration::hours(2)));
    let mut form = activity_form("社区环保清扫", &starts, &ends);
    form.retain(|(k, _)| *k != "auto_approve");
    form.push(("publish", "1"));
    let r = org.post_form("/activities", &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let path = r.location().unwrap().to_string();

    // without automatic approval the sign-up waits for the organizer
    let mut v1 = login(&app, "vol1").await;
    let slot = number_after(&v1.get(&path).await.body, "name=\"slot_id\" value=\"");
    let r = v1.post_form(&format!("{path}/signups"), &[("slot_id", &slot.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(v1.get(&path).await.body.contains("我的报名：待审核"));
    // a volunteer sees no roster and may not decide
    let r = v1.get(&path).await;
    assert!(!r.body.contains("id=\"roster\""));
    let r = org.get(&path).await;
    assert!(r.body.contains("id=\"roster\"") && r.body.contains("录用"), "{}", r.body);
    let i = r.body.find("name=\"action\" value=\"approve\"").expect("approve button");
    let (_, after) = r.body[..i].rsplit_once(&format!("action=\"{path}/signups/")).expect("sign-up form");
    let sid = number_after(after, "");
    let r = v1.post_form(&format!("{path}/signups/{sid}"), &[("action", "approve")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = org.post_form(&format!("{path}/signups/{sid}"), &[("action", "approve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(v1.get(&path).await.body.contains("我的报名：已录用"));
    // the slot has not started: the roster's check-in is refused with the reason on the page
    let r = org.post_form(&format!("{path}/roster/check-in"), &[("signup_id", &sid.to_string())]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("签到尚未开始"), "{}", r.body);
    // the volunteer withdraws
    let r = v1.post_form(&format!("{path}/signups/{sid}"), &[("action", "cancel")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(v1.get(&path).await.body.contains("我的报名：已取消"));

    // officials see the roster of activities in their region, without the buttons
    let mut county = login(&app, "county").await;
    let r = county.get(&path).await;
    assert!(r.body.contains("id=\"roster\"") && !r.body.contains("id=\"organizer-actions\""), "{}", r.body);
    assert_eq!(county.get(&format!("{path}/qr")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(county.get("/activities/new").await.status, StatusCode::FORBIDDEN);
    // the record page is the volunteer's own
    assert_eq!(county.get("/me/record").await.status, StatusCode::FORBIDDEN);
    let r = v1.get("/me/record").await;
    assert!(r.status == StatusCode::OK && r.body.contains("id=\"no-services\""), "{}", r.body);
    // the organizer cancels the activity
    let r = org.post_form(&format!("{path}/status"), &[("status", "cancelled")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = org.post_form(&format!("{path}/status"), &[("status", "published")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("已取消"), "{}", r.body);

    // a geofenced activity: the check-in page asks for the position, the server explains
    let s = Utc::now() + Duration::minutes(20);
    let (starts, ends) = (bj(s), bj(s + Duration::hours(2)));
    let mut form = activity_form("社区义诊引导", &starts, &ends);
    for (k, v) in form.iter_mut() {
        match *k {
            "latitude" => *v = "30.560000",
            "longitude" => *v = "114.300000",
            "checkin_radius_m" => *v = "200",
            _ => {}
        }
    }
    form.push(("publish", "1"));
    let r = org.post_form("/activities", &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let fenced = r.location().unwrap().to_string();
    let aid = fenced.trim_start_matches("/activities/").to_string();
    let slot = number_after(&v1.get(&fenced).await.body, "name=\"slot_id\" value=\"");
    let r = v1.post_form(&format!("{fenced}/signups"), &[("slot_id", &slot.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let qr = org.get(&format!("{fenced}/qr")).await.body;
    let code = format!("{:06}", number_after(&qr, "id=\"checkin-code\" aria-label=\"签到码\">"));
    let r = v1.get(&format!("/checkin?a={aid}&c={code}")).await;
    assert!(r.body.contains("data-geo") && r.body.contains("200 米内"), "{}", r.body);
    let at = |lat: &'static str, lng: &'static str| {
        vec![
            ("activity_id", aid.clone()),
            ("code", code.clone()),
            ("latitude", lat.to_string()),
            ("longitude", lng.to_string()),
        ]
    };
    let f = at("", "");
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = v1.post_form("/checkin", &fields).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("本活动要求在活动地点签到"), "{}", r.body);
    let f = at("30.600000", "114.300000");
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = v1.post_form("/checkin", &fields).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("超出签到范围"), "{}", r.body);
    let f = at("30.560500", "114.300200");
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = v1.post_form("/checkin", &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("签到成功"), "{}", r.body);
});
