/*
 * cmd-export.c - `portdex export [--format services|csv|json]`: the whole
 * registry in one of the formats of the table below.  CSV reproduces the
 * IANA columns exactly, so `update --from` of an export gives the same
 * database.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

extern const struct cmd_entry cmd_export_entry;

static const struct {
	const char *name;
	int format;
} formats[] = {
	{ "csv", PDX_EXPORT_CSV },
	{ "services", PDX_EXPORT_SERVICES },
	{ "json", PDX_EXPORT_JSON },
};

static int
export_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	const char *fmt = ctx->json ? "json" : "csv";
	size_t i;
	const char *val;
	int k;

	for (k = 0; k < args->nopt; k++) {
		val = args->opt[k].val;
		switch (args->opt[k].id) {
		case 'f':
			fmt = val;
			break;
		}
	}
	if (args_done(&cmd_export_entry, args) != 0)
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
	out_error("export", "unknown format '%s' (csv, services or json)", fmt);
	return EXIT_USAGE;
}

static const struct cmd_opt export_opts[] = {
	{ "format", 'f', OPT_ENUM, 'f', "csv|services|json",
	    "  -f, --format F        csv (IANA's columns), services "
	    "(services(5)) or json\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup export_group = { "export", 0, export_opts };
static const struct cmd_optgroup *const export_groups[] = { &export_group,
	NULL };

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.usage = "[--format csv|services|json]",
	.summary = "the whole registry as IANA CSV, a services(5) file or JSON",
	.flags = CMD_NEEDS_DB,
	.exec = export_exec,
	.groups = export_groups,
	.min_operands = 0,
	.max_operands = 0,
	.too_many = "",
};
