/*
 * firewall-rule.c - what one rule says about one packet: the values
 * it compares (ports, addresses, names, sets, maps, prefixes and ranges),
 * each match (true, false, true for some sources, or not evaluable, and
 * why), and the rule's verdict.
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

/* ---- values ----------------------------------------------------------- */

int
fw_l4_by_name(const char *s)
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

int
fw_l4_number(json_t *v)
{
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_string_value(v) == NULL)
		return -1;
	return fw_l4_by_name(json_string_value(v));
}

/* A port value: number, or a string of digits; -1 otherwise. */
long
fw_port_number(json_t *v)
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
		json_t *set = fw_find_set(rs, p->tfamily, p->table, s + 1);

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
		if (json_is_object(v) &&
		    json_is_array(x = json_object_get(v, "range")) &&
		    json_array_size(x) == 2) {
			long lo = k->kind == K_PORT
			    ? fw_port_number(json_array_get(x, 0))
			    : fw_l4_number(json_array_get(x, 0));
			long hi = k->kind == K_PORT
			    ? fw_port_number(json_array_get(x, 1))
			    : fw_l4_number(json_array_get(x, 1));

			if (lo < 0 || hi < 0)
				return -1;
			return k->num >= lo && k->num <= hi;
		} else {
			long n = k->kind == K_PORT ? fw_port_number(v)
						   : fw_l4_number(v);

			if (n < 0)
				return -1;
			return n == k->num;
		}
	case K_ADDR:
		if (s != NULL)
			return addr_in_prefix(k->family, k->addr, s, -1);
		if (json_is_object(v) &&
		    json_is_object(x = json_object_get(v, "prefix"))) {
			const char *a = fw_jstr(x, "addr");
			json_t *l = json_object_get(x, "len");

			if (a == NULL || !json_is_integer(l))
				return -1;
			return addr_in_prefix(k->family, k->addr, a,
			    (long)json_integer_value(l));
		}
		if (json_is_object(v) &&
		    json_is_array(x = json_object_get(v, "range")) &&
		    json_array_size(x) == 2) {
			const char *lo = json_string_value(
				       json_array_get(x, 0)),
				   *hi = json_string_value(
				       json_array_get(x, 1));
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
		return 0; /* an empty named set */
	if (!json_is_array(set))
		return value_holds(rs, p, set, k, data, depth);
	json_array_foreach(set, i, e)
	{
		r = value_holds(rs, p, e, k, data, depth);
		if (r == 1)
			return 1;
		if (r < 0)
			unsure = 1;
	}
	return unsure ? -1 : 0;
}

/* Short text of a value, for the conditions named in a verdict. */
void
fw_value_text(json_t *v, char *buf, size_t size)
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
	if (json_is_object(v) &&
	    json_is_object(x = json_object_get(v, "prefix"))) {
		snprintf(buf, size, "%s/%lld",
		    fw_jstr(x, "addr") != NULL ? fw_jstr(x, "addr") : "?",
		    (long long)json_integer_value(json_object_get(x, "len")));
		return;
	}
	if (json_is_object(v) &&
	    json_is_array(x = json_object_get(v, "range")) &&
	    json_array_size(x) == 2) {
		char a[64], b[64];

		fw_value_text(json_array_get(x, 0), a, sizeof a);
		fw_value_text(json_array_get(x, 1), b, sizeof b);
		if (snprintf(buf, size, "%s-%s", a, b) >= (int)size)
			buf[size - 1] = '\0'; /* cut, as the caller's room is */
		return;
	}
	if (json_is_object(v) && (x = json_object_get(v, "set")) != NULL &&
	    json_is_array(x)) {
		snprintf(buf, size, "{ ");
		json_array_foreach(x, i, v)
		{
			len = strlen(buf);
			if (len + 8 >= size)
				break;
			fw_value_text(v, buf + len, size - len);
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

int
fw_is_transport(const char *proto)
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

/* ip saddr: a condition on the source, named with the set's elements. */
static void
match_saddr(const struct pdx_ruleset *rs, const struct pkt *p,
    const char *proto, const char *op, json_t *right, struct mres *res)
{
	char vt[200];

	fw_value_text(right, vt, sizeof vt);
	if (json_is_string(right) && json_string_value(right)[0] == '@') {
		/* name the set's elements too */
		json_t *set = fw_find_set(rs, p->tfamily, p->table,
			   json_string_value(right) + 1),
		       *tmp = json_pack("{s:O?}", "set",
			   json_object_get(set, "elem"));
		size_t l = strlen(vt);

		if (tmp != NULL && l + 2 < sizeof vt) {
			vt[l++] = ' ';
			fw_value_text(tmp, vt + l, sizeof vt - l);
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
	const char *proto = fw_jstr(x, "protocol"),
		   *field = fw_jstr(x, "field");
	int fam;

	if (proto == NULL || field == NULL) {
		snprintf(res->why, sizeof res->why, "a raw payload match");
		return MD_DONE;
	}
	if (fw_is_transport(proto)) {
		if (strcmp(proto, "th") != 0 && fw_l4_by_name(proto) != p->l4) {
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
			snprintf(res->why, sizeof res->why,
			    "%s daddr with a "
			    "socket on every address",
			    proto);
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
	const char *key = fw_jstr(x, "key");
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
		k->name = strcmp(key, "nfproto") == 0
		    ? (p->family == AF_INET ? "ipv4" : "ipv6")
		    : (p->family == AF_INET ? "ip" : "ip6");
		return MD_LOOKUP;
	}
	if (strcmp(key, "iif") == 0 || strcmp(key, "iifname") == 0 ||
	    strcmp(key, "iiftype") == 0) {
		/* the packet comes from anything but lo */
		k->kind = K_NAME;
		k->name = strcmp(key, "iiftype") == 0 ? "loopback" : "lo";
		if (set_holds(rs, p, right, k, NULL, 0) == 1 &&
		    (json_is_string(right) ||
			(json_is_object(right) &&
			    json_array_size(json_object_get(right, "set")) ==
				1))) {
			/* exactly lo: never our packet */
			res->r = apply_op(op, 0);
			return MD_DONE;
		}
		fw_value_text(right, vt, sizeof vt);
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
	const char *key = fw_jstr(x, "key");
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
	const char *result = fw_jstr(x, "result");
	char *txt = json_dumps(fl, JSON_COMPACT);
	int saddr = txt != NULL && strstr(txt, "saddr") != NULL;
	int daddr = txt != NULL && strstr(txt, "daddr") != NULL;

	free(txt);
	if (saddr) {
		/* reverse-path checks: a property of the source */
		res->r = M_SRC;
		snprintf(res->why, sizeof res->why,
		    "the source failing a "
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
	const char *op = fw_jstr(m, "op");
	json_t *left = json_object_get(m, "left"),
	       *right = json_object_get(m, "right"), *x;
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
	fw_value_text(right, vt, sizeof vt);
	snprintf(res->why, sizeof res->why, "a value it cannot read (%s)", vt);
}

void
fw_add_why(char *buf, size_t size, const char *sep, const char *s)
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
		r->target = fw_jstr(x, "target");
		if (r->target == NULL)
			return -1;
		return r->v = json_object_get(o, "jump") != NULL ? V_JUMP
								 : V_GOTO;
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
		const char *proto = fw_jstr(x, "protocol"),
			   *f = fw_jstr(x, "field");

		if (proto == NULL || f == NULL || !fw_is_transport(proto) ||
		    strcmp(f, "dport") != 0)
			return -1;
		if (strcmp(proto, "th") != 0 && fw_l4_by_name(proto) != p->l4) {
			*nomatch = 1;
			return 0;
		}
		k->kind = K_PORT;
		k->num = (long)p->dport;
		return 0;
	}
	if ((x = json_object_get(e, "meta")) != NULL &&
	    fw_jstr(x, "key") != NULL &&
	    strcmp(fw_jstr(x, "key"), "l4proto") == 0) {
		k->kind = K_L4;
		k->num = p->l4;
		return 0;
	}
	return -1;
}

void
fw_eval_rule(const struct pdx_ruleset *rs, const struct pkt *p, json_t *rule,
    struct rres *r)
{
	json_t *st;
	size_t i;
	const char *name;

	memset(r, 0, sizeof *r);
	r->m = M_TRUE;
	json_array_foreach(json_object_get(rule, "expr"), i, st)
	{
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
				fw_add_why(r->why, sizeof r->why, " and ",
				    mr.why);
			}
			continue;
		}
		if (strcmp(name, "counter") == 0 || strcmp(name, "log") == 0 ||
		    strcmp(name, "mangle") == 0 ||
		    strcmp(name, "notrack") == 0 || strcmp(name, "dnat") == 0 ||
		    strcmp(name, "snat") == 0 ||
		    strcmp(name, "masquerade") == 0 ||
		    strcmp(name, "redirect") == 0 || strcmp(name, "set") == 0 ||
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
				snprintf(r->why, sizeof r->why,
				    "a verdict map "
				    "on a key it cannot evaluate");
				return;
			}
			if (nomatch) {
				r->m = M_FALSE;
				return;
			}
			in = json_is_string(d)
			    ? value_holds(rs, &q, d, &k, &data, 0)
			    : set_holds(rs, &q, json_object_get(d, "set"), &k,
				  &data, 0);
			if (in < 0 || (in == 1 && verdict_of(data, r) < 0)) {
				r->m = M_UNK;
				snprintf(r->why, sizeof r->why,
				    "a verdict map "
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
			const char *t = fw_jstr(json_object_get(st, "xt"),
				       "type"),
				   *n = fw_jstr(json_object_get(st, "xt"),
				       "name");

			if (t != NULL && n != NULL &&
			    strcmp(t, "target") == 0 &&
			    strcmp(n, "REJECT") == 0) {
				r->v = V_DROP;
				return;
			}
			if (r->m != M_UNK) {
				r->m = M_UNK;
				snprintf(r->why, sizeof r->why,
				    "the iptables "
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
