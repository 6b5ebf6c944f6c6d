#!/usr/bin/env bash
# tests/meta/format.sh - every C file git tracks is formatted as the
# checked-in .clang-format says (STYLE.md: one style, enforced): fails
# naming each file that clang-format would change, and how to fix it.
set -u
src=${PDX_SRCDIR:?PDX_SRCDIR names the source tree}
cf=$(command -v clang-format || command -v clang-format-14 || true)
if [ -z "$cf" ]; then
	echo "SKIP: clang-format is not installed (Debian: clang-format; scripts/test-packages.txt lists it)" >&2
	exit 77
fi
cd "$src" || exit 1
[ -f .clang-format ] || { echo "FAIL: no .clang-format in $src"; exit 1; }
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(find lib src include tests bench -name '*.[ch]' | sort)
else
	files=$(git ls-files '*.c' '*.h')
fi
n=0 bad=0
for f in $files; do
	n=$((n + 1))
	if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "FAIL: $f is not formatted: $cf -i $f"
		bad=$((bad + 1))
	fi
done
echo "$n C files checked against .clang-format ($($cf --version | head -1)); $bad not formatted"
[ "$n" -gt 100 ] || { echo "FAIL: only $n C files found"; exit 1; }
[ "$bad" -eq 0 ]
