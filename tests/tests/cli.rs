//! The process contract: SIGTERM/SIGINT stop the box with status 0 after
//! letting an in-flight request finish; a bad configuration exits 2 with one
//! `foyerd: error:` line; a busy port fails; configuration through the
//! environment and a TOML file is honoured; `foyerd identity` prints the
//! device id and host name the box uses.

use std::ffi::OsString;
use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

use foyer_e2e::{
    Daemon, EXIT_TIMEOUT, Method, Options, Via, free_port, random_bytes, run_foyerd, sha256_hex,
    wait_until,
};
use nix::sys::signal::Signal;

#[tokio::test]
async fn sigterm_and_sigint_exit_zero() {
    let mut d = Daemon::start().await;
    let status = d.stop().await;
    assert_eq!(status.code(), Some(0), "SIGTERM: {status}");

    d.restart().await;
    d.signal(Signal::SIGINT);
    let status = d.wait_exit(EXIT_TIMEOUT).await;
    assert_eq!(status.code(), Some(0), "SIGINT: {status}");
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_upload_finish() {
    let mut d = Daemon::start().await;
    let owner = d.owner().await;
    let (api, _) = owner
        .create_token("uploader", &["files:read", "files:write"])
        .await;

    let data = random_bytes(4 * 1024 * 1024);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let rb = api
        .request(Method::PUT, "/api/files/in-flight.bin")
        .header("Content-Type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(stream));
    let upload = tokio::spawn(async move { rb.send().await });

    let (first, rest) = data.split_at(1024 * 1024);
    tx.send(Ok(first.to_vec())).await.expect("feed");
    wait_until(
        "the upload to reach the daemon (a temporary blob)",
        Duration::from_secs(30),
        || !d.tmp_blobs().is_empty(),
    )
    .await;

    // Stop while the request is in flight, then finish sending it.
    d.signal(Signal::SIGTERM);
    for c in rest.chunks(256 * 1024) {
        tx.send(Ok(c.to_vec())).await.expect("feed");
    }
    drop(tx);
    let resp = tokio::time::timeout(Duration::from_secs(60), upload)
        .await
        .expect("in-flight upload never answered")
        .expect("task")
        .expect("the in-flight upload was cut off by SIGTERM");
    let resp = foyer_e2e::Resp::read("PUT in-flight.bin".into(), resp).await;
    let v = resp.ok(201);
    assert_eq!(v["sha256"], sha256_hex(&data).as_str());

    let status = d.wait_exit(EXIT_TIMEOUT).await;
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );

    d.restart().await;
    let got = api.get("/api/files/in-flight.bin").await;
    assert_eq!(sha256_hex(&got.expect(200).body), sha256_hex(&data));
}

fn one_error_line(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr, got: {stderr:?}"
    );
    assert!(
        lines[0].starts_with("foyerd: error:"),
        "stderr does not start with 'foyerd: error:': {stderr:?}"
    );
}

fn serve_args(root: &std::path::Path, extra: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        "serve".into(),
        "--data-dir".into(),
        root.join("data").into(),
        "--listen".into(),
        format!("127.0.0.1:{}", free_port()).into(),
        "--http-listen".into(),
        format!("127.0.0.1:{}", free_port()).into(),
        "--no-mdns".into(),
    ];
    v.extend(extra.iter().map(OsString::from));
    v
}

#[tokio::test]
async fn bad_configuration_exits_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();

    // An unknown key in the TOML file.
    let bad = root.join("bad.toml");
    std::fs::write(&bad, "lisen = \"127.0.0.1:9443\"\n").unwrap();
    let out = run_foyerd(
        &serve_args(root, &["--config", bad.to_str().unwrap()]),
        &[],
        root,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "unknown key: {out:?}");
    one_error_line(&out.stderr);
    assert!(
        out.stderr.contains("lisen"),
        "the error names the key: {}",
        out.stderr
    );

    // A value of the wrong type.
    std::fs::write(&bad, "min_free_bytes = \"lots\"\n").unwrap();
    let out = run_foyerd(
        &serve_args(root, &["--config", bad.to_str().unwrap()]),
        &[],
        root,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "bad value: {out:?}");
    one_error_line(&out.stderr);

    // A missing config file.
    let missing = root.join("missing.toml");
    let out = run_foyerd(
        &serve_args(root, &["--config", missing.to_str().unwrap()]),
        &[],
        root,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "missing file: {out:?}");
    one_error_line(&out.stderr);

    // The same file through FOYER_CONFIG.
    std::fs::write(&bad, "no_such_option = true\n").unwrap();
    let out = run_foyerd(
        &serve_args(root, &[]),
        &[("FOYER_CONFIG", bad.to_str().unwrap())],
        root,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "FOYER_CONFIG: {out:?}");
    one_error_line(&out.stderr);
}

#[tokio::test]
async fn busy_port_fails() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = busy.local_addr().unwrap().port();

    for flag in ["--listen", "--http-listen"] {
        let mut args: Vec<OsString> = vec![
            "serve".into(),
            "--data-dir".into(),
            root.join("data").into(),
            "--no-mdns".into(),
        ];
        let other = if flag == "--listen" {
            "--http-listen"
        } else {
            "--listen"
        };
        args.extend([
            flag.into(),
            format!("127.0.0.1:{port}").into(),
            other.into(),
            format!("127.0.0.1:{}", free_port()).into(),
        ]);
        let out = run_foyerd(&args, &[], root).await;
        assert!(
            !out.status.success() && out.status.code().is_some(),
            "{flag} on a busy port: {out:?}"
        );
        assert!(
            out.stderr.contains("foyerd: error:"),
            "{flag}: no error line: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&port.to_string()),
            "{flag}: the error should name the address: {}",
            out.stderr
        );
    }
    drop(busy);
}

#[tokio::test]
async fn configuration_from_environment() {
    let d = Daemon::start_with(Options {
        via: Via::Env,
        env: vec![("FOYER_FILES_QUOTA_BYTES".into(), "1000".into())],
        ..Options::default()
    })
    .await;
    assert!(
        d.data_dir.join("vault.db").is_file(),
        "FOYER_DATA_DIR ignored"
    );
    let owner = d.owner().await;
    owner
        .put_bytes("/api/files/small.bin", random_bytes(500))
        .await
        .expect(201);
    owner
        .put_bytes("/api/files/big.bin", random_bytes(2000))
        .await
        .expect_error(507, "insufficient_storage");
}

#[tokio::test]
async fn configuration_from_toml_file() {
    let d = Daemon::start_with(Options {
        via: Via::ConfigFile,
        config_extra: "files_quota_bytes = 1000\nlog_format = \"json\"\n".into(),
        ..Options::default()
    })
    .await;
    assert!(d.data_dir.join("vault.db").is_file(), "data_dir ignored");
    let owner = d.owner().await;
    owner
        .put_bytes("/api/files/small.bin", random_bytes(500))
        .await
        .expect(201);
    owner
        .put_bytes("/api/files/big.bin", random_bytes(2000))
        .await
        .expect_error(507, "insufficient_storage");
    // log_format = "json": the daemon's log lines are JSON objects.
    let log = d.log();
    let json_lines = log
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.is_object()))
        .count();
    assert!(
        json_lines > 0,
        "no JSON log lines with log_format = json:\n{log}"
    );
}

#[tokio::test]
async fn identity_prints_the_device_id_and_host_name() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("fresh");
    let identity = |args: &[&str]| {
        let mut all: Vec<OsString> = vec!["identity".into()];
        all.extend(args.iter().map(OsString::from));
        let root = tmp.path().to_owned();
        async move {
            let out = run_foyerd(&all, &[], &root).await;
            assert!(out.status.success(), "foyerd {all:?}: {out:?}");
            assert!(out.stderr.is_empty(), "{out:?}");
            out.stdout
        }
    };

    // First use creates the identity (and the data directory) as serve does.
    let data_arg = data.to_str().expect("utf-8 path");
    let id = identity(&["--data-dir", data_arg]).await;
    let id = id.strip_suffix('\n').expect("one line");
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id:?}"
    );
    assert_eq!(
        std::fs::read_to_string(data.join("device-id")).expect("device-id"),
        format!("{id}\n")
    );
    assert_eq!(identity(&["--data-dir", data_arg]).await, format!("{id}\n"));
    let hostname = identity(&["--data-dir", data_arg, "--hostname"]).await;
    let hostname = hostname.trim_end();
    assert!(
        hostname.len() == 10
            && hostname.starts_with("foyer-")
            && hostname[6..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{hostname:?}"
    );

    // Through the config file (as the image's hostname unit runs it).
    let config = tmp.path().join("foyer.toml");
    std::fs::write(&config, format!("data_dir = {:?}\n", data_arg)).expect("config");
    let by_config = identity(&["--config", config.to_str().expect("utf-8"), "--hostname"]).await;
    assert_eq!(by_config.trim_end(), hostname);

    // The name serve then announces is the same.
    let d = Daemon::start().await;
    let printed = identity(&[
        "--data-dir",
        d.data_dir.to_str().expect("utf-8 path"),
        "--hostname",
    ])
    .await;
    let health = d.anon().get("/api/health").await.ok(200);
    assert_eq!(health["name"].as_str(), Some(printed.trim_end()));
}
