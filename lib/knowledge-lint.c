/*
 * knowledge-lint.c - the lint of the curated knowledge files together
 * (pdx_knowledge_lint, which tests/unit/test_knowledge.c runs on data/):
 * duplicates across files, rows out of port order, two leads for one
 * port, confidence that its sources do not support, self-pairs.  Each
 * file is read with the parsers of knowledge.c (pdx_knowledge_parse,
 * pdx_related_parse); the problems are one "FILE:LINE: what" line each
 * of a bounded report.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portdex.h"

#define MAX_FILE (16 * 1024 * 1024)

/* A growable report, bounded so a broken file cannot eat memory. */
struct report {
	char *buf;
	size_t len, cap;
	long problems;
};
#define REPORT_MAX (1024 * 1024)

static void report_add(struct report *, const char *, unsigned, const char *,
    ...) __attribute__((format(printf, 4, 5)));

static void
report_add(struct report *rp, const char *file, unsigned line, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;
	int n;

	rp->problems++;
	n = snprintf(msg, sizeof msg, "%s:%u: ", file, line);
	if (n < 0 || (size_t)n >= sizeof msg)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strlen(msg);
	if (rp->len + (size_t)n + 2 > REPORT_MAX)
		return;
	if (rp->len + (size_t)n + 2 > rp->cap) {
		size_t cap = rp->cap == 0 ? 4096 : rp->cap * 2;
		char *nb;

		while (cap < rp->len + (size_t)n + 2)
			cap *= 2;
		if ((nb = realloc(rp->buf, cap)) == NULL)
			return;
		rp->buf = nb;
		rp->cap = cap;
	}
	memcpy(rp->buf + rp->len, msg, (size_t)n);
	rp->len += (size_t)n;
	rp->buf[rp->len++] = '\n';
	rp->buf[rp->len] = '\0';
}

struct lint_key {
	char *key;
	const char *file; /* borrowed: lives as long as the lint */
	unsigned line;
};

struct lint_lead {
	int lo, hi, protos;
	const char *file;
	unsigned line;
};

struct lint_ctx {
	struct report *rp;
	const char *file;
	struct lint_key *keys;
	size_t nkeys, cap;
	struct lint_lead *leads;
	size_t nleads, leadcap;
	int prev_lo, prev_hi;
	int oom;
};

static void
key_add(struct lint_ctx *c, char *key, unsigned line)
{
	if (key == NULL) {
		c->oom = 1;
		return;
	}
	if (c->nkeys == c->cap) {
		size_t cap = c->cap == 0 ? 512 : c->cap * 2;
		struct lint_key *nk = realloc(c->keys, cap * sizeof *nk);

		if (nk == NULL) {
			free(key);
			c->oom = 1;
			return;
		}
		c->keys = nk;
		c->cap = cap;
	}
	c->keys[c->nkeys].key = key;
	c->keys[c->nkeys].file = c->file;
	c->keys[c->nkeys].line = line;
	c->nkeys++;
}

static void
lead_add(struct lint_ctx *c, const struct pdx_use *u)
{
	if (c->nleads == c->leadcap) {
		size_t cap = c->leadcap == 0 ? 256 : c->leadcap * 2;
		struct lint_lead *nl = realloc(c->leads, cap * sizeof *nl);

		if (nl == NULL) {
			c->oom = 1;
			return;
		}
		c->leads = nl;
		c->leadcap = cap;
	}
	c->leads[c->nleads].lo = u->port_lo;
	c->leads[c->nleads].hi = u->port_hi;
	c->leads[c->nleads].protos = u->protos;
	c->leads[c->nleads].file = c->file;
	c->leads[c->nleads].line = u->line;
	c->nleads++;
}

/* A lower-cased copy of buf for comparisons (caller frees), or NULL. */
static char *
make_key(char *buf)
{
	size_t i;

	for (i = 0; buf[i] != '\0'; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return strdup(buf);
}

/*
 * Hosts whose pages are secondary sources (encyclopedias, port lists,
 * copies): a vendor default documented only by them is not documented.
 */
static const char *const secondary_hosts[] = { "wikipedia.org",
	"speedguide.net", "gist.github.com", "web.archive.org", "adminsub.net",
	"iana.org", "grc.com", "stackoverflow.com", "serverfault.com",
	"superuser.com", "reddit.com", "medium.com", "csdn.net", NULL };

/* 1 when one source of s is an RFC or a URL not on a secondary host. */
static int
has_primary_source(const char *s)
{
	const char *p = s, *semi, *u, *h, *e;
	size_t i, n;

	for (;;) {
		semi = strstr(p, "; ");
		n = semi != NULL ? (size_t)(semi - p) : strlen(p);
		e = p + n;
		if (n > 4 && strncmp(p, "RFC ", 4) == 0)
			return 1;
		u = NULL;
		for (h = p; h + 7 <= e; h++)
			if (strncmp(h, "http://", 7) == 0 ||
			    strncmp(h, "https://", 8) == 0) {
				u = h;
				break;
			}
		if (u != NULL) {
			int secondary = 0;
			const char *host = u + (u[4] == 's' ? 8 : 7), *he;

			for (he = host; he < e && *he != '/'; he++)
				;
			for (i = 0; secondary_hosts[i] != NULL; i++) {
				size_t hl = strlen(secondary_hosts[i]);
				size_t l = (size_t)(he - host);

				if (l >= hl &&
				    strncmp(he - hl, secondary_hosts[i], hl) ==
					0 &&
				    (l == hl || he[-(ptrdiff_t)hl - 1] == '.'))
					secondary = 1;
			}
			if (!secondary)
				return 1;
		}
		if (semi == NULL)
			return 0;
		p = semi + 2;
	}
}

static int
lint_use(const struct pdx_use *u, void *arg)
{
	struct lint_ctx *c = arg;
	char buf[256];

	snprintf(buf, sizeof buf, "%d-%d|%d|%d|%s", u->port_lo, u->port_hi,
	    u->protos, u->kind, u->name);
	key_add(c, make_key(buf), u->line);
	if (u->port_lo < c->prev_lo ||
	    (u->port_lo == c->prev_lo && u->port_hi < c->prev_hi))
		report_add(c->rp, c->file, u->line,
		    "rows are not sorted by "
		    "port: %d after %d",
		    u->port_lo, c->prev_lo);
	c->prev_lo = u->port_lo;
	c->prev_hi = u->port_hi;
	if (u->lead)
		lead_add(c, u);
	if (u->source_kinds == PDX_SRC_SEED &&
	    u->confidence != PDX_CONF_REPORTED)
		report_add(c->rp, c->file, u->line,
		    "'%s' is backed only "
		    "by a seed article and must be marked reported",
		    u->name);
	if (u->source_kinds == PDX_SRC_NMAP &&
	    u->confidence != PDX_CONF_OBSERVED)
		report_add(c->rp, c->file, u->line,
		    "'%s' is backed only "
		    "by nmap's label and must be marked observed",
		    u->name);
	if (u->kind == PDX_USE_VENDOR_DEFAULT &&
	    u->confidence == PDX_CONF_DOCUMENTED &&
	    !has_primary_source(u->source))
		report_add(c->rp, c->file, u->line,
		    "'%s' is a documented "
		    "vendor default without the vendor's own source",
		    u->name);
	if (u->lead && u->confidence == PDX_CONF_OBSERVED)
		report_add(c->rp, c->file, u->line,
		    "'%s' leads the card "
		    "but rests on nmap's label alone",
		    u->name);
	return 0;
}

static int
lint_related(const struct pdx_related *r, void *arg)
{
	struct lint_ctx *c = arg;
	char buf[64];
	int swap = r->a_lo > r->b_lo ||
	    (r->a_lo == r->b_lo && r->a_hi > r->b_hi);

	if (r->a_lo == r->b_lo && r->a_hi == r->b_hi) {
		report_add(c->rp, c->file, r->line,
		    "port %d is related "
		    "to itself",
		    r->a_lo);
		return 0;
	}
	snprintf(buf, sizeof buf, "%d-%d|%d-%d", swap ? r->b_lo : r->a_lo,
	    swap ? r->b_hi : r->a_hi, swap ? r->a_lo : r->b_lo,
	    swap ? r->a_hi : r->b_hi);
	key_add(c, make_key(buf), r->line);
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct lint_key *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	if ((c = strcmp(x->file, y->file)) != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorts the keys, reports each repeat against its first place, frees. */
static void
report_duplicates(struct lint_ctx *c, const char *what)
{
	size_t i, first = 0;

	qsort(c->keys, c->nkeys, sizeof *c->keys, key_cmp);
	for (i = 0; i < c->nkeys; i++) {
		if (i > 0 && strcmp(c->keys[i].key, c->keys[first].key) == 0)
			report_add(c->rp, c->keys[i].file, c->keys[i].line,
			    "duplicate %s (first at %s:%u)", what,
			    c->keys[first].file, c->keys[first].line);
		else
			first = i;
	}
	for (i = 0; i < c->nkeys; i++)
		free(c->keys[i].key);
	free(c->keys);
	c->keys = NULL;
	c->nkeys = c->cap = 0;
}

static int
lead_cmp(const void *a, const void *b)
{
	const struct lint_lead *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Two lead rows sharing a port and a transport. */
static void
report_leads(struct lint_ctx *c)
{
	size_t i, j;

	qsort(c->leads, c->nleads, sizeof *c->leads, lead_cmp);
	for (i = 0; i < c->nleads; i++)
		for (j = i + 1;
		     j < c->nleads && c->leads[j].lo <= c->leads[i].hi; j++)
			/*
			 * A narrower lead inside a range lead is more
			 * specific and wins (iSCSI's 3260 inside SAP's
			 * 3200-3299); two leads of the same span clash.
			 */
			if ((c->leads[i].protos & c->leads[j].protos) &&
			    c->leads[i].hi - c->leads[i].lo ==
				c->leads[j].hi - c->leads[j].lo)
				report_add(c->rp, c->leads[j].file,
				    c->leads[j].line,
				    "a second lead row for "
				    "port %d (first at %s:%u)",
				    c->leads[j].lo, c->leads[i].file,
				    c->leads[i].line);
	free(c->leads);
	c->leads = NULL;
	c->nleads = c->leadcap = 0;
}

static int
lint_file(struct lint_ctx *c, const char *path, int uses)
{
	char *buf;
	size_t len;
	long n;

	if ((buf = pdx_read_file(path, MAX_FILE, &len)) == NULL)
		return -1;
	c->file = path;
	c->prev_lo = c->prev_hi = -1;
	if (uses)
		n = pdx_knowledge_parse(buf, len, path, lint_use, c);
	else
		n = pdx_related_parse(buf, len, path, lint_related, c);
	free(buf);
	if (c->oom)
		pdx_set_error("%s: out of memory", path);
	return n < 0 || c->oom ? -1 : 0;
}
static void
lint_ctx_free(struct lint_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		free(c->keys[i].key);
	free(c->keys);
	free(c->leads);
}

long
pdx_knowledge_lint(const char *dir, char **report)
{
	struct report rp = { NULL, 0, 0, 0 };
	struct lint_ctx c;
	char rel[4096], **paths = NULL;
	long i, n;

	if (report != NULL)
		*report = NULL;
	if (dir == NULL) {
		pdx_set_error("pdx_knowledge_lint: no directory");
		return -1;
	}
	if ((n = pdx_knowledge_files(dir, &paths)) < 0)
		return -1;
	if (n == 0) {
		pdx_set_error("%s/uses: no curated files (*.tsv)", dir);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.rp = &rp;
	for (i = 0; i < n; i++)
		if (lint_file(&c, paths[i], 1) != 0)
			goto fail;
	report_leads(&c);
	report_duplicates(&c, "use (same ports, transports, kind and name)");
	snprintf(rel, sizeof rel, "%s/related.tsv", dir);
	if (lint_file(&c, rel, 0) != 0)
		goto fail;
	report_duplicates(&c, "pair");
	pdx_knowledge_files_free(paths, n);
	if (report != NULL)
		*report = rp.buf;
	else
		free(rp.buf);
	return rp.problems;
fail:
	lint_ctx_free(&c);
	pdx_knowledge_files_free(paths, n);
	free(rp.buf);
	return -1;
}
