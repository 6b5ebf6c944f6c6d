/*
 * registry-derive.c - the registry's derived tables: the per-port brief
 * table (and the brief file's words) and the full-text search documents,
 * built from the rows kept in memory.
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

/* ---- derived tables -------------------------------------------------- */

/*
 * The brief table: for each transport, 65,536 uint32 words in host order
 * (name index << 16 | risk facts << 8 | risk << 4 | status) in rows of
 * PDX_BRIEF_PORTS, and the names in rows of PDX_NAMES_ROW, each ending in
 * a NUL, index 0 being the empty name.  Built from the rows kept in memory.
 */
int
rb_build_brief(struct build *b)
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
	names[0] = '\0'; /* id 0: no name */
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
	if (rb_prepare(b->db, "INSERT INTO brief(id, data) VALUES(?, ?)",
		&ins) != 0)
		goto out;
	for (i = 0; i < PDX_NPROTO; i++)
		for (unsigned c = 0; c < PDX_BRIEF_ROWS; c++) {
			unsigned p0 = c * PDX_BRIEF_PORTS;
			unsigned np = c + 1 < PDX_BRIEF_ROWS ? PDX_BRIEF_PORTS
							     : 65536 - p0;

			sqlite3_bind_int(ins, 1, i * PDX_BRIEF_ROWS + (int)c);
			sqlite3_bind_blob(ins, 2, words[i] + p0, (int)np * 4,
			    SQLITE_STATIC);
			if (rb_step_done(b->db, ins, "brief") != 0)
				goto out;
		}
	sqlite3_finalize(ins);
	ins = NULL;
	/* rows of PDX_NAMES_ROW names, each with its NUL */
	if (rb_prepare(b->db, "INSERT INTO brief_names(id, data) VALUES(?, ?)",
		&ins) != 0)
		goto out;
	for (unsigned r = 0; r * PDX_NAMES_ROW < nnames; r++) {
		size_t from = offs[r * PDX_NAMES_ROW];
		size_t to = (r + 1) * PDX_NAMES_ROW < nnames
		    ? offs[(r + 1) * PDX_NAMES_ROW]
		    : nlen;

		sqlite3_bind_int(ins, 1, (int)r);
		sqlite3_bind_blob(ins, 2, names + from, (int)(to - from),
		    SQLITE_STATIC);
		if (rb_step_done(b->db, ins, "brief") != 0)
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

/*
 * The malware rows of table uses, by audit's own query (so in its order),
 * kept for the brief file: audit then reads them without SQLite.  No
 * table uses (curated data left out): none.
 */
int
rb_build_malware(struct build *b)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	if (!pdx_sqlite_has_table(b->db, "uses"))
		return 0;
	if (rb_prepare(b->db,
		"SELECT port_lo, port_hi, protomask, name"
		" FROM uses WHERE kind = 'malware' ORDER BY name",
		&st) != 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 3);
		struct pdx_malware *m;

		if (n == NULL)
			continue;
		if (b->bnmal == cap) {
			cap = cap * 2 + 64;
			if ((m = realloc(b->bmal, cap * sizeof *m)) == NULL)
				goto nomem;
			b->bmal = m;
		}
		m = &b->bmal[b->bnmal];
		m->lo = (unsigned)sqlite3_column_int(st, 0);
		m->hi = (unsigned)sqlite3_column_int(st, 1);
		m->mask = sqlite3_column_int(st, 2);
		if ((m->name = strdup(n)) == NULL)
			goto nomem;
		b->bnmal++;
	}
	if (rc != SQLITE_DONE)
		pdx_set_error("registry: malware rows: %s",
		    sqlite3_errmsg(b->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
nomem:
	sqlite3_finalize(st);
	pdx_set_error("registry: out of memory");
	return -1;
}

void
rb_free_malware(struct build *b)
{
	size_t k;

	for (k = 0; k < b->bnmal; k++)
		free((char *)b->bmal[k].name);
	free(b->bmal);
	b->bmal = NULL;
	b->bnmal = 0;
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
	const struct irow *r;
	int protomask;
};

struct doc_list {
	struct doc *v;
	char *body;
	size_t cap;
};

static int
bind_doc(sqlite3_stmt *st, int c, size_t i, void *arg)
{
	struct doc_list *dl = arg;
	const struct irow *r = dl->v[i].r;
	size_t need = strlen(r->f[PDX_COL_DESC]) + strlen(r->f[PDX_COL_NOTES]) +
	    strlen(r->f[PDX_COL_UNAUTH]) + 3;

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

int
rb_build_search(struct build *b, const char *tmp)
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
	if (rb_batch_insert(b->db,
		"INSERT INTO fts(name, body, kind, port_lo,"
		" port_hi, protomask, summary) VALUES ",
		"(?,?,'iana',?,?,?,?)", 6, 1, ndocs, bind_doc, &dl, tmp) != 0)
		goto out;
	if (rb_exec_sql(b->db, fts_services_sql, tmp) != 0)
		goto out;
	rc = 0;
out:
	free(idx);
	free(dl.v);
	free(dl.body);
	return rc;
}
