//! HTTPS: ALPN negotiates HTTP/2 with an ordinary client (and curl), HTTP/1.1
//! still works; the certificate verifies for every name it should (localhost,
//! 127.0.0.1, foyer-XXXX.local) and for no other; the CA is ECDSA P-256 and
//! name-constrained; the server certificate names ::1 too.

use std::net::{Ipv4Addr, SocketAddr};

use foyer_e2e::{Daemon, pem_to_der};
use x509_parser::prelude::*;

#[tokio::test]
async fn alpn_negotiates_http2() {
    let d = Daemon::start().await;
    let r = d.anon().get("/api/health").await;
    r.expect(200);
    assert_eq!(
        r.version,
        reqwest::Version::HTTP_2,
        "ALPN did not select h2"
    );

    let h1 = d.api_with(d.client_builder().http1_only());
    let r = h1.get("/api/health").await;
    r.expect(200);
    assert_eq!(r.version, reqwest::Version::HTTP_11);

    let c = d.curl(&[], "/api/health").await;
    assert_eq!(c.status, 200, "{}", c.stderr);
    assert_eq!(
        c.http_version, "2",
        "curl negotiated HTTP/{}",
        c.http_version
    );
}

#[tokio::test]
async fn certificate_names_and_ca_constraints() {
    let d = Daemon::start().await;
    let health = d.anon().get("/api/health").await.ok(200);
    let name = health["name"].as_str().expect("name").to_owned();
    let ca = reqwest::Certificate::from_pem(d.ca_pem().as_bytes()).unwrap();
    let base = || {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca.clone())
            .https_only(true)
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30))
    };
    let lo = SocketAddr::from((Ipv4Addr::LOCALHOST, d.https_port));

    // By IP address.
    let r = base()
        .build()
        .unwrap()
        .get(format!("https://127.0.0.1:{}/api/health", d.https_port))
        .send()
        .await
        .expect("https://127.0.0.1 verifies");
    assert_eq!(r.status(), 200);

    // By its mDNS name (resolved here, to loopback: no query leaves the host).
    let local = format!("{name}.local");
    let r = base()
        .resolve(&local, lo)
        .build()
        .unwrap()
        .get(format!("https://{local}:{}/api/health", d.https_port))
        .send()
        .await
        .unwrap_or_else(|e| panic!("https://{local} does not verify: {e:?}"));
    assert_eq!(r.status(), 200);

    // Any other name is refused by verification.
    let err = base()
        .resolve("bank.example.com", lo)
        .build()
        .unwrap()
        .get(format!(
            "https://bank.example.com:{}/api/health",
            d.https_port
        ))
        .send()
        .await;
    assert!(err.is_err(), "a certificate for another name verified");

    // The CA: a CA, ECDSA P-256, name-constrained.
    let der = pem_to_der(d.ca_pem());
    let (_, cert) = X509Certificate::from_der(&der).expect("parse CA");
    assert!(cert.is_ca(), "tls/ca.pem is not a CA");
    let spki = cert.public_key();
    assert_eq!(
        spki.algorithm.algorithm.to_id_string(),
        "1.2.840.10045.2.1",
        "CA key is not EC"
    );
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    assert_eq!(
        curve.as_deref(),
        Some("1.2.840.10045.3.1.7"),
        "CA key is not P-256"
    );
    let constraints = cert
        .name_constraints()
        .expect("name constraints parse")
        .expect("the CA has no name constraints");
    let permitted = constraints
        .value
        .permitted_subtrees
        .as_ref()
        .expect("permitted subtrees");
    let names: Vec<String> = permitted.iter().map(|s| format!("{:?}", s.base)).collect();
    assert!(
        names.iter().any(|n| n.contains("localhost")),
        "localhost not permitted: {names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains(&local)),
        "{local} not permitted: {names:?}"
    );

    // The server certificate covers the names and both loopback addresses.
    let server_pem =
        std::fs::read_to_string(d.data_dir.join("tls/server.pem")).expect("tls/server.pem");
    let sder = pem_to_der(&server_pem);
    let (_, server) = X509Certificate::from_der(&sder).expect("parse server cert");
    let san = server
        .subject_alternative_name()
        .expect("SAN parses")
        .expect("server certificate has SANs");
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    for n in &san.value.general_names {
        match n {
            GeneralName::DNSName(s) => dns.push((*s).to_owned()),
            GeneralName::IPAddress(b) => ips.push(b.to_vec()),
            _ => {}
        }
    }
    assert!(dns.contains(&"localhost".to_owned()), "{dns:?}");
    assert!(dns.contains(&local), "{dns:?}");
    assert!(ips.contains(&vec![127, 0, 0, 1]), "127.0.0.1 missing");
    let v6_lo: Vec<u8> = std::net::Ipv6Addr::LOCALHOST.octets().to_vec();
    assert!(ips.contains(&v6_lo), "::1 missing");
}
