#!/usr/bin/env bash
# What a sysadmin expects of the command line (issue "The answer at a
# glance", part 5): names and lists where a port goes, help and typos,
# -p meaning ports, output that fits the width, headers without trailing
# spaces, `note PORT`, JSON for every successful command, and the
# attribution footer counting the sockets shown.  Each check failed before
# its fix.
. "$(dirname "$0")/lib.sh"
build_registry

# ---- names and lists where a port goes ---------------------------------
run_rc "$PORTDEX" ssh
expect_eq "portdex ssh exit" 0 "$RC"
expect_match "portdex ssh shows 22" "^PORT 22 - " "$OUT"
run_rc "$PORTDEX" --json show ssh/tcp
expect_eq "show ssh/tcp exit" 0 "$RC"
expect_eq "show ssh/tcp: port 22, tcp only" "22 ['tcp']" "$(json 'j["port"], [t["transport"] for t in j["transports"]]' | tr -d '(),' | sed 's/^\([0-9]*\) /\1 /')"
run_rc "$PORTDEX" show 22,80
expect_eq "show 22,80 exit" 0 "$RC"
expect_eq "show 22,80: two cards" "PORT 22|PORT 80" "$(printf '%s\n' "$OUT" | grep -o '^PORT [0-9]*' | paste -sd'|')"
run_rc "$PORTDEX" show 22,,80
expect_eq "an empty list item is an error" 2 "$RC"

# ---- help, version, typos, who speaks -----------------------------------
run_rc "$PORTDEX" help
expect_eq "help exit" 0 "$RC"
expect_match "help lists the commands" "^  show " "$OUT"
run_rc "$PORTDEX" help ls
expect_eq "help ls exit" 0 "$RC"
expect_match "help ls explains --no-pids" "--no-pids +skip the process walk" "$OUT"
run_rc "$PORTDEX" ls --help
expect_match "ls --help explains -p" "-p, --ports PORTS" "$OUT"
run_rc "$PORTDEX" -V
expect_eq "-V exit" 0 "$RC"
expect_match "-V prints the version" "^portdex [0-9]" "$OUT"
run_rc "$PORTDEX" shwo 22
expect_eq "typo exit" 2 "$RC"
expect_match "did you mean" "did you mean 'show'" "$ERR"
run_rc "$PORTDEX" ls --bogus
expect_eq "bad option exit" 2 "$RC"
expect_match "errors name portdex" "^portdex ls: " "$ERR"
run_rc "$PORTDEX" nntp
expect_eq "a service name near a command is still a name" 0 "$RC"
expect_match "nntp is 119" "^PORT 119 " "$OUT"

# ---- -p means ports: pick's transport is --proto ------------------------
run_rc "$PORTDEX" pick -n 1 -p tcp
expect_eq "pick -p is not the transport" 2 "$RC"
run_rc "$PORTDEX" --json pick -n 1 --proto tcp
expect_eq "pick --proto exit" 0 "$RC"

# ---- width, headers, trailing spaces ------------------------------------
widest() { awk '{ if (length($0) > m && $0 !~ /^ *https?:\/\/[^ ]*$/) m = length($0) } END { print m + 0 }'; }
run_rc env COLUMNS=60 "$PORTDEX" 645
w=$(printf '%s\n' "$OUT" | widest)
[ "$w" -le 60 ] && pass || fail "COLUMNS=60: a line of $w columns"
run_rc env COLUMNS=120 "$PORTDEX" 22
w=$(printf '%s\n' "$OUT" | widest)
[ "$w" -gt 80 ] && [ "$w" -le 120 ] && pass || fail "COLUMNS=120: widest line $w"
run_rc "$PORTDEX" 20-22
expect_match "range header" "^PORT +PROTO +STATUS +SERVICE" "$(printf '%s\n' "$OUT" | head -1)"
expect_eq "range: no trailing spaces" "" "$(printf '%s\n' "$OUT" | grep -n ' $' | head -3)"
expect_match "range: every transport IANA lists (22/sctp)" "^22 +sctp +assigned +ssh" "$OUT"
run_rc "$PORTDEX" find ssh
expect_match "find header" "^PORT +PROTOS +NAME" "$(printf '%s\n' "$OUT" | head -1)"
expect_eq "find: no trailing spaces" "" "$(printf '%s\n' "$OUT" | grep -n ' $' | head -3)"

# ---- notes and JSON for every successful command ------------------------
run_rc "$PORTDEX" note 8123 "home assistant for the lab"
expect_eq "note add exit" 0 "$RC"
run_rc "$PORTDEX" note 8123
expect_eq "note PORT exit" 0 "$RC"
expect_match "note PORT lists it" "home assistant for the lab" "$OUT"
run_rc "$PORTDEX" --json note 8123/tcp "second"
expect_eq "note --json exit" 0 "$RC"
expect_eq "note --json prints the port's notes" 2 "$(json 'len(j)')"
run_rc "$PORTDEX" --json note --rm 8123
expect_eq "note --rm --json exit" 0 "$RC"
expect_eq "note --rm --json says how many" 2 "$(json 'j["removed"]')"
run_rc "$PORTDEX" --json --version
expect_eq "--version --json exit" 0 "$RC"
expect_match "--version --json is JSON" "^[0-9]" "$(json 'j["version"]')"

# ---- audit --save-baseline does not say "no baseline saved" -------------
run_rc "$PORTDEX" audit --save-baseline -p 1-1024
expect_eq "save-baseline exit" 0 "$RC"
expect_match "baseline saved" "baseline saved" "$OUT"
expect_nomatch "no contradicting note" "no baseline saved" "$OUT"

# ---- ls counts attribution over the sockets it shows --------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(20)' "$port" &
lpid=$!
for _ in $(seq 50); do ss -tln "sport = :$port" | grep -q LISTEN && break; sleep 0.1; done
run_rc "$PORTDEX" --json ls -t -p "$port"
expect_eq "ls -p: one socket shown" 1 "$(json 'len(j["sockets"])')"
expect_eq "ls -p: attribution counts the sockets shown" 1 "$(json 'j["attribution"]["sockets"]')"
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null

# ---- a socket shared by a pre-forking server: every holder --------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
python3 - "$port" > "$T/kids" <<'EOF' &
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
kids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        time.sleep(20)
        os._exit(0)
    kids.append(pid)
print(os.getpid(), " ".join(map(str, kids)), flush=True)
time.sleep(20)
for k in kids:
    os.kill(k, 9)
EOF
ppid=$!
for _ in $(seq 50); do [ -s "$T/kids" ] && break; sleep 0.1; done
read -r parent k1 k2 k3 < "$T/kids"
run_rc "$PORTDEX" ls -t -p "$port"
expect_match "ls shows every holder's pid" "(^| )$parent,[0-9,]*$k1" "$OUT"
for k in "$k2" "$k3"; do expect_match "ls shows worker $k" "[ ,]$k[ ,]" "$OUT"; done
run_rc "$PORTDEX" --json ls -t -p "$port"
expect_eq "JSON: three other holders" 3 "$(json 'len(j["sockets"][0]["other_holders"].split(", "))')"
run_rc "$PORTDEX" "$port"
expect_match "the card names the other holders" "also $k1 python3" "$(printf '%s' "$OUT" | tr -s ' \n' ' ')"
kill "$ppid" 2>/dev/null
pkill -P "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null

# ---- damaged notes are never shown as "none" ----------------------------
BAD=$T/bad-state.db
PORTDEX_STATE=$BAD "$PORTDEX" note 645 "kept note" >/dev/null
printf 'this is not a database, only text standing where one was expected' > "$BAD"
rm -f "$BAD"-wal "$BAD"-shm
run_rc env PORTDEX_STATE="$BAD" "$PORTDEX" 645
expect_eq "card of a damaged state: still shown" 0 "$RC"
expect_match "card says the notes could not be read" "Your notes could not be read: .*bad-state.db" "$OUT"
expect_nomatch "card does not say None" "None. Record yours" "$OUT"
expect_nomatch "said once: not again on stderr" "could not be read" "$ERR"
run_rc env PORTDEX_STATE="$BAD" "$PORTDEX" note --list
expect_eq "note --list on a damaged state exits 2" 2 "$RC"
finish
