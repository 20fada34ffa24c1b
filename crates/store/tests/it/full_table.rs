//! The shipped table is the real 2023 NBS table: its counts per level match the release.

use wushe_store::regions;
use wushe_testkit::db_test;

#[test]
fn shipped_table_has_every_level() {
    let rows = regions::parse_table(regions::DIVISIONS_2023_GZ, &|_| true).unwrap();
    let count = |l: i16| rows.iter().filter(|d| d.level == l).count();
    assert_eq!(count(1), 31);
    assert_eq!(count(2), 342);
    assert_eq!(count(3), 2_978);
    assert_eq!(count(4), 41_352);
    assert_eq!(count(5), 620_573);
    assert_eq!(rows.len(), 665_276);
    // Provinces' descendant counts add up to the whole table.
    let provinces: Vec<_> = rows.iter().filter(|d| d.level == 1).cloned().collect();
    let n = regions::Division::national(&provinces);
    assert_eq!((n.n_city, n.n_county, n.n_township, n.n_village), (342, 2_978, 41_352, 620_573));
    // Every parent exists, and comes before its children.
    let mut seen = std::collections::HashSet::new();
    for d in &rows {
        if let Some(p) = &d.parent_code {
            assert!(seen.contains(p.as_str()), "parent {p} of {} missing", d.code);
        }
        seen.insert(d.code.as_str());
    }
    let hubei = rows.iter().find(|d| d.code == "42").unwrap();
    assert_eq!(hubei.name, "湖北省");
    // Codes 400+ are other township-level units (development zones and the like).
    assert!(hubei.n_township > hubei.n_subdistrict + hubei.n_town + hubei.n_rural_township);
}

db_test!(full_load_is_complete, |db| async move {
    let mut last = (0, 0);
    let n = regions::load_table(&db, regions::DIVISIONS_2023_GZ, &|_| true, |done, total| last = (done, total))
        .await
        .unwrap();
    assert_eq!((n, last), (665_276, (665_276, 665_276)));
    let provinces = regions::children(&db, None).await.unwrap();
    assert_eq!(provinces.len(), 31);
    let n = regions::Division::national(&provinces);
    assert_eq!((n.n_city, n.n_county, n.n_township, n.n_village), (342, 2_978, 41_352, 620_573));
    let hubei =
        regions::get(&db, &wushe_domain::codes::division::DivisionCode::parse("42").unwrap()).await.unwrap().unwrap();
    assert_eq!(hubei.n_county, 103 + 2);
});
