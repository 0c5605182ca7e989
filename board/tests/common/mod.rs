//! Fake system trees mimicking real sysfs/procfs layouts, built in a tempdir.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// Writes `content` at `root/rel`, creating parent directories.
pub fn put(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(&path, content).expect("write");
}

/// A symlink at `root/rel` pointing to `target` (relative, as sysfs does).
pub fn link(root: &Path, rel: &str, target: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    symlink(target, &path).expect("symlink");
}

pub fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// An LED class directory as the kernel shows it (delay files pre-created,
/// since nothing here creates them when `timer` is written).
pub fn led(root: &Path, name: &str) {
    let dir = format!("sys/class/leds/{name}");
    put(
        root,
        &format!("{dir}/trigger"),
        "none rc-feedback kbd-scrolllock [mmc0] timer oneshot heartbeat default-on\n",
    );
    put(root, &format!("{dir}/brightness"), "0\n");
    put(root, &format!("{dir}/max_brightness"), "255\n");
    put(root, &format!("{dir}/delay_on"), "500\n");
    put(root, &format!("{dir}/delay_off"), "500\n");
}

/// A mountinfo whose `/` is `root_dev` and whose data mount is `data_dir`
/// (a real directory, so statvfs works on it).
pub fn mountinfo(
    root: &Path,
    root_dev: &str,
    data_dev: &str,
    data_fs: &str,
    data_src: &str,
    data_dir: &Path,
) {
    let data = data_dir.to_string_lossy().replace(' ', "\\040");
    put(
        root,
        "proc/self/mountinfo",
        format!(
            "21 1 {root_dev} / / ro,noatime shared:1 - ext4 /dev/root ro\n\
             22 21 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n\
             23 21 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw\n\
             30 21 {data_dev} / {data} rw,noatime shared:9 - {data_fs} {data_src} rw,errors=remount-ro\n"
        ),
    );
}

/// A Raspberry Pi 4 Model B booting from an SD card, with a data
/// partition mmcblk0p3 mounted on `data_dir`.
pub fn rpi4(root: &Path, data_dir: &Path) {
    put(
        root,
        "proc/device-tree/model",
        b"Raspberry Pi 4 Model B Rev 1.4\0",
    );
    put(
        root,
        "proc/device-tree/serial-number",
        b"10000000abcdef01\0",
    );
    put(
        root,
        "proc/device-tree/compatible",
        b"raspberrypi,4-model-b\0brcm,bcm2711\0",
    );
    put(
        root,
        "proc/cpuinfo",
        "processor\t: 0\nHardware\t: BCM2835\nRevision\t: d03114\nSerial\t\t: 10000000abcdef01\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n",
    );
    led(root, "ACT");
    led(root, "PWR");
    put(
        root,
        "sys/class/thermal/thermal_zone0/type",
        "cpu-thermal\n",
    );
    put(root, "sys/class/thermal/thermal_zone0/temp", "48312\n");
    put(
        root,
        "sys/class/watchdog/watchdog0/identity",
        "bcm2835-wdt\n",
    );
    put(root, "sys/class/watchdog/watchdog0/timeout", "15\n");
    put(root, "sys/class/hwmon/hwmon0/name", "cpu_thermal\n");
    put(root, "sys/class/hwmon/hwmon1/name", "rpi_volt\n");
    put(root, "sys/class/hwmon/hwmon1/in0_lcrit_alarm", "0\n");
    let card = "sys/devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa";
    put(root, &format!("{card}/type"), "SD\n");
    put(root, &format!("{card}/name"), "SC64G\n");
    let disk = format!("{card}/block/mmcblk0");
    link(root, &format!("{disk}/device"), "../../../mmc0:aaaa");
    put(root, &format!("{disk}/dev"), "179:0\n");
    for (n, minor) in [(1, 1), (2, 2), (3, 3)] {
        put(
            root,
            &format!("{disk}/mmcblk0p{n}/partition"),
            format!("{n}\n"),
        );
        put(
            root,
            &format!("{disk}/mmcblk0p{n}/dev"),
            format!("179:{minor}\n"),
        );
        link(
            root,
            &format!("sys/dev/block/179:{minor}"),
            &format!(
                "../../devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0/mmcblk0p{n}"
            ),
        );
    }
    put(root, "sys/fs/ext4/mmcblk0p3/errors_count", "2\n");
    mountinfo(root, "179:2", "179:3", "ext4", "/dev/mmcblk0p3", data_dir);
    fs::create_dir_all(root.join("dev")).expect("dev");
}

/// A QEMU/KVM virtual PC with a virtio disk whose partition vda2 is mounted
/// on `data_dir`; DMI serials are placeholders, as they usually are.
pub fn pc_vm(root: &Path, data_dir: &Path) {
    let dmi = "sys/class/dmi/id";
    put(root, &format!("{dmi}/sys_vendor"), "QEMU\n");
    put(
        root,
        &format!("{dmi}/product_name"),
        "Standard PC (Q35 + ICH9, 2009)\n",
    );
    put(
        root,
        &format!("{dmi}/product_serial"),
        "To be filled by O.E.M.\n",
    );
    put(
        root,
        &format!("{dmi}/product_uuid"),
        "00000000-0000-0000-0000-000000000000\n",
    );
    put(root, &format!("{dmi}/board_vendor"), "Default string\n");
    led(root, "input3::capslock");
    put(
        root,
        "sys/class/watchdog/watchdog0/identity",
        "i6300ESB timer\n",
    );
    put(root, "sys/class/watchdog/watchdog0/timeout", "30\n");
    let disk = "sys/devices/pci0000:00/0000:00:04.0/virtio2/block/vda";
    put(root, &format!("{disk}/dev"), "254:0\n");
    put(root, &format!("{disk}/vda1/partition"), "1\n");
    put(root, &format!("{disk}/vda2/partition"), "2\n");
    link(
        root,
        "sys/dev/block/254:2",
        "../../devices/pci0000:00/0000:00:04.0/virtio2/block/vda/vda2",
    );
    link(
        root,
        "sys/dev/block/254:1",
        "../../devices/pci0000:00/0000:00:04.0/virtio2/block/vda/vda1",
    );
    put(root, "sys/fs/ext4/vda2/errors_count", "0\n");
    mountinfo(root, "254:1", "254:2", "ext4", "/dev/vda2", data_dir);
    fs::create_dir_all(root.join("dev")).expect("dev");
}

/// A fresh tempdir with a `root/` tree and a `data/` directory beside it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub data: PathBuf,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let data = dir.path().join("data");
    fs::create_dir_all(&root).expect("root");
    fs::create_dir_all(&data).expect("data");
    // Canonical, so the mountinfo prefix matches what storage_health looks up.
    let data = fs::canonicalize(&data).expect("canonical");
    Fixture { dir, root, data }
}
