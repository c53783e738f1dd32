#!/usr/bin/env bash
# The nightly run: what CI's 45 minutes cannot hold. Every end-to-end file with every
# platform's client proofs (KILN_E2E_ALL_PLATFORMS=1), the nightly files (BuildKit compiled
# from source, the same catalog on three engines), then `kiln verify --all`: every catalog
# target built twice from scratch, digests compared. About 4 hours on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

./hack/setup.sh
npm run typecheck
npm run test:nightly
exec bin/kiln verify --all
