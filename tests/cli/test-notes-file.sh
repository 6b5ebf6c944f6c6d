#!/usr/bin/env bash
# The notes file (lib/notes-file.c): the state's notes beside it, which a
# command that only reads takes instead of opening SQLite.  Whatever its
# state (current, stale after another program's change, damaged, gone),
# the card, ls, find and note --list answer as SQLite would; a writer
# brings it up to date; a reader never writes it.
. "$(dirname "$0")/lib.sh"
build_registry

nf=$PORTDEX_STATE.notes
run_rc "$PORTDEX" note 645 "billing sync daemon (ops)"
expect_eq "note exit" 0 "$RC"
run_rc "$PORTDEX" note 22/tcp "bastion, keys only"
expect_eq "second note exit" 0 "$RC"
run_rc "$PORTDEX" note 22/udp "nothing here"
expect_eq "third note exit" 0 "$RC"
expect_eq "a writer left the notes file" yes "$([ -s "$nf" ] && echo yes || echo no)"
expect_eq "private as the state file" "$(stat -c %a "$PORTDEX_STATE")" "$(stat -c %a "$nf")"

# The answers with the file as it is, kept to compare with SQLite's.
cards() {
	for p in 645 22 80; do
		"$PORTDEX" "$p" --json 2>&1 | python3 -c 'import json,sys; j=json.load(sys.stdin); print(json.dumps([j.get("notes"), j.get("notes_error")]))'
	done
	"$PORTDEX" note --list 2>&1
	"$PORTDEX" find bastion --json 2>&1
}
cards > "$T/with-file"
expect_match "card shows the note from the file" "billing sync daemon" "$(cat "$T/with-file")"
expect_match "list shows every note" "nothing here" "$(cat "$T/with-file")"
sum_before=$(md5sum < "$nf")
mtime_before=$(stat -c %Y.%y "$PORTDEX_STATE")
mv "$nf" "$T/nf.saved"
cards > "$T/sqlite"
expect_eq "the same answers from SQLite" "$(cat "$T/sqlite")" "$(cat "$T/with-file")"
expect_eq "a reader does not write the notes file" no "$([ -e "$nf" ] && echo yes || echo no)"
expect_eq "a reader does not write the state" "$mtime_before" "$(stat -c %Y.%y "$PORTDEX_STATE")"
mv "$T/nf.saved" "$nf"
"$PORTDEX" 645 >/dev/null
expect_eq "a reader leaves the notes file as it was" "$sum_before" "$(md5sum < "$nf")"

# Another program changes a note: the file is stale, SQLite answers.
sqlite3 "$PORTDEX_STATE" "UPDATE notes SET text = 'changed by hand' WHERE port = 645"
run_rc "$PORTDEX" 645 --json
expect_eq "a stale file is not believed" "changed by hand" "$(json 'j["notes"][0]["text"]')"

# A writer that changes no note (an audit run) re-stamps it; a note
# change rewrites it; both answers still match SQLite's.
run_rc "$PORTDEX" audit -p 1-10 --quiet
run_rc "$PORTDEX" 645 --json
expect_eq "after an audit run" "changed by hand" "$(json 'j["notes"][0]["text"]')"
cards > "$T/after-audit"
mv "$nf" "$T/nf.saved"
cards > "$T/sqlite2"
mv "$T/nf.saved" "$nf"
expect_eq "after an audit run, the same as SQLite" "$(cat "$T/sqlite2")" "$(cat "$T/after-audit")"

# Four writers at once, each closing (and refreshing the file) 10 times:
# afterwards the file, if believed, answers as SQLite does, and no writer's
# temporary file is left.
for w in 1 2 3 4; do
	( for i in $(seq 10); do "$PORTDEX" -q note "$((20000 + w * 100 + i))" "writer $w note $i" || echo "writer $w failed" >&2; done ) &
done
wait
run_rc "$PORTDEX" note --list --json
expect_eq "every concurrent note is there" 40 "$(json 'len([n for n in j if n["text"].startswith("writer ")])')"
"$PORTDEX" note --list > "$T/list-file"
mv "$nf" "$T/nf.saved"
"$PORTDEX" note --list > "$T/list-sqlite"
mv "$T/nf.saved" "$nf"
expect_eq "after concurrent writers, the same as SQLite" "$(cat "$T/list-sqlite")" "$(cat "$T/list-file")"
expect_eq "no temporary file left" "" "$(ls "$PORTDEX_STATE".notes.*.tmp 2>/dev/null)"
for w in 1 2 3 4; do for i in $(seq 10); do "$PORTDEX" -q note --rm "$((20000 + w * 100 + i))"; done; done
mv "$nf" "$T/nf.saved"
cards > "$T/sqlite2"
mv "$T/nf.saved" "$nf"

# Damage anywhere in the file: the answers stay right.
size=$(stat -c %s "$nf")
for off in 3 20 60 90 100 $((size / 2)) $((size - 2)); do
	cp "$nf" "$T/good"
	printf '\x5a' | dd of="$nf" bs=1 seek="$off" conv=notrunc status=none
	cards > "$T/damaged"
	expect_eq "a byte damaged at $off: same answers" "$(cat "$T/sqlite2")" "$(cat "$T/damaged")"
	cp "$T/good" "$nf"
done
: > "$nf"
cards > "$T/damaged"
expect_eq "an empty notes file: same answers" "$(cat "$T/sqlite2")" "$(cat "$T/damaged")"
head -c 50 "$T/good" > "$nf"
cards > "$T/damaged"
expect_eq "a cut notes file: same answers" "$(cat "$T/sqlite2")" "$(cat "$T/damaged")"

# A transport value another program wrote that names none is said so.
sqlite3 "$PORTDEX_STATE" "UPDATE notes SET proto = 3 WHERE port = 22 AND proto = 2"
run_rc "$PORTDEX" 22 --json
expect_eq "a transport that names none" "unknown" "$(json '[n["transport"] for n in j["notes"] if n["text"] == "nothing here"][0]')"

# A writer that died before its rename left PATH.notes.PID.tmp: the next
# writer that writes the file anew removes one untouched for an hour and
# keeps a recent one (a writer at work) and names that are not its own.
for x in 99999 88888 abc; do printf 'partial' > "$nf.$x.tmp"; done
printf 'other' > "$T/other.db.notes.77777.tmp"
touch -d '2 hours ago' "$nf.99999.tmp" "$nf.abc.tmp" "$T/other.db.notes.77777.tmp"
run_rc "$PORTDEX" note 4242 "sweeps"
expect_eq "note that rewrites the file" 0 "$RC"
expect_eq "an old orphan removed" no "$([ -e "$nf.99999.tmp" ] && echo yes || echo no)"
expect_eq "a recent one kept" yes "$([ -e "$nf.88888.tmp" ] && echo yes || echo no)"
expect_eq "not a PID: kept" yes "$([ -e "$nf.abc.tmp" ] && echo yes || echo no)"
expect_eq "another file's: kept" yes "$([ -e "$T/other.db.notes.77777.tmp" ] && echo yes || echo no)"
rm -f "$nf.88888.tmp" "$nf.abc.tmp" "$T/other.db.notes.77777.tmp"

# A damaged state database is said, whatever the notes file holds.
run_rc "$PORTDEX" note --rm 80
cp "$T/good" "$nf"
printf 'garbage!' | dd of="$PORTDEX_STATE" bs=1 seek=100 conv=notrunc status=none
run_rc "$PORTDEX" 645
expect_match "damaged state is said" "notes could not be read|state check" "$ERR$OUT"
finish
