#!/usr/bin/env bash
# Interest management on the 100-player map: the same load with each player seeing only what is
# near it, and with everyone seeing the whole world (`[limits] interest_management = false`).
# Release server pinned to CPU 0, 100 release bots on `expanse` pinned to CPU 1, loopback only;
# the two modes alternate ROUNDS times, so both see the same machine.
#
#   scripts/bench-interest.sh                      # 3 rounds of 30 s each way, to stdout
#   ROUNDS=1 DURATION=20s scripts/bench-interest.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-30s}"
ROUNDS="${ROUNDS:-3}"
BOTS="${BOTS:-100}"
PORT="${PORT:-18600}"
SERVER_BIN="${SERVER_BIN:-./target/release/server}"
BOT_BIN="${BOT_BIN:-./target/release/bot-client}"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --release -q -p server -p bot-client
secs=$(python3 -c "import re; m=re.fullmatch(r'(\d+)s','$DURATION'); print(m.group(1) if m else 30)")
clk=$(getconf CLK_TCK)
# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

results=$(mktemp -d)
echo "| interest management | bytes per client-tick | bytes per client | server CPU per client-tick | server CPU | tick p99 | delivery | desyncs |"
echo "|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  for mode in on off; do
    data=$(mktemp -d)
    flag=true; [ "$mode" = off ] && flag=false
    EXTRA_LIMITS="interest_management = $flag" start_server "$data" ws 0
    run_bots "$BOTS" expanse 1 "$data/report.json"
    measure $((secs / 3))
    stop_server
    python3 - "$mode" "$BOTS" "$data/report.json" "$cpu0" "$cpu1" "$t0" "$t1" "$clk" \
      "$results/$mode-$round.json" <<'PY'
import json, sys
mode, n, report, cpu0, cpu1, t0, t1, clk, out = sys.argv[1:]
r = json.load(open(report))
n = int(n); wall = float(t1) - float(t0)
cpu_us = (int(cpu1) - int(cpu0)) / int(clk) * 1e6
down = r.get("bytes_down_per_bot_s") or 0
srv = r.get("server") or {}
figures = {
    "bytes_tick": down / 30, "down": down, "us": cpu_us / (n * 30 * wall),
    "cpu": 100 * cpu_us / 1e6 / wall, "p99": srv.get("tick_p99_ms"),
    "delivery": r.get("delivery_ratio") or 0, "desyncs": r.get("desyncs"),
}
json.dump(figures, open(out, "w"))
p99 = "n/a" if figures["p99"] is None else f"{figures['p99']:.2f} ms"
print(f"| {mode} | {figures['bytes_tick']:.0f} B | {down / 1000:.1f} KB/s | {figures['us']:.2f} µs | "
      f"{figures['cpu']:.0f}% | {p99} | {figures['delivery']:.4f} | {figures['desyncs']} |")
PY
    rm -rf "$data"
  done
done
python3 - "$results" <<'PY'
import glob, json, os, statistics, sys
d = sys.argv[1]
def median(mode, key):
    return statistics.median(json.load(open(p))[key] for p in glob.glob(os.path.join(d, f"{mode}-*.json")))
on_b, off_b = median("on", "bytes_tick"), median("off", "bytes_tick")
on_us, off_us = median("on", "us"), median("off", "us")
print()
print(f"Medians: {on_b:.0f} B per client-tick with interest management, {off_b:.0f} B without: "
      f"{off_b / on_b:.2f}x fewer. Server CPU per client-tick {on_us:.2f} µs with, {off_us:.2f} µs without "
      f"({off_us / on_us:.2f}x).")
PY
rm -rf "$results"
