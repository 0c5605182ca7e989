//! The box's label, as a printable SVG (`foyerd label`): what the factory
//! sticks on the box and what the owner needs to claim it.
//!
//! It carries the LAN name, the claim code in large type, the box CA's
//! fingerprint (so the owner can compare it with the web app and the browser)
//! and a QR code of `https://foyer-XXXX.local:PORT/#claim=CODE&fp=CA`, which
//! opens onboarding on the phone with the code already filled in. It is made
//! from the data directory after the first start (the device identity and the
//! CA exist then), with the provisioned claim code or the stored one.

use std::fmt::Write as _;
use std::path::Path;

use crate::auth::claim::ClaimCode;
use crate::net::{tls, trust};
use crate::system::identity::Identity;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error(
        "{0} has no device identity or CA yet: start the box once (foyerd serve) before printing its label"
    )]
    NotStarted(String),
    #[error("the box has no claim code: it is already claimed (a label is for an unclaimed box)")]
    NoClaimCode,
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a PEM certificate")]
    BadCa(String),
    #[error("QR code: {0}")]
    Qr(String),
}

/// What a label shows.
#[derive(Debug, Clone)]
pub struct LabelFacts {
    pub hostname: String,
    pub https_port: u16,
    /// `XXXX-XXXX-XXXX`.
    pub claim_code: String,
    /// Lowercase hex SHA-256 of the CA certificate.
    pub ca_fingerprint: String,
}

impl LabelFacts {
    /// Reads the facts from a data directory, changing nothing in it.
    pub fn read(
        data_dir: &Path,
        provisioned: Option<&Path>,
        https_port: u16,
    ) -> Result<LabelFacts, LabelError> {
        let read_err = |path: &Path| {
            let path = path.display().to_string();
            move |source| LabelError::Read { path, source }
        };
        let not_started = || LabelError::NotStarted(data_dir.display().to_string());
        let identity = Identity::load(data_dir)
            .map_err(read_err(&data_dir.join("device-id")))?
            .ok_or_else(not_started)?;
        let ca_path = data_dir.join("tls").join("ca.pem");
        let ca_pem = match std::fs::read_to_string(&ca_path) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_started()),
            Err(e) => return Err(read_err(&ca_path)(e)),
        };
        let der = tls::pem_to_der(&ca_pem)
            .ok_or_else(|| LabelError::BadCa(ca_path.display().to_string()))?;
        let code = ClaimCode::load(data_dir, provisioned)
            .map_err(read_err(
                provisioned.unwrap_or(&data_dir.join("claim-code")),
            ))?
            .ok_or(LabelError::NoClaimCode)?;
        Ok(LabelFacts {
            hostname: identity.hostname(),
            https_port,
            claim_code: code.display(),
            ca_fingerprint: tls::fingerprint(&der),
        })
    }
}

/// Label size in millimetres (a common 90 × 50 mm adhesive label).
const WIDTH_MM: f64 = 90.0;
const HEIGHT_MM: f64 = 50.0;
/// The QR code's side, quiet zone included.
const QR_MM: f64 = 42.0;
/// Quiet zone around the QR code, in modules (ISO/IEC 18004).
const QUIET: usize = 4;

/// The label as an SVG document, sized in millimetres for printing.
pub fn svg(facts: &LabelFacts) -> Result<String, LabelError> {
    let url = trust::claim_url(
        &facts.hostname,
        facts.https_port,
        &facts.claim_code,
        &facts.ca_fingerprint,
    );
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| LabelError::Qr(e.to_string()))?;
    let width = qr.width();
    let side = width + 2 * QUIET;
    let mut path = String::new();
    for (i, color) in qr.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = (i % width + QUIET, i / width + QUIET);
            let _ = write!(path, "M{x} {y}h1v1h-1z");
        }
    }
    let grouped = trust::grouped_fingerprint(&facts.ca_fingerprint);
    // 32 bytes → 4 lines of 8 ("AB:CD:…", 23 characters each).
    let fp_lines: Vec<&str> = grouped
        .as_bytes()
        .chunks(24)
        .map(|c| std::str::from_utf8(c).unwrap_or("").trim_end_matches(':'))
        .collect();
    let margin = (HEIGHT_MM - QR_MM) / 2.0;
    let tx = QR_MM + margin * 2.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_MM}mm" height="{HEIGHT_MM}mm" viewBox="0 0 {WIDTH_MM} {HEIGHT_MM}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<title>Foyer {host}.local</title>
<rect width="{WIDTH_MM}" height="{HEIGHT_MM}" fill="#fff"/>
<svg x="{margin}" y="{margin}" width="{QR_MM}" height="{QR_MM}" viewBox="0 0 {side} {side}" shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{path}"/></svg>
<text x="{tx}" y="8" font-size="5" font-weight="700">Foyer</text>
<text x="{tx}" y="12.5" font-size="2.6">{host}.local</text>
<text x="{tx}" y="18.5" font-size="2.2" fill="#333">Code / Claim code</text>
<text x="{tx}" y="23.5" font-size="4.1" font-weight="700" font-family="DejaVu Sans Mono, Menlo, monospace">{code}</text>
<text x="{tx}" y="29" font-size="1.9" fill="#333">Empreinte / Fingerprint (SHA-256)</text>"##,
        host = xml_escape(&facts.hostname),
        code = xml_escape(&facts.claim_code),
    );
    for (i, line) in fp_lines.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{tx}" y="{y:.1}" font-size="1.75" font-family="DejaVu Sans Mono, Menlo, monospace">{line}</text>"#,
            y = 31.8 + i as f64 * 2.3,
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="{tx}" y="44" font-size="1.9">Scannez avec votre téléphone</text>
<text x="{tx}" y="46.5" font-size="1.9" fill="#333">Scan with your phone</text>
</svg>"##
    );
    Ok(out)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> LabelFacts {
        LabelFacts {
            hostname: "foyer-ab12".into(),
            https_port: 8443,
            claim_code: "ABCD-EFGH-JKMN".into(),
            ca_fingerprint: "ab".repeat(32),
        }
    }

    #[test]
    fn the_label_shows_the_name_the_code_and_the_whole_fingerprint() {
        let svg = svg(&facts()).expect("label");
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("foyer-ab12.local"));
        assert!(svg.contains("ABCD-EFGH-JKMN"));
        let shown: String = svg
            .lines()
            .filter(|l| l.contains("monospace") && l.contains("AB:AB"))
            .map(|l| {
                l.split('>')
                    .nth(1)
                    .unwrap_or("")
                    .split('<')
                    .next()
                    .unwrap_or("")
            })
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(shown, trust::grouped_fingerprint(&"ab".repeat(32)));
        assert!(
            svg.contains("<path fill=\"#000\" d=\"M"),
            "a QR code is drawn"
        );
    }

    #[test]
    fn facts_need_a_started_unclaimed_box() {
        let dir = std::env::temp_dir().join(format!("foyer-label-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        assert!(matches!(
            LabelFacts::read(&dir, None, 8443),
            Err(LabelError::NotStarted(_))
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
