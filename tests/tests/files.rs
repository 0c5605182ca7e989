//! Files: a 5 MiB round trip (reqwest and curl) with SHA-256 checks, ranges,
//! ETag/If-None-Match, replacing; folders and listings; move/rename; the
//! trash (restore, purge one, empty); digest verification storing nothing on
//! a mismatch; a path traversal battery sent raw with curl; quota and
//! free-space refusals (507) storing nothing.

use std::time::Duration;

use base64::Engine as _;
use foyer_e2e::{Api, Daemon, Method, random_bytes, sha256_hex, wait_until};
use serde_json::{Value, json};

async fn files_token(d: &Daemon) -> (Api, String) {
    let owner = d.owner().await;
    let (api, v) = owner
        .create_token("files", &["files:read", "files:write"])
        .await;
    (api, v["token"].as_str().unwrap().to_owned())
}

async fn range(api: &Api, path: &str, range: &str) -> foyer_e2e::Resp {
    let rb = api.request(Method::GET, path).header("Range", range);
    api.send(format!("GET {path} Range: {range}"), rb).await
}

fn entry_names(listing: &Value) -> Vec<String> {
    let mut v: Vec<String> = listing["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries: {listing}"))
        .iter()
        .map(|e| e["name"].as_str().expect("name").to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn large_file_round_trip_ranges_and_etag() {
    let d = Daemon::start().await;
    let (api, secret) = files_token(&d).await;
    let data = random_bytes(5 * 1024 * 1024 + 12_345);
    let size = data.len();
    let sha = sha256_hex(&data);

    let rb = api
        .request(Method::PUT, "/api/files/docs/2024/big.bin")
        .header("Content-Type", "application/octet-stream")
        .header("X-Content-SHA256", &sha)
        .body(data.clone());
    let stored = api.send("PUT big.bin".into(), rb).await.ok(201);
    assert_eq!(stored["size"], size as u64, "{stored}");
    assert_eq!(stored["sha256"], sha.as_str(), "{stored}");
    assert!(stored["id"].as_str().is_some_and(|s| !s.is_empty()));

    // Whole download.
    let got = api.get("/api/files/docs/2024/big.bin").await;
    got.expect(200);
    assert_eq!(got.body.len(), size);
    assert_eq!(sha256_hex(&got.body), sha, "downloaded content differs");
    let etag = got.header("etag").expect("ETag");
    assert_eq!(etag, format!("\"{sha}\""));
    assert_eq!(got.header("accept-ranges").as_deref(), Some("bytes"));

    // Ranges: the first bytes, across a 64 KiB boundary, several chunks, the
    // last bytes (suffix and open-ended).
    let cases: [(String, usize, usize); 5] = [
        ("bytes=0-99".into(), 0, 99),
        ("bytes=65530-65545".into(), 65_530, 65_545),
        ("bytes=100000-400000".into(), 100_000, 400_000),
        ("bytes=-100".into(), size - 100, size - 1),
        (format!("bytes={}-", size - 10), size - 10, size - 1),
    ];
    for (spec, start, end) in cases {
        let r = range(&api, "/api/files/docs/2024/big.bin", &spec).await;
        r.expect(206);
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{end}/{size}")),
            "{spec}"
        );
        assert_eq!(r.body.len(), end - start + 1, "{spec}");
        assert!(r.body == data[start..=end], "{spec}: wrong bytes");
    }
    for spec in [
        format!("bytes={size}-"),
        format!("bytes={}-{}", size + 5, size + 10),
    ] {
        let r = range(&api, "/api/files/docs/2024/big.bin", &spec).await;
        r.expect_any_error(416);
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes */{size}")),
            "{spec}"
        );
    }

    // Conditional GET.
    let rb = api
        .request(Method::GET, "/api/files/docs/2024/big.bin")
        .header("If-None-Match", &etag);
    let r = api.send("GET If-None-Match".into(), rb).await;
    r.expect(304);
    assert!(r.body.is_empty());
    let rb = api
        .request(Method::GET, "/api/files/docs/2024/big.bin")
        .header("If-None-Match", "\"0000\"");
    api.send("GET If-None-Match other".into(), rb)
        .await
        .expect(200);

    // curl sees the same bytes.
    let auth = format!("Authorization: Bearer {secret}");
    let c = d.curl(&["-H", &auth], "/api/files/docs/2024/big.bin").await;
    assert_eq!(c.status, 200, "curl: {}", c.stderr);
    assert_eq!(sha256_hex(&c.body), sha, "curl download differs");

    // Upload with curl (Content-Digest), then download with reqwest.
    let small = random_bytes(70_000);
    let src = d.root().join("upload.bin");
    std::fs::write(&src, &small).unwrap();
    let digest = format!(
        "Content-Digest: sha-256=:{}:",
        base64::engine::general_purpose::STANDARD.encode(sha2_raw(&small))
    );
    let src_arg = src.display().to_string();
    let c = d
        .curl(
            &["-H", &auth, "-H", &digest, "-T", &src_arg],
            "/api/files/docs/curl.bin",
        )
        .await;
    assert_eq!(
        c.status,
        201,
        "curl upload: {} {}",
        c.stderr,
        String::from_utf8_lossy(&c.body)
    );
    assert_eq!(c.json()["sha256"], sha256_hex(&small).as_str());
    assert!(api.get("/api/files/docs/curl.bin").await.expect(200).body == small);

    // Replacing a file: 200, new content, new ETag.
    let v2 = random_bytes(1000);
    let r = api
        .put_bytes("/api/files/docs/2024/big.bin", v2.clone())
        .await
        .ok(200);
    assert_eq!(r["size"], 1000);
    let got = api.get("/api/files/docs/2024/big.bin").await;
    assert!(got.expect(200).body == v2, "replacement not served");
    assert_eq!(got.header("etag"), Some(format!("\"{}\"", sha256_hex(&v2))));

    // An empty file.
    api.put_bytes("/api/files/empty.txt", Vec::new())
        .await
        .expect(201);
    let got = api.get("/api/files/empty.txt").await;
    got.expect(200);
    assert!(got.body.is_empty());
}

fn sha2_raw(data: &[u8]) -> Vec<u8> {
    hex::decode(sha256_hex(data)).unwrap()
}

#[tokio::test]
async fn folders_listing_move_and_trash() {
    let d = Daemon::start().await;
    let (api, _) = files_token(&d).await;

    api.put_bytes("/api/files/photos/", Vec::new())
        .await
        .expect(201);
    api.put_bytes("/api/files/photos/a.jpg", b"JPEG-A".to_vec())
        .await
        .expect(201);
    api.put_bytes("/api/files/photos/b.txt", b"text b".to_vec())
        .await
        .expect(201);
    api.put_bytes("/api/files/notes/todo.txt", b"buy milk".to_vec())
        .await
        .expect(201);

    // Listings.
    let root = api.get("/api/files/").await.ok(200);
    assert_eq!(entry_names(&root), ["notes", "photos"]);
    for e in root["entries"].as_array().unwrap() {
        assert_eq!(e["kind"], "dir", "{e}");
    }
    let photos = api.get("/api/files/photos/").await.ok(200);
    assert!(
        photos["path"]
            .as_str()
            .is_some_and(|p| p.contains("photos")),
        "{photos}"
    );
    assert!(photos["id"].is_string(), "{photos}");
    assert_eq!(entry_names(&photos), ["a.jpg", "b.txt"]);
    let a = photos["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "a.jpg")
        .unwrap()
        .clone();
    assert_eq!(a["kind"], "file");
    assert_eq!(a["size"], 6);
    assert_eq!(a["sha256"], sha256_hex(b"JPEG-A").as_str());
    for key in ["id", "created", "updated"] {
        assert!(a.get(key).is_some(), "entry lacks {key}: {a}");
    }
    // A folder without the trailing slash lists too.
    assert_eq!(
        entry_names(&api.get("/api/files/photos").await.ok(200)),
        ["a.jpg", "b.txt"]
    );
    api.get("/api/files/nothing/here.txt")
        .await
        .expect_error(404, "not_found");

    // Move and rename.
    api.patch(
        "/api/files/photos/b.txt",
        &json!({"to": "notes/b-renamed.txt"}),
    )
    .await
    .expect(200);
    api.get("/api/files/photos/b.txt")
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        api.get("/api/files/notes/b-renamed.txt")
            .await
            .expect(200)
            .body,
        b"text b"
    );
    api.patch(
        "/api/files/notes/todo.txt",
        &json!({"to": "notes/b-renamed.txt"}),
    )
    .await
    .expect_any_error(409);
    assert_eq!(
        api.get("/api/files/notes/todo.txt").await.expect(200).body,
        b"buy milk",
        "a refused move changes nothing"
    );
    api.patch("/api/files/photos", &json!({"to": "archive/photos-2024"}))
        .await
        .expect(200);
    assert_eq!(
        api.get("/api/files/archive/photos-2024/a.jpg")
            .await
            .expect(200)
            .body,
        b"JPEG-A"
    );
    api.get("/api/files/photos/a.jpg")
        .await
        .expect_error(404, "not_found");
    api.patch("/api/files/no-such.txt", &json!({"to": "x.txt"}))
        .await
        .expect_error(404, "not_found");

    // Trash and restore.
    let blobs_before = d.blob_files().len();
    api.delete("/api/files/notes/todo.txt").await.expect(200);
    api.get("/api/files/notes/todo.txt")
        .await
        .expect_error(404, "not_found");
    let trash = api.get("/api/trash").await.ok(200);
    let item = trash
        .as_array()
        .expect("trash is an array")
        .iter()
        .find(|e| e["name"] == "todo.txt")
        .unwrap_or_else(|| panic!("todo.txt not in the trash: {trash}"))
        .clone();
    assert!(
        item["original_path"]
            .as_str()
            .is_some_and(|p| p.trim_start_matches('/') == "notes/todo.txt"),
        "{item}"
    );
    assert!(item["trashed_at"].is_number(), "{item}");
    let id = item["id"].as_str().unwrap().to_owned();
    api.post(&format!("/api/trash/{id}/restore"), &json!({}))
        .await
        .expect(200);
    assert_eq!(
        api.get("/api/files/notes/todo.txt").await.expect(200).body,
        b"buy milk"
    );
    assert!(
        api.get("/api/trash")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty(),
        "restored entries leave the trash"
    );

    // Purge one entry: its blob is freed, it cannot be restored.
    api.delete("/api/files/notes/todo.txt").await.expect(200);
    let id = api.get("/api/trash").await.ok(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.delete(&format!("/api/trash/{id}")).await.expect(200);
    assert!(
        api.get("/api/trash")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
    api.post(&format!("/api/trash/{id}/restore"), &json!({}))
        .await
        .expect_error(404, "not_found");
    assert_eq!(
        d.blob_files().len(),
        blobs_before - 1,
        "purged blob still on disk"
    );

    // Trash a whole folder, restore it, trash it again and empty the trash.
    api.delete("/api/files/archive/").await.expect(200);
    api.get("/api/files/archive/photos-2024/a.jpg")
        .await
        .expect_error(404, "not_found");
    let trash = api.get("/api/trash").await.ok(200);
    let id = trash[0]["id"].as_str().unwrap().to_owned();
    api.post(&format!("/api/trash/{id}/restore"), &json!({}))
        .await
        .expect(200);
    assert_eq!(
        api.get("/api/files/archive/photos-2024/a.jpg")
            .await
            .expect(200)
            .body,
        b"JPEG-A"
    );
    api.delete("/api/files/archive/").await.expect(200);
    api.delete("/api/files/notes/b-renamed.txt")
        .await
        .expect(200);
    assert_eq!(
        api.get("/api/trash")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );
    api.delete("/api/trash").await.expect(200);
    assert!(
        api.get("/api/trash")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        entry_names(&api.get("/api/files/").await.ok(200)),
        ["notes"]
    );
    assert!(
        d.blob_files().is_empty(),
        "blobs left after emptying the trash: {:?}",
        d.blob_files()
    );
}

#[tokio::test]
async fn purging_a_folder_created_after_its_contents() {
    let d = Daemon::start().await;
    let (api, _) = files_token(&d).await;
    for (round, purge_all) in [(1, false), (2, true)] {
        // Moving into a new folder creates the folder after what it receives.
        api.put_bytes("/api/files/a.txt", b"a".to_vec())
            .await
            .expect(201);
        api.put_bytes("/api/files/b/c.txt", b"c".to_vec())
            .await
            .expect(201);
        api.patch("/api/files/a.txt", &json!({"to": "new/deeper/a.txt"}))
            .await
            .expect(200);
        api.patch("/api/files/b", &json!({"to": "new/b"}))
            .await
            .expect(200);
        api.delete("/api/files/new/").await.expect(200);
        if purge_all {
            api.delete("/api/trash").await.expect(200);
        } else {
            let trash = api.get("/api/trash").await.ok(200);
            let id = trash[0]["id"].as_str().expect("trash entry id").to_owned();
            api.delete(&format!("/api/trash/{id}")).await.expect(200);
        }
        assert!(
            api.get("/api/trash")
                .await
                .ok(200)
                .as_array()
                .unwrap()
                .is_empty(),
            "round {round}: trash not empty"
        );
        assert!(
            entry_names(&api.get("/api/files/").await.ok(200)).is_empty(),
            "round {round}"
        );
        assert!(d.blob_files().is_empty(), "round {round}: blobs left");
    }
}

#[tokio::test]
async fn digest_mismatch_stores_nothing() {
    let d = Daemon::start().await;
    let (api, _) = files_token(&d).await;
    let data = random_bytes(300_000);
    let wrong = sha256_hex(b"something else");

    let rb = api
        .request(Method::PUT, "/api/files/bad.bin")
        .header("X-Content-SHA256", &wrong)
        .body(data.clone());
    api.send("PUT with a wrong X-Content-SHA256".into(), rb)
        .await
        .expect_error(422, "digest_mismatch");
    let rb = api
        .request(Method::PUT, "/api/files/bad.bin")
        .header(
            "Content-Digest",
            format!(
                "sha-256=:{}:",
                base64::engine::general_purpose::STANDARD.encode(sha2_raw(b"other"))
            ),
        )
        .body(data.clone());
    api.send("PUT with a wrong Content-Digest".into(), rb)
        .await
        .expect_error(422, "digest_mismatch");
    api.get("/api/files/bad.bin")
        .await
        .expect_error(404, "not_found");
    assert!(entry_names(&api.get("/api/files/").await.ok(200)).is_empty());
    wait_until("blobs/tmp to be empty", Duration::from_secs(10), || {
        d.tmp_blobs().is_empty()
    })
    .await;
    assert!(d.blob_files().is_empty(), "a refused upload left a blob");

    // A mismatched replacement keeps the old content.
    api.put_bytes("/api/files/keep.bin", data.clone())
        .await
        .expect(201);
    let rb = api
        .request(Method::PUT, "/api/files/keep.bin")
        .header("X-Content-SHA256", &wrong)
        .body(random_bytes(1000));
    api.send("PUT replacement with a wrong digest".into(), rb)
        .await
        .expect_error(422, "digest_mismatch");
    assert!(api.get("/api/files/keep.bin").await.expect(200).body == data);
    assert_eq!(d.blob_files().len(), 1);

    // The right digest is accepted.
    let rb = api
        .request(Method::PUT, "/api/files/good.bin")
        .header("X-Content-SHA256", sha256_hex(&data))
        .body(data.clone());
    api.send("PUT with the right digest".into(), rb)
        .await
        .expect(201);
}

#[tokio::test]
async fn path_traversal_and_invalid_paths_are_refused() {
    let d = Daemon::start().await;
    let (api, secret) = files_token(&d).await;
    let auth = format!("Authorization: Bearer {secret}");
    let long_name = "x".repeat(256);
    let long_path = vec!["y".repeat(250); 20].join("/");

    let bad: Vec<String> = vec![
        "..".into(),
        ".".into(),
        "../escape.txt".into(),
        "../../escape.txt".into(),
        "../../../../../../etc/passwd".into(),
        "a/../escape.txt".into(),
        "a/../../escape.txt".into(),
        "a/..".into(),
        "a/.".into(),
        "./escape.txt".into(),
        "a/./escape.txt".into(),
        "%2e%2e/escape.txt".into(),
        "%2E%2E/%2e%2e/escape.txt".into(),
        "a/%2e%2e/%2e%2e/escape.txt".into(),
        "%2e%2e%2fescape.txt".into(),
        "a%2f..%2f..%2fescape.txt".into(),
        "%2e/escape.txt".into(),
        "a//escape.txt".into(),
        "a/b//".into(),
        "escape%00.txt".into(),
        "escape.txt%00".into(),
        "esc%01ape.txt".into(),
        "esc%0Aape.txt".into(),
        "esc%0Dape.txt".into(),
        "esc%1Bape.txt".into(),
        "esc%7Fape.txt".into(),
        "/etc/passwd".into(),
        "//etc/passwd".into(),
        long_name.clone(),
        format!("dir/{long_name}"),
        long_path.clone(),
    ];
    let upload = d.root().join("payload.txt");
    std::fs::write(&upload, b"should never be stored").unwrap();
    let upload_arg = format!("@{}", upload.display());
    for p in &bad {
        let path = format!("/api/files/{p}");
        let shown = if p.len() > 60 { &p[..60] } else { p.as_str() };
        for (method, extra) in [
            // HTTP/1.1 for the upload: curl 7.x reports an error instead of
            // the response when an HTTP/2 server answers before reading the
            // body (RST_STREAM NO_ERROR), which a refusal rightly does.
            (
                "PUT",
                vec![
                    "--http1.1",
                    "-X",
                    "PUT",
                    "--data-binary",
                    upload_arg.as_str(),
                ],
            ),
            ("GET", vec![]),
            ("DELETE", vec!["-X", "DELETE"]),
        ] {
            let mut args = vec!["--path-as-is", "-H", auth.as_str()];
            args.extend(extra);
            let c = d.curl(&args, &path).await;
            assert_eq!(
                c.status,
                400,
                "{method} {shown}: expected 400, got {} ({}) {}",
                c.status,
                c.stderr,
                String::from_utf8_lossy(&c.body)
            );
            assert_eq!(
                c.json()["error"]["code"],
                "invalid_path",
                "{method} {shown}: {}",
                String::from_utf8_lossy(&c.body)
            );
            assert!(
                !String::from_utf8_lossy(&c.body).contains("root:"),
                "{method} {shown} leaked a system file"
            );
        }
    }
    // Moving to a bad destination is refused the same way.
    api.put_bytes("/api/files/ok.txt", b"ok".to_vec())
        .await
        .expect(201);
    for to in [
        "../escape.txt",
        "a/../../x",
        "a//b",
        "x\u{0}y",
        "/etc/passwd",
    ] {
        let r = api.patch("/api/files/ok.txt", &json!({ "to": to })).await;
        if to.starts_with('/') && r.status == 200 {
            // A leading slash may be read as relative to the files root;
            // then the file must be inside the vault, at etc/passwd.
            api.get("/api/files/etc/passwd").await.expect(200);
            api.patch("/api/files/etc/passwd", &json!({"to": "ok.txt"}))
                .await
                .expect(200);
            continue;
        }
        r.expect_error(400, "invalid_path");
    }

    // Nothing was created, in the vault or next to it.
    let root = api.get("/api/files/").await.ok(200);
    let names = entry_names(&root);
    assert!(
        names == ["ok.txt"] || names == ["etc", "ok.txt"],
        "refused paths created entries: {names:?}"
    );
    assert!(
        api.get("/api/trash")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
    for f in foyer_e2e::files_under(d.root()) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.contains("escape"), "a file escaped: {}", f.display());
    }
    assert_eq!(d.blob_files().len(), 1, "only ok.txt has a blob");

    // Odd but valid names are not over-refused.
    let max_name = "z".repeat(255);
    for good in [
        "...",
        "a..b.txt",
        ".hidden",
        "caf%C3%A9%20%E2%98%95.txt",
        max_name.as_str(),
    ] {
        let c = d
            .curl(
                &[
                    "--path-as-is",
                    "-H",
                    auth.as_str(),
                    "-X",
                    "PUT",
                    "--data-binary",
                    "ok",
                ],
                &format!("/api/files/valid/{good}"),
            )
            .await;
        assert_eq!(
            c.status,
            201,
            "PUT {good}: {}",
            String::from_utf8_lossy(&c.body)
        );
    }
    let listing = api.get("/api/files/valid/").await.ok(200);
    let names = entry_names(&listing);
    assert!(names.contains(&"café ☕.txt".to_owned()), "{names:?}");
    assert!(names.contains(&"...".to_owned()), "{names:?}");
}

#[tokio::test]
async fn quota_refuses_uploads_and_stores_nothing() {
    let d = Daemon::start_args(&["--files-quota-bytes", "1000000"]).await;
    let (api, _) = files_token(&d).await;

    api.put_bytes("/api/files/big.bin", random_bytes(2_000_000))
        .await
        .expect_error(507, "insufficient_storage");
    api.get("/api/files/big.bin")
        .await
        .expect_error(404, "not_found");

    // Without a Content-Length (streamed): refused while streaming.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..32).map(|_| Ok(random_bytes(64 * 1024))).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let rb = api
        .request(Method::PUT, "/api/files/streamed.bin")
        .body(body);
    api.send("PUT streamed 2 MiB".into(), rb)
        .await
        .expect_error(507, "insufficient_storage");
    api.get("/api/files/streamed.bin")
        .await
        .expect_error(404, "not_found");

    assert!(entry_names(&api.get("/api/files/").await.ok(200)).is_empty());
    wait_until("blobs/tmp to be empty", Duration::from_secs(10), || {
        d.tmp_blobs().is_empty()
    })
    .await;
    assert!(d.blob_files().is_empty(), "a refused upload left a blob");

    // Within the quota: accepted; the total counts.
    api.put_bytes("/api/files/first.bin", random_bytes(600_000))
        .await
        .expect(201);
    api.put_bytes("/api/files/second.bin", random_bytes(600_000))
        .await
        .expect_error(507, "insufficient_storage");
    api.get("/api/files/second.bin")
        .await
        .expect_error(404, "not_found");

    // Purging frees the space.
    api.delete("/api/files/first.bin").await.expect(200);
    api.delete("/api/trash").await.expect(200);
    api.put_bytes("/api/files/second.bin", random_bytes(600_000))
        .await
        .expect(201);
}

#[tokio::test]
async fn low_disk_space_refuses_uploads() {
    let d = Daemon::start_args(&["--min-free-bytes", "1000000000000000"]).await;
    let (api, _) = files_token(&d).await;
    api.put_bytes("/api/files/tiny.txt", b"0123456789".to_vec())
        .await
        .expect_error(507, "insufficient_storage");
    api.get("/api/files/tiny.txt")
        .await
        .expect_error(404, "not_found");
    assert!(entry_names(&api.get("/api/files/").await.ok(200)).is_empty());
    assert!(d.blob_files().is_empty());
}
