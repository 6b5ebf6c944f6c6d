#!/usr/bin/env bash
# serve --web-config: the Prometheus exporters' web configuration file.
# The test makes its own certificates with openssl (a CA, a server, a
# client, an expired client and an expired server certificate) and a
# bcrypt password hash with crypt(3) (python3's crypt module); then:
# bad files stop serve with the file and field named; --expose-local
# beyond loopback needs a web config or --insecure-expose; a real
# Prometheus scrapes over HTTPS with basic auth (up == 1); a wrong
# password is a 401 without data; plain HTTP, a missing or expired
# client certificate and an expired server certificate are refused;
# a password verified once skips its bcrypt afterwards (timed with a
# cost-12 hash), a wrong one never does; SIGHUP takes a new password (the
# old one, verified and cached just before, is refused after it) and a
# broken file keeps the old one; the
# configured headers are sent; notes are shown only with --expose-local.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed" >&2; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed" >&2; exit 77; }
python3 -W ignore -c 'import crypt' 2>/dev/null || { echo "SKIP: python3 has no crypt module" >&2; exit 77; }
PROM=$(command -v prometheus || true)
build_registry
chmod 755 "$T"
RUNAS=()
[ "$(id -u)" = 0 ] && RUNAS=(--user nobody)
SPID= PPID2=
trap '[ -n "$PPID2" ] && kill "$PPID2" 2>/dev/null; [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- certificates and a password hash -------------------------------------
C=$T/certs
mkdir -p "$C"
(
	cd "$C" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=portdex-test-ca
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 30 -extfile san.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server-expired.crt -days -1 -extfile san.ext
	openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=prometheus
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 30
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client-expired.crt -days -1
	# a client certificate from another CA
	openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 30 -subj /CN=stranger
) > "$T/openssl.log" 2>&1 || { echo "FAIL: openssl: $(cat "$T/openssl.log")" >&2; exit 1; }
# The server reads the files again as the user it drops to (SIGHUP).
chmod 755 "$C"; chmod 644 "$C"/*
bcrypt() {
	python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' "$1"
}
HASH1=$(bcrypt 'first secret')
HASH2=$(bcrypt 'second secret')
expect_match "bcrypt hash" '^\$2b\$04\$' "$HASH1"

W=$T/web.yml
write_web() {	# write_web HASH [CLIENT_AUTH]
	{
		echo "tls_server_config:"
		echo "  cert_file: certs/server.crt"
		echo "  key_file: certs/server.key"
		echo "  min_version: TLS12"
		if [ -n "${2:-}" ]; then
			echo "  client_auth_type: $2"
			echo "  client_ca_file: certs/ca.crt"
		fi
		echo "http_server_config:"
		echo "  headers:"
		echo "    Strict-Transport-Security: max-age=31536000"
		echo "basic_auth_users:"
		echo "  prometheus: '$1'"
	} > "$W.tmp" && mv "$W.tmp" "$W"
}

# ---- bad files stop serve, naming the file and the field -------------------
bad() {	# bad WHAT REGEX: serve with $W must fail with REGEX in its message
	run_rc timeout 20 "$PORTDEX" serve "${RUNAS[@]}" --listen 127.0.0.1:0 --web-config "$W"
	expect_eq "$1: exit 2" 2 "$RC"
	expect_match "$1: message" "$2" "$ERR"
}
W=$T/missing.yml
bad "missing file" "missing\.yml: cannot read"
mkdir "$T/unreadable.yml"	# root reads any file: a directory cannot be read as one
W=$T/unreadable.yml
bad "unreadable file" "unreadable\.yml: not a regular file"
W=$T/web.yml
printf 'tls_server_config:\n  cert_file: [\n' > "$W"
bad "malformed YAML" "web\.yml: line [0-9]+: not valid YAML"
printf 'tls_server_config:\n  cert_file: certs/server.crt\n' > "$W"
bad "no key_file" "web\.yml: .*tls_server_config\.key_file: missing"
printf 'tls_server_config:\n  cert_file: certs/server.crt\n  key_file: certs/nope.key\n' > "$W"
bad "key file missing" "web\.yml: tls_server_config\.key_file: cannot read .*nope\.key"
printf 'tls_server_config:\n  cert_file: certs/ca.key\n  key_file: certs/server.key\n' > "$W"
bad "not a certificate" "web\.yml: tls_server_config\.cert_file/key_file: .*ca\.key"
printf 'tls_server_config:\n  cert_file: certs/server.crt\n  key_file: certs/server.key\n  min_version: TLS9\n' > "$W"
bad "bad min_version" "web\.yml: line 4: tls_server_config\.min_version: unknown version"
printf 'tls_server_config:\n  cert_file: certs/server.crt\n  key_file: certs/server.key\n  client_auth_type: RequireAndVerifyClientCert\n' > "$W"
bad "verify without a CA" "tls_server_config\.client_ca_file: missing"
printf 'tls_server_config:\n  cert_file: certs/server.crt\n  key_file: certs/server.key\n  cipher_suites: [TLS_NO_SUCH_SUITE]\n' > "$W"
bad "unknown cipher suite" "tls_server_config\.cipher_suites: unknown"
printf 'basic_auth_users:\n  alice: plaintext\n' > "$W"
bad "not a bcrypt hash" "web\.yml: line 2: basic_auth_users\.alice: not a bcrypt hash"
printf 'tls_config:\n  cert_file: x\n' > "$W"
bad "unknown section" "web\.yml: line 1: tls_config: unknown field"
printf 'http_server_config:\n  headers:\n    Set-Cookie: a=b\n' > "$W"
bad "header not settable" "http_server_config\.headers: not a header"

# ---- --expose-local beyond loopback ----------------------------------------
# (refused before any socket is bound: nothing listens beyond loopback)
run_rc timeout 20 "$PORTDEX" serve "${RUNAS[@]}" --listen 0.0.0.0:0 --expose-local
expect_eq "expose-local on 0.0.0.0 without web config: exit 2" 2 "$RC"
expect_match "expose-local refusal says why" "not a loopback address.*clear text and without authentication.*--web-config FILE.*--insecure-expose" "$ERR"
printf 'basic_auth_users:\n  prometheus: %s\n' "'$HASH1'" > "$W"
run_rc timeout 20 "$PORTDEX" serve "${RUNAS[@]}" --listen 0.0.0.0:0 --expose-local --web-config "$W"
expect_eq "expose-local with auth but no TLS: exit 2" 2 "$RC"
expect_match "no-TLS refusal says why" "in clear text" "$ERR"

# ---- the server over TLS with basic auth -----------------------------------
write_web "$HASH1"
start_serve() {	# start_serve ARGS...: sets SPID, PORT
	PORT=$(free_port)
	"$PORTDEX" serve "${RUNAS[@]}" --listen "127.0.0.1:$PORT" "$@" 2> "$T/serve.log" &
	SPID=$!
	local ok=
	for _ in $(seq "$START_TRIES"); do
		grep -q "listening on https://127.0.0.1:$PORT/" "$T/serve.log" && { ok=1; break; }
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$ok" ] || { echo "FAIL: server did not start: $(cat "$T/serve.log")" >&2; exit 1; }
}
stop_serve() {
	kill -TERM "$SPID"; local src=0; wait "$SPID" || src=$?; SPID=
	expect_eq "server exit" 0 "$src"
}
"$PORTDEX" note 4711/tcp "private note of the ops team" >/dev/null
start_serve --expose-local --web-config "$W"
U=https://127.0.0.1:$PORT
CURL=(curl -sS --max-time 10 --cacert "$C/ca.crt")
code() { "${CURL[@]}" -o "$T/body" -w '%{http_code}' "$@" 2>/dev/null; }
expect_eq "right password: 200" 200 "$(code -u 'prometheus:first secret' "$U/metrics")"
expect_match "metrics over TLS" '^# HELP portdex_' "$(cat "$T/body")"
if command -v promtool >/dev/null; then
	run_rc promtool check metrics < "$T/body"
	expect_eq "promtool check metrics over TLS" "0:" "$RC:$OUT$ERR"
fi
expect_eq "wrong password: 401" 401 "$(code -u 'prometheus:wrong' "$U/metrics")"
expect_nomatch "401 has no data" 'portdex_' "$(cat "$T/body")"
expect_eq "unknown user: 401" 401 "$(code -u 'mallory:first secret' "$U/metrics")"
expect_eq "no credentials: 401" 401 "$(code "$U/api/v1/listening")"
HDRS=$("${CURL[@]}" -D - -o /dev/null -u 'prometheus:wrong' "$U/metrics")
expect_match "401 asks for basic auth" 'WWW-Authenticate: Basic realm="portdex"' "$HDRS"
HDRS=$("${CURL[@]}" -D - -o /dev/null -u 'prometheus:first secret' "$U/")
expect_match "configured header sent" 'Strict-Transport-Security: max-age=31536000' "$HDRS"
expect_match "own security headers kept" 'X-Content-Type-Options: nosniff' "$HDRS"
expect_eq "notes with --expose-local" 1 "$("${CURL[@]}" -u 'prometheus:first secret' "$U/api/v1/ports/4711" | grep -c 'private note of the ops team')"
# plain HTTP to the TLS port: no answer
run_rc curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -u 'prometheus:first secret' "http://127.0.0.1:$PORT/metrics"
expect_eq "plain HTTP refused" "000" "$OUT"
expect_match "plain HTTP: curl fails" '^(52|56)$' "$RC"

# ---- a real Prometheus scrapes over HTTPS with basic auth ------------------
if [ -n "$PROM" ]; then
	PPORT=$(free_port)
	printf 'first secret' > "$T/password"
	printf 'wrong' > "$T/badpassword"
	cat > "$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: portdex
    scheme: https
    tls_config:
      ca_file: $C/ca.crt
    basic_auth:
      username: prometheus
      password_file: $T/password
    static_configs:
      - targets: ['127.0.0.1:$PORT']
  - job_name: portdex-wrong-password
    scheme: https
    tls_config:
      ca_file: $C/ca.crt
    basic_auth:
      username: prometheus
      password_file: $T/badpassword
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
	if command -v promtool >/dev/null; then
		run_rc promtool check config "$T/prometheus.yml"
		expect_eq "test prometheus.yml checks" 0 "$RC"
	fi
	"$PROM" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
	    --web.listen-address="127.0.0.1:$PPORT" --log.level=warn 2> "$T/prometheus.log" &
	PPID2=$!
	query() {
		curl -s -G --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
		    python3 -c '
import json, sys
try:
    j = json.load(sys.stdin)
    print(" ".join("%s=%s" % (r["metric"].get("job"), r["value"][1]) for r in j["data"]["result"]))
except Exception:
    print("")'
	}
	RES=
	for _ in $(seq 40); do	# at most about 40 s
		RES=$(query 'up')
		case "$RES" in *"portdex=1"*"portdex-wrong-password=0"*|*"portdex-wrong-password=0"*"portdex=1"*) break ;; esac
		kill -0 "$PPID2" 2>/dev/null || break
		sleep 1
	done
	expect_match "Prometheus scrapes over HTTPS with basic auth: up 1" '(^| )portdex=1( |$)' "$RES"
	expect_match "wrong password: up 0" 'portdex-wrong-password=0' "$RES"
	expect_eq "no portdex data from the wrong password" "" "$(query 'portdex_build_info{job="portdex-wrong-password"}')"
	expect_match "data from the right one" 'portdex=1' "$(query 'portdex_build_info{job="portdex"}')"
	kill "$PPID2"; wait "$PPID2" 2>/dev/null; PPID2=
fi

# ---- verified passwords are cached, failures are not -----------------------
# (the cache holds the right pair now: it was just verified)
expect_eq "cached password: 200" 200 "$(code -u 'prometheus:first secret' "$U/metrics")"
expect_eq "a prefix of the cached password: 401" 401 "$(code -u 'prometheus:first secre' "$U/metrics")"
expect_eq "the cached password and more: 401" 401 "$(code -u 'prometheus:first secretX' "$U/metrics")"
expect_eq "the cached password, another user: 401" 401 "$(code -u 'mallory:first secret' "$U/metrics")"
expect_eq "wrong password again: 401" 401 "$(code -u 'prometheus:wrong' "$U/metrics")"

# ---- SIGHUP: a new password, then a broken file ----------------------------
write_web "$HASH2"
kill -HUP "$SPID"
for _ in $(seq 50); do grep -q "SIGHUP: .*read again" "$T/serve.log" && break; sleep 0.1; done
expect_eq "after SIGHUP: new password 200" 200 "$(code -u 'prometheus:second secret' "$U/metrics")"
# the old password was verified (and cached) just before the SIGHUP
expect_eq "after SIGHUP: old password 401" 401 "$(code -u 'prometheus:first secret' "$U/metrics")"
expect_eq "after SIGHUP: old password 401 again" 401 "$(code -u 'prometheus:first secret' "$U/metrics")"
expect_eq "after SIGHUP: new password 200 again" 200 "$(code -u 'prometheus:second secret' "$U/metrics")"

# The cache at work: with a bcrypt of cost 12 (hundreds of ms), the first
# request pays it, the next ones with the same password do not; a wrong
# password pays it every time.
HASH3=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("third secret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=4096)))')
write_web "$HASH3"
n=$(grep -c "read again" "$T/serve.log")
kill -HUP "$SPID"
for _ in $(seq 50); do [ "$(grep -c "read again" "$T/serve.log")" -gt "$n" ] && break; sleep 0.1; done
secs() { "${CURL[@]}" -o /dev/null -w '%{time_total}' "$@" 2>/dev/null; }
FIRST=$(secs -u 'prometheus:third secret' "$U/")
CACHED=$(for _ in 1 2 3; do secs -u 'prometheus:third secret' "$U/"; echo; done | sort -n | head -1)
WRONG1=$(secs -u 'prometheus:third secreT' "$U/")
WRONG2=$(secs -u 'prometheus:third secreT' "$U/")
echo "note: cost 12: first ${FIRST}s, cached ${CACHED}s, wrong ${WRONG1}s ${WRONG2}s" >&2
expect_eq "cached: under a third of the first" yes "$(python3 -c 'import sys; f, c = map(float, sys.argv[1:]); print("yes" if 0 < c < f / 3 else "no: %s vs %s" % (c, f))' "$FIRST" "$CACHED")"
expect_eq "a failure is not cached" yes "$(python3 -c 'import sys; w, c = map(float, sys.argv[1:]); print("yes" if w > 3 * c else "no: %s vs %s" % (w, c))' "$WRONG2" "$CACHED")"
expect_eq "cost 12: the password works" 200 "$(code -u 'prometheus:third secret' "$U/metrics")"
write_web "$HASH2"
n=$(grep -c "read again" "$T/serve.log")
kill -HUP "$SPID"
for _ in $(seq 50); do [ "$(grep -c "read again" "$T/serve.log")" -gt "$n" ] && break; sleep 0.1; done
expect_eq "back to the second password" 200 "$(code -u 'prometheus:second secret' "$U/metrics")"
expect_eq "the third, cached before, no more" 401 "$(code -u 'prometheus:third secret' "$U/metrics")"
printf 'basic_auth_users:\n  prometheus: [\n' > "$W"
kill -HUP "$SPID"
for _ in $(seq 50); do grep -q "SIGHUP: keeping the previous settings" "$T/serve.log" && break; sleep 0.1; done
expect_match "broken file: says it keeps the old settings" "SIGHUP: keeping the previous settings: .*web\.yml: line [0-9]+: not valid YAML" "$(cat "$T/serve.log")"
expect_eq "broken file: the password still works" 200 "$(code -u 'prometheus:second secret' "$U/metrics")"
stop_serve

# ---- client certificates ---------------------------------------------------
write_web "$HASH1" RequireAndVerifyClientCert
start_serve --expose-local --web-config "$W"
U=https://127.0.0.1:$PORT
expect_eq "client certificate: 200" 200 "$(code --cert "$C/client.crt" --key "$C/client.key" -u 'prometheus:first secret' "$U/metrics")"
expect_eq "no client certificate: refused" 000 "$(code -u 'prometheus:first secret' "$U/metrics")"
expect_eq "expired client certificate: refused" 000 "$(code --cert "$C/client-expired.crt" --key "$C/client.key" -u 'prometheus:first secret' "$U/metrics")"
expect_eq "another CA's client certificate: refused" 000 "$(code --cert "$C/other.crt" --key "$C/other.key" -u 'prometheus:first secret' "$U/metrics")"
expect_match "refusal logged" "connection refused: client certificate expired" "$(cat "$T/serve.log")"
stop_serve

# ---- an expired server certificate: clients refuse it ----------------------
sed 's#certs/server.crt#certs/server-expired.crt#' "$W" > "$W.tmp" && mv "$W.tmp" "$W"
sed -i '/client_auth_type\|client_ca_file/d' "$W"
start_serve --web-config "$W"
U=https://127.0.0.1:$PORT
run_rc curl -sS --max-time 5 --cacert "$C/ca.crt" -o /dev/null -u 'prometheus:first secret' "$U/metrics"
expect_eq "expired server certificate: curl refuses" 60 "$RC"
expect_match "curl says expired" "expired" "$ERR"
# notes are local data: not shown without --expose-local / --expose-notes
expect_eq "no notes without --expose-local" 0 "$("${CURL[@]}" -k -u 'prometheus:first secret' "$U/api/v1/ports/4711" | grep -c 'private note')"
expect_eq "no notes in search without --expose-local" 0 "$("${CURL[@]}" -k -u 'prometheus:first secret' "$U/api/v1/search?q=private" | grep -c 'private note')"
expect_eq "no notes on the page without --expose-local" 0 "$("${CURL[@]}" -k -u 'prometheus:first secret' "$U/port/4711" | grep -c 'private note')"
stop_serve
start_serve --expose-notes --web-config "$W"
U=https://127.0.0.1:$PORT
expect_eq "notes with --expose-notes" 1 "$("${CURL[@]}" -k -u 'prometheus:first secret' "$U/port/4711" | grep -c 'private note of the ops team')"
stop_serve
finish
