/*
 * nmapxml.c - nmap's XML report format: reading a report with libxml2's
 * streaming reader one <host> at a time (constant memory per host, any
 * number of hosts), comparing what nmap found on a port with what the
 * registry and the curated uses expect there, and writing a portdex scan
 * as a report that nmap's own consumers (ndiff, the XSL sheet) read.  It
 * does not print; src/cmd-import-nmap.c and src/cmd-scan.c do.
 *
 * The reader trusts nothing: no network, no DTD loading, no entity
 * substitution; a DOCTYPE with an internal subset or any entity reference
 * is refused (nmap writes a bare <!DOCTYPE nmaprun>), so neither an entity
 * bomb nor an external entity gets anywhere.  Attributes the format
 * defines as numbers are checked as numbers, and an error names the file,
 * the line and the field.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>

#include "portdex.h"
#include "portdex/nmapxml.h"
#include "portdex/scan.h"

/*
 * A use spanning more ports than this is an allocation pool (RTP media,
 * display ports), no expectation for one port in it; as lib/pick.c.
 */
#define NX_MAX_USE_SPAN 1000

#define NX_OPTIONS \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
	    XML_PARSE_NOCDATA)

/* ---- reading ----------------------------------------------------------- */

struct nx {
	xmlTextReaderPtr r;
	const char *name;
	pdx_nmapxml_fn fn;
	void *arg;
	json_t *run;
	json_t *host; /* the <host> being read, or NULL */
	json_t *port; /* the <port> being read, or NULL */
	long hosts;
	int root_seen;
	char xmlerr[512]; /* libxml2's first error */
};

/* libxml2's own errors: keep the first, with its line. */
static void
nx_xml_error(void *arg, xmlErrorPtr e)
{
	struct nx *x = arg;
	size_t n;

	if (x->xmlerr[0] != '\0' || e == NULL)
		return;
	snprintf(x->xmlerr, sizeof x->xmlerr, "%d: not well-formed XML: %s",
	    e->line, e->message != NULL ? e->message : "error");
	n = strlen(x->xmlerr);
	while (n > 0 && (x->xmlerr[n - 1] == '\n' || x->xmlerr[n - 1] == ' '))
		x->xmlerr[--n] = '\0';
}

static int nx_fail(struct nx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
nx_fail(struct nx *x, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pdx_set_error("%s:%d: %s", x->name,
	    xmlTextReaderGetParserLineNumber(x->r), msg);
	return -1;
}

/* The attributes of the current element as strings in o (all of them). */
static void
nx_attrs(struct nx *x, json_t *o)
{
	while (xmlTextReaderMoveToNextAttribute(x->r) == 1) {
		const char *k = (const char *)xmlTextReaderConstLocalName(x->r);
		const char *v = (const char *)xmlTextReaderConstValue(x->r);

		if (k != NULL)
			json_object_set_new(o, k,
			    json_string(v != NULL ? v : ""));
	}
	xmlTextReaderMoveToElement(x->r);
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* A decimal attribute in lo..hi; -1 (error set) when absent or bad. */
static int
nx_number(struct nx *x, json_t *attrs, const char *el, const char *field,
    long long lo, long long hi, long long *v)
{
	const char *s = jstr(attrs, field);
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (*s == '\0' || !isdigit((unsigned char)*s) || *end != '\0' ||
	    errno != 0 || *v < lo || *v > hi)
		return nx_fail(x,
		    "<%s> %s '%.40s' is not a number in "
		    "%lld-%lld",
		    el, field, s, lo, hi);
	return 0;
}

static json_t *
nx_new_host(void)
{
	return json_pack("{s:s, s:s, s:[], s:[], s:s, s:[], s:[]}", "address",
	    "", "addrtype", "", "addresses", "hostnames", "status", "", "ports",
	    "extraports");
}

static int
nx_end_host(struct nx *x)
{
	int rc = 0;

	x->hosts++;
	if (x->fn != NULL && x->fn(x->run, x->host, x->arg) != 0) {
		if (strcmp(pdx_last_error(), "no error") == 0)
			pdx_set_error("%s: stopped after host %ld", x->name,
			    x->hosts);
		rc = -1;
	}
	json_decref(x->host);
	json_decref(x->port);
	x->host = x->port = NULL;
	return rc;
}

static int
nx_end_port(struct nx *x)
{
	json_t *ports = json_object_get(x->host, "ports");

	if (json_array_size(ports) >= PDX_NMAPXML_MAX_PORTS) {
		json_decref(x->port);
		x->port = NULL;
		return nx_fail(x, "more than %d <port> elements in one <host>",
		    PDX_NMAPXML_MAX_PORTS);
	}
	json_array_append_new(ports, x->port);
	x->port = NULL;
	return 0;
}

/* The start of an element: what the format says about it. */
static int
nx_element(struct nx *x, const char *el, int depth)
{
	json_t *a = json_object();
	long long v;
	int rc = 0;

	nx_attrs(x, a);
	if (!x->root_seen) {
		x->root_seen = 1;
		if (strcmp(el, "nmaprun") != 0) {
			json_decref(a);
			return nx_fail(x,
			    "not an nmap XML report: the root "
			    "element is <%.40s>, not <nmaprun>",
			    el);
		}
		json_object_update(x->run, a);
	} else if (depth == 1 && strcmp(el, "host") == 0) {
		json_decref(x->host);
		json_decref(x->port);
		x->port = NULL;
		x->host = nx_new_host();
	} else if (x->host == NULL) {
		; /* scaninfo, verbose, runstats...: not needed */
	} else if (strcmp(el, "status") == 0) {
		json_object_set_new(x->host, "status",
		    json_string(jstr(a, "state")));
	} else if (strcmp(el, "address") == 0) {
		const char *t = jstr(a, "addrtype");

		if (*t == '\0')
			t = "ipv4"; /* the DTD's default */
		json_array_append_new(json_object_get(x->host, "addresses"),
		    json_pack("{s:s, s:s}", "addr", jstr(a, "addr"), "addrtype",
			t));
		if (*jstr(x->host, "address") == '\0' &&
		    strcmp(t, "mac") != 0) {
			json_object_set_new(x->host, "address",
			    json_string(jstr(a, "addr")));
			json_object_set_new(x->host, "addrtype",
			    json_string(t));
		}
	} else if (strcmp(el, "hostname") == 0) {
		json_array_append_new(json_object_get(x->host, "hostnames"),
		    json_string(jstr(a, "name")));
	} else if (strcmp(el, "extraports") == 0) {
		if (nx_number(x, a, el, "count", 0, 65536LL * 4, &v) != 0)
			rc = -1;
		else
			json_array_append_new(json_object_get(x->host,
						  "extraports"),
			    json_pack("{s:s, s:I}", "state", jstr(a, "state"),
				"count", (json_int_t)v));
	} else if (strcmp(el, "port") == 0) {
		const char *p = jstr(a, "protocol");

		if (nx_number(x, a, el, "portid", 0, 65535, &v) != 0)
			rc = -1;
		else if (strcmp(p, "tcp") != 0 && strcmp(p, "udp") != 0 &&
		    strcmp(p, "sctp") != 0 && strcmp(p, "ip") != 0)
			rc = nx_fail(x,
			    "<port> protocol '%.20s' is not tcp, "
			    "udp, sctp or ip",
			    p);
		else {
			json_decref(x->port);
			x->port = json_pack("{s:I, s:s, s:s, s:s, s:n}", "port",
			    (json_int_t)v, "proto", p, "state", "", "reason",
			    "", "service");
		}
	} else if (x->port != NULL && strcmp(el, "state") == 0) {
		json_object_set_new(x->port, "state",
		    json_string(jstr(a, "state")));
		json_object_set_new(x->port, "reason",
		    json_string(jstr(a, "reason")));
	} else if (x->port != NULL && strcmp(el, "service") == 0) {
		if (*jstr(a, "conf") != '\0' &&
		    nx_number(x, a, el, "conf", 0, 10, &v) != 0)
			rc = -1;
		else
			json_object_set_new(x->port, "service",
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				"name", jstr(a, "name"), "product",
				jstr(a, "product"), "version",
				jstr(a, "version"), "extrainfo",
				jstr(a, "extrainfo"), "tunnel",
				jstr(a, "tunnel"), "method", jstr(a, "method"),
				"conf", jstr(a, "conf")));
	}
	json_decref(a);
	return rc;
}

static int
nx_end(struct nx *x, const char *el, int depth)
{
	if (x->host == NULL)
		return 0;
	if (depth == 1 && strcmp(el, "host") == 0)
		return nx_end_host(x);
	if (x->port != NULL && strcmp(el, "port") == 0)
		return nx_end_port(x);
	return 0;
}

/* A DOCTYPE other than nmap's bare one declares something: refused. */
static int
nx_doctype(struct nx *x)
{
	xmlNodePtr n = xmlTextReaderCurrentNode(x->r);
	xmlDtdPtr d = (xmlDtdPtr)n;

	if (n == NULL || n->type != XML_DTD_NODE)
		return 0;
	if (d->children != NULL || d->entities != NULL ||
	    d->pentities != NULL || d->SystemID != NULL ||
	    d->ExternalID != NULL)
		return nx_fail(x,
		    "the DOCTYPE declares entities or names "
		    "an external DTD; nmap reports have neither (refused)");
	return 0;
}

static long
nx_run(struct nx *x)
{
	int rc, type, depth;
	const char *el;

	x->run = json_object();
	xmlTextReaderSetStructuredErrorHandler(x->r, nx_xml_error, x);
	while ((rc = xmlTextReaderRead(x->r)) == 1) {
		type = xmlTextReaderNodeType(x->r);
		depth = xmlTextReaderDepth(x->r);
		el = (const char *)xmlTextReaderConstLocalName(x->r);
		if (el == NULL)
			el = "";
		switch (type) {
		case XML_READER_TYPE_DOCUMENT_TYPE:
			if (nx_doctype(x) != 0)
				goto fail;
			break;
		case XML_READER_TYPE_ENTITY_REFERENCE:
		case XML_READER_TYPE_ENTITY:
			nx_fail(x,
			    "entity reference '&%.40s;': nmap reports "
			    "have none (refused)",
			    el);
			goto fail;
		case XML_READER_TYPE_ELEMENT:
			if (nx_element(x, el, depth) != 0)
				goto fail;
			if (xmlTextReaderIsEmptyElement(x->r) == 1 &&
			    nx_end(x, el, depth) != 0)
				goto fail;
			break;
		case XML_READER_TYPE_END_ELEMENT:
			if (nx_end(x, el, depth) != 0)
				goto fail;
			break;
		}
	}
	if (rc != 0) {
		if (x->xmlerr[0] != '\0')
			pdx_set_error("%s:%s", x->name, x->xmlerr);
		else
			pdx_set_error("%s: not well-formed XML", x->name);
		goto fail;
	}
	if (!x->root_seen) {
		pdx_set_error("%s: not an nmap XML report: no element at all",
		    x->name);
		goto fail;
	}
	json_decref(x->run);
	return x->hosts;
fail:
	json_decref(x->host);
	json_decref(x->port);
	json_decref(x->run);
	return -1;
}

long
pdx_nmapxml_read_mem(const char *buf, size_t len, const char *name,
    pdx_nmapxml_fn fn, void *arg)
{
	struct nx x;
	long n;

	memset(&x, 0, sizeof x);
	x.name = name;
	x.fn = fn;
	x.arg = arg;
	if (len > INT_MAX) {
		pdx_set_error("%s: too large for the XML reader", name);
		return -1;
	}
	if (pdx_lazy_load("libxml2") != 0)
		return -1;
	pdx_set_error("%s", "");
	if ((x.r = xmlReaderForMemory(buf, (int)len, NULL, NULL, NX_OPTIONS)) ==
	    NULL) {
		pdx_set_error("%s: cannot start the XML reader", name);
		return -1;
	}
	n = nx_run(&x);
	xmlFreeTextReader(x.r);
	return n;
}

/* The reader's input: the bytes read before, then the descriptor's. */
struct nx_io {
	const char *head;
	size_t headlen, off;
	int fd;
};

static int
nx_io_read(void *arg, char *buf, int len)
{
	struct nx_io *io = arg;
	ssize_t r;

	if (len <= 0)
		return 0;
	if (io->off < io->headlen) {
		size_t n = io->headlen - io->off;

		if (n > (size_t)len)
			n = (size_t)len;
		memcpy(buf, io->head + io->off, n);
		io->off += n;
		return (int)n;
	}
	do
		r = read(io->fd, buf, (size_t)len);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : (int)r;
}

static int
nx_io_close(void *arg)
{
	(void)arg;
	return 0;
}

long
pdx_nmapxml_read_fd(int fd, const char *head, size_t headlen, const char *name,
    pdx_nmapxml_fn fn, void *arg)
{
	struct nx_io io = { head, headlen, 0, fd };
	struct nx x;
	long n;

	memset(&x, 0, sizeof x);
	x.name = name;
	x.fn = fn;
	x.arg = arg;
	if (pdx_lazy_load("libxml2") != 0)
		return -1;
	pdx_set_error("%s", "");
	if ((x.r = xmlReaderForIO(nx_io_read, nx_io_close, &io, NULL, NULL,
		 NX_OPTIONS)) == NULL) {
		pdx_set_error("%s: cannot start the XML reader", name);
		return -1;
	}
	n = nx_run(&x);
	xmlFreeTextReader(x.r);
	return n;
}

long
pdx_nmapxml_read_file(const char *path, pdx_nmapxml_fn fn, void *arg)
{
	struct nx x;
	struct stat st;
	long n;
	int fd;

	memset(&x, 0, sizeof x);
	x.name = strcmp(path, "-") == 0 ? "(standard input)" : path;
	x.fn = fn;
	x.arg = arg;
	if (pdx_lazy_load("libxml2") != 0)
		return -1;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		pdx_set_error("%s: is a directory", path);
		close(fd);
		return -1;
	}
	pdx_set_error("%s", "");
	if ((x.r = xmlReaderForFd(fd, NULL, NULL, NX_OPTIONS)) == NULL) {
		pdx_set_error("%s: cannot start the XML reader", x.name);
		n = -1;
	} else {
		n = nx_run(&x);
		xmlFreeTextReader(x.r);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return n;
}

/* ---- what portdex expects on a reported port --------------------------- */

/* 1 if word (lower case) occurs in text at word boundaries, any case. */
static int
has_word(const char *text, const char *word)
{
	size_t wl = strlen(word), tl = strlen(text), i, j;

	if (wl == 0 || wl > tl)
		return 0;
	for (i = 0; i + wl <= tl; i++) {
		if (i > 0 && isalnum((unsigned char)text[i - 1]))
			continue;
		for (j = 0; j < wl; j++)
			if (tolower((unsigned char)text[i + j]) != word[j])
				break;
		if (j == wl && !isalnum((unsigned char)text[i + wl]))
			return 1;
	}
	return 0;
}

static void
lower_copy(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i] != '\0'; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/*
 * nmap's service name s against a registered name: equal, or one is the
 * other with a "-suffix" (http and http-alt, http-proxy).
 */
static int
name_matches(const char *s, const char *reg)
{
	size_t sl = strlen(s), rl = strlen(reg);

	if (sl == 0 || rl == 0)
		return 0;
	if (strcasecmp(s, reg) == 0)
		return 1;
	if (rl > sl && strncasecmp(reg, s, sl) == 0 && reg[sl] == '-')
		return 1;
	return sl > rl && strncasecmp(s, reg, rl) == 0 && s[rl] == '-';
}

/* Does any word of 3+ characters of product name the use (or back)? */
static int
product_matches(const char *product, const char *use)
{
	char w[64], lp[256];
	const char *p = product;
	size_t n;

	while (*p != '\0') {
		while (*p != '\0' && !isalnum((unsigned char)*p))
			p++;
		for (n = 0; isalnum((unsigned char)p[n]); n++)
			;
		if (n >= 3 && n < sizeof w) {
			lower_copy(w, n + 1, p);
			if (has_word(use, w))
				return 1;
		}
		p += n;
	}
	/* The use's first word inside the product ("ssh" in "OpenSSH"). */
	for (n = 0; isalnum((unsigned char)use[n]); n++)
		;
	if (n >= 3 && n < sizeof w) {
		lower_copy(w, n + 1, use);
		lower_copy(lp, sizeof lp, product);
		return strstr(lp, w) != NULL;
	}
	return 0;
}

/* The card's transport object for proto, or NULL. */
static json_t *
card_transport(json_t *card, const char *proto)
{
	json_t *ts = json_object_get(card, "transports");
	size_t i;

	for (i = 0; i < json_array_size(ts); i++)
		if (strcmp(jstr(json_array_get(ts, i), "transport"), proto) ==
		    0)
			return json_array_get(ts, i);
	return NULL;
}

static int
use_is_pool(json_t *u)
{
	return json_integer_value(json_object_get(u, "port_hi")) -
	    json_integer_value(json_object_get(u, "port")) >=
	    NX_MAX_USE_SPAN;
}

/* Does the port have an expectation: an IANA service or a narrow use? */
static int
port_known(json_t *card, json_t *t)
{
	json_t *uses = json_object_get(card, "uses");
	size_t i;

	if (t != NULL && *jstr(t, "service") != '\0')
		return 1;
	for (i = 0; i < json_array_size(uses); i++)
		if (!use_is_pool(json_array_get(uses, i)))
			return 1;
	return 0;
}

/*
 * Compares nmap's name (and with an ssl tunnel, name + "s": http on 443
 * is https) and product with the transport's IANA and nmap names and
 * with every curated use of the port.  Sets *matched to what matched.
 */
static int
service_expected(json_t *card, json_t *t, const char *name, const char *tunnel,
    const char *product, const char **matched)
{
	json_t *uses = json_object_get(card, "uses"), *iana, *u;
	char ls[64], tls[72];
	size_t i;

	lower_copy(ls, sizeof ls, name);
	snprintf(tls, sizeof tls, "%s%s", ls,
	    strcmp(tunnel, "ssl") == 0 ? "s" : "");
	if (t != NULL) {
		iana = json_object_get(t, "iana");
		*matched = jstr(t, "service");
		if (name_matches(ls, *matched) || name_matches(tls, *matched))
			return 1;
		*matched = jstr(json_object_get(t, "nmap"), "name");
		if (name_matches(ls, *matched) || name_matches(tls, *matched))
			return 1;
		for (i = 0; i < json_array_size(iana); i++) {
			*matched = jstr(json_array_get(iana, i),
			    "service_name");
			if (name_matches(ls, *matched) ||
			    name_matches(tls, *matched))
				return 1;
		}
	}
	for (i = 0; i < json_array_size(uses); i++) {
		u = json_array_get(uses, i);
		if (use_is_pool(u))
			continue;
		*matched = jstr(u, "name");
		if (has_word(*matched, ls) || has_word(*matched, tls) ||
		    (*product != '\0' && product_matches(product, *matched)))
			return 1;
	}
	*matched = NULL;
	return 0;
}

json_t *
pdx_nmapxml_expect(struct pdx_db *db, json_t *port)
{
	json_t *svc = json_object_get(port, "service"), *card, *t, *out;
	const char *proto = jstr(port, "proto"), *name = jstr(svc, "name");
	const char *product = jstr(svc, "product"), *matched = NULL;
	const char *verdict, *head;
	int mask = pdx_proto_parse(proto), known;
	char reason[512];

	if (mask <= 0 || (mask & (mask - 1)) != 0)
		mask = PDX_TCP; /* "ip": protocol numbers, not ports */
	if ((card = pdx_card(db,
		 (unsigned)json_integer_value(json_object_get(port, "port")),
		 mask)) == NULL)
		return NULL;
	pdx_card_summarize(card);
	t = card_transport(card, proto);
	head = jstr(json_object_get(card, "headline"), "text");
	known = port_known(card, t);
	reason[0] = '\0';
	if (*name == '\0' || strcmp(name, "unknown") == 0 ||
	    strcmp(name, "tcpwrapped") == 0) {
		verdict = "unidentified";
		snprintf(reason, sizeof reason,
		    "nmap could not name the "
		    "service");
	} else if (strcmp(jstr(svc, "method"), "probed") != 0) {
		verdict = "unprobed";
		snprintf(reason, sizeof reason,
		    "nmap's name comes from its "
		    "port table, not from the service (run nmap with -sV)");
	} else if (!known) {
		verdict = "no-expectation";
		snprintf(reason, sizeof reason,
		    "portdex knows no use of "
		    "this port");
	} else if (service_expected(card, t, name, jstr(svc, "tunnel"), product,
		       &matched)) {
		verdict = "match";
		snprintf(reason, sizeof reason,
		    "nmap's %s%s%s is a known use "
		    "(%s)",
		    name, *product ? " / " : "", product, matched);
	} else {
		verdict = "mismatch";
		snprintf(reason, sizeof reason,
		    "nmap identified %s%s%s%s, "
		    "not a known use of %lld/%s (expected: %s)",
		    name, *product ? " (" : "", product, *product ? ")" : "",
		    (long long)json_integer_value(
			json_object_get(port, "port")),
		    proto, head);
	}
	out = json_pack("{s:s, s:s, s:s, s:s, s:s}", "headline", head, "status",
	    t != NULL ? jstr(t, "status") : "", "risk",
	    jstr(json_object_get(card, "risk"), "level"), "verdict", verdict,
	    "reason", reason);
	if (out != NULL && matched != NULL)
		json_object_set_new(out, "matched", json_string(matched));
	json_decref(card);
	if (out == NULL)
		pdx_set_error("out of memory");
	return out;
}

/* ---- writing a scan ---------------------------------------------------- */

#define W(call) \
	do { \
		if ((call) < 0) \
			goto fail; \
	} while (0)

static int
w_attr(xmlTextWriterPtr w, const char *k, const char *v)
{
	return xmlTextWriterWriteAttribute(w, (const xmlChar *)k,
	    (const xmlChar *)v);
}

static int
w_attrll(xmlTextWriterPtr w, const char *k, long long v)
{
	char b[32];

	snprintf(b, sizeof b, "%lld", v);
	return w_attr(w, k, b);
}

static int
w_start(xmlTextWriterPtr w, const char *el)
{
	return xmlTextWriterStartElement(w, (const xmlChar *)el);
}

/* ctime(3)'s form without the newline, as nmap's *str attributes. */
static void
timestr(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, n, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(buf, n, "%lld", t);
}

/* "1-3,22,80": the scanned ports as nmap's scaninfo services. */
static char *
services_list(const struct pdx_scan_result *res)
{
	size_t cap = 1024, len = 0;
	char *s = malloc(cap), *ns;
	unsigned p, q;

	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (p = 0; p < 65536; p++) {
		if (res->state[p] == PDX_SCAN_UNSCANNED)
			continue;
		for (q = p;
		     q + 1 < 65536 && res->state[q + 1] != PDX_SCAN_UNSCANNED;
		     q++)
			;
		if (cap - len < 32) {
			if ((ns = realloc(s, cap * 2)) == NULL) {
				free(s);
				return NULL;
			}
			s = ns;
			cap *= 2;
		}
		len += (size_t)snprintf(s + len, cap - len, "%s%u",
		    len ? "," : "", p);
		if (q > p)
			len += (size_t)snprintf(s + len, cap - len, "-%u", q);
		p = q;
	}
	return s;
}

int
pdx_nmapxml_write_scan(const char *path, struct pdx_db *db,
    const struct pdx_scan_target *t, const struct pdx_scan_result *res,
    const struct pdx_nmapxml_run *run)
{
	xmlTextWriterPtr w;
	struct pdx_brief b;
	char ts[64], summary[256], *svcs = NULL;
	unsigned p, counts[4] = { 0 };
	int st, rc = -1;
	static const char *const reasons[] = { "", "syn-ack", "conn-refused",
		"no-response" };

	if (pdx_lazy_load("libxml2") != 0)
		return -1;
	errno = 0;
	if ((w = xmlNewTextWriterFilename(path, 0)) == NULL) {
		pdx_set_error("%s: cannot open for writing: %s", path,
		    strerror(errno != 0 ? errno : EIO));
		return -1;
	}
	if ((svcs = services_list(res)) == NULL) {
		pdx_set_error("out of memory");
		goto fail;
	}
	for (p = 0; p < 65536; p++)
		counts[res->state[p] & 3]++;
	errno = 0;
	xmlTextWriterSetIndent(w, 1);
	W(xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL));
	W(xmlTextWriterWriteDTD(w, (const xmlChar *)"nmaprun", NULL, NULL,
	    NULL));
	W(w_start(w, "nmaprun"));
	W(w_attr(w, "scanner", "portdex"));
	W(w_attr(w, "args", run->args));
	W(w_attrll(w, "start", run->start));
	timestr(run->start, ts, sizeof ts);
	W(w_attr(w, "startstr", ts));
	W(w_attr(w, "version", run->version));
	W(w_attr(w, "xmloutputversion", "1.05"));
	W(w_start(w, "scaninfo"));
	W(w_attr(w, "type", "connect"));
	W(w_attr(w, "protocol", "tcp"));
	W(w_attrll(w, "numservices", res->nports));
	W(w_attr(w, "services", svcs));
	W(xmlTextWriterEndElement(w));

	W(w_start(w, "host"));
	W(w_attrll(w, "starttime", run->start));
	W(w_attrll(w, "endtime", run->end));
	W(w_start(w, "status"));
	W(w_attr(w, "state", "up"));
	W(w_attr(w, "reason", "user-set"));
	W(xmlTextWriterEndElement(w));
	W(w_start(w, "address"));
	W(w_attr(w, "addr", t->numeric));
	W(w_attr(w, "addrtype",
	    t->addr.ss_family == AF_INET6 ? "ipv6" : "ipv4"));
	W(xmlTextWriterEndElement(w));
	W(w_start(w, "hostnames"));
	if (strcmp(t->host, t->numeric) != 0) {
		W(w_start(w, "hostname"));
		W(w_attr(w, "name", t->host));
		W(w_attr(w, "type", "user"));
		W(xmlTextWriterEndElement(w));
	}
	W(xmlTextWriterEndElement(w));
	W(w_start(w, "ports"));
	if (!run->all)
		for (st = PDX_SCAN_CLOSED; st <= PDX_SCAN_FILTERED; st++) {
			if (counts[st] == 0)
				continue;
			W(w_start(w, "extraports"));
			W(w_attr(w, "state", pdx_scan_state_name(st)));
			W(w_attrll(w, "count", counts[st]));
			W(xmlTextWriterEndElement(w));
		}
	for (p = 0; p < 65536; p++) {
		st = res->state[p];
		if (st == PDX_SCAN_UNSCANNED ||
		    (!run->all && st != PDX_SCAN_OPEN))
			continue;
		W(w_start(w, "port"));
		W(w_attr(w, "protocol", "tcp"));
		W(w_attrll(w, "portid", p));
		W(w_start(w, "state"));
		W(w_attr(w, "state", pdx_scan_state_name(st)));
		W(w_attr(w, "reason", reasons[st & 3]));
		W(w_attr(w, "reason_ttl", "0"));
		W(xmlTextWriterEndElement(w));
		if (db != NULL && pdx_brief(db, p, PDX_TCP, &b) == 0 &&
		    b.name[0] != '\0') {
			W(w_start(w, "service"));
			W(w_attr(w, "name", b.name));
			W(w_attr(w, "method", "table"));
			W(w_attr(w, "conf", "3"));
			W(xmlTextWriterEndElement(w));
		}
		W(xmlTextWriterEndElement(w));
	}
	W(xmlTextWriterEndElement(w)); /* ports */
	W(xmlTextWriterEndElement(w)); /* host */

	W(w_start(w, "runstats"));
	W(w_start(w, "finished"));
	W(w_attrll(w, "time", run->end));
	timestr(run->end, ts, sizeof ts);
	W(w_attr(w, "timestr", ts));
	snprintf(summary, sizeof summary,
	    "portdex done at %s; 1 IP "
	    "address (1 host up) scanned in %.2f seconds",
	    ts, res->elapsed);
	W(w_attr(w, "summary", summary));
	snprintf(ts, sizeof ts, "%.2f", res->elapsed);
	W(w_attr(w, "elapsed", ts));
	W(w_attr(w, "exit", "success"));
	W(xmlTextWriterEndElement(w));
	W(w_start(w, "hosts"));
	W(w_attr(w, "up", "1"));
	W(w_attr(w, "down", "0"));
	W(w_attr(w, "total", "1"));
	W(xmlTextWriterEndElement(w));
	W(xmlTextWriterEndElement(w)); /* runstats */
	W(xmlTextWriterEndElement(w)); /* nmaprun */
	if (xmlTextWriterEndDocument(w) < 0)
		goto fail;
	rc = 0;
fail:
	if (rc != 0 && svcs != NULL)
		pdx_set_error("%s: write failed%s%s", path,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
	xmlFreeTextWriter(w);
	free(svcs);
	return rc;
}
