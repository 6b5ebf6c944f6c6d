#!/usr/bin/env bash
# portdex serve under load mixed with malformed traffic, on a random
# loopback port: wrk sends valid requests (random /port/N, the JSON API,
# searches) while a Python client sends oversized headers, bad methods,
# bad percent-encoding, huge query strings, overlong URLs, garbage bytes,
# lying bodies, slow clients (a byte a second), a slow reader and idle or
# half-closed connections from other loopback addresses.  Checked: no
# valid request gets anything but 2xx/3xx and wrk sees no connect, read or
# write error; every malformed request gets a 4xx or a close, never a 5xx
# (the /metrics counters agree); resident memory at the end is within
# max(4 MiB, 20%) of its value after a warm-up with the same traffic and
# the first seconds of the run (under ASan: max(64 MiB, 50%), as its allocator keeps freed memory in
# quarantine); pages still answer afterwards; SIGTERM still exits 0.
# PDX_LOAD_SECS (default 22) sets the length of the loaded run.  The
# malformed client goes on past it (for at most 60 s more) until 100
# malformed requests were answered: under ASan on a loaded machine the
# slowest ones take seconds each, and one CI run counted only 88.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-load-lib.sh"
for t in wrk python3 curl; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed" >&2; exit 77; }
done
build_registry
chmod 755 "$T"		# the server drops to nobody when run as root
sl_write_tools "$T"
WARM=4
SETTLE=4
RUN=${PDX_LOAD_SECS:-22}
if grep -q __asan_init "$PORTDEX"; then
	ASAN=1
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=32"
else
	ASAN=0
fi
SPID= SAMPLER=
trap '[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT

# Every page rendered (no cache): the most code per request, and a
# resident size that has no reason to grow.
if ! sl_start "$PORTDEX" "$PORTDEX_DB" "$PORTDEX_STATE" "$T/serve.log" \
    --threads 4 --cache-mb 0; then
	fail "server did not start"
	finish
	exit 1
fi
SPID=$SL_PID
PORT=${SL_URL##*:}
sl_sampler "$SPID" "$T/rss.txt" $((WARM + RUN + 30)) &
SAMPLER=$!

# Warm-up: the same mix for a few seconds, so that every kind of
# connection and answer has been allocated once before the baseline.
python3 "$T/attack.py" --port "$PORT" --duration "$WARM" --slow-secs 2 \
    --linger 0 > "$T/warm-attack.txt" 2>&1 &
WAPID=$!
wrk -t2 -c32 -d"${WARM}s" -s "$T/load.lua" "$SL_URL" > "$T/warm-wrk.txt" 2>&1
wait "$WAPID"
echo "after the warm-up phase: $(grep -o 'rps=[0-9.]*' "$T/warm-wrk.txt"), rss $(sl_rss "$SPID") KiB"

# The loaded run.
python3 "$T/attack.py" --port "$PORT" --duration "$RUN" --min-sent 100 \
    --slow-secs $((RUN - 8)) --slow 40 --idle 100 --json "$T/attack.json" \
    > "$T/attack.txt" 2>&1 &
APID=$!
wrk -t2 -c32 -d"${RUN}s" --timeout 5s -s "$T/load.lua" "$SL_URL" > "$T/wrk.txt" 2>&1 &
WPID=$!
# The baseline: a few seconds into the run, once every slow, idle and
# lingering connection is open and each kind of answer has been given.
sleep "$SETTLE"
RSS_WARM=$(sl_rss "$SPID")
wait "$WPID"
ARC=0
wait "$APID" || ARC=$?
cat "$T/attack.txt"
RESULT=$(grep '^RESULT ' "$T/wrk.txt")
echo "wrk: ${RESULT:-no result: $(cat "$T/wrk.txt")}"
for kv in ${RESULT#RESULT }; do
	k=${kv%%=*}
	[[ $k =~ ^[a-z0-9_]+$ ]] && declare "W_$k=${kv#*=}"
done

kill -0 "$SPID" 2>/dev/null && pass || fail "server died under load"
expect_match "wrk finished" '^RESULT ' "$RESULT"
expect_match "valid requests answered" '^[1-9][0-9]*$' "${W_s2xx:-0}"
expect_eq "valid requests answered 4xx" 0 "${W_s4xx:-?}"
expect_eq "valid requests answered 5xx" 0 "${W_s5xx:-?}"
expect_eq "valid requests answered other statuses" 0 "${W_sother:-?}"
expect_eq "wrk non-2xx/3xx" 0 "${W_status_errors:-?}"
expect_eq "wrk connect errors" 0 "${W_connect:-?}"
expect_eq "wrk read errors" 0 "${W_read:-?}"
expect_eq "wrk write errors" 0 "${W_write:-?}"
[ "${W_timeout:-0}" = 0 ] || echo "note: $W_timeout wrk timeouts (5 s) of ${W_requests:-?} requests" >&2
expect_eq "malformed traffic: every answer a 4xx or a close (see VIOLATION lines)" 0 "$ARC"
SENT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sent"])' "$T/attack.json" 2>/dev/null)
expect_match "malformed requests were sent (>= 100)" '^([1-9][0-9]{2}|[0-9]{4,})$' "${SENT:-0}"
expect_match "slow clients were answered" 'slowloris: 200 +[1-9]' "$(cat "$T/attack.txt")"
expect_match "slow reader got every page" 'slow reader: 40 of 40 answers 200' "$(cat "$T/attack.txt")"

# Still serving, and the server's own counters saw no 5xx.
for p in /port/22 /api/v1/ports/22 "/search?q=ssh" "/api/v1/search?q=ssh"; do
	expect_eq "after the run: $p" 200 \
	    "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$SL_URL$p")"
done
expect_eq "after the run: the API's port" 22 "$(curl -s -m 10 "$SL_URL/api/v1/ports/22" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])' 2>&1)"
METRICS=$(curl -s -m 10 "$SL_URL/metrics")
expect_match "metrics counted the run" 'portdex_http_requests_total\{code="200"\} [1-9]' "$METRICS"
expect_eq "metrics count no 5xx" "" \
    "$(printf '%s\n' "$METRICS" | grep -E '^portdex_http_requests_total\{code="5[0-9]{2}"\} [1-9]')"

# Resident memory: end against after warm-up.
RSS_END=$(sl_rss "$SPID")
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
SAMPLER=
sl_rss_report "$T/rss.txt" "$RSS_WARM" "$RSS_END"
if [ "$ASAN" = 1 ]; then
	LIMIT=$(( RSS_WARM / 2 > 65536 ? RSS_WARM / 2 : 65536 ))
	echo "ASan build: resident memory bound relaxed to +$LIMIT KiB"
else
	LIMIT=$(( RSS_WARM / 5 > 4096 ? RSS_WARM / 5 : 4096 ))
fi
if [ -n "$RSS_WARM" ] && [ -n "$RSS_END" ] &&
    [ $((RSS_END - RSS_WARM)) -le "$LIMIT" ]; then
	pass
else
	fail "resident memory grew from ${RSS_WARM:-?} to ${RSS_END:-?} KiB (bound +$LIMIT KiB)"
fi

kill -TERM "$SPID"
SRC=0
wait "$SPID" || SRC=$?
SPID=
expect_eq "SIGTERM exit status after the run" 0 "$SRC"
expect_eq "no sanitizer report" "" "$(grep -E -A4 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/serve.log" | head -12)"
echo "access log: $(grep -c '" [0-9][0-9][0-9] [0-9]*$' "$T/serve.log") answered requests," \
    "$(grep -c 'libmicrohttpd:' "$T/serve.log") libmicrohttpd messages"
finish
