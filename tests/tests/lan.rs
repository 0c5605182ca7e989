//! The box on a LAN, for real: `foyerd` runs in one network namespace (the
//! box), and an independent mDNS implementation (python-zeroconf, and
//! dnspython for one-shot A/AAAA queries) runs in another (the phone), joined by a veth
//! pair that the test creates. No traffic leaves the two namespaces: their
//! addresses are in 198.18.0.0/15 (the range reserved for network tests) and
//! a unique-local IPv6 prefix, with no route anywhere else.
//!
//! Needs root (namespaces), `ip`, `/usr/bin/python3` with `zeroconf` and
//! `dnspython`, and `curl` (`.ci/run` installs them). Elsewhere the tests print why they
//! did not run; under CI (`CI=true`) a missing prerequisite is a failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use foyer_e2e::lan::{BOX_V4, BOX_V6, Lan, PHONE_V4, Proc};
use foyer_e2e::{foyerd_bin, sha256_hex};
use serde_json::Value;

const HTTPS_PORT: u16 = 8443;
const HTTP_PORT: u16 = 8080;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lan/mdns_browse.py")
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// Why the LAN tests cannot run here, if they cannot.
fn missing_prerequisite() -> Option<String> {
    if !nix_is_root() {
        return Some("not root (network namespaces need it)".into());
    }
    for (what, cmd) in [
        ("ip", vec!["ip", "-V"]),
        ("curl", vec!["curl", "--version"]),
        (
            "python3-zeroconf and python3-dnspython",
            vec!["/usr/bin/python3", "-c", "import zeroconf, dns.message"],
        ),
    ] {
        let ok = Command::new(cmd[0])
            .args(&cmd[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Some(format!("{what} is not installed"));
        }
    }
    None
}

fn nix_is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Returns false (after saying why) when the test cannot run here.
fn can_run() -> bool {
    match missing_prerequisite() {
        None => true,
        Some(why) if std::env::var_os("CI").is_some() => {
            panic!("LAN test cannot run under CI: {why}")
        }
        Some(why) => {
            eprintln!("SKIPPED: LAN test: {why}");
            false
        }
    }
}

/// Starts `foyerd serve` in the box namespace on all its addresses.
fn start_box(lan: &Lan, data: &Path) -> (Proc, SystemTime) {
    let log = std::fs::File::create(data.with_extension("log")).expect("log file");
    let started = SystemTime::now();
    let child = lan
        .command(&lan.box_ns, &foyerd_bin())
        .arg("serve")
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", &format!("0.0.0.0:{HTTPS_PORT}")])
        .args(["--http-listen", &format!("0.0.0.0:{HTTP_PORT}")])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn foyerd");
    (Proc(child), started)
}

fn box_log(data: &Path) -> String {
    std::fs::read_to_string(data.with_extension("log")).unwrap_or_default()
}

/// Runs the independent browser in the phone namespace; returns its events.
fn browse(lan: &Lan, args: &[&str]) -> (bool, Vec<Value>) {
    let out = run(lan
        .command(&lan.phone_ns, Path::new("/usr/bin/python3"))
        .arg(script())
        .args(args));
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (out.status.success(), events)
}

fn resolved<'a>(events: &'a [Value], ty: &str) -> &'a Value {
    events
        .iter()
        .rev()
        .find(|e| e["event"] == "resolved" && e["type"] == ty)
        .unwrap_or_else(|| panic!("{ty} not resolved; events: {events:?}"))
}

/// One-shot (legacy unicast) mDNS query, as simple resolvers ask.
fn query(lan: &Lan, name: &str, rtype: &str) -> Vec<String> {
    let out = run(lan
        .command(&lan.phone_ns, Path::new("/usr/bin/python3"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("lan/mdns_query.py"))
        .args([name, rtype, PHONE_V4]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn curl(lan: &Lan, args: &[&str]) -> (bool, String) {
    let out = run(lan
        .command(&lan.phone_ns, Path::new("curl"))
        .args(["-sS", "--max-time", "10", "--fail-with-body"])
        .args(args));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The phone downloads the box CA from the plain-HTTP port, as a person
/// does before trusting it; returns where it put it (`dir/phone-ca.pem`).
fn phone_fetches_ca(lan: &Lan, dir: &Path) -> PathBuf {
    let path = dir.join("phone-ca.pem");
    let (fetched, text) = curl(
        lan,
        &[
            "-o",
            path.to_str().expect("utf-8 path"),
            &format!("http://{BOX_V4}:{HTTP_PORT}/ca.pem"),
        ],
    );
    assert!(fetched, "{text}");
    path
}

fn hostname_of(device_id: &str) -> String {
    format!("foyer-{}", &sha256_hex(device_id.as_bytes())[..4])
}

fn secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[test]
fn a_phone_finds_the_box_by_name_and_verifies_its_certificate() {
    if !can_run() {
        return;
    }
    let lan = Lan::create("a");
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("var");

    // The phone is already listening when the box is plugged in.
    let browser = lan
        .command(&lan.phone_ns, Path::new("/usr/bin/python3"))
        .arg(script())
        .arg("30")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("browser");
    let browser = Proc(browser);
    std::thread::sleep(Duration::from_millis(300));
    let (mut foyerd, started) = start_box(&lan, &data);
    let mut events = Vec::new();
    let mut child = browser;
    if let Some(out) = child.0.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                events.push(v);
            }
        }
    }
    let status = child.0.wait().expect("browser exit");
    assert!(
        status.success(),
        "the browser did not resolve both services in 30 s; events {events:?}\nbox log:\n{}",
        box_log(&data)
    );

    let foyer = resolved(&events, "_foyer._tcp.local.");
    let https = resolved(&events, "_https._tcp.local.");
    let first = events
        .iter()
        .filter(|e| e["event"] == "resolved")
        .filter_map(|e| e["t"].as_f64())
        .fold(f64::MAX, f64::min);
    println!(
        "mdns_first_answer_ms={:.0} (foyerd exec → the other namespace's browser resolved the first service)",
        (first - secs(started)) * 1000.0
    );

    // Names, port, addresses and TXT keys of DESIGN.md §4.
    let device_id = std::fs::read_to_string(data.join("device-id")).expect("device-id");
    let host = hostname_of(device_id.trim());
    for svc in [foyer, https] {
        assert_eq!(svc["server"], format!("{host}.local."), "{svc}");
        assert_eq!(svc["port"], HTTPS_PORT, "{svc}");
        let addrs: Vec<&str> = svc["addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(addrs.contains(&BOX_V4), "{addrs:?}");
        assert!(!addrs.iter().any(|a| a.starts_with("127.")), "{addrs:?}");
        let txt = &svc["txt"];
        assert_eq!(txt["id"], device_id.trim(), "{txt}");
        assert_eq!(txt["version"], env!("CARGO_PKG_VERSION"), "{txt}");
        assert_eq!(txt["claimed"], "no", "{txt}");
        assert_eq!(txt["path"], "/", "{txt}");
        assert_eq!(txt["ca"].as_str().map(str::len), Some(64), "{txt}");
    }
    let fingerprint = foyer["txt"]["ca"].as_str().expect("ca").to_owned();

    // A and AAAA, asked the way a one-shot resolver asks.
    let name = format!("{host}.local");
    assert_eq!(query(&lan, &name, "A"), vec![BOX_V4.to_owned()]);
    let aaaa = query(&lan, &name, "AAAA");
    assert!(aaaa.iter().any(|a| a == BOX_V6), "AAAA answers: {aaaa:?}");

    // The CA from the plain-HTTP port matches the fingerprint the LAN announced…
    let ca_path = phone_fetches_ca(&lan, tmp.path());
    let pem = std::fs::read_to_string(&ca_path).expect("ca");
    assert_eq!(sha256_hex(&foyer_e2e::pem_to_der(&pem)), fingerprint);

    // …and verifies the box, reached by its .local name at the announced address.
    let resolve = format!("{name}:{HTTPS_PORT}:{BOX_V4}");
    let (reached, body) = curl(
        &lan,
        &[
            "--cacert",
            ca_path.to_str().expect("utf-8 path"),
            "--resolve",
            &resolve,
            &format!("https://{name}:{HTTPS_PORT}/api/health"),
        ],
    );
    assert!(reached, "{body}");
    let health: Value = serde_json::from_str(&body).expect("health json");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["name"], host);
    assert_eq!(health["ca_fingerprint"], fingerprint);

    // Claiming the box updates the TXT record.
    let code = std::fs::read_to_string(data.join("claim-code")).expect("claim code");
    let body = format!(
        "{{\"claim_code\":\"{}\",\"passphrase\":\"correct horse battery staple\"}}",
        code.trim()
    );
    let (claimed, text) = curl(
        &lan,
        &[
            "--cacert",
            ca_path.to_str().expect("utf-8 path"),
            "--resolve",
            &resolve,
            "-H",
            "content-type: application/json",
            "-d",
            &body,
            &format!("https://{name}:{HTTPS_PORT}/api/setup"),
        ],
    );
    assert!(claimed, "{text}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, events) = browse(&lan, &["8"]);
        let now_claimed = events
            .iter()
            .any(|e| e["event"] == "resolved" && e["txt"]["claimed"] == "yes");
        if now_claimed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "TXT still says unclaimed: {events:?}"
        );
    }

    // Goodbye: a browser watching sees both services leave when the box stops.
    let watcher = lan
        .command(&lan.phone_ns, Path::new("/usr/bin/python3"))
        .arg(script())
        .args(["15", "--watch-removal", "15"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("watcher");
    let mut watcher = Proc(watcher);
    let out = watcher.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines().map_while(Result::ok);
    let mut seen = std::collections::BTreeSet::new();
    for line in lines.by_ref() {
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["event"] == "resolved"
        {
            seen.insert(v["type"].as_str().unwrap_or_default().to_owned());
            if seen.len() == 2 {
                break;
            }
        }
    }
    assert_eq!(
        seen.len(),
        2,
        "the watcher did not see both services: {seen:?}"
    );
    nix::sys::signal::kill(foyerd.pid(), nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let removed: Vec<String> = lines.filter(|l| l.contains("\"removed\"")).collect();
    let status = watcher.0.wait().expect("watcher exit");
    assert!(
        status.success(),
        "goodbye not seen for both services: {removed:?}\nbox log:\n{}",
        box_log(&data)
    );
    let exit = foyerd.0.wait().expect("foyerd exit");
    assert!(exit.success(), "foyerd exit {exit:?}\n{}", box_log(&data));
    assert!(box_log(&data).contains("said goodbye"));
}

#[test]
fn a_name_taken_on_the_lan_becomes_dash_2_and_the_certificate_follows() {
    if !can_run() {
        return;
    }
    let lan = Lan::create("b");
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("var");
    std::fs::create_dir_all(&data).expect("data dir");
    // A known identity, so the test knows the name before the box starts.
    let device_id = "00112233445566778899aabbccddeeff";
    std::fs::write(data.join("device-id"), format!("{device_id}\n")).expect("device-id");
    let host = hostname_of(device_id);

    // Another Foyer box whose name collides is already on the LAN (here: in
    // the phone's namespace, with the same identity, so the same name).
    let other_data = tmp.path().join("other");
    std::fs::create_dir_all(&other_data).expect("other data dir");
    std::fs::copy(data.join("device-id"), other_data.join("device-id")).expect("copy id");
    let other_log = std::fs::File::create(tmp.path().join("other.log")).expect("log");
    let _other = Proc(
        lan.command(&lan.phone_ns, &foyerd_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(&other_data)
            .args(["--listen", &format!("0.0.0.0:{HTTPS_PORT}")])
            .args(["--http-listen", &format!("0.0.0.0:{HTTP_PORT}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(other_log)
            .spawn()
            .expect("spawn the other box"),
    );
    let (ok, events) = browse(&lan, &["20", "--server", &format!("{host}.local.")]);
    assert!(ok, "the first box never announced itself: {events:?}");

    let (_foyerd, _) = start_box(&lan, &data);
    let renamed = format!("{host}-2.local.");
    let (ok, events) = browse(&lan, &["30", "--server", &renamed]);
    assert!(
        ok,
        "the box was not renamed to {renamed}: {events:?}\nbox log:\n{}",
        box_log(&data)
    );
    let found = resolved(&events, "_foyer._tcp.local.");
    let addrs = found["addresses"].to_string();
    assert!(addrs.contains(BOX_V4), "{addrs}");

    // The server certificate is re-issued for the new name without a restart.
    let ca_path = phone_fetches_ca(&lan, tmp.path());
    let name = format!("{host}-2.local");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (reached, body) = curl(
            &lan,
            &[
                "--cacert",
                ca_path.to_str().expect("utf-8 path"),
                "--resolve",
                &format!("{name}:{HTTPS_PORT}:{BOX_V4}"),
                &format!("https://{name}:{HTTPS_PORT}/api/health"),
            ],
        );
        if reached {
            assert!(body.contains("\"status\":\"ok\""), "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never verified: {body}\nbox log:\n{}",
            box_log(&data)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(box_log(&data).contains("name conflict"));

    // What the box tells phones (the trust page here; the pairing QR and
    // `GET /api/box` take the same name) is the name it answers to now.
    let (fetched, page) = curl(&lan, &[&format!("http://{BOX_V4}:{HTTP_PORT}/trust")]);
    assert!(fetched, "{page}");
    assert!(page.contains(&format!("<strong>{name}</strong>")), "{page}");
}

/// An address that appears on the box's interface after start (DHCP renewal,
/// a second network) is answered by mDNS and covered by a re-issued server
/// certificate, without a restart.
#[test]
fn a_new_address_is_announced_and_certified_without_a_restart() {
    if !can_run() {
        return;
    }
    let lan = Lan::create("c");
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("var");
    std::fs::create_dir_all(&data).expect("data dir");
    let device_id = "ffeeddccbbaa99887766554433221100";
    std::fs::write(data.join("device-id"), format!("{device_id}\n")).expect("device-id");
    let name = format!("{}.local", hostname_of(device_id));
    let (_foyerd, _) = start_box(&lan, &data);
    let wait = |what: &str, mut cond: Box<dyn FnMut() -> bool + '_>| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cond() {
            assert!(
                Instant::now() < deadline,
                "{what} within 20 s\nbox log:\n{}",
                box_log(&data)
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    wait(
        "the box answers for its name",
        Box::new(|| query(&lan, &name, "A") == vec![BOX_V4.to_owned()]),
    );

    // A unique-local IPv6 address: one the box CA may vouch for (198.18/15,
    // the test range of the IPv4 addresses here, is not a LAN range).
    const NEW_V6: &str = "fd66:6f79:6572::3";
    lan.exec(
        &lan.box_ns,
        &[
            "ip",
            "-6",
            "addr",
            "add",
            &format!("{NEW_V6}/64"),
            "dev",
            &lan.box_dev,
            "nodad",
        ],
    );
    wait(
        "the new address is answered",
        Box::new(|| query(&lan, &name, "AAAA").iter().any(|a| a == NEW_V6)),
    );

    let ca_path = phone_fetches_ca(&lan, tmp.path());
    // By the new address itself (an IP in the certificate), verified.
    wait(
        "the certificate covers the new address",
        Box::new(|| {
            curl(
                &lan,
                &[
                    "--cacert",
                    ca_path.to_str().expect("utf-8 path"),
                    &format!("https://[{NEW_V6}]:{HTTPS_PORT}/api/health"),
                ],
            )
            .0
        }),
    );
    assert!(box_log(&data).contains("server certificate was renewed"));
}
