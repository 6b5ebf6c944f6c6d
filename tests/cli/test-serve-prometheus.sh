#!/usr/bin/env bash
# A real Prometheus (Debian's prometheus) scrapes `portdex serve
# --expose-local` on loopback; the test asks Prometheus's HTTP API until
# the portdex_ series appear with the labels we expect (a listener we
# open ourselves, with its port, transport, scope and risk as the CLI
# rates it).  `promtool check metrics` must pass on /metrics, and the
# deploy/ configuration and alert rules must check and pass their unit
# test.
. "$(dirname "$0")/lib.sh"
PROM=$(command -v prometheus || true)
PROMTOOL=$(command -v promtool || true)
if [ -z "$PROM" ] || [ -z "$PROMTOOL" ]; then
	echo "SKIP: prometheus/promtool not installed (Debian package prometheus)" >&2
	exit 77
fi
command -v curl >/dev/null || { echo "SKIP: curl is not installed" >&2; exit 77; }
build_registry
chmod 755 "$T"
RUNAS=()
[ "$(id -u)" = 0 ] && RUNAS=(--user nobody)
SPID= PPID2= LPID=
trap '[ -n "$PPID2" ] && kill "$PPID2" 2>/dev/null; [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

# A free loopback port, chosen by the kernel.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the deploy/ files ---------------------------------------------------
run_rc "$PROMTOOL" check config "$PDX_SRCDIR/deploy/prometheus.yml"
expect_eq "deploy/prometheus.yml checks" 0 "$RC"
run_rc "$PROMTOOL" check rules "$PDX_SRCDIR/deploy/portdex-alerts.yml"
expect_eq "deploy/portdex-alerts.yml checks" 0 "$RC"
cp "$PDX_SRCDIR/deploy/portdex-alerts.yml" "$T/"
cat > "$T/alerts-test.yml" <<'EOF'
rule_files:
  - portdex-alerts.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'portdex_listeners{instance="h1",job="portdex",port="23",proto="tcp",scope="all",risk="high"}'
        values: '_x10 1x20'
      - series: 'portdex_listeners{instance="h1",job="portdex",port="631",proto="tcp",scope="loopback",risk="high"}'
        values: '1x30'
    alert_rule_test:
      - eval_time: 8m
        alertname: PortdexHighRiskListener
        exp_alerts: []
      - eval_time: 20m
        alertname: PortdexHighRiskListener
        exp_alerts:
          - exp_labels: {severity: warning, instance: h1, job: portdex, port: "23", proto: tcp, scope: all, risk: high}
            exp_annotations:
              summary: "High-risk listener on h1: tcp/23"
              description: "h1 listens on tcp port 23 (all address), which portdex rates high risk. Run 'portdex 23' on the host to see why."
EOF
run_rc "$PROMTOOL" test rules "$T/alerts-test.yml"
expect_eq "alert rules unit test" 0 "$RC"
[ "$RC" = 0 ] || echo "$OUT $ERR" >&2

# ---- portdex serve, with a listener of our own ---------------------------
# (and a UDP socket on the same port number, when it is free: then the
# port has two series, which must count one socket each)
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
n = 1
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", s.getsockname()[1])); n = 2
except OSError:
    pass
print(s.getsockname()[1], n, flush=True)
time.sleep(300)' > "$T/listener.port" &
LPID=$!
for _ in $(seq 50); do [ -s "$T/listener.port" ] && break; sleep 0.1; done
read -r LPORT LCOUNT < "$T/listener.port"
RISK=$("$PORTDEX" show "$LPORT/tcp" --json | python3 -c '
import json, sys
print(json.load(sys.stdin)["transports"][0]["risk"]["level"])')

# an ephemeral port keeps a series of its own only when it matters: a note
"$PORTDEX" -q note "$LPORT/tcp" "test-serve-prometheus's listener"
"$PORTDEX" serve "${RUNAS[@]}" --listen 127.0.0.1:0 --expose-local 2> "$T/serve.log" &
SPID=$!
URL=
for _ in $(seq "$START_TRIES"); do	# 10 s, 60 s under valgrind (lib.sh)
	URL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$T/serve.log" | head -1)
	[ -n "$URL" ] && break
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$URL" ] || { echo "FAIL: server did not start: $(cat "$T/serve.log")" >&2; exit 1; }
TARGET=${URL#http://}

curl -s "$URL/metrics" > "$T/metrics.txt"
run_rc "$PROMTOOL" check metrics < "$T/metrics.txt"
expect_eq "promtool check metrics" 0 "$RC"
expect_eq "promtool has no complaints" "" "$OUT$ERR"
expect_match "our listener in /metrics" "portdex_listeners\{port=\"$LPORT\",proto=\"tcp\",scope=\"loopback\",risk=\"$RISK\",reach=\"loopback\"\} 1" "$(cat "$T/metrics.txt")"

# ---- each socket counted once --------------------------------------------
# every series and every family once; our port's series add up to our
# sockets, as `ls --json` lists them; and all of portdex_listeners adds up
# to `ls --json`'s sockets (tcp, udp and sctp, as /metrics counts them),
# taken when the machine's listeners held still around the scrape (other
# programs may open and close some meanwhile: a few tries)
expect_eq "no series twice" "" "$(grep -v '^#' "$T/metrics.txt" | sed 's/ [^ ]*$//' | sort | uniq -d | head -3)"
expect_eq "no family twice" "" "$(grep '^# TYPE' "$T/metrics.txt" | sort | uniq -d)"
# listener_sum FILE [PORT]: the sum of portdex_listeners (of port PORT)
listener_sum() {
	python3 -c '
import re, sys
want = sys.argv[2] if len(sys.argv) > 2 else None
t = 0
for line in open(sys.argv[1]):
    m = re.match(r"portdex_listeners\{port=\"([^\"]+)\",.*\} (\d+)$", line)
    if m and (want is None or m.group(1) == want):
        t += int(m.group(2))
print(t)' "$@"
}
ls_count() {
	"$PORTDEX" ls -t -u -S "$@" --json 2>/dev/null | python3 -c '
import json, sys
try:
    print(len(json.load(sys.stdin)["sockets"]))
except Exception:
    print(-1)'
}
expect_eq "ls lists our sockets" "$LCOUNT" "$(ls_count -p "$LPORT")"
expect_eq "our port's series count each of our sockets once" "$LCOUNT" "$(listener_sum "$T/metrics.txt" "$LPORT")"
[ "$LCOUNT" = 2 ] && expect_match "our UDP socket has its series" "portdex_listeners\{port=\"$LPORT\",proto=\"udp\",scope=\"loopback\",risk=\"[a-z]+\",reach=\"loopback\"\} 1" "$(cat "$T/metrics.txt")"
TOTAL=
for _ in $(seq 10); do
	B=$(ls_count)
	curl -s "$URL/metrics" > "$T/metrics2.txt"
	A=$(ls_count)
	[ "$B" = "$A" ] && { TOTAL=$(listener_sum "$T/metrics2.txt"); break; }
	sleep 0.5
done
if [ -z "$TOTAL" ]; then
	echo "note: the machine's listeners never held still over a scrape; total not compared" >&2
	expect_eq "ls still lists our sockets" "$LCOUNT" "$(ls_count -p "$LPORT")"
else
	expect_eq "portdex_listeners adds up to ls --json's sockets" "$A" "$TOTAL"
fi

# ---- a real Prometheus scraping it ----------------------------------------
PPORT=$(free_port)
# Under valgrind (PDX_VALGRIND=1) a scrape can take more than a second on
# a busy machine: scrape every 5 s with a 5 s timeout, and wait longer.
SCRAPE=1s TRIES=60
[ "${PDX_VALGRIND:-0}" = 1 ] && SCRAPE=5s TRIES=180
cat > "$T/prometheus.yml" <<EOF
global:
  scrape_interval: $SCRAPE
  evaluation_interval: 1s
scrape_configs:
  - job_name: portdex
    scrape_interval: $SCRAPE
    scrape_timeout: $SCRAPE
    static_configs:
      - targets: ['$TARGET']
EOF
"$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn \
    2> "$T/prometheus.log" &
PPID2=$!

# query EXPR: prints the JSON result array of an instant query.
query() {
	curl -s -G --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" \
	    --data-urlencode "query=$1" | python3 -c '
import json, sys
try:
    j = json.load(sys.stdin)
    print(json.dumps(j["data"]["result"]) if j.get("status") == "success" else "[]")
except Exception:
    print("[]")'
}
RES="[]"
for _ in $(seq "$TRIES"); do	# at most about a minute (3 under valgrind)
	RES=$(query "portdex_listeners{port=\"$LPORT\"}")
	[ "$RES" != "[]" ] && break
	kill -0 "$PPID2" 2>/dev/null || break
	sleep 1
done
expect_eq "Prometheus has our listener series" yes "$(printf '%s' "$RES" | python3 -c '
import json, sys
r = json.load(sys.stdin)
want = {"__name__": "portdex_listeners", "job": "portdex", "instance": sys.argv[1],
        "port": sys.argv[2], "proto": "tcp", "scope": "loopback", "risk": sys.argv[3], "reach": "loopback"}
print("yes" if any(x["metric"] == want and x["value"][1] == "1" for x in r) else "no: %s" % r)' "$TARGET" "$LPORT" "$RISK")"
RES=$(query 'up{job="portdex"}')
expect_match "target up" '"value": \[[0-9.]+, "1"\]' "$RES"
RES=$(query 'portdex_build_info')
expect_match "build info series" '"version": "[0-9.]+"' "$RES"
RES=$(query 'portdex_registry_rows')
ROWS=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from iana").fetchone()[0])' "$PORTDEX_DB")
expect_match "registry rows = the database's" "\"$ROWS\"" "$RES"
RES=$(query 'portdex_http_requests_total{code="200"}')
expect_match "scrapes counted" '"value": \[[0-9.]+, "[1-9][0-9]*"\]' "$RES"
RES=$(query 'portdex_registry_age_seconds')
expect_match "registry age" '"value": \[[0-9.]+, "[0-9]+"\]' "$RES"

kill "$PPID2"; wait "$PPID2" 2>/dev/null; PPID2=
kill -TERM "$SPID"; SRC=0; wait "$SPID" || SRC=$?; SPID=
expect_eq "server exit" 0 "$SRC"
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; LPID=
finish
