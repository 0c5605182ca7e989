//! The rest of the phone web app in a real browser (same harness as
//! `browser.rs`: headless Chromium at 360 × 800 against the real `foyerd`):
//! what the screen says is checked against what the box answers through its
//! API, so that the screen tells the truth.
//!
//! - A pairing link (`#pair=CODE&fp=HEX`) opened on another phone pairs it
//!   under the name typed there; a link whose fingerprint is not the box's is
//!   refused without sending the code; a used code says so.
//! - Files: a new folder, rename, move into a folder, the camera input; the
//!   trash: restore, delete for good, empty.
//! - Settings: an API token is shown once, works with its scopes and stops
//!   working when revoked; changing the passphrase ends the old one; log out.
//! - Recovery with the recovery key sets a new passphrase and shows a new key.
//! - Factory reset: the passphrase is asked for; a wrong one writes nothing.
//!
//! Every screen visited must fit 360 px without sideways scrolling; each is
//! saved as a PNG in `target/browser-artefacts/<test>/`.

use foyer_e2e::browser::{Browser, pairing_fragment, start_box, strings, testid, tr};
use foyer_e2e::{Api, Daemon, PASSPHRASE, pem_to_der, sha256_hex};
use serde_json::{Value, json};

/// A second passphrase the box accepts.
const NEW_PASSPHRASE: &str = "velvet lantern orbit quietly";

/// The CSS selector of the row of `name` in a file list.
fn file_row(name: &str) -> String {
    format!("[data-testid=file-row][data-name=\"{name}\"]")
}

/// The CSS selector of the row of `name` in the trash.
fn trash_row(name: &str) -> String {
    format!("[data-testid=trash-row][data-name=\"{name}\"]")
}

/// The names in a folder listing (`GET /api/files/<folder>/`).
async fn listed(api: &Api, folder: &str) -> Vec<String> {
    let v = api.get(&format!("/api/files/{folder}")).await.ok(200);
    v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["name"].as_str().expect("name").to_owned())
        .collect()
}

/// The names in the trash (`GET /api/trash`).
async fn in_trash(api: &Api) -> Vec<String> {
    let v = api.get("/api/trash").await.ok(200);
    v.as_array()
        .expect("a list")
        .iter()
        .map(|e| e["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Opens the actions menu of `name`, picks `action` (`action-rename`,
/// `action-move`...), and, for those that ask, answers the prompt with `answer`.
async fn file_action(b: &Browser, name: &str, action: &str, answer: Option<&str>) {
    b.click(&format!("{} {}", file_row(name), testid("file-actions")))
        .await;
    b.tap(action).await;
    if let Some(answer) = answer {
        b.fill("prompt-input", answer).await;
        b.tap("prompt-ok").await;
    }
    b.wait_gone("dialog").await;
}

/// Moves `name` to `folder` (`""` for the top level) with the actions
/// menu's folder picker, and saves the picker as screen `shot`.
async fn move_to(b: &mut Browser, name: &str, folder: &str, shot: &str) {
    b.click(&format!("{} {}", file_row(name), testid("file-actions")))
        .await;
    b.tap("action-move").await;
    let dest = format!("[data-testid=move-dest][data-path=\"{folder}\"]");
    b.find_present(&dest).await;
    b.click(&format!("li:has({dest}) label")).await;
    assert_eq!(
        b.eval_with(
            "return document.querySelector(arguments[0]).checked",
            vec![json!(dest)]
        )
        .await,
        true
    );
    if shot == "files-move" {
        b.screen_for_docs(shot).await;
    } else {
        b.screen(shot).await;
    }
    b.tap("move-ok").await;
    b.wait_gone("dialog").await;
}

/// A pairing code made by the owner, and the CA fingerprint its link carries.
async fn new_pairing_code(owner: &Api) -> (String, String) {
    let p = owner.post("/api/pairing", &json!({})).await.ok(201);
    pairing_fragment(p["url"].as_str().expect("url"))
}

/// The box refuses the old passphrase and opens a session with the new one
/// (from addresses of their own, out of the browser's rate-limit bucket).
async fn only_the_new_passphrase_opens(d: &Daemon) {
    d.anon_from(5)
        .try_login(PASSPHRASE)
        .await
        .expect_error(401, "wrong_passphrase");
    d.anon_from(6).login(NEW_PASSPHRASE).await;
}

/// The device called `name` in the owner's `GET /api/devices`, if any.
async fn device_named(owner: &Api, name: &str) -> Option<Value> {
    let list = owner.get("/api/devices").await.ok(200);
    list["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .find(|x| x["name"] == name)
        .cloned()
}

/// A pairing link opened on a phone: the app checks the fingerprint, asks
/// the device's name, redeems the code and lands logged in on home; the
/// owner then lists that device by name as "paired". The same link opened on
/// a third phone says the code is used and pairs nothing.
#[tokio::test]
async fn a_pairing_link_pairs_the_phone_that_opens_it() {
    let Some((d, mut phone)) = start_box("pair-link", "en").await else {
        return;
    };
    let en = strings("en");
    let owner = d.owner().await;
    let (code, fp) = new_pairing_code(&owner).await;
    let link = format!("/#pair={code}&fp={fp}");

    phone.open(&link).await;
    phone.wait_title(&tr(&en, "pair.title")).await;
    let shown = phone.text_of("ca-fingerprint").await;
    assert_eq!(
        shown
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect::<String>()
            .to_lowercase(),
        sha256_hex(&pem_to_der(d.ca_pem())),
        "the fingerprint on screen is the box's"
    );
    phone.fill("device-name", "Camille's phone").await;
    phone.screen_for_docs("pair-link").await;
    phone.audit("pair-link").await;
    phone.tap("pair-submit").await;

    // Logged in, on home, and the code is out of the address bar.
    phone.wait_title(&tr(&en, "home.title")).await;
    phone.hook("tab-home").await;
    let url = phone.client.current_url().await.expect("url").to_string();
    assert!(!url.contains(&code), "the code left the address: {url}");
    phone.screen("pair-link-home").await;
    let dev = device_named(&owner, "Camille's phone")
        .await
        .expect("the owner lists the new device");
    assert_eq!(dev["kind"], "paired", "{dev}");

    // A third phone opens the same link: the code is spent.
    let mut third = Browser::start(&d, "pair-link-used", "en").await;
    third.open(&link).await;
    third.fill("device-name", "Someone else").await;
    third.tap("pair-submit").await;
    let failed = third.text_of("pair-failed").await;
    assert!(
        failed.contains(&tr(&en, "pair.failed_title"))
            && failed.contains(&tr(&en, "err.wrong_pairing_code")),
        "failure: {failed}"
    );
    third.screen("pair-link-used").await;
    third.audit("pair-link-used").await;
    assert!(device_named(&owner, "Someone else").await.is_none());
    // The way out: the passphrase.
    third.tap("pair-login").await;
    third.hook("login-passphrase").await;
    third.close().await;
    phone.close().await;
}

/// A pairing link whose fingerprint is not the box's CA (someone in the
/// middle): the app warns, shows both fingerprints, and never sends the
/// code, which stays good for the real box.
#[tokio::test]
async fn a_pairing_link_for_another_box_is_refused() {
    let Some((d, mut phone)) = start_box("pair-mismatch", "en").await else {
        return;
    };
    let en = strings("en");
    let owner = d.owner().await;
    let (code, _) = new_pairing_code(&owner).await;
    let other = sha256_hex(b"another box");

    phone.open(&format!("/#pair={code}&fp={other}")).await;
    let warning = phone.text_of("pair-mismatch").await;
    assert!(
        warning.contains(&tr(&en, "pair.mismatch_title")),
        "warning: {warning}"
    );
    assert_eq!(
        phone
            .eval_value("return document.querySelectorAll('[data-testid=device-name], [data-testid=pair-submit]').length")
            .await,
        0,
        "nothing to submit"
    );
    phone.screen("pair-mismatch").await;
    phone.audit("pair-mismatch").await;
    let devices = owner.get("/api/devices").await.ok(200);
    assert_eq!(
        devices["devices"].as_array().map(Vec::len),
        Some(1),
        "{devices}"
    );

    // Cancel leads to the login screen, not into the box.
    phone
        .click(&format!("{} button", testid("pair-mismatch")))
        .await;
    phone.hook("login-passphrase").await;

    // The code was never sent: the real box still takes it.
    d.anon_from(9)
        .post(
            "/api/pairing/redeem",
            &json!({"code": code, "device_name": "Real phone"}),
        )
        .await
        .ok(200);
    phone.close().await;
}

/// Files: the camera input is there for phones; a new folder, a rename and a
/// move into that folder, each seen on screen and in the box's listing.
#[tokio::test]
async fn files_new_folder_rename_and_move() {
    let Some((d, mut b)) = start_box("files-organise", "en").await else {
        return;
    };
    let en = strings("en");
    let owner = d.owner().await;
    let lease = b"Lease renewal: call the landlord before 30 June.\n".to_vec();
    owner
        .put_bytes("/api/files/lease.txt", lease.clone())
        .await
        .ok(201);
    b.log_in().await;
    b.tap("tab-files").await;
    b.wait_title(&tr(&en, "files.title")).await;
    b.find(&file_row("lease.txt")).await;

    // The camera: a file input a phone opens on its back camera.
    let camera = testid("camera-input");
    assert_eq!(b.attr(&camera, "type").await.as_deref(), Some("file"));
    assert_eq!(b.attr(&camera, "accept").await.as_deref(), Some("image/*"));
    assert_eq!(
        b.attr(&camera, "capture").await.as_deref(),
        Some("environment")
    );

    // A new folder.
    b.tap("new-folder").await;
    b.hook("prompt-input").await;
    b.screen("files-new-folder").await;
    b.audit("files-new-folder").await;
    b.fill("prompt-input", "Papers").await;
    b.tap("prompt-ok").await;
    b.find(&format!("{}[data-kind=dir]", file_row("Papers")))
        .await;
    assert!(listed(&owner, "").await.contains(&"Papers".to_owned()));

    // Rename.
    file_action(&b, "lease.txt", "action-rename", Some("lease 2026.txt")).await;
    b.find(&file_row("lease 2026.txt")).await;
    b.wait_gone(&file_row("lease.txt")).await;
    assert_eq!(
        owner
            .get("/api/files/lease%202026.txt")
            .await
            .expect(200)
            .body,
        lease
    );
    owner
        .get("/api/files/lease.txt")
        .await
        .expect_error(404, "not_found");

    // Move into the folder, picked from the box's folders.
    move_to(&mut b, "lease 2026.txt", "Papers", "files-move").await;
    b.wait_gone(&file_row("lease 2026.txt")).await;
    assert_eq!(listed(&owner, "Papers/").await, ["lease 2026.txt"]);
    assert!(
        !listed(&owner, "")
            .await
            .contains(&"lease 2026.txt".to_owned())
    );

    // Inside the folder: the file, under a breadcrumb back to the top.
    b.click(&format!("{} {}", file_row("Papers"), testid("file-open")))
        .await;
    b.wait_title("Papers").await;
    b.find(&file_row("lease 2026.txt")).await;
    b.screen("files-folder").await;

    // And back to the top level.
    move_to(&mut b, "lease 2026.txt", "", "files-move-back").await;
    b.wait_gone(&file_row("lease 2026.txt")).await;
    assert!(listed(&owner, "Papers/").await.is_empty());
    assert!(
        listed(&owner, "")
            .await
            .contains(&"lease 2026.txt".to_owned())
    );
    b.close().await;
}

/// The trash: what is moved there leaves its folder and is listed with where
/// it came from; restore puts it back, delete-for-good and empty remove it
/// from the box.
#[tokio::test]
async fn trash_restore_delete_and_empty() {
    let Some((d, mut b)) = start_box("trash", "en").await else {
        return;
    };
    let en = strings("en");
    let owner = d.owner().await;
    for name in ["receipt.txt", "old-scan.txt", "draft.txt"] {
        owner
            .put_bytes(&format!("/api/files/{name}"), name.as_bytes().to_vec())
            .await
            .ok(201);
    }
    b.log_in().await;
    b.tap("tab-files").await;

    // To the trash, from the actions menu.
    for name in ["receipt.txt", "old-scan.txt"] {
        file_action(&b, name, "action-trash", None).await;
        b.wait_gone(&file_row(name)).await;
    }
    assert_eq!(listed(&owner, "").await, ["draft.txt"]);
    let mut trashed = in_trash(&owner).await;
    trashed.sort();
    assert_eq!(trashed, ["old-scan.txt", "receipt.txt"]);

    // The trash screen lists both.
    b.tap("trash-link").await;
    b.wait_title(&tr(&en, "trash.title")).await;
    b.find(&trash_row("receipt.txt")).await;
    b.find(&trash_row("old-scan.txt")).await;
    let from = tr(&en, "trash.from").replace("{folder}", &tr(&en, "files.root"));
    let row = b
        .find(&trash_row("receipt.txt"))
        .await
        .text()
        .await
        .expect("row");
    assert!(row.contains(&from), "where it came from: {row}");
    b.screen("trash").await;
    b.audit("trash").await;

    // Restore: back in its folder, with its content.
    b.click(&format!(
        "{} {}",
        trash_row("receipt.txt"),
        testid("trash-restore")
    ))
    .await;
    b.wait_gone(&trash_row("receipt.txt")).await;
    assert_eq!(
        owner.get("/api/files/receipt.txt").await.expect(200).body,
        b"receipt.txt"
    );

    // Delete for good, after confirming.
    b.click(&format!(
        "{} {}",
        trash_row("old-scan.txt"),
        testid("trash-delete")
    ))
    .await;
    b.hook("confirm-ok").await;
    b.screen("trash-delete").await;
    b.tap("confirm-ok").await;
    b.wait_gone(&trash_row("old-scan.txt")).await;
    assert!(in_trash(&owner).await.is_empty());
    owner
        .get("/api/files/old-scan.txt")
        .await
        .expect_error(404, "not_found");

    // Empty: the box's trash is empty too, and the screen says so.
    owner.delete("/api/files/draft.txt").await.ok(200);
    b.client.refresh().await.expect("reload");
    b.find(&trash_row("draft.txt")).await;
    b.tap("trash-empty").await;
    b.tap("confirm-ok").await;
    b.wait_gone(&testid("trash-row")).await;
    b.find(".empty").await;
    b.wait_gone(&testid("trash-empty")).await;
    assert!(in_trash(&owner).await.is_empty());
    b.screen("trash-empty").await;
    b.close().await;
}

/// An API token made in Settings: its secret is shown once, it works with
/// exactly the scopes chosen, and once revoked on screen the box refuses it.
#[tokio::test]
async fn api_token_shown_once_works_then_revoked() {
    let Some((d, mut b)) = start_box("tokens", "en").await else {
        return;
    };
    let en = strings("en");
    d.claim().await;
    let client = d.anon_from(4);
    client
        .put_bytes("/api/files/notes.txt", b"x".to_vec())
        .await
        .expect_error(401, "unauthenticated");
    b.log_in().await;
    b.tap("tab-settings").await;
    b.wait_title(&tr(&en, "settings.title")).await;

    b.scroll_to(&testid("settings-tokens")).await;
    b.tap("token-new").await;
    b.fill("token-name", "Backup script").await;
    b.tap("scope-files:read").await;
    b.tap("scope-docs:read").await;
    b.screen("token-new").await;
    b.audit("token-new").await;
    b.tap("token-create").await;
    let secret = b.text_of("token-secret").await;
    assert!(secret.len() >= 20, "secret {secret:?}");
    b.screen("token-secret").await;
    b.audit("token-secret").await;

    // It reads, and only reads.
    let script = client.bearer(&secret);
    assert!(script.get("/api/files/").await.ok(200)["entries"].is_array());
    script
        .post("/api/docs/bill/_find", &json!({"selector": {}}))
        .await
        .ok(200);
    script
        .put_bytes("/api/files/notes.txt", b"x".to_vec())
        .await
        .expect_error(403, "forbidden");

    // Shown once: once the dialog is closed, the secret is nowhere on screen.
    b.tap("token-done").await;
    b.wait_gone("dialog").await;
    let used = tr(&en, "settings.last_used").replace("{when}", &tr(&en, "common.just_now"));
    b.wait_for_with(
        "the token listed as just used",
        "const r = document.querySelector('[data-testid=token-row]'); return r && r.textContent.includes(arguments[0])",
        vec![json!(used)],
    )
    .await;
    let row = b
        .find(&testid("token-row"))
        .await
        .text()
        .await
        .expect("row");
    assert!(row.contains("Backup script"), "row: {row}");
    assert!(
        !b.visible_text().await.contains(&secret),
        "the secret is gone from the screen"
    );
    b.scroll_to(&testid("settings-tokens")).await;
    b.screen("tokens").await;

    // Revoked on screen: refused at once.
    b.tap("token-revoke").await;
    b.tap("confirm-ok").await;
    b.wait_gone(&testid("token-row")).await;
    script
        .get("/api/files/")
        .await
        .expect_error(401, "unauthenticated");
    b.close().await;
}

/// Changing the passphrase in Settings: a wrong current one is refused on
/// screen; the right one changes it, which logs this browser out; the old
/// passphrase no longer opens a session, the new one does. Then log out
/// ends the session for real.
#[tokio::test]
async fn passphrase_change_and_log_out() {
    let Some((d, mut b)) = start_box("passphrase", "en").await else {
        return;
    };
    let en = strings("en");
    d.claim().await;
    b.log_in().await;
    b.tap("tab-settings").await;
    b.scroll_to(&testid("settings-passphrase")).await;

    b.fill("pass-current", "not my passphrase").await;
    b.choose_passphrase("pass-new", NEW_PASSPHRASE).await;
    b.tap("pass-submit").await;
    assert_eq!(
        b.text_of("form-error").await,
        tr(&en, "settings.pass_current_wrong")
    );
    b.screen("passphrase-wrong").await;
    b.audit("passphrase-wrong").await;
    assert_eq!(d.anon_from(5).try_login(PASSPHRASE).await.status, 200);

    b.fill("pass-current", PASSPHRASE).await;
    b.tap("pass-submit").await;
    b.hook("login-passphrase").await;
    b.wait_title(&tr(&en, "login.title")).await;
    only_the_new_passphrase_opens(&d).await;

    // Back in with the new one, then log out.
    b.log_in_with(NEW_PASSPHRASE).await;
    b.tap("tab-settings").await;
    b.tap("logout").await;
    b.hook("login-passphrase").await;
    b.screen("logged-out").await;
    let status = b
        .eval_value("return fetch('/api/box').then((r) => r.status)")
        .await;
    assert_eq!(status, 401, "the session ended on the box");
    b.close().await;
}

/// Recovery (`#/recover`): a wrong key is refused; the recovery key saved at
/// setup sets a new passphrase, a new key is shown once, and the owner is
/// logged in. The old passphrase and the old key stop working.
#[tokio::test]
async fn recovery_key_sets_a_new_passphrase() {
    let Some((d, mut b)) = start_box("recover", "en").await else {
        return;
    };
    let en = strings("en");
    let old_key = d.claim().await;
    b.open("/").await;
    b.tap("forgot-link").await;
    b.wait_title(&tr(&en, "recover.title")).await;

    b.fill("recovery-key-input", "AAAA-BBBB-CCCC-DDDD").await;
    b.choose_passphrase("new-passphrase", NEW_PASSPHRASE).await;
    b.tap("recover-submit").await;
    assert_eq!(
        b.text_of("form-error").await,
        tr(&en, "err.wrong_recovery_key")
    );
    b.screen("recover-wrong-key").await;
    b.audit("recover-wrong-key").await;

    // Typed the way people copy it: lowercase, spaces.
    b.fill(
        "recovery-key-input",
        &old_key.to_lowercase().replace('-', " "),
    )
    .await;
    b.tap("recover-submit").await;
    let new_key = b.text_of("recovery-key").await;
    assert!(new_key.len() >= 20 && new_key != old_key, "{new_key:?}");
    b.hook("recover-done").await;
    assert!(
        !b.hook("continue")
            .await
            .is_enabled()
            .await
            .expect("enabled?"),
        "Continue waits until the new key is saved"
    );
    b.screen("recover-new-key").await;
    b.audit("recover-new-key").await;
    b.tap("recovery-saved").await;
    b.tap("continue").await;
    b.wait_title(&tr(&en, "home.title")).await;

    only_the_new_passphrase_opens(&d).await;
    d.anon_from(7)
        .post(
            "/api/recovery",
            &json!({"recovery_key": old_key, "new_passphrase": PASSPHRASE}),
        )
        .await
        .expect_error(401, "wrong_recovery_key");
    b.close().await;
}

/// Factory reset in Settings (in French): the warning dialog asks for the
/// passphrase; a wrong one is refused on screen and writes nothing; the
/// right one writes the request the OS image acts on, and the screen says
/// the box is restarting.
#[tokio::test]
async fn factory_reset_asks_for_the_passphrase() {
    let Some((d, mut b)) = start_box("factory-reset", "fr").await else {
        return;
    };
    let fr = strings("fr");
    let request = d.data_dir.join("factory-reset");
    d.claim().await;
    b.log_in().await;
    b.tap("tab-settings").await;
    b.scroll_to(&testid("settings-reset")).await;
    b.tap("reset-start").await;
    b.fill("reset-passphrase", "pas ma phrase secrète").await;
    b.tap("reset-submit").await;
    assert_eq!(
        b.text_of("form-error").await,
        tr(&fr, "settings.reset_wrong")
    );
    assert!(!request.exists(), "a wrong passphrase wrote the request");
    b.screen("reset-wrong").await;
    b.audit("reset-wrong").await;

    b.fill("reset-passphrase", PASSPHRASE).await;
    b.tap("reset-submit").await;
    b.hook("reset-done").await;
    assert!(request.is_file(), "no factory-reset request");
    assert_eq!(
        b.text_of("reset-done").await,
        tr(&fr, "settings.reset_done")
    );
    let health = d.anon().get("/api/health").await.ok(200);
    assert_eq!(health["factory_reset_pending"], true);
    b.screen("reset-done").await;
    b.close().await;
}
