//! Bad input gets a clear Chinese message and the right status, never a 500.

use axum::http::{Method, StatusCode};
use wushe_testkit::{db_test, seed_cast, TestApp, PASSWORD};

db_test!(bad_requests_get_clear_answers, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.client();
    api.token_for("province", PASSWORD).await;
    // malformed region codes
    for bad in ["abc", "4201x6", "1234567", "00", "4200"] {
        let r = api.get(&format!("/api/v1/regions/{bad}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], "区划代码");
        assert!(!r.json()["error"]["request_id"].as_str().unwrap().is_empty());
    }
    // a well-formed code that does not exist
    let r = api.get("/api/v1/regions/429999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error_message().contains("不存在"));
    // wrong content type, broken JSON, missing fields
    let r = api.send(Method::POST, "/api/v1/users", Some("text/plain"), b"hi".to_vec(), &[]).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.error_message().contains("application/json"));
    let r = api.send(Method::POST, "/api/v1/users", Some("application/json"), b"{not json".to_vec(), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error_message().contains("JSON"));
    let r = api.json(Method::POST, "/api/v1/users", &serde_json::json!({"username": "x"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error_message().contains("JSON 字段"));
    // oversized body
    let big = vec![b'a'; 3 * 1024 * 1024];
    let r = api.send(Method::POST, "/api/v1/users", Some("application/json"), big, &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.error_message().contains("过大"));
    // unknown API path and wrong method
    let r = api.get("/api/v1/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = api.send(Method::PATCH, "/api/v1/regions/42", None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.error_message().contains("请求方法"));
    // bad query parameters
    let r = api.get("/api/v1/users?page=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error_message().contains("查询参数"));
    let r = api.get("/api/v1/audit?from=yesterday").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // unauthenticated API calls
    let mut anon = app.client();
    let r = anon.get("/api/v1/regions/42").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_message(), "请先登录");
    // UI pages: a Chinese error page with the request id
    let mut ui = app.client();
    ui.login("province", PASSWORD).await;
    let r = ui.get("/regions/abc").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("区划代码") && r.body.contains("请求编号"));
    let r = ui.get("/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("页面或资源不存在"));
    let r = ui.get("/audit?from=2026-13-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("YYYY-MM-DD"));
});

db_test!(healthz_and_static_assets, |db| async move {
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    let r = c.get("/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
    let url = wushe_web::assets::url("htmx.min.js");
    let r = c.get(&url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["cache-control"].to_str().unwrap().contains("immutable"));
    let etag = r.headers["etag"].to_str().unwrap().to_string();
    let r = c.send(Method::GET, &url, None, vec![], &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(c.get("/static/abc/nothing.js").await.status, StatusCode::NOT_FOUND);
    // Swagger UI and the spec are served from the binary
    let r = c.get("/api/docs/").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let spec = c.get("/api/openapi.json").await.json();
    assert!(spec["paths"]["/api/v1/regions/{code}"]["get"].is_object());
});

db_test!(login_and_public_lookups_are_rate_limited, |db| async move {
    seed_cast(&db).await;
    let config = wushe_web::WebConfig { login_per_minute: 3, public_per_minute: 2, ..Default::default() };
    let app = TestApp::with_config(db.clone(), config);
    let mut c = app.client();
    for _ in 0..3 {
        let r = c
            .json(
                Method::POST,
                "/api/v1/auth/token",
                &serde_json::json!({"username": "county", "password": "wrong1234"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let r = c
        .json(Method::POST, "/api/v1/auth/token", &serde_json::json!({"username": "county", "password": PASSWORD}))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.error_message().contains("请求过于频繁"));
    assert!(r.headers.contains_key("retry-after"));
    // pages that are not limited still answer
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(c.get("/api/v1/public/organizations?q=%E6%85%88%E5%96%84").await.status, StatusCode::OK);
    }
    let r = c.get("/public/organizations?q=%E6%85%88%E5%96%84").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("请求过于频繁"));
});
