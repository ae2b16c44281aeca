# runner.sh - the test-file loop shared by tests/integration/run.sh and
# tests/sendmail/run.sh.  Source it after lib.sh (for lab_procs_under),
# with LAB_ROOT set and exported.
#
# run_test_files LABEL TIMEOUT_S DIR [NAME...] : runs DIR/NAME (default:
# every DIR/t_*.sh, in name order), each in its own bash process under
# timeout(1) with TIMEOUT_S seconds, shows its output indented (so that
# only the total line starts with LABEL), reads its "N passed, N failed"
# line, and counts as failures: a missing summary, a non-zero exit and any
# process left running under LAB_ROOT.  Then prints "== results", one line
# per file and the total line "LABEL: N passed, N failed"; keeps LAB_ROOT
# and the outputs only when something failed.  Returns 0 when all passed.
# An INT/TERM is passed on to the running test (whose traps stop its
# MTA and milters), then the run stops with 130.

_rt_tpid=""

# _rt_one LABEL TIMEOUT_S FILE : runs one file; sets _rt_p, _rt_f, _rt_line
_rt_one() {
    local label=$1 tmo=$2 t=$3 name out t0 rc secs note summary left
    name=$(basename "$t")
    if [ ! -f "$t" ]; then
        _rt_p=0; _rt_f=1; _rt_line="FAIL $name (no such file)"
        return
    fi
    out=$LAB_ROOT/$name.out
    echo "== $name"
    t0=$(date +%s.%N)
    : >"$out"       # exists before tail starts following it
    timeout -k 30 "$tmo" bash "$t" >>"$out" 2>&1 </dev/null &
    _rt_tpid=$!
    tail -n +1 -s 0.1 -f --pid="$_rt_tpid" "$out" 2>/dev/null | sed -u 's/^/    /'
    wait "$_rt_tpid"
    rc=$?
    _rt_tpid=""
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

    note=""
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    if [ -z "$summary" ]; then
        _rt_p=0; _rt_f=1; note="; no summary line"
    else
        _rt_p=${summary%% passed*}
        _rt_f=${summary#*, }; _rt_f=${_rt_f%% failed}
        if [ "$rc" -ne 0 ] && [ "$_rt_f" -eq 0 ]; then _rt_f=1; fi
    fi
    [ "$rc" -eq 124 ] && note="$note; timed out after ${tmo}s"
    [ "$rc" -ne 0 ] && note="$note; exit $rc"

    # Whatever the test left running under the lab root is a failure too.
    left=$(lab_procs_under "$LAB_ROOT")
    if [ -n "$left" ]; then
        echo "$left" | sed 's/^/    # leftover process: /'
        echo "$left" | awk '{ print $1 }' | xargs -r kill -KILL 2>/dev/null
        _rt_f=$((_rt_f + 1)); note="$note; left processes running"
    fi
    local st=PASS
    [ "$_rt_f" -eq 0 ] || st=FAIL
    _rt_line="$st $name ($_rt_p passed, $_rt_f failed, ${secs}s$note)"
}

run_test_files() {
    local label=$1 tmo=$2 dir=$3 a t total_pass=0 total_fail=0
    shift 3
    local files=() results=()
    if [ "$#" -gt 0 ]; then
        for a in "$@"; do files+=("$dir/$(basename "$a")"); done
    else
        files=("$dir"/t_*.sh)
    fi
    trap 'echo "'"$label"': interrupted"; [ -n "$_rt_tpid" ] && kill -TERM "$_rt_tpid" 2>/dev/null && wait "$_rt_tpid"; exit 130' INT TERM
    for t in "${files[@]}"; do
        _rt_one "$label" "$tmo" "$t"
        results+=("$_rt_line")
        total_pass=$((total_pass + _rt_p))
        total_fail=$((total_fail + _rt_f))
    done
    echo "== results"
    for a in "${results[@]}"; do echo "$a"; done
    # Passed labs are gone already; keep outputs and labs when something failed.
    [ "$total_fail" -eq 0 ] && rm -f "$LAB_ROOT"/*.out
    rmdir "$LAB_ROOT" 2>/dev/null || echo "test outputs and lab dirs kept under $LAB_ROOT"
    echo "$label: $total_pass passed, $total_fail failed"
    [ "$total_fail" -eq 0 ]
}
