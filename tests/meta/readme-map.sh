#!/usr/bin/env bash
# readme-map.sh - README's "How it fits together" names every file of lib/
# and src/ by its own name (a pattern such as lib/sockets*.c does not
# count), and names no file that is not there.
set -euo pipefail
src=${PDX_SRCDIR:?PDX_SRCDIR names the source tree}
map=$(awk '/^## How it fits together/ { on = 1; next } on && /^## / { exit }
    on' "$src/README.md")
[ -n "$map" ] || { echo "FAIL: README.md has no 'How it fits together' section"; exit 1; }
status=0
n=0
for f in "$src"/lib/*.[ch] "$src"/lib/*.in "$src"/src/*.[ch] "$src"/src/*.in; do
	[ -e "$f" ] || continue
	rel=${f#"$src"/}
	n=$((n + 1))
	if ! grep -qF -- "\`$rel\`" <<<"$map"; then
		echo "FAIL: README's map does not name $rel"
		status=1
	fi
done
# Every `lib/...` or `src/...` the map names exists.
for rel in $(grep -oE '`(lib|src)/[^`*]+`' <<<"$map" | tr -d '`' | sort -u); do
	if [ ! -e "$src/$rel" ]; then
		echo "FAIL: README's map names $rel, which is not in the tree"
		status=1
	fi
done
echo "$n files of lib/ and src/ checked against README's map"
exit $status
