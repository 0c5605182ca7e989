//! foyerd under a (stand-in) systemd: the real binary with `NOTIFY_SOCKET`
//! pointing at a datagram socket this test bound, as systemd's does.
//!
//! - `READY=1` comes once the box serves: at that moment the plain listener
//!   gives the CA and `GET /api/health` answers over HTTPS, first try;
//!   `STATUS=` lines come before it (start stages) and with it (`ready:
//!   foyer-XXXX, unclaimed`, no secret);
//! - with `WATCHDOG_USEC`, `WATCHDOG=1` comes every half interval; a stopped
//!   process (SIGSTOP) sends none, and pings resume on SIGCONT; a
//!   `WATCHDOG_PID` naming another process turns them off;
//! - SIGTERM sends `STOPPING=1`, and the exit status is 0;
//! - with stderr connected to the journal (`JOURNAL_STREAM`), log lines carry
//!   syslog priority prefixes, no timestamps and no colours, and never the
//!   claim code.
//!
//! No timing is asserted beyond generous bounds.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use foyer_e2e::{Daemon, EXIT_TIMEOUT, Options, foyerd_bin, free_port, wait_until};
use nix::sys::signal::Signal;
use serde_json::Value;

/// Everything received on the notify socket, in order.
#[derive(Clone, Default)]
struct Notifications {
    messages: Arc<Mutex<Vec<String>>>,
    /// What `GET /api/health` answered when asked right on `READY=1`.
    probe: Arc<Mutex<Option<Result<Value, String>>>>,
}

impl Notifications {
    /// Binds `<dir>/notify` and collects datagrams until the test ends. On
    /// `READY=1`, asks the box at once (CA from the plain port, then health
    /// over HTTPS with it).
    fn listen(dir: &Path, ports: (u16, u16)) -> (Notifications, std::path::PathBuf) {
        let path = dir.join("notify");
        let socket = tokio::net::UnixDatagram::bind(&path).expect("bind the notify socket");
        let n = Notifications::default();
        let collector = n.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok(len) = socket.recv(&mut buf).await else {
                    return;
                };
                let text = String::from_utf8_lossy(&buf[..len]).into_owned();
                let ready = text.lines().any(|l| l == "READY=1");
                collector.messages.lock().expect("lock").push(text);
                if ready {
                    let answer = probe(ports).await;
                    *collector.probe.lock().expect("lock") = Some(answer);
                }
            }
        });
        (n, path)
    }

    fn all(&self) -> Vec<String> {
        self.messages.lock().expect("lock").clone()
    }

    fn len(&self) -> usize {
        self.messages.lock().expect("lock").len()
    }

    /// Lines (`KEY=value`) of the messages from index `from` on.
    fn lines_since(&self, from: usize) -> Vec<String> {
        self.all()[from..]
            .iter()
            .flat_map(|m| m.lines().map(str::to_owned).collect::<Vec<_>>())
            .collect()
    }

    fn count_since(&self, from: usize, line: &str) -> usize {
        self.lines_since(from).iter().filter(|l| *l == line).count()
    }
}

/// The CA from the plain listener, then `/api/health` over HTTPS verified
/// with it: one try each, as a unit ordered after foyerd would.
async fn probe((https_port, http_port): (u16, u16)) -> Result<Value, String> {
    let plain = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let pem = plain
        .get(format!("http://127.0.0.1:{http_port}/ca.pem"))
        .send()
        .await
        .map_err(|e| format!("plain listener: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let ca = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .no_proxy()
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], https_port)),
        )
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client
        .get(format!("https://localhost:{https_port}/api/health"))
        .send()
        .await
        .map_err(|e| format!("health: {e}"))?;
    if resp.status() != 200 {
        return Err(format!("health answered {}", resp.status()));
    }
    resp.json().await.map_err(|e| e.to_string())
}

fn options(socket: &Path, ports: (u16, u16), extra_env: &[(&str, &str)]) -> Options {
    let mut env = vec![(
        "NOTIFY_SOCKET".to_owned(),
        socket.to_string_lossy().into_owned(),
    )];
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Options {
        env,
        bind: Some((std::net::Ipv4Addr::LOCALHOST, ports.0, ports.1)),
        ..Options::default()
    }
}

#[tokio::test]
async fn ready_status_watchdog_and_stopping() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ports = (free_port(), free_port());
    let (n, socket) = Notifications::listen(dir.path(), ports);
    let mut d = Daemon::start_with(options(&socket, ports, &[("WATCHDOG_USEC", "1000000")])).await;

    // READY=1, and the box answered right then.
    wait_until("READY=1 and the probe", Duration::from_secs(30), || {
        n.probe.lock().expect("lock").is_some()
    })
    .await;
    let health = n
        .probe
        .lock()
        .expect("lock")
        .clone()
        .expect("probed")
        .unwrap_or_else(|e| panic!("the box did not serve at READY=1: {e}"));
    let name = health["name"].as_str().expect("name").to_owned();

    // STATUS lines: start stages before READY, the ready line with it.
    let messages = n.all();
    let ready_at = messages
        .iter()
        .position(|m| m.lines().any(|l| l == "READY=1"))
        .expect("READY=1");
    assert!(
        messages[..ready_at]
            .iter()
            .any(|m| m.lines().any(|l| l.starts_with("STATUS=starting: "))),
        "no start stage before READY=1: {messages:?}"
    );
    assert!(
        messages[ready_at]
            .lines()
            .any(|l| l == format!("STATUS=ready: {name}, unclaimed")),
        "READY=1 without the ready status: {:?}",
        messages[ready_at]
    );
    let code = d.claim_code();
    assert!(
        messages.iter().all(|m| !m.contains(&code)),
        "the claim code went to systemd"
    );

    // Pings, every half second.
    let before = n.len();
    wait_until("three WATCHDOG=1", Duration::from_secs(20), || {
        n.count_since(before, "WATCHDOG=1") >= 3
    })
    .await;

    // The status route tells the watchdog's interval.
    let owner = d.owner().await;
    let status = owner.get("/api/system/status").await.ok(200);
    assert_eq!(status["watchdog"]["enabled"], true, "{status}");
    assert_eq!(status["watchdog"]["interval_ms"], 1000, "{status}");
    // Claiming shows in the status line.
    wait_until("the claimed status line", Duration::from_secs(10), || {
        n.lines_since(ready_at)
            .contains(&format!("STATUS=ready: {name}, claimed"))
    })
    .await;

    // A stopped process does not ping...
    d.signal(Signal::SIGSTOP);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = n.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = n.count_since(stopped, "WATCHDOG=1");
    // ...and pings again once it runs (resume before asserting, so that a
    // failure does not leave a stopped process behind).
    d.signal(Signal::SIGCONT);
    assert_eq!(during, 0, "WATCHDOG=1 from a stopped process");
    let resumed = n.len();
    wait_until("WATCHDOG=1 after SIGCONT", Duration::from_secs(20), || {
        n.count_since(resumed, "WATCHDOG=1") >= 2
    })
    .await;

    // SIGTERM: STOPPING=1, then a clean exit.
    let before_stop = n.len();
    let status = d.stop().await;
    assert_eq!(status.code(), Some(0), "{status}");
    wait_until("STOPPING=1", Duration::from_secs(10), || {
        n.count_since(before_stop, "STOPPING=1") == 1
    })
    .await;
}

#[tokio::test]
async fn a_watchdog_meant_for_another_process_is_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ports = (free_port(), free_port());
    let (n, socket) = Notifications::listen(dir.path(), ports);
    // WATCHDOG_PID names a process that is not foyerd (pid 1).
    let d = Daemon::start_with(options(
        &socket,
        ports,
        &[("WATCHDOG_USEC", "1000000"), ("WATCHDOG_PID", "1")],
    ))
    .await;
    wait_until("READY=1", Duration::from_secs(30), || {
        n.count_since(0, "READY=1") == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(n.count_since(0, "WATCHDOG=1"), 0, "{:?}", n.all());
    let owner = d.owner().await;
    let status = owner.get("/api/system/status").await.ok(200);
    assert_eq!(status["watchdog"]["enabled"], false, "{status}");
    assert!(status["watchdog"].get("interval_ms").is_none(), "{status}");
}

/// Runs `foyerd serve` with stderr (and stdout) into `log`, `env` added,
/// until it is ready; stops it with SIGTERM; returns the log.
async fn run_with_log(root: &Path, log: std::fs::File, env: &[(&str, String)]) -> String {
    let mut cmd = tokio::process::Command::new(foyerd_bin());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("FOYER_") || k == "NOTIFY_SOCKET" || k.starts_with("WATCHDOG_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(root.join("data"))
        .args([
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--http-listen",
            &format!("127.0.0.1:{}", free_port()),
            "--no-mdns",
        ])
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log fd"))
        .stderr(log)
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn foyerd");
    let log_path = root.join("foyerd.log");
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !read().contains("foyerd is ready") {
        assert!(Instant::now() < deadline, "foyerd not ready:\n{}", read());
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "foyerd exited:\n{}",
            read()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = nix::unistd::Pid::from_raw(child.id().expect("pid") as i32);
    nix::sys::signal::kill(pid, Signal::SIGTERM).expect("SIGTERM");
    let status = tokio::time::timeout(EXIT_TIMEOUT, child.wait())
        .await
        .expect("foyerd exits")
        .expect("wait");
    assert_eq!(status.code(), Some(0), "{status}\n{}", read());
    read()
}

#[tokio::test]
async fn logs_to_the_journal_stream_with_priorities() {
    let root = tempfile::tempdir().expect("temp dir");
    let log = std::fs::File::create(root.path().join("foyerd.log")).expect("log");
    let meta = log.metadata().expect("meta");
    // What systemd sets when stderr is its journal stream: that file's
    // device and inode.
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    let text = run_with_log(root.path(), log, &[("JOURNAL_STREAM", stream)]).await;

    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty());
    for l in &lines {
        let prio = l
            .strip_prefix('<')
            .and_then(|r| r.split_once('>'))
            .map(|(p, _)| p);
        assert!(
            matches!(prio, Some("3" | "4" | "6" | "7")),
            "no priority prefix: {l:?}"
        );
        let body = &l[3..];
        assert!(
            !body.starts_with(|c: char| c.is_ascii_digit()),
            "a timestamp: {l:?}"
        );
        assert!(!l.contains('\u{1b}'), "ANSI colours: {l:?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>") && l.contains("foyerd is ready")),
        "{text}"
    );
    let code = std::fs::read_to_string(root.path().join("data/claim-code")).expect("claim-code");
    assert!(!text.contains(code.trim()), "the claim code is in the log");

    // Another stream (stderr redirected elsewhere): the usual format.
    let root2 = tempfile::tempdir().expect("temp dir");
    let log2 = std::fs::File::create(root2.path().join("foyerd.log")).expect("log");
    let text2 = run_with_log(
        root2.path(),
        log2,
        &[("JOURNAL_STREAM", stream_of_nothing())],
    )
    .await;
    let ready = text2
        .lines()
        .find(|l| l.contains("foyerd is ready"))
        .expect("ready line");
    assert!(
        ready.starts_with(|c: char| c.is_ascii_digit()) || ready.starts_with('\u{1b}'),
        "expected a timestamped line: {ready:?}"
    );
}

/// A `JOURNAL_STREAM` that names no stream of the child.
fn stream_of_nothing() -> String {
    "1:1".to_owned()
}
