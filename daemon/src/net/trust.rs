//! How a phone or a computer learns to trust the box: the CA certificate in
//! the forms each platform installs (PEM, DER `.crt` for Android, an Apple
//! configuration profile for iOS and macOS), and the fingerprint grouped for
//! people to compare with the label, the web app and the mDNS TXT record,
//! and the pairing QR code that carries the box's URL and fingerprint to a
//! phone's camera.

use std::net::IpAddr;

use serde::Serialize;

use super::urls;

/// `AB:CD:…`, the way fingerprints are printed for people.
pub fn grouped_fingerprint(hex_fp: &str) -> String {
    hex_fp
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// A stable UUID derived from the CA fingerprint and a purpose, so the same
/// box always offers the same profile (re-installing replaces, not adds).
fn stable_uuid(ca_fingerprint: &str, purpose: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{purpose}:{ca_fingerprint}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
        .to_uppercase()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RootPayload {
    payload_certificate_file_name: String,
    #[serde(with = "serde_bytes_as_data")]
    payload_content: Vec<u8>,
    payload_description: String,
    payload_display_name: String,
    payload_identifier: String,
    payload_type: &'static str,
    #[serde(rename = "PayloadUUID")]
    payload_uuid: String,
    payload_version: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Profile {
    payload_content: Vec<RootPayload>,
    payload_description: String,
    payload_display_name: String,
    payload_identifier: String,
    payload_organization: &'static str,
    payload_removal_disallowed: bool,
    payload_type: &'static str,
    #[serde(rename = "PayloadUUID")]
    payload_uuid: String,
    payload_version: u32,
}

/// plist `<data>` for a byte vector (serde would otherwise write an array).
mod serde_bytes_as_data {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }
}

/// An Apple configuration profile (`.mobileconfig`) that installs the box CA
/// as a root certificate.
pub fn mobileconfig(
    hostname: &str,
    ca_der: &[u8],
    ca_fingerprint: &str,
) -> Result<Vec<u8>, String> {
    let ident = format!("local.foyer.{hostname}");
    let profile = Profile {
        payload_content: vec![RootPayload {
            payload_certificate_file_name: format!("{hostname}-ca.crt"),
            payload_content: ca_der.to_vec(),
            payload_description: "Lets this device verify the Foyer box's HTTPS connection.".into(),
            payload_display_name: format!("Foyer box {hostname}.local"),
            payload_identifier: format!("{ident}.ca"),
            payload_type: "com.apple.security.root",
            payload_uuid: stable_uuid(ca_fingerprint, "root"),
            payload_version: 1,
        }],
        payload_description: format!(
            "Certificate authority of the Foyer box {hostname}.local (SHA-256 {}). It can only vouch for the box's own names and private network addresses.",
            grouped_fingerprint(ca_fingerprint)
        ),
        payload_display_name: format!("Foyer box {hostname}"),
        payload_identifier: ident,
        payload_organization: "Foyer",
        payload_removal_disallowed: false,
        payload_type: "Configuration",
        payload_uuid: stable_uuid(ca_fingerprint, "profile"),
        payload_version: 1,
    };
    let mut out = Vec::new();
    plist::to_writer_xml(&mut out, &profile).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The box's HTTPS URL at `host` (a name or an address literal, IPv6 in
/// brackets) with `fragment` (`pair=…` or `claim=…`) and the CA fingerprint.
/// Codes sit in the fragment, which a browser never sends to any server.
fn box_url(host: &str, https_port: u16, fragment: &str, ca_fingerprint: &str) -> String {
    format!(
        "{}#{fragment}&fp={ca_fingerprint}",
        urls::https_root(host, https_port)
    )
}

/// The URL a pairing QR code carries (web app settings).
fn pairing_url(hostname: &str, https_port: u16, code: &str, ca_fingerprint: &str) -> String {
    box_url(
        &urls::local_name(hostname),
        https_port,
        &format!("pair={code}"),
        ca_fingerprint,
    )
}

/// The same by address, for phones that cannot resolve `.local` names
/// (the server certificate covers the box's LAN addresses).
fn pairing_url_by_address(ip: IpAddr, https_port: u16, code: &str, ca_fingerprint: &str) -> String {
    box_url(
        &urls::url_host(ip),
        https_port,
        &format!("pair={code}"),
        ca_fingerprint,
    )
}

/// Where a pairing code travels: the box's URL by name and, when the box
/// has a LAN address, by that address (for phones that cannot resolve
/// `.local`), each with its QR code.
pub struct PairingLinks {
    pub url: String,
    pub qr_svg: String,
    pub address_url: Option<String>,
    pub address_qr_svg: Option<String>,
}

impl PairingLinks {
    pub fn new(
        lan_hostname: &str,
        address: Option<IpAddr>,
        https_port: u16,
        code: &str,
        ca_fingerprint: &str,
    ) -> Result<PairingLinks, String> {
        let url = pairing_url(lan_hostname, https_port, code, ca_fingerprint);
        let address_url =
            address.map(|ip| pairing_url_by_address(ip, https_port, code, ca_fingerprint));
        Ok(PairingLinks {
            qr_svg: qr_svg(&url)?,
            address_qr_svg: address_url.as_deref().map(qr_svg).transpose()?,
            url,
            address_url,
        })
    }
}

/// The URL the label's QR code carries: it opens onboarding with the claim
/// code filled in.
pub fn claim_url(hostname: &str, https_port: u16, code: &str, ca_fingerprint: &str) -> String {
    box_url(
        &urls::local_name(hostname),
        https_port,
        &format!("claim={code}"),
        ca_fingerprint,
    )
}

/// The languages of the pages the box serves before the web app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// The first of French or English in an `Accept-Language` header, in the
    /// browser's order of preference (as the web app chooses); English when
    /// neither is there.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        header
            .unwrap_or("")
            .split(',')
            .filter_map(|part| {
                let tag = part.split(';').next()?.trim().to_ascii_lowercase();
                match tag.split('-').next()? {
                    "fr" => Some(Lang::Fr),
                    "en" => Some(Lang::En),
                    _ => None,
                }
            })
            .next()
            .unwrap_or(Lang::En)
    }
}

/// What the "how to trust this box" page shows.
pub struct TrustPage<'a> {
    /// The name the box answers to on the LAN (without `.local`).
    pub lan_hostname: &'a str,
    /// How the browser reached this page (a name or an address literal):
    /// the "continue" link keeps it, since it is known to work.
    pub reached_as: Option<&'a str>,
    pub https_port: u16,
    pub ca_fingerprint: &'a str,
    /// The box's LAN addresses (for phones that cannot resolve `.local`).
    pub addresses: &'a [IpAddr],
}

/// The plain-HTTP page that tells a person how to install the box CA on
/// their device, in French or English. Every value in it comes from the box
/// itself (names, addresses, fingerprint), never from the request but for
/// `reached_as`, which the caller has checked is a bare host.
pub fn trust_page(p: &TrustPage<'_>, lang: Lang) -> String {
    let name = urls::local_name(p.lan_hostname);
    let fp = grouped_fingerprint(p.ca_fingerprint);
    let continue_url = urls::https_root(p.reached_as.unwrap_or(&name), p.https_port);
    let address_links: String = p
        .addresses
        .iter()
        .map(|ip| {
            let url = urls::https_root(&urls::url_host(*ip), p.https_port);
            format!("<li><a href=\"{url}\">{url}</a></li>")
        })
        .collect();
    let t = match lang {
        Lang::Fr => [
            "fr",
            "Faire confiance à votre box Foyer",
            "Cette box protège sa connexion avec sa propre autorité de certification. Installez ce certificat une fois sur chaque appareil : votre navigateur vérifiera la box à chaque visite.",
            "Avant de lui faire confiance, vérifiez que son empreinte (SHA-256) est celle de l'étiquette de la box ou de l'application :",
            "<strong>Android</strong> : Paramètres → Sécurité → Chiffrement et identifiants → Installer un certificat → Certificat CA.",
            "<strong>iPhone / iPad</strong> : téléchargez le profil, ouvrez Réglages → Profil téléchargé → Installer, puis Réglages → Général → Informations → Réglages des certificats → activez-le.",
            "<strong>Windows / macOS / Linux</strong> : importez-le comme autorité racine de confiance dans votre navigateur ou votre trousseau.",
            "Ce certificat ne peut garantir que la box elle-même (ses noms et les adresses du réseau local) : il ne peut servir à usurper aucun autre site.",
            "Continuer vers la box en HTTPS",
            "Votre téléphone n'ouvre pas les adresses en .local ? Utilisez l'adresse de la box sur votre réseau :",
            "Android (.crt)",
            "iPhone, iPad, Mac (profil)",
            "Autre (PEM)",
        ],
        Lang::En => [
            "en",
            "Trust your Foyer box",
            "This box protects its connection with its own certificate authority. Install that certificate once on each device, and your browser will verify the box on every visit.",
            "Before trusting it, check that its fingerprint (SHA-256) matches the one on the box's label or in the app:",
            "<strong>Android</strong>: Settings → Security → Encryption &amp; credentials → Install a certificate → CA certificate.",
            "<strong>iPhone / iPad</strong>: download the profile, open Settings → Profile Downloaded → Install, then Settings → General → About → Certificate Trust Settings → enable it.",
            "<strong>Windows / macOS / Linux</strong>: import it as a trusted root authority in your browser or system keychain.",
            "This certificate can only vouch for the box itself (its names and local network addresses): it cannot be used to impersonate any other site.",
            "Continue to the box over HTTPS",
            "Your phone does not open .local names? Use the box's address on your network:",
            "Android (.crt)",
            "iPhone, iPad, Mac (profile)",
            "Other (PEM)",
        ],
    };
    let [
        code,
        title,
        intro,
        check,
        android,
        apple,
        desktop,
        scope,
        cont,
        by_address,
        crt,
        profile,
        pem,
    ] = t;
    let addresses = if address_links.is_empty() {
        String::new()
    } else {
        format!("<p>{by_address}</p><ul>{address_links}</ul>")
    };
    format!(
        r#"<!doctype html>
<html lang="{code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.5}}code{{word-break:break-all}}</style>
</head><body>
<h1>{title}</h1>
<p><strong>{name}</strong></p>
<p>{intro}</p>
<p><a href="/ca.crt">{crt}</a> · <a href="/ca.mobileconfig">{profile}</a> · <a href="/ca.pem">{pem}</a></p>
<p>{check}</p>
<p><code>{fp}</code></p>
<ul>
<li>{android}</li>
<li>{apple}</li>
<li>{desktop}</li>
</ul>
<p>{scope}</p>
<p><a href="{continue_url}">{cont}</a></p>
{addresses}
</body></html>"#
    )
}

/// A QR code of `text` as an SVG document (dark modules on white, with the
/// quiet zone), readable by phone cameras.
pub fn qr_svg(text: &str) -> Result<String, String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| e.to_string())?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#111111"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_is_a_plist_with_the_certificate_as_data() {
        let der = [0x30u8, 0x82, 0x01, 0x02, 0xff];
        let xml = mobileconfig("foyer-ab12", &der, "ab12cd").expect("profile");
        let value: plist::Value = plist::from_bytes(&xml).expect("parses back");
        let dict = value.as_dictionary().expect("dict");
        assert_eq!(
            dict.get("PayloadType").and_then(|v| v.as_string()),
            Some("Configuration")
        );
        let inner = dict
            .get("PayloadContent")
            .and_then(|v| v.as_array())
            .and_then(|a| a.first())
            .and_then(|v| v.as_dictionary())
            .expect("one payload");
        assert_eq!(
            inner.get("PayloadType").and_then(|v| v.as_string()),
            Some("com.apple.security.root")
        );
        assert_eq!(
            inner.get("PayloadContent").and_then(|v| v.as_data()),
            Some(&der[..])
        );
        // Same box, same UUIDs.
        assert_eq!(
            xml,
            mobileconfig("foyer-ab12", &der, "ab12cd").expect("again")
        );
    }

    #[test]
    fn pairing_qr_holds_the_url() {
        let url = pairing_url("foyer-ab12", 8443, "CODE", "ff00");
        assert_eq!(url, "https://foyer-ab12.local:8443/#pair=CODE&fp=ff00");
        assert_eq!(
            pairing_url("foyer-ab12", 443, "C", "f"),
            "https://foyer-ab12.local/#pair=C&fp=f"
        );
        assert_eq!(
            claim_url("foyer-ab12", 8443, "ABCD-EFGH-JKMN", "ff00"),
            "https://foyer-ab12.local:8443/#claim=ABCD-EFGH-JKMN&fp=ff00"
        );
        assert_eq!(
            pairing_url_by_address([192, 168, 1, 20].into(), 8443, "C", "f"),
            "https://192.168.1.20:8443/#pair=C&fp=f"
        );
        assert_eq!(
            pairing_url_by_address("fd00::20".parse().expect("v6"), 443, "C", "f"),
            "https://[fd00::20]/#pair=C&fp=f"
        );
        let svg = qr_svg(&url).expect("qr");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
    }

    #[test]
    fn languages_follow_the_browser_order() {
        let pick = |h: &str| Lang::from_accept_language(Some(h));
        assert_eq!(pick("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
        assert_eq!(pick("de-DE,en-GB;q=0.8,fr;q=0.5"), Lang::En);
        assert_eq!(pick("de"), Lang::En);
        assert_eq!(Lang::from_accept_language(None), Lang::En);
    }

    #[test]
    fn the_trust_page_offers_addresses_and_keeps_the_way_in() {
        let ips: [IpAddr; 2] = [[192, 168, 1, 20].into(), "fd00::20".parse().expect("v6")];
        let page = TrustPage {
            lan_hostname: "foyer-ab12",
            reached_as: Some("192.168.1.20"),
            https_port: 8443,
            ca_fingerprint: "ab01",
            addresses: &ips,
        };
        let fr = trust_page(&page, Lang::Fr);
        assert!(fr.contains("<html lang=\"fr\">"));
        assert!(fr.contains("foyer-ab12.local"));
        assert!(fr.contains("AB:01"));
        assert!(fr.contains("href=\"https://192.168.1.20:8443/\">Continuer"));
        assert!(fr.contains("https://[fd00::20]:8443/"));
        let en = trust_page(
            &TrustPage {
                reached_as: None,
                addresses: &[],
                ..page
            },
            Lang::En,
        );
        assert!(en.contains("href=\"https://foyer-ab12.local:8443/\">Continue"));
        assert!(
            !en.contains(".local names?"),
            "no address list without addresses"
        );
    }

    #[test]
    fn fingerprints_are_grouped() {
        assert_eq!(grouped_fingerprint("ab01ff"), "AB:01:FF");
    }
}
