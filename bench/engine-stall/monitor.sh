#!/bin/bash
# Measures how long the docker daemon and its containerd take to answer, once a second, while
# something else runs (read-only: it never changes the engine). Lines (TSV, to stdout):
#   time  ping_ms  version_ms  info_ms  ctr_images_ms
# A request slower than SLOW_MS also saves goroutine dumps of dockerd and containerd to DUMPS
# (both daemons serve pprof on their sockets), so a stall can be read afterwards.
# Every 30 s a line "# counts" gives containerd's leases, content blobs and snapshots (moby namespace).
#
#   bench/engine-stall/monitor.sh > latency.tsv &   ... ; kill %1
set -u
SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
CTRD=${CONTAINERD_SOCK:-/var/run/docker/containerd/containerd.sock}
CTRD_DEBUG=${CONTAINERD_DEBUG_SOCK:-/var/run/docker/containerd/containerd-debug.sock}
DUMPS=${DUMPS:-/tmp/kiln-engine-stall-dumps}
SLOW_MS=${SLOW_MS:-3000}
mkdir -p "$DUMPS"

ms() { # command... -> milliseconds it took (max 300 s), or "fail:<code>"
  local t0 t1 rc
  t0=$(date +%s%N)
  timeout 300 "$@" >/dev/null 2>&1
  rc=$?
  t1=$(date +%s%N)
  if [ $rc -eq 0 ]; then echo $(((t1 - t0) / 1000000)); else echo "fail:$rc:$(((t1 - t0) / 1000000))"; fi
}

dump() {
  local at=$1
  curl -s -m 30 --unix-socket "$SOCK" "http://d/debug/pprof/goroutine?debug=2" >"$DUMPS/dockerd-$at.txt" 2>/dev/null
  ctr pprof --debug-socket "$CTRD_DEBUG" goroutines >"$DUMPS/containerd-$at.txt" 2>/dev/null
}

echo -e "# time\tping_ms\tversion_ms\tinfo_ms\tctr_images_ms"
n=0
while :; do
  now=$(date -u +%H:%M:%S)
  ping=$(ms curl -sf -m 300 --unix-socket "$SOCK" http://d/_ping)
  version=$(ms curl -sf -m 300 --unix-socket "$SOCK" http://d/version)
  info=$(ms curl -sf -m 300 --unix-socket "$SOCK" http://d/info)
  images=$(ms ctr --address "$CTRD" -n moby images ls -q)
  echo -e "$now\t$ping\t$version\t$info\t$images"
  for v in "$ping" "$version" "$info" "$images"; do
    if [[ $v == fail* ]] || [ "${v%%:*}" -gt "$SLOW_MS" ] 2>/dev/null; then dump "$(date -u +%H%M%S)"; break; fi
  done
  if [ $((n % 30)) -eq 0 ]; then
    leases=$(ctr --address "$CTRD" -n moby leases ls -q 2>/dev/null | wc -l)
    content=$(ctr --address "$CTRD" -n moby content ls -q 2>/dev/null | wc -l)
    snaps=$(ctr --address "$CTRD" -n moby snapshots --snapshotter overlayfs ls 2>/dev/null | tail -n +2 | wc -l)
    echo -e "# counts $now leases=$leases content=$content snapshots=$snaps"
  fi
  n=$((n + 1))
  sleep 1
done
