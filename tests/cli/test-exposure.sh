#!/bin/bash
# test-exposure.sh - firewall verdicts against real packets.  A server
# namespace (listeners, an nftables ruleset), a client namespace joined to
# it by a veth pair, and a third namespace behind the server for DNAT.
# For each ruleset, `portdex ls --netns SERVER --json` gives a verdict for
# every listener (IPv6 and, for the dual-stack "::" sockets, IPv4) and
# every published port; the client then connects (TCP) or sends and waits
# for the echo (UDP) and the two must agree: open -> answered, filtered ->
# not, restricted -> answered only when the client's address is among the
# sources named, unknown -> a rule named (not compared).  Each ruleset also
# names verdicts it must produce, so a portdex that says nothing fails.
# Needs root (namespaces), ip, nft, iptables, python3.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root to create network namespaces" >&2; exit 77
fi
for c in ip nft iptables ip6tables python3; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not installed" >&2; exit 77; }
done
S=pdxS$$ C=pdxC$$ D=pdxD$$
cleanup() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	[ -n "${DSRV:-}" ] && kill "$DSRV" 2>/dev/null
	ip netns del "$S" 2>/dev/null; ip netns del "$C" 2>/dev/null
	ip netns del "$D" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
[ -n "${PDX_KEEP:-}" ] && trap - EXIT
ip netns add "$S" && ip netns add "$C" && ip netns add "$D" ||
	{ echo "SKIP: cannot create network namespaces here" >&2; exit 77; }
ns() { ip netns exec "$1" "${@:2}"; }
ip link add "vs$$" netns "$S" type veth peer name "vc$$" netns "$C" || exit 1
ip link add "vd$$" netns "$S" type veth peer name "ve$$" netns "$D" || exit 1
ns "$S" ip addr add 10.231.0.1/24 dev "vs$$"
ns "$S" ip addr add fd31::1/64 dev "vs$$" nodad
ns "$S" ip addr add 10.232.0.1/24 dev "vd$$"
ns "$C" ip addr add 10.231.0.2/24 dev "vc$$"
ns "$C" ip addr add fd31::2/64 dev "vc$$" nodad
ns "$D" ip addr add 10.232.0.2/24 dev "ve$$"
for n in "$S" "$C" "$D"; do ns "$n" ip link set lo up; done
ns "$S" ip link set "vs$$" up; ns "$S" ip link set "vd$$" up
ns "$C" ip link set "vc$$" up; ns "$D" ip link set "ve$$" up
ns "$D" ip route add default via 10.232.0.1
ns "$S" sysctl -qw net.ipv4.ip_forward=1
build_registry	# for the cards

# listeners: dual-stack "::" sockets (TCP held in the backlog; UDP echoes)
cat > "$T/server.py" <<'EOF'
import socket, select, sys, time
socks, held = [], []
for spec in sys.argv[1:]:
    proto, port = spec.split('/')
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::', int(port)))
    held.append(s)
    if proto == 'tcp':
        s.listen(128)
    else:
        socks.append(s)
print('READY', flush=True)
end = time.time() + 120
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 1)
    for s in r:
        data, addr = s.recvfrom(512)
        s.sendto(data, addr)
EOF
ns "$S" python3 "$T/server.py" tcp/22 tcp/80 tcp/443 tcp/5432 tcp/9090 \
	tcp/9091 tcp/445 udp/53 udp/5353 > "$T/srv.out" 2>&1 & SRV=$!
ns "$D" python3 "$T/server.py" tcp/80 tcp/81 tcp/5432 > "$T/dsrv.out" 2>&1 & DSRV=$!
for _ in $(seq 50); do
	grep -q READY "$T/srv.out" && grep -q READY "$T/dsrv.out" && break
	sleep 0.1
done
grep -q READY "$T/srv.out" || { echo "FAIL: listeners: $(cat "$T/srv.out")" >&2; exit 1; }

# The checker: portdex's JSON (file), the ruleset's required verdicts
# ("tcp/22/ipv4=open ..."; pub/8080=open for published ports); probes
# every verdict's port from the client namespace in parallel.
cat > "$T/check.py" <<'EOF'
import ipaddress, json, re, socket, sys, threading
doc = json.load(open(sys.argv[1]))
want = dict(a.split('=') for a in sys.argv[2:])
CLIENT = {'ipv4': ipaddress.ip_address('10.231.0.2'), 'ipv6': ipaddress.ip_address('fd31::2')}
SERVER = {'ipv4': '10.231.0.1', 'ipv6': 'fd31::1'}
cases = []   # (key, family, proto, port, verdict object)
for s in doc['sockets']:
    if s['local']['address'] != '::' or s.get('reach') is None:
        continue
    key = '%s/%d' % (s['proto'], s['local']['port'])
    cases.append((key + '/ipv6', 'ipv6', s['proto'], s['local']['port'], s['reach']))
    if s['reach'].get('ipv4'):
        cases.append((key + '/ipv4', 'ipv4', s['proto'], s['local']['port'], s['reach']['ipv4']))
for p in doc['published']:
    cases.append(('pub/%d' % p['port'], 'ipv4', p['transport'], p['port'], p['reach']))
got = {}
def probe(i, fam, proto, port):
    af = socket.AF_INET if fam == 'ipv4' else socket.AF_INET6
    s = socket.socket(af, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.settimeout(0.7)
    try:
        if proto == 'tcp':
            s.connect((SERVER[fam], port)); got[i] = True
        else:
            s.sendto(b'ping', (SERVER[fam], port)); got[i] = s.recv(64) == b'ping'
    except OSError:
        got[i] = False
    s.close()
ts = [threading.Thread(target=probe, args=(i, c[1], c[2], c[3])) for i, c in enumerate(cases)]
[t.start() for t in ts]; [t.join() for t in ts]
def sources_hold(text, fam):
    for tok in re.findall(r'[0-9a-f:.]+(?:/\d+)?', text or ''):
        try:
            if CLIENT[fam] in ipaddress.ip_network(tok, strict=False):
                return True
        except ValueError:
            pass
    return False
bad = 0; checked = 0; seen = {}
for i, (key, fam, proto, port, v) in enumerate(cases):
    verdict = v['verdict']; seen[key] = verdict
    if verdict == 'unknown':
        if not re.search(r'handle \d+', v.get('rule') or '') and \
                'legacy iptables tables' not in (v.get('detail') or ''):
            print('FAIL %s: unknown without a rule: %s' % (key, v)); bad += 1
        continue
    if verdict == 'open':
        expect = not (v.get('detail') and sources_hold(v['detail'], fam))
    elif verdict == 'filtered':
        expect = False
    elif verdict == 'restricted':
        expect = sources_hold(v.get('detail'), fam)
    else:
        print('FAIL %s: verdict %s' % (key, verdict)); bad += 1; continue
    checked += 1
    if got[i] != expect:
        print('FAIL %s: portdex says %s (%s) but the client %s' % (key, verdict,
              v.get('rule'), 'got through' if got[i] else 'did not'))
        bad += 1
for k, w in want.items():
    if seen.get(k) != w:
        print('FAIL %s: expected verdict %s, portdex said %s' % (k, w, seen.get(k))); bad += 1
print('checked %d verdicts against packets, %d failures' % (checked, bad))
sys.exit(1 if bad or checked == 0 else 0)
EOF

# ruleset NAME [REQUIRED...]: portdex's verdicts vs the client's packets
ruleset() {
	local name=$1; shift
	run_rc "$PORTDEX" ls --netns "$S" --json -n --no-pids
	if [ "$RC" != 0 ]; then fail "$name: ls exited $RC: $ERR"; return; fi
	printf '%s' "$OUT" > "$T/ls.json"
	if out=$(ns "$C" python3 "$T/check.py" "$T/ls.json" "$@" 2>&1); then
		pass
	else
		fail "$name: $out"
	fi
}
load() { ns "$S" nft -f "$T/rules.nft" || fail "nft -f $1"; }
ICMP6='meta l4proto ipv6-icmp accept'

# 1. no rules
ns "$S" nft flush ruleset
ruleset "no rules" tcp/22/ipv4=open tcp/22/ipv6=open udp/53/ipv4=open
run_rc ns "$S" "$PORTDEX" audit --json -p 445
expect_match "audit: an open risky port is reported, with the verdict" \
	'"level": "medium", "rule": "risky-port-open", "why": "[^"]*the firewall accepts it from anywhere' \
	"$(python3 -c 'import json,sys; print(" ".join(json.dumps({"level": f["level"], "rule": f["rule"], "why": f["why"]}) for f in json.load(sys.stdin)["findings"]))' <<<"$OUT")"

# 2. policy drop with accepts
cat > "$T/rules.nft" <<EOF
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority 0; policy drop;
		iif lo accept
		ct state established,related accept
		ct state invalid drop
		$ICMP6
		tcp dport { 22, 80 } counter accept comment "ssh and web"
		udp dport 53 accept
	}
}
EOF
load 2
ruleset "policy drop" tcp/22/ipv4=open tcp/80/ipv6=open tcp/5432/ipv4=filtered \
	udp/53/ipv4=open udp/5353/ipv6=filtered
run_rc ns "$S" "$PORTDEX" show 5432/tcp
expect_match "the card says the verdict" \
	'\[::\]:5432 .*firewall: filtered by table inet filter chain input policy drop' "$OUT"
run_rc ns "$S" "$PORTDEX" audit --json -p 5432,9090
expect_match "audit: a database the firewall drops is info, naming the rule" \
	'"level": "info", "rule": "admin-all-interfaces".*firewall drops it \(table inet filter chain input policy drop\)' \
	"$(python3 -c 'import json,sys; [print(json.dumps({"level": f["level"], "rule": f["rule"], "why": f["why"]})) for f in json.load(sys.stdin)["findings"]]' <<<"$OUT")"

# 3. reject
cat > "$T/rules.nft" <<EOF
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 5432 reject
		udp dport 5353 reject
		tcp dport 9091 reject with tcp reset
	}
}
EOF
load 3
ruleset "reject" tcp/5432/ipv4=filtered udp/5353/ipv4=filtered \
	tcp/9091/ipv6=filtered tcp/22/ipv4=open

# 4. saddr allow-list
cat > "$T/rules.nft" <<EOF
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		$ICMP6
		ip saddr 10.231.0.2 tcp dport 5432 accept
		ip6 saddr fd31::/64 tcp dport 5432 accept
		ip saddr 192.0.2.0/24 tcp dport 22 accept
		ip saddr { 10.231.0.0/24, 198.51.100.7 } udp dport 53 accept
	}
}
EOF
load 4
ruleset "saddr allow-list" tcp/5432/ipv4=restricted tcp/5432/ipv6=restricted \
	tcp/22/ipv4=restricted tcp/22/ipv6=filtered udp/53/ipv4=restricted

# 5. named sets and maps
cat > "$T/rules.nft" <<EOF
flush ruleset
table inet filter {
	set web { type inet_service; elements = { 80, 443 } }
	set lan { type ipv4_addr; flags interval; elements = { 10.231.0.0/24 } }
	map ports { type inet_service : verdict; elements = { 22 : accept, 9090 : drop } }
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		$ICMP6
		tcp dport @web accept
		tcp dport vmap @ports
		ip saddr @lan udp dport 53 accept
		tcp dport vmap { 9091 : accept }
	}
}
EOF
load 5
ruleset "sets and maps" tcp/80/ipv4=open tcp/443/ipv6=open tcp/22/ipv4=open \
	tcp/9090/ipv4=filtered tcp/9091/ipv6=open udp/53/ipv4=restricted \
	udp/53/ipv6=filtered tcp/5432/ipv4=filtered

# 6. jumps and gotos
cat > "$T/rules.nft" <<EOF
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		$ICMP6
		tcp dport 22 jump ssh
		tcp dport 80 goto web
		udp dport 53 jump dns
		tcp dport 443 jump web
		tcp dport 443 accept
	}
	chain ssh { ip saddr 10.231.0.2 return; accept; }
	chain web { tcp dport 443 return; accept; }
	chain dns { counter; }
}
EOF
load 6
ruleset "jumps and gotos" tcp/22/ipv4=open tcp/22/ipv6=open tcp/80/ipv4=open \
	udp/53/ipv4=filtered tcp/443/ipv4=open tcp/5432/ipv6=filtered

# 7. iptables-nft rules
ns "$S" nft flush ruleset
ns "$S" iptables -P INPUT DROP
ns "$S" iptables -A INPUT -i lo -j ACCEPT
ns "$S" iptables -A INPUT -p tcp --dport 22 -j ACCEPT
ns "$S" iptables -A INPUT -p tcp -s 10.231.0.0/24 --dport 5432 -j ACCEPT
ns "$S" iptables -A INPUT -p udp --dport 53 -j REJECT
ns "$S" iptables -A INPUT -p udp --dport 5353 -j ACCEPT
ns "$S" ip6tables -A INPUT -p tcp --dport 80 -j DROP
ruleset "iptables" tcp/22/ipv4=open tcp/5432/ipv4=restricted \
	udp/53/ipv4=filtered udp/5353/ipv4=open tcp/80/ipv4=filtered \
	tcp/80/ipv6=filtered tcp/443/ipv6=open
ns "$S" iptables -P INPUT ACCEPT

# 8. Docker-like DNAT to a third namespace
cat > "$T/rules.nft" <<EOF
flush ruleset
table ip nat {
	chain PREROUTING { type nat hook prerouting priority dstnat; policy accept; fib daddr type local jump DOCKER; }
	chain DOCKER {
		iifname != "docker0" tcp dport 8080 dnat to 10.232.0.2:80
		iifname != "docker0" tcp dport 8082 dnat to 10.232.0.2:81
		iifname != "docker0" tcp dport 15432 dnat to 10.232.0.2:5432
	}
}
table ip filter {
	chain FORWARD {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		ip daddr 10.232.0.2 tcp dport { 80, 5432 } accept
	}
}
EOF
load 8
ruleset "docker-like DNAT" pub/8080=open pub/8082=filtered pub/15432=open \
	tcp/22/ipv4=open
run_rc ns "$S" "$PORTDEX" audit --json -p 15432
expect_match "audit: a published database is high" \
	'"level": "high", "rule": "admin-published"' \
	"$(python3 -c 'import json,sys; [print(json.dumps({"level": f["level"], "rule": f["rule"]})) for f in json.load(sys.stdin)["findings"]]' <<<"$OUT")"
run_rc "$PORTDEX" ls --netns "$S" --published -n --no-pids
expect_match "ls shows the published row" \
	'tcp +PUBLISHED +\*:8080->10\.232\.0\.2:80 +open' "$OUT"
expect_nomatch "--published shows no socket" 'LISTEN' "$OUT"
run_rc "$PORTDEX" ls --netns "$S" --reach filtered -n --no-pids
expect_match "--reach filtered keeps the filtered published port" '\*:8082->' "$OUT"
expect_nomatch "--reach filtered drops open rows" '\*:8080->|:22 ' "$OUT"
run_rc ns "$S" "$PORTDEX" show 8080
expect_match "the card says the port is published" \
	'8080/tcp is published to 10\.232\.0\.2:80 by a DNAT rule in table ip nat chain DOCKER handle [0-9]+; firewall: open' "$(tr -s ' \n' ' ' <<<"$OUT")"

# 9. NodePort-like DNAT (kube-proxy's chain of jumps)
cat > "$T/rules.nft" <<EOF
flush ruleset
table ip nat {
	chain PREROUTING { type nat hook prerouting priority dstnat; policy accept; jump KUBE-SERVICES; }
	chain KUBE-SERVICES { fib daddr type local jump KUBE-NODEPORTS; }
	chain KUBE-NODEPORTS { tcp dport 30080 jump KUBE-EXT-WEB; }
	chain KUBE-EXT-WEB { jump KUBE-SVC-WEB; }
	chain KUBE-SVC-WEB { jump KUBE-SEP-WEB; }
	chain KUBE-SEP-WEB { meta l4proto tcp dnat to 10.232.0.2:80; }
}
EOF
load 9
ruleset "nodeport-like DNAT" pub/30080=open

# 10. dual-stack with IPv6-only rules
cat > "$T/rules.nft" <<EOF
flush ruleset
table ip6 filter {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		$ICMP6
		tcp dport 22 accept
	}
}
EOF
load 10
ruleset "ipv6-only rules" tcp/22/ipv6=open tcp/5432/ipv6=filtered \
	tcp/5432/ipv4=open udp/53/ipv4=open udp/53/ipv6=filtered

# 11. a rule portdex cannot evaluate
cat > "$T/rules.nft" <<EOF
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		$ICMP6
		tcp dport 22 accept
		meta mark 0x2a accept
	}
}
EOF
load 11
ruleset "unevaluable rule" tcp/22/ipv4=open tcp/5432/ipv4=unknown
expect_match "unknown names the mark rule" \
	'"detail": "meta mark"' "$(cat "$T/ls.json")"

# the text column says the verdict
run_rc "$PORTDEX" ls --netns "$S" -n --no-pids -t
expect_match "REACH column" '\[::\]:5432 +unknown, \+ipv4' "$OUT"
run_rc "$PORTDEX" ls --reach nonsense
expect_eq "--reach rejects a word" 2 "$RC"

# 12. port ranges, a log statement, iifname "lo", meta l4proto (issue 16's
# "covered at least" beyond the rulesets above)
cat > "$T/rules.nft" <<EOF
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority 0; policy drop;
		iifname "lo" accept
		ct state established,related accept
		$ICMP6
		tcp dport 9000-9099 log prefix "pdx " accept
		tcp dport 400-450 counter drop
		meta l4proto udp accept
		tcp dport 22 accept
	}
}
EOF
load 12
ruleset "ranges, log, iifname, l4proto" tcp/9090/ipv4=open tcp/9091/ipv6=open \
	tcp/443/ipv4=filtered tcp/445/ipv6=filtered udp/53/ipv4=open \
	udp/5353/ipv6=open tcp/22/ipv4=open tcp/5432/ipv4=filtered

# 13. legacy xtables: a rule made with iptables-legacy is not read, so a
# verdict it could change is unknown, naming the legacy tables
if command -v iptables-legacy >/dev/null 2>&1; then
	ns "$S" nft flush ruleset
	ns "$S" iptables-legacy -A INPUT -p tcp --dport 22 -j DROP || fail "iptables-legacy"
	run_rc "$PORTDEX" ls --netns "$S" --json -n --no-pids
	expect_eq "legacy xtables: ls exit 0" 0 "$RC"
	expect_match "legacy xtables: a verdict is unknown, naming the legacy tables" \
		'unknown legacy iptables tables \([^)]*filter\) were not evaluated' \
		"$(python3 -c 'import json,sys
def walk(o):
    if isinstance(o, dict):
        if isinstance(o.get("reach"), dict): yield o["reach"]
        for v in o.values(): yield from walk(v)
    elif isinstance(o, list):
        for v in o: yield from walk(v)
print(" ".join("%s %s" % (r.get("verdict"), r.get("detail")) for r in walk(json.load(sys.stdin))))' <<<"$OUT" 2>&1)"
	ns "$S" iptables-legacy -F INPUT
else
	fail "iptables-legacy is not installed (Debian's iptables package has it)"
fi

ns "$S" nft flush ruleset
finish
