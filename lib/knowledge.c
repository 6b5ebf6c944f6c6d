/*
 * knowledge.c - the curated knowledge files under data/: parses the uses
 * files of data/uses/ (what really uses a port, with kind, confidence,
 * the lead flag and source) and related.tsv (which ports belong
 * together), and lists the uses files of a directory.  The lint across
 * the files is knowledge-lint.c's; this file does not load anything into
 * the registry (knowledge-db.c does) and it does not decide risk (risk.c
 * does).  The format is docs/knowledge.md.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portdex.h"

const char pdx_uses_header[] =
    "port\tprotos\tkind\tname\tplatform\tyears\tconfidence\tlead\tsource"
    "\ttext";
const char pdx_related_header[] = "port_a\tport_b\treason\tsource";

#define USES_NCOLS 10
#define RELATED_NCOLS 4
#define MAX_TEXT 400 /* one sentence, bytes */
#define MAX_NAME 80
#define MAX_REASON 120

static const char *const kind_names[PDX_USE_NKINDS] = { "unofficial",
	"vendor-default", "platform-default", "historic", "malware", "game",
	"iana-unauthorized", "service", "attack-tool", "amplification", "c2",
	"exploited" };

static const char *const conf_names[PDX_CONF_NLEVELS] = { "documented",
	"reported", "observed" };

const char *
pdx_use_kind_name(int k)
{
	return k >= 0 && k < PDX_USE_NKINDS ? kind_names[k] : "";
}

int
pdx_use_kind_parse(const char *s)
{
	int i;

	for (i = 0; i < PDX_USE_NKINDS; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return i;
	return -1;
}

const char *
pdx_confidence_name(int c)
{
	return c >= 0 && c < PDX_CONF_NLEVELS ? conf_names[c] : "";
}

int
pdx_confidence_parse(const char *s)
{
	int i;

	for (i = 0; i < PDX_CONF_NLEVELS; i++)
		if (strcmp(s, conf_names[i]) == 0)
			return i;
	return -1;
}

/* ---- lines and fields ------------------------------------------------ */

struct kreader {
	const char *p, *end;
	const char *name;
	unsigned line;
	char buf[PDX_KNOWLEDGE_MAXLINE + 1];
};

/* Length of the UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * The next line into r->buf: 1 with *linep set, 0 at the end, -1 on a
 * NUL byte, a carriage return, invalid UTF-8 or an overlong line.
 */
static int
kread_line(struct kreader *r, char **linep)
{
	const char *e;
	size_t n, i, l;

	if (r->p >= r->end)
		return 0;
	r->line++;
	e = memchr(r->p, '\n', (size_t)(r->end - r->p));
	n = (size_t)((e != NULL ? e : r->end) - r->p);
	if (memchr(r->p, '\0', n) != NULL) {
		pdx_set_error("%s:%u: NUL byte in input", r->name, r->line);
		return -1;
	}
	if (n > PDX_KNOWLEDGE_MAXLINE) {
		pdx_set_error("%s:%u: line longer than %d bytes", r->name,
		    r->line, PDX_KNOWLEDGE_MAXLINE);
		return -1;
	}
	if (memchr(r->p, '\r', n) != NULL) {
		pdx_set_error("%s:%u: carriage return in line (use LF line "
			      "ends)",
		    r->name, r->line);
		return -1;
	}
	for (i = 0; i < n; i += l) {
		l = utf8_len((const unsigned char *)r->p + i, n - i);
		if (l == 0) {
			pdx_set_error("%s:%u: invalid UTF-8 at byte %zu",
			    r->name, r->line, i + 1);
			return -1;
		}
	}
	memcpy(r->buf, r->p, n);
	r->buf[n] = '\0';
	r->p += n + (e != NULL ? 1 : 0);
	*linep = r->buf;
	return 1;
}

/*
 * The next line that is neither blank nor a comment.  Returns as
 * kread_line.
 */
static int
kread_record(struct kreader *r, char **linep)
{
	int rc;

	while ((rc = kread_line(r, linep)) == 1)
		if ((*linep)[0] != '#' && (*linep)[0] != '\0')
			return 1;
	return rc;
}

/* Splits line at tabs into exactly n fields; -1 (error set) otherwise. */
static int
split_fields(struct kreader *r, char *line, char **f, int n)
{
	int i = 0;
	char *p = line, *t;

	for (;;) {
		t = strchr(p, '\t');
		if (i < n)
			f[i] = p;
		i++;
		if (t == NULL)
			break;
		*t = '\0';
		p = t + 1;
	}
	if (i != n) {
		pdx_set_error("%s:%u: %d fields, expected %d (tab-separated)",
		    r->name, r->line, i, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		size_t l = strlen(f[i]);

		if (l == 0) {
			pdx_set_error("%s:%u: field %d is empty (write '-' "
				      "for none where the format allows it)",
			    r->name, r->line, i + 1);
			return -1;
		}
		if (f[i][0] == ' ' || f[i][l - 1] == ' ') {
			pdx_set_error("%s:%u: field %d has leading or "
				      "trailing spaces",
			    r->name, r->line, i + 1);
			return -1;
		}
	}
	return 0;
}

/* Reads the header; -1 with the error set when it is not the one. */
static int
check_header(struct kreader *r, const char *header)
{
	char *line;
	int rc;

	if ((rc = kread_record(r, &line)) <= 0) {
		if (rc == 0)
			pdx_set_error("%s: empty file, expected the header "
				      "line",
			    r->name);
		return -1;
	}
	if (strcmp(line, header) != 0) {
		pdx_set_error("%s:%u: not the expected header line", r->name,
		    r->line);
		return -1;
	}
	return 0;
}

/* ---- field parsers (message without the FILE:LINE prefix) ------------ */

/* "N" or "LO-HI" within 0-65535, LO < HI. */
static int
parse_ports(const char *s, int *lo, int *hi)
{
	char tmp[16];
	const char *dash = strchr(s, '-');
	long long a, b;

	if (strlen(s) >= sizeof tmp) {
		pdx_set_error("port '%.20s' is too long", s);
		return -1;
	}
	if (dash == NULL) {
		if (pdx_parse_number(s, 0, 65535, "port", &a) != 0)
			return -1;
		*lo = *hi = (int)a;
		return 0;
	}
	if (dash == s) {
		pdx_set_error("port '%s' is not a number", s);
		return -1;
	}
	memcpy(tmp, s, (size_t)(dash - s));
	tmp[dash - s] = '\0';
	if (pdx_parse_number(tmp, 0, 65535, "port", &a) != 0 ||
	    pdx_parse_number(dash + 1, 0, 65535, "port", &b) != 0)
		return -1;
	if (a >= b) {
		pdx_set_error("port range '%s' is empty or reversed", s);
		return -1;
	}
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

/* "tcp", "tcp,udp", ...: each once. */
static int
parse_protos(const char *s, int *mask)
{
	char tmp[32], *p, *tok, *save = NULL;
	int m = 0, bit;

	if (strlen(s) >= sizeof tmp) {
		pdx_set_error("transports '%.20s' too long", s);
		return -1;
	}
	strcpy(tmp, s);
	for (p = tmp; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		if ((bit = pdx_proto_parse(tok)) == 0 ||
		    strcmp(tok, pdx_proto_name(bit)) != 0) {
			pdx_set_error("unknown transport '%s' (tcp, udp, "
				      "sctp, dccp in lower case)",
			    tok);
			return -1;
		}
		if (m & bit) {
			pdx_set_error("transport '%s' given twice", tok);
			return -1;
		}
		m |= bit;
	}
	if (m == 0 || s[strlen(s) - 1] == ',' || s[0] == ',' ||
	    strstr(s, ",,") != NULL) {
		pdx_set_error("bad transport list '%s'", s);
		return -1;
	}
	*mask = m;
	return 0;
}

static int
parse_year(const char *s, size_t n, int *y)
{
	size_t i;

	if (n != 4)
		return -1;
	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	*y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	return *y >= 1969 && *y <= 2100 ? 0 : -1;
}

/* "-", "YYYY", "YYYY-YYYY" or "YYYY-". */
static int
parse_years(const char *s, int *from, int *to)
{
	const char *dash;

	*from = *to = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	dash = strchr(s, '-');
	if (dash == NULL) {
		if (parse_year(s, strlen(s), from) != 0)
			goto bad;
		*to = *from;
		return 0;
	}
	if (parse_year(s, (size_t)(dash - s), from) != 0)
		goto bad;
	if (dash[1] == '\0')
		return 0;
	if (parse_year(dash + 1, strlen(dash + 1), to) != 0 || *to < *from)
		goto bad;
	return 0;
bad:
	pdx_set_error("years '%.20s' is not -, YYYY, YYYY-YYYY or YYYY- "
		      "(1969-2100, in order)",
	    s);
	return -1;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "PORT" or "LO-HI", optionally "/proto", as cited in IANA/nmap sources. */
static int
valid_port_ref(const char *s, size_t n, int need_proto)
{
	char tmp[32];
	const char *slash;
	int lo, hi, m;

	if (n >= sizeof tmp)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	slash = strchr(tmp, '/');
	if (slash == NULL && need_proto)
		return 0;
	if (slash != NULL) {
		if (parse_protos(slash + 1, &m) != 0)
			return 0;
		tmp[slash - tmp] = '\0';
	}
	return parse_ports(tmp, &lo, &hi) == 0;
}

/*
 * One cited source of length n; returns its PDX_SRC_* kind, 0 (error
 * set) when it has none of the documented forms.
 */
static int
classify_source(const char *s, size_t n)
{
	const char *sp, *sp2, *e = s + n, *u;

	if (n > 5 && strncmp(s, "seed:", 5) == 0) {
		if (all_digits(s + 5, n - 5) && n - 5 <= 5)
			return PDX_SRC_SEED;
		goto bad;
	}
	if (n > 4 && strncmp(s, "RFC ", 4) == 0) {
		for (sp = s + 4; sp < e && isdigit((unsigned char)*sp); sp++)
			;
		if (sp > s + 4 && sp - (s + 4) <= 5 && (sp == e || *sp == ' '))
			return PDX_SRC_RFC;
		goto bad;
	}
	if (n > 14 && strncmp(s, "IANA registry ", 14) == 0) {
		/* IANA registry NAME PORT[/PROTO] */
		sp = memchr(s + 14, ' ', n - 14);
		if (sp == NULL || sp == s + 14)
			goto bad;
		if (memchr(sp + 1, ' ', (size_t)(e - sp - 1)) != NULL ||
		    !valid_port_ref(sp + 1, (size_t)(e - sp - 1), 0))
			goto bad;
		return PDX_SRC_IANA;
	}
	if (n > 14 && strncmp(s, "nmap-services ", 14) == 0) {
		/* nmap-services NAME PORT/PROTO (nmap-common VERSION) */
		sp = memchr(s + 14, ' ', n - 14);
		if (sp == NULL || sp == s + 14)
			goto bad;
		sp2 = memchr(sp + 1, ' ', (size_t)(e - sp - 1));
		if (sp2 == NULL ||
		    !valid_port_ref(sp + 1, (size_t)(sp2 - sp - 1), 1))
			goto bad;
		if ((size_t)(e - sp2) < 15 ||
		    strncmp(sp2, " (nmap-common ", 14) != 0 || e[-1] != ')')
			goto bad;
		return PDX_SRC_NMAP;
	}
	/* A URL, alone or after a document title. */
	for (u = s; u + 8 <= e; u++) {
		if ((strncmp(u, "https://", 8) == 0 ||
			strncmp(u, "http://", 7) == 0) &&
		    (u == s || u[-1] == ' ')) {
			const char *h = u + (u[4] == 's' ? 8 : 7), *q;

			for (q = h; q < e && *q != ' '; q++)
				;
			if (q == e && q - h >= 4 &&
			    memchr(h, '.', (size_t)(q - h)) != NULL)
				return PDX_SRC_URL;
			break;
		}
	}
bad:
	pdx_set_error("source '%.*s' is not a URL, 'RFC N', 'IANA registry "
		      "NAME PORT[/PROTO]', 'nmap-services NAME PORT/PROTO "
		      "(nmap-common V)' or 'seed:PORT'",
	    (int)(n > 80 ? 80 : n), s);
	return 0;
}

/* Every "; "-separated source; returns the mask, 0 with the error set. */
static int
parse_sources(const char *s)
{
	const char *p = s, *semi;
	int mask = 0, k;

	for (;;) {
		semi = strstr(p, "; ");
		size_t n = semi != NULL ? (size_t)(semi - p) : strlen(p);

		if (n == 0) {
			pdx_set_error("empty source in '%.40s'", s);
			return 0;
		}
		if ((k = classify_source(p, n)) == 0)
			return 0;
		mask |= k;
		if (semi == NULL)
			break;
		p = semi + 2;
	}
	return mask;
}

static int
parse_text(const char *s, size_t max, const char *what)
{
	size_t n = strlen(s);

	if (n > max) {
		pdx_set_error("%s is longer than %zu bytes", what, max);
		return -1;
	}
	if (strcmp(s, "-") == 0) {
		pdx_set_error("%s may not be '-'", what);
		return -1;
	}
	return 0;
}

/* ---- uses.tsv -------------------------------------------------------- */

static int
parse_use(char **f, struct pdx_use *u)
{
	size_t n;

	memset(u, 0, sizeof *u);
	if (parse_ports(f[0], &u->port_lo, &u->port_hi) != 0 ||
	    parse_protos(f[1], &u->protos) != 0)
		return -1;
	if ((u->kind = pdx_use_kind_parse(f[2])) < 0) {
		pdx_set_error("unknown kind '%.30s' (see docs/knowledge.md)",
		    f[2]);
		return -1;
	}
	if (parse_text(f[3], MAX_NAME, "name") != 0)
		return -1;
	u->name = f[3];
	if (strlen(f[4]) > MAX_NAME) {
		pdx_set_error("platform is longer than %d bytes", MAX_NAME);
		return -1;
	}
	u->platform = strcmp(f[4], "-") == 0 ? "" : f[4];
	if (parse_years(f[5], &u->year_from, &u->year_to) != 0)
		return -1;
	u->years = f[5];
	if ((u->confidence = pdx_confidence_parse(f[6])) < 0) {
		pdx_set_error("confidence '%.20s' is not documented, "
			      "reported or observed",
		    f[6]);
		return -1;
	}
	if (strcmp(f[7], "lead") == 0)
		u->lead = 1;
	else if (strcmp(f[7], "-") != 0) {
		pdx_set_error("lead '%.20s' is not 'lead' or '-'", f[7]);
		return -1;
	}
	if ((u->source_kinds = parse_sources(f[8])) == 0)
		return -1;
	u->source = f[8];
	if (parse_text(f[9], MAX_TEXT, "text") != 0)
		return -1;
	n = strlen(f[9]);
	if (f[9][n - 1] != '.') {
		pdx_set_error("text is not one sentence ending in '.'");
		return -1;
	}
	u->text = f[9];
	return 0;
}

long
pdx_knowledge_parse(const char *buf, size_t len, const char *name,
    pdx_use_fn fn, void *arg)
{
	struct kreader *r;
	struct pdx_use u;
	char *line, *f[USES_NCOLS];
	long rows = 0;
	int rc;

	if (buf == NULL || name == NULL) {
		pdx_set_error("pdx_knowledge_parse: no input");
		return -1;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		pdx_set_error("%s: out of memory", name);
		return -1;
	}
	r->p = buf;
	r->end = buf + len;
	r->name = name;
	if (check_header(r, pdx_uses_header) != 0)
		goto fail;
	while ((rc = kread_record(r, &line)) == 1) {
		if (split_fields(r, line, f, USES_NCOLS) != 0)
			goto fail;
		if (parse_use(f, &u) != 0) {
			pdx_set_error("%s:%u: %s", name, r->line,
			    pdx_last_error());
			goto fail;
		}
		u.line = r->line;
		rows++;
		if (fn != NULL && (rc = fn(&u, arg)) != 0) {
			if (rc < 0)
				goto fail;
			break;
		}
	}
	if (rc < 0)
		goto fail;
	free(r);
	return rows;
fail:
	free(r);
	return -1;
}

/* ---- related.tsv ----------------------------------------------------- */

long
pdx_related_parse(const char *buf, size_t len, const char *name,
    pdx_related_fn fn, void *arg)
{
	struct kreader *r;
	struct pdx_related rel;
	char *line, *f[RELATED_NCOLS];
	long rows = 0;
	int rc;

	if (buf == NULL || name == NULL) {
		pdx_set_error("pdx_related_parse: no input");
		return -1;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		pdx_set_error("%s: out of memory", name);
		return -1;
	}
	r->p = buf;
	r->end = buf + len;
	r->name = name;
	if (check_header(r, pdx_related_header) != 0)
		goto fail;
	while ((rc = kread_record(r, &line)) == 1) {
		if (split_fields(r, line, f, RELATED_NCOLS) != 0)
			goto fail;
		memset(&rel, 0, sizeof rel);
		if (parse_ports(f[0], &rel.a_lo, &rel.a_hi) != 0 ||
		    parse_ports(f[1], &rel.b_lo, &rel.b_hi) != 0 ||
		    parse_text(f[2], MAX_REASON, "reason") != 0)
			goto bad;
		rel.reason = f[2];
		if (strcmp(f[3], "-") == 0)
			rel.source = "";
		else if ((rel.source_kinds = parse_sources(f[3])) == 0)
			goto bad;
		else
			rel.source = f[3];
		rel.line = r->line;
		rows++;
		if (fn != NULL && (rc = fn(&rel, arg)) != 0) {
			if (rc < 0)
				goto fail;
			break;
		}
		continue;
bad:
		pdx_set_error("%s:%u: %s", name, r->line, pdx_last_error());
		goto fail;
	}
	if (rc < 0)
		goto fail;
	free(r);
	return rows;
fail:
	free(r);
	return -1;
}

/* ---- the uses files of a directory ---------------------------------- */

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

long
pdx_knowledge_files(const char *dir, char ***paths)
{
	char path[4096], **v = NULL, **nv;
	struct dirent *de;
	size_t n = 0, cap = 0, l;
	DIR *d;

	*paths = NULL;
	if ((size_t)snprintf(path, sizeof path, "%s/uses", dir) >=
	    sizeof path) {
		pdx_set_error("%s: path too long", dir);
		return -1;
	}
	if ((d = opendir(path)) == NULL) {
		if (errno == ENOENT)
			return 0;
		pdx_set_error("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l < 5 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + l - 4, ".tsv") != 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 32 : cap * 2;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto oom;
			v = nv;
		}
		if ((size_t)snprintf(path, sizeof path, "%s/uses/%s", dir,
			de->d_name) >= sizeof path ||
		    (v[n] = strdup(path)) == NULL)
			goto oom;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof *v, path_cmp);
	*paths = v;
	return (long)n;
oom:
	closedir(d);
	pdx_knowledge_files_free(v, (long)n);
	pdx_set_error("%s/uses: out of memory or path too long", dir);
	return -1;
}

void
pdx_knowledge_files_free(char **paths, long n)
{
	long i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
