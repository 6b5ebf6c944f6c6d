#!/usr/bin/env bash
# bench/serve.sh - portdex serve against nginx serving the same pages as
# static files, on this machine, in the same run.
#
# 2,000 random port pages (a fixed seed) are fetched from portdex serve
# with curl into a docroot; nginx serves that docroot; wrk then asks each
# server for /port/N with N drawn at random from the same 2,000 ports (a
# Lua script), after a warm-up.  Printed: requests/s, p50 and p99 latency
# of each, and the ratio portdex/nginx, for portdex with its page cache
# (the default) and without it (--cache-mb 0: every page rendered).
# Access logs are off on both sides.
#
# Needs: wrk, nginx (nginx-light), curl, python3.  Environment:
#   PORTDEX    the binary (default: a RelWithDebInfo build in $BUILD)
#   BUILD      build dir for that build (default /tmp/portdex-bench-build)
#   IANA       the IANA CSV (default ../shared/data/iana/...)
#   PAGES=2000 DURATION=10s CONNS=32 WRK_THREADS=2 SEED=6450
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
IANA=${IANA:-$SRC/../shared/data/iana/service-names-port-numbers.csv}
PAGES=${PAGES:-2000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
WRK_THREADS=${WRK_THREADS:-2}
SEED=${SEED:-6450}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for t in wrk curl python3; do
	command -v $t >/dev/null || { echo "bench: $t is not installed" >&2; exit 1; }
done
[ -x "$NGINX" ] || { echo "bench: nginx is not installed (nginx-light)" >&2; exit 1; }

if [ -z "${PORTDEX:-}" ]; then
	BUILD=${BUILD:-/tmp/portdex-bench-build}
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    ${PDX_EXCLUDE:+-DPDX_EXCLUDE="$PDX_EXCLUDE"} >/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target portdex >/dev/null
	PORTDEX=$BUILD/portdex
fi

T=$(mktemp -d /tmp/portdex-bench.XXXXXX)
chmod 755 "$T"
SPID= NPID=
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null
	[ -n "$NPID" ] && kill "$NPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$PORTDEX" update --from "$IANA" --db "$T/registry.db" >/dev/null
RUNAS=()
[ "$(id -u)" = 0 ] && RUNAS=(--user nobody)

start_portdex() {
	: > "$T/serve.log"	# before the job starts: no stale banner
	"$PORTDEX" -q --db "$T/registry.db" --state "$T/state.db" serve \
	    "${RUNAS[@]}" --listen 127.0.0.1:0 --threads "$(nproc)" "$@" \
	    2> "$T/serve.log" &
	SPID=$!
	PURL=
	for _ in $(seq 100); do
		PURL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$T/serve.log" | head -1 || true)
		[ -n "$PURL" ] && return 0
		sleep 0.1
	done
	echo "bench: portdex serve did not start: $(cat "$T/serve.log")" >&2
	exit 1
}
stop_portdex() { kill -TERM "$SPID"; wait "$SPID" || true; SPID=; }

# The same 2,000 pages for both servers.
python3 -c '
import random, sys
random.seed(int(sys.argv[1]))
print("\n".join(str(p) for p in random.sample(range(65536), int(sys.argv[2]))))' \
    "$SEED" "$PAGES" > "$T/ports.txt"
start_portdex
mkdir -p "$T/docroot/port"
echo "fetching $PAGES pages from portdex serve..." >&2
sed "s|.*|url = \"$PURL/port/&\"\noutput = \"$T/docroot/port/&\"|" "$T/ports.txt" > "$T/curl.cfg"
curl -s --no-progress-meter --fail --parallel --parallel-max 8 -K "$T/curl.cfg" 2>/dev/null
echo "$(ls "$T/docroot/port" | wc -l) pages, $(du -sh "$T/docroot" | cut -f1)" >&2

NPORT=$(free_port)
cat > "$T/nginx.conf" <<EOF
worker_processes $(nproc);
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
daemon off;
$( [ "$(id -u)" = 0 ] && echo "user nobody nogroup;" )
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 100000;
	client_body_temp_path $T/nginx-tmp;
	proxy_temp_path $T/nginx-tmp;
	fastcgi_temp_path $T/nginx-tmp;
	uwsgi_temp_path $T/nginx-tmp;
	scgi_temp_path $T/nginx-tmp;
	server {
		listen 127.0.0.1:$NPORT;
		root $T/docroot;
		location /port/ {
			default_type "text/html; charset=utf-8";
			add_header Content-Security-Policy "default-src 'none'; style-src 'self'";
			add_header X-Content-Type-Options nosniff;
		}
	}
}
EOF
mkdir -p "$T/nginx-tmp"
"$NGINX" -c "$T/nginx.conf" -p "$T" &
NPID=$!
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$NPORT/port/$(head -1 "$T/ports.txt")" && break
	sleep 0.1
done

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

# run NAME URL: wrk after a warm-up; sets RPS P50 P99 (microseconds).
run() {
	wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$T/random.lua" "$2" >/dev/null
	local line
	line=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" -s "$T/random.lua" "$2" | grep '^RESULT')
	set -- $line
	RPS=$3 P50=$4 P99=$5
	[ "$6" = 0 ] && [ "$7" = 0 ] || echo "bench: $1: $6 non-2xx answers, $7 socket errors" >&2
}
row() { printf '%-28s %10s req/s   p50 %6.2f ms   p99 %6.2f ms\n' "$1" "$2" "$(echo "$3/1000" | bc -l)" "$(echo "$4/1000" | bc -l)"; }

echo "wrk -t$WRK_THREADS -c$CONNS -d$DURATION, $PAGES random pages, $(nproc) CPUs, $(uname -r)"
run nginx "http://127.0.0.1:$NPORT"
N_RPS=$RPS N_P50=$P50 N_P99=$P99
row "nginx (static files)" "$N_RPS" "$N_P50" "$N_P99"
run portdex "$PURL"
row "portdex serve (cache)" "$RPS" "$P50" "$P99"
printf '%-28s %10.2fx nginx\n' "  ratio" "$(echo "$RPS/$N_RPS" | bc -l)"
stop_portdex

start_portdex --cache-mb 0
run portdex-nocache "$PURL"
row "portdex serve (no cache)" "$RPS" "$P50" "$P99"
printf '%-28s %10.2fx nginx\n' "  ratio" "$(echo "$RPS/$N_RPS" | bc -l)"
stop_portdex
