//! Login, logout, lockout, sessions, CSRF and API tokens through HTTP, on both backends.

use axum::http::{Method, StatusCode};
use wushe_testkit::{db_test, seed_cast, TestApp, PASSWORD};

db_test!(login_and_logout_through_the_form, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    // not signed in: the UI redirects to the login page
    let r = c.get("/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().unwrap().starts_with("/login"));
    let r = c.login("county", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), Some("/"));
    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("武昌区"), "home shows the user's region");
    // navigation shows only what the role may use
    assert!(home.body.contains("用户管理") && home.body.contains("审计日志"));
    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = c.get("/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
});

db_test!(navigation_follows_role, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    c.login("station", PASSWORD).await;
    let home = c.get("/").await;
    assert!(home.body.contains("行政区划"));
    assert!(!home.body.contains("用户管理") && !home.body.contains("审计日志"));
    assert_eq!(c.get("/users").await.status, StatusCode::FORBIDDEN);
    assert_eq!(c.get("/audit").await.status, StatusCode::FORBIDDEN);
});

db_test!(wrong_password_then_lockout, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    for left in (1..=4).rev() {
        let r = c.login("county", "Wrong123").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains(&format!("再错 {left} 次将锁定账户")), "{}", r.body);
    }
    let r = c.login("county", "Wrong123").await;
    assert_eq!(r.status, StatusCode::LOCKED);
    assert!(r.body.contains("账户已锁定"));
    // even the right password is refused while locked
    let r = c.login("county", PASSWORD).await;
    assert_eq!(r.status, StatusCode::LOCKED);
    assert!(r.body.contains("分钟后再试"));
    // an official in scope unlocks it, and the lock and unlock are audited
    let mut admin = app.client();
    admin.token_for("province", PASSWORD).await;
    let users = admin.get("/api/v1/users?q=county").await.json();
    let id =
        users["items"].as_array().unwrap().iter().find(|u| u["username"] == "county").unwrap()["id"].as_i64().unwrap();
    assert_eq!(users["items"][0]["locked"], true);
    let r = admin.json(Method::PUT, &format!("/api/v1/users/{id}/active"), &serde_json::json!({"active": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.login("county", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let audit = admin.get(&format!("/api/v1/audit?entity=user&entity_id={id}")).await.json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"lock") && actions.contains(&"enable") && actions.contains(&"login"), "{actions:?}");
});

db_test!(unknown_user_gets_the_same_answer, |db| async move {
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    let r = c.login("nobody", PASSWORD).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("用户名或密码错误"));
});

db_test!(csrf_is_required_on_forms, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    c.get("/login").await;
    // login form without the token
    let r = c.post_form_raw("/login", &[("username", "county"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("CSRF"), "{}", r.body);
    // with a forged token
    let r = c.post_form_raw("/login", &[("username", "county"), ("password", PASSWORD), ("_csrf", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    c.login("county", PASSWORD).await;
    c.get("/account").await; // the token changes at login
                             // a signed-in session cannot post without the token, by form or JSON
    let r = c.post_form_raw("/account/tokens", &[("name", "x")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let saved = c.csrf.take();
    let r = c.json(Method::POST, "/api/v1/tokens", &serde_json::json!({"name": "x"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "csrf_failed");
    c.csrf = saved;
    // with the header it works
    let r = c.json(Method::POST, "/api/v1/tokens", &serde_json::json!({"name": "x"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
});

async fn expire_all_sessions(db: &wushe_store::Db) {
    let mut tx = db.begin().await.unwrap();
    wushe_store::on_tx!(&mut tx, |c| sqlx::query("UPDATE sessions SET expires_at = $1")
        .bind(chrono::Utc::now() - chrono::Duration::minutes(1))
        .execute(c)
        .await
        .map(|_| ()))
    .unwrap();
    tx.commit().await.unwrap();
}

db_test!(session_expiry_sends_back_to_login, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    c.login("county", PASSWORD).await;
    assert_eq!(c.get("/").await.status, StatusCode::OK);
    // the idle timeout passes: the page sends the user to log in again, saying why
    expire_all_sessions(&db).await;
    let r = c.get("/regions").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().unwrap().contains("reason=session_expired"), "{:?}", r.location());
    let page = c.get(r.location().unwrap()).await;
    assert!(page.body.contains("登录已过期"));
    // the API says so in its envelope
    c.login("county", PASSWORD).await;
    expire_all_sessions(&db).await;
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "session_expired");
    assert!(r.error_message().contains("登录已过期"));
});

db_test!(api_tokens_issue_use_revoke, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    let token = c.token_for("county", PASSWORD).await;
    let me = c.get("/api/v1/me").await.json();
    assert_eq!(me["username"], "county");
    assert_eq!(me["scope_division"], "420106");
    let list = c.get("/api/v1/tokens").await.json();
    let id = list[0]["id"].as_i64().unwrap();
    assert!(!list[0]["token_prefix"].as_str().unwrap().is_empty());
    assert!(!c.get("/api/v1/tokens").await.body.contains(&token), "the secret is never shown again");
    let r = c.send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None, vec![], &[]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let mut anon = app.client().with_bearer("wst_nonsense");
    assert_eq!(anon.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
});

db_test!(tokens_managed_in_the_ui, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut c = app.client();
    c.login("county", PASSWORD).await;
    c.get("/account").await;
    let r = c.post_form("/account/tokens", &[("name", "数据上报")]).await;
    assert_eq!(r.status, StatusCode::OK);
    let start = r.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token: String = r.body[start..].chars().take_while(|c| *c != '<').collect();
    let mut api = app.client().with_bearer(&token);
    assert_eq!(api.get("/api/v1/me").await.status, StatusCode::OK);
    let list = api.get("/api/v1/tokens").await.json();
    let id = list.as_array().unwrap().iter().find(|t| t["name"] == "数据上报").unwrap()["id"].as_i64().unwrap();
    let r = c.post_form(&format!("/account/tokens/{id}/revoke"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(api.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
});

db_test!(password_change_ends_other_sessions, |db| async move {
    seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut a = app.client();
    let mut b = app.client();
    a.login("county", PASSWORD).await;
    b.login("county", PASSWORD).await;
    a.get("/account").await;
    let r = a.post_form("/account/password", &[("old_password", "bad"), ("new_password", "NewPass2026")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("原密码不正确"));
    let r = a.post_form("/account/password", &[("old_password", PASSWORD), ("new_password", "short")]).await;
    assert!(r.body.contains("密码至少 8 位"));
    let r = a.post_form("/account/password", &[("old_password", PASSWORD), ("new_password", "NewPass2026")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(a.get("/").await.status, StatusCode::OK, "this session stays");
    assert_eq!(b.get("/").await.status, StatusCode::SEE_OTHER, "the other session ended");
    let mut c = app.client();
    assert_eq!(c.login("county", "NewPass2026").await.status, StatusCode::SEE_OTHER);
});

// Who is behind a token is kept for a while (`SignedInCache`), so each of these uses the
// credential first: the change must be seen on the very next request all the same.

db_test!(a_deactivated_account_is_refused_at_once_though_its_token_was_just_used, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut county = app.client();
    county.token_for("county", PASSWORD).await;
    assert_eq!(county.get("/api/v1/me").await.status, StatusCode::OK);
    let mut admin = app.client();
    admin.token_for("province", PASSWORD).await;
    let path = format!("/api/v1/users/{}/active", cast.county);
    let r = admin.json(Method::PUT, &path, &serde_json::json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = county.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("账户已停用"), "{}", r.body);
    let r = admin.json(Method::PUT, &path, &serde_json::json!({"active": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(county.get("/api/v1/me").await.status, StatusCode::OK);
});

db_test!(an_account_linked_to_a_person_is_seen_linked_on_the_next_request, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut staff = app.client();
    staff.token_for("county", PASSWORD).await;
    assert_eq!(staff.get("/api/v1/me").await.json()["person_id"], serde_json::Value::Null);
    let mut tx = db.begin().await.unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let p = wushe_store::registry::people::NewPerson {
        name: "张三丰".into(),
        citizen_id: wushe_domain::codes::citizen_id::CitizenId::parse(
            &wushe_testkit::citizen_id("42010619900307001"),
            today,
        )
        .unwrap(),
        phone: None,
        division_code: "420106001001".into(),
        address: None,
    };
    let keys = wushe_testkit::http::test_keys();
    let person = wushe_store::registry::people::insert_people(&mut tx, keys, &[p]).await.unwrap()[0];
    wushe_store::accounts::users::link_person(&mut tx, cast.county, person).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(staff.get("/api/v1/me").await.json()["person_id"], person);
});

db_test!(a_token_that_expires_is_refused_once_expired_though_just_used, |db| async move {
    let cast = seed_cast(&db).await;
    let app = TestApp::new(db.clone());
    let mut tx = db.begin().await.unwrap();
    let ends = wushe_store::time::now() + chrono::Duration::milliseconds(1500);
    let (_, secret) = wushe_store::accounts::tokens::create(&mut tx, cast.county, "短期", Some(ends)).await.unwrap();
    tx.commit().await.unwrap();
    let mut c = app.client().with_bearer(&secret);
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    assert_eq!(c.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
});
