#!/bin/bash
# rpc.sh http|tcp REQUEST JQ-FILTER: sends one JSON-RPC request to snapserver (the
# service) over HTTP (port 1780, /jsonrpc) or the TCP control port (1705, one JSON
# object per line) and prints the answer through jq. The proof's speaker connects
# a moment after the service is ready: a filter that prints nothing is retried for
# up to 60 s. Bash and the tools image's curl and jq only (no coreutils).
set -o errexit -o nounset -o pipefail
transport="$1" request="$2" filter="$3"

ask() {
  if [ "$transport" = http ]; then
    curl -fsS --max-time 10 -H 'Content-Type: application/json' -d "$request" http://service:1780/jsonrpc
  else
    exec 3<> /dev/tcp/service/1705
    printf '%s\r\n' "$request" >&3
    # Notifications (e.g. a client's volume) may come first: keep the answer with an id.
    while IFS= read -r -t 10 line <&3; do
      case "$line" in *'"id":'*) printf '%s\n' "$line"; break ;; esac
    done
    exec 3>&-
  fi
}

# A pipe nobody writes: reading it with a timeout is a one-second sleep.
exec {never}<> <(:)
for ((i = 0; i < 60; i++)); do
  out="$(ask | jq -r "$filter")"
  if [ -n "$out" ]; then
    printf '%s\n' "$out"
    exit 0
  fi
  read -r -t 1 -u "$never" || :
done
echo "rpc.sh: no answer matched $filter within 60 s; the last answer:" >&2
ask >&2
exit 1
