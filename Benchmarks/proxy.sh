#!/usr/bin/env bash
# WebSocket reverse proxying (issue 14, item 8), loopback only, in one run: the same node `ws` echo
# backend (Benchmarks/peers/node-ws-server.js) reached straight, through wsgate (`upstream: ws://`)
# and through Debian's nginx (`proxy_http_version 1.1` with the Upgrade headers).
#
#   bash Benchmarks/proxy.sh            # RUNS=1 DURATION=5 by default; results in Benchmarks/results/
#
# Scenarios: echo (64 connections × 64 B, closed loop) and bulk (4 connections × 64 KiB × 4 in
# flight). `--server-pid` is the proxy's (the backend's for the straight runs), so CPU-µs per
# message is the proxy's own cost. nginx runs as one process (`master_process off`, one worker):
# /proc gives one PID's CPU; wsgate runs its default event loops (one per core).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-1}
DURATION=${DURATION:-5}
SCRATCH=${SCRATCH:-"$ROOT/.build"}
need=()
dpkg -s node-ws >/dev/null 2>&1 || need+=(node-ws)
command -v nginx >/dev/null || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || exit 1
fi
swift build -c release --scratch-path "$SCRATCH" --product wsgate >/dev/null && swift build -c release --scratch-path "$SCRATCH" --product wsgate-bench >/dev/null || exit 1
WSGATE="$SCRATCH/release/wsgate"
BENCH="$SCRATCH/release/wsgate-bench"
LOGDIR=$(mktemp -d /tmp/wsgate-proxy-bench.XXXXXX)
mkdir -p Benchmarks/results
OUT=${OUT:-"Benchmarks/results/proxy-$(date -u +%Y-%m-%dT%H%M%SZ).jsonl"}
BACKEND_PORT=19081 WSGATE_PORT=19080 NGINX_PORT=19082

NODE_PATH=/usr/share/nodejs node Benchmarks/peers/node-ws-server.js $BACKEND_PORT >"$LOGDIR/node.log" 2>&1 &
NODE_PID=$!
cat >"$LOGDIR/wsgate.yaml" <<YAML
listeners:
  - bind: 127.0.0.1:$WSGATE_PORT
limits:
  max_message_bytes: 67108864
  ping_interval_s: 0
routes:
  - path: /echo
    upstream: ws://127.0.0.1:$BACKEND_PORT/echo
    compression: off
YAML
"$WSGATE" --config "$LOGDIR/wsgate.yaml" >"$LOGDIR/wsgate.log" 2>&1 &
WSGATE_PID=$!
cat >"$LOGDIR/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $LOGDIR/nginx.pid;
error_log $LOGDIR/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://127.0.0.1:$BACKEND_PORT;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_read_timeout 1h;
            proxy_buffering off;
        }
    }
}
NGINX
nginx -c "$LOGDIR/nginx.conf" -p "$LOGDIR" &
NGINX_PID=$!
trap 'kill $NODE_PID $WSGATE_PID $NGINX_PID 2>/dev/null' EXIT
sleep 1

run() { # scenario server port pid args...
    local scenario=$1 server=$2 port=$3 pid=$4; shift 4
    for run in $(seq 1 "$RUNS"); do
        line=$("$BENCH" echo --url "ws://127.0.0.1:$port/echo" "$@" --duration "$DURATION" --server-pid "$pid" 2>>"$LOGDIR/bench.log" | tail -1)
        echo "{\"scenario\":\"$scenario\",\"server\":\"$server\",\"run\":$run,\"result\":$line}" | tee -a "$OUT"
    done
}
for scenario in echo bulk; do
    if [ $scenario = echo ]; then args=(--connections 64 --size 64); else args=(--connections 4 --size 65536 --in-flight 4); fi
    run $scenario node-ws-direct $BACKEND_PORT $NODE_PID "${args[@]}"
    run $scenario wsgate-proxy $WSGATE_PORT $WSGATE_PID "${args[@]}"
    run $scenario nginx-proxy $NGINX_PORT $NGINX_PID "${args[@]}"
done
echo "results: $OUT   logs: $LOGDIR"
