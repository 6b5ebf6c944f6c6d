#!/usr/bin/env bash
# bench/serve-tls.sh - portdex serve over HTTPS (--web-config with a
# tls_server_config) against nginx serving the same pages over TLS with the
# same certificate and key (issue 17: goal >= 0.7x nginx's requests/s).
#
# The script makes a CA and a server certificate for 127.0.0.1 (RSA 2048,
# openssl), starts portdex serve with a web config naming them, fetches
# PAGES random /port/N pages (a fixed seed) from it over HTTPS into a
# docroot, and has nginx serve that docroot with the same certificate.
# wrk (keep-alive: each connection makes one TLS handshake, then requests
# on it) asks for /port/N with N drawn from the same ports.  The servers
# (all three started once and warmed up: a portdex with its page cache,
# one with --cache-mb 0) are run in interleaved rounds (nginx, portdex,
# portdex --cache-mb 0, then again in the reverse order ...), ROUNDS
# rounds of DURATION each; printed: the median requests/s and p50/p99 latency of
# each, and the ratios of the medians.  Both bind 127.0.0.1 only; both are
# stopped at the end; access logs are off on both sides.
#
# usage: bench/serve-tls.sh [BUILD_DIR]
#   env: PAGES=2000 DURATION=5s ROUNDS=3 CONNS=32 WRK_THREADS=2 SEED=6450
# Needs: wrk, nginx (nginx-light), openssl, curl, python3.  As root, serve
# drops to nobody and nginx's workers run as nobody.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${PDX_BUILD:-$here/build}}
pd=$build/portdex
PAGES=${PAGES:-2000}
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
WRK_THREADS=${WRK_THREADS:-2}
SEED=${SEED:-6450}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for t in wrk curl python3 openssl; do
	command -v $t >/dev/null || { echo "bench/serve-tls.sh: $t is not installed" >&2; exit 1; }
done
[ -x "$NGINX" ] || { echo "bench/serve-tls.sh: nginx is not installed (nginx-light)" >&2; exit 1; }
[ -x "$pd" ] || { echo "bench/serve-tls.sh: build $build first" >&2; exit 1; }

T=$(mktemp -d /tmp/pdx-bench-tls.XXXXXX)
chmod 755 "$T"
SPIDS='' NPID='' SURL_portdex='' SURL_nocache=''
stop_serve() {
	local p
	for p in $SPIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $SPIDS; do wait "$p" 2>/dev/null || true; done
	SPIDS=
}
cleanup() {
	stop_serve
	[ -n "$NPID" ] && { kill -QUIT "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null || true; }
	rm -rf "$T"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- certificate, registry, web config ----------------------------------
(
	cd "$T" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=portdex-bench-ca
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext
) > "$T/openssl.log" 2>&1 || { echo "bench/serve-tls.sh: openssl: $(cat "$T/openssl.log")" >&2; exit 1; }
chmod 644 "$T"/*.crt "$T"/*.key
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$T/server.crt" "$T/server.key" > "$T/web.yml"
nice "$pd" update --from "$here/data/iana/service-names-port-numbers.csv" --db "$T/registry.db" >/dev/null
RUNAS=()
[ "$(id -u)" = 0 ] && RUNAS=(--user nobody)

start_serve() {	# start_serve NAME ARGS...: adds its pid to SPIDS, sets SURL_NAME
	local port name=$1 pid
	shift
	port=$(free_port)
	: > "$T/serve-$name.log"
	"$pd" -q --db "$T/registry.db" --state "$T/state-$name.db" serve "${RUNAS[@]}" \
	    --listen "127.0.0.1:$port" --threads "$(nproc)" --web-config "$T/web.yml" \
	    "$@" 2> "$T/serve-$name.log" &
	pid=$!
	SPIDS="$SPIDS $pid"
	printf -v "SURL_$name" '%s' "https://127.0.0.1:$port"
	for _ in $(seq 100); do
		grep -q "listening on https://127.0.0.1:$port/" "$T/serve-$name.log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench/serve-tls.sh: portdex serve did not start: $(cat "$T/serve-$name.log")" >&2
	exit 1
}

# ---- the same pages for both ------------------------------------------------
python3 -c '
import random, sys
random.seed(int(sys.argv[1]))
print("\n".join(str(p) for p in random.sample(range(65536), int(sys.argv[2]))))' \
    "$SEED" "$PAGES" > "$T/ports.txt"
start_serve portdex
start_serve nocache --cache-mb 0
SURL=$SURL_portdex
mkdir -p "$T/docroot/port"
sed "s|.*|url = \"$SURL/port/&\"\noutput = \"$T/docroot/port/&\"|" "$T/ports.txt" > "$T/curl.cfg"
nice curl -s --no-progress-meter --fail --cacert "$T/ca.crt" --parallel --parallel-max 8 -K "$T/curl.cfg"
got=$(find "$T/docroot/port" -type f | wc -l)
[ "$got" = "$PAGES" ] || { echo "bench/serve-tls.sh: fetched $got of $PAGES pages" >&2; exit 1; }
# the headers portdex sends with a page, for nginx to send too
HDRS=$(curl -s -D - -o /dev/null --cacert "$T/ca.crt" "$SURL/port/$(head -1 "$T/ports.txt")")
chmod -R a+rX "$T/docroot"

NPORT=$(free_port)
{
	echo "worker_processes $(nproc);"
	echo "pid $T/nginx.pid;"
	echo "error_log $T/nginx-error.log warn;"
	echo "daemon off;"
	[ "$(id -u)" = 0 ] && echo "user nobody nogroup;"
	echo "events { worker_connections 1024; }"
	echo "http {"
	echo "	access_log off;"
	echo "	sendfile on;"
	echo "	tcp_nopush on;"
	echo "	keepalive_requests 100000;"
	for d in client_body proxy fastcgi uwsgi scgi; do echo "	${d}_temp_path $T/nginx-tmp;"; done
	echo "	server {"
	echo "		listen 127.0.0.1:$NPORT ssl;"
	echo "		ssl_certificate $T/server.crt;"
	echo "		ssl_certificate_key $T/server.key;"
	echo "		root $T/docroot;"
	echo "		location /port/ {"
	echo "			default_type \"text/html; charset=utf-8\";"
	# portdex's own headers (the security ones), sent by nginx as well
	printf '%s\n' "$HDRS" | tr -d '\r' | grep -iE '^(content-security-policy|x-content-type-options|x-frame-options|referrer-policy|permissions-policy|cross-origin-[a-z-]+|cache-control): ' |
	    sed -E 's/^([^:]+): (.*)$/\t\t\tadd_header \1 "\2";/' | sed 's/\$/\\$/g'
	echo "		}"
	echo "	}"
	echo "}"
} > "$T/nginx.conf"
mkdir -p "$T/nginx-tmp"
"$NGINX" -c "$T/nginx.conf" -p "$T" &
NPID=$!
NURL=https://127.0.0.1:$NPORT
for _ in $(seq 50); do
	curl -s -o /dev/null --cacert "$T/ca.crt" "$NURL/port/$(head -1 "$T/ports.txt")" && break
	sleep 0.1
done
p1=$(head -1 "$T/ports.txt")
cmp -s <(curl -s --cacert "$T/ca.crt" "$NURL/port/$p1") <(curl -s --cacert "$T/ca.crt" "$SURL/port/$p1") ||
    { echo "bench/serve-tls.sh: nginx and portdex answer /port/$p1 differently" >&2; exit 1; }

# wrk: a random one of the same ports per request; one parsable line.
{
	printf 'local ports = {'
	paste -sd, "$T/ports.txt"
	printf '}\n'
	cat <<'EOF'
local n = 0
setup = function(thread) n = n + 1; thread:set("id", n) end
init = function(args) math.randomseed(os.time() * 1000 + id) end
request = function()
	return wrk.format("GET", "/port/" .. ports[math.random(#ports)])
end
done = function(summary, latency, requests)
	io.write(string.format("RESULT %d %.1f %d %d %d %d\n", summary.requests,
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50), latency:percentile(99),
	    summary.errors.status, summary.errors.connect +
	    summary.errors.read + summary.errors.write + summary.errors.timeout))
end
EOF
} > "$T/random.lua"

# one NAME URL: a wrk run, its RESULT line appended to $T/NAME.
one() {
	local line name=$1
	line=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" -s "$T/random.lua" "$2" | grep '^RESULT')
	echo "$line" >> "$T/$name"
	set -- $line	# RESULT requests rps p50 p99 non-2xx socket-errors
	[ "$6" = 0 ] && [ "$7" = 0 ] || echo "bench/serve-tls.sh: $name: $6 non-2xx answers, $7 socket errors" >&2
}
contender() {	# contender NAME: runs one round of NAME
	case $1 in
	nginx) one nginx "$NURL" ;;
	portdex) one portdex "$SURL_portdex" ;;
	nocache) one nocache "$SURL_nocache" ;;
	esac
}
echo "bench/serve-tls.sh: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t$WRK_THREADS -c$CONNS -d$DURATION (keep-alive), $PAGES random pages, TLS: RSA 2048 certificate; $ROUNDS interleaved rounds"
# warm-up: the page cache and nginx's file cache see the pages
for u in "$NURL" "$SURL_portdex" "$SURL_nocache"; do
	wrk -t"$WRK_THREADS" -c"$CONNS" -d3s -s "$T/random.lua" "$u" >/dev/null
done
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="nginx portdex nocache"; else order="nocache portdex nginx"; fi
	for c in $order; do contender "$c"; done
done
python3 - "$T" <<'EOF'
import statistics, sys
t = sys.argv[1]
res = {}
for name in ("nginx", "portdex", "nocache"):
    rows = [l.split() for l in open("%s/%s" % (t, name))]
    res[name] = (statistics.median(float(r[2]) for r in rows),
                 statistics.median(int(r[3]) for r in rows) / 1000,
                 statistics.median(int(r[4]) for r in rows) / 1000,
                 " ".join("%.0f" % float(r[2]) for r in rows))
label = {"nginx": "nginx (static files, TLS)", "portdex": "portdex serve (TLS, cache)",
         "nocache": "portdex serve (TLS, --cache-mb 0)"}
for name in ("nginx", "portdex", "nocache"):
    rps, p50, p99, runs = res[name]
    ratio = "" if name == "nginx" else "  %.2fx nginx" % (rps / res["nginx"][0])
    print("%-34s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms%s   (runs: %s)" % (label[name], rps, p50, p99, ratio, runs))
EOF
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); goal: portdex >= 0.70x nginx"
