#!/usr/bin/env bash
# Writers of the state database at the same time: 4 processes adding notes
# while `audit --save-baseline` runs in a loop and a `serve` takes votes,
# for PDX_CONC_SECONDS (15 s; issue 15 named 30, halved to keep the suite
# fast).  Afterwards every note whose command exited 0 is there (counted),
# nothing failed but by a clear message, every vote answered 303 is
# counted, the baseline was saved each time, and the file is sound.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed" >&2; exit 77; }
build_registry
DUR=${PDX_CONC_SECONDS:-15}
if [ "$(id -u)" = 0 ]; then
	# serve becomes nobody: its votes' journal is made in the directory
	mkdir "$T/state"
	chown nobody "$T/state"
	chmod 755 "$T"
	export PORTDEX_STATE=$T/state/state.db
fi
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
run_rc "$PORTDEX" note 1/tcp "before the writers"
expect_eq "first note" 0 "$RC"
serve_on_loopback --vote-limit 0,0,0
end=$(( $(date +%s) + DUR ))

writer() {
	local w=$1 i=0 rc
	while [ "$(date +%s)" -lt "$end" ] && [ "$i" -lt 5000 ]; do
		i=$((i + 1))
		"$PORTDEX" note "$((2000 + w))/tcp" "w$w-n$i concurrent" >/dev/null 2>>"$T/w$w.err"
		rc=$?
		echo "w$w-n$i $rc" >> "$T/w$w.log"
	done
}
auditor() {
	local i=0
	while [ "$(date +%s)" -lt "$end" ] && [ "$i" -lt 500 ]; do
		i=$((i + 1))
		"$PORTDEX" audit --save-baseline >/dev/null 2>>"$T/audit.err"
		echo "$?" >> "$T/audit.log"
	done
}
voter() {
	local i=0 code
	while [ "$(date +%s)" -lt "$end" ] && [ "$i" -lt 5000 ]; do
		i=$((i + 1))
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data choice=happy "$URL/port/$((100 + i % 50))/vote")
		echo "$code" >> "$T/votes.log"
	done
}
for w in 1 2 3 4; do writer "$w" & done
auditor &
voter &
wait_pids=$(jobs -p | grep -vx "$SPID" || true)
# shellcheck disable=SC2086
wait $wait_pids 2>/dev/null

ok=$(cat "$T"/w*.log | awk '$2 == 0' | wc -l)
bad=$(cat "$T"/w*.log | awk '$2 != 0' | wc -l)
echo "$DUR s: $ok notes committed, $bad failed; $(wc -l < "$T/audit.log") audits; $(grep -c 303 "$T/votes.log") votes"
expect_eq "no note command failed" 0 "$bad"
expect_eq "writers said nothing" "" "$(cat "$T"/w*.err | head -3)"
[ "$ok" -ge 20 ] && pass || fail "only $ok notes were written: the test proved little"
cat "$T"/w*.log | awk '$2 == 0 {print $1}' | sort > "$T/committed"
sqlite3 "$PORTDEX_STATE" "SELECT substr(text, 1, instr(text, ' ') - 1) FROM notes WHERE text LIKE '% concurrent'" | sort > "$T/have"
expect_eq "every committed note is there" "" "$(comm -23 "$T/committed" "$T/have" | head -5)"
expect_eq "committed notes counted" "$ok" "$(wc -l < "$T/have")"
expect_eq "every audit --save-baseline exited 0" "" "$(grep -vx 0 "$T/audit.log" | sort | uniq -c)"
expect_eq "audit said nothing on stderr" "" "$(head -3 "$T/audit.err")"
[ "$(wc -l < "$T/audit.log")" -ge 2 ] && pass || fail "fewer than 2 audits ran"
v303=$(grep -c '^303$' "$T/votes.log")
expect_eq "every vote answered 303" "" "$(grep -vx 303 "$T/votes.log" | sort | uniq -c)"
expect_eq "every vote answered is counted" "$v303" "$(sqlite3 "$PORTDEX_STATE" 'SELECT coalesce(sum(count), 0) FROM votes')"
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=
expect_eq "integrity_check" ok "$(sqlite3 "$PORTDEX_STATE" 'PRAGMA integrity_check')"
run_rc "$PORTDEX" state check
expect_eq "state check" 0 "$RC"
finish
