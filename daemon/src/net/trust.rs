//! How a phone or a computer learns to trust the box: the CA certificate in
//! the forms each platform installs (PEM, DER `.crt` for Android, an Apple
//! configuration profile for iOS and macOS), and the fingerprint grouped for
//! people to compare with the label, the web app and the mDNS TXT record,
//! and the pairing QR code that carries the box's URL and fingerprint to a
//! phone's camera.

use serde::Serialize;

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

/// The box's HTTPS URL with `fragment` (`pair=…` or `claim=…`) and the CA
/// fingerprint. Codes sit in the fragment, which a browser never sends to
/// any server.
fn box_url(hostname: &str, https_port: u16, fragment: &str, ca_fingerprint: &str) -> String {
    let authority = if https_port == 443 {
        format!("{hostname}.local")
    } else {
        format!("{hostname}.local:{https_port}")
    };
    format!("https://{authority}/#{fragment}&fp={ca_fingerprint}")
}

/// The URL a pairing QR code carries (web app settings).
pub fn pairing_url(hostname: &str, https_port: u16, code: &str, ca_fingerprint: &str) -> String {
    box_url(
        hostname,
        https_port,
        &format!("pair={code}"),
        ca_fingerprint,
    )
}

/// The URL the label's QR code carries: it opens onboarding with the claim
/// code filled in.
pub fn claim_url(hostname: &str, https_port: u16, code: &str, ca_fingerprint: &str) -> String {
    box_url(
        hostname,
        https_port,
        &format!("claim={code}"),
        ca_fingerprint,
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
        let svg = qr_svg(&url).expect("qr");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
    }

    #[test]
    fn fingerprints_are_grouped() {
        assert_eq!(grouped_fingerprint("ab01ff"), "AB:01:FF");
    }
}
