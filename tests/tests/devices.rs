//! Devices, pairing and the box's own facts, through the API with real
//! clients: a phone pairs with a one-time code from the QR and becomes a
//! named device; the owner sees each device's last use and revokes it, which
//! takes effect on its very next request; codes are single-use, need an
//! owner to make them and are rate-limited when wrong; the QR carries the
//! box URL and the CA fingerprint; the box's name is the owner's to set; and
//! the CA downloads for phones (DER, Apple profile) are the box's CA.

use foyer_e2e::{Api, Credential, Daemon, Resp, pem_to_der, sha256_hex};
use serde_json::{Value, json};

/// The session a pairing redemption opened, on the phone's own client (its
/// cookie jar holds the cookie).
fn paired_session(phone: &Api, resp: &Resp) -> Api {
    let v = resp.ok(200);
    let set_cookie = resp.header("set-cookie").expect("redeem sets a cookie");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("Secure"),
        "{set_cookie}"
    );
    let cookie = set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.trim().strip_prefix("foyer_session="))
        .expect("foyer_session cookie")
        .to_owned();
    Api {
        credential: Credential::Session {
            csrf: v["csrf"].as_str().expect("csrf").to_owned(),
            cookie,
        },
        ..phone.clone()
    }
}

fn device<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("no device {name:?} in {list}"))
}

#[tokio::test]
async fn a_phone_pairs_with_a_one_time_code_and_the_owner_revokes_it() {
    let d = Daemon::start().await;
    let owner = d.owner().await;
    let fingerprint = sha256_hex(&pem_to_der(d.ca_pem()));

    let p = owner.post("/api/pairing", &json!({})).await.ok(201);
    let code = p["code"].as_str().expect("code").to_owned();
    let url = p["url"].as_str().expect("url");
    // https://foyer-XXXX.local:PORT/#pair=CODE&fp=FINGERPRINT
    assert!(url.starts_with("https://foyer-"), "{url}");
    assert!(url.contains(".local:"), "{url}");
    assert!(
        url.ends_with(&format!("/#pair={code}&fp={fingerprint}")),
        "the QR URL carries the code and the CA fingerprint in its fragment: {url}"
    );
    let svg = p["qr_svg"].as_str().expect("qr_svg");
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    assert!(p["expires"].as_i64().is_some(), "{p}");
    // By address too, when the machine has a LAN address (phones without `.local`).
    if let Some(by_address) = p["address_url"].as_str() {
        assert!(!by_address.contains(".local"), "{by_address}");
        assert!(
            by_address.ends_with(&format!("/#pair={code}&fp={fingerprint}")),
            "{by_address}"
        );
        assert!(
            p["address_qr_svg"]
                .as_str()
                .is_some_and(|s| s.contains("<svg")),
            "{p}"
        );
    }

    // The phone (its own client, its own address) redeems the code.
    let phone = d.anon_from(7);
    phone
        .get("/api/box")
        .await
        .expect_error(401, "unauthenticated");
    let r = phone
        .post(
            "/api/pairing/redeem",
            &json!({"code": code.to_lowercase(), "device_name": "Camille's phone"}),
        )
        .await;
    let phone = paired_session(&phone, &r);
    let info = phone.get("/api/box").await.ok(200);
    assert_eq!(info["ca_fingerprint"], fingerprint.as_str());
    // It can work: a document, with the CSRF header of its session.
    phone
        .post("/api/docs/note", &json!({"content": "from the phone"}))
        .await
        .ok(201);

    // A code is good once.
    let again = d
        .anon_from(8)
        .post(
            "/api/pairing/redeem",
            &json!({"code": code, "device_name": "Someone else"}),
        )
        .await;
    again.expect_error(403, "wrong_pairing_code");

    // The owner sees both devices, which is which, and the last use.
    let list = owner.get("/api/devices").await.ok(200);
    assert_eq!(list["devices"].as_array().map(Vec::len), Some(2), "{list}");
    let paired = device(&list, "Camille's phone");
    assert_eq!(paired["kind"], "paired");
    assert_eq!(paired["current"], false);
    assert_eq!(paired["client"], "127.0.0.7");
    assert!(paired["last_seen"].as_i64() >= paired["created"].as_i64());
    assert!(
        paired["expires"].as_i64().unwrap_or(0) - paired["created"].as_i64().unwrap_or(0)
            > 300 * 86_400,
        "a paired device is long-lived: {paired}"
    );
    let me = list["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|x| x["current"] == true))
        .unwrap_or_else(|| panic!("no current device in {list}"));
    assert_eq!(me["kind"], "login");

    // Revocation takes effect on the next request.
    let id = paired["id"].as_str().expect("id");
    owner
        .delete(&format!("/api/devices/{id}"))
        .await
        .expect(204);
    phone
        .get("/api/box")
        .await
        .expect_error(401, "unauthenticated");
    owner
        .delete(&format!("/api/devices/{id}"))
        .await
        .expect_error(404, "not_found");
    let list = owner.get("/api/devices").await.ok(200);
    assert_eq!(list["devices"].as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test]
async fn only_an_owner_makes_pairing_codes_and_only_a_claimed_box_takes_them() {
    let d = Daemon::start().await;
    // Unclaimed: nothing to pair with.
    d.anon()
        .post(
            "/api/pairing/redeem",
            &json!({"code": "AAAA", "device_name": "x"}),
        )
        .await
        .expect_error(409, "not_claimed");
    d.anon()
        .post("/api/pairing", &json!({}))
        .await
        .expect_error(401, "unauthenticated");

    let owner = d.owner().await;
    let (reader, _) = owner.create_token("reader", &["docs:read"]).await;
    reader
        .post("/api/pairing", &json!({}))
        .await
        .expect_error(403, "forbidden");
    reader
        .get("/api/devices")
        .await
        .expect_error(403, "forbidden");
    // An owner token may (a script that prints the QR for a new phone).
    let (script, _) = owner.create_token("script", &["owner"]).await;
    script.post("/api/pairing", &json!({})).await.ok(201);

    // Malformed bodies change nothing.
    d.anon()
        .post("/api/pairing/redeem", &json!({"code": "AAAA"}))
        .await
        .expect_error(422, "invalid_body");
}

#[tokio::test]
async fn wrong_pairing_codes_are_rate_limited() {
    let d = Daemon::start().await;
    d.claim().await;
    let guesser = d.anon_from(9);
    let mut statuses = Vec::new();
    for i in 0..12 {
        let r = guesser
            .post(
                "/api/pairing/redeem",
                &json!({"code": format!("WRONGCODE{i}"), "device_name": "guess"}),
            )
            .await;
        statuses.push(r.status);
        if r.status == 429 {
            r.expect_error(429, "rate_limited");
            assert!(r.header("retry-after").is_some(), "429 without Retry-After");
            break;
        }
        r.expect_error(403, "wrong_pairing_code");
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "a guesser is slowed down: {statuses:?}"
    );
    // Another client is not punished for it.
    let owner = d.anon().login(foyer_e2e::PASSPHRASE).await;
    owner.post("/api/pairing", &json!({})).await.ok(201);
}

#[tokio::test]
async fn the_box_has_a_name_the_owner_sets() {
    let mut d = Daemon::start().await;
    let owner = d.owner().await;
    let b = owner.get("/api/box").await.ok(200);
    let hostname = b["hostname"].as_str().expect("hostname").to_owned();
    assert!(
        hostname.len() == "foyer-xxxx".len() && hostname.starts_with("foyer-"),
        "{b}"
    );
    assert_eq!(b["name"], hostname.as_str(), "default name: the host name");
    assert_eq!(b["claimed"], true);
    let fp = sha256_hex(&pem_to_der(d.ca_pem()));
    assert_eq!(b["ca_fingerprint"], fp.as_str());
    let grouped = b["ca_fingerprint_grouped"].as_str().expect("grouped");
    assert_eq!(grouped.replace(':', "").to_lowercase(), fp);
    assert!(
        b["https_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("https://{hostname}.local"))),
        "{b}"
    );

    let renamed = owner
        .put("/api/box", &json!({"name": "Maison à Lyon"}))
        .await
        .ok(200);
    assert_eq!(renamed["name"], "Maison à Lyon");
    assert_eq!(owner.get("/api/box").await.ok(200)["name"], "Maison à Lyon");
    for bad in [json!({"name": ""}), json!({"name": "x".repeat(65)})] {
        owner
            .put("/api/box", &bad)
            .await
            .expect_error(400, "invalid_name");
    }
    let (reader, _) = owner.create_token("reader", &["docs:read"]).await;
    reader
        .put("/api/box", &json!({"name": "Taken over"}))
        .await
        .expect_error(403, "forbidden");
    d.stop().await;
    d.restart().await;
    let owner = d.anon().login(foyer_e2e::PASSPHRASE).await;
    assert_eq!(
        owner.get("/api/box").await.ok(200)["name"],
        "Maison à Lyon",
        "the name survives a restart"
    );
}

#[tokio::test]
async fn the_apple_profile_carries_the_box_ca() {
    let d = Daemon::start().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = http
        .get(d.http_url("/ca.mobileconfig"))
        .send()
        .await
        .expect("GET /ca.mobileconfig");
    assert_eq!(r.status(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(ct, "application/x-apple-aspen-config");
    let body = r.text().await.expect("body");
    // An XML property list whose root payload is the CA's DER (base64 <data>).
    assert!(body.starts_with("<?xml"), "{body}");
    assert!(body.contains("com.apple.security.root"), "{body}");
    let der = pem_to_der(d.ca_pem());
    let data: String = body
        .split("<data>")
        .nth(1)
        .and_then(|rest| rest.split("</data>").next())
        .expect("a <data> element")
        .split_whitespace()
        .collect();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64 data");
    assert_eq!(decoded, der, "the profile's certificate is the box CA");
}
