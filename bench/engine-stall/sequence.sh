#!/bin/bash
# The sequence of issue 15, ROUNDS times in a row: `kiln build router --with-parents`,
# `kiln test router`, `kiln verify debian`. One line per command (TSV, to stdout):
#   round  command  exit  seconds  load-average-at-start
# with each command's output in LOGDIR/<round>-<n>.log. Run it beside monitor.sh to see
# whether the engine stalls, and after what.
#
#   KILN=bin/kiln ROUNDS=3 LOGDIR=/tmp/seq bench/engine-stall/sequence.sh
set -u
KILN=${KILN:-bin/kiln}
ROUNDS=${ROUNDS:-3}
LOGDIR=${LOGDIR:-/tmp/kiln-sequence}
mkdir -p "$LOGDIR"
failed=0
echo -e "# round\tcommand\texit\tseconds\tload"
for round in $(seq 1 "$ROUNDS"); do
  n=0
  for cmd in "build router --with-parents --progress plain" "test router" "verify debian"; do
    n=$((n + 1))
    load=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s%N)
    # shellcheck disable=SC2086 # the command is a list of words
    "$KILN" $cmd >"$LOGDIR/$round-$n.log" 2>&1
    rc=$?
    t1=$(date +%s%N)
    [ $rc -eq 0 ] || failed=$((failed + 1))
    echo -e "$round\tkiln $cmd\t$rc\t$(((t1 - t0) / 1000000000))\t$load"
  done
done
echo "# $failed command(s) failed"
[ $failed -eq 0 ]
