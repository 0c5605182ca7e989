//! Was the last stop clean, and is the database sound?
//!
//! A marker file, `<data_dir>/.running`, exists exactly while the daemon
//! runs: created (durably) before the vault opens, removed after the
//! database is checkpointed and closed on a clean stop. Found at start, it
//! means the last run ended otherwise — power cut, `kill -9`, a crash, a
//! watchdog restart — and the database gets a `PRAGMA quick_check` before
//! the box serves. The verdict is logged and kept for
//! `GET /api/system/status`.
//!
//! A full `PRAGMA integrity_check` runs on request
//! (`POST /api/system/integrity-check`, which the image's boot test calls
//! after each power cut), one at a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Semaphore;

use crate::system::fsutil;
use crate::vault::VaultError;
use crate::vault::db::{Check, Db};

/// The marker's file name under the data directory.
pub const MARKER: &str = ".running";

/// SQLite's verdict on the database file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IntegrityReport {
    /// `true` when SQLite found nothing wrong.
    pub ok: bool,
    /// SQLite's own lines: `["ok"]`, or one per problem found (at most 100).
    pub result: Vec<String>,
}

impl IntegrityReport {
    /// A check that could not run (the reason is the one line).
    pub fn failed(reason: String) -> IntegrityReport {
        IntegrityReport {
            ok: false,
            result: vec![reason],
        }
    }

    fn from_lines(result: Vec<String>) -> IntegrityReport {
        IntegrityReport {
            ok: result.len() == 1 && result[0] == "ok",
            result,
        }
    }
}

/// How the previous run of the daemon ended, as found at this start.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LastStop {
    /// `false` when the previous run did not stop cleanly.
    pub clean: bool,
    /// The `quick_check` run at start because the last stop was unclean
    /// (absent after a clean stop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_check: Option<IntegrityReport>,
}

/// The `.running` marker of this run.
pub struct RunMarker {
    path: PathBuf,
    /// Whether a marker was already there (the last stop was unclean).
    pub found: bool,
}

impl RunMarker {
    /// Notes whether the previous run left its marker, and (re)writes it
    /// for this run, durably: were it lost in a power cut, the next start
    /// would take an unclean stop for a clean one.
    pub fn create(data_dir: &Path) -> std::io::Result<RunMarker> {
        let path = data_dir.join(MARKER);
        let found = path.try_exists()?;
        let text = format!(
            "pid {}\nstarted {}\n",
            std::process::id(),
            crate::system::now()
        );
        fsutil::write_atomic(&path, text.as_bytes(), 0o600)?;
        Ok(RunMarker { path, found })
    }

    /// A clean stop: removes the marker (after the database is closed).
    pub fn remove(self) -> std::io::Result<()> {
        std::fs::remove_file(&self.path)?;
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        fsutil::sync_dir(dir)
    }
}

/// The quick check run at start after an unclean stop.
pub async fn quick_check(db: &Arc<Db>) -> Result<IntegrityReport, VaultError> {
    Ok(IntegrityReport::from_lines(db.check(Check::Quick).await?))
}

/// Full checks on request, one at a time (each reads the whole file).
pub struct IntegrityChecker {
    db: Arc<Db>,
    gate: Semaphore,
}

impl IntegrityChecker {
    pub fn new(db: Arc<Db>) -> IntegrityChecker {
        IntegrityChecker {
            db,
            gate: Semaphore::new(1),
        }
    }

    /// `PRAGMA integrity_check` and `cipher_integrity_check`; a second
    /// caller waits for the first to finish.
    pub async fn full_check(&self) -> Result<IntegrityReport, VaultError> {
        let _permit = self
            .gate
            .acquire()
            .await
            .map_err(|_| VaultError::Internal("integrity gate closed".into()))?;
        let report = IntegrityReport::from_lines(self.db.check(Check::Full).await?);
        if report.ok {
            tracing::info!("database integrity check: ok");
        } else {
            tracing::error!(problems = ?report.result, "database integrity check found problems");
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_tells_an_unclean_stop() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = RunMarker::create(dir.path()).expect("create");
        assert!(!first.found, "a first start is not an unclean stop");
        assert!(dir.path().join(MARKER).is_file());
        // A crash: the marker stays; the next start finds it.
        let second = RunMarker::create(dir.path()).expect("create again");
        assert!(second.found);
        second.remove().expect("clean stop");
        assert!(!dir.path().join(MARKER).exists());
        assert!(!RunMarker::create(dir.path()).expect("third").found);
    }

    #[test]
    fn reports_are_ok_only_for_a_lone_ok() {
        assert!(IntegrityReport::from_lines(vec!["ok".into()]).ok);
        assert!(!IntegrityReport::from_lines(vec!["*** in database main ***".into()]).ok);
        assert!(!IntegrityReport::from_lines(vec![]).ok);
    }
}
