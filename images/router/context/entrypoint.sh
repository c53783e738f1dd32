#!/bin/bash
# Router entrypoint: writes a Caddyfile from environment variables into /tmp,
# then runs Caddy as the only process. Bash builtins only (the runtime has no coreutils).
#
#   ROUTER_ROUTES       comma-separated HOST=TARGET routes (required unless ROUTER_CONFIG is used)
#                         HOST    a host name (example.home.arpa, *.example.home.arpa) or * for any host
#                         TARGET  http://ADDR:PORT (or ADDR:PORT), several joined with |, load balanced;
#                                 or respond:TEXT for a fixed 200 answer
#   ROUTER_HTTP_PORT    8080      plain HTTP listener
#   ROUTER_HTTPS_PORT   8443      HTTPS listener (ROUTER_TLS=internal)
#   ROUTER_TLS          off       off | internal (certificates from Caddy's own CA, kept in /data when writable)
#   ROUTER_TLS_NAMES              with ROUTER_TLS=internal and a * route: the names (name or *.name, comma-separated)
#                                 the * route answers over HTTPS, each with a certificate made at start
#   ROUTER_TLS_ASK                with ROUTER_TLS=internal and a * route: a URL Caddy asks (GET URL?domain=NAME)
#                                 before it makes a certificate on demand for a name; 200 = yes
#   ROUTER_STATUS_PORT  9180      /health and /metrics
#   ROUTER_METRICS      on        on | off (Prometheus metrics at :ROUTER_STATUS_PORT/metrics)
#   ROUTER_LOG_FORMAT   json      json | console (access and server logs, to stdout)
#   ROUTER_LOG_LEVEL    INFO      DEBUG | INFO | WARN | ERROR
#   ROUTER_CONFIG                 a Caddyfile (e.g. /config/Caddyfile) used as is instead of the variables
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'router: %s\n' "$1" >&2
  exit 64
}

port() { # port NAME VALUE
  if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then
    die "$1 must be a port number (1-65535), not '$2'"
  fi
}

if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then
  exec "$@" # e.g. `caddy version`, `healthcheck 9180 /health`
fi

host_re='^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$'
http_port="${ROUTER_HTTP_PORT:-8080}"
https_port="${ROUTER_HTTPS_PORT:-8443}"
status_port="${ROUTER_STATUS_PORT:-9180}"
tls="${ROUTER_TLS:-off}"
metrics="${ROUTER_METRICS:-on}"
log_format="${ROUTER_LOG_FORMAT:-json}"
log_level="${ROUTER_LOG_LEVEL:-INFO}"
port ROUTER_HTTP_PORT "$http_port"
port ROUTER_HTTPS_PORT "$https_port"
port ROUTER_STATUS_PORT "$status_port"
case "$tls" in off | internal) ;; *) die "ROUTER_TLS must be off or internal, not '$tls'" ;; esac
case "$metrics" in on | off) ;; *) die "ROUTER_METRICS must be on or off, not '$metrics'" ;; esac
case "$log_format" in json | console) ;; *) die "ROUTER_LOG_FORMAT must be json or console, not '$log_format'" ;; esac
case "$log_level" in DEBUG | INFO | WARN | ERROR) ;; *) die "ROUTER_LOG_LEVEL must be DEBUG, INFO, WARN or ERROR, not '$log_level'" ;; esac

# Caddy keeps its state (internal CA, certificates) under XDG_DATA_HOME: the
# /data volume when one is mounted writable, else the tmpfs.
if [ -w /data ]; then export XDG_DATA_HOME=/data; fi

if [ -n "${ROUTER_CONFIG:-}" ]; then
  [ -r "$ROUTER_CONFIG" ] || die "ROUTER_CONFIG=$ROUTER_CONFIG is not a readable file"
  exec caddy run --config "$ROUTER_CONFIG" --adapter caddyfile "$@"
fi

# Which names the * route may get certificates for under ROUTER_TLS=internal: a certificate made on
# the first handshake for whatever name a client sends would let anyone fill /data with
# certificates and have the router vouch for names nobody configured.
tls_names=()
IFS=',' read -r -a names <<< "${ROUTER_TLS_NAMES:-}"
for name in "${names[@]}"; do
  name="${name//[[:space:]]/}"
  [ -n "$name" ] || continue
  [[ "$name" =~ $host_re ]] || die "ROUTER_TLS_NAMES: '$name' is not a host name (name or *.name)"
  tls_names+=("$name")
done
ask="${ROUTER_TLS_ASK:-}"
[ -z "$ask" ] || [[ "$ask" =~ ^https?://[A-Za-z0-9._-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$ ]] ||
  die "ROUTER_TLS_ASK must be an http:// or https:// URL without a query, like http://10.0.0.5:9000/ask, not '$ask'"

[ -n "${ROUTER_ROUTES:-}" ] || die "ROUTER_ROUTES is empty: set it to HOST=TARGET[,HOST=TARGET...], e.g. 'app.home.arpa=http://10.0.0.5:8080'"

if [ "$tls" = internal ]; then scheme=https site_port="$https_port"; else scheme=http site_port="$http_port"; fi

log_block="log {
		output stdout
		format $log_format
		level $log_level
	}"

sites=""
site() { # site ADDRESSES TLS-DIRECTIVE: a site block serving the current route's handler
  sites+="
$1 {
"
  [ -z "$2" ] || sites+="	$2
"
  sites+="	$handler
	log {
		output stdout
		format $log_format
	}
}
"
}
routed=()
any_host=""
IFS=',' read -r -a routes <<< "$ROUTER_ROUTES"
for route in "${routes[@]}"; do
  route="${route#"${route%%[![:space:]]*}"}"
  route="${route%"${route##*[![:space:]]}"}"
  [ -n "$route" ] || continue
  [[ "$route" == *=* ]] || die "route '$route' is not HOST=TARGET"
  host="${route%%=*}"
  target="${route#*=}"
  [ "$host" = "*" ] || [[ "$host" =~ $host_re ]] || die "route '$route': '$host' is not a host name or *"
  [ "$host" = "*" ] && host=""
  if [[ "$target" == respond:* ]]; then
    text="${target#respond:}"
    [[ "$text" != *[\"\\]* ]] || die "route '$route': the respond text may not hold \" or \\"
    handler="respond \"$text\" 200"
  else
    upstreams=()
    IFS='|' read -r -a targets <<< "$target"
    for up in "${targets[@]}"; do
      [[ "$up" =~ ^(https?://)?[A-Za-z0-9._-]+(:[0-9]+)?$ ]] ||
        die "route '$route': '$up' is not an upstream like http://10.0.0.5:8080"
      upstreams+=("$up")
    done
    [ ${#upstreams[@]} -gt 0 ] || die "route '$route' has no upstream"
    handler="reverse_proxy ${upstreams[*]}"
  fi
  if [ "$tls" != internal ]; then
    site "$scheme://$host:$site_port" ""
  elif [ -n "$host" ]; then
    routed+=("$host")
    site "https://$host:$site_port" "tls internal"
  else
    # Any host over TLS: the names listed get certificates at start; others only on demand, each
    # approved by the ask endpoint; with neither, the route could serve no handshake at all.
    any_host=yes
    [ -n "$ask" ] || [ ${#tls_names[@]} -gt 0 ] ||
      die "route '$route': ROUTER_TLS=internal with a * route needs ROUTER_TLS_NAMES (the names it answers over HTTPS) or ROUTER_TLS_ASK (a URL that approves each name before a certificate is made)"
    if [ ${#tls_names[@]} -gt 0 ]; then
      addresses=""
      for name in "${tls_names[@]}"; do addresses+="${addresses:+, }https://$name:$site_port"; done
      site "$addresses" "tls internal"
    fi
    [ -z "$ask" ] || site "https://:$site_port" "tls internal {
		on_demand
	}"
  fi
done
[ -n "$sites" ] || die "ROUTER_ROUTES holds no route"
if [ -z "$any_host" ] && { [ ${#tls_names[@]} -gt 0 ] || [ -n "$ask" ]; }; then
  die "ROUTER_TLS_NAMES and ROUTER_TLS_ASK apply only with ROUTER_TLS=internal and a * route"
fi
for name in "${tls_names[@]}"; do
  for host in "${routed[@]}"; do
    [ "$name" != "$host" ] || die "ROUTER_TLS_NAMES: '$name' has a route of its own; list only names the * route answers"
  done
done

status_metrics=""
[ "$metrics" = on ] && status_metrics="
	handle /metrics {
		metrics
	}"

auto_https="auto_https off"
[ "$tls" = internal ] && auto_https="skip_install_trust"
on_demand=""
[ -z "$ask" ] || on_demand="
	on_demand_tls {
		ask $ask
	}"

config="${TMPDIR:-/tmp}/Caddyfile"
# printf, not cat: the runtime has only bash builtins.
printf '%s' "{
	admin off
	http_port $http_port
	https_port $https_port
	$auto_https$on_demand
	$log_block
}
$sites
http://:$status_port {
	handle /health {
		respond \"ok\" 200
	}$status_metrics
	handle {
		respond \"not found\" 404
	}
}
" > "$config"

exec caddy run --config "$config" --adapter caddyfile "$@"
