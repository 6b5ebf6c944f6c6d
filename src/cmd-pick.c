/*
 * cmd-pick.c - `portdex pick`: suggest ports a new service could use.  This
 * file parses the options and prints; the checks and their order are the
 * library's (lib/pick.c).  Exit 0 with suggestions, 1 when no port (or
 * block of ports) in the range passes every check, 2 on bad arguments.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "portdex/pick.h"

extern const struct cmd_entry cmd_pick_entry;

/* How the footer names the ports each check turned away. */
static const struct skip_text {
	const char	*check;
	const char	*text;
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
	long long block = json_integer_value(json_object_get(res,
	    "consecutive"));
	char protos[32] = "", why[2048], line[512];
	size_t i, j;

	for (i = 0; i < json_array_size(tr); i++) {
		if (i > 0)
			strcat(protos, "+");
		strncat(protos, json_string_value(json_array_get(tr, i)), 8);
	}
	if (!ctx->quiet && block > 1)
		fprintf(ctx->out, "Blocks of %lld adjacent ports for a new %s "
		    "service in %lld-%lld, nearest to %lld first:\n\n", block,
		    protos,
		    (long long)json_integer_value(json_object_get(range,
		    "lo")),
		    (long long)json_integer_value(json_object_get(range,
		    "hi")),
		    (long long)json_integer_value(json_object_get(res,
		    "near")));
	else if (!ctx->quiet)
		fprintf(ctx->out, "Ports for a new %s service in %lld-%lld, "
		    "nearest to %lld first:\n\n", protos,
		    (long long)json_integer_value(json_object_get(range,
		    "lo")),
		    (long long)json_integer_value(json_object_get(range,
		    "hi")),
		    (long long)json_integer_value(json_object_get(res,
		    "near")));
	for (i = 0; i < json_array_size(sugg); i++) {
		json_t *s = json_array_get(sugg, i);
		json_t *checks = json_object_get(s, "checks");
		json_t *warn = json_object_get(s, "warnings");
		long long p = json_integer_value(json_object_get(s, "port"));
		long long ph = json_integer_value(json_object_get(s,
		    "port_hi"));

		if (ph > p) {
			snprintf(line, sizeof line, "%lld-%lld", p, ph);
			fprintf(ctx->out, "%s%-11s%s %s/%s, %lld adjacent "
			    "ports\n", out_sgr(ctx, "bold"), line,
			    out_reset(ctx), protos, out_str(s, "range_class"),
			    ph - p + 1);
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
		    (long long)json_integer_value(json_object_get(skipped,
		    skip_texts[i].check)), skip_texts[i].text);
		strncat(why, line, sizeof why - strlen(why) - 1);
	}
	snprintf(line, sizeof line, ". nmap limit: open-frequency %g.",
	    json_real_value(json_object_get(res, "max_frequency")));
	strncat(why, line, sizeof why - strlen(why) - 1);
	out_wrap(ctx->out, why, 0, 0, 78);
	fprintf(ctx->out, "%s", out_reset(ctx));
}

static int
pick_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "proto", required_argument, NULL, 'p' },
		{ "near", required_argument, NULL, 'N' },
		{ "range", required_argument, NULL, 'r' },
		{ "consecutive", required_argument, NULL, 'c' },
		{ "portable", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct pdx_pick_opts o;
	struct pdx_portset range;
	long long v;
	json_t *res;
	int ch, rc;

	memset(&o, 0, sizeof o);
	o.count = 5;
	o.near = -1;
	o.max_freq = -1;
	while ((ch = getopt_long(argc, argv, "+n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (pdx_parse_number(optarg, 1, PDX_PICK_MAX, "count",
			    &v) != 0)
				goto bad;
			o.count = (unsigned)v;
			break;
		case 'p':
			o.protos = pdx_proto_parse(optarg);
			if (o.protos != PDX_TCP && o.protos != PDX_UDP) {
				out_error("pick", "--proto takes tcp or udp, "
				    "not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'N':
			if (pdx_parse_number(optarg, 0, 65535, "port", &v)
			    != 0)
				goto bad;
			o.near = (int)v;
			break;
		case 'r':
			if (pdx_portset_parse(&range, optarg) != 0)
				goto bad;
			o.range = &range;
			break;
		case 'c':
			if (pdx_parse_number(optarg, 1, PDX_PICK_MAX_BLOCK,
			    "block size", &v) != 0)
				goto bad;
			o.consecutive = (unsigned)v;
			break;
		case 'P':
			o.portable = 1;
			break;
		default:
			return cmd_usage(&cmd_pick_entry);
		}
	}
	if (optind != argc) {
		out_error("pick", "unexpected argument '%s'", argv[optind]);
		return cmd_usage(&cmd_pick_entry);
	}
	o.state = ctx->state;
	if ((res = pdx_pick(ctx->db, &o)) == NULL) {
		out_error("pick", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (ctx->json)
		out_json(ctx, res);
	else
		print_text(ctx, res);
	rc = json_array_size(json_object_get(res, "suggestions")) > 0 ?
	    EXIT_OK : EXIT_FINDINGS;
	if (rc != EXIT_OK && !ctx->quiet)
		out_error("pick", "no port in the range passes every check");
	json_decref(res);
	return rc;
bad:
	out_error("pick", "%s", pdx_last_error());
	return EXIT_USAGE;
}

const struct cmd_entry cmd_pick_entry = {
	"pick", NULL,
	"[-n N] [--proto tcp|udp] [--near PORT] [--range LO-HI] "
	"[--consecutive N] [--portable]",
	"suggest ports a new service could use: unassigned, rarely seen, "
	"free here",
	CMD_NEEDS_DB | CMD_OPT_STATE, pick_exec,
	"  -n, --count N         how many ports to suggest (default 5)\n"
	"  --proto tcp|udp       the transport(s) the service needs (default both)\n"
	"  --near PORT           prefer ports close to this one\n"
	"  --range LO-HI         search only this range (default 1024-49151)\n"
	"  --consecutive N       suggest blocks of N adjacent free ports\n"
	"  --portable            also avoid 49152-65535 (Windows', macOS's "
	"ephemeral range)\n",
};
