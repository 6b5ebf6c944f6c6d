#!/usr/bin/env bash
# bench/lived-in.sh - a machine that has been used, for benchmarks and the
# tests that need one (issue 15): the registry built from the shipped IANA
# snapshot (data/iana), and a state database holding 1,000 notes, a saved
# audit baseline, 500 audit runs of history and 10,000 votes; and 200
# unrelated TCP listeners on 127.0.0.1 held by another user (nobody, in a
# helper process) while the fixture is up.
#
# usage: bench/lived-in.sh build DIR [BUILD_DIR]   writes DIR/registry.db,
#            DIR/state.db (the audit baseline and history record the
#            listeners up at that moment: start them first for a baseline
#            that holds them)
#        bench/lived-in.sh start DIR [BUILD_DIR]   starts the 200 listeners
#            (as nobody when root), writes DIR/listeners.pid
#        bench/lived-in.sh stop DIR                stops them
# Then: PORTDEX_DB=DIR/registry.db PORTDEX_STATE=DIR/state.db portdex ...
# Needs sqlite3(1).  Everything is bounded and binds loopback only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
what=${1:?usage: bench/lived-in.sh build|start|stop DIR [BUILD_DIR]}
dir=${2:?usage: bench/lived-in.sh build|start|stop DIR [BUILD_DIR]}
build=${3:-${PDX_BUILD:-$here/build}}
pd=$build/portdex
NOTES=${LIVED_NOTES:-1000}
RUNS=${LIVED_RUNS:-500}
VOTES=${LIVED_VOTES:-10000}
LISTENERS=${LIVED_LISTENERS:-200}

case $what in
start)
	mkdir -p "$dir"
	helper=$build/tests/listen-helper
	[ -x "$helper" ] || { echo "lived-in: $helper is not built" >&2; exit 2; }
	uid=()
	[ "$(id -u)" = 0 ] && uid=(-u "$(id -u nobody)")
	# the helper dies with its parent: a detached shell waits for it
	setsid bash -c '"$0" "$@" & echo $! > "'"$dir"'/listeners.pid"; wait' \
	    "$helper" -t 3600 "${uid[@]}" -n "$LISTENERS" tcp/127.0.0.1/0 \
	    > "$dir/listeners.out" 2> "$dir/listeners.err" < /dev/null &
	sleep 0.2
	for _ in $(seq 300); do
		grep -q '^READY' "$dir/listeners.out" && exit 0
		kill -0 "$(cat "$dir/listeners.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "lived-in: the listeners did not start: $(cat "$dir/listeners.err")" >&2
	exit 1
	;;
stop)
	[ -f "$dir/listeners.pid" ] && kill "$(cat "$dir/listeners.pid")" 2>/dev/null
	rm -f "$dir/listeners.pid"
	exit 0
	;;
build) ;;
*) echo "lived-in: build, start or stop, not '$what'" >&2; exit 2 ;;
esac

command -v sqlite3 >/dev/null || { echo "lived-in: sqlite3(1) is needed" >&2; exit 2; }
mkdir -p "$dir"
export PORTDEX_DB=$dir/registry.db PORTDEX_STATE=$dir/state.db
rm -f "$PORTDEX_STATE" "$PORTDEX_STATE"-journal
"$pd" update --from "$here/data/iana/service-names-port-numbers.csv" >/dev/null
# the schema as portdex makes it, then a real baseline and a real run
"$pd" -q note 645 "legacy sync daemon of the billing box (ops, since 2019)"
"$pd" audit --save-baseline >/dev/null 2>&1 || true
"$pd" audit >/dev/null 2>&1 || true
first=$(sqlite3 "$PORTDEX_STATE" 'SELECT max(id) FROM audit_runs')
{
	echo "BEGIN;"
	# notes: ports spread over the range, a few ports with several
	for i in $(seq 2 "$NOTES"); do
		p=$(( (i * 7919) % 65536 ))
		[ $((i % 10)) -eq 0 ] && p=$(( (i % 50) * 100 + 22 ))
		echo "INSERT INTO notes(port, proto, text, author, created) VALUES ($p, $(( i % 3 == 0 ? 17 : (i % 3 == 1 ? 6 : 0) )), 'note $i: what runs here, who owns it and since when (ticket OPS-$i)', 'user$((i % 7))', '2025-0$((i % 9 + 1))-1$((i % 9))T10:00:00Z');"
	done
	# votes: 10,000 in all over 2,000 ports and the three choices
	left=$VOTES
	for p in $(seq 1 2000); do
		for c in sad meh happy; do
			n=$(( VOTES / 6000 ))
			[ "$c" = happy ] && n=$(( VOTES / 2000 - 2 * (VOTES / 6000) ))
			[ "$p" = 2000 ] && [ "$c" = happy ] && n=$left
			[ "$n" -gt 0 ] || continue
			echo "INSERT INTO votes(port, choice, count) VALUES ($p, '$c', $n);"
			left=$((left - n))
		done
	done
	# history: copies of the real run, RUNS in all, an hour apart
	echo "CREATE TEMP TABLE r AS SELECT * FROM audit_runs WHERE id = $first;"
	echo "CREATE TEMP TABLE rl AS SELECT * FROM audit_run_listeners WHERE run = $first;"
	have=$(sqlite3 "$PORTDEX_STATE" 'SELECT count(*) FROM audit_runs')
	# schema 4 keeps spans: the real run's are open, so they hold every
	# later run; schema 3 (an older portdex) a row per listener per run
	spans=$(sqlite3 "$PORTDEX_STATE" "SELECT count(*) FROM sqlite_master WHERE name = 'audit_spans'")
	for k in $(seq $((have + 1)) $((RUNS - 1))); do
		echo "INSERT INTO audit_runs(at, scope, listeners, findings, worst, complete) SELECT at - $((k * 3600)), scope, listeners, findings, worst, complete FROM r;"
		[ "$spans" = 1 ] ||
		echo "INSERT INTO audit_run_listeners SELECT last_insert_rowid(), proto, address, port, process, user FROM rl;"
	done
	echo "COMMIT;"
} | sqlite3 "$PORTDEX_STATE"
# The rows above stand for a year of portdex's own writes (one run short: the
# last is real).  The file is left as portdex's last write leaves it, its
# notes file current (lib/notes-file.c): the baseline saved again, on the
# same listeners, which records that last run.
"$pd" audit --save-baseline >/dev/null 2>&1 || true
sqlite3 "$PORTDEX_STATE" "SELECT 'lived-in state: ' || (SELECT count(*) FROM notes) || ' notes, ' || (SELECT count(*) FROM audit_baseline) || ' baseline listeners, ' || (SELECT count(*) FROM audit_runs) || ' audit runs, ' || (SELECT sum(count) FROM votes) || ' votes'"
