#!/usr/bin/env bash
# portdex show / portdex PORT: the card's fields, names, ranges, errors.
. "$(dirname "$0")/lib.sh"
build_registry

run_rc "$PORTDEX" 645 --json
expect_eq "show 645 exit" 0 "$RC"
expect_eq "schema" 2 "$(json 'j["schema_version"]')"
expect_eq "transports" "tcp,udp" "$(json '",".join(t["transport"] for t in j["transports"])')"
expect_eq "service" "pssc" "$(json 'j["transports"][0]["service"]')"
expect_eq "status" "assigned" "$(json 'j["transports"][0]["status"]')"
expect_eq "contact" "[Egon_Meier_Engelen]" "$(json 'j["transports"][0]["iana"][0]["contact"]')"
expect_eq "range class" "system" "$(json 'j["range"]["class"]')"
expect_eq "privileged" "True" "$(json 'j["range"]["privileged"]')"
# The ephemeral range comes from this kernel.
read -r elo ehi < /proc/sys/net/ipv4/ip_local_port_range
expect_eq "ephemeral lo" "$elo" "$(json 'j["range"]["ephemeral"]["lo"]')"
expect_eq "check linux" "sudo ss -tulpn 'sport = :645'" "$(json 'j["check"]["linux"][0]')"
# Every one of the twelve IANA fields is in the card.
expect_eq "iana fields" 12 "$(json 'len([k for k in j["transports"][0]["iana"][0] if k not in ("status","was","source")])')"

# Compare the card with the CSV row, independently parsed.
row=$(python3 - "$IANA" <<'PY'
import csv, sys
for r in csv.reader(open(sys.argv[1], newline='', encoding='utf-8')):
    if r[1] == '644' and r[2] == 'tcp': print(r[0] + '|' + r[3] + '|' + r[4]); break
PY
)
run_rc "$PORTDEX" show 644/tcp --json
expect_eq "644/tcp only" "tcp" "$(json '",".join(t["transport"] for t in j["transports"])')"
expect_eq "644 row" "$row" "$(json 'j["transports"][0]["iana"][0]["service_name"]+"|"+j["transports"][0]["iana"][0]["description"]+"|"+j["transports"][0]["iana"][0]["assignee"]')"

# 945 lies in the Unassigned range 916-952.
run_rc "$PORTDEX" 945 --json
expect_eq "945 status" "unassigned" "$(json 'j["transports"][0]["status"]')"
expect_eq "945 range row" "916-952" "$(json 'j["transports"][0]["iana"][0]["port"]')"
# 15/tcp is "Unassigned [was netstat]": historic.
run_rc "$PORTDEX" 15/tcp --json
expect_eq "15 historic" "historic" "$(json 'j["transports"][0]["status"]')"
expect_eq "15 was" "netstat" "$(json 'j["transports"][0]["was"]')"
# 2 is reserved, previously compressnet.
run_rc "$PORTDEX" 2/tcp --json
expect_eq "2 reserved" "reserved" "$(json 'j["transports"][0]["status"]')"
# An sctp row adds the sctp transport to the default card.
run_rc "$PORTDEX" 9 --json
expect_match "9 sctp" "sctp" "$(json '",".join(t["transport"] for t in j["transports"])')"
# A range inside a named range: x11 6000-6063.
run_rc "$PORTDEX" 6010/tcp --json
expect_eq "6010 x11" "x11" "$(json 'j["transports"][0]["service"]')"
# nmap's frequency and rank, when nmap's data is installed.
if [ -f /usr/share/nmap/nmap-services ]; then
	freq=$(awk '$2 == "80/tcp" {print $3}' /usr/share/nmap/nmap-services)
	run_rc "$PORTDEX" 80/tcp --json
	expect_eq "nmap freq 80" "$freq" "$(json '"%.6f" % j["transports"][0]["nmap"]["frequency"]')"
	expect_eq "nmap rank 80" 1 "$(json 'j["transports"][0]["nmap"]["rank"]')"
fi

# Text: sections of a man page, the service, aligned fields.
run_rc "$PORTDEX" 645
expect_match "text header" "^PORT 645 - PSSC" "$OUT"
for s in "OFFICIAL \(IANA\)" "RANGE" "IN PRACTICE" "SECURITY" "CHECK IT YOURSELF"; do
	expect_match "section $s" "$s" "$OUT"
done
expect_nomatch "no colour without a tty" $'\033' "$OUT"
run_rc "$PORTDEX" --color always 645
expect_match "colour when asked" $'\033\\[1m' "$OUT"

# Names: port -> name and name -> port.
run_rc "$PORTDEX" show pssc --json
expect_eq "name pssc" 645 "$(json 'j["port"]')"
run_rc "$PORTDEX" show irc --json
expect_match "name irc includes 194" "194" "$(json '[c["port"] for c in j]')"

# A range: a header, then one compact line per port and transport (tcp,
# udp, and any other transport IANA lists).
run_rc "$PORTDEX" 6000-6003
expect_eq "range lines" 9 "$(printf '%s\n' "$OUT" | wc -l)"
expect_match "range header" "^PORT +PROTO +STATUS +SERVICE" "$(printf '%s\n' "$OUT" | head -1)"
expect_match "range x11" "^6001 +tcp .*x11" "$OUT"
run_rc "$PORTDEX" 6000-6003 --json
expect_eq "range json" 4 "$(json 'len(j)')"

# Bad input: a clear message and exit 2.
for bad in 70000 -1 abc 10-5 65536/tcp 80/xyz; do
	run_rc "$PORTDEX" show -- "$bad"
	[ "$bad" = -1 ] && run_rc "$PORTDEX" -1
	expect_eq "exit for '$bad'" 2 "$RC"
	expect_match "message for '$bad'" "portdex: show: .+" "$ERR"
done
run_rc "$PORTDEX" 70000
expect_match "70000 message" "out of range 0-65535" "$ERR"
run_rc "$PORTDEX" 10-5
expect_match "10-5 message" "ends before it starts" "$ERR"
run_rc "$PORTDEX" show abc
expect_match "abc message" "unknown port or service name 'abc'" "$ERR"

# No registry: says how to build one.
PORTDEX_DB=$T/none.db run_rc "$PORTDEX" 645
expect_eq "no registry exit" 2 "$RC"
expect_match "no registry message" "portdex update" "$ERR"
finish
