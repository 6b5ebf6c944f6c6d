/*
 * portdex/firewall.h - part of the libportdex API (see portdex.h): the
 * packet filter of this machine (or of a named network namespace) as
 * nftables reports it, the exposure verdict of a listener (can traffic
 * from a non-loopback interface reach it, and if not, which rule stops
 * it), and the ports published by DNAT/redirect rules.
 *
 * The ruleset is read through libnftables' JSON output, which includes
 * the rules iptables-nft writes; legacy xtables tables are detected and
 * reported as not evaluated.  The evaluator never guesses: a rule it
 * cannot evaluate that could change the answer makes it `unknown`,
 * naming the rule.
 */
#ifndef PORTDEX_FIREWALL_H
#define PORTDEX_FIREWALL_H
#include "portdex.h"

#include <stdint.h>

PDX_API_BEGIN

enum pdx_reach {
	PDX_REACH_NONE = 0,   /* not judged (not a listener) */
	PDX_REACH_LOOPBACK,   /* bound to 127.0.0.0/8 or ::1 */
	PDX_REACH_FILTERED,   /* a rule or policy drops or rejects it */
	PDX_REACH_RESTRICTED, /* accepted only from some sources */
	PDX_REACH_OPEN,	      /* the input path accepts it */
	PDX_REACH_UNKNOWN,    /* a rule portdex cannot evaluate decides */
};
/* "loopback", "filtered", ...; "-" for PDX_REACH_NONE. */
const char *pdx_reach_name(int reach);
/* The verdict named s, or -1 (and the error) for another word. */
int pdx_reach_parse(const char *s);

/* A ruleset read once and judged many times. */
struct pdx_ruleset;

/*
 * Reads the ruleset of the current network namespace, or of
 * /var/run/netns/NETNS, through libnftables (loaded on first use), and
 * notes legacy xtables tables.  Returns a ruleset (NULL only when out of
 * memory, with the error): one that could not be read (libnftables
 * missing, no CAP_NET_ADMIN, namespace not enterable) carries the reason
 * (pdx_ruleset_error) and every verdict it gives is `unknown` with it.
 */
struct pdx_ruleset *pdx_ruleset_read(const char *netns);
/*
 * Parses the text of `nft -j list ruleset` (len bytes, need not be
 * NUL-terminated).  Returns a ruleset, or NULL and an error naming what
 * is wrong (bad JSON, a table/chain/rule/set missing a field).
 */
struct pdx_ruleset *pdx_ruleset_parse(const char *json, size_t len);
void pdx_ruleset_free(struct pdx_ruleset *);
/* Why the ruleset could not be read, or NULL. */
const char *pdx_ruleset_error(const struct pdx_ruleset *);
/*
 * Legacy xtables tables present ("ip_tables: filter nat"), which were not
 * evaluated, or NULL.  Tests may set it with pdx_ruleset_set_legacy.
 */
const char *pdx_ruleset_legacy(const struct pdx_ruleset *);
void pdx_ruleset_set_legacy(struct pdx_ruleset *, const char *);
/* Number of rules read (all tables). */
size_t pdx_ruleset_rules(const struct pdx_ruleset *);

/* The verdict on one listener, or one half of a dual-stack socket. */
struct pdx_verdict {
	int reach; /* enum pdx_reach */
	/* The deciding rule: "table inet filter chain input handle 12",
	 * "table inet filter chain input policy drop", or "" */
	char rule[192];
	/* restricted: the sources allowed ("ip saddr 10.0.0.0/24", ...,
	 * joined by "; "); unknown: the reason; open: sources dropped
	 * before the accept, if any; else "" */
	char detail[512];
};

/*
 * The verdict for traffic from a non-loopback interface to a socket of
 * family (AF_INET/AF_INET6), proto (PDX_TCP/PDX_UDP/PDX_SCTP) bound to
 * laddr (network order, 4 or 16 bytes; NULL or all-zero: every local
 * address) and port.  A "::" socket with v6only 0 is judged for IPv6
 * and, in *v4 (may be NULL; its reach is PDX_REACH_NONE otherwise), for
 * IPv4.  rs NULL: `unknown`, "the packet filter was not read".
 */
void pdx_firewall_judge(const struct pdx_ruleset *rs, int family, int proto,
    const uint8_t *laddr, unsigned port, int v6only, struct pdx_verdict *out,
    struct pdx_verdict *v4);

/* The JSON form of a verdict: {"verdict", "rule", "detail"}; new ref. */
json_t *pdx_verdict_json(const struct pdx_verdict *);

/* A port published by a DNAT or redirect rule on the prerouting path. */
struct pdx_published {
	int proto;		   /* PDX_TCP, PDX_UDP, ... */
	int family;		   /* AF_INET, AF_INET6; 0: both (inet) */
	unsigned port_lo, port_hi; /* external ports (equal: one) */
	char kind[12];		   /* "dnat" or "redirect" */
	char to_addr[64];	   /* destination; "" for redirect */
	unsigned to_port;	   /* 0: the same port */
	char rule[192];		   /* as in pdx_verdict.rule */
	/* Traffic reaching the destination from a non-loopback interface:
	 * the forward path (dnat) or the input path (redirect). */
	struct pdx_verdict reach;
};

/*
 * Lists the ports published by DNAT/redirect rules in nat chains on the
 * prerouting hook and the chains they jump to.  Returns 0 and a new array
 * in *out (free() it; NULL when *n is 0), or -1 and the error (out of
 * memory, ruleset not read).
 */
int pdx_firewall_published(const struct pdx_ruleset *rs,
    struct pdx_published **out, size_t *n);
/* The JSON form of a published port; new reference. */
json_t *pdx_published_json(const struct pdx_published *);

PDX_API_END

#endif
