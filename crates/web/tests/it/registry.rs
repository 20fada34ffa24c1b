//! Organizations through the API and UI on both backends: validation, the status state
//! machine, scope, Chinese fragment search and the public lookup.

use axum::http::{Method, StatusCode};
use serde_json::json;
use wushe_testkit::{db_test, seed_cast, TestApp, PASSWORD};

const CODE_A: &str = "91350100M000100Y43";
const CODE_B: &str = "91110108551385082Q";

fn org(name: &str, code: Option<&str>, division: &str, registered_on: &str) -> serde_json::Value {
    json!({"name": name, "credit_code": code, "org_type": "social_work_agency", "division_code": division,
           "registration_authority": "武昌区民政局", "registered_on": registered_on, "contact_phone": "138 1234 5678"})
}

db_test!(create_validate_and_search, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.client();
    api.token_for("county", PASSWORD).await;
    let r = api
        .json(
            Method::POST,
            "/api/v1/organizations",
            &org("武昌区阳光社会工作服务中心", Some(CODE_A), "420106001", "2020-03-01"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let body = r.json();
    assert_eq!(body["organization"]["status"], "registered");
    assert_eq!(body["organization"]["contact_phone"], "13812345678");
    assert_eq!(body["status_history"].as_array().unwrap().len(), 1);
    // the same credit code again
    let r =
        api.json(Method::POST, "/api/v1/organizations", &org("另一个名字", Some(CODE_A), "420106", "2020-03-01")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // a bad check digit names the field and the rule
    let r = api
        .json(
            Method::POST,
            "/api/v1/organizations",
            &org("武昌区某组织", Some("91350100M000100Y44"), "420106", "2020-03-01"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "统一社会信用代码");
    assert!(r.error_message().contains("校验位"));
    // outside the scope, unknown region, future date, bad phone
    let r = api.json(Method::POST, "/api/v1/organizations", &org("洪山区某组织", None, "420111", "2020-03-01")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r =
        api.json(Method::POST, "/api/v1/organizations", &org("武昌区某组织", None, "420106999", "2020-03-01")).await;
    assert!(r.error_message().contains("不存在"));
    let r = api.json(Method::POST, "/api/v1/organizations", &org("武昌区某组织", None, "420106", "2999-01-01")).await;
    assert_eq!(r.json()["error"]["field"], "登记日期");
    let mut bad = org("武昌区某组织", None, "420106", "2020-01-01");
    bad["contact_phone"] = json!("12345");
    assert_eq!(api.json(Method::POST, "/api/v1/organizations", &bad).await.json()["error"]["field"], "联系电话");
    // a second organization, then two-character fragment search and credit-code search
    let r = api
        .json(
            Method::POST,
            "/api/v1/organizations",
            &org("积玉桥社区慈善互助会", Some(CODE_B), "420106001001", "2021-06-01"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let names = |v: serde_json::Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap().to_string()).collect()
    };
    let hits = names(api.get("/api/v1/organizations?q=%E7%A4%BE%E5%B7%A5").await.json()); // 社工
                                                                                          // 社工 is a substring of the fixture's 测试社工中心, not of 社会工作服务中心
    assert_eq!(hits, vec!["武昌区测试社工中心".to_string()]);
    let hits = names(api.get("/api/v1/organizations?q=%E6%85%88%E5%96%84").await.json()); // 慈善
    assert_eq!(hits, vec!["积玉桥社区慈善互助会".to_string()]);
    let hits = names(api.get(&format!("/api/v1/organizations?q={}", CODE_B.to_lowercase())).await.json());
    assert_eq!(hits, vec!["积玉桥社区慈善互助会".to_string()]);
    let hits = names(api.get("/api/v1/organizations?region=420106001001").await.json());
    assert_eq!(hits.len(), 1);
    // the neighbour county sees neither
    let mut other = app.client();
    other.token_for("county2", PASSWORD).await;
    let list = other.get("/api/v1/organizations?per_page=200").await.json();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["division_code"].as_str().unwrap().starts_with("420111")));
    let id = body["organization"]["id"].as_i64().unwrap();
    assert_eq!(other.get(&format!("/api/v1/organizations/{id}")).await.status, StatusCode::NOT_FOUND);
    // organization staff see their own organization only and cannot register others
    let mut staff = app.client();
    staff.token_for("org", PASSWORD).await;
    let list = staff.get("/api/v1/organizations").await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(staff.get(&format!("/api/v1/organizations/{id}")).await.status, StatusCode::NOT_FOUND);
    let r = staff.json(Method::POST, "/api/v1/organizations", &org("随便", None, "420106", "2020-01-01")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

db_test!(status_history_follows_the_law, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.client();
    api.token_for("county", PASSWORD).await;
    let r = api
        .json(Method::POST, "/api/v1/organizations", &org("武昌区乐善社会服务中心", None, "420106", "2020-03-01"))
        .await;
    let id = r.json()["organization"]["id"].as_i64().unwrap();
    let status = |s: &str, on: &str| json!({"status": s, "effective_on": on, "authority": "武汉市民政局", "document_number": "武民〔2025〕1号"});
    let path = format!("/api/v1/organizations/{id}/status");
    // fundraising needs charity recognition first
    let r = api.json(Method::POST, &path, &status("fundraising_qualified", "2025-01-01")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = api.json(Method::POST, &path, &status("recognized_charity", "2025-03-01")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["organization"]["is_charity"], true);
    // less than a year after recognition: refused with the date it becomes possible
    let r = api.json(Method::POST, &path, &status("fundraising_qualified", "2026-02-28")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.error_message().contains("2026-03-01"), "{}", r.error_message());
    // a backdated decision is refused too
    let r = api.json(Method::POST, &path, &status("suspended", "2024-01-01")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = api.json(Method::POST, &path, &status("fundraising_qualified", "2026-03-01")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["organization"]["fundraising_qualified"], true);
    let r = api.json(Method::POST, &path, &status("revoked", "2026-03-02")).await;
    assert_eq!(r.status, StatusCode::OK);
    let after = r.json();
    assert_eq!(after["organization"]["status"], "revoked");
    let r = api.json(Method::POST, &path, &status("registered", "2026-03-03")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // the whole history is kept, in order, and every decision is audited
    let hist: Vec<String> =
        after["status_history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(hist, vec!["registered", "recognized_charity", "fundraising_qualified", "revoked"]);
    let audit = api.get(&format!("/api/v1/audit?entity=organization&entity_id={id}")).await.json();
    assert_eq!(audit["total"], 4);
    // unknown status and bad date
    let r = api.json(Method::POST, &path, &status("flying", "2026-03-03")).await;
    assert_eq!(r.json()["error"]["field"], "状态");
    let r = api.json(Method::POST, &path, &status("suspended", "03/03/2026")).await;
    assert_eq!(r.json()["error"]["field"], "生效日期");
});

db_test!(public_lookup_needs_no_login, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.client();
    api.token_for("province", PASSWORD).await;
    api.json(Method::POST, "/api/v1/organizations", &org("武昌区春晖慈善基金会", Some(CODE_A), "420106", "2019-01-01"))
        .await;
    let r = api
        .json(
            Method::POST,
            "/api/v1/banned-organizations",
            &json!({"name": "中国宠物产业联盟", "banned_on": "2021-12-31", "authority": "民政部"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = api
        .json(
            Method::POST,
            "/api/v1/banned-organizations",
            &json!({"name": "中国宠物产业联盟", "banned_on": "2021-12-31", "authority": "民政部"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let mut anon = app.client();
    let hits = anon.get("/api/v1/public/organizations?q=%E5%AE%A0%E7%89%A9").await; // 宠物
    assert_eq!(hits.status, StatusCode::OK);
    assert_eq!(hits.json()[0]["status"], "banned");
    let hits = anon.get(&format!("/api/v1/public/organizations?q={CODE_A}")).await.json();
    assert_eq!(hits[0]["name"], "武昌区春晖慈善基金会");
    assert_eq!(hits[0]["status"], "registered");
    assert_eq!(hits[0]["region"], "武昌区");
    let r = anon.get("/api/v1/public/organizations?q=%E6%98%A5").await; // one character
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error_message().contains("至少输入 2 个字"));
    assert_eq!(anon.get("/api/v1/public/organizations?q=%E4%B8%8D%E5%AD%98%E5%9C%A8").await.json(), json!([]));
    let banned = anon.get("/api/v1/public/banned-organizations").await.json();
    assert_eq!(banned.as_array().unwrap().len(), 1);
    // the page, without login
    let page = anon.get("/public/organizations?q=%E5%AE%A0%E7%89%A9").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("已取缔") && page.body.contains("中国宠物产业联盟"));
    // banning is for officials
    let mut vol = app.client();
    vol.token_for("station", PASSWORD).await;
    let r = vol
        .json(
            Method::POST,
            "/api/v1/banned-organizations",
            &json!({"name": "某某联盟", "banned_on": "2021-12-31", "authority": "民政部"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

db_test!(organizations_in_the_ui, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut ui = app.client();
    ui.login("county", PASSWORD).await;
    assert_eq!(ui.get("/organizations").await.status, StatusCode::OK);
    ui.get("/organizations/new").await;
    let fields = [
        ("name", "武昌区同心志愿者协会"),
        ("credit_code", "91350100M000100Y44"),
        ("org_type", "volunteer_organization"),
        ("division_code", "420106"),
        ("registration_authority", "武昌区民政局"),
        ("registered_on", "2022-02-02"),
    ];
    let r = ui.post_form("/organizations", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("统一社会信用代码") && r.body.contains("value=\"武昌区同心志愿者协会\""));
    let mut fixed = fields;
    fixed[1] = ("credit_code", CODE_A);
    let r = ui.post_form("/organizations", &fixed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = ui.get(r.location().unwrap()).await;
    assert!(page.body.contains("已登记：武昌区同心志愿者协会"));
    let id = r.location().unwrap().rsplit('/').next().unwrap().to_string();
    let r = ui
        .post_form(
            &format!("/organizations/{id}/status"),
            &[("status", "fundraising_qualified"), ("effective_on", "2023-01-01"), ("authority", "武昌区民政局")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("id=\"status-error\""));
    let r = ui
        .post_form(
            &format!("/organizations/{id}/status"),
            &[("status", "recognized_charity"), ("effective_on", "2023-01-01"), ("authority", "武汉市民政局")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = ui.get(&format!("/organizations/{id}")).await.body;
    assert!(page.contains("已认定为慈善组织"));
    let list = ui.get("/organizations?q=%E5%90%8C%E5%BF%83").await.body; // 同心
    assert!(list.contains("武昌区同心志愿者协会"));
});

db_test!(exports_follow_the_filter_and_mask_by_role, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.client();
    api.token_for("county", PASSWORD).await;
    api.json(
        Method::POST,
        "/api/v1/organizations",
        &org("积玉桥社区慈善互助会", Some(CODE_B), "420106001001", "2021-06-01"),
    )
    .await;
    api.json(
        Method::POST,
        "/api/v1/organizations",
        &org("武昌区阳光社会工作服务中心", Some(CODE_A), "420106", "2020-03-01"),
    )
    .await;
    // CSV: BOM, header, exactly the rows the filter selects
    let r = api.get("/api/v1/organizations?q=%E6%85%88%E5%96%84&format=csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(r.headers["content-disposition"].to_str().unwrap().contains("attachment"));
    let text = r.body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("名称,统一社会信用代码"));
    assert!(lines[1].contains("积玉桥社区慈善互助会") && lines[1].contains(CODE_B) && lines[1].contains("13812345678"));
    // the whole scope, as xlsx
    let r = api.send(Method::GET, "/api/v1/organizations?format=xlsx", None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().contains("spreadsheetml"));
    assert!(r.body.as_bytes().starts_with(b"PK"), "an xlsx file is a zip archive");
    // a station worker sees masked phones
    let mut sw = app.client();
    sw.token_for("station", PASSWORD).await;
    let r = sw.get("/api/v1/organizations?format=csv").await;
    assert!(r.body.contains("138****5678") && !r.body.contains("13812345678"), "{}", r.body);
    // unknown format
    let r = api.get("/api/v1/organizations?format=pdf").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // exports are audited (the station worker's too: it is inside the county)
    let audit = api.get("/api/v1/audit?action=export").await.json();
    assert_eq!(audit["total"], 3);
});

db_test!(pairing_programmes, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut prov = app.client();
    prov.token_for("province", PASSWORD).await;
    let mk = |name: &str, division: &str| org(name, None, division, "2020-03-01");
    let strong =
        prov.json(Method::POST, "/api/v1/organizations", &mk("武昌区强援社会工作服务中心", "420106")).await.json()
            ["organization"]["id"]
            .as_i64()
            .unwrap();
    let weak =
        prov.json(Method::POST, "/api/v1/organizations", &mk("洪山区新芽社会工作服务中心", "420111")).await.json()
            ["organization"]["id"]
            .as_i64()
            .unwrap();
    let pairing = |a: i64, b: i64, start: &str, end: &str| json!({"programme": "牵手计划 2026", "helper_org_id": a, "helped_org_id": b, "starts_on": start, "ends_on": end, "goals": "督导 12 次，培训 4 场"});
    let r = prov.json(Method::POST, "/api/v1/pairings", &pairing(strong, weak, "2026-01-01", "2026-12-31")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // rules: not with itself, end after start, at most five years
    let r = prov.json(Method::POST, "/api/v1/pairings", &pairing(strong, strong, "2026-01-01", "2026-12-31")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = prov.json(Method::POST, "/api/v1/pairings", &pairing(strong, weak, "2026-12-31", "2026-01-01")).await;
    assert!(r.error_message().contains("必须晚于"));
    let r = prov.json(Method::POST, "/api/v1/pairings", &pairing(strong, weak, "2026-01-01", "2032-01-01")).await;
    assert!(r.error_message().contains("不能超过 5 年"));
    // both counties' officials see it; a county official cannot pair across counties
    let mut county = app.client();
    county.token_for("county", PASSWORD).await;
    let seen = county.get("/api/v1/pairings").await.json();
    assert_eq!(seen.as_array().unwrap().len(), 1);
    assert_eq!(seen[0]["helped_name"], "洪山区新芽社会工作服务中心");
    let mut county2 = app.client();
    county2.token_for("county2", PASSWORD).await;
    assert_eq!(
        county2.get(&format!("/api/v1/pairings?organization_id={weak}")).await.json().as_array().unwrap().len(),
        1
    );
    let r = county.json(Method::POST, "/api/v1/pairings", &pairing(strong, weak, "2027-01-01", "2027-12-31")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "受助方");
    // a revoked organization cannot join
    let r = prov
        .json(
            Method::POST,
            &format!("/api/v1/organizations/{weak}/status"),
            &json!({"status": "revoked", "effective_on": "2026-02-01", "authority": "洪山区民政局"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = prov.json(Method::POST, "/api/v1/pairings", &pairing(strong, weak, "2027-01-01", "2027-12-31")).await;
    assert!(r.error_message().contains("受助方"), "{}", r.body);
    // shown on the organization page
    let mut ui = app.client();
    ui.login("province", PASSWORD).await;
    let page = ui.get(&format!("/organizations/{strong}")).await.body;
    assert!(page.contains("牵手计划 2026") && page.contains("洪山区新芽社会工作服务中心"));
});
