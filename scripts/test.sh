#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 (as root): installs what the
# tests need, then builds and runs every unit, CLI and integration test
# twice: once in a normal build and once under AddressSanitizer + UBSan.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

need=$(cat scripts/packages.txt scripts/test-packages.txt | grep -v '^#' | grep -v '^$' | tr '\n' ' ')
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi

jobs=$(nproc)
status=0
# What a packager builds: every CMake build type with gcc and clang, warnings
# as errors (PDX_WERROR, off by default so a newer compiler's new warning
# does not break a distribution's build).
for cc in gcc clang; do
	for type in Release MinSizeRel RelWithDebInfo Debug; do
		dir=build-types/$cc-$type
		echo "== build $type with $cc"
		if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$type \
		    -DCMAKE_C_COMPILER=$cc -DPDX_WERROR=ON >/dev/null &&
		    cmake --build "$dir" -j"$jobs" >"$dir.log" 2>&1; }; then
			echo "FAIL: $type build with $cc:"
			grep -E 'error|warning' "$dir.log" | head -20
			status=1
		fi
	done
done
for variant in normal asan; do
	dir=build-test-$variant
	opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPDX_WERROR=ON)
	[ "$variant" = asan ] && opts=(-DCMAKE_BUILD_TYPE=Debug -DPDX_SANITIZE=ON -DPDX_WERROR=ON)
	echo "== $variant build"
	cmake -S . -B "$dir" "${opts[@]}" >/dev/null
	cmake --build "$dir" -j"$jobs"
	echo "== $variant tests"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir "$dir" --output-on-failure -j1 || status=1
	if [ "$variant" = normal ]; then
		# Every CLI test must fail against portdex binaries that do
		# nothing (exit 0 silent, "{}", exit 2): scripts/mutation.sh.
		echo "== mutation run"
		scripts/mutation.sh "$dir" || status=1
	fi
done
exit $status
