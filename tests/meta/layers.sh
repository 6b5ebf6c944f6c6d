#!/usr/bin/env bash
# layers.sh - the tool (src/) reaches the databases only through the
# library: src/ never mentions SQLite's API or the library's internal
# headers, and lib/ never prints to the terminal or exits.
set -euo pipefail
src=${PDX_SRCDIR:?PDX_SRCDIR names the source tree}
status=0
hits=$(grep -nE 'sqlite3|pdx_db_handle|pdx_state_handle|"(db|registry|sockets)-int\.h"' \
    "$src"/src/*.[ch] "$src"/src/*.in 2>/dev/null || true)
if [ -n "$hits" ]; then
	echo "FAIL: src/ reaches past the library:"
	echo "$hits" | sed 's/^/  /'
	status=1
fi
hits=$(grep -nE '(^|[^a-z_])(printf|puts|perror|exit|_exit|abort)\(|fprintf\((stdout|stderr)' \
    "$src"/lib/*.c | grep -vE '^\S+:[0-9]+:\s*(/?\*|//)' || true)
if [ -n "$hits" ]; then
	echo "FAIL: lib/ prints or exits:"
	echo "$hits" | sed 's/^/  /'
	status=1
fi
n=$(ls "$src"/src/*.c "$src"/lib/*.c | wc -l)
[ "$n" -gt 20 ] || { echo "FAIL: only $n source files found under $src"; status=1; }
echo "$n source files checked"
exit $status
