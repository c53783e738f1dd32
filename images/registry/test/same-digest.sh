#!/bin/bash
# same-digest.sh [SKOPEO-OPTION...] IMAGE IMAGE...
#   Prints the digest skopeo inspect gives each IMAGE (transport:reference, e.g.
#   oci:/kiln/store:registry:image, docker://service:5000/x:tag) and exits 1
#   unless they are all the same. Options (--tls-verify=false, --creds, --cert-dir)
#   go to every inspect. A client proof of the registry image (kiln test); bash
#   builtins and skopeo only.
set -o errexit -o nounset -o pipefail

opts=()
while [ $# -gt 0 ] && [ "${1:0:2}" = "--" ]; do
  opts+=("$1")
  shift
done
[ $# -ge 2 ] || { echo "usage: same-digest.sh [SKOPEO-OPTION...] IMAGE IMAGE..." >&2; exit 2; }

first=""
for image in "$@"; do
  digest="$(skopeo inspect "${opts[@]}" --format '{{.Digest}}' "$image")"
  printf '%s %s\n' "$digest" "$image"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || { echo "not a digest: '$digest'" >&2; exit 1; }
  if [ -z "$first" ]; then
    first="$digest"
  elif [ "$digest" != "$first" ]; then
    echo "different digests: $first, $digest" >&2
    exit 1
  fi
done
echo "same digest: $first"
