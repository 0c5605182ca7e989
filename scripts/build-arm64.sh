#!/usr/bin/env bash
# build-arm64.sh — cross-build foyerd for aarch64-unknown-linux-gnu (release).
#
# Uses Debian's Rust toolchain (/usr/bin/cargo, /usr/bin/rustc from the
# cargo-web / rustc-web packages), because the rustup toolchain on the build
# machines is x86_64-only, plus Debian's aarch64 cross gcc. Native C code
# (OpenSSL via openssl-src, SQLCipher via libsqlite3-sys, ring) is compiled
# with aarch64-linux-gnu-gcc through the cc crate's per-target variables.
#
# Usage: scripts/build-arm64.sh [extra cargo build args...]
#   CARGO_TARGET_DIR  target dir (default: target/arm64, relative to repo root)
#
# Prints the binary path, size and `file` output on success.
set -euo pipefail

TARGET=aarch64-unknown-linux-gnu
TARGET_ENV=${TARGET//-/_}                     # aarch64_unknown_linux_gnu
APT_CMD="dpkg --add-architecture arm64 && apt-get update && apt-get install -y rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross perl make file"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# --- prerequisites ---------------------------------------------------------
missing=()
for tool in /usr/bin/cargo /usr/bin/rustc aarch64-linux-gnu-gcc aarch64-linux-gnu-ar \
            aarch64-linux-gnu-ranlib perl make file; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ -x /usr/bin/rustc ]]; then
    sysroot=$(/usr/bin/rustc --print sysroot)
    if ! compgen -G "$sysroot/lib/rustlib/$TARGET/lib/libstd-*.rlib" >/dev/null; then
        missing+=("Rust std for $TARGET (libstd-rust-web-dev:arm64)")
    fi
fi
if ((${#missing[@]})); then
    echo "build-arm64: missing prerequisites: ${missing[*]}" >&2
    echo "build-arm64: install them (as root) with:" >&2
    echo "  $APT_CMD" >&2
    exit 1
fi

# --- environment -----------------------------------------------------------
# rustup's proxies (~/.cargo/bin/cargo, rustc) come first on PATH; put
# Debian's toolchain first so that anything invoking plain `rustc`/`cargo`
# (build scripts, cargo itself) gets the Debian one that has the arm64 std.
export PATH="/usr/bin:$PATH"
export RUSTC=/usr/bin/rustc
export RUSTDOC=/usr/bin/rustdoc
unset RUSTUP_TOOLCHAIN

# Cross tools for the cc crate (ring, libsqlite3-sys/SQLCipher) and for
# openssl-src, which takes CC/AR/RANLIB from the cc crate's lookup.
export "CC_${TARGET_ENV}=${CC_aarch64_unknown_linux_gnu:-aarch64-linux-gnu-gcc}"
export "AR_${TARGET_ENV}=${AR_aarch64_unknown_linux_gnu:-aarch64-linux-gnu-ar}"
export "RANLIB_${TARGET_ENV}=${RANLIB_aarch64_unknown_linux_gnu:-aarch64-linux-gnu-ranlib}"
# Same as .cargo/config.toml; repeated so the script works from anywhere.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-aarch64-linux-gnu-gcc}

target_dir=${CARGO_TARGET_DIR:-target/arm64}

echo "build-arm64: $(/usr/bin/cargo --version) / $(/usr/bin/rustc --version)"
echo "build-arm64: target $TARGET, target dir $target_dir"

# --- build -----------------------------------------------------------------
start=$(date +%s)
RUSTC=/usr/bin/rustc /usr/bin/cargo build --release --locked -p foyerd \
    --target "$TARGET" --target-dir "$target_dir" "$@"
end=$(date +%s)

bin="$target_dir/$TARGET/release/foyerd"
if [[ ! -f "$bin" ]]; then
    echo "build-arm64: build finished but $bin is missing" >&2
    exit 1
fi
bin_abs=$(cd "$(dirname "$bin")" && pwd)/foyerd
size=$(stat -c %s "$bin_abs")
echo "build-arm64: built in $((end - start)) s"
echo "build-arm64: binary: $bin_abs"
echo "build-arm64: size:   $size bytes ($(numfmt --to=iec-i --suffix=B "$size"))"
file "$bin_abs"
