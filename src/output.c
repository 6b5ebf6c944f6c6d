/*
 * output.c - the tool's output primitives: JSON printing, colour escapes
 * (only when the context says so: a TTY without NO_COLOR, or --color
 * always), error messages in "portdex: CMD: message" form, CSV fields and wrapped
 * text.  What a command prints is the command's (or render.c's) business.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_TMPFILE */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cli.h"

/* How a document is printed, whole (out_json) or as it is made (out_doc). */
#define DOC_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)

void
out_json(struct cmd_ctx *ctx, json_t *j)
{
	if (ctx->format == OUT_CSV) {
		out_csv(ctx, j);
		return;
	}
	json_dumpf(j, ctx->out, DOC_FLAGS);
	fputc('\n', ctx->out);
}

static const struct {
	const char *role;
	const char *sgr;
} roles[] = {
	{ "bold", "\033[1m" },
	{ "dim", "\033[2m" },
	{ "head", "\033[1m" },
	{ "high", "\033[1;31m" },
	{ "medium", "\033[33m" },
	{ "low", "\033[36m" },
	{ "info", "\033[2m" },
	{ "ok", "\033[32m" },
};

const char *
out_sgr(struct cmd_ctx *ctx, const char *role)
{
	size_t i;

	if (!ctx->color)
		return "";
	for (i = 0; i < sizeof roles / sizeof *roles; i++)
		if (strcmp(roles[i].role, role) == 0)
			return roles[i].sgr;
	return "";
}

const char *
out_reset(struct cmd_ctx *ctx)
{
	return ctx->color ? "\033[0m" : "";
}

const char *
out_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

void
out_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("portdex: ", stderr);
	if (cmd != NULL)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * The wrapped text is gathered in a buffer and written a few hundred
 * bytes at a time, not a word at a time (audit prints a thousand of
 * these; one fwrite per word was most of its printing).
 */
struct wrap_buf {
	FILE *f;
	size_t len;
	char b[512];
};

static inline void
wrap_put(struct wrap_buf *w, const char *s, size_t n)
{
	if (w->len + n > sizeof w->b) {
		fwrite(w->b, 1, w->len, w->f);
		w->len = 0;
		if (n > sizeof w->b) {
			fwrite(s, 1, n, w->f);
			return;
		}
	}
	memcpy(w->b + w->len, s, n);
	w->len += n;
}

/* What out_wrap breaks words at. */
static const unsigned char wrap_space[256] = {
	[' '] = 1,
	['\n'] = 1,
	['\t'] = 1,
};

static const char wrap_spaces[] = "                                "
				  "                                ";

static void
wrap_indent(struct wrap_buf *w, int indent)
{
	int k;

	wrap_put(w, "\n", 1);
	for (k = indent < 0 ? -indent : indent; k > 0;
	     k -= (int)sizeof wrap_spaces - 1)
		wrap_put(w, wrap_spaces,
		    (size_t)(k < (int)sizeof wrap_spaces - 1
			    ? k
			    : (int)sizeof wrap_spaces - 1));
}

/*
 * out_wrap of a text whose words are apart by one space each, with no
 * space at either end (what audit prints, a thousand times): a line is
 * found by looking back from the width for a space, not word by word.
 */
static void
wrap_plain(struct wrap_buf *w, const char *s, size_t len, int indent, int col,
    int width)
{
	size_t pos = 0;

	while (pos < len) {
		size_t avail = col < width ? (size_t)(width - col) : 0;
		size_t e;

		if (len - pos <= avail) {
			wrap_put(w, s + pos, len - pos);
			break;
		}
		/* the last space that ends a line that fits */
		for (e = pos + avail; e > pos && s[e] != ' '; e--)
			;
		if (e == pos) /* a first word longer than the line */
			for (e = pos + 1; e < len && s[e] != ' '; e++)
				;
		wrap_put(w, s + pos, e - pos);
		if (e == len)
			break;
		pos = e + 1;
		wrap_indent(w, indent);
		col = indent;
	}
	wrap_put(w, "\n", 1);
	fwrite(w->b, 1, w->len, w->f);
}

/*
 * Whether text's words are parted by single spaces only: no tab or
 * newline, no two spaces in a row, none at either end; its length in
 * *len.  Sixteen bytes at a time where SSE2 is there: strpbrk and strstr
 * (glibc's generic strstr on some processors) took a fifth of a second
 * per thousand findings.  Loads stay within the string.
 */
static int
wrap_is_plain(const char *text, size_t *len)
{
	size_t n = strlen(text), i = 0;
	unsigned prev = 0; /* the byte before i is a space */

	*len = n;
	if (n == 0)
		return 1;
	if (text[0] == ' ' || text[n - 1] == ' ')
		return 0;
#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128(
		    (const __m128i *)(const void *)(text + i));
		unsigned s = (unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
		unsigned c = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
			_mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));

		if (c != 0 || (s & (s >> 1)) != 0 || (prev & s & 1) != 0)
			return 0;
		prev = s >> 15;
	}
#endif
	for (; i < n; i++) {
		if (text[i] == '\n' || text[i] == '\t')
			return 0;
		if (text[i] == ' ' && prev)
			return 0;
		prev = text[i] == ' ';
	}
	return 1;
}

void
out_wrap(FILE *f, const char *text, int indent, int first_used, int width)
{
	struct wrap_buf w;
	int col = first_used, fresh = 1;
	const unsigned char *p = (const unsigned char *)text;
	size_t len;

	w.f = f;
	w.len = 0;
	if (indent >= 0 && wrap_is_plain(text, &len)) {
		wrap_plain(&w, text, len, indent, col, width);
		return;
	}
	for (;;) {
		const unsigned char *q = p;
		int n;

		while (wrap_space[*q])
			q++;
		if (*q == '\0')
			break;
		p = q;
		while (*p != '\0' && !wrap_space[*p])
			p++;
		n = (int)(p - q);
		if (!fresh && col + 1 + n > width) {
			wrap_indent(&w, indent);
			col = indent;
			fresh = 1;
		}
		if (!fresh) {
			wrap_put(&w, " ", 1);
			col++;
		}
		wrap_put(&w, (const char *)q, (size_t)n);
		col += n;
		fresh = 0;
	}
	wrap_put(&w, "\n", 1);
	fwrite(w.b, 1, w.len, f);
}

void
out_csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* ---- --format: text, json, jsonl, csv ------------------------------- */

static const char *const format_names[OUT_NFORMATS] = {
	"text",
	"json",
	"jsonl",
	"csv",
};

/*
 * The commands whose --format main() takes (see out_format_take), the
 * values each accepts, and where a JSON document's CSV rows are (see
 * csv_rows).  scan, import-nmap and export parse their own --format.
 */
static const struct format_spec {
	const char *cmd;
	unsigned formats;
	const char *rows;
} format_specs[] = {
#define TJC (OUT_F(OUT_TEXT) | OUT_F(OUT_JSON) | OUT_F(OUT_CSV))
	{ "annotate", TJC | OUT_F(OUT_JSONL), NULL },
	{ "audit", TJC | OUT_F(OUT_JSONL), "findings,added,gone,listeners" },
	{ "find", TJC, "" },
	{ "ls", TJC, "sockets" },
	{ "note", TJC, "" },
	{ "pick", TJC, "suggestions" },
	{ "rpc", TJC, "registrations" },
	{ "show", TJC, "transports" },
	{ "state", TJC, "" },
	{ "update", TJC, "" },
	{ "watch", OUT_F(OUT_TEXT) | OUT_F(OUT_JSONL) | OUT_F(OUT_CSV), "" },
	{ "why", TJC, "findings" },
#undef TJC
};

static const struct format_spec *
format_spec(const char *cmd)
{
	size_t i;

	for (i = 0; i < sizeof format_specs / sizeof *format_specs; i++)
		if (strcmp(format_specs[i].cmd, cmd) == 0)
			return &format_specs[i];
	return NULL;
}

unsigned
out_formats(const char *cmd)
{
	const struct format_spec *s = format_spec(cmd);

	return s != NULL ? s->formats : 0;
}

int
out_format_parse(const char *cmd, const char *value, unsigned allowed, int *fmt)
{
	char list[128] = "";
	int i, n = 0, k = 0;

	for (i = 0; i < OUT_NFORMATS; i++) {
		if ((allowed & OUT_F(i)) == 0)
			continue;
		if (strcmp(value, format_names[i]) == 0) {
			*fmt = i;
			return 0;
		}
		n++;
	}
	/* "text, json or csv" */
	for (i = 0; i < OUT_NFORMATS; i++) {
		size_t l = strlen(list);

		if ((allowed & OUT_F(i)) == 0)
			continue;
		k++;
		snprintf(list + l, sizeof list - l, "%s%s",
		    k == 1	 ? ""
			: k == n ? " or "
				 : ", ",
		    format_names[i]);
	}
	out_error(cmd, "--format takes %s, not '%s'", list, value);
	return -1;
}

int
out_format_take(struct cmd_ctx *ctx, const char *cmd, int *argc, char **argv)
{
	unsigned allowed = out_formats(cmd);
	int i, fmt;

	if (allowed == 0)
		return 0;
	if (ctx->json)
		ctx->format = OUT_JSON;
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i], *v;
		int take;

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, "--format") == 0) {
			if (i + 1 >= *argc) {
				out_error(cmd, "--format needs a value");
				return -1;
			}
			v = argv[i + 1];
			take = 2;
		} else if (strncmp(a, "--format=", 9) == 0) {
			v = a + 9;
			take = 1;
		} else
			continue;
		/* ls's and audit's own: metrics-file.c reads it */
		if (strcmp(v, "prometheus") == 0 &&
		    (strcmp(cmd, "ls") == 0 || strcmp(cmd, "audit") == 0))
			continue;
		if (out_format_parse(cmd, v, allowed, &fmt) != 0)
			return -1;
		ctx->format = fmt;
		ctx->json = fmt != OUT_TEXT;
		if (fmt == OUT_JSONL) {
			/* the command's own --jsonl */
			argv[i] = "--jsonl";
			take--;
			i++;
		}
		memmove(argv + i, argv + i + take,
		    (size_t)(*argc - i - take + 1) * sizeof *argv);
		*argc -= take;
		i--;
	}
	if (ctx->format == OUT_CSV)
		ctx->color = 0;
	return 0;
}

/*
 * CSV from the JSON model.  A row is a flat object: nested objects are
 * spread into columns named by their path joined with dots (local.address),
 * anything else (string, number, true/false, null, array) is one cell.
 */
static void
flatten(json_t *flat, const char *prefix, json_t *v)
{
	const char *k;
	json_t *x;

	if (json_is_object(v) && json_object_size(v) > 0 && prefix != NULL) {
		json_object_foreach(v, k, x)
		{
			size_t n = strlen(prefix) + strlen(k) + 2;
			char *name = malloc(n);

			if (name == NULL)
				continue;
			snprintf(name, n, "%s.%s", prefix, k);
			flatten(flat, name, x);
			free(name);
		}
	} else if (prefix != NULL)
		json_object_set(flat, prefix, v);
}

static json_t *
row_of(json_t *carry, json_t *v)
{
	json_t *flat = carry != NULL ? json_copy(carry) : json_object();
	const char *k;
	json_t *x;

	if (flat == NULL)
		return NULL;
	if (json_is_object(v))
		json_object_foreach(v, k, x) flatten(flat, k, x);
	else
		json_object_set(flat, "value", v);
	return flat;
}

/*
 * Hands doc's rows to take (with the scalar members they carry, or NULL):
 * an array's elements are taken one by one; an
 * object with any of the members listed in rows (comma-separated) that is
 * an array gives a row per element, each led by the object's own scalar
 * members (a member of the row with the same name wins); any other object
 * is one row.
 */
static void
csv_rows(json_t *doc, const char *rows,
    void (*take)(void *arg, json_t *carry, json_t *x), void *arg)
{
	json_t *carry, *x, *arr;
	const char *k, *p;
	size_t i;
	int found = 0;

	if (json_is_array(doc)) {
		json_array_foreach(doc, i, x) csv_rows(x, rows, take, arg);
		return;
	}
	if (!json_is_object(doc) || rows == NULL || *rows == '\0') {
		take(arg, NULL, doc);
		return;
	}
	carry = json_object();
	json_object_foreach(doc, k, x) if (!json_is_object(x) &&
	    !json_is_array(x)) json_object_set(carry, k, x);
	for (p = rows; *p != '\0';) {
		size_t n = strcspn(p, ",");
		char name[64];

		snprintf(name, sizeof name, "%.*s", (int)n, p);
		p += n + (p[n] == ',');
		if (!json_is_array(arr = json_object_get(doc, name)))
			continue;
		found = 1;
		json_array_foreach(arr, i, x) take(arg, carry, x);
	}
	if (!found)
		take(arg, NULL, doc);
	json_decref(carry);
}

/* One cell: null is empty, a string as it is, anything else as JSON. */
static void
csv_cell(FILE *f, json_t *v)
{
	const char *s;
	size_t n, i;
	char *d = NULL;

	if (v == NULL || json_is_null(v))
		return;
	if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
	} else {
		d = json_dumps(v,
		    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		s = d != NULL ? d : "";
		n = strlen(s);
	}
	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			break;
	if (i == n)
		fwrite(s, 1, n, f);
	else {
		fputc('"', f);
		for (i = 0; i < n; i++) {
			if (s[i] == '"')
				fputc('"', f);
			fputc(s[i], f);
		}
		fputc('"', f);
	}
	free(d);
}

static void
csv_line(FILE *f, json_t *cols, json_t *row)
{
	json_t *c;
	size_t i;

	json_array_foreach(cols, i, c)
	{
		if (i > 0)
			fputc(',', f);
		if (row == NULL)
			csv_cell(f, c);
		else
			csv_cell(f, json_object_get(row, json_string_value(c)));
	}
	fputs("\r\n", f);
}

/* Row's columns not seen yet into cols; seen says of each whether it was
 * null wherever it appeared. */
static void
csv_columns_add(json_t *cols, json_t *seen, json_t *row)
{
	const char *k;
	json_t *v;

	json_object_foreach(row, k, v)
	{
		json_t *s = json_object_get(seen, k);

		if (s == NULL) {
			json_array_append_new(cols, json_string(k));
			json_object_set_new(seen, k,
			    json_boolean(json_is_null(v)));
		} else if (!json_is_null(v))
			json_object_set_new(seen, k, json_false());
	}
}

/* Drops a column null wherever it appears while other rows spread an
 * object there (remote: null beside remote.address). */
static void
csv_columns_drop(json_t *cols, json_t *seen)
{
	json_t *c;
	size_t i, j, l;

	for (i = 0; i < json_array_size(cols);) {
		const char *name = json_string_value(json_array_get(cols, i));
		int drop = 0;

		l = strlen(name);
		if (json_is_true(json_object_get(seen, name)))
			json_array_foreach(cols, j,
			    c) if (strncmp(json_string_value(c), name, l) ==
				0 &&
			    json_string_value(c)[l] == '.')
			{
				drop = 1;
				break;
			}
		if (drop)
			json_array_remove(cols, i);
		else
			i++;
	}
}

/* The header: every column of every row, first seen first, less those
 * csv_columns_drop drops. */
static json_t *
csv_columns(json_t *rows)
{
	json_t *cols = json_array(), *seen = json_object(), *row;
	size_t i;

	json_array_foreach(rows, i, row) csv_columns_add(cols, seen, row);
	csv_columns_drop(cols, seen);
	json_decref(seen);
	return cols;
}

static void doc_begin(struct out_doc *d, struct cmd_ctx *ctx, int csv);
static void doc_row(struct out_doc *d, json_t *carry, json_t *x);

static void
doc_take(void *arg, json_t *carry, json_t *x)
{
	doc_row(arg, carry, x);
}

/* The rows as out_doc keeps them: compact text, not a copy of each. */
void
out_csv(struct cmd_ctx *ctx, json_t *doc)
{
	struct out_doc d;

	doc_begin(&d, ctx, 1);
	d.no_spill = 1; /* the whole document is in memory already */
	csv_rows(doc, d.rows, doc_take, &d);
	d.found = 1;
	(void)out_doc_end(&d);
}

static void
rows_take(void *arg, json_t *carry, json_t *x)
{
	json_array_append_new(arg, row_of(carry, x));
}

void
out_csv_stream(struct cmd_ctx *ctx, json_t **cols, const char *const *names,
    const char *rows_in, json_t *doc)
{
	json_t *rows = json_array(), *row;
	size_t i;

	csv_rows(doc, rows_in, rows_take, rows);
	if (*cols == NULL) {
		if (names != NULL) {
			*cols = json_array();
			for (i = 0; names[i] != NULL; i++)
				json_array_append_new(*cols,
				    json_string(names[i]));
		} else
			*cols = csv_columns(rows);
		csv_line(ctx->out, *cols, NULL);
	}
	json_array_foreach(rows, i, row) csv_line(ctx->out, *cols, row);
	json_decref(rows);
}

/* ---- documents written as they are made (struct out_doc) ------------- */

/* s, with indent spaces after each line break (json_dumps never puts one
 * inside a string: it escapes them). */
static void
doc_put(struct out_doc *d, const char *s, int indent)
{
	static const char sp[] = "        ";
	const char *nl;

	while ((nl = strchr(s, '\n')) != NULL) {
		fwrite(s, 1, (size_t)(nl - s) + 1, d->ctx->out);
		fwrite(sp, 1, (size_t)indent, d->ctx->out);
		s = nl + 1;
	}
	fputs(s, d->ctx->out);
}

/* v as json_dumpf would write it at depth indent / 2 of the document. */
static void
doc_value(struct out_doc *d, json_t *v, int indent)
{
	char *s = json_dumps(v, DOC_FLAGS | JSON_ENCODE_ANY);

	if (s == NULL) {
		d->failed = 1;
		return;
	}
	doc_put(d, s, indent);
	free(s);
}

/* JSON: the separator and the key of the next member. */
static void
doc_key(struct out_doc *d, const char *key)
{
	json_t *k = json_string(key);

	fputs(d->members++ > 0 ? ",\n  " : "{\n  ", d->ctx->out);
	if (k == NULL)
		d->failed = 1;
	else
		doc_value(d, k, 2);
	fputs(": ", d->ctx->out);
	json_decref(k);
}

/* CSV: does the array member key give rows (format_specs)? */
static int
doc_gives_rows(const struct out_doc *d, const char *key)
{
	const char *p = d->rows;
	size_t n, kl = strlen(key);

	while (p != NULL && *p != '\0') {
		n = strcspn(p, ",");
		if (n == kl && strncmp(p, key, n) == 0)
			return 1;
		p += n + (p[n] == ',');
	}
	return 0;
}

/*
 * CSV: the rows wait for the header in memory up to DOC_SPILL bytes, then
 * in a temporary file of their own ($TMPDIR, else /tmp; O_TMPFILE, or
 * unlinked at once): an audit of 1,000 listeners keeps ~2 MB of rows, which
 * would lift its peak RSS past 10 MB (bench/README.md).  No file to be had
 * (no such directory, read-only): they stay in memory.  A file that cannot
 * be written (a full disk) fails the document, named in d->why.  Only the
 * documents written as they are made (out_doc_*: ls, audit) spill: out_csv
 * holds its whole document in memory anyway.
 */
#define DOC_SPILL ((size_t)1 << 20)

static FILE *
doc_spill_open(const char **dirp)
{
	const char *dir = getenv("TMPDIR");
	char path[PATH_MAX];
	FILE *f;
	int fd = -1;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	*dirp = dir;
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
#endif
	if (fd < 0) {
		if ((size_t)snprintf(path, sizeof path, "%s/portdex-csv.XXXXXX",
			dir) >= sizeof path ||
		    (fd = mkstemp(path)) < 0)
			return NULL;
		(void)unlink(path);
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if ((f = fdopen(fd, "w+")) == NULL)
		(void)close(fd);
	return f;
}

static void
doc_spill_failed(struct out_doc *d, int err)
{
	d->failed = 1;
	snprintf(d->why, sizeof d->why,
	    "the CSV rows could not be written to a temporary file in %s "
	    "(TMPDIR): %s",
	    d->spill_dir != NULL ? d->spill_dir : "/tmp", strerror(err));
}

/* CSV: s (n bytes, a row as one line of compact JSON) after the others. */
static void
doc_keep(struct out_doc *d, const char *s, size_t n)
{
	if (d->spill == NULL && !d->no_spill && d->len + n + 1 > DOC_SPILL) {
		if ((d->spill = doc_spill_open(&d->spill_dir)) == NULL)
			d->no_spill = 1;
		else if (d->len > 0 &&
		    fwrite(d->buf, 1, d->len, d->spill) != d->len) {
			doc_spill_failed(d, errno);
			return;
		} else {
			free(d->buf);
			d->buf = NULL;
			d->len = d->cap = 0;
		}
	}
	if (d->spill != NULL) {
		if (fwrite(s, 1, n, d->spill) != n ||
		    putc('\n', d->spill) == EOF)
			doc_spill_failed(d, errno);
		return;
	}
	if (d->len + n + 1 > d->cap) {
		size_t cap = d->cap > 0 ? d->cap : 65536;
		char *nb;

		while (cap < d->len + n + 1)
			cap *= 2;
		if ((nb = realloc(d->buf, cap)) == NULL) {
			d->failed = 1;
			return;
		}
		d->buf = nb;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, s, n);
	d->buf[d->len + n] = '\n';
	d->len += n + 1;
}

/* CSV: row x (with the scalar members so far) into the columns and the
 * rows kept (doc_keep), as one line of compact JSON. */
static void
doc_row(struct out_doc *d, json_t *carry, json_t *x)
{
	json_t *row;
	char *s;

	if (d->failed)
		return;
	if ((row = row_of(carry, x)) == NULL) {
		d->failed = 1;
		return;
	}
	csv_columns_add(d->cols, d->seen, row);
	s = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(row);
	if (s == NULL) {
		d->failed = 1;
		return;
	}
	doc_keep(d, s, strlen(s));
	free(s);
}

static void
doc_begin(struct out_doc *d, struct cmd_ctx *ctx, int csv)
{
	const struct format_spec *s = ctx->cmd != NULL ? format_spec(ctx->cmd)
						       : NULL;

	memset(d, 0, sizeof *d);
	d->ctx = ctx;
	d->csv = csv;
	if (d->csv) {
		d->rows = s != NULL ? s->rows : NULL;
		d->carry = json_object();
		d->whole = json_object();
		d->cols = json_array();
		d->seen = json_object();
		if (d->carry == NULL || d->whole == NULL || d->cols == NULL ||
		    d->seen == NULL)
			d->failed = 1;
	}
}

void
out_doc_begin(struct out_doc *d, struct cmd_ctx *ctx)
{
	doc_begin(d, ctx, ctx->format == OUT_CSV);
}

void
out_doc_member(struct out_doc *d, const char *key, json_t *v)
{
	json_t *x;
	size_t i;

	if (v == NULL) {
		d->failed = 1;
		return;
	}
	if (!d->csv) {
		doc_key(d, key);
		doc_value(d, v, 2);
	} else if (json_is_array(v) && doc_gives_rows(d, key)) {
		d->found = 1;
		json_array_foreach(v, i, x) doc_row(d, d->carry, x);
	} else {
		if (!json_is_object(v) && !json_is_array(v))
			json_object_set(d->carry, key, v);
		json_object_set(d->whole, key, v);
	}
	json_decref(v);
}

void
out_doc_array(struct out_doc *d, const char *key)
{
	d->items = 0;
	if (!d->csv) {
		doc_key(d, key);
		fputc('[', d->ctx->out);
	} else if ((d->row_array = doc_gives_rows(d, key)) != 0)
		d->found = 1;
	else
		json_object_set_new(d->whole, key, json_array());
	d->array_key = key;
}

void
out_doc_item(struct out_doc *d, json_t *v)
{
	if (v == NULL) {
		d->failed = 1;
		return;
	}
	if (!d->csv) {
		fputs(d->items++ > 0 ? ",\n    " : "\n    ", d->ctx->out);
		doc_value(d, v, 4);
	} else if (d->row_array)
		doc_row(d, d->carry, v);
	else
		json_array_append(json_object_get(d->whole, d->array_key), v);
	json_decref(v);
}

void
out_doc_array_end(struct out_doc *d)
{
	if (!d->csv)
		fputs(d->items > 0 ? "\n  ]" : "]", d->ctx->out);
	d->row_array = 0;
	d->array_key = NULL;
}

/*
 * CSV: the header (csv_columns' rule: a column null wherever it appears
 * beside columns spread from an object of its name goes), then the rows.
 */
/* CSV: one kept row out, under the header. */
static void
doc_csv_line(struct out_doc *d, const char *p)
{
	json_t *row;

	if ((row = json_loads(p, 0, NULL)) == NULL) {
		d->failed = 1;
		return;
	}
	csv_line(d->ctx->out, d->cols, row);
	json_decref(row);
}

static void
doc_csv_end(struct out_doc *d)
{
	char *p, *nl, *line = NULL;
	size_t cap = 0;
	ssize_t r;

	if (!d->found) /* no row array: the document is the row */
		doc_row(d, NULL, d->whole);
	if (d->failed)
		return;
	if (d->spill != NULL &&
	    (fflush(d->spill) != 0 || fseek(d->spill, 0, SEEK_SET) != 0)) {
		doc_spill_failed(d, errno);
		return;
	}
	csv_columns_drop(d->cols, d->seen);
	if (json_array_size(d->cols) > 0)
		csv_line(d->ctx->out, d->cols, NULL);
	if (d->spill != NULL) {
		while (!d->failed && (r = getline(&line, &cap, d->spill)) > 0) {
			if (line[r - 1] == '\n')
				line[r - 1] = '\0';
			doc_csv_line(d, line);
		}
		if (ferror(d->spill) && !d->failed) {
			d->failed = 1;
			snprintf(d->why, sizeof d->why,
			    "the CSV rows could not be read back from their "
			    "temporary file in %s: %s",
			    d->spill_dir, strerror(errno));
		}
		free(line);
		return;
	}
	for (p = d->buf; !d->failed && p != NULL && p < d->buf + d->len;
	     p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(d->buf + d->len - p));
		if (nl == NULL)
			break;
		*nl = '\0';
		doc_csv_line(d, p);
	}
}

int
out_doc_end(struct out_doc *d)
{
	if (!d->csv)
		fputs(d->members > 0 ? "\n}\n" : "{}\n", d->ctx->out);
	else if (!d->failed)
		doc_csv_end(d);
	json_decref(d->carry);
	json_decref(d->whole);
	json_decref(d->cols);
	json_decref(d->seen);
	free(d->buf);
	if (d->spill != NULL)
		(void)fclose(d->spill);
	d->carry = d->whole = d->cols = d->seen = NULL;
	d->buf = NULL;
	d->spill = NULL;
	if (d->failed && d->why[0] == '\0')
		snprintf(d->why, sizeof d->why, "out of memory");
	return d->failed ? -1 : 0;
}
