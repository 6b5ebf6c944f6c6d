/*
 * cmd-show.c - `portdex show PORT[/PROTO] | NAME | LO-HI ...` (and the
 * shorthand `portdex PORT...`): the card of each port asked for, a
 * compact line per port for a range, every port of a service name.
 * Building the card is the library's; printing it is render.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

extern const struct cmd_entry cmd_show_entry;

/* The cards of the last show_exec(): the process ends with them. */
static json_t *kept_cards;

/* A resolved operand: a list of (lo, hi, protomask, full card?). */
struct target {
	unsigned lo, hi;
	int protomask;
	int brief; /* a range: one line per port */
};

/*
 * Parses PORT, PORT/PROTO, LO-HI[/PROTO].  Returns 1 when arg is
 * numeric-looking and parsed, 0 when it is a name, -1 on a bad port.
 */
static int
parse_numeric(const char *arg, struct target *t)
{
	char buf[64], *slash, *dash;
	long long lo, hi;

	if (!((arg[0] >= '0' && arg[0] <= '9') || arg[0] == '-'))
		return 0;
	if (strlen(arg) >= sizeof buf) {
		pdx_set_error("'%.20s...' is not a port", arg);
		return -1;
	}
	strcpy(buf, arg);
	t->protomask = 0;
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		if ((t->protomask = pdx_proto_parse(slash)) == 0) {
			pdx_set_error("unknown transport '%s' (tcp, udp, "
				      "sctp or dccp)",
			    slash);
			return -1;
		}
	}
	if ((dash = strchr(buf + 1, '-')) != NULL) {
		*dash++ = '\0';
		if (pdx_parse_number(buf, 0, 65535, "port", &lo) != 0 ||
		    pdx_parse_number(dash, 0, 65535, "port", &hi) != 0)
			return -1;
		if (hi < lo) {
			pdx_set_error("range %lld-%lld ends before it starts",
			    lo, hi);
			return -1;
		}
		t->brief = 1;
	} else {
		if (pdx_parse_number(buf, 0, 65535, "port", &lo) != 0)
			return -1;
		hi = lo;
		t->brief = 0;
	}
	t->lo = (unsigned)lo;
	t->hi = (unsigned)hi;
	return 1;
}

static json_t *
full_card(struct cmd_ctx *ctx, unsigned port, int protomask)
{
	json_t *c = pdx_card_full(ctx->db, ctx->state, port, protomask,
	    PDX_CARD_NOTES | PDX_CARD_LOCAL);

	if (c != NULL && ctx->state_error[0] != '\0')
		json_object_set_new(c, "notes_error",
		    json_string(ctx->state_error));
	return c;
}

/* Appends the cards of one operand (no commas); returns an exit status. */
static int
show_one(struct cmd_ctx *ctx, const char *arg, json_t *all, int *single)
{
	struct target t;
	json_t *ports;
	char name[128], *slash;
	int r, protomask = 0;
	size_t k;

	if ((r = parse_numeric(arg, &t)) < 0) {
		out_error("show", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (r == 1) {
		for (unsigned p = t.lo; p <= t.hi; p++) {
			json_t *c = t.brief
			    ? pdx_card_brief(ctx->db, p, t.protomask)
			    : full_card(ctx, p, t.protomask);

			if (c == NULL) {
				out_error("show", "%s", pdx_last_error());
				return EXIT_USAGE;
			}
			json_array_append_new(all, c);
		}
		if (t.brief)
			*single = 0;
		return EXIT_OK;
	}
	/* A service name (NAME or NAME/PROTO): every port that carries it. */
	if (strlen(arg) >= sizeof name) {
		out_error("show", "'%.20s...' is not a port or a service name",
		    arg);
		return EXIT_USAGE;
	}
	memcpy(name, arg, strlen(arg) + 1); /* fits: checked above */
	if ((slash = strchr(name, '/')) != NULL) {
		*slash++ = '\0';
		if ((protomask = pdx_proto_parse(slash)) == 0) {
			out_error("show",
			    "unknown transport '%s' (tcp, udp, "
			    "sctp or dccp)",
			    slash);
			return EXIT_USAGE;
		}
	}
	ports = pdx_ports_by_name(ctx->db, name);
	if (ports == NULL || json_array_size(ports) == 0) {
		out_error("show",
		    "unknown port or service name '%s' (try "
		    "'portdex find %s')",
		    arg, name);
		json_decref(ports);
		return EXIT_USAGE;
	}
	if (json_array_size(ports) > 1)
		*single = 0;
	for (k = 0; k < json_array_size(ports); k++) {
		json_t *pr = json_array_get(ports, k);
		unsigned lo = (unsigned)json_integer_value(
		    json_object_get(pr, "lo"));
		unsigned hi = (unsigned)json_integer_value(
		    json_object_get(pr, "hi"));

		if (hi > lo)
			*single = 0;
		for (unsigned p = lo; p <= hi; p++) {
			json_t *c = full_card(ctx, p, protomask);

			if (c != NULL)
				json_array_append_new(all, c);
		}
	}
	json_decref(ports);
	return EXIT_OK;
}

/*
 * Why the state database did not open, on stderr, unless a card shown
 * says it in its notes (once: the card's line is enough).
 */
static void
say_state_error(struct cmd_ctx *ctx, json_t *all)
{
	size_t k;

	if (ctx->state_error[0] == '\0' || ctx->quiet)
		return;
	for (k = 0; k < json_array_size(all); k++)
		if (json_object_get(json_array_get(all, k), "notes_error") !=
		    NULL)
			return;
	fprintf(stderr, "portdex: your notes could not be read: %s\n",
	    ctx->state_error);
}

static int
show_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	int argc = args->raw_argc;
	char **argv = args->raw_argv;
	json_t *all = json_array();
	int i, rc = EXIT_OK, single = argc == 2, brief_header = 0;

	/* the registry with its card file (no SQLite for a card), not main's */
	if (ctx->db == NULL &&
	    (ctx->db = pdx_db_open_card(ctx->db_path)) == NULL) {
		out_error("show", "%s", pdx_last_error());
		json_decref(all);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		json_decref(all);
		return cmd_usage(&cmd_show_entry);
	}
	for (i = 1; i < argc; i++) {
		const char *p = argv[i];

		if (strcmp(p, "--") == 0)
			continue;
		if (strchr(p, ',') != NULL)
			single = 0;
		/* 22,80,443 and ssh,http: each piece on its own */
		while (*p != '\0') {
			char piece[160];
			size_t n = strcspn(p, ",");

			if (n == 0 || n >= sizeof piece) {
				out_error("show",
				    "'%s': an empty or overlong "
				    "item in a list",
				    argv[i]);
				rc = EXIT_USAGE;
				break;
			}
			memcpy(piece, p, n);
			piece[n] = '\0';
			if (show_one(ctx, piece, all, &single) != EXIT_OK)
				rc = EXIT_USAGE;
			p += n;
			if (*p == ',')
				p++;
		}
	}
	if (ctx->json) {
		if (single && json_array_size(all) == 1)
			out_json(ctx, json_array_get(all, 0));
		else if (json_array_size(all) > 0 || rc == EXIT_OK)
			out_json(ctx, all);
	} else {
		size_t k;
		int prev_card = 0;

		for (k = 0; k < json_array_size(all); k++) {
			json_t *c = json_array_get(all, k);

			if (json_object_get(c, "range") == NULL) {
				if (!brief_header) {
					render_brief_header(ctx);
					brief_header = 1;
				}
				render_brief(ctx, c);
			} else {
				if (prev_card || brief_header)
					fputs("\n\n", ctx->out);
				render_card(ctx, c);
				prev_card = 1;
				brief_header = 0;
			}
		}
	}
	say_state_error(ctx, all);
	if (pdx_db_card_note(ctx->db) != NULL && !ctx->quiet)
		fprintf(stderr, "portdex: show: %s\n",
		    pdx_db_card_note(ctx->db));
	/*
	 * The process ends right after this: freeing the cards' JSON trees
	 * node by node was 2% of a card's instructions.  They stay reachable
	 * from here (not a leak to LeakSanitizer or valgrind); a second call
	 * frees the previous one.
	 */
	json_decref(kept_cards);
	kept_cards = all;
	return rc;
}

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.usage = "PORT[/PROTO] | NAME | LO-HI ...",
	.summary = "the card of a port: official assignment, range, use, risk, "
		   "listeners",
	.flags = CMD_OPT_STATE | CMD_SAYS_STATE, /* opens the registry */
	.exec = show_exec,
	.min_operands = 0,
	.max_operands = -1,
	.operands =
	    "  PORT, PORT/PROTO      the card of a port (e.g. 22, "
	    "53/udp)\n"
	    "  P1,P2,...             several cards (22,80,443)\n"
	    "  LO-HI                 one line per port of a range\n"
	    "  NAME, NAME/PROTO      every port that carries a service name "
	    "(ssh)\n",
};
