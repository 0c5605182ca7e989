//! `_find` against a model: random documents in a real (encrypted) SQLite
//! vault, random selectors and sorts; the planner's index-narrowed answer,
//! paged with bookmarks, must equal a brute-force filter of all documents.
//! This is what proves that index ranges never drop a matching document.

use std::collections::BTreeSet;

use foyerd::vault::docs::FindRequest;
use foyerd::vault::keys::Keyring;
use foyerd::vault::query::Selector;
use foyerd::vault::{StorageLimits, Vault};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

fn op_doc(i: usize, day: u8, amount: f64, vendor: Option<&str>) -> Value {
    let mut d = json!({
        "account": if i.is_multiple_of(3) { "acc-a" } else { "acc-b" },
        "date": format!("2026-01-{:02}", day),
        "amount": amount,
        "currency": "EUR",
        "label": format!("op {i}"),
    });
    if let Some(v) = vendor {
        d["vendor_id"] = json!(v);
    }
    d
}

fn selector() -> impl Strategy<Value = Value> {
    let date = (1u8..=28).prop_map(|d| json!(format!("2026-01-{d:02}")));
    let amount = (-50i32..50).prop_map(|a| json!(a as f64 / 2.0));
    let cond = prop_oneof![
        date.clone().prop_map(|d| json!({"date": d})),
        date.clone().prop_map(|d| json!({"date": {"$gte": d}})),
        date.clone().prop_map(|d| json!({"date": {"$lt": d}})),
        (date.clone(), date).prop_map(|(a, b)| json!({"date": {"$gt": a, "$lte": b}})),
        amount.clone().prop_map(|a| json!({"amount": {"$gt": a}})),
        amount.clone().prop_map(|a| json!({"amount": {"$lte": a}})),
        amount.prop_map(|a| json!({"amount": {"$ne": a}})),
        Just(json!({"vendor_id": {"$in": ["v1", "v3"]}})),
        Just(json!({"vendor_id": {"$exists": false}})),
        Just(json!({"account": "acc-a"})),
        Just(json!({"amount": {"$gt": "text never matches numbers"}})),
    ];
    prop::collection::vec(cond, 1..3).prop_flat_map(|conds| {
        prop_oneof![
            Just(json!({"$and": conds.clone()})),
            Just(json!({"$or": conds})),
        ]
    })
}

#[test]
fn find_agrees_with_brute_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (_ring, master) = Keyring::open_or_create(&dir.path().join("keys")).expect("keys");
    let limits = StorageLimits {
        min_free_bytes: 0,
        files_quota_bytes: None,
    };
    let vault = rt
        .block_on(Vault::open(dir.path(), &master, limits))
        .expect("vault");

    // 400 documents with collisions on every indexed field.
    let mut docs = Vec::new();
    for i in 0..400usize {
        let vendor = match i % 4 {
            0 => None,
            k => Some(["v1", "v2", "v3"][k - 1]),
        };
        docs.push(op_doc(
            i,
            (i % 28 + 1) as u8,
            ((i * 37) % 100) as f64 / 2.0 - 25.0,
            vendor,
        ));
    }
    let results = rt
        .block_on(vault.bulk_docs("bank.operation", docs))
        .expect("bulk");
    assert!(results.iter().all(|r| r.ok));
    let all: Vec<(String, Value)> = {
        let page = rt
            .block_on(vault.find(
                "bank.operation",
                FindRequest {
                    limit: Some(1000),
                    ..FindRequest::default()
                },
            ))
            .expect("all");
        page.docs
            .into_iter()
            .map(|d| (d["_id"].as_str().expect("id").to_owned(), d))
            .collect()
    };
    assert_eq!(all.len(), 400);

    let mut runner = TestRunner::new(Config::with_cases(150));
    let sorts = prop_oneof![
        Just(None),
        Just(Some(json!(["date"]))),
        Just(Some(json!([{"date": "desc"}]))),
        Just(Some(json!([{"amount": "asc"}]))),
        Just(Some(json!(["_id"]))),
    ];
    runner
        .run(&(selector(), sorts, 1u32..60), |(sel, sort, limit)| {
            let parsed = Selector::parse(&sel).expect("valid selector");
            let sort_field = sort.as_ref().and_then(|s| {
                s[0].as_str()
                    .map(str::to_owned)
                    .or_else(|| s[0].as_object().and_then(|o| o.keys().next().cloned()))
            });
            let expected: BTreeSet<String> = all
                .iter()
                .filter(|(id, d)| {
                    let body = d.clone();
                    parsed.matches(id, &body)
                        && sort_field
                            .as_deref()
                            .is_none_or(|f| f == "_id" || body.get(f).is_some())
                })
                .map(|(id, _)| id.clone())
                .collect();
            // Page through with bookmarks.
            let mut got = Vec::new();
            let mut bookmark = None;
            loop {
                let page = rt
                    .block_on(vault.find(
                        "bank.operation",
                        FindRequest {
                            selector: Some(sel.clone()),
                            sort: sort.clone(),
                            limit: Some(limit),
                            bookmark: bookmark.clone(),
                        },
                    ))
                    .map_err(|e| TestCaseError::fail(format!("{sel} {sort:?}: {e}")))?;
                prop_assert!(page.docs.len() as u32 <= limit);
                got.extend(page.docs);
                match page.bookmark {
                    Some(b) => bookmark = Some(b),
                    None => break,
                }
            }
            let ids: Vec<String> = got
                .iter()
                .map(|d| d["_id"].as_str().unwrap_or_default().to_owned())
                .collect();
            let unique: BTreeSet<String> = ids.iter().cloned().collect();
            prop_assert_eq!(unique.len(), ids.len(), "a document came twice for {}", sel);
            prop_assert_eq!(&unique, &expected, "selector {} sort {:?}", sel, sort);
            // Sorted pages come in order.
            if let Some(f) = sort_field.as_deref().filter(|f| *f != "_id") {
                let desc = sort
                    .as_ref()
                    .is_some_and(|s| s[0].get(f).is_some_and(|d| d == "desc"));
                let keys: Vec<Value> = got.iter().map(|d| d[f].clone()).collect();
                for w in keys.windows(2) {
                    let ord = match (&w[0], &w[1]) {
                        (Value::String(a), Value::String(b)) => a.cmp(b),
                        (a, b) => a
                            .as_f64()
                            .partial_cmp(&b.as_f64())
                            .unwrap_or(std::cmp::Ordering::Equal),
                    };
                    prop_assert!(
                        if desc { ord.is_ge() } else { ord.is_le() },
                        "out of order on {}: {:?}",
                        f,
                        keys
                    );
                }
            }
            Ok(())
        })
        .expect("find matches the model");
    vault.close();
}
