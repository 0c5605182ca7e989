#!/usr/bin/env bash
# boot-test.sh — boots a Foyer OS image in QEMU and checks it as a household
# would use it. Exit status 0 only when every step passed.
#
#   scripts/boot-test.sh IMAGE [--power-cuts N] [--disk-size SIZE]
#                        [--idle-seconds S] [--work DIR] [--keep]
#
# IMAGE is foyer-<board>-<version>.img(.xz) from scripts/build-image.sh.
#   pc    the whole disk boots under qemu-system-x86_64 (UEFI firmware from
#         Debian's ovmf package), with KVM when /dev/kvm is usable, TCG
#         otherwise; an i6300esb watchdog is attached so systemd drives a
#         hardware watchdog as on a board.
#   rpi*  the image's own kernel, initrd and root file system (read from its
#         boot partition) boot under qemu-system-aarch64 -M virt (TCG).
# Networking is QEMU's user mode with restrict=on: the guest reaches nothing
# but the two ports forwarded from 127.0.0.1 (HTTPS 443 and HTTP 80).
#
# Steps: first boot (the data partition grows to the disk) → foyerd healthy
# over HTTPS, the certificate checked against the box CA fetched over HTTP →
# claim with the code the box shows on its serial console → store a document
# and a file → clean reboot (ACPI power button) → both found again → N power
# cuts (QEMU killed with SIGKILL in the middle of writes; default 20): each
# time the box boots, `PRAGMA integrity_check` passes and every acknowledged
# write is there → factory reset from the API → the box comes back unclaimed
# and empty. With --idle-seconds S (default 0, off) it also measures, after
# the power cuts, the disk writes of an idle box over S seconds and the
# memory the whole system uses.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image="" cuts=20 disk_size=3G idle=0 work="" keep=0
usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --power-cuts) cuts=$2; shift 2 ;;
        --disk-size) disk_size=$2; shift 2 ;;
        --idle-seconds) idle=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage 0 ;;
        -*) echo "boot-test: unknown option $1" >&2; usage 2 ;;
        *) image=$1; shift ;;
    esac
done
[ -n "$image" ] && [ -f "$image" ] || { echo "boot-test: no image given or not found: '$image'" >&2; usage 2; }
for tool in curl jq xz mcopy sfdisk; do
    command -v "$tool" >/dev/null || { echo "boot-test: missing $tool (apt-get install -y curl jq xz-utils mtools fdisk)" >&2; exit 1; }
done

if [ -z "$work" ]; then work=$(mktemp -d "${TMPDIR:-/var/tmp}/foyer-boot-test.XXXXXX"); fi
mkdir -p "$work"
qemu_pid=""
cleanup() {
    if [ -n "$qemu_pid" ]; then kill -9 "$qemu_pid" 2>/dev/null || true; fi
    if [ "$keep" = 1 ]; then echo "boot-test: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

t0=$SECONDS
log() { printf '== [%4ss] %s\n' "$((SECONDS - t0))" "$*"; }
fail() { printf 'boot-test: FAILED: %s\n' "$*" >&2; [ -f "$console" ] && { echo "--- last console lines:" >&2; tail -n 40 "$console" | tr -d '\r' >&2; }; exit 1; }

# --- the disk ----------------------------------------------------------------
disk=$work/disk.img
log "preparing the disk from $(basename "$image")"
case "$image" in
    *.xz) xz -dc "$image" >"$disk" ;;
    *) cp --sparse=always "$image" "$disk" ;;
esac
image_bytes=$(stat -c %s "$disk")
truncate -s "$disk_size" "$disk"

boot_offset=$(( $(sfdisk -J "$disk" | jq '.partitiontable.partitions[0].start') * 512 ))
if mdir -i "$disk@@$boot_offset" ::/EFI/BOOT/BOOTX64.EFI >/dev/null 2>&1; then kind=pc; else kind=arm64; fi
log "image kind: $kind"

# Ports on 127.0.0.1 forwarded to the guest's 443 and 80.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
https_port=$(free_port)
http_port=$(free_port)
net="user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$https_port-:443,hostfwd=tcp:127.0.0.1:$http_port-:80"

if [ "$kind" = pc ]; then
    ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
    [ -f "$ovmf_code" ] || { echo "boot-test: no UEFI firmware (apt-get install -y ovmf)" >&2; exit 1; }
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
    # KVM when it works: the probe starts the image's own kernel under KVM
    # for a few seconds and wants to see it print on the serial console (on
    # some nested-virtualisation hosts /dev/kvm opens but cannot run a guest).
    # FOYER_BOOT_TEST_ACCEL=kvm|tcg overrides the probe.
    kvm_cpu=host,-arch-capabilities
    kvm_ok() {
        [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
        mcopy -n -i "$disk@@$boot_offset" ::/foyer-a/vmlinuz "$work/probe-vmlinuz" || return 1
        timeout 8 qemu-system-x86_64 -accel kvm -cpu "$kvm_cpu" -machine q35 -m 256 -nodefaults \
            -display none -kernel "$work/probe-vmlinuz" -append "console=ttyS0" \
            -serial "file:$work/probe-console.log" >/dev/null 2>&1 || true
        grep -aq "Linux version" "$work/probe-console.log" 2>/dev/null
    }
    case "${FOYER_BOOT_TEST_ACCEL:-auto}" in
        kvm) use_kvm=1 ;;
        tcg) use_kvm=0 ;;
        *) if kvm_ok; then use_kvm=1; else use_kvm=0; fi ;;
    esac
    if [ "$use_kvm" = 1 ]; then
        accel=(-accel kvm -cpu "$kvm_cpu"); accel_name=kvm
    else
        accel=(-accel tcg -cpu max); accel_name=tcg
    fi
    qemu=(qemu-system-x86_64 -machine q35 "${accel[@]}" -smp 2 -m 1024
          -drive "if=pflash,format=raw,readonly=on,file=$ovmf_code"
          -drive "if=pflash,format=raw,file=$work/vars.fd"
          -drive "file=$disk,format=raw,if=virtio,cache=writeback,id=disk0"
          -device i6300esb -action watchdog=reset)
else
    # The image's own kernel and initrd (slot A) and its kernel command line,
    # with the console moved to the virt machine's PL011 UART.
    mcopy -n -i "$disk@@$boot_offset" ::/foyer-a/vmlinuz "$work/vmlinuz"
    mcopy -n -i "$disk@@$boot_offset" ::/foyer-a/initrd.img "$work/initrd.img"
    cmdline=$(mtype -i "$disk@@$boot_offset" ::/foyer-a/cmdline.txt | tr -d '\r\n' | sed -E 's/console=[^ ]+//g')
    accel_name=tcg
    qemu=(qemu-system-aarch64 -machine virt -cpu max -smp 2 -m 1024
          -kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "$cmdline console=ttyAMA0"
          -drive "file=$disk,format=raw,if=virtio,cache=writeback,id=disk0")
fi
# virtio-balloon only for its statistics: the guest's memory use, seen from outside.
qemu+=(-device virtio-balloon-pci,id=balloon0
       -netdev "$net" -device "virtio-net-pci,netdev=n0" -display none -no-reboot
       -monitor "unix:$work/monitor.sock,server=on,wait=off")
# -no-reboot: a reboot inside the guest ends QEMU, and this script starts it
# again, so each boot gets its own console log.

boot_no=0
console=""
start_vm() {
    boot_no=$((boot_no + 1))
    console=$work/console-$boot_no.log
    "${qemu[@]}" -serial "file:$console" >"$work/qemu-$boot_no.log" 2>&1 &
    qemu_pid=$!
    boot_started=$SECONDS
}
monitor() { python3 - "$work/monitor.sock" "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
time.sleep(0.2); s.recv(65536)
s.sendall((sys.argv[2] + "\n").encode()); time.sleep(0.5)
out = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk: break
        out += chunk
        if out.rstrip().endswith(b"(qemu)"): break
except socket.timeout:
    pass
print(out.decode(errors="replace"))
EOF
}
wait_exit() { # seconds
    local deadline=$((SECONDS + $1))
    while kill -0 "$qemu_pid" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.5
    done
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
}
power_cut() { kill -9 "$qemu_pid"; wait "$qemu_pid" 2>/dev/null || true; qemu_pid=""; }

# HTTPS exactly as a client on the LAN: the box CA, fetched over plain HTTP,
# and the box's own name, which the forwarded port is reached under.
ca=$work/ca.pem
name=""
api() { # METHOD PATH [curl args...]
    local method=$1 path=$2; shift 2
    curl -sS --max-time 30 --cacert "$ca" --resolve "$name.local:$https_port:127.0.0.1" \
        -X "$method" "https://$name.local:$https_port$path" "$@"
}
if [ "$kind" = pc ]; then boot_limit=300; else boot_limit=900; fi
boot_times=()
wait_healthy() {
    local deadline=$((SECONDS + boot_limit))
    while :; do
        kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during boot $boot_no"
        [ $SECONDS -lt $deadline ] || fail "boot $boot_no: foyerd not healthy after ${boot_limit}s"
        if curl -sf --max-time 3 -o "$ca.new" "http://127.0.0.1:$http_port/ca.pem" 2>/dev/null; then
            if [ -z "$name" ] || ! cmp -s "$ca" "$ca.new"; then
                mv "$ca.new" "$ca"
                name=$(curl -sk --max-time 3 "https://127.0.0.1:$https_port/api/health" | jq -r '.name // empty')
            fi
            if [ -n "$name" ] && [ "$(api GET /api/health 2>/dev/null | jq -r .status)" = ok ]; then
                boot_times+=("$((SECONDS - boot_started))")
                return 0
            fi
        fi
        sleep 1
    done
}

# --- first boot ----------------------------------------------------------------
log "boot 1 (first boot, $accel_name)"
start_vm
wait_healthy
log "healthy after ${boot_times[-1]}s: $name.local, certificate verified against the box CA"
health=$(api GET /api/health)
[ "$(jq -r .claimed <<<"$health")" = false ] || fail "a fresh box says it is claimed"

# The claim code, as the box shows it on its console.
claim=""
for _ in $(seq 1 60); do
    claim=$(tr -d '\r' <"$console" | sed -n 's/.*Claim code: *\([^ ]*\).*/\1/p' | tail -n 1)
    [ -n "$claim" ] && break
    sleep 1
done
[ -n "$claim" ] || fail "no 'Claim code:' line on the serial console"
log "claim code read from the serial console"

passphrase="boot-test $(od -An -tx8 -N8 /dev/urandom | tr -d ' ') horse battery"
setup=$(api POST /api/setup -H 'content-type: application/json' \
    -d "$(jq -n --arg c "$claim" --arg p "$passphrase" '{claim_code:$c, passphrase:$p}')" -w '\n%{http_code}')
[ "$(tail -n 1 <<<"$setup")" = 201 ] || fail "setup answered: $setup"
cookies=$work/cookies
csrf=$(api POST /api/session -c "$cookies" -H 'content-type: application/json' \
    -d "$(jq -n --arg p "$passphrase" '{passphrase:$p}')" | jq -r .csrf)
[ -n "$csrf" ] && [ "$csrf" != null ] || fail "could not open a session"
token=$(api POST /api/tokens -b "$cookies" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"boot-test","scopes":["owner"]}' | jq -r .token)
[ -n "$token" ] && [ "$token" != null ] || fail "could not create an API token"
auth=(-H "authorization: Bearer $token")
log "claimed; owner token created"

doc_id=$(api POST /api/docs/note "${auth[@]}" -H 'content-type: application/json' \
    -d '{"title":"before the reboot","content":"stored by the boot test"}' | jq -r ._id)
[ -n "$doc_id" ] && [ "$doc_id" != null ] || fail "could not store a document"
head -c 3000000 /dev/urandom >"$work/file.bin"
file_sha=$(sha256sum "$work/file.bin" | cut -d' ' -f1)
put=$(api PUT /api/files/boot-test/file.bin "${auth[@]}" --data-binary "@$work/file.bin" | jq -r .sha256)
[ "$put" = "$file_sha" ] || fail "file upload answered sha256 $put"
data_mib=$(api GET /api/system/status "${auth[@]}" | jq -r '(.data_total_bytes // .storage.total_bytes // 0) / 1048576 | floor')
log "stored a document and a 3 MB file; data file system: ${data_mib} MiB"

# --- clean reboot ----------------------------------------------------------------
log "clean reboot (ACPI power button)"
monitor system_powerdown >/dev/null
wait_exit 120 || fail "the box did not power off within 120 s of the power button"
start_vm
wait_healthy
log "boot $boot_no healthy after ${boot_times[-1]}s"
[ "$(api GET "/api/docs/note/$doc_id" "${auth[@]}" | jq -r .title)" = "before the reboot" ] \
    || fail "the document is gone after a reboot"
[ "$(api GET /api/files/boot-test/file.bin "${auth[@]}" | sha256sum | cut -d' ' -f1)" = "$file_sha" ] \
    || fail "the file differs after a reboot"
[ "$(api GET /api/health | jq -r .claimed)" = true ] || fail "the box forgot it was claimed"
log "document and file found again; still claimed"

# --- power cuts ------------------------------------------------------------------
acked=$work/acked.txt
: >"$acked"
pad=$(head -c 300 /dev/zero | tr '\0' x)
writer() { # round: writes documents until the box disappears; logs acknowledged ids
    local round=$1 k=0 out
    while :; do
        k=$((k + 1))
        out=$(api POST /api/docs/note "${auth[@]}" -H 'content-type: application/json' \
            -d "{\"title\":\"power cut $round write $k\",\"content\":\"$pad\"}" \
            -w '\n%{http_code}' 2>/dev/null) || return 0
        if [ "$(tail -n 1 <<<"$out")" = 201 ]; then
            head -n 1 <<<"$out" | jq -r ._id >>"$acked"
        fi
    done
}
for round in $(seq 1 "$cuts"); do
    before=$(wc -l <"$acked")
    writer "$round" &
    writer_pid=$!
    # Cut after 0.5 to 4 s of writes.
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.5 + (r % 350) / 100 }')"
    power_cut
    wait "$writer_pid" 2>/dev/null || true
    start_vm
    wait_healthy
    check=$(api POST /api/system/integrity-check "${auth[@]}")
    [ "$(jq -r .ok <<<"$check")" = true ] || fail "power cut $round: integrity_check: $check"
    missing=0
    while read -r id; do
        code=$(api GET "/api/docs/note/$id" "${auth[@]}" -o /dev/null -w '%{http_code}')
        [ "$code" = 200 ] || { missing=$((missing + 1)); echo "missing acknowledged document $id ($code)" >&2; }
    done < <(tail -n +"$((before + 1))" "$acked")
    [ "$missing" = 0 ] || fail "power cut $round: $missing acknowledged writes lost"
    [ "$(api GET "/api/docs/note/$doc_id" "${auth[@]}" | jq -r .title)" = "before the reboot" ] \
        || fail "power cut $round: the first document is gone"
    log "power cut $round/$cuts: booted in ${boot_times[-1]}s, integrity ok, $(( $(wc -l <"$acked") - before )) acknowledged writes all present"
done
total_acked=$(wc -l <"$acked")
[ "$cuts" = 0 ] || [ "$total_acked" -gt 0 ] || fail "no write was acknowledged during the power cuts"
[ "$(api GET /api/files/boot-test/file.bin "${auth[@]}" | sha256sum | cut -d' ' -f1)" = "$file_sha" ] \
    || fail "the file differs after the power cuts"

# --- idle measurements (optional) ------------------------------------------------
if [ "$idle" -gt 0 ]; then
    blockstat() { monitor "info blockstats" | tr -d '\r' | sed -n 's/^disk0: .*wr_bytes=\([0-9]*\).*/\1/p' | head -n 1; }
    sleep 30 # let the boot's own writes settle
    w0=$(blockstat)
    sleep "$idle"
    w1=$(blockstat)
    per_hour=$(( (w1 - w0) * 3600 / idle ))
    # The whole system's memory, as the guest kernel reports it to the balloon device.
    monitor "qom-set /machine/peripheral/balloon0 guest-stats-polling-interval 2" >/dev/null
    sleep 5
    stats=$(monitor "qom-get /machine/peripheral/balloon0 guest-stats" | tr -d '\r')
    stat() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" <<<"$stats" | head -n 1; }
    total=$(stat stat-total-memory) avail=$(stat stat-available-memory)
    used_mib="n/a"
    if [ -n "$total" ] && [ -n "$avail" ]; then used_mib=$(( (total - avail) / 1048576 )); fi
    log "idle: $((w1 - w0)) bytes written to the disk in ${idle}s (≈ $((per_hour / 1024)) KiB/h); whole system memory in use (total - available): ${used_mib} MiB of $(( ${total:-0} / 1048576 )) MiB"
fi

# --- factory reset ---------------------------------------------------------------
log "factory reset from the API"
code=$(api POST /api/system/factory-reset "${auth[@]}" -H 'content-type: application/json' \
    -d "$(jq -n --arg p "$passphrase" '{passphrase:$p}')" -o /dev/null -w '%{http_code}')
[ "$code" = 202 ] || fail "factory reset answered $code"
wait_exit 180 || fail "the box did not reboot within 180 s of the factory reset"
old_name=$name
start_vm
wait_healthy
[ "$(api GET /api/health | jq -r .claimed)" = false ] || fail "after a factory reset the box is still claimed"
grep -aq "factory reset" "$console" || fail "no factory reset message on the console"
log "boot $boot_no after the factory reset: unclaimed, healthy in ${boot_times[-1]}s ($old_name → $name)"
monitor system_powerdown >/dev/null
wait_exit 120 || power_cut

# --- summary ---------------------------------------------------------------------
sorted=$(printf '%s\n' "${boot_times[@]}" | sort -n)
median=$(sed -n "$(( (${#boot_times[@]} + 1) / 2 ))p" <<<"$sorted")
echo "boot-test: PASSED ($kind, $accel_name): $boot_no boots, $cuts power cuts, $total_acked acknowledged writes all kept"
echo "boot-test: boot to healthy /api/health: first ${boot_times[0]}s, median ${median}s, max $(tail -n 1 <<<"$sorted")s"
echo "boot-test: image $((image_bytes / 1048576)) MiB raw, run on a $disk_size disk, data file system ${data_mib} MiB after growth"
