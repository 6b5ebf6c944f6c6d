/*
 * firewall.c - the packet filter as nftables reports it (libnftables' JSON,
 * iptables-nft rules included), per network namespace: reading and
 * indexing the ruleset, the exposure verdict of a listener, and the ports
 * that DNAT/redirect rules publish.  Loading libnftables is lazy-libs.c's;
 * what a listener is, sockets.c's.
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

/* ---- names ------------------------------------------------------------ */

static const char *const reach_names[] = {
	"-", "loopback", "filtered", "restricted", "open", "unknown"
};

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
	    "restricted, open, unknown)", s);
	return -1;
}

/* ---- the ruleset ------------------------------------------------------ */

enum { HOOK_OTHER, HOOK_PREROUTING, HOOK_INPUT, HOOK_FORWARD };

/*
 * A rule's shortcut, made once when the ruleset is parsed: its first
 * "tcp/udp/th dport" match with constant ports, when only matches come
 * before it.  A packet whose transport or port that match refuses makes
 * the whole rule false (eval_rule stops at the first false match, and
 * matches, counters and logs before it have no other effect), so
 * walk_path skips the rule without
 * reading its JSON: at 1,000 listeners and 1,000 port rules this is most
 * of the verdicts' cost.  usable 0: no shortcut, the rule is evaluated.
 */
struct fw_pre {
	int		 usable;
	int		 l4;		/* 0: th, any transport */
	int		 neg;		/* op "!=" */
	size_t		 off, n;	/* rs->pranges[off..off+n) */
};

struct fw_chain {
	const char	*family, *table, *name;
	json_t		*rules;		/* array of rule objects (borrowed) */
	struct fw_pre	*pre;		/* one per rule, or NULL */
	int		 base;		/* has a hook */
	int		 hook;		/* HOOK_* */
	int		 filter;	/* type filter */
	int		 nat;		/* type nat */
	long		 prio;
	int		 policy_drop;
};

struct pdx_ruleset {
	json_t		*root;
	struct fw_chain	*chains;
	size_t		 nchains;
	json_t		*sets;		/* array of set and map objects */
	json_t		*holder;	/* owns the chains' rule arrays */
	size_t		 nrules;
	char		*error;
	char		*legacy;
	int		 netdev;	/* a netdev ingress chain with rules */
	char		 netdev_rule[192];
	unsigned	*pranges;	/* the shortcuts' port ranges, lo hi */
	size_t		 npranges, cappranges;
};

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
		for (i = 0; i < rs->nchains; i++)
			free(rs->chains[i].pre);
	free(rs->chains);
	free(rs->pranges);
	free(rs->error);
	free(rs->legacy);
	free(rs);
}

static const char *
jstr(json_t *o, const char *k)
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

static struct fw_chain *
find_chain(const struct pdx_ruleset *rs, const char *family,
    const char *table, const char *name)
{
	size_t i;

	if (family == NULL || table == NULL || name == NULL)
		return NULL;	/* e.g. a jump without a target */
	for (i = 0; i < rs->nchains; i++)
		if (strcmp(rs->chains[i].name, name) == 0 &&
		    strcmp(rs->chains[i].table, table) == 0 &&
		    strcmp(rs->chains[i].family, family) == 0)
			return &rs->chains[i];
	return NULL;
}

static json_t *
find_set(const struct pdx_ruleset *rs, const char *family, const char *table,
    const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach(rs->sets, i, s) {
		const char *f = jstr(s, "family"), *t = jstr(s, "table"),
		    *n = jstr(s, "name");

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

static int	l4_by_name(const char *);
static long	port_number(json_t *);
static int	is_transport(const char *);

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
		json_t *set = find_set(rs, c->family, c->table, s + 1);

		if (set == NULL)
			return -1;
		x = json_object_get(set, "elem");
		return x == NULL ? 0 : pre_ports(rs, c, x, depth + 1);
	}
	if (json_is_array(v)) {		/* a set's elements */
		json_array_foreach(v, i, e) {
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
		return json_is_array(json_object_get(x, "val")) ? -1 :
		    pre_ports(rs, c, json_object_get(x, "val"), depth + 1);
	if (json_is_object(v) && json_is_array(x = json_object_get(v,
	    "range")) && json_array_size(x) == 2) {
		long lo = port_number(json_array_get(x, 0)),
		    hi = port_number(json_array_get(x, 1));

		if (lo < 0 || hi < 0)
			return -1;
		return add_prange(rs, lo, hi);
	}
	if (port_number(v) < 0)
		return -1;
	return add_prange(rs, port_number(v), port_number(v));
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
	json_array_foreach(c->rules, i, rule) {
		json_array_foreach(json_object_get(rule, "expr"), j, st) {
			const char *name = json_object_iter_key(
			    json_object_iter(st)), *op, *proto, *field;
			json_t *m, *x;
			size_t off = rs->npranges;
			int r;

			if (name != NULL && (strcmp(name, "counter") == 0 ||
			    strcmp(name, "log") == 0))
				continue;	/* eval_rule passes them */
			if (name == NULL || strcmp(name, "match") != 0)
				break;	/* eval_rule may stop here */
			m = json_object_get(st, "match");
			op = jstr(m, "op");
			x = json_object_get(json_object_get(m, "left"),
			    "payload");
			proto = jstr(x, "protocol");
			field = jstr(x, "field");
			if (op == NULL || proto == NULL || field == NULL ||
			    json_object_get(m, "right") == NULL ||
			    (strcmp(op, "==") != 0 && strcmp(op, "!=") != 0 &&
			    strcmp(op, "in") != 0) || !is_transport(proto) ||
			    strcmp(field, "dport") != 0)
				continue;	/* another match */
			r = pre_ports(rs, c, json_object_get(m, "right"), 0);
			if (r == -2)
				return -1;
			if (r == 0) {
				c->pre[i].usable = 1;
				c->pre[i].l4 = strcmp(proto, "th") == 0 ? 0 :
				    l4_by_name(proto);
				c->pre[i].neg = strcmp(op, "!=") == 0;
				c->pre[i].off = off;
				c->pre[i].n = (rs->npranges - off) / 2;
			} else
				rs->npranges = off;
			break;
		}
	}
	return 0;
}

/* Does the shortcut say the rule is false for the packet? */
static int
pre_false(const struct pdx_ruleset *rs, const struct fw_pre *pre,
    int l4, unsigned dport)
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
pdx_ruleset_parse(const char *text, size_t len)
{
	struct pdx_ruleset *rs;
	json_error_t je;
	json_t *arr, *o, *v;
	size_t i, k;

	if ((rs = calloc(1, sizeof *rs)) == NULL ||
	    (rs->sets = json_array()) == NULL ||
	    (rs->holder = json_array()) == NULL) {
		if (rs != NULL)
			json_decref(rs->sets);
		free(rs);
		pdx_set_error("out of memory");
		return NULL;
	}
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
	json_array_foreach(arr, i, o) {
		struct fw_chain *c, *nc;

		if (!json_is_object(o)) {
			pdx_set_error("nftables JSON: item %zu is not an "
			    "object", i);
			goto bad;
		}
		if ((v = json_object_get(o, "set")) != NULL ||
		    (v = json_object_get(o, "map")) != NULL) {
			if (jstr(v, "family") == NULL || jstr(v, "table") ==
			    NULL || jstr(v, "name") == NULL) {
				pdx_set_error("nftables JSON: item %zu: a set "
				    "without family, table or name", i);
				goto bad;
			}
			if (json_array_append(rs->sets, v) != 0)
				goto oom;
			continue;
		}
		if ((v = json_object_get(o, "chain")) == NULL)
			continue;
		if (jstr(v, "family") == NULL || jstr(v, "table") == NULL ||
		    jstr(v, "name") == NULL) {
			pdx_set_error("nftables JSON: item %zu: a chain "
			    "without family, table or name", i);
			goto bad;
		}
		if ((nc = realloc(rs->chains, (rs->nchains + 1) *
		    sizeof *nc)) == NULL)
			goto oom;
		rs->chains = nc;
		c = &nc[rs->nchains];
		memset(c, 0, sizeof *c);
		c->family = jstr(v, "family");
		c->table = jstr(v, "table");
		c->name = jstr(v, "name");
		if (jstr(v, "hook") != NULL) {
			c->base = 1;
			c->hook = hook_of(jstr(v, "hook"));
			c->filter = jstr(v, "type") != NULL &&
			    strcmp(jstr(v, "type"), "filter") == 0;
			c->nat = jstr(v, "type") != NULL &&
			    strcmp(jstr(v, "type"), "nat") == 0;
			if (json_is_integer(json_object_get(v, "prio")))
				c->prio = (long)json_integer_value(
				    json_object_get(v, "prio"));
			c->policy_drop = jstr(v, "policy") != NULL &&
			    strcmp(jstr(v, "policy"), "drop") == 0;
		}
		rs->nchains++;
	}
	json_array_foreach(arr, i, o) {
		struct fw_chain *c;
		const char *f, *t, *n;

		if ((v = json_object_get(o, "rule")) == NULL)
			continue;
		f = jstr(v, "family");
		t = jstr(v, "table");
		n = jstr(v, "chain");
		if (f == NULL || t == NULL || n == NULL ||
		    !json_is_array(json_object_get(v, "expr"))) {
			pdx_set_error("nftables JSON: item %zu: a rule without "
			    "family, table, chain or expr", i);
			goto bad;
		}
		if ((c = find_chain(rs, f, t, n)) == NULL) {
			pdx_set_error("nftables JSON: item %zu: a rule of "
			    "chain %s %s %s, which is not listed", i, f, t, n);
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

		if (c->base && c->rules != NULL && strcmp(c->family,
		    "netdev") == 0 && !rs->netdev) {
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

/* ---- values ----------------------------------------------------------- */

/* The packet being judged: one new connection from another host. */
struct pkt {
	int		 family;	/* AF_INET, AF_INET6 */
	int		 l4;		/* IP protocol number: 6, 17, 132 */
	unsigned	 dport;
	const uint8_t	*daddr;		/* NULL: any local address */
	int		 hook;		/* HOOK_INPUT or HOOK_FORWARD */
	const char	*tfamily;	/* family of the table being walked */
	const char	*table;
};

static int
l4_by_name(const char *s)
{
	if (strcmp(s, "tcp") == 0)
		return 6;
	if (strcmp(s, "udp") == 0)
		return 17;
	if (strcmp(s, "sctp") == 0)
		return 132;
	if (strcmp(s, "icmp") == 0)
		return 1;
	if (strcmp(s, "ipv6-icmp") == 0 || strcmp(s, "icmpv6") == 0)
		return 58;
	if (strcmp(s, "dccp") == 0)
		return 33;
	if (strcmp(s, "udplite") == 0)
		return 136;
	if (strcmp(s, "gre") == 0)
		return 47;
	if (strcmp(s, "esp") == 0)
		return 50;
	if (strcmp(s, "ah") == 0)
		return 51;
	return -1;
}

static int
l4_number(json_t *v)
{
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_string_value(v) == NULL)
		return -1;
	return l4_by_name(json_string_value(v));
}

/* A port value: number, or a string of digits; -1 otherwise. */
static long
port_number(json_t *v)
{
	const char *s = json_string_value(v);
	char *end;
	long n;

	if (json_is_integer(v))
		return (long)json_integer_value(v);
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	n = strtol(s, &end, 10);
	return *end == '\0' ? n : -1;
}

/* Does address text (an address, "a/len") hold the packet's address? */
static int
addr_in_prefix(int family, const uint8_t *a, const char *addr, long len)
{
	uint8_t p[16];
	int bytes = family == AF_INET ? 4 : 16, i;

	if (inet_pton(family, addr, p) != 1)
		return -1;
	if (len < 0)
		len = bytes * 8;
	if (len > bytes * 8)
		return -1;
	for (i = 0; i < bytes && len > 0; i++, len -= 8) {
		uint8_t m = len >= 8 ? 0xff : (uint8_t)(0xff << (8 - len));

		if ((a[i] & m) != (p[i] & m))
			return 0;
	}
	return 1;
}

static int
addr_cmp(int family, const uint8_t *a, const char *text)
{
	uint8_t p[16];

	if (inet_pton(family, text, p) != 1)
		return -2;
	return memcmp(a, p, family == AF_INET ? 4 : 16);
}

/*
 * The kinds of key matched against a value: a port, a protocol number,
 * an address of the packet's family, a name (interface, ct state).
 */
enum { K_PORT, K_L4, K_ADDR, K_NAME };

struct key {
	int		 kind;
	long		 num;		/* K_PORT, K_L4 */
	int		 family;	/* K_ADDR */
	const uint8_t	*addr;
	const char	*name;		/* K_NAME */
};

static int set_holds(const struct pdx_ruleset *, const struct pkt *,
    json_t *set, const struct key *, json_t **data, int depth);

/*
 * Is the key in one value (element, range, prefix, anonymous set, named
 * set "@x")?  1 yes, 0 no, -1 cannot tell.  *data gets a map element's
 * value when the value is a map element.
 */
static int
value_holds(const struct pdx_ruleset *rs, const struct pkt *p, json_t *v,
    const struct key *k, json_t **data, int depth)
{
	json_t *x;
	const char *s = json_string_value(v);

	if (depth > 8)
		return -1;
	if (s != NULL && s[0] == '@') {
		json_t *set = find_set(rs, p->tfamily, p->table, s + 1);

		if (set == NULL)
			return -1;
		return set_holds(rs, p, json_object_get(set, "elem"), k, data,
		    depth + 1);
	}
	if (json_is_object(v) && (x = json_object_get(v, "set")) != NULL)
		return set_holds(rs, p, x, k, data, depth + 1);
	if (json_is_object(v) && (x = json_object_get(v, "elem")) != NULL)
		return value_holds(rs, p, json_object_get(x, "val"), k, data,
		    depth + 1);
	if (json_is_array(v) && json_array_size(v) == 2 && data != NULL) {
		/* a map element: [key, value] */
		int r = value_holds(rs, p, json_array_get(v, 0), k, NULL,
		    depth + 1);

		if (r == 1)
			*data = json_array_get(v, 1);
		return r;
	}
	switch (k->kind) {
	case K_PORT:
	case K_L4:
		if (json_is_object(v) && json_is_array(x = json_object_get(v,
		    "range")) && json_array_size(x) == 2) {
			long lo = k->kind == K_PORT ?
			    port_number(json_array_get(x, 0)) :
			    l4_number(json_array_get(x, 0));
			long hi = k->kind == K_PORT ?
			    port_number(json_array_get(x, 1)) :
			    l4_number(json_array_get(x, 1));

			if (lo < 0 || hi < 0)
				return -1;
			return k->num >= lo && k->num <= hi;
		} else {
			long n = k->kind == K_PORT ? port_number(v) :
			    l4_number(v);

			if (n < 0)
				return -1;
			return n == k->num;
		}
	case K_ADDR:
		if (s != NULL)
			return addr_in_prefix(k->family, k->addr, s, -1);
		if (json_is_object(v) && json_is_object(x =
		    json_object_get(v, "prefix"))) {
			const char *a = jstr(x, "addr");
			json_t *l = json_object_get(x, "len");

			if (a == NULL || !json_is_integer(l))
				return -1;
			return addr_in_prefix(k->family, k->addr, a,
			    (long)json_integer_value(l));
		}
		if (json_is_object(v) && json_is_array(x = json_object_get(v,
		    "range")) && json_array_size(x) == 2) {
			const char *lo = json_string_value(json_array_get(x,
			    0)), *hi = json_string_value(json_array_get(x, 1));
			int a, b;

			if (lo == NULL || hi == NULL)
				return -1;
			a = addr_cmp(k->family, k->addr, lo);
			b = addr_cmp(k->family, k->addr, hi);
			if (a == -2 || b == -2)
				return -1;
			return a >= 0 && b <= 0;
		}
		return -1;
	case K_NAME:
		if (s != NULL)
			return strcmp(s, k->name) == 0;
		return -1;
	}
	return -1;
}

static int
set_holds(const struct pdx_ruleset *rs, const struct pkt *p, json_t *set,
    const struct key *k, json_t **data, int depth)
{
	size_t i;
	json_t *e;
	int r, unsure = 0;

	if (set == NULL)
		return 0;		/* an empty named set */
	if (!json_is_array(set))
		return value_holds(rs, p, set, k, data, depth);
	json_array_foreach(set, i, e) {
		r = value_holds(rs, p, e, k, data, depth);
		if (r == 1)
			return 1;
		if (r < 0)
			unsure = 1;
	}
	return unsure ? -1 : 0;
}

/* Short text of a value, for the conditions named in a verdict. */
static void
value_text(json_t *v, char *buf, size_t size)
{
	const char *s = json_string_value(v);
	json_t *x;
	size_t i, len;

	if (s != NULL) {
		snprintf(buf, size, "%s", s);
		return;
	}
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return;
	}
	if (json_is_object(v) && json_is_object(x = json_object_get(v,
	    "prefix"))) {
		snprintf(buf, size, "%s/%lld", jstr(x, "addr") != NULL ?
		    jstr(x, "addr") : "?",
		    (long long)json_integer_value(json_object_get(x, "len")));
		return;
	}
	if (json_is_object(v) && json_is_array(x = json_object_get(v,
	    "range")) && json_array_size(x) == 2) {
		char a[64], b[64];

		value_text(json_array_get(x, 0), a, sizeof a);
		value_text(json_array_get(x, 1), b, sizeof b);
		if (snprintf(buf, size, "%s-%s", a, b) >= (int)size)
			buf[size - 1] = '\0';	/* cut, as the caller's room is */
		return;
	}
	if (json_is_object(v) && (x = json_object_get(v, "set")) != NULL &&
	    json_is_array(x)) {
		snprintf(buf, size, "{ ");
		json_array_foreach(x, i, v) {
			len = strlen(buf);
			if (len + 8 >= size)
				break;
			value_text(v, buf + len, size - len);
			len = strlen(buf);
			if (i + 1 < json_array_size(x) && len + 3 < size)
				strcat(buf, ", ");
		}
		len = strlen(buf);
		if (len + 3 < size)
			strcat(buf, " }");
		return;
	}
	snprintf(buf, size, "(value)");
}

/* ---- one rule --------------------------------------------------------- */

/* What a match (or a whole rule's matches) says about the packet. */
enum { M_TRUE, M_FALSE, M_SRC, M_UNK };

struct mres {
	int	r;
	char	why[256];	/* M_SRC: the condition; M_UNK: the reason */
};

static int
is_transport(const char *proto)
{
	return strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 ||
	    strcmp(proto, "sctp") == 0 || strcmp(proto, "dccp") == 0 ||
	    strcmp(proto, "udplite") == 0 || strcmp(proto, "icmp") == 0 ||
	    strcmp(proto, "icmpv6") == 0 || strcmp(proto, "th") == 0;
}

/* Applies the operator to a membership answer (1/0). */
static int
apply_op(const char *op, int in)
{
	if (strcmp(op, "!=") == 0)
		return in ? M_FALSE : M_TRUE;
	return in ? M_TRUE : M_FALSE;
}

/*
 * What a match's left side gave: an answer in res (MD_DONE), a key to
 * look up in the right side (MD_LOOKUP), or a right side that could not
 * be read (MD_UNREADABLE).
 */
enum { MD_DONE, MD_LOOKUP, MD_UNREADABLE };

/* ip saddr: a condition on the source, named with the set's elements. */
static void
match_saddr(const struct pdx_ruleset *rs, const struct pkt *p,
    const char *proto, const char *op, json_t *right, struct mres *res)
{
	char vt[200];

	value_text(right, vt, sizeof vt);
	if (json_is_string(right) && json_string_value(right)[0] == '@') {
		/* name the set's elements too */
		json_t *set = find_set(rs, p->tfamily, p->table,
		    json_string_value(right) + 1), *tmp = json_pack("{s:O?}",
		    "set", json_object_get(set, "elem"));
		size_t l = strlen(vt);

		if (tmp != NULL && l + 2 < sizeof vt) {
			vt[l++] = ' ';
			value_text(tmp, vt + l, sizeof vt - l);
		}
		json_decref(tmp);
	}
	res->r = M_SRC;
	snprintf(res->why, sizeof res->why, "%s saddr %s%s", proto,
	    strcmp(op, "!=") == 0 ? "!= " : "", vt);
}

/* A payload match: transport ports, IP addresses and protocols. */
static int
match_payload(const struct pdx_ruleset *rs, const struct pkt *p, json_t *x,
    const char *op, json_t *right, struct key *k, struct mres *res)
{
	const char *proto = jstr(x, "protocol"), *field = jstr(x, "field");
	int fam;

	if (proto == NULL || field == NULL) {
		snprintf(res->why, sizeof res->why, "a raw payload match");
		return MD_DONE;
	}
	if (is_transport(proto)) {
		if (strcmp(proto, "th") != 0 && l4_by_name(proto) != p->l4) {
			res->r = M_FALSE;
			return MD_DONE;
		}
		if (strcmp(field, "dport") == 0) {
			k->kind = K_PORT;
			k->num = (long)p->dport;
			return MD_LOOKUP;
		}
		snprintf(res->why, sizeof res->why, "%s %s", proto, field);
		return MD_DONE;
	}
	if (strcmp(proto, "ip") != 0 && strcmp(proto, "ip6") != 0) {
		snprintf(res->why, sizeof res->why, "%s %s", proto, field);
		return MD_DONE;
	}
	fam = proto[2] == '6' ? AF_INET6 : AF_INET;
	if (fam != p->family) {
		res->r = M_FALSE;
		return MD_DONE;
	}
	if (strcmp(field, "saddr") == 0) {
		match_saddr(rs, p, proto, op, right, res);
		return MD_DONE;
	}
	if (strcmp(field, "daddr") == 0) {
		if (p->daddr == NULL) {
			snprintf(res->why, sizeof res->why, "%s daddr with a "
			    "socket on every address", proto);
			return MD_DONE;
		}
		k->kind = K_ADDR;
		k->family = fam;
		k->addr = p->daddr;
		return MD_LOOKUP;
	}
	if (strcmp(field, "protocol") == 0 || strcmp(field, "nexthdr") == 0) {
		k->kind = K_L4;
		k->num = p->l4;
		return MD_LOOKUP;
	}
	snprintf(res->why, sizeof res->why, "%s %s", proto, field);
	return MD_DONE;
}

/* A meta match: the layer 4 protocol, the family, the input interface. */
static int
match_meta(const struct pdx_ruleset *rs, const struct pkt *p, json_t *x,
    const char *op, json_t *right, struct key *k, struct mres *res)
{
	const char *key = jstr(x, "key");
	char vt[200];

	if (key == NULL)
		key = "?";
	if (strcmp(key, "l4proto") == 0) {
		k->kind = K_L4;
		k->num = p->l4;
		return MD_LOOKUP;
	}
	if (strcmp(key, "nfproto") == 0 || strcmp(key, "protocol") == 0) {
		k->kind = K_NAME;
		k->name = strcmp(key, "nfproto") == 0 ?
		    (p->family == AF_INET ? "ipv4" : "ipv6") :
		    (p->family == AF_INET ? "ip" : "ip6");
		return MD_LOOKUP;
	}
	if (strcmp(key, "iif") == 0 || strcmp(key, "iifname") == 0 ||
	    strcmp(key, "iiftype") == 0) {
		/* the packet comes from anything but lo */
		k->kind = K_NAME;
		k->name = strcmp(key, "iiftype") == 0 ? "loopback" : "lo";
		if (set_holds(rs, p, right, k, NULL, 0) == 1 &&
		    (json_is_string(right) || (json_is_object(right) &&
		    json_array_size(json_object_get(right, "set")) == 1))) {
			/* exactly lo: never our packet */
			res->r = apply_op(op, 0);
			return MD_DONE;
		}
		value_text(right, vt, sizeof vt);
		snprintf(res->why, sizeof res->why, "meta %s %s%s", key,
		    strcmp(op, "!=") == 0 ? "!= " : "", vt);
		return MD_DONE;
	}
	snprintf(res->why, sizeof res->why, "meta %s", key);
	return MD_DONE;
}

/* A conntrack match: a new connection, in the original direction. */
static int
match_ct(const struct pdx_ruleset *rs, const struct pkt *p, json_t *x,
    const char *op, json_t *right, struct key *k, struct mres *res)
{
	const char *key = jstr(x, "key");
	int in;

	if (key != NULL && strcmp(key, "state") == 0) {
		k->kind = K_NAME;
		k->name = "new";
		return MD_LOOKUP;
	}
	if (key != NULL && strcmp(key, "status") == 0) {
		/* a DNAT destination sees "dnat"; a listener not */
		k->kind = K_NAME;
		k->name = p->hook == HOOK_FORWARD ? "dnat" : "-";
		in = set_holds(rs, p, right, k, NULL, 0);
		if (in < 0)
			return MD_UNREADABLE;
		if (p->hook != HOOK_FORWARD && in == 0) {
			res->r = apply_op(op, 0);
			return MD_DONE;
		}
		snprintf(res->why, sizeof res->why, "ct status");
		return MD_DONE;
	}
	if (key != NULL && strcmp(key, "direction") == 0) {
		k->kind = K_NAME;
		k->name = "original";
		return MD_LOOKUP;
	}
	snprintf(res->why, sizeof res->why, "ct %s", key != NULL ? key : "?");
	return MD_DONE;
}

/* A fib match: a reverse-path check, or the destination's address type. */
static int
match_fib(const struct pkt *p, json_t *x, json_t *right, struct key *k,
    struct mres *res)
{
	json_t *fl = json_object_get(x, "flags");
	const char *result = jstr(x, "result");
	char *txt = json_dumps(fl, JSON_COMPACT);
	int saddr = txt != NULL && strstr(txt, "saddr") != NULL;
	int daddr = txt != NULL && strstr(txt, "daddr") != NULL;

	free(txt);
	if (saddr) {
		/* reverse-path checks: a property of the source */
		res->r = M_SRC;
		snprintf(res->why, sizeof res->why, "the source failing a "
		    "reverse-path (fib saddr) check");
		return MD_DONE;
	}
	if (daddr && result != NULL && strcmp(result, "type") == 0) {
		k->kind = K_NAME;
		k->name = p->hook == HOOK_FORWARD ? "unicast" : "local";
		if (p->hook == HOOK_FORWARD || p->daddr != NULL ||
		    json_is_string(right))
			return MD_LOOKUP;
	}
	snprintf(res->why, sizeof res->why, "a fib lookup");
	return MD_DONE;
}

static void
match_one(const struct pdx_ruleset *rs, const struct pkt *p, json_t *m,
    struct mres *res)
{
	const char *op = jstr(m, "op");
	json_t *left = json_object_get(m, "left"), *right =
	    json_object_get(m, "right"), *x;
	const char *what;
	struct key k;
	int in, md;
	char vt[200];

	memset(&k, 0, sizeof k);
	res->r = M_UNK;
	res->why[0] = '\0';
	if (op == NULL || left == NULL || right == NULL) {
		snprintf(res->why, sizeof res->why, "a malformed match");
		return;
	}
	if (strcmp(op, "==") != 0 && strcmp(op, "!=") != 0 &&
	    strcmp(op, "in") != 0) {
		snprintf(res->why, sizeof res->why, "the comparison '%s'", op);
		return;
	}
	if ((x = json_object_get(left, "payload")) != NULL)
		md = match_payload(rs, p, x, op, right, &k, res);
	else if ((x = json_object_get(left, "meta")) != NULL)
		md = match_meta(rs, p, x, op, right, &k, res);
	else if ((x = json_object_get(left, "ct")) != NULL)
		md = match_ct(rs, p, x, op, right, &k, res);
	else if ((x = json_object_get(left, "fib")) != NULL)
		md = match_fib(p, x, right, &k, res);
	else {
		what = json_object_iter_key(json_object_iter(left));
		snprintf(res->why, sizeof res->why, "a match on %s",
		    what != NULL ? what : "an expression");
		return;
	}
	if (md == MD_DONE)
		return;
	if (md == MD_LOOKUP &&
	    (in = set_holds(rs, p, right, &k, NULL, 0)) >= 0) {
		res->r = apply_op(op, in);
		return;
	}
	value_text(right, vt, sizeof vt);
	snprintf(res->why, sizeof res->why, "a value it cannot read (%s)",
	    vt);
}

enum { V_NONE, V_ACCEPT, V_DROP, V_RETURN, V_JUMP, V_GOTO, V_UNKNOWN };

struct rres {
	int		 m;		/* M_TRUE, M_FALSE, M_SRC, M_UNK */
	char		 why[256];
	int		 v;		/* V_* */
	const char	*target;	/* V_JUMP, V_GOTO */
};

static void
add_why(char *buf, size_t size, const char *sep, const char *s)
{
	size_t len = strlen(buf);

	if (len > 0 && len + strlen(sep) < size) {
		strcat(buf, sep);
		len = strlen(buf);
	}
	snprintf(buf + len, size - len, "%s", s);
}

/* A verdict object ({"accept": null}, {"jump": {"target": "x"}}). */
static int
verdict_of(json_t *o, struct rres *r)
{
	json_t *x;

	if (!json_is_object(o))
		return -1;
	if (json_object_get(o, "accept") != NULL)
		return r->v = V_ACCEPT;
	if (json_object_get(o, "drop") != NULL ||
	    json_object_get(o, "reject") != NULL)
		return r->v = V_DROP;
	if (json_object_get(o, "return") != NULL)
		return r->v = V_RETURN;
	if (json_object_get(o, "continue") != NULL)
		return r->v = V_NONE;
	if ((x = json_object_get(o, "jump")) != NULL ||
	    (x = json_object_get(o, "goto")) != NULL) {
		r->target = jstr(x, "target");
		if (r->target == NULL)
			return -1;
		return r->v = json_object_get(o, "jump") != NULL ? V_JUMP :
		    V_GOTO;
	}
	if (json_object_get(o, "queue") != NULL) {
		snprintf(r->why, sizeof r->why, "a queue to user space");
		return r->v = V_UNKNOWN;
	}
	return -1;
}

/* The key of a verdict map, for the packet; -1: cannot tell. */
static int
vmap_key(const struct pkt *p, json_t *e, struct key *k, int *nomatch)
{
	json_t *x;

	*nomatch = 0;
	if ((x = json_object_get(e, "payload")) != NULL) {
		const char *proto = jstr(x, "protocol"), *f = jstr(x, "field");

		if (proto == NULL || f == NULL || !is_transport(proto) ||
		    strcmp(f, "dport") != 0)
			return -1;
		if (strcmp(proto, "th") != 0 && l4_by_name(proto) != p->l4) {
			*nomatch = 1;
			return 0;
		}
		k->kind = K_PORT;
		k->num = (long)p->dport;
		return 0;
	}
	if ((x = json_object_get(e, "meta")) != NULL && jstr(x, "key") !=
	    NULL && strcmp(jstr(x, "key"), "l4proto") == 0) {
		k->kind = K_L4;
		k->num = p->l4;
		return 0;
	}
	return -1;
}

static void
eval_rule(const struct pdx_ruleset *rs, const struct pkt *p, json_t *rule,
    struct rres *r)
{
	json_t *st;
	size_t i;
	const char *name;

	memset(r, 0, sizeof *r);
	r->m = M_TRUE;
	json_array_foreach(json_object_get(rule, "expr"), i, st) {
		name = json_object_iter_key(json_object_iter(st));
		if (name == NULL) {
			r->m = M_UNK;
			snprintf(r->why, sizeof r->why, "an empty statement");
			return;
		}
		if (strcmp(name, "match") == 0) {
			struct mres mr;

			match_one(rs, p, json_object_get(st, "match"), &mr);
			if (mr.r == M_FALSE) {
				r->m = M_FALSE;
				return;
			}
			if (mr.r == M_UNK && r->m != M_UNK) {
				r->m = M_UNK;
				snprintf(r->why, sizeof r->why, "%s", mr.why);
			} else if (mr.r == M_SRC && r->m != M_UNK) {
				r->m = M_SRC;
				add_why(r->why, sizeof r->why, " and ", mr.why);
			}
			continue;
		}
		if (strcmp(name, "counter") == 0 || strcmp(name, "log") == 0 ||
		    strcmp(name, "mangle") == 0 || strcmp(name, "notrack") ==
		    0 || strcmp(name, "dnat") == 0 || strcmp(name, "snat") ==
		    0 || strcmp(name, "masquerade") == 0 || strcmp(name,
		    "redirect") == 0 || strcmp(name, "set") == 0 ||
		    strcmp(name, "ct helper") == 0)
			continue;
		if (strcmp(name, "vmap") == 0) {
			json_t *vm = json_object_get(st, "vmap"), *data = NULL,
			    *d = json_object_get(vm, "data");
			struct key k;
			int nomatch, in;
			struct pkt q = *p;

			memset(&k, 0, sizeof k);
			if (vmap_key(p, json_object_get(vm, "key"), &k,
			    &nomatch) < 0) {
				r->m = M_UNK;
				snprintf(r->why, sizeof r->why, "a verdict map "
				    "on a key it cannot evaluate");
				return;
			}
			if (nomatch) {
				r->m = M_FALSE;
				return;
			}
			in = json_is_string(d) ? value_holds(rs, &q, d, &k,
			    &data, 0) : set_holds(rs, &q,
			    json_object_get(d, "set"), &k, &data, 0);
			if (in < 0 || (in == 1 && verdict_of(data, r) < 0)) {
				r->m = M_UNK;
				snprintf(r->why, sizeof r->why, "a verdict map "
				    "it cannot read");
				r->v = V_NONE;
				return;
			}
			if (in == 0) {
				r->m = M_FALSE;
				return;
			}
			return;
		}
		if (strcmp(name, "xt") == 0) {
			const char *t = jstr(json_object_get(st, "xt"), "type"),
			    *n = jstr(json_object_get(st, "xt"), "name");

			if (t != NULL && n != NULL && strcmp(t, "target") ==
			    0 && strcmp(n, "REJECT") == 0) {
				r->v = V_DROP;
				return;
			}
			if (r->m != M_UNK) {
				r->m = M_UNK;
				snprintf(r->why, sizeof r->why, "the iptables "
				    "%s '%s', which nftables does not show",
				    t != NULL ? t : "extension",
				    n != NULL ? n : "?");
			}
			if (t != NULL && strcmp(t, "target") == 0) {
				r->v = V_UNKNOWN;
				return;
			}
			continue;
		}
		{
			struct rres tmp;

			memset(&tmp, 0, sizeof tmp);
			if (verdict_of(st, &tmp) >= 0) {
				r->v = tmp.v;
				r->target = tmp.target;
				if (tmp.v == V_UNKNOWN && r->m != M_UNK)
					snprintf(r->why, sizeof r->why, "%s",
					    tmp.why);
				return;
			}
		}
		if (r->m != M_UNK) {
			r->m = M_UNK;
			snprintf(r->why, sizeof r->why, "the statement '%s'",
			    name);
		}
	}
}

/* ---- paths through the chains ------------------------------------------ */

#define MAX_DEPTH	16
#define MAX_OUTCOMES	128

struct outcome {
	int	v;		/* V_ACCEPT, V_DROP, V_UNKNOWN */
	int	ck;		/* M_TRUE (unconditional), M_SRC, M_UNK */
	char	cond[256];
	char	rule[192];
	char	why[256];	/* V_UNKNOWN: the reason */
};

struct walk {
	const struct pdx_ruleset *rs;
	struct pkt		*p;
	struct outcome		 o[MAX_OUTCOMES];
	size_t			 no;
	long			 budget;
	int			 overflow;
	char			 overflow_rule[192];
};

struct frame {
	const struct fw_chain	*c;
	size_t			 idx;
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
				    sizeof w->overflow_rule, "table %s %s "
				    "chain %s", f->c->family, f->c->table,
				    f->c->name);
			w->overflow = 1;
			return;
		}
		if (f->c->rules == NULL || f->idx >= json_array_size(
		    f->c->rules)) {
			depth--;	/* end of a chain: back to the caller */
			continue;
		}
		if (f->c->pre != NULL && pre_false(w->rs, &f->c->pre[f->idx],
		    w->p->l4, w->p->dport)) {
			f->idx++;	/* the rule's port match refuses it */
			continue;
		}
		rule = json_array_get(f->c->rules, f->idx++);
		eval_rule(w->rs, w->p, rule, &r);
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
				add_why(c2, sizeof c2, " and ", r.why);
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
					const struct fw_chain *t = find_chain(
					    w->rs, f->c->family, f->c->table,
					    r.target);
					int d2 = v == V_GOTO ? depth - 1 :
					    depth;

					if (t == NULL || d2 >= MAX_DEPTH) {
						record(w, V_UNKNOWN, ck2, c2,
						    name, "a jump to a chain "
						    "not found, or too deep");
					} else {
						s2[d2].c = t;
						s2[d2].idx = 0;
						walk_path(w, s2, d2 + 1, ck2,
						    c2);
					}
				}
			}
			continue;	/* the path where it does not */
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
			const struct fw_chain *t = find_chain(w->rs,
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
		snprintf(out->detail, sizeof out->detail, "too many "
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
			    o->ck == M_UNK ? (o->why[0] != '\0' ? o->why :
			    o->cond) : o->why);
			return;
		}
		if (o->ck == M_SRC && o->v != main->v)
			add_why(srcs, sizeof srcs, "; ", o->cond);
	}
	if (main->v == V_ACCEPT) {
		out->reach = PDX_REACH_OPEN;
		snprintf(out->rule, sizeof out->rule, "%s", main->rule);
		if (srcs[0] != '\0')
			snprintf(out->detail, sizeof out->detail, "except %.480s",
			    srcs);
		return;
	}
	out->reach = srcs[0] != '\0' ? PDX_REACH_RESTRICTED :
	    PDX_REACH_FILTERED;
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
				add_why(restricted, sizeof restricted,
				    " and ", cv.detail);
				if (!restricted_seen)
					snprintf(last_accept, sizeof
					    last_accept, "%s", cv.rule);
				restricted_seen = 1;
			}
			if (cv.reach == PDX_REACH_OPEN) {
				if (cv.detail[0] != '\0')
					add_why(open_detail, sizeof open_detail,
					    "; ", cv.detail);
				if (!restricted_seen)
					snprintf(last_accept, sizeof
					    last_accept, "%s", cv.rule);
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
		snprintf(v->detail, sizeof v->detail, "ingress chains of "
		    "family netdev are not evaluated");
	}
	if ((v->reach == PDX_REACH_OPEN || v->reach == PDX_REACH_RESTRICTED) &&
	    rs->legacy != NULL) {
		v->reach = PDX_REACH_UNKNOWN;
		v->rule[0] = '\0';
		snprintf(v->detail, sizeof v->detail, "legacy iptables tables "
		    "(%s) were not evaluated", rs->legacy);
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
	return proto == PDX_TCP ? 6 : proto == PDX_UDP ? 17 :
	    proto == PDX_SCTP ? 132 : proto == PDX_DCCP ? 33 : 0;
}

void
pdx_firewall_judge(const struct pdx_ruleset *rs, int family, int proto,
    const uint8_t *laddr, unsigned port, int v6only,
    struct pdx_verdict *out, struct pdx_verdict *v4)
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
	if (family == AF_INET6 && !wild && memcmp(laddr,
	    "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		p.family = AF_INET;	/* a v4-mapped address */
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
	    pdx_reach_name(v->reach),
	    "rule", v->rule[0] != '\0' ? v->rule : NULL,
	    "detail", v->detail[0] != '\0' ? v->detail : NULL);
}

/* ---- published ports --------------------------------------------------- */

#define MAX_PUBLISHED	4096

struct pubwalk {
	const struct pdx_ruleset *rs;
	struct pdx_published	*v;
	size_t			 n, cap;
	int			 oom;
	long			 budget;
};

static void
pub_add(struct pubwalk *pw, const struct fw_chain *c, json_t *rule,
    int l4, long lo, long hi, json_t *nat, const char *kind)
{
	struct pdx_published *e, *nv;
	json_t *a = json_object_get(nat, "addr"), *port =
	    json_object_get(nat, "port");
	const char *fam = jstr(nat, "family");

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
	e->proto = l4 == 6 ? PDX_TCP : l4 == 17 ? PDX_UDP : l4 == 132 ?
	    PDX_SCTP : l4 == 33 ? PDX_DCCP : 0;
	e->port_lo = (unsigned)lo;
	e->port_hi = (unsigned)hi;
	snprintf(e->kind, sizeof e->kind, "%s", kind);
	if (json_is_string(a))
		snprintf(e->to_addr, sizeof e->to_addr, "%s",
		    json_string_value(a));
	else if (a != NULL)
		value_text(a, e->to_addr, sizeof e->to_addr);
	if (json_is_integer(port))
		e->to_port = (unsigned)json_integer_value(port);
	if (strcmp(c->family, "ip") == 0 || (fam != NULL && strcmp(fam,
	    "ip") == 0))
		e->family = AF_INET;
	else if (strcmp(c->family, "ip6") == 0 || (fam != NULL &&
	    strcmp(fam, "ip6") == 0) || strchr(e->to_addr, ':') != NULL)
		e->family = AF_INET6;
	else if (e->to_addr[0] != '\0')
		e->family = AF_INET;
	rule_name(c, rule, e->rule, sizeof e->rule);
}

/* Each port (or range) of a dport value: a number, range, set, @set. */
static void
pub_ports(struct pubwalk *pw, const struct fw_chain *c, json_t *rule,
    int l4, json_t *ports, json_t *nat, const char *kind, int depth)
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
		json_t *set = find_set(pw->rs, c->family, c->table, s + 1);

		json_array_foreach(json_object_get(set, "elem"), i, e)
			pub_ports(pw, c, rule, l4, e, nat, kind, depth + 1);
		return;
	}
	if (json_is_object(ports) && json_is_array(x = json_object_get(ports,
	    "set"))) {
		json_array_foreach(x, i, e)
			pub_ports(pw, c, rule, l4, e, nat, kind, depth + 1);
		return;
	}
	if (json_is_object(ports) && (x = json_object_get(ports, "elem")) !=
	    NULL) {
		pub_ports(pw, c, rule, l4, json_object_get(x, "val"), nat,
		    kind, depth + 1);
		return;
	}
	if (json_is_object(ports) && json_is_array(x = json_object_get(ports,
	    "range")) && json_array_size(x) == 2) {
		pub_add(pw, c, rule, l4, port_number(json_array_get(x, 0)),
		    port_number(json_array_get(x, 1)), nat, kind);
		return;
	}
	pub_add(pw, c, rule, l4, port_number(ports), port_number(ports), nat,
	    kind);
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
	json_array_foreach(c->rules, i, rule) {
		int rl4 = l4;
		json_t *rports = ports;

		if (--pw->budget < 0)
			return;
		json_array_foreach(json_object_get(rule, "expr"), j, st) {
			json_t *m = json_object_get(st, "match"), *left, *x;
			const char *name;

			if (m != NULL) {
				left = json_object_get(m, "left");
				if (jstr(m, "op") != NULL && strcmp(jstr(m,
				    "op"), "!=") == 0)
					continue;
				if ((x = json_object_get(left, "payload")) !=
				    NULL && jstr(x, "field") != NULL &&
				    strcmp(jstr(x, "field"), "dport") == 0 &&
				    jstr(x, "protocol") != NULL) {
					if (strcmp(jstr(x, "protocol"), "th"))
						rl4 = l4_by_name(jstr(x,
						    "protocol"));
					rports = json_object_get(m, "right");
				} else if ((x = json_object_get(left,
				    "meta")) != NULL && jstr(x, "key") !=
				    NULL && strcmp(jstr(x, "key"),
				    "l4proto") == 0) {
					int n4 = l4_number(json_object_get(m,
					    "right"));

					if (l4 != 0 && n4 >= 0 && n4 != l4)
						break;	/* not this path's */
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
				const struct fw_chain *t = find_chain(pw->rs,
				    c->family, c->table, jstr(json_object_get(
				    st, name), "target"));

				if (t != NULL)
					pub_walk(pw, t, rl4, rports, depth + 1);
				break;
			}
			if (strcmp(name, "vmap") == 0) {
				/* kube-proxy's load balancing: every branch */
				json_t *d = json_object_get(json_object_get(st,
				    "vmap"), "data"), *el, *vd;
				size_t q;

				if (json_is_string(d) && json_string_value(
				    d)[0] == '@')
					d = json_object_get(find_set(pw->rs,
					    c->family, c->table,
					    json_string_value(d) + 1), "elem");
				else
					d = json_object_get(d, "set");
				json_array_foreach(d, q, el) {
					const struct fw_chain *t;

					vd = json_array_get(el, 1);
					if ((x = json_object_get(vd, "jump")) ==
					    NULL && (x = json_object_get(vd,
					    "goto")) == NULL)
						continue;
					t = find_chain(pw->rs, c->family,
					    c->table, jstr(x, "target") != NULL ?
					    jstr(x, "target") : "");
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
pdx_firewall_published(const struct pdx_ruleset *rs,
    struct pdx_published **out, size_t *n)
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
	    "family", e->family == AF_INET ? "ipv4" : e->family == AF_INET6 ?
	    "ipv6" : "any",
	    "port", (json_int_t)e->port_lo, "port_end", (json_int_t)e->port_hi,
	    "kind", e->kind,
	    "to_address", e->to_addr[0] != '\0' ? e->to_addr : NULL,
	    "to_port", (json_int_t)(e->to_port != 0 ? e->to_port : e->port_lo),
	    "rule", e->rule);

	if (o != NULL)
		json_object_set_new(o, "reach", pdx_verdict_json(&e->reach));
	return o;
}

/* ---- reading ------------------------------------------------------------ */

/* Names of the legacy xtables tables in /proc/net (this namespace). */
static char *
legacy_tables(void)
{
	static const char *const files[] = {
		"/proc/net/ip_tables_names", "/proc/net/ip6_tables_names"
	};
	char buf[256] = "", line[64];
	size_t i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		if ((f = fopen(files[i], "re")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] == '\0')
				continue;
			add_why(buf, sizeof buf, " ", i == 0 ? "ip_tables:" :
			    "ip6_tables:");
			add_why(buf, sizeof buf, "", line);
		}
		fclose(f);
	}
	return buf[0] != '\0' ? strdup(buf) : NULL;
}

static struct pdx_ruleset *unread(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* A ruleset that could not be read, carrying the reason. */
static struct pdx_ruleset *
unread(const char *fmt, ...)
{
	struct pdx_ruleset *rs = calloc(1, sizeof *rs);
	char msg[512];
	va_list ap;

	if (rs == NULL) {
		pdx_set_error("out of memory");
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if ((rs->error = strdup(msg)) == NULL) {
		free(rs);
		pdx_set_error("out of memory");
		return NULL;
	}
	return rs;
}

#ifdef __linux__
/* Does this process have CAP_NET_ADMIN (bit 12 of CapEff)? */
static int
net_admin(void)
{
	char line[256];
	unsigned long long caps;
	int yes = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return geteuid() == 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			yes = (caps >> 12) & 1;
			break;
		}
	fclose(f);
	return yes;
}

static int
count_table(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(*(int *)arg)++;
	return MNL_CB_OK;
}

/*
 * The number of nf_tables tables in this namespace, asked over netlink
 * directly: loading libnftables costs milliseconds, and a machine with
 * no tables has nothing for it to read.  -1 when it cannot tell.
 */
static int
nft_table_count(void)
{
	struct mnl_socket *nl;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned seq = 1, portid;
	int n = 0, rc;
	ssize_t len;

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return -1;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		mnl_socket_close(nl);
		return -1;
	}
	rc = MNL_CB_OK;
	while (rc > 0 && (len = mnl_socket_recvfrom(nl, buf, sizeof buf)) > 0)
		rc = mnl_cb_run(buf, (size_t)len, seq, portid, count_table, &n);
	mnl_socket_close(nl);
	return rc < 0 ? -1 : n;
}
#endif

#ifdef PDX_HAVE_NFTABLES
/* The ruleset of the current namespace. */
static struct pdx_ruleset *
read_here(void)
{
	struct nft_ctx *nft;
	struct pdx_ruleset *rs;
	const char *out, *err;
	char *legacy = legacy_tables();

	if (!net_admin()) {
		free(legacy);
		return unread("the packet filter was not read: %s%s",
		    "reading it needs CAP_NET_ADMIN", " (run as root)");
	}
	if (nft_table_count() == 0) {
		/* no tables: no rules, nothing for libnftables to load */
		rs = pdx_ruleset_parse("{\"nftables\": []}", 16);
		if (rs != NULL)
			rs->legacy = legacy;
		else
			free(legacy);
		return rs;
	}
	if ((nft = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		free(legacy);
		return unread("the packet filter was not read: %s%s",
		    pdx_last_error(), "");
	}
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON |
	    NFT_CTX_OUTPUT_HANDLE);
	if (nft_ctx_buffer_output(nft) != 0 ||
	    nft_ctx_buffer_error(nft) != 0) {
		nft_ctx_free(nft);
		free(legacy);
		return unread("the packet filter was not read: %s%s",
		    "libnftables could not buffer its output", "");
	}
	if (nft_run_cmd_from_buffer(nft, "list ruleset") != 0) {
		int e = errno;

		err = nft_ctx_get_error_buffer(nft);
		rs = unread("the packet filter was not read: %s%s",
		    err != NULL && *err != '\0' ? err : strerror(e),
		    geteuid() != 0 ? " (needs CAP_NET_ADMIN, e.g. root)" : "");
		if (rs != NULL && rs->error != NULL)
			rs->error[strcspn(rs->error, "\n")] = '\0';
		nft_ctx_free(nft);
		free(legacy);
		return rs;
	}
	out = nft_ctx_get_output_buffer(nft);
	rs = pdx_ruleset_parse(out != NULL ? out : "", out != NULL ?
	    strlen(out) : 0);
	if (rs == NULL && out != NULL && *out == '\0')
		rs = pdx_ruleset_parse("{\"nftables\": []}", 16);
	nft_ctx_free(nft);
	if (rs == NULL) {
		free(legacy);
		return unread("the packet filter was not read: %s%s",
		    pdx_last_error(), "");
	}
	rs->legacy = legacy;
	return rs;
}
#endif

struct pdx_ruleset *
pdx_ruleset_read(const char *netns)
{
#ifdef PDX_HAVE_NFTABLES
	struct pdx_ruleset *rs;
	int saved = -1;

	if (netns != NULL && (saved = pdx_netns_enter(netns)) < 0)
		return unread("the packet filter was not read: %s%s",
		    pdx_last_error(), "");
	rs = read_here();
	if (saved >= 0 && pdx_netns_leave(saved) < 0) {
		pdx_ruleset_free(rs);
		return NULL;
	}
	return rs;
#else
	(void)netns;
	return unread("the packet filter was not read: %s%s",
	    "portdex was built without libnftables", "");
#endif
}
