#!/bin/bash
# make-test-tls.sh DIR CA-NAME: (re)makes the TLS fixtures of an image's client proofs
# in DIR (run it on a host with openssl; the results are committed):
#   DIR/ca/ca.crt                 a test CA named CA-NAME, trusted by the proofs' clients
#                                 (its key is thrown away)
#   DIR/tls/tls.crt, tls/tls.key  the certificate for the name "service" (the service under
#                                 test), signed by it; the key is world-readable: uid 2000
#                                 reads it through a read-only bind mount
# Test fixtures only: nothing here protects anything real.
set -o errexit -o nounset -o pipefail
[ $# -eq 2 ] || { echo "usage: make-test-tls.sh DIR CA-NAME" >&2; exit 64; }
cd "$1"
mkdir -p ca tls

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
days=36500 # the fixtures should outlive the project

openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days "$days" \
  -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$work/ca.key" -out ca/ca.crt
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj "/CN=service" \
  -keyout tls/tls.key -out "$work/tls.csr"
printf 'subjectAltName=DNS:service\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > "$work/ext"
openssl x509 -req -in "$work/tls.csr" -CA ca/ca.crt -CAkey "$work/ca.key" -CAcreateserial -CAserial "$work/ca.srl" \
  -days "$days" -extfile "$work/ext" -out tls/tls.crt
chmod 0644 tls/tls.key
