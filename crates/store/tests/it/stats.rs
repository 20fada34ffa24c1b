//! Statistics deltas folded into region × period rollups.

use chrono::NaiveDate;
use wushe_store::stats::{self, Delta};
use wushe_testkit::db_test;

db_test!(folding_takes_what_waits_and_sums_it_up_the_regions, |db| async move {
    let day = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    let mut tx = db.begin().await.unwrap();
    stats::append(
        &mut tx,
        &[
            Delta::new("minutes", "420106001001", day, 90),
            Delta::new("minutes", "420106001001", day, 30),
            Delta::new("minutes", "420106002001", day, 60),
            Delta::new("records", "420106001001", day, 0),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // summed on the way in (one row per figure, place and day) and zero sums left out
    assert_eq!(stats::rollup_waiting(&db).await.unwrap(), 2);
    assert_eq!(stats::rollup_waiting(&db).await.unwrap(), 0, "nothing is folded twice");
    assert_eq!(stats::value(&db, "minutes", "420106001", "d2026-03-05").await.unwrap(), 120);
    assert_eq!(stats::value(&db, "minutes", "420106", "m2026-03").await.unwrap(), 180);
    assert_eq!(stats::value(&db, "minutes", "", "y2026").await.unwrap(), 180);
    assert_eq!(stats::value(&db, "records", "", "y2026").await.unwrap(), 0);
});

db_test!(deltas_of_many_writes_are_folded_once_even_by_two_folds_at_once, |db| async move {
    let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    // fifty writes of the same figure: fifty delta rows, summed by the fold
    for _ in 0..50 {
        let mut tx = db.begin().await.unwrap();
        stats::append(&mut tx, &[Delta::new("minutes", "420106001001", day, 3)]).await.unwrap();
        tx.commit().await.unwrap();
    }
    // two folds at once (two serving processes on one PostgreSQL): one may be refused, as
    // the job then retries; no delta is counted twice or lost
    let (a, b) = tokio::join!(stats::rollup(&db), stats::rollup(&db));
    let folded = a.unwrap_or(0) + b.unwrap_or(0);
    assert!(folded <= 50, "folded {folded}");
    assert_eq!(folded + stats::rollup_all(&db).await.unwrap(), 50);
    assert_eq!(stats::value(&db, "minutes", "420106", "m2026-04").await.unwrap(), 150);
    assert_eq!(stats::value(&db, "minutes", "", "y2026").await.unwrap(), 150);
});
