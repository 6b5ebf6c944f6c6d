#!/usr/bin/env bash
# bench/lived.sh - issue 15's goals, each figure for a fresh machine (no
# state database, no other listeners) and a lived-in one (bench/lived-in.sh:
# 1,000 notes, a baseline, 500 audit runs, 10,000 votes, 200 listeners of
# nobody), each ratio from one interleaved bench-run (medians):
#   1. portdex 645            vs getent services 645/tcp, IANA-size
#                                /etc/services bind-mounted (root)  <= 1.5x
#   2. portdex note --list    vs sqlite3 STATE 'select * from notes' <= 2x
#   3. portdex ls             vs ss -tlnp      at 10/1,000/10,000     <= 0.5x
#      portdex ls --no-pids   vs ss -tln                               <= 0.7x
#   4. portdex audit          vs portdex ls    at 1,000 listeners     <= 1.5x
#   5. peak RSS (GNU time %M) of 645, ls, audit (text, JSON, CSV),
#      note --list, find at 1,000 listeners                      < 10 MB
# usage: bench/lived.sh [BUILD_DIR]   env RUNS=15 COUNTS="10 1000 10000"
# Run as root (the bind mount, every process visible).  Loopback only.
# As root it runs in a network namespace of its own (unshare -n): the
# listener counts are then exactly the ones asked for, whatever other jobs
# on the machine listen on (the process walk still sees every process).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" = 0 ] && [ -z "${LIVED_NETNS:-}" ] && command -v unshare >/dev/null; then
	exec unshare -n env LIVED_NETNS=1 bash "$0" "$@"
fi
[ -n "${LIVED_NETNS:-}" ] && ip link set lo up
build=${1:-${PDX_BUILD:-$here/build}}
pd=$build/portdex
br=$build/bench/bench-run
helper=$build/tests/listen-helper
RUNS=${RUNS:-15}
COUNTS=${COUNTS:-10 1000 10000}
T=$(mktemp -d)
L=$T/lived
hpid=
cleanup() {
	[ -n "$hpid" ] && kill "$hpid" 2>/dev/null
	"$here/bench/lived-in.sh" stop "$L" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
col() { sed -n "$1p" "$T/run.out" | cut -f"$2"; }

echo "bench/lived.sh: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other jobs run meanwhile)"
# the baseline and history hold the 200 listeners: they are up meanwhile
"$here/bench/lived-in.sh" start "$L" "$build"
"$here/bench/lived-in.sh" build "$L" "$build" >/dev/null
"$here/bench/lived-in.sh" stop "$L"
FRESH=(PORTDEX_DB="$L/registry.db" PORTDEX_STATE="$T/none/state.db")
LIVED=(PORTDEX_DB="$L/registry.db" PORTDEX_STATE="$L/state.db")

# listeners N: a helper holding N loopback TCP listeners (root's)
listeners() {
	"$helper" -t 1800 -n "$1" tcp/127.0.0.1/0 > "$T/h.out" 2> "$T/h.err" &
	hpid=$!
	for _ in $(seq 3000); do
		grep -q '^READY' "$T/h.out" && return 0
		kill -0 "$hpid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench/lived.sh: helper failed: $(cat "$T/h.err")" >&2
	exit 1
}
unlisten() { kill "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null || true; hpid=; }

echo
echo "== 1. portdex 645 vs getent services 645/tcp (wall ms, medians of $RUNS, interleaved)"
"$pd" --db "$L/registry.db" export --format services > "$T/services"
# "stale": the lived-in state with no current notes file (another program
# wrote the state since portdex last did: the notes come from SQLite)
mkdir -p "$T/stale"
cp "$L/state.db" "$T/stale/state.db"
STALE=(PORTDEX_DB="$L/registry.db" PORTDEX_STATE="$T/stale/state.db")
card() {
	"$br" -r "$RUNS" -w 3 -- "${FRESH[@]}" "$pd" 645 \; "${LIVED[@]}" "$pd" 645 \; \
	    getent services 645/tcp \; "${STALE[@]}" "$pd" 645 > "$T/run.out"
	echo "  $1: getent $(col 3 1) ms; fresh $(col 1 1) ms = $(ratio "$(col 1 1)" "$(col 3 1)")x; lived-in $(col 2 1) ms = $(ratio "$(col 2 1)" "$(col 3 1)")x (cpu: fresh $(ratio "$(col 1 2)" "$(col 3 2)")x, lived-in $(ratio "$(col 2 2)" "$(col 3 2)")x; goal <= 1.5x); lived-in with a stale notes file $(col 4 1) ms = $(ratio "$(col 4 1)" "$(col 3 1)")x"
}
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	export -f card ratio col
	export T br pd RUNS L
	FRESH_S="${FRESH[*]}" LIVED_S="${LIVED[*]}" STALE_S="${STALE[*]}" unshare -m bash -c '
	    FRESH=($FRESH_S); LIVED=($LIVED_S); STALE=($STALE_S)
	    mount --bind "$T/services" /etc/services &&
	    card "IANA-size /etc/services ($(wc -l < /etc/services) lines)"'
else
	card "this /etc/services ($(wc -l < /etc/services) lines; not root: no bind mount)"
fi

echo
echo "== 2. note --list with $(sqlite3 "$L/state.db" 'select count(*) from notes') notes vs sqlite3 (wall ms)"
"$br" -r "$RUNS" -w 3 -- "${LIVED[@]}" "$pd" note --list \; sqlite3 "$L/state.db" 'select * from notes' \
    \; "${FRESH[@]}" "$pd" note --list > "$T/run.out"
echo "  sqlite3 $(col 2 1) ms; portdex note --list $(col 1 1) ms = $(ratio "$(col 1 1)" "$(col 2 1)")x (cpu $(ratio "$(col 1 2)" "$(col 2 2)")x; goal <= 2x); fresh (no state database) $(col 3 1) ms"

echo
echo "== 3. ls vs ss (wall ms, medians of $RUNS; each machine its own interleaved run)"
printf "  %-9s %-9s %9s %9s %7s   %9s %9s %7s\n" listeners machine "ss -tlnp" "ls" ratio "ss -tln" "--no-pids" ratio
for n in $COUNTS; do
	listeners "$n"
	for m in fresh lived-in; do
		if [ "$m" = fresh ]; then env=("${FRESH[@]}"); else
			env=("${LIVED[@]}"); "$here/bench/lived-in.sh" start "$L" "$build"; fi
		"$br" -r "$RUNS" -w 2 -- ss -tlnp \; "${env[@]}" "$pd" ls \; ss -tln \; \
		    "${env[@]}" "$pd" ls --no-pids > "$T/run.out"
		printf "  %-9s %-9s %9s %9s %7s   %9s %9s %7s\n" "$n" "$m" "$(col 1 1)" "$(col 2 1)" \
		    "$(ratio "$(col 2 1)" "$(col 1 1)")" "$(col 3 1)" "$(col 4 1)" "$(ratio "$(col 4 1)" "$(col 3 1)")"
		[ "$m" = lived-in ] && "$here/bench/lived-in.sh" stop "$L"
	done
	unlisten
done
echo "  goals: ls <= 0.50 x ss -tlnp, ls --no-pids <= 0.70 x ss -tln"

echo
echo "== 4. audit vs ls at 1,000 listeners; 5. peak RSS"
listeners 1000
for m in fresh lived-in; do
	# audit records each run: the fresh machine's audit gets a state
	# database of its own (its history only), the others keep none
	if [ "$m" = fresh ]; then env=("${FRESH[@]}")
		aenv=(PORTDEX_DB="$L/registry.db" PORTDEX_STATE="$T/fresh-audit/state.db"); else
		env=("${LIVED[@]}"); aenv=("${LIVED[@]}"); "$here/bench/lived-in.sh" start "$L" "$build"; fi
	"$br" -r "$RUNS" -w 2 -- "${aenv[@]}" "$pd" audit \; "${env[@]}" "$pd" ls > "$T/run.out"
	echo "  $m: audit $(col 1 1) ms, ls $(col 2 1) ms = $(ratio "$(col 1 1)" "$(col 2 1)")x (cpu $(ratio "$(col 1 2)" "$(col 2 2)")x; goal <= 1.5x)"
	rss=""
	for c in "645" "ls" "ls --no-pids" "ls --json" "ls --format csv" \
	    "audit" "audit --json" "audit --format csv" "audit --diff" "note --list" \
	    "find ssh"; do
		e=("${env[@]}")
		case $c in audit*) e=("${aenv[@]}") ;; esac
		# shellcheck disable=SC2086
		k=$(env "${e[@]}" /usr/bin/time -f %M "$pd" $c 2>&1 >/dev/null | tail -1 || true)
		rss="$rss $c: $((k / 1024)).$(( (k % 1024) * 10 / 1024 )) MB;"
	done
	echo "  $m peak RSS:$rss (goal < 10 MB)"
	[ "$m" = lived-in ] && "$here/bench/lived-in.sh" stop "$L"
done
unlisten
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
