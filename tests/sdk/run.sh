#!/usr/bin/env bash
# Runs the official OpenAI and Anthropic Python SDKs against a real `sluice serve`
# (binary given as $1, default target/debug/sluice) in front of a `sluice mock`.
# Installs the SDKs into a private venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../target/debug/sluice}"
venv="${SLUICE_SDK_VENV:-$here/../../target/sdk-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "openai>=1.66,<4" "anthropic>=0.40,<3"
mock_log="$(mktemp)"; log="$(mktemp)"
"$bin" mock --listen 127.0.0.1:0 >"$mock_log" 2>&1 &
mock_pid=$!
trap 'kill $mock_pid $pid 2>/dev/null || true; rm -f "$log" "$mock_log"' EXIT
pid=""
wait_for() { # file pattern
  for _ in $(seq 1 200); do
    found="$(grep -o "$2" "$1" | head -n1 || true)"
    [ -n "$found" ] && { echo "$found"; return 0; }
    sleep 0.05
  done
  return 1
}
mock_root="$(wait_for "$mock_log" 'http://[0-9.:]*')" || { echo "mock did not start:"; cat "$mock_log"; exit 1; }
SLUICE_SDK_MOCK_ROOT="$mock_root" "$bin" serve --config "$here/sluice.toml" >"$log" 2>&1 &
pid=$!
addr="$(wait_for "$log" 'addr=[0-9.:]*' | cut -d= -f2)" || { echo "sluice did not start:"; cat "$log"; exit 1; }
SLUICE_BASE_URL="http://$addr/v1" "$venv/bin/python" "$here/openai_sdk.py"
SLUICE_ROOT_URL="http://$addr" "$venv/bin/python" -W ignore::DeprecationWarning "$here/anthropic_sdk.py"
