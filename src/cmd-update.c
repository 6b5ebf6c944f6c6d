/*
 * cmd-update.c - `portdex update`: rebuilds the registry database from the
 * sources named or found (the library does the work atomically) and says
 * what went in and what changed against the previous database.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

extern const struct cmd_entry cmd_update_entry;

#define SHOW_ROWS 40

static void
print_key(struct cmd_ctx *ctx, const char *mark, json_t *k)
{
	const char *name = json_string_value(
	    json_object_get(k, "service_name"));
	const char *port = json_string_value(json_object_get(k, "port"));
	const char *proto = json_string_value(json_object_get(k, "transport"));

	fprintf(ctx->out, "  %s %-10s %-5s %s", mark, *port ? port : "-",
	    *proto ? proto : "-", *name ? name : "(no name)");
}

static void
print_report(struct cmd_ctx *ctx, json_t *r)
{
	json_t *src = json_object_get(r, "sources"), *diff;
	size_t i;

	fprintf(ctx->out, "registry %s: %lld IANA rows\n",
	    json_string_value(json_object_get(r, "database")),
	    (long long)json_integer_value(json_object_get(r, "rows")));
	for (i = 0; i < json_array_size(src); i++) {
		json_t *s = json_array_get(src, i);

		fprintf(ctx->out, "  %-16s %s (%s, %lld records)\n",
		    json_string_value(json_object_get(s, "kind")),
		    json_string_value(json_object_get(s, "path")),
		    json_string_value(json_object_get(s, "date")),
		    (long long)json_integer_value(
			json_object_get(s, "records")));
	}
	if ((diff = json_object_get(r, "diff")) == NULL) {
		if (!json_is_true(json_object_get(r, "previous")))
			fprintf(ctx->out,
			    "no previous registry: nothing to "
			    "compare\n");
		return;
	}
	fprintf(ctx->out, "changes: %lld added, %lld removed, %lld changed\n",
	    (long long)json_integer_value(json_object_get(diff, "added_count")),
	    (long long)json_integer_value(
		json_object_get(diff, "removed_count")),
	    (long long)json_integer_value(
		json_object_get(diff, "changed_count")));
	if (ctx->quiet)
		return;
	static const char *const parts[] = { "added", "removed", "changed" };
	static const char *const marks[] = { "+", "-", "~" };
	size_t shown = 0, total = 0;

	for (int p = 0; p < 3; p++) {
		json_t *a = json_object_get(diff, parts[p]);

		total += json_array_size(a);
		for (i = 0; i < json_array_size(a); i++) {
			json_t *k = json_array_get(a, i);

			if (shown++ >= SHOW_ROWS)
				continue;
			print_key(ctx, marks[p], k);
			if (p == 2) {
				const char *f;
				json_t *v;
				int first = 1;

				fputs(": ", ctx->out);
				json_object_foreach(json_object_get(k,
							"fields"),
				    f, v)
				{
					fprintf(ctx->out, "%s%s",
					    first ? "" : ", ", f);
					first = 0;
				}
			}
			fputc('\n', ctx->out);
		}
	}
	if (total > SHOW_ROWS)
		fprintf(ctx->out, "  ... and %zu more (see --json)\n",
		    total - SHOW_ROWS);
}

static void
tell_waiting(const char *msg, void *arg)
{
	(void)arg;
	out_error("update", "%s", msg);
}

static int
update_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct pdx_update_opts o;
	json_t *report;
	const char *val;
	int i;

	memset(&o, 0, sizeof o);
	o.db_path = ctx->db_path;
	o.notify = tell_waiting;
	for (i = 0; i < args->nopt; i++) {
		val = args->opt[i].val;
		switch (args->opt[i].id) {
		case 'f':
			o.iana = val;
			break;
		case 'D':
			o.iana = PDX_IANA_URL;
			break;
		case 's':
			o.services = val;
			break;
		case 'n':
			o.nmap_services = val;
			break;
		case 'r':
			o.nmap_rpc = val;
			break;
		case 'R':
			o.etc_rpc = val;
			break;
		case 'k':
			o.knowledge_dir = val;
			break;
		case 'o':
			o.no_search = 1;
			break;
		}
	}
	if (args_done(&cmd_update_entry, args) != 0)
		return cmd_usage(&cmd_update_entry);
	if ((report = pdx_update(&o)) == NULL) {
		out_error("update", "%s; the registry %s was left as it was",
		    pdx_last_error(), o.db_path);
		return EXIT_USAGE;
	}
	if (ctx->json)
		out_json(ctx, report);
	else
		print_report(ctx, report);
	json_decref(report);
	return EXIT_OK;
}

static const struct cmd_opt update_opts[] = {
	{ "from", 'f', OPT_FILE, 'f', "FILE|URL",
	    "  -f, --from FILE|URL   build from this IANA CSV\n", 0 },
	{ "download", 0, OPT_FLAG, 'D', NULL,
	    "  --download            fetch IANA's current CSV and keep it for "
	    "later\n",
	    0 },
	{ "services", 0, OPT_FILE, 's', "FILE",
	    "  --services FILE       a services(5) file for extra names\n", 0 },
	{ "nmap", 0, OPT_FILE, 'n', "FILE",
	    "  --nmap FILE           nmap-services for open-frequencies\n", 0 },
	{ "nmap-rpc", 0, OPT_FILE, 'r', "FILE",
	    "  --nmap-rpc FILE       nmap's RPC program names\n", 0 },
	{ "etc-rpc", 0, OPT_FILE, 'R', "FILE",
	    "  --etc-rpc FILE        an rpc(5) file\n", 0 },
	{ "knowledge", 0, OPT_DIR, 'k', "DIR",
	    "  --knowledge DIR       the curated data directory (uses/, "
	    "related.tsv)\n",
	    0 },
	{ "only", 0, OPT_FLAG, 'o', NULL,
	    "  --only                use only the sources named here\n", 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup update_group = { "update", 0, update_opts };
static const struct cmd_optgroup *const update_groups[] = { &update_group,
	NULL };

const struct cmd_entry cmd_update_entry = {
	.name = "update",
	.usage = "[--from FILE|URL | --download] [--services FILE] "
		 "[--nmap FILE] [--nmap-rpc FILE] [--etc-rpc FILE] "
		 "[--knowledge DIR] [--only]",
	.summary = "rebuild the registry database atomically and report what "
		   "changed",
	.flags = CMD_WRITES,
	.exec = update_exec,
	.groups = update_groups,
	.min_operands = 0,
	.max_operands = 0,
	.too_many = "",
};
