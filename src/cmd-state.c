/*
 * cmd-state.c - `portdex state check` and `portdex state recover`: the
 * user's way back when the state database (notes, baseline, votes, audit
 * history) is damaged.  Checking and salvaging are lib/state-recover.c;
 * this file parses the operands and prints.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int state_exec(struct cmd_ctx *, const struct cmd_args *);

const struct cmd_entry cmd_state_entry = {
	.name = "state",
	.usage = "check | recover",
	.summary = "check the state database (notes, baseline, votes) or "
		   "recover a damaged one",
	.flags = CMD_WRITES,
	.exec = state_exec,
	.min_operands = 0,
	.max_operands = -1,
	.operands =
	    "  check                 integrity and schema of the state "
	    "database\n"
	    "                        (exit 1 if it is damaged)\n"
	    "  recover               build a new one from every row that can "
	    "be\n"
	    "                        read; the damaged file is kept beside it\n",
};

static long long
jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static int
check(struct cmd_ctx *ctx)
{
	json_t *r, *msgs;
	size_t i;
	int ok;

	if ((r = pdx_state_check(ctx->state_path)) == NULL) {
		out_error("state", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	ok = json_is_true(json_object_get(r, "ok"));
	if (ctx->json) {
		out_json(ctx, r);
		json_decref(r);
		return ok ? EXIT_OK : EXIT_FINDINGS;
	}
	msgs = json_object_get(r, "integrity");
	fprintf(ctx->out, "%s: %s\n", ctx->state_path, ok ? "ok" : "damaged");
	for (i = 0; i < json_array_size(msgs) && i < 10; i++)
		fprintf(ctx->out, "  %s\n",
		    json_string_value(json_array_get(msgs, i)));
	if (json_array_size(msgs) > 10)
		fprintf(ctx->out, "  ... %zu problems in all\n",
		    json_array_size(msgs));
	if (json_is_false(json_object_get(r, "portdex")))
		fprintf(ctx->out,
		    "  not a portdex state database (no notes "
		    "table)\n");
	fprintf(ctx->out, "  schema %lld (this portdex writes %lld)%s\n",
	    jint(r, "schema"), jint(r, "schema_known"),
	    jint(r, "schema") > jint(r, "schema_known")
		? ": newer, use a newer portdex"
		: "");
	if (json_object_get(r, "notes") != NULL)
		fprintf(ctx->out,
		    "  %lld notes, %lld baseline listeners, %lld "
		    "votes (as far as they can be counted)\n",
		    jint(r, "notes"), jint(r, "baseline"), jint(r, "votes"));
	if (!ok && !json_is_false(json_object_get(r, "portdex")) &&
	    jint(r, "schema") <= jint(r, "schema_known"))
		fprintf(ctx->out,
		    "run 'portdex state recover' to build a new "
		    "one from what can be read (the damaged file is kept)\n");
	json_decref(r);
	return ok ? EXIT_OK : EXIT_FINDINGS;
}

static int
recover(struct cmd_ctx *ctx)
{
	json_t *r, *saved;

	if ((r = pdx_state_recover(ctx->state_path)) == NULL) {
		out_error("state", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (ctx->json) {
		out_json(ctx, r);
		json_decref(r);
		return EXIT_OK;
	}
	saved = json_object_get(r, "saved");
	fprintf(ctx->out,
	    "recovered %s: %lld notes, %lld baseline "
	    "listeners, %lld votes (%lld counts), %lld audit runs saved%s\n",
	    ctx->state_path, jint(saved, "notes"),
	    jint(saved, "audit_baseline"), jint(saved, "votes_cast"),
	    jint(saved, "votes"), jint(saved, "audit_runs"),
	    json_is_true(json_object_get(r, "lost_rows"))
		? "; a table could not be read to its end: rows on damaged pages may be lost"
		: "");
	fprintf(ctx->out, "the damaged file is kept as %s\n",
	    json_string_value(json_object_get(r, "damaged_copy")));
	json_decref(r);
	return EXIT_OK;
}

static int
state_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	int argc = args->raw_argc;
	char **argv = args->raw_argv;
	if (argc != 2)
		return cmd_usage(&cmd_state_entry);
	if (access(ctx->state_path, F_OK) != 0) {
		out_error("state",
		    "%s: %s (no notes have been recorded "
		    "there)",
		    ctx->state_path, strerror(errno));
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "check") == 0)
		return check(ctx);
	if (strcmp(argv[1], "recover") == 0)
		return recover(ctx);
	out_error("state", "unknown action '%s' (check or recover)", argv[1]);
	return EXIT_USAGE;
}
