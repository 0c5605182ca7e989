//! The running system as the owner sees it (`GET /api/system/status`):
//! version and uptime, how the last run ended, the watchdog, the data
//! directory's disk, the hardware and memory. Also what the system routes
//! act on: the data directory (factory reset) and the integrity checker.
//!
//! The answer is grouped by concern, one object each: what the `board`
//! crate tells about the hardware (temperature, throttling, storage wear,
//! how the unattended key is sealed) is the `board` object, built in
//! [`hardware`](crate::system::hardware), beside the existing ones.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use board::{Board, SealInfo};
use serde::Serialize;

use crate::system::hardware::{self, BoardStatus, MemoryStatus};
use crate::system::integrity::{IntegrityChecker, LastStop};

/// Facts fixed at start, and the state of the running system.
pub struct System {
    started: Instant,
    data_dir: PathBuf,
    last_stop: LastStop,
    watchdog: Option<Duration>,
    pub integrity: IntegrityChecker,
    /// The hardware this runs on, detected once at start.
    board: Arc<dyn Board>,
    /// How the keyring seals the unattended key (fixed at start).
    key_sealing: SealInfo,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SystemStatus {
    /// The daemon's version.
    pub version: &'static str,
    /// Seconds since this run of the daemon started.
    pub uptime_seconds: u64,
    pub last_stop: LastStop,
    pub watchdog: WatchdogStatus,
    pub storage: StorageStatus,
    pub board: BoardStatus,
    pub memory: MemoryStatus,
}

/// The systemd watchdog, as systemd configured it for this run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WatchdogStatus {
    /// Whether systemd asked for pings (`WatchdogSec=`).
    pub enabled: bool,
    /// The interval systemd allows between pings, in milliseconds; the box
    /// pings every half interval after a liveness check (absent when off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
}

/// The file system that holds the data directory.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StorageStatus {
    /// Bytes the daemon may still use.
    pub free_bytes: u64,
    /// The file system's size in bytes.
    pub total_bytes: u64,
}

impl System {
    pub fn new(
        started: Instant,
        data_dir: PathBuf,
        last_stop: LastStop,
        watchdog: Option<Duration>,
        integrity: IntegrityChecker,
        board: Arc<dyn Board>,
        key_sealing: SealInfo,
    ) -> System {
        System {
            started,
            data_dir,
            last_stop,
            watchdog,
            integrity,
            board,
            key_sealing,
        }
    }

    /// The hardware this runs on.
    pub fn board(&self) -> &Arc<dyn Board> {
        &self.board
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The status now; reading the disk's size is the one thing that can
    /// fail. Reads sysfs/procfs: call it from a blocking thread.
    pub fn status(&self) -> std::io::Result<SystemStatus> {
        Ok(SystemStatus {
            version: env!("CARGO_PKG_VERSION"),
            uptime_seconds: self.started.elapsed().as_secs(),
            last_stop: self.last_stop.clone(),
            watchdog: WatchdogStatus {
                enabled: self.watchdog.is_some(),
                interval_ms: self
                    .watchdog
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            },
            storage: StorageStatus {
                free_bytes: fs4::available_space(&self.data_dir)?,
                total_bytes: fs4::total_space(&self.data_dir)?,
            },
            board: hardware::board_status(self.board.as_ref(), &self.data_dir, &self.key_sealing),
            memory: hardware::memory(),
        })
    }
}
