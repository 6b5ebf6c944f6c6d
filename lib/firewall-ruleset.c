/*
 * firewall-ruleset.c - the nftables ruleset as libnftables' JSON gives
 * it, parsed and indexed: tables, base chains by hook and priority, sets
 * and maps, and each rule's constant destination ports (a shortcut the
 * walk uses to pass over rules that cannot match).
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

/* ---- the ruleset ------------------------------------------------------ */

const char *
pdx_ruleset_error(const struct pdx_ruleset *rs)
{
	return rs != NULL ? rs->error : "the packet filter was not read";
}

const char *
pdx_ruleset_legacy(const struct pdx_ruleset *rs)
{
	return rs != NULL ? rs->legacy : NULL;
}

void
pdx_ruleset_set_legacy(struct pdx_ruleset *rs, const char *s)
{
	free(rs->legacy);
	rs->legacy = s != NULL ? strdup(s) : NULL;
}

size_t
pdx_ruleset_rules(const struct pdx_ruleset *rs)
{
	return rs != NULL ? rs->nrules : 0;
}

void
pdx_ruleset_free(struct pdx_ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	json_decref(rs->root);
	json_decref(rs->sets);
	json_decref(rs->holder);
	if (rs->chains != NULL)
		for (i = 0; i < rs->nchains; i++) {
			free(rs->chains[i].pre);
			free(rs->chains[i].pts);
			free(rs->chains[i].always);
		}
	free(rs->chains);
	free(rs->pranges);
	free(rs->error);
	free(rs->legacy);
	free(rs);
}

const char *
fw_jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int
hook_of(const char *h)
{
	if (h == NULL)
		return HOOK_OTHER;
	if (strcmp(h, "prerouting") == 0)
		return HOOK_PREROUTING;
	if (strcmp(h, "input") == 0)
		return HOOK_INPUT;
	if (strcmp(h, "forward") == 0)
		return HOOK_FORWARD;
	return HOOK_OTHER;
}

struct fw_chain *
fw_find_chain(const struct pdx_ruleset *rs, const char *family,
    const char *table, const char *name)
{
	size_t i;

	if (family == NULL || table == NULL || name == NULL)
		return NULL; /* e.g. a jump without a target */
	for (i = 0; i < rs->nchains; i++)
		if (strcmp(rs->chains[i].name, name) == 0 &&
		    strcmp(rs->chains[i].table, table) == 0 &&
		    strcmp(rs->chains[i].family, family) == 0)
			return &rs->chains[i];
	return NULL;
}

json_t *
fw_find_set(const struct pdx_ruleset *rs, const char *family, const char *table,
    const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach(rs->sets, i, s)
	{
		const char *f = fw_jstr(s, "family"), *t = fw_jstr(s, "table"),
			   *n = fw_jstr(s, "name");

		if (f != NULL && t != NULL && n != NULL &&
		    strcmp(n, name) == 0 && strcmp(t, table) == 0 &&
		    strcmp(f, family) == 0)
			return s;
	}
	return NULL;
}

static int
chain_cmp(const void *a, const void *b)
{
	const struct fw_chain *x = a, *y = b;

	if (x->hook != y->hook)
		return x->hook < y->hook ? -1 : 1;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return 0;
}

static int
add_prange(struct pdx_ruleset *rs, long lo, long hi)
{
	if (rs->npranges + 2 > rs->cappranges) {
		size_t cap = rs->cappranges == 0 ? 64 : rs->cappranges * 2;
		unsigned *nv = realloc(rs->pranges, cap * sizeof *nv);

		if (nv == NULL)
			return -2;
		rs->pranges = nv;
		rs->cappranges = cap;
	}
	rs->pranges[rs->npranges++] = (unsigned)lo;
	rs->pranges[rs->npranges++] = (unsigned)hi;
	return 0;
}

/*
 * The ports of a dport match's value as ranges, read as value_holds and
 * set_holds would read them for a port: a number, a range, an anonymous
 * set, a set element, a named set of the chain's table.  0, -1 when any
 * part is something else (value_holds would say "cannot tell" or read it
 * otherwise: no shortcut), -2 out of memory.
 */
static int
pre_ports(struct pdx_ruleset *rs, const struct fw_chain *c, json_t *v,
    int depth)
{
	json_t *x, *e;
	const char *s = json_string_value(v);
	size_t i;
	int r;

	if (depth > 8)
		return -1;
	if (s != NULL && s[0] == '@') {
		json_t *set = fw_find_set(rs, c->family, c->table, s + 1);

		if (set == NULL)
			return -1;
		x = json_object_get(set, "elem");
		return x == NULL ? 0 : pre_ports(rs, c, x, depth + 1);
	}
	if (json_is_array(v)) { /* a set's elements */
		json_array_foreach(v, i, e)
		{
			if (json_is_array(e))
				return -1;
			if ((r = pre_ports(rs, c, e, depth + 1)) != 0)
				return r;
		}
		return 0;
	}
	if (json_is_object(v) && (x = json_object_get(v, "set")) != NULL)
		return pre_ports(rs, c, x, depth + 1);
	if (json_is_object(v) && (x = json_object_get(v, "elem")) != NULL)
		return json_is_array(json_object_get(x, "val"))
		    ? -1
		    : pre_ports(rs, c, json_object_get(x, "val"), depth + 1);
	if (json_is_object(v) &&
	    json_is_array(x = json_object_get(v, "range")) &&
	    json_array_size(x) == 2) {
		long lo = fw_port_number(json_array_get(x, 0)),
		     hi = fw_port_number(json_array_get(x, 1));

		if (lo < 0 || hi < 0)
			return -1;
		return add_prange(rs, lo, hi);
	}
	if (fw_port_number(v) < 0)
		return -1;
	return add_prange(rs, fw_port_number(v), fw_port_number(v));
}

static int
pt_cmp(const void *a, const void *b)
{
	const struct fw_pt *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The chain's shortcuts by port (struct fw_pt); 0, or -1 out of memory. */
static int
index_ports(const struct pdx_ruleset *rs, struct fw_chain *c)
{
	size_t i, k, cap = 0;
	unsigned p;

	c->nrules = json_array_size(c->rules);
	for (i = 0; i < c->nrules; i++) {
		const struct fw_pre *pre = &c->pre[i];
		const unsigned *r = pre->n > 0 ? rs->pranges + pre->off : NULL;
		int wide = !pre->usable || pre->neg;

		for (k = 0; k < pre->n && !wide; k++)
			wide = r[2 * k + 1] < r[2 * k] ||
			    r[2 * k + 1] - r[2 * k] >= FW_PT_SPAN;
		if (wide) {
			if ((c->always == NULL &&
				(c->always = malloc(
				     c->nrules * sizeof *c->always)) == NULL))
				return -1;
			c->always[c->nalways++] = i;
			continue;
		}
		for (k = 0; k < pre->n; k++)
			for (p = r[2 * k];; p++) {
				if (c->npts == cap) {
					struct fw_pt *nv;

					cap = cap == 0 ? 64 : 2 * cap;
					if ((nv = realloc(c->pts,
						 cap * sizeof *nv)) == NULL)
						return -1;
					c->pts = nv;
				}
				c->pts[c->npts].port = p;
				c->pts[c->npts++].idx = (unsigned)i;
				if (p == r[2 * k + 1])
					break;
			}
	}
	if (c->npts > 1)
		qsort(c->pts, c->npts, sizeof *c->pts, pt_cmp);
	return 0;
}

/*
 * Rule *idx of chain c was refused by its shortcut: moves *idx to the next
 * rule the packet's port may match (or the chain's end), taking from
 * *budget what walk_path's steps over the rules passed would have taken
 * (one each); when the budget would run out on the way, one rule only, so
 * that walk_path runs out where it ran out before.
 */
void
fw_pre_skip(const struct fw_chain *c, unsigned dport, size_t *idx, long *budget)
{
	size_t from = *idx + 1, next = c->nrules, lo, hi, mid;

	lo = 0; /* the first always >= from */
	hi = c->nalways;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->always[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nalways)
		next = c->always[lo];
	lo = 0; /* the first (port, idx) >= (dport, from) */
	hi = c->npts;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->pts[mid].port < dport ||
		    (c->pts[mid].port == dport && c->pts[mid].idx < from))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->npts && c->pts[lo].port == dport && c->pts[lo].idx < next)
		next = c->pts[lo].idx;
	if (*budget >= 0 && (size_t)*budget >= next - from) {
		*budget -= (long)(next - from);
		*idx = next;
	} else
		(*idx)++;
}

/* Each rule's shortcut (struct fw_pre); 0, or -1 out of memory. */
static int
make_shortcuts(struct pdx_ruleset *rs, struct fw_chain *c)
{
	size_t i, j, n = json_array_size(c->rules);
	json_t *rule, *st;

	if (n == 0)
		return 0;
	if ((c->pre = calloc(n, sizeof *c->pre)) == NULL)
		return -1;
	json_array_foreach(c->rules, i, rule)
	{
		json_array_foreach(json_object_get(rule, "expr"), j, st)
		{
			const char *name = json_object_iter_key(
				       json_object_iter(st)),
				   *op, *proto, *field;
			json_t *m, *x;
			size_t off = rs->npranges;
			int r;

			if (name != NULL &&
			    (strcmp(name, "counter") == 0 ||
				strcmp(name, "log") == 0))
				continue; /* eval_rule passes them */
			if (name == NULL || strcmp(name, "match") != 0)
				break; /* eval_rule may stop here */
			m = json_object_get(st, "match");
			op = fw_jstr(m, "op");
			x = json_object_get(json_object_get(m, "left"),
			    "payload");
			proto = fw_jstr(x, "protocol");
			field = fw_jstr(x, "field");
			if (op == NULL || proto == NULL || field == NULL ||
			    json_object_get(m, "right") == NULL ||
			    (strcmp(op, "==") != 0 && strcmp(op, "!=") != 0 &&
				strcmp(op, "in") != 0) ||
			    !fw_is_transport(proto) ||
			    strcmp(field, "dport") != 0)
				continue; /* another match */
			r = pre_ports(rs, c, json_object_get(m, "right"), 0);
			if (r == -2)
				return -1;
			if (r == 0) {
				c->pre[i].usable = 1;
				c->pre[i].l4 = strcmp(proto, "th") == 0
				    ? 0
				    : fw_l4_by_name(proto);
				c->pre[i].neg = strcmp(op, "!=") == 0;
				c->pre[i].off = off;
				c->pre[i].n = (rs->npranges - off) / 2;
			} else
				rs->npranges = off;
			break;
		}
	}
	return index_ports(rs, c);
}

/* Does the shortcut say the rule is false for the packet? */
int
fw_pre_false(const struct pdx_ruleset *rs, const struct fw_pre *pre, int l4,
    unsigned dport)
{
	const unsigned *r;
	size_t i;
	int in = 0;

	if (!pre->usable)
		return 0;
	if (pre->l4 != 0 && pre->l4 != l4)
		return 1;
	r = rs->pranges + pre->off;
	for (i = 0; i < pre->n && !in; i++)
		in = dport >= r[2 * i] && dport <= r[2 * i + 1];
	return pre->neg ? in : !in;
}

struct pdx_ruleset *
fw_ruleset_empty(void)
{
	struct pdx_ruleset *rs;

	if ((rs = calloc(1, sizeof *rs)) == NULL ||
	    (rs->sets = json_array()) == NULL ||
	    (rs->holder = json_array()) == NULL) {
		if (rs != NULL)
			json_decref(rs->sets);
		free(rs);
		pdx_set_error("out of memory");
		return NULL;
	}
	return rs;
}

struct pdx_ruleset *
pdx_ruleset_parse(const char *text, size_t len)
{
	struct pdx_ruleset *rs;
	json_error_t je;
	json_t *arr, *o, *v;
	size_t i, k;

	if ((rs = fw_ruleset_empty()) == NULL)
		return NULL;
	rs->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (rs->root == NULL) {
		pdx_set_error("nftables JSON: line %d: %s", je.line, je.text);
		goto bad;
	}
	if (!json_is_array(arr = json_object_get(rs->root, "nftables"))) {
		pdx_set_error("nftables JSON: no \"nftables\" array");
		goto bad;
	}
	/* chains first (rules refer to them), sets beside them */
	json_array_foreach(arr, i, o)
	{
		struct fw_chain *c, *nc;

		if (!json_is_object(o)) {
			pdx_set_error("nftables JSON: item %zu is not an "
				      "object",
			    i);
			goto bad;
		}
		if ((v = json_object_get(o, "set")) != NULL ||
		    (v = json_object_get(o, "map")) != NULL) {
			if (fw_jstr(v, "family") == NULL ||
			    fw_jstr(v, "table") == NULL ||
			    fw_jstr(v, "name") == NULL) {
				pdx_set_error("nftables JSON: item %zu: a set "
					      "without family, table or name",
				    i);
				goto bad;
			}
			if (json_array_append(rs->sets, v) != 0)
				goto oom;
			continue;
		}
		if ((v = json_object_get(o, "chain")) == NULL)
			continue;
		if (fw_jstr(v, "family") == NULL ||
		    fw_jstr(v, "table") == NULL || fw_jstr(v, "name") == NULL) {
			pdx_set_error("nftables JSON: item %zu: a chain "
				      "without family, table or name",
			    i);
			goto bad;
		}
		if ((nc = realloc(rs->chains,
			 (rs->nchains + 1) * sizeof *nc)) == NULL)
			goto oom;
		rs->chains = nc;
		c = &nc[rs->nchains];
		memset(c, 0, sizeof *c);
		c->family = fw_jstr(v, "family");
		c->table = fw_jstr(v, "table");
		c->name = fw_jstr(v, "name");
		if (fw_jstr(v, "hook") != NULL) {
			c->base = 1;
			c->hook = hook_of(fw_jstr(v, "hook"));
			c->filter = fw_jstr(v, "type") != NULL &&
			    strcmp(fw_jstr(v, "type"), "filter") == 0;
			c->nat = fw_jstr(v, "type") != NULL &&
			    strcmp(fw_jstr(v, "type"), "nat") == 0;
			if (json_is_integer(json_object_get(v, "prio")))
				c->prio = (long)json_integer_value(
				    json_object_get(v, "prio"));
			c->policy_drop = fw_jstr(v, "policy") != NULL &&
			    strcmp(fw_jstr(v, "policy"), "drop") == 0;
		}
		rs->nchains++;
	}
	json_array_foreach(arr, i, o)
	{
		struct fw_chain *c;
		const char *f, *t, *n;

		if ((v = json_object_get(o, "rule")) == NULL)
			continue;
		f = fw_jstr(v, "family");
		t = fw_jstr(v, "table");
		n = fw_jstr(v, "chain");
		if (f == NULL || t == NULL || n == NULL ||
		    !json_is_array(json_object_get(v, "expr"))) {
			pdx_set_error("nftables JSON: item %zu: a rule without "
				      "family, table, chain or expr",
			    i);
			goto bad;
		}
		if ((c = fw_find_chain(rs, f, t, n)) == NULL) {
			pdx_set_error("nftables JSON: item %zu: a rule of "
				      "chain %s %s %s, which is not listed",
			    i, f, t, n);
			goto bad;
		}
		if (c->rules == NULL) {
			/* held by rs->sets' neighbour, borrowed by the chain */
			if ((c->rules = json_array()) == NULL ||
			    json_array_append_new(rs->holder, c->rules) != 0)
				goto oom;
		}
		if (json_array_append(c->rules, v) != 0)
			goto oom;
		rs->nrules++;
	}
	for (k = 0; k < rs->nchains; k++) {
		struct fw_chain *c = &rs->chains[k];

		if (c->base && c->rules != NULL &&
		    strcmp(c->family, "netdev") == 0 && !rs->netdev) {
			rs->netdev = 1;
			snprintf(rs->netdev_rule, sizeof rs->netdev_rule,
			    "table netdev %s chain %s", c->table, c->name);
		}
	}
	for (k = 0; k < rs->nchains; k++)
		if (make_shortcuts(rs, &rs->chains[k]) != 0)
			goto oom;
	if (rs->nchains > 1)
		qsort(rs->chains, rs->nchains, sizeof *rs->chains, chain_cmp);
	return rs;
oom:
	pdx_set_error("out of memory");
bad:
	pdx_ruleset_free(rs);
	return NULL;
}
