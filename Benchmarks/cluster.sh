#!/usr/bin/env bash
# Cluster benchmark (issue 16): one room, 200 receivers split over two wsgate on one redis-server, a
# sender on each, beside the same load on one wsgate without cluster. Loopback only.
#
#   bash Benchmarks/cluster.sh                 # RUNS=3 DURATION=5, rates 1000 and saturation
#   RUNS=1 DURATION=3 bash Benchmarks/cluster.sh
#
# Every run appends a JSON line to Benchmarks/results/cluster-<date>.jsonl:
# {"scenario","setup","run","result": <wsgate-bench's JSON line>}. wsgate and wsgate-bench are the
# release builds in .build (swift build -c release --product wsgate / wsgate-bench).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
RATES=${RATES:-"1000 6000"}
PUBLISH_RATE=${PUBLISH_RATE:-30000}
WSGATE=${WSGATE:-"$ROOT/.build/release/wsgate"}
BENCH=${BENCH:-"$ROOT/.build/release/wsgate-bench"}
BASE=${BASE_PORT:-27000}
mkdir -p "$ROOT/Benchmarks/results"
OUT=${OUT:-"$ROOT/Benchmarks/results/cluster-$(date -u +%Y-%m-%dT%H%M%SZ).jsonl"}
WORK=$(mktemp -d /tmp/wsgate-cluster-bench.XXXXXX)
echo "results: $OUT   logs: $WORK"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

redis_port=$((BASE))
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
    --logfile "$WORK/redis.log" --daemonize no &
redis_pid=$!
pids+=("$redis_pid")

gateway() {  # name port admin-port cluster(yes|no)
    local name=$1 port=$2 admin=$3 cluster=$4
    {
        echo "listeners:"
        echo "  - bind: 127.0.0.1:$port"
        echo "admin:"
        echo "  bind: 127.0.0.1:$admin"
        echo "limits:"
        echo "  ping_interval_s: 0"
        [ "$cluster" = yes ] && echo "cluster: { redis: \"redis://127.0.0.1:$redis_port\", prefix: bench }"
        echo "routes:"
        echo "  - path: /room"
        echo "    room: bench"
    } >"$WORK/$name.yaml"
    "$WSGATE" --config "$WORK/$name.yaml" 2>"$WORK/$name.log" &
    pids+=($!)
    eval "${name}_pid=$!"
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$admin/healthz" >"$WORK/$name.health" 2>/dev/null && break
        sleep 0.1
    done
    if [ "$cluster" = yes ]; then
        for _ in $(seq 100); do grep -q "cluster: up" <(curl -sf "http://127.0.0.1:$admin/healthz") && break; sleep 0.1; done
    fi
}

gateway g1 $((BASE + 1)) $((BASE + 11)) yes
gateway g2 $((BASE + 2)) $((BASE + 12)) yes
gateway single $((BASE + 3)) $((BASE + 13)) no

record() {  # scenario setup run json
    printf '{"scenario":"%s","setup":"%s","run":%s,"result":%s}\n' "$1" "$2" "$3" "$4" >>"$OUT"
}

for rate in $RATES; do
    for run in $(seq "$RUNS"); do
        echo "== rate $rate, run $run: cluster (two gateways, one Redis)"
        result=$("$BENCH" broadcast --url "ws://127.0.0.1:$((BASE + 1))/room" --url2 "ws://127.0.0.1:$((BASE + 2))/room" \
            --receivers 200 --senders 2 --rate "$rate" --duration "$DURATION" --wait-for-all \
            --server-pid "$g1_pid" --server2-pid "$g2_pid" --redis-pid "$redis_pid" | tee /dev/stderr | tail -1)
        record "broadcast$rate" cluster "$run" "$result"
        echo "== rate $rate, run $run: one gateway, no cluster"
        result=$("$BENCH" broadcast --url "ws://127.0.0.1:$((BASE + 3))/room" \
            --receivers 200 --senders 2 --rate "$rate" --duration "$DURATION" --wait-for-all --server-pid "$single_pid" | tee /dev/stderr | tail -1)
        record "broadcast$rate" single "$run" "$result"
    done
done

# Publish throughput through Redis: the same room, 2 receivers (one per gateway), 2 senders.
for run in $(seq "$RUNS"); do
    echo "== publishes through Redis, run $run"
    result=$("$BENCH" broadcast --url "ws://127.0.0.1:$((BASE + 1))/room" --url2 "ws://127.0.0.1:$((BASE + 2))/room" \
        --receivers 2 --senders 2 --rate "$PUBLISH_RATE" --duration "$DURATION" --wait-for-all \
        --server-pid "$g1_pid" --server2-pid "$g2_pid" --redis-pid "$redis_pid" | tee /dev/stderr | tail -1)
    record "publish$PUBLISH_RATE" cluster "$run" "$result"
done
echo "results: $OUT"
