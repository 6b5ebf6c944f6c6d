/*
 * cmd-ls.c - `portdex ls`: the sockets of this machine (listening TCP and
 * bound UDP unless -a), filtered by the options, each annotated with what
 * the registry says of its port, printed as aligned columns or JSON, with
 * a footer saying which sockets could not be tied to a process and why.
 * Listing, attribution and the JSON form of a socket are the library's
 * (lib/sockets*.c, lib/procwalk.c); this file only chooses and presents.
 */
#include <sys/socket.h>

#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int	ls_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_ls_entry = {
	"ls", NULL,
	"[-a] [-t] [-u] [-S] [-4|-6] [-p PORTS] [--pid N] [--user NAME|UID] "
	"[--process NAME] [-n] [--no-pids] [--netns NAME | --all-netns] "
	"[--proc]",
	"sockets on this machine (listening unless -a), annotated; "
	"exit 1 when none matches",
	CMD_OPT_STATE,	/* ls opens the registry itself (pdx_db_open_brief) */
	ls_exec,
	"  -a, --all             every socket, not only listeners\n"
	"  -t, --tcp / -u, --udp / -S, --sctp   only these transports\n"
	"  -4, --ipv4 / -6, --ipv6   only this address family\n"
	"  -p, --ports PORTS     only these ports (22,80,8000-8100)\n"
	"  -n, --numeric         no service names\n"
	"  --pid N               only sockets of this process\n"
	"  --user NAME|UID       only sockets of this user\n"
	"  --process NAME        only sockets of processes with this name\n"
	"  --no-pids             skip the process walk (faster, no PID column)\n"
	"  --netns NAME          inside this network namespace\n"
	"  --all-netns           every named network namespace\n"
	"  --proc                read /proc/net instead of netlink\n",
};

enum {
	OPT_PID = 256,
	OPT_USER,
	OPT_PROCESS,
	OPT_NO_PIDS,
	OPT_NETNS,
	OPT_ALL_NETNS,
	OPT_PROC,
};

static const struct option ls_longopts[] = {
	{ "all",	no_argument,		NULL, 'a' },
	{ "tcp",	no_argument,		NULL, 't' },
	{ "udp",	no_argument,		NULL, 'u' },
	{ "sctp",	no_argument,		NULL, 'S' },
	{ "ipv4",	no_argument,		NULL, '4' },
	{ "ipv6",	no_argument,		NULL, '6' },
	{ "ports",	required_argument,	NULL, 'p' },
	{ "numeric",	no_argument,		NULL, 'n' },
	{ "pid",	required_argument,	NULL, OPT_PID },
	{ "user",	required_argument,	NULL, OPT_USER },
	{ "process",	required_argument,	NULL, OPT_PROCESS },
	{ "no-pids",	no_argument,		NULL, OPT_NO_PIDS },
	{ "netns",	required_argument,	NULL, OPT_NETNS },
	{ "all-netns",	no_argument,		NULL, OPT_ALL_NETNS },
	{ "proc",	no_argument,		NULL, OPT_PROC },
	{ NULL,		0,			NULL, 0 }
};

struct ls_opts {
	struct pdx_sock_filter	 f;
	struct pdx_portset	 ports;
	int			 numeric;
	int			 pids;
	int			 all_netns;
	int			 all_states;
};

/* One socket as printed: the socket and its registry summary. */
struct ls_row {
	const struct pdx_socket	*s;
	struct pdx_brief	 b;
	int			 has_brief;
	char			*note;		/* your note, or NULL */
};

/* ---- columns ----------------------------------------------------------- */

#define COL_ALWAYS	0x0
#define COL_PEER	0x1	/* -a: sockets with a peer are shown */
#define COL_REG		0x2	/* the registry is open and not -n */
#define COL_PIDS	0x4	/* processes were looked up */
#define COL_NETNS	0x8	/* more than the current namespace */
#define COL_NOTES	0x10	/* a socket has a note of yours */

static int
is_loopback(const struct pdx_socket *s)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (s->family == AF_INET)
		return s->laddr[0] == 127;
	return memcmp(s->laddr, lo6, 16) == 0 ||
	    (memcmp(s->laddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
	    s->laddr[12] == 127);
}

static int
is_wildcard(const struct pdx_socket *s)
{
	static const uint8_t zero[16];

	return memcmp(s->laddr, zero, s->family == AF_INET ? 4 : 16) == 0;
}

/*
 * Cells are built without printf: with 10,000 sockets the formatting is
 * most of the user-space time, and ls is meant to beat ss.
 */
#define CELL_MAX	128

struct cell {
	char	b[CELL_MAX];
	size_t	len;
};

static void
cat(struct cell *c, const char *s)
{
	size_t n = strlen(s);

	if (n > CELL_MAX - 1 - c->len)
		n = CELL_MAX - 1 - c->len;
	memcpy(c->b + c->len, s, n);
	c->len += n;
}

static void
cat_num(struct cell *c, unsigned long v)
{
	char t[24];
	size_t i = sizeof t - 1;

	t[i] = '\0';
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	cat(c, t + i);
}

static void
col_proto(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, pdx_proto_name(r->s->proto));
	if (r->s->family == AF_INET6)
		cat(c, "6");
}

static void
col_state(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, pdx_sock_state_name(r->s->state));
}

static void
endpoint(int family, const char *addr, unsigned port, struct cell *c)
{
	if (family == AF_INET6) {
		cat(c, "[");
		cat(c, addr);
		cat(c, "]:");
	} else {
		cat(c, addr);
		cat(c, ":");
	}
	cat_num(c, port);
}

static void
col_local(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	endpoint(r->s->family, r->s->local, r->s->lport, c);
}

static void
col_peer(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	if (r->s->state == PDX_SS_LISTEN || r->s->state == PDX_SS_CLOSE)
		cat(c, "*");
	else
		endpoint(r->s->family, r->s->remote, r->s->rport, c);
}

/* Who can reach it: every interface (and IPv4 too for a dual "::"). */
static void
col_reach(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	const struct pdx_socket *s = r->s;

	if (is_wildcard(s)) {
		if (s->family == AF_INET6 && s->v6only == 0)
			cat(c, "all, +ipv4");
		else if (s->family == AF_INET6 && s->v6only == 1)
			cat(c, "all, ipv6 only");
		else
			cat(c, "all");
	} else if (is_loopback(s))
		cat(c, "loopback");
}

static void
col_service(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->has_brief && r->b.name != NULL && r->b.name[0] != '\0' ?
	    r->b.name : "-");
}

static void
col_status(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->has_brief ? pdx_status_name(r->b.status) : "-");
}

static void
col_risk(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->has_brief ? pdx_level_name(r->b.risk) : "-");
}

static void
col_pid(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	const char *o = r->s->others;

	if (r->s->pid <= 0) {
		cat(c, "-");
		return;
	}
	cat_num(c, (unsigned long)r->s->pid);
	/* every holder, as ss -p shows them: "PID COMM, PID COMM" -> PIDs */
	while (o != NULL && *o != '\0') {
		size_t n = strspn(o, "0123456789");
		char pid[16];

		if (n == 0 || n >= sizeof pid)
			break;
		memcpy(pid, o, n);
		pid[n] = '\0';
		cat(c, ",");
		cat(c, pid);
		if ((o = strstr(o, ", ")) != NULL)
			o += 2;
	}
}

static void
col_process(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->s->pid > 0 ? r->s->comm : "-");
}

static void
col_user(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	if (r->s->user != NULL)
		cat(c, r->s->user);
	else if (r->s->inode == 0 || r->s->uid < 0)
		cat(c, "-");	/* TIME_WAIT: the kernel says 0 */
	else
		cat_num(c, (unsigned long)r->s->uid);
}

static void
col_note(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->note != NULL ? r->note : "-");
}

static void
col_unit(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->s->container != NULL ? r->s->container :
	    r->s->unit != NULL ? r->s->unit : "");
}

static void
col_netns(struct cmd_ctx *ctx, const struct ls_row *r, struct cell *c)
{
	cat(c, r->s->netns != NULL ? r->s->netns : "-");
}

typedef void (*col_fn)(struct cmd_ctx *, const struct ls_row *,
    struct cell *);

static const struct ls_col {
	const char	*title;
	int		 when;
	col_fn		 fmt;
	int		 risk;		/* coloured by the risk level */
} ls_cols[] = {
	{ "NETNS",	COL_NETNS,	col_netns, 0 },
	{ "PROTO",	COL_ALWAYS,	col_proto, 0 },
	{ "STATE",	COL_ALWAYS,	col_state, 0 },
	{ "LOCAL",	COL_ALWAYS,	col_local, 0 },
	{ "PEER",	COL_PEER,	col_peer, 0 },
	{ "REACH",	COL_ALWAYS,	col_reach, 0 },
	{ "SERVICE",	COL_REG,	col_service, 0 },
	{ "STATUS",	COL_REG,	col_status, 0 },
	{ "RISK",	COL_REG,	col_risk, 1 },
	{ "PID",	COL_PIDS,	col_pid, 0 },
	{ "PROCESS",	COL_PIDS,	col_process, 0 },
	{ "USER",	COL_ALWAYS,	col_user, 0 },
	{ "UNIT",	COL_PIDS,	col_unit, 0 },
	{ "NOTE",	COL_NOTES,	col_note, 0 },
};
#define LS_NCOLS (sizeof ls_cols / sizeof ls_cols[0])

/* ---- the state database hook ---------------------------------------- */

/*
 * Your note about a socket's port (state database, `portdex note`): the
 * first one for its transport or for any transport, from the notes the
 * library read once for the command (not a query per socket).  Returns
 * malloc'd text, or NULL when there is none.
 */
static char *
ls_note(struct cmd_ctx *ctx, const struct pdx_socket *s)
{
	const char *t = ctx->state != NULL ? pdx_note_text(ctx->state,
	    s->lport, s->proto) : NULL;

	return t != NULL ? strdup(t) : NULL;
}

static void
ls_note_hook(struct cmd_ctx *ctx, const struct pdx_socket *s, json_t *obj)
{
	char *note = ls_note(ctx, s);

	json_object_set_new(obj, "note", note != NULL ? json_string(note) :
	    json_null());
	free(note);
}

/*
 * The attribution figures of the sockets shown, not of every socket
 * listed before --pid, --process or -p chose some: "1 of 2 not
 * attributed" must be about the table above it, in text and JSON alike.
 */
static void
recount(struct pdx_attr_stats *st, const struct pdx_socket *v, size_t n)
{
	size_t i, wanted = 0, found = 0, noinode = 0;

	for (i = 0; i < n; i++) {
		if (v[i].inode == 0)
			noinode++;
		else {
			wanted++;
			found += v[i].pid != 0;
		}
	}
	st->wanted = wanted;
	st->attributed = found;
	st->no_inode = noinode;
	if (st->denied_procs > 0) {
		st->permission = wanted - found;
		st->no_process = 0;
	} else {
		st->permission = 0;
		st->no_process = wanted - found;
	}
}

/* ---- output ----------------------------------------------------------- */

static void
print_footer(struct cmd_ctx *ctx, const struct ls_opts *o,
    const struct pdx_attr_stats *st, size_t n)
{
	if (ctx->quiet || !o->pids)
		return;
	if (st->permission > 0)
		fprintf(ctx->out, "\n%zu of %zu sockets not attributed to a "
		    "process: permission denied reading %zu processes' "
		    "/proc/PID/fd (%s)\n", st->permission, n, st->denied_procs,
		    geteuid() == 0 ? "refused even to root: ptrace or LSM "
		    "restrictions" : "run as root to see them");
	if (st->no_process > 0 && geteuid() != 0)
		fprintf(ctx->out, "%s%zu sockets held by no visible process "
		    "(another PID namespace, or the kernel)\n",
		    st->permission > 0 ? "" : "\n", st->no_process);
}

/*
 * The table's text goes out in 64 KiB blocks: one stdio call per cell
 * was a seventh of `ls` at ten thousand sockets.
 */
struct outbuf {
	FILE	*out;
	size_t	 len;
	char	 b[65536];
};

static void
ob_flush(struct outbuf *o)
{
	if (o->len > 0)
		fwrite(o->b, 1, o->len, o->out);
	o->len = 0;
}

static void
ob_put(struct outbuf *o, const char *s, size_t n)
{
	if (n > sizeof o->b - o->len) {
		ob_flush(o);
		if (n > sizeof o->b) {
			fwrite(s, 1, n, o->out);
			return;
		}
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

static void
ob_puts(struct outbuf *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

/*
 * Two passes over the rows: widths, then the text.  Formatting a cell is
 * cheap; keeping every cell would cost more memory than it saves time.
 */
static void
print_text(struct cmd_ctx *ctx, struct ls_row *rows, size_t n, int when)
{
	static const char spaces[CELL_MAX + 2] = { [0 ... CELL_MAX + 1] = ' ' };
	static struct outbuf ob;
	struct cell c;
	size_t w[LS_NCOLS], ncols = 0, i, k;
	int cols[LS_NCOLS];
	const char *sgr;

	for (k = 0; k < LS_NCOLS; k++)
		if ((ls_cols[k].when & ~when) == 0) {
			w[ncols] = strlen(ls_cols[k].title);
			cols[ncols++] = (int)k;
		}
	for (i = 0; i < n; i++)
		for (k = 0; k < ncols; k++) {
			c.len = 0;
			ls_cols[cols[k]].fmt(ctx, &rows[i], &c);
			if (c.len > w[k])
				w[k] = c.len;
		}
	ob.out = ctx->out;
	ob.len = 0;
	ob_puts(&ob, out_sgr(ctx, "head"));
	for (k = 0; k < ncols; k++) {
		c.len = strlen(ls_cols[cols[k]].title);
		ob_puts(&ob, ls_cols[cols[k]].title);
		if (k + 1 < ncols)
			ob_put(&ob, spaces, w[k] - c.len + 2);
	}
	ob_puts(&ob, out_reset(ctx));
	ob_put(&ob, "\n", 1);
	for (i = 0; i < n; i++) {
		for (k = 0; k < ncols; k++) {
			c.len = 0;
			ls_cols[cols[k]].fmt(ctx, &rows[i], &c);
			sgr = "";
			if (ls_cols[cols[k]].risk && rows[i].has_brief)
				sgr = out_sgr(ctx,
				    pdx_level_name(rows[i].b.risk));
			if (*sgr != '\0')
				ob_puts(&ob, sgr);
			ob_put(&ob, c.b, c.len);
			if (*sgr != '\0')
				ob_puts(&ob, out_reset(ctx));
			if (k + 1 < ncols)
				ob_put(&ob, spaces, w[k] - c.len + 2);
		}
		ob_put(&ob, "\n", 1);
	}
	ob_flush(&ob);
}

static int
print_json(struct cmd_ctx *ctx, const struct ls_opts *o,
    struct pdx_socket *v, size_t n, const struct pdx_attr_stats *st,
    int backend)
{
	json_t *root, *arr, *obj;
	size_t i;

	root = json_object();
	arr = json_array();
	if (root == NULL || arr == NULL)
		goto oom;
	json_object_set_new(root, "backend",
	    json_string(pdx_backend_name(backend)));
	json_object_set_new(root, "sockets", arr);
	for (i = 0; i < n; i++) {
		obj = pdx_socket_json(&v[i], o->numeric ? NULL : ctx->db);
		if (obj == NULL)
			goto oom;
		ls_note_hook(ctx, &v[i], obj);
		if (json_array_append_new(arr, obj) != 0)
			goto oom;
	}
	if (o->pids)
		obj = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		    "sockets", (json_int_t)n,
		    "attributed", (json_int_t)st->attributed,
		    "permission_denied", (json_int_t)st->permission,
		    "no_process", (json_int_t)st->no_process,
		    "no_inode", (json_int_t)st->no_inode,
		    "unreadable_processes", (json_int_t)st->denied_procs);
	else
		obj = json_null();
	json_object_set_new(root, "attribution", obj);
	out_json(ctx, root);
	json_decref(root);
	return 0;
oom:
	json_decref(root);
	out_error("ls", "out of memory");
	return -1;
}

/* ---- options ---------------------------------------------------------- */

static int
parse_user(const char *s, long *uid)
{
	struct passwd *pw;
	long long v;

	if (s[0] >= '0' && s[0] <= '9') {
		if (pdx_parse_number(s, 0, 4294967294LL, "uid", &v) < 0) {
			out_error("ls", "%s", pdx_last_error());
			return -1;
		}
		*uid = (long)v;
		return 0;
	}
	if ((pw = getpwnam(s)) == NULL) {
		out_error("ls", "unknown user '%s'", s);
		return -1;
	}
	*uid = (long)pw->pw_uid;
	return 0;
}

static int
parse_opts(struct ls_opts *o, int argc, char **argv)
{
	long long v;
	int ch, protos = 0, fams = 0;

	memset(o, 0, sizeof *o);
	pdx_sock_filter_init(&o->f);
	o->pids = 1;
	while ((ch = getopt_long(argc, argv, "atuS46p:n", ls_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			o->all_states = 1;
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
		case '4':
			fams |= PDX_FAM_INET4;
			break;
		case '6':
			fams |= PDX_FAM_INET6;
			break;
		case 'p':
			if (pdx_portset_parse(&o->ports, optarg) < 0) {
				out_error("ls", "-p: %s", pdx_last_error());
				return -1;
			}
			o->f.ports = &o->ports;
			break;
		case 'n':
			o->numeric = 1;
			break;
		case OPT_PID:
			if (pdx_parse_number(optarg, 1, INT_MAX, "pid",
			    &v) < 0) {
				out_error("ls", "--pid: %s", pdx_last_error());
				return -1;
			}
			o->f.pid = (pid_t)v;
			break;
		case OPT_USER:
			if (parse_user(optarg, &o->f.uid) < 0)
				return -1;
			break;
		case OPT_PROCESS:
			if (*optarg == '\0') {
				out_error("ls", "--process needs a name");
				return -1;
			}
			o->f.process = optarg;
			break;
		case OPT_NO_PIDS:
			o->pids = 0;
			break;
		case OPT_NETNS:
			o->f.netns = optarg;
			break;
		case OPT_ALL_NETNS:
			o->all_netns = 1;
			break;
		case OPT_PROC:
			o->f.backend = PDX_BACKEND_PROC;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		out_error("ls", "unexpected operand '%s'", argv[optind]);
		return -1;
	}
	if (!o->pids && (o->f.pid != 0 || o->f.process != NULL)) {
		out_error("ls", "--pid and --process need the process lookup "
		    "that --no-pids turns off");
		return -1;
	}
	if (o->all_netns && o->f.netns != NULL) {
		out_error("ls", "--netns and --all-netns exclude each other");
		return -1;
	}
	if (protos != 0)
		o->f.protos = protos;
	if (fams != 0)
		o->f.families = fams;
	if (o->all_states)
		o->f.states = PDX_SSF_ALL;
	return 0;
}

/* ---- listing ---------------------------------------------------------- */

/* Appends b (n items) to *v, taking its strings over; frees b. */
static int
append(struct pdx_socket **v, size_t *n, struct pdx_socket *b, size_t bn)
{
	struct pdx_socket *nv;

	if (bn == 0) {
		free(b);
		return 0;
	}
	if ((nv = realloc(*v, (*n + bn) * sizeof *nv)) == NULL) {
		pdx_sockets_free(b, bn);
		return -1;
	}
	memcpy(nv + *n, b, bn * sizeof *b);
	free(b);
	*v = nv;
	*n += bn;
	return 0;
}

/* The current namespace, then each named one with --all-netns. */
static int
list_all(struct ls_opts *o, struct pdx_socket **v, size_t *n, int *backend)
{
	struct pdx_socket *b;
	char **names;
	size_t nnames, bn, i;

	if (pdx_sockets_list(&o->f, v, n, backend) < 0) {
		out_error("ls", "%s", pdx_last_error());
		return -1;
	}
	if (!o->all_netns)
		return 0;
	if (pdx_netns_list(&names, &nnames) < 0) {
		out_error("ls", "%s", pdx_last_error());
		return -1;
	}
	for (i = 0; i < nnames; i++) {
		o->f.netns = names[i];
		if (pdx_sockets_list(&o->f, &b, &bn, NULL) < 0) {
			out_error("ls", "%s", pdx_last_error());
			o->f.netns = NULL;
			pdx_netns_list_free(names, nnames);
			return -1;
		}
		if (append(v, n, b, bn) < 0) {
			out_error("ls", "out of memory");
			o->f.netns = NULL;
			pdx_netns_list_free(names, nnames);
			return -1;
		}
	}
	o->f.netns = NULL;
	pdx_netns_list_free(names, nnames);
	return 0;
}

static int
ls_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static char obuf[1 << 16];
	struct ls_opts o;
	struct pdx_socket *v = NULL;
	struct pdx_attr_stats st;
	struct ls_row *rows = NULL;
	char dberr[256] = "";
	size_t n = 0, i;
	int backend = 0, when = COL_ALWAYS, rc = EXIT_OK, named_ns;

	if (parse_opts(&o, argc, argv) < 0)
		return cmd_usage(&cmd_ls_entry);
	named_ns = o.f.netns != NULL || o.all_netns;
	if (list_all(&o, &v, &n, &backend) < 0)
		return EXIT_USAGE;
	if (ctx->state != NULL && pdx_notes_load(ctx->state) != 0 &&
	    !ctx->quiet)
		fprintf(stderr, "portdex: ls: your notes could not be read: "
		    "%s\n", pdx_last_error());
	memset(&st, 0, sizeof st);
	if (o.pids) {
		if (pdx_sockets_attribute(v, n, &st) < 0) {
			out_error("ls", "%s", pdx_last_error());
			o.pids = 0;
		}
		pdx_sockets_select(v, &n, &o.f);
		recount(&st, v, n);
	}
	/*
	 * Only each port's brief word is needed: the brief file beside the
	 * registry gives it without opening SQLite (main closes the handle).
	 */
	if (!o.numeric && ctx->db == NULL &&
	    (ctx->db = pdx_db_open_brief(ctx->db_path)) == NULL)
		snprintf(dberr, sizeof dberr, "%s", pdx_last_error());
	if (ctx->out == stdout)
		setvbuf(stdout, obuf, _IOFBF, sizeof obuf);

	if (ctx->json) {
		if (print_json(ctx, &o, v, n, &st, backend) < 0)
			rc = EXIT_USAGE;
		goto done;
	}
	if (n > 0 && (rows = calloc(n, sizeof *rows)) == NULL) {
		out_error("ls", "out of memory");
		rc = EXIT_USAGE;
		goto done;
	}
	for (i = 0; i < n; i++) {
		rows[i].s = &v[i];
		if (ctx->db != NULL && !o.numeric)
			rows[i].has_brief = pdx_brief(ctx->db, v[i].lport,
			    v[i].proto, &rows[i].b) == 0;
		if ((rows[i].note = ls_note(ctx, &v[i])) != NULL) {
			char *nl;

			if (strlen(rows[i].note) > 40) {
				size_t cut = 37;

				while (cut > 0 && ((unsigned char)
				    rows[i].note[cut] & 0xc0) == 0x80)
					cut--;
				strcpy(rows[i].note + cut, "...");
			}
			while ((nl = strpbrk(rows[i].note, "\t\n\r")) != NULL)
				*nl = ' ';
			when |= COL_NOTES;
		}
	}
	if (o.pids)
		when |= COL_PIDS;
	if (ctx->db != NULL && !o.numeric)
		when |= COL_REG;
	if (o.all_states)
		when |= COL_PEER;
	if (named_ns)
		when |= COL_NETNS;
	if (o.numeric)
		for (i = 0; i < n; i++) {
			free(v[i].user);
			v[i].user = NULL;
		}
	print_text(ctx, rows, n, when);
	print_footer(ctx, &o, &st, n);
	if (ctx->db == NULL && !o.numeric && !ctx->quiet)
		fprintf(stderr, "portdex: ls: %s; no service names\n",
		    dberr[0] != '\0' ? dberr : "no registry");
done:
	/* a damaged brief file: the registry answered; say so once */
	if (pdx_db_brief_note(ctx->db) != NULL && !ctx->quiet)
		fprintf(stderr, "portdex: ls: %s\n",
		    pdx_db_brief_note(ctx->db));
	if (rc == EXIT_OK && n == 0)
		rc = EXIT_FINDINGS;
	for (i = 0; rows != NULL && i < n; i++)
		free(rows[i].note);
	free(rows);
	pdx_sockets_free(v, n);
	return rc;
}
