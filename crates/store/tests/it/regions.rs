//! Region repository on both backends, with the Hubei slice of the real table.

use wushe_domain::accounts::Scope;
use wushe_domain::codes::division::DivisionCode;
use wushe_store::regions;
use wushe_testkit::db_test;

fn dc(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

db_test!(counts_and_children, |db| async move {
    let wuchang = regions::get(&db, &dc("420106")).await.unwrap().expect("武昌区");
    assert_eq!(wuchang.name, "武昌区");
    assert_eq!(wuchang.level, 3);
    assert_eq!(wuchang.parent_code.as_deref(), Some("4201"));
    let kids = regions::children(&db, Some(&dc("420106"))).await.unwrap();
    assert_eq!(kids.len() as i32, wuchang.n_township);
    assert!(kids.iter().any(|k| k.name == "积玉桥街道" && k.kind.as_deref() == Some("街道")));
    let villages: i32 = kids.iter().map(|k| k.n_village).sum();
    assert_eq!(villages, wuchang.n_village);
    assert_eq!(wuchang.n_village, wuchang.n_community + wuchang.n_rural_village);
    // 12-digit input names the same region
    assert_eq!(regions::get(&db, &dc("420106000000")).await.unwrap().unwrap().code, "420106");
    let provinces = regions::children(&db, None).await.unwrap();
    assert_eq!(provinces.len(), 31);
});

db_test!(ancestors_chain, |db| async move {
    let chain = regions::ancestors(&db, &dc("420106001001")).await.unwrap();
    let names: Vec<&str> = chain.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, vec!["湖北省", "武汉市", "武昌区", "积玉桥街道"]);
});

db_test!(cities_without_counties_keep_every_row, |db| async move {
    // 东莞: city 4419 and its county entry 441900 are distinct rows; townships hang off the county.
    let city = regions::get(&db, &dc("4419")).await.unwrap().unwrap();
    let county = regions::get(&db, &dc("441900")).await.unwrap().unwrap();
    assert_eq!(city.level, 2);
    assert_eq!(county.level, 3);
    assert_eq!(county.parent_code.as_deref(), Some("4419"));
    assert_eq!(city.n_county, 1);
    let towns = regions::children(&db, Some(&dc("441900"))).await.unwrap();
    assert!(towns.len() > 20, "东莞 has ~30 townships, got {}", towns.len());
    assert_eq!(city.n_township as usize, towns.len());
});

db_test!(search_is_scoped, |db| async move {
    let national = Scope::national();
    let hits = regions::search(&db, &national, "武昌", 50).await.unwrap();
    assert!(hits.iter().any(|d| d.code == "420106"), "{hits:?}");
    // two-character fragment inside a county
    let county = Scope::region("420106");
    let hits = regions::search(&db, &county, "积玉", 50).await.unwrap();
    assert_eq!(hits[0].code, "420106001");
    // nothing from another county
    let hits = regions::search(&db, &county, "洪山", 50).await.unwrap();
    assert!(hits.iter().all(|d| d.code.starts_with("420106")), "{hits:?}");
    // code prefix, intersected with the scope
    let hits = regions::search(&db, &county, "4201", 50).await.unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|d| d.code.starts_with("420106")));
    assert!(regions::search(&db, &county, "420111", 50).await.unwrap().is_empty());
    // LIKE wildcards are literal
    assert!(regions::search(&db, &national, "%", 50).await.unwrap().is_empty());
    // higher levels first
    let hits = regions::search(&db, &national, "42", 5).await.unwrap();
    assert_eq!(hits[0].code, "42");
});

db_test!(edition_recorded_once, |db| async move {
    assert_eq!(regions::loaded_edition(&db).await.unwrap().as_deref(), Some("2023"));
});
