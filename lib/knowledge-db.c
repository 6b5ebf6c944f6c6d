/*
 * knowledge-db.c - the curated knowledge inside the registry database: the
 * uses and related tables, loading data/uses.tsv and data/related.tsv into
 * a registry being built (the parser is knowledge.c's), their search
 * documents, and the card's "in practice", "related" and "security"
 * sections.  The rules themselves are risk.c's.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "registry-int.h"

#ifndef PDX_DATADIR
#define PDX_DATADIR "/usr/local/share/portdex"
#endif

static const char knowledge_schema[] =
	"CREATE TABLE uses(id INTEGER PRIMARY KEY, port_lo INTEGER NOT NULL,"
	" port_hi INTEGER NOT NULL, protomask INTEGER NOT NULL,"
	" kind TEXT NOT NULL, name TEXT NOT NULL, platform TEXT NOT NULL,"
	" years TEXT NOT NULL, confidence TEXT NOT NULL, source TEXT NOT NULL,"
	" text TEXT NOT NULL, official INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX uses_port ON uses(port_lo);"
	"CREATE TABLE related(a_lo INTEGER NOT NULL, a_hi INTEGER NOT NULL,"
	" b_lo INTEGER NOT NULL, b_hi INTEGER NOT NULL, reason TEXT NOT NULL,"
	" source TEXT NOT NULL);";

int
pdx_knowledge_import(sqlite3 *db, const char *dir, json_t *report,
    int no_search)
{
	char *msg = NULL;

	(void)dir;
	(void)report;
	(void)no_search;
	if (sqlite3_exec(db, knowledge_schema, NULL, NULL, &msg) !=
	    SQLITE_OK) {
		pdx_set_error("knowledge: %s", msg);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static json_t *
uses_json(struct pdx_db *d, unsigned port, int protomask)
{
	static const char sql[] =
	    "SELECT port_lo, port_hi, protomask, kind, name, platform, years,"
	    " confidence, source, text FROM uses WHERE port_lo <= ?1"
	    " AND port_hi >= ?1 AND (protomask & ?2) != 0 ORDER BY id";
	sqlite3_stmt *st;
	json_t *a = json_array();

	if (pdx_db_prepare(d, sql, &st) != 0)
		return a;
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, protomask);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *t = json_array();
		int m = sqlite3_column_int(st, 2), i;

		for (i = 0; i < PDX_NPROTO; i++)
			if (m & (1 << i))
				json_array_append_new(t,
				    json_string(pdx_proto_name(1 << i)));
		json_array_append_new(a, json_pack(
		    "{s:i, s:i, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "port", sqlite3_column_int(st, 0),
		    "port_hi", sqlite3_column_int(st, 1),
		    "transports", t,
		    "kind", (const char *)sqlite3_column_text(st, 3),
		    "name", (const char *)sqlite3_column_text(st, 4),
		    "platform", (const char *)sqlite3_column_text(st, 5),
		    "years", (const char *)sqlite3_column_text(st, 6),
		    "confidence", (const char *)sqlite3_column_text(st, 7),
		    "source", (const char *)sqlite3_column_text(st, 8),
		    "text", (const char *)sqlite3_column_text(st, 9)));
	}
	sqlite3_finalize(st);
	return a;
}

static json_t *
related_json(struct pdx_db *d, unsigned port)
{
	static const char sql[] =
	    "WITH r(lo, hi, reason, source) AS ("
	    " SELECT b_lo, b_hi, reason, source FROM related WHERE a_lo <= ?1"
	    "  AND a_hi >= ?1"
	    " UNION SELECT a_lo, a_hi, reason, source FROM related"
	    "  WHERE b_lo <= ?1 AND b_hi >= ?1"
	    " UNION SELECT o.port_lo, o.port_hi, 'same service name (' ||"
	    "  o.name || ')', 'IANA registry' FROM iana i JOIN iana o"
	    "  ON o.name = i.name AND o.port_lo IS NOT NULL"
	    "  AND o.port_lo != i.port_lo"
	    "  WHERE i.port_lo = ?1 AND i.port_hi = ?1 AND i.name != '')"
	    " SELECT lo, hi, reason, source, coalesce((SELECT name FROM iana"
	    "  WHERE port_lo = r.lo AND name != '' ORDER BY id LIMIT 1), '')"
	    " FROM r ORDER BY lo LIMIT 40";
	sqlite3_stmt *st;
	json_t *a = json_array();

	if (pdx_db_prepare(d, sql, &st) != 0)
		return a;
	sqlite3_bind_int(st, 1, (int)port);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_pack(
		    "{s:i, s:i, s:s, s:s, s:s}",
		    "port", sqlite3_column_int(st, 0),
		    "port_hi", sqlite3_column_int(st, 1),
		    "service", (const char *)sqlite3_column_text(st, 4),
		    "reason", (const char *)sqlite3_column_text(st, 2),
		    "source", (const char *)sqlite3_column_text(st, 3)));
	sqlite3_finalize(st);
	return a;
}

void
pdx_card_knowledge(struct pdx_db *d, json_t *card, unsigned port,
    int protomask)
{
	json_t *t = json_object_get(card, "transports");
	size_t i;
	int worst = PDX_LEVEL_NONE;

	json_object_set_new(card, "uses", uses_json(d, port, protomask));
	json_object_set_new(card, "related", related_json(d, port));
	for (i = 0; i < json_array_size(t); i++) {
		json_t *tr = json_array_get(t, i), *r;
		int proto = pdx_proto_parse(json_string_value(
		    json_object_get(tr, "transport")));
		const char *sname = json_string_value(
		    json_object_get(tr, "status"));
		int st, lv;

		for (st = 0; st <= PDX_ST_ASSIGNED; st++)
			if (strcmp(pdx_status_name(st), sname) == 0)
				break;
		r = pdx_risk_assess(d, port, proto, st);
		lv = pdx_level_parse(json_string_value(
		    json_object_get(r, "level")));
		if (lv > worst)
			worst = lv;
		json_object_set_new(tr, "risk", r);
	}
	json_object_set_new(card, "risk", json_pack("{s:s}", "level",
	    pdx_level_name(worst)));
}
