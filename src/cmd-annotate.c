/*
 * cmd-annotate.c - `portdex annotate [FILE...]`: reads text line by line
 * (stdin by default) and writes each line back unchanged, with what
 * portdex knows of the ports it names appended ("  # dst 22/tcp ssh, ..."),
 * or as JSON objects (--json: one array, --jsonl: one object a line).
 * Lines without a port pass through byte for byte.  This file owns the
 * reading (a bounded buffer: constant memory; a longer line passes in
 * pieces), the line ends, the flushing that lets `tail -f | portdex
 * annotate` work, and the output forms; finding ports is lib/annotate.c's
 * and what is known of them lib/annotate-db.c's.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "portdex/annotate.h"

extern const struct cmd_entry cmd_annotate_entry;

/* Listening sockets are reloaded at most this often when streaming. */
#define AN_REFRESH_SECONDS 2.0

enum { OPT_JSONL = 256, OPT_NO_GENERIC, OPT_NO_LISTENERS };

struct an {
	struct cmd_ctx *ctx;
	struct pdx_annotator *ann;
	struct pdx_lineparser ps;
	int json;		 /* 1 --json, 2 --jsonl, 3 csv */
	json_t *csv_cols;	 /* the CSV header's columns */
	int ninputs;		 /* files named (stdin: 1) */
	int first;		 /* no array element yet */
	int streaming;		 /* input: not a regular file */
	int failed;		 /* a lookup failed (reported) */
	char *buf;		 /* PDX_ANNOTATE_MAXLINE bytes */
	unsigned eph_lo, eph_hi; /* this kernel's ephemeral range */
};

/*
 * --format csv: the line's members, then each annotation's (docs/json.md);
 * no "annotations" column: its members are the row's.
 */
static const char *const csv_columns[] = {
	"line",
	"line_base64",
	"continued",
	"format",
	"port",
	"proto",
	"proto_known",
	"role",
	"offset",
	"length",
	"service",
	"from",
	"iana_name",
	"iana_status",
	"risk",
	"use",
	"listening",
	NULL,
};

/* ---- text output --------------------------------------------------------- */

/* Appends s to b (at *n, below cap), leaving out control characters. */
static void
put(char *b, size_t *n, size_t cap, const char *s)
{
	for (; *s != '\0' && *n + 1 < cap; s++)
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			b[(*n)++] = *s;
}

/*
 * A packet's source port or a socket's peer port is most often an
 * ephemeral port, whatever IANA assigned it to: the text leaves it out
 * (JSON keeps it) when nothing is known of it, or when it is in this
 * kernel's ephemeral range or IANA's dynamic range (49152-65535, other
 * systems' ephemeral range), unless this machine listens on it.
 */
static int
noise(const struct an *an, const struct pdx_port_hit *h,
    const struct pdx_port_note *nt)
{
	if ((h->role != PDX_ROLE_SRC && h->role != PDX_ROLE_PEER) ||
	    nt->listening)
		return 0;
	return (*nt->service == '\0' && nt->use == NULL &&
		   nt->status == PDX_ST_UNASSIGNED) ||
	    h->port >= 49152 ||
	    (h->port >= an->eph_lo && h->port <= an->eph_hi);
}

/* "dst 22/tcp ssh, IANA assigned, risk low, listening here" */
static void
note_text(char *b, size_t *n, size_t cap, const struct pdx_port_hit *h,
    const struct pdx_port_note *nt)
{
	char num[24], *q = num + sizeof num;
	unsigned v = h->port;

	if (h->role != PDX_ROLE_NONE) {
		put(b, n, cap, pdx_port_role_name(h->role));
		put(b, n, cap, " ");
	}
	*--q = '\0';
	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(b, n, cap, q);
	put(b, n, cap, "/");
	put(b, n, cap, pdx_proto_name(nt->proto));
	put(b, n, cap, h->proto == 0 ? "? " : " ");
	put(b, n, cap, *nt->service != '\0' ? nt->service : "-");
	put(b, n, cap, ", IANA ");
	if (*nt->iana_name != '\0' && strcmp(nt->iana_name, nt->service) != 0) {
		put(b, n, cap, nt->iana_name);
		put(b, n, cap, " ");
	}
	put(b, n, cap, pdx_status_name(nt->status));
	put(b, n, cap, ", risk ");
	put(b, n, cap, pdx_level_name(nt->risk));
	if (nt->use != NULL && strcmp(nt->use, nt->service) != 0) {
		put(b, n, cap, ", use ");
		put(b, n, cap, nt->use);
	}
	if (nt->listening)
		put(b, n, cap, ", listening here");
}

/* ---- JSON output --------------------------------------------------------- */

static int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p, need, v, min;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			v = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			v = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			v = c & 0x07;
			min = 0x10000;
		} else
			return 0;
		if ((size_t)(end - p) <= need)
			return 0;
		for (unsigned i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			v = v << 6 | (p[i] & 0x3f);
		}
		if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return 0;
		p += need + 1;
	}
	return 1;
}

/* The bytes as base64 (RFC 4648), a new JSON string. */
static json_t *
base64(const char *s, size_t n)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;
	json_t *j;
	size_t i;

	if (o == NULL)
		return json_null();
	for (i = 0; i + 2 < n; i += 3) {
		*q++ = al[p[i] >> 2];
		*q++ = al[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*q++ = al[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*q++ = al[p[i + 2] & 63];
	}
	if (i < n) {
		*q++ = al[p[i] >> 2];
		*q++ = al[(p[i] & 3) << 4 | (i + 1 < n ? p[i + 1] >> 4 : 0)];
		*q++ = i + 1 < n ? al[(p[i + 1] & 15) << 2] : '=';
		*q++ = '=';
	}
	*q = '\0';
	j = json_string(o);
	free(o);
	return j;
}

/* The line as text: invalid UTF-8 bytes become U+FFFD. */
static json_t *
line_text(const char *s, size_t n)
{
	char *o;
	json_t *j;
	size_t i, k = 0;

	if (utf8_valid(s, n))
		return json_stringn(s, n);
	if ((o = malloc(n * 3 + 1)) == NULL)
		return json_null();
	for (i = 0; i < n;) {
		size_t l = 1;

		/* the longest valid sequence at i, else one bad byte */
		while (l <= 4 && i + l <= n && !utf8_valid(s + i, l))
			l++;
		if (l <= 4 && i + l <= n) {
			memcpy(o + k, s + i, l);
			k += l;
			i += l;
		} else {
			memcpy(o + k, "\xef\xbf\xbd", 3);
			k += 3;
			i++;
		}
	}
	j = json_stringn(o, k);
	free(o);
	return j;
}

static void
emit_json(struct an *an, const char *line, size_t len, int format,
    const struct pdx_port_hit *hits, const struct pdx_port_note *notes, int nh,
    int continued)
{
	json_t *o = json_object(), *arr = json_array();
	int i;

	json_object_set_new(o, "line", line_text(line, len));
	if (!utf8_valid(line, len))
		json_object_set_new(o, "line_base64", base64(line, len));
	if (continued)
		json_object_set_new(o, "continued", json_true());
	json_object_set_new(o, "format",
	    format != PDX_LF_NONE ? json_string(pdx_line_format_name(format))
				  : json_null());
	for (i = 0; i < nh; i++) {
		const struct pdx_port_note *nt = &notes[i];

		json_array_append_new(arr,
		    json_pack(
			"{s:i, s:s, s:b, s:s?, s:I, s:I, s:s, s:s, s:s, s:s, s:s,"
			" s:s?, s:b}",
			"port", (int)hits[i].port, "proto",
			pdx_proto_name(nt->proto), "proto_known",
			hits[i].proto != 0, "role",
			hits[i].role != PDX_ROLE_NONE
			    ? pdx_port_role_name(hits[i].role)
			    : NULL,
			"offset", (json_int_t)hits[i].off, "length",
			(json_int_t)hits[i].len, "service", nt->service, "from",
			nt->from, "iana_name", nt->iana_name, "iana_status",
			pdx_status_name(nt->status), "risk",
			pdx_level_name(nt->risk), "use", nt->use, "listening",
			nt->listening));
	}
	json_object_set_new(o, "annotations", arr);
	if (an->json == 3) {
		/* a row per port; a line without one is a row still */
		out_csv_stream(an->ctx, &an->csv_cols, csv_columns,
		    nh > 0 ? "annotations" : NULL, o);
		json_decref(o);
		return;
	}
	if (an->json == 1)
		fputs(an->first ? "[\n" : ",\n", an->ctx->out);
	an->first = 0;
	json_dumpf(o, an->ctx->out,
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (an->json == 2)
		fputc('\n', an->ctx->out);
	json_decref(o);
}

/* ---- one line ------------------------------------------------------------ */

/*
 * Writes one line: len bytes, then its end (term, termlen: "\n", "\r\n"
 * or nothing at the end of input).  piece: a piece of a line longer than
 * the buffer, passed on as it is; continued: the line goes on after it.
 */
static void
emit_line(struct an *an, const char *line, size_t len, const char *term,
    size_t termlen, int piece, int continued)
{
	struct pdx_port_hit hits[PDX_ANNOTATE_MAXHITS];
	struct pdx_port_note notes[PDX_ANNOTATE_MAXHITS];
	FILE *out = an->ctx->out;
	char col[4096];
	size_t cn = 0;
	int nh = 0, format = PDX_LF_NONE, i, shown = 0;

	if (!piece) {
		nh = pdx_lineparse(&an->ps, line, len, hits,
		    PDX_ANNOTATE_MAXHITS, &format);
		if (nh > 0 && an->streaming)
			pdx_annotator_refresh(an->ann, AN_REFRESH_SECONDS);
	}
	for (i = 0; i < nh; i++)
		if (pdx_annotate_port(an->ann, hits[i].port, hits[i].proto,
			&notes[i]) != 0) {
			if (!an->failed)
				out_error("annotate", "%s", pdx_last_error());
			an->failed = 1;
			nh = 0;
		}
	if (an->json) {
		emit_json(an, line, len, format, hits, notes, nh, continued);
		return;
	}
	for (i = 0; i < nh; i++) {
		if (noise(an, &hits[i], &notes[i]))
			continue;
		put(col, &cn, sizeof col, shown++ == 0 ? "  # " : "; ");
		note_text(col, &cn, sizeof col, &hits[i], &notes[i]);
	}
	fwrite(line, 1, len, out);
	if (cn > 0)
		fwrite(col, 1, cn, out);
	if (termlen > 0)
		fwrite(term, 1, termlen, out);
}

/* ---- reading ------------------------------------------------------------- */

/* An nmap XML report: annotate does not read XML (yet). */
static int
looks_xml(const char *b, size_t n)
{
	while (n > 0 && (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t')) {
		b++;
		n--;
	}
	return (n >= 5 && memcmp(b, "<?xml", 5) == 0) ||
	    (n >= 8 && memcmp(b, "<nmaprun", 8) == 0) ||
	    (n >= 18 && memcmp(b, "<!DOCTYPE nmaprun", 17) == 0);
}

/*
 * An nmap XML report (head: its first headlen bytes, read already) is
 * read by import-nmap's reader and printed as import-nmap prints it: text,
 * its CSV, or its JSON document as one element of --json's array (one
 * line with --jsonl).  Its CSV has columns of its own, so with --format
 * csv the report must be annotate's only input.
 */
static int
nmap_xml(struct an *an, int fd, const char *head, size_t headlen,
    const char *name)
{
	struct cmd_ctx *ctx = an->ctx;
	struct pdx_db *brief = ctx->db;
	json_t *doc = NULL;
	int rc;

	if (an->json == 3 && an->ninputs > 1) {
		out_error("annotate",
		    "%s: an nmap XML report has CSV columns "
		    "of its own; give it alone (or to import-nmap)",
		    name);
		return -1;
	}
	/* the comparison reads the whole registry, not the brief file */
	if ((ctx->db = pdx_db_open(ctx->db_path)) == NULL) {
		out_error("annotate", "%s: %s", name, pdx_last_error());
		ctx->db = brief;
		return -1;
	}
	fflush(ctx->out);
	rc = import_nmap_report(ctx,
	    an->json == 3  ? OUT_CSV
		: an->json ? OUT_JSON
			   : OUT_TEXT,
	    fd, head, headlen, name,
	    an->json == 1 || an->json == 2 ? &doc : NULL);
	pdx_db_close(ctx->db);
	ctx->db = brief;
	if (rc == EXIT_USAGE)
		return -1;
	if (doc != NULL) {
		if (an->json == 1)
			fputs(an->first ? "[\n" : ",\n", ctx->out);
		an->first = 0;
		json_dumpf(doc, ctx->out,
		    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
		if (an->json == 2)
			fputc('\n', ctx->out);
		json_decref(doc);
	}
	return 0;
}

/*
 * Reads fd to its end, a line at a time through a buffer of
 * PDX_ANNOTATE_MAXLINE bytes.  Output is flushed before each read that
 * may wait (input not a regular file), so a line written into a pipe
 * comes out annotated before the next one is read.  An nmap XML report
 * goes to nmap_xml().  Returns 0, or -1 after reporting an error.
 */
static int
annotate_fd(struct an *an, int fd, const char *name)
{
	char *b = an->buf;
	size_t start = 0, end = 0, cap = PDX_ANNOTATE_MAXLINE;
	int eof = 0, in_long = 0, first = 1;
	struct stat sb;
	ssize_t r;

	an->streaming = fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode);
	for (;;) {
		char *nl = memchr(b + start, '\n', end - start);

		if (nl != NULL) {
			size_t len = (size_t)(nl - (b + start));
			int cr = len > 0 && nl[-1] == '\r' && !in_long;

			emit_line(an, b + start, len - (size_t)cr,
			    cr ? "\r\n" : "\n", (size_t)cr + 1, in_long, 0);
			in_long = 0;
			start = (size_t)(nl - b) + 1;
			continue;
		}
		if (end - start == cap) {
			/* a line longer than the buffer: pass it in pieces */
			emit_line(an, b + start, end - start, "", 0, 1, 1);
			in_long = 1;
			start = end = 0;
			continue;
		}
		if (eof) {
			if (end > start)
				emit_line(an, b + start, end - start, "", 0,
				    in_long, 0);
			return 0;
		}
		if (start > 0) {
			memmove(b, b + start, end - start);
			end -= start;
			start = 0;
		}
		if (an->streaming)
			fflush(an->ctx->out);
		r = read(fd, b + end, cap - end);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			out_error("annotate", "%s: %s", name, strerror(errno));
			return -1;
		}
		if (r == 0)
			eof = 1;
		end += (size_t)r;
		/* the first line, or its first 16 bytes, before any output */
		if (first &&
		    (end >= 16 || eof || memchr(b, '\n', end) != NULL)) {
			first = 0;
			if (looks_xml(b, end))
				return nmap_xml(an, fd, b, end, name);
		}
	}
}

static int
annotate_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static char obuf[1 << 16];
	struct an an;
	int i, rc = EXIT_OK, generic = 1, listeners = 1;

	memset(&an, 0, sizeof an);
	an.ctx = ctx;
	an.json = ctx->format == OUT_CSV ? 3 : ctx->json ? 1 : 0;
	an.first = 1;
	if (pdx_ephemeral_range(NULL, &an.eph_lo, &an.eph_hi) != 0) {
		an.eph_lo = 32768; /* Linux's default */
		an.eph_hi = 60999;
	}
	for (i = 0; i < args->nopt; i++) {
		switch (args->opt[i].id) {
		case OPT_JSONL:
			an.json = 2;
			break;
		case OPT_NO_GENERIC:
			generic = 0;
			break;
		case OPT_NO_LISTENERS:
			listeners = 0;
			break;
		}
	}
	if (args_done(&cmd_annotate_entry, args) != 0)
		return cmd_usage(&cmd_annotate_entry);
	if ((ctx->db = pdx_db_open_brief(ctx->db_path)) == NULL) {
		out_error("annotate", "%s (run `portdex update` first)",
		    pdx_last_error());
		return EXIT_USAGE;
	}
	if ((an.ann = pdx_annotator_new(ctx->db, listeners)) == NULL ||
	    (an.buf = malloc(PDX_ANNOTATE_MAXLINE)) == NULL) {
		out_error("annotate", "%s",
		    an.ann == NULL ? pdx_last_error() : "out of memory");
		pdx_annotator_free(an.ann);
		return EXIT_USAGE;
	}
	/* a terminal sees each line at once; else fflush before reads */
	if (ctx->out == stdout && !isatty(STDOUT_FILENO))
		setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	an.ninputs = args->argc > 0 ? args->argc : 1;
	for (i = 0; i == 0 || i < args->argc; i++) {
		const char *name = i < args->argc ? args->argv[i] : "-";
		int fd = strcmp(name, "-") == 0
		    ? STDIN_FILENO
		    : open(name, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			out_error("annotate", "%s: %s", name, strerror(errno));
			rc = EXIT_USAGE;
			continue;
		}
		if (strcmp(name, "-") == 0)
			name = "stdin";
		pdx_lineparser_init(&an.ps);
		an.ps.generic = generic;
		an.ps.resolve = pdx_annotator_resolve;
		an.ps.resolve_arg = an.ann;
		if (annotate_fd(&an, fd, name) != 0)
			rc = EXIT_USAGE;
		if (fd != STDIN_FILENO)
			close(fd);
		if (i >= args->argc)
			break;
	}
	if (an.json == 1)
		fputs(an.first ? "[]\n" : "\n]\n", ctx->out);
	if (fflush(ctx->out) != 0 || ferror(ctx->out)) {
		out_error("annotate", "writing the output: %s",
		    strerror(errno));
		rc = EXIT_USAGE;
	}
	if (an.failed)
		rc = EXIT_USAGE;
	json_decref(an.csv_cols);
	free(an.buf);
	pdx_annotator_free(an.ann);
	return rc;
}

static const struct cmd_opt annotate_opts[] = {
	{ "jsonl", 0, OPT_FLAG, OPT_JSONL, NULL,
	    "  --jsonl               one JSON object a line (--json: one "
	    "array)\n",
	    0 },
	{ "no-generic", 0, OPT_FLAG, OPT_NO_GENERIC, NULL,
	    "  --no-generic          only the known formats: no ADDR:PORT, "
	    "port N\n",
	    0 },
	{ "no-listeners", 0, OPT_FLAG, OPT_NO_LISTENERS, NULL,
	    "  --no-listeners        do not look at this machine's listeners\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup annotate_group = { "annotate", 0,
	annotate_opts };
static const struct cmd_optgroup *const annotate_groups[] = {
	&annotate_group,
	NULL,
};

const struct cmd_entry cmd_annotate_entry = {
	.name = "annotate",
	.usage = "[--jsonl] [--no-generic] [--no-listeners] [FILE...]",
	.summary = "add what portdex knows to the ports in logs, scans and "
		   "socket listings",
	/* the registry is opened with its brief file, as ls does */
	.flags = 0,
	.exec = annotate_exec,
	.groups = annotate_groups,
	.min_operands = 0,
	.max_operands = -1,
};
