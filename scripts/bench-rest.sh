#!/usr/bin/env bash
# REST throughput on this machine: a release server (TLS, SQLite) and wrk, both on loopback.
#   scripts/bench-rest.sh [duration] [connections]
# Prints requests/s for GET /v1/matches (public, reads the database) and for an authenticated
# GET /v1/accounts/me (token check + one primary-key read).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15s}"
conns="${2:-64}"
port=18480
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

cargo build --release -q -p server
data=$(mktemp -d)
./target/release/server --data-dir "$data" --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
base="https://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -skf "$base/healthz" >/dev/null && break; sleep 0.1; done

curl -skf -XPOST "$base/v1/accounts" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench password"}' >/dev/null
token=$(curl -skf -XPOST "$base/v1/sessions" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
for i in $(seq 1 10); do
  curl -skf -XPOST "$base/v1/matches" -H "authorization: Bearer $token" >/dev/null
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date: $(date -u +%F)  duration: $duration  connections: $conns  threads: 2"
echo "== GET /v1/matches"
wrk -t2 -c"$conns" -d"$duration" --latency "$base/v1/matches" | grep -E 'Requests/sec|Latency|99%|Non-2xx'
echo "== GET /v1/accounts/me (Bearer)"
wrk -t2 -c"$conns" -d"$duration" --latency -H "Authorization: Bearer $token" "$base/v1/accounts/me" | grep -E 'Requests/sec|Latency|99%|Non-2xx'
