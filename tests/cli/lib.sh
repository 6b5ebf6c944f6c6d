# lib.sh - shared by the CLI tests: a private temporary directory (removed
# on exit), a registry built once per test from the IANA snapshot in
# ../shared, and assertions that print what they expected and what they
# got.  Every test sources it and ends with `finish`.
set -u
: "${PORTDEX:?PORTDEX must name the built binary}"
SHARED=${PDX_SHARED:-$PDX_SRCDIR/../shared}
IANA=$SHARED/data/iana/service-names-port-numbers.csv
IANA_OLD=$SHARED/data/iana/service-names-port-numbers-2024-04.csv
T=$(mktemp -d /tmp/portdex-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
export PORTDEX_DB=$T/registry.db PORTDEX_STATE=$T/state.db NO_COLOR=1
# the ruleset cache (lib/firewall-cache.c) of this test only
export PORTDEX_CACHE=$T/cache
unset XDG_DATA_HOME XDG_STATE_HOME
failures=0
checks=0
# Waits for a server's banner, in tries of 0.1 s: 30 s, or 60 s when
# portdex runs under valgrind (scripts/valgrind-cli.sh sets PDX_VALGRIND=1).
# Every wait also ends when the server exits, so only a slow start pays:
# 10 s was once too short for a TLS server under ASan at load 7.
START_TRIES=300
[ "${PDX_VALGRIND:-0}" = 1 ] && START_TRIES=600

pass() { checks=$((checks + 1)); }
# PDX_FAILFAST=1 (scripts/mutation.sh): the first failed check ends the test.
fail() {
	checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*" >&2
	if [ "${PDX_FAILFAST:-0}" = 1 ]; then exit 1; fi
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [ "$2" == "$3" ]; then pass; else fail "$1: expected '$2', got '$3'"; fi
}
# expect_match WHAT REGEX TEXT
expect_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then pass; else fail "$1: /$2/ not in: $(printf '%s' "$3" | head -c 600)"; fi
}
expect_nomatch() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then fail "$1: /$2/ unexpectedly in: $(printf '%s' "$3" | head -c 600)"; else pass; fi
}
# run_rc: runs the command, sets OUT, ERR, RC
run_rc() {
	OUT=$("$@" 2>"$T/stderr") && RC=0 || RC=$?
	ERR=$(cat "$T/stderr")
}
# json QUERY: evaluates a Python expression on the JSON in $OUT (as j)
json() {
	printf '%s' "$OUT" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"
}

# serve_on_loopback [ARGS...]: starts portdex serve on a free loopback port
# (as nobody when root), sets SPID and URL, exits the test if it does not
# start.  The caller kills SPID.
serve_on_loopback() {
	local runas=()
	[ "$(id -u)" = 0 ] && runas=(--user nobody)
	"$PORTDEX" serve "${runas[@]}" --listen 127.0.0.1:0 "$@" 2> "$T/serve.log" &
	SPID=$!
	URL=
	for _ in $(seq "$START_TRIES"); do
		URL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$T/serve.log" | head -1)
		[ -n "$URL" ] && break
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$URL" ] || { echo "FAIL: server did not start: $(cat "$T/serve.log")" >&2; exit 1; }
}

build_registry() {
	if [ ! -f "$IANA" ]; then
		echo "SKIP: $IANA not found (the shared test data)" >&2
		exit 77
	fi
	"$PORTDEX" update --from "$IANA" >/dev/null || { echo "FAIL: update" >&2; exit 1; }
}

finish() {
	echo "$((checks - failures)) passed, $failures failed"
	[ "$failures" -eq 0 ]
}
