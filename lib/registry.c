/*
 * registry.c - reading the registry database: opening it read-only, the
 * default locations, meta values, the compact per-port brief table, RPC
 * names, name lookups, full-text search and export.  Building the database
 * is registry-build.c's job; the card model is card.c's.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "registry-int.h"

#ifndef PDX_DATADIR
#define PDX_DATADIR "/usr/local/share/portdex"
#endif

static int
exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *
pdx_default_db_path(int for_write)
{
	static char buf[PATH_MAX];
	const char *e, *home;
	char user[PATH_MAX] = "";

	if ((e = getenv("PORTDEX_DB")) != NULL && *e != '\0')
		return e;
	if ((e = getenv("XDG_DATA_HOME")) != NULL && *e == '/')
		snprintf(user, sizeof user, "%s/portdex/registry.db", e);
	else if ((home = getenv("HOME")) != NULL && *home == '/')
		snprintf(user, sizeof user,
		    "%s/.local/share/portdex/registry.db", home);
	if (user[0] != '\0' && (for_write || exists(user))) {
		snprintf(buf, sizeof buf, "%s", user);
		return buf;
	}
	if (!for_write || user[0] == '\0') {
		snprintf(buf, sizeof buf, "%s/registry.db", PDX_DATADIR);
		if (exists(buf) || user[0] == '\0')
			return buf;
	}
	snprintf(buf, sizeof buf, "%s", user);
	return buf;
}

/*
 * "file:PATH?immutable=1" with PATH escaped for a URI.  The registry is
 * never written in place (update builds a new file and renames it over
 * the old one, and an open handle keeps reading the file it opened), so
 * sqlite may skip its file locks and the change-counter check it does
 * before every statement.  Returns malloc'd text the caller frees.
 */
static char *
immutable_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *u = malloc(n * 3 + 32), *o;

	if (u == NULL)
		return NULL;
	/* "file:///abs" (empty authority) or "file:rel" */
	o = u + sprintf(u, "%s", path[0] == '/' ? "file://" : "file:");
	for (; *path != '\0'; path++) {
		unsigned char c = (unsigned char)*path;

		if (c == '%' || c == '?' || c == '#') {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else
			*o++ = (char)c;
	}
	strcpy(o, "?immutable=1");
	return u;
}

/* Opens d->path with SQLite and checks it is a registry of our format. */
static int
db_connect(struct pdx_db *d)
{
	const char *path = d->path;
	sqlite3_stmt *st;
	char *uri;
	int ok, rc, schema;

	if ((uri = immutable_uri(path)) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	rc = sqlite3_open_v2(uri, &d->db,
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		pdx_set_error("%s: %s", path,
		    d->db != NULL ? sqlite3_errmsg(d->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(d->db, 2000);
	/* A file that is not our registry must say so, not fail later. */
	ok = sqlite3_prepare_v2(d->db,
		 "SELECT value FROM meta WHERE key = "
		 "'schema'",
		 -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW;
	schema = ok ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (ok && schema != PDX_REGISTRY_SCHEMA) {
		pdx_set_error("%s: registry format %d, this portdex reads "
			      "format %d; run 'portdex update' to rebuild it",
		    path, schema, PDX_REGISTRY_SCHEMA);
		goto fail;
	}
	if (!ok) {
		pdx_set_error("%s: not a portdex registry database (or a "
			      "damaged one): %s; run 'portdex update'",
		    path, sqlite3_errmsg(d->db));
		goto fail;
	}
	return 0;
fail:
	if (d->db != NULL)
		sqlite3_close(d->db);
	d->db = NULL;
	return -1;
}

/* The SQLite connection, opened now when the handle began without it. */
static int
db_need(struct pdx_db *d)
{
	return d->db != NULL ? 0 : db_connect(d);
}

static struct pdx_db *
db_new(const char *path)
{
	struct pdx_db *d;

	if (path == NULL || !exists(path)) {
		pdx_set_error("no registry database at %s (run 'portdex "
			      "update' to build it)",
		    path != NULL ? path : "(none)");
		return NULL;
	}
	if ((d = calloc(1, sizeof *d)) == NULL ||
	    (d->path = strdup(path)) == NULL) {
		free(d);
		pdx_set_error("out of memory");
		return NULL;
	}
	return d;
}

struct pdx_db *
pdx_db_open(const char *path)
{
	struct pdx_db *d;

	if ((d = db_new(path)) == NULL)
		return NULL;
	if (db_connect(d) != 0) {
		pdx_db_close(d);
		return NULL;
	}
	return d;
}

struct pdx_db *
pdx_db_open_brief(const char *path)
{
	struct pdx_db *d;
	struct pdx_regid id;
	char *bpath;
	int rc;

	if ((d = db_new(path)) == NULL)
		return NULL;
	if (pdx_regid_read(path, &id) == 0 &&
	    asprintf(&bpath, "%s.brief", path) >= 0) {
		rc = pdx_bfile_open(bpath, &id, &d->bf);
		free(bpath);
		if (rc == PDX_BF_OK)
			return d;
		if (rc == PDX_BF_BAD)
			d->bf_note = strdup(pdx_last_error());
	}
	d->bf_why = strdup(pdx_last_error());
	if (db_connect(d) != 0) {
		pdx_db_close(d);
		return NULL;
	}
	return d;
}

struct pdx_db *
pdx_db_open_card(const char *path)
{
	struct pdx_db *d;
	struct pdx_regid id;
	char *p;
	int rc;

	if ((d = db_new(path)) == NULL)
		return NULL;
	/*
	 * The card file vouches for the registry (made from this very file,
	 * in this format): SQLite is opened on the first other need.  The
	 * brief file gives the risk facts.  Without both: pdx_db_open().
	 */
	if (pdx_regid_read(path, &id) == 0) {
		if (asprintf(&p, "%s.card", path) >= 0) {
			rc = pdx_cfile_open(p, &id, &d->cf);
			free(p);
			if (rc == PDX_BF_BAD)
				d->cf_note = strdup(pdx_last_error());
		}
		if (d->cf != NULL && asprintf(&p, "%s.brief", path) >= 0) {
			rc = pdx_bfile_open(p, &id, &d->bf);
			free(p);
			if (rc == PDX_BF_BAD)
				d->bf_note = strdup(pdx_last_error());
		}
		if (d->cf != NULL && d->bf != NULL)
			return d;
	}
	pdx_cfile_close(d->cf);
	d->cf = NULL;
	if (db_connect(d) != 0) {
		pdx_db_close(d);
		return NULL;
	}
	return d;
}

const struct pdx_cport *
pdx_db_card_rows(struct pdx_db *d, unsigned port, struct pdx_cport *buf)
{
	if (d->cf == NULL)
		return NULL;
	if (pdx_cfile_port(d->cf, port, buf) == 0)
		return buf;
	/* damaged: the registry answers from now on; say why once */
	if (d->cf_note == NULL)
		d->cf_note = strdup(pdx_last_error());
	pdx_cfile_close(d->cf);
	d->cf = NULL;
	return NULL;
}

const char *
pdx_db_card_note(struct pdx_db *d)
{
	return d != NULL ? d->cf_note : NULL;
}

const char *
pdx_db_brief_note(struct pdx_db *d)
{
	return d != NULL ? d->bf_note : NULL;
}

int
pdx_db_brief_used(struct pdx_db *d, const char **why)
{
	*why = d->bf_note != NULL ? d->bf_note
	    : d->bf_why != NULL	  ? d->bf_why
				  : "opened without it";
	return d->bf != NULL;
}

void
pdx_db_close(struct pdx_db *d)
{
	size_t k;
	int i;

	if (d == NULL)
		return;
	if (d->brief_blob != NULL)
		sqlite3_blob_close(d->brief_blob);
	if (d->names_blob != NULL)
		sqlite3_blob_close(d->names_blob);
	for (i = 0; i < PDX_NPROTO; i++)
		for (k = 0; k < PDX_BRIEF_ROWS; k++)
			free(d->brief[i][k]);
	for (k = 0; k < d->nnames_rows; k++)
		free(d->names[k].data);
	free(d->names);
	if (d->db != NULL)
		sqlite3_close(d->db);
	pdx_bfile_close(d->bf);
	pdx_bfile_close(d->bf_dead);
	pdx_cfile_close(d->cf);
	free(d->cf_note);
	free(d->bf_note);
	free(d->bf_why);
	free(d->meta_buf);
	free(d->rpc_name);
	free(d->rpc_aliases);
	free(d->path);
	free(d);
}

sqlite3 *
pdx_db_handle(struct pdx_db *d)
{
	return db_need(d) == 0 ? d->db : NULL;
}

/*
 * No allocation statistics, which cost a mutex and a counter update per
 * allocation (opening the registry and compiling statements is most of a
 * card's time); no page cache allocated in bulk ahead of use (20 pages,
 * 90 kB of fresh memory, each 4 kB of it a page fault): a command reads a
 * few pages, mostly from the mapped file (PRAGMA mmap_size).
 */
void
pdx_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

int
pdx_sqlite_has_table(sqlite3 *db, const char *name)
{
	return db != NULL &&
	    sqlite3_table_column_metadata(db, "main", name, NULL, NULL, NULL,
		NULL, NULL, NULL) == SQLITE_OK;
}

long long
pdx_registry_rows(struct pdx_db *d)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (pdx_db_prepare(d, "SELECT count(*) FROM iana", &st) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		pdx_set_error("%s: %s", d->path, sqlite3_errmsg(d->db));
	sqlite3_finalize(st);
	return n;
}

int
pdx_db_no_temp_files(struct pdx_db *d)
{
	sqlite3 *h = pdx_db_handle(d);

	if (h == NULL)
		return -1;
	if (sqlite3_exec(h, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		pdx_set_error("%s: %s", d->path, sqlite3_errmsg(h));
		return -1;
	}
	return 0;
}

int
pdx_db_prepare(struct pdx_db *d, const char *sql, sqlite3_stmt **st)
{
	*st = NULL;
	if (db_need(d) != 0)
		return -1;
	if (sqlite3_prepare_v2(d->db, sql, -1, st, NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", d->path, sqlite3_errmsg(d->db));
		return -1;
	}
	return 0;
}

const char *
pdx_db_meta(struct pdx_db *d, const char *key)
{
	sqlite3_stmt *st;

	free(d->meta_buf);
	d->meta_buf = NULL;
	if (pdx_db_prepare(d, "SELECT value FROM meta WHERE key = ?", &st) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL) /* NULL: a damaged file */
		d->meta_buf = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return d->meta_buf;
}

/*
 * Reads row id of table ("brief" or "brief_names") through *h, opened on
 * first use and moved to the row after; a malloc'd copy of its data (with
 * a NUL after it) in *out and its size in *len.
 */
static int
read_row(struct pdx_db *d, sqlite3_blob **h, const char *table,
    sqlite3_int64 id, char **out, int *len)
{
	int rc;

	if (db_need(d) != 0)
		return -1;
	if (*h == NULL)
		rc = sqlite3_blob_open(d->db, "main", table, "data", id, 0, h);
	else
		rc = sqlite3_blob_reopen(*h, id);
	if (rc != SQLITE_OK) {
		pdx_set_error("%s: damaged %s table (row %lld): %s", d->path,
		    table, (long long)id, sqlite3_errmsg(d->db));
		if (*h != NULL)
			sqlite3_blob_close(*h);
		*h = NULL;
		return -1;
	}
	*len = sqlite3_blob_bytes(*h);
	if (*len < 0 || *len > (1 << 20) ||
	    (*out = malloc((size_t)*len + 1)) == NULL) {
		pdx_set_error("%s: damaged %s table (row %lld)", d->path, table,
		    (long long)id);
		return -1;
	}
	if (sqlite3_blob_read(*h, *out, *len, 0) != SQLITE_OK) {
		pdx_set_error("%s: %s", d->path, sqlite3_errmsg(d->db));
		free(*out);
		*out = NULL;
		return -1;
	}
	(*out)[*len] = '\0';
	return 0;
}

/*
 * Stops reading the brief file after a failed read, noting why; it stays
 * allocated (names it gave out stay valid) until the handle is closed.
 */
static void
bfile_drop(struct pdx_db *d)
{
	if (d->bf_note == NULL)
		d->bf_note = strdup(pdx_last_error());
	d->bf_dead = d->bf;
	d->bf = NULL;
}

/* Name index nid of brief_names, "" when the index is past its end. */
static int
brief_name(struct pdx_db *d, unsigned nid, const char **name)
{
	size_t r = nid / PDX_NAMES_ROW;
	struct pdx_names_row *row;
	char *p, *end;
	int len;

	*name = "";
	if (r >= d->nnames_rows) {
		size_t n = r + 1 > d->nnames_rows * 2 ? r + 1
						      : d->nnames_rows * 2;
		struct pdx_names_row *nr;

		if (r > 65536 / PDX_NAMES_ROW ||
		    (nr = realloc(d->names, n * sizeof *nr)) == NULL) {
			pdx_set_error("%s: damaged name table", d->path);
			return -1;
		}
		memset(nr + d->nnames_rows, 0,
		    (n - d->nnames_rows) * sizeof *nr);
		d->names = nr;
		d->nnames_rows = n;
	}
	row = &d->names[r];
	if (row->data == NULL) {
		if (read_row(d, &d->names_blob, "brief_names", (sqlite3_int64)r,
			&row->data, &len) != 0)
			return -1;
		/* the copy ends in a NUL: every piece is a C string */
		for (p = row->data, end = p + len;
		     p < end && row->n < PDX_NAMES_ROW; p += strlen(p) + 1)
			row->name[row->n++] = p;
	}
	if (nid % PDX_NAMES_ROW < row->n)
		*name = row->name[nid % PDX_NAMES_ROW];
	return 0;
}

int
pdx_brief_word(struct pdx_db *d, int i, unsigned port, uint32_t *w)
{
	unsigned c = port / PDX_BRIEF_PORTS, want;
	uint32_t **row;
	char *data;
	int len;

	if (i < 0 || i >= PDX_NPROTO || port > 65535) {
		pdx_set_error("bad port %u or transport %d", port, i);
		return -1;
	}
	if (d->bf != NULL) {
		if (pdx_bfile_word(d->bf, i, port, w) == 0)
			return 0;
		bfile_drop(d); /* damaged: the registry answers */
	}
	row = &d->brief[i][c];
	if (*row == NULL) {
		want = (c + 1 < PDX_BRIEF_ROWS ? PDX_BRIEF_PORTS
					       : 65536 - c * PDX_BRIEF_PORTS) *
		    4;
		if (read_row(d, &d->brief_blob, "brief",
			(sqlite3_int64)i * PDX_BRIEF_ROWS + c, &data,
			&len) != 0)
			return -1;
		if ((unsigned)len != want) {
			free(data);
			pdx_set_error("%s: damaged brief table (row %u of "
				      "transport %d holds %d bytes)",
			    d->path, c, i, len);
			return -1;
		}
		*row = (uint32_t *)(void *)data; /* malloc: aligned */
	}
	*w = (*row)[port % PDX_BRIEF_PORTS]; /* host byte order */
	return 0;
}

int
pdx_db_malware(struct pdx_db *d,
    int (*fn)(void *arg, const struct pdx_malware *), void *arg)
{
	static const char q[] =
	    "SELECT port_lo, port_hi, protomask, name"
	    " FROM uses WHERE kind = 'malware' ORDER BY name";
	const struct pdx_malware *rows;
	struct pdx_malware r;
	sqlite3_stmt *st;
	size_t n, k;

	if (d->bf != NULL) {
		if (pdx_bfile_malware(d->bf, &rows, &n) == 0) {
			for (k = 0; k < n && fn(arg, &rows[k]) == 0; k++)
				;
			return 0;
		}
		bfile_drop(d); /* damaged: the registry answers */
	}
	if (pdx_db_prepare(d, q, &st) != 0)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((r.name = (const char *)sqlite3_column_text(st, 3)) == NULL)
			continue;
		r.lo = (unsigned)sqlite3_column_int(st, 0);
		r.hi = (unsigned)sqlite3_column_int(st, 1);
		r.mask = sqlite3_column_int(st, 2);
		if (fn(arg, &r) != 0)
			break;
	}
	sqlite3_finalize(st);
	return 0;
}

int
pdx_brief(struct pdx_db *d, unsigned port, int proto, struct pdx_brief *b)
{
	int i = pdx_proto_index(proto);
	uint32_t w, nid;

	if (port > 65535 || i < 0) {
		pdx_set_error("bad port %u or protocol %d", port, proto);
		return -1;
	}
	b->name = "";
	/* the brief file, if any; after any failure there, the registry */
	if (d->bf != NULL &&
	    (pdx_bfile_word(d->bf, i, port, &w) != 0 ||
		((nid = w >> 16) != 0 &&
		    pdx_bfile_name(d->bf, nid, &b->name) != 0))) {
		bfile_drop(d);
		b->name = "";
	}
	if (d->bf == NULL) {
		if (pdx_brief_word(d, i, port, &w) != 0)
			return -1;
		nid = w >> 16;
		if (nid != 0 && brief_name(d, nid, &b->name) != 0)
			return -1;
	}
	b->status = w & 0xf;
	b->risk = (w >> 4) & 0xf;
	if (b->status > PDX_ST_ASSIGNED)
		b->status = PDX_ST_UNASSIGNED;
	if (b->risk > PDX_LEVEL_HIGH)
		b->risk = PDX_LEVEL_NONE;
	return 0;
}

int
pdx_rpc_name(struct pdx_db *d, long program, const char **name,
    const char **aliases)
{
	sqlite3_stmt *st;
	int rc = -1;

	free(d->rpc_name);
	free(d->rpc_aliases);
	d->rpc_name = d->rpc_aliases = NULL;
	/* /etc/rpc first: it is the system's own naming. */
	if (pdx_db_prepare(d,
		"SELECT name, aliases FROM rpc WHERE number = ?"
		" ORDER BY source = 'etc-rpc' DESC, rowid LIMIT 1",
		&st) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, program);
	if (sqlite3_step(st) == SQLITE_ROW) {
		d->rpc_name = strdup((const char *)sqlite3_column_text(st, 0));
		d->rpc_aliases = strdup(
		    (const char *)sqlite3_column_text(st, 1));
		if (d->rpc_name != NULL && d->rpc_aliases != NULL) {
			*name = d->rpc_name;
			*aliases = d->rpc_aliases;
			rc = 0;
		}
	} else
		pdx_set_error("no name for RPC program %ld", program);
	sqlite3_finalize(st);
	return rc;
}

/* ---- name lookup ----------------------------------------------------- */

json_t *
pdx_ports_by_name(struct pdx_db *d, const char *name)
{
	static const char sql[] =
	    "SELECT DISTINCT port_lo, port_hi FROM ("
	    " SELECT port_lo, port_hi FROM iana WHERE name = ?1 COLLATE NOCASE"
	    "  AND port_lo IS NOT NULL"
	    " UNION SELECT port_lo, port_hi FROM services WHERE"
	    "  name = ?1 COLLATE NOCASE OR ' ' || aliases || ' ' LIKE"
	    "  '% ' || ?1 || ' %'"
	    " UNION SELECT port, port FROM nmap WHERE name = ?1 COLLATE NOCASE)"
	    " ORDER BY port_lo, port_hi";
	sqlite3_stmt *st;
	json_t *a = json_array();

	if (pdx_db_prepare(d, sql, &st) != 0) {
		json_decref(a);
		return NULL;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a,
		    json_pack("{s:i, s:i}", "lo", sqlite3_column_int(st, 0),
			"hi", sqlite3_column_int(st, 1)));
	sqlite3_finalize(st);
	return a;
}

/* ---- export ---------------------------------------------------------- */

static void
csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* The IANA columns' names in JSON (the card's and export's), in file order. */
const char *const pdx_iana_json_keys[PDX_NCOLS] = {
	"service_name",
	"port",
	"transport",
	"description",
	"assignee",
	"contact",
	"registration_date",
	"modification_date",
	"reference",
	"service_code",
	"unauthorized_use",
	"notes",
};

int
pdx_export(struct pdx_db *d, int format, FILE *f)
{
	sqlite3_stmt *st;
	int i, rc, first = 1;

	if (pdx_db_prepare(d,
		"SELECT name, port, proto, description,"
		" assignee, contact, reg_date, mod_date, reference, service_code,"
		" unauth, notes, port_lo, port_hi, status, was FROM iana"
		" ORDER BY id",
		&st) != 0)
		return -1;
	switch (format) {
	case PDX_EXPORT_CSV:
		for (i = 0; i < PDX_NCOLS; i++) {
			if (i > 0)
				fputc(',', f);
			csv_field(f, pdx_iana_header[i]);
		}
		fputc('\n', f);
		break;
	case PDX_EXPORT_SERVICES:
		fprintf(f,
		    "# services(5) file exported by portdex %s from "
		    "%s\n",
		    PDX_VERSION, d->path);
		break;
	case PDX_EXPORT_JSON:
		fputs("[", f);
		break;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c[PDX_NCOLS];

		for (i = 0; i < PDX_NCOLS; i++)
			/* a damaged file may hold NULLs despite the schema */
			if ((c[i] = (const char *)sqlite3_column_text(st, i)) ==
			    NULL)
				c[i] = "";
		switch (format) {
		case PDX_EXPORT_CSV:
			for (i = 0; i < PDX_NCOLS; i++) {
				if (i > 0)
					fputc(',', f);
				csv_field(f, c[i]);
			}
			fputc('\n', f);
			break;
		case PDX_EXPORT_SERVICES: {
			int lo, hi, p;
			char desc[256];
			size_t k;

			if (c[0][0] == '\0' || c[2][0] == '\0' ||
			    sqlite3_column_type(st, 12) == SQLITE_NULL)
				break;
			lo = sqlite3_column_int(st, 12);
			hi = sqlite3_column_int(st, 13);
			if (lo < 0 || hi > 65535 || lo > hi)
				break; /* damaged row: not a port range */
			snprintf(desc, sizeof desc, "%s", c[3]);
			for (k = 0; desc[k] != '\0'; k++)
				if (desc[k] == '\n' || desc[k] == '\r')
					desc[k] = ' ';
			for (p = lo; p <= hi; p++)
				fprintf(f, "%-15s %d/%s%s%s\n", c[0], p, c[2],
				    desc[0] != '\0' ? "\t# " : "", desc);
			break;
		}
		case PDX_EXPORT_JSON: {
			json_t *o = json_object();
			char *s;

			for (i = 0; i < PDX_NCOLS; i++)
				json_object_set_new(o, pdx_iana_json_keys[i],
				    json_string(c[i]));
			json_object_set_new(o, "status",
			    json_string(
				pdx_status_name(sqlite3_column_int(st, 14))));
			s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fprintf(f, "%s\n%s", first ? "" : ",", s);
			free(s);
			json_decref(o);
			break;
		}
		}
		first = 0;
	}
	sqlite3_finalize(st);
	if (format == PDX_EXPORT_JSON)
		fputs("\n]\n", f);
	if (rc != SQLITE_DONE) {
		pdx_set_error("%s: %s", d->path, sqlite3_errmsg(d->db));
		return -1;
	}
	return 0;
}
