/*
 * notes.c - the user's notes about ports in the state database: adding and
 * removing them, and reading them once a command (pdx_notes_load: every
 * note in one scan; pdx_notes_load_ports: a few ports' through the index),
 * then looking them up in memory.  A handle that notes-file.c filled from
 * the notes file has them all already and never asks SQLite.
 */
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "state-int.h"
#include "util-int.h"

int
pdx_note_add(struct pdx_state *s, unsigned port, int proto, const char *text)
{
	sqlite3_stmt *st;
	char when[32];
	const char *who = getenv("SUDO_USER");
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (port > 65535 || text == NULL || *text == '\0' ||
	    strlen(text) > 4096) {
		pdx_set_error("a note needs a port 0-65535 and a text of 1 to "
			      "4096 bytes");
		return -1;
	}
	if (who == NULL && (who = getenv("USER")) == NULL) {
		struct passwd *pw = getpwuid(getuid());

		who = pw != NULL ? pw->pw_name : "";
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (pdx_state_attach(s) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db,
		"INSERT INTO notes(port, proto, text,"
		" author, created) VALUES (?,?,?,?,?)",
		-1, &st, NULL) != SQLITE_OK) {
		pdx_state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, when, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	pdx_notes_free(s);
	if (rc != SQLITE_DONE) {
		pdx_state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	return 0;
}

int
pdx_note_rm(struct pdx_state *s, unsigned port, int proto)
{
	sqlite3_stmt *st;
	int rc;

	if (pdx_state_attach(s) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db,
		"DELETE FROM notes WHERE port = ?1 AND"
		" (?2 = 0 OR proto = ?2)",
		-1, &st, NULL) != SQLITE_OK) {
		pdx_state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	pdx_notes_free(s);
	if (rc != SQLITE_DONE) {
		pdx_state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	return sqlite3_changes(s->db);
}

/* A note as the API gives it (json_pack's format parsing costs more). */
static json_t *
note_json(int id, int port, int proto, const char *text, const char *author,
    const char *created)
{
	json_t *o = json_object();
	const char *t = proto == 0 ? "any" : pdx_proto_name(proto);

	json_object_set_new_nocheck(o, "id", json_integer(id));
	json_object_set_new_nocheck(o, "port", json_integer(port));
	/* a value another program wrote that names no transport */
	json_object_set_new_nocheck(o, "transport",
	    json_string(*t != '\0' ? t : "unknown"));
	json_object_set_new_nocheck(o, "text",
	    pdx_json_clean(text != NULL
		    ? text
		    : "")); /* as read: a damaged page may garble it */
	json_object_set_new_nocheck(o, "author",
	    pdx_json_clean(author != NULL ? author : ""));
	json_object_set_new_nocheck(o, "created",
	    pdx_json_clean(created != NULL ? created : ""));
	return o;
}

/*
 * One port's notes by id into a new JSON array; -1 with the error set if
 * any step fails, so a damaged page is never mistaken for the end of the
 * notes (load_notes does the same for every note).
 */
static int
query_notes(struct pdx_state *s, int port, json_t **out)
{
	sqlite3_stmt *st;
	json_t *a;
	int rc;

	if (pdx_state_attach(s) != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db,
		"SELECT port, proto, text, author,"
		" created, id FROM notes WHERE port = ?1 ORDER BY id",
		-1, &st, NULL) != SQLITE_OK) {
		if (!pdx_state_foreign(s))
			pdx_state_fail(s->path, s->db,
			    sqlite3_extended_errcode(s->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, port);
	a = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(a,
		    note_json(sqlite3_column_int(st, 5),
			sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
			(const char *)sqlite3_column_text(st, 2),
			(const char *)sqlite3_column_text(st, 3),
			(const char *)sqlite3_column_text(st, 4)));
	if (rc != SQLITE_DONE) {
		pdx_state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		sqlite3_finalize(st);
		json_decref(a);
		return -1;
	}
	sqlite3_finalize(st);
	*out = a;
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct note_row *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Sorts rows by port, then id, when the scan gave them in increasing id
 * order (a rowid scan does) and every port is 0-65535: two stable passes
 * on the port's bytes.  A qsort of 1,000 notes cost a third of an `ls` on a
 * lived-in machine (bench/README.md).  0, or -1 when qsort must do it.
 */
static int
rows_radix_sort(struct note_row *rows, size_t n)
{
	struct note_row *tmp, *from = rows, *to;
	size_t count[256], i, sum, c;
	int shift;

	for (i = 0; i < n; i++)
		if (rows[i].port < 0 || rows[i].port > 65535 ||
		    (i > 0 && rows[i].id <= rows[i - 1].id))
			return -1;
	if ((tmp = malloc(n * sizeof *tmp)) == NULL)
		return -1;
	to = tmp;
	for (shift = 0; shift <= 8; shift += 8) {
		memset(count, 0, sizeof count);
		for (i = 0; i < n; i++)
			count[((unsigned)from[i].port >> shift) & 0xff]++;
		for (i = 0, sum = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			to[count[((unsigned)from[i].port >> shift) & 0xff]++] =
			    from[i];
		from = to;
		to = from == tmp ? rows : tmp;
	}
	/* two passes: the result is back in rows */
	free(tmp);
	return 0;
}

/* Append a column's text to the arena; its offset, or -1 (no memory). */
static long
arena_put(char **arena, size_t *len, size_t *cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	/*
	 * strlen, not sqlite3_column_bytes: each column call takes and drops
	 * the connection's mutex, and every reader of these strings stops at
	 * the first NUL anyway.
	 */
	size_t n = t != NULL ? strlen((const char *)t) : 0;
	size_t at = *len;

	if (*len + n + 1 > *cap) {
		size_t c = *cap == 0 ? 16384 : *cap;
		char *m;

		while (*len + n + 1 > c)
			c *= 2;
		if ((m = realloc(*arena, c)) == NULL)
			return -1;
		*arena = m;
		*cap = c;
	}
	if (n > 0)
		memcpy(*arena + at, t, n);
	(*arena)[at + n] = '\0';
	*len += n + 1;
	return (long)at;
}

/* Growing buffers of rows and their strings, read from a statement. */
struct rowbuf {
	struct note_row *rows;
	size_t n, cap, len, acap;
	char *arena;
	long (*off)[3]; /* text, author, created in arena */
};

/* Appends the rows st gives (reset after); SQLITE_OK or the failure. */
static int
read_rows(sqlite3_stmt *st, struct rowbuf *b)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct note_row *r;
		int j;

		if (b->n == b->cap) {
			size_t c = b->cap * 2 + 64;
			struct note_row *m = realloc(b->rows, c * sizeof *m);
			void *o = m != NULL
			    ? realloc(b->off, c * sizeof *b->off)
			    : NULL;

			if (m != NULL)
				b->rows = m;
			if (o == NULL)
				return SQLITE_NOMEM;
			b->off = o;
			b->cap = c;
		}
		r = &b->rows[b->n];
		r->id = sqlite3_column_int(st, 5);
		r->port = sqlite3_column_int(st, 0);
		r->proto = sqlite3_column_int(st, 1);
		for (j = 0; j < 3; j++)
			if ((b->off[b->n][j] = arena_put(&b->arena, &b->len,
				 &b->acap, st, 2 + j)) < 0)
				return SQLITE_NOMEM;
		b->n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Records that s->all holds the notes of only (k sorted, distinct ports;
 * taken) and nothing else.  Many ports get a bitmap too: a listing asks
 * once per socket whether a port's notes are loaded.  Without memory for
 * it, the sorted ports still answer.
 */
static void
set_only(struct pdx_state *s, unsigned *only, size_t k)
{
	size_t i;

	s->only = only;
	s->nonly = k;
	if (only == NULL || k <= 64 ||
	    (s->onlymap = calloc(65536 / 64, sizeof *s->onlymap)) == NULL)
		return;
	for (i = 0; i < k; i++)
		if (only[i] <= 65535)
			s->onlymap[only[i] >> 6] |= (uint64_t)1
			    << (only[i] & 63);
}

/*
 * Every note into s->all by port and id: a scan in rowid order, sorted here
 * (walking the port index would seek the table once a row).  Given only (k
 * sorted, distinct ports; taken), those ports' notes through the index.
 */
static int
load_notes(struct pdx_state *s, unsigned *only, size_t k)
{
	sqlite3_stmt *st;
	struct rowbuf b = { 0 };
	size_t i;
	int rc = SQLITE_OK;

	/*
	 * A read-write handle (audit, serve) takes every note from the notes
	 * file too when it names the state as it is now: the data version
	 * was read before (pdx_notes_load), so a later commit elsewhere is
	 * seen; the file is not kept, as this handle's own commits make it
	 * stale.
	 */
	if (s->nf == NULL && !s->readonly && only == NULL)
		(void)pdx_nfile_open(s);
	if (s->nf != NULL &&
	    pdx_nfile_rows(s->nf, only, k, &b.rows, &b.n, &b.arena) == 0) {
		pdx_notes_free(s);
		s->all = b.rows;
		s->nall = b.n;
		s->arena = b.arena;
		set_only(s, only, k);
		if (!s->readonly) {
			pdx_nfile_close(s->nf);
			s->nf = NULL;
		}
		return 0;
	}
	/* damaged after all: SQLite, the truth, says what is wrong */
	pdx_nfile_close(s->nf);
	s->nf = NULL;
	if (pdx_state_attach(s) != 0) {
		free(only);
		return -1;
	}
	/*
	 * A command's read-only snapshot reads the pages straight from the
	 * mapped file: no page cache to fill (each fresh page of it a page
	 * fault) and a fault per 16 pages instead of a pread each.  Not for
	 * a card's one-port query: mapping and unmapping cost it more.
	 */
	if (s->readonly && only == NULL)
		sqlite3_exec(s->db, "PRAGMA mmap_size=268435456", NULL, NULL,
		    NULL);
	if (sqlite3_prepare_v2(s->db,
		only == NULL
		    ? "SELECT port, proto, "
		      "text, author, created, id FROM notes"
		    : "SELECT port, proto, "
		      "text, author, created, id FROM notes WHERE port = ?1 ORDER BY "
		      "id",
		-1, &st, NULL) != SQLITE_OK) {
		if (!pdx_state_foreign(s))
			pdx_state_fail(s->path, s->db,
			    sqlite3_extended_errcode(s->db));
		free(only);
		return -1;
	}
	if (only == NULL)
		rc = read_rows(st, &b);
	for (i = 0; only != NULL && i < k && rc == SQLITE_OK; i++) {
		sqlite3_bind_int(st, 1, (int)only[i]);
		rc = read_rows(st, &b);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		pdx_state_fail(s->path, s->db,
		    rc == SQLITE_NOMEM ? rc : sqlite3_extended_errcode(s->db));
		free(b.rows);
		free(b.off);
		free(b.arena);
		free(only);
		pdx_notes_free(s);
		return -1;
	}
	for (i = 0; i < b.n; i++) {
		b.rows[i].text = b.arena + b.off[i][0];
		b.rows[i].author = b.arena + b.off[i][1];
		b.rows[i].created = b.arena + b.off[i][2];
	}
	free(b.off);
	if (only == NULL && b.n > 1 && rows_radix_sort(b.rows, b.n) != 0)
		qsort(b.rows, b.n, sizeof *b.rows, row_cmp);
	pdx_notes_free(s);
	/* an empty result still marks the notes as read */
	s->all = b.rows != NULL ? b.rows : calloc(1, sizeof *b.rows);
	s->nall = b.n;
	s->arena = b.arena;
	set_only(s, only, k);
	if (s->all == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	return 0;
}

/* Whether another connection changed the file since the notes were read. */
static int
changed_elsewhere(struct pdx_state *s)
{
	long long v = -1;

	if (s->readonly)
		return 0; /* a command's snapshot: read once */
	if (s->dv == NULL &&
	    sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &s->dv,
		NULL) != SQLITE_OK)
		return 1;
	if (sqlite3_step(s->dv) == SQLITE_ROW)
		v = sqlite3_column_int64(s->dv, 0);
	sqlite3_reset(s->dv);
	if (v != s->dv_at) {
		s->dv_at = v;
		return 1;
	}
	return 0;
}

/* ASCII case-insensitive substring, as SQL's LIKE '%m%' compares. */
static int
contains(const char *hay, const char *m)
{
	size_t n = strlen(m);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, m, n) == 0)
			return 1;
	return n == 0;
}

int
pdx_notes_load(struct pdx_state *s)
{
	if (s->all != NULL && s->only == NULL && !changed_elsewhere(s))
		return 0;
	if (!s->readonly && s->dv == NULL)
		changed_elsewhere(s); /* remember the version read */
	return load_notes(s, NULL, 0);
}

static int
uns_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/*
 * Many ports (a listing's sockets) sorted and made distinct through a
 * bitmap of the 65,536: no sort, no sort buffer.  0 when one is not a
 * port (the caller sorts then).
 */
static int
ports_by_bits(const unsigned *ports, size_t n, unsigned *out, size_t *k)
{
	uint64_t seen[65536 / 64], w;
	size_t i;

	memset(seen, 0, sizeof seen);
	for (i = 0; i < n; i++) {
		if (ports[i] > 65535)
			return 0;
		seen[ports[i] >> 6] |= (uint64_t)1 << (ports[i] & 63);
	}
	*k = 0;
	for (i = 0; i < 65536 / 64; i++)
		for (w = seen[i]; w != 0; w &= w - 1)
			out[(*k)++] = (unsigned)(i * 64 +
			    (size_t)__builtin_ctzll(w));
	return 1;
}

/* 10 listeners, 1,000 notes: reading all was most of `ls --no-pids`. */
int
pdx_notes_load_ports(struct pdx_state *s, const unsigned *ports, size_t n)
{
	unsigned *only;
	size_t i, k = 0;

	if (!s->readonly || s->all != NULL ||
	    (n > PDX_NOTES_PORTS_MAX && !pdx_nfile_mapped(s->nf)))
		return pdx_notes_load(s);
	if ((only = malloc((n + 1) * sizeof *only)) == NULL)
		return pdx_set_error("out of memory"), -1;
	if (n > 64 && ports_by_bits(ports, n, only, &k))
		return load_notes(s, only, k);
	if (n > 0)
		memcpy(only, ports, n * sizeof *only);
	qsort(only, n, sizeof *only, uns_cmp);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || only[i] != only[k - 1])
			only[k++] = only[i];
	return load_notes(s, only, k);
}

/* Whether port's notes are loaded (every note is, or this port's). */
static int
asked(const struct pdx_state *s, unsigned port)
{
	if (s->only == NULL)
		return 1;
	if (s->onlymap != NULL)
		return port <= 65535 &&
		    (s->onlymap[port >> 6] >> (port & 63) & 1);
	return bsearch(&port, s->only, s->nonly, sizeof port, uns_cmp) != NULL;
}

/* Index of the first loaded note of port (nall if none). */
static size_t
first_of(const struct pdx_state *s, int port)
{
	size_t lo = 0, hi = s->nall;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->all[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

json_t *
pdx_notes(struct pdx_state *s, int port, const char *match)
{
	json_t *a;
	size_t i;

	/*
	 * One port's notes before any list was asked for (a card): the
	 * indexed query is cheaper than reading every note.
	 */
	if (s->all == NULL && port >= 0 && match == NULL && s->nf == NULL)
		return query_notes(s, port, &a) == 0 ? a : NULL;
	if (s->all == NULL && port >= 0 && match == NULL) {
		unsigned p = (unsigned)port; /* from the notes file */

		if (pdx_notes_load_ports(s, &p, 1) != 0)
			return NULL;
	} else if ((s->only == NULL || port < 0 || match != NULL ||
		       !asked(s, (unsigned)port)) &&
	    pdx_notes_load(s) != 0)
		return NULL;
	a = json_array();
	for (i = port >= 0 ? first_of(s, port) : 0; i < s->nall; i++) {
		const struct note_row *r = &s->all[i];

		if (port >= 0 && r->port != port)
			break;
		if (match != NULL && !contains(r->text, match))
			continue;
		json_array_append_new(a,
		    note_json(r->id, r->port, r->proto, r->text, r->author,
			r->created));
	}
	return a;
}

const char *
pdx_note_text(struct pdx_state *s, unsigned port, int proto)
{
	size_t i;

	/*
	 * Read once: a caller asking per socket has loaded the notes for
	 * its command (a read-write handle would otherwise ask SQLite for
	 * the data version, taking and dropping a lock, once per socket).
	 */
	if (s == NULL ||
	    ((s->all == NULL || !asked(s, port)) && pdx_notes_load(s) != 0))
		return NULL;
	for (i = first_of(s, (int)port);
	     i < s->nall && s->all[i].port == (int)port; i++)
		if (s->all[i].proto == 0 || s->all[i].proto == proto)
			return s->all[i].text;
	return NULL;
}
