#!/usr/bin/env bash
# portdex serve over HTTP on a random loopback port: status codes, content
# types, security headers, escaping of a hostile note, 404/400 pages, the
# JSON API against the CLI's --json, votes (persisting across a restart,
# rate-limited), --expose-local routes, request limits, the access log,
# IPv6, and a clean exit on SIGTERM/SIGINT.  Run as root, the server must
# drop to nobody and still serve.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed" >&2; exit 77; }
build_registry
DB=$PORTDEX_DB
STATE=$PORTDEX_STATE
if [ "$(id -u)" = 0 ]; then
	# votes are written by the user serve becomes: the state database's
	# journal is made in its directory (as systemd's StateDirectory= gives)
	mkdir "$T/state"
	chown nobody "$T/state"
	STATE=$T/state/state.db
	export PORTDEX_STATE=$STATE
fi
# The server drops to nobody after opening everything; it must not need
# to look the paths up again, but the directory may stay traversable.
chmod 755 "$T"
RUNAS=()
[ "$(id -u)" = 0 ] && RUNAS=(--user nobody)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT

# start_server ARGS...: sets SPID and URL (bounded wait for the banner:
# START_TRIES, lib.sh).
start_server() {
	: > "$T/serve.log"
	"$PORTDEX" --db "$DB" --state "$STATE" serve "${RUNAS[@]}" "$@" \
	    2> "$T/serve.log" &
	SPID=$!
	URL=
	for _ in $(seq "$START_TRIES"); do
		URL=$(grep -Eo 'http://(127\.0\.0\.1|\[::1\]):[0-9]+' "$T/serve.log" | head -1)
		[ -n "$URL" ] && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	fail "server did not start: $(cat "$T/serve.log")"
	exit 1
}
# stop_server SIGNAL: sets SRC to the server's exit status.
stop_server() {
	kill -"$1" "$SPID"
	SRC=0
	wait "$SPID" || SRC=$?
	SPID=
}
# get PATH [curl args]: sets CODE, HDR (headers), BODY.
get() {
	local p=$1; shift
	CODE=$(curl -s -g -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" "$URL$p") || CODE=curl-failed
	HDR=$(tr -d '\r' < "$T/hdr")
	BODY=$(cat "$T/body")
}
header() { printf '%s\n' "$HDR" | grep -i "^$1:" | head -1 | cut -d' ' -f2- ; }

# ---- refusals ----------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
	run_rc "$PORTDEX" --db "$DB" --state "$STATE" serve --listen 127.0.0.1:0
	expect_eq "root without --user refused" 2 "$RC"
	expect_match "root refusal says why" "refusing to serve as root" "$ERR"
	run_rc "$PORTDEX" --db "$DB" --state "$STATE" serve --listen 127.0.0.1:0 --user no-such-user-xyz
	expect_eq "unknown user" 2 "$RC"
fi
run_rc "$PORTDEX" --db "$DB" --state "$STATE" serve "${RUNAS[@]}" --listen nonsense:80
expect_eq "bad --listen" 2 "$RC"
expect_match "bad --listen message" "not a numeric" "$ERR"
run_rc "$PORTDEX" --db "$DB" --state "$STATE" serve "${RUNAS[@]}" --listen 127.0.0.1:70000
expect_eq "bad --listen port" 2 "$RC"
run_rc "$PORTDEX" --db "$DB" --state "$STATE" serve "${RUNAS[@]}" --threads 0
expect_eq "bad --threads" 2 "$RC"
# A non-loopback address warns (TEST-NET-1: binding fails, nothing is exposed).
run_rc "$PORTDEX" --db "$DB" --state "$STATE" serve "${RUNAS[@]}" --listen 192.0.2.1:0
expect_match "non-loopback warning" "warning: .*not a loopback address" "$ERR"
expect_eq "unbindable address" 2 "$RC"

# ---- a hostile note, then the server -------------------------------------
"$PORTDEX" --state "$STATE" -q note 645 '<script>alert("x")</script> & <b>bold</b> legacy sync'
# notes are local data: shown with --expose-notes (test-serve-webconfig.sh
# checks that they are not without it)
start_server --listen 127.0.0.1:0 --threads 2 --expose-notes
PORT=${URL##*:}
if [ "$(id -u)" = 0 ]; then
	expect_eq "server runs as nobody" "$(id -u nobody)" \
	    "$(awk '/^Uid:/ {print $2}' "/proc/$SPID/status")"
	expect_match "sandbox reported" "sandbox: no_new_privs" "$(cat "$T/serve.log")"
fi

get /
expect_eq "/ status" 200 "$CODE"
expect_eq "/ type" "text/html; charset=utf-8" "$(header Content-Type)"
expect_match "/ CSP" "default-src 'none'" "$(header Content-Security-Policy)"
expect_nomatch "/ CSP has no unsafe-inline" "unsafe-inline" "$(header Content-Security-Policy)"
expect_eq "/ nosniff" nosniff "$(header X-Content-Type-Options)"
expect_match "/ search box" '<input id="q" type="search" name="q"' "$BODY"
expect_nomatch "/ no external resources" '(src|href)="(https?:)?//' "$BODY"
get / -I
expect_eq "HEAD /" 200 "$CODE"
expect_nomatch "HEAD has no body" "<!doctype" "$BODY"
get /style.css
expect_eq "css status" 200 "$CODE"
expect_eq "css type" "text/css; charset=utf-8" "$(header Content-Type)"
expect_match "css responsive" "@media" "$BODY"

# The card page against the CLI's model of the same port.
run_rc "$PORTDEX" show 645 --json
SVC=$(json 'j["transports"][0]["service"]')
RULE=$(json 'j["transports"][0]["risk"]["reasons"][0]["rule"]')
REL=$(json '" ".join(str(r["port"]) for r in j["related"])')
get /port/645
expect_eq "/port/645 status" 200 "$CODE"
expect_eq "/port/645 type" "text/html; charset=utf-8" "$(header Content-Type)"
expect_match "/port/645 CSP" "default-src 'none'" "$(header Content-Security-Policy)"
for sec in official range practice security notes check vote; do
	expect_match "section $sec" "<section id=\"$sec\">" "$BODY"
done
expect_nomatch "no live section without --expose-local" '<section id="local">' "$BODY"
expect_match "official service" "<dd>$SVC</dd>" "$BODY"
expect_match "risk rule" "</span> $RULE: " "$BODY"
for p in $REL; do
	expect_match "related link $p" "href=\"/port/$p\"" "$BODY"
done
expect_match "note escaped" '&lt;script&gt;alert\(&quot;x&quot;\)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;' "$BODY"
expect_nomatch "no live script" '<script|<b>bold' "$BODY"
expect_match "vote form" '<form class="vote" method="post" action="/port/645/vote">' "$BODY"
get /port/645/tcp
expect_eq "/port/645/tcp" 200 "$CODE"
expect_match "tcp only" '<h3>tcp: ' "$BODY"
expect_nomatch "no udp heading" '<h3>(udp|tcp, udp)' "$BODY"
get /port/6000/sctp
expect_eq "/port/N/sctp" 200 "$CODE"

# 404 and 400 pages.
get /no/such/page
expect_eq "404 status" 404 "$CODE"
expect_eq "404 is a page" "text/html; charset=utf-8" "$(header Content-Type)"
expect_match "404 text" "404 Not found" "$BODY"
get /port/645/nosuch
expect_eq "unknown port subpage" 404 "$CODE"
for bad in 70000 -1 99999999999999999999 1e3 %25 a%3Cb; do
	get "/port/$bad"
	expect_eq "bad port $bad" 400 "$CODE"
	expect_match "bad port $bad page" "400 Bad port" "$BODY"
done
# a name nothing carries: not found (names are pages: /port/ssh)
get /port/abc
expect_eq "unknown service name" 404 "$CODE"
get /port/ssh
expect_eq "/port/NAME" 200 "$CODE"
expect_match "/port/ssh is 22's card" "<h1>Port 22 " "$BODY"
get /port/6665-6669
expect_eq "/port/LO-HI" 200 "$CODE"
expect_eq "/port/LO-HI lists its ports" 10 "$(printf '%s' "$BODY" | grep -c '<tr><td><a href="/port/666[5-9]/')"
get /port/9-1
expect_eq "reversed range" 400 "$CODE"
get "/port/%3Cscript%3E"
expect_eq "hostile port" 400 "$CODE"
expect_nomatch "hostile port escaped" "<script>" "$BODY"
get /api/v1/ports/70000
expect_eq "api bad port" 400 "$CODE"
expect_eq "api error type" application/json "$(header Content-Type)"
expect_match "api error json" '"error": "port .70000. is out of range' "$BODY"
get /api/v1/nope
expect_eq "api 404" 404 "$CODE"
expect_eq "api 404 json" application/json "$(header Content-Type)"
get /port/645 -X DELETE
expect_eq "DELETE refused" 405 "$CODE"

# The JSON API is the CLI's --json.
get /api/v1/ports/645
expect_eq "api port" 200 "$CODE"
printf '%s' "$BODY" > "$T/api.json"
"$PORTDEX" show 645 --json > "$T/cli.json"
expect_eq "api port == show --json (+votes)" same "$(python3 - "$T/api.json" "$T/cli.json" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
assert set(a["votes"]) == {"sad", "meh", "happy"}, a["votes"]
del a["votes"]
# Without --expose-local the API leaves out the live section.
assert "local" not in a, "local data served without --expose-local"
c.pop("local", None)
# The summary's last clause says what listens here: only the CLI read it.
sa, sc = a.pop("summary"), c.pop("summary")
assert sc.startswith(sa[:-1]), (sa, sc)
print("same" if a == c else "differ: %s" % [k for k in set(a) | set(c) if a.get(k) != c.get(k)])
EOF
)"
get "/api/v1/search?q=irc"
expect_eq "api search" 200 "$CODE"
printf '%s' "$BODY" > "$T/api.json"
"$PORTDEX" find irc --json > "$T/cli.json"
expect_eq "api search == find --json" same "$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
print("same" if a == c and len(a) > 0 else "differ")' "$T/api.json" "$T/cli.json")"
get "/api/v1/search"
expect_eq "api search without q" 400 "$CODE"

# The search page links every result the CLI finds.
get "/search?q=irc"
expect_eq "search page" 200 "$CODE"
for p in $(python3 -c 'import json,sys; print(" ".join(str(r["port"]) for r in json.load(open(sys.argv[1])) if r.get("port") is not None))' "$T/cli.json"); do
	expect_match "search links $p" "href=\"/port/$p\"" "$BODY"
done
get "/search?q=%3Cimg%20src%3Dx%3E"
expect_eq "hostile search" 200 "$CODE"
expect_nomatch "hostile query escaped" "<img" "$BODY"
expect_match "hostile query shown inert" "&lt;img src=x&gt;" "$BODY"

# ---- request limits ------------------------------------------------------
get "/search?q=$(head -c 300 /dev/zero | tr '\0' a)"
expect_eq "query too long" 400 "$CODE"
get "/port/$(head -c 2000 /dev/zero | tr '\0' 1)"
expect_eq "URL too long" 414 "$CODE"
get / -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' b)"
expect_match "oversized headers refused" "^(413|414|431|curl-failed|000)$" "$CODE"
get /port/645/vote -X POST --data "choice=happy&pad=$(head -c 500 /dev/zero | tr '\0' p)"
expect_eq "oversized body" 413 "$CODE"
get /
expect_eq "still serving after oversized requests" 200 "$CODE"
kill -0 "$SPID" 2>/dev/null && pass || fail "server died on oversized requests"

# ---- votes -----------------------------------------------------------------
get /port/645/vote -X POST --data choice=happy
expect_eq "vote accepted" 303 "$CODE"
expect_eq "vote redirects" "/port/645#vote" "$(header Location)"
get /port/645
expect_match "vote counted" 'id="count-happy">1<' "$BODY"
expect_match "others zero" 'id="count-sad">0<' "$BODY"
get /port/645/vote -X POST --data choice=sad
expect_eq "second vote same port rate-limited" 429 "$CODE"
expect_match "Retry-After" '^[0-9]+$' "$(header Retry-After)"
get /port/645
expect_match "rate-limited vote not counted" 'id="count-sad">0<' "$BODY"
get /port/646/vote -X POST --data choice=bogus
expect_eq "bad choice" 400 "$CODE"
get /port/646/vote
expect_eq "GET vote" 405 "$CODE"
get /port/646/vote -X POST --data choice=meh -H "Origin: http://evil.example"
expect_eq "cross-site vote" 403 "$CODE"
get /port/646/vote -X POST --data choice=meh -H "Origin: $URL"
expect_eq "same-site vote" 303 "$CODE"

# A note added while the server runs shows at once (no stale cache).
get /port/645
"$PORTDEX" --state "$STATE" -q note 645 "added while serving"
get /port/645
expect_match "live note visible" "added while serving" "$BODY"

# Local-data routes are absent without --expose-local.
get /api/v1/listening
expect_eq "listening hidden" 404 "$CODE"
expect_eq "listening hidden json" application/json "$(header Content-Type)"
get /api/v1/audit
expect_eq "audit hidden" 404 "$CODE"
get /metrics
expect_eq "metrics" 200 "$CODE"
expect_match "metrics type" "^text/plain; version=0.0.4" "$(header Content-Type)"
expect_nomatch "no listeners without --expose-local" "portdex_listeners" "$BODY"
expect_match "build info" 'portdex_build_info\{version="[0-9.]+"' "$BODY"
expect_match "requests counted" 'portdex_http_requests_total\{code="404"\} [1-9]' "$BODY"

# Concurrent clients are all answered.
for i in $(seq 40); do
	curl -s -o /dev/null -w '%{http_code}\n' "$URL/port/$((RANDOM % 65536))" &
done > "$T/par.txt"
wait $(jobs -p | grep -v "^$SPID$") 2>/dev/null
expect_eq "40 parallel pages" 40 "$(grep -c '^200$' "$T/par.txt")"

# ---- graceful stop, access log, restart --------------------------------
stop_server TERM
expect_eq "SIGTERM exit status" 0 "$SRC"
LOG=$(cat "$T/serve.log")
expect_match "access log (Common Log Format)" \
    '^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "GET /port/645 HTTP/1\.1" 200 [0-9]+$' "$LOG"
expect_match "access log of a 404" '"GET /no/such/page HTTP/1\.1" 404 [0-9]+' "$LOG"
expect_match "stop message" "Terminated, stopping" "$LOG"

# Votes persist; the window limit spans restarts (2 votes already, max 3).
start_server --listen 127.0.0.1:0 --vote-limit 0,3600,3
get /api/v1/ports/645
expect_eq "happy vote persisted" 1 "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["votes"]["happy"])')"
get /api/v1/ports/646
expect_eq "meh vote persisted" 1 "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["votes"]["meh"])')"
get /port/700/vote -X POST --data choice=sad
expect_eq "third vote in window" 303 "$CODE"
get /port/701/vote -X POST --data choice=sad
expect_eq "fourth vote in window limited" 429 "$CODE"
stop_server INT
expect_eq "SIGINT exit status" 0 "$SRC"

# ---- --expose-local ----------------------------------------------------
start_server --listen 127.0.0.1:0 --expose-local
PORT=${URL##*:}
get /api/v1/listening
expect_eq "listening with --expose-local" 200 "$CODE"
expect_eq "our own listener is listed" yes "$(printf '%s' "$BODY" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("yes" if any(s["local"]["port"] == int(sys.argv[1]) and s["proto"] == "tcp" for s in j["sockets"]) else "no")' "$PORT")"
get "/port/$PORT"
expect_match "live section" '<section id="local">' "$BODY"
expect_match "live socket shown" "127\.0\.0\.1:$PORT" "$BODY"
get /api/v1/audit
expect_eq "audit with --expose-local" 200 "$CODE"
expect_eq "audit json" application/json "$(header Content-Type)"
expect_match "audit document" '"findings"' "$BODY"
# An ephemeral port has a series of its own only when it matters (here:
# a note on it); the rest are counted as port="other" (test-serve-bounds.sh).
"$PORTDEX" --state "$STATE" -q note "$PORT/tcp" "the test's own server"
get /metrics
expect_match "listener metric" "portdex_listeners\{port=\"$PORT\",proto=\"tcp\",scope=\"loopback\",risk=\"[a-z]+\",reach=\"loopback\"\} 1" "$BODY"
stop_server TERM
expect_eq "exit after --expose-local" 0 "$SRC"

# ---- IPv6 loopback ---------------------------------------------------------
if [ -r /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	start_server --listen '[::1]:0'
	expect_match "v6 banner" '^http://\[::1\]:[0-9]+$' "$URL"
	get /port/645
	expect_eq "v6 page" 200 "$CODE"
	get /port/645/vote -X POST --data choice=meh
	expect_eq "v6 vote" 303 "$CODE"
	stop_server TERM
	expect_eq "v6 exit" 0 "$SRC"
else
	echo "note: no ::1 on this machine, IPv6 part not run" >&2
fi
finish
