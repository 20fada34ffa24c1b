#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed assertion is the report
//! End-to-end browser test: headless Chromium driven over WebDriver (chromedriver).
//!
//! Starts `wushe demo` on a free loopback port, starts chromedriver on another,
//! then for a phone-sized (375 px) and a desktop-sized window: logs in as the
//! `county` demo account and walks the region tree county → township → village,
//! and checks that another county is refused.
//!
//! A second test imports volunteers from an .xlsx file through `/imports` (first
//! with a bad row, whose problem is reported, then fixed), finds one of them by a
//! two-character name fragment and exports the list as Excel.
//!
//! A third, on a phone only, follows a volunteer service certificate from the check-in QR
//! through confirmation, request, issue and PDF download to the public verification page.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test prints a
//! skip notice and passes, unless `CI` is set, in which case it fails.
//! Set `WUSHE_SCREENSHOT_DIR` to keep the screenshots of the village page.
//!
//! A test binary of its own, not a module of `tests/it`: each of its tests starts `wushe
//! demo` (which loads the whole national division table) and chromedriver with a headless
//! Chromium, and reads pages as soon as their content shows. A binary of its own runs after
//! the other app tests, not beside `admin`'s and `durability`'s own `wushe` processes on the
//! same two cores: merged into `tests/it`, the import walk failed 3 runs of 5, against 2 of 9
//! alone (its search step can read the list before the results page has replaced it).

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use thirtyfour::prelude::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "Wushe@2026";
/// Explicit waits for page content.
const WAIT: Duration = Duration::from_secs(10);
/// The first start of the demo loads the national division table (~10 s in a debug build).
const SERVER_START: Duration = Duration::from_secs(180);
const DRIVER_START: Duration = Duration::from_secs(30);

/// A child process that is killed (with its whole process group) when dropped,
/// so that no exit path — error, panic or success — leaves it running.
struct ChildGuard {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    fn spawn(name: &'static str, cmd: &mut Command, log: PathBuf) -> Result<Self> {
        let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        // Own process group: chromedriver's Chromium children are killed along with it.
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Self { name, child, log })
    }

    /// Fails if the process has already exited, with the tail of its log.
    fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early ({status}); log:\n{}", self.name, self.log_tail());
        }
        Ok(())
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // Kill the process group first (by its id, which is the child's pid), then the child.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Minimal HTTP/1.1 GET on loopback; returns the status code.
fn http_status(port: u16, path: &str) -> Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    // Only the status line is needed; not every server closes the connection promptly.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..buf.len().min(64)]).into_owned();
    head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| anyhow!("bad HTTP response: {head:?}"))
}

/// Polls `path` on loopback until it answers 200, the process dies, or `timeout` passes.
async fn wait_http_ok(proc: &mut ChildGuard, port: u16, path: &str, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        proc.check_running()?;
        if let Ok(200) = http_status(port, path) {
            return Ok(());
        }
        if start.elapsed() > timeout {
            bail!("{} not ready at {path} after {timeout:?}; log:\n{}", proc.name, proc.log_tail());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Explicit wait: polls `probe` until it yields `Some`, or fails after [`WAIT`].
/// WebDriver errors while polling (e.g. a stale element mid-navigation) count as "not yet".
async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = WebDriverResult<Option<T>>>,
{
    let start = Instant::now();
    let mut last_err = None;
    loop {
        match probe().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if start.elapsed() > WAIT {
            let detail = last_err.map(|e| format!(" (last error: {e})")).unwrap_or_default();
            bail!("timed out after {WAIT:?} waiting for {what}{detail}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for an element to be present and displayed.
async fn wait_visible(driver: &WebDriver, css: &str) -> Result<WebElement> {
    wait_for(&format!("visible element `{css}`"), || async move {
        for e in driver.find_all(By::Css(css)).await? {
            if e.is_displayed().await? {
                return Ok(Some(e));
            }
        }
        Ok(None)
    })
    .await
}

/// Waits until the URL path matches `/regions/` followed by `digits` digits; returns the code.
async fn wait_region_url(driver: &WebDriver, digits: usize) -> Result<String> {
    wait_for(&format!("URL /regions/<{digits}-digit code>"), || async move {
        let url = driver.current_url().await?;
        let code = url.path().strip_prefix("/regions/").unwrap_or_default();
        Ok((code.len() == digits && code.bytes().all(|b| b.is_ascii_digit())).then(|| code.to_string()))
    })
    .await
}

/// Waits until the visible text of `css` satisfies `pred`; returns that text.
async fn wait_text(driver: &WebDriver, css: &str, what: &str, pred: impl Fn(&str) -> bool) -> Result<String> {
    let pred = &pred;
    wait_for(&format!("`{css}` to show {what}"), || async move {
        match driver.find_all(By::Css(css)).await?.first() {
            Some(e) => {
                let t = e.text().await?;
                Ok(pred(&t).then_some(t))
            }
            None => Ok(None),
        }
    })
    .await
}

/// Asserts the document is not wider than the viewport (no sideways scrolling on a phone).
async fn assert_no_horizontal_overflow(driver: &WebDriver, page: &str) -> Result<()> {
    let ret = driver
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth, \
             document.documentElement.scrollWidth <= window.innerWidth + 1];",
            Vec::new(),
        )
        .await?;
    let v = ret.json();
    ensure!(v[2].as_bool() == Some(true), "horizontal overflow on {page}: scrollWidth {} > innerWidth {}", v[0], v[1]);
    Ok(())
}

struct Pass {
    label: &'static str,
    width: u32,
    height: u32,
}

impl Pass {
    fn is_phone(&self) -> bool {
        self.width < 768
    }
}

async fn new_session(driver_port: u16, pass: &Pass, profile: &Path) -> Result<WebDriver> {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM)?;
    for arg in [
        "--headless",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-gpu",
        "--no-first-run",
    ] {
        caps.add_arg(arg)?;
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))?;
    caps.add_arg(&format!("--window-size={},{}", pass.width, pass.height))?;
    if pass.is_phone() {
        // Headless Chromium will not make a window narrower than 500 px, whatever
        // --window-size says; emulate the phone's viewport instead (as DevTools does).
        caps.add_experimental_option(
            "mobileEmulation",
            serde_json::json!({
                "deviceMetrics": {
                    "width": pass.width, "height": pass.height, "pixelRatio": 2.0, "mobile": true, "touch": true
                }
            }),
        )?;
    }
    WebDriver::new(format!("http://127.0.0.1:{driver_port}"), caps)
        .await
        .with_context(|| format!("creating a Chromium session for the {} pass", pass.label))
}

/// Logs in as the `county` demo account and waits for its home page.
async fn login_county(driver: &WebDriver, base: &str, pass: &Pass) -> Result<()> {
    login_as(driver, base, pass, "county").await?;
    wait_text(driver, "main h1", "武昌区", |t| t.contains("武昌区")).await?;
    Ok(())
}

/// Logs in as a demo account through the login form and waits for the home page.
async fn login_as(driver: &WebDriver, base: &str, pass: &Pass, username: &str) -> Result<()> {
    driver.goto(format!("{base}/login")).await?;
    if pass.is_phone() {
        let w = driver.execute("return window.innerWidth;", Vec::new()).await?;
        ensure!(w.json().as_u64() == Some(u64::from(pass.width)), "viewport width is {}, not {}", w.json(), pass.width);
    }
    wait_visible(driver, "#username").await?.send_keys(username).await?;
    wait_visible(driver, "#password").await?.send_keys(PASSWORD).await?;
    wait_visible(driver, "#login-submit").await?.click().await?;
    wait_for("home page after login", || async move {
        let url = driver.current_url().await?;
        Ok((url.path() == "/").then_some(()))
    })
    .await
}

/// Signs out (the button sits in the collapsed menu on a phone: the form is submitted).
async fn logout(driver: &WebDriver) -> Result<()> {
    driver.execute("document.querySelector('form[action=\"/logout\"]').submit();", Vec::new()).await?;
    wait_for("the login page after logout", || async move {
        Ok((driver.current_url().await?.path() == "/login").then_some(()))
    })
    .await
}

/// One walk through the UI; `shots` is where screenshots go.
async fn walk(driver: &WebDriver, base: &str, pass: &Pass, shots: &Path) -> Result<()> {
    let phone = pass.is_phone();
    let step = |s: &str| println!("[{}] {s}", pass.label);

    step("login");
    login_county(driver, base, pass).await?;
    if phone {
        // The navbar is collapsed on a phone: the toggler must show, and open it.
        wait_visible(driver, ".navbar-toggler").await?.click().await?;
    } else {
        let toggler = driver.find(By::Css(".navbar-toggler")).await?;
        ensure!(!toggler.is_displayed().await?, "navbar toggler shown on a desktop-size window");
    }
    let who_el = &wait_visible(driver, "#whoami").await?;
    let who =
        wait_for("#whoami text", || async move { Ok(Some(who_el.text().await?).filter(|t| !t.is_empty())) }).await?;
    ensure!(who.contains("王芳"), "#whoami is {who:?}, expected it to contain 王芳");
    if phone {
        assert_no_horizontal_overflow(driver, "home").await?;
    }

    step("county");
    driver.goto(format!("{base}/regions")).await?;
    let code = wait_region_url(driver, 6).await?;
    ensure!(code == "420106", "/regions went to {code}, expected 420106");
    wait_text(driver, "#region-name", "武昌区", |t| t == "武昌区").await?;
    wait_text(driver, "#breadcrumbs", "湖北省", |t| t.contains("湖北省")).await?;
    if phone {
        assert_no_horizontal_overflow(driver, "county page").await?;
    }

    step("township");
    let link = wait_visible(driver, "#children tbody tr:first-child td:first-child a").await?;
    let township = link.text().await?;
    ensure!(!township.is_empty() && township != "武昌区", "odd first child link {township:?}");
    link.click().await?;
    let code = wait_region_url(driver, 9).await?;
    ensure!(code.starts_with("420106"), "township code {code} is not under 420106");
    wait_text(driver, "#region-name", &township, |t| t == township).await?;
    if phone {
        assert_no_horizontal_overflow(driver, "township page").await?;
    }

    step(&format!("village (under {township} {code})"));
    let link = wait_visible(driver, "#children tbody tr:first-child td:first-child a").await?;
    let village = link.text().await?;
    ensure!(!village.is_empty() && village != township, "odd first child link {village:?}");
    link.click().await?;
    let vcode = wait_region_url(driver, 12).await?;
    ensure!(vcode.starts_with(&code), "village code {vcode} is not under {code}");
    wait_text(driver, "#region-name", &village, |t| t == village).await?;
    wait_text(driver, "main", "村级单位是最低一级区划", |t| t.contains("村级单位是最低一级区划")).await?;
    ensure!(driver.find_all(By::Id("children")).await?.is_empty(), "village page has a children table");
    if phone {
        assert_no_horizontal_overflow(driver, "village page").await?;
    }
    let shot = shots.join(format!("village-{}x{}.png", pass.width, pass.height));
    driver.screenshot(&shot).await?;
    step(&format!("screenshot {}", shot.display()));

    step("other county is refused");
    driver.goto(format!("{base}/regions/420111")).await?;
    wait_text(driver, "#error-message", "不在您的管辖范围内", |t| t.contains("不在您的管辖范围内")).await?;
    wait_text(driver, "h1", "403", |t| t.contains("403")).await?;
    if phone {
        assert_no_horizontal_overflow(driver, "403 page").await?;
    }
    Ok(())
}

/// The demo server and chromedriver of one test, stopped when dropped.
struct Env {
    tmp: tempfile::TempDir,
    shots: PathBuf,
    server: ChildGuard,
    _chromedriver: ChildGuard,
    driver_port: u16,
    base: String,
    started: Instant,
}

/// Starts `wushe demo` and chromedriver; `None` when the browser is not installed (outside CI).
async fn start_env() -> Result<Option<Env>> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    if !missing.is_empty() {
        let msg =
            format!("browser test needs {} (Debian packages `chromium` and `chromium-driver`)", missing.join(" and "));
        if std::env::var_os("CI").is_some() {
            panic!("{msg}: not installed, and CI is set");
        }
        wushe_testkit::skip_notice(&format!("{msg}; not installed"));
        return Ok(None);
    }

    let started = Instant::now();
    let tmp = tempfile::tempdir()?;
    let shots = tmp.path().join("shots");
    std::fs::create_dir_all(&shots)?;

    let port = free_port()?;
    let mut server = ChildGuard::spawn(
        "wushe demo",
        Command::new(env!("CARGO_BIN_EXE_wushe"))
            .arg("demo")
            .arg("--data-dir")
            .arg(tmp.path().join("data"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn"),
        tmp.path().join("server.log"),
    )?;
    let driver_port = free_port()?;
    let mut chromedriver = ChildGuard::spawn(
        "chromedriver",
        Command::new(CHROMEDRIVER).arg(format!("--port={driver_port}")),
        tmp.path().join("chromedriver.log"),
    )?;
    wait_http_ok(&mut chromedriver, driver_port, "/status", DRIVER_START).await?;
    wait_http_ok(&mut server, port, "/healthz", SERVER_START).await?;
    println!("server and chromedriver ready after {:.1?}", started.elapsed());
    let base = format!("http://127.0.0.1:{port}");
    Ok(Some(Env { tmp, shots, server, _chromedriver: chromedriver, driver_port, base, started }))
}

const PASSES: [Pass; 2] =
    [Pass { label: "phone 375", width: 375, height: 800 }, Pass { label: "desktop", width: 1280, height: 900 }];

impl Env {
    /// Runs one walk per pass (phone, desktop), each in a fresh browser session.
    async fn run_passes<F>(&self, test: &str, walk: F) -> Result<()>
    where
        F: for<'a> Fn(&'a WebDriver, &'a Env, &'a Pass) -> std::pin::Pin<Box<dyn Future<Output = Result<()>> + 'a>>,
    {
        for pass in &PASSES {
            let t = Instant::now();
            let profile = self.tmp.path().join(format!("profile-{test}-{}", pass.width));
            let driver = new_session(self.driver_port, pass, &profile).await?;
            let result = walk(&driver, self, pass).await;
            if result.is_err() {
                let _ = driver.screenshot(&self.shots.join(format!("failure-{test}-{}.png", pass.width))).await;
            }
            let quit = driver.quit().await;
            if let Err(e) = result {
                keep_screenshots(&self.shots);
                return Err(e.context(format!("{} pass failed; server log:\n{}", pass.label, self.server.log_tail())));
            }
            quit?;
            println!("[{}] passed in {:.1?}", pass.label, t.elapsed());
        }
        keep_screenshots(&self.shots);
        println!("browser test {test} done in {:.1?}", self.started.elapsed());
        Ok(())
    }
}

#[tokio::test]
async fn login_and_walk_regions_on_phone_and_desktop() -> Result<()> {
    let Some(env) = start_env().await? else { return Ok(()) };
    env.run_passes("regions", |driver, env, pass| Box::pin(walk(driver, &env.base, pass, &env.shots))).await
}

/// Clicks the first displayed element matching `css`, retrying while it is not yet
/// clickable (a menu still opening, an element covered for a moment).
async fn click_when_ready(driver: &WebDriver, css: &str) -> Result<()> {
    wait_for(&format!("clickable `{css}`"), || async move {
        for e in driver.find_all(By::Css(css)).await? {
            if e.is_displayed().await? {
                // Chromium's own scrolling misses with phone emulation near the page end.
                driver.execute("arguments[0].scrollIntoView({block: 'center'});", vec![e.to_json()?]).await?;
                e.click().await?;
                return Ok(Some(()));
            }
        }
        Ok(None)
    })
    .await
}

/// Clicks `item` once it shows, opening the menus `toggles` (collapse or dropdown toggles, in
/// order) that are not open yet while it does not: a toggle clicked while Bootstrap is still
/// starting, or while the collapsed navigation is animating, is clicked again instead of
/// leaving the item hidden until the wait times out. A toggle counts as open by its
/// `aria-expanded`, so an open menu is never clicked shut.
async fn click_through(driver: &WebDriver, toggles: &[&str], item: &str) -> Result<()> {
    wait_for(&format!("clickable `{item}` through {toggles:?}"), || async move {
        for e in driver.find_all(By::Css(item)).await? {
            if e.is_displayed().await? {
                driver.execute("arguments[0].scrollIntoView({block: 'center'});", vec![e.to_json()?]).await?;
                e.click().await?;
                return Ok(Some(()));
            }
        }
        for css in toggles {
            for t in driver.find_all(By::Css(*css)).await? {
                if t.is_displayed().await? && t.attr("aria-expanded").await?.as_deref() != Some("true") {
                    t.click().await?;
                    return Ok(None);
                }
            }
        }
        Ok(None)
    })
    .await
}

/// A volunteer import file (.xlsx) laid out as the template: one row per (name, ID, phone).
fn volunteer_xlsx(path: &Path, rows: &[(&str, &str, &str)]) -> Result<()> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["姓名", "身份证号", "联系电话", "所在区划", "技能"].into_iter().enumerate() {
        ws.write_string(0, u16::try_from(c)?, h)?;
    }
    for (i, (name, id, phone)) in rows.iter().enumerate() {
        let r = u32::try_from(i)? + 1;
        // IDs as text, as the template asks (a number would lose its last digits).
        for (c, v) in [*name, *id, *phone, "420106001001", "助老服务、心理疏导"].into_iter().enumerate() {
            ws.write_string(r, u16::try_from(c)?, v)?;
        }
    }
    wb.save(path)?;
    Ok(())
}

fn citizen_id(first17: &str) -> Result<String> {
    let c = wushe_domain::codes::citizen_id::check_char(first17).ok_or_else(|| anyhow!("not 17 digits: {first17}"))?;
    Ok(format!("{first17}{c}"))
}

/// Uploads `file` on the volunteers card of /imports and waits for the job page.
async fn upload_volunteers(driver: &WebDriver, file: &Path) -> Result<()> {
    let input =
        wait_for(
            "file input",
            || async move { Ok(driver.find_all(By::Css("#file-volunteers")).await?.into_iter().next()) },
        )
        .await?;
    input.send_keys(file.display().to_string()).await?;
    click_when_ready(driver, "#upload-volunteers-submit").await?;
    wait_for("the import job page", || async move {
        Ok(driver.current_url().await?.path().starts_with("/imports/jobs/").then_some(()))
    })
    .await
}

/// Import volunteers from Excel (a bad row reported, then the fixed file written), find one
/// by a name fragment, export the list as Excel.
async fn import_walk(driver: &WebDriver, env: &Env, pass: &Pass) -> Result<()> {
    let phone = pass.is_phone();
    let step = |s: &str| println!("[{}] {s}", pass.label);
    let base = &env.base;
    // Different people per pass (the second pass would otherwise re-import the first's).
    let (names, fragment, seq) = if phone {
        (["欧阳明轩", "司马雨桐"], "明轩", 101)
    } else {
        (["欧阳明哲", "司马雨晴"], "明哲", 201)
    };
    let good = citizen_id(&format!("42010619950612{seq:03}"))?;
    let fixed = citizen_id(&format!("42010619870923{:03}", seq + 1))?;
    let last = fixed.chars().last().unwrap_or('0');
    let bad = format!("{}{}", &fixed[..17], if last == '1' { '2' } else { '1' });
    let dir = env.tmp.path().join(format!("files-{}", pass.width));
    std::fs::create_dir_all(&dir)?;
    let bad_file = dir.join("志愿者导入.xlsx");
    volunteer_xlsx(&bad_file, &[(names[0], &good, "13900001111"), (names[1], &bad, "13900002222")])?;
    let fixed_file = dir.join("志愿者导入-已修改.xlsx");
    volunteer_xlsx(&fixed_file, &[(names[0], &good, "13900001111"), (names[1], &fixed, "13900002222")])?;

    step("login");
    login_county(driver, base, pass).await?;

    step("navigate to 批量导入 through the menu");
    let toggles: &[&str] = if phone { &[".navbar-toggler", "#nav-people"] } else { &["#nav-people"] };
    click_through(driver, toggles, ".dropdown-menu a[href=\"/imports\"]").await?;
    wait_for("/imports", || async move { Ok((driver.current_url().await?.path() == "/imports").then_some(())) })
        .await?;
    wait_visible(driver, "#import-volunteers").await?;
    let tpl = wait_visible(driver, "#template-volunteers-xlsx").await?;
    let href = tpl.attr("href").await?.unwrap_or_default();
    ensure!(href.ends_with("/api/v1/imports/volunteers/template?format=xlsx"), "template link {href}");
    if phone {
        assert_no_horizontal_overflow(driver, "imports page").await?;
    }
    driver.screenshot(&env.shots.join(format!("imports-{}.png", pass.width))).await?;

    step("upload a file with a bad ID check digit");
    upload_volunteers(driver, &bad_file).await?;
    let problems =
        wait_text(driver, "#import-problems", "the problem count", |t| t.contains("文件有 1 处问题")).await?;
    ensure!(problems.contains("未写入任何数据"), "report says {problems:?}");
    let table = wait_text(driver, "#import-errors tbody", "the bad row", |t| !t.is_empty()).await?;
    ensure!(
        table.contains('3') && table.contains("身份证号") && table.contains("校验位"),
        "error table does not name row 3 and 身份证号: {table:?}"
    );
    if phone {
        assert_no_horizontal_overflow(driver, "import report").await?;
    }
    driver.screenshot(&env.shots.join(format!("import-report-{}.png", pass.width))).await?;

    step("upload the fixed file");
    click_when_ready(driver, "#upload-again").await?;
    wait_visible(driver, "#import-volunteers").await?;
    upload_volunteers(driver, &fixed_file).await?;
    let done = wait_text(driver, "#import-done", "success", |t| t.contains("导入完成")).await?;
    ensure!(done.contains("新增 2 条"), "import result {done:?}");

    step(&format!("find the volunteer by 「{fragment}」"));
    click_when_ready(driver, "#to-list").await?;
    wait_visible(driver, "#q").await?.send_keys(fragment).await?;
    click_when_ready(driver, "#search-submit").await?;
    // The unfiltered list already shows both names: read the rows only once the search's
    // own page has loaded.
    wait_for("the search's results page", || async move {
        Ok(driver.current_url().await?.query().is_some_and(|q| q.contains("q=")).then_some(()))
    })
    .await?;
    let rows = wait_text(driver, "#people tbody", names[0], |t| t.contains(names[0])).await?;
    ensure!(!rows.contains(names[1]), "{} should not match 「{fragment}」: {rows:?}", names[1]);
    let total = wait_visible(driver, "#people-total").await?.text().await?;
    ensure!(total.contains("共 1 条"), "total is {total:?}");
    if phone {
        assert_no_horizontal_overflow(driver, "volunteer list").await?;
    }
    driver.screenshot(&env.shots.join(format!("volunteers-{}.png", pass.width))).await?;

    step("export as Excel");
    let link = wait_visible(driver, "#export-xlsx").await?;
    let href = link.attr("href").await?.unwrap_or_default();
    ensure!(href.starts_with("/api/v1/volunteers?") && href.contains("format=xlsx"), "export link {href}");
    let q = url_encode_query(fragment);
    ensure!(href.contains(&format!("q={q}")), "export link {href} lacks the search q={q}");
    let ret = driver
        .execute(
            "var x = new XMLHttpRequest(); x.open('GET', arguments[0], false); x.send(); \
             return [x.status, x.getResponseHeader('content-type') || ''];",
            vec![serde_json::json!(href)],
        )
        .await?;
    let v = ret.json();
    ensure!(v[0].as_u64() == Some(200), "export answered {v}");
    ensure!(v[1].as_str().unwrap_or_default().contains("spreadsheetml"), "export content type {v}");
    link.click().await?;
    let said =
        wait_text(driver, "#export-progress", "the download", |t| t.contains("已下载") || t.contains("失败")).await?;
    ensure!(said.contains("已下载"), "export progress says {said:?}");

    step("detail page and the audited full view");
    click_when_ready(driver, "#people tbody a").await?;
    wait_text(driver, "#person-name", names[0], |t| t.contains(names[0])).await?;
    let masked = wait_visible(driver, "#citizen-id").await?.text().await?;
    ensure!(masked.contains('*') && masked != good, "ID not masked: {masked:?}");
    click_when_ready(driver, "#reveal").await?;
    wait_text(driver, "#reveal-note", "the audit notice", |t| t.contains("此次查看已记入审计日志")).await?;
    let full = wait_visible(driver, "#citizen-id").await?.text().await?;
    ensure!(full == good, "full view shows {full:?}, expected {good}");
    if phone {
        assert_no_horizontal_overflow(driver, "volunteer detail").await?;
    }
    driver.screenshot(&env.shots.join(format!("volunteer-detail-{}.png", pass.width))).await?;

    step("registration form");
    driver.goto(format!("{base}/beneficiaries/new")).await?;
    let id_input = wait_visible(driver, "#citizen_id").await?;
    id_input.send_keys(bad.as_str()).await?;
    // Enter submits the form, as on a phone keyboard.
    id_input.send_keys(Key::Enter).await?;
    wait_text(driver, "#form-errors", "the field errors", |t| t.contains("身份证号")).await?;
    wait_text(driver, "[data-field=\"身份证号\"]", "the ID error next to its field", |t| t.contains("校验位")).await?;
    if phone {
        assert_no_horizontal_overflow(driver, "registration form").await?;
    }
    driver.screenshot(&env.shots.join(format!("beneficiary-form-{}.png", pass.width))).await?;
    Ok(())
}

/// Percent-encoding of a query value as the server writes it (UTF-8 bytes, upper-case hex).
fn url_encode_query(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn import_volunteers_from_excel_then_find_and_export() -> Result<()> {
    let Some(env) = start_env().await? else { return Ok(()) };
    env.run_passes("import", |driver, env, pass| Box::pin(import_walk(driver, env, pass))).await
}

/// Copies the screenshots to `WUSHE_SCREENSHOT_DIR`, if set.
fn keep_screenshots(from: &Path) {
    let Some(dir) = std::env::var_os("WUSHE_SCREENSHOT_DIR") else { return };
    let dir = PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return;
    }
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let to = dir.join(entry.file_name());
        match std::fs::copy(entry.path(), &to) {
            Ok(_) => println!("screenshot kept at {}", to.display()),
            Err(e) => eprintln!("cannot copy screenshot to {}: {e}", to.display()),
        }
    }
}

/// The demo's SQLite database, opened beside the running server (WAL: both may write).
async fn demo_db(env: &Env) -> Result<wushe_store::Db> {
    let url = format!("sqlite://{}", env.tmp.path().join("data").join("wushe.db").display());
    Ok(wushe_store::Db::connect(&url, &wushe_store::DbOptions { max_connections: 1, ..Default::default() }).await?)
}

/// The check-in code an activity's screen shows now (the volunteer scanning it again).
async fn current_code(db: &wushe_store::Db, activity: i64) -> Result<String> {
    let secret = wushe_store::volunteering::activities::checkin_secret(db, activity).await?;
    Ok(wushe_domain::volunteering::attendance::current_code(&secret, activity, chrono::Utc::now()).0)
}

/// Opens the first activity the list finds for `query`; returns its id.
async fn open_activity(driver: &WebDriver, base: &str, query: &str) -> Result<i64> {
    driver.goto(format!("{base}/activities?{query}")).await?;
    click_when_ready(driver, "main a[href^=\"/activities/\"]:not([href$=\"/new\"])").await?;
    wait_visible(driver, "#activity-title").await?;
    let url = driver.current_url().await?;
    let id = url.path().trim_start_matches("/activities/").parse()?;
    Ok(id)
}

/// The whole certificate path on a phone: the organization shows the check-in QR of the
/// demo's activity running now; the volunteer signs up for an upcoming activity, checks in
/// and out of the running one with the code; the organization confirms the hours; the
/// volunteer asks for a certificate; the organization issues it; the volunteer downloads the
/// PDF; a stranger, logged out, opens the verification page the QR code points at.
async fn certificate_walk(driver: &WebDriver, env: &Env, pass: &Pass) -> Result<()> {
    let step = |s: &str| println!("[{}] {s}", pass.label);
    let base = &env.base;
    let db = demo_db(env).await?;

    step("org: the running activity's check-in QR");
    login_as(driver, base, pass, "org").await?;
    let activity = open_activity(driver, base, "q=今日社区助老陪伴").await?;
    click_when_ready(driver, "#qr-link").await?;
    let code = wait_text(driver, "#checkin-code", "a 6-digit code", |t| {
        t.trim().len() == 6 && t.trim().bytes().all(|b| b.is_ascii_digit())
    })
    .await?;
    assert_no_horizontal_overflow(driver, "QR screen").await?;
    logout(driver).await?;

    step("volunteer: sign up for an upcoming activity");
    login_as(driver, base, pass, "volunteer").await?;
    open_activity(driver, base, "upcoming=true&q=四点半课堂").await?;
    click_when_ready(driver, ".signup-form button").await?;
    wait_text(driver, ".my-signup", "the sign-up", |t| t.contains("已录用")).await?;
    assert_no_horizontal_overflow(driver, "activity page").await?;

    step("volunteer: check in with the code from the QR");
    driver.goto(format!("{base}/checkin?a={activity}&c={}", code.trim())).await?;
    click_when_ready(driver, "#do-checkin").await?;
    wait_text(driver, "#checkin-result", "签到成功", |t| t.contains("签到成功")).await?;
    // Two hours of service pass (the check-in is moved back: a browser test cannot wait them).
    let at = wushe_store::time::now() - chrono::Duration::hours(2);
    let mut tx = db.begin().await?;
    let n = wushe_store::on_tx!(&mut tx, |c| sqlx::query(
        "UPDATE attendance SET checked_in_at = $1 WHERE activity_id = $2 AND checked_out_at IS NULL \
         AND person_id = (SELECT person_id FROM users WHERE username = 'volunteer')"
    )
    .bind(at)
    .bind(activity)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    tx.commit().await?;
    ensure!(n == 1, "the volunteer's open attendance was not found ({n})");
    let field = wait_visible(driver, "#code").await?;
    field.clear().await?;
    field.send_keys(current_code(&db, activity).await?).await?;
    click_when_ready(driver, "#do-checkout").await?;
    wait_text(driver, "#checkin-result", "签退成功", |t| t.contains("签退成功")).await?;
    assert_no_horizontal_overflow(driver, "check-in page").await?;
    logout(driver).await?;

    step("org: confirm the hours");
    login_as(driver, base, pass, "org").await?;
    driver.goto(format!("{base}/activities/{activity}")).await?;
    wait_visible(driver, "#confirm-form").await?;
    // the button sits below a long roster; Chromium's phone emulation misplaces the tap there
    driver.execute("document.querySelector('#confirm-submit').click();", Vec::new()).await?;
    wait_text(driver, "#flash", "the confirmation", |t| t.contains("确认")).await?;
    logout(driver).await?;

    step("volunteer: ask for a certificate");
    login_as(driver, base, pass, "volunteer").await?;
    driver.goto(format!("{base}/me/record")).await?;
    wait_visible(driver, "#cert-issuers").await?;
    assert_no_horizontal_overflow(driver, "record page").await?;
    click_when_ready(driver, "#cert-issuers .cert-request").await?;
    wait_text(driver, "#flash", "the request", |t| t.contains("证明申请已提交")).await?;
    let item = wait_visible(driver, "#my-certificates .list-group-item").await?;
    let id = item.id().await?.unwrap_or_default().trim_start_matches("my-certificate-").to_string();
    ensure!(id.parse::<i64>().is_ok(), "no certificate id in {id:?}");
    wait_text(driver, &format!("#my-certificate-{id} .cert-status"), "待审核", |t| t.contains("待审核")).await?;
    driver.screenshot(&env.shots.join("certificate-request-375.png")).await?;
    logout(driver).await?;

    step("org: issue it");
    login_as(driver, base, pass, "org").await?;
    driver.goto(format!("{base}/certificates")).await?;
    click_when_ready(driver, &format!("#certificate-{id} .issue-button")).await?;
    let flash = wait_text(driver, "#flash", "the issue", |t| t.contains("已出具证明")).await?;
    ensure!(flash.contains("编号"), "flash {flash:?}");
    assert_no_horizontal_overflow(driver, "certificates page").await?;
    driver.screenshot(&env.shots.join("certificates-org-375.png")).await?;
    logout(driver).await?;

    step("volunteer: download the PDF");
    login_as(driver, base, pass, "volunteer").await?;
    driver.goto(format!("{base}/me/record")).await?;
    wait_text(driver, &format!("#my-certificate-{id} .cert-status"), "已出具", |t| t.contains("已出具")).await?;
    let link = wait_visible(driver, &format!("#my-certificate-{id} .cert-pdf")).await?;
    let href = link.attr("href").await?.unwrap_or_default();
    ensure!(href == format!("/api/v1/certificates/{id}/pdf"), "PDF link {href}");
    let ret = driver
        .execute(
            "var x = new XMLHttpRequest(); x.open('GET', arguments[0], false); \
             x.overrideMimeType('text/plain; charset=x-user-defined'); x.send(); \
             return [x.status, x.getResponseHeader('content-type') || '', x.responseText.substring(0, 5), x.responseText.length];",
            vec![serde_json::json!(href)],
        )
        .await?;
    let v = ret.json();
    ensure!(v[0].as_u64() == Some(200), "PDF answered {v}");
    ensure!(v[1].as_str() == Some("application/pdf"), "PDF content type {v}");
    ensure!(v[2].as_str() == Some("%PDF-"), "not a PDF: {v}");
    let verify = wait_visible(driver, &format!("#my-certificate-{id} a[href^=\"/verify/\"]")).await?;
    let verify_path = verify.attr("href").await?.unwrap_or_default();
    driver.screenshot(&env.shots.join("record-certificates-375.png")).await?;
    logout(driver).await?;

    step(&format!("anyone, logged out: {verify_path}"));
    driver.goto(format!("{base}{verify_path}")).await?;
    wait_text(driver, "#verify-status", "有效", |t| t.contains("有效")).await?;
    let holder = wait_visible(driver, "#verify-holder").await?.text().await?;
    ensure!(holder.contains('*'), "holder not masked: {holder:?}");
    let hours = wait_visible(driver, "#verify-hours").await?.text().await?;
    ensure!(hours.contains("小时"), "hours {hours:?}");
    ensure!(driver.find_all(By::Css("#whoami")).await?.is_empty(), "still logged in");
    assert_no_horizontal_overflow(driver, "verification page").await?;
    driver.screenshot(&env.shots.join("verify-375.png")).await?;
    db.close().await;
    Ok(())
}

#[tokio::test]
async fn certificate_from_check_in_to_public_verification_on_a_phone() -> Result<()> {
    let Some(env) = start_env().await? else { return Ok(()) };
    let pass = &PASSES[0];
    let driver = new_session(env.driver_port, pass, &env.tmp.path().join("profile-certificate")).await?;
    let result = certificate_walk(&driver, &env, pass).await;
    if result.is_err() {
        let _ = driver.screenshot(&env.shots.join("failure-certificate-375.png")).await;
    }
    let quit = driver.quit().await;
    keep_screenshots(&env.shots);
    result.map_err(|e| e.context(format!("server log:\n{}", env.server.log_tail())))?;
    quit?;
    println!("browser test certificate done in {:.1?}", env.started.elapsed());
    Ok(())
}
