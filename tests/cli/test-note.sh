#!/usr/bin/env bash
# portdex note: add, list, remove; notes in the card, find and --json;
# concurrent writers lose nothing.
. "$(dirname "$0")/lib.sh"
build_registry

run_rc "$PORTDEX" note 1644/tcp "IRC bouncer for the ops team, since 2025 (alice)"
expect_eq "note exit" 0 "$RC"
run_rc "$PORTDEX" note 645 "<script>alert(1)</script> legacy sync"
expect_eq "second note exit" 0 "$RC"
run_rc "$PORTDEX" note --list --json
expect_eq "two notes" 2 "$(json 'len(j)')"
expect_eq "note proto" "tcp" "$(json '[n["transport"] for n in j if n["port"]==1644][0]')"
expect_eq "note any proto" "any" "$(json '[n["transport"] for n in j if n["port"]==645][0]')"
run_rc "$PORTDEX" 1644 --json
expect_eq "card notes" "IRC bouncer for the ops team, since 2025 (alice)" "$(json 'j["notes"][0]["text"]')"
run_rc "$PORTDEX" 1644
expect_match "text card notes" "IRC bouncer for the ops team" "$OUT"
run_rc "$PORTDEX" find bouncer --json
expect_eq "find note" 1644 "$(json 'j[0]["port"]')"
expect_eq "find note kind" note "$(json 'j[0]["kind"]')"
# Bad input.
run_rc "$PORTDEX" note 70000 "x"
expect_eq "bad port" 2 "$RC"
expect_match "bad port message" "out of range" "$ERR"
run_rc "$PORTDEX" note 80/xyz "x"
expect_eq "bad proto" 2 "$RC"
run_rc "$PORTDEX" note 80
expect_eq "note PORT without text lists that port's notes" 0 "$RC"
expect_nomatch "port 80 has none of the other ports' notes" "IRC bouncer|legacy sync" "$OUT"
run_rc "$PORTDEX" note 1644
expect_eq "note 1644 exit" 0 "$RC"
expect_match "note 1644 lists its note" "IRC bouncer for the ops team" "$OUT"
expect_nomatch "note 1644 lists only its notes" "legacy sync" "$OUT"
# Remove.
run_rc "$PORTDEX" note --rm 1644
expect_eq "rm exit" 0 "$RC"
expect_match "rm message" "removed 1 note" "$OUT"
run_rc "$PORTDEX" note --rm 1644
expect_eq "rm nothing" 1 "$RC"
run_rc "$PORTDEX" note --list --json
expect_eq "one left" 1 "$(json 'len(j)')"

# ls shows the note of a listening port (JSON and the NOTE column).
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' > "$T/lport" &
lpid=$!
for _ in $(seq 50); do [ -s "$T/lport" ] && break; sleep 0.1; done
lport=$(cat "$T/lport")
# a udp note first and notes on the ports beside it: ls (which reads only
# the listed ports' notes) shows the tcp one, and no other port's
"$PORTDEX" -q note "$lport/udp" "udp only, not this listener"
"$PORTDEX" -q note "$((lport - 1))" "the port below"
"$PORTDEX" -q note "$((lport + 1))" "the port above"
"$PORTDEX" -q note "$lport/tcp" "test listener owned by test-note"
run_rc "$PORTDEX" ls --json
expect_eq "ls (every listener) note" "test listener owned by test-note" "$(json "[s['note'] for s in j['sockets'] if s['local']['port'] == $lport][0]")"
expect_nomatch "ls shows no unlisted port's note" "the port below|the port above|udp only" "$OUT"
run_rc "$PORTDEX" ls -p "$lport" --json
expect_eq "ls note" "test listener owned by test-note" "$(json '[s["note"] for s in j["sockets"]][0]')"
run_rc "$PORTDEX" ls -p "$lport"
expect_match "ls NOTE column" "NOTE" "$OUT"
expect_match "ls note text" "test listener owned by test-note" "$OUT"
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
"$PORTDEX" -q note --rm "$lport"
"$PORTDEX" -q note --rm "$((lport - 1))"
"$PORTDEX" -q note --rm "$((lport + 1))"

# Concurrent writers: 8 processes x 25 notes each, all kept.
for w in $(seq 8); do
	( for i in $(seq 25); do "$PORTDEX" -q note 5000 "writer $w note $i" || echo "fail $w $i"; done ) > "$T/w$w.log" 2>&1 &
done
wait
expect_eq "no writer failed" "" "$(cat "$T"/w*.log)"
run_rc "$PORTDEX" note --list 5000 --json
expect_eq "all 200 notes" 200 "$(json 'len(j)')"
expect_eq "all distinct" 200 "$(json 'len(set(n["text"] for n in j))')"
# A note's bytes never reach the terminal as escape sequences or break a
# line, and bytes that are not UTF-8 (a damaged page, another writer) are
# shown made printable, not as "(null)" nor left out of the JSON.
"$PORTDEX" -q note 5001 "$(printf 'esc \033[31mred\033[0m\nsecond line')"
if command -v sqlite3 >/dev/null; then
	sqlite3 "$PORTDEX_STATE" "INSERT INTO notes(port, proto, text, author, created) VALUES (5002, 1, CAST(x'66ff0a41' AS TEXT), 'me', 'then')"
	run_rc "$PORTDEX" note --list 5002
	expect_eq "invalid UTF-8: one line, made printable" "5002   tcp  f??A  then (me)" "$OUT"
	run_rc "$PORTDEX" note --list 5002 --json
	expect_eq "invalid UTF-8: JSON keeps the text" "f??A" "$(json 'j[0]["text"]')"
fi
run_rc "$PORTDEX" note --list 5001
expect_eq "control characters: one line" 1 "$(printf '%s\n' "$OUT" | wc -l)"
expect_eq "control characters: no escape byte" 0 "$(printf '%s' "$OUT" | tr -cd '\033' | wc -c)"
expect_match "control characters: shown as ?" "esc \?\[31mred\?\[0m\?second line" "$OUT"
run_rc "$PORTDEX" 5001
expect_eq "the card: no escape byte" 0 "$(printf '%s' "$OUT" | tr -cd '\033' | wc -c)"
expect_match "the card shows the note" "esc \?\[31mred" "$OUT"
# A state file that is not a database gives a clear error.
echo "garbage" > "$T/bad-state.db"
PORTDEX_STATE=$T/bad-state.db run_rc "$PORTDEX" note 80 "x"
expect_eq "bad state exit" 2 "$RC"
expect_match "bad state message" "bad-state.db" "$ERR"
expect_eq "bad state untouched" "garbage" "$(cat "$T/bad-state.db")"
finish
