//! Group commit on both backends: a batch runs without savepoints until a job is refused, then
//! again with one savepoint per job. Either way the refused jobs leave nothing behind (rows,
//! audit entries, settings), the others are all kept, and the audit chain stays whole.

use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::group_commit::GroupCommit;
use wushe_store::{on_db, settings, StoreError};
use wushe_testkit::db_test;

const KEY: &str = "group_commit_test";

async fn burst(gc: &GroupCommit, ids: std::ops::Range<i64>, refuse: fn(i64) -> bool) -> Vec<Result<i64, StoreError>> {
    let handles: Vec<_> = ids
        .map(|i| {
            let gc = gc.clone();
            tokio::spawn(async move { job(&gc, i, refuse(i)).await })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("job task"));
    }
    out
}

async fn job(gc: &GroupCommit, i: i64, refuse: bool) -> Result<i64, StoreError> {
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

db_test!(refused_jobs_leave_nothing_and_the_rest_commit, |db| async move {
    let gc = GroupCommit::start(db.clone());
    // a burst: the writer takes many of these in one batch
    let results = burst(&gc, 0..60, |i| i % 7 == 3).await;
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

    // a batch of one refused job alone, then a clean burst
    assert!(job(&gc, 100, true).await.is_err());
    let results = burst(&gc, 200..220, |_| false).await;
    assert!(results.iter().all(|r| r.is_ok()));
    assert_eq!(entries(&db).await, 71);
    let report = audit::verify(&db, |_, _| {}).await.unwrap();
    assert_eq!(report.broken, None);
});
