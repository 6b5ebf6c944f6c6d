#!/bin/bash
# test-nmap-xml.sh - nmap's XML format in and out.  import-nmap reads a
# report written by hand from nmap.dtd (several hosts, -sV products, an
# ssl tunnel, a udp port) and one the real nmap writes (-sT -sV) against
# an HTTP server and an SSH banner this test starts on loopback HTTP
# ports: the HTTP one matches what portdex expects, the SSH one is
# flagged as a mismatch.  Truncated, entity-bomb, external-entity and
# non-XML input exit 2 with the file named.  annotate on a report (a file
# or a pipe) prints what import-nmap prints, in text, CSV and JSON.  `scan -oX` writes reports
# that ndiff reads (and tells apart when a listener goes away) and that
# import-nmap reads back.  Needs nmap, ndiff, python3 and jq.
. "$(dirname "$0")/lib.sh"

for t in nmap ndiff python3 jq; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed (scripts/packages.txt)" >&2; exit 77; }
done
build_registry
# jqo FILTER: jq -r on the JSON in $OUT (faster than lib.sh's json()).
jqo() { printf '%s' "$OUT" | jq -r "$@"; }
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# ---- a report written from the format's documentation -------------------
cat > "$T/hand.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sV -oX hand.xml 192.0.2.1 2001:db8::2" start="1700000000" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="4" services="22,80,443,8080"/>
<host><status state="up" reason="syn-ack"/>
<address addr="192.0.2.1" addrtype="ipv4"/><address addr="00:00:5E:00:53:01" addrtype="mac"/>
<hostnames><hostname name="gw.example" type="PTR"/></hostnames>
<ports><extraports state="closed" count="1"/>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH" version="9.2p1" method="probed" conf="10"/></port>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack"/><service name="http" tunnel="ssl" product="nginx" method="probed" conf="10"/></port>
<port protocol="tcp" portid="80"><state state="open" reason="syn-ack"/><service name="ssh" product="Dropbear sshd" method="probed" conf="10"/></port>
</ports></host>
<host><status state="up"/><address addr="2001:db8::2" addrtype="ipv6"/>
<ports><port protocol="udp" portid="53"><state state="open|filtered"/><service name="domain" method="table" conf="3"/></port>
<port protocol="tcp" portid="25"><state state="closed" reason="conn-refused"/></port></ports></host>
<runstats><finished time="1700000009" elapsed="9.0"/><hosts up="2" down="0" total="2"/></runstats>
</nmaprun>
EOF
run_rc "$PORTDEX" --json import-nmap "$T/hand.xml"
expect_eq "hand: mismatch exits 1" 1 "$RC"
expect_eq "hand: hosts" 2 "$(jqo '.hosts | length')"
expect_eq "hand: addresses" "192.0.2.1 2001:db8::2" "$(jqo '[.hosts[].address] | join(" ")')"
expect_eq "hand: open ports of host 1" "22 443 80" "$(jqo '[.hosts[0].ports[].port | tostring] | join(" ")')"
expect_eq "hand: no open port on host 2" 0 "$(jqo '.hosts[1].ports | length')"
expect_eq "hand: verdicts" "match match mismatch" "$(jqo '[.hosts[0].ports[].portdex.verdict] | join(" ")')"
expect_eq "hand: nmap product kept" "OpenSSH 9.2p1" "$(jqo '.hosts[0].ports[0].service | .product + " " + .version')"
expect_match "hand: 22 headline" "SSH" "$(jqo '.hosts[0].ports[0].portdex.headline')"
expect_eq "hand: summary" "2 3 1" "$(jqo '.summary | "\(.hosts) \(.ports) \(.mismatches)"')"
expect_eq "hand: hostname" "gw.example" "$(jqo '.hosts[0].hostnames[0]')"
run_rc "$PORTDEX" import-nmap "$T/hand.xml"
expect_match "hand text: 80 flagged" "80/tcp +open +ssh Dropbear sshd.*MISMATCH" "$OUT"
expect_match "hand text: reason" "nmap identified ssh \(Dropbear sshd\), not a known use of 80/tcp" "$OUT"
expect_match "hand text: 22 beside OpenSSH" "22/tcp +open +ssh OpenSSH 9.2p1" "$OUT"
expect_match "hand text: totals" "^2 hosts, 3 open ports, 1 mismatch$" "$OUT"
run_rc "$PORTDEX" --json import-nmap --all "$T/hand.xml"
expect_eq "--all: host 2 ports" "53/udp/open|filtered/unprobed 25/tcp/closed/unidentified" "$(jqo '[.hosts[1].ports[] | "\(.port)/\(.proto)/\(.state)/\(.portdex.verdict)"] | join(" ")')"
run_rc "$PORTDEX" import-nmap "$T/hand.xml" --format csv
expect_eq "csv: rows" 4 "$(printf '%s\n' "$OUT" | wc -l)"
expect_match "csv: header" "^address,hostname,port,proto,state,nmap_service,nmap_product" "$OUT"
expect_match "csv: mismatch row" "192.0.2.1,gw.example,80,tcp,open,ssh,Dropbear sshd,,.*,mismatch," "$OUT"
expect_eq "csv: parses as 13 columns" "13 13 13 13" "$(printf '%s\n' "$OUT" | python3 -c 'import csv,sys; print(" ".join(str(len(r)) for r in csv.reader(sys.stdin)))')"

# ---- annotate on a report: import-nmap's output --------------------------
run_rc "$PORTDEX" import-nmap "$T/hand.xml"
want=$OUT
run_rc "$PORTDEX" annotate "$T/hand.xml"
expect_eq "annotate FILE.xml: import-nmap's text" "$want" "$OUT"
expect_eq "annotate FILE.xml: exit 0 (annotate's, mismatch or not)" 0 "$RC"
OUT=$(cat "$T/hand.xml" | "$PORTDEX" annotate)
expect_eq "annotate < FILE.xml (a pipe): the same" "$want" "$OUT"
expect_eq "annotate --format csv FILE.xml: import-nmap's CSV" \
    "$("$PORTDEX" import-nmap --format csv "$T/hand.xml")" \
    "$("$PORTDEX" annotate --format csv "$T/hand.xml")"
"$PORTDEX" --json import-nmap "$T/hand.xml" > "$T/imp.json"
"$PORTDEX" --json annotate "$T/hand.xml" > "$T/ann.json"
expect_eq "annotate --json FILE.xml: [import-nmap's document]" ok \
    "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print("ok" if a == [b] else "differ: %r" % a)' "$T/ann.json" "$T/imp.json")"
printf 'kernel: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=TCP SPT=53 DPT=22\n' > "$T/k.log"
"$PORTDEX" annotate --jsonl "$T/k.log" "$T/hand.xml" > "$T/mixed.jsonl"
expect_eq "annotate --jsonl LOG FILE.xml: a line object, then the report" "kernel-log 2 1" \
    "$(python3 -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; print(l[0]["format"], l[1]["summary"]["hosts"], l[1]["summary"]["mismatches"])' "$T/mixed.jsonl")"
run_rc "$PORTDEX" annotate --format csv "$T/k.log" "$T/hand.xml"
expect_eq "annotate csv: a report among other input: exit 2" 2 "$RC"
expect_match "annotate csv: says why" "hand.xml: an nmap XML report has CSV columns of its own" "$ERR"
head -c 700 "$T/hand.xml" > "$T/cut.xml"
run_rc "$PORTDEX" annotate "$T/cut.xml"
expect_eq "annotate truncated report: exit 2" 2 "$RC"
expect_match "annotate truncated report: named" "^portdex: annotate: $T/cut.xml:[0-9]+: " "$ERR"

# ---- hostile and broken input ------------------------------------------
head -c 700 "$T/hand.xml" > "$T/truncated.xml"
# Nine levels of ten entity references each: 10^9 "a"s if expanded.
python3 - "$T/laughs.xml" <<'EOF'
import sys
d = ['<?xml version="1.0"?>', '<!DOCTYPE nmaprun [', '<!ENTITY a "aaaaaaaaaa">']
for prev, cur in zip("abcdefgh", "bcdefghi"):
    d.append('<!ENTITY %s "%s">' % (cur, ("&%s;" % prev) * 10))
d += [']>', '<nmaprun scanner="&i;"><host><address addr="&i;"/></host>&i;</nmaprun>']
open(sys.argv[1], "w").write("\n".join(d) + "\n")
EOF
cat > "$T/xxe.xml" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE nmaprun [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
<nmaprun><host><address addr="192.0.2.9"/><ports><port protocol="tcp" portid="22"><state state="open"/><service name="ssh"/></port></ports></host>&x;</nmaprun>
EOF
cat > "$T/extdtd.xml" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE nmaprun SYSTEM "http://127.0.0.1:9/nmap.dtd">
<nmaprun scanner="nmap"/>
EOF
echo 'PORT   STATE SERVICE' > "$T/notxml.xml"
printf '<?xml version="1.0"?>\n<scan/>\n' > "$T/otherroot.xml"
printf '<nmaprun><host><ports><port protocol="tcp" portid="70000"><state state="open"/></port></ports></host></nmaprun>\n' > "$T/badport.xml"
for f in truncated laughs xxe extdtd notxml otherroot badport; do
	start=$(date +%s%N)
	run_rc "$PORTDEX" import-nmap "$T/$f.xml"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	expect_eq "$f: exit" 2 "$RC"
	expect_match "$f: error names the file" "^portdex: import-nmap: $T/$f.xml(:[0-9]+)?: " "$ERR"
	expect_nomatch "$f: no crash" "Sanitizer|Segmentation|root:x:0" "$ERR$OUT"
	[ "$ms" -lt 5000 ] && pass || fail "$f: took $ms ms"
done
expect_match "laughs: refused" "entit" "$(cd "$T" && "$PORTDEX" import-nmap laughs.xml 2>&1)"
expect_match "otherroot: says why" "not an nmap XML report" "$(cd "$T" && "$PORTDEX" import-nmap otherroot.xml 2>&1)"
expect_match "badport: names the field" "portid '70000'" "$(cd "$T" && "$PORTDEX" import-nmap badport.xml 2>&1)"
run_rc "$PORTDEX" import-nmap "$T/missing.xml"
expect_eq "missing file: exit" 2 "$RC"
expect_match "missing file: named" "missing.xml: No such file" "$ERR"

# ---- the real nmap against listeners on loopback -----------------------
# One process: an HTTP server on the first free port of HTTP's alternates
# and an SSH banner on the next; it writes "HTTPPORT SSHPORT" and lives at
# most 60 s.
cat > "$T/listen.py" <<'EOF'
import socket, sys, threading, time, http.server
def bind(cands, skip):
    for p in cands:
        if p == skip:
            continue
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", p)); s.listen(16); return s, p
        except OSError:
            s.close()
    sys.exit("no free port in %s" % cands)
cands = [8008, 8080, 8000]
hs, hp = bind(cands, None)
ss, sp = bind(cands + [8443], hp)
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", hp), H, bind_and_activate=False)
srv.socket.close(); srv.socket = hs
threading.Thread(target=srv.serve_forever, daemon=True).start()
def banner():
    while True:
        c, _ = ss.accept()
        try:
            c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"); time.sleep(0.5)
        except OSError:
            pass
        c.close()
threading.Thread(target=banner, daemon=True).start()
open(sys.argv[1] + ".tmp", "w").write("%d %d\n" % (hp, sp))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
EOF
python3 "$T/listen.py" "$T/ports" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$T/ports" ] && break; sleep 0.05; done
read -r HP SP < "$T/ports" || { echo "FAIL: listeners did not start" >&2; exit 1; }
# A port nobody listens on: bound and closed again.
CP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 50 nmap -n -Pn -sT -sV --version-light -p "$HP,$SP,$CP" 127.0.0.1 -oX "$T/nmap.xml" >/dev/null 2>"$T/nmap.err" ||
	fail "nmap: $(cat "$T/nmap.err")"
run_rc "$PORTDEX" --json import-nmap "$T/nmap.xml"
expect_eq "nmap: mismatch exits 1" 1 "$RC"
expect_eq "nmap: open ports" "$(printf '%s\n' "$HP" "$SP" | sort -n | tr '\n' ' ')" "$(jqo '[.hosts[0].ports[].port] | sort | map(tostring) | join(" ") + " "')"
expect_eq "nmap: http port" "http match" "$(jqo --argjson p "$HP" '.hosts[0].ports[] | select(.port == $p) | .service.name + " " + .portdex.verdict')"
expect_eq "nmap: ssh banner port" "ssh OpenSSH mismatch" "$(jqo --argjson p "$SP" '.hosts[0].ports[] | select(.port == $p) | .service.name + " " + .service.product + " " + .portdex.verdict')"
expect_eq "nmap: args kept" "nmap" "$(jqo '.run.scanner')"
run_rc "$PORTDEX" import-nmap "$T/nmap.xml"
expect_match "nmap text: ssh flagged" "$SP/tcp +open +ssh OpenSSH.*MISMATCH" "$OUT"
run_rc "$PORTDEX" annotate "$T/nmap.xml"
expect_match "annotate nmap's own XML: ssh flagged" "$SP/tcp +open +ssh OpenSSH.*MISMATCH" "$OUT"
expect_match "annotate nmap's own XML: http port" "$HP/tcp +open +http" "$OUT"

# ---- scan -oX: ndiff reads it, and so does import-nmap -----------------
# Two listener processes on kernel-chosen loopback ports (60 s at most).
listener() {
	python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8)
open(sys.argv[1]+".tmp","w").write("%d\n" % s.getsockname()[1])
import os; os.rename(sys.argv[1]+".tmp", sys.argv[1]); time.sleep(60)' "$1" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$1" ] && return; sleep 0.05; done
	echo "FAIL: listener did not start" >&2; exit 1
}
listener "$T/l1"; L1PID=${pids[-1]}
listener "$T/l2"; L2PID=${pids[-1]}
read -r L1 < "$T/l1"; read -r L2 < "$T/l2"
run_rc "$PORTDEX" scan 127.0.0.1 -p "$L1,$L2,$CP,22" -oX "$T/a.xml"
expect_eq "scan -oX: exit" 0 "$RC"
expect_match "scan -oX: text output still printed" "$L1/tcp +open" "$OUT"
kill "$L2PID"; wait "$L2PID" 2>/dev/null
run_rc "$PORTDEX" scan -p "$L1,$L2,$CP,22" 127.0.0.1 --xml "$T/b.xml"
expect_eq "scan --xml: exit" 0 "$RC"
run_rc ndiff "$T/a.xml" "$T/a.xml"
expect_eq "ndiff: a report equals itself" 0 "$RC"
run_rc ndiff "$T/a.xml" "$T/b.xml"
expect_eq "ndiff: the reports differ" 1 "$RC"
expect_match "ndiff: the gone listener" "^-$L2/tcp +open" "$OUT"
expect_nomatch "ndiff: the other listener unchanged" "^[-+]$L1/tcp" "$OUT"
expect_match "ndiff: closed ports counted" "Not shown: 2 closed ports" "$OUT"
run_rc ndiff --xml "$T/a.xml" "$T/b.xml"
expect_match "ndiff --xml: a port diff" "<port [^>]*portid=\"$L2\"" "$OUT"
run_rc "$PORTDEX" --json import-nmap "$T/a.xml"
expect_eq "import of -oX: exit" 0 "$RC"
expect_eq "import of -oX: open ports" "$(printf '%s\n' "$L1" "$L2" | sort -n | tr '\n' ' ')" "$(jqo '[.hosts[0].ports[].port | tostring] | join(" ") + " "')"
expect_eq "import of -oX: scanner" "portdex" "$(jqo '.run.scanner')"
run_rc "$PORTDEX" --json import-nmap --all "$T/b.xml"
expect_eq "import -a of -oX: every port listed" 1 "$(jqo '.hosts[0].ports | length')"
run_rc "$PORTDEX" scan -a -p "$L1,$CP" 127.0.0.1 -oX - 
expect_eq "scan -a -oX -: exit" 0 "$RC"
expect_eq "scan -a -oX -: both ports on stdout" "$(printf '%s closed\n%s open\n' "$CP" "$L1" | sort -n | tr '\n' ' ' | sed 's/ $//')" "$(printf '%s' "$OUT" | python3 -c '
import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read())
print(" ".join("%s %s" % (p.get("portid"), p.find("state").get("state")) for p in sorted(r.iter("port"), key=lambda p: int(p.get("portid")))))')"
run_rc "$PORTDEX" scan -p "$L1" 127.0.0.1 --format csv
expect_eq "scan csv" "port,proto,state,service,status,risk|$L1,tcp,open," "$(printf '%s' "$OUT" | tr '\n' '|' | cut -d, -f1-9)"
run_rc "$PORTDEX" scan -p "$L1" 127.0.0.1 -oX "$T/nodir/x.xml"
expect_eq "scan -oX to a missing directory: exit" 2 "$RC"
expect_match "scan -oX: the file named" "nodir/x.xml" "$ERR"
run_rc "$PORTDEX" scan -p "$L1" 127.0.0.1 -oN "$T/n.txt"
expect_eq "scan -oN: refused" 2 "$RC"

finish
