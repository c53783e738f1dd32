#!/bin/bash
# Healthy when parse-server answers GET <mount path>/health with 200: it answers 503 while it
# starts (connecting to the database, loading cloud code) and after a failed start.
# Bash's /dev/tcp: the runtime has no curl.
set -o errexit -o nounset -o pipefail
port="${PORT:-1337}"
mount="${PARSE_SERVER_MOUNT_PATH:-/parse}"
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s/health HTTP/1.0\r\nHost: localhost\r\n\r\n' "${mount%/}" >&3
read -r -t 5 status <&3
[[ "$status" == HTTP/1.?" 200 "* ]]
