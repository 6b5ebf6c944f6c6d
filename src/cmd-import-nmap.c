/*
 * cmd-import-nmap.c - `portdex import-nmap FILE.xml`: reads an nmap XML
 * report host by host and prints each open port with what portdex knows
 * of it (headline, IANA status, risk) beside what nmap's -sV found, and
 * flags a service nmap identified that no known use of the port names.
 * Text and CSV are printed as each host is read; JSON once at the end.
 * The reading and the comparison are lib/nmapxml.c's.  Exit 0, 1 when a
 * mismatch was flagged, 2 on bad arguments or a bad report.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "portdex/nmapxml.h"

extern const struct cmd_entry cmd_import_nmap_entry;

enum { FMT_TEXT, FMT_JSON, FMT_CSV };

struct imp {
	struct cmd_ctx *ctx;
	int fmt;
	int all;       /* every listed port, not only open */
	json_t *hosts; /* JSON: every host, annotated */
	json_t *run;   /* JSON: nmaprun's attributes */
	long nports, nmismatch;
};

/* "product version (extrainfo)" of nmap's service, or its name alone. */
static void
nmap_says(json_t *svc, char *buf, size_t n)
{
	const char *name = out_str(svc, "name"),
		   *prod = out_str(svc, "product");
	const char *ver = out_str(svc, "version"),
		   *tun = out_str(svc, "tunnel");

	if (svc == NULL || json_is_null(svc)) {
		snprintf(buf, n, "-");
		return;
	}
	snprintf(buf, n, "%s%s%s%s%s%s%s", *tun ? tun : "", *tun ? "/" : "",
	    *name ? name : "?", *prod ? " " : "", prod, *ver ? " " : "", ver);
}

/* A CSV field and the separator after it. */
static void
csv_field(FILE *f, const char *s, int last)
{
	out_csv_field(f, s);
	fputc(last ? '\n' : ',', f);
}

static void
print_port_text(struct imp *im, json_t *host, json_t *p, json_t *pdx)
{
	struct cmd_ctx *ctx = im->ctx;
	const char *verdict = out_str(pdx, "verdict");
	const char *risk = out_str(pdx, "risk");
	char port[24], says[160];

	(void)host;
	snprintf(port, sizeof port, "%lld/%s",
	    (long long)json_integer_value(json_object_get(p, "port")),
	    out_str(p, "proto"));
	nmap_says(json_object_get(p, "service"), says, sizeof says);
	fprintf(ctx->out, "  %-11s %-8s %-30.30s %-34.34s %s%-6s%s %s%s%s\n",
	    port, out_str(p, "state"), says, out_str(pdx, "headline"),
	    out_sgr(ctx, risk), *risk ? risk : "-", out_reset(ctx),
	    strcmp(verdict, "mismatch") == 0 ? out_sgr(ctx, "high") : "",
	    strcmp(verdict, "mismatch") == 0 ? "MISMATCH" : verdict,
	    strcmp(verdict, "mismatch") == 0 ? out_reset(ctx) : "");
	if (strcmp(verdict, "mismatch") == 0) {
		fprintf(ctx->out, "    ! ");
		out_wrap(ctx->out, out_str(pdx, "reason"), 6, 6, ctx->width);
	}
}

static void
print_port_csv(struct imp *im, json_t *host, json_t *p, json_t *pdx)
{
	FILE *f = im->ctx->out;
	json_t *svc = json_object_get(p, "service");
	char num[16];

	csv_field(f, out_str(host, "address"), 0);
	csv_field(f,
	    json_string_value(
		json_array_get(json_object_get(host, "hostnames"), 0)) != NULL
		? json_string_value(
		      json_array_get(json_object_get(host, "hostnames"), 0))
		: "",
	    0);
	snprintf(num, sizeof num, "%lld",
	    (long long)json_integer_value(json_object_get(p, "port")));
	csv_field(f, num, 0);
	csv_field(f, out_str(p, "proto"), 0);
	csv_field(f, out_str(p, "state"), 0);
	csv_field(f, out_str(svc, "name"), 0);
	csv_field(f, out_str(svc, "product"), 0);
	csv_field(f, out_str(svc, "version"), 0);
	csv_field(f, out_str(pdx, "headline"), 0);
	csv_field(f, out_str(pdx, "status"), 0);
	csv_field(f, out_str(pdx, "risk"), 0);
	csv_field(f, out_str(pdx, "verdict"), 0);
	csv_field(f, out_str(pdx, "reason"), 1);
}

static int
host_cb(json_t *run, json_t *host, void *arg)
{
	struct imp *im = arg;
	struct cmd_ctx *ctx = im->ctx;
	json_t *ports = json_object_get(host, "ports"), *p, *pdx, *kept;
	const char *name;
	size_t i;
	int shown = 0;

	if (im->run == NULL)
		im->run = json_incref(run);
	kept = json_array();
	json_array_foreach(ports, i, p)
	{
		if (!im->all && strcmp(out_str(p, "state"), "open") != 0)
			continue;
		if ((pdx = pdx_nmapxml_expect(ctx->db, p)) == NULL) {
			json_decref(kept);
			return -1;
		}
		im->nports++;
		im->nmismatch += strcmp(out_str(pdx, "verdict"), "mismatch") ==
		    0;
		if (im->fmt == FMT_JSON) {
			json_object_set(p, "portdex", pdx);
			json_array_append(kept, p);
		} else if (im->fmt == FMT_CSV)
			print_port_csv(im, host, p, pdx);
		else {
			if (shown++ == 0) {
				name = json_string_value(
				    json_array_get(json_object_get(host,
						       "hostnames"),
					0));
				fprintf(ctx->out, "%s%s%s%s%s\n",
				    out_sgr(ctx, "bold"),
				    out_str(host, "address"), name ? " (" : "",
				    name ? name : "", name ? ")" : "");
				fprintf(ctx->out,
				    "%s  %-11s %-8s %-30s %-34s "
				    "%-6s %s%s\n",
				    out_sgr(ctx, "dim"), "PORT", "STATE",
				    "NMAP FOUND", "PORTDEX EXPECTS", "RISK",
				    "VERDICT", out_reset(ctx));
			}
			print_port_text(im, host, p, pdx);
		}
		json_decref(pdx);
	}
	if (im->fmt == FMT_JSON) {
		json_object_set_new(host, "ports", kept);
		json_array_append(im->hosts, host);
	} else {
		json_decref(kept);
		if (im->fmt == FMT_TEXT && shown == 0 && !ctx->quiet)
			fprintf(ctx->out, "%s: no %sports\n",
			    out_str(host, "address"), im->all ? "" : "open ");
		else if (im->fmt == FMT_TEXT)
			fputc('\n', ctx->out);
	}
	fflush(ctx->out);
	return 0;
}

static int
report(struct imp *, const char *, int, const char *, size_t, json_t **);

static int
import_nmap_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct imp im;
	const char *val;
	int i;

	memset(&im, 0, sizeof im);
	im.ctx = ctx;
	im.fmt = ctx->json ? FMT_JSON : FMT_TEXT;
	for (i = 0; i < args->nopt; i++) {
		val = args->opt[i].val;
		switch (args->opt[i].id) {
		case 'a':
			im.all = 1;
			break;
		case 'f':
			if (strcmp(val, "text") == 0)
				im.fmt = FMT_TEXT;
			else if (strcmp(val, "json") == 0)
				im.fmt = FMT_JSON;
			else if (strcmp(val, "csv") == 0)
				im.fmt = FMT_CSV;
			else {
				out_error("import-nmap",
				    "--format takes text, "
				    "json or csv, not '%s'",
				    val);
				return EXIT_USAGE;
			}
			break;
		}
	}
	if (args_done(&cmd_import_nmap_entry, args) != 0)
		return cmd_usage(&cmd_import_nmap_entry);
	return report(&im, args->argv[0], -1, NULL, 0, NULL);
}

/*
 * Reads the report (path, or fd with its first headlen bytes in head) and
 * prints it in im->fmt; with doc, the JSON document is handed back
 * instead of printed.
 */
static int
report(struct imp *im, const char *path, int fd, const char *head,
    size_t headlen, json_t **doc)
{
	struct cmd_ctx *ctx = im->ctx;
	long n;

	if (im->fmt == FMT_JSON)
		im->hosts = json_array();
	if (im->fmt == FMT_CSV)
		fprintf(ctx->out,
		    "address,hostname,port,proto,state,"
		    "nmap_service,nmap_product,nmap_version,headline,status,"
		    "risk,verdict,reason\n");
	if (fd >= 0)
		n = pdx_nmapxml_read_fd(fd, head, headlen, path, host_cb, im);
	else
		n = pdx_nmapxml_read_file(path, host_cb, im);
	if (n < 0) {
		fflush(ctx->out);
		out_error(ctx->cmd != NULL ? ctx->cmd : "import-nmap", "%s",
		    pdx_last_error());
		json_decref(im->hosts);
		json_decref(im->run);
		return EXIT_USAGE;
	}
	if (im->fmt == FMT_JSON) {
		json_t *root = json_pack("{s:O?, s:o, s:{s:I, s:I, s:I}}",
		    "run", im->run, "hosts", im->hosts, "summary", "hosts",
		    (json_int_t)n, "ports", (json_int_t)im->nports,
		    "mismatches", (json_int_t)im->nmismatch);

		if (doc != NULL)
			*doc = root;
		else {
			out_json(ctx, root);
			json_decref(root);
		}
	} else if (im->fmt == FMT_TEXT && !ctx->quiet)
		fprintf(ctx->out, "%ld host%s, %ld %sport%s, %ld mismatch%s\n",
		    n, n == 1 ? "" : "s", im->nports, im->all ? "" : "open ",
		    im->nports == 1 ? "" : "s", im->nmismatch,
		    im->nmismatch == 1 ? "" : "es");
	json_decref(im->run);
	return im->nmismatch > 0 ? EXIT_FINDINGS : EXIT_OK;
}

int
import_nmap_report(struct cmd_ctx *ctx, int fmt, int fd, const char *head,
    size_t headlen, const char *name, json_t **doc)
{
	struct imp im;

	memset(&im, 0, sizeof im);
	im.ctx = ctx;
	im.fmt = fmt == OUT_JSON ? FMT_JSON
	    : fmt == OUT_CSV	 ? FMT_CSV
				 : FMT_TEXT;
	return report(&im, name, fd, head, headlen, doc);
}

static const struct cmd_opt import_nmap_opts[] = {
	{ "all", 'a', OPT_FLAG, 'a', NULL,
	    "  -a, --all             every port the report lists, not only open "
	    "ones\n",
	    0 },
	{ "format", 0, OPT_ENUM, 'f', "text|json|csv",
	    "  --format FMT          text (default), json (as --json) or csv\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup import_nmap_group = { "import-nmap", 0,
	import_nmap_opts };
static const struct cmd_optgroup *const import_nmap_groups[] = {
	&import_nmap_group,
	NULL,
};

const struct cmd_entry cmd_import_nmap_entry = {
	.name = "import-nmap",
	.usage = "FILE.xml [-a] [--format text|json|csv]",
	.summary = "read an nmap XML report: each open port with what portdex "
		   "expects there, mismatches flagged",
	.flags = CMD_NEEDS_DB,
	.exec = import_nmap_exec,
	.groups = import_nmap_groups,
	.min_operands = 1,
	.max_operands = 1,
	.too_many = "one report at a time",
};
