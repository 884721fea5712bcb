#!/usr/bin/env bash
# The test command: installs what the tests need on a fresh Debian 12 machine, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libssl-dev pkg-config zlib1g-dev openssl curl python3 python3-websockets nodejs node-faye-websocket node-ws chromium redis-server systemd node-acorn python3-jwt python3-cryptography)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

swift build                    # the wsgate binary is used by the signal and CLI tests
# One test at a time: the end-to-end suites measure descriptors, memory and timing of the
# whole process, which parallel suites would disturb (the run takes about a minute).
swift test --no-parallel "$@"

# The allocation guards once more in an optimized build, where their strict bounds apply (unoptimized
# code allocates where -O does not). Only for the full run: arguments narrow the run above.
if [ "$#" -eq 0 ]; then
    swift test -c release --scratch-path .build-release-tests --filter AllocationTests
fi
