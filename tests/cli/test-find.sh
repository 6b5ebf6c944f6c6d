#!/usr/bin/env bash
# portdex find: ranked full-text search over names, descriptions, uses.
. "$(dirname "$0")/lib.sh"
build_registry

run_rc "$PORTDEX" find quicktime --json
expect_eq "find quicktime exit" 0 "$RC"
expect_match "quicktime finds 545" "(^|,)545(,|$)" "$(json '",".join(str(r["port"]) for r in j)')"
run_rc "$PORTDEX" find relay chat --json
ports=$(json '",".join(str(r["port"]) for r in j)')
for p in 194 6697; do expect_match "relay chat finds $p" "(^|,)$p(,|$)" "$ports"; done
expect_eq "relay chat: an IRC port first" True "$(json 'j[0]["port"] in (194, 529, 994, 1644, 6665, 6666, 6667, 6668, 6669, 6697, 7000)')"
run_rc "$PORTDEX" find pssc
expect_match "find by name" "^645 " "$OUT"
# The search words are never FTS5 syntax.
run_rc "$PORTDEX" find 'NEAR(" OR *'
expect_match "syntax is inert: found or not found, never an error" "^(0|1)$" "$RC"
expect_nomatch "syntax is inert: no FTS5 error" "fts5|syntax error|malformed" "$ERR"
# The same words as plain text find what plain words find.
run_rc "$PORTDEX" find 'quicktime OR' --json
expect_match "an FTS5 operator is a word" "(^|,)545(,|$)" "$(json '",".join(str(r["port"]) for r in j)')"
run_rc "$PORTDEX" find zzzzqqq
expect_eq "nothing found" 1 "$RC"
run_rc "$PORTDEX" find '***'
expect_eq "no words" 2 "$RC"
finish
