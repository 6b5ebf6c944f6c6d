#!/bin/bash
# test-ls.sh - `portdex ls` against listeners this test starts itself:
# each one (TCP/UDP, IPv4/IPv6, loopback, random free ports, as root and as
# nobody) must be reported with the pid, process, uid, inode, address and
# port that the helper saw from its own side, via netlink and via --proc;
# the same inside a network namespace created here (wildcard addresses
# and IPV6_V6ONLY are checked there, off the host's interfaces); the
# filters; a non-root run; and, with ~500 sockets, the set `ss -tulpnH`
# reports at the same moment.  Needs root (for the namespace and the
# second user), jq and iproute2.
. "$(dirname "$0")/lib.sh"
: "${PDX_BUILD:?}"
HELPER=$PDX_BUILD/tests/listen-helper
NS=pdx-ls-test-$$
TMP=$T
helpers=()

cleanup() {
	local p
	for p in "${helpers[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { pass; }
bad() { fail "$@"; }
check() {	# check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok; else bad "$d"; fi
}

for tool in jq ss ip setpriv; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is needed"; exit 1; }
done
[ -x "$HELPER" ] || { echo "FAIL: $HELPER not built"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL: this test needs root"; exit 1; }

# start NAME [ip netns exec NS] HELPER-ARGS...: waits for READY (bounded).
start() {
	local name=$1 i
	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	helpers+=($!)
	for i in $(seq 200); do
		grep -q '^READY' "$TMP/$name.out" 2>/dev/null && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.05
	done
	echo "FAIL: helper $name did not start: $(cat "$TMP/$name.err")"
	exit 1
}
pid_of() { awk '/^READY/ { print $2 }' "$TMP/$1.out"; }
ports_of() { awk '!/^READY/ { print $4 }' "$TMP/$1.out" | paste -sd, -; }

# expect JSON HELPER [NETNS]: every socket the helper opened is in JSON
# with its fields, and exactly once.
expect() {
	local json=$1 name=$2 netns=${3:-} pid proto fam addr port ino uid n
	pid=$(pid_of "$name")
	while read -r proto fam addr port ino uid; do
		[ "$proto" = READY ] && continue
		n=$(jq --arg p "$proto" --arg f "$fam" --arg a "$addr" \
		    --argjson port "$port" --argjson ino "$ino" \
		    --argjson uid "$uid" --argjson pid "$pid" \
		    --arg ns "$netns" '[.sockets[] | select(.proto == $p and
		    .family == $f and .local.address == $a and
		    .local.port == $port and .inode == $ino and .uid == $uid
		    and .pid == $pid and .process == "listen-helper" and
		    (.netns // "") == $ns)] | length' <<<"$json")
		if [ "$n" = 1 ]; then ok; else
			bad "$name: $proto $fam $addr:$port (inode $ino, uid $uid, pid $pid, netns '$netns') found $n times"
		fi
	done <"$TMP/$name.out"
}

# ---- listeners on loopback, as root and as nobody -------------------------
start root "$HELPER" -t 300 tcp/127.0.0.1/0 tcp/::1/0 udp/127.0.0.1/0 \
    udp/::1/0 tcp/127.0.0.2/0
start nobody "$HELPER" -t 300 -u 65534 tcp/127.0.0.1/0 udp/::1/0
PORTS=$(ports_of root),$(ports_of nobody)

for backend in "" --proc; do
	want=netlink
	[ -n "$backend" ] && want=proc
	for filt in "" "-p $PORTS" "-p 1-3,$PORTS,65000-65010"; do
		out=$("$PORTDEX" --json ls $backend $filt)
		check "ls --json $backend $filt exits 0" test $? = 0
		check "backend is $want" test "$(jq -r .backend <<<"$out")" = $want
		expect "$out" root
		expect "$out" nobody
	done
	# Exactly our seven sockets on our ports.
	n=$("$PORTDEX" --json ls $backend -p "$PORTS" | jq '.sockets | length')
	check "$backend -p gives only our 7 sockets (got $n)" test "$n" = 7
done

# ---- filters ------------------------------------------------------------
j() { "$PORTDEX" --json ls -p "$PORTS" "$@"; }
check "-t: only tcp" test "$(j -t | jq '[.sockets[].proto] | unique')" = \
    "$(jq -n '["tcp"]')"
check "-t count" test "$(j -t | jq '.sockets | length')" = 4
check "-u count" test "$(j -u | jq '.sockets | length')" = 3
check "-4 count" test "$(j -4 | jq '.sockets | length')" = 4
check "-6 count" test "$(j -6 | jq '.sockets | length')" = 3
check "-t -6 count" test "$(j -t -6 | jq '.sockets | length')" = 1
check "--pid" test "$(j --pid "$(pid_of nobody)" | jq '[.sockets[].pid] | unique')" = \
    "$(jq -n "[$(pid_of nobody)]")"
check "--user nobody" test "$(j --user nobody | jq '[.sockets[].uid] | unique')" = \
    "$(jq -n '[65534]')"
check "--user 0 count" test "$(j --user 0 | jq '.sockets | length')" = 5
check "--process" test "$(j --process listen-helper | jq '.sockets | length')" = 7
check "--process other" test "$(j --process no-such-comm | jq '.sockets | length')" = 0
check "--no-pids: no pids" test "$(j --no-pids | jq '[.sockets[].pid] | unique')" = \
    "$(jq -n '[null]')"
check "--no-pids: attribution null" test "$(j --no-pids | jq .attribution)" = null
check "loopback is not all interfaces" test \
    "$(j | jq '[.sockets[].all_interfaces] | unique')" = "$(jq -n '[false]')"

# Text output: a header and one row per socket, with the process.
txt=$("$PORTDEX" ls -p "$PORTS" --color never)
check "text header" grep -q '^PROTO.*LOCAL.*PID.*PROCESS.*USER' <<<"$txt"
check "text rows" test "$(grep -c listen-helper <<<"$txt")" = 7
check "text shows [::1]" grep -q "\[::1\]:" <<<"$txt"
check "text shows nobody" grep -q "nobody" <<<"$txt"
check "-n shows uids" test "$("$PORTDEX" ls -n -p "$(ports_of nobody)" | grep -c ' 65534')" = 2

# Nothing there: exit 1.  Bad input: exit 2 and a message.
free=$(( $(ports_of root | cut -d, -f1) ^ 1 ))
"$PORTDEX" ls -p "$free" -t >/dev/null 2>&1
check "no match exits 1" test $? = 1
for args in "-p 70000" "--pid abc" "--pid 0" "--user no-such-user-x" \
    "--netns ../etc" "--netns no-such-ns-pdx" "--no-pids --pid 1" \
    "--netns a --all-netns" "extra" "--bogus"; do
	err=$("$PORTDEX" ls $args 2>&1 >/dev/null)
	rc=$?
	check "ls $args exits 2 (got $rc)" test $rc = 2
	check "ls $args explains" test -n "$err"
done

# ---- not root: listed with uid, attributed only where permitted ---------
asnobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    env HOME="$TMP" "$PORTDEX" "$@"
}
out=$(asnobody --json ls -p "$PORTS")
check "nobody: 7 sockets" test "$(jq '.sockets | length' <<<"$out")" = 7
expect "$out" nobody
check "nobody: root's sockets have no pid" test \
    "$(jq '[.sockets[] | select(.uid == 0) | .pid] | unique' <<<"$out")" = \
    "$(jq -n '[null]')"
check "nobody: root's sockets keep their uid" test \
    "$(jq '[.sockets[] | select(.uid == 0)] | length' <<<"$out")" = 5
check "nobody: permission counted" test \
    "$(jq '.attribution.permission_denied' <<<"$out")" = 5
txt=$(asnobody ls -p "$PORTS")
check "nobody: footer says why" grep -q "5 of 7 sockets not attributed.*permission denied" <<<"$txt"

# ---- inside a network namespace created here ---------------------------
if ! ip netns add "$NS" 2>"$TMP/ns.err"; then
	fail "the kernel refuses network namespaces: $(cat "$TMP/ns.err")"
	exit 1
fi
ip netns exec "$NS" ip link set lo up
start ns ip netns exec "$NS" "$HELPER" -t 300 tcp/0.0.0.0/0 tcp/::/0/dual \
    udp/::/0/v6only udp/0.0.0.0/0 tcp/127.0.0.1/0 tcp/::1/0
for backend in "" --proc; do
	out=$("$PORTDEX" --json ls --netns "$NS" $backend)
	check "--netns $backend exits 0" test $? = 0
	expect "$out" ns "$NS"
	check "--netns $backend: only the namespace's 6" test \
	    "$(jq '.sockets | length' <<<"$out")" = 6
	check "--netns $backend: wildcards are all interfaces" test \
	    "$(jq '[.sockets[] | select(.local.address == "0.0.0.0" or
	    .local.address == "::") | .all_interfaces] | unique' <<<"$out")" = \
	    "$(jq -n '[true]')"
done
out=$("$PORTDEX" --json ls --netns "$NS")
check "dual :: socket serves ipv4" test "$(jq '[.sockets[] |
    select(.proto == "tcp" and .local.address == "::") |
    [.v6only, .serves_ipv4]] | .[0]' -c <<<"$out")" = "[false,true]"
check "v6only :: socket does not" test "$(jq '[.sockets[] |
    select(.proto == "udp" and .local.address == "::") |
    [.v6only, .serves_ipv4]] | .[0]' -c <<<"$out")" = "[true,false]"
check "text marks the dual socket" grep -Eq '\[::\]:.*[a-z]+, (\+ipv4|ipv4 [a-z]+)' \
    <<<"$("$PORTDEX" ls --netns "$NS" -t)"
# Not in the host's listing; all of them in --all-netns.
nsports=$(ports_of ns)
check "namespace sockets not in the host's list" test \
    "$("$PORTDEX" --json ls -p "$nsports" | jq '[.sockets[] |
    select(.netns == null and .pid == '"$(pid_of ns)"')] | length')" = 0
out=$("$PORTDEX" --json ls --all-netns)
expect "$out" ns "$NS"
expect "$out" root

# ---- ~500 sockets: the same set as ss -tulpnH at the same moment ------
start many "$HELPER" -t 300 -n 125 tcp/127.0.0.1/0 tcp/::1/0 \
    udp/127.0.0.1/0 udp/::1/0
# proto address port pids: addresses without brackets or %device, a dual
# "::" written "*" as ss does.
norm_ss() {
	awk '{
		local = $5; n = split(local, a, ":"); port = a[n]
		addr = substr(local, 1, length(local) - length(port) - 1)
		gsub(/^\[|\]$/, "", addr); sub(/%.*/, "", addr)
		pids = ""
		s = $0
		while (match(s, /pid=[0-9]+/)) {
			pids = pids (pids == "" ? "" : ",") substr(s, RSTART + 4, RLENGTH - 4)
			s = substr(s, RSTART + RLENGTH)
		}
		print $1, addr, port, (pids == "" ? "-" : pids)
	}' | sort
}
norm_pdx() {
	jq -r '.sockets[] | [.proto,
	    (if .family == "ipv6" and .all_interfaces and .v6only == false
	     then "*" else (.local.address | sub("%.*"; "")) end),
	    (.local.port | tostring), ((.pid // "-") | tostring)] | join(" ")' |
	    sort
}
same=0
for attempt in 1 2 3 4 5; do
	ss -tulpnH | norm_ss >"$TMP/ss1"
	"$PORTDEX" --json ls | norm_pdx >"$TMP/pdx"
	ss -tulpnH | norm_ss >"$TMP/ss2"
	cmp -s "$TMP/ss1" "$TMP/ss2" || continue	# the machine moved
	same=1
	break
done
check "ss was stable in one of 5 tries" test $same = 1
n=$(grep -c " $(pid_of many)\$" "$TMP/pdx")
check "portdex saw the 500 helper sockets (got $n)" test "$n" = 500
# The sets of (proto, address, port) are equal ...
if diff <(cut -d' ' -f1-3 "$TMP/ss1") <(cut -d' ' -f1-3 "$TMP/pdx") \
    >"$TMP/diff"; then ok; else
	bad "socket sets differ from ss -tulpnH:"; head -20 "$TMP/diff"
fi
# ... and each pid portdex names is one of the holders ss names.
if awk 'NR == FNR { k = $1 " " $2 " " $3; ss[k] = ss[k] " " $4; next }
    { k = $1 " " $2 " " $3; split(ss[k], lists, " "); hit = 0
      for (i in lists) { n = split(lists[i], p, ","); for (j = 1; j <= n; j++) if (p[j] == $4) hit = 1 }
      if (!hit) { print "pid mismatch: " $0 " vs ss:" ss[k]; bad = 1 } }
    END { exit bad }' "$TMP/ss1" "$TMP/pdx"; then ok; else
	bad "pids differ from ss -tulpnH"
fi

finish
