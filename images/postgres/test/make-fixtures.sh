#!/bin/bash
# make-fixtures.sh: (re)makes the client proofs' fixtures in this folder (run it on
# a host with openssl; the results are committed):
#   ca/ca.crt, tls/tls.crt, tls/tls.key   a test CA and the server's certificate for the
#                                         name "service" (hack/make-test-tls.sh)
#   password                              the superuser's password
# Test fixtures only: nothing here protects anything real.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")"

../../../hack/make-test-tls.sh . "kiln postgres test CA"
printf 'postgres-proof-password\n' > password
