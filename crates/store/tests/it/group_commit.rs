//! Group commit on both backends: a batch runs without savepoints until a job is refused, then
//! again with one savepoint per job. Either way the refused jobs leave nothing behind (rows,
//! audit entries, settings, ledger postings), the others are all kept, and the audit chain
//! and the ledgers stay whole.

use chrono::NaiveDate;
use wushe_domain::codes::citizen_id::CitizenId;
use wushe_domain::timebank::ledger::{Ledger, Movement, SystemAccount};
use wushe_store::accounts::audit::{self, Actor, Event};
use wushe_store::group_commit::{BoxFut, GroupCommit, Merge};
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
            // one point
            let earn = Movement::Earn { units: 1 };
            ledger::post(tx, &points_earned(person, &earn))
                .await
                .map_err(|e| StoreError::Conflict(format!("{e:?}")))?;
            if refuse {
                return Err(StoreError::Conflict(format!("job {i} refused")));
            }
            settings::set(tx, KEY, &(seen.max(0) + 1), None).await?;
            Ok(seen)
        })
    })
    .await
}

/// Points from the issuance account (a system account, summed until commit) to `person`.
fn points_earned(person: i64, earn: &Movement) -> Posting<'_> {
    Posting {
        ledger: Ledger::Points,
        movement: earn,
        from: Side::System(SystemAccount::Issuance),
        to: Side::Person(person),
        cap: None,
        memo: None,
        record_id: None,
        division_code: "420106001001",
        by: None,
        at: None,
        lots: &[],
    }
}

/// A SQLite database of its own in `dir` (the tests that need a file, not the test harness's).
async fn sqlite_file(dir: &tempfile::TempDir, name: &str, opts: &wushe_store::DbOptions) -> wushe_store::Db {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    wushe_store::Db::connect(&url, opts).await.unwrap()
}

async fn entries(db: &wushe_store::Db) -> i64 {
    let (n,): (i64,) = on_db!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE entity = 'group_commit'")
        .fetch_one(c)
        .await)
    .unwrap();
    n
}

async fn person(db: &wushe_store::Db) -> i64 {
    person_named(db, "王测试", "42010619900307001").await
}

async fn person_named(db: &wushe_store::Db, name: &str, id17: &str) -> i64 {
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let p = NewPerson {
        name: name.into(),
        citizen_id: CitizenId::parse(&citizen_id(id17), today).unwrap(),
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

/// A merged kind for the test: each item earns one point and writes an audit entry; an item
/// `refuse` is answered with an error before anything is written; an item `fail` makes the
/// whole call fail (as a broken statement would), which must cost only its own request.
struct Earns;

struct EarnItem {
    person: i64,
    i: i64,
    refuse: bool,
    fail: bool,
}

impl Merge for Earns {
    type Item = EarnItem;
    /// (item, how many items the call that wrote it was given)
    type Out = (i64, usize);
    type Err = StoreError;

    fn apply<'a>(
        tx: &'a mut wushe_store::Tx,
        items: &'a [EarnItem],
    ) -> BoxFut<'a, Result<Vec<Result<(i64, usize), StoreError>>, StoreError>> {
        Box::pin(async move {
            if items.iter().any(|it| it.fail) {
                return Err(StoreError::Conflict("broken statement".into()));
            }
            let kept: Vec<&EarnItem> = items.iter().filter(|it| !it.refuse).collect();
            let earn = Movement::Earn { units: 1 };
            let postings: Vec<Posting> = kept.iter().map(|it| points_earned(it.person, &earn)).collect();
            ledger::post_many(tx, &postings).await.map_err(|e| StoreError::Conflict(format!("{e:?}")))?;
            let actor = Actor::default();
            let events: Vec<Event> = kept
                .iter()
                .map(|it| Event {
                    action: "test",
                    entity: "group_commit",
                    entity_id: Some(it.i.to_string()),
                    division_code: "420106",
                    organization_id: None,
                    summary: serde_json::json!({}),
                })
                .collect();
            let entries: Vec<(&Actor, &Event)> = events.iter().map(|e| (&actor, e)).collect();
            audit::append_many(tx, &entries).await?;
            Ok(items
                .iter()
                .map(|it| {
                    if it.refuse {
                        Err(StoreError::Conflict(format!("{} refused", it.i)))
                    } else {
                        Ok((it.i, items.len()))
                    }
                })
                .collect())
        })
    }
}

db_test!(merged_requests_are_written_together_and_answered_each, |db| async move {
    let gc = GroupCommit::start(db.clone());
    let people = [person(&db).await, person_named(&db, "李测试", "42010619850511002").await];
    // two bursts: the first only with refusals, the second also with a failing call
    let mut results = Vec::new();
    for range in [0..40i64, 40..80] {
        let handles: Vec<_> = range
            .map(|i| {
                let gc = gc.clone();
                let item = EarnItem { person: people[(i % 2) as usize], i, refuse: i % 9 == 4, fail: i == 53 };
                tokio::spawn(async move { gc.merge::<Earns>(item).await })
            })
            .collect();
        for h in handles {
            results.push(h.await.expect("task"));
        }
        if results.len() == 40 {
            // merged (the first request commits while the others queue)
            assert!(results.iter().filter_map(|r| r.as_ref().ok()).any(|(_, n)| *n > 1), "never merged");
        }
    }
    for (i, r) in results.iter().enumerate() {
        let i = i as i64;
        match r {
            Ok((got, _)) => assert!(*got == i && i % 9 != 4 && i != 53, "{i}: {r:?}"),
            Err(e) => assert!(i % 9 == 4 || i == 53, "{i} should have been written: {e}"),
        }
    }
    let written = results.iter().filter(|r| r.is_ok()).count() as i64;
    assert_eq!(written, 80 - 9 - 1);
    assert_eq!(entries(&db).await, written);
    let report = audit::verify(&db, |_, _| {}).await.unwrap();
    assert_eq!(report.broken, None);
    assert_eq!(ledger::verify(&db).await.unwrap(), (0, 0, 0), "drifting, unbalanced, negative");
    let held = ledger::balance(&db, Ledger::Points, people[0]).await.unwrap()
        + ledger::balance(&db, Ledger::Points, people[1]).await.unwrap();
    assert_eq!(held, written);
});

/// The CPUs a thread of this process may run on, by the thread's name (any one of them).
/// Each thread of this process named `name`: the CPUs it may use and its scheduling policy
/// (0 normal, 3 batch).
#[cfg(target_os = "linux")]
fn threads_named(name: &str) -> Vec<(String, String)> {
    let name = &name[..name.len().min(15)];
    let mut out = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if std::fs::read_to_string(t.path().join("comm")).unwrap_or_default().trim_end() != name {
            continue;
        }
        let status = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        // the fields after the name; the policy is the 41st field of the line
        let policy = stat.rfind(')').and_then(|i| stat[i + 2..].split(' ').nth(41 - 3)).unwrap_or("").to_string();
        if let Some(l) = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")) {
            out.push((l.trim().to_string(), policy));
        }
    }
    out
}

/// With a CPU chosen for the writer, the writer's thread and its SQLite connection's thread
/// are both kept on it once the writer has run a batch.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_writer_and_its_sqlite_thread_share_the_chosen_cpu() {
    use wushe_store::writer_cpu::WriterCpu;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let allowed = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap().trim().to_string();
    // the last CPU this process may use ("0-1" → 1, "2,5-7" → 7)
    let cpu: usize = allowed.rsplit(['-', ',']).next().unwrap().parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = wushe_store::DbOptions { writer_cpu: WriterCpu::Fixed(cpu), ..Default::default() };
    let db = sqlite_file(&dir, "placed.db", &opts).await;
    let (chosen, sqlite_thread) = db.writer_placement().expect("a CPU was chosen");
    assert_eq!(chosen, cpu);
    let gc = GroupCommit::start(db.clone());
    let one: i64 = gc
        .run(|tx| {
            Box::pin(async move {
                let (n,): (i64,) = wushe_store::on_tx!(tx, |c| sqlx::query_as("SELECT 1").fetch_one(c).await)?;
                Ok::<_, StoreError>(n)
            })
        })
        .await
        .unwrap();
    assert_eq!(one, 1);
    // the connection's thread stays a normal one: woken after a flush, it may preempt
    assert_eq!(threads_named(&sqlite_thread), vec![(cpu.to_string(), "0".to_string())], "the connection's thread");
    // other tests' writers (left to the scheduler) may be running too: one is this one, a
    // batch thread (woken by each row, it must not preempt the connection's thread)
    assert!(threads_named("wushe-writer").contains(&(cpu.to_string(), "3".to_string())), "the writer's thread");
    // a database opened without a choice leaves both to the scheduler
    let free = sqlite_file(&dir, "free.db", &Default::default()).await;
    assert_eq!(free.writer_placement(), None);
}

/// The SQLite writer's page cache is small for everyday transactions (a large one costs
/// every commit a walk over it, see `WRITER_CACHE_KIB`) and large for a bulk one, until
/// the next transaction begins; a bulk transaction that is dropped does not leave it large.
#[tokio::test]
async fn a_bulk_transaction_has_the_large_page_cache_and_the_next_one_the_small() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(&dir, "c.db", &Default::default()).await;
    async fn cache_kib(tx: &mut wushe_store::Tx) -> i64 {
        let (n,): (i64,) = wushe_store::on_tx!(tx, |c| sqlx::query_as("PRAGMA cache_size").fetch_one(c).await).unwrap();
        -n
    }
    let mut tx = db.begin().await.unwrap();
    let small = cache_kib(&mut tx).await;
    tx.commit().await.unwrap();
    let mut tx = db.begin_bulk().await.unwrap();
    let large = cache_kib(&mut tx).await;
    tx.commit().await.unwrap();
    assert!(small >= 2_000 && large >= 32 * small, "everyday {small} KiB, bulk {large} KiB");
    let mut tx = db.begin().await.unwrap();
    assert_eq!(cache_kib(&mut tx).await, small);
    tx.commit().await.unwrap();
    let mut tx = db.begin_bulk().await.unwrap();
    assert_eq!(cache_kib(&mut tx).await, large);
    drop(tx);
    let mut tx = db.begin().await.unwrap();
    assert_eq!(cache_kib(&mut tx).await, small, "after a dropped bulk transaction");
    tx.rollback().await.unwrap();
}

// What batches keep for the next ones (`wushe_store::shared`): settings are seen as the last
// committed write left them, never as a rolled-back one; a system account made by a
// transaction that rolled back is not remembered.
db_test!(settings_and_system_accounts_kept_across_transactions_follow_commits, |db| async move {
    let read_tx = |db: wushe_store::Db| async move {
        let mut tx = db.begin().await.unwrap();
        let v: i64 = settings::get_tx(&mut tx, KEY).await.unwrap();
        tx.rollback().await.unwrap();
        v
    };
    assert_eq!((read_tx(db.clone()).await, settings::get::<i64>(&db, KEY).await.unwrap()), (0, 0));
    let mut tx = db.begin().await.unwrap();
    settings::set(&mut tx, KEY, &5_i64, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((read_tx(db.clone()).await, settings::get::<i64>(&db, KEY).await.unwrap()), (5, 5));
    let mut tx = db.begin().await.unwrap();
    settings::set(&mut tx, KEY, &7_i64, None).await.unwrap();
    assert_eq!(settings::get_tx::<i64>(&mut tx, KEY).await.unwrap(), 7);
    tx.rollback().await.unwrap();
    assert_eq!((read_tx(db.clone()).await, settings::get::<i64>(&db, KEY).await.unwrap()), (5, 5));

    // the first posting from the issuance account makes it; that transaction rolls back
    let person = person(&db).await;
    let post = |db: wushe_store::Db, commit: bool| async move {
        let mut tx = db.begin().await.unwrap();
        let earn = Movement::Earn { units: 2 };
        ledger::post(&mut tx, &points_earned(person, &earn)).await.unwrap();
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
    };
    post(db.clone(), false).await;
    post(db.clone(), true).await;
    post(db.clone(), true).await;
    ledgers_whole(&db, person, 4).await;
});

/// The bundled SQLite is built with the options in `.cargo/config.toml`: no allocation
/// statistics and no shared page-cache mutex (each took a lock on the writer's hot path).
#[tokio::test]
async fn sqlite_is_built_without_allocation_statistics_or_memory_management() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_file(&dir, "o.db", &Default::default()).await;
    let options: Vec<(String,)> = on_db!(&db, |c| sqlx::query_as("PRAGMA compile_options").fetch_all(c).await).unwrap();
    let options: Vec<String> = options.into_iter().map(|o| o.0).collect();
    assert!(options.contains(&"DEFAULT_MEMSTATUS=0".to_string()), "{options:?}");
    assert!(!options.iter().any(|o| o.starts_with("ENABLE_MEMORY_MANAGEMENT")), "{options:?}");
}
