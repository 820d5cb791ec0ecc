#!/usr/bin/env bash
# The soak: a release server and 1,000 verifying bots on loopback for 10 minutes, matches ending
# and refilling throughout (results, leaderboards, reconnects). Passes when the server's memory
# is flat after warm-up (RSS growth < 5 % from the minute after warm-up to the last minute),
# no bot desynced and no tick ran late. By hand, not in CI: it takes the whole machine.
#
# Warm-up is the first match cycle plus a minute (arena matches last 180 s): the first turnover
# stores the first results, loads the leaderboards and SQLite's page caches and replaces every
# match at once, and RSS steps up then. Later turnovers step up less each time (3.2, 1.5, then
# 0.4 MB in the 2026-12-02 run), so growth is measured from after the first.
#
#   scripts/soak.sh                          # 1000 bots, 10 minutes
#   BOTS=300 DURATION=120 WARMUP=30 scripts/soak.sh
#   SERVER_BIN=/other/build/server scripts/soak.sh   # the same soak against another build
#
# Writes target/soak/{report.json,rss.csv,summary.txt}.
set -euo pipefail
cd "$(dirname "$0")/.."

BOTS="${BOTS:-1000}"
DURATION="${DURATION:-600}"   # seconds
WARMUP="${WARMUP:-240}"       # seconds before memory is expected to be flat
PORT="${PORT:-18600}"
OUT=target/soak
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --release -q -p server -p bot-client
rm -rf "$OUT"
mkdir -p "$OUT/data"
cat >"$OUT/data/soak.toml" <<TOML
[limits]
guest_logins_per_address_per_minute = 10000000
auth_attempts_per_address_per_minute = 10000000
max_connections_per_address = 100000
TOML
TICKWIRE_LOG=warn "${SERVER_BIN:-./target/release/server}" --no-tls --listen "127.0.0.1:$PORT" \
  --data-dir "$OUT/data" --config "$OUT/data/soak.toml" >"$OUT/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 200); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.05; done

./target/release/bot-client --url "$base" --bots "$BOTS" --duration "${DURATION}s" --quiet \
  --report "$OUT/report.json" >"$OUT/bots.log" 2>&1 &
bots_pid=$!

# Server RSS every 10 s while the bots run (bounded by the run's length).
echo "elapsed_s,rss_kb" >"$OUT/rss.csv"
start=$(date +%s)
while kill -0 "$bots_pid" 2>/dev/null && [ $(( $(date +%s) - start )) -le $((DURATION + 120)) ]; do
  echo "$(( $(date +%s) - start )),$(awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status")" >>"$OUT/rss.csv"
  sleep 10
done
wait "$bots_pid" || true

python3 - "$OUT" "$WARMUP" "$DURATION" "$BOTS" <<'PY' | tee "$OUT/summary.txt"
import csv, json, statistics, sys
out, warm, duration, bots = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [(int(r["elapsed_s"]), int(r["rss_kb"])) for r in csv.DictReader(open(f"{out}/rss.csv"))]
early = [kb for t, kb in rows if warm <= t < warm + 60]
late = [kb for t, kb in rows if duration - 70 <= t < duration - 10]
report = json.load(open(f"{out}/report.json"))
server = report.get("server") or {}
base, end = statistics.median(early), statistics.median(late)
growth = (end - base) / base
late_ticks = server.get("late_ticks")
print(f"bots {bots}, {duration} s; server RSS after warm-up {base/1024:.1f} MiB, "
      f"last minute {end/1024:.1f} MiB, growth {growth*100:+.2f} %; peak {max(kb for _, kb in rows)/1024:.1f} MiB")
print(f"desyncs {report['desyncs']}, delivery {report['delivery_ratio']:.5f}, "
      f"checksums verified {report['checksums_verified']}, late ticks {late_ticks}, "
      f"tick p99 {server.get('tick_p99_ms')} ms, errors {report.get('errors')}")
ok = growth < 0.05 and report["desyncs"] == 0 and late_ticks == 0
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
