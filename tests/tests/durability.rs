//! Crash safety: documents acknowledged before a `kill -9` are all there, at
//! their acknowledged revision, after a restart on the same data directory
//! and ports; an upload interrupted by a `kill -9` leaves no file and no
//! temporary blob once the box has started again.

use std::time::Duration;

use foyer_e2e::{Daemon, Method, random_bytes, wait_until};
use serde_json::json;

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let mut d = Daemon::start().await;
    let owner = d.owner().await;
    let (api, _) = owner
        .create_token("durability", &["docs:read", "docs:write"])
        .await;

    // 200 single-document writes from 4 concurrent writers, each acknowledged.
    let writers = (0..4).map(|w| {
        let api = api.clone();
        async move {
            let mut acked = Vec::new();
            for i in 0..50 {
                let n = w * 50 + i;
                let v = api
                    .post(
                        "/api/docs/bill",
                        &json!({"vendor": format!("writer {w}"), "amount": n, "currency": "EUR",
                                "date": "2024-05-01", "reference": format!("ref-{n}")}),
                    )
                    .await
                    .ok(201);
                acked.push((
                    v["_id"].as_str().unwrap().to_owned(),
                    v["_rev"].as_str().unwrap().to_owned(),
                    n,
                ));
            }
            acked
        }
    });
    let mut acked: Vec<(String, String, usize)> = futures_util::future::join_all(writers)
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(acked.len(), 200);

    // Some updates and one deletion, also acknowledged.
    for entry in acked.iter_mut().take(20) {
        let v = api
            .put(
                &format!("/api/docs/bill/{}", entry.0),
                &json!({"vendor": "updated", "amount": entry.2, "currency": "EUR",
                        "date": "2024-05-02", "_rev": entry.1}),
            )
            .await
            .ok(200);
        entry.1 = v["_rev"].as_str().unwrap().to_owned();
    }
    let (gone_id, gone_rev, _) = acked.pop().unwrap();
    api.delete(&format!("/api/docs/bill/{gone_id}?rev={gone_rev}"))
        .await
        .expect(200);

    // Power cut: no shutdown, no checkpoint.
    d.kill().await;
    d.restart().await;

    for (i, (id, rev, n)) in acked.iter().enumerate() {
        let got = api.get(&format!("/api/docs/bill/{id}")).await;
        let got = got.ok(200);
        assert_eq!(got["_rev"], rev.as_str(), "doc {id}: acknowledged rev lost");
        assert_eq!(got["amount"], *n as u64);
        if i < 20 {
            assert_eq!(got["vendor"], "updated", "acknowledged update lost");
        }
    }
    api.get(&format!("/api/docs/bill/{gone_id}"))
        .await
        .expect_error(404, "not_found");
    let all = api
        .post(
            "/api/docs/bill/_find",
            &json!({"selector": {}, "limit": 1000}),
        )
        .await
        .ok(200);
    assert_eq!(all["docs"].as_array().unwrap().len(), 199);
    // The box still takes writes.
    api.post(
        "/api/docs/bill",
        &json!({"vendor": "after", "amount": 1, "currency": "EUR", "date": "2024-05-03"}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn upload_interrupted_by_kill_9_leaves_nothing() {
    let mut d = Daemon::start().await;
    let owner = d.owner().await;
    let (api, _) = owner
        .create_token("uploader", &["files:read", "files:write"])
        .await;
    api.put_bytes("/api/files/keep.txt", b"kept".to_vec())
        .await
        .expect(201);
    let blobs_before = d.blob_files();

    // A 50 MiB upload fed slowly through a channel.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let rb = api
        .request(Method::PUT, "/api/files/big/huge.bin")
        .header("Content-Type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(stream));
    let upload = tokio::spawn(async move { rb.send().await });

    let chunk = 1024 * 1024;
    let mut sent = 0usize;
    for _ in 0..6 {
        tx.send(Ok(random_bytes(chunk)))
            .await
            .expect("feed the upload");
        sent += chunk;
    }
    // The daemon is writing the temporary blob.
    wait_until(
        "a temporary blob under blobs/tmp",
        Duration::from_secs(30),
        || {
            d.tmp_blobs()
                .iter()
                .any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        },
    )
    .await;
    assert!(sent < 50 * chunk);

    d.kill().await;
    drop(tx);
    let outcome = tokio::time::timeout(Duration::from_secs(60), upload)
        .await
        .expect("the interrupted upload never finished")
        .expect("upload task");
    if let Ok(resp) = &outcome {
        assert!(
            !resp.status().is_success(),
            "an interrupted upload was acknowledged: {}",
            resp.status()
        );
    }

    d.restart().await;
    assert!(
        d.tmp_blobs().is_empty(),
        "temporary blobs remain after start: {:?}",
        d.tmp_blobs()
    );
    assert_eq!(d.blob_files(), blobs_before, "orphan blob left behind");
    api.get("/api/files/big/huge.bin")
        .await
        .expect_error(404, "not_found");
    let listing = api.get("/api/files/").await.ok(200);
    let names: Vec<&str> = listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .filter(|n| *n != "big")
        .collect();
    assert_eq!(names, ["keep.txt"], "{listing}");
    assert_eq!(
        api.get("/api/files/keep.txt").await.expect(200).body,
        b"kept"
    );
}

/// Writers keep going while the daemon is killed: whatever was acknowledged
/// before the kill (2xx received) is there after the restart, whatever the
/// moment of the kill — including a `_bulk_docs` batch that is all-or-nothing
/// on disk because it is one transaction.
#[tokio::test]
async fn writes_in_flight_at_kill_9_lose_nothing_acknowledged() {
    let mut d = Daemon::start().await;
    let owner = d.owner().await;
    let (api, _) = owner
        .create_token("in-flight", &["docs:read", "docs:write"])
        .await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let api = api.clone();
            let stop = stop.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let mut acked: Vec<(String, String)> = Vec::new();
                let mut n = 0u32;
                // Bounded: at most 2000 writes per writer.
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 2000 {
                    n += 1;
                    let body = if w == 0 {
                        json!({"docs": (0..50).map(|i| json!({"vendor": "bulk", "amount": i,
                            "currency": "EUR", "date": "2024-06-01"})).collect::<Vec<_>>()})
                    } else {
                        json!({"vendor": format!("w{w}"), "amount": n, "currency": "EUR",
                               "date": "2024-06-01"})
                    };
                    let path = if w == 0 {
                        "/api/docs/bill/_bulk_docs"
                    } else {
                        "/api/docs/bill"
                    };
                    let sent = api.request(Method::POST, path).json(&body).send().await;
                    let Ok(resp) = sent else { break };
                    assert!(
                        resp.status() == 201 || stop.load(std::sync::atomic::Ordering::Relaxed),
                        "writer {w}: unexpected status {}",
                        resp.status()
                    );
                    if resp.status() != 201 {
                        break;
                    }
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Ok(v) = resp.json::<serde_json::Value>().await else {
                        break;
                    };
                    if let Some(items) = v.as_array() {
                        for r in items {
                            acked.push((
                                r["id"].as_str().unwrap_or_default().to_owned(),
                                r["rev"].as_str().unwrap_or_default().to_owned(),
                            ));
                        }
                    } else {
                        acked.push((
                            v["_id"].as_str().unwrap_or_default().to_owned(),
                            v["_rev"].as_str().unwrap_or_default().to_owned(),
                        ));
                    }
                }
                acked
            })
        })
        .collect();

    // Let the writers get going, then cut the power while they are writing.
    wait_until("100 writes acknowledged", Duration::from_secs(60), || {
        count.load(std::sync::atomic::Ordering::Relaxed) >= 100
    })
    .await;
    d.kill().await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.expect("writer task"));
    }
    assert!(
        !acked.is_empty(),
        "no write was acknowledged before the kill"
    );

    d.restart().await;
    for (id, rev) in &acked {
        let got = api.get(&format!("/api/docs/bill/{id}")).await.ok(200);
        assert_eq!(got["_rev"], rev.as_str(), "acknowledged write {id} lost");
    }
}
