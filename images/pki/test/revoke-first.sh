#!/bin/bash
# revoke-first.sh DOMAIN: step-ca revokes over ACME only a certificate whose serial its
# database holds (acme/api/revoke.go looks it up by serial first): revoking the first
# certificate, after a restart, proves its serial was stored in /data.
set -o errexit -o nounset -o pipefail
domain="$1"
dir="/tmp/lego-$domain"
openssl x509 -in "/tmp/$domain-1.crt" -out "$dir/certificates/$domain.crt"
echo "revoking $(openssl x509 -in "$dir/certificates/$domain.crt" -noout -serial)"
export LEGO_CA_CERTIFICATES=/tmp/roots.pem
exec lego --server https://service:9000/acme/acme/directory --email "proof@kiln.test" --accept-tos \
  --domains "$domain" --path "$dir" revoke
