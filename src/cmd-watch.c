/*
 * cmd-watch.c - `portdex watch`: follows this machine's listeners and
 * prints one event when a socket appears or goes away (text, or one JSON
 * object a line with --jsonl), optionally running a command per event
 * with the event in its environment.  The loop is here: list the
 * sockets once per interval (namespaces listed afresh each time with
 * --all-netns), hand the listing to lib/watch.c, which reports the
 * differences, sleep, stop on SIGTERM/SIGINT, --count or --duration.
 * The filters are those of `ls`, declared and parsed once (src/args.c).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "portdex/firewall.h"
#include "portdex/sockets.h"
#include "portdex/watch.h"

static int watch_exec(struct cmd_ctx *, const struct cmd_args *);

enum {
	OPT_INTERVAL = 256,
	OPT_COUNT,
	OPT_DURATION,
	OPT_JSONL,
	OPT_EXEC,
};

static const struct cmd_opt watch_opts[] = {
	{ "interval", 0, OPT_STR, OPT_INTERVAL, "S",
	    "  --interval S          seconds between listings (default 1; "
	    "0.05-3600)\n",
	    0 },
	{ "count", 0, OPT_INT, OPT_COUNT, "N",
	    "  --count N             stop after N events\n", 0 },
	{ "duration", 0, OPT_STR, OPT_DURATION, "S",
	    "  --duration S          stop after S seconds\n", 0 },
	{ "jsonl", 0, OPT_FLAG, OPT_JSONL, NULL,
	    "  --jsonl               one JSON object per event and line\n", 0 },
	{ "exec", 0, OPT_STR, OPT_EXEC, "CMD",
	    "  --exec CMD            run CMD with /bin/sh -c per event "
	    "(PORTDEX_* set)\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup watch_group = { "watch", 0, watch_opts };
static const struct cmd_optgroup *const watch_groups[] = {
	&optg_proto,
	&optg_sockets,
	&watch_group,
	NULL,
};

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.usage =
	    "[-t] [-u] [-S] [-4|-6] [-p PORTS] [--pid N] "
	    "[--user NAME|UID] [--process NAME] [--no-pids] "
	    "[--netns NAME | --all-netns] [--proc] [--reach VERDICT[,...]] "
	    "[--interval S] [--count N] [--duration S] [--jsonl] [--exec CMD]",
	.summary = "print an event when a listener appears or goes away",
	.flags = CMD_OPT_STATE, /* the brief file is opened here, as ls does */
	.exec = watch_exec,
	.groups = watch_groups,
	.min_operands = 0,
	.max_operands = 0,
};

struct watch_opts {
	struct sock_opts s; /* the socket filters (args.c) */
	int jsonl;
	double interval; /* seconds */
	double duration; /* 0: no limit */
	long long count; /* 0: no limit */
	const char *exec;
};

struct watch_run {
	struct cmd_ctx *ctx;
	struct watch_opts *o;
	long long events;
	char now[40];	  /* this interval's time */
	json_t *csv_cols; /* --format csv's header */
	/* --reach: this interval's rulesets, read when an event needs one */
	struct {
		char *netns; /* NULL: the current one */
		struct pdx_ruleset *rs;
	} * fw;
	size_t nfw;
};

/* --format csv: an event's members, objects spread (docs/json.md). */
static const char *const csv_columns[] = {
	"time",
	"event",
	"proto",
	"family",
	"state",
	"local.address",
	"local.port",
	"remote.address",
	"remote.port",
	"all_interfaces",
	"v6only",
	"serves_ipv4",
	"uid",
	"user",
	"inode",
	"netns",
	"pid",
	"process",
	"cmdline",
	"unit",
	"container",
	"other_holders",
	"service.name",
	"service.status",
	"service.risk",
	NULL,
};

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/* ---- options ---------------------------------------------------------- */

/* Seconds as a decimal ("0.2", "5"), in lo..hi. */
static int
parse_seconds(const char *what, const char *s, double lo, double hi,
    double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v < lo || v > hi) {
		out_error("watch", "%s takes seconds from %g to %g, not '%s'",
		    what, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_opts(struct watch_opts *o, const struct cmd_args *a)
{
	const char *arg;
	int i, r;

	memset(o, 0, sizeof *o);
	sock_opts_init(&o->s);
	o->interval = 1.0;
	for (i = 0; i < a->nopt; i++) {
		if ((r = sock_opts_take(&o->s, "watch", &a->opt[i])) < 0)
			return -1;
		if (r > 0)
			continue;
		arg = a->opt[i].val;
		switch (a->opt[i].id) {
		case OPT_INTERVAL:
			if (parse_seconds("--interval", arg, 0.05, 3600,
				&o->interval) < 0)
				return -1;
			break;
		case OPT_DURATION:
			if (parse_seconds("--duration", arg, 0.001, 31536000,
				&o->duration) < 0)
				return -1;
			break;
		case OPT_COUNT:
			if (pdx_parse_number(arg, 1, LLONG_MAX / 2, "count",
				&o->count) < 0) {
				out_error("watch", "--count: %s",
				    pdx_last_error());
				return -1;
			}
			break;
		case OPT_JSONL:
			o->jsonl = 1;
			break;
		case OPT_EXEC:
			if (*arg == '\0') {
				out_error("watch", "--exec needs a command");
				return -1;
			}
			o->exec = arg;
			break;
		}
	}
	if (args_done(&cmd_watch_entry, a) != 0)
		return -1;
	return sock_opts_finish(&o->s, "watch");
}

/* ---- listing ---------------------------------------------------------- */

/*
 * This interval's sockets: the current namespace (or --netns), then with
 * --all-netns each named namespace that exists now.  A namespace removed
 * between its listing and its entering is simply absent (its sockets are
 * reported gone); one that is there but cannot be entered is said once.
 */
/*
 * Namespaces that could not be entered in the last interval.  One being
 * made or removed fails for a moment (the file is there before its mount,
 * or after it): only a namespace that fails twice in a row is said.
 */
static char **ns_failed;
static size_t ns_nfailed;

static int
ns_failed_before(const char *name)
{
	size_t i;

	for (i = 0; i < ns_nfailed; i++)
		if (strcmp(ns_failed[i], name) == 0)
			return 1;
	return 0;
}

static void
ns_forget(void)
{
	size_t i;

	for (i = 0; i < ns_nfailed; i++)
		free(ns_failed[i]);
	free(ns_failed);
	ns_failed = NULL;
	ns_nfailed = 0;
}

static int
list_now(struct watch_opts *o, struct pdx_socket **v, size_t *n, int quiet)
{
	static int warned;
	struct pdx_socket *b;
	char **names, path[512], **failed = NULL, **nf;
	size_t nnames, bn, i, nfailed = 0;

	*v = NULL;
	*n = 0;
	if (pdx_sockets_list(&o->s.f, v, n, NULL) < 0) {
		out_error("watch", "%s", pdx_last_error());
		return -1;
	}
	if (!o->s.all_netns)
		return 0;
	if (pdx_netns_list(&names, &nnames) < 0) {
		out_error("watch", "%s", pdx_last_error());
		return -1;
	}
	for (i = 0; i < nnames; i++) {
		o->s.f.netns = names[i];
		if (pdx_sockets_list(&o->s.f, &b, &bn, NULL) < 0) {
			snprintf(path, sizeof path, "/var/run/netns/%s",
			    names[i]);
			if (access(path, F_OK) == 0 && !warned && !quiet &&
			    ns_failed_before(names[i])) {
				out_error("watch", "%s (namespace skipped)",
				    pdx_last_error());
				warned = 1;
			}
			/* names[i] moves to the failed list. */
			if ((nf = realloc(failed,
				 (nfailed + 1) * sizeof *failed)) != NULL) {
				failed = nf;
				failed[nfailed++] = names[i];
				names[i] = NULL;
			}
			continue;
		}
		if (pdx_sockets_append(v, n, b, bn) < 0) {
			out_error("watch", "out of memory");
			o->s.f.netns = NULL;
			pdx_netns_list_free(names, nnames);
			while (nfailed > 0)
				free(failed[--nfailed]);
			free(failed);
			return -1;
		}
	}
	o->s.f.netns = NULL;
	pdx_netns_list_free(names, nnames);
	ns_forget();
	ns_failed = failed;
	ns_nfailed = nfailed;
	return 0;
}

/* ---- events ----------------------------------------------------------- */

static void
stamp(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	size_t l;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	l = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + l, n - l, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The event's environment for --exec: name, value pairs. */
static void
exec_event(struct watch_run *r, json_t *ev)
{
	json_t *local = json_object_get(ev, "local");
	json_t *svc = json_object_get(ev, "service");
	char port[16], pid[16];
	pid_t child;
	int st;
	const char *env[][2] = {
		{ "PORTDEX_EVENT", out_str(ev, "event") },
		{ "PORTDEX_TIME", out_str(ev, "time") },
		{ "PORTDEX_PROTO", out_str(ev, "proto") },
		{ "PORTDEX_FAMILY", out_str(ev, "family") },
		{ "PORTDEX_ADDR", out_str(local, "address") },
		{ "PORTDEX_PORT", port },
		{ "PORTDEX_STATE", out_str(ev, "state") },
		{ "PORTDEX_PID", pid },
		{ "PORTDEX_PROCESS", out_str(ev, "process") },
		{ "PORTDEX_CMDLINE", out_str(ev, "cmdline") },
		{ "PORTDEX_USER", out_str(ev, "user") },
		{ "PORTDEX_UNIT", out_str(ev, "unit") },
		{ "PORTDEX_CONTAINER", out_str(ev, "container") },
		{ "PORTDEX_NETNS", out_str(ev, "netns") },
		{ "PORTDEX_SERVICE", out_str(svc, "name") },
		{ "PORTDEX_STATUS", out_str(svc, "status") },
		{ "PORTDEX_RISK", out_str(svc, "risk") },
	};
	size_t i;

	snprintf(port, sizeof port, "%lld",
	    (long long)json_integer_value(json_object_get(local, "port")));
	if (json_is_integer(json_object_get(ev, "pid")))
		snprintf(pid, sizeof pid, "%lld",
		    (long long)json_integer_value(json_object_get(ev, "pid")));
	else
		pid[0] = '\0';
	fflush(NULL);
	if ((child = fork()) < 0) {
		out_error("watch", "--exec: fork: %s", strerror(errno));
		return;
	}
	if (child == 0) {
		/* Event data reaches the command only as environment. */
		for (i = 0; i < sizeof env / sizeof *env; i++)
			setenv(env[i][0], env[i][1], 1);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execl("/bin/sh", "sh", "-c", r->o->exec, (char *)NULL);
		_exit(127);
	}
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
}

static void
print_text(struct watch_run *r, json_t *ev)
{
	struct cmd_ctx *ctx = r->ctx;
	json_t *local = json_object_get(ev, "local");
	json_t *svc = json_object_get(ev, "service");
	const char *addr = out_str(local, "address");
	const char *risk = out_str(svc, "risk");
	const char *e = out_str(ev, "event");
	char where[96], pid[16];

	snprintf(where, sizeof where,
	    strchr(addr, ':') != NULL ? "[%s]:%lld" : "%s:%lld", addr,
	    (long long)json_integer_value(json_object_get(local, "port")));
	if (json_is_integer(json_object_get(ev, "pid")))
		snprintf(pid, sizeof pid, "%lld",
		    (long long)json_integer_value(json_object_get(ev, "pid")));
	else
		snprintf(pid, sizeof pid, "-");
	fprintf(ctx->out,
	    "%s %s%-8s%s %-4s %-24s pid %-7s %-15s user %-10s "
	    "unit %s%s%s  %s %s risk %s%s%s\n",
	    out_str(ev, "time"),
	    out_sgr(ctx, strcmp(e, "appeared") == 0 ? "bold" : "dim"), e,
	    out_reset(ctx), out_str(ev, "proto"), where, pid,
	    *out_str(ev, "process") ? out_str(ev, "process") : "-",
	    *out_str(ev, "user") ? out_str(ev, "user") : "-",
	    *out_str(ev, "unit") ? out_str(ev, "unit") : "-",
	    *out_str(ev, "netns") ? " netns " : "", out_str(ev, "netns"),
	    *out_str(svc, "name") ? out_str(svc, "name") : "-",
	    *out_str(svc, "status") ? out_str(svc, "status") : "-",
	    out_sgr(ctx, risk), *risk ? risk : "-", out_reset(ctx));
}

/* The ruleset of s's namespace, read once an interval; NULL: none. */
static struct pdx_ruleset *
fw_get(struct watch_run *r, const char *netns)
{
	void *nv;
	size_t i;

	for (i = 0; i < r->nfw; i++)
		if ((netns == NULL) == (r->fw[i].netns == NULL) &&
		    (netns == NULL || strcmp(netns, r->fw[i].netns) == 0))
			return r->fw[i].rs;
	if ((nv = realloc(r->fw, (r->nfw + 1) * sizeof *r->fw)) == NULL)
		return NULL;
	r->fw = nv;
	r->fw[r->nfw].netns = netns != NULL ? strdup(netns) : NULL;
	r->fw[r->nfw].rs = pdx_ruleset_read(netns);
	return r->fw[r->nfw++].rs;
}

static void
fw_forget(struct watch_run *r)
{
	size_t i;

	for (i = 0; i < r->nfw; i++) {
		free(r->fw[i].netns);
		pdx_ruleset_free(r->fw[i].rs);
	}
	free(r->fw);
	r->fw = NULL;
	r->nfw = 0;
}

/*
 * --reach, as ls judges: a listening (or bound UDP) socket's verdict, or a
 * dual-stack socket's IPv4 one, is among those asked for; the ruleset is
 * the one at the time of the event.
 */
static int
reach_pass(struct watch_run *r, const struct pdx_socket *s)
{
	struct pdx_verdict v, v4;

	if (r->o->s.reach == 0)
		return 1;
	if (s->state != PDX_SS_LISTEN &&
	    !(s->proto == PDX_UDP && s->state == PDX_SS_CLOSE))
		return 0;
	/* loopback needs no ruleset */
	pdx_firewall_judge(NULL, s->family, s->proto, s->laddr, s->lport,
	    s->v6only, &v, &v4);
	if (v.reach != PDX_REACH_LOOPBACK)
		pdx_firewall_judge(fw_get(r, s->netns), s->family, s->proto,
		    s->laddr, s->lport, s->v6only, &v, &v4);
	return (r->o->s.reach & (1u << v.reach)) != 0 ||
	    (v4.reach != PDX_REACH_NONE &&
		(r->o->s.reach & (1u << v4.reach)) != 0);
}

static int
on_event(int event, const struct pdx_socket *s, void *arg)
{
	struct watch_run *r = arg;
	struct cmd_ctx *ctx = r->ctx;
	json_t *sock, *ev;

	if (!reach_pass(r, s))
		return stop_signal != 0;
	sock = pdx_socket_json(s, ctx->db);
	ev = json_pack("{s:s, s:s}", "time", r->now, "event",
	    pdx_watch_event_name(event));

	if (sock == NULL || ev == NULL || json_object_update(ev, sock) != 0) {
		json_decref(sock);
		json_decref(ev);
		out_error("watch", "out of memory");
		return 1;
	}
	json_decref(sock);
	if (ctx->format == OUT_CSV)
		out_csv_stream(ctx, &r->csv_cols, csv_columns, NULL, ev);
	else if (r->o->jsonl) {
		json_dumpf(ev, ctx->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', ctx->out);
	} else
		print_text(r, ev);
	fflush(ctx->out);
	if (r->o->exec != NULL)
		exec_event(r, ev);
	json_decref(ev);
	r->events++;
	return stop_signal != 0 ||
	    (r->o->count > 0 && r->events >= r->o->count);
}

/* ---- the loop --------------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps s seconds unless a signal comes first. */
static void
nap(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL); /* EINTR: stop_signal says why */
}

static int
watch_exec(struct cmd_ctx *ctx, const struct cmd_args *a)
{
	struct watch_opts o;
	struct watch_run r;
	struct pdx_watch *w;
	struct pdx_socket *v;
	struct sigaction sa;
	double start, next;
	size_t n;
	int rc = EXIT_OK;

	if (parse_opts(&o, a) < 0)
		return cmd_usage(&cmd_watch_entry);
	memset(&r, 0, sizeof r);
	r.ctx = ctx;
	r.o = &o;
	if (ctx->json)
		o.jsonl = 1;
	/* Each event's service word comes from the brief file, as in ls. */
	if (ctx->db == NULL)
		ctx->db = pdx_db_open_brief(ctx->db_path);
	if ((w = pdx_watch_new(&o.s.f, o.s.pids)) == NULL) {
		out_error("watch", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	start = next = mono();
	while (!stop_signal) {
		if (list_now(&o, &v, &n, ctx->quiet) < 0) {
			rc = EXIT_USAGE;
			break;
		}
		stamp(r.now, sizeof r.now);
		if (pdx_watch_step(w, v, n, on_event, &r) < 0) {
			out_error("watch", "%s", pdx_last_error());
			rc = EXIT_USAGE;
			break;
		}
		fw_forget(&r);
		if (o.count > 0 && r.events >= o.count)
			break;
		if (o.duration > 0 && mono() - start >= o.duration)
			break;
		/* A fixed cadence: a slow listing does not drift it. */
		next += o.interval;
		if (next < mono())
			next = mono();
		if (o.duration > 0 && next > start + o.duration)
			next = start + o.duration;
		nap(next - mono());
	}
	fflush(ctx->out);
	pdx_watch_free(w);
	json_decref(r.csv_cols);
	fw_forget(&r);
	ns_forget();
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	return rc;
}
