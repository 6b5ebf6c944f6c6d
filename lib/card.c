/*
 * card.c - the card model: everything the registry knows about one port,
 * as a JSON tree that the text renderer, --json and the web pages share
 * (schema in docs/json.md).  It reads the registry only; the live "on this
 * machine" section and the user's notes are added by the caller, which
 * owns the sockets backend and the state database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "portdex.h"
#include "registry-int.h"

static const char *const iana_keys[PDX_NCOLS] = {
	"service_name", "port", "transport", "description", "assignee",
	"contact", "registration_date", "modification_date", "reference",
	"service_code", "unauthorized_use", "notes",
};

/* Rows covering port for proto (or for every proto when proto is 0). */
static const char rows_sql[] =
	"SELECT name, port, proto, description, assignee, contact, reg_date,"
	" mod_date, reference, service_code, unauth, notes, status, was,"
	" protomask, origin, id FROM ("
	" SELECT * FROM iana WHERE port_lo = ?1 AND port_hi = ?1"
	" UNION ALL SELECT * FROM iana INDEXED BY iana_range"
	"  WHERE port_hi > port_lo"
	"  AND port_hi >= ?1 AND port_lo <= ?1)"
	" WHERE protomask = ?2 OR protomask = 0 ORDER BY id";

static json_t *
iana_entries(struct pdx_db *d, unsigned port, int proto, int *status,
    const char **was_out, json_t **wasj)
{
	sqlite3_stmt *st;
	json_t *a = json_array();
	int i, best = -1;

	*wasj = json_null();
	if (pdx_db_prepare(d, rows_sql, &st) != 0) {
		json_decref(a);
		return NULL;
	}
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_object();
		int s = sqlite3_column_int(st, 12);

		for (i = 0; i < PDX_NCOLS; i++)
			json_object_set_new(o, iana_keys[i], json_string(
			    (const char *)sqlite3_column_text(st, i)));
		json_object_set_new(o, "status",
		    json_string(pdx_status_name(s)));
		json_object_set_new(o, "was",
		    sqlite3_column_type(st, 13) == SQLITE_NULL ? json_null() :
		    json_string((const char *)sqlite3_column_text(st, 13)));
		json_object_set_new(o, "source", json_string(
		    (const char *)sqlite3_column_text(st, 15)));
		if (s > best) {
			best = s;
			json_decref(*wasj);
			*wasj = json_incref(json_object_get(o, "was"));
		}
		json_array_append_new(a, o);
	}
	sqlite3_finalize(st);
	*status = best < 0 ? PDX_ST_UNASSIGNED : best;
	(void)was_out;
	return a;
}

static json_t *
nmap_info(struct pdx_db *d, unsigned port, int proto)
{
	static const char sql[] =
	    "SELECT name, freq, rank, (SELECT CAST(value AS INTEGER) FROM meta"
	    " WHERE key = 'nmap.ranked.' || ?2) FROM nmap WHERE port = ?1"
	    " AND proto = ?2";
	sqlite3_stmt *st;
	json_t *o = json_null();

	if (pdx_db_prepare(d, sql, &st) != 0)
		return json_null();
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = json_pack("{s:s, s:f, s:i, s:i}",
		    "name", (const char *)sqlite3_column_text(st, 0),
		    "frequency", sqlite3_column_double(st, 1),
		    "rank", sqlite3_column_int(st, 2),
		    "ranked", sqlite3_column_int(st, 3));
	sqlite3_finalize(st);
	return o;
}

static json_t *
services_info(struct pdx_db *d, unsigned port, int proto)
{
	static const char sql[] =
	    "SELECT name, aliases, comment, source FROM services"
	    " WHERE port_lo <= ?1 AND port_hi >= ?1 AND (protomask & ?2) != 0"
	    " AND source != 'services-primary' ORDER BY rowid";
	sqlite3_stmt *st;
	json_t *a = json_array();

	if (pdx_db_prepare(d, sql, &st) != 0)
		return a;
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}",
		    "name", (const char *)sqlite3_column_text(st, 0),
		    "aliases", (const char *)sqlite3_column_text(st, 1),
		    "comment", (const char *)sqlite3_column_text(st, 2),
		    "source", (const char *)sqlite3_column_text(st, 3)));
	sqlite3_finalize(st);
	return a;
}

/* Which transports a card shows when none was asked for. */
static int
default_protos(struct pdx_db *d, unsigned port)
{
	static const char sql[] =
	    "SELECT DISTINCT protomask FROM (SELECT protomask FROM iana"
	    " WHERE port_lo = ?1 AND port_hi = ?1 UNION ALL SELECT protomask"
	    " FROM iana INDEXED BY iana_range WHERE port_hi > port_lo"
	    " AND port_hi >= ?1"
	    " AND port_lo <= ?1)";
	sqlite3_stmt *st;
	int mask = PDX_TCP | PDX_UDP;

	if (pdx_db_prepare(d, sql, &st) != 0)
		return mask;
	sqlite3_bind_int(st, 1, (int)port);
	while (sqlite3_step(st) == SQLITE_ROW)
		mask |= sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return mask;
}

static json_t *
range_info(unsigned port)
{
	static const struct {
		int		 cls;
		unsigned	 lo, hi;
		const char	*label;
		const char	*meaning;
	} ranges[] = {
		{ PDX_RANGE_SYSTEM, 0, 1023, "system (well-known)",
		  "assigned by IANA through IETF review; binding needs root "
		  "or CAP_NET_BIND_SERVICE on Linux" },
		{ PDX_RANGE_USER, 1024, 49151, "user (registered)",
		  "registered with IANA on request; any user may bind it" },
		{ PDX_RANGE_DYNAMIC, 49152, 65535, "dynamic (private)",
		  "never assigned by IANA; used for ephemeral client ports "
		  "and private services" },
	};
	int c = pdx_range_class(port);
	json_t *o;
	unsigned elo, ehi;

	o = json_pack("{s:s, s:s, s:i, s:i, s:b, s:s}",
	    "class", pdx_range_class_name(c), "label", ranges[c].label,
	    "lo", ranges[c].lo, "hi", ranges[c].hi,
	    "privileged", c == PDX_RANGE_SYSTEM, "meaning", ranges[c].meaning);
	if (pdx_ephemeral_range(NULL, &elo, &ehi) == 0)
		json_object_set_new(o, "ephemeral", json_pack(
		    "{s:i, s:i, s:b, s:s}", "lo", elo, "hi", ehi,
		    "inside", port >= elo && port <= ehi,
		    "source", "/proc/sys/net/ipv4/ip_local_port_range"));
	else
		json_object_set_new(o, "ephemeral", json_null());
	return o;
}

static json_t *
check_commands(unsigned port)
{
	char b[6][160];

	snprintf(b[0], sizeof b[0], "sudo ss -tulpn 'sport = :%u'", port);
	snprintf(b[1], sizeof b[1], "sudo lsof -nP -i :%u", port);
	snprintf(b[2], sizeof b[2], "sudo lsof -nP -i :%u", port);
	snprintf(b[3], sizeof b[3], "netstat -anv | grep '\\.%u '", port);
	snprintf(b[4], sizeof b[4], "netstat -ano | findstr :%u", port);
	snprintf(b[5], sizeof b[5], "Get-NetTCPConnection -LocalPort %u; "
	    "Get-NetUDPEndpoint -LocalPort %u", port, port);
	return json_pack("{s:[s,s], s:[s,s], s:[s,s]}",
	    "linux", b[0], b[1], "macos", b[2], b[3], "windows", b[4], b[5]);
}

json_t *
pdx_card(struct pdx_db *d, unsigned port, int protomask)
{
	json_t *card, *transports;
	int i;

	if (port > 65535) {
		pdx_set_error("port %u is out of range 0-65535", port);
		return NULL;
	}
	if (protomask == 0)
		protomask = default_protos(d, port);
	transports = json_array();
	for (i = 0; i < PDX_NPROTO; i++) {
		int p = 1 << i, status;
		json_t *rows, *was, *t;
		const char *svc = "";

		if ((protomask & p) == 0)
			continue;
		if ((rows = iana_entries(d, port, p, &status, NULL, &was))
		    == NULL) {
			json_decref(transports);
			return NULL;
		}
		for (size_t k = 0; k < json_array_size(rows); k++) {
			json_t *r = json_array_get(rows, k);
			const char *n = json_string_value(
			    json_object_get(r, "service_name"));

			if (n != NULL && *n != '\0') {
				svc = n;
				break;
			}
		}
		t = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
		    "transport", pdx_proto_name(p),
		    "status", pdx_status_name(status), "service", svc,
		    "was", was, "iana", rows,
		    "nmap", nmap_info(d, port, p),
		    "services", services_info(d, port, p));
		json_array_append_new(transports, t);
	}
	card = json_pack("{s:i, s:i, s:o, s:o}",
	    "schema_version", PDX_CARD_SCHEMA, "port", port,
	    "transports", transports, "range", range_info(port));
	pdx_card_knowledge(d, card, port, protomask);
	json_object_set_new(card, "check", check_commands(port));
	return card;
}

json_t *
pdx_card_brief(struct pdx_db *d, unsigned port, int protomask)
{
	json_t *o, *t;
	int i;

	if (protomask == 0)
		protomask = PDX_TCP | PDX_UDP;
	t = json_array();
	for (i = 0; i < PDX_NPROTO; i++) {
		struct pdx_brief b;
		int p = 1 << i;

		if ((protomask & p) == 0)
			continue;
		if (pdx_brief(d, port, p, &b) != 0) {
			json_decref(t);
			return NULL;
		}
		json_array_append_new(t, json_pack("{s:s, s:s, s:s, s:s}",
		    "transport", pdx_proto_name(p), "service", b.name,
		    "status", pdx_status_name(b.status),
		    "risk", pdx_level_name(b.risk)));
	}
	o = json_pack("{s:i, s:i, s:o}", "schema_version", PDX_CARD_SCHEMA,
	    "port", port, "transports", t);
	return o;
}
