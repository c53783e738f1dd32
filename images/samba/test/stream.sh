#!/bin/bash
# Writes Finder info (an AFP_AfpInfo stream, as macOS does for every file it
# backs up) onto payload.bin in SHARE, then shows the file's streams (allinfo):
# with vfs fruit and streams_xattr the stream is kept in an xattr under /data.
#
#   stream.sh USER%PASSWORD SHARE
set -o errexit -o nounset -o pipefail
creds="${1:?usage: stream.sh USER%PASSWORD SHARE}" share="${2:?}"
cd /tmp
# AfpInfo, 60 bytes: signature "AFP\0", version 0x00000100 (big-endian), reserved, backup time, then
# 32 bytes of Finder info (type TEXT, creator kiln: not empty, or fruit drops it), 12 reserved.
{
  printf 'AFP\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00TEXTkiln'
  printf '\x00%.0s' {1..36}
} > afpinfo
smbclient "//service/$share" --port 4450 --user "$creds" \
  --command "put afpinfo payload.bin:AFP_AfpInfo; allinfo payload.bin"
