#!/usr/bin/env bash
# portdex why: against sockets this test makes on loopback and in network
# namespaces it creates - a held port (and the same port released), a
# TIME_WAIT left by a server that closed first, a "::" holder against a
# 0.0.0.0 bind (and a v6-only one that leaves IPv4 free), an SO_REUSEPORT
# group, a port in ip_local_reserved_ports and one in the ephemeral range
# (set in a namespace), a port below 1024 as nobody (and with
# ip_unprivileged_port_start lowered), holders in another namespace
# (--all-netns, --netns); a DNAT rule and a redirect rule that capture a
# port (made with nft in the namespace), which leave the bind (and exit 0)
# but are said with the rule's handle, also when asked from this namespace
# with --all-netns (the rule in another namespace, named); the DNAT check
# said to be not checked, never absent, when the ruleset cannot be read (as
# nobody); exit codes 0, 1 and 2.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 is needed" >&2; exit 77; }
if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null || ! command -v ip >/dev/null ||
    ! command -v setpriv >/dev/null || ! command -v nft >/dev/null; then
	echo "SKIP: needs root, unshare -n, ip(8), nft(8) and setpriv(1) for namespaces, rules and an unprivileged user" >&2
	exit 77
fi
NS=pdxwhy$$
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# hold [--netns NS] FAM ADDR PORT PROTO V6ONLY REUSEPORT COUNT: COUNT sockets
# bound (and listening, for tcp) for at most 60 s; sets HPID.
hold() {
	local pre=()
	if [ "$1" = --netns ]; then pre=(ip netns exec "$2"); shift 2; fi
	rm -f "$T/ready"
	"${pre[@]}" python3 - "$@" "$T/ready" <<'EOF' &
import socket, sys, time
fam, addr, port, proto, v6only, reuseport, count, ready = sys.argv[1:]
ss = []
for _ in range(int(count)):
    s = socket.socket(socket.AF_INET6 if fam == '6' else socket.AF_INET,
                      socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    if fam == '6':
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    if reuseport == '1':
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((addr, int(port)))
    if proto == 'tcp':
        s.listen(4)
    ss.append(s)
open(ready, 'w').write('ready')
time.sleep(60)
EOF
	HPID=$!
	PIDS+=("$HPID")
	for _ in $(seq 100); do [ -s "$T/ready" ] && break; sleep 0.05; done
	[ -s "$T/ready" ] || fail "holder $* did not start"
}
unhold() { kill "$HPID" 2>/dev/null; wait "$HPID" 2>/dev/null; }
# flat TEXT: the text with its line wrapping undone
flat() { printf '%s' "$1" | tr -s ' \n' ' '; }

# free_ports BASE...: for each BASE the first port from it free for tcp
# and udp on both wildcard addresses (checked here with python, not with
# portdex; one python start, the slow part of this test, for all).
free_ports() {
	python3 - "$@" <<'EOF'
import socket, sys
def free(p):
    try:
        for fam, a in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
            for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(fam, t)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((a, p)); s.close()
        return True
    except OSError:
        return False
print(*[next(p for p in range(int(b), int(b) + 500) if free(p)) for b in sys.argv[1:]])
EOF
}
read -r P_HELD P_TW P_DUAL P_GROUP P_NETNS < <(free_ports 24100 24600 25100 25600 26100)

# ---- a held port ---------------------------------------------------------
P=$P_HELD
hold 4 0.0.0.0 "$P" tcp 0 0 1
run_rc "$PORTDEX" --json why "$P/tcp"
expect_eq "held: exit 1" 1 "$RC"
expect_eq "held: verdict, errno, from, holder pid, process, blocks, effect" \
    "False EADDRINUSE bind $HPID python3 ['ipv4', 'ipv6'] blocks" \
    "$(json '" ".join(map(str, [j["would_bind"], j["errno"], j["verdict_from"], j["holders"][0]["pid"], j["holders"][0]["process"], j["holders"][0]["blocks"], [f["effect"] for f in j["findings"] if f["check"] == "held"][0]]))')"
run_rc "$PORTDEX" why "$P"
expect_eq "held text: exit 1" 1 "$RC"
expect_match "held text: verdict" "would fail now with EADDRINUSE" "$(flat "$OUT")"
expect_match "held text: the holder" "BLOCKS +tcp +held +EADDRINUSE: 1 socket holds $P/tcp: 0.0.0.0:$P \(pid $HPID python3, user root" "$(flat "$OUT")"
expect_match "held text: the way out" "portdex pick --near $P" "$(flat "$OUT")"
expect_match "held text: udp is free" "ok +udp +held +no socket holds $P/udp" "$(flat "$OUT")"
# udp alone is free: exit 0
run_rc "$PORTDEX" --json why "$P/udp"
expect_eq "held tcp, udp asked: exit 0, would bind, udp only" "0 True ['udp']" "$RC $(json '" ".join(map(str, [j["would_bind"], j["transports"]]))')"
# the way out: with a registry (a one-row one, quick to build), pick's
# first suggestions near the port, never the port itself
head -1 "$IANA" > "$T/tiny.csv"
echo 'x-test,65000,tcp,Test service,,,,,,,,' >> "$T/tiny.csv"
"$PORTDEX" --db "$T/tiny.db" update --from "$T/tiny.csv" --only >/dev/null || fail "tiny registry"
run_rc "$PORTDEX" --db "$T/tiny.db" --json why "$P/tcp"
expect_eq "way out: exit 1, 3 suggestions near, not the port" "1 3 True False portdex pick --near $P --proto tcp" \
    "$RC $(json '" ".join(map(str, [len(j["way_out"]["suggestions"]), all(abs(q - j["port"]) <= 10 for q in j["way_out"]["suggestions"]), j["port"] in j["way_out"]["suggestions"], j["way_out"]["command"]]))')"
# explanation only
run_rc "$PORTDEX" --json why --no-bind "$P/tcp"
expect_eq "no-bind: exit 1" 1 "$RC"
expect_eq "no-bind: from the explanation, no binds" "explanation 0 EADDRINUSE" \
    "$(json '" ".join(map(str, [j["verdict_from"], len(j["binds"]), j["errno"]]))')"
# options may follow the operand
run_rc "$PORTDEX" --json why "$P/tcp" --no-bind
expect_eq "option after the operand: exit 1, explanation only" "1 explanation 0 EADDRINUSE" \
    "$RC $(json '" ".join(map(str, [j["verdict_from"], len(j["binds"]), j["errno"]]))')"
unhold
run_rc "$PORTDEX" --json why "$P/tcp"
expect_eq "released: exit 0, bind works, no holder, DNAT rules read (as root), none captures it" "0 True 0 True []" \
    "$RC $(json '" ".join(map(str, [j["would_bind"], len(j["holders"]), j["dnat"]["checked"], j["dnat"]["captures"]]))')"

# ---- TIME_WAIT: the server closes first -------------------------------------
P=$P_TW
python3 - "$P" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as servers do
srv.bind(("127.0.0.1", port)); srv.listen(1)
c = socket.create_connection(("127.0.0.1", port))
a, _ = srv.accept()
a.close()            # the side that closes first keeps TIME_WAIT: port P
time.sleep(0.2)
c.close(); srv.close()
EOF
run_rc "$PORTDEX" --json why "$P/tcp"
expect_eq "time-wait: exit 1" 1 "$RC"
expect_eq "time-wait: listed, effect, plain bind fails, SO_REUSEADDR binds" \
    "1 TIME-WAIT blocks EADDRINUSE True" \
    "$(json '" ".join(map(str, [len(j["time_wait"]), j["time_wait"][0]["state"], [f["effect"] for f in j["findings"] if f["check"] == "time_wait"][0], [b["errno"] for b in j["binds"] if b["family"] == "ipv4" and b["option"] == "none"][0], [b["ok"] for b in j["binds"] if b["family"] == "ipv4" and b["option"] == "SO_REUSEADDR"][0]]))')"
run_rc "$PORTDEX" why -4 "$P/tcp"
expect_match "time-wait text" "1 connection in TIME_WAIT uses $P" "$(flat "$OUT")"
expect_match "time-wait text: SO_REUSEADDR helps" "sets SO_REUSEADDR before bind\(\) gets 0.0.0.0:$P now" "$(flat "$OUT")"

# ---- "::" holder against a 0.0.0.0 bind --------------------------------------
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	P=$P_DUAL
	hold 6 :: "$P" tcp 0 0 1
	run_rc "$PORTDEX" --json why -4 "$P/tcp"
	expect_eq "dual-stack holder: exit 1 for 0.0.0.0" 1 "$RC"
	expect_eq "dual-stack: v6only, blocks, finding" "False ['ipv4'] blocks" \
	    "$(json '" ".join(map(str, [j["holders"][0]["v6only"], j["holders"][0]["blocks"], [f["effect"] for f in j["findings"] if f["check"] == "dual_stack"][0]]))')"
	run_rc "$PORTDEX" why -4 "$P/tcp"
	expect_match "dual-stack text" "\[::\]:$P .*IPV6_V6ONLY off: it takes IPv4 too, so a bind of 0.0.0.0:$P fails" "$(flat "$OUT")"
	unhold
	# the same holder with IPV6_V6ONLY leaves IPv4 free
	hold 6 :: "$P" tcp 1 0 1
	run_rc "$PORTDEX" --json why -4 "$P/tcp"
	expect_eq "v6-only holder: exit 0 for 0.0.0.0, listed, blocks nothing for ipv4" "0 True []" \
	    "$RC $(json '" ".join(map(str, [j["holders"][0]["v6only"], j["holders"][0]["blocks"]]))')"
	run_rc "$PORTDEX" why -6 "$P/tcp"
	expect_eq "v6-only holder: exit 1 for ::" 1 "$RC"
	unhold
else
	fail "no IPv6 on loopback: the :: vs 0.0.0.0 case cannot run"
fi

# ---- an SO_REUSEPORT group -----------------------------------------------
P=$P_GROUP
hold 4 127.0.0.1 "$P" tcp 0 1 2
run_rc "$PORTDEX" --json why "$P/tcp"
expect_eq "reuseport: exit 1" 1 "$RC"
expect_eq "reuseport: group of 2, finding, SO_REUSEPORT bind works" "[2, 2] info True" \
    "$(json '" ".join(map(str, [[h["reuseport_group"] for h in j["holders"]], [f["effect"] for f in j["findings"] if f["check"] == "reuseport"][0], [b["ok"] for b in j["binds"] if b["family"] == "ipv4" and b["option"] == "SO_REUSEPORT"][0]]))')"
run_rc "$PORTDEX" why "$P/tcp"
expect_match "reuseport text" "2 sockets share 127.0.0.1:$P: an SO_REUSEPORT group" "$(flat "$OUT")"
unhold

# ---- reserved and ephemeral ports, in a namespace of this test --------------
OUT=$(unshare -n sh -c 'echo 40000 > /proc/sys/net/ipv4/ip_local_reserved_ports &&
    echo "32768 60999" > /proc/sys/net/ipv4/ip_local_port_range &&
    "$0" --json why 40000/tcp; echo "rc=$?"; "$0" --json why 40001/tcp; echo "rc=$?"' "$PORTDEX")
R=$(printf '%s' "$OUT" | python3 -c '
import json, sys
parts = sys.stdin.read().split("rc=")
a = json.loads(parts[0]); b = json.loads(parts[1].split("\n", 1)[1])
eff = lambda j, c: [f["effect"] for f in j["findings"] if f["check"] == c]
print(parts[1].split("\n")[0], parts[2].strip(), a["kernel"]["reserved"], eff(a, "reserved"), eff(a, "ephemeral"),
      b["kernel"]["reserved"], eff(b, "reserved"), eff(b, "ephemeral"), b["kernel"]["ephemeral"]["inside"])')
expect_eq "reserved 40000: exit 0, reserved, ephemeral ok; 40001: exit 0, ephemeral warning" \
    "0 0 True ['info'] ['ok'] False [] ['warning'] True" "$R"

# ---- below 1024 as nobody -------------------------------------------------
NOBODY=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
OUT=$(unshare -n sh -c '"$@" --json why 80/tcp; echo "rc=$?"' sh "${NOBODY[@]}" "$PORTDEX")
R=$(printf '%s' "$OUT" | python3 -c '
import json, sys
t = sys.stdin.read(); body, rc = t.rsplit("rc=", 1); j = json.loads(body)
print(rc.strip(), j["errno"], j["caller"]["cap_net_bind_service"], j["kernel"]["unprivileged_port_start"],
      [f["effect"] for f in j["findings"] if f["check"] == "privileged"], [b["errno"] for b in j["binds"]],
      j["dnat"]["checked"], [f["effect"] for f in j["findings"] if f["check"] == "dnat"], "CAP_NET_ADMIN" in j["dnat"]["text"])')
expect_eq "80 as nobody: exit 1, EACCES, no capability, finding, binds; DNAT not checked (no CAP_NET_ADMIN)" \
    "1 EACCES False 1024 ['blocks'] ['EACCES', 'EACCES'] False ['not_checked'] True" "$R"
OUT=$(unshare -n sh -c '"$@" why 80/tcp; echo "rc=$?"' sh "${NOBODY[@]}" "$PORTDEX")
expect_match "80 as nobody text" "EACCES: 80 is below net.ipv4.ip_unprivileged_port_start \(1024\)" "$(flat "$OUT")"
R=no
if flat "$OUT" | grep -Eq "UNCHECKED +- +dnat +not checked: the packet filter was not read: .*CAP_NET_ADMIN" &&
    ! printf '%s' "$OUT" | grep -qi "no DNAT"; then R=yes; fi
expect_eq "80 as nobody text: DNAT said unchecked with the reason, never 'no DNAT'" yes "$R"
# the same namespace with the privileged range lowered: nobody may bind 80
OUT=$(unshare -n sh -c 'echo 80 > /proc/sys/net/ipv4/ip_unprivileged_port_start && "$@" --json why 80/tcp; echo "rc=$?"' sh "${NOBODY[@]}" "$PORTDEX")
R=$(printf '%s' "$OUT" | python3 -c '
import json, sys
t = sys.stdin.read(); body, rc = t.rsplit("rc=", 1); j = json.loads(body)
print(rc.strip(), j["would_bind"], j["kernel"]["unprivileged_port_start"], [f["effect"] for f in j["findings"] if f["check"] == "privileged"])')
expect_eq "80 as nobody, ip_unprivileged_port_start 80: exit 0" "0 True 80 ['ok']" "$R"
# root in a fresh namespace: free, with the capability
OUT=$(unshare -n sh -c '"$0" --json why 80/tcp; echo "rc=$?"' "$PORTDEX")
R=$(printf '%s' "$OUT" | python3 -c '
import json, sys
t = sys.stdin.read(); body, rc = t.rsplit("rc=", 1); j = json.loads(body)
print(rc.strip(), j["would_bind"], j["caller"]["cap_net_bind_service"])')
expect_eq "80 as root in an empty namespace: exit 0" "0 True True" "$R"

# ---- other namespaces --------------------------------------------------------
ip netns add "$NS" || fail "ip netns add"
ip -n "$NS" link set lo up
P=$P_NETNS
hold --netns "$NS" 4 127.0.0.1 "$P" tcp 0 0 1
run_rc "$PORTDEX" --json why --all-netns "$P/tcp"
expect_eq "all-netns: free here (exit 0), the other namespace's holder named" "0 $NS $HPID python3 0" \
    "$RC $(json '" ".join(map(str, [[s["netns"] for s in j["other_netns"]][0], j["other_netns"][0]["pid"], j["other_netns"][0]["process"], len(j["holders"])]))')"
run_rc "$PORTDEX" why --all-netns "$P/tcp"
expect_match "all-netns text" "netns $NS.*127.0.0.1:$P +pid $HPID python3" "$OUT"
run_rc "$PORTDEX" --json why --netns "$NS" "$P/tcp"
expect_eq "netns: held there, exit 1" 1 "$RC"
expect_eq "netns: the holder, its namespace" "$HPID $NS $NS" \
    "$(json '" ".join(map(str, [j["holders"][0]["pid"], j["holders"][0]["netns"], j["netns"]]))')"
unhold

# ---- a DNAT rule and a redirect rule that capture ports, in that namespace --
ip netns exec "$NS" nft -f - <<'EOF' || fail "nft: the DNAT ruleset"
table ip nat {
	chain PREROUTING { type nat hook prerouting priority dstnat; policy accept; jump DOCKER; }
	chain DOCKER {
		iifname != "docker0" tcp dport 28080 dnat to 10.232.0.2:80
		udp dport 28090 redirect to :28091
	}
}
EOF
# handle MATCH: the handle of the rule with MATCH, as nft itself lists it
handle() { ip netns exec "$NS" nft -a list chain ip nat DOCKER | sed -n "s/.*$1.* # handle \([0-9]*\)\$/\1/p"; }
H_DNAT=$(handle 'tcp dport 28080'); H_REDIR=$(handle 'udp dport 28090')
[ -n "$H_DNAT" ] && [ -n "$H_REDIR" ] || fail "nft: no handles ('$H_DNAT', '$H_REDIR')"
run_rc "$PORTDEX" --json why --netns "$NS" 28080/tcp
expect_eq "dnat: free (exit 0) though captured" "0 True" "$RC $(json 'j["would_bind"]')"
expect_eq "dnat: checked, 3 rules, the capture's rule, destination, kind, finding" \
    "True 3 1 table ip nat chain DOCKER handle $H_DNAT 10.232.0.2 80 dnat True ['warning']" \
    "$(json '" ".join(map(str, [j["dnat"]["checked"], j["dnat"]["rules_read"], len(j["dnat"]["captures"]), j["dnat"]["captures"][0]["rule"], j["dnat"]["captures"][0]["to_address"], j["dnat"]["captures"][0]["to_port"], j["dnat"]["captures"][0]["kind"], j["dnat"]["captures"][0]["captures"], [f["effect"] for f in j["findings"] if f["check"] == "dnat"]]))')"
run_rc "$PORTDEX" why --netns "$NS" 28080/tcp
expect_eq "dnat text: exit 0" 0 "$RC"
expect_match "dnat text: said under the verdict" "would succeed now .* but traffic from the network for it is sent elsewhere by a DNAT/redirect rule" "$(flat "$OUT")"
expect_match "dnat text: the rule and the destination" \
    "WARNING +tcp +dnat +captured: tcp traffic from the network for 28080 is sent to 10\.232\.0\.2:80 by a DNAT rule \(table ip nat chain DOCKER handle $H_DNAT\)" "$(flat "$OUT")"
# the same port over udp is not captured
run_rc "$PORTDEX" --json why --netns "$NS" 28080/udp
expect_eq "dnat, udp asked: exit 0, no capture, ok" "0 [] ['ok']" \
    "$RC $(json '" ".join(map(str, [j["dnat"]["captures"], [f["effect"] for f in j["findings"] if f["check"] == "dnat"]]))')"
run_rc "$PORTDEX" why --netns "$NS" 28080/udp
expect_match "dnat, udp asked, text" "ok +- +dnat +no DNAT or redirect rule on the prerouting path captures 28080 \(3 nftables rules read\)" "$(flat "$OUT")"
expect_nomatch "dnat, udp asked, text: nothing said captured" "sent elsewhere|captured:" "$OUT"
# a redirect to another port of this machine
run_rc "$PORTDEX" --json why --netns "$NS" 28090/udp
expect_eq "redirect: exit 0, kind, rule, no address, port" "0 redirect table ip nat chain DOCKER handle $H_REDIR None 28091" \
    "$RC $(json '" ".join(map(str, [j["dnat"]["captures"][0].get(k) for k in ("kind", "rule", "to_address", "to_port")]))')"
run_rc "$PORTDEX" why --netns "$NS" 28090/udp
expect_match "redirect text" "WARNING +udp +dnat +captured: udp traffic from the network for 28090 is sent to port 28091 of this machine by a redirect rule \(table ip nat chain DOCKER handle $H_REDIR\)" "$(flat "$OUT")"
# held and captured: the holder decides the exit status, the capture is still said
hold --netns "$NS" 4 0.0.0.0 28080 tcp 0 0 1
run_rc "$PORTDEX" --json why --netns "$NS" 28080/tcp
expect_eq "held and captured: exit 1, EADDRINUSE, capture named" "1 EADDRINUSE table ip nat chain DOCKER handle $H_DNAT" \
    "$RC $(json '" ".join(map(str, [j["errno"], j["dnat"]["captures"][0]["rule"]]))')"
unhold

# ---- the DNAT rule in another namespace than the one asked about -----------
# asked here (the test's own namespace), with --all-netns: the rule in $NS is
# said as info naming the namespace, table, chain and handle; the bind here is
# not touched by it (exit 0, nothing said under the verdict); without
# --all-netns other namespaces' rules are not read
run_rc "$PORTDEX" --json why --all-netns 28080/tcp
expect_eq "dnat elsewhere, all-netns: exit 0, would bind" "0 True" "$RC $(json 'j["would_bind"]')"
expect_eq "dnat elsewhere, all-netns: the namespace's ruleset read, 3 rules, the capture's namespace, rule, destination, kind" \
    "True 3 1 $NS table ip nat chain DOCKER handle $H_DNAT 10.232.0.2 80 dnat True" \
    "$(json '" ".join(map(str, [[o for o in j["dnat"]["other_netns"] if o["netns"] == "'"$NS"'"][0][k] for k in ("checked", "rules_read")] + [len([o for o in j["dnat"]["other_netns"] if o["netns"] == "'"$NS"'"][0]["captures"])] + [[o for o in j["dnat"]["other_netns"] if o["netns"] == "'"$NS"'"][0]["captures"][0][k] for k in ("netns", "rule", "to_address", "to_port", "kind", "captures")]))')"
expect_eq "dnat elsewhere, all-netns: an info finding naming the namespace and the rule, not in the asked namespace's captures" \
    "['info'] True" \
    "$(json '" ".join(map(str, [[f["effect"] for f in j["findings"] if f["check"] == "dnat" and "'"$NS"'" in f["text"] and "handle '"$H_DNAT"'" in f["text"]], all(c.get("netns") != "'"$NS"'" for c in j["dnat"]["captures"])]))')"
run_rc "$PORTDEX" why --all-netns 28080/tcp
expect_eq "dnat elsewhere, all-netns text: exit 0" 0 "$RC"
expect_match "dnat elsewhere, all-netns text: namespace, rule, destination" \
    "info +tcp +dnat +in network namespace $NS \(its ports are its own\): captured: tcp traffic from the network for 28080 is sent to 10\.232\.0\.2:80 by a DNAT rule \(table ip nat chain DOCKER handle $H_DNAT\)" "$(flat "$OUT")"
expect_nomatch "dnat elsewhere, all-netns text: the bind here is not said captured" "sent elsewhere by a DNAT" "$OUT"
# held in that namespace too: the holder and the rule both named, exit still 0 here
hold --netns "$NS" 4 0.0.0.0 28080 tcp 0 0 1
run_rc "$PORTDEX" --json why --all-netns 28080/tcp
expect_eq "dnat and holder elsewhere: exit 0, holder's namespace and pid, capture's rule" \
    "0 $NS $HPID table ip nat chain DOCKER handle $H_DNAT" \
    "$RC $(json '" ".join(map(str, [[s for s in j["other_netns"] if s["netns"] == "'"$NS"'"][0]["netns"], [s for s in j["other_netns"] if s["netns"] == "'"$NS"'"][0]["pid"], [o for o in j["dnat"]["other_netns"] if o["netns"] == "'"$NS"'"][0]["captures"][0]["rule"]]))')"
unhold
# udp is not captured there: summed up as ok, the namespace read, no capture
run_rc "$PORTDEX" --json why --all-netns 28080/udp
expect_eq "dnat elsewhere, udp asked: exit 0, the namespace read with no capture, an ok finding" "0 True [] True" \
    "$RC $(json '" ".join(map(str, [[o for o in j["dnat"]["other_netns"] if o["netns"] == "'"$NS"'"][0][k] for k in ("checked", "captures")] + [any(f["effect"] == "ok" and "other network namespace" in f["text"] for f in j["findings"] if f["check"] == "dnat")]))')"
# without --all-netns the other namespace's rules are not read
run_rc "$PORTDEX" --json why 28080/tcp
expect_eq "dnat elsewhere, no all-netns: exit 0, no other namespace read, nothing named" "0 [] False" \
    "$RC $(json '" ".join(map(str, [j["dnat"]["other_netns"], any("'"$NS"'" in f["text"] for f in j["findings"])]))')"

# ---- usage ---------------------------------------------------------------------
for bad in "" "0" "70000" "80/sctp" "x" "80/" "/tcp" "80 81" "--bogus 80" \
    "--netns $NS --all-netns 80" "--netns"; do
	run_rc "$PORTDEX" why $bad
	expect_eq "bad '$bad': exit 2" 2 "$RC"
	expect_match "bad '$bad': message" "why" "$ERR"
done
run_rc "$PORTDEX" why --netns no-such-ns-$$ 80
expect_eq "unknown namespace: exit 2" 2 "$RC"
expect_match "unknown namespace: message" "no-such-ns-$$" "$ERR"
finish
