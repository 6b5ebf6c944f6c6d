/*
 * firewall.c - the packet filter as nftables reports it (libnftables' JSON,
 * iptables-nft rules included), per network namespace: the exposure
 * verdict of a listener, and the ports that DNAT/redirect rules publish.
 * Reading the ruleset is firewall-read.c's, indexing it
 * firewall-ruleset.c's; loading libnftables is lazy-libs.c's; what a
 * listener is, sockets.c's.
 *
 * The verdict follows one new connection from a non-loopback interface
 * through every base filter chain on the prerouting and input hooks (the
 * forward hook for a DNAT destination) in priority order.  Each rule's
 * matches are true, false, true only for some sources (ip saddr, the
 * reverse-path check), or not evaluable; a rule true for some sources or
 * not evaluable forks the path.  The outcomes of a chain are then
 * classified: a drop on every path is `filtered`, accepts only on paths
 * with source conditions `restricted`, an accept on the unconditional
 * path `open`, and a path whose answer differs because of a rule we
 * cannot evaluate makes it `unknown`, naming that rule.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PDX_HAVE_NFTABLES
#include <nftables/libnftables.h>
#endif
#ifdef __linux__
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#endif

#include "portdex.h"
#include "portdex/firewall.h"
#include "portdex/sockets.h"
#include "firewall-int.h"

/* ---- names ------------------------------------------------------------ */

static const char *const reach_names[] = { "-", "loopback", "filtered",
	"restricted", "open", "unknown" };

const char *
pdx_reach_name(int reach)
{
	if (reach < 0 || reach > PDX_REACH_UNKNOWN)
		return "-";
	return reach_names[reach];
}

int
pdx_reach_parse(const char *s)
{
	int i;

	for (i = PDX_REACH_LOOPBACK; i <= PDX_REACH_UNKNOWN; i++)
		if (strcmp(s, reach_names[i]) == 0)
			return i;
	pdx_set_error("'%.32s' is not a verdict (loopback, filtered, "
		      "restricted, open, unknown)",
	    s);
	return -1;
}

/* ---- paths through the chains ------------------------------------------ */

#define MAX_DEPTH 16
#define MAX_OUTCOMES 128

struct outcome {
	int v;	/* V_ACCEPT, V_DROP, V_UNKNOWN */
	int ck; /* M_TRUE (unconditional), M_SRC, M_UNK */
	char cond[256];
	char rule[192];
	char why[256]; /* V_UNKNOWN: the reason */
};

struct walk {
	const struct pdx_ruleset *rs;
	struct pkt *p;
	struct outcome o[MAX_OUTCOMES];
	size_t no;
	long budget;
	int overflow;
	char overflow_rule[192];
};

struct frame {
	const struct fw_chain *c;
	size_t idx;
};

static void
rule_name(const struct fw_chain *c, json_t *rule, char *buf, size_t size)
{
	snprintf(buf, size, "table %s %s chain %s handle %lld", c->family,
	    c->table, c->name,
	    (long long)json_integer_value(json_object_get(rule, "handle")));
}

static void
record(struct walk *w, int v, int ck, const char *cond, const char *rule,
    const char *why)
{
	struct outcome *o;

	if (w->no >= MAX_OUTCOMES) {
		if (!w->overflow)
			snprintf(w->overflow_rule, sizeof w->overflow_rule,
			    "%s", rule);
		w->overflow = 1;
		return;
	}
	o = &w->o[w->no++];
	o->v = v;
	o->ck = ck;
	snprintf(o->cond, sizeof o->cond, "%s", cond);
	snprintf(o->rule, sizeof o->rule, "%s", rule);
	snprintf(o->why, sizeof o->why, "%s", why != NULL ? why : "");
}

/*
 * Follows one path from stack[depth-1] (a copy owned by this call) to its
 * end, recording each outcome; forks recurse.
 */
static void
walk_path(struct walk *w, struct frame *stack, int depth, int ck,
    const char *cond)
{
	const struct fw_chain *base = stack[0].c;
	char name[192];

	while (depth > 0) {
		struct frame *f = &stack[depth - 1];
		struct rres r;
		json_t *rule;
		int v;

		if (--w->budget < 0) {
			if (!w->overflow)
				snprintf(w->overflow_rule,
				    sizeof w->overflow_rule,
				    "table %s %s "
				    "chain %s",
				    f->c->family, f->c->table, f->c->name);
			w->overflow = 1;
			return;
		}
		if (f->c->rules == NULL ||
		    f->idx >= json_array_size(f->c->rules)) {
			depth--; /* end of a chain: back to the caller */
			continue;
		}
		if (f->c->pre != NULL &&
		    fw_pre_false(w->rs, &f->c->pre[f->idx], w->p->l4,
			w->p->dport)) {
			/* its port match refuses it, and others after it */
			fw_pre_skip(f->c, w->p->dport, &f->idx, &w->budget);
			continue;
		}
		rule = json_array_get(f->c->rules, f->idx++);
		fw_eval_rule(w->rs, w->p, rule, &r);
		if (r.m == M_FALSE)
			continue;
		rule_name(f->c, rule, name, sizeof name);
		v = r.v;
		if (r.m != M_TRUE) {
			/* fork: the path where the rule applies */
			char c2[256];
			int ck2 = r.m == M_UNK || ck == M_UNK ? M_UNK : M_SRC;

			if (r.m == M_UNK) {
				snprintf(c2, sizeof c2, "%.120s: %.120s", name,
				    r.why);
			} else {
				snprintf(c2, sizeof c2, "%s", cond);
				fw_add_why(c2, sizeof c2, " and ", r.why);
			}
			if (ck == M_UNK)
				snprintf(c2, sizeof c2, "%s", cond);
			if (v == V_ACCEPT || v == V_DROP || v == V_UNKNOWN) {
				record(w, v, ck2, c2, name, r.why);
			} else if (v != V_NONE) {
				struct frame s2[MAX_DEPTH];

				if (w->no >= MAX_OUTCOMES)
					return;
				memcpy(s2, stack, sizeof s2);
				if (v == V_RETURN)
					walk_path(w, s2, depth - 1, ck2, c2);
				else if (v == V_GOTO || v == V_JUMP) {
					const struct fw_chain *t =
					    fw_find_chain(w->rs, f->c->family,
						f->c->table, r.target);
					int d2 = v == V_GOTO ? depth - 1
							     : depth;

					if (t == NULL || d2 >= MAX_DEPTH) {
						record(w, V_UNKNOWN, ck2, c2,
						    name,
						    "a jump to a chain "
						    "not found, or too deep");
					} else {
						s2[d2].c = t;
						s2[d2].idx = 0;
						walk_path(w, s2, d2 + 1, ck2,
						    c2);
					}
				}
			}
			continue; /* the path where it does not */
		}
		switch (v) {
		case V_NONE:
			break;
		case V_ACCEPT:
		case V_DROP:
		case V_UNKNOWN:
			record(w, v, ck, cond, name, r.why);
			return;
		case V_RETURN:
			depth--;
			break;
		case V_JUMP:
		case V_GOTO: {
			const struct fw_chain *t = fw_find_chain(w->rs,
			    f->c->family, f->c->table, r.target);
			int d2 = v == V_GOTO ? depth - 1 : depth;

			if (t == NULL || d2 >= MAX_DEPTH) {
				record(w, V_UNKNOWN, ck, cond, name,
				    "a jump to a chain not found, or too deep");
				return;
			}
			stack[d2].c = t;
			stack[d2].idx = 0;
			depth = d2 + 1;
			break;
		}
		}
	}
	/* the end of the base chain: its policy */
	snprintf(name, sizeof name, "table %s %s chain %s policy %s",
	    base->family, base->table, base->name,
	    base->policy_drop ? "drop" : "accept");
	record(w, base->policy_drop ? V_DROP : V_ACCEPT, ck, cond, name, NULL);
}

/* The verdict of one base chain from the outcomes of its paths. */
static void
classify(const struct walk *w, struct pdx_verdict *out)
{
	const struct outcome *main = NULL;
	size_t i;
	char srcs[512] = "";

	memset(out, 0, sizeof *out);
	if (w->overflow) {
		out->reach = PDX_REACH_UNKNOWN;
		snprintf(out->rule, sizeof out->rule, "%s", w->overflow_rule);
		snprintf(out->detail, sizeof out->detail,
		    "too many "
		    "conditional rules or jumps to follow");
		return;
	}
	for (i = 0; i < w->no; i++)
		if (w->o[i].ck == M_TRUE)
			main = &w->o[i];
	if (main == NULL || main->v == V_UNKNOWN) {
		out->reach = PDX_REACH_UNKNOWN;
		if (main != NULL) {
			snprintf(out->rule, sizeof out->rule, "%s", main->rule);
			snprintf(out->detail, sizeof out->detail, "%s",
			    main->why);
		}
		return;
	}
	for (i = 0; i < w->no; i++) {
		const struct outcome *o = &w->o[i];

		if (o->ck == M_TRUE)
			continue;
		if (o->v == V_UNKNOWN || (o->ck == M_UNK && o->v != main->v)) {
			out->reach = PDX_REACH_UNKNOWN;
			snprintf(out->rule, sizeof out->rule, "%s", o->rule);
			snprintf(out->detail, sizeof out->detail, "%s",
			    o->ck == M_UNK
				? (o->why[0] != '\0' ? o->why : o->cond)
				: o->why);
			return;
		}
		if (o->ck == M_SRC && o->v != main->v)
			fw_add_why(srcs, sizeof srcs, "; ", o->cond);
	}
	if (main->v == V_ACCEPT) {
		out->reach = PDX_REACH_OPEN;
		snprintf(out->rule, sizeof out->rule, "%s", main->rule);
		if (srcs[0] != '\0')
			snprintf(out->detail, sizeof out->detail,
			    "except %.480s", srcs);
		return;
	}
	out->reach = srcs[0] != '\0' ? PDX_REACH_RESTRICTED
				     : PDX_REACH_FILTERED;
	snprintf(out->rule, sizeof out->rule, "%s", main->rule);
	snprintf(out->detail, sizeof out->detail, "%s", srcs);
}

static int
family_applies(const char *tfamily, int family)
{
	if (strcmp(tfamily, "inet") == 0)
		return 1;
	if (strcmp(tfamily, "ip") == 0)
		return family == AF_INET;
	if (strcmp(tfamily, "ip6") == 0)
		return family == AF_INET6;
	return 0;
}

/* Every base filter chain on the packet's path, in hook then priority
 * order: a packet must be accepted by each. */
static void
judge_path(const struct pdx_ruleset *rs, struct pkt *p, struct pdx_verdict *v)
{
	static const int in_hooks[] = { HOOK_PREROUTING, HOOK_INPUT };
	static const int fw_hooks[] = { HOOK_PREROUTING, HOOK_FORWARD };
	const int *hooks = p->hook == HOOK_FORWARD ? fw_hooks : in_hooks;
	struct walk *w;
	struct pdx_verdict cv, unk;
	size_t i;
	int h, have_unk = 0;
	char open_detail[512] = "", restricted[512] = "";
	int restricted_seen = 0;
	char last_accept[192] = "";

	memset(v, 0, sizeof *v);
	memset(&unk, 0, sizeof unk);
	if (rs == NULL || rs->error != NULL) {
		v->reach = PDX_REACH_UNKNOWN;
		snprintf(v->detail, sizeof v->detail, "%s",
		    pdx_ruleset_error(rs));
		return;
	}
	if ((w = malloc(sizeof *w)) == NULL) {
		v->reach = PDX_REACH_UNKNOWN;
		snprintf(v->detail, sizeof v->detail, "out of memory");
		return;
	}
	for (h = 0; h < 2; h++)
		for (i = 0; i < rs->nchains; i++) {
			const struct fw_chain *c = &rs->chains[i];
			struct frame stack[MAX_DEPTH];

			if (!c->base || !c->filter || c->hook != hooks[h] ||
			    !family_applies(c->family, p->family))
				continue;
			memset(stack, 0, sizeof stack);
			stack[0].c = c;
			w->rs = rs;
			w->p = p;
			w->no = 0;
			w->budget = 200000;
			w->overflow = 0;
			p->tfamily = c->family;
			p->table = c->table;
			walk_path(w, stack, 1, M_TRUE, "");
			classify(w, &cv);
			if (cv.reach == PDX_REACH_FILTERED) {
				*v = cv;
				free(w);
				return;
			}
			if (cv.reach == PDX_REACH_UNKNOWN && !have_unk) {
				unk = cv;
				have_unk = 1;
			}
			if (cv.reach == PDX_REACH_RESTRICTED) {
				fw_add_why(restricted, sizeof restricted,
				    " and ", cv.detail);
				if (!restricted_seen)
					snprintf(last_accept,
					    sizeof last_accept, "%s", cv.rule);
				restricted_seen = 1;
			}
			if (cv.reach == PDX_REACH_OPEN) {
				if (cv.detail[0] != '\0')
					fw_add_why(open_detail,
					    sizeof open_detail, "; ",
					    cv.detail);
				if (!restricted_seen)
					snprintf(last_accept,
					    sizeof last_accept, "%s", cv.rule);
			}
		}
	free(w);
	if (have_unk) {
		*v = unk;
	} else if (restricted_seen) {
		v->reach = PDX_REACH_RESTRICTED;
		snprintf(v->rule, sizeof v->rule, "%s", last_accept);
		snprintf(v->detail, sizeof v->detail, "%s", restricted);
	} else {
		v->reach = PDX_REACH_OPEN;
		snprintf(v->rule, sizeof v->rule, "%s", last_accept);
		snprintf(v->detail, sizeof v->detail, "%s", open_detail);
	}
	if (v->reach != PDX_REACH_UNKNOWN && rs->netdev) {
		v->reach = PDX_REACH_UNKNOWN;
		snprintf(v->rule, sizeof v->rule, "%s", rs->netdev_rule);
		snprintf(v->detail, sizeof v->detail,
		    "ingress chains of "
		    "family netdev are not evaluated");
	}
	if ((v->reach == PDX_REACH_OPEN || v->reach == PDX_REACH_RESTRICTED) &&
	    rs->legacy != NULL) {
		v->reach = PDX_REACH_UNKNOWN;
		v->rule[0] = '\0';
		snprintf(v->detail, sizeof v->detail,
		    "legacy iptables tables "
		    "(%s) were not evaluated",
		    rs->legacy);
	}
}

static int
is_loopback_addr(int family, const uint8_t *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (family == AF_INET)
		return a[0] == 127;
	return memcmp(a, lo6, 16) == 0 ||
	    (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
		a[12] == 127);
}

static int
is_zero(const uint8_t *a, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (a[i] != 0)
			return 0;
	return 1;
}

static int
l4_of(int proto)
{
	return proto == PDX_TCP ? 6
	    : proto == PDX_UDP	? 17
	    : proto == PDX_SCTP ? 132
	    : proto == PDX_DCCP ? 33
				: 0;
}

void
pdx_firewall_judge(const struct pdx_ruleset *rs, int family, int proto,
    const uint8_t *laddr, unsigned port, int v6only, struct pdx_verdict *out,
    struct pdx_verdict *v4)
{
	struct pkt p;
	int wild = laddr == NULL || is_zero(laddr, family == AF_INET ? 4 : 16);

	memset(out, 0, sizeof *out);
	if (v4 != NULL)
		memset(v4, 0, sizeof *v4);
	if (!wild && is_loopback_addr(family, laddr)) {
		out->reach = PDX_REACH_LOOPBACK;
		return;
	}
	memset(&p, 0, sizeof p);
	p.family = family;
	p.l4 = l4_of(proto);
	p.dport = port;
	p.hook = HOOK_INPUT;
	p.daddr = wild ? NULL : laddr;
	if (family == AF_INET6 && !wild &&
	    memcmp(laddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		p.family = AF_INET; /* a v4-mapped address */
		p.daddr = laddr + 12;
	}
	judge_path(rs, &p, out);
	if (v4 != NULL && family == AF_INET6 && wild && v6only == 0) {
		p.family = AF_INET;
		p.daddr = NULL;
		judge_path(rs, &p, v4);
	}
}

json_t *
pdx_verdict_json(const struct pdx_verdict *v)
{
	return json_pack("{s:s, s:s?, s:s?}", "verdict",
	    pdx_reach_name(v->reach), "rule",
	    v->rule[0] != '\0' ? v->rule : NULL, "detail",
	    v->detail[0] != '\0' ? v->detail : NULL);
}

/* ---- published ports --------------------------------------------------- */

#define MAX_PUBLISHED 4096

struct pubwalk {
	const struct pdx_ruleset *rs;
	struct pdx_published *v;
	size_t n, cap;
	int oom;
	long budget;
};

static void
pub_add(struct pubwalk *pw, const struct fw_chain *c, json_t *rule, int l4,
    long lo, long hi, json_t *nat, const char *kind)
{
	struct pdx_published *e, *nv;
	json_t *a = json_object_get(nat, "addr"),
	       *port = json_object_get(nat, "port");
	const char *fam = fw_jstr(nat, "family");

	if (pw->n >= MAX_PUBLISHED || lo < 0 || hi < lo || hi > 65535)
		return;
	if (pw->n == pw->cap) {
		size_t cap = pw->cap == 0 ? 16 : pw->cap * 2;

		if ((nv = realloc(pw->v, cap * sizeof *nv)) == NULL) {
			pw->oom = 1;
			return;
		}
		pw->v = nv;
		pw->cap = cap;
	}
	e = &pw->v[pw->n++];
	memset(e, 0, sizeof *e);
	e->proto = l4 == 6 ? PDX_TCP
	    : l4 == 17	   ? PDX_UDP
	    : l4 == 132	   ? PDX_SCTP
	    : l4 == 33	   ? PDX_DCCP
			   : 0;
	e->port_lo = (unsigned)lo;
	e->port_hi = (unsigned)hi;
	snprintf(e->kind, sizeof e->kind, "%s", kind);
	if (json_is_string(a))
		snprintf(e->to_addr, sizeof e->to_addr, "%s",
		    json_string_value(a));
	else if (a != NULL)
		fw_value_text(a, e->to_addr, sizeof e->to_addr);
	if (json_is_integer(port))
		e->to_port = (unsigned)json_integer_value(port);
	if (strcmp(c->family, "ip") == 0 ||
	    (fam != NULL && strcmp(fam, "ip") == 0))
		e->family = AF_INET;
	else if (strcmp(c->family, "ip6") == 0 ||
	    (fam != NULL && strcmp(fam, "ip6") == 0) ||
	    strchr(e->to_addr, ':') != NULL)
		e->family = AF_INET6;
	else if (e->to_addr[0] != '\0')
		e->family = AF_INET;
	rule_name(c, rule, e->rule, sizeof e->rule);
}

/* Each port (or range) of a dport value: a number, range, set, @set. */
static void
pub_ports(struct pubwalk *pw, const struct fw_chain *c, json_t *rule, int l4,
    json_t *ports, json_t *nat, const char *kind, int depth)
{
	json_t *x, *e;
	size_t i;
	const char *s = json_string_value(ports);

	if (depth > 4)
		return;
	if (ports == NULL) {
		pub_add(pw, c, rule, l4, 0, 65535, nat, kind);
		return;
	}
	if (s != NULL && s[0] == '@') {
		json_t *set = fw_find_set(pw->rs, c->family, c->table, s + 1);

		json_array_foreach(json_object_get(set, "elem"), i, e)
		    pub_ports(pw, c, rule, l4, e, nat, kind, depth + 1);
		return;
	}
	if (json_is_object(ports) &&
	    json_is_array(x = json_object_get(ports, "set"))) {
		json_array_foreach(x, i, e)
		    pub_ports(pw, c, rule, l4, e, nat, kind, depth + 1);
		return;
	}
	if (json_is_object(ports) &&
	    (x = json_object_get(ports, "elem")) != NULL) {
		pub_ports(pw, c, rule, l4, json_object_get(x, "val"), nat, kind,
		    depth + 1);
		return;
	}
	if (json_is_object(ports) &&
	    json_is_array(x = json_object_get(ports, "range")) &&
	    json_array_size(x) == 2) {
		pub_add(pw, c, rule, l4, fw_port_number(json_array_get(x, 0)),
		    fw_port_number(json_array_get(x, 1)), nat, kind);
		return;
	}
	pub_add(pw, c, rule, l4, fw_port_number(ports), fw_port_number(ports),
	    nat, kind);
}

/* The nat chain c and the chains it jumps to, with the transport and
 * destination ports the path to it matched. */
static void
pub_walk(struct pubwalk *pw, const struct fw_chain *c, int l4, json_t *ports,
    int depth)
{
	json_t *rule, *st;
	size_t i, j;

	if (depth > MAX_DEPTH || c->rules == NULL)
		return;
	json_array_foreach(c->rules, i, rule)
	{
		int rl4 = l4;
		json_t *rports = ports;

		if (--pw->budget < 0)
			return;
		json_array_foreach(json_object_get(rule, "expr"), j, st)
		{
			json_t *m = json_object_get(st, "match"), *left, *x;
			const char *name;

			if (m != NULL) {
				left = json_object_get(m, "left");
				if (fw_jstr(m, "op") != NULL &&
				    strcmp(fw_jstr(m, "op"), "!=") == 0)
					continue;
				if ((x = json_object_get(left, "payload")) !=
					NULL &&
				    fw_jstr(x, "field") != NULL &&
				    strcmp(fw_jstr(x, "field"), "dport") == 0 &&
				    fw_jstr(x, "protocol") != NULL) {
					if (strcmp(fw_jstr(x, "protocol"),
						"th"))
						rl4 = fw_l4_by_name(
						    fw_jstr(x, "protocol"));
					rports = json_object_get(m, "right");
				} else if ((x = json_object_get(left,
						"meta")) != NULL &&
				    fw_jstr(x, "key") != NULL &&
				    strcmp(fw_jstr(x, "key"), "l4proto") == 0) {
					int n4 = fw_l4_number(
					    json_object_get(m, "right"));

					if (l4 != 0 && n4 >= 0 && n4 != l4)
						break; /* not this path's */
					if (n4 >= 0)
						rl4 = n4;
				}
				continue;
			}
			name = json_object_iter_key(json_object_iter(st));
			if (name == NULL)
				continue;
			if (strcmp(name, "dnat") == 0 ||
			    strcmp(name, "redirect") == 0) {
				pub_ports(pw, c, rule, rl4, rports,
				    json_object_get(st, name), name, 0);
				break;
			}
			if (strcmp(name, "jump") == 0 ||
			    strcmp(name, "goto") == 0) {
				const struct fw_chain *t = fw_find_chain(pw->rs,
				    c->family, c->table,
				    fw_jstr(json_object_get(st, name),
					"target"));

				if (t != NULL)
					pub_walk(pw, t, rl4, rports, depth + 1);
				break;
			}
			if (strcmp(name, "vmap") == 0) {
				/* kube-proxy's load balancing: every branch */
				json_t *d = json_object_get(json_object_get(st,
								"vmap"),
					   "data"),
				       *el, *vd;
				size_t q;

				if (json_is_string(d) &&
				    json_string_value(d)[0] == '@')
					d = json_object_get(
					    fw_find_set(pw->rs, c->family,
						c->table,
						json_string_value(d) + 1),
					    "elem");
				else
					d = json_object_get(d, "set");
				json_array_foreach(d, q, el)
				{
					const struct fw_chain *t;

					vd = json_array_get(el, 1);
					if ((x = json_object_get(vd, "jump")) ==
						NULL &&
					    (x = json_object_get(vd, "goto")) ==
						NULL)
						continue;
					t = fw_find_chain(pw->rs, c->family,
					    c->table,
					    fw_jstr(x, "target") != NULL
						? fw_jstr(x, "target")
						: "");
					if (t != NULL)
						pub_walk(pw, t, rl4, rports,
						    depth + 1);
				}
				break;
			}
		}
	}
}

int
pdx_firewall_published(const struct pdx_ruleset *rs, struct pdx_published **out,
    size_t *n)
{
	struct pubwalk pw;
	size_t i;

	*out = NULL;
	*n = 0;
	if (rs == NULL || rs->error != NULL) {
		pdx_set_error("%s", pdx_ruleset_error(rs));
		return -1;
	}
	memset(&pw, 0, sizeof pw);
	pw.rs = rs;
	pw.budget = 200000;
	for (i = 0; i < rs->nchains; i++)
		if (rs->chains[i].base && rs->chains[i].nat &&
		    rs->chains[i].hook == HOOK_PREROUTING)
			pub_walk(&pw, &rs->chains[i], 0, NULL, 0);
	if (pw.oom) {
		free(pw.v);
		pdx_set_error("out of memory");
		return -1;
	}
	for (i = 0; i < pw.n; i++) {
		struct pdx_published *e = &pw.v[i];
		struct pkt p;
		uint8_t a[16];

		memset(&p, 0, sizeof p);
		p.family = e->family != 0 ? e->family : AF_INET;
		p.l4 = l4_of(e->proto);
		p.dport = e->to_port != 0 ? e->to_port : e->port_lo;
		if (strcmp(e->kind, "dnat") == 0) {
			p.hook = HOOK_FORWARD;
			if (inet_pton(p.family, e->to_addr, a) == 1)
				p.daddr = a;
		} else
			p.hook = HOOK_INPUT;
		if (p.l4 == 0) {
			e->reach.reach = PDX_REACH_UNKNOWN;
			snprintf(e->reach.detail, sizeof e->reach.detail,
			    "the rule names no transport");
		} else
			judge_path(rs, &p, &e->reach);
	}
	*out = pw.v;
	*n = pw.n;
	return 0;
}

json_t *
pdx_published_json(const struct pdx_published *e)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s?, s:I, s:s}",
	    "transport", e->proto != 0 ? pdx_proto_name(e->proto) : "any",
	    "family",
	    e->family == AF_INET	? "ipv4"
		: e->family == AF_INET6 ? "ipv6"
					: "any",
	    "port", (json_int_t)e->port_lo, "port_end", (json_int_t)e->port_hi,
	    "kind", e->kind, "to_address",
	    e->to_addr[0] != '\0' ? e->to_addr : NULL, "to_port",
	    (json_int_t)(e->to_port != 0 ? e->to_port : e->port_lo), "rule",
	    e->rule);

	if (o != NULL)
		json_object_set_new(o, "reach", pdx_verdict_json(&e->reach));
	return o;
}
