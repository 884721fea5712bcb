#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of every parser that reads peer or operator bytes:
# the HTTP head parser, both hixie frame parsers, the RFC 6455 decoder + assembler, YAML-lite.
#   bash scripts/fuzz.sh [SECONDS]        (default 60; corpus in .fuzz-corpus/)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
swift build -c release --product wsgate-fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING
mkdir -p .fuzz-corpus
.build-fuzz/release/wsgate-fuzz -max_total_time="$seconds" -timeout=5 .fuzz-corpus
