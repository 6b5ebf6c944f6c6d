#!/usr/bin/env bash
# test-card-file.sh - `portdex PORT` reads the card file that update writes
# beside the registry (REGISTRY.card, portdex-db(5)) and gives the same
# cards without it: the file missing, stale (the registry changed in place
# after it was written) or damaged (a row that fails its checksum, a file
# cut short: the registry answers, with a warning).  A file that matches
# its registry is believed: a row changed in it (checksum made good) shows.
. "$(dirname "$0")/lib.sh"
build_registry
CARD=$PORTDEX_DB.card

[ -f "$CARD" ] && pass || fail "update wrote no $CARD"
cp "$CARD" "$T/card.keep"

# The cards compared: one port, a list, a range's neighbour, text and JSON.
cards() {
	{ "$PORTDEX" 645; "$PORTDEX" 645 --json; "$PORTDEX" 22,80,6000;
	  "$PORTDEX" 49152 --json; "$PORTDEX" 3389/udp; } 2>"$T/stderr"
}

cards >"$T/with"
expect_eq "with the card file: no warning" "" "$(cat "$T/stderr")"
expect_match "with the card file: 645's card" "^PORT 645 - PSSC" "$(cat "$T/with")"
expect_match "with the card file: its curated uses" "Microsoft DirectPlay" "$(cat "$T/with")"
expect_match "with the card file: 6000's range row" "X Window System" "$(cat "$T/with")"

# Without it: the registry gives the same cards.
rm "$CARD"
cards >"$T/without"
expect_eq "without the card file: same cards" "$(cat "$T/with")" "$(cat "$T/without")"
expect_eq "without the card file: no warning" "" "$(cat "$T/stderr")"

# patch WHAT FIXSUM: changes PSSC to PSXC in 645's IANA row of the card
# file; FIXSUM 1 makes the row's checksum match again (a file that lies).
patch() {
	python3 - "$CARD" "$1" <<'EOF'
import struct, sys
path, fix = sys.argv[1], sys.argv[2] == '1'
b = bytearray(open(path, 'rb').read())
nwide, nrefs, rows_len = struct.unpack_from('=III', b, 44)
index = 64
wide = index + 65537 * 8
refs = wide + nwide * 12
rows = refs + nrefs * 4
a, = struct.unpack_from('=I', b, index + 645 * 8)
e, = struct.unpack_from('=I', b, index + 646 * 8)
for k in range(a, e):
    off, = struct.unpack_from('=I', b, refs + 4 * k)
    r = rows + off
    ln, = struct.unpack_from('=I', b, r)
    if b[r + 4] != 1:            # the IANA table
        continue
    i = b.find(b'PSSC', r + 12, r + ln)
    if i < 0:
        continue
    b[i + 2] = ord('X')
    if fix:
        h = 2166136261
        for c in b[r + 12:r + ln]:
            h = ((h ^ c) * 16777619) & 0xffffffff
        struct.pack_into('=I', b, r + 8, h)
    open(path, 'wb').write(b)
    print('patched')
    break
EOF
}

# Damaged: a row that fails its checksum.  The registry answers; a warning.
cp "$T/card.keep" "$CARD"
expect_eq "row patched" "patched" "$(patch 0)"
cards >"$T/bad"
expect_eq "damaged row: same cards" "$(cat "$T/with")" "$(cat "$T/bad")"
expect_match "damaged row: warned" "portdex: show: .*damaged card file \(row checksum, port 645\)" "$(cat "$T/stderr")"

# Damaged: cut short.  The same, and a warning.
head -c 70000 "$T/card.keep" >"$CARD"
cards >"$T/cut"
expect_eq "cut short: same cards" "$(cat "$T/with")" "$(cat "$T/cut")"
expect_match "cut short: warned" "damaged card file \(wrong length\)" "$(cat "$T/stderr")"

# A file that lies (checksum made good) is read when it matches: the test
# can fail, the file is what the card reads.
cp "$T/card.keep" "$CARD"
expect_eq "row patched, checksum fixed" "patched" "$(patch 1)"
run_rc "$PORTDEX" 645
expect_match "a matching card file is read" "^PORT 645 - PSXC" "$OUT"

# Stale: the registry changed in place after the file was written; the
# lying file is passed over silently.
python3 - "$PORTDEX_DB" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE meta SET value = value || ' ' WHERE key = 'sources'")
c.commit()
c.close()
EOF
cards >"$T/stale"
expect_eq "stale card file: the registry's cards" "$(cat "$T/with")" "$(cat "$T/stale")"
expect_eq "stale card file: no warning" "" "$(cat "$T/stderr")"

# A registry that is not one: the same error as without a card file.
cp "$T/card.keep" "$CARD"
printf 'not a database at all, but long enough to be read as one......' >"$PORTDEX_DB"
run_rc "$PORTDEX" 645
expect_eq "not a registry: exit 2" 2 "$RC"
expect_match "not a registry: said" "not an SQLite database|not a portdex registry|file is not a database" "$ERR"

finish
