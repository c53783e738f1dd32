#!/bin/bash
# apt-cache entrypoint: writes an apt-cacher-ng configuration from environment
# variables into /tmp, then runs apt-cacher-ng in the foreground as the only
# process. Its transfer log goes to stdout, its error log to stderr (the log
# folder /tmp/apt-cache/log holds links to /dev/stdout and /dev/stderr, and the
# reports of maintenance jobs). Bash builtins only (the runtime has no
# coreutils), and bash's loadable mkdir and ln.
#
#   APT_CACHE_PORT             3142                               the proxy and the report page (/acng-report.html)
#   APT_CACHE_UPSTREAM         http://deb.debian.org/debian       Debian mirror(s) the cache fetches from, tried in
#                                                                 order (space-separated URLs); clients use
#                                                                 http://HOST:3142/debian, or the cache as HTTP
#                                                                 proxy for any Debian mirror host name
#   APT_CACHE_SECURITY_UPSTREAM http://deb.debian.org/debian-security  the same for http://HOST:3142/debian-security
#   APT_CACHE_DEBIAN_ONLY      on         on: only the two Debian archives above are served; off: as an HTTP proxy,
#                                         package files of any other repository too (fetched from the host asked for)
#   APT_CACHE_OFFLINE          off        on: never contact an upstream; serve what the cache holds (index files too)
#   APT_CACHE_EXPIRE_DAYS      4          expiration keeps files no index references for this many days
#   APT_CACHE_UPSTREAM_PROXY              an HTTP proxy for the upstream fetches (http://host:port, no credentials)
#   APT_CACHE_UPSTREAM_PROXY_FILE         a file holding that proxy URL with credentials (http://user:pass@host:port)
#   APT_CACHE_VERBOSE          off        on: log more (apt-cacher-ng -v: errors and retries in detail)
#   APT_CACHE_ADMIN_FILE                  a file whose first line is USER:PASSWORD: the login the report page's
#                                         maintenance actions ask for; empty: a random one per start that only
#                                         acngtool inside the container knows (docker exec ... acngtool maint)
#   APT_CACHE_CONFIG                      a configuration folder (e.g. /config) used as is instead of the variables
#
#   entrypoint.sh              serve
#   entrypoint.sh COMMAND...   run COMMAND (e.g. `apt-cacher-ng -h`)
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'apt-cache: %s\n' "$1" >&2
  exit 64
}

onoff() { # onoff NAME VALUE
  case "$2" in on | off) ;; *) die "$1 must be on or off, not '$2'" ;; esac
}

# An http(s) URL without blanks or the configuration's ';' and '#'.
url_re='^https?://[^[:space:];#]+$'

urls() { # urls NAME VALUE: one or more space-separated http(s) URLs
  local - u n=0
  set -f
  for u in $2; do
    [[ "$u" =~ $url_re ]] || die "$1: '$u' is not an http:// or https:// URL"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || die "$1 is empty"
}

if [ $# -gt 0 ]; then
  case "$1" in
    -*) die "unknown option $1 (run with no arguments to serve)" ;;
    *) exec "$@" ;;
  esac
fi

own=(APT_CACHE_PORT APT_CACHE_UPSTREAM APT_CACHE_SECURITY_UPSTREAM APT_CACHE_DEBIAN_ONLY APT_CACHE_OFFLINE
  APT_CACHE_EXPIRE_DAYS APT_CACHE_UPSTREAM_PROXY APT_CACHE_UPSTREAM_PROXY_FILE APT_CACHE_VERBOSE APT_CACHE_CONFIG
  APT_CACHE_ADMIN_FILE)

# The cache lives in /data: a volume writable by uid 2000 (docker gives a new
# named volume the image's owner).
[ -w /data ] || die "/data is not writable by uid ${UID}: mount a volume there (e.g. -v apt-cache:/data)"

if [ -n "${APT_CACHE_CONFIG:-}" ]; then
  { [ -d "$APT_CACHE_CONFIG" ] && [ -r "$APT_CACHE_CONFIG" ]; } || die "APT_CACHE_CONFIG=$APT_CACHE_CONFIG is not a readable folder"
  conf="$APT_CACHE_CONFIG"
  unset "${own[@]}"
  exec apt-cacher-ng -c "$conf" ForeGround=1
fi

port="${APT_CACHE_PORT:-3142}"
upstream="${APT_CACHE_UPSTREAM:-http://deb.debian.org/debian}"
security="${APT_CACHE_SECURITY_UPSTREAM:-http://deb.debian.org/debian-security}"
debian_only="${APT_CACHE_DEBIAN_ONLY:-on}"
offline="${APT_CACHE_OFFLINE:-off}"
expire_days="${APT_CACHE_EXPIRE_DAYS:-4}"
proxy="${APT_CACHE_UPSTREAM_PROXY:-}"
proxy_file="${APT_CACHE_UPSTREAM_PROXY_FILE:-}"
verbose="${APT_CACHE_VERBOSE:-off}"
admin_file="${APT_CACHE_ADMIN_FILE:-}"

if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1025 ] || [ "$port" -gt 65535 ]; then
  die "APT_CACHE_PORT must be an unprivileged port number (1025-65535), not '$port'"
fi
urls APT_CACHE_UPSTREAM "$upstream"
urls APT_CACHE_SECURITY_UPSTREAM "$security"
onoff APT_CACHE_DEBIAN_ONLY "$debian_only"
onoff APT_CACHE_OFFLINE "$offline"
onoff APT_CACHE_VERBOSE "$verbose"
[[ "$expire_days" =~ ^[0-9]+$ ]] || die "APT_CACHE_EXPIRE_DAYS must be a number of days, not '$expire_days'"

if [ -n "$proxy" ]; then
  [ -z "$proxy_file" ] || die "set APT_CACHE_UPSTREAM_PROXY or APT_CACHE_UPSTREAM_PROXY_FILE, not both"
  [[ "$proxy" != *@* ]] || die "APT_CACHE_UPSTREAM_PROXY must not hold credentials (give them in a file: APT_CACHE_UPSTREAM_PROXY_FILE)"
fi
if [ -n "$proxy_file" ]; then
  { [ -f "$proxy_file" ] && [ -r "$proxy_file" ]; } || die "APT_CACHE_UPSTREAM_PROXY_FILE=$proxy_file is not a readable file (mount it read-only)"
  IFS= read -r proxy < "$proxy_file" || true
  proxy="${proxy%$'\r'}"
fi
if [ -n "$proxy" ]; then
  [[ "$proxy" =~ $url_re ]] || die "the upstream proxy must be an http:// or https:// URL (http://[user:pass@]host:port)"
fi

# The report page's maintenance actions (expiration, deleting files, import, mirroring whole archives)
# run for anyone when apt-cacher-ng has no AdminAuth. With one they answer 401 without that login; the
# statistics page itself (the healthcheck's) stays readable. No login given: a random one, kept in
# the 0600 security.conf, where acngtool inside the container reads it.
if [ -n "$admin_file" ]; then
  { [ -f "$admin_file" ] && [ -r "$admin_file" ]; } || die "APT_CACHE_ADMIN_FILE=$admin_file is not a readable file (mount it read-only)"
  IFS= read -r admin < "$admin_file" || true
  admin="${admin%$'\r'}"
  [[ "$admin" =~ ^[^:[:space:]#]+:[^[:space:]#]{8,}$ ]] ||
    die "APT_CACHE_ADMIN_FILE: the first line of $admin_file must be USER:PASSWORD (a password of 8 characters or more, no blanks or #)"
else
  chars=ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789
  admin="local:"
  for ((i = 0; i < 32; i++)); do admin+="${chars:SRANDOM % ${#chars}:1}"; done
fi

# The Debian archives are remapped: clients ask for /debian/... (or, through
# the proxy, for any known Debian mirror: upstream's own list deb_mirror*.gz),
# and the files are cached under debrep/ whichever name was used, fetched from
# the upstream(s) configured here.
b() { if [ "$1" = on ]; then echo 1; else echo 0; fi; }
enable -f /usr/lib/bash/mkdir mkdir
enable -f /usr/lib/bash/ln ln
dir="${TMPDIR:-/tmp}/apt-cache"
mkdir -p "$dir/log" 2>/dev/null || die "cannot create $dir/log: run with a writable tmpfs on ${TMPDIR:-/tmp} (--tmpfs /tmp)"
ln -sf /dev/stdout "$dir/log/apt-cacher.log"
ln -sf /dev/stderr "$dir/log/apt-cacher.err"
ln -sf /dev/stderr "$dir/log/apt-cacher.dbg"
umask 077
printf '%s\n' "# written by /boot/entrypoint.sh from the APT_CACHE_* variables
CacheDir: /data
LogDir: $dir/log
SupportDir: /usr/lib/apt-cacher-ng
SocketPath: $dir/socket
Port: $port
ForeGround: 1
UnbufferLogs: 1
VerboseLog: 1
ReportPage: acng-report.html
Remap-debrep: file:deb_mirror*.gz /debian ; $upstream
Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security /debian-security cdn-fastly.deb.debian.org/debian-security ; $security
ForceManaged: $(b "$debian_only")
Offlinemode: $(b "$offline")
ExThreshold: $expire_days
FollowIndexFileRemoval: 1
CAfile: /etc/ssl/certs/ca-certificates.crt" > "$dir/acng.conf"
# The proxy and the admin login are credentials: a file of their own (mode 0600), as Debian's security.conf.
{
  printf 'AdminAuth: %s\n' "$admin"
  if [ -n "$proxy" ]; then printf 'Proxy: %s\n' "$proxy"; fi
} > "$dir/security.conf"
unset admin

unset "${own[@]}"
args=(-c "$dir")
[ "$verbose" = off ] || args+=(-v)
exec apt-cacher-ng "${args[@]}"
