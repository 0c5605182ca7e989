//! Sealing the vault's unattended-unlock key: the key-encryption key (KEK)
//! with which the vault wraps its master key so the box can restart after a
//! power cut without anyone typing a passphrase.
//!
//! Two methods, behind [`KeySealer`]:
//!
//! | method | strength | where the KEK comes from |
//! | --- | --- | --- |
//! | `rpi-otp` | [`SealStrength::Hardware`] | HKDF-SHA256 of the board's device-unique OTP private key (Raspberry Pi 4/5, CM4/CM5), salt = board serial, info = [`OTP_KDF_INFO`] |
//! | `file` | [`SealStrength::File`] | 32 random bytes in `keys_dir/unattended.key` (mode 0600) |
//!
//! **What "hardware" buys, honestly.** With `rpi-otp`, the data partition
//! alone (a stolen SD card, a copied disk image) no longer unlocks the vault:
//! the KEK never touches the disk. It is not a secure element: on a running
//! box, anyone in the `video` group (or root) can read the OTP key through
//! `/dev/vcio`, and on a Raspberry Pi 4 without signed boot, someone holding
//! the board can boot their own OS and read it. The `file` method is weaker:
//! whoever reads the disk reads the KEK.
//!
//! **Provisioning (a partner's factory decision; never done by Foyer).**
//! The OTP key is programmed once, irreversibly, with Raspberry Pi's
//! `rpi-otp-private-key -w <64 hex digits>` (from `usbboot`/`rpi-eeprom`
//! tools, e.g. `openssl rand -hex 32`), ideally together with secure boot.
//! Foyer only reads it. An unprogrammed key reads as all zeros; Foyer then
//! falls back to the `file` method and says why in [`SealInfo::fallback`].
//!
//! **Switching methods.** The two methods give different keys. The daemon
//! should record [`KeySealer::method`] next to the wrapped master key; if a
//! later start gets a different method (OTP programmed after first start, or
//! the mailbox unreadable), it must not create a new key but unwrap with the
//! old one ([`FileSealer::new`] stays usable for that) or ask for the
//! passphrase, then re-wrap.
//!
//! The file format is fixed for compatibility with boxes already in the
//! field: exactly 32 raw bytes, path `keys_dir/unattended.key`, mode 0600.
//! Keys are held in [`Zeroizing`] buffers and are never logged or printed.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::BoardError;
use crate::mailbox::Mailbox;

/// File name of the unattended key inside the keys directory.
pub const UNATTENDED_KEY_FILE: &str = "unattended.key";

/// HKDF `info` label of the OTP-derived key. Changing it changes every
/// box's key: never do.
pub const OTP_KDF_INFO: &[u8] = b"foyer board unattended-key v1";

/// How well the key is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealStrength {
    /// Derived from a secret in the board's hardware; not stored on disk.
    Hardware,
    /// A random key in a file on the data partition (readable by whoever
    /// reads the disk).
    File,
}

/// A description of a sealer, safe to log and to show the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealInfo {
    /// `rpi-otp` or `file`.
    pub method: String,
    /// How well the key is protected.
    pub strength: SealStrength,
    /// One sentence for humans.
    pub detail: String,
    /// Why a hardware method was not used, when the board has one.
    pub fallback: Option<String>,
}

/// Produces the vault's unattended-unlock key-encryption key.
pub trait KeySealer: Send + Sync {
    /// Stable method name: `"rpi-otp"` or `"file"`.
    fn method(&self) -> &'static str;

    /// How well the key is protected.
    fn strength(&self) -> SealStrength;

    /// The 32-byte key-encryption key; the same on every call and every boot
    /// of this box. `create` allows generating and storing it when the method
    /// needs storage and it does not exist yet (first start); hardware-derived
    /// keys always exist and ignore it.
    fn key(&self, create: bool) -> Result<Zeroizing<[u8; 32]>, BoardError>;

    /// What this sealer is, for logs and the owner's security page.
    fn describe(&self) -> SealInfo;
}

/// The `file` method: a random key in `keys_dir/unattended.key`.
#[derive(Clone, Debug)]
pub struct FileSealer {
    path: PathBuf,
    fallback: Option<String>,
}

impl FileSealer {
    /// The file sealer for `keys_dir`.
    pub fn new(keys_dir: &Path) -> FileSealer {
        FileSealer {
            path: keys_dir.join(UNATTENDED_KEY_FILE),
            fallback: None,
        }
    }

    /// The file sealer, used because a hardware method could not be
    /// (`reason` is reported by [`KeySealer::describe`]).
    pub fn fallback(keys_dir: &Path, reason: impl Into<String>) -> FileSealer {
        FileSealer {
            fallback: Some(reason.into()),
            ..FileSealer::new(keys_dir)
        }
    }

    /// Where the key lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Option<Zeroizing<[u8; 32]>>, BoardError> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(BoardError::io("open", &self.path, e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| BoardError::io("stat", &self.path, e))?;
        if meta.len() != 32 {
            return Err(BoardError::KeyWrongSize {
                path: self.path.clone(),
                len: meta.len(),
            });
        }
        if meta.mode() & 0o077 != 0 {
            tracing::warn!(path = %self.path.display(), mode = format!("{:o}", meta.mode() & 0o777),
                "unattended key is readable by others than its owner; expected mode 0600");
        }
        let mut key = Zeroizing::new([0u8; 32]);
        file.read_exact(key.as_mut())
            .map_err(|e| BoardError::io("read", &self.path, e))?;
        // A file that grew between stat and read is not ours to trust.
        let mut extra = [0u8; 1];
        match file.read(&mut extra) {
            Ok(0) => Ok(Some(key)),
            Ok(_) => Err(BoardError::KeyWrongSize {
                path: self.path.clone(),
                len: meta.len().saturating_add(1),
            }),
            Err(e) => Err(BoardError::io("read", &self.path, e)),
        }
    }

    /// Creates the key atomically: random bytes into a temporary file
    /// (0600), fsync, link into place without replacing an existing key,
    /// fsync of the directory. If another process won the race, its key is
    /// the key.
    fn create(&self) -> Result<Zeroizing<[u8; 32]>, BoardError> {
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| BoardError::io("create", dir, e))?;
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut()).map_err(|e| BoardError::Random(e.to_string()))?;

        let tmp = dir.join(format!(".{UNATTENDED_KEY_FILE}.tmp-{}", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|e| BoardError::io("create", &tmp, e))?;
            f.write_all(key.as_ref())
                .and_then(|()| f.sync_all())
                .map_err(|e| BoardError::io("write", &tmp, e))?;
            drop(f);
            match fs::hard_link(&tmp, &self.path) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
                // Filesystems without hard links: rename, after checking again.
                Err(_) if !self.path.exists() => fs::rename(&tmp, &self.path)
                    .map(|()| true)
                    .map_err(|e| BoardError::io("rename", &self.path, e)),
                Err(e) => Err(BoardError::io("link", &self.path, e)),
            }
        })();
        let _ = fs::remove_file(&tmp);
        let created = result?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| BoardError::io("sync", dir, e))?;
        if created {
            tracing::info!(path = %self.path.display(), "created the unattended key file");
            Ok(key)
        } else {
            self.read()?.ok_or_else(|| BoardError::KeyMissing {
                path: self.path.clone(),
            })
        }
    }
}

impl KeySealer for FileSealer {
    fn method(&self) -> &'static str {
        "file"
    }

    fn strength(&self) -> SealStrength {
        SealStrength::File
    }

    fn key(&self, create: bool) -> Result<Zeroizing<[u8; 32]>, BoardError> {
        match self.read()? {
            Some(key) => Ok(key),
            None if create => self.create(),
            None => Err(BoardError::KeyMissing {
                path: self.path.clone(),
            }),
        }
    }

    fn describe(&self) -> SealInfo {
        SealInfo {
            method: self.method().into(),
            strength: self.strength(),
            detail: format!(
                "random key in {} (mode 0600): whoever can read the disk can unlock the vault",
                self.path.display()
            ),
            fallback: self.fallback.clone(),
        }
    }
}

/// Where the OTP private key is read from.
#[derive(Clone, Debug)]
pub(crate) enum OtpSource {
    /// The VideoCore mailbox under this root (`<root>/dev/vcio`).
    Mailbox(PathBuf),
    /// A file of 64 hex digits (simulated boards).
    HexFile(PathBuf),
}

impl OtpSource {
    /// The key; `Ok(None)` when it is not programmed (all zeros) or, for a
    /// simulated board, when the file does not exist.
    pub(crate) fn read(&self) -> Result<Option<Zeroizing<[u8; 32]>>, BoardError> {
        let key = match self {
            OtpSource::Mailbox(root) => Mailbox::open(root)?.get_private_key()?,
            OtpSource::HexFile(path) => {
                let text = match fs::read_to_string(path) {
                    Ok(t) => Zeroizing::new(t),
                    Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(BoardError::io("read", path, e)),
                };
                let digits: Zeroizing<String> =
                    Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
                let mut key = Zeroizing::new([0u8; 32]);
                hex::decode_to_slice(digits.as_bytes(), key.as_mut()).map_err(|_| {
                    BoardError::Invalid {
                        path: path.clone(),
                        message: "expected 64 hexadecimal digits".into(),
                    }
                })?;
                key
            }
        };
        Ok((key.iter().any(|b| *b != 0)).then_some(key))
    }
}

/// The `rpi-otp` method: HKDF-SHA256 of the OTP private key.
#[derive(Clone, Debug)]
pub struct OtpSealer {
    source: OtpSource,
    serial: Option<String>,
}

impl OtpSealer {
    /// Derives the KEK from an OTP key (salt = the board serial's ASCII bytes,
    /// or no salt when the board has no serial).
    pub(crate) fn derive(otp: &[u8; 32], serial: Option<&str>) -> Zeroizing<[u8; 32]> {
        let hk = Hkdf::<Sha256>::new(serial.map(str::as_bytes), otp);
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: cannot fail.
        if hk.expand(OTP_KDF_INFO, out.as_mut()).is_err() {
            tracing::error!("HKDF expand refused 32 bytes (impossible)");
        }
        out
    }
}

impl KeySealer for OtpSealer {
    fn method(&self) -> &'static str {
        "rpi-otp"
    }

    fn strength(&self) -> SealStrength {
        SealStrength::Hardware
    }

    fn key(&self, _create: bool) -> Result<Zeroizing<[u8; 32]>, BoardError> {
        let otp = self.source.read()?.ok_or_else(|| BoardError::Invalid {
            path: match &self.source {
                OtpSource::Mailbox(root) => root.join("dev/vcio"),
                OtpSource::HexFile(p) => p.clone(),
            },
            message: "the OTP private key reads as not programmed".into(),
        })?;
        Ok(OtpSealer::derive(&otp, self.serial.as_deref()))
    }

    fn describe(&self) -> SealInfo {
        SealInfo {
            method: self.method().into(),
            strength: self.strength(),
            detail: "derived from the board's one-time-programmable private key; \
                     not stored on disk"
                .into(),
            fallback: None,
        }
    }
}

/// The OTP sealer when `source` holds a programmed key, else the file sealer
/// with the reason. The OTP key is read once here to decide, then dropped.
pub(crate) fn otp_or_file(
    source: OtpSource,
    serial: Option<String>,
    keys_dir: &Path,
) -> Box<dyn KeySealer> {
    match source.read() {
        Ok(Some(_)) => Box::new(OtpSealer { source, serial }),
        Ok(None) => {
            let reason = "the OTP private key is not programmed (reads as all zeros)";
            tracing::warn!(reason, "unattended key falls back to a file");
            Box::new(FileSealer::fallback(keys_dir, reason))
        }
        Err(e) => {
            let reason = format!("the OTP private key could not be read: {e}");
            tracing::warn!(reason = %reason, "unattended key falls back to a file");
            Box::new(FileSealer::fallback(keys_dir, reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hkdf_is_salted_by_serial() {
        let otp = [7u8; 32];
        let a = OtpSealer::derive(&otp, Some("10000000abcdef01"));
        let b = OtpSealer::derive(&otp, Some("10000000abcdef02"));
        let c = OtpSealer::derive(&otp, None);
        assert_ne!(*a, *b);
        assert_ne!(*a, *c);
        assert_eq!(*a, *OtpSealer::derive(&otp, Some("10000000abcdef01")));
    }

    #[test]
    fn hex_otp_file_formats() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("otp");
        let src = OtpSource::HexFile(p.clone());
        assert!(src.read().expect("missing is None").is_none());
        fs::write(&p, "00".repeat(32)).expect("w");
        assert!(src.read().expect("zeros").is_none());
        fs::write(&p, format!("{}\n", "ab".repeat(32))).expect("w");
        assert_eq!(*src.read().expect("ok").expect("some"), [0xab; 32]);
        fs::write(&p, "abcd").expect("w");
        assert!(src.read().is_err());
    }
}
