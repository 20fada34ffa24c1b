//! Edits of people and the skill dictionary in the store, on both backends: an edit made from
//! a stale copy is refused, phones are re-sealed (blind index, mask), memberships that end are
//! kept as history, and skill keys and labels stay unique.

use chrono::NaiveDate;
use wushe_domain::accounts::Scope;
use wushe_domain::codes::citizen_id::CitizenId;
use wushe_domain::registry::person::{PersonRole, SkillEntry};
use wushe_store::registry::people::{
    self as store, NewPerson, NewVolunteer, PeopleFilter, PersonChanges, RoleChanges, RoleStatus,
};
use wushe_store::registry::skills;
use wushe_store::{Db, Page, StoreError};
use wushe_testkit::{citizen_id, create_org, db_test, http::test_keys};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn volunteer(db: &Db, org: i64) -> i64 {
    let keys = test_keys();
    let mut tx = db.begin().await.unwrap();
    let p = NewPerson {
        name: "张晓明".into(),
        citizen_id: CitizenId::parse(&citizen_id("42010619900307123"), day("2026-01-01")).unwrap(),
        phone: Some("13811110001".into()),
        division_code: "420106001001".into(),
        address: None,
    };
    let id = store::insert_people(&mut tx, keys, &[p]).await.unwrap()[0];
    let v = NewVolunteer {
        person_id: id,
        county: "420106".into(),
        skills: vec!["elder_care".into()],
        availability: None,
        latitude_e6: None,
        longitude_e6: None,
        guardian_name: None,
        guardian_phone: None,
        registered_on: day("2026-01-01"),
        organization_id: Some(org),
    };
    store::insert_volunteers(&mut tx, keys, &[v]).await.unwrap();
    tx.commit().await.unwrap();
    id
}

async fn search(db: &Db, q: &str, status: RoleStatus) -> i64 {
    let f = PeopleFilter { q: Some(q.into()), status, ..Default::default() };
    store::list(db, test_keys(), &Scope::national(), PersonRole::Volunteer, &f, &Page::default()).await.unwrap().total
}

db_test!(edits_are_checked_against_the_copy_read, |db| async move {
    let org = create_org(&db, "武昌区测试社工中心", "420106000000").await;
    let id = volunteer(&db, org).await;
    let keys = test_keys();
    let before = store::get(&db, keys, &Scope::national(), PersonRole::Volunteer, id).await.unwrap();

    let phone = PersonChanges { phone: Some(Some("13922223333".into())), ..Default::default() };
    let ended = RoleChanges { ended: Some(Some((day("2026-02-01"), Some("搬走".into())))), ..Default::default() };
    let mut tx = db.begin().await.unwrap();
    store::update(&mut tx, keys, PersonRole::Volunteer, id, before.updated_at, &phone, &ended).await.unwrap();
    tx.commit().await.unwrap();
    let after = store::get(&db, keys, &Scope::national(), PersonRole::Volunteer, id).await.unwrap();
    assert_eq!(after.phone_masked.as_deref(), Some("139****3333"));
    assert_eq!(after.ended_on, Some(day("2026-02-01")));
    assert_ne!(after.updated_at, before.updated_at);
    assert_eq!(
        store::reveal(&db, keys, PersonRole::Volunteer, id).await.unwrap().phone.as_deref(),
        Some("13922223333")
    );
    assert_eq!(search(&db, "13922223333", RoleStatus::Ended).await, 1);
    assert_eq!(search(&db, "13811110001", RoleStatus::All).await, 0);
    assert_eq!(search(&db, "13922223333", RoleStatus::Current).await, 0);

    // the same edit from the copy read before: refused, nothing written
    let other = PersonChanges { address: Some(Some("别处".into())), ..Default::default() };
    let mut tx = db.begin().await.unwrap();
    let err =
        store::update(&mut tx, keys, PersonRole::Volunteer, id, before.updated_at, &other, &RoleChanges::default())
            .await
            .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    tx.rollback().await.unwrap();
    // fields of another role are refused
    let wrong = RoleChanges { ce_hours: Some(3), ..Default::default() };
    let mut tx = db.begin().await.unwrap();
    let err =
        store::update(&mut tx, keys, PersonRole::Volunteer, id, after.updated_at, &PersonChanges::default(), &wrong)
            .await
            .unwrap_err();
    assert!(matches!(err, StoreError::Integrity(_)), "{err:?}");
    tx.rollback().await.unwrap();

    // leaving keeps the membership as history
    let mut tx = db.begin().await.unwrap();
    let joined = store::leave_organization(&mut tx, id, org, day("2026-03-01"), None, None).await.unwrap();
    assert_eq!(joined, day("2026-01-01"));
    assert!(matches!(
        store::leave_organization(&mut tx, id, org, day("2026-03-01"), None, None).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    assert!(store::organizations_of(&db, id).await.unwrap().is_empty());
    let past = store::past_organizations_of(&db, id).await.unwrap();
    assert_eq!((past.len(), past[0].left_on), (1, day("2026-03-01")));
});

db_test!(skill_keys_and_labels_stay_unique, |db| async move {
    let dict = skills::dictionary(&db).await.unwrap();
    assert_eq!(dict.entries().len(), 15, "seeded with the former enum's entries");
    assert_eq!(dict.find("心理疏导").map(|e| e.key.as_str()), Some("counselling"));
    let entry =
        |key: &str, label: &str| SkillEntry { key: key.into(), label: label.into(), sort_order: 500, active: true };
    let mut tx = db.begin().await.unwrap();
    skills::insert(&mut tx, &entry("first_aid", "急救培训")).await.unwrap();
    let err = skills::insert(&mut tx, &entry("first_aid2", "急救培训")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    tx.rollback().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    skills::update(&mut tx, &SkillEntry { active: false, ..entry("legal", "法律服务") }).await.unwrap();
    assert!(matches!(skills::update(&mut tx, &entry("nope", "无")).await, Err(StoreError::NotFound)));
    tx.commit().await.unwrap();
    let dict = skills::dictionary(&db).await.unwrap();
    assert_eq!(dict.label("legal"), "法律服务");
    assert!(dict.find_active("legal").is_none());
    assert!(dict.find("first_aid").is_none(), "rolled back");
});
