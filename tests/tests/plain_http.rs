//! The plain-HTTP listener: the CA as PEM (same bytes as `tls/ca.pem`) and
//! DER, the trust page (fingerprint, French or English, addresses for phones
//! without `.local`), and a 308 redirect to HTTPS
//! for everything else (API data is never served over plain HTTP).

use foyer_e2e::{Daemon, pem_to_der, sha256_hex};

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

#[tokio::test]
async fn ca_downloads_and_trust_page() {
    let d = Daemon::start().await;
    let http = plain_client();
    let on_disk = std::fs::read(d.data_dir.join("tls/ca.pem")).expect("tls/ca.pem");

    let pem = http
        .get(d.http_url("/ca.pem"))
        .send()
        .await
        .expect("GET /ca.pem");
    assert_eq!(pem.status(), 200);
    assert_eq!(
        pem.bytes().await.unwrap().to_vec(),
        on_disk,
        "/ca.pem differs from tls/ca.pem"
    );

    let der = http
        .get(d.http_url("/ca.crt"))
        .send()
        .await
        .expect("GET /ca.crt");
    assert_eq!(der.status(), 200);
    let der = der.bytes().await.unwrap().to_vec();
    assert_eq!(der, pem_to_der(d.ca_pem()), "/ca.crt is the DER of ca.pem");

    let fingerprint = sha256_hex(&der);
    let health = d.anon().get("/api/health").await.ok(200);
    assert_eq!(health["ca_fingerprint"], fingerprint.as_str());

    let page = http
        .get(d.http_url("/trust"))
        .send()
        .await
        .expect("GET /trust");
    assert_eq!(page.status(), 200);
    let ct = page
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    assert!(ct.starts_with("text/html"), "content-type {ct}");
    let html = page.text().await.unwrap();
    // However the page groups it (AB:CD:… or plain hex), the digits are there.
    let digits: String = html
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_lowercase();
    assert!(
        digits.contains(&fingerprint),
        "the trust page does not show the fingerprint {fingerprint}"
    );

    // curl fetches the same PEM.
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "--noproxy", "*", "--max-time", "30"])
        .arg(d.http_url("/ca.pem"))
        .output()
        .await
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, on_disk);
}

#[tokio::test]
async fn everything_else_redirects_to_https() {
    let d = Daemon::start().await;
    let http = plain_client();

    for path in [
        "/",
        "/api/health",
        "/api/files/secret.txt",
        "/api/docs/bill/x?rev=1-a&b=c",
    ] {
        let r = http.get(d.http_url(path)).send().await.expect("GET");
        assert_eq!(r.status(), 308, "{path}");
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert_eq!(
            location,
            format!("https://127.0.0.1:{}{path}", d.https_port),
            "{path}"
        );
    }
    // POSTs are redirected too (308 keeps the method), never served.
    let r = http
        .post(d.http_url("/api/setup"))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 308);

    // The Host the client used is kept, with the HTTPS port.
    let r = http
        .get(d.http_url("/api/health"))
        .header("Host", format!("localhost:{}", d.http_port))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 308);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("https://localhost:{}/api/health", d.https_port)
    );

    // Following it with a verifying client reaches the API.
    let health = d
        .anon()
        .send(
            "GET (redirect target)".into(),
            d.anon().client.get(&location),
        )
        .await
        .ok(200);
    assert_eq!(health["status"], "ok");

    // A hostile Host header does not end up in the redirect.
    let r = http
        .get(d.http_url("/x"))
        .header("Host", "evil.example/\">")
        .send()
        .await
        .expect("GET");
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(!location.contains("evil.example/"), "{location}");
}

/// The trust page speaks the browser's language (French or English) and its
/// "continue" link keeps the way the browser came in (here by address, as a
/// phone that cannot resolve `.local` would).
#[tokio::test]
async fn trust_page_in_french_and_by_address() {
    let d = Daemon::start().await;
    let http = plain_client();
    let page = |lang: &'static str| {
        http.get(d.http_url("/trust"))
            .header("accept-language", lang)
            .send()
    };
    let fr = page("fr-FR,fr;q=0.9,en;q=0.8")
        .await
        .expect("GET /trust")
        .text()
        .await
        .expect("body");
    assert!(fr.contains("<html lang=\"fr\">"), "{fr}");
    assert!(fr.contains("Faire confiance"), "{fr}");
    // The test reached the box as 127.0.0.1: the continue link stays there.
    assert!(
        fr.contains(&format!("href=\"https://127.0.0.1:{}/\"", d.https_port)),
        "{fr}"
    );
    let en = page("en-GB,en;q=0.9")
        .await
        .expect("GET /trust")
        .text()
        .await
        .expect("body");
    assert!(
        en.contains("<html lang=\"en\">") && en.contains("Trust your Foyer box"),
        "{en}"
    );
}
