/*
 * why-firewall.c - portdex why's look at the firewall: a DNAT or redirect
 * rule on the prerouting path that captures the port before a local
 * socket sees it (lib/firewall*.c reads and evaluates the ruleset).
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portdex.h"
#include "portdex/firewall.h"
#include "why-int.h"

/*
 * A DNAT or redirect rule on the prerouting path that captures the port
 * before a local socket sees it (issue 16, published ports).  The ruleset
 * is read in the namespace asked about (lib/firewall.c); a ruleset that
 * cannot be read (no CAP_NET_ADMIN, no libnftables) answers "not
 * checked" with the reason, never "no DNAT rule".  A capture does not
 * stop a bind, so it is a warning, not a block: the bind succeeds (and
 * the exit status says so), but connections from other machines for the
 * port go to the rule's destination instead of the socket.  Returns a new
 * {checked, text, rules_read, captures [..], legacy} object.
 */
#define MAX_CAPTURES	16

static int
captures_port(const struct why *w, const struct pdx_published *e)
{
	if (w->port < e->port_lo || w->port > e->port_hi)
		return 0;
	if (e->proto != 0 && (e->proto & w->protos) == 0)
		return 0;
	if (e->family == 0 || (e->family == AF_INET &&
	    (w->families & PDX_FAM_INET4)) || (e->family == AF_INET6 &&
	    (w->families & PDX_FAM_INET6)))
		return 1;
	/* IPv4 traffic also reaches a "::" socket that is not v6-only */
	return e->family == AF_INET && (w->families & PDX_FAM_INET6) &&
	    w->bindv6only != 1;
}

json_t *
why_dnat_capture(struct why *w)
{
	struct pdx_ruleset *rs = pdx_ruleset_read(NULL);
	struct pdx_published *pub = NULL;
	const char *legacy;
	char text[TEXTMAX], to[96];
	json_t *caps, *out;
	size_t i, npub = 0, n = 0, nwarn = 0;

	if (rs == NULL || pdx_ruleset_error(rs) != NULL ||
	    pdx_firewall_published(rs, &pub, &npub) < 0) {
		snprintf(text, sizeof text, "not checked: %s, so a "
		    "DNAT/redirect rule that sends traffic for %u elsewhere "
		    "before it reaches a socket would not show here",
		    rs != NULL && pdx_ruleset_error(rs) != NULL ?
		    pdx_ruleset_error(rs) : pdx_last_error(), w->port);
		why_finding(w, "dnat", 0, "not_checked", "%s", text);
		pdx_ruleset_free(rs);
		return json_pack("{s:b, s:s, s:n, s:[], s:n}", "checked", 0,
		    "text", text, "rules_read", "captures", "legacy");
	}
	caps = json_array();
	for (i = 0; i < npub; i++) {
		const struct pdx_published *e = &pub[i];
		unsigned dport = e->to_port != 0 ? e->to_port : w->port;
		int same = strcmp(e->kind, "redirect") == 0 &&
		    dport == w->port;
		json_t *o;

		if (!captures_port(w, e))
			continue;
		if (n++ >= MAX_CAPTURES)
			continue;
		if (e->to_addr[0] != '\0')
			snprintf(to, sizeof to, strchr(e->to_addr, ':') !=
			    NULL ? "[%s]:%u" : "%s:%u", e->to_addr, dport);
		else
			snprintf(to, sizeof to, "port %u of this machine",
			    dport);
		if (same)
			snprintf(text, sizeof text, "a redirect rule (%s) "
			    "sends %s traffic for %u to the same port of this "
			    "machine: a socket bound to %u still gets it",
			    e->rule, e->proto != 0 ? pdx_proto_name(e->proto)
			    : "all", w->port, w->port);
		else
			snprintf(text, sizeof text, "captured: %s traffic "
			    "from the network for %u is sent to %s by a %s "
			    "rule (%s) before any socket here sees it; a bind "
			    "succeeds, but a server on %u gets none of the "
			    "traffic other machines send to it (what this "
			    "machine sends itself takes the output hook, not "
			    "prerouting); the destination's firewall verdict: "
			    "%s", e->proto != 0 ? pdx_proto_name(e->proto) :
			    "all", w->port, to, strcmp(e->kind, "dnat") == 0 ?
			    "DNAT" : "redirect", e->rule, w->port,
			    pdx_reach_name(e->reach.reach));
		if (!same && nwarn++ < 4)
			why_finding(w, "dnat", e->proto & (PDX_TCP | PDX_UDP),
			    "warning", "%s", text);
		else if (same)
			why_finding(w, "dnat", e->proto & (PDX_TCP | PDX_UDP),
			    "info", "%s", text);
		if ((o = pdx_published_json(e)) != NULL) {
			json_object_set_new(o, "captures", json_boolean(!same));
			json_object_set_new(o, "text", json_string(text));
			json_array_append_new(caps, o);
		}
	}
	if (nwarn > 4)
		why_finding(w, "dnat", 0, "warning", "and %zu more DNAT/"
		    "redirect rules capture %u", nwarn - 4, w->port);
	if (n == 0) {
		snprintf(text, sizeof text, "no DNAT or redirect rule on the "
		    "prerouting path captures %u (%zu nftables rules read)",
		    w->port, pdx_ruleset_rules(rs));
		why_finding(w, "dnat", 0, "ok", "%s", text);
	} else
		snprintf(text, sizeof text, "%zu DNAT/redirect rule%s on the "
		    "prerouting path match%s %u", n, n > 1 ? "s" : "",
		    n > 1 ? "" : "es", w->port);
	legacy = pdx_ruleset_legacy(rs);
	if (legacy != NULL)
		why_finding(w, "dnat", 0, "not_checked", "legacy xtables "
		    "tables (%s) were not evaluated: a DNAT rule made with "
		    "iptables-legacy would not show here", legacy);
	out = json_pack("{s:b, s:s, s:I, s:o, s:s?}", "checked", 1, "text",
	    text, "rules_read", (json_int_t)pdx_ruleset_rules(rs), "captures",
	    caps, "legacy", legacy);
	free(pub);
	pdx_ruleset_free(rs);
	return out;
}
