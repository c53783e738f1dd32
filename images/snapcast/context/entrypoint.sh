#!/bin/bash
# snapcast entrypoint: writes snapserver's configuration from environment variables
# into /tmp, then runs snapserver in the foreground as the only process, logging to
# stdout. Bash builtins only (the runtime has no coreutils; mkdir is bash's loadable).
#
#   SNAPCAST_SOURCE        pipe                  where the audio comes from: pipe (a named pipe,
#                                                /audio/snapfifo, made when missing) or tcp (a TCP
#                                                server on SNAPCAST_SOURCE_PORT: send raw PCM to it)
#   SNAPCAST_SOURCE_PORT   4953                  the TCP source's port (above 1023)
#   SNAPCAST_STREAM_NAME   default               the stream's name clients and the control API see
#   SNAPCAST_SAMPLEFORMAT  48000:16:2            rate:bits:channels of the source's PCM
#   SNAPCAST_CODEC         flac                  flac | ogg | opus | pcm: what goes to the clients
#   SNAPCAST_BUFFER_MS     1000                  end-to-end latency (ms): the clients' play-out buffer
#   SNAPCAST_LOG_LEVEL     info                  trace | debug | info | notice | warning | error | fatal
#   SNAPCAST_CONFIG                              a snapserver.conf (e.g. /config/snapserver.conf) used
#                                                as it is instead of the generated one
#
# Ports: 1704 (audio to the clients), 1705 (JSON-RPC over TCP), 1780 (JSON-RPC over
# HTTP and websockets, /jsonrpc; a status page on /). State: /data/server.json (the
# clients, their names, groups and volumes).
#
#   entrypoint.sh                 serve
#   entrypoint.sh COMMAND...      run COMMAND (e.g. `snapserver --version`)
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'snapcast: %s\n' "$1" >&2
  exit 64
}

if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then exec "$@"; fi
[ $# -eq 0 ] || die "unknown option $1 (run with no arguments to serve, or with a command)"

source_kind="${SNAPCAST_SOURCE:-pipe}"
source_port="${SNAPCAST_SOURCE_PORT:-4953}"
name="${SNAPCAST_STREAM_NAME:-default}"
sampleformat="${SNAPCAST_SAMPLEFORMAT:-48000:16:2}"
codec="${SNAPCAST_CODEC:-flac}"
buffer="${SNAPCAST_BUFFER_MS:-1000}"
log_level="${SNAPCAST_LOG_LEVEL:-info}"
config="${SNAPCAST_CONFIG:-}"
RUN_DIR=/tmp/snapcast

case "$source_kind" in pipe | tcp) ;; *) die "SNAPCAST_SOURCE must be pipe or tcp, not '$source_kind'" ;; esac
if ! [[ "$source_port" =~ ^[0-9]+$ ]] || [ "$source_port" -le 1023 ] || [ "$source_port" -gt 65535 ]; then
  die "SNAPCAST_SOURCE_PORT must be a port number above 1023 (snapserver runs without privileges), not '$source_port'"
fi
[[ "$name" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || die "SNAPCAST_STREAM_NAME must be 1-64 letters, digits, _ . or -, not '$name'"
[[ "$sampleformat" =~ ^[0-9]{4,6}:(16|24|32):[1-8]$ ]] || die "SNAPCAST_SAMPLEFORMAT must be rate:bits:channels (e.g. 48000:16:2; bits 16, 24 or 32), not '$sampleformat'"
case "$codec" in flac | ogg | opus | pcm) ;; *) die "SNAPCAST_CODEC must be flac, ogg, opus or pcm, not '$codec'" ;; esac
[[ "$buffer" =~ ^[1-9][0-9]{1,4}$ ]] || die "SNAPCAST_BUFFER_MS must be a number of milliseconds (10-99999), not '$buffer'"
case "$log_level" in trace | debug | info | notice | warning | error | fatal) ;; *) die "SNAPCAST_LOG_LEVEL must be trace, debug, info, notice, warning, error or fatal, not '$log_level'" ;; esac
if [ -n "$config" ] && { ! [ -f "$config" ] || ! [ -r "$config" ]; }; then die "SNAPCAST_CONFIG=$config is not a readable file"; fi
[ -w /tmp ] || die "/tmp is not writable: mount a tmpfs there (--tmpfs /tmp)"
[ -w /data ] || die "/data is not writable by uid ${UID}: mount a volume there (e.g. -v snapcast-data:/data)"

enable -f /usr/lib/bash/mkdir mkdir
mkdir -p "$RUN_DIR"

if [ -z "$config" ]; then
  if [ "$source_kind" = pipe ]; then
    [ -w /audio ] || die "/audio is not writable by uid ${UID}: mount a volume there, shared with the player that writes the pipe (e.g. -v snapcast-audio:/audio)"
    source="pipe:///audio/snapfifo?name=$name&mode=create"
  else
    source="tcp://0.0.0.0:$source_port?name=$name&mode=server"
  fi
  config="$RUN_DIR/snapserver.conf"
  printf '%s\n' "# written by /boot/entrypoint.sh from SNAPCAST_* variables
[server]
datadir = /data

[http]
enabled = true
bind_to_address = 0.0.0.0
port = 1780
doc_root = /usr/share/snapserver

[tcp]
enabled = true
bind_to_address = 0.0.0.0
port = 1705

[stream]
bind_to_address = 0.0.0.0
port = 1704
source = $source
sampleformat = $sampleformat
codec = $codec
buffer = $buffer

[logging]
sink = stdout
filter = *:$log_level" > "$config"
fi

printf 'snapcast: serving stream %s from %s (%s, %s)\n' "$name" "$source_kind" "$sampleformat" "$codec"
exec snapserver --config="$config"
