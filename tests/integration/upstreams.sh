# upstreams.sh - upstream milters for the proxy-mode tests, sourced after
# lib.sh: the scripted python3-milter test milter (upstream_milter.py) and a
# private OpenDKIM from Debian.  Both listen on loopback TCP ports of their
# own and are stopped by the lab's cleanup (lab_spawn).

PYTHON_MILTER=/usr/bin/python3    # Debian's python3-milter lives there, not in pyenv

# upstreams_available : true when both packages are installed (tools/deps/proxy.txt).
upstreams_available() {
    "$PYTHON_MILTER" -c 'import Milter' 2>/dev/null && [ -x /usr/sbin/opendkim ]
}

# upstream_start NAME PORT : start upstream_milter.py as NAME on
# inet:PORT@127.0.0.1, its callback log in $LAB/upstream-NAME.events; waits
# until the port listens.  Sets UP_PID[NAME].
declare -A UP_PID
upstream_start() {
    local name=$1 port=$2
    lab_spawn "upstream-$name" "$PYTHON_MILTER" "$SRCDIR/tests/integration/upstream_milter.py" \
        --socket "inet:$port@127.0.0.1" --log "$LAB/upstream-$name.events" --name "$name"
    UP_PID[$name]=$LAB_PID
    lab_wait_for 10 lab_port_listening "$port" || { cat "$LAB/upstream-$name.log"; lab_die "upstream $name did not start"; }
}

# upstream_stop NAME : stop it (SIGKILL: it must look like a crash to the proxy).
upstream_stop() {
    kill -KILL "${UP_PID[$1]}" 2>/dev/null
    wait "${UP_PID[$1]}" 2>/dev/null
    return 0
}

# upstream_events NAME : path of its callback log.
upstream_events() { echo "$LAB/upstream-$1.events"; }

# opendkim_start PORT : a private OpenDKIM 2.11 in verify mode that rejects
# a message whose DKIM signature does not verify (On-BadSignature reject).
# InternalHosts is a documentation address, so mail from the test client on
# 127.0.0.1 is verified rather than signed.  No DNS: the key of
# lab._domainkey.example.org comes from TestPublicKeys (a fresh RSA key).
# Unsigned mail is accepted with an Authentication-Results header
# (AlwaysAddARHeader).  `opendkim_bad_signature` prints a DKIM-Signature
# header that fails.  Sets DKIM_PID.
opendkim_start() {
    local port=$1
    cat >"$LAB/opendkim.conf" <<EOF
Mode v
Socket inet:$port@127.0.0.1
PidFile $LAB/opendkim.pid
InternalHosts 192.0.2.1
On-BadSignature reject
TestPublicKeys $LAB/dkim.keys
AlwaysAddARHeader yes
AuthservID lab.test
Syslog no
UMask 002
EOF
    openssl genrsa -out "$LAB/dkim.key" 1024 2>/dev/null || lab_die "openssl genrsa failed"
    printf 'lab._domainkey.example.org v=DKIM1; k=rsa; p=%s\n' \
        "$(openssl rsa -in "$LAB/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0)" >"$LAB/dkim.keys"
    lab_spawn opendkim /usr/sbin/opendkim -f -x "$LAB/opendkim.conf"
    DKIM_PID=$LAB_PID
    lab_wait_for 10 lab_port_listening "$port" || { cat "$LAB/opendkim.log"; lab_die "opendkim did not start"; }
}

# opendkim_bad_signature : a DKIM-Signature header (for swaks --header) with
# the lab key's selector and a body hash and signature that cannot match.
opendkim_bad_signature() {
    printf 'DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=example.org; s=lab; h=From:To:Subject; bh=%s; b=%s' \
        "$(head -c 32 /dev/zero | base64)" "$(head -c 128 /dev/zero | base64 -w0)"
}
