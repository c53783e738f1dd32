#!/bin/bash
# held.sh QUEUE-URI: prints page.pdf to a stopped queue (CUPS_QUEUE_STATE=stopped) and
# shows that the job is accepted but stays pending: three looks, a second apart, at a
# job that an idle queue completes in well under a second. Bash builtins and ipptool only.
set -o errexit -o nounset -o pipefail
queue="$1"

out="$(ipptool -tv -f /kiln/test/page.pdf "$queue" print-job.test)" || { printf '%s\n' "$out"; exit 1; }
[[ "$out" == *"job-id (integer) = 1"* ]] || { printf '%s\n' "$out"; echo "held: the queue did not take job 1"; exit 1; }

out="$(ipptool -tv -i 1 -n 3 "${queue%/printers/*}/jobs/1" get-job-attributes.test)" || { printf '%s\n' "$out"; exit 1; }
state=""
while IFS= read -r line; do
  [[ "$line" =~ job-state\ \(enum\)\ =\ ([a-z-]+) ]] && state="${BASH_REMATCH[1]}"
done <<< "$out"
if [ "$state" != pending ]; then
  printf '%s\n' "$out"
  echo "held: job 1 is '${state:-unknown}', not pending"
  exit 1
fi
echo "job 1 held: $state"
