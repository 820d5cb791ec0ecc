#!/usr/bin/env bash
# The load benchmark: release server and release bots on this machine, loopback only.
#
#   scripts/bench-load.sh                 # everything, appended to BENCHMARKS.md
#   COUNTS="500 1000" TRANSPORTS=ws DURATION=20s scripts/bench-load.sh
#   SKIP_SCALE=1 scripts/bench-load.sh    # only the pinned `bench` workload
#   SKIP_PROBE=1 scripts/bench-load.sh    # without the fan-out probe
#   SERVER_BIN=/other/build/server scripts/bench-load.sh   # an A/B against another build
#
# Part 1 (scale): arena matches at 30 Hz, bots at each count, over plain ws and over wss:
#   delivery, desyncs, tick p99, late ticks, server CPU (from /proc), RSS per client, bytes per
#   client per second.
# Part 2 (bench workload): the `bench` map (25 players + 100 drones, everything moves), server
#   pinned to CPU 0 and bots to CPU 1 with taskset: server CPU microseconds per client-tick and
#   bytes per client per second.
# Part 3 (the floor): when ../shared/tools/fanout-probe is there (PROBE=path/to/run.sh to point
#   elsewhere), the bare fan-out probe in the same session, pinned at 1,000 clients and
#   unpinned at 3,000 batched, and the ratios of Tickwire's figures to it. Without the probe the
#   script says the ratio was not measured.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-30s}"
COUNTS="${COUNTS:-500 1000 2000 3000 4000}"
TRANSPORTS="${TRANSPORTS:-ws wss}"
BENCH_COUNTS="${BENCH_COUNTS-100 500 1000}"
OUT="${OUT:-BENCHMARKS.md}"
PORT="${PORT:-18500}"
PROBE="${PROBE:-../shared/tools/fanout-probe/run.sh}"
SERVER_BIN="${SERVER_BIN:-./target/release/server}"
BOT_BIN="${BOT_BIN:-./target/release/bot-client}"
FIGURES=$(mktemp -d)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --release -q -p server -p bot-client
[ -x "$SERVER_BIN" ] && [ -x "$BOT_BIN" ] || { echo "no server or bot binary at $SERVER_BIN / $BOT_BIN" >&2; exit 2; }
secs=$(python3 -c "import re,sys; m=re.fullmatch(r'(\d+)s','$DURATION'); print(m.group(1) if m else 30)")
clk=$(getconf CLK_TCK)

# shellcheck source=scripts/bench-common.sh
. scripts/bench-common.sh

row() { # transport n report rss0
  python3 - "$@" "$cpu0" "$cpu1" "$t0" "$t1" "$clk" "$hwm" <<'PY'
import json, sys
transport, n, report, rss0, cpu0, cpu1, t0, t1, clk, hwm = sys.argv[1:]
r = json.load(open(report))
n = int(n); wall = float(t1) - float(t0)
cpu_s = (int(cpu1) - int(cpu0)) / int(clk)
srv = r.get("server") or {}
fmt = lambda v: "n/a" if v is None else f"{v:.2f}"
errors = lambda r: ", ".join(f"{k} ×{v}" for k, v in sorted((r.get("errors") or {}).items())) or "0"
rss_per = (int(hwm) - int(rss0)) / n
down = r.get("bytes_down_per_bot_s") or 0
print(f"| {transport} | {n} | {r.get('delivery_ratio') or 0:.4f} | {r.get('desyncs')} | "
      f"{fmt(srv.get('tick_p99_ms'))} | {srv.get('late_ticks', 'n/a')} | {100 * cpu_s / wall:.0f}% | "
      f"{rss_per:.1f} KB | {down / 1000:.1f} KB/s | {errors(r)} |")
PY
}

bench_row() { # n report
  python3 - "$@" "$cpu0" "$cpu1" "$bcpu0" "$bcpu1" "$t0" "$t1" "$clk" "$FIGURES" <<'PY'
import json, sys
n, report, cpu0, cpu1, bcpu0, bcpu1, t0, t1, clk, figures = sys.argv[1:]
r = json.load(open(report))
n = int(n); wall = float(t1) - float(t0)
cpu_us = (int(cpu1) - int(cpu0)) / int(clk) * 1e6
bot_us = (int(bcpu1) - int(bcpu0)) / int(clk) * 1e6
ticks = 30 * wall
down = r.get("bytes_down_per_bot_s") or 0
print(f"| {n} | {cpu_us / (n * ticks):.2f} µs | {100 * cpu_us / 1e6 / wall:.0f}% | "
      f"{bot_us / (n * ticks):.2f} µs | {100 * bot_us / 1e6 / wall:.0f}% | {down / 1000:.1f} KB/s | "
      f"{r.get('delivery_ratio') or 0:.4f} | {r.get('desyncs')} |")
open(f"{figures}/bench-{n}.us", "w").write(f"{cpu_us / (n * ticks):.3f}")
PY
}

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
{
  echo
  echo "## Load run $(date -u +%F) — $machine"
  echo
  echo "\`scripts/bench-load.sh\` (DURATION=$DURATION). Server and bots share the machine's cores."
} >>"$OUT"

if [ -z "${SKIP_SCALE:-}" ]; then
  {
    echo
    echo "### Scale: arena, 30 Hz, bots on the same machine"
    echo
    echo "| transport | bots | delivery | desyncs | tick p99 (ms) | late ticks | server CPU | server RSS per client | bytes per client | errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
  } >>"$OUT"
  for transport in $TRANSPORTS; do
    for n in $COUNTS; do
      data=$(mktemp -d)
      start_server "$data" "$transport" ""
      rss0=$(rss_kb "$server_pid")
      run_bots "$n" "" "" "$data/report.json"
      measure $((secs / 3))
      stop_server
      row "$transport" "$n" "$data/report.json" "$rss0" | tee -a "$OUT"
      python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('delivery_ratio') or 0)" \
        "$data/report.json" >"$FIGURES/scale-$transport-$n.delivery"
      rm -rf "$data"
    done
  done
fi

{
  echo
  echo "### The bench workload: 25 players + 100 drones per match, server on CPU 0, bots on CPU 1"
  echo
  echo "| clients | server CPU per client-tick | server CPU | bot CPU per bot-tick | bots' CPU | bytes per client | delivery | desyncs |"
  echo "|---|---|---|---|---|---|---|---|"
} >>"$OUT"
for n in $BENCH_COUNTS; do
  data=$(mktemp -d)
  start_server "$data" ws 0
  run_bots "$n" bench 1 "$data/report.json"
  measure $((secs / 3))
  stop_server
  bench_row "$n" "$data/report.json" | tee -a "$OUT"
  rm -rf "$data"
done

if [ -n "${SKIP_PROBE:-}" ] || [ ! -x "$PROBE" ]; then
  why="not found at $PROBE"; [ -n "${SKIP_PROBE:-}" ] && why="SKIP_PROBE set"
  msg="the fan-out probe was not run ($why): the ratio to the floor was not measured"
  echo "$msg"
  { echo; echo "Fan-out floor: $msg."; } >>"$OUT"
  exit 0
fi

# The floor, measured now, on this machine: the probe's own server and bots.
pinned=$(PIN=1 "$PROBE" 1000 | grep '^probe:' || true)
unpinned=$(BATCH=1 "$PROBE" 3000 | grep '^probe:' || true)
python3 - "$FIGURES" "$pinned" "$unpinned" <<'PY' | tee -a "$OUT"
import os, re, sys
figures, pinned, unpinned = sys.argv[1:]
def read(name):
    path = os.path.join(figures, name)
    return float(open(path).read()) if os.path.exists(path) else None
def us(line):
    m = re.search(r"= ([\d.]+) us per client-tick", line)
    return float(m.group(1)) if m else None
print()
print("### The fan-out floor (`../shared/tools/fanout-probe`), same session")
print()
print(f"- pinned, 1,000 clients: `{pinned or 'no result'}`")
print(f"- unpinned, 3,000 clients, batched: `{unpinned or 'no result'}`")
tw, floor = read("bench-1000.us"), us(pinned)
if tw and floor:
    # Colyseus was measured once, on the issue's machine, where the probe gave 13.9-14.6 µs:
    # 31.2 µs was 2.19 × that machine's floor. Machines differ, floors let the two be compared.
    colyseus = 31.2 / 14.25
    print(f"- Tickwire `bench` at 1,000 clients: {tw:.2f} µs per client-tick = **{tw / floor:.2f} × the probe** "
          f"(goal ≤ 1.0); against Colyseus (31.2 µs = {colyseus:.2f} × the probe on the issue's machine): "
          f"**{colyseus / (tw / floor):.2f} × cheaper** measured against each machine's floor, "
          f"{31.2 / tw:.2f} × in absolute µs on this machine (goal ≥ 2.5)")
else:
    print("- ratio at 1,000 clients not measured (run with 1000 in BENCH_COUNTS)")
for transport in ("ws", "wss"):
    d = read(f"scale-{transport}-3000.delivery")
    if d is not None:
        print(f"- Tickwire unpinned, 3,000 bots over {transport}: delivery {d:.4f}")
PY
