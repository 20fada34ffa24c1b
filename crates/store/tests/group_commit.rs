//! Group commit on both backends: a batch runs without savepoints until a job is refused, then
//! again with one savepoint per job. Either way the refused jobs leave nothing behind (rows,
//! audit entries, settings, ledger postings), the others are all kept, and the audit chain
//! and the ledgers stay whole.

use chrono::NaiveDate;
use wushe_domain::codes::citizen_id::CitizenId;
use wushe_domain::timebank::ledger::{Ledger, Movement, SystemAccount};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::group_commit::GroupCommit;
use wushe_store::registry::people::{insert_people, NewPerson};
use wushe_store::timebank::ledger::{self, Posting, Side};
use wushe_store::{on_db, settings, StoreError};
use wushe_testkit::{citizen_id, db_test};

const KEY: &str = "group_commit_test";

async fn burst(
    gc: &GroupCommit,
    person: i64,
    ids: std::ops::Range<i64>,
    refuse: fn(i64) -> bool,
) -> Vec<Result<i64, StoreError>> {
    let handles: Vec<_> = ids
        .map(|i| {
            let gc = gc.clone();
            tokio::spawn(async move { job(&gc, person, i, refuse(i)).await })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("job task"));
    }
    out
}

async fn job(gc: &GroupCommit, person: i64, i: i64, refuse: bool) -> Result<i64, StoreError> {
    gc.run(move |tx| {
        Box::pin(async move {
            // every job sees the setting as the jobs before it left it
            let seen: i64 = settings::get_tx(tx, KEY).await?;
            if refuse {
                // a refused job writes first, so there is something to undo
                settings::set(tx, KEY, &-1_i64, None).await?;
            }
            let actor = Actor { username: Some(format!("job{i}")), ..Default::default() };
            let ev = Event {
                action: "test",
                entity: "group_commit",
                entity_id: Some(i.to_string()),
                division_code: "420106",
                organization_id: None,
                summary: serde_json::json!({ "seen": seen }),
            };
            audit::append(tx, &actor, &ev).await?;
            // one point from the issuance account (a system account, summed until commit)
            let earn = Movement::Earn { units: 1 };
            let posting = Posting {
                ledger: Ledger::Points,
                movement: &earn,
                from: Side::System(SystemAccount::Issuance),
                to: Side::Person(person),
                cap: None,
                memo: None,
                record_id: None,
                division_code: "420106001001",
                by: None,
                at: None,
                lots: &[],
            };
            ledger::post(tx, &posting).await.map_err(|e| StoreError::Conflict(format!("{e:?}")))?;
            if refuse {
                return Err(StoreError::Conflict(format!("job {i} refused")));
            }
            settings::set(tx, KEY, &(seen.max(0) + 1), None).await?;
            Ok(seen)
        })
    })
    .await
}

async fn entries(db: &wushe_store::Db) -> i64 {
    let (n,): (i64,) = on_db!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE entity = 'group_commit'")
        .fetch_one(c)
        .await)
    .unwrap();
    n
}

async fn person(db: &wushe_store::Db) -> i64 {
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let p = NewPerson {
        name: "王测试".into(),
        citizen_id: CitizenId::parse(&citizen_id("42010619900307001"), today).unwrap(),
        phone: None,
        division_code: "420106001001".into(),
        address: None,
    };
    let mut tx = db.begin().await.unwrap();
    let ids = insert_people(&mut tx, wushe_testkit::http::test_keys(), &[p]).await.unwrap();
    tx.commit().await.unwrap();
    ids[0]
}

async fn ledgers_whole(db: &wushe_store::Db, person: i64, points: i64) {
    assert_eq!(ledger::verify(db).await.unwrap(), (0, 0, 0), "drifting, unbalanced, negative");
    assert_eq!(ledger::balance(db, Ledger::Points, person).await.unwrap(), points);
}

db_test!(refused_jobs_leave_nothing_and_the_rest_commit, |db| async move {
    let gc = GroupCommit::start(db.clone());
    let person = person(&db).await;
    // a burst: the writer takes many of these in one batch
    let results = burst(&gc, person, 0..60, |i| i % 7 == 3).await;
    let ok: Vec<i64> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    let refused = results.iter().filter(|r| matches!(r, Err(StoreError::Conflict(_)))).count();
    assert_eq!((ok.len(), refused), (51, 9), "{results:?}");
    // each successful job saw every earlier successful job's write, and no refused one's
    let mut seen = ok.clone();
    seen.sort();
    assert_eq!(seen, (0..51).collect::<Vec<_>>());
    assert_eq!(settings::get::<i64>(&db, KEY).await.unwrap(), 51);
    assert_eq!(entries(&db).await, 51);
    let report = audit::verify(&db, |_, _| {}).await.unwrap();
    assert_eq!(report.broken, None);
    ledgers_whole(&db, person, 51).await;

    // a batch of one refused job alone, then a clean burst
    assert!(job(&gc, person, 100, true).await.is_err());
    let results = burst(&gc, person, 200..220, |_| false).await;
    assert!(results.iter().all(|r| r.is_ok()));
    assert_eq!(entries(&db).await, 71);
    let report = audit::verify(&db, |_, _| {}).await.unwrap();
    assert_eq!(report.broken, None);
    ledgers_whole(&db, person, 71).await;
});
