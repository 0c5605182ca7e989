//! What the box tells people outside the web app, through the real binary:
//!
//! - the console text (`--console-issue FILE`, `console_issue` in the TOML
//!   file): mode 0644, the box's name, its URLs, the CA fingerprint and one
//!   `Claim code: <code>` line while unclaimed, rewritten without the code
//!   once the box is claimed, and rewritten when a LAN address appears
//!   (in a network namespace, as root);
//! - on the default ports (HTTPS 443, HTTP 80, on a loopback address of its
//!   own, as root), no URL the box builds says `:443` or `:80`: the
//!   plain-HTTP redirects, the trust page, `/api/box`, pairing links and the
//!   console text.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use foyer_e2e::lan::{BOX_V6, Lan, Proc};
use foyer_e2e::{Daemon, Options, Via, foyerd_bin, prerequisites_met, wait_until};
use serde_json::{Value, json};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The grouped fingerprint as the console prints it, joined back.
fn console_fingerprint(text: &str) -> String {
    text.lines()
        .skip_while(|l| *l != "CA fingerprint (SHA-256):")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(":")
}

fn grouped(hex_fp: &str) -> String {
    hex_fp
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

#[tokio::test]
async fn the_console_shows_the_claim_code_until_the_box_is_claimed() {
    // A relative path: the daemon runs in the test's temporary directory.
    let d = Daemon::start_args(&["--console-issue", "issue"]).await;
    let issue = d.root().join("issue");
    // The servers are spawned just before the text is first written: the
    // API may answer a moment before the file exists.
    wait_until("the console text", Duration::from_secs(10), || {
        issue.exists()
    })
    .await;
    let health = d.anon().get("/api/health").await.ok(200);
    let name = health["name"].as_str().expect("name");
    let text = read(&issue);

    let mode = std::fs::metadata(&issue)
        .expect("issue")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644, "mode {mode:o}");
    assert!(text.starts_with(&format!("Foyer box {name}\n")), "{text}");
    // Listening on one address: that address, and the name.
    for url in [
        format!("https://{name}.local:{}/", d.https_port),
        format!("https://127.0.0.1:{}/", d.https_port),
    ] {
        assert!(
            text.contains(&format!("\n  {url}\n")),
            "{url} missing:\n{text}"
        );
    }
    assert_eq!(
        console_fingerprint(&text),
        grouped(health["ca_fingerprint"].as_str().expect("fp"))
    );
    let code = d.claim_code();
    let claim_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("Claim code:"))
        .collect();
    assert_eq!(claim_lines, [format!("Claim code: {code}")], "{text}");
    assert!(!text.contains('\\'), "{text}");

    d.claim().await;
    wait_until(
        "the console text without the code",
        Duration::from_secs(15),
        || read(&issue).contains("\nThis box is claimed.\n"),
    )
    .await;
    let text = read(&issue);
    assert!(!text.contains("Claim code"), "{text}");
    assert!(!text.contains(&code), "{text}");
    assert!(text.starts_with(&format!("Foyer box {name}\n")), "{text}");
    assert!(
        !d.log().contains("cannot write the console text"),
        "a write failed:\n{}",
        d.log()
    );
}

/// A loopback address of this test's own on which the default ports are
/// free, or why there is none (binding below 1024 needs root).
fn default_ports_address() -> Result<Ipv4Addr, String> {
    let mut last = String::new();
    for _ in 0..20 {
        let ip = Ipv4Addr::new(
            127,
            rand::random_range(1..255),
            rand::random(),
            rand::random_range(1..255),
        );
        match (
            std::net::TcpListener::bind((ip, 443)),
            std::net::TcpListener::bind((ip, 80)),
        ) {
            (Ok(_), Ok(_)) => return Ok(ip),
            (Err(e), _) | (_, Err(e)) => last = format!("cannot bind {ip}:443 and :80: {e}"),
        }
    }
    Err(last)
}

#[tokio::test]
async fn default_ports_never_appear_in_urls() {
    let ip = match default_ports_address() {
        Ok(ip) => ip,
        Err(why) => {
            if prerequisites_met("default ports test", Some(why)) {
                unreachable!()
            }
            return;
        }
    };
    let d = Daemon::start_with(Options {
        via: Via::ConfigFile,
        config_extra: "console_issue = \"issue\"\n".into(),
        bind: Some((ip, 443, 80)),
        ..Options::default()
    })
    .await;
    let owner = d.owner().await;
    let health = d.anon().get("/api/health").await.ok(200);
    let local = format!("{}.local", health["name"].as_str().expect("name"));

    // Plain HTTP: redirects keep the host the browser used, without a port.
    let plain = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let redirect = |host: Option<&'static str>| {
        let mut rb = plain.get(format!("http://{ip}/files/a?b=1"));
        if let Some(h) = host {
            rb = rb.header("Host", h);
        }
        async move {
            let resp = rb.send().await.expect("plain request");
            assert_eq!(resp.status(), 308);
            resp.headers()["location"]
                .to_str()
                .expect("ascii")
                .to_owned()
        }
    };
    assert_eq!(redirect(None).await, format!("https://{ip}/files/a?b=1"));
    assert_eq!(
        redirect(Some("foyer-zz99.local:80")).await,
        "https://foyer-zz99.local/files/a?b=1"
    );
    let trust = plain
        .get(format!("http://{ip}/trust"))
        .send()
        .await
        .expect("trust page")
        .text()
        .await
        .expect("text");
    assert!(
        trust.contains(&format!("href=\"https://{ip}/\"")),
        "{trust}"
    );

    // The API's URLs.
    let boxinfo = owner.get("/api/box").await.ok(200);
    assert_eq!(boxinfo["https_url"], format!("https://{local}/"));
    assert_eq!(boxinfo["http_url"], format!("http://{local}/"));
    let pairing = owner.post("/api/pairing", &json!({})).await.ok(201);
    let url = pairing["url"].as_str().expect("url");
    assert!(url.starts_with(&format!("https://{local}/#pair=")), "{url}");
    if let Some(by_address) = pairing["address_url"].as_str() {
        assert!(!by_address.contains(":443"), "{by_address}");
    }

    // The console.
    let text = read(&d.root().join("issue"));
    assert!(text.contains(&format!("\n  https://{local}/\n")), "{text}");
    assert!(text.contains(&format!("\n  https://{ip}/\n")), "{text}");

    for (what, body) in [
        ("trust page", trust),
        ("/api/box", boxinfo.to_string()),
        ("pairing", without_svg(pairing)),
        ("console", text),
    ] {
        assert!(
            !body.contains(":443") && !body.contains(":80/"),
            "{what} names a default port:\n{body}"
        );
    }
}

fn without_svg(mut v: Value) -> String {
    if let Some(o) = v.as_object_mut() {
        o.retain(|k, _| !k.ends_with("_svg"));
    }
    v.to_string()
}

#[test]
fn the_console_follows_a_new_lan_address() {
    let missing = if !nix::unistd::geteuid().is_root() {
        Some("not root (network namespaces need it)".to_owned())
    } else if !std::process::Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        Some("iproute2 (ip) is not installed".to_owned())
    } else {
        None
    };
    if !prerequisites_met("console address test", missing) {
        return;
    }
    let lan = Lan::create("k");
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("var");
    let issue = tmp.path().join("issue");
    let log = std::fs::File::create(tmp.path().join("foyerd.log")).expect("log");
    let _foyerd = Proc(
        lan.command(&lan.box_ns, &foyerd_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(&data)
            .args(["--listen", "0.0.0.0:8443", "--http-listen", "0.0.0.0:8080"])
            .arg("--no-mdns")
            .arg("--console-issue")
            .arg(&issue)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn foyerd"),
    );
    let wait = |what: &str, cond: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = read(&issue);
            if cond(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{what} within 30 s; console text:\n{text}\nlog:\n{}",
                read(&tmp.path().join("foyerd.log"))
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait("the box's ULA address on the console", &|t| {
        t.contains(&format!("\n  https://[{BOX_V6}]:8443/\n"))
    });

    const NEW_V6: &str = "fd66:6f79:6572::7";
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
    let text = wait("the new address on the console", &|t| {
        t.contains(&format!("\n  https://[{NEW_V6}]:8443/\n"))
    });
    assert!(
        text.contains(&format!("\n  https://[{BOX_V6}]:8443/\n")),
        "{text}"
    );
}
