//! The vault's database: one SQLCipher file (`vault.db`) in WAL mode.
//!
//! SQLCipher encrypts every page — tables, indexes, the WAL and temporary
//! data — with a key derived from the master key, so no document field or
//! index entry is ever written in the clear. Writes go through one writer
//! connection (SQLite serialises writers anyway); reads use a small pool,
//! which WAL lets run beside the writer. `synchronous=FULL`: a committed
//! transaction is on disk before the commit returns, so whatever the API
//! acknowledges survives `kill -9` and power cuts.
//!
//! It also answers the two questions the system layer asks of it: is the
//! database still answering ([`Db::read_within`], the watchdog's liveness
//! check) and is the file sound ([`Db::check`], `PRAGMA quick_check` after an
//! unclean stop, `PRAGMA integrity_check` on request).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;
use zeroize::Zeroizing;

use super::VaultError;

/// Number of pooled read connections.
pub const READERS: u32 = 4;

/// How thoroughly [`Db::check`] looks at the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `PRAGMA quick_check`: every page and b-tree, without matching indexes
    /// to their tables. Linear in the file's size; run at start after an
    /// unclean stop.
    Quick,
    /// `PRAGMA integrity_check` (indexes too) and SQLCipher's
    /// `cipher_integrity_check` (each page's authentication code).
    Full,
}

/// At most this many problems are reported (SQLite's own default is 100).
const MAX_PROBLEMS: usize = 100;

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

/// Runs the check of `kind` on `conn`.
fn check_connection(conn: &Connection, kind: Check) -> Result<Vec<String>, VaultError> {
    let pragma = match kind {
        Check::Quick => "PRAGMA quick_check",
        Check::Full => "PRAGMA integrity_check",
    };
    let mut problems = match pragma_lines(conn, pragma) {
        Ok(lines) => lines.into_iter().filter(|l| l != "ok").collect(),
        Err(e) => damaged(e)?,
    };
    if kind == Check::Full {
        // No rows when every page's HMAC matches.
        match pragma_lines(conn, "PRAGMA cipher_integrity_check") {
            Ok(lines) => problems.extend(lines.into_iter().map(|l| format!("cipher: {l}"))),
            Err(e) => problems.extend(damaged(e)?),
        }
    }
    problems.truncate(MAX_PROBLEMS);
    if problems.is_empty() {
        problems.push("ok".to_owned());
    }
    Ok(problems)
}

fn pragma_lines(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |row| row.get::<_, Option<String>>(0))?;
    let mut lines = Vec::new();
    for row in rows {
        lines.push(row?.unwrap_or_default());
        if lines.len() > MAX_PROBLEMS {
            break;
        }
    }
    Ok(lines)
}

/// A check that SQLite itself aborted — a page whose authentication code
/// does not match (SQLCipher answers a plain `SQLITE_ERROR` then), a
/// malformed b-tree, an I/O error reading the file — is a finding: its
/// message is the problem. Anything else is the caller's error.
fn damaged(e: rusqlite::Error) -> Result<Vec<String>, VaultError> {
    match &e {
        rusqlite::Error::SqliteFailure(..) => Ok(vec![format!(
            "the check could not read the whole file: {e}"
        )]),
        _ => Err(VaultError::Db(e)),
    }
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

    /// Runs `f` with a read connection on a blocking thread, waiting at most
    /// `wait` for a free connection (instead of the pool's 30 s): for checks
    /// that must answer quickly or say they could not.
    pub async fn read_within<R, F>(self: &Arc<Self>, wait: Duration, f: F) -> Result<R, VaultError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, VaultError> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = db.reader(wait)?;
            f(&conn)
        })
        .await
        .map_err(|e| VaultError::Internal(format!("reader task: {e}")))?
    }

    /// A pooled read connection, waiting at most `wait` for one (blocking).
    pub fn reader(
        &self,
        wait: Duration,
    ) -> Result<r2d2::PooledConnection<SqliteConnectionManager>, VaultError> {
        Ok(self.readers.get_timeout(wait)?)
    }

    /// Checks the database file; answers SQLite's verdict: `["ok"]`, or one
    /// line per problem found. A file too damaged to be read is a problem
    /// too (its error is the line), not an error of this call.
    pub async fn check(self: &Arc<Self>, kind: Check) -> Result<Vec<String>, VaultError> {
        self.read(move |conn| check_connection(conn, kind)).await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn open_temp() -> (tempfile::TempDir, Arc<Db>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(&dir.path().join("vault.db"), &[7u8; 32]).expect("open");
        (dir, db)
    }

    #[tokio::test]
    async fn a_sound_database_checks_ok() {
        let (_dir, db) = open_temp();
        assert_eq!(db.check(Check::Quick).await.expect("quick"), ["ok"]);
        assert_eq!(db.check(Check::Full).await.expect("full"), ["ok"]);
    }

    #[tokio::test]
    async fn a_damaged_page_is_reported() {
        let (dir, db) = open_temp();
        // Enough rows for several pages, checkpointed into the main file.
        db.write(|tx| {
            for i in 0..2000 {
                tx.execute(
                    "INSERT INTO meta(key, value) VALUES (?1, ?2)",
                    rusqlite::params![format!("k{i}"), "x".repeat(64)],
                )?;
            }
            Ok(())
        })
        .await
        .expect("fill");
        db.close();
        drop(db);
        let path = dir.path().join("vault.db");
        let mut bytes = std::fs::read(&path).expect("read");
        assert!(bytes.len() > 8 * 4096, "{} bytes", bytes.len());
        // Flip bytes inside the fourth page (not the first: its damage
        // makes the file unopenable, which Db::open reports instead).
        for b in &mut bytes[3 * 4096 + 100..3 * 4096 + 200] {
            *b ^= 0xff;
        }
        std::fs::write(&path, &bytes).expect("write");
        let db = Db::open(&path, &[7u8; 32]).expect("reopen");
        let full = db.check(Check::Full).await.expect("full");
        assert_ne!(full, ["ok"], "the damage went unnoticed");
        // SQLCipher names the page whose authentication code fails.
        assert!(full.iter().any(|l| l.starts_with("cipher: ")), "{full:?}");
    }

    #[tokio::test]
    async fn read_within_gives_up_when_every_reader_is_taken() {
        let (_dir, db) = open_temp();
        let held: Vec<_> = (0..READERS)
            .map(|_| db.reader(Duration::from_secs(5)).expect("reader"))
            .collect();
        let res = db.read_within(Duration::from_millis(100), |_| Ok(())).await;
        assert!(matches!(res, Err(VaultError::Pool(_))), "{res:?}");
        drop(held);
        db.read_within(Duration::from_secs(5), |_| Ok(()))
            .await
            .expect("a reader is free again");
    }
}
