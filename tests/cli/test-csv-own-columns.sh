#!/bin/bash
# test-csv-own-columns.sh - the commands whose --format csv has columns of
# its own (docs/json.md: scan, import-nmap, export) against their JSON of
# the same run, row by row and field by field, read with python's csv
# module: import-nmap on a report written here (two hosts, a hostname, a
# product holding a comma and quotes, a mismatch, a closed port shown
# with -a, a port nmap did not name), scan on loopback listeners this
# test holds (open and closed, with and without -a), export on the
# registry (every IANA row, multi-line fields and all).  test-format-csv
# covers the commands whose CSV is the JSON model flattened.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 is not installed" >&2; exit 77; }
build_registry
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# cmp.py MODE CSV JSON: the CSV's rows and cells against what MODE's
# columns take from the JSON; prints what differs, exit 1 then.
cat > "$T/cmp.py" <<'EOF'
import csv, json, sys
mode, cfile, jfile = sys.argv[1:4]
doc = json.load(open(jfile, encoding="utf-8"))
s = lambda v: "" if v is None else str(v)
want = []
if mode == "import-nmap":
    header = ["address", "hostname", "port", "proto", "state", "nmap_service",
              "nmap_product", "nmap_version", "headline", "status", "risk",
              "verdict", "reason"]
    for h in doc["hosts"]:
        for p in h["ports"]:
            svc = p.get("service") or {}
            pd = p["portdex"]
            want.append([h["address"], (h["hostnames"] or [""])[0],
                         s(p["port"]), p["proto"], p["state"],
                         s(svc.get("name")), s(svc.get("product")),
                         s(svc.get("version")), pd["headline"], pd["status"],
                         pd["risk"], pd["verdict"], pd["reason"]])
elif mode == "scan":
    header = ["port", "proto", "state", "service", "status", "risk"]
    for p in doc["ports"]:
        want.append([s(p["port"]), p["proto"], p["state"], s(p["service"]),
                     s(p["status"]), s(p["risk"])])
elif mode == "export":
    header = ["Service Name", "Port Number", "Transport Protocol",
              "Description", "Assignee", "Contact", "Registration Date",
              "Modification Date", "Reference", "Service Code",
              "Unauthorized Use Reported", "Assignment Notes"]
    keys = ["service_name", "port", "transport", "description", "assignee",
            "contact", "registration_date", "modification_date", "reference",
            "service_code", "unauthorized_use", "notes"]
    for r in doc:
        want.append([s(r[k]) for k in keys])
with open(cfile, newline="", encoding="utf-8") as f:
    got = list(csv.reader(f, strict=True))
bad = []
if not got:
    bad.append("no CSV at all")
elif got[0] != header:
    bad.append("header %r, expected %r" % (got[0], header))
body = got[1:]
if len(body) != len(want):
    bad.append("%d rows, the JSON has %d" % (len(body), len(want)))
for i, (g, w) in enumerate(zip(body, want)):
    if g != w:
        bad.append("row %d: %r, the JSON says %r" % (i + 1, g, w))
for b in bad[:10]:
    print(b)
if not bad:
    print("%d rows agree" % len(want))
sys.exit(1 if bad else 0)
EOF

# same NAME MODE ARGS...: ARGS with --format csv, then with --format json
same() {
	local name=$1 mode=$2 out
	shift 2
	"$PORTDEX" "$@" --format csv > "$T/out.csv" 2> "$T/csv.err"
	local rc1=$?
	"$PORTDEX" "$@" --format json > "$T/out.json" 2> /dev/null
	local rc2=$?
	expect_eq "$name: exit status of csv and json ($(head -c 200 "$T/csv.err"))" "$rc2" "$rc1"
	if out=$(python3 "$T/cmp.py" "$mode" "$T/out.csv" "$T/out.json" 2>&1); then
		pass
		ROWS=${out%% *}
	else
		fail "$name: CSV and JSON differ: $out"
		ROWS=0
	fi
}

# ---- import-nmap --------------------------------------------------------
# Written from nmap.dtd: elements and attributes as nmap -sV -oX writes them.
cat > "$T/scan.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sV -oX scan.xml 192.0.2.0/30" start="1700000000" version="7.93" xmloutputversion="1.05">
<host><status state="up" reason="syn-ack"/>
<address addr="192.0.2.1" addrtype="ipv4"/>
<hostnames><hostname name="gw.example" type="PTR"/></hostnames>
<ports><extraports state="closed" count="995"/>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH" version="9.2p1 Debian 2" method="probed" conf="10"/></port>
<port protocol="tcp" portid="80"><state state="open" reason="syn-ack"/><service name="ssh" product="Dropbear sshd" version="2022.83" method="probed" conf="10"/></port>
<port protocol="tcp" portid="8080"><state state="open" reason="syn-ack"/><service name="http" product="Acme &quot;Web&quot;, v2" method="probed" conf="10"/></port>
<port protocol="tcp" portid="25"><state state="closed" reason="reset"/><service name="smtp" method="table" conf="3"/></port>
</ports></host>
<host><status state="up" reason="echo-reply"/>
<address addr="2001:db8::2" addrtype="ipv6"/>
<hostnames/>
<ports>
<port protocol="udp" portid="53"><state state="open" reason="udp-response"/><service name="domain" product="ISC BIND" version="9.18" method="probed" conf="10"/></port>
<port protocol="tcp" portid="49152"><state state="open" reason="syn-ack"/></port>
</ports></host>
<runstats><finished time="1700000009" elapsed="9.0"/><hosts up="2" down="0" total="2"/></runstats>
</nmaprun>
EOF
same "import-nmap" import-nmap import-nmap "$T/scan.xml"
expect_eq "import-nmap: five open ports" 5 "$ROWS"
same "import-nmap -a" import-nmap import-nmap -a "$T/scan.xml"
expect_eq "import-nmap -a: the closed port too" 6 "$ROWS"
OUT=$("$PORTDEX" import-nmap --format csv "$T/scan.xml")
expect_match "import-nmap: the quoted product comes back quoted" \
    '^192\.0\.2\.1,gw\.example,8080,tcp,open,http,"Acme ""Web"", v2",' "$OUT"
expect_match "import-nmap: Dropbear on 80 is a mismatch" \
    '^192\.0\.2\.1,gw\.example,80,tcp,open,ssh,Dropbear sshd,2022\.83,.*,mismatch,' "$OUT"
# annotate on a report is import-nmap
expect_eq "annotate FILE.xml --format csv is import-nmap's" "$OUT" \
    "$("$PORTDEX" annotate --format csv "$T/scan.xml")"

# ---- scan -------------------------------------------------------------------
# Two listeners that accept (a full backlog would make a port look
# filtered), a port held closed (bound, not listening).
python3 -c '
import socket, sys, threading, time
ls = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); ls.append(s)
c = socket.socket(); c.bind(("127.0.0.1", 0))
def serve(s):
    while True:
        try: s.accept()[0].close()
        except OSError: return
for s in ls: threading.Thread(target=serve, args=(s,), daemon=True).start()
print(*(s.getsockname()[1] for s in ls + [c]), flush=True)
time.sleep(60)' > "$T/ports" &
pids+=($!)
for _ in $(seq 50); do [ -s "$T/ports" ] && break; sleep 0.1; done
read -r P1 P2 PC < "$T/ports" || { fail "the listeners did not start"; finish; exit 1; }
same "scan" scan scan -p "$P1,$P2,$PC" 127.0.0.1
expect_eq "scan: the two open ports" 2 "$ROWS"
same "scan -a" scan scan -a -p "$P1,$P2,$PC,22" 127.0.0.1
expect_eq "scan -a: every port scanned" 4 "$ROWS"
expect_match "scan -a: the closed one" "^$PC,tcp,closed," "$(tr -d '\r' < "$T/out.csv")"

# ---- export -----------------------------------------------------------------
same "export" export export
[ "$ROWS" -gt 10000 ] && pass || fail "export: only $ROWS rows"
# a field with a line break comes back whole
expect_match "export: a multi-line field parses" "^[1-9]" \
    "$(python3 -c 'import csv,sys; print(sum(1 for r in csv.reader(open(sys.argv[1], newline="", encoding="utf-8")) if any("\n" in c for c in r)))' "$T/out.csv")"

# ---- errors: one line each, no CSV -------------------------------------------
run_rc "$PORTDEX" import-nmap --format jsonl "$T/scan.xml"
expect_eq "import-nmap --format jsonl: exit 2" 2 "$RC"
expect_match "import-nmap --format jsonl: the values" "text, json or csv, not 'jsonl'" "$ERR"
printf '<nmaprun><host><ports><port protocol="tcp" portid="22">' > "$T/cut.xml"
run_rc "$PORTDEX" import-nmap --format csv "$T/cut.xml"
expect_eq "a truncated report: exit 2" 2 "$RC"
expect_match "a truncated report: the file named" "cut\.xml" "$ERR"
finish
