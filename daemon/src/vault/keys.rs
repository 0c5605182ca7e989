//! Keys of the vault: the master key, the ways it is wrapped, and the keys
//! derived from it.
//!
//! A random 256-bit master key encrypts everything the owner owns. It never
//! touches the disk in the clear; `keys/keyring.json` holds it *wrapped*
//! (XChaCha20-Poly1305) under up to three key-encryption keys:
//!
//! - `unattended`: a random key in `keys/unattended.key` (mode 0600), so the box
//!   restarts after a power cut without anyone typing a passphrase. This is the
//!   **weaker fallback**: anyone who reads the whole disk reads that key too.
//!   The `board` work replaces it with a key sealed by the hardware.
//! - `passphrase`: Argon2id of the owner's passphrase. Unwrapping it is also
//!   how a passphrase is checked at login.
//! - `recovery`: the recovery key shown once at setup (128 random bits, so a
//!   fast KDF, HKDF-SHA256, suffices).
//!
//! Changing the passphrase re-wraps the same master key; nothing is re-encrypted.
//! Purpose keys (database, files, sealing of small secrets) are derived from the
//! master key with HKDF-SHA256 and distinct labels.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// Argon2id parameters for the passphrase wrap (RFC 9106's second
/// recommended option, memory reduced for 1 GB boards): 64 MiB, 3 passes.
pub const ARGON2_M_KIB: u32 = 64 * 1024;
pub const ARGON2_T: u32 = 3;
pub const ARGON2_P: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key store I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key store {path} is corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("wrong passphrase or key")]
    WrongKey,
    #[error("no {0} wrap in the keyring")]
    MissingWrap(&'static str),
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

/// The vault's master key. Zeroed on drop; never logged, never serialised.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    fn generate() -> Self {
        MasterKey(Zeroizing::new(rand::random()))
    }

    /// Derives a 32-byte purpose key (`label` names the purpose).
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"foyer-master-v1"), self.0.as_ref());
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: expand cannot fail.
        if hk.expand(label.as_bytes(), out.as_mut()).is_err() {
            unreachable!("HKDF output length is fixed and valid");
        }
        out
    }

    /// Encrypts a small secret (a TLS private key, say) for storage on disk.
    pub fn seal(&self, label: &str, plaintext: &[u8]) -> Vec<u8> {
        let key = self.derive(&format!("seal:{label}"));
        seal_with(&key, label.as_bytes(), plaintext)
    }

    /// Decrypts what [`MasterKey::seal`] produced with the same label.
    pub fn open(&self, label: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let key = self.derive(&format!("seal:{label}"));
        open_with(&key, label.as_bytes(), sealed)
    }
}

fn seal_with(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce: [u8; 24] = rand::random();
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // Encryption only fails for plaintexts larger than 256 GiB.
        .unwrap_or_default();
    let mut out = Vec::with_capacity(24 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

fn open_with(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if sealed.len() < 24 + 16 {
        return Err(KeyError::WrongKey);
    }
    let (nonce, ct) = sealed.split_at(24);
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| KeyError::WrongKey)
}

/// One wrap of the master key, as stored in the keyring.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Wrap {
    /// `file`, `argon2id` or `hkdf-sha256`.
    kdf: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m_kib: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<u32>,
    /// Nonce and ciphertext of the master key, base64.
    sealed: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct KeyringFile {
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unattended: Option<Wrap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    passphrase: Option<Wrap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recovery: Option<Wrap>,
}

/// The on-disk keyring of a box: `keys/keyring.json` and `keys/unattended.key`.
pub struct Keyring {
    dir: PathBuf,
    file: KeyringFile,
}

const AAD_UNATTENDED: &[u8] = b"foyer keyring v1 unattended";
const AAD_PASSPHRASE: &[u8] = b"foyer keyring v1 passphrase";
const AAD_RECOVERY: &[u8] = b"foyer keyring v1 recovery";

impl Keyring {
    /// Opens the keyring under `keys_dir`, creating a new master key (wrapped
    /// for unattended start) on first start. Returns the unlocked master key.
    pub fn open_or_create(keys_dir: &Path) -> Result<(Keyring, MasterKey), KeyError> {
        create_private_dir(keys_dir)?;
        let path = keys_dir.join("keyring.json");
        if path.exists() {
            let text = fs::read_to_string(&path).map_err(|source| KeyError::Io {
                path: path.clone(),
                source,
            })?;
            let file: KeyringFile = serde_json::from_str(&text).map_err(|e| KeyError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let ring = Keyring {
                dir: keys_dir.to_owned(),
                file,
            };
            let master = ring.unlock_unattended()?;
            Ok((ring, master))
        } else {
            let master = MasterKey::generate();
            let kek: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
            write_private_atomic(&keys_dir.join("unattended.key"), kek.as_ref())?;
            let mut ring = Keyring {
                dir: keys_dir.to_owned(),
                file: KeyringFile {
                    version: 1,
                    ..KeyringFile::default()
                },
            };
            ring.file.unattended = Some(Wrap {
                kdf: "file".into(),
                salt: None,
                m_kib: None,
                t: None,
                p: None,
                sealed: B64.encode(seal_with(&kek, AAD_UNATTENDED, master.0.as_ref())),
            });
            ring.save()?;
            Ok((ring, master))
        }
    }

    fn unlock_unattended(&self) -> Result<MasterKey, KeyError> {
        let wrap = self
            .file
            .unattended
            .as_ref()
            .ok_or(KeyError::MissingWrap("unattended"))?;
        let key_path = self.dir.join("unattended.key");
        let kek = Zeroizing::new(fs::read(&key_path).map_err(|source| KeyError::Io {
            path: key_path.clone(),
            source,
        })?);
        let kek: [u8; 32] = kek.as_slice().try_into().map_err(|_| KeyError::Corrupt {
            path: key_path.clone(),
            message: "unattended key is not 32 bytes".into(),
        })?;
        let kek = Zeroizing::new(kek);
        unwrap_master(&kek, AAD_UNATTENDED, wrap)
    }

    /// Whether an owner passphrase has been set (the box is claimed).
    pub fn has_passphrase(&self) -> bool {
        self.file.passphrase.is_some()
    }

    /// Wraps the master key under a new passphrase (replacing any previous one).
    /// The caller persists with [`Keyring::save`].
    pub fn set_passphrase(&mut self, master: &MasterKey, passphrase: &str) -> Result<(), KeyError> {
        let salt: [u8; 16] = rand::random();
        let kek = argon2id(passphrase, &salt, ARGON2_M_KIB, ARGON2_T, ARGON2_P)?;
        self.file.passphrase = Some(Wrap {
            kdf: "argon2id".into(),
            salt: Some(B64.encode(salt)),
            m_kib: Some(ARGON2_M_KIB),
            t: Some(ARGON2_T),
            p: Some(ARGON2_P),
            sealed: B64.encode(seal_with(&kek, AAD_PASSPHRASE, master.0.as_ref())),
        });
        Ok(())
    }

    /// Checks a passphrase by unwrapping the master key with it (slow by design).
    pub fn verify_passphrase(&self, passphrase: &str) -> Result<MasterKey, KeyError> {
        let wrap = self
            .file
            .passphrase
            .as_ref()
            .ok_or(KeyError::MissingWrap("passphrase"))?;
        let corrupt = |m: &str| KeyError::Corrupt {
            path: self.dir.join("keyring.json"),
            message: m.into(),
        };
        let salt = B64
            .decode(wrap.salt.as_deref().ok_or_else(|| corrupt("no salt"))?)
            .map_err(|_| corrupt("bad salt"))?;
        let kek = argon2id(
            passphrase,
            &salt,
            wrap.m_kib.unwrap_or(ARGON2_M_KIB),
            wrap.t.unwrap_or(ARGON2_T),
            wrap.p.unwrap_or(ARGON2_P),
        )?;
        unwrap_master(&kek, AAD_PASSPHRASE, wrap)
    }

    /// Wraps the master key under a fresh recovery key and returns that key,
    /// formatted for humans (to be shown exactly once).
    pub fn new_recovery_key(&mut self, master: &MasterKey) -> Zeroizing<String> {
        let raw: Zeroizing<[u8; 16]> = Zeroizing::new(rand::random());
        let salt: [u8; 16] = rand::random();
        let kek = recovery_kek(raw.as_ref(), &salt);
        self.file.recovery = Some(Wrap {
            kdf: "hkdf-sha256".into(),
            salt: Some(B64.encode(salt)),
            m_kib: None,
            t: None,
            p: None,
            sealed: B64.encode(seal_with(&kek, AAD_RECOVERY, master.0.as_ref())),
        });
        format_recovery_key(raw.as_ref())
    }

    /// Unwraps the master key with a recovery key as the owner typed it.
    pub fn verify_recovery_key(&self, typed: &str) -> Result<MasterKey, KeyError> {
        let wrap = self
            .file
            .recovery
            .as_ref()
            .ok_or(KeyError::MissingWrap("recovery"))?;
        let raw = parse_recovery_key(typed).ok_or(KeyError::WrongKey)?;
        let salt = B64
            .decode(wrap.salt.as_deref().unwrap_or_default())
            .map_err(|_| KeyError::Corrupt {
                path: self.dir.join("keyring.json"),
                message: "bad recovery salt".into(),
            })?;
        let kek = recovery_kek(raw.as_ref(), &salt);
        unwrap_master(&kek, AAD_RECOVERY, wrap)
    }

    /// Writes the keyring atomically (temp file, fsync, rename, fsync of the folder).
    pub fn save(&self) -> Result<(), KeyError> {
        let text = serde_json::to_vec_pretty(&self.file).map_err(|e| KeyError::Corrupt {
            path: self.dir.join("keyring.json"),
            message: e.to_string(),
        })?;
        write_private_atomic(&self.dir.join("keyring.json"), &text)
    }
}

fn unwrap_master(kek: &[u8; 32], aad: &[u8], wrap: &Wrap) -> Result<MasterKey, KeyError> {
    let sealed = B64.decode(&wrap.sealed).map_err(|_| KeyError::WrongKey)?;
    let plain = open_with(kek, aad, &sealed)?;
    let mut key = [0u8; 32];
    if plain.len() != 32 {
        return Err(KeyError::WrongKey);
    }
    key.copy_from_slice(&plain);
    let master = MasterKey(Zeroizing::new(key));
    key.zeroize();
    Ok(master)
}

fn argon2id(
    passphrase: &str,
    salt: &[u8],
    m_kib: u32,
    t: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let params =
        argon2::Params::new(m_kib, t, p, Some(32)).map_err(|e| KeyError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|e| KeyError::Kdf(e.to_string()))?;
    Ok(out)
}

fn recovery_kek(raw: &[u8], salt: &[u8]) -> Zeroizing<[u8; 32]> {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), raw);
    let mut out = Zeroizing::new([0u8; 32]);
    if hk.expand(b"foyer recovery kek v1", out.as_mut()).is_err() {
        unreachable!("HKDF output length is fixed and valid");
    }
    out
}

/// 128 bits as 26 Crockford-style base32 characters in groups of four, e.g.
/// `7KQ2-M9XD-...`: easy to read aloud, write down and retype.
fn format_recovery_key(raw: &[u8]) -> Zeroizing<String> {
    let encoded = Zeroizing::new(data_encoding::BASE32_NOPAD.encode(raw));
    let mut out = String::with_capacity(40);
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(c);
    }
    Zeroizing::new(out)
}

fn parse_recovery_key(typed: &str) -> Option<Zeroizing<Vec<u8>>> {
    let cleaned: Zeroizing<String> = Zeroizing::new(
        typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .map(|c| match c {
                '0' => 'O',
                '1' => 'I',
                '8' => 'B',
                other => other,
            })
            .collect(),
    );
    let raw = data_encoding::BASE32_NOPAD
        .decode(cleaned.as_bytes())
        .ok()?;
    (raw.len() == 16).then(|| Zeroizing::new(raw))
}

/// Creates a directory readable by the daemon's user only.
pub fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| KeyError::Io {
            path: dir.to_owned(),
            source,
        })
}

/// Writes `bytes` to `path` atomically with mode 0600: a reader sees the old
/// content or the new one, never a mix, also after a power cut.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    crate::system::fsutil::write_atomic(path, bytes, 0o600).map_err(|source| KeyError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Flushes a file that the caller wrote through `std::io::Write`.
pub fn sync_writer(mut f: fs::File) -> std::io::Result<()> {
    f.flush()?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("foyer-keys-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn master_key_survives_restart_and_rewrap() {
        let dir = temp_dir("rewrap");
        let (mut ring, master) = Keyring::open_or_create(&dir).expect("create");
        let db_key = master.derive("db");
        ring.set_passphrase(&master, "correct horse battery staple")
            .expect("wrap");
        let recovery = ring.new_recovery_key(&master);
        ring.save().expect("save");

        let (ring2, master2) = Keyring::open_or_create(&dir).expect("reopen");
        assert_eq!(*master2.derive("db"), *db_key);
        assert!(ring2.verify_passphrase("wrong").is_err());
        let by_pass = ring2
            .verify_passphrase("correct horse battery staple")
            .expect("right passphrase");
        assert_eq!(*by_pass.derive("db"), *db_key);
        let by_recovery = ring2
            .verify_recovery_key(&recovery.to_lowercase().replace('-', " "))
            .expect("recovery key, retyped loosely");
        assert_eq!(*by_recovery.derive("db"), *db_key);
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn keyring_holds_no_plain_master_key() {
        let dir = temp_dir("plain");
        let (_ring, master) = Keyring::open_or_create(&dir).expect("create");
        let text = fs::read(dir.join("keyring.json")).expect("read");
        let raw = master.0.as_ref();
        assert!(!text.windows(32).any(|w| w == raw));
        assert!(!String::from_utf8_lossy(&text).contains(&B64.encode(raw)));
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn sealed_secrets_round_trip_and_detect_tampering() {
        let master = MasterKey::generate();
        let mut sealed = master.seal("tls", b"secret key");
        assert_eq!(
            master.open("tls", &sealed).expect("open").as_slice(),
            b"secret key"
        );
        assert!(master.open("other", &sealed).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(master.open("tls", &sealed).is_err());
    }
}
