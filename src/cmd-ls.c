/*
 * cmd-ls.c - `portdex ls`: the sockets of this machine (listening TCP and
 * bound UDP unless -a), filtered by the options, each annotated with what
 * the registry says of its port, printed as aligned columns or JSON, with
 * a footer saying which sockets could not be tied to a process and why.
 * Listing, attribution and the JSON form of a socket are the library's
 * (lib/sockets*.c, lib/procwalk.c); this file only chooses and presents.
 */
#include <sys/socket.h>

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <sys/mman.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "portdex/firewall.h"

static int ls_exec(struct cmd_ctx *, const struct cmd_args *);

enum { OPT_PUBLISHED = 256, OPT_NO_PUBLISHED };

static const struct cmd_opt ls_all[] = {
	{ "all", 'a', OPT_FLAG, 'a', NULL,
	    "  -a, --all             every socket, not only listeners\n", 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_opt ls_more[] = {
	{ "numeric", 'n', OPT_FLAG, 'n', NULL,
	    "  -n, --numeric         no service names\n", 0 },
	{ "published", 0, OPT_FLAG, OPT_PUBLISHED, NULL,
	    "  --published           only ports published by DNAT/redirect "
	    "rules\n",
	    0 },
	{ "no-published", 0, OPT_FLAG, OPT_NO_PUBLISHED, NULL,
	    "  --no-published        no published-port rows\n", 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup ls_all_group = { "ls", 0, ls_all };
static const struct cmd_optgroup ls_more_group = { "ls", 0, ls_more };
static const struct cmd_optgroup *const ls_groups[] = {
	&ls_all_group,
	&optg_proto,
	&optg_sockets,
	&ls_more_group,
	&optg_metrics,
	NULL,
};

const struct cmd_entry cmd_ls_entry = {
	.name = "ls",
	.usage =
	    "[-a] [-t] [-u] [-S] [-4|-6] [-p PORTS] [--pid N] "
	    "[--user NAME|UID] [--process NAME] [-n] [--no-pids] "
	    "[--netns NAME | --all-netns] [--proc] [--reach VERDICT[,...]] "
	    "[--published | --no-published]",
	.summary = "sockets on this machine (listening unless -a), annotated; "
		   "exit 1 when none matches",
	/* ls opens the registry itself (pdx_db_open_brief) */
	.flags = CMD_OPT_STATE | CMD_METRICS,
	.exec = ls_exec,
	.groups = ls_groups,
	.min_operands = 0,
	.max_operands = 0,
};

struct ls_opts {
	struct sock_opts s; /* the socket filters (args.c) */
	int numeric;
	int all_states;
	int published; /* 1 only those, -1 none */
};

/*
 * The firewall verdict of a socket (or a published port): the socket's
 * family, and IPv4 for a dual-stack "::" socket.  Listeners only.
 */
struct ls_reach {
	struct pdx_verdict v, v4;
	const struct pdx_published *pub; /* a published-port row */
	const struct pdx_socket *answer; /* the socket answering it */
};

/* One socket as printed: the socket and its registry summary. */
struct ls_row {
	const struct pdx_socket *s;
	struct pdx_brief b;
	int has_brief;
	char *note;		  /* your note, or NULL */
	const struct ls_reach *r; /* NULL: not judged */
};

/* ---- columns ----------------------------------------------------------- */

#define COL_ALWAYS 0x0
#define COL_PEER 0x1   /* -a: sockets with a peer are shown */
#define COL_REG 0x2    /* the registry is open and not -n */
#define COL_PIDS 0x4   /* processes were looked up */
#define COL_NETNS 0x8  /* more than the current namespace */
#define COL_NOTES 0x10 /* a socket has a note of yours */

/*
 * Cells are built without printf: with 10,000 sockets the formatting is
 * most of the user-space time, and ls is meant to beat ss.
 */
#define CELL_MAX 128

struct cell {
	char b[CELL_MAX];
	size_t len;
};

static void
cat(struct cell *c, const char *s)
{
	size_t n = strlen(s);

	if (n > CELL_MAX - 1 - c->len)
		n = CELL_MAX - 1 - c->len;
	memcpy(c->b + c->len, s, n);
	c->len += n;
}

static void
cat_num(struct cell *c, unsigned long v)
{
	char t[24];
	size_t i = sizeof t - 1;

	t[i] = '\0';
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	cat(c, t + i);
}

static void
col_proto(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, pdx_proto_name(r->s->proto));
	if (r->s->family == AF_INET6)
		cat(c, "6");
}

static void
col_state(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c,
	    r->r != NULL && r->r->pub != NULL
		? "PUBLISHED"
		: pdx_sock_state_name(r->s->state));
}

static void
endpoint(int family, const char *addr, unsigned port, struct cell *c)
{
	if (family == AF_INET6) {
		cat(c, "[");
		cat(c, addr);
		cat(c, "]:");
	} else {
		cat(c, addr);
		cat(c, ":");
	}
	cat_num(c, port);
}

static void
col_local(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	const struct pdx_published *p = r->r != NULL ? r->r->pub : NULL;

	if (p == NULL) {
		endpoint(r->s->family, r->s->local, r->s->lport, c);
		return;
	}
	/* *:8080->172.17.0.2:80, *:30000-30010->:80 (redirect) */
	cat(c, "*:");
	cat_num(c, p->port_lo);
	if (p->port_hi != p->port_lo) {
		cat(c, "-");
		cat_num(c, p->port_hi);
	}
	cat(c, "->");
	if (strchr(p->to_addr, ':') != NULL) {
		cat(c, "[");
		cat(c, p->to_addr);
		cat(c, "]");
	} else
		cat(c, p->to_addr);
	cat(c, ":");
	cat_num(c, p->to_port != 0 ? p->to_port : p->port_lo);
}

static void
col_peer(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	if (r->s->state == PDX_SS_LISTEN || r->s->state == PDX_SS_CLOSE)
		cat(c, "*");
	else
		endpoint(r->s->family, r->s->remote, r->s->rport, c);
}

/* Who can reach it: the firewall's verdict (and IPv4's for a dual "::"). */
static void
col_reach(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	if (r->r == NULL) {
		cat(c, "-");
		return;
	}
	cat(c, pdx_reach_name(r->r->v.reach));
	/* a dual-stack "::": "open, +ipv4", or "open, ipv4 filtered" */
	if (r->r->v4.reach != PDX_REACH_NONE && r->r->v4.reach == r->r->v.reach)
		cat(c, ", +ipv4");
	else if (r->r->v4.reach != PDX_REACH_NONE) {
		cat(c, ", ipv4 ");
		cat(c, pdx_reach_name(r->r->v4.reach));
	}
}

static void
col_service(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c,
	    r->has_brief && r->b.name != NULL && r->b.name[0] != '\0'
		? r->b.name
		: "-");
}

static void
col_status(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->has_brief ? pdx_status_name(r->b.status) : "-");
}

static void
col_risk(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->has_brief ? pdx_level_name(r->b.risk) : "-");
}

static void
col_pid(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	const char *o = r->s->others;

	if (r->s->pid <= 0) {
		cat(c, "-");
		return;
	}
	cat_num(c, (unsigned long)r->s->pid);
	/* every holder, as ss -p shows them: "PID COMM, PID COMM" -> PIDs */
	while (o != NULL && *o != '\0') {
		size_t n = strspn(o, "0123456789");
		char pid[16];

		if (n == 0 || n >= sizeof pid)
			break;
		memcpy(pid, o, n);
		pid[n] = '\0';
		cat(c, ",");
		cat(c, pid);
		if ((o = strstr(o, ", ")) != NULL)
			o += 2;
	}
}

static void
col_process(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->s->pid > 0 ? r->s->comm : "-");
}

static void
col_user(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	if (r->s->user != NULL)
		cat(c, r->s->user);
	else if (r->s->inode == 0 || r->s->uid < 0)
		cat(c, "-"); /* TIME_WAIT: the kernel says 0 */
	else
		cat_num(c, (unsigned long)r->s->uid);
}

static void
col_note(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->note != NULL ? r->note : "-");
}

static void
col_unit(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c,
	    r->s->container != NULL  ? r->s->container
		: r->s->unit != NULL ? r->s->unit
				     : "");
}

static void
col_netns(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->s->netns != NULL ? r->s->netns : "-");
}

typedef void (*col_fn)(struct cmd_ctx *, const struct ls_row *, struct cell *);

static const struct ls_col {
	const char *title;
	int when;
	col_fn fmt;
	int risk; /* coloured by the risk level */
} ls_cols[] = {
	{ "NETNS", COL_NETNS, col_netns, 0 },
	{ "PROTO", COL_ALWAYS, col_proto, 0 },
	{ "STATE", COL_ALWAYS, col_state, 0 },
	{ "LOCAL", COL_ALWAYS, col_local, 0 },
	{ "PEER", COL_PEER, col_peer, 0 },
	{ "REACH", COL_ALWAYS, col_reach, 0 },
	{ "SERVICE", COL_REG, col_service, 0 },
	{ "STATUS", COL_REG, col_status, 0 },
	{ "RISK", COL_REG, col_risk, 1 },
	{ "PID", COL_PIDS, col_pid, 0 },
	{ "PROCESS", COL_PIDS, col_process, 0 },
	{ "USER", COL_ALWAYS, col_user, 0 },
	{ "UNIT", COL_PIDS, col_unit, 0 },
	{ "NOTE", COL_NOTES, col_note, 0 },
};
#define LS_NCOLS (sizeof ls_cols / sizeof ls_cols[0])

/* ---- the state database hook ---------------------------------------- */

/*
 * Your note about a socket's port (state database, `portdex note`): the
 * first one for its transport or for any transport, from the notes the
 * library read once for the command (not a query per socket).  Returns
 * malloc'd text, or NULL when there is none.
 */
static char *
ls_note(struct cmd_ctx *ctx, const struct pdx_socket *s)
{
	const char *t = ctx->state != NULL
	    ? pdx_note_text(ctx->state, s->lport, s->proto)
	    : NULL;

	return t != NULL ? strdup(t) : NULL;
}

/*
 * The notes of the listed ports only, when they are few (an index lookup
 * each); every note otherwise.  0 / -1 as pdx_notes_load.
 */
static int
load_notes(struct pdx_state *st, const struct pdx_socket *v, size_t n)
{
	unsigned few[PDX_NOTES_PORTS_MAX], *ports = few;
	size_t i;
	int rc;

	/* many ports: their notes only still, when the file is mapped */
	if (n > PDX_NOTES_PORTS_MAX &&
	    (ports = malloc(n * sizeof *ports)) == NULL)
		return pdx_notes_load(st);
	for (i = 0; i < n; i++)
		ports[i] = v[i].lport;
	rc = pdx_notes_load_ports(st, ports, n);
	if (ports != few)
		free(ports);
	return rc;
}

static void
ls_note_hook(struct cmd_ctx *ctx, const struct pdx_socket *s, json_t *obj)
{
	char *note = ls_note(ctx, s);

	json_object_set_new(obj, "note",
	    note != NULL ? json_string(note) : json_null());
	free(note);
}

/*
 * The attribution figures of the sockets shown, not of every socket
 * listed before --pid, --process or -p chose some: "1 of 2 not
 * attributed" must be about the table above it, in text and JSON alike.
 */
static void
recount(struct pdx_attr_stats *st, const struct pdx_socket *v, size_t n)
{
	size_t i, wanted = 0, found = 0, noinode = 0;

	for (i = 0; i < n; i++) {
		if (v[i].inode == 0)
			noinode++;
		else {
			wanted++;
			found += v[i].pid != 0;
		}
	}
	st->wanted = wanted;
	st->attributed = found;
	st->no_inode = noinode;
	if (st->denied_procs > 0) {
		st->permission = wanted - found;
		st->no_process = 0;
	} else {
		st->permission = 0;
		st->no_process = wanted - found;
	}
}

/* ---- the firewall ------------------------------------------------------ */

/* The ruleset and published ports of each namespace shown. */
struct fw_ns {
	char *netns; /* NULL: the current one */
	struct pdx_ruleset *rs;
	struct pdx_published *pub;
	size_t npub;
	int pub_err;
};

struct fw_cache {
	struct fw_ns *ns;
	size_t n;
};

static struct fw_ns *
fw_get(struct fw_cache *fc, const char *netns)
{
	struct fw_ns *e, *nv;
	size_t i;

	for (i = 0; i < fc->n; i++)
		if ((netns == NULL && fc->ns[i].netns == NULL) ||
		    (netns != NULL && fc->ns[i].netns != NULL &&
			strcmp(netns, fc->ns[i].netns) == 0))
			return &fc->ns[i];
	if ((nv = realloc(fc->ns, (fc->n + 1) * sizeof *nv)) == NULL)
		return NULL;
	fc->ns = nv;
	e = &nv[fc->n];
	memset(e, 0, sizeof *e);
	if ((netns != NULL && (e->netns = strdup(netns)) == NULL) ||
	    (e->rs = pdx_ruleset_read(netns)) == NULL) {
		free(e->netns);
		return NULL;
	}
	if (pdx_firewall_published(e->rs, &e->pub, &e->npub) < 0)
		e->pub_err = 1;
	fc->n++;
	return e;
}

static void
fw_free(struct fw_cache *fc)
{
	size_t i;

	for (i = 0; i < fc->n; i++) {
		free(fc->ns[i].netns);
		pdx_ruleset_free(fc->ns[i].rs);
		free(fc->ns[i].pub);
	}
	free(fc->ns);
}

/*
 * The process ends right after ls: freeing the rulesets' JSON trees node
 * by node was 5% of ls's instructions at 1,000 rules.  They stay
 * reachable from here (not a leak to LeakSanitizer or valgrind), as
 * show keeps its cards; a second call frees the previous one.
 */
static struct fw_cache kept_fc;

static void
fw_keep(struct fw_cache *fc)
{
	fw_free(&kept_fc);
	kept_fc = *fc;
	memset(fc, 0, sizeof *fc);
}

/* Listening TCP/SCTP and bound UDP sockets get a verdict. */
static int
judged(const struct pdx_socket *s)
{
	return s->state == PDX_SS_LISTEN ||
	    (s->proto == PDX_UDP && s->state == PDX_SS_CLOSE);
}

static int
reach_pass(const struct ls_opts *o, const struct ls_reach *r)
{
	if (o->s.reach == 0)
		return 1;
	if (r == NULL)
		return 0;
	return (o->s.reach & (1u << r->v.reach)) != 0 ||
	    (r->v4.reach != PDX_REACH_NONE &&
		(o->s.reach & (1u << r->v4.reach)) != 0);
}

/* The listening socket of the same namespace answering a published port. */
static const struct pdx_socket *
answering(const struct pdx_socket *v, size_t n, const struct fw_ns *ns,
    const struct pdx_published *p)
{
	unsigned port = p->to_port != 0 ? p->to_port : p->port_lo;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct pdx_socket *s = &v[i];

		if (!judged(s) || s->proto != p->proto || s->lport != port)
			continue;
		if ((s->netns == NULL) != (ns->netns == NULL) ||
		    (s->netns != NULL && strcmp(s->netns, ns->netns) != 0))
			continue;
		if (strcmp(p->kind, "redirect") == 0)
			return s;
		if (p->to_addr[0] != '\0' && strcmp(s->local, p->to_addr) == 0)
			return s;
	}
	return NULL;
}

/* Published ports passing the filter, as rows: sockets and verdicts. */
struct ls_pubs {
	struct pdx_socket *s;
	struct ls_reach *r;
	const struct fw_ns **ns;
	size_t n;
};

static int
collect_published(const struct ls_opts *o, struct fw_cache *fc,
    const struct pdx_socket *v, size_t n, struct ls_pubs *out)
{
	size_t i, j, cap = 0;

	memset(out, 0, sizeof *out);
	for (i = 0; i < fc->n; i++)
		cap += fc->ns[i].npub;
	if (cap == 0)
		return 0;
	if ((out->s = calloc(cap, sizeof *out->s)) == NULL ||
	    (out->r = calloc(cap, sizeof *out->r)) == NULL ||
	    (out->ns = calloc(cap, sizeof *out->ns)) == NULL)
		return -1;
	for (i = 0; i < fc->n; i++)
		for (j = 0; j < fc->ns[i].npub; j++) {
			const struct pdx_published *p = &fc->ns[i].pub[j];
			struct pdx_socket *s = &out->s[out->n];
			struct ls_reach *r = &out->r[out->n];
			int fam = p->family == AF_INET6 ? PDX_FAM_INET6
			    : p->family == AF_INET
			    ? PDX_FAM_INET4
			    : PDX_FAM_INET4 | PDX_FAM_INET6;
			unsigned port;
			int hit = o->s.f.ports == NULL;

			if (o->s.f.protos != 0 &&
			    (o->s.f.protos & p->proto) == 0)
				continue;
			if (o->s.f.protos == 0 &&
			    (p->proto & (PDX_TCP | PDX_UDP)) == 0)
				continue;
			if (o->s.f.families != 0 &&
			    (o->s.f.families & fam) == 0)
				continue;
			for (port = p->port_lo; !hit && port <= p->port_hi;
			     port++)
				hit = pdx_portset_has(o->s.f.ports, port);
			if (!hit)
				continue;
			r->v = p->reach;
			r->pub = p;
			if (!reach_pass(o, r))
				continue;
			s->proto = p->proto;
			s->family = p->family != 0 ? p->family : AF_INET;
			s->lport = p->port_lo;
			s->uid = -1;
			s->v6only = -1;
			s->netns = fc->ns[i].netns; /* borrowed */
			if ((r->answer = answering(v, n, &fc->ns[i], p)) !=
			    NULL) {
				s->pid = r->answer->pid;
				memcpy(s->comm, r->answer->comm,
				    sizeof s->comm);
			}
			out->ns[out->n] = &fc->ns[i];
			out->n++;
		}
	return 0;
}

static void
free_published(struct ls_pubs *p)
{
	free(p->s);
	free(p->r);
	free(p->ns);
}

/*
 * The verdicts of one listing.  Sockets share the few distinct verdicts a
 * ruleset gives (a pdx_verdict pair is 1.4 kB: one per socket was 14 MB of
 * page faults at 10,000 listeners); each socket points at its verdict.
 */
struct ls_verdicts {
	const struct ls_reach **of; /* per socket; NULL: not judged */
	struct ls_reach **d;	    /* the distinct verdicts */
	size_t nd, cap;
	size_t *slot; /* hash table of indices + 1 into d */
	size_t nslot;
};

static uint64_t
verdict_hash(const struct ls_reach *r)
{
	const char *f[4] = { r->v.rule, r->v.detail, r->v4.rule, r->v4.detail };
	uint64_t h = 1469598103934665603ULL ^ (unsigned)r->v.reach ^
	    ((uint64_t)(unsigned)r->v4.reach << 8);
	size_t k;

	for (k = 0; k < 4; k++) {
		const unsigned char *c;

		for (c = (const unsigned char *)f[k]; *c != '\0'; c++)
			h = (h ^ *c) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

static int
verdict_same(const struct ls_reach *a, const struct ls_reach *b)
{
	return a->v.reach == b->v.reach && a->v4.reach == b->v4.reach &&
	    strcmp(a->v.rule, b->v.rule) == 0 &&
	    strcmp(a->v.detail, b->v.detail) == 0 &&
	    strcmp(a->v4.rule, b->v4.rule) == 0 &&
	    strcmp(a->v4.detail, b->v4.detail) == 0;
}

/* The interned copy of *r (a socket's verdict); NULL when out of memory. */
static const struct ls_reach *
verdict_intern(struct ls_verdicts *vs, const struct ls_reach *r)
{
	size_t i, h;

	if (vs->nd * 2 >= vs->nslot) { /* grow the table, rehash */
		size_t ns = vs->nslot == 0 ? 64 : vs->nslot * 2, *t;

		if ((t = calloc(ns, sizeof *t)) == NULL)
			return NULL;
		for (i = 0; i < vs->nd; i++) {
			h = verdict_hash(vs->d[i]) & (ns - 1);
			while (t[h] != 0)
				h = (h + 1) & (ns - 1);
			t[h] = i + 1;
		}
		free(vs->slot);
		vs->slot = t;
		vs->nslot = ns;
	}
	h = verdict_hash(r) & (vs->nslot - 1);
	for (; vs->slot[h] != 0; h = (h + 1) & (vs->nslot - 1))
		if (verdict_same(vs->d[vs->slot[h] - 1], r))
			return vs->d[vs->slot[h] - 1];
	if (vs->nd == vs->cap) {
		size_t cap = vs->cap == 0 ? 16 : vs->cap * 2;
		struct ls_reach **m = realloc(vs->d, cap * sizeof *m);

		if (m == NULL)
			return NULL;
		vs->d = m;
		vs->cap = cap;
	}
	if ((vs->d[vs->nd] = malloc(sizeof *r)) == NULL)
		return NULL;
	memcpy(vs->d[vs->nd], r, sizeof *r);
	vs->slot[h] = ++vs->nd;
	return vs->d[vs->nd - 1];
}

static void
verdicts_free(struct ls_verdicts *vs)
{
	size_t i;

	for (i = 0; i < vs->nd; i++)
		free(vs->d[i]);
	free(vs->d);
	free(vs->slot);
	free(vs->of);
	memset(vs, 0, sizeof *vs);
}

/* Verdicts for the listeners of v (n of them); -1 when out of memory. */
static int
judge_all(struct fw_cache *fc, const struct pdx_socket *v, size_t n,
    struct ls_verdicts *vs)
{
	struct ls_reach r;
	size_t i;

	memset(vs, 0, sizeof *vs);
	if ((vs->of = calloc(n > 0 ? n : 1, sizeof *vs->of)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const struct fw_ns *ns;

		if (!judged(&v[i]))
			continue;
		memset(&r, 0, sizeof r);
		/* loopback needs no ruleset (nor the cost of reading one) */
		pdx_firewall_judge(NULL, v[i].family, v[i].proto, v[i].laddr,
		    v[i].lport, v[i].v6only, &r.v, &r.v4);
		if (r.v.reach != PDX_REACH_LOOPBACK) {
			if ((ns = fw_get(fc, v[i].netns)) == NULL)
				return -1;
			pdx_firewall_judge(ns->rs, v[i].family, v[i].proto,
			    v[i].laddr, v[i].lport, v[i].v6only, &r.v, &r.v4);
		}
		if ((vs->of[i] = verdict_intern(vs, &r)) == NULL) {
			pdx_set_error("out of memory");
			return -1;
		}
	}
	return 0;
}

static json_t *
reach_json(const struct ls_reach *r)
{
	json_t *o = pdx_verdict_json(&r->v);

	if (o != NULL && r->v4.reach != PDX_REACH_NONE)
		json_object_set_new(o, "ipv4", pdx_verdict_json(&r->v4));
	return o;
}

/* What could not be read or evaluated, under the table. */
static void
print_fw_footer(struct cmd_ctx *ctx, const struct fw_cache *fc,
    const struct ls_row *rows, size_t n)
{
	size_t k;
	int unknown = 0;

	for (k = 0; k < n; k++)
		unknown |= rows[k].r != NULL &&
		    (rows[k].r->v.reach == PDX_REACH_UNKNOWN ||
			rows[k].r->v4.reach == PDX_REACH_UNKNOWN);
	if (!unknown)
		return; /* nothing in the table depends on it */
	size_t i;

	if (ctx->quiet)
		return;
	for (i = 0; i < fc->n; i++) {
		const char *ns = fc->ns[i].netns;
		const char *err = pdx_ruleset_error(fc->ns[i].rs),
			   *leg = pdx_ruleset_legacy(fc->ns[i].rs);

		if (err != NULL)
			fprintf(ctx->out,
			    "\nREACH%s%s: %s: verdicts are "
			    "unknown\n",
			    ns != NULL ? " in " : "", ns != NULL ? ns : "",
			    err);
		if (leg != NULL)
			fprintf(ctx->out,
			    "\nREACH%s%s: legacy iptables "
			    "tables (%s) were not evaluated\n",
			    ns != NULL ? " in " : "", ns != NULL ? ns : "",
			    leg);
	}
}

/* ---- output ----------------------------------------------------------- */

static void
print_footer(struct cmd_ctx *ctx, const struct ls_opts *o,
    const struct pdx_attr_stats *st, size_t n)
{
	if (ctx->quiet || !o->s.pids)
		return;
	if (st->permission > 0)
		fprintf(ctx->out,
		    "\n%zu of %zu sockets not attributed to a "
		    "process: permission denied reading %zu processes' "
		    "/proc/PID/fd (%s)\n",
		    st->permission, n, st->denied_procs,
		    geteuid() == 0 ? "refused even to root: ptrace or LSM "
				     "restrictions"
				   : "run as root to see them");
	if (st->no_process > 0 && geteuid() != 0)
		fprintf(ctx->out,
		    "%s%zu sockets held by no visible process "
		    "(another PID namespace, or the kernel)\n",
		    st->permission > 0 ? "" : "\n", st->no_process);
}

/*
 * The table's text goes out in 16 KiB blocks: one stdio call per cell
 * was a seventh of `ls` at ten thousand sockets.  Not larger: each 4 kB
 * page of the buffer is a fresh page to fault in (64 KiB: 16 faults, the
 * time of a few more write calls).
 */
struct outbuf {
	FILE *out;
	size_t len;
	char b[16384];
};

static void
ob_flush(struct outbuf *o)
{
	if (o->len > 0)
		fwrite(o->b, 1, o->len, o->out);
	o->len = 0;
}

static void
ob_put(struct outbuf *o, const char *s, size_t n)
{
	if (n > sizeof o->b - o->len) {
		ob_flush(o);
		if (n > sizeof o->b) {
			fwrite(s, 1, n, o->out);
			return;
		}
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

static void
ob_puts(struct outbuf *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

/*
 * Two passes over the rows: widths, then the text.  Formatting a cell is
 * cheap; keeping every cell would cost more memory than it saves time.
 */
static void
print_text(struct cmd_ctx *ctx, struct ls_row *rows, size_t n, int when)
{
	static const char spaces[CELL_MAX + 2] = { [0 ... CELL_MAX + 1] = ' ' };
	static struct outbuf ob;
	struct cell c;
	size_t w[LS_NCOLS], ncols = 0, i, k;
	int cols[LS_NCOLS];
	const char *sgr;

	for (k = 0; k < LS_NCOLS; k++)
		if ((ls_cols[k].when & ~when) == 0) {
			w[ncols] = strlen(ls_cols[k].title);
			cols[ncols++] = (int)k;
		}
	for (i = 0; i < n; i++)
		for (k = 0; k < ncols; k++) {
			c.len = 0;
			ls_cols[cols[k]].fmt(ctx, &rows[i], &c);
			if (c.len > w[k])
				w[k] = c.len;
		}
	ob.out = ctx->out;
	ob.len = 0;
	ob_puts(&ob, out_sgr(ctx, "head"));
	for (k = 0; k < ncols; k++) {
		c.len = strlen(ls_cols[cols[k]].title);
		ob_puts(&ob, ls_cols[cols[k]].title);
		if (k + 1 < ncols)
			ob_put(&ob, spaces, w[k] - c.len + 2);
	}
	ob_puts(&ob, out_reset(ctx));
	ob_put(&ob, "\n", 1);
	for (i = 0; i < n; i++) {
		for (k = 0; k < ncols; k++) {
			c.len = 0;
			ls_cols[cols[k]].fmt(ctx, &rows[i], &c);
			sgr = "";
			if (ls_cols[cols[k]].risk && rows[i].has_brief)
				sgr = out_sgr(ctx,
				    pdx_level_name(rows[i].b.risk));
			if (*sgr != '\0')
				ob_puts(&ob, sgr);
			ob_put(&ob, c.b, c.len);
			if (*sgr != '\0')
				ob_puts(&ob, out_reset(ctx));
			if (k + 1 < ncols)
				ob_put(&ob, spaces, w[k] - c.len + 2);
		}
		ob_put(&ob, "\n", 1);
	}
	ob_flush(&ob);
}

static int
print_json(struct cmd_ctx *ctx, const struct ls_opts *o, struct pdx_socket *v,
    size_t n, const struct pdx_attr_stats *st, int backend,
    const struct ls_reach *const *reach, const struct ls_pubs *pubs,
    const struct fw_cache *fc)
{
	struct out_doc d;
	json_t *obj;
	size_t i;

	/* written socket by socket: no document of them all in memory */
	out_doc_begin(&d, ctx);
	out_doc_member(&d, "backend", json_string(pdx_backend_name(backend)));
	out_doc_array(&d, "sockets");
	for (i = 0; i < n && o->published != 1 && !d.failed; i++) {
		if (!reach_pass(o, reach[i]))
			continue;
		obj = pdx_socket_json(&v[i], o->numeric ? NULL : ctx->db);
		if (obj != NULL) {
			ls_note_hook(ctx, &v[i], obj);
			json_object_set_new(obj, "reach",
			    reach[i] != NULL ? reach_json(reach[i])
					     : json_null());
		}
		out_doc_item(&d, obj);
	}
	out_doc_array_end(&d);
	out_doc_array(&d, "published");
	for (i = 0; i < pubs->n && !d.failed; i++) {
		const struct pdx_socket *a = pubs->r[i].answer;

		if ((obj = pdx_published_json(pubs->r[i].pub)) != NULL) {
			json_object_set_new(obj, "netns",
			    pubs->ns[i]->netns != NULL
				? json_string(pubs->ns[i]->netns)
				: json_null());
			json_object_set_new(obj, "answered_by",
			    a == NULL
				? json_null()
				: json_pack("{s:s, s:I, s:s?}", "local",
				      a->local, "pid", (json_int_t)a->pid,
				      "process", a->pid > 0 ? a->comm : NULL));
		}
		out_doc_item(&d, obj);
	}
	out_doc_array_end(&d);
	out_doc_array(&d, "firewall");
	for (i = 0; i < fc->n; i++)
		out_doc_item(&d,
		    json_pack("{s:s?, s:b, s:I, s:s?, "
			      "s:s?}",
			"netns", fc->ns[i].netns, "read",
			pdx_ruleset_error(fc->ns[i].rs) == NULL, "rules",
			(json_int_t)pdx_ruleset_rules(fc->ns[i].rs), "error",
			pdx_ruleset_error(fc->ns[i].rs), "legacy_not_evaluated",
			pdx_ruleset_legacy(fc->ns[i].rs)));
	out_doc_array_end(&d);
	out_doc_member(&d, "attribution",
	    o->s.pids ? pdx_attr_stats_json(st, n) : json_null());
	if (out_doc_end(&d) < 0) {
		out_error("ls", "%s", d.why);
		return -1;
	}
	return 0;
}

/* ---- options ---------------------------------------------------------- */

static int
parse_opts(struct ls_opts *o, const struct cmd_args *a)
{
	int i, r;

	memset(o, 0, sizeof *o);
	sock_opts_init(&o->s);
	for (i = 0; i < a->nopt; i++) {
		if ((r = sock_opts_take(&o->s, "ls", &a->opt[i])) < 0)
			return -1;
		if (r > 0)
			continue;
		switch (a->opt[i].id) {
		case 'a':
			o->all_states = 1;
			break;
		case 'n':
			o->numeric = 1;
			break;
		case OPT_PUBLISHED:
			o->published = 1;
			break;
		case OPT_NO_PUBLISHED:
			o->published = -1;
			break;
		}
	}
	if (args_done(&cmd_ls_entry, a) != 0)
		return -1;
	if (o->published == 1 &&
	    (o->s.f.pid != 0 || o->s.f.process != NULL || o->s.f.uid >= 0)) {
		out_error("ls",
		    "--published rows have no process or user: "
		    "--pid, --process and --user cannot choose them");
		return -1;
	}
	if (sock_opts_finish(&o->s, "ls") < 0)
		return -1;
	if (o->all_states)
		o->s.f.states = PDX_SSF_ALL;
	return 0;
}

/* ---- listing ---------------------------------------------------------- */

/* The current namespace, then each named one with --all-netns. */
static int
list_all(struct ls_opts *o, struct pdx_socket **v, size_t *n, int *backend)
{
	struct pdx_socket *b;
	char **names;
	size_t nnames, bn, i;

	if (pdx_sockets_list(&o->s.f, v, n, backend) < 0) {
		out_error("ls", "%s", pdx_last_error());
		return -1;
	}
	if (!o->s.all_netns)
		return 0;
	if (pdx_netns_list(&names, &nnames) < 0) {
		out_error("ls", "%s", pdx_last_error());
		return -1;
	}
	for (i = 0; i < nnames; i++) {
		o->s.f.netns = names[i];
		if (pdx_sockets_list(&o->s.f, &b, &bn, NULL) < 0) {
			out_error("ls", "%s", pdx_last_error());
			o->s.f.netns = NULL;
			pdx_netns_list_free(names, nnames);
			return -1;
		}
		if (pdx_sockets_append(v, n, b, bn) < 0) {
			out_error("ls", "out of memory");
			o->s.f.netns = NULL;
			pdx_netns_list_free(names, nnames);
			return -1;
		}
	}
	o->s.f.netns = NULL;
	pdx_netns_list_free(names, nnames);
	return 0;
}

#ifdef __GLIBC__
/*
 * Asks for transparent huge pages over the heap's whole 2 MB blocks (the
 * heap is now 16 MiB larger: M_TOP_PAD), and makes what the listing
 * allocates next start at the first of them: an untouched filler up to
 * there is allocated and kept (address space, no memory).  A block with
 * a page touched already stays in 4 kB pages, so the first block is past
 * the page where malloc wrote its header.  On a virtual machine each
 * fresh 4 kB page costs a fault of several microseconds, a fresh 2 MB
 * page about as much as 30 of them.  Hints: refused, the heap is as it
 * was.
 */
static void *heap_filler;

/* sockets from which the heap's huge pages pay (bench/README.md) */
#define LS_HUGE_MIN 2000

static void
heap_huge(void)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	void *p = malloc(huge); /* grows the heap by M_TOP_PAD more */
	uintptr_t at, lo, hi;

	if (p == NULL)
		return;
	at = (uintptr_t)p;
	lo = (at + huge + 4096 + huge - 1) & ~(huge - 1);
	hi = (uintptr_t)sbrk(0) & ~(huge - 1);
	free(p); /* back into the top of the heap, where it came from */
	if (hi > lo && madvise((void *)lo, hi - lo, MADV_HUGEPAGE) == 0)
		heap_filler = malloc(lo - at - 64);
#endif
}
#endif

static int
ls_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	static char obuf[1 << 16];
	struct ls_opts o;
	struct pdx_socket *v = NULL;
	struct pdx_attr_stats st;
	struct ls_row *rows = NULL;
	struct ls_verdicts vs;
	struct ls_pubs pubs;
	struct fw_cache fc;
	char dberr[256] = "";
	size_t n = 0, i, nrows = 0, shown = 0;
	int backend = 0, when = COL_ALWAYS, rc = EXIT_OK, named_ns;

	if (parse_opts(&o, a) < 0)
		return cmd_usage(&cmd_ls_entry);
#ifdef __GLIBC__
	/*
	 * A one-shot listing grows a few large arrays (rows, verdicts; the
	 * sockets have a mapping of their own, lib/sockets.c): from the
	 * heap, grown 16 MiB of address space at a time and never given
	 * back, instead of an mmap, mremap and munmap (and their page faults)
	 * each.  10,000 listeners: 425 -> 334 page faults, a fifth of the
	 * time (bench/README.md).  Untouched pages cost no memory.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
#endif
	named_ns = o.s.f.netns != NULL || o.s.all_netns;
	if (list_all(&o, &v, &n, &backend) < 0)
		return EXIT_USAGE;
#ifdef __GLIBC__
	/*
	 * Huge pages for a long listing only: the advice wakes khugepaged,
	 * which then preempts a short one (bench/README.md).  JSON's many
	 * small objects would round up to 2 MB pages: not it either.
	 */
	if (!ctx->json && n >= LS_HUGE_MIN)
		heap_huge();
#endif
	if (ctx->state != NULL && load_notes(ctx->state, v, n) != 0 &&
	    !ctx->quiet)
		fprintf(stderr,
		    "portdex: ls: your notes could not be read: "
		    "%s\n",
		    pdx_last_error());
	memset(&st, 0, sizeof st);
	if (o.s.pids) {
		if (pdx_sockets_attribute(v, n, &st) < 0) {
			out_error("ls", "%s", pdx_last_error());
			o.s.pids = 0;
		}
		pdx_sockets_select(v, &n, &o.s.f);
		recount(&st, v, n);
	}
	/*
	 * Only each port's brief word is needed: the brief file beside the
	 * registry gives it without opening SQLite (main closes the handle).
	 */
	if (!o.numeric && ctx->db == NULL &&
	    (ctx->db = pdx_db_open_brief(ctx->db_path)) == NULL)
		snprintf(dberr, sizeof dberr, "%s", pdx_last_error());
	/*
	 * JSON goes out through stdio in small pieces: a large buffer.  The
	 * table has its own (struct outbuf), and a large stdio buffer would
	 * only take a copy of each of its blocks into fresh pages.
	 */
	if (ctx->out == stdout && ctx->json)
		setvbuf(stdout, obuf, _IOFBF, sizeof obuf);

	/* the firewall: verdicts, and the ports DNAT/redirect rules publish */
	memset(&fc, 0, sizeof fc);
	memset(&pubs, 0, sizeof pubs);
	if (judge_all(&fc, v, n, &vs) < 0) {
		out_error("ls", "%s", pdx_last_error());
		rc = EXIT_USAGE;
		goto done;
	}
	if (o.published != -1 && !o.all_states && o.s.f.pid == 0 &&
	    o.s.f.process == NULL && o.s.f.uid < 0) {
		if (fw_get(&fc, o.s.f.netns) == NULL) {
			out_error("ls", "%s", pdx_last_error());
			rc = EXIT_USAGE;
			goto done;
		}
		if (o.s.all_netns) {
			char **names;
			size_t nn;

			if (pdx_netns_list(&names, &nn) == 0) {
				for (i = 0; i < nn; i++)
					(void)fw_get(&fc, names[i]);
				pdx_netns_list_free(names, nn);
			}
		}
		if (collect_published(&o, &fc, v, n, &pubs) < 0) {
			out_error("ls", "out of memory");
			rc = EXIT_USAGE;
			goto done;
		}
	}
	for (i = 0; i < n && o.published != 1; i++)
		shown += reach_pass(&o, vs.of[i]);
	shown += pubs.n;

	if (ctx->json) {
		if (print_json(ctx, &o, v, n, &st, backend, vs.of, &pubs, &fc) <
		    0)
			rc = EXIT_USAGE;
		goto done;
	}
	if (n + pubs.n > 0 &&
	    (rows = calloc(n + pubs.n, sizeof *rows)) == NULL) {
		out_error("ls", "out of memory");
		rc = EXIT_USAGE;
		goto done;
	}
	for (i = 0; i < n + pubs.n; i++) {
		struct ls_row *row = &rows[nrows];
		const struct pdx_socket *s = i < n ? &v[i] : &pubs.s[i - n];

		if (i < n) {
			if (o.published == 1 || !reach_pass(&o, vs.of[i]))
				continue;
			row->r = vs.of[i];
		} else
			row->r = &pubs.r[i - n];
		nrows++;
		row->s = s;
		if (ctx->db != NULL && !o.numeric)
			row->has_brief = pdx_brief(ctx->db, s->lport, s->proto,
					     &row->b) == 0;
		if (i < n && (row->note = ls_note(ctx, s)) != NULL) {
			char *nl;

			if (strlen(row->note) > 40) {
				size_t cut = 37;

				while (cut > 0 &&
				    ((unsigned char)row->note[cut] & 0xc0) ==
					0x80)
					cut--;
				strcpy(row->note + cut, "...");
			}
			while ((nl = strpbrk(row->note, "\t\n\r")) != NULL)
				*nl = ' ';
			when |= COL_NOTES;
		}
	}
	if (o.s.pids)
		when |= COL_PIDS;
	if (ctx->db != NULL && !o.numeric)
		when |= COL_REG;
	if (o.all_states)
		when |= COL_PEER;
	if (named_ns)
		when |= COL_NETNS;
	if (o.numeric)
		for (i = 0; i < n; i++) {
			free(v[i].user);
			v[i].user = NULL;
		}
	print_text(ctx, rows, nrows, when);
	print_footer(ctx, &o, &st, n);
	print_fw_footer(ctx, &fc, rows, nrows);
	if (ctx->db == NULL && !o.numeric && !ctx->quiet)
		fprintf(stderr, "portdex: ls: %s; no service names\n",
		    dberr[0] != '\0' ? dberr : "no registry");
done:
	/* a damaged brief file: the registry answered; say so once */
	if (pdx_db_brief_note(ctx->db) != NULL && !ctx->quiet)
		fprintf(stderr, "portdex: ls: %s\n",
		    pdx_db_brief_note(ctx->db));
	if (rc == EXIT_OK && shown == 0)
		rc = EXIT_FINDINGS;
	/* main exits next: the sockets' mapping is the kernel's to unmap */
	pdx_exit_soon();
	for (i = 0; rows != NULL && i < nrows; i++)
		free(rows[i].note);
	free(rows);
	verdicts_free(&vs);
	free_published(&pubs);
	fw_keep(&fc);
	pdx_sockets_free(v, n);
	return rc;
}
