#!/usr/bin/env bash
# The state database never loses notes silently.  Reading commands create
# and change nothing; then the file is damaged in every way issue 15 names
# (pages overwritten at 20 random offsets, cut short, emptied, another
# application's database, a newer schema, a read-only file, locked past
# the timeout, a full disk while writing a note).  Each time: no crash, one
# line naming the file and what to do, note exits 2, never "None" or an
# empty list in place of the notes, and `state recover` brings back what
# can be read (a subset of the notes that were there, never invented ones).
. "$(dirname "$0")/lib.sh"
if ! command -v sqlite3 >/dev/null; then
	echo "SKIP: the sqlite3 command-line tool is needed (Debian: sqlite3)" >&2
	exit 77
fi
seed=${PDX_DAMAGE_SEED:-$$}
RANDOM=$seed
echo "seed $seed (PDX_DAMAGE_SEED to repeat)"
GOOD=$T/good.db
NOTES=400
build_registry

# ---- a state database with notes, votes, a baseline and history ---------
run_rc env PORTDEX_STATE="$GOOD" "$PORTDEX" note 22/tcp "the bastion's ssh"
expect_eq "first note" 0 "$RC"
{
	echo "BEGIN;"
	for i in $(seq 2 "$NOTES"); do
		echo "INSERT INTO notes(port, proto, text, author, created) VALUES ($((i * 7 % 65536)), 6, 'note $i: kept for the damage test, long enough to fill pages', 'tester', '2026-01-01T00:00:00Z');"
	done
	for p in $(seq 1 200); do
		echo "INSERT INTO votes(port, choice, count) VALUES ($p, 'happy', $p);"
	done
	echo "INSERT INTO audit_baseline VALUES (6, '0.0.0.0', 22, 'sshd', 'root', 1);"
	# the open spans' digest of an audit run (lib/audit-history.c)
	echo "INSERT INTO audit_kv VALUES ('spans_digest', '1 1 0 00000000000000000000000000000000 0000000000000000');"
	echo "COMMIT;"
} | sqlite3 "$GOOD"
sqlite3 "$GOOD" 'SELECT id, port, text FROM notes' | sort > "$T/all-notes"
expect_eq "notes in the fixture" "$NOTES" "$(wc -l < "$T/all-notes")"

# ---- reading creates and changes nothing ----------------------------------
listing() { (cd "$T" && ls -la --time-style=full-iso good.db* 2>&1); }
before=$(listing)
sum=$(md5sum < "$GOOD")
sleep 1.1	# an mtime change would show
for cmd in "22" "ls" "note --list" "note 22" "find bastion" "pick --count 1"; do
	# shellcheck disable=SC2086
	run_rc env PORTDEX_STATE="$GOOD" "$PORTDEX" $cmd
	expect_eq "'$cmd' on the state runs" 0 "$RC"
done
expect_eq "no file created or touched by reading" "$before" "$(listing)"
expect_eq "content unchanged by reading" "$sum" "$(md5sum < "$GOOD")"
run_rc env PORTDEX_STATE="$T/none/state.db" "$PORTDEX" note --list
expect_eq "missing state: note --list" "0||" "$RC|$OUT|$ERR"
run_rc env PORTDEX_STATE="$T/none/state.db" "$PORTDEX" 22
expect_match "missing state: no notes, said plainly" "None. Record yours" "$OUT"
expect_eq "missing state is not created" "no" "$([ -e "$T/none" ] && echo yes || echo no)"

# check F WHAT: the reading commands on F either show every note or say, in
# one line naming F, that they could not be read; `note` exits 2 then.
check_reads() {
	local f=$1 what=$2 n
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" note --list
	if [ "$RC" -eq 0 ]; then
		expect_eq "$what: note --list, when it succeeds, lists every note" "$NOTES" "$(printf '%s\n' "$OUT" | wc -l)"
	else
		expect_eq "$what: note --list exits 2" 2 "$RC"
		expect_eq "$what: one line" 1 "$(printf '%s\n' "$ERR" | wc -l)"
		expect_match "$what: names the file and what to do" "^portdex: note: $f: .*; (run 'portdex state check'|.*try again|check the file|use a newer portdex|name another file)" "$ERR"
		expect_eq "$what: no list on a failed read" "" "$OUT"
	fi
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" 22
	expect_eq "$what: the card still shows (no crash)" 0 "$RC"
	if printf '%s' "$OUT" | grep -q "the bastion's ssh"; then
		pass
	elif [ "$(sqlite3 "$f" 'SELECT text FROM notes WHERE id = 1' 2>/dev/null)" != "" ] &&
	    [ "$(sqlite3 "$f" 'SELECT text FROM notes WHERE id = 1' 2>/dev/null)" != "the bastion's ssh" ]; then
		# the damage garbled that note's own bytes, and SQLite reads
		# them without noticing: the card shows them (made printable)
		expect_nomatch "$what: never None" "None. Record yours" "$OUT"
	else
		expect_match "$what: the card says the notes could not be read" "Your notes could not be read: $f" "$(printf '%s' "$OUT" | tr -s ' \n' '  ')"
		expect_nomatch "$what: never None" "None. Record yours" "$OUT"
		# said once: in the card, not again on stderr
		expect_eq "$what: the card says it once" 1 "$(printf '%s\n%s\n' "$OUT" "$ERR" | tr -s ' \n' '  ' | grep -o 'notes could not be read' | wc -l)"
	fi
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" 20-22
	if ! printf '%s' "$OUT" | grep -q "the bastion's ssh" && [ -n "$ERR" ]; then
		expect_eq "$what: brief cards say it once, on stderr" 1 "$(printf '%s\n' "$ERR" | grep -c 'notes could not be read')"
	fi
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" ls -t
	expect_eq "$what: ls still lists (no crash)" 0 "$RC"
	n=$(printf '%s\n' "$ERR" | grep -c 'notes could not be read' || true)
	[ "$n" -le 1 ] && pass || fail "$what: ls says it $n times"
}

# recover F WHAT [GARBLED]: state recover keeps the damaged file and saves
# a subset.  GARBLED: how many notes' cells the damage may have hit (their
# rowids among them, which SQLite may still read, changed); 0 by default.
check_recover() {
	local f=$1 what=$2 garbled=${3:-0} unknown
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" state check
	case $RC in 0|1) pass ;; *) fail "$what: state check exit $RC: $ERR" ;; esac
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" state recover
	expect_eq "$what: state recover" 0 "$RC"
	expect_match "$what: recover reports notes, baseline and votes" "recovered $f: [0-9]+ notes, [0-9]+ baseline listeners, [0-9]+ votes" "$OUT"
	expect_match "$what: the damaged file is kept" "kept as $f.damaged-[0-9]{8}T[0-9]{6}Z" "$OUT"
	ls "$f".damaged-* >/dev/null 2>&1 && pass || fail "$what: no damaged copy beside $f"
	expect_eq "$what: the recovered database is sound" ok "$(sqlite3 "$f" 'PRAGMA integrity_check')"
	# spans may have been lost: the next audit must compare them all
	expect_eq "$what: the open spans' digest is not kept" 0 "$(sqlite3 "$f" "SELECT count(*) FROM audit_kv WHERE key = 'spans_digest'")"
	# ids: a row whose bytes the damage changed but SQLite still reads is
	# saved as read (garbled text, or a garbled rowid when the damage hit
	# the cell's header), so the check is on which rows came back: ids that
	# were never there, at most one per cell on the damaged pages
	sqlite3 "$f" 'SELECT id FROM notes' | sort > "$T/got"
	unknown=$(cut -d'|' -f1 "$T/all-notes" | sort | comm -13 - "$T/got" | wc -l)
	[ "$unknown" -le "$garbled" ] && pass ||
		fail "$what: recovered notes are rows that were there: $unknown unknown ids (at most $garbled cells damaged): $(cut -d'|' -f1 "$T/all-notes" | sort | comm -13 - "$T/got" | head -3 | tr '\n' ' ')"
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" note --list
	expect_eq "$what: notes read after recovery" 0 "$RC"
	expect_eq "$what: state check after recovery" 0 "$(env PORTDEX_STATE="$f" "$PORTDEX" state check >/dev/null 2>&1; echo $?)"
	rm -f "$f" "$f".damaged-*
}

# ---- locked past the timeout (the wait overlaps the cases below) ----------
f=$T/locked.db
cp "$GOOD" "$f"
{ echo "BEGIN EXCLUSIVE;"; echo "INSERT INTO audit_kv VALUES ('lock', 'held');"; sleep 11.5; echo "ROLLBACK;"; } | sqlite3 "$f" &
lockpid=$!
sleep 0.5
{ env PORTDEX_STATE="$f" "$PORTDEX" note --list > "$T/locked.out" 2> "$T/locked.err"; echo $? > "$T/locked.rc"; } &
readpid=$!

# ---- pages overwritten at 20 random offsets -------------------------------
size=$(stat -c %s "$GOOD")
psize=$(sqlite3 "$GOOD" 'PRAGMA page_size')
saved_total=0
for k in $(seq 20); do
	f=$T/dmg$k.db
	cp "$GOOD" "$f"
	off=$(( (RANDOM * 32768 + RANDOM) % size ))
	head -c 512 /dev/urandom | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
	# the cells of the notes table on the pages the 512 bytes overwrote
	cells=$(sqlite3 "$GOOD" "SELECT coalesce(sum(ncell), 0) FROM dbstat WHERE name = 'notes' AND pageno BETWEEN $off / $psize + 1 AND ($off + 511) / $psize + 1")
	check_reads "$f" "damage at $off"
	check_recover "$f" "damage at $off" "$cells"
done

# ---- the schema page and the header, overwritten ---------------------------
# The end of page 1 holds the schema's cells (the notes table's is the first
# written, so the last on the page) and page 2 is the notes table's root: a
# CI run hit this with random bytes, the card said "None" (the error quoted
# the schema's garbled bytes, and JSON refused them) and recover gave up.
# The notes' leaf pages are intact, so every note must come back.
schema_case() {
	local f=$1 what=$2 off=$3 len=$4
	cp "$GOOD" "$f"
	head -c "$len" /dev/urandom | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
	check_reads "$f" "$what"
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" note --list
	expect_eq "$what: note --list exits 2" 2 "$RC"
	# printable: no control character (C0, DEL, C1), and UTF-8 throughout
	expect_eq "$what: the error has no control character" "" "$(printf '%s' "$ERR" | LC_ALL=C grep -aP '[\x00-\x1f\x7f]|\xc2[\x80-\x9f]')"
	printf '%s' "$ERR" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 && pass || fail "$what: the error is not UTF-8: $ERR"
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" 22 --json
	expect_match "$what: the JSON card carries the error" '"notes_error": "[^"]*'"$f" "$OUT"
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" state check
	expect_eq "$what: state check finds it damaged" 1 "$RC"
	expect_match "$what: state check says to recover" "run 'portdex state recover'" "$OUT"
	expect_nomatch "$what: state check does not call it another program's" "not a portdex state database" "$OUT"
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" state recover
	expect_eq "$what: state recover" 0 "$RC"
	expect_eq "$what: every note saved, as it was" "$(cat "$T/all-notes")" "$(sqlite3 "$f" 'SELECT id, port, text FROM notes' | sort)"
	expect_eq "$what: every vote count saved" 200 "$(sqlite3 "$f" 'SELECT count(*) FROM votes')"
	run_rc env PORTDEX_STATE="$f" "$PORTDEX" 22
	expect_match "$what: the card shows the note again" "the bastion's ssh" "$OUT"
	rm -f "$f" "$f".damaged-*
}
expect_eq "fixture: the notes table is rooted at page 2" 2 "$(sqlite3 "$GOOD" "SELECT rootpage FROM sqlite_master WHERE name = 'notes'")"
schema_case "$T/schema.db" "schema cells and the notes root overwritten" $((psize - 165)) 512
schema_case "$T/header.db" "the header overwritten" 0 100

# A deleted note stays deleted: recovery that reads pages one by one must
# not bring back rows a delete freed (portdex deletes with secure_delete).
f=$T/deleted.db
cp "$GOOD" "$f"
for p in $(seq 700 7 1400); do
	env PORTDEX_STATE="$f" "$PORTDEX" note --rm "$p" >/dev/null 2>&1 || true
done
sqlite3 "$f" 'SELECT id, port, text FROM notes' | sort > "$T/left-notes"
expect_eq "delete: notes removed" 1 "$([ "$(wc -l < "$T/left-notes")" -lt "$NOTES" ] && echo 1)"
head -c 100 /dev/urandom | dd of="$f" bs=1 seek=0 conv=notrunc status=none
run_rc env PORTDEX_STATE="$f" "$PORTDEX" state recover
expect_eq "delete, then the header overwritten: state recover" 0 "$RC"
expect_eq "delete: no deleted note comes back" "$(cat "$T/left-notes")" "$(sqlite3 "$f" 'SELECT id, port, text FROM notes' | sort)"

# ---- cut short, emptied ---------------------------------------------------
f=$T/trunc.db
cp "$GOOD" "$f"
truncate -s $((size * 2 / 3)) "$f"
check_reads "$f" "truncated"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" note --list
expect_eq "truncated: note exits 2" 2 "$RC"
check_recover "$f" "truncated"

f=$T/zero.db
: > "$f"
check_reads "$f" "zero-length"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" note --list
expect_match "zero-length: said empty" "zero.db: empty" "$ERR"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" state check
expect_eq "zero-length: state check finds it damaged" 1 "$RC"

# ---- another application's database, a newer schema ----------------------
f=$T/other.db
sqlite3 "$f" "CREATE TABLE messages(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO messages(body) VALUES ('hi');"
check_reads "$f" "another application's file"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" note 22 "must not land in it"
expect_eq "another application's file: note refuses" 2 "$RC"
expect_match "another application's file: said" "other.db: not a portdex state database" "$ERR"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" state recover
expect_eq "another application's file: recover refuses" 2 "$RC"
expect_eq "another application's file: untouched" 1 "$(sqlite3 "$f" 'SELECT count(*) FROM messages')"

# A damaged header that SQLite still opens: a negative schema version
# (random bytes at offset 26 did this in a CI run, and `note` said "no error").
f=$T/negative.db
cp "$GOOD" "$f"
sqlite3 "$f" "PRAGMA user_version = -581658039"
check_reads "$f" "negative schema version"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" note --list
expect_match "negative schema version: said, with what to do" "negative.db: schema version -581658039 is not one portdex writes .*run 'portdex state check'" "$ERR"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" note 22 "must not land in it"
expect_eq "negative schema version: note refuses" 2 "$RC"
expect_eq "negative schema version: no note added" "$NOTES" "$(sqlite3 "$f" 'SELECT count(*) FROM notes')"
check_recover "$f" "negative schema version"

f=$T/newer.db
cp "$GOOD" "$f"
sqlite3 "$f" "PRAGMA user_version = 99"
check_reads "$f" "newer schema"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" note 22 "x"
expect_eq "newer schema: note refuses" 2 "$RC"
expect_match "newer schema: said" "schema version 99 is newer" "$ERR"

# ---- a copy is kept before a migration ------------------------------------
f=$T/old.db
sqlite3 "$f" "CREATE TABLE notes(id INTEGER PRIMARY KEY, port INTEGER NOT NULL, proto INTEGER NOT NULL, text TEXT NOT NULL, author TEXT NOT NULL, created TEXT NOT NULL); CREATE INDEX notes_port ON notes(port); INSERT INTO notes VALUES (1, 80, 6, 'from schema 1', 'me', 'then'); PRAGMA user_version = 1;"
run_rc env PORTDEX_STATE="$f" "$PORTDEX" note 81 "after the migration"
expect_eq "migration: note works" 0 "$RC"
expect_match "migration: the copy is named" "upgraded from schema 1 to [0-9]+; the file as it was is kept as $f.before-migration" "$ERR"
expect_eq "migration: the copy is the old schema" "1|from schema 1" "$(sqlite3 "$f.before-migration" 'PRAGMA user_version; SELECT text FROM notes' | paste -sd'|')"

# ---- a read-only file -----------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir "$T/ro"
	cp "$GOOD" "$T/ro/state.db"
	chmod 444 "$T/ro/state.db"
	chmod 755 "$T/ro" "$T"
	asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env PORTDEX_STATE="$T/ro/state.db" PORTDEX_DB="$PORTDEX_DB" "$PORTDEX" "$@"; }
	OUT=$(asnobody note --list 2>"$T/stderr") && RC=0 || RC=$?
	expect_eq "read-only file: notes listed" "0|$NOTES" "$RC|$(printf '%s\n' "$OUT" | wc -l)"
	OUT=$(asnobody note 22 "cannot be written" 2>"$T/stderr") && RC=0 || RC=$?
	expect_eq "read-only file: note exits 2" 2 "$RC"
	expect_match "read-only file: names the file and what to do" "ro/state.db: .*readonly.*check the file's and its directory's owner and mode" "$(cat "$T/stderr")"
	chmod 700 "$T"
else
	echo "note: read-only file case needs root and setpriv (to be a user the mode binds); not run"
fi

wait "$readpid" "$lockpid"
expect_eq "locked past the timeout: note exits 2" 2 "$(cat "$T/locked.rc")"
expect_match "locked: said, naming the file" "locked.db: database is locked; another program holds it locked" "$(cat "$T/locked.err")"
expect_eq "locked: no list" "" "$(cat "$T/locked.out")"

# ---- a full disk while writing a note ------------------------------------
if [ "$(id -u)" = 0 ] && mkdir "$T/full" && mount -t tmpfs -o size=512k tmpfs "$T/full" 2>/dev/null; then
	trap 'umount "$T/full" 2>/dev/null; rm -rf "$T"' EXIT
	cp "$GOOD" "$T/full/state.db"
	dd if=/dev/zero of="$T/full/filler" bs=4k status=none 2>/dev/null || true
	big=$(head -c 4000 /dev/zero | tr '\0' x)
	full_rc=0
	for i in $(seq 40); do
		run_rc env PORTDEX_STATE="$T/full/state.db" "$PORTDEX" note 9 "$big"
		[ "$RC" -ne 0 ] && { full_rc=$RC; break; }
	done
	expect_eq "full disk: note exits 2" 2 "$full_rc"
	expect_match "full disk: names the file and says free space" "full/state.db: .*(full|disk I/O).*(free disk space|check the disk)" "$ERR"
	rm -f "$T/full/filler"
	expect_eq "full disk: database sound afterwards" ok "$(sqlite3 "$T/full/state.db" 'PRAGMA integrity_check')"
	run_rc env PORTDEX_STATE="$T/full/state.db" "$PORTDEX" note --list
	expect_eq "full disk: earlier notes all there" "0|$NOTES" "$RC|$(printf '%s\n' "$OUT" | grep -vc "^9 ")"
	umount "$T/full"
else
	echo "note: full-disk case needs root to mount a tmpfs; not run"
fi

finish
