#!/bin/bash
# test-rpc-csv.sh - `portdex rpc --format csv` against its --json of the
# same query (csv-compare.py: a row per registration, docs/json.md), over
# TCP and UDP, with rpcbind started here in namespaces of its own: the
# test runs itself again under unshare (network, mount, pid), mounts a
# tmpfs on /run for rpcbind's socket and lock, brings up lo, starts
# rpcbind and registers programs with tests/rpc-register.  The CSV rows
# must be rpcinfo -p's rows, with the helper's pid behind its port; after
# the helper unregisters, its rows are gone.  When this script ends, the
# namespace's first process ends and the kernel stops rpcbind and the
# helper with it; nothing of this is seen outside.  At most 60 s.
if [ -z "${PDX_RPC_CSV_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: the namespaces and rpcbind need root" >&2; exit 77; }
	for t in unshare rpcinfo ip python3 timeout; do
		command -v $t >/dev/null || { echo "SKIP: $t is not installed (util-linux, rpcbind, iproute2, python3)" >&2; exit 77; }
	done
	[ -x /usr/sbin/rpcbind ] || { echo "SKIP: /usr/sbin/rpcbind is not installed (rpcbind)" >&2; exit 77; }
	unshare --net --mount --pid --fork --kill-child --mount-proc true 2>/dev/null ||
	    { echo "SKIP: cannot make network, mount and pid namespaces here (unshare failed)" >&2; exit 77; }
	PDX_RPC_CSV_INNER=1 exec timeout -k 5 60 unshare --net --mount \
	    --pid --fork --kill-child --mount-proc bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
: "${PDX_BUILD:?}"
CMP=$PDX_SRCDIR/tests/cli/csv-compare.py
REG=$PDX_BUILD/tests/rpc-register
[ -x "$REG" ] || { fail "helper $REG is not built"; finish; exit 1; }
rb=
helper=
cleanup() {
	[ -n "$helper" ] && kill "$helper" 2>/dev/null
	[ -n "$rb" ] && kill "$rb" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# /run is this namespace's own from here on; the host's is not touched.
mount -t tmpfs -o size=1m,mode=755 pdx-rpc-csv /run ||
    { fail "mounting a private /run"; finish; exit 1; }
ip link set lo up || { fail "ip link set lo up"; finish; exit 1; }
build_registry

/usr/sbin/rpcbind -f > "$T/rpcbind.log" 2>&1 &
rb=$!
for _ in $(seq 50); do rpcinfo -p 127.0.0.1 > /dev/null 2>&1 && break; sleep 0.1; done
rpcinfo -p 127.0.0.1 > /dev/null 2>&1 ||
    { fail "rpcbind did not start: $(cat "$T/rpcbind.log")"; finish; exit 1; }

# mountd v3 and status v1 on ports of this namespace, mountd v1 on 644
"$REG" 100005 3 20001 100024 1 20002 100005 1 644 > "$T/helper.out" 2>&1 &
helper=$!
for _ in $(seq 50); do grep -q ready "$T/helper.out" && break; sleep 0.1; done
grep -q ready "$T/helper.out" ||
    { fail "rpc-register did not register: $(cat "$T/helper.out")"; finish; exit 1; }

# same NAME -- ARGS: rpc's --format csv against its --json
same() {
	local name=$1 out
	shift 2
	"$PORTDEX" rpc "$@" --format csv > "$T/out.csv" 2> "$T/csv.err"
	expect_eq "$name: csv exit ($(head -c 300 "$T/csv.err"))" 0 "$?"
	"$PORTDEX" --json rpc "$@" > "$T/out.json" 2> /dev/null
	expect_eq "$name: json exit" 0 "$?"
	if out=$(python3 "$CMP" registrations "$T/out.csv" "$T/out.json" 2>&1); then
		pass
	else
		fail "$name: CSV and JSON differ: $out"
	fi
}
# csv_facts FILE: one python3 run over the CSV prints "row PROG VERS PROTO
# PORT" for each row, "transport T" for each row's transport, and for
# mountd v3/tcp on 20001 "mountd NAME IANA_DIFFERS PID/PROCESS..."
csv_facts() {
	python3 -c '
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1], newline="")):
    k = (r["program"], r["version"], r["proto"], r["port"])
    print("row", *k)
    print("transport", r["transport"])
    if k == ("100005", "3", "tcp", "20001"):
        print("mountd", r["name"], r["iana_differs"], " ".join("%s/%s" %
              (l["pid"], l["process"]) for l in json.loads(r["listeners"])))
' "$1" > "$T/facts" || fail "csv_facts: the CSV does not parse"
}
csv_rows() { sed -n 's/^row //p' "$T/facts" | sort; }
rpc_rows() { rpcinfo -p 127.0.0.1 | awk 'NR > 1 { print $1, $2, $3, $4 }' | sort; }

same "tcp" -- 127.0.0.1
want=$(rpc_rows)
expect_match "rpcinfo -p lists the helper's mountd" "^100005 3 tcp 20001$" "$want"
csv_facts "$T/out.csv"
expect_eq "tcp: the CSV rows are rpcinfo -p's" "$want" "$(csv_rows)"
expect_eq "tcp: every row says tcp" "tcp" "$(sed -n 's/^transport //p' "$T/facts" | sort -u)"
# the row of mountd v3/tcp: its name, IANA's differing name, the helper
expect_eq "tcp: mountd's row (name, differs from IANA, pid/process)" \
    "mountd true $helper/rpc-register" "$(sed -n 's/^mountd //p' "$T/facts")"

same "udp" -- --udp 127.0.0.1
csv_facts "$T/out.csv"
expect_eq "udp: the CSV rows are rpcinfo -p's" "$want" "$(csv_rows)"
expect_eq "udp: every row says udp" "udp" "$(sed -n 's/^transport //p' "$T/facts" | sort -u)"

# --format json is --json
expect_eq "--format json is --json" "$("$PORTDEX" --json rpc 127.0.0.1 2>&1)" \
    "$("$PORTDEX" rpc 127.0.0.1 --format json 2>&1)"

# the helper unregisters: its rows go from the CSV as from rpcinfo
kill "$helper"; wait "$helper" 2>/dev/null; helper=
same "after unregistering" -- 127.0.0.1
expect_nomatch "rpcinfo -p: mountd gone" "^100005 " "$(rpc_rows)"
csv_facts "$T/out.csv"
expect_eq "after unregistering: the CSV rows are rpcinfo -p's" "$(rpc_rows)" "$(csv_rows)"
expect_match "the portmapper's own rows stay" "^100000 2 tcp 111$" "$(csv_rows)"

# a value rpc does not take: one line naming those it does
run_rc "$PORTDEX" rpc 127.0.0.1 --format jsonl
expect_eq "--format jsonl: exit 2" 2 "$RC"
expect_eq "--format jsonl: the values rpc takes" \
    "portdex: rpc: --format takes text, json or csv, not 'jsonl'" "$ERR"
# no portmapper: an error, no CSV (rpcbind stopped)
kill "$rb"; wait "$rb" 2>/dev/null; rb=
run_rc "$PORTDEX" rpc 127.0.0.1 --format csv
expect_eq "no portmapper: exit 2" 2 "$RC"
expect_eq "no portmapper: no CSV" "" "$OUT"
expect_match "no portmapper: says so" "refused" "$ERR"
finish
