#!/usr/bin/env bash
# run.sh - runs the libFuzzer harnesses built from tests/fuzz, each on a
# private copy of its seed corpus, for a bounded time (and optionally a
# bounded number of runs), and prints one line per harness:
#
#   NAME  execs=N  exec/s=R  new_units=U  crashes=C  seconds=S
#
# A crash, a leak, a timeout or an out-of-memory is a finding: its input
# is kept (printed as base64 with the sanitizer's report) and the script
# exits 1.  Usage:
#
#   tests/fuzz/run.sh [-t SECONDS] [-r RUNS] [-j JOBS] [-k DIR] BUILD [NAME...]
#
#   -t SECONDS  time per harness (default 20; with -r, the upper bound)
#   -r RUNS     stop each harness after RUNS executions (libFuzzer -runs)
#   -j JOBS     harnesses run at once (default: online CPUs, at most 4)
#   -k DIR      keep the grown corpora and findings in DIR (else a
#               temporary directory, removed at exit unless a harness failed)
#   BUILD       the build directory of tests/fuzz (holds fuzz_NAME)
#   NAME        harnesses to run (default: every fuzz_* in BUILD)
set -u

usage() {
	echo "usage: run.sh [-t SECONDS] [-r RUNS] [-j JOBS] [-k DIR] BUILD [NAME...]" >&2
	exit 2
}

secs=20
runs=-1
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 4 ] && jobs=4
keep=
while getopts "t:r:j:k:" o; do
	case $o in
	t) secs=$OPTARG ;;
	r) runs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	k) keep=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
for v in "$secs" "$runs" "$jobs"; do
	[[ $v =~ ^-?[0-9]+$ ]] || { echo "run.sh: '$v' is not a number" >&2; exit 2; }
done
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)

# The longest input worth trying, per harness: a few lines of a text
# format, one /proc/net line, a handful of netlink messages or XDR
# entries, a few patches to a database.
max_len_of() {
	case $1 in
	portset) echo 256 ;;
	procnet) echo 512 ;;
	cgroup) echo 1024 ;;
	db) echo 512 ;;
	iana|diag) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

if [ $# -gt 0 ]; then
	names=("$@")
else
	names=()
	for f in "$build"/fuzz_*; do
		[ -x "$f" ] && names+=("${f##*/fuzz_}")
	done
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "run.sh: no fuzz_* harness in $build (build tests/fuzz with clang first)" >&2
	exit 2
fi

if [ -n "$keep" ]; then
	work=$keep
	mkdir -p "$work"
else
	work=$(mktemp -d /tmp/pdx-fuzz.XXXXXX)
fi

# run_one NAME: fuzzes one harness, writes WORK/NAME.result.
run_one() {
	local n=$1 bin=$build/fuzz_$1 dir=$work/$1 rc
	mkdir -p "$dir/corpus" "$dir/findings"
	if [ -d "$here/corpus/$n" ]; then
		cp -n "$here/corpus/$n"/* "$dir/corpus/" 2>/dev/null
	fi
	# fuzz_annotate (every parser) starts from every format's seeds
	if [ "$n" = annotate ]; then
		cp -n "$here"/corpus/annotate_*/* "$dir/corpus/" 2>/dev/null
	fi
	local start=$SECONDS
	"$bin" "$dir/corpus" -max_len="$(max_len_of "$n")" \
	    -max_total_time="$secs" -runs="$runs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$dir/findings/" >"$dir/log" 2>&1
	rc=$?
	local execs rate units found
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
	units=$(sed -n 's/^stat::new_units_added: *//p' "$dir/log" | tail -1)
	found=$(find "$dir/findings" -type f | wc -l)
	# A non-zero exit without an artifact (e.g. the harness could not
	# start) is a failure too.
	if [ "$rc" -ne 0 ] && [ "$found" -eq 0 ]; then
		found=1
	fi
	printf '%-10s execs=%-9s exec/s=%-7s new_units=%-5s crashes=%s seconds=%s\n' \
	    "$n" "${execs:-0}" "${rate:-0}" "${units:-0}" "$found" \
	    "$((SECONDS - start))" > "$dir/result"
	echo "$rc" > "$dir/rc"
}

# At most $jobs at once; bash's wait -n frees a slot.
running=0
for n in "${names[@]}"; do
	if [ ! -x "$build/fuzz_$n" ]; then
		echo "run.sh: no harness $build/fuzz_$n" >&2
		exit 2
	fi
	run_one "$n" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

failed=0
for n in "${names[@]}"; do
	cat "$work/$n/result"
	rc=$(cat "$work/$n/rc")
	if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/$n/findings")" ]; then
		failed=1
		echo "---- fuzz_$n failed (exit $rc); log: $work/$n/log" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|    #[0-9]+ )|invariant failed|runtime error' \
		    "$work/$n/log" | head -40 >&2
		for a in "$work/$n/findings"/*; do
			[ -f "$a" ] || continue
			echo "input ${a##*/} (base64):" >&2
			base64 -w 76 "$a" | head -40 >&2
		done
	fi
done
if [ "$failed" -eq 0 ] && [ -z "$keep" ]; then
	rm -rf "$work"
elif [ "$failed" -ne 0 ]; then
	echo "run.sh: findings kept in $work" >&2
fi
exit "$failed"
