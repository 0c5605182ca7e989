//! Storage health of the filesystem that holds a path (the data partition,
//! typically): size, free space, read-only state, what kind of medium it is,
//! eMMC wear and ext4 error counts.
//!
//! SD cards are the weak point of small boxes; these facts let the daemon warn
//! the owner before data is at risk. Sources:
//! - `statvfs(2)` on the path: sizes and the read-only flag (the kernel
//!   remounts ext4 read-only on errors with `errors=remount-ro`);
//! - `<root>/proc/self/mountinfo`: the mount holding the path (longest
//!   mount-point prefix, last mount wins) and its `major:minor`;
//! - `<root>/sys/dev/block/M:m`: the partition and its disk, whose
//!   `device/type` (`SD` or `MMC`) and name (`nvme*`, `vd*`) tell the kind;
//! - eMMC only: `device/life_time` (two estimates, `0x01` = 0-10 % of the
//!   rated life used ... `0x0B` = exceeded) and `device/pre_eol_info`
//!   (`0x01` normal, `0x02` warning, `0x03` urgent);
//! - ext4 only: `<root>/sys/fs/ext4/<partition>/errors_count`.
//!
//! Every field is optional: a fact that cannot be read is `None`.

use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sysfs::{parse_int, read_i64, read_text, under};

/// What kind of medium a block device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    /// An SD card (MMC bus, `device/type` = `SD`).
    SdCard,
    /// Soldered eMMC (MMC bus, `device/type` = `MMC`).
    Emmc,
    /// An NVMe drive.
    Nvme,
    /// A disk on USB (typical SSD boot on a Raspberry Pi).
    Usb,
    /// A paravirtual or emulated disk of a virtual machine.
    Virtual,
    /// Anything else (SATA, device mapper, loop...).
    Other,
}

/// eMMC pre-end-of-life state (`pre_eol_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreEol {
    /// Reserved blocks consumed normally.
    Normal,
    /// 80 % of reserved blocks consumed.
    Warning,
    /// 90 % of reserved blocks consumed: replace the device.
    Urgent,
}

/// eMMC wear estimates, as reported by the device (JEDEC `EXT_CSD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmmcWear {
    /// Life time estimate A (SLC area) in tenths: 1 = 0-10 % used, ...,
    /// 10 = 90-100 %, 11 = exceeded.
    pub life_time_a: Option<u8>,
    /// Life time estimate B (MLC area), same scale.
    pub life_time_b: Option<u8>,
    /// Reserved-block consumption state.
    pub pre_eol: Option<PreEol>,
}

impl EmmcWear {
    /// The worse of the two estimates as an upper bound on the percentage of
    /// rated life used (e.g. estimate 3 → 30); 110 when exceeded.
    pub fn used_percent_max(&self) -> Option<u8> {
        let worst = self.life_time_a.max(self.life_time_b)?;
        (1..=11).contains(&worst).then(|| worst.saturating_mul(10))
    }
}

/// Health of the filesystem holding a path. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageHealth {
    /// Size of the filesystem in bytes.
    pub total_bytes: Option<u64>,
    /// Bytes available to unprivileged users.
    pub free_bytes: Option<u64>,
    /// Whether the filesystem is mounted read-only (e.g. after an error).
    pub read_only: Option<bool>,
    /// The mount point holding the path.
    pub mount_point: Option<PathBuf>,
    /// Filesystem type (`ext4`, `btrfs`...).
    pub fs_type: Option<String>,
    /// The partition's block device name, e.g. `mmcblk0p2`.
    pub device: Option<String>,
    /// The whole disk's name, e.g. `mmcblk0`.
    pub disk: Option<String>,
    /// What kind of medium the disk is.
    pub kind: Option<StorageKind>,
    /// eMMC wear, when the device reports it.
    pub wear: Option<EmmcWear>,
    /// ext4 errors recorded in the superblock since it was created.
    pub ext4_errors: Option<u64>,
}

/// One line of `/proc/self/mountinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MountInfo {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) mount_point: PathBuf,
    pub(crate) fs_type: String,
    pub(crate) source: String,
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(code) = field
                .get(i + 1..i + 4)
                .and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses mountinfo text; malformed lines are skipped.
pub(crate) fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let (major, minor) = fields.get(2)?.split_once(':')?;
            let mount_point = PathBuf::from(unescape(fields.get(4)?));
            let sep = fields.iter().position(|f| *f == "-")?;
            Some(MountInfo {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                mount_point,
                fs_type: fields.get(sep + 1)?.to_string(),
                source: unescape(fields.get(sep + 2)?),
            })
        })
        .collect()
}

/// The mount holding `path`: longest mount point that is a component-wise
/// prefix; among equals, the last one (it shadows the earlier ones).
pub(crate) fn mount_for<'a>(mounts: &'a [MountInfo], path: &Path) -> Option<&'a MountInfo> {
    let path: PathBuf = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.mount_point))
        .fold(None, |best: Option<&MountInfo>, m| match best {
            Some(b) if b.mount_point.components().count() > m.mount_point.components().count() => {
                Some(b)
            }
            _ => Some(m),
        })
}

/// The sysfs directory of a block device: by `major:minor`, else by the
/// mount source's `/dev/NAME` (for filesystems with anonymous device numbers
/// such as btrfs).
fn block_dir(root: &Path, mount: &MountInfo) -> Option<PathBuf> {
    let by_number = under(root, "/sys/dev/block").join(format!("{}:{}", mount.major, mount.minor));
    if let Ok(dir) = fs::canonicalize(&by_number) {
        return Some(dir);
    }
    let name = mount.source.strip_prefix("/dev/")?;
    if name.contains('/') {
        return None;
    }
    fs::canonicalize(under(root, "/sys/class/block").join(name)).ok()
}

fn file_name(p: &Path) -> Option<String> {
    p.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Classifies a disk from its name, its sysfs path and its `device/` facts.
pub(crate) fn classify(disk_dir: &Path, name: &str) -> StorageKind {
    let device = disk_dir.join("device");
    let path = disk_dir.to_string_lossy();
    if name.starts_with("mmcblk") {
        return match read_text(&device.join("type")).as_deref() {
            Some("SD") => StorageKind::SdCard,
            Some("MMC") => StorageKind::Emmc,
            _ => StorageKind::Other,
        };
    }
    if name.starts_with("nvme") {
        return StorageKind::Nvme;
    }
    if name.starts_with("vd") || name.starts_with("xvd") {
        return StorageKind::Virtual;
    }
    let vendor = read_text(&device.join("vendor")).unwrap_or_default();
    let model = read_text(&device.join("model")).unwrap_or_default();
    if ["QEMU", "VBOX", "VMware", "Msft"]
        .iter()
        .any(|v| vendor.starts_with(v) || model.starts_with(v))
    {
        return StorageKind::Virtual;
    }
    if path.contains("/usb") {
        return StorageKind::Usb;
    }
    StorageKind::Other
}

fn parse_hex_byte(text: &str) -> Option<u8> {
    parse_int(text).and_then(|v| u8::try_from(v).ok())
}

fn emmc_wear(disk_dir: &Path) -> Option<EmmcWear> {
    let device = disk_dir.join("device");
    let (a, b) = match read_text(&device.join("life_time")) {
        Some(text) => {
            let mut it = text.split_whitespace().map(parse_hex_byte);
            (it.next().flatten(), it.next().flatten())
        }
        None => (None, None),
    };
    let pre_eol = read_text(&device.join("pre_eol_info"))
        .and_then(|t| parse_hex_byte(&t))
        .and_then(|v| match v {
            1 => Some(PreEol::Normal),
            2 => Some(PreEol::Warning),
            3 => Some(PreEol::Urgent),
            _ => None,
        });
    // 0 means "not defined" in both estimates.
    let a = a.filter(|v| *v != 0);
    let b = b.filter(|v| *v != 0);
    (a.is_some() || b.is_some() || pre_eol.is_some()).then_some(EmmcWear {
        life_time_a: a,
        life_time_b: b,
        pre_eol,
    })
}

/// Storage health of the filesystem holding `path`, with block-device facts
/// looked up under `root`.
pub(crate) fn storage_health(root: &Path, path: &Path) -> StorageHealth {
    let mut health = StorageHealth::default();
    // A directory that does not exist yet (the data directory before first
    // start) lives on the filesystem of its nearest existing ancestor.
    let Some(path) = path.ancestors().find(|p| p.exists()) else {
        return health;
    };
    match nix::sys::statvfs::statvfs(path) {
        // The field types are u32 on 32-bit targets.
        #[allow(clippy::useless_conversion)]
        Ok(st) => {
            let frag = u64::from(st.fragment_size());
            health.total_bytes = Some(u64::from(st.blocks()).saturating_mul(frag));
            health.free_bytes = Some(u64::from(st.blocks_available()).saturating_mul(frag));
            health.read_only = Some(st.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY));
        }
        Err(e) => tracing::debug!(path = %path.display(), error = %e, "statvfs failed"),
    }

    let Some(text) = read_text(&under(root, "/proc/self/mountinfo")) else {
        return health;
    };
    let mounts = parse_mountinfo(&text);
    let lookup = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let Some(mount) = mount_for(&mounts, &lookup) else {
        return health;
    };
    health.mount_point = Some(mount.mount_point.clone());
    health.fs_type = Some(mount.fs_type.clone());

    let Some(part_dir) = block_dir(root, mount) else {
        return health;
    };
    let part_name = file_name(&part_dir);
    // A partition's sysfs directory sits inside its disk's and has `partition`.
    let disk_dir = if part_dir.join("partition").exists() {
        part_dir.parent().map(Path::to_path_buf)
    } else {
        Some(part_dir.clone())
    };
    if let Some(disk_dir) = &disk_dir {
        let disk_name = file_name(disk_dir);
        if let Some(name) = &disk_name {
            let kind = classify(disk_dir, name);
            health.kind = Some(kind);
            if matches!(
                kind,
                StorageKind::Emmc | StorageKind::SdCard | StorageKind::Other
            ) {
                health.wear = emmc_wear(disk_dir);
            }
        }
        health.disk = disk_name;
    }
    if mount.fs_type == "ext4"
        && let Some(name) = &part_name
    {
        health.ext4_errors = read_i64(&under(root, "/sys/fs/ext4").join(name).join("errors_count"))
            .and_then(|v| u64::try_from(v).ok());
    }
    health.device = part_name;
    health
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 179:2 / / ro,noatime shared:1 - ext4 /dev/mmcblk0p2 ro\n\
25 22 179:3 / /data rw,noatime shared:2 - ext4 /dev/mmcblk0p3 rw,errors=remount-ro\n\
26 22 0:5 / /data/my\\040files rw - tmpfs tmpfs rw\n\
27 25 179:4 / /data rw - ext4 /dev/mmcblk0p4 rw\n\
garbage line\n";

    #[test]
    fn parses_and_escapes() {
        let m = parse_mountinfo(MOUNTINFO);
        assert_eq!(m.len(), 4);
        assert_eq!(m[1].major, 179);
        assert_eq!(m[1].minor, 3);
        assert_eq!(m[1].fs_type, "ext4");
        assert_eq!(m[1].source, "/dev/mmcblk0p3");
        assert_eq!(m[2].mount_point, PathBuf::from("/data/my files"));
    }

    #[test]
    fn longest_prefix_and_last_mount_win() {
        let m = parse_mountinfo(MOUNTINFO);
        let at = |p: &str| mount_for(&m, Path::new(p)).map(|m| m.minor);
        assert_eq!(at("/etc/hosts"), Some(2));
        assert_eq!(at("/database"), Some(2), "prefix is by component");
        assert_eq!(at("/data/vault"), Some(4), "the later /data shadows");
        assert_eq!(at("/data/my files/x"), Some(5));
    }

    #[test]
    fn wear_scale() {
        let w = EmmcWear {
            life_time_a: Some(1),
            life_time_b: Some(3),
            pre_eol: Some(PreEol::Normal),
        };
        assert_eq!(w.used_percent_max(), Some(30));
        let none = EmmcWear {
            life_time_a: None,
            life_time_b: None,
            pre_eol: None,
        };
        assert_eq!(none.used_percent_max(), None);
    }
}
