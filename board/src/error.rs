//! The one error type of the crate.
//!
//! Most board facts are *optional* (a missing sysfs file means "unknown" and
//! is reported as `None`), so errors are kept for the operations whose caller
//! must know they failed: driving the LED, opening the button, reading or
//! creating the unattended key, talking to the VideoCore firmware.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
///
/// Messages name the file or device involved; none ever contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoardError {
    /// A file or device operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("read", "write", "open", "ioctl", ...).
        op: &'static str,
        /// The file or device (under the board's root).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file exists but its content is not what the format requires.
    #[error("{path}: {message}")]
    Invalid {
        /// The file whose content is wrong.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The VideoCore firmware answered, but not with what was asked for
    /// (unknown tag, error status, truncated answer).
    #[error("VideoCore mailbox tag {tag:#010x}: {message}")]
    Mailbox {
        /// The property tag that was requested.
        tag: u32,
        /// What went wrong.
        message: String,
    },
    /// The GPIO character device refused a request.
    #[error("GPIO {context}: {source}")]
    Gpio {
        /// Which chip and line.
        context: String,
        /// The error from the GPIO library.
        #[source]
        source: gpiocdev::Error,
    },
    /// The unattended key file does not exist and the caller did not allow
    /// creating it.
    #[error("unattended key {path} does not exist (creating it was not allowed)")]
    KeyMissing {
        /// Where the key was expected.
        path: PathBuf,
    },
    /// The unattended key file does not hold exactly 32 bytes.
    #[error("unattended key {path} is {len} bytes long, expected exactly 32: refusing to use it")]
    KeyWrongSize {
        /// The key file.
        path: PathBuf,
        /// Its actual length.
        len: u64,
    },
    /// The operating system's random number generator failed.
    #[error("random number generator: {0}")]
    Random(String),
    /// A board choice string was not one of `auto`, `rpi`, `pc`, `sim`.
    #[error("unknown board {0:?}: expected auto, rpi, pc or sim")]
    UnknownChoice(String),
    /// The button watcher thread could not be started or ended abnormally.
    #[error("button watcher: {0}")]
    Button(String),
}

impl BoardError {
    /// Shorthand for [`BoardError::Io`].
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BoardError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
