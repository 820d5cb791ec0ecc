#!/usr/bin/env bash
# Builds the browser SDK and client into assets/web/public/: the wasm core (the protocol crate,
# `shared/wasm`) into tickwire.wasm, and the TypeScript (assets/web/src: type-checked with tsc,
# bundled with esbuild) into sdk.js and app.js.
#
#   scripts/build-web.sh            # build and copy
#   scripts/build-web.sh --check    # build and fail if a committed file differs
#
# Both builds are reproducible, so the check compares bytes.
#
# Uses rustup's wasm32-unknown-unknown target when it is installed; otherwise Debian's
# rustc-web/cargo-web/rust-web-src/lld (std built from source with -Zbuild-std), the toolchain
# this project's machines have.
set -euo pipefail
cd "$(dirname "$0")/.."

target=wasm32-unknown-unknown
out=assets/web/public/tickwire.wasm
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

# The TypeScript: the npm tools pinned in assets/web/package-lock.json.
case "$CARGO_TARGET_DIR" in
  /*) bundle="$CARGO_TARGET_DIR/bundle" ;;
  *) bundle="$PWD/$CARGO_TARGET_DIR/bundle" ;;
esac
(
  cd assets/web
  if ! npm ls --silent >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; fi
  npx tsc --noEmit -p .
  node build.mjs "$bundle"
)

stale=0
for pair in "$built:$out" "$bundle/sdk.js:assets/web/public/sdk.js" "$bundle/app.js:assets/web/public/app.js"; do
  from="${pair%%:*}" to="${pair#*:}"
  if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$from" "$to"; then
      echo "$to is stale: run scripts/build-web.sh and commit it" >&2
      stale=1
    else
      echo "$to is up to date"
    fi
  else
    cp "$from" "$to"
    echo "wrote $to ($(wc -c <"$to") bytes)"
  fi
done
exit "$stale"
