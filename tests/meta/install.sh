#!/usr/bin/env bash
# `cmake --install` end to end: a fresh build configured for a prefix in a
# temporary directory is installed there, and the installed portdex must
# work with an empty HOME and no PORTDEX_* variable (it finds the registry
# and curated data built at install time); the library links through
# pkg-config, shared and static; the man pages and completions are in
# place and work; a DESTDIR install lays out the same files, and nothing
# else.  PDX_INSTALL_SHIM=1 includes cmake/install.cmake from outside when
# CMakeLists.txt does not yet (development only).
. "$(dirname "$0")/../cli/lib.sh"
unset PORTDEX_DB PORTDEX_STATE PORTDEX_DATA
SRC=$PDX_SRCDIR

for t in cmake pkg-config cc; do
	if ! command -v $t >/dev/null; then
		echo "SKIP: $t is needed" >&2
		exit 77
	fi
done

# ---- configure, build, install ---------------------------------------------
B=$T/build
P=$T/prefix
D=$T/dest
H=$T/home
mkdir -p "$H"
cfg=(-S "$SRC" -B "$B" -DCMAKE_INSTALL_PREFIX="$P" -DCMAKE_BUILD_TYPE=Debug)
# The same development exclusions as the build under test.
if [ -n "${PDX_BUILD:-}" ] && [ -f "$PDX_BUILD/CMakeCache.txt" ]; then
	ex=$(sed -n 's/^PDX_EXCLUDE:STRING=//p' "$PDX_BUILD/CMakeCache.txt")
	[ -n "$ex" ] && cfg+=(-DPDX_EXCLUDE="$ex")
fi
if ! grep -qE '^[[:space:]]*include\([^)]*cmake/install\.cmake"?\)' "$SRC/CMakeLists.txt"; then
	if [ "${PDX_INSTALL_SHIM:-0}" = 1 ]; then
		echo "note: CMakeLists.txt does not include cmake/install.cmake; included by the test" >&2
		printf '%s\n' 'if(NOT PDX_INSTALL_SHIM_DONE)' \
		    '  set(PDX_INSTALL_SHIM_DONE ON)' \
		    "  cmake_language(DEFER CALL include \"$SRC/cmake/install.cmake\")" \
		    'endif()' >"$T/shim.cmake"
		cfg+=(-DCMAKE_PROJECT_INCLUDE="$T/shim.cmake")
	else
		fail "CMakeLists.txt does not include(cmake/install.cmake): nothing but the binary would be installed"
		finish
		exit 1
	fi
fi
if ! cmake "${cfg[@]}" >"$T/configure.log" 2>&1; then
	fail "configure failed: $(tail -20 "$T/configure.log")"
	finish; exit 1
fi
if ! cmake --build "$B" -j2 --target portdex portdex_static portdex_shared \
    >"$T/build.log" 2>&1; then
	fail "build failed: $(tail -20 "$T/build.log")"
	finish; exit 1
fi
run_rc cmake --install "$B"
expect_eq "cmake --install exit" 0 "$RC"
[ "$RC" -eq 0 ] || { echo "$ERR" | tail -20 >&2; finish; exit 1; }
expect_nomatch "no prefix warning" "configured for" "$ERR$OUT"

# ---- the files, exactly ----------------------------------------------------
cache() { sed -n "s/^$1:[A-Z]*=//p" "$B/CMakeCache.txt"; }
LIB=$(cache CMAKE_INSTALL_LIBDIR)
INC=$(cache CMAKE_INSTALL_INCLUDEDIR)
# GNUInstallDirs leaves DATADIR and MANDIR empty in the cache for their
# defaults, which follow DATAROOTDIR.
ROOT=$(cache CMAKE_INSTALL_DATAROOTDIR)
DATA=$(cache CMAKE_INSTALL_DATADIR)
DATA=${DATA:-$ROOT}
MAN=$(cache CMAKE_INSTALL_MANDIR)
MAN=${MAN:-$ROOT/man}
BIN=$(cache CMAKE_INSTALL_BINDIR)
VERSION=$("$B/portdex" --version | awk 'NR == 1 { print $2 }')
expected=$(
	echo "$BIN/portdex"
	echo "$LIB/libportdex.a"
	echo "$LIB/libportdex.so"
	echo "$LIB/libportdex.so.0"
	echo "$LIB/libportdex.so.$VERSION"
	echo "$LIB/pkgconfig/portdex.pc"
	echo "$INC/portdex.h"
	for h in "$SRC"/include/portdex/*.h; do echo "$INC/portdex/${h##*/}"; done
	echo "$MAN/man1/portdex.1"
	echo "$MAN/man5/portdex-db.5"
	echo "$DATA/bash-completion/completions/portdex"
	echo "$DATA/zsh/site-functions/_portdex"
	echo "$DATA/portdex/registry.db"
	echo "$DATA/portdex/registry.db.brief"
	(cd "$SRC/data" && ls uses/*.tsv iana/*) | sed "s|^|$DATA/portdex/|"
	echo "$DATA/portdex/related.tsv"
	[ -f "$SRC/deploy/portdex-serve.service" ] &&
	    echo "lib/systemd/system/portdex-serve.service"
)
expected=$(printf '%s\n' "$expected" | sort)
got=$(cd "$P" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
if [ "$got" == "$expected" ]; then
	pass
else
	fail "installed files differ (< expected, > installed):"
	diff <(printf '%s\n' "$expected") <(printf '%s\n' "$got") | sed 's/^/    /' >&2
fi
expect_eq "libportdex.so is a link" "libportdex.so.0" "$(readlink "$P/$LIB/libportdex.so")"
expect_eq "libportdex.so.0 is a link" "libportdex.so.$VERSION" "$(readlink "$P/$LIB/libportdex.so.0")"
# Every installed file is in the manifest (so it can be removed).
while IFS= read -r f; do
	grep -qxF "$P/$f" "$B/install_manifest.txt" && pass ||
	    fail "$f is not in install_manifest.txt"
done <<<"$got"
for h in "$SRC"/include/portdex.h "$SRC"/include/portdex/*.h; do
	cmp -s "$h" "$P/$INC/${h#"$SRC"/include/}" && pass || fail "$h installed differently"
done

# ---- the installed portdex finds its data by itself ------------------------
# Only HOME (empty) and PATH: no PORTDEX_*, no XDG_*, run from /.
inst() { (cd / && env -i HOME="$H" PATH=/usr/bin:/bin "$P/$BIN/portdex" "$@"); }
run_rc inst 645
expect_eq "installed 'portdex 645' exit" 0 "$RC"
expect_match "installed card" "^PORT 645" "$OUT"
expect_match "card has the official part" "OFFICIAL \(IANA\)" "$OUT"
# The registry comes from the IANA snapshot installed with portdex: the
# card shows IANA's own fields for 645 (service, assignee) and its date.
expect_match "card shows IANA's service for 645" "Service +pssc" "$OUT"
expect_match "card shows IANA's assignee for 645" "Assignee +\[Egon_Meier_Engelen\]" "$OUT"
expect_match "card says the registry's date and origin" "IANA's registry as of [0-9]{4}-[0-9]{2}-[0-9]{2}, the copy shipped with" "$OUT"
run_rc inst --json 645
expect_eq "installed --json exit" 0 "$RC"
expect_eq "card port" 645 "$(json 'j["port"]')"
run_rc inst --version
expect_eq "--version exit" 0 "$RC"
expect_match "--version names the version" "^portdex $VERSION\$" "$OUT"
expect_match "--version names the installed registry" "registry: $P/$DATA/portdex/registry.db" "$OUT"
# The brief file was installed beside it and still belongs to the copy.
expect_match "--version: the installed brief file is used" "^brief file: $P/$DATA/portdex/registry.db.brief\$" "$OUT"
# Each source's date is its file's modification date.
for f in /etc/services /usr/share/wireshark/services /usr/share/nmap/nmap-services; do
	[ -r "$f" ] || continue
	d=$(date -u -r "$f" +%F)
	expect_match "--version gives $f's date" "$f \($d\)" "$OUT"
done
# Nothing was written into HOME by reading.
expect_eq "HOME untouched" "" "$(find "$H" -mindepth 1 | head -1)"
# A user's update: written under HOME, curated data from the installed copy.
run_rc inst --json update
expect_eq "installed update exit" 0 "$RC"
expect_match "update used the installed curated data" "$P/$DATA/portdex/uses/" "$OUT"
expect_match "update used the installed IANA snapshot" "$P/$DATA/portdex/iana/service-names-port-numbers.csv" "$OUT"
[ -f "$H/.local/share/portdex/registry.db" ] && pass || fail "update did not write ~/.local/share/portdex/registry.db"
run_rc inst --version
expect_match "then the user's registry is used" "registry: $H/.local/share/portdex/registry.db" "$OUT"
run_rc inst note 645 "install test"
expect_eq "installed note exit" 0 "$RC"
[ -f "$H/.local/state/portdex/state.db" ] && pass || fail "note did not write ~/.local/state/portdex/state.db"

# ---- man pages -------------------------------------------------------------
if command -v man >/dev/null; then
	for p in man1/portdex.1 man5/portdex-db.5; do
		w=$(MANWIDTH=80 man --warnings -l "$P/$MAN/$p" 2>&1 >/dev/null)
		expect_eq "installed $p renders cleanly" "" "$w"
	done
	expect_eq "man finds portdex(1)" "$P/$MAN/man1/portdex.1" \
	    "$(MANPATH=$P/$MAN man -w portdex 2>/dev/null)"
	expect_eq "man finds portdex-db(5)" "$P/$MAN/man5/portdex-db.5" \
	    "$(MANPATH=$P/$MAN man -w 5 portdex-db 2>/dev/null)"
fi
expect_match "portdex.1 names the installed registry" "$P/$DATA/portdex/registry.db" "$(cat "$P/$MAN/man1/portdex.1")"

# ---- pkg-config and the library --------------------------------------------
export PKG_CONFIG_PATH=$P/$LIB/pkgconfig
run_rc pkg-config --modversion portdex
expect_eq "pkg-config version" "$VERSION" "$OUT"
run_rc pkg-config --cflags --libs portdex
expect_eq "pkg-config exit" 0 "$RC"
expect_match "pkg-config -I" "-I$P/$INC( |\$)" "$OUT"
expect_match "pkg-config -L -l" "-L$P/$LIB -lportdex" "$OUT"
cat >"$T/t.c" <<'EOF'
/* Links libportdex as a user would: one lookup, one parse error. */
#include <stdio.h>
#include <stdlib.h>
#include <portdex.h>

int
main(int argc, char **argv)
{
	struct pdx_db *db;
	struct pdx_brief b;
	long long v;

	if (argc != 2 || (db = pdx_db_open(argv[1])) == NULL) {
		fprintf(stderr, "open: %s\n", pdx_last_error());
		return 1;
	}
	if (pdx_brief(db, 22, PDX_TCP, &b) != 0)
		return 1;
	printf("%s %s\n", b.name, pdx_status_name(b.status));
	if (pdx_parse_number("70000", 0, 65535, "port", &v) == 0)
		return 1;
	printf("%s\n", pdx_last_error());
	pdx_db_close(db);
	return 0;
}
EOF
REG=$P/$DATA/portdex/registry.db
ssh_name=$(awk '$2 == "22/tcp" { print $1; exit }' /etc/services)
# shellcheck disable=SC2046
if cc -std=c11 -Wall -Werror -o "$T/t-shared" "$T/t.c" $(pkg-config --cflags --libs portdex) 2>"$T/cc.log"; then
	pass
	run_rc env LD_LIBRARY_PATH="$P/$LIB" "$T/t-shared" "$REG"
	expect_eq "shared program exit" 0 "$RC"
	[ -n "$ssh_name" ] && expect_match "shared program: 22/tcp" "^$ssh_name assigned" "$OUT"
	expect_match "shared program: error message" "70000" "$OUT"
	expect_match "uses the installed libportdex.so.0" "$P/$LIB/libportdex.so.0" \
	    "$(LD_LIBRARY_PATH="$P/$LIB" ldd "$T/t-shared")"
else
	fail "compiling against the installed library: $(cat "$T/cc.log")"
fi
# Static: libportdex.a, then what portdex.pc says it needs privately
# (Requires.private and Libs.private), those libraries linked shared.
# shellcheck disable=SC2046
libs="$P/$LIB/libportdex.a $(pkg-config --libs $(pkg-config --print-requires portdex) \
    $(pkg-config --print-requires-private portdex)) $(sed -n 's/^Libs.private: //p' "$PKG_CONFIG_PATH/portdex.pc")"
# shellcheck disable=SC2046,SC2086
if cc -std=c11 -o "$T/t-static" "$T/t.c" $(pkg-config --cflags portdex) $libs 2>"$T/cc.log"; then
	pass
	run_rc "$T/t-static" "$REG"
	expect_eq "static program exit" 0 "$RC"
	[ -n "$ssh_name" ] && expect_match "static program: 22/tcp" "^$ssh_name assigned" "$OUT"
	expect_nomatch "static program has no libportdex.so" "libportdex" "$(ldd "$T/t-static")"
else
	fail "static link with pkg-config --static: $(cat "$T/cc.log")"
fi

# ---- completions ------------------------------------------------------------
BC=$P/$DATA/bash-completion/completions/portdex
ZC=$P/$DATA/zsh/site-functions/_portdex
bash -n "$BC" && pass || fail "bash -n $BC"
# Drive the bash completion function as bash would.
bcomp() {
	PATH=$P/$BIN:/usr/bin:/bin HOME=$H bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_portdex; printf "%s\n" "${COMPREPLY[@]}"' bcomp "$BC" "$@"
}
cmds=$(inst --help | awk '/^commands:/ { c = 1; next } /^$/ { c = 0 } c { print $1 }')
expect_eq "bash: commands" "$(printf '%s\n' $cmds | sort)" "$(bcomp portdex '' | sort)"
expect_eq "bash: command prefix" "show" "$(bcomp portdex sh)"
expect_eq "bash: --format values" "csv json services" "$(bcomp portdex export --format '' | sort | xargs)"
# --format: each command is offered the values it takes, and only those.
# The binary is asked: a value it refuses is named in its error ('jsonl'),
# a command without --format names the option ('--format').  A bogus
# option after the value ends the command before it does anything (export,
# which checks its value after its options, just writes the installed
# registry to /dev/null).
fmt_taken() {
	local c=$1 v=$2 extra=--no-such-option err
	[ "$c" = export ] && extra=	# its own check comes after getopt's
	err=$(cd / && timeout 10 env -i HOME="$H" PATH=/usr/bin:/bin \
	    "$P/$BIN/portdex" "$c" --format "$v" $extra < /dev/null 2>&1 > /dev/null)
	! printf '%s' "$err" | grep -qF -e "'$v'" -e "'--format'"
}
fmt_want=$(for c in $cmds; do
	echo "$c:$(for v in text json jsonl csv prometheus services; do
		fmt_taken "$c" "$v" && echo "$v"
	done | sort | xargs)"
done)
# "CMD:VALUES" for every command, from one shell (the help read once)
bcomp_formats() {
	PATH=$P/$BIN:/usr/bin:/bin HOME=$H bash -c '
		source "$1"; shift
		_portdex_load "$(type -P portdex)"
		for c in "$@"; do
			COMP_WORDS=(portdex "$c" --format ""); COMP_CWORD=3
			COMPREPLY=(); _portdex
			echo "$c:$(printf "%s\n" "${COMPREPLY[@]}" | sort | xargs)"
		done' bcomp "$BC" $cmds
}
expect_eq "bash: each command's --format values (< taken, > offered)" "" \
    "$(diff <(printf '%s\n' "$fmt_want") <(bcomp_formats))"
expect_eq "the binary: ls takes" "ls:csv json prometheus text" "$(grep '^ls:' <<<"$fmt_want")"
expect_eq "the binary: watch takes" "watch:csv jsonl text" "$(grep '^watch:' <<<"$fmt_want")"
expect_eq "the binary: serve takes none" "serve:" "$(grep '^serve:' <<<"$fmt_want")"
expect_eq "bash: prometheus only for ls and audit" "audit ls" \
    "$(bcomp_formats | grep prometheus | cut -d: -f1 | xargs)"
expect_eq "bash: a port's card (show) after a number" "csv json text" "$(bcomp portdex 22 --format '' | sort | xargs)"
expect_match "bash: ls --textfile takes a directory" "^$T" "$(bcomp portdex ls --textfile "$T" | head -1)"
expect_match "bash: ls long options" "^--no-pids\$" "$(bcomp portdex ls --)"
expect_match "bash: global options after a command" "^--json\$" "$(bcomp portdex ls --)"
expect_match "bash: --color values" "^never\$" "$(bcomp portdex --color '')"
expect_eq "bash: command after --color VALUE" "show" "$(bcomp portdex --color never sh)"
if [ -n "$ssh_name" ]; then
	expect_match "bash: service names" "^$ssh_name\$" "$(bcomp portdex show "${ssh_name:0:2}")"
	expect_match "bash: service names with --db" "^$ssh_name\$" \
	    "$(bcomp portdex --db "$REG" find "${ssh_name:0:2}")"
fi
expect_eq "bash: no names after a digit" "" "$(bcomp portdex show 2)"
expect_eq "bash: --fail-on values" "high info low medium" "$(bcomp portdex audit --fail-on '' | sort | xargs)"
expect_match "bash: --ignore offers the audit rules" "^undocumented-listener\$" "$(bcomp portdex audit --ignore '')"
expect_eq "bash: --proto values" "tcp udp" "$(bcomp portdex pick --proto '' | sort | xargs)"
# Every long option in a command's help (usage and options) is offered.
for c in $cmds; do
	want=$(inst "$c" --help | sed '/^global options/,$d' | grep -oE -- '(^| )--[a-z][-a-z0-9]*' | tr -d ' ' | sort -u)
	[ -n "$want" ] || continue
	offered=$(bcomp portdex "$c" --)
	for o in $want; do
		printf '%s\n' "$offered" | grep -qx -- "$o" && pass || fail "bash: $c $o not offered"
	done
done

if command -v zsh >/dev/null; then
	zsh -n "$ZC" && pass || fail "zsh -n $ZC"
	expect_match "zsh: #compdef line" "^#compdef portdex" "$(head -1 "$ZC")"
	# The completion system's functions stubbed to print what would be
	# offered; the completer's own logic runs for real.
	zcomp() {
		PATH=$P/$BIN:/usr/bin:/bin HOME=$H zsh -f -c '
			compadd() {
				local -a out; local arr=0
				while (( $# )); do
					case $1 in
					(-a) arr=1 ;;
					(-*) ;;
					(*) if (( arr )); then out+=(${(P)1}); else out+=("$1"); fi ;;
					esac
					shift
				done
				print -rl -- ${(@M)out:#${PREFIX}*}
			}
			_wanted() { shift 3; "$@"; }
			_describe() { local -a c; c=(${(P)${@[-1]}}); compadd ${c%%:*}; }
			_call_program() { shift; eval "$@"; }
			_files() { print -r -- "<files $*>"; }
			_hosts() { print -r -- "<hosts>"; }
			_users() { print -r -- "<users>"; }
			_pids() { print -r -- "<pids>"; }
			_message() { print -r -- "<message>"; }
			source "$1"; shift
			words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
			_portdex' zcomp "$ZC" "$@"
	}
	expect_eq "zsh: commands" "$(printf '%s\n' $cmds | sort)" "$(zcomp portdex '' | sort)"
	expect_eq "zsh: --format values" "csv json services" "$(zcomp portdex export --format '' | sort | xargs)"
	# "CMD:VALUES" for every command: zcomp's stubs, the help read once
	zcomp_formats() {
		local stubs
		stubs=$(declare -f zcomp | sed -n "/compadd() {/,/_message()/p")
		PATH=$P/$BIN:/usr/bin:/bin HOME=$H zsh -f -c "$stubs"'
			source "$1"; shift
			_portdex_load ${commands[portdex]}
			for c in "$@"; do
				words=(portdex $c --format ""); CURRENT=4; PREFIX=
				print -r -- "$c:$(_portdex | sort | xargs)"
			done' zcomp "$ZC" $cmds
	}
	expect_eq "zsh: each command's --format values (< taken, > offered)" "" \
	    "$(diff <(printf '%s\n' "$fmt_want") <(zcomp_formats))"
	expect_eq "zsh: audit --format j" "json jsonl" "$(zcomp portdex audit --format j | sort | xargs)"
	expect_match "zsh: ls long options" "^--no-pids\$" "$(zcomp portdex ls --)"
	expect_match "zsh: audit --verbose (from the options help)" "^--verbose\$" "$(zcomp portdex audit --)"
	expect_eq "zsh: --fail-on values" "high info low medium" "$(zcomp portdex audit --fail-on '' | sort | xargs)"
	expect_match "zsh: --ignore offers the audit rules" "^undocumented-listener\$" "$(zcomp portdex audit --ignore '')"
	expect_eq "zsh: --proto values" "tcp udp" "$(zcomp portdex pick --proto '' | sort | xargs)"
	expect_eq "zsh: --knowledge takes a directory" "<files -/>" "$(zcomp portdex update --knowledge '')"
	expect_eq "zsh: command after --db VALUE" "show" "$(zcomp portdex --db "$REG" sh)"
	[ -n "$ssh_name" ] &&
	    expect_match "zsh: service names" "^$ssh_name\$" "$(zcomp portdex show "${ssh_name:0:2}")"
else
	echo "note: zsh not installed; the zsh completion was not checked" >&2
fi

# ---- DESTDIR: the same files under DESTDIR, nothing in the prefix ----------
mv "$P" "$T/first"
run_rc env DESTDIR="$D" cmake --install "$B"
expect_eq "DESTDIR install exit" 0 "$RC"
[ -e "$P" ] && fail "a DESTDIR install wrote into the prefix $P" || pass
dgot=$(cd "$D$P" 2>/dev/null && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
expect_eq "DESTDIR lays out the same files" "$got" "$dgot"
outside=$(cd "$D" && find . \( -type f -o -type l \) | sed 's|^\.||' | grep -v "^$P/" || true)
expect_eq "nothing under DESTDIR outside the prefix" "" "$outside"
expect_eq "DESTDIR keeps the library links" "libportdex.so.0" "$(readlink "$D$P/$LIB/libportdex.so")"
run_rc "$T/first/$BIN/portdex" --db "$D$P/$DATA/portdex/registry.db" 645
expect_eq "the DESTDIR registry works" 0 "$RC"
expect_match "the DESTDIR registry's card" "^PORT 645" "$OUT"

# ---- another --prefix than configured: said clearly -------------------------
run_rc cmake --install "$B" --prefix "$T/elsewhere"
expect_match "a different --prefix is warned about" "configured for $P" "$OUT$ERR"
finish
