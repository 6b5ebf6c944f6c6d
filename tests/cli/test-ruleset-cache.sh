#!/usr/bin/env bash
# The ruleset cache (lib/firewall-cache.c): libnftables' text of a
# namespace's ruleset kept while the kernel's generation of it, the
# namespace's cookie and the boot are the same.  In a network namespace of
# its own: the verdicts with the cache are those without it; a ruleset
# change is seen at once; a damaged file, or one of another generation or
# boot, is not believed, while one that matches is (so the test can tell
# that the cache is read); PORTDEX_CACHE="" writes nothing; files of other
# namespaces untouched for a day are removed; a directory or file that is
# not the effective user's alone is not used, and nothing is made under
# another user's home.  Needs root, unshare, nft.
if [ "$(id -u)" = 0 ] && [ -z "${PDX_OWN_NETNS:-}" ] &&
    unshare -n true 2>/dev/null; then
	exec unshare -n env PDX_OWN_NETNS=1 bash -c \
	    'ip link set lo up && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"
if [ -z "${PDX_OWN_NETNS:-}" ]; then
	echo "SKIP: needs root and unshare for a network namespace of its own" >&2
	exit 77
fi
command -v nft >/dev/null || { echo "SKIP: nft not installed" >&2; exit 77; }
build_registry
export PORTDEX_CACHE=$T/cache
python3 -c 'import socket, time
held = []
for p in (5432, 8080, 9090):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p)); s.listen(); held.append(s)
print("READY", flush=True); time.sleep(60)' > "$T/srv" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do grep -q READY "$T/srv" && break; sleep 0.1; done
nft -f - <<'R'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif lo accept
		tcp dport 8080 accept
	}
}
R
verdicts() { "$PORTDEX" ls -t -n --json | python3 -c 'import json, sys
print(" ".join("%d=%s" % (s["local"]["port"], s["reach"]["verdict"]) for s in sorted(json.load(sys.stdin)["sockets"], key=lambda s: s["local"]["port"]) if s["local"]["port"] in (5432, 8080, 9090)))'; }
uncached() { PORTDEX_CACHE= verdicts; }

expect_eq "verdicts without the cache" "5432=filtered 8080=open 9090=filtered" "$(uncached)"
expect_eq "PORTDEX_CACHE= writes nothing" "" "$(ls "$T/cache" 2>/dev/null)"
expect_eq "first run, cache written" "5432=filtered 8080=open 9090=filtered" "$(verdicts)"
f=$(ls "$T"/cache/ruleset-* 2>/dev/null | head -1)
expect_eq "one file for this namespace" 1 "$(ls "$T"/cache/ruleset-* 2>/dev/null | wc -l)"
expect_eq "file mode" 600 "$(stat -c %a "$f")"
expect_eq "directory mode" 700 "$(stat -c %a "$T/cache")"
expect_match "its head names the boot" "^PDXNFT1 $(cat /proc/sys/kernel/random/boot_id) " "$(head -1 "$f")"
expect_eq "second run, from the cache" "5432=filtered 8080=open 9090=filtered" "$(verdicts)"

# A file that matches (key, length, checksum) is believed: one that says
# 9090 instead of 8080, checksummed again, changes the answer.
resum() {	# FILE: rewrite its head's length and checksum for its text
	python3 - "$1" <<'P'
import sys
p = sys.argv[1]
head, text = open(p, "rb").read().split(b"\n", 1)
f = head.split(b" ")
M = (1 << 64) - 1
def s64(b):
    h = (0x9e3779b97f4a7c15 ^ len(b)) & M
    i = 0
    while len(b) - i >= 8:
        w = int.from_bytes(b[i:i + 8], "little")
        h = ((h ^ w) * 0xff51afd7ed558ccd) & M
        h ^= h >> 29
        i += 8
    w = int.from_bytes(b[i:] + bytes(8 - (len(b) - i)), "little")
    h = ((h ^ w) * 0xc4ceb9fe1a85ec53) & M
    return h ^ (h >> 32)
f[4] = str(len(text)).encode()
f[5] = b"%x" % s64(text)
open(p, "wb").write(b" ".join(f) + b"\n" + text)
P
}
cp "$f" "$T/good"
sed -i '2,$ s/"right": 8080/"right": 9090/' "$f"
resum "$f"
expect_eq "a matching file is what is read" "5432=filtered 8080=filtered 9090=open" "$(verdicts)"
# ...and one of another generation, boot or namespace is not
gen=$(head -1 "$T/good" | cut -d' ' -f4)
sed -i "1 s/^\(PDXNFT1 [^ ]* [^ ]* \)$gen /\1$((gen + 7)) /" "$f"
expect_eq "another generation: not believed" "5432=filtered 8080=open 9090=filtered" "$(verdicts)"
cp "$T/good" "$f"
sed -i '2,$ s/"right": 8080/"right": 9090/' "$f"; resum "$f"
sed -i '1 s/^PDXNFT1 ........-/PDXNFT1 00000000-/' "$f"
expect_eq "another boot: not believed" "5432=filtered 8080=open 9090=filtered" "$(verdicts)"
# damage: a byte of the text, the head cut, an empty file
cp "$T/good" "$f"
printf 'Z' | dd of="$f" bs=1 seek=$(( $(stat -c %s "$f") - 5 )) conv=notrunc status=none
expect_eq "a damaged text: not believed" "5432=filtered 8080=open 9090=filtered" "$(verdicts)"
head -c 30 "$T/good" > "$f"
expect_eq "a cut file: not believed" "5432=filtered 8080=open 9090=filtered" "$(verdicts)"
: > "$f"
expect_eq "an empty file: not believed" "5432=filtered 8080=open 9090=filtered" "$(verdicts)"

# A change of the ruleset is seen at once, cached or not.
verdicts >/dev/null
nft add rule inet filter input tcp dport 5432 accept
expect_eq "a change is seen" "5432=open 8080=open 9090=filtered" "$(verdicts)"
expect_eq "the same without the cache" "5432=open 8080=open 9090=filtered" "$(uncached)"
nft flush chain inet filter input
nft add rule inet filter input tcp dport 9090 accept
expect_eq "a second change is seen" "5432=filtered 8080=filtered 9090=open" "$(verdicts)"

# Another namespace's file untouched for two days goes at the next write;
# a recent one stays.
printf 'old' > "$T/cache/ruleset-1"
touch -d '2 days ago' "$T/cache/ruleset-1"
printf 'new' > "$T/cache/ruleset-2"
nft add rule inet filter input tcp dport 8080 accept
expect_eq "after a third change" "5432=filtered 8080=open 9090=open" "$(verdicts)"
expect_eq "an old file of another namespace removed" no "$([ -e "$T/cache/ruleset-1" ] && echo yes || echo no)"
expect_eq "a recent one kept" yes "$([ -e "$T/cache/ruleset-2" ] && echo yes || echo no)"

# Whose cache: the directory and the file are used only when they are the
# effective user's and nobody else may write the directory; a cache under
# another user's home (root with that user's environment, sudo -E) is not
# used or created.  A lie that our own directory holds is believed, so
# each "not used" below is told from "used".
truth="5432=filtered 8080=open 9090=open"
lie="5432=open 8080=open 9090=filtered"
cp "$f" "$T/cur"
mklie() { rm -f "$f"; cp "$T/cur" "$f"; sed -i '2,$ s/"right": 9090/"right": 5432/' "$f"; resum "$f"; }
mklie
expect_eq "a lie in our own directory is believed" "$lie" "$(verdicts)"
mklie; chmod 0777 "$T/cache"
expect_eq "a directory others may write: not used" "$truth" "$(verdicts)"
chmod 0700 "$T/cache"
mklie; chown nobody "$f"
expect_eq "a file of another user: not believed" "$truth" "$(verdicts)"
mklie; ln -s "$T/cache" "$T/link"
expect_eq "PORTDEX_CACHE a symlink: not followed" "$truth" "$(PORTDEX_CACHE=$T/link verdicts)"
mkdir -p "$T/cache2/x"; chown nobody "$T/cache2/x"; chmod 0700 "$T/cache2/x"
expect_eq "PORTDEX_CACHE another user's: verdicts as ever" "$truth" "$(PORTDEX_CACHE=$T/cache2/x verdicts)"
expect_eq "PORTDEX_CACHE another user's: nothing written in it" "" "$(ls -A "$T/cache2/x")"
mkdir -p "$T/uhome"; chown nobody "$T/uhome"
expect_eq "another user's HOME: verdicts as ever" "$truth" "$(unset PORTDEX_CACHE XDG_CACHE_HOME; HOME=$T/uhome verdicts)"
expect_eq "another user's HOME: nothing created in it" "" "$(ls -A "$T/uhome")"
mkdir -p "$T/rhome"
expect_eq "our own HOME: verdicts" "$truth" "$(unset PORTDEX_CACHE XDG_CACHE_HOME; HOME=$T/rhome verdicts)"
expect_eq "our own HOME: ~/.cache/portdex made 0700" 700 "$(stat -c %a "$T/rhome/.cache/portdex" 2>&1)"
expect_eq "our own HOME: the file in it" 1 "$(ls "$T"/rhome/.cache/portdex/ruleset-* 2>/dev/null | wc -l)"
finish
