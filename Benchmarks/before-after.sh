#!/usr/bin/env bash
# Before/after on run.sh's wsgate scenarios: two wsgate binaries, the same wsgate-bench, runs
# alternating before, after, before, … each on a freshly started server; medians and ranges.
#
#   BEFORE=/path/to/old/wsgate AFTER=.build-bench/release/wsgate bash Benchmarks/before-after.sh
#
# N (default 3) runs per side and scenario. Raw lines: $OUT (JSON, one per run: side, scenario,
# the load average at the start, wsgate-bench's JSON line). Uses Benchmarks/wsgate-bench.yaml.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
N=${N:-3}
BEFORE=${BEFORE:?the older wsgate binary}
AFTER=${AFTER:-"$ROOT/.build-bench/release/wsgate"}
BENCH=${BENCH:-"$ROOT/.build-bench/release/wsgate-bench"}
OUT=${OUT:-"$ROOT/Benchmarks/results/before-after-$(date -u +%Y-%m-%dT%H%M%SZ).jsonl"}
mkdir -p "$(dirname "$OUT")"; : >"$OUT"
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
run() { # side scenario bench-arguments…
    local side=$1 scenario=$2 binary
    shift 2
    if [ "$side" = before ]; then binary=$BEFORE; else binary=$AFTER; fi
    "$binary" --config Benchmarks/wsgate-bench.yaml 2>/dev/null &
    local pid=$!
    sleep 1
    local load result
    load=$(cut -d' ' -f1 /proc/loadavg)
    result=$("$BENCH" "$@" --server-pid "$pid" 2>/dev/null | tail -1)
    kill "$pid"; wait "$pid" 2>/dev/null
    sleep 0.5
    echo "{\"side\":\"$side\",\"scenario\":\"$scenario\",\"load\":$load,\"result\":${result:-null}}" >>"$OUT"
}
for scenario in echo broadcast broadcast100 idle bridge bulk-ws bulk-wss; do
    case $scenario in
    echo) args="echo --url ws://127.0.0.1:18080/echo --connections 64 --size 64 --duration 5" ;;
    broadcast) args="broadcast --url ws://127.0.0.1:18080/rooms/bench --receivers 200 --senders 1 --rate 2000 --size 64 --duration 5" ;;
    broadcast100) args="broadcast --url ws://127.0.0.1:18080/rooms/bench --receivers 200 --senders 1 --rate 100 --size 64 --duration 5" ;;
    idle) args="idle --url ws://127.0.0.1:18080/echo --connections 10000 --dialects rfc6455,hixie76 --duration 3" ;;
    bridge) args="bridge --url ws://127.0.0.1:18080/bridge --connections 4 --size 65536 --in-flight 4 --threads 2 --upstream-port 17001 --duration 5" ;;
    bulk-ws) args="echo --url ws://127.0.0.1:18080/echo --connections 4 --size 65536 --in-flight 4 --duration 5" ;;
    bulk-wss) args="echo --url wss://127.0.0.1:18443/echo --connections 4 --size 65536 --in-flight 4 --duration 5" ;;
    esac
    for _ in $(seq "$N"); do
        # shellcheck disable=SC2086
        run before "$scenario" $args
        # shellcheck disable=SC2086
        run after "$scenario" $args
    done
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
keys = {"echo": ["messages_per_s", "latency_p99_us", "server_cpu_us_per_msg"],
        "broadcast": ["deliveries_per_s", "missing", "duplicate_or_reordered", "latency_p99_us", "server_cpu_us_per_delivery"],
        "broadcast100": ["deliveries_per_s", "missing", "duplicate_or_reordered", "latency_p99_us", "server_cpu_us_per_delivery"],
        "idle": ["handshakes_per_s", "server_rss_kib_per_conn"], "bridge": ["mb_per_s", "server_cpu_us_per_MB"],
        "bulk-ws": ["messages_per_s", "server_cpu_us_per_msg"], "bulk-wss": ["messages_per_s", "server_cpu_us_per_msg"]}
fmt = lambda x: "%.3f" % x if abs(x) < 100 else "%.0f" % x
print("| scenario | figure | before: median (min–max) | after: median (min–max) | after/before |")
print("| --- | --- | ---: | ---: | ---: |")
for scenario, names in keys.items():
    for name in names:
        v = {side: [r["result"][name] for r in rows if r["scenario"] == scenario and r["side"] == side and r["result"] and name in r["result"]]
             for side in ("before", "after")}
        if not v["before"] or not v["after"]:
            continue
        b, a = statistics.median(v["before"]), statistics.median(v["after"])
        print("| %s | %s | %s (%s–%s) | %s (%s–%s) | %s |" % (scenario, name, fmt(b), fmt(min(v["before"])), fmt(max(v["before"])),
              fmt(a), fmt(min(v["after"])), fmt(max(v["after"])), "%.2f×" % (a / b) if b else "—"))
print("load average at the runs' starts: %.2f–%.2f" % (min(r["load"] for r in rows), max(r["load"] for r in rows)))
PY
