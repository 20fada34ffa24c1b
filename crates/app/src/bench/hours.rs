//! `wushe bench hours`: check-ins and hour confirmations through HTTP on loopback against a
//! `wushe serve` process (authentication, validation, audit and statistics deltas all on,
//! SQLite `synchronous=FULL`), the raw rate of the same writes in transactions of 1,000 in
//! one process, their ratio, and the disk's own fsync rate beside each figure.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wushe_domain::accounts::{Role, Scope};
use wushe_domain::codes::citizen_id::CitizenId;
use wushe_domain::time::local_date;
use wushe_domain::volunteering::attendance as att;
use wushe_store::accounts::audit::Actor;
use wushe_store::accounts::{password, tokens, users};
use wushe_store::registry::people::{self, NewPerson, NewVolunteer};
use wushe_store::stats;
use wushe_store::volunteering::activities::{self, NewActivity};
use wushe_store::volunteering::attendance::{self as attendance_store, ClosedAttendance};
use wushe_store::volunteering::records::{self, NewRecord};
use wushe_store::volunteering::signups;
use wushe_store::{Db, DbOptions};
use wushe_web::service::volunteering::{write_confirmations, ConfirmWrite, Confirmer};

use super::{bench_user, percentile, start_serve, target, CpuUse, CpuWatch, BENCH_PASSWORD};
use crate::progress;

/// Disk flushes per second in `dir` (4 KiB written and fdatasync'ed, for about `ms`).
fn fsync_rate(dir: &std::path::Path, ms: u64) -> anyhow::Result<f64> {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path)?;
    let block = [7u8; 4096];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_millis(ms) {
        f.write_all(&block)?;
        f.sync_data()?;
        n += 1;
    }
    drop(f);
    let _ = std::fs::remove_file(&path);
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// A keep-alive HTTP/1.1 connection on loopback (JSON requests, small answers).
struct Conn {
    io: BufReader<TcpStream>,
}

impl Conn {
    async fn open(port: u16) -> anyhow::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.set_nodelay(true)?;
        Ok(Conn { io: BufReader::new(s) })
    }

    async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&str>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let body = body.unwrap_or("");
        // an empty token: an anonymous request (public pages)
        let auth = if token.is_empty() { String::new() } else { format!("Authorization: Bearer {token}\r\n") };
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.io.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.io.read_line(&mut line).await?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).context("无效的 HTTP 状态行")?;
        let (mut len, mut chunked) = (0usize, false);
        loop {
            line.clear();
            self.io.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse()?;
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.io.read_line(&mut line).await?;
                let n = usize::from_str_radix(line.trim(), 16)?;
                let mut chunk = vec![0u8; n + 2];
                self.io.read_exact(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..n]);
            }
        } else {
            out.resize(len, 0);
            self.io.read_exact(&mut out).await?;
        }
        Ok((status, out))
    }
}

/// What one load phase measured.
struct Load {
    ok: usize,
    failed: usize,
    first_error: Option<String>,
    secs: f64,
    ms: Vec<f64>,
    cpu: CpuUse,
}

impl Load {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }
}

/// How a phase offers its load.
#[derive(Clone, Copy)]
enum Pace {
    /// Closed loop: each connection sends its next request when the last is answered; the
    /// rate is what the server manages at that concurrency (its capacity).
    AsFastAsAnswered,
    /// Open loop at a fixed arrival rate, as thousands of phones would: job `i` is due at
    /// `i / rate` seconds and its latency is counted from then, so time spent waiting for a
    /// free connection while the server falls behind is counted too (no coordinated
    /// omission).
    PerSecond(f64),
}

/// Run `jobs` (each a path, token and JSON body, POSTed) on `connections` connections until
/// the jobs run out or `limit` passes; every answer must be `expect`.
#[allow(clippy::too_many_arguments)]
async fn drive(
    port: u16,
    connections: usize,
    pace: Pace,
    jobs: Arc<Vec<(String, String, String)>>,
    limit: Duration,
    expect: u16,
    units_per_job: usize,
    label: &str,
    server_pid: u32,
) -> anyhow::Result<Load> {
    let next = Arc::new(AtomicUsize::new(0));
    let pb = progress::bar(jobs.len() as u64, label);
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(port).await?);
    }
    let started = Instant::now();
    let watch = CpuWatch::start(server_pid);
    let mut handles = Vec::new();
    for mut conn in conns {
        let (jobs, next, pb) = (jobs.clone(), next.clone(), pb.clone());
        handles.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut first_error, mut ms) = (0usize, 0usize, None, Vec::new());
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs.len() || started.elapsed() > limit {
                    break;
                }
                let (path, token, body) = &jobs[i];
                let from = match pace {
                    Pace::AsFastAsAnswered => Instant::now(),
                    Pace::PerSecond(rate) => {
                        let due = started + Duration::from_secs_f64(i as f64 / rate);
                        if due > started + limit {
                            break;
                        }
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                };
                let (status, answer) = conn.request("POST", path, token, Some(body)).await?;
                ms.push(from.elapsed().as_secs_f64() * 1000.0);
                if status == expect {
                    ok += units_per_job;
                } else {
                    failed += 1;
                    first_error.get_or_insert_with(|| format!("{status} {}", String::from_utf8_lossy(&answer)));
                }
                pb.inc(1);
            }
            anyhow::Ok((ok, failed, first_error, ms))
        }));
    }
    let mut load = Load { ok: 0, failed: 0, first_error: None, secs: 0.0, ms: Vec::new(), cpu: watch.stop() };
    for h in handles {
        let (ok, failed, err, ms) = h.await??;
        load.ok += ok;
        load.failed += failed;
        if load.first_error.is_none() {
            load.first_error = err;
        }
        load.ms.extend(ms);
    }
    load.secs = started.elapsed().as_secs_f64();
    load.cpu = watch.stop();
    pb.finish_and_clear();
    load.ms.sort_by(|a, b| a.total_cmp(b));
    Ok(load)
}

fn report(what: &str, unit: &str, l: &Load, fsyncs: f64) {
    println!(
        "{what}：{:.0} {unit}/秒（{} 次成功，{} 次失败，{:.1} 秒），延迟 p50 {:.2} 毫秒，p99 {:.2} 毫秒（目标 p99 < 50 毫秒）；同期磁盘 fsync {:.0} 次/秒{}",
        l.rate(),
        l.ok,
        l.failed,
        l.secs,
        percentile(&l.ms, 0.5),
        percentile(&l.ms, 0.99),
        fsyncs,
        l.cpu.describe("服务进程", l.ok, unit)
    );
    if let Some(e) = &l.first_error {
        println!("  第一个失败：{}", e.chars().take(300).collect::<String>());
    }
}

struct Activity {
    id: i64,
    division: String,
    category: &'static str,
}

pub async fn run(kind: &str, seconds: u64, clients: usize, rate: f64, n_vol: usize) -> anyhow::Result<()> {
    let t = target(kind).await?;
    println!(
        "wushe bench hours —— 数据库：{kind}，{n_vol} 名志愿者，定速 {rate:.0} 次/秒，闭环 {clients} 个并发连接，每段至多 {seconds} 秒"
    );
    let server = start_serve(&t, Duration::from_secs(180), "首次启动（建库并载入全国行政区划）").await?;
    let port = server.port;
    let db = Db::connect(&t.url, &DbOptions::default()).await?;
    let keys = wushe_store::crypto::KeyRing::load_or_create(&t.dir.path().join("wushe-keys.json"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = local_date(Utc::now());

    // ---- set-up: an organization, its staff, volunteers with logins, activities ----
    let pb = progress::bar(0, "准备数据：组织、志愿者及其账号、活动、签到记录");
    let code = wushe_domain::codes::division::DivisionCode::parse("420106001001")?;
    let org_id = {
        let v = wushe_web::service::registry::ValidOrg {
            name: "武昌区志愿服务基准测试协会".into(),
            credit_code: None,
            types: vec![wushe_domain::registry::org::OrgType::VolunteerOrganization],
            code: code.clone(),
            authority: "武汉市武昌区民政局".into(),
            phone: None,
            legal: None,
            contact: None,
            address: None,
            document_number: None,
            history: wushe_domain::registry::org::initial_history(
                chrono::NaiveDate::from_ymd_opt(2020, 1, 1).ok_or_else(|| anyhow::anyhow!("2020-01-01"))?,
                false,
            ),
        };
        let mut tx = db.begin().await?;
        let id = wushe_web::service::registry::write_new_org(&mut tx, &Actor::default(), None, &v)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
        id
    };
    let hash = password::hash(BENCH_PASSWORD);
    let mut tx = db.begin().await?;
    let org_scope = Scope { division: "420106".into(), organization_id: Some(org_id) };
    let staff = bench_user(&mut tx, &hash, "bench-org", "基准测试组织管理员", Role::OrgStaff, &org_scope).await?;
    let (_, org_token) = tokens::create(&mut tx, staff, "bench", None).await?;
    tx.commit().await?;

    let mut synth = crate::synth::Synth::new(2026);
    let mut people_batch = Vec::with_capacity(n_vol + 1);
    let mut seen = std::collections::HashSet::new();
    while people_batch.len() < n_vol + 1 {
        let id = synth.citizen_id("420106", (1960, 2004));
        if seen.insert(id.clone()) {
            people_batch.push(NewPerson {
                name: synth.person_name(),
                citizen_id: CitizenId::parse(&id, today)?,
                phone: Some(synth.mobile()),
                division_code: "420106001001".into(),
                address: None,
            });
        }
    }
    let mut tx = db.begin().await?;
    let pids = people::insert_people(&mut tx, &keys, &people_batch).await?;
    let vols: Vec<NewVolunteer> = pids
        .iter()
        .map(|pid| NewVolunteer {
            person_id: *pid,
            county: "420106".into(),
            skills: vec!["elder_care".into()],
            availability: None,
            latitude_e6: None,
            longitude_e6: None,
            guardian_name: None,
            guardian_phone: None,
            registered_on: today - chrono::Duration::days(400),
            organization_id: Some(org_id),
        })
        .collect();
    people::insert_volunteers(&mut tx, &keys, &vols).await?;
    let mut vol_tokens = Vec::with_capacity(pids.len());
    for (i, pid) in pids.iter().enumerate() {
        let uid =
            bench_user(&mut tx, &hash, &format!("bench-vol-{i}"), "志愿者", Role::Volunteer, &Scope::region("420106"))
                .await?;
        users::link_person(&mut tx, uid, *pid).await?;
        vol_tokens.push(tokens::create(&mut tx, uid, "bench", None).await?.1);
    }
    tx.commit().await?;
    // the last person is the one with 1,000 services (record page)
    let (record_person, record_token) = (pids[n_vol], vol_tokens[n_vol].clone());
    let (pids, vol_tokens) = (&pids[..n_vol], &vol_tokens[..n_vol]);

    let local = |day: chrono::NaiveDate, h: u32| {
        wushe_domain::time::from_local(day.and_time(chrono::NaiveTime::MIN) + chrono::Duration::hours(i64::from(h)))
    };
    // check-in secrets only need to differ between activities here
    let secret = |k: u64| -> [u8; 16] {
        let mut s = [0u8; 16];
        s[..8].copy_from_slice(&k.to_le_bytes());
        s[8..].copy_from_slice(&(k ^ 0x5eed).to_le_bytes());
        s
    };
    let mut plans = Vec::new();
    // finished services to confirm: three sessions a day over the last 28 days (inside the
    // 30-day back-fill window, under the 12-hour day cap)
    for d in 1..=28i64 {
        for h in [7, 11, 15] {
            plans.push((false, format!("社区助老服务 {d}-{h}"), local(today - chrono::Duration::days(d), h)));
        }
    }
    // open now, to check in to
    for i in 0..30 {
        plans.push((true, format!("今日志愿服务 {i}"), Utc::now() - chrono::Duration::minutes(30)));
    }
    let mut past = Vec::new();
    let mut open = Vec::new();
    for (k, (is_open, title, starts)) in plans.into_iter().enumerate() {
        let secret = secret(k as u64);
        let mut tx = db.begin().await?;
        let ends = starts + chrono::Duration::hours(3);
        let id = activities::insert(
            &mut tx,
            &NewActivity {
                organization_id: org_id,
                title: &title,
                content: "基准测试活动",
                category: "elderly",
                division_code: code.full(),
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
                checkin_secret: &secret,
                slots: &[(starts, ends, n_vol as i64)],
                created_by: Some(staff),
            },
        )
        .await?;
        tx.commit().await?;
        let slot = activities::slots(&db, id).await?.first().context("时段")?.id;
        let mut tx = db.begin().await?;
        let signed = signups::insert_approved_bulk(&mut tx, slot, id, pids, starts - chrono::Duration::days(2)).await?;
        if is_open {
            open.push((id, secret, signed));
        } else {
            let rows: Vec<ClosedAttendance> = signed
                .iter()
                .map(|(pid, sid)| ClosedAttendance {
                    signup_id: *sid,
                    slot_id: slot,
                    activity_id: id,
                    person_id: *pid,
                    checked_in_at: starts,
                    checked_out_at: ends,
                })
                .collect();
            let ids = attendance_store::insert_closed_bulk(&mut tx, &rows).await?;
            past.push((Activity { id, division: code.full().to_string(), category: "elderly" }, ids));
        }
        tx.commit().await?;
        pb.tick();
    }
    pb.finish_and_clear();

    // Consecutive confirmations touch different activities and different volunteers (the
    // k-th activity's volunteers are taken in a rotated order), as requests from many
    // organizers at once would; nothing lines up to share pages by accident.
    let per_activity = past.iter().map(|p| p.1.len()).min().unwrap_or(0);
    let mut pool: Vec<(usize, i64)> = Vec::with_capacity(past.len() * per_activity);
    for j in 0..past.len() * per_activity {
        let k = j % past.len();
        let i = (j / past.len() + 37 * k) % per_activity;
        pool.push((k, past[k].1[i]));
    }
    let limit = Duration::from_secs(seconds);
    let raw_n = 20_000.min(pool.len() / 5);
    let (raw_pool, http_pool) = pool.split_at(raw_n);
    let sustained_n = ((rate * seconds as f64) as usize).min(http_pool.len() / 3);
    let (sustained_pool, rest) = http_pool.split_at(sustained_n);
    let (single_pool, bulk_pool) = rest.split_at(rest.len() / 2);
    // a bulk request is an organizer's roster: one activity's volunteers
    let mut bulk_pool = bulk_pool.to_vec();
    bulk_pool.sort_unstable();
    println!(
        "准备完成：{} 条待确认的签退记录（{} 个已结束活动），{} 个进行中活动各 {n_vol} 名已录用志愿者",
        pool.len(),
        past.len(),
        open.len()
    );
    let connections = clients.max((rate / 10.0) as usize);
    let sustained = |what: &str| {
        format!("{what}，持续 {rate:.0} 次/秒（开环：按计划时刻发出，{connections} 个连接，延迟自计划时刻起算）")
    };

    // ---- 1. check-ins by QR code through HTTP: at the target rate, then as fast as answered ----
    // consecutive check-ins: different volunteers at different activities
    let checkin_jobs = |from: usize, n: usize| {
        let mut jobs = Vec::with_capacity(n);
        for j in from..(from + n).min(open.len() * n_vol) {
            let (aid, secret, _) = &open[j % open.len()];
            let v = (j / open.len() + 67 * (j % open.len())) % n_vol;
            let (code, _) = att::current_code(secret, *aid, Utc::now());
            jobs.push((
                "/api/v1/attendance/check-in".to_string(),
                vol_tokens[v].clone(),
                serde_json::json!({ "activity_id": aid, "code": code }).to_string(),
            ));
        }
        jobs
    };
    // codes rotate every 30 s and the previous one is accepted: each list is made just before
    // its phase, and each phase is kept under 30 s
    let checkin_limit = limit.min(Duration::from_secs(25));
    let first = ((rate * checkin_limit.as_secs_f64()) as usize).min(open.len() * n_vol / 2);
    let fs = fsync_rate(t.dir.path(), 1000)?;
    let jobs = Arc::new(checkin_jobs(0, first));
    let at_rate = drive(
        port,
        connections,
        Pace::PerSecond(rate),
        jobs,
        checkin_limit,
        201,
        1,
        "签到（扫码，定速）",
        server.pid(),
    )
    .await?;
    report(&sustained("签到（扫码，HTTP，含认证、校验、审计、统计增量）"), "次", &at_rate, fs);
    let fs = fsync_rate(t.dir.path(), 1000)?;
    let jobs = Arc::new(checkin_jobs(first, open.len() * n_vol - first));
    let checkins =
        drive(port, clients, Pace::AsFastAsAnswered, jobs, checkin_limit, 201, 1, "签到（扫码，闭环）", server.pid())
            .await?;
    report(&format!("签到，最大吞吐（闭环：{clients} 个连接，答复后即发下一个）"), "次", &checkins, fs);

    // ---- 2. hour confirmations through HTTP, one per request ----
    let confirm_job = |ids: &[(usize, i64)]| {
        (
            "/api/v1/service-records/confirm".to_string(),
            org_token.clone(),
            serde_json::json!({ "items": ids.iter().map(|(_, id)| serde_json::json!({ "attendance_id": id })).collect::<Vec<_>>() })
                .to_string(),
        )
    };
    let jobs: Vec<_> = sustained_pool.iter().map(|x| confirm_job(std::slice::from_ref(x))).collect();
    let fs = fsync_rate(t.dir.path(), 1000)?;
    let at_rate = drive(
        port,
        connections,
        Pace::PerSecond(rate),
        Arc::new(jobs),
        limit,
        201,
        1,
        "确认时长（定速）",
        server.pid(),
    )
    .await?;
    report(&sustained("时长确认（HTTP，每请求 1 条，含认证、校验、审计、统计增量）"), "条", &at_rate, fs);
    let jobs: Vec<_> = single_pool.iter().map(|x| confirm_job(std::slice::from_ref(x))).collect();
    let fs_single = fsync_rate(t.dir.path(), 1000)?;
    let single = drive(
        port,
        clients,
        Pace::AsFastAsAnswered,
        Arc::new(jobs),
        limit,
        201,
        1,
        "确认时长（每请求 1 条）",
        server.pid(),
    )
    .await?;
    report(&format!("时长确认（每请求 1 条），最大吞吐（闭环：{clients} 个连接）"), "条", &single, fs_single);

    // ---- 3. bulk confirmations (an organizer confirming a roster): at the target rate of
    // records, then as fast as answered ----
    let per = 20;
    let (bulk_sustained, bulk_pool) = bulk_pool.split_at(((rate * seconds as f64) as usize).min(bulk_pool.len() / 2));
    let jobs: Vec<_> = bulk_sustained.chunks(per).map(confirm_job).collect();
    let fs = fsync_rate(t.dir.path(), 1000)?;
    let bulk_at_rate = drive(
        port,
        connections,
        Pace::PerSecond(rate / per as f64),
        Arc::new(jobs),
        limit,
        201,
        per,
        "确认时长（每请求 20 条，定速）",
        server.pid(),
    )
    .await?;
    report(
        &format!(
            "时长确认（HTTP，批量：每请求为同一活动的 {per} 名志愿者），持续 {rate:.0} 条/秒（开环：每秒 {:.0} 个请求，{connections} 个连接，延迟自计划时刻起算）",
            rate / per as f64
        ),
        "条",
        &bulk_at_rate,
        fs,
    );
    let jobs: Vec<_> = bulk_pool.chunks(per).map(confirm_job).collect();
    let fs_bulk = fsync_rate(t.dir.path(), 1000)?;
    let bulk = drive(
        port,
        clients.min(16),
        Pace::AsFastAsAnswered,
        Arc::new(jobs),
        limit,
        201,
        per,
        "确认时长（每请求 20 条）",
        server.pid(),
    )
    .await?;
    report(
        &format!("时长确认（HTTP，批量：每请求为同一活动的 {per} 名志愿者），最大吞吐（闭环：16 个连接）"),
        "条",
        &bulk,
        fs_bulk,
    );
    drop(server);

    // ---- 4. the same writes without HTTP, in transactions of 1,000 ----
    let fs_raw = fsync_rate(t.dir.path(), 1000)?;
    let started = Instant::now();
    let watch = CpuWatch::start(std::process::id());
    let actor = Actor { user_id: Some(staff), username: Some("bench-org".into()), ..Default::default() };
    let rules = wushe_domain::volunteering::HourRules::default();
    let earn = wushe_web::service::timebank::EarnRules::default();
    let stars = wushe_domain::volunteering::StarRules::default();
    let mut acts = std::collections::HashMap::new();
    for chunk in raw_pool.chunks(1000) {
        let mut tx = db.begin().await?;
        let now = wushe_store::time::now();
        let by = Confirmer { user_id: staff, name: "基准测试组织管理员", at: now, actor: &actor };
        for (k, _) in chunk {
            let activity_id = past[*k].0.id;
            if let std::collections::hash_map::Entry::Vacant(e) = acts.entry(activity_id) {
                e.insert(activities::recording_tx(&mut tx, activity_id).await?);
            }
        }
        let ids: Vec<i64> = chunk.iter().map(|(_, id)| *id).collect();
        let rows = attendance_store::attended_many_tx(&mut tx, &ids).await?;
        let mut writes = Vec::with_capacity(chunk.len());
        for (k, aid) in chunk {
            let t_row = rows.get(aid).context("签到记录")?;
            let ended = t_row.checked_out_at.context("签退时间")?;
            let credit = wushe_domain::volunteering::hours::credit(&rules, t_row.checked_in_at, ended, 0, 0, now)
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            let activity = &acts[&past[*k].0.id];
            writes.push(ConfirmWrite { by: &by, activity, attendance: t_row, ended, credit, evaluation: None });
        }
        write_confirmations(&mut tx, &earn, &stars, &writes).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
    }
    let raw_rate = raw_pool.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "原始写入（同一进程，相同的行，每 1,000 条一个事务，同样的 synchronous 设置）：{raw_rate:.0} 条/秒（{} 条）；同期磁盘 fsync {fs_raw:.0} 次/秒{}",
        raw_pool.len(),
        watch.stop().describe("本进程", raw_pool.len(), "条")
    );
    println!(
        "比值（最大吞吐 / 原始写入）：HTTP 单条确认 {:.1}%，HTTP 批量确认 {:.1}%（目标 ≥ 50%）",
        single.rate() / raw_rate * 100.0,
        bulk.rate() / raw_rate * 100.0
    );

    // ---- 5. a volunteer's record page with 1,000 services ----
    let mut tx = db.begin().await?;
    let a = &past[0].0;
    for i in 0..1000 {
        let start = Utc::now() - chrono::Duration::days(i64::from(i) % 900 + 1) - chrono::Duration::hours(5);
        records::insert(
            &mut tx,
            &NewRecord {
                person_id: record_person,
                activity_id: a.id,
                organization_id: org_id,
                attendance_id: None,
                division_code: &a.division,
                category: a.category,
                service_date: local_date(start),
                started_at: start,
                ended_at: start + chrono::Duration::hours(2),
                travel_minutes: 0,
                recorded_minutes: 120,
                credited_minutes: 120,
                evaluation: Some("良好"),
                timebank: false,
                supersedes_id: None,
                confirmed_by: staff,
                confirmed_by_name: "基准测试组织管理员",
                confirmed_at: Utc::now(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    // fold the load phases' statistics first, so the page is timed on an idle server
    let started = Instant::now();
    let folded = stats::rollup_all(&db).await?;
    // planner statistics for the tables the load phases filled (a maintenance job's ANALYZE)
    db.analyze().await?;
    println!(
        "统计增量汇总：{folded} 条增量折算入各级区划与日/月/年，用时 {:.1} 秒（服务运行时由后台任务每 2 秒汇总）",
        started.elapsed().as_secs_f64()
    );
    let server = start_serve(&t, Duration::from_secs(60), "再次启动").await?;
    let mut conn = Conn::open(server.port).await?;
    for per_page in [20, 200] {
        let path = format!("/api/v1/volunteers/{record_person}/record?per_page={per_page}");
        let mut ms = Vec::new();
        let watch = CpuWatch::start(server.pid());
        for i in 0..220 {
            let s = Instant::now();
            let (status, body) = conn.request("GET", &path, &record_token, None).await?;
            anyhow::ensure!(status == 200, "记录页返回 {status}：{}", String::from_utf8_lossy(&body));
            if i >= 20 {
                ms.push(s.elapsed().as_secs_f64() * 1000.0);
            }
            if i == 0 {
                let v: serde_json::Value = serde_json::from_slice(&body)?;
                anyhow::ensure!(v["services_total"] == 1000, "记录页应有 1000 条服务");
                anyhow::ensure!(v["services"].as_array().map_or(0, |s| s.len()) == per_page, "每页条数");
            }
        }
        ms.sort_by(|a, b| a.total_cmp(b));
        println!(
            "志愿者记录页（GET /api/v1/volunteers/{{id}}/record，共 1,000 条服务，含合计、年度与星级，每页 {per_page} 条，HTTP 往返）：p50 {:.2} 毫秒，p95 {:.2} 毫秒（目标 < 20 毫秒）{}",
            percentile(&ms, 0.5),
            percentile(&ms, 0.95),
            watch.stop().describe("服务进程", 220, "次")
        );
    }

    // ---- 6. public certificate verification (the record's volunteer asks, the organization issues) ----
    let body = serde_json::json!({ "organization_id": org_id, "purpose": "基准测试" }).to_string();
    let (status, answer) = conn.request("POST", "/api/v1/certificates", &record_token, Some(&body)).await?;
    anyhow::ensure!(status == 201, "申请证明返回 {status}：{}", String::from_utf8_lossy(&answer));
    let id = serde_json::from_slice::<serde_json::Value>(&answer)?["id"].as_i64().context("证明编号")?;
    let body = serde_json::json!({ "action": "issue" }).to_string();
    let path = format!("/api/v1/certificates/{id}/decision");
    let (status, answer) = conn.request("POST", &path, &org_token, Some(&body)).await?;
    anyhow::ensure!(status == 200, "出具证明返回 {status}：{}", String::from_utf8_lossy(&answer));
    let number =
        serde_json::from_slice::<serde_json::Value>(&answer)?["number"].as_str().context("证明编号")?.to_string();
    // public lookups are rate-limited per address (120 a minute): 10 to warm up, 100 timed
    let path = format!("/api/v1/public/certificates/{number}");
    let mut ms = Vec::new();
    let watch = CpuWatch::start(server.pid());
    for i in 0..110 {
        let s = Instant::now();
        let (status, answer) = conn.request("GET", &path, "", None).await?;
        anyhow::ensure!(status == 200, "核验返回 {status}：{}", String::from_utf8_lossy(&answer));
        if i >= 10 {
            ms.push(s.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "证明公开核验（GET /api/v1/public/certificates/{{number}}，不登录，HTTP 往返）：p50 {:.2} 毫秒，p95 {:.2} 毫秒，p99 {:.2} 毫秒（100 次；目标 < 5 毫秒）{}",
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99),
        watch.stop().describe("服务进程", 110, "次")
    );
    drop(server);
    db.close().await;
    super::drop_target(&t).await
}
