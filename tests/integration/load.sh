# load.sh - shared by the load test (t_load.sh, in `make check`) and the
# soak test (s_soak.sh, `make soak`): a Postfix lab without rate limits,
# a rule set that fires at every stage, the smtp_load.py client, and the
# checks that nothing was lost and nothing refused was delivered.
# Source after lib.sh and reword.sh.

# load_setup : pf_setup for many parallel sessions; the users the load
# client sends to; every "cheap pills" message is logged by cleanup's
# header_checks (WARN) before milter-reword decides on it, which shows
# how many were sent (load_spam_warned).
load_setup() {
    pf_setup
    local u
    for u in blocked0 blocked1 blocked2 later; do pf_add_user "$u"; done
    pf_conf "default_process_limit = 600"
    pf_conf "smtpd_client_connection_count_limit = 0"
    pf_conf "smtpd_client_connection_rate_limit = 0"
    pf_conf "smtpd_client_message_rate_limit = 0"
    pf_conf "smtpd_client_recipient_rate_limit = 0"
    # 50,000 messages fill qmgr's active queue: its congestion advice is
    # about Postfix's own tuning, not about the milter
    pf_conf "qmgr_clog_warn_time = 0"
    printf '%s\n' '/^Subject: cheap pills/ WARN load-spam' >"$PF_ETC/header_checks"
    pf_conf "header_checks = regexp:$PF_ETC/header_checks"
    LOAD_CONF=$LAB/reword.conf
}

# load_write_conf JSONL [FILE] : the load rule set (10 rules, one or more
# per stage) with its JSON audit log at JSONL, into FILE (default
# $LOAD_CONF).
load_write_conf() {
    cat >"${2:-$LOAD_CONF}" <<EOC
audit: { jsonl = "$1"; };
rules = (
  { name = "c"; when = { stage = "connect"; client = "127.0.0.0/8"; }; action = "log"; },
  { name = "h"; when = { stage = "helo"; helo = "^load\\\\."; }; action = "log"; },
  { name = "m"; when = { stage = "mail"; sender = "^nobody-sends@"; }; action = "reject"; },
  { name = "rcpt-block"; when = { stage = "rcpt"; rcpt = "^blocked"; }; action = "reject";
    reply = { enhanced = "5.7.1"; text = "Mail for <%{rcpt}> is refused (%{sender})."; }; },
  { name = "rcpt-later"; when = { stage = "rcpt"; rcpt = "^later@"; }; action = "tempfail";
    reply = { enhanced = "4.7.1"; }; },
  { name = "d"; when = { stage = "data"; sender = "^nobody-sends@"; }; action = "reject"; },
  { name = "hdr"; when = { stage = "header"; header = "X-Never: ."; }; action = "reject"; },
  { name = "eoh"; when = { stage = "eoh"; sender = "^nobody-sends@"; }; action = "reject"; },
  { name = "body"; when = { stage = "body"; sender = "^nobody-sends@"; }; action = "reject"; },
  { name = "eom-spam"; when = { stage = "eom"; header = "Subject: (?i)cheap pills"; }; action = "reject";
    reply = { code = 550; enhanced = "5.7.1"; text = "Refused as spam."; }; }
);
EOC
}

# load_run SESSIONS PER_SESSION CONCURRENCY : smtp_load.py against the lab;
# prints its JSON counts, exit status 1 on a protocol error or a malformed reply
load_run() { timeout 1800 python3 "$SRCDIR/tests/integration/smtp_load.py" 127.0.0.1 "$PF_PORT" "$@"; }

# load_field JSON NAME : one count from load_run's output
load_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# load_delivered : messages delivered to alice so far (each accepted
# message has alice among its recipients)
load_delivered() {
    grep -E 'postfix/discard\[[0-9]+\]: [0-9A-Z]+: to=<alice@local.test>.*status=sent' "$PF_MAILLOG" | wc -l
}

# load_refused_delivered : deliveries that policy refused: a blocked* or
# later@ recipient (refused or tempfailed at RCPT), or a "cheap pills"
# message (refused at end of message; smtp_load.py gives that subject to
# message i, sent by sender<i>@example.org, when i % 6 == 0).  Queue ids
# are reused, so each delivery is joined with the sender qmgr logged for
# its queue id just before; prints the count (0 expected).
load_refused_delivered() {
    awk '
        /postfix\/qmgr\[[0-9]+\]: [0-9A-Z]+: from=</ {
            id = $0; sub(/.*qmgr\[[0-9]+\]: /, "", id); sub(/:.*/, "", id)
            f = $0; sub(/.*from=</, "", f); sub(/>.*/, "", f); from[id] = f }
        /postfix\/discard\[[0-9]+\]: [0-9A-Z]+: to=<.*status=sent/ {
            id = $0; sub(/.*discard\[[0-9]+\]: /, "", id); sub(/:.*/, "", id)
            if ($0 ~ /to=<(blocked[0-9]|later)@local\.test>/) { bad++; next }
            f = from[id]
            if (f ~ /^sender[0-9]+@example\.org$/) { n = f; gsub(/[^0-9]/, "", n); if (n % 6 == 0) bad++ } }
        END { print bad + 0 }' "$PF_MAILLOG"
}

# load_spam_warned : how many "cheap pills" messages cleanup saw
load_spam_warned() { grep -c 'warning: header Subject: cheap pills' "$PF_MAILLOG"; }

# load_worker_pid : the pid of the daemon's worker (child of $RW_PID)
load_worker_pid() { pgrep -P "$RW_PID" | head -n 1; }

# load_rss_kib PID / load_fds PID : resident memory in KiB / open fds
load_rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
load_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# load_counts JSON : the counts that must not change when only the timing
# does: "accepted rejected deferred rcpt_refused rcpt_tempfail"
load_counts() {
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(*(d[k] for k in ("accepted","rejected","deferred","rcpt_refused","rcpt_tempfail")))' "$1"
}

# load_during FAULT SESSIONS PER_SESSION CONCURRENCY : load_run while the
# shell function FAULT (a loop that injects a fault now and then) runs in
# the background; FAULT is stopped when the load ends.  Prints load_run's
# output and returns its status.
load_during() {
    local fault=$1 fp rc; shift
    "$fault" &
    fp=$!
    load_run "$@"; rc=$?
    kill "$fp" 2>/dev/null; wait "$fp" 2>/dev/null
    return "$rc"
}
