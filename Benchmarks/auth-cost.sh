#!/usr/bin/env bash
# The cost of checking a JWT at the handshake: handshakes/s with `wsgate-bench idle` (10,000
# connections, 8 source addresses) on an echo route without auth, with HS256 and with RS256, and
# the gateway's CPU per handshake (from /proc): the rate is shared with the bench client on the
# same cores and varies run to run, the CPU per handshake is the gateway's own cost.
#   bash Benchmarks/auth-cost.sh            # 3 runs each; prints a Markdown table
# Release builds in .build-bench; keys and tokens made in a temporary folder (openssl, PyJWT).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-10000}
WORK=$(mktemp -d /tmp/wsgate-auth-cost.XXXXXX)
SCRATCH=${SCRATCH:-"$ROOT/.build-bench"}
swift build -c release --scratch-path "$SCRATCH" --product wsgate >/dev/null
swift build -c release --scratch-path "$SCRATCH" --product wsgate-bench >/dev/null
WSGATE="$SCRATCH/release/wsgate"
BENCH="$SCRATCH/release/wsgate-bench"
head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 48 >"$WORK/hmac.secret"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/rsa.key" 2>/dev/null
openssl pkey -in "$WORK/rsa.key" -pubout -out "$WORK/rsa.pub.pem"
HS=$(/usr/bin/python3 -c "import jwt,time;print(jwt.encode({'exp':int(time.time())+3600},open('$WORK/hmac.secret').read(),algorithm='HS256'))")
RS=$(/usr/bin/python3 -c "import jwt,time;print(jwt.encode({'exp':int(time.time())+3600},open('$WORK/rsa.key').read(),algorithm='RS256'))")
cat >"$WORK/wsgate.yaml" <<YAML
listeners:
  - bind: 127.0.0.1:18090
log_level: warning
limits:
  max_connections: 100000
  ping_interval_s: 0
routes:
  - path: /plain
    echo: true
  - path: /hs
    echo: true
    auth: { jwt: { algorithms: [HS256], key: $WORK/hmac.secret } }
  - path: /rs
    echo: true
    auth: { jwt: { algorithms: [RS256], key: $WORK/rsa.pub.pem } }
YAML
ulimit -n 65536 2>/dev/null || true
echo "| route | handshakes/s (median of $RUNS) | server CPU-µs per handshake (median) | handshakes per server CPU-second | runs (handshakes/s) | runs (CPU-µs) |"
echo "| --- | ---: | ---: | ---: | --- | --- |"
# Runs alternate between the routes (plain, hs, rs, plain, …) so that a change in the machine's
# other load falls on all three alike.
declare -A RATES CPUS
for run in $(seq "$RUNS"); do
    for route in plain hs rs; do
        header=()
        [ "$route" = hs ] && header=(--header "Authorization: Bearer $HS")
        [ "$route" = rs ] && header=(--header "Authorization: Bearer $RS")
        "$WSGATE" --config "$WORK/wsgate.yaml" 2>"$WORK/server-$route-$run.log" &
        pid=$!
        sleep 1
        line=$("$BENCH" idle --url "ws://127.0.0.1:18090/$route" --connections "$CONNECTIONS" --dialects rfc6455 \
            --source-addresses 8 --duration 2 --server-pid "$pid" "${header[@]}" | tail -1)
        kill "$pid"; wait "$pid" 2>/dev/null || true
        read -r rate cpu < <(python3 -c "import json,sys;r=json.loads(sys.argv[1]);print(round(r['handshakes_per_s']), round(r['server_cpu_s']*1e6/r['connections'],1))" "$line")
        RATES[$route]="${RATES[$route]:-} $rate"
        CPUS[$route]="${CPUS[$route]:-} $cpu"
    done
done
median() { printf '%s\n' $1 | sort -g | sed -n "$(( (RUNS + 1) / 2 ))p"; }
for route in plain hs rs; do
    cpu=$(median "${CPUS[$route]}")
    echo "| /$route | $(median "${RATES[$route]}") | $cpu | $(python3 -c "print(round(1e6/$cpu))") |${RATES[$route]} |${CPUS[$route]} |"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$WORK"
