#!/bin/bash
# buildkitd on TCP with mutual TLS (clients need a certificate signed by the CA),
# a local unix socket for the healthcheck, state in /data, metrics and pprof on
# the debug port (loopback unless BUILDKIT_DEBUG_LISTEN says otherwise), logs to stdout/stderr.
set -o errexit -o nounset -o pipefail

die() {
  printf 'buildkit: %s\n' "$1" >&2
  exit 64
}

[[ "${BUILDKIT_DEBUG_PORT:-}" =~ ^[0-9]*$ ]] || die "BUILDKIT_DEBUG_PORT must be a port number or empty, not '${BUILDKIT_DEBUG_PORT:-}'"
# The address the TCP listener binds (with the host's network, 127.0.0.1 keeps it on this machine).
listen="${BUILDKIT_LISTEN:-0.0.0.0}"
[[ "$listen" =~ ^[0-9.]+$ ]] || die "BUILDKIT_LISTEN must be an IPv4 address, not '$listen'"
# The debug listener is plain HTTP without authentication (pprof profiles on demand, which costs the
# daemon CPU): loopback unless the operator names an address, e.g. 0.0.0.0 for scraping.
debug_listen="${BUILDKIT_DEBUG_LISTEN:-127.0.0.1}"
[[ "$debug_listen" =~ ^[0-9.]+$ ]] || die "BUILDKIT_DEBUG_LISTEN must be an IPv4 address, not '$debug_listen'"
# The root file system is read-only and /tmp is mounted noexec: buildkitd's temporary files go to
# the state volume, where it can run the tiny probes that find which foreign platforms binfmt
# emulates (on /tmp they cannot run, and the worker would offer the native platform only).
# (The runtime has no mkdir: the volume's root it is; buildkitd's own state sits in folders beside.)
export TMPDIR=/data
# base:runtime's XDG_RUNTIME_DIR (/tmp/runtime) does not exist here; buildkitd's file copies
# between stages make their temporary mounts there.
export XDG_RUNTIME_DIR=/tmp
args=(
  --root /data
  --addr unix:///tmp/buildkitd.sock
  --otel-socket-path /tmp/otel-grpc.sock
  --oci-worker=true --containerd-worker=false
  --oci-worker-binary /boot/runc
)
# The TCP listener exists only with mutual TLS: whoever reaches it runs builds as root.
case "${BUILDKIT_TCP:-on}" in
  on)
    certs="${BUILDKIT_CERTS:-/certs}"
    for f in ca.pem cert.pem key.pem; do
      [ -r "$certs/$f" ] || die "$certs/$f is missing: mount the CA certificate (ca.pem), the server certificate (cert.pem) and its key (key.pem) at $certs, or set BUILDKIT_TCP=off"
    done
    [[ "${BUILDKIT_PORT:-}" =~ ^[0-9]+$ ]] || die "BUILDKIT_PORT must be a port number, not '${BUILDKIT_PORT:-}'"
    args+=(--addr "tcp://$listen:$BUILDKIT_PORT" --tlscacert "$certs/ca.pem" --tlscert "$certs/cert.pem" --tlskey "$certs/key.pem")
    ;;
  off) ;;
  *) die "BUILDKIT_TCP must be on or off, not '${BUILDKIT_TCP}'" ;;
esac
[ -z "${BUILDKIT_DEBUG_PORT:-}" ] || args+=(--debugaddr "$debug_listen:$BUILDKIT_DEBUG_PORT")
exec buildkitd "${args[@]}" "$@"
