#!/bin/bash
# Client step of the apt-cache proofs (tools image, /kiln/test):
#   fetch-twice.sh URL FILE
# fetches URL through the cache twice; both answers must be FILE byte for byte
# (the file the upstream fixture serves), compared by sha256.
set -o errexit -o errtrace -o nounset -o pipefail

url="$1"
sha256() { # the sha256 of a file, with openssl (the client has no coreutils)
  local out
  out="$(openssl dgst -sha256 -r "$1")"
  echo "${out%% *}"
}
want="$(sha256 "$2")"
for i in 1 2; do
  curl --fail --silent --show-error --output /tmp/fetched "$url"
  got="$(sha256 /tmp/fetched)"
  if [ "$got" != "$want" ]; then
    echo "fetch $i of $url: sha256 $got, expected $want"
    exit 1
  fi
done
echo "twice the same sha256: $want"
