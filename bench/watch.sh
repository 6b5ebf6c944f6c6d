#!/bin/bash
# bench/watch.sh - the CPU cost of one `portdex watch` interval at N TCP
# listeners (default 10,000, held by tests/listen-helper on 127.0.0.1),
# against what a user polls with instead: one `ss -tlnp` (and `ss -tln`)
# per interval, as `watch -n1 ss -tlnp` does.
#
# A watch's steady cost is measured as the difference between a run of
# LONG intervals and a run of 1 interval (which both pay the start and the
# first, full, process walk), divided by LONG - 1.  CPU is user + system
# time of the child from getrusage(RUSAGE_CHILDREN), so waiting for a core
# on a loaded machine does not count.  Runs are interleaved (watch pair,
# ss -tlnp, ss -tln) ROUNDS times; medians are printed with their ratio.
#
# usage: bench/watch.sh [BUILD_DIR]   env: N=10000 ROUNDS=5 LONG=21
#        INTERVAL=0.2  PORTDEX=path HELPER=path
# It binds 127.0.0.1 only and sends no traffic.
set -u
BUILD=${1:-${PDX_BUILD:-$(dirname "$0")/../build}}
PORTDEX=${PORTDEX:-$BUILD/portdex}
HELPER=${HELPER:-$BUILD/tests/listen-helper}
N=${N:-10000}
ROUNDS=${ROUNDS:-5}
LONG=${LONG:-21}
INTERVAL=${INTERVAL:-0.2}

for t in python3 ss; do
	command -v $t >/dev/null || { echo "bench/watch.sh: $t is needed" >&2; exit 1; }
done
ulimit -n $((N + 256)) 2>/dev/null || { echo "bench/watch.sh: cannot raise the open file limit to $((N + 256))" >&2; exit 1; }
tmp=$(mktemp -d /tmp/pdx-bench-watch.XXXXXX)
hpid=
trap '[ -n "$hpid" ] && kill "$hpid" 2>/dev/null; rm -rf "$tmp"' EXIT
"$HELPER" -t 900 -n "$N" tcp/127.0.0.1/0 > "$tmp/helper" 2>&1 &
hpid=$!
for _ in $(seq 1200); do grep -q '^READY' "$tmp/helper" && break; sleep 0.1; done
grep -q '^READY' "$tmp/helper" || { echo "bench/watch.sh: the helper did not start" >&2; exit 1; }

python3 - "$PORTDEX" "$ROUNDS" "$LONG" "$INTERVAL" "$N" <<'EOF'
import os, resource, statistics, subprocess, sys
portdex, rounds, long_, iv, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
def cpu(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
def watch(intervals, *extra):
    # --duration ends it after `intervals` listings past the first
    return cpu([portdex, "watch", "-t", "--jsonl", "--interval", str(iv),
                "--duration", str(iv * intervals - iv / 2), *extra])
w, wn, sp, s = [], [], [], []
for _ in range(rounds):
    w.append((watch(long_) - watch(1)) / (long_ - 1))
    wn.append((watch(long_, "--no-pids") - watch(1, "--no-pids")) / (long_ - 1))
    sp.append(cpu(["ss", "-tlnp"]))
    s.append(cpu(["ss", "-tln"]))
m = lambda v: statistics.median(v) * 1000
print("listeners: %s, interval %.2f s, %d rounds, load average %s" % (n, iv, rounds, open("/proc/loadavg").read().split()[0]))
print("portdex watch, CPU per interval:            %7.2f ms   vs ss -tlnp once: %7.2f ms   ratio %.2f" % (m(w), m(sp), m(w) / m(sp)))
print("portdex watch --no-pids, CPU per interval:  %7.2f ms   vs ss -tln once:  %7.2f ms   ratio %.2f" % (m(wn), m(s), m(wn) / m(s)))
EOF
