#!/usr/bin/env bash
# Runs the official OpenAI Python SDK against a real `sluice serve` (release or debug
# binary given as $1, default target/debug/sluice). Installs the SDK into a private venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../target/debug/sluice}"
venv="${SLUICE_SDK_VENV:-$here/../../target/sdk-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "openai>=1.40,<4"
log="$(mktemp)"
"$bin" serve --config "$here/sluice.toml" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
addr=""
for _ in $(seq 1 200); do
  addr="$(grep -o 'addr=[0-9.:]*' "$log" | head -n1 | cut -d= -f2 || true)"
  [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "$addr" ] || { echo "sluice did not start:"; cat "$log"; exit 1; }
SLUICE_BASE_URL="http://$addr/v1" "$venv/bin/python" "$here/openai_sdk.py"
