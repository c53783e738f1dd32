#!/bin/bash
# cups entrypoint: writes cupsd's configuration (cups-files.conf, cupsd.conf) and one
# print queue (printers.conf and its PPD) from environment variables into /tmp/cups,
# then runs cupsd in the foreground as the only process, as the container's user,
# logging to stderr. Bash builtins only (the runtime has no coreutils; mkdir is
# bash's loadable builtin from Debian's bash-builtins).
#
#   CUPS_PORT          6310                 IPP and the web interface (HTTP)
#   CUPS_QUEUE         pdf                  the queue's name: ipp://HOST:PORT/printers/NAME
#   CUPS_QUEUE_INFO    PDF files in /data/output   its description
#   CUPS_QUEUE_STATE   idle                 idle (prints) | stopped (accepts jobs, holds them)
#                                           | rejecting (refuses new jobs)
#   CUPS_OUTPUT        /data/output/NAME.pdf  the file each job is written to (each job replaces it)
#   CUPS_PAPER         A4                   A4 | Letter: the queue's default page size
#   CUPS_LOG_LEVEL     info                 error | warn | notice | info | debug
#   CUPS_MAX_JOBS      500                  jobs kept in the history (0: no limit)
#
#   entrypoint.sh               serve
#   entrypoint.sh COMMAND...    run COMMAND (e.g. `cupsd -h`)
set -o errexit -o errtrace -o functrace -o nounset -o pipefail

die() {
  printf 'cups: %s\n' "$1" >&2
  exit 64
}

if [ $# -gt 0 ]; then
  case "$1" in
    -*) die "unknown option $1 (run with no arguments to serve)" ;;
    *) exec "$@" ;;
  esac
fi

enable -f /usr/lib/bash/mkdir mkdir

port="${CUPS_PORT:-6310}"
queue="${CUPS_QUEUE:-pdf}"
info="${CUPS_QUEUE_INFO:-PDF files in /data/output}"
state="${CUPS_QUEUE_STATE:-idle}"
output="${CUPS_OUTPUT:-/data/output/$queue.pdf}"
paper="${CUPS_PAPER:-A4}"
log_level="${CUPS_LOG_LEVEL:-info}"
max_jobs="${CUPS_MAX_JOBS:-500}"

if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  die "CUPS_PORT must be a port number (1-65535), not '$port'"
fi
# CUPS' own rule for queue names: printable, no space, /, #, ' or ", at most 127 bytes.
[[ "$queue" =~ ^[A-Za-z0-9_.-]{1,127}$ ]] || die "CUPS_QUEUE must be 1-127 letters, digits, '.', '_' or '-', not '$queue'"
[[ "$info" =~ ^[[:print:]]{0,127}$ ]] || die "CUPS_QUEUE_INFO must be printable text of at most 127 characters"
case "$state" in
  idle) printer_state=Idle accepting=Yes ;;
  stopped) printer_state=Stopped accepting=Yes ;;
  rejecting) printer_state=Idle accepting=No ;;
  *) die "CUPS_QUEUE_STATE must be idle, stopped or rejecting, not '$state'" ;;
esac
case "$paper" in
  A4 | a4) paper=A4 ;;
  Letter | letter) paper=Letter ;;
  *) die "CUPS_PAPER must be A4 or Letter, not '$paper'" ;;
esac
case "$log_level" in error | warn | notice | info | debug) ;; *) die "CUPS_LOG_LEVEL must be error, warn, notice, info or debug, not '$log_level'" ;; esac
[[ "$max_jobs" =~ ^[0-9]+$ ]] || die "CUPS_MAX_JOBS must be a number of jobs (0: no limit), not '$max_jobs'"
[[ "$output" =~ ^/data/[A-Za-z0-9._/-]+$ && "$output" != */ && "$output" != *..* ]] ||
  die "CUPS_OUTPUT must be a file under /data (letters, digits and ._-/), not '$output'"

# State lives in /data: a volume writable by this user (docker gives a new named
# volume the image's owner): the job history and spool, and the printed files.
{ [ -d /data ] && [ -w /data ]; } || die "/data is not writable by uid ${UID}: mount a volume there (e.g. -v cups-data:/data)"
out_dir="${output%/*}"
mkdir -p "$out_dir" || die "CUPS_OUTPUT=$output: cannot make $out_dir"
[ -w "$out_dir" ] || die "CUPS_OUTPUT=$output: $out_dir is not writable by uid ${UID}"
[ ! -d "$output" ] || die "CUPS_OUTPUT=$output is a folder: name a file"

# cupsd runs everything it starts (filters, the CGI-less web pages) as this user:
# it cannot change users without root. It is named by number: the container may
# run as any uid, with or without an /etc/passwd entry. The primary group comes from
# the kernel (/proc/self/status: "Gid: real effective saved fs").
gid=""
while read -r key a _; do [ "$key" != Gid: ] || gid="$a"; done < /proc/self/status
[ -n "$gid" ] || die "cannot read this process's group id from /proc/self/status"

root=/tmp/cups
for dir in "$root" "$root/ppd" "$root/run" "$root/tmp"; do
  [ -d "$dir" ] || mkdir -m 0700 "$dir"
done

# cups-files.conf: the paths and the file-device switch (cupsd reads it before cupsd.conf).
# SystemGroup: Debian's default (lpadmin) does not exist here; administrators would have
# to authenticate through PAM, which has no service configured, so no one is one.
# FileDevice Yes lets a queue print to a file: URI, which cupsd opens itself (no backend).
printf '%s\n' "# Written by /boot/entrypoint.sh from the CUPS_* variables at start.
User $UID
Group $gid
SystemGroup root
ServerRoot $root
StateDir $root/run
TempDir $root/tmp
CacheDir /data/cache
RequestRoot /data/spool
ServerBin /usr/lib/cups
DataDir /usr/share/cups
DocumentRoot /usr/share/cups/doc-root
FileDevice Yes
ErrorLog stderr
AccessLog stderr
PageLog stderr
Printcap $root/run/printcap
ConfigFilePerm 0600
LogFilePerm 0600" > "$root/cups-files.conf"

# cupsd.conf: listen on all addresses, any Host header (the container is reached by
# a service name or a published port), printing open to whoever reaches the port.
# Administrative operations keep CUPS' default policy (user @SYSTEM, authenticated):
# no PAM service is configured, so they are refused; the queue is set by CUPS_*.
printf '%s\n' "# Written by /boot/entrypoint.sh from the CUPS_* variables at start.
Listen 0.0.0.0:$port
ServerAlias *
LogLevel $log_level
MaxLogSize 0
WebInterface Yes
Browsing No
BrowseLocalProtocols none
DefaultPaperSize $paper
MaxJobs $max_jobs
PreserveJobHistory Yes
PreserveJobFiles No
<Location />
  Order allow,deny
  Allow all
</Location>" > "$root/cupsd.conf"

# The queue: Debian's PDF filter chain (pdftopdf, imagetopdf, rastertopdf) into
# the PDF PPD shipped with the image, written by cupsd to a file. The PPD's default
# page size follows CUPS_PAPER.
ppd=""
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    '*DefaultPageSize:'*) line="*DefaultPageSize: $paper" ;;
    '*DefaultPageRegion:'*) line="*DefaultPageRegion: $paper" ;;
    '*DefaultImageableArea:'*) line="*DefaultImageableArea: $paper" ;;
    '*DefaultPaperDimension:'*) line="*DefaultPaperDimension: $paper" ;;
  esac
  ppd+="$line"$'\n'
done < /usr/share/cups/model/kiln-pdf.ppd
printf '%s' "$ppd" > "$root/ppd/$queue.ppd"

printf '%s\n' "# Written by /boot/entrypoint.sh from the CUPS_* variables at start.
<DefaultPrinter $queue>
Info $info
MakeModel Generic PDF
DeviceURI file://$output
State $printer_state
Accepting $accepting
Shared Yes
JobSheets none none
QuotaPeriod 0
PageLimit 0
KLimit 0
OpPolicy default
ErrorPolicy abort-job
</DefaultPrinter>" > "$root/printers.conf"

printf 'cups: queue %s (%s, %s) prints to %s; IPP and web on port %s\n' "$queue" "$state" "$paper" "$output" "$port" >&2
exec cupsd -f -c "$root/cupsd.conf" -s "$root/cups-files.conf"
