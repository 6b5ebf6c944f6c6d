#!/usr/bin/env bash
# serve --expose-local with 10,000 loopback listeners (a child that holds
# them, killed at the end): /metrics keeps at most --metrics-max-ports
# ports of their own and folds the rest into port="other" (series count
# and size within the bounds of docs/serve.md), a noted port keeps its
# series first; /api/v1/audit and /api/v1/listening stay under their
# documented default sizes, take level, port and limit, and answer a bad
# value with a 400 and a JSON error.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed" >&2; exit 77; }
build_registry
N=10000
# the bounds documented in docs/serve.md ("Bounds")
MAX_SERIES=600 MAX_METRICS=262144 MAX_AUDIT=524288 MAX_LISTENING=524288
if [ "$(id -u)" = 0 ]; then
	mkdir "$T/state"; chown nobody "$T/state"
	export PORTDEX_STATE=$T/state/state.db
fi
chmod 755 "$T"
SPID= LPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; rm -rf "$T"' EXIT

python3 -c '
import resource, socket, sys, time
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, n + 64))
held = []
for _ in range(n):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held[:3]), flush=True)
time.sleep(300)' "$N" > "$T/ports" 2> "$T/child.err" &
LPID=$!
for _ in $(seq 200); do [ -s "$T/ports" ] && break; kill -0 "$LPID" 2>/dev/null || break; sleep 0.1; done
[ -s "$T/ports" ] || { echo "FAIL: could not open $N listeners: $(cat "$T/child.err")" >&2; exit 1; }
read -r P1 P2 _ < "$T/ports"

# NOTED: one of the child's ports with a note (the one series kept when
# only one may be)
"$PORTDEX" -q note "$P1/tcp" "bounds test: noted port"

# metrics_check FILE MAX_PORTS: series of portdex_listeners, distinct port
# numbers, sum of the values
metrics_stats() {
	python3 -c '
import re, sys
series, ports, total, other = 0, set(), 0, 0
for line in open(sys.argv[1]):
    m = re.match(r"portdex_listeners\{port=\"([^\"]+)\",.*\} (\d+)$", line)
    if not m:
        continue
    series += 1
    total += int(m.group(2))
    if m.group(1) == "other":
        other += 1
    else:
        ports.add(m.group(1))
print(series, len(ports), total, other, ",".join(sorted(ports)) if len(ports) < 5 else "-")' "$1"
}

serve_on_loopback --expose-local
curl -s --max-time 60 -o "$T/metrics" "$URL/metrics"
read -r SERIES PORTS TOTAL OTHER _ <<< "$(metrics_stats "$T/metrics")"
expect_eq "every listener counted" yes "$([ "$TOTAL" -ge "$N" ] && echo yes || echo "no: $TOTAL")"
expect_eq "at most 500 ports of their own" yes "$([ "$PORTS" -le 500 ] && [ "$PORTS" -gt 0 ] && echo yes || echo "no: $PORTS")"
expect_eq "the rest folded into port=other" yes "$([ "$OTHER" -ge 1 ] && echo yes || echo "no: $OTHER")"
expect_eq "series within the documented bound" yes "$([ "$SERIES" -le "$MAX_SERIES" ] && echo yes || echo "no: $SERIES")"
SIZE=$(stat -c %s "$T/metrics")
expect_eq "/metrics size within the documented bound" yes "$([ "$SIZE" -le "$MAX_METRICS" ] && echo yes || echo "no: $SIZE bytes")"
expect_match "noted port kept" "portdex_listeners\{port=\"$P1\",proto=\"tcp\",scope=\"loopback\"" "$(cat "$T/metrics")"
expect_match "audit completeness" '^portdex_audit_complete [01]$' "$(cat "$T/metrics")"
echo "note: $N listeners: $SERIES series, $PORTS ports, $SIZE bytes" >&2

# /api/v1/audit: default size, the page, and the parameters
getj() { CODE=$(curl -s --max-time 60 -o "$T/body" -w '%{http_code}' "$URL$1") || CODE=curl-failed; }
getj /api/v1/audit
expect_eq "audit 200" 200 "$CODE"
SIZE=$(stat -c %s "$T/body")
expect_eq "audit default size within the bound" yes "$([ "$SIZE" -le "$MAX_AUDIT" ] && echo yes || echo "no: $SIZE bytes")"
OUT=$(cat "$T/body")
expect_eq "audit lists cut to 200" "200 200 True" "$(json 'len(j["findings"]), len(j["listeners"]), j["page"]["truncated"]')"
expect_eq "audit page counts the whole" yes "$(json '"yes" if j["page"]["listeners"] >= '"$N"' else j["page"]')"
getj '/api/v1/audit?limit=3&level=info'
OUT=$(cat "$T/body")
expect_eq "audit limit=3" "3 3" "$(json 'len(j["findings"]), len(j["listeners"])')"
getj "/api/v1/audit?port=$P2"
OUT=$(cat "$T/body")
expect_eq "audit port=N: that port only" "1 [$P2]" "$(json 'len(j["listeners"]), sorted({f["port"] for f in j["findings"] + j["listeners"]})')"
getj '/api/v1/audit?level=high&limit=100000'
OUT=$(cat "$T/body")
expect_eq "audit level=high: only high findings" "['high']" "$(json 'sorted({f["level"] for f in j["findings"]}) or ["high"]')"
getj '/api/v1/audit?level=low&limit=100000'
OUT=$(cat "$T/body")
expect_eq "audit level=low: nothing below low" "yes" "$(json '"yes" if all(f["level"] in ("low", "medium", "high") for f in j["findings"]) and j["page"]["findings"] > 0 else j["page"]')"

getj /api/v1/listening
SIZE=$(stat -c %s "$T/body")
expect_eq "listening 200" 200 "$CODE"
expect_eq "listening default size within the bound" yes "$([ "$SIZE" -le "$MAX_LISTENING" ] && echo yes || echo "no: $SIZE bytes")"
OUT=$(cat "$T/body")
expect_eq "listening cut to 200" "200 True" "$(json 'len(j["sockets"]), j["page"]["truncated"]')"
getj "/api/v1/listening?port=$P2"
OUT=$(cat "$T/body")
expect_eq "listening port=N" "[$P2] False" "$(json '[s["local"]["port"] for s in j["sockets"]], j["page"]["truncated"]')"
getj "/api/v1/listening?level=high&limit=5"
OUT=$(cat "$T/body")
expect_eq "listening level=high" yes "$(json '"yes" if len(j["sockets"]) <= 5 and all(s["service"]["risk"] == "high" for s in j["sockets"]) else j["sockets"]')"

for q in 'level=severe' 'level=' 'port=65536' 'port=-1' 'port=22x' 'limit=0' 'limit=100001' 'limit=ten'; do
	for api in audit listening; do
		getj "/api/v1/$api?$q"
		OUT=$(cat "$T/body")
		expect_eq "$api?$q is a 400" 400 "$CODE"
		expect_eq "$api?$q says why in JSON" yes "$(json '"yes" if j["status"] == 400 and len(j["error"]) > 10 else j' 2>&1)"
	done
done
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=

# --metrics-max-ports 1: the noted port is the one kept
serve_on_loopback --expose-local --metrics-max-ports 1
curl -s --max-time 60 -o "$T/metrics" "$URL/metrics"
read -r SERIES PORTS TOTAL OTHER KEPT <<< "$(metrics_stats "$T/metrics")"
expect_eq "--metrics-max-ports 1 keeps the noted port" "1 $P1" "$PORTS $KEPT"
expect_eq "--metrics-max-ports 1 still counts all" yes "$([ "$TOTAL" -ge "$N" ] && echo yes || echo "no: $TOTAL")"
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=
run_rc "$PORTDEX" serve --metrics-max-ports lots
expect_eq "bad --metrics-max-ports" 2 "$RC"
expect_match "bad --metrics-max-ports says why" "metrics-max-ports" "$ERR"
finish
