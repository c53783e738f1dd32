#!/bin/bash
# Registry entrypoint: writes a docker-registry configuration from environment
# variables into /tmp, then runs the registry as the only process, logging to
# stdout. Bash builtins only (the runtime has no coreutils).
#
#   REGISTRY_PORT              5000            the registry API (HTTP, or HTTPS with REGISTRY_TLS=on)
#                                              (the debug listener is :5001: /debug/health and /metrics, plain HTTP)
#   REGISTRY_LISTEN                            the address the API binds (127.0.0.1, ::1, 10.0.0.5); empty: every address
#   REGISTRY_METRICS           on              on | off (Prometheus metrics at :5001/metrics)
#   REGISTRY_TLS               off             on | off
#   REGISTRY_TLS_CERT          /certs/tls.crt  certificate (chain) for REGISTRY_TLS=on
#   REGISTRY_TLS_KEY           /certs/tls.key  its private key
#   REGISTRY_HTPASSWD                          an htpasswd file of bcrypt entries (htpasswd -B), e.g.
#                                              /run/secrets/htpasswd: basic authentication on; empty: off
#   REGISTRY_REALM             kiln registry   the basic authentication realm
#   REGISTRY_HTTP_SECRET_FILE                  a file holding the secret that signs upload state (give the same
#                                              one to every instance behind a load balancer); empty: random per start
#   REGISTRY_DELETE            off             on: manifests and blobs may be deleted through the API
#   REGISTRY_READONLY          off             on: pushes are refused (maintenance, e.g. before garbage-collect)
#   REGISTRY_LOG_LEVEL         info            error | warn | info | debug
#   REGISTRY_LOG_FORMAT        text            text | json
#   REGISTRY_CONFIG                            a config.yml (e.g. /config/config.yml) used as is instead
#
# These variables are removed from the environment before the registry starts:
# it reads REGISTRY_<SECTION>_<KEY> variables as overrides of its own configuration
# (upstream's mechanism, still available for any other key, e.g.
# REGISTRY_NOTIFICATIONS_...), and ours are not configuration keys.
#
#   entrypoint.sh                       serve the registry
#   entrypoint.sh garbage-collect   remove the blobs no manifest references from /data (while nothing
#                                   pushes: the serving instance stopped or restarted with REGISTRY_READONLY=on)
#   entrypoint.sh COMMAND...        run COMMAND (e.g. `docker-registry --version`)
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'registry: %s\n' "$1" >&2
  exit 64
}

onoff() { # onoff NAME VALUE
  case "$2" in on | off) ;; *) die "$1 must be on or off, not '$2'" ;; esac
}

readable() { # readable NAME PATH
  [ -n "$2" ] || die "$1 is empty"
  { [ -f "$2" ] && [ -r "$2" ]; } || die "$1=$2 is not a readable file (mount it read-only, e.g. -v ./${2##*/}:$2:ro)"
}

# A YAML single-quoted scalar: only ' needs doubling.
quoted() { printf "'%s'" "${1//\'/\'\'}"; }

mode=serve
if [ $# -gt 0 ]; then
  case "$1" in
    garbage-collect) mode=garbage-collect; shift ;;
    -*) die "unknown option $1 (run with no arguments to serve, or with garbage-collect)" ;;
    *) exec "$@" ;;
  esac
fi

own=(REGISTRY_PORT REGISTRY_LISTEN REGISTRY_METRICS REGISTRY_TLS REGISTRY_TLS_CERT REGISTRY_TLS_KEY REGISTRY_HTPASSWD REGISTRY_REALM
  REGISTRY_HTTP_SECRET_FILE REGISTRY_DELETE REGISTRY_READONLY REGISTRY_LOG_LEVEL REGISTRY_LOG_FORMAT REGISTRY_CONFIG)

run_registry() { # run_registry CONFIG
  unset "${own[@]}"
  if [ "$mode" = garbage-collect ]; then
    # Not --delete-untagged: docker-registry 2.8 then also deletes the platform
    # manifests of multi-platform images (they carry no tag of their own).
    [ $# -eq 1 ] || die "garbage-collect takes no arguments, not '${*:2}'"
    exec docker-registry garbage-collect "$1" 2>&1
  fi
  exec docker-registry serve "$1" 2>&1
}

if [ -n "${REGISTRY_CONFIG:-}" ]; then
  readable REGISTRY_CONFIG "$REGISTRY_CONFIG"
  run_registry "$REGISTRY_CONFIG" "$@"
fi

port="${REGISTRY_PORT:-5000}"
listen="${REGISTRY_LISTEN:-}"
metrics="${REGISTRY_METRICS:-on}"
tls="${REGISTRY_TLS:-off}"
cert="${REGISTRY_TLS_CERT:-/certs/tls.crt}"
key="${REGISTRY_TLS_KEY:-/certs/tls.key}"
htpasswd="${REGISTRY_HTPASSWD:-}"
realm="${REGISTRY_REALM:-kiln registry}"
secret_file="${REGISTRY_HTTP_SECRET_FILE:-}"
delete="${REGISTRY_DELETE:-off}"
readonly="${REGISTRY_READONLY:-off}"
log_level="${REGISTRY_LOG_LEVEL:-info}"
log_format="${REGISTRY_LOG_FORMAT:-text}"

if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  die "REGISTRY_PORT must be a port number (1-65535), not '$port'"
fi
[ "$port" != 5001 ] || die "REGISTRY_PORT cannot be 5001: that is the debug listener (health, metrics)"
# An address literal; IPv6 goes in brackets in the listen address.
case "$listen" in
  "") addr=":$port" ;;
  *:*) [[ "$listen" =~ ^[0-9A-Fa-f:]+$ ]] || die "REGISTRY_LISTEN must be an IP address (127.0.0.1, ::1, 10.0.0.5), not '$listen'"; addr="[$listen]:$port" ;;
  *) [[ "$listen" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "REGISTRY_LISTEN must be an IP address (127.0.0.1, ::1, 10.0.0.5), not '$listen'"; addr="$listen:$port" ;;
esac
onoff REGISTRY_METRICS "$metrics"
onoff REGISTRY_TLS "$tls"
onoff REGISTRY_DELETE "$delete"
onoff REGISTRY_READONLY "$readonly"
case "$log_level" in error | warn | info | debug) ;; *) die "REGISTRY_LOG_LEVEL must be error, warn, info or debug, not '$log_level'" ;; esac
case "$log_format" in text | json) ;; *) die "REGISTRY_LOG_FORMAT must be text or json, not '$log_format'" ;; esac
{ [[ "$realm" =~ ^[[:print:]]+$ ]] && [[ "$realm" != *[\"\\]* ]]; } || die "REGISTRY_REALM must be printable text without \" or \\"

if [ "$tls" = on ]; then
  readable REGISTRY_TLS_CERT "$cert"
  readable REGISTRY_TLS_KEY "$key"
fi

if [ -n "$htpasswd" ]; then
  readable REGISTRY_HTPASSWD "$htpasswd"
  # docker-registry 2.8 checks passwords with bcrypt only: any other entry could never log in.
  n=0 users=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line="${line%$'\r'}"
    [ -n "$line" ] || continue
    [[ "$line" =~ ^[^:[:space:]]+:\$2[aby]\$[0-9]{2}\$.{53}$ ]] ||
      die "REGISTRY_HTPASSWD: line $n of $htpasswd is not USER:BCRYPT-HASH (make entries with htpasswd -B)"
    users=$((users + 1))
  done < "$htpasswd"
  [ "$users" -gt 0 ] || die "REGISTRY_HTPASSWD: $htpasswd holds no user"
fi

secret=""
if [ -n "$secret_file" ]; then
  readable REGISTRY_HTTP_SECRET_FILE "$secret_file"
  IFS= read -r secret < "$secret_file" || true
  secret="${secret%$'\r'}"
  [ "${#secret}" -ge 16 ] || die "REGISTRY_HTTP_SECRET_FILE: the first line of $secret_file must hold a secret of 16 characters or more"
fi

# Storage lives in /data: a volume writable by uid 2000 (docker gives a new named
# volume the image's owner). A read-only registry may run on a read-only mount.
if [ "$readonly" = off ] && ! [ -w /data ]; then
  die "/data is not writable by uid ${UID}: mount a volume there (e.g. -v registry-data:/data)"
fi

if [ "$readonly" = on ]; then purging=false; else purging=true; fi
maintenance="
  maintenance:
    uploadpurging:
      enabled: $purging
      age: 168h
      interval: 24h
      dryrun: false
    readonly:
      enabled: $([ "$readonly" = on ] && echo true || echo false)"

auth=""
[ -n "$htpasswd" ] && auth="
auth:
  htpasswd:
    realm: $(quoted "$realm")
    path: $(quoted "$htpasswd")"

tls_block=""
[ "$tls" = on ] && tls_block="
  tls:
    certificate: $(quoted "$cert")
    key: $(quoted "$key")
    minimumtls: tls1.2"

secret_line=""
[ -n "$secret" ] && secret_line="
  secret: $(quoted "$secret")"

prometheus="false"
[ "$metrics" = on ] && prometheus="true"

# draintimeout: on SIGTERM the registry stops taking requests and lets running
# ones finish for up to 5 s (within docker stop's default 10 s); without it the
# Go runtime's default exit leaves an emulated (qemu) registry hanging until SIGKILL.
config="${TMPDIR:-/tmp}/registry.yml"
# The file may hold the HTTP secret: readable by this user only.
umask 077
printf '%s\n' "version: 0.1
log:
  level: $log_level
  formatter: $log_format
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: /data
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: $([ "$delete" = on ] && echo true || echo false)$maintenance
http:
  addr: $addr$secret_line
  draintimeout: 5s
  headers:
    X-Content-Type-Options: [nosniff]$tls_block
  debug:
    addr: :5001
    prometheus:
      enabled: $prometheus
      path: /metrics$auth
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3" > "$config"

# Serving writes to whoever reaches the port is a choice the operator should see made: said once, at
# start, in the log (the registry still starts: a build network's cache may want exactly this).
case "$listen" in 127.* | ::1) loopback=yes ;; *) loopback=no ;; esac
if [ -z "$htpasswd" ] && [ "$readonly" = off ] && [ "$loopback" = no ]; then
  printf 'registry: WARNING: no authentication: anyone who reaches port %s can push images and overwrite tags%s (REGISTRY_HTPASSWD is empty, the API listens on %s); set REGISTRY_HTPASSWD, or REGISTRY_READONLY=on, or REGISTRY_LISTEN=127.0.0.1 for this host only\n' \
    "$port" "$([ "$delete" = on ] && echo ', and delete them')" "${listen:-every address}" >&2
fi

run_registry "$config" "$@"
