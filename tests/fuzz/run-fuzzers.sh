#!/usr/bin/env bash
# Fuzzing as a test: configures and builds tests/fuzz with clang (its own
# CMake project, beside this build in $PDX_BUILD/fuzz), then runs every
# harness on its seed corpus for PDX_FUZZ_SECONDS (default 20; the ten
# per-format annotate harnesses half of it) under
# ASan+UBSan.  Any crash, leak, timeout or broken invariant fails the test
# and prints the input as base64.  Skips (77) only when clang or its
# libFuzzer runtime is not installed.
set -u
: "${PDX_SRCDIR:?}" "${PDX_BUILD:?}"
secs=${PDX_FUZZ_SECONDS:-20}

cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cc" ]; then
	echo "SKIP: clang is not installed (Debian: clang, libclang-rt-14-dev)" >&2
	exit 77
fi
probe=$(mktemp -d /tmp/portdex-fuzzprobe.XXXXXX)
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' > "$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>"$probe/err"; then
	echo "SKIP: $cc cannot link libFuzzer (Debian: libclang-rt-14-dev):" >&2
	cat "$probe/err" >&2
	exit 77
fi

fb=$PDX_BUILD/fuzz
if ! cmake -S "$PDX_SRCDIR/tests/fuzz" -B "$fb" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$probe/cmake.log" 2>&1; then
	cat "$probe/cmake.log" >&2
	echo "FAIL: configuring tests/fuzz" >&2
	exit 1
fi
if ! cmake --build "$fb" -j2 >"$probe/build.log" 2>&1; then
	grep -E 'error|Error' "$probe/build.log" | head -30 >&2
	echo "FAIL: building the fuzz harnesses" >&2
	exit 1
fi
n=$(ls "$fb"/fuzz_* 2>/dev/null | wc -l)
echo "built $n harnesses; $secs s each"
if [ "$n" -lt 10 ]; then
	echo "FAIL: expected at least 10 harnesses, found $n" >&2
	exit 1
fi
# fuzz_annotate_FORMAT (one per annotate parser, ten of them) are small
# and fast (30-55k runs/s): half the time each.
main=() per=()
for f in "$fb"/fuzz_*; do
	[ -x "$f" ] || continue
	case ${f##*/fuzz_} in
	annotate_*) per+=("${f##*/fuzz_}") ;;
	*) main+=("${f##*/fuzz_}") ;;
	esac
done
if [ ${#per[@]} -ne 10 ]; then
	echo "FAIL: expected 10 fuzz_annotate_FORMAT harnesses, found ${#per[@]}" >&2
	exit 1
fi
bash "$PDX_SRCDIR/tests/fuzz/run.sh" -t "$secs" "$fb" "${main[@]}"
rc=$?
bash "$PDX_SRCDIR/tests/fuzz/run.sh" -t "$(( (secs + 1) / 2 ))" "$fb" "${per[@]}" || rc=1
[ "$rc" -eq 0 ] && echo "no crash in any harness" || echo "FAIL: a harness found a crash" >&2
exit "$rc"
