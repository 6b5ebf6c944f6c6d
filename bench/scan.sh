#!/bin/bash
# bench/scan.sh - full TCP sweep (1-65535) of 127.0.0.1: `portdex scan`
# against `nmap -sT -n -Pn --min-rate 10000 -p-`, in the same run, with
# 100 and then 1,000 listening ports opened by a helper process at random
# port numbers.  Prints the median wall time of each tool over RUNS runs
# (alternating which goes first), the ratio portdex/nmap, and whether the
# open sets agree with each other and with the ports actually opened.
#
# usage: bench/scan.sh [PORTDEX]     (default: build/portdex)
# env:   RUNS (5), COUNTS ("100 1000")
# As root the sweep runs in a network namespace made for it, so nothing
# but the helper listens there; otherwise on the host's loopback.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PORTDEX=${1:-${PORTDEX:-$here/../build/portdex}}
RUNS=${RUNS:-5}
COUNTS=${COUNTS:-100 1000}
[ -x "$PORTDEX" ] || { echo "no portdex at $PORTDEX" >&2; exit 2; }
command -v nmap > /dev/null || { echo "nmap is needed (apt-get install nmap)" >&2; exit 2; }
command -v jq > /dev/null || { echo "jq is needed" >&2; exit 2; }

tmp=$(mktemp -d /tmp/pdx-bench.XXXXXX)
ns=
helper=
cleanup() {
	[ -n "$helper" ] && kill "$helper" 2>/dev/null && wait "$helper" 2>/dev/null
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

run=()
if [ "$(id -u)" = 0 ] && command -v ip > /dev/null; then
	ns=pdxbench$$
	ip netns add "$ns" && ip netns exec "$ns" ip link set lo up ||
	    { echo "cannot make a namespace" >&2; exit 2; }
	run=(ip netns exec "$ns")
	where="network namespace $ns (only the helper listens)"
else
	where="host loopback (other listeners may be counted)"
fi

# The helper: N listeners on random free ports of 127.0.0.1.
cat > "$tmp/listen.pl" <<'EOF'
use strict; use IO::Socket::INET;
my ($n, $file) = @ARGV;
my (%seen, @s);
while (@s < $n) {
	my $p = 1 + int(rand(65535));
	next if $seen{$p}++;
	my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
	    Listen => 128, ReuseAddr => 1) or next;
	push @s, $l;
}
open(my $f, '>', "$file.tmp") or die;
print $f join("\n", sort { $a <=> $b } map { $_->sockport } @s), "\n";
close $f; rename("$file.tmp", $file);
$SIG{TERM} = sub { exit 0 };
sleep 600;
EOF

now_ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2);
    if (NR % 2) print v[m]; else print (v[m] + v[m + 1]) / 2 }'; }

echo "portdex: $PORTDEX ($("$PORTDEX" --version | head -1))"
echo "nmap: $(nmap --version | head -1)"
echo "where: $where; $(nproc) CPUs; runs: $RUNS"
printf '\n%-6s %-12s %-12s %-7s %s\n' open "portdex (s)" "nmap (s)" ratio agreement

for n in $COUNTS; do
	rm -f "$tmp/truth"
	"${run[@]}" perl "$tmp/listen.pl" "$n" "$tmp/truth" &
	helper=$!
	for i in $(seq 200); do [ -s "$tmp/truth" ] && break; sleep 0.05; done
	[ -s "$tmp/truth" ] || { echo "helper did not start" >&2; exit 2; }
	: > "$tmp/pt"; : > "$tmp/nt"
	agree=yes
	for r in $(seq "$RUNS"); do
		for tool in $( [ $((r % 2)) = 1 ] && echo "p n" || echo "n p"); do
			t0=$(now_ns)
			if [ "$tool" = p ]; then
				"${run[@]}" "$PORTDEX" --json scan -q -p- 127.0.0.1 \
				    > "$tmp/p.json"
				t1=$(now_ns)
				awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }' >> "$tmp/pt"
				jq -r '.ports[] | select(.state == "open") | .port' \
				    < "$tmp/p.json" | sort -n > "$tmp/p.open"
			else
				"${run[@]}" nmap -sT -n -Pn --min-rate 10000 -p- \
				    -oG "$tmp/n.gnmap" 127.0.0.1 > /dev/null
				t1=$(now_ns)
				awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }' >> "$tmp/nt"
				grep -o '[0-9]*/open/tcp' "$tmp/n.gnmap" |
				    cut -d/ -f1 | sort -n > "$tmp/n.open"
			fi
		done
		if ! cmp -s "$tmp/p.open" "$tmp/n.open" ||
		    ! cmp -s "$tmp/p.open" "$tmp/truth"; then
			agree="NO (run $r: portdex $(wc -l < "$tmp/p.open"), nmap $(wc -l < "$tmp/n.open"), opened $(wc -l < "$tmp/truth"))"
		fi
	done
	pm=$(median < "$tmp/pt"); nm=$(median < "$tmp/nt")
	ratio=$(awk -v a="$pm" -v b="$nm" 'BEGIN { printf "%.2f", a / b }')
	[ "$agree" = yes ] && agree="identical open sets ($n ports, every run, = the ports opened)"
	printf '%-6s %-12s %-12s %-7s %s\n' "$n" "$pm" "$nm" "${ratio}x" "$agree"
	echo "       portdex runs: $(paste -sd' ' "$tmp/pt"); nmap runs: $(paste -sd' ' "$tmp/nt")"
	kill "$helper"; wait "$helper" 2>/dev/null; helper=
done
