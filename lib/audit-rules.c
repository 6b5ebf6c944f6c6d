/*
 * audit-rules.c - the audit's rules: the table (id, level, what it
 * looks for, what to check next, check function), each check, and the
 * helpers they share with the evaluation (addresses, tools, exposure).
 */
#define _GNU_SOURCE /* strndup */
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
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
#include "audit-int.h"

static const struct tool tools[] = {
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

/* ---- small helpers ---------------------------------------------------- */

static void
iso_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *
audit_json_time(time_t t)
{
	char buf[32];

	iso_time(t, buf, sizeof buf);
	return json_string(buf);
}

int
audit_is_loopback(int family, const uint8_t *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (family == AF_INET)
		return a[0] == 127;
	return memcmp(a, lo6, 16) == 0 ||
	    (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 &&
		a[12] == 127);
}

int
audit_is_wildcard(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, family == AF_INET ? 4 : 16) == 0;
}

/* "0.0.0.0:645/tcp" or "[::]:645/tcp". */
void
audit_endpoint(const struct pdx_socket *s, char *buf, size_t size)
{
	struct abuf t;

	ab_init(&t, buf, size);
	ab_str(&t, s->family == AF_INET6 ? "[" : "");
	ab_str(&t, s->local);
	ab_str(&t, s->family == AF_INET6 ? "]:" : ":");
	ab_num(&t, s->lport);
	ab_str(&t, "/");
	ab_str(&t, pdx_proto_name(s->proto));
}

/* "nc (pid 42, user root) on 0.0.0.0:645/tcp (pssc)" */
void
audit_subject(const struct listener *l, char *buf, size_t size)
{
	const struct pdx_socket *s = l->s;
	const char *name = l->has_brief ? l->b.name : "";
	char ep[128], who[160];
	struct abuf t;

	if (l->pub != NULL) {
		ab_init(&t, buf, size);
		ab_str(&t, "port ");
		ab_num(&t, l->pub->port_lo);
		ab_str(&t, "/");
		ab_str(&t, pdx_proto_name(s->proto));
		ab_str(&t, ", published to ");
		ab_str(&t,
		    l->pub->to_addr[0] != '\0' ? l->pub->to_addr
					       : "this machine");
		ab_str(&t, ":");
		ab_num(&t,
		    l->pub->to_port != 0 ? l->pub->to_port : l->pub->port_lo);
	} else {
		audit_endpoint(s, ep, sizeof ep);
		ab_init(&t, who, sizeof who);
		if (s->pid > 0) {
			ab_str(&t, s->comm);
			ab_str(&t, " (pid ");
			ab_num(&t, (long)s->pid);
			ab_str(&t, ", user ");
			ab_str(&t, s->user != NULL ? s->user : "?");
			ab_str(&t, ")");
		} else if (s->user != NULL) {
			ab_str(&t, "a socket of user ");
			ab_str(&t, s->user);
			ab_str(&t, " (no process seen)");
		} else {
			ab_str(&t, "a socket of uid ");
			ab_num(&t, s->uid);
			ab_str(&t, " (no process seen)");
		}
		ab_init(&t, buf, size);
		ab_str(&t, who);
		ab_str(&t, " listening on ");
		ab_str(&t, ep);
	}
	if (name[0] != '\0') {
		ab_str(&t, " (");
		ab_str(&t, name);
		ab_str(&t, ")");
	}
}

void
ab_init(struct abuf *t, char *buf, size_t size)
{
	t->b = buf;
	t->len = 0;
	t->size = size;
	if (size > 0)
		buf[0] = '\0';
}

/* v in decimal, as %lld */
void
ab_num(struct abuf *t, long long v)
{
	char d[24];
	size_t i = sizeof d;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
				     : (unsigned long long)v;

	do
		d[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		d[--i] = '-';
	ab_mem(t, d + i, sizeof d - i);
}

/* The listener's baseline/history key. */
void
audit_listener_key(int proto, const char *address, unsigned port, char *buf,
    size_t size)
{
	struct abuf t;

	ab_init(&t, buf, size);
	ab_num(&t, proto);
	ab_str(&t, "\t");
	ab_str(&t, address);
	ab_str(&t, "\t");
	ab_num(&t, port);
}

const char *
audit_base_name(const char *path)
{
	const char *p = strrchr(path, '/');

	return p != NULL ? p + 1 : path;
}

/*
 * The first two letters of the tools' names, a bit each (tool_first_init,
 * once): most process names start otherwise, and need no look at the
 * table (a name matches only by starting with a tool's whole name).
 */
static unsigned char tool_first[256 * 256 / 8];
static pthread_once_t tool_first_once = PTHREAD_ONCE_INIT;

static void
tool_first_init(void)
{
	size_t i, k;

	for (i = 0; i < sizeof tools / sizeof *tools; i++) {
		const unsigned char *n = (const unsigned char *)tools[i].name;

		if (n[0] == '\0' || n[1] == '\0') { /* any second letter */
			for (k = 0; k < 256; k++)
				tool_first[(n[0] * 256 + k) / 8] |=
				    (unsigned char)(1u << (k % 8));
			if (n[0] == '\0') /* matches any name at all */
				memset(tool_first, 0xff, sizeof tool_first);
			continue;
		}
		tool_first[(n[0] * 256 + n[1]) / 8] |= (unsigned char)(1u
		    << (n[1] % 8));
	}
}

const struct tool *
audit_tool_match(const char *name, int exe)
{
	size_t i, n;
	unsigned k;

	if (name == NULL || *name == '\0')
		return NULL;
	/* most names start with no tool's letter: no need to look */
	pthread_once(&tool_first_once, tool_first_init);
	k = (unsigned)(unsigned char)name[0] * 256 + (unsigned char)name[1];
	if (!(tool_first[k / 8] & (1u << (k % 8))))
		return NULL;
	for (i = 0; i < sizeof tools / sizeof *tools; i++) {
		if (exe && !tools[i].by_exe)
			continue;
		if (tools[i].name[0] != name[0] && tools[i].name[0] != '\0')
			continue; /* cannot match: skip the strncmp */
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

/*
 * The risk reason id of the listener's port, or NULL; *family whether it
 * is a family rule's (its reason names the protocol).
 */
static const char *
reason_family(const struct listener *l, const char *id, int *family)
{
	uint32_t bits = l->reasons;
	unsigned i;

	for (i = 0; bits != 0; i++, bits >>= 1) {
		const char *rid;

		if ((bits & 1) &&
		    (rid = pdx_risk_reason_id(i, family)) != NULL &&
		    strcmp(rid, id) == 0)
			return rid;
	}
	return NULL;
}

static const char *
reason(const struct listener *l, const char *id)
{
	int family;

	return reason_family(l, id, &family);
}

/* What the reason says the protocol is (its "what"), or dflt. */
static const char *
reason_what(const struct listener *l, const char *id, const char *dflt)
{
	int family = 0;

	if (reason_family(l, id, &family) != NULL && family &&
	    l->reasons_what != NULL)
		return l->reasons_what;
	return dflt;
}

/* ---- the rules ---------------------------------------------------------- */

/*
 * The verdict that says most about exposure: for a dual-stack "::",
 * the more open of its two halves (open, restricted, unknown, filtered).
 */
static const struct pdx_verdict *
exposure(const struct listener *l)
{
	static const int rank[] = {
		[PDX_REACH_NONE] = 0,
		[PDX_REACH_LOOPBACK] = 0,
		[PDX_REACH_FILTERED] = 1,
		[PDX_REACH_UNKNOWN] = 2,
		[PDX_REACH_RESTRICTED] = 3,
		[PDX_REACH_OPEN] = 4,
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
	snprintf(c->buf + len, c->size - len,
	    ", but the firewall drops it "
	    "(%s)",
	    v->rule);
	c->level = PDX_LEVEL_INFO;
	return 1;
}

struct mal_keep {
	struct audit *a;
	size_t cap;
};

/* Keeps a malware row (a copy); non-zero stops the walk (no memory). */
static int
keep_malware(void *arg, const struct pdx_malware *m)
{
	struct mal_keep *k = arg;
	struct audit *a = k->a;
	struct mal_row *r;

	if (a->nmal == k->cap) {
		size_t cap = k->cap * 2 + 64;
		struct mal_row *v = realloc(a->mal, cap * sizeof *v);

		if (v == NULL)
			return 1;
		a->mal = v;
		k->cap = cap;
	}
	r = &a->mal[a->nmal];
	r->lo = m->lo;
	r->hi = m->hi;
	r->mask = m->mask;
	if ((r->name = strdup(m->name)) == NULL)
		return 1;
	a->nmal++;
	return 0;
}

/*
 * Reads the registry's malware rows once per run, ordered by name: a
 * listener's names are then found in memory (a range query per listener
 * walked most of the uses index).  From the brief file when the registry
 * was opened with it: audit then needs no SQLite.  On failure there are
 * none; the last error stays what it was.
 */
static void
read_malware(struct audit *a)
{
	struct mal_keep k = { a, 0 };
	const char *e = pdx_last_error();
	char saved[256];

	a->mal_read = 1;
	snprintf(saved, sizeof saved, "%s", e != NULL ? e : "");
	if (a->db != NULL)
		(void)pdx_db_malware(a->db, keep_malware, &k);
	/* an error on the way (a damaged brief file, SQL): not the caller's */
	if ((e = pdx_last_error()) == NULL)
		e = "";
	if (strncmp(e, saved, sizeof saved - 1) != 0 ||
	    strlen(e) < strlen(saved))
		pdx_set_error("%s", saved);
}

/* The names of the malware curated for the port, joined ("" if none). */
static void
malware_names(struct audit *a, const struct listener *l, char *buf, size_t size)
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
	struct abuf t;

	if (reason(c->l, id) == NULL)
		return 0;
	malware_names(c->a, c->l, names, sizeof names);
	ab_init(&t, c->buf, c->size); /* as "%s (%s)" or "%s" would */
	ab_str(&t, how);
	if (names[0] != '\0') {
		ab_str(&t, " (");
		ab_str(&t, names);
		ab_str(&t, ")");
	}
	return 1;
}

static int
check_malware(struct check_arg *c)
{
	return check_malware_common(c, "malware-port",
	    "this port is a "
	    "documented trojan or backdoor port");
}

static int
check_malware_shared(struct check_arg *c)
{
	return check_malware_common(c, "malware-port-shared",
	    "this port is "
	    "a documented trojan or backdoor port that legitimate software "
	    "also uses by default");
}

static int
check_malware_reported(struct check_arg *c)
{
	return check_malware_common(c, "malware-reported",
	    "malware is "
	    "reported (without a primary source) to use this port");
}

static int
check_relay_shell(struct check_arg *c)
{
	const struct listener *l = c->l;

	if (l->tool == NULL || l->tool->kind == TOOL_INTERP)
		return 0;
	snprintf(c->buf, c->size,
	    "%s is %s, not a service; a listening "
	    "one is the shape of a bind shell or an ad-hoc relay%s%s",
	    l->tool->name,
	    l->tool->kind == TOOL_RELAY
		? "a general-purpose relay (netcat/socat)"
		: "a shell",
	    l->has_brief && l->b.name[0] != '\0' ? ", not the registered "
						   "service "
						 : "",
	    l->has_brief ? l->b.name : "");
	return 1;
}

static int
check_interpreter(struct check_arg *c)
{
	const struct listener *l = c->l;

	if (l->tool == NULL || l->tool->kind != TOOL_INTERP || !l->has_brief ||
	    l->b.status != PDX_ST_ASSIGNED || l->b.name[0] == '\0' ||
	    l->s->lport >= 49152)
		return 0;
	snprintf(c->buf, c->size,
	    "a bare %s interpreter holds the port "
	    "IANA registers for %s: a script run by hand, not the "
	    "registered service",
	    l->s->comm, l->b.name);
	return 1;
}

static int
check_deleted_exe(struct check_arg *c)
{
	if (!c->l->exe_known || !c->l->exe_deleted)
		return 0;
	snprintf(c->buf, c->size, "its executable %s has been deleted%s",
	    c->l->exe,
	    strncmp(c->l->exe, "/memfd:", 7) == 0
		? " (it only ever existed in memory)"
		: " since it started");
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
	snprintf(c->buf, c->size,
	    "%s (cleartext remote login) is "
	    "reachable from %s",
	    reason_what(c->l, "cleartext-login", "a cleartext login service"),
	    c->l->wildcard ? "every interface" : "the network");
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
int
audit_check_admin_published(struct check_arg *c)
{
	const struct pdx_published *p = c->l->pub;

	if (p == NULL || reason(c->l, "admin-exposure") == NULL)
		return 0;
	snprintf(c->buf, c->size,
	    "%s is published to the network by a "
	    "%s rule (%s)",
	    reason_what(c->l, "admin-exposure", "a database or admin API"),
	    strcmp(p->kind, "dnat") == 0 ? "DNAT" : "redirect", p->rule);
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
	snprintf(c->buf, c->size,
	    "the firewall accepts it from anywhere "
	    "(%s) and the port's risk is %s",
	    v->rule[0] != '\0' ? v->rule : "no rule stops it",
	    pdx_level_name(c->l->b.risk));
	return 1;
}

static int
check_dead(struct check_arg *c)
{
	if (reason(c->l, "no-living-service") == NULL)
		return 0;
	snprintf(c->buf, c->size,
	    "this well-known port has no living IANA "
	    "assignment (%s%s%s)",
	    pdx_status_name(c->l->b.status),
	    c->l->b.name[0] != '\0' ? ", was " : "", c->l->b.name);
	return 1;
}

static int
check_obsolete(struct check_arg *c)
{
	if (reason(c->l, "obsolete-service") == NULL)
		return 0;
	snprintf(c->buf, c->size,
	    "IANA still assigns this well-known port "
	    "to %s, a service long obsolete",
	    c->l->b.name[0] != '\0' ? c->l->b.name : "a service");
	return 1;
}

static int
check_unauth(struct check_arg *c)
{
	if (reason(c->l, "iana-unauthorized-use") == NULL)
		return 0;
	snprintf(c->buf, c->size,
	    "IANA records unauthorized use of this "
	    "port, so it may not be %s",
	    c->l->b.name[0] != '\0' ? c->l->b.name : "the registered service");
	return 1;
}

static int
check_new(struct check_arg *c)
{
	struct abuf b;
	char t[32];

	if (c->l->in_baseline)
		return 0;
	/* the same clause for every listener: made once */
	if (c->a->new_clause == NULL) {
		char clause[128];

		iso_time(c->a->baseline_saved, t, sizeof t);
		snprintf(clause, sizeof clause,
		    "it was not listening when "
		    "the baseline was saved (%s)",
		    t);
		if ((c->a->new_clause = strdup(clause)) == NULL) {
			snprintf(c->buf, c->size, "%s", clause);
			return 1;
		}
	}
	ab_init(&b, c->buf, c->size);
	ab_str(&b, c->a->new_clause);
	return 1;
}

static int
check_undocumented(struct check_arg *c)
{
	struct abuf t;

	if (c->l->noted)
		return 0;
	ab_init(&t, c->buf, c->size); /* as snprintf, without a format */
	ab_str(&t, "nobody recorded what it is for");
	return 1;
}

const struct audit_rule audit_rules[] = {
	{ "malware-port", PDX_LEVEL_HIGH, NEED_DB,
	    "a listener on a documented trojan or backdoor port",
	    "check which binary runs (ls -l /proc/{pid}/exe) and whether a "
	    "package owns it (dpkg -S, rpm -qf); stop it if nothing explains "
	    "it",
	    check_malware },
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
	    "to loopback; use SSH",
	    check_cleartext_login },
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
	    audit_check_admin_published },
	{ "risky-port-open", PDX_LEVEL_MEDIUM, NEED_DB,
	    "a listener on a risky port (no other exposure rule's) that the "
	    "firewall accepts from any source",
	    "restrict it to the sources that need it (ip saddr ... accept) "
	    "or bind it to a private address",
	    check_open_risky },
	{ "malware-port-shared", PDX_LEVEL_MEDIUM, NEED_DB,
	    "a listener on a trojan port that legitimate software also uses",
	    "check that the process is the product you expect (portdex ls -p "
	    "{port}, ls -l /proc/{pid}/exe)",
	    check_malware_shared },
	{ "malware-reported", PDX_LEVEL_LOW, NEED_DB,
	    "a listener on a port malware is reported to use",
	    "check which binary runs (ls -l /proc/{pid}/exe) and whether a "
	    "package owns it",
	    check_malware_reported },
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
	    "no current implementation",
	    check_obsolete },
	{ "cleartext-service-exposed", PDX_LEVEL_MEDIUM, NEED_DB,
	    "FTP, TFTP or finger reachable on a non-loopback address",
	    "keep it off untrusted networks (bind a private address, "
	    "firewall) or move to SFTP/HTTPS",
	    check_cleartext_service },
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
	    "script it runs",
	    check_interpreter },
	{ "new-since-baseline", PDX_LEVEL_MEDIUM, NEED_STATE | NEED_BASELINE,
	    "a listener that was not there when the baseline was saved",
	    "if it is expected, save a new baseline (portdex audit "
	    "--save-baseline); otherwise find what started it",
	    check_new },
	{ "iana-unauthorized-use", PDX_LEVEL_LOW, NEED_DB,
	    "a listener on a port for which IANA records unauthorized use",
	    "check that the process is the service you expect (portdex "
	    "{port})",
	    check_unauth },
	{ "undocumented-listener", PDX_LEVEL_INFO, NEED_STATE,
	    "a listener whose port has no note",
	    "record what it is for: portdex note {port}/{proto} TEXT",
	    check_undocumented },
};
const size_t audit_nrules = sizeof audit_rules / sizeof *audit_rules;

json_t *
pdx_audit_rules(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < NRULES; i++)
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:s, s:s}", "rule", audit_rules[i].id,
			"level", pdx_level_name(audit_rules[i].level), "text",
			audit_rules[i].text, "next", audit_rules[i].next));
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
