#!/bin/bash
# test-scan.sh - `portdex scan` against listeners this test opens: on
# 127.0.0.1 and ::1 they are found open, and in a network namespace of
# the test's own (where nothing else listens) a full sweep finds exactly
# them; a port dropped by an nftables rule there is filtered; a forced
# self-connect is never reported open; bad operands exit 2.
# Needs root, ip(8), nft(8) and jq for the namespace parts.
. "$(dirname "$0")/lib.sh"
tmp=$T
ns=pdxscan$$
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass; }

for t in jq perl; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

# Listeners: perl opens N listening sockets on ADDR with kernel-chosen
# ports, writes the ports to FILE, then lives at most 300 s.
cat > "$tmp/listen.pl" <<'EOF'
use strict; use IO::Socket::IP;
my ($addr, $n, $file) = @ARGV;
my @s;
for (1 .. $n) {
	my $l = IO::Socket::IP->new(LocalHost => $addr, LocalPort => 0,
	    Listen => 16, ReuseAddr => 1) or die "listen: $@";
	push @s, $l;
}
open(my $f, '>', "$file.tmp") or die;
print $f join("\n", sort { $a <=> $b } map { $_->sockport } @s), "\n";
close $f; rename("$file.tmp", $file);
$SIG{TERM} = sub { exit 0 };
sleep 300;
EOF

# start_listeners [PREFIX...] ADDR N FILE: runs perl (under PREFIX).
start_listeners() {
	local file=${*: -1} i
	"$@" &
	pids+=($!)
	for i in $(seq 100); do
		[ -s "$file" ] && return 0
		sleep 0.05
	done
	echo "listeners did not start"; return 1
}

open_ports() {	# json on stdin -> sorted open ports
	jq -r '.ports[] | select(.state == "open") | .port' | sort -n
}

# --- 1. host namespace: our listeners are open (v4 and v6) -------------
for addr in 127.0.0.1 ::1; do
	f="$tmp/ports-$addr"
	start_listeners perl "$tmp/listen.pl" "$addr" 5 "$f" || exit 1
	list=$(paste -sd, "$f")
	"$PORTDEX" --json scan -p "$list" "$addr" > "$tmp/out.json"
	rc=$?
	got=$(open_ports < "$tmp/out.json")
	if [ $rc -eq 0 ] && [ "$got" = "$(cat "$f")" ]; then
		ok "$addr: the 5 listeners are open"
	else
		fail "$addr: rc $rc, open '$got' expected '$(cat "$f")'"
	fi
	n=$(jq '.summary.open' < "$tmp/out.json")
	[ "$n" = 5 ] || fail "$addr: summary.open is $n"
done

# --- usage errors --------------------------------------------------------
for args in "10.0.0.0/8" "127.0.0.1-3" "127.0.0.1 127.0.0.2" \
    "-p 70000 127.0.0.1" "-p 5-1 127.0.0.1" "--rate 0 127.0.0.1" \
    "--timeout x 127.0.0.1" "no-such-host.invalid" ""; do
	# shellcheck disable=SC2086
	"$PORTDEX" scan $args > "$tmp/o" 2> "$tmp/e"
	rc=$?
	if [ $rc -eq 2 ] && [ -s "$tmp/e" ] && [ ! -s "$tmp/o" ]; then
		ok "scan $args: exit 2, $(head -1 "$tmp/e")"
	else
		fail "scan $args: rc $rc"
	fi
done

# --- default ports from a registry built here ----------------------------
csv=${PDX_SHARED:-/work/shared}/data/iana/service-names-port-numbers.csv
if "$PORTDEX" update --from "$csv" --db "$tmp/reg.db" > /dev/null 2>&1; then
	nm=/usr/share/nmap/nmap-services
	if [ -r "$nm" ]; then
		want=$(awk '$2 ~ /\/tcp$/ { n++ } END { print (n < 1000) ? n : 1000 }' "$nm")
	else
		want=1024
	fi
	got=$("$PORTDEX" --db "$tmp/reg.db" --json scan 127.0.0.1 |
	    jq '.summary.scanned')
	[ "$got" = "$want" ] && ok "default port list: $got ports" ||
	    fail "default port list: $got ports, expected $want"
	# annotations come from the registry: port 22 is ssh
	svc=$("$PORTDEX" --db "$tmp/reg.db" --json scan -a -p 22 127.0.0.1 |
	    jq -r '.ports[0].service')
	[ "$svc" = ssh ] && ok "22 annotated ssh" || fail "22 annotated '$svc'"
else
	fail "portdex update could not build a registry"
fi

# --- rate limit ----------------------------------------------------------
start=$(date +%s%N)
"$PORTDEX" scan -q --rate 500 -p 30001-30200 127.0.0.1 > /dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $ms -ge 380 ] && [ $ms -lt 5000 ]; then
	ok "--rate 500 over 200 ports took $ms ms"
else
	fail "--rate 500 over 200 ports took $ms ms"
fi

# --- progress: only on a terminal -----------------------------------------
"$PORTDEX" scan --rate 20000 -p 1-20000 127.0.0.1 > /dev/null 2> "$tmp/e"
[ ! -s "$tmp/e" ] && ok "no progress without a terminal" ||
    fail "progress written to a pipe"
if command -v script > /dev/null; then
	script -qec "$PORTDEX scan --rate 20000 -p 1-20000 127.0.0.1" \
	    /dev/null > "$tmp/tty" 2>&1 < /dev/null
	grep -q 'scanning 127.0.0.1: [0-9]*/20000 ports' "$tmp/tty" &&
	    ok "progress line on a terminal" ||
	    fail "no progress line on a terminal"
fi

# --- namespaces: exactly our listeners, filtered, self-connect -----------
if [ "$(id -u)" != 0 ] || ! command -v ip > /dev/null ||
    ! command -v nft > /dev/null; then
	fail "the namespace checks need root, ip and nft (scripts/test-packages.txt)"
	exit 1
fi
ip netns add "$ns" || { fail "ip netns add"; exit 1; }
ip netns exec "$ns" ip link set lo up

for addr in 127.0.0.1 ::1; do
	f="$tmp/ns-$addr"
	start_listeners ip netns exec "$ns" perl "$tmp/listen.pl" "$addr" 8 \
	    "$f" || exit 1
	ip netns exec "$ns" "$PORTDEX" --json scan -p- "$addr" > "$tmp/ns.json"
	got=$(open_ports < "$tmp/ns.json")
	if [ "$got" = "$(cat "$f")" ]; then
		ok "netns $addr: full sweep finds exactly the 8 listeners"
	else
		fail "netns $addr: open '$(echo $got)' expected '$(echo $(cat "$f"))'"
	fi
	read -r sc cl fi <<< "$(jq -r '.summary | "\(.scanned) \(.closed) \(.filtered)"' < "$tmp/ns.json")"
	[ "$sc" = 65535 ] && [ "$cl" = $((65535 - 8)) ] && [ "$fi" = 0 ] &&
	    ok "netns $addr: 65527 closed, 0 filtered" ||
	    fail "netns $addr: scanned $sc closed $cl filtered $fi"
done

# A DROP rule on one listener's port: filtered, the others still open.
drop=$(head -1 "$tmp/ns-127.0.0.1")
ip netns exec "$ns" nft add table inet pdxtest &&
ip netns exec "$ns" nft add chain inet pdxtest input \
    '{ type filter hook input priority 0; policy accept; }' &&
ip netns exec "$ns" nft add rule inet pdxtest input tcp dport "$drop" drop ||
    fail "nft rule"
list=$(paste -sd, "$tmp/ns-127.0.0.1")
ip netns exec "$ns" "$PORTDEX" --json scan -a --timeout 300 -p "$list" \
    127.0.0.1 > "$tmp/f.json"
st=$(jq -r --argjson p "$drop" '.ports[] | select(.port == $p) | .state' < "$tmp/f.json")
nopen=$(jq '.summary.open' < "$tmp/f.json")
retried=$(jq '.summary.retried' < "$tmp/f.json")
if [ "$st" = filtered ] && [ "$nopen" = 7 ] && [ "$retried" = 1 ]; then
	ok "dropped port $drop is filtered (after one retry), 7 open"
else
	fail "dropped port $drop: state '$st', $nopen open, $retried retried"
fi
ip netns exec "$ns" "$PORTDEX" scan -a --timeout 300 -p "$drop" 127.0.0.1 \
    > "$tmp/f.txt"
grep -Eq "^$drop/tcp +filtered" "$tmp/f.txt" &&
    grep -q '1 port scanned in .*0 open, 0 closed, 1 filtered' "$tmp/f.txt" &&
    ok "text output says filtered" || fail "text: $(cat "$tmp/f.txt")"
ip netns exec "$ns" nft flush ruleset

# Self-connects: with a two-port ephemeral range, connecting to a free
# port in it picks that very port as the source now and then.
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
ip netns exec "$ns" sysctl -q -w net.ipv4.ip_local_port_range="40000 40001"
selfc=0 opened=0
for i in $(seq 10); do
	ip netns exec "$ns" "$PORTDEX" --json scan -a -p 40000-40001 127.0.0.1 \
	    > "$tmp/s.json" || fail "self-connect scan rc"
	opened=$((opened + $(jq '.summary.open' < "$tmp/s.json")))
	selfc=$((selfc + $(jq '.summary.self_connects' < "$tmp/s.json")))
done
if [ $opened -eq 0 ] && [ $selfc -gt 0 ]; then
	ok "$selfc self-connects seen, none reported open"
else
	fail "self-connect: $opened reported open, $selfc self-connects seen"
fi

finish
