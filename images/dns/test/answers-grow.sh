#!/bin/bash
# Client step of the dns proofs (tools image, /kiln/test): the resolver's answer
# counters on /metrics grow with the answers it gives, a good one and a bogus one.
set -o errexit -o errtrace -o nounset -o pipefail

metrics_url="http://service:${DNS_HTTP_PORT:-8453}/metrics"

counters() { # prints "answer_total answer_noerror answer_servfail", read with bash builtins
  local text name value total="" noerror="" servfail=""
  text="$(curl --fail --silent --show-error "$metrics_url")"
  while read -r name value _; do
    case "$name" in
      answer_total) total="${value%%.*}" ;;
      answer_noerror) noerror="${value%%.*}" ;;
      answer_servfail) servfail="${value%%.*}" ;;
    esac
  done <<< "$text"
  if [ -z "$total" ] || [ -z "$noerror" ] || [ -z "$servfail" ]; then
    echo "no answer_total, answer_noerror and answer_servfail at $metrics_url" >&2
    return 1
  fi
  echo "$total $noerror $servfail"
}

before="$(counters)"
read -r total0 noerror0 servfail0 <<< "$before"
kdig @service -p "${DNS_PORT:-5353}" signed.kiln.test A > /dev/null
kdig @service -p "${DNS_PORT:-5353}" broken.kiln.test A > /dev/null
after="$(counters)"
read -r total1 noerror1 servfail1 <<< "$after"
echo "answer_total $total0 -> $total1, answer_noerror $noerror0 -> $noerror1, answer_servfail $servfail0 -> $servfail1"
if [ "$total1" -ge $((total0 + 2)) ] && [ "$noerror1" -gt "$noerror0" ] && [ "$servfail1" -gt "$servfail0" ]; then
  echo "answer counters grew"
else
  echo "answer counters did not grow"
  exit 1
fi
