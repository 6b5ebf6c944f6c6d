/*
 * serve-html.c - the web pages of `portdex serve`: the home page with its
 * search box, search results, the card of a port as a page (the same
 * sections, in the same order, as render.c's text card, plus the vote),
 * the error pages and the one style sheet.  Every value that comes from
 * the model, the request or the databases goes through hb_esc(), the
 * only HTML escaper; pages carry no script, no inline style and nothing
 * from another origin.  Routing and headers are serve.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

/* ---- the bounded buffer ------------------------------------------------ */

void
hb_init(struct hbuf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max;
}

void
hb_free(struct hbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
hb_add(struct hbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap > 0 ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		if (b->len + n + 1 > cap ||
		    (p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
hb_puts(struct hbuf *b, const char *s)
{
	hb_add(b, s, strlen(s));
}

void
hb_printf(struct hbuf *b, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		hb_add(b, small, (size_t)n);
		return;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	hb_add(b, big, (size_t)n);
	free(big);
}

void
hb_esc(struct hbuf *b, const char *s)
{
	static const char *const ent[256] = {
		['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
		['"'] = "&quot;", ['\''] = "&#39;",
	};
	const char *run;

	if (s == NULL)
		return;
	for (run = s; *s != '\0'; s++) {
		const char *e = ent[(unsigned char)*s];

		if (e == NULL)
			continue;
		hb_add(b, run, (size_t)(s - run));
		hb_puts(b, e);
		run = s + 1;
	}
	hb_add(b, run, (size_t)(s - run));
}

char *
hb_take(struct hbuf *b, size_t *len)
{
	char *p = b->p;

	*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- the frame of every page ------------------------------------------ */

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static long long
jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void
page_open(struct req *r, const char *title, const char *q)
{
	r->type = "text/html; charset=utf-8";
	hb_puts(&r->out, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>");
	hb_esc(&r->out, title);
	hb_puts(&r->out, " - portdex</title>\n<link rel=\"stylesheet\" "
	    "href=\"/style.css\">\n</head>\n<body>\n<header>\n<a class=\"home\""
	    " href=\"/\">portdex</a>\n<form class=\"top\" action=\"/search\" "
	    "method=\"get\" role=\"search\"><input type=\"search\" name=\"q\" "
	    "aria-label=\"Search ports\" maxlength=\"256\" value=\"");
	hb_esc(&r->out, q);
	hb_puts(&r->out, "\"><button type=\"submit\">Search</button></form>\n"
	    "</header>\n<main>\n");
}

static void
page_close(struct req *r)
{
	hb_puts(&r->out, "</main>\n<footer>portdex " PDX_VERSION
	    " &middot; official data from the IANA Service Name and "
	    "Transport Protocol Port Number Registry &middot; "
	    "<a href=\"/api/v1/search?q=http\">JSON API</a> &middot; "
	    "<a href=\"/metrics\">metrics</a></footer>\n</body>\n</html>\n");
}

void
html_error(struct req *r, int status, const char *title, const char *text)
{
	hb_free(&r->out);
	hb_init(&r->out, SERVE_MAX_PAGE);
	r->status = status;
	page_open(r, title, "");
	hb_printf(&r->out, "<h1 class=\"error\">%d ", status);
	hb_esc(&r->out, title);
	hb_puts(&r->out, "</h1>\n<p>");
	hb_esc(&r->out, text);
	hb_puts(&r->out, "</p>\n<p><a href=\"/\">Search the port "
	    "registry</a></p>\n");
	page_close(r);
}

void
html_style(struct req *r)
{
	static const char css[] =
	    ":root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fdfdfb;"
	    "--dim:#666;--line:#ddd;--acc:#0b5cad;--high:#b00020;"
	    "--medium:#9a5b00;--low:#00707a}\n"
	    "@media (prefers-color-scheme:dark){:root{--fg:#e6e6e6;"
	    "--bg:#151515;--dim:#9a9a9a;--line:#333;--acc:#6cb2ff;"
	    "--high:#ff6b7f;--medium:#ffb347;--low:#4fd1d9}}\n"
	    "*{box-sizing:border-box}\n"
	    "body{margin:0 auto;max-width:48rem;padding:0 1rem;"
	    "font:1rem/1.5 system-ui,sans-serif;color:var(--fg);"
	    "background:var(--bg)}\n"
	    "header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;"
	    "align-items:center;padding:.75rem 0;"
	    "border-bottom:1px solid var(--line)}\n"
	    "a{color:var(--acc)}\n"
	    ".home{font-weight:700;text-decoration:none;font-size:1.2rem}\n"
	    "form.top,form.big{display:flex;flex:1;gap:.5rem;min-width:14rem}\n"
	    "input[type=search]{flex:1;min-width:0;padding:.4rem .5rem;"
	    "font:inherit;border:1px solid var(--line);border-radius:4px;"
	    "background:var(--bg);color:var(--fg)}\n"
	    "button{font:inherit;padding:.4rem .8rem;border-radius:4px;"
	    "border:1px solid var(--line);background:var(--bg);"
	    "color:var(--fg);cursor:pointer}\n"
	    "h1{font-size:1.6rem;margin:1rem 0 .25rem}\n"
	    "h2{font-size:1.15rem;margin:1.5rem 0 .5rem;padding-bottom:.2rem;"
	    "border-bottom:1px solid var(--line)}\n"
	    "dl{display:grid;grid-template-columns:max-content 1fr;"
	    "gap:.1rem 1rem;margin:.5rem 0}\n"
	    "dt{color:var(--dim)}dd{margin:0;overflow-wrap:anywhere}\n"
	    "@media (max-width:30rem){dl{grid-template-columns:1fr}"
	    "dd{margin-bottom:.4rem}}\n"
	    "code,pre{font-family:ui-monospace,monospace;font-size:.9rem}\n"
	    "pre{overflow-x:auto;padding:.5rem;border:1px solid var(--line);"
	    "border-radius:4px;white-space:pre-wrap}\n"
	    ".sub,.src,footer{color:var(--dim)}\n.src{font-size:.85rem}\n"
	    "footer{margin:2rem 0 1rem;font-size:.85rem;"
	    "border-top:1px solid var(--line);padding-top:.5rem}\n"
	    ".lvl{font-weight:700;text-transform:uppercase;font-size:.8rem}\n"
	    ".lvl-high{color:var(--high)}.lvl-medium{color:var(--medium)}"
	    ".lvl-low{color:var(--low)}.lvl-info,.lvl-none{color:var(--dim)}\n"
	    ".protos a,.protos strong{margin-right:.6rem}\n"
	    "ul.results{list-style:none;padding:0}\n"
	    "ul.results li{padding:.5rem 0;border-bottom:1px solid "
	    "var(--line)}\n"
	    ".vote{display:flex;gap:.5rem;flex-wrap:wrap}\n"
	    ".vote button{font-size:1.3rem}\n"
	    ".error{color:var(--high)}\n";

	r->type = "text/css; charset=utf-8";
	r->cacheable = 1;
	hb_puts(&r->out, css);
}

void
html_home(struct req *r)
{
	static const unsigned examples[] = { 22, 53, 80, 443, 645, 1644,
	    3389, 6667 };
	size_t i;

	page_open(r, "Every TCP and UDP port", "");
	hb_puts(&r->out, "<h1>What is this port?</h1>\n"
	    "<p>portdex knows every TCP, UDP, SCTP and DCCP port: what IANA "
	    "assigned it to, what really uses it, the range it sits in, "
	    "whether it should worry you, and how to check what listens on "
	    "it.</p>\n"
	    "<form class=\"big\" action=\"/search\" method=\"get\" "
	    "role=\"search\"><input id=\"q\" type=\"search\" name=\"q\" "
	    "maxlength=\"256\" autofocus placeholder=\"a port, a service "
	    "name or words\" aria-label=\"Search ports\"><button "
	    "id=\"go\" type=\"submit\">Search</button></form>\n"
	    "<p>Or open a port directly: ");
	for (i = 0; i < sizeof examples / sizeof *examples; i++)
		hb_printf(&r->out, "%s<a href=\"/port/%u\">%u</a>", i > 0 ?
		    ", " : "", examples[i], examples[i]);
	hb_puts(&r->out, ".</p>\n<p class=\"sub\">The same data as JSON: "
	    "<code>/api/v1/ports/N</code>, <code>/api/v1/search?q=</code>; "
	    "Prometheus metrics at <code>/metrics</code>.</p>\n");
	page_close(r);
}

static void
port_label(struct hbuf *b, json_t *o)
{
	long long lo = jint(o, "port"), hi = jint(o, "port_hi");

	if (hi > lo)
		hb_printf(b, "%lld-%lld", lo, hi);
	else
		hb_printf(b, "%lld", lo);
}

void
html_search(struct req *r, const char *q, json_t *res)
{
	size_t i, j;
	long long p;

	page_open(r, *q != '\0' ? q : "Search", q);
	if (*q == '\0') {
		hb_puts(&r->out, "<h1>Search</h1>\n<p>Type a port, a service "
		    "name or words in the box above.</p>\n");
		page_close(r);
		return;
	}
	hb_puts(&r->out, "<h1>Results for &ldquo;");
	hb_esc(&r->out, q);
	hb_puts(&r->out, "&rdquo;</h1>\n");
	/* A number is a port: offer its page first. */
	if (pdx_parse_number(q, 0, 65535, "port", &p) == 0)
		hb_printf(&r->out, "<p>Go to <a href=\"/port/%lld\">port "
		    "%lld</a>.</p>\n", p, p);
	if (json_array_size(res) == 0) {
		hb_puts(&r->out, "<p>Nothing matches.</p>\n");
		page_close(r);
		return;
	}
	hb_puts(&r->out, "<ul class=\"results\">\n");
	for (i = 0; i < json_array_size(res); i++) {
		json_t *o = json_array_get(res, i), *t;

		hb_puts(&r->out, "<li>");
		if (json_is_integer(json_object_get(o, "port"))) {
			hb_printf(&r->out, "<a href=\"/port/%lld\">",
			    jint(o, "port"));
			port_label(&r->out, o);
			hb_puts(&r->out, "</a> ");
		}
		hb_puts(&r->out, "<strong>");
		hb_esc(&r->out, jstr(o, "name"));
		hb_puts(&r->out, "</strong> <span class=\"sub\">");
		t = json_object_get(o, "transports");
		for (j = 0; j < json_array_size(t); j++) {
			hb_puts(&r->out, j > 0 ? ", " : "");
			hb_esc(&r->out, json_string_value(
			    json_array_get(t, j)));
		}
		hb_puts(&r->out, " &middot; ");
		hb_esc(&r->out, jstr(o, "kind"));
		hb_puts(&r->out, "</span><br>");
		hb_esc(&r->out, jstr(o, "text"));
		hb_puts(&r->out, "</li>\n");
	}
	hb_puts(&r->out, "</ul>\n");
	page_close(r);
}

/* ---- the card ---------------------------------------------------------- */

static void
section(struct req *r, const char *id, const char *title)
{
	hb_printf(&r->out, "<section id=\"%s\">\n<h2>", id);
	hb_esc(&r->out, title);
	hb_puts(&r->out, "</h2>\n");
}

static void
dd(struct req *r, const char *label, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	hb_puts(&r->out, "<dt>");
	hb_esc(&r->out, label);
	hb_puts(&r->out, "</dt><dd>");
	hb_esc(&r->out, text);
	hb_puts(&r->out, "</dd>\n");
}

/* Are the IANA rows of two transports the same but for the transport? */
static int
same_rows(json_t *a, json_t *b)
{
	json_t *ca, *cb;
	size_t i;
	int eq;

	if (strcmp(jstr(a, "status"), jstr(b, "status")) != 0)
		return 0;
	ca = json_deep_copy(json_object_get(a, "iana"));
	cb = json_deep_copy(json_object_get(b, "iana"));
	for (i = 0; i < json_array_size(ca); i++)
		json_object_del(json_array_get(ca, i), "transport");
	for (i = 0; i < json_array_size(cb); i++)
		json_object_del(json_array_get(cb, i), "transport");
	eq = json_equal(ca, cb);
	json_decref(ca);
	json_decref(cb);
	return eq;
}

static void
card_official(struct req *r, json_t *card)
{
	static const struct {
		const char *key, *label;
	} fields[] = {
		{ "service_name", "Service" },
		{ "description", "Description" },
		{ "assignee", "Assignee" },
		{ "contact", "Contact" },
		{ "registration_date", "Registered" },
		{ "modification_date", "Modified" },
		{ "reference", "Reference" },
		{ "service_code", "Service code" },
		{ "unauthorized_use", "Unauthorized use" },
		{ "notes", "Notes" },
	};
	json_t *ts = json_object_get(card, "transports");
	size_t n = json_array_size(ts), i, j, k, f;
	char done[8] = { 0 };

	section(r, "official", "Official assignment (IANA)");
	for (i = 0; i < n && i < sizeof done; i++) {
		json_t *t = json_array_get(ts, i), *rows;

		if (done[i])
			continue;
		hb_puts(&r->out, "<h3>");
		for (j = i; j < n && j < sizeof done; j++) {
			if (done[j] || !same_rows(t, json_array_get(ts, j)))
				continue;
			done[j] = 1;
			hb_puts(&r->out, j > i ? ", " : "");
			hb_esc(&r->out, jstr(json_array_get(ts, j),
			    "transport"));
		}
		hb_puts(&r->out, ": ");
		hb_esc(&r->out, jstr(t, "status"));
		if (*jstr(t, "was") != '\0') {
			hb_puts(&r->out, " (was ");
			hb_esc(&r->out, jstr(t, "was"));
			hb_puts(&r->out, ")");
		}
		hb_puts(&r->out, "</h3>\n");
		rows = json_object_get(t, "iana");
		if (json_array_size(rows) == 0)
			hb_puts(&r->out, "<p>No IANA row covers this port: it "
			    "is unassigned.</p>\n");
		for (k = 0; k < json_array_size(rows); k++) {
			json_t *row = json_array_get(rows, k);

			hb_puts(&r->out, "<dl>\n");
			for (f = 0; f < sizeof fields / sizeof *fields; f++) {
				dd(r, fields[f].label, jstr(row,
				    fields[f].key));
				if (f == 0 && strchr(jstr(row, "port"), '-'))
					dd(r, "Range", jstr(row, "port"));
			}
			if (strcmp(jstr(row, "source"), "iana") != 0)
				dd(r, "Source", jstr(row, "source"));
			hb_puts(&r->out, "</dl>\n");
		}
	}
	hb_puts(&r->out, "</section>\n");
}

static void
card_range(struct req *r, json_t *card)
{
	json_t *g = json_object_get(card, "range");
	json_t *e = json_object_get(g, "ephemeral");

	section(r, "range", "The range it sits in");
	hb_puts(&r->out, "<p><strong>");
	hb_esc(&r->out, jstr(g, "label"));
	hb_printf(&r->out, "</strong> port (%lld-%lld): ", jint(g, "lo"),
	    jint(g, "hi"));
	hb_esc(&r->out, jstr(g, "meaning"));
	hb_puts(&r->out, ".</p>\n");
	if (json_is_object(e))
		hb_printf(&r->out, "<p>%s this machine's ephemeral range "
		    "%lld-%lld%s</p>\n", json_is_true(json_object_get(e,
		    "inside")) ? "Inside" : "Outside", jint(e, "lo"),
		    jint(e, "hi"), json_is_true(json_object_get(e, "inside")) ?
		    ": outgoing connections may take it as their source port." :
		    ".");
	hb_puts(&r->out, "</section>\n");
}

static void
card_practice(struct req *r, json_t *card)
{
	json_t *ts = json_object_get(card, "transports");
	json_t *uses = json_object_get(card, "uses");
	size_t i;
	int any = 0;

	section(r, "practice", "What actually uses it");
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		json_t *nm = json_object_get(t, "nmap");

		if (!json_is_object(nm))
			continue;
		hb_printf(&r->out, "<p>nmap sees %lld/", jint(card, "port"));
		hb_esc(&r->out, jstr(t, "transport"));
		hb_printf(&r->out, " open with frequency %.6f (rank %lld of "
		    "%lld; nmap calls it <code>", json_real_value(
		    json_object_get(nm, "frequency")), jint(nm, "rank"),
		    jint(nm, "ranked"));
		hb_esc(&r->out, jstr(nm, "name"));
		hb_puts(&r->out, "</code>).</p>\n");
		any = 1;
	}
	if (json_array_size(uses) > 0)
		hb_puts(&r->out, "<ul>\n");
	for (i = 0; i < json_array_size(uses); i++) {
		json_t *u = json_array_get(uses, i);
		const char *pl = jstr(u, "platform"), *yr = jstr(u, "years");

		hb_puts(&r->out, "<li><strong>");
		hb_esc(&r->out, jstr(u, "name"));
		hb_puts(&r->out, "</strong> <span class=\"sub\">(");
		hb_esc(&r->out, jstr(u, "kind"));
		if (*pl != '\0' && strcmp(pl, "-") != 0) {
			hb_puts(&r->out, ", ");
			hb_esc(&r->out, pl);
		}
		if (*yr != '\0' && strcmp(yr, "-") != 0) {
			hb_puts(&r->out, ", ");
			hb_esc(&r->out, yr);
		}
		hb_puts(&r->out, ", ");
		hb_esc(&r->out, jstr(u, "confidence"));
		hb_puts(&r->out, ")</span><br>");
		hb_esc(&r->out, jstr(u, "text"));
		hb_puts(&r->out, "<br><span class=\"src\">source: ");
		hb_esc(&r->out, jstr(u, "source"));
		hb_puts(&r->out, "</span></li>\n");
		any = 1;
	}
	if (json_array_size(uses) > 0)
		hb_puts(&r->out, "</ul>\n");
	if (!any)
		hb_puts(&r->out, "<p>No observed or curated use is "
		    "recorded.</p>\n");
	hb_puts(&r->out, "</section>\n");
}

static void
level(struct req *r, const char *lvl)
{
	hb_puts(&r->out, "<span class=\"lvl lvl-");
	hb_esc(&r->out, lvl);
	hb_puts(&r->out, "\">");
	hb_esc(&r->out, lvl);
	hb_puts(&r->out, "</span>");
}

static void
card_security(struct req *r, json_t *card)
{
	json_t *ts = json_object_get(card, "transports");
	json_t *seen = json_object();
	size_t i, k;
	int any = 0;

	section(r, "security", "Why it matters: security");
	hb_puts(&r->out, "<p>Risk level: ");
	level(r, jstr(json_object_get(card, "risk"), "level"));
	hb_puts(&r->out, "</p>\n<ul>\n");
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		json_t *rs = json_object_get(json_object_get(t, "risk"),
		    "reasons");

		for (k = 0; k < json_array_size(rs); k++) {
			json_t *x = json_array_get(rs, k);

			if (json_object_get(seen, jstr(x, "rule")) != NULL)
				continue;
			json_object_set_new(seen, jstr(x, "rule"),
			    json_true());
			hb_puts(&r->out, "<li>");
			level(r, jstr(x, "level"));
			hb_puts(&r->out, " <code>");
			hb_esc(&r->out, jstr(x, "rule"));
			hb_puts(&r->out, "</code>");
			if (*jstr(x, "what") != '\0') {
				hb_puts(&r->out, " (");
				hb_esc(&r->out, jstr(x, "what"));
				hb_puts(&r->out, ")");
			}
			hb_puts(&r->out, ": ");
			hb_esc(&r->out, jstr(x, "text"));
			hb_puts(&r->out, "</li>\n");
			any = 1;
		}
	}
	if (!any)
		hb_puts(&r->out, "<li>No risk rule applies.</li>\n");
	hb_puts(&r->out, "</ul>\n</section>\n");
	json_decref(seen);
}

static void
card_related(struct req *r, json_t *card)
{
	json_t *rel = json_object_get(card, "related");
	size_t i;

	if (json_array_size(rel) == 0)
		return;
	section(r, "related", "Related ports");
	hb_puts(&r->out, "<ul>\n");
	for (i = 0; i < json_array_size(rel); i++) {
		json_t *x = json_array_get(rel, i);

		hb_printf(&r->out, "<li><a href=\"/port/%lld\">",
		    jint(x, "port"));
		port_label(&r->out, x);
		hb_puts(&r->out, "</a> ");
		if (*jstr(x, "service") != '\0') {
			hb_puts(&r->out, "<strong>");
			hb_esc(&r->out, jstr(x, "service"));
			hb_puts(&r->out, "</strong>: ");
		}
		hb_esc(&r->out, jstr(x, "reason"));
		hb_puts(&r->out, "</li>\n");
	}
	hb_puts(&r->out, "</ul>\n</section>\n");
}

static void
card_notes(struct req *r, json_t *card)
{
	json_t *notes = json_object_get(card, "notes");
	size_t i;

	section(r, "notes", "Your notes");
	if (json_array_size(notes) == 0)
		hb_printf(&r->out, "<p>None. Record yours with <code>portdex "
		    "note %lld TEXT</code>.</p>\n", jint(card, "port"));
	else
		hb_puts(&r->out, "<ul>\n");
	for (i = 0; i < json_array_size(notes); i++) {
		json_t *n = json_array_get(notes, i);

		hb_puts(&r->out, "<li class=\"note\">");
		hb_esc(&r->out, jstr(n, "text"));
		hb_puts(&r->out, " <span class=\"src\">(");
		hb_esc(&r->out, jstr(n, "transport"));
		hb_puts(&r->out, ", ");
		hb_esc(&r->out, jstr(n, "author"));
		hb_puts(&r->out, ", ");
		hb_esc(&r->out, jstr(n, "created"));
		hb_puts(&r->out, ")</span></li>\n");
	}
	if (json_array_size(notes) > 0)
		hb_puts(&r->out, "</ul>\n");
	hb_puts(&r->out, "</section>\n");
}

/* One live socket: from the library's JSON, or a prepared line. */
static void
local_socket(struct req *r, json_t *s)
{
	json_t *l = json_object_get(s, "local");

	hb_puts(&r->out, "<li><code>");
	if (*jstr(s, "line") != '\0') {
		hb_esc(&r->out, jstr(s, "line"));
		hb_puts(&r->out, "</code></li>\n");
		return;
	}
	hb_esc(&r->out, jstr(s, "proto"));
	hb_puts(&r->out, " ");
	hb_esc(&r->out, jstr(l, "address"));
	hb_printf(&r->out, ":%lld</code> ", jint(l, "port"));
	hb_esc(&r->out, jstr(s, "state"));
	if (json_is_integer(json_object_get(s, "pid"))) {
		hb_printf(&r->out, ", pid %lld ", jint(s, "pid"));
		hb_esc(&r->out, jstr(s, "process"));
	}
	if (*jstr(s, "user") != '\0') {
		hb_puts(&r->out, ", user ");
		hb_esc(&r->out, jstr(s, "user"));
	}
	if (*jstr(s, "unit") != '\0') {
		hb_puts(&r->out, ", unit ");
		hb_esc(&r->out, jstr(s, "unit"));
	}
	if (*jstr(s, "container") != '\0') {
		hb_puts(&r->out, ", ");
		hb_esc(&r->out, jstr(s, "container"));
	}
	hb_puts(&r->out, "</li>\n");
}

static void
card_local(struct req *r, json_t *card)
{
	json_t *local = json_object_get(card, "local");
	json_t *socks = json_object_get(local, "sockets");
	size_t i;

	if (!json_is_object(local))
		return;
	section(r, "local", "On this machine, now");
	if (*jstr(local, "error") != '\0') {
		hb_puts(&r->out, "<p>");
		hb_esc(&r->out, jstr(local, "error"));
		hb_puts(&r->out, "</p>\n</section>\n");
		return;
	}
	if (json_array_size(socks) == 0) {
		hb_puts(&r->out, "<p>");
		hb_esc(&r->out, *jstr(local, "summary") != '\0' ?
		    jstr(local, "summary") : "Nothing listens on it here.");
		hb_puts(&r->out, "</p>\n");
	} else {
		hb_puts(&r->out, "<ul>\n");
		for (i = 0; i < json_array_size(socks); i++)
			local_socket(r, json_array_get(socks, i));
		hb_puts(&r->out, "</ul>\n");
	}
	if (*jstr(local, "footer") != '\0') {
		hb_puts(&r->out, "<p class=\"sub\">");
		hb_esc(&r->out, jstr(local, "footer"));
		hb_puts(&r->out, "</p>\n");
	}
	hb_puts(&r->out, "</section>\n");
}

static void
card_check(struct req *r, json_t *card)
{
	static const struct {
		const char *key, *label;
	} os[] = {
		{ "linux", "Linux" }, { "macos", "macOS" },
		{ "windows", "Windows" },
	};
	json_t *c = json_object_get(card, "check");
	size_t i, k;

	section(r, "check", "Check what is listening");
	hb_puts(&r->out, "<dl>\n");
	for (i = 0; i < sizeof os / sizeof *os; i++) {
		json_t *a = json_object_get(c, os[i].key);

		if (json_array_size(a) == 0)
			continue;
		hb_printf(&r->out, "<dt>%s</dt><dd>", os[i].label);
		for (k = 0; k < json_array_size(a); k++) {
			hb_puts(&r->out, "<pre>");
			hb_esc(&r->out, json_string_value(
			    json_array_get(a, k)));
			hb_puts(&r->out, "</pre>");
		}
		hb_puts(&r->out, "</dd>\n");
	}
	hb_puts(&r->out, "</dl>\n</section>\n");
}

static void
card_vote(struct req *r, json_t *card)
{
	static const char *const faces[PDX_NVOTES] = {
		"\xf0\x9f\x98\x94", "\xf0\x9f\xa4\xa8", "\xf0\x9f\x98\x83",
	};
	static const char *const words[PDX_NVOTES] = {
		"not helpful", "so-so", "helpful",
	};
	json_t *v = json_object_get(card, "votes");
	int i;

	if (!json_is_object(v))
		return;
	section(r, "vote", "Was this page helpful?");
	hb_printf(&r->out, "<form class=\"vote\" method=\"post\" "
	    "action=\"/port/%lld/vote\">\n", jint(card, "port"));
	for (i = 0; i < PDX_NVOTES; i++) {
		const char *name = pdx_vote_choice_name(i);

		hb_printf(&r->out, "<button type=\"submit\" name=\"choice\" "
		    "value=\"%s\" title=\"%s\">%s <span class=\"count\" "
		    "id=\"count-%s\">%lld</span></button>\n", name, words[i],
		    faces[i], name, jint(v, name));
	}
	hb_puts(&r->out, "</form>\n</section>\n");
}

void
html_card(struct req *r, json_t *card, int protomask)
{
	static const char *const protos[] = { "tcp", "udp", "sctp", "dccp" };
	json_t *ts = json_object_get(card, "transports");
	const char *svc = "", *desc = "";
	char title[128];
	long long port = jint(card, "port");
	size_t i;

	for (i = 0; i < json_array_size(ts) && *svc == '\0'; i++) {
		json_t *t = json_array_get(ts, i);
		json_t *row = json_array_get(json_object_get(t, "iana"), 0);

		svc = jstr(t, "service");
		if (row != NULL)
			desc = jstr(row, "description");
	}
	snprintf(title, sizeof title, "Port %lld%s%.64s", port,
	    *svc != '\0' ? " - " : "", svc);
	page_open(r, title, "");
	hb_printf(&r->out, "<h1>Port %lld", port);
	if (*svc != '\0') {
		hb_puts(&r->out, " &ndash; ");
		hb_esc(&r->out, svc);
	}
	hb_puts(&r->out, "</h1>\n");
	if (*desc != '\0' && strcmp(desc, svc) != 0) {
		hb_puts(&r->out, "<p class=\"sub\">");
		hb_esc(&r->out, desc);
		hb_puts(&r->out, "</p>\n");
	}
	hb_puts(&r->out, "<p class=\"protos\">");
	if (protomask == 0)
		hb_puts(&r->out, "<strong>all</strong>");
	else
		hb_printf(&r->out, "<a href=\"/port/%lld\">all</a>", port);
	for (i = 0; i < sizeof protos / sizeof *protos; i++) {
		if (pdx_proto_parse(protos[i]) == protomask)
			hb_printf(&r->out, "<strong>%s</strong>", protos[i]);
		else
			hb_printf(&r->out, "<a href=\"/port/%lld/%s\">%s</a>",
			    port, protos[i], protos[i]);
	}
	if (port > 0)
		hb_printf(&r->out, " <a href=\"/port/%lld\" rel=\"prev\">"
		    "&larr; %lld</a>", port - 1, port - 1);
	if (port < 65535)
		hb_printf(&r->out, " <a href=\"/port/%lld\" rel=\"next\">"
		    "%lld &rarr;</a>", port + 1, port + 1);
	hb_puts(&r->out, "</p>\n");
	card_official(r, card);
	card_range(r, card);
	card_practice(r, card);
	card_security(r, card);
	card_related(r, card);
	card_notes(r, card);
	card_local(r, card);
	card_check(r, card);
	card_vote(r, card);
	page_close(r);
}
