#!/bin/bash
# play.sh HOST PORT SECONDS: a classic AirPlay sender: PulseAudio with module-raop-sink (RSA
# encryption, ALAC, over UDP) pointed at HOST:PORT plays a generated 1 kHz tone for SECONDS
# seconds, then waits for the speaker's latency (2 s) to pass. Prints "played" when paplay got
# the tone through, and PulseAudio's RTSP and RAOP errors.
set -o errexit -o nounset -o pipefail
enable -f /usr/lib/bash/sleep sleep
host="$1" port="$2" seconds="$3"
export HOME=/tmp XDG_RUNTIME_DIR=/tmp/pulse-runtime
# module-raop-sink takes an address: the name from the network's DNS.
ip="$(kdig +short "$host" @127.0.0.11 | while IFS= read -r a; do [[ "$a" =~ ^[0-9.]+$ ]] && echo "$a" && break; done)"
[ -n "$ip" ] || { echo "play: $host does not resolve" >&2; exit 1; }
pulseaudio -n --daemonize=no --exit-idle-time=-1 --use-pid-file=no --disable-shm=yes \
  -L module-native-protocol-unix -L module-null-sink --log-target=file:/tmp/pulse.log &
pulse=$!
for _ in {1..100}; do pactl info > /dev/null 2>&1 && break; sleep 0.1; done
pactl load-module module-raop-sink "server=[$ip]:$port" sink_name=airplay protocol=UDP encryption=RSA codec=ALAC > /dev/null
sox -n -r 44100 -c 2 -b 16 /tmp/tone.wav synth "$seconds" sine 1000 vol 0.5
paplay -d airplay /tmp/tone.wav &
player=$!
for ((i = 0; i < seconds * 10 + 100; i++)); do kill -0 "$player" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$player" 2> /dev/null; then
  kill "$player"
  echo "play: the sink did not take the tone"
elif wait "$player"; then
  sleep 3
  echo "played ${seconds}s of 1 kHz to $ip:$port"
else
  echo "play: paplay failed"
fi
kill "$pulse"
wait "$pulse" || true
while IFS= read -r line; do [[ "$line" != E:*rtsp* && "$line" != E:*raop* ]] || printf 'pulseaudio: %s\n' "$line"; done < /tmp/pulse.log
