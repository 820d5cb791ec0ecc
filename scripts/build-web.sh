#!/usr/bin/env bash
# Builds the SDK's wasm core (the protocol crate, `shared/wasm`) into assets/web/tickwire.wasm.
#
#   scripts/build-web.sh            # build and copy
#   scripts/build-web.sh --check    # build and fail if the committed file differs
#
# Uses rustup's wasm32-unknown-unknown target when it is installed; otherwise Debian's
# rustc-web/cargo-web/rust-web-src/lld (std built from source with -Zbuild-std), the toolchain
# this project's machines have.
set -euo pipefail
cd "$(dirname "$0")/.."

target=wasm32-unknown-unknown
out=assets/web/tickwire.wasm
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_WEB:-target/web}"
# Stripped, without debug info: the file is shipped to browsers and committed.
export CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=true

if rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  cargo build --release --target "$target" -p shared-wasm
elif [ -x /usr/bin/cargo ] && [ -d /usr/lib/rustlib/src ] && command -v wasm-ld >/dev/null; then
  RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
    /usr/bin/cargo build --release --target "$target" -Zbuild-std=std,panic_abort -p shared-wasm
else
  echo "no wasm32 toolchain: rustup target add $target, or apt-get install rustc-web cargo-web rust-web-src lld" >&2
  exit 1
fi

built="$CARGO_TARGET_DIR/$target/release/shared_wasm.wasm"
if [ "${1:-}" = "--check" ]; then
  if ! cmp -s "$built" "$out"; then
    echo "$out is stale: run scripts/build-web.sh and commit it" >&2
    exit 1
  fi
  echo "$out is up to date"
else
  mkdir -p "$(dirname "$out")"
  cp "$built" "$out"
  echo "wrote $out ($(wc -c <"$out") bytes)"
fi
