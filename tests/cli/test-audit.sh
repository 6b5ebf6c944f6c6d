#!/usr/bin/env bash
# test-audit.sh - `portdex audit` against real listeners this test starts
# inside a network namespace it creates (so 0.0.0.0 touches no real
# interface and the machine's own listeners cannot disturb the exact
# checks): one listener per rule that must fire (nc on 0.0.0.0:645, Back
# Orifice's 31337/udp, telnet and redis on every interface, an executable
# copied to /tmp and deleted, a bare python3 on http-alt, ...) and the
# same services on loopback with notes that must not; accepting findings
# (--ignore, a config file); --fail-on and exit codes; --json/--jsonl;
# the baseline, --diff and --history across runs with a listener added
# and one removed; a run as nobody that must say it is incomplete and
# never "clean"; and /api/v1/audit against the CLI's document.
# Needs root (ports below 1024, namespaces, setpriv) and python3.
. "$(dirname "$0")/lib.sh"
: "${PDX_BUILD:?}"
HELPER=$PDX_BUILD/tests/audit-listener
[ -x "$HELPER" ] || { echo "FAIL: $HELPER not built" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (ports < 1024, netns)" >&2; exit 77; }
for tool in ip setpriv python3; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is needed" >&2; exit 1; }
done
build_registry
chmod 755 "$T"
export XDG_CONFIG_HOME=$T/config	# no user config file of the machine
NS=pdx-audit-$$
BIN=$(mktemp -d /var/lib/portdex-audit-test.XXXXXX)
chmod 755 "$BIN"
cp "$HELPER" "$BIN/audit-listener"
helpers=()
cleanup() {
	local p
	for p in "${helpers[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$BIN" "$T"
	rm -f /tmp/pdx-audit-deleted-$$
}
trap cleanup EXIT
ip netns add "$NS" || { echo "FAIL: ip netns add" >&2; exit 1; }
ip -n "$NS" link set lo up
inns() { ip netns exec "$NS" "$@"; }
audit() { run_rc inns "$PORTDEX" audit "$@"; }

# start NAME EXE ARGS...: runs the helper in the namespace, waits (bounded)
# for READY; sets the pid in PID_<NAME>.
start() {
	local name=$1 i
	shift
	ip netns exec "$NS" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	helpers+=($!)
	for i in $(seq 100); do
		grep -q '^READY' "$T/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^READY' "$T/$name.out" || { fail "helper $name did not start: $(cat "$T/$name.err")"; exit 1; }
	eval "PID_$name=$(awk '/^READY/ { print $2 }' "$T/$name.out")"
}
stop() {	# stop NAME: kills the helper and waits until it is gone
	local pid=$1 i
	kill "$pid"
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
	fail "helper $pid did not stop"
}
# rules PORT PROTO [accepted]: the sorted rule ids of the findings on it.
rules() {
	printf '%s' "$OUT" | python3 -c '
import json, sys
j = json.load(sys.stdin)
acc = len(sys.argv) > 3
print(",".join(sorted(f["rule"] for f in j["findings"] if f["port"] == int(sys.argv[1]) and f["proto"] == sys.argv[2] and f["accepted"] == acc)))' "$@"
}

# ---- the facts the expectations rest on, from the sources themselves ------
# (IANA's CSV and the curated knowledge, not the code under test)
iana_desc() { python3 -c '
import csv, sys
for r in csv.reader(open(sys.argv[1], newline="")):
    if len(r) < 4 or not r[1][:1].isdigit():
        continue
    lo, _, hi = r[1].partition("-")
    if int(lo) <= int(sys.argv[2]) <= int(hi or lo) and r[2] in ("", sys.argv[3]):
        print(r[3]); break' "$IANA" "$1" "$2"; }
expect_eq "IANA: 945/tcp unassigned" Unassigned "$(iana_desc 945 tcp)"
expect_match "IANA: 23/tcp is telnet" "Telnet" "$(iana_desc 23 tcp)"
USES=$(mktemp); cat "$PDX_SRCDIR"/data/uses/*.tsv > "$USES"
expect_match "curated: 31337/udp Back Orifice (documented)" "malware.Back Orifice.*documented" "$(awk -F'\t' '$1 == "31337" && $2 ~ /udp/' "$USES")"
expect_match "curated: 645 malware reported" "malware.*reported" "$(awk -F'\t' '$1 == "645" && $3 == "malware"' "$USES")"
expect_match "curated: 545 historic" "historic" "$(awk -F'\t' '$1 == "545" { print $3 }' "$USES")"

# ---- phase 1: listeners that must trigger each rule -----------------------
cp "$HELPER" /tmp/pdx-audit-deleted-$$
start nc "$BIN/audit-listener" -c nc tcp/0.0.0.0/645
start plain "$BIN/audit-listener" udp/127.0.0.1/31337 tcp/0.0.0.0/23 \
    tcp/0.0.0.0/6379 tcp/127.0.0.1/945 tcp/127.0.0.1/545 tcp/0.0.0.0/21 \
    tcp/0.0.0.0/111 tcp/127.0.0.1/5000 tcp/127.0.0.1/7001
start deleted /tmp/pdx-audit-deleted-$$ tcp/127.0.0.1/3000
rm -f /tmp/pdx-audit-deleted-$$
start py "$BIN/audit-listener" -c python3 tcp/127.0.0.1/8080
PORTS=21,23,111,545,645,945,3000,5000,6379,7001,8080,31337

audit -p $PORTS --json
expect_eq "phase 1 exit (high findings)" 1 "$RC"
expect_eq "phase 1 complete as root" True "$(json 'j["complete"]')"
expect_eq "nc on 0.0.0.0:645" "malware-reported,relay-or-shell-listener,undocumented-listener" "$(rules 645 tcp)"
expect_eq "Back Orifice 31337/udp" "malware-port,undocumented-listener" "$(rules 31337 udp)"
expect_eq "telnet on 0.0.0.0:23" "cleartext-login-exposed,undocumented-listener" "$(rules 23 tcp)"
expect_eq "redis on 0.0.0.0:6379" "admin-all-interfaces,undocumented-listener" "$(rules 6379 tcp)"
expect_eq "unassigned 945" "no-living-service,undocumented-listener" "$(rules 945 tcp)"
expect_eq "obsolete 545" "obsolete-service,undocumented-listener" "$(rules 545 tcp)"
expect_eq "ftp on 0.0.0.0:21" "cleartext-service-exposed,undocumented-listener" "$(rules 21 tcp)"
expect_eq "portmapper on 0.0.0.0:111" "rpc-exposed,undocumented-listener" "$(rules 111 tcp)"
# 5000's trojan (Socket de Troie) rests on a copy of a Nessus plugin: reported
expect_eq "reported trojan port 5000" "malware-reported,undocumented-listener" "$(rules 5000 tcp)"
expect_eq "IANA unauthorized use 7001" "iana-unauthorized-use,undocumented-listener" "$(rules 7001 tcp)"
expect_eq "deleted exe from /tmp" "deleted-executable,undocumented-listener,writable-exe-dir" "$(rules 3000 tcp)"
expect_eq "bare python3 on 8080" "interpreter-listener,undocumented-listener" "$(rules 8080 tcp)"
expect_eq "12 listeners" 12 "$(json 'j["summary"]["listeners"]')"
expect_eq "findings carry the helper's pid" "$PID_nc root nc 0.0.0.0" "$(json '" ".join(str(x) for f in j["findings"] if f["port"] == 645 and f["rule"] == "relay-or-shell-listener" for x in (f["pid"], f["user"], f["process"], f["address"]))')"
expect_eq "deleted exe path" "/tmp/pdx-audit-deleted-$$" "$(json '[f["exe"] for f in j["findings"] if f["rule"] == "deleted-executable"][0]')"
expect_eq "every finding says why and what next" 0 "$(json 'sum(1 for f in j["findings"] if len(f["why"]) < 20 or len(f["next"]) < 20)')"
expect_match "why names the malware" "Back Orifice" "$(json '[f["why"] for f in j["findings"] if f["rule"] == "malware-port"][0]')"
expect_eq "sorted most severe first" True "$(json '(lambda l: l == sorted(l, reverse=True))([{"high": 4, "medium": 3, "low": 2, "info": 1}[f["level"]] for f in j["findings"]])')"
expect_eq "summary counts match" True "$(json 'all(j["summary"][l] == sum(1 for f in j["findings"] if f["level"] == l and not f["accepted"]) for l in ("high", "medium", "low", "info"))')"
expect_eq "levels from the rule table" True "$(json 'all(f["level"] == {"relay-or-shell-listener": "high", "malware-port": "high", "deleted-executable": "high", "writable-exe-dir": "high", "cleartext-login-exposed": "high", "admin-all-interfaces": "high", "malware-reported": "low", "malware-port-shared": "medium", "no-living-service": "medium", "obsolete-service": "medium", "cleartext-service-exposed": "medium", "rpc-exposed": "medium", "interpreter-listener": "medium", "iana-unauthorized-use": "low", "undocumented-listener": "info", "risky-port-open": "medium", "admin-published": "high"}[f["rule"]] for f in j["findings"])')"
NFIND=$(json 'len(j["findings"])')
expect_eq "26 findings in all" 26 "$NFIND"

# ---- the brief file (portdex-db(5)): audit reads the registry through it ----
# Every mode says the same with it, without it, with its malware section
# damaged or cut, and with a version-1 file (stale: no warning).  Each
# run has a fresh state of its own (no baseline, no history of the runs).
BRIEF=$PORTDEX_DB.brief
cp "$BRIEF" "$T/brief.keep"
cp "$PORTDEX_DB" "$T/registry.keep"
bn=0
baudit() {
	bn=$((bn + 1))
	OUT=$(inns env PORTDEX_STATE="$T/bstate-$bn.db" "$PORTDEX" audit "$@" 2>"$T/stderr") && RC=0 || RC=$?
	# the note on a damaged brief file is counted apart (bnotes)
	grep -c '^portdex: audit: .*damaged brief file' "$T/stderr" >>"$T/bnotes" || true
	ERR=$(grep -v '^portdex: audit: .*damaged brief file' "$T/stderr")
}
# bnoted: how many runs since the last call said the brief file is damaged
bnoted() { awk '{ n += $1 } END { print n + 0 }' "$T/bnotes" 2>/dev/null; : >"$T/bnotes"; }
# snap MODES...: each mode's output, exit code and stderr, times masked
snap() {
	local m
	for m in "$@"; do
		baudit $m
		printf '== %s\n%s\n[rc %s] [stderr %s]\n' "$m" "$OUT" "$RC" "$ERR"
	done | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/TIME/g; /_age_seconds /d'
}
MODES=("-p $PORTS" "--json -p $PORTS" "--jsonl -p $PORTS" "--format prometheus")
# bfield NAME: from the brief file's header, as portdex-db(5) lays it out
bfield() { python3 - "$BRIEF" "$1" <<'PY'
import struct, sys
h = open(sys.argv[1], "rb").read(64)
version, order, nproto, schema, nnames, nbytes = struct.unpack("=6I", h[8:32])
nmal, nmbytes = struct.unpack("=2I", h[52:60])
mal = 64 + nproto * 65536 * 4 + (nnames + 1) * 4 + nbytes
lo0, hi0 = struct.unpack("=2I", open(sys.argv[1], "rb").read()[mal:mal + 8]) if nmal else (0, 0)
print({"version": version, "nmal": nmal, "mal": mal, "mnames": mal + nmal * 16,
       "hi0": hi0}[sys.argv[2]])
PY
}
# bpatch OFF U32: writes a u32 (host order) at OFF of the brief file
bpatch() { python3 -c 'import struct, sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); f.write(struct.pack("=I", int(sys.argv[3])))' "$BRIEF" "$1" "$2"; }
brestore() { cp "$T/brief.keep" "$BRIEF"; }

expect_eq "brief file: version 2" 2 "$(bfield version)"
NMAL=$(awk -F'\t' '$3 == "malware"' "$USES" | wc -l)
expect_eq "brief file: the curated malware rows" "$NMAL" "$(bfield nmal)"
: >"$T/bnotes"
snap "${MODES[@]}" >"$T/with"
expect_eq "with the brief file: not said damaged" 0 "$(bnoted)"
expect_match "with the brief file: Back Orifice" "Back Orifice" "$(cat "$T/with")"
expect_eq "with the brief file: no warning" "" "$(grep "^\[rc" "$T/with" | grep -v "stderr \]$")"
rm "$BRIEF"
snap "${MODES[@]}" >"$T/without"
expect_eq "audit: same output without the brief file" "$(cat "$T/with")" "$(cat "$T/without")"
# The brief file alone answers: a registry whose SQL pages are garbage
# (same size and header, so the brief file still names it) is never read.
brestore
python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(100); f.write(b"\xa5" * 3996)' "$PORTDEX_DB"
snap "${MODES[@]:0:3}" >"$T/nosql"
cp "$T/registry.keep" "$PORTDEX_DB"
snap "${MODES[@]:0:3}" >"$T/with3"
expect_eq "audit: no SQL with the brief file" "$(cat "$T/with3")" "$(cat "$T/nosql")"
# Damaged malware rows: the registry answers the same.
MAL=$(bfield mal)
for d in "$MAL+4 70000 port past 65535" "$MAL+0 $(bfield hi0)+1 lo above hi" \
    "$MAL+8 256 an unknown transport" "$MAL+12 99999 name past the end" \
    "$MAL+28 1 name offset inside a name" "$(( $(stat -c %s "$T/brief.keep") - 4 )) 0x41414141 last NUL"; do
	set -- $d
	brestore
	bpatch "$(( $1 ))" "$(( $2 ))"
	shift 2
	: >"$T/bnotes"
	snap "${MODES[@]}" >"$T/damaged"
	expect_eq "audit: same output, malware rows damaged: $*" "$(cat "$T/with")" "$(cat "$T/damaged")"
	expect_eq "audit: the damage said (text, json, jsonl): $*" 3 "$(bnoted)"
done
# Rows out of name order (the first row's name given to the last row).
brestore
bpatch "$(( MAL + (NMAL - 1) * 16 + 12 ))" 0
snap "${MODES[@]}" >"$T/damaged"
expect_eq "audit: same output, malware rows out of order" "$(cat "$T/with")" "$(cat "$T/damaged")"
# Cut in its malware section: the wrong length.
head -c "$(( $(bfield mnames) - 5 ))" "$T/brief.keep" >"$BRIEF"
snap "${MODES[@]}" >"$T/damaged"
expect_eq "audit: same output, malware section cut" "$(cat "$T/with")" "$(cat "$T/damaged")"
# A version-1 file (an older portdex's: no malware section) is stale.
brestore
python3 - "$BRIEF" "$MAL" <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b")
f.seek(8); f.write(struct.pack("=I", 1))
f.seek(52); f.write(bytes(12))
f.truncate(int(sys.argv[2]))
PY
: >"$T/bnotes"
snap "${MODES[@]}" >"$T/v1"
expect_eq "audit: same output with a version-1 brief file" "$(cat "$T/with")" "$(cat "$T/v1")"
expect_eq "audit: a version-1 brief file is not said damaged" 0 "$(bnoted)"
run_rc "$PORTDEX" --version
expect_match "--version: a version-1 brief file is of another format" "^brief file: not used: .*another format" "$OUT"
brestore

# --jsonl: one finding per line, the same ones.
audit -p $PORTS --jsonl
expect_eq "jsonl exit" 1 "$RC"
expect_eq "jsonl lines" "$NFIND" "$(printf '%s\n' "$OUT" | grep -c .)"
expect_eq "jsonl lines are findings" "$NFIND" "$(printf '%s\n' "$OUT" | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if "rule" in json.loads(l)))')"

# Text: level, rule, socket, process, why and next; never "clean" here.
audit -p $PORTS
expect_eq "text exit" 1 "$RC"
expect_match "text finding line" "^high +relay-or-shell-listener  0\.0\.0\.0:645/tcp  nc\[$PID_nc\] root" "$OUT"
expect_match "text next line" "next: " "$OUT"
expect_match "text summary" "26 findings among 12 listeners: 6 high, 5 medium, 3 low, 12 info" "$OUT"
# below low, one line per rule with a count; -v lists each
expect_match "info grouped" "^info +undocumented-listener +12 listeners" "$OUT"
expect_eq "no info block without -v" 0 "$(printf '%s\n' "$OUT" | grep -Ec '^info +undocumented-listener +[^ ]+:[0-9]+/')"
audit -p $PORTS -v
expect_eq "-v lists every info finding" 12 "$(printf '%s\n' "$OUT" | grep -Ec '^info +undocumented-listener +[^ ]+:[0-9]+/')"
expect_nomatch "not clean" "^clean" "$OUT"

# --fail-on, --ignore: accepted findings are shown, never dropped.
audit -p 7001 --fail-on low
expect_eq "--fail-on low catches the low finding" 1 "$RC"
audit -p 7001 --fail-on medium
expect_eq "--fail-on medium ignores it" 0 "$RC"
audit -p 7001 --fail-on info
expect_eq "--fail-on info" 1 "$RC"
audit -p 645 --json --ignore relay-or-shell-listener:645/tcp --ignore malware-reported
expect_eq "--ignore: nothing high left" 0 "$RC"
expect_eq "--ignore: accepted shown" "malware-reported,relay-or-shell-listener" "$(rules 645 tcp accepted)"
expect_eq "--ignore: still counted" 2 "$(json 'j["summary"]["accepted"]')"
expect_eq "--ignore origin" "--ignore" "$(json '[f["accepted_by"] for f in j["findings"] if f["accepted"]][0]')"
expect_eq "accepted sort last" True "$(json '[f["accepted"] for f in j["findings"]] == sorted(f["accepted"] for f in j["findings"])')"
audit -p 645 --ignore relay-or-shell-listener:646
expect_eq "--ignore on another port accepts nothing" 1 "$RC"
audit -p 645 --ignore relay-or-shell-listener:645/udp
expect_eq "--ignore on another transport accepts nothing" 1 "$RC"
audit -p 645 --fail-on medium --ignore '*:645'
expect_eq "--ignore '*:645'" 0 "$RC"
expect_match "text shows ACCEPTED" "ACCEPTED relay-or-shell-listener" "$OUT"

cat > "$T/audit.conf" <<'EOF'
# site decisions
accept malware-port:31337/udp   Back Orifice honeypot, ticket 42

accept admin-all-interfaces:6379 redis behind the firewall
EOF
audit -p 31337,6379 --json --config "$T/audit.conf"
expect_eq "config: nothing high left" 0 "$RC"
expect_eq "config reason" "Back Orifice honeypot, ticket 42" "$(json '[f["accepted_reason"] for f in j["findings"] if f["rule"] == "malware-port"][0]')"
expect_eq "config origin FILE:LINE" "$T/audit.conf:2" "$(json '[f["accepted_by"] for f in j["findings"] if f["rule"] == "malware-port"][0]')"
# The default user config is read when --config is not given.
mkdir -p "$XDG_CONFIG_HOME/portdex"
cp "$T/audit.conf" "$XDG_CONFIG_HOME/portdex/audit.conf"
audit -p 31337,6379
expect_eq "default config file" 0 "$RC"
rm "$XDG_CONFIG_HOME/portdex/audit.conf"
for bad in "allow x" "accept no-such-rule" "accept malware-port:70000" "accept malware-port:1/xyz" "accept"; do
	printf '# c\n%s\n' "$bad" > "$T/bad.conf"
	audit -p 1 --config "$T/bad.conf"
	expect_eq "bad config '$bad' exit" 2 "$RC"
	expect_match "bad config '$bad' names the line" "bad.conf:2: " "$ERR"
done
printf 'accept malware-port\0\n' > "$T/nul.conf"
audit -p 1 --config "$T/nul.conf"
expect_eq "NUL in config" 2 "$RC"
audit -p 1 --config "$T/no-such.conf"
expect_eq "missing --config" 2 "$RC"
for bad in "--fail-on severe" "--ignore nope" "--ignore malware-port:x" "-p 70000" "--diff --history" "operand" "--bogus"; do
	audit $bad
	expect_eq "usage error '$bad'" 2 "$RC"
done

# --rules: the table, the same ids and levels docs/audit.md documents.
audit --rules --json
expect_eq "--rules exit" 0 "$RC"
DOCRULES=$(sed -n 's/^### `\([a-z-]*\)` — \([a-z]*\)$/\1:\2/p' "$PDX_SRCDIR/docs/audit.md" | sort | paste -sd, -)
expect_eq "--rules match docs/audit.md" "$DOCRULES" "$(json '",".join(sorted(r["rule"] + ":" + r["level"] for r in j))')"
expect_eq "18 rules" 18 "$(json 'len(j)')"

stop "$PID_nc"; stop "$PID_plain"; stop "$PID_deleted"; stop "$PID_py"

# ---- the same services, loopback only and documented: nothing ------------
for p in 23 6379 8080 645; do "$PORTDEX" -q note $p "audit test: loopback service $p" >/dev/null; done
start quiet "$BIN/audit-listener" tcp/127.0.0.1/23 tcp/127.0.0.1/6379 tcp/127.0.0.1/8080 tcp/::1/6379
audit -p 23,6379,8080
expect_eq "loopback + notes: exit 0" 0 "$RC"
expect_match "loopback + notes: clean" "^clean: no findings among 4 listeners" "$OUT"
audit -p 23,6379,8080 --json
expect_eq "loopback + notes: no findings" 0 "$(json 'len(j["findings"])')"
expect_eq "loopback + notes: listeners seen" 4 "$(json 'j["summary"]["listeners"]')"

# ---- a run as nobody: incomplete, never clean ---------------------------
NOBODY=$T/nobody
mkdir -p "$NOBODY" && chown 65534:65534 "$NOBODY"
chmod 644 "$PORTDEX_DB"
asnobody() { run_rc inns setpriv --reuid=65534 --regid=65534 --clear-groups env PORTDEX_STATE="$NOBODY/state.db" "$PORTDEX" "$@"; }
asnobody -q note 23 "noted by nobody"
asnobody -q note 6379 "noted by nobody"
asnobody -q note 8080 "noted by nobody"
asnobody audit -p 23,6379,8080 --json
expect_eq "nobody: exit 0 (nothing at high)" 0 "$RC"
expect_eq "nobody: complete false" False "$(json 'j["complete"]')"
expect_match "nobody: says why" "permission denied" "$(json '" ".join(j["incomplete"])')"
expect_eq "nobody: no pids" 4 "$(json 'j["summary"]["unattributed"]')"
asnobody audit -p 23,6379,8080
expect_match "nobody: text says incomplete" "INCOMPLETE: " "$OUT"
expect_match "nobody: not a clean bill" "not a clean bill" "$OUT"
expect_nomatch "nobody: never clean" "^clean" "$OUT"
asnobody audit -p 23,6379,8080 --jsonl
expect_eq "nobody: --jsonl prints findings only" "" "$OUT"
expect_match "nobody: --jsonl says incomplete on stderr" "INCOMPLETE: .*permission denied" "$ERR"
asnobody audit -p 23,6379,8080 --require-complete
expect_eq "nobody: --require-complete fails" 1 "$RC"

# ---- /api/v1/audit and /metrics: the CLI's document, as the server sees it
if command -v curl >/dev/null; then
	ip netns exec "$NS" "$PORTDEX" --state "$NOBODY/state.db" serve --user nobody \
	    --expose-local --listen 127.0.0.1:0 2>"$T/serve.log" &
	helpers+=($!)
	SPID=$!
	URL=
	for _ in $(seq "${START_TRIES:-100}"); do
		URL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$T/serve.log" | head -1)
		[ -n "$URL" ] && break
		sleep 0.05
	done
	if [ -z "$URL" ]; then
		fail "serve did not start: $(cat "$T/serve.log")"
	else
		OUT=$(inns curl -s "$URL/api/v1/audit")
		APIDOC=$OUT
		# The sandboxed server cannot inspect directories outside what
		# Landlock leaves it, so the executable-location rules (which
		# fire when the build tree lives under /tmp) are compared only
		# in the CLI run.
		SEL='sorted("%s %s/%s %s" % (f["rule"], f["port"], f["proto"], f["accepted"]) for f in j["findings"] if f["rule"] not in ("writable-exe-dir", "deleted-executable"))'
		API=$(json "$SEL")
		expect_eq "api: incomplete as nobody" False "$(json 'j["complete"]')"
		expect_match "api: the server's own socket" "undocumented-listener ${URL##*:}/tcp" "$API"
		asnobody audit --json
		expect_eq "api = CLI as the same user" "$API" "$(json "$SEL")"
		METRICS=$(inns curl -s "$URL/metrics")
		expect_eq "metric per rule" 18 "$(printf '%s\n' "$METRICS" | grep -c '^portdex_audit_findings{')"
		expect_match "metric counts the server's socket" 'portdex_audit_findings\{rule="undocumented-listener",level="info"\} 1$' "$METRICS"
		# Every rule's metric is what the API counts (not a fixed 0: the
		# server's ephemeral port may be a documented trojan port, and
		# 42391-43391 is one), and some rules count 0.
		expect_eq "metrics per rule = the API's findings" ok "$(python3 -c '
import json, re, sys
doc = json.load(open(sys.argv[1]))
want = {}
for f in doc["findings"]:
    if not f["accepted"]:
        want[f["rule"]] = want.get(f["rule"], 0) + 1
got = {m.group(1): int(m.group(2)) for m in re.finditer(r"^portdex_audit_findings\{rule=\"([^\"]+)\",level=\"[a-z]+\"\} (\d+)$", open(sys.argv[2]).read(), re.M)}
bad = [r for r in got if got[r] != want.get(r, 0)] + [r for r in want if r not in got]
print("ok" if len(got) == 18 and not bad and 0 in got.values() else "differ: %s got %s want %s" % (bad, got, want))' <(printf '%s' "$APIDOC") <(printf '%s\n' "$METRICS"))"
		kill "$SPID"
		wait "$SPID" 2>/dev/null
	fi
else
	echo "note: curl not installed, /api/v1/audit not checked" >&2
fi
stop "$PID_quiet"

# ---- baseline, diff, history --------------------------------------------
BP=4001-4003
start a "$BIN/audit-listener" tcp/127.0.0.1/4001
start b "$BIN/audit-listener" tcp/127.0.0.1/4002
audit -p $BP --diff
expect_eq "--diff without a baseline" 2 "$RC"
expect_match "--diff says no baseline" "no baseline" "$ERR"
audit -p $BP --save-baseline
expect_eq "--save-baseline exit" 0 "$RC"
expect_match "--save-baseline count" "baseline saved: 2 listeners" "$OUT"
audit -p $BP --json
expect_eq "nothing new right after the baseline" "" "$(rules 4001 tcp | grep -o new-since-baseline)"
expect_eq "baseline time in the document" True "$(json 'j["baseline"]["saved"].endswith("Z")')"
audit -p $BP --diff
expect_eq "--diff, no change" 0 "$RC"
expect_match "--diff says so" "no change since the baseline" "$OUT"
sleep 1.1	# the times below must differ by at least a second
stop "$PID_b"
start c "$BIN/audit-listener" tcp/127.0.0.1/4003
audit -p $BP --diff --json
expect_eq "--diff exit with changes" 1 "$RC"
expect_eq "--diff added" "4003" "$(json '",".join(str(x["port"]) for x in j["added"])')"
expect_eq "--diff gone" "4002" "$(json '",".join(str(x["port"]) for x in j["gone"])')"
expect_eq "--diff added first seen is after the baseline" True "$(json 'j["added"][0]["first_seen"] > j["baseline"]["saved"]')"
expect_eq "--diff gone last seen" True "$(json 'j["gone"][0]["last_seen"] <= j["added"][0]["first_seen"] and j["gone"][0]["last_seen"] >= j["baseline"]["saved"]')"
audit -p $BP --diff --jsonl
expect_eq "--diff --jsonl" "added:4003 gone:4002" "$(printf '%s\n' "$OUT" | python3 -c 'import json,sys; print(" ".join(json.loads(l)["change"] + ":" + str(json.loads(l)["port"]) for l in sys.stdin))')"
audit -p $BP
expect_match "text diff finding" "new-since-baseline  127\.0\.0\.1:4003/tcp" "$(inns "$PORTDEX" audit -p $BP --fail-on medium)"
audit -p $BP --json --fail-on medium
expect_eq "new listener: medium finding, exit 1 with --fail-on medium" 1 "$RC"
expect_eq "new-since-baseline on 4003 only" "4003" "$(json '",".join(str(f["port"]) for f in j["findings"] if f["rule"] == "new-since-baseline")')"
audit -p $BP --history --json
expect_eq "--history listeners" "4001,4002,4003" "$(json '",".join(str(x["port"]) for x in sorted(j["listeners"], key=lambda x: x["port"]))')"
expect_eq "--history: 4002 gone from the latest run" "True False True" "$(json '" ".join(str(x["in_latest_run"]) for x in sorted(j["listeners"], key=lambda x: x["port"]))')"
expect_eq "--history: 4003 first seen after 4001" True "$(json '(lambda d: d[4003]["first_seen"] > d[4001]["first_seen"])({x["port"]: x for x in j["listeners"]})')"
RUNS=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from audit_runs").fetchone()[0])' "$PORTDEX_STATE")
expect_eq "--history: runs counted" "$RUNS" "$(json 'j["runs"]')"
audit -p $BP --history
expect_match "--history text" "127\.0\.0\.1:4003/tcp +audit-listener +first " "$OUT"
audit -p $BP --save-baseline
audit -p $BP --diff
expect_eq "--diff after a new baseline" 0 "$RC"
stop "$PID_a"; stop "$PID_c"

finish
