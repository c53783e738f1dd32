#!/bin/bash
# analyse.sh FILE: what the speaker wrote (raw PCM, 44.1 kHz, S16_LE, stereo): nothing, silence,
# or sound, with its dominant frequency (sox's estimate, rounded to 10 Hz).
set -o errexit -o nounset -o pipefail
[ -s "$1" ] || { echo "audio: nothing written to $1"; exit 0; }
rms="" freq=""
while IFS= read -r line; do
  case "$line" in
    "RMS     amplitude:"*) rms="${line##* }" ;;
    "Rough   frequency:"*) freq="${line##* }" ;;
  esac
done < <(sox -t raw -r 44100 -e signed -b 16 -c 2 "$1" -n remix 1 stat 2>&1)
[[ "$rms" =~ ^0\.([0-9]{6})$ ]] || { echo "audio: no RMS amplitude from sox ($rms)"; exit 1; }
if ((10#${BASH_REMATCH[1]} < 10000)); then echo "audio: silence (RMS amplitude $rms)"; exit 0; fi
echo "audio: non-silent (RMS amplitude $rms)"
echo "dominant frequency $(((freq + 5) / 10 * 10)) Hz"
