#!/usr/bin/env bash
# Runs every test: sets up the engine as needed, then typecheck + unit + end-to-end.
# Extra arguments go to vitest (both tiers), e.g. ./hack/test.sh src/engine
set -euo pipefail
cd "$(dirname "$0")/.."

./hack/setup.sh
if [[ $# -eq 0 ]]; then
  exec npm test
fi
npm run typecheck
exec npx vitest run "$@"
