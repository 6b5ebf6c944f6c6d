#!/usr/bin/env bash
# Crash safety of `portdex update`: it is SIGKILLed at 50 random moments
# spread over its own measured duration, each time switching the registry
# between the 2024-04 IANA snapshot and the current one.  After every kill
# the registry must open and hold exactly one of the two (the export is
# byte-identical to a clean build of one of them, the row count and the
# meta table agree with it), never a mix; leftovers must not stop the
# next update.  Then two updates at once: the second says it waits, and
# both succeed one after the other.
. "$(dirname "$0")/lib.sh"
if ! command -v sqlite3 >/dev/null; then
	echo "SKIP: the sqlite3 command-line tool is needed (Debian: sqlite3)" >&2
	exit 77
fi
if [ ! -f "$IANA" ] || [ ! -f "$IANA_OLD" ]; then
	echo "SKIP: the IANA snapshots are not in $SHARED/data/iana" >&2
	exit 77
fi
KILLS=${PDX_CRASH_KILLS:-50}
seed=${PDX_CRASH_SEED:-$$}
RANDOM=$seed
echo "seed $seed (PDX_CRASH_SEED to repeat)"
DB=$PORTDEX_DB

now_ms() { date +%s%3N; }

fingerprint() {	# DB -> "ROWS MD5-OF-CSV-EXPORT"
	local rows sum
	rows=$(sqlite3 -readonly "$1" 'SELECT count(*) FROM iana' 2>/dev/null)
	sum=$(PORTDEX_DB=$1 "$PORTDEX" export --format csv 2>/dev/null | md5sum | cut -c1-32)
	echo "${rows:-none} $sum"
}

# The truth: a clean build of each file.  Each direction is timed twice
# (the first run also warms the page cache); the median of the four is
# the duration the kills are spread over.
times=()
for f in "$IANA_OLD" "$IANA" "$IANA_OLD" "$IANA"; do
	t0=$(now_ms)
	"$PORTDEX" update --from "$f" >/dev/null 2>"$T/update.err" ||
	    { echo "FAIL: update from $f: $(cat "$T/update.err")" >&2; exit 1; }
	times+=($(( $(now_ms) - t0 )))
	if [ "$f" == "$IANA_OLD" ]; then fp_old=$(fingerprint "$DB"); else fp_new=$(fingerprint "$DB"); fi
done
mapfile -t sorted < <(printf "%s\n" "${times[@]}" | sort -n)
dur=$(( (sorted[1] + sorted[2]) / 2 ))
# Independent row counts of the two files (Python's csv module).
rows_old=$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"))))-1)' "$IANA_OLD")
rows_new=$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"))))-1)' "$IANA")
expect_eq "clean old build rows" "$rows_old" "${fp_old%% *}"
expect_eq "clean new build rows" "$rows_new" "${fp_new%% *}"
if [ "$fp_old" == "$fp_new" ]; then
	fail "the two snapshots give the same registry; the test cannot tell them apart"
fi
# Kill anywhere from the start to a little past the end of an update.
# The span follows the machine's speed: it shrinks a little after an
# update that finished before its kill, grows a little after a kill.
span=$(( dur * 11 / 10 + 1 ))
echo "an update takes about $dur ms (${times[*]}); kills fall in 0-$span ms"

# classify: which of the two the registry holds, from three independent
# views (export, the row count in SQLite, the meta table's source).
classify() {
	local fp src
	if ! "$PORTDEX" 645 --json >/dev/null 2>"$T/open.err"; then
		echo "unopenable: $(head -c 200 "$T/open.err")"
		return
	fi
	fp=$(fingerprint "$DB")
	src=$(sqlite3 -readonly "$DB" "SELECT value FROM meta WHERE key = 'source.iana'" 2>&1)
	if [ "$fp" == "$fp_old" ] && [[ $src == "$IANA_OLD|"* ]]; then
		echo old
	elif [ "$fp" == "$fp_new" ] && [[ $src == "$IANA|"* ]]; then
		echo new
	else
		echo "mixed: export '$fp' meta '$src'"
	fi
}

state=new
killed=0 finished=0 bad=0
for i in $(seq "$KILLS"); do
	if [ "$state" == new ]; then from=$IANA_OLD; else from=$IANA; fi
	delay=$(( (RANDOM * 32768 + RANDOM) % span ))
	"$PORTDEX" update --from "$from" >/dev/null 2>"$T/update.err" &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	if kill -KILL "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		rc=$?
	else
		wait "$pid"
		rc=$?
	fi
	if [ "$rc" -eq 137 ]; then
		killed=$((killed + 1))
		span=$(( span * 102 / 100 + 1 ))
	elif [ "$rc" -eq 0 ]; then
		finished=$((finished + 1))
		span=$(( span * 85 / 100 + 1 ))
	else
		fail "kill $i: update exited $rc without being killed: $(head -c 300 "$T/update.err")"
	fi
	got=$(classify)
	case $got in
	old|new)
		# A finished update must have switched; a killed one may have
		# switched (killed after the rename) or not.
		if [ "$rc" -eq 0 ] && [ "$got" == "$state" ]; then
			fail "kill $i: update exited 0 but the registry still holds the $state data"
			bad=$((bad + 1))
		fi
		state=$got ;;
	*)
		fail "kill $i after ${delay} ms: registry is $got"
		bad=$((bad + 1))
		# Start over from a clean registry so that later kills still count.
		"$PORTDEX" update --from "$IANA" >/dev/null 2>&1
		state=new ;;
	esac
done
expect_eq "every kill left the old or the new registry" 0 "$bad"
echo "$KILLS runs: $killed killed mid-update, $finished finished first, $bad bad (span at the end: $span ms)"
# Kills must really have landed inside updates, or the test proved nothing.
if [ "$killed" -lt $((KILLS / 2)) ]; then
	fail "only $killed of $KILLS kills landed during an update"
fi

# The registry itself is never left with a journal beside it (a hot
# journal would make read-only opens fail or roll back).
for j in "$DB-journal" "$DB-wal"; do
	[ -e "$j" ] && fail "$j left beside the registry"
done
# Each update removes what killed ones left (at most the last victim's
# files remain until the next update runs: its registry.db.new-PID and
# registry.db.brief.new-PID).
leftf=$(find "$T" -maxdepth 1 -name "${DB##*/}.*" ! -name "*.lock" \
    ! -name "${DB##*/}.brief")
left=$(printf '%s' "$leftf" | grep -c .)
victims=$(printf '%s' "$leftf" | sed -n 's/.*-\([0-9]*\)$/\1/p' | sort -u | grep -c .)
echo "temporary files left after the kills: $left, of $victims update(s)"
if [ "$victims" -le 1 ]; then pass; else fail "temporary files of $victims killed updates left behind: $leftf"; fi
# The brief file beside it is whole: it fits the registry, or is stale (a
# kill between the two renames), never damaged.
run_rc "$PORTDEX" --version
expect_match "brief file after the kills: used or stale" \
    "^brief file: ($DB.brief|not used: .*made for another registry file)\$" "$OUT"
"$PORTDEX" update --from "$IANA" >/dev/null 2>&1
run_rc "$PORTDEX" --version
expect_match "brief file after a clean update: used" "^brief file: $DB.brief\$" "$OUT"

# After all that, updates work and give exactly the new data.
run_rc "$PORTDEX" update --from "$IANA_OLD"
expect_eq "update after the kills" 0 "$RC"
run_rc "$PORTDEX" update --from "$IANA"
expect_eq "second update after the kills" 0 "$RC"
expect_eq "final registry" new "$(classify)"
expect_eq "integrity" ok "$(sqlite3 -readonly "$DB" 'PRAGMA integrity_check')"

# Two updates at once.  First with the lock held from outside (flock(1)
# takes the same flock(2) lock): the update must say it waits, then run.
exec 9>"$DB.lock"
flock -x 9
"$PORTDEX" update --from "$IANA_OLD" >/dev/null 2>"$T/w.err" &
pw=$!
for _ in $(seq 100); do
	grep -q "another update" "$T/w.err" && break
	sleep 0.05
done
expect_match "waiting message" "another update of .* is running; waiting" "$(cat "$T/w.err")"
if kill -0 "$pw" 2>/dev/null; then pass; else fail "update did not wait for the lock"; fi
flock -u 9
exec 9>&-
wait "$pw"
expect_eq "waiting update exit" 0 "$?"
expect_eq "waiting update result" old "$(classify)"

# Then two real updates: the second starts while the first is building.
"$PORTDEX" update --from "$IANA" >/dev/null 2>"$T/a.err" &
pa=$!
for _ in $(seq 200); do
	compgen -G "$DB.new-$pa*" >/dev/null && break
	sleep 0.01
done
"$PORTDEX" update --from "$IANA_OLD" >/dev/null 2>"$T/b.err" &
pb=$!
wait "$pa"; ra=$?
wait "$pb"; rb=$?
expect_eq "two updates exit" "0 0" "$ra $rb"
expect_match "second update waited" "another update of .* is running; waiting" "$(cat "$T/b.err")"
expect_nomatch "first update did not wait" "another update" "$(cat "$T/a.err")"
# Serialized: the one that waited ran last, so its data is what remains.
expect_eq "last update wins" old "$(classify)"
finish
