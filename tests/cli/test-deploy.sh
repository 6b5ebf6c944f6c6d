#!/usr/bin/env bash
# The fleet files of deploy/: promtool check config (the HTTPS, basic auth,
# file_sd scrape configuration), promtool check rules and unit tests of the
# new alert rules, amtool check-config and the routes of alertmanager.yml,
# and deploy/portdex-web-config.yml loaded by portdex serve (its bcrypt
# hash is the documented "change-me") with certificates made here.
. "$(dirname "$0")/lib.sh"
PROMTOOL=$(command -v promtool) || { echo "SKIP: promtool (package prometheus) is not installed" >&2; exit 77; }
AMTOOL=$(command -v amtool) || { echo "SKIP: amtool (package prometheus-alertmanager) is not installed" >&2; exit 77; }
for c in curl openssl; do
	command -v "$c" >/dev/null || { echo "SKIP: $c is not installed" >&2; exit 77; }
done
D=$PDX_SRCDIR/deploy
build_registry
RUNAS=()
[ "$(id -u)" = 0 ] && RUNAS=(--user nobody)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
chmod 755 "$T"

# ---- Prometheus ------------------------------------------------------------
cp "$D/prometheus-fleet.yml" "$D/portdex-alerts.yml" "$T/"
run_rc "$PROMTOOL" check config "$T/prometheus-fleet.yml"
expect_eq "promtool check config prometheus-fleet.yml" 0 "$RC"
expect_match "it names the rules" "SUCCESS: 1 rule files found" "$OUT$ERR"
CFG=$(cat "$D/prometheus-fleet.yml")
for want in 'scheme: https' 'tls_config:' 'ca_file:' 'basic_auth:' 'password_file:' 'file_sd_configs:' 'alertmanagers:'; do
	expect_match "prometheus-fleet.yml has $want" "^ *$want" "$CFG"
done
# a broken copy is refused (the check can fail)
sed 's/min_version: TLS12/min_version: TLS99/' "$D/prometheus-fleet.yml" > "$T/bad.yml"
run_rc "$PROMTOOL" check config "$T/bad.yml"
expect_eq "a bad TLS version is refused" 1 "$RC"
run_rc "$PROMTOOL" check config "$D/prometheus.yml"
expect_eq "promtool check config prometheus.yml" 0 "$RC"
run_rc "$PROMTOOL" check rules "$D/portdex-alerts.yml"
expect_eq "promtool check rules" 0 "$RC"
for a in PortdexHighRiskListener PortdexListenerOpenToNetwork PortdexAuditIncomplete PortdexDown PortdexRegistryStale PortdexTextfileStale; do
	expect_match "rule $a" "alert: $a\$" "$(cat "$D/portdex-alerts.yml")"
done

# unit tests of the rules this issue added (the others: test-serve-prometheus.sh)
cat > "$T/alerts-test.yml" <<'EOF'
rule_files:
  - portdex-alerts.yml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # open to the network after 90 minutes on h1; open all along on h2
      - series: 'portdex_listeners{instance="h1",job="portdex",port="8080",proto="tcp",scope="all",risk="none",reach="filtered"}'
        values: '1x89 _x30'
      - series: 'portdex_listeners{instance="h1",job="portdex",port="8080",proto="tcp",scope="all",risk="none",reach="open"}'
        values: '_x89 1x30'
      - series: 'portdex_listeners{instance="h2",job="portdex",port="8080",proto="tcp",scope="all",risk="none",reach="open"}'
        values: '1x120'
      - series: 'portdex_audit_complete{instance="h1",job="portdex"}'
        values: '1x30 0x60'
      - series: 'node_textfile_mtime_seconds{instance="n1",job="node",file="/var/lib/prometheus/node-exporter/portdex.prom"}'
        values: '0x60'
    alert_rule_test:
      - eval_time: 100m
        alertname: PortdexListenerOpenToNetwork
        exp_alerts:
          - exp_labels: {instance: h1, job: portdex, port: "8080", proto: tcp, severity: warning}
            exp_annotations:
              summary: "tcp/8080 became open to the network on h1"
              description: "The firewall of h1 now lets the network reach tcp port 8080, which it did not an hour ago. Run 'portdex ls --reach open' on the host."
      - eval_time: 80m
        alertname: PortdexAuditIncomplete
        exp_alerts:
          - exp_labels: {instance: h1, job: portdex, severity: info}
            exp_annotations:
              summary: "portdex's audit on h1 is incomplete"
              description: "The audit could not see everything on h1 (run 'portdex audit' there to see what is missing); findings may be missing."
      - eval_time: 50m
        alertname: PortdexAuditIncomplete
        exp_alerts: []
      - eval_time: 30m
        alertname: PortdexTextfileStale
        exp_alerts:
          - exp_labels: {instance: n1, job: node, file: /var/lib/prometheus/node-exporter/portdex.prom, severity: warning}
            exp_annotations:
              summary: "portdex's textfile on n1 is stale"
              description: "/var/lib/prometheus/node-exporter/portdex.prom was last written 30m 0s ago; check portdex-textfile.timer on n1."
EOF
run_rc "$PROMTOOL" test rules "$T/alerts-test.yml"
expect_eq "promtool test rules" 0 "$RC"
[ "$RC" = 0 ] || echo "$OUT $ERR" >&2

# ---- Alertmanager ----------------------------------------------------------
run_rc "$AMTOOL" check-config "$D/alertmanager.yml"
expect_eq "amtool check-config" 0 "$RC"
expect_match "a webhook receiver" "2 receivers" "$OUT"
route() { "$AMTOOL" config routes test --config.file="$D/alertmanager.yml" "$@" 2>/dev/null; }
expect_eq "high risk to on-call" portdex-oncall "$(route alertname=PortdexHighRiskListener instance=h7)"
expect_eq "open to the network to on-call" portdex-oncall "$(route alertname=PortdexListenerOpenToNetwork instance=h7)"
expect_eq "down to tickets" portdex-tickets "$(route alertname=PortdexDown instance=h12)"
expect_eq "the rest to tickets" portdex-tickets "$(route alertname=PortdexAuditIncomplete instance=h1)"
printf 'route:\n  receiver: nobody\nreceivers: []\n' > "$T/am-bad.yml"
run_rc "$AMTOOL" check-config "$T/am-bad.yml"
expect_eq "a route to an unknown receiver is refused" 1 "$RC"

# ---- portdex serve with deploy/portdex-web-config.yml ----------------------
C=$T/tls
mkdir "$C"
(
	cd "$C" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=deploy-test-ca
	printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext
) > "$T/openssl.log" 2>&1 || { echo "FAIL: openssl: $(cat "$T/openssl.log")" >&2; exit 1; }
chmod 755 "$C"; chmod 644 "$C"/*
sed "s|/etc/portdex/tls/|$C/|" "$D/portdex-web-config.yml" > "$T/web.yml"
"$PORTDEX" serve "${RUNAS[@]}" --listen 127.0.0.1:0 --expose-local --web-config "$T/web.yml" 2> "$T/serve.log" &
SPID=$!
URL=
for _ in $(seq "$START_TRIES"); do
	URL=$(grep -Eo 'https://127\.0\.0\.1:[0-9]+' "$T/serve.log" | head -1)
	[ -n "$URL" ] && break
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
expect_match "serve starts with the example web config" '^https://' "$URL"
if [ -n "$URL" ]; then
	CODE=$(curl -s -o "$T/m" -w '%{http_code}' --cacert "$C/ca.crt" -u prometheus:change-me "$URL/metrics")
	expect_eq "the example's password works" 200 "$CODE"
	expect_match "and gives the listeners" '^portdex_listeners\{' "$(cat "$T/m")"
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$C/ca.crt" -u prometheus:wrong "$URL/metrics")
	expect_eq "a wrong password is a 401" 401 "$CODE"
	HSTS=$(curl -s -D - -o /dev/null --cacert "$C/ca.crt" -u prometheus:change-me "$URL/" | tr -d '\r' | grep -i '^strict-transport-security:')
	expect_eq "the example's header" "Strict-Transport-Security: max-age=31536000" "$HSTS"
else
	echo "serve: $(cat "$T/serve.log")" >&2
fi
finish
