/*
 * registry-build.c - `portdex update`: builds a new registry database from
 * the sources found (IANA CSV, services(5) files, nmap-services, RPC
 * names, curated knowledge), beside the old one, and renames it over it
 * only when everything went in.  Also computes what changed against the
 * previous database.  Reading the registry is registry.c's job; the
 * parsers are in sources.c and knowledge.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
	"CREATE TABLE brief(proto INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE TABLE brief_names(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	"CREATE VIRTUAL TABLE fts USING fts5(name, body, kind UNINDEXED,"
	" port_lo UNINDEXED, port_hi UNINDEXED, protomask UNINDEXED,"
	" summary UNINDEXED, tokenize='unicode61', detail='column');";

static const char index_sql[] =
	"CREATE INDEX iana_port ON iana(port_lo);"
	"CREATE INDEX iana_range ON iana(port_hi, port_lo)"
	" WHERE port_hi > port_lo;"
	"CREATE INDEX iana_name ON iana(name COLLATE NOCASE);"
	"CREATE INDEX services_port ON services(port_lo);"
	"CREATE INDEX services_name ON services(name COLLATE NOCASE);"
	"CREATE INDEX rpc_number ON rpc(number);";

struct nmap_rec;

struct build {
	sqlite3		*db;
	sqlite3_stmt	*ins_iana, *ins_svc, *ins_nmap, *ins_rpc, *ins_meta;
	const char	*origin;
	long		 nrows;
	struct nmap_rec	*nmap;
	size_t		 nnmap, capnmap;
	char		 sources[4096];	/* "iana:FILE (date), ..." for meta */
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

/* ---- importing each source ------------------------------------------- */

static int
add_iana_row(const struct pdx_iana_row *r, void *arg)
{
	struct build *b = arg;
	sqlite3_stmt *st = b->ins_iana;
	int i;

	sqlite3_bind_text(st, 1, b->origin, -1, SQLITE_STATIC);
	for (i = 0; i < PDX_NCOLS; i++)
		sqlite3_bind_text(st, 2 + i, r->f[i], -1, SQLITE_STATIC);
	if (r->port_lo >= 0) {
		sqlite3_bind_int(st, 14, r->port_lo);
		sqlite3_bind_int(st, 15, r->port_hi);
	} else {
		sqlite3_bind_null(st, 14);
		sqlite3_bind_null(st, 15);
	}
	sqlite3_bind_int(st, 16, r->proto);
	sqlite3_bind_int(st, 17, r->status);
	if (r->was != NULL)
		sqlite3_bind_text(st, 18, r->was, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 18);
	b->nrows++;
	return step_done(b->db, st, "registry") == 0 ? 0 : -1;
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

static int
by_frequency(const void *a, const void *b)
{
	const struct nmap_rec *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->freq != y->freq)
		return x->freq > y->freq ? -1 : 1;
	return x->port - y->port;
}

/* Rank 1 is the port nmap sees open most often, per transport. */
static int
by_port(const void *a, const void *b)
{
	const struct nmap_rec *x = a, *y = b;

	if (x->port != y->port)
		return x->port - y->port;
	return x->proto - y->proto;
}

static int
store_nmap(struct build *b)
{
	size_t i;
	int rank = 0, proto = -1;

	qsort(b->nmap, b->nnmap, sizeof *b->nmap, by_frequency);
	for (i = 0; i <= b->nnmap; i++) {
		struct nmap_rec *r = &b->nmap[i];

		if (i == b->nnmap || r->proto != proto) {
			if (proto != -1) {
				char k[32], v[16];

				/* how many ports a rank is out of */
				snprintf(k, sizeof k, "nmap.ranked.%d", proto);
				snprintf(v, sizeof v, "%d", rank);
				if (meta_set(b, k, v) != 0)
					return -1;
			}
			if (i == b->nnmap)
				break;
			proto = r->proto;
			rank = 0;
		}
		r->rank = ++rank;
	}
	/* Stored in key order: appends instead of random B-tree inserts. */
	qsort(b->nmap, b->nnmap, sizeof *b->nmap, by_port);
	for (i = 0; i < b->nnmap; i++) {
		struct nmap_rec *r = &b->nmap[i];
		sqlite3_stmt *st = b->ins_nmap;

		sqlite3_bind_int(st, 1, r->port);
		sqlite3_bind_int(st, 2, r->proto);
		sqlite3_bind_text(st, 3, r->name, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, r->freq);
		sqlite3_bind_int(st, 5, r->rank);
		if (step_done(b->db, st, "nmap-services") != 0)
			return -1;
	}
	return 0;
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
 * The brief table: for each transport, 65,536 little-endian uint32 words
 * (name index << 16 | risk << 8 | status), and the names, NUL-separated,
 * index 0 being the empty name.
 */
static int
build_brief(struct build *b)
{
	uint32_t *words[PDX_NPROTO];
	sqlite3_stmt *st = NULL, *ins = NULL;
	char *names = NULL;
	size_t nlen = 1, ncap = 1 << 16, last = 0;
	unsigned nnames = 1;
	int i, rc = -1;

	memset(words, 0, sizeof words);
	for (i = 0; i < PDX_NPROTO; i++)
		if ((words[i] = calloc(65536, sizeof(uint32_t))) == NULL)
			goto nomem;
	if ((names = malloc(ncap)) == NULL)
		goto nomem;
	names[0] = '\0';	/* id 0: no name */

	if (prepare(b->db, "SELECT port_lo, port_hi, protomask, status, name"
	    " FROM iana WHERE port_lo IS NOT NULL ORDER BY id", &st) != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int lo = sqlite3_column_int(st, 0);
		int hi = sqlite3_column_int(st, 1);
		int mask = sqlite3_column_int(st, 2);
		uint32_t status = (uint32_t)sqlite3_column_int(st, 3);
		const char *name = (const char *)sqlite3_column_text(st, 4);
		uint32_t nid = 0;

		if (mask == 0)
			mask = PDX_PROTO_ALL;
		if (name != NULL && *name != '\0' &&
		    status == PDX_ST_ASSIGNED) {
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
				uint32_t cur = w & 0xff;

				if (status > cur || (w == 0 && status == 0))
					w = (w & ~0xffu) | status;
				if ((w >> 16) == 0 && nid != 0 &&
				    status == PDX_ST_ASSIGNED)
					w = (w & 0xffffu) |
					    ((nid & 0xffffu) << 16);
				words[i][p] = w;
			}
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (pdx_risk_fill(b->db, words) != 0)
		goto out;
	if (prepare(b->db, "INSERT INTO brief(proto, data) VALUES(?, ?)",
	    &ins) != 0)
		goto out;
	for (i = 0; i < PDX_NPROTO; i++) {
		sqlite3_bind_int(ins, 1, 1 << i);
		sqlite3_bind_blob(ins, 2, words[i], 65536 * 4, SQLITE_STATIC);
		if (step_done(b->db, ins, "brief") != 0)
			goto out;
	}
	sqlite3_finalize(ins);
	ins = NULL;
	if (prepare(b->db, "INSERT INTO brief_names(id, data) VALUES(1, ?)",
	    &ins) != 0)
		goto out;
	sqlite3_bind_blob(ins, 1, names, (int)nlen, SQLITE_STATIC);
	if (step_done(b->db, ins, "brief") != 0)
		goto out;
	rc = 0;
	goto out;
nomem:
	pdx_set_error("registry: out of memory");
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	for (i = 0; i < PDX_NPROTO; i++)
		free(words[i]);
	free(names);
	return rc;
}

static const char fts_sql[] =
	/* One document per IANA service/port (tcp and udp rows merged). */
	"INSERT INTO fts(name, body, kind, port_lo, port_hi, protomask,"
	" summary)"
	" SELECT name, description || ' ' || notes || ' ' || unauth,"
	"  'iana', port_lo, port_hi, sum(DISTINCT protomask), description"
	" FROM iana WHERE status >= 3 OR name != ''"
	" GROUP BY name, port_lo, port_hi, description;"
	"INSERT INTO fts(name, body, kind, port_lo, port_hi, protomask,"
	" summary)"
	" SELECT s.name, s.aliases || ' ' || s.comment, 'services', s.port_lo,"
	"  s.port_hi, s.protomask, s.comment FROM services s WHERE NOT EXISTS"
	"  (SELECT 1 FROM iana i WHERE i.name = s.name COLLATE NOCASE"
	"   AND i.port_lo = s.port_lo);";

/* ---- diff against the previous registry ------------------------------ */

static const char *const diff_cols[] = {
	"description", "assignee", "contact", "reg_date", "mod_date",
	"reference", "service_code", "unauth", "notes",
};

static json_t *
row_key(const char *name, const char *port, const char *proto)
{
	return json_pack("{s:s, s:s, s:s}", "service_name", name, "port", port,
	    "transport", proto);
}

/*
 * Compares the iana rows of the attached database "old" with the new
 * ones.  Rows are matched by (name, port, proto, occurrence): both sides
 * are read in key order and merged, so the cost is two sorted scans.  A
 * row that keeps its key but changes a field is "changed", with the
 * fields named.
 */
#define DIFF_SELECT \
	"SELECT name, port, proto, description, assignee, contact, reg_date," \
	" mod_date, reference, service_code, unauth, notes FROM %s.iana" \
	" WHERE origin = 'iana' ORDER BY name, port, proto, id"

static int
key_cmp(sqlite3_stmt *a, int ka, sqlite3_stmt *b, int kb)
{
	int i, c;

	for (i = 0; i < 3; i++) {
		c = strcmp((const char *)sqlite3_column_text(a, i),
		    (const char *)sqlite3_column_text(b, i));
		if (c != 0)
			return c;
	}
	return ka - kb;
}

static json_t *
stmt_key(sqlite3_stmt *st)
{
	return row_key((const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1),
	    (const char *)sqlite3_column_text(st, 2));
}

/* Steps st and works out the occurrence number of the row's key. */
static int
diff_step(sqlite3_stmt *st, char prev[3][256], int *k)
{
	int i, same = 1;

	if (sqlite3_step(st) != SQLITE_ROW)
		return 0;
	for (i = 0; i < 3; i++) {
		const char *v = (const char *)sqlite3_column_text(st, i);

		if (strncmp(prev[i], v, 255) != 0)
			same = 0;
		snprintf(prev[i], 256, "%s", v);
	}
	*k = same ? *k + 1 : 0;
	return 1;
}

static int
build_diff(sqlite3 *db, json_t *report)
{
	sqlite3_stmt *n = NULL, *o = NULL;
	char sql[512], pn[3][256] = { "", "", "" }, po[3][256] = {
	    "\x01", "", "" };
	json_t *added = json_array(), *removed = json_array(),
	    *changed = json_array(), *diff;
	int hn, ho, kn = -1, ko = -1, rc = -1;

	pn[0][0] = '\x01';
	snprintf(sql, sizeof sql, DIFF_SELECT, "main");
	if (prepare(db, sql, &n) != 0)
		goto out;
	snprintf(sql, sizeof sql, DIFF_SELECT, "old");
	if (prepare(db, sql, &o) != 0)
		goto out;
	hn = diff_step(n, pn, &kn);
	ho = diff_step(o, po, &ko);
	while (hn || ho) {
		int c = !hn ? 1 : !ho ? -1 : key_cmp(n, kn, o, ko);

		if (c < 0) {
			json_array_append_new(added, stmt_key(n));
			hn = diff_step(n, pn, &kn);
		} else if (c > 0) {
			json_array_append_new(removed, stmt_key(o));
			ho = diff_step(o, po, &ko);
		} else {
			json_t *fields = json_object();
			size_t i;

			for (i = 0; i < sizeof diff_cols / sizeof *diff_cols;
			    i++) {
				const char *a = (const char *)
				    sqlite3_column_text(o, 3 + (int)i);
				const char *b = (const char *)
				    sqlite3_column_text(n, 3 + (int)i);

				if (strcmp(a, b) != 0)
					json_object_set_new(fields,
					    diff_cols[i], json_pack(
					    "{s:s, s:s}", "old", a, "new", b));
			}
			if (json_object_size(fields) > 0) {
				json_t *k = stmt_key(n);

				json_object_set_new(k, "fields", fields);
				json_array_append_new(changed, k);
			} else
				json_decref(fields);
			hn = diff_step(n, pn, &kn);
			ho = diff_step(o, po, &ko);
		}
	}
	diff = json_pack("{s:I, s:I, s:I, s:O, s:O, s:O}",
	    "added_count", (json_int_t)json_array_size(added),
	    "removed_count", (json_int_t)json_array_size(removed),
	    "changed_count", (json_int_t)json_array_size(changed),
	    "added", added, "removed", removed, "changed", changed);
	json_object_set_new(report, "diff", diff);
	rc = 0;
out:
	sqlite3_finalize(n);
	sqlite3_finalize(o);
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

json_t *
pdx_update(const struct pdx_update_opts *o)
{
	struct build b;
	json_t *report = NULL;
	char tmp[PATH_MAX] = "", dir[PATH_MAX], dl[PATH_MAX] = "";
	const char *iana = o->iana, *svc = o->services, *nm = o->nmap_services;
	const char *nrpc = o->nmap_rpc, *erpc = o->etc_rpc;
	int lockfd = -1, ok = 0, have_old;
	long n;

	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&b, 0, sizeof b);
	if (o->db_path == NULL || *o->db_path == '\0') {
		pdx_set_error("no registry path");
		return NULL;
	}
	dirname_of(o->db_path, dir, sizeof dir);
	if (mkdir_p(dir) != 0) {
		pdx_set_error("%s: cannot create directory: %s", dir,
		    strerror(errno));
		return NULL;
	}
	report = json_pack("{s:s, s:[]}", "database", o->db_path, "sources");
	if (lock_registry(o, &lockfd, report) != 0)
		goto fail;
	if (snprintf(tmp, sizeof tmp, "%s.new-%ld", o->db_path,
	    (long)getpid()) >= (int)sizeof tmp) {
		pdx_set_error("%s: path too long", o->db_path);
		goto fail;
	}
	unlink(tmp);

	if (iana != NULL && is_url(iana)) {
		snprintf(dl, sizeof dl, "%s.download-%ld", o->db_path,
		    (long)getpid());
		if (pdx_download(iana, dl, 120) != 0)
			goto fail;
		json_object_set_new(report, "downloaded", json_string(iana));
	}
	if (!o->no_search) {
		if (svc == NULL && iana == NULL)
			svc = first_existing(services_paths);
		if (nm == NULL)
			nm = first_existing(nmap_paths);
		if (nrpc == NULL)
			nrpc = first_existing(nmap_rpc_paths);
		if (erpc == NULL)
			erpc = first_existing(etc_rpc_paths);
	}
	if (iana == NULL && svc == NULL) {
		pdx_set_error("no source for the registry: give --from FILE|URL "
		    "(IANA's CSV) or install a services file "
		    "(/usr/share/wireshark/services or /etc/services)");
		goto fail;
	}

	if (sqlite3_open_v2(tmp, &b.db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", tmp, b.db != NULL ?
		    sqlite3_errmsg(b.db) : "cannot create");
		goto fail;
	}
	if (exec_sql(b.db, schema_sql, tmp) != 0 ||
	    exec_sql(b.db, "BEGIN", tmp) != 0)
		goto fail;
	if (prepare(b.db, "INSERT INTO iana(origin, name, port, proto,"
	    " description, assignee, contact, reg_date, mod_date, reference,"
	    " service_code, unauth, notes, port_lo, port_hi, protomask,"
	    " status, was) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	    &b.ins_iana) != 0 ||
	    prepare(b.db, "INSERT INTO services VALUES (?,?,?,?,?,?,?)",
	    &b.ins_svc) != 0 ||
	    prepare(b.db, "INSERT OR IGNORE INTO nmap(port, proto, name, freq,"
	    " rank) VALUES (?,?,?,?,?)", &b.ins_nmap) != 0 ||
	    prepare(b.db, "INSERT INTO rpc VALUES (?,?,?,?)", &b.ins_rpc) != 0
	    || prepare(b.db, "INSERT OR REPLACE INTO meta VALUES (?,?)",
	    &b.ins_meta) != 0)
		goto fail;

	stage(report, "setup", &t0);
	if (iana != NULL) {
		n = import_file(&b, report, "iana", dl[0] != '\0' ? dl :
		    (strncmp(iana, "file://", 7) == 0 ? iana + 7 : iana),
		    (parse_fn)pdx_iana_parse, (void *)add_iana_row);
		if (n < 0)
			goto fail;
		if (n == 0) {
			pdx_set_error("%s: the IANA file has no rows", iana);
			goto fail;
		}
		if (dl[0] != '\0') {
			/* name the URL, not the temporary file */
			json_t *s = json_array_get(json_object_get(report,
			    "sources"), 0);
			json_object_set_new(s, "path", json_string(iana));
		}
		meta_set(&b, "primary", "iana");
	} else {
		n = import_file(&b, report, "services-primary", svc,
		    (parse_fn)pdx_services_parse, (void *)add_service_as_iana);
		if (n < 0)
			goto fail;
		meta_set(&b, "primary", "services");
	}
	stage(report, "primary", &t0);
	if (svc != NULL && import_file(&b, report, "services", svc,
	    (parse_fn)pdx_services_parse, (void *)add_service) < 0)
		goto fail;
	if (!o->no_search && strcmp(svc != NULL ? svc : "", "/etc/services")
	    != 0 && access("/etc/services", R_OK) == 0 &&
	    import_file(&b, report, "etc-services", "/etc/services",
	    (parse_fn)pdx_services_parse, (void *)add_service) < 0)
		goto fail;
	if (nm != NULL && (import_file(&b, report, "nmap-services", nm,
	    (parse_fn)pdx_nmap_parse, (void *)add_nmap) < 0 ||
	    store_nmap(&b) != 0))
		goto fail;
	if (erpc != NULL && import_file(&b, report, "etc-rpc", erpc,
	    (parse_fn)pdx_rpcnames_parse, (void *)add_rpc) < 0)
		goto fail;
	if (nrpc != NULL && import_file(&b, report, "nmap-rpc", nrpc,
	    (parse_fn)pdx_rpcnames_parse, (void *)add_rpc) < 0)
		goto fail;
	stage(report, "secondary", &t0);
	if (pdx_knowledge_import(b.db, o->knowledge_dir, report, o->no_search)
	    != 0)
		goto fail;
	stage(report, "knowledge", &t0);
	if (exec_sql(b.db, index_sql, tmp) != 0)
		goto fail;
	stage(report, "indexes", &t0);
	if (exec_sql(b.db, fts_sql, tmp) != 0)
		goto fail;
	stage(report, "search", &t0);
	if (build_brief(&b) != 0)
		goto fail;
	stage(report, "brief", &t0);
	{
		char when[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		meta_set(&b, "built", when);
		meta_set(&b, "sources", b.sources);
		meta_set(&b, "schema", "1");
		meta_set(&b, "portdex_version", PDX_VERSION);
	}
	if (exec_sql(b.db, "COMMIT", tmp) != 0)
		goto fail;

	/* What changed against the registry being replaced. */
	have_old = access(o->db_path, R_OK) == 0;
	json_object_set_new(report, "previous", json_boolean(have_old));
	if (have_old) {
		sqlite3_stmt *st;
		int attached = 0;

		if (prepare(b.db, "ATTACH DATABASE ? AS old", &st) == 0) {
			sqlite3_bind_text(st, 1, o->db_path, -1,
			    SQLITE_STATIC);
			attached = sqlite3_step(st) == SQLITE_DONE;
			sqlite3_finalize(st);
		}
		if (!attached || build_diff(b.db, report) != 0) {
			json_object_set_new(report, "diff_error",
			    json_string(attached ? pdx_last_error() :
			    sqlite3_errmsg(b.db)));
		}
		if (attached)
			exec_sql(b.db, "DETACH DATABASE old", tmp);
	}
	stage(report, "diff", &t0);
	json_object_set_new(report, "rows", json_integer(b.nrows));

	sqlite3_finalize(b.ins_iana);
	sqlite3_finalize(b.ins_svc);
	sqlite3_finalize(b.ins_nmap);
	sqlite3_finalize(b.ins_rpc);
	sqlite3_finalize(b.ins_meta);
	b.ins_iana = b.ins_svc = b.ins_nmap = b.ins_rpc = b.ins_meta = NULL;
	if (sqlite3_close(b.db) != SQLITE_OK) {
		pdx_set_error("%s: %s", tmp, sqlite3_errmsg(b.db));
		b.db = NULL;
		goto fail;
	}
	b.db = NULL;
	if (chmod(tmp, 0644) != 0 || fsync_path(tmp, 0) != 0) {
		pdx_set_error("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, o->db_path) != 0) {
		pdx_set_error("%s: %s", o->db_path, strerror(errno));
		goto fail;
	}
	fsync_path(dir, 1);
	stage(report, "commit", &t0);
	ok = 1;
fail:
	sqlite3_finalize(b.ins_iana);
	sqlite3_finalize(b.ins_svc);
	sqlite3_finalize(b.ins_nmap);
	sqlite3_finalize(b.ins_rpc);
	sqlite3_finalize(b.ins_meta);
	if (b.db != NULL)
		sqlite3_close(b.db);
	free_nmap(&b);
	if (!ok && tmp[0] != '\0')
		unlink(tmp);
	if (dl[0] != '\0')
		unlink(dl);
	if (lockfd != -1)
		close(lockfd);
	if (!ok) {
		json_decref(report);
		return NULL;
	}
	return report;
}
