#!/usr/bin/env bash
# exports.sh LIBPORTDEX_SO - libportdex.so exports exactly what include/
# declares: every function and object declared in the public headers is a
# dynamic symbol of the library, and the library exports nothing else
# (the rest is built hidden; see PDX_API_BEGIN in include/portdex.h).
# The declarations are read by the compiler (gcc -aux-info), not by a
# pattern over the text.
set -euo pipefail
lib=${1:?usage: exports.sh LIBPORTDEX_SO}
src=${PDX_SRCDIR:?PDX_SRCDIR names the source tree}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

[ -s "$lib" ] || { echo "FAIL: $lib is missing or empty"; exit 1; }
for h in "$src"/include/portdex.h "$src"/include/portdex/*.h; do
	echo "#include \"$h\""
done > "$t/all.c"
gcc -I"$src/include" $(pkg-config --cflags jansson) -aux-info "$t/aux" \
    -fsyntax-only "$t/all.c"
# Functions: "/* FILE:LINE:NC */ extern TYPE NAME (ARGS);"
grep -F "$src/include/" "$t/aux" |
    sed -E 's/^.*[* ]([A-Za-z_][A-Za-z0-9_]*) \(.*$/\1/' > "$t/declared"
# Objects: "extern ... NAME[...];" at the start of a line.
cat "$src"/include/portdex.h "$src"/include/portdex/*.h |
    sed -nE 's/^extern [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*)(\[[^]]*\])?;.*$/\1/p' \
    >> "$t/declared"
sort -u "$t/declared" -o "$t/declared"
# AddressSanitizer adds an ODR indicator (__odr_asan.NAME) per global.
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWG]$/ { print $3 }' |
    grep -v '^__odr_asan\.' | sort -u > "$t/exported"

nd=$(wc -l < "$t/declared")
ne=$(wc -l < "$t/exported")
status=0
if [ "$nd" -lt 50 ]; then
	echo "FAIL: only $nd declarations read from $src/include"
	status=1
fi
extra=$(comm -13 "$t/declared" "$t/exported")
missing=$(comm -23 "$t/declared" "$t/exported")
if [ -n "$extra" ]; then
	echo "FAIL: exported but not declared in include/:"
	printf '  %s\n' $extra
	status=1
fi
if [ -n "$missing" ]; then
	echo "FAIL: declared in include/ but not exported:"
	printf '  %s\n' $missing
	status=1
fi
echo "$nd declared, $ne exported"
exit $status
