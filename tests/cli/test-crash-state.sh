#!/usr/bin/env bash
# Crash safety of the state database (SQLite, WAL): three writers add
# notes in a loop while a killer SIGKILLs their `portdex note` processes
# at random moments.  Afterwards every note whose command exited 0 is
# there, nothing is there that was never written, the database passes
# PRAGMA integrity_check, and new writes work.
. "$(dirname "$0")/lib.sh"
if ! command -v sqlite3 >/dev/null; then
	echo "SKIP: the sqlite3 command-line tool is needed (Debian: sqlite3)" >&2
	exit 77
fi
WRITERS=3
NOTES=${PDX_CRASH_NOTES:-600}	# per writer: every loop is bounded
KILLS=${PDX_CRASH_KILLS:-100}
seed=${PDX_CRASH_SEED:-$$}
RANDOM=$seed
echo "seed $seed (PDX_CRASH_SEED to repeat)"
STATE=$PORTDEX_STATE

# The state database exists before the writers start, as it would.
run_rc "$PORTDEX" note 1/tcp "first note"
expect_eq "first note" 0 "$RC"
run_rc "$PORTDEX" note --list --json
expect_eq "first note listed" "first note" "$(json 'j[0]["text"]' 2>/dev/null)"

# writer W: adds NOTES notes, logging each one whose command exited 0
# (the log line is written after the exit, so a logged note is committed
# as far as its caller could know).
writer() {
	local w=$1 i rc
	for i in $(seq "$NOTES"); do
		[ -e "$T/stop" ] && break
		"$PORTDEX" note "$((1000 + w))/tcp" "w$w-n$i crash-test note" \
		    >/dev/null 2>"$T/w$w.cur"
		rc=$?
		# What a killed process said is cut short; keep the rest.
		[ "$rc" -ne 137 ] && cat "$T/w$w.cur" >> "$T/w$w.err"
		echo "w$w-n$i $rc" >> "$T/w$w.log"
	done
}
for w in $(seq "$WRITERS"); do
	writer "$w" 2>/dev/null &	# no "Killed" job messages
	wpid[$w]=$!
done

# The killer: each round picks a writer and kills the portdex it is
# running, if any (found by parent pid: only our own children).
# At least KILLS rounds, and more (up to 6 x KILLS, a bounded loop) until
# 20 commands died mid-write: how many kills land depends on how fast
# this machine runs a note.
hits=0
round=0
while [ "$round" -lt $((KILLS * 6)) ]; do
	round=$((round + 1))
	sleep "0.0$(( RANDOM % 45 + 10 ))"
	w=$(( RANDOM % WRITERS + 1 ))
	for c in $(pgrep -P "${wpid[$w]}" 2>/dev/null); do
		if kill -KILL "$c" 2>/dev/null; then
			hits=$((hits + 1))
		fi
	done
	if [ "$round" -ge "$KILLS" ] && [ $((round % 10)) -eq 0 ] &&
	    [ "$(cat "$T"/w*.log 2>/dev/null | awk '$2 == 137' | wc -l)" -ge 20 ]; then
		break
	fi
done
touch "$T/stop"
wait

ok=$(cat "$T"/w*.log | awk '$2 == 0' | wc -l)
killed=$(cat "$T"/w*.log | awk '$2 == 137' | wc -l)
other=$(cat "$T"/w*.log | awk '$2 != 0 && $2 != 137')
echo "$WRITERS writers: $ok notes exited 0, $killed killed, $hits kills delivered"
expect_eq "notes that failed other than by the kill" "" "$other"
if [ "$killed" -lt 10 ]; then
	fail "only $killed note commands were killed; the test proved little"
fi
if [ -s "$T/w1.err" ] || [ -s "$T/w2.err" ] || [ -s "$T/w3.err" ]; then
	# A busy database must be waited for, not reported.
	expect_eq "writer errors" "" "$(cat "$T"/w*.err | sort | uniq -c | head -5)"
fi

# Read the notes with SQLite itself (independent of portdex) and with
# portdex, after the last writer is gone.
sqlite3 -readonly "$STATE" "SELECT text FROM notes" 2>"$T/sq.err" |
    sed -n 's/ crash-test note$//p' | sort > "$T/have"
expect_eq "sqlite3 read" "" "$(cat "$T/sq.err")"
awk '$2 == 0 { print $1 }' "$T"/w*.log | sort > "$T/committed"
awk '{ print $1 }' "$T"/w*.log | sort > "$T/attempted"
lost=$(comm -23 "$T/committed" "$T/have" | head -5)
expect_eq "committed notes lost" "" "$lost"
phantom=$(comm -23 "$T/have" "$T/attempted" | head -5)
expect_eq "notes never written" "" "$phantom"
dups=$(uniq -d "$T/have" | head -5)
expect_eq "notes stored twice" "" "$dups"
echo "present: $(wc -l < "$T/have") of $(wc -l < "$T/attempted") attempted ($(wc -l < "$T/committed") committed)"

expect_eq "integrity_check" ok "$(sqlite3 "$STATE" 'PRAGMA integrity_check' 2>&1)"
# a rollback journal: readers open the file read-only and create nothing
expect_eq "journal mode" delete "$(sqlite3 "$STATE" 'PRAGMA journal_mode' 2>&1)"

# New writes work and are read back by portdex.
run_rc "$PORTDEX" note 2/udp "after the crashes"
expect_eq "write after the crashes" 0 "$RC"
run_rc "$PORTDEX" --json note --list 2
expect_eq "read back" "after the crashes" "$(json 'j[0]["text"]')"
n_portdex=$("$PORTDEX" --json note --list | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n["text"].endswith(" crash-test note")))')
expect_eq "portdex sees the same notes" "$(wc -l < "$T/have")" "$n_portdex"
finish
