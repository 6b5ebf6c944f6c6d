/*
 * audit.c - the audit of this machine's listeners: one evaluation gathers
 * the facts of every socket and published port (audit-facts.c reads
 * executables and the baseline), runs every rule of audit-rules.c over
 * them, marks findings accepted on purpose (audit-accept.c), says what
 * could not be seen, and builds the document; findings sorted most
 * severe first.  The baseline, diff and history are audit-store.c's.
 * Listing and attributing sockets is sockets*.c's and procwalk.c's; what
 * a port is (its risk reasons) is risk.c's; printing is the tool's.
 */
#define _GNU_SOURCE /* strndup */
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "sockets-int.h"
#include "portdex/firewall.h"
#include "portdex/audit.h"
#include "registry-int.h"
#include "audit-int.h"
#include "util-int.h"

/* ---- findings ------------------------------------------------------------ */

static int
finding_cmp(const void *x, const void *y)
{
	const struct finding *a = x, *b = y;

	if ((a->acc != NULL) != (b->acc != NULL))
		return a->acc != NULL ? 1 : -1;
	if (a->level != b->level)
		return b->level - a->level;
	if (a->l->s->lport != b->l->s->lport)
		return a->l->s->lport < b->l->s->lport ? -1 : 1;
	if (a->l->s->proto != b->l->s->proto)
		return a->l->s->proto - b->l->s->proto;
	if (a->l != b->l)
		return a->l < b->l ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/*
 * The findings' clauses are copied into blocks freed together, not a
 * malloc and a free each (a thousand findings).
 */
struct clause_block {
	struct clause_block *next;
	size_t len, cap;
	char text[];
};
#define CLAUSE_BLOCK (64 * 1024)

/* A copy of s among e's clauses; NULL without memory. */
static char *
clause_copy(struct eval *e, const char *s)
{
	struct clause_block *b = e->clauses;
	size_t n = strlen(s) + 1;

	if (b == NULL || b->cap - b->len < n) {
		size_t cap = n > CLAUSE_BLOCK ? n : CLAUSE_BLOCK;

		if ((b = malloc(sizeof *b + cap)) == NULL)
			return NULL;
		b->next = e->clauses;
		b->len = 0;
		b->cap = cap;
		e->clauses = b;
	}
	memcpy(b->text + b->len, s, n);
	b->len += n;
	return b->text + b->len - n;
}

/* finding_cmp's first keys: not accepted first, then the worst first. */
#define FS_GROUPS (2 * (PDX_LEVEL_HIGH + 1))

static size_t
fs_group(const struct finding *f)
{
	return (f->acc != NULL ? PDX_LEVEL_HIGH + 1 : 0) +
	    (size_t)(PDX_LEVEL_HIGH - f->level);
}

/*
 * Sorts the findings as finding_cmp orders them.  They are made listener
 * by listener, rule by rule, so once split (stably) by finding_cmp's first
 * keys they are usually in order: checked, that spares the sort; else
 * qsort.  finding_cmp is a total order: either way the same result.
 */
static void
sort_findings(struct eval *e)
{
	size_t start[FS_GROUPS + 1], i, g;
	struct finding *tmp;

	memset(start, 0, sizeof start);
	for (i = 0; i < e->nf; i++) {
		if (e->fs[i].level < 0 || e->fs[i].level > PDX_LEVEL_HIGH)
			goto sort;
		start[fs_group(&e->fs[i]) + 1]++;
	}
	for (g = 0; g < FS_GROUPS; g++)
		start[g + 1] += start[g];
	if ((tmp = malloc(e->nf * sizeof *tmp)) == NULL)
		goto sort;
	for (i = 0; i < e->nf; i++)
		tmp[start[fs_group(&e->fs[i])]++] = e->fs[i];
	for (i = 1; i < e->nf; i++)
		if (finding_cmp(&tmp[i - 1], &tmp[i]) > 0)
			break;
	if (i == e->nf)
		memcpy(e->fs, tmp, e->nf * sizeof *tmp);
	free(tmp);
	if (i == e->nf)
		return;
sort:
	qsort(e->fs, e->nf, sizeof *e->fs, finding_cmp);
}

/* Copies tmpl into buf with {port}, {proto} and {pid} filled in. */
void
audit_expand(const char *tmpl, const struct pdx_socket *s, char *buf,
    size_t size)
{
	struct abuf t;
	const char *p = tmpl, *q;

	ab_init(&t, buf, size);
	/* the text between placeholders copied a run at a time */
	while ((q = strchr(p, '{')) != NULL) {
		ab_mem(&t, p, (size_t)(q - p));
		p = q + 1;
		if (strncmp(q, "{port}", 6) == 0) {
			ab_num(&t, s->lport);
			p = q + 6;
		} else if (strncmp(q, "{proto}", 7) == 0) {
			ab_str(&t, pdx_proto_name(s->proto));
			p = q + 7;
		} else if (strncmp(q, "{pid}", 5) == 0) {
			if (s->pid > 0)
				ab_num(&t, (long)s->pid);
			else
				ab_str(&t, "PID");
			p = q + 5;
		} else
			ab_mem(&t, "{", 1);
	}
	ab_str(&t, p);
}

/* pdx_json_clean (util.c): process names and paths are chosen by whoever
 * started the process, and must neither fail the audit nor reach a
 * terminal as escape sequences.  New reference. */
json_t *
audit_clean_str(const char *s)
{
	return pdx_json_clean(s);
}

json_t *
audit_opt_str(const char *s)
{
	return s != NULL && *s != '\0' ? audit_clean_str(s) : json_null();
}

/* Sets key (a constant) to v, a new reference; a NULL v is left out. */
static void
set(json_t *o, const char *key, json_t *v)
{
	if (v != NULL)
		json_object_set_new_nocheck(o, key, v);
}

/*
 * Constant strings (levels, rule ids, transports, families) as JSON, one
 * value per constant for the whole document, found by the constant's
 * address: a few dozen of them, thousands of uses.
 */
#define KCACHE_MAX 64
struct kcache {
	const char *k[KCACHE_MAX];
	json_t *v[KCACHE_MAX];
	size_t n;
};

/* A new reference to the JSON of the constant string c; NULL: no memory. */
static json_t *
kstr(struct kcache *kc, const char *c)
{
	size_t i;

	for (i = 0; i < kc->n; i++)
		if (kc->k[i] == c)
			return json_incref(kc->v[i]);
	if (kc->n == KCACHE_MAX)
		return json_string_nocheck(c);
	if ((kc->v[kc->n] = json_string_nocheck(c)) == NULL)
		return NULL;
	kc->k[kc->n] = c;
	return json_incref(kc->v[kc->n++]);
}

static void
kcache_free(struct kcache *kc)
{
	size_t i;

	for (i = 0; i < kc->n; i++)
		json_decref(kc->v[i]);
	kc->n = 0;
}

/*
 * A listener's strings as JSON, made once and shared (a new reference
 * each use) by its entry in "listeners" and each of its findings: the
 * same text cleaned and copied up to four times was a tenth of an audit.
 */
struct lstrs {
	json_t *address, *service, *process, *user, *unit, *exe;
	int made;
};

static void
lstrs_make(struct lstrs *j, const struct listener *l)
{
	const struct pdx_socket *s = l->s;

	if (j->made)
		return;
	j->made = 1;
	j->address = audit_clean_str(s->local);
	j->service = audit_opt_str(l->has_brief ? l->b.name : NULL);
	j->process = audit_opt_str(s->pid > 0 ? s->comm : NULL);
	j->user = audit_opt_str(s->user);
	j->unit = audit_opt_str(s->unit);
	j->exe = audit_opt_str(l->exe_known ? l->exe : NULL);
}

static void
lstrs_free(struct lstrs *j)
{
	json_decref(j->address);
	json_decref(j->service);
	json_decref(j->process);
	json_decref(j->user);
	json_decref(j->unit);
	json_decref(j->exe);
}

static json_t *
finding_json(const struct finding *f, const char *clause, const struct lstrs *j,
    struct kcache *kc)
{
	const struct listener *l = f->l;
	const struct pdx_socket *s = l->s;
	char subj[400], why[1024], next[512];
	json_t *o;

	audit_subject(l, subj, sizeof subj);
	snprintf(why, sizeof why, "%s: %s.", subj, clause);
	audit_expand(f->rule->next, s, next, sizeof next);
	/*
	 * Built key by key (json_pack parses its format string for each of
	 * a thousand findings); the keys are constants, not checked again.
	 */
	if ((o = json_object()) == NULL)
		return NULL;
	set(o, "level", kstr(kc, pdx_level_name(f->level)));
	set(o, "rule", kstr(kc, f->rule->id));
	set(o, "proto", kstr(kc, pdx_proto_name(s->proto)));
	set(o, "family", kstr(kc, s->family == AF_INET ? "ipv4" : "ipv6"));
	set(o, "address", json_incref(j->address));
	set(o, "port", json_integer((json_int_t)s->lport));
	set(o, "all_interfaces", json_boolean(l->wildcard));
	set(o, "loopback", json_boolean(l->loopback));
	set(o, "service", json_incref(j->service));
	set(o, "pid", s->pid > 0 ? json_integer(s->pid) : json_null());
	set(o, "process", json_incref(j->process));
	set(o, "user", json_incref(j->user));
	set(o, "uid", s->uid >= 0 ? json_integer(s->uid) : json_null());
	set(o, "unit", json_incref(j->unit));
	set(o, "exe", json_incref(j->exe));
	set(o, "container", audit_opt_str(s->container));
	set(o, "why", audit_clean_str(why));
	set(o, "next", audit_clean_str(next));
	set(o, "accepted", json_boolean(f->acc != NULL));
	set(o, "accepted_reason",
	    f->acc != NULL ? audit_clean_str(f->acc->reason) : json_null());
	set(o, "accepted_by",
	    f->acc != NULL ? audit_clean_str(f->acc->origin) : json_null());
	if (json_object_size(o) != 21) {
		json_decref(o); /* a value could not be made */
		return NULL;
	}
	return o;
}

static json_t *
listener_json(const struct listener *l, const struct lstrs *j,
    struct kcache *kc)
{
	const struct pdx_socket *s = l->s;

	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	set(o, "proto", kstr(kc, pdx_proto_name(s->proto)));
	set(o, "family", kstr(kc, s->family == AF_INET ? "ipv4" : "ipv6"));
	set(o, "address", json_incref(j->address));
	set(o, "port", json_integer((json_int_t)s->lport));
	set(o, "all_interfaces", json_boolean(l->wildcard));
	set(o, "service", json_incref(j->service));
	set(o, "pid", s->pid > 0 ? json_integer(s->pid) : json_null());
	set(o, "process", json_incref(j->process));
	set(o, "user", json_incref(j->user));
	set(o, "unit", json_incref(j->unit));
	set(o, "exe", json_incref(j->exe));
	if (json_object_size(o) != 11) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The protocols of the scope as text ("tcp,udp"). */
void
audit_protos_text(int protos, char *buf, size_t size)
{
	static const int order[] = { PDX_TCP, PDX_UDP, PDX_SCTP };
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof order / sizeof *order; i++)
		if (protos & order[i]) {
			int k = snprintf(buf + used, size - used, "%s%s",
			    used > 0 ? "," : "", pdx_proto_name(order[i]));

			if (k > 0 && (size_t)k < size - used)
				used += (size_t)k;
		}
}

/* The registry's brief and risk of port for l; 0, or -1 with the error. */
static int
eval_brief(struct eval *e, struct listener *l, unsigned port, int proto)
{
	struct pdx_db *db = e->a.db;

	if (db == NULL || pdx_brief(db, port, proto, &l->b) != 0)
		return 0;
	l->has_brief = 1;
	if (l->b.name == NULL)
		l->b.name = "";
	if (l->b.risk != PDX_LEVEL_NONE)
		l->reasons = pdx_risk_reason_bits(db, port, proto, l->b.status,
		    &l->reasons_what);
	return 0;
}

/* Options, notes, the baseline, published ports, the arrays. */
static int
eval_setup(struct eval *e)
{
	const struct pdx_audit_opts *o = e->o;

	e->protos = o->protos != 0 ? o->protos : PDX_TCP | PDX_UDP | PDX_SCTP;
	e->a.procdir = o->procdir != NULL ? o->procdir : "/proc";
	if (o->ports != NULL && pdx_portset_parse(&e->ps, o->ports) != 0)
		return -1;
	if (e->a.state != NULL) {
		if (pdx_notes_load(e->a.state) !=
		    0) /* once, not per listener */
			return -1;
		if (audit_load_baseline(&e->a) != 0)
			return -1;
	}
	/* ports published by DNAT/redirect rules: listeners of their own */
	if (o->ruleset != NULL &&
	    pdx_firewall_published(o->ruleset, &e->pub, &e->npub) == 0 &&
	    e->npub > 0 &&
	    (e->pubsock = calloc(e->npub, sizeof *e->pubsock)) == NULL)
		goto oom;
	if (e->n + e->npub > 0 &&
	    (e->ls = calloc(e->n + e->npub, sizeof *e->ls)) == NULL)
		goto oom;
	for (e->pidcap = 64; e->pidcap < 2 * e->n; e->pidcap *= 2)
		;
	e->pidix = calloc(e->pidcap, sizeof *e->pidix); /* NULL: read each */
	return 0;
oom:
	pdx_set_error("out of memory");
	return -1;
}

/* Facts, one listener per socket (duplicates of a key+pid once). */
static int
eval_sockets(struct eval *e)
{
	struct listener *ls = e->ls;
	size_t i;

	for (i = 0; i < e->n; i++) {
		struct listener *l = &ls[e->nl];
		const struct pdx_socket *s = &e->v[i];

		if (e->nl > 0 && ls[e->nl - 1].s->proto == s->proto &&
		    ls[e->nl - 1].s->lport == s->lport &&
		    strcmp(ls[e->nl - 1].s->local, s->local) == 0 &&
		    ls[e->nl - 1].s->pid == s->pid)
			continue;
		l->s = s;
		l->loopback = audit_is_loopback(s->family, s->laddr);
		l->wildcard = audit_is_wildcard(s->family, s->laddr);
		if (eval_brief(e, l, s->lport, s->proto) != 0)
			return -1;
		if (s->pid > 0) {
			l->tool = audit_tool_match(s->comm, 0);
			if (audit_read_exe_once(&e->a, ls, l, e->pidix,
				e->pidcap) < 0)
				e->exe_refused++;
			if (l->tool == NULL && l->exe_known)
				l->tool = audit_tool_match(audit_base_name(
							       l->exe),
				    1);
		} else
			e->no_pid++;
		if (e->a.state != NULL)
			l->noted = pdx_note_text(e->a.state, s->lport,
				       s->proto) != NULL;
		if (e->a.have_baseline) {
			char key[128];

			audit_listener_key(s->proto, s->local, s->lport, key,
			    sizeof key);
			l->in_baseline = json_object_get(e->a.baseline, key) !=
			    NULL;
		}
		if (e->o->ruleset != NULL && !l->loopback) {
			if ((l->v = malloc(2 * sizeof *l->v)) == NULL) {
				pdx_set_error("out of memory");
				return -1;
			}
			pdx_firewall_judge(e->o->ruleset, s->family, s->proto,
			    s->laddr, s->lport, s->v6only, &l->v[0], &l->v[1]);
			l->judged = 1;
		}
		e->nl++;
	}
	return 0;
}

/* A listener of its own for each published port in scope. */
static int
eval_published(struct eval *e)
{
	const struct pdx_audit_opts *o = e->o;
	size_t i;

	for (i = 0; i < e->npub; i++) {
		const struct pdx_published *p = &e->pub[i];
		struct listener *l = &e->ls[e->nl + e->np];
		struct pdx_socket *s = &e->pubsock[e->np];
		unsigned to = p->to_port != 0 ? p->to_port : p->port_lo;

		if (p->port_lo != p->port_hi || p->proto == 0 ||
		    (p->proto & e->protos) == 0 ||
		    (o->ports != NULL && !pdx_portset_has(&e->ps, p->port_lo)))
			continue;
		s->proto = p->proto;
		s->family = p->family == AF_INET6 ? AF_INET6 : AF_INET;
		s->lport = p->port_lo;
		s->uid = -1;
		s->v6only = -1;
		snprintf(s->local, sizeof s->local, "%s",
		    s->family == AF_INET6 ? "::" : "0.0.0.0");
		l->s = s;
		l->pub = p;
		l->wildcard = 1;
		if ((l->v = calloc(2, sizeof *l->v)) == NULL) {
			pdx_set_error("out of memory");
			return -1;
		}
		l->v[0] = p->reach;
		l->judged = 1;
		/* the risk is the service's that answers: the destination */
		if (eval_brief(e, l, to, s->proto) != 0)
			return -1;
		e->np++;
	}
	return 0;
}

/* Every rule over every listener (and published port), then sorted. */
static int
eval_rules(struct eval *e)
{
	char buf[512];
	size_t i, k;

	for (i = 0; i < e->nl + e->np; i++) {
		struct listener *l = &e->ls[i];
		int have = (e->a.db != NULL && l->has_brief ? NEED_DB : 0) |
		    (l->s->pid > 0 ? NEED_PID : 0) |
		    (l->exe_known ? NEED_EXE : 0) |
		    (e->a.state != NULL ? NEED_STATE : 0) |
		    (e->a.have_baseline ? NEED_BASELINE : 0);

		for (k = 0; k < NRULES; k++) {
			const struct audit_rule *ru = &audit_rules[k];
			struct check_arg c = { &e->a, l, buf, sizeof buf, 0 };
			struct finding *f;

			if ((ru->needs & have) != ru->needs)
				continue;
			/* a published port is only a published port */
			if ((l->pub != NULL) !=
			    (ru->check == audit_check_admin_published))
				continue;
			buf[0] = '\0';
			if (!ru->check(&c))
				continue;
			if (e->nf == e->capf) {
				size_t nc = e->capf == 0 ? 16 : e->capf * 2;
				struct finding *nv = realloc(e->fs,
				    nc * sizeof *nv);

				if (nv == NULL)
					goto oom;
				e->fs = nv;
				e->capf = nc;
			}
			f = &e->fs[e->nf++];
			f->rule = ru;
			f->level = c.level != 0 ? c.level : ru->level;
			f->l = l;
			f->acc = audit_accepted(e->o->accepts, ru->id,
			    l->s->lport, l->s->proto);
			/* its JSON only when the document is built */
			f->clause = NULL;
			if (e->count_only ||
			    (e->terse_info && f->acc == NULL &&
				f->level == PDX_LEVEL_INFO))
				continue; /* only counted */
			if ((f->clause = clause_copy(e, buf)) == NULL) {
				e->nf--;
				goto oom;
			}
		}
	}
	if (e->nf > 1)
		sort_findings(e);
	return 0;
oom:
	pdx_set_error("out of memory");
	return -1;
}

/*
 * The audit document, handed to k member by member, the findings and the
 * listeners element by element: what a listener's strings and the
 * constants cost is made once (lstrs, kcache), each element freed by the
 * sink as it goes.  0, or -1 with the error when nothing could be handed
 * over; an element that could not be made is handed over as NULL.
 */
int
audit_eval_emit(const struct eval *e, const struct pdx_json_sink *k)
{
	size_t counts[PDX_LEVEL_HIGH + 1], nacc = 0, i;
	json_t *incomplete, *notes;
	struct lstrs *js = NULL;
	struct kcache kc;
	char protobuf[32], host[256];
	int worst = PDX_LEVEL_NONE, complete;

	memset(counts, 0, sizeof counts);
	kc.n = 0;
	incomplete = json_array();
	notes = json_array();
	if (incomplete == NULL || notes == NULL ||
	    (e->nl + e->np > 0 &&
		(js = calloc(e->nl + e->np, sizeof *js)) == NULL)) {
		json_decref(incomplete);
		json_decref(notes);
		pdx_set_error("out of memory");
		return -1;
	}
	audit_eval_completeness(e, incomplete, notes);
	complete = json_array_size(incomplete) == 0;
	for (i = 0; i < e->nf; i++) {
		if (e->fs[i].acc != NULL)
			nacc++;
		else {
			counts[e->fs[i].level]++;
			if (e->fs[i].level > worst)
				worst = e->fs[i].level;
		}
	}
	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	audit_protos_text(e->protos, protobuf, sizeof protobuf);
	k->member(k->arg, "schema", json_integer(PDX_AUDIT_SCHEMA));
	k->member(k->arg, "time", audit_json_time(time(NULL)));
	k->member(k->arg, "host", audit_clean_str(host));
	k->member(k->arg, "scope",
	    json_pack("{s:s, s:s}", "ports",
		e->o->ports != NULL ? e->o->ports : "all", "transports",
		protobuf));
	k->member(k->arg, "backend", json_string(pdx_backend_name(e->backend)));
	k->member(k->arg, "complete", json_boolean(complete));
	k->member(k->arg, "incomplete", incomplete);
	k->member(k->arg, "notes", notes);
	k->member(k->arg, "baseline",
	    e->a.have_baseline ? json_pack("{s:o}", "saved",
				     audit_json_time(e->a.baseline_saved))
			       : json_null());
	k->member(k->arg, "summary",
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
		"listeners", (json_int_t)e->nl, "findings",
		(json_int_t)(e->nf - nacc), "accepted", (json_int_t)nacc,
		"high", (json_int_t)counts[PDX_LEVEL_HIGH], "medium",
		(json_int_t)counts[PDX_LEVEL_MEDIUM], "low",
		(json_int_t)counts[PDX_LEVEL_LOW], "info",
		(json_int_t)counts[PDX_LEVEL_INFO], "unattributed",
		(json_int_t)e->no_pid, "worst", pdx_level_name(worst)));
	k->array(k->arg, "findings");
	for (i = 0; i < e->nf && !e->o->no_findings; i++) {
		struct lstrs *j = &js[e->fs[i].l - e->ls];

		lstrs_make(j, e->fs[i].l);
		k->item(k->arg,
		    finding_json(&e->fs[i], e->fs[i].clause, j, &kc));
	}
	k->array_end(k->arg);
	k->array(k->arg, "listeners");
	for (i = 0; i < e->nl; i++) {
		lstrs_make(&js[i], &e->ls[i]);
		k->item(k->arg, listener_json(&e->ls[i], &js[i], &kc));
	}
	k->array_end(k->arg);
	if (e->st != NULL)
		k->member(k->arg, "attribution",
		    pdx_attr_stats_json(e->st, e->n));
	for (i = 0; i < e->nl + e->np; i++)
		lstrs_free(&js[i]);
	free(js);
	kcache_free(&kc);
	return 0;
}

/* A sink that builds the whole document (pdx_audit_run's). */
struct doc_build {
	json_t *doc, *arr;
	int failed;
};

static void
build_member(void *arg, const char *key, json_t *v)
{
	struct doc_build *b = arg;

	if (v == NULL || json_object_set_new(b->doc, key, v) != 0)
		b->failed = 1;
}

static void
build_array(void *arg, const char *key)
{
	struct doc_build *b = arg;

	if ((b->arr = json_array()) == NULL ||
	    json_object_set_new(b->doc, key, b->arr) != 0) {
		b->arr = NULL;
		b->failed = 1;
	}
}

static void
build_item(void *arg, json_t *v)
{
	struct doc_build *b = arg;

	if (v == NULL || b->arr == NULL ||
	    json_array_append_new(b->arr, v) != 0)
		b->failed = 1;
}

static void
build_array_end(void *arg)
{
	((struct doc_build *)arg)->arr = NULL;
}

/* The audit document; NULL with the error set. */
static json_t *
eval_document(const struct eval *e)
{
	struct doc_build b = { json_object(), NULL, 0 };
	struct pdx_json_sink k = { build_member, build_array, build_item,
		build_array_end, &b };

	if (b.doc == NULL || audit_eval_emit(e, &k) != 0 || b.failed) {
		json_decref(b.doc);
		pdx_set_error("out of memory");
		return NULL;
	}
	return b.doc;
}

void
audit_eval_free(struct eval *e)
{
	size_t i;

	while (e->clauses != NULL) {
		struct clause_block *b = e->clauses;

		e->clauses = b->next;
		free(b);
	}
	free(e->fs);
	for (i = 0; e->ls != NULL && i < e->n + e->npub; i++) {
		if (!e->ls[i].exe_borrowed) {
			free(e->ls[i].exe);
			free(e->ls[i].exe_dir);
		}
		free(e->ls[i].v);
	}
	free(e->ls);
	free(e->pidix);
	free(e->pub);
	free(e->pubsock);
	json_decref(e->a.notes);
	json_decref(e->a.baseline);
	for (i = 0; i < e->a.nmal; i++)
		free(e->a.mal[i].name);
	free(e->a.mal);
	free(e->a.new_clause);
}

void
audit_eval_init(struct eval *e, struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, const struct pdx_socket *v, size_t n,
    const struct pdx_attr_stats *st, int requested, int backend)
{
	memset(e, 0, sizeof *e);
	e->a.db = db;
	e->a.state = state;
	e->o = o;
	e->v = v;
	e->n = n;
	e->st = st;
	e->requested = requested;
	e->backend = backend;
}

/* Facts and findings; 0, or -1 with the error. */
int
audit_eval_run(struct eval *e)
{
	return eval_setup(e) == 0 && eval_sockets(e) == 0 &&
		eval_published(e) == 0 && eval_rules(e) == 0
	    ? 0
	    : -1;
}

json_t *
pdx_audit_evaluate(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, const struct pdx_socket *v, size_t n,
    const struct pdx_attr_stats *st, int requested, int backend)
{
	struct eval e;
	json_t *doc = NULL;

	audit_eval_init(&e, db, state, o, v, n, st, requested, backend);
	if (audit_eval_run(&e) == 0)
		doc = eval_document(&e);
	audit_eval_free(&e);
	return doc;
}

/*
 * The counts of an evaluation, without its document: per rule of the
 * table the findings not accepted, and whether the document would say
 * complete.
 */
static int
eval_counts(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, const struct pdx_socket *v, size_t n,
    const struct pdx_attr_stats *st, int requested, int backend, size_t *count,
    size_t ncount, int *complete)
{
	struct eval e;
	json_t *incomplete, *notes;
	size_t i;
	int rc = -1;

	audit_eval_init(&e, db, state, o, v, n, st, requested, backend);
	e.count_only = 1;
	incomplete = json_array();
	notes = json_array();
	if (incomplete == NULL || notes == NULL)
		pdx_set_error("out of memory");
	else if (audit_eval_run(&e) == 0) {
		memset(count, 0, ncount * sizeof *count);
		for (i = 0; i < e.nf; i++) {
			size_t k = (size_t)(e.fs[i].rule - audit_rules);

			if (e.fs[i].acc == NULL && k < ncount)
				count[k]++;
		}
		audit_eval_completeness(&e, incomplete, notes);
		*complete = json_array_size(incomplete) == 0;
		rc = 0;
	}
	json_decref(incomplete);
	json_decref(notes);
	audit_eval_free(&e);
	return rc;
}

/*
 * This machine's sockets, attributed, audited: the document (count NULL)
 * or the counts.  NULL doc and -1 with the error when it fails.
 */
static int
audit_run(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, json_t **docp, size_t *count, size_t ncount,
    int *complete, audit_view_fn view, void *varg)
{
	struct pdx_sock_filter f;
	struct pdx_portset ps;
	struct pdx_attr_stats st;
	struct pdx_socket *v = NULL;
	struct pdx_audit_accepts acc;
	struct pdx_audit_opts oo;
	struct pdx_ruleset *rs = NULL;
	size_t n = 0;
	int backend = 0, rc = -1;
	json_t *doc = NULL;

	memset(&acc, 0, sizeof acc);
	if (o->accepts == NULL && o->default_config) {
		if (pdx_audit_config_default(&acc) != 0) {
			pdx_audit_accepts_free(&acc);
			return -1;
		}
		oo = *o;
		oo.accepts = &acc;
		o = &oo;
	}
	pdx_sock_filter_init(&f);
	f.protos = o->protos != 0 ? o->protos : PDX_TCP | PDX_UDP | PDX_SCTP;
	f.backend = o->backend;
	if (o->ports != NULL) {
		if (pdx_portset_parse(&ps, o->ports) != 0)
			goto out;
		f.ports = &ps;
	}
	if (pdx_sockets_list(&f, &v, &n, &backend) != 0)
		goto out;
	if (o->ruleset == NULL) {
		/* the firewall of this namespace: verdicts, published ports */
		if (o != &oo) {
			oo = *o;
			o = &oo;
		}
		oo.ruleset = rs = pdx_ruleset_read(NULL);
	}
	memset(&st, 0, sizeof st);
	if (o->procdir != NULL)
		(void)pdx_sockets_attribute_at(o->procdir, v, n, &st);
	else
		(void)pdx_sockets_attribute(v, n, &st);
	if (view != NULL)
		rc = view(varg, db, state, o, v, n, &st, o->backend, backend);
	else if (count != NULL)
		rc = eval_counts(db, state, o, v, n, &st, o->backend, backend,
		    count, ncount, complete);
	else {
		doc = pdx_audit_evaluate(db, state, o, v, n, &st, o->backend,
		    backend);
		rc = doc != NULL ? 0 : -1;
	}
	pdx_sockets_free(v, n);
	if (doc != NULL && o->record && state != NULL &&
	    pdx_audit_record(state, doc, o->history_max) != 0) {
		json_decref(doc);
		doc = NULL;
		rc = -1;
	}
out:
	if (docp != NULL)
		*docp = doc;
	pdx_audit_accepts_free(&acc);
	pdx_ruleset_free(rs);
	return rc;
}

json_t *
pdx_audit_run(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o)
{
	json_t *doc = NULL;

	(void)audit_run(db, state, o, &doc, NULL, 0, NULL, NULL, NULL);
	return doc;
}

/* This machine's sockets, attributed, handed to view; 0 or -1. */
int
audit_run_view(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, audit_view_fn view, void *arg)
{
	return audit_run(db, state, o, NULL, NULL, 0, NULL, view, arg);
}

size_t
pdx_audit_nrules(void)
{
	return NRULES;
}

int
pdx_audit_count(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, size_t *count, size_t ncount, int *complete)
{
	int dummy;

	if (count == NULL && ncount > 0) {
		pdx_set_error("pdx_audit_count: no array for the counts");
		return -1;
	}
	return audit_run(db, state, o, NULL, count != NULL ? count : &ncount,
	    count != NULL ? ncount : 0, complete != NULL ? complete : &dummy,
	    NULL, NULL);
}

int
pdx_audit_worst(json_t *doc)
{
	json_t *f;
	size_t i;
	int worst = PDX_LEVEL_NONE, l;

	json_array_foreach(json_object_get(doc, "findings"), i, f)
	{
		if (json_is_true(json_object_get(f, "accepted")))
			continue;
		l = pdx_level_parse(
		    json_string_value(json_object_get(f, "level")) != NULL
			? json_string_value(json_object_get(f, "level"))
			: "");
		if (l > worst)
			worst = l;
	}
	return worst;
}
