#!/bin/bash
# tests/sendmail/lib.sh - harness for milter-reword's sendmail integration
# tests: a PRIVATE sendmail 8.17 daemon (Debian's sendmail-bin, never
# installed system-wide), run from an extracted copy of the packages.
# Source it from bash:   . "$SRCDIR/tests/sendmail/lib.sh"
#
# It builds on tests/integration/lib.sh (lab dir, cleanup trap, swaks/raw
# SMTP helpers, assertions): the smtp_* helpers talk to $PF_PORT, which
# sm_setup points at the private sendmail.
#
# Why extracted packages: Debian's sendmail-bin conflicts with postfix (both
# provide mail-transport-agent), and postfix is installed here for the other
# integration tests. So `apt-get download sendmail-bin sendmail-base
# sendmail-cf m4 libwrap0` + `dpkg -x` into $SM_PREFIX (default
# $B/sendmail-prefix, cached: later runs do not download). Nothing outside
# that prefix and the lab dir is written (except apt's package lists, when
# apt-get must update them first); the system MTA is not touched.
#
# Each instance (sm_setup) lives in its lab dir:
#   $SM_DIR/etc     lab.mc, lab.cf (built with the prefix's m4 and cf files),
#                   milter-reword.mc (copy of contrib/sendmail/milter-reword.mc
#                   with only the socket path replaced), aliases(.db), hosts,
#                   service.switch, deliver.sh
#   $SM_DIR/queue   QueueDirectory (root, 0700); sendmail's processes chdir here
#   $SM_DIR/mail    delivered messages: $SM_MAILDIR/<queue id>.<user>
#   $SM_DIR/maillog sendmail's syslog lines (LD_PRELOAD shim, see syslog_shim.c:
#                   no syslog daemon runs here)
#   $SM_DIR/trace   SMTP and mailer transcript (sendmail -X)
# It listens on 127.0.0.1:$SM_PORT only (no MSA port: FEATURE(no_default_msa)),
# is $j = test.example, accepts local.test as local; known users there are the
# aliases alice, blocked, later, multi, postmaster (each delivered by
# deliver.sh as nobody) and every passwd user (local mailer, F=w); any other
# name gets sendmail's own "550 5.1.1 <x@local.test>... User unknown".
#
# sendmail runs in the foreground (-bD) in its own UTS namespace with host
# name sm.test.example: sendmail qualifies its host name before reading the
# .cf and sleeps 60 s when the name has no dot and does not resolve to a
# dotted one (a bare "vm" in /etc/hosts is not enough). Without unshare(1)
# permission the real host name is used and must resolve to a dotted name.
#
# Typical test:
#   . "$(dirname "$0")/lib.sh"
#   sm_setup                                   # milter: unix:$LAB/run/reword.sock
#   sm_reword_start "$CONF"
#   sm_start
#   assert_eq "$(smtp_rcpt_reply a@example.org nosuch@local.test)" \
#       "550 5.1.1 <nosuch@local.test>... User unknown" "unknown user"
#   t_summary
# Cleanup (EXIT/INT/TERM trap from lab_init) stops the sendmail instance(s)
# first, then the tracked milters, then removes the lab.
#
# Environment: SM_PREFIX (cache dir), plus those of tests/integration/lib.sh.
# (sendmail's -d debug flags are not offered: in daemon mode they write into
# the SMTP session. Read $SM_MAILLOG, LogLevel 14 and Milter.LogLevel 9, and
# $SM_TRACE instead.)

_SM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$_SM_LIB_DIR/../integration/lib.sh"

SM_PREFIX=${SM_PREFIX:-$B/sendmail-prefix}
SM_PACKAGES="sendmail-bin sendmail-base sendmail-cf m4 libwrap0"
SM_ROOT=$SM_PREFIX/root                          # dpkg -x tree
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail    # setgid bit cleared
SM_M4=$SM_ROOT/usr/bin/m4
SM_CF_DIR=$SM_ROOT/usr/share/sendmail/cf
SM_SHIM=$SM_PREFIX/lib/syslog_shim.so
SM_CONTRIB_MC=$SRCDIR/contrib/sendmail/milter-reword.mc
SM_PROD_SOCKET=unix:/run/milter-reword/milter-reword.sock   # as in the contrib file
SM_HOSTNAME=sm.test.example
REWORD_BIN=${REWORD_BIN:-$B/milter-reword}
export SM_PREFIX

_SM_STARTED=()      # instance dirs started by sm_start (stopped at cleanup)

# ---------------------------------------------------------------------------
# The private prefix (download once, then cached)
# ---------------------------------------------------------------------------

# sm_prefix_ok : true when $SM_PREFIX holds a complete extraction.
sm_prefix_ok() {
    [ -f "$SM_PREFIX/.complete" ] && [ -x "$SM_BIN" ] && [ -x "$SM_M4" ] \
        && [ -f "$SM_CF_DIR/m4/cf.m4" ] && [ ! -g "$SM_BIN" ]
}

# sm_prefix_ensure : make sure $SM_PREFIX is there: apt-get download the
# packages (apt-get update once if apt does not know them), dpkg -x them into
# a temporary dir, clear the setgid bit of sendmail (a setgid binary makes
# the loader ignore LD_LIBRARY_PATH, needed for the private libwrap.so.0),
# then rename it into place. Serialized with flock; every step time-limited.
# Also (re)builds the syslog shim when its source is newer.
# Returns 0 when ready, 2 when the packages could not be downloaded
# (offline), 1 on any other error (printed on stderr).
sm_prefix_ensure() {
    local lock=$SM_PREFIX.lock rc=0
    mkdir -p "$(dirname "$SM_PREFIX")" || return 1
    exec {_sm_lockfd}>"$lock" || return 1
    if ! flock -w 300 "$_sm_lockfd"; then
        echo "sendmail prefix: lock $lock busy for 300 s" >&2
        exec {_sm_lockfd}>&-
        return 1
    fi
    sm_prefix_ok || _sm_prefix_fetch || rc=$?
    [ "$rc" = 0 ] && { _sm_shim_build || rc=1; }
    exec {_sm_lockfd}>&-
    return "$rc"
}

_sm_prefix_fetch() {
    local tmp deb
    command -v apt-get >/dev/null && command -v dpkg >/dev/null \
        || { echo "sendmail prefix: apt-get/dpkg not found (Debian needed)" >&2; return 1; }
    tmp=$(mktemp -d "$SM_PREFIX.tmp.XXXXXX") || return 1
    mkdir -p "$tmp/debs" "$tmp/root"
    echo "sendmail prefix: downloading $SM_PACKAGES into $SM_PREFIX" >&2
    # APT::Sandbox::User=root: the download dir is not writable by _apt.
    if ! (cd "$tmp/debs" && timeout 120 apt-get download -q -o APT::Sandbox::User=root \
            $SM_PACKAGES >"$tmp/download.log" 2>&1); then
        # Unknown package lists (fresh machine): update once and retry.
        if grep -q 'Unable to locate package\|Can.t select candidate' "$tmp/download.log"; then
            timeout 180 apt-get update -q >>"$tmp/download.log" 2>&1
            (cd "$tmp/debs" && timeout 120 apt-get download -q -o APT::Sandbox::User=root \
                $SM_PACKAGES >>"$tmp/download.log" 2>&1)
        fi
        if [ "$(ls "$tmp/debs"/*.deb 2>/dev/null | wc -l)" -lt 5 ]; then
            sed 's/^/sendmail prefix:   /' "$tmp/download.log" | tail -n 5 >&2
            rm -rf "$tmp"
            return 2
        fi
    fi
    for deb in "$tmp/debs"/*.deb; do
        dpkg -x "$deb" "$tmp/root" || { echo "sendmail prefix: dpkg -x $deb failed" >&2; rm -rf "$tmp"; return 1; }
        dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >>"$tmp/VERSIONS"
    done
    chmod g-s "$tmp/root/usr/libexec/sendmail/sendmail"
    mkdir -p "$tmp/lib"
    rm -rf "$tmp/debs" "$tmp/download.log" "$SM_PREFIX"
    date -u +%FT%TZ >"$tmp/.complete"
    mv "$tmp" "$SM_PREFIX" || return 1
    sm_prefix_ok || { echo "sendmail prefix: incomplete after extraction" >&2; return 1; }
    echo "sendmail prefix: ready: $(paste -sd, "$SM_PREFIX/VERSIONS")" >&2
}

_sm_shim_build() {
    _sm_cc "$SM_SHIM" "$_SM_LIB_DIR/syslog_shim.c" -shared -fPIC
}

# sm_probe_build : build the fixture milter probe_milter.c (needs
# libmilter-dev) into $SM_PROBE unless it is up to date.
SM_PROBE=$SM_PREFIX/lib/probe_milter
sm_probe_build() {
    _sm_cc "$SM_PROBE" "$_SM_LIB_DIR/probe_milter.c" -lmilter -lpthread
}

# _sm_cc OUT SRC [CC ARGS...] : compile SRC to OUT when OUT is older.
_sm_cc() {
    local out=$1 src=$2; shift 2
    [ -f "$out" ] && [ "$out" -nt "$src" ] && return 0
    mkdir -p "$(dirname "$out")"
    ${CC:-cc} -O2 -Wall -Wextra -o "$out.tmp" "$src" "$@" \
        && mv "$out.tmp" "$out" \
        || { echo "sendmail tests: cannot build $out from $src" >&2; rm -f "$out.tmp"; return 1; }
}

# _sm_libdir : the multiarch dir of the private libwrap.so.0.
_sm_libdir() { dirname "$(find "$SM_ROOT" -name 'libwrap.so.0' | head -n 1)"; }

# sm_version : print "8.17.1.9" (the private sendmail's version).
sm_version() { sed -n 's/^sendmail-bin \([0-9.]*\).*/\1/p' "$SM_PREFIX/VERSIONS" | head -n 1; }

# ---------------------------------------------------------------------------
# An instance
# ---------------------------------------------------------------------------

# sm_setup [MILTER_SOCKET|none] : create a sendmail instance in $LAB/sm whose
# .mc includes (a copy of) contrib/sendmail/milter-reword.mc with the socket
# MILTER_SOCKET (default unix:$LAB/run/reword.sock; "none": no milter).
# Sets and exports SM_DIR SM_ETC SM_QUEUE SM_MAILDIR SM_MAILLOG SM_TRACE
# SM_PORT SM_SOCK (the socket path, without "unix:"), and PF_PORT=$SM_PORT for
# the smtp_* helpers. Bails out when the .cf cannot be built.
sm_setup() {
    lab_init
    sm_prefix_ok || lab_die "sendmail prefix $SM_PREFIX missing: run tests/sendmail/run.sh (it downloads it)"
    local milter=${1:-unix:$LAB/run/reword.sock}
    SM_DIR=$LAB/sm
    SM_ETC=$SM_DIR/etc
    SM_QUEUE=$SM_DIR/queue
    SM_MAILDIR=$SM_DIR/mail
    SM_MAILLOG=$SM_DIR/maillog
    SM_TRACE=$SM_DIR/trace
    SM_MILTER=$milter
    SM_SOCK=${milter#unix:}
    export SM_DIR SM_ETC SM_QUEUE SM_MAILDIR SM_MAILLOG SM_TRACE SM_MILTER SM_SOCK
    mkdir -p "$SM_ETC" "$SM_QUEUE" "$SM_MAILDIR" "$LAB/run" "$LAB/log" || lab_die "sm_setup: mkdir"
    chmod 0755 "$SM_DIR" "$SM_ETC"
    chmod 0700 "$SM_QUEUE"
    chown nobody: "$SM_MAILDIR" && chmod 0755 "$SM_MAILDIR"
    : >"$SM_MAILLOG"
    : >"$SM_ETC/local-host-names"
    : >"$SM_DIR/statistics"

    # Host and alias lookups from files only (no DNS).
    printf 'hosts files\naliases files\n' >"$SM_ETC/service.switch"
    printf '127.0.0.1 localhost %s test.example\n' "$SM_HOSTNAME" >"$SM_ETC/hosts"

    # Delivery: deliver.sh USER stores the message as MAILDIR/<queue id>.USER
    # (queue id from sendmail's own Received: header), temp name first.
    cat >"$SM_ETC/deliver.sh" <<EOF
#!/bin/sh
# deliver.sh USER - lab delivery for the private sendmail (tests/sendmail/lib.sh)
umask 022
d=$SM_MAILDIR
tmp="\$d/.tmp.\$\$"
cat >"\$tmp" || { rm -f "\$tmp"; exit 75; }
qid=\$(sed -n 's/.* with E\\{0,1\\}SMTP id \\([0-9A-Za-z]*\\).*/\\1/p' "\$tmp" | head -n 1)
mv "\$tmp" "\$d/\${qid:-noid}.\$1" || { rm -f "\$tmp"; exit 75; }
EOF
    chmod 0755 "$SM_ETC/deliver.sh"
    {
        echo "postmaster: \"|$SM_ETC/deliver.sh postmaster\""
        local u
        for u in alice blocked later multi; do echo "$u: \"|$SM_ETC/deliver.sh $u\""; done
    } >"$SM_ETC/aliases"

    # The documented snippet, with only its socket path replaced (sed on a
    # copy; the contrib file keeps the production path for admins).
    if [ "$milter" != none ]; then
        grep -qF "S=$SM_PROD_SOCKET," "$SM_CONTRIB_MC" \
            || lab_die "sm_setup: $SM_CONTRIB_MC has no S=$SM_PROD_SOCKET, to replace"
        sed "s|S=$SM_PROD_SOCKET,|S=$milter,|" "$SM_CONTRIB_MC" >"$SM_ETC/milter-reword.mc"
    fi
    SM_PORT=$(lab_free_port) || lab_die "no free port found"
    _sm_build_cf
}

# sm_add_user NAME... : make NAME@local.test a known recipient (an alias
# delivered by deliver.sh). Call it before sm_start (rebuilds aliases.db).
sm_add_user() {
    local u
    for u in "$@"; do echo "$u: \"|$SM_ETC/deliver.sh $u\"" >>"$SM_ETC/aliases"; done
    _sm_run -bi >"$SM_DIR/newaliases.out" 2>&1 \
        || { cat "$SM_DIR/newaliases.out"; lab_die "newaliases failed"; }
}

# _sm_build_cf : write lab.mc for $SM_PORT and build lab.cf and aliases.db.
_sm_build_cf() {
    local include=""
    [ "$SM_MILTER" != none ] && include="include(\`$SM_ETC/milter-reword.mc')"
    cat >"$SM_ETC/lab.mc" <<EOF
divert(-1)
# lab.mc - private sendmail for milter-reword tests (tests/sendmail/lib.sh)
divert(0)dnl
VERSIONID(\`milter-reword lab')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`test.example')dnl
define(\`QUEUE_DIR', \`$SM_QUEUE')dnl
define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$SM_ETC/aliases')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_ETC/service.switch')dnl
define(\`confHOSTS_FILE', \`$SM_ETC/hosts')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confDEF_USER_ID', \`$(id -u nobody):$(id -g nobody)')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confMILTER_LOG_LEVEL', \`9')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confAUTH_MECHANISMS', \`')dnl
define(\`confCW_FILE', \`$SM_ETC/local-host-names')dnl
define(\`confDELIVERY_MODE', \`background')dnl
dnl a busy test machine must not make the lab refuse or queue (load average limits)
define(\`confREFUSE_LA', \`1000')dnl
define(\`confQUEUE_LA', \`1000')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`LOCAL_MAILER_PATH', \`$SM_ETC/deliver.sh')dnl
define(\`LOCAL_MAILER_ARGS', \`deliver.sh \$u')dnl
define(\`LOCAL_MAILER_FLAGS', \`n9')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
LOCAL_DOMAIN(\`local.test')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
$include
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
    timeout 20 "$SM_M4" -D_CF_DIR_="$SM_CF_DIR/" "$SM_CF_DIR/m4/cf.m4" "$SM_ETC/lab.mc" \
        >"$SM_ETC/lab.cf" 2>"$SM_ETC/m4.err" && [ ! -s "$SM_ETC/m4.err" ] \
        || { cat "$SM_ETC/m4.err"; lab_die "m4 failed to build $SM_ETC/lab.cf"; }
    echo "$SM_PORT" >"$SM_DIR/port"
    PF_PORT=$SM_PORT
    export SM_PORT PF_PORT
    _sm_run -bi >"$SM_DIR/newaliases.out" 2>&1 \
        || { cat "$SM_DIR/newaliases.out"; lab_die "newaliases failed"; }
}

# _sm_cmd : set the array SM_CMD to the command line that runs the private
# sendmail with the lab .cf (append sendmail's arguments): a clean
# environment with the private libwrap and the syslog shim, in its own UTS
# namespace when allowed (see the top of this file). It execs into sendmail.
_sm_cmd() {
    local libdir
    libdir=$(_sm_libdir)
    SM_CMD=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "LD_LIBRARY_PATH=$libdir"
            "LD_PRELOAD=$SM_SHIM" "SM_SYSLOG_FILE=$SM_MAILLOG" "$SM_BIN" -C "$SM_ETC/lab.cf")
    if _sm_can_unshare; then
        SM_CMD=(unshare --uts /bin/sh -c 'hostname "$0" && exec "$@"' "$SM_HOSTNAME" "${SM_CMD[@]}")
    fi
}

# _sm_run ARGS... : run the private sendmail with ARGS, limited to 30 s.
_sm_run() {
    _sm_cmd
    timeout 30 "${SM_CMD[@]}" "$@"
}

# _sm_can_unshare : true when unshare --uts works (cached). Otherwise the real
# host name must be qualified (or resolve to a dotted name without DNS).
_SM_UNSHARE=""
_sm_can_unshare() {
    if [ -z "$_SM_UNSHARE" ]; then
        if unshare --uts /bin/true 2>/dev/null; then _SM_UNSHARE=yes; else _SM_UNSHARE=no; fi
        if [ "$_SM_UNSHARE" = no ]; then
            local h; h=$(hostname)
            [[ "$h" == *.* ]] || getent hosts "$h" | awk '{ for (i = 2; i <= NF; i++) if ($i ~ /\./) f = 1 } END { exit !f }' \
                || lab_die "host name $h is unqualified, does not resolve to a dotted name without DNS, and unshare --uts is not permitted: sendmail would sleep 60 s at start (add a qualified name to /etc/hosts)"
        fi
    fi
    [ "$_SM_UNSHARE" = yes ]
}

# sm_pid : print the pid of the running daemon (from its pid file; the
# first line of sendmail.pid); returns 1 when none runs.
sm_pid() {
    local pid
    pid=$(head -n 1 "$SM_DIR/sendmail.pid" 2>/dev/null | tr -d ' ')
    [ -n "$pid" ] && ! _lab_pid_gone "$pid" || return 1
    echo "$pid"
}

# sm_start [TIMEOUT_S] : start the daemon (-bD: foreground daemon, -X trace)
# under subreaper.py (which reaps the orphaned delivery processes at once;
# its pid in $SM_DIR/reaper.pid) and wait (default 10 s) until it listens on
# 127.0.0.1:$SM_PORT. When the port was taken meanwhile, rebuilds the .cf on
# another port (twice at most). Sets SM_PID (sendmail's pid, as in its pid
# file) and SM_START_SECONDS. Bails out when it does not come up.
sm_start() {
    local timeout=${1:-10} t0 try reaper
    t0=$(lab_now)
    sm_pid >/dev/null && lab_die "sm_start: $SM_DIR already running"
    _SM_STARTED+=("$SM_DIR")
    for try in 1 2 3; do
        rm -f "$SM_DIR/sendmail.pid"
        _sm_cmd
        python3 "$_SM_LIB_DIR/subreaper.py" "${SM_CMD[@]}" -bD -X "$SM_TRACE" \
            >>"$SM_DIR/sendmail.out" 2>&1 </dev/null &
        reaper=$!
        echo "$reaper" >"$SM_DIR/reaper.pid"
        if lab_wait_for "$timeout" _sm_up "$reaper"; then
            SM_PID=$(sm_pid)
            export SM_PID SM_START_SECONDS
            SM_START_SECONDS=$(lab_elapsed "$t0")
            return 0
        fi
        if [ "$try" -lt 3 ] && grep -q 'cannot bind: Address already in use' "$SM_MAILLOG"; then
            t_log "port $SM_PORT taken, moving to another one"
            _sm_stop_dir "$SM_DIR" 10
            SM_PORT=$(lab_free_port) || lab_die "no free port found"
            _sm_build_cf
            continue
        fi
        break
    done
    t_log "sendmail did not start; its output and log:"
    tail -n 20 "$SM_DIR/sendmail.out" "$SM_MAILLOG" 2>/dev/null | sed 's/^/#   /'
    lab_die "sm_start: sendmail in $SM_DIR did not come up on port $SM_PORT"
}
_sm_up() { ! _lab_pid_gone "$1" && lab_port_listening "$SM_PORT" && sm_pid >/dev/null; }

# sm_stop [TIMEOUT_S] : SIGTERM the daemon (it signals its SMTP children),
# wait (default 10 s) until it is gone, then until its subreaper has exited
# (every delivery finished and reaped) and no process has its cwd in the
# instance (sendmail's processes chdir into the queue); SIGKILL leftovers.
# Sets SM_STOP_SECONDS. Returns 0 when nothing is left.
sm_stop() { _sm_stop_dir "$SM_DIR" "${1:-10}"; }

_sm_stop_dir() {
    local dir=$1 timeout=$2 pid reaper t0 left
    t0=$(lab_now)
    pid=$(head -n 1 "$dir/sendmail.pid" 2>/dev/null | tr -d ' ')
    reaper=$(cat "$dir/reaper.pid" 2>/dev/null)
    if [ -n "$pid" ] && ! _lab_pid_gone "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        if ! lab_wait_for "$timeout" _lab_pid_gone "$pid"; then
            t_log "sendmail $pid of $dir did not stop in ${timeout}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    if ! lab_wait_for 5 _lab_none_under "$dir"; then
        left=$(lab_procs_under "$dir")
        t_log "leftover processes of $dir: SIGKILL: $(echo "$left" | tr '\n' ';')"
        echo "$left" | awk '{ print $1 }' | xargs -r kill -KILL 2>/dev/null
        lab_wait_for 2 _lab_none_under "$dir" || return 1
    fi
    if [ -n "$reaper" ]; then
        lab_wait_for 5 _lab_pid_gone "$reaper" || { kill -KILL "$reaper" 2>/dev/null; t_log "subreaper $reaper killed"; }
        wait "$reaper" 2>/dev/null
    fi
    export SM_STOP_SECONDS; SM_STOP_SECONDS=$(lab_elapsed "$t0")
    return 0
}

# Cleanup: stop the sendmail instances before anything else (a milter
# stopped first would make sendmail log errors), then the rest as usual.
eval "_sm_pf_cleanup_orig() $(declare -f pf_cleanup | tail -n +2)"
pf_cleanup() {
    [ "$_CLEANED" = 1 ] && return 0
    local d
    for d in "${_SM_STARTED[@]}"; do
        _sm_stop_dir "$d" 10 || t_log "cleanup: processes of $d survived"
    done
    _sm_pf_cleanup_orig
}

# sm_wait_mail QUEUE_ID [TIMEOUT_S] : wait (default 10 s) until the message
# with QUEUE_ID was delivered (sendmail delivers after the 250, in a child)
# and print the path(s) of its file(s) ($SM_MAILDIR/QUEUE_ID.<user>).
sm_wait_mail() {
    local qid=$1
    lab_wait_for "${2:-10}" _pf_mail_there_sm "$qid" || return 1
    ls -1 "$SM_MAILDIR/$qid".* 2>/dev/null
}
_pf_mail_there_sm() { compgen -G "$SM_MAILDIR/$1.*" >/dev/null; }

# sm_queue_id REPLY : the queue id of "250 2.0.0 6AMEKiQs031818 Message accepted for delivery".
sm_queue_id() { sed -n 's/^250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted for delivery$/\1/p' <<<"$1" | head -n 1; }

# sm_wait_queue_empty [TIMEOUT_S] : wait (default 10 s) until no queue file is left.
sm_wait_queue_empty() { lab_wait_for "${1:-10}" _sm_queue_empty; }
_sm_queue_empty() { [ -z "$(find "$SM_QUEUE" -type f \( -name 'qf*' -o -name 'df*' \) 2>/dev/null | head -n 1)" ]; }

# sm_log_mark / sm_log_since MARK / sm_log_wait ERE [TIMEOUT_S] [MARK] : like
# the pf_log_* functions of tests/integration/lib.sh, on $SM_MAILLOG.
sm_log_mark() { wc -l <"$SM_MAILLOG" 2>/dev/null || echo 0; }
sm_log_since() { tail -n +"$(( $1 + 1 ))" "$SM_MAILLOG" 2>/dev/null; }
sm_log_wait() {
    local ere=$1 timeout=${2:-10} mark=${3:-0}
    lab_wait_for "$timeout" _sm_log_has "$ere" "$mark" || return 1
    sm_log_since "$mark" | grep -E -m1 -- "$ere"
}
_sm_log_has() { sm_log_since "$2" | grep -Eq -- "$1"; }
# sm_log_seen ERE [TIMEOUT_S] [MARK] : sm_log_wait without output (for assert_true).
sm_log_seen() { sm_log_wait "$@" >/dev/null; }

# sm_log_problems [EXCLUDE_ERE] : print the maillog lines that show a milter
# or system problem (SYSERR, "Milter ... error/timeout", a milter in error
# state, lost connections to it), except those matching EXCLUDE_ERE. Empty
# output = clean log.
_SM_BAD_LOG='SYSERR|Milter \(.*\): (.*error|.*timeout|.*to error state)|Milter: .*(error|timeout)|milter_.*(error|unexpected)|[Ll]ost input channel|panic'
sm_log_problems() {
    if [ -n "${1:-}" ]; then
        grep -E -- "$_SM_BAD_LOG" "$SM_MAILLOG" | grep -Ev -- "$1"
    else
        grep -E -- "$_SM_BAD_LOG" "$SM_MAILLOG"
    fi
    return 0
}

# ---------------------------------------------------------------------------
# milter-reword in front of the private sendmail
# ---------------------------------------------------------------------------

# sm_reword_start CONF : start milter-reword as in production (as root, socket
# given to nobody:nogroup mode 0660, privileges dropped to nobody) on $SM_SOCK
# with CONF, pidfile $LAB/run/reword.pid, log $LAB/reword.log. sendmail's SMTP
# server runs as root, so the socket's group only has to keep others out.
# Sets RW_PID (the supervisor). Bails out when the socket does not appear.
sm_reword_start() {
    local conf=$1
    [ -x "$REWORD_BIN" ] || lab_die "$REWORD_BIN not built (make all)"
    chown nobody "$LAB/run" "$LAB/log"
    chmod 0644 "$conf"
    lab_spawn reword "$REWORD_BIN" -f -c "$conf" -p "unix:$SM_SOCK" -u nobody:nogroup \
        -P "$LAB/run/reword.pid"
    RW_PID=$LAB_PID
    lab_wait_sock "$SM_SOCK" 10 || { cat "$LAB/reword.log"; lab_die "milter-reword did not start"; }
}

# reword_audit_wait ERE [TIMEOUT_S] : wait for a matching line in the JSON audit log.
reword_audit_wait() { lab_wait_for "${2:-10}" _sm_file_has "$1" "$LAB/log/audit.jsonl"; }

# reword_log_wait ERE [TIMEOUT_S] : wait for a matching line in the daemon's log.
reword_log_wait() { lab_wait_for "${2:-10}" _sm_file_has "$1" "$LAB/reword.log"; }
_sm_file_has() { grep -Eq -- "$1" "$2" 2>/dev/null; }
