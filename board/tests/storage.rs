//! Storage health against fake mountinfo and block-device trees.

mod common;

use board::{BoardChoice, PreEol, StorageKind, detect};
use common::{fixture, link, put};

#[test]
fn rpi_sd_card_data_partition() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    let board = detect(BoardChoice::Auto, &f.root);
    let h = board.storage_health(&f.data.join("vault"));
    assert_eq!(h.mount_point.as_deref(), Some(f.data.as_path()));
    assert_eq!(h.fs_type.as_deref(), Some("ext4"));
    assert_eq!(h.device.as_deref(), Some("mmcblk0p3"));
    assert_eq!(h.disk.as_deref(), Some("mmcblk0"));
    assert_eq!(h.kind, Some(StorageKind::SdCard));
    assert_eq!(h.ext4_errors, Some(2));
    assert_eq!(h.wear, None, "SD cards report no wear");
    // statvfs ran on the real directory.
    let total = h.total_bytes.expect("total");
    let free = h.free_bytes.expect("free");
    assert!(total > 0 && free <= total, "{free} of {total}");
    assert_eq!(h.read_only, Some(false));
}

#[test]
fn emmc_wear_is_read() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    let card = "sys/devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa";
    put(&f.root, &format!("{card}/type"), "MMC\n");
    put(&f.root, &format!("{card}/life_time"), "0x01 0x02\n");
    put(&f.root, &format!("{card}/pre_eol_info"), "0x01\n");
    let h = detect(BoardChoice::Auto, &f.root).storage_health(&f.data);
    assert_eq!(h.kind, Some(StorageKind::Emmc));
    let wear = h.wear.expect("wear");
    assert_eq!(wear.life_time_a, Some(1));
    assert_eq!(wear.life_time_b, Some(2));
    assert_eq!(wear.pre_eol, Some(PreEol::Normal));
    assert_eq!(wear.used_percent_max(), Some(20));

    put(&f.root, &format!("{card}/pre_eol_info"), "0x03\n");
    put(&f.root, &format!("{card}/life_time"), "0x0B 0x0A\n");
    let wear = detect(BoardChoice::Auto, &f.root)
        .storage_health(&f.data)
        .wear
        .expect("wear");
    assert_eq!(wear.pre_eol, Some(PreEol::Urgent));
    assert_eq!(wear.used_percent_max(), Some(110));
}

#[test]
fn pc_vm_virtio_disk() {
    let f = fixture();
    common::pc_vm(&f.root, &f.data);
    let h = detect(BoardChoice::Auto, &f.root).storage_health(&f.data);
    assert_eq!(h.device.as_deref(), Some("vda2"));
    assert_eq!(h.disk.as_deref(), Some("vda"));
    assert_eq!(h.kind, Some(StorageKind::Virtual));
    assert_eq!(h.ext4_errors, Some(0));
    // The rest of the system is on the root mount (vda1).
    let root_mount = detect(BoardChoice::Auto, &f.root).storage_health(std::path::Path::new("/"));
    assert_eq!(root_mount.device.as_deref(), Some("vda1"));
    assert_eq!(
        root_mount.mount_point.as_deref(),
        Some(std::path::Path::new("/"))
    );
}

#[test]
fn nvme_and_usb_disks() {
    let f = fixture();
    put(
        &f.root,
        "sys/devices/platform/axi/1000110000.pcie/nvme/nvme0/nvme0n1/nvme0n1p2/partition",
        "2\n",
    );
    link(
        &f.root,
        "sys/dev/block/259:2",
        "../../devices/platform/axi/1000110000.pcie/nvme/nvme0/nvme0n1/nvme0n1p2",
    );
    common::mountinfo(
        &f.root,
        "259:1",
        "259:2",
        "btrfs",
        "/dev/nvme0n1p2",
        &f.data,
    );
    let h = detect(BoardChoice::Pc, &f.root).storage_health(&f.data);
    assert_eq!(h.kind, Some(StorageKind::Nvme));
    assert_eq!(h.device.as_deref(), Some("nvme0n1p2"));
    assert_eq!(h.ext4_errors, None, "not ext4");

    let g = fixture();
    let usb = "sys/devices/platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb2/2-1/2-1:1.0/host0/target0:0:0/0:0:0:0/block/sda";
    put(&g.root, &format!("{usb}/sda1/partition"), "1\n");
    put(&g.root, &format!("{usb}/device/vendor"), "Samsung \n");
    // Relative to sys/dev/block, as the kernel makes it.
    link(
        &g.root,
        "sys/dev/block/8:1",
        &format!("../../{}/sda1", usb.trim_start_matches("sys/")),
    );
    common::mountinfo(&g.root, "8:2", "8:1", "ext4", "/dev/sda1", &g.data);
    let h = detect(BoardChoice::RaspberryPi, &g.root).storage_health(&g.data);
    assert_eq!(h.kind, Some(StorageKind::Usb));
    assert_eq!(h.device.as_deref(), Some("sda1"));
}

#[test]
fn falls_back_to_the_mount_source_name() {
    // btrfs reports an anonymous 0:NN device; the source names the partition.
    let f = fixture();
    put(&f.root, "sys/devices/virtual/block/dm-0/dev", "253:0\n");
    put(
        &f.root,
        "sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p3/partition",
        "3\n",
    );
    link(
        &f.root,
        "sys/class/block/nvme0n1p3",
        "../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p3",
    );
    common::mountinfo(&f.root, "259:1", "0:45", "btrfs", "/dev/nvme0n1p3", &f.data);
    let h = detect(BoardChoice::Pc, &f.root).storage_health(&f.data);
    assert_eq!(h.fs_type.as_deref(), Some("btrfs"));
    assert_eq!(h.device.as_deref(), Some("nvme0n1p3"));
    assert_eq!(h.kind, Some(StorageKind::Nvme));
}

#[test]
fn everything_optional_without_a_tree() {
    let empty = tempfile::tempdir().expect("tempdir");
    let h = detect(BoardChoice::Pc, empty.path()).storage_health(empty.path());
    assert!(
        h.total_bytes.is_some(),
        "statvfs still works on a real path"
    );
    assert_eq!(h.mount_point, None);
    assert_eq!(h.device, None);
    assert_eq!(h.kind, None);
    // A path that does not exist yet: the filesystem that would hold it.
    let h = detect(BoardChoice::Pc, empty.path()).storage_health(&empty.path().join("not/yet"));
    assert!(h.total_bytes.is_some());
    // A relative path with nothing existing: nothing at all, and no panic.
    let h = detect(BoardChoice::Pc, empty.path())
        .storage_health(std::path::Path::new("no-such-dir-here/x"));
    assert_eq!(h.total_bytes, None);
    assert_eq!(h.read_only, None);
}

#[test]
fn serialises_for_the_status_api() {
    let f = fixture();
    common::rpi4(&f.root, &f.data);
    let h = detect(BoardChoice::Auto, &f.root).storage_health(&f.data);
    let json = serde_json::to_value(&h).expect("json");
    assert_eq!(json["kind"], "sd_card");
    assert_eq!(json["device"], "mmcblk0p3");
    assert_eq!(json["ext4_errors"], 2);
}
