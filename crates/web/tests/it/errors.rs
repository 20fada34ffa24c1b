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

/// Percent-encode a query value (the in-process client sends the URI as given).
fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

// Search terms of any script and length: six CJK characters are 18 bytes, the length of an
// ID number, and the classifier once sliced them by bytes and panicked.
db_test!(searches_of_any_text_answer, |db| async move {
    use proptest::strategy::{Strategy, ValueTree};
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut api = app.api("county").await;
    let lists = ["/api/v1/volunteers", "/api/v1/beneficiaries", "/api/v1/social-workers", "/api/v1/timebank/accounts"];
    for q in [
        "社会工作服务",
        "１２３４５６",
        "１２３４５６７８９０１２３４５６７８",
        "社会工作服务社会工作服务社会工作",
        "👩‍👩‍👧e\u{301}",
    ] {
        for list in lists {
            let r = api.get(&format!("{list}?q={}", enc(q))).await;
            assert_eq!(r.status, StatusCode::OK, "{list}?q={q}: {}", r.body);
        }
    }
    // Every string of 1–40 characters from a mixed alphabet (generated, deterministic seed).
    let alphabet = proptest::sample::select(vec![
        '社', '工', '慈', '善', '王', '１', '２', '０', 'Ｘ', '－', '1', '3', '8', '0', 'X', 'V', 'a', '-', ' ', '·',
        '\u{301}', '😀', '〇', '（', '％', '_', '\'', '"',
    ]);
    let strategy = proptest::collection::vec(alphabet, 1..=40).prop_map(|v| v.into_iter().collect::<String>());
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for i in 0..120 {
        let q = strategy.new_tree(&mut runner).expect("a value").current();
        let list = lists[i % lists.len()];
        let r = api.get(&format!("{list}?q={}", enc(&q))).await;
        assert_eq!(r.status, StatusCode::OK, "{list}?q={q:?}: {}", r.body);
    }
});

// A reference to a record that does not exist is a 4xx naming the field, checked by the
// service before the database's foreign key would refuse it.
db_test!(references_to_missing_records_are_refused_by_name, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut admin = app.api("admin").await;
    let s = chrono::Utc::now() + chrono::Duration::hours(2);
    let body = serde_json::json!({"title": "陪伴老人", "content": "陪伴聊天", "category": "扶老助残",
        "division_code": "420106001001", "address": "积玉桥社区活动室", "organization_id": 999_999,
        "slots": [{"starts_at": s, "ends_at": s + chrono::Duration::hours(2), "capacity": 3}]});
    let r = admin.json(Method::POST, "/api/v1/activities", &body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["field"], "organization_id");
    assert!(r.error_message().contains("不存在"), "{}", r.body);
    // organization staff name their own organization or none: another is refused, not ignored
    let other = wushe_testkit::create_org(&db, "武昌区另一家社会组织", "420106001001").await;
    let mut org = app.api("org").await;
    let mut theirs = body.clone();
    theirs["organization_id"] = serde_json::json!(other);
    let r = org.json(Method::POST, "/api/v1/activities", &theirs).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let policy = serde_json::json!({"insurer": "测试保险公司", "policy_number": "P-1", "starts_on": "2026-01-01",
        "ends_on": "2026-12-31", "person_ids": [1], "organization_id": other});
    let r = org.json(Method::POST, "/api/v1/insurance-policies", &policy).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let b = serde_json::json!({"name": "王秀英", "citizen_id": wushe_testkit::citizen_id("42010619500101002"),
        "division_code": "420106001001", "categories": ["低保"], "consent_given_by": "王秀英",
        "consent_on": "2026-01-05", "serving_org_id": other});
    let r = org.json(Method::POST, "/api/v1/beneficiaries", &b).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.error_message().contains("本组织"), "{}", r.body);
});

// CSRF is decided by the credential used: the session cookie needs the token whatever other
// headers come with it; a bearer token is the credential alone, and a bad one is 401.
db_test!(csrf_follows_the_credential_used, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut ui = app.client();
    ui.login("admin", PASSWORD).await;
    let body = serde_json::to_vec(&serde_json::json!({"name": "脚本"})).unwrap();
    for auth in ["Basic dXNlcjpwYXNz", "", "Digest x", "Token abc"] {
        let r = ui
            .send(Method::POST, "/api/v1/tokens", Some("application/json"), body.clone(), &[("authorization", auth)])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "Authorization: {auth:?}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "csrf_failed");
    }
    for auth in ["Bearer not-a-token", "bearer ", "Bearer"] {
        let r = ui
            .send(Method::POST, "/api/v1/tokens", Some("application/json"), body.clone(), &[("authorization", auth)])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "Authorization: {auth:?} never falls back to the cookie");
    }
    // the UI form to disable a user, with a Basic header and no CSRF token
    let r = ui
        .send(
            Method::POST,
            &format!("/users/{}/active", 2),
            Some("application/x-www-form-urlencoded"),
            b"active=false".to_vec(),
            &[("authorization", "Basic dXNlcjpwYXNz")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // with its CSRF token the cookie request passes, the Basic header notwithstanding
    ui.get("/account").await;
    let csrf = ui.csrf.clone().expect("the page carries the session's CSRF token");
    let headers = [("authorization", "Basic dXNlcjpwYXNz"), ("x-csrf-token", csrf.as_str())];
    let r = ui.send(Method::POST, "/api/v1/tokens", Some("application/json"), body.clone(), &headers).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // a valid bearer token needs no CSRF token, cookie or not
    let token = r.json()["token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {token}");
    let r = ui
        .send(Method::POST, "/api/v1/tokens", Some("application/json"), body, &[("authorization", bearer.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
});

// Text fields are read under one policy: a maximum length, no control characters, trimmed;
// out-of-range pages are refused, not clamped; oversized requests get the envelope.
db_test!(input_policy_and_limits, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut admin = app.api("admin").await;
    let big = "局".repeat(1_000_000);
    let r = admin
        .json(
            Method::POST,
            "/api/v1/banned-organizations",
            &serde_json::json!({"name": "某联盟", "banned_on": "2021-12-31", "authority": big}),
        )
        .await;
    assert!(r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::PAYLOAD_TOO_LARGE, "{}", r.status);
    let r = admin
        .json(
            Method::POST,
            "/api/v1/banned-organizations",
            &serde_json::json!({"name": "某联盟", "banned_on": "2021-12-31", "authority": "局".repeat(201)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.json()["error"]["field"], "authority");
    assert!(r.error_message().contains("不能超过 200 个字"), "{}", r.body);
    for bad in ["某\u{0}联盟", "某\u{1b}[31m联盟", "某\n联盟"] {
        let r = admin
            .json(
                Method::POST,
                "/api/v1/banned-organizations",
                &serde_json::json!({"name": bad, "banned_on": "2021-12-31", "authority": "民政部"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], "name");
    }
    let r = admin
        .json(
            Method::POST,
            "/api/v1/banned-organizations",
            &serde_json::json!({"name": "  某联盟  ", "banned_on": "2021-12-31", "authority": "民政部",
                                "note": "第一行\r\n第二行"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let hits = admin.get(&format!("/api/v1/public/banned-organizations?q={}", enc("某联盟"))).await.json();
    assert_eq!(hits[0]["name"], "某联盟", "{hits}");
    assert_eq!(hits[0]["note"], "第一行\n第二行", "{hits}");
    // pages
    let r = admin.get("/api/v1/users?per_page=1000").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["field"], "per_page");
    assert_eq!(admin.get("/api/v1/users?page=0").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(admin.get("/api/v1/users?per_page=200").await.status, StatusCode::OK);
    // sizes
    let long = format!("/api/v1/users?q={}", "a".repeat(9000));
    let r = admin.get(&long).await;
    assert_eq!(r.status, StatusCode::URI_TOO_LONG);
    assert_eq!(r.json()["error"]["code"], "uri_too_long");
    let huge = "x".repeat(40_000);
    let r = admin.send(Method::GET, "/api/v1/users", None, vec![], &[("x-padding", huge.as_str())]).await;
    assert_eq!(r.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(r.json()["error"]["code"], "headers_too_large");
    let r = admin.send(Method::POST, "/api/v1/users", Some("application/json"), vec![b' '; 3 << 20], &[]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["error"]["code"], "payload_too_large");
    // a missing field names it
    let r = admin.json(Method::POST, "/api/v1/users", &serde_json::json!({"username": "x"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["error"]["field"].is_string(), "{}", r.body);
});

// Values at the edges of their types are refused, never wrapped or clamped.
db_test!(edge_values_are_refused, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut admin = app.api("admin").await;
    let r = admin.json(Method::POST, "/api/v1/goods/1/restock", &serde_json::json!({"quantity": i64::MIN})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for q in ["page=2147483648", "page=1000001", "per_page=0", "per_page=201"] {
        for list in ["/api/v1/users", "/api/v1/public/spot-checks", "/api/v1/star-awards", "/api/v1/spot-checks"] {
            let r = admin.get(&format!("{list}?{q}")).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{list}?{q}: {}", r.body);
        }
    }
});

// A disabled account answers a wrong password as an unknown username does: the refusal
// does not tell who has an account.
db_test!(a_disabled_account_is_not_revealed_by_a_wrong_password, |db| async move {
    let cast = seed_cast(&db).await;
    let mut tx = db.begin().await.unwrap();
    wushe_store::accounts::users::set_active(&mut tx, cast.county2, false).await.unwrap();
    tx.commit().await.unwrap();
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    let token = |u: &str, p: &str| serde_json::json!({"username": u, "password": p});
    let wrong = c.json(Method::POST, "/api/v1/auth/token", &token("county2", "wrong1234")).await;
    let unknown = c.json(Method::POST, "/api/v1/auth/token", &token("nobody", "wrong1234")).await;
    assert_eq!((wrong.status, wrong.error_message()), (unknown.status, unknown.error_message()));
    let right = c.json(Method::POST, "/api/v1/auth/token", &token("county2", PASSWORD)).await;
    assert_eq!(right.status, StatusCode::FORBIDDEN, "{}", right.body);
});
