/*
 * registry-import.c - importing each source of `portdex update` into
 * the new registry (IANA's CSV, services(5) files, nmap-services, RPC
 * names) and the statements and row sets the build shares.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "registry-int.h"
#include "registry-build.h"

int
rb_exec_sql(sqlite3 *db, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pdx_set_error("%s: %s", what,
		    msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
rb_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		pdx_set_error("registry: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int
rb_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("%s: %s", what, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int
rb_meta_set(struct build *b, const char *key, const char *value)
{
	sqlite3_bind_text(b->ins_meta, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_meta, 2, value, -1, SQLITE_STATIC);
	return rb_step_done(b->db, b->ins_meta, "meta");
}

/*
 * Appends a copy of the fields f[0..PDX_NCOLS-1] (NULL counts as "") and
 * of was (may be NULL) to rs; the copy is one allocation that
 * rb_rowset_free() frees.
 */
struct irow *
rb_rowset_add(struct rowset *rs, const char *const *f, const char *was)
{
	size_t len[PDX_NCOLS], total = 0, wlen = 0;
	struct irow *r;
	char *p;
	int i;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16384;
		struct irow *nv = realloc(rs->v, cap * sizeof *nv);

		if (nv == NULL)
			goto nomem;
		rs->v = nv;
		rs->cap = cap;
	}
	for (i = 0; i < PDX_NCOLS; i++) {
		len[i] = f[i] != NULL ? strlen(f[i]) + 1 : 1;
		total += len[i];
	}
	if (was != NULL)
		wlen = strlen(was) + 1;
	r = &rs->v[rs->n];
	memset(r, 0, sizeof *r);
	if ((r->buf = malloc(total + wlen)) == NULL)
		goto nomem;
	for (i = 0, p = r->buf; i < PDX_NCOLS; i++) {
		memcpy(p, f[i] != NULL ? f[i] : "", len[i]);
		r->f[i] = p;
		p += len[i];
	}
	if (was != NULL) {
		memcpy(p, was, wlen);
		r->was = p;
	}
	rs->n++;
	return r;
nomem:
	pdx_set_error("registry: out of memory");
	return NULL;
}

void
rb_rowset_free(struct rowset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		free(rs->v[i].buf);
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

/* ---- importing each source ------------------------------------------- */

/*
 * Multi-row INSERTs: one statement of BATCH_ROWS value tuples costs far
 * less than BATCH_ROWS single-row statements (sqlite's per-statement work
 * was half of the cost of an insert into nmap).  Not for FTS5 tables,
 * which do more merging work when fed that way: they take per = 1.
 * bind(st, param, i, arg) binds row i of the caller's array from
 * parameter param on; what it binds must live until the statement has
 * run.
 */
#define BATCH_ROWS 32

static int
batch_prepare(sqlite3 *db, const char *head, const char *tuple, size_t rows,
    sqlite3_stmt **st)
{
	size_t hl = strlen(head), tl = strlen(tuple), i;
	char *sql = malloc(hl + rows * (tl + 1) + 1), *p;
	int rc;

	if (sql == NULL) {
		pdx_set_error("registry: out of memory");
		return -1;
	}
	memcpy(sql, head, hl);
	for (i = 0, p = sql + hl; i < rows; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, tuple, tl);
		p += tl;
	}
	*p = '\0';
	rc = rb_prepare(db, sql, st);
	free(sql);
	return rc;
}

int
rb_batch_insert(sqlite3 *db, const char *head, const char *tuple, int ncols,
    size_t per, size_t n, batch_bind_fn bind, void *arg, const char *what)
{
	sqlite3_stmt *full = NULL, *st;
	size_t i = 0, k, rows;
	int rc = -1;

	while (i < n) {
		rows = n - i >= per ? per : n - i;
		if (rows == per) {
			if (full == NULL &&
			    batch_prepare(db, head, tuple, per, &full) != 0)
				goto out;
			st = full;
		} else if (batch_prepare(db, head, tuple, rows, &st) != 0)
			goto out;
		for (k = 0; k < rows; k++)
			if (bind(st, 1 + (int)k * ncols, i + k, arg) != 0) {
				if (st != full)
					sqlite3_finalize(st);
				goto out;
			}
		k = (size_t)rb_step_done(db, st, what);
		if (st != full)
			sqlite3_finalize(st);
		if (k != 0)
			goto out;
		i += rows;
	}
	rc = 0;
out:
	sqlite3_finalize(full);
	return rc;
}

/* The primary source's rows are kept; rb_store_iana() inserts them. */
int
rb_add_iana_row(const struct pdx_iana_row *r, void *arg)
{
	struct build *b = arg;
	struct irow *m;

	if ((m = rb_rowset_add(&b->rows, (const char *const *)r->f, r->was)) ==
	    NULL)
		return -1;
	m->origin = b->origin;
	m->port_lo = r->port_lo >= 0 ? r->port_lo : -1;
	m->port_hi = r->port_lo >= 0 ? r->port_hi : -1;
	m->proto = r->proto;
	m->status = r->status;
	m->id = (long)b->rows.n; /* iana.id, given explicitly */
	b->nrows++;
	return 0;
}

static int
bind_iana(sqlite3_stmt *st, int c, size_t i, void *arg)
{
	const struct irow *r = &((struct build *)arg)->rows.v[i];
	int k;

	sqlite3_bind_int64(st, c, r->id);
	sqlite3_bind_text(st, c + 1, r->origin, -1, SQLITE_STATIC);
	for (k = 0; k < PDX_NCOLS; k++)
		sqlite3_bind_text(st, c + 2 + k, r->f[k], -1, SQLITE_STATIC);
	if (r->port_lo >= 0) {
		sqlite3_bind_int(st, c + 14, r->port_lo);
		sqlite3_bind_int(st, c + 15, r->port_hi);
	} else {
		sqlite3_bind_null(st, c + 14);
		sqlite3_bind_null(st, c + 15);
	}
	sqlite3_bind_int(st, c + 16, r->proto);
	sqlite3_bind_int(st, c + 17, r->status);
	if (r->was != NULL)
		sqlite3_bind_text(st, c + 18, r->was, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, c + 18);
	return 0;
}

int
rb_store_iana(struct build *b)
{
	return rb_batch_insert(b->db,
	    "INSERT INTO iana(id, origin, name, port,"
	    " proto, description, assignee, contact, reg_date, mod_date,"
	    " reference, service_code, unauth, notes, port_lo, port_hi,"
	    " protomask, status, was) VALUES ",
	    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", 19, BATCH_ROWS,
	    b->rows.n, bind_iana, b, "registry");
}

/* services(5) as the primary source: one synthesized IANA-like row. */
int
rb_add_service_as_iana(const struct pdx_service_entry *e, void *arg)
{
	struct build *b = arg;
	struct pdx_iana_row r;
	char port[16];
	int i;

	for (i = 0; i < PDX_NPROTO; i++) {
		int p = 1 << i;

		if ((e->protos & p) == 0)
			continue;
		memset(&r, 0, sizeof r);
		if (e->port_lo == e->port_hi)
			snprintf(port, sizeof port, "%d", e->port_lo);
		else
			snprintf(port, sizeof port, "%d-%d", e->port_lo,
			    e->port_hi);
		r.f[PDX_COL_NAME] = (char *)e->name;
		r.f[PDX_COL_PORT] = port;
		r.f[PDX_COL_PROTO] = (char *)pdx_proto_name(p);
		r.f[PDX_COL_DESC] = (char *)e->comment;
		for (int c = PDX_COL_ASSIGNEE; c < PDX_NCOLS; c++)
			r.f[c] = "";
		r.port_lo = e->port_lo;
		r.port_hi = e->port_hi;
		r.proto = p;
		r.status = PDX_ST_ASSIGNED;
		if (rb_add_iana_row(&r, b) != 0)
			return -1;
	}
	return 0;
}

int
rb_add_service(const struct pdx_service_entry *e, void *arg)
{
	struct build *b = arg;
	sqlite3_stmt *st = b->ins_svc;

	sqlite3_bind_text(st, 1, e->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, e->port_lo);
	sqlite3_bind_int(st, 3, e->port_hi);
	sqlite3_bind_int(st, 4, e->protos);
	sqlite3_bind_text(st, 5, e->aliases, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->comment, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, b->origin, -1, SQLITE_STATIC);
	return rb_step_done(b->db, st, "services") == 0 ? 0 : -1;
}

/* nmap entries are kept in memory to rank them before they are stored. */
struct nmap_rec {
	char *name;
	int port, proto, rank;
	double freq;
};

int
rb_add_nmap(const struct pdx_nmap_entry *e, void *arg)
{
	struct build *b = arg;
	struct nmap_rec *r;

	if (b->nnmap == b->capnmap) {
		size_t cap = b->capnmap ? b->capnmap * 2 : 32768;
		struct nmap_rec *nr = realloc(b->nmap, cap * sizeof *nr);

		if (nr == NULL) {
			pdx_set_error("nmap-services: out of memory");
			return -1;
		}
		b->nmap = nr;
		b->capnmap = cap;
	}
	r = &b->nmap[b->nnmap];
	if ((r->name = strdup(e->name)) == NULL) {
		pdx_set_error("nmap-services: out of memory");
		return -1;
	}
	r->port = e->port;
	r->proto = e->proto;
	r->freq = e->freq;
	b->nnmap++;
	return 0;
}

/* Rank order: per transport, most often open first, then by port. */
static int
by_frequency(const void *a, const void *b)
{
	const struct nmap_rec *x = *(const struct nmap_rec *const *)a;
	const struct nmap_rec *y = *(const struct nmap_rec *const *)b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->freq != y->freq)
		return x->freq > y->freq ? -1 : 1;
	return x->port - y->port;
}

/* Key order of table nmap. */
static int
by_port(const void *a, const void *b)
{
	const struct nmap_rec *x = a, *y = b;

	if (x->port != y->port)
		return x->port - y->port;
	return x->proto - y->proto;
}

/*
 * Rank 1 is the port nmap sees open most often, per transport.  The
 * ranking sorts pointers (cheaper to move than the records); the records
 * stay in file order, which nmap keeps by port already, so the sort into
 * key order is only done when the file is not.
 */
static int
bind_nmap(sqlite3_stmt *st, int c, size_t i, void *arg)
{
	const struct nmap_rec *r = &((struct build *)arg)->nmap[i];

	sqlite3_bind_int(st, c, r->port);
	sqlite3_bind_int(st, c + 1, r->proto);
	sqlite3_bind_text(st, c + 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, c + 3, r->freq);
	sqlite3_bind_int(st, c + 4, r->rank);
	return 0;
}

int
rb_store_nmap(struct build *b)
{
	struct nmap_rec **byf;
	size_t i, k;
	int rank = 0, proto = -1;

	if (b->nnmap == 0)
		return 0;
	if ((byf = malloc(b->nnmap * sizeof *byf)) == NULL) {
		pdx_set_error("nmap-services: out of memory");
		return -1;
	}
	for (i = 0; i < b->nnmap; i++)
		byf[i] = &b->nmap[i];
	qsort(byf, b->nnmap, sizeof *byf, by_frequency);
	for (i = 0; i <= b->nnmap; i++) {
		struct nmap_rec *r = i < b->nnmap ? byf[i] : NULL;

		if (r == NULL || r->proto != proto) {
			if (proto != -1) {
				char key[32], v[16];

				/* how many ports a rank is out of */
				snprintf(key, sizeof key, "nmap.ranked.%d",
				    proto);
				snprintf(v, sizeof v, "%d", rank);
				if (rb_meta_set(b, key, v) != 0) {
					free(byf);
					return -1;
				}
			}
			if (r == NULL)
				break;
			proto = r->proto;
			rank = 0;
		}
		r->rank = ++rank;
	}
	free(byf);
	/* Stored in key order: appends instead of random B-tree inserts. */
	for (i = 1; i < b->nnmap; i++)
		if (by_port(&b->nmap[i - 1], &b->nmap[i]) > 0)
			break;
	if (i < b->nnmap)
		qsort(b->nmap, b->nnmap, sizeof *b->nmap, by_port);
	/* a repeated port/proto: the first one stands */
	for (i = 1, k = 1; i < b->nnmap; i++) {
		if (by_port(&b->nmap[k - 1], &b->nmap[i]) == 0) {
			free(b->nmap[i].name);
			continue;
		}
		b->nmap[k++] = b->nmap[i];
	}
	b->nnmap = k;
	return rb_batch_insert(b->db,
	    "INSERT INTO nmap(port, proto, name, freq,"
	    " rank) VALUES ",
	    "(?,?,?,?,?)", 5, BATCH_ROWS, b->nnmap, bind_nmap, b,
	    "nmap-services");
}

void
rb_free_nmap(struct build *b)
{
	size_t i;

	for (i = 0; i < b->nnmap; i++)
		free(b->nmap[i].name);
	free(b->nmap);
	b->nmap = NULL;
	b->nnmap = b->capnmap = 0;
}

int
rb_add_rpc(const struct pdx_rpc_entry *e, void *arg)
{
	struct build *b = arg;
	sqlite3_stmt *st = b->ins_rpc;

	sqlite3_bind_int64(st, 1, e->number);
	sqlite3_bind_text(st, 2, e->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->aliases, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, b->origin, -1, SQLITE_STATIC);
	return rb_step_done(b->db, st, "rpc") == 0 ? 0 : -1;
}

/* FNV-1a 64 is enough to tell two source files apart in meta. */
static void
checksum(const char *buf, size_t len, char out[17])
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 1099511628211ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void
note_source(struct build *b, json_t *report, const char *kind, const char *path,
    const char *buf, size_t len, long count)
{
	struct stat st;
	char date[32] = "", sum[17], key[64];
	json_t *src;

	if (stat(path, &st) == 0) {
		struct tm tm;

		gmtime_r(&st.st_mtime, &tm);
		strftime(date, sizeof date, "%Y-%m-%d", &tm);
	}
	checksum(buf, len, sum);
	src = json_pack("{s:s, s:s, s:s, s:s, s:I}", "kind", kind, "path", path,
	    "date", date, "fnv1a64", sum, "records", (json_int_t)count);
	json_array_append_new(json_object_get(report, "sources"), src);
	snprintf(key, sizeof key, "source.%s", kind);
	{
		char v[PATH_MAX + 96];

		snprintf(v, sizeof v, "%s|%s|%s|%ld", path, date, sum, count);
		rb_meta_set(b, key, v);
	}
	size_t used = strlen(b->sources);
	snprintf(b->sources + used, sizeof b->sources - used, "%s%s %s (%s)",
	    used > 0 ? ", " : "", kind, path, date);
}

/*
 * Reads path and feeds it to a parser.  Returns the record count, or -1
 * with the parser's "FILE:LINE" message.
 */
long
rb_import_file(struct build *b, json_t *report, const char *kind,
    const char *path, parse_fn parse, void *fn)
{
	char *buf;
	size_t len;
	long n;

	if ((buf = pdx_read_file(path, MAX_SOURCE_SIZE, &len)) == NULL)
		return -1;
	b->origin = kind;
	n = parse(buf, len, path, fn, b);
	if (n >= 0)
		note_source(b, report, kind, path, buf, len, n);
	free(buf);
	return n;
}
