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
		if (b->len + n + 1 > cap || (p = realloc(b->p, cap)) == NULL) {
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
		['&'] = "&amp;",
		['<'] = "&lt;",
		['>'] = "&gt;",
		['"'] = "&quot;",
		['\''] = "&#39;",
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

static long long
jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/*
 * The page's head and header.  desc (may be NULL) becomes the meta
 * description; q NULL leaves the header's search box out (the home page
 * has its own, and one is enough).
 */
static void
page_open_desc(struct req *r, const char *title, const char *q,
    const char *desc)
{
	r->type = "text/html; charset=utf-8";
	hb_puts(&r->out,
	    "<!doctype html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n<title>");
	hb_esc(&r->out, title);
	hb_puts(&r->out, " - portdex</title>\n");
	if (desc != NULL && *desc != '\0') {
		hb_puts(&r->out, "<meta name=\"description\" content=\"");
		hb_esc(&r->out, desc);
		hb_puts(&r->out, "\">\n");
	}
	hb_puts(&r->out,
	    "<link rel=\"icon\" href=\"/favicon.svg\" "
	    "type=\"image/svg+xml\">\n<link rel=\"stylesheet\" "
	    "href=\"/style.css\">\n</head>\n<body>\n<header>\n<a class=\"home\""
	    " href=\"/\">portdex</a>\n");
	if (q != NULL) {
		hb_puts(&r->out,
		    "<form class=\"top\" action=\"/search\" "
		    "method=\"get\" role=\"search\"><input type=\"search\" "
		    "name=\"q\" aria-label=\"Search ports\" maxlength=\"256\" "
		    "value=\"");
		hb_esc(&r->out, q);
		hb_puts(&r->out,
		    "\"><button type=\"submit\">Search</button>"
		    "</form>\n");
	}
	hb_puts(&r->out, "</header>\n<main>\n");
}

static void
page_open(struct req *r, const char *title, const char *q)
{
	page_open_desc(r, title, q, NULL);
}

void
html_favicon(struct req *r)
{
	r->type = "image/svg+xml";
	r->cacheable = 1;
	hb_puts(&r->out,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "viewBox=\"0 0 16 16\"><rect width=\"16\" height=\"16\" "
	    "rx=\"3\" fill=\"#0b5cad\"/><path d=\"M4 12V4h4a2.5 2.5 0 0 1 0 5H4\""
	    " stroke=\"#fff\" stroke-width=\"2\" fill=\"none\"/></svg>\n");
}

static void
page_close(struct req *r)
{
	hb_puts(&r->out,
	    "</main>\n<footer>portdex " PDX_VERSION
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
	hb_puts(&r->out,
	    "</p>\n<p><a href=\"/\">Search the port "
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
	    "dt{color:var(--dim)}dd{margin:0;overflow-wrap:anywhere;"
	    "min-width:0}\n"
	    ".src a,.src{overflow-wrap:anywhere;word-break:break-word}\n"
	    "li{overflow-wrap:anywhere}\n.summary{font-size:1.05rem}\n"
	    "li.lead{border-left:3px solid var(--acc);padding-left:.4rem}\n"
	    "table.ports{border-collapse:collapse;width:100%}\n"
	    "table.ports td,table.ports th{text-align:left;padding:.2rem .4rem;"
	    "border-bottom:1px solid var(--line)}\n"
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
	static const unsigned examples[] = { 22, 53, 80, 443, 645, 1644, 3389,
		6667 };
	size_t i;

	page_open(r, "Every TCP and UDP port", NULL);
	hb_puts(&r->out,
	    "<h1>What is this port?</h1>\n"
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
		hb_printf(&r->out, "%s<a href=\"/port/%u\">%u</a>",
		    i > 0 ? ", " : "", examples[i], examples[i]);
	hb_puts(&r->out,
	    ".</p>\n<p class=\"sub\">The same data as JSON: "
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
		hb_puts(&r->out,
		    "<h1>Search</h1>\n<p>Type a port, a service "
		    "name or words in the box above.</p>\n");
		page_close(r);
		return;
	}
	hb_puts(&r->out, "<h1>Results for &ldquo;");
	hb_esc(&r->out, q);
	hb_puts(&r->out, "&rdquo;</h1>\n");
	/* A number is a port: offer its page first. */
	if (pdx_parse_number(q, 0, 65535, "port", &p) == 0)
		hb_printf(&r->out,
		    "<p>Go to <a href=\"/port/%lld\">port "
		    "%lld</a>.</p>\n",
		    p, p);
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
		hb_esc(&r->out, out_str(o, "name"));
		hb_puts(&r->out, "</strong> <span class=\"sub\">");
		t = json_object_get(o, "transports");
		for (j = 0; j < json_array_size(t); j++) {
			hb_puts(&r->out, j > 0 ? ", " : "");
			hb_esc(&r->out,
			    json_string_value(json_array_get(t, j)));
		}
		hb_puts(&r->out, " &middot; ");
		hb_esc(&r->out, out_str(o, "kind"));
		hb_puts(&r->out, "</span><br>");
		hb_esc(&r->out, out_str(o, "text"));
		hb_puts(&r->out, "</li>\n");
	}
	hb_puts(&r->out, "</ul>\n");
	page_close(r);
}

static void level(struct req *, const char *);

/* A range or a service name's ports: one row per port and transport. */
void
html_port_list(struct req *r, const char *what, json_t *list)
{
	char title[96];
	size_t i, k;

	snprintf(title, sizeof title, "Ports %s", what);
	page_open(r, title, "");
	hb_puts(&r->out, "<h1>");
	hb_esc(&r->out, title);
	hb_puts(&r->out,
	    "</h1>\n<table class=\"ports\">\n<thead><tr><th>Port"
	    "</th><th>Transport</th><th>Status</th><th>Service</th><th>Risk"
	    "</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < json_array_size(list); i++) {
		json_t *b = json_array_get(list, i);
		json_t *ts = json_object_get(b, "transports");

		for (k = 0; k < json_array_size(ts); k++) {
			json_t *t = json_array_get(ts, k);

			hb_printf(&r->out, "<tr><td><a href=\"/port/%lld/",
			    jint(b, "port"));
			hb_esc(&r->out, out_str(t, "transport"));
			hb_printf(&r->out, "\">%lld</a></td><td>",
			    jint(b, "port"));
			hb_esc(&r->out, out_str(t, "transport"));
			hb_puts(&r->out, "</td><td>");
			hb_esc(&r->out, out_str(t, "status"));
			hb_puts(&r->out, "</td><td>");
			hb_esc(&r->out,
			    *out_str(t, "service") ? out_str(t, "service")
						   : "-");
			hb_puts(&r->out, "</td><td>");
			level(r, out_str(t, "risk"));
			hb_puts(&r->out, "</td></tr>\n");
		}
	}
	hb_puts(&r->out, "</tbody>\n</table>\n");
	page_close(r);
}

/* ---- the card: the library's view, drawn as HTML ----------------------- */

/* A link the page makes: site-relative paths keep the page's transport. */
static void
link_open(struct req *r, const char *href, const char *proto)
{
	hb_puts(&r->out, "<a href=\"");
	hb_esc(&r->out, href);
	if (href[0] == '/' && proto != NULL && *proto != '\0') {
		hb_puts(&r->out, "/");
		hb_esc(&r->out, proto);
	}
	hb_puts(&r->out,
	    href[0] == '/' ? "\">"
			   : "\" rel=\"nofollow "
			     "noopener\">");
}

static void
text_or_link(struct req *r, json_t *o, const char *proto)
{
	const char *href = out_str(o, "href");

	if (*href != '\0')
		link_open(r, href, proto);
	hb_esc(&r->out, out_str(o, "text"));
	if (*href != '\0')
		hb_puts(&r->out, "</a>");
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
draw_field(struct req *r, json_t *f, const char *proto)
{
	hb_puts(&r->out, "<dt>");
	hb_esc(&r->out, out_str(f, "label"));
	hb_puts(&r->out, "</dt><dd>");
	text_or_link(r, f, proto);
	hb_puts(&r->out, "</dd>\n");
}

/* Opens or closes the list a run of blocks of one kind sits in. */
static void
wrap_to(struct req *r, const char **open, const char *want)
{
	if (*open != NULL && (want == NULL || strcmp(*open, want) != 0)) {
		hb_printf(&r->out, "</%s>\n", *open);
		*open = NULL;
	}
	if (want != NULL && *open == NULL) {
		hb_printf(&r->out, "<%s>\n", want);
		*open = want;
	}
}

static void
draw_block(struct req *r, json_t *b, const char *proto, const char **open)
{
	const char *t = out_str(b, "t");
	json_t *a;
	size_t i;

	if (strcmp(t, "group") == 0) {
		wrap_to(r, open, NULL);
		hb_puts(&r->out, "<h3>");
		hb_esc(&r->out, out_str(b, "label"));
		hb_puts(&r->out, ": ");
		hb_esc(&r->out, out_str(b, "text"));
		hb_puts(&r->out, "</h3>\n");
	} else if (strcmp(t, "record") == 0) {
		wrap_to(r, open, NULL);
		hb_puts(&r->out, "<dl>\n");
		a = json_object_get(b, "fields");
		for (i = 0; i < json_array_size(a); i++)
			draw_field(r, json_array_get(a, i), NULL);
		hb_puts(&r->out, "</dl>\n");
	} else if (strcmp(t, "field") == 0) {
		wrap_to(r, open, "dl");
		draw_field(r, b, proto);
	} else if (strcmp(t, "para") == 0) {
		wrap_to(r, open, NULL);
		hb_puts(&r->out, "<p>");
		hb_esc(&r->out, out_str(b, "text"));
		hb_puts(&r->out, "</p>\n");
	} else if (strcmp(t, "item") == 0) {
		wrap_to(r, open, "ul");
		hb_puts(&r->out,
		    json_is_true(json_object_get(b, "lead"))
			? "<li class=\"lead\"><strong>"
			: "<li><strong>");
		hb_esc(&r->out, out_str(b, "title"));
		hb_puts(&r->out, "</strong> <span class=\"sub\">(");
		hb_esc(&r->out, out_str(b, "meta"));
		hb_puts(&r->out, ")</span><br>");
		hb_esc(&r->out, out_str(b, "text"));
		a = json_object_get(b, "sources");
		for (i = 0; i < json_array_size(a); i++) {
			hb_puts(&r->out,
			    i == 0 ? "<br><span class=\"src\">"
				     "source: "
				   : "; ");
			text_or_link(r, json_array_get(a, i), NULL);
		}
		hb_puts(&r->out,
		    json_array_size(a) > 0 ? "</span></li>\n" : "</li>\n");
	} else if (strcmp(t, "rule") == 0) {
		wrap_to(r, open, "ul");
		hb_puts(&r->out, "<li>");
		level(r, out_str(b, "level"));
		hb_puts(&r->out, " <span class=\"sub\">");
		hb_esc(&r->out, out_str(b, "tags"));
		hb_puts(&r->out, "</span> ");
		hb_esc(&r->out, out_str(b, "text"));
		hb_puts(&r->out, "</li>\n");
	} else if (strcmp(t, "code") == 0) {
		wrap_to(r, open, "dl");
		hb_puts(&r->out, "<dt>");
		hb_esc(&r->out, out_str(b, "label"));
		hb_puts(&r->out, "</dt><dd><pre>");
		hb_esc(&r->out, out_str(b, "text"));
		hb_puts(&r->out, "</pre></dd>\n");
	} else if (strcmp(t, "qa") == 0) {
		wrap_to(r, open, NULL);
		hb_puts(&r->out, "<h3>");
		hb_esc(&r->out, out_str(b, "label"));
		hb_puts(&r->out, "</h3>\n<p>");
		hb_esc(&r->out, out_str(b, "text"));
		hb_puts(&r->out, "</p>\n");
	}
}

static void
card_vote(struct req *r, json_t *card)
{
	static const char *const words[PDX_NVOTES] = {
		"not helpful",
		"so-so",
		"helpful",
	};
	json_t *v = json_object_get(card, "votes");
	int i;

	if (!json_is_object(v))
		return;
	hb_puts(&r->out,
	    "<section id=\"vote\">\n<h2>Was this page helpful?"
	    "</h2>\n");
	hb_printf(&r->out,
	    "<form class=\"vote\" method=\"post\" "
	    "action=\"/port/%lld/vote\">\n",
	    jint(card, "port"));
	for (i = 0; i < PDX_NVOTES; i++) {
		const char *name = pdx_vote_choice_name(i);

		/* words, not emoji: every browser has the fonts */
		hb_printf(&r->out,
		    "<button type=\"submit\" name=\"choice\" "
		    "value=\"%s\" title=\"%s\">%s <span class=\"count\" "
		    "id=\"count-%s\">%lld</span></button>\n",
		    name, words[i], words[i], name, jint(v, name));
	}
	hb_puts(&r->out, "</form>\n</section>\n");
}

void
html_card(struct req *r, json_t *card, int protomask)
{
	static const char *const protos[] = { "tcp", "udp", "sctp", "dccp" };
	json_t *v = pdx_card_view(card, PDX_VIEW_HTML);
	json_t *secs = json_object_get(v, "sections");
	const char *head = out_str(v, "headline"), *proto = NULL;
	char title[160];
	long long port = jint(card, "port");
	size_t i, k;

	for (i = 0; i < sizeof protos / sizeof *protos; i++)
		if (protomask != 0 && pdx_proto_parse(protos[i]) == protomask)
			proto = protos[i];
	snprintf(title, sizeof title, "Port %lld: %.120s", port, head);
	page_open_desc(r, title, "", out_str(v, "summary"));
	hb_printf(&r->out, "<h1>Port %lld &ndash; ", port);
	hb_esc(&r->out, head);
	hb_puts(&r->out, "</h1>\n<p class=\"summary\">");
	hb_esc(&r->out, out_str(v, "summary"));
	hb_puts(&r->out, "</p>\n<p class=\"protos\">");
	if (protomask == 0)
		hb_puts(&r->out, "<strong>all</strong>");
	else
		hb_printf(&r->out, "<a href=\"/port/%lld\">all</a>", port);
	for (i = 0; i < sizeof protos / sizeof *protos; i++) {
		if (proto != NULL && strcmp(proto, protos[i]) == 0)
			hb_printf(&r->out, "<strong>%s</strong>", protos[i]);
		else
			hb_printf(&r->out, "<a href=\"/port/%lld/%s\">%s</a>",
			    port, protos[i], protos[i]);
	}
	if (port > 0)
		hb_printf(&r->out,
		    " <a href=\"/port/%lld%s%s\" rel=\"prev\">"
		    "&larr; %lld</a>",
		    port - 1, proto ? "/" : "", proto ? proto : "", port - 1);
	if (port < 65535)
		hb_printf(&r->out,
		    " <a href=\"/port/%lld%s%s\" rel=\"next\">"
		    "%lld &rarr;</a>",
		    port + 1, proto ? "/" : "", proto ? proto : "", port + 1);
	hb_printf(&r->out,
	    " <a class=\"json\" href=\"/api/v1/ports/%lld%s%s\">"
	    "JSON</a></p>\n",
	    port, proto ? "/" : "", proto ? proto : "");
	for (i = 0; i < json_array_size(secs); i++) {
		json_t *s = json_array_get(secs, i);
		json_t *blocks = json_object_get(s, "blocks");
		const char *open = NULL;

		hb_puts(&r->out, "<section id=\"");
		hb_esc(&r->out, out_str(s, "id"));
		hb_puts(&r->out, "\">\n<h2>");
		hb_esc(&r->out, out_str(s, "title"));
		hb_puts(&r->out, "</h2>\n");
		for (k = 0; k < json_array_size(blocks); k++)
			draw_block(r, json_array_get(blocks, k), proto, &open);
		wrap_to(r, &open, NULL);
		hb_puts(&r->out, "</section>\n");
	}
	card_vote(r, card);
	page_close(r);
	json_decref(v);
}
