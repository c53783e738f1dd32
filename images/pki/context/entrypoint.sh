#!/bin/bash
# pki entrypoint: with no arguments, pki-init writes step-ca's configuration from the
# environment (README.md), makes the CA on the first start, and execs step-ca.
#
#   entrypoint.sh               serve the CA
#   entrypoint.sh COMMAND...    run COMMAND (e.g. `step-ca version`)
set -o errexit -o nounset -o pipefail
[ $# -gt 0 ] && exec "$@"
exec /usr/bin/pki-init serve
