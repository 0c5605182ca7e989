//! The device's identity: a random id created at first start and kept in the
//! data directory, from which the LAN name `foyer-XXXX` is derived. `foyerd
//! identity` prints it (the OS image sets the machine's host name from it).
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
    ///
    /// Creation is safe against a concurrent first start (`foyerd identity`
    /// run by the image's hostname unit beside `foyerd serve`): the new id is
    /// written to a temporary file and hard-linked into place, which fails
    /// if another process created `device-id` meanwhile; its id then wins.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Identity> {
        if let Some(identity) = Identity::load(data_dir)? {
            return Ok(identity);
        }
        let id = hex::encode(rand::random::<[u8; 16]>());
        let tmp = data_dir.join(format!(
            ".device-id.new-{}-{}",
            std::process::id(),
            hex::encode(rand::random::<[u8; 4]>())
        ));
        super::fsutil::write_atomic(&tmp, format!("{id}\n").as_bytes(), 0o644)?;
        let linked = std::fs::hard_link(&tmp, data_dir.join("device-id"));
        std::fs::remove_file(&tmp)?;
        match linked {
            Ok(()) => {
                super::fsutil::sync_dir(data_dir)?;
                Ok(Identity { id })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Identity::load(data_dir)?
                .ok_or_else(|| std::io::Error::other("device-id vanished while being created")),
            Err(e) => Err(e),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(Identity::load(dir.path()).expect("load").is_none());
        let a = Identity::load_or_create(dir.path()).expect("create");
        let b = Identity::load_or_create(dir.path()).expect("read");
        assert_eq!(a.id, b.id);
        assert_eq!(a.id.len(), 32);
        assert!(a.hostname().starts_with("foyer-") && a.hostname().len() == 10);
        // Only device-id is left behind, readable by anyone (it is public).
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["device-id"]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("device-id"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn concurrent_first_starts_agree() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().to_owned();
        let ids: Vec<String> = (0..8)
            .map(|_| {
                let p = path.clone();
                std::thread::spawn(move || Identity::load_or_create(&p).expect("identity").id)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    }
}
