#!/usr/bin/env bash
# arm64-smoke.sh — smoke-test an aarch64 foyerd binary under qemu-user.
#
# Usage: scripts/arm64-smoke.sh BINARY
#
# Starts `BINARY serve` on free loopback ports with a fresh temporary data
# dir and mDNS off, waits (bounded, SMOKE_TIMEOUT seconds, default 60: the
# emulation is slow) until GET https://localhost:PORT/api/health, verified
# against the CA the daemon writes to <data-dir>/tls/ca.pem, answers 200 with
# "status":"ok", then stops the daemon with SIGTERM and requires exit 0.
# On an aarch64 host the binary runs natively; elsewhere it runs under
# qemu-aarch64-static (Debian: qemu-user-static, plus an arm64 glibc: libc6:arm64
# or libc6-arm64-cross), or through binfmt_misc.
# Exit status 0 only on success. The temporary dir is always removed.
set -euo pipefail

usage() { echo "usage: $0 BINARY" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
bin=$1
[[ -f "$bin" ]] || { echo "arm64-smoke: no such file: $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

timeout_s=${SMOKE_TIMEOUT:-60}
stop_timeout_s=${SMOKE_STOP_TIMEOUT:-30}

for tool in curl file; do
    command -v "$tool" >/dev/null || { echo "arm64-smoke: $tool is required" >&2; exit 1; }
done

# --- how to run the binary -------------------------------------------------
runner=()
if [[ $(uname -m) != aarch64 ]]; then
    # The guest's dynamic loader and libc must come from the same glibc
    # build. With libc6:arm64 installed (libstd-rust-web-dev:arm64 pulls it
    # in), ld.so from libc6-arm64-cross's /usr/aarch64-linux-gnu would still
    # find libc.so.6 in the host's /lib/aarch64-linux-gnu, and that mix hangs
    # in the first pthread_create. So prefer the multiarch root when it has
    # an arm64 glibc, and the cross sysroot otherwise.
    if [[ -z ${QEMU_LD_PREFIX:-} ]]; then
        if [[ -e /lib/ld-linux-aarch64.so.1 && -e /lib/aarch64-linux-gnu/libc.so.6 ]]; then
            QEMU_LD_PREFIX=/
        else
            QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
        fi
    fi
    export QEMU_LD_PREFIX
    if [[ ! -e "${QEMU_LD_PREFIX%/}/lib/ld-linux-aarch64.so.1" ]]; then
        echo "arm64-smoke: no aarch64 dynamic loader under $QEMU_LD_PREFIX" >&2
        echo "arm64-smoke: apt-get install -y qemu-user-static libc6-arm64-cross" >&2
        exit 1
    fi
    if command -v qemu-aarch64-static >/dev/null; then
        runner=(qemu-aarch64-static)
    elif command -v qemu-aarch64 >/dev/null; then
        runner=(qemu-aarch64)
    elif [[ -r /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] &&
         head -n1 /proc/sys/fs/binfmt_misc/qemu-aarch64 | grep -qx enabled; then
        runner=()   # the kernel hands it to qemu through binfmt_misc
    else
        echo "arm64-smoke: no qemu-user for aarch64 found" >&2
        echo "arm64-smoke: apt-get install -y qemu-user-static libc6-arm64-cross" >&2
        exit 1
    fi
fi

# --- free loopback ports ---------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 40000))
        [[ $p == "${1:-}" ]] && continue
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    return 1
}
if command -v python3 >/dev/null; then
    read -r port port2 < <(python3 - <<'EOF'
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])
EOF
)
else
    port=$(pick_port)
    port2=$(pick_port "$port")
fi

# --- run -------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/foyer-arm64-smoke.XXXXXX")
log=$(mktemp "${TMPDIR:-/tmp}/foyer-arm64-smoke-log.XXXXXX")
body=$(mktemp "${TMPDIR:-/tmp}/foyer-arm64-smoke-body.XXXXXX")
pid=
cleanup() {
    local rc=$?
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if ((rc != 0)) && [[ -s $log ]]; then
        echo "arm64-smoke: --- daemon log (last 40 lines) ---" >&2
        tail -n 40 "$log" >&2
    fi
    rm -rf "$tmp" "$log" "$body"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "arm64-smoke: $(file -b "$bin" | cut -d, -f1-2)"
echo "arm64-smoke: runner: ${runner[*]:-native/binfmt}${QEMU_LD_PREFIX:+ (QEMU_LD_PREFIX=$QEMU_LD_PREFIX)}; https 127.0.0.1:$port, http 127.0.0.1:$port2"

t0=$EPOCHREALTIME
"${runner[@]}" "$bin" serve --data-dir "$tmp" --listen "127.0.0.1:$port" \
    --http-listen "127.0.0.1:$port2" --no-mdns >"$log" 2>&1 &
pid=$!

healthy=0
code=
deadline=$((SECONDS + timeout_s))
while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" && rc=0 || rc=$?
        pid=
        echo "arm64-smoke: FAIL: daemon exited early with status $rc" >&2
        exit 1
    fi
    if [[ -s "$tmp/tls/ca.pem" ]]; then
        code=$(curl -sS --max-time 5 --cacert "$tmp/tls/ca.pem" \
                    --resolve "localhost:$port:127.0.0.1" \
                    -o "$body" -w '%{http_code}' \
                    "https://localhost:$port/api/health" 2>/dev/null) || code=
        if [[ $code == 200 ]] && grep -Eq '"status"[[:space:]]*:[[:space:]]*"ok"' "$body"; then
            healthy=1
            break
        fi
    fi
    sleep 0.5
done
t1=$EPOCHREALTIME
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

if ((!healthy)); then
    echo "arm64-smoke: FAIL: not healthy after ${timeout_s} s (last HTTP status: ${code:-none})" >&2
    [[ -s $body ]] && { echo "arm64-smoke: last body: $(head -c 500 "$body")" >&2; }
    exit 1
fi
echo "arm64-smoke: GET /api/health -> $code $(head -c 500 "$body")"
echo "arm64-smoke: healthy after ${elapsed} s"

# --- stop ------------------------------------------------------------------
kill -TERM "$pid"
stop_deadline=$((SECONDS + stop_timeout_s))
while kill -0 "$pid" 2>/dev/null && ((SECONDS < stop_deadline)); do
    sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then
    echo "arm64-smoke: FAIL: daemon still running ${stop_timeout_s} s after SIGTERM" >&2
    exit 1
fi
wait "$pid" && rc=0 || rc=$?
pid=
if ((rc != 0)); then
    echo "arm64-smoke: FAIL: daemon exited with status $rc after SIGTERM" >&2
    exit 1
fi
echo "arm64-smoke: daemon exited 0 after SIGTERM"
echo "arm64-smoke: PASS"
