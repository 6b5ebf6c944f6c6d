#!/usr/bin/env bash
# One command for a long fuzzing run: builds tests/fuzz with clang (ASan +
# UBSan + libFuzzer) and runs every harness until it has executed RUNS
# inputs (default 1,000,000) or MAXSECS seconds have passed (default 6 h),
# keeping the grown corpora so that the next long run starts where this
# one stopped.  Prints, per harness: execs, exec/s, new units, crashes.
#
#   scripts/fuzz-long.sh [-r RUNS] [-t MAXSECS] [-j JOBS] [-b BUILD] [-k DIR] [NAME...]
#
# Defaults: BUILD = build-fuzz, DIR = BUILD/long (corpora and findings).
# Exit status 1 when any harness found a crash (the input is printed as
# base64 and kept in DIR/NAME/findings).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
runs=1000000
maxsecs=21600
jobs=$(nproc 2>/dev/null || echo 2)
build=$here/build-fuzz
keep=
while getopts "r:t:j:b:k:" o; do
	case $o in
	r) runs=$OPTARG ;;
	t) maxsecs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	b) build=$OPTARG ;;
	k) keep=$OPTARG ;;
	*) echo "usage: fuzz-long.sh [-r RUNS] [-t MAXSECS] [-j JOBS] [-b BUILD] [-k DIR] [NAME...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
keep=${keep:-$build/long}
cc=$(command -v clang || command -v clang-14) ||
    { echo "fuzz-long: clang is needed (Debian: clang libclang-rt-14-dev)" >&2; exit 2; }
cmake -S "$here/tests/fuzz" -B "$build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 2
cmake --build "$build" -j"$jobs" >/dev/null || { cmake --build "$build" 2>&1 | tail -20; exit 2; }
echo "fuzz-long: up to $runs runs or $maxsecs s per harness, $jobs at once; corpora in $keep"
start=$(date +%s)
bash "$here/tests/fuzz/run.sh" -r "$runs" -t "$maxsecs" -j "$jobs" -k "$keep" "$build" "$@"
rc=$?
echo "fuzz-long: $(( $(date +%s) - start )) s in all; exit $rc"
exit "$rc"
