#!/usr/bin/env bash
# portdex pick: suggestions never collide with an IANA assignment (the
# CSV parsed here with python3's csv module), a curated use (data/uses/
# parsed here), a port nmap sees open often, this kernel's ephemeral range,
# a port this test binds, or a port in the notes; the same data gives the
# same answer; bad arguments exit 2.
. "$(dirname "$0")/lib.sh"
build_registry
command -v python3 >/dev/null || { echo "SKIP: python3 is needed" >&2; exit 77; }

read -r EPH_LO EPH_HI < /proc/sys/net/ipv4/ip_local_port_range

# check_json FILE: every suggestion in the pick JSON in FILE is clean.
# Prints one line per problem; nothing when clean.
check_json() {
	python3 - "$1" "$IANA" "$PDX_SRCDIR/data/uses" "$EPH_LO" "$EPH_HI" <<'EOF'
import csv, json, os, sys
res = json.load(open(sys.argv[1]))
claimed = set()            # any IANA row other than plain "Unassigned"
with open(sys.argv[2], newline='', encoding='utf-8') as f:
    rd = csv.reader(f)
    next(rd)
    for row in rd:
        if len(row) < 4 or not row[1].strip():
            continue
        name, port, desc = row[0].strip(), row[1].strip(), row[3].strip()
        if not name and desc.lower() == 'unassigned':
            continue
        lo, _, hi = port.partition('-')
        claimed.update(range(int(lo), int(hi or lo) + 1))
used = set()
import glob
for line in (l for fn in sorted(glob.glob(sys.argv[3] + '/*.tsv')) for l in open(fn, encoding='utf-8')):
    if line.startswith('#') or line.startswith('port\t') or not line.strip():
        continue
    lo, _, hi = line.split('\t')[0].partition('-')
    # an allocation pool of over 1000 ports is no known use (pick.c)
    if int(hi or lo) - int(lo) <= 1000:
        used.update(range(int(lo), int(hi or lo) + 1))
freq = {}
nm = '/usr/share/nmap/nmap-services'
if os.path.exists(nm):
    for line in open(nm, encoding='utf-8', errors='replace'):
        f = line.split()
        if len(f) >= 3 and not line.startswith('#') and '/' in f[1]:
            p, pr = f[1].split('/')
            freq[(int(p), pr)] = float(f[2])
eph = range(int(sys.argv[4]), int(sys.argv[5]) + 1)
limit = res['max_frequency']
protos = res['transports']
lo, hi = res['range']['lo'], res['range']['hi']
for s in res['suggestions']:
    p = s['port']
    if p in claimed: print(f"{p}: IANA has a row for it")
    if p in used: print(f"{p}: data/uses has a row for it")
    if p in eph: print(f"{p}: inside the ephemeral range")
    if not lo <= p <= hi: print(f"{p}: outside the range {lo}-{hi}")
    for pr in protos:
        if freq.get((p, pr), 0) > limit:
            print(f"{p}: nmap sees {pr} open at {freq[(p, pr)]}")
    if len(s['checks']) != 6: print(f"{p}: {len(s['checks'])} checks, not 6")
EOF
}

# count FILE: the number of suggestions.
count() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["suggestions"]))' "$1"; }
# ports FILE: the suggested ports, one per line.
ports() { python3 -c 'import json,sys; [print(s["port"]) for s in json.load(open(sys.argv[1]))["suggestions"]]' "$1"; }

# The default range, many suggestions.
"$PORTDEX" pick -n 300 --json > "$T/a.json"; rc=$?
expect_eq "pick exit" 0 "$rc"
expect_eq "300 suggestions" 300 "$(count "$T/a.json")"
expect_eq "default range clean" "" "$(check_json "$T/a.json")"
OUT=$(cat "$T/a.json")
expect_eq "default start" 25087 "$(json 'j["near"]')"
expect_eq "default range" "1024-49151" "$(json 'str(j["range"]["lo"]) + "-" + str(j["range"]["hi"])')"
expect_eq "ephemeral from the kernel" "$EPH_LO-$EPH_HI" "$(json 'str(j["ephemeral"]["lo"]) + "-" + str(j["ephemeral"]["hi"])')"
expect_eq "order: distance then port" "True" "$(json 'all((a["distance"], a["port"]) < (b["distance"], b["port"]) for a, b in zip(j["suggestions"], j["suggestions"][1:]))')"
expect_eq "distance is |port-near|" "True" "$(json 'all(s["distance"] == abs(s["port"] - j["near"]) for s in j["suggestions"])')"

# The whole port space, starting inside the ephemeral range.
"$PORTDEX" pick -n 500 --range 0-65535 --near $(( (EPH_LO + EPH_HI) / 2 )) --json > "$T/b.json"
expect_eq "whole space clean" "" "$(check_json "$T/b.json")"
expect_eq "whole space count" 500 "$(count "$T/b.json")"
# System ports only when asked.
"$PORTDEX" pick -n 20 --range 0-1023 --json > "$T/c.json"
expect_eq "system range clean" "" "$(check_json "$T/c.json")"
expect_eq "system range all below 1024" "" "$(ports "$T/c.json" | awk '$1 >= 1024')"
expect_eq "default never below 1024" "" "$(ports "$T/a.json" | awk '$1 < 1024')"
# One transport.
"$PORTDEX" pick -n 50 --proto udp --json > "$T/d.json"
expect_eq "udp clean" "" "$(check_json "$T/d.json")"
OUT=$(cat "$T/d.json")
expect_eq "udp only" '["udp"]' "$(json 'json.dumps(j["transports"])')"

# Determinism: the same data, the same answer (JSON and text).
"$PORTDEX" pick -n 300 --json > "$T/a2.json"
expect_eq "deterministic json" "" "$(cmp "$T/a.json" "$T/a2.json" 2>&1)"
expect_eq "deterministic text" "$("$PORTDEX" pick -n 20 --near 5000)" "$("$PORTDEX" pick -n 20 --near 5000)"

# A port this test binds is never suggested.  Ask for the port pick would
# choose first, bind it, ask again.
hold() {	# hold FAMILY TYPE ADDR PORT READYFILE: binds for at most 60 s
	python3 - "$@" <<'EOF' &
import socket, sys, time
fam = socket.AF_INET6 if sys.argv[1] == '6' else socket.AF_INET
typ = socket.SOCK_STREAM if sys.argv[2] == 'tcp' else socket.SOCK_DGRAM
s = socket.socket(fam, typ)
s.bind((sys.argv[3], int(sys.argv[4])))
if typ == socket.SOCK_STREAM:
    s.listen(1)
open(sys.argv[5], 'w').write('ready')
time.sleep(60)
EOF
	HOLD_PID=$!
	for _ in $(seq 100); do [ -s "$5" ] && break; sleep 0.05; done
}
for spec in "4 tcp 127.0.0.1 tcp" "6 udp ::1 udp" "4 udp 0.0.0.0 tcp+udp"; do
	set -- $spec
	if [ "$1" = 6 ] && ! python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
		echo "note: no IPv6 loopback, skipped the ::1 case" >&2
		continue
	fi
	popt=()
	[ "$4" != "tcp+udp" ] && popt=(--proto "$4")
	OUT=$("$PORTDEX" pick -n 1 --near 12000 "${popt[@]}" --json)
	S=$(json 'j["suggestions"][0]["port"]')
	rm -f "$T/ready"
	hold "$1" "$2" "$3" "$S" "$T/ready"
	expect_eq "holder ready ($spec)" ready "$(cat "$T/ready" 2>/dev/null)"
	OUT=$("$PORTDEX" pick -n 5 --near "$S" "${popt[@]}" --json)
	expect_eq "bound port $S ($spec) not suggested" "False" "$(json "$S in [s['port'] for s in j['suggestions']]")"
	expect_eq "bound port $S ($spec) reported" "True" "$(json "$S in j['bound']")"
	kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null
	OUT=$("$PORTDEX" pick -n 1 --near "$S" "${popt[@]}" --json)
	expect_eq "released port $S ($spec) comes back" "$S" "$(json 'j["suggestions"][0]["port"]')"
done
# A TCP-only bind does not stop a UDP pick.
OUT=$("$PORTDEX" pick -n 1 --near 13000 --json)
S=$(json 'j["suggestions"][0]["port"]')
rm -f "$T/ready"
hold 4 tcp 0.0.0.0 "$S" "$T/ready"
OUT=$("$PORTDEX" pick -n 1 --near "$S" --proto udp --json)
expect_eq "tcp bind, udp pick" "$S" "$(json 'j["suggestions"][0]["port"]')"
kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null

# Notes: a noted port is passed over.
OUT=$("$PORTDEX" pick -n 1 --near 30000 --json)
S=$(json 'j["suggestions"][0]["port"]')
"$PORTDEX" -q note "$S/udp" "test service" || fail "note"
OUT=$("$PORTDEX" pick -n 3 --near "$S" --json)
expect_eq "noted port $S not suggested" "False" "$(json "$S in [s['port'] for s in j['suggestions']]")"
expect_eq "notes checked" "True" "$(json 'j["notes_checked"]')"
expect_eq "one noted port skipped" 1 "$(json 'j["skipped"]["notes"]')"
"$PORTDEX" -q note --rm "$S" >/dev/null

# Text output says why.
run_rc "$PORTDEX" pick -n 2 --near 20000
expect_eq "text exit" 0 "$RC"
expect_match "text names the checks" "unassigned by IANA" "$OUT"
expect_match "text names nmap" "nmap: tcp" "$OUT"
expect_match "text names the bind" "bind\(\) succeeded" "$OUT"
expect_match "text footer" "Examined [0-9]+ ports" "$OUT"

# Nothing passes inside the ephemeral range: exit 1 with a message.
run_rc "$PORTDEX" pick --range "$EPH_LO-$((EPH_LO + 10))"
expect_eq "none found exit" 1 "$RC"
expect_match "none found message" "no port" "$ERR"

# Bad arguments.
for bad in "-n 0" "-n 1001" "-n abc" "--proto sctp" "--proto" "--near 70000" \
    "--near -5" "--range 9-1" "--range x" "--range 1-70000" "extra" "--bogus"; do
	run_rc "$PORTDEX" pick $bad
	expect_eq "bad '$bad' exit" 2 "$RC"
	expect_match "bad '$bad' message" "pick" "$ERR"
done
run_rc "$PORTDEX" pick --range 9-1
expect_match "range message" "9-1" "$ERR"
run_rc "$PORTDEX" pick --proto sctp
expect_match "proto message" "tcp or udp" "$ERR"
# No registry.
run_rc "$PORTDEX" --db "$T/missing.db" pick
expect_eq "no registry exit" 2 "$RC"
finish
