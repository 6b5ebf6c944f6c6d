/*
 * audit-history.c - the bounded history of audit runs in the state
 * database: recording a run as the spans that changed, and the history
 * of every listener (`audit --history`).  The baseline and the diff are
 * audit-store.c's; the schema is state.c's.
 */
#include <sys/random.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "portdex/audit.h"
#include "audit-int.h"

/*
 * The history is kept as spans (schema 4, lib/state.c): a span is one
 * listener (proto, address, port) with one process and user over the
 * runs from first_run to last_run, NULL while it is in the latest run.  A
 * run is in a span when its id lies in that range; a run that sees the
 * same listeners as the one before writes its own row and nothing else
 * (schema 3 wrote a row per listener per run into a scattered index:
 * ~620 pages and 40-80 ms a run on a lived-in machine, bench/README.md).
 */
struct span_row {
	int proto;
	unsigned port;
	size_t idx;		 /* order given: the first one wins */
	sqlite3_int64 first;	 /* an open span's first run */
	size_t addr, proc, user; /* offsets in the arena */
};

struct span_set {
	struct span_row *r;
	size_t n, cap;
	char *arena;
	size_t len, acap;
};

/* Appends a row to set; 0, or -1 without memory. */
static int
span_add(struct span_set *set, int proto, unsigned port, const char *addr,
    const char *proc, const char *user, sqlite3_int64 first)
{
	const char *str[3] = { addr, proc, user };
	size_t off[3], k, l;

	if (set->n == set->cap) {
		size_t c = set->cap * 2 + 64;
		struct span_row *m = realloc(set->r, c * sizeof *m);

		if (m == NULL)
			return -1;
		set->r = m;
		set->cap = c;
	}
	for (k = 0; k < 3; k++) {
		l = strlen(str[k] != NULL ? str[k] : "") + 1;
		if (set->len + l > set->acap) {
			size_t c = set->acap == 0 ? 16384 : set->acap;
			char *m;

			while (set->len + l > c)
				c *= 2;
			if ((m = realloc(set->arena, c)) == NULL)
				return -1;
			set->arena = m;
			set->acap = c;
		}
		memcpy(set->arena + set->len, str[k] != NULL ? str[k] : "", l);
		off[k] = set->len;
		set->len += l;
	}
	set->r[set->n].proto = proto;
	set->r[set->n].port = port;
	set->r[set->n].idx = set->n;
	set->r[set->n].first = first;
	set->r[set->n].addr = off[0];
	set->r[set->n].proc = off[1];
	set->r[set->n].user = off[2];
	set->n++;
	return 0;
}

static void
span_set_free(struct span_set *set)
{
	free(set->r);
	free(set->arena);
	memset(set, 0, sizeof *set);
}

/* The arena qsort's comparison reads (one sort at a time per thread). */
static _Thread_local const char *span_arena;

static int
span_key_cmp(const struct span_row *x, const char *xa, const struct span_row *y,
    const char *ya)
{
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(xa + x->addr, ya + y->addr);
}

static int
span_sort_cmp(const void *a, const void *b)
{
	const struct span_row *x = a, *y = b;
	int c = span_key_cmp(x, span_arena, y, span_arena);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorts set by listener, keeping only the first row of each. */
static void
span_sort_unique(struct span_set *set)
{
	size_t i, k = 0;

	/* the listeners most often come sorted already, and unique */
	for (i = 1; i < set->n; i++)
		if (span_key_cmp(&set->r[i - 1], set->arena, &set->r[i],
			set->arena) >= 0)
			break;
	if (i >= set->n)
		return;
	span_arena = set->arena;
	if (set->n > 1)
		qsort(set->r, set->n, sizeof *set->r, span_sort_cmp);
	for (i = 0; i < set->n; i++)
		if (k == 0 ||
		    span_key_cmp(&set->r[k - 1], set->arena, &set->r[i],
			set->arena) != 0)
			set->r[k++] = set->r[i];
	set->n = k;
}

/* The open spans (the latest run's listeners), sorted; SQLite's code. */
static int
open_spans(sqlite3 *db, struct span_set *set)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = sqlite3_prepare_v2(db,
		 "SELECT proto, address, port,"
		 " first_run, process, user FROM audit_spans WHERE last_run IS"
		 " NULL",
		 -1, &q, NULL)) != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int port = sqlite3_column_int(q, 2);

		if (port < 0 || port > 65535)
			continue;
		if (span_add(set, sqlite3_column_int(q, 0), (unsigned)port,
			(const char *)sqlite3_column_text(q, 1),
			(const char *)sqlite3_column_text(q, 4),
			(const char *)sqlite3_column_text(q, 5),
			sqlite3_column_int64(q, 3)) != 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return rc;
	span_sort_unique(set);
	return SQLITE_OK;
}

/* The statements a run's spans are written with. */
struct span_stmts {
	sqlite3_stmt *open, *close, *drop;
};

/* Opens a span of listener r of cur from run id. */
static int
span_open(struct span_stmts *st, const struct span_set *cur,
    const struct span_row *r, sqlite3_int64 id)
{
	sqlite3_reset(st->open);
	sqlite3_bind_int(st->open, 1, r->proto);
	sqlite3_bind_text(st->open, 2, cur->arena + r->addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st->open, 3, (int)r->port);
	sqlite3_bind_int64(st->open, 4, id);
	sqlite3_bind_text(st->open, 5, cur->arena + r->proc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->open, 6, cur->arena + r->user, -1, SQLITE_STATIC);
	return sqlite3_step(st->open) == SQLITE_DONE ? 0 : -1;
}

/* Ends open span r of old at run prev (drops it if it holds no run). */
static int
span_close(struct span_stmts *st, const struct span_set *old,
    const struct span_row *r, sqlite3_int64 prev)
{
	sqlite3_stmt *q = prev >= r->first ? st->close : st->drop;

	sqlite3_reset(q);
	sqlite3_bind_int(q, 1, r->proto);
	sqlite3_bind_text(q, 2, old->arena + r->addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, (int)r->port);
	sqlite3_bind_int64(q, 4, r->first);
	if (q == st->close)
		sqlite3_bind_int64(q, 5, prev);
	return sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
}

/*
 * Writes what changed between the latest run's listeners (old, the open
 * spans) and run id's (cur), both sorted: a listener still there with the
 * same process and user costs nothing.  0, or -1 (SQLite's error).
 */
static int
spans_update(sqlite3 *db, const struct span_set *old,
    const struct span_set *cur, sqlite3_int64 prev, sqlite3_int64 id)
{
	struct span_stmts st = { NULL, NULL, NULL };
	size_t i = 0, j = 0;
	int rc = -1, c;

	if (sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO audit_spans(proto,"
		" address, port, first_run, last_run, process, user) VALUES"
		" (?1, ?2, ?3, ?4, NULL, ?5, ?6)",
		-1, &st.open, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"UPDATE audit_spans SET last_run = ?5"
		" WHERE proto = ?1 AND address = ?2 AND port = ?3 AND"
		" first_run = ?4",
		-1, &st.close, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"DELETE FROM audit_spans WHERE proto = ?1"
		" AND address = ?2 AND port = ?3 AND first_run = ?4",
		-1, &st.drop, NULL) != SQLITE_OK)
		goto out;
	while (i < old->n || j < cur->n) {
		const struct span_row *o = i < old->n ? &old->r[i] : NULL;
		const struct span_row *n = j < cur->n ? &cur->r[j] : NULL;

		c = o == NULL	? 1
		    : n == NULL ? -1
				: span_key_cmp(o, old->arena, n, cur->arena);
		if (c == 0 &&
		    strcmp(old->arena + o->proc, cur->arena + n->proc) == 0 &&
		    strcmp(old->arena + o->user, cur->arena + n->user) == 0) {
			i++; /* still there, the same: nothing to write */
			j++;
			continue;
		}
		if (c <= 0 && span_close(&st, old, o, prev) != 0)
			goto out;
		if (c >= 0 && span_open(&st, cur, n, id) != 0)
			goto out;
		i += c <= 0;
		j += c >= 0;
	}
	rc = 0;
out:
	sqlite3_finalize(st.open);
	sqlite3_finalize(st.close);
	sqlite3_finalize(st.drop);
	return rc;
}

/*
 * The digest of the open spans, kept in audit_kv as 'spans_digest' with
 * the run that left them: "1 RUN COUNT KEY HASH", KEY 32 hex digits (a
 * random SipHash key, chosen once), HASH the 16 hex digits of the
 * SipHash-2-4 of the run's listeners (sorted, unique: proto, port,
 * address, process, user).  A run whose listeners hash the same, when
 * RUN is still the latest run and COUNT spans are still open, has nothing
 * to compare or write: the open spans are not read at all.  Every other
 * writer of the spans adds a run (an older portdex's audit: RUN is no
 * longer the latest) or starts without the digest (the migrations; `state
 * recover` drops it, since it may save fewer open spans than there
 * were).  Whatever does not match takes the full path, which writes a
 * digest again.
 */
struct spans_digest {
	sqlite3_int64 run, count;
	unsigned char key[16];
	uint64_t hash;
	int ok; /* read and well-formed */
};

#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND \
	do { \
		v0 += v1; \
		v1 = SIP_ROTL(v1, 13); \
		v1 ^= v0; \
		v0 = SIP_ROTL(v0, 32); \
		v2 += v3; \
		v3 = SIP_ROTL(v3, 16); \
		v3 ^= v2; \
		v0 += v3; \
		v3 = SIP_ROTL(v3, 21); \
		v3 ^= v0; \
		v2 += v1; \
		v1 = SIP_ROTL(v1, 17); \
		v1 ^= v2; \
		v2 = SIP_ROTL(v2, 32); \
	} while (0)

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* SipHash-2-4 of in under key. */
static uint64_t
siphash24(const unsigned char *in, size_t len, const unsigned char key[16])
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0,
		 v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0,
		 v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, end = len - len % 8;

	for (i = 0; i < end; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIP_ROUND;
		SIP_ROUND;
		v0 ^= m;
	}
	for (; i < len; i++)
		b |= (uint64_t)in[i] << (8 * (i - end));
	v3 ^= b;
	SIP_ROUND;
	SIP_ROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The hash of set (sorted, unique) under key; 0, or -1 without memory. */
static int
spans_hash(const struct span_set *set, const unsigned char key[16],
    uint64_t *hash)
{
	size_t cap = set->len + set->n * 8 + 1, len = 0, i;
	unsigned char *buf = malloc(cap);

	if (buf == NULL)
		return -1;
	for (i = 0; i < set->n; i++) {
		const struct span_row *r = &set->r[i];
		const size_t off[3] = { r->addr, r->proc, r->user };
		uint32_t w[2] = { (uint32_t)r->proto, r->port };
		int k;

		memcpy(buf + len, w, sizeof w);
		len += sizeof w;
		for (k = 0; k < 3; k++) {
			size_t l = strlen(set->arena + off[k]) + 1;

			memcpy(buf + len, set->arena + off[k], l);
			len += l;
		}
	}
	*hash = siphash24(buf, len, key);
	free(buf);
	return 0;
}

static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0'
	    : c >= 'a' && c <= 'f'  ? c - 'a' + 10
				    : -1;
}

/* The stored digest, if any and well-formed (d->ok); SQLite's code. */
static int
digest_read(sqlite3 *db, struct spans_digest *d)
{
	sqlite3_stmt *q;
	const char *v;
	char key[33], hash[17];
	long long run, count;
	int rc, n = 0, i;

	memset(d, 0, sizeof *d);
	if ((rc = sqlite3_prepare_v2(db,
		 "SELECT value FROM audit_kv WHERE"
		 " key = 'spans_digest'",
		 -1, &q, NULL)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    (v = (const char *)sqlite3_column_text(q, 0)) != NULL &&
	    sscanf(v, "1 %lld %lld %32[0-9a-f] %16[0-9a-f]%n", &run, &count,
		key, hash, &n) == 4 &&
	    v[n] == '\0' && strlen(key) == 32 && strlen(hash) == 16) {
		for (i = 0; i < 16; i++)
			d->key[i] = (unsigned char)(hexval(key[2 * i]) << 4 |
			    hexval(key[2 * i + 1]));
		for (i = 0; i < 16; i++)
			d->hash = d->hash << 4 | (uint64_t)hexval(hash[i]);
		d->run = run;
		d->count = count;
		d->ok = 1;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Stores run id's digest; 0, or -1 (SQLite's error). */
static int
digest_write(sqlite3 *db, const struct spans_digest *d)
{
	sqlite3_stmt *q;
	char v[128];
	int n, i, rc;

	n = snprintf(v, sizeof v, "1 %lld %lld ", (long long)d->run,
	    (long long)d->count);
	for (i = 0; i < 16; i++)
		n += snprintf(v + n, sizeof v - (size_t)n, "%02x", d->key[i]);
	snprintf(v + n, sizeof v - (size_t)n, " %016llx",
	    (unsigned long long)d->hash);
	if (sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO audit_kv(key,"
		" value) VALUES ('spans_digest', ?1)",
		-1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(q, 1, v, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* One integer of sql (0 when NULL or no row); SQLite's code. */
static int
scalar64(sqlite3 *db, const char *sql, sqlite3_int64 *v)
{
	sqlite3_stmt *q;
	int rc;

	*v = 0;
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*v = sqlite3_column_int64(q, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(q);
	return rc;
}

/* Run id's row; 0, or -1 (SQLite's error). */
static int
insert_run(sqlite3 *db, const char *scope, sqlite3_int64 nl,
    sqlite3_int64 nfind, const char *worst, int complete, sqlite3_int64 *id)
{
	sqlite3_stmt *run;
	int rc;

	if (sqlite3_prepare_v2(db,
		"INSERT INTO audit_runs(at, scope,"
		" listeners, findings, worst, complete) VALUES (?,?,?,?,?,?)",
		-1, &run, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(run, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(run, 2, scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(run, 3, nl);
	sqlite3_bind_int64(run, 4, nfind);
	sqlite3_bind_text(run, 5, worst, -1, SQLITE_STATIC);
	sqlite3_bind_int(run, 6, complete);
	rc = sqlite3_step(run);
	sqlite3_finalize(run);
	*id = sqlite3_last_insert_rowid(db);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Whether the open spans are cur's listeners by the stored digest (*same);
 * d is left with the key and cur's hash to store (d->ok 0: none, no
 * random key to be had).  0, or -1 (SQLite's error or no memory).
 */
static int
digest_same(sqlite3 *db, const struct span_set *cur, sqlite3_int64 prev,
    struct spans_digest *d, int *same)
{
	uint64_t h;

	*same = 0;
	if (digest_read(db, d) != SQLITE_OK)
		return -1;
	if (!d->ok && getrandom(d->key, sizeof d->key, 0) == sizeof d->key)
		d->ok = 1;
	if (!d->ok)
		return 0;
	if (spans_hash(cur, d->key, &h) != 0)
		return pdx_set_error("out of memory"), -1;
	if (prev != 0 && d->run == prev && d->hash == h &&
	    d->count == (sqlite3_int64)cur->n)
		*same = 1;
	d->hash = h;
	return 0;
}

/* Drops the oldest runs beyond max and the spans left without a run. */
static int
prune_runs(sqlite3 *db, unsigned max)
{
	sqlite3_stmt *prune;
	int rc;

	if (sqlite3_prepare_v2(db,
		"DELETE FROM audit_runs WHERE id <="
		" (SELECT id FROM audit_runs ORDER BY id DESC LIMIT 1 OFFSET ?)",
		-1, &prune, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(prune, 1, (sqlite3_int64)max);
	rc = sqlite3_step(prune);
	sqlite3_finalize(prune);
	if (rc != SQLITE_DONE)
		return -1;
	/* only when runs went: the span index is walked then */
	if (sqlite3_changes(db) == 0)
		return 0;
	return sqlite3_exec(db,
		   "DELETE FROM audit_spans WHERE last_run <"
		   " (SELECT MIN(id) FROM audit_runs)",
		   NULL, NULL, NULL) == SQLITE_OK
	    ? 0
	    : -1;
}

/*
 * Adds one run (its summary, then nrows listeners from row) to the
 * history in one transaction and prunes the oldest runs beyond max.  0,
 * or -1 and the error.
 */
int
audit_record_run(struct pdx_state *state, const char *scope, sqlite3_int64 nl,
    sqlite3_int64 nfind, const char *worst, int complete, unsigned max,
    size_t nrows, rec_row_fn row, void *arg)
{
	sqlite3 *db = pdx_state_handle(state);
	struct span_set cur, old;
	struct spans_digest dg;
	sqlite3_int64 id, prev;
	size_t i;
	int rc, same = 0;

	memset(&cur, 0, sizeof cur);
	memset(&old, 0, sizeof old);
	if (max == 0)
		max = PDX_AUDIT_HISTORY_MAX;
	for (i = 0; i < nrows; i++) {
		const char *addr, *proc, *user;
		unsigned port;
		int proto;

		if (row(arg, i, &proto, &addr, &port, &proc, &user) != 0) {
			span_set_free(&cur);
			return -1;
		}
		if (span_add(&cur, proto, port, addr, proc, user, 0) != 0) {
			span_set_free(&cur);
			return pdx_set_error("out of memory"), -1;
		}
	}
	span_sort_unique(&cur);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		span_set_free(&cur);
		return -1;
	}
	if (scalar64(db, "SELECT MAX(id) FROM audit_runs", &prev) !=
		SQLITE_OK ||
	    digest_same(db, &cur, prev, &dg, &same) != 0 ||
	    (!same && (rc = open_spans(db, &old)) != SQLITE_OK) ||
	    insert_run(db, scope, nl, nfind, worst, complete, &id) != 0 ||
	    (!same && spans_update(db, &old, &cur, prev, id) != 0) ||
	    prune_runs(db, max) != 0)
		goto fail;
	dg.run = id;
	dg.count = (sqlite3_int64)cur.n;
	if (dg.ok && digest_write(db, &dg) != 0)
		goto fail;
	span_set_free(&cur);
	span_set_free(&old);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		audit_state_error(db);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
fail:
	audit_state_error(db);
	span_set_free(&cur);
	span_set_free(&old);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Each listener of the history: its first and last run's time, its runs,
 * its latest run, and the process and user of its latest span that still
 * holds a run (spans of one listener never overlap).
 */
static const char history_sql[] =
    "SELECT s.proto, s.address, s.port, MIN(r.at), MAX(r.at), COUNT(*),"
    " MAX(r.id),"
    " (SELECT s2.process FROM audit_spans s2 WHERE s2.proto = s.proto AND"
    " s2.address = s.address AND s2.port = s.port AND EXISTS (SELECT 1"
    " FROM audit_runs r2 WHERE r2.id >= s2.first_run AND r2.id <="
    " COALESCE(s2.last_run, 9223372036854775807))"
    " ORDER BY s2.first_run DESC LIMIT 1),"
    " (SELECT s2.user FROM audit_spans s2 WHERE s2.proto = s.proto AND"
    " s2.address = s.address AND s2.port = s.port AND EXISTS (SELECT 1"
    " FROM audit_runs r2 WHERE r2.id >= s2.first_run AND r2.id <="
    " COALESCE(s2.last_run, 9223372036854775807))"
    " ORDER BY s2.first_run DESC LIMIT 1)"
    " FROM audit_spans s" SPAN_RUNS("s",
	"r") " GROUP BY s.proto, s.address, s.port"
	     " ORDER BY MIN(r.at), s.port, s.proto, s.address";

json_t *
pdx_audit_history(struct pdx_state *state, const struct pdx_portset *ps)
{
	sqlite3 *db = pdx_state_handle(state);
	sqlite3_stmt *q = NULL, *r = NULL;
	json_t *a, *res = NULL;
	sqlite3_int64 last_run = 0, runs = 0, since = 0;

	if (db == NULL)
		return NULL;

	if ((a = json_array()) == NULL) {
		pdx_set_error("out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v2(db,
		"SELECT COUNT(*), MIN(at), MAX(id) FROM"
		" audit_runs",
		-1, &r, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, history_sql, -1, &q, NULL) != SQLITE_OK) {
		audit_state_error(db);
		goto out;
	}
	if (sqlite3_step(r) == SQLITE_ROW) {
		runs = sqlite3_column_int64(r, 0);
		since = sqlite3_column_int64(r, 1);
		last_run = sqlite3_column_int64(r, 2);
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		int port = sqlite3_column_int(q, 2);
		const char *addr = (const char *)sqlite3_column_text(q, 1);
		const char *proc = (const char *)sqlite3_column_text(q, 7);
		const char *user = (const char *)sqlite3_column_text(q, 8);
		time_t first = (time_t)sqlite3_column_int64(q, 3);

		if (port < 0 || port > 65535 || addr == NULL ||
		    (ps != NULL && !pdx_portset_has(ps, (unsigned)port)))
			continue;
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:i, s:o, s:o,"
			      " s:o, s:b, s:I, s:b}",
			"proto", pdx_proto_name(sqlite3_column_int(q, 0)),
			"address", addr, "port", port, "process",
			audit_opt_str(proc), "user", audit_opt_str(user),
			"first_seen", audit_json_time(first),
			"first_seen_is_history_start",
			(sqlite3_int64)first == since, "runs",
			(json_int_t)sqlite3_column_int64(q, 5), "in_latest_run",
			sqlite3_column_int64(q, 6) == last_run));
		json_object_set_new(json_array_get(a, json_array_size(a) - 1),
		    "last_seen",
		    audit_json_time((time_t)sqlite3_column_int64(q, 4)));
	}
	res = json_pack("{s:I, s:o, s:i, s:O}", "runs", (json_int_t)runs,
	    "since", runs > 0 ? audit_json_time((time_t)since) : json_null(),
	    "max_runs", PDX_AUDIT_HISTORY_MAX, "listeners", a);
	if (res == NULL)
		pdx_set_error("out of memory");
out:
	sqlite3_finalize(r);
	sqlite3_finalize(q);
	json_decref(a);
	return res;
}
