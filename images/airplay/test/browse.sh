#!/bin/bash
# browse.sh: what a client on the network sees of the speaker over mDNS. avahi-browse asks an
# avahi-daemon over D-Bus, so both start here first, as uid 2000, on a private bus under /tmp.
# Prints the resolved _airplay._tcp and _raop._tcp records (avahi-browse -p lines) once both
# are seen, or what was seen after 20 tries.
set -o errexit -o nounset -o pipefail
enable -f /usr/lib/bash/mkdir mkdir
enable -f /usr/lib/bash/sleep sleep
mkdir -m 0700 /tmp/dbus /tmp/avahi-daemon
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/tmp/dbus/system_bus_socket
while IFS= read -r line; do printf '%s\n' "$line"; done > /tmp/dbus/bus.conf << XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>${DBUS_SYSTEM_BUS_ADDRESS}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
</busconfig>
XML
printf '[server]\nuse-ipv6=no\n[publish]\npublish-addresses=no\npublish-hinfo=no\npublish-workstation=no\n[rlimits]\n' > /tmp/avahi.conf
dbus-daemon --config-file=/tmp/dbus/bus.conf --nofork --nopidfile --nosyslog &
for _ in {1..50}; do [ -S /tmp/dbus/system_bus_socket ] && break; sleep 0.1; done
/usr/sbin/avahi-daemon --no-drop-root --no-chroot --no-proc-title --no-rlimits -f /tmp/avahi.conf 2> /tmp/avahi.log &
for _ in {1..50}; do [ -S /tmp/avahi-daemon/socket ] && break; sleep 0.1; done
sleep 1
resolved() { # resolved TYPE: the resolved records (lines starting with "=") of a service type
  { avahi-browse -rpt "$1" 2> /dev/null || true; } | while IFS= read -r line; do [[ "$line" != =* ]] || printf '%s\n' "$line"; done
}
for _ in {1..20}; do
  airplay="$(resolved _airplay._tcp)" raop="$(resolved _raop._tcp)"
  [ -z "$airplay" ] || [ -z "$raop" ] || break
  sleep 1
done
printf '%s\n' "$airplay" "$raop"
if [ -z "$airplay" ] || [ -z "$raop" ]; then
  echo "browse: not both records seen; all services seen:"
  avahi-browse -apt 2>&1 || true
  echo "avahi-daemon said:"
  while IFS= read -r line; do printf '  %s\n' "$line"; done < /tmp/avahi.log
  exit 1
fi
