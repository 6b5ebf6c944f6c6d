#!/usr/bin/env bash
# A fleet on one machine: 20 network namespaces ("hosts") joined by a
# bridge in a hub namespace, each running `portdex serve --expose-local
# --web-config` (TLS and basic auth, certificates made here) on its own
# address; in the hub, one Prometheus discovers them through file_sd and
# scrapes them over HTTPS with basic auth (deploy/prometheus-fleet.yml's
# job, short intervals, its own storage), evaluates deploy/portdex-alerts.yml
# (short `for:`) and sends to one Alertmanager (deploy/alertmanager.yml,
# short group waits) that delivers to a webhook receiver this test runs.
# A high-risk listener (telnet, 23/tcp on 0.0.0.0) started in host 7 must
# give PortdexHighRiskListener for host 7, and no other host, at the
# webhook within 90 s; stopping it resolves the alert; killing host 12's
# server fires its PortdexDown.  Every wait is bounded; the namespaces
# and every process are removed on exit, even on failure.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: network namespaces need root" >&2; exit 77; }
PROM=$(command -v prometheus) || { echo "SKIP: prometheus is not installed" >&2; exit 77; }
AM=$(command -v prometheus-alertmanager || command -v alertmanager) ||
    { echo "SKIP: prometheus-alertmanager is not installed" >&2; exit 77; }
for c in ip curl openssl timeout; do
	command -v "$c" >/dev/null || { echo "SKIP: $c is not installed" >&2; exit 77; }
done
python3 -W ignore -c 'import crypt' 2>/dev/null || { echo "SKIP: python3 has no crypt module" >&2; exit 77; }
NS=pdxf$$	# namespace prefix, unique to this run
ip netns add "$NS-probe" 2>/dev/null && ip netns del "$NS-probe" ||
    { echo "SKIP: cannot create network namespaces here" >&2; exit 77; }
build_registry
D=$PDX_SRCDIR/deploy
N=20 HOT=7 DOWN=12
NET=10.77.0	# inside the test's namespaces only
LIFE=400	# no process of this test lives longer (timeout)
PIDS=()
cleanup() {
	local p i
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for i in $(seq "$N"); do ip netns del "$NS-h$i" 2>/dev/null; done
	ip netns del "$NS-hub" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE	# so that cleanup runs then too
chmod 755 "$T"
hub() { ip netns exec "$NS-hub" "$@"; }
host_ip() { echo "$NET.$((10 + $1))"; }
label() { printf 'h%02d' "$1"; }

# ---- the network: a bridge in the hub, one veth per host -------------------
ip netns add "$NS-hub"
hub ip link set lo up
hub ip link add br0 type bridge
hub ip addr add "$NET.1/24" dev br0
hub ip link set br0 up
for i in $(seq "$N"); do
	h=$NS-h$i
	ip netns add "$h"
	ip netns exec "$h" ip link set lo up
	ip link add "pf$$h$i" netns "$h" type veth peer name "v$i" netns "$NS-hub"
	ip netns exec "$h" ip link set "pf$$h$i" name eth0
	ip netns exec "$h" ip addr add "$(host_ip "$i")/24" dev eth0
	ip netns exec "$h" ip link set eth0 up
	hub ip link set "v$i" master br0
	hub ip link set "v$i" up
done

# ---- certificates (a CA, one server certificate for every host) and a password
C=$T/tls
mkdir "$C"
SAN=$(for i in $(seq "$N"); do printf 'IP:%s,' "$(host_ip "$i")"; done)
(
	cd "$C" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=fleet-test-ca
	printf 'subjectAltName=%s\n' "${SAN%,}" > san.ext
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=portdex-host
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext
) > "$T/openssl.log" 2>&1 || { echo "FAIL: openssl: $(cat "$T/openssl.log")" >&2; exit 1; }
chmod 755 "$C"; chmod 644 "$C"/*
PASS=fleet-$$-secret
HASH=$(python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' "$PASS")
printf '%s' "$PASS" > "$T/password"
cat > "$T/web.yml" <<EOF
tls_server_config:
  cert_file: $C/server.crt
  key_file: $C/server.key
  min_version: TLS12
basic_auth_users:
  prometheus: '$HASH'
EOF

# ---- the hosts ---------------------------------------------------------------
declare -A SPID
for i in $(seq "$N"); do
	mkdir "$T/h$i"; chown nobody "$T/h$i"
	timeout "$LIFE" ip netns exec "$NS-h$i" "$PORTDEX" --state "$T/h$i/state.db" serve \
	    --user nobody --listen "$(host_ip "$i"):6450" --expose-local \
	    --web-config "$T/web.yml" --threads 1 --cache-mb 0 -q 2> "$T/h$i/serve.log" &
	SPID[$i]=$!
	PIDS+=("$!")
done
up=0
for _ in $(seq 100); do	# 10 s
	up=0
	for i in $(seq "$N"); do
		hub curl -s -o /dev/null --max-time 2 --cacert "$C/ca.crt" -u "prometheus:$PASS" \
		    "https://$(host_ip "$i"):6450/" && up=$((up + 1))
	done
	[ "$up" = "$N" ] && break
	alive=0		# every server gone: nothing more will come up
	for i in $(seq "$N"); do kill -0 "${SPID[$i]}" 2>/dev/null && alive=$((alive + 1)); done
	[ "$alive" = 0 ] && break
	sleep 0.1
done
expect_eq "every host serves over HTTPS with basic auth" "$N" "$up"
if [ "$up" != "$N" ]; then	# nothing to scrape: say why, do not wait for alerts
	tail -3 "$T/h1/serve.log" >&2
	finish
	exit 1
fi
CODE=$(hub curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$C/ca.crt" -u prometheus:wrong "https://$(host_ip 3):6450/metrics")
expect_eq "a wrong password is refused" 401 "$CODE"

# ---- the webhook receiver, Alertmanager, Prometheus (in the hub) ---------
cat > "$T/webhook.py" <<'EOF'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"path": self.path, "body": json.loads(body)}) + "\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
: > "$T/webhook.log"
timeout "$LIFE" ip netns exec "$NS-hub" python3 "$T/webhook.py" 5001 "$T/webhook.log" &
PIDS+=("$!")

sed -e 's/group_wait: .*/group_wait: 1s/' -e 's/group_interval: .*/group_interval: 2s/' \
    "$D/alertmanager.yml" > "$T/alertmanager.yml"
timeout "$LIFE" ip netns exec "$NS-hub" "$AM" --config.file="$T/alertmanager.yml" \
    --storage.path="$T/am-data" --web.listen-address=127.0.0.1:9093 \
    --cluster.listen-address= --log.level=warn 2> "$T/alertmanager.log" &
PIDS+=("$!")

# deploy/'s rules with short `for:`; deploy/prometheus-fleet.yml's portdex
# job with this test's files and intervals
sed -E 's/for: [0-9]+[smh]/for: 2s/' "$D/portdex-alerts.yml" > "$T/portdex-alerts.yml"
python3 - "$D/prometheus-fleet.yml" "$T" > "$T/prometheus.yml" <<'EOF'
import re, sys
text, t = open(sys.argv[1]).read(), sys.argv[2]
text = text.replace("/etc/prometheus/portdex/ca.crt", t + "/tls/ca.crt")
text = text.replace("/etc/prometheus/portdex/password", t + "/password")
text = text.replace("/etc/prometheus/portdex/targets/*.yml", t + "/targets/*.yml")
text = text.replace("/etc/prometheus/node/targets/*.yml", t + "/node-targets/*.yml")
text = re.sub(r"(scrape_interval|evaluation_interval): \d+s", r"\1: 2s", text)
text = re.sub(r"scrape_timeout: \d+s", "scrape_timeout: 2s", text)
text = re.sub(r"refresh_interval: \w+", "refresh_interval: 5s", text)
print(text, end="")
EOF
mkdir "$T/targets" "$T/node-targets"
for i in $(seq "$N"); do
	printf -- '- targets: ["%s:6450"]\n  labels:\n    host: %s\n' "$(host_ip "$i")" "$(label "$i")"
done > "$T/targets/fleet.yml"
# host 3 also publishes through node_exporter's textfile collector (the
# prometheus-fleet.yml "node" job)
NODE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
if [ -n "$NODE" ]; then
	mkdir "$T/textfile"
	ip netns exec "$NS-h3" "$PORTDEX" --state "$T/h3/state.db" audit --textfile "$T/textfile"
	expect_eq "audit --textfile in host 3" 0 "$?"
	timeout "$LIFE" ip netns exec "$NS-h3" "$NODE" --collector.disable-defaults \
	    --collector.textfile --collector.textfile.directory="$T/textfile" \
	    --web.listen-address="$(host_ip 3):9100" 2> "$T/node.log" &
	PIDS+=("$!")
	printf -- '- targets: ["%s:9100"]\n  labels:\n    host: %s\n' "$(host_ip 3)" "$(label 3)" > "$T/node-targets/h3.yml"
fi
timeout "$LIFE" ip netns exec "$NS-hub" "$PROM" --config.file="$T/prometheus.yml" \
    --storage.tsdb.path="$T/prom-data" --web.listen-address=127.0.0.1:9090 \
    --rules.alert.resend-delay=2s --log.level=warn 2> "$T/prometheus.log" &
PIDS+=("$!")

# query EXPR: the value of a one-number instant query, or "none"
query() {
	hub curl -s -G --max-time 5 http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$1" | python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "none")
except Exception:
    print("none")'
}
START=$SECONDS
UP=none
for _ in $(seq 60); do	# a minute
	UP=$(query 'count(up{job="portdex"} == 1)')
	[ "$UP" = "$N" ] && break
	sleep 1
done
expect_eq "Prometheus scrapes all $N hosts (file_sd, https, basic auth)" "$N" "$UP"
expect_eq "their listeners" "$N" "$(query 'count(portdex_local_up{job="portdex"} == 1)')"
echo "note: all $N hosts up in Prometheus after $((SECONDS - START)) s" >&2
if [ -n "$NODE" ]; then
	expect_eq "the same Prometheus scrapes node_exporter" 1 "$(query 'up{job="node"}')"
	expect_eq "node_exporter read portdex.prom" 0 "$(query 'node_textfile_scrape_error{job="node"}')"
	expect_eq "host 3's listeners through node_exporter" yes "$(v=$(query 'sum(portdex_listeners{job="node"})'); [ "$v" != none ] && [ "$v" -ge 1 ] && echo yes || echo "no: $v")"
else
	echo "note: prometheus-node-exporter is not installed, its part not run" >&2
fi

# alerts NAME STATUS: the hosts (sorted, unique) of NAME alerts with STATUS
# that reached the webhook
alerts() {
	python3 - "$T/webhook.log" "$1" "$2" <<'EOF'
import json, sys
hosts = set()
for line in open(sys.argv[1]):
    for a in json.loads(line)["body"].get("alerts", []):
        if a["labels"].get("alertname") == sys.argv[2] and a["status"] == sys.argv[3]:
            hosts.add(a["labels"].get("host", "?"))
print(" ".join(sorted(hosts)))
EOF
}
# wait_alert NAME STATUS HOST SECONDS: sets GOT and WAITED
wait_alert() {
	local t0=$SECONDS
	GOT=
	while [ $((SECONDS - t0)) -lt "$4" ]; do
		GOT=$(alerts "$1" "$2")
		case " $GOT " in *" $3 "*) break ;; esac
		sleep 1
	done
	WAITED=$((SECONDS - t0))
}

# ---- a high-risk listener in host 7 ---------------------------------------
expect_eq "no high-risk alert before" "" "$(alerts PortdexHighRiskListener firing)"
timeout "$LIFE" ip netns exec "$NS-h$HOT" python3 -c '
import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 23)); s.listen(1); time.sleep(400)' &
LPID=$!
PIDS+=("$LPID")
wait_alert PortdexHighRiskListener firing "$(label "$HOT")" 90
expect_eq "the high-risk alert reaches the webhook for host 7 only, within 90 s" "$(label "$HOT")" "$GOT"
echo "note: PortdexHighRiskListener for host $HOT at the webhook after $WAITED s" >&2
expect_match "through the on-call receiver" '"path": "/portdex/oncall"' "$(grep '"alertname": "PortdexHighRiskListener"' "$T/webhook.log" | head -1)"
expect_match "with the port" '"port": "23"' "$(grep '"alertname": "PortdexHighRiskListener"' "$T/webhook.log" | head -1)"

kill "$LPID"
wait_alert PortdexHighRiskListener resolved "$(label "$HOT")" 90
expect_eq "stopping it resolves the alert" "$(label "$HOT")" "$GOT"
echo "note: resolved after $WAITED s" >&2

# ---- host 12 stops answering -------------------------------------------------
expect_eq "no host down before" "" "$(alerts PortdexDown firing)"
kill "${SPID[$DOWN]}"
wait_alert PortdexDown firing "$(label "$DOWN")" 90
expect_eq "host 12's not-answering alert fires, for host 12 only" "$(label "$DOWN")" "$GOT"
echo "note: PortdexDown for host $DOWN after $WAITED s; whole test $SECONDS s" >&2
expect_eq "the other hosts still answer" "$((N - 1))" "$(query 'count(up{job="portdex"} == 1)')"
if [ "$failures" -gt 0 ]; then
	for f in prometheus.log alertmanager.log h$HOT/serve.log; do
		echo "--- $f" >&2; tail -5 "$T/$f" >&2
	done
	echo "--- webhook" >&2; cut -c1-300 "$T/webhook.log" | tail -5 >&2
fi
finish
