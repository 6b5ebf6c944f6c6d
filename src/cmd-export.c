/*
 * cmd-export.c - `portdex export [--format services|csv|json]`: the whole
 * registry in one of the formats of the table below.  CSV reproduces the
 * IANA columns exactly, so `update --from` of an export gives the same
 * database.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

extern const struct cmd_entry cmd_export_entry;

static const struct {
	const char	*name;
	int		 format;
} formats[] = {
	{ "csv", PDX_EXPORT_CSV },
	{ "services", PDX_EXPORT_SERVICES },
	{ "json", PDX_EXPORT_JSON },
};

static int
export_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fmt = ctx->json ? "json" : "csv";
	size_t i;
	int ch;

	while ((ch = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			fmt = optarg;
			break;
		default:
			return cmd_usage(&cmd_export_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_export_entry);
	for (i = 0; i < sizeof formats / sizeof *formats; i++) {
		if (strcmp(formats[i].name, fmt) != 0)
			continue;
		if (pdx_export(ctx->db, formats[i].format, ctx->out) != 0) {
			out_error("export", "%s", pdx_last_error());
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	out_error("export", "unknown format '%s' (csv, services or json)",
	    fmt);
	return EXIT_USAGE;
}

const struct cmd_entry cmd_export_entry = {
	"export", NULL,
	"[--format csv|services|json]",
	"the whole registry as IANA CSV, a services(5) file or JSON",
	CMD_NEEDS_DB,
	export_exec,
	"  -f, --format F        csv (IANA's columns), services (services(5)) or json\n",
};
