#!/usr/bin/env bash
# Installs moto's server (a local AWS API server, here for Step Functions) into a cached virtualenv on first use
# and prints the path of its moto_server executable.
#
#   scripts/moto-venv.sh        -> /root/.cache/kafka-backup/moto-venv/bin/moto_server
#
# moto is a PyPI package: the venv is ${KAFKA_BACKUP_CACHE:-~/.cache/kafka-backup}/moto-venv, shared by every
# clone; needs python3 with venv. MOTO_VERSION pins the version (test/integration/dr-cli.test.ts relies on its
# Step Functions execution engine, enabled through /moto-api/config).
set -euo pipefail

MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
CACHE="${KAFKA_BACKUP_CACHE:-$HOME/.cache/kafka-backup}"
VENV="$CACHE/moto-venv"

command -v python3 >/dev/null || { echo "moto-venv.sh: python3 is required (apt-get install python3 python3-venv)" >&2; exit 1; }

installed() {
  [[ -x "$VENV/bin/moto_server" ]] &&
    [[ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)" == "$MOTO_VERSION" ]]
}
if ! installed; then
  mkdir -p "$CACHE"
  # One installer at a time (the ground's downloads at the start of `npm test` and a test may both ask); the
  # others wait and find it installed. A venv cannot be moved once made, hence the lock.
  exec 9>"$VENV.lock"
  flock 9
  if ! installed; then
    echo "moto-venv.sh: installing moto[server] $MOTO_VERSION into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV" || { echo "moto-venv.sh: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
    # --no-compile: Python compiles what is imported on first use, not every module (sympy's too) at install.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-compile "moto[server]==$MOTO_VERSION" >&2
  fi
  exec 9>&-
fi
echo "$VENV/bin/moto_server"
