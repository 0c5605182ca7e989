//! Harness for the browser tests: a real headless Chromium (Debian's
//! `chromium`), driven over WebDriver by `chromedriver` and the `fantoccini`
//! client, against a real [`Daemon`] on loopback.
//!
//! Every [`Browser`] gets:
//!
//! - its own `chromedriver` on a free loopback port, in its own process
//!   group (killed with the Chromium under it when the browser is dropped,
//!   after [`Browser::close`] has ended the session cleanly);
//! - a fresh temporary `HOME`, profile and download directory. The box's CA
//!   is added to an NSS database at `$HOME/.pki/nssdb` (`certutil`, from
//!   `libnss3-tools`), which is where Chromium on Linux looks for locally
//!   trusted roots: the connection to `https://localhost:PORT` is verified
//!   for real (no `--ignore-certificate-errors`), so the service worker
//!   registers as it would on a phone;
//! - a phone screen: 360 × 800 CSS pixels, touch, through chromedriver's
//!   mobile emulation, and a language (`Accept-Language` and
//!   `navigator.languages`) chosen by the test;
//! - no way out of the machine: every host name but `localhost` resolves to
//!   nothing (`--host-resolver-rules`), no proxy, and the background services
//!   that phone home (component updates, sync, metrics, safe browsing...) are
//!   off;
//! - an artefact directory, `<target>/browser-artefacts/<test>/`, emptied at
//!   the start, where [`Browser::screen`] saves a PNG of every screen and
//!   chromedriver writes its log. [`Browser::screen_for_docs`] also writes
//!   the screens shown in the documentation to `docs/screenshots/<name>.png`
//!   when `FOYER_UPDATE_SCREENSHOTS=1`.
//!
//! [`Browser::audit`] checks the screen on show with axe-core (WCAG 2.1 A
//! and AA; serious and critical findings fail), from
//! `<target>/npm/node_modules/axe-core`, which `.ci/run` installs.
//!
//! Waits are bounded by [`WAIT`] and poll; a wait that fails takes a
//! screenshot and panics with its path and the page's visible text.
//!
//! [`skip_reason`] says why the browser tests cannot run here (no Chromium,
//! no chromedriver, no certutil); [`crate::prerequisites_met`] turns that into
//! a printed `SKIPPED:` line, or a failure under CI.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};

use crate::{Daemon, PASSPHRASE, free_port, prerequisites_met};

/// Upper bound on any wait for the page (an element, a condition).
pub const WAIT: Duration = Duration::from_secs(30);
/// The phone screen, in CSS pixels.
pub const PHONE_WIDTH: u32 = 360;
pub const PHONE_HEIGHT: u32 = 800;
/// Device pixels per CSS pixel in screenshots (1 keeps the PNGs small).
const PIXEL_RATIO: f64 = 1.0;
/// How often waits poll the page.
const POLL: Duration = Duration::from_millis(100);

/// Chromium itself (not Debian's `/usr/bin/chromium` wrapper script, which
/// adds flags from `/etc/chromium.d` such as loading extensions).
fn chromium_bin() -> Option<PathBuf> {
    ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn runs(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether an executable `name` is in `PATH` (certutil has no option that
/// exits with 0 without doing anything).
fn in_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Why the browser tests cannot run here, if they cannot.
pub fn skip_reason() -> Option<String> {
    if chromium_bin().is_none() {
        return Some("Chromium is not installed (Debian package `chromium`)".into());
    }
    if !runs("chromedriver", &["--version"]) {
        return Some("chromedriver is not installed (Debian package `chromium-driver`)".into());
    }
    if !in_path("certutil") {
        return Some("certutil is not installed (Debian package `libnss3-tools`)".into());
    }
    None
}

/// `<target>/browser-artefacts`, found from the test executable
/// (`<target>/debug/deps/<test>`).
fn artefacts_root() -> PathBuf {
    // The cargo target directory: `$CARGO_TARGET_DIR`, else the `target`
    // folder above this executable (tests run from `target/debug/deps/`,
    // the benchmark from `target/release/`).
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            exe.ancestors()
                .find(|d| d.file_name().is_some_and(|n| n == "target"))
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(std::env::temp_dir)
        .join("browser-artefacts")
}

/// `docs/screenshots/` of the source tree.
pub fn docs_screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
}

/// The strings of the web app in one language (`web/i18n/<lang>.json`), so
/// that tests compare with what the app shows rather than copies of it.
pub fn strings(lang: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../web/i18n/{lang}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// One string of `strings(lang)`.
pub fn tr(strings: &Value, key: &str) -> String {
    strings[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key:?}"))
        .to_owned()
}

/// The CSS selector of a `data-testid` hook.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// A fresh box and a browser in `lang` for `test`, or `None` (after saying
/// why) when the browser tests cannot run here.
pub async fn start_box(test: &str, lang: &str) -> Option<(Daemon, Browser)> {
    if !prerequisites_met("browser test", skip_reason()) {
        return None;
    }
    let d = Daemon::start().await;
    let b = Browser::start(&d, test, lang).await;
    Some((d, b))
}

/// The code and fingerprint in a pairing URL's fragment (`#pair=CODE&fp=HEX`).
pub fn pairing_fragment(url: &str) -> (String, String) {
    let frag = url.split_once('#').map_or("", |(_, f)| f);
    let get = |key: &str| {
        frag.split('&')
            .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("no {key} in {url}"))
            .to_owned()
    };
    (get("pair"), get("fp"))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// A headless Chromium at phone size, on one daemon's origin.
pub struct Browser {
    pub client: Client,
    /// chromedriver and its Chromium, killed when the browser is dropped.
    _driver: Driver,
    /// `HOME`, profile and downloads; removed on drop.
    _tmp: tempfile::TempDir,
    /// Where the browser saves downloads.
    pub downloads: PathBuf,
    /// `<target>/browser-artefacts/<test>/`.
    pub artefacts: PathBuf,
    base: String,
    shots: u32,
    closed: bool,
}

impl Browser {
    /// Starts chromedriver and a Chromium session that trusts `d`'s CA,
    /// speaks `lang` (`fr`, `en`...) and has a phone's screen.
    pub async fn start(d: &Daemon, test: &str, lang: &str) -> Browser {
        let artefacts = artefacts_root().join(test);
        let _ = std::fs::remove_dir_all(&artefacts);
        std::fs::create_dir_all(&artefacts).expect("create the artefact directory");
        let tmp = tempfile::Builder::new()
            .prefix("foyer-browser-")
            .tempdir()
            .expect("temp dir");
        let home = tmp.path().join("home");
        let downloads = tmp.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("create downloads");
        trust_ca(&home, &d.data_dir.join("tls").join("ca.pem"));

        let port = free_port();
        // chromedriver writes its own log; Chromium's output goes to stderr.
        let log = std::fs::File::create(artefacts.join("chromium-stderr.log")).expect("log file");
        let mut cmd = Command::new("chromedriver");
        cmd.arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                artefacts.join("chromedriver.log").display()
            ))
            .env("HOME", &home)
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("all_proxy")
            .env_remove("ALL_PROXY")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("log fd")))
            .stderr(Stdio::from(log));
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let driver = Driver(cmd.spawn().expect("spawn chromedriver"));
        Browser {
            client: connect(port, &capabilities(tmp.path(), &downloads, lang)).await,
            _driver: driver,
            _tmp: tmp,
            downloads,
            artefacts,
            base: d.url(""),
            shots: 0,
            closed: false,
        }
    }

    /// Opens `https://localhost:PORT{path}`.
    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Runs `script` (a function body: `return ...`) in the page.
    pub async fn eval_value(&self, script: &str) -> Value {
        self.eval_with(script, vec![]).await
    }

    /// Runs `script` with arguments (`arguments[0]`...).
    pub async fn eval_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The page's visible text.
    pub async fn visible_text(&self) -> String {
        match self
            .client
            .execute("return document.body.innerText", vec![])
            .await
        {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => format!("<could not read the page: {e}>"),
        }
    }

    /// A failure message for `what`: a screenshot (its path) and the page's
    /// visible text.
    pub async fn failure(&self, what: &str) -> String {
        let path = self.artefacts.join(format!(
            "FAILED-{}.png",
            what.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .take(60)
                .collect::<String>()
        ));
        let shot = match self.client.screenshot().await {
            Ok(png) => match std::fs::write(&path, png) {
                Ok(()) => path.display().to_string(),
                Err(e) => format!("<not saved: {e}>"),
            },
            Err(e) => format!("<no screenshot: {e}>"),
        };
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        format!(
            "{what}\n  page: {url}\n  screenshot: {shot}\n  visible text:\n{}",
            self.visible_text().await
        )
    }

    /// Waits until `script` (a function body) returns something truthy, and
    /// returns it. Script errors count as "not yet" (the page may be between
    /// two screens).
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        self.wait_for_with(what, script, vec![]).await
    }

    /// [`Browser::wait_for`] with arguments.
    pub async fn wait_for_with(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = match self.client.execute(script, args.clone()).await {
                Ok(v) if truthy(&v) => return v,
                Ok(v) => format!("last result: {v}"),
                Err(e) => format!("last error: {e}"),
            };
            if Instant::now() > deadline {
                let msg = format!("timed out after {WAIT:?} waiting for {what} ({last})");
                panic!("{}", self.failure(&msg).await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for an element matching `css` that is displayed.
    pub async fn find(&self, css: &str) -> Element {
        self.find_where(css, true).await
    }

    /// Waits for an element matching `css`, displayed or not (a hidden file
    /// input).
    pub async fn find_present(&self, css: &str) -> Element {
        self.find_where(css, false).await
    }

    async fn find_where(&self, css: &str, displayed: bool) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(els) = self.client.find_all(Locator::Css(css)).await {
                for el in els {
                    if !displayed || el.is_displayed().await.unwrap_or(false) {
                        return el;
                    }
                }
            }
            if Instant::now() > deadline {
                let msg = format!("timed out after {WAIT:?} waiting for `{css}`");
                panic!("{}", self.failure(&msg).await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element of a `data-testid` hook, once displayed.
    pub async fn hook(&self, id: &str) -> Element {
        self.find(&testid(id)).await
    }

    /// Waits until nothing matching `css` is displayed.
    pub async fn wait_gone(&self, css: &str) {
        self.wait_for_with(
            &format!("`{css}` to go away"),
            "return ![...document.querySelectorAll(arguments[0])].some((e) => e.checkVisibility())",
            vec![json!(css)],
        )
        .await;
    }

    /// Clicks the displayed, enabled element matching `css` (scrolled to the
    /// middle of the screen); retries while something covers it (a dialog
    /// opening, a toast) or it is re-rendered.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let el = self.find(css).await;
            // WebDriver scrolls an element just into view, where the fixed
            // tab bar may cover it: bring it to the middle first.
            let arg = serde_json::to_value(&el).expect("element reference");
            let _ = self
                .client
                .execute(
                    "arguments[0].scrollIntoView({ block: 'center' })",
                    vec![arg],
                )
                .await;
            let err = if el.is_enabled().await.unwrap_or(false) {
                match el.click().await {
                    Ok(()) => return,
                    Err(e) => e.to_string(),
                }
            } else {
                "disabled".to_owned()
            };
            if Instant::now() > deadline {
                let msg = format!("could not click `{css}` within {WAIT:?}: {err}");
                panic!("{}", self.failure(&msg).await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the element of a `data-testid` hook.
    pub async fn tap(&self, id: &str) {
        self.click(&testid(id)).await;
    }

    /// Replaces the text of the input of a `data-testid` hook by typing.
    pub async fn fill(&self, id: &str, text: &str) {
        let el = self.hook(id).await;
        el.clear()
            .await
            .unwrap_or_else(|e| panic!("clear `{id}`: {e}"));
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into `{id}`: {e}"));
    }

    /// The text of the element of a `data-testid` hook, once displayed.
    pub async fn text_of(&self, id: &str) -> String {
        self.hook(id)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of `{id}`: {e}"))
    }

    /// Logs in through the login screen with `passphrase` and waits for the
    /// tab bar (the logged-in shell).
    pub async fn log_in_with(&self, passphrase: &str) {
        self.open("/").await;
        self.fill("login-passphrase", passphrase).await;
        self.tap("login-submit").await;
        self.hook("tab-home").await;
    }

    /// [`Browser::log_in_with`] the harness's [`PASSPHRASE`].
    pub async fn log_in(&self) {
        self.log_in_with(PASSPHRASE).await;
    }

    /// Types a new passphrase into the field of hook `id` and its
    /// confirmation (`<id>-confirm`), once the strength meter next to it has
    /// accepted it.
    pub async fn choose_passphrase(&self, id: &str, passphrase: &str) {
        self.fill(id, passphrase).await;
        self.wait_for_with(
            "the strength meter to accept the passphrase",
            "const i = document.querySelector(`[data-testid=\"${arguments[0]}\"]`);
             const m = i && i.closest('.pass-group').querySelector('.meter');
             return m && m.dataset.ok === 'true'",
            vec![json!(id)],
        )
        .await;
        self.fill(&format!("{id}-confirm"), passphrase).await;
    }

    /// The value of attribute `name` of the element matching `css` (present,
    /// displayed or not).
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find_present(css)
            .await
            .attr(name)
            .await
            .unwrap_or_else(|e| panic!("attribute {name} of `{css}`: {e}"))
    }

    /// Waits until the page title (`page-title`) reads `title`.
    pub async fn wait_title(&self, title: &str) {
        self.wait_for_with(
            &format!("the page title {title:?}"),
            "const e = document.querySelector('[data-testid=page-title]'); return e && e.textContent === arguments[0]",
            vec![json!(title)],
        )
        .await;
    }

    /// Scrolls the window so that the element matching `css` starts just
    /// under the sticky top bar.
    pub async fn scroll_to(&self, css: &str) {
        self.find(css).await;
        self.eval_with(
            "const e = document.querySelector(arguments[0]);
             const bar = document.getElementById('topbar');
             const y = e.getBoundingClientRect().top + window.scrollY - (bar ? bar.offsetHeight : 0) - 8;
             window.scrollTo(0, Math.max(0, y));
             return window.scrollY;",
            vec![json!(css)],
        )
        .await;
    }

    /// Asserts that nothing sticks out sideways of the phone screen, naming
    /// the culprits otherwise.
    pub async fn assert_fits(&self, screen: &str) {
        let v = self
            .eval_with(
                "const w = window.innerWidth;
                 const wide = new Set([...document.querySelectorAll('body *')]
                   .filter((e) => e.checkVisibility() && e.getBoundingClientRect().right > arguments[0] + 0.5));
                 // The innermost ones: their containers only stretch around them.
                 const culprits = [...wide].filter((e) => ![...e.children].some((c) => wide.has(c)))
                   .slice(0, 5)
                   .map((e) => `${e.tagName.toLowerCase()}.${e.className} \"${e.textContent.trim().slice(0, 30)}\" (right edge at ${Math.round(e.getBoundingClientRect().right)} px)`);
                 return { w, scroll: document.documentElement.scrollWidth, culprits };",
                vec![json!(PHONE_WIDTH)],
            )
            .await;
        let (w, scroll) = (
            v["w"].as_u64().unwrap_or(0),
            v["scroll"].as_u64().unwrap_or(0),
        );
        if scroll > w || w != u64::from(PHONE_WIDTH) {
            let msg = format!(
                "{screen}: the page is {scroll} px wide (layout viewport {w} px) on a {PHONE_WIDTH} px screen; too wide: {}",
                v["culprits"]
            );
            panic!("{}", self.failure(&msg).await);
        }
    }

    /// Checks that the screen fits the phone's width and saves a screenshot
    /// as `NN-<name>.png` in the artefact directory.
    pub async fn screen(&mut self, name: &str) -> Vec<u8> {
        self.assert_fits(name).await;
        // Let pending layout, images and fonts settle before the picture.
        self.wait_for(
            "images and fonts to load",
            "return document.fonts.status === 'loaded' && [...document.images].every((i) => i.complete)",
        )
        .await;
        self.eval_value(
            "return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))",
        )
        .await;
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        self.shots += 1;
        let path = self.artefacts.join(format!("{:02}-{name}.png", self.shots));
        std::fs::write(&path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        png
    }

    /// [`Browser::screen`], for a screen shown in the documentation: with
    /// `FOYER_UPDATE_SCREENSHOTS=1`, also saved as `docs/screenshots/<name>.png`.
    pub async fn screen_for_docs(&mut self, name: &str) {
        let png = self.screen(name).await;
        if std::env::var_os("FOYER_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
            let docs = docs_screenshots();
            std::fs::create_dir_all(&docs).expect("create docs/screenshots");
            let dest = docs.join(format!("{name}.png"));
            std::fs::write(&dest, &png).unwrap_or_else(|e| panic!("write {}: {e}", dest.display()));
        }
    }

    /// Audits the page as it is now with axe-core (WCAG 2.0 and 2.1, levels
    /// A and AA) and panics listing every violation of impact "serious" or
    /// "critical" (rule, help, the first elements). Without axe-core
    /// ([`axe_path`]) it prints `SKIPPED:` and returns, or fails under CI.
    pub async fn audit(&self, screen: &str) {
        let Some(axe) = axe_script() else {
            return;
        };
        // Once per page load: the hash router keeps `window` between screens.
        let loaded = self
            .eval_value("return typeof window.axe === 'object'")
            .await;
        if loaded != Value::Bool(true) {
            self.eval_value(&format!("{axe}\n;return typeof window.axe"))
                .await;
        }
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, arguments[0]).then(
                   (r) => done({ violations: r.violations
                     .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                     .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                       targets: v.nodes.map((n) => n.target.join(' ')) })) }),
                   (e) => done({ error: String(e) }));",
                vec![json!({
                    "runOnly": {
                        "type": "tag",
                        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"],
                    },
                    "resultTypes": ["violations"],
                })],
            )
            .await
            .unwrap_or_else(|e| panic!("accessibility audit of {screen}: {e}"));
        if let Some(e) = result.get("error") {
            panic!("accessibility audit of {screen} failed to run: {e}");
        }
        let mut found = Vec::new();
        for v in result["violations"].as_array().into_iter().flatten() {
            let targets: Vec<&str> = v["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let more = if targets.len() > 3 {
                format!(" (and {} more)", targets.len() - 3)
            } else {
                String::new()
            };
            found.push(format!(
                "  {} [{}]: {}\n    {}{more}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                targets[..targets.len().min(3)].join("\n    "),
            ));
        }
        if !found.is_empty() {
            let msg = format!(
                "{screen}: accessibility violations (axe-core, WCAG 2.1 A/AA):\n{}",
                found.join("\n")
            );
            panic!("{}", self.failure(&msg).await);
        }
    }

    /// Waits (bounded) for a finished download named `name` and returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads.join(name);
        let deadline = Instant::now() + WAIT;
        loop {
            // Chromium writes `<name>.crdownload` and renames it when done.
            if path.is_file()
                && let Ok(bytes) = std::fs::read(&path)
            {
                return bytes;
            }
            if Instant::now() > deadline {
                let seen: Vec<String> = std::fs::read_dir(&self.downloads)
                    .map(|rd| {
                        rd.flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                let msg = format!("no download {name:?} after {WAIT:?} (downloads: {seen:?})");
                panic!("{}", self.failure(&msg).await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Ends the WebDriver session (Chromium quits), then chromedriver.
    pub async fn close(mut self) {
        if let Err(e) = self.client.clone().close().await {
            eprintln!("closing the browser: {e}");
        }
        self.closed = true;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            eprintln!(
                "browser artefacts (screenshots, logs): {}",
                self.artefacts.display()
            );
        }
    }
}

/// Where axe-core is installed: `npm/node_modules/axe-core/axe.min.js` under
/// `$CARGO_TARGET_DIR` or the workspace's `target` (`.ci/run` installs it).
pub fn axe_path() -> Option<PathBuf> {
    let rel = Path::new("npm/node_modules/axe-core/axe.min.js");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")])
        .map(|t| t.join(rel))
        .find(|p| p.is_file())
}

/// The text of axe-core's script, read once; `None` (after saying so) when
/// it is not installed here.
fn axe_script() -> Option<&'static str> {
    static AXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let script = AXE.get_or_init(|| {
        axe_path().map(|p| {
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        })
    });
    if script.is_none() {
        // Said once per test binary (a test audits many screens); under CI
        // every audit fails.
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if std::env::var_os("CI").is_some()
            || !SAID.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            prerequisites_met(
                "accessibility audit",
                Some("axe-core not installed".to_owned()),
            );
        }
    }
    script.as_deref()
}

/// The chromedriver process, leader of its own process group, which the
/// Chromium it starts joins: dropping it ends them all, even when the test
/// failed before the session could be closed.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An NSS database at `home/.pki/nssdb` that trusts `ca` to identify web
/// sites (`C,,`): what a user does when they install the box's CA.
fn trust_ca(home: &Path, ca: &Path) {
    let db = home.join(".pki").join("nssdb");
    std::fs::create_dir_all(&db).expect("create the NSS database directory");
    let db_arg = format!("sql:{}", db.display());
    for args in [
        vec!["-N", "-d", &db_arg, "--empty-password"],
        vec![
            "-A",
            "-d",
            &db_arg,
            "-t",
            "C,,",
            "-n",
            "Foyer box CA",
            "-i",
            ca.to_str().expect("UTF-8 path"),
        ],
    ] {
        let out = Command::new("certutil")
            .args(&args)
            .env("HOME", home)
            .output()
            .expect("run certutil");
        assert!(
            out.status.success(),
            "certutil {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// What chromedriver is asked for: Chromium with a phone screen, `lang`,
/// downloads into `downloads`, and nothing that leaves the machine.
fn capabilities(tmp: &Path, downloads: &Path, lang: &str) -> serde_json::Map<String, Value> {
    let accept = match lang {
        "fr" => "fr-FR,fr",
        "en" => "en-US,en",
        other => other,
    };
    let args = [
        "--headless=new".to_owned(),
        // Chromium refuses to start its sandbox as root (CI runs as root).
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        format!("--user-data-dir={}", tmp.join("profile").display()),
        format!("--lang={}", accept.split(',').next().unwrap_or("en-US")),
        // Nothing but loopback: no DNS for any other name, no proxy, no
        // QUIC, and the background services that call home switched off.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost".to_owned(),
        "--no-proxy-server".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--no-default-browser-check".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-default-apps".to_owned(),
        "--disable-extensions".to_owned(),
        "--disable-domain-reliability".to_owned(),
        "--disable-client-side-phishing-detection".to_owned(),
        "--disable-breakpad".to_owned(),
        "--no-pings".to_owned(),
        "--metrics-recording-only".to_owned(),
        "--password-store=basic".to_owned(),
        "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions".to_owned(),
        "--hide-scrollbars".to_owned(),
    ];
    let caps = json!({
        "browserName": "chrome",
        "acceptInsecureCerts": false,
        "goog:chromeOptions": {
            "binary": chromium_bin().expect("chromium").to_string_lossy(),
            "args": args,
            "mobileEmulation": {
                "deviceMetrics": {
                    "width": PHONE_WIDTH,
                    "height": PHONE_HEIGHT,
                    "pixelRatio": PIXEL_RATIO,
                    "mobile": true,
                    "touch": true,
                },
            },
            "prefs": {
                "intl.accept_languages": accept,
                "download.default_directory": downloads.to_string_lossy(),
                "download.prompt_for_download": false,
                "safebrowsing.enabled": false,
                "credentials_enable_service": false,
                "profile.password_manager_enabled": false,
            },
        },
    });
    match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// Waits (bounded) for chromedriver to listen, then opens a session.
async fn connect(port: u16, caps: &serde_json::Map<String, Value>) -> Client {
    let url = format!("http://127.0.0.1:{port}");
    let status = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(resp) = status.get(format!("{url}/status")).send().await
            && resp.status() == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within {WAIT:?}"
        );
        tokio::time::sleep(POLL).await;
    }
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps.clone())
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e}"))
}
