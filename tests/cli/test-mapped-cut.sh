#!/usr/bin/env bash
# test-mapped-cut.sh - portdex reads the brief file and the notes file in
# place (mapped, lib/util.c pdx_map_file).  Should another program cut
# such a file short meanwhile, a read of the mapping raises SIGBUS: portdex
# names the file on stderr and exits 2, instead of dying of the signal.
# tests/preload/cut-mapped.c (LD_PRELOAD) cuts the file PDX_CUT_FILE to
# zero bytes the moment portdex maps it; every other file is left alone.
. "$(dirname "$0")/lib.sh"
build_registry
SHIM=$PDX_BUILD/tests/libcut-mapped.so
[ -f "$SHIM" ] || { echo "FAIL: $SHIM not built" >&2; exit 1; }
# under ASan the shim comes before ASan's runtime: allowed here
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# A listener of our own, so that ls has a socket to name from the brief file.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(120)' > "$T/port" &
LPID=$!
trap 'kill $LPID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")
[ -n "$PORT" ] || { echo "FAIL: no listener" >&2; exit 1; }

run_rc "$PORTDEX" note 645 "billing sync daemon (ops)"
expect_eq "note exit" 0 "$RC"
NF=$PORTDEX_STATE.notes
BRIEF=$PORTDEX_DB.brief
[ -s "$NF" ] && [ -s "$BRIEF" ] && pass || fail "no notes file or brief file"
cp "$NF" "$T/nf.keep"
cp "$BRIEF" "$T/brief.keep"

# Untouched, with the shim loaded: the answers as usual.
run_rc env LD_PRELOAD="$SHIM" "$PORTDEX" ls -t -p "$PORT" --no-pids
expect_eq "ls with the shim, nothing cut: exit" 0 "$RC"
expect_match "ls lists our listener" "127\.0\.0\.1:$PORT" "$OUT"
run_rc env LD_PRELOAD="$SHIM" "$PORTDEX" 645
expect_eq "card with the shim, nothing cut: exit" 0 "$RC"
expect_match "card shows the note" "billing sync daemon" "$OUT"

# The notes file cut while the card reads it.
run_rc env LD_PRELOAD="$SHIM" PDX_CUT_FILE="$NF" "$PORTDEX" 645
expect_eq "card, notes file cut: exit" 2 "$RC"
expect_match "the shim cut it" "cut-mapped: cut $NF" "$ERR"
expect_match "card, notes file cut: the file named" \
    "^portdex: $NF: the file was cut short by another program while portdex read it; run the command again\$" "$ERR"
expect_nomatch "no note shown past the cut" "billing" "$OUT"

# The same for ls, which reads its ports' notes from it.
cp "$T/nf.keep" "$NF"
run_rc env LD_PRELOAD="$SHIM" PDX_CUT_FILE="$NF" "$PORTDEX" ls -t --no-pids
expect_eq "ls, notes file cut: exit" 2 "$RC"
expect_match "ls, notes file cut: the file named" "^portdex: $NF: the file was cut short" "$ERR"

# The brief file cut while ls names its sockets from it.
cp "$T/nf.keep" "$NF"
run_rc env LD_PRELOAD="$SHIM" PDX_CUT_FILE="$BRIEF" "$PORTDEX" ls -t -p "$PORT" --no-pids
expect_eq "ls, brief file cut: exit" 2 "$RC"
expect_match "ls, brief file cut: the file named" "^portdex: $BRIEF: the file was cut short" "$ERR"

# Put back, the files answer again (nothing else was harmed).
cp "$T/brief.keep" "$BRIEF"
run_rc "$PORTDEX" 645
expect_eq "after: card exit" 0 "$RC"
expect_match "after: the note is there" "billing sync daemon" "$OUT"
run_rc "$PORTDEX" ls -t -p "$PORT" --no-pids
expect_eq "after: ls exit" 0 "$RC"
expect_nomatch "after: no warning" "cut short|damaged" "$ERR"
finish
