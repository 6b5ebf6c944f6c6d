#!/usr/bin/env bash
# portdex update and export: the real IANA file round-trips field-exact,
# the 2024 -> 2026 diff matches an independent count, a failed update
# leaves the old database untouched, --from URL downloads over loopback,
# and two updates at once are serialized.
. "$(dirname "$0")/lib.sh"
build_registry

# Every row round-trips: export csv is the same file, byte for byte...
"$PORTDEX" export --format csv > "$T/export.csv"
if cmp -s "$IANA" "$T/export.csv"; then pass; else fail "export csv differs from the IANA file"; fi
# ...and field for field, as an independent CSV reader sees it.
python3 - "$IANA" "$T/export.csv" <<'PY' && pass || fail "field-exact round trip"
import csv, sys
a = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
b = list(csv.reader(open(sys.argv[2], newline='', encoding='utf-8')))
assert len(a) == len(b) == 14501, (len(a), len(b))
for i, (x, y) in enumerate(zip(a, b)):
    assert x == y, (i, x, y)
PY
# Importing the export gives an identical registry.
cp "$PORTDEX_DB" "$T/first.db"
run_rc "$PORTDEX" update --json --from "$T/export.csv"
expect_eq "re-import exit" 0 "$RC"
expect_eq "re-import added" 0 "$(json 'j["diff"]["added_count"]')"
expect_eq "re-import removed" 0 "$(json 'j["diff"]["removed_count"]')"
expect_eq "re-import changed" 0 "$(json 'j["diff"]["changed_count"]')"
# The rows compared through portdex's own export (sqlite3 is not needed):
# both exports must be non-empty and equal.
"$PORTDEX" --db "$T/first.db" export --format json > "$T/export-a.json" 2>"$T/export-a.err"
"$PORTDEX" export --format json > "$T/export-b.json" 2>"$T/export-b.err"
expect_match "first export has rows" "^[0-9]{4,}$" "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$T/export-a.json")"
expect_eq "identical rows" "$(md5sum < "$T/export-a.json")" "$(md5sum < "$T/export-b.json")"

# The meta table records each source, its date and checksum.
run_rc "$PORTDEX" --version
expect_match "version sources" "iana .*service-names-port-numbers|iana .*export.csv" "$OUT"

# The diff between the 2024-04 and the current file, against an
# independent count made here with Python's csv module.
"$PORTDEX" update --from "$IANA_OLD" >/dev/null
run_rc "$PORTDEX" update --json --from "$IANA"
expect_eq "diff exit" 0 "$RC"
printf '%s' "$OUT" > "$T/report.json"
python3 - "$IANA_OLD" "$IANA" "$T/report.json" <<'PY' && pass || fail "diff counts differ from the independent count"
import csv, json, sys, collections
def load(p):
    rows = list(csv.reader(open(p, newline='', encoding='utf-8')))[1:]
    seen = collections.Counter(); out = {}
    for r in rows:
        k = (r[0], r[1], r[2]); seen[k] += 1
        out[k + (seen[k],)] = r[3:]
    return out
old, new = load(sys.argv[1]), load(sys.argv[2])
added = [k for k in new if k not in old]
removed = [k for k in old if k not in new]
changed = [k for k in new if k in old and new[k] != old[k]]
rep = json.load(open(sys.argv[3]))["diff"]
print("independent:", len(added), len(removed), len(changed), file=sys.stderr)
assert rep["added_count"] == len(added), (rep["added_count"], len(added))
assert rep["removed_count"] == len(removed)
assert rep["changed_count"] == len(changed)
got = {(c["service_name"], c["port"], c["transport"]) for c in rep["changed"]}
assert got == {k[:3] for k in changed}
PY
# Text form names the counts.
"$PORTDEX" update --from "$IANA_OLD" >/dev/null
run_rc "$PORTDEX" update --from "$IANA"
expect_match "text counts" "changes: [0-9]+ added, [0-9]+ removed, [0-9]+ changed" "$OUT"

# A failed update names file and line and leaves the old database alone.
sum_before=$(md5sum < "$PORTDEX_DB")
{ head -100 "$IANA"; printf 'bad,70000,tcp,x,,,,,,,,\n'; } > "$T/bad.csv"
run_rc "$PORTDEX" update --from "$T/bad.csv"
expect_eq "bad update exit" 2 "$RC"
expect_match "bad update names file:line" "bad.csv:101: port '70000' is out of range" "$ERR"
expect_match "old kept message" "left as it was" "$ERR"
expect_eq "old database untouched" "$sum_before" "$(md5sum < "$PORTDEX_DB")"
{ head -50 "$IANA"; printf 'x,5,tcp,"unterminated\n'; } > "$T/bad2.csv"
run_rc "$PORTDEX" update --from "$T/bad2.csv"
expect_match "unterminated quote" "bad2.csv:51: unterminated quoted field" "$ERR"
printf 'Name,Port\nx,1\n' > "$T/bad3.csv"
run_rc "$PORTDEX" update --from "$T/bad3.csv"
expect_match "wrong header" "bad3.csv:1: not an IANA" "$ERR"
run_rc "$PORTDEX" update --from "$T/missing.csv"
expect_match "missing file" "missing.csv: No such file" "$ERR"
expect_eq "still untouched" "$sum_before" "$(md5sum < "$PORTDEX_DB")"
ls "$T" | grep -q 'registry.db.new' && fail "temporary file left behind" || pass
run_rc "$PORTDEX" 645 --json
expect_eq "old database still works" pssc "$(json 'j["transports"][0]["service"]')"

# --from URL: an HTTP server on loopback serves the test CSV.
mkdir -p "$T/www" && cp "$IANA_OLD" "$T/www/iana.csv"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$T/www" >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/iana.csv" && break; sleep 0.1; done
run_rc "$PORTDEX" update --json --from "http://127.0.0.1:$port/iana.csv"
expect_eq "url update exit" 0 "$RC"
expect_eq "url rows" 14447 "$(json 'j["rows"]')"
expect_eq "url source named" "http://127.0.0.1:$port/iana.csv" "$(json 'j["sources"][0]["path"]')"
run_rc "$PORTDEX" update --from "http://127.0.0.1:$port/nothere.csv"
expect_eq "url 404 exit" 2 "$RC"
expect_match "url 404 message" "nothere.csv: .*404" "$ERR"
kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null

# Two updates at once: the second waits for the first, both succeed.
"$PORTDEX" update --from "$IANA" > "$T/u1.out" 2> "$T/u1.err" &
p1=$!
"$PORTDEX" update --from "$IANA" > "$T/u2.out" 2> "$T/u2.err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
expect_eq "concurrent updates" "0 0" "$r1 $r2"
run_rc "$PORTDEX" 645 --json
expect_eq "after concurrent updates" pssc "$(json 'j["transports"][0]["service"]')"

# services(5) export can be read back as a services file.
"$PORTDEX" export --format services > "$T/services"
expect_match "services line" "^pssc +645/tcp" "$(grep '^pssc' "$T/services")"
PORTDEX_DB=$T/svc.db run_rc "$PORTDEX" update --only --services "$T/services"
expect_eq "services import" 0 "$RC"
PORTDEX_DB=$T/svc.db run_rc "$PORTDEX" 645/tcp --json
expect_eq "services primary" pssc "$(json 'j["transports"][0]["service"]')"
# A services file is not IANA: said so, and no IANA status is derived
expect_eq "services primary: registry says so" services "$(json 'j["registry"]["primary"]')"
PORTDEX_DB=$T/svc.db run_rc "$PORTDEX" 4
expect_match "services primary: the card says IANA's registry was not loaded" "IANA's registry was not loaded" "$OUT"
expect_nomatch "services primary: no status rule from a status nobody knows" "no-living-service" "$OUT"
expect_match "with IANA's rows 4 is unassigned and raises the rule" "no-living-service" "$("$PORTDEX" 4)"
"$PORTDEX" export --format json > "$T/export.json"
OUT=$(cat "$T/export.json")
expect_eq "json export rows" 14500 "$(json 'len(j)')"
run_rc "$PORTDEX" export --format xml
expect_eq "bad format" 2 "$RC"
finish
