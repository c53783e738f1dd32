#!/bin/bash
# The authoritative server of the dns proofs, run in dns:authority with this
# folder at /kiln/test: signs kiln.test with the test key (keymgr import-pem,
# kzonesign: fresh signatures at every start), breaks the signature of
# broken.kiln.test by changing its address after signing, checks that kzonesign
# now finds the zone badly signed, and serves it with the image's entrypoint.
set -o errexit -o errtrace -o nounset -o pipefail

here="${KILN_TEST_DIR:-/kiln/test}"
conf=/tmp/sign.conf
zone=/tmp/kiln.test.zone

die() {
  printf 'authority.sh: %s\n' "$1" >&2
  exit 1
}

printf '%s' "server:
    rundir: /tmp
database:
    storage: /tmp
    kasp-db: /tmp/sign-kasp
keystore:
  - id: test
    config: /tmp/sign-keys
policy:
  - id: test
    manual: on
    single-type-signing: on
    algorithm: ecdsap256sha256
    keystore: test
template:
  - id: default
    storage: /tmp
    file: %s.zone
    dnssec-signing: on
    dnssec-policy: test
zone:
  - domain: kiln.test
" > "$conf"

# printf, not cp: the runtime has only bash builtins.
printf '%s\n' "$(< "$here/kiln.test.zone")" > "$zone"
hour_ago=$((EPOCHSECONDS - 3600))
keymgr -c "$conf" kiln.test import-pem "$here/kiln.test.key.pem" ksk=yes zsk=yes \
  created="$hour_ago" publish="$hour_ago" ready="$hour_ago" active="$hour_ago"
kzonesign -c "$conf" kiln.test
kzonesign -c "$conf" --verify kiln.test || die "kiln.test is not signed correctly"

# The signature over broken.kiln.test A stays; the address it signs changes.
signed="$(< "$zone")"
broken="" changed=0
while IFS= read -r line; do
  if [[ "$line" =~ ^broken\.kiln\.test\.[[:space:]]+[0-9]+[[:space:]]+A[[:space:]]+192\.0\.2\.66$ ]]; then
    line="${line/192.0.2.66/192.0.2.99}"
    changed=$((changed + 1))
  fi
  broken+="$line"$'\n'
done <<< "$signed"
[ "$changed" -eq 1 ] || die "expected one A record of broken.kiln.test in the signed zone, found $changed"
printf '%s' "$broken" > "$zone"
if kzonesign -c "$conf" --verify kiln.test > /dev/null 2>&1; then die "kzonesign still accepts the zone after its signature was broken"; fi
printf 'authority.sh: kiln.test signed; broken.kiln.test now answers 192.0.2.99 under the signature of 192.0.2.66\n'

AUTH_ZONES=/tmp exec /boot/entrypoint.sh
