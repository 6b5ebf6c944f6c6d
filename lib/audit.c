/*
 * audit.c - the audit of this machine's listeners: the rule table (id,
 * level, what it looks for, what to check next, check function), the
 * facts each rule reads about a listener (the port's risk reasons from
 * risk.c, the process and its executable from /proc, notes, the saved
 * baseline), evaluation into findings sorted most severe first, accepting
 * findings on purpose (config files, --ignore), and the baseline, diff
 * and bounded run history kept in the state database.  Listing and
 * attributing sockets is sockets*.c's and procwalk.c's; what a port is
 * (its risk reasons) is risk.c's; printing is the tool's.
 */
#define _GNU_SOURCE	/* strndup */
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "sockets-int.h"
#include "portdex/firewall.h"
#include "portdex/audit.h"
#include "registry-int.h"

/* ---- what a rule needs to be evaluated ------------------------------ */

#define NEED_DB		0x1	/* the registry */
#define NEED_PID	0x2	/* the socket's process */
#define NEED_EXE	0x4	/* the process's executable */
#define NEED_STATE	0x8	/* the state database */
#define NEED_BASELINE	0x10	/* a saved baseline */

/* Programs that are not services when they hold a listening socket. */
enum tool_kind { TOOL_NONE, TOOL_RELAY, TOOL_SHELL, TOOL_INTERP };

static const struct tool {
	const char	*name;
	int		 kind;
	int		 versioned;	/* "python" also matches "python3.11" */
	int		 by_exe;	/* also match the executable's name */
} tools[] = {
	{ "nc", TOOL_RELAY, 0, 1 },
	{ "ncat", TOOL_RELAY, 0, 1 },
	{ "netcat", TOOL_RELAY, 0, 1 },
	{ "nc.openbsd", TOOL_RELAY, 0, 1 },
	{ "nc.traditional", TOOL_RELAY, 0, 1 },
	{ "socat", TOOL_RELAY, 0, 1 },
	{ "cryptcat", TOOL_RELAY, 0, 1 },
	{ "pwncat", TOOL_RELAY, 0, 1 },
	{ "bash", TOOL_SHELL, 0, 1 },
	{ "sh", TOOL_SHELL, 0, 1 },
	{ "dash", TOOL_SHELL, 0, 1 },
	{ "zsh", TOOL_SHELL, 0, 1 },
	{ "ksh", TOOL_SHELL, 0, 1 },
	{ "mksh", TOOL_SHELL, 0, 1 },
	{ "ash", TOOL_SHELL, 0, 1 },
	{ "csh", TOOL_SHELL, 0, 1 },
	{ "tcsh", TOOL_SHELL, 0, 1 },
	{ "fish", TOOL_SHELL, 0, 1 },
	/* busybox daemons (httpd, udhcpd) run as busybox: comm only. */
	{ "busybox", TOOL_SHELL, 0, 0 },
	/*
	 * A script started through its #! line gets its own name as comm;
	 * comm is the interpreter's only when it was run by hand
	 * ("python3 -m http.server"), so interpreters match comm only.
	 */
	{ "python", TOOL_INTERP, 1, 0 },
	{ "perl", TOOL_INTERP, 1, 0 },
	{ "ruby", TOOL_INTERP, 1, 0 },
	{ "php", TOOL_INTERP, 1, 0 },
	{ "lua", TOOL_INTERP, 1, 0 },
	{ "tclsh", TOOL_INTERP, 1, 0 },
};

/* Directories anyone may write to, whatever their mode says here. */
static const char *const writable_dirs[] = {
	"/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock",
};

/* ---- facts about one listener --------------------------------------- */

struct listener {
	const struct pdx_socket	*s;
	struct pdx_brief	 b;
	int			 has_brief;
	json_t			*assess;	/* risk.c's {level, reasons} */
	/* on the heap (two PATH_MAX arrays were 8 kB a listener) */
	char			*exe;		/* NULL unless exe_known */
	int			 exe_known;
	int			 exe_refused;	/* reading it was refused */
	int			 exe_deleted;
	const char		*exe_dir_why;	/* NULL: not writable */
	char			*exe_dir;	/* NULL unless writable_why */
	const struct tool	*tool;
	int			 noted;
	int			 in_baseline;
	int			 loopback, wildcard;
	/*
	 * The firewall's verdict (and IPv4's for a dual "::"), if read:
	 * v[0] and v[1] on the heap, only for listeners judged.
	 */
	struct pdx_verdict	*v;
	int			 judged;
	const struct pdx_published *pub;	/* a published port */
};

struct audit {
	struct pdx_db		*db;
	struct pdx_state	*state;
	const char		*procdir;
	int			 have_baseline;
	time_t			 baseline_saved;
	json_t			*notes;		/* array, or NULL */
	json_t			*baseline;	/* key -> saved time */
	/* the registry's malware rows, read once per run (malware_names) */
	struct mal_row {
		unsigned	 lo, hi;
		int		 mask;
		char		*name;
	}			*mal;
	size_t			 nmal;
	int			 mal_read;
};

/* ---- small helpers ---------------------------------------------------- */

static void
iso_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
json_time(time_t t)
{
	char buf[32];

	iso_time(t, buf, sizeof buf);
	return json_string(buf);
}

static int
is_loopback(int family, const uint8_t *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (family == AF_INET)
		return a[0] == 127;
	return memcmp(a, lo6, 16) == 0 ||
	    (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
	    a[12] == 127);
}

static int
is_wildcard(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, family == AF_INET ? 4 : 16) == 0;
}

/* "0.0.0.0:645/tcp" or "[::]:645/tcp". */
static void
endpoint(const struct pdx_socket *s, char *buf, size_t size)
{
	snprintf(buf, size, s->family == AF_INET6 ? "[%s]:%u/%s" :
	    "%s:%u/%s", s->local, s->lport, pdx_proto_name(s->proto));
}

/* The listener's baseline/history key. */
static void
listener_key(int proto, const char *address, unsigned port, char *buf,
    size_t size)
{
	snprintf(buf, size, "%d\t%s\t%u", proto, address, port);
}

static const char *
base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p != NULL ? p + 1 : path;
}

static const struct tool *
tool_match(const char *name, int exe)
{
	size_t i, n;

	if (name == NULL || *name == '\0')
		return NULL;
	for (i = 0; i < sizeof tools / sizeof *tools; i++) {
		if (exe && !tools[i].by_exe)
			continue;
		n = strlen(tools[i].name);
		if (strncmp(name, tools[i].name, n) != 0)
			continue;
		if (name[n] == '\0')
			return &tools[i];
		if (tools[i].versioned &&
		    strspn(name + n, "0123456789.") == strlen(name + n))
			return &tools[i];
	}
	return NULL;
}

/* The risk reason id of the listener's port, or NULL. */
static json_t *
reason(const struct listener *l, const char *id)
{
	json_t *r, *a;
	size_t i;

	if (l->assess == NULL)
		return NULL;
	a = json_object_get(l->assess, "reasons");
	json_array_foreach(a, i, r) {
		const char *rid = json_string_value(json_object_get(r,
		    "rule"));

		if (rid != NULL && strcmp(rid, id) == 0)
			return r;
	}
	return NULL;
}

static const char *
reason_what(const struct listener *l, const char *id, const char *dflt)
{
	const char *w = json_string_value(json_object_get(reason(l, id),
	    "what"));

	return w != NULL ? w : dflt;
}

/* ---- the rules ---------------------------------------------------------- */

struct check_arg {
	struct audit		*a;
	const struct listener	*l;
	char			*buf;	/* the rule's clause of "why" */
	size_t			 size;
	int			 level;	/* set: the finding's level instead */
};

/*
 * The verdict that says most about exposure: for a dual-stack "::",
 * the more open of its two halves (open, restricted, unknown, filtered).
 */
static const struct pdx_verdict *
exposure(const struct listener *l)
{
	static const int rank[] = {
		[PDX_REACH_NONE] = 0, [PDX_REACH_LOOPBACK] = 0,
		[PDX_REACH_FILTERED] = 1, [PDX_REACH_UNKNOWN] = 2,
		[PDX_REACH_RESTRICTED] = 3, [PDX_REACH_OPEN] = 4,
	};

	if (!l->judged)
		return NULL;
	if (l->v[1].reach != PDX_REACH_NONE &&
	    rank[l->v[1].reach] > rank[l->v[0].reach])
		return &l->v[1];
	return &l->v[0];
}

/*
 * An exposure finding on a listener the firewall drops: `info`, with
 * the rule named at the end of the clause.  Returns 1 when it did so.
 */
static int
dropped(struct check_arg *c)
{
	const struct pdx_verdict *v = exposure(c->l);
	size_t len = strlen(c->buf);

	if (v == NULL || v->reach != PDX_REACH_FILTERED)
		return 0;
	snprintf(c->buf + len, c->size - len, ", but the firewall drops it "
	    "(%s)", v->rule);
	c->level = PDX_LEVEL_INFO;
	return 1;
}

/*
 * Reads the registry's malware rows once per run, ordered by name: a
 * listener's names are then found in memory (a range query per listener
 * walked most of the uses index).  On failure there are none.
 */
static void
read_malware(struct audit *a)
{
	static const char q[] = "SELECT port_lo, port_hi, protomask, name"
	    " FROM uses WHERE kind = 'malware' ORDER BY name";
	sqlite3_stmt *st;
	const char *e = pdx_last_error();
	char saved[256];
	size_t cap = 0;

	a->mal_read = 1;
	snprintf(saved, sizeof saved, "%s", e != NULL ? e : "");
	if (a->db == NULL || pdx_db_prepare(a->db, q, &st) != 0) {
		pdx_set_error("%s", saved);
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 3);
		struct mal_row *r;

		if (n == NULL)
			continue;
		if (a->nmal == cap) {
			struct mal_row *m = realloc(a->mal, (cap = cap * 2 +
			    64) * sizeof *m);

			if (m == NULL)
				break;
			a->mal = m;
		}
		r = &a->mal[a->nmal];
		r->lo = (unsigned)sqlite3_column_int(st, 0);
		r->hi = (unsigned)sqlite3_column_int(st, 1);
		r->mask = sqlite3_column_int(st, 2);
		if ((r->name = strdup(n)) == NULL)
			break;
		a->nmal++;
	}
	sqlite3_finalize(st);
}

/* The names of the malware curated for the port, joined ("" if none). */
static void
malware_names(struct audit *a, const struct listener *l, char *buf,
    size_t size)
{
	const char *last = NULL;
	size_t used = 0, i;

	buf[0] = '\0';
	if (!a->mal_read)
		read_malware(a);
	for (i = 0; i < a->nmal && used + 4 < size; i++) {
		const struct mal_row *r = &a->mal[i];
		int k;

		if (r->lo > l->s->lport || r->hi < l->s->lport ||
		    !(r->mask & l->s->proto) ||
		    (last != NULL && strcmp(last, r->name) == 0))
			continue;
		k = snprintf(buf + used, size - used, "%s%s",
		    used > 0 ? ", " : "", r->name);
		if (k < 0 || (size_t)k >= size - used)
			break;
		used += (size_t)k;
		last = r->name;
	}
}

static int
check_malware_common(struct check_arg *c, const char *id, const char *how)
{
	char names[160];

	if (reason(c->l, id) == NULL)
		return 0;
	malware_names(c->a, c->l, names, sizeof names);
	snprintf(c->buf, c->size, "%s%s%s%s", how, names[0] != '\0' ?
	    " (" : "", names, names[0] != '\0' ? ")" : "");
	return 1;
}

static int
check_malware(struct check_arg *c)
{
	return check_malware_common(c, "malware-port", "this port is a "
	    "documented trojan or backdoor port");
}

static int
check_malware_shared(struct check_arg *c)
{
	return check_malware_common(c, "malware-port-shared", "this port is "
	    "a documented trojan or backdoor port that legitimate software "
	    "also uses by default");
}

static int
check_malware_reported(struct check_arg *c)
{
	return check_malware_common(c, "malware-reported", "malware is "
	    "reported (without a primary source) to use this port");
}

static int
check_relay_shell(struct check_arg *c)
{
	const struct listener *l = c->l;

	if (l->tool == NULL || l->tool->kind == TOOL_INTERP)
		return 0;
	snprintf(c->buf, c->size, "%s is %s, not a service; a listening "
	    "one is the shape of a bind shell or an ad-hoc relay%s%s",
	    l->tool->name, l->tool->kind == TOOL_RELAY ?
	    "a general-purpose relay (netcat/socat)" : "a shell",
	    l->has_brief && l->b.name[0] != '\0' ? ", not the registered "
	    "service " : "", l->has_brief ? l->b.name : "");
	return 1;
}

static int
check_interpreter(struct check_arg *c)
{
	const struct listener *l = c->l;

	if (l->tool == NULL || l->tool->kind != TOOL_INTERP ||
	    !l->has_brief || l->b.status != PDX_ST_ASSIGNED ||
	    l->b.name[0] == '\0' || l->s->lport >= 49152)
		return 0;
	snprintf(c->buf, c->size, "a bare %s interpreter holds the port "
	    "IANA registers for %s: a script run by hand, not the "
	    "registered service", l->s->comm, l->b.name);
	return 1;
}

static int
check_deleted_exe(struct check_arg *c)
{
	if (!c->l->exe_known || !c->l->exe_deleted)
		return 0;
	snprintf(c->buf, c->size, "its executable %s has been deleted%s",
	    c->l->exe, strncmp(c->l->exe, "/memfd:", 7) == 0 ?
	    " (it only ever existed in memory)" : " since it started");
	return 1;
}

static int
check_writable_dir(struct check_arg *c)
{
	if (!c->l->exe_known || c->l->exe_dir_why == NULL)
		return 0;
	snprintf(c->buf, c->size, "its executable %s runs from %s, %s",
	    c->l->exe, c->l->exe_dir, c->l->exe_dir_why);
	return 1;
}

static int
check_cleartext_login(struct check_arg *c)
{
	if (c->l->loopback || reason(c->l, "cleartext-login") == NULL)
		return 0;
	snprintf(c->buf, c->size, "%s (cleartext remote login) is "
	    "reachable from %s", reason_what(c->l, "cleartext-login",
	    "a cleartext login service"), c->l->wildcard ?
	    "every interface" : "the network");
	(void)dropped(c);
	return 1;
}

static int
check_cleartext_service(struct check_arg *c)
{
	if (c->l->loopback || reason(c->l, "cleartext-transfer") == NULL)
		return 0;
	snprintf(c->buf, c->size, "%s (cleartext) is reachable from %s",
	    reason_what(c->l, "cleartext-transfer", "a cleartext service"),
	    c->l->wildcard ? "every interface" : "the network");
	(void)dropped(c);
	return 1;
}

static int
check_rpc(struct check_arg *c)
{
	if (c->l->loopback || reason(c->l, "rpc-exposure") == NULL)
		return 0;
	snprintf(c->buf, c->size, "%s is reachable from %s",
	    reason_what(c->l, "rpc-exposure", "an RPC/NFS service"),
	    c->l->wildcard ? "every interface" : "the network");
	(void)dropped(c);
	return 1;
}

static int
check_admin(struct check_arg *c)
{
	if (!c->l->wildcard || reason(c->l, "admin-exposure") == NULL)
		return 0;
	snprintf(c->buf, c->size, "%s listens on every interface",
	    reason_what(c->l, "admin-exposure", "a database or admin API"));
	(void)dropped(c);
	return 1;
}

/* A database or admin API that a DNAT/redirect rule publishes. */
static int
check_admin_published(struct check_arg *c)
{
	const struct pdx_published *p = c->l->pub;

	if (p == NULL || reason(c->l, "admin-exposure") == NULL)
		return 0;
	snprintf(c->buf, c->size, "%s is published to the network by a "
	    "%s rule (%s)", reason_what(c->l, "admin-exposure",
	    "a database or admin API"), strcmp(p->kind, "dnat") == 0 ?
	    "DNAT" : "redirect", p->rule);
	(void)dropped(c);
	return 1;
}

/* A risky port that the firewall lets anyone reach. */
static int
check_open_risky(struct check_arg *c)
{
	const struct pdx_verdict *v = exposure(c->l);

	if (v == NULL || v->reach != PDX_REACH_OPEN || c->l->pub != NULL ||
	    c->l->b.risk < PDX_LEVEL_MEDIUM)
		return 0;
	/* the exposure rules above already report these ports */
	if (reason(c->l, "admin-exposure") != NULL ||
	    reason(c->l, "cleartext-login") != NULL ||
	    reason(c->l, "cleartext-transfer") != NULL ||
	    reason(c->l, "rpc-exposure") != NULL)
		return 0;
	snprintf(c->buf, c->size, "the firewall accepts it from anywhere "
	    "(%s) and the port's risk is %s", v->rule[0] != '\0' ? v->rule :
	    "no rule stops it", pdx_level_name(c->l->b.risk));
	return 1;
}

static int
check_dead(struct check_arg *c)
{
	if (reason(c->l, "no-living-service") == NULL)
		return 0;
	snprintf(c->buf, c->size, "this well-known port has no living IANA "
	    "assignment (%s%s%s)", pdx_status_name(c->l->b.status),
	    c->l->b.name[0] != '\0' ? ", was " : "", c->l->b.name);
	return 1;
}

static int
check_obsolete(struct check_arg *c)
{
	if (reason(c->l, "obsolete-service") == NULL)
		return 0;
	snprintf(c->buf, c->size, "IANA still assigns this well-known port "
	    "to %s, a service long obsolete", c->l->b.name[0] != '\0' ?
	    c->l->b.name : "a service");
	return 1;
}

static int
check_unauth(struct check_arg *c)
{
	if (reason(c->l, "iana-unauthorized-use") == NULL)
		return 0;
	snprintf(c->buf, c->size, "IANA records unauthorized use of this "
	    "port, so it may not be %s", c->l->b.name[0] != '\0' ?
	    c->l->b.name : "the registered service");
	return 1;
}

static int
check_new(struct check_arg *c)
{
	char t[32];

	if (c->l->in_baseline)
		return 0;
	iso_time(c->a->baseline_saved, t, sizeof t);
	snprintf(c->buf, c->size, "it was not listening when the baseline "
	    "was saved (%s)", t);
	return 1;
}

static int
check_undocumented(struct check_arg *c)
{
	if (c->l->noted)
		return 0;
	snprintf(c->buf, c->size, "nobody recorded what it is for");
	return 1;
}

static const struct audit_rule {
	const char	*id;
	int		 level;
	int		 needs;
	const char	*text;	/* what the rule looks for */
	const char	*next;	/* what to check next; {port} {proto} {pid} */
	int		(*check)(struct check_arg *);
} audit_rules[] = {
	{ "malware-port", PDX_LEVEL_HIGH, NEED_DB,
	  "a listener on a documented trojan or backdoor port",
	  "check which binary runs (ls -l /proc/{pid}/exe) and whether a "
	  "package owns it (dpkg -S, rpm -qf); stop it if nothing explains "
	  "it", check_malware },
	{ "relay-or-shell-listener", PDX_LEVEL_HIGH, NEED_PID,
	  "netcat, socat or a shell holds a listening socket",
	  "see who started it and how (ps -o pid,ppid,user,lstart,args -p "
	  "{pid}, its parent chain); kill it if nobody can explain it",
	  check_relay_shell },
	{ "deleted-executable", PDX_LEVEL_HIGH, NEED_EXE,
	  "the listening process runs an executable that was deleted or "
	  "lives only in memory",
	  "if a package upgrade replaced it, restart the service; otherwise "
	  "save a copy (cp /proc/{pid}/exe) before stopping the process",
	  check_deleted_exe },
	{ "writable-exe-dir", PDX_LEVEL_HIGH, NEED_EXE,
	  "the listening process runs from /tmp, /var/tmp, /dev/shm or "
	  "another world-writable directory",
	  "find who put the file there (stat, its owner and times) and what "
	  "it is; real services run from system directories",
	  check_writable_dir },
	{ "cleartext-login-exposed", PDX_LEVEL_HIGH, NEED_DB,
	  "telnet, rlogin, rsh or rexec reachable on a non-loopback address",
	  "turn the service off (systemctl disable, inetd.conf) or bind it "
	  "to loopback; use SSH", check_cleartext_login },
	{ "admin-all-interfaces", PDX_LEVEL_HIGH, NEED_DB,
	  "a database or admin API (3306, 5432, 6379, 9200, 11211, 27017, "
	  "2375, ...) listening on every interface",
	  "bind it to 127.0.0.1 or a private address, check the firewall "
	  "(nft list ruleset) and that authentication is on",
	  check_admin },
	{ "admin-published", PDX_LEVEL_HIGH, NEED_DB,
	  "a database or admin API published to the network by a DNAT or "
	  "redirect rule (Docker, Podman, kube-proxy or by hand)",
	  "publish it on 127.0.0.1 only (docker run -p 127.0.0.1:{port}:..."
	  ") or drop it in the DOCKER-USER chain; portdex ls --published",
	  check_admin_published },
	{ "risky-port-open", PDX_LEVEL_MEDIUM, NEED_DB,
	  "a listener on a risky port (no other exposure rule's) that the "
	  "firewall accepts from any source",
	  "restrict it to the sources that need it (ip saddr ... accept) "
	  "or bind it to a private address", check_open_risky },
	{ "malware-port-shared", PDX_LEVEL_MEDIUM, NEED_DB,
	  "a listener on a trojan port that legitimate software also uses",
	  "check that the process is the product you expect (portdex ls -p "
	  "{port}, ls -l /proc/{pid}/exe)", check_malware_shared },
	{ "malware-reported", PDX_LEVEL_LOW, NEED_DB,
	  "a listener on a port malware is reported to use",
	  "check which binary runs (ls -l /proc/{pid}/exe) and whether a "
	  "package owns it", check_malware_reported },
	{ "no-living-service", PDX_LEVEL_MEDIUM, NEED_DB,
	  "a listener on a well-known port that IANA has unassigned, "
	  "reserved, de-registered or marked historic",
	  "find out why the process chose a privileged port nobody owns "
	  "(an RPC service registered with the portmapper would explain "
	  "it: portdex rpc); portdex {port} shows who uses it in practice",
	  check_dead },
	{ "obsolete-service", PDX_LEVEL_MEDIUM, NEED_DB,
	  "a listener on a well-known port whose registered service is "
	  "obsolete",
	  "find out what the process really is; the registered service has "
	  "no current implementation", check_obsolete },
	{ "cleartext-service-exposed", PDX_LEVEL_MEDIUM, NEED_DB,
	  "FTP, TFTP or finger reachable on a non-loopback address",
	  "keep it off untrusted networks (bind a private address, "
	  "firewall) or move to SFTP/HTTPS", check_cleartext_service },
	{ "rpc-exposed", PDX_LEVEL_MEDIUM, NEED_DB,
	  "the portmapper, NFS, mountd or the lock manager reachable on a "
	  "non-loopback address",
	  "see what is registered (portdex rpc), restrict the ports to "
	  "trusted networks and list explicit clients in /etc/exports",
	  check_rpc },
	{ "interpreter-listener", PDX_LEVEL_MEDIUM, NEED_PID | NEED_DB,
	  "a bare python, perl, ruby, php, lua or tcl interpreter on a port "
	  "IANA registers for a service",
	  "read its command line (cat /proc/{pid}/cmdline) and find the "
	  "script it runs", check_interpreter },
	{ "new-since-baseline", PDX_LEVEL_MEDIUM, NEED_STATE | NEED_BASELINE,
	  "a listener that was not there when the baseline was saved",
	  "if it is expected, save a new baseline (portdex audit "
	  "--save-baseline); otherwise find what started it", check_new },
	{ "iana-unauthorized-use", PDX_LEVEL_LOW, NEED_DB,
	  "a listener on a port for which IANA records unauthorized use",
	  "check that the process is the service you expect (portdex "
	  "{port})", check_unauth },
	{ "undocumented-listener", PDX_LEVEL_INFO, NEED_STATE,
	  "a listener whose port has no note",
	  "record what it is for: portdex note {port}/{proto} TEXT",
	  check_undocumented },
};
#define NRULES (sizeof audit_rules / sizeof *audit_rules)

json_t *
pdx_audit_rules(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < NRULES; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}",
		    "rule", audit_rules[i].id,
		    "level", pdx_level_name(audit_rules[i].level),
		    "text", audit_rules[i].text,
		    "next", audit_rules[i].next));
	return a;
}

int
pdx_audit_rule_exists(const char *id)
{
	size_t i;

	for (i = 0; i < NRULES; i++)
		if (strcmp(audit_rules[i].id, id) == 0)
			return 1;
	return 0;
}

/* ---- accepting findings ------------------------------------------------ */

int
pdx_audit_accept_add(struct pdx_audit_accepts *as, const char *spec,
    const char *reason_text, const char *origin)
{
	struct pdx_audit_accept a;
	char buf[128], *colon, *slash;
	long long p;

	memset(&a, 0, sizeof a);
	a.port = -1;
	if (strlen(spec) >= sizeof buf || *spec == '\0') {
		pdx_set_error("'%.40s' is not RULE[:PORT[/PROTO]]", spec);
		return -1;
	}
	strcpy(buf, spec);
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon++ = '\0';
		if ((slash = strchr(colon, '/')) != NULL) {
			*slash++ = '\0';
			if ((a.proto = pdx_proto_parse(slash)) == 0) {
				pdx_set_error("'%s': unknown transport '%s'",
				    spec, slash);
				return -1;
			}
		}
		if (pdx_parse_number(colon, 0, 65535, "port", &p) != 0) {
			char e[160];

			snprintf(e, sizeof e, "%s", pdx_last_error());
			pdx_set_error("'%s': %s", spec, e);
			return -1;
		}
		a.port = (int)p;
	}
	if (strcmp(buf, "*") != 0 && !pdx_audit_rule_exists(buf)) {
		pdx_set_error("unknown rule '%s' (portdex audit --rules lists "
		    "them)", buf);
		return -1;
	}
	if (as->n >= PDX_AUDIT_MAX_ACCEPTS) {
		pdx_set_error("more than %d accepted findings",
		    PDX_AUDIT_MAX_ACCEPTS);
		return -1;
	}
	if (as->n == as->cap) {
		size_t ncap = as->cap == 0 ? 16 : as->cap * 2;
		struct pdx_audit_accept *nv = realloc(as->v,
		    ncap * sizeof *nv);

		if (nv == NULL)
			goto oom;
		as->v = nv;
		as->cap = ncap;
	}
	a.rule = strdup(buf);
	a.reason = strdup(reason_text != NULL ? reason_text : "");
	a.origin = strdup(origin != NULL ? origin : "");
	if (a.rule == NULL || a.reason == NULL || a.origin == NULL) {
		free(a.rule);
		free(a.reason);
		free(a.origin);
		goto oom;
	}
	as->v[as->n++] = a;
	return 0;
oom:
	pdx_set_error("out of memory");
	return -1;
}

void
pdx_audit_accepts_free(struct pdx_audit_accepts *as)
{
	size_t i;

	if (as == NULL)
		return;
	for (i = 0; i < as->n; i++) {
		free(as->v[i].rule);
		free(as->v[i].reason);
		free(as->v[i].origin);
	}
	free(as->v);
	memset(as, 0, sizeof *as);
}

#define CONF_MAX	(1024 * 1024)
#define CONF_LINE_MAX	1024

/* One line of a config file (NUL-terminated, no newline). */
static int
conf_line(struct pdx_audit_accepts *as, char *line, const char *origin)
{
	char *p = line, *word, *spec, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = '\0';
	word = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	if (strcmp(word, "accept") != 0) {
		pdx_set_error("unknown directive '%.40s' (expected 'accept "
		    "RULE[:PORT[/PROTO]] [reason]')", word);
		return -1;
	}
	p += strspn(p, " \t");
	spec = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, " \t");
	if (*spec == '\0') {
		pdx_set_error("'accept' needs RULE[:PORT[/PROTO]]");
		return -1;
	}
	return pdx_audit_accept_add(as, spec, p, origin);
}

int
pdx_audit_config_load(struct pdx_audit_accepts *as, const char *path,
    int optional)
{
	char *buf, *line, *nl, origin[PATH_MAX + 16];
	size_t len, before = as->n;
	unsigned lineno = 0;

	/* EACCES here: a directory we may not search (serve as nobody). */
	if (optional && access(path, F_OK) != 0 &&
	    (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
		return 0;
	if ((buf = pdx_read_file(path, CONF_MAX, &len)) == NULL)
		return -1;
	if (memchr(buf, '\0', len) != NULL) {
		pdx_set_error("%s: a NUL byte: not a text file", path);
		free(buf);
		return -1;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL)
			nl = buf + len;
		*nl = '\0';
		if (strlen(line) > CONF_LINE_MAX) {
			pdx_set_error("%s:%u: line longer than %d bytes", path,
			    lineno, CONF_LINE_MAX);
			goto fail;
		}
		snprintf(origin, sizeof origin, "%s:%u", path, lineno);
		if (conf_line(as, line, origin) != 0) {
			char e[256];

			snprintf(e, sizeof e, "%s", pdx_last_error());
			pdx_set_error("%s:%u: %s", path, lineno, e);
			goto fail;
		}
	}
	free(buf);
	return (int)(as->n - before);
fail:
	free(buf);
	return -1;
}

int
pdx_audit_config_default(struct pdx_audit_accepts *as)
{
	char path[PATH_MAX];
	const char *e;

	if (pdx_audit_config_load(as, "/etc/portdex/audit.conf", 1) < 0)
		return -1;
	if ((e = getenv("XDG_CONFIG_HOME")) != NULL && *e == '/')
		snprintf(path, sizeof path, "%s/portdex/audit.conf", e);
	else if ((e = getenv("HOME")) != NULL && *e == '/')
		snprintf(path, sizeof path, "%s/.config/portdex/audit.conf",
		    e);
	else
		return 0;
	return pdx_audit_config_load(as, path, 1) < 0 ? -1 : 0;
}

static const struct pdx_audit_accept *
accepted(const struct pdx_audit_accepts *as, const char *rule,
    unsigned port, int proto)
{
	size_t i;

	for (i = 0; as != NULL && i < as->n; i++) {
		const struct pdx_audit_accept *a = &as->v[i];

		if ((strcmp(a->rule, "*") == 0 || strcmp(a->rule, rule) == 0)
		    && (a->port < 0 || (unsigned)a->port == port) &&
		    (a->proto == 0 || a->proto == proto))
			return a;
	}
	return NULL;
}

/* ---- gathering the facts ------------------------------------------------ */

/*
 * Why dir (as the process sees it, under procdir/PID/root) lets anyone
 * replace what is in it, or NULL: a well-known scratch directory, or
 * the directory or an ancestor world-writable (an ancestor only without
 * the sticky bit, which would stop renames of what is not one's own).
 */
static const char *
writable_why(const char *procdir, pid_t pid, const char *dir)
{
	char path[PATH_MAX], d[PATH_MAX], *slash;
	struct stat st;
	size_t i, n;
	int first = 1;

	for (i = 0; i < sizeof writable_dirs / sizeof *writable_dirs; i++) {
		n = strlen(writable_dirs[i]);
		if (strncmp(dir, writable_dirs[i], n) == 0 &&
		    (dir[n] == '\0' || dir[n] == '/'))
			return "a scratch directory anyone can write to";
	}
	if (snprintf(d, sizeof d, "%s", dir) >= (int)sizeof d)
		return NULL;
	while (d[0] == '/' && d[1] != '\0') {
		if (snprintf(path, sizeof path, "%s/%ld/root%s", procdir,
		    (long)pid, d) < (int)sizeof path &&
		    stat(path, &st) == 0 && (st.st_mode & S_IWOTH) &&
		    (first || !(st.st_mode & S_ISVTX)))
			return first ? "a world-writable directory" :
			    "a directory inside a world-writable one";
		first = 0;
		if ((slash = strrchr(d, '/')) == NULL)
			break;
		if (slash == d)
			break;
		*slash = '\0';
	}
	return NULL;
}

/* Reads procdir/PID/exe.  Returns 1 when read, 0 gone, -1 refused. */
static int
read_exe(struct audit *a, struct listener *l)
{
	char path[PATH_MAX], exe[PATH_MAX], dir[PATH_MAX], *slash;
	static const char del[] = " (deleted)";
	ssize_t n;
	size_t dl = sizeof del - 1;

	snprintf(path, sizeof path, "%s/%ld/exe", a->procdir,
	    (long)l->s->pid);
	if ((n = readlink(path, exe, sizeof exe - 1)) < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	exe[n] = '\0';
	if ((size_t)n > dl && strcmp(exe + n - dl, del) == 0) {
		l->exe_deleted = 1;
		exe[n - dl] = '\0';
	}
	if ((l->exe = strdup(exe)) == NULL)
		return 0;	/* out of memory: as if gone */
	l->exe_known = 1;
	if (exe[0] != '/')
		return 1;	/* "/memfd:..." has a slash; others: no dir */
	snprintf(dir, sizeof dir, "%s", exe);
	if ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (strncmp(exe, "/memfd:", 7) != 0 && (l->exe_dir_why =
	    writable_why(a->procdir, l->s->pid, dir)) != NULL &&
	    (l->exe_dir = strdup(dir)) == NULL)
		l->exe_dir_why = NULL;
	return 1;
}

/*
 * read_exe, once per process: a process holding many sockets has one
 * executable (a readlink and a stat of each of its directories saved
 * per socket).  pidix (pidcap slots, a power of two) maps a pid to the
 * index + 1 of the listener of ls that read it.
 */
static int
read_exe_once(struct audit *a, struct listener *ls, struct listener *l,
    size_t *pidix, size_t pidcap)
{
	const struct listener *o;
	size_t h, k;
	int r;

	if (pidix == NULL)
		return read_exe(a, l);
	h = ((size_t)l->s->pid * 2654435761u) & (pidcap - 1);
	for (k = 0; pidix[h] != 0 && k < pidcap; k++) {
		o = &ls[pidix[h] - 1];
		if (o->s->pid == l->s->pid) {
			if (!o->exe_known)
				return o->exe_refused ? -1 : 0;
			if ((l->exe = strdup(o->exe)) == NULL)
				return 0;
			l->exe_known = 1;
			l->exe_deleted = o->exe_deleted;
			l->exe_dir_why = o->exe_dir_why;
			if (o->exe_dir != NULL &&
			    (l->exe_dir = strdup(o->exe_dir)) == NULL)
				l->exe_dir_why = NULL;
			return 1;
		}
		h = (h + 1) & (pidcap - 1);
	}
	r = read_exe(a, l);
	l->exe_refused = r < 0;
	if (k < pidcap)
		pidix[h] = (size_t)(l - ls) + 1;
	return r;
}

static int
state_error(sqlite3 *db)
{
	pdx_set_error("state database: %s", sqlite3_errmsg(db));
	return -1;
}

/* Loads the baseline keys and its saved time; 0 or -1. */
static int
load_baseline(struct audit *a)
{
	sqlite3 *db = pdx_state_handle(a->state);
	sqlite3_stmt *st;
	char key[128];

	if (sqlite3_prepare_v2(db, "SELECT value FROM audit_kv WHERE key ="
	    " 'baseline_saved'", -1, &st, NULL) != SQLITE_OK)
		return state_error(db);
	if (sqlite3_step(st) == SQLITE_ROW) {
		a->have_baseline = 1;
		a->baseline_saved = (time_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if ((a->baseline = json_object()) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	if (!a->have_baseline)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT proto, address, port, saved FROM"
	    " audit_baseline", -1, &st, NULL) != SQLITE_OK)
		return state_error(db);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 1);

		listener_key(sqlite3_column_int(st, 0), addr != NULL ? addr :
		    "", (unsigned)sqlite3_column_int(st, 2), key, sizeof key);
		json_object_set_new(a->baseline, key,
		    json_integer(sqlite3_column_int64(st, 3)));
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- findings ------------------------------------------------------------ */

struct finding {
	const struct audit_rule		*rule;
	int				 level;	/* the rule's, or info */
	const struct listener		*l;
	const struct pdx_audit_accept	*acc;
	json_t				*obj;
};

static int
finding_cmp(const void *x, const void *y)
{
	const struct finding *a = x, *b = y;

	if ((a->acc != NULL) != (b->acc != NULL))
		return a->acc != NULL ? 1 : -1;
	if (a->level != b->level)
		return b->level - a->level;
	if (a->l->s->lport != b->l->s->lport)
		return a->l->s->lport < b->l->s->lport ? -1 : 1;
	if (a->l->s->proto != b->l->s->proto)
		return a->l->s->proto - b->l->s->proto;
	if (a->l != b->l)
		return a->l < b->l ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

/* Copies tmpl into buf with {port}, {proto} and {pid} filled in. */
static void
expand(const char *tmpl, const struct pdx_socket *s, char *buf, size_t size)
{
	size_t used = 0;
	char v[24];
	const char *p;

	for (p = tmpl; *p != '\0' && used + 1 < size; p++) {
		const char *sub = NULL;
		size_t skip = 0;

		if (*p != '{')
			;	/* most characters: no placeholder starts here */
		else if (strncmp(p, "{port}", 6) == 0) {
			snprintf(v, sizeof v, "%u", s->lport);
			sub = v;
			skip = 6;
		} else if (strncmp(p, "{proto}", 7) == 0) {
			sub = pdx_proto_name(s->proto);
			skip = 7;
		} else if (strncmp(p, "{pid}", 5) == 0) {
			if (s->pid > 0)
				snprintf(v, sizeof v, "%ld", (long)s->pid);
			else
				snprintf(v, sizeof v, "PID");
			sub = v;
			skip = 5;
		}
		if (sub == NULL) {
			buf[used++] = *p;
			continue;
		}
		while (*sub != '\0' && used + 1 < size)
			buf[used++] = *sub++;
		p += skip - 1;
	}
	buf[used] = '\0';
}

/* "nc (pid 42, user root) on 0.0.0.0:645/tcp (pssc)" */
static void
subject(const struct listener *l, char *buf, size_t size)
{
	const struct pdx_socket *s = l->s;
	char ep[128], who[160];

	if (l->pub != NULL) {
		snprintf(buf, size, "port %u/%s, published to %s:%u%s%s%s",
		    l->pub->port_lo, pdx_proto_name(s->proto),
		    l->pub->to_addr[0] != '\0' ? l->pub->to_addr :
		    "this machine", l->pub->to_port != 0 ? l->pub->to_port :
		    l->pub->port_lo, l->has_brief && l->b.name[0] != '\0' ?
		    " (" : "", l->has_brief ? l->b.name : "",
		    l->has_brief && l->b.name[0] != '\0' ? ")" : "");
		return;
	}
	endpoint(s, ep, sizeof ep);
	if (s->pid > 0)
		snprintf(who, sizeof who, "%s (pid %ld, user %s)", s->comm,
		    (long)s->pid, s->user != NULL ? s->user : "?");
	else if (s->user != NULL)
		snprintf(who, sizeof who, "a socket of user %s (no process "
		    "seen)", s->user);
	else
		snprintf(who, sizeof who, "a socket of uid %ld (no process "
		    "seen)", s->uid);
	snprintf(buf, size, "%s listening on %s%s%s%s", who, ep,
	    l->has_brief && l->b.name[0] != '\0' ? " (" : "",
	    l->has_brief ? l->b.name : "",
	    l->has_brief && l->b.name[0] != '\0' ? ")" : "");
}

/*
 * A JSON string of s, with control characters (and, when s is not valid
 * UTF-8, every non-ASCII byte) replaced by '?': process names and paths
 * are chosen by whoever started the process, and must neither fail the
 * audit nor reach a terminal as escape sequences.  New reference.
 */
static json_t *
clean_str(const char *s)
{
	size_t n, i;
	char *c;
	json_t *j;
	int ascii = 1;

	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
		ascii &= (unsigned char)s[i] < 0x80;
	}
	if (s[i] == '\0') {
		/* printable ASCII is valid UTF-8: no second pass over it */
		if (ascii)
			return json_stringn_nocheck(s, i);
		if ((j = json_string(s)) != NULL)
			return j;
	}
	n = i + strlen(s + i);
	if ((c = strdup(s)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			c[i] = '?';
	if ((j = json_string(c)) == NULL) {
		for (i = 0; i < n; i++)
			if ((unsigned char)c[i] >= 0x80)
				c[i] = '?';
		j = json_string(c);
	}
	free(c);
	return j;
}

static json_t *
opt_str(const char *s)
{
	return s != NULL && *s != '\0' ? clean_str(s) : json_null();
}

/* Sets key (a constant) to v, a new reference; a NULL v is left out. */
static void
set(json_t *o, const char *key, json_t *v)
{
	if (v != NULL)
		json_object_set_new_nocheck(o, key, v);
}

static json_t *
finding_json(const struct finding *f, const char *clause)
{
	const struct listener *l = f->l;
	const struct pdx_socket *s = l->s;
	char subj[400], why[1024], next[512];
	json_t *o;

	subject(l, subj, sizeof subj);
	snprintf(why, sizeof why, "%s: %s.", subj, clause);
	expand(f->rule->next, s, next, sizeof next);
	/*
	 * Built key by key (json_pack parses its format string for each of
	 * a thousand findings); the keys are constants, not checked again.
	 */
	if ((o = json_object()) == NULL)
		return NULL;
	set(o, "level", json_string_nocheck(pdx_level_name(f->level)));
	set(o, "rule", json_string_nocheck(f->rule->id));
	set(o, "proto", json_string_nocheck(pdx_proto_name(s->proto)));
	set(o, "family", json_string_nocheck(s->family == AF_INET ? "ipv4" :
	    "ipv6"));
	set(o, "address", clean_str(s->local));
	set(o, "port", json_integer((json_int_t)s->lport));
	set(o, "all_interfaces", json_boolean(l->wildcard));
	set(o, "loopback", json_boolean(l->loopback));
	set(o, "service", opt_str(l->has_brief ? l->b.name : NULL));
	set(o, "pid", s->pid > 0 ? json_integer(s->pid) : json_null());
	set(o, "process", opt_str(s->pid > 0 ? s->comm : NULL));
	set(o, "user", opt_str(s->user));
	set(o, "uid", s->uid >= 0 ? json_integer(s->uid) : json_null());
	set(o, "unit", opt_str(s->unit));
	set(o, "exe", opt_str(l->exe_known ? l->exe : NULL));
	set(o, "container", opt_str(s->container));
	set(o, "why", clean_str(why));
	set(o, "next", clean_str(next));
	set(o, "accepted", json_boolean(f->acc != NULL));
	set(o, "accepted_reason", f->acc != NULL ?
	    clean_str(f->acc->reason) : json_null());
	set(o, "accepted_by", f->acc != NULL ? clean_str(f->acc->origin) :
	    json_null());
	if (json_object_size(o) != 21) {
		json_decref(o);		/* a value could not be made */
		return NULL;
	}
	return o;
}

static json_t *
listener_json(const struct listener *l)
{
	const struct pdx_socket *s = l->s;

	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	set(o, "proto", json_string_nocheck(pdx_proto_name(s->proto)));
	set(o, "family", json_string_nocheck(s->family == AF_INET ? "ipv4" :
	    "ipv6"));
	set(o, "address", clean_str(s->local));
	set(o, "port", json_integer((json_int_t)s->lport));
	set(o, "all_interfaces", json_boolean(l->wildcard));
	set(o, "service", opt_str(l->has_brief ? l->b.name : NULL));
	set(o, "pid", s->pid > 0 ? json_integer(s->pid) : json_null());
	set(o, "process", opt_str(s->pid > 0 ? s->comm : NULL));
	set(o, "user", opt_str(s->user));
	set(o, "unit", opt_str(s->unit));
	set(o, "exe", opt_str(l->exe_known ? l->exe : NULL));
	if (json_object_size(o) != 11) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void
add_reason(json_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_reason(json_t *a, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	json_array_append_new(a, json_string(buf));
}

/* The protocols of the scope as text ("tcp,udp"). */
static void
protos_text(int protos, char *buf, size_t size)
{
	static const int order[] = { PDX_TCP, PDX_UDP, PDX_SCTP };
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof order / sizeof *order; i++)
		if (protos & order[i]) {
			int k = snprintf(buf + used, size - used, "%s%s",
			    used > 0 ? "," : "", pdx_proto_name(order[i]));

			if (k > 0 && (size_t)k < size - used)
				used += (size_t)k;
		}
}

/*
 * One evaluation: its inputs, the listeners and findings it builds, and
 * what it counts on the way.  pdx_audit_evaluate runs its phases in
 * order: setup, the facts of every socket and published port, the rules,
 * what could not be seen, the document.
 */
struct eval {
	struct audit		 a;
	const struct pdx_audit_opts *o;
	const struct pdx_socket	*v;
	size_t			 n;
	const struct pdx_attr_stats *st;
	int			 requested, backend;
	int			 protos;
	struct pdx_portset	 ps;
	struct listener		*ls;
	size_t			 nl;		/* listeners of sockets */
	size_t			 np;		/* then of published ports */
	struct finding		*fs;
	size_t			 nf, capf;
	size_t			 no_pid, exe_refused;
	size_t			*pidix, pidcap;
	struct pdx_published	*pub;
	struct pdx_socket	*pubsock;
	size_t			 npub;
};

/* The registry's brief and risk of port for l; 0, or -1 with the error. */
static int
eval_brief(struct eval *e, struct listener *l, unsigned port, int proto)
{
	struct pdx_db *db = e->a.db;

	if (db == NULL || pdx_brief(db, port, proto, &l->b) != 0)
		return 0;
	l->has_brief = 1;
	if (l->b.name == NULL)
		l->b.name = "";
	if (l->b.risk != PDX_LEVEL_NONE && (l->assess = pdx_risk_assess(db,
	    port, proto, l->b.status)) == NULL)
		return -1;
	return 0;
}

/* Options, notes, the baseline, published ports, the arrays. */
static int
eval_setup(struct eval *e)
{
	const struct pdx_audit_opts *o = e->o;

	e->protos = o->protos != 0 ? o->protos : PDX_TCP | PDX_UDP |
	    PDX_SCTP;
	e->a.procdir = o->procdir != NULL ? o->procdir : "/proc";
	if (o->ports != NULL && pdx_portset_parse(&e->ps, o->ports) != 0)
		return -1;
	if (e->a.state != NULL) {
		if (pdx_notes_load(e->a.state) != 0)	/* once, not per listener */
			return -1;
		if (load_baseline(&e->a) != 0)
			return -1;
	}
	/* ports published by DNAT/redirect rules: listeners of their own */
	if (o->ruleset != NULL && pdx_firewall_published(o->ruleset, &e->pub,
	    &e->npub) == 0 && e->npub > 0 &&
	    (e->pubsock = calloc(e->npub, sizeof *e->pubsock)) == NULL)
		goto oom;
	if (e->n + e->npub > 0 &&
	    (e->ls = calloc(e->n + e->npub, sizeof *e->ls)) == NULL)
		goto oom;
	for (e->pidcap = 64; e->pidcap < 2 * e->n; e->pidcap *= 2)
		;
	e->pidix = calloc(e->pidcap, sizeof *e->pidix);	/* NULL: read each */
	return 0;
oom:
	pdx_set_error("out of memory");
	return -1;
}

/* Facts, one listener per socket (duplicates of a key+pid once). */
static int
eval_sockets(struct eval *e)
{
	struct listener *ls = e->ls;
	size_t i;

	for (i = 0; i < e->n; i++) {
		struct listener *l = &ls[e->nl];
		const struct pdx_socket *s = &e->v[i];

		if (e->nl > 0 && ls[e->nl - 1].s->proto == s->proto &&
		    ls[e->nl - 1].s->lport == s->lport &&
		    strcmp(ls[e->nl - 1].s->local, s->local) == 0 &&
		    ls[e->nl - 1].s->pid == s->pid)
			continue;
		l->s = s;
		l->loopback = is_loopback(s->family, s->laddr);
		l->wildcard = is_wildcard(s->family, s->laddr);
		if (eval_brief(e, l, s->lport, s->proto) != 0)
			return -1;
		if (s->pid > 0) {
			l->tool = tool_match(s->comm, 0);
			if (read_exe_once(&e->a, ls, l, e->pidix,
			    e->pidcap) < 0)
				e->exe_refused++;
			if (l->tool == NULL && l->exe_known)
				l->tool = tool_match(base_name(l->exe), 1);
		} else
			e->no_pid++;
		if (e->a.state != NULL)
			l->noted = pdx_note_text(e->a.state, s->lport,
			    s->proto) != NULL;
		if (e->a.have_baseline) {
			char key[128];

			listener_key(s->proto, s->local, s->lport, key,
			    sizeof key);
			l->in_baseline = json_object_get(e->a.baseline, key)
			    != NULL;
		}
		if (e->o->ruleset != NULL && !l->loopback) {
			if ((l->v = malloc(2 * sizeof *l->v)) == NULL) {
				pdx_set_error("out of memory");
				return -1;
			}
			pdx_firewall_judge(e->o->ruleset, s->family, s->proto,
			    s->laddr, s->lport, s->v6only, &l->v[0],
			    &l->v[1]);
			l->judged = 1;
		}
		e->nl++;
	}
	return 0;
}

/* A listener of its own for each published port in scope. */
static int
eval_published(struct eval *e)
{
	const struct pdx_audit_opts *o = e->o;
	size_t i;

	for (i = 0; i < e->npub; i++) {
		const struct pdx_published *p = &e->pub[i];
		struct listener *l = &e->ls[e->nl + e->np];
		struct pdx_socket *s = &e->pubsock[e->np];
		unsigned to = p->to_port != 0 ? p->to_port : p->port_lo;

		if (p->port_lo != p->port_hi || p->proto == 0 ||
		    (p->proto & e->protos) == 0 || (o->ports != NULL &&
		    !pdx_portset_has(&e->ps, p->port_lo)))
			continue;
		s->proto = p->proto;
		s->family = p->family == AF_INET6 ? AF_INET6 : AF_INET;
		s->lport = p->port_lo;
		s->uid = -1;
		s->v6only = -1;
		snprintf(s->local, sizeof s->local, "%s",
		    s->family == AF_INET6 ? "::" : "0.0.0.0");
		l->s = s;
		l->pub = p;
		l->wildcard = 1;
		if ((l->v = calloc(2, sizeof *l->v)) == NULL) {
			pdx_set_error("out of memory");
			return -1;
		}
		l->v[0] = p->reach;
		l->judged = 1;
		/* the risk is the service's that answers: the destination */
		if (eval_brief(e, l, to, s->proto) != 0)
			return -1;
		e->np++;
	}
	return 0;
}

/* Every rule over every listener (and published port), then sorted. */
static int
eval_rules(struct eval *e)
{
	char buf[512];
	size_t i, k;

	for (i = 0; i < e->nl + e->np; i++) {
		struct listener *l = &e->ls[i];
		int have = (e->a.db != NULL && l->has_brief ? NEED_DB : 0) |
		    (l->s->pid > 0 ? NEED_PID : 0) |
		    (l->exe_known ? NEED_EXE : 0) |
		    (e->a.state != NULL ? NEED_STATE : 0) |
		    (e->a.have_baseline ? NEED_BASELINE : 0);

		for (k = 0; k < NRULES; k++) {
			const struct audit_rule *ru = &audit_rules[k];
			struct check_arg c = { &e->a, l, buf, sizeof buf, 0 };
			struct finding *f;

			if ((ru->needs & have) != ru->needs)
				continue;
			/* a published port is only a published port */
			if ((l->pub != NULL) !=
			    (ru->check == check_admin_published))
				continue;
			buf[0] = '\0';
			if (!ru->check(&c))
				continue;
			if (e->nf == e->capf) {
				size_t nc = e->capf == 0 ? 16 : e->capf * 2;
				struct finding *nv = realloc(e->fs,
				    nc * sizeof *nv);

				if (nv == NULL)
					goto oom;
				e->fs = nv;
				e->capf = nc;
			}
			f = &e->fs[e->nf++];
			f->rule = ru;
			f->level = c.level != 0 ? c.level : ru->level;
			f->l = l;
			f->acc = accepted(e->o->accepts, ru->id, l->s->lport,
			    l->s->proto);
			if ((f->obj = finding_json(f, buf)) == NULL) {
				e->nf--;
				goto oom;
			}
		}
	}
	if (e->nf > 1)
		qsort(e->fs, e->nf, sizeof *e->fs, finding_cmp);
	return 0;
oom:
	pdx_set_error("out of memory");
	return -1;
}

/* What could not be seen, said plainly: into incomplete and notes. */
static void
eval_completeness(const struct eval *e, json_t *incomplete, json_t *notes)
{
	const struct pdx_attr_stats *st = e->st;

	if (e->a.db == NULL)
		add_reason(incomplete, "no registry database: the rules about "
		    "ports (malware, dead or obsolete assignments, exposed "
		    "services, unauthorized use) were not evaluated (run "
		    "'portdex update')");
	if (e->a.state == NULL)
		add_reason(incomplete, "no state database: notes and the "
		    "baseline were not consulted");
	if (st == NULL && e->no_pid > 0)
		add_reason(incomplete, "processes were not looked up: the "
		    "process and executable rules were not evaluated");
	if (st != NULL && st->permission > 0)
		add_reason(incomplete, "%zu of %zu listeners not attributed "
		    "to a process: permission denied reading %zu processes' "
		    "/proc/PID/fd (%s); their process and executable rules "
		    "were not evaluated", st->permission, e->nl,
		    st->denied_procs, geteuid() == 0 ? "refused even to "
		    "root: ptrace or LSM restrictions" : "run as root to see "
		    "them");
	if (st != NULL && st->no_process > 0) {
		if (geteuid() != 0)
			add_reason(incomplete, "%zu listeners held by no "
			    "visible process (another PID namespace, or not "
			    "permitted): their process rules were not "
			    "evaluated", st->no_process);
		else
			add_reason(notes, "%zu listeners are held by no "
			    "process (the kernel's own, e.g. nfsd, or another "
			    "PID namespace)", st->no_process);
	}
	if (e->exe_refused > 0)
		add_reason(incomplete, "the executables of %zu listening "
		    "processes could not be read (/proc/PID/exe: permission "
		    "denied): the executable rules were not evaluated for "
		    "them", e->exe_refused);
	if (e->requested == PDX_BACKEND_AUTO &&
	    e->backend == PDX_BACKEND_PROC)
		add_reason(incomplete, "the kernel refused netlink sock_diag "
		    "(or lacks it for a protocol), so sockets were read from "
		    "/proc/net, which does not list every protocol");
	if (e->a.state != NULL && !e->a.have_baseline)
		add_reason(notes, "no baseline saved: new listeners are "
		    "not reported (portdex audit --save-baseline)");
	add_reason(notes, "listeners inside other network namespaces "
	    "(containers) are not audited");
}

/* The audit document; NULL with the error set. */
static json_t *
eval_document(const struct eval *e)
{
	size_t counts[PDX_LEVEL_HIGH + 1], nacc = 0, i;
	json_t *doc, *incomplete, *notes, *jl, *jf;
	char protobuf[32], host[256];
	int worst = PDX_LEVEL_NONE;

	memset(counts, 0, sizeof counts);
	incomplete = json_array();
	notes = json_array();
	jl = json_array();
	jf = json_array();
	if (incomplete == NULL || notes == NULL || jl == NULL || jf == NULL) {
		json_decref(incomplete);
		json_decref(notes);
		json_decref(jl);
		json_decref(jf);
		pdx_set_error("out of memory");
		return NULL;
	}
	eval_completeness(e, incomplete, notes);
	for (i = 0; i < e->nl; i++)
		json_array_append_new(jl, listener_json(&e->ls[i]));
	for (i = 0; i < e->nf; i++) {
		if (e->fs[i].acc != NULL)
			nacc++;
		else {
			counts[e->fs[i].level]++;
			if (e->fs[i].level > worst)
				worst = e->fs[i].level;
		}
		json_array_append(jf, e->fs[i].obj);
	}
	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	protos_text(e->protos, protobuf, sizeof protobuf);
	doc = json_pack("{s:i, s:o, s:o, s:{s:s, s:s}, s:s, s:b, s:o, s:o,"
	    " s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}, s:o,"
	    " s:o}",
	    "schema", PDX_AUDIT_SCHEMA,
	    "time", json_time(time(NULL)),
	    "host", clean_str(host),
	    "scope", "ports", e->o->ports != NULL ? e->o->ports : "all",
	    "transports", protobuf,
	    "backend", pdx_backend_name(e->backend),
	    "complete", json_array_size(incomplete) == 0,
	    "incomplete", incomplete,
	    "notes", notes,
	    "baseline", e->a.have_baseline ? json_pack("{s:o}", "saved",
	    json_time(e->a.baseline_saved)) : json_null(),
	    "summary",
	    "listeners", (json_int_t)e->nl,
	    "findings", (json_int_t)(e->nf - nacc),
	    "accepted", (json_int_t)nacc,
	    "high", (json_int_t)counts[PDX_LEVEL_HIGH],
	    "medium", (json_int_t)counts[PDX_LEVEL_MEDIUM],
	    "low", (json_int_t)counts[PDX_LEVEL_LOW],
	    "info", (json_int_t)counts[PDX_LEVEL_INFO],
	    "unattributed", (json_int_t)e->no_pid,
	    "worst", pdx_level_name(worst),
	    "findings", jf,
	    "listeners", jl);
	if (doc == NULL) {
		pdx_set_error("out of memory");
		return NULL;
	}
	if (e->st != NULL)
		json_object_set_new(doc, "attribution", json_pack(
		    "{s:I, s:I, s:I, s:I, s:I, s:I}",
		    "sockets", (json_int_t)e->n,
		    "attributed", (json_int_t)e->st->attributed,
		    "permission_denied", (json_int_t)e->st->permission,
		    "no_process", (json_int_t)e->st->no_process,
		    "no_inode", (json_int_t)e->st->no_inode,
		    "unreadable_processes", (json_int_t)e->st->denied_procs));
	return doc;
}

static void
eval_free(struct eval *e)
{
	size_t i;

	for (i = 0; i < e->nf; i++)
		json_decref(e->fs[i].obj);
	free(e->fs);
	for (i = 0; e->ls != NULL && i < e->n + e->npub; i++) {
		json_decref(e->ls[i].assess);
		free(e->ls[i].exe);
		free(e->ls[i].exe_dir);
		free(e->ls[i].v);
	}
	free(e->ls);
	free(e->pidix);
	free(e->pub);
	free(e->pubsock);
	json_decref(e->a.notes);
	json_decref(e->a.baseline);
	for (i = 0; i < e->a.nmal; i++)
		free(e->a.mal[i].name);
	free(e->a.mal);
}

json_t *
pdx_audit_evaluate(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, const struct pdx_socket *v, size_t n,
    const struct pdx_attr_stats *st, int requested, int backend)
{
	struct eval e;
	json_t *doc = NULL;

	memset(&e, 0, sizeof e);
	e.a.db = db;
	e.a.state = state;
	e.o = o;
	e.v = v;
	e.n = n;
	e.st = st;
	e.requested = requested;
	e.backend = backend;
	if (eval_setup(&e) == 0 && eval_sockets(&e) == 0 &&
	    eval_published(&e) == 0 && eval_rules(&e) == 0)
		doc = eval_document(&e);
	eval_free(&e);
	return doc;
}

json_t *
pdx_audit_run(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o)
{
	struct pdx_sock_filter f;
	struct pdx_portset ps;
	struct pdx_attr_stats st;
	struct pdx_socket *v = NULL;
	struct pdx_audit_accepts acc;
	struct pdx_audit_opts oo;
	struct pdx_ruleset *rs = NULL;
	size_t n = 0;
	int backend = 0;
	json_t *doc;

	memset(&acc, 0, sizeof acc);
	if (o->accepts == NULL && o->default_config) {
		if (pdx_audit_config_default(&acc) != 0) {
			pdx_audit_accepts_free(&acc);
			return NULL;
		}
		oo = *o;
		oo.accepts = &acc;
		o = &oo;
	}
	pdx_sock_filter_init(&f);
	f.protos = o->protos != 0 ? o->protos : PDX_TCP | PDX_UDP | PDX_SCTP;
	f.backend = o->backend;
	if (o->ports != NULL) {
		if (pdx_portset_parse(&ps, o->ports) != 0)
			goto fail;
		f.ports = &ps;
	}
	if (pdx_sockets_list(&f, &v, &n, &backend) != 0)
		goto fail;
	if (o->ruleset == NULL) {
		/* the firewall of this namespace: verdicts, published ports */
		if (o != &oo) {
			oo = *o;
			o = &oo;
		}
		oo.ruleset = rs = pdx_ruleset_read(NULL);
	}
	memset(&st, 0, sizeof st);
	if (o->procdir != NULL)
		(void)pdx_sockets_attribute_at(o->procdir, v, n, &st);
	else
		(void)pdx_sockets_attribute(v, n, &st);
	doc = pdx_audit_evaluate(db, state, o, v, n, &st, o->backend,
	    backend);
	pdx_sockets_free(v, n);
	if (doc != NULL && o->record && state != NULL &&
	    pdx_audit_record(state, doc, o->history_max) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	pdx_audit_accepts_free(&acc);
	pdx_ruleset_free(rs);
	return doc;
fail:
	pdx_audit_accepts_free(&acc);
	pdx_ruleset_free(rs);
	return NULL;
}

int
pdx_audit_worst(json_t *doc)
{
	json_t *f;
	size_t i;
	int worst = PDX_LEVEL_NONE, l;

	json_array_foreach(json_object_get(doc, "findings"), i, f) {
		if (json_is_true(json_object_get(f, "accepted")))
			continue;
		l = pdx_level_parse(json_string_value(json_object_get(f,
		    "level")) != NULL ? json_string_value(json_object_get(f,
		    "level")) : "");
		if (l > worst)
			worst = l;
	}
	return worst;
}

/* ---- baseline, history, diff --------------------------------------------- */

/* The scope of doc: its port set and transports. */
static int
doc_scope(json_t *doc, struct pdx_portset *ps, int *protos)
{
	json_t *sc = json_object_get(doc, "scope");
	const char *p = json_string_value(json_object_get(sc, "ports"));
	const char *t = json_string_value(json_object_get(sc, "transports"));
	char buf[64], *w, *save = NULL;

	if (p == NULL || t == NULL || strlen(t) >= sizeof buf) {
		pdx_set_error("audit document without a scope");
		return -1;
	}
	if (strcmp(p, "all") == 0) {
		pdx_portset_clear(ps);
		pdx_portset_add(ps, 0, 65535);
	} else if (pdx_portset_parse(ps, p) != 0)
		return -1;
	*protos = 0;
	strcpy(buf, t);
	for (w = strtok_r(buf, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save))
		*protos |= pdx_proto_parse(w);
	return 0;
}

/* The fields of a listener of doc; 0, or -1 when malformed. */
static int
doc_listener(json_t *l, int *proto, const char **addr, unsigned *port,
    const char **process, const char **user)
{
	json_int_t p = json_integer_value(json_object_get(l, "port"));

	*proto = pdx_proto_parse(json_string_value(json_object_get(l,
	    "proto")) != NULL ? json_string_value(json_object_get(l,
	    "proto")) : "");
	*addr = json_string_value(json_object_get(l, "address"));
	*process = json_string_value(json_object_get(l, "process"));
	*user = json_string_value(json_object_get(l, "user"));
	if (*process == NULL)
		*process = "";
	if (*user == NULL)
		*user = "";
	if (*proto == 0 || *addr == NULL || p < 0 || p > 65535) {
		pdx_set_error("audit document: malformed listener");
		return -1;
	}
	*port = (unsigned)p;
	return 0;
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return state_error(db);
	return 0;
}

int
pdx_audit_save_baseline(struct pdx_state *state, json_t *doc)
{
	sqlite3 *db = pdx_state_handle(state);
	sqlite3_stmt *sel = NULL, *del = NULL, *ins = NULL, *kv = NULL;
	struct pdx_portset ps;
	int protos, saved = 0;
	time_t now = time(NULL);
	json_t *l;
	size_t i;

	if (doc_scope(doc, &ps, &protos) != 0)
		return -1;
	if (exec_sql(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	/* Replace what lies in the scope; keep the rest. */
	if (sqlite3_prepare_v2(db, "SELECT proto, port, address FROM"
	    " audit_baseline", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM audit_baseline WHERE proto ="
	    " ?1 AND port = ?2 AND address = ?3", -1, &del, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO audit_baseline"
	    "(proto, address, port, process, user, saved) VALUES"
	    " (?,?,?,?,?,?)", -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO audit_kv(key,"
	    " value) VALUES ('baseline_saved', ?)", -1, &kv, NULL) !=
	    SQLITE_OK)
		goto fail;
	while (sqlite3_step(sel) == SQLITE_ROW) {
		int p = sqlite3_column_int(sel, 0);
		int port = sqlite3_column_int(sel, 1);

		if ((p & protos) == 0 || port < 0 || port > 65535 ||
		    !pdx_portset_has(&ps, (unsigned)port))
			continue;
		sqlite3_reset(del);
		sqlite3_bind_int(del, 1, p);
		sqlite3_bind_int(del, 2, port);
		sqlite3_bind_text(del, 3, (const char *)sqlite3_column_text(
		    sel, 2), -1, SQLITE_TRANSIENT);
		if (sqlite3_step(del) != SQLITE_DONE)
			goto fail;
	}
	json_array_foreach(json_object_get(doc, "listeners"), i, l) {
		const char *addr, *proc, *user;
		unsigned port;
		int proto;

		if (doc_listener(l, &proto, &addr, &port, &proc, &user) != 0)
			goto fail_set;
		sqlite3_reset(ins);
		sqlite3_bind_int(ins, 1, proto);
		sqlite3_bind_text(ins, 2, addr, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 3, (int)port);
		sqlite3_bind_text(ins, 4, proc, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, user, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 6, (sqlite3_int64)now);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto fail;
		saved++;
	}
	sqlite3_bind_int64(kv, 1, (sqlite3_int64)now);
	if (sqlite3_step(kv) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(kv);
	if (exec_sql(db, "COMMIT") != 0) {
		exec_sql(db, "ROLLBACK");
		return -1;
	}
	return saved;
fail:
	state_error(db);
fail_set:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(kv);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
pdx_audit_record(struct pdx_state *state, json_t *doc, unsigned max)
{
	sqlite3 *db = pdx_state_handle(state);
	sqlite3_stmt *run = NULL, *ins = NULL, *prune = NULL;
	json_t *sc = json_object_get(doc, "scope"), *sum, *l;
	sqlite3_int64 id;
	char scope[128];
	size_t i;

	if (max == 0)
		max = PDX_AUDIT_HISTORY_MAX;
	sum = json_object_get(doc, "summary");
	snprintf(scope, sizeof scope, "%s %s",
	    json_string_value(json_object_get(sc, "ports")) != NULL ?
	    json_string_value(json_object_get(sc, "ports")) : "?",
	    json_string_value(json_object_get(sc, "transports")) != NULL ?
	    json_string_value(json_object_get(sc, "transports")) : "?");
	if (exec_sql(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO audit_runs(at, scope,"
	    " listeners, findings, worst, complete) VALUES (?,?,?,?,?,?)", -1,
	    &run, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO audit_run_listeners"
	    "(run, proto, address, port, process, user) VALUES"
	    " (?,?,?,?,?,?)", -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "DELETE FROM audit_runs WHERE id <="
	    " (SELECT id FROM audit_runs ORDER BY id DESC LIMIT 1 OFFSET ?)",
	    -1, &prune, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(run, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(run, 2, scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(run, 3, json_integer_value(json_object_get(sum,
	    "listeners")));
	sqlite3_bind_int64(run, 4, json_integer_value(json_object_get(sum,
	    "findings")));
	sqlite3_bind_text(run, 5, json_string_value(json_object_get(sum,
	    "worst")) != NULL ? json_string_value(json_object_get(sum,
	    "worst")) : "none", -1, SQLITE_STATIC);
	sqlite3_bind_int(run, 6, json_is_true(json_object_get(doc,
	    "complete")));
	if (sqlite3_step(run) != SQLITE_DONE)
		goto fail;
	id = sqlite3_last_insert_rowid(db);
	json_array_foreach(json_object_get(doc, "listeners"), i, l) {
		const char *addr, *proc, *user;
		unsigned port;
		int proto;

		if (doc_listener(l, &proto, &addr, &port, &proc, &user) != 0)
			goto fail_set;
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_int(ins, 2, proto);
		sqlite3_bind_text(ins, 3, addr, -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 4, (int)port);
		sqlite3_bind_text(ins, 5, proc, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 6, user, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_bind_int64(prune, 1, (sqlite3_int64)max);
	if (sqlite3_step(prune) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(run);
	sqlite3_finalize(ins);
	sqlite3_finalize(prune);
	if (exec_sql(db, "COMMIT") != 0) {
		exec_sql(db, "ROLLBACK");
		return -1;
	}
	return 0;
fail:
	state_error(db);
fail_set:
	sqlite3_finalize(run);
	sqlite3_finalize(ins);
	sqlite3_finalize(prune);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* First and last time a listener was seen in the history (0: never). */
static void
seen_times(sqlite3_stmt *q, int proto, const char *addr, unsigned port,
    time_t *first, time_t *last)
{
	*first = *last = 0;
	sqlite3_reset(q);
	sqlite3_bind_int(q, 1, proto);
	sqlite3_bind_text(q, 2, addr, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 3, (int)port);
	if (sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL) {
		*first = (time_t)sqlite3_column_int64(q, 0);
		*last = (time_t)sqlite3_column_int64(q, 1);
	}
}

static const char seen_sql[] =
	"SELECT MIN(r.at), MAX(r.at) FROM audit_run_listeners l"
	" JOIN audit_runs r ON r.id = l.run WHERE l.proto = ?1"
	" AND l.address = ?2 AND l.port = ?3";

static json_t *
time_or_null(time_t t)
{
	return t > 0 ? json_time(t) : json_null();
}

json_t *
pdx_audit_diff(struct pdx_state *state, json_t *doc)
{
	sqlite3 *db = pdx_state_handle(state);
	sqlite3_stmt *bl = NULL, *seen = NULL, *kv = NULL;
	struct pdx_portset ps;
	json_t *cur, *added, *gone, *res = NULL, *l;
	int protos, have = 0;
	time_t saved = 0, first, last;
	char key[128];
	size_t i;

	if (doc_scope(doc, &ps, &protos) != 0)
		return NULL;
	cur = json_object();
	added = json_array();
	gone = json_array();
	if (cur == NULL || added == NULL || gone == NULL) {
		pdx_set_error("out of memory");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT value FROM audit_kv WHERE key ="
	    " 'baseline_saved'", -1, &kv, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT proto, address, port, process,"
	    " user, saved FROM audit_baseline ORDER BY port, proto, address",
	    -1, &bl, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, seen_sql, -1, &seen, NULL) != SQLITE_OK) {
		state_error(db);
		goto out;
	}
	if (sqlite3_step(kv) == SQLITE_ROW) {
		have = 1;
		saved = (time_t)sqlite3_column_int64(kv, 0);
	}
	json_array_foreach(json_object_get(doc, "listeners"), i, l) {
		const char *addr, *proc, *user;
		unsigned port;
		int proto;

		if (doc_listener(l, &proto, &addr, &port, &proc, &user) != 0)
			goto out;
		listener_key(proto, addr, port, key, sizeof key);
		json_object_set(cur, key, l);
	}
	while (have && sqlite3_step(bl) == SQLITE_ROW) {
		int proto = sqlite3_column_int(bl, 0), port;
		const char *addr = (const char *)sqlite3_column_text(bl, 1);

		port = sqlite3_column_int(bl, 2);
		if (addr == NULL || (proto & protos) == 0 || port < 0 ||
		    port > 65535 || !pdx_portset_has(&ps, (unsigned)port))
			continue;
		listener_key(proto, addr, (unsigned)port, key, sizeof key);
		if (json_object_get(cur, key) != NULL) {
			json_object_del(cur, key);	/* still there */
			continue;
		}
		seen_times(seen, proto, addr, (unsigned)port, &first, &last);
		json_array_append_new(gone, json_pack("{s:s, s:s, s:i, s:s,"
		    " s:s, s:o, s:o}",
		    "proto", pdx_proto_name(proto), "address", addr,
		    "port", port,
		    "process", (const char *)sqlite3_column_text(bl, 3),
		    "user", (const char *)sqlite3_column_text(bl, 4),
		    "in_baseline_since", json_time((time_t)
		    sqlite3_column_int64(bl, 5)),
		    "last_seen", time_or_null(last)));
	}
	/* What is left of the current listeners is new. */
	if (have)
		json_array_foreach(json_object_get(doc, "listeners"), i, l) {
			const char *addr, *proc, *user;
			unsigned port;
			int proto;

			if (doc_listener(l, &proto, &addr, &port, &proc,
			    &user) != 0)
				goto out;
			listener_key(proto, addr, port, key, sizeof key);
			if (json_object_get(cur, key) == NULL)
				continue;
			json_object_del(cur, key);	/* once per key */
			seen_times(seen, proto, addr, port, &first, &last);
			json_array_append_new(added, json_pack("{s:s, s:s, s:i,"
			    " s:s, s:s, s:O, s:o}",
			    "proto", pdx_proto_name(proto), "address", addr,
			    "port", (int)port, "process", proc, "user", user,
			    "pid", json_object_get(l, "pid") != NULL ?
			    json_object_get(l, "pid") : json_null(),
			    "first_seen", time_or_null(first)));
		}
	res = json_pack("{s:o, s:O, s:O, s:O}",
	    "baseline", have ? json_pack("{s:o}", "saved", json_time(saved)) :
	    json_null(), "scope", json_object_get(doc, "scope"),
	    "added", added, "gone", gone);
	if (res == NULL)
		pdx_set_error("out of memory");
out:
	sqlite3_finalize(kv);
	sqlite3_finalize(bl);
	sqlite3_finalize(seen);
	json_decref(cur);
	json_decref(added);
	json_decref(gone);
	return res;
}

json_t *
pdx_audit_history(struct pdx_state *state, const struct pdx_portset *ps)
{
	sqlite3 *db = pdx_state_handle(state);
	sqlite3_stmt *q = NULL, *r = NULL;
	json_t *a, *res = NULL;
	sqlite3_int64 last_run = 0, runs = 0, since = 0;

	if ((a = json_array()) == NULL) {
		pdx_set_error("out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v2(db, "SELECT COUNT(*), MIN(at), MAX(id) FROM"
	    " audit_runs", -1, &r, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT l.proto, l.address, l.port,"
	    " MIN(r.at), MAX(r.at), COUNT(*), MAX(l.run),"
	    " (SELECT l2.process FROM audit_run_listeners l2 WHERE"
	    " l2.proto = l.proto AND l2.address = l.address AND"
	    " l2.port = l.port ORDER BY l2.run DESC LIMIT 1),"
	    " (SELECT l2.user FROM audit_run_listeners l2 WHERE"
	    " l2.proto = l.proto AND l2.address = l.address AND"
	    " l2.port = l.port ORDER BY l2.run DESC LIMIT 1)"
	    " FROM audit_run_listeners l JOIN audit_runs r ON r.id = l.run"
	    " GROUP BY l.proto, l.address, l.port"
	    " ORDER BY MIN(r.at), l.port, l.proto, l.address", -1, &q, NULL)
	    != SQLITE_OK) {
		state_error(db);
		goto out;
	}
	if (sqlite3_step(r) == SQLITE_ROW) {
		runs = sqlite3_column_int64(r, 0);
		since = sqlite3_column_int64(r, 1);
		last_run = sqlite3_column_int64(r, 2);
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		int port = sqlite3_column_int(q, 2);
		const char *addr = (const char *)sqlite3_column_text(q, 1);
		const char *proc = (const char *)sqlite3_column_text(q, 7);
		const char *user = (const char *)sqlite3_column_text(q, 8);
		time_t first = (time_t)sqlite3_column_int64(q, 3);

		if (port < 0 || port > 65535 || addr == NULL ||
		    (ps != NULL && !pdx_portset_has(ps, (unsigned)port)))
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:o, s:o,"
		    " s:o, s:b, s:I, s:b}",
		    "proto", pdx_proto_name(sqlite3_column_int(q, 0)),
		    "address", addr, "port", port,
		    "process", opt_str(proc), "user", opt_str(user),
		    "first_seen", json_time(first),
		    "first_seen_is_history_start", (sqlite3_int64)first ==
		    since,
		    "runs", (json_int_t)sqlite3_column_int64(q, 5),
		    "in_latest_run", sqlite3_column_int64(q, 6) == last_run));
		json_object_set_new(json_array_get(a, json_array_size(a) - 1),
		    "last_seen", json_time((time_t)sqlite3_column_int64(q,
		    4)));
	}
	res = json_pack("{s:I, s:o, s:i, s:O}", "runs", (json_int_t)runs,
	    "since", runs > 0 ? json_time((time_t)since) : json_null(),
	    "max_runs", PDX_AUDIT_HISTORY_MAX, "listeners", a);
	if (res == NULL)
		pdx_set_error("out of memory");
out:
	sqlite3_finalize(r);
	sqlite3_finalize(q);
	json_decref(a);
	return res;
}
