/*
 * sources.c - parsers for the registry's input formats: IANA's
 * service-names-port-numbers CSV (RFC 4180), services(5) files (glibc's
 * and Wireshark's merged "7/tcp/udp" dialect), nmap-services and RPC
 * program lists (/etc/rpc, nmap-rpc).  Each parser works on a buffer in
 * memory, validates every field with its range, and reports the first
 * malformed record as "NAME:LINE: what is wrong".  Storing the rows is
 * registry-build.c's job, not this file's.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portdex.h"

#define CSV_MAX_FIELD (64 * 1024)

const char *const pdx_iana_header[PDX_NCOLS] = {
	"Service Name",
	"Port Number",
	"Transport Protocol",
	"Description",
	"Assignee",
	"Contact",
	"Registration Date",
	"Modification Date",
	"Reference",
	"Service Code",
	"Unauthorized Use Reported",
	"Assignment Notes",
};

void
pdx_iana_row_free(struct pdx_iana_row *r)
{
	int i;

	for (i = 0; i < PDX_NCOLS; i++) {
		free(r->f[i]);
		r->f[i] = NULL;
	}
	free(r->was);
	r->was = NULL;
}

static int
starts_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Copies the word after marker in s (up to a space, ']' or ')'). */
static char *
word_after(const char *s, const char *marker)
{
	const char *p = strstr(s, marker), *e;
	char *w;

	if (p == NULL)
		return NULL;
	p += strlen(marker);
	for (e = p;
	     *e != '\0' && *e != ' ' && *e != ']' && *e != ')' && *e != ',';
	     e++)
		;
	if (e == p || (w = malloc((size_t)(e - p) + 1)) == NULL)
		return NULL;
	memcpy(w, p, (size_t)(e - p));
	w[e - p] = '\0';
	return w;
}

int
pdx_iana_status(const char *name, const char *desc, const char *notes,
    char **was)
{
	*was = NULL;
	if (name != NULL && *name != '\0') {
		if (strstr(desc, "(historic)") != NULL) {
			*was = strdup(name);
			return PDX_ST_HISTORIC;
		}
		return PDX_ST_ASSIGNED;
	}
	if (strstr(desc, "[was ") != NULL) {
		*was = word_after(desc, "[was ");
		return PDX_ST_HISTORIC;
	}
	if (starts_ci(desc, "reserved") || starts_ci(desc, "any private")) {
		if (notes != NULL)
			*was = word_after(notes, "previously ");
		return PDX_ST_RESERVED;
	}
	if (starts_ci(desc, "de-registered") || starts_ci(desc, "removed") ||
	    starts_ci(desc, "deprecated") || starts_ci(desc, "decomissioned") ||
	    starts_ci(desc, "decommissioned") ||
	    starts_ci(desc, "de-commissioned"))
		return PDX_ST_DEREGISTERED;
	return PDX_ST_UNASSIGNED;
}

/* ---- RFC 4180 records ------------------------------------------------ */

struct csv {
	const char *p, *end;
	const char *name;
	unsigned line; /* current line */
};

/*
 * Reads one record into fields (each malloc'd).  Returns the number of
 * fields, 0 at end of input, -1 on error.  Accepts LF and CRLF between
 * records; quoted fields keep their bytes as they are.
 */
static int
csv_record(struct csv *c, char **fields, int maxf)
{
	int nf = 0;
	size_t len, cap;
	char *buf;
	unsigned start = c->line;

	if (c->p >= c->end)
		return 0;
	for (;;) {
		int quoted = 0;

		if (nf == maxf) {
			pdx_set_error("%s:%u: more than %d fields", c->name,
			    c->line, maxf);
			goto fail;
		}
		cap = 64;
		len = 0;
		if ((buf = malloc(cap)) == NULL)
			goto nomem;
		fields[nf++] = buf;
		if (c->p < c->end && *c->p == '"') {
			quoted = 1;
			c->p++;
		}
		for (;;) {
			char ch;

			if (c->p >= c->end) {
				if (quoted) {
					pdx_set_error("%s:%u: unterminated "
						      "quoted field",
					    c->name, start);
					goto fail;
				}
				break;
			}
			ch = *c->p;
			if (ch == '\0') {
				pdx_set_error("%s:%u: NUL byte in input",
				    c->name, c->line);
				goto fail;
			}
			if (quoted) {
				if (ch == '"') {
					if (c->p + 1 < c->end &&
					    c->p[1] == '"') {
						c->p += 2;
						goto add;
					}
					c->p++;
					quoted = 0;
					if (c->p < c->end && *c->p != ',' &&
					    *c->p != '\n' && *c->p != '\r') {
						pdx_set_error(
						    "%s:%u: text "
						    "after a closing quote",
						    c->name, c->line);
						goto fail;
					}
					continue;
				}
				if (ch == '\n')
					c->line++;
				c->p++;
				goto add;
			}
			if (ch == ',' || ch == '\n' || ch == '\r')
				break;
			if (ch == '"') {
				pdx_set_error("%s:%u: quote inside an "
					      "unquoted field",
				    c->name, c->line);
				goto fail;
			}
			c->p++;
add:
			if (len + 2 > cap) {
				char *nb;

				if (cap >= CSV_MAX_FIELD) {
					pdx_set_error("%s:%u: field longer "
						      "than %d bytes",
					    c->name, c->line, CSV_MAX_FIELD);
					goto fail;
				}
				cap *= 2;
				if ((nb = realloc(buf, cap)) == NULL)
					goto nomem;
				buf = nb;
				fields[nf - 1] = buf;
			}
			buf[len++] = ch;
		}
		buf[len] = '\0';
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r') {
			c->p++;
			if (c->p < c->end && *c->p != '\n') {
				pdx_set_error("%s:%u: bare carriage return",
				    c->name, c->line);
				goto fail;
			}
		}
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->line++;
		}
		return nf;
	}
nomem:
	pdx_set_error("%s:%u: out of memory", c->name, c->line);
fail:
	while (nf > 0)
		free(fields[--nf]);
	return -1;
}

static void
free_fields(char **f, int n)
{
	while (n > 0)
		free(f[--n]);
}

/* "N" or "N-M" within 0-65535, lo <= hi; "" gives -1/-1. */
static int
parse_port_field(const char *s, int *lo, int *hi, const char *name,
    unsigned line)
{
	char tmp[32];
	const char *dash;
	long long a, b;

	if (*s == '\0') {
		*lo = *hi = -1;
		return 0;
	}
	if (strlen(s) >= sizeof tmp) {
		pdx_set_error("%s:%u: bad port '%.20s...'", name, line, s);
		return -1;
	}
	strcpy(tmp, s);
	if ((dash = strchr(tmp + 1, '-')) != NULL) {
		tmp[dash - tmp] = '\0';
		if (pdx_parse_number(tmp, 0, 65535, "port", &a) != 0 ||
		    pdx_parse_number(dash + 1, 0, 65535, "port", &b) != 0)
			goto bad;
		if (b < a) {
			pdx_set_error("%s:%u: range %lld-%lld ends before it "
				      "starts",
			    name, line, a, b);
			return -1;
		}
	} else {
		if (pdx_parse_number(tmp, 0, 65535, "port", &a) != 0)
			goto bad;
		b = a;
	}
	*lo = (int)a;
	*hi = (int)b;
	return 0;
bad:
	pdx_set_error("%s:%u: %s", name, line, pdx_last_error());
	return -1;
}

long
pdx_iana_parse(const char *buf, size_t len, const char *name, pdx_iana_fn fn,
    void *arg)
{
	struct csv c = { buf, buf + len, name, 1 };
	char *f[PDX_NCOLS + 1];
	struct pdx_iana_row row;
	long rows = 0;
	int n, i, rc;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	if ((n = csv_record(&c, f, PDX_NCOLS + 1)) <= 0) {
		if (n == 0)
			pdx_set_error("%s: empty file, expected the IANA "
				      "header",
			    name);
		return -1;
	}
	for (i = 0; i < PDX_NCOLS && i < n; i++)
		if (strcmp(f[i], pdx_iana_header[i]) != 0)
			break;
	if (n != PDX_NCOLS || i != PDX_NCOLS) {
		pdx_set_error("%s:1: not an IANA service-names-port-numbers "
			      "header (column %d is '%.40s', expected '%s')",
		    name, i + 1, i < n ? f[i] : "",
		    i < PDX_NCOLS ? pdx_iana_header[i] : "end of line");
		free_fields(f, n);
		return -1;
	}
	free_fields(f, n);
	for (;;) {
		unsigned line = c.line;

		n = csv_record(&c, f, PDX_NCOLS + 1);
		if (n == 0)
			break;
		if (n < 0)
			return -1;
		if (n == 1 && f[0][0] == '\0' && c.p >= c.end) {
			free_fields(f, n); /* trailing empty line */
			break;
		}
		if (n != PDX_NCOLS) {
			pdx_set_error("%s:%u: %d fields, expected %d", name,
			    line, n, PDX_NCOLS);
			free_fields(f, n);
			return -1;
		}
		memset(&row, 0, sizeof row);
		for (i = 0; i < PDX_NCOLS; i++)
			row.f[i] = f[i];
		row.line = line;
		if (parse_port_field(f[PDX_COL_PORT], &row.port_lo,
			&row.port_hi, name, line) != 0)
			goto bad;
		row.proto = 0;
		if (f[PDX_COL_PROTO][0] != '\0' &&
		    (row.proto = pdx_proto_parse(f[PDX_COL_PROTO])) == 0) {
			pdx_set_error("%s:%u: unknown transport protocol "
				      "'%.20s'",
			    name, line, f[PDX_COL_PROTO]);
			goto bad;
		}
		if (row.port_lo < 0 && f[PDX_COL_NAME][0] == '\0') {
			pdx_set_error("%s:%u: row has neither a port nor a "
				      "service name",
			    name, line);
			goto bad;
		}
		row.status = pdx_iana_status(f[PDX_COL_NAME], f[PDX_COL_DESC],
		    f[PDX_COL_NOTES], &row.was);
		rows++;
		rc = fn != NULL ? fn(&row, arg) : 0;
		pdx_iana_row_free(&row);
		if (rc != 0)
			return rc < 0 ? -1 : rows;
		continue;
bad:
		pdx_iana_row_free(&row);
		return -1;
	}
	return rows;
}

/* ---- line-oriented formats ------------------------------------------- */

/*
 * Iterates over lines: copies each into a bounded buffer, rejects NUL
 * bytes and overlong lines.  Returns 1 with *linep set, 0 at the end, -1
 * on error.
 */
struct lines {
	const char *p, *end;
	const char *name;
	unsigned line;
	char buf[4096];
};

static int
next_line(struct lines *l, char **linep)
{
	const char *e;
	size_t n;

	if (l->p >= l->end)
		return 0;
	l->line++;
	e = memchr(l->p, '\n', (size_t)(l->end - l->p));
	n = (e != NULL ? e : l->end) - l->p;
	if (memchr(l->p, '\0', n) != NULL) {
		pdx_set_error("%s:%u: NUL byte in input", l->name, l->line);
		return -1;
	}
	if (n >= sizeof l->buf) {
		pdx_set_error("%s:%u: line longer than %zu bytes", l->name,
		    l->line, sizeof l->buf - 1);
		return -1;
	}
	memcpy(l->buf, l->p, n);
	l->p += n + (e != NULL ? 1 : 0);
	if (n > 0 && l->buf[n - 1] == '\r')
		n--;
	l->buf[n] = '\0';
	*linep = l->buf;
	return 1;
}

static char *
skip_ws(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static char *
take_word(char **sp)
{
	char *s = skip_ws(*sp), *w = s;

	if (*s == '\0')
		return NULL;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return w;
}

/* Splits "text # comment" at the first '#'; returns the comment. */
static char *
cut_comment(char *s)
{
	char *h = strchr(s, '#');

	if (h == NULL)
		return NULL;
	*h++ = '\0';
	h = skip_ws(h);
	size_t n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		h[--n] = '\0';
	return h;
}

/* Joins the remaining words of a line with single spaces into out. */
static void
join_words(char **linep, char *out, size_t n)
{
	char *tok;
	size_t len = 0;

	out[0] = '\0';
	while ((tok = take_word(linep)) != NULL)
		len += (size_t)snprintf(out + len, len < n ? n - len : 0,
		    "%s%s", len > 0 ? " " : "", tok);
}

/*
 * What the three line formats share: the loop over bounded lines and the
 * callback contract.  line_fn parses one line (comment already cut) and
 * returns 0 to go on, 1 when it handed a record to fn and fn asked to
 * stop, 2 when fn failed, or -1 on a malformed line (error set).
 */
typedef int (
    *line_fn)(struct lines *, char *line, void *fn, void *arg, long *count);

static long
parse_lines(const char *buf, size_t len, const char *name, line_fn parse,
    void *fn, void *arg)
{
	struct lines *l;
	char *line;
	long count = 0;
	int r, rc = 0;

	if ((l = calloc(1, sizeof *l)) == NULL) {
		pdx_set_error("%s: out of memory", name);
		return -1;
	}
	l->p = buf;
	l->end = buf + len;
	l->name = name;
	while (rc == 0 && (r = next_line(l, &line)) == 1)
		rc = parse(l, line, fn, arg, &count);
	free(l);
	if (rc == 1)
		return count;
	if (rc != 0 || r < 0)
		return -1;
	return count;
}

/* Hands a record to the callback: 0 go on, 1 stop, 2 failed. */
#define DELIVER(fn, e, arg, count) \
	do { \
		int rc_; \
		(*(count))++; \
		if ((fn) != NULL && (rc_ = (fn)((e), (arg))) != 0) \
			return rc_ < 0 ? 2 : 1; \
	} while (0)

static int
services_line(struct lines *l, char *line, void *fnp, void *arg, long *count)
{
	pdx_service_fn fn = (pdx_service_fn)fnp;
	struct pdx_service_entry e;
	char *comment, *svc, *pp, *slash, *tok, aliases[4096];
	const char *name = l->name;

	comment = cut_comment(line);
	if ((svc = take_word(&line)) == NULL)
		return 0;
	if ((pp = take_word(&line)) == NULL ||
	    (slash = strchr(pp, '/')) == NULL) {
		pdx_set_error("%s:%u: expected 'name port/proto' after "
			      "'%.40s'",
		    name, l->line, svc);
		return -1;
	}
	*slash = '\0';
	memset(&e, 0, sizeof e);
	e.name = svc;
	e.line = l->line;
	if (parse_port_field(pp, &e.port_lo, &e.port_hi, name, l->line) != 0)
		return -1;
	if (e.port_lo < 0) {
		pdx_set_error("%s:%u: missing port", name, l->line);
		return -1;
	}
	for (tok = slash + 1; tok != NULL;) {
		char *next = strchr(tok, '/');

		if (next != NULL)
			*next++ = '\0';
		/*
		 * services(5) allows any /etc/protocols name (ddp, ...):
		 * those are skipped, an empty one is an error.
		 */
		if (*tok == '\0') {
			pdx_set_error("%s:%u: empty protocol", name, l->line);
			return -1;
		}
		e.protos |= pdx_proto_parse(tok);
		tok = next;
	}
	join_words(&line, aliases, sizeof aliases);
	e.aliases = aliases;
	e.comment = comment != NULL ? comment : "";
	if (e.protos == 0)
		return 0; /* only protocols we do not track */
	DELIVER(fn, &e, arg, count);
	return 0;
}

long
pdx_services_parse(const char *buf, size_t len, const char *name,
    pdx_service_fn fn, void *arg)
{
	return parse_lines(buf, len, name, services_line, (void *)fn, arg);
}

static int
nmap_line(struct lines *l, char *line, void *fnp, void *arg, long *count)
{
	pdx_nmap_fn fn = (pdx_nmap_fn)fnp;
	struct pdx_nmap_entry e;
	char *svc, *pp, *fq, *slash, *end;
	const char *name = l->name;
	long long port;

	cut_comment(line);
	if ((svc = take_word(&line)) == NULL)
		return 0;
	if ((pp = take_word(&line)) == NULL ||
	    (slash = strchr(pp, '/')) == NULL) {
		pdx_set_error("%s:%u: expected 'name port/proto frequency'",
		    name, l->line);
		return -1;
	}
	*slash = '\0';
	memset(&e, 0, sizeof e);
	if (pdx_parse_number(pp, 0, 65535, "port", &port) != 0) {
		pdx_set_error("%s:%u: %s", name, l->line, pdx_last_error());
		return -1;
	}
	e.port = (int)port;
	if ((e.proto = pdx_proto_parse(slash + 1)) == 0) {
		pdx_set_error("%s:%u: unknown protocol '%.20s'", name, l->line,
		    slash + 1);
		return -1;
	}
	if ((fq = take_word(&line)) == NULL) {
		pdx_set_error("%s:%u: missing open frequency", name, l->line);
		return -1;
	}
	e.freq = strtod(fq, &end);
	if (*end != '\0' || !(e.freq >= 0.0 && e.freq <= 1.0)) {
		pdx_set_error("%s:%u: frequency '%.20s' is not a number "
			      "between 0 and 1",
		    name, l->line, fq);
		return -1;
	}
	e.name = svc;
	e.line = l->line;
	DELIVER(fn, &e, arg, count);
	return 0;
}

long
pdx_nmap_parse(const char *buf, size_t len, const char *name, pdx_nmap_fn fn,
    void *arg)
{
	return parse_lines(buf, len, name, nmap_line, (void *)fn, arg);
}

static int
rpc_line(struct lines *l, char *line, void *fnp, void *arg, long *count)
{
	pdx_rpc_fn fn = (pdx_rpc_fn)fnp;
	struct pdx_rpc_entry e;
	char *prog, *num, aliases[4096];
	const char *name = l->name;
	long long n;

	cut_comment(line);
	if ((prog = take_word(&line)) == NULL)
		return 0;
	if ((num = take_word(&line)) == NULL) {
		pdx_set_error("%s:%u: expected 'name number'", name, l->line);
		return -1;
	}
	if (pdx_parse_number(num, 0, 4294967295LL, "RPC program number", &n) !=
	    0) {
		pdx_set_error("%s:%u: %s", name, l->line, pdx_last_error());
		return -1;
	}
	join_words(&line, aliases, sizeof aliases);
	memset(&e, 0, sizeof e);
	e.name = prog;
	e.number = (long)n;
	e.aliases = aliases;
	e.line = l->line;
	DELIVER(fn, &e, arg, count);
	return 0;
}

long
pdx_rpcnames_parse(const char *buf, size_t len, const char *name, pdx_rpc_fn fn,
    void *arg)
{
	return parse_lines(buf, len, name, rpc_line, (void *)fn, arg);
}
