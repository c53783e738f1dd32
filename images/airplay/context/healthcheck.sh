#!/bin/bash
# Healthy when shairport-sync answers an RTSP OPTIONS on its port with 200.
set -o errexit -o nounset -o pipefail
exec 3<> "/dev/tcp/127.0.0.1/${AIRPLAY_PORT:-7000}"
printf 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: healthcheck\r\n\r\n' >&3
IFS= read -r -t 5 status <&3 || true
[[ "$status" == "RTSP/1.0 200"* ]] || { printf 'healthcheck: %s\n' "${status:-no answer}" >&2; exit 1; }
