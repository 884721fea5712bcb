#!/usr/bin/env bash
# Rewrites the README's configuration reference from the key table (`wsgate reference`).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product wsgate >/dev/null
.build/debug/wsgate reference > /tmp/wsgate-reference.md
python3 - <<'PY'
readme = open("README.md").read()
reference = open("/tmp/wsgate-reference.md").read().rstrip("\n")
start = readme.index("### `(top level)`")
end = readme.index("## Benchmarks")
open("README.md", "w").write(readme[:start] + reference + "\n\n" + readme[end:])
PY
