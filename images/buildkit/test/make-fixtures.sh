#!/bin/bash
# make-fixtures.sh: (re)makes the client proofs' fixtures in this folder (run it on
# a host with openssl; the results are committed):
#   server/ca.pem, cert.pem, key.pem   buildkitd's /certs: the test CA, a server certificate for "service"
#   client/ca.pem, cert.pem, key.pem   a client certificate signed by the same CA
#   wrong/ca.pem, cert.pem, key.pem    the same CA to trust the server, but a client certificate
#                                      from another CA: buildkitd must refuse it
# Test fixtures only: nothing here protects anything real (the CA keys are thrown away).
set -o errexit -o nounset -o pipefail
cd "$(dirname "$0")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
days=36500 # the fixtures should outlive the project
mkdir -p server client wrong

ca() { # ca NAME: a CA certificate in $work/NAME.pem with its key
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days "$days" \
    -subj "/CN=$1" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$work/$1.key" -out "$work/$1.pem" 2>/dev/null
}
leaf() { # leaf CA DIR CN USAGE [SAN]: DIR/cert.pem and DIR/key.pem signed by CA
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj "/CN=$3" \
    -keyout "$2/key.pem" -out "$work/req.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n%s' "$4" "${5:+subjectAltName=$5
}" > "$work/ext"
  openssl x509 -req -in "$work/req.csr" -CA "$work/$1.pem" -CAkey "$work/$1.key" -CAcreateserial -CAserial "$work/$1.srl" \
    -days "$days" -extfile "$work/ext" -out "$2/cert.pem" 2>/dev/null
  chmod 0644 "$2/key.pem" # read through read-only bind mounts by any uid
}

ca kiln-buildkit-test-ca
ca kiln-buildkit-other-ca
leaf kiln-buildkit-test-ca server service serverAuth "DNS:service,DNS:localhost,IP:127.0.0.1"
leaf kiln-buildkit-test-ca client kiln-client clientAuth
leaf kiln-buildkit-other-ca wrong kiln-intruder clientAuth
for d in server client wrong; do cp "$work/kiln-buildkit-test-ca.pem" "$d/ca.pem"; done
