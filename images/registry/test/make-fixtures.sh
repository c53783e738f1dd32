#!/bin/bash
# make-fixtures.sh: (re)makes the client proof's fixtures in this folder (run it on
# a host with openssl and apache2-utils; the results are committed):
#   ca/ca.crt, tls/tls.crt, tls/tls.key   a test CA and the registry's certificate for
#                                         the name "service" (hack/make-test-tls.sh)
#   htpasswd                              the user kiln, password kiln-proof-password, bcrypt (htpasswd -B)
# Test fixtures only: nothing here protects anything real.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")"

../../../hack/make-test-tls.sh . "kiln registry test CA"

# Cost 5, not htpasswd's default: the proof runs the arm64 registry under qemu, where
# every request checks the password. Real deployments keep the default (or raise it).
htpasswd -cbB -C 5 htpasswd kiln kiln-proof-password
