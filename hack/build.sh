#!/usr/bin/env bash
# The front door: ./hack/build.sh [IMAGE] [kiln build options]
# Sets up the engine when it does not answer, then builds IMAGE (default: debian).
#   ./hack/build.sh                      # the debian base image
#   ./hack/build.sh base:runtime --platform linux/arm64 --load
set -euo pipefail
cd "$(dirname "$0")/.."

image=debian
if [[ $# -gt 0 && $1 != -* ]]; then
  image=$1
  shift
fi

./hack/setup.sh --if-needed
exec bin/kiln build "$image" "$@"
