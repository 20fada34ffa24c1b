//! The name-search index on both backends: trigram lookups and the rebuild a migration can
//! ask for.

use wushe_domain::accounts::Scope;
use wushe_store::registry::grams;
use wushe_store::registry::organizations::{self, OrgFilter};
use wushe_store::{meta, on_tx, Db, Page};
use wushe_testkit::{create_org, db_test};

async fn names(db: &Db, q: &str) -> Vec<String> {
    let f = OrgFilter { q: Some(q.into()), ..Default::default() };
    let national = organizations::list(db, &Scope::national(), &f, &Page::default()).await.unwrap();
    // the whole country's total is counted inside the gram index, a province's through the
    // records: both must agree with the rows found
    let province = organizations::list(db, &Scope::region("42"), &f, &Page::default()).await.unwrap();
    assert_eq!(national.total as usize, national.items.len(), "{q}");
    assert_eq!(province.total, national.total, "{q}");
    let mut v: Vec<String> = national.items.into_iter().map(|o| o.name).collect();
    v.sort();
    v
}

db_test!(fragments_of_every_length_are_found_and_a_flagged_index_is_rebuilt, |db| async move {
    create_org(&db, "武昌区阳光社会工作服务中心", "420106001000").await;
    create_org(&db, "洪山区工作服装协会", "420111001000").await;
    create_org(&db, "武昌区慈善会", "420106001000").await;
    let check = |db: Db| async move {
        assert_eq!(names(&db, "工作").await.len(), 2);
        assert_eq!(names(&db, "工作服").await.len(), 2);
        assert_eq!(names(&db, "作服装").await, vec!["洪山区工作服装协会"]);
        // 社会 and 会工 are both bigrams of the first name; 区社会 is in neither
        assert!(names(&db, "区社会").await.is_empty());
        assert_eq!(names(&db, "慈善会").await, vec!["武昌区慈善会"]);
        assert_eq!(names(&db, "社会工作服务").await, vec!["武昌区阳光社会工作服务中心"]);
        assert!(names(&db, "服务工作").await.is_empty());
        assert_eq!(names(&db, "区").await.len(), 3);
    };
    check(db.clone()).await;
    assert!(!grams::needs_rebuild(&db).await.unwrap());

    // an index from older rules: wrong rows, flagged by a migration
    let mut tx = db.begin().await.unwrap();
    on_tx!(&mut tx, |c| sqlx::query("DELETE FROM search_grams").execute(c).await.map(|r| r.rows_affected())).unwrap();
    meta::set(&mut tx, "search_grams_rebuild", "trigrams").await.unwrap();
    tx.commit().await.unwrap();
    assert!(names(&db, "慈善会").await.is_empty());
    assert!(grams::needs_rebuild(&db).await.unwrap());
    let seen = std::sync::Mutex::new(Vec::new());
    let n = grams::rebuild(&db, |done, total| seen.lock().unwrap().push((done, total))).await.unwrap();
    assert_eq!(n, 3);
    assert_eq!(seen.lock().unwrap().last(), Some(&(3, 3)));
    assert!(!grams::needs_rebuild(&db).await.unwrap());
    check(db.clone()).await;
});
