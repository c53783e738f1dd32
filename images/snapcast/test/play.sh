#!/bin/bash
# play.sh SECONDS: a player on the network. Sends SECONDS of 48 kHz 16-bit stereo
# PCM to snapserver's TCP source (the service, port 4953): a constant level, not
# silence. snapserver reads its source in real time, so the writes are paced by
# the socket. Bash only (the tools image's bash; no coreutils).
set -o errexit -o nounset -o pipefail
seconds="$1"
exec 4<> /dev/tcp/service/4953
# 100 ms of audio: 4800 frames of 4 bytes, every byte 0x20.
printf -v chunk '%*s' 19200 ''
for ((i = 0; i < seconds * 10; i++)); do printf '%s' "$chunk" >&4; done
exec 4>&-
printf 'play.sh: sent %d bytes\n' "$((seconds * 192000))" >&2
