#!/bin/bash
# verify.sh DOMAIN: the certificate lego got for DOMAIN chains to the root from /roots.pem
# (through the intermediate the CA sent), names DOMAIN, and is kept as /tmp/DOMAIN-N.crt
# (N = 1, 2... per call) for the later steps; prints its serial.
set -o errexit -o nounset -o pipefail
domain="$1"
dir="/tmp/lego-$domain/certificates"
openssl verify -CAfile /tmp/roots.pem -untrusted "$dir/$domain.issuer.crt" "$dir/$domain.crt"
openssl x509 -in "$dir/$domain.crt" -noout -ext subjectAltName
n=1
while [ -e "/tmp/$domain-$n.crt" ]; do n=$((n + 1)); done
openssl x509 -in "$dir/$domain.crt" -out "/tmp/$domain-$n.crt"
echo "certificate $n: $(openssl x509 -in "$dir/$domain.crt" -noout -serial)"
