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
# fuzz tests, which would take hours under valgrind).  Prints one line per
# test and, for any error, the valgrind report; exits 1 if any test failed.
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
	cmake --build "$build" -j"$(nproc)" >/dev/null ||
	    { cmake --build "$build" 2>&1 | grep -E 'error' | head; exit 2; }
fi
real=$build/portdex
[ -x "$real" ] || { echo "valgrind-cli: no $real" >&2; exit 2; }
if nm -u "$real" 2>/dev/null | grep -q __asan_; then
	echo "valgrind-cli: $real is built with AddressSanitizer; use a plain build" >&2
	exit 2
fi

work=$(mktemp -d /tmp/portdex-valgrind.XXXXXX)
mkdir -p "$work/logs"
# Tests run portdex as other users too (e.g. nobody): let them log.
chmod 755 "$work"
chmod 1777 "$work/logs"
cat > "$work/portdex" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \\
    --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \\
    --track-origins=yes --log-file="$work/logs/vg.%p.log" "$real" "\$@"
WRAP
chmod +x "$work/portdex"

if [ $# -gt 0 ]; then
	tests=()
	for n in "$@"; do tests+=("$here/tests/cli/test-${n#test-}.sh"); done
else
	tests=()
	for t in "$here"/tests/cli/test-*.sh; do
		case ${t##*/} in
		test-crash-*|test-fuzz.sh) continue ;;
		esac
		tests+=("$t")
	done
fi

failed=0
for t in "${tests[@]}"; do
	n=${t##*/}
	n=${n%.sh}
	s=$(date +%s)
	PORTDEX=$work/portdex PDX_BUILD=$build PDX_SRCDIR=$here \
	    PDX_SHARED=${PDX_SHARED:-$here/../shared} \
	    timeout 3600 bash "$t" > "$work/$n.out" 2>&1
	rc=$?
	case $rc in
	0) r=ok ;;
	77) r=skipped ;;
	*) r="FAILED ($rc)"; failed=1 ;;
	esac
	printf '%-22s %-12s %4ss  %s\n' "$n" "$r" "$(( $(date +%s) - s ))" \
	    "$(tail -1 "$work/$n.out")"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		grep -E '^FAIL' "$work/$n.out" | head -10
	fi
done
# Every valgrind report that is not empty is an error somewhere.
nerr=0
for l in "$work"/logs/vg.*.log; do
	[ -s "$l" ] || continue
	nerr=$((nerr + 1))
	if [ "$nerr" -le 5 ]; then
		echo "---- ${l##*/}"
		head -40 "$l"
	fi
done
nrun=$(ls "$work"/logs | wc -l)
echo "valgrind: $nrun portdex runs, $nerr with errors or leaks"
[ "$nerr" -gt 0 ] && failed=1
if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "kept: $work"; fi
exit "$failed"
