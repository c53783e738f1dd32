#!/bin/bash
# samba entrypoint: writes an smb.conf from environment variables into /tmp,
# brings the samba user database (in /data) in line with the users file, then
# runs smbd in the foreground as the only process, logging to stdout.
# Bash builtins only (the runtime has no coreutils; /boot/mkdirs makes folders).
#
#   SAMBA_PORT                  4450            the SMB port (TCP; direct SMB, no NetBIOS)
#   SAMBA_USERS_FILE            /run/secrets/samba-users
#                                               the users: one `user:password` line each (blank lines
#                                               and lines starting with # are skipped); when the
#                                               default file is absent the server starts with no user
#                                               (nobody can log in); a file named here must be readable
#   SAMBA_SHARES                share           shares, space or comma separated: NAME[:ro|rw[:USER+USER...]]
#                                               each one is the folder /data/NAME (made when missing);
#                                               rw by default; without users every user may connect
#   SAMBA_READ_ONLY             off             on: every share refuses writes (maintenance, archives)
#   SAMBA_TIMEMACHINE           off             on: a Time Machine share (vfs fruit) and Apple extensions on every share
#   SAMBA_TIMEMACHINE_SHARE     timemachine     its name and folder (/data/NAME)
#   SAMBA_TIMEMACHINE_USERS                     USER+USER... who may use it; empty: every user
#   SAMBA_TIMEMACHINE_MAX_SIZE                  the most a backup may take, e.g. 500G or 2T; empty: no limit
#   SAMBA_WORKGROUP             WORKGROUP       the workgroup (domain) name clients see
#   SAMBA_SERVER_STRING         kiln samba      the server's description
#   SAMBA_MIN_PROTOCOL          SMB2_10         the oldest dialect served: SMB2_02, SMB2_10, SMB3_00, SMB3_02, SMB3_11
#   SAMBA_ENCRYPT               desired         SMB3 encryption: off, if_required, desired, required
#   SAMBA_LOG_LEVEL             1               samba's debug level, 0-10
#   SAMBA_CONFIG                                an smb.conf (e.g. /config/smb.conf) included at the end of [global]
#                                               (its own share sections follow ours)
#
# State: /data/.samba (the user database and the server's identity: private/, and
# share and registry state: state/); caches, locks and sockets in /tmp/samba.
#
#   entrypoint.sh                 serve
#   entrypoint.sh COMMAND...      run COMMAND (e.g. `smbd --version`, `testparm -s /tmp/samba/smb.conf`)
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'samba: %s\n' "$1" >&2
  exit 64
}

onoff() { # onoff NAME VALUE
  case "$2" in on | off) ;; *) die "$1 must be on or off, not '$2'" ;; esac
}

# Samba users are unix users too (smbd looks each one up by name): they all map to
# uid 2000, from a passwd file in /tmp that nss_wrapper (preloaded) reads instead
# of /etc/passwd, which is read-only and holds only root, app and nobody.
RUN_DIR=/tmp/samba
nss_wrapper() {
  local lib
  for lib in /usr/lib/*/libnss_wrapper.so; do
    [ -f "$lib" ] || die "libnss_wrapper.so is missing"
    export LD_PRELOAD="$lib" NSS_WRAPPER_PASSWD="$RUN_DIR/passwd" NSS_WRAPPER_GROUP="$RUN_DIR/group"
  done
}

if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then
  # Tools (pdbedit, smbstatus, testparm) see the same users as the server when it wrote them.
  [ -f "$RUN_DIR/passwd" ] && nss_wrapper
  exec "$@"
fi
[ $# -eq 0 ] || die "unknown option $1 (run with no arguments to serve, or with a command)"

port="${SAMBA_PORT:-4450}"
users_file="${SAMBA_USERS_FILE:-}"
if [ -z "$users_file" ]; then
  users_file=/run/secrets/samba-users
  [ -e "$users_file" ] || users_file=""
fi
shares="${SAMBA_SHARES:-share}"
read_only="${SAMBA_READ_ONLY:-off}"
timemachine="${SAMBA_TIMEMACHINE:-off}"
tm_share="${SAMBA_TIMEMACHINE_SHARE:-timemachine}"
tm_users="${SAMBA_TIMEMACHINE_USERS:-}"
tm_max="${SAMBA_TIMEMACHINE_MAX_SIZE:-}"
workgroup="${SAMBA_WORKGROUP:-WORKGROUP}"
server_string="${SAMBA_SERVER_STRING:-kiln samba}"
min_protocol="${SAMBA_MIN_PROTOCOL:-SMB2_10}"
encrypt="${SAMBA_ENCRYPT:-desired}"
log_level="${SAMBA_LOG_LEVEL:-1}"
config="${SAMBA_CONFIG:-}"

if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  die "SAMBA_PORT must be a port number (1-65535), not '$port'"
fi
[ "$port" -gt 1023 ] || die "SAMBA_PORT must be above 1023 (smbd runs without privileges), not '$port': map 445 to it on the host"
onoff SAMBA_READ_ONLY "$read_only"
onoff SAMBA_TIMEMACHINE "$timemachine"
case "$min_protocol" in SMB2_02 | SMB2_10 | SMB3_00 | SMB3_02 | SMB3_11) ;; *) die "SAMBA_MIN_PROTOCOL must be SMB2_02, SMB2_10, SMB3_00, SMB3_02 or SMB3_11, not '$min_protocol'" ;; esac
case "$encrypt" in off | if_required | desired | required) ;; *) die "SAMBA_ENCRYPT must be off, if_required, desired or required, not '$encrypt'" ;; esac
[[ "$log_level" =~ ^([0-9]|10)$ ]] || die "SAMBA_LOG_LEVEL must be 0-10, not '$log_level'"
[[ "$workgroup" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$ ]] || die "SAMBA_WORKGROUP must be 1-15 letters, digits, _ . or -, not '$workgroup'"
[[ "$server_string" =~ ^[[:print:]]{0,64}$ ]] || die "SAMBA_SERVER_STRING must be printable text of 64 characters or fewer"
[ -z "$tm_max" ] || [[ "$tm_max" =~ ^[1-9][0-9]*[KMGTP]?$ ]] || die "SAMBA_TIMEMACHINE_MAX_SIZE must be a size like 500G or 2T, not '$tm_max'"
if [ -n "$config" ] && { ! [ -f "$config" ] || ! [ -r "$config" ]; }; then die "SAMBA_CONFIG=$config is not a readable file"; fi

# ---------------------------------------------------------------------------
# Users: USER:PASSWORD lines (the password is everything after the first colon).
USER_RE='^[a-z_][a-z0-9_.-]{0,31}$'
declare -A password=()
user_order=()
if [ -z "$users_file" ]; then
  printf 'samba: no users file (/run/secrets/samba-users is absent, SAMBA_USERS_FILE is empty): nobody can log in; the user database is left as it is\n' >&2
else
  { [ -f "$users_file" ] && [ -r "$users_file" ]; } ||
    die "SAMBA_USERS_FILE=$users_file is not a readable file (mount it read-only, e.g. -v ./samba-users:$users_file:ro)"
  n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line="${line%$'\r'}"
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    [[ "$line" == *:* ]] || die "SAMBA_USERS_FILE: line $n of $users_file is not user:password"
    user="${line%%:*}" pw="${line#*:}"
    [[ "$user" =~ $USER_RE ]] || die "SAMBA_USERS_FILE: line $n of $users_file: user name '$user' must be lower-case letters, digits, _ . or - (32 at most)"
    case "$user" in root | app | nobody) die "SAMBA_USERS_FILE: line $n of $users_file: '$user' is a reserved name" ;; esac
    [ -n "$pw" ] || die "SAMBA_USERS_FILE: line $n of $users_file: user $user has an empty password"
    [ -z "${password[$user]+x}" ] || die "SAMBA_USERS_FILE: line $n of $users_file: user $user is listed twice"
    password[$user]="$pw"
    user_order+=("$user")
  done < "$users_file"
  [ ${#user_order[@]} -gt 0 ] || die "SAMBA_USERS_FILE: $users_file holds no user"
fi

valid_users() { # valid_users WHAT USER+USER... -> "u1 u2" on stdout
  local list=() u
  IFS=+ read -r -a list <<< "$2"
  for u in "${list[@]}"; do
    [ -n "${password[$u]+x}" ] || die "$1: user '$u' is not in ${users_file:-the users file (there is none)}"
  done
  printf '%s' "${list[*]}"
}

# ---------------------------------------------------------------------------
# Shares.
SHARE_RE='^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'
declare -A seen=()
share_conf=""
share_dirs=()
IFS=$' \t\n,' read -r -a share_list <<< "$shares"
[ ${#share_list[@]} -gt 0 ] || die "SAMBA_SHARES is empty: name at least one share"
for spec in "${share_list[@]}"; do
  IFS=: read -r name mode users extra <<< "$spec"
  [ -z "${extra:-}" ] || die "SAMBA_SHARES: '$spec' is not NAME[:ro|rw[:USER+USER...]]"
  [[ "$name" =~ $SHARE_RE ]] || die "SAMBA_SHARES: share name '$name' must be letters, digits, _ or - (64 at most, not starting with _ or -)"
  case "${name,,}" in global | homes | printers | print\$ | ipc\$) die "SAMBA_SHARES: '$name' is a reserved share name" ;; esac
  [ -z "${seen[${name,,}]+x}" ] || die "SAMBA_SHARES: share '$name' is listed twice"
  seen[${name,,}]=1
  mode="${mode:-rw}"
  case "$mode" in rw | ro) ;; *) die "SAMBA_SHARES: '$spec': the mode must be ro or rw, not '$mode'" ;; esac
  ro=no
  { [ "$mode" = ro ] || [ "$read_only" = on ]; } && ro=yes
  share_conf+="
[$name]
  path = /data/$name
  read only = $ro"
  [ -z "${users:-}" ] || share_conf+="
  valid users = $(valid_users "SAMBA_SHARES ($spec)" "$users")"
  share_dirs+=("/data/$name")
done

fruit_global=""
if [ "$timemachine" = on ]; then
  [[ "$tm_share" =~ $SHARE_RE ]] || die "SAMBA_TIMEMACHINE_SHARE must be letters, digits, _ or -, not '$tm_share'"
  [ -z "${seen[${tm_share,,}]+x}" ] || die "SAMBA_TIMEMACHINE_SHARE: '$tm_share' is also in SAMBA_SHARES"
  # Apple's SMB extensions (AAPL) are negotiated on the first tree connect: fruit
  # goes on every share. Metadata and resource forks are kept in xattrs of /data.
  fruit_global="
  vfs objects = catia fruit streams_xattr
  fruit:metadata = stream
  fruit:model = MacSamba
  fruit:posix_rename = yes
  fruit:veto_appledouble = no
  fruit:nfs_aces = no
  fruit:wipe_intentionally_left_blank_rfork = yes
  fruit:delete_empty_adfiles = yes"
  ro=no
  [ "$read_only" = on ] && ro=yes
  share_conf+="
[$tm_share]
  path = /data/$tm_share
  read only = $ro
  fruit:time machine = yes"
  [ -z "$tm_max" ] || share_conf+="
  fruit:time machine max size = $tm_max"
  [ -z "$tm_users" ] || share_conf+="
  valid users = $(valid_users SAMBA_TIMEMACHINE_USERS "$tm_users")"
  share_dirs+=("/data/$tm_share")
fi

include=""
[ -z "$config" ] || include="
  include = $config"

# ---------------------------------------------------------------------------
# Folders. /data is a volume of uid 2000 (docker gives a new named volume the image's owner).
STATE=/data/.samba
if ! [ -w /data ]; then
  if [ "$read_only" = on ] && [ -d "$STATE/private" ]; then
    : # a read-only server may run on a read-only mount once its state exists (users are then as last written)
  else
    die "/data is not writable by uid ${UID}: mount a volume there (e.g. -v samba-data:/data)"
  fi
fi
[ -w /tmp ] || die "/tmp is not writable: mount a tmpfs there (--tmpfs /tmp)"
umask 077
mkdirs 0700 "$RUN_DIR" "$RUN_DIR/lock" "$RUN_DIR/cache" "$RUN_DIR/run" "$RUN_DIR/ncalrpc"
if [ -w /data ]; then
  mkdirs 0700 "$STATE/private" "$STATE/state"
  umask 027
  mkdirs 0750 "${share_dirs[@]}"
  umask 077
fi
for dir in "${share_dirs[@]}"; do [ -d "$dir" ] || die "share folder $dir is missing and /data is read-only"; done

# The unix accounts (see nss_wrapper above).
{
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\napp:x:2000:2000:app:/tmp:/usr/sbin/nologin\n'
  printf 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n'
  for user in "${user_order[@]}"; do printf '%s:x:2000:2000:%s:/tmp:/usr/sbin/nologin\n' "$user" "$user"; done
} > "$RUN_DIR/passwd"
printf 'root:x:0:\napp:x:2000:%s\nnogroup:x:65534:\n' "$(IFS=,; printf '%s' "${user_order[*]}")" > "$RUN_DIR/group"

conf="$RUN_DIR/smb.conf"
printf '%s\n' "# written by /boot/entrypoint.sh from SAMBA_* variables
[global]
  server role = standalone server
  workgroup = $workgroup
  server string = $server_string
  smb ports = $port
  disable netbios = yes
  server min protocol = $min_protocol
  server smb encrypt = $encrypt
  security = user
  passdb backend = tdbsam:$STATE/private/passdb.tdb
  private dir = $STATE/private
  state directory = $STATE/state
  lock directory = $RUN_DIR/lock
  cache directory = $RUN_DIR/cache
  pid directory = $RUN_DIR/run
  ncalrpc dir = $RUN_DIR/ncalrpc
  log level = $log_level
  log file = /dev/stdout
  max log size = 0
  map to guest = never
  restrict anonymous = 2
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  usershare max shares = 0
  unix password sync = no
  obey pam restrictions = no
  kernel oplocks = no
  kernel change notify = no
  create mask = 0640
  directory mask = 0750$fruit_global$include
$share_conf" > "$conf"

# ---------------------------------------------------------------------------
# The user database: every user of the file with its password, no one else.
nss_wrapper
if [ -w /data ] && [ -n "$users_file" ]; then
  for user in "${user_order[@]}"; do
    # pdbedit -a adds the user, or sets the password of one that exists (its SID stays).
    pw="${password[$user]}"
    out="$(printf '%s\n%s\n' "$pw" "$pw" | pdbedit -s "$conf" -a -u "$user" -t 2>&1)" ||
      die "could not add user $user to the samba database: ${out//$'\n'/ }"
  done
  unset pw password
  while IFS=: read -r user _; do
    [ -n "$user" ] || continue
    case " ${user_order[*]} " in *" $user "*) continue ;; esac
    pdbedit -s "$conf" -x -u "$user" > /dev/null || die "could not remove user $user from the samba database"
    printf 'samba: removed user %s (not in %s)\n' "$user" "$users_file"
  done < <(pdbedit -s "$conf" -L 2> /dev/null)
fi
unset password

printf 'samba: serving %s on port %s for %s user(s)%s\n' "$(IFS=,; printf '%s' "${share_list[*]}")" "$port" "${#user_order[@]}" \
  "$([ "$timemachine" = on ] && printf ', Time Machine share %s' "$tm_share")"
exec smbd --foreground --no-process-group --debug-stdout --configfile="$conf"
