/*
 * args.c - the one command-line parser: every command declares its
 * options in a table (struct cmd_opt, grouped so that options several
 * commands take are declared once), main() parses the command line from
 * it before the command runs (getopt_long underneath, so the messages,
 * the permutation and the long-option prefixes are getopt's), and
 * `--help` and `portdex --dump-options` print the same table.  The option
 * groups shared by ls, watch and audit, and what the socket filters set,
 * are here too.
 */
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "portdex/firewall.h"

/* ---- the shared groups ------------------------------------------------ */

static const struct cmd_opt proto_opts[] = {
	{ "tcp", 't', OPT_FLAG, 't', NULL,
	    "  -t, --tcp / -u, --udp / -S, --sctp   only these transports\n",
	    0 },
	{ "udp", 'u', OPT_FLAG, 'u', NULL, NULL, 0 },
	{ "sctp", 'S', OPT_FLAG, 'S', NULL, NULL, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
const struct cmd_optgroup optg_proto = { "proto", 0, proto_opts };

static const struct cmd_opt socket_opts[] = {
	{ "ipv4", '4', OPT_FLAG, '4', NULL,
	    "  -4, --ipv4 / -6, --ipv6   only this address family\n", 0 },
	{ "ipv6", '6', OPT_FLAG, '6', NULL, NULL, 0 },
	{ "ports", 'p', OPT_PORTS, 'p', "PORTS",
	    "  -p, --ports PORTS     only these ports (22,80,8000-8100)\n", 0 },
	{ "pid", 0, OPT_INT, OPT_SK_PID, "N",
	    "  --pid N               only sockets of this process\n", 0 },
	{ "user", 0, OPT_STR, OPT_SK_USER, "NAME|UID",
	    "  --user NAME|UID       only sockets of this user\n", 0 },
	{ "process", 0, OPT_STR, OPT_SK_PROCESS, "NAME",
	    "  --process NAME        only sockets of processes with this "
	    "name\n",
	    0 },
	{ "no-pids", 0, OPT_FLAG, OPT_SK_NO_PIDS, NULL,
	    "  --no-pids             skip the process walk (faster, no PID "
	    "column)\n",
	    0 },
	{ "netns", 0, OPT_STR, OPT_SK_NETNS, "NAME",
	    "  --netns NAME          inside this network namespace\n", 0 },
	{ "all-netns", 0, OPT_FLAG, OPT_SK_ALL_NETNS, NULL,
	    "  --all-netns           the current and every named network "
	    "namespace\n",
	    0 },
	{ "proc", 0, OPT_FLAG, OPT_SK_PROC, NULL,
	    "  --proc                read /proc/net instead of netlink\n", 0 },
	{ "reach", 0, OPT_STR, OPT_SK_REACH, "VERDICT",
	    "  --reach VERDICT       only these firewall verdicts (loopback, "
	    "filtered,\n"
	    "                        restricted, open, unknown; "
	    "comma-separated)\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
const struct cmd_optgroup optg_sockets = { "sockets", 0, socket_opts };

static const struct cmd_opt metrics_opts[] = {
	{ "format", 0, OPT_ENUM, OPT_MX_FORMAT, "prometheus",
	    "  --format prometheus   the metrics of serve's /metrics instead\n",
	    0 },
	{ "textfile", 0, OPT_DIR, OPT_MX_TEXTFILE, "DIR",
	    "  --textfile DIR        with --format prometheus: write them to\n"
	    "                        DIR/portdex.prom for node_exporter\n",
	    0 },
	{ "metrics-max-ports", 0, OPT_INT, OPT_MX_MAX_PORTS, "N",
	    "  --metrics-max-ports N ports with series of their own (default "
	    "500)\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
const struct cmd_optgroup optg_metrics = { "metrics", OPTG_METRICS,
	metrics_opts };

/* ---- the parser --------------------------------------------------------- */

#define OPT_END(o) ((o)->name == NULL && (o)->short_name == 0)

static int
wanted(const struct cmd_optgroup *g, unsigned how)
{
	return ((g->flags & OPTG_METRICS) != 0) == ((how & ARGS_METRICS) != 0);
}

/*
 * One getopt_long pass over a->buf, quiet unless opterr is set: with
 * record, each option into a->opt.  0 at the end, or the error (':' a
 * value missing, '?' anything else; a->err_word the word).
 */
static int
pass(struct cmd_args *a, int argc, const char *optstr, const struct option *lo,
    const struct cmd_opt **byval, size_t nopts, int record)
{
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, a->buf, optstr, lo, NULL)) != -1) {
		const struct cmd_opt *hit = NULL;
		size_t i;

		if (ch == '?' || ch == ':') {
			a->err_word = a->buf[optind - 1];
			return ch;
		}
		if (ch >= 256)
			hit = byval[ch - 256];
		else
			for (i = 0; i < nopts && hit == NULL; i++)
				if (byval[i]->short_name == ch)
					hit = byval[i];
		if (hit == NULL)
			return '?';
		if (record) {
			a->opt[a->nopt].id = hit->id;
			a->opt[a->nopt].val = hit->kind != OPT_FLAG ? optarg
								    : NULL;
		}
		if ((hit->flags & OPTF_NEXT) && optind < argc) {
			if (record)
				a->opt[a->nopt].next = a->buf[optind];
			optind++;
		}
		if (record)
			a->nopt++;
	}
	return 0;
}

/*
 * getopt's own message about the first bad word, kept for args_done: the
 * same pass again with opterr set and standard error a pipe.  NULL when
 * the pipe cannot be had (the message is then said at once).
 */
static char *
getopt_message(struct cmd_args *a, char **argv, const char *optstr,
    const struct option *lo, const struct cmd_opt **byval, size_t nopts)
{
	char *msg = NULL;
	size_t len = 0;
	ssize_t r;
	int p[2], saved = -1, argc = a->raw_argc;

	memcpy(a->buf, argv, (size_t)argc * sizeof *argv);
	fflush(stderr);
	if (pipe(p) != 0)
		p[0] = p[1] = -1;
	else if ((saved = dup(STDERR_FILENO)) < 0 ||
	    dup2(p[1], STDERR_FILENO) < 0) {
		if (saved >= 0)
			close(saved);
		saved = -1;
		close(p[0]);
		close(p[1]);
		p[0] = p[1] = -1;
	}
	opterr = 1;
	(void)pass(a, argc, optstr, lo, byval, nopts, 0);
	opterr = 0;
	if (saved < 0)
		return NULL;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	/* a line or two: far below the pipe's buffer */
	if ((msg = malloc(4096)) != NULL)
		while (
		    len < 4095 && (r = read(p[0], msg + len, 4095 - len)) > 0)
			len += (size_t)r;
	close(p[0]);
	if (msg != NULL)
		msg[len] = '\0';
	return msg;
}

int
args_parse(const struct cmd_entry *c, unsigned how, int argc, char **argv,
    struct cmd_args *a)
{
	const struct cmd_optgroup *const *g;
	const struct cmd_opt *o, **byval = NULL;
	struct option *lo = NULL;
	char *optstr = NULL;
	size_t nopts = 0, nl = 0, ns = 0;
	int ch, rc = -1;

	memset(a, 0, sizeof *a);
	a->raw_argc = argc;
	a->raw_argv = argv;
	/* getopt permutes its argv: the command's raw_argv stays as given */
	if ((a->buf = calloc((size_t)argc + 1, sizeof *a->buf)) == NULL) {
		out_error(c->name, "out of memory");
		return -1;
	}
	memcpy(a->buf, argv, (size_t)argc * sizeof *argv);
	if (c->groups == NULL) { /* every word is an operand */
		a->argv = a->buf + 1;
		a->argc = argc - 1;
		return 0;
	}
	for (g = c->groups; *g != NULL; g++)
		for (o = (*g)->opts; !OPT_END(o); o++)
			nopts++;
	lo = calloc(nopts + 1, sizeof *lo);
	byval = calloc(nopts + 1, sizeof *byval);
	optstr = calloc(nopts * 2 + 3, 1);
	a->opt = calloc((size_t)argc + 1, sizeof *a->opt);
	if (lo == NULL || byval == NULL || optstr == NULL || a->opt == NULL) {
		out_error(c->name, "out of memory");
		goto out;
	}
	if ((c->flags & CMD_INORDER) || (how & ARGS_METRICS))
		optstr[ns++] = '+';
	if (how & ARGS_QUIET)
		optstr[ns++] = ':';
	nopts = 0;
	for (g = c->groups; *g != NULL; g++) {
		if (!wanted(*g, how))
			continue;
		for (o = (*g)->opts; !OPT_END(o); o++) {
			int val = o->short_name != 0 ? o->short_name
						     : 256 + (int)nopts;

			byval[nopts++] = o;
			if (o->short_name != 0) {
				optstr[ns++] = (char)o->short_name;
				if (o->kind != OPT_FLAG)
					optstr[ns++] = ':';
			}
			if (o->name != NULL) {
				lo[nl].name = o->name;
				lo[nl].has_arg = o->kind != OPT_FLAG
				    ? required_argument
				    : no_argument;
				lo[nl].val = val;
				nl++;
			}
		}
	}
	/*
	 * Quietly first: getopt's message about a bad word waits until the
	 * command has taken the options before it (args_done), so a bad
	 * value before a bad option is still the one said, as when each
	 * command ran getopt itself.
	 */
	opterr = 0;
	if ((ch = pass(a, argc, optstr, lo, byval, nopts, 1)) != 0) {
		a->err = ch;
		if (!(how & ARGS_QUIET))
			a->err_msg = getopt_message(a, argv, optstr, lo, byval,
			    nopts);
		a->argv = a->buf + argc;
		goto out;
	}
	a->argv = a->buf + optind;
	a->argc = argc - optind;
	rc = 0;
out:
	free(lo);
	free(byval);
	free(optstr);
	opterr = 1;
	return rc;
}

void
args_free(struct cmd_args *a)
{
	free(a->err_msg);
	free(a->opt);
	free(a->buf);
	memset(a, 0, sizeof *a);
}

int
args_done(const struct cmd_entry *c, const struct cmd_args *a)
{
	if (a->err != 0) {
		if (a->err_msg != NULL)
			fputs(a->err_msg, stderr);
		return -1;
	}
	if (a->argc < c->min_operands) {
		if (c->too_few != NULL)
			out_error(c->name, "%s", c->too_few);
		return -1;
	}
	if (c->max_operands >= 0 && a->argc > c->max_operands) {
		const char *m = c->too_many, *w = a->argv[c->max_operands];
		const char *at = m != NULL ? strstr(m, "%s") : NULL;

		if (m == NULL)
			out_error(c->name, "unexpected operand '%s'", w);
		else if (at != NULL)
			out_error(c->name, "%.*s%s%s", (int)(at - m), m, w,
			    at + 2);
		else if (*m != '\0')
			out_error(c->name, "%s", m);
		return -1;
	}
	return 0;
}

void
args_help(FILE *f, const struct cmd_entry *c)
{
	const struct cmd_optgroup *const *g;
	const struct cmd_opt *o;

	if (c->operands != NULL)
		fputs(c->operands, f);
	for (g = c->groups; g != NULL && *g != NULL; g++)
		for (o = (*g)->opts; !OPT_END(o); o++)
			if (o->help != NULL)
				fputs(o->help, f);
}

void
args_dump(FILE *f, const char *cmd, const struct cmd_entry *c)
{
	const struct cmd_optgroup *const *g;
	const struct cmd_opt *o;
	int format = 0;

	for (g = c->groups; g != NULL && *g != NULL; g++)
		for (o = (*g)->opts; !OPT_END(o); o++) {
			char s[3] = "-";

			if (o->short_name != 0)
				snprintf(s, sizeof s, "-%c", o->short_name);
			fprintf(f, "%s\t%s\t%s%s\t%s\tcommand\n", cmd, s,
			    o->name != NULL ? "--" : "-",
			    o->name != NULL ? o->name : "",
			    o->kind == OPT_FLAG ? "-" : o->meta);
			if (o->name != NULL && strcmp(o->name, "format") == 0)
				format = 1;
		}
	/* the --format main() takes for the command (output.c) */
	if (!format && out_formats(cmd) != 0)
		fprintf(f, "%s\t-\t--format\tFMT\tmain\n", cmd);
}

/* ---- the socket filters of ls and watch -------------------------------- */

void
sock_opts_init(struct sock_opts *o)
{
	memset(o, 0, sizeof *o);
	pdx_sock_filter_init(&o->f);
	o->pids = 1;
}

static int
parse_user(const char *cmd, const char *s, long *uid)
{
	struct passwd *pw;
	long long v;

	if (s[0] >= '0' && s[0] <= '9') {
		if (pdx_parse_number(s, 0, 4294967294LL, "uid", &v) < 0) {
			out_error(cmd, "%s", pdx_last_error());
			return -1;
		}
		*uid = (long)v;
		return 0;
	}
	if ((pw = getpwnam(s)) == NULL) {
		out_error(cmd, "unknown user '%s'", s);
		return -1;
	}
	*uid = (long)pw->pw_uid;
	return 0;
}

static int
parse_reach(struct sock_opts *o, const char *cmd, const char *arg)
{
	char *dup = strdup(arg), *tok, *save = NULL;
	int r;

	if (dup == NULL)
		return -1;
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((r = pdx_reach_parse(tok)) < 0) {
			out_error(cmd, "--reach: %s", pdx_last_error());
			free(dup);
			return -1;
		}
		o->reach |= 1u << r;
	}
	free(dup);
	if (o->reach == 0) {
		out_error(cmd, "--reach needs a verdict");
		return -1;
	}
	return 0;
}

int
sock_opts_take(struct sock_opts *o, const char *cmd, const struct cmd_arg *a)
{
	long long v;

	switch (a->id) {
	case 't':
		o->protos |= PDX_TCP;
		break;
	case 'u':
		o->protos |= PDX_UDP;
		break;
	case 'S':
		o->protos |= PDX_SCTP;
		break;
	case '4':
		o->fams |= PDX_FAM_INET4;
		break;
	case '6':
		o->fams |= PDX_FAM_INET6;
		break;
	case 'p':
		if (pdx_portset_parse(&o->ports, a->val) < 0) {
			out_error(cmd, "-p: %s", pdx_last_error());
			return -1;
		}
		o->f.ports = &o->ports;
		break;
	case OPT_SK_PID:
		if (pdx_parse_number(a->val, 1, INT_MAX, "pid", &v) < 0) {
			out_error(cmd, "--pid: %s", pdx_last_error());
			return -1;
		}
		o->f.pid = (pid_t)v;
		break;
	case OPT_SK_USER:
		return parse_user(cmd, a->val, &o->f.uid) < 0 ? -1 : 1;
	case OPT_SK_PROCESS:
		if (*a->val == '\0') {
			out_error(cmd, "--process needs a name");
			return -1;
		}
		o->f.process = a->val;
		break;
	case OPT_SK_NO_PIDS:
		o->pids = 0;
		break;
	case OPT_SK_NETNS:
		o->f.netns = a->val;
		break;
	case OPT_SK_ALL_NETNS:
		o->all_netns = 1;
		break;
	case OPT_SK_PROC:
		o->f.backend = PDX_BACKEND_PROC;
		break;
	case OPT_SK_REACH:
		return parse_reach(o, cmd, a->val) < 0 ? -1 : 1;
	default:
		return 0;
	}
	return 1;
}

int
sock_opts_finish(struct sock_opts *o, const char *cmd)
{
	if (!o->pids && (o->f.pid != 0 || o->f.process != NULL)) {
		out_error(cmd,
		    "--pid and --process need the process lookup "
		    "that --no-pids turns off");
		return -1;
	}
	if (o->all_netns && o->f.netns != NULL) {
		out_error(cmd, "--netns and --all-netns exclude each other");
		return -1;
	}
	if (o->protos != 0)
		o->f.protos = o->protos;
	if (o->fams != 0)
		o->f.families = o->fams;
	return 0;
}
