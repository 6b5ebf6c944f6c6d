#!/bin/bash
# test-watch.sh - `portdex watch` against a child process that opens 50
# loopback listeners one after another and then closes them: every
# appearance and every disappearance is reported exactly once, with the
# child's pid, in --jsonl; --exec gets each event in its environment (a
# process name made of shell syntax stays data); SIGTERM ends the watch
# with status 0; --count and --duration end it by themselves; bad
# options exit 2; the filters it shares with ls (-4, -6, -u, -t, -p,
# --reach, --process, --user) report what ls lists with them; every event
# carries user, unit, service status and risk; without --interval the
# listings are 1 s apart.  Bounded:
# the watch stops itself after 45 s at most.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 is not installed" >&2; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed" >&2; exit 77; }
build_registry
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
N=50

# The child: names itself "$(touch pwn)" (as its comm), waits for the go
# file, opens N listeners 30 ms apart, holds them 0.6 s, closes them 30 ms
# apart, writes the ports and exits.  At most 30 s.
cat > "$T/child.py" <<'EOF'
import ctypes, os, socket, sys, time
ctypes.CDLL(None).prctl(15, b"$(touch pwn)", 0, 0, 0)   # PR_SET_NAME
d, n = sys.argv[1], int(sys.argv[2])
t = time.time()
while not os.path.exists(d + "/go"):
    if time.time() - t > 30: sys.exit(1)
    time.sleep(0.02)
socks = []
for _ in range(n):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
    socks.append(s); time.sleep(0.03)
ports = [s.getsockname()[1] for s in socks]
time.sleep(0.6)
for s in socks:
    s.close(); time.sleep(0.03)
open(d + "/ports.tmp", "w").write("\n".join(map(str, sorted(ports))) + "\n")
os.rename(d + "/ports.tmp", d + "/ports")
EOF
python3 "$T/child.py" "$T" "$N" &
CPID=$!
pids+=($CPID)

cd "$T" || exit 1
"$PORTDEX" watch --jsonl --interval 0.2 --duration 55 --pid "$CPID" -t -4 \
    --exec 'printf "%s %s %s %s %s|%s\n" "$PORTDEX_EVENT" "$PORTDEX_PROTO" "$PORTDEX_ADDR" "$PORTDEX_PORT" "$PORTDEX_PID" "$PORTDEX_PROCESS" >> exec.log' \
    > "$T/events" 2> "$T/watch.err" &
WPID=$!
pids+=($WPID)
sleep 0.5	# the first listing: the baseline, no events
touch "$T/go"
for _ in $(seq 300); do [ -s "$T/ports" ] && break; sleep 0.1; done
[ -s "$T/ports" ] || fail "the child did not finish"
# Every event printed (and its --exec run: slow under a sanitizer), at
# most 40 s; then SIGTERM.
for _ in $(seq 400); do
	[ "$(grep -c . "$T/events")" -ge $((2 * N)) ] && [ "$(grep -c . "$T/exec.log" 2>/dev/null)" -ge $((2 * N)) ] && break
	kill -0 "$WPID" 2>/dev/null || break
	sleep 0.1
done
sleep 0.5	# anything more would be a duplicate
kill -TERM "$WPID"
wait "$WPID"
expect_eq "SIGTERM: exit status" 0 "$?"
expect_eq "watch: no error output" "" "$(cat "$T/watch.err")"

OUT=$(cat "$T/events")
PORTS=$(cat "$T/ports")
expect_eq "ports opened" "$N" "$(printf '%s\n' "$PORTS" | grep -c .)"
for e in appeared gone; do
	got=$(jq -r --arg e "$e" 'select(.event == $e) | .local.port' <<<"$OUT" | sort -n)
	expect_eq "$e: each port once" "$PORTS" "$got"
	expect_eq "$e: pid" "$CPID" "$(jq -r --arg e "$e" 'select(.event == $e) | .pid' <<<"$OUT" | sort -u | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "$e: process" '$(touch pwn)' "$(jq -r --arg e "$e" 'select(.event == $e) | .process' <<<"$OUT" | sort -u)"
done
expect_eq "events in all" "$((2 * N))" "$(printf '%s\n' "$OUT" | grep -c .)"
expect_eq "every event: tcp 127.0.0.1 LISTEN" "tcp 127.0.0.1 LISTEN" "$(jq -r '"\(.proto) \(.local.address) \(.state)"' <<<"$OUT" | sort -u)"
# the issue's fields: user, unit (null when none), the port's IANA status and risk
expect_eq "every event: user, unit, service status and risk" "$(id -un) true true true" \
    "$(jq -r '"\(.user) \(has("unit")) \((.service.status // "") != "") \((.service.risk // "") != "")"' <<<"$OUT" | sort -u)"
expect_match "event time: ISO 8601 UTC" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z$' "$(jq -r '.time' <<<"$OUT" | head -1)"
first_gone=$(jq -r 'select(.event == "gone") | .time' <<<"$OUT" | sort | head -1)
last_app=$(jq -r 'select(.event == "appeared") | .time' <<<"$OUT" | sort | tail -1)
# (equal times: one listing saw both, when the machine is slow)
[[ "$last_app" > "$first_gone" ]] && fail "an appearance ($last_app) after the first disappearance ($first_gone)" || pass

# --exec: one run per event, the event in the environment, never a shell.
EXEC=$(cat "$T/exec.log" 2>/dev/null)
expect_eq "exec: runs" "$((2 * N))" "$(printf '%s\n' "$EXEC" | grep -c .)"
expect_eq "exec: appeared ports" "$PORTS" "$(grep '^appeared ' <<<"$EXEC" | cut -d' ' -f4 | sort -n)"
expect_eq "exec: gone ports" "$PORTS" "$(grep '^gone ' <<<"$EXEC" | cut -d' ' -f4 | sort -n)"
expect_eq "exec: fields" "tcp 127.0.0.1 $CPID|\$(touch pwn)" "$(cut -d' ' -f2,3,5- <<<"$EXEC" | sort -u)"
[ ! -e "$T/pwn" ] && pass || fail "event data was run as shell code"

# Text output, --count: the first event ends the watch by itself.
python3 -c 'import socket,sys,time,os
time.sleep(0.6); s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1)
open(sys.argv[1]+".tmp","w").write("%d\n" % s.getsockname()[1]); os.rename(sys.argv[1]+".tmp", sys.argv[1]); time.sleep(3)' "$T/one" &
OPID=$!
pids+=($OPID)
run_rc timeout 20 "$PORTDEX" watch --count 1 --interval 0.1 --duration 15 --pid "$OPID"
expect_eq "--count 1: exit" 0 "$RC"
expect_match "--count 1: text event" "^[0-9T:.Z-]+ appeared +tcp +127\.0\.0\.1:$(cat "$T/one" 2>/dev/null) +pid $OPID +python3 +user $(id -un) +unit " "$OUT"
expect_eq "--count 1: one line" 1 "$(printf '%s\n' "$OUT" | grep -c .)"

# The default interval (1 s): a child opens a listener every 0.3 s for
# 3.6 s; a watch without --interval stamps its events with the time of
# the listing that saw them, so the distinct times are about 1 s apart
# (a fixed cadence: not less, whatever the load; 0.3 s apart, or fewer
# events, with a shorter interval).
python3 -c 'import os,socket,sys,time
d=sys.argv[1]; t=time.time()
while not os.path.exists(d+"/igo") and time.time()-t < 20: time.sleep(0.02)
ss=[]
for _ in range(12):
    s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1); ss.append(s); time.sleep(0.3)
time.sleep(1.5)' "$T" &
IPID=$!
pids+=($IPID)
"$PORTDEX" watch --jsonl --duration 5.5 --pid "$IPID" > "$T/int.events" 2> "$T/int.err" &
IWPID=$!
pids+=($IWPID)
sleep 0.8	# the baseline listing
touch "$T/igo"
wait "$IWPID"
expect_eq "default interval: exit" 0 "$?"
expect_eq "default interval: listings about 1 s apart" "ok" "$(python3 - "$T/int.events" <<'EOF2'
import datetime, json, statistics, sys
ts = sorted({json.loads(l)["time"] for l in open(sys.argv[1]) if l.strip()})
t = [datetime.datetime.strptime(x, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() for x in ts]
gaps = [b - a for a, b in zip(t, t[1:])]
if len(t) < 3:
    print("only %d distinct event times" % len(t))
elif min(gaps) < 0.6 or not 0.8 <= statistics.median(gaps) <= 1.4:
    print("gaps %s" % ["%.2f" % g for g in gaps])
else:
    print("ok")
EOF2
)"

# --duration: nothing happens (a port nobody opens), and it ends on time.
start=$(date +%s%N)
run_rc "$PORTDEX" watch --duration 0.5 --interval 0.1 -p 1 --jsonl
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "--duration: exit" 0 "$RC"
expect_eq "--duration: no events" "" "$OUT"
[ "$ms" -lt 5000 ] && pass || fail "--duration 0.5 took $ms ms"

# The same filters as ls, with the same meaning: a child holds a tcp4
# loopback, a tcp6 loopback, a udp4 loopback and a tcp4 wildcard socket;
# for each filter, what a watch with it reports appearing and going is
# what `ls` with it lists while they are up.
cat > "$T/filt.py" <<'EOF'
import ctypes, os, socket, sys, time
ctypes.CDLL(None).prctl(15, b"pdxfilt", 0, 0, 0)
d = sys.argv[1]
t = time.time()
while not os.path.exists(d + "/fgo"):
    if time.time() - t > 20: sys.exit(1)
    time.sleep(0.02)
a = socket.socket(); a.bind(("127.0.0.1", 0)); a.listen(1)
b = socket.socket(socket.AF_INET6); b.bind(("::1", 0)); b.listen(1)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.bind(("127.0.0.1", 0))
w = socket.socket(); w.bind(("0.0.0.0", 0)); w.listen(1)
open(d + "/fup", "w").close()
t = time.time()
while not os.path.exists(d + "/fclose") and time.time() - t < 20:
    time.sleep(0.02)
for x in (a, b, c, w): x.close()
time.sleep(5)
EOF
python3 "$T/filt.py" "$T" &
FPID=$!
pids+=($FPID)
FILTERS=("-4" "-6" "-u" "-t -4" "--reach loopback" "--reach open,filtered,restricted,unknown" "--process pdxfilt" "--process other" "--user $(id -un)" "--user nobody" "-p 1-1023")
fw=()
for i in "${!FILTERS[@]}"; do
	# shellcheck disable=SC2086
	"$PORTDEX" watch --jsonl --interval 0.2 --duration 30 --pid "$FPID" ${FILTERS[$i]} > "$T/f$i.events" 2> "$T/f$i.err" &
	fw+=($!)
	pids+=($!)
done
sleep 0.8	# the first listings: no events
touch "$T/fgo"
for _ in $(seq 100); do [ -e "$T/fup" ] && break; sleep 0.1; done
sleep 0.6	# two listings at least
for i in "${!FILTERS[@]}"; do
	# shellcheck disable=SC2086
	"$PORTDEX" --json ls --pid "$FPID" ${FILTERS[$i]} > "$T/f$i.ls" 2>/dev/null
done
touch "$T/fclose"
sleep 1.2
for p in "${fw[@]}"; do kill -TERM "$p" 2>/dev/null; done
for i in "${!FILTERS[@]}"; do
	wait "${fw[$i]}"
	expect_eq "filter ${FILTERS[$i]}: watch exit" 0 "$?"
	want=$(jq -r '.sockets[] | "\(.proto)/\(.local.address)/\(.local.port)"' "$T/f$i.ls" | sort | tr '\n' ' ')
	for e in appeared gone; do
		got=$(jq -r --arg e "$e" 'select(.event == $e) | "\(.proto)/\(.local.address)/\(.local.port)"' "$T/f$i.events" | sort | tr '\n' ' ')
		expect_eq "filter ${FILTERS[$i]}: $e as ls lists" "$want" "$got"
	done
done
# the filters do choose: not everything, not nothing
expect_eq "filter -4 against -6: 3 and 1 sockets" "3 1" "$(jq '.sockets | length' "$T/f0.ls") $(jq '.sockets | length' "$T/f1.ls")"
expect_eq "filter --reach loopback: the three loopback sockets" 3 "$(jq '.sockets | length' "$T/f4.ls")"
expect_eq "filter --process other: none" 0 "$(jq '.sockets | length' "$T/f7.ls")"

for bad in "--interval 0" "--interval 1x" "--interval -1" "--count 0" "--duration nan" "--netns a --all-netns" "--no-pids --pid 1" "extra"; do
	# shellcheck disable=SC2086
	run_rc "$PORTDEX" watch $bad
	expect_eq "watch $bad: exit" 2 "$RC"
	expect_match "watch $bad: says why" "portdex: watch: |usage: portdex watch" "$ERR"
done

# --all-netns: a namespace made and removed while the watch runs.  Its
# listener is reported with the namespace's name, reported gone when the
# namespace is removed, and the watch goes on (a listener here afterwards
# is still seen).  Needs root and ip(8).
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "pdxw$$" 2>/dev/null; then
	ns=pdxw$$
	trap 'ip netns del "$ns" 2>/dev/null; cleanup' EXIT
	ip netns del "$ns"
	P1=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$PORTDEX" watch --all-netns --jsonl --interval 0.2 --duration 30 -t -p "$P1" > "$T/ns-events" 2> "$T/ns.err" &
	NWPID=$!
	pids+=($NWPID)
	sleep 0.5
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(20)' "$P1" &
	NLPID=$!
	pids+=($NLPID)
	for _ in $(seq 50); do grep -q '"appeared"' "$T/ns-events" && break; sleep 0.1; done
	ip netns del "$ns"
	for _ in $(seq 50); do grep -q '"gone"' "$T/ns-events" && break; sleep 0.1; done
	kill "$NLPID"
	python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(1.5)' "$P1" &
	HLPID=$!
	pids+=($HLPID)
	for _ in $(seq 50); do [ "$(grep -c . "$T/ns-events")" -ge 3 ] && break; sleep 0.1; done
	kill -TERM "$NWPID"
	wait "$NWPID"
	expect_eq "--all-netns: exit" 0 "$?"
	OUT=$(cat "$T/ns-events")
	expect_eq "--all-netns: events" "appeared $ns $NLPID|gone $ns $NLPID|appeared  $HLPID|" "$(jq -r '"\(.event) \(.netns // "") \(.pid)"' <<<"$OUT" | tr '\n' '|')"
	expect_eq "--all-netns: no error" "" "$(cat "$T/ns.err")"
else
	echo "note: --all-netns part not run (needs root and ip netns)" >&2
fi

finish
