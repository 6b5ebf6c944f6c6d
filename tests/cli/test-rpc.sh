#!/bin/bash
# test-rpc.sh - `portdex rpc` against Debian's rpcbind, started here as
# root when none runs (and stopped after), with test programs registered
# by tests/rpc-register: the registrations must be exactly what
# `rpcinfo -p` lists, names as rpcinfo names them, netids/addresses/owners
# as `rpcinfo` (version 3/4) lists them, mountd on 644 flagged as
# differing from IANA's assignment, and the helper's pid behind its port.
# Then the failures: refused, not a portmapper, malformed, timeout.
. "$(dirname "$0")/lib.sh"
: "${PDX_BUILD:?}"
tmp=$T
ns=pdxrpc$$
started_rpcbind=
helper=
fake=

cleanup() {
	[ -n "$helper" ] && kill "$helper" 2>/dev/null && wait "$helper" 2>/dev/null
	[ -n "$fake" ] && kill "$fake" 2>/dev/null
	[ -n "$started_rpcbind" ] && kill "$started_rpcbind" 2>/dev/null &&
	    wait "$started_rpcbind" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass; }

for t in jq perl rpcinfo; do
	command -v $t >/dev/null || { echo "SKIP: $t missing (apt-get install rpcbind jq)"; exit 77; }
done
[ -x /usr/sbin/rpcbind ] || { echo "SKIP: rpcbind not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: starting rpcbind needs root"; exit 77; }
reg=$PDX_BUILD/tests/rpc-register
[ -x "$reg" ] || { fail "helper $reg not built"; exit 1; }

csv=${PDX_SHARED:-/work/shared}/data/iana/service-names-port-numbers.csv
"$PORTDEX" update --from "$csv" --db "$tmp/reg.db" > /dev/null 2>&1 ||
    { fail "portdex update could not build a registry"; exit 1; }
pdx() { "$PORTDEX" --db "$tmp/reg.db" "$@"; }

# --- rpcbind: use a running one, else start our own ----------------------
if rpcinfo -p 127.0.0.1 > /dev/null 2>&1; then
	echo "note: using the rpcbind already running"
else
	/usr/sbin/rpcbind -f -w &
	started_rpcbind=$!
	for i in $(seq 50); do
		rpcinfo -p 127.0.0.1 > /dev/null 2>&1 && break
		sleep 0.1
	done
	rpcinfo -p 127.0.0.1 > /dev/null 2>&1 ||
	    { fail "rpcbind did not start"; exit 1; }
fi

# --- register: mountd v3 and status v1 on ports we pick, mountd v1 on 644 --
start_helper() {
	"$reg" "$@" > "$tmp/helper.out" 2>&1 &
	helper=$!
	for i in $(seq 50); do
		grep -q ready "$tmp/helper.out" && return 0
		kill -0 "$helper" 2>/dev/null || break
		sleep 0.1
	done
	wait "$helper"; echo "helper: $(cat "$tmp/helper.out")"
	helper=
	return 1
}
for try in 1 2 3 4 5; do
	p1=$((20000 + RANDOM % 10000)); p2=$((p1 + 1))
	with644=1
	start_helper 100005 3 "$p1" 100024 1 "$p2" 100005 1 644 && break
	with644=
	start_helper 100005 3 "$p1" 100024 1 "$p2" && break
done
[ -n "$helper" ] || { fail "could not register test programs"; exit 1; }
echo "registered 100005/3 on $p1, 100024/1 on $p2${with644:+, 100005/1 on 644}"

# rpcinfo -p rows: "prog vers proto port", and prog -> name where known
rpc_rows() { rpcinfo -p 127.0.0.1 | awk 'NR > 1 { print $1, $2, $3, $4 }' | sort; }
pdx_rows() { jq -r '.registrations[] | "\(.program) \(.version) \(.proto) \(.port)"' | sort; }

pdx --json rpc 127.0.0.1 > "$tmp/r.json"; rc=$?
[ $rc -eq 0 ] || fail "portdex rpc exit $rc"
if [ "$(rpc_rows)" = "$(pdx_rows < "$tmp/r.json")" ]; then
	ok "registrations equal rpcinfo -p ($(rpc_rows | wc -l) rows)"
else
	fail "registrations differ from rpcinfo -p:"
	diff <(rpc_rows) <(pdx_rows < "$tmp/r.json")
fi
rpc_rows | grep -q "^100005 3 tcp $p1\$" && rpc_rows | grep -q "^100024 1 udp $p2\$" ||
    fail "rpcinfo -p does not show the helper's programs"

# names: wherever rpcinfo names a program, portdex names it the same
# (as its name or one of its aliases)
bad=0 named=0
while read -r prog name; do
	[ "$name" = - ] && continue
	named=$((named + 1))
	jq -e --argjson p "$prog" --arg n "$name" \
	    '[.registrations[] | select(.program == $p)] | length > 0 and
	     all(.name == $n or (.aliases | index($n)))' < "$tmp/r.json" \
	    > /dev/null || { bad=1; echo "  program $prog: rpcinfo says $name"; }
done < <(rpcinfo -p 127.0.0.1 | awk 'NR > 1 { print $1, $5 }' | sort -u)
[ $bad -eq 0 ] && [ $named -ge 3 ] && ok "names agree with rpcinfo ($named programs)" ||
    fail "names disagree with rpcinfo"

# rpcbind v3/v4 rows against plain rpcinfo: netid, address, owner
rpcb_rows() { rpcinfo 127.0.0.1 | awk 'NR > 1 { print $1, $2, $3, $4, $NF }' | sort; }
pdx_rpcb() { jq -r '.rpcbind[] | "\(.program) \(.version) \(.netid) \(.address) \(.owner)"' | sort; }
if [ "$(jq .rpcbind_version < "$tmp/r.json")" != null ] &&
    [ "$(rpcb_rows)" = "$(pdx_rpcb < "$tmp/r.json")" ]; then
	ok "rpcbind list equals rpcinfo's ($(rpcb_rows | wc -l) rows, version $(jq .rpcbind_version < "$tmp/r.json"))"
else
	fail "rpcbind list differs from rpcinfo:"
	diff <(rpcb_rows) <(pdx_rpcb < "$tmp/r.json")
fi

# annotations: IANA name of the port, differs, process behind the port
if [ -n "$with644" ]; then
	iana=$(grep -m1 '^[^,]*,644,tcp,' "$csv" | cut -d, -f1)
	jq -e --arg i "$iana" '.registrations[] | select(.port == 644 and .proto == "tcp")
	    | .iana.name == $i and .iana_differs == true and .name == "mountd"' \
	    < "$tmp/r.json" > /dev/null &&
	    ok "mountd on 644: IANA says $iana, flagged as differing" ||
	    fail "644 annotation: $(jq -c '.registrations[] | select(.port == 644)' < "$tmp/r.json")"
fi
jq -e '[.registrations[] | select(.port == 111)] | length > 0 and
    all(.iana_differs == false and .iana.name == "sunrpc")' < "$tmp/r.json" \
    > /dev/null && ok "portmapper on 111 agrees with IANA (sunrpc)" ||
    fail "111 annotation"
jq -e --argjson p "$p1" --argjson pid "$helper" '[.registrations[] |
    select(.port == $p)] | length == 2 and all(.listeners | any(.pid == $pid))' \
    < "$tmp/r.json" > /dev/null && ok "pid $helper found behind port $p1" ||
    fail "listeners of $p1: $(jq -c --argjson p "$p1" '[.registrations[] | select(.port == $p) | .listeners]' < "$tmp/r.json")"
jq -e --argjson p "$p1" '[.registrations[] | select(.port == $p)] |
    all(.owner == "superuser" and (.risk | type == "string"))' < "$tmp/r.json" \
    > /dev/null && ok "owner superuser and a risk level on $p1" ||
    fail "owner/risk of $p1"

# text: rpcinfo -p's columns plus the annotations
pdx rpc 127.0.0.1 > "$tmp/r.txt"
grep -Eq "^ +100005 +3 +tcp +$p1  mountd " "$tmp/r.txt" &&
    grep -q 'program vers proto   port  service' "$tmp/r.txt" &&
    ok "text output" || { fail "text output"; cat "$tmp/r.txt"; }

# UDP gives the same table
pdx --json rpc --udp 127.0.0.1 > "$tmp/u.json" &&
    [ "$(jq -r .transport < "$tmp/u.json")" = udp ] &&
    [ "$(rpc_rows)" = "$(pdx_rows < "$tmp/u.json")" ] &&
    ok "over udp: the same registrations" || fail "over udp"

# Unregistered: gone from both
kill "$helper"; wait "$helper"; helper=
if [ "$(rpc_rows)" = "$(pdx --json rpc 127.0.0.1 | pdx_rows)" ] &&
    ! rpc_rows | grep -q "^100005 3 tcp $p1\$"; then
	ok "after unregistering, still equal to rpcinfo -p"
else
	fail "after unregistering"
fi

# --- failures: each a clear message and exit 2 -------------------------
expect2() {	# expect2 PATTERN COMMAND...
	local pat=$1; shift
	"$@" > "$tmp/o" 2> "$tmp/e"; local rc=$?
	if [ $rc -eq 2 ] && grep -q "$pat" "$tmp/e" && [ ! -s "$tmp/o" ]; then
		ok "$(head -1 "$tmp/e")"
	else
		fail "rc $rc for '$*': $(cat "$tmp/e")"
	fi
}
ip netns add "$ns" && ip netns exec "$ns" ip link set lo up ||
    { fail "netns"; exit 1; }
# nothing listens in a fresh namespace
expect2 'connection refused' ip netns exec "$ns" "$PORTDEX" rpc 127.0.0.1
# something that is not a portmapper: accepts and closes
cat > "$tmp/fake.pl" <<'EOF'
use strict; use IO::Socket::INET;
my ($mode, $file) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 5, ReuseAddr => 1) or die;
open(my $f, '>', $file) or die; print $f $s->sockport, "\n"; close $f;
$SIG{ALRM} = sub { exit 0 }; alarm 60;
while (my $c = $s->accept) {
	my $buf = ''; sysread($c, $buf, 4096);
	if ($mode eq 'malformed' && length($buf) >= 8) {
		# a proper accepted reply whose body stops mid-entry
		my $msg = substr($buf, 4, 4) . pack('N*', 1, 0, 0, 0, 0, 1, 100000);
		syswrite($c, pack('N', 0x80000000 | length($msg)) . $msg);
		sleep 1;
	}
	close $c;
}
EOF
for mode in close malformed; do
	rm -f "$tmp/port"
	perl "$tmp/fake.pl" "$mode" "$tmp/port" & fake=$!
	for i in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	if [ $mode = close ]; then
		expect2 'not a portmapper' "$PORTDEX" rpc --tcp --port "$(cat "$tmp/port")" 127.0.0.1
	else
		expect2 'malformed reply' "$PORTDEX" rpc --tcp --port "$(cat "$tmp/port")" 127.0.0.1
	fi
	kill $fake; wait $fake 2>/dev/null; fake=
done
# a portmapper port that drops everything: a timeout, tcp then udp
ip netns exec "$ns" nft add table inet pdxtest &&
ip netns exec "$ns" nft add chain inet pdxtest input \
    '{ type filter hook input priority 0; policy accept; }' &&
ip netns exec "$ns" nft add rule inet pdxtest input th dport 111 drop ||
    fail "nft rule"
start=$(date +%s%N)
expect2 'in time' ip netns exec "$ns" "$PORTDEX" rpc --timeout 400 127.0.0.1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
# two 400 ms timeouts and the process around them; valgrind's start and
# exit (scripts/valgrind-cli.sh) take seconds of their own
lim=3000
[ "${PDX_VALGRIND:-0}" = 1 ] && lim=15000
[ $ms -ge 700 ] && [ $ms -lt $lim ] && ok "timed out after $ms ms (tcp + udp)" ||
    fail "timeout took $ms ms"
expect2 'out of range' "$PORTDEX" rpc --port 0
expect2 'usage' "$PORTDEX" rpc a b
expect2 'cannot resolve' "$PORTDEX" rpc no-such-host.invalid

finish
