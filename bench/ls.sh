#!/bin/bash
# bench/ls.sh - `portdex ls` against the tools people use today, at 10,
# 1,000 and 10,000 TCP listeners held by one helper process, in one run:
#   with processes:    portdex ls          vs ss -tlnp, lsof -nP -iTCP
#                                             -sTCP:LISTEN, netstat -tlnp
#   without processes: portdex ls --no-pids vs ss -tln
# Prints the median wall time of repeated runs of each and its ratio to the
# ss line of its group (goals: <= 0.5 and <= 0.7).  See README-ls.md.
#
# Each command is timed for wall clock and for CPU (user + system of the
# child): on a shared, loaded machine the wall clock mostly measures the
# wait for a core, and the CPU figure is the one that says which tool does
# less work.  See README-ls.md for how to read the output.
#
# usage: bench/ls.sh [BUILD_DIR]
#   env: COUNTS="10 1000 10000"  RUNS=21 (fast tools)  SLOW_RUNS=5 (lsof,
#        netstat at 10,000)  TIMER=run|loop|hyperfine (default run:
#        BUILD/bench/bench-run, which forks each command itself and runs
#        them in interleaved rounds, so a change in load hits them all;
#        loop: the same rounds timed by bash; hyperfine runs each
#        command's series in turn)  PORTDEX=path  HELPER=path
# Run it as root so every tool sees every process.  It binds 127.0.0.1
# only and sends no traffic.
set -u

BUILD=${1:-${PDX_BUILD:-$(dirname "$0")/../build}}
PORTDEX=${PORTDEX:-$BUILD/portdex}
HELPER=${HELPER:-$BUILD/tests/listen-helper}
COUNTS=${COUNTS:-10 1000 10000}
RUNS=${RUNS:-21}
SLOW_RUNS=${SLOW_RUNS:-5}
TIMER=${TIMER:-run}
BENCHRUN=${BENCHRUN:-$BUILD/bench/bench-run}
if [ "$TIMER" = run ] && [ ! -x "$BENCHRUN" ]; then
	echo "bench/ls.sh: $BENCHRUN not built, using the loop" >&2
	TIMER=loop
fi
if [ "$TIMER" = hyperfine ] && ! command -v hyperfine >/dev/null; then
	echo "bench/ls.sh: hyperfine not installed, using the loop" >&2
	TIMER=loop
fi

for f in "$PORTDEX" "$HELPER"; do
	[ -x "$f" ] || { echo "bench/ls.sh: $f is not built" >&2; exit 2; }
done
for t in ss lsof netstat; do
	command -v $t >/dev/null || echo "bench/ls.sh: $t not installed: skipped" >&2
done
if [ "$TIMER" = hyperfine ] && ! command -v jq >/dev/null; then TIMER=loop; fi

TMP=$(mktemp -d)
hpid=
cleanup() {
	[ -n "$hpid" ] && kill "$hpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# run_once FILE CMD...: appends "REAL CPU" in ms (CPU = user + system).
run_once() {
	local file=$1 TIMEFORMAT='%3R %3U %3S'
	shift
	{ time "$@" >/dev/null 2>&1; } 2>&1 | awk '{ printf "%.3f %.3f\n",
	    $1 * 1000, ($2 + $3) * 1000 }' >>"$file"
}

# hyper FILE RUNS CMD...: hyperfine's median wall and mean CPU, one line.
hyper() {
	local file=$1 runs=$2
	shift 2
	hyperfine -N --style none --warmup 2 --runs "$runs" \
	    --export-json "$TMP/h.json" -- "$*" >/dev/null 2>&1 || return
	jq -r '.results[0] | "\(.median * 1000) \((.user + .system) * 1000)"' \
	    "$TMP/h.json" >"$file"
}

# median FILE COLUMN
median() {
	sort -n -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
		if (NR == 0) { print 0; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f\n", m }'
}

echo "portdex ls benchmark: $(nproc) cores, kernel $(uname -r), timer $TIMER"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$PORTDEX" --version | sed 's/^/  /'
printf "\n%-9s %-30s %9s %9s %7s %7s\n" listeners command "wall ms" \
    "cpu ms" "wall/ss" "cpu/ss"

# The two groups: the first command of each is its baseline.
GROUP1=("ss -tlnp" "portdex ls" "lsof -nP -iTCP -sTCP:LISTEN" "netstat -tlnp")
GROUP2=("ss -tln" "portdex ls --no-pids")

# argv of a label: portdex means the binary under test.
cmd_of() {
	case $1 in
	portdex*) echo "$PORTDEX${1#portdex}" ;;
	*) echo "$1" ;;
	esac
}
available() { [ "${1%% *}" = portdex ] || command -v "${1%% *}" >/dev/null; }
key() { echo "$1" | tr -c 'a-zA-Z0-9\n' _; }

report() {	# report N BASELINE LABEL...
	local n=$1 base=$2 label bw bc w c
	shift 2
	bw=$(median "$TMP/$(key "$base")" 1)
	bc=$(median "$TMP/$(key "$base")" 2)
	for label in "$@"; do
		[ -s "$TMP/$(key "$label")" ] || continue
		w=$(median "$TMP/$(key "$label")" 1)
		c=$(median "$TMP/$(key "$label")" 2)
		printf "%-9s %-30s %9.2f %9.2f %7s %7s\n" "$n" "$label" "$w" "$c" \
		    "$(awk -v a="$w" -v b="$bw" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" \
		    "$(awk -v a="$c" -v b="$bc" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	done
}

for n in $COUNTS; do
	"$HELPER" -t 1800 -n "$n" tcp/127.0.0.1/0 >"$TMP/helper.out" \
	    2>"$TMP/helper.err" &
	hpid=$!
	for i in $(seq 6000); do	# at most 10 minutes on a busy machine
		grep -q '^READY' "$TMP/helper.out" && break
		kill -0 $hpid 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^READY' "$TMP/helper.out"; then
		echo "bench/ls.sh: helper failed: $(cat "$TMP/helper.err")" >&2
		exit 1
	fi
	seen=$("$PORTDEX" ls -t --no-pids -n -q | wc -l)
	if [ "$seen" -le "$n" ]; then
		echo "bench/ls.sh: portdex saw $((seen - 1)) listeners, expected $n or more" >&2
		exit 1
	fi
	slow=$RUNS
	[ "$n" -ge 10000 ] && slow=$SLOW_RUNS
	labels=()
	for label in "${GROUP1[@]}" "${GROUP2[@]}"; do
		available "$label" && labels+=("$label")
		rm -f "$TMP/$(key "$label")"
	done
	runs_of() { case $1 in lsof*|netstat*) echo "$slow" ;; *) echo "$RUNS" ;; esac; }
	if [ "$TIMER" = run ]; then
		args=()
		for label in "${labels[@]}"; do
			[ ${#args[@]} -gt 0 ] && args+=(";")
			[ "$(runs_of "$label")" -lt "$RUNS" ] &&
			    args+=("%$(runs_of "$label")")
			# shellcheck disable=SC2207
			args+=($(cmd_of "$label"))
		done
		"$BENCHRUN" -r "$RUNS" -w 2 -- "${args[@]}" >"$TMP/run.out"
		k=0
		for label in "${labels[@]}"; do
			k=$((k + 1))
			sed -n "${k}p" "$TMP/run.out" |
			    awk '{ print $1, $2 }' >"$TMP/$(key "$label")"
		done
	elif [ "$TIMER" = hyperfine ]; then
		for label in "${labels[@]}"; do
			hyper "$TMP/$(key "$label")" "$(runs_of "$label")" \
			    $(cmd_of "$label")
		done
	else
		for label in "${labels[@]}"; do	# warm caches
			$(cmd_of "$label") >/dev/null 2>&1
		done
		for r in $(seq "$RUNS"); do
			for label in "${labels[@]}"; do
				[ "$r" -le "$(runs_of "$label")" ] || continue
				run_once "$TMP/$(key "$label")" $(cmd_of "$label")
			done
		done
	fi
	report "$n" "${GROUP1[0]}" "${GROUP1[@]}"
	report "$n" "${GROUP2[0]}" "${GROUP2[@]}"
	echo
	kill "$hpid" 2>/dev/null
	wait "$hpid" 2>/dev/null
	hpid=
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "goals: portdex ls <= 0.50 x ss -tlnp; portdex ls --no-pids <= 0.70 x ss -tln"
