//! The error contract: every failure is `{"error":{"code","message"}}` with a
//! JSON content type: malformed JSON, a wrong content type, bodies over the
//! 1 MiB JSON limit (while `_bulk_docs` takes more), unknown routes, wrong
//! methods, missing credentials.

use foyer_e2e::{Daemon, Method};
use serde_json::json;

#[tokio::test]
async fn body_errors_have_the_json_shape() {
    let d = Daemon::start().await;
    let api = d.owner().await;

    // Malformed JSON, on routes taking any object and on routes with a
    // fixed request shape (where a syntax error must not be reported as a
    // shape error just because an unexpected key comes first).
    let mut wrong = Vec::new();
    for (path, body) in [
        ("/api/docs/note", "{\"title\": \"unterminated"),
        ("/api/docs/note", "not json at all"),
        ("/api/tokens", "{\"name\": \"x\", \"scopes\": ["),
        ("/api/session", "{\"passphrase\": "),
        ("/api/session", "{\"title\": \"unterminated"),
        ("/api/tokens", "{\"nmae\": \"typo\", "),
    ] {
        let rb = api
            .request(Method::POST, path)
            .header("Content-Type", "application/json")
            .body(body);
        let r = api
            .send(format!("POST {path} with malformed JSON {body:?}"), rb)
            .await;
        let code = r.json()["error"]["code"].as_str().unwrap_or("").to_owned();
        if (r.status, code.as_str()) != (400, "malformed_json") {
            wrong.push(format!("POST {path} {body:?} -> {} {}", r.status, r.text()));
        }
    }
    assert!(
        wrong.is_empty(),
        "malformed JSON not answered 400 malformed_json:\n{}",
        wrong.join("\n")
    );

    // Wrong or missing content type on a JSON route.
    let rb = api
        .request(Method::POST, "/api/docs/note")
        .header("Content-Type", "text/plain")
        .body("{\"title\": \"plain\"}");
    api.send("POST text/plain".into(), rb)
        .await
        .expect_error(415, "unsupported_media_type");
    let rb = api
        .request(Method::POST, "/api/docs/note")
        .body("{\"title\": \"no type\"}");
    api.send("POST without Content-Type".into(), rb)
        .await
        .expect_error(415, "unsupported_media_type");
    let rb = api
        .request(Method::PUT, "/api/passphrase")
        .header("Content-Type", "text/plain")
        .body("{}");
    api.send("PUT /api/passphrase text/plain".into(), rb)
        .await
        .expect_error(415, "unsupported_media_type");

    // Over 1 MiB on a JSON route: 413; nothing stored.
    let big = json!({"title": "big", "content": "x".repeat(1024 * 1024 + 10)});
    api.post("/api/docs/note", &big)
        .await
        .expect_error(413, "body_too_large");
    let notes = api
        .post("/api/docs/note/_find", &json!({"selector": {}}))
        .await
        .ok(200);
    assert!(notes["docs"].as_array().unwrap().is_empty(), "{notes}");

    // _bulk_docs takes bodies well over 1 MiB.
    let docs: Vec<_> = (0..4)
        .map(|i| json!({"title": format!("big {i}"), "content": "y".repeat(600 * 1024)}))
        .collect();
    let r = api
        .post("/api/docs/note/_bulk_docs", &json!({ "docs": docs }))
        .await
        .ok(201);
    assert!(
        r.as_array().unwrap().iter().all(|x| x["ok"] == true),
        "bulk of 2.4 MB refused: {r}"
    );
}

#[tokio::test]
async fn routing_errors_have_the_json_shape() {
    let d = Daemon::start().await;
    let anon = d.anon();
    let api = d.owner().await;

    for path in ["/api/nope", "/api/docs", "/nope", "/api/files-not-really"] {
        api.get(path).await.expect_error(404, "not_found");
    }
    anon.get("/api/definitely/not/here")
        .await
        .expect_error(404, "not_found");

    // Wrong methods: 405, same shape.
    for (method, path) in [
        (Method::DELETE, "/api/health"),
        (Method::PUT, "/api/health"),
        (Method::PATCH, "/api/tokens"),
        (Method::GET, "/api/setup"),
        (Method::GET, "/api/passphrase"),
    ] {
        let what = format!("{method} {path}");
        let rb = api
            .request(method, path)
            .header("Content-Type", "application/json")
            .body("{}");
        api.send(what, rb).await.expect_any_error(405);
    }

    // No credentials.
    for path in [
        "/api/docs/bill/x",
        "/api/files/",
        "/api/trash",
        "/api/changes",
        "/api/doctypes",
        "/api/session",
        "/api/openapi.json",
    ] {
        anon.get(path).await.expect_error(401, "unauthenticated");
    }
    anon.post("/api/docs/bill", &json!({}))
        .await
        .expect_error(401, "unauthenticated");
}
