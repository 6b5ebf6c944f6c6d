#!/usr/bin/env bash
# test-ls-brief.sh - `portdex ls` annotates sockets from the brief file that
# update writes beside the registry (portdex-db(5)), and gives the same
# answers without it: the file missing, stale (the registry changed in
# place after it was written) or damaged (with a warning).  The service
# names are checked against the IANA CSV itself.  Listeners are on
# 127.0.0.1, on registered ports this machine leaves free.
. "$(dirname "$0")/lib.sh"
build_registry
BRIEF=$PORTDEX_DB.brief

[ -f "$BRIEF" ] && pass || fail "update wrote no $BRIEF"
run_rc "$PORTDEX" --version
expect_match "--version: the brief file is used" "^brief file: $BRIEF\$" "$OUT"
cp "$BRIEF" "$T/brief.keep"

# Registered TCP ports with a name in the CSV, as many as bind here
# (at most 6, tried in a fixed order); the helper prints "port name" lines.
python3 - "$IANA" >"$T/ports" 2>"$T/py.err" <<'EOF' &
import csv, socket, sys, time
names = {}
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    for row in csv.DictReader(f):
        n, p, t = row['Service Name'], row['Port Number'], row['Transport Protocol']
        if n and t == 'tcp' and p.isdigit() and int(p) not in names:
            names[int(p)] = n
held = []
for port in (645, 1644, 2628, 3689, 4321, 5050, 7070, 8291, 9418, 11371):
    if port not in names or len(held) == 6:
        continue
    s = socket.socket()
    try:
        s.bind(('127.0.0.1', port))
        s.listen()
    except OSError:
        s.close()
        continue
    held.append(s)
    print(port, names[port], flush=True)
print('READY', flush=True)
time.sleep(60)
EOF
helper=$!
trap 'kill $helper 2>/dev/null; rm -rf "$T"' EXIT
for i in $(seq 100); do
	grep -q READY "$T/ports" && break
	sleep 0.1
done
n=$(grep -vc READY "$T/ports")
[ "$n" -ge 3 ] && pass || fail "only $n registered ports could be bound: $(cat "$T/py.err")"
list=$(awk '$1 != "READY" { print $1 }' "$T/ports" | paste -sd, -)

ls_json() { "$PORTDEX" --json ls -t -4 --no-pids -p "$list" 2>"$T/stderr"; }
norm() { python3 -c 'import json,sys
j=json.load(sys.stdin)
for s in sorted(j["sockets"], key=lambda s: s["local"]["port"]):
    v=s.get("service") or {}
    print(s["local"]["port"], v.get("name"), v.get("status"), v.get("risk"))'; }

# With the brief file: each port's IANA name, assigned.
ls_json | norm >"$T/with"
expect_eq "with the brief file: no warning" "" "$(cat "$T/stderr")"
expect_eq "with the brief file: every listener" "$n" "$(wc -l <"$T/with")"
while read -r port name; do
	[ "$port" = READY ] && continue
	expect_match "$port/tcp is $name, assigned" "^$port $name assigned " "$(cat "$T/with")"
done <"$T/ports"

# Without it: the registry gives the same.
rm "$BRIEF"
ls_json | norm >"$T/without"
expect_eq "without the brief file: same answers" "$(cat "$T/with")" "$(cat "$T/without")"
expect_eq "without the brief file: no warning" "" "$(cat "$T/stderr")"
run_rc "$PORTDEX" --version
expect_match "--version: no brief file" "^brief file: not used: .*No such file" "$OUT"

# Damaged: cut short.  Same answers, and a warning.
head -c 5000 "$T/brief.keep" >"$BRIEF"
ls_json | norm >"$T/cut"
expect_eq "damaged brief file: same answers" "$(cat "$T/with")" "$(cat "$T/cut")"
expect_match "damaged brief file: warned" "damaged brief file \(wrong length\)" "$(cat "$T/stderr")"

# Damaged later: every name offset broken; found at the first name.
cp "$T/brief.keep" "$BRIEF"
size=$(stat -c %s "$BRIEF")
python3 - "$BRIEF" <<'EOF'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    head = f.read(32)
    nnames = struct.unpack_from('=I', head, 24)[0]
    f.seek(64 + 4 * 65536 * 4)
    f.write(b'\xff' * (4 * (nnames + 1)))
EOF
expect_eq "patched in place" "$size" "$(stat -c %s "$BRIEF")"
ls_json | norm >"$T/offs"
expect_eq "bad name offsets: same answers" "$(cat "$T/with")" "$(cat "$T/offs")"
expect_match "bad name offsets: warned" "damaged brief file \(name offsets\)" "$(cat "$T/stderr")"

# Stale: the registry changed in place after the file was written, and
# the file's words made wrong; the registry answers, silently.
cp "$T/brief.keep" "$BRIEF"
python3 - "$BRIEF" "$PORTDEX_DB" $(awk '$1 != "READY" { print $1 }' "$T/ports") <<'EOF'
import sqlite3, sys
brief, db, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
with open(brief, 'r+b') as f:
    for p in ports:
        f.seek(64 + 4 * p)            # tcp is transport 0
        f.write(b'\x01\x00\x00\x00')  # reserved, no name
c = sqlite3.connect(db)
c.execute("UPDATE meta SET value = value || ' ' WHERE key = 'sources'")
c.commit()
c.close()
EOF
ls_json | norm >"$T/stale"
expect_eq "stale brief file: the registry's answers" "$(cat "$T/with")" "$(cat "$T/stale")"
expect_eq "stale brief file: no warning" "" "$(cat "$T/stderr")"
run_rc "$PORTDEX" --version
expect_match "--version: stale" "^brief file: not used: .*made for another registry file" "$OUT"

# The test can fail: the same wrong words in a file that matches are used.
"$PORTDEX" update --from "$IANA" >/dev/null || fail "update"
python3 - "$BRIEF" $(awk '$1 != "READY" { print $1 }' "$T/ports") <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    for p in map(int, sys.argv[2:]):
        f.seek(64 + 4 * p)
        f.write(b'\x01\x00\x00\x00')
EOF
ls_json | norm >"$T/wrong"
expect_match "a matching file is read (its wrong words show)" "^[0-9]+ (None|) reserved " "$(cat "$T/wrong")"

kill $helper 2>/dev/null
finish
