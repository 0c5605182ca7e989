//! `foyerd label`: the printable label of an unclaimed box, made from its
//! data directory. It must show the box's real name, claim code and CA
//! fingerprint (the ones the running box answers with), refuse a box that
//! has never started, and refuse once the box is claimed (the code is gone).

use std::ffi::OsString;

use foyer_e2e::{Daemon, pem_to_der, run_foyerd, sha256_hex};

fn label_args(d: &Daemon) -> Vec<OsString> {
    vec![
        "label".into(),
        "--data-dir".into(),
        d.data_dir.clone().into(),
        "--listen".into(),
        format!("127.0.0.1:{}", d.https_port).into(),
    ]
}

#[tokio::test]
async fn the_label_carries_what_the_running_box_shows() {
    let mut d = Daemon::start().await;
    let health = d.anon().get("/api/health").await.ok(200);
    let fingerprint = sha256_hex(&pem_to_der(d.ca_pem()));
    let code = d.claim_code();
    let cwd = d.data_dir.clone();

    let out = run_foyerd(&label_args(&d), &[], &cwd).await;
    assert!(out.status.success(), "foyerd label: {}", out.stderr);
    let svg = out.stdout;
    assert!(
        svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    let host = health["name"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("name in {health}"));
    assert!(
        svg.contains(&format!("{host}.local")),
        "name missing: {svg}"
    );
    assert!(svg.contains(&code), "claim code {code} missing");
    let shown: String = fingerprint
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .chunks(8)
        .map(|g| g.join(":"))
        .collect::<Vec<_>>()
        .join("\n");
    for line in shown.lines() {
        assert!(svg.contains(line), "fingerprint line {line} missing");
    }

    // To a file, private (it holds the claim code).
    let file = d.data_dir.join("label.svg");
    let mut args = label_args(&d);
    args.extend(["--out".into(), file.clone().into()]);
    let out = run_foyerd(&args, &[], &cwd).await;
    assert!(out.status.success(), "foyerd label --out: {}", out.stderr);
    assert_eq!(std::fs::read_to_string(&file).expect("label file"), svg);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Claimed: no code any more, no label.
    d.claim().await;
    d.stop().await;
    let out = run_foyerd(&label_args(&d), &[], &cwd).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stderr.contains("already claimed"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn a_box_that_never_started_has_no_label() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = run_foyerd(
        &[
            "label".into(),
            "--data-dir".into(),
            tmp.path().join("var").into(),
        ],
        &[],
        tmp.path(),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stderr.contains("start the box once"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
}
