//! The claim code: the secret on the box's label that proves physical
//! possession, so that nobody else on the LAN can claim an unclaimed box.
//!
//! A code provisioned at the factory is read from the configured file. In
//! development (no provisioned code) the box generates one at first start,
//! stores it in `<data-dir>/claim-code` (mode 0600) and prints it in the log;
//! the file is removed once the box is claimed. Codes are 12 Crockford
//! base32 characters (60 bits) shown as `XXXX-XXXX-XXXX`; attempts are
//! rate-limited, so guessing is hopeless. Comparison is constant-time and
//! forgiving of case, dashes and O/0, I/L/1 confusions.

use std::path::Path;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub struct ClaimCode {
    normalized: Zeroizing<String>,
    /// Whether it came from the factory (then `claim-code` is not written).
    pub provisioned: bool,
}

fn normalize(typed: &str) -> Zeroizing<String> {
    Zeroizing::new(
        typed
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect(),
    )
}

impl ClaimCode {
    /// The code of an unclaimed box: provisioned, previously stored, or new.
    pub fn load_or_create(
        data_dir: &Path,
        provisioned: Option<&Path>,
    ) -> std::io::Result<ClaimCode> {
        if let Some(code) = ClaimCode::load(data_dir, provisioned)? {
            return Ok(code);
        }
        let code = ClaimCode {
            normalized: Zeroizing::new(
                (0..12)
                    .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
                    .collect(),
            ),
            provisioned: false,
        };
        let line = Zeroizing::new(format!("{}\n", code.display()));
        crate::system::fsutil::write_atomic(&data_dir.join("claim-code"), line.as_bytes(), 0o600)?;
        Ok(code)
    }

    /// The provisioned or stored code, without making one (`None`: neither
    /// exists, so the box is claimed or has never started).
    pub fn load(data_dir: &Path, provisioned: Option<&Path>) -> std::io::Result<Option<ClaimCode>> {
        if let Some(file) = provisioned {
            let text = Zeroizing::new(std::fs::read_to_string(file)?);
            let normalized = normalize(text.lines().next().unwrap_or(""));
            if normalized.len() < 8 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("provisioned claim code in {} is too short", file.display()),
                ));
            }
            return Ok(Some(ClaimCode {
                normalized,
                provisioned: true,
            }));
        }
        match std::fs::read_to_string(data_dir.join("claim-code")) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                Ok(Some(ClaimCode {
                    normalized: normalize(text.trim()),
                    provisioned: false,
                }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The code grouped for humans (`XXXX-XXXX-XXXX`).
    pub fn display(&self) -> String {
        self.normalized
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Constant-time comparison with what someone typed.
    pub fn verify(&self, typed: &str) -> bool {
        let typed = normalize(typed);
        typed.len() == self.normalized.len()
            && bool::from(typed.as_bytes().ct_eq(self.normalized.as_bytes()))
    }
}

/// Removes `claim-code` once the box is claimed.
pub fn remove_file(data_dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(data_dir.join("claim-code")) {
        Ok(()) => crate::system::fsutil::sync_dir(data_dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_code_is_stored_and_verified_forgivingly() {
        let dir = std::env::temp_dir().join(format!("foyer-claim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let code = ClaimCode::load_or_create(&dir, None).expect("create");
        let shown = code.display();
        assert_eq!(shown.len(), 14);
        let stored = std::fs::read_to_string(dir.join("claim-code")).expect("stored");
        assert_eq!(stored.trim(), shown);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("claim-code"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(code.verify(&shown.to_lowercase().replace('-', " ")));
        assert!(!code.verify("AAAA-AAAA-AAAA"));
        assert!(!code.verify(""));
        let again = ClaimCode::load_or_create(&dir, None).expect("reload");
        assert_eq!(again.display(), shown);
        remove_file(&dir).expect("remove");
        assert!(!dir.join("claim-code").exists());
        std::fs::remove_dir_all(&dir).ok();
    }
}
