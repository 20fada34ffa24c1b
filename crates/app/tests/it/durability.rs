//! Durability of acknowledged writes: a `wushe serve` process is killed with SIGKILL in the
//! middle of a burst of hour confirmations; after a restart every confirmation that had been
//! answered 201 is there (SQLite with `synchronous=FULL` and group commit; PostgreSQL).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use wushe_domain::accounts::Role;
use wushe_domain::codes::citizen_id::CitizenId;
use wushe_store::accounts::tokens;
use wushe_store::on_db;
use wushe_store::registry::people::{self, NewPerson, NewVolunteer};
use wushe_store::volunteering::activities::{self, NewActivity};
use wushe_store::volunteering::attendance::{self as attendance_store, ClosedAttendance};
use wushe_store::volunteering::signups;
use wushe_testkit::http::test_keys;
use wushe_testkit::{citizen_id, create_org, create_user, load_test_divisions, Backend, TestDb};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One request on a fresh connection; the status code, or None when the server is gone.
fn post(port: u16, path: &str, token: &str, body: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let head = String::from_utf8_lossy(&buf[..buf.len().min(32)]).into_owned();
    head.split_whitespace().nth(1)?.parse().ok()
}

fn serve(url: &str, dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_wushe"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("WUSHE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WUSHE_DATA_DIR", dir)
        .env("WUSHE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wushe serve")
}

fn wait_ready(port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut b = Vec::new();
            let _ = s.read_to_end(&mut b);
            if b.starts_with(b"HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("wushe serve not ready after 60 s");
}

async fn killed_mid_burst_keeps_every_acknowledged_confirmation(backend: Backend) {
    let Some(t) = TestDb::new(backend).await else { return };
    let db = t.db.clone();
    load_test_divisions(&db).await;
    let org = create_org(&db, "武昌区志愿者协会", "420106000000").await;
    let staff = create_user(&db, "org", Role::OrgStaff, "420106", Some(org)).await;
    let mut tx = db.begin().await.unwrap();
    let (_, token) = tokens::create(&mut tx, staff, "durability", None).await.unwrap();
    tx.commit().await.unwrap();

    // 400 volunteers, each with a finished three-hour service to confirm
    let today = wushe_domain::time::local_date(Utc::now());
    let n = 400;
    let batch: Vec<NewPerson> = (0..n)
        .map(|i| NewPerson {
            name: "王小明".into(),
            citizen_id: CitizenId::parse(&citizen_id(&format!("42010619900101{i:03}")), today).unwrap(),
            phone: None,
            division_code: "420106001001".into(),
            address: None,
        })
        .collect();
    let mut tx = db.begin().await.unwrap();
    let pids = people::insert_people(&mut tx, test_keys(), &batch).await.unwrap();
    let vols: Vec<NewVolunteer> = pids
        .iter()
        .map(|p| NewVolunteer {
            person_id: *p,
            county: "420106".into(),
            skills: vec![],
            availability: None,
            latitude_e6: None,
            longitude_e6: None,
            guardian_name: None,
            guardian_phone: None,
            registered_on: today,
            organization_id: Some(org),
        })
        .collect();
    people::insert_volunteers(&mut tx, test_keys(), &vols).await.unwrap();
    let starts = Utc::now() - chrono::Duration::hours(5);
    let ends = starts + chrono::Duration::hours(3);
    let aid = activities::insert(
        &mut tx,
        &NewActivity {
            organization_id: org,
            title: "社区助老",
            content: "陪伴老人",
            category: "elderly",
            division_code: "420106001001",
            address: "积玉桥社区",
            latitude_e6: None,
            longitude_e6: None,
            checkin_radius_m: None,
            required_skills: "",
            min_age: None,
            risky: false,
            timebank: false,
            auto_approve: true,
            recruit_until: None,
            status: "published",
            checkin_secret: &[1; 16],
            slots: &[(starts, ends, n)],
            created_by: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let slot = activities::slots(&db, aid).await.unwrap()[0].id;
    let mut tx = db.begin().await.unwrap();
    let signed = signups::insert_approved_bulk(&mut tx, slot, aid, &pids, starts).await.unwrap();
    let rows: Vec<ClosedAttendance> = signed
        .iter()
        .map(|(p, s)| ClosedAttendance {
            signup_id: *s,
            slot_id: slot,
            activity_id: aid,
            person_id: *p,
            checked_in_at: starts,
            checked_out_at: ends,
        })
        .collect();
    let ids = attendance_store::insert_closed_bulk(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = serve(&t.url, dir.path(), port);
    wait_ready(port);

    // 16 clients confirm one attendance per request; the server is killed once 60 are acknowledged
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for k in 0..16 {
        let mine: Vec<i64> = ids.iter().copied().skip(k).step_by(16).collect();
        let (acked, stop, token) = (acked.clone(), stop.clone(), token.clone());
        threads.push(std::thread::spawn(move || {
            for id in mine {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let body = format!(r#"{{"items":[{{"attendance_id":{id}}}]}}"#);
                match post(port, "/api/v1/service-records/confirm", &token, &body) {
                    Some(201) => acked.lock().unwrap().push(id),
                    Some(other) => panic!("confirmation answered {other}"),
                    None => break,
                }
            }
        }));
    }
    let start = Instant::now();
    while acked.lock().unwrap().len() < 60 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    server.kill().expect("SIGKILL");
    let _ = server.wait();
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        th.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 60, "only {} confirmations before the kill", acked.len());
    assert!(acked.len() < n as usize, "the kill came after the burst ended");

    // restart on the same database: it opens, and every acknowledged confirmation is there
    let port = free_port();
    let mut server = serve(&t.url, dir.path(), port);
    wait_ready(port);
    let confirmed: Vec<(i64,)> =
        on_db!(&db, |c| sqlx::query_as("SELECT attendance_id FROM service_records WHERE attendance_id IS NOT NULL")
            .fetch_all(c)
            .await)
        .unwrap();
    let confirmed: std::collections::HashSet<i64> = confirmed.into_iter().map(|r| r.0).collect();
    let lost: Vec<&i64> = acked.iter().filter(|id| !confirmed.contains(id)).collect();
    assert!(lost.is_empty(), "acknowledged but lost after SIGKILL: {lost:?}");
    // and the restarted server carries on confirming
    let rest = ids.iter().find(|id| !confirmed.contains(id)).unwrap();
    let body = format!(r#"{{"items":[{{"attendance_id":{rest}}}]}}"#);
    assert_eq!(post(port, "/api/v1/service-records/confirm", &token, &body), Some(201));
    server.kill().unwrap();
    let _ = server.wait();
    println!("{} acknowledged before SIGKILL, {} on disk after restart, none lost", acked.len(), confirmed.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_mid_burst_keeps_every_acknowledged_confirmation() {
    killed_mid_burst_keeps_every_acknowledged_confirmation(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_burst_keeps_every_acknowledged_confirmation() {
    killed_mid_burst_keeps_every_acknowledged_confirmation(Backend::Postgres).await;
}
