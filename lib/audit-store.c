/*
 * audit-store.c - what the audit keeps in the state database: the
 * baseline, the bounded history of runs, the diff between a run and the
 * baseline.
 */
#define _GNU_SOURCE /* strndup */
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "sockets-int.h"
#include "portdex/firewall.h"
#include "portdex/audit.h"
#include "registry-int.h"
#include "audit-int.h"

/* ---- baseline, history, diff --------------------------------------------- */

/* The scope of doc: its port set and transports. */
static int
doc_scope(json_t *doc, struct pdx_portset *ps, int *protos)
{
	json_t *sc = json_object_get(doc, "scope");
	const char *p = json_string_value(json_object_get(sc, "ports"));
	const char *t = json_string_value(json_object_get(sc, "transports"));
	char buf[64], *w, *save = NULL;

	if (p == NULL || t == NULL || strlen(t) >= sizeof buf) {
		pdx_set_error("audit document without a scope");
		return -1;
	}
	if (strcmp(p, "all") == 0) {
		pdx_portset_clear(ps);
		pdx_portset_add(ps, 0, 65535);
	} else if (pdx_portset_parse(ps, p) != 0)
		return -1;
	*protos = 0;
	strcpy(buf, t);
	for (w = strtok_r(buf, ",", &save); w != NULL;
	     w = strtok_r(NULL, ",", &save))
		*protos |= pdx_proto_parse(w);
	return 0;
}

/* The fields of a listener of doc; 0, or -1 when malformed. */
static int
doc_listener(json_t *l, int *proto, const char **addr, unsigned *port,
    const char **process, const char **user)
{
	json_int_t p = json_integer_value(json_object_get(l, "port"));

	*proto = pdx_proto_parse(
	    json_string_value(json_object_get(l, "proto")) != NULL
		? json_string_value(json_object_get(l, "proto"))
		: "");
	*addr = json_string_value(json_object_get(l, "address"));
	*process = json_string_value(json_object_get(l, "process"));
	*user = json_string_value(json_object_get(l, "user"));
	if (*process == NULL)
		*process = "";
	if (*user == NULL)
		*user = "";
	if (*proto == 0 || *addr == NULL || p < 0 || p > 65535) {
		pdx_set_error("audit document: malformed listener");
		return -1;
	}
	*port = (unsigned)p;
	return 0;
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return audit_state_error(db);
	return 0;
}

int
pdx_audit_save_baseline(struct pdx_state *state, json_t *doc)
{
	sqlite3 *db = pdx_state_handle(state);
	sqlite3_stmt *sel = NULL, *del = NULL, *ins = NULL, *kv = NULL;
	struct pdx_portset ps;
	int protos, saved = 0;
	time_t now = time(NULL);
	json_t *l;
	size_t i;

	if (db == NULL)
		return -1;

	if (doc_scope(doc, &ps, &protos) != 0)
		return -1;
	if (exec_sql(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	/* Replace what lies in the scope; keep the rest. */
	if (sqlite3_prepare_v2(db,
		"SELECT proto, port, address FROM"
		" audit_baseline",
		-1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"DELETE FROM audit_baseline WHERE proto ="
		" ?1 AND port = ?2 AND address = ?3",
		-1, &del, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO audit_baseline"
		"(proto, address, port, process, user, saved) VALUES"
		" (?,?,?,?,?,?)",
		-1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO audit_kv(key,"
		" value) VALUES ('baseline_saved', ?)",
		-1, &kv, NULL) != SQLITE_OK)
		goto fail;
	while (sqlite3_step(sel) == SQLITE_ROW) {
		int p = sqlite3_column_int(sel, 0);
		int port = sqlite3_column_int(sel, 1);

		if ((p & protos) == 0 || port < 0 || port > 65535 ||
		    !pdx_portset_has(&ps, (unsigned)port))
			continue;
		sqlite3_reset(del);
		sqlite3_bind_int(del, 1, p);
		sqlite3_bind_int(del, 2, port);
		sqlite3_bind_text(del, 3,
		    (const char *)sqlite3_column_text(sel, 2), -1,
		    SQLITE_TRANSIENT);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto fail;
	}
	json_array_foreach(json_object_get(doc, "listeners"), i, l)
	{
		const char *addr, *proc, *user;
		unsigned port;
		int proto;

		if (doc_listener(l, &proto, &addr, &port, &proc, &user) != 0)
			goto fail_set;
		sqlite3_reset(ins);
		sqlite3_bind_int(ins, 1, proto);
		sqlite3_bind_text(ins, 2, addr, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 3, (int)port);
		sqlite3_bind_text(ins, 4, proc, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, user, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 6, (sqlite3_int64)now);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto fail;
		saved++;
	}
	sqlite3_bind_int64(kv, 1, (sqlite3_int64)now);
	if (sqlite3_step(kv) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(kv);
	if (exec_sql(db, "COMMIT") != 0) {
		exec_sql(db, "ROLLBACK");
		return -1;
	}
	return saved;
fail:
	audit_state_error(db);
fail_set:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(kv);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
doc_row(void *arg, size_t i, int *proto, const char **addr, unsigned *port,
    const char **process, const char **user)
{
	return doc_listener(json_array_get((json_t *)arg, i), proto, addr, port,
	    process, user);
}

int
pdx_audit_record(struct pdx_state *state, json_t *doc, unsigned max)
{
	json_t *sc = json_object_get(doc, "scope"), *sum, *ls;
	const char *worst;
	char scope[128];

	sum = json_object_get(doc, "summary");
	snprintf(scope, sizeof scope, "%s %s",
	    json_string_value(json_object_get(sc, "ports")) != NULL
		? json_string_value(json_object_get(sc, "ports"))
		: "?",
	    json_string_value(json_object_get(sc, "transports")) != NULL
		? json_string_value(json_object_get(sc, "transports"))
		: "?");
	worst = json_string_value(json_object_get(sum, "worst"));
	ls = json_object_get(doc, "listeners");
	return audit_record_run(state, scope,
	    json_integer_value(json_object_get(sum, "listeners")),
	    json_integer_value(json_object_get(sum, "findings")),
	    worst != NULL ? worst : "none",
	    json_is_true(json_object_get(doc, "complete")), max,
	    json_array_size(ls), doc_row, ls);
}

/* ---- the findings without the document (pdx_audit_stream) -------------- */

/*
 * s as the document has it (audit_clean_str): s itself when it is
 * printable ASCII, as nearly every name is; else a copy, kept in *tofree.
 * NULL: no memory.
 */
static int
printable(const char *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	size_t i = 0;

#ifdef __SSE2__
	/* 16 at a time: as signed bytes, 0x80-0xff are below 0x20 too */
	for (; i + 16 <= len; i += 16) {
		__m128i x = _mm_loadu_si128(
		    (const __m128i *)(const void *)(s + i));

		if (_mm_movemask_epi8(
			_mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
			    _mm_cmpgt_epi8(x, _mm_set1_epi8(0x7e)))) != 0)
			return 0;
	}
#endif
	/* 8 bytes at a time: a byte below 0x20 or from 0x7f up sets 0x80 */
	for (; i + 8 <= len; i += 8) {
		uint64_t x;

		memcpy(&x, s + i, 8);
		if ((((x - ones * 0x20) & ~x) | (x + ones) | x) & highs)
			return 0;
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static const char *
clean_text(const char *s, char **tofree)
{
	json_t *j;

	if (printable(s, strlen(s)))
		return s;
	if ((j = audit_clean_str(s)) == NULL)
		return NULL;
	free(*tofree);
	*tofree = strdup(json_string_value(j));
	json_decref(j);
	return *tofree;
}

/* What the record of a streamed run reads, and its copies. */
struct stream_rows {
	const struct eval *e;
	char *tofree[3];
};

static int
eval_row(void *arg, size_t i, int *proto, const char **addr, unsigned *port,
    const char **process, const char **user)
{
	struct stream_rows *r = arg;
	const struct pdx_socket *s = r->e->ls[i].s;

	*proto = s->proto;
	*port = s->lport;
	*addr = clean_text(s->local, &r->tofree[0]);
	*process = s->pid > 0 && s->comm[0] != '\0'
	    ? clean_text(s->comm, &r->tofree[1])
	    : "";
	*user = s->user != NULL && *s->user != '\0'
	    ? clean_text(s->user, &r->tofree[2])
	    : "";
	if (*addr == NULL || *process == NULL || *user == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	return 0;
}

/* The summary of an evaluation, as its document would have it. */
static int
stream_summary(const struct eval *e, const struct pdx_audit_opts *o,
    struct pdx_audit_summary *sum)
{
	size_t i;

	memset(sum, 0, sizeof *sum);
	sum->incomplete = json_array();
	sum->notes = json_array();
	if (sum->incomplete == NULL || sum->notes == NULL) {
		pdx_audit_summary_free(sum);
		pdx_set_error("out of memory");
		return -1;
	}
	audit_eval_completeness(e, sum->incomplete, sum->notes);
	sum->complete = json_array_size(sum->incomplete) == 0;
	sum->worst = PDX_LEVEL_NONE;
	for (i = 0; i < e->nf; i++) {
		const struct finding *f = &e->fs[i];

		if (f->acc != NULL) {
			sum->accepted++;
			continue;
		}
		sum->findings++;
		sum->level[f->level]++;
		if (f->level > sum->worst)
			sum->worst = f->level;
	}
	sum->listeners = e->nl;
	sum->unattributed = e->no_pid;
	sum->ports = o->ports != NULL ? o->ports : "all";
	audit_protos_text(e->protos, sum->transports, sizeof sum->transports);
	return 0;
}

/* Hands finding f of e to fn; what fn returns, or -1 without memory. */
static int
stream_one(const struct finding *fs, struct pdx_audit_summary *sum,
    int (*fn)(void *, const struct pdx_audit_finding *,
	const struct pdx_audit_summary *),
    void *arg, int terse)
{
	const struct pdx_socket *s = fs->l->s;
	struct pdx_audit_finding f;
	char subj[400], why[1024], next[512], *tofree[8];
	struct abuf wb;
	int rc = -1;
	size_t k;

	memset(tofree, 0, sizeof tofree);
	memset(&f, 0, sizeof f);
	/* only counted: nothing of it is shown but its rule */
	if (terse && fs->acc == NULL && fs->level == PDX_LEVEL_INFO) {
		f.level = fs->level;
		f.rule = fs->rule->id;
		f.proto = s->proto;
		f.port = s->lport;
		f.pid = s->pid > 0 ? (long)s->pid : 0;
		f.address = "";
		return fn(arg, &f, sum) != 0;
	}
	audit_subject(fs->l, subj, sizeof subj);
	ab_init(&wb, why, sizeof why);
	ab_str(&wb, subj);
	ab_str(&wb, ": ");
	ab_str(&wb, fs->clause);
	ab_str(&wb, ".");
	audit_expand(fs->rule->next, s, next, sizeof next);
	f.level = fs->level;
	f.rule = fs->rule->id;
	f.proto = s->proto;
	f.port = s->lport;
	f.pid = s->pid > 0 ? (long)s->pid : 0;
	f.accepted = fs->acc != NULL;
	if ((f.address = clean_text(s->local, &tofree[0])) == NULL ||
	    (s->pid > 0 && s->comm[0] != '\0' &&
		(f.process = clean_text(s->comm, &tofree[1])) == NULL) ||
	    (s->user != NULL && *s->user != '\0' &&
		(f.user = clean_text(s->user, &tofree[2])) == NULL) ||
	    (s->unit != NULL && *s->unit != '\0' &&
		(f.unit = clean_text(s->unit, &tofree[3])) == NULL) ||
	    (f.why = clean_text(why, &tofree[4])) == NULL ||
	    (f.next = clean_text(next, &tofree[5])) == NULL ||
	    (fs->acc != NULL &&
		((f.accepted_by = clean_text(fs->acc->origin, &tofree[6])) ==
			NULL ||
		    (f.accepted_reason = clean_text(fs->acc->reason,
			 &tofree[7])) == NULL)))
		pdx_set_error("out of memory");
	else
		rc = fn(arg, &f, sum) != 0;
	for (k = 0; k < sizeof tofree / sizeof *tofree; k++)
		free(tofree[k]);
	return rc;
}

struct stream_arg {
	unsigned flags;
	struct pdx_audit_summary *sum;
	int (*fn)(void *, const struct pdx_audit_finding *,
	    const struct pdx_audit_summary *);
	void *arg;
};

/* Evaluates e, sums it up into sum and records the run when o says so;
 * 0, or -1 with the error (sum then holds nothing to free). */
static int
eval_record(struct eval *e, struct pdx_state *state,
    const struct pdx_audit_opts *o, struct pdx_audit_summary *sum)
{
	struct stream_rows rows;
	char scope[128];
	size_t i;
	int rc;

	if (audit_eval_run(e) != 0 || stream_summary(e, o, sum) != 0)
		return -1;
	if (!o->record || state == NULL)
		return 0;
	memset(&rows, 0, sizeof rows);
	rows.e = e;
	snprintf(scope, sizeof scope, "%s %s", sum->ports, sum->transports);
	rc = audit_record_run(state, scope, (sqlite3_int64)e->nl,
	    (sqlite3_int64)sum->findings, pdx_level_name(sum->worst),
	    sum->complete, o->history_max, e->nl, eval_row, &rows);
	for (i = 0; i < 3; i++)
		free(rows.tofree[i]);
	if (rc != 0) {
		pdx_audit_summary_free(sum);
		return -1;
	}
	return 0;
}

/* audit_run_view's view: evaluate, record, summarize, hand over. */
static int
stream_view(void *varg, struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, const struct pdx_socket *v, size_t n,
    const struct pdx_attr_stats *st, int requested, int backend)
{
	struct stream_arg *sa = varg;
	struct eval e;
	size_t i;
	int rc = -1;

	audit_eval_init(&e, db, state, o, v, n, st, requested, backend);
	e.terse_info = (sa->flags & PDX_AUDIT_STREAM_TERSE_INFO) != 0;
	if (eval_record(&e, state, o, sa->sum) != 0)
		goto out;
	rc = 0;
	for (i = 0; i < e.nf && rc == 0; i++)
		rc = stream_one(&e.fs[i], sa->sum, sa->fn, sa->arg,
		    (sa->flags & PDX_AUDIT_STREAM_TERSE_INFO) != 0);
	if (rc > 0)
		rc = 0; /* fn asked to stop */
	else if (rc < 0)
		pdx_audit_summary_free(sa->sum);
out:
	audit_eval_free(&e);
	return rc;
}

/* audit_run_view's view for pdx_audit_run_sink: evaluate, record, emit. */
static int
sink_view(void *varg, struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, const struct pdx_socket *v, size_t n,
    const struct pdx_attr_stats *st, int requested, int backend)
{
	struct pdx_audit_summary sum;
	struct eval e;
	int rc = -1;

	memset(&sum, 0, sizeof sum);
	audit_eval_init(&e, db, state, o, v, n, st, requested, backend);
	if (eval_record(&e, state, o, &sum) == 0) {
		pdx_audit_summary_free(&sum);
		rc = audit_eval_emit(&e, varg);
	}
	audit_eval_free(&e);
	return rc;
}

int
pdx_audit_run_sink(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, const struct pdx_json_sink *sink)
{
	return audit_run_view(db, state, o, sink_view, (void *)sink);
}

int
pdx_audit_stream(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, unsigned flags,
    struct pdx_audit_summary *sum, pdx_audit_finding_fn fn, void *arg)
{
	struct stream_arg sa = { flags, sum, fn, arg };

	memset(sum, 0, sizeof *sum);
	return audit_run_view(db, state, o, stream_view, &sa);
}

void
pdx_audit_summary_free(struct pdx_audit_summary *sum)
{
	json_decref(sum->incomplete);
	json_decref(sum->notes);
	sum->incomplete = sum->notes = NULL;
}

/* First and last time a listener was seen in the history (0: never). */
static void
seen_times(sqlite3_stmt *q, int proto, const char *addr, unsigned port,
    time_t *first, time_t *last)
{
	*first = *last = 0;
	sqlite3_reset(q);
	sqlite3_bind_int(q, 1, proto);
	sqlite3_bind_text(q, 2, addr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 3, (int)port);
	if (sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL) {
		*first = (time_t)sqlite3_column_int64(q, 0);
		*last = (time_t)sqlite3_column_int64(q, 1);
	}
}

static const char seen_sql[] =
    "SELECT MIN(r.at), MAX(r.at) FROM audit_spans s" SPAN_RUNS("s",
	"r") " WHERE s.proto = ?1 AND s.address = ?2 AND s.port = ?3";

static json_t *
time_or_null(time_t t)
{
	return t > 0 ? audit_json_time(t) : json_null();
}

json_t *
pdx_audit_diff(struct pdx_state *state, json_t *doc)
{
	sqlite3 *db = pdx_state_handle(state);
	sqlite3_stmt *bl = NULL, *seen = NULL, *kv = NULL;
	struct pdx_portset ps;
	json_t *cur, *added, *gone, *res = NULL, *l;
	int protos, have = 0;
	time_t saved = 0, first, last;
	char key[128];
	size_t i;

	if (db == NULL)
		return NULL;

	if (doc_scope(doc, &ps, &protos) != 0)
		return NULL;
	cur = json_object();
	added = json_array();
	gone = json_array();
	if (cur == NULL || added == NULL || gone == NULL) {
		pdx_set_error("out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db,
		"SELECT value FROM audit_kv WHERE key ="
		" 'baseline_saved'",
		-1, &kv, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
		"SELECT proto, address, port, process,"
		" user, saved FROM audit_baseline ORDER BY port, proto, address",
		-1, &bl, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, seen_sql, -1, &seen, NULL) != SQLITE_OK) {
		audit_state_error(db);
		goto out;
	}
	if (sqlite3_step(kv) == SQLITE_ROW) {
		have = 1;
		saved = (time_t)sqlite3_column_int64(kv, 0);
	}
	json_array_foreach(json_object_get(doc, "listeners"), i, l)
	{
		const char *addr, *proc, *user;
		unsigned port;
		int proto;

		if (doc_listener(l, &proto, &addr, &port, &proc, &user) != 0)
			goto out;
		audit_listener_key(proto, addr, port, key, sizeof key);
		json_object_set(cur, key, l);
	}
	while (have && sqlite3_step(bl) == SQLITE_ROW) {
		int proto = sqlite3_column_int(bl, 0), port;
		const char *addr = (const char *)sqlite3_column_text(bl, 1);

		port = sqlite3_column_int(bl, 2);
		if (addr == NULL || (proto & protos) == 0 || port < 0 ||
		    port > 65535 || !pdx_portset_has(&ps, (unsigned)port))
			continue;
		audit_listener_key(proto, addr, (unsigned)port, key,
		    sizeof key);
		if (json_object_get(cur, key) != NULL) {
			json_object_del(cur, key); /* still there */
			continue;
		}
		seen_times(seen, proto, addr, (unsigned)port, &first, &last);
		json_array_append_new(gone,
		    json_pack("{s:s, s:s, s:i, s:s,"
			      " s:s, s:o, s:o}",
			"proto", pdx_proto_name(proto), "address", addr, "port",
			port, "process",
			(const char *)sqlite3_column_text(bl, 3), "user",
			(const char *)sqlite3_column_text(bl, 4),
			"in_baseline_since",
			audit_json_time((time_t)sqlite3_column_int64(bl, 5)),
			"last_seen", time_or_null(last)));
	}
	/* What is left of the current listeners is new. */
	if (have)
		json_array_foreach(json_object_get(doc, "listeners"), i, l)
		{
			const char *addr, *proc, *user;
			unsigned port;
			int proto;

			if (doc_listener(l, &proto, &addr, &port, &proc,
				&user) != 0)
				goto out;
			audit_listener_key(proto, addr, port, key, sizeof key);
			if (json_object_get(cur, key) == NULL)
				continue;
			json_object_del(cur, key); /* once per key */
			seen_times(seen, proto, addr, port, &first, &last);
			json_array_append_new(added,
			    json_pack("{s:s, s:s, s:i,"
				      " s:s, s:s, s:O, s:o}",
				"proto", pdx_proto_name(proto), "address", addr,
				"port", (int)port, "process", proc, "user",
				user, "pid",
				json_object_get(l, "pid") != NULL
				    ? json_object_get(l, "pid")
				    : json_null(),
				"first_seen", time_or_null(first)));
		}
	res = json_pack("{s:o, s:O, s:O, s:O}", "baseline",
	    have ? json_pack("{s:o}", "saved", audit_json_time(saved))
		 : json_null(),
	    "scope", json_object_get(doc, "scope"), "added", added, "gone",
	    gone);
	if (res == NULL)
		pdx_set_error("out of memory");
out:
	sqlite3_finalize(kv);
	sqlite3_finalize(bl);
	sqlite3_finalize(seen);
	json_decref(cur);
	json_decref(added);
	json_decref(gone);
	return res;
}
