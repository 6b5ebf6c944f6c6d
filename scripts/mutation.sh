#!/usr/bin/env bash
# mutation.sh BUILD_DIR [TEST...] - every CLI test must fail against a
# portdex that does not do its job.  Each tests/cli/test-*.sh (or the ones
# named) runs three times, with PORTDEX set to a fake:
#   silent  exits 0 and prints nothing;
#   braces  prints "{}" and exits 0;
#   two     prints nothing and exits 2;
# and must exit with a status other than 0 (passed) and 77 (skipped) each
# time.  A test that passes or skips against a fake has checks that a
# binary doing nothing satisfies.  PDX_FAILFAST=1 ends a test at its first
# failed check (tests/cli/lib.sh), so a run takes seconds.  Prints one line per test and fake, and
# exits 1 if any test did not fail.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: mutation.sh BUILD_DIR [TEST...]}
build=$(cd "$build" && pwd)
shift
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
	tests=("$here"/tests/cli/test-*.sh)
fi
fakes=$(mktemp -d /tmp/portdex-mutation.XXXXXX)
trap 'rm -rf "$fakes"' EXIT
printf '#!/bin/sh\nexit 0\n' > "$fakes/silent"
printf '#!/bin/sh\necho "{}"\nexit 0\n' > "$fakes/braces"
printf '#!/bin/sh\nexit 2\n' > "$fakes/two"
chmod +x "$fakes"/*

status=0
runs=0
killed=0
for t in "${tests[@]}"; do
	case $t in */*) ;; *) t=$here/tests/cli/$t ;; esac
	name=$(basename "$t" .sh)
	for fake in silent braces two; do
		start=$(date +%s)
		PDX_FAILFAST=1 PORTDEX=$fakes/$fake PDX_BUILD=$build PDX_SRCDIR=$here \
		    PDX_SHARED=${PDX_SHARED:-$here/../shared} \
		    timeout -k 5 180 bash "$t" >"$fakes/out" 2>&1 </dev/null
		rc=$?
		secs=$(( $(date +%s) - start ))
		runs=$((runs + 1))
		if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
			echo "NOT KILLED: $name against $fake (exit $rc, ${secs}s):"
			tail -n 5 "$fakes/out" | sed 's/^/    /'
			status=1
		else
			echo "killed: $name against $fake (exit $rc, ${secs}s)"
			killed=$((killed + 1))
		fi
	done
done
echo "mutation run: $killed of $runs runs failed as they must, $((runs - killed)) did not"
exit $status
