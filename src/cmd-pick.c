/*
 * cmd-pick.c - `portdex pick`: suggest ports a new service could use.  This
 * file parses the options and prints; the checks and their order are the
 * library's (lib/pick.c).  Exit 0 with suggestions, 1 when no port (or
 * block of ports) in the range passes every check, 2 on bad arguments.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "portdex/pick.h"

extern const struct cmd_entry cmd_pick_entry;

/* How the footer names the ports each check turned away. */
static const struct skip_text {
	const char *check;
	const char *text;
} skip_texts[] = {
	{ "bad_port", "refused by browsers" },
	{ "ephemeral", "inside the ephemeral range" },
	{ "reserved", "reserved by the kernel's ip_local_reserved_ports" },
	{ "portable", "inside other systems' ephemeral range" },
	{ "iana", "assigned or reserved by IANA" },
	{ "uses", "with a known use" },
	{ "nmap", "seen open by nmap too often" },
	{ "notes", "in your notes" },
	{ "bind", "in use on this machine" },
};

static void
print_text(struct cmd_ctx *ctx, json_t *res)
{
	json_t *sugg = json_object_get(res, "suggestions");
	json_t *range = json_object_get(res, "range");
	json_t *tr = json_object_get(res, "transports");
	json_t *skipped = json_object_get(res, "skipped");
	long long block = json_integer_value(
	    json_object_get(res, "consecutive"));
	char protos[32] = "", why[2048], line[512];
	size_t i, j;

	for (i = 0; i < json_array_size(tr); i++) {
		if (i > 0)
			strcat(protos, "+");
		strncat(protos, json_string_value(json_array_get(tr, i)), 8);
	}
	if (!ctx->quiet && block > 1)
		fprintf(ctx->out,
		    "Blocks of %lld adjacent ports for a new %s "
		    "service in %lld-%lld, nearest to %lld first:\n\n",
		    block, protos,
		    (long long)json_integer_value(json_object_get(range, "lo")),
		    (long long)json_integer_value(json_object_get(range, "hi")),
		    (long long)json_integer_value(
			json_object_get(res, "near")));
	else if (!ctx->quiet)
		fprintf(ctx->out,
		    "Ports for a new %s service in %lld-%lld, "
		    "nearest to %lld first:\n\n",
		    protos,
		    (long long)json_integer_value(json_object_get(range, "lo")),
		    (long long)json_integer_value(json_object_get(range, "hi")),
		    (long long)json_integer_value(
			json_object_get(res, "near")));
	for (i = 0; i < json_array_size(sugg); i++) {
		json_t *s = json_array_get(sugg, i);
		json_t *checks = json_object_get(s, "checks");
		json_t *warn = json_object_get(s, "warnings");
		long long p = json_integer_value(json_object_get(s, "port"));
		long long ph = json_integer_value(
		    json_object_get(s, "port_hi"));

		if (ph > p) {
			snprintf(line, sizeof line, "%lld-%lld", p, ph);
			fprintf(ctx->out,
			    "%s%-11s%s %s/%s, %lld adjacent "
			    "ports\n",
			    out_sgr(ctx, "bold"), line, out_reset(ctx), protos,
			    out_str(s, "range_class"), ph - p + 1);
		} else
			fprintf(ctx->out, "%s%-6lld%s %s/%s\n",
			    out_sgr(ctx, "bold"), p, out_reset(ctx), protos,
			    out_str(s, "range_class"));
		why[0] = '\0';
		for (j = 0; j < json_array_size(checks); j++) {
			snprintf(line, sizeof line, "%s%s", j > 0 ? "; " : "",
			    out_str(json_array_get(checks, j), "text"));
			strncat(why, line, sizeof why - strlen(why) - 1);
		}
		fprintf(ctx->out, "       ");
		out_wrap(ctx->out, why, 7, 7, 78);
		for (j = 0; j < json_array_size(warn); j++) {
			snprintf(why, sizeof why, "note: %s",
			    json_string_value(json_array_get(warn, j)));
			fprintf(ctx->out, "       ");
			out_wrap(ctx->out, why, 7, 7, 78);
		}
	}
	if (ctx->quiet)
		return;
	fprintf(ctx->out, "\n%s", out_sgr(ctx, "dim"));
	snprintf(why, sizeof why, "Examined %lld ports; passed over:",
	    (long long)json_integer_value(json_object_get(res, "examined")));
	for (i = 0; i < sizeof skip_texts / sizeof *skip_texts; i++) {
		if (strcmp(skip_texts[i].check, "portable") == 0 &&
		    !json_is_true(json_object_get(res, "portable")))
			continue;
		snprintf(line, sizeof line, "%s %lld %s", i > 0 ? "," : "",
		    (long long)json_integer_value(
			json_object_get(skipped, skip_texts[i].check)),
		    skip_texts[i].text);
		strncat(why, line, sizeof why - strlen(why) - 1);
	}
	snprintf(line, sizeof line, ". nmap limit: open-frequency %g.",
	    json_real_value(json_object_get(res, "max_frequency")));
	strncat(why, line, sizeof why - strlen(why) - 1);
	out_wrap(ctx->out, why, 0, 0, 78);
	fprintf(ctx->out, "%s", out_reset(ctx));
}

static int
pick_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct pdx_pick_opts o;
	struct pdx_portset range;
	long long v;
	json_t *res;
	const char *val;
	int i, rc;

	memset(&o, 0, sizeof o);
	o.count = 5;
	o.near = -1;
	o.max_freq = -1;
	for (i = 0; i < args->nopt; i++) {
		val = args->opt[i].val;
		switch (args->opt[i].id) {
		case 'n':
			if (pdx_parse_number(val, 1, PDX_PICK_MAX, "count",
				&v) != 0)
				goto bad;
			o.count = (unsigned)v;
			break;
		case 'p':
			o.protos = pdx_proto_parse(val);
			if (o.protos != PDX_TCP && o.protos != PDX_UDP) {
				out_error("pick",
				    "--proto takes tcp or udp, "
				    "not '%s'",
				    val);
				return EXIT_USAGE;
			}
			break;
		case 'N':
			if (pdx_parse_number(val, 0, 65535, "port", &v) != 0)
				goto bad;
			o.near = (int)v;
			break;
		case 'r':
			if (pdx_portset_parse(&range, val) != 0)
				goto bad;
			o.range = &range;
			break;
		case 'c':
			if (pdx_parse_number(val, 1, PDX_PICK_MAX_BLOCK,
				"block size", &v) != 0)
				goto bad;
			o.consecutive = (unsigned)v;
			break;
		case 'P':
			o.portable = 1;
			break;
		}
	}
	if (args_done(&cmd_pick_entry, args) != 0)
		return cmd_usage(&cmd_pick_entry);
	o.state = ctx->state;
	if ((res = pdx_pick(ctx->db, &o)) == NULL) {
		out_error("pick", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (ctx->json)
		out_json(ctx, res);
	else
		print_text(ctx, res);
	rc = json_array_size(json_object_get(res, "suggestions")) > 0
	    ? EXIT_OK
	    : EXIT_FINDINGS;
	if (rc != EXIT_OK && !ctx->quiet)
		out_error("pick", "no port in the range passes every check");
	json_decref(res);
	return rc;
bad:
	out_error("pick", "%s", pdx_last_error());
	return EXIT_USAGE;
}

static const struct cmd_opt pick_opts[] = {
	{ "count", 'n', OPT_INT, 'n', "N",
	    "  -n, --count N         how many ports to suggest (default 5)\n",
	    0 },
	{ "proto", 0, OPT_ENUM, 'p', "tcp|udp",
	    "  --proto tcp|udp       the transport(s) the service needs (default "
	    "both)\n",
	    0 },
	{ "near", 0, OPT_INT, 'N', "PORT",
	    "  --near PORT           prefer ports close to this one\n", 0 },
	{ "range", 0, OPT_PORTS, 'r', "LO-HI",
	    "  --range LO-HI         search only this range (default "
	    "1024-49151)\n",
	    0 },
	{ "consecutive", 0, OPT_INT, 'c', "N",
	    "  --consecutive N       suggest blocks of N adjacent free ports\n",
	    0 },
	{ "portable", 0, OPT_FLAG, 'P', NULL,
	    "  --portable            also avoid 49152-65535 (Windows', macOS's "
	    "ephemeral range)\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup pick_group = { "pick", 0, pick_opts };
static const struct cmd_optgroup *const pick_groups[] = { &pick_group, NULL };

const struct cmd_entry cmd_pick_entry = {
	.name = "pick",
	.usage = "[-n N] [--proto tcp|udp] [--near PORT] [--range LO-HI] "
		 "[--consecutive N] [--portable]",
	.summary = "suggest ports a new service could use: unassigned, rarely "
		   "seen, free here",
	.flags = CMD_NEEDS_DB | CMD_OPT_STATE | CMD_INORDER,
	.exec = pick_exec,
	.groups = pick_groups,
	.min_operands = 0,
	.max_operands = 0,
	.too_many = "unexpected argument '%s'",
};
