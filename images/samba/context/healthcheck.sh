#!/bin/bash
# samba healthcheck: proves smbd answers SMB, not only that its port is open.
# Sends an SMB1 NEGOTIATE offering SMB 2.002 and SMB 2.??? (what Windows and
# smbclient send first) to 127.0.0.1:SAMBA_PORT through bash's /dev/tcp, and
# passes when the answer is an SMB2 (or SMB1) message. Exit 0 healthy, 1 not.
# Bash builtins only (the runtime has no coreutils and no SMB client).
set -o nounset -o pipefail
port="${1:-${SAMBA_PORT:-4450}}"
if ! exec 3<> "/dev/tcp/127.0.0.1/$port"; then
  echo "healthcheck: nothing listens on 127.0.0.1:$port" >&2
  exit 1
fi
# NetBIOS session header (69 bytes follow), SMB1 header (command 0x72 NEGOTIATE),
# word count 0, byte count 34, then three dialects.
printf '\x00\x00\x00\x45\xffSMB\x72\x00\x00\x00\x00\x18\x53\xc8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xfe\xff\x00\x00\x00\x00\x00\x22\x00\x02NT LM 0.12\x00\x02SMB 2.002\x00\x02SMB 2.???\x00' >&3
# bash's read drops NUL bytes: the 4-byte length and the protocol id remain recognisable.
LC_ALL=C read -r -t 5 -N 12 -u 3 answer
exec 3>&-
case "${answer:-}" in
  *$'\xfe'SMB* | *$'\xff'SMB*) exit 0 ;;
  *) echo "healthcheck: 127.0.0.1:$port did not answer an SMB negotiate" >&2; exit 1 ;;
esac
