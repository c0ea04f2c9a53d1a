#!/usr/bin/env bash
# The image and docker-compose.yml, tested end to end: build, start with PostgreSQL and
# Redis, wait for the health checks, then what a client sees: 401 without the key, 200
# with it, the journal row in PostgreSQL through /admin/journal. Needs a Docker daemon
# with the compose plugin; .ci/run calls it only where both exist.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SLUICE_MASTER_KEY="ci-master-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
export SLUICE_KEY="ci-key-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
project="sluice-ci-$$"
down() { docker compose -p "$project" down -v >/dev/null 2>&1 || true; }
trap down EXIT
docker compose -p "$project" up -d --build --wait --wait-timeout 300
base=http://127.0.0.1:4000
body='{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/chat/completions" -H 'content-type: application/json' -d "$body")
[ "$code" = 401 ] || { echo "docker: expected 401 without a key, got $code"; exit 1; }
code=$(curl -s -o /tmp/sluice-docker-answer.json -w '%{http_code}' "$base/v1/chat/completions" \
    -H 'content-type: application/json' -H "authorization: Bearer $SLUICE_KEY" -d "$body")
[ "$code" = 200 ] || { echo "docker: expected 200 with the key, got $code"; cat /tmp/sluice-docker-answer.json; exit 1; }
for _ in $(seq 1 50); do
    if curl -s "$base/admin/journal?key=compose" -H "authorization: Bearer $SLUICE_MASTER_KEY" | grep -q '"key":"compose"'; then
        echo "docker: image, compose, keys, journal in PostgreSQL: ok"
        exit 0
    fi
    sleep 0.2
done
echo "docker: the interaction never reached the journal"
exit 1
