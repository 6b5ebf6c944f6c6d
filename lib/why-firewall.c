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
 * port go to the rule's destination instead of the socket.  With
 * --all-netns the other named namespaces' rulesets are read too
 * (why_dnat_netns), as their holders are listed.  Returns a new
 * {netns, checked, text, rules_read, captures [..], legacy, other_netns
 * [..]} object.
 */
#define MAX_CAPTURES 16

static int
captures_port(const struct why *w, const struct pdx_published *e)
{
	if (w->port < e->port_lo || w->port > e->port_hi)
		return 0;
	if (e->proto != 0 && (e->proto & w->protos) == 0)
		return 0;
	if (e->family == 0 ||
	    (e->family == AF_INET && (w->families & PDX_FAM_INET4)) ||
	    (e->family == AF_INET6 && (w->families & PDX_FAM_INET6)))
		return 1;
	/* IPv4 traffic also reaches a "::" socket that is not v6-only */
	return e->family == AF_INET && (w->families & PDX_FAM_INET6) &&
	    w->bindv6only != 1;
}

/* The capture of the port by one published entry, as text; *same: a
 * redirect to the same port (a socket bound to it still gets it). */
static void
capture_text(const struct why *w, const struct pdx_published *e, char *text,
    size_t len, int *same)
{
	unsigned dport = e->to_port != 0 ? e->to_port : w->port;
	char to[96];

	*same = strcmp(e->kind, "redirect") == 0 && dport == w->port;
	if (e->to_addr[0] != '\0')
		snprintf(to, sizeof to,
		    strchr(e->to_addr, ':') != NULL ? "[%s]:%u" : "%s:%u",
		    e->to_addr, dport);
	else
		snprintf(to, sizeof to, "port %u of this machine", dport);
	if (*same)
		snprintf(text, len,
		    "a redirect rule (%s) sends %s traffic "
		    "for %u to the same port of this machine: a socket bound "
		    "to %u still gets it",
		    e->rule, e->proto != 0 ? pdx_proto_name(e->proto) : "all",
		    w->port, w->port);
	else
		snprintf(text, len,
		    "captured: %s traffic from the network "
		    "for %u is sent to %s by a %s rule (%s) before any socket "
		    "here sees it; a bind succeeds, but a server on %u gets "
		    "none of the traffic other machines send to it (what this "
		    "machine sends itself takes the output hook, not "
		    "prerouting); the destination's firewall verdict: %s",
		    e->proto != 0 ? pdx_proto_name(e->proto) : "all", w->port,
		    to, strcmp(e->kind, "dnat") == 0 ? "DNAT" : "redirect",
		    e->rule, w->port, pdx_reach_name(e->reach.reach));
}

/*
 * One namespace's ruleset: the findings and the {netns, checked, text,
 * rules_read, captures, legacy} object.  ns NULL: the namespace asked
 * about, whose captures are warnings (they concern a server bound here);
 * else another namespace visited with --all-netns, whose captures are
 * info findings that name it (its ports are its own, the bind here does
 * not change), and whose "nothing found" the caller sums up once.
 * *found: the captures (not same-port redirects) seen.
 */
static json_t *
scan_ruleset(struct why *w, struct pdx_ruleset *rs, const char *ns,
    const char *asked, size_t *found)
{
	struct pdx_published *pub = NULL;
	const char *legacy;
	char text[TEXTMAX], pre[160] = "";
	json_t *caps, *out;
	size_t i, npub = 0, n = 0, nwarn = 0;

	*found = 0;
	if (ns != NULL)
		snprintf(pre, sizeof pre,
		    "in network namespace %s (its "
		    "ports are its own): ",
		    ns);
	if (rs == NULL || pdx_ruleset_error(rs) != NULL ||
	    pdx_firewall_published(rs, &pub, &npub) < 0) {
		snprintf(text, sizeof text,
		    "not checked: %s, so a "
		    "DNAT/redirect rule that sends traffic for %u elsewhere "
		    "before it reaches a socket would not show here",
		    rs != NULL && pdx_ruleset_error(rs) != NULL
			? pdx_ruleset_error(rs)
			: pdx_last_error(),
		    w->port);
		why_finding(w, "dnat", 0, "not_checked", "%s%s", pre, text);
		return json_pack("{s:s?, s:b, s:s, s:n, s:[], s:n}", "netns",
		    ns != NULL ? ns : asked, "checked", 0, "text", text,
		    "rules_read", "captures", "legacy");
	}
	caps = json_array();
	for (i = 0; i < npub; i++) {
		const struct pdx_published *e = &pub[i];
		int same;
		json_t *o;

		if (!captures_port(w, e))
			continue;
		if (n++ >= MAX_CAPTURES)
			continue;
		capture_text(w, e, text, sizeof text, &same);
		if (!same)
			(*found)++;
		if (!same && nwarn++ < 4)
			why_finding(w, "dnat", e->proto & (PDX_TCP | PDX_UDP),
			    ns == NULL ? "warning" : "info", "%s%s", pre, text);
		else if (same)
			why_finding(w, "dnat", e->proto & (PDX_TCP | PDX_UDP),
			    "info", "%s%s", pre, text);
		if ((o = pdx_published_json(e)) != NULL) {
			json_object_set_new(o, "netns",
			    ns != NULL || asked != NULL
				? json_string(ns != NULL ? ns : asked)
				: json_null());
			json_object_set_new(o, "captures", json_boolean(!same));
			json_object_set_new(o, "text", json_string(text));
			json_array_append_new(caps, o);
		}
	}
	if (nwarn > 4)
		why_finding(w, "dnat", 0, ns == NULL ? "warning" : "info",
		    "%sand %zu more DNAT/redirect rules capture %u", pre,
		    nwarn - 4, w->port);
	if (n == 0) {
		snprintf(text, sizeof text,
		    "no DNAT or redirect rule on the "
		    "prerouting path captures %u (%zu nftables rules read)",
		    w->port, pdx_ruleset_rules(rs));
		if (ns == NULL)
			why_finding(w, "dnat", 0, "ok", "%s", text);
	} else
		snprintf(text, sizeof text,
		    "%zu DNAT/redirect rule%s on the "
		    "prerouting path match%s %u",
		    n, n > 1 ? "s" : "", n > 1 ? "" : "es", w->port);
	legacy = pdx_ruleset_legacy(rs);
	if (legacy != NULL)
		why_finding(w, "dnat", 0, "not_checked",
		    "%slegacy xtables "
		    "tables (%s) were not evaluated: a DNAT rule made with "
		    "iptables-legacy would not show here",
		    pre, legacy);
	out = json_pack("{s:s?, s:b, s:s, s:I, s:o, s:s?}", "netns",
	    ns != NULL ? ns : asked, "checked", 1, "text", text, "rules_read",
	    (json_int_t)pdx_ruleset_rules(rs), "captures", caps, "legacy",
	    legacy);
	free(pub);
	return out;
}

json_t *
why_dnat_capture(struct why *w, const char *asked)
{
	struct pdx_ruleset *rs = pdx_ruleset_read(NULL);
	json_t *out;
	size_t found;

	out = scan_ruleset(w, rs, NULL, asked, &found);
	pdx_ruleset_free(rs);
	if (out != NULL)
		json_object_set_new(out, "other_netns", json_array());
	return out;
}

/*
 * --all-netns: the DNAT/redirect rules of the namespace name (read from
 * the namespace we are in; pdx_ruleset_read enters it), added to
 * dnat.other_netns; a capture is an info finding naming the namespace,
 * the table, the chain and the handle.  At most MAX_OTHER_NETNS
 * namespaces are described one by one (the rest are counted).
 */
#define MAX_OTHER_NETNS 64

void
why_dnat_netns(struct why *w, const char *name, json_t *dnat)
{
	json_t *others = json_object_get(dnat, "other_netns"), *o;
	struct pdx_ruleset *rs;
	size_t found;

	if (others == NULL)
		return;
	if (json_array_size(others) >= MAX_OTHER_NETNS) {
		w->dnat_netns_skipped++;
		return;
	}
	rs = pdx_ruleset_read(name);
	o = scan_ruleset(w, rs, name, NULL, &found);
	pdx_ruleset_free(rs);
	if (o == NULL)
		return;
	if (json_is_true(json_object_get(o, "checked")))
		w->dnat_netns_read++;
	w->dnat_netns_found += found;
	json_array_append_new(others, o);
}

/* After the last namespace: one finding when none of those read has a
 * capture, and one for the namespaces left out. */
void
why_dnat_netns_done(struct why *w, json_t *dnat)
{
	if (json_object_get(dnat, "other_netns") == NULL)
		return;
	if (w->dnat_netns_read > 0 && w->dnat_netns_found == 0)
		why_finding(w, "dnat", 0, "ok",
		    "no DNAT or redirect rule "
		    "captures %u in the %zu other network namespace%s read",
		    w->port, w->dnat_netns_read,
		    w->dnat_netns_read > 1 ? "s" : "");
	if (w->dnat_netns_skipped > 0)
		why_finding(w, "dnat", 0, "not_checked",
		    "the rulesets of %zu "
		    "more network namespaces were not read (at most %d are)",
		    w->dnat_netns_skipped, MAX_OTHER_NETNS);
}
