/*
 * why-int.h - what the files of portdex why share: the transports and
 * families it answers for, the facts gathered once (struct why), and the
 * helpers more than one of them calls.  why.c gathers the facts, runs the
 * checks and builds the answer; why-firewall.c looks for DNAT/redirect
 * rules that capture the port; why-bind.c makes the real test binds.
 */
#ifndef PDX_WHY_INT_H
#define PDX_WHY_INT_H
#include <stddef.h>

#include "portdex.h"

#define TEXTMAX 1024
#define NWHYPROTO 2
#define NWHYFAM 2

struct why_proto {
	int proto;
	int type;
};

struct why_family {
	int family;
	int bit; /* PDX_FAM_* */
	const char *name;
	const char *wildcard;
};

extern const struct why_proto why_protos[NWHYPROTO];
extern const struct why_family why_families[NWHYFAM];

/* What the checks read, gathered once. */
struct why {
	unsigned port;
	int protos, families;
	struct pdx_socket *socks; /* this namespace, port P */
	size_t nsocks;
	unsigned eph_lo, eph_hi;
	int eph_known;
	struct pdx_portset reserved;
	int res_known;
	long unpriv_start; /* -1: unknown */
	int bindv6only;	   /* -1: unknown */
	int cap_bind;	   /* -1: unknown */
	/* predicted errno per transport and family (0: the bind works) */
	int expect[NWHYPROTO][NWHYFAM];
	json_t *findings;
	/* --all-netns: other namespaces whose ruleset was read, the
	 * captures found there, the namespaces not read (too many) */
	size_t dnat_netns_read, dnat_netns_found;
	size_t dnat_netns_skipped;
};

/* "EADDRINUSE", or "errno N" for one without a name here. */
const char *why_errname(int e);
/* Appends a finding {check, transport, effect, text} to w->findings. */
void
why_finding(struct why *w, const char *check, int proto, const char *effect,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* why-firewall.c: the DNAT/redirect rules capturing the port in the
 * namespace we are in, asked (its name, or NULL) (new ref); with
 * --all-netns, those of each other namespace name, added to the object's
 * other_netns, and the summing up after the last one. */
json_t *why_dnat_capture(struct why *w, const char *asked);
void why_dnat_netns(struct why *w, const char *name, json_t *dnat);
void why_dnat_netns_done(struct why *w, json_t *dnat);

/* why-bind.c: the plain binds (got[][]: errno, -1 when a family is not
 * offered) and the options tried when one fails with EADDRINUSE. */
void why_run_binds(struct why *w, json_t *binds, int got[NWHYPROTO][NWHYFAM]);
/* The options that got a failing bind through, as findings. */
void why_tried_options(struct why *w, json_t *binds);

#endif
