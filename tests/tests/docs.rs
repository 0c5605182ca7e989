//! Documents: create/read/update/delete with revisions and conflicts, schema
//! validation naming the offending field, `_bulk_docs` (per-document
//! results, deletions, one failure not stopping the others), doctypes (the
//! built-ins, unknown and badly named ones, registering a custom one).

use foyer_e2e::{Api, Daemon};
use serde_json::{Value, json};

fn bill() -> Value {
    json!({"vendor": "EDF", "amount": 42.5, "currency": "EUR", "date": "2024-01-15"})
}

fn operation() -> Value {
    json!({"account": "acc-1", "date": "2024-02-03", "amount": -9.99, "currency": "EUR", "label": "CARD SUPERMARKET"})
}

/// `N-hex` with N as given.
#[track_caller]
fn assert_rev(rev: &Value, generation: u64) {
    let rev = rev
        .as_str()
        .unwrap_or_else(|| panic!("rev is not a string: {rev}"));
    let (n, hash) = rev
        .split_once('-')
        .unwrap_or_else(|| panic!("rev {rev} is not N-hex"));
    assert_eq!(n.parse::<u64>().ok(), Some(generation), "rev {rev}");
    assert!(
        !hash.is_empty() && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "rev {rev} is not N-hex"
    );
}

async fn field_error(api: &Api, doctype: &str, doc: Value, field: &str) {
    let err = api
        .post(&format!("/api/docs/{doctype}"), &doc)
        .await
        .expect_error(422, "invalid_document");
    assert_eq!(
        err["field"].as_str(),
        Some(field),
        "{doctype} {doc}: the error should name {field}: {err}"
    );
}

#[tokio::test]
async fn crud_with_revisions_and_conflicts() {
    let d = Daemon::start().await;
    let api = d.owner().await;

    let created = api.post("/api/docs/bill", &bill()).await.ok(201);
    let id = created["_id"].as_str().expect("_id").to_owned();
    assert_rev(&created["_rev"], 1);
    let rev1 = created["_rev"].as_str().unwrap().to_owned();

    let got = api.get(&format!("/api/docs/bill/{id}")).await.ok(200);
    assert_eq!(got["_id"], id.as_str());
    assert_eq!(got["_rev"], rev1.as_str());
    assert_eq!(got["vendor"], "EDF");
    assert_eq!(got["amount"], 42.5);

    // Update with the current revision.
    let mut doc = bill();
    doc["amount"] = json!(45.0);
    doc["_rev"] = json!(rev1);
    let updated = api.put(&format!("/api/docs/bill/{id}"), &doc).await.ok(200);
    assert_eq!(updated["_id"], id.as_str());
    assert_rev(&updated["_rev"], 2);
    let rev2 = updated["_rev"].as_str().unwrap().to_owned();
    assert_ne!(rev1, rev2);
    let got = api.get(&format!("/api/docs/bill/{id}")).await.ok(200);
    assert_eq!(got["amount"], 45.0);
    assert_eq!(got["_rev"], rev2.as_str());

    // Stale or missing revision on an existing document: 409, nothing changes.
    doc["_rev"] = json!(rev1);
    doc["amount"] = json!(1.0);
    api.put(&format!("/api/docs/bill/{id}"), &doc)
        .await
        .expect_error(409, "conflict");
    let mut no_rev = bill();
    no_rev["amount"] = json!(2.0);
    api.put(&format!("/api/docs/bill/{id}"), &no_rev)
        .await
        .expect_error(409, "conflict");
    assert_eq!(
        api.get(&format!("/api/docs/bill/{id}")).await.ok(200)["amount"],
        45.0
    );

    // PUT without _rev on a missing id creates it.
    let r = api
        .put("/api/docs/bill/bill-chosen-by-put", &bill())
        .await
        .ok(201);
    assert_eq!(r["_id"], "bill-chosen-by-put");
    assert_rev(&r["_rev"], 1);
    api.get("/api/docs/bill/bill-chosen-by-put")
        .await
        .expect(200);

    // POST with a chosen _id; the same _id again is a conflict.
    let mut chosen = bill();
    chosen["_id"] = json!("bill-2024-001");
    let r = api.post("/api/docs/bill", &chosen).await.ok(201);
    assert_eq!(r["_id"], "bill-2024-001");
    api.post("/api/docs/bill", &chosen)
        .await
        .expect_error(409, "conflict");

    // Delete: a revision is required, and must be current.
    api.delete(&format!("/api/docs/bill/{id}"))
        .await
        .expect_error(400, "missing_rev");
    api.delete(&format!("/api/docs/bill/{id}?rev={rev1}"))
        .await
        .expect_error(409, "conflict");
    api.get(&format!("/api/docs/bill/{id}")).await.expect(200);
    let del = api
        .delete(&format!("/api/docs/bill/{id}?rev={rev2}"))
        .await
        .ok(200);
    assert!(del.is_object(), "{del}");
    api.get(&format!("/api/docs/bill/{id}"))
        .await
        .expect_error(404, "not_found");

    // Never existed.
    api.get("/api/docs/bill/no-such-bill")
        .await
        .expect_error(404, "not_found");
    // Same id in another doctype is another document.
    api.get("/api/docs/note/bill-2024-001")
        .await
        .expect_error(404, "not_found");
}

#[tokio::test]
async fn schema_violations_name_the_field() {
    let d = Daemon::start().await;
    let api = d.owner().await;

    let mut b = bill();
    b["amount"] = json!("cheap");
    field_error(&api, "bill", b, "amount").await;
    let mut b = bill();
    b["amount"] = json!(-5);
    field_error(&api, "bill", b, "amount").await;
    let mut b = bill();
    b.as_object_mut().unwrap().remove("vendor");
    field_error(&api, "bill", b, "vendor").await;

    let mut op = operation();
    op.as_object_mut().unwrap().remove("label");
    field_error(&api, "bank.operation", op, "label").await;
    let mut op = operation();
    op["currency"] = json!("eur");
    field_error(&api, "bank.operation", op, "currency").await;
    let mut op = operation();
    op["date"] = json!("03/02/2024");
    field_error(&api, "bank.operation", op, "date").await;
    let mut op = operation();
    op["amount"] = json!("12.50");
    field_error(&api, "bank.operation", op, "amount").await;

    // A refused update leaves the document as it was.
    let r = api.post("/api/docs/bill", &bill()).await.ok(201);
    let id = r["_id"].as_str().unwrap();
    let mut bad = bill();
    bad["amount"] = json!("lots");
    bad["_rev"] = r["_rev"].clone();
    let err = api
        .put(&format!("/api/docs/bill/{id}"), &bad)
        .await
        .expect_error(422, "invalid_document");
    assert_eq!(err["field"], "amount");
    let got = api.get(&format!("/api/docs/bill/{id}")).await.ok(200);
    assert_eq!(got["amount"], 42.5);
    assert_eq!(got["_rev"], r["_rev"]);

    // Valid documents of the other built-in doctypes are accepted.
    api.post("/api/docs/bank.operation", &operation())
        .await
        .expect(201);
}

#[tokio::test]
async fn bulk_docs_reports_each_document() {
    let d = Daemon::start().await;
    let api = d.owner().await;

    let existing = api.post("/api/docs/bill", &bill()).await.ok(201);
    let ex_id = existing["_id"].as_str().unwrap().to_owned();
    let ex_rev = existing["_rev"].as_str().unwrap().to_owned();
    let doomed = api.post("/api/docs/bill", &bill()).await.ok(201);

    let mut stale = bill();
    stale["_id"] = json!(ex_id);
    stale["_rev"] = json!("1-00000000000000000000000000000000");
    let mut invalid = bill();
    invalid["amount"] = json!("not a number");
    let mut with_id = bill();
    with_id["_id"] = json!("bulk-chosen");
    let deletion = json!({"_id": doomed["_id"], "_rev": doomed["_rev"], "_deleted": true});

    let docs = json!({"docs": [bill(), invalid, with_id, stale, deletion, bill()]});
    let results = api.post("/api/docs/bill/_bulk_docs", &docs).await.ok(201);
    let results = results.as_array().expect("a JSON array of results");
    assert_eq!(results.len(), 6, "one result per document: {results:?}");

    for i in [0, 2, 5] {
        assert_eq!(results[i]["ok"], true, "doc {i}: {}", results[i]);
        assert_rev(&results[i]["rev"], 1);
        let id = results[i]["id"].as_str().expect("id");
        let got = api.get(&format!("/api/docs/bill/{id}")).await.ok(200);
        assert_eq!(got["_rev"], results[i]["rev"]);
    }
    assert_eq!(results[2]["id"], "bulk-chosen");

    assert_eq!(results[1]["ok"], false, "{}", results[1]);
    assert_eq!(results[1]["error"], "invalid_document", "{}", results[1]);
    assert!(results[1]["reason"].is_string(), "{}", results[1]);

    assert_eq!(results[3]["ok"], false, "{}", results[3]);
    assert_eq!(results[3]["error"], "conflict", "{}", results[3]);
    assert_eq!(results[3]["id"], ex_id.as_str());
    let got = api.get(&format!("/api/docs/bill/{ex_id}")).await.ok(200);
    assert_eq!(
        got["_rev"],
        ex_rev.as_str(),
        "a conflicting bulk doc changed nothing"
    );

    assert_eq!(results[4]["ok"], true, "{}", results[4]);
    assert_eq!(results[4]["id"], doomed["_id"]);
    api.get(&format!(
        "/api/docs/bill/{}",
        doomed["_id"].as_str().unwrap()
    ))
    .await
    .expect_error(404, "not_found");

    // An update through bulk with the right revision.
    let mut upd = bill();
    upd["_id"] = json!(ex_id);
    upd["_rev"] = json!(ex_rev);
    upd["vendor"] = json!("Engie");
    let r = api
        .post("/api/docs/bill/_bulk_docs", &json!({"docs": [upd]}))
        .await
        .ok(201);
    assert_eq!(r[0]["ok"], true, "{r}");
    assert_rev(&r[0]["rev"], 2);
    let got = api.get(&format!("/api/docs/bill/{ex_id}")).await.ok(200);
    assert_eq!(got["vendor"], "Engie");
}

#[tokio::test]
async fn doctypes_builtin_unknown_invalid_and_custom() {
    let d = Daemon::start().await;
    let api = d.owner().await;

    let list = api.get("/api/doctypes").await.ok(200);
    let names: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    for builtin in [
        "bank.account",
        "bank.operation",
        "bill",
        "energy.reading",
        "link",
        "contact",
        "note",
    ] {
        assert!(names.contains(&builtin), "{builtin} not in {names:?}");
    }

    let op = api.get("/api/doctypes/bank.operation").await.ok(200);
    let required: Vec<&str> = op["schema"]["required"]
        .as_array()
        .expect("schema.required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for f in ["account", "date", "amount", "currency", "label"] {
        assert!(required.contains(&f), "bank.operation requires {f}: {op}");
    }
    let indexes: Vec<&str> = op["indexes"]
        .as_array()
        .expect("indexes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for f in ["date", "account", "amount", "vendor_id"] {
        assert!(indexes.contains(&f), "bank.operation indexes {f}: {op}");
    }

    // Unknown and badly named doctypes.
    api.get("/api/doctypes/com.example.nothing")
        .await
        .expect_error(404, "unknown_doctype");
    api.post("/api/docs/com.example.nothing", &json!({"a": 1}))
        .await
        .expect_error(404, "unknown_doctype");
    api.get("/api/docs/com.example.nothing/some-id")
        .await
        .expect_error(404, "unknown_doctype");
    for bad in ["Bank", "a..b", ".note", "note.", "bank operation", "x%2Fy"] {
        api.put(&format!("/api/doctypes/{bad}"), &json!({"indexes": []}))
            .await
            .expect_error(400, "invalid_doctype");
        api.post(&format!("/api/docs/{bad}"), &json!({"a": 1}))
            .await
            .expect_error(400, "invalid_doctype");
    }

    // Registering a custom doctype needs the owner.
    let recipe = json!({
        "schema": {
            "type": "object",
            "required": ["title"],
            "properties": {
                "title": {"type": "string", "minLength": 1},
                "minutes": {"type": "integer", "minimum": 0}
            }
        },
        "indexes": ["minutes"]
    });
    let (reader, _) = api
        .create_token("reader", &["docs:read", "docs:write"])
        .await;
    reader
        .put("/api/doctypes/com.example.recipe", &recipe)
        .await
        .expect_error(403, "forbidden");
    let r = api.put("/api/doctypes/com.example.recipe", &recipe).await;
    assert!(
        r.status == 200 || r.status == 201,
        "register doctype: {} {}",
        r.status,
        r.text()
    );
    let got = api.get("/api/doctypes/com.example.recipe").await.ok(200);
    assert_eq!(got["schema"]["required"], json!(["title"]), "{got}");
    assert_eq!(got["indexes"], json!(["minutes"]), "{got}");

    // Its schema is enforced; its index sorts.
    field_error(&api, "com.example.recipe", json!({"minutes": 5}), "title").await;
    field_error(
        &api,
        "com.example.recipe",
        json!({"title": "Soup", "minutes": "long"}),
        "minutes",
    )
    .await;
    for (title, minutes) in [("Soup", 40), ("Salad", 10), ("Stew", 180)] {
        api.post(
            "/api/docs/com.example.recipe",
            &json!({"title": title, "minutes": minutes}),
        )
        .await
        .expect(201);
    }
    let found = api
        .post(
            "/api/docs/com.example.recipe/_find",
            &json!({"selector": {}, "sort": ["minutes"]}),
        )
        .await
        .ok(200);
    let titles: Vec<&str> = found["docs"]
        .as_array()
        .expect("docs")
        .iter()
        .filter_map(|d| d["title"].as_str())
        .collect();
    assert_eq!(titles, ["Salad", "Soup", "Stew"]);
    // A token scoped to the new doctype works for it.
    let (only, _) = api
        .create_token("recipes", &["docs:read:com.example.recipe"])
        .await;
    only.post(
        "/api/docs/com.example.recipe/_find",
        &json!({"selector": {}}),
    )
    .await
    .expect(200);
}
