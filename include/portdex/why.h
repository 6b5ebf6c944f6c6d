/*
 * portdex/why.h - part of the libportdex API (see portdex.h): why a bind()
 * of a port would fail or succeed on this machine (portdex why).  One call
 * gathers who holds the port (every socket using it as its local port,
 * with its process, user, unit or container), the kernel settings that
 * decide a bind (ephemeral range, reserved ports, the privileged range,
 * IPV6_V6ONLY's default), the caller's CAP_NET_BIND_SERVICE, and, when
 * asked, what real bind() calls say, and turns them into findings.
 * lib/why.c explains each check (the DNAT one in lib/why-firewall.c).
 */
#ifndef PORTDEX_WHY_H
#define PORTDEX_WHY_H
#include "portdex.h"

PDX_API_BEGIN

struct pdx_why_opts {
	unsigned port; /* 1..65535 */
	int protos;    /* PDX_TCP and/or PDX_UDP; 0: both */
	int families;  /* PDX_FAM_INET4/6 (sockets.h); 0: both */
	/* Ask inside /var/run/netns/NAME (NULL: the current namespace). */
	const char *netns;
	/* Also list the sockets on the port, and the DNAT/redirect rules
	 * that capture it, in every named namespace. */
	int all_netns;
	/* Verify with real bind() calls (each socket closed at once). */
	int try_bind;
	/* For the way out: pdx_pick() near the port (NULL: none). */
	struct pdx_db *db;
};

/*
 * The answer, a new reference (caller json_decref()s it):
 *   { port, transports [..], families [..], netns,
 *     would_bind (a plain bind on the wildcard address succeeds now, for
 *       every transport and family asked), verdict_from ("bind" when the
 *       real bind() calls decided, else "explanation"), errno (the first
 *       failure's name, or null),
 *     expected [ {transport, family, errno or null} ] (the explanation's
 *       prediction per transport and family),
 *     findings [ {check, transport or null, effect, text} ] (effect:
 *       "blocks" (a plain bind fails because of it), "warning" (it may
 *       fail later), "info", "ok", "not_checked"),
 *     holders [socket (pdx_socket_json) + {blocks [families],
 *       reuseport_group (sockets sharing its address and port, or null)}],
 *     time_wait [socket], connections [socket],
 *     other_netns [socket] (with all_netns: other namespaces' sockets),
 *     binds [ {transport, family, address, option, ok, errno, error} ]
 *       (empty unless try_bind),
 *     kernel {ephemeral {lo, hi, inside} or null, reserved (bool or null),
 *       unprivileged_port_start (or null), bindv6only (or null)},
 *     caller {euid, cap_net_bind_service (bool or null)},
 *     dnat {netns, checked (the ruleset was read), text, rules_read (or
 *       null), captures [published port (pdx_published_json) + {netns,
 *       captures (false: a redirect to the same port), text}], legacy
 *       (xtables tables not evaluated, or null), other_netns [the same
 *       object for each other named namespace, with all_netns]} (a
 *       capture is a "warning" finding, one in another namespace an
 *       "info" one naming it: neither stops a bind, so would_bind stays
 *       true),
 *     way_out {command, suggestions [ports] or null} }
 * Returns NULL and sets the error on bad options, when the namespace
 * cannot be entered or no socket list can be read.
 */
json_t *pdx_why(const struct pdx_why_opts *);

PDX_API_END

#endif
