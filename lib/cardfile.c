/*
 * cardfile.c - the card file: the registry rows a card reads (meta, IANA,
 * nmap, services, curated uses, related ports), indexed by port, which
 * `portdex update` writes beside the registry as REGISTRY.card.  A card
 * read from it needs no SQLite at all: opening the registry, parsing its
 * schema and compiling the card's six statements were two thirds of a
 * card's instructions.  The card code reads both through one cursor
 * (struct pdx_rows): the same columns, in the same order, so the card is
 * the same byte for byte.
 *
 * Like the brief file, it names its registry by size and SQLite header
 * (pdx_regid_read): a registry rebuilt or changed in place makes it stale
 * and the card reads the registry.  A damaged file is never believed:
 * every row carries a checksum, as does each port's list of rows, the
 * list of wide rows and the header; a card that finds damage reads the
 * registry instead and the handle says why (pdx_db_card_note).  A card
 * reads the header, the wide list, its index entry, refs and rows with a
 * few preads.
 *
 * Layout, integers in host order (the byte-order word tells a file from
 * another machine), as in portdex-db(5):
 *
 *	0	magic "PDXCARD1", u32 version (1), u32 byte-order 0x01020304
 *	16	u32 registry schema, u32 tables (PDX_CT_N)
 *	24	u64 registry size, 12 bytes of its SQLite header (briefs.c)
 *	44	u32 wide rows, u32 refs, u32 row bytes, u32 checksum of the
 *		wide list, u32 checksum of these 64 bytes (this field 0)
 *	64	port index: 65,537 x (u32 first ref, u32 checksum of the
 *		port's refs, seeded with the port)
 *	...	wide rows (a range wider than CF_WIDE ports, and meta):
 *		wide x (u32 lo, u32 hi, u32 row offset), by offset
 *	...	refs: u32 row offsets, each port's by offset
 *	...	rows: u32 length (with this 12-byte head), u8 table, u8
 *		columns, u16 0, u32 checksum of the values; then each value:
 *		u8 type (0 NULL, 1 integer: i64, 2 real: double, 3 text: u32
 *		length, the bytes, a NUL)
 *
 * A table's rows are written in the order its query returns them, tables
 * one after the other, so a port's rows sorted by offset are in query
 * order.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portdex.h"
#include "registry-int.h"
#include "util-int.h"

#define CF_MAGIC "PDXCARD1"
#define CF_VERSION 1
#define CF_ORDER 0x01020304u
#define CF_HEADER 64
#define CF_INDEX ((size_t)65537 * 8)
#define CF_WIDE 64 /* wider ranges: the wide list */
#define CF_ROWHEAD 12
#define CF_MAX_ROWS 4096 /* rows of one port, all tables */

struct cf_header {
	char magic[8];
	uint32_t version, order;
	uint32_t schema, ntables;
	uint64_t size;
	unsigned char id[12];
	uint32_t nwide, nrefs, rows_len, wide_sum, head_sum;
};
_Static_assert(sizeof(struct cf_header) == CF_HEADER, "card header");

/*
 * Read with pread (a mapping of a freshly written file took whole large
 * folios into the resident set: 3.7 MB more for one card), or from memory
 * (pdx_cfile_open_mem, the fuzzer).
 */
struct pdx_cfile {
	int fd; /* -1: mem */
	const unsigned char *mem;
	uint64_t len;
	char *path;
	uint64_t index, refs, rows; /* section offsets */
	unsigned char *wide;	    /* the wide list, read at open */
	uint32_t nwide, nrefs, rows_len;
};

/*
 * The tables: the card's query of each (card.c, knowledge-db.c) selects
 * the first ncols columns of the dump query below in the same order; the
 * dump adds the row's port range.  sql NULL: an optional table missing.
 */
static const struct cf_table {
	int ncols;
	const char *sql;
} tables[PDX_CT_N] = {
	[PDX_CT_META] = { 2,
	    "SELECT key, value, 0, 65535 FROM meta WHERE"
	    " key IN ('primary', 'iana_origin', 'iana_date', 'span.iana',"
	    " 'span.services') OR key GLOB 'nmap.ranked.*'" },
	[PDX_CT_IANA] = { 17,
	    "SELECT name, port, proto, description,"
	    " assignee, contact, reg_date, mod_date, reference, service_code,"
	    " unauth, notes, status, was, protomask, origin, id, port_lo,"
	    " port_hi FROM iana WHERE port_lo IS NOT NULL ORDER BY id" },
	[PDX_CT_NMAP] = { 4,
	    "SELECT name, freq, rank, proto, port, port"
	    " FROM nmap ORDER BY port, proto" },
	[PDX_CT_SERVICES] = { 5,
	    "SELECT name, aliases, comment, source,"
	    " protomask, port_lo, port_hi FROM services"
	    " WHERE source != 'services-primary' ORDER BY rowid" },
	[PDX_CT_USES] = { 11,
	    "SELECT port_lo, port_hi, protomask, kind, name,"
	    " platform, years, confidence, source, text, lead, port_lo, port_hi"
	    " FROM uses ORDER BY id" },
	[PDX_CT_RELATED] = { 5,
	    "SELECT lo, hi, reason, source, service, k_lo,"
	    " k_hi FROM related_by_port ORDER BY rowid" },
};

static uint32_t
fnv32(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619u;
	return h;
}

#define FNV_SEED 2166136261u

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* ---- writing ------------------------------------------------------- */

struct cf_buf {
	unsigned char *p;
	size_t len, cap;
};

struct cf_span {
	uint32_t lo, hi, off;
};

struct pdx_cbuild {
	struct cf_buf rows, wide;
	struct cf_span *narrow;
	size_t nnarrow, capnarrow;
	uint32_t nwide;
};

void
pdx_cbuild_free(struct pdx_cbuild *cb)
{
	if (cb == NULL)
		return;
	free(cb->rows.p);
	free(cb->wide.p);
	free(cb->narrow);
	free(cb);
}

/* Room for n more bytes in b; -1 with the error set. */
static int
buf_room(struct cf_buf *b, size_t n)
{
	unsigned char *q;
	size_t cap;

	if (b->len + n <= b->cap)
		return 0;
	for (cap = b->cap ? b->cap : 65536; cap < b->len + n; cap *= 2)
		;
	if ((q = realloc(b->p, cap)) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	b->p = q;
	b->cap = cap;
	return 0;
}

/* One row of table t from the dump statement: its values, its range. */
static int
add_row(struct pdx_cbuild *cb, int t, sqlite3_stmt *st)
{
	int nc = tables[t].ncols, i;
	sqlite3_int64 lo = sqlite3_column_int64(st, nc);
	sqlite3_int64 hi = sqlite3_column_int64(st, nc + 1);
	struct cf_buf *b = &cb->rows;
	size_t start = b->len;
	uint32_t len, sum;

	if (lo < 0 || hi > 65535 || hi < lo)
		return 0; /* no port's query returns it */
	if (b->len > UINT32_MAX / 2) {
		pdx_set_error("card file: too many rows");
		return -1;
	}
	if (buf_room(b, CF_ROWHEAD) != 0)
		return -1;
	memset(b->p + b->len, 0, CF_ROWHEAD);
	b->len += CF_ROWHEAD;
	for (i = 0; i < nc; i++) {
		int type = sqlite3_column_type(st, i);
		const unsigned char *s;
		uint32_t n;

		if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
			int64_t v = sqlite3_column_int64(st, i);
			double d = sqlite3_column_double(st, i);

			if (buf_room(b, 9) != 0)
				return -1;
			b->p[b->len] = type == SQLITE_INTEGER ? PDX_CV_INT
							      : PDX_CV_REAL;
			if (type == SQLITE_INTEGER)
				memcpy(b->p + b->len + 1, &v, 8);
			else
				memcpy(b->p + b->len + 1, &d, 8);
			b->len += 9;
		} else if (type == SQLITE_NULL) {
			if (buf_room(b, 1) != 0)
				return -1;
			b->p[b->len++] = PDX_CV_NULL;
		} else {
			s = sqlite3_column_text(st, i);
			n = (uint32_t)sqlite3_column_bytes(st, i);
			if (s == NULL) {
				pdx_set_error("out of memory");
				return -1;
			}
			if (buf_room(b, (size_t)n + 6) != 0)
				return -1;
			b->p[b->len] = PDX_CV_TEXT;
			memcpy(b->p + b->len + 1, &n, 4);
			memcpy(b->p + b->len + 5, s, n);
			b->p[b->len + 5 + n] = '\0';
			b->len += (size_t)n + 6;
		}
	}
	len = (uint32_t)(b->len - start);
	sum = fnv32(FNV_SEED, b->p + start + CF_ROWHEAD, len - CF_ROWHEAD);
	memcpy(b->p + start, &len, 4);
	b->p[start + 4] = (unsigned char)t;
	b->p[start + 5] = (unsigned char)nc;
	memcpy(b->p + start + 8, &sum, 4);
	if (t == PDX_CT_META || hi - lo >= CF_WIDE) {
		struct cf_span w = { (uint32_t)lo, (uint32_t)hi,
			(uint32_t)start };

		if (buf_room(&cb->wide, sizeof w) != 0)
			return -1;
		memcpy(cb->wide.p + cb->wide.len, &w, sizeof w);
		cb->wide.len += sizeof w;
		cb->nwide++;
		return 0;
	}
	if (cb->nnarrow == cb->capnarrow) {
		size_t cap = cb->capnarrow ? cb->capnarrow * 2 : 8192;
		struct cf_span *n = realloc(cb->narrow, cap * sizeof *n);

		if (n == NULL) {
			pdx_set_error("out of memory");
			return -1;
		}
		cb->narrow = n;
		cb->capnarrow = cap;
	}
	cb->narrow[cb->nnarrow++] = (struct cf_span){ (uint32_t)lo,
		(uint32_t)hi, (uint32_t)start };
	return 0;
}

struct pdx_cbuild *
pdx_cbuild_make(sqlite3 *db)
{
	struct pdx_cbuild *cb;
	sqlite3_stmt *st;
	int t, rc;

	if ((cb = calloc(1, sizeof *cb)) == NULL) {
		pdx_set_error("out of memory");
		return NULL;
	}
	for (t = 0; t < PDX_CT_N; t++) {
		if (t == PDX_CT_USES && !pdx_sqlite_has_table(db, "uses"))
			continue; /* a registry without curated data */
		if (t == PDX_CT_RELATED &&
		    !pdx_sqlite_has_table(db, "related_by_port"))
			continue;
		if (sqlite3_prepare_v2(db, tables[t].sql, -1, &st, NULL) !=
		    SQLITE_OK) {
			pdx_set_error("card file: %s", sqlite3_errmsg(db));
			pdx_cbuild_free(cb);
			return NULL;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			if (add_row(cb, t, st) != 0)
				break;
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			if (rc != SQLITE_ROW)
				pdx_set_error("card file: %s",
				    sqlite3_errmsg(db));
			pdx_cbuild_free(cb);
			return NULL;
		}
	}
	return cb;
}

/* The port index and refs of the narrow rows (counting sort by port). */
static int
make_refs(const struct pdx_cbuild *cb, uint32_t **idxp, uint32_t **refsp,
    uint32_t *nrefsp)
{
	uint32_t *idx, *refs, *fill, p;
	uint64_t n = 0;
	size_t k;

	if ((idx = calloc(65537 * 2, 4)) == NULL ||
	    (fill = calloc(65537, 4)) == NULL) {
		free(idx);
		pdx_set_error("out of memory");
		return -1;
	}
	for (k = 0; k < cb->nnarrow; k++)
		for (p = cb->narrow[k].lo; p <= cb->narrow[k].hi; p++) {
			fill[p + 1]++;
			n++;
		}
	if (n > UINT32_MAX / 8 || (refs = malloc(n ? n * 4 : 4)) == NULL) {
		free(idx);
		free(fill);
		pdx_set_error("out of memory");
		return -1;
	}
	for (p = 1; p <= 65536; p++)
		fill[p] += fill[p - 1];
	for (p = 0; p <= 65536; p++)
		idx[p * 2] = fill[p];
	/* rows in offset order: each port's refs come out sorted */
	for (k = 0; k < cb->nnarrow; k++)
		for (p = cb->narrow[k].lo; p <= cb->narrow[k].hi; p++)
			refs[fill[p]++] = cb->narrow[k].off;
	for (p = 0; p < 65536; p++) {
		uint32_t seed = fnv32(FNV_SEED, &p, 4);

		idx[p * 2 + 1] = fnv32(seed, refs + idx[p * 2],
		    (size_t)(idx[p * 2 + 2] - idx[p * 2]) * 4);
	}
	free(fill);
	*idxp = idx;
	*refsp = refs;
	*nrefsp = (uint32_t)n;
	return 0;
}

int
pdx_cfile_write(const char *path, const struct pdx_cbuild *cb,
    const struct pdx_regid *reg)
{
	struct cf_header h;
	uint32_t *idx = NULL, *refs = NULL, nrefs = 0;
	struct iovec iov[5];
	int rc;

	if (make_refs(cb, &idx, &refs, &nrefs) != 0)
		return -1;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, CF_MAGIC, 8);
	h.version = CF_VERSION;
	h.order = CF_ORDER;
	h.schema = PDX_REGISTRY_SCHEMA;
	h.ntables = PDX_CT_N;
	h.size = reg->size;
	memcpy(h.id, reg->h, sizeof h.id);
	h.nwide = cb->nwide;
	h.nrefs = nrefs;
	h.rows_len = (uint32_t)cb->rows.len;
	h.wide_sum = fnv32(FNV_SEED, cb->wide.p, cb->wide.len);
	h.head_sum = fnv32(FNV_SEED, &h, sizeof h);
	iov[0] = (struct iovec){ &h, sizeof h };
	iov[1] = (struct iovec){ idx, CF_INDEX };
	iov[2] = (struct iovec){ cb->wide.p, cb->wide.len };
	iov[3] = (struct iovec){ refs, (size_t)nrefs * 4 };
	iov[4] = (struct iovec){ cb->rows.p, cb->rows.len };
	rc = pdx_write_file(path, iov, 5);
	free(idx);
	free(refs);
	return rc;
}

/* ---- reading ------------------------------------------------------- */

void
pdx_cfile_close(struct pdx_cfile *f)
{
	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->wide);
	free(f->path);
	free(f);
}

/* n bytes at off of the file into buf; 0, or -1 (errno set, 0: short). */
static int
cf_read(const struct pdx_cfile *f, uint64_t off, void *buf, size_t n)
{
	errno = 0;
	if (off > f->len || f->len - off < n)
		return -1;
	if (f->fd < 0) {
		memcpy(buf, f->mem + off, n);
		return 0;
	}
	return pdx_pread_full(f->fd, buf, n, (off_t)off);
}

static int
cf_bad(struct pdx_cfile *f, const char *what)
{
	pdx_set_error("%s: damaged card file (%s); 'portdex update' "
		      "rewrites it",
	    f->path, what);
	pdx_cfile_close(f);
	return PDX_BF_BAD;
}

/* Checks the header and reads the wide list; f->len and the source set. */
static int
cf_open(struct pdx_cfile *f, const struct pdx_regid *reg)
{
	struct cf_header h;
	uint64_t want;
	uint32_t sum;

	if (cf_read(f, 0, &h, sizeof h) != 0)
		return cf_bad(f,
		    errno != 0 ? strerror(errno) : "shorter than its header");
	if (memcmp(h.magic, CF_MAGIC, 8) != 0)
		return cf_bad(f, "no PDXCARD1 mark");
	if (h.version != CF_VERSION || h.order != CF_ORDER ||
	    h.schema != PDX_REGISTRY_SCHEMA || h.ntables != PDX_CT_N) {
		pdx_set_error("%s: card file of another format", f->path);
		pdx_cfile_close(f);
		return PDX_BF_STALE;
	}
	sum = h.head_sum;
	h.head_sum = 0;
	if (fnv32(FNV_SEED, &h, sizeof h) != sum)
		return cf_bad(f, "header checksum");
	want = CF_HEADER + CF_INDEX + (uint64_t)h.nwide * 12 +
	    (uint64_t)h.nrefs * 4 + h.rows_len;
	if (want != f->len)
		return cf_bad(f, "wrong length");
	if (reg != NULL &&
	    (h.size != reg->size || memcmp(h.id, reg->h, sizeof h.id) != 0)) {
		pdx_set_error("%s: made for another registry file", f->path);
		pdx_cfile_close(f);
		return PDX_BF_STALE;
	}
	f->index = CF_HEADER;
	f->refs = CF_HEADER + CF_INDEX + (uint64_t)h.nwide * 12;
	f->rows = f->refs + (uint64_t)h.nrefs * 4;
	f->nwide = h.nwide;
	f->nrefs = h.nrefs;
	f->rows_len = h.rows_len;
	if ((f->wide = malloc((size_t)h.nwide * 12 + 1)) == NULL) {
		pdx_set_error("out of memory");
		pdx_cfile_close(f);
		return PDX_BF_BAD;
	}
	if (cf_read(f, CF_HEADER + CF_INDEX, f->wide, (size_t)h.nwide * 12) !=
	    0)
		return cf_bad(f, "cut short while read");
	if (fnv32(FNV_SEED, f->wide, (size_t)h.nwide * 12) != h.wide_sum)
		return cf_bad(f, "wide rows checksum");
	return PDX_BF_OK;
}

static struct pdx_cfile *
cf_new(const char *path)
{
	struct pdx_cfile *f;

	if ((f = calloc(1, sizeof *f)) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		free(f);
		pdx_set_error("out of memory");
		return NULL;
	}
	f->fd = -1;
	return f;
}

int
pdx_cfile_open_mem(const void *buf, size_t len, const char *path,
    const struct pdx_regid *reg, struct pdx_cfile **out)
{
	struct pdx_cfile *f;
	int rc;

	*out = NULL;
	if ((f = cf_new(path)) == NULL)
		return PDX_BF_BAD;
	f->mem = buf;
	f->len = len;
	if ((rc = cf_open(f, reg)) == PDX_BF_OK)
		*out = f;
	return rc;
}

int
pdx_cfile_open(const char *path, const struct pdx_regid *reg,
    struct pdx_cfile **out)
{
	struct pdx_cfile *f;
	struct stat st;
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return errno == ENOENT ? PDX_BF_NONE : PDX_BF_BAD;
	}
	if ((f = cf_new(path)) == NULL) {
		close(fd);
		return PDX_BF_BAD;
	}
	f->fd = fd;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return cf_bad(f, "not a regular file");
	f->len = (uint64_t)st.st_size;
	if ((rc = cf_open(f, reg)) == PDX_BF_OK)
		*out = f;
	return rc;
}

void
pdx_cport_free(struct pdx_cport *cp)
{
	free(cp->row);
	free(cp->col);
	free(cp->data);
	memset(cp, 0, sizeof *cp);
}

/* Checks the row at r (len bytes read) and appends its values. */
static int
take_row(const unsigned char *r, uint32_t len, struct pdx_cport *cp,
    size_t *capcol, const char **what)
{
	const unsigned char *p, *end;
	int t, nc, i;

	t = r[4];
	nc = r[5];
	*what = "row head";
	if (t >= PDX_CT_N || nc != tables[t].ncols || r[6] != 0 || r[7] != 0)
		return -1;
	*what = "row checksum";
	if (fnv32(FNV_SEED, r + CF_ROWHEAD, len - CF_ROWHEAD) != get32(r + 8))
		return -1;
	if (cp->ncol + (size_t)nc > *capcol) {
		size_t cap = *capcol ? *capcol * 2 : 64;
		struct pdx_cval *c;

		while (cap < cp->ncol + (size_t)nc)
			cap *= 2;
		*what = "out of memory";
		if ((c = realloc(cp->col, cap * sizeof *c)) == NULL)
			return -1;
		cp->col = c;
		*capcol = cap;
	}
	cp->row[cp->n].table = t;
	cp->row[cp->n].col = cp->ncol;
	p = r + CF_ROWHEAD;
	end = r + len;
	*what = "row values";
	for (i = 0; i < nc; i++) {
		struct pdx_cval *v = &cp->col[cp->ncol + (size_t)i];
		uint32_t n;

		memset(v, 0, sizeof *v);
		if (p >= end)
			return -1;
		v->tag = *p++;
		switch (v->tag) {
		case PDX_CV_NULL:
			break;
		case PDX_CV_INT:
		case PDX_CV_REAL:
			if (end - p < 8)
				return -1;
			if (v->tag == PDX_CV_INT)
				memcpy(&v->i, p, 8);
			else
				memcpy(&v->d, p, 8);
			p += 8;
			break;
		case PDX_CV_TEXT:
			if (end - p < 4)
				return -1;
			n = get32(p);
			p += 4;
			if ((size_t)(end - p) <= n || p[n] != '\0')
				return -1;
			v->s = (const char *)p;
			p += n + 1;
			break;
		default:
			return -1;
		}
	}
	if (p != end)
		return -1;
	cp->ncol += (size_t)nc;
	cp->n++;
	return 0;
}

#define CF_FIRST_READ 512 /* most rows are shorter: one read each */

/* Reads the row at off into cp->data; its place in *at, length in *len. */
static int
read_row(const struct pdx_cfile *f, uint32_t off, struct pdx_cport *cp,
    size_t *capdata, size_t *at, uint32_t *len, const char **what)
{
	size_t first;
	unsigned char *d;

	*what = "row out of bounds";
	if (off > f->rows_len || f->rows_len - off < CF_ROWHEAD)
		return -1;
	first = f->rows_len - off < CF_FIRST_READ ? f->rows_len - off
						  : CF_FIRST_READ;
	if (cp->ndata + first > *capdata) {
		size_t cap = *capdata ? *capdata * 2 : 8192;

		while (cap < cp->ndata + first)
			cap *= 2;
		*what = "out of memory";
		if ((d = realloc(cp->data, cap)) == NULL)
			return -1;
		cp->data = d;
		*capdata = cap;
	}
	*what = "cut short while read";
	if (cf_read(f, f->rows + off, cp->data + cp->ndata, first) != 0)
		return -1;
	*len = get32(cp->data + cp->ndata);
	*what = "row out of bounds";
	if (*len < CF_ROWHEAD || *len > f->rows_len - off)
		return -1;
	if (*len > first) {
		if (cp->ndata + *len > *capdata) {
			size_t cap = *capdata * 2;

			while (cap < cp->ndata + *len)
				cap *= 2;
			*what = "out of memory";
			if ((d = realloc(cp->data, cap)) == NULL)
				return -1;
			cp->data = d;
			*capdata = cap;
		}
		*what = "cut short while read";
		if (cf_read(f, f->rows + off + first,
			cp->data + cp->ndata + first, *len - first) != 0)
			return -1;
	}
	*at = cp->ndata;
	cp->ndata += *len;
	return 0;
}

int
pdx_cfile_port(const struct pdx_cfile *f, unsigned port, struct pdx_cport *cp)
{
	unsigned char ix[16];
	uint32_t a, b, k, w, seed, p32 = port, *refs = NULL, *lens = NULL;
	size_t capcol = 0, capdata = 0, caprow, nrow = 0, *at = NULL, i;
	const char *what = "port index";

	memset(cp, 0, sizeof *cp);
	if (port > 65535) {
		pdx_set_error("port %u is out of range 0-65535", port);
		return -1;
	}
	if (cf_read(f, f->index + (uint64_t)port * 8, ix, sizeof ix) != 0) {
		what = "cut short while read";
		goto bad;
	}
	a = get32(ix);
	b = get32(ix + 8);
	if (a > b || b > f->nrefs || b - a > CF_MAX_ROWS)
		goto bad;
	caprow = (size_t)(b - a) + f->nwide;
	if ((refs = malloc(((size_t)(b - a) + 1) * 4)) == NULL ||
	    (cp->row = malloc((caprow + 1) * sizeof *cp->row)) == NULL ||
	    (at = malloc((caprow + 1) * sizeof *at)) == NULL ||
	    (lens = malloc((caprow + 1) * sizeof *lens)) == NULL) {
		what = "out of memory";
		goto bad;
	}
	if (cf_read(f, f->refs + (uint64_t)a * 4, refs, (size_t)(b - a) * 4) !=
	    0) {
		what = "cut short while read";
		goto bad;
	}
	seed = fnv32(FNV_SEED, &p32, 4);
	if (fnv32(seed, refs, (size_t)(b - a) * 4) != get32(ix + 4))
		goto bad;
	/* the port's refs and the wide rows covering it, by offset */
	k = 0;
	w = 0;
	for (;;) {
		uint32_t off, ro = UINT32_MAX, wo = UINT32_MAX;

		while (w < f->nwide &&
		    (get32(f->wide + (size_t)w * 12) > port ||
			get32(f->wide + (size_t)w * 12 + 4) < port))
			w++;
		if (k < b - a)
			ro = refs[k];
		if (w < f->nwide)
			wo = get32(f->wide + (size_t)w * 12 + 8);
		if (k >= b - a && w >= f->nwide)
			break;
		what = "refs out of order";
		if (ro == wo || nrow >= caprow)
			goto bad;
		if (ro < wo) {
			off = ro;
			k++;
		} else {
			off = wo;
			w++;
		}
		if (nrow > 0 && off <= cp->last)
			goto bad;
		cp->last = off;
		if (read_row(f, off, cp, &capdata, &at[nrow], &lens[nrow],
			&what) != 0)
			goto bad;
		nrow++;
	}
	/* cp->data is final now: the values may point into it */
	for (i = 0; i < nrow; i++)
		if (take_row(cp->data + at[i], lens[i], cp, &capcol, &what) !=
		    0)
			goto bad;
	free(refs);
	free(at);
	free(lens);
	cp->port = port;
	return 0;
bad:
	free(refs);
	free(at);
	free(lens);
	pdx_cport_free(cp);
	pdx_set_error("%s: damaged card file (%s, port %u); 'portdex update' "
		      "rewrites it",
	    f->path, what, port);
	return -1;
}

/* ---- the cursor ------------------------------------------------------ */

int
pdx_rows_open(struct pdx_db *d, const struct pdx_cport *cp, int table,
    const char *sql, int b1, int b2, struct pdx_rows *r)
{
	memset(r, 0, sizeof *r);
	r->table = table;
	r->d = d;
	if (cp != NULL) {
		r->cp = cp;
		r->b2 = b2;
		return 0;
	}
	if (pdx_db_prepare(d, sql, &r->st) != 0)
		return -1;
	if (sqlite3_bind_parameter_count(r->st) >= 1)
		sqlite3_bind_int(r->st, 1, b1);
	if (sqlite3_bind_parameter_count(r->st) >= 2)
		sqlite3_bind_int(r->st, 2, b2);
	return 0;
}

int
pdx_rows_step(struct pdx_rows *r)
{
	int rc;

	if (r->st != NULL) {
		rc = sqlite3_step(r->st);
		if (rc == SQLITE_ROW)
			return 1;
		if (rc != SQLITE_DONE) {
			r->failed = 1;
			pdx_set_error("%s",
			    sqlite3_errmsg(sqlite3_db_handle(r->st)));
			return -1;
		}
		return 0;
	}
	if (r->cp == NULL)
		return 0;
	/* the queries' own conditions: uses by transport, related's LIMIT */
	if (r->table == PDX_CT_RELATED && r->seen >= 40)
		return 0;
	while (r->next < r->cp->n) {
		size_t k = r->next++;
		const struct pdx_cval *c;

		if (r->cp->row[k].table != r->table)
			continue;
		c = r->cp->col + r->cp->row[k].col;
		if (r->table == PDX_CT_USES &&
		    (pdx_cval_int(&c[2]) & r->b2) == 0)
			continue;
		r->cur = c;
		r->seen++;
		return 1;
	}
	return 0;
}

void
pdx_rows_end(struct pdx_rows *r)
{
	sqlite3_finalize(r->st);
	r->st = NULL;
}

int64_t
pdx_cval_int(const struct pdx_cval *v)
{
	switch (v->tag) {
	case PDX_CV_INT:
		return v->i;
	case PDX_CV_REAL:
		return v->d >= -9.2e18 && v->d <= 9.2e18 ? (int64_t)v->d : 0;
	case PDX_CV_TEXT:
		return strtoll(v->s, NULL, 10);
	default:
		return 0;
	}
}

int
pdx_rows_int(struct pdx_rows *r, int i)
{
	if (r->st != NULL)
		return sqlite3_column_int(r->st, i);
	return (int)pdx_cval_int(&r->cur[i]);
}

double
pdx_rows_double(struct pdx_rows *r, int i)
{
	const struct pdx_cval *v;

	if (r->st != NULL)
		return sqlite3_column_double(r->st, i);
	v = &r->cur[i];
	return v->tag == PDX_CV_REAL ? v->d
	    : v->tag == PDX_CV_INT   ? (double)v->i
	    : v->tag == PDX_CV_TEXT  ? strtod(v->s, NULL)
				     : 0.0;
}

const char *
pdx_rows_text(struct pdx_rows *r, int i)
{
	const struct pdx_cval *v;

	if (r->st != NULL)
		return (const char *)sqlite3_column_text(r->st, i);
	v = &r->cur[i];
	switch (v->tag) {
	case PDX_CV_TEXT:
		return v->s;
	case PDX_CV_INT:
		snprintf(r->num, sizeof r->num, "%lld", (long long)v->i);
		return r->num;
	case PDX_CV_REAL:
		snprintf(r->num, sizeof r->num, "%.15g", v->d);
		return r->num;
	default:
		return NULL;
	}
}

int
pdx_rows_null(struct pdx_rows *r, int i)
{
	if (r->st != NULL)
		return sqlite3_column_type(r->st, i) == SQLITE_NULL;
	return r->cur[i].tag == PDX_CV_NULL;
}
