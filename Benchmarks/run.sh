#!/usr/bin/env bash
# Side-by-side benchmark of wsgate and its peers on this machine (loopback only), issue #8.
#
#   bash Benchmarks/run.sh            # everything, ~25 minutes; then python3 Benchmarks/report.py
#   RUNS=1 DURATION=2 bash Benchmarks/run.sh echo broadcast   # a quick look at some scenarios
#
# Scenarios (arguments; default all): echo, broadcast (2,000 msg/s), broadcast100 (100 msg/s),
# idle, bridge, wss, deflate (not in the default list). Each server is started alone, its PID handed to `wsgate-bench --server-pid`,
# RUNS runs made, and the server stopped. Every run appends one JSON line to
# Benchmarks/results/<date>.jsonl: {"scenario","server","run","client_cpu_s","client_wall_s",
# "loadavg_1m" (/proc/loadavg's first field just before the run), "result": <wsgate-bench's JSON line>}.
# Nothing here leaves loopback.
# Issue #18 (round 2), in the default list after the ones above:
#   broadcast4000  the broadcast room at 4,000 msg/s with --wait-for-all (missing = lost), wsgate and the same peers
#   saturate       wsgate alone, the same room with --wait-for-all at 6,000 / 8,000 / 12,000 msg/s, 2 client threads (saturate6000 ...)
#   bigroom        one room of 5,000 receivers, 20 msg/s, --wait-for-all, >= 10 s (wsgate mixed rfc6455 + hixie-76; node-ws, python-websockets-uvloop)
#   idle-rfc       wsgate: 10,000 idle RFC 6455-only connections, a fresh server per run
#   handshakes     10,000 connects, a fresh server per run: hs-rfc6455 (wsgate, node-ws), hs-hixie76 (wsgate), hs-rfc6455-tls (wsgate, 3,000 over wss://)
#                  and hs-rfc6455-tls-resume (the same with --tls-resume: every measured handshake resumes the TLS session of
#                  one connection made before them); both TLS ones also against nginx-tls: Debian's nginx terminating TLS
#                  (the same certificate, wsgate's TLS 1.3 suite order, one worker per core) in front of the node ws peer.
#                  nginx-tls's server CPU is its process tree's (master and workers), the node backend's is recorded apart
#                  (backend_tree_cpu_s). `handshakes-tls` (not in the default list) runs only these four.
#   wss            now also 64 x 64 B echo over ws:// and wss:// (echo-ws, echo-wss), and once the cipher alone (cipher: openssl speed, AES-GCM)
# echo also runs c-epoll-floor (Benchmarks/peers/c-epoll-ws-echo.c), a minimal hand-written C
# WebSocket echo server: not a peer, the floor of server CPU per message any server can reach here;
# and nio-floor (Benchmarks/nio-floor-server, its own Swift package), one hand-written
# ChannelInboundHandler on SwiftNIO's NIOPosix and nothing else: not a peer either, the floor of a
# server on SwiftNIO, i.e. how much of wsgate's CPU per message is NIO's channel machinery itself.
# deflate: permessage-deflate on and off with 1 KiB JSON-like text (--payload json): wsgate's
# 200-member room at 2,000 msg/s and at 500 msg/s (server CPU and wire bytes per delivery), /echo with context
# takeover (64 connections), 2,000 idle connections with and without it, 500 that each sent and
# received one compressed message; then the room with node ws (perMessageDeflate) and python
# websockets (compression on, its default), started with --deflate.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BENCH_DIR="$ROOT/Benchmarks"
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(echo broadcast broadcast100 idle bridge wss broadcast4000 saturate bigroom idle-rfc handshakes)
mkdir -p "$BENCH_DIR/results"
OUT=${OUT:-"$BENCH_DIR/results/$(date -u +%Y-%m-%dT%H%M%SZ).jsonl"}
LOGDIR=$(mktemp -d /tmp/wsgate-benchmarks.XXXXXX)
echo "results: $OUT   logs: $LOGDIR"

# --- what the peers need (Debian packages) -----------------------------------------------------
need=()
for pkg in node-ws nodejs libwebsockets-test-server python3-websockets python3-uvloop websockify gcc libssl-dev openssl; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || exit 1
fi

# --- builds ----------------------------------------------------------------------------------------
echo "building wsgate + wsgate-bench (release, .build-bench)"
swift build -c release --scratch-path "$ROOT/.build-bench" --product wsgate >"$LOGDIR/build-wsgate.log" 2>&1 &&
    swift build -c release --scratch-path "$ROOT/.build-bench" --product wsgate-bench >>"$LOGDIR/build-wsgate.log" 2>&1 ||
    { tail -30 "$LOGDIR/build-wsgate.log"; exit 1; }
echo "building the Hummingbird peer (Benchmarks/hummingbird-server)"
(cd "$BENCH_DIR/hummingbird-server" && swift build -c release >"$LOGDIR/build-hummingbird.log" 2>&1) ||
    { tail -30 "$LOGDIR/build-hummingbird.log"; exit 1; }
echo "building the NIO floor (Benchmarks/nio-floor-server)"
(cd "$BENCH_DIR/nio-floor-server" && swift build -c release >"$LOGDIR/build-nio-floor.log" 2>&1) ||
    { tail -30 "$LOGDIR/build-nio-floor.log"; exit 1; }
RAW_TCP="$LOGDIR/raw-tcp-bench"
cc -O2 -pthread -o "$RAW_TCP" "$BENCH_DIR/peers/raw-tcp-bench.c" || exit 1
C_FLOOR="$LOGDIR/c-epoll-ws-echo"
cc -O2 -o "$C_FLOOR" "$BENCH_DIR/peers/c-epoll-ws-echo.c" -lcrypto || exit 1
WSGATE="$ROOT/.build-bench/release/wsgate"
BENCH="$ROOT/.build-bench/release/wsgate-bench"
HUMMINGBIRD="$BENCH_DIR/hummingbird-server/.build/release/HummingbirdBenchServer"
NIO_FLOOR="$BENCH_DIR/nio-floor-server/.build/release/NIOFloorServer"

# 10,000 idle connections: the servers (started from this shell) and the bench need the descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# --- servers -----------------------------------------------------------------------------------------
# name -> port. PORT_OFFSET moves every port (wsgate's, the peers', the bridge upstream's) so that a
# run can sit beside another one on the machine: wsgate then runs a copy of wsgate-bench.yaml with
# the ports moved.
OFF=${PORT_OFFSET:-0}
declare -A PORT=([wsgate]=$((18080 + OFF)) [node-ws]=$((18081 + OFF)) [python-websockets]=$((18082 + OFF))
    [python-websockets-uvloop]=$((18082 + OFF)) [libwebsockets]=$((18083 + OFF)) [hummingbird]=$((18084 + OFF))
    [websockify]=$((18085 + OFF)) [c-epoll-floor]=$((18086 + OFF)) [nio-floor]=$((18087 + OFF))
    [node-ws-deflate]=$((18081 + OFF)) [python-websockets-deflate]=$((18082 + OFF))
    [nginx-tls]=$((18088 + OFF)) [nginx-tls-backend]=$((18089 + OFF)))
WSS_PORT=$((18443 + OFF))
UPSTREAM_PORT=$((17001 + OFF))
RAW_PORT=$((17002 + OFF))
WSGATE_CONFIG="$LOGDIR/wsgate-bench.yaml"
sed -e "s/127.0.0.1:18080/127.0.0.1:${PORT[wsgate]}/; s/127.0.0.1:18443/127.0.0.1:$WSS_PORT/; s/127.0.0.1:17001/127.0.0.1:$UPSTREAM_PORT/" \
    "$BENCH_DIR/wsgate-bench.yaml" >"$WSGATE_CONFIG"
SERVER_PID=""
SERVER_PORT=""
# nginx-tls's node ws backend (a server of its own, started and stopped with nginx).
BACKEND_PID=""
STARTS=0

# nginx-tls: the node ws peer on its own port, then nginx's configuration in the logs folder (its prefix,
# pid file, error log and temporary folders there: nothing of the system's nginx is used). Sets BACKEND_PID.
prepare_nginx_tls() { # nginx-port
    local port=$1 backend=$((PORT[nginx-tls-backend] + 100 * STARTS)) dir="$LOGDIR/nginx-tls"
    mkdir -p "$dir"
    NODE_PATH=/usr/share/nodejs exec node "$BENCH_DIR/peers/node-ws-server.js" "$backend" >"$LOGDIR/nginx-tls-backend.log" 2>&1 &
    BACKEND_PID=$!
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$backend") 2>/dev/null && break
        kill -0 "$BACKEND_PID" 2>/dev/null || { echo "  the node ws backend did not start"; return 1; }
        sleep 0.1
    done
    # As root, nginx's workers run as its default user (nobody); they need no file of their own here.
    cat >"$dir/nginx.conf" <<NGINX
daemon off;
master_process on;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $ROOT/certs-dev/server.crt;
        ssl_certificate_key $ROOT/certs-dev/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_prefer_server_ciphers on;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
        # Resumption: TLS 1.3 tickets (nginx's default, ssl_session_tickets on; their keys are made once in
        # the master, so every worker reads every ticket), no server-side session cache.
        location / {
            proxy_pass http://127.0.0.1:$backend;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_read_timeout 1h;
            proxy_buffering off;
        }
    }
}
NGINX
}

start_server() { # name
    # Peers get a fresh port at every start (base + 100 × starts) so that one whose listener does not
    # set SO_REUSEADDR is not refused by the TIME_WAITs the previous scenario left; wsgate's come
    # from Benchmarks/wsgate-bench.yaml.
    local name=$1 port=${PORT[$1]}
    STARTS=$((STARTS + 1))
    [ "$name" = wsgate ] || port=$((port + 100 * STARTS))
    SERVER_PORT=$port
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "  port $port is already in use (another run on this machine?): $name not benchmarked; try PORT_OFFSET"
        SERVER_PID=""
        return 1
    fi
    if [ "$name" = nginx-tls ]; then
        prepare_nginx_tls "$port" || { SERVER_PID=""; stop_server; return 1; }
    fi
    case $name in
    wsgate) exec "$WSGATE" --config "$WSGATE_CONFIG" ;;
    node-ws) NODE_PATH=/usr/share/nodejs exec node "$BENCH_DIR/peers/node-ws-server.js" "$port" ;;
    python-websockets) exec /usr/bin/python3 "$BENCH_DIR/peers/python-websockets-server.py" "$port" ;;
    python-websockets-uvloop) exec /usr/bin/python3 "$BENCH_DIR/peers/python-websockets-server.py" "$port" --uvloop ;;
    node-ws-deflate) NODE_PATH=/usr/share/nodejs exec node "$BENCH_DIR/peers/node-ws-server.js" "$port" --deflate ;;
    python-websockets-deflate) exec /usr/bin/python3 "$BENCH_DIR/peers/python-websockets-server.py" "$port" --deflate ;;
    libwebsockets) exec libwebsockets-test-server --port="$port" -d 1 ;;
    hummingbird) exec "$HUMMINGBIRD" "$port" ;;
    websockify) exec /usr/bin/python3 /usr/bin/websockify "127.0.0.1:$port" "127.0.0.1:$UPSTREAM_PORT" ;;
    c-epoll-floor) exec "$C_FLOOR" "$port" ;;
    nio-floor) exec "$NIO_FLOOR" "$port" ;;
    nginx-tls) exec /usr/sbin/nginx -c "$LOGDIR/nginx-tls/nginx.conf" -p "$LOGDIR/nginx-tls" ;;
    esac >"$LOGDIR/$name.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "  $name did not start; see $LOGDIR/$name.log"
    tail -5 "$LOGDIR/$name.log"
    return 1
}

stop_server() {
    if [ -n "$BACKEND_PID" ]; then
        kill -TERM "$BACKEND_PID" 2>/dev/null
        wait "$BACKEND_PID" 2>/dev/null
        BACKEND_PID=""
    fi
    [ -n "$SERVER_PID" ] || return 0
    pkill -TERM -P "$SERVER_PID" 2>/dev/null # websockify's per-connection children, nginx's workers
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    sleep 0.5
}
trap 'stop_server' EXIT

# One bench run: appends a record to $OUT. Arguments: scenario server then wsgate-bench's arguments.
# The bench's own CPU (user + system over its whole life, connects included) is recorded so that a
# saturated client can be told from a saturated server.
bench_run() {
    local scenario=$1 server=$2 run=$3
    shift 3
    local log="$LOGDIR/$scenario-$server-$run.txt" tree_before="0 0" tree_after="0 0" load
    local backend_before="0 0" backend_after="0 0"
    # The host's load just before the run (it includes this script's own previous runs).
    read -r load _ </proc/loadavg
    [ -n "$SERVER_PID" ] && tree_before=$("$BENCH_DIR/peers/tree-cpu.py" "$SERVER_PID")
    [ -n "$BACKEND_PID" ] && backend_before=$("$BENCH_DIR/peers/tree-cpu.py" "$BACKEND_PID")
    local t0 t1
    t0=$(date +%s.%N)
    # `time` (bash) reports the child's user and system CPU.
    { TIMEFORMAT='%U %S'; time timeout 120 "$@" >"$log" 2>&1; } 2>"$log.time"
    local rc=$?
    t1=$(date +%s.%N)
    [ -n "$SERVER_PID" ] && tree_after=$("$BENCH_DIR/peers/tree-cpu.py" "$SERVER_PID")
    [ -n "$BACKEND_PID" ] && backend_after=$("$BENCH_DIR/peers/tree-cpu.py" "$BACKEND_PID")
    local json
    json=$(grep '^{' "$log" | tail -1)
    if [ $rc -ne 0 ] || [ -z "$json" ]; then
        echo "  $scenario $server run $run FAILED (exit $rc); see $log"
        tail -3 "$log" | sed 's/^/    /'
        json='{"failed":1}'
    fi
    python3 - "$scenario" "$server" "$run" "$(cat "$log.time")" "$t0" "$t1" "$tree_before" "$tree_after" "$json" "$load" \
        "${BACKEND_PID:+$backend_before}" "${BACKEND_PID:+$backend_after}" >>"$OUT" <<'EOF'
import json, sys
scenario, server, run, cpu, t0, t1, tb, ta, result, load, bb, ba = sys.argv[1:]
user, system = (float(x) for x in cpu.split()[-2:])
record = {"scenario": scenario, "server": server, "run": int(run), "client_cpu_s": round(user + system, 3),
          "client_wall_s": round(float(t1) - float(t0), 3), "fresh_server_per_run": True,
          "server_tree_cpu_s": round(float(ta.split()[0]) - float(tb.split()[0]), 3),
          "loadavg_1m": float(load), "result": json.loads(result)}
if bb and ba:  # nginx-tls: its node ws backend's process tree, apart from the server's
    record["backend_tree_cpu_s"] = round(float(ba.split()[0]) - float(bb.split()[0]), 3)
print(json.dumps(record))
EOF
    python3 - "$OUT" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1]); x = r["result"]
keys = ["messages_per_s", "deliveries_per_s", "missing", "duplicate_or_reordered", "latency_p99_us", "mb_per_s",
        "server_cpu_us_per_msg", "server_cpu_us_per_delivery", "server_cpu_us_per_MB", "server_rss_kib_per_conn",
        "server_cpu_pct", "connect_s"]
print("  %-12s %-26s run %d: %s | client CPU %.1fs in %.1fs" % (r["scenario"], r["server"], r["run"],
      ", ".join("%s=%s" % (k, x[k]) for k in keys if k in x), r["client_cpu_s"], r["client_wall_s"]))
EOF
}

# scenario server -- bench arguments (the URL's port is the server's)
scenario_for() { # scenario server
    local scenario=$1 server=$2 port=$SERVER_PORT
    case $scenario in
    echo) echo "echo --url ws://127.0.0.1:$port/echo --connections 64 --size 64" ;;
    broadcast | broadcast100 | broadcast4000 | saturate*)
        # --wait-for-all: after the window, wait until every receiver has every message (missing = lost).
        # saturate<rate>: one client thread is the limit first at these rates, so two.
        local rate=2000 extra=""
        case $scenario in
        broadcast100) rate=100 ;;
        broadcast4000) rate=4000 extra=" --wait-for-all" ;;
        saturate*) rate=${scenario#saturate} extra=" --wait-for-all --threads 2" ;;
        esac
        if [ "$server" = libwebsockets ]; then
            echo "broadcast --url ws://127.0.0.1:$port/?mirror=bench --subprotocol lws-mirror-protocol --receivers 200 --senders 1 --rate $rate --size 64$extra"
        else
            echo "broadcast --url ws://127.0.0.1:$port/rooms/bench --receivers 200 --senders 1 --rate $rate --size 64$extra"
        fi
        ;;
    bigroom)
        local dialects=rfc6455
        [ "$server" = wsgate ] && dialects=rfc6455,hixie76
        echo "broadcast --url ws://127.0.0.1:$port/rooms/bench --receivers 5000 --senders 1 --rate 20 --size 64 --wait-for-all --dialects $dialects"
        ;;
    idle)
        local dialects=rfc6455
        [ "$server" = wsgate ] && dialects=rfc6455,hixie76
        if [ "$server" = libwebsockets ]; then
            echo "idle --url ws://127.0.0.1:$port/?mirror=idle --subprotocol lws-mirror-protocol --connections 10000 --dialects $dialects"
        else
            echo "idle --url ws://127.0.0.1:$port/echo --connections 10000 --dialects $dialects"
        fi
        ;;
    idle-rfc) echo "idle --url ws://127.0.0.1:$port/echo --connections 10000 --dialects rfc6455" ;;
    # handshakes: idle's connect phase measures handshakes/s.
    hs-rfc6455) echo "idle --url ws://127.0.0.1:$port/echo --connections 10000 --dialects rfc6455" ;;
    hs-hixie76) echo "idle --url ws://127.0.0.1:$port/echo --connections 10000 --dialects hixie76" ;;
    # wss://: wsgate's TLS listener, or nginx-tls's own port.
    hs-rfc6455-tls | hs-rfc6455-tls-resume)
        local tls_port=$WSS_PORT resume=""
        [ "$server" = nginx-tls ] && tls_port=$port
        [ "$scenario" = hs-rfc6455-tls-resume ] && resume=" --tls-resume"
        echo "idle --url wss://127.0.0.1:$tls_port/echo --connections 3000 --dialects rfc6455$resume"
        ;;
    bridge)
        local path=/
        [ "$server" = wsgate ] && path=/bridge
        # Two client threads: the bench is both the WebSocket client and the TCP echo upstream here,
        # and with one thread it, not the server, was the limit (the same for every server).
        echo "bridge --url ws://127.0.0.1:$port$path --connections 4 --size 65536 --in-flight 4 --threads 2 --upstream-port $UPSTREAM_PORT"
        ;;
    esac
}

run_server_scenario() { # scenario server
    # idle measures RSS growth per connection: a server keeps the memory its first run grew, so every
    # idle run gets a freshly started server (idle-rfc too, and the handshakes' hs-*, which start from
    # an empty server like a first run). bigroom runs at least 10 s: at 20 msg/s, enough samples.
    local scenario=$1 server=$2 fresh=0 duration=$DURATION
    case $scenario in idle | idle-rfc | hs-*) fresh=1 ;; esac
    [ "$scenario" = bigroom ] && duration=$((DURATION > 10 ? DURATION : 10))
    start_server "$server" || return
    local args
    for run in $(seq 1 "$RUNS"); do
        if [ $fresh = 1 ] && [ "$run" -gt 1 ]; then
            stop_server
            start_server "$server" || return
        fi
        read -r -a args <<<"$(scenario_for "$scenario" "$server")"
        bench_run "$scenario" "$server" "$run" "$BENCH" "${args[@]}" --duration "$duration" --server-pid "$SERVER_PID"
    done
    stop_server
}

# The cipher alone, once: `openssl speed` on 16 KiB blocks (a full TLS record), no server running.
# Appends a record in bench_run's shape, result {"cipher", "mb_per_s"}; openssl's table is in 1000s of
# bytes per second, its last line "AES-256-GCM  1234567.89k".
cipher_run() { # cipher
    local cipher=$1 load speed
    read -r load _ </proc/loadavg
    speed=$(openssl speed -evp "$cipher" -bytes 16384 -seconds 2 2>/dev/null | awk 'NF { last = $NF } END { print last }')
    if ! [[ $speed =~ ^[0-9.]+k$ ]]; then
        echo "  cipher $cipher: no figure from openssl speed (got '$speed')"
        return
    fi
    python3 - "$cipher" "$speed" "$load" >>"$OUT" <<'EOF'
import json, sys
cipher, speed, load = sys.argv[1:]
record = {"scenario": "cipher", "server": "openssl-" + cipher, "run": 1, "client_cpu_s": 0, "client_wall_s": 1,
          "fresh_server_per_run": False, "server_tree_cpu_s": 0, "loadavg_1m": float(load),
          "result": {"cipher": cipher, "mb_per_s": round(float(speed[:-1]) * 1000 / 1e6, 1)}}
print(json.dumps(record))
EOF
    echo "  cipher       openssl-$cipher: $(awk -v k="${speed%k}" 'BEGIN { printf "%.0f", k / 1000 }') MB/s at 16384-byte blocks"
}

for scenario in "${SCENARIOS[@]}"; do
    echo "== $scenario"
    case $scenario in
    echo)
        # The floors last (not peers, see the header): nio-floor (SwiftNIO's), c-epoll-floor (any server's).
        for s in wsgate node-ws python-websockets python-websockets-uvloop hummingbird nio-floor c-epoll-floor; do
            run_server_scenario echo "$s"
        done
        ;;
    broadcast | broadcast100 | broadcast4000)
        for s in wsgate node-ws python-websockets python-websockets-uvloop libwebsockets hummingbird; do
            run_server_scenario "$scenario" "$s"
        done
        ;;
    idle)
        for s in wsgate node-ws python-websockets python-websockets-uvloop libwebsockets hummingbird; do
            run_server_scenario idle "$s"
        done
        ;;
    idle-rfc) run_server_scenario idle-rfc wsgate ;;
    saturate)
        for rate in 6000 8000 12000; do
            run_server_scenario "saturate$rate" wsgate
        done
        ;;
    bigroom)
        for s in wsgate node-ws python-websockets-uvloop; do
            run_server_scenario bigroom "$s"
        done
        ;;
    handshakes)
        for s in wsgate node-ws; do
            run_server_scenario hs-rfc6455 "$s"
        done
        run_server_scenario hs-hixie76 wsgate
        ;;&
    handshakes | handshakes-tls)
        # TLS: full handshakes, then resumed ones; wsgate's own TLS, then nginx's in front of node ws.
        for s in wsgate nginx-tls; do
            run_server_scenario hs-rfc6455-tls "$s"
            run_server_scenario hs-rfc6455-tls-resume "$s"
        done
        ;;
    bridge)
        run_server_scenario bridge wsgate
        run_server_scenario bridge websockify
        for run in $(seq 1 "$RUNS"); do
            SERVER_PID="" # the raw TCP bench measures its own echo child
            bench_run bridge raw-tcp "$run" "$RAW_TCP" "$DURATION" 65536 4 4 "$RAW_PORT"
        done
        ;;
    wss)
        # Bulk: 4 connections x 64 KiB x 4 in flight through wsgate's /echo, ws:// then wss://.
        start_server wsgate || continue
        for run in $(seq 1 "$RUNS"); do
            for scheme in ws wss; do
                port=${PORT[wsgate]}
                [ $scheme = wss ] && port=$WSS_PORT
                bench_run "bulk-$scheme" wsgate "$run" "$BENCH" echo --url "$scheme://127.0.0.1:$port/echo" \
                    --connections 4 --size 65536 --in-flight 4 --duration "$DURATION" --server-pid "$SERVER_PID"
            done
        done
        # Small messages on the same server: 64 connections x 64 B closed loop, ws:// then wss://.
        for run in $(seq 1 "$RUNS"); do
            for scheme in ws wss; do
                port=${PORT[wsgate]}
                [ $scheme = wss ] && port=$WSS_PORT
                bench_run "echo-$scheme" wsgate "$run" "$BENCH" echo --url "$scheme://127.0.0.1:$port/echo" \
                    --connections 64 --size 64 --duration "$DURATION" --server-pid "$SERVER_PID"
            done
        done
        stop_server
        # What wss:// must add at least: the cipher's own speed (report.py's wss target).
        for cipher in aes-256-gcm aes-128-gcm; do
            cipher_run "$cipher"
        done
        ;;
    deflate)
        # Every run on a fresh server (idle measures RSS growth); "-z" marks runs with compression.
        room="broadcast --receivers 200 --senders 1 --rate 2000 --size 1024 --payload json"
        for run in $(seq 1 "$RUNS"); do
            for z in "" "--compression"; do
                tag=${z:+-z}
                start_server wsgate || continue
                bench_run "deflate-room$tag" wsgate "$run" "$BENCH" $room --url "ws://127.0.0.1:$SERVER_PORT/rooms/bench" $z \
                    --duration "$DURATION" --server-pid "$SERVER_PID"
                stop_server
                # At 2,000 msg/s with compression the bench, inflating 400,000 messages/s, is the limit
                # here; at 500 msg/s on 2 client threads it keeps up, for a like-for-like server figure.
                start_server wsgate || continue
                bench_run "deflate-room500$tag" wsgate "$run" "$BENCH" ${room/--rate 2000/--rate 500} --threads 2 \
                    --url "ws://127.0.0.1:$SERVER_PORT/rooms/bench" $z --duration "$DURATION" --server-pid "$SERVER_PID"
                stop_server
                start_server wsgate || continue
                bench_run "deflate-echo$tag" wsgate "$run" "$BENCH" echo --url "ws://127.0.0.1:$SERVER_PORT/echo" --connections 64 \
                    --size 1024 --payload json $z --duration "$DURATION" --server-pid "$SERVER_PID"
                stop_server
                start_server wsgate || continue
                bench_run "deflate-idle$tag" wsgate "$run" "$BENCH" idle --url "ws://127.0.0.1:$SERVER_PORT/echo" --connections 2000 \
                    --dialects rfc6455 $z --duration 3 --server-pid "$SERVER_PID"
                stop_server
                start_server wsgate || continue
                bench_run "deflate-warm$tag" wsgate "$run" "$BENCH" idle --url "ws://127.0.0.1:$SERVER_PORT/echo" --connections 500 \
                    --dialects rfc6455 --warm-size 1024 $z --duration 3 --server-pid "$SERVER_PID"
                stop_server
            done
            for s in node-ws-deflate python-websockets-deflate; do
                start_server "$s" || continue
                bench_run deflate-room-z "$s" "$run" "$BENCH" $room --url "ws://127.0.0.1:$SERVER_PORT/rooms/bench" --compression \
                    --duration "$DURATION" --server-pid "$SERVER_PID"
                stop_server
            done
        done
        ;;
    *) echo "unknown scenario $scenario" ;;
    esac
done
echo "done: $OUT (python3 Benchmarks/report.py $OUT)"
