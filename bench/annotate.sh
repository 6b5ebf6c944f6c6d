#!/usr/bin/env bash
# bench/annotate.sh - `portdex annotate` over kernel LOG lines against what a
# user runs today to pull the ports out of them, `grep -o 'DPT=[0-9]*'`,
# on the same file (issue 19's goal: at most 3x, peak RSS under 10 MB).
#   1. generates LINES (default 1,000,000) iptables/ufw/firewalld LOG lines
#      in journald's and syslog's forms: destination ports drawn from 40
#      common services and from the whole port space, random source ports,
#      TCP, UDP and ICMP (no ports);
#   2. times both with bench-run (interleaved rounds, medians), each
#      writing its output to a file in memory (/dev/shm): not /dev/null,
#      where GNU grep stops at the first match, as with -q), the
#      registry's brief file in place (as `portdex update` leaves it);
#   3. peak RSS of annotate (and of grep) from /usr/bin/time -v, or
#      getrusage via bench-run's children when time(1) is missing;
#   4. 2 and 3 again on a lived-in machine (bench/lived-in.sh: its registry
#      and state database, its 200 listeners of nobody up while it runs:
#      annotate reads the listeners into its "listening here" bitmap),
#      unless LIVED=0.
# Usage: bench/annotate.sh [BUILD_DIR]   (RUNS, default 7; LINES; LIVED=0: fresh only)
# Not bench/bench-annotate.c, which compares the brief table with
# getservbyport(3) for bench/registry.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
runs=${RUNS:-7}
lines=${LINES:-1000000}
pd=$build/portdex
br=$build/bench/bench-run
iana=${IANA:-$here/../shared/data/iana/service-names-port-numbers.csv}
T=$(mktemp -d -p "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp)")
trap '"$here/bench/lived-in.sh" stop "$T/lived" 2>/dev/null; rm -rf "$T"' EXIT
echo "bench/annotate.sh: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"
export PORTDEX_DB=$T/registry.db PORTDEX_STATE=$T/state.db
"$pd" update --from "$iana" >/dev/null

echo "== generating $lines kernel LOG lines"
awk -v n="$lines" 'BEGIN {
	srand(19);
	split("22 80 443 53 25 3389 445 23 21 8080 3306 5432 6379 27017 " \
	    "9200 11211 161 123 1900 5353 137 138 139 135 1433 5900 8443 " \
	    "2375 6443 10250 111 2049 514 993 995 587 143 110 179 500", p, " ");
	split("[UFW BLOCK] |[UFW AUDIT] |filter_IN_public_REJECT: |" \
	    "FINAL_REJECT: |DROP-IN: |", pre, "|");
	split("TCP TCP TCP UDP UDP ICMP", pr, " ");
	for (i = 0; i < n; i++) {
		proto = pr[int(rand() * 6) + 1];
		dpt = rand() < 0.7 ? p[int(rand() * 40) + 1] : int(rand() * 65536);
		spt = 1024 + int(rand() * 64511);
		ts = sprintf("%02d:%02d:%02d", int(i / 3600000) % 24,
		    int(i / 60000) % 60, int(i / 1000) % 60);
		if (i % 2)
			head = "Dec  4 " ts " gw kernel: [" sprintf("%d.%06d", 1000 + i / 1000, i % 1000000) "] ";
		else
			head = "2026-12-04T" ts ".123456+00:00 gw kernel: ";
		pk = sprintf("IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=198.51.%d.%d DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=%d ID=%d DF PROTO=%s",
		    int(rand() * 256), int(rand() * 256), 40 + int(rand() * 24),
		    int(rand() * 65536), proto);
		if (proto == "ICMP")
			tail = " TYPE=8 CODE=0 ID=4242 SEQ=1";
		else if (proto == "TCP")
			tail = sprintf(" SPT=%d DPT=%d WINDOW=64240 RES=0x00 SYN URGP=0", spt, dpt);
		else
			tail = sprintf(" SPT=%d DPT=%d LEN=40", spt, dpt);
		print head pre[int(rand() * 5) + 1] pk tail;
	}
}' > "$T/kern.log"
ls -l "$T/kern.log" | awk '{printf "%s bytes\n", $5}'

echo "== annotate vs grep -o 'DPT=[0-9]*' (interleaved, $runs runs, medians)"
"$br" -r "$runs" -w 1 -- \
    sh -c "exec '$pd' annotate --no-listeners '$T/kern.log' > '$T/out'" \; \
    sh -c "exec '$pd' annotate '$T/kern.log' > '$T/out'" \; \
    sh -c "exec grep -o 'DPT=[0-9]*' '$T/kern.log' > '$T/out'" \; \
    sh -c "LC_ALL=C exec grep -o 'DPT=[0-9]*' '$T/kern.log' > '$T/out'" \
    > "$T/times.txt"
read -r aw ac _ < <(sed -n 1p "$T/times.txt")
read -r lw lc _ < <(sed -n 2p "$T/times.txt")
read -r gw gc _ < <(sed -n 3p "$T/times.txt")
read -r cw cc _ < <(sed -n 4p "$T/times.txt")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "annotate --no-listeners: $aw ms (cpu $ac)"
echo "annotate:                $lw ms (cpu $lc)"
echo "grep -o 'DPT=[0-9]*':    $gw ms (cpu $gc)"
echo "LC_ALL=C grep -o ...:     $cw ms (cpu $cc)"
echo "ratio wall $(ratio "$lw" "$gw")x, cpu $(ratio "$lc" "$gc")x (goal <= 3x; locale ${LC_ALL:-${LANG:-unset}})"
echo "ratio to LC_ALL=C grep: wall $(ratio "$lw" "$cw")x, cpu $(ratio "$lc" "$cc")x"

rss() {	# rss LABEL ENV...: peak RSS of annotate (and of grep) in KB
	local label=$1
	shift
	if [ -x /usr/bin/time ]; then
		env "$@" /usr/bin/time -v "$pd" annotate "$T/kern.log" 2> "$T/rss.txt" >"$T/out"
		a=$(awk -F': ' '/Maximum resident/ {print $2}' "$T/rss.txt")
		/usr/bin/time -v grep -o 'DPT=[0-9]*' "$T/kern.log" 2> "$T/rss.txt" >"$T/out"
		g=$(awk -F': ' '/Maximum resident/ {print $2}' "$T/rss.txt")
		echo "$label: annotate $a KB, grep $g KB (goal < 10 MB)"
	else
		env "$@" python3 - "$pd" "$T/kern.log" "$label" <<'EOF'
import resource, subprocess, sys
with open(sys.argv[2] + ".out", "w") as out:
    subprocess.run([sys.argv[1], "annotate", sys.argv[2]], stdout=out, check=True)
print("%s: annotate %d KB (goal < 10 MB; getrusage of children)" % (sys.argv[3], resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
EOF
	fi
}
echo "== peak RSS"
rss fresh PORTDEX_DB="$PORTDEX_DB"

[ "${LIVED:-1}" = 0 ] && exit 0
echo "== lived-in (bench/lived-in.sh: its registry and state, 200 listeners of nobody up)"
"$here/bench/lived-in.sh" build "$T/lived" "$build" | sed 's/^/  /'
"$here/bench/lived-in.sh" start "$T/lived" "$build"
echo "  listening sockets on this machine now: $(ss -Htlnu 2>/dev/null | wc -l)"
LV=(PORTDEX_DB="$T/lived/registry.db" PORTDEX_STATE="$T/lived/state.db")
"$br" -r "$runs" -w 1 -- \
    env "${LV[@]}" sh -c "exec '$pd' annotate '$T/kern.log' > '$T/out'" \; \
    sh -c "exec grep -o 'DPT=[0-9]*' '$T/kern.log' > '$T/out'" \; \
    sh -c "LC_ALL=C exec grep -o 'DPT=[0-9]*' '$T/kern.log' > '$T/out'" \
    > "$T/times.txt"
read -r lw lc _ < <(sed -n 1p "$T/times.txt")
read -r gw gc _ < <(sed -n 2p "$T/times.txt")
read -r cw cc _ < <(sed -n 3p "$T/times.txt")
echo "annotate (lived-in):     $lw ms (cpu $lc)"
echo "grep -o 'DPT=[0-9]*':    $gw ms (cpu $gc)"
echo "LC_ALL=C grep -o ...:     $cw ms (cpu $cc)"
echo "lived-in ratio wall $(ratio "$lw" "$gw")x, cpu $(ratio "$lc" "$gc")x (goal <= 3x)"
echo "lived-in ratio to LC_ALL=C grep: wall $(ratio "$lw" "$cw")x, cpu $(ratio "$lc" "$cc")x"
rss lived-in "${LV[@]}"
"$here/bench/lived-in.sh" stop "$T/lived"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
