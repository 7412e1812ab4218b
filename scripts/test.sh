#!/usr/bin/env bash
# `npm test`: lint, type-check, unit tests, cfn-lint, integration tests.
#
# What the later steps download or build on a first run (the Kafka jars, the versitygw build, the Schema Registry
# build, the cfn-lint and moto venvs: `npm run ground -- fetch`) starts at once in the background, all pieces at the
# same time, while lint, type-check and the unit tests run; its output goes to a log that is shown when it is needed. With everything
# cached that costs a second.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG="$(mktemp "${TMPDIR:-/tmp}/kafka-backup-fetch.XXXXXX.log")"
# Its own process group, so that a failing step stops it with everything it started (mvn, go, pip).
setsid node tools/ground/cli.ts fetch >"$LOG" 2>&1 &
FETCH=$!
trap 'kill -- -"$FETCH" 2>/dev/null || true; rm -f "$LOG"' EXIT
echo "npm test: downloads for the integration tests run in the background (log: $LOG)" >&2

biome check .
tsc --noEmit
vitest run --project unit

# What the downloads said so far (without the every-10-s progress lines), then, while they go on, all they say.
seen=$(wc -l <"$LOG")
head -n "$seen" "$LOG" | grep -v '^\[ground\]   ' | sed 's/^/  /' >&2 || true
if kill -0 "$FETCH" 2>/dev/null; then
  echo "npm test: waiting for the downloads to finish..." >&2
  tail -n +"$((seen + 1))" -f --pid="$FETCH" "$LOG" | sed 's/^/  /' >&2
fi
status=0
wait "$FETCH" || status=$?
trap 'rm -f "$LOG"' EXIT
if (( status != 0 )); then
  echo "npm test: downloading what the integration tests need failed (above)" >&2
  exit "$status"
fi

bash scripts/cfn-lint.sh
vitest run --project integration
