//! The running system, for its owner, through the real binary:
//!
//! - `GET /api/system/status`: version, uptime, a clean last stop, the
//!   watchdog off outside systemd, the data directory's disk;
//! - `POST /api/system/integrity-check`: `{"ok":true,"result":["ok"]}` for a
//!   session (with CSRF) and for an `owner` bearer token made with
//!   `POST /api/tokens` — with curl, as the image's boot test calls it —
//!   refused without CSRF, without the owner scope, without credentials;
//! - an unclean stop (SIGKILL) leaves `.running`, and the next start runs a
//!   quick check and reports it; a clean stop removes the marker;
//! - `POST /api/system/factory-reset`: a wrong passphrase is refused (401)
//!   and counts against the same rate limit as logins; the right one writes
//!   `factory-reset` and answers 202, after which `/api/health` says a reset
//!   is pending.

use foyer_e2e::{Api, Credential, Daemon, PASSPHRASE};
use serde_json::json;

/// The same session without its CSRF header (the cookie still goes).
fn without_csrf(api: &Api) -> Api {
    Api {
        credential: Credential::None,
        ..api.clone()
    }
}

#[tokio::test]
async fn status_and_integrity_check_for_the_owner() {
    let d = Daemon::start().await;
    d.anon()
        .get("/api/system/status")
        .await
        .expect_error(401, "unauthenticated");
    d.anon()
        .post("/api/system/integrity-check", &json!({}))
        .await
        .expect_error(401, "unauthenticated");

    let owner = d.owner().await;
    let health = d.anon().get("/api/health").await.ok(200);
    assert_eq!(health["factory_reset_pending"], false, "{health}");
    let status = owner.get("/api/system/status").await.ok(200);
    assert_eq!(status["version"], health["version"], "{status}");
    assert!(status["uptime_seconds"].is_u64(), "{status}");
    assert_eq!(status["last_stop"], json!({"clean": true}), "{status}");
    assert_eq!(status["watchdog"], json!({"enabled": false}), "{status}");
    let free = status["storage"]["free_bytes"]
        .as_u64()
        .expect("free_bytes");
    let total = status["storage"]["total_bytes"]
        .as_u64()
        .expect("total_bytes");
    assert!(total > 0 && free <= total, "{status}");

    // A session: with its CSRF value, not without.
    let ok = json!({"ok": true, "result": ["ok"]});
    let report = owner
        .post("/api/system/integrity-check", &json!({}))
        .await
        .ok(200);
    assert_eq!(report, ok);
    without_csrf(&owner)
        .post("/api/system/integrity-check", &json!({}))
        .await
        .expect_error(403, "csrf_failed");

    // A script's token with the owner scope, as the boot test uses: curl,
    // no body.
    let (_, created) = owner.create_token("boot test", &["owner"]).await;
    let token = created["token"].as_str().expect("token");
    let out = d
        .curl(
            &[
                "-X",
                "POST",
                "-H",
                &format!("Authorization: Bearer {token}"),
            ],
            "/api/system/integrity-check",
        )
        .await;
    assert_eq!(out.status, 200, "{out:?}");
    assert_eq!(out.json(), ok);

    // Any other scope is not enough.
    let (reader, _) = owner.create_token("reader", &["docs:read"]).await;
    reader
        .post("/api/system/integrity-check", &json!({}))
        .await
        .expect_error(403, "forbidden");
    reader
        .get("/api/system/status")
        .await
        .expect_error(403, "forbidden");
}

#[tokio::test]
async fn an_unclean_stop_is_noticed_and_the_database_checked() {
    let mut d = Daemon::start().await;
    let marker = d.data_dir.join(".running");
    assert!(marker.is_file(), "no .running marker while running");
    d.claim().await;

    // Power cut, as far as the daemon can tell.
    d.kill().await;
    assert!(marker.is_file(), "the marker must survive a kill");
    d.restart().await;
    let owner = d.anon().login(PASSPHRASE).await;
    let status = owner.get("/api/system/status").await.ok(200);
    assert_eq!(
        status["last_stop"],
        json!({"clean": false, "quick_check": {"ok": true, "result": ["ok"]}}),
        "{status}"
    );
    assert!(
        d.log()
            .contains("database quick check after an unclean stop: ok"),
        "the check is not in the log"
    );

    // A clean stop removes the marker; the next start knows it was clean.
    let exit = d.stop().await;
    assert_eq!(exit.code(), Some(0));
    assert!(!marker.exists(), "the marker outlived a clean stop");
    d.restart().await;
    let owner = d.anon().login(PASSPHRASE).await;
    let status = owner.get("/api/system/status").await.ok(200);
    assert_eq!(status["last_stop"], json!({"clean": true}), "{status}");
}

#[tokio::test]
async fn a_factory_reset_needs_the_passphrase() {
    let d = Daemon::start().await;
    let owner = d.owner().await;
    let request = d.data_dir.join("factory-reset");
    let path = "/api/system/factory-reset";

    // From its own address (its own rate-limit bucket): one login...
    let other = d.anon_from(77).login(PASSPHRASE).await;
    // ...then wrong passphrases: refused, nothing written.
    for _ in 0..4 {
        other
            .post(path, &json!({"passphrase": "not the passphrase"}))
            .await
            .expect_error(401, "wrong_passphrase");
    }
    // Logins and resets share the limit: 5 attempts, then a wait.
    let limited = other.post(path, &json!({"passphrase": PASSPHRASE})).await;
    limited.expect_error(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
    assert!(!request.exists(), "a refused request wrote the file");

    owner
        .post(path, &json!({"passphrase": PASSPHRASE, "now": true}))
        .await
        .expect_error(422, "invalid_body");
    without_csrf(&owner)
        .post(path, &json!({"passphrase": PASSPHRASE}))
        .await
        .expect_error(403, "csrf_failed");
    let (files, _) = owner
        .create_token("files", &["files:read", "files:write"])
        .await;
    files
        .post(path, &json!({"passphrase": PASSPHRASE}))
        .await
        .expect_error(403, "forbidden");
    assert!(!request.exists());
    let health = d.anon().get("/api/health").await.ok(200);
    assert_eq!(health["factory_reset_pending"], false);

    let accepted = owner
        .post(path, &json!({"passphrase": PASSPHRASE}))
        .await
        .ok(202);
    assert_eq!(accepted, json!({"reboot": true}));
    assert!(request.is_file(), "no factory-reset file");
    let health = d.anon().get("/api/health").await.ok(200);
    assert_eq!(health["factory_reset_pending"], true, "{health}");
}
