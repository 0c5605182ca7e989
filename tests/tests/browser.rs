//! The phone web app in a real browser: headless Chromium on a 360 × 800
//! phone screen, driven over WebDriver, against the real `foyerd` on
//! loopback, with the box's CA trusted the way a user trusts it (so the
//! service worker registers as it would on a phone).
//!
//! What a household does first, screen by screen: claim the box (a wrong
//! claim code is refused, the strength meter rates the passphrase, the
//! recovery key is shown and downloaded, the box is named); log in; upload
//! files through the file picker and see them listed, previewed and
//! downloaded; find documents that arrived through the API and open one;
//! pair a phone with the QR code and revoke it, after which the box refuses
//! it. The interface follows `Accept-Language` (French or English) and can be
//! switched. Every screen must fit 360 px without sideways scrolling.
//!
//! Each screen is saved as a PNG in `target/browser-artefacts/<test>/`;
//! with `FOYER_UPDATE_SCREENSHOTS=1` the ones shown in the documentation are
//! also written to `docs/screenshots/`.
//!
//! Needs `chromium`, `chromium-driver` and `libnss3-tools` (`.ci/run`
//! installs them). Elsewhere the tests print why they did not run; under CI
//! (`CI` set) a missing prerequisite is a failure.

use foyer_e2e::browser::{Browser, pairing_fragment, start_box, strings, testid, tr};
use foyer_e2e::{Api, Credential, PASSPHRASE, pem_to_der, sha256_hex};
use serde_json::{Value, json};

#[tokio::test]
async fn onboarding_on_a_phone() {
    let Some((d, mut b)) = start_box("onboarding", "en").await else {
        return;
    };
    let en = strings("en");

    // An unclaimed box opens on onboarding, showing its CA's fingerprint.
    b.open("/").await;
    b.wait_title(&tr(&en, "onb.title")).await;
    let shown = b.text_of("ca-fingerprint").await;
    assert_eq!(
        shown
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect::<String>()
            .to_lowercase(),
        sha256_hex(&pem_to_der(d.ca_pem())),
        "the fingerprint on screen is the CA's"
    );
    b.screen_for_docs("onboarding-1-claim-code").await;
    b.audit("onboarding-1-claim-code").await;

    // A wrong claim code: the box says so once the passphrase is sent, and
    // the app goes back to the code.
    let code = d.claim_code();
    let wrong = if code == "AAAA-BBBB-CCCC" {
        "CCCC-BBBB-AAAA"
    } else {
        "AAAA-BBBB-CCCC"
    };
    b.fill("claim-code", wrong).await;
    b.tap("claim-next").await;

    // The strength meter refuses a weak passphrase, accepts a good one.
    b.fill("passphrase", "password1").await;
    let weak = tr(&en, "pass.not_enough");
    b.wait_for_with(
        "the strength meter to call `password1` not enough",
        "const l = document.querySelector('[data-testid=strength-label]'); return l && l.textContent.includes(arguments[0])",
        vec![json!(weak)],
    )
    .await;
    b.choose_passphrase("passphrase", PASSPHRASE).await;
    b.screen_for_docs("onboarding-2-passphrase").await;
    b.audit("onboarding-2-passphrase").await;
    b.tap("setup-submit").await;
    b.hook("claim-code").await;
    let err = b.text_of("form-error").await;
    assert_eq!(err, tr(&en, "err.wrong_claim_code"));
    b.screen("onboarding-wrong-claim-code").await;
    b.audit("onboarding-wrong-claim-code").await;
    assert!(d.data_dir.join("claim-code").is_file(), "still unclaimed");

    // The right code.
    b.fill("claim-code", &code).await;
    b.tap("claim-next").await;
    b.choose_passphrase("passphrase", PASSPHRASE).await;
    b.tap("setup-submit").await;

    // The recovery key: shown once, downloadable, and "Continue" only once
    // the owner says it is saved.
    let key = b.text_of("recovery-key").await;
    assert!(key.len() >= 20, "recovery key {key:?}");
    assert!(
        !b.hook("continue")
            .await
            .is_enabled()
            .await
            .expect("enabled?"),
        "Continue is disabled until the key is saved"
    );
    b.screen_for_docs("onboarding-3-recovery-key").await;
    b.audit("onboarding-3-recovery-key").await;
    b.tap("recovery-download").await;
    let health = d.anon().get("/api/health").await.ok(200);
    let box_host = health["name"].as_str().expect("name").to_owned();
    let file = b
        .downloaded(&format!("foyer-recovery-key-{box_host}.txt"))
        .await;
    assert!(
        String::from_utf8_lossy(&file).contains(&key),
        "the downloaded file holds the key"
    );
    b.tap("recovery-saved").await;
    b.tap("continue").await;

    // The box's name, then home.
    b.fill("box-name", "The Martins' home").await;
    b.screen("onboarding-4-box-name").await;
    b.audit("onboarding-4-box-name").await;
    b.tap("box-name-submit").await;
    b.hook("tab-home").await;
    b.wait_title(&tr(&en, "home.title")).await;
    b.screen("home-first-time").await;
    b.audit("home-first-time").await;

    // The box is claimed, under that name, and the claim code is gone.
    assert!(
        !d.data_dir.join("claim-code").exists(),
        "claim-code removed"
    );
    let owner = d.anon_from(2).login(PASSPHRASE).await;
    assert_eq!(
        owner.get("/api/box").await.ok(200)["name"],
        "The Martins' home"
    );

    // The certificate was trusted for real: the service worker is active.
    b.wait_for(
        "the service worker to be active",
        "return navigator.serviceWorker.getRegistration().then((r) => !!(r && r.active))",
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn files_upload_list_preview_download() {
    let Some((d, mut b)) = start_box("files", "en").await else {
        return;
    };
    d.claim().await;
    let en = strings("en");

    b.open("/").await;
    b.hook("login-passphrase").await;
    b.screen("login").await;
    b.audit("login").await;
    b.log_in().await;
    b.tap("tab-files").await;
    b.wait_title(&tr(&en, "files.title")).await;
    b.find(".empty").await;

    // Two files picked in the file input: a note and a picture.
    let note = "Lease renewal: call the landlord before 30 June.\n".repeat(20);
    let picture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../web/icons/icon-192.png"
    ))
    .expect("read the icon");
    let picked = tempfile::tempdir().expect("temp dir");
    let note_path = picked.path().join("lease.txt");
    let picture_path = picked.path().join("living-room.png");
    std::fs::write(&note_path, &note).expect("write note");
    std::fs::write(&picture_path, &picture).expect("write picture");

    // Record every upload's end state: a finished item leaves the list
    // after a moment, and the test must not depend on catching it.
    b.eval_value(
        "window.__uploads = {};
         new MutationObserver(() => {
           for (const li of document.querySelectorAll('[data-testid=upload-item]')) {
             const name = li.querySelector('.upload-name').textContent;
             const was = window.__uploads[name] || {};
             window.__uploads[name] = {
               done: was.done || li.classList.contains('done'),
               failed: was.failed || li.classList.contains('failed'),
               progress: Math.max(was.progress || 0, li.querySelector('progress').value),
               state: li.querySelector('.upload-state').textContent,
             };
           }
         }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
         return true;",
    )
    .await;
    let input = b.find_present(&testid("upload-input")).await;
    let paths = format!("{}\n{}", note_path.display(), picture_path.display());
    input.send_keys(&paths).await.expect("pick the files");
    let ups = b
        .wait_for(
            "both uploads to finish",
            "const u = window.__uploads;
             const n = ['lease.txt', 'living-room.png'];
             return n.every((k) => u[k] && (u[k].done || u[k].failed)) && u",
        )
        .await;
    for name in ["lease.txt", "living-room.png"] {
        assert_eq!(ups[name]["done"], true, "{name} uploaded: {ups}");
        assert_eq!(ups[name]["progress"], 100, "{name} progress: {ups}");
    }

    // Listed, and what the box stored is what was picked.
    b.find("[data-testid=file-row][data-name='lease.txt']")
        .await;
    b.find("[data-testid=file-row][data-name='living-room.png']")
        .await;
    b.wait_gone(&testid("upload-item")).await;
    b.screen_for_docs("files").await;
    b.audit("files").await;
    let owner = d.anon_from(2).login(PASSPHRASE).await;
    assert_eq!(
        owner.get("/api/files/lease.txt").await.expect(200).body,
        note.as_bytes()
    );
    assert_eq!(
        owner
            .get("/api/files/living-room.png")
            .await
            .expect(200)
            .body,
        picture
    );

    // The picture opens in a preview.
    b.click("[data-testid=file-row][data-name='living-room.png'] [data-testid=file-open]")
        .await;
    b.wait_for(
        "the picture to show in the preview",
        "const i = document.querySelector('[data-testid=preview-image]'); return i && i.complete && i.naturalWidth === 192",
    )
    .await;
    b.screen_for_docs("files-preview").await;
    b.audit("files-preview").await;
    b.tap("dialog-close").await;
    b.wait_gone("dialog").await;

    // The note opens as text.
    b.click("[data-testid=file-row][data-name='lease.txt'] [data-testid=file-open]")
        .await;
    b.wait_for(
        "the note's text in the preview",
        "const p = document.querySelector('.text-preview'); return p && p.textContent.startsWith('Lease renewal')",
    )
    .await;
    b.tap("dialog-close").await;
    b.wait_gone("dialog").await;

    // And downloads from the actions menu.
    b.click("[data-testid=file-row][data-name='lease.txt'] [data-testid=file-actions]")
        .await;
    b.hook("action-download").await;
    b.screen("files-actions").await;
    b.audit("files-actions").await;
    b.tap("action-download").await;
    assert_eq!(b.downloaded("lease.txt").await, note.as_bytes());
    b.close().await;
}

/// Documents as they would arrive from a bank and suppliers.
async fn seed_documents(owner: &Api, account_label: &str) {
    let acc = owner
        .post(
            "/api/docs/bank.account",
            &json!({"label": account_label, "bank": "Banque Exemple", "iban": "FR7630006000011234567890189",
                    "currency": "EUR", "balance": 1834.27, "balance_date": "2026-11-30"}),
        )
        .await
        .ok(201);
    for (date, amount, label) in [
        ("2026-11-28", -84.2, "PRLV SEPA EDF"),
        ("2026-11-25", 2450.0, "VIR SALAIRE"),
        ("2026-11-20", -39.99, "PRLV SEPA ORANGE"),
    ] {
        owner
            .post(
                "/api/docs/bank.operation",
                &json!({"account": acc["_id"], "date": date, "amount": amount, "currency": "EUR", "label": label}),
            )
            .await
            .ok(201);
    }
    for (vendor, amount, date, due, reference) in [
        (
            "Orange",
            39.99,
            "2026-11-05",
            "2026-11-20",
            "FO-2026-11-0042",
        ),
        (
            "Eau de Paris",
            27.5,
            "2026-11-08",
            "2026-12-08",
            "EDP-55120",
        ),
        ("EDF", 84.2, "2026-11-12", "2026-11-28", "EDF-10455872"),
    ] {
        owner
            .post(
                "/api/docs/bill",
                &json!({"vendor": vendor, "amount": amount, "currency": "EUR", "date": date,
                        "due_date": due, "reference": reference}),
            )
            .await
            .ok(201);
    }
}

/// The number of displayed document cards.
const CARDS: &str = "return [...document.querySelectorAll('[data-testid=doc-card]')].filter((e) => e.checkVisibility()).length";

#[tokio::test]
async fn documents_are_found_and_opened() {
    let Some((d, mut b)) = start_box("data", "en").await else {
        return;
    };
    let owner = d.owner().await;
    seed_documents(&owner, "Joint account").await;
    let en = strings("en");
    b.log_in().await;

    // Home: the account and what arrived recently.
    b.hook("recent-list").await;
    b.find("[data-testid=doc-card][data-doctype='bank.account']")
        .await;
    b.screen_for_docs("home").await;
    b.audit("home").await;

    // Data: the doctypes, then the bills.
    b.tap("tab-data").await;
    b.hook("doctype-list").await;
    b.screen("data").await;
    b.audit("data").await;
    b.click("[data-testid=doctype-row][data-doctype=bill]")
        .await;
    b.wait_title(&tr(&en, "dt.bill")).await;
    b.wait_for("the three bills", &format!("{CARDS} === 3"))
        .await;
    b.screen_for_docs("data-bills").await;
    b.audit("data-bills").await;

    // Search by vendor: one bill.
    b.fill("doc-search", "orange").await;
    b.wait_for("only the Orange bill", &format!("{CARDS} === 1"))
        .await;
    let card = b.hook("doc-card").await.text().await.expect("card text");
    assert!(
        card.contains("Orange") && card.contains("€39.99"),
        "card: {card}"
    );

    // The bill itself: its fields, readable.
    b.tap("doc-card").await;
    let detail = b.text_of("doc-detail").await;
    assert!(
        detail.contains("Orange") && detail.contains("€39.99"),
        "detail: {detail}"
    );
    b.wait_for(
        "the bill's reference",
        "const r = document.querySelector('[data-field=reference]'); return r && r.textContent === 'FO-2026-11-0042'",
    )
    .await;
    b.screen_for_docs("data-bill").await;
    b.audit("data-bill").await;
    b.close().await;
}

#[tokio::test]
async fn pairing_a_phone_then_revoking_it() {
    let Some((d, mut b)) = start_box("devices", "en").await else {
        return;
    };
    d.claim().await;
    let en = strings("en");
    b.log_in().await;
    b.tap("tab-settings").await;
    b.wait_title(&tr(&en, "settings.title")).await;
    b.find("[data-testid=device-row][data-current=true]").await;
    b.screen("settings").await;
    b.audit("settings").await;

    // The pairing QR code, and the link it holds.
    b.tap("pair-start").await;
    b.wait_for(
        "the QR code",
        "const i = document.querySelector('[data-testid=pair-qr]'); return i && i.complete && i.naturalWidth > 0",
    )
    .await;
    b.scroll_to(&testid("settings-pair")).await;
    b.screen_for_docs("settings-pairing").await;
    b.audit("settings-pairing").await;
    let url = b.text_of("pair-url").await;
    let (code, fp) = pairing_fragment(&url);
    assert_eq!(
        fp,
        sha256_hex(&pem_to_der(d.ca_pem())),
        "fingerprint in {url}"
    );

    // For phones without `.local`: the same code by the box's LAN address
    // (offered when the machine has one), and back.
    let has_address = b
        .eval_value("return !!document.querySelector('[data-testid=pair-by-address]')")
        .await
        == json!(true);
    if has_address {
        b.tap("pair-by-address").await;
        let by_address = b.text_of("pair-url").await;
        assert!(
            !by_address.contains(".local") && by_address.starts_with("https://"),
            "{by_address}"
        );
        assert_eq!(pairing_fragment(&by_address), (code.clone(), fp.clone()));
        b.screen("pairing-by-address").await;
        b.tap("pair-by-address").await;
        assert_eq!(b.text_of("pair-url").await, url);
    }

    // Another phone redeems it.
    let phone = d.anon_from(3);
    let resp = phone
        .post(
            "/api/pairing/redeem",
            &json!({"code": code, "device_name": "Camille's phone"}),
        )
        .await;
    let csrf = resp.ok(200)["csrf"].as_str().expect("csrf").to_owned();
    let phone = Api {
        credential: Credential::Session {
            csrf,
            // The session cookie itself is in the client's cookie jar.
            cookie: String::new(),
        },
        ..phone
    };
    phone.get("/api/box").await.ok(200);

    // It shows in the list of devices; revoke it.
    b.tap("pair-done").await;
    let row = "[data-testid=device-row][data-current=false]";
    let shown = b.find(row).await.text().await.expect("row text");
    assert!(shown.contains("Camille's phone"), "device row: {shown}");
    b.scroll_to(&testid("settings-devices")).await;
    b.screen_for_docs("settings-devices").await;
    b.audit("settings-devices").await;
    b.click(&format!("{row} [data-testid=device-revoke]")).await;
    b.hook("confirm-ok").await;
    b.screen("settings-revoke").await;
    b.audit("settings-revoke").await;
    b.tap("confirm-ok").await;
    b.wait_gone(row).await;

    // The box refuses the revoked phone at once; this browser stays in.
    phone
        .get("/api/box")
        .await
        .expect_error(401, "unauthenticated");
    b.find("[data-testid=device-row][data-current=true]").await;
    b.close().await;
}

/// The heading of the onboarding step on screen.
async fn onboarding_heading(b: &Browser) -> Value {
    b.eval_value("const h = document.getElementById('onb-h'); return h && h.textContent")
        .await
}

#[tokio::test]
async fn french_from_accept_language_and_switchable() {
    let Some((d, mut b)) = start_box("french", "fr").await else {
        return;
    };
    let (fr, en) = (strings("fr"), strings("en"));

    // A French phone gets French.
    b.open("/").await;
    b.wait_title(&tr(&fr, "onb.title")).await;
    assert_eq!(onboarding_heading(&b).await, json!(tr(&fr, "onb.welcome")));
    assert_eq!(
        b.eval_value("return document.documentElement.lang").await,
        "fr"
    );
    b.screen("fr-onboarding-1-claim-code").await;
    b.audit("fr-onboarding-1-claim-code").await;

    // Switched to English, it stays English after a reload; and back.
    b.tap("lang-en").await;
    b.wait_title(&tr(&en, "onb.title")).await;
    assert_eq!(onboarding_heading(&b).await, json!(tr(&en, "onb.welcome")));
    b.client.refresh().await.expect("reload");
    b.wait_title(&tr(&en, "onb.title")).await;
    b.tap("lang-fr").await;
    b.wait_title(&tr(&fr, "onb.title")).await;

    // The whole onboarding in French, at 360 px (French runs longer).
    b.fill("claim-code", &d.claim_code()).await;
    b.tap("claim-next").await;
    b.choose_passphrase("passphrase", PASSPHRASE).await;
    b.screen("fr-onboarding-2-passphrase").await;
    b.tap("setup-submit").await;
    b.hook("recovery-key").await;
    b.screen("fr-onboarding-3-recovery-key").await;
    b.tap("recovery-saved").await;
    b.tap("continue").await;
    b.fill("box-name", "Maison Martin").await;
    b.screen("fr-onboarding-4-box-name").await;
    b.tap("box-name-submit").await;
    b.wait_title(&tr(&fr, "home.title")).await;
    assert_eq!(b.text_of("tab-home").await, tr(&fr, "tab.home"));
    b.screen("fr-home-first-time").await;

    // Documents arrive while the home screen is open: it shows them at once
    // (change feed), with French amounts and dates.
    let owner = d.anon_from(2).login(PASSPHRASE).await;
    seed_documents(&owner, "Compte joint").await;
    b.wait_for(
        "the new documents on the home screen",
        "const l = document.querySelector('[data-testid=recent-list]'); return l && l.children.length >= 6",
    )
    .await;
    let home = b.text_of("recent-list").await;
    assert!(
        home.contains("39,99") && home.contains("€") && home.contains("nov. 2026"),
        "French amounts and dates: {home}"
    );
    b.screen_for_docs("fr-home").await;
    b.audit("fr-home").await;

    // Settings: every section in French, then switched to English.
    b.tap("tab-settings").await;
    b.wait_title(&tr(&fr, "settings.title")).await;
    b.hook("settings-devices").await;
    b.screen("fr-settings").await;
    b.audit("fr-settings").await;
    b.scroll_to(&testid("settings-language")).await;
    b.click(&format!(
        "{} {}",
        testid("settings-language"),
        testid("lang-en")
    ))
    .await;
    b.wait_title(&tr(&en, "settings.title")).await;
    assert_eq!(b.text_of("tab-settings").await, tr(&en, "tab.settings"));
    assert_eq!(
        b.eval_value("return document.documentElement.lang").await,
        "en"
    );
    b.close().await;
}
