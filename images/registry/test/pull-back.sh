#!/bin/bash
# pull-back.sh [SKOPEO-COPY-OPTION...] SOURCE EXPECTED
#   Copies SOURCE (every platform, digests preserved) into an OCI layout under
#   /tmp, then checks with same-digest.sh that the copy has EXPECTED's digest.
#   The options (--src-tls-verify=false, --src-creds=..., --src-cert-dir=...) go to the copy.
set -o errexit -o nounset -o pipefail

[ $# -ge 2 ] || { echo "usage: pull-back.sh [SKOPEO-COPY-OPTION...] SOURCE EXPECTED" >&2; exit 2; }
source="${*: -2:1}"
expected="${*: -1}"

export TMPDIR="${TMPDIR:-/tmp}"
copy="oci:$TMPDIR/pulled-back:image"
skopeo copy --all --preserve-digests "${@:1:$#-2}" "$source" "$copy"
exec bash "${BASH_SOURCE[0]%/*}/same-digest.sh" "$expected" "$copy"
