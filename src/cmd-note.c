/*
 * cmd-note.c - `portdex note`: record, list and remove what you use a port
 * for.  Notes live in the state database (never rebuilt) and appear in the
 * card, in `find` and in --json.  Listing opens the state read-only (it
 * creates and writes nothing; no file is no notes); adding and removing
 * open it read-write.
 */
#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

extern const struct cmd_entry cmd_note_entry;

/* PORT or PORT/PROTO. */
static int
parse_port_proto(const char *s, unsigned *port, int *proto)
{
	char buf[32], *slash;
	long long p;

	if (strlen(s) >= sizeof buf) {
		pdx_set_error("'%.20s...' is not a port", s);
		return -1;
	}
	strcpy(buf, s);
	*proto = 0;
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		if ((*proto = pdx_proto_parse(slash)) == 0) {
			pdx_set_error("unknown transport '%s'", slash);
			return -1;
		}
	}
	if (pdx_parse_number(buf, 0, 65535, "port", &p) != 0)
		return -1;
	*port = (unsigned)p;
	return 0;
}

static void
print_notes(struct cmd_ctx *ctx, json_t *notes)
{
	size_t i;

	if (ctx->json) {
		out_json(ctx, notes);
		return;
	}
	for (i = 0; i < json_array_size(notes); i++) {
		json_t *n = json_array_get(notes, i);

		fprintf(ctx->out, "%-6lld %-4s %s  %s%s (%s)%s\n",
		    (long long)json_integer_value(json_object_get(n, "port")),
		    json_string_value(json_object_get(n, "transport")),
		    json_string_value(json_object_get(n, "text")),
		    out_sgr(ctx, "dim"),
		    json_string_value(json_object_get(n, "created")),
		    json_string_value(json_object_get(n, "author")),
		    out_reset(ctx));
	}
}

/* Opens the state for writing (or reading); main closes it. */
static int
open_state(struct cmd_ctx *ctx, int write)
{
	ctx->state = write ? pdx_state_open(ctx->state_path)
			   : pdx_state_open_read(ctx->state_path);
	if (ctx->state == NULL) {
		out_error("note", "%s", pdx_last_error());
		return -1;
	}
	if (write)
		state_migrated(ctx);
	return 0;
}

static int
note_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *rm = NULL;
	char **argv = args->argv;
	const char *val;
	int k, argc = args->argc, list = 0, proto, n;
	unsigned port;
	json_t *notes;

	for (k = 0; k < args->nopt; k++) {
		val = args->opt[k].val;
		switch (args->opt[k].id) {
		case 'l':
			list = 1;
			break;
		case 'r':
			rm = val;
			break;
		}
	}
	if (args_done(&cmd_note_entry, args) != 0)
		return cmd_usage(&cmd_note_entry);
	if (rm != NULL) {
		if (argc != 0 || list)
			return cmd_usage(&cmd_note_entry);
		if (parse_port_proto(rm, &port, &proto) != 0) {
			out_error("note", "%s", pdx_last_error());
			return EXIT_USAGE;
		}
		if (open_state(ctx, 1) != 0)
			return EXIT_USAGE;
		if ((n = pdx_note_rm(ctx->state, port, proto)) < 0) {
			out_error("note", "%s", pdx_last_error());
			return EXIT_USAGE;
		}
		if (ctx->json) {
			json_t *o = json_pack("{s:i, s:s, s:i}", "port",
			    (int)port, "transport",
			    proto != 0 ? pdx_proto_name(proto) : "any",
			    "removed", n);

			out_json(ctx, o);
			json_decref(o);
		} else if (!ctx->quiet)
			fprintf(ctx->out, "removed %d note%s of %s\n", n,
			    n == 1 ? "" : "s", rm);
		return n > 0 ? EXIT_OK : EXIT_FINDINGS;
	}
	/* note PORT, like note --list PORT: that port's notes */
	if (list || argc <= 1) {
		if (argc > 1)
			return cmd_usage(&cmd_note_entry);
		port = 0;
		proto = 0;
		if (argc == 1 &&
		    parse_port_proto(argv[0], &port, &proto) != 0) {
			out_error("note", "%s", pdx_last_error());
			return EXIT_USAGE;
		}
		if (access(ctx->state_path, F_OK) != 0 && errno == ENOENT)
			notes = json_array(); /* no state yet: no notes */
		else if (open_state(ctx, 0) != 0)
			return EXIT_USAGE;
		else if ((notes = pdx_notes(ctx->state,
			      argc == 1 ? (int)port : -1, NULL)) == NULL) {
			out_error("note", "%s", pdx_last_error());
			return EXIT_USAGE;
		}
		if (proto != 0) {
			/* PORT/PROTO: that transport's notes and those of "any" */
			size_t i = json_array_size(notes);

			while (i-- > 0) {
				const char *t = json_string_value(
				    json_object_get(json_array_get(notes, i),
					"transport"));

				if (t != NULL && strcmp(t, "any") != 0 &&
				    strcmp(t, pdx_proto_name(proto)) != 0)
					json_array_remove(notes, i);
			}
		}
		print_notes(ctx, notes);
		json_decref(notes);
		return EXIT_OK;
	}
	if (argc < 2)
		return cmd_usage(&cmd_note_entry);
	if (parse_port_proto(argv[0], &port, &proto) != 0) {
		out_error("note", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	{
		char text[4097] = "";
		int i;

		for (i = 1; i < argc; i++) {
			if (strlen(text) + strlen(argv[i]) + 2 > sizeof text) {
				out_error("note",
				    "a note is at most %zu "
				    "bytes",
				    sizeof text - 1);
				return EXIT_USAGE;
			}
			if (i > 1)
				strcat(text, " ");
			strcat(text, argv[i]);
		}
		if (open_state(ctx, 1) != 0)
			return EXIT_USAGE;
		if (pdx_note_add(ctx->state, port, proto, text) != 0) {
			out_error("note", "%s", pdx_last_error());
			return EXIT_USAGE;
		}
	}
	if (ctx->json) {
		json_t *o = pdx_notes(ctx->state, (int)port, NULL);

		/* the notes of the port now, the new one last */
		out_json(ctx, o != NULL ? o : json_array());
		json_decref(o);
	} else if (!ctx->quiet)
		fprintf(ctx->out, "noted %s\n", argv[0]);
	return EXIT_OK;
}

static const struct cmd_opt note_opts[] = {
	{ "list", 'l', OPT_FLAG, 'l', NULL,
	    "  -l, --list [PORT]    list every note, or those of PORT\n", 0 },
	{ "rm", 'r', OPT_STR, 'r', "PORT[/PROTO]",
	    "  -r, --rm PORT[/PROTO]   remove the notes of a port\n", 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup note_group = { "note", 0, note_opts };
static const struct cmd_optgroup *const note_groups[] = { &note_group, NULL };

const struct cmd_entry cmd_note_entry = {
	.name = "note",
	.usage = "PORT[/PROTO] TEXT... | --list [PORT] | --rm PORT[/PROTO]",
	.summary = "record what you use a port for (who, why, since when)",
	/* note opens the state itself: read-only to list */
	.flags = CMD_WRITES | CMD_INORDER,
	.exec = note_exec,
	.groups = note_groups,
	.min_operands = 0,
	.max_operands = -1,
	.operands = "  PORT[/PROTO] TEXT    record a note (the transport is "
		    "optional)\n"
		    "  PORT[/PROTO]         list the notes of a port\n",
};
