/*
 * cmd-rpc.c - `portdex rpc [HOST]`: the portmapper's registrations laid
 * out like `rpcinfo -p`, each line annotated with the program's name, the
 * IANA assignment of its port, the risk level and (for this host) the
 * process behind the port; or the same as JSON.  Asking the portmapper
 * and annotating are lib/rpc.c; this file parses options and prints.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int rpc_exec(struct cmd_ctx *, const struct cmd_args *);

enum {
	OPT_TIMEOUT = 256,
	OPT_PORT,
	OPT_TCP,
	OPT_UDP,
};

static const struct cmd_opt rpc_opts[] = {
	{ "timeout", 0, OPT_INT, OPT_TIMEOUT, "MS",
	    "  --timeout MS          give up after MS milliseconds\n", 0 },
	{ "port", 0, OPT_INT, OPT_PORT, "N",
	    "  --port N              the portmapper's port (default 111)\n",
	    0 },
	{ "tcp", 0, OPT_FLAG, OPT_TCP, NULL,
	    "  --tcp / --udp         ask over this transport only\n", 0 },
	{ "udp", 0, OPT_FLAG, OPT_UDP, NULL, NULL, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup rpc_group = { "rpc", 0, rpc_opts };
static const struct cmd_optgroup *const rpc_groups[] = { &rpc_group, NULL };

const struct cmd_entry cmd_rpc_entry = {
	.name = "rpc",
	.usage = "[HOST] [--timeout MS] [--port N] [--tcp | --udp]",
	.summary = "ONC RPC portmapper registrations, annotated (like rpcinfo "
		   "-p)",
	.flags = CMD_OPT_DB,
	.exec = rpc_exec,
	.groups = rpc_groups,
	.min_operands = 0,
	.max_operands = 1,
	.too_many = "",
	.operands = "  HOST                  the portmapper to ask (default "
		    "localhost)\n",
};

/* "name[pid]" of each process behind the port, comma separated. */
static void
format_procs(json_t *listeners, char *buf, size_t sz)
{
	json_t *l;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(listeners, i, l)
	{
		const char *p = json_string_value(
		    json_object_get(l, "process"));
		json_int_t pid = json_integer_value(json_object_get(l, "pid"));
		char one[64];
		int n;

		if (p == NULL)
			snprintf(one, sizeof one, "uid %d",
			    (int)json_integer_value(json_object_get(l, "uid")));
		else
			snprintf(one, sizeof one, "%s[%lld]", p,
			    (long long)pid);
		if (strstr(buf, one) != NULL)
			continue; /* the same process on v4 and v6 */
		n = snprintf(buf + used, sz - used, "%s%s", used > 0 ? "," : "",
		    one);
		if (n < 0 || (size_t)n >= sz - used)
			break;
		used += (size_t)n;
	}
}

static void
print_registration(struct cmd_ctx *ctx, json_t *r)
{
	json_t *iana = json_object_get(r, "iana");
	const char *name = json_string_value(json_object_get(r, "name"));
	const char *risk = json_string_value(json_object_get(r, "risk"));
	const char *in = json_string_value(json_object_get(iana, "name"));
	char ianabuf[64], procs[256];

	if (iana == NULL)
		snprintf(ianabuf, sizeof ianabuf, "-");
	else if (in == NULL || *in == '\0')
		snprintf(ianabuf, sizeof ianabuf, "(%s)",
		    json_string_value(json_object_get(iana, "status")));
	else
		snprintf(ianabuf, sizeof ianabuf, "%s%s", in,
		    json_is_true(json_object_get(r, "iana_differs"))
			? " (differs)"
			: "");
	format_procs(json_object_get(r, "listeners"), procs, sizeof procs);
	fprintf(ctx->out, "%10lld%5lld%6s%7lld  %-14s %-20s %s%-7s%s %s\n",
	    (long long)json_integer_value(json_object_get(r, "program")),
	    (long long)json_integer_value(json_object_get(r, "version")),
	    json_string_value(json_object_get(r, "proto")),
	    (long long)json_integer_value(json_object_get(r, "port")),
	    name != NULL ? name : "-", ianabuf,
	    risk != NULL ? out_sgr(ctx, risk) : "", risk != NULL ? risk : "-",
	    risk != NULL ? out_reset(ctx) : "", procs);
}

/* rpcbind rows the v2 table does not show (unix sockets, other ports). */
static int
shown_in_v2(json_t *regs, json_t *b)
{
	json_t *r;
	size_t i;

	json_array_foreach(regs, i, r)
	{
		if (json_equal(json_object_get(r, "program"),
			json_object_get(b, "program")) &&
		    json_equal(json_object_get(r, "version"),
			json_object_get(b, "version")) &&
		    json_equal(json_object_get(r, "proto"),
			json_object_get(b, "proto")) &&
		    json_equal(json_object_get(r, "port"),
			json_object_get(b, "port")))
			return 1;
	}
	return 0;
}

static void
print_text(struct cmd_ctx *ctx, json_t *root)
{
	json_t *regs = json_object_get(root, "registrations");
	json_t *rb = json_object_get(root, "rpcbind"), *r;
	size_t i, extra = 0;
	int v = (int)json_integer_value(
	    json_object_get(root, "rpcbind_version"));

	fprintf(ctx->out, "%s%10s%5s%6s%7s  %-14s %-20s %-7s %s%s\n",
	    out_sgr(ctx, "bold"), "program", "vers", "proto", "port", "service",
	    "IANA on port", "risk",
	    json_is_true(json_object_get(root, "local")) ? "process" : "",
	    out_reset(ctx));
	json_array_foreach(regs, i, r) print_registration(ctx, r);
	json_array_foreach(rb, i, r)
	{
		const char *name = json_string_value(
		    json_object_get(r, "name"));

		if (shown_in_v2(regs, r))
			continue;
		if (extra++ == 0)
			fprintf(ctx->out,
			    "%salso registered with rpcbind "
			    "(version %d):%s\n",
			    out_sgr(ctx, "bold"), v, out_reset(ctx));
		fprintf(ctx->out, "%10lld%5lld  %-6s %-28s %-10s %s\n",
		    (long long)json_integer_value(
			json_object_get(r, "program")),
		    (long long)json_integer_value(
			json_object_get(r, "version")),
		    json_string_value(json_object_get(r, "netid")),
		    json_string_value(json_object_get(r, "address")),
		    json_string_value(json_object_get(r, "owner")),
		    name != NULL ? name : "-");
	}
	fprintf(ctx->out, "%s (%s) over %s: %zu registrations%s%s\n",
	    json_string_value(json_object_get(root, "host")),
	    json_string_value(json_object_get(root, "address")),
	    json_string_value(json_object_get(root, "transport")),
	    json_array_size(regs), v > 0 ? ", rpcbind version " : "",
	    v == 4	 ? "4"
		: v == 3 ? "3"
			 : "");
}

static int
rpc_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct pdx_rpc_opts opts;
	struct pdx_rpc_dump dump;
	const char *host = "localhost";
	json_t *root;
	long long v;
	const char *val;
	int i;

	memset(&opts, 0, sizeof opts);
	for (i = 0; i < args->nopt; i++) {
		val = args->opt[i].val;
		switch (args->opt[i].id) {
		case OPT_TIMEOUT:
			if (pdx_parse_number(val, 1, 600000, "timeout (ms)",
				&v) != 0) {
				out_error("rpc", "%s", pdx_last_error());
				return EXIT_USAGE;
			}
			opts.timeout_ms = (unsigned)v;
			break;
		case OPT_PORT:
			if (pdx_parse_number(val, 1, 65535, "port", &v) != 0) {
				out_error("rpc", "%s", pdx_last_error());
				return EXIT_USAGE;
			}
			opts.port = (unsigned)v;
			break;
		case OPT_TCP:
			opts.no_udp = 1;
			break;
		case OPT_UDP:
			opts.no_tcp = 1;
			break;
		}
	}
	/* a bad word first, the operands after, as getopt had it */
	if (args->err != 0 && args_done(&cmd_rpc_entry, args) != 0)
		return cmd_usage(&cmd_rpc_entry);
	if (opts.no_tcp && opts.no_udp) {
		out_error("rpc", "--tcp and --udp exclude each other");
		return EXIT_USAGE;
	}
	if (args_done(&cmd_rpc_entry, args) != 0)
		return cmd_usage(&cmd_rpc_entry);
	if (args->argc == 1)
		host = args->argv[0];

	if (pdx_rpc_query(host, &opts, &dump) != PDX_RPC_OK) {
		out_error("rpc", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	root = pdx_rpc_json(ctx->db, host, &dump);
	pdx_rpc_dump_free(&dump);
	if (root == NULL) {
		out_error("rpc", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (ctx->json)
		out_json(ctx, root);
	else
		print_text(ctx, root);
	json_decref(root);
	return EXIT_OK;
}
