//! Encryption at rest: after storing documents, a file (name and content),
//! a token and a session with recognisable markers, no file under the data
//! directory contains any of them in clear — neither right after a `kill -9`
//! (the WAL not checkpointed) nor after a clean stop. The daemon's log must
//! not contain the secrets either.

use foyer_e2e::{Daemon, PASSPHRASE, files_under, scan_for};
use serde_json::json;

const DOC_MARKER: &str = "ZEBRA-MARKER-1234";
const NOTE_MARKER: &str = "PANGOLIN-NOTE-2468";
const FILE_NAME: &str = "GIRAFFE-NAME-5678.txt";
const FOLDER_NAME: &str = "WOMBAT-FOLDER-1357";
const CONTENT_MARKER: &str = "OKAPI-CONTENT-9012";
const TOKEN_NAME: &str = "NARWHAL-TOKEN-3141";

#[tokio::test]
async fn nothing_readable_on_disk_after_crash_or_clean_stop() {
    let mut d = Daemon::start().await;
    let claim_code = d.claim_code();
    let recovery = d.claim().await;
    let owner = d.anon().login(PASSPHRASE).await;

    let op = owner
        .post(
            "/api/docs/bank.operation",
            &json!({"account": "acc-1", "date": "2024-06-01", "amount": -20.0,
                    "currency": "EUR", "label": format!("{DOC_MARKER} groceries"),
                    "counterparty": DOC_MARKER}),
        )
        .await
        .ok(201);
    let op_id = op["_id"].as_str().unwrap().to_owned();
    owner
        .post(
            "/api/docs/note",
            &json!({"title": NOTE_MARKER, "content": format!("{NOTE_MARKER} {}", "lorem ".repeat(2000))}),
        )
        .await
        .expect(201);
    let content = format!("{CONTENT_MARKER} ").repeat(5000).into_bytes();
    let file_path = format!("/api/files/{FOLDER_NAME}/{FILE_NAME}");
    owner
        .put_bytes(&file_path, content.clone())
        .await
        .expect(201);
    let (_, tok) = owner.create_token(TOKEN_NAME, &["docs:read"]).await;
    let secret = tok["token"].as_str().unwrap().to_owned();
    let (cookie, csrf) = match &owner.credential {
        foyer_e2e::Credential::Session { cookie, csrf } => (cookie.clone(), csrf.clone()),
        _ => unreachable!(),
    };

    let needles: Vec<(&str, &[u8])> = vec![
        ("document marker", DOC_MARKER.as_bytes()),
        ("note marker", NOTE_MARKER.as_bytes()),
        ("file name", FILE_NAME.as_bytes()),
        ("folder name", FOLDER_NAME.as_bytes()),
        ("file content", CONTENT_MARKER.as_bytes()),
        ("token name", TOKEN_NAME.as_bytes()),
        ("token secret", secret.as_bytes()),
        ("passphrase", PASSPHRASE.as_bytes()),
        ("recovery key", recovery.as_bytes()),
        ("session cookie", cookie.as_bytes()),
        ("csrf value", csrf.as_bytes()),
        ("claim code", claim_code.as_bytes()),
    ];

    // 1. Crash: SIGKILL, so the WAL is left as it was.
    d.kill().await;
    let wal = d.data_dir.join("vault.db-wal");
    assert!(
        wal.is_file(),
        "no vault.db-wal after kill -9; files: {:?}",
        files_under(&d.data_dir)
    );
    let hits = scan_for(&d.data_dir, &needles);
    assert!(hits.is_empty(), "plaintext on disk after kill -9: {hits:?}");

    // The data was really stored (so the scan above meant something).
    d.restart().await;
    let got = owner
        .bearer(&secret)
        .get(&format!("/api/docs/bank.operation/{op_id}"))
        .await
        .ok(200);
    assert_eq!(got["counterparty"], DOC_MARKER);
    let owner = d.anon().login(PASSPHRASE).await;
    assert!(owner.get(&file_path).await.expect(200).body == content);

    // 2. Clean stop: checkpointed and closed.
    let status = d.stop().await;
    assert_eq!(status.code(), Some(0), "SIGTERM exit status");
    let hits = scan_for(&d.data_dir, &needles);
    assert!(
        hits.is_empty(),
        "plaintext on disk after a clean stop: {hits:?}"
    );

    // Secrets stay out of the log.
    let log = d.log();
    // (The claim code too: it is printed only on an interactive terminal.)
    for (label, needle) in &needles[6..] {
        let needle = String::from_utf8_lossy(needle);
        assert!(
            !log.contains(needle.as_ref()),
            "the log contains the {label}"
        );
    }
}
