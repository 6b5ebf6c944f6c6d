#!/usr/bin/env bash
# The option tables (src/args.c, each src/cmd-*.c, main.c's globals) against
# what is generated from or written beside them: `portdex --dump-options`
# lists every option of the tables; each command's --help (its usage line
# and its option lines) and the bash and zsh completions (which read the
# help) offer exactly those options, with a value where the table says one
# is taken and none where it does not; every option a usage line names is
# in the table.  The man page is checked against the same dump by
# tests/cli/test-manpage.sh.  An option added to a table and to nothing
# else fails here (help, completions) and there (man page).
. "$(dirname "$0")/../cli/lib.sh"
SRC=$PDX_SRCDIR

run_rc "$PORTDEX" --dump-options
expect_eq "--dump-options exit" 0 "$RC"
DUMP=$OUT
# a few rows that must be there, so an empty or foreign dump fails
expect_match "dump: ls -p" "^ls	-p	--ports	PORTS	command\$" "$DUMP"
expect_match "dump: watch --reach (the shared group)" "^watch	-	--reach	VERDICT	command\$" "$DUMP"
expect_match "dump: audit --textfile (the metrics group)" "^audit	-	--textfile	DIR	command\$" "$DUMP"
expect_match "dump: a global option" "^portdex	-	--db	PATH	main\$" "$DUMP"
cmds=$(printf '%s\n' "$DUMP" | awk -F'\t' '$1 != "portdex" { print $1 }' | sort -u)
help_cmds=$("$PORTDEX" --help 2>/dev/null | awk '/^commands:/ { c = 1; next } /^$/ { if (c) exit } c { print $1 }' | sort)
# Commands without options (show, find, state) have no rows.
for c in $help_cmds; do
	printf '%s\n' "$cmds" | grep -qx -- "$c" ||
	    case $c in show | find | state) ;; *) fail "$c: no options in --dump-options" ;; esac
done
[ -n "$cmds" ] && pass || fail "no commands in --dump-options"

# table CMD: "NAME VALUE" lines, VALUE "-" for a flag or "=" for a value;
# -o with the value "X FILE" is nmap's -oX.
table() {
	printf '%s\n' "$DUMP" | awk -F'\t' -v c="$1" '$1 == c {
		v = ($4 == "-") ? "-" : "="
		s = $2
		if (s != "-" && $4 ~ /^[A-Z] /) { s = s substr($4, 1, 1); v = "=" }
		if (s != "-") print s, v
		if ($3 != "-") print $3, v
	}' | sort -u
}
# offered SPEC: the same from a completion's "OPTION PLACEHOLDER" lines
# (an option with a value on any line takes one).
offered() {
	printf '%s\n' "$1" | awk '$1 != "@" && $1 ~ /^-/ {
		if ($2 != "-") v[$1] = "="; else if (!($1 in v)) v[$1] = "-"
	} END { for (o in v) print o, v[o] }' | sort -u
}
cmp_sets() {	# what, expected, got
	if [ "$2" == "$3" ]; then
		pass
	else
		fail "$1 (< table, > offered):"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /' >&2
	fi
}

# ---- --help: the usage line and the option lines -------------------------
for c in $cmds; do
	help=$("$PORTDEX" "$c" --help 2>/dev/null)
	# the options of the usage line, and those an option line starts
	# with ("  -t, --tcp / -u, --udp   ...", "  --format FMT  ...")
	words=$( {
		printf '%s\n' "$help" | head -1 | tr ' ' '\n' |
		    grep -oE -- '(^|[[|(])--?[a-zA-Z0-9][-a-zA-Z0-9]*' | sed -E 's/^[[|(]//'
		printf '%s\n' "$help" | awk '{
			# an option line: 2 to 6 blanks, then the option
			match($0, /^ */)
			if (RLENGTH < 2 || RLENGTH > 6 ||
			    substr($0, RLENGTH + 1, 1) != "-")
				next
			ph = 0
			for (i = 1; i <= NF; i++) {
				w = $i; sub(/,$/, "", w)
				if (w ~ /^-/) { print w; ph = 1; continue }
				if (w == "/") continue
				if (ph == 1) { ph = 2; continue }
				break
			}
		}'
	} | grep -vx -- '--*' | sort -u)
	want=$(table "$c" | awk '{ print $1 }')
	cmp_sets "$c --help names exactly the table's options" "$want" "$words"
	# every long option of the usage line is in the table
	for o in $(printf '%s\n' "$help" | head -1 | grep -oE -- '--[a-z][-a-z0-9]*' | sort -u); do
		printf '%s\n' "$want" | grep -qx -- "$o" && pass ||
		    fail "$c: the usage line names $o, which is not in the table"
	done
done

# ---- bash completion ------------------------------------------------------
BC=$SRC/completions/portdex.bash
bash_specs=$(bash -c '
	source "$1"
	_portdex_load "$2" || exit 1
	printf "@@ portdex\n%s\n" "$_portdex_spec__global"
	for c in $_portdex_cmds; do
		v=_portdex_spec_${c//[^a-z]/_}
		printf "@@ %s\n%s\n" "$c" "${!v}"
	done' bash "$BC" "$PORTDEX" 2>&1)
[ -n "$bash_specs" ] && pass || fail "bash completion loaded nothing"
spec_of() {	# SPECS CMD: the lines of CMD
	printf '%s\n' "$1" | awk -v c="$2" '/^@@ / { on = ($2 == c); next } on'
}
for c in portdex $cmds; do
	cmp_sets "bash completion offers $c's table" "$(table "$c")" \
	    "$(offered "$(spec_of "$bash_specs" "$c")")"
done

# ---- zsh completion -------------------------------------------------------
if command -v zsh >/dev/null; then
	zsh_specs=$(zsh -f -c '
		_call_program() { shift; eval "$@"; }
		source "$1"
		_portdex_load "$2" || exit 1
		print -r -- "@@ portdex"; print -r -- "${_portdex_spec[-global]}"
		for l in $_portdex_cmds; do
			c=${l%%:*}
			print -r -- "@@ $c"; print -r -- "${_portdex_spec[$c]}"
		done' zsh "$SRC/completions/_portdex" "$PORTDEX" 2>&1)
	[ -n "$zsh_specs" ] && pass || fail "zsh completion loaded nothing"
	for c in portdex $cmds; do
		cmp_sets "zsh completion offers $c's table" "$(table "$c")" \
		    "$(offered "$(spec_of "$zsh_specs" "$c")")"
	done
else
	echo "note: zsh not installed; the zsh completion was not checked" >&2
fi
finish
