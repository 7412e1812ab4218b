#!/usr/bin/env bash
# cfn-lint over every CloudFormation template of the CDK app (bin/cdk-app.ts with the deployment config).
#
#   scripts/cfn-lint.sh [deployment-config.json]
#   scripts/cfn-lint.sh --install-only      # just install it (the ground's downloads do, at the start of npm test)
#
# cfn-lint is a PyPI package: it is installed on first use into a cached virtualenv
# (${KAFKA_BACKUP_CACHE:-~/.cache/kafka-backup}/cfn-lint-venv, shared by every clone; needs python3 with venv).
# The app is synthesized into a temporary directory, without asset bundling (the templates are the same apart
# from asset hashes), and the script fails when cfn-lint reports an error; warnings are shown but do not fail.
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"
CACHE="${KAFKA_BACKUP_CACHE:-$HOME/.cache/kafka-backup}"
VENV="$CACHE/cfn-lint-venv"
DEPLOYMENT="${1:-deploy/deployment.example.json}"

# The repo's Node (the npm package `node`, 24): the machine's own may be older and cannot run .ts files.
NODE="$PWD/node_modules/.bin/node"
[[ -x "$NODE" ]] || { echo "cfn-lint.sh: $NODE is missing: run npm ci first" >&2; exit 1; }

command -v python3 >/dev/null || { echo "cfn-lint.sh: python3 is required (apt-get install python3 python3-venv)" >&2; exit 1; }

installed() {
  [[ "$("$VENV/bin/cfn-lint" --version 2>/dev/null || true)" == "cfn-lint $CFN_LINT_VERSION" ]]
}
if ! installed; then
  mkdir -p "$CACHE"
  # One installer at a time (see scripts/moto-venv.sh): the others wait and find it installed.
  exec 9>"$VENV.lock"
  flock 9
  if ! installed; then
    echo "cfn-lint.sh: installing cfn-lint $CFN_LINT_VERSION into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV" || { echo "cfn-lint.sh: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
    # --no-compile: Python compiles what is imported on first use, not every module (sympy's too) at install.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-compile "cfn-lint==$CFN_LINT_VERSION" >&2
  fi
  exec 9>&-
fi
[[ "$DEPLOYMENT" == "--install-only" ]] && exit 0

OUT="$(mktemp -d "${TMPDIR:-/tmp}/kafka-backup-cdk-out.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

echo "cfn-lint.sh: synthesizing $DEPLOYMENT into $OUT" >&2
# The app is run the way the cdk CLI runs it (CDK_OUTDIR, CDK_CONTEXT_JSON with cdk.json's context), plus the
# context that skips asset bundling, which the CLI does not let a user set.
CDK_CONTEXT_JSON="$(DEPLOYMENT="$DEPLOYMENT" "$NODE" -e '
  const context = JSON.parse(require("node:fs").readFileSync("cdk.json", "utf8")).context ?? {};
  process.stdout.write(JSON.stringify({ ...context, deployment: process.env.DEPLOYMENT, "aws:cdk:bundling-stacks": [] }));
')" CDK_OUTDIR="$OUT" "$NODE" bin/cdk-app.ts >/dev/null

shopt -s nullglob
templates=("$OUT"/*.template.json)
if [[ ${#templates[@]} -eq 0 ]]; then
  echo "cfn-lint.sh: no templates in $OUT" >&2
  exit 1
fi

status=0
# W3005 (a DependsOn that a GetAtt already implies) is how CDK orders a resource after its role: not a defect.
"$VENV/bin/cfn-lint" --format parseable --ignore-checks W3005 -- "${templates[@]}" || status=$?
# cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 means it failed to run.
if (( status & 1 )) || (( status & 2 )); then
  echo "cfn-lint.sh: cfn-lint found errors (exit $status) in ${#templates[@]} templates" >&2
  exit 1
fi
echo "cfn-lint.sh: ${#templates[@]} templates, no errors$( (( status & 4 )) && echo ' (warnings above)')" >&2
