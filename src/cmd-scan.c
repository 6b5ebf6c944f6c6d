/*
 * cmd-scan.c - `portdex scan HOST`: parses the scan's options, resolves the
 * one host, picks the ports (the option, else the registry's most-seen
 * ones), draws the progress line on a terminal, and prints the annotated
 * result as a table or JSON.  The probing itself is lib/scan.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "portdex/nmapxml.h"

#define SCAN_DEFAULT_TOP 1000
#define PROGRESS_AFTER_S 0.5 /* quick scans draw nothing */

static int scan_exec(struct cmd_ctx *, const struct cmd_args *);

enum {
	OPT_TIMEOUT = 256,
	OPT_RETRIES,
	OPT_RATE,
	OPT_CONCURRENCY,
	OPT_THREADS,
	OPT_XML,
	OPT_FORMAT,
};

static const struct cmd_opt scan_opts[] = {
	{ "ports", 'p', OPT_PORTS, 'p', "PORTS",
	    "  -p, --ports PORTS     ports to try (default: nmap's 1000 most "
	    "common)\n",
	    0 },
	{ "all", 'a', OPT_FLAG, 'a', NULL,
	    "  -a, --all             also print closed and filtered ports\n",
	    0 },
	{ NULL, '4', OPT_FLAG, '4', NULL,
	    "  -4 / -6               this address family only\n", 0 },
	{ NULL, '6', OPT_FLAG, '6', NULL, NULL, 0 },
	{ "timeout", 0, OPT_INT, OPT_TIMEOUT, "MS",
	    "  --timeout MS          per-connection timeout\n", 0 },
	{ "retries", 0, OPT_INT, OPT_RETRIES, "N",
	    "  --retries N           retries of a filtered port\n", 0 },
	{ "rate", 0, OPT_INT, OPT_RATE, "N",
	    "  --rate N              at most N connection attempts a second\n",
	    0 },
	{ "concurrency", 0, OPT_INT, OPT_CONCURRENCY, "N",
	    "  --concurrency N       connections in flight at once\n", 0 },
	{ "threads", 0, OPT_INT, OPT_THREADS, "N",
	    "  --threads N           worker threads\n", 0 },
	/* nmap's spelling: -oX FILE */
	{ NULL, 'o', OPT_FILE, 'o', "X FILE",
	    "  -oX, --xml FILE       also write an nmap XML report (- : standard "
	    "output)\n",
	    OPTF_NEXT },
	{ "xml", 0, OPT_FILE, OPT_XML, "FILE", NULL, 0 },
	{ "format", 0, OPT_ENUM, OPT_FORMAT, "text|json|csv",
	    "  --format FMT          text (default), json (as --json) or csv\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup scan_group = { "scan", 0, scan_opts };
static const struct cmd_optgroup *const scan_groups[] = { &scan_group, NULL };

const struct cmd_entry cmd_scan_entry = {
	.name = "scan",
	.usage = "HOST [-p PORTS] [-a] [-4|-6] [--timeout MS] [--retries N] "
		 "[--rate N] [--concurrency N] [--threads N] [-oX FILE] "
		 "[--format text|json|csv]",
	.summary = "TCP connect scan of one host, each port annotated",
	.flags = CMD_OPT_DB,
	.exec = scan_exec,
	.groups = scan_groups,
	.min_operands = 1,
	.max_operands = 1,
	.too_many = "scan takes exactly one host",
};

/* Numeric options: where each one goes and its bounds. */
struct scan_numopt {
	int opt;
	const char *what;
	long long lo, hi;
	size_t off;
};
static const struct scan_numopt scan_numopts[] = {
	{ OPT_TIMEOUT, "timeout (ms)", 1, 600000,
	    offsetof(struct pdx_scan_opts, timeout_ms) },
	{ OPT_RETRIES, "retries", 0, 10,
	    offsetof(struct pdx_scan_opts, retries) },
	{ OPT_RATE, "rate (connects per second)", 1, 10000000,
	    offsetof(struct pdx_scan_opts, rate) },
	{ OPT_CONCURRENCY, "concurrency", 1, 1000000,
	    offsetof(struct pdx_scan_opts, concurrency) },
	{ OPT_THREADS, "threads", 1, 64,
	    offsetof(struct pdx_scan_opts, threads) },
};

struct progress {
	int active; /* stderr is a terminal, not -q */
	int drawn;
	double start;
	const char *host;
};

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
progress_cb(void *arg, unsigned done, unsigned total)
{
	struct progress *pr = arg;

	if (!pr->active || mono_s() - pr->start < PROGRESS_AFTER_S)
		return;
	fprintf(stderr, "\rscanning %s: %u/%u ports (%u%%)", pr->host, done,
	    total,
	    total > 0 ? (unsigned)((unsigned long long)done * 100 / total)
		      : 100);
	fflush(stderr);
	pr->drawn = 1;
}

static void
print_text(struct cmd_ctx *ctx, json_t *root)
{
	json_t *ports = json_object_get(root, "ports"), *p, *sum;
	size_t i;
	int n;

	if (json_array_size(ports) > 0)
		fprintf(ctx->out, "%s%-11s %-9s %-20s %-12s %s%s\n",
		    out_sgr(ctx, "bold"), "PORT", "STATE", "SERVICE", "STATUS",
		    "RISK", out_reset(ctx));
	json_array_foreach(ports, i, p)
	{
		const char *svc = json_string_value(
		    json_object_get(p, "service"));
		const char *st = json_string_value(
		    json_object_get(p, "status"));
		const char *risk = json_string_value(
		    json_object_get(p, "risk"));
		char port[16];

		snprintf(port, sizeof port, "%d/tcp",
		    (int)json_integer_value(json_object_get(p, "port")));
		fprintf(ctx->out, "%-11s %-9s %-20s %-12s %s%s%s\n", port,
		    json_string_value(json_object_get(p, "state")),
		    svc != NULL && *svc != '\0' ? svc : "-",
		    st != NULL ? st : "-",
		    risk != NULL ? out_sgr(ctx, risk) : "",
		    risk != NULL ? risk : "-",
		    risk != NULL ? out_reset(ctx) : "");
	}
	sum = json_object_get(root, "summary");
	n = (int)json_integer_value(json_object_get(sum, "scanned"));
	fprintf(ctx->out,
	    "%s (%s): %d port%s scanned in %.2f s: %d open, "
	    "%d closed, %d filtered\n",
	    json_string_value(json_object_get(root, "host")),
	    json_string_value(json_object_get(root, "address")), n,
	    n == 1 ? "" : "s", json_real_value(json_object_get(sum, "seconds")),
	    (int)json_integer_value(json_object_get(sum, "open")),
	    (int)json_integer_value(json_object_get(sum, "closed")),
	    (int)json_integer_value(json_object_get(sum, "filtered")));
}

/* One row per port: port,proto,state,service,status,risk. */
static void
print_csv(struct cmd_ctx *ctx, json_t *root)
{
	json_t *p;
	size_t i;

	fprintf(ctx->out, "port,proto,state,service,status,risk\n");
	json_array_foreach(json_object_get(root, "ports"), i, p)
	{
		const char *f[4] = { "state", "service", "status", "risk" };
		size_t k;

		fprintf(ctx->out, "%lld,tcp",
		    (long long)json_integer_value(json_object_get(p, "port")));
		for (k = 0; k < 4; k++) {
			const char *v = json_string_value(
			    json_object_get(p, f[k]));

			fputc(',', ctx->out);
			out_csv_field(ctx->out, v != NULL ? v : "");
		}
		fputc('\n', ctx->out);
	}
}

/* The command line as one string, for the report's args attribute. */
static void
join_args(int argc, char **argv, char *buf, size_t n)
{
	size_t l = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < argc && l + 1 < n; i++)
		l += (size_t)snprintf(buf + l, n - l, "%s%s", i ? " " : "",
		    argv[i]);
}

static int
scan_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct pdx_scan_opts opts;
	struct pdx_scan_target target;
	struct pdx_scan_result *res = NULL;
	struct pdx_portset *set = NULL;
	struct progress pr;
	const char *ports = NULL;
	json_t *root;
	long long v;
	size_t i;
	int k, ch, all = 0, family = AF_UNSPEC, rc = EXIT_USAGE, csv = 0;
	const char *xml = NULL;
	char args[4096];
	long long t0;

	join_args(a->raw_argc, a->raw_argv, args, sizeof args);
	pdx_scan_opts_init(&opts);
	for (k = 0; k < a->nopt; k++) {
		const char *val = a->opt[k].val;

		ch = a->opt[k].id;
		switch (ch) {
		case 'o':
			/* nmap's spelling: -oX FILE. */
			if (strcmp(val, "X") != 0 || a->opt[k].next == NULL) {
				out_error("scan",
				    "-o takes X and a file "
				    "(-oX FILE); other nmap formats are not "
				    "written");
				return EXIT_USAGE;
			}
			xml = a->opt[k].next;
			continue;
		case OPT_XML:
			xml = val;
			continue;
		case OPT_FORMAT:
			if (strcmp(val, "csv") == 0)
				csv = 1;
			else if (strcmp(val, "json") == 0)
				ctx->json = 1;
			else if (strcmp(val, "text") != 0) {
				out_error("scan",
				    "--format takes text, json "
				    "or csv, not '%s'",
				    val);
				return EXIT_USAGE;
			}
			continue;
		case 'p':
			ports = val;
			continue;
		case 'a':
			all = 1;
			continue;
		case '4':
			family = AF_INET;
			continue;
		case '6':
			family = AF_INET6;
			continue;
		}
		for (i = 0; i < sizeof scan_numopts / sizeof *scan_numopts;
		     i++) {
			const struct scan_numopt *n = &scan_numopts[i];

			if (n->opt != ch)
				continue;
			if (pdx_parse_number(val, n->lo, n->hi, n->what, &v) !=
			    0) {
				out_error("scan", "%s", pdx_last_error());
				return EXIT_USAGE;
			}
			*(unsigned *)((char *)&opts + n->off) = (unsigned)v;
			break;
		}
	}
	if (args_done(&cmd_scan_entry, a) != 0)
		return cmd_usage(&cmd_scan_entry);

	if ((set = malloc(sizeof *set)) == NULL ||
	    (res = malloc(sizeof *res)) == NULL) {
		out_error("scan", "out of memory");
		goto out;
	}
	if (ports != NULL) {
		if (pdx_portset_parse(set, ports) != 0) {
			out_error("scan", "%s", pdx_last_error());
			goto out;
		}
		if (set->count == 0) {
			out_error("scan", "no ports in '%s'", ports);
			goto out;
		}
	} else
		pdx_scan_default_ports(ctx->db, SCAN_DEFAULT_TOP, set);
	if (pdx_scan_resolve(a->argv[0], family, &target) != 0) {
		out_error("scan", "%s", pdx_last_error());
		goto out;
	}

	memset(&pr, 0, sizeof pr);
	pr.active = !ctx->quiet && isatty(STDERR_FILENO);
	pr.start = mono_s();
	pr.host = target.numeric;
	opts.progress = progress_cb;
	opts.progress_arg = &pr;
	t0 = (long long)time(NULL);
	if (pdx_scan(&target, set, &opts, res) != 0) {
		if (pr.drawn)
			fprintf(stderr, "\r\033[K");
		out_error("scan", "%s", pdx_last_error());
		goto out;
	}
	if (pr.drawn)
		fprintf(stderr, "\r\033[K");

	if (xml != NULL) {
		struct pdx_nmapxml_run run = { args, PDX_VERSION, t0,
			(long long)time(NULL), all };

		if (pdx_nmapxml_write_scan(xml, ctx->db, &target, res, &run) !=
		    0) {
			out_error("scan", "%s", pdx_last_error());
			goto out;
		}
		if (strcmp(xml, "-") == 0) {
			rc = EXIT_OK;
			goto out;
		}
	}
	if ((root = pdx_scan_json(ctx->db, &target, res, all)) == NULL) {
		out_error("scan", "%s", pdx_last_error());
		goto out;
	}
	if (csv)
		print_csv(ctx, root);
	else if (ctx->json)
		out_json(ctx, root);
	else
		print_text(ctx, root);
	json_decref(root);
	rc = EXIT_OK;
out:
	free(set);
	free(res);
	return rc;
}
