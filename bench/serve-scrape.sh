#!/usr/bin/env bash
# bench/serve-scrape.sh - the cost of being watched (issue 17): CPU time of
# one scrape of `portdex serve --expose-local`'s /metrics at 100 and 10,000
# TCP listeners, against one scrape of node_exporter (Debian's
# prometheus-node-exporter, its default collectors) on the same host, and
# the resident size (VmRSS) of both servers idle, before and after the
# scrapes.
#
# The script runs in a network namespace of its own (unshare -n, gone when
# it exits): both servers listen on its loopback and see exactly the
# listeners the script opens there (tests/listen-helper, as nobody, the
# user serve drops to, so serve can name their process).  A scrape is one
# HTTP GET on a new connection, as a first Prometheus scrape makes; its
# CPU is the server process's CPU clock (every thread, user + system, ns
# resolution: clock_gettime on the process's CPU clock) read before the
# request and SETTLE s after the answer was read, so work done after the
# answer counts too.  The two servers are scraped in alternate order,
# ROUNDS rounds after WARM warm-up scrapes each; medians and the ratio of
# the medians are printed.  Each count is run for a fresh machine (no
# state database) and, unless LIVED=0, the lived-in one of bench/lived-in.sh
# (1,000 notes, 200 more listeners of nobody).
#
# usage: bench/serve-scrape.sh [BUILD_DIR]
#   env: COUNTS="100 10000" ROUNDS=9 WARM=2 SETTLE=0.05 LIVED=1
# Needs: root (the namespace, --user nobody), python3, setpriv (util-linux),
# prometheus-node-exporter.  Everything but the two servers runs niced;
# the servers are measured by their CPU clock, not wall time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/serve-scrape.sh: run as root (a network namespace, serve --user nobody)" >&2; exit 1; }
if [ -z "${SCRAPE_NETNS:-}" ]; then
	exec unshare -n env SCRAPE_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
build=${1:-${PDX_BUILD:-$here/build}}
pd=$build/portdex
helper=$build/tests/listen-helper
NODE=${NODE:-$(command -v prometheus-node-exporter || echo /usr/bin/prometheus-node-exporter)}
COUNTS=${COUNTS:-100 10000}
ROUNDS=${ROUNDS:-9}
WARM=${WARM:-2}
SETTLE=${SETTLE:-0.05}
LIVED=${LIVED:-1}
for t in python3 setpriv; do
	command -v $t >/dev/null || { echo "bench/serve-scrape.sh: $t is needed" >&2; exit 1; }
done
[ -x "$NODE" ] || { echo "bench/serve-scrape.sh: prometheus-node-exporter is not installed" >&2; exit 1; }
[ -x "$pd" ] && [ -x "$helper" ] || { echo "bench/serve-scrape.sh: build $build first (portdex, tests/listen-helper)" >&2; exit 1; }
max=0
for n in $COUNTS; do [ "$n" -gt "$max" ] && max=$n; done
ulimit -n $((max + 512)) 2>/dev/null || { echo "bench/serve-scrape.sh: cannot raise the open file limit" >&2; exit 1; }

T=$(mktemp -d /tmp/pdx-bench-scrape.XXXXXX)
chmod 755 "$T"
L=$T/lived
hpid='' spid='' npid=''
stop_servers() {
	local p
	for p in $spid $npid; do kill "$p" 2>/dev/null || true; done
	for p in $spid $npid; do wait "$p" 2>/dev/null || true; done
	spid='' npid=''
}
stopall() {
	stop_servers
	[ -n "$hpid" ] && { kill "$hpid" 2>/dev/null; wait "$hpid" 2>/dev/null || true; }
	hpid=
}
cleanup() {
	stopall
	"$here/bench/lived-in.sh" stop "$L" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
NOBODY=$(id -u nobody)

echo "bench/serve-scrape.sh: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$("$pd" --version | head -1); $("$NODE" --version 2>&1 | head -1)"
if [ "$LIVED" = 1 ]; then
	nice "$here/bench/lived-in.sh" build "$L" "$build" >/dev/null
	REG=$L/registry.db
else
	nice "$pd" update --from "$here/data/iana/service-names-port-numbers.csv" --db "$T/registry.db" >/dev/null
	REG=$T/registry.db
fi

listeners() {	# listeners N: N loopback TCP listeners of nobody
	"$helper" -t 1800 -u "$NOBODY" -n "$1" tcp/127.0.0.1/0 > "$T/h.out" 2> "$T/h.err" &
	hpid=$!
	for _ in $(seq 3000); do
		grep -q '^READY' "$T/h.out" && return 0
		kill -0 "$hpid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench/serve-scrape.sh: listen-helper failed: $(cat "$T/h.err")" >&2
	exit 1
}
wait_http() {	# wait_http PORT PID LOG
	for _ in $(seq 200); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench/serve-scrape.sh: a server did not start: $(tail -5 "$3")" >&2
	exit 1
}

printf '%-9s %-9s %12s %12s %7s   %12s %12s   %9s %9s\n' listeners machine "portdex CPU" "node CPU" ratio "portdex RSS" "node RSS" "/metrics" "node's"
printf '%-9s %-9s %12s %12s %7s   %12s %12s   %9s %9s\n' "" "" "ms/scrape" "ms/scrape" "" "idle/after" "idle/after" bytes bytes
for n in $COUNTS; do
	listeners "$n"
	for m in fresh lived-in; do
		[ "$m" = lived-in ] && [ "$LIVED" != 1 ] && continue
		state=$T/fresh-state.db
		rm -f "$state"
		if [ "$m" = lived-in ]; then
			state=$L/state.db
			"$here/bench/lived-in.sh" start "$L" "$build"
		fi
		: > "$T/serve.log"
		"$pd" -q --db "$REG" --state "$state" serve --user nobody --expose-local \
		    --listen 127.0.0.1:9650 2> "$T/serve.log" &
		spid=$!
		setpriv --reuid "$NOBODY" --regid "$(id -g nobody)" --clear-groups \
		    "$NODE" --web.listen-address=127.0.0.1:9100 > "$T/node.log" 2>&1 &
		npid=$!
		wait_http 9650 "$spid" "$T/serve.log"
		wait_http 9100 "$npid" "$T/node.log"
		nice python3 - "$spid" "$npid" "$ROUNDS" "$WARM" "$SETTLE" <<'EOF' > "$T/res"
import http.client, statistics, sys, time
spid, npid, rounds, warm, settle = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
def cpu(pid):
    return time.clock_gettime(((~pid) << 3) | 2)	# the process's CPU clock
def rss(pid):
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
def scrape(pid, port):
    c0 = cpu(pid)
    h = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h.request("GET", "/metrics")
    r = h.getresponse()
    body = r.read()
    h.close()
    if r.status != 200:
        sys.exit("scrape of port %d: HTTP %d" % (port, r.status))
    time.sleep(settle)
    return cpu(pid) - c0, len(body), body
time.sleep(1)
idle = (rss(spid), rss(npid))
for _ in range(warm):
    scrape(spid, 9650); scrape(npid, 9100)
s, nd = [], []
for i in range(rounds):
    order = [(spid, 9650, s), (npid, 9100, nd)]
    if i % 2:
        order.reverse()
    for pid, port, out in order:
        t, size, body = scrape(pid, port)
        out.append(t)
        if port == 9650:
            ssize, sbody = size, body
        else:
            nsize = size
time.sleep(1)
after = (rss(spid), rss(npid))
ms = lambda v: statistics.median(v) * 1000
series = sum(1 for l in sbody.split(b"\n") if l.startswith(b"portdex_listeners{"))
print("%.2f %.2f %.2f %d/%d %d/%d %d %d %d %.2f-%.2f %.2f-%.2f" % (ms(s), ms(nd), ms(s) / ms(nd),
      idle[0], after[0], idle[1], after[1], ssize, nsize, series,
      min(s) * 1000, max(s) * 1000, min(nd) * 1000, max(nd) * 1000))
EOF
		read -r sc nc ratio srss nrss ssize nsize series srange nrange < "$T/res"
		printf '%-9s %-9s %12s %12s %7s   %12s %12s   %9s %9s\n' "$n" "$m" "$sc" "$nc" "$ratio" "$srss kB" "$nrss kB" "$ssize" "$nsize"
		echo "          (ranges: portdex $srange ms, node_exporter $nrange ms; $series portdex_listeners series)"
		stop_servers
		if [ "$m" = lived-in ]; then "$here/bench/lived-in.sh" stop "$L"; fi
	done
	stopall
done
echo "medians of $ROUNDS scrapes each (after $WARM warm-up scrapes), interleaved; load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
