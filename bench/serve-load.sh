#!/usr/bin/env bash
# bench/serve-load.sh - portdex serve under load mixed with malformed and
# slow traffic, for a longer run than tests/cli/test-serve-load.sh (which
# it shares tests/cli/serve-load-lib.sh with).
#
# wrk sends valid requests (random /port/N and /port/N/tcp, the JSON API
# of random ports, searches) while a Python client sends oversized
# headers, bad methods, bad percent-encoding, huge query strings, long
# URLs, garbage, lying bodies, slow clients, a slow reader and idle or
# half-closed connections.  A warm-up with the same mix comes first.
# Printed: requests/s and p50/p99/max latency of the valid requests and
# their statuses by class, the malformed requests by outcome, and the
# server's resident memory (VmRSS, sampled every second): start, after
# warm-up (SETTLE s into the run, every slow and idle connection open),
# end, max, and every sample.
#
# Needs: wrk, curl, python3.  Environment:
#   PORTDEX    the binary (default: a RelWithDebInfo build in $BUILD)
#   BUILD      build dir for that build (default /tmp/portdex-bench-build)
#   IANA       the IANA CSV (default ../shared/data/iana/...)
#   DURATION=60 WARM=10 SETTLE=10 (seconds into the run for the memory
#              baseline) CONNS=32 WRK_THREADS=2 THREADS=4
#   CACHE_MB=0 (every page rendered; with a cache, the resident size
#              grows by design up to the cache size)
#   SLOW=40 IDLE=100 (slow and idle connections)
# Exit status: 0 when the run was clean, 1 when a valid request got a
# non-2xx/3xx or a socket error, a malformed one a 5xx or no answer, or
# the server did not exit 0 on SIGTERM.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
IANA=${IANA:-$SRC/../shared/data/iana/service-names-port-numbers.csv}
DURATION=${DURATION:-60}
WARM=${WARM:-10}
SETTLE=${SETTLE:-10}
CONNS=${CONNS:-32}
WRK_THREADS=${WRK_THREADS:-2}
THREADS=${THREADS:-4}
CACHE_MB=${CACHE_MB:-0}
SLOW=${SLOW:-40}
IDLE=${IDLE:-100}
for t in wrk curl python3; do
	command -v $t >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
. "$SRC/tests/cli/serve-load-lib.sh"

if [ -z "${PORTDEX:-}" ]; then
	BUILD=${BUILD:-/tmp/portdex-bench-build}
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    ${PDX_EXCLUDE:+-DPDX_EXCLUDE="$PDX_EXCLUDE"} >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target portdex >/dev/null
	PORTDEX=$BUILD/portdex
fi

T=$(mktemp -d /tmp/portdex-bench.XXXXXX)
chmod 755 "$T"
SL_PID= SAMPLER=
cleanup() {
	[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
	[ -n "$SL_PID" ] && kill "$SL_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
"$PORTDEX" update --from "$IANA" --db "$T/registry.db" >/dev/null
sl_write_tools "$T"
sl_start "$PORTDEX" "$T/registry.db" "$T/state.db" "$T/serve.log" \
    --threads "$THREADS" --cache-mb "$CACHE_MB" || exit 1
PORT=${SL_URL##*:}
sl_sampler "$SL_PID" "$T/rss.txt" $((WARM + DURATION + 60)) &
SAMPLER=$!
clean=1

echo "portdex serve --threads $THREADS --cache-mb $CACHE_MB; wrk -t$WRK_THREADS" \
    "-c$CONNS; $SLOW slow and $IDLE idle clients; warm-up ${WARM} s, run" \
    "${DURATION} s; $(nproc) CPUs, $(uname -r)"
python3 "$T/attack.py" --port "$PORT" --duration "$WARM" \
    --slow-secs $((WARM > 4 ? WARM - 2 : 2)) --slow "$SLOW" --idle "$IDLE" \
    --linger 0 > "$T/warm-attack.txt" 2>&1 &
WAPID=$!
wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARM}s" -s "$T/load.lua" "$SL_URL" > /dev/null
wait "$WAPID" || true
RSS_PRE=$(sl_rss "$SL_PID")

python3 "$T/attack.py" --port "$PORT" --duration "$DURATION" \
    --slow-secs $((DURATION - 8)) --slow "$SLOW" --idle "$IDLE" \
    > "$T/attack.txt" 2>&1 &
APID=$!
wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s \
    -s "$T/load.lua" "$SL_URL" > "$T/wrk.txt" &
WPID=$!
# The baseline: SETTLE s into the run, every slow and idle connection open.
sleep "$SETTLE"
RSS_WARM=$(sl_rss "$SL_PID")
wait "$WPID"
wait "$APID" || clean=0
RSS_END=$(sl_rss "$SL_PID")
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=

line=$(grep '^RESULT ' "$T/wrk.txt" || true)
for kv in ${line#RESULT }; do
	k=${kv%%=*}
	[[ $k =~ ^[a-z0-9_]+$ ]] && declare "W_$k=${kv#*=}"
done
echo
echo "valid requests (wrk):"
printf '  %s requests in %s s: %s req/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n' \
    "${W_requests:-?}" "${W_seconds:-?}" "${W_rps:-?}" \
    "$(echo "${W_p50_us:-0}/1000" | bc -l)" "$(echo "${W_p99_us:-0}/1000" | bc -l)" \
    "$(echo "${W_max_us:-0}/1000" | bc -l)"
echo "  statuses: 2xx ${W_s2xx:-?}, 3xx ${W_s3xx:-?}, 4xx ${W_s4xx:-?}, 5xx ${W_s5xx:-?}, other ${W_sother:-?}"
echo "  socket errors: connect ${W_connect:-?}, read ${W_read:-?}, write ${W_write:-?}, timeout (5 s) ${W_timeout:-?}"
for k in s4xx s5xx sother status_errors connect read write; do
	v=W_$k
	[ "${!v:-1}" = 0 ] || clean=0
done
echo
sed 's/^/  /' "$T/attack.txt" | sed '1s/^  //'
echo
echo "rss after the warm-up phase (its connections closed): $RSS_PRE KiB;" \
    "'after warm-up' below is $SETTLE s into the run"
sl_rss_report "$T/rss.txt" "$RSS_WARM" "$RSS_END"
echo "page cache: $(curl -s -m 10 "$SL_URL/metrics" | grep '^portdex_page_cache_bytes' || echo off)"
kill -TERM "$SL_PID"
rc=0
wait "$SL_PID" || rc=$?
SL_PID=
echo "server exit status after SIGTERM: $rc"
[ "$rc" = 0 ] || clean=0
if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/serve.log"; then
	grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/serve.log" | head -40
	clean=0
fi
[ "$clean" = 1 ] && echo "clean run" || { echo "NOT CLEAN: see above"; exit 1; }
