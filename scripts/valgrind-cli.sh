#!/usr/bin/env bash
# One command that runs the CLI tests with every portdex invocation under
# valgrind (memcheck, --leak-check=full): PORTDEX points to a wrapper that
# runs the real binary as `valgrind --error-exitcode=99 ...`, so a memory
# error or a definite/possible leak fails the test that caused it.  The
# binary must be a build without sanitizers (valgrind and ASan exclude
# each other): by default the script configures and builds one in
# build-valgrind.
#
#   scripts/valgrind-cli.sh [-b BUILD] [TEST...]
#
# TEST names tests/cli/test-NAME.sh (default: all but the long crash and
# fuzz tests, which would take hours under valgrind, and serve-load, a
# timing test; see below).  The tests get PDX_VALGRIND=1 (longer waits).
# Prints one line per test (its portdex runs and how many of them valgrind
# flagged) and, for any error, the valgrind report; when a serve test ran,
# checks serve's sandbox once more under valgrind.  Valgrind's warnings
# about the Landlock system calls, which it does not know, are the only
# lines taken out of the reports (counted and printed).  Exits 1 if any
# test or the sandbox check failed or any report is left.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=
while getopts "b:" o; do
	case $o in
	b) build=$OPTARG ;;
	*) echo "usage: valgrind-cli.sh [-b BUILD] [TEST...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
command -v valgrind >/dev/null ||
    { echo "valgrind-cli: valgrind is needed (Debian: valgrind)" >&2; exit 2; }
if [ -z "$build" ]; then
	build=$here/build-valgrind
	cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DPDX_SANITIZE=OFF \
	    >/dev/null || exit 2
	cmake --build "$build" -j1 >/dev/null ||
	    { cmake --build "$build" 2>&1 | grep -E 'error' | head; exit 2; }
fi
real=$build/portdex
[ -x "$real" ] || { echo "valgrind-cli: no $real" >&2; exit 2; }
if nm -u "$real" 2>/dev/null | grep -q __asan_; then
	echo "valgrind-cli: $real is built with AddressSanitizer; use a plain build" >&2
	exit 2
fi

shared=${PDX_SHARED:-$here/../shared}
work=$(mktemp -d /tmp/portdex-valgrind.XXXXXX)
# Tests run portdex as other users too (e.g. nobody): let them log.
chmod 755 "$work"

# mkwrap DIR: a wrapper DIR/portdex whose runs log to DIR/logs/vg.PID.log
# (one wrapper per test, so that each test's runs are counted apart).
# --vgdb=no: valgrind's gdbserver is not used, and its FIFOs in /tmp,
# created while serve is still root, cannot be removed once it is nobody.
mkwrap() {
	mkdir -p "$1/logs"
	chmod 755 "$1"
	chmod 1777 "$1/logs"
	cat > "$1/portdex" <<WRAP
#!/bin/sh
exec valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full \\
    --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \\
    --track-origins=yes --log-file="$1/logs/vg.%p.log" "$real" "\$@"
WRAP
	chmod 755 "$1/portdex"
}

# vgfilter LOG: prints the log without the warnings valgrind gives for the
# Landlock system calls (444 landlock_create_ruleset, 445
# landlock_add_rule, 446 landlock_restrict_self), which valgrind 3.19
# does not know: it fails them with ENOSYS and serve goes on without
# Landlock.  Each warning is the WARNING line and valgrind's fixed
# four-line advice after it; only that exact block is taken out, anything
# else stays and is an error.  Prints "#filtered N" last.
vgfilter() {
	awk '
	BEGIN {
		adv[1] = "You may be able to write your own handler."
		adv[2] = "Read the file README_MISSING_SYSCALL_OR_IOCTL."
		adv[3] = "Nevertheless we consider this a bug.  Please report"
		adv[4] = "it at http://valgrind.org/support/bug_reports.html."
	}
	function flush(   i) { for (i = 1; i <= k; i++) print held[i]; k = 0; want = 0 }
	{
		if (want) {
			held[++k] = $0
			if ($0 == pfx adv[want]) {
				if (want++ == 4) { n++; k = 0; want = 0 }
				next
			}
			flush()
			next
		}
		if (match($0, /^--[0-9]+-- WARNING: unhandled amd64-linux syscall: 44[456]$/)) {
			pfx = substr($0, 1, index(substr($0, 3), "--") + 4)
			held[k = 1] = $0
			want = 1
			next
		}
		print
	}
	END { flush(); print "#filtered " n + 0 }' "$1"
}

if [ $# -gt 0 ]; then
	tests=()
	for n in "$@"; do tests+=("$here/tests/cli/test-${n#test-}.sh"); done
else
	tests=()
	for t in "$here"/tests/cli/test-*.sh; do
		case ${t##*/} in
		test-crash-*|test-fuzz.sh) continue ;;
		test-serve-load.sh)
			# Its checks are about speed: at least 100 malformed
			# requests answered in 22 s, each within 20 s, while wrk
			# loads the server, and a bound on resident memory.
			# Under valgrind on a busy machine the server gave 40 to
			# 395 of them and took over 20 s for a 100 KB query, and
			# the memory would be valgrind's.  Named, it runs.
			printf '%-22s %s\n' test-serve-load \
			    "left out: a timing and memory test, not meaningful under valgrind (name it to run it)"
			continue ;;
		esac
		tests+=("$t")
	done
fi

failed=0 nrun=0 nerr=0 nll=0 shown=0
for t in "${tests[@]}"; do
	n=${t##*/}
	n=${n%.sh}
	mkwrap "$work/$n"
	s=$(date +%s)
	PORTDEX=$work/$n/portdex PDX_VALGRIND=1 PDX_BUILD=$build \
	    PDX_SRCDIR=$here PDX_SHARED=$shared \
	    timeout 3600 bash "$t" > "$work/$n.out" 2>&1
	rc=$?
	case $rc in
	0) r=ok ;;
	77) r=skipped ;;
	*) r="FAILED ($rc)"; failed=1 ;;
	esac
	# Every valgrind report left after the filter is an error somewhere.
	runs=0 errs=0
	for l in "$work/$n"/logs/vg.*.log; do
		[ -e "$l" ] || continue
		runs=$((runs + 1))
		f=$(vgfilter "$l")
		nll=$((nll + ${f##*#filtered }))
		f=${f%#filtered *}
		[ -n "$f" ] || continue
		errs=$((errs + 1))
		printf '%s' "$f" > "$l.errors"
	done
	nrun=$((nrun + runs))
	nerr=$((nerr + errs))
	printf '%-22s %-12s %4ss %4s runs %2s bad  %s\n' "$n" "$r" \
	    "$(( $(date +%s) - s ))" "$runs" "$errs" "$(tail -1 "$work/$n.out")"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		grep -E '^FAIL' "$work/$n.out" | head -10
	fi
	for l in "$work/$n"/logs/vg.*.log.errors; do
		[ -e "$l" ] || continue
		shown=$((shown + 1))
		[ "$shown" -le 5 ] || continue
		echo "---- $n/logs/${l##*/}"
		head -40 "$l"
	done
done
[ "$shown" -gt 5 ] && echo "($((shown - 5)) more reports in $work/*/logs/*.errors)"

# serve's sandbox under valgrind, once, when a serve test was run: the
# Landlock calls fail (ENOSYS), and serve must go on with no_new_privs and
# its seccomp filter in force (seen in /proc), answer, and exit 0.
if printf '%s\n' "${tests[@]}" | grep -q '/test-serve[^/]*\.sh$'; then
	d=$work/serve-sandbox
	mkwrap "$d"
	runas=()
	[ "$(id -u)" = 0 ] && runas=(--user nobody)
	iana=$shared/data/iana/service-names-port-numbers.csv
	if [ ! -f "$iana" ] || ! command -v curl >/dev/null; then
		echo "serve sandbox check: skipped (no $iana or no curl)"
	elif ! "$real" --db "$d/registry.db" update --from "$iana" >/dev/null; then
		echo "serve sandbox check: FAILED (update)"; failed=1
	else
		: > "$d/serve.log"
		"$d/portdex" --db "$d/registry.db" --state "$d/state.db" serve \
		    "${runas[@]}" --listen 127.0.0.1:0 2> "$d/serve.log" &
		pid=$!
		url=
		for _ in $(seq 600); do
			url=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$d/serve.log" | head -1)
			[ -n "$url" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		st=$(awk '/^(NoNewPrivs|Seccomp):/ { printf "%s %s ", $1, $2 }' \
		    "/proc/$pid/status" 2>/dev/null)
		code=$(curl -s -m 60 -o /dev/null -w '%{http_code}' "$url/port/22")
		kill -TERM "$pid" 2>/dev/null
		src=0
		wait "$pid" || src=$?
		sb=$(grep -o 'sandbox: .*' "$d/serve.log")
		echo "serve sandbox under valgrind: ${sb:-no sandbox line}; ${st}GET $code, exit $src"
		case "$sb|$st|$code|$src" in
		"sandbox: no_new_privs, "*", seccomp filter|NoNewPrivs: 1 Seccomp: 2 |200|0") ;;
		*) echo "serve sandbox check: FAILED"; sed 's/^/  /' "$d/serve.log" | head -20
		   failed=1 ;;
		esac
	fi
	for l in "$d"/logs/vg.*.log; do
		[ -e "$l" ] || continue
		nrun=$((nrun + 1))
		f=$(vgfilter "$l")
		nll=$((nll + ${f##*#filtered }))
		f=${f%#filtered *}
		[ -n "$f" ] || continue
		nerr=$((nerr + 1))
		echo "---- serve-sandbox/logs/${l##*/}"
		printf '%s' "$f" | head -40
	done
fi
echo "valgrind: $nrun portdex runs, $nerr with errors or leaks"
echo "valgrind: $nll Landlock warnings filtered (unhandled syscall 444-446)"
[ "$nerr" -gt 0 ] && failed=1
if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "kept: $work"; fi
exit "$failed"
