/*
 * cmd-why.c - `portdex why PORT[/PROTO]`: why a bind() of the port would
 * fail or succeed here.  This file parses the operand and options and
 * prints the library's answer (lib/why*.c gather the facts, run the
 * checks and the real binds).  Exit 0 when a plain bind on the wildcard
 * address would succeed now for every transport and family asked, 1 when
 * it would not, 2 on bad arguments or when the sockets cannot be listed.
 * A DNAT/redirect rule that captures the port does not stop a bind, so it
 * leaves the exit status at 0; it is said under the verdict and as a
 * warning finding.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "portdex/why.h"

extern const struct cmd_entry cmd_why_entry;

enum { OPT_NETNS = 256, OPT_ALL_NETNS, OPT_NO_BIND };

/* How each effect is labelled in the text. */
static const struct effect_label {
	const char *effect;
	const char *label;
	const char *sgr;
} effect_labels[] = {
	{ "blocks", "BLOCKS", "high" },
	{ "warning", "WARNING", "medium" },
	{ "info", "info", "" },
	{ "ok", "ok", "dim" },
	{ "not_checked", "UNCHECKED", "medium" },
};

static const struct effect_label *
label_of(const char *effect)
{
	size_t i;

	for (i = 0; i < sizeof effect_labels / sizeof *effect_labels; i++)
		if (strcmp(effect_labels[i].effect, effect) == 0)
			return &effect_labels[i];
	return &effect_labels[2];
}

/* "tcp  LISTEN  0.0.0.0:8080  pid 12 nginx, user root, nginx.service" */
static void
print_socket(struct cmd_ctx *ctx, json_t *s)
{
	json_t *l = json_object_get(s, "local"),
	       *r = json_object_get(s, "remote");
	int v6 = strcmp(out_str(s, "family"), "ipv6") == 0;
	char local[96], line[512];
	json_int_t pid = json_integer_value(json_object_get(s, "pid"));

	snprintf(local, sizeof local, "%s%s%s:%lld", v6 ? "[" : "",
	    out_str(l, "address"), v6 ? "]" : "",
	    (long long)json_integer_value(json_object_get(l, "port")));
	snprintf(line, sizeof line, "  %s%s%s%-4s %-10s %s",
	    json_is_string(json_object_get(s, "netns")) ? "netns " : "",
	    out_str(s, "netns"),
	    json_is_string(json_object_get(s, "netns")) ? "  " : "",
	    out_str(s, "proto"), out_str(s, "state"), local);
	if (json_is_object(r)) {
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    " <-> %s%s%s:%lld", v6 ? "[" : "", out_str(r, "address"),
		    v6 ? "]" : "",
		    (long long)json_integer_value(json_object_get(r, "port")));
	}
	if (pid > 0)
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    "  pid %lld %s", (long long)pid, out_str(s, "process"));
	if (json_is_string(json_object_get(s, "user")))
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    ", user %s", out_str(s, "user"));
	if (json_is_string(json_object_get(s, "container")))
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    ", %s", out_str(s, "container"));
	else if (json_is_string(json_object_get(s, "unit")))
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    ", %s", out_str(s, "unit"));
	if (json_is_string(json_object_get(s, "other_holders")))
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    " (also %s)", out_str(s, "other_holders"));
	if (json_is_integer(json_object_get(s, "reuseport_group")))
		snprintf(line + strlen(line), sizeof line - strlen(line),
		    " [SO_REUSEPORT group of %lld]",
		    (long long)json_integer_value(
			json_object_get(s, "reuseport_group")));
	fprintf(ctx->out, "%s\n", line);
}

static void
print_sockets(struct cmd_ctx *ctx, json_t *res, const char *key,
    const char *title)
{
	json_t *a = json_object_get(res, key);
	size_t i;

	if (json_array_size(a) == 0)
		return;
	fprintf(ctx->out, "\n%s%s%s\n", out_sgr(ctx, "head"), title,
	    out_reset(ctx));
	for (i = 0; i < json_array_size(a); i++)
		print_socket(ctx, json_array_get(a, i));
}

static void
print_text(struct cmd_ctx *ctx, json_t *res, const char *what)
{
	json_t *fnd = json_object_get(res, "findings");
	json_t *binds = json_object_get(res, "binds");
	json_t *way = json_object_get(res, "way_out");
	json_t *sugg = json_object_get(way, "suggestions");
	json_t *caps = json_object_get(json_object_get(res, "dnat"),
	    "captures");
	int ok = json_is_true(json_object_get(res, "would_bind"));
	char line[2048];
	size_t i;

	snprintf(line, sizeof line,
	    "%s: a bind on the wildcard address "
	    "would %s now%s%s%s",
	    what, ok ? "succeed" : "fail", ok ? "" : " with ",
	    ok ? "" : out_str(res, "errno"),
	    strcmp(out_str(res, "verdict_from"), "bind") == 0
		? " (real bind() calls, each socket closed at once)"
		: " (from the explanation below; no bind() was tried)");
	fprintf(ctx->out, "%s", out_sgr(ctx, ok ? "bold" : "high"));
	out_wrap(ctx->out, line, 2, 0, 78);
	fprintf(ctx->out, "%s", out_reset(ctx));
	if (json_is_string(json_object_get(res, "netns")))
		fprintf(ctx->out, "  (in network namespace %s)\n",
		    out_str(res, "netns"));
	for (i = 0; i < json_array_size(caps); i++) {
		json_t *c = json_array_get(caps, i);

		if (!json_is_true(json_object_get(c, "captures")))
			continue;
		fprintf(ctx->out, "%s  ", out_sgr(ctx, "medium"));
		out_wrap(ctx->out,
		    "but traffic from the network for it is "
		    "sent elsewhere by a DNAT/redirect rule (see dnat below)",
		    2, 2, 78);
		fprintf(ctx->out, "%s", out_reset(ctx));
		break;
	}

	fprintf(ctx->out, "\n");
	for (i = 0; i < json_array_size(fnd); i++) {
		json_t *f = json_array_get(fnd, i);
		const struct effect_label *l = label_of(out_str(f, "effect"));
		char head[64];

		if (ctx->quiet && strcmp(l->effect, "ok") == 0)
			continue;
		snprintf(head, sizeof head, "%-9s %-4s %-11s ", l->label,
		    json_is_string(json_object_get(f, "transport"))
			? out_str(f, "transport")
			: "-",
		    out_str(f, "check"));
		fprintf(ctx->out, "%s%s%s", out_sgr(ctx, l->sgr), head,
		    out_reset(ctx));
		out_wrap(ctx->out, out_str(f, "text"), 27, 26, 78);
	}
	print_sockets(ctx, res, "holders", "Holders:");
	print_sockets(ctx, res, "time_wait", "In TIME_WAIT:");
	print_sockets(ctx, res, "connections", "Connections using the port:");
	print_sockets(ctx, res, "other_netns",
	    "In other network namespaces (their ports are their own):");
	if (json_array_size(binds) > 0) {
		fprintf(ctx->out,
		    "\n%sbind() tried (each socket closed at "
		    "once):%s\n",
		    out_sgr(ctx, "head"), out_reset(ctx));
		for (i = 0; i < json_array_size(binds); i++) {
			json_t *b = json_array_get(binds, i);
			int v6 = strcmp(out_str(b, "family"), "ipv6") == 0;
			char addr[64];

			snprintf(addr, sizeof addr, "%s%s%s:%lld",
			    v6 ? "[" : "", out_str(b, "address"), v6 ? "]" : "",
			    (long long)json_integer_value(
				json_object_get(res, "port")));
			fprintf(ctx->out, "  %-4s %-18s %-13s %s%s%s%s\n",
			    out_str(b, "transport"), addr,
			    strcmp(out_str(b, "option"), "none") == 0
				? ""
				: out_str(b, "option"),
			    json_is_true(json_object_get(b, "ok"))
				? "ok"
				: out_str(b, "errno"),
			    json_is_true(json_object_get(b, "ok")) ? "" : " (",
			    out_str(b, "error"),
			    json_is_true(json_object_get(b, "ok")) ? "" : ")");
		}
	}
	if (ok)
		return;
	snprintf(line, sizeof line, "Way out: another port; %s",
	    out_str(way, "command"));
	if (json_array_size(sugg) > 0) {
		strncat(line, " suggests", sizeof line - strlen(line) - 1);
		for (i = 0; i < json_array_size(sugg); i++)
			snprintf(line + strlen(line),
			    sizeof line - strlen(line), "%s %lld",
			    i > 0 ? "," : "",
			    (long long)json_integer_value(
				json_array_get(sugg, i)));
	} else
		strncat(line, " suggests free ones nearby",
		    sizeof line - strlen(line) - 1);
	fprintf(ctx->out, "\n");
	out_wrap(ctx->out, line, 2, 0, 78);
}

/* "8080", "8080/tcp", "53/udp" */
static int
parse_operand(const char *arg, unsigned *port, int *protos)
{
	char num[16];
	const char *slash = strchr(arg, '/');
	size_t n = slash != NULL ? (size_t)(slash - arg) : strlen(arg);
	long long v;

	if (n == 0 || n >= sizeof num) {
		out_error("why", "'%s' is not PORT or PORT/PROTO", arg);
		return -1;
	}
	memcpy(num, arg, n);
	num[n] = '\0';
	if (pdx_parse_number(num, 1, 65535, "port", &v) != 0) {
		out_error("why", "%s", pdx_last_error());
		return -1;
	}
	*port = (unsigned)v;
	*protos = 0;
	if (slash != NULL) {
		*protos = pdx_proto_parse(slash + 1);
		if (*protos != PDX_TCP && *protos != PDX_UDP) {
			out_error("why", "'%s': the transport is tcp or udp",
			    arg);
			return -1;
		}
	}
	return 0;
}

static int
why_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct pdx_why_opts o;
	json_t *res;
	const char *val;
	int i, rc;

	memset(&o, 0, sizeof o);
	o.try_bind = 1;
	for (i = 0; i < args->nopt; i++) {
		val = args->opt[i].val;
		switch (args->opt[i].id) {
		case '4':
			o.families |= PDX_FAM_INET4;
			break;
		case '6':
			o.families |= PDX_FAM_INET6;
			break;
		case OPT_NETNS:
			o.netns = val;
			break;
		case OPT_ALL_NETNS:
			o.all_netns = 1;
			break;
		case OPT_NO_BIND:
			o.try_bind = 0;
			break;
		}
	}
	if (args_done(&cmd_why_entry, args) != 0)
		return cmd_usage(&cmd_why_entry);
	if (parse_operand(args->argv[0], &o.port, &o.protos) != 0)
		return EXIT_USAGE;
	if (o.netns != NULL && o.all_netns) {
		out_error("why", "--netns and --all-netns exclude each other");
		return EXIT_USAGE;
	}
	o.db = ctx->db;
	if ((res = pdx_why(&o)) == NULL) {
		out_error("why", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (ctx->json)
		out_json(ctx, res);
	else
		print_text(ctx, res, args->argv[0]);
	rc = json_is_true(json_object_get(res, "would_bind")) ? EXIT_OK
							      : EXIT_FINDINGS;
	json_decref(res);
	return rc;
}

static const struct cmd_opt why_opts[] = {
	{ "ipv4", '4', OPT_FLAG, '4', NULL,
	    "  -4, --ipv4 / -6, --ipv6   only this address family (default "
	    "both)\n",
	    0 },
	{ "ipv6", '6', OPT_FLAG, '6', NULL, NULL, 0 },
	{ "netns", 0, OPT_STR, OPT_NETNS, "NAME",
	    "  --netns NAME          ask inside this network namespace\n", 0 },
	{ "all-netns", 0, OPT_FLAG, OPT_ALL_NETNS, NULL,
	    "  --all-netns           also list the port's sockets and DNAT rules "
	    "in every\n"
	    "                        named namespace\n",
	    0 },
	{ "no-bind", 0, OPT_FLAG, OPT_NO_BIND, NULL,
	    "  --no-bind             explain only: no test bind() calls\n", 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup why_group = { "why", 0, why_opts };
static const struct cmd_optgroup *const why_groups[] = { &why_group, NULL };

const struct cmd_entry cmd_why_entry = {
	.name = "why",
	.usage = "PORT[/PROTO] [-4|-6] [--netns NAME | --all-netns] "
		 "[--no-bind]",
	.summary = "why a bind of the port would fail or succeed here; exit 1 "
		   "when it would fail",
	.flags = CMD_OPT_DB,
	.exec = why_exec,
	.groups = why_groups,
	.min_operands = 1,
	.max_operands = 1,
	.too_many = "one port at a time",
	.too_few = "a port is needed",
};
