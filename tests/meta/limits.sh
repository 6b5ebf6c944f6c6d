#!/usr/bin/env bash
# limits.sh - issue 18's size limits for the library: no lib/ file over
# 1,000 lines and no function in lib/ over 150.  A function runs from the
# line that starts its definition (a line at column 0 with a "(" that is
# not a declaration, a directive or a comment; the name line in this
# tree's style) to its closing "}" at column 0.  src/ files over the
# file limit are listed as notes, not failures: the limit is the
# library's.  PDX_MAX_FILE_LINES / PDX_MAX_FUNC_LINES lower the limits
# (to see this test fail; a lowered file limit also ends the exception
# below).
set -euo pipefail
src=${PDX_SRCDIR:?PDX_SRCDIR names the source tree}
max_file=${PDX_MAX_FILE_LINES:-1000}
max_func=${PDX_MAX_FUNC_LINES:-150}
# Files over the limit when this test came, each with the size it had:
# it may shrink, never grow, and once within the limit it must leave this
# list (so the list can only get shorter).
declare -A known=()
status=0
nfiles=0
nfuncs=0
for f in "$src"/lib/*.[ch]; do
	rel=${f#"$src"/}
	n=$(wc -l <"$f")
	nfiles=$((nfiles + 1))
	ceiling=${known[$rel]:-}
	if [ -n "$ceiling" ] && [ "$max_file" -eq 1000 ]; then
		if [ "$n" -le "$max_file" ]; then
			echo "FAIL: $rel has $n lines now: take it off limits.sh's list of known files"
			status=1
		elif [ "$n" -gt "$ceiling" ]; then
			echo "FAIL: $rel has $n lines (over the limit of $max_file, and grown from $ceiling)"
			status=1
		else
			echo "known: $rel has $n lines (limit $max_file; to be split)"
		fi
	elif [ "$n" -gt "$max_file" ]; then
		echo "FAIL: $rel has $n lines (limit $max_file)"
		status=1
	fi
done
for f in "$src"/src/*.[ch]; do
	n=$(wc -l <"$f")
	[ "$n" -le "$max_file" ] || echo "note: ${f#"$src"/} has $n lines"
done
# One line per function: FILE NAME START LINES.
funcs=$(awk '
	FNR == 1 { cand = 0; infn = 0 }
	/^[{]/ && cand && !infn { infn = 1; next }
	/^[}]/ && infn {
		print FILENAME, name, start, FNR - start + 1
		infn = 0; cand = 0; next
	}
	infn { next }
	/^[A-Za-z_][^;]*\(/ && !/;[ \t]*$/ && !/^(typedef|struct|enum|union)\>/ {
		cand = 1; start = FNR
		name = $0; sub(/\(.*/, "", name); sub(/.*[ \t*]/, "", name)
		next
	}
	/^[^ \t]/ { cand = 0 }
' "$src"/lib/*.c)
[ -n "$funcs" ] || { echo "FAIL: no function found in lib/ (the scan is broken)"; exit 1; }
while read -r file name start len; do
	nfuncs=$((nfuncs + 1))
	if [ "$len" -gt "$max_func" ]; then
		echo "FAIL: ${file#"$src"/}:$start: $name is $len lines (limit $max_func)"
		status=1
	fi
done <<<"$funcs"
echo "$nfiles files of lib/ (limit $max_file lines) and $nfuncs functions (limit $max_func) checked"
exit $status
