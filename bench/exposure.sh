#!/usr/bin/env bash
# bench/exposure.sh - issue 16's goal: `portdex ls` with its firewall
# verdicts (the REACH column and the published-port rows, as ls shows by
# default) costs at most what a user pays today for the two separate
# answers, `ss -tlnp` and `nft -j list ruleset` run back to back:
#   portdex ls  <=  1.0 x (median ss -tlnp + median nft -j list ruleset)
# at 1,000 TCP listeners on 0.0.0.0 and a ruleset of 1,000 rules, for a
# fresh machine (no state database) and a lived-in one (bench/lived-in.sh:
# 1,000 notes, a baseline, 500 audit runs, 10,000 votes, 200 more listeners
# of nobody), each machine its own interleaved bench-run (medians).  The
# `sh -c 'ss -tlnp; nft -j list ruleset'` line is the same pair as one
# command (it adds a shell's start); the goal is judged against the sum of
# the two medians, the smaller baseline.
#
# The ruleset, made for the listeners' ports: an inet filter input chain
# with policy drop (iif lo, ct state, 500 single-port accepts, 200 accepts
# from a source prefix, 100 counted drops, a named set of 100 ports, a
# jump to a chain of 50 accepts), and a nat prerouting chain that jumps to
# a DOCKER-like chain of 144 DNAT rules (published ports): 1,000 rules.
#
# usage: bench/exposure.sh [BUILD_DIR]   env RUNS=11 LISTENERS=1000
# Run as root: it runs in a network namespace of its own (unshare -n),
# which goes away with it; nothing leaves the namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "bench/exposure.sh: run as root (a network namespace and its ruleset)" >&2
	exit 2
fi
if [ -z "${EXPOSURE_NETNS:-}" ]; then
	exec unshare -n env EXPOSURE_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
build=${1:-${PDX_BUILD:-$here/build}}
pd=$build/portdex
br=$build/bench/bench-run
helper=$build/tests/listen-helper
RUNS=${RUNS:-11}
LISTENERS=${LISTENERS:-1000}
for f in "$pd" "$br" "$helper"; do
	[ -x "$f" ] || { echo "bench/exposure.sh: $f is not built" >&2; exit 2; }
done
for t in ss nft sqlite3 python3; do
	command -v $t >/dev/null || { echo "bench/exposure.sh: $t is needed" >&2; exit 2; }
done
T=$(mktemp -d)
L=$T/lived
hpid=
cleanup() {
	[ -n "$hpid" ] && kill "$hpid" 2>/dev/null
	"$here/bench/lived-in.sh" stop "$L" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }
col() { sed -n "$1p" "$T/run.out" | cut -f"$2"; }

echo "bench/exposure.sh: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other jobs run meanwhile)"
echo "  $("$pd" --version | head -1), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"

# the lived-in fixture (its baseline records its own 200 listeners)
"$here/bench/lived-in.sh" start "$L" "$build"
"$here/bench/lived-in.sh" build "$L" "$build" >/dev/null
"$here/bench/lived-in.sh" stop "$L"
FRESH=(PORTDEX_DB="$L/registry.db" PORTDEX_STATE="$T/none/state.db")
LIVED=(PORTDEX_DB="$L/registry.db" PORTDEX_STATE="$L/state.db")

"$helper" -t 1800 -n "$LISTENERS" tcp/0.0.0.0/0 > "$T/h.out" 2> "$T/h.err" &
hpid=$!
for _ in $(seq 3000); do
	grep -q '^READY' "$T/h.out" && break
	kill -0 "$hpid" 2>/dev/null || break
	sleep 0.1
done
grep -q '^READY' "$T/h.out" || { echo "bench/exposure.sh: helper failed: $(cat "$T/h.err")" >&2; exit 1; }

# the ruleset, from the listeners' ports (column 4 of the helper's lines)
awk '$1 == "tcp" { print $4 }' "$T/h.out" > "$T/ports"
python3 - "$T/ports" > "$T/ruleset.nft" <<'EOF'
import sys
ports = [int(l) for l in open(sys.argv[1])]
ports += [20000 + i for i in range(max(0, 1000 - len(ports)))]
print("table inet filter {")
print("  set allowed { type inet_service; elements = { %s } }" %
      ", ".join(str(p) for p in ports[800:900]))
print("  chain services {")
for p in ports[900:950]:
    print("    tcp dport %d accept" % p)
print("  }")
print("  chain input {")
print("    type filter hook input priority filter; policy drop;")
print("    iif lo accept")
print("    ct state established,related accept")
print("    ct state invalid drop")
for p in ports[0:500]:
    print("    tcp dport %d accept" % p)
for i, p in enumerate(ports[500:700]):
    print("    ip saddr 10.%d.%d.0/24 tcp dport %d accept" % (i // 256, i % 256, p))
for p in ports[700:800]:
    print("    tcp dport %d counter drop" % p)
print("    tcp dport @allowed accept")
print("    jump services")
print("  }")
print("}")
print("table ip nat {")
print("  chain DOCKER {")
for i in range(144):
    print('    iifname != "docker0" tcp dport %d dnat to 172.17.%d.%d:80' %
          (40000 + i, i // 200, 2 + i % 200))
print("  }")
print("  chain PREROUTING {")
print("    type nat hook prerouting priority dstnat; policy accept;")
print("    jump DOCKER")
print("  }")
print("}")
EOF
nft -f "$T/ruleset.nft"
rules=$(nft -j list ruleset | python3 -c 'import json, sys; print(sum("rule" in o for o in json.load(sys.stdin)["nftables"]))')
# what ls shows: the verdicts and the published rows (a sanity check)
"$pd" ls -n > "$T/ls.out"
sockets=$("$pd" ls -t --no-pids -n -q | tail -n +2 | grep -vc published || true)
echo "  namespace: $LISTENERS listeners of the helper on 0.0.0.0 (ls lists $sockets rows), $rules rules;" \
    "ls's REACH column: $(grep -Eo '\b(open|filtered|restricted|unknown|loopback)\b' "$T/ls.out" | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }');" \
    "published rows: $(grep -c PUBLISHED "$T/ls.out" || true)"

echo
echo "== portdex ls (verdicts) vs ss -tlnp + nft -j list ruleset (wall ms, medians of $RUNS, interleaved)"
printf "  %-9s %9s %9s %9s %9s %9s %7s %7s %9s %7s %7s\n" machine "ss -tlnp" "nft -j" "sum" "sh -c" "ls" ratio "cpu" "uncached" ratio "cpu"
for m in fresh lived-in; do
	if [ "$m" = fresh ]; then env=("${FRESH[@]}"); else
		env=("${LIVED[@]}"); "$here/bench/lived-in.sh" start "$L" "$build"; fi
	# ls as it runs (the ruleset cache of lib/firewall-cache.c: the
	# kernel's generation of the ruleset unchanged since the first
	# round), and with no cache (PORTDEX_CACHE=): each run lists the
	# ruleset through libnftables, as after every change of it
	"$br" -r "$RUNS" -w 2 -- ss -tlnp \; nft -j list ruleset \; \
	    sh -c 'ss -tlnp; nft -j list ruleset' \; "${env[@]}" "$pd" ls \; \
	    PORTDEX_CACHE= "${env[@]}" "$pd" ls > "$T/run.out"
	printf "  %-9s %9s %9s %9s %9s %9s %7s %7s %9s %7s %7s\n" "$m" "$(col 1 1)" "$(col 2 1)" \
	    "$(sum "$(col 1 1)" "$(col 2 1)")" "$(col 3 1)" "$(col 4 1)" \
	    "$(ratio "$(col 4 1)" "$(sum "$(col 1 1)" "$(col 2 1)")")" \
	    "$(ratio "$(col 4 2)" "$(sum "$(col 1 2)" "$(col 2 2)")")" \
	    "$(col 5 1)" "$(ratio "$(col 5 1)" "$(sum "$(col 1 1)" "$(col 2 1)")")" \
	    "$(ratio "$(col 5 2)" "$(sum "$(col 1 2)" "$(col 2 2)")")"
	[ "$m" = lived-in ] && "$here/bench/lived-in.sh" stop "$L"
done
echo "  ratio: ls / (ss -tlnp + nft -j), wall; cpu: the same for user + system time; goal <= 1.0"
echo "  uncached: ls with PORTDEX_CACHE= (the ruleset listed through libnftables every run)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
