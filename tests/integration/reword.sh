# reword.sh - helpers for integration tests that run the milter-reword
# daemon in front of the private Postfix from lib.sh.  Source after lib.sh.
#
# The daemon runs as it would in production: started as root, socket
# owned by nobody:postfix with mode 0660, privileges dropped to nobody.

REWORD_BIN=${B:?}/milter-reword

# reword_start CONF : start milter-reword on $LAB/reword.sock with CONF,
# pidfile $LAB/run/reword.pid, log in $LAB/reword.log; attach it to Postfix.
# Sets RW_PID (the supervisor) and RW_SOCK.
reword_start() {
    local conf=$1
    mkdir -p "$LAB/run" "$LAB/log"
    chown nobody "$LAB/run" "$LAB/log"
    chmod 0644 "$conf"
    RW_SOCK=$LAB/run/reword.sock
    lab_spawn reword "$REWORD_BIN" -f -c "$conf" -p "unix:$RW_SOCK" -u nobody:postfix \
        -P "$LAB/run/reword.pid"
    RW_PID=$LAB_PID
    lab_wait_sock "$RW_SOCK" 10 || { cat "$LAB/reword.log"; lab_die "milter-reword did not start"; }
    pf_set_milter "unix:$RW_SOCK"
}

# reword_log_wait ERE [TIMEOUT] : wait until the daemon's log has a matching line.
reword_log_wait() {
    local ere=$1 t=${2:-10} i
    for i in $(seq 1 $((t * 10))); do
        grep -Eq -- "$ere" "$LAB/reword.log" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# reword_audit_wait ERE [TIMEOUT] : wait for a matching line in the JSON audit log.
reword_audit_wait() {
    local ere=$1 t=${2:-10} i
    for i in $(seq 1 $((t * 10))); do
        grep -Eq -- "$ere" "$LAB/log/audit.jsonl" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
