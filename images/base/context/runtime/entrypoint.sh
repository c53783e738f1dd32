#!/bin/bash
# The base runtime's entrypoint: runs the given command, as every app's
# /boot/entrypoint.sh ends by exec-ing its single process. Apps replace this file.
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

if [ $# -eq 0 ]; then
  echo "base runtime: nothing to run (apps put their program in /boot and their own /boot/entrypoint.sh)" >&2
  exit 64
fi
exec "$@"
