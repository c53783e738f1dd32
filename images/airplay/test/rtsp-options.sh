#!/bin/bash
# rtsp-options.sh HOST PORT: an RTSP OPTIONS as a classic AirPlay sender sends it (with an
# Apple-Challenge: 16 random bytes, base64); prints the answer's status line and headers.
set -o errexit -o nounset -o pipefail
challenge="$(openssl rand -base64 16)"
exec 3<> "/dev/tcp/$1/$2"
printf 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: kiln-proof\r\nApple-Challenge: %s\r\n\r\n' "${challenge%%=*}" >&3
while IFS= read -r -t 10 line <&3; do
  line="${line%$'\r'}"
  [ -n "$line" ] || break
  printf '%s\n' "$line"
done
