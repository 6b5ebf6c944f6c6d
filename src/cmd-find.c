/*
 * cmd-find.c - `portdex find WORDS...`: ranked full-text search over
 * service names, descriptions and curated uses (the registry's FTS5
 * index), plus the user's notes.  Exit 1 when nothing matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

extern const struct cmd_entry cmd_find_entry;

static int
find_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	int argc = args->raw_argc;
	char **argv = args->raw_argv;
	char query[1024] = "";
	json_t *res, *notes = NULL;
	size_t i;
	int k;

	if (argc < 2)
		return cmd_usage(&cmd_find_entry);
	for (k = 1; k < argc; k++) {
		if (strlen(query) + strlen(argv[k]) + 2 > sizeof query) {
			out_error("find", "query longer than %zu bytes",
			    sizeof query - 1);
			return EXIT_USAGE;
		}
		if (k > 1)
			strcat(query, " ");
		strcat(query, argv[k]);
	}
	if ((res = pdx_find(ctx->db, query, 25)) == NULL) {
		out_error("find", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (ctx->state != NULL) {
		json_t *seen = json_object();

		for (k = 1; k < argc; k++) {
			json_t *n = pdx_notes(ctx->state, -1, argv[k]);

			for (i = 0; n != NULL && i < json_array_size(n); i++) {
				json_t *o = json_array_get(n, i);
				char key[64];

				/* a note matching several words shows once */
				snprintf(key, sizeof key, "%lld|%s",
				    (long long)json_integer_value(
					json_object_get(o, "id")),
				    json_string_value(
					json_object_get(o, "created")));
				if (json_object_get(seen, key) != NULL)
					continue;
				json_object_set_new(seen, key, json_true());

				json_array_insert_new(res, 0,
				    json_pack(
					"{s:s, s:O, s:s, s:[s], s:O, s:O, s:f}",
					"name", "note", "text",
					json_object_get(o, "text"), "kind",
					"note", "transports",
					json_string_value(
					    json_object_get(o, "transport")),
					"port", json_object_get(o, "port"),
					"port_hi", json_object_get(o, "port"),
					"score", 100.0));
			}
			json_decref(n);
		}
		json_decref(seen);
	}
	(void)notes;
	if (ctx->json)
		out_json(ctx, res);
	else {
		for (i = 0; i < json_array_size(res); i++) {
			json_t *r = json_array_get(res, i);
			json_t *t = json_object_get(r, "transports");
			char port[48] = "-", protos[32] = "", text[200];
			size_t j;

			if (json_is_integer(json_object_get(r, "port"))) {
				long long lo = json_integer_value(
				    json_object_get(r, "port"));
				long long hi = json_integer_value(
				    json_object_get(r, "port_hi"));

				if (hi > lo)
					snprintf(port, sizeof port, "%lld-%lld",
					    lo, hi);
				else
					snprintf(port, sizeof port, "%lld", lo);
			}
			for (j = 0; j < json_array_size(t) && j < 4; j++) {
				if (j > 0)
					strcat(protos, ",");
				strcat(protos,
				    json_string_value(json_array_get(t, j)));
			}
			snprintf(text, sizeof text, "%s",
			    json_string_value(json_object_get(r, "text")));
			for (j = 0; text[j] != '\0'; j++)
				if (text[j] == '\n' || text[j] == '\t')
					text[j] = ' ';
			/* one line each, within the output width */
			{
				size_t room = ctx->width > 40 + 20
				    ? (size_t)ctx->width - 40
				    : 20;

				if (room >= sizeof text)
					room = sizeof text - 1;
				if (strlen(text) > room) {
					size_t cut = room - 3;

					while (cut > 0 &&
					    ((unsigned char)text[cut] & 0xc0) ==
						0x80)
						cut--;
					strcpy(text + cut, "...");
				}
			}
			if (i == 0)
				fprintf(ctx->out, "%s%-11s %-12s %-16s %s%s\n",
				    out_sgr(ctx, "bold"), "PORT", "PROTOS",
				    "NAME", "WHAT", out_reset(ctx));
			fprintf(ctx->out, "%s%-11s%s %-12s %-16.16s%s%s\n",
			    out_sgr(ctx, "bold"), port, out_reset(ctx), protos,
			    json_string_value(json_object_get(r, "name")),
			    *text ? " " : "", text);
		}
		if (json_array_size(res) == 0 && !ctx->quiet)
			fprintf(stderr,
			    "portdex: find: nothing matches "
			    "'%s'\n",
			    query);
	}
	k = json_array_size(res) > 0 ? EXIT_OK : EXIT_FINDINGS;
	json_decref(res);
	return k;
}

const struct cmd_entry cmd_find_entry = {
	.name = "find",
	.usage = "WORDS...",
	.summary = "ranked full-text search over names, descriptions, uses and "
		   "notes",
	.flags = CMD_NEEDS_DB | CMD_OPT_STATE,
	.exec = find_exec,
	.min_operands = 0,
	.max_operands = -1,
	.operands =
	    "  (none) WORDS are matched against service names, aliases, "
	    "curated uses\n"
	    "  and your notes; a number is that port\n",
};
