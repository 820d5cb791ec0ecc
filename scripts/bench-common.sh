# Shared by the benchmark scripts (sourced, not run): start and stop a release server, run
# release bots, sample the server's CPU between the ramp-up and the end of the run. Expects
# PORT, DURATION, SERVER_BIN, BOT_BIN, secs and clk set by the caller; EXTRA_LIMITS adds lines
# to the server's [limits].

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# start_server DATA TLS PIN -> sets $server_pid
start_server() {
  local data=$1 tls=$2 pin=$3
  mkdir -p "$data"
  cat >"$data/bench.toml" <<TOML
[limits]
${EXTRA_LIMITS:-}
guest_logins_per_address_per_minute = 10000000
auth_attempts_per_address_per_minute = 10000000
# Every bot connects from 127.0.0.1.
max_connections_per_address = 100000
TOML
  local flags=(--data-dir "$data" --listen "127.0.0.1:$PORT" --config "$data/bench.toml")
  [ "$tls" = ws ] && flags+=(--no-tls)
  if [ -n "$pin" ]; then
    TICKWIRE_LOG=warn taskset -c "$pin" "$SERVER_BIN" "${flags[@]}" >"$data/server.log" 2>&1 &
  else
    TICKWIRE_LOG=warn "$SERVER_BIN" "${flags[@]}" >"$data/server.log" 2>&1 &
  fi
  server_pid=$!
  local scheme=https; [ "$tls" = ws ] && scheme=http
  base="$scheme://127.0.0.1:$PORT"
  for _ in $(seq 1 200); do curl -skf "$base/healthz" >/dev/null && return 0; sleep 0.05; done
  echo "server did not start" >&2; cat "$data/server.log" >&2; exit 1
}

stop_server() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
trap stop_server EXIT

# run_bots N MAP PIN REPORT -> runs in the background, sets $bots_pid
run_bots() {
  local n=$1 map=$2 pin=$3 report=$4
  local flags=(--url "$base" --bots "$n" --duration "$DURATION" --insecure --quiet --report "$report")
  [ -n "$map" ] && flags+=(--map "$map")
  if [ -n "$pin" ]; then
    taskset -c "$pin" "$BOT_BIN" "${flags[@]}" >"$report.log" 2>&1 &
  else
    "$BOT_BIN" "${flags[@]}" >"$report.log" 2>&1 &
  fi
  bots_pid=$!
}

# Samples the server between the end of the ramp-up and just before the bots stop.
measure() {
  local warm=$1
  sleep "$warm"
  cpu0=$(cpu_ticks "$server_pid"); bcpu0=$(cpu_ticks "$bots_pid"); t0=$(date +%s.%N)
  sleep $((secs - warm - 2))
  cpu1=$(cpu_ticks "$server_pid"); bcpu1=$(cpu_ticks "$bots_pid"); t1=$(date +%s.%N)
  rss_end=$(rss_kb "$server_pid"); hwm=$(hwm_kb "$server_pid")
  wait "$bots_pid" || true
}

