//! Starting, claiming and stopping the real `foyerd` binary on loopback.
//!
//! The daemon listens on 127.0.0.1 only; clients reach
//! `https://localhost:PORT` pinned to 127.0.0.1 (no DNS, no proxy) and trust
//! only the CA the daemon wrote to `<data>/tls/ca.pem`.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use serde_json::{Value, json};

pub const PASSPHRASE: &str = "correct horse battery staple";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(120);
/// Upper bound for one request (a 1 GiB transfer included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(900);

/// A loopback port that is free now (the kernel's choice).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

pub struct Daemon {
    bin: PathBuf,
    pub data_dir: PathBuf,
    pub log_path: PathBuf,
    pub port: u16,
    pub http_port: u16,
    child: Option<Child>,
    client: Option<reqwest::Client>,
    pub token: Option<String>,
}

impl Daemon {
    pub fn new(bin: &Path, data_dir: PathBuf, log_path: PathBuf) -> Result<Daemon> {
        let port = free_port()?;
        let mut http_port = free_port()?;
        while http_port == port {
            http_port = free_port()?;
        }
        Ok(Daemon {
            bin: bin.to_owned(),
            data_dir,
            log_path,
            port,
            http_port,
            child: None,
            client: None,
            token: None,
        })
    }

    pub fn pid(&self) -> Result<u32> {
        self.child
            .as_ref()
            .map(Child::id)
            .ok_or_else(|| anyhow!("foyerd is not running"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    pub fn ca_path(&self) -> PathBuf {
        self.data_dir.join("tls").join("ca.pem")
    }

    /// The HTTPS client of the last start (keep-alive pool).
    pub fn client(&self) -> Result<&reqwest::Client> {
        self.client
            .as_ref()
            .ok_or_else(|| anyhow!("foyerd has not been started"))
    }

    /// A client that trusts only the box CA and reaches localhost:PORT on 127.0.0.1.
    pub fn build_client(&self, ca_pem: &str, pooled: bool) -> Result<reqwest::Client> {
        let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).context("CA PEM")?;
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .https_only(true)
            .no_proxy()
            .resolve(
                "localhost",
                SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            )
            .connect_timeout(Duration::from_secs(10))
            .timeout(REQUEST_TIMEOUT);
        if !pooled {
            b = b.pool_max_idle_per_host(0);
        }
        Ok(b.build()?)
    }

    /// A client that opens a new TCP + TLS connection for every request.
    pub fn unpooled_client(&self) -> Result<reqwest::Client> {
        let pem = std::fs::read_to_string(self.ca_path())?;
        self.build_client(&pem, false)
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Starts `foyerd serve` and waits (bounded) for `GET /api/health` to
    /// answer 200. Returns the time from just before `exec` to that answer.
    ///
    /// On an existing data directory the client is built before the exec
    /// from the CA already on disk; on a fresh one the CA appears during
    /// startup and the client is built as soon as it is complete (a
    /// millisecond or so, counted in the figure).
    pub async fn start(&mut self) -> Result<Duration> {
        if self.child.is_some() {
            bail!("foyerd is already running");
        }
        let ca_path = self.ca_path();
        let mut loaded = std::fs::read_to_string(&ca_path)
            .ok()
            .filter(|p| p.contains("-----END CERTIFICATE-----"))
            .unwrap_or_default();
        let mut client = if loaded.is_empty() {
            None
        } else {
            Some(self.build_client(&loaded, true)?)
        };
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .with_context(|| format!("open {}", self.log_path.display()))?;
        writeln!(log, "==== foyer-bench: start on https {} ====", self.port)?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--http-listen")
            .arg(format!("127.0.0.1:{}", self.http_port))
            .arg("--no-mdns");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("FOYER_") {
                cmd.env_remove(k);
            }
        }
        cmd.env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));

        let t0 = Instant::now();
        self.child = Some(
            cmd.spawn()
                .with_context(|| format!("spawn {}", self.bin.display()))?,
        );
        let health = self.url("/api/health");
        let mut attempt = 0u64;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                bail!(
                    "foyerd exited during startup with {status}; log:\n{}",
                    self.log_tail()
                );
            }
            if t0.elapsed() > START_TIMEOUT {
                self.kill();
                bail!(
                    "foyerd not healthy after {START_TIMEOUT:?}; log:\n{}",
                    self.log_tail()
                );
            }
            if (client.is_none() || attempt % 200 == 199)
                && let Ok(pem) = std::fs::read_to_string(&ca_path)
                && pem.contains("-----END CERTIFICATE-----")
                && pem != loaded
            {
                client = Some(self.build_client(&pem, true)?);
                loaded = pem;
            }
            if let Some(c) = &client
                && let Ok(resp) = c.get(&health).timeout(Duration::from_secs(5)).send().await
                && resp.status() == 200
            {
                let elapsed = t0.elapsed();
                let _ = resp.bytes().await;
                self.client = client;
                return Ok(elapsed);
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Claims the box, logs in and creates an owner token (used from then on).
    pub async fn setup(&mut self) -> Result<()> {
        let claim = std::fs::read_to_string(self.data_dir.join("claim-code"))
            .context("read claim-code")?
            .trim()
            .to_owned();
        let c = self.client()?.clone();
        let r = c
            .post(self.url("/api/setup"))
            .json(&json!({"claim_code": claim, "passphrase": PASSPHRASE}))
            .send()
            .await?;
        expect(r, 201, "POST /api/setup").await?;
        let r = c
            .post(self.url("/api/session"))
            .json(&json!({"passphrase": PASSPHRASE}))
            .send()
            .await?;
        let cookie = r
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("foyer_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("POST /api/session set no foyer_session cookie"))?;
        let v = expect(r, 200, "POST /api/session").await?;
        let csrf = v["csrf"]
            .as_str()
            .ok_or_else(|| anyhow!("no csrf in {v}"))?
            .to_owned();
        let r = c
            .post(self.url("/api/tokens"))
            .header(reqwest::header::COOKIE, cookie)
            .header("X-CSRF-Token", csrf)
            .json(&json!({"name": "bench", "scopes": ["owner"]}))
            .send()
            .await?;
        let v = expect(r, 201, "POST /api/tokens").await?;
        self.token = Some(
            v["token"]
                .as_str()
                .ok_or_else(|| anyhow!("no token in {v}"))?
                .to_owned(),
        );
        Ok(())
    }

    pub fn bearer(&self) -> Result<String> {
        self.token
            .as_ref()
            .map(|t| format!("Bearer {t}"))
            .ok_or_else(|| anyhow!("no token: call setup first"))
    }

    /// SIGTERM, then waits (bounded) for the exit. Returns the stop time.
    pub async fn stop(&mut self) -> Result<(Duration, ExitStatus)> {
        let pid = self.pid()?;
        let t0 = Instant::now();
        signal::kill(Pid::from_raw(pid as i32), Signal::SIGTERM)?;
        loop {
            let child = self
                .child
                .as_mut()
                .ok_or_else(|| anyhow!("foyerd is not running"))?;
            if let Some(status) = child.try_wait()? {
                self.child = None;
                self.client = None;
                return Ok((t0.elapsed(), status));
            }
            if t0.elapsed() > STOP_TIMEOUT {
                self.kill();
                bail!("foyerd did not stop within {STOP_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.client = None;
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Checks the status of a response and returns its JSON body.
pub async fn expect(resp: reqwest::Response, status: u16, what: &str) -> Result<Value> {
    let got = resp.status().as_u16();
    let text = resp.text().await?;
    if got != status {
        bail!("{what}: expected {status}, got {got}: {text}");
    }
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: body is not JSON: {text}"))
}
