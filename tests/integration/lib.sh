#!/bin/bash
# tests/integration/lib.sh - shared harness for milter-reword's integration
# tests and benchmarks. Source it from bash (it uses bash features: local,
# arrays, $RANDOM, [[ ]]):   . "$SRCDIR/tests/integration/lib.sh"
#
# It runs PRIVATE Postfix instances only (never the system one): each one lives
# in its own lab directory, listens on 127.0.0.1:<free port>, logs to its own
# maillog file and delivers to discard(8) or to files in the lab.
#
# Typical test:
#   . "$SRCDIR/tests/integration/lib.sh"
#   pf_setup                       # lab dir + instance in $LAB/pf, sets PF_PORT...
#   pf_set_milter "unix:$LAB/m.sock"
#   lab_spawn milter "$B/fixtures/nullmilter" -f -p "unix:$LAB/m.sock"
#   lab_wait_sock "$LAB/m.sock"
#   pf_start
#   assert_eq "$(smtp_rcpt_reply a@example.org nobody@local.test)" \
#       "550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table" \
#       "unknown user"
#   assert_eq "$(pf_maillog_warnings)" "" "no warnings in maillog"
#   t_summary                      # last command: prints "N passed, N failed"
#
# Everything started through this file (Postfix instances, processes given to
# lab_track_pid or lab_spawn) is stopped by pf_cleanup, which lab_init installs
# as EXIT/INT/TERM trap. Every wait is bounded.
#
# Environment knobs (all optional):
#   B, SRCDIR      build dir and source dir (default: derived from this file)
#   LAB_ROOT       where lab dirs are created (default /tmp)
#   KEEP_LAB=1     keep the lab dir after the test (it is always kept when an
#                  assertion failed, and its path is printed)
#   PF_DELIVER     discard (default) or maildir: see pf_setup
#   PF_VERBOSE=1   print the SMTP transcript of every smtp_* call (on stderr)

# ---------------------------------------------------------------------------
# Globals
# ---------------------------------------------------------------------------
_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(cd "$_LIB_DIR/../.." && pwd)}"
: "${B:=$SRCDIR/build}"
export SRCDIR B

POSTFIX_BIN=${POSTFIX_BIN:-/usr/sbin/postfix}
POSTCONF_BIN=${POSTCONF_BIN:-/usr/sbin/postconf}
POSTMAP_BIN=${POSTMAP_BIN:-/usr/sbin/postmap}

LAB=""              # lab directory of this test (set by lab_init)
_LAB_PIDS=()        # processes to stop at cleanup (lab_track_pid)
_PF_STARTED=()      # config dirs of Postfix instances that pf_start started
_CLEANED=0
T_PASS=0            # assertion counters (read them, don't write them)
T_FAIL=0
SMTP_LOG=""         # transcript file of the last smtp_* call run in this shell
                    # (calls inside $(...) record it in $LAB/smtp.last)

# ---------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------

# t_log MSG... : print a diagnostic line ("# MSG") on stdout.
t_log() { printf '# %s\n' "$*"; }

# lab_die MSG... : print "Bail out! MSG", count one failure, print the summary
# line and exit 1 (cleanup runs via the EXIT trap).
lab_die() {
    printf 'Bail out! %s\n' "$*"
    T_FAIL=$((T_FAIL + 1))
    printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
    exit 1
}

# lab_now : print the time in seconds with milliseconds (e.g. 12345.678).
lab_now() { date +%s.%3N; }

# lab_elapsed START : print seconds elapsed since START (a lab_now value).
lab_elapsed() { awk -v a="$1" -v b="$(lab_now)" 'BEGIN { printf "%.2f\n", b - a }'; }

# lab_wait_for TIMEOUT_S CMD... : run CMD every 0.05 s until it succeeds;
# returns 0 when it did, 1 after TIMEOUT_S seconds (fractions allowed).
lab_wait_for() {
    local timeout=$1; shift
    local deadline
    deadline=$(awk -v n="$(lab_now)" -v t="$timeout" 'BEGIN { printf "%.3f", n + t }')
    while :; do
        "$@" && return 0
        awk -v n="$(lab_now)" -v d="$deadline" 'BEGIN { exit !(n >= d) }' && return 1
        sleep 0.05
    done
}

# lab_init : create this test's unique lab dir (exported as LAB, mode 0755 so
# that the postfix user can reach sockets in it) and install pf_cleanup as the
# EXIT/INT/TERM trap. Idempotent; pf_setup calls it for you.
lab_init() {
    [ -n "$LAB" ] && [ -d "$LAB" ] && return 0
    local root=${LAB_ROOT:-/tmp}
    mkdir -p "$root" || lab_die "cannot create LAB_ROOT $root"
    LAB=$(mktemp -d "$root/mrlab.XXXXXX") || lab_die "mktemp -d failed under $root"
    chmod 0755 "$LAB"
    export LAB
    trap 'pf_cleanup' EXIT
    trap '_lab_signalled INT 130' INT
    trap '_lab_signalled TERM 143' TERM
}

# lab_rules_dir : copy the shipped rule packs (conf/rules.d) into $LAB/rules.d
# and print that path. The daemon reads its rules as nobody, who may not be
# able to enter the checkout (a clone under a 0700 directory): a lab config
# includes this copy, never the checkout's files.
lab_rules_dir() {
    lab_init
    mkdir -p "$LAB/rules.d"
    cp "$SRCDIR"/conf/rules.d/*.conf "$LAB/rules.d/"
    chmod 0755 "$LAB/rules.d"
    chmod 0644 "$LAB"/rules.d/*.conf
    printf '%s\n' "$LAB/rules.d"
}

# _lab_signalled SIG STATUS : INT/TERM trap: count a failure, print the
# summary line, clean up and exit with STATUS.
_lab_signalled() {
    trap - "$1"
    printf 'Bail out! interrupted by SIG%s\n' "$1"
    T_FAIL=$((T_FAIL + 1))
    printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
    pf_cleanup
    exit "$2"
}

# lab_track_pid PID... : have pf_cleanup stop these processes (SIGTERM, then
# SIGKILL after 5 s). Use it for every milter or helper you start.
lab_track_pid() { _LAB_PIDS+=("$@"); }

# lab_spawn NAME CMD [ARGS...] : start CMD in the background with stdout and
# stderr to $LAB/NAME.log, track its pid for cleanup and store it in LAB_PID.
# Call it directly (not in $(...)) so that LAB_PID is set in your shell.
lab_spawn() {
    local name=$1; shift
    lab_init
    "$@" >"$LAB/$name.log" 2>&1 </dev/null &
    LAB_PID=$!
    lab_track_pid "$LAB_PID"
}

# lab_stop_pid PID [TIMEOUT_S] : SIGTERM PID, wait for it to exit (default 5 s),
# then SIGKILL. Returns 0 when it is gone.
# libmilter notices SIGTERM only when its listener wakes up (a new connection,
# or its 5 s select timeout), so after the signal this connects once to every
# socket PID listens on: a libmilter milter then stops in milliseconds.
lab_stop_pid() {
    local pid=$1 timeout=${2:-5} listeners
    _lab_pid_gone "$pid" && { wait "$pid" 2>/dev/null; return 0; }
    mapfile -t listeners < <(_lab_listeners "$pid")
    kill -TERM "$pid" 2>/dev/null
    _lab_poke "${listeners[@]}"
    if ! lab_wait_for "$timeout" _lab_pid_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        lab_wait_for 2 _lab_pid_gone "$pid" || return 1
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# _lab_listeners PID : print "unix:PATH" / "tcp:ADDR:PORT" for each socket PID
# listens on (from ss -p).
_lab_listeners() {
    ss -xlpnH 2>/dev/null | awk -v k="pid=$1," 'index($0, k) { print "unix:" $5 }'
    ss -tlpnH 2>/dev/null | awk -v k="pid=$1," 'index($0, k) { print "tcp:" $4 }'
}

# _lab_poke SPEC... : open and close one connection to each listener (see
# _lab_listeners); errors ignored, 1 s timeout each.
_lab_poke() {
    local l hp
    for l in "$@"; do
        case "$l" in
            unix:*) timeout 2 python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX); s.settimeout(1); s.connect(sys.argv[1]); s.close()' "${l#unix:}" 2>/dev/null ;;
            tcp:*) hp=${l#tcp:}; hp=${hp/#\*/127.0.0.1}; hp=${hp/#0.0.0.0/127.0.0.1}
                   timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${hp%:*}" "${hp##*:}" 2>/dev/null ;;
        esac
    done
    return 0
}

# _lab_pid_gone PID : true when PID no longer exists (or is a zombie).
_lab_pid_gone() {
    [ -e "/proc/$1" ] || return 0
    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# lab_wait_sock PATH [TIMEOUT_S] : wait (default 10 s) until a process listens
# on the unix socket PATH (as shown by `ss -xl`). Returns 1 on timeout.
# It does not change the socket's mode: a milter must make it usable by the
# postfix user itself (or the test chmods it).
lab_wait_sock() {
    lab_wait_for "${2:-10}" _lab_sock_listening "$1"
}
_lab_sock_listening() {
    [ -S "$1" ] && ss -xlnH 2>/dev/null | awk -v p="$1" '$5 == p { f = 1 } END { exit !f }'
}

# lab_free_port : print a TCP port in 20000-32767 on which nothing listens or
# is connected (checked with `ss -tan`). Random start, so parallel runs rarely
# collide; pf_start retries on another port if the bind fails anyway.
lab_free_port() {
    local p used
    used=$(ss -tanH 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
    for _ in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
        grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
    done
    return 1
}

# lab_port_listening PORT : true when something listens on 127.0.0.1:PORT.
lab_port_listening() {
    ss -ltnH "sport = :$1" 2>/dev/null | grep -q .
}

# lab_procs_under DIR : print "pid cmdline" of every live process whose current
# directory is DIR or under it, or whose command line mentions "DIR/" (Postfix
# daemons chdir into their queue directory; milters get socket paths in the
# lab). Empty when none. The calling shell is never listed.
lab_procs_under() {
    local dir=$1 pid cmd
    {
        find /proc -mindepth 2 -maxdepth 2 -name cwd \( -lname "$dir" -o -lname "$dir/*" \) 2>/dev/null
        grep -laF -- "$dir/" /proc/[0-9]*/cmdline 2>/dev/null
    } | cut -d/ -f3 | sort -un | while read -r pid; do
        [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
        _lab_pid_gone "$pid" && continue
        cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || continue
        case "$cmd" in "grep -laF -- $dir/"*) continue ;; esac
        echo "$pid $cmd"
    done
}

# ---------------------------------------------------------------------------
# Private Postfix instance
# ---------------------------------------------------------------------------

# pf_setup [DIR] : create a private Postfix instance in DIR (default $LAB/pf;
# the lab is created first if needed) and make it the current one. Sets and
# exports:
#   PF_DIR      DIR
#   PF_ETC      DIR/etc      (main.cf, master.cf, recipients, footer.pcre ...)
#   PF_QUEUE    DIR/queue    (root-owned queue_directory; pid/master.pid)
#   PF_DATA     DIR/data     (data_directory, owned by postfix)
#   PF_MAILLOG  DIR/maillog  (maillog_file, written by postlogd)
#   PF_MAILDIR  DIR/mail     (delivered messages when PF_DELIVER=maildir)
#   PF_PORT     the free port smtpd listens on, on 127.0.0.1
# Configuration: myhostname test.example; mydestination local.test whose
# known users are alice and postmaster (local_recipient_maps =
# hash:DIR/etc/recipients; add users with pf_add_user); mynetworks =
# 127.0.0.2/32 only and smtpd_relay_restrictions = permit_mynetworks,
# reject_unauth_destination, so relaying from 127.0.0.1 is refused;
# milter_protocol 6, milter_default_action tempfail, no milter yet
# (pf_set_milter); compatibility_level 3.6; no chroot, no DNS needed.
# Delivery (PF_DELIVER at pf_setup time):
#   discard  every accepted message goes to discard(8)         (default)
#   maildir  every message is written by pipe(8) (as nobody) to one file per
#            recipient: $PF_MAILDIR/<queue id>.<recipient>  (see pf_wait_mail)
pf_setup() {
    lab_init
    local dir=${1:-$LAB/pf}
    local deliver=${PF_DELIVER:-discard}
    case "$dir" in /*) ;; *) dir=$(pwd)/$dir ;; esac
    case "$deliver" in discard|maildir) ;; *) lab_die "PF_DELIVER must be discard or maildir, not $deliver" ;; esac
    [ -x "$POSTFIX_BIN" ] || lab_die "postfix not installed ($POSTFIX_BIN)"
    [ -e "$dir/etc/main.cf" ] && lab_die "pf_setup: $dir already has an instance"

    mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail" || lab_die "pf_setup: mkdir under $dir"
    chown root:root "$dir" "$dir/etc" "$dir/queue"
    chmod 0755 "$dir" "$dir/etc" "$dir/queue"
    chown postfix: "$dir/data" && chmod 0700 "$dir/data"
    chown nobody: "$dir/mail" && chmod 0755 "$dir/mail"

    local port
    port=$(lab_free_port) || lab_die "no free port found"
    echo "$port" >"$dir/port"

    local transport=discard:
    [ "$deliver" = maildir ] && transport=labfile:
    cat >"$dir/etc/main.cf" <<EOF
# Private Postfix instance for milter-reword integration tests (tests/integration/lib.sh)
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
inet_protocols = ipv4
inet_interfaces = 127.0.0.1
myhostname = test.example
mydomain = test.example
myorigin = test.example
mydestination = local.test
local_recipient_maps = hash:$dir/etc/recipients
alias_maps =
alias_database =
mynetworks = 127.0.0.2/32
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_banner = \$myhostname ESMTP lab
biff = no
append_dot_mydomain = no
smtp_dns_support_level = disabled
local_transport = $transport
default_transport = $transport
relay_transport = $transport
virtual_transport = $transport
labfile_destination_recipient_limit = 1
milter_protocol = 6
milter_default_action = tempfail
smtpd_milters =
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
EOF

    # Standard services, chroot column "n" everywhere; smtpd on 127.0.0.1:PORT.
    cat >"$dir/etc/master.cf" <<EOF
# Private Postfix instance for milter-reword integration tests (tests/integration/lib.sh)
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$port inet n  -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
labfile   unix  -       n       n       -       -       pipe flags=R user=nobody argv=/bin/sh $dir/etc/deliver.sh $dir/mail \${queue_id} \${recipient}
EOF

    cat >"$dir/etc/deliver.sh" <<'EOF'
#!/bin/sh
# deliver.sh MAILDIR QUEUE_ID RECIPIENT - pipe(8) delivery for lab instances
# (tests/integration/lib.sh): store the message read on stdin as
# MAILDIR/QUEUE_ID.RECIPIENT, written to a temporary name first.
umask 022
tmp="$1/.tmp.$2.$$"
cat >"$tmp" && mv "$tmp" "$1/$2.$3" || { rm -f "$tmp"; exit 75; }
EOF
    chmod 0755 "$dir/etc/deliver.sh"

    pf_use "$dir"
    _pf_cool main.cf master.cf      # before postmap: it reads main.cf too
    printf 'alice OK\npostmaster OK\n' >"$dir/etc/recipients"
    "$POSTMAP_BIN" -c "$dir/etc" "hash:$dir/etc/recipients" || lab_die "postmap recipients failed"
    : >"$dir/etc/footer.pcre"
}

# pf_use DIR : make the instance in DIR the current one (sets the PF_* vars
# described at pf_setup). All pf_* functions act on the current instance.
pf_use() {
    local dir=$1
    [ -f "$dir/etc/main.cf" ] || lab_die "pf_use: no instance in $dir"
    PF_DIR=$dir
    PF_ETC=$dir/etc
    PF_QUEUE=$dir/queue
    PF_DATA=$dir/data
    PF_MAILLOG=$dir/maillog
    PF_MAILDIR=$dir/mail
    PF_PORT=$(cat "$dir/port")
    export PF_DIR PF_ETC PF_QUEUE PF_DATA PF_MAILLOG PF_MAILDIR PF_PORT
}

# pf_postconf ARGS... : run postconf on the current instance (postconf -c ETC ARGS).
# E.g. `pf_postconf -h smtpd_milters` prints a value.
pf_postconf() { "$POSTCONF_BIN" -c "$PF_ETC" "$@"; }

# pf_conf KEY=VALUE... : set main.cf parameters of the current instance
# (postconf -e). Takes effect at the next pf_start or pf_reload.
# E.g. pf_conf "smtpd_reject_footer_maps = pcre:$PF_ETC/footer.pcre"
pf_conf() {
    "$POSTCONF_BIN" -c "$PF_ETC" -e "$@" || lab_die "pf_conf failed: $*"
    _pf_cool main.cf
}

# _pf_cool FILE... : set the mtime of ETC/FILE 3 s in the past. Postfix
# re-reads a "hot" main.cf (modified within the last second or so) every
# 0.3 s until it is 2 s old, which made every postfix/postmap command after
# an edit cost 1.8-2.1 s.
# Do not use it on *.db maps: daemons detect map changes by their mtime.
_pf_cool() {
    local f
    for f in "$@"; do touch -d "@$(( $(date +%s) - 3 ))" "$PF_ETC/$f"; done
}

# pf_set_milter SPEC... : set smtpd_milters (e.g. "unix:$LAB/m.sock" or
# "inet:127.0.0.1:PORT"); several specs are joined with ",". No argument
# removes every milter. Takes effect at the next pf_start or pf_reload.
pf_set_milter() {
    local IFS=,
    pf_conf "smtpd_milters = $*"
}

# pf_add_user NAME... : make NAME@local.test a known recipient (rebuilds the
# hash map; a running smtpd notices the change by itself).
pf_add_user() {
    local u
    for u in "$@"; do printf '%s OK\n' "$u" >>"$PF_ETC/recipients"; done
    "$POSTMAP_BIN" -c "$PF_ETC" "hash:$PF_ETC/recipients" || lab_die "postmap recipients failed"
}

# pf_master_pid : print the pid of the current instance's master if it runs
# (from queue/pid/master.pid); returns 1 otherwise.
pf_master_pid() {
    local pid
    pid=$(tr -d ' \n' 2>/dev/null <"$PF_QUEUE/pid/master.pid") || return 1
    [ -n "$pid" ] && ! _lab_pid_gone "$pid" || return 1
    echo "$pid"
}

# pf_wait_port [PORT] [TIMEOUT_S] : wait (default 10 s) until something listens
# on 127.0.0.1:PORT (default PF_PORT). Returns 1 on timeout.
pf_wait_port() {
    lab_wait_for "${2:-10}" lab_port_listening "${1:-$PF_PORT}"
}

# pf_start [TIMEOUT_S] : start the current instance (postfix -c ETC start) and
# wait (default 30 s) until master runs and smtpd's port listens. Sets
# PF_START_SECONDS. If the port was taken meanwhile ("bind ... Address already
# in use"), moves to another free port (PF_PORT changes) and retries, twice at
# most; the failed attempt's log lines are removed from the maillog.
# Bails out (test ends) when Postfix does not come up.
pf_start() {
    local timeout=${1:-30} try t0 mark ok
    t0=$(lab_now)
    pf_master_pid >/dev/null && lab_die "pf_start: instance $PF_DIR already running"
    _PF_STARTED+=("$PF_DIR")
    for try in 1 2 3; do
        mark=$(pf_log_mark)
        ok=0
        if timeout "$timeout" "$POSTFIX_BIN" -c "$PF_ETC" start >>"$PF_DIR/postfix-cmd.log" 2>&1 \
            && lab_wait_for "$timeout" _pf_up; then
            ok=1
        fi
        if [ "$ok" = 1 ]; then
            export PF_START_SECONDS; PF_START_SECONDS=$(lab_elapsed "$t0")
            return 0
        fi
        if [ "$try" -lt 3 ] && pf_log_since "$mark" | grep -q "bind 127.0.0.1 port $PF_PORT: Address already in use"; then
            t_log "port $PF_PORT taken, moving to another one"
            _pf_stop_dir "$PF_DIR" 10 >/dev/null
            sed -i "$((mark + 1)),\$d" "$PF_MAILLOG"
            _pf_move_port
            continue
        fi
        break
    done
    t_log "postfix did not start; tail of $PF_MAILLOG:"
    tail -n 20 "$PF_MAILLOG" 2>/dev/null | sed 's/^/#   /'
    lab_die "pf_start: Postfix in $PF_DIR did not come up on port $PF_PORT"
}
_pf_up() { pf_master_pid >/dev/null && lab_port_listening "$PF_PORT"; }

# _pf_move_port : pick a new free port for the current (stopped) instance.
_pf_move_port() {
    local port
    port=$(lab_free_port) || lab_die "no free port found"
    sed -i "s/^127\.0\.0\.1:$PF_PORT /127.0.0.1:$port /" "$PF_ETC/master.cf"
    _pf_cool master.cf
    echo "$port" >"$PF_DIR/port"
    PF_PORT=$port
}

# pf_stop [TIMEOUT_S] : stop the current instance (SIGTERM to its master, as
# `postfix stop` does) and wait (default 20 s) until the master and every
# process of the instance are gone; SIGKILLs leftovers.
# Sets PF_STOP_SECONDS. Returns 0 when nothing is left.
pf_stop() { _pf_stop_dir "$PF_DIR" "${1:-20}"; }

_pf_stop_dir() {
    local dir=$1 timeout=$2 pid t0 left
    t0=$(lab_now)
    pid=$(tr -d ' \n' 2>/dev/null <"$dir/queue/pid/master.pid")
    if [ -n "$pid" ] && ! _lab_pid_gone "$pid"; then
        # What `postfix stop` does (SIGTERM to the master: it stops its
        # children and exits), without postfix-script's 1 s polling sleeps.
        kill -TERM "$pid" 2>/dev/null
        if ! lab_wait_for "$timeout" _lab_pid_gone "$pid"; then
            t_log "master $pid of $dir did not stop in ${timeout}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    # Children leave when the master is gone; wait for them, then force.
    if ! lab_wait_for 5 _lab_none_under "$dir/queue"; then
        left=$(lab_procs_under "$dir/queue")
        t_log "leftover processes of $dir: SIGKILL: $(echo "$left" | tr '\n' ';')"
        echo "$left" | awk '{ print $1 }' | xargs -r kill -KILL 2>/dev/null
        lab_wait_for 2 _lab_none_under "$dir/queue" || return 1
    fi
    export PF_STOP_SECONDS; PF_STOP_SECONDS=$(lab_elapsed "$t0")
    return 0
}
_lab_none_under() { [ -z "$(lab_procs_under "$1")" ]; }

# pf_reload [TIMEOUT_S] : postfix reload the current instance and wait until
# the master has re-read its configuration (its "reload" log line) and every
# process of the previous generation has exited, so the next connection sees
# the new configuration. Returns 1 on timeout (default 15 s).
pf_reload() {
    local timeout=${1:-15} n
    n=$(grep -c 'postfix/master\[[0-9]*\]: reload' "$PF_MAILLOG" 2>/dev/null)
    local old
    old=$(_pf_children)
    timeout 30 "$POSTFIX_BIN" -c "$PF_ETC" reload >>"$PF_DIR/postfix-cmd.log" 2>&1 \
        || { t_log "postfix reload failed"; return 1; }
    lab_wait_for "$timeout" _pf_reloaded "${n:-0}" || { t_log "no reload line in maillog"; return 1; }
    lab_wait_for "$timeout" _pf_gone_all "$old" || { t_log "old processes still running after reload"; return 1; }
    pf_wait_port "$PF_PORT" "$timeout"
}
_pf_reloaded() { [ "$(grep -c 'postfix/master\[[0-9]*\]: reload' "$PF_MAILLOG" 2>/dev/null)" -gt "$1" ]; }
_pf_gone_all() { local p; for p in $1; do _lab_pid_gone "$p" || return 1; done; return 0; }

# _pf_children : pids of the current master's child processes.
_pf_children() {
    local m
    m=$(pf_master_pid) || return 0
    ps -o pid= --ppid "$m" 2>/dev/null | tr -d ' '
}

# pf_cleanup : stop everything this test started: tracked pids (lab_track_pid,
# lab_spawn) and every Postfix instance that pf_start started; then remove the
# lab dir unless KEEP_LAB=1 or an assertion failed. Runs once; lab_init
# installs it as the EXIT/INT/TERM trap, so you normally never call it.
pf_cleanup() {
    [ "$_CLEANED" = 1 ] && return 0
    _CLEANED=1
    local pid dir
    for dir in "${_PF_STARTED[@]}"; do
        _pf_stop_dir "$dir" 20 || t_log "cleanup: processes of $dir survived"
    done
    for pid in "${_LAB_PIDS[@]}"; do
        lab_stop_pid "$pid" 5 || t_log "cleanup: pid $pid survived SIGKILL"
    done
    [ -n "$LAB" ] && [ -d "$LAB" ] || return 0
    local left
    left=$(lab_procs_under "$LAB")
    if [ -n "$left" ]; then
        t_log "cleanup: killing leftover processes under $LAB: $(echo "$left" | tr '\n' ';')"
        echo "$left" | awk '{ print $1 }' | xargs -r kill -KILL 2>/dev/null
    fi
    if [ "${KEEP_LAB:-0}" = 1 ] || [ "$T_FAIL" -gt 0 ]; then
        t_log "lab kept: $LAB"
    else
        rm -rf "$LAB"
    fi
}

# pf_maillog_warnings [EXCLUDE_ERE] : print the maillog lines of the current
# instance in which a Postfix program logs "warning:", "error:", "fatal:" or
# "panic:" (e.g. "postfix/smtpd[12]: warning: ..."), except those matching
# EXCLUDE_ERE. Empty output = clean log. Typical assertion:
#   assert_eq "$(pf_maillog_warnings)" "" "no warnings in maillog"
_PF_BAD_LOG=' postfix(/[^[ ]+)?\[[0-9]+\]: (warning|error|fatal|panic): '
# Clock-skew warnings from cleanup(8) on a loaded machine say nothing about
# the milter and are always left out.
_PF_BENIGN_LOG='warning: (file system clock is [0-9]+ seconds? ahead|resetting file time stamps)'
pf_maillog_warnings() {
    [ -f "$PF_MAILLOG" ] || return 0
    if [ -n "${1:-}" ]; then
        grep -E "$_PF_BAD_LOG" "$PF_MAILLOG" | grep -Ev -- "$_PF_BENIGN_LOG" | grep -Ev -- "$1"
    else
        grep -E "$_PF_BAD_LOG" "$PF_MAILLOG" | grep -Ev -- "$_PF_BENIGN_LOG"
    fi
    return 0
}

# pf_log_mark : print the current number of maillog lines; pass it to
# pf_log_since to see only what was logged afterwards.
pf_log_mark() { if [ -f "$PF_MAILLOG" ]; then wc -l <"$PF_MAILLOG"; else echo 0; fi; }

# pf_log_since MARK : print the maillog lines logged after pf_log_mark's MARK.
pf_log_since() { tail -n +"$(( $1 + 1 ))" "$PF_MAILLOG" 2>/dev/null; }

# pf_log_wait ERE [TIMEOUT_S] [MARK] : wait (default 10 s) until a maillog line
# (after MARK, default from the start) matches ERE; prints it. Returns 1 on
# timeout. Postfix logs asynchronously (postlogd): use this, not a sleep.
pf_log_wait() {
    local ere=$1 timeout=${2:-10} mark=${3:-0}
    lab_wait_for "$timeout" _pf_log_has "$ere" "$mark" || return 1
    pf_log_since "$mark" | grep -E -m1 -- "$ere"
}
_pf_log_has() { pf_log_since "$2" | grep -Eq -- "$1"; }

# pf_wait_mail QUEUE_ID [TIMEOUT_S] : with PF_DELIVER=maildir, wait (default
# 10 s) until the message with QUEUE_ID was delivered and print the path(s) of
# its file(s) ($PF_MAILDIR/QUEUE_ID.<recipient>). Returns 1 on timeout.
pf_wait_mail() {
    local qid=$1
    lab_wait_for "${2:-10}" _pf_mail_there "$qid" || return 1
    ls -1 "$PF_MAILDIR/$qid".* 2>/dev/null
}
_pf_mail_there() { compgen -G "$PF_MAILDIR/$1.*" >/dev/null; }

# pf_wait_queue_empty [TIMEOUT_S] : wait (default 20 s) until the instance's
# incoming/active/deferred queues are empty (all accepted mail processed).
pf_wait_queue_empty() {
    lab_wait_for "${1:-20}" _pf_queue_empty
}
_pf_queue_empty() {
    [ -z "$(find "$PF_QUEUE/incoming" "$PF_QUEUE/active" "$PF_QUEUE/deferred" -type f 2>/dev/null | head -n 1)" ]
}

# ---------------------------------------------------------------------------
# SMTP client helpers (swaks)
# ---------------------------------------------------------------------------

# smtp_swaks ARGS... : run swaks against 127.0.0.1:$PF_PORT with a 20 s
# timeout (30 s overall), HELO client.example, no TLS; the transcript goes to
# a new file whose path is left in SMTP_LOG (and in $LAB/smtp.last). Returns
# swaks' exit code (non-zero whenever the server rejected something).
# FROM '' is the null sender (MAIL FROM:<>).
# E.g. smtp_swaks --from a@example.org --to alice@local.test --quit-after RCPT
smtp_swaks() {
    [ -n "$LAB" ] || lab_die "smtp_swaks: no lab (call pf_setup or lab_init first)"
    local n=0
    while [ -e "$LAB/smtp.$n.log" ]; do n=$((n + 1)); done
    SMTP_LOG=$LAB/smtp.$n.log
    echo "$SMTP_LOG" >"$LAB/smtp.last"    # for callers in $(...) subshells
    local rc=0
    timeout 30 swaks --server "127.0.0.1:$PF_PORT" --helo client.example --timeout 20 \
        "$@" >"$SMTP_LOG" 2>&1 </dev/null || rc=$?
    if [ "${PF_VERBOSE:-0}" = 1 ]; then sed 's/^/#   /' "$SMTP_LOG" >&2; fi
    return "$rc"
}

# smtp_replies STAGE [LOG] : print the server's reply lines (code and text,
# the "<- "/"<** " prefix removed, one line per reply line, multi-line replies
# as "550-..." then "550 ...") to the given STAGE of the transcript LOG
# (default: the last transcript, $LAB/smtp.last). STAGE is one of
#   CONNECT (banner), EHLO, HELO, MAIL, RCPT, DATA (reply to the DATA
#   command), DOT (reply at end of message), QUIT, or any other command word.
# With several RCPT commands, the replies of each are printed in order.
smtp_replies() {
    local stage=$1 log=${2:-}
    [ -n "$log" ] || log=$(cat "$LAB/smtp.last" 2>/dev/null)
    awk -v want="$stage" '
        # client lines: "-> CMD ..." (and " -> " for message content)
        /^ *-> / {
            line = $0; sub(/^ *-> ?/, "", line)
            if (indata) { if (line == ".") { cur = "DOT"; indata = 0 } ; next }
            w = toupper(line); sub(/[ :].*/, "", w)
            cur = w
            next
        }
        /^ *(<-|<\*\*) / {
            line = $0; sub(/^ *(<-|<\*\*) +/, "", line)
            if (cur == "" ) stage = "CONNECT"; else stage = cur
            if (stage == want) print line
            if (cur == "DATA" && line ~ /^354 /) indata = 1
            next
        }
    ' "$log"
}

# smtp_rcpt_reply FROM RCPT [SWAKS_ARGS...] : open a session, send MAIL FROM
# and RCPT TO (RCPT may be a comma-separated list), quit; print the reply
# line(s) to RCPT, e.g.
#   550 5.1.1 <nobody@local.test>: Recipient address rejected: User unknown in local recipient table
smtp_rcpt_reply() {
    local from=$1 rcpt=$2; shift 2
    smtp_swaks --from "$from" --to "$rcpt" --quit-after RCPT "$@"
    smtp_replies RCPT
}

# smtp_mail_reply FROM [SWAKS_ARGS...] : like smtp_rcpt_reply for MAIL FROM.
smtp_mail_reply() {
    local from=$1; shift
    smtp_swaks --from "$from" --to alice@local.test --quit-after MAIL "$@"
    smtp_replies MAIL
}

# smtp_data_reply FROM RCPT [SWAKS_ARGS...] : send a whole message (swaks'
# default one, or pass --header "Subject: x", --body TEXT, --data FILE...) and
# print the reply line(s) at end of message (stage DOT), e.g.
#   250 2.0.0 Ok: queued as 4Xc9Qz1Fz2z9
# If the session ended earlier (rejected RCPT or DATA), prints that stage's
# reply instead, so a comparison with a 250 fails visibly.
smtp_data_reply() {
    local from=$1 rcpt=$2 st out; shift 2
    smtp_swaks --from "$from" --to "$rcpt" "$@"
    for st in DOT DATA RCPT MAIL EHLO CONNECT; do
        out=$(smtp_replies "$st")
        if [ -n "$out" ]; then
            if [ "$st" = DOT ] || ! grep -q '^[23]' <<<"$out"; then echo "$out"; return 0; fi
        fi
    done
    # Nothing matched: show the tail of the transcript (connection error...).
    tail -n 3 "$SMTP_LOG"
}

# smtp_chat LINE... : a raw SMTP client (bash /dev/tcp) for what swaks cannot
# send (unknown commands, odd syntax, HELO without EHLO...). Connects to
# 127.0.0.1:$PF_PORT, reads the banner, then sends each LINE and reads its
# complete reply; after a 354 reply, LINEs are message content up to the
# line "." (no reply read in between; sent as given: dot-stuff them yourself).
# Prints every server reply line in order
# (banner first) and writes a swaks-style transcript to a new file (SMTP_LOG,
# $LAB/smtp.last), so smtp_replies STAGE works on it. Each read times out
# after 20 s. Returns 1 if the connection failed or closed early. E.g.
#   smtp_chat "EHLO client.example" "XFOO bar" QUIT; smtp_replies XFOO
smtp_chat() {
    [ -n "$LAB" ] || lab_die "smtp_chat: no lab (call pf_setup or lab_init first)"
    local n=0 fd line indata=0 rc=0
    while [ -e "$LAB/smtp.$n.log" ]; do n=$((n + 1)); done
    SMTP_LOG=$LAB/smtp.$n.log
    echo "$SMTP_LOG" >"$LAB/smtp.last"
    echo "=== Trying 127.0.0.1:$PF_PORT..." >"$SMTP_LOG"
    if ! exec {fd}<>"/dev/tcp/127.0.0.1/$PF_PORT"; then
        echo "=== connect failed" >>"$SMTP_LOG"
        return 1
    fi 2>/dev/null
    if _smtp_read_reply "$fd"; then
        for line in "$@"; do
            printf '%s\r\n' "$line" 2>/dev/null 1>&"$fd" || { rc=1; break; }
            echo " -> $line" >>"$SMTP_LOG"
            if [ "$indata" = 1 ] && [ "$line" != . ]; then continue; fi
            indata=0
            _smtp_read_reply "$fd" || { rc=1; break; }
            [[ "$(tail -n 1 "$SMTP_LOG")" == "<-  354"* ]] && indata=1
        done
    else
        rc=1
    fi
    exec {fd}>&-
    [ "$rc" = 0 ] || echo "=== Connection closed" >>"$SMTP_LOG"
    if [ "${PF_VERBOSE:-0}" = 1 ]; then sed 's/^/#   /' "$SMTP_LOG" >&2; fi
    sed -n 's/^<-  //p' "$SMTP_LOG"
    return "$rc"
}

# _smtp_read_reply FD : read one (possibly multi-line) SMTP reply from FD,
# appending "<-  LINE" to SMTP_LOG. Returns 1 on EOF or a 20 s timeout.
_smtp_read_reply() {
    local l
    while IFS= read -r -t 20 -u "$1" l; do
        l=${l%$'\r'}
        echo "<-  $l" >>"$SMTP_LOG"
        [[ "$l" =~ ^[0-9][0-9][0-9]- ]] || return 0
    done
    return 1
}

# smtp_queue_id REPLY : print the queue id from a "250 ... queued as ID" reply.
smtp_queue_id() { sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$1" | head -n 1; }

# ---------------------------------------------------------------------------
# Assertions (TAP-like output: "ok N - NAME" / "not ok N - NAME")
# ---------------------------------------------------------------------------

_t_ok() { T_PASS=$((T_PASS + 1)); printf 'ok %d - %s\n' "$((T_PASS + T_FAIL))" "$1"; }
_t_notok() {
    T_FAIL=$((T_FAIL + 1)); printf 'not ok %d - %s\n' "$((T_PASS + T_FAIL))" "$1"
    [ -n "$LAB" ] && [ -f "$LAB/smtp.last" ] && t_log "last SMTP transcript: $(cat "$LAB/smtp.last")"
}
_t_show() { printf '%s\n' "$2" | sed "s/^/#   $1 /"; }

# assert_eq ACTUAL EXPECTED [NAME] : pass when the two strings are identical
# (multi-line allowed); on failure prints both.
assert_eq() {
    local name=${3:-"equals: $2"}
    if [ "$1" == "$2" ]; then _t_ok "$name"; return 0; fi
    _t_notok "$name"; _t_show "expected:" "$2"; _t_show "actual:  " "$1"; return 1
}

# assert_contains HAYSTACK NEEDLE [NAME] : pass when NEEDLE is a substring.
assert_contains() {
    local name=${3:-"contains: $2"}
    if [[ "$1" == *"$2"* ]]; then _t_ok "$name"; return 0; fi
    _t_notok "$name"; _t_show "wanted:  " "$2"; _t_show "in:      " "$1"; return 1
}

# assert_match STRING ERE [NAME] : pass when STRING matches the extended regex
# ERE (bash [[ =~ ]], unanchored: add ^ and $ yourself).
assert_match() {
    local name=${3:-"matches: $2"}
    if [[ "$1" =~ $2 ]]; then _t_ok "$name"; return 0; fi
    _t_notok "$name"; _t_show "regex:   " "$2"; _t_show "actual:  " "$1"; return 1
}

# assert_true NAME CMD [ARGS...] : pass when CMD exits 0.
assert_true() {
    local name=$1; shift
    if "$@"; then _t_ok "$name"; return 0; fi
    _t_notok "$name"; t_log "command failed: $*"; return 1
}

# t_summary : print "N passed, N failed" alone on a line (read by run.sh).
# Returns 1 when an assertion failed or none ran. Make it the test's last
# command:  t_summary  (the exit status becomes the script's).
t_summary() {
    printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
    [ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ]
}
