//! `wushe bench …`: measured performance figures (reported in docs/performance.md).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use wushe_domain::accounts::{Role, Scope};
use wushe_store::accounts::{password, tokens, users};
use wushe_store::{on_db, regions, Db, DbOptions};

use crate::progress;

mod hours;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Division table load, restart time, region page latency and server memory.
    Regions {
        /// sqlite (default) or postgres (uses WUSHE_BENCH_PG_URL).
        #[arg(long, default_value = "sqlite")]
        db: String,
        /// Requests for the latency figure.
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
    /// Volunteer-service figures: check-ins and hour confirmations through HTTP (group
    /// commit, durable), the raw rate of the same writes and their ratio, with the disk's
    /// fsync rate; a volunteer's record page with 1,000 services.
    Hours {
        /// sqlite (default) or postgres (uses WUSHE_BENCH_PG_URL).
        #[arg(long, default_value = "sqlite")]
        db: String,
        /// Longest run of each load phase, seconds.
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        /// Concurrent HTTP connections of the closed-loop (capacity) phases.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Check-ins and confirmations per second offered by the open-loop (sustained)
        /// phases (roster confirmations: this many records, 20 per request).
        #[arg(long, default_value_t = 3000.0)]
        rate: f64,
        /// Volunteers (each signed up to every activity).
        #[arg(long, default_value_t = 2000)]
        volunteers: usize,
    },
    /// Registry figures: organizations (bulk write, Chinese fragment search, exact credit-code
    /// lookup, xlsx export) and people (name-fragment search, exact ID lookup, importing and
    /// exporting volunteers as .xlsx).
    Registry {
        /// sqlite (default) or postgres (uses WUSHE_BENCH_PG_URL).
        #[arg(long, default_value = "sqlite")]
        db: String,
        /// Organizations to generate.
        #[arg(long, default_value_t = 100_000)]
        orgs: usize,
        /// People (volunteers) to generate before the people figures.
        #[arg(long, default_value_t = 1_000_000)]
        people: usize,
        /// Volunteers in the imported .xlsx file (also the exported selection).
        #[arg(long, default_value_t = 100_000)]
        import_rows: usize,
        /// Searches for each latency figure.
        #[arg(long, default_value_t = 500)]
        queries: usize,
    },
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Regions { db, requests } => regions_bench(&db, requests).await,
        BenchCommand::Hours { db, seconds, clients, rate, volunteers } => {
            hours::run(&db, seconds, clients, rate, volunteers).await
        }
        BenchCommand::Registry { db, orgs, queries, people, import_rows } => {
            registry_bench(&db, orgs, queries, people, import_rows).await
        }
    }
}

struct Target {
    url: String,
    dir: tempfile::TempDir,
    pg_schema: Option<(String, String)>,
}

async fn target(kind: &str) -> anyhow::Result<Target> {
    let dir = tempfile::tempdir()?;
    match kind {
        "sqlite" => {
            Ok(Target { url: format!("sqlite://{}", dir.path().join("bench.db").display()), dir, pg_schema: None })
        }
        "postgres" => {
            let base = std::env::var("WUSHE_BENCH_PG_URL").or_else(|_| std::env::var("WUSHE_TEST_PG_URL")).context(
                "PostgreSQL 基准测试需要设置 WUSHE_BENCH_PG_URL（例如 postgres://wushe:wushe@127.0.0.1/wushe）",
            )?;
            let schema = format!("bench_{}", std::process::id());
            let admin = Db::connect(&base, &DbOptions::default()).await?;
            on_db!(&admin, |c| sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(c).await.map(|_| ()))?;
            admin.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
            Ok(Target { url, dir, pg_schema: Some((base, schema)) })
        }
        other => anyhow::bail!("未知数据库类型「{other}」：应为 sqlite 或 postgres"),
    }
}

/// Remove what the bench created (the PostgreSQL schema; the SQLite file goes with its
/// temporary directory).
async fn drop_target(t: &Target) -> anyhow::Result<()> {
    if let Some((base, schema)) = &t.pg_schema {
        let admin = Db::connect(base, &DbOptions::default()).await?;
        on_db!(&admin, |c| sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(c).await.map(|_| ()))?;
        admin.close().await;
    }
    Ok(())
}

/// Password of every benchmark account.
const BENCH_PASSWORD: &str = "Bench@2026x";

/// An account for the benchmark, created in `tx` with `hash` (of `BENCH_PASSWORD`, hashed
/// once per run); returns its id.
async fn bench_user(
    tx: &mut wushe_store::Tx,
    hash: &str,
    username: &str,
    display_name: &str,
    role: Role,
    scope: &Scope,
) -> anyhow::Result<i64> {
    let user = users::NewUser { username, display_name, password_hash: hash, role, scope, created_by: None };
    Ok(users::create(tx, &user).await?)
}

/// A benchmark account as the services see a signed-in user (in-process calls).
async fn signed_in(db: &Db, uid: i64) -> anyhow::Result<wushe_web::auth::CurrentUser> {
    Ok(wushe_web::auth::CurrentUser::from_row(users::find_by_id_unscoped(db, uid).await?.context("用户")?, false))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One HTTP/1.1 GET over a fresh loopback connection; returns the status code.
fn http_get(port: u16, path: &str, token: Option<&str>) -> anyhow::Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let head = String::from_utf8_lossy(&buf[..buf.len().min(64)]).to_string();
    head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).with_context(|| format!("无效的 HTTP 响应：{head}"))
}

fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of a process and of the whole machine over a phase. On a virtual machine the
/// host may run other guests on "our" cores (steal time): the same code then runs slower for
/// reasons outside it, so every figure is printed beside the share that was stolen and the
/// process's own CPU time per unit of work, which steal does not inflate.
pub(crate) struct CpuWatch {
    pid: u32,
    process: u64,
    steal: u64,
    total: u64,
}

/// What a `CpuWatch` saw.
pub(crate) struct CpuUse {
    /// Share of the machine's CPU time the host took for others, 0–1.
    pub steal: f64,
    /// CPU seconds the watched process used.
    pub process_secs: f64,
}

impl CpuUse {
    /// "，宿主占用 CPU 12%（steal），服务进程 CPU 0.35 毫秒/条" for `units` of work.
    pub fn describe(&self, who: &str, units: usize, unit: &str) -> String {
        format!(
            "，宿主占用 CPU {:.0}%（steal），{who} CPU {:.2} 毫秒/{unit}",
            self.steal * 100.0,
            self.process_secs * 1000.0 / units.max(1) as f64
        )
    }
}

/// Clock ticks per second in /proc (USER_HZ: 100 on every Linux architecture Wushe runs on).
const USER_HZ: f64 = 100.0;

/// (steal, total) jiffies of all CPUs, from /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .map(|l| l.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect())
        .unwrap_or_default();
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    let steal = fields.get(7).copied().unwrap_or(0);
    (steal, fields.iter().take(8).sum())
}

/// utime + stime of a process, in clock ticks.
fn process_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // the command name may hold spaces: fields are counted after its closing parenthesis
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

impl CpuWatch {
    pub fn start(pid: u32) -> CpuWatch {
        let (steal, total) = machine_ticks();
        CpuWatch { pid, process: process_ticks(pid), steal, total }
    }

    pub fn stop(&self) -> CpuUse {
        let (steal, total) = machine_ticks();
        let dt = total.saturating_sub(self.total).max(1) as f64;
        CpuUse {
            steal: steal.saturating_sub(self.steal) as f64 / dt,
            process_secs: process_ticks(self.pid).saturating_sub(self.process) as f64 / USER_HZ,
        }
    }
}

/// A `wushe serve` child process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    ready: Duration,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn peak_mb(&self) -> Option<f64> {
        peak_rss_kb(self.child.id()).map(|kb| kb as f64 / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `wushe serve` on the target database and wait until /healthz answers 200.
async fn start_serve(t: &Target, limit: Duration, what: &str) -> anyhow::Result<Server> {
    let port = free_port()?;
    let started = Instant::now();
    // WUSHE_BENCH_SERVE_LOG=<filter> keeps the server's log in ./bench-serve.log (for
    // example `sqlx::query=debug` for every statement with its time)
    let (filter, log) = match std::env::var("WUSHE_BENCH_SERVE_LOG") {
        Ok(f) => (f, Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open("bench-serve.log")?)),
        Err(_) => ("warn".to_string(), Stdio::null()),
    };
    let child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .env("DATABASE_URL", &t.url)
        .env("WUSHE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WUSHE_DATA_DIR", t.dir.path())
        .env("WUSHE_LOG", filter)
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()?;
    let mut server = Server { child, port, ready: Duration::ZERO };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("{what}：等待 /healthz"));
    while started.elapsed() < limit {
        if let Ok(200) = http_get(port, "/healthz", None) {
            server.ready = started.elapsed();
            spinner.finish_and_clear();
            return Ok(server);
        }
        if let Some(status) = server.child.try_wait()? {
            anyhow::bail!("serve 进程提前退出：{status}");
        }
        spinner.tick();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    anyhow::bail!("服务在 {} 秒内未就绪", limit.as_secs())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

async fn regions_bench(kind: &str, requests: usize) -> anyhow::Result<()> {
    let t = target(kind).await?;
    println!("wushe bench regions —— 数据库：{kind}");

    // 1. First start of `wushe serve` on an empty database: migrate, load every division,
    //    serve. Timed until /healthz answers; the process's peak memory includes the load.
    let first = start_serve(&t, Duration::from_secs(120), "首次启动（建库并载入全国行政区划）").await?;
    println!("首次启动至可服务（含载入 665,276 个区划）：{:.2} 秒（目标 < 15 秒）", first.ready.as_secs_f64());
    if let Some(mb) = first.peak_mb() {
        println!("首次启动 serve 进程峰值内存（VmHWM）：{mb:.1} MB（目标 < 150 MB）");
    }
    drop(first);

    // A province official with an API token drives the page requests.
    let db = Db::connect(&t.url, &DbOptions::default()).await?;
    let n = regions::children(&db, None).await?.len();
    anyhow::ensure!(n == 31, "载入后应有 31 个省级区划，实际 {n}");
    let hash = password::hash(BENCH_PASSWORD);
    let mut tx = db.begin().await?;
    let uid = bench_user(&mut tx, &hash, "bench-province", "基准测试", Role::Official, &Scope::region("42")).await?;
    let (_, token) = tokens::create(&mut tx, uid, "bench", None).await?;
    tx.commit().await?;
    db.close().await;

    // 2. A later start on the loaded database.
    let server = start_serve(&t, Duration::from_secs(30), "再次启动").await?;
    println!("再次启动至可服务（/healthz 200）：{:.0} 毫秒（目标 < 1000 毫秒）", server.ready.as_secs_f64() * 1000.0);
    let port = server.port;

    // 3. The province region page (HTML, with child counts at every level).
    let pb = progress::bar(requests as u64, "请求湖北省区划页面");
    let mut ms = Vec::with_capacity(requests);
    for i in 0..requests + 20 {
        let s = Instant::now();
        let status = http_get(port, "/regions/42", Some(&token))?;
        anyhow::ensure!(status == 200, "区划页面返回 {status}");
        if i >= 20 {
            ms.push(s.elapsed().as_secs_f64() * 1000.0);
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
    let api_status = http_get(port, "/api/v1/regions/42", Some(&token))?;
    anyhow::ensure!(api_status == 200, "区划 API 返回 {api_status}");
    ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "省级区划页面（GET /regions/42，含各级下级区划计数，回环 HTTP 往返）：p50 {:.2} 毫秒，p95 {:.2} 毫秒，p99 {:.2} 毫秒（目标 < 20 毫秒）",
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99)
    );

    // 4. Peak memory of the serving process.
    match server.peak_mb() {
        Some(mb) => {
            println!("再次启动后 serve 进程峰值内存（VmHWM，含 {requests} 次页面请求）：{mb:.1} MB（目标 < 150 MB）")
        }
        None => println!("serve 进程峰值内存：本系统无法读取 /proc"),
    }
    drop(server);
    drop_target(&t).await
}

fn print_latency(what: &str, ms: &mut [f64], target: &str) {
    ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{what}：p50 {:.2} 毫秒，p95 {:.2} 毫秒，p99 {:.2} 毫秒（{} 次；{target}）",
        percentile(ms, 0.5),
        percentile(ms, 0.95),
        percentile(ms, 0.99),
        ms.len()
    );
}

#[allow(clippy::expect_used, reason = "each expect states an invariant this code guarantees")]
async fn registry_bench(
    kind: &str,
    n_orgs: usize,
    queries: usize,
    n_people: usize,
    import_rows: usize,
) -> anyhow::Result<()> {
    use wushe_domain::codes::division::DivisionCode;
    use wushe_domain::registry::org::{initial_history, OrgType};
    use wushe_store::accounts::audit::Actor;
    use wushe_store::registry::organizations::{self as orgs, OrgFilter};
    use wushe_web::service::registry::{self as svc, ValidOrg};

    let t = target(kind).await?;
    println!("wushe bench registry —— 数据库：{kind}，{n_orgs} 个社会组织");
    let db = Db::connect(&t.url, &DbOptions::default()).await?;
    db.migrate().await?;
    regions::load_table(&db, regions::DIVISIONS_2023_GZ, &|_| true, |_, _| {}).await?;

    // Counties of the whole country, to spread the organizations over.
    let mut counties = Vec::new();
    for p in regions::children(&db, None).await? {
        for c in regions::children(&db, Some(&DivisionCode::parse(&p.code)?)).await? {
            counties.extend(regions::children(&db, Some(&DivisionCode::parse(&c.code)?)).await?);
        }
    }
    let types = OrgType::ALL;
    let mut synth = crate::synth::Synth::new(7);
    let mut names = std::collections::HashSet::new();
    let mut generated: Vec<(String, String)> = Vec::with_capacity(n_orgs);
    let pb = progress::bar(n_orgs as u64, "写入社会组织（含状态记录、检索索引、审计）");
    let actor = Actor { username: Some("bench".into()), ..Default::default() };
    let started = Instant::now();
    let mut tx = db.begin().await?;
    while generated.len() < n_orgs {
        let county = synth.pick(&counties).clone();
        let t = *synth.pick(&types);
        let mut name = synth.org_name(&county.name, t);
        if !names.insert(name.clone()) {
            // Stems repeat within a county: number the duplicates.
            name = format!("{name}{}", generated.len());
            names.insert(name.clone());
        }
        let code = synth.credit_code("52", &county.code[..6]);
        let v = ValidOrg {
            name: name.clone(),
            credit_code: Some(wushe_domain::codes::credit_code::CreditCode::parse(&code)?),
            types: vec![t],
            code: DivisionCode::parse(&county.code)?,
            authority: format!("{}民政局", county.name),
            phone: Some(synth.mobile()),
            legal: Some(synth.person_name()),
            contact: Some(synth.person_name()),
            address: None,
            document_number: None,
            history: initial_history(
                chrono::NaiveDate::from_ymd_opt(2015, 6, 1).expect("date"),
                t == OrgType::CharityOrganization,
            ),
        };
        svc::write_new_org(&mut tx, &actor, None, &v).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        generated.push((name, code));
        pb.inc(1);
        if generated.len().is_multiple_of(5_000) {
            tx.commit().await?;
            tx = db.begin().await?;
        }
    }
    tx.commit().await?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!("写入 {n_orgs} 个组织：{secs:.1} 秒（{:.0} 个/秒，每 5,000 个一个事务）", n_orgs as f64 / secs);
    db.analyze().await?;

    // Two-character fragments taken from the names after the county part, and full codes.
    let scope = Scope::national();
    let page = wushe_store::Page::new(Some(1), Some(20));
    for len in [2usize, 3] {
        let mut ms = Vec::with_capacity(queries);
        for _ in 0..queries {
            let (name, _) = synth.pick(&generated);
            let chars: Vec<char> = name.chars().collect();
            let start = synth.range(2, (chars.len() - len + 1).max(3) as u64) as usize;
            let frag: String = chars[start.min(chars.len() - len)..][..len].iter().collect();
            let f = OrgFilter { q: Some(frag), ..Default::default() };
            let s = Instant::now();
            let res = orgs::list(&db, &scope, &f, &page).await?;
            ms.push(s.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(res.total > 0, "名称片段检索没有结果");
        }
        print_latency(
            &format!("名称片段检索（{len} 个字，全国范围，统计总数并取第一页 20 条）"),
            &mut ms,
            "目标 p95 < 50 毫秒",
        );
    }
    let mut ms = Vec::with_capacity(queries);
    for _ in 0..queries {
        let (_, code) = synth.pick(&generated);
        let f = OrgFilter { q: Some(code.clone()), ..Default::default() };
        let s = Instant::now();
        let res = orgs::list(&db, &scope, &f, &page).await?;
        ms.push(s.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(res.total == 1, "统一社会信用代码应唯一命中");
    }
    print_latency("按统一社会信用代码精确查找", &mut ms, "目标 < 2 毫秒");

    // Export of every organization to xlsx, through the same code as the download.
    let hash = password::hash(BENCH_PASSWORD);
    let mut tx = db.begin().await?;
    let admin = bench_user(&mut tx, &hash, "bench-admin", "基准测试", Role::Admin, &scope).await?;
    let province =
        bench_user(&mut tx, &hash, "bench-hubei", "基准测试（湖北省）", Role::Official, &Scope::region("42")).await?;
    tx.commit().await?;
    let (admin, province) = (signed_in(&db, admin).await?, signed_in(&db, province).await?);
    let state =
        wushe_web::AppState::new(db.clone(), wushe_store::crypto::KeyRing::generate(), wushe_web::WebConfig::default());
    let s = Instant::now();
    let table = svc::export_organizations(&state, &admin, &Default::default(), &OrgFilter::default())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows = table.rows.len();
    let res =
        wushe_web::export::download(&table, wushe_web::export::Format::Xlsx).map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await?.len();
    println!(
        "导出 {rows} 行到 xlsx：{:.2} 秒，{:.1} MB（目标 10 万行 < 10 秒）",
        s.elapsed().as_secs_f64(),
        bytes as f64 / 1e6
    );
    let code = generated.first().map(|g| g.1.clone()).context("没有组织")?;
    people_bench(&db, &state, &admin, &province, &mut synth, n_people, import_rows, queries, &code).await?;
    db.close().await;
    drop_target(&t).await
}

/// People figures: a million volunteers written through the store's bulk path, then
/// name-fragment search and exact ID lookup through the service (as the API runs them),
/// importing a generated .xlsx of new volunteers through the import service, and exporting
/// that selection to .xlsx.
#[allow(clippy::too_many_arguments)]
async fn people_bench(
    db: &Db,
    state: &wushe_web::AppState,
    admin: &wushe_web::auth::CurrentUser,
    province: &wushe_web::auth::CurrentUser,
    synth: &mut crate::synth::Synth,
    n_people: usize,
    import_rows: usize,
    queries: usize,
    org_code: &str,
) -> anyhow::Result<()> {
    use wushe_domain::codes::citizen_id::CitizenId;
    use wushe_domain::codes::division::DivisionCode;
    use wushe_domain::registry::person::PersonRole;
    use wushe_store::registry::people::{self as store, NewPerson, NewVolunteer, PeopleFilter};
    use wushe_web::service::import::{self, ImportKind};
    use wushe_web::service::people as svc;

    // Villages of Hubei, by county.
    let mut villages: Vec<String> = Vec::new();
    let hubei = DivisionCode::parse("42")?;
    for city in regions::children(db, Some(&hubei)).await? {
        for county in regions::children(db, Some(&DivisionCode::parse(&city.code)?)).await? {
            for t in regions::children(db, Some(&DivisionCode::parse(&county.code)?)).await? {
                villages.extend(
                    regions::children(db, Some(&DivisionCode::parse(&t.code)?)).await?.into_iter().map(|v| v.code),
                );
            }
        }
    }
    anyhow::ensure!(!villages.is_empty(), "没有湖北省的村级区划");
    let today = wushe_web::service::registry::today();
    let mut ids = std::collections::HashSet::with_capacity(n_people + import_rows);
    let mut sample: Vec<(String, String)> = Vec::new();
    let mut person = |synth: &mut crate::synth::Synth| loop {
        let village = synth.pick(&villages).clone();
        let id = synth.citizen_id(&village[..6], (1950, 2006));
        if ids.insert(id.clone()) {
            return (synth.person_name(), id, synth.mobile(), village);
        }
    };

    let pb = progress::bar(n_people as u64, "写入志愿者（加密、盲索引、检索索引、编号）");
    let started = Instant::now();
    let mut done = 0;
    while done < n_people {
        let n = (n_people - done).min(10_000);
        let mut batch = Vec::with_capacity(n);
        for i in 0..n {
            let (name, id, phone, village) = person(synth);
            if (done + i).is_multiple_of(997) {
                sample.push((name.clone(), id.clone()));
            }
            batch.push(NewPerson {
                name,
                citizen_id: CitizenId::parse(&id, today)?,
                phone: Some(phone),
                division_code: village,
                address: None,
            });
        }
        let mut tx = db.begin_bulk().await?;
        let pids = store::insert_people(&mut tx, &state.keys, &batch).await?;
        let vols: Vec<NewVolunteer> = pids
            .iter()
            .zip(&batch)
            .map(|(pid, p)| NewVolunteer {
                person_id: *pid,
                county: p.division_code[..6].to_string(),
                skills: vec!["elder_care".into()],
                availability: None,
                latitude_e6: None,
                longitude_e6: None,
                guardian_name: None,
                guardian_phone: None,
                registered_on: today,
                organization_id: None,
            })
            .collect();
        store::insert_volunteers(&mut tx, &state.keys, &vols).await?;
        tx.commit().await?;
        done += n;
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!("写入 {n_people} 名志愿者：{secs:.1} 秒（{:.0} 名/秒，每 10,000 名一个事务）", n_people as f64 / secs);
    db.analyze().await?;

    // The same searches as the national administrator and as the province's own official,
    // whose scope (a division range) is a condition the query planner must weigh.
    let page = wushe_store::Page::new(Some(1), Some(20));
    for (who, user) in [("全国管理员", admin), ("湖北省民政官员", province)] {
        let mut ms = Vec::with_capacity(queries);
        let mut capped = 0;
        for _ in 0..queries {
            let (name, _) = synth.pick(&sample).clone();
            let chars: Vec<char> = name.chars().collect();
            let start = synth.range(0, (chars.len() - 1) as u64) as usize;
            let frag: String = chars[start..start + 2].iter().collect();
            let f = PeopleFilter { q: Some(frag), ..Default::default() };
            let s = Instant::now();
            let res =
                svc::list(state, user, PersonRole::Volunteer, &f, &page).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            ms.push(s.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(res.total > 0, "姓名片段检索没有结果");
            capped += usize::from(res.capped);
        }
        print_latency(
            &format!(
                "志愿者姓名片段检索（{who}，2 个字，全省 {n_people} 人，统计总数（上限 1 万）并取第一页 20 条；{capped} 次超过 1 万）"
            ),
            &mut ms,
            "目标 p95 < 50 毫秒",
        );
    }
    let mut ms = Vec::with_capacity(queries);
    for _ in 0..queries {
        let (_, id) = synth.pick(&sample).clone();
        let f = PeopleFilter { q: Some(id), ..Default::default() };
        let s = Instant::now();
        let res = store::list(db, &state.keys, &admin.scope(), PersonRole::Volunteer, &f, &page).await?;
        ms.push(s.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(res.total == 1, "身份证号应唯一命中");
    }
    print_latency("按身份证号精确查找（盲索引）", &mut ms, "目标 < 2 毫秒");

    // An .xlsx of new volunteers who all join one organization, written by the export path.
    let headers: Vec<&'static str> = vec!["姓名", "身份证号", "联系电话", "所在区划", "技能", "所属组织"];
    let rows: Vec<Vec<String>> = (0..import_rows)
        .map(|_| {
            let (name, id, phone, village) = person(synth);
            vec![name, id, phone, village, "助老服务、心理疏导".into(), org_code.to_string()]
        })
        .collect();
    let table = wushe_web::export::Table { title: "志愿者".into(), headers, rows };
    let res =
        wushe_web::export::download(&table, wushe_web::export::Format::Xlsx).map_err(|e| anyhow::anyhow!("{e}"))?;
    let file = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
    drop(table);
    let s = Instant::now();
    let report = import::run(state, admin, &Default::default(), ImportKind::Volunteers, &file, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(report.written && report.created == import_rows, "导入失败：{:?}", report.errors.first());
    println!(
        "从 xlsx 导入 {import_rows} 名志愿者（{:.1} MB，逐行校验后一个事务写入）：{:.2} 秒（目标 10 万行 < 30 秒）",
        file.len() as f64 / 1e6,
        s.elapsed().as_secs_f64()
    );

    let by_code = wushe_store::registry::organizations::OrgFilter { q: Some(org_code.into()), ..Default::default() };
    let org = wushe_store::registry::organizations::select_all(db, &admin.scope(), &by_code, 1)
        .await?
        .first()
        .map(|o| o.id)
        .context("导入所用的组织")?;
    let f = PeopleFilter { organization_id: Some(org), ..Default::default() };
    let s = Instant::now();
    let table = svc::export(state, admin, &Default::default(), PersonRole::Volunteer, &f)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows = table.rows.len();
    let selected = s.elapsed();
    let res =
        wushe_web::export::download(&table, wushe_web::export::Format::Xlsx).map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await?.len();
    println!(
        "导出 {rows} 名志愿者到 xlsx（管理员：含解密后的完整身份证号和电话）：{:.2} 秒（查询与解密 {:.2} 秒），{:.1} MB（目标 10 万行 < 10 秒）",
        s.elapsed().as_secs_f64(),
        selected.as_secs_f64(),
        bytes as f64 / 1e6
    );
    Ok(())
}
