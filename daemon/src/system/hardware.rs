//! What the hardware says about itself, for `GET /api/system/status`: the
//! `board` object (kind, model, sensors, hardware watchdog, storage health
//! of the data directory, how the unattended key is sealed) and the `memory`
//! object (from `/proc/meminfo`).
//!
//! The types mirror the `board` crate's so that the OpenAPI document
//! describes them; `null` always means "not known on this hardware", never
//! "no". No secret leaves here: whether a serial number is known, not the
//! serial; how the key is sealed, not the key.
//!
//! Everything here reads sysfs/procfs: call it from a blocking thread.

use std::path::Path;

use board::{Board, BoardKind, PreEol, SealInfo, SealStrength, StorageKind, ThrottlingSource};
use serde::Serialize;

/// The hardware the daemon runs on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BoardStatus {
    pub kind: HardwareKind,
    /// The hardware's own model string.
    pub model: String,
    /// Whether the hardware reports a real serial number (the serial itself
    /// is not shown).
    pub serial_known: bool,
    pub sensors: SensorsStatus,
    /// The hardware watchdog systemd feeds; `null` when there is none.
    pub hardware_watchdog: Option<HardwareWatchdog>,
    pub storage: StorageHealthStatus,
    pub key_sealing: KeySealing,
}

/// Which kind of board this is.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HardwareKind {
    RaspberryPi,
    Pc,
    Simulated,
}

/// Temperature and throttling; `null` fields are not known on this hardware.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SensorsStatus {
    /// CPU/SoC temperature in degrees Celsius.
    pub temperature_c: Option<f32>,
    /// Throttling and under-voltage flags (Raspberry Pi only).
    pub throttling: Option<ThrottlingStatus>,
}

/// Raspberry Pi throttling flags; `null` means "not known from this source".
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThrottlingStatus {
    /// Where the flags come from: `mailbox` (every flag), `hwmon` (only
    /// `under_voltage_now`) or `simulated`.
    pub source: &'static str,
    /// The firmware's raw `get_throttled` word, when read from the firmware.
    pub raw: Option<u32>,
    pub under_voltage_now: Option<bool>,
    pub freq_capped_now: Option<bool>,
    pub throttled_now: Option<bool>,
    pub soft_temp_limit_now: Option<bool>,
    pub under_voltage_occurred: Option<bool>,
    pub freq_capped_occurred: Option<bool>,
    pub throttled_occurred: Option<bool>,
    pub soft_temp_limit_occurred: Option<bool>,
}

/// The hardware watchdog (fed by systemd, reported here).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HardwareWatchdog {
    /// Its device node, e.g. `/dev/watchdog0`.
    pub device: String,
    /// The driver, e.g. `bcm2835-wdt` or `iTCO_wdt`.
    pub identity: String,
    /// The configured timeout in seconds, when readable.
    pub timeout_secs: Option<u32>,
}

/// Health of the file system holding the data directory.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StorageHealthStatus {
    pub total_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
    /// Mounted read-only (e.g. after a file system error).
    pub read_only: Option<bool>,
    pub mount_point: Option<String>,
    /// `ext4`, `btrfs`...
    pub fs_type: Option<String>,
    /// The partition, e.g. `mmcblk0p2`.
    pub device: Option<String>,
    /// The whole disk, e.g. `mmcblk0`.
    pub disk: Option<String>,
    /// `sd_card`, `emmc`, `nvme`, `usb`, `virtual` or `other`.
    pub medium: Option<&'static str>,
    /// eMMC wear: an upper bound on the percentage of rated life used
    /// (110 when exceeded), when the device reports it.
    pub wear_used_percent_max: Option<u8>,
    /// eMMC reserved blocks: `normal`, `warning` (80 % used) or `urgent`.
    pub pre_eol: Option<&'static str>,
    /// ext4 errors recorded since the file system was created.
    pub ext4_errors: Option<u64>,
}

/// How the vault's unattended-unlock key is protected (no key material).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeySealing {
    /// `rpi-otp` or `file`.
    pub method: String,
    /// `hardware` (derived from a secret of the board, not on disk) or
    /// `file` (readable by whoever reads the disk).
    pub strength: &'static str,
    /// One sentence for humans.
    pub detail: String,
    /// Why the board's hardware method is not used, when it has one.
    pub fallback: Option<String>,
}

/// The whole machine's memory, from `/proc/meminfo`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemoryStatus {
    pub total_bytes: Option<u64>,
    /// Memory available for new work without swapping (`MemAvailable`).
    pub available_bytes: Option<u64>,
}

/// Reads what `board` says now. `data_dir` is the data directory (its
/// file system's health is reported); `seal` describes the sealer the
/// keyring actually uses for the unattended key.
pub fn board_status(board: &dyn Board, data_dir: &Path, seal: &SealInfo) -> BoardStatus {
    let identity = board.identity();
    let sensors = board.sensors();
    let storage = board.storage_health(data_dir);
    BoardStatus {
        kind: match board.kind() {
            BoardKind::RaspberryPi => HardwareKind::RaspberryPi,
            BoardKind::Pc => HardwareKind::Pc,
            BoardKind::Simulated => HardwareKind::Simulated,
        },
        model: identity.model,
        serial_known: identity.serial.is_some(),
        sensors: SensorsStatus {
            temperature_c: sensors.temperature_c,
            throttling: sensors.throttling.map(|t| ThrottlingStatus {
                source: match t.source {
                    ThrottlingSource::Mailbox => "mailbox",
                    ThrottlingSource::Hwmon => "hwmon",
                    ThrottlingSource::Simulated => "simulated",
                },
                raw: t.raw,
                under_voltage_now: t.under_voltage_now,
                freq_capped_now: t.freq_capped_now,
                throttled_now: t.throttled_now,
                soft_temp_limit_now: t.soft_temp_limit_now,
                under_voltage_occurred: t.under_voltage_occurred,
                freq_capped_occurred: t.freq_capped_occurred,
                throttled_occurred: t.throttled_occurred,
                soft_temp_limit_occurred: t.soft_temp_limit_occurred,
            }),
        },
        hardware_watchdog: board.watchdog().map(|w| HardwareWatchdog {
            device: w.device.display().to_string(),
            identity: w.identity,
            timeout_secs: w.timeout_secs,
        }),
        storage: StorageHealthStatus {
            total_bytes: storage.total_bytes,
            free_bytes: storage.free_bytes,
            read_only: storage.read_only,
            mount_point: storage.mount_point.map(|p| p.display().to_string()),
            fs_type: storage.fs_type,
            device: storage.device,
            disk: storage.disk,
            medium: storage.kind.map(|k| match k {
                StorageKind::SdCard => "sd_card",
                StorageKind::Emmc => "emmc",
                StorageKind::Nvme => "nvme",
                StorageKind::Usb => "usb",
                StorageKind::Virtual => "virtual",
                StorageKind::Other => "other",
            }),
            wear_used_percent_max: storage.wear.and_then(|w| w.used_percent_max()),
            pre_eol: storage.wear.and_then(|w| w.pre_eol).map(|p| match p {
                PreEol::Normal => "normal",
                PreEol::Warning => "warning",
                PreEol::Urgent => "urgent",
            }),
            ext4_errors: storage.ext4_errors,
        },
        key_sealing: KeySealing {
            method: seal.method.clone(),
            strength: match seal.strength {
                SealStrength::Hardware => "hardware",
                SealStrength::File => "file",
            },
            detail: seal.detail.clone(),
            fallback: seal.fallback.clone(),
        },
    }
}

/// The machine's memory now; unknown figures are `None`.
pub fn memory() -> MemoryStatus {
    match std::fs::read_to_string("/proc/meminfo") {
        Ok(text) => parse_meminfo(&text),
        Err(e) => {
            tracing::debug!(error = %e, "cannot read /proc/meminfo");
            MemoryStatus {
                total_bytes: None,
                available_bytes: None,
            }
        }
    }
}

/// Parses `/proc/meminfo` (`MemTotal:  3884564 kB` lines).
fn parse_meminfo(text: &str) -> MemoryStatus {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            if key.trim() != name {
                return None;
            }
            let mut parts = value.split_whitespace();
            let number: u64 = parts.next()?.parse().ok()?;
            match parts.next() {
                Some("kB") => number.checked_mul(1024),
                None => Some(number),
                Some(_) => None,
            }
        })
    };
    MemoryStatus {
        total_bytes: field("MemTotal"),
        available_bytes: field("MemAvailable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read_in_bytes() {
        let m = parse_meminfo(
            "MemTotal:        3884564 kB\nMemFree:          123456 kB\nMemAvailable:    2000000 kB\n",
        );
        assert_eq!(m.total_bytes, Some(3_884_564 * 1024));
        assert_eq!(m.available_bytes, Some(2_000_000 * 1024));
        let none = parse_meminfo("MemTotal: lots\n");
        assert_eq!(none.total_bytes, None);
        assert_eq!(none.available_bytes, None);
    }

    #[test]
    fn a_pc_without_system_files_reports_unknowns_not_errors() {
        let root = tempfile::tempdir().expect("temp dir");
        let data = tempfile::tempdir().expect("temp dir");
        let board = board::detect(board::BoardChoice::Pc, root.path());
        let seal = board.key_sealer(&data.path().join("keys")).describe();
        let s = board_status(board.as_ref(), data.path(), &seal);
        assert!(matches!(s.kind, HardwareKind::Pc));
        assert!(!s.serial_known);
        assert!(s.sensors.temperature_c.is_none());
        assert!(s.hardware_watchdog.is_none());
        assert_eq!(s.key_sealing.method, "file");
        assert_eq!(s.key_sealing.strength, "file");
    }
}
