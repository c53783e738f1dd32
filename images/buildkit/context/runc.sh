#!/bin/bash
# The runc buildkitd runs (--oci-worker-binary): Debian's, with its state under /tmp,
# because its default state folder, /run/runc, is on the read-only root file system.
exec /usr/sbin/runc --root /tmp/runc "$@"
