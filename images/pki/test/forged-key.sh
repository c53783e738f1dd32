#!/bin/bash
# forged-key.sh DOMAIN: lego's registered account (its account URL, sent as `kid`) with its
# key replaced by a new one the CA has never seen: every request it signs must be refused.
# The account's own key is overwritten: run it after the steps that need that account.
set -o errexit -o nounset -o pipefail
domain="$1"
key="/tmp/lego-$domain/accounts/service_9000/proof@kiln.test/keys/proof@kiln.test.key"
[ -f "$key" ]
openssl ecparam -name prime256v1 -genkey -noout -out "$key"
echo "account key replaced: $(openssl ec -in "$key" -pubout 2> /dev/null | openssl sha256 -r)"
export LEGO_CA_CERTIFICATES=/tmp/roots.pem
exec lego --server https://service:9000/acme/acme/directory --email "proof@kiln.test" --accept-tos \
  --domains "$domain" --http --http.port :80 --path "/tmp/lego-$domain" run
