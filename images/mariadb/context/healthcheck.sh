#!/bin/bash
# mariadb healthcheck: proves mariadbd answers its protocol, not only that the port
# is open. Connects to 127.0.0.1:MARIADB_PORT through bash's /dev/tcp and passes
# when the server's first packet is its handshake (protocol 10, a version ending in
# -MariaDB); a server that refuses connections (too many, or starting) sends an
# error packet instead. Exit 0 healthy, 1 not. Bash builtins only (the runtime has
# no coreutils and no client). The server runs with host_cache_size=0, so these
# unfinished logins never get 127.0.0.1 blocked.
set -o nounset -o pipefail
port="${1:-${MARIADB_PORT:-3306}}"
if ! exec 3<> "/dev/tcp/127.0.0.1/$port"; then
  echo "healthcheck: nothing listens on 127.0.0.1:$port" >&2
  exit 1
fi
# bash's read drops NUL bytes: the protocol byte and the version string remain.
LC_ALL=C read -r -t 5 -N 40 -u 3 answer
exec 3>&-
case "${answer:-}" in
  *$'\x0a'[0-9]*-MariaDB*) exit 0 ;;
  *) echo "healthcheck: 127.0.0.1:$port did not send a MariaDB handshake" >&2; exit 1 ;;
esac
