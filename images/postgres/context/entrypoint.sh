#!/bin/bash
# postgres entrypoint: on the first start makes the cluster in /data (initdb, the
# superuser's password from a secret file), writes the configuration into /tmp,
# then runs the server, logging to stderr. SIGTERM stops it with PostgreSQL's fast
# shutdown (open sessions are ended, a shutdown checkpoint is written), so a
# `docker stop` leaves a cluster that needs no recovery.
# Bash builtins only (the runtime has no coreutils; mkdir is bash's loadable).
#
#   POSTGRES_PORT             5432            the TCP port (above 1023)
#   POSTGRES_PASSWORD_FILE    /run/secrets/postgres-password
#                                             the superuser's password (its first line), read when the
#                                             cluster is made (later starts do not read it); when the
#                                             default file is absent the superuser gets no password
#                                             (no TCP login until one is set); a file named here must
#                                             be readable
#   POSTGRES_USER             postgres        the superuser's name, given to the cluster when it is made
#   POSTGRES_DB                               a database made with the cluster, owned by the superuser
#   POSTGRES_LOCALE           und             the cluster's ICU locale (und: Unicode's root collation;
#                                             en-US, de-DE...), or C (byte order, libc)
#   POSTGRES_TLS              off             off | on (TLS offered) | required (no plain TCP login)
#   POSTGRES_TLS_CERT         /certs/tls.crt  the certificate (chain)
#   POSTGRES_TLS_KEY          /certs/tls.key  its private key (copied into /tmp with mode 0600)
#   POSTGRES_LOG_CONNECTIONS  off             on: log every connection and disconnection
#   POSTGRES_CONFIG                           a postgresql.conf fragment (e.g. /config/postgresql.conf)
#                                             included last: it may change any setting
#
# State: the cluster in /data/postgresql-15. Configuration, socket and key in /tmp/postgres.
#
#   entrypoint.sh                 serve
#   entrypoint.sh COMMAND...      run COMMAND (e.g. `postgres --version`, `psql -U postgres`)
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'postgres: %s\n' "$1" >&2
  exit 64
}

if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then exec "$@"; fi
[ $# -eq 0 ] || die "unknown option $1 (run with no arguments to serve, or with a command)"

port="${POSTGRES_PORT:-5432}"
password_file="${POSTGRES_PASSWORD_FILE:-/run/secrets/postgres-password}"
superuser="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-}"
locale="${POSTGRES_LOCALE:-und}"
tls="${POSTGRES_TLS:-off}"
cert="${POSTGRES_TLS_CERT:-/certs/tls.crt}"
key="${POSTGRES_TLS_KEY:-/certs/tls.key}"
log_connections="${POSTGRES_LOG_CONNECTIONS:-off}"
config="${POSTGRES_CONFIG:-}"

PGDATA=/data/postgresql-15
RUN_DIR=/tmp/postgres
NAME_RE='^[a-z_][a-z0-9_]{0,62}$'

if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  die "POSTGRES_PORT must be a port number (1-65535), not '$port'"
fi
[ "$port" -gt 1023 ] || die "POSTGRES_PORT must be above 1023 (the server runs without privileges), not '$port': map 5432 to it on the host"
[[ "$superuser" =~ $NAME_RE ]] || die "POSTGRES_USER must be lower-case letters, digits or _ (63 at most, not starting with a digit), not '$superuser'"
[ -z "$db" ] || [[ "$db" =~ $NAME_RE ]] || die "POSTGRES_DB must be lower-case letters, digits or _ (63 at most, not starting with a digit), not '$db'"
case "$db" in postgres | template0 | template1) die "POSTGRES_DB: '$db' is made with every cluster: leave POSTGRES_DB empty" ;; esac
# ICU (shipped) gives every language its collation; glibc's locales are not shipped, so libc's is C.
if [ "$locale" = C ]; then
  locale_args=(--locale-provider=libc --locale=C)
elif [[ "$locale" =~ ^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$ ]]; then
  locale_args=(--locale-provider=icu --icu-locale="$locale" --locale=C)
else
  die "POSTGRES_LOCALE must be an ICU locale (und, en-US, de-DE, ...) or C, not '$locale'"
fi
case "$tls" in off | on | required) ;; *) die "POSTGRES_TLS must be off, on or required, not '$tls'" ;; esac
case "$log_connections" in on | off) ;; *) die "POSTGRES_LOG_CONNECTIONS must be on or off, not '$log_connections'" ;; esac
if [ -n "$config" ] && { ! [ -f "$config" ] || ! [ -r "$config" ]; }; then die "POSTGRES_CONFIG=$config is not a readable file"; fi
if [ "$tls" != off ]; then
  for f in "$cert" "$key"; do
    { [ -f "$f" ] && [ -r "$f" ]; } || die "POSTGRES_TLS=$tls needs $f (a readable file; mount the certificate and key on /certs, read-only)"
  done
fi
[ -w /tmp ] || die "/tmp is not writable: mount a tmpfs there (--tmpfs /tmp)"

enable -f /usr/lib/bash/mkdir mkdir
umask 077
mkdir -p "$RUN_DIR"

# ---------------------------------------------------------------------------
# The cluster: made on the first start, as uid 2000 (its owner).
if [ -f "$PGDATA/PG_VERSION" ]; then
  version="$(< "$PGDATA/PG_VERSION")"
  [ "$version" = 15 ] || die "$PGDATA holds a PostgreSQL $version cluster: this image runs 15 (upgrade it with pg_upgrade, or dump and restore)"
  # How the last server left it: "shut down" means no recovery is needed.
  state="$(pg_controldata -D "$PGDATA" 2>&1)" || die "pg_controldata cannot read $PGDATA: ${state//$'\n'/ }"
  [[ "$state" =~ Database\ cluster\ state:\ +([^$'\n']+) ]] || die "pg_controldata did not report the state of $PGDATA"
  state="${BASH_REMATCH[1]}"
  if [ "$state" = "shut down" ]; then
    line="the cluster in $PGDATA was shut down cleanly (pg_controldata: $state): no recovery needed"
  else
    line="the cluster in $PGDATA was not shut down cleanly (pg_controldata: $state): PostgreSQL recovers it from its WAL"
  fi
  printf 'postgres: %s\n' "$line" >&2
else
  [ -w /data ] || die "/data is not writable by uid ${UID}: mount a volume there (e.g. -v postgres-data:/data)"
  pwfile=()
  if [ -z "${POSTGRES_PASSWORD_FILE:-}" ] && ! [ -e "$password_file" ]; then
    printf 'postgres: no password file (%s is absent, POSTGRES_PASSWORD_FILE is empty): the superuser %s gets no password, so nobody can log in over TCP until one is set (docker exec CONTAINER psql -c "\\password %s")\n' "$password_file" "$superuser" "$superuser" >&2
  else
    { [ -f "$password_file" ] && [ -r "$password_file" ]; } ||
      die "POSTGRES_PASSWORD_FILE=$password_file is not a readable file: the first start needs the superuser's password (mount it read-only, e.g. -v ./postgres-password:$password_file:ro)"
    IFS= read -r password < "$password_file" || [ -n "${password:-}" ] || die "POSTGRES_PASSWORD_FILE: $password_file is empty"
    password="${password%$'\r'}"
    [ -n "$password" ] || die "POSTGRES_PASSWORD_FILE: the first line of $password_file is empty"
    unset password
    pwfile=(--pwfile="$password_file")
  fi
  printf 'postgres: making the cluster in %s (superuser %s, locale %s)\n' "$PGDATA" "$superuser" "$locale" >&2
  # initdb reads the password from the file itself: it never goes through the
  # environment or a command line. Data checksums catch corruption on read.
  # (The pg_hba.conf initdb writes is not read: the one below is.)
  out="$(initdb --pgdata="$PGDATA" --username="$superuser" "${pwfile[@]}" --auth-local=peer --auth-host=reject \
    --encoding=UTF8 "${locale_args[@]}" --data-checksums --no-instructions 2>&1)" ||
    die "initdb failed: ${out//$'\n'/ }"
  if [ -n "$db" ]; then
    out="$(printf 'CREATE DATABASE "%s" OWNER "%s";\n' "$db" "$superuser" |
      postgres --single -D "$PGDATA" -c jit=off postgres 2>&1)" ||
      die "could not make database $db: ${out//$'\n'/ }"
    printf 'postgres: made database %s\n' "$db" >&2
  fi
fi

# ---------------------------------------------------------------------------
# TLS: PostgreSQL refuses a key file others may read; the mounted key is copied
# into /tmp with mode 0600 (uid 2000 owns the copy).
ssl=off
if [ "$tls" != off ]; then
  key_pem="$(< "$key")"
  printf '%s\n' "$key_pem" > "$RUN_DIR/tls.key"
  unset key_pem
  ssl=on
fi

# ---------------------------------------------------------------------------
# Configuration: the cluster's own postgresql.conf and pg_hba.conf (written by
# initdb) are not read; these are, from /tmp.
{
  printf '%s\n' "# written by /boot/entrypoint.sh from POSTGRES_* variables; postgresql.auto.conf (ALTER SYSTEM) is read after it"
  printf "data_directory = '%s'\nhba_file = '%s/pg_hba.conf'\nident_file = '%s/pg_ident.conf'\n" "$PGDATA" "$RUN_DIR" "$RUN_DIR"
  printf "listen_addresses = '*'\nport = %s\nunix_socket_directories = '%s'\n" "$port" "$RUN_DIR"
  printf "password_encryption = scram-sha-256\njit = off\nhuge_pages = off\n"
  printf "logging_collector = off\nlog_destination = 'stderr'\nlog_line_prefix = '%%m [%%p] %%q%%u@%%d '\nlog_connections = %s\nlog_disconnections = %s\n" "$log_connections" "$log_connections"
  printf "ssl = %s\n" "$ssl"
  [ "$ssl" = off ] || printf "ssl_cert_file = '%s'\nssl_key_file = '%s/tls.key'\nssl_min_protocol_version = 'TLSv1.2'\n" "$cert" "$RUN_DIR"
  [ -z "$config" ] || printf "include '%s'\n" "$config"
} > "$RUN_DIR/postgresql.conf"

# Who may log in: inside the container, over the socket, uid 2000 as the superuser
# (peer, `docker exec CONTAINER psql`); over TCP, every role with its password.
{
  printf '# written by /boot/entrypoint.sh\n'
  printf 'local all all peer map=container\n'
  if [ "$tls" = required ]; then
    printf 'hostssl all all all scram-sha-256\nhostnossl all all all reject\n'
  else
    printf 'host all all all scram-sha-256\n'
  fi
} > "$RUN_DIR/pg_hba.conf"
printf 'container app %s\n' "$superuser" > "$RUN_DIR/pg_ident.conf"

# ---------------------------------------------------------------------------
# The server, in the background of this shell: SIGTERM (docker stop) becomes a fast
# shutdown (SIGINT), which ends open sessions instead of waiting for them as a
# smart shutdown would (past docker's grace period, the kill would need recovery).
printf 'postgres: serving on port %s (TLS %s)\n' "$port" "$tls" >&2
postgres --config-file="$RUN_DIR/postgresql.conf" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || :' TERM INT
trap 'kill -HUP "$pid" 2>/dev/null || :' HUP
# wait returns early when a trapped signal arrives: wait again until the server is gone.
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || :; done
wait "$pid" && rc=0 || rc=$?
exit "$rc"
