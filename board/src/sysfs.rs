//! Small, forgiving readers and writers for sysfs/procfs-style files under a
//! board root.
//!
//! Every board reads its facts relative to a `root` directory (`/` in
//! production, a fake tree in tests), and most facts are optional: these
//! helpers turn "missing", "unreadable" and "empty" into `None` instead of an
//! error, so callers can report "unknown" honestly without `unwrap`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::BoardError;

/// `root` joined with an absolute system path such as `/sys/class/leds`.
pub(crate) fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

/// Reads a small text attribute: trimmed, lossy UTF-8; `None` when the file
/// is missing, unreadable or blank.
pub(crate) fn read_text(path: &Path) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    if text.is_empty() {
        None
    } else {
        Some(text.to_owned())
    }
}

/// Reads a device-tree string property (NUL-terminated, possibly several
/// NUL-separated strings: only the first is kept).
pub(crate) fn read_dt_string(path: &Path) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    let first = bytes.split(|b| *b == 0).next().unwrap_or_default();
    let text = String::from_utf8_lossy(first);
    let text = text.trim();
    if text.is_empty() {
        None
    } else {
        Some(text.to_owned())
    }
}

/// Reads an integer attribute (decimal, or hexadecimal with a `0x` prefix).
pub(crate) fn read_i64(path: &Path) -> Option<i64> {
    parse_int(&read_text(path)?)
}

/// Parses a decimal or `0x`-prefixed hexadecimal integer.
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()
    } else {
        t.parse().ok()
    }
}

/// The entries of a directory whose names start with `prefix`, sorted so that
/// `thermal_zone2` comes before `thermal_zone10`. Missing directory: empty.
pub(crate) fn numbered_entries(dir: &Path, prefix: &str) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            let n = name.strip_prefix(prefix)?.parse::<u64>().ok()?;
            Some((n, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// Writes one sysfs attribute in a single `write(2)`, as the kernel expects.
/// `create` is only for simulated trees, where nothing makes the file for us.
pub(crate) fn write_attr(path: &Path, value: &str, create: bool) -> Result<(), BoardError> {
    if create && let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| BoardError::io("create", parent, e))?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .create(create)
        .open(path)
        .map_err(|e| BoardError::io("open", path, e))?;
    file.write_all(value.as_bytes())
        .map_err(|e| BoardError::io("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dt_strings_stop_at_the_first_nul() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("model");
        fs::write(&p, b"Raspberry Pi 4 Model B Rev 1.4\0").expect("write");
        assert_eq!(
            read_dt_string(&p).as_deref(),
            Some("Raspberry Pi 4 Model B Rev 1.4")
        );
        fs::write(&p, b"brcm,bcm2711\0brcm,bcm2838\0").expect("write");
        assert_eq!(read_dt_string(&p).as_deref(), Some("brcm,bcm2711"));
        fs::write(&p, b"\0").expect("write");
        assert_eq!(read_dt_string(&p), None);
        assert_eq!(read_dt_string(&dir.path().join("missing")), None);
    }

    #[test]
    fn integers_in_both_bases() {
        assert_eq!(parse_int("48312\n"), Some(48312));
        assert_eq!(parse_int("0x50005"), Some(0x50005));
        assert_eq!(parse_int("-5"), Some(-5));
        assert_eq!(parse_int("warm"), None);
    }

    #[test]
    fn numbered_entries_sort_numerically() {
        let dir = tempfile::tempdir().expect("tempdir");
        for n in ["zone10", "zone2", "zone0", "other"] {
            fs::create_dir(dir.path().join(n)).expect("mkdir");
        }
        let found: Vec<u64> = numbered_entries(dir.path(), "zone")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(found, vec![0, 2, 10]);
    }
}
