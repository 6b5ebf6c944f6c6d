/*
 * output.c - the tool's output primitives: JSON printing, colour escapes
 * (only when the context says so: a TTY without NO_COLOR, or --color
 * always), error messages in "portdex: CMD: message" form, CSV fields and wrapped
 * text.  What a command prints is the command's (or render.c's) business.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void
out_json(struct cmd_ctx *ctx, json_t *j)
{
	json_dumpf(j, ctx->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
	fputc('\n', ctx->out);
}

static const struct {
	const char	*role;
	const char	*sgr;
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

void
out_wrap(FILE *f, const char *text, int indent, int first_used, int width)
{
	int col = first_used, fresh = 1;
	const char *p = text;

	while (*p != '\0') {
		const char *w = p;
		int n;

		while (*w == ' ' || *w == '\n' || *w == '\t')
			w++;
		if (*w == '\0')
			break;
		p = w;
		while (*p != '\0' && *p != ' ' && *p != '\n' && *p != '\t')
			p++;
		n = (int)(p - w);
		if (!fresh && col + 1 + n > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			fresh = 1;
		}
		if (!fresh) {
			fputc(' ', f);
			col++;
		}
		fwrite(w, 1, (size_t)n, f);
		col += n;
		fresh = 0;
	}
	fputc('\n', f);
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
