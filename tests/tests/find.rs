//! `_find` over 300 `bank.operation` documents seeded with `_bulk_docs`:
//! every selector operator (checked against the same filter computed here),
//! dotted paths and `_id`, type bracketing, sorting both ways on indexed
//! fields, paging with bookmarks (every match exactly once, in order), and the
//! errors (no_index, invalid_limit, invalid_selector, invalid_bookmark).

use std::collections::BTreeSet;

use foyer_e2e::{Api, Daemon};
use serde_json::{Value, json};

const N: usize = 300;

#[derive(Debug, Clone)]
struct Op {
    id: String,
    account: String,
    date: String,
    amount: f64,
    currency: &'static str,
    vendor_id: String,
    counterparty: Option<String>,
    tag: &'static str,
    n: usize,
}

fn ops() -> Vec<Op> {
    (0..N)
        .map(|i| Op {
            id: format!("op-{i:04}"),
            account: format!("acc-{}", i % 3),
            date: format!("2024-{:02}-{:02}", 1 + i % 12, 1 + (i / 12) % 28),
            amount: i as f64 * 1.5 - 200.0,
            currency: if i % 4 == 0 { "USD" } else { "EUR" },
            vendor_id: format!("v{i:04}"),
            counterparty: (i % 5 == 0).then(|| format!("cp-{}", i % 7)),
            tag: if i % 2 == 0 { "even" } else { "odd" },
            n: i,
        })
        .collect()
}

fn to_doc(op: &Op) -> Value {
    let mut d = json!({
        "_id": op.id,
        "account": op.account,
        "date": op.date,
        "amount": op.amount,
        "currency": op.currency,
        "label": format!("operation {}", op.n),
        "vendor_id": op.vendor_id,
        "meta": {"tag": op.tag, "n": op.n},
    });
    if let Some(cp) = &op.counterparty {
        d["counterparty"] = json!(cp);
    }
    d
}

async fn seeded() -> (Daemon, Api, Vec<Op>) {
    let d = Daemon::start().await;
    let api = d.owner().await;
    let ops = ops();
    let docs: Vec<Value> = ops.iter().map(to_doc).collect();
    let results = api
        .post(
            "/api/docs/bank.operation/_bulk_docs",
            &json!({ "docs": docs }),
        )
        .await
        .ok(201);
    let results = results.as_array().expect("array of results");
    assert_eq!(results.len(), N);
    for (r, op) in results.iter().zip(&ops) {
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(r["id"], op.id.as_str(), "results are in order");
        assert!(
            r["rev"].as_str().is_some_and(|s| s.starts_with("1-")),
            "{r}"
        );
    }
    // A document of another doctype must never show up.
    api.post(
        "/api/docs/bill",
        &json!({"vendor": "acc-1", "amount": 1, "currency": "EUR", "date": "2024-01-01"}),
    )
    .await
    .expect(201);
    (d, api, ops)
}

async fn find(api: &Api, body: Value) -> Value {
    api.post("/api/docs/bank.operation/_find", &body)
        .await
        .ok(200)
}

fn ids(page: &Value) -> Vec<String> {
    page["docs"]
        .as_array()
        .unwrap_or_else(|| panic!("no docs array: {page}"))
        .iter()
        .map(|d| d["_id"].as_str().expect("_id").to_owned())
        .collect()
}

/// All matches of `selector` in one page (limit 1000), as a set.
async fn matching(api: &Api, selector: Value) -> BTreeSet<String> {
    let page = find(api, json!({"selector": selector, "limit": 1000})).await;
    let v = ids(&page);
    let set: BTreeSet<String> = v.iter().cloned().collect();
    assert_eq!(set.len(), v.len(), "duplicates for {selector}");
    assert!(
        page["bookmark"].is_null(),
        "bookmark on a partial page: {page}"
    );
    set
}

fn expect(ops: &[Op], f: impl Fn(&Op) -> bool) -> BTreeSet<String> {
    ops.iter().filter(|o| f(o)).map(|o| o.id.clone()).collect()
}

#[tokio::test]
async fn selector_operators() {
    let (_d, api, ops) = seeded().await;

    let cases: Vec<(Value, BTreeSet<String>)> = vec![
        (json!({}), expect(&ops, |_| true)),
        (
            json!({"account": "acc-1"}),
            expect(&ops, |o| o.account == "acc-1"),
        ),
        (
            json!({"account": {"$eq": "acc-1"}}),
            expect(&ops, |o| o.account == "acc-1"),
        ),
        (
            json!({"account": {"$ne": "acc-1"}}),
            expect(&ops, |o| o.account != "acc-1"),
        ),
        (
            json!({"amount": {"$gt": 100}}),
            expect(&ops, |o| o.amount > 100.0),
        ),
        (
            json!({"amount": {"$gte": 100}}),
            expect(&ops, |o| o.amount >= 100.0),
        ),
        (
            json!({"amount": {"$lt": -152}}),
            expect(&ops, |o| o.amount < -152.0),
        ),
        (
            json!({"amount": {"$lte": -152.0}}),
            expect(&ops, |o| o.amount <= -152.0),
        ),
        (
            json!({"amount": {"$gt": 0, "$lte": 10.5}}),
            expect(&ops, |o| o.amount > 0.0 && o.amount <= 10.5),
        ),
        (
            json!({"vendor_id": {"$in": ["v0001", "v0150", "v9999"]}}),
            expect(&ops, |o| o.vendor_id == "v0001" || o.vendor_id == "v0150"),
        ),
        (
            json!({"counterparty": {"$exists": true}}),
            expect(&ops, |o| o.counterparty.is_some()),
        ),
        (
            json!({"counterparty": {"$exists": false}}),
            expect(&ops, |o| o.counterparty.is_none()),
        ),
        (
            json!({"$and": [{"account": "acc-0"}, {"currency": "USD"}]}),
            expect(&ops, |o| o.account == "acc-0" && o.currency == "USD"),
        ),
        (
            json!({"account": "acc-0", "currency": "USD"}),
            expect(&ops, |o| o.account == "acc-0" && o.currency == "USD"),
        ),
        (
            json!({"$or": [{"account": "acc-2"}, {"amount": {"$lt": -190}}]}),
            expect(&ops, |o| o.account == "acc-2" || o.amount < -190.0),
        ),
        (
            json!({"$and": [
                {"$or": [{"currency": "USD"}, {"counterparty": {"$exists": true}}]},
                {"amount": {"$gte": 0}}
            ]}),
            expect(&ops, |o| {
                (o.currency == "USD" || o.counterparty.is_some()) && o.amount >= 0.0
            }),
        ),
        (
            json!({"meta.tag": "even"}),
            expect(&ops, |o| o.tag == "even"),
        ),
        (
            json!({"meta.n": {"$gte": 295}}),
            expect(&ops, |o| o.n >= 295),
        ),
        (
            json!({"date": {"$gte": "2024-06-01", "$lt": "2024-07-01"}}),
            expect(&ops, |o| {
                o.date.as_str() >= "2024-06-01" && o.date.as_str() < "2024-07-01"
            }),
        ),
        (
            json!({"_id": "op-0007"}),
            expect(&ops, |o| o.id == "op-0007"),
        ),
        (
            json!({"_id": {"$gte": "op-0290"}}),
            expect(&ops, |o| o.id.as_str() >= "op-0290"),
        ),
        (
            json!({"_id": {"$in": ["op-0003", "op-0299", "op-9999"]}}),
            expect(&ops, |o| o.id == "op-0003" || o.id == "op-0299"),
        ),
        // Type bracketing: a number never matches a string, nor the reverse.
        (json!({"amount": {"$gt": "0"}}), BTreeSet::new()),
        (json!({"amount": {"$lt": "zzz"}}), BTreeSet::new()),
        (json!({"vendor_id": {"$lt": 1000}}), BTreeSet::new()),
        (json!({"amount": "100"}), BTreeSet::new()),
        (json!({"account": {"$in": [0, 1, 2]}}), BTreeSet::new()),
        (json!({"no_such_field": "x"}), BTreeSet::new()),
    ];
    for (selector, want) in cases {
        let got = matching(&api, selector.clone()).await;
        assert_eq!(
            got,
            want,
            "selector {selector}: got {} docs, want {}",
            got.len(),
            want.len()
        );
    }
}

#[tokio::test]
async fn sorting_paging_and_errors() {
    let (_d, api, ops) = seeded().await;

    // Sort ascending and descending on an indexed field.
    let mut by_amount: Vec<&Op> = ops.iter().filter(|o| o.account == "acc-0").collect();
    by_amount.sort_by(|a, b| a.amount.total_cmp(&b.amount));
    let asc: Vec<String> = by_amount.iter().map(|o| o.id.clone()).collect();
    let page = find(
        &api,
        json!({"selector": {"account": "acc-0"}, "sort": ["amount"], "limit": 1000}),
    )
    .await;
    assert_eq!(ids(&page), asc, "ascending by amount");
    let page = find(
        &api,
        json!({"selector": {"account": "acc-0"}, "sort": [{"amount": "desc"}], "limit": 1000}),
    )
    .await;
    let mut desc = asc.clone();
    desc.reverse();
    assert_eq!(ids(&page), desc, "descending by amount");
    let page = find(
        &api,
        json!({"selector": {}, "sort": [{"date": "desc"}], "limit": 1000}),
    )
    .await;
    let dates: Vec<String> = page["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(dates.len(), N);
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "dates not descending"
    );

    // Default limit: 25, with a bookmark because the page is full.
    let page = find(&api, json!({"selector": {}})).await;
    assert_eq!(ids(&page).len(), 25);
    assert!(page["bookmark"].is_string(), "{page}");
    let page = find(&api, json!({"selector": {}, "limit": 1000})).await;
    assert_eq!(ids(&page).len(), N);

    // Paging through everything, amount descending, 25 a page: 12 full pages
    // then an empty one; every document exactly once, in order.
    let mut all_desc: Vec<&Op> = ops.iter().collect();
    all_desc.sort_by(|a, b| b.amount.total_cmp(&a.amount));
    let want: Vec<String> = all_desc.iter().map(|o| o.id.clone()).collect();
    let got = page_through(
        &api,
        json!({"selector": {}, "sort": [{"amount": "desc"}], "limit": 25}),
        25,
    )
    .await;
    assert_eq!(got, want, "paging by amount desc");

    // Paging on a field with many equal values (dates), 7 a page.
    let got = page_through(
        &api,
        json!({"selector": {"account": "acc-0"}, "sort": ["date"], "limit": 7}),
        7,
    )
    .await;
    let want = expect(&ops, |o| o.account == "acc-0");
    assert_eq!(
        got.len(),
        want.len(),
        "every match once when sorting by date"
    );
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), want);
    let date_of = |id: &String| ops.iter().find(|o| &o.id == id).unwrap().date.clone();
    assert!(
        got.windows(2).all(|w| date_of(&w[0]) <= date_of(&w[1])),
        "pages are not in date order"
    );

    // Paging without a sort.
    let got = page_through(
        &api,
        json!({"selector": {"currency": "USD"}, "limit": 10}),
        10,
    )
    .await;
    let want = expect(&ops, |o| o.currency == "USD");
    assert_eq!(got.len(), want.len(), "every match once without sort");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);

    // Errors.
    for sort in [json!(["label"]), json!([{"currency": "asc"}])] {
        api.post(
            "/api/docs/bank.operation/_find",
            &json!({"selector": {}, "sort": sort}),
        )
        .await
        .expect_error(400, "no_index");
    }
    for limit in [0, 1001, 5000] {
        api.post(
            "/api/docs/bank.operation/_find",
            &json!({"selector": {}, "limit": limit}),
        )
        .await
        .expect_error(400, "invalid_limit");
    }
    for selector in [
        json!({"amount": {"$regex": "^1"}}),
        json!({"$or": {"account": "acc-1"}}),
        json!({"$and": "acc-1"}),
        json!({"amount": {"$in": 5}}),
        json!({"counterparty": {"$exists": "yes"}}),
        json!([{"account": "acc-1"}]),
        json!("acc-1"),
    ] {
        api.post(
            "/api/docs/bank.operation/_find",
            &json!({ "selector": selector }),
        )
        .await
        .expect_error(400, "invalid_selector");
    }
    for bookmark in ["garbage!!", "AAAA", "eyJub3QiOiJ5b3VycyJ9"] {
        api.post(
            "/api/docs/bank.operation/_find",
            &json!({"selector": {}, "sort": ["amount"], "bookmark": bookmark}),
        )
        .await
        .expect_error(400, "invalid_bookmark");
    }
}

/// Follows bookmarks to the end; checks that a bookmark is given exactly
/// when a page is full.
async fn page_through(api: &Api, mut body: Value, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = find(api, body.clone()).await;
        let got = ids(&page);
        assert!(got.len() <= limit, "page larger than the limit");
        let full = got.len() == limit;
        out.extend(got);
        match (&page["bookmark"], full) {
            (Value::String(b), true) => body["bookmark"] = json!(b),
            (Value::Null, false) => return out,
            (b, full) => panic!("bookmark {b} on a page that is full={full}: {page}"),
        }
    }
    panic!("paging did not end after 1000 pages");
}
