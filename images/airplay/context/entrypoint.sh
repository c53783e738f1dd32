#!/bin/bash
# airplay entrypoint: checks the environment, writes the configuration under /tmp, then starts
# a private D-Bus, avahi-daemon (mDNS), nqptp (PTP timing for AirPlay 2) and shairport-sync.
# When any of them exits, the others are stopped and the container exits with its code.
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

NAME="${AIRPLAY_NAME:-kiln airplay}"
PORT="${AIRPLAY_PORT:-7000}"
UDP_PORT_BASE="${AIRPLAY_UDP_PORT_BASE:-6001}"
OUTPUT="${AIRPLAY_OUTPUT:-file}"
PIPE="${AIRPLAY_PIPE:-/audio/airplay.pcm}"
ALSA_DEVICE="${AIRPLAY_ALSA_DEVICE:-default}"
VOLUME_CONTROL="${AIRPLAY_VOLUME_CONTROL:-software}"
METADATA_PIPE="${AIRPLAY_METADATA_PIPE:-}"
PASSWORD_FILE="${AIRPLAY_PASSWORD_FILE:-}"
VERBOSITY="${AIRPLAY_LOG_VERBOSITY:-0}"
RUN=/tmp/airplay

die() {
  printf 'airplay: %s\n' "$1" >&2
  exit 64
}

port() { # port NAME VALUE: unprivileged (README.md, "Ports")
  if ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1024 ] || [ "$2" -gt 65000 ]; then die "$1 must be a port number from 1024 to 65000, not '$2'"; fi
}

# write FILE: standard input into FILE (the runtime has no cat).
write() {
  local line
  while IFS= read -r line; do printf '%s\n' "$line"; done > "$1"
}

# A value inside a libconfig string: backslashes and quotes escaped, no line breaks.
quoted() {
  [[ "$2" != *$'\n'* && "$2" != *$'\r'* ]] || die "$1 must be one line"
  local v="${2//\\/\\\\}"
  printf '"%s"' "${v//\"/\\\"}"
}

if [ -z "$NAME" ] || [ ${#NAME} -gt 50 ]; then die "AIRPLAY_NAME must be 1 to 50 characters, not '$NAME'"; fi
port AIRPLAY_PORT "$PORT"
port AIRPLAY_UDP_PORT_BASE "$UDP_PORT_BASE"
case "$OUTPUT" in
  pipe | file) [[ "$PIPE" == /* && "$PIPE" != */ ]] || die "AIRPLAY_PIPE must be an absolute file path, not '$PIPE'" ;;
  stdout | alsa) ;;
  *) die "AIRPLAY_OUTPUT must be file, pipe, stdout or alsa, not '$OUTPUT'" ;;
esac
case "$VOLUME_CONTROL" in
  software) ignore_volume=no ;;
  none) ignore_volume=yes ;;
  *) die "AIRPLAY_VOLUME_CONTROL must be software or none, not '$VOLUME_CONTROL'" ;;
esac
[[ -z "$METADATA_PIPE" || "$METADATA_PIPE" == /* ]] || die "AIRPLAY_METADATA_PIPE must be an absolute path, not '$METADATA_PIPE'"
[[ "$VERBOSITY" =~ ^[0-3]$ ]] || die "AIRPLAY_LOG_VERBOSITY must be 0 to 3, not '$VERBOSITY'"
password=""
if [ -n "$PASSWORD_FILE" ]; then
  [ -r "$PASSWORD_FILE" ] || die "AIRPLAY_PASSWORD_FILE $PASSWORD_FILE is not a readable file"
  IFS= read -r password < "$PASSWORD_FILE" || true
  [ -n "$password" ] || die "AIRPLAY_PASSWORD_FILE $PASSWORD_FILE is empty"
fi

# The runtime has no coreutils: mkdir and sleep come as bash loadables (bash-builtins).
enable -f /usr/lib/bash/mkdir mkdir
enable -f /usr/lib/bash/sleep sleep
mkdir -m 0700 "$RUN" /tmp/dbus /tmp/avahi-daemon
umask 077

# file: a regular file shairport-sync writes from its start at each session (made empty here).
# pipe: a FIFO shairport-sync makes; it writes only while a reader has it open.
[ "$OUTPUT" != file ] || : > "$PIPE"

write "$RUN/dbus.conf" << EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <!-- Private to this container: avahi-daemon and shairport-sync, both uid 2000. -->
  <type>system</type>
  <listen>${DBUS_SYSTEM_BUS_ADDRESS}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF

write "$RUN/avahi-daemon.conf" << EOF
[server]
use-ipv4=yes
use-ipv6=yes
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[rlimits]
EOF

{
  printf 'general = {\n'
  printf '  name = %s;\n' "$(quoted AIRPLAY_NAME "$NAME")"
  printf '  port = %s;\n  udp_port_base = %s;\n  udp_port_range = 10;\n' "$PORT" "$UDP_PORT_BASE"
  printf '  output_backend = "%s";\n' "$([ "$OUTPUT" = file ] && echo pipe || echo "$OUTPUT")"
  printf '  mdns_backend = "avahi";\n  ignore_volume_control = "%s";\n' "$ignore_volume"
  [ -z "$password" ] || printf '  password = %s;\n' "$(quoted "the password" "$password")"
  printf '};\n'
  printf 'diagnostics = {\n  log_verbosity = %s;\n};\n' "$VERBOSITY"
  case "$OUTPUT" in
    pipe | file) printf 'pipe = {\n  name = %s;\n  output_rate = 44100;\n  output_format = "S16_LE";\n  output_channels = 2;\n};\n' "$(quoted AIRPLAY_PIPE "$PIPE")" ;;
    alsa) printf 'alsa = {\n  output_device = %s;\n};\n' "$(quoted AIRPLAY_ALSA_DEVICE "$ALSA_DEVICE")" ;;
  esac
  if [ -n "$METADATA_PIPE" ]; then
    printf 'metadata = {\n  enabled = "yes";\n  include_cover_art = "no";\n  pipe_name = %s;\n};\n' "$(quoted AIRPLAY_METADATA_PIPE "$METADATA_PIPE")"
  fi
} > "$RUN/shairport-sync.conf"
unset password

declare -A names=()
start() { # start NAME COMMAND...
  "${@:2}" &
  names[$!]="$1"
}
stop_all() {
  local pid
  for pid in "${!names[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
}
trap 'stop_all' TERM INT

start dbus-daemon dbus-daemon --config-file="$RUN/dbus.conf" --nofork --nopidfile --nosyslog
for _ in {1..50}; do [ -S /tmp/dbus/system_bus_socket ] && break; sleep 0.1; done
start avahi-daemon avahi-daemon --no-drop-root --no-chroot --no-proc-title --no-rlimits -f "$RUN/avahi-daemon.conf"
# shairport-sync gives up when avahi-daemon is not on the bus yet: its socket comes just before.
for _ in {1..50}; do [ -S /tmp/avahi-daemon/socket ] && break; sleep 0.1; done
sleep 1
start nqptp nqptp
start shairport-sync shairport-sync -c "$RUN/shairport-sync.conf"

code=0
died=""
wait -n -p died || code=$?
if [ -n "$died" ]; then
  printf 'airplay: %s exited with code %s; stopping the others\n' "${names[$died]}" "$code" >&2
  unset "names[$died]"
fi
stop_all
wait || true
exit "$code"
