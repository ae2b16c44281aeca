# upstreams.sh - upstream milters for the proxy-mode tests, sourced after
# lib.sh: the scripted python3-milter test milter (upstream_milter.py) and a
# private OpenDKIM from Debian, each on a loopback TCP port of its own (or a
# unix socket for the test milter), stopped by the lab's cleanup (lab_spawn).
# Packages: tools/deps/proxy.txt.
#
#   . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/upstreams.sh"
#   upstreams_available || lab_die "python3-milter or opendkim missing: make deps"
#   PF_DELIVER=maildir pf_setup
#   TM_PORT=$(lab_free_port); upstream_start tm "$TM_PORT"
#   DKIM_PORT=$(lab_free_port); opendkim_start "$DKIM_PORT"
#   pf_set_milter "inet:127.0.0.1:$TM_PORT" "inet:127.0.0.1:$DKIM_PORT"; pf_start
#   opendkim_signed_message >"$LAB/m.eml"
#   reply=$(smtp_data_reply a@example.org alice@local.test --data "$LAB/m.eml")
#   pf_delivered_message "$(smtp_queue_id "$reply")" alice@local.test
#   grep '^envrcpt' "$(upstream_log tm)"
#
# What OpenDKIM 2.11.0~beta2 (Debian 12) does, as configured by opendkim_start
# (checked by t_upstreams_direct.sh; source: opendkim/opendkim.c,
# dkimf_libstatus() and mlfi_negotiate()):
#   - negotiates actions ADDHDRS|CHGHDRS|SETSYMLIST (0x111) and protocol
#     NOHELO|NOUNKNOWN|NODATA|SKIP|HDR_LEADSPC (0x100702) when Postfix offers
#     0x1ff/0x1fffff.  With MacroList set (as here) it sends one macro list,
#     for the end-of-header stage: "i {daemon_name} {auth_type}" followed by
#     the MacroList names WITHOUT braces (here "daemon_name"), an OpenDKIM
#     quirk; without MacroList it sends no list.
#   - unsigned message, On-NoSignature reject (the default here): REJECT at
#     end of message with smfi_setreply("550", "5.7.0", "no DKIM signature
#     data"): the client reads "550 5.7.0 no DKIM signature data".
#     (On-NoSignature tempfail: "451 4.7.0 no DKIM signature data".)
#   - bad signature (opendkim_bad_signature), On-BadSignature reject:
#     "550 5.7.0 bad DKIM signature data".
#   - accepted message: it adds, at the top (header index 0, so above
#     Postfix's Received: and above what an earlier milter inserted there),
#       Authentication-Results: lab.test;
#       	dkim=pass (1024-bit key) header.d=example.org header.i=@example.org header.a=rsa-sha1 header.s=lab header.b=CuXrfpIV;
#       	dkim-atps=neutral
#     (opendkim-testmsg signs rsa-sha1, relaxed/simple).  An unsigned message
#     accepted (opendkim_start PORT accept) gets
#       Authentication-Results: lab.test; dkim=none; dkim-atps=neutral
#     It would also delete Authentication-Results fields that claim to come
#     from lab.test (what it asks CHGHDRS for).  No DKIM-Filter header
#     (SoftwareHeader is off by default).  At end of message it answers
#     ACCEPT, not CONTINUE.
#   - Quirk: "AlwaysAddARHeader yes" makes OpenDKIM ignore On-NoSignature
#     (mlfi_eom() applies it only when no header is to be added), so it is
#     set only with ON_NOSIGNATURE=accept.
#   - A later milter in smtpd_milters sees the message as the earlier ones
#     changed it: a signed message that tm modifies fails verification.
#   - InternalHosts is a documentation address (192.0.2.1), so mail from the
#     test client on 127.0.0.1 is verified rather than "signed" (Mode v:
#     mail from an internal host would be passed unchecked).  No DNS: the key
#     of lab._domainkey.example.org comes from TestPublicKeys, made fresh by
#     opendkim_start.

PYTHON_MILTER=/usr/bin/python3    # Debian's python3-milter lives there, not in pyenv
OPENDKIM_BIN=${OPENDKIM_BIN:-/usr/sbin/opendkim}
OPENDKIM_TESTMSG=${OPENDKIM_TESTMSG:-/usr/sbin/opendkim-testmsg}

# upstreams_lab_setup : the lab both t_upstreams_direct.sh and t_proxy.sh
# use: a private Postfix delivering to files (PF_DELIVER=maildir) whose
# users include the test milter's trigger addresses, the test milter "tm"
# on TM_PORT and OpenDKIM on DKIM_PORT (both set here).
upstreams_lab_setup() {
    PF_DELIVER=maildir pf_setup
    local u
    for u in remove-me bare-rcpt temp-rcpt mismatch-rcpt code-rcpt accept-rcpt discard-rcpt added; do
        pf_add_user "$u"
    done
    TM_PORT=$(lab_free_port); DKIM_PORT=$(lab_free_port)
    [ "$TM_PORT" != "$DKIM_PORT" ] || DKIM_PORT=$((TM_PORT + 1))
    upstream_start tm "$TM_PORT"
    opendkim_start "$DKIM_PORT"
}

# upstreams_available : true when the packages of tools/deps/proxy.txt are there.
upstreams_available() {
    "$PYTHON_MILTER" -c 'import Milter' 2>/dev/null && [ -x "$OPENDKIM_BIN" ] && [ -x "$OPENDKIM_TESTMSG" ]
}

# upstream_start NAME PORT|unix:PATH : start upstream_milter.py as NAME on
# inet:PORT@127.0.0.1 (or the unix socket PATH, made mode 0666 so Postfix
# and milter-reword can use it); its callback log is $(upstream_log NAME),
# its stdout/stderr $LAB/upstream-NAME.log.  Waits (10 s) until it listens.
# Sets UP_PID[NAME] and UP_SOCK[NAME] (the milter socket spec as Postfix
# writes it: inet:127.0.0.1:PORT or unix:PATH).  The milter reads
# UPSTREAM_SLOW from the environment given here (see upstream_milter.py).
declare -gA UP_PID UP_SOCK
upstream_start() {
    local name=$1 where=$2 spec
    case "$where" in
        unix:*) spec=$where; rm -f "${where#unix:}" ;;
        *) spec="inet:$where@127.0.0.1" ;;
    esac
    lab_spawn "upstream-$name" "$PYTHON_MILTER" "$SRCDIR/tests/integration/upstream_milter.py" \
        --socket "$spec" --log "$(upstream_log "$name")" --name "$name"
    UP_PID[$name]=$LAB_PID
    case "$where" in
        unix:*)
            lab_wait_sock "${where#unix:}" 10 || { cat "$LAB/upstream-$name.log"; lab_die "upstream $name did not start"; }
            chmod 0666 "${where#unix:}"
            UP_SOCK[$name]=$where ;;
        *)
            lab_wait_for 10 lab_port_listening "$where" || { cat "$LAB/upstream-$name.log"; lab_die "upstream $name did not start"; }
            UP_SOCK[$name]="inet:127.0.0.1:$where" ;;
    esac
}

# upstream_stop NAME : stop it as an admin would (SIGTERM; libmilter lets
# running sessions finish), SIGKILL after 5 s.
upstream_stop() { lab_stop_pid "${UP_PID[$1]}" 5; }

# upstream_kill NAME : SIGKILL it: to the MTA or proxy it looks like a crash.
upstream_kill() {
    kill -KILL "${UP_PID[$1]}" 2>/dev/null
    wait "${UP_PID[$1]}" 2>/dev/null
    return 0
}

# upstream_log NAME : path of its callback log (one line per callback, see
# upstream_milter.py); upstream_events is the same (older name).
upstream_log() { echo "$LAB/upstream-$1.events"; }
upstream_events() { upstream_log "$@"; }

# upstream_log_wait NAME ERE [TIMEOUT_S] : wait (default 10 s) until a line of
# its callback log matches ERE; prints the first such line.
upstream_log_wait() {
    lab_wait_for "${3:-10}" grep -Eq -- "$2" "$(upstream_log "$1")" || return 1
    grep -E -m1 -- "$2" "$(upstream_log "$1")"
}

# opendkim_start PORT [ON_NOSIGNATURE] : a private OpenDKIM in verify mode on
# inet:PORT@127.0.0.1, config $LAB/opendkim.conf, pid file $LAB/opendkim.pid,
# output in $LAB/opendkim.log (it logs nothing there: Syslog no).  It rejects
# a message whose DKIM signature does not verify and, by default, an unsigned
# one (ON_NOSIGNATURE: reject, tempfail, accept, discard or quarantine).
# See the top of this file for its replies.  The signing key is
# $LAB/dkim.key (d=example.org, s=lab).  Sets DKIM_PID and DKIM_SOCK
# (inet:127.0.0.1:PORT).
opendkim_start() {
    local port=$1 nosig=${2:-reject}
    openssl genrsa -out "$LAB/dkim.key" 1024 2>/dev/null || lab_die "openssl genrsa failed"
    printf 'lab._domainkey.example.org v=DKIM1; k=rsa; p=%s\n' \
        "$(openssl rsa -in "$LAB/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0)" >"$LAB/dkim.keys"
    cat >"$LAB/opendkim.conf" <<EOF
# Private OpenDKIM for milter-reword's proxy tests (tests/integration/upstreams.sh)
Mode v
Socket inet:$port@127.0.0.1
PidFile $LAB/opendkim.pid
InternalHosts 192.0.2.1
On-NoSignature $nosig
On-BadSignature reject
TestPublicKeys $LAB/dkim.keys
$( [ "$nosig" = accept ] && echo 'AlwaysAddARHeader yes' )
AuthservID lab.test
MacroList daemon_name=never-this-daemon
Syslog no
UMask 002
EOF
    rm -f "$LAB/opendkim.pid"
    lab_spawn opendkim "$OPENDKIM_BIN" -f -x "$LAB/opendkim.conf"
    DKIM_PID=$LAB_PID
    DKIM_SOCK=inet:127.0.0.1:$port
    lab_wait_for 10 lab_port_listening "$port" || { cat "$LAB/opendkim.log"; lab_die "opendkim did not start"; }
}

# opendkim_stop : stop the private OpenDKIM (SIGTERM, then SIGKILL after 5 s).
opendkim_stop() {
    [ -n "${DKIM_PID:-}" ] || return 0
    lab_stop_pid "$DKIM_PID" 5
    DKIM_PID=""
}

# opendkim_signed_message [SUBJECT] [BODY] : print a message From
# sender@example.org To alice@local.test, signed with the lab key (d=example.org,
# s=lab, by opendkim-testmsg), CRLF line ends; for swaks --data.  Needs
# opendkim_start first.  OpenDKIM verifies it as dkim=pass.
opendkim_signed_message() {
    local subject=${1:-signed test} body=${2:-This message is signed.}
    printf 'From: sender@example.org\r\nTo: alice@local.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@example.org>\r\n\r\n%s\r\n' \
        "$subject" "$(LC_ALL=C date -R)" "$RANDOM$RANDOM" "$body" |
        "$OPENDKIM_TESTMSG" -C -d example.org -s lab -k "$LAB/dkim.key" -t "$LAB" ||
        lab_die "opendkim-testmsg could not sign"
}

# opendkim_bad_signature : a DKIM-Signature header (for swaks --header) with
# the lab key's selector and a body hash and signature that cannot match.
opendkim_bad_signature() {
    printf 'DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=example.org; s=lab; h=From:To:Subject; bh=%s; b=%s' \
        "$(head -c 32 /dev/zero | base64)" "$(head -c 128 /dev/zero | base64 -w0)"
}

# pf_delivered_message QUEUE_ID RCPT [TIMEOUT_S] : with PF_DELIVER=maildir
# (lib.sh's pf_setup), wait (default 10 s) until the message QUEUE_ID was
# delivered to RCPT and print it as delivered (pipe(8) adds Return-Path:
# above the message's header; LF line ends).  Returns 1 on
# timeout.  Other recipients' copies: pf_wait_mail QUEUE_ID lists them.
pf_delivered_message() {
    local f=$PF_MAILDIR/$1.$2
    lab_wait_for "${3:-10}" test -f "$f" || return 1
    cat "$f"
}

# pf_delivered_body QUEUE_ID RCPT [TIMEOUT_S] : only the body (after the
# first empty line) of that delivered message.
pf_delivered_body() {
    pf_delivered_message "$@" | tr -d '\r' | sed '1,/^$/d'
}

# pf_delivered_header QUEUE_ID RCPT NAME [TIMEOUT_S] : the header fields NAME
# of that delivered message, one per line (continuation lines unfolded), e.g.
# "Subject: Changed by upstream".
pf_delivered_header() {
    pf_delivered_message "$1" "$2" "${4:-10}" | tr -d '\r' |
        awk -v want="$(tr '[:upper:]' '[:lower:]' <<<"$3")" '
            /^$/ { exit }
            /^[ \t]/ { if (keep) cur = cur " " substr($0, match($0, /[^ \t]/)); next }
            { if (keep) print cur; n = index($0, ":"); keep = (tolower(substr($0, 1, n - 1)) == want); cur = $0 }
            END { if (keep) print cur }'
}
