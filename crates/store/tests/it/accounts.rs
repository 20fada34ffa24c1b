//! Accounts, tokens, sessions and the audit chain on both backends.

use wushe_domain::accounts::{Role, Scope};
use wushe_store::accounts::audit::{self, Actor, AuditFilter, Event};
use wushe_store::accounts::{tokens, users};
use wushe_store::{on_db, Page, StoreError};
use wushe_testkit::{create_user, db_test, seed_cast};

db_test!(users_are_scoped, |db| async move {
    let cast = seed_cast(&db).await;
    let county = Scope::region("420106");
    // a county official sees their own county's users and not the neighbour's
    assert!(users::get(&db, &county, cast.station).await.is_ok());
    assert!(matches!(users::get(&db, &county, cast.county2).await, Err(StoreError::NotFound)));
    assert!(matches!(users::get(&db, &county, cast.province).await, Err(StoreError::NotFound)));
    let list = users::list(&db, &county, &Default::default(), &Page::default()).await.unwrap();
    let names: Vec<&str> = list.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(list.total, 3, "{names:?}");
    assert!(names.contains(&"county") && names.contains(&"station") && names.contains(&"org"));
    // organization-bound scope sees only its organization's accounts
    let org_scope = Scope { division: "420106".into(), organization_id: Some(cast.org) };
    let list = users::list(&db, &org_scope, &Default::default(), &Page::default()).await.unwrap();
    assert_eq!(list.items.iter().map(|u| u.id).collect::<Vec<_>>(), vec![cast.org_staff]);
    // filters and paging
    let f = users::UserFilter { q: Some("county".into()), role: Some(Role::Official) };
    let list = users::list(&db, &Scope::national(), &f, &Page::default()).await.unwrap();
    assert_eq!(list.total, 2);
    let p = users::list(&db, &Scope::national(), &Default::default(), &Page::new(Some(2), Some(4))).await.unwrap();
    assert_eq!((p.total, p.items.len(), p.pages()), (6, 2, 2));
    let wild = users::UserFilter { q: Some("%".into()), role: None };
    assert_eq!(users::list(&db, &Scope::national(), &wild, &Page::default()).await.unwrap().total, 0);
});

db_test!(duplicate_username_is_a_conflict, |db| async move {
    create_user(&db, "dup", Role::Volunteer, "420106", None).await;
    let mut tx = db.begin().await.unwrap();
    let err = users::create(
        &mut tx,
        &users::NewUser {
            username: "dup",
            display_name: "x",
            password_hash: "x",
            role: Role::Volunteer,
            scope: &Scope::region("42"),
            created_by: None,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(m) if m.contains("dup")), "{err}");
});

db_test!(tokens_authenticate_until_revoked, |db| async move {
    let uid = create_user(&db, "machine", Role::Official, "42", None).await;
    let mut tx = db.begin().await.unwrap();
    let (tid, secret) = tokens::create(&mut tx, uid, "上报", None).await.unwrap();
    tx.commit().await.unwrap();
    assert!(secret.starts_with("wst_"));
    assert_eq!(who(&db, &secret).await, Some(uid));
    assert_eq!(who(&db, "wst_wrong").await, None);
    // only the hash is stored
    let (stored,): (String,) =
        on_db!(&db, |c| sqlx::query_as("SELECT token_hash FROM api_tokens WHERE id = $1").bind(tid).fetch_one(c).await)
            .unwrap();
    assert_ne!(stored, secret);
    assert_eq!(stored, tokens::hash_token(&secret));
    // someone else cannot revoke it
    let other = create_user(&db, "other", Role::Official, "42", None).await;
    let mut tx = db.begin().await.unwrap();
    assert!(matches!(tokens::revoke(&mut tx, other, tid).await, Err(StoreError::NotFound)));
    tokens::revoke(&mut tx, uid, tid).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(who(&db, &secret).await, None);
    // an expired token does not authenticate
    let mut tx = db.begin().await.unwrap();
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let (_, old) = tokens::create(&mut tx, uid, "过期", Some(past)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(who(&db, &old).await, None);
});

async fn append(db: &wushe_store::Db, n: usize, division: &str) {
    for i in 0..n {
        audit::append_now(
            db,
            &Actor {
                user_id: Some(1),
                username: Some("tester".into()),
                role: Some("official".into()),
                ip: Some("127.0.0.1".into()),
                request_id: Some(format!("r{i}")),
            },
            &Event {
                action: "update",
                entity: "thing",
                entity_id: Some(i.to_string()),
                division_code: division,
                organization_id: None,
                summary: serde_json::json!({"before": {"n": i}, "after": {"n": i + 1}}),
            },
        )
        .await
        .unwrap();
    }
}

db_test!(audit_chain_verifies_and_is_scoped, |db| async move {
    append(&db, 5, "420106001").await;
    append(&db, 3, "420111").await;
    let report = audit::verify(&db, |_, _| {}).await.unwrap();
    assert_eq!(report.entries, 8);
    assert_eq!(report.broken, None);
    let page = audit::list(&db, &Scope::region("420106"), &AuditFilter::default(), &Page::default()).await.unwrap();
    assert_eq!(page.total, 5);
    assert!(page.items.iter().all(|r| r.division_code.starts_with("420106")));
    assert!(page.items.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let f = AuditFilter { entity_id: Some("2".into()), ..Default::default() };
    assert_eq!(audit::list(&db, &Scope::national(), &f, &Page::default()).await.unwrap().total, 2);
    // time window
    let now = chrono::Utc::now();
    let f = AuditFilter {
        from: Some(now - chrono::Duration::hours(1)),
        to: Some(now + chrono::Duration::hours(1)),
        ..Default::default()
    };
    assert_eq!(audit::list(&db, &Scope::national(), &f, &Page::default()).await.unwrap().total, 8);
    let f = AuditFilter { from: Some(now + chrono::Duration::hours(1)), ..Default::default() };
    assert_eq!(audit::list(&db, &Scope::national(), &f, &Page::default()).await.unwrap().total, 0);
    let f = AuditFilter { to: Some(now - chrono::Duration::hours(1)), ..Default::default() };
    assert_eq!(audit::list(&db, &Scope::national(), &f, &Page::default()).await.unwrap().total, 0);
});

db_test!(audit_log_refuses_updates_and_deletes, |db| async move {
    append(&db, 2, "42").await;
    let mut tx = db.begin().await.unwrap();
    let upd = wushe_store::on_tx!(&mut tx, |c| sqlx::query("UPDATE audit_log SET summary = 'x' WHERE id = 1")
        .execute(c)
        .await
        .map(|_| ()));
    assert!(upd.is_err(), "update must be refused");
    drop(tx);
    let mut tx = db.begin().await.unwrap();
    let del = wushe_store::on_tx!(&mut tx, |c| sqlx::query("DELETE FROM audit_log WHERE id = 1")
        .execute(c)
        .await
        .map(|_| ()));
    assert!(del.is_err(), "delete must be refused");
});

/// Tampering needs the append-only triggers out of the way first, as an attacker with
/// database access would do; the chain still tells.
async fn disable_guard(db: &wushe_store::Db) {
    let sql: &[&str] = match db.backend() {
        wushe_store::Backend::Sqlite => &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
        wushe_store::Backend::Postgres => &["DROP TRIGGER audit_log_no_update ON audit_log"],
    };
    let mut tx = db.begin().await.unwrap();
    for s in sql {
        wushe_store::on_tx!(&mut tx, |c| sqlx::query(s).execute(c).await.map(|_| ())).unwrap();
    }
    tx.commit().await.unwrap();
}

async fn exec(db: &wushe_store::Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    wushe_store::on_tx!(&mut tx, |c| sqlx::query(sql).execute(c).await.map(|_| ())).unwrap();
    tx.commit().await.unwrap();
}

db_test!(audit_tamper_is_detected, |db| async move {
    append(&db, 6, "42").await;
    disable_guard(&db).await;
    exec(&db, "UPDATE audit_log SET summary = '{\"after\":{\"n\":999}}' WHERE id = 3").await;
    let r = audit::verify(&db, |_, _| {}).await.unwrap();
    assert_eq!(r.broken.as_ref().map(|b| b.0), Some(3), "{r:?}");
    assert!(r.broken.unwrap().1.contains("篡改"));
});

db_test!(audit_deletion_is_detected, |db| async move {
    append(&db, 6, "42").await;
    disable_guard(&db).await;
    exec(&db, "DELETE FROM audit_log WHERE id = 4").await;
    let r = audit::verify(&db, |_, _| {}).await.unwrap();
    assert_eq!(r.broken.map(|b| b.0), Some(4));
});

db_test!(audit_truncation_is_detected, |db| async move {
    append(&db, 6, "42").await;
    disable_guard(&db).await;
    exec(&db, "DELETE FROM audit_log WHERE id = 6").await;
    let r = audit::verify(&db, |_, _| {}).await.unwrap();
    assert!(r.broken.is_some(), "dropping the newest entry must break the chain");
});

db_test!(concurrent_appends_keep_one_chain, |db| async move {
    let mut handles = Vec::new();
    for t in 0..8 {
        let db = db.clone();
        handles.push(tokio::spawn(async move { append(&db, 10, if t % 2 == 0 { "42" } else { "43" }).await }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let r = audit::verify(&db, |_, _| {}).await.unwrap();
    assert_eq!((r.entries, r.broken), (80, None));
});

/// The user id behind an API token secret (None: unknown, revoked or expired).
async fn who(db: &wushe_store::Db, secret: &str) -> Option<i64> {
    users::authenticate(db, users::Credential::Token(secret)).await.unwrap().map(|a| a.user.id)
}
