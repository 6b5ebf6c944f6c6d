#!/usr/bin/env bash
# node_exporter's textfile collector: `portdex ls/audit --format
# prometheus` print the host's metric families of serve's /metrics (the
# same names and labels), `--textfile DIR` replaces DIR/portdex.prom by a
# rename (a hard link to the old file keeps the old text; no temporary
# file is left), a real node_exporter serves it, and `promtool check
# metrics` passes on /metrics, on the file and on node_exporter's output.
# Bad options say why.
. "$(dirname "$0")/lib.sh"
PROMTOOL=$(command -v promtool) || { echo "SKIP: promtool (package prometheus) is not installed" >&2; exit 77; }
NODE=$(command -v prometheus-node-exporter || command -v node_exporter) ||
    { echo "SKIP: prometheus-node-exporter is not installed" >&2; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed" >&2; exit 77; }
build_registry
if [ "$(id -u)" = 0 ]; then
	mkdir "$T/state"; chown nobody "$T/state"
	export PORTDEX_STATE=$T/state/state.db
fi
chmod 755 "$T"
SPID= LPID= NPID=
trap '[ -n "$NPID" ] && kill "$NPID" 2>/dev/null; [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# a listener of our own, noted so that it keeps a series of its own
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(120)' > "$T/lport" &
LPID=$!
for _ in $(seq 50); do [ -s "$T/lport" ] && break; sleep 0.1; done
LPORT=$(cat "$T/lport")
"$PORTDEX" -q note "$LPORT/tcp" "test-textfile's listener"
SERIES="portdex_listeners\{port=\"$LPORT\",proto=\"tcp\",scope=\"loopback\",risk=\"[a-z]+\",reach=\"loopback\"\} 1"

# promtool_ok WHAT FILE
promtool_ok() {
	run_rc "$PROMTOOL" check metrics < "$2"
	expect_eq "promtool check metrics: $1" "0 " "$RC $OUT$ERR"
}
# families FILE: the metric names of the # TYPE lines, sorted
families() { sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$1" | sort; }

run_rc "$PORTDEX" ls --format prometheus
expect_eq "ls --format prometheus" 0 "$RC"
printf '%s\n' "$OUT" > "$T/ls.prom"
expect_match "ls: our listener" "$SERIES" "$OUT"
promtool_ok "ls --format prometheus" "$T/ls.prom"
run_rc "$PORTDEX" audit --format prometheus --metrics-max-ports 10
expect_eq "audit --format prometheus" 0 "$RC"
printf '%s\n' "$OUT" > "$T/audit.prom"
expect_match "audit: our listener" "$SERIES" "$OUT"
expect_match "audit: findings" '^portdex_audit_findings\{rule="[a-z-]+",level="(info|low|medium|high)"\} [0-9]+$' "$OUT"
promtool_ok "audit --format prometheus" "$T/audit.prom"
NP=$(grep -o '^portdex_listeners{port="[0-9]*"' "$T/audit.prom" | sort -u | wc -l)
expect_eq "at most 10 ports of their own" yes "$([ "$NP" -ge 1 ] && [ "$NP" -le 10 ] && echo yes || echo "no: $NP")"

# the same families as serve's /metrics (which adds its HTTP counters)
serve_on_loopback --expose-local
curl -s --max-time 30 "$URL/metrics" > "$T/serve.prom"
promtool_ok "serve /metrics" "$T/serve.prom"
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=
expect_match "serve: our listener" "$SERIES" "$(cat "$T/serve.prom")"
families "$T/ls.prom" > "$T/fam.ls"
families "$T/serve.prom" > "$T/fam.serve"
expect_eq "ls's families are /metrics' host families" "" "$(comm -23 "$T/fam.ls" "$T/fam.serve")"
expect_eq "ls and audit: same families" "$(cat "$T/fam.ls")" "$(families "$T/audit.prom")"
expect_eq "the host families are all there" "portdex_audit_complete portdex_audit_findings portdex_build_info portdex_listeners portdex_local_up portdex_registry_age_seconds portdex_registry_info portdex_registry_rows" "$(tr '\n' ' ' < "$T/fam.ls" | sed 's/ $//')"
expect_eq "/metrics adds only server families" "portdex_http_requests_total portdex_page_cache_bytes portdex_page_cache_hits_total portdex_page_cache_misses_total portdex_start_time_seconds" "$(comm -13 "$T/fam.ls" "$T/fam.serve" | tr '\n' ' ' | sed 's/ $//')"

# --textfile: replaced by a rename, nothing else left in the directory
mkdir "$T/tf"
echo "# old" > "$T/tf/portdex.prom"
ln "$T/tf/portdex.prom" "$T/old.prom"
run_rc "$PORTDEX" audit --textfile "$T/tf"
expect_eq "audit --textfile" "0 " "$RC $OUT"
expect_eq "the old file was replaced, not rewritten" "# old" "$(cat "$T/old.prom")"
expect_match "the new file" "$SERIES" "$(cat "$T/tf/portdex.prom")"
expect_eq "only portdex.prom in the directory" "portdex.prom" "$(ls -A "$T/tf")"
expect_eq "readable by node_exporter" 644 "$(stat -c %a "$T/tf/portdex.prom")"
promtool_ok "the textfile" "$T/tf/portdex.prom"
run_rc "$PORTDEX" ls --format prometheus --textfile "$T/tf"
expect_eq "ls --textfile" 0 "$RC"
expect_match "ls --textfile wrote" "$SERIES" "$(cat "$T/tf/portdex.prom")"

# node_exporter's textfile collector serves it
NPORT=$(free_port)
"$NODE" --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$T/tf" \
    --web.listen-address="127.0.0.1:$NPORT" 2> "$T/node.log" &
NPID=$!
: > "$T/node.prom"
for _ in $(seq 100); do
	curl -s --max-time 5 "http://127.0.0.1:$NPORT/metrics" > "$T/node.prom" 2>/dev/null && [ -s "$T/node.prom" ] && break
	kill -0 "$NPID" 2>/dev/null || break
	sleep 0.1
done
# node_exporter sorts the labels by name
expect_match "node_exporter serves our listener" "portdex_listeners\{port=\"$LPORT\",proto=\"tcp\",reach=\"loopback\",risk=\"[a-z]+\",scope=\"loopback\"\} 1" "$(cat "$T/node.prom")"
expect_match "node_exporter read the file" 'node_textfile_mtime_seconds\{file="[^"]*portdex\.prom"\}' "$(cat "$T/node.prom")"
expect_match "without a scrape error" '^node_textfile_scrape_error 0$' "$(cat "$T/node.prom")"
promtool_ok "node_exporter's /metrics" "$T/node.prom"

# bad input
run_rc "$PORTDEX" ls --format xml
expect_eq "--format xml refused" 2 "$RC"
expect_match "--format xml: why" "--format takes .*not 'xml'" "$ERR"
run_rc "$PORTDEX" ls --textfile "$T" --format json
expect_eq "--textfile with --format json refused" 2 "$RC"
run_rc "$PORTDEX" audit --textfile "$T/no/such/dir"
expect_eq "missing --textfile dir" 2 "$RC"
expect_match "missing dir: named" "no/such/dir" "$ERR"
run_rc "$PORTDEX" audit --format prometheus --fail-on high
expect_eq "other options refused" 2 "$RC"
expect_match "other options: why" "only --metrics-max-ports" "$ERR"
run_rc "$PORTDEX" ls --format prometheus --metrics-max-ports many
expect_eq "bad --metrics-max-ports" 2 "$RC"
finish
