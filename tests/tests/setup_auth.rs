//! Onboarding and authentication: what a fresh box creates on disk, claiming
//! it with the claim code, passphrase strength, logging in (cookie flags),
//! CSRF protection of session requests, logging out, and the rate limit on
//! secret-checking routes.

use std::os::unix::fs::PermissionsExt as _;

use foyer_e2e::{Daemon, PASSPHRASE, pem_to_der, sha256_hex};
use serde_json::json;

fn looks_like_claim_code(code: &str) -> bool {
    let groups: Vec<&str> = code.split('-').collect();
    groups.len() == 3
        && groups.iter().all(|g| {
            g.len() == 4
                && g.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
}

#[tokio::test]
async fn first_start_creates_the_data_directory_layout() {
    let d = Daemon::start().await;
    for rel in [
        "tls/ca.pem",
        "claim-code",
        "vault.db",
        "keys/keyring.json",
        "keys/unattended.key",
        "device-id",
    ] {
        let p = d.data_dir.join(rel);
        assert!(p.is_file(), "{rel} missing after the first start");
    }
    assert!(d.data_dir.join("blobs").is_dir(), "blobs/ missing");
    let on_disk = std::fs::read_to_string(d.data_dir.join("tls/ca.pem")).expect("ca.pem");
    assert_eq!(on_disk, d.ca_pem());
}

#[tokio::test]
async fn onboarding_claim_login_csrf_logout() {
    let d = Daemon::start().await;
    let anon = d.anon();

    // Unclaimed box: health says so, with the CA fingerprint.
    let h = anon.get("/api/health").await.ok(200);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["claimed"], false);
    assert!(h["version"].as_str().is_some_and(|v| !v.is_empty()), "{h}");
    let name = h["name"].as_str().expect("name");
    assert!(
        name.starts_with("foyer-") && name.len() > "foyer-".len(),
        "name {name}"
    );
    assert_eq!(
        h["ca_fingerprint"].as_str(),
        Some(sha256_hex(&pem_to_der(d.ca_pem())).as_str()),
        "ca_fingerprint is the SHA-256 of the CA's DER"
    );

    // The claim code: one line, mode 0600.
    let code_path = d.data_dir.join("claim-code");
    let meta = std::fs::metadata(&code_path).expect("claim-code exists while unclaimed");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "claim-code mode");
    let raw = std::fs::read_to_string(&code_path).expect("read claim-code");
    assert_eq!(
        raw.trim_end().lines().count(),
        1,
        "claim-code is one line: {raw:?}"
    );
    let code = d.claim_code();
    assert!(looks_like_claim_code(&code), "claim code {code:?}");

    // Logging in before setup: 409 not_claimed.
    d.anon_from(2)
        .try_login(PASSPHRASE)
        .await
        .expect_error(409, "not_claimed");

    // Wrong code, weak passphrases: refused, box stays unclaimed.
    let other = d.anon_from(3);
    other
        .post(
            "/api/setup",
            &json!({"claim_code": "AAAA-BBBB-CCCC", "passphrase": PASSPHRASE}),
        )
        .await
        .expect_error(403, "wrong_claim_code");
    other
        .post(
            "/api/setup",
            &json!({"claim_code": code, "passphrase": "password123"}),
        )
        .await
        .expect_error(422, "weak_passphrase");
    other
        .post(
            "/api/setup",
            &json!({"claim_code": code, "passphrase": "Zq8#vL1!"}),
        )
        .await
        .expect_error(422, "weak_passphrase");
    assert!(code_path.exists(), "claim-code must survive refused setups");
    assert_eq!(anon.get("/api/health").await.ok(200)["claimed"], false);

    // Setup; the code is compared ignoring case and dashes.
    let sloppy = code.replace('-', "").to_lowercase();
    let v = d
        .anon_from(4)
        .post(
            "/api/setup",
            &json!({"claim_code": sloppy, "passphrase": PASSPHRASE}),
        )
        .await
        .ok(201);
    let recovery = v["recovery_key"].as_str().expect("recovery_key");
    assert!(recovery.len() >= 16, "recovery key too short: {recovery}");
    assert!(
        !code_path.exists(),
        "claim-code must be removed after setup"
    );
    assert_eq!(anon.get("/api/health").await.ok(200)["claimed"], true);

    // A second setup: 409 already_claimed.
    d.anon_from(5)
        .post(
            "/api/setup",
            &json!({"claim_code": code, "passphrase": PASSPHRASE}),
        )
        .await
        .expect_error(409, "already_claimed");

    // Wrong passphrase: 401.
    d.anon_from(6)
        .try_login("correct horse battery stapler")
        .await
        .expect_error(401, "wrong_passphrase");

    // Login: the cookie is HttpOnly, Secure, SameSite=Strict.
    let resp = anon.try_login(PASSPHRASE).await;
    let body = resp.ok(200);
    assert!(
        body["csrf"].as_str().is_some_and(|c| c.len() >= 16),
        "{body}"
    );
    assert!(body["expires"].is_number(), "{body}");
    let set_cookie = resp.header("set-cookie").expect("Set-Cookie");
    assert!(set_cookie.starts_with("foyer_session="), "{set_cookie}");
    let attrs: Vec<String> = set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for want in ["httponly", "secure", "samesite=strict"] {
        assert!(
            attrs.iter().any(|a| a == want),
            "cookie lacks {want}: {set_cookie}"
        );
    }
    let session = anon.login(PASSPHRASE).await;

    let info = session.get("/api/session").await.ok(200);
    assert_eq!(info["kind"], "session");
    assert_eq!(info["csrf"].as_str(), Some(session.csrf()));

    // GET needs no CSRF value.
    session
        .send(
            "GET /api/tokens without CSRF".into(),
            session.client.get(session.url("/api/tokens")),
        )
        .await
        .expect(200);

    // State-changing requests with the cookie need the CSRF value.
    let token_req = json!({"name": "csrf probe", "scopes": ["docs:read"]});
    session
        .send(
            "POST /api/tokens without CSRF".into(),
            session
                .client
                .post(session.url("/api/tokens"))
                .json(&token_req),
        )
        .await
        .expect_error(403, "csrf_failed");
    session
        .send(
            "POST /api/tokens with a wrong CSRF".into(),
            session
                .client
                .post(session.url("/api/tokens"))
                .header("X-CSRF-Token", "not-the-right-value")
                .json(&token_req),
        )
        .await
        .expect_error(403, "csrf_failed");
    session
        .send(
            "DELETE /api/session without CSRF".into(),
            session.client.delete(session.url("/api/session")),
        )
        .await
        .expect_error(403, "csrf_failed");
    session.post("/api/tokens", &token_req).await.expect(201);

    // No credentials at all: 401.
    d.anon_from(7)
        .get("/api/tokens")
        .await
        .expect_error(401, "unauthenticated");

    // Logout ends the session on the server, not only in the browser.
    let cookie = match &session.credential {
        foyer_e2e::Credential::Session { cookie, .. } => cookie.clone(),
        _ => unreachable!(),
    };
    session.delete("/api/session").await.expect(204);
    let replay = d.anon_from(8);
    replay
        .send(
            "GET /api/session with a logged-out cookie".into(),
            replay
                .client
                .get(replay.url("/api/session"))
                .header("Cookie", format!("foyer_session={cookie}")),
        )
        .await
        .expect_error(401, "unauthenticated");
    session
        .get("/api/session")
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn six_rapid_wrong_logins_the_sixth_is_rate_limited() {
    let d = Daemon::start().await;
    d.claim().await;

    // Six attempts at once from one address: the limiter admits a burst of
    // five, so exactly one is refused, whatever the order they arrive in.
    let attacker = d.anon_from(9);
    let attempts = (0..6).map(|i| {
        let a = attacker.clone();
        async move { a.try_login(&format!("wrong guess number {i}")).await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let limited: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    let wrong = results.iter().filter(|r| r.status == 401).count();
    assert_eq!(
        (wrong, limited.len()),
        (5, 1),
        "expected 5 × 401 and 1 × 429, got {:?}",
        results
            .iter()
            .map(|r| (r.status, r.text()))
            .collect::<Vec<_>>()
    );
    let refused = limited[0];
    refused.expect_error(429, "rate_limited");
    let retry_after = refused.header("retry-after").expect("Retry-After header");
    let secs: u64 = retry_after
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not seconds: {retry_after}"));
    assert!((1..=12).contains(&secs), "Retry-After {secs}");

    // Another client is not punished for it.
    d.anon_from(10).login(PASSPHRASE).await;
}

#[tokio::test]
async fn many_addresses_together_hit_the_global_limit() {
    let d = Daemon::start().await;
    d.claim().await;

    // One wrong guess from each of 25 addresses, at once: every address is
    // within its own budget, but the box as a whole admits a burst of 20.
    let attempts = (100..125u8).map(|last| {
        let a = d.anon_from(last);
        async move { a.try_login("not the passphrase, sorry").await }
    });
    let results = futures_util::future::join_all(attempts).await;
    let limited: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    assert!(
        !limited.is_empty(),
        "25 attempts at once from 25 addresses were all admitted: {:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in &results {
        if r.status == 429 {
            r.expect_error(429, "rate_limited");
            assert!(r.header("retry-after").is_some(), "429 without Retry-After");
        } else {
            r.expect_error(401, "wrong_passphrase");
        }
    }
}
