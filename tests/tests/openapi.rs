//! The OpenAPI document: `GET /api/openapi.json` needs credentials, lists
//! every route of the API with its methods, and is what `foyerd openapi`
//! prints.

use std::collections::{BTreeMap, BTreeSet};

use foyer_e2e::{Daemon, run_foyerd};
use serde_json::Value;

/// `path` with every `{param}` written `{}`, so parameter names do not matter.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn routes(spec: &Value) -> BTreeMap<String, BTreeSet<String>> {
    spec["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths object in the OpenAPI document"))
        .iter()
        .map(|(p, item)| {
            let methods = item
                .as_object()
                .map(|o| o.keys().map(|k| k.to_lowercase()).collect())
                .unwrap_or_default();
            (normalize(p), methods)
        })
        .collect()
}

const EXPECTED: &[(&str, &[&str])] = &[
    ("/api/health", &["get"]),
    ("/api/setup", &["post"]),
    ("/api/session", &["get", "post", "delete"]),
    ("/api/passphrase", &["put"]),
    ("/api/recovery", &["post"]),
    ("/api/tokens", &["get", "post"]),
    ("/api/tokens/{}", &["delete"]),
    ("/api/doctypes", &["get"]),
    ("/api/doctypes/{}", &["get", "put"]),
    ("/api/docs/{}", &["post"]),
    ("/api/docs/{}/{}", &["get", "put", "delete"]),
    ("/api/docs/{}/_find", &["post"]),
    ("/api/docs/{}/_bulk_docs", &["post"]),
    ("/api/changes", &["get"]),
    ("/api/files/{}", &["get", "put", "patch", "delete"]),
    ("/api/trash", &["get", "delete"]),
    ("/api/trash/{}", &["delete"]),
    ("/api/trash/{}/restore", &["post"]),
    ("/api/openapi.json", &["get"]),
    ("/api/system/status", &["get"]),
    ("/api/system/integrity-check", &["post"]),
    ("/api/system/factory-reset", &["post"]),
];

#[tokio::test]
async fn openapi_lists_every_route() {
    let d = Daemon::start().await;
    d.anon()
        .get("/api/openapi.json")
        .await
        .expect_error(401, "unauthenticated");
    let api = d.owner().await;
    let spec = api.get("/api/openapi.json").await.ok(200);
    assert!(
        spec["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "not an OpenAPI 3 document"
    );
    let have = routes(&spec);
    let mut missing = Vec::new();
    for (path, methods) in EXPECTED {
        match have.get(*path) {
            None => missing.push(format!("{path} (absent)")),
            Some(got) => {
                for m in *methods {
                    if !got.contains(*m) {
                        missing.push(format!("{} {path}", m.to_uppercase()));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the OpenAPI document lacks: {missing:?}\nit has: {have:?}"
    );

    // `foyerd openapi` prints the same routes.
    let out = run_foyerd(&["openapi".into()], &[], d.root()).await;
    assert!(out.status.success(), "foyerd openapi: {out:?}");
    let printed: Value = serde_json::from_str(&out.stdout).expect("foyerd openapi prints JSON");
    assert_eq!(routes(&printed), have, "CLI and served documents differ");
}
