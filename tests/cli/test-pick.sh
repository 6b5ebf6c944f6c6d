#!/usr/bin/env bash
# portdex pick: suggestions never collide with an IANA assignment (the
# CSV parsed here with python3's csv module), a curated use (data/uses/
# parsed here), a port nmap sees open often, this kernel's ephemeral range,
# a port this test binds, or a port in the notes; the same data gives the
# same answer; bad arguments exit 2.  Browsers' bad ports are never
# suggested, nor ports in ip_local_reserved_ports (set in a network
# namespace the test makes); --consecutive gives blocks of adjacent ports
# that this test can bind; --portable stays below 49152; a suggestion in
# Kubernetes' NodePort range says so.
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
    ids = [c['check'] for c in s['checks']]
    want = ['bad_port', 'ephemeral', 'reserved'] + (['portable'] if res['portable'] else []) + \
        ['iana', 'uses', 'nmap', 'notes', 'bind']
    if ids != want: print(f"{p}: checks {ids}, not {want}")
    # every port of a block passes what the first one passed
    for q in s['ports']:
        if q != p and (q in claimed or q in used or q in eph):
            print(f"{p}: block port {q} is not clean")
    if s['ports'] != list(range(p, s['port_hi'] + 1)):
        print(f"{p}: block {s['ports']} is not {p}-{s['port_hi']}")
    if len(s['ports']) != res['consecutive']:
        print(f"{p}: block of {len(s['ports'])}, not {res['consecutive']}")
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
	expect_match "a port to hold ($spec)" '^[0-9]+$' "$S"
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
expect_match "a port to hold (tcp)" '^[0-9]+$' "$S"
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

# Browsers' bad ports (the fetch standard's list, https://fetch.spec.whatwg.org/#bad-port)
# are never suggested, even from a registry that knows nothing of them.
# (python3 starts are the slow part of this test: one per answer.)
BAD_PORTS="0 1 7 9 11 13 15 17 19 20 21 22 23 25 37 42 43 53 69 77 79 87 95 101 102
103 104 109 110 111 113 115 117 119 123 135 137 139 143 161 179 389 427 465 512 513
514 515 526 530 531 532 540 548 554 556 563 587 601 636 989 990 993 995 1719 1720 1723
2049 3659 4045 4190 5060 5061 6000 6566 6665 6666 6667 6668 6669 6679 6697 10080"
head -1 "$IANA" > "$T/tiny.csv"
echo 'x-test,65000,tcp,Test service,,,,,,,,' >> "$T/tiny.csv"
"$PORTDEX" --db "$T/tiny.db" update --from "$T/tiny.csv" --only >/dev/null || fail "tiny registry"
OUT=$("$PORTDEX" --db "$T/tiny.db" pick -n 1000 --range 0-11000 --near 0 --json)
# count | bad ones suggested | bad ones reached, and counted as such | the first few
R=$(json "(lambda got, bad: '%d|%s|%s|%s' % (len(got), sorted(set(got) & bad),
    len([b for b in bad if b <= max(got)]) == j['skipped']['bad_port'],
    sorted(p for p in got if p <= 10)))([s['port'] for s in j['suggestions']],
    set(map(int, '$(echo $BAD_PORTS)'.split())))")
expect_eq "bad ports never suggested (count|bad|counted|first)" "1000|[]|True|[2, 3, 4, 5, 6, 8, 10]" "$R"

# --consecutive N: blocks of N adjacent ports, clean, and free: this test
# binds every port of every block (tcp and udp, 0.0.0.0 and ::).
"$PORTDEX" pick -n 4 --consecutive 6 --near 20000 --json > "$T/blk.json"; rc=$?
expect_eq "consecutive: exit 0, 4 blocks, clean" "0 4 " "$rc $(count "$T/blk.json" 2>/dev/null) $(check_json "$T/blk.json")"
R=$(python3 - "$T/blk.json" <<'EOF'
import json, socket, sys
res = json.load(open(sys.argv[1]))
held, bad = [], []
ports = [p for s in res['suggestions'] for p in s['ports']]
for p in ports:
    for fam, addr in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
        for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            k = socket.socket(fam, typ)
            if fam == socket.AF_INET6:
                k.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                k.bind((addr, p))
                held.append(k)
            except OSError as e:
                bad.append(f"{p} {addr} {typ}: {e}")
print(len(res['suggestions']), len(set(ports)), len(held), *bad)
EOF
)
expect_eq "4 blocks, 24 distinct ports, each binds tcp+udp on 0.0.0.0 and ::" "4 24 96" "$R"
run_rc "$PORTDEX" pick -n 2 --consecutive 3 --near 20000
expect_match "consecutive text" "^[0-9]+-[0-9]+ +tcp\+udp/user, 3 adjacent ports" "$OUT"
expect_match "consecutive header" "Blocks of 3 adjacent ports" "$OUT"

# --portable: nothing at or above 49152, even asked for near 65000.
OUT=$("$PORTDEX" pick -n 20 --portable --range 1024-65535 --near 65000 --json)
expect_eq "portable: 20, none >= 49152, flag" "20 [] True" "$(json '"%d %s %s" % (len(j["suggestions"]), [s["port"] for s in j["suggestions"] if s["port"] >= 49152], j["portable"])')"
if [ "$EPH_HI" -lt 65000 ]; then	# else the kernel's own range hides the difference
	OUT=$("$PORTDEX" pick -n 20 --range 1024-65535 --near 65000 --json)
	expect_eq "without portable: above 49152" "20" "$(json 'len([s for s in j["suggestions"] if s["port"] >= 49152])')"
fi

# Kubernetes' NodePort range: a suggestion inside it says so, others do not.
OUT=$("$PORTDEX" pick -n 10 --range 29990-30020 --near 30000 --json)
R=$(json '"%s %s %s" % (all(s["kubernetes_nodeport"] == (30000 <= s["port"] <= 32767) for s in j["suggestions"]),
    any(s["port"] < 30000 for s in j["suggestions"]) and any(s["port"] >= 30000 for s in j["suggestions"]),
    all(("NodePort" in " ".join(s["warnings"])) == s["kubernetes_nodeport"] for s in j["suggestions"]))')
expect_eq "nodeport: flagged exactly inside 30000-32767, both sides, warning text" "True True True" "$R"
run_rc "$PORTDEX" pick -n 10 --range 29990-30020 --near 30000
expect_match "nodeport note in text" "note: inside Kubernetes' default NodePort" "$OUT"

# ip_local_reserved_ports: set inside a network namespace of this test.
if unshare -n true 2>/dev/null; then
	OUT=$("$PORTDEX" pick -n 1 --near 21000 --json)
	S=$(json 'j["suggestions"][0]["port"]')
	OUT=$(unshare -n sh -c 'echo "$1" > /proc/sys/net/ipv4/ip_local_reserved_ports && exec "$0" pick -n 3 --near "$2" --json' "$PORTDEX" "$S,$((S + 1))" "$S")
	R=$(json "'%s %d %s %s' % ($S in [s['port'] for s in j['suggestions']], j['reserved']['count'], j['reserved']['from_kernel'], j['skipped']['reserved'] >= 1)")
	expect_eq "reserved port $S: not suggested, 2 read, skipped" "False 2 True True" "$R"
else
	fail "unshare -n is needed for the reserved-ports check (run as root)"
fi

# Bad arguments.
for bad in "-n 0" "-n 1001" "-n abc" "--proto sctp" "--proto" "--near 70000" \
    "--near -5" "--range 9-1" "--range x" "--range 1-70000" "extra" "--bogus" \
    "--consecutive 0" "--consecutive 1001" "--consecutive x" "--portable=1"; do
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
