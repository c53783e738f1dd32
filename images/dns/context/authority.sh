#!/bin/bash
# dns:authority entrypoint: writes a Knot DNS configuration into /tmp that serves
# every zone file of a folder as written (signed or not), then runs knotd as the
# only process, logging to stdout. Bash builtins only (the runtime has no coreutils).
#
#   AUTH_LISTEN     0.0.0.0        addresses to listen on (space or comma separated)
#   AUTH_PORT       5300           DNS, UDP and TCP
#   AUTH_ZONES      /config/zones  folder of zone files NAME.zone (zone NAME, e.g. home.arpa.zone)
#   AUTH_LOG_LEVEL  info           critical | error | warning | notice | info | debug
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'authority: %s\n' "$1" >&2
  exit 64
}

if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then
  exec "$@" # e.g. `knotd --version`, `keymgr ...`, `kzonecheck ...`
fi

port="${AUTH_PORT:-5300}"
zones="${AUTH_ZONES:-/config/zones}"
log_level="${AUTH_LOG_LEVEL:-info}"
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  die "AUTH_PORT must be a port number (1-65535), not '$port'"
fi
case "$log_level" in critical | error | warning | notice | info | debug) ;; *) die "AUTH_LOG_LEVEL must be critical, error, warning, notice, info or debug, not '$log_level'" ;; esac
[[ "$zones" =~ ^/[A-Za-z0-9._/-]*$ ]] || die "AUTH_ZONES must be an absolute path of letters, digits and ._-/, not '$zones'"
IFS=$' \t\n,' read -r -a listen <<< "${AUTH_LISTEN:-0.0.0.0}"
[ ${#listen[@]} -gt 0 ] || die "AUTH_LISTEN holds no address"
addresses=""
for a in "${listen[@]}"; do
  [[ "$a" =~ ^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$ ]] || die "AUTH_LISTEN: '$a' is not an IP address"
  addresses+="${addresses:+, }$a@$port"
done

zone_list=""
if [ -d "$zones" ]; then
  for file in "$zones"/*.zone; do
    [ -e "$file" ] || continue
    name="${file##*/}"
    name="${name%.zone}"
    [[ "$name" =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]] || die "$file: '$name' is not a zone name"
    zone_list+="${zone_list:-zone:
}  - domain: $name
"
  done
fi
[ -n "$zone_list" ] || printf 'authority: no zone files (%s/*.zone): serving nothing\n' "$zones"

config=/tmp/knot.conf
# The zone files are read-only: nothing is written back to them, no journal.
printf '%s' "server:
    rundir: /tmp
    listen: [ $addresses ]

log:
  - target: stdout
    any: $log_level

database:
    storage: /tmp

template:
  - id: default
    storage: $zones
    file: %s.zone
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off

$zone_list" > "$config"

exec knotd --config "$config" "$@"
