//! A user never sees or acts outside their own region or organization: through the API and
//! through the UI, on both backends.

use axum::http::{Method, StatusCode};
use wushe_testkit::{db_test, seed_cast, TestApp, PASSWORD};

db_test!(county_official_cannot_reach_another_county, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.client();
    api.token_for("county", PASSWORD).await;
    // regions
    assert_eq!(api.get("/api/v1/regions/420106").await.status, StatusCode::OK);
    let r = api.get("/api/v1/regions/420111").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.error_message().contains("不在您的管辖范围内"));
    assert_eq!(api.get("/api/v1/regions/420111001/children").await.status, StatusCode::FORBIDDEN);
    assert_eq!(api.get("/api/v1/regions/42").await.status, StatusCode::FORBIDDEN, "not even the province above");
    let hits = api.get("/api/v1/regions?q=%E6%B4%AA%E5%B1%B1").await.json(); // 洪山
    assert!(hits.as_array().unwrap().iter().all(|h| h["code"].as_str().unwrap().starts_with("420106")));
    // users
    assert_eq!(api.get(&format!("/api/v1/users/{}", cast.station)).await.status, StatusCode::OK);
    assert_eq!(api.get(&format!("/api/v1/users/{}", cast.county2)).await.status, StatusCode::NOT_FOUND);
    let list = api.get("/api/v1/users?per_page=200").await.json();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["scope_division"].as_str().unwrap().starts_with("420106")));
    let r = api
        .json(Method::PUT, &format!("/api/v1/users/{}/active", cast.county2), &serde_json::json!({"active": false}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // audit: only entries of the county
    let audit = api.get("/api/v1/audit?per_page=200").await.json();
    assert!(audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["division_code"].as_str().unwrap().starts_with("420106")));
    assert!(audit["total"].as_i64().unwrap() >= 3);

    // the same through the UI
    let mut ui = app.client();
    ui.login("county", PASSWORD).await;
    assert_eq!(ui.get("/regions/420106").await.status, StatusCode::OK);
    let r = ui.get("/regions/420111").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("不在您的管辖范围内") && r.body.contains("请求编号"));
    assert_eq!(ui.get(&format!("/users/{}", cast.county2)).await.status, StatusCode::NOT_FOUND);
    let r = ui.post_form(&format!("/users/{}/active", cast.county2), &[("active", "false")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let page = ui.get("/users").await.body;
    assert!(page.contains("station") && !page.contains("county2"));
    let page = ui.get("/audit").await.body;
    assert!(!page.contains("county2"));
});

db_test!(organization_staff_see_only_their_organization, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.client();
    api.token_for("org", PASSWORD).await;
    // organization staff do not manage users, and cannot read the audit log
    assert_eq!(api.get("/api/v1/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(api.get(&format!("/api/v1/users/{}", cast.station)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(api.get("/api/v1/audit").await.status, StatusCode::FORBIDDEN);
});

db_test!(user_creation_respects_role_and_scope, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.client();
    api.token_for("county", PASSWORD).await;
    let new = |username: &str, role: &str, scope: &str| serde_json::json!({"username": username, "display_name": "测试", "password": "Passw0rd2026", "role": role, "scope_division": scope});
    // inside the scope: fine
    let r = api.json(Method::POST, "/api/v1/users", &new("sw1", "social_worker", "420106001")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["scope_division"], "420106001");
    // wider than own scope
    let r = api.json(Method::POST, "/api/v1/users", &new("off1", "official", "42")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.error_message().contains("管辖范围"));
    // another county
    let r = api.json(Method::POST, "/api/v1/users", &new("off2", "official", "420111")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // a role above own
    let r = api.json(Method::POST, "/api/v1/users", &new("adm1", "admin", "420106")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.error_message().contains("高于自己"));
    // organization staff need an organization in scope
    let r = api.json(Method::POST, "/api/v1/users", &new("ostaff1", "org_staff", "420106")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut body = new("ostaff2", "org_staff", "420106");
    body["organization_id"] = serde_json::json!(cast.org);
    let r = api.json(Method::POST, "/api/v1/users", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // validation names the field and the rule
    let r = api.json(Method::POST, "/api/v1/users", &new("x", "volunteer", "420106")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "用户名");
    let r = api.json(Method::POST, "/api/v1/users", &new("okname", "volunteer", "4201069")).await;
    assert_eq!(r.json()["error"]["field"], "管辖区域");
    let r = api.json(Method::POST, "/api/v1/users", &new("okname", "volunteer", "420106999")).await;
    assert!(r.error_message().contains("不存在"), "{}", r.body);
    let mut weak = new("okname", "volunteer", "420106");
    weak["password"] = serde_json::json!("abc");
    let r = api.json(Method::POST, "/api/v1/users", &weak).await;
    assert_eq!(r.json()["error"]["field"], "初始密码");
    // duplicate
    let r = api.json(Method::POST, "/api/v1/users", &new("sw1", "volunteer", "420106")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // the new account works and its creation is audited with the actor
    let mut sw = app.client();
    sw.token_for("sw1", "Passw0rd2026").await;
    let audit = api.get("/api/v1/audit?entity=user&action=create&username=county").await.json();
    assert_eq!(audit["total"], 2);
    assert!(audit["items"][0]["summary"].as_str().unwrap().contains("ostaff2"));
    let _ = cast;
});

db_test!(user_creation_through_the_form, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut ui = app.client();
    ui.login("county", PASSWORD).await;
    ui.get("/users/new").await;
    let r = ui
        .post_form(
            "/users",
            &[
                ("username", "vol1"),
                ("display_name", "志愿者一"),
                ("password", "Passw0rd2026"),
                ("role", "volunteer"),
                ("scope_division", "420111"),
                ("organization_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("不能授予超出自己管辖范围的区域"), "the form comes back with the reason");
    assert!(r.body.contains("value=\"vol1\""), "and keeps what was typed");
    let r = ui
        .post_form(
            "/users",
            &[
                ("username", "vol1"),
                ("display_name", "志愿者一"),
                ("password", "Passw0rd2026"),
                ("role", "volunteer"),
                ("scope_division", "420106001"),
                ("organization_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = ui.get(r.location().unwrap()).await;
    assert!(page.body.contains("已创建用户 vol1"));
});
