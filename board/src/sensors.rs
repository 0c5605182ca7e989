//! Health sensors: SoC temperature and, on Raspberry Pi boards, throttling
//! and under-voltage.
//!
//! Temperature comes from the kernel thermal framework
//! (`/sys/class/thermal/thermal_zone*/{type,temp}`, millidegrees Celsius).
//! When there are several zones, the CPU's is preferred by its `type`
//! (`cpu-thermal` on Raspberry Pi, `x86_pkg_temp` on Intel PCs).
//!
//! Throttling comes from the firmware's `GET_THROTTLED` word (see
//! [`crate::mailbox`]), decoded here into named flags; where the mailbox is
//! unavailable the `raspberrypi-hwmon` driver's `in0_lcrit_alarm` still tells
//! whether the supply voltage is too low now.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::sysfs::{numbered_entries, read_i64, read_text, under};

/// A snapshot of the board's health sensors; every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sensors {
    /// CPU/SoC temperature in degrees Celsius.
    pub temperature_c: Option<f32>,
    /// Throttling and under-voltage flags (Raspberry Pi only).
    pub throttling: Option<Throttling>,
}

/// Where throttling flags were read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThrottlingSource {
    /// The firmware's `GET_THROTTLED` mailbox tag: every flag is known.
    Mailbox,
    /// The `rpi_volt` hwmon device: only `under_voltage_now` is known.
    Hwmon,
    /// A simulated board's `<root>/sim/throttled` file.
    Simulated,
}

/// Raspberry Pi throttling state. `None` in a flag means "not known from
/// this source", never "no".
///
/// Bits of the firmware word (as printed by `vcgencmd get_throttled`):
///
/// | bit | flag |
/// | --- | --- |
/// | 0 | under-voltage now |
/// | 1 | ARM frequency capped now |
/// | 2 | throttled now |
/// | 3 | soft temperature limit active now |
/// | 16 | under-voltage has occurred |
/// | 17 | ARM frequency capping has occurred |
/// | 18 | throttling has occurred |
/// | 19 | soft temperature limit has occurred |
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttling {
    /// Where the flags come from.
    pub source: ThrottlingSource,
    /// The raw firmware word, when read from the firmware.
    pub raw: Option<u32>,
    /// The supply voltage is below the limit now (bit 0).
    pub under_voltage_now: Option<bool>,
    /// The ARM clock is capped now (bit 1).
    pub freq_capped_now: Option<bool>,
    /// The SoC is throttled now (bit 2).
    pub throttled_now: Option<bool>,
    /// The soft temperature limit is active now (bit 3).
    pub soft_temp_limit_now: Option<bool>,
    /// Under-voltage has occurred (bit 16).
    pub under_voltage_occurred: Option<bool>,
    /// Frequency capping has occurred (bit 17).
    pub freq_capped_occurred: Option<bool>,
    /// Throttling has occurred (bit 18).
    pub throttled_occurred: Option<bool>,
    /// The soft temperature limit has been reached (bit 19).
    pub soft_temp_limit_occurred: Option<bool>,
}

impl Throttling {
    /// Decodes the firmware's `GET_THROTTLED` word.
    pub fn from_raw(raw: u32, source: ThrottlingSource) -> Throttling {
        let bit = |n: u32| Some(raw & (1 << n) != 0);
        Throttling {
            source,
            raw: Some(raw),
            under_voltage_now: bit(0),
            freq_capped_now: bit(1),
            throttled_now: bit(2),
            soft_temp_limit_now: bit(3),
            under_voltage_occurred: bit(16),
            freq_capped_occurred: bit(17),
            throttled_occurred: bit(18),
            soft_temp_limit_occurred: bit(19),
        }
    }

    /// What the `rpi_volt` hwmon alarm alone tells: under-voltage now or not.
    pub fn from_under_voltage_alarm(alarm: bool) -> Throttling {
        Throttling {
            source: ThrottlingSource::Hwmon,
            raw: None,
            under_voltage_now: Some(alarm),
            freq_capped_now: None,
            throttled_now: None,
            soft_temp_limit_now: None,
            under_voltage_occurred: None,
            freq_capped_occurred: None,
            throttled_occurred: None,
            soft_temp_limit_occurred: None,
        }
    }

    /// Whether any "now" flag is known to be set.
    pub fn any_now(&self) -> bool {
        [
            self.under_voltage_now,
            self.freq_capped_now,
            self.throttled_now,
            self.soft_temp_limit_now,
        ]
        .contains(&Some(true))
    }

    /// Whether any "has occurred" flag is known to be set.
    pub fn any_occurred(&self) -> bool {
        [
            self.under_voltage_occurred,
            self.freq_capped_occurred,
            self.throttled_occurred,
            self.soft_temp_limit_occurred,
        ]
        .contains(&Some(true))
    }
}

/// Zone types that measure the CPU, best first.
const CPU_ZONE_TYPES: [&str; 5] = [
    "cpu-thermal",
    "x86_pkg_temp",
    "cpu_thermal",
    "soc-thermal",
    "acpitz",
];

/// The CPU temperature in °C from the thermal zones under `root`: the zone
/// whose `type` ranks best in [`CPU_ZONE_TYPES`], else the first zone with a
/// plausible reading. Unreadable zones (some report `EINVAL`/`ENODATA`) and
/// absurd values are skipped.
pub(crate) fn cpu_temperature(root: &Path) -> Option<f32> {
    let zones = numbered_entries(&under(root, "/sys/class/thermal"), "thermal_zone");
    let mut best: Option<(usize, f32)> = None;
    for (_, zone) in zones {
        let Some(milli) = read_i64(&zone.join("temp")) else {
            continue;
        };
        // -50 °C .. 200 °C: anything else is a sensor error, not a reading.
        if !(-50_000..=200_000).contains(&milli) {
            continue;
        }
        let kind = read_text(&zone.join("type")).unwrap_or_default();
        let rank = CPU_ZONE_TYPES
            .iter()
            .position(|t| *t == kind)
            .unwrap_or(CPU_ZONE_TYPES.len());
        let celsius = milli as f32 / 1000.0;
        if best.is_none_or(|(r, _)| rank < r) {
            best = Some((rank, celsius));
        }
    }
    best.map(|(_, c)| c)
}

/// The `rpi_volt` hwmon device's under-voltage alarm, if present.
pub(crate) fn hwmon_under_voltage(root: &Path) -> Option<Throttling> {
    numbered_entries(&under(root, "/sys/class/hwmon"), "hwmon")
        .into_iter()
        .find(|(_, dir)| read_text(&dir.join("name")).as_deref() == Some("rpi_volt"))
        .and_then(|(_, dir)| read_i64(&dir.join("in0_lcrit_alarm")))
        .map(|alarm| Throttling::from_under_voltage_alarm(alarm != 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn zone(root: &Path, n: u32, kind: &str, temp: &str) {
        let dir = root.join(format!("sys/class/thermal/thermal_zone{n}"));
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join("type"), format!("{kind}\n")).expect("type");
        fs::write(dir.join("temp"), temp).expect("temp");
    }

    #[test]
    fn decodes_every_flag() {
        let t = Throttling::from_raw(0x0005_0005, ThrottlingSource::Mailbox);
        assert_eq!(t.under_voltage_now, Some(true));
        assert_eq!(t.freq_capped_now, Some(false));
        assert_eq!(t.throttled_now, Some(true));
        assert_eq!(t.soft_temp_limit_now, Some(false));
        assert_eq!(t.under_voltage_occurred, Some(true));
        assert_eq!(t.freq_capped_occurred, Some(false));
        assert_eq!(t.throttled_occurred, Some(true));
        assert_eq!(t.soft_temp_limit_occurred, Some(false));
        assert!(t.any_now() && t.any_occurred());

        let t = Throttling::from_raw(0x0008_0008, ThrottlingSource::Mailbox);
        assert_eq!(t.soft_temp_limit_now, Some(true));
        assert_eq!(t.soft_temp_limit_occurred, Some(true));
        let t = Throttling::from_raw(0x0002_0002, ThrottlingSource::Mailbox);
        assert_eq!(t.freq_capped_now, Some(true));
        assert_eq!(t.freq_capped_occurred, Some(true));
        assert_eq!(t.under_voltage_now, Some(false));

        let calm = Throttling::from_raw(0, ThrottlingSource::Mailbox);
        assert!(!calm.any_now() && !calm.any_occurred());
        let past = Throttling::from_raw(0x5_0000, ThrottlingSource::Mailbox);
        assert!(!past.any_now() && past.any_occurred());
    }

    #[test]
    fn hwmon_alarm_knows_only_under_voltage() {
        let t = Throttling::from_under_voltage_alarm(true);
        assert_eq!(t.under_voltage_now, Some(true));
        assert_eq!(t.throttled_now, None);
        assert!(t.any_now());
        assert!(!t.any_occurred());
    }

    #[test]
    fn prefers_the_cpu_zone() {
        let root = tempfile::tempdir().expect("tempdir");
        assert_eq!(cpu_temperature(root.path()), None);
        zone(root.path(), 0, "acpitz", "27800\n");
        zone(root.path(), 1, "iwlwifi_1", "41000\n");
        zone(root.path(), 2, "x86_pkg_temp", "52000\n");
        assert_eq!(cpu_temperature(root.path()), Some(52.0));
    }

    #[test]
    fn skips_broken_and_absurd_zones() {
        let root = tempfile::tempdir().expect("tempdir");
        zone(root.path(), 0, "cpu-thermal", "");
        zone(root.path(), 1, "pch", "-273000");
        zone(root.path(), 2, "gpu-thermal", "61500");
        assert_eq!(cpu_temperature(root.path()), Some(61.5));
    }

    #[test]
    fn reads_rpi_volt_alarm() {
        let root = tempfile::tempdir().expect("tempdir");
        assert_eq!(hwmon_under_voltage(root.path()), None);
        let other = root.path().join("sys/class/hwmon/hwmon0");
        fs::create_dir_all(&other).expect("mkdir");
        fs::write(other.join("name"), "cpu_thermal\n").expect("w");
        let volt = root.path().join("sys/class/hwmon/hwmon1");
        fs::create_dir_all(&volt).expect("mkdir");
        fs::write(volt.join("name"), "rpi_volt\n").expect("w");
        fs::write(volt.join("in0_lcrit_alarm"), "1\n").expect("w");
        let t = hwmon_under_voltage(root.path()).expect("alarm");
        assert_eq!(t.source, ThrottlingSource::Hwmon);
        assert_eq!(t.under_voltage_now, Some(true));
    }
}
