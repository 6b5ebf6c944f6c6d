/*
 * cmd-audit.c - `portdex audit`: what listens on this machine that
 * deserves a look.  It parses the options and the accepted findings
 * (config files, --ignore), runs the library's audit (lib/audit.c owns
 * the rules, the evaluation, the baseline and the history), and presents
 * the findings, the diff against the baseline, the history or the rule
 * table as text, one JSON document or JSON lines.  The exit status says
 * whether anything at or above --fail-on was found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "portdex/audit.h"

static int audit_exec(struct cmd_ctx *, const struct cmd_args *);

enum {
	OPT_FAIL_ON = 256,
	OPT_IGNORE,
	OPT_CONFIG,
	OPT_JSONL,
	OPT_PROC,
	OPT_REQUIRE_COMPLETE,
	OPT_SAVE_BASELINE,
	OPT_DIFF,
	OPT_HISTORY,
	OPT_RULES,
};

static const struct cmd_opt audit_ports[] = {
	{ "ports", 'p', OPT_PORTS, 'p', "PORTS",
	    "  -p, --ports PORTS     only listeners on these ports "
	    "(22,80,8000-8100)\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_opt audit_opts[] = {
	{ "fail-on", 0, OPT_ENUM, OPT_FAIL_ON, "info|low|medium|high",
	    "  --fail-on LEVEL       exit 1 when a finding reaches LEVEL (info, "
	    "low,\n"
	    "                        medium, high)\n",
	    0 },
	{ "ignore", 0, OPT_STR, OPT_IGNORE, "RULE[:PORT[/PROTO]]",
	    "  --ignore RULE[:PORT[/PROTO]]   accept matching findings (shown, "
	    "not\n"
	    "                        counted); repeatable\n",
	    0 },
	{ "config", 0, OPT_FILE, OPT_CONFIG, "FILE",
	    "  --config FILE         rules to accept, one --ignore value per "
	    "line\n",
	    0 },
	{ "jsonl", 0, OPT_FLAG, OPT_JSONL, NULL,
	    "  --jsonl               one JSON finding per line\n", 0 },
	{ "verbose", 'v', OPT_FLAG, 'v', NULL,
	    "  -v, --verbose         list every info finding (text groups them "
	    "by rule)\n",
	    0 },
	{ "proc", 0, OPT_FLAG, OPT_PROC, NULL,
	    "  --proc                read sockets from /proc instead of "
	    "netlink\n",
	    0 },
	{ "require-complete", 0, OPT_FLAG, OPT_REQUIRE_COMPLETE, NULL,
	    "  --require-complete    fail when some sockets could not be "
	    "attributed\n",
	    0 },
	{ "save-baseline", 0, OPT_FLAG, OPT_SAVE_BASELINE, NULL,
	    "  --save-baseline       remember today's listeners as the "
	    "baseline\n",
	    0 },
	{ "diff", 0, OPT_FLAG, OPT_DIFF, NULL,
	    "  --diff                report listeners that are new since the "
	    "baseline\n",
	    0 },
	{ "history", 0, OPT_FLAG, OPT_HISTORY, NULL,
	    "  --history             list earlier audit runs\n", 0 },
	{ "rules", 0, OPT_FLAG, OPT_RULES, NULL,
	    "  --rules               list the audit rules and exit\n", 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup audit_ports_group = { "audit", 0,
	audit_ports };
static const struct cmd_optgroup audit_group = { "audit", 0, audit_opts };
static const struct cmd_optgroup *const audit_groups[] = {
	&audit_ports_group,
	&optg_proto,
	&audit_group,
	&optg_metrics,
	NULL,
};

const struct cmd_entry cmd_audit_entry = {
	.name = "audit",
	.usage = "[-p PORTS] [-t] [-u] [-S] [-v] [--fail-on LEVEL] [--ignore "
		 "RULE[:PORT[/PROTO]]]... [--config FILE] [--jsonl] [--proc] "
		 "[--require-complete] [--save-baseline | --diff | --history | "
		 "--rules]",
	.summary = "findings on this machine's listeners, most severe first; "
		   "exit 1 when any is at or above --fail-on (default high)",
	.flags = CMD_OPT_DB | CMD_DB_BRIEF | CMD_NEEDS_STATE | CMD_METRICS,
	.exec = audit_exec,
	.groups = audit_groups,
	.min_operands = 0,
	.max_operands = 0,
};

enum mode { M_FINDINGS, M_SAVE, M_DIFF, M_HISTORY, M_RULES };

struct audit_args {
	struct pdx_audit_opts o;
	struct pdx_audit_accepts acc;
	struct pdx_portset ps;
	int have_ports;
	int fail_on;
	int jsonl;
	int verbose; /* -v: every finding below low */
	int require_complete;
	int mode;
	const char *config;
};

/* ---- output helpers ------------------------------------------------------ */

static void
print_jsonl(struct cmd_ctx *ctx, json_t *j)
{
	json_dumpf(j, ctx->out,
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	fputc('\n', ctx->out);
}

static const char *
jstr_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

/* "0.0.0.0:645/tcp", "[::]:22/tcp" from a listener or finding object. */
static void
jendpoint(json_t *o, char *buf, size_t size)
{
	const char *a = jstr_or(o, "address", "?");

	snprintf(buf, size,
	    strchr(a, ':') != NULL ? "[%s]:%lld/%s" : "%s:%lld/%s", a,
	    (long long)json_integer_value(json_object_get(o, "port")),
	    jstr_or(o, "proto", "?"));
}

/* Incomplete reasons and notes, after any output; never "clean" then. */
static void
print_coverage(struct cmd_ctx *ctx, json_t *doc)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(doc, "incomplete"), i, r)
	    fprintf(ctx->out, "%sINCOMPLETE%s: %s\n", out_sgr(ctx, "medium"),
		out_reset(ctx), json_string_value(r));
	if (ctx->quiet)
		return;
	json_array_foreach(json_object_get(doc, "notes"), i, r)
	    fprintf(ctx->out, "%snote: %s%s\n", out_sgr(ctx, "dim"),
		json_string_value(r), out_reset(ctx));
}

/*
 * The text of the findings without the document: pdx_audit_stream hands
 * each over as it is printed.
 */
#define GROUPS_MAX 64
struct text_out {
	struct cmd_ctx *ctx;
	int verbose;
	size_t ngroups;
	struct {
		const char *rule;
		size_t n;
	} groups[GROUPS_MAX];
};

/*
 * A string put together into a fixed buffer, cut where snprintf would
 * cut it (size - 1 bytes and a NUL).
 */
struct tbuf {
	char *b;
	size_t len, size;
};

static void
tb_init(struct tbuf *t, char *buf, size_t size)
{
	t->b = buf;
	t->len = 0;
	t->size = size;
	buf[0] = '\0';
}

static void
tb_mem(struct tbuf *t, const char *s, size_t n)
{
	if (n > t->size - 1 - t->len)
		n = t->size - 1 - t->len;
	memcpy(t->b + t->len, s, n);
	t->len += n;
	t->b[t->len] = '\0';
}

static void
tb_str(struct tbuf *t, const char *s)
{
	tb_mem(t, s, strlen(s));
}

/* v in decimal, as %lu */
static void
tb_num(struct tbuf *t, unsigned long v)
{
	char d[24];
	size_t i = sizeof d;

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	tb_mem(t, d + i, sizeof d - i);
}

static int
text_finding(void *arg, const struct pdx_audit_finding *f,
    const struct pdx_audit_summary *sum)
{
	struct text_out *t = arg;
	struct cmd_ctx *ctx = t->ctx;
	const char *lvl = pdx_level_name(f->level), *a = f->address;
	char ep[96], who[160], line[1024];
	struct tbuf b;
	size_t g;

	(void)sum;
	if (!t->verbose && !f->accepted && f->level == PDX_LEVEL_INFO) {
		for (g = 0; g < t->ngroups; g++)
			if (strcmp(t->groups[g].rule, f->rule) == 0)
				break;
		if (g == t->ngroups) {
			if (g == GROUPS_MAX)
				return 0; /* more rules than the table */
			t->groups[g].rule = f->rule;
			t->groups[g].n = 0;
			t->ngroups++;
		}
		t->groups[g].n++;
		return 0;
	}
	/*
	 * Put together by hand, as the snprintf/fprintf formats did
	 * (including where ep and who were cut), without the format
	 * parsing: a thousand findings.
	 */
	tb_init(&b, ep, sizeof ep);
	if (strchr(a, ':') != NULL) {
		tb_str(&b, "[");
		tb_str(&b, a);
		tb_str(&b, "]:");
	} else {
		tb_str(&b, a);
		tb_str(&b, ":");
	}
	tb_num(&b, f->port);
	tb_str(&b, "/");
	tb_str(&b, pdx_proto_name(f->proto));
	tb_init(&b, who, sizeof who);
	if (f->pid > 0) {
		tb_str(&b, f->process != NULL ? f->process : "?");
		tb_str(&b, "[");
		tb_num(&b, (unsigned long)f->pid);
		tb_str(&b, "] ");
		tb_str(&b, f->user != NULL ? f->user : "?");
		if (f->unit != NULL) {
			tb_str(&b, " ");
			tb_str(&b, f->unit);
		}
	} else {
		tb_str(&b, "(no process seen) ");
		tb_str(&b, f->user != NULL ? f->user : "?");
	}
	tb_init(&b, line, sizeof line);
	tb_str(&b, f->accepted ? "" : out_sgr(ctx, lvl));
	tb_str(&b, lvl);
	for (g = strlen(lvl); g < 6; g++)
		tb_str(&b, " ");
	tb_str(&b, f->accepted ? "" : out_reset(ctx));
	tb_str(&b, " ");
	tb_str(&b, f->accepted ? "ACCEPTED " : "");
	tb_str(&b, f->rule);
	tb_str(&b, "  ");
	tb_str(&b, ep);
	tb_str(&b, "  ");
	tb_str(&b, who);
	tb_str(&b, "\n       ");
	fwrite(line, 1, b.len, ctx->out);
	out_wrap(ctx->out, f->why, 7, 7, 79);
	fputs("       next: ", ctx->out);
	out_wrap(ctx->out, f->next, 13, 13, 79);
	if (f->accepted)
		fprintf(ctx->out, "       accepted by %s%s%s\n",
		    f->accepted_by != NULL ? f->accepted_by : "?",
		    f->accepted_reason != NULL && *f->accepted_reason != '\0'
			? ": "
			: "",
		    f->accepted_reason != NULL ? f->accepted_reason : "");
	return 0;
}

/* After the findings: the groups, the summary line, the coverage. */
static void
text_summary(struct text_out *t, const struct pdx_audit_summary *sum)
{
	struct cmd_ctx *ctx = t->ctx;
	json_t *cov;
	size_t g;

	for (g = 0; g < t->ngroups; g++)
		fprintf(ctx->out,
		    "%s%-6s%s %s  %zu listener%s (portdex audit "
		    "-v lists them)\n",
		    out_sgr(ctx, "info"), "info", out_reset(ctx),
		    t->groups[g].rule, t->groups[g].n,
		    t->groups[g].n == 1 ? "" : "s");
	if (sum->findings + sum->accepted > 0)
		fputc('\n', ctx->out);
	if (sum->findings == 0 && sum->complete)
		fprintf(ctx->out,
		    "%sclean%s: no findings among %zu "
		    "listeners",
		    out_sgr(ctx, "ok"), out_reset(ctx), sum->listeners);
	else if (sum->findings == 0)
		fprintf(ctx->out,
		    "no findings among what could be seen of "
		    "%zu listeners; the audit is incomplete (below), so this "
		    "is not a clean bill",
		    sum->listeners);
	else
		fprintf(ctx->out,
		    "%zu finding%s among %zu listeners: "
		    "%zu high, %zu medium, %zu low, %zu info",
		    sum->findings, sum->findings == 1 ? "" : "s",
		    sum->listeners, sum->level[PDX_LEVEL_HIGH],
		    sum->level[PDX_LEVEL_MEDIUM], sum->level[PDX_LEVEL_LOW],
		    sum->level[PDX_LEVEL_INFO]);
	if (sum->accepted > 0)
		fprintf(ctx->out, "; %zu accepted", sum->accepted);
	fprintf(ctx->out, " (ports %s, %s)\n", sum->ports, sum->transports);
	/* print_coverage reads them from a document */
	if ((cov = json_pack("{s:O, s:O}", "incomplete", sum->incomplete,
		 "notes", sum->notes)) != NULL) {
		print_coverage(ctx, cov);
		json_decref(cov);
	}
}

static void
print_rules(struct cmd_ctx *ctx, json_t *rules)
{
	json_t *r;
	size_t i;

	json_array_foreach(rules, i, r)
	{
		fprintf(ctx->out, "%-26s %-6s ", jstr_or(r, "rule", "?"),
		    jstr_or(r, "level", "?"));
		out_wrap(ctx->out, out_str(r, "text"), 34, 34, 79);
		fprintf(ctx->out, "%34s", "");
		fputs("next: ", ctx->out);
		out_wrap(ctx->out, out_str(r, "next"), 40, 40, 79);
	}
}

static void
print_diff(struct cmd_ctx *ctx, json_t *d)
{
	json_t *x;
	size_t i;
	char ep[96];

	fprintf(ctx->out, "baseline saved %s (ports %s, %s)\n",
	    jstr_or(json_object_get(d, "baseline"), "saved", "?"),
	    jstr_or(json_object_get(d, "scope"), "ports", "?"),
	    jstr_or(json_object_get(d, "scope"), "transports", "?"));
	json_array_foreach(json_object_get(d, "added"), i, x)
	{
		jendpoint(x, ep, sizeof ep);
		fprintf(ctx->out, "+ added  %-28s %s %s, first seen %s\n", ep,
		    *out_str(x, "process") != '\0' ? out_str(x, "process")
						   : "(no process seen)",
		    out_str(x, "user"), jstr_or(x, "first_seen", "now"));
	}
	json_array_foreach(json_object_get(d, "gone"), i, x)
	{
		jendpoint(x, ep, sizeof ep);
		fprintf(ctx->out,
		    "- gone   %-28s %s %s, last seen %s, in the "
		    "baseline since %s\n",
		    ep,
		    *out_str(x, "process") != '\0' ? out_str(x, "process")
						   : "(no process seen)",
		    out_str(x, "user"), jstr_or(x, "last_seen", "never"),
		    jstr_or(x, "in_baseline_since", "?"));
	}
	if (json_array_size(json_object_get(d, "added")) == 0 &&
	    json_array_size(json_object_get(d, "gone")) == 0)
		fprintf(ctx->out, "no change since the baseline\n");
}

static void
print_history(struct cmd_ctx *ctx, json_t *h)
{
	json_t *x;
	size_t i;
	char ep[96];

	fprintf(ctx->out, "%lld runs kept (at most %lld), since %s\n",
	    (long long)json_integer_value(json_object_get(h, "runs")),
	    (long long)json_integer_value(json_object_get(h, "max_runs")),
	    jstr_or(h, "since", "-"));
	json_array_foreach(json_object_get(h, "listeners"), i, x)
	{
		jendpoint(x, ep, sizeof ep);
		fprintf(ctx->out,
		    "%-28s %-16s first %s%s  last %s  runs %lld"
		    "%s\n",
		    ep, jstr_or(x, "process", "-"),
		    json_is_true(
			json_object_get(x, "first_seen_is_history_start"))
			? "<="
			: "",
		    jstr_or(x, "first_seen", "?"), jstr_or(x, "last_seen", "?"),
		    (long long)json_integer_value(json_object_get(x, "runs")),
		    json_is_true(json_object_get(x, "in_latest_run"))
			? "  (in the latest run)"
			: "");
	}
}

/* ---- options ---------------------------------------------------------- */

static int
set_mode(struct audit_args *a, int m)
{
	if (a->mode != M_FINDINGS && a->mode != m) {
		out_error("audit",
		    "--save-baseline, --diff, --history and "
		    "--rules exclude each other");
		return -1;
	}
	a->mode = m;
	return 0;
}

static int
parse_args(struct audit_args *a, const struct cmd_args *args)
{
	const char *val;
	int i, protos = 0;

	for (i = 0; i < args->nopt; i++) {
		val = args->opt[i].val;
		switch (args->opt[i].id) {
		case 'p':
			if (pdx_portset_parse(&a->ps, val) < 0) {
				out_error("audit", "-p: %s", pdx_last_error());
				return -1;
			}
			a->o.ports = val;
			a->have_ports = 1;
			break;
		case 't':
			protos |= PDX_TCP;
			break;
		case 'u':
			protos |= PDX_UDP;
			break;
		case 'S':
			protos |= PDX_SCTP;
			break;
		case OPT_FAIL_ON:
			a->fail_on = pdx_level_parse(val);
			if (a->fail_on < PDX_LEVEL_INFO) {
				out_error("audit",
				    "--fail-on takes info, low, "
				    "medium or high, not '%s'",
				    val);
				return -1;
			}
			break;
		case OPT_IGNORE:
			if (pdx_audit_accept_add(&a->acc, val, "",
				"--ignore") != 0) {
				out_error("audit", "--ignore: %s",
				    pdx_last_error());
				return -1;
			}
			break;
		case OPT_CONFIG:
			a->config = val;
			break;
		case OPT_JSONL:
			a->jsonl = 1;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case OPT_PROC:
			a->o.backend = PDX_BACKEND_PROC;
			break;
		case OPT_REQUIRE_COMPLETE:
			a->require_complete = 1;
			break;
		case OPT_SAVE_BASELINE:
			if (set_mode(a, M_SAVE) < 0)
				return -1;
			break;
		case OPT_DIFF:
			if (set_mode(a, M_DIFF) < 0)
				return -1;
			break;
		case OPT_HISTORY:
			if (set_mode(a, M_HISTORY) < 0)
				return -1;
			break;
		case OPT_RULES:
			if (set_mode(a, M_RULES) < 0)
				return -1;
			break;
		}
	}
	if (args_done(&cmd_audit_entry, args) != 0)
		return -1;
	a->o.protos = protos;
	return 0;
}

/* Config: --config FILE alone, else the default files that exist. */
static int
load_config(struct audit_args *a)
{
	int rc;

	if (a->config != NULL)
		rc = pdx_audit_config_load(&a->acc, a->config, 0);
	else
		rc = pdx_audit_config_default(&a->acc);
	if (rc < 0) {
		out_error("audit", "%s", pdx_last_error());
		return -1;
	}
	return 0;
}

/* ---- modes ------------------------------------------------------------ */

static int
emit(struct cmd_ctx *ctx, struct audit_args *a, json_t *doc, const char *array,
    const char *tag, void (*text)(struct cmd_ctx *, json_t *))
{
	json_t *x;
	size_t i;

	if (a->jsonl && array != NULL) {
		json_array_foreach(json_object_get(doc, array), i, x)
		    print_jsonl(ctx, x);
		if (tag != NULL)
			json_array_foreach(json_object_get(doc, tag), i, x)
			{
				json_t *c = json_deep_copy(x);

				json_object_set_new(c, "change",
				    json_string("gone"));
				print_jsonl(ctx, c);
				json_decref(c);
			}
	} else if (ctx->json || a->jsonl)
		out_json(ctx, doc);
	else
		text(ctx, doc);
	return 0;
}

static int
run_diff(struct cmd_ctx *ctx, struct audit_args *a, json_t *doc)
{
	json_t *d, *x;
	size_t i;
	int rc;

	if ((d = pdx_audit_diff(ctx->state, doc)) == NULL) {
		out_error("audit", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (json_is_null(json_object_get(d, "baseline"))) {
		out_error("audit",
		    "no baseline saved in %s (portdex audit "
		    "--save-baseline)",
		    ctx->state_path);
		json_decref(d);
		return EXIT_USAGE;
	}
	json_array_foreach(json_object_get(d, "added"), i, x)
	    json_object_set_new(x, "change", json_string("added"));
	if (a->jsonl)
		emit(ctx, a, d, "added", "gone", print_diff);
	else {
		json_object_set(d, "complete",
		    json_object_get(doc, "complete"));
		json_object_set(d, "incomplete",
		    json_object_get(doc, "incomplete"));
		emit(ctx, a, d, NULL, NULL, print_diff);
		if (!ctx->json)
			print_coverage(ctx, doc);
	}
	rc = json_array_size(json_object_get(d, "added")) > 0 ||
		json_array_size(json_object_get(d, "gone")) > 0
	    ? EXIT_FINDINGS
	    : EXIT_OK;
	json_decref(d);
	return rc;
}

/* The findings as text, streamed: no document is built. */
static int
run_text(struct cmd_ctx *ctx, struct audit_args *a)
{
	struct pdx_audit_summary sum;
	struct text_out t;
	int rc = EXIT_OK;

	memset(&t, 0, sizeof t);
	t.ctx = ctx;
	t.verbose = a->verbose;
	if (pdx_audit_stream(ctx->db, ctx->state, &a->o,
		a->verbose ? 0 : PDX_AUDIT_STREAM_TERSE_INFO, &sum,
		text_finding, &t) != 0) {
		out_error("audit", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	text_summary(&t, &sum);
	if (sum.worst >= a->fail_on)
		rc = EXIT_FINDINGS;
	if (a->require_complete && !sum.complete)
		rc = EXIT_FINDINGS;
	pdx_audit_summary_free(&sum);
	return rc;
}

/*
 * The findings as JSON, JSON lines or CSV, written as the library makes
 * the document (pdx_audit_run_sink): one finding or listener in memory at
 * a time, not the document of them all.
 */
struct doc_out {
	struct cmd_ctx *ctx;
	struct out_doc d;
	int jsonl, in_findings, complete, worst, failed;
	json_t *incomplete; /* JSON lines: said aside at the end */
};

static void
doc_out_member(void *arg, const char *key, json_t *v)
{
	struct doc_out *o = arg;

	if (strcmp(key, "complete") == 0)
		o->complete = json_is_true(v);
	if (!o->jsonl) {
		out_doc_member(&o->d, key, v);
		return;
	}
	if (v == NULL)
		o->failed = 1;
	else if (strcmp(key, "incomplete") == 0 && o->incomplete == NULL)
		o->incomplete = json_incref(v);
	json_decref(v);
}

static void
doc_out_array(void *arg, const char *key)
{
	struct doc_out *o = arg;

	o->in_findings = strcmp(key, "findings") == 0;
	if (!o->jsonl)
		out_doc_array(&o->d, key);
}

static void
doc_out_item(void *arg, json_t *v)
{
	struct doc_out *o = arg;
	int l;

	if (v != NULL && o->in_findings &&
	    !json_is_true(json_object_get(v, "accepted")) &&
	    (l = pdx_level_parse(jstr_or(v, "level", ""))) > o->worst)
		o->worst = l;
	if (!o->jsonl) {
		out_doc_item(&o->d, v);
		return;
	}
	if (v == NULL)
		o->failed = 1;
	else if (o->in_findings)
		print_jsonl(o->ctx, v);
	json_decref(v);
}

static void
doc_out_array_end(void *arg)
{
	struct doc_out *o = arg;

	o->in_findings = 0;
	if (!o->jsonl)
		out_doc_array_end(&o->d);
}

static int
run_doc(struct cmd_ctx *ctx, struct audit_args *a)
{
	struct doc_out o;
	struct pdx_json_sink k = { doc_out_member, doc_out_array, doc_out_item,
		doc_out_array_end, &o };
	json_t *j;
	size_t i;
	int rc = EXIT_OK;

	memset(&o, 0, sizeof o);
	o.ctx = ctx;
	o.jsonl = a->jsonl;
	o.worst = PDX_LEVEL_NONE;
	if (!o.jsonl)
		out_doc_begin(&o.d, ctx);
	if (pdx_audit_run_sink(ctx->db, ctx->state, &a->o, &k) != 0) {
		out_error("audit", "%s", pdx_last_error());
		if (!o.jsonl)
			(void)out_doc_end(&o.d);
		return EXIT_USAGE;
	}
	if (!o.jsonl && out_doc_end(&o.d) != 0) {
		out_error("audit", "%s", o.d.why);
		json_decref(o.incomplete);
		return EXIT_USAGE;
	}
	if (o.failed) {
		out_error("audit", "out of memory");
		json_decref(o.incomplete);
		return EXIT_USAGE;
	}
	/* JSON lines carry findings only: say what was not seen aside. */
	json_array_foreach(o.incomplete, i, j)
	    out_error("audit", "INCOMPLETE: %s", json_string_value(j));
	json_decref(o.incomplete);
	if (o.worst >= a->fail_on)
		rc = EXIT_FINDINGS;
	if (a->require_complete && !o.complete)
		rc = EXIT_FINDINGS;
	return rc;
}

static int
audit_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	struct audit_args a;
	json_t *doc = NULL, *j;
	int rc = EXIT_OK, n;

	memset(&a, 0, sizeof a);
	a.fail_on = PDX_LEVEL_HIGH;
	a.o.record = 1;
	if (parse_args(&a, args) < 0) {
		pdx_audit_accepts_free(&a.acc);
		return cmd_usage(&cmd_audit_entry);
	}
	switch (a.mode) {
	case M_RULES:
		j = pdx_audit_rules();
		emit(ctx, &a, j, NULL, NULL, print_rules);
		json_decref(j);
		goto done;
	case M_HISTORY:
		if ((j = pdx_audit_history(ctx->state,
			 a.have_ports ? &a.ps : NULL)) == NULL) {
			out_error("audit", "%s", pdx_last_error());
			rc = EXIT_USAGE;
			goto done;
		}
		emit(ctx, &a, j, "listeners", NULL, print_history);
		json_decref(j);
		goto done;
	default:
		break;
	}
	if (load_config(&a) < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (ctx->db == NULL && !ctx->quiet)
		fprintf(stderr,
		    "portdex: audit: no registry at %s: the rules "
		    "about ports cannot run (portdex update)\n",
		    ctx->db_path);
	a.o.accepts = &a.acc;
	if (a.mode == M_FINDINGS) {
		rc = !ctx->json && !a.jsonl ? run_text(ctx, &a)
					    : run_doc(ctx, &a);
		goto done;
	}
	/* --save-baseline and --diff read the listeners, never the findings */
	a.o.no_findings = 1;
	if ((doc = pdx_audit_run(ctx->db, ctx->state, &a.o)) == NULL) {
		out_error("audit", "%s", pdx_last_error());
		rc = EXIT_USAGE;
		goto done;
	}
	switch (a.mode) {
	case M_SAVE:
		if ((n = pdx_audit_save_baseline(ctx->state, doc)) < 0) {
			out_error("audit", "%s", pdx_last_error());
			rc = EXIT_USAGE;
			goto done;
		}
		/* the run said "no baseline saved": it is, now */
		{
			json_t *notes = json_object_get(doc, "notes");
			size_t k = json_array_size(notes);

			while (k-- > 0)
				if (json_string_value(
					json_array_get(notes, k)) != NULL &&
				    strncmp(json_string_value(
						json_array_get(notes, k)),
					"no baseline saved", 17) == 0)
					json_array_remove(notes, k);
		}
		if (ctx->json || a.jsonl) {
			j = json_pack("{s:i, s:O, s:O, s:O, s:O}", "saved", n,
			    "time", json_object_get(doc, "time"), "scope",
			    json_object_get(doc, "scope"), "complete",
			    json_object_get(doc, "complete"), "incomplete",
			    json_object_get(doc, "incomplete"));
			out_json(ctx, j);
			json_decref(j);
		} else {
			fprintf(ctx->out,
			    "baseline saved: %d listeners (ports "
			    "%s, %s) at %s\n",
			    n,
			    jstr_or(json_object_get(doc, "scope"), "ports",
				"?"),
			    jstr_or(json_object_get(doc, "scope"), "transports",
				"?"),
			    jstr_or(doc, "time", "?"));
			print_coverage(ctx, doc);
		}
		goto done;
	case M_DIFF:
		rc = run_diff(ctx, &a, doc);
		goto done;
	default:
		break;
	}
done:
	/* a damaged brief file: the registry answered; say so once */
	if (pdx_db_brief_note(ctx->db) != NULL && !ctx->quiet)
		fprintf(stderr, "portdex: audit: %s\n",
		    pdx_db_brief_note(ctx->db));
	json_decref(doc);
	pdx_audit_accepts_free(&a.acc);
	return rc;
}
