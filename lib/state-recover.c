/*
 * state-recover.c - checking and salvaging the state database: `state
 * check` (PRAGMA integrity_check, the schema version, row counts) and
 * `state recover`, which copies every row that can still be read from a
 * damaged file into a new database, table by table and row by row (the
 * SQLite library Debian ships has no recovery API: that extension lives
 * in the sqlite3 shell), keeps the damaged file beside it with a
 * timestamp and reports what was saved.  Opening and the schema are
 * state.c's.
 *
 * A table that cannot be read whole (its schema row on page 1 or its root
 * page overwritten) is then looked for page by page: each b-tree page of
 * the file's kind is read as the root of a table declared like it, on a
 * copy in memory whose page 1 is a new schema naming those pages, and the
 * rows whose types fit the table are kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"

/*
 * The tables worth saving, their key and columns (schema version 4; a
 * file of schema 3 has rows in audit_run_listeners and no audit_spans:
 * those rows are converted to spans after the salvage).
 */
static const struct table {
	const char *name;
	const char *key; /* ordering key, unique */
	const char *cols;
	int rowid; /* key is the rowid: gaps can be skipped */
	int since; /* schema version that added it */
	/*
	 * What a row of this table is, by its values' types: a page of
	 * another table or index read as this one fails it (each pair of
	 * tables differs in the type of one of the first columns).
	 */
	const char *fits;
} tables[] = {
	{ "notes", "id", "id, port, proto, text, author, created", 1, 0,
	    "typeof(port) = 'integer' AND port BETWEEN 0 AND 65535 AND"
	    " typeof(proto) = 'integer' AND typeof(text) = 'text' AND"
	    " typeof(author) = 'text' AND typeof(created) = 'text'" },
	{ "audit_baseline", "proto, address, port",
	    "proto, address, port, process, user, saved", 0, 0,
	    "typeof(proto) = 'integer' AND typeof(address) = 'text' AND"
	    " typeof(port) = 'integer' AND typeof(process) = 'text' AND"
	    " typeof(user) = 'text' AND typeof(saved) = 'integer'" },
	{ "votes", "port, choice", "port, choice, count", 0, 0,
	    "typeof(port) = 'integer' AND choice IN ('sad', 'meh', 'happy')"
	    " AND typeof(count) = 'integer'" },
	{ "vote_clients", "rowid", "rowid, client, port, at", 1, 0,
	    "typeof(client) = 'text' AND typeof(port) = 'integer' AND"
	    " typeof(at) = 'integer'" },
	{ "audit_kv", "key", "key, value", 0, 0,
	    "typeof(key) = 'text' AND typeof(value) = 'text'" },
	{ "audit_runs", "id",
	    "id, at, scope, listeners, findings, worst,"
	    " complete",
	    1, 0,
	    "typeof(at) = 'integer' AND typeof(scope) = 'text' AND"
	    " typeof(listeners) = 'integer' AND typeof(findings) = 'integer'"
	    " AND typeof(worst) = 'text' AND typeof(complete) = 'integer'" },
	{ "audit_run_listeners", "run, proto, address, port",
	    "run, proto, address, port, process, user", 0, 0,
	    "typeof(run) = 'integer' AND typeof(proto) = 'integer' AND"
	    " typeof(address) = 'text' AND typeof(port) = 'integer' AND"
	    " typeof(process) = 'text' AND typeof(user) = 'text'" },
	{ "audit_spans", "proto, address, port, first_run",
	    "proto, address, port, first_run, last_run, process, user", 0, 4,
	    "typeof(proto) = 'integer' AND typeof(address) = 'text' AND"
	    " typeof(port) = 'integer' AND typeof(first_run) = 'integer' AND"
	    " typeof(last_run) IN ('integer', 'null') AND"
	    " typeof(process) = 'text' AND typeof(user) = 'text'" },
};
#define NTABLES (sizeof tables / sizeof *tables)

static sqlite3 *
open_ro(const char *path)
{
	sqlite3 *db = NULL;

	if (access(path, R_OK) != 0) {
		pdx_set_error("%s: cannot be read: %s", path, strerror(errno));
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		pdx_set_error("%s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	/*
	 * Read past what a normal open refuses (a file cut shorter than its
	 * header says): the connection is read-only, nothing is written.
	 */
	sqlite3_exec(db, "PRAGMA writable_schema=ON", NULL, NULL, NULL);
	return db;
}

/* One integer from sql, or -1 (errmsg in db). */
static long long
scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
has_table(sqlite3 *db, const char *name)
{
	char sql[160];

	long long n;

	snprintf(sql, sizeof sql,
	    "SELECT count(*) FROM sqlite_master WHERE"
	    " type = 'table' AND name = '%s'",
	    name);
	n = scalar(db, sql);
	return n < 0 ? -1 : n > 0; /* -1: the schema cannot be read */
}

/* Whether the schema parses without writable_schema's leniency. */
static int
schema_clean(const char *path)
{
	sqlite3 *db = NULL;
	int ok;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	sqlite3_busy_timeout(db, 10000);
	ok = scalar(db, "SELECT count(*) FROM sqlite_master") >= 0;
	sqlite3_close(db);
	return ok;
}

json_t *
pdx_state_check(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *r, *msgs;
	struct stat sb;
	long long v;
	int rc, ok = 1;

	if (stat(path, &sb) != 0) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((db = open_ro(path)) == NULL)
		return NULL;
	r = json_pack("{s:s, s:I}", "file", path, "bytes",
	    (json_int_t)sb.st_size);
	msgs = json_array();
	if (sb.st_size == 0) {
		json_array_append_new(msgs,
		    json_string("the file is empty "
				"(0 bytes): whatever it held is gone"));
		ok = 0;
	} else if ((rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(50)",
			-1, &st, NULL)) != SQLITE_OK) {
		json_array_append_new(msgs, json_string(sqlite3_errmsg(db)));
		ok = 0;
	} else {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *m = (const char *)sqlite3_column_text(st,
			    0);

			if (m != NULL && strcmp(m, "ok") != 0) {
				json_array_append_new(msgs, json_string(m));
				ok = 0;
			}
		}
		if (rc != SQLITE_DONE) {
			json_array_append_new(msgs,
			    json_string(sqlite3_errmsg(db)));
			ok = 0;
		}
		sqlite3_finalize(st);
	}
	json_object_set_new(r, "integrity", msgs);
	v = scalar(db, "PRAGMA user_version");
	json_object_set_new(r, "schema", json_integer(v));
	json_object_set_new(r, "schema_known",
	    json_integer(pdx_state_schema_version()));
	if (v > pdx_state_schema_version())
		ok = 0;
	if (sb.st_size > 0 && has_table(db, "notes") == 0 &&
	    schema_clean(path)) {
		json_object_set_new(r, "portdex", json_false());
		ok = 0;
	} else if (sb.st_size > 0 && has_table(db, "notes") == 0) {
		/* page 1 overwritten: recover looks for the rows page by page */
		json_array_append_new(msgs,
		    json_string("the schema cannot be read whole: the notes"
				" table's entry is lost"));
		json_object_set_new(r, "portdex", json_true());
		ok = 0;
	} else
		json_object_set_new(r, "portdex", json_boolean(sb.st_size > 0));
	if (has_table(db, "notes") > 0)
		json_object_set_new(r, "notes",
		    json_integer(scalar(db, "SELECT count(*) FROM notes")));
	if (has_table(db, "audit_baseline") > 0)
		json_object_set_new(r, "baseline",
		    json_integer(
			scalar(db, "SELECT count(*) FROM audit_baseline")));
	if (has_table(db, "votes") > 0)
		json_object_set_new(r, "votes",
		    json_integer(scalar(db,
			"SELECT coalesce(sum(count), 0) FROM votes")));
	json_object_set_new(r, "ok", json_boolean(ok));
	sqlite3_close(db);
	return r;
}

/* Copies the current row of from into ins (same column count). */
static int
copy_row(sqlite3_stmt *from, sqlite3_stmt *ins)
{
	int i, n = sqlite3_column_count(from);

	/*
	 * A text with a NUL byte is a page cut short or overwritten (no
	 * portdex text holds one): that row is lost, not half-saved.
	 */
	for (i = 0; i < n; i++)
		if (sqlite3_column_type(from, i) == SQLITE_TEXT &&
		    strlen((const char *)sqlite3_column_text(from, i)) !=
			(size_t)sqlite3_column_bytes(from, i))
			return 0;
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
	for (i = 0; i < n; i++)
		sqlite3_bind_value(ins, i + 1, sqlite3_column_value(from, i));
	return sqlite3_step(ins) == SQLITE_DONE &&
	    sqlite3_changes(sqlite3_db_handle(ins)) > 0;
}

/*
 * Reads rows of sql (bound ?1 = after, for rowid scans) until the end or
 * the first error; returns rows saved, *err set when it stopped early,
 * *last the last rowid read.
 */
static long long
scan(sqlite3 *src, const char *sql, long long after, sqlite3_stmt *ins,
    int *err, long long *last)
{
	sqlite3_stmt *st;
	long long saved = 0;
	int rc;

	*err = 0;
	if (sqlite3_prepare_v2(src, sql, -1, &st, NULL) != SQLITE_OK) {
		*err = 1;
		return 0;
	}
	sqlite3_bind_int64(st, 1, after);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (last != NULL)
			*last = sqlite3_column_int64(st, 0);
		saved += copy_row(st, ins);
	}
	if (rc != SQLITE_DONE)
		*err = 1;
	sqlite3_finalize(st);
	return saved;
}

/* Salvages one table; returns the rows saved, *lost set on damage. */
static long long
salvage(sqlite3 *src, sqlite3 *dst, const struct table *t, int *lost)
{
	sqlite3_stmt *ins;
	char sql[512], isql[512], marks[64] = "";
	long long saved = 0, last = -1, gap;
	int err, i, ncols = 1;
	const char *c;

	if ((i = has_table(src, t->name)) <= 0) {
		/* a table newer than the file's schema was never there */
		if (i < 0 || t->since == 0 ||
		    scalar(src, "PRAGMA user_version") >= t->since)
			*lost = 1;
		return 0;
	}
	for (c = t->cols; *c != '\0'; c++)
		ncols += *c == ',';
	for (i = 0; i < ncols; i++)
		strcat(marks, i > 0 ? ",?" : "?");
	snprintf(isql, sizeof isql, "INSERT OR IGNORE INTO %s(%s) VALUES (%s)",
	    t->name, t->cols, marks);
	if (sqlite3_prepare_v2(dst, isql, -1, &ins, NULL) != SQLITE_OK)
		return 0;
	if (t->rowid) {
		/* forward; past a damaged run of rows, jump ever further */
		snprintf(sql, sizeof sql,
		    "SELECT %s FROM %s WHERE %s > ?1"
		    " ORDER BY %s",
		    t->cols, t->name, t->key, t->key);
		saved += scan(src, sql, last, ins, &err, &last);
		for (gap = 1; err && gap <= (1LL << 24);) {
			long long before = last;

			*lost = 1;
			saved += scan(src, sql, before + gap, ins, &err, &last);
			if (!err)
				break;
			gap = last > before ? 1 : gap * 2;
		}
	} else {
		snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s",
		    t->cols, t->name, t->key);
		saved += scan(src, sql, 0, ins, &err, NULL);
	}
	if (err) {
		char desc[256], *p, keys[160];

		/* the rows after the damage, read from the other end */
		*lost = 1;
		snprintf(keys, sizeof keys, "%s", t->key);
		desc[0] = '\0';
		for (p = strtok(keys, ", "); p != NULL;
		     p = strtok(NULL, ", ")) {
			if (desc[0] != '\0')
				strcat(desc, ", ");
			strcat(desc, p);
			strcat(desc, " DESC");
		}
		snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s",
		    t->cols, t->name, desc);
		saved += scan(src, sql, 0, ins, &err, NULL);
	}
	sqlite3_finalize(ins);
	return saved;
}

/* The b-tree page kinds (SQLite's file format, 1.6). */
#define PG_INDEX_INTERIOR 0x02
#define PG_INDEX_LEAF 0x0a
#define PG_TABLE_LEAF 0x0d
#define PROBE_MAX 64 /* tables in one probe schema, at most */

struct probe {
	unsigned page;
	size_t table;
};

/* The file read whole into memory; NULL with the error set. */
static unsigned char *
read_whole(const char *path, size_t *len)
{
	unsigned char *buf;
	struct stat sb;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		pdx_set_error("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		pdx_set_error("out of memory");
		close(fd);
		return NULL;
	}
	while (got < (size_t)sb.st_size &&
	    (n = read(fd, buf + got, (size_t)sb.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	*len = got;
	return buf;
}

static void
put_be32(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/*
 * Writes over page 1 of img a schema that declares, for each probe, a
 * table p<i> like its table (ddl[], the new database's own) rooted at the
 * probe's page.  0, or -1 when that schema does not fit on one page.
 */
static int
probe_schema(unsigned char *img, unsigned psize, unsigned npages,
    const struct probe *pr, size_t n, char *const ddl[])
{
	sqlite3 *m = NULL;
	sqlite3_stmt *ins = NULL;
	unsigned char *ser = NULL;
	sqlite3_int64 sz = 0;
	char sql[64], *create;
	size_t i;
	int ok = 0;

	if (sqlite3_open_v2(":memory:", &m, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		goto done;
	snprintf(sql, sizeof sql, "PRAGMA page_size=%u", psize);
	if (sqlite3_exec(m, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(m,
		"CREATE TABLE t(x); DROP TABLE t;"
		" PRAGMA writable_schema=ON",
		NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(m,
		"INSERT INTO sqlite_master VALUES ('table', ?1, ?1, ?2,"
		" 'CREATE TABLE ' || ?1 || ?3)",
		-1, &ins, NULL) != SQLITE_OK)
		goto done;
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof sql, "p%zu", i);
		create = strchr(ddl[pr[i].table], '(');
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, sql, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 2, pr[i].page);
		sqlite3_bind_text(ins, 3, create, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto done;
	}
	/* page 1 must hold the whole schema: a leaf, and nothing else */
	ser = sqlite3_serialize(m, "main", &sz, 0);
	if (ser == NULL || sz < (sqlite3_int64)psize ||
	    ser[100] != PG_TABLE_LEAF)
		goto done;
	memcpy(img, ser, psize);
	put_be32(img + 28, npages);    /* the pages the copy has */
	memcpy(img + 92, img + 24, 4); /* ... and that count holds */
	memset(img + 32, 0, 8);	       /* no free list */
	ok = 1;
done:
	sqlite3_free(ser);
	sqlite3_finalize(ins);
	sqlite3_close(m);
	return ok ? 0 : -1;
}

/*
 * Reads each b-tree page of a needed table's kind as that table's root
 * (rowid tables: table leaves; the others, index pages) and saves the
 * rows that fit it; adds to saved[] per table.  The damaged file is read
 * into memory once; only its page 1 changes, batch by batch.
 */
static void
salvage_pages(const char *path, sqlite3 *src, sqlite3 *dst, const int need[],
    long long saved[])
{
	sqlite3_stmt *ins[NTABLES] = { 0 }, *st;
	char *ddl[NTABLES] = { 0 }, sql[1024];
	struct probe *pr = NULL;
	unsigned char *img;
	size_t len, i, n = 0, at, k;
	long long psize = scalar(src, "PRAGMA page_size");
	unsigned npages, p;
	int err;

	/* a header too damaged to say: portdex's page size, SQLite's default */
	if (psize < 512 || psize > 65536 || (psize & (psize - 1)) != 0)
		psize = 4096;
	if ((img = read_whole(path, &len)) == NULL || len < 2 * (size_t)psize)
		goto done;
	npages = (unsigned)(len / (size_t)psize);
	for (i = 0; i < NTABLES; i++) {
		char isql[512], marks[64] = "";
		const char *c;
		int ncols = 1;

		if (!need[i])
			continue;
		if (sqlite3_prepare_v2(dst,
			"SELECT sql FROM sqlite_master WHERE type = 'table'"
			" AND name = ?1",
			-1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, tables[i].name, -1,
			    SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW &&
			    sqlite3_column_text(st, 0) != NULL &&
			    strchr((const char *)sqlite3_column_text(st, 0),
				'(') != NULL)
				ddl[i] = strdup(
				    (const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		for (c = tables[i].cols; *c != '\0'; c++)
			ncols += *c == ',';
		for (k = 0; k < (size_t)ncols; k++)
			strcat(marks, k > 0 ? ",?" : "?");
		snprintf(isql, sizeof isql,
		    "INSERT OR IGNORE INTO %s(%s) VALUES (%s)", tables[i].name,
		    tables[i].cols, marks);
		if (ddl[i] == NULL ||
		    sqlite3_prepare_v2(dst, isql, -1, &ins[i], NULL) !=
			SQLITE_OK) {
			free(ddl[i]);
			ddl[i] = NULL;
		}
	}
	if ((pr = malloc((size_t)npages * NTABLES * sizeof *pr)) == NULL)
		goto done;
	for (p = 2; p <= npages; p++) {
		unsigned char kind = img[(size_t)(p - 1) * (size_t)psize];

		for (i = 0; i < NTABLES; i++)
			if (ddl[i] != NULL &&
			    (tables[i].rowid ? kind == PG_TABLE_LEAF
					     : kind == PG_INDEX_LEAF ||
					kind == PG_INDEX_INTERIOR))
				pr[n++] = (struct probe){ p, i };
	}
	for (at = 0; at < n; at += k) {
		sqlite3 *r = NULL;

		k = n - at < PROBE_MAX ? n - at : PROBE_MAX;
		while (k > 1 &&
		    probe_schema(img, (unsigned)psize, npages, pr + at, k,
			ddl) != 0)
			k /= 2;
		if (k == 1 &&
		    probe_schema(img, (unsigned)psize, npages, pr + at, 1,
			ddl) != 0)
			continue;
		if (sqlite3_open_v2(":memory:", &r, SQLITE_OPEN_READWRITE,
			NULL) != SQLITE_OK ||
		    sqlite3_deserialize(r, "main", img, (sqlite3_int64)len,
			(sqlite3_int64)len,
			SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
			sqlite3_close(r);
			continue;
		}
		for (i = 0; i < k; i++) {
			const struct table *t = &tables[pr[at + i].table];

			snprintf(sql, sizeof sql,
			    "SELECT %s FROM p%zu WHERE %s", t->cols, i,
			    t->fits);
			saved[pr[at + i].table] += scan(r, sql, 0,
			    ins[pr[at + i].table], &err, NULL);
		}
		sqlite3_close(r);
	}
done:
	for (i = 0; i < NTABLES; i++) {
		sqlite3_finalize(ins[i]);
		free(ddl[i]);
	}
	free(pr);
	free(img);
}

static int
move_aside(const char *from, const char *to)
{
	if (rename(from, to) != 0 && errno != ENOENT) {
		pdx_set_error("%s: cannot move it to %s: %s", from, to,
		    strerror(errno));
		return -1;
	}
	return 0;
}

json_t *
pdx_state_recover(const char *path)
{
	static const char *const sides[] = { "-journal", "-wal", "-shm" };
	struct pdx_state *ns;
	sqlite3 *src, *dst;
	json_t *r, *saved;
	long long counts[NTABLES];
	int need[NTABLES], scan_pages = 0;
	char tmp[PATH_MAX], aside[PATH_MAX], a2[PATH_MAX + 16],
	    s2[PATH_MAX + 16], when[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int lost = 0;

	if ((src = open_ro(path)) == NULL)
		return NULL;
	/*
	 * Another program's database is not ours to replace: a schema that
	 * reads cleanly and has no notes table.  One that does not read
	 * cleanly may have lost the notes table's row (page 1 overwritten).
	 */
	if (scalar(src, "SELECT count(*) FROM sqlite_master") > 0 &&
	    has_table(src, "notes") == 0 && schema_clean(path)) {
		pdx_set_error(
		    "%s: not a portdex state database (it has no "
		    "notes table): nothing to recover; name the right file "
		    "with --state",
		    path);
		sqlite3_close(src);
		return NULL;
	}
	if (scalar(src, "PRAGMA user_version") > pdx_state_schema_version()) {
		pdx_set_error(
		    "%s: schema version %lld is newer than this "
		    "portdex knows (%d); recover it with a newer portdex",
		    path, scalar(src, "PRAGMA user_version"),
		    pdx_state_schema_version());
		sqlite3_close(src);
		return NULL;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
	if (snprintf(tmp, sizeof tmp, "%s.recovering", path) >=
		(int)sizeof tmp ||
	    snprintf(aside, sizeof aside, "%s.damaged-%s", path, when) >=
		(int)sizeof aside) {
		pdx_set_error("%s: path too long", path);
		sqlite3_close(src);
		return NULL;
	}
	unlink(tmp);
	if ((ns = pdx_state_open(tmp)) == NULL) {
		sqlite3_close(src);
		return NULL;
	}
	dst = pdx_state_handle(ns);
	sqlite3_exec(dst, "BEGIN", NULL, NULL, NULL);
	saved = json_object();
	for (i = 0; i < NTABLES; i++) {
		need[i] = 0;
		counts[i] = salvage(src, dst, &tables[i], &need[i]);
		scan_pages |= need[i];
	}
	/* what the tables' own trees could not give, page by page */
	if (scan_pages)
		salvage_pages(path, src, dst, need, counts);
	for (i = 0; i < NTABLES; i++) {
		lost |= need[i];
		json_object_set_new(saved, tables[i].name,
		    json_integer(counts[i]));
	}
	sqlite3_close(src);
	json_object_set_new(saved, "votes_cast",
	    json_integer(
		scalar(dst, "SELECT coalesce(sum(count), 0) FROM votes")));
	/*
	 * Run listeners whose run was lost cannot stand alone; an older
	 * file's become spans; spans that hold no run kept are dropped.
	 */
	sqlite3_exec(dst,
	    "DELETE FROM audit_run_listeners WHERE run NOT IN"
	    " (SELECT id FROM audit_runs)",
	    NULL, NULL, NULL);
	sqlite3_exec(dst, PDX_AUDIT_SPANS_FROM_ROWS, NULL, NULL, NULL);
	sqlite3_exec(dst, "DELETE FROM audit_run_listeners", NULL, NULL, NULL);
	/* the open spans' digest may not hold for what was saved */
	sqlite3_exec(dst, "DELETE FROM audit_kv WHERE key = 'spans_digest'",
	    NULL, NULL, NULL);
	sqlite3_exec(dst,
	    "DELETE FROM audit_spans WHERE NOT EXISTS (SELECT 1"
	    " FROM audit_runs r WHERE r.id >= first_run AND r.id <="
	    " COALESCE(last_run, 9223372036854775807))",
	    NULL, NULL, NULL);
	if (sqlite3_exec(dst, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", tmp, sqlite3_errmsg(dst));
		pdx_state_close(ns);
		unlink(tmp);
		json_decref(saved);
		return NULL;
	}
	pdx_state_close(ns);
	/* the damaged file and whatever journal it had, kept together */
	if (move_aside(path, aside) != 0) {
		unlink(tmp);
		json_decref(saved);
		return NULL;
	}
	for (i = 0; i < sizeof sides / sizeof *sides; i++) {
		snprintf(a2, sizeof a2, "%s%s", aside, sides[i]);
		snprintf(s2, sizeof s2, "%s%s", path, sides[i]);
		move_aside(s2, a2);
	}
	if (rename(tmp, path) != 0) {
		pdx_set_error("%s: cannot put the recovered database in place:"
			      " %s (it is %s; the damaged one is %s)",
		    path, strerror(errno), tmp, aside);
		json_decref(saved);
		return NULL;
	}
	r = json_pack("{s:s, s:s, s:o, s:b}", "file", path, "damaged_copy",
	    aside, "saved", saved, "lost_rows", lost);
	return r;
}
