//! Facts about the hardware watchdog, for reporting.
//!
//! The daemon does not feed the hardware watchdog: systemd (PID 1) does,
//! through `RuntimeWatchdogSec=`, and supervises the daemon itself through
//! its own software watchdog (`WatchdogSec=` + `sd_notify`). The board only
//! tells which hardware watchdog exists and its timeout, read from
//! `<root>/sys/class/watchdog/watchdog0/{identity,timeout}`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sysfs::{read_i64, read_text, under};

/// The hardware watchdog systemd feeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchdogInfo {
    /// Its device node, e.g. `/dev/watchdog0`.
    pub device: PathBuf,
    /// The driver's identity, e.g. `bcm2835-wdt` or `iTCO_wdt`.
    pub identity: String,
    /// The currently configured timeout in seconds, when readable.
    pub timeout_secs: Option<u32>,
}

/// Reads `watchdog0` under `root`; `None` when there is no hardware watchdog.
pub(crate) fn read(root: &Path) -> Option<WatchdogInfo> {
    let dir = under(root, "/sys/class/watchdog/watchdog0");
    if !dir.is_dir() {
        return None;
    }
    Some(WatchdogInfo {
        device: PathBuf::from("/dev/watchdog0"),
        identity: read_text(&dir.join("identity")).unwrap_or_else(|| "unknown".into()),
        timeout_secs: read_i64(&dir.join("timeout")).and_then(|t| u32::try_from(t).ok()),
    })
}
