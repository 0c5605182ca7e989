//! The device's identity: a random id created at first start and kept in the
//! data directory, from which the LAN name `foyer-XXXX` is derived.
//!
//! The `board` work will take the identity from the hardware (serial number);
//! until then a random id stands in, which is unique but does not survive a
//! wipe of the data directory.

use std::path::Path;

use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Identity {
    /// 32 lowercase hex characters.
    pub id: String,
}

impl Identity {
    /// Reads `device-id` from the data directory, creating it on first start.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Identity> {
        if let Some(identity) = Identity::load(data_dir)? {
            return Ok(identity);
        }
        let id = hex::encode(rand::random::<[u8; 16]>());
        super::fsutil::write_atomic(
            &data_dir.join("device-id"),
            format!("{id}\n").as_bytes(),
            0o644,
        )?;
        Ok(Identity { id })
    }

    /// Reads `device-id`; `None` when the box has never started.
    pub fn load(data_dir: &Path) -> std::io::Result<Option<Identity>> {
        let path = data_dir.join("device-id");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let id = text.trim().to_owned();
                if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Ok(Some(Identity { id }));
                }
                Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is not a device id", path.display()),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Four lowercase hex characters derived from the id (`XXXX` in `foyer-XXXX.local`).
    pub fn short(&self) -> String {
        let digest = Sha256::digest(self.id.as_bytes());
        hex::encode(&digest[..2])
    }

    /// The host name on the LAN, without `.local`.
    pub fn hostname(&self) -> String {
        format!("foyer-{}", self.short())
    }
}
