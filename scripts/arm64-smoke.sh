#!/usr/bin/env bash
# arm64-smoke.sh — smoke-test an aarch64 foyerd binary under qemu-user.
#
# Usage: scripts/arm64-smoke.sh BINARY
#
# Starts `BINARY serve` on free loopback ports with a fresh temporary data
# dir and mDNS off, waits (bounded, SMOKE_TIMEOUT seconds, default 60: the
# emulation is slow) until GET https://localhost:PORT/api/health, verified
# against the CA the daemon writes to <data-dir>/tls/ca.pem, answers 200 with
# "status":"ok", then checks that GET / serves the embedded web app (200,
# text/html, the HTML shell, gzip on request), then stops the daemon with
# SIGTERM and requires exit 0.
#
# Then, unless SMOKE_MDNS=0, the mDNS stage: the binary runs again, this time
# without --no-mdns, inside a network namespace of its own (`ip netns`) that
# holds only lo and a veth pair, so every multicast packet stays in that
# namespace and nothing reaches the machine's real interfaces. It passes when
# the daemon logs "announcing the box with mDNS/DNS-SD", a listener in the
# namespace receives a DNS-SD response naming _foyer._tcp (within
# SMOKE_MDNS_WAIT seconds, default 10), and SIGTERM ends the daemon with
# status 0 (after its goodbye packets). SMOKE_MDNS=auto (the default) skips
# the stage with a note when namespaces are not available (not root, no `ip`,
# no python3); SMOKE_MDNS=1 makes that a failure.
# qemu-user before 10.0 (Debian 12 has 7.2) does not emulate IP_MULTICAST_IF,
# so under it mdns-sd starts but cannot send a single packet; the stage then
# reports that limitation (seen in mdns_sd's debug log) instead of failing.
# qemu-user 10.0 (Debian bookworm-backports) sends IPv4 mDNS, so the packet
# is checked there; IPv6 mDNS (IPV6_MULTICAST_IF) still fails under 10.0.
#
# On an aarch64 host the binary runs natively; elsewhere it runs under
# qemu-aarch64-static (Debian: qemu-user-static, plus an arm64 glibc: libc6:arm64
# or libc6-arm64-cross), or through binfmt_misc; SMOKE_QEMU=/path/to/qemu-aarch64
# picks another qemu-user (e.g. a newer one, for the mDNS stage).
# Exit status 0 only on success. The temporary dir is always removed.
set -euo pipefail

usage() { echo "usage: $0 BINARY" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
bin=$1
[[ -f "$bin" ]] || { echo "arm64-smoke: no such file: $bin" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

timeout_s=${SMOKE_TIMEOUT:-60}
export NO_COLOR=1   # plain daemon log lines (tracing-subscriber honours it)
stop_timeout_s=${SMOKE_STOP_TIMEOUT:-30}
mdns_mode=${SMOKE_MDNS:-auto}
case $mdns_mode in auto|0|1) ;; *) echo "arm64-smoke: SMOKE_MDNS must be auto, 0 or 1" >&2; exit 2 ;; esac

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
    if [[ -n ${SMOKE_QEMU:-} ]]; then
        [[ -x $SMOKE_QEMU ]] || { echo "arm64-smoke: SMOKE_QEMU=$SMOKE_QEMU is not executable" >&2; exit 2; }
        runner=("$SMOKE_QEMU")
    elif command -v qemu-aarch64-static >/dev/null; then
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
hdrs=$(mktemp "${TMPDIR:-/tmp}/foyer-arm64-smoke-hdrs.XXXXXX")
pid=
listener=
netns=
cleanup() {
    local rc=$?
    local p
    for p in "$pid" "$listener"; do
        if [[ -n $p ]] && kill -0 "$p" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    if ((rc != 0)) && [[ -s $log ]]; then
        echo "arm64-smoke: --- daemon log (last 40 lines) ---" >&2
        tail -n 40 "$log" >&2
    fi
    [[ -n $netns ]] && ip netns delete "$netns" 2>/dev/null
    rm -rf "$tmp" "$log" "$body" "$hdrs"
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

# --- the embedded web app ----------------------------------------------------
# GET / must answer the HTML shell from the binary (rust-embed), gzip-encoded
# when asked (tower-http compression); --compressed asks and decodes.
out=$(curl -sS --max-time 20 --compressed --cacert "$tmp/tls/ca.pem" \
           --resolve "localhost:$port:127.0.0.1" -D "$hdrs" -o "$body" \
           -w '%{http_code} %{size_download} %{content_type}' \
           "https://localhost:$port/") || out="curl-failed $?"
read -r code size ctype <<<"$out"
encoding=$(tr -d '\r' <"$hdrs" | awk -F': *' 'tolower($1) == "content-encoding" { print $2 }')
if [[ $code != 200 || $ctype != text/html* ]] || ! grep -qi '<!doctype html' "$body"; then
    echo "arm64-smoke: FAIL: GET / -> ${code:-none} ${ctype:-no content type}; want 200 text/html with the HTML shell" >&2
    [[ -s $body ]] && { echo "arm64-smoke: body: $(head -c 300 "$body")" >&2; }
    exit 1
fi
echo "arm64-smoke: GET / -> $code $ctype, ${size} bytes on the wire (content-encoding: ${encoding:-none}), $(wc -c <"$body") bytes of HTML: $(grep -o '<title>[^<]*</title>' "$body" | head -n1)"

# --- stop ------------------------------------------------------------------
# stop_daemon WHAT: SIGTERM, then require exit status 0 within stop_timeout_s.
stop_daemon() {
    local what=$1 rc t_stop
    t_stop=$EPOCHREALTIME
    kill -TERM "$pid"
    local stop_deadline=$((SECONDS + stop_timeout_s))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < stop_deadline)); do
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "arm64-smoke: FAIL: $what still running ${stop_timeout_s} s after SIGTERM" >&2
        exit 1
    fi
    wait "$pid" && rc=0 || rc=$?
    pid=
    if ((rc != 0)); then
        echo "arm64-smoke: FAIL: $what exited with status $rc after SIGTERM" >&2
        exit 1
    fi
    echo "arm64-smoke: $what exited 0 after SIGTERM ($(awk -v a="$t_stop" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s)"
}
stop_daemon daemon

# --- mDNS, in a private network namespace -------------------------------------
mdns_skip() {
    if [[ $mdns_mode == 1 ]]; then
        echo "arm64-smoke: FAIL: mDNS stage impossible: $1" >&2
        exit 1
    fi
    echo "arm64-smoke: mDNS stage skipped: $1 (SMOKE_MDNS=0 to silence)"
    echo "arm64-smoke: PASS"
    exit 0
}
if [[ $mdns_mode == 0 ]]; then
    echo "arm64-smoke: PASS (mDNS stage off: SMOKE_MDNS=0)"
    exit 0
fi
((EUID == 0)) || mdns_skip "needs root for a network namespace"
command -v ip >/dev/null || mdns_skip "no ip (iproute2)"
command -v python3 >/dev/null || mdns_skip "no python3 for the mDNS listener"

# Only lo and a veth pair whose two ends are both inside the namespace: the
# daemon's multicast goes from fy0 to fy1 and nowhere else. 169.254/16 is
# link-local; no route leads out of the namespace.
netns=foyer-smoke-$$
ip netns add "$netns" || { netns=; mdns_skip "cannot create a network namespace"; }
# No duplicate address detection, so fy0/fy1's IPv6 link-local addresses are
# usable at once and the daemon's IPv6 side is exercised too.
ip netns exec "$netns" sysctl -qw net.ipv6.conf.default.accept_dad=0 2>/dev/null || true
if ! { ip -n "$netns" link set lo up &&
       ip -n "$netns" link add fy0 type veth peer name fy1 &&
       ip -n "$netns" link set fy0 up && ip -n "$netns" link set fy1 up &&
       ip -n "$netns" addr add 169.254.77.1/16 dev fy0; }; then
    mdns_skip "cannot set up a veth pair in the namespace"
fi

mdns_data=$tmp/mdns
mkdir -p "$mdns_data"
: >"$log"
seen=$tmp/mdns-seen
# The listener: 5353/udp shared with the daemon (SO_REUSEPORT, as mdns-sd
# does), member of 224.0.0.251 on fy0; prints the first packet naming
# _foyer._tcp, then exits.
ip netns exec "$netns" python3 - "$seen" "$timeout_s" <<'PY' &
import socket, struct, sys, time
out, limit = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("0.0.0.0", 5353))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("224.0.0.251") + socket.inet_aton("169.254.77.1"))
deadline = time.monotonic() + limit
while time.monotonic() < deadline:
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        data, peer = s.recvfrom(9000)
    except socket.timeout:
        break
    flags = struct.unpack("!H", data[2:4])[0] if len(data) >= 4 else 0
    if b"_foyer" in data and flags & 0x8000:          # a response naming the service
        names = sorted({w.decode() for w in __import__("re").findall(rb"foyer-[0-9a-z-]+", data)})
        open(out, "w").write("%d-byte mDNS response from %s:%d naming _foyer._tcp, %s\n"
                             % (len(data), peer[0], peer[1], " ".join(names)))
        sys.exit(0)
sys.exit(1)
PY
listener=$!
sleep 0.5

t0=$EPOCHREALTIME
# The stage reads the log: foyerd's info lines, and mdns_sd's send errors,
# which it logs at debug level only.
ip netns exec "$netns" env RUST_LOG="${RUST_LOG:-info},foyerd=info,mdns_sd=debug" \
    "${runner[@]}" "$bin" serve --data-dir "$mdns_data" \
    --listen "127.0.0.1:$port" --http-listen "127.0.0.1:$port2" >"$log" 2>&1 &
pid=$!
announced=
no_send=
mdns_wait_s=${SMOKE_MDNS_WAIT:-10}   # for the first response, after the log line
deadline=$((SECONDS + timeout_s))
while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" && rc=0 || rc=$?
        pid=
        echo "arm64-smoke: FAIL: daemon (mDNS) exited early with status $rc" >&2
        exit 1
    fi
    if grep -q 'cannot announce the box on the LAN' "$log"; then
        echo "arm64-smoke: FAIL: mDNS did not start: $(grep 'cannot announce' "$log" | head -n1)" >&2
        exit 1
    fi
    if [[ -z $announced ]] && grep -q 'announcing the box with mDNS/DNS-SD' "$log"; then
        announced=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
        deadline=$((SECONDS + mdns_wait_s))
    fi
    [[ -n $announced && -s $seen ]] && break
    # The emulator refuses IP_MULTICAST_IF: nothing will ever be sent on IPv4.
    if [[ -n $announced && ${#runner[@]} -gt 0 ]] &&
       grep -Eq 'failed to set multicast interface for IPv4 .*os error 92' "$log"; then
        no_send=1
        break
    fi
    sleep 0.2
done
if [[ -z $announced ]]; then
    echo "arm64-smoke: FAIL: no \"announcing the box with mDNS/DNS-SD\" after ${timeout_s} s" >&2
    exit 1
fi
echo "arm64-smoke: mDNS: \"announcing the box with mDNS/DNS-SD\" logged ${announced} s after exec"
mdns_result=ok
if [[ -s $seen ]]; then
    echo "arm64-smoke: mDNS: listener saw a $(cat "$seen")"
elif [[ -n $no_send ]]; then
    mdns_result=limited
    qv=$("${runner[0]}" --version 2>/dev/null | head -n1)
    echo "arm64-smoke: mDNS: LIMITED: ${qv:-this qemu-user} does not emulate setsockopt(IP_MULTICAST_IF)"
    echo "arm64-smoke:   (mdns_sd: \"failed to set multicast interface ... Protocol not available (os error 92)\"),"
    echo "arm64-smoke:   so no mDNS packet can leave the daemon under it; the responder itself started."
    echo "arm64-smoke:   qemu-user >= 10.0 sends IPv4 mDNS: SMOKE_QEMU=/path/to/qemu-aarch64 to check the packets."
else
    echo "arm64-smoke: FAIL: no DNS-SD response naming _foyer._tcp seen on fy0 within ${mdns_wait_s} s of the announcement" >&2
    exit 1
fi
kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
listener=
if grep -Eq '(WARN|ERROR).*mDNS' "$log"; then
    echo "arm64-smoke: mDNS warnings in the log:"
    grep -E '(WARN|ERROR).*mDNS' "$log" | head -n 5 | sed 's/^/arm64-smoke:   /'
fi
stop_daemon "daemon (mDNS)"
if grep -q 'said goodbye on the LAN' "$log"; then
    echo "arm64-smoke: mDNS: \"said goodbye on the LAN\" logged on shutdown"
fi
if [[ $mdns_result == limited ]]; then
    echo "arm64-smoke: PASS (mDNS stage limited by the emulator, see above)"
else
    echo "arm64-smoke: PASS"
fi
