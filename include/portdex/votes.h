/*
 * portdex/votes.h - part of the libportdex API (see portdex.h): the "was
 * this page helpful?" votes of the web pages, kept in the state database
 * as one count per port and choice, and the per-client rate limit that
 * keeps one address from stuffing the box.
 */
#ifndef PORTDEX_VOTES_H
#define PORTDEX_VOTES_H
#include "portdex.h"

#include <time.h>

PDX_API_BEGIN

/* The three answers, in the order the pages show them. */
enum pdx_vote_choice {
	PDX_VOTE_SAD = 0,
	PDX_VOTE_MEH,
	PDX_VOTE_HAPPY,
	PDX_NVOTES
};

/* "sad", "meh", "happy"; NULL for anything else. */
const char *pdx_vote_choice_name(int choice);
/* The choice named s (exact, lower case), or -1. */
int pdx_vote_choice_parse(const char *s);

/*
 * How often one client may vote: at most one vote per port within
 * per_port_s seconds, and at most max_votes votes within window_s
 * seconds over all ports.  A zero field turns that limit off.
 */
struct pdx_vote_limits {
	long per_port_s;
	long window_s;
	long max_votes;
};
/* One vote per port per 10 minutes, 30 votes an hour. */
#define PDX_VOTE_LIMITS_DEFAULT \
	{ \
		600, 3600, 30 \
	}

/*
 * Records one vote for port by client (an opaque key of at most 64
 * bytes, e.g. from pdx_vote_client_key) at time now.  Returns 0 when
 * counted, 1 when the client is over a limit (nothing is stored; *retry_s,
 * which may be NULL, gets the seconds until it may vote again), -1 and
 * the error on bad arguments or a database failure.
 */
int
pdx_vote_cast(struct pdx_state *, unsigned port, int choice, const char *client,
    const struct pdx_vote_limits *, time_t now, long *retry_s);

/* Fills counts[PDX_NVOTES] for port.  Returns 0, or -1 and the error. */
int pdx_vote_counts(struct pdx_state *, unsigned port,
    long long counts[PDX_NVOTES]);

/* {"sad": n, "meh": n, "happy": n} (new reference), or NULL and the error. */
json_t *pdx_votes_json(struct pdx_state *, unsigned port);

/*
 * The rate-limit key of a client address (struct sockaddr_in or _in6):
 * the IPv4 address, or the /64 prefix of an IPv6 address (one host
 * usually owns a whole /64), with IPv4-mapped addresses taken as IPv4.
 * Writes a NUL-terminated key into buf; returns 0, or -1 for another
 * family or a short buffer (64 bytes are always enough).
 */
int pdx_vote_client_key(const void *sockaddr, char *buf, size_t size);

PDX_API_END

#endif
