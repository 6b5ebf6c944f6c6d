/*
 * audit-facts.c - the facts the rules read about a listener that
 * cost a system call: its executable (deleted, in a writable directory),
 * read once per process, and the saved baseline; and what the run could
 * not see, said plainly (audit_eval_completeness).
 */
#define _GNU_SOURCE /* strndup */
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
#include "audit-int.h"

/* Directories anyone may write to, whatever their mode says here. */
static const char *const writable_dirs[] = {
	"/tmp",
	"/var/tmp",
	"/dev/shm",
	"/run/shm",
	"/run/lock",
};

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
			return first
			    ? "a world-writable directory"
			    : "a directory inside a world-writable one";
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

	snprintf(path, sizeof path, "%s/%ld/exe", a->procdir, (long)l->s->pid);
	if ((n = readlink(path, exe, sizeof exe - 1)) < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	exe[n] = '\0';
	if ((size_t)n > dl && strcmp(exe + n - dl, del) == 0) {
		l->exe_deleted = 1;
		exe[n - dl] = '\0';
	}
	if ((l->exe = strdup(exe)) == NULL)
		return 0; /* out of memory: as if gone */
	l->exe_known = 1;
	if (exe[0] != '/')
		return 1; /* "/memfd:..." has a slash; others: no dir */
	snprintf(dir, sizeof dir, "%s", exe);
	if ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (strncmp(exe, "/memfd:", 7) != 0 &&
	    (l->exe_dir_why = writable_why(a->procdir, l->s->pid, dir)) !=
		NULL &&
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
int
audit_read_exe_once(struct audit *a, struct listener *ls, struct listener *l,
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
			/* o's strings, not copies: o outlives the run too */
			l->exe = o->exe;
			l->exe_dir = o->exe_dir;
			l->exe_borrowed = 1;
			l->exe_known = 1;
			l->exe_deleted = o->exe_deleted;
			l->exe_dir_why = o->exe_dir_why;
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

int
audit_state_error(sqlite3 *db)
{
	pdx_set_error("state database: %s", sqlite3_errmsg(db));
	return -1;
}

/* Loads the baseline keys and its saved time; 0 or -1. */
int
audit_load_baseline(struct audit *a)
{
	sqlite3 *db = pdx_state_handle(a->state);
	sqlite3_stmt *st;
	char key[128];

	if (db == NULL)
		return -1;

	if (sqlite3_prepare_v2(db,
		"SELECT value FROM audit_kv WHERE key ="
		" 'baseline_saved'",
		-1, &st, NULL) != SQLITE_OK)
		return audit_state_error(db);
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
	if (sqlite3_prepare_v2(db,
		"SELECT proto, address, port, saved FROM"
		" audit_baseline",
		-1, &st, NULL) != SQLITE_OK)
		return audit_state_error(db);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 1);

		audit_listener_key(sqlite3_column_int(st, 0),
		    addr != NULL ? addr : "",
		    (unsigned)sqlite3_column_int(st, 2), key, sizeof key);
		json_object_set_new(a->baseline, key,
		    json_integer(sqlite3_column_int64(st, 3)));
	}
	sqlite3_finalize(st);
	return 0;
}

static void add_reason(json_t *a, const char *fmt, ...)
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

/* What could not be seen, said plainly: into incomplete and notes. */
void
audit_eval_completeness(const struct eval *e, json_t *incomplete, json_t *notes)
{
	const struct pdx_attr_stats *st = e->st;

	if (e->a.db == NULL)
		add_reason(incomplete,
		    "no registry database: the rules about "
		    "ports (malware, dead or obsolete assignments, exposed "
		    "services, unauthorized use) were not evaluated (run "
		    "'portdex update')");
	if (e->a.state == NULL)
		add_reason(incomplete,
		    "no state database: notes and the "
		    "baseline were not consulted");
	if (st == NULL && e->no_pid > 0)
		add_reason(incomplete,
		    "processes were not looked up: the "
		    "process and executable rules were not evaluated");
	if (st != NULL && st->permission > 0)
		add_reason(incomplete,
		    "%zu of %zu listeners not attributed "
		    "to a process: permission denied reading %zu processes' "
		    "/proc/PID/fd (%s); their process and executable rules "
		    "were not evaluated",
		    st->permission, e->nl, st->denied_procs,
		    geteuid() == 0 ? "refused even to "
				     "root: ptrace or LSM restrictions"
				   : "run as root to see "
				     "them");
	if (st != NULL && st->no_process > 0) {
		if (geteuid() != 0)
			add_reason(incomplete,
			    "%zu listeners held by no "
			    "visible process (another PID namespace, or not "
			    "permitted): their process rules were not "
			    "evaluated",
			    st->no_process);
		else
			add_reason(notes,
			    "%zu listeners are held by no "
			    "process (the kernel's own, e.g. nfsd, or another "
			    "PID namespace)",
			    st->no_process);
	}
	if (e->exe_refused > 0)
		add_reason(incomplete,
		    "the executables of %zu listening "
		    "processes could not be read (/proc/PID/exe: permission "
		    "denied): the executable rules were not evaluated for "
		    "them",
		    e->exe_refused);
	if (e->requested == PDX_BACKEND_AUTO && e->backend == PDX_BACKEND_PROC)
		add_reason(incomplete,
		    "the kernel refused netlink sock_diag "
		    "(or lacks it for a protocol), so sockets were read from "
		    "/proc/net, which does not list every protocol");
	if (e->a.state != NULL && !e->a.have_baseline)
		add_reason(notes,
		    "no baseline saved: new listeners are "
		    "not reported (portdex audit --save-baseline)");
	add_reason(notes,
	    "listeners inside other network namespaces "
	    "(containers) are not audited");
}
