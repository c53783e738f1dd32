#!/bin/bash
# make-fixtures.sh: (re)makes the client proof's fixtures in this folder (run it on
# a host with openssl and apache2-utils; the results are committed):
#   ca/ca.crt                 a test CA, trusted by the proof's clients (its key is thrown away)
#   tls/tls.crt, tls/tls.key  the registry's certificate for the name "service", signed by it
#   htpasswd                  the user kiln, password kiln-proof-password, bcrypt (htpasswd -B)
# Test fixtures only: nothing here protects anything real.
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
days=36500 # the fixtures should outlive the project

openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days "$days" \
  -subj "/CN=kiln registry test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$work/ca.key" -out ca/ca.crt
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj "/CN=service" \
  -keyout tls/tls.key -out "$work/tls.csr"
printf 'subjectAltName=DNS:service\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > "$work/ext"
openssl x509 -req -in "$work/tls.csr" -CA ca/ca.crt -CAkey "$work/ca.key" -CAcreateserial -CAserial "$work/ca.srl" \
  -days "$days" -extfile "$work/ext" -out tls/tls.crt
chmod 0644 tls/tls.key # read by uid 2000 through a read-only bind mount

# Cost 5, not htpasswd's default: the proof runs the arm64 registry under qemu, where
# every request checks the password. Real deployments keep the default (or raise it).
htpasswd -cbB -C 5 htpasswd kiln kiln-proof-password
