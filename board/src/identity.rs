//! Who the hardware says it is: a model string and, when the hardware has a
//! trustworthy one, a serial number.
//!
//! Raspberry Pi boards describe themselves in the device tree
//! (`/proc/device-tree/model`, `/proc/device-tree/serial-number`, both
//! NUL-terminated). PCs and VMs describe themselves through DMI
//! (`/sys/class/dmi/id/*`), whose serial fields are often readable by root
//! only, or filled with vendor placeholders ("To be filled by O.E.M.", "0",
//! an all-zero UUID): those are reported as `None`, never as a serial.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::sysfs::{read_dt_string, read_text, under};

/// The hardware's own description of itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardwareIdentity {
    /// Human-readable model, e.g. `Raspberry Pi 4 Model B Rev 1.4` or
    /// `QEMU Standard PC (Q35 + ICH9, 2009)`.
    pub model: String,
    /// A serial number unique to this unit, when the hardware has a real one.
    pub serial: Option<String>,
}

/// Where the device tree may be found, in order of preference.
const DT_DIRS: [&str; 2] = ["/proc/device-tree", "/sys/firmware/devicetree/base"];

/// Reads a device-tree string property (e.g. `model`) from either location.
pub(crate) fn device_tree_string(root: &Path, property: &str) -> Option<String> {
    DT_DIRS
        .iter()
        .find_map(|dir| read_dt_string(&under(root, dir).join(property)))
}

/// The device-tree model string, if the machine has a device tree.
pub(crate) fn device_tree_model(root: &Path) -> Option<String> {
    device_tree_string(root, "model")
}

/// The Raspberry Pi board serial: device tree first, then the `Serial` line
/// of `/proc/cpuinfo` (older kernels). Placeholders (all zeros) are `None`.
pub(crate) fn rpi_serial(root: &Path) -> Option<String> {
    device_tree_string(root, "serial-number")
        .or_else(|| cpuinfo_serial(root))
        .filter(|s| !is_placeholder(s))
}

fn cpuinfo_serial(root: &Path) -> Option<String> {
    let text = read_text(&under(root, "/proc/cpuinfo"))?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "Serial").then(|| value.trim().to_owned())
    })
}

/// Identity of a Raspberry Pi from its device tree.
pub(crate) fn rpi_identity(root: &Path) -> HardwareIdentity {
    HardwareIdentity {
        model: device_tree_model(root).unwrap_or_else(|| "Raspberry Pi (unknown model)".into()),
        serial: rpi_serial(root),
    }
}

/// Identity of a PC or VM from DMI. The model joins vendor and product name
/// (skipping placeholders and not repeating the vendor); the serial is the
/// product serial, else the product UUID, when either is a real value.
pub(crate) fn dmi_identity(root: &Path) -> HardwareIdentity {
    let dmi = under(root, "/sys/class/dmi/id");
    let field = |name: &str| read_text(&dmi.join(name)).filter(|v| !is_placeholder(v));
    let vendor = field("sys_vendor");
    let product = field("product_name");
    let model = match (vendor, product) {
        (Some(v), Some(p)) if p.to_lowercase().starts_with(&v.to_lowercase()) => p,
        (Some(v), Some(p)) => format!("{v} {p}"),
        (Some(v), None) => v,
        (None, Some(p)) => p,
        (None, None) => "PC (unknown model)".into(),
    };
    let serial = field("product_serial").or_else(|| field("product_uuid"));
    HardwareIdentity { model, serial }
}

/// Whether a DMI or device-tree value is a vendor placeholder rather than a
/// real value: blank, a well-known filler text, all zeros, all `F`s (as in
/// `ffffffff-ffff-...`), all `x`s, or the sequential UUID some firmwares ship
/// (`03000200-0400-0500-0006-000700080009`).
pub fn is_placeholder(value: &str) -> bool {
    const FILLERS: [&str; 22] = [
        "to be filled by o.e.m.",
        "to be filled by oem",
        "default string",
        "system serial number",
        "system product name",
        "system manufacturer",
        "system version",
        "chassis serial number",
        "base board serial number",
        "o.e.m.",
        "oem",
        "none",
        "n/a",
        "na",
        "not specified",
        "not applicable",
        "not available",
        "unknown",
        "serial",
        "0123456789",
        "123456789",
        "03000200-0400-0500-0006-000700080009",
    ];
    let v = value.trim().to_lowercase();
    if v.is_empty() || FILLERS.contains(&v.as_str()) {
        return true;
    }
    let only = |set: &[char]| v.chars().all(|c| set.contains(&c));
    only(&['0', '-', ' ', '.', ':']) || (v.len() >= 4 && only(&['f', '-'])) || only(&['x', '-'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "",
            "  ",
            "To be filled by O.E.M.",
            "To Be Filled By O.E.M.",
            "Default string",
            "0",
            "00000000",
            "00000000-0000-0000-0000-000000000000",
            "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "03000200-0400-0500-0006-000700080009",
            "System Serial Number",
            "Not Specified",
            "XXXXXXXX",
        ] {
            assert!(is_placeholder(p), "{p:?} should be a placeholder");
        }
        for real in [
            "10000000abcdef01",
            "PF3ABCDE",
            "4c4c4544-0042-3510-8051-b4c04f564433",
            "QEMU",
            "ff", // too short to call an all-F placeholder
        ] {
            assert!(!is_placeholder(real), "{real:?} should be a real value");
        }
    }
}
