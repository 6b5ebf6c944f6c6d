#!/usr/bin/env bash
# The man pages against the program and its sources: portdex(1)'s SYNOPSIS
# is what `portdex --help` prints; every command in --help and every
# src/cmd-*.c has a section; every option of the option tables (`portdex
# --dump-options`, src/args.c) is documented in its command's section (and
# nothing else is), every global one under GLOBAL OPTIONS; the exit
# statuses of src/cli.h, the environment variables the code reads and the
# version are there; both pages render without a warning at 80 columns.
. "$(dirname "$0")/lib.sh"
SRC=$PDX_SRCDIR
MAN1=$SRC/docs/portdex.1
MAN5=$SRC/docs/portdex-db.5

if ! command -v man >/dev/null || ! command -v col >/dev/null; then
	echo "SKIP: man(1) and col(1) are needed (Debian: man-db, bsdextrautils)" >&2
	exit 77
fi
for f in "$MAN1" "$MAN5"; do
	[ -f "$f" ] && pass || fail "$f does not exist"
done
[ -f "$MAN1" ] || { finish; exit 1; }

# Rendered as plain text, one line per paragraph (no wrapping, so no
# hyphenation) with roff escapes resolved: \- is "-", fonts are gone.
render() {
	LC_ALL=C MANWIDTH=1000 man -l "$1" 2>/dev/null |
	    col -bx | sed -e 's/[[:space:]]*$//'
}
# section TEXT NAME: the lines under the top-level heading NAME.
section() {
	printf '%s\n' "$1" | awk -v h="$2" '
		/^[A-Z]/ { on = ($0 == h); next }
		on { print }'
}
# subsection TEXT NAME: the lines under "   NAME" up to the next heading.
subsection() {
	printf '%s\n' "$1" | awk -v h="$2" '
		/^[A-Z]/ { on = 0; next }
		/^   [^ ]/ { sub(/^ +/, ""); on = ($0 == h); next }
		on { print }'
}
squeeze() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]][[:space:]]*/ /g' -e '/^$/d'; }

for f in "$MAN1" "$MAN5"; do
	[ -f "$f" ] || continue
	w=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
	expect_eq "$(basename "$f") renders without warnings" "" "$w"
done

PAGE=$(render "$MAN1")
expect_match "page rendered" "^NAME" "$PAGE"
for h in NAME SYNOPSIS DESCRIPTION COMMANDS "GLOBAL OPTIONS" FILES \
    ENVIRONMENT "EXIT STATUS" EXAMPLES "SEE ALSO"; do
	expect_match "section $h" "^$h\$" "$PAGE"
done

# ---- SYNOPSIS = --help ---------------------------------------------------
run_rc "$PORTDEX" --help
expect_eq "--help exit" 0 "$RC"
HELP=$OUT
# The usage lines ("usage: " and the indentation dropped), then
# "portdex NAME USAGE" for each line of the command list.
help_syn=$(printf '%s\n' "$HELP" | awk '
	NR == 1 { sub(/^usage: /, ""); print; next }
	/^commands:/ { cmds = 1; next }
	/^$/ { if (cmds) cmds = 2; next }
	cmds == 1 { sub(/^ +/, ""); print "portdex " $0; next }
	cmds == 0 && /^ / { sub(/^ +/, ""); print }' | squeeze)
help_cmds=$(printf '%s\n' "$HELP" | awk '
	/^commands:/ { c = 1; next } /^$/ { if (c) exit } c { print $1 }')
[ -n "$help_cmds" ] && pass || fail "no commands in --help"
src_cmds=$(cd "$SRC/src" && ls cmd-*.c | sed -e 's/^cmd-//' -e 's/\.c$//')

man_syn=$(section "$PAGE" SYNOPSIS | squeeze)
# A SYNOPSIS line is a command's when its second word is a command name.
is_cmd() { printf '%s\n%s\n' "$help_cmds" "$src_cmds" | grep -qx -- "$1"; }
man_cmds=""
man_kept=""
while IFS= read -r line; do
	w2=$(printf '%s\n' "$line" | awk '{ print $2 }')
	if is_cmd "$w2"; then
		man_cmds="$man_cmds $w2"
		if ! printf '%s\n' "$help_cmds" | grep -qx -- "$w2"; then
			if [ -f "$SRC/src/cmd-$w2.c" ]; then
				echo "note: '$w2' is documented but not built here (PDX_EXCLUDE?)" >&2
			else
				fail "SYNOPSIS documents '$w2', which has no src/cmd-$w2.c"
			fi
			continue
		fi
	fi
	man_kept="$man_kept$line"$'\n'
done <<<"$man_syn"
man_kept=$(printf '%s' "$man_kept" | squeeze)
if [ "$man_kept" == "$help_syn" ]; then
	pass
else
	fail "SYNOPSIS differs from --help:"
	diff <(printf '%s\n' "$help_syn") <(printf '%s\n' "$man_kept") |
	    sed 's/^/    /' >&2
fi
# Each command's own --help prints the same usage line.
for c in $help_cmds; do
	run_rc "$PORTDEX" "$c" --help
	u=$(printf '%s\n' "$OUT" | head -1 | sed 's/^usage: //' | squeeze)
	if printf '%s\n' "$man_syn" | grep -qxF -- "$u"; then
		pass
	else
		fail "'portdex $c --help' usage '$u' is not in the SYNOPSIS"
	fi
done

# ---- a section per command, every option in it ----------------------------
# The option tables, as the binary has them: "CMD SHORT LONG VALUE WHO".
DUMP=$("$PORTDEX" --dump-options 2>/dev/null)
expect_match "--dump-options lists ls's options" "^ls	-p	--ports	PORTS	command\$" "$DUMP"
# Global options: the table main() takes them from.
globals=$(printf '%s\n' "$DUMP" | awk -F'\t' '$1 == "portdex" {
	if ($2 != "-") print $2; if ($3 != "-") print $3 }' | sort -u)
[ -n "$globals" ] && pass || fail "no global options in --dump-options"
GLOB=$(section "$PAGE" "GLOBAL OPTIONS")
for o in $globals; do
	if printf '%s\n' "$GLOB" | grep -qE -- "(^|[ ,])$o([ ,=]|\$)"; then
		pass
	else
		fail "global option $o (src/main.c) is not in GLOBAL OPTIONS"
	fi
done

CMDS=$(section "$PAGE" COMMANDS)
for c in $(printf '%s\n%s\n' "$help_cmds" "$src_cmds" | sort -u); do
	sec=$(subsection "$CMDS" "$c")
	if [ -z "$sec" ]; then
		fail "command '$c' has no section under COMMANDS"
		continue
	fi
	pass
	expect_match "$c: section gives its exit status" "[Ee]xit status" "$sec"
	f="the option table of $c"
	# The command's own options; the --format main takes for it is
	# under GLOBAL OPTIONS.
	longs=$(printf '%s\n' "$DUMP" | awk -F'\t' -v c="$c" '
	    $1 == c && $5 == "command" && $3 != "-" { print substr($3, 3) }' | sort -u)
	shorts=$(printf '%s\n' "$DUMP" | awk -F'\t' -v c="$c" '
	    $1 == c && $5 == "command" && $2 != "-" { print substr($2, 2) }' | sort -u)
	if printf '%s\n' "$DUMP" | awk -F'\t' -v c="$c" '$1 == c && $5 == "main" { f = 1 } END { exit !f }'; then
		expect_match "$c: GLOBAL OPTIONS names it among --format's" "how [-a-z, ]*\\<$c\\>" "$GLOB"
	fi
	for o in $longs; do
		if printf '%s\n' "$sec" | grep -qE -- "(^|[^-a-z0-9])--$o([^-a-z0-9]|\$)"; then
			pass
		else
			fail "$c: option --$o ($f) is not documented in its section"
		fi
	done
	for o in $shorts; do
		if printf '%s\n' "$sec" | grep -qE -- "(^|[ ,[(|])-$o([] ,|)]|\$)"; then
			pass
		else
			fail "$c: option -$o ($f) is not documented in its section"
		fi
	done
	# Nothing documented that the command (or main) does not take.
	for o in $(printf '%s\n' "$sec" | grep -oE -- '(^|[ [(|,])--[a-z][-a-z0-9]*' |
	    sed -E 's/^.*--/--/' | sort -u); do
		if printf '%s\n' $longs | sed 's/^/--/' | grep -qx -- "$o" ||
		    printf '%s\n' "$globals" | grep -qx -- "$o"; then
			pass
		else
			fail "$c: the page documents $o, which $f does not take"
		fi
	done
done

# ---- exit statuses, environment, version ------------------------------------
EXITS=$(section "$PAGE" "EXIT STATUS")
for n in $(grep -oE '^#define[[:space:]]+EXIT_[A-Z]+[[:space:]]+[0-9]+' "$SRC/src/cli.h" |
    awk '{ print $3 }'); do
	expect_match "exit status $n documented" "^       $n( |\$)" "$EXITS"
done
ENVS=$(section "$PAGE" ENVIRONMENT)
vars=$(grep -ohE 'getenv\("(PORTDEX_[A-Z_]+|XDG_[A-Z_]+|NO_COLOR)"\)' \
    "$SRC"/lib/*.c "$SRC"/src/*.c | sed -E 's/getenv\("(.*)"\)/\1/' | sort -u)
[ -n "$vars" ] && pass || fail "no getenv() calls found"
for v in $vars; do
	expect_match "environment $v documented" "^       $v\$" "$ENVS"
done
ver=$("$PORTDEX" --version | head -1 | awk '{ print $2 }')
expect_match ".TH names version $ver" "^\\.TH PORTDEX 1 [0-9-]+ \"portdex $ver\"" "$(cat "$MAN1")"
if [ -f "$MAN5" ]; then
	expect_match "portdex-db.5 .TH names version $ver" "^\\.TH PORTDEX-DB 5 [0-9-]+ \"portdex $ver\"" "$(cat "$MAN5")"
	# Each other's SEE ALSO.
	expect_match "portdex(1) refers to portdex-db(5)" "portdex-db\(5\)" "$(section "$PAGE" "SEE ALSO")"
	expect_match "portdex-db(5) refers to portdex(1)" "portdex\(1\)" "$(section "$(render "$MAN5")" "SEE ALSO")"
fi
finish
