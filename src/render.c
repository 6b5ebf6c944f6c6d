/*
 * render.c - the card as text: a man-page-like page with one section per
 * part of the model (official, range, in practice, security, related, your
 * notes, on this machine, check it yourself), aligned and wrapped at 78
 * columns.  It only walks the JSON model that card.c builds; it never
 * queries anything itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define WIDTH	78
#define IND	4
#define LABEL	14

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static void
section(struct cmd_ctx *ctx, const char *title)
{
	fprintf(ctx->out, "\n%s%s%s\n", out_sgr(ctx, "head"), title,
	    out_reset(ctx));
}

/* "    Label         text" with text wrapped under itself. */
static void
field(struct cmd_ctx *ctx, const char *label, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	fprintf(ctx->out, "%*s%-*s", IND, "", LABEL, label);
	out_wrap(ctx->out, text, IND + LABEL, IND + LABEL, WIDTH);
}

static const char *
level_role(const char *level)
{
	return level;	/* roles are named after the levels */
}

/* Key of a transport's official data, to print tcp and udp once. */
static char *
official_key(json_t *t)
{
	json_t *copy = json_deep_copy(json_object_get(t, "iana"));
	size_t i;
	char *s, *k;

	for (i = 0; i < json_array_size(copy); i++)
		json_object_del(json_array_get(copy, i), "transport");
	s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (s == NULL)
		return NULL;
	k = malloc(strlen(s) + 32);
	if (k != NULL)
		sprintf(k, "%s|%s", jstr(t, "status"), s);
	free(s);
	return k;
}

static void
render_official(struct cmd_ctx *ctx, json_t *card)
{
	json_t *ts = json_object_get(card, "transports");
	size_t n = json_array_size(ts), i, j, k;
	char **keys = calloc(n, sizeof *keys);
	int *done = calloc(n, sizeof *done);

	section(ctx, "OFFICIAL (IANA)");
	for (i = 0; keys != NULL && done != NULL && i < n; i++)
		keys[i] = official_key(json_array_get(ts, i));
	for (i = 0; keys != NULL && done != NULL && i < n; i++) {
		json_t *t = json_array_get(ts, i), *rows;
		char protos[64] = "";
		const char *was = jstr(t, "was");

		if (done[i])
			continue;
		for (j = i; j < n; j++) {
			if (done[j] || keys[i] == NULL || keys[j] == NULL ||
			    strcmp(keys[i], keys[j]) != 0)
				continue;
			done[j] = 1;
			if (protos[0] != '\0')
				strcat(protos, ", ");
			strcat(protos, jstr(json_array_get(ts, j),
			    "transport"));
		}
		fprintf(ctx->out, "%*s%s%-*s%s%s%s", IND, "",
		    out_sgr(ctx, "bold"), LABEL, protos, jstr(t, "status"),
		    out_reset(ctx), *was != '\0' ? " (was " : "");
		if (*was != '\0')
			fprintf(ctx->out, "%s)", was);
		fputc('\n', ctx->out);
		rows = json_object_get(t, "iana");
		if (json_array_size(rows) == 0)
			field(ctx, "", "no IANA row covers this port: it is "
			    "unassigned");
		for (k = 0; k < json_array_size(rows); k++) {
			json_t *r = json_array_get(rows, k);
			const char *port = jstr(r, "port");

			if (k > 0)
				fputc('\n', ctx->out);
			field(ctx, "Service", jstr(r, "service_name"));
			if (strchr(port, '-') != NULL)
				field(ctx, "Range", port);
			field(ctx, "Description", jstr(r, "description"));
			field(ctx, "Assignee", jstr(r, "assignee"));
			field(ctx, "Contact", jstr(r, "contact"));
			field(ctx, "Registered", jstr(r, "registration_date"));
			field(ctx, "Modified", jstr(r, "modification_date"));
			field(ctx, "Reference", jstr(r, "reference"));
			field(ctx, "Service code", jstr(r, "service_code"));
			field(ctx, "Unauthorized", jstr(r, "unauthorized_use"));
			field(ctx, "Notes", jstr(r, "notes"));
			if (strcmp(jstr(r, "source"), "iana") != 0)
				field(ctx, "Source", jstr(r, "source"));
		}
	}
	for (i = 0; keys != NULL && i < n; i++)
		free(keys[i]);
	free(keys);
	free(done);
}

static void
render_range(struct cmd_ctx *ctx, json_t *card)
{
	json_t *r = json_object_get(card, "range"), *e;
	char buf[512];
	unsigned port = (unsigned)json_integer_value(
	    json_object_get(card, "port"));

	section(ctx, "RANGE");
	snprintf(buf, sizeof buf, "%s port (%lld-%lld): %s.",
	    jstr(r, "label"),
	    (long long)json_integer_value(json_object_get(r, "lo")),
	    (long long)json_integer_value(json_object_get(r, "hi")),
	    jstr(r, "meaning"));
	fprintf(ctx->out, "%*s", IND, "");
	out_wrap(ctx->out, buf, IND, IND, WIDTH);
	e = json_object_get(r, "ephemeral");
	if (json_is_object(e)) {
		snprintf(buf, sizeof buf, "%s this kernel's ephemeral range "
		    "%lld-%lld%s", json_is_true(json_object_get(e, "inside")) ?
		    "Inside" : "Outside",
		    (long long)json_integer_value(json_object_get(e, "lo")),
		    (long long)json_integer_value(json_object_get(e, "hi")),
		    json_is_true(json_object_get(e, "inside")) ?
		    ": outgoing connections may take it as their source "
		    "port." : ".");
		fprintf(ctx->out, "%*s", IND, "");
		out_wrap(ctx->out, buf, IND, IND, WIDTH);
	}
	(void)port;
}

static void
render_practice(struct cmd_ctx *ctx, json_t *card)
{
	json_t *ts = json_object_get(card, "transports");
	json_t *uses = json_object_get(card, "uses");
	size_t i;
	int any = 0;
	char buf[512];

	section(ctx, "IN PRACTICE");
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		json_t *nm = json_object_get(t, "nmap");

		if (!json_is_object(nm))
			continue;
		char of[64] = "";
		long long ranked = (long long)json_integer_value(
		    json_object_get(nm, "ranked"));

		/* a registry without the count says only the rank */
		if (ranked > 0)
			snprintf(of, sizeof of, " of %lld %s ports", ranked,
			    jstr(t, "transport"));
		if (json_real_value(json_object_get(nm, "frequency")) <= 0)
			/* ties at zero: a rank would mean nothing */
			snprintf(buf, sizeof buf, "nmap lists %lld/%s as %s "
			    "but has not seen it open (frequency 0).",
			    json_integer_value(json_object_get(card, "port")),
			    jstr(t, "transport"), jstr(nm, "name"));
		else
			snprintf(buf, sizeof buf, "nmap sees %lld/%s open with "
			    "frequency %.6f (rank %lld%s; nmap calls it %s).",
			    json_integer_value(json_object_get(card, "port")),
			    jstr(t, "transport"), json_real_value(
			    json_object_get(nm, "frequency")), (long long)
			    json_integer_value(json_object_get(nm, "rank")),
			    of, jstr(nm, "name"));
		fprintf(ctx->out, "%*s", IND, "");
		out_wrap(ctx->out, buf, IND, IND, WIDTH);
		any = 1;
	}
	for (i = 0; i < json_array_size(uses); i++) {
		json_t *u = json_array_get(uses, i);
		char head[256];

		snprintf(head, sizeof head, "%s%s%s (%s%s%s%s%s, %s)",
		    out_sgr(ctx, "bold"), jstr(u, "name"), out_reset(ctx),
		    jstr(u, "kind"),
		    strcmp(jstr(u, "platform"), "-") != 0 ? ", " : "",
		    strcmp(jstr(u, "platform"), "-") != 0 ?
		    jstr(u, "platform") : "",
		    strcmp(jstr(u, "years"), "-") != 0 ? ", " : "",
		    strcmp(jstr(u, "years"), "-") != 0 ? jstr(u, "years") : "",
		    jstr(u, "confidence"));
		fprintf(ctx->out, "%*s%s\n", IND, "", head);
		fprintf(ctx->out, "%*s", IND + 4, "");
		out_wrap(ctx->out, jstr(u, "text"), IND + 4, IND + 4, WIDTH);
		snprintf(buf, sizeof buf, "source: %s", jstr(u, "source"));
		fprintf(ctx->out, "%*s%s", IND + 4, "", out_sgr(ctx, "dim"));
		out_wrap(ctx->out, buf, IND + 4, IND + 4, WIDTH);
		fputs(out_reset(ctx), ctx->out);
		any = 1;
	}
	if (!any)
		fprintf(ctx->out, "%*sNo observed or curated use is "
		    "recorded.\n", IND, "");
}

static void
render_security(struct cmd_ctx *ctx, json_t *card)
{
	json_t *ts = json_object_get(card, "transports");
	const char *lvl = jstr(json_object_get(card, "risk"), "level");
	json_t *done = json_object();
	size_t i, j, k, m;

	section(ctx, "SECURITY");
	fprintf(ctx->out, "%*sRisk level: %s%s%s\n", IND, "",
	    out_sgr(ctx, level_role(lvl)), lvl, out_reset(ctx));
	/* Each rule once, with every transport it fired for. */
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *rs = json_object_get(json_object_get(
		    json_array_get(ts, i), "risk"), "reasons");

		for (k = 0; k < json_array_size(rs); k++) {
			json_t *r = json_array_get(rs, k);
			char buf[512], tag[64] = "";

			if (json_object_get(done, jstr(r, "rule")) != NULL)
				continue;
			json_object_set_new(done, jstr(r, "rule"),
			    json_true());
			for (j = i; j < json_array_size(ts); j++) {
				json_t *t = json_array_get(ts, j);
				json_t *rr = json_object_get(json_object_get(t,
				    "risk"), "reasons");

				for (m = 0; m < json_array_size(rr); m++)
					if (strcmp(jstr(json_array_get(rr, m),
					    "rule"), jstr(r, "rule")) == 0)
						break;
				if (m == json_array_size(rr))
					continue;
				if (strlen(tag) + 8 < sizeof tag)
					snprintf(tag + strlen(tag), sizeof tag -
					    strlen(tag), "%s%s", *tag ? "," : "",
					    jstr(t, "transport"));
			}
			if (*jstr(r, "what") != '\0')
				snprintf(buf, sizeof buf, "%s (%s): %s",
				    jstr(r, "rule"), jstr(r, "what"),
				    jstr(r, "text"));
			else
				snprintf(buf, sizeof buf, "%s: %s",
				    jstr(r, "rule"), jstr(r, "text"));
			fprintf(ctx->out, "%*s%s%-7s%s %-8s ", IND, "",
			    out_sgr(ctx, level_role(jstr(r, "level"))),
			    jstr(r, "level"), out_reset(ctx), tag);
			out_wrap(ctx->out, buf, IND + 17, IND + 17, WIDTH);
		}
	}
	json_decref(done);
}

static void
render_related(struct cmd_ctx *ctx, json_t *card)
{
	json_t *rel = json_object_get(card, "related");
	size_t i;

	if (json_array_size(rel) == 0)
		return;
	section(ctx, "RELATED PORTS");
	for (i = 0; i < json_array_size(rel); i++) {
		json_t *r = json_array_get(rel, i);
		long long lo = json_integer_value(json_object_get(r, "port"));
		long long hi = json_integer_value(json_object_get(r,
		    "port_hi"));
		char p[48], buf[256];

		if (hi > lo)
			snprintf(p, sizeof p, "%lld-%lld", lo, hi);
		else
			snprintf(p, sizeof p, "%lld", lo);
		snprintf(buf, sizeof buf, "%s%s%s", jstr(r, "service"),
		    *jstr(r, "service") != '\0' ? ": " : "",
		    jstr(r, "reason"));
		fprintf(ctx->out, "%*s%-*s", IND, "", LABEL, p);
		out_wrap(ctx->out, buf, IND + LABEL, IND + LABEL, WIDTH);
	}
}

static void
render_notes(struct cmd_ctx *ctx, json_t *card)
{
	json_t *notes = json_object_get(card, "notes");
	size_t i;

	if (!json_is_array(notes))
		return;
	section(ctx, "YOUR NOTES");
	if (json_array_size(notes) == 0)
		fprintf(ctx->out, "%*sNone. Record yours with: portdex note "
		    "%lld TEXT\n", IND, "", (long long)json_integer_value(
		    json_object_get(card, "port")));
	for (i = 0; i < json_array_size(notes); i++) {
		json_t *n = json_array_get(notes, i);
		char tag[64];

		snprintf(tag, sizeof tag, "%s", jstr(n, "transport"));
		fprintf(ctx->out, "%*s%-*s", IND, "", LABEL, tag);
		out_wrap(ctx->out, jstr(n, "text"), IND + LABEL, IND + LABEL,
		    WIDTH);
		fprintf(ctx->out, "%*s%s(%s%s%s)%s\n", IND + LABEL, "",
		    out_sgr(ctx, "dim"), jstr(n, "author"),
		    *jstr(n, "author") != '\0' ? ", " : "",
		    jstr(n, "created"), out_reset(ctx));
	}
}

static void
render_local(struct cmd_ctx *ctx, json_t *card)
{
	json_t *local = json_object_get(card, "local");
	json_t *socks = json_object_get(local, "sockets");
	size_t i;

	if (!json_is_object(local))
		return;
	section(ctx, "ON THIS MACHINE");
	if (*jstr(local, "error") != '\0') {
		fprintf(ctx->out, "%*s", IND, "");
		out_wrap(ctx->out, jstr(local, "error"), IND, IND, WIDTH);
		return;
	}
	if (json_array_size(socks) == 0) {
		fprintf(ctx->out, "%*s%s\n", IND, "", jstr(local, "summary"));
		return;
	}
	for (i = 0; i < json_array_size(socks); i++) {
		json_t *s = json_array_get(socks, i);

		fprintf(ctx->out, "%*s%s\n", IND, "", jstr(s, "line"));
	}
	if (*jstr(local, "footer") != '\0') {
		fprintf(ctx->out, "%*s", IND, "");
		out_wrap(ctx->out, jstr(local, "footer"), IND, IND, WIDTH);
	}
}

static void
render_check(struct cmd_ctx *ctx, json_t *card)
{
	static const struct {
		const char *key, *label;
	} os[] = {
		{ "linux", "Linux" }, { "macos", "macOS" },
		{ "windows", "Windows" },
	};
	json_t *c = json_object_get(card, "check");
	size_t i, k;

	section(ctx, "CHECK IT YOURSELF");
	for (i = 0; i < sizeof os / sizeof *os; i++) {
		json_t *a = json_object_get(c, os[i].key);

		for (k = 0; k < json_array_size(a); k++)
			fprintf(ctx->out, "%*s%-*s%s\n", IND, "", LABEL,
			    k == 0 ? os[i].label : "",
			    json_string_value(json_array_get(a, k)));
	}
}

void
render_card(struct cmd_ctx *ctx, json_t *card)
{
	json_t *ts = json_object_get(card, "transports");
	const char *svc = "", *desc = "";
	size_t i;

	for (i = 0; i < json_array_size(ts) && *svc == '\0'; i++) {
		json_t *t = json_array_get(ts, i);
		json_t *r = json_array_get(json_object_get(t, "iana"), 0);

		svc = jstr(t, "service");
		if (r != NULL)
			desc = jstr(r, "description");
	}
	fprintf(ctx->out, "%sPORT %lld%s", out_sgr(ctx, "bold"),
	    (long long)json_integer_value(json_object_get(card, "port")),
	    out_reset(ctx));
	if (*svc != '\0')
		fprintf(ctx->out, " - %s", svc);
	if (*desc != '\0' && strcmp(desc, svc) != 0 &&
	    strchr(desc, '\n') == NULL)
		fprintf(ctx->out, " (%s)", desc);
	fputc('\n', ctx->out);
	render_official(ctx, card);
	render_range(ctx, card);
	render_practice(ctx, card);
	render_security(ctx, card);
	render_related(ctx, card);
	render_notes(ctx, card);
	render_local(ctx, card);
	render_check(ctx, card);
}

void
render_brief(struct cmd_ctx *ctx, json_t *b)
{
	json_t *ts = json_object_get(b, "transports");
	size_t i;

	fprintf(ctx->out, "%-6lld", (long long)json_integer_value(
	    json_object_get(b, "port")));
	for (i = 0; i < json_array_size(ts); i++) {
		json_t *t = json_array_get(ts, i);
		const char *risk = jstr(t, "risk");

		fprintf(ctx->out, "  %s %-13s %-16s %s%-6s%s",
		    jstr(t, "transport"), jstr(t, "status"),
		    *jstr(t, "service") != '\0' ? jstr(t, "service") : "-",
		    out_sgr(ctx, risk), strcmp(risk, "none") == 0 ? "" : risk,
		    out_reset(ctx));
	}
	fputc('\n', ctx->out);
}
