/*
 * card-extra.c - completes the card model that card.c reads from the
 * registry: the user's notes (state database), the live "on this machine"
 * section (sockets backend), and the headline and the one-sentence summary
 * derived from the whole model.  `show` and `serve` both call
 * pdx_card_full(), so the CLI and the pages assemble a card the same way.
 * How the card is displayed is card-view.c's.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "portdex.h"
#include "portdex/firewall.h"
#include "portdex/view.h"

static const char *
js(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "";
}

void
pdx_card_add_notes(struct pdx_state *st, json_t *card)
{
	json_t *notes = NULL;
	int port = (int)json_integer_value(json_object_get(card, "port"));

	if (st != NULL && (notes = pdx_notes(st, port, NULL)) == NULL)
		json_object_set_new(card, "notes_error",
		    json_string(pdx_last_error()));
	json_object_set_new(card, "notes",
	    notes != NULL ? notes : json_array());
}

/* One aligned text line for a socket of the card's live section. */
static void
socket_line(json_t *s)
{
	json_t *local = json_object_get(s, "local");
	char addr[96], who[256], line[512];
	const char *a = js(local, "address");
	const char *reach = json_is_true(json_object_get(s, "all_interfaces"))
	    ? (json_is_true(json_object_get(s, "serves_ipv4")) &&
			  strchr(a, ':') != NULL
		      ? "all interfaces, IPv4 too"
		      : "all interfaces")
	    : "";

	snprintf(addr, sizeof addr,
	    strchr(a, ':') != NULL ? "[%s]:%lld" : "%s:%lld", a,
	    (long long)json_integer_value(json_object_get(local, "port")));
	if (json_is_integer(json_object_get(s, "pid")))
		snprintf(who, sizeof who, "pid %lld %s (%s)%s%s",
		    (long long)json_integer_value(json_object_get(s, "pid")),
		    js(s, "process"), js(s, "user"),
		    *js(s, "unit") != '\0' ? " " : "", js(s, "unit"));
	else
		snprintf(who, sizeof who, "uid %lld (%s), process not visible",
		    (long long)json_integer_value(json_object_get(s, "uid")),
		    js(s, "user"));
	if (*js(s, "other_holders") != '\0') {
		size_t l = strlen(who);

		snprintf(who + l, sizeof who - l, "; also %s",
		    js(s, "other_holders"));
	}
	snprintf(line, sizeof line, "%-4s %-7s %-24s %s%s%s", js(s, "proto"),
	    js(s, "state"), addr, who, *reach ? "; " : "", reach);
	json_object_set_new(s, "line", json_string(line));
}

/*
 * The firewall's part of the live section: each socket's verdict (its
 * "reach" and the end of its line) and the ports of this number that
 * DNAT/redirect rules publish.  The ruleset is read only when a socket
 * is not on loopback or to look for published ports; a ruleset that
 * cannot be read is said only when a socket's verdict depends on it.
 */
static void
add_firewall(json_t *local, json_t *socks, unsigned port, int protomask)
{
	struct pdx_ruleset *rs = pdx_ruleset_read(NULL);
	struct pdx_published *pub = NULL;
	json_t *arr = NULL;
	size_t i, npub = 0;
	int needed = 0;

	if (rs == NULL)
		return;
	for (i = 0; i < json_array_size(socks); i++) {
		json_t *s = json_array_get(socks, i);
		const char *a = js(json_object_get(s, "local"), "address");
		int fam = strchr(a, ':') != NULL ? AF_INET6 : AF_INET;
		int v6only = json_is_true(json_object_get(s, "v6only")) ? 1
		    : json_is_false(json_object_get(s, "v6only"))	? 0
									: -1;
		uint8_t addr[16];
		struct pdx_verdict v, v4;
		json_t *o;
		char line[640];

		if (strcmp(js(s, "state"), "LISTEN") != 0 &&
		    strcmp(js(s, "state"), "UNCONN") != 0)
			continue;
		if (inet_pton(fam, a, addr) != 1)
			continue;
		pdx_firewall_judge(rs, fam, pdx_proto_parse(js(s, "proto")),
		    addr, port, v6only, &v, &v4);
		needed |= v.reach == PDX_REACH_UNKNOWN &&
		    pdx_ruleset_error(rs) != NULL;
		if ((o = pdx_verdict_json(&v)) != NULL &&
		    v4.reach != PDX_REACH_NONE)
			json_object_set_new(o, "ipv4", pdx_verdict_json(&v4));
		json_object_set_new(s, "reach", o);
		snprintf(line, sizeof line, "%s; firewall: %s%s%s%s%s",
		    js(s, "line"), pdx_reach_name(v.reach),
		    v.reach == PDX_REACH_FILTERED ? " by " : "",
		    v.reach == PDX_REACH_FILTERED ? v.rule : "",
		    v4.reach != PDX_REACH_NONE && v4.reach != v.reach
			? ", IPv4 "
			: "",
		    v4.reach != PDX_REACH_NONE && v4.reach != v.reach
			? pdx_reach_name(v4.reach)
			: "");
		json_object_set_new(s, "line", json_string(line));
	}
	if (needed)
		json_object_set_new(local, "firewall_error",
		    json_string(pdx_ruleset_error(rs)));
	if (pdx_firewall_published(rs, &pub, &npub) == 0)
		for (i = 0; i < npub; i++) {
			const struct pdx_published *p = &pub[i];
			json_t *o;
			char text[512], to[96];

			if (port < p->port_lo || port > p->port_hi ||
			    (p->proto & protomask) == 0)
				continue;
			if (arr == NULL && (arr = json_array()) == NULL)
				break;
			snprintf(to, sizeof to,
			    p->to_addr[0] != '\0'
				? (strchr(p->to_addr, ':') != NULL ? "[%s]:%u"
								   : "%s:%u")
				: "%sport %u of this machine",
			    p->to_addr, p->to_port != 0 ? p->to_port : port);
			snprintf(text, sizeof text,
			    "%u/%s is published to %s "
			    "by a %s rule in %.100s; firewall: %s",
			    port, pdx_proto_name(p->proto), to,
			    strcmp(p->kind, "dnat") == 0 ? "DNAT" : "redirect",
			    p->rule, pdx_reach_name(p->reach.reach));
			if ((o = pdx_published_json(p)) != NULL) {
				json_object_set_new(o, "text",
				    json_string(text));
				json_array_append_new(arr, o);
			}
		}
	free(pub);
	if (arr != NULL)
		json_object_set_new(local, "published", arr);
	pdx_ruleset_free(rs);
}

void
pdx_card_add_local(json_t *card, int protomask)
{
	unsigned port = (unsigned)json_integer_value(
	    json_object_get(card, "port"));
	json_t *socks, *local;
	char msg[128];
	size_t i;
	int unattributed = 0;

	if (protomask == 0)
		protomask = PDX_TCP | PDX_UDP;
	if ((socks = pdx_local_port(port, protomask)) == NULL) {
		json_object_set_new(card, "local",
		    json_pack("{s:s, s:[]}", "error", pdx_last_error(),
			"sockets"));
		return;
	}
	for (i = 0; i < json_array_size(socks); i++) {
		json_t *s = json_array_get(socks, i);

		socket_line(s);
		if (!json_is_integer(json_object_get(s, "pid")))
			unattributed++;
	}
	if (protomask == (PDX_TCP | PDX_UDP))
		snprintf(msg, sizeof msg,
		    "nothing is listening on %u/tcp or "
		    "%u/udp",
		    port, port);
	else
		snprintf(msg, sizeof msg, "nothing is listening on %u/%s", port,
		    protomask == PDX_TCP       ? "tcp"
			: protomask == PDX_UDP ? "udp"
					       : "this transport");
	local = json_pack("{s:o, s:s}", "sockets", socks, "summary",
	    json_array_size(socks) == 0 ? msg : "");
	if (local != NULL)
		add_firewall(local, socks, port, protomask);
	if (unattributed > 0 && geteuid() != 0)
		json_object_set_new(local, "footer",
		    json_sprintf(
			"%d socket%s "
			"could not be tied to a process: run as root to see "
			"other users' processes",
			unattributed, unattributed == 1 ? "" : "s"));
	json_object_set_new(card, "local", local);
}

/* ---- headline ---------------------------------------------------------- */

/*
 * An IANA description fit for a headline: one line, short, without the
 * registry's own annotations ("<== NOTE Conflict on 2049 !").
 */
static int
usable_description(const char *d)
{
	return *d != '\0' && strlen(d) <= 60 && strchr(d, '\n') == NULL &&
	    strstr(d, "<==") == NULL && strstr(d, "NOTE") == NULL &&
	    strcasecmp(d, "reserved") != 0 && strcasecmp(d, "unassigned") != 0;
}

/* The first IANA description of transport t, or "". */
static const char *
first_description(json_t *t)
{
	json_t *r = json_array_get(json_object_get(t, "iana"), 0);

	return r != NULL ? js(r, "description") : "";
}

/*
 * The transport whose IANA service nmap sees open most often, else the
 * first with a service; NULL when no transport has an IANA service.
 */
static json_t *
main_transport(json_t *card)
{
	json_t *ts = json_object_get(card, "transports"), *best = NULL;
	double bf = -1.0;
	size_t i;

	for (i = 0; i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		double f = json_real_value(
		    json_object_get(json_object_get(t, "nmap"), "frequency"));

		if (*js(t, "service") == '\0')
			continue;
		if (best == NULL || f > bf) {
			best = t;
			bf = f;
		}
	}
	return best;
}

/* The lead use (the curated identity), the narrowest one, or NULL. */
static json_t *
lead_use(json_t *card)
{
	json_t *uses = json_object_get(card, "uses"), *best = NULL;
	long long bw = 0;
	size_t i;

	for (i = 0; i < json_array_size(uses); i++) {
		json_t *u = json_array_get(uses, i);
		long long w = json_integer_value(
				  json_object_get(u, "port_hi")) -
		    json_integer_value(json_object_get(u, "port"));

		if (json_is_true(json_object_get(u, "lead")) &&
		    (best == NULL || w < bw)) {
			best = u;
			bw = w;
		}
	}
	return best;
}

static json_t *
headline(json_t *card)
{
	json_t *lead = lead_use(card), *t = main_transport(card);
	const char *svc = t != NULL ? js(t, "service") : "";
	const char *desc = t != NULL ? first_description(t) : "";
	char buf[256];

	if (lead != NULL)
		return json_pack("{s:s, s:s, s:s}", "text", js(lead, "name"),
		    "from", "curated", "iana_name", svc);
	if (t != NULL) {
		if (usable_description(desc))
			snprintf(buf, sizeof buf, "%s", desc);
		else
			snprintf(buf, sizeof buf, "%s", svc);
		return json_pack("{s:s, s:s, s:s}", "text", buf, "from", "iana",
		    "iana_name", svc);
	}
	return json_pack("{s:s, s:s, s:s}", "text",
	    strcmp(js(json_object_get(card, "registry"), "primary"),
		"services") == 0
		? "no name known (IANA's registry not loaded)"
		: "unassigned by IANA",
	    "from", "none", "iana_name", "");
}

/* ---- the one-sentence summary ------------------------------------------ */

/* A growable sentence; parts are joined with "; ". */
struct sent {
	char buf[1024];
	size_t len;
};

static void sent_part(struct sent *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sent_part(struct sent *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->len > 0 && s->len + 2 < sizeof s->buf) {
		memcpy(s->buf + s->len, "; ", 2);
		s->len += 2;
	}
	va_start(ap, fmt);
	n = vsnprintf(s->buf + s->len, sizeof s->buf - s->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len += (size_t)n < sizeof s->buf - s->len
		    ? (size_t)n
		    : sizeof s->buf - s->len - 1;
}

/* "tcp", "tcp and udp", "tcp, udp and sctp" of the transports with st. */
static void
transports_with(json_t *ts, const char *st, char *out, size_t n)
{
	size_t i, k = 0, total = 0;

	for (i = 0; i < json_array_size(ts); i++)
		total += strcmp(js(json_array_get(ts, i), "status"), st) == 0;
	out[0] = '\0';
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		size_t l = strlen(out);

		if (strcmp(js(t, "status"), st) != 0)
			continue;
		k++;
		snprintf(out + l, n - l, "%s%s",
		    k == 1	     ? ""
			: k == total ? " and "
				     : ", ",
		    js(t, "transport"));
	}
}

/*
 * Whom IANA assigns a transport to: the one row's description (or name),
 * or the names of several rows ("shilp and nfs").
 */
static void
assignees(json_t *t, char *out, size_t n)
{
	json_t *rows = json_object_get(t, "iana");
	size_t i, k = 0, total = json_array_size(rows);

	out[0] = '\0';
	if (total == 1) {
		const char *d = first_description(t);

		snprintf(out, n, "%s",
		    usable_description(d) ? d : js(t, "service"));
		return;
	}
	for (i = 0; i < total && i < 4; i++) {
		const char *nm = js(json_array_get(rows, i), "service_name");
		size_t l = strlen(out);

		if (*nm == '\0' || strstr(out, nm) != NULL)
			continue;
		k++;
		snprintf(out + l, n - l, "%s%s",
		    k == 1			   ? ""
			: i + 1 == total || i == 3 ? " and "
						   : ", ",
		    nm);
	}
	if (k == 0)
		snprintf(out, n, "%s", js(t, "service"));
}

static void
official_part(struct sent *s, json_t *card)
{
	static const char *const order[] = { "assigned", "historic",
		"de-registered", "reserved", "unassigned" };
	json_t *ts = json_object_get(card, "transports"), *t;
	const char *primary = js(json_object_get(card, "registry"), "primary");
	char on[64];
	size_t i, j;

	if (strcmp(primary, "services") == 0) {
		sent_part(s,
		    "IANA's registry was not loaded, so its status "
		    "here is not known");
		return;
	}
	for (i = 0; i < sizeof order / sizeof *order; i++) {
		transports_with(ts, order[i], on, sizeof on);
		if (on[0] == '\0')
			continue;
		t = NULL;
		for (j = 0; j < json_array_size(ts) && t == NULL; j++)
			if (strcmp(js(json_array_get(ts, j), "status"),
				order[i]) == 0)
				t = json_array_get(ts, j);
		if (i == 0) {
			char to[256];

			assignees(t, to, sizeof to);
			sent_part(s, "IANA assigns it on %s to %s", on, to);
		} else if (i == 1 || i == 2)
			sent_part(s, "IANA's assignment on %s %s", on,
			    i == 1 ? "is historic" : "was withdrawn");
		else
			sent_part(s, "IANA %s on %s",
			    i == 3 ? "reserves it" : "has not assigned it", on);
	}
}

/*
 * Uses shown by name in the summary: not nmap's label, not IANA's note,
 * not a wide range's row (Windows' dynamic RPC range says little about
 * one port in it).
 */
static int
summary_use(json_t *u)
{
	long long lo = json_integer_value(json_object_get(u, "port"));
	long long hi = json_integer_value(json_object_get(u, "port_hi"));

	return hi - lo < 100 && strcmp(js(u, "confidence"), "observed") != 0 &&
	    strcmp(js(u, "kind"), "iana-unauthorized") != 0 &&
	    !json_is_true(json_object_get(u, "lead"));
}

static void
practice_part(struct sent *s, json_t *card, json_t *head)
{
	json_t *uses = json_object_get(card, "uses");
	json_t *ts = json_object_get(card, "transports");
	const char *names[2] = { NULL, NULL };
	size_t i, n = 0, documented = 0;
	long long best_rank = 0;

	if (strcmp(js(head, "from"), "curated") == 0)
		sent_part(s, "in practice it is %s", js(head, "text"));
	for (i = 0; i < json_array_size(uses); i++) {
		json_t *u = json_array_get(uses, i);

		if (!summary_use(u))
			continue;
		if (n < 2)
			names[n] = js(u, "name");
		n++;
		documented += strcmp(js(u, "confidence"), "documented") == 0;
	}
	if (n > 0) {
		const char *what = documented > 0
		    ? "known uses include"
		    : "only reported uses, such as";

		if (strcmp(js(head, "from"), "curated") == 0)
			what = documented > 0 ? "other known uses include"
					      : "other reported uses include";
		if (n == 1)
			sent_part(s, "%s %s", what, names[0]);
		else if (n == 2)
			sent_part(s, "%s %s and %s", what, names[0], names[1]);
		else
			sent_part(s, "%s %s, %s and %zu more", what, names[0],
			    names[1], n - 2);
		return;
	}
	if (strcmp(js(head, "from"), "curated") == 0)
		return;
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *nm = json_object_get(json_array_get(ts, i), "nmap");
		long long r = json_integer_value(json_object_get(nm, "rank"));

		if (json_real_value(json_object_get(nm, "frequency")) > 0 &&
		    r > 0 && (best_rank == 0 || r < best_rank))
			best_rank = r;
	}
	if (best_rank > 0)
		sent_part(s,
		    "no curated use is known, and nmap sees it open "
		    "%s",
		    best_rank <= 100	    ? "often"
			: best_rank <= 1000 ? "now and then"
					    : "rarely");
	else
		sent_part(s, "no use in practice is known");
}

/* A few words for each risk rule, for the summary. */
static const struct {
	const char *rule, *words;
} rule_words[] = {
	{ "malware-port", "a known trojan or backdoor port" },
	{ "malware-port-shared",
	    "a trojan port that legitimate software "
	    "also uses" },
	{ "malware-reported", "malware reportedly used it" },
	{ "udp-amplification", "a UDP amplification vector" },
	{ "exploited-service", "worms or exploits attack this service" },
	{ "cleartext-login", "a cleartext remote login" },
	{ "no-living-service", "a well-known port with no living service" },
	{ "obsolete-service", "its assigned service is obsolete" },
	{ "cleartext-transfer", "a cleartext file or information service" },
	{ "rpc-exposure", "an RPC/NFS service for trusted networks only" },
	{ "admin-exposure",
	    "an admin or database service that should not "
	    "face the internet" },
	{ "iana-unauthorized-use", "IANA notes unauthorized use" },
};

const char *
pdx_rule_words(const char *rule)
{
	size_t i;

	for (i = 0; i < sizeof rule_words / sizeof *rule_words; i++)
		if (strcmp(rule_words[i].rule, rule) == 0)
			return rule_words[i].words;
	return rule;
}

static void
risk_part(struct sent *s, json_t *card)
{
	const char *lvl = js(json_object_get(card, "risk"), "level");
	json_t *ts = json_object_get(card, "transports");
	size_t i, k;

	if (strcmp(lvl, "high") == 0 || strcmp(lvl, "medium") == 0 ||
	    strcmp(lvl, "low") == 0) {
		for (i = 0; i < json_array_size(ts); i++) {
			json_t *rs =
			    json_object_get(json_object_get(json_array_get(ts,
								i),
						"risk"),
				"reasons");

			for (k = 0; k < json_array_size(rs); k++) {
				json_t *r = json_array_get(rs, k);

				if (strcmp(js(r, "level"), lvl) == 0) {
					sent_part(s, "risk %s: %s", lvl,
					    pdx_rule_words(js(r, "rule")));
					goto privilege;
				}
			}
		}
		sent_part(s, "risk %s", lvl);
	} else
		sent_part(s, "no risk rule above info applies");
privilege:
	if (json_is_true(
		json_object_get(json_object_get(card, "range"), "privileged")))
		sent_part(s,
		    "a system port, so its listener runs with "
		    "privilege");
}

static void
local_part(struct sent *s, json_t *card)
{
	json_t *local = json_object_get(card, "local");
	json_t *socks = json_object_get(local, "sockets");
	size_t i, n = json_array_size(socks);
	char who[256] = "";

	if (!json_is_object(local))
		return;
	if (*js(local, "error") != '\0') {
		sent_part(s, "what listens on it here could not be read");
		return;
	}
	if (n == 0) {
		sent_part(s, "nothing listens on it here now");
		return;
	}
	for (i = 0; i < n; i++) {
		const char *p = js(json_array_get(socks, i), "process");
		size_t l = strlen(who);

		if (*p == '\0' || strstr(who, p) != NULL)
			continue;
		snprintf(who + l, sizeof who - l, "%s%s", l ? ", " : "", p);
	}
	sent_part(s, "%zu socket%s listen%s on it here now%s%s%s", n,
	    n == 1 ? "" : "s", n == 1 ? "s" : "", *who ? " (" : "", who,
	    *who ? ")" : "");
}

void
pdx_card_summarize(json_t *card)
{
	struct sent s;
	json_t *head = headline(card);

	memset(&s, 0, sizeof s);
	official_part(&s, card);
	practice_part(&s, card, head);
	risk_part(&s, card);
	local_part(&s, card);
	if (s.len + 1 < sizeof s.buf)
		s.buf[s.len++] = '.';
	s.buf[s.len] = '\0';
	s.buf[0] = (char)toupper((unsigned char)s.buf[0]);
	json_object_set_new(card, "headline", head);
	json_object_set_new(card, "summary", json_string(s.buf));
}

json_t *
pdx_card_full(struct pdx_db *d, struct pdx_state *st, unsigned port,
    int protomask, int flags)
{
	json_t *card = pdx_card(d, port, protomask);

	if (card == NULL)
		return NULL;
	pdx_card_add_notes((flags & PDX_CARD_NOTES) ? st : NULL, card);
	if (flags & PDX_CARD_LOCAL)
		pdx_card_add_local(card, protomask);
	pdx_card_summarize(card);
	return card;
}
