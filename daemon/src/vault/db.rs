//! The vault's database: one SQLCipher file (`vault.db`) in WAL mode.
//!
//! SQLCipher encrypts every page — tables, indexes, the WAL and temporary
//! data — with a key derived from the master key, so no document field or
//! index entry is ever written in the clear. Writes go through one writer
//! connection (SQLite serialises writers anyway); reads use a small pool,
//! which WAL lets run beside the writer. `synchronous=FULL`: a committed
//! transaction is on disk before the commit returns, so whatever the API
//! acknowledges survives `kill -9` and power cuts.

use std::path::Path;
use std::sync::{Arc, Mutex};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use zeroize::Zeroizing;

use super::VaultError;

/// Number of pooled read connections.
const READERS: u32 = 4;

pub struct Db {
    writer: Mutex<Option<Connection>>,
    readers: r2d2::Pool<SqliteConnectionManager>,
}

/// Pragmas every connection gets right after its key.
fn configure(conn: &Connection, key_hex: &str) -> rusqlite::Result<()> {
    conn.pragma_update(None, "key", format!("x'{key_hex}'"))?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Reading the schema fails here when the key is wrong.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

impl Db {
    /// Opens (creating on first start) the encrypted database and brings its
    /// schema up to date.
    pub fn open(path: &Path, key: &[u8; 32]) -> Result<Arc<Db>, VaultError> {
        let key_hex = Zeroizing::new(hex::encode(key));
        let mut writer = Connection::open(path)?;
        configure(&writer, &key_hex).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                VaultError::WrongKey
            }
            other => VaultError::Db(other),
        })?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        super::schema_sql::migrate(&mut writer)?;

        let reader_key = key_hex.clone();
        let manager = SqliteConnectionManager::file(path)
            .with_flags(
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | rusqlite::OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(move |c| configure(c, &reader_key));
        let readers = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            .build(manager)?;
        Ok(Arc::new(Db {
            writer: Mutex::new(Some(writer)),
            readers,
        }))
    }

    /// Runs `f` in a write transaction on a blocking thread; commits when `f`
    /// returns `Ok`, rolls back otherwise.
    pub async fn write<R, F>(self: &Arc<Self>, f: F) -> Result<R, VaultError>
    where
        R: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<R, VaultError> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .map_err(|e| VaultError::Internal(format!("writer task: {e}")))?
    }

    /// The blocking form of [`Db::write`], for code already off the async runtime.
    pub fn write_blocking<R, F>(&self, f: F) -> Result<R, VaultError>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<R, VaultError>,
    {
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| VaultError::Internal("writer lock poisoned".into()))?;
        let conn = guard.as_mut().ok_or(VaultError::Closed)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` with a read connection on a blocking thread.
    pub async fn read<R, F>(self: &Arc<Self>, f: F) -> Result<R, VaultError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, VaultError> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = db.readers.get()?;
            f(&conn)
        })
        .await
        .map_err(|e| VaultError::Internal(format!("reader task: {e}")))?
    }

    /// Checkpoints the WAL into the main file and closes the writer. Later
    /// writes fail with [`VaultError::Closed`].
    pub fn close(&self) {
        let Ok(mut guard) = self.writer.lock() else {
            return;
        };
        if let Some(conn) = guard.take() {
            if let Err(e) = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE") {
                tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
            }
            if let Err((_, e)) = conn.close() {
                tracing::warn!(error = %e, "closing the database failed");
            }
        }
    }
}
