//! The vault: everything the owner owns, encrypted at rest.
//!
//! - [`keys`]: the master key and its wraps (passphrase, recovery key, unattended key file).
//! - [`db`]: the SQLCipher database and its connections; [`schema_sql`] its tables.
//! - [`doctypes`]: which document types exist, their JSON Schemas and declared indexes.
//! - [`docs`]: documents with revisions and the change feed; [`query`] the Mango-style selectors.
//! - [`files`]: the folder tree; [`blob`] the encrypted, chunked file contents.

pub mod blob;
pub mod db;
pub mod docs;
pub mod doctypes;
pub mod files;
pub mod keys;
pub mod query;
pub mod schema_sql;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::watch;

use db::Db;
use doctypes::Doctypes;
use keys::MasterKey;

/// Everything that can go wrong inside the vault. The API maps each variant
/// to a status and a stable error code.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A document that its doctype's schema refuses.
    #[error("invalid document: {message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// A malformed request (selector, path, option): `code` is stable.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("unknown doctype {0}")]
    UnknownDoctype(String),
    #[error("not enough free space: {0}")]
    InsufficientStorage(String),
    #[error("content does not match the announced SHA-256 digest")]
    DigestMismatch,
    #[error("the vault is closed")]
    Closed,
    #[error("the database key is wrong")]
    WrongKey,
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl VaultError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        VaultError::BadRequest {
            code,
            message: message.into(),
        }
    }
}

/// Limits that protect the box's disk.
#[derive(Debug, Clone, Copy)]
pub struct StorageLimits {
    pub min_free_bytes: u64,
    pub files_quota_bytes: Option<u64>,
}

/// The open vault of a running box.
pub struct Vault {
    pub db: Arc<Db>,
    pub doctypes: Doctypes,
    pub files: files::Files,
    changes_tx: watch::Sender<i64>,
}

impl Vault {
    /// Opens the vault under `data_dir` with the unlocked master key.
    pub async fn open(
        data_dir: &Path,
        master: &MasterKey,
        limits: StorageLimits,
    ) -> Result<Arc<Vault>, VaultError> {
        let db_path: PathBuf = data_dir.join("vault.db");
        let db_key = master.derive("sqlcipher-db");
        let db = Db::open(&db_path, &db_key)?;
        let doctypes = Doctypes::load(&db).await?;
        let last_seq = docs::last_seq(&db).await?;
        let (changes_tx, _) = watch::channel(last_seq);
        let files = files::Files::open(data_dir.join("blobs"), Arc::clone(&db), limits)?;
        files.sweep_orphans().await?;
        Ok(Arc::new(Vault {
            db,
            doctypes,
            files,
            changes_tx,
        }))
    }

    /// Announces that the change feed advanced to `seq`.
    pub(crate) fn notify_change(&self, seq: i64) {
        self.changes_tx.send_if_modified(|cur| {
            if seq > *cur {
                *cur = seq;
                true
            } else {
                false
            }
        });
    }

    /// A receiver that wakes when the change feed advances (for long polls).
    pub fn subscribe_changes(&self) -> watch::Receiver<i64> {
        self.changes_tx.subscribe()
    }

    /// Flushes and closes the database.
    pub fn close(&self) {
        self.db.close();
    }
}
