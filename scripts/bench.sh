#!/usr/bin/env bash
# bench.sh — build foyerd and foyer-bench in release mode, run the benchmarks
# and print a markdown report (also saved with the raw numbers as JSON).
#
# Usage: scripts/bench.sh [--quick] [-- OPTIONS for `foyer-bench run`]
#
#   --quick   small sizes: 200 single POSTs, 5 x _bulk_docs of 1000, _find at
#             10k/20k docs, a 64 MiB file, 3 starts, 5 phones, 3 mDNS starts,
#             2 browser loads (under two minutes once built)
#   (full)    2000 single POSTs, 30 x _bulk_docs of 1000, _find at 100k and 1M
#             docs (loaded with _bulk_docs of 10000), a 1 GiB file x 3 repeats x
#             3 clients, 10 starts each on fresh and existing data dirs, 5 and
#             50 phones holding live updates, 10 starts to the first mDNS
#             answer, 5 fresh-browser loads of the web app
#             (about 8 minutes on 2 vCPU, plus the build)
#
# Every figure is compared with a baseline measured in the same run: raw
# rusqlite/SQLCipher inserts with the daemon's durability settings and schema
# for documents, `cp` + `sync` on the same disk for files.
#
# The daemon and all clients run on loopback only (127.0.0.1). The work
# directory (data dirs, the cp baseline, downloads; ~3 GiB in full mode) is
# made under $FOYER_BENCH_WORK_DIR, default target/bench-work — deliberately
# on the project's disk, not a tmpfs /tmp, so that `cp` measures a real disk.
# It is removed at the end. Results: target/bench/results-{quick,full}.{md,json}.
# Needs: cargo, curl (with HTTP/2), coreutils (cp, sync); for the `lan` part
# root, iproute2 and python3-dnspython (two network namespaces it creates); for
# the `web` part chromium, chromium-driver and libnss3-tools. A part whose
# prerequisites are missing says so and is skipped. Run it alone: the figures
# are only as good as the machine is quiet.
set -euo pipefail

mode=full
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) mode=quick; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
work=${FOYER_BENCH_WORK_DIR:-$target/bench-work}
out=$target/bench
mkdir -p "$work" "$out"

echo "bench.sh: building (release)…" >&2
cargo build --release -p foyerd -p foyer-bench >&2

args=(run --foyerd "$target/release/foyerd" --work-dir "$work" --json "$out/results-$mode.json")
if [[ $mode == quick ]]; then
    args+=(--quick)
fi
if ! command -v curl >/dev/null; then
    echo "bench.sh: curl not found; file transfers use reqwest only" >&2
    args+=(--clients reqwest)
fi

echo "bench.sh: running foyer-bench ${args[*]} ${extra[*]:-}" >&2
"$target/release/foyer-bench" "${args[@]}" "${extra[@]}" | tee "$out/results-$mode.md"
echo "bench.sh: report in $out/results-$mode.md, raw numbers in $out/results-$mode.json" >&2
