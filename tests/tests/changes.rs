//! The change feed: creations, updates and deletions in sequence order,
//! `since`/`limit` paging, the doctype filter, tokens limited to one doctype
//! seeing only its changes, and long polling.

use std::collections::BTreeMap;
use std::time::Duration;

use foyer_e2e::{Api, Daemon};
use serde_json::{Value, json};

fn bill(n: u32) -> Value {
    json!({"vendor": format!("vendor {n}"), "amount": n, "currency": "EUR", "date": "2024-04-01"})
}

fn operation() -> Value {
    json!({"account": "acc-1", "date": "2024-02-03", "amount": -3.5, "currency": "EUR", "label": "COFFEE"})
}

async fn last_seq(api: &Api) -> i64 {
    let v = api.get("/api/changes?since=0").await.ok(200);
    v["last_seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("last_seq: {v}"))
}

fn results(page: &Value) -> Vec<Value> {
    page["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results: {page}"))
        .clone()
}

#[tokio::test]
async fn feed_lists_creations_updates_and_deletions() {
    let d = Daemon::start().await;
    let api = d.owner().await;
    let start = last_seq(&api).await;

    let a = api.post("/api/docs/bill", &bill(1)).await.ok(201);
    let b = api
        .post("/api/docs/bank.operation", &operation())
        .await
        .ok(201);
    let a_id = a["_id"].as_str().unwrap().to_owned();
    let b_id = b["_id"].as_str().unwrap().to_owned();
    let mut upd = bill(2);
    upd["_rev"] = a["_rev"].clone();
    let a2 = api
        .put(&format!("/api/docs/bill/{a_id}"), &upd)
        .await
        .ok(200);
    let b_del = api
        .delete(&format!(
            "/api/docs/bank.operation/{b_id}?rev={}",
            b["_rev"].as_str().unwrap()
        ))
        .await
        .ok(200);

    let page = api
        .get(&format!("/api/changes?since={start}"))
        .await
        .ok(200);
    let res = results(&page);
    assert!(!res.is_empty(), "{page}");
    let seqs: Vec<i64> = res
        .iter()
        .map(|r| r["seq"].as_i64().expect("seq"))
        .collect();
    assert!(
        seqs.iter().all(|s| *s > start),
        "since is exclusive: {page}"
    );
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seqs increase: {page}"
    );
    assert!(
        page["last_seq"].as_i64().expect("last_seq") >= *seqs.last().unwrap(),
        "{page}"
    );
    // The latest entry of each document tells its current state.
    let mut latest: BTreeMap<String, Value> = BTreeMap::new();
    for r in &res {
        latest.insert(r["id"].as_str().unwrap().to_owned(), r.clone());
    }
    let la = &latest[&a_id];
    assert_eq!(la["doctype"], "bill");
    assert_eq!(la["rev"], a2["_rev"]);
    assert_eq!(la["deleted"], false);
    let lb = &latest[&b_id];
    assert_eq!(lb["doctype"], "bank.operation");
    assert_eq!(lb["deleted"], true, "deletions appear in the feed: {lb}");
    if let Some(rev) = b_del["_rev"].as_str() {
        assert_eq!(lb["rev"], rev, "the tombstone's rev");
    }

    // Doctype filter.
    let page = api
        .get(&format!("/api/changes?since={start}&doctype=bill"))
        .await
        .ok(200);
    let res = results(&page);
    assert!(!res.is_empty());
    assert!(res.iter().all(|r| r["doctype"] == "bill"), "{page}");

    // Paging with limit and since.
    let mut since = start;
    let mut seen = Vec::new();
    for _ in 0..100 {
        let page = api
            .get(&format!("/api/changes?since={since}&limit=1"))
            .await
            .ok(200);
        let res = results(&page);
        assert!(res.len() <= 1, "limit=1: {page}");
        let Some(r) = res.first() else { break };
        seen.push(r["seq"].as_i64().unwrap());
        since = page["last_seq"].as_i64().unwrap();
        assert_eq!(
            since,
            r["seq"].as_i64().unwrap(),
            "last_seq of a page: {page}"
        );
    }
    assert_eq!(seen, seqs, "paging with limit=1 sees the same changes");
}

#[tokio::test]
async fn doctype_scoped_tokens_see_only_their_doctype() {
    let d = Daemon::start().await;
    let api = d.owner().await;
    let start = last_seq(&api).await;
    let (bills_only, _) = api.create_token("bills", &["docs:read:bill"]).await;
    api.post("/api/docs/bank.operation", &operation())
        .await
        .expect(201);
    let bill_id = api.post("/api/docs/bill", &bill(3)).await.ok(201)["_id"].clone();
    api.post(
        "/api/docs/note",
        &json!({"title": "secret note", "content": "shh"}),
    )
    .await
    .expect(201);

    let page = bills_only
        .get(&format!("/api/changes?since={start}"))
        .await
        .ok(200);
    let res = results(&page);
    assert_eq!(res.len(), 1, "only the bill: {page}");
    assert_eq!(res[0]["doctype"], "bill");
    assert_eq!(res[0]["id"], bill_id);

    // A token without any docs scope sees nothing.
    let (files_only, _) = api.create_token("files", &["files:read"]).await;
    let r = files_only.get(&format!("/api/changes?since={start}")).await;
    if r.status == 200 {
        assert!(results(&r.json()).is_empty(), "{}", r.text());
    } else {
        r.expect_error(403, "forbidden");
    }
}

#[tokio::test]
async fn longpoll_returns_when_a_change_arrives() {
    let d = Daemon::start().await;
    let api = d.owner().await;
    let since = last_seq(&api).await;

    // Nothing new: a short long poll comes back empty.
    let page = api
        .get(&format!(
            "/api/changes?since={since}&feed=longpoll&timeout=200"
        ))
        .await
        .ok(200);
    assert!(results(&page).is_empty(), "{page}");

    // A waiting long poll completes with the change made after it started.
    let poller = api.clone();
    let waiting = tokio::spawn(async move {
        poller
            .get(&format!(
                "/api/changes?since={since}&feed=longpoll&timeout=60000"
            ))
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let created = api.post("/api/docs/bill", &bill(7)).await.ok(201);
    let resp = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the long poll never returned after a change")
        .expect("long poll task");
    let page = resp.ok(200);
    let res = results(&page);
    assert!(
        res.iter()
            .any(|r| r["id"] == created["_id"] && r["rev"] == created["_rev"]),
        "the long poll result lacks the new document: {page}"
    );
}
