/*
 * registry-build.c - `portdex update`: builds a new registry database from
 * the sources found (IANA CSV, services(5) files, nmap-services, RPC
 * names, curated knowledge), beside the old one, and renames it over it
 * only when everything went in.  Also computes what changed against the
 * previous database.  Reading the registry is registry.c's job; the
 * parsers are in sources.c and knowledge.c.
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

#define MAX_SOURCE_SIZE	(64u * 1024 * 1024)

static const char schema_sql[] =
	"PRAGMA journal_mode=OFF;"
	"PRAGMA synchronous=OFF;"
	"PRAGMA page_size=4096;"
	"PRAGMA cache_size=-65536;"
	"PRAGMA temp_store=MEMORY;"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE iana(id INTEGER PRIMARY KEY, origin TEXT NOT NULL,"
	" name TEXT NOT NULL, port TEXT NOT NULL, proto TEXT NOT NULL,"
	" description TEXT NOT NULL, assignee TEXT NOT NULL,"
	" contact TEXT NOT NULL, reg_date TEXT NOT NULL,"
	" mod_date TEXT NOT NULL, reference TEXT NOT NULL,"
	" service_code TEXT NOT NULL, unauth TEXT NOT NULL,"
	" notes TEXT NOT NULL, port_lo INTEGER, port_hi INTEGER,"
	" protomask INTEGER NOT NULL, status INTEGER NOT NULL, was TEXT);"
	"CREATE TABLE services(name TEXT NOT NULL, port_lo INTEGER NOT NULL,"
	" port_hi INTEGER NOT NULL, protomask INTEGER NOT NULL,"
	" aliases TEXT NOT NULL, comment TEXT NOT NULL, source TEXT NOT NULL);"
	"CREATE TABLE nmap(port INTEGER NOT NULL, proto INTEGER NOT NULL,"
	" name TEXT NOT NULL, freq REAL NOT NULL, rank INTEGER,"
	" PRIMARY KEY(port, proto)) WITHOUT ROWID;"
	"CREATE TABLE rpc(number INTEGER NOT NULL, name TEXT NOT NULL,"
	" aliases TEXT NOT NULL, source TEXT NOT NULL);"
	"CREATE TABLE brief(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE TABLE brief_names(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE VIRTUAL TABLE fts USING fts5(name, body, kind UNINDEXED,"
	" port_lo UNINDEXED, port_hi UNINDEXED, protomask UNINDEXED,"
	" summary UNINDEXED, tokenize='unicode61', detail='column');";

static const char index_sql[] =
	"CREATE INDEX iana_port ON iana(port_lo);"
	"CREATE INDEX iana_range ON iana(port_lo, port_hi)"
	" WHERE port_hi > port_lo;"
	"CREATE INDEX iana_name ON iana(name COLLATE NOCASE);"
	"CREATE INDEX services_port ON services(port_lo, port_hi);"
	"CREATE INDEX services_name ON services(name COLLATE NOCASE);"
	"CREATE INDEX rpc_number ON rpc(number);";

struct nmap_rec;

/*
 * A registry row as it went into the iana table, kept in memory: the
 * brief table, the search documents and the diff are built from these
 * instead of reading the table back and sorting it in SQL.
 */
struct irow {
	const char	*f[PDX_NCOLS];	/* point into buf */
	const char	*was;		/* into buf, or NULL */
	const char	*origin;	/* static: the source's kind */
	char		*buf;
	int		 port_lo, port_hi;	/* -1: no port (NULL) */
	int		 proto, status;
	long		 id;		/* iana.id: the order of insertion */
};

/* A growable array of rows (the new registry's, or the old one's). */
struct rowset {
	struct irow	*v;
	size_t		 n, cap;
};

struct build {
	sqlite3		*db;
	sqlite3_stmt	*ins_svc, *ins_rpc, *ins_meta;
	const char	*origin;
	long		 nrows;
	struct rowset	 rows;		/* every row of table iana */
	int		 rows_are_iana;	/* origin 'iana' (the diff's rows) */
	struct nmap_rec	*nmap;
	size_t		 nnmap, capnmap;
	char		 sources[4096];	/* "iana:FILE (date), ..." for meta */
	/* the brief table, kept for the brief file written at the end */
	uint32_t	*bwords[PDX_NPROTO];
	char		*bnames;
	uint32_t	*boffs;
	uint32_t	 bnnames;
	size_t		 bnbytes;
};

static int
exec_sql(sqlite3 *db, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pdx_set_error("%s: %s", what, msg != NULL ? msg :
		    sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		pdx_set_error("registry: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int
step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("%s: %s", what, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int
meta_set(struct build *b, const char *key, const char *value)
{
	sqlite3_bind_text(b->ins_meta, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_meta, 2, value, -1, SQLITE_STATIC);
	return step_done(b->db, b->ins_meta, "meta");
}

/*
 * Appends a copy of the fields f[0..PDX_NCOLS-1] (NULL counts as "") and
 * of was (may be NULL) to rs; the copy is one allocation that
 * rowset_free() frees.
 */
static struct irow *
rowset_add(struct rowset *rs, const char *const *f, const char *was)
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

static void
rowset_free(struct rowset *rs)
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
#define BATCH_ROWS	32

typedef int (*batch_bind_fn)(sqlite3_stmt *, int, size_t, void *);

static int
batch_prepare(sqlite3 *db, const char *head, const char *tuple,
    size_t rows, sqlite3_stmt **st)
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
	rc = prepare(db, sql, st);
	free(sql);
	return rc;
}

static int
batch_insert(sqlite3 *db, const char *head, const char *tuple, int ncols,
    size_t per, size_t n, batch_bind_fn bind, void *arg, const char *what)
{
	sqlite3_stmt *full = NULL, *st;
	size_t i = 0, k, rows;
	int rc = -1;

	while (i < n) {
		rows = n - i >= per ? per : n - i;
		if (rows == per) {
			if (full == NULL && batch_prepare(db, head, tuple,
			    per, &full) != 0)
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
		k = (size_t)step_done(db, st, what);
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

/* The primary source's rows are kept; store_iana() inserts them. */
static int
add_iana_row(const struct pdx_iana_row *r, void *arg)
{
	struct build *b = arg;
	struct irow *m;

	if ((m = rowset_add(&b->rows, (const char *const *)r->f, r->was)) ==
	    NULL)
		return -1;
	m->origin = b->origin;
	m->port_lo = r->port_lo >= 0 ? r->port_lo : -1;
	m->port_hi = r->port_lo >= 0 ? r->port_hi : -1;
	m->proto = r->proto;
	m->status = r->status;
	m->id = (long)b->rows.n;	/* iana.id, given explicitly */
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

static int
store_iana(struct build *b)
{
	return batch_insert(b->db, "INSERT INTO iana(id, origin, name, port,"
	    " proto, description, assignee, contact, reg_date, mod_date,"
	    " reference, service_code, unauth, notes, port_lo, port_hi,"
	    " protomask, status, was) VALUES ",
	    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", 19, BATCH_ROWS,
	    b->rows.n, bind_iana, b, "registry");
}

/* services(5) as the primary source: one synthesized IANA-like row. */
static int
add_service_as_iana(const struct pdx_service_entry *e, void *arg)
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
		if (add_iana_row(&r, b) != 0)
			return -1;
	}
	return 0;
}

static int
add_service(const struct pdx_service_entry *e, void *arg)
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
	return step_done(b->db, st, "services") == 0 ? 0 : -1;
}

/* nmap entries are kept in memory to rank them before they are stored. */
struct nmap_rec {
	char	*name;
	int	 port, proto, rank;
	double	 freq;
};

static int
add_nmap(const struct pdx_nmap_entry *e, void *arg)
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

static int
store_nmap(struct build *b)
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
				if (meta_set(b, key, v) != 0) {
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
	return batch_insert(b->db, "INSERT INTO nmap(port, proto, name, freq,"
	    " rank) VALUES ", "(?,?,?,?,?)", 5, BATCH_ROWS, b->nnmap,
	    bind_nmap, b, "nmap-services");
}

static void
free_nmap(struct build *b)
{
	size_t i;

	for (i = 0; i < b->nnmap; i++)
		free(b->nmap[i].name);
	free(b->nmap);
	b->nmap = NULL;
	b->nnmap = b->capnmap = 0;
}

static int
add_rpc(const struct pdx_rpc_entry *e, void *arg)
{
	struct build *b = arg;
	sqlite3_stmt *st = b->ins_rpc;

	sqlite3_bind_int64(st, 1, e->number);
	sqlite3_bind_text(st, 2, e->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->aliases, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, b->origin, -1, SQLITE_STATIC);
	return step_done(b->db, st, "rpc") == 0 ? 0 : -1;
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
note_source(struct build *b, json_t *report, const char *kind,
    const char *path, const char *buf, size_t len, long count)
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
	src = json_pack("{s:s, s:s, s:s, s:s, s:I}", "kind", kind, "path",
	    path, "date", date, "fnv1a64", sum, "records", (json_int_t)count);
	json_array_append_new(json_object_get(report, "sources"), src);
	snprintf(key, sizeof key, "source.%s", kind);
	{
		char v[PATH_MAX + 96];

		snprintf(v, sizeof v, "%s|%s|%s|%ld", path, date, sum, count);
		meta_set(b, key, v);
	}
	size_t used = strlen(b->sources);
	snprintf(b->sources + used, sizeof b->sources - used, "%s%s %s (%s)",
	    used > 0 ? ", " : "", kind, path, date);
}

typedef long (*parse_fn)(const char *, size_t, const char *, void *,
    void *);

/*
 * Reads path and feeds it to a parser.  Returns the record count, or -1
 * with the parser's "FILE:LINE" message.
 */
static long
import_file(struct build *b, json_t *report, const char *kind,
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

/* ---- derived tables -------------------------------------------------- */

/*
 * The brief table: for each transport, 65,536 uint32 words in host order
 * (name index << 16 | risk facts << 8 | risk << 4 | status) in rows of
 * PDX_BRIEF_PORTS, and the names in rows of PDX_NAMES_ROW, each ending in
 * a NUL, index 0 being the empty name.  Built from the rows kept in memory.
 */
static int
build_brief(struct build *b)
{
	uint32_t *words[PDX_NPROTO];
	sqlite3_stmt *ins = NULL;
	char *names = NULL;
	size_t nlen = 1, ncap = 1 << 16, last = 0, k, ocap = 4096;
	uint32_t *offs = NULL;
	unsigned nnames = 1;
	int i, rc = -1;

	memset(words, 0, sizeof words);
	for (i = 0; i < PDX_NPROTO; i++)
		if ((words[i] = calloc(65536, sizeof(uint32_t))) == NULL)
			goto nomem;
	if ((names = malloc(ncap)) == NULL ||
	    (offs = malloc(ocap * sizeof *offs)) == NULL)
		goto nomem;
	names[0] = '\0';	/* id 0: no name */
	offs[0] = 0;

	/* The rows in id order, as they went in. */
	for (k = 0; k < b->rows.n; k++) {
		const struct irow *r = &b->rows.v[k];
		int lo = r->port_lo, hi = r->port_hi;
		int mask = r->proto;
		uint32_t status = (uint32_t)r->status;
		const char *name = r->f[PDX_COL_NAME];
		uint32_t nid = 0;

		if (lo < 0 || hi > 65535 || lo > hi)
			continue;
		if (mask == 0)
			mask = PDX_PROTO_ALL;
		if (*name != '\0' && status == PDX_ST_ASSIGNED) {
			size_t l = strlen(name) + 1;

			if (strcmp(name, names + last) == 0 && last != 0)
				nid = nnames - 1;
			else if (nnames < 65535) {
				while (nlen + l > ncap) {
					char *nn = realloc(names, ncap * 2);

					if (nn == NULL)
						goto nomem;
					names = nn;
					ncap *= 2;
				}
				if (nnames == ocap) {
					uint32_t *no = realloc(offs,
					    ocap * 2 * sizeof *offs);

					if (no == NULL)
						goto nomem;
					offs = no;
					ocap *= 2;
				}
				offs[nnames] = (uint32_t)nlen;
				memcpy(names + nlen, name, l);
				last = nlen;
				nlen += l;
				nid = nnames++;
			}
		}
		for (i = 0; i < PDX_NPROTO; i++) {
			if ((mask & (1 << i)) == 0)
				continue;
			for (int p = lo; p <= hi; p++) {
				uint32_t w = words[i][p];
				uint32_t cur = w & 0xf;

				if (status > cur || (w == 0 && status == 0))
					w = (w & ~0xfu) | status;
				if ((w >> 16) == 0 && nid != 0 &&
				    status == PDX_ST_ASSIGNED)
					w = (w & 0xffffu) |
					    ((nid & 0xffffu) << 16);
				words[i][p] = w;
			}
		}
	}
	if (pdx_risk_fill(b->db, words) != 0)
		goto out;
	/* rows of PDX_BRIEF_PORTS words: one page each (registry-int.h) */
	if (prepare(b->db, "INSERT INTO brief(id, data) VALUES(?, ?)",
	    &ins) != 0)
		goto out;
	for (i = 0; i < PDX_NPROTO; i++)
		for (unsigned c = 0; c < PDX_BRIEF_ROWS; c++) {
			unsigned p0 = c * PDX_BRIEF_PORTS;
			unsigned np = c + 1 < PDX_BRIEF_ROWS ?
			    PDX_BRIEF_PORTS : 65536 - p0;

			sqlite3_bind_int(ins, 1, i * PDX_BRIEF_ROWS + (int)c);
			sqlite3_bind_blob(ins, 2, words[i] + p0, (int)np * 4,
			    SQLITE_STATIC);
			if (step_done(b->db, ins, "brief") != 0)
				goto out;
		}
	sqlite3_finalize(ins);
	ins = NULL;
	/* rows of PDX_NAMES_ROW names, each with its NUL */
	if (prepare(b->db, "INSERT INTO brief_names(id, data) VALUES(?, ?)",
	    &ins) != 0)
		goto out;
	for (unsigned r = 0; r * PDX_NAMES_ROW < nnames; r++) {
		size_t from = offs[r * PDX_NAMES_ROW];
		size_t to = (r + 1) * PDX_NAMES_ROW < nnames ?
		    offs[(r + 1) * PDX_NAMES_ROW] : nlen;

		sqlite3_bind_int(ins, 1, (int)r);
		sqlite3_bind_blob(ins, 2, names + from, (int)(to - from),
		    SQLITE_STATIC);
		if (step_done(b->db, ins, "brief") != 0)
			goto out;
	}
	/* kept for the brief file (pdx_bfile_write), freed with b */
	for (i = 0; i < PDX_NPROTO; i++) {
		b->bwords[i] = words[i];
		words[i] = NULL;
	}
	b->bnames = names;
	b->boffs = offs;
	b->bnnames = nnames;
	b->bnbytes = nlen;
	names = NULL;
	offs = NULL;
	rc = 0;
	goto out;
nomem:
	pdx_set_error("registry: out of memory");
out:
	sqlite3_finalize(ins);
	for (i = 0; i < PDX_NPROTO; i++)
		free(words[i]);
	free(names);
	free(offs);
	return rc;
}

/* ---- search documents ------------------------------------------------ */

/*
 * The services(5) entries that no IANA row names on the same port get a
 * document of their own.
 */
static const char fts_services_sql[] =
	"INSERT INTO fts(name, body, kind, port_lo, port_hi, protomask,"
	" summary)"
	" SELECT s.name, s.aliases || ' ' || s.comment, 'services', s.port_lo,"
	"  s.port_hi, s.protomask, s.comment FROM services s WHERE NOT EXISTS"
	"  (SELECT 1 FROM iana i WHERE i.name = s.name COLLATE NOCASE"
	"   AND i.port_lo = s.port_lo);";

/* NULL (-1) first, as sqlite sorts it. */
static int
cmp_port(int a, int b)
{
	return a < b ? -1 : a > b;
}

/* (name, port_lo, port_hi, description), then id: a document's rows. */
static int
by_document(const void *a, const void *b)
{
	const struct irow *x = *(const struct irow *const *)a;
	const struct irow *y = *(const struct irow *const *)b;
	int c;

	if ((c = strcmp(x->f[PDX_COL_NAME], y->f[PDX_COL_NAME])) != 0 ||
	    (c = cmp_port(x->port_lo, y->port_lo)) != 0 ||
	    (c = cmp_port(x->port_hi, y->port_hi)) != 0 ||
	    (c = strcmp(x->f[PDX_COL_DESC], y->f[PDX_COL_DESC])) != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
same_document(const struct irow *x, const struct irow *y)
{
	return x->port_lo == y->port_lo && x->port_hi == y->port_hi &&
	    strcmp(x->f[PDX_COL_NAME], y->f[PDX_COL_NAME]) == 0 &&
	    strcmp(x->f[PDX_COL_DESC], y->f[PDX_COL_DESC]) == 0;
}

/*
 * One document per IANA service and port: the rows with the same name,
 * ports and description (tcp and udp, usually) merged, their transports
 * added up, the text of the first of them; named or living rows only.
 * In the order of (name, ports, description), as the GROUP BY this
 * replaces gave them, so the documents' rowids are the same.
 */
/* A search document: its first row and its transports. */
struct doc {
	const struct irow	*r;
	int			 protomask;
};

struct doc_list {
	struct doc	*v;
	char		*body;
	size_t		 cap;
};

static int
bind_doc(sqlite3_stmt *st, int c, size_t i, void *arg)
{
	struct doc_list *dl = arg;
	const struct irow *r = dl->v[i].r;
	size_t need = strlen(r->f[PDX_COL_DESC]) +
	    strlen(r->f[PDX_COL_NOTES]) + strlen(r->f[PDX_COL_UNAUTH]) + 3;

	if (need > dl->cap) {
		char *nb = realloc(dl->body, need);

		if (nb == NULL) {
			pdx_set_error("registry: out of memory");
			return -1;
		}
		dl->body = nb;
		dl->cap = need;
	}
	snprintf(dl->body, dl->cap, "%s %s %s", r->f[PDX_COL_DESC],
	    r->f[PDX_COL_NOTES], r->f[PDX_COL_UNAUTH]);
	sqlite3_bind_text(st, c, r->f[PDX_COL_NAME], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, c + 1, dl->body, -1, SQLITE_STATIC);
	if (r->port_lo >= 0) {
		sqlite3_bind_int(st, c + 2, r->port_lo);
		sqlite3_bind_int(st, c + 3, r->port_hi);
	} else {
		sqlite3_bind_null(st, c + 2);
		sqlite3_bind_null(st, c + 3);
	}
	sqlite3_bind_int(st, c + 4, dl->v[i].protomask);
	sqlite3_bind_text(st, c + 5, r->f[PDX_COL_DESC], -1, SQLITE_STATIC);
	return 0;
}

static int
build_search(struct build *b, const char *tmp)
{
	const struct irow **idx = NULL;
	struct doc_list dl = { NULL, NULL, 0 };
	size_t n = 0, ndocs = 0, i, j;
	int rc = -1;

	if (b->rows.n > 0 &&
	    ((idx = malloc(b->rows.n * sizeof *idx)) == NULL ||
	    (dl.v = malloc(b->rows.n * sizeof *dl.v)) == NULL)) {
		pdx_set_error("registry: out of memory");
		goto out;
	}
	for (i = 0; i < b->rows.n; i++) {
		const struct irow *r = &b->rows.v[i];

		if (r->status >= PDX_ST_HISTORIC || *r->f[PDX_COL_NAME] != '\0')
			idx[n++] = r;
	}
	if (n > 0)
		qsort(idx, n, sizeof *idx, by_document);
	for (i = 0; i < n; i = j) {
		int seen = 0, sum = 0;

		for (j = i; j < n && same_document(idx[i], idx[j]); j++)
			if (idx[j]->proto >= 0 && idx[j]->proto < 32 &&
			    (seen & (1 << idx[j]->proto)) == 0) {
				/* sum(DISTINCT protomask) */
				seen |= 1 << idx[j]->proto;
				sum += idx[j]->proto;
			}
		dl.v[ndocs].r = idx[i];
		dl.v[ndocs++].protomask = sum;
	}
	if (batch_insert(b->db, "INSERT INTO fts(name, body, kind, port_lo,"
	    " port_hi, protomask, summary) VALUES ", "(?,?,'iana',?,?,?,?)", 6,
	    1, ndocs, bind_doc, &dl, tmp) != 0)
		goto out;
	if (exec_sql(b->db, fts_services_sql, tmp) != 0)
		goto out;
	rc = 0;
out:
	free(idx);
	free(dl.v);
	free(dl.body);
	return rc;
}

/* ---- diff against the previous registry ------------------------------ */

static const char *const diff_cols[] = {
	"description", "assignee", "contact", "reg_date", "mod_date",
	"reference", "service_code", "unauth", "notes",
};

static json_t *
row_key(const struct irow *r)
{
	return json_pack("{s:s, s:s, s:s}", "service_name", r->f[PDX_COL_NAME],
	    "port", r->f[PDX_COL_PORT], "transport", r->f[PDX_COL_PROTO]);
}

/* The IANA rows of the attached database "old", in id order. */
static int
load_old(sqlite3 *db, struct rowset *rs)
{
	sqlite3_stmt *st;
	int rc, i;

	if (prepare(db, "SELECT name, port, proto, description, assignee,"
	    " contact, reg_date, mod_date, reference, service_code, unauth,"
	    " notes, id FROM old.iana WHERE origin = 'iana' ORDER BY id",
	    &st) != 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *f[PDX_NCOLS];
		struct irow *r;

		for (i = 0; i < PDX_NCOLS; i++)
			f[i] = (const char *)sqlite3_column_text(st, i);
		if ((r = rowset_add(rs, f, NULL)) == NULL) {
			sqlite3_finalize(st);
			return -1;
		}
		r->id = (long)sqlite3_column_int64(st, PDX_NCOLS);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("previous registry: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* (name, port, proto), then id: the diff's key order. */
static int
by_key(const void *a, const void *b)
{
	const struct irow *x = *(const struct irow *const *)a;
	const struct irow *y = *(const struct irow *const *)b;
	int i, c;

	for (i = 0; i < 3; i++)
		if ((c = strcmp(x->f[i], y->f[i])) != 0)
			return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * The rows of rs sorted by key, each with its occurrence number among the
 * rows of the same key (written to occ).  Returns a malloc'd array the
 * caller frees (NULL when rs is empty or memory ran out).
 */
static const struct irow **
sorted_keys(const struct rowset *rs, int **occ)
{
	const struct irow **v;
	size_t i;

	*occ = NULL;
	if (rs->n == 0)
		return NULL;
	if ((v = malloc(rs->n * sizeof *v)) == NULL ||
	    (*occ = malloc(rs->n * sizeof **occ)) == NULL) {
		free(v);
		return NULL;
	}
	for (i = 0; i < rs->n; i++)
		v[i] = &rs->v[i];
	qsort(v, rs->n, sizeof *v, by_key);
	for (i = 0; i < rs->n; i++)
		(*occ)[i] = i > 0 && strcmp(v[i]->f[0], v[i - 1]->f[0]) == 0 &&
		    strcmp(v[i]->f[1], v[i - 1]->f[1]) == 0 &&
		    strcmp(v[i]->f[2], v[i - 1]->f[2]) == 0 ?
		    (*occ)[i - 1] + 1 : 0;
	return v;
}

static int
same_row(const struct irow *x, const struct irow *y)
{
	int i;

	for (i = 0; i < PDX_NCOLS; i++)
		if (strcmp(x->f[i], y->f[i]) != 0)
			return 0;
	return 1;
}

/*
 * Compares the old IANA rows with the new ones.  Rows are matched by
 * (name, port, proto, occurrence); a row that keeps its key but changes a
 * field is "changed", with the fields named.  Usually nothing changed:
 * when both lists are equal row for row in id order, no sort is needed.
 */
static int
build_diff(sqlite3 *db, const struct rowset *nw, json_t *report)
{
	struct rowset old;
	const struct irow **n = NULL, **o = NULL;
	int *kn = NULL, *ko = NULL, rc = -1;
	json_t *added = json_array(), *removed = json_array(),
	    *changed = json_array(), *diff;
	size_t i, a, c;

	memset(&old, 0, sizeof old);
	if (load_old(db, &old) != 0)
		goto out;
	for (i = 0; i < nw->n && i < old.n; i++)
		if (!same_row(&nw->v[i], &old.v[i]))
			break;
	if (i == nw->n && i == old.n)
		goto done;
	if (((n = sorted_keys(nw, &kn)) == NULL && nw->n > 0) ||
	    ((o = sorted_keys(&old, &ko)) == NULL && old.n > 0)) {
		pdx_set_error("registry: out of memory");
		goto out;
	}
	for (a = 0, c = 0; a < nw->n || c < old.n; ) {
		int cmp;

		if (a == nw->n)
			cmp = 1;
		else if (c == old.n)
			cmp = -1;
		else {
			for (i = 0, cmp = 0; i < 3 && cmp == 0; i++)
				cmp = strcmp(n[a]->f[i], o[c]->f[i]);
			if (cmp == 0)
				cmp = kn[a] - ko[c];
		}
		if (cmp < 0)
			json_array_append_new(added, row_key(n[a++]));
		else if (cmp > 0)
			json_array_append_new(removed, row_key(o[c++]));
		else {
			json_t *fields = json_object();

			for (i = 0; i < sizeof diff_cols / sizeof *diff_cols;
			    i++) {
				const char *was = o[c]->f[3 + i];
				const char *now = n[a]->f[3 + i];

				if (strcmp(was, now) != 0)
					json_object_set_new(fields,
					    diff_cols[i], json_pack(
					    "{s:s, s:s}", "old", was, "new",
					    now));
			}
			if (json_object_size(fields) > 0) {
				json_t *k = row_key(n[a]);

				json_object_set_new(k, "fields", fields);
				json_array_append_new(changed, k);
			} else
				json_decref(fields);
			a++;
			c++;
		}
	}
done:
	diff = json_pack("{s:I, s:I, s:I, s:O, s:O, s:O}",
	    "added_count", (json_int_t)json_array_size(added),
	    "removed_count", (json_int_t)json_array_size(removed),
	    "changed_count", (json_int_t)json_array_size(changed),
	    "added", added, "removed", removed, "changed", changed);
	json_object_set_new(report, "diff", diff);
	rc = 0;
out:
	free(n);
	free(o);
	free(kn);
	free(ko);
	rowset_free(&old);
	json_decref(added);
	json_decref(removed);
	json_decref(changed);
	return rc;
}

/* ---- finding sources ------------------------------------------------- */

static const char *
first_existing(const char *const *paths)
{
	for (; *paths != NULL; paths++)
		if (access(*paths, R_OK) == 0)
			return *paths;
	return NULL;
}

static const char *const services_paths[] = {
	"/usr/share/wireshark/services", "/etc/services", NULL
};
static const char *const nmap_paths[] = {
	"/usr/share/nmap/nmap-services", "/usr/local/share/nmap/nmap-services",
	NULL
};
static const char *const nmap_rpc_paths[] = {
	"/usr/share/nmap/nmap-rpc", "/usr/local/share/nmap/nmap-rpc", NULL
};
static const char *const etc_rpc_paths[] = { "/etc/rpc", NULL };

#ifndef PDX_DATADIR
#define PDX_DATADIR "/usr/local/share/portdex"
#endif
#define IANA_CSV	"service-names-port-numbers.csv"

/*
 * The newest YYYY-MM-DD in an IANA CSV (its newest registration or
 * modification): how old a copy of the registry is.  out gets "" when the
 * file cannot be read or holds no date.
 */
static void
iana_csv_date(const char *path, char out[11])
{
	char *buf, *p;
	size_t len;

	memset(out, 0, 11);
	if ((buf = pdx_read_file(path, 64u << 20, &len)) == NULL)
		return;
	for (p = buf; p + 10 <= buf + len; p++) {
		if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])
		    && isdigit((unsigned char)p[2]) &&
		    isdigit((unsigned char)p[3]) && p[4] == '-' &&
		    isdigit((unsigned char)p[5]) &&
		    isdigit((unsigned char)p[6]) && p[7] == '-' &&
		    isdigit((unsigned char)p[8]) &&
		    isdigit((unsigned char)p[9]) && (p[0] == '1' ||
		    p[0] == '2') && memcmp(p, out, 10) > 0 &&
		    (p + 10 == buf + len || !isdigit((unsigned char)p[10])))
			memcpy(out, p, 10);
	}
	free(buf);
}

/* Where update --download keeps IANA's CSV: beside the registry. */
static void
kept_download_path(const char *dir, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, IANA_CSV) >= n)
		out[0] = '\0';	/* too long: nothing is kept */
}

/*
 * The IANA CSV to build from when none is named: the newer (by the dates
 * inside) of the snapshot shipped with portdex and a copy an earlier
 * --download kept beside the registry.  Sets *origin to "shipped" or
 * "downloaded".  NULL when there is neither.
 */
static const char *
default_iana(const char *dir, const char *kdir, char *buf, size_t n,
    const char **origin)
{
	const char *e = getenv("PORTDEX_DATA"), *cands[4];
	char kept[PATH_MAX], d1[11], d2[11];
	size_t i, k = 0;

	buf[0] = '\0';
	cands[k++] = kdir;
	cands[k++] = e != NULL && *e != '\0' ? e : NULL;
	cands[k++] = PDX_DATADIR;
#ifdef PDX_SRCDIR
	cands[k++] = PDX_SRCDIR "/data";
#endif
	for (i = 0; i < k; i++) {
		if (cands[i] == NULL)
			continue;
		snprintf(buf, n, "%s/iana/%s", cands[i], IANA_CSV);
		if (access(buf, R_OK) == 0)
			break;
		buf[0] = '\0';
	}
	kept_download_path(dir, kept, sizeof kept);
	if (kept[0] != '\0' && access(kept, R_OK) == 0) {
		iana_csv_date(kept, d2);
		if (buf[0] != '\0')
			iana_csv_date(buf, d1);
		if (buf[0] == '\0' || strcmp(d2, d1) > 0) {
			snprintf(buf, n, "%s", kept);
			*origin = "downloaded";
			return buf;
		}
	}
	*origin = "shipped";
	return buf[0] != '\0' ? buf : NULL;
}

static int
is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0
	    || strncmp(s, "file://", 7) == 0;
}

/* ---- the update ------------------------------------------------------ */

/* Records how long a stage took in report.timings_ms (for bench/). */
static void
stage(json_t *report, const char *name, struct timespec *t0)
{
	struct timespec t1;
	json_t *t = json_object_get(report, "timings_ms");

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (t == NULL) {
		t = json_object();
		json_object_set_new(report, "timings_ms", t);
	}
	json_object_set_new(t, name, json_real((t1.tv_sec - t0->tv_sec) *
	    1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6));
	*t0 = t1;
}

static int
lock_registry(const struct pdx_update_opts *o, int *fdp, json_t *report)
{
	const char *db_path = o->db_path;
	char lock[PATH_MAX];
	int fd;

	if (snprintf(lock, sizeof lock, "%s.lock", db_path) >=
	    (int)sizeof lock) {
		pdx_set_error("%s: path too long", db_path);
		return -1;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		pdx_set_error("%s: %s", lock, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			pdx_set_error("%s: %s", lock, strerror(errno));
			close(fd);
			return -1;
		}
		json_object_set_new(report, "waited_for_lock", json_true());
		if (o->notify != NULL) {
			char msg[PATH_MAX + 80];

			snprintf(msg, sizeof msg, "another update of %s is "
			    "running; waiting for it to finish", db_path);
			o->notify(msg, o->notify_arg);
		}
		if (flock(fd, LOCK_EX) == -1) {
			pdx_set_error("%s: %s", lock, strerror(errno));
			close(fd);
			return -1;
		}
	}
	*fdp = fd;
	return 0;
}

static int
fsync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) |
	    O_CLOEXEC);
	int rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static void
dirname_of(const char *path, char *out, size_t n)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		snprintf(out, n, ".");
	else if (s == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(s - path), path);
}

/*
 * Removes what killed updates left beside the registry (NAME.new-PID and
 * NAME.download-PID whose process is gone).  Called with the lock held,
 * so no live update owns them.
 */
static void
remove_stale(const char *db_path, json_t *report)
{
	static const char *const kinds[] = { ".new-", ".download-",
	    ".brief.new-" };
	char dir[PATH_MAX], path[PATH_MAX + 256];
	const char *base = strrchr(db_path, '/');
	struct dirent *de;
	DIR *d;
	size_t i, blen;
	int removed = 0;

	base = base != NULL ? base + 1 : db_path;
	blen = strlen(base);
	dirname_of(db_path, dir, sizeof dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0)
			continue;
		for (i = 0; i < sizeof kinds / sizeof *kinds; i++) {
			const char *p = de->d_name + blen;
			char *end;
			long pid;

			if (strncmp(p, kinds[i], strlen(kinds[i])) != 0)
				continue;
			pid = strtol(p + strlen(kinds[i]), &end, 10);
			if (*end != '\0' || pid <= 0)
				continue;
			if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue;	/* a live process owns it */
			if (snprintf(path, sizeof path, "%s/%s", dir,
			    de->d_name) < (int)sizeof path && unlink(path) == 0)
				removed++;
		}
	}
	closedir(d);
	if (removed > 0)
		json_object_set_new(report, "stale_files_removed",
		    json_integer(removed));
}

static int
mkdir_p(const char *dir)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * A second thread flushes the registry and writes and fsyncs the brief
 * file while the diff is computed: the brief file needs only the
 * registry's id, final at COMMIT.  Without a thread (pthread_create
 * failing) it is written at the join.
 */
struct brief_job {
	struct build	*b;
	const char	*path;
	const char	*regpath;	/* the registry to flush first */
	struct pdx_regid id;
	pthread_t	 tid;
	int		 started, pending, rc;
	char		 err[512];
};

static int fsync_path(const char *, int);

static void *
brief_job_run(void *arg)
{
	struct brief_job *j = arg;

	/*
	 * The registry's pages are all written at COMMIT: flushing them now,
	 * while the diff runs, leaves little for the fsync after close (whose
	 * failure is the one reported).
	 */
	if (j->regpath != NULL)
		(void)fsync_path(j->regpath, 0);
	j->rc = pdx_bfile_write(j->path, j->b->bwords, j->b->bnames,
	    j->b->boffs, j->b->bnnames, j->b->bnbytes, &j->id);
	if (j->rc != 0)
		snprintf(j->err, sizeof j->err, "%s", pdx_last_error());
	return NULL;
}

/* Waits for the job (or does it); 0, or -1 with the error set. */
static int
brief_job_finish(struct brief_job *j)
{
	if (j->started)
		pthread_join(j->tid, NULL);
	else
		brief_job_run(j);
	j->started = 0;
	if (j->rc != 0)
		pdx_set_error("%s", j->err);
	return j->rc;
}

/*
 * One update: its options, the database being built beside the old one,
 * the report, and the paths to clean up.  pdx_update runs the stages in
 * order: prepare, open, the primary source, the secondary sources, the
 * derived tables and COMMIT, the brief file's thread, the diff, install.
 */
struct upd {
	const struct pdx_update_opts *o;
	struct build	 b;
	json_t		*report;
	char		 tmp[PATH_MAX], dir[PATH_MAX], dl[PATH_MAX];
	char		 btmp[PATH_MAX], bpath[PATH_MAX], defiana[PATH_MAX];
	char		 ianadate[11];
	const char	*origin;
	const char	*iana, *svc, *nm, *nrpc, *erpc;	/* the sources */
	struct brief_job bjob;
	int		 lockfd;
	struct timespec	 t0;
};

/* The directory, the lock, the temporary name, the sources. */
static int
upd_prepare(struct upd *u)
{
	const struct pdx_update_opts *o = u->o;

	dirname_of(o->db_path, u->dir, sizeof u->dir);
	if (mkdir_p(u->dir) != 0) {
		pdx_set_error("%s: cannot create directory: %s", u->dir,
		    strerror(errno));
		return -1;
	}
	u->report = json_pack("{s:s, s:[]}", "database", o->db_path,
	    "sources");
	if (lock_registry(o, &u->lockfd, u->report) != 0)
		return -1;
	remove_stale(o->db_path, u->report);
	if (snprintf(u->tmp, sizeof u->tmp, "%s.new-%ld", o->db_path,
	    (long)getpid()) >= (int)sizeof u->tmp) {
		pdx_set_error("%s: path too long", o->db_path);
		u->tmp[0] = '\0';
		return -1;
	}
	unlink(u->tmp);
	if (u->iana != NULL && is_url(u->iana)) {
		snprintf(u->dl, sizeof u->dl, "%s.download-%ld", o->db_path,
		    (long)getpid());
		if (pdx_download(u->iana, u->dl, 120) != 0)
			return -1;
		json_object_set_new(u->report, "downloaded",
		    json_string(u->iana));
	}
	if (!o->no_search) {
		if (u->iana == NULL)
			u->iana = default_iana(u->dir, o->knowledge_dir,
			    u->defiana, sizeof u->defiana, &u->origin);
		if (u->svc == NULL)
			u->svc = first_existing(services_paths);
		if (u->nm == NULL)
			u->nm = first_existing(nmap_paths);
		if (u->nrpc == NULL)
			u->nrpc = first_existing(nmap_rpc_paths);
		if (u->erpc == NULL)
			u->erpc = first_existing(etc_rpc_paths);
	}
	if (u->iana == NULL && u->svc == NULL) {
		pdx_set_error("no source for the registry: give --from FILE|URL "
		    "(IANA's CSV) or install a services file "
		    "(/usr/share/wireshark/services or /etc/services)");
		return -1;
	}
	return 0;
}

/* The new database: schema, a transaction, the insert statements. */
static int
upd_open(struct upd *u)
{
	struct build *b = &u->b;

	if (sqlite3_open_v2(u->tmp, &b->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", u->tmp, b->db != NULL ?
		    sqlite3_errmsg(b->db) : "cannot create");
		return -1;
	}
	if (exec_sql(b->db, schema_sql, u->tmp) != 0 ||
	    exec_sql(b->db, "BEGIN", u->tmp) != 0)
		return -1;
	if (prepare(b->db, "INSERT INTO services VALUES (?,?,?,?,?,?,?)",
	    &b->ins_svc) != 0 ||
	    prepare(b->db, "INSERT INTO rpc VALUES (?,?,?,?)", &b->ins_rpc) != 0
	    || prepare(b->db, "INSERT OR REPLACE INTO meta VALUES (?,?)",
	    &b->ins_meta) != 0)
		return -1;
	return 0;
}

/* IANA's CSV, else a services file, as the rows of table iana. */
static int
upd_primary(struct upd *u)
{
	struct build *b = &u->b;
	const char *iana = u->iana, *path, *origin;
	long n;

	if (iana == NULL) {
		if (import_file(b, u->report, "services-primary", u->svc,
		    (parse_fn)pdx_services_parse,
		    (void *)add_service_as_iana) < 0)
			return -1;
		meta_set(b, "primary", "services");
		return store_iana(b);
	}
	path = u->dl[0] != '\0' ? u->dl : (strncmp(iana, "file://", 7) == 0 ?
	    iana + 7 : iana);
	n = import_file(b, u->report, "iana", path,
	    (parse_fn)pdx_iana_parse, (void *)add_iana_row);
	if (n < 0)
		return -1;
	if (n == 0) {
		pdx_set_error("%s: the IANA file has no rows", iana);
		return -1;
	}
	if (u->dl[0] != '\0') {
		/* name the URL, not the temporary file */
		json_t *s = json_array_get(json_object_get(u->report,
		    "sources"), 0);
		json_object_set_new(s, "path", json_string(iana));
	}
	meta_set(b, "primary", "iana");
	iana_csv_date(path, u->ianadate);
	meta_set(b, "iana_date", u->ianadate);
	origin = u->dl[0] != '\0' ? "downloaded" : u->origin != NULL ?
	    u->origin : "named";
	meta_set(b, "iana_origin", origin);
	json_object_set_new(u->report, "iana_date",
	    json_string(u->ianadate));
	json_object_set_new(u->report, "iana_origin", json_string(origin));
	b->rows_are_iana = 1;
	return store_iana(b);
}

/* services(5) names, nmap's frequencies, RPC names. */
static int
upd_secondary(struct upd *u)
{
	struct build *b = &u->b;
	const char *svc = u->svc;

	if (svc != NULL && import_file(b, u->report, "services", svc,
	    (parse_fn)pdx_services_parse, (void *)add_service) < 0)
		return -1;
	if (!u->o->no_search && strcmp(svc != NULL ? svc : "",
	    "/etc/services") != 0 && access("/etc/services", R_OK) == 0 &&
	    import_file(b, u->report, "etc-services", "/etc/services",
	    (parse_fn)pdx_services_parse, (void *)add_service) < 0)
		return -1;
	if (u->nm != NULL && (import_file(b, u->report, "nmap-services",
	    u->nm, (parse_fn)pdx_nmap_parse, (void *)add_nmap) < 0 ||
	    store_nmap(b) != 0))
		return -1;
	if (u->erpc != NULL && import_file(b, u->report, "etc-rpc", u->erpc,
	    (parse_fn)pdx_rpcnames_parse, (void *)add_rpc) < 0)
		return -1;
	if (u->nrpc != NULL && import_file(b, u->report, "nmap-rpc", u->nrpc,
	    (parse_fn)pdx_rpcnames_parse, (void *)add_rpc) < 0)
		return -1;
	return 0;
}

/* The meta rows and the build's identity, then COMMIT. */
static int
upd_commit(struct upd *u)
{
	struct build *b = &u->b;
	char when[32], sql[96];
	time_t now = time(NULL);
	struct tm tm;
	uint32_t nonce;

	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	meta_set(b, "built", when);
	meta_set(b, "sources", b->sources);
	meta_set(b, "schema", PDX_REGISTRY_SCHEMA_S);
	meta_set(b, "portdex_version", PDX_VERSION);
	/*
	 * A random user_version per build: with the size and the change
	 * counter it tells this registry from any other one
	 * (pdx_regid_read), so a brief file is never taken for another
	 * build's.  application_id marks the file as ours.
	 */
	if (getrandom(&nonce, sizeof nonce, 0) != sizeof nonce)
		nonce = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^
		    (uint32_t)u->t0.tv_nsec;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %ld; "
	    "PRAGMA application_id = %d", (long)(nonce & 0x7fffffff),
	    PDX_REGISTRY_APPID);
	if (exec_sql(b->db, sql, u->tmp) != 0)
		return -1;
	return exec_sql(b->db, "COMMIT", u->tmp);
}

/* The brief file, written by a second thread while the diff runs. */
static int
upd_brief_start(struct upd *u)
{
	const char *db = u->o->db_path;

	/* the registry's id is final now: the brief file can be written */
	if (pdx_regid_read(u->tmp, &u->bjob.id) != 0)
		return -1;
	if (snprintf(u->btmp, sizeof u->btmp, "%s.brief.new-%ld", db,
	    (long)getpid()) >= (int)sizeof u->btmp ||
	    snprintf(u->bpath, sizeof u->bpath, "%s.brief", db) >=
	    (int)sizeof u->bpath) {
		pdx_set_error("%s: path too long", db);
		u->btmp[0] = '\0';
		return -1;
	}
	u->bjob.b = &u->b;
	u->bjob.path = u->btmp;
	u->bjob.regpath = u->tmp;
	u->bjob.started = pthread_create(&u->bjob.tid, NULL, brief_job_run,
	    &u->bjob) == 0;
	u->bjob.pending = 1;
	return 0;
}

/* What changed against the registry being replaced (never fatal). */
static void
upd_diff(struct upd *u)
{
	struct build *b = &u->b;
	struct rowset none = { NULL, 0, 0 };
	sqlite3_stmt *st;
	int have_old = access(u->o->db_path, R_OK) == 0, attached = 0;

	json_object_set_new(u->report, "previous", json_boolean(have_old));
	if (!have_old)
		return;
	if (prepare(b->db, "ATTACH DATABASE ? AS old", &st) == 0) {
		sqlite3_bind_text(st, 1, u->o->db_path, -1, SQLITE_STATIC);
		attached = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_finalize(st);
	}
	if (!attached || build_diff(b->db, b->rows_are_iana ? &b->rows :
	    &none, u->report) != 0)
		json_object_set_new(u->report, "diff_error",
		    json_string(attached ? pdx_last_error() :
		    sqlite3_errmsg(b->db)));
	if (attached)
		exec_sql(b->db, "DETACH DATABASE old", u->tmp);
}

/*
 * Closes and syncs the new registry and renames it, then its brief file,
 * over the old ones.  The brief file names the registry by its size and
 * SQLite header (pdx_regid_read), which the rename keeps; check that
 * nothing changed it since COMMIT.  Registry first: between the two
 * renames the old brief file is stale, and stale brief files are passed
 * over.
 */
static int
upd_install(struct upd *u)
{
	struct build *b = &u->b;
	struct pdx_regid rid;

	sqlite3_finalize(b->ins_svc);
	sqlite3_finalize(b->ins_rpc);
	sqlite3_finalize(b->ins_meta);
	b->ins_svc = b->ins_rpc = b->ins_meta = NULL;
	if (sqlite3_close(b->db) != SQLITE_OK) {
		pdx_set_error("%s: %s", u->tmp, sqlite3_errmsg(b->db));
		b->db = NULL;
		return -1;
	}
	b->db = NULL;
	if (chmod(u->tmp, 0644) != 0 || fsync_path(u->tmp, 0) != 0) {
		pdx_set_error("%s: %s", u->tmp, strerror(errno));
		return -1;
	}
	u->bjob.pending = 0;
	if (brief_job_finish(&u->bjob) != 0) {
		u->btmp[0] = '\0';	/* removed already */
		return -1;
	}
	if (pdx_regid_read(u->tmp, &rid) != 0)
		return -1;
	if (rid.size != u->bjob.id.size ||
	    memcmp(rid.h, u->bjob.id.h, sizeof rid.h) != 0) {
		pdx_set_error("%s: changed after COMMIT", u->tmp);
		return -1;
	}
	if (rename(u->tmp, u->o->db_path) != 0) {
		pdx_set_error("%s: %s", u->o->db_path, strerror(errno));
		return -1;
	}
	u->tmp[0] = '\0';
	if (rename(u->btmp, u->bpath) != 0) {
		pdx_set_error("%s: %s", u->bpath, strerror(errno));
		return -1;
	}
	u->btmp[0] = '\0';
	if (u->dl[0] != '\0') {
		/* --download keeps IANA's CSV for later updates */
		char kept[PATH_MAX];

		kept_download_path(u->dir, kept, sizeof kept);
		if (kept[0] != '\0' && rename(u->dl, kept) == 0)
			u->dl[0] = '\0';
	}
	fsync_path(u->dir, 1);
	return 0;
}

/* Frees what the update holds and removes what a failed one left. */
static void
upd_free(struct upd *u, int ok)
{
	struct build *b = &u->b;
	int i;

	if (u->bjob.pending)
		(void)brief_job_finish(&u->bjob);	/* then removed below */
	sqlite3_finalize(b->ins_svc);
	sqlite3_finalize(b->ins_rpc);
	sqlite3_finalize(b->ins_meta);
	if (b->db != NULL)
		sqlite3_close(b->db);
	free_nmap(b);
	rowset_free(&b->rows);
	for (i = 0; i < PDX_NPROTO; i++)
		free(b->bwords[i]);
	free(b->bnames);
	free(b->boffs);
	if (!ok && u->tmp[0] != '\0')
		unlink(u->tmp);
	if (u->btmp[0] != '\0')
		unlink(u->btmp);
	if (u->dl[0] != '\0')
		unlink(u->dl);
	if (u->lockfd != -1)
		close(u->lockfd);
}

json_t *
pdx_update(const struct pdx_update_opts *o)
{
	struct upd *u;
	json_t *report = NULL;
	int ok = 0;

	if (o->db_path == NULL || *o->db_path == '\0') {
		pdx_set_error("no registry path");
		return NULL;
	}
	if ((u = calloc(1, sizeof *u)) == NULL) {	/* 6 paths: not on the stack */
		pdx_set_error("out of memory");
		return NULL;
	}
	u->o = o;
	u->lockfd = -1;
	u->iana = o->iana;
	u->svc = o->services;
	u->nm = o->nmap_services;
	u->nrpc = o->nmap_rpc;
	u->erpc = o->etc_rpc;
	clock_gettime(CLOCK_MONOTONIC, &u->t0);
	if (upd_prepare(u) != 0 || upd_open(u) != 0)
		goto out;
	stage(u->report, "setup", &u->t0);
	if (upd_primary(u) != 0)
		goto out;
	stage(u->report, "primary", &u->t0);
	if (upd_secondary(u) != 0)
		goto out;
	stage(u->report, "secondary", &u->t0);
	if (pdx_knowledge_import(u->b.db, o->knowledge_dir, u->report,
	    o->no_search) != 0)
		goto out;
	stage(u->report, "knowledge", &u->t0);
	if (exec_sql(u->b.db, index_sql, u->tmp) != 0 ||
	    pdx_related_build(u->b.db) != 0)
		goto out;
	stage(u->report, "indexes", &u->t0);
	if (build_search(&u->b, u->tmp) != 0)
		goto out;
	stage(u->report, "search", &u->t0);
	if (build_brief(&u->b) != 0)
		goto out;
	stage(u->report, "brief", &u->t0);
	if (upd_commit(u) != 0 || upd_brief_start(u) != 0)
		goto out;
	upd_diff(u);
	stage(u->report, "diff", &u->t0);
	json_object_set_new(u->report, "rows", json_integer(u->b.nrows));
	if (upd_install(u) != 0)
		goto out;
	stage(u->report, "commit", &u->t0);
	ok = 1;
out:
	upd_free(u, ok);
	if (ok)
		report = u->report;
	else
		json_decref(u->report);
	free(u);
	return report;
}
