#!/bin/sh
# run.sh - runs the libFuzzer targets for a fixed time each and prints
# total execs and execs/s per target (from libFuzzer's -print_final_stats).
#
#   tests/fuzz/run.sh SECONDS BUILD_DIR TARGET...     (called by mk/fuzz.mk)
#
# Each target NAME runs BUILD_DIR/fuzz/fuzz_NAME on
#   BUILD_DIR/corpus/NAME   (writable: new inputs found go here)
#   tests/fuzz/corpus/NAME  (the seeds, read only)
# with tests/fuzz/NAME.dict when it exists.  A crash, an invariant
# violation (abort), a leak, a timeout (FUZZ_TIMEOUT s per input) or an
# out-of-memory fails the run; the input is saved as
# BUILD_DIR/artifacts/NAME-crash-<sha1> (or -leak-, -timeout-, -oom-) and
# the log is BUILD_DIR/logs/NAME.log.  Reproduce with
#   BUILD_DIR/fuzz/fuzz_NAME BUILD_DIR/artifacts/NAME-crash-<sha1>
# Exit status: 0 when every target ran its time without a finding.
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 SECONDS BUILD_DIR TARGET..." >&2
    exit 2
fi
secs=$1
b=$2
shift 2
case $b in /*) ;; *) b=$(pwd)/$b ;; esac
src=$(cd "$(dirname "$0")/../.." && pwd)
timeout_s=${FUZZ_TIMEOUT:-10}
mkdir -p "$b/corpus" "$b/artifacts" "$b/logs"

# Sanitizer settings: abort on the first error, leaks included; symbolized traces.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$src/tests/fuzz/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for s in llvm-symbolizer-14 llvm-symbolizer /usr/lib/llvm-14/bin/llvm-symbolizer; do
    p=$(command -v "$s" 2>/dev/null) || continue
    export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$p}"
    break
done
export REWORD_SRCDIR="$src"
export REWORD_FUZZ_SANDBOX="$b/sandbox"

# Longest input libFuzzer makes per target (seeds may be longer; they are
# still read whole).
max_len() {
    case $1 in
    reply) echo 4096 ;;
    template) echo 8192 ;;
    config) echo 32768 ;;
    *) echo 4096 ;;
    esac
}

stat_of() {   # stat_of LOG NAME: value of libFuzzer's "stat::NAME: value" line
    sed -n "s/^stat::$2:[[:space:]]*//p" "$1" | tail -n 1
}

fail=0
summary=""
for t in "$@"; do
    bin="$b/fuzz/fuzz_$t"
    log="$b/logs/$t.log"
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin is missing (make fuzz-build)" >&2
        fail=1
        summary="$summary$t MISSING - - -\n"
        continue
    fi
    mkdir -p "$b/corpus/$t"
    # (the for loop's word list was expanded once; "$@" is free for the options)
    set -- -max_total_time="$secs" -print_final_stats=1 -timeout="$timeout_s" \
        -rss_limit_mb=2048 -max_len="$(max_len "$t")" -artifact_prefix="$b/artifacts/$t-"
    [ -f "$src/tests/fuzz/$t.dict" ] && set -- "$@" -dict="$src/tests/fuzz/$t.dict"
    seeds="$src/tests/fuzz/corpus/$t"
    [ -d "$seeds" ] || seeds=""
    echo "== fuzz $t for ${secs}s (log: $log)"
    "$bin" "$@" ${FUZZ_ARGS:-} "$b/corpus/$t" $seeds > "$log" 2>&1
    rc=$?
    execs=$(stat_of "$log" number_of_executed_units)
    eps=$(stat_of "$log" average_exec_per_sec)
    units=$(stat_of "$log" new_units_added)
    status=ok
    if [ $rc -ne 0 ] || grep -q -e '^==[0-9]*==ERROR' -e 'INVARIANT VIOLATED' \
            -e '^SUMMARY: ' -e 'runtime error:' "$log"; then
        status=FAIL
        fail=1
        echo "!! fuzz $t FAILED (exit $rc); from $log:"
        grep -n -e 'INVARIANT VIOLATED' -e '^====' -e 'ERROR: ' -e 'runtime error:' \
            -e '^SUMMARY: ' -e 'Test unit written to' -e '^    #[0-9]' "$log" | head -n 60
        art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        [ -n "$art" ] && echo "!! reproduce: $bin $art"
    fi
    summary="$summary$t $status ${execs:--} ${eps:--} ${units:--}\n"
done

echo
echo "== fuzz summary (${secs}s per target)"
printf "%-10s %-6s %14s %10s %10s\n" target result total_execs execs/s new_units
printf "$summary" | while read -r t st ex ep un; do
    printf "%-10s %-6s %14s %10s %10s\n" "$t" "$st" "$ex" "$ep" "$un"
done
exit $fail
