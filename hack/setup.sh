#!/usr/bin/env bash
# Prepares this checkout and host for kiln: node dependencies (npm ci when
# node_modules is missing or older than package-lock.json), then the engine
# (`kiln engine setup`: idempotent, about a second when everything is up).
#   --if-needed   skip engine setup when `kiln engine status` already answers
set -euo pipefail
cd "$(dirname "$0")/.."

if_needed=false
[[ ${1:-} == --if-needed ]] && if_needed=true

if ! command -v node >/dev/null; then
  echo "hack/setup.sh: Node.js 20 or newer is needed; install it first" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  echo "hack/setup.sh: Node.js 20 or newer is needed, this is $(node --version)" >&2
  exit 1
fi

# npm keeps its own record of what it installed in node_modules/.package-lock.json.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  if ! command -v npm >/dev/null; then
    echo "hack/setup.sh: node dependencies are missing or stale and npm is not installed; install npm" >&2
    exit 1
  fi
  echo "hack/setup.sh: installing node dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

if $if_needed && bin/kiln engine status >/dev/null 2>&1; then
  exit 0
fi
exec bin/kiln engine setup
