//! Harness for Foyer's end-to-end tests: the **real** `foyerd` binary, run on
//! loopback, driven by real clients (reqwest with rustls, and curl).
//!
//! Every test gets:
//!
//! - its own temporary directory (the data directory is `<tmp>/data`, the
//!   daemon's log `<tmp>/foyerd.log`, outside the data directory so that
//!   at-rest scans only see what the daemon stores);
//! - its own loopback ports, reserved process-wide so that tests running in
//!   parallel never share one (a start that loses a port race to another
//!   process is retried on new ports);
//! - HTTPS clients that verify the box's certificate against `tls/ca.pem`
//!   (never disabled) and reach `https://localhost:PORT` pinned to 127.0.0.1,
//!   with no proxy, so no traffic leaves the loopback interface.
//!
//! Waits are bounded ([`STARTUP_TIMEOUT`], [`EXIT_TIMEOUT`]) and failures
//! carry the daemon's log. A [`Daemon`] is killed when dropped; if the test is
//! panicking, its log is printed (the test harness shows it with the failure).
//! Set `FOYER_E2E_KEEP=1` to keep the temporary directories for inspection.
//!
//! The binary is `<target>/debug/foyerd` next to the test executable, or the
//! path in `FOYERD_BIN`.
//!
//! The [`browser`] module adds a real headless Chromium, driven over
//! WebDriver, for the tests of the phone web app.
//!
//! The secret-checking routes are rate limited per client address (a burst of
//! 5, then one every 12 s). The whole 127.0.0.0/8 range is loopback on Linux,
//! so a test that needs more attempts makes them from other source addresses
//! with [`Daemon::anon_from`].

pub mod browser;
pub mod lan;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use rand::Rng as _;
pub use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A passphrase the daemon accepts (zxcvbn score ≥ 3, ≥ 10 characters).
pub const PASSPHRASE: &str = "correct horse battery staple";
/// How long a daemon may take to become ready.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a daemon may take to exit after a signal.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound on any single HTTP request made through the harness.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// Locating the binary, ports, small utilities
// ---------------------------------------------------------------------------

/// The `foyerd` binary under test: `$FOYERD_BIN`, else `<target>/debug/foyerd`
/// found from the test executable (`<target>/debug/deps/<test>`).
///
/// Panics with "build it first: cargo build -p foyerd" when it is missing.
pub fn foyerd_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FOYERD_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "FOYERD_BIN={} is not a file; build it first: cargo build -p foyerd",
            p.display()
        );
        return p;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let candidate = exe
        .parent() // deps
        .and_then(Path::parent) // debug (or the profile dir)
        .map(|d| d.join("foyerd"));
    match candidate {
        Some(p) if p.is_file() => p,
        other => panic!(
            "foyerd binary not found (looked for {}); build it first: cargo build -p foyerd",
            other.map_or_else(|| "<none>".to_owned(), |p| p.display().to_string())
        ),
    }
}

static RESERVED_PORTS: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A loopback TCP port that is free now and that no other test of this
/// process was given. Chosen below the kernel's ephemeral range, so that
/// outgoing connections do not take it in the meantime.
pub fn free_port() -> u16 {
    let mut rng = rand::rng();
    for _ in 0..2000 {
        let port: u16 = rng.random_range(20_000..32_000);
        let mut reserved = RESERVED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
        if reserved.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            reserved.insert(port);
            return port;
        }
    }
    panic!("no free loopback port found in 20000..32000");
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::rng().fill(&mut v[..]);
    v
}

/// The DER bytes of the first certificate in a PEM text.
pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .expect("PEM body is base64")
}

/// Every regular file under `dir`, recursively (symlinks are not followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// Scans every file under `dir` (raw bytes) for each needle; returns
/// `"<file>: <label>"` for every hit. Needles are given with a label so that
/// failure messages do not have to print secrets.
pub fn scan_for(dir: &Path, needles: &[(&str, &[u8])]) -> Vec<String> {
    let mut hits = Vec::new();
    for f in files_under(dir) {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        for (label, needle) in needles {
            if !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == *needle) {
                hits.push(format!("{}: {label}", f.display()));
            }
        }
    }
    hits
}

/// Polls `cond` every 50 ms until it holds, at most `timeout`; panics with
/// `what` otherwise.
pub async fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a test's prerequisites are met: `missing` says what is not.
/// Elsewhere a test that cannot run prints `SKIPPED: <what>: <why>` and
/// returns early; under CI (`CI` set) a missing prerequisite is a failure.
pub fn prerequisites_met(what: &str, missing: Option<String>) -> bool {
    match missing {
        None => true,
        Some(why) if std::env::var_os("CI").is_some() => {
            panic!("{what} cannot run under CI: {why}")
        }
        Some(why) => {
            eprintln!("SKIPPED: {what}: {why}");
            false
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------------------
// The daemon
// ---------------------------------------------------------------------------

/// How the daemon is told its data directory and addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `--data-dir`, `--listen`, `--http-listen`, `--no-mdns`.
    Args,
    /// `FOYER_DATA_DIR`, `FOYER_LISTEN`, `FOYER_HTTP_LISTEN`, `FOYER_NO_MDNS`.
    Env,
    /// A TOML file given with `--config` (plus [`Options::config_extra`]).
    ConfigFile,
}

/// How to start a daemon.
#[derive(Debug, Clone)]
pub struct Options {
    pub via: Via,
    /// Extra command-line arguments after `serve ...`.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Extra TOML lines (with [`Via::ConfigFile`]).
    pub config_extra: String,
    /// Listen on this loopback address and these ports (HTTPS, plain HTTP)
    /// instead of 127.0.0.1 and free ports (one try, no retry on a busy port).
    pub bind: Option<(Ipv4Addr, u16, u16)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            via: Via::Args,
            args: Vec::new(),
            env: Vec::new(),
            config_extra: String::new(),
            bind: None,
        }
    }
}

impl Options {
    pub fn args(args: &[&str]) -> Options {
        Options {
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            ..Options::default()
        }
    }
}

/// A running (or stopped) `foyerd serve` with its own data directory and ports.
pub struct Daemon {
    root: Option<tempfile::TempDir>,
    root_path: PathBuf,
    /// `<tmp>/data`.
    pub data_dir: PathBuf,
    /// The loopback address it listens on (127.0.0.1 unless [`Options::bind`]).
    pub ip: Ipv4Addr,
    pub https_port: u16,
    pub http_port: u16,
    opts: Options,
    child: Option<Child>,
    log_path: PathBuf,
    starts: u32,
    ca_pem: String,
    counter: AtomicU64,
}

enum BootError {
    PortTaken(String),
    Failed(String),
}

impl Daemon {
    /// Starts a daemon with the default options and waits until it is ready.
    pub async fn start() -> Daemon {
        Daemon::start_with(Options::default()).await
    }

    /// Starts a daemon with extra command-line arguments.
    pub async fn start_args(args: &[&str]) -> Daemon {
        Daemon::start_with(Options::args(args)).await
    }

    /// Starts a daemon and waits (bounded) until its HTTPS API answers
    /// `/api/health` with a certificate that chains to its own `tls/ca.pem`.
    pub async fn start_with(opts: Options) -> Daemon {
        let root = tempfile::Builder::new()
            .prefix("foyer-e2e-")
            .tempdir()
            .expect("temp dir");
        let root_path = root.path().to_owned();
        let mut d = Daemon {
            data_dir: root_path.join("data"),
            log_path: root_path.join("foyerd.log"),
            root_path,
            root: Some(root),
            ip: Ipv4Addr::LOCALHOST,
            https_port: 0,
            http_port: 0,
            opts,
            child: None,
            starts: 0,
            ca_pem: String::new(),
            counter: AtomicU64::new(0),
        };
        if let Some((ip, https_port, http_port)) = d.opts.bind {
            (d.ip, d.https_port, d.http_port) = (ip, https_port, http_port);
            match d.boot().await {
                Ok(()) => return d,
                Err(BootError::PortTaken(log)) | Err(BootError::Failed(log)) => {
                    panic!("foyerd did not start on {ip}:{https_port}/{http_port}:\n{log}")
                }
            }
        }
        let mut last = String::new();
        for _ in 0..5 {
            d.https_port = free_port();
            d.http_port = free_port();
            match d.boot().await {
                Ok(()) => return d,
                Err(BootError::PortTaken(log)) => last = log,
                Err(BootError::Failed(log)) => {
                    panic!("foyerd did not start:\n{log}")
                }
            }
        }
        panic!("foyerd could not get free ports after 5 tries:\n{last}");
    }

    /// The temporary directory holding the data directory and the log.
    pub fn root(&self) -> &Path {
        &self.root_path
    }

    /// The CA certificate (PEM) the running daemon serves.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// `https://localhost:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.https_port)
    }

    /// `http://127.0.0.1:HTTPPORT` + `path` (the plain listener; its own
    /// address with [`Options::bind`]).
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.ip, self.http_port)
    }

    /// Everything the daemon wrote to stdout/stderr, all starts included.
    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(foyerd_bin());
        cmd.arg("serve");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("FOYER_") {
                cmd.env_remove(k);
            }
        }
        // Whatever supervises the test run is not this daemon's manager.
        for k in [
            "NOTIFY_SOCKET",
            "WATCHDOG_USEC",
            "WATCHDOG_PID",
            "JOURNAL_STREAM",
        ] {
            cmd.env_remove(k);
        }
        cmd.env("RUST_LOG", "info").env("RUST_BACKTRACE", "1");
        let listen = format!("{}:{}", self.ip, self.https_port);
        let http_listen = format!("{}:{}", self.ip, self.http_port);
        match self.opts.via {
            Via::Args => {
                cmd.arg("--data-dir").arg(&self.data_dir).args([
                    "--listen",
                    &listen,
                    "--http-listen",
                    &http_listen,
                    "--no-mdns",
                ]);
            }
            Via::Env => {
                cmd.env("FOYER_DATA_DIR", &self.data_dir)
                    .env("FOYER_LISTEN", &listen)
                    .env("FOYER_HTTP_LISTEN", &http_listen)
                    .env("FOYER_NO_MDNS", "true");
            }
            Via::ConfigFile => {
                let path = self.root_path.join("foyer.toml");
                let text = format!(
                    "data_dir = {:?}\nlisten = \"{listen}\"\nhttp_listen = \"{http_listen}\"\nno_mdns = true\n{}\n",
                    self.data_dir.display().to_string(),
                    self.opts.config_extra
                );
                std::fs::write(&path, text).expect("write config file");
                cmd.arg("--config").arg(path);
            }
        }
        cmd.args(&self.opts.args);
        for (k, v) in &self.opts.env {
            cmd.env(k, v);
        }
        cmd.current_dir(&self.root_path);
        cmd
    }

    async fn boot(&mut self) -> Result<(), BootError> {
        assert!(self.child.is_none(), "foyerd is already running");
        self.starts += 1;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open log file");
        writeln!(
            log,
            "==== e2e: start #{} on https {} / http {} ====",
            self.starts, self.https_port, self.http_port
        )
        .expect("write log");
        let mut cmd = self.command();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("log fd")))
            .stderr(Stdio::from(log));
        self.child = Some(cmd.spawn().expect("spawn foyerd"));

        let plain = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("plain client");
        let ca_file = self.data_dir.join("tls").join("ca.pem");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                let log = self.log();
                let text = format!("foyerd exited during startup with {status}; log:\n{log}");
                let last_start = log.rsplit("==== e2e: start").next().unwrap_or("");
                return Err(
                    if last_start.contains("cannot listen") || last_start.contains("in use") {
                        BootError::PortTaken(text)
                    } else {
                        BootError::Failed(text)
                    },
                );
            }
            if Instant::now() > deadline {
                self.kill_now();
                return Err(BootError::Failed(format!(
                    "foyerd was not ready after {STARTUP_TIMEOUT:?}; log:\n{}",
                    self.log()
                )));
            }
            if let Ok(on_disk) = std::fs::read_to_string(&ca_file)
                && let Ok(resp) = plain.get(self.http_url("/ca.pem")).send().await
                && resp.status() == 200
                && let Ok(served) = resp.text().await
                && served == on_disk
                && on_disk.contains("-----END CERTIFICATE-----")
            {
                self.ca_pem = served;
                if let Ok(resp) = self
                    .client_builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .expect("client")
                    .get(self.url("/api/health"))
                    .send()
                    .await
                    && resp.status() == 200
                {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts the daemon again on the same data directory, ports and options.
    pub async fn restart(&mut self) {
        match self.boot().await {
            Ok(()) => {}
            Err(BootError::PortTaken(log)) | Err(BootError::Failed(log)) => {
                panic!("foyerd did not restart:\n{log}")
            }
        }
    }

    /// Whether the daemon process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().ok().flatten().is_none(),
            None => false,
        }
    }

    /// The daemon's process id.
    pub fn pid(&self) -> Pid {
        let child = self.child.as_ref().expect("foyerd is not running");
        Pid::from_raw(i32::try_from(child.id()).expect("pid fits"))
    }

    /// Sends a signal to the daemon.
    pub fn signal(&self, sig: Signal) {
        signal::kill(self.pid(), sig).expect("send signal");
    }

    /// Waits (bounded) for the daemon to exit and returns its status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut().expect("foyerd is not running");
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                self.kill_now();
                panic!(
                    "foyerd did not exit within {timeout:?}; log:\n{}",
                    tail(&self.log(), 200)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, then waits for the exit: a clean stop.
    pub async fn stop(&mut self) -> ExitStatus {
        self.signal(Signal::SIGTERM);
        self.wait_exit(EXIT_TIMEOUT).await
    }

    /// SIGKILL (no chance to clean up or checkpoint), then reaps the process.
    pub async fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        self.wait_exit(EXIT_TIMEOUT).await;
    }

    fn kill_now(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    // -- clients ------------------------------------------------------------

    /// A reqwest client builder that trusts only the box's CA, refuses plain
    /// HTTP, keeps cookies, uses no proxy and sends `localhost` to 127.0.0.1.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("CA PEM");
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .https_only(true)
            .no_proxy()
            .cookie_store(true)
            .resolve("localhost", SocketAddr::from((self.ip, self.https_port)))
            .connect_timeout(Duration::from_secs(10))
            .timeout(REQUEST_TIMEOUT)
    }

    /// A client with no credentials, connecting from 127.0.0.1.
    pub fn anon(&self) -> Api {
        self.api_with(self.client_builder())
    }

    /// A client with no credentials connecting from 127.0.0.`last` (its own
    /// rate-limit bucket).
    pub fn anon_from(&self, last: u8) -> Api {
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
        self.api_with(self.client_builder().local_address(ip))
    }

    /// An [`Api`] over a client built from `builder`.
    pub fn api_with(&self, builder: reqwest::ClientBuilder) -> Api {
        Api {
            client: builder.build().expect("build client"),
            base: self.url(""),
            credential: Credential::None,
        }
    }

    // -- owner --------------------------------------------------------------

    /// The claim code the daemon wrote (`<data>/claim-code`), trimmed.
    pub fn claim_code(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("claim-code"))
            .unwrap_or_else(|e| panic!("read claim-code: {e}"))
            .trim()
            .to_owned()
    }

    /// Claims the box with [`PASSPHRASE`]; returns the recovery key.
    pub async fn claim(&self) -> String {
        let body = json!({"claim_code": self.claim_code(), "passphrase": PASSPHRASE});
        let v = self.anon().post("/api/setup", &body).await.ok(201);
        v["recovery_key"]
            .as_str()
            .expect("recovery_key is a string")
            .to_owned()
    }

    /// Claims the box and logs in from 127.0.0.1: an owner session.
    pub async fn owner(&self) -> Api {
        self.claim().await;
        self.anon().login(PASSPHRASE).await
    }

    // -- curl ---------------------------------------------------------------

    /// Runs curl against `https://localhost:PORT{path}` with the box's CA,
    /// pinned to 127.0.0.1, no proxy, plus `args`. Bounded to 120 s.
    pub async fn curl(&self, args: &[&str], path: &str) -> CurlOut {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let body_path = self.root_path.join(format!("curl-body-{n}"));
        let ca_path = self.data_dir.join("tls").join("ca.pem");
        let mut cmd = tokio::process::Command::new("curl");
        cmd.args(["-sS", "--noproxy", "*", "--max-time", "100"])
            .arg("--cacert")
            .arg(&ca_path)
            .arg("--resolve")
            .arg(format!("localhost:{}:{}", self.https_port, self.ip))
            .arg("-o")
            .arg(&body_path)
            .args(["-w", "%{http_code} %{http_version}"])
            .args(args)
            .arg(self.url(path))
            .kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
            .await
            .expect("curl timed out")
            .expect("run curl (is it installed?)");
        let body = std::fs::read(&body_path).unwrap_or_default();
        let _ = std::fs::remove_file(&body_path);
        let w = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut parts = w.split_whitespace();
        CurlOut {
            status: parts.next().and_then(|s| s.parse().ok()).unwrap_or(0),
            http_version: parts.next().unwrap_or("").to_owned(),
            body,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            exit_ok: out.status.success(),
        }
    }

    // -- the data directory --------------------------------------------------

    /// Committed blobs: files under `blobs/` outside `blobs/tmp/`.
    pub fn blob_files(&self) -> Vec<PathBuf> {
        let blobs = self.data_dir.join("blobs");
        let tmp = blobs.join("tmp");
        files_under(&blobs)
            .into_iter()
            .filter(|p| !p.starts_with(&tmp))
            .collect()
    }

    /// Temporary (uncommitted) blobs under `blobs/tmp/`.
    pub fn tmp_blobs(&self) -> Vec<PathBuf> {
        files_under(&self.data_dir.join("blobs").join("tmp"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill_now();
        if std::thread::panicking() {
            eprintln!(
                "---- foyerd log ({}), last 300 lines ----\n{}\n---- end of foyerd log ----",
                self.log_path.display(),
                tail(&self.log(), 300)
            );
        }
        if std::env::var_os("FOYER_E2E_KEEP").is_some()
            && let Some(root) = self.root.take()
        {
            eprintln!("keeping {}", root.keep().display());
        }
    }
}

/// What [`Daemon::curl`] saw.
#[derive(Debug)]
pub struct CurlOut {
    /// HTTP status (0 if none).
    pub status: u16,
    /// `1.1`, `2`...
    pub http_version: String,
    pub body: Vec<u8>,
    pub stderr: String,
    pub exit_ok: bool,
}

impl CurlOut {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "curl body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

// ---------------------------------------------------------------------------
// Running foyerd to completion (CLI tests)
// ---------------------------------------------------------------------------

/// What a finished `foyerd` run printed.
#[derive(Debug)]
pub struct RunOut {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `foyerd ARGS` to completion (bounded by [`EXIT_TIMEOUT`]) with the
/// `FOYER_*` environment cleared, plus `env`, in `cwd`.
pub async fn run_foyerd(args: &[OsString], env: &[(&str, &str)], cwd: &Path) -> RunOut {
    let mut cmd = tokio::process::Command::new(foyerd_bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("FOYER_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(EXIT_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("foyerd {args:?} did not exit within {EXIT_TIMEOUT:?}"))
        .expect("run foyerd");
    RunOut {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------------------
// The API client
// ---------------------------------------------------------------------------

/// Who an [`Api`] speaks as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    None,
    /// A session: the cookie is in the client's jar (and kept here), the CSRF
    /// value is sent as `X-CSRF-Token` with every request.
    Session {
        csrf: String,
        cookie: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

/// A client of one daemon's HTTPS API, with a credential.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    /// `https://localhost:PORT`.
    pub base: String,
    pub credential: Credential,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same client with a bearer token instead.
    pub fn bearer(&self, token: &str) -> Api {
        Api {
            credential: Credential::Bearer(token.to_owned()),
            ..self.clone()
        }
    }

    /// The CSRF value of a session credential.
    pub fn csrf(&self) -> &str {
        match &self.credential {
            Credential::Session { csrf, .. } => csrf,
            other => panic!("not a session: {other:?}"),
        }
    }

    /// A request with this credential's headers.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match &self.credential {
            Credential::None => rb,
            Credential::Session { csrf, .. } => rb.header("X-CSRF-Token", csrf),
            Credential::Bearer(t) => rb.bearer_auth(t),
        }
    }

    /// Sends `rb` (describing it as `what` in failures) and reads the whole response.
    pub async fn send(&self, what: String, rb: reqwest::RequestBuilder) -> Resp {
        let resp = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e:?}"));
        Resp::read(what, resp).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(format!("GET {path}"), self.request(Method::GET, path))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(format!("DELETE {path}"), self.request(Method::DELETE, path))
            .await
    }

    /// A request with a JSON body.
    pub async fn json(&self, method: Method, path: &str, body: &Value) -> Resp {
        let what = format!("{method} {path}");
        self.send(what, self.request(method, path).json(body)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.json(Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.json(Method::PUT, path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.json(Method::PATCH, path, body).await
    }

    /// `PUT` of raw bytes (a file upload).
    pub async fn put_bytes(&self, path: &str, bytes: Vec<u8>) -> Resp {
        let rb = self
            .request(Method::PUT, path)
            .header("Content-Type", "application/octet-stream")
            .body(bytes);
        self.send(format!("PUT {path}"), rb).await
    }

    /// `POST /api/session`, raw.
    pub async fn try_login(&self, passphrase: &str) -> Resp {
        self.post("/api/session", &json!({ "passphrase": passphrase }))
            .await
    }

    /// Logs in (expects 200) and returns a session [`Api`] on the same client.
    pub async fn login(&self, passphrase: &str) -> Api {
        let resp = self.try_login(passphrase).await;
        let v = resp.ok(200);
        let csrf = v["csrf"].as_str().expect("csrf is a string").to_owned();
        let set_cookie = resp
            .header("set-cookie")
            .unwrap_or_else(|| panic!("login sets no cookie: {:?}", resp.headers));
        let cookie = set_cookie
            .split(';')
            .next()
            .and_then(|kv| kv.trim().strip_prefix("foyer_session="))
            .unwrap_or_else(|| panic!("no foyer_session cookie in {set_cookie}"))
            .to_owned();
        Api {
            credential: Credential::Session { csrf, cookie },
            ..self.clone()
        }
    }

    /// Creates a token (expects 201); returns a bearer [`Api`] on this client
    /// and the creation answer.
    pub async fn create_token(&self, name: &str, scopes: &[&str]) -> (Api, Value) {
        let v = self
            .post("/api/tokens", &json!({ "name": name, "scopes": scopes }))
            .await
            .ok(201);
        let secret = v["token"].as_str().expect("token is a string");
        (self.bearer(secret), v)
    }
}

/// A whole HTTP response.
#[derive(Debug)]
pub struct Resp {
    /// `METHOD path`, for failure messages.
    pub what: String,
    pub status: u16,
    pub version: reqwest::Version,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub async fn read(what: String, resp: reqwest::Response) -> Resp {
        let status = resp.status().as_u16();
        let version = resp.version();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading the body failed: {e:?}"))
            .to_vec();
        Resp {
            what,
            status,
            version,
            headers,
            body,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// The body as JSON (panics with the body if it is not).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} ({}): body is not JSON ({e}): {}",
                self.what,
                self.status,
                self.text()
            )
        })
    }

    /// Asserts the status.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Resp {
        assert_eq!(
            self.status,
            status,
            "{}: expected {status}, got {}: {}",
            self.what,
            self.status,
            self.text()
        );
        self
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn ok(&self, status: u16) -> Value {
        self.expect(status).json()
    }

    /// Asserts an API error: the status, a JSON content type and the shape
    /// `{"error":{"code","message"}}` with the given code. Returns `error`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        let err = self.expect_any_error(status);
        assert_eq!(
            err["code"].as_str(),
            Some(code),
            "{}: expected error code {code}, got {err}",
            self.what
        );
        err
    }

    /// Asserts an API error with this status, whatever its (snake_case) code.
    /// Returns `error`.
    #[track_caller]
    pub fn expect_any_error(&self, status: u16) -> Value {
        self.expect(status);
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "{}: error with content-type {ct:?}: {}",
            self.what,
            self.text()
        );
        let v = self.json();
        let err = &v["error"];
        let code = err["code"].as_str().unwrap_or("");
        assert!(
            !code.is_empty()
                && code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{}: error code is not snake_case: {v}",
            self.what
        );
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}: error without a message: {v}",
            self.what
        );
        err.clone()
    }
}
