#!/bin/bash
# Cross-compilation bench: the compile step of the same C build (Lua 5.4 + the
# healthcheck) for amd64 and arm64, cross-compiled on the build platform, and the
# emulated alternative (the target platform's gcc under qemu), in one run.
# Writes bench/results/cross-<UTC date>.json and prints a table for bench/README.md.
#
#   bench/cross.sh BUILDER DEBIAN DEBS [RUNS]
#     BUILDER, DEBIAN  oci-layout://<dir>@sha256:<index> of base:builder and debian
#     DEBS             a folder with amd64/ and arm64/ flat repositories (gcc, libc6-dev)
#     RUNS             timed runs per case (default 3; the median is reported)
set -o errexit -o nounset -o pipefail

here="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 3 ] || { sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
builder="$1" debian="$2" debs="$3" runs="${4:-3}"
lua_url=http://deb.debian.org/debian/pool/main/l/lua5.4/lua5.4_5.4.4.orig.tar.gz
lua_sha256=164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/cross/Dockerfile" "$here/cross/compile.sh" "$work/"
cp "$here/../images/base/context/healthcheck/healthcheck.c" "$work/"
curl -fsSL -o "$work/lua.tar.gz" "$lua_url"
echo "$lua_sha256  $work/lua.tar.gz" | sha256sum -c --quiet -

build() { # build TARGET PLATFORM [extra buildx args] -> rawjson progress on stdout
  local target="$1" platform="$2"
  shift 2
  docker buildx build --progress=rawjson --provenance=false --sbom=false \
    --build-context "builder=$builder" --build-context "debian=$debian" --build-context "debs=$debs" \
    --platform "$platform" --target "$target" --output type=cacheonly "$@" "$work" 2>&1
}

# Seconds the compile step took, from BuildKit's own vertex timestamps.
step_seconds() {
  node -e '
    let best = 0;
    // rawjson: a stream of pretty-printed JSON objects, each closing with "}" alone on a line.
    const objects = require("fs").readFileSync(0, "utf8").split(/^}$/m).map((o) => o.trim()).filter((o) => o.startsWith("{"));
    for (const text of objects) {
      for (const v of JSON.parse(text + "}").vertexes ?? []) {
        if (v.name?.includes("compile.sh") && v.started && v.completed && !v.cached) {
          best = Math.max(best, (Date.parse(v.completed) - Date.parse(v.started)) / 1000);
        }
      }
    }
    if (!best) { console.error("no timed compile step in the build output"); process.exit(1); }
    console.log(best.toFixed(2));'
}

echo "warming the toolchains (not timed)..." >&2
build cross-tools linux/amd64 > /dev/null
build emulated-tools linux/amd64 > /dev/null
build emulated-tools linux/arm64 > /dev/null

declare -A times=()
for run in $(seq 1 "$runs"); do
  for c in "cross linux/amd64" "cross linux/arm64" "emulated linux/amd64" "emulated linux/arm64"; do
    read -r target platform <<< "$c"
    s="$(build "$target" "$platform" --no-cache-filter "$target" | step_seconds)"
    times["$target $platform"]+="$s "
    echo "run $run: $target $platform ${s}s" >&2
  done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ca="$(median <<< "${times[cross linux/amd64]}")"
cx="$(median <<< "${times[cross linux/arm64]}")"
ea="$(median <<< "${times[emulated linux/amd64]}")"
ex="$(median <<< "${times[emulated linux/arm64]}")"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

mkdir -p "$here/results"
out="$here/results/cross-$(date -u +%Y%m%dT%H%M%SZ).json"
cat > "$out" <<JSON
{
  "bench": "cross",
  "program": "lua 5.4.4 (lua + luac) and healthcheck, -O2 hardened",
  "runs": $runs,
  "host": "$(uname -m), $(nproc) cores",
  "seconds": {
    "cross amd64": [${times[cross linux/amd64]// /, }],
    "cross arm64": [${times[cross linux/arm64]// /, }],
    "native amd64": [${times[emulated linux/amd64]// /, }],
    "emulated arm64": [${times[emulated linux/arm64]// /, }]
  },
  "median": { "cross amd64": $ca, "cross arm64": $cx, "native amd64": $ea, "emulated arm64": $ex },
  "ratio": { "cross arm64 / cross amd64": $(ratio "$cx" "$ca"), "emulated arm64 / cross amd64": $(ratio "$ex" "$ca") }
}
JSON
sed -i 's/, \]/]/g' "$out"
cat << TABLE
| compile step (median of $runs) | seconds | vs amd64 |
|---|---|---|
| amd64, on the build platform | $ca | 1.00 |
| arm64, cross-compiled on the build platform | $cx | $(ratio "$cx" "$ca") |
| amd64, the target's own gcc (native here) | $ea | $(ratio "$ea" "$ca") |
| arm64, the target's own gcc under qemu | $ex | $(ratio "$ex" "$ca") |
TABLE
echo "wrote $out" >&2
