#!/bin/bash
# The samba proofs' client side, run in the tools image (smbclient, openssl, bash):
#
#   smb.sh put USER%PASSWORD SHARE      puts payload.bin into SHARE, prints its sha256
#   smb.sh get USER%PASSWORD SHARE      gets payload.bin back, compares it byte for byte
#                                       (sha256) with the payload, prints "same sha256: HASH"
#
# The payload is 1 MiB of AES-CTR output under a fixed key: incompressible, and the
# same in every container, so a later step (after a restart) can check it again.
set -o errexit -o nounset -o pipefail
mode="${1:?usage: smb.sh put|get USER%PASSWORD SHARE}" creds="${2:?}" share="${3:?}"
cd /tmp
printf '%*s' 1048576 '' > zeros
openssl enc -aes-256-ctr -nosalt -K 6b696c6e2d73616d62612d70726f6f662d7061796c6f61642d6b65792d333221 \
  -iv 00000000000000000000000000000000 -in zeros -out payload.bin
sha() { local h _; read -r h _ < <(openssl dgst -sha256 -r "$1"); printf '%s' "$h"; }
smb() { smbclient "//service/$share" --port 4450 --user "$creds" --command "$1"; }
case "$mode" in
  put)
    smb "put payload.bin payload.bin"
    printf 'put sha256: %s\n' "$(sha payload.bin)"
    ;;
  get)
    smb "get payload.bin back.bin"
    want="$(sha payload.bin)" got="$(sha back.bin)"
    if [ "$want" != "$got" ]; then
      printf 'differs: sent sha256 %s, got back %s\n' "$want" "$got"
      exit 1
    fi
    printf 'same sha256: %s\n' "$got"
    ;;
  *) echo "usage: smb.sh put|get USER%PASSWORD SHARE" >&2; exit 2 ;;
esac
