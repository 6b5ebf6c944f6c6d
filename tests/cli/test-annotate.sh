#!/usr/bin/env bash
# portdex annotate: every sample of tests/annotate/ (one per input kind,
# written from the formats' documentation) gives the ports, transports,
# roles and IANA names of its .expect file (compared on --jsonl, not on
# whitespace), and the text form leaves every input line as it was; hostile
# input (NUL bytes, invalid UTF-8, escape sequences, 1 MB lines, CRLF, no
# final newline) passes through byte for byte; --no-generic turns the
# fallback off; --json is one array; a port this test listens on is
# "listening here"; through a fifo, each line comes back annotated before
# the next is written, and a listener that appears while it runs is seen
# ("listening" read again every 2 s at most); an nmap XML report is read
# as import-nmap reads it (test-nmap-xml compares the two), a broken one
# is a clear error; the top practical use is in JSON for every port and in
# the text when it is not the service.
. "$(dirname "$0")/lib.sh"
build_registry
command -v python3 >/dev/null || { echo "SKIP: python3 is needed" >&2; exit 77; }
S=$PDX_SRCDIR/tests/annotate
CMP=$PDX_SRCDIR/tests/cli/annotate-compare.py

# 1. the corpus: SAMPLE:EXPECT
cmpargs=()
for pair in kernel.log:kernel suricata.json:suricata zeek-conn.log:zeek-conn \
    zeek-conn.json:zeek-conn-json ss.txt:ss netstat.txt:netstat lsof.txt:lsof \
    nmap.txt:nmap nmap-grepable.txt:nmap-grepable generic.txt:generic; do
	f=$S/${pair%%:*}
	e=$S/${pair##*:}.expect
	j=$T/${pair##*:}.jsonl
	"$PORTDEX" annotate --jsonl "$f" > "$j"
	expect_eq "$f: --jsonl exit status" 0 "$?"
	cmpargs+=("$f" "$e" "$j")
	# text: the input line, then "  # " and the notes when there are ports
	"$PORTDEX" annotate "$f" > "$T/text" 2>"$T/err"
	expect_eq "$f: text exit status" 0 "$?"
	expect_eq "$f: text keeps every line" "$(cat "$f")" \
	    "$(sed 's/  # .*$//' "$T/text")"
	n_ann=$(grep -c '  # ' "$T/text")
	n_exp=$(cut -d' ' -f1 "$e" | sort -u | wc -l)
	[ "$n_ann" -ge 1 ] && [ "$n_ann" -le "$n_exp" ] && pass ||
	    fail "$f: $n_ann annotated lines, expected 1..$n_exp"
done
expect_eq "every sample's ports as expected" "" "$(python3 "$CMP" "${cmpargs[@]}" 2>&1)"

# 2. what the notes say, in text and JSON
OUT=$("$PORTDEX" annotate "$S/kernel.log")
expect_match "kernel: dst 22/tcp named" '# dst 22/tcp [^;]*IANA ssh assigned, risk [a-z]+' "$(sed -n 1p <<<"$OUT")"
expect_match "kernel: 3389 carries its risk" 'dst 3389/tcp .*risk (medium|high)' "$(sed -n 3p <<<"$OUT")"
expect_nomatch "kernel: ICMP line untouched" '  # ' "$(sed -n 5p <<<"$OUT")"
"$PORTDEX" --json annotate "$S/nmap.txt" > "$T/nmap.json"
expect_eq "--json: exit" 0 "$?"
expect_eq "json details" "ss 3: ss
ss 3 span: 22
ss 7: postgresql True
nmap array: 11
nmap 10: 3306 mysql" "$(python3 - "$T/ss.jsonl" "$T/nmap.json" <<'EOF'
import json, sys
ss = [json.loads(l) for l in open(sys.argv[1])]
print("ss 3:", ss[2]["format"])
a = ss[2]["annotations"][0]
print("ss 3 span:", ss[2]["line"][a["offset"]:a["offset"] + a["length"]])
a = ss[6]["annotations"][0]
print("ss 7:", a["iana_name"], a["risk"] in ("medium", "high"))
nm = json.load(open(sys.argv[2]))
print("nmap array:", len(nm))
a = nm[9]["annotations"][0]
print("nmap 10:", a["port"], a["iana_name"])
EOF
)"

# the top practical use: in JSON for every port; in the text as ", use X"
# exactly when it is not the service already named (and some ports have one)
printf 'port %s\n' 22 111 2049 3000 5432 6443 8443 9200 10250 11211 27017 > "$T/uses.txt"
"$PORTDEX" annotate --no-listeners --jsonl "$T/uses.txt" > "$T/uses.jsonl"
"$PORTDEX" annotate --no-listeners "$T/uses.txt" > "$T/uses.out"
expect_eq "use: named for every port, in the text when it differs" "11 ports with a use; text agrees; differs somewhere" \
    "$(python3 - "$T/uses.jsonl" "$T/uses.out" <<'EOF2'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
text = open(sys.argv[2]).read().splitlines()
n = sum(1 for o in objs for a in o["annotations"] if isinstance(a.get("use"), str) and a["use"])
ok, differs = True, False
for o, t in zip(objs, text):
    a = o["annotations"][0]
    shown = (", use " + a["use"]) in t
    if a["use"] != a["service"]:
        differs = True
    ok = ok and shown == (a["use"] != a["service"])
print("%d ports with a use; text %s; %s" % (n, "agrees" if ok and len(text) == len(objs) else "disagrees",
      "differs somewhere" if differs else "never differs"))
EOF2
)"
# 3. --no-generic: the fallback's lines pass through; known formats stay
"$PORTDEX" annotate --no-generic "$S/generic.txt" > "$T/nogen"
cmp -s "$S/generic.txt" "$T/nogen" && pass || fail "--no-generic: generic.txt changed"
OUT=$("$PORTDEX" annotate --no-generic "$S/kernel.log")
expect_match "--no-generic: kernel lines still annotated" 'dst 22/tcp' "$OUT"

# 4. hostile input passes through byte for byte
python3 - "$T/hostile" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"nul\x00bytes\x00inside\n")
    f.write(b"invalid utf-8 \xff\xfe\xc3\x28 \xed\xa0\x80\n")
    f.write(b"escapes \x1b[31mred\x1b[0m \x1b]0;title\x07 \x9b2J\n")
    f.write(b"A" * (1 << 20) + b"\n")
    f.write(b"B" * 70000 + b" IN=eth0 PROTO=TCP SPT=1 DPT=22 " + b"C" * (1 << 20) + b"\n")
    f.write(b"crlf line\r\n")
    f.write(b"\n\n\r\n")
    f.write(b"no final newline")
EOF
"$PORTDEX" annotate "$T/hostile" > "$T/hostile.out" 2>"$T/err"
RC=$?
expect_eq "hostile: exit" 0 "$RC"
cmp -s "$T/hostile" "$T/hostile.out" && pass || fail "hostile: output differs from input ($(cmp "$T/hostile" "$T/hostile.out" 2>&1 | head -1))"
cat "$T/hostile" | "$PORTDEX" annotate > "$T/hostile.out2"
cmp -s "$T/hostile" "$T/hostile.out2" && pass || fail "hostile from a pipe: output differs"
"$PORTDEX" annotate --jsonl "$T/hostile" > "$T/hostile.jsonl"
expect_eq "hostile: jsonl rebuilds the bytes" ok "$(python3 - "$T/hostile" "$T/hostile.jsonl" <<'EOF'
import base64, json, sys
want = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n") + b"\n"
got = b""
for l in open(sys.argv[2], encoding="ascii"):
    o = json.loads(l)
    got += base64.b64decode(o["line_base64"]) if "line_base64" in o else o["line"].encode()
    got += b"" if o.get("continued") else b"\n"
print("ok" if got == want else "differs: %d vs %d bytes" % (len(got), len(want)))
EOF
)"
# an annotated line with escapes: the line as it was, a clean note after it
printf 'x \033]0;t\007 IN=eth0 OUT= PROTO=TCP \033[2J SPT=40000 DPT=22 \033[0m\n' > "$T/esc"
"$PORTDEX" annotate "$T/esc" > "$T/esc.out"
head -c $(($(wc -c < "$T/esc") - 1)) "$T/esc.out" | cmp -s - <(head -c $(($(wc -c < "$T/esc") - 1)) "$T/esc") &&
    pass || fail "escapes: the line changed"
note=$(tail -c +"$(wc -c < "$T/esc")" "$T/esc.out")
expect_match "escapes: a note for 22" '^  # .*dst 22/tcp ' "$note"
LC_ALL=C grep -q '[^ -~]' <<<"$note" && fail "escapes: the note has control bytes" || pass

# 5. a port this test listens on is "listening here"
python3 - "$T/port" <<'EOF' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(30)
EOF
LPID=$!
trap 'kill $LPID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
LPORT=$(cat "$T/port")
OUT=$(printf 'IN=lo OUT= SRC=127.0.0.1 DST=127.0.0.1 PROTO=TCP SPT=40000 DPT=%s\n' "$LPORT" | "$PORTDEX" annotate)
expect_match "listening: our listener on $LPORT" "dst $LPORT/tcp [^;]*listening here" "$OUT"
OUT=$(printf 'IN=lo OUT= SRC=127.0.0.1 DST=127.0.0.1 PROTO=TCP SPT=40000 DPT=%s\n' "$LPORT" | "$PORTDEX" annotate --no-listeners)
expect_nomatch "--no-listeners: no listening" "listening here" "$OUT"
kill $LPID 2>/dev/null

# 6. streaming: a line written into a fifo comes back annotated at once
mkfifo "$T/in" "$T/out"
"$PORTDEX" annotate < "$T/in" > "$T/out" 2>"$T/stream.err" &
APID=$!
exec 3>"$T/in" 4<"$T/out"
ok=0
for p in 22 443 3306; do
	printf 'IN=eth0 OUT= PROTO=TCP SPT=40001 DPT=%s\n' "$p" >&3
	if IFS= read -r -t 10 reply <&4 && [[ $reply == *"dst $p/tcp"* ]]; then
		ok=$((ok + 1))
	else
		fail "streaming: no annotated line for $p within 10 s (got '${reply:-}')"
	fi
done
expect_eq "streaming: three lines, each before the next was written" 3 "$ok"
exec 3>&-
wait "$APID"
expect_eq "streaming: exit at end of input" 0 "$?"
exec 4<&-

# 6b. streaming: the listeners are read again (every 2 s at most)
python3 - "$T/late" <<'EOF' &
import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
for _ in range(300):
    if os.path.exists(sys.argv[1] + ".go"):
        break
    time.sleep(0.1)
s.listen(1)
open(sys.argv[1] + ".on", "w").close()
time.sleep(30)
EOF
LATE=$!
trap 'kill $LPID $LATE 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/late" ] && break; sleep 0.1; done
LP=$(cat "$T/late")
mkfifo "$T/in2" "$T/out2"
"$PORTDEX" annotate < "$T/in2" > "$T/out2" 2>"$T/stream2.err" &
APID=$!
exec 5>"$T/in2" 6<"$T/out2"
printf 'IN=lo OUT= PROTO=TCP SPT=40002 DPT=%s\n' "$LP" >&5
IFS= read -r -t 10 r1 <&6 || r1=
expect_match "refresh: $LP annotated" "dst $LP/tcp" "$r1"
expect_nomatch "refresh: $LP not listening yet" "dst $LP/tcp [^;]*listening here" "$r1"
touch "$T/late.go"
for _ in $(seq 100); do [ -e "$T/late.on" ] && break; sleep 0.1; done
sleep 2.5
printf 'IN=lo OUT= PROTO=TCP SPT=40002 DPT=%s\n' "$LP" >&5
IFS= read -r -t 10 r2 <&6 || r2=
expect_match "refresh: $LP listening 2 s later" "dst $LP/tcp [^;]*listening here" "$r2"
exec 5>&-
wait "$APID"
exec 6<&-
kill $LATE 2>/dev/null

# 7. errors: nmap XML, a missing file, no registry
printf '<?xml version="1.0"?>\n<nmaprun scanner="nmap"></nmaprun>\n' > "$T/scan.xml"
run_rc "$PORTDEX" annotate "$T/scan.xml"
expect_eq "xml: read as a report, exit 0" 0 "$RC"
expect_eq "xml: import-nmap's totals" "0 hosts, 0 open ports, 0 mismatches" "$OUT"
printf '<?xml version="1.0"?>\n<nmaprun scanner="nmap"><host>\n' > "$T/cut.xml"
run_rc "$PORTDEX" annotate "$T/cut.xml"
expect_eq "broken xml: exit 2" 2 "$RC"
expect_match "broken xml: names the file and line" "^portdex: annotate: $T/cut.xml:[0-9]+: " "$ERR"
run_rc "$PORTDEX" annotate "$T/missing"
expect_eq "missing file: exit 2" 2 "$RC"
expect_match "missing file: named" "missing: No such file" "$ERR"
run_rc env PORTDEX_DB="$T/none.db" "$PORTDEX" annotate "$S/ss.txt"
expect_eq "no registry: exit 2" 2 "$RC"
expect_match "no registry: says so" "none.db" "$ERR"

finish
