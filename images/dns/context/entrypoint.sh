#!/bin/bash
# dns entrypoint: writes a Knot Resolver configuration (Lua) from environment
# variables into /tmp, then runs kresd as the only process, logging to stdout.
# Bash builtins only (the runtime has no coreutils).
#
#   DNS_LISTEN          0.0.0.0        addresses to listen on (space or comma separated)
#   DNS_PORT            5353           plain DNS, UDP and TCP
#   DNS_DOT             auto           DNS over TLS: on | off | auto (on when the certificate and key are readable)
#   DNS_DOT_PORT        8853           DNS over TLS
#   DNS_TLS_CERT        /certs/tls.crt certificate chain (PEM) for DNS over TLS
#   DNS_TLS_KEY         /certs/tls.key its private key (PEM)
#   DNS_HTTP_PORT       8453           /metrics (Prometheus) and /health, plain HTTP
#   DNS_FORWARD                        upstream resolvers, ADDR[@PORT] or HOST[@PORT] (HOST resolved once at start);
#                                      empty: full recursion from the root servers
#   DNS_FORWARD_TLS                    upstream resolvers over TLS, ADDR[@PORT]#TLS-NAME (port 853 by default)
#   DNS_FORWARD_TLS_CA                 CA bundle (PEM) for DNS_FORWARD_TLS; default: the system bundle
#   DNS_TRUST_ANCHORS   /usr/share/dns/root.key  DNSSEC trust anchors (DS or DNSKEY records, zone file syntax)
#   DNS_INSECURE                       domains not validated (negative trust anchors), e.g. "home.arpa corp.example"
#   DNS_CACHE_DIR       /tmp/kresd-cache  cache folder (tmpfs by default; /data/cache to keep it across restarts)
#   DNS_CACHE_SIZE      100            cache size in MB
#   DNS_LOG_LEVEL       notice         crit | err | warning | notice | info | debug
#   DNS_CONFIG                         a Lua file (e.g. /config/kresd.lua) run after the generated configuration
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'dns: %s\n' "$1" >&2
  exit 64
}

port() { # port NAME VALUE
  if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then
    die "$1 must be a port number (1-65535), not '$2'"
  fi
}

readable() { # readable NAME PATH
  if ! [ -f "$2" ] || ! [ -r "$2" ]; then die "$1=$2 is not a readable file"; fi
}

# Lists are words separated by spaces or commas.
LIST_IFS=$' \t\n,'

# IPv4 or IPv6 address (the shapes kresd accepts; kresd checks the rest).
IP_RE='^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$'
HOST_RE='^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$'

if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then
  exec "$@" # e.g. `kresd --version`
fi

dns_port="${DNS_PORT:-5353}"
dot_port="${DNS_DOT_PORT:-8853}"
http_port="${DNS_HTTP_PORT:-8453}"
dot="${DNS_DOT:-auto}"
cert="${DNS_TLS_CERT:-/certs/tls.crt}"
key="${DNS_TLS_KEY:-/certs/tls.key}"
anchors="${DNS_TRUST_ANCHORS:-/usr/share/dns/root.key}"
cache_dir="${DNS_CACHE_DIR:-/tmp/kresd-cache}"
cache_size="${DNS_CACHE_SIZE:-100}"
log_level="${DNS_LOG_LEVEL:-notice}"
port DNS_PORT "$dns_port"
port DNS_DOT_PORT "$dot_port"
port DNS_HTTP_PORT "$http_port"
case "$dot" in on | off | auto) ;; *) die "DNS_DOT must be on, off or auto, not '$dot'" ;; esac
case "$log_level" in crit | err | warning | notice | info | debug) ;; *) die "DNS_LOG_LEVEL must be crit, err, warning, notice, info or debug, not '$log_level'" ;; esac
[[ "$cache_size" =~ ^[1-9][0-9]*$ ]] || die "DNS_CACHE_SIZE must be a size in MB, not '$cache_size'"
[[ "$cache_dir" =~ ^/[A-Za-z0-9._/-]*$ ]] || die "DNS_CACHE_DIR must be an absolute path of letters, digits and ._-/, not '$cache_dir'"
# kresd makes the cache folder itself, but cannot say why it fails on a read-only root.
cache_parent="${cache_dir%/*}"
if [ -d "$cache_dir" ]; then
  [ -w "$cache_dir" ] || die "DNS_CACHE_DIR=$cache_dir is not writable"
elif ! [ -w "${cache_parent:-/}" ]; then
  die "DNS_CACHE_DIR=$cache_dir: ${cache_parent:-/} is not writable (mount a volume there, or keep the cache in /tmp)"
fi
readable DNS_TRUST_ANCHORS "$anchors"
[ -z "${DNS_CONFIG:-}" ] || readable DNS_CONFIG "$DNS_CONFIG"
[ -z "${DNS_FORWARD_TLS_CA:-}" ] || readable DNS_FORWARD_TLS_CA "$DNS_FORWARD_TLS_CA"
for path in "$anchors" "$cert" "$key" "${DNS_CONFIG:-}" "${DNS_FORWARD_TLS_CA:-}"; do
  # The paths go into Lua strings.
  [[ "$path" != *[\'\\]* ]] || die "file names may not hold ' or \\: '$path'"
done

if [ "$dot" = auto ]; then
  if [ -r "$cert" ] && [ -r "$key" ]; then dot=on; else dot=off; fi
elif [ "$dot" = on ]; then
  readable DNS_TLS_CERT "$cert"
  readable DNS_TLS_KEY "$key"
fi

IFS="$LIST_IFS" read -r -a listen <<< "${DNS_LISTEN:-0.0.0.0}"
[ ${#listen[@]} -gt 0 ] || die "DNS_LISTEN holds no address"
for a in "${listen[@]}"; do [[ "$a" =~ $IP_RE ]] || die "DNS_LISTEN: '$a' is not an IP address"; done

# Upstreams as Lua table entries; host names are resolved by the configuration at start.
IFS="$LIST_IFS" read -r -a forward <<< "${DNS_FORWARD:-}"
IFS="$LIST_IFS" read -r -a forward_tls <<< "${DNS_FORWARD_TLS:-}"
[ ${#forward[@]} -eq 0 ] || [ ${#forward_tls[@]} -eq 0 ] || die "set DNS_FORWARD or DNS_FORWARD_TLS, not both"
upstreams=""
for u in "${forward[@]}"; do
  host="$u" up_port=53
  if [[ "$u" =~ ^(.+)@([0-9]+)$ ]]; then host="${BASH_REMATCH[1]}" up_port="${BASH_REMATCH[2]}"; fi
  port "DNS_FORWARD ($u)" "$up_port"
  [[ "$host" =~ $IP_RE || "$host" =~ $HOST_RE ]] || die "DNS_FORWARD: '$u' is not ADDR[@PORT] or HOST[@PORT]"
  upstreams+="  { host = '$host', port = $up_port },
"
done
for u in "${forward_tls[@]}"; do
  [[ "$u" =~ ^([^#@]+)(@([0-9]+))?#(.+)$ ]] || die "DNS_FORWARD_TLS: '$u' is not ADDR[@PORT]#TLS-NAME"
  host="${BASH_REMATCH[1]}" up_port="${BASH_REMATCH[3]:-853}" name="${BASH_REMATCH[4]}"
  port "DNS_FORWARD_TLS ($u)" "$up_port"
  [[ "$host" =~ $IP_RE || "$host" =~ $HOST_RE ]] || die "DNS_FORWARD_TLS: '$host' in '$u' is not an address or host name"
  [[ "$name" =~ $HOST_RE ]] || die "DNS_FORWARD_TLS: '$name' in '$u' is not a TLS name"
  upstreams+="  { host = '$host', port = $up_port, hostname = '$name' },
"
done

IFS="$LIST_IFS" read -r -a insecure <<< "${DNS_INSECURE:-}"
nta=""
for d in "${insecure[@]}"; do
  [[ "$d" =~ $HOST_RE ]] || die "DNS_INSECURE: '$d' is not a domain name"
  nta+="'$d', "
done

listen_lua=""
for a in "${listen[@]}"; do listen_lua+="'$a', "; done
# The health check asks 127.0.0.1: listen there too when no listed address covers it.
http_extra=""
[[ " ${listen[*]} " == *" 0.0.0.0 "* || " ${listen[*]} " == *" 127.0.0.1 "* ]] || http_extra="'127.0.0.1'"

config=/tmp/kresd.conf
# printf, not cat: the runtime has only bash builtins.
printf '%s' "-- Written by /boot/entrypoint.sh from the DNS_* variables at start.
log_target('stdout')
log_level('$log_level')

local function fail(msg)
  io.stderr:write('dns: ', msg, '\n')
  os.exit(64)
end

-- Cache: LMDB in $cache_dir.
cache.open($cache_size * MB, 'lmdb://$cache_dir')

-- DNSSEC validation is always on; the trust anchors are read-only (RFC 5011
-- updates would need a writable file: a new root key arrives with Debian's dns-root-data).
$([ "$anchors" != /usr/share/dns/root.key ] && printf '%s\n' "trust_anchors.remove('.')" "trust_anchors.add_file('$anchors', true)")
$([ -n "$nta" ] && echo "trust_anchors.set_insecure({ $nta})")

-- The control socket: the metrics are gathered through it (map() over worker.control_path).
-- Its folder is made here: the runtime has no mkdir program.
local ffi = require('ffi')
pcall(ffi.cdef, 'int mkdir(const char *path, unsigned int mode);')
ffi.C.mkdir('/tmp/kresd-control', tonumber('700', 8))
worker.control_path = '/tmp/kresd-control/'
net.listen(worker.control_path .. worker.pid, nil, { kind = 'control' })
" > "$config"

if [ -n "$upstreams" ]; then
  printf '%s' "
-- Upstreams: host names are looked up once, here, through the system resolver.
local socket = require('socket')
local function addresses(u)
  if u.host:find('^[%d.]+$') or u.host:find(':') then return { u.host } end
  local found, err = socket.dns.getaddrinfo(u.host)
  if not found then fail('cannot resolve upstream ' .. u.host .. ': ' .. tostring(err)) end
  local out = {}
  for _, a in ipairs(found) do
    if a.family == 'inet' or a.family == 'inet6' then table.insert(out, a.addr) end
  end
  if #out == 0 then fail('upstream ' .. u.host .. ' has no address') end
  return out
end
local targets = {}
for _, u in ipairs({
$upstreams}) do
  for _, addr in ipairs(addresses(u)) do
    local target = addr .. '@' .. u.port
    if u.hostname then
      target = { target, hostname = u.hostname }
      if '${DNS_FORWARD_TLS_CA:-}' ~= '' then target.ca_file = '${DNS_FORWARD_TLS_CA:-}' end
    end
    table.insert(targets, target)
  end
end
local shown = {}
for _, t in ipairs(targets) do table.insert(shown, type(t) == 'table' and (t[1] .. '#' .. t.hostname) or t) end
print('dns: forwarding to ' .. table.concat(shown, ' '))
policy.add(policy.all(policy.$([ ${#forward_tls[@]} -gt 0 ] && echo TLS_FORWARD || echo FORWARD)(targets)))
" >> "$config"
fi


printf '%s' "
-- /metrics and /health on a plain HTTP listener of its own kind (no web UI).
modules.load('http')
local function health()
  for _, s in ipairs(net.list()) do
    if s.kind == 'dns' then return 'ok\n' end
  end
  return 503, 'no DNS listener'
end
http.config({
  tls = false,
  endpoints = {
    ['/metrics'] = http.prometheus.endpoints['/metrics'],
    ['/health'] = { 'text/plain', health },
  },
}, 'status')

$([ "$dot" = on ] && echo "net.tls('$cert', '$key')")
for _, addr in ipairs({ $listen_lua}) do
  net.listen(addr, $dns_port, { kind = 'dns' })
  net.listen(addr, $http_port, { kind = 'status' })
$([ "$dot" = on ] && echo "  net.listen(addr, $dot_port, { kind = 'tls' })")
end
$([ -n "$http_extra" ] && echo "net.listen($http_extra, $http_port, { kind = 'status' })")
" >> "$config"

if [ -n "${DNS_CONFIG:-}" ]; then
  printf '%s' "
dofile('$DNS_CONFIG')
" >> "$config"
fi

# KRESD_NO_LISTEN: no default listeners; everything is listed above.
KRESD_NO_LISTEN=1 exec kresd --noninteractive --config "$config" /tmp "$@"
