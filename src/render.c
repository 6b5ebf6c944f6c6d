/*
 * render.c - the text emitter: draws the card's display view (built by the
 * library, pdx_card_view) as a man-page-like page wrapped at the output
 * width, and the one-line brief of a range listing.  It knows how to draw
 * a heading, a field, an item or a rule, never what a card contains: the
 * web page draws the same view, so the two carry the same facts.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define IND 4
#define LABEL 14

static int
width(struct cmd_ctx *ctx)
{
	return ctx->width >= 40 ? ctx->width : 80;
}

/* "    Label         text" with text wrapped under itself. */
static void
label_line(struct cmd_ctx *ctx, int ind, const char *label, const char *role,
    const char *text)
{
	int used = ind + LABEL, n = (int)strlen(label);

	fprintf(ctx->out, "%*s%s%s%s", ind, "", out_sgr(ctx, role), label,
	    out_reset(ctx));
	if (n >= LABEL) {
		fputc(' ', ctx->out);
		used = ind + n + 1;
	} else
		fprintf(ctx->out, "%*s", LABEL - n, "");
	out_wrap(ctx->out, text, ind + LABEL, used, width(ctx));
}

static void
para_line(struct cmd_ctx *ctx, int ind, const char *text)
{
	fprintf(ctx->out, "%*s", ind, "");
	out_wrap(ctx->out, text, ind, ind, width(ctx));
}

static void
draw_item(struct cmd_ctx *ctx, json_t *b)
{
	json_t *src = json_object_get(b, "sources");
	char head[512];
	size_t i;

	snprintf(head, sizeof head, "%s%s%s (%s)", out_sgr(ctx, "bold"),
	    out_str(b, "title"), out_reset(ctx), out_str(b, "meta"));
	fprintf(ctx->out, "%*s", IND, "");
	out_wrap(ctx->out, head, IND + 4, IND,
	    width(ctx) +
		(int)(strlen(out_sgr(ctx, "bold")) + strlen(out_reset(ctx))));
	para_line(ctx, IND + 4, out_str(b, "text"));
	for (i = 0; i < json_array_size(src); i++) {
		json_t *s = json_array_get(src, i);
		char buf[640];

		snprintf(buf, sizeof buf, "%s %s",
		    i == 0 ? (json_array_size(src) > 1 ? "sources:" : "source:")
			   : "       ",
		    out_str(s, "text"));
		fprintf(ctx->out, "%*s%s", IND + 4, "", out_sgr(ctx, "dim"));
		out_wrap(ctx->out, buf, IND + 12, IND + 4, width(ctx));
		if (*out_str(s, "href") != '\0')
			fprintf(ctx->out, "%*s%s\n", IND + 12, "",
			    out_str(s, "href"));
		fputs(out_reset(ctx), ctx->out);
	}
}

/* The widest transport tag among a section's rules, for one column. */
static int
tag_width(json_t *blocks)
{
	size_t i;
	int w = 7;

	for (i = 0; i < json_array_size(blocks); i++) {
		json_t *b = json_array_get(blocks, i);
		int n = (int)strlen(out_str(b, "tags"));

		if (strcmp(out_str(b, "t"), "rule") == 0 && n > w)
			w = n;
	}
	return w;
}

static void
draw_block(struct cmd_ctx *ctx, json_t *b, int tagw, int *records)
{
	const char *t = out_str(b, "t");
	size_t i;

	if (strcmp(t, "group") == 0) {
		label_line(ctx, IND, out_str(b, "label"), "bold",
		    out_str(b, "text"));
		*records = 0;
	} else if (strcmp(t, "record") == 0) {
		json_t *f = json_object_get(b, "fields");

		if ((*records)++ > 0)
			fputc('\n', ctx->out);
		for (i = 0; i < json_array_size(f); i++)
			label_line(ctx, IND,
			    out_str(json_array_get(f, i), "label"), "",
			    out_str(json_array_get(f, i), "text"));
	} else if (strcmp(t, "field") == 0)
		label_line(ctx, IND, out_str(b, "label"), "",
		    out_str(b, "text"));
	else if (strcmp(t, "para") == 0)
		para_line(ctx, IND, out_str(b, "text"));
	else if (strcmp(t, "item") == 0)
		draw_item(ctx, b);
	else if (strcmp(t, "rule") == 0) {
		const char *lvl = out_str(b, "level");

		fprintf(ctx->out, "%*s%s%-7s%s %-*s  ", IND, "",
		    out_sgr(ctx, lvl), lvl, out_reset(ctx), tagw,
		    out_str(b, "tags"));
		out_wrap(ctx->out, out_str(b, "text"), IND + 10 + tagw,
		    IND + 10 + tagw, width(ctx));
	} else if (strcmp(t, "code") == 0)
		fprintf(ctx->out, "%*s%-*s%s\n", IND, "", LABEL,
		    out_str(b, "label"), out_str(b, "text"));
	else if (strcmp(t, "qa") == 0) {
		para_line(ctx, IND, out_str(b, "label"));
		para_line(ctx, IND + 4, out_str(b, "text"));
	}
}

/*
 * The views drawn: the process ends soon after (show), and freeing each
 * view node by node was 4% of a card's instructions; they stay reachable
 * from here (no leak report).
 */
static json_t *kept_views;

void
render_card(struct cmd_ctx *ctx, json_t *card)
{
	json_t *v = pdx_card_view(card, PDX_VIEW_TEXT);
	json_t *secs = json_object_get(v, "sections");
	char head[512];
	size_t i, k;

	snprintf(head, sizeof head, "PORT %lld - %s",
	    (long long)json_integer_value(json_object_get(v, "port")),
	    out_str(v, "headline"));
	fprintf(ctx->out, "%s", out_sgr(ctx, "bold"));
	out_wrap(ctx->out, head, 4, 0, width(ctx));
	fputs(out_reset(ctx), ctx->out);
	out_wrap(ctx->out, out_str(v, "summary"), 0, 0, width(ctx));
	for (i = 0; i < json_array_size(secs); i++) {
		json_t *s = json_array_get(secs, i);
		json_t *blocks = json_object_get(s, "blocks");
		const char *title = out_str(s, "title");
		int tagw = tag_width(blocks), records = 0;
		char up[64];

		for (k = 0; title[k] != '\0' && k + 1 < sizeof up; k++)
			up[k] = (char)toupper((unsigned char)title[k]);
		up[k] = '\0';
		fprintf(ctx->out, "\n%s%s%s\n", out_sgr(ctx, "head"), up,
		    out_reset(ctx));
		for (k = 0; k < json_array_size(blocks); k++)
			draw_block(ctx, json_array_get(blocks, k), tagw,
			    &records);
	}
	if (kept_views == NULL)
		kept_views = json_array();
	json_array_append_new(kept_views, v); /* v freed on failure */
}

void
render_brief_header(struct cmd_ctx *ctx)
{
	fprintf(ctx->out,
	    "%sPORT   PROTO  STATUS         SERVICE          RISK%s\n",
	    out_sgr(ctx, "bold"), out_reset(ctx));
}

/* One line per transport: PORT PROTO STATUS SERVICE [RISK], no padding
 * after the last column. */
void
render_brief(struct cmd_ctx *ctx, json_t *b)
{
	json_t *ts = json_object_get(b, "transports");
	size_t i;

	for (i = 0; i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		const char *risk = out_str(t, "risk");
		const char *svc = *out_str(t, "service") != '\0'
		    ? out_str(t, "service")
		    : "-";
		int show_risk = strcmp(risk, "none") != 0 &&
		    strcmp(risk, "info") != 0;

		fprintf(ctx->out, "%-6lld %-6s %-14s %s",
		    (long long)json_integer_value(json_object_get(b, "port")),
		    out_str(t, "transport"), out_str(t, "status"), svc);
		if (show_risk)
			fprintf(ctx->out, "%*s%s%s%s",
			    (int)(strlen(svc) < 16 ? 17 - strlen(svc) : 1), "",
			    out_sgr(ctx, risk), risk, out_reset(ctx));
		fputc('\n', ctx->out);
	}
}
