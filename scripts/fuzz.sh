#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ one after another, each for SECONDS (default 600: the
# ten minutes a change to a decoder or parser should survive; CI's smoke run passes 20).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). The corpora in
# fuzz/corpus/ are only read: what a run finds goes to a scratch directory that is deleted
# afterwards, so the committed corpora stay small. Exits non-zero if any target crashes; the
# crashing input is in fuzz/artifacts/<target>/ (replay it with
# `cargo +nightly fuzz run <target> <file>`, shrink it with `cargo +nightly fuzz tmin`).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
[ $# -gt 0 ] && shift
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "needs the nightly toolchain and cargo-fuzz: rustup toolchain install nightly;" \
    "cargo install cargo-fuzz" >&2
  exit 2
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

started=$(date +%s)
echo "== building ${#targets[@]} fuzz targets"
cargo +nightly fuzz build
built=$(date +%s)
echo "   built in $((built - started)) s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=()
summary=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  echo "== $target: ${seconds} s"
  dict=()
  [ -f "fuzz/dicts/$target.dict" ] && dict=(-dict="fuzz/dicts/$target.dict")
  t0=$(date +%s)
  # libFuzzer writes new inputs to the first corpus directory and only reads the others.
  # -timeout: one input taking this long is a hang, reported like a crash.
  if cargo +nightly fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 "${dict[@]}" \
    >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$target")
    tail -n 60 "$log"
  fi
  t1=$(date +%s)
  stat() { grep -o "stat::$1: *[0-9]*" "$log" | tail -1 | grep -o '[0-9]*$' || echo "?"; }
  line=$(printf '%-16s %-6s %5d s  %12s execs  %8s exec/s  %6s new units  %5s MB peak' \
    "$target" "$status" "$((t1 - t0))" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "$(stat new_units_added)" "$(stat peak_rss_mb)")
  echo "   $line"
  summary+=("$line")
done

echo "== summary (build $((built - started)) s, total $(($(date +%s) - started)) s)"
printf '   %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "crashed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
