#!/bin/bash
# test-format-csv.sh - `--format csv` of every command that offers JSON
# (find, show, ls, audit, pick, why, note, state, update, annotate, watch,
# --version, rpc when a portmapper runs here) and of serve's JSON API
# (?format=csv, Accept: text/csv), parsed with python's csv module and
# compared field by field with the same command's JSON (csv-compare.py, the
# rows and flattening of docs/json.md); --format json/jsonl give what
# --json/--jsonl give; an unknown value is a one-line error naming the
# values the command takes.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 is not installed" >&2; exit 77; }
build_registry
CMP=$PDX_SRCDIR/tests/cli/csv-compare.py
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# same NAME ROWS IGNORE -- ARGS...: the command's --format csv against its
# --json (the IGNOREd columns may differ between the two runs)
same() {
	local name=$1 rows=$2 ign=$3 out
	shift 4
	"$PORTDEX" "$@" --format csv > "$T/out.csv" 2> "$T/csv.err"
	local rc1=$?
	"$PORTDEX" --json "$@" > "$T/out.json" 2> /dev/null
	local rc2=$?
	expect_eq "$name: exit status of csv and json" "$rc2" "$rc1"
	[ -s "$T/out.csv" ] || { fail "$name: no CSV ($(head -c 300 "$T/csv.err"))"; return; }
	# shellcheck disable=SC2086
	if out=$(python3 "$CMP" "$rows" "$T/out.csv" "$T/out.json" $ign 2>&1); then
		pass
	else
		fail "$name: CSV and JSON differ: $out"
	fi
}

# A loopback listener of our own, so ls, audit and why have a row that stays.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(60)' > "$T/lport" &
pids+=($!)
for _ in $(seq 50); do [ -s "$T/lport" ] && break; sleep 0.1; done
LP=$(cat "$T/lport")
[ -n "$LP" ] || { fail "the listener did not start"; finish; exit 1; }

same "find" - "" -- find ssh
same "show one port" transports "" -- show 22
same "show two ports" transports "" -- show 22 5432/tcp
same "ls" sockets "" -- ls -p "$LP" -t
same "audit" "findings,added,gone,listeners" "time" -- audit -p "$LP" -t
same "pick" suggestions "" -- pick -n 5 --near 40000
same "why" findings "" -- why -4 "$LP/tcp"
"$PORTDEX" note 8080/tcp 'dev server, "staging"' > /dev/null
"$PORTDEX" note 9090/tcp 'metrics' > /dev/null
same "note --list" - "" -- note --list
same "state check" - "" -- state check
same "update" - "timings_ms.*" -- update --from "$IANA"

# the values, quoted: the note with a comma and quotes comes back whole
OUT=$("$PORTDEX" note --list --format csv)
got=$(printf '%s' "$OUT" | python3 -c '
import csv, sys
r = list(csv.DictReader(sys.stdin))
print([x["text"] for x in r if x["port"] == "8080"][0])')
expect_eq "a quoted field comes back" 'dev server, "staging"' "$got"
expect_match "header row" '^port,|,port,' "$(printf '%s' "$OUT" | head -1)"

# annotate: every corpus file, one row per port, a line without one a row
for f in kernel.log ss.txt nmap.txt suricata.json zeek-conn.log; do
	"$PORTDEX" annotate --no-listeners --format csv "$PDX_SRCDIR/tests/annotate/$f" > "$T/out.csv"
	"$PORTDEX" annotate --no-listeners --jsonl "$PDX_SRCDIR/tests/annotate/$f" > "$T/out.json"
	if out=$(python3 "$CMP" annotate "$T/out.csv" "$T/out.json" 2>&1); then
		pass
	else
		fail "annotate $f: CSV and JSON differ: $out"
	fi
done
OUT=$(printf 'kernel: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 PROTO=TCP SPT=53 DPT=22\nno port, "here"\n' |
    "$PORTDEX" annotate --no-listeners --format csv)
expect_eq "annotate: rows (header, 2 ports, the line without one)" 4 \
    "$(printf '%s\n' "$OUT" | python3 -c 'import csv,sys; print(len(list(csv.reader(sys.stdin))))')"
expect_match "annotate: the unparsed line is a row, quoted" '^"no port, ""here""",' "$(printf '%s' "$OUT" | tail -1)"
# hostile lines: a NUL byte, invalid UTF-8, an escape sequence, quotes and
# a CR inside, a 1 MB line; the CSV still parses and agrees with --jsonl
{
	printf 'a\0b DPT=22 PROTO=TCP IN=x\n'
	printf 'bad \xff\xfe utf-8 port 443\n'
	printf '\033[31mred\033[0m 192.0.2.1:80\n'
	printf 'a "quoted",\rline 192.0.2.1:8080\n'
	head -c 1048576 /dev/zero | tr '\0' 'x'
	printf ' 192.0.2.1:25\n'
} > "$T/hostile.txt"
"$PORTDEX" annotate --no-listeners --format csv "$T/hostile.txt" > "$T/out.csv"
expect_eq "hostile: exit" 0 $?
"$PORTDEX" annotate --no-listeners --jsonl "$T/hostile.txt" > "$T/out.json"
if out=$(python3 "$CMP" annotate "$T/out.csv" "$T/out.json" 2>&1); then
	pass
else
	fail "annotate hostile lines: CSV and JSON differ: $out"
fi
# --format json and jsonl are --json and --jsonl
printf 'DPT=443 PROTO=TCP\n' > "$T/one.log"
expect_eq "annotate --format json is --json" \
    "$("$PORTDEX" annotate --no-listeners --json "$T/one.log")" \
    "$("$PORTDEX" annotate --no-listeners --format json "$T/one.log")"
expect_eq "annotate --format=jsonl is --jsonl" \
    "$("$PORTDEX" annotate --no-listeners --jsonl "$T/one.log")" \
    "$("$PORTDEX" annotate --no-listeners --format=jsonl "$T/one.log")"
expect_eq "find --format json is --json" "$("$PORTDEX" --json find ssh)" \
    "$("$PORTDEX" find ssh --format json)"

# watch: a csv and a jsonl watch see the same listener come and go
python3 -c '
import os, socket, sys, time
d = sys.argv[1]
t = time.time()
while not os.path.exists(d + "/go") and time.time() - t < 20: time.sleep(0.02)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(d + "/wport.tmp", "w").write(str(s.getsockname()[1])); os.rename(d + "/wport.tmp", d + "/wport")
time.sleep(1); s.close()' "$T" &
CPID=$!
pids+=($CPID)
"$PORTDEX" watch --format csv --interval 0.2 --count 2 --duration 20 --pid "$CPID" > "$T/w.csv" 2> "$T/w.err" &
W1=$!
"$PORTDEX" watch --format jsonl --interval 0.2 --count 2 --duration 20 --pid "$CPID" > "$T/w.json" 2>&1 &
W2=$!
pids+=($W1 $W2)
sleep 0.6
touch "$T/go"
wait "$W1"; expect_eq "watch csv: exit" 0 $?
wait "$W2"; expect_eq "watch jsonl: exit" 0 $?
expect_eq "watch: two events in jsonl" 2 "$(grep -c . "$T/w.json")"
if out=$(python3 "$CMP" stream "$T/w.csv" "$T/w.json" time inode 2>&1); then
	pass
else
	fail "watch: CSV and JSON lines differ: $out ($(cat "$T/w.err"))"
fi
expect_match "watch csv: the events" "appeared.*$(cat "$T/wport" 2>/dev/null)" "$(cat "$T/w.csv")"

# rpc, when a portmapper answers here (test-rpc starts its own)
if command -v rpcinfo >/dev/null && rpcinfo -p 127.0.0.1 >/dev/null 2>&1; then
	same "rpc" registrations "" -- rpc 127.0.0.1
else
	echo "note: no portmapper on 127.0.0.1; rpc's CSV not compared here" >&2
fi

# --version: its --json object, a header and one row
same "--version" - "" -- --version
OUT=$("$PORTDEX" --version --format csv)
expect_eq "--version csv: a header and one row" 2 \
    "$(printf '%s\n' "$OUT" | python3 -c 'import csv,sys; print(len(list(csv.reader(sys.stdin))))')"
expect_match "--version csv: the version column" '^version,registry' "$OUT"
run_rc "$PORTDEX" --version --format xml
expect_eq "--version --format xml: exit 2" 2 "$RC"
expect_match "--version: the values it takes" "text, json or csv, not 'xml'" "$ERR"

# serve's API: ?format=csv or Accept: text/csv gives the CSV of the
# command whose JSON the route serves (same columns as the CLI's CSV),
# compared field by field with the route's own JSON
chmod 755 "$T"
"$PORTDEX" -q note "$LP/tcp" 'api csv, "quoted"'
serve_on_loopback --expose-local
pids+=($SPID)
# api_same NAME ROWS IGNORE PATH CLI-ARGS...: the route's CSV against its
# JSON, its Content-Type, and its header against the CLI's --format csv
api_same() {
	local name=$1 rows=$2 ign=$3 path=$4 sep='?' out ctype
	shift 4
	case $path in *\?*) sep='&' ;; esac
	ctype=$(curl -s --max-time 30 -o "$T/api.csv" -w '%{content_type}' "$URL$path${sep}format=csv")
	curl -s --max-time 30 -o "$T/api.json" "$URL$path"
	expect_eq "api $name: Content-Type" "text/csv; charset=utf-8" "$ctype"
	[ -s "$T/api.csv" ] || { fail "api $name: no CSV"; return; }
	# shellcheck disable=SC2086
	if out=$(python3 "$CMP" "$rows" "$T/api.csv" "$T/api.json" $ign 2>&1); then
		pass
	else
		fail "api $name: CSV and JSON differ: $out"
	fi
	"$PORTDEX" "$@" --format csv > "$T/cli.csv" 2> /dev/null
	expect_eq "api $name: the CLI's columns" "$(head -1 "$T/cli.csv")" "$(head -1 "$T/api.csv")"
}
api_same "listening" sockets "" "/api/v1/listening?port=$LP" ls -p "$LP"
api_same "audit" "findings,added,gone,listeners" "time" "/api/v1/audit?port=$LP" audit -p "$LP"
api_same "search" - "" "/api/v1/search?q=ssh" find ssh
api_same "port" transports "" "/api/v1/ports/22" show 22
OUT=$(curl -s --max-time 30 "$URL/api/v1/listening?port=$LP&format=csv")
got=$(printf '%s' "$OUT" | python3 -c '
import csv, sys
print([r["note"] for r in csv.DictReader(sys.stdin)])')
expect_eq "api listening: the note, quoted, comes back" "['api csv, \"quoted\"']" "$got"
expect_match "api listening: CRLF line ends" $'\r$' "$(printf '%s' "$OUT" | head -1)"
# Accept: text/csv, and weights
ctype() { curl -s --max-time 30 -o /dev/null -w '%{content_type}' "$@"; }
expect_eq "Accept: text/csv" "text/csv; charset=utf-8" "$(ctype -H 'Accept: text/csv' "$URL/api/v1/search?q=ssh")"
expect_eq "Accept: json weighed lower" "text/csv; charset=utf-8" \
    "$(ctype -H 'Accept: application/json;q=0.5, text/csv' "$URL/api/v1/listening?port=$LP")"
expect_eq "Accept: csv weighed lower" "application/json" \
    "$(ctype -H 'Accept: text/csv;q=0.5, application/json' "$URL/api/v1/audit?port=$LP")"
expect_eq "no Accept: JSON" "application/json" "$(ctype "$URL/api/v1/search?q=ssh")"
expect_eq "format=json wins over Accept" "application/json" \
    "$(ctype -H 'Accept: text/csv' "$URL/api/v1/search?q=ssh&format=json")"
expect_eq "Accept: text/csv;q=0" "application/json" "$(ctype -H 'Accept: text/csv;q=0' "$URL/api/v1/ports/22")"
expect_eq "format=xml: 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/search?q=ssh&format=xml")"
expect_match "Vary: Accept" '^Vary: Accept' "$(curl -s -D - -o /dev/null -H 'Accept: text/csv' "$URL/api/v1/ports/22" | tr -d '\r')"
kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null
# a cached JSON card is not the CSV answer (the cache is on without
# --expose-local)
serve_on_loopback
pids+=($SPID)
curl -s -o /dev/null "$URL/api/v1/ports/443"
curl -s -o /dev/null "$URL/api/v1/ports/443"
expect_eq "cached card, then CSV" "text/csv; charset=utf-8" "$(ctype "$URL/api/v1/ports/443?format=csv")"
expect_eq "cached card, then Accept: text/csv" "text/csv; charset=utf-8" "$(ctype -H 'Accept: text/csv' "$URL/api/v1/ports/443")"
expect_eq "and JSON again" "application/json" "$(ctype "$URL/api/v1/ports/443")"
kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null

# Past 1 MiB, the rows wait for the CSV header in a temporary file in
# TMPDIR (src/output.c, doc_keep): 2,500 listeners of ls give ~1.3 MB of
# rows.  The CSV is the same as JSON's, the same as with no such directory
# (the rows stay in memory), and a full TMPDIR fails the command in one
# line, with no CSV.
"$PDX_BUILD/tests/listen-helper" -t 300 -n 2500 tcp/127.0.0.1/0 \
    > "$T/big.out" 2> "$T/big.err" &
BIG=$!
pids+=("$BIG")
for _ in $(seq 300); do grep -q '^READY' "$T/big.out" && break; sleep 0.1; done
if grep -q '^READY' "$T/big.out"; then
	mkdir -p "$T/tmp"
	export TMPDIR=$T/tmp
	same "ls, 2,500 rows through a temporary file" sockets "" -- ls -t --pid "$BIG"
	unset TMPDIR
	expect_eq "ls, 2,500 rows: CSV lines" 2501 "$(wc -l < "$T/out.csv")"
	cp "$T/out.csv" "$T/spilled.csv"
	run_rc env TMPDIR="$T/no-such-dir" "$PORTDEX" ls -t --pid "$BIG" --format csv
	expect_eq "no TMPDIR directory: exit 0" 0 "$RC"
	if [ "$(printf '%s\n' "$OUT" | cmp - "$T/spilled.csv" 2>&1)" = "" ]; then pass; else
		fail "no TMPDIR directory: the CSV differs from the one through the file"; fi
	ls -A "$T/tmp" > "$T/left"
	expect_eq "no temporary file is left behind" "" "$(cat "$T/left")"
	if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		mkdir -p "$T/full"
		unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" &&
		    TMPDIR=$1 "$2" ls -t --pid "$3" --format csv > "$4" 2> "$5"; echo $? > "$6"' \
		    sh "$T/full" "$PORTDEX" "$BIG" "$T/full.csv" "$T/full.err" "$T/full.rc"
		expect_eq "a full TMPDIR: exit 2" 2 "$(cat "$T/full.rc")"
		expect_eq "a full TMPDIR: no CSV" 0 "$(wc -c < "$T/full.csv")"
		expect_match "a full TMPDIR: said in one line" \
		    "^portdex: ls: the CSV rows could not be written to a temporary file in $T/full \\(TMPDIR\\): No space left on device\$" \
		    "$(cat "$T/full.err")"
		expect_eq "a full TMPDIR: one line" 1 "$(wc -l < "$T/full.err")"
	else
		echo "note: not root: the full-TMPDIR case (a tmpfs in a mount namespace) did not run" >&2
	fi
else
	fail "2,500 listeners did not start: $(head -c 300 "$T/big.err")"
fi
kill "$BIG" 2>/dev/null

# errors: one line naming the values
run_rc "$PORTDEX" ls --format xml
expect_eq "unknown value: exit 2" 2 "$RC"
expect_eq "unknown value: the values ls takes" \
    "portdex: ls: --format takes text, json or csv, not 'xml'" "$ERR"
run_rc "$PORTDEX" watch --format json
expect_eq "watch --format json: exit 2" 2 "$RC"
expect_match "watch: the values it takes" "text, jsonl or csv, not 'json'" "$ERR"
run_rc "$PORTDEX" find ssh --format
expect_eq "no value: exit 2" 2 "$RC"
expect_match "no value: said" "needs a value" "$ERR"
finish
