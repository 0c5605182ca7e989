//! Changing the owner passphrase (ends every session; the old passphrase stops
//! working, the new one works) and resetting it with the recovery key (which
//! is then replaced by a new one).
//!
//! Every attempt at a secret counts against a per-address budget of five, so
//! the steps below come from different loopback addresses.

use foyer_e2e::{Daemon, PASSPHRASE};
use serde_json::json;

const NEW_PASSPHRASE: &str = "violet tractor sings under moonlight";
const NEWER_PASSPHRASE: &str = "seven quiet herons fold paper maps";

#[tokio::test]
async fn changing_the_passphrase_ends_sessions() {
    let d = Daemon::start().await;
    d.claim().await;
    let session = d.anon_from(20).login(PASSPHRASE).await;
    let bystander = d.anon_from(21).login(PASSPHRASE).await;

    session
        .put(
            "/api/passphrase",
            &json!({"current": "not the passphrase at all", "new": NEW_PASSPHRASE}),
        )
        .await
        .expect_error(401, "wrong_passphrase");
    session
        .put(
            "/api/passphrase",
            &json!({"current": PASSPHRASE, "new": "password123"}),
        )
        .await
        .expect_error(422, "weak_passphrase");
    // Still logged in after the refusals.
    session.get("/api/session").await.expect(200);

    session
        .put(
            "/api/passphrase",
            &json!({"current": PASSPHRASE, "new": NEW_PASSPHRASE}),
        )
        .await
        .expect(204);

    // Every session has ended, including the one that made the change.
    session
        .get("/api/session")
        .await
        .expect_error(401, "unauthenticated");
    bystander
        .get("/api/session")
        .await
        .expect_error(401, "unauthenticated");

    d.anon_from(22)
        .try_login(PASSPHRASE)
        .await
        .expect_error(401, "wrong_passphrase");
    let again = d.anon_from(23).login(NEW_PASSPHRASE).await;
    again.get("/api/session").await.ok(200);
}

#[tokio::test]
async fn recovery_key_resets_the_passphrase_and_is_replaced() {
    let d = Daemon::start().await;
    let first_key = d.claim().await;
    let session = d.anon_from(30).login(PASSPHRASE).await;

    d.anon_from(31)
        .post(
            "/api/recovery",
            &json!({"recovery_key": "AAAA-BBBB-CCCC-DDDD-EEEE", "new_passphrase": NEW_PASSPHRASE}),
        )
        .await
        .expect_error(401, "wrong_recovery_key");
    d.anon_from(31)
        .post(
            "/api/recovery",
            &json!({"recovery_key": first_key, "new_passphrase": "password123"}),
        )
        .await
        .expect_error(422, "weak_passphrase");

    let v = d
        .anon_from(32)
        .post(
            "/api/recovery",
            &json!({"recovery_key": first_key, "new_passphrase": NEW_PASSPHRASE}),
        )
        .await
        .ok(200);
    let second_key = v["recovery_key"].as_str().expect("new recovery_key");
    assert_ne!(second_key, first_key, "the recovery key must be replaced");

    // Sessions opened before the reset are over.
    session
        .get("/api/session")
        .await
        .expect_error(401, "unauthenticated");
    // The old passphrase is gone, the new one works.
    d.anon_from(33)
        .try_login(PASSPHRASE)
        .await
        .expect_error(401, "wrong_passphrase");
    d.anon_from(34).login(NEW_PASSPHRASE).await;

    // The used key no longer works; the new one does.
    d.anon_from(35)
        .post(
            "/api/recovery",
            &json!({"recovery_key": first_key, "new_passphrase": NEWER_PASSPHRASE}),
        )
        .await
        .expect_error(401, "wrong_recovery_key");
    let v = d
        .anon_from(36)
        .post(
            "/api/recovery",
            &json!({"recovery_key": second_key, "new_passphrase": NEWER_PASSPHRASE}),
        )
        .await
        .ok(200);
    assert!(v["recovery_key"].is_string());
    d.anon_from(37).login(NEWER_PASSPHRASE).await;
}
