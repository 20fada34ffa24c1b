//! End-to-end browser test: headless Chromium driven over WebDriver (chromedriver).
//!
//! Starts `wushe demo` on a free loopback port, starts chromedriver on another,
//! then for a phone-sized (375 px) and a desktop-sized window: logs in as the
//! `county` demo account and walks the region tree county → township → village,
//! and checks that another county is refused.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test prints a
//! skip notice and passes, unless `CI` is set, in which case it fails.
//! Set `WUSHE_SCREENSHOT_DIR` to keep the screenshots of the village page.

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

/// One walk through the UI; `shots` is where screenshots go.
async fn walk(driver: &WebDriver, base: &str, pass: &Pass, shots: &Path) -> Result<()> {
    let phone = pass.is_phone();
    let step = |s: &str| println!("[{}] {s}", pass.label);

    step("login");
    driver.goto(format!("{base}/login")).await?;
    if phone {
        let w = driver.execute("return window.innerWidth;", Vec::new()).await?;
        ensure!(w.json().as_u64() == Some(u64::from(pass.width)), "viewport width is {}, not {}", w.json(), pass.width);
    }
    wait_visible(driver, "#username").await?.send_keys("county").await?;
    wait_visible(driver, "#password").await?.send_keys(PASSWORD).await?;
    wait_visible(driver, "#login-submit").await?.click().await?;
    wait_for("home page after login", || async move {
        let url = driver.current_url().await?;
        Ok((url.path() == "/").then_some(()))
    })
    .await?;
    wait_text(driver, "main h1", "武昌区", |t| t.contains("武昌区")).await?;
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

#[tokio::test]
async fn login_and_walk_regions_on_phone_and_desktop() -> Result<()> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    if !missing.is_empty() {
        let msg =
            format!("browser test needs {} (Debian packages `chromium` and `chromium-driver`)", missing.join(" and "));
        if std::env::var_os("CI").is_some() {
            panic!("{msg}: not installed, and CI is set");
        }
        eprintln!("SKIPPED: {msg}; not installed");
        return Ok(());
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
    let passes =
        [Pass { label: "phone 375", width: 375, height: 800 }, Pass { label: "desktop", width: 1280, height: 900 }];
    for pass in &passes {
        let t = Instant::now();
        let profile = tmp.path().join(format!("profile-{}", pass.width));
        let driver = new_session(driver_port, pass, &profile).await?;
        let result = walk(&driver, &base, pass, &shots).await;
        if result.is_err() {
            let _ = driver.screenshot(&shots.join(format!("failure-{}.png", pass.width))).await;
        }
        let quit = driver.quit().await;
        if let Err(e) = result {
            keep_screenshots(&shots);
            return Err(e.context(format!("{} pass failed; server log:\n{}", pass.label, server.log_tail())));
        }
        quit?;
        println!("[{}] passed in {:.1?}", pass.label, t.elapsed());
    }
    keep_screenshots(&shots);
    println!("browser test done in {:.1?}", started.elapsed());
    Ok(())
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
