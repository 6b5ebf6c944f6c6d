#!/usr/bin/env bash
# portdex find ranks like a person: for each of 40 queries a sysadmin
# types, the port people mean is among the first three results (exact
# names and synonyms, curated identities, then popularity, then text).
. "$(dirname "$0")/lib.sh"
build_registry

# query|port|port...: every listed port must be in the top 3.
while IFS='|' read -r q want; do
	[ -z "$q" ] && continue
	run_rc "$PORTDEX" --json find $q
	top=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(" ".join(str(r["port"]) for r in json.load(sys.stdin)[:3]))' 2>/dev/null)
	for p in ${want//|/ }; do
		expect_match "find $q: $p in the top 3 (got: $top)" "(^| )$p( |$)" "$top"
	done
done <<'LIST'
http|80|443
https|443
ssh|22
telnet|23
ftp|21
smtp|25
dns|53
domain|53
tftp|69
pop3|110
imap|143
ntp|123
snmp|161
ldap|389
smb|445
rdp|3389
vnc|5900
mysql|3306
postgres|5432
postgresql|5432
mssql|1433
redis|6379
mongo|27017
mongodb|27017
elastic|9200
k8s|6443
kubernetes|6443
kafka|9092
memcached|11211
nfs|2049
kerberos|88
syslog|514
sip|5060
irc|6667
bgp|179
mqtt|1883
modbus|502
wireguard|51820
minecraft|25565
22|22
relay chat|6667
LIST
finish
