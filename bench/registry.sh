#!/usr/bin/env bash
# bench/registry.sh - the foundation's figures, each against what a user
# would run instead, in the same run:
#   1. `portdex 645` whole-process time vs `getent services 645/tcp`;
#   2. annotating all 131,072 tcp/udp ports in one process vs a
#      getservbyport(3) loop over an IANA-size services file (our own
#      export, bind-mounted over /etc/services in a private mount
#      namespace; needs root);
#   3. `portdex update --from` the 14,500-row IANA CSV;
#   4. peak RSS of the CLI.
# Usage: bench/registry.sh [BUILD_DIR]   (medians of RUNS runs, default 21)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
runs=${RUNS:-21}
pd=$build/portdex
ba=$build/bench/bench-annotate
iana=${IANA:-$here/../shared/data/iana/service-names-port-numbers.csv}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PORTDEX_DB=$T/registry.db PORTDEX_STATE=$T/state.db
"$pd" update --from "$iana" >/dev/null

# median of the wall times (ms) of running "$@" $runs times
median_ms() {
	local i t0 t1
	for i in $(seq "$runs"); do
		t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 ))
	done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "== 1. one card vs getent (whole process, interleaved runs, medians)"
# bench-run alternates the commands run by run, so a change in the
# machine's load hits both alike; it prints median wall, median CPU.
br=$build/bench/bench-run
cards=${CARD_RUNS:-301}
card_vs_getent() {	# $1: what /etc/services is
	"$br" -r "$cards" -w 5 -- "$pd" 645 \; getent services 645/tcp > "$T/card.txt"
	read -r pw pc _ < <(sed -n 1p "$T/card.txt")
	read -r gw gc _ _ gf _ < <(sed -n 2p "$T/card.txt")
	echo "$1: portdex 645 $pw ms (cpu $pc), getent services 645/tcp $gw ms (cpu $gc, $gf of $cards runs found nothing)"
	echo "    ratio wall $(ratio "$pw" "$gw")x, cpu $(ratio "$pc" "$gc")x (goal <= 2x)"
}
card_vs_getent "this machine's /etc/services ($(wc -l < /etc/services) lines)"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	# The same with an IANA-size services file, as Fedora and Arch ship
	# (getent then finds 645/tcp): our own export, bind-mounted over
	# /etc/services in a private mount namespace.
	"$pd" export --format services > "$T/services"
	export -f card_vs_getent ratio
	export T br cards pd
	n=$(wc -l < "$T/services")
	unshare -m bash -c "mount --bind '$T/services' /etc/services &&
	    card_vs_getent 'an IANA-size /etc/services ($n lines)'"
fi

echo "== 2. all 131,072 tcp/udp ports in one process"
for i in 1 2 3; do "$ba" portdex "$PORTDEX_DB"; done | sort -k2 -n | sed -n 2p > "$T/pd.txt"
cat "$T/pd.txt"
[ -s "$T/services" ] || "$pd" export --format services > "$T/services"
echo "services file: $(wc -l < "$T/services") lines (IANA-size, from the same registry)"
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	# The full loop takes minutes; SAMPLE ports (both protocols) are
	# timed and the figure scaled to 131,072 lookups.
	sample=${SAMPLE:-4096}
	cat > "$T/loop.c" <<'C'
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv) {
	int n = atoi(argv[1]), p, named = 0; struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	setservent(1);
	for (p = 0; p < n; p++) {
		if (getservbyport(htons(p), "tcp")) named++;
		if (getservbyport(htons(p), "udp")) named++;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.3f %d\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6, named);
	return 0;
}
C
	cc -O2 -o "$T/loop" "$T/loop.c"
	out=$(unshare -m sh -c "mount --bind '$T/services' /etc/services && '$T/loop' $sample")
	ms=${out% *}
	full=$(awk -v m="$ms" -v s="$sample" 'BEGIN {printf "%.0f", m * 65536 / s}')
	pdms=$(awk '{print $2}' "$T/pd.txt")
	echo "getservbyport: $ms ms for ports 0-$((sample - 1)) x tcp,udp; scaled to 131,072 lookups: $full ms"
	echo "ratio portdex/getservbyport: $(ratio "$pdms" "$full")x (goal: portdex < 50 ms)"
else
	echo "getservbyport loop skipped: needs root for a private mount namespace"
fi

echo "== 3. update from the 14,500-row CSV (median of 7)"
runs=7 u=$(median_ms "$pd" update --from "$iana")
echo "portdex update --from CSV: $u ms (goal < 300 ms)"
"$pd" update --json --from "$iana" | python3 -c 'import json,sys; print("stages (ms):", {k: round(v, 1) for k, v in json.load(sys.stdin)["timings_ms"].items()})'

echo "== 4. peak RSS"
for c in "645" "find relay chat" "export --format csv"; do
	rss=$( { /usr/bin/time -f '%M' "$pd" $c >/dev/null; } 2>&1 | tail -1)
	echo "portdex $c: ${rss} KiB (goal < 10 MB)"
done
rss=$( { /usr/bin/time -f '%M' "$pd" update --from "$iana" >/dev/null; } 2>&1 | tail -1)
echo "portdex update: ${rss} KiB"
