/*
 * knowledge-db.c - the curated knowledge inside the registry database: the
 * uses and related tables, loading the files of data/uses/ and
 * data/related.tsv into a registry being built (the parser is
 * knowledge.c's), their search documents, and the card's "in practice",
 * "related" and "security" sections.  The rules themselves are risk.c's.
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
    " text TEXT NOT NULL, official INTEGER NOT NULL DEFAULT 0,"
    " lead INTEGER NOT NULL DEFAULT 0);"
    /* covering the card's range test: no row is read to reject it */
    "CREATE INDEX uses_port ON uses(port_lo, port_hi, protomask);"
    /*
	 * audit's malware rows, in name order (lib/audit-rules.c): a few
	 * index pages instead of a scan and sort of the whole table.  Partial,
	 * so that no other query's plan can pick it.
	 */
    "CREATE INDEX uses_malware ON uses(name, port_lo, port_hi, protomask)"
    " WHERE kind = 'malware';"
    "CREATE TABLE related(a_lo INTEGER NOT NULL, a_hi INTEGER NOT NULL,"
    " b_lo INTEGER NOT NULL, b_hi INTEGER NOT NULL, reason TEXT NOT NULL,"
    " source TEXT NOT NULL);"
    /*
	 * What the card lists as related to a port in k_lo-k_hi: each curated
	 * pair in both directions and the other ports of the same IANA
	 * service name, with the service name of the related port.  Built
	 * once by pdx_related_build(), in the order the card lists them, so
	 * a card reads it with one scan of a few pages and no sort.
	 */
    "CREATE TABLE related_by_port(k_lo INTEGER NOT NULL,"
    " k_hi INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL,"
    " service TEXT NOT NULL, reason TEXT NOT NULL, source TEXT NOT NULL);";

struct kimport {
	sqlite3 *db;
	sqlite3_stmt *ins_use, *ins_rel, *ins_fts;
};

static int
add_use(const struct pdx_use *u, void *arg)
{
	struct kimport *k = arg;
	sqlite3_stmt *st = k->ins_use;
	char body[4096];
	int rc;

	sqlite3_bind_int(st, 1, u->port_lo);
	sqlite3_bind_int(st, 2, u->port_hi);
	sqlite3_bind_int(st, 3, u->protos);
	sqlite3_bind_text(st, 4, pdx_use_kind_name(u->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, *u->platform ? u->platform : "-", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 7, u->years, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, pdx_confidence_name(u->confidence), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 9, u->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, u->text, -1, SQLITE_STATIC);
	/*
	 * A historic use that cites the port's IANA entry is the official
	 * service itself, now dead (545: QuickTime Conferencing).
	 */
	sqlite3_bind_int(st, 11,
	    u->kind == PDX_USE_SERVICE ||
		(u->kind == PDX_USE_HISTORIC &&
		    (u->source_kinds & PDX_SRC_IANA) != 0));
	sqlite3_bind_int(st, 12, u->lead);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	snprintf(body, sizeof body, "%s %s %s %s", u->text,
	    pdx_use_kind_name(u->kind), u->platform, u->years);
	st = k->ins_fts;
	sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, u->port_lo);
	sqlite3_bind_int(st, 4, u->port_hi);
	sqlite3_bind_int(st, 5, u->protos);
	sqlite3_bind_text(st, 6, u->text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
fail:
	pdx_set_error("knowledge: %s", sqlite3_errmsg(k->db));
	return -1;
}

static int
add_related(const struct pdx_related *r, void *arg)
{
	struct kimport *k = arg;
	sqlite3_stmt *st = k->ins_rel;
	int rc;

	sqlite3_bind_int(st, 1, r->a_lo);
	sqlite3_bind_int(st, 2, r->a_hi);
	sqlite3_bind_int(st, 3, r->b_lo);
	sqlite3_bind_int(st, 4, r->b_hi);
	sqlite3_bind_text(st, 5, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->source, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("knowledge: %s", sqlite3_errmsg(k->db));
		return -1;
	}
	return 0;
}

/* The curated data directory: named, then installed, then the source. */
static const char *
knowledge_dir(const char *dir, int no_search, char *buf, size_t n)
{
	const char *cands[3];
	const char *e = getenv("PORTDEX_DATA");
	size_t i;

	if (dir != NULL)
		return dir;
	if (no_search)
		return NULL;
	cands[0] = e != NULL && *e != '\0' ? e : NULL;
	cands[1] = PDX_DATADIR;
#ifdef PDX_SRCDIR
	cands[2] = PDX_SRCDIR "/data";
#else
	cands[2] = NULL;
#endif
	for (i = 0; i < 3; i++) {
		if (cands[i] == NULL)
			continue;
		snprintf(buf, n, "%s/uses", cands[i]);
		if (access(buf, R_OK) == 0) {
			snprintf(buf, n, "%s", cands[i]);
			return buf;
		}
	}
	return NULL;
}

static long
import_one(struct kimport *k, const char *path, json_t *report, int uses)
{
	char *buf;
	size_t len;
	long n;

	if ((buf = pdx_read_file(path, 16u << 20, &len)) == NULL)
		return -1;
	n = uses ? pdx_knowledge_parse(buf, len, path, add_use, k)
		 : pdx_related_parse(buf, len, path, add_related, k);
	free(buf);
	if (n >= 0)
		json_array_append_new(json_object_get(report, "sources"),
		    json_pack("{s:s, s:s, s:s, s:s, s:I}", "kind",
			uses ? "knowledge-uses" : "knowledge-related", "path",
			path, "date", "", "fnv1a64", "", "records",
			(json_int_t)n));
	return n;
}

int
pdx_knowledge_import(sqlite3 *db, const char *dir, json_t *report,
    int no_search)
{
	struct kimport k = { db, NULL, NULL, NULL };
	char buf[PATH_MAX], rel[PATH_MAX], *msg = NULL, **files = NULL;
	long nfiles = 0, i;
	int rc = -1;

	if (sqlite3_exec(db, knowledge_schema, NULL, NULL, &msg) != SQLITE_OK) {
		pdx_set_error("knowledge: %s", msg);
		sqlite3_free(msg);
		return -1;
	}
	if ((dir = knowledge_dir(dir, no_search, buf, sizeof buf)) == NULL)
		return 0; /* optional: the registry works without it */
	if (sqlite3_prepare_v2(db,
		"INSERT INTO uses(port_lo, port_hi,"
		" protomask, kind, name, platform, years, confidence, source, text,"
		" official, lead) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
		-1, &k.ins_use, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO related VALUES (?,?,?,?,?,?)",
		-1, &k.ins_rel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"INSERT INTO fts(name, body, kind, port_lo,"
		" port_hi, protomask, summary) VALUES (?, ?, 'use', ?, ?, ?, ?)",
		-1, &k.ins_fts, NULL) != SQLITE_OK) {
		pdx_set_error("knowledge: %s", sqlite3_errmsg(db));
		goto out;
	}
	if ((nfiles = pdx_knowledge_files(dir, &files)) < 0)
		goto out;
	if (nfiles == 0) {
		pdx_set_error("%s/uses: no curated files (*.tsv)", dir);
		goto out;
	}
	for (i = 0; i < nfiles; i++)
		if (import_one(&k, files[i], report, 1) < 0)
			goto out;
	if ((size_t)snprintf(rel, sizeof rel, "%s/related.tsv", dir) >=
	    sizeof rel) {
		pdx_set_error("%s: path too long", dir);
		goto out;
	}
	if (import_one(&k, rel, report, 0) < 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(k.ins_use);
	sqlite3_finalize(k.ins_rel);
	sqlite3_finalize(k.ins_fts);
	pdx_knowledge_files_free(files, nfiles > 0 ? nfiles : 0);
	return rc;
}

static json_t *
uses_json(struct pdx_db *d, const struct pdx_cport *cp, unsigned port,
    int protomask)
{
	static const char sql[] =
	    "SELECT port_lo, port_hi, protomask, kind, name, platform, years,"
	    " confidence, source, text, lead FROM uses INDEXED BY uses_port"
	    " WHERE port_lo BETWEEN ?1 - coalesce((SELECT CAST(value AS"
	    " INTEGER) FROM meta WHERE key = 'span.uses'), 65535) AND ?1"
	    " AND port_hi >= ?1 AND (protomask & ?2) != 0 ORDER BY id";
	struct pdx_rows st;
	json_t *a = json_array();

	if (pdx_rows_open(d, cp, PDX_CT_USES, sql, (int)port, protomask, &st) !=
	    0)
		return a;
	while (pdx_rows_step(&st) == 1) {
		json_t *t = json_array();
		int m = pdx_rows_int(&st, 2), i;

		for (i = 0; i < PDX_NPROTO; i++)
			if (m & (1 << i))
				json_array_append_new(t,
				    json_string(pdx_proto_name(1 << i)));
		json_array_append_new(a,
		    json_pack(
			"{s:i, s:i, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}",
			"port", pdx_rows_int(&st, 0), "port_hi",
			pdx_rows_int(&st, 1), "transports", t, "kind",
			pdx_rows_text(&st, 3), "name", pdx_rows_text(&st, 4),
			"platform", pdx_rows_text(&st, 5), "years",
			pdx_rows_text(&st, 6), "confidence",
			pdx_rows_text(&st, 7), "source", pdx_rows_text(&st, 8),
			"text", pdx_rows_text(&st, 9), "lead",
			pdx_rows_int(&st, 10)));
	}
	pdx_rows_end(&st);
	return a;
}

int
pdx_related_build(sqlite3 *db)
{
	static const char sql[] =
	    /*
	     * The related port is named by what it is in practice (its
	     * lead row: 8009 is Tomcat's AJP, not IANA's nvme-disc), else
	     * by its first IANA name.
	     */
	    "INSERT INTO related_by_port SELECT k_lo, k_hi, lo, hi,"
	    " coalesce((SELECT name FROM uses WHERE lead = 1 AND r.lo = r.hi"
	    "  AND port_lo <= r.lo AND port_hi >= r.lo ORDER BY"
	    "  port_hi - port_lo, (protomask & 1) DESC, id LIMIT 1),"
	    " (SELECT name FROM iana WHERE port_lo = r.lo"
	    "  AND name != '' ORDER BY id LIMIT 1), ''), reason, source FROM ("
	    " SELECT a_lo AS k_lo, a_hi AS k_hi, b_lo AS lo, b_hi AS hi,"
	    "  reason, source FROM related"
	    " UNION SELECT b_lo, b_hi, a_lo, a_hi, reason, source FROM related"
	    " UNION SELECT i.port_lo, i.port_hi, o.port_lo, o.port_hi,"
	    "  'same service name (' || o.name || ')', 'IANA registry'"
	    "  FROM iana i JOIN iana o ON o.name = i.name COLLATE NOCASE"
	    "  AND o.port_lo IS NOT NULL AND o.port_lo != i.port_lo"
	    "  WHERE i.port_lo = i.port_hi AND i.name != '') AS r"
	    " ORDER BY lo, hi, reason, source;"
	    /* the widest range of each table: see SPAN in card.c */
	    "INSERT OR REPLACE INTO meta SELECT 'span.iana',"
	    " coalesce(max(port_hi - port_lo), 0) FROM iana"
	    " WHERE port_lo IS NOT NULL;"
	    "INSERT OR REPLACE INTO meta SELECT 'span.services',"
	    " coalesce(max(port_hi - port_lo), 0) FROM services;"
	    "INSERT OR REPLACE INTO meta SELECT 'span.uses',"
	    " coalesce(max(port_hi - port_lo), 0) FROM uses;";
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pdx_set_error("related: %s",
		    msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static json_t *
related_json(struct pdx_db *d, const struct pdx_cport *cp, unsigned port)
{
	static const char sql[] =
	    "SELECT lo, hi, reason, source, service FROM related_by_port"
	    " NOT INDEXED WHERE k_lo <= ?1 AND k_hi >= ?1"
	    " ORDER BY rowid LIMIT 40";
	struct pdx_rows st;
	json_t *a = json_array();

	if (pdx_rows_open(d, cp, PDX_CT_RELATED, sql, (int)port, 0, &st) != 0)
		return a;
	while (pdx_rows_step(&st) == 1)
		json_array_append_new(a,
		    json_pack("{s:i, s:i, s:s, s:s, s:s}", "port",
			pdx_rows_int(&st, 0), "port_hi", pdx_rows_int(&st, 1),
			"service", pdx_rows_text(&st, 4), "reason",
			pdx_rows_text(&st, 2), "source",
			pdx_rows_text(&st, 3)));
	pdx_rows_end(&st);
	return a;
}

void
pdx_card_knowledge(struct pdx_db *d, const struct pdx_cport *cp, json_t *card,
    unsigned port, int protomask)
{
	json_t *t = json_object_get(card, "transports");
	size_t i;
	int worst = PDX_LEVEL_NONE;

	json_object_set_new(card, "uses", uses_json(d, cp, port, protomask));
	json_object_set_new(card, "related", related_json(d, cp, port));
	for (i = 0; i < json_array_size(t); i++) {
		json_t *tr = json_array_get(t, i), *r;
		int proto = pdx_proto_parse(
		    json_string_value(json_object_get(tr, "transport")));
		const char *sname = json_string_value(
		    json_object_get(tr, "status"));
		int st, lv;

		for (st = 0; st <= PDX_ST_ASSIGNED; st++)
			if (strcmp(pdx_status_name(st), sname) == 0)
				break;
		/* from a services file: IANA's status is not known */
		if (json_string_value(
			json_object_get(json_object_get(card, "registry"),
			    "primary")) != NULL &&
		    strcmp(json_string_value(
			       json_object_get(json_object_get(card,
						   "registry"),
				   "primary")),
			"services") == 0)
			st = PDX_ST_ASSIGNED;
		r = pdx_risk_assess(d, port, proto, st);
		lv = pdx_level_parse(
		    json_string_value(json_object_get(r, "level")));
		if (lv > worst)
			worst = lv;
		json_object_set_new(tr, "risk", r);
	}
	json_object_set_new(card, "risk",
	    json_pack("{s:s}", "level", pdx_level_name(worst)));
}

int
pdx_curated_ports(struct pdx_db *db, unsigned max_span, uint8_t *mask)
{
	sqlite3_stmt *st;
	int rc;

	memset(mask, 0, 65536);
	if (!pdx_db_has_table(db, "uses"))
		return 0; /* a registry without curated knowledge */
	if (pdx_db_prepare(db,
		"SELECT port_lo, port_hi, protomask FROM uses"
		" WHERE port_hi - port_lo < ?",
		&st) != 0)
		return -1;
	sqlite3_bind_int(st, 1, (int)(max_span > INT_MAX ? INT_MAX : max_span));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int lo = sqlite3_column_int(st, 0),
		    hi = sqlite3_column_int(st, 1),
		    m = sqlite3_column_int(st, 2), p;

		if (lo < 0 || hi > 65535)
			continue;
		for (p = lo; p <= hi; p++)
			mask[p] |= (uint8_t)(m == 0 ? 0xff : m);
	}
	if (rc != SQLITE_DONE)
		pdx_set_error("curated uses: %s", sqlite3_errstr(rc));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
