#!/usr/bin/env bash
# build-image.sh — builds a flashable Foyer OS image for one board.
#
#   scripts/build-image.sh --board pc|rpi4|rpi5 [--out DIR] [--foyerd FILE]
#                          [--mirror URL] [--version VERSION] [--keep-work]
#                          [--cache DIR]
#
# Debian bookworm, installed with mmdebstrap (arm64 through qemu-user
# binfmt), plus foyerd and the files of image/common/overlay and
# image/<board>/. Partitions (see docs/image.md):
#   1 boot      FAT: UEFI + systemd-boot (pc) or Raspberry Pi firmware,
#               with the kernel and initrd of each system slot
#   2 system A  ext4, mounted read-only: the running system
#   3 system B  empty, reserved for A/B updates
#   4 data      ext4, grown to the whole disk at first boot: /data
#
# --cache DIR keeps the freshly installed root file system (before Foyer's
# files are added) as a tar, keyed by the package lists and board.conf, and
# reuses it on the next build: an arm64 install under emulation takes 20-30
# minutes, and developers rebuild images far more often than package lists
# change. Without --cache every build installs from the mirror.
#
# Outputs, in --out (default out/): foyer-<board>-<version>.img.xz, its
# .sha256, and foyer-<board>-<version>.packages.tsv (the SBOM: every Debian
# package and every Rust crate built into foyerd, with versions).
#
# Needs root (chroot, file ownership), the network to a Debian mirror, and
# the tools named in `need` below. See docs/image.md for timings.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
board="" out="$repo/out" foyerd="" version="" keep=0 cache=""
mirror=${FOYER_DEBIAN_MIRROR:-http://deb.debian.org/debian}

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --board) board=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --foyerd) foyerd=$2; shift 2 ;;
        --mirror) mirror=$2; shift 2 ;;
        --version) version=$2; shift 2 ;;
        --keep-work) keep=1; shift ;;
        --cache) cache=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "build-image: unknown argument $1" >&2; usage 2 ;;
    esac
done
case "$board" in
    pc|rpi4|rpi5) ;;
    "") echo "build-image: --board is required (pc, rpi4 or rpi5)" >&2; exit 2 ;;
    *) echo "build-image: unknown board '$board' (pc, rpi4 or rpi5)" >&2; exit 2 ;;
esac
board_dir=$repo/image/$board
common=$repo/image/common
# shellcheck source=/dev/null
. "$board_dir/board.conf"

step_started=$SECONDS
step() { echo "== [$((SECONDS))s] $*"; }

# --- prerequisites ---------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
    echo "build-image: must run as root (mmdebstrap in root mode, chroot, file ownership)" >&2
    exit 1
fi
need=(mmdebstrap mkfs.ext4 mkfs.vfat mcopy mmd sfdisk xz sha256sum chroot dpkg-query truncate)
missing=()
for tool in "${need[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
    echo "build-image: missing tools: ${missing[*]}" >&2
    echo "build-image: apt-get install -y mmdebstrap e2fsprogs dosfstools mtools fdisk xz-utils" >&2
    exit 1
fi
if [ "$ARCH" != "$(dpkg --print-architecture)" ] && ! arch-test "$ARCH" >/dev/null 2>&1; then
    echo "build-image: cannot run $ARCH programs here: install qemu-user-static and arch-test," >&2
    echo "build-image: and make sure binfmt_misc is mounted and qemu-$( [ "$ARCH" = arm64 ] && echo aarch64 || echo "$ARCH") registered" >&2
    exit 1
fi

if [ -z "$version" ]; then
    pkg_version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)
    rev=$(git -C "$repo" rev-parse --short=8 HEAD 2>/dev/null || echo unknown)
    git -C "$repo" diff --quiet HEAD 2>/dev/null || rev="$rev-dirty"
    version="$pkg_version-$rev"
fi
name=foyer-$board-$version

work=$(mktemp -d "${TMPDIR:-/var/tmp}/foyer-image.XXXXXX")
cleanup() {
    if [ "$keep" = 1 ]; then echo "build-image: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
rootfs=$work/rootfs
bootdir=$work/boot
mkdir -p "$bootdir" "$out"

# --- foyerd ----------------------------------------------------------------
if [ -z "$foyerd" ]; then
    step "building foyerd for $ARCH"
    if [ "$ARCH" = amd64 ]; then
        (cd "$repo" && cargo build --release --locked -p foyerd)
        foyerd=$repo/target/release/foyerd
    else
        "$repo/scripts/build-arm64.sh"
        foyerd=$repo/target/arm64/aarch64-unknown-linux-gnu/release/foyerd
    fi
fi
[ -x "$foyerd" ] || { echo "build-image: no foyerd binary at $foyerd" >&2; exit 1; }

# --- root file system ------------------------------------------------------
packages=$(grep -hv '^\s*#' "$common/packages" "$board_dir/packages" | sed '/^\s*$/d' | paste -sd, -)
step "mmdebstrap $SUITE $ARCH: $packages"
sources=("deb $mirror $SUITE ${COMPONENTS//,/ }")
for extra in ${EXTRA_SUITES:-}; do sources+=("deb $mirror $extra ${COMPONENTS//,/ }"); done
# The Raspberry Pi firmware package copies kernels to /boot/firmware from its
# hooks; it finds a plain directory there and the image takes the files from
# the package itself below.
cache_key=$(cat "$common/packages" "$board_dir/packages" "$board_dir/board.conf" | sha256sum | cut -c1-16)
cached=${cache:+$cache/rootfs-$board-$cache_key.tar}
if [ -n "$cached" ] && [ -f "$cached" ]; then
    step "reusing the installed system from $cached"
    mkdir -p "$rootfs"
    tar -C "$rootfs" --numeric-owner --xattrs --xattrs-include='*' -xpf "$cached"
else
    mmdebstrap --arch="$ARCH" --variant=essential --include="$packages" \
        --essential-hook='mkdir -p "$1/boot/firmware"' \
        --aptopt='Acquire::Retries "3"' \
        "$SUITE" "$rootfs" "${sources[@]}"
    if [ -n "$cached" ]; then
        mkdir -p "$cache"
        tar -C "$rootfs" --numeric-owner --xattrs --xattrs-include='*' -cf "$cached.tmp" .
        mv "$cached.tmp" "$cached"
    fi
fi

step "configuring the system"
# The overlay: units, configuration, scripts. Then foyerd.
cp -a "$common/overlay/." "$rootfs/"
if [ -d "$board_dir/overlay" ]; then cp -a "$board_dir/overlay/." "$rootfs/"; fi
install -m 0755 "$foyerd" "$rootfs/usr/bin/foyerd"
chroot "$rootfs" /bin/sh -s "$board" "$version" <"$common/customize.sh"
if [ -f "$board_dir/customize.sh" ]; then
    chroot "$rootfs" /bin/sh -s "$board" "$version" <"$board_dir/customize.sh"
fi

# --- SBOM ------------------------------------------------------------------
step "package list (SBOM)"
{
    printf 'kind\tname\tversion\tarchitecture\n'
    dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f='deb\t${Package}\t${Version}\t${Architecture}\n' | sort
    awk -v arch="$ARCH" '/^\[\[package\]\]/{n="";v=""} /^name = /{gsub(/"/,"",$3);n=$3} /^version = /{gsub(/"/,"",$3);v=$3; print "crate\t" n "\t" v "\t" arch}' \
        "$repo/Cargo.lock" | sort
} >"$out/$name.packages.tsv"

# --- boot partition contents -----------------------------------------------
step "boot files ($board)"
kver=$(basename "$(ls -d "$rootfs"/usr/lib/modules/* | sort -V | tail -n 1)")
slot_uuid_a=$(cat /proc/sys/kernel/random/uuid)
slot_uuid_b=$(cat /proc/sys/kernel/random/uuid)
disk_id=$(cat /proc/sys/kernel/random/uuid)
if [ "$PARTITION_TABLE" = dos ]; then
    mbr_id=$(od -An -tx4 -N4 /dev/urandom | tr -d ' ')
    root_a="PARTUUID=$mbr_id-02"
else
    root_a="PARTUUID=$slot_uuid_a"
fi
cmdline="root=$root_a rootfstype=ext4 ro rootwait fsck.repair=yes panic=10 $CONSOLES quiet"
mkdir -p "$bootdir/foyer-a"
cp "$rootfs/boot/vmlinuz-$kver" "$bootdir/foyer-a/vmlinuz"
cp "$rootfs/boot/initrd.img-$kver" "$bootdir/foyer-a/initrd.img"
case "$board" in
    pc)
        mkdir -p "$bootdir/EFI/BOOT" "$bootdir/loader/entries"
        cp "$rootfs/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$bootdir/EFI/BOOT/BOOTX64.EFI"
        printf 'default foyer-a.conf\ntimeout 0\nconsole-mode keep\neditor no\n' >"$bootdir/loader/loader.conf"
        printf 'title Foyer %s (system A)\nlinux /foyer-a/vmlinuz\ninitrd /foyer-a/initrd.img\noptions %s\n' \
            "$version" "$cmdline" >"$bootdir/loader/entries/foyer-a.conf"
        ;;
    rpi4|rpi5)
        fw=$rootfs/usr/lib/raspi-firmware
        cp "$fw"/start4*.elf "$fw"/fixup4*.dat "$bootdir/" 2>/dev/null || true
        [ -f "$fw/LICENCE.broadcom" ] && cp "$fw/LICENCE.broadcom" "$bootdir/"
        cp "$board_dir/config.txt" "$bootdir/config.txt"
        echo "$cmdline" >"$bootdir/foyer-a/cmdline.txt"
        found=0
        for dtb in $DTBS; do
            src=$(find "$rootfs/usr/lib/linux-image-$kver" -name "$dtb" | head -n 1)
            if [ -n "$src" ]; then cp "$src" "$bootdir/foyer-a/"; found=1
            else echo "build-image: warning: kernel $kver has no $dtb" >&2; fi
        done
        [ "$found" = 1 ] || { echo "build-image: kernel $kver has none of $DTBS" >&2; exit 1; }
        if [ -d "$rootfs/usr/lib/linux-image-$kver/overlays" ]; then
            cp -r "$rootfs/usr/lib/linux-image-$kver/overlays" "$bootdir/foyer-a/"
        fi
        ;;
esac
echo "$version" >"$bootdir/foyer-version.txt"

# --- trim the system -------------------------------------------------------
step "trimming"
# Kernel and initrd live on the boot partition; docs, manuals and locales
# are not read on an appliance (licences stay: /usr/share/doc/*/copyright).
rm -f "$rootfs"/boot/vmlinuz-* "$rootfs"/boot/initrd.img-* "$rootfs"/boot/System.map-*
rm -rf "$rootfs"/boot/firmware/*
find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
find "$rootfs/usr/share/doc" -type d -empty -delete
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/cache/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
if [ -f "$board_dir/trim-modules" ]; then
    while read -r dir; do
        case "$dir" in ''|\#*) continue ;; esac
        rm -rf "$rootfs/usr/lib/modules/$kver/kernel/$dir"
    done <"$board_dir/trim-modules"
    chroot "$rootfs" depmod "$kver"
fi
installed_kib=$(du -sk "$rootfs" | cut -f1)

# --- file systems ----------------------------------------------------------
step "file systems"
mib=$((1024 * 1024))
mkfs.vfat -n FOYER-BOOT -F 32 -C "$work/boot.img" $((BOOT_SIZE_MIB * 1024)) >/dev/null
mcopy -s -i "$work/boot.img" "$bootdir"/* ::/
# The system: read-only at run time, so no reserved blocks and no periodic
# check. The data partition: created from the same skeleton as a factory
# reset creates it.
mkfs.ext4 -q -L foyer-system-a -m 0 -d "$rootfs" -E root_owner=0:0 \
    "$work/system-a.img" "${SYSTEM_SIZE_MIB}M"
mkfs.ext4 -q -L foyer-data -d "$rootfs/usr/lib/foyer/data-skeleton" \
    "$work/data.img" "${DATA_SIZE_MIB}M"

# --- disk ------------------------------------------------------------------
step "disk ($PARTITION_TABLE)"
disk=$work/$name.img
start=1 # MiB
boot_start=$start
a_start=$((boot_start + BOOT_SIZE_MIB))
b_start=$((a_start + SYSTEM_SIZE_MIB))
data_start=$((b_start + SYSTEM_SIZE_MIB))
total=$((data_start + DATA_SIZE_MIB + 1))
truncate -s "${total}M" "$disk"
if [ "$PARTITION_TABLE" = gpt ]; then
    root_type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709 # x86-64 root (discoverable partitions)
    sfdisk --quiet "$disk" <<EOF
label: gpt
label-id: $disk_id
start=${boot_start}MiB, size=${BOOT_SIZE_MIB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="foyer-boot"
start=${a_start}MiB, size=${SYSTEM_SIZE_MIB}MiB, type=$root_type, uuid=$slot_uuid_a, name="foyer-system-a"
start=${b_start}MiB, size=${SYSTEM_SIZE_MIB}MiB, type=$root_type, uuid=$slot_uuid_b, name="foyer-system-b"
start=${data_start}MiB, size=${DATA_SIZE_MIB}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="foyer-data"
EOF
else
    sfdisk --quiet "$disk" <<EOF
label: dos
label-id: 0x$mbr_id
start=${boot_start}MiB, size=${BOOT_SIZE_MIB}MiB, type=c, bootable
start=${a_start}MiB, size=${SYSTEM_SIZE_MIB}MiB, type=83
start=${b_start}MiB, size=${SYSTEM_SIZE_MIB}MiB, type=83
start=${data_start}MiB, size=${DATA_SIZE_MIB}MiB, type=83
EOF
fi
put() { dd if="$1" of="$disk" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$work/boot.img" "$boot_start"
put "$work/system-a.img" "$a_start"
put "$work/data.img" "$data_start"

# --- compress --------------------------------------------------------------
step "compressing"
xz -T0 -3 -c "$disk" >"$out/$name.img.xz"
(cd "$out" && sha256sum "$name.img.xz" >"$name.img.xz.sha256")
ln -sf "$name.img.xz" "$out/foyer-$board-latest.img.xz"

compressed_kib=$(($(stat -c %s "$out/$name.img.xz") / 1024))
cat <<EOF
build-image: $out/$name.img.xz
  board              $board ($ARCH), kernel $kver
  image (raw)        $total MiB (boot $BOOT_SIZE_MIB, system A/B $SYSTEM_SIZE_MIB each, data $DATA_SIZE_MIB + growth)
  compressed         $((compressed_kib / 1024)) MiB
  system installed   $((installed_kib / 1024)) MiB
  packages (SBOM)    $out/$name.packages.tsv ($(grep -c '^deb' "$out/$name.packages.tsv") Debian packages, $(grep -c '^crate' "$out/$name.packages.tsv") crates)
  build time         $((SECONDS - step_started)) s
EOF
