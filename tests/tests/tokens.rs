//! API tokens: creation with scopes, what each scope allows and refuses,
//! the listing never revealing secrets, revocation taking effect on the next
//! request, and expiry.

use std::time::Duration;

use foyer_e2e::Daemon;
use serde_json::json;

fn bill() -> serde_json::Value {
    json!({"vendor": "EDF", "amount": 61.2, "currency": "EUR", "date": "2024-03-01"})
}

fn operation() -> serde_json::Value {
    json!({"account": "acc-1", "date": "2024-03-02", "amount": -12.5, "currency": "EUR", "label": "BAKERY"})
}

#[tokio::test]
async fn scopes_are_enforced() {
    let d = Daemon::start().await;
    let owner = d.owner().await;
    let bill_id = owner.post("/api/docs/bill", &bill()).await.ok(201)["_id"]
        .as_str()
        .expect("_id")
        .to_owned();
    let op_id = owner
        .post("/api/docs/bank.operation", &operation())
        .await
        .ok(201)["_id"]
        .as_str()
        .expect("_id")
        .to_owned();

    // The creation answer.
    let (reader, created) = owner
        .create_token("bills reader", &["docs:read:bill"])
        .await;
    let secret = created["token"].as_str().expect("token");
    assert!(secret.starts_with("foyer_"), "token {secret}");
    assert!(
        created["id"].as_str().is_some_and(|s| !s.is_empty()),
        "{created}"
    );
    assert_eq!(created["name"], "bills reader");
    assert_eq!(created["scopes"], json!(["docs:read:bill"]));
    for key in ["created", "expires", "last_used"] {
        assert!(created.get(key).is_some(), "{key} missing in {created}");
    }

    let info = reader.get("/api/session").await.ok(200);
    assert_eq!(info["kind"], "token");
    assert_eq!(info["scopes"], json!(["docs:read:bill"]));

    // docs:read:bill reads bills...
    let got = reader
        .get(&format!("/api/docs/bill/{bill_id}"))
        .await
        .ok(200);
    assert_eq!(got["vendor"], "EDF");
    reader
        .post("/api/docs/bill/_find", &json!({"selector": {}}))
        .await
        .expect(200);
    // ...and nothing else.
    reader
        .get(&format!("/api/docs/bank.operation/{op_id}"))
        .await
        .expect_error(403, "forbidden");
    reader
        .post("/api/docs/bank.operation/_find", &json!({"selector": {}}))
        .await
        .expect_error(403, "forbidden");
    reader
        .post("/api/docs/bill", &bill())
        .await
        .expect_error(403, "forbidden");
    reader
        .get("/api/files/")
        .await
        .expect_error(403, "forbidden");
    reader
        .get("/api/tokens")
        .await
        .expect_error(403, "forbidden");
    reader
        .post(
            "/api/tokens",
            &json!({"name": "escalate", "scopes": ["owner"]}),
        )
        .await
        .expect_error(403, "forbidden");

    // docs:write writes without any CSRF value (bearer tokens need none).
    let (writer, _) = owner.create_token("writer", &["docs:write"]).await;
    writer.post("/api/docs/bill", &bill()).await.expect(201);
    writer
        .post("/api/docs/bank.operation", &operation())
        .await
        .expect(201);

    // files scopes.
    let (files_rw, _) = owner
        .create_token("files", &["files:read", "files:write"])
        .await;
    files_rw
        .put_bytes("/api/files/t.txt", b"hello".to_vec())
        .await
        .expect(201);
    files_rw
        .get(&format!("/api/docs/bill/{bill_id}"))
        .await
        .expect_error(403, "forbidden");

    // An owner token can manage tokens.
    let (admin, _) = owner.create_token("admin", &["owner"]).await;
    admin
        .post(
            "/api/tokens",
            &json!({"name": "made by a token", "scopes": ["docs:read"]}),
        )
        .await
        .expect(201);

    // Invalid scopes are refused.
    for bad in [
        "docs:delete",
        "files:admin",
        "root",
        "docs:read:Bad..Name",
        "",
    ] {
        owner
            .post("/api/tokens", &json!({"name": "bad", "scopes": [bad]}))
            .await
            .expect_error(400, "invalid_scope");
    }

    // An unknown secret: 401.
    d.anon()
        .bearer("foyer_this-is-not-a-token")
        .get("/api/session")
        .await
        .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn listing_hides_secrets_and_revocation_is_immediate() {
    let d = Daemon::start().await;
    let owner = d.owner().await;
    let (tok, created) = owner
        .create_token("to revoke", &["docs:read", "docs:write"])
        .await;
    let secret = created["token"].as_str().expect("token").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    tok.post(
        "/api/docs/note",
        &json!({"title": "hi", "content": "hello"}),
    )
    .await
    .expect(201);

    let list = owner.get("/api/tokens").await;
    assert!(
        !list.text().contains(&secret),
        "GET /api/tokens reveals a token secret"
    );
    let entries = list.ok(200);
    let entry = entries
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["id"] == id.as_str())
        .unwrap_or_else(|| panic!("token {id} not listed: {entries}"));
    assert_eq!(entry["name"], "to revoke");
    assert!(
        entry.get("token").is_none(),
        "listing has a token field: {entry}"
    );

    owner.delete(&format!("/api/tokens/{id}")).await.expect(204);
    tok.get("/api/session")
        .await
        .expect_error(401, "unauthenticated");
    tok.post(
        "/api/docs/note",
        &json!({"title": "after revocation", "content": "nope"}),
    )
    .await
    .expect_error(401, "unauthenticated");
}

#[tokio::test]
async fn tokens_expire() {
    let d = Daemon::start().await;
    let owner = d.owner().await;
    let v = owner
        .post(
            "/api/tokens",
            &json!({"name": "short", "scopes": ["docs:read"], "expires_in": 1}),
        )
        .await
        .ok(201);
    assert!(v["expires"].is_number(), "expires is set: {v}");
    let tok = owner.bearer(v["token"].as_str().expect("token"));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    tok.get("/api/session")
        .await
        .expect_error(401, "unauthenticated");
    tok.post("/api/docs/bill/_find", &json!({"selector": {}}))
        .await
        .expect_error(401, "unauthenticated");
}
