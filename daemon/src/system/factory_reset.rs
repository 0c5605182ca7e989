//! Asking for a factory reset: the owner confirms with the passphrase (see
//! `auth`), and the daemon writes `<data_dir>/factory-reset`. That file is
//! the whole request; the daemon wipes nothing itself.
//!
//! On the OS image a systemd path unit watches the file and reboots the box,
//! and an early-boot service, seeing it, wipes the data partition before
//! `foyerd` starts on an empty one (a new box: new keys, new CA, unclaimed).
//! Outside the image nothing else happens: the request stays pending
//! (`GET /api/health` says so) until someone deletes the file.
//!
//! The file is written atomically and synced with its folder before the
//! request is answered, so an acknowledged reset survives a power cut.

use std::path::{Path, PathBuf};

use crate::system::fsutil;

/// The request's file name under the data directory.
pub const FILE: &str = "factory-reset";

/// Where the request for `data_dir` is written.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Writes the request durably. The file says when it was asked for; its
/// presence is what counts.
pub fn request(data_dir: &Path) -> std::io::Result<()> {
    let text = format!("requested {}\n", crate::system::now());
    fsutil::write_atomic(&path(data_dir), text.as_bytes(), 0o600)?;
    tracing::warn!(
        "factory reset requested: the box's data will be wiped at the next boot of the OS image"
    );
    Ok(())
}

/// Whether a factory reset was asked for and has not happened yet.
pub fn is_pending(data_dir: &Path) -> bool {
    path(data_dir).try_exists().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_pending_until_the_file_goes() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(!is_pending(dir.path()));
        request(dir.path()).expect("request");
        assert!(is_pending(dir.path()));
        // Asking twice is harmless.
        request(dir.path()).expect("again");
        std::fs::remove_file(path(dir.path())).expect("cancel");
        assert!(!is_pending(dir.path()));
    }
}
