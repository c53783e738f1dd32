#!/bin/bash
# mariadb entrypoint: on the first start makes the system tables in /data (the SQL
# files mariadb-install-db would use, fed to `mariadbd --bootstrap`) with the root
# password from a secret file, writes the configuration into /tmp, then runs
# mariadbd as the only process, logging to stderr. SIGTERM (docker stop) is
# mariadbd's own clean shutdown.
# Bash builtins only (the runtime has no coreutils; mkdir is bash's loadable).
#
#   MARIADB_PORT                  3306            the TCP port (above 1023)
#   MARIADB_ROOT_PASSWORD_FILE    /run/secrets/mariadb-root-password
#                                                 root's password (its first line), read when the system
#                                                 tables are made (later starts do not read it); when the
#                                                 default file is absent a random one is written to
#                                                 /data/mariadb-root-password; a file named here must be readable
#   MARIADB_DATABASE                              a database made with the system tables
#   MARIADB_ROOT_HOST             (loopback)      where else root may log in from over TCP, as a MariaDB host
#                                                 pattern (%, 10.0.0.%, 10.0.0.0/255.255.255.0, an address):
#                                                 a second account root@HOST, made with the system tables
#   MARIADB_TLS                   off             off | on (TLS offered) | required (require_secure_transport)
#   MARIADB_TLS_CERT              /certs/tls.crt  the certificate (chain)
#   MARIADB_TLS_KEY               /certs/tls.key  its private key
#   MARIADB_BUFFER_POOL_SIZE      128M            InnoDB's buffer pool (innodb_buffer_pool_size and its
#                                                 _max): the most memory InnoDB caches data in
#   MARIADB_CONFIG                                a my.cnf fragment (e.g. /config/my.cnf) included last
#
# State: the databases in /data/mariadb. Configuration and socket in /tmp/mariadb.
#
#   entrypoint.sh                 serve
#   entrypoint.sh COMMAND...      run COMMAND (e.g. `mariadbd --version`)
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'mariadb: %s\n' "$1" >&2
  exit 64
}

if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then exec "$@"; fi
[ $# -eq 0 ] || die "unknown option $1 (run with no arguments to serve, or with a command)"

port="${MARIADB_PORT:-3306}"
password_file="${MARIADB_ROOT_PASSWORD_FILE:-/run/secrets/mariadb-root-password}"
db="${MARIADB_DATABASE:-}"
root_host="${MARIADB_ROOT_HOST:-}"
tls="${MARIADB_TLS:-off}"
cert="${MARIADB_TLS_CERT:-/certs/tls.crt}"
key="${MARIADB_TLS_KEY:-/certs/tls.key}"
config="${MARIADB_CONFIG:-}"
buffer_pool="${MARIADB_BUFFER_POOL_SIZE:-128M}"

DATADIR=/data/mariadb
RUN_DIR=/tmp/mariadb
SHARE=/usr/share/mysql

if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  die "MARIADB_PORT must be a port number (1-65535), not '$port'"
fi
[ "$port" -gt 1023 ] || die "MARIADB_PORT must be above 1023 (the server runs without privileges), not '$port': map 3306 to it on the host"
[ -z "$db" ] || [[ "$db" =~ ^[A-Za-z0-9_]{1,64}$ ]] || die "MARIADB_DATABASE must be 1-64 letters, digits or _, not '$db'"
case "$db" in mysql | sys | information_schema | performance_schema) die "MARIADB_DATABASE: '$db' is a system database" ;; esac
# A host part of an account, written into SQL: addresses, wildcards and netmasks only (grants match
# addresses, not names: skip-name-resolve).
case "$root_host" in localhost | 127.0.0.1 | ::1) root_host="" ;; esac
[ -z "$root_host" ] || [[ "$root_host" =~ ^[0-9A-Fa-f.:%_/]{1,255}$ ]] ||
  die "MARIADB_ROOT_HOST must be an address pattern (%, 10.0.0.%, 10.0.0.0/255.255.255.0, 192.168.1.5), not '$root_host'"
[[ "$buffer_pool" =~ ^[1-9][0-9]{0,5}[MG]$ ]] || die "MARIADB_BUFFER_POOL_SIZE must be a size in M or G (e.g. 128M, 1G), not '$buffer_pool'"
case "$tls" in off | on | required) ;; *) die "MARIADB_TLS must be off, on or required, not '$tls'" ;; esac
if [ "$tls" != off ]; then
  for f in "$cert" "$key"; do
    { [ -f "$f" ] && [ -r "$f" ]; } || die "MARIADB_TLS=$tls needs $f (a readable file; mount the certificate and key on /certs, read-only)"
  done
fi
if [ -n "$config" ] && { ! [ -f "$config" ] || ! [ -r "$config" ]; }; then die "MARIADB_CONFIG=$config is not a readable file"; fi
[ -w /tmp ] || die "/tmp is not writable: mount a tmpfs there (--tmpfs /tmp)"

enable -f /usr/lib/bash/mkdir mkdir
umask 077
mkdir -p "$RUN_DIR"

# ---------------------------------------------------------------------------
# The configuration: the only file mariadbd reads (--defaults-file).
conf="$RUN_DIR/my.cnf"
{
  printf '# written by /boot/entrypoint.sh from MARIADB_* variables\n[mariadbd]\n'
  printf 'datadir = %s\nsocket = %s/mariadbd.sock\npid-file = %s/mariadbd.pid\ntmpdir = /tmp\n' "$DATADIR" "$RUN_DIR" "$RUN_DIR"
  printf 'port = %s\nbind-address = *\n' "$port"
  # Grants by address only; no host cache, so no address is ever blocked for
  # unfinished logins (the healthcheck's, a load balancer's).
  printf 'skip-name-resolve\nhost-cache-size = 0\n'
  printf 'lc-messages-dir = %s\ncharacter-sets-dir = %s/charsets\n' "$SHARE" "$SHARE"
  printf 'character-set-server = utf8mb4\ncollation-server = utf8mb4_unicode_ci\n'
  printf 'skip-symbolic-links\nlocal-infile = 0\n'
  # The buffer pool's address space is reserved up to innodb_buffer_pool_size_max,
  # 8 TiB by default. qemu's user-mode emulation (arm64 on an amd64 host) records
  # every page of a mapping: reserving 8 TiB never finishes there. Reserving what
  # is used (growing it online is then bounded by it) costs nothing natively.
  printf 'innodb-buffer-pool-size = %s\ninnodb-buffer-pool-size-max = %s\n' "$buffer_pool" "$buffer_pool"
  if [ "$tls" != off ]; then
    printf 'ssl-cert = %s\nssl-key = %s\ntls-version = TLSv1.2,TLSv1.3\n' "$cert" "$key"
    [ "$tls" = on ] || printf 'require-secure-transport = ON\n'
  fi
  [ -z "$config" ] || printf '!include %s\n' "$config"
} > "$conf"

# ---------------------------------------------------------------------------
# The system tables: made on the first start, as uid 2000 (their owner).
if [ ! -d "$DATADIR/mysql" ]; then
  [ -w /data ] || die "/data is not writable by uid ${UID}: mount a volume there (e.g. -v mariadb-data:/data)"
  if [ -z "${MARIADB_ROOT_PASSWORD_FILE:-}" ] && ! [ -e "$password_file" ]; then
    # No password given: a random one (32 characters from the kernel's random
    # source through $SRANDOM), kept on the volume for the administrator only.
    chars=ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789
    password=""
    for ((i = 0; i < 32; i++)); do password+="${chars:SRANDOM % ${#chars}:1}"; done
    printf '%s\n' "$password" > /data/mariadb-root-password
    printf 'mariadb: no password file (%s is absent, MARIADB_ROOT_PASSWORD_FILE is empty): root got a random password, in /data/mariadb-root-password (mode 0600)\n' "$password_file" >&2
  else
    { [ -f "$password_file" ] && [ -r "$password_file" ]; } ||
      die "MARIADB_ROOT_PASSWORD_FILE=$password_file is not a readable file: the first start needs root's password (mount it read-only, e.g. -v ./mariadb-root-password:$password_file:ro)"
    IFS= read -r password < "$password_file" || [ -n "${password:-}" ] || die "MARIADB_ROOT_PASSWORD_FILE: $password_file is empty"
    password="${password%$'\r'}"
    [ -n "$password" ] || die "MARIADB_ROOT_PASSWORD_FILE: the first line of $password_file is empty"
  fi
  # A string literal for SQL: backslashes and quotes escaped.
  password="${password//\\/\\\\}"
  password="${password//\'/\\\'}"
  printf 'mariadb: making the system tables in %s\n' "$DATADIR" >&2
  mkdir -p "$DATADIR"
  # What mariadb-install-db --auth-root-authentication-method=normal --skip-test-db
  # sends but the HELP statement's tables (2.4 MB of SQL: minutes under emulation,
  # not shipped), then root's password and the database. Root logs in from this
  # container only (the socket, 127.0.0.1, ::1) unless MARIADB_ROOT_HOST names
  # where else: a database port reachable by every host must not take root's
  # password from any of them by default. The password goes through a pipe:
  # never the environment, a command line or the log.
  out="$(
    {
      printf 'create database if not exists mysql;\nuse mysql;\nSET @auth_root_socket=NULL;\n'
      for f in mysql_system_tables mysql_performance_tables mysql_system_tables_data maria_add_gis_sp_bootstrap mysql_sys_schema; do
        printf '%s\n' "$(< "$SHARE/$f.sql")"
      done
      printf "FLUSH PRIVILEGES;\nDROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'root'@'%s';\n" "${HOSTNAME:-localhost}"
      printf "ALTER USER 'root'@'localhost' IDENTIFIED BY '%s';\n" "$password"
      for host in 127.0.0.1 ::1 ${root_host:+"$root_host"}; do
        printf "CREATE USER 'root'@'%s' IDENTIFIED BY '%s';\n" "$host" "$password"
        printf "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%s' WITH GRANT OPTION;\n" "$host"
      done
      [ -z "$db" ] || printf 'CREATE DATABASE \x60%s\x60;\n' "$db"
    } | mariadbd --defaults-file="$conf" --bootstrap --log-warnings=0 --enforce-storage-engine="" \
      --max_allowed_packet=8M --net_buffer_length=16K 2>&1
  )" || die "mariadbd --bootstrap failed: ${out//$'\n'/ }"
  unset password
  [ -z "$db" ] || printf 'mariadb: made database %s\n' "$db" >&2
  if [ -n "$root_host" ]; then
    printf "mariadb: root may log in from this container and from '%s' (MARIADB_ROOT_HOST)\n" "$root_host" >&2
  else
    printf 'mariadb: root may log in from this container only (the socket, 127.0.0.1, ::1); MARIADB_ROOT_HOST names where else\n' >&2
  fi
elif [ -n "${MARIADB_ROOT_HOST:-}" ]; then
  # Accounts live in /data: a later start changes none of them.
  printf 'mariadb: MARIADB_ROOT_HOST is read on the first start only: the accounts in %s stay as they are (CREATE USER / DROP USER change them)\n' "$DATADIR" >&2
fi

printf 'mariadb: serving on port %s (TLS %s)\n' "$port" "$tls" >&2
exec mariadbd --defaults-file="$conf"
