#!/usr/bin/env bash
# RFC 6455 conformance: the Autobahn|Testsuite (../shared/autobahn) against wsgate's /echo route.
#   bash scripts/autobahn.sh            # fast: cases 1-7 and 10 (~10 s)
#   bash scripts/autobahn.sh all        # every case but 9.* (~13 min)
#   bash scripts/autobahn.sh limits     # 9.*: large messages and many frames
#   bash scripts/autobahn.sh deflate    # 12.* and 13.*: permessage-deflate (~6 min)
# Opt-in (not part of the test command); exits with the suite's own status (0: nothing failed).
set -euo pipefail
cd "$(dirname "$0")/.."
suite=../shared/autobahn
[ -x "$suite/run.sh" ] || { echo "autobahn.sh: $suite is missing"; exit 3; }
bash "$suite/setup.sh"
swift build -c release --product wsgate
config=$(mktemp /tmp/wsgate-autobahn.XXXXXX.yaml)
cat >"$config" <<'YAML'
listeners:
  - bind: 127.0.0.1:19001
log_level: warning
limits:
  ping_interval_s: 0
routes:
  - path: /echo
    echo: true
    max_message_bytes: 16777216
    send_queue_bytes: 33554432
YAML
.build/release/wsgate --config "$config" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$config"' EXIT
sleep 1
case "${1:-fast}" in
    fast) bash "$suite/run.sh" ws://127.0.0.1:19001/echo "*" "9.*,12.*,13.*" ;;
    all) bash "$suite/run.sh" ws://127.0.0.1:19001/echo ;;
    limits) bash "$suite/run.sh" ws://127.0.0.1:19001/echo "9.*" "" ;;
    deflate) bash "$suite/run.sh" ws://127.0.0.1:19001/echo "12.*,13.*" "" ;;
    *) echo "usage: autobahn.sh [fast|all|limits|deflate]"; exit 2 ;;
esac
