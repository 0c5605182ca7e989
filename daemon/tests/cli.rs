//! The command line of the real binary: help, the OpenAPI printer, and the
//! exit status and one-line reason for bad configuration.
//!
//! (Being an integration test of the `foyerd` package, this also makes
//! `cargo test --workspace` build the binary that the e2e crate runs.)

use std::process::Command;

fn foyerd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_foyerd"))
}

#[test]
fn help_lists_serve_options() {
    let out = foyerd()
        .args(["serve", "--help"])
        .output()
        .expect("run foyerd");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--data-dir",
        "--listen",
        "--http-listen",
        "--no-mdns",
        "--config",
    ] {
        assert!(text.contains(opt), "help lacks {opt}:\n{text}");
    }
}

#[test]
fn bad_config_exits_2_with_one_line() {
    let dir = std::env::temp_dir().join(format!("foyer-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:1\"\nbogus = 1\n").expect("write");
    let out = foyerd()
        .args(["serve", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.join("var"))
        .output()
        .expect("run foyerd");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("foyerd: error: "), "{err}");
    assert!(err.contains("bogus"), "{err}");
    assert!(!dir.join("var").exists(), "nothing created on bad config");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn openapi_is_printed_and_covers_the_contract() {
    let out = foyerd().arg("openapi").output().expect("run foyerd");
    assert!(out.status.success());
    let spec: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let paths = spec["paths"].as_object().expect("paths");
    for p in [
        "/api/health",
        "/api/setup",
        "/api/session",
        "/api/tokens",
        "/api/docs/{doctype}",
        "/api/docs/{doctype}/{id}",
        "/api/docs/{doctype}/_find",
        "/api/docs/{doctype}/_bulk_docs",
        "/api/changes",
        "/api/files/{path}",
        "/api/openapi.json",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
}

#[test]
fn committed_openapi_document_is_current() {
    let out = foyerd().arg("openapi").output().expect("run foyerd");
    let generated = String::from_utf8_lossy(&out.stdout);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let committed = std::fs::read_to_string(path).expect("docs/openapi.json exists");
    assert!(
        generated == committed,
        "docs/openapi.json is stale: regenerate it with `cargo run -p foyerd -- openapi > docs/openapi.json`"
    );
}
