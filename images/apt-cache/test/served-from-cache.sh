#!/bin/bash
# Client step of the apt-cache proofs (tools image, /kiln/test): the report
# page's transfer statistics since startup. After the package was fetched twice
# (and the Release file twice), the cache served clearly more than it fetched
# from the upstream: the second copy came from the cache.
set -o errexit -o errtrace -o nounset -o pipefail

page="$(curl --fail --silent --show-error "http://service:${APT_CACHE_PORT:-3142}/acng-report.html")"
page="${page//$'\n'/ }"

bytes() { # bytes LABEL: the "since startup" figure after LABEL on the page (e.g. "347 KiB"), in bytes
  local re="$1</td>[^<]*<td[^>]*>[^<]*<img[^>]*>[[:space:]]*([0-9]+)(\.([0-9]))?[[:space:]]*([KMG]?i?B)"
  [[ "$page" =~ $re ]] || { echo "no '$1' figure on the report page" >&2; return 1; }
  local whole="${BASH_REMATCH[1]}" tenth="${BASH_REMATCH[3]:-0}" unit="${BASH_REMATCH[4]}" scale=1
  case "$unit" in KiB | KB) scale=1024 ;; MiB | MB) scale=1048576 ;; GiB | GB) scale=1073741824 ;; esac
  echo $(((whole * 10 + tenth) * scale / 10))
}

fetched="$(bytes "Data fetched:")"
served="$(bytes "Data served:")"
echo "since startup: fetched $fetched bytes from the upstream, served $served bytes"
if [ "$fetched" -gt 0 ] && [ "$served" -ge $((fetched * 3 / 2)) ]; then
  echo "served from the cache: $((served - fetched)) bytes more served than fetched"
else
  echo "the cache did not serve the second copy itself"
  exit 1
fi
