/*
 * card-view.c - the card as it is displayed: one table of sections, each
 * turning the card model into blocks (group, record, field, para, item,
 * rule, code, qa; portdex/view.h).  The text renderer (src/render.c) and
 * the web page (src/serve-html.c) only draw these blocks, so labels,
 * order, grouping and wording live here once and the two cannot drift.
 * It never reads a database: the model is complete when it gets here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portdex.h"
#include "portdex/view.h"

static const char *
js(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "";
}

static long long
ji(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void
add(json_t *blocks, json_t *b)
{
	json_array_append_new(blocks, b);
}

static json_t *
para(const char *text)
{
	return json_pack("{s:s, s:s}", "t", "para", "text", text);
}

static json_t *
field(const char *label, const char *text, const char *href)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "t", "field", "label", label,
	    "text", text);

	if (href != NULL && *href != '\0')
		json_object_set_new(o, "href", json_string(href));
	return o;
}

/* ---- sources, in words ------------------------------------------------ */

#define IANA_SEARCH \
	"https://www.iana.org/assignments/service-names-port-" \
	"numbers/service-names-port-numbers.xhtml?search="

void
pdx_source_display(const char *s, size_t n, char *text, size_t tn, char *href,
    size_t hn)
{
	const char *e = s + n, *u, *sp;

	href[0] = '\0';
	if (n > 4 && strncmp(s, "RFC ", 4) == 0) {
		snprintf(text, tn, "%.*s", (int)n, s);
		snprintf(href, hn, "https://www.rfc-editor.org/rfc/rfc%.*s",
		    (int)(n - 4), s + 4);
		return;
	}
	if (n > 14 && strncmp(s, "IANA registry ", 14) == 0) {
		/* IANA registry NAME PORT[/PROTO]: link the port */
		size_t plen;

		sp = memchr(s + 14, ' ', n - 14);
		snprintf(text, tn, "IANA's registry: %.*s", (int)(n - 14),
		    s + 14);
		if (sp != NULL) {
			sp++;
			for (plen = 0; sp + plen < e && sp[plen] >= '0' &&
			     sp[plen] <= '9';
			     plen++)
				;
			if (plen > 0)
				snprintf(href, hn, IANA_SEARCH "%.*s",
				    (int)plen, sp);
		}
		return;
	}
	if (n > 14 && strncmp(s, "nmap-services ", 14) == 0) {
		snprintf(text, tn, "nmap's service list: %.*s", (int)(n - 14),
		    s + 14);
		return;
	}
	if (n > 5 && strncmp(s, "seed:", 5) == 0) {
		snprintf(text, tn,
		    "an article on a port-reference site "
		    "(portdex seed %.*s)",
		    (int)(n - 5), s + 5);
		return;
	}
	for (u = s; u + 7 <= e; u++)
		if ((strncmp(u, "https://", 8) == 0 ||
			strncmp(u, "http://", 7) == 0) &&
		    (u == s || u[-1] == ' '))
			break;
	if (u + 7 > e) {
		snprintf(text, tn, "%.*s", (int)n, s);
		return;
	}
	snprintf(href, hn, "%.*s", (int)(e - u), u);
	{
		const char *h = u + (u[4] == 's' ? 8 : 7), *he;

		for (he = h; he < e && *he != '/'; he++)
			;
		if (strncmp(h, "www.", 4) == 0)
			h += 4;
		if (u > s) /* "Title https://...": the title and host */
			snprintf(text, tn, "%.*s (%.*s)", (int)(u - s - 1), s,
			    (int)(he - h), h);
		else
			snprintf(text, tn, "a page on %.*s", (int)(he - h), h);
	}
}

/* The sources of a use as [{text, href?}]. */
static json_t *
sources(const char *src)
{
	json_t *a = json_array();
	const char *p = src, *semi;
	char text[512], href[1024];

	while (*p != '\0') {
		size_t n;
		json_t *o;

		semi = strstr(p, "; ");
		n = semi != NULL ? (size_t)(semi - p) : strlen(p);
		pdx_source_display(p, n, text, sizeof text, href, sizeof href);
		o = json_pack("{s:s}", "text", text);
		if (*href != '\0')
			json_object_set_new(o, "href", json_string(href));
		json_array_append_new(a, o);
		if (semi == NULL)
			break;
		p = semi + 2;
	}
	return a;
}

/* ---- official --------------------------------------------------------- */

/* Two rows equal but for their "transport" member (compared in place). */
static int
equal_but_transport(json_t *x, json_t *y)
{
	const char *k;
	json_t *v;
	size_t nx = 0;

	if (!json_is_object(x) || !json_is_object(y))
		return json_equal(x, y);
	json_object_foreach(x, k, v)
	{
		if (strcmp(k, "transport") == 0)
			continue;
		nx++;
		if (!json_equal(v, json_object_get(y, k)))
			return 0;
	}
	return nx ==
	    json_object_size(y) - (json_object_get(y, "transport") != NULL);
}

/* Are the IANA rows of two transports the same but for the transport? */
static int
same_rows(json_t *a, json_t *b)
{
	json_t *ra = json_object_get(a, "iana"),
	       *rb = json_object_get(b, "iana");
	size_t i;

	if (strcmp(js(a, "status"), js(b, "status")) != 0 ||
	    strcmp(js(a, "was"), js(b, "was")) != 0)
		return 0;
	if (!json_is_array(ra) || !json_is_array(rb))
		return json_equal(ra, rb);
	if (json_array_size(ra) != json_array_size(rb))
		return 0;
	for (i = 0; i < json_array_size(ra); i++)
		if (!equal_but_transport(json_array_get(ra, i),
			json_array_get(rb, i)))
			return 0;
	return 1;
}

static json_t *
iana_record(json_t *row, int media)
{
	static const struct {
		const char *key, *label;
	} fields[] = {
		{ "service_name", "Service" },
		{ "port", "Range" },
		{ "description", "Description" },
		{ "assignee", "Assignee" },
		{ "contact", "Contact" },
		{ "registration_date", "Registered" },
		{ "modification_date", "Modified" },
		{ "reference", "Reference" },
		{ "service_code", "Service code" },
		{ "unauthorized_use", "Unauthorized" },
		{ "notes", "Notes" },
	};
	json_t *f = json_array();
	char href[256];
	size_t i;

	for (i = 0; i < sizeof fields / sizeof *fields; i++) {
		const char *v = js(row, fields[i].key);

		if (*v == '\0' || (i == 1 && strchr(v, '-') == NULL))
			continue;
		json_array_append_new(f, field(fields[i].label, v, NULL));
	}
	if (strcmp(js(row, "source"), "iana") != 0)
		json_array_append_new(f,
		    field("Source",
			"a services file, "
			"not IANA's registry",
			NULL));
	else if (media == PDX_VIEW_HTML) {
		/* a link: the URL is too long for a terminal's line */
		snprintf(href, sizeof href, IANA_SEARCH "%lld",
		    atoll(js(row, "port")));
		json_array_append_new(f,
		    field("IANA entry",
			"this port in "
			"IANA's registry",
			href));
	}
	return json_pack("{s:s, s:o}", "t", "record", "fields", f);
}

static void
sec_official(json_t *card, json_t *b, int media)
{
	json_t *ts = json_object_get(card, "transports");
	json_t *reg = json_object_get(card, "registry");
	size_t n = json_array_size(ts), i, j, k;
	char done[8] = { 0 }, buf[256];
	const char *origin = js(reg, "origin");

	if (strcmp(js(reg, "primary"), "services") == 0)
		add(b,
		    para(
			"IANA's registry was not loaded (run portdex "
			"update): the names below come from a services file and "
			"say nothing of IANA's status."));
	else if (*js(reg, "primary") != '\0') {
		snprintf(buf, sizeof buf, "IANA's registry as of %s, %s",
		    *js(reg, "date") != '\0' ? js(reg, "date")
					     : "an unknown date",
		    strcmp(origin, "shipped") == 0
			? "the copy shipped with portdex"
			: strcmp(origin, "downloaded") == 0
			? "downloaded by portdex update --download"
			: "from the file given to portdex update");
		add(b, field("Registry", buf, NULL));
	}
	for (i = 0; i < n && i < sizeof done; i++) {
		json_t *t = json_array_get(ts, i), *rows;
		char protos[64] = "";

		if (done[i])
			continue;
		for (j = i; j < n && j < sizeof done; j++) {
			if (done[j] || !same_rows(t, json_array_get(ts, j)))
				continue;
			done[j] = 1;
			snprintf(protos + strlen(protos),
			    sizeof protos - strlen(protos), "%s%s",
			    *protos ? ", " : "",
			    js(json_array_get(ts, j), "transport"));
		}
		if (strcmp(js(reg, "primary"), "services") == 0)
			/* a services file knows names, not IANA's status */
			snprintf(buf, sizeof buf, "%s",
			    json_array_size(json_object_get(t, "iana")) > 0
				? "named in a "
				  "services file; IANA's status unknown"
				: "not in "
				  "the services file; IANA's status unknown");
		else if (*js(t, "was") != '\0')
			snprintf(buf, sizeof buf, "%s (was %s)",
			    js(t, "status"), js(t, "was"));
		else
			snprintf(buf, sizeof buf, "%s", js(t, "status"));
		add(b,
		    json_pack("{s:s, s:s, s:s}", "t", "group", "label", protos,
			"text", buf));
		rows = json_object_get(t, "iana");
		if (json_array_size(rows) == 0)
			add(b,
			    para(strcmp(js(reg, "primary"), "services") == 0
				    ? "No services-file entry covers this port."
				    : "No IANA row covers this port on these transports: "
				      "it is unassigned."));
		for (k = 0; k < json_array_size(rows); k++)
			add(b, iana_record(json_array_get(rows, k), media));
	}
}

/* ---- range ------------------------------------------------------------ */

static void
sec_range(json_t *card, json_t *b, int media)
{
	json_t *r = json_object_get(card, "range");
	json_t *e = json_object_get(r, "ephemeral");
	char buf[512];

	(void)media;
	snprintf(buf, sizeof buf, "%s port (%lld-%lld): %s.", js(r, "label"),
	    ji(r, "lo"), ji(r, "hi"), js(r, "meaning"));
	add(b, para(buf));
	if (json_is_object(e)) {
		int in = json_is_true(json_object_get(e, "inside"));

		snprintf(buf, sizeof buf,
		    "%s this kernel's ephemeral range "
		    "%lld-%lld%s",
		    in ? "Inside" : "Outside", ji(e, "lo"), ji(e, "hi"),
		    in ? ": outgoing connections may take it "
			 "as their source port."
		       : ".");
		add(b, para(buf));
	}
}

/* ---- in practice ------------------------------------------------------ */

/* nmap's figures for one transport, the same words in every medium. */
static void
nmap_para(json_t *card, json_t *t, json_t *b)
{
	json_t *nm = json_object_get(t, "nmap");
	char buf[512], of[64] = "";

	if (!json_is_object(nm))
		return;
	if (ji(nm, "ranked") > 0)
		snprintf(of, sizeof of, " of %lld %s ports", ji(nm, "ranked"),
		    js(t, "transport"));
	if (json_real_value(json_object_get(nm, "frequency")) <= 0)
		snprintf(buf, sizeof buf,
		    "nmap lists %lld/%s as %s but has "
		    "not seen it open (frequency 0).",
		    ji(card, "port"), js(t, "transport"), js(nm, "name"));
	else
		snprintf(buf, sizeof buf,
		    "nmap sees %lld/%s open with "
		    "frequency %.6f (rank %lld%s; nmap calls it %s).",
		    ji(card, "port"), js(t, "transport"),
		    json_real_value(json_object_get(nm, "frequency")),
		    ji(nm, "rank"), of, js(nm, "name"));
	add(b, para(buf));
}

static json_t *
use_item(json_t *u)
{
	char meta[256];
	const char *pl = js(u, "platform"), *yr = js(u, "years");
	int haspl = *pl != '\0' && strcmp(pl, "-") != 0;
	int hasyr = *yr != '\0' && strcmp(yr, "-") != 0;

	snprintf(meta, sizeof meta, "%s%s%s%s%s, %s", js(u, "kind"),
	    haspl ? ", " : "", haspl ? pl : "", hasyr ? ", " : "",
	    hasyr ? yr : "", js(u, "confidence"));
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "t", "item", "title",
	    js(u, "name"), "meta", meta, "text", js(u, "text"), "sources",
	    sources(js(u, "source")), "lead",
	    json_is_true(json_object_get(u, "lead")));
}

static void
sec_practice(json_t *card, json_t *b, int media)
{
	json_t *ts = json_object_get(card, "transports");
	json_t *uses = json_object_get(card, "uses");
	size_t i, before = json_array_size(b);
	int pass;

	(void)media;
	for (i = 0; i < json_array_size(ts); i++)
		nmap_para(card, json_array_get(ts, i), b);
	/* the lead first, then what a source backs, then nmap's labels */
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < json_array_size(uses); i++) {
			json_t *u = json_array_get(uses, i);
			int lead = json_is_true(json_object_get(u, "lead"));
			int obs = strcmp(js(u, "confidence"), "observed") == 0;
			char buf[640];

			if ((pass == 0) != lead || (pass == 2) != obs)
				continue;
			if (!obs) {
				add(b, use_item(u));
				continue;
			}
			snprintf(buf, sizeof buf,
			    "%s (%s, nmap's label "
			    "alone): %s",
			    js(u, "name"), js(u, "kind"), js(u, "text"));
			add(b, para(buf));
		}
	if (json_array_size(b) == before)
		add(b, para("No observed or curated use is recorded."));
}

/* ---- security --------------------------------------------------------- */

static void
sec_security(json_t *card, json_t *b, int media)
{
	json_t *ts = json_object_get(card, "transports");
	json_t *done = json_object();
	size_t i, j, k, m;

	(void)media;
	add(b,
	    field("Risk level", js(json_object_get(card, "risk"), "level"),
		NULL));
	/* each rule once, with every transport it fired for */
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *rs = json_object_get(json_object_get(json_array_get(ts,
								 i),
						 "risk"),
		    "reasons");

		for (k = 0; k < json_array_size(rs); k++) {
			json_t *r = json_array_get(rs, k);
			char buf[640], tag[64] = "";

			if (json_object_get(done, js(r, "rule")) != NULL)
				continue;
			json_object_set_new(done, js(r, "rule"), json_true());
			for (j = i; j < json_array_size(ts); j++) {
				json_t *t = json_array_get(ts, j);
				json_t *rr = json_object_get(json_object_get(t,
								 "risk"),
				    "reasons");

				for (m = 0; m < json_array_size(rr); m++)
					if (strcmp(js(json_array_get(rr, m),
						       "rule"),
						js(r, "rule")) == 0)
						break;
				if (m < json_array_size(rr))
					snprintf(tag + strlen(tag),
					    sizeof tag - strlen(tag), "%s%s",
					    *tag ? "," : "",
					    js(t, "transport"));
			}
			if (*js(r, "what") != '\0')
				snprintf(buf, sizeof buf, "%s (%s): %s",
				    js(r, "rule"), js(r, "what"),
				    js(r, "text"));
			else
				snprintf(buf, sizeof buf, "%s: %s",
				    js(r, "rule"), js(r, "text"));
			add(b,
			    json_pack("{s:s, s:s, s:s, s:s, s:s}", "t", "rule",
				"level", js(r, "level"), "tags", tag, "text",
				buf, "rule", js(r, "rule")));
		}
	}
	if (json_object_size(done) == 0)
		add(b, para("No risk rule applies."));
	json_decref(done);
}

/* ---- related, notes, local, check -------------------------------------- */

static void
sec_related(json_t *card, json_t *b, int media)
{
	json_t *rel = json_object_get(card, "related");
	size_t i;

	(void)media;
	for (i = 0; i < json_array_size(rel); i++) {
		json_t *r = json_array_get(rel, i);
		char p[48], buf[256], href[64];

		if (ji(r, "port_hi") > ji(r, "port"))
			snprintf(p, sizeof p, "%lld-%lld", ji(r, "port"),
			    ji(r, "port_hi"));
		else
			snprintf(p, sizeof p, "%lld", ji(r, "port"));
		snprintf(href, sizeof href, "/port/%lld", ji(r, "port"));
		snprintf(buf, sizeof buf, "%s%s%s", js(r, "service"),
		    *js(r, "service") != '\0' ? ": " : "", js(r, "reason"));
		add(b, field(p, buf, href));
	}
}

static void
sec_notes(json_t *card, json_t *b, int media)
{
	json_t *notes = json_object_get(card, "notes");
	size_t i;
	char buf[256];

	if (*js(card, "notes_error") != '\0') {
		char msg[768];

		snprintf(msg, sizeof msg, "Your notes could not be read: %s%s",
		    js(card, "notes_error"),
		    strstr(js(card, "notes_error"), "; ") != NULL
			? "."
			: "; run 'portdex state check'.");
		add(b, para(msg));
		return;
	}
	if (json_array_size(notes) == 0) {
		snprintf(buf, sizeof buf,
		    media == PDX_VIEW_HTML
			? "None. Record yours on this machine with: portdex note "
			  "%lld TEXT"
			: "None. Record yours with: portdex note "
			  "%lld TEXT",
		    ji(card, "port"));
		add(b, para(buf));
	}
	for (i = 0; i < json_array_size(notes); i++) {
		json_t *n = json_array_get(notes, i);

		snprintf(buf, sizeof buf, "%s%s%s", js(n, "author"),
		    *js(n, "author") != '\0' ? ", " : "", js(n, "created"));
		add(b,
		    json_pack("{s:s, s:s, s:s, s:s, s:[]}", "t", "item",
			"title", js(n, "transport"), "meta", buf, "text",
			js(n, "text"), "sources"));
	}
}

static void
sec_local(json_t *card, json_t *b, int media)
{
	json_t *local = json_object_get(card, "local");
	json_t *socks = json_object_get(local, "sockets");
	size_t i;

	(void)media;
	if (*js(local, "error") != '\0') {
		add(b, para(js(local, "error")));
		return;
	}
	if (json_array_size(socks) == 0)
		add(b, para(js(local, "summary")));
	for (i = 0; i < json_array_size(socks); i++)
		add(b,
		    json_pack("{s:s, s:s, s:s}", "t", "code", "label", "",
			"text", js(json_array_get(socks, i), "line")));
	/* the firewall: ports published by DNAT rules, a ruleset not read */
	for (i = 0; i < json_array_size(json_object_get(local, "published"));
	     i++)
		add(b,
		    para(js(json_array_get(json_object_get(local, "published"),
				i),
			"text")));
	if (*js(local, "firewall_error") != '\0')
		add(b, para(js(local, "firewall_error")));
	if (*js(local, "footer") != '\0')
		add(b, para(js(local, "footer")));
}

static const struct {
	const char *key, *label;
} check_os[] = {
	{ "linux", "Linux" },
	{ "macos", "macOS" },
	{ "windows", "Windows" },
};

static void
sec_check(json_t *card, json_t *b, int media)
{
	json_t *c = json_object_get(card, "check");
	size_t i, k;

	(void)media;
	for (i = 0; i < sizeof check_os / sizeof *check_os; i++) {
		json_t *a = json_object_get(c, check_os[i].key);

		for (k = 0; k < json_array_size(a); k++)
			add(b,
			    json_pack("{s:s, s:s, s:s}", "t", "code", "label",
				k == 0 ? check_os[i].label : "", "text",
				json_string_value(json_array_get(a, k))));
	}
}

/* ---- questions people ask (the seed pages' FAQ), from the model ---------- */

static void
qa(json_t *b, const char *q, const char *a)
{
	add(b, json_pack("{s:s, s:s, s:s}", "t", "qa", "label", q, "text", a));
}

static void
sec_faq(json_t *card, json_t *b, int media)
{
	json_t *ts = json_object_get(card, "transports");
	json_t *uses = json_object_get(card, "uses");
	long long port = ji(card, "port");
	const char *lvl = js(json_object_get(card, "risk"), "level");
	char q[128], a[1024], list[512] = "", seen[256] = "";
	size_t i, n = 0;

	(void)media;
	for (i = 0; i < json_array_size(uses) && n < 4; i++) {
		json_t *u = json_array_get(uses, i);

		if (strcmp(js(u, "kind"), "iana-unauthorized") == 0)
			continue;
		snprintf(list + strlen(list), sizeof list - strlen(list),
		    "%s%s (%s, %s)", n ? "; " : "", js(u, "name"),
		    js(u, "kind"), js(u, "confidence"));
		n++;
	}
	snprintf(q, sizeof q, "What uses port %lld?", port);
	snprintf(a, sizeof a, "%s%s%s",
	    n ? "Known uses: "
	      : "No curated "
		"use is recorded; see what IANA assigns above and what nmap "
		"observes.",
	    list, n ? "." : "");
	qa(b, q, a);
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		size_t l = strlen(seen);

		if (strcmp(js(t, "status"), "assigned") == 0)
			snprintf(seen + l, sizeof seen - l, "%s%s",
			    l ? ", " : "", js(t, "transport"));
	}
	snprintf(q, sizeof q, "Is port %lld TCP or UDP?", port);
	if (*seen != '\0')
		snprintf(a, sizeof a,
		    "IANA assigns it on %s; the other "
		    "transports are listed above with their own status.",
		    seen);
	else
		snprintf(a, sizeof a,
		    "IANA assigns it on no transport; the "
		    "status of each is listed above.");
	qa(b, q, a);
	snprintf(q, sizeof q, "Is it safe to leave port %lld open?", port);
	snprintf(a, sizeof a,
	    "portdex rates it %s. Whether to leave it open "
	    "depends on what listens and who can reach it: close what you "
	    "do not run, and keep admin and database services off the "
	    "internet.",
	    lvl);
	qa(b, q, a);
	snprintf(q, sizeof q, "How do I see what listens on port %lld?", port);
	snprintf(a, sizeof a,
	    "On Linux: portdex ls -p %lld, or sudo ss "
	    "-tulpn 'sport = :%lld'; the commands for macOS and Windows are "
	    "listed above.",
	    port, port);
	qa(b, q, a);
}

/* ---- the table -------------------------------------------------------- */

static const struct view_section {
	const char *id;
	const char *title;
	int media;	   /* PDX_VIEW_* it appears in */
	const char *needs; /* card key that must be present */
	void (*build)(json_t *card, json_t *blocks, int media);
} sections[] = {
	{ "official", "Official (IANA)", PDX_VIEW_TEXT | PDX_VIEW_HTML, NULL,
	    sec_official },
	{ "range", "Range", PDX_VIEW_TEXT | PDX_VIEW_HTML, NULL, sec_range },
	{ "practice", "In practice", PDX_VIEW_TEXT | PDX_VIEW_HTML, NULL,
	    sec_practice },
	{ "security", "Security", PDX_VIEW_TEXT | PDX_VIEW_HTML, NULL,
	    sec_security },
	{ "related", "Related ports", PDX_VIEW_TEXT | PDX_VIEW_HTML, "related",
	    sec_related },
	{ "notes", "Your notes", PDX_VIEW_TEXT | PDX_VIEW_HTML, "notes",
	    sec_notes },
	{ "local", "On this machine", PDX_VIEW_TEXT | PDX_VIEW_HTML, "local",
	    sec_local },
	{ "check", "Check it yourself", PDX_VIEW_TEXT | PDX_VIEW_HTML, NULL,
	    sec_check },
	{ "faq", "Questions people ask", PDX_VIEW_HTML, NULL, sec_faq },
};

json_t *
pdx_card_view(json_t *card, int media)
{
	json_t *v, *secs = json_array(),
		   *head = json_object_get(card, "headline");
	size_t i;

	for (i = 0; i < sizeof sections / sizeof *sections; i++) {
		const struct view_section *s = &sections[i];
		json_t *blocks;

		if ((s->media & media) == 0 ||
		    (s->needs != NULL &&
			json_object_get(card, s->needs) == NULL))
			continue;
		blocks = json_array();
		s->build(card, blocks, media);
		if (json_array_size(blocks) == 0) {
			json_decref(blocks);
			continue;
		}
		json_array_append_new(secs,
		    json_pack("{s:s, s:s, s:o}", "id", s->id, "title", s->title,
			"blocks", blocks));
	}
	v = json_pack("{s:I, s:s, s:s, s:s, s:o}", "port",
	    (json_int_t)ji(card, "port"), "headline", js(head, "text"),
	    "iana_name", js(head, "iana_name"), "summary", js(card, "summary"),
	    "sections", secs);
	return v;
}
