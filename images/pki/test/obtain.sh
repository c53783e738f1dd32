#!/bin/bash
# obtain.sh DOMAIN: lego orders a certificate for DOMAIN from the CA's ACME directory,
# answering HTTP-01 itself on port 80 of this container (its network alias is DOMAIN).
# The CA's root is fetched from /roots.pem first (once) and is the only trust lego gets.
# Each order's account, key and certificate stay under /tmp/lego-DOMAIN. Bash builtins and the
# tools image's programs only (it has no coreutils).
set -o errexit -o nounset -o pipefail
domain="$1"
[ -s /tmp/roots.pem ] || curl -fsSk https://service:9000/roots.pem -o /tmp/roots.pem
[[ "$(< /tmp/roots.pem)" == *"BEGIN CERTIFICATE"* ]] || { echo "/roots.pem holds no certificate" >&2; exit 1; }
export LEGO_CA_CERTIFICATES=/tmp/roots.pem
exec lego --server https://service:9000/acme/acme/directory --email "proof@kiln.test" --accept-tos \
  --domains "$domain" --http --http.port :80 --path "/tmp/lego-$domain" run
