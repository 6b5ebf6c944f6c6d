/*
 * test_audit.c - unit tests for lib/audit.c without live sockets: the
 * accept syntax and the config file parser (good lines, every kind of bad
 * line named by FILE:LINE), the rule table, the process and executable
 * rules over hand-made sockets whose /proc is a scratch directory (exe
 * links that say " (deleted)", live in /tmp, or are a renamed socat),
 * notes suppressing "undocumented", accepted findings kept and sorted
 * last, what makes an audit incomplete, and the baseline, diff and the
 * bounded history in a scratch state database.  The registry's rules are
 * covered by tests/cli/test-audit.sh with real listeners.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "portdex/audit.h"
#include "audit-int.h"

static char dir[256];

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static struct pdx_socket
sock(int proto, const char *addr, unsigned port, pid_t pid, const char *comm)
{
	struct pdx_socket s;

	memset(&s, 0, sizeof s);
	s.proto = proto;
	s.family = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(s.family, addr, s.laddr), 1);
	s.lport = port;
	s.state = proto == PDX_TCP ? PDX_SS_LISTEN : PDX_SS_CLOSE;
	snprintf(s.local, sizeof s.local, "%s", addr);
	s.uid = 0;
	s.inode = 1000 + port;
	s.pid = pid;
	if (comm != NULL)
		snprintf(s.comm, sizeof s.comm, "%s", comm);
	s.user = pid > 0 ? (char *)"root" : NULL;
	return s;
}

/* A fake /proc/PID with an exe link to target and root -> "/". */
static void
fake_proc(const char *procdir, pid_t pid, const char *target)
{
	char p[512];

	snprintf(p, sizeof p, "%s/%ld", procdir, (long)pid);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/%ld/exe", procdir, (long)pid);
	assert_int_equal(symlink(target, p), 0);
	snprintf(p, sizeof p, "%s/%ld/root", procdir, (long)pid);
	assert_int_equal(symlink("/", p), 0);
}

/* The finding of rule on port, or NULL. */
static json_t *
finding(json_t *doc, const char *rule, unsigned port)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(doc, "findings"), i,
	    f) if (strcmp(json_string_value(json_object_get(f, "rule")),
		       rule) == 0 &&
	    json_integer_value(json_object_get(f, "port")) ==
		(json_int_t)port) return f;
	return NULL;
}

static size_t
count_rule(json_t *doc, const char *rule)
{
	json_t *f;
	size_t i, n = 0;

	json_array_foreach(json_object_get(doc, "findings"), i,
	    f) if (strcmp(json_string_value(json_object_get(f, "rule")),
		       rule) == 0) n++;
	return n;
}

static int
any_reason(json_t *doc, const char *key, const char *word)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(doc, key), i,
	    r) if (strstr(json_string_value(r), word) != NULL) return 1;
	return 0;
}

/* ---- accepts and config ---------------------------------------------- */

static void
test_accept_specs(void **unused)
{
	struct pdx_audit_accepts a;
	static const char *const bad[] = {
		"",
		"no-such-rule",
		"malware-port:",
		"malware-port:70000",
		"malware-port:-1",
		"malware-port:1/xyz",
		"malware-port:x",
		"malware-port:22/",
		":22",
	};
	size_t i;

	memset(&a, 0, sizeof a);
	assert_int_equal(pdx_audit_accept_add(&a, "malware-port", "r", "o"), 0);
	assert_int_equal(pdx_audit_accept_add(&a, "malware-port:31337/udp",
			     NULL, NULL),
	    0);
	assert_int_equal(pdx_audit_accept_add(&a, "*:8000", "dev", "x"), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.v[0].port, -1);
	assert_int_equal(a.v[0].proto, 0);
	assert_int_equal(a.v[1].port, 31337);
	assert_int_equal(a.v[1].proto, PDX_UDP);
	assert_string_equal(a.v[1].reason, "");
	assert_string_equal(a.v[2].rule, "*");
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(pdx_audit_accept_add(&a, bad[i], "", ""), -1);
		assert_true(strlen(pdx_last_error()) > 0);
	}
	assert_int_equal(a.n, 3);
	pdx_audit_accepts_free(&a);
	assert_int_equal(a.n, 0);
}

static void
test_config(void **unused)
{
	struct pdx_audit_accepts a;
	char path[512], msg[600];
	static const char good[] =
	    "# comment\n"
	    "\n"
	    "   accept malware-port:31337/udp   honeypot, ticket 42  \n"
	    "\taccept\tundocumented-listener\r\n"
	    "accept *:8000 dev server"; /* no final newline */
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "accept malware-port\nallow x\n", ":2: unknown directive" },
		{ "accept\n", ":1: 'accept' needs" },
		{ "#\n#\naccept nope:1\n", ":3: unknown rule 'nope'" },
		{ "accept malware-port:99999\n", ":1: " },
		{ "accept malware-port:1/bogus\n", "unknown transport" },
	};
	size_t i;

	memset(&a, 0, sizeof a);
	snprintf(path, sizeof path, "%s/audit.conf", dir);
	write_file(path, good, sizeof good - 1);
	assert_int_equal(pdx_audit_config_load(&a, path, 0), 3);
	assert_string_equal(a.v[0].reason, "honeypot, ticket 42");
	snprintf(msg, sizeof msg, "%s:3", path);
	assert_string_equal(a.v[0].origin, msg);
	assert_string_equal(a.v[1].rule, "undocumented-listener");
	assert_string_equal(a.v[1].reason, "");
	assert_string_equal(a.v[2].reason, "dev server");
	pdx_audit_accepts_free(&a);

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		write_file(path, bad[i].text, strlen(bad[i].text));
		assert_int_equal(pdx_audit_config_load(&a, path, 0), -1);
		assert_non_null(strstr(pdx_last_error(), bad[i].want));
		assert_non_null(strstr(pdx_last_error(), path));
		pdx_audit_accepts_free(&a);
	}
	write_file(path, "accept malware-port\0\n", 21);
	assert_int_equal(pdx_audit_config_load(&a, path, 0), -1);
	assert_non_null(strstr(pdx_last_error(), "NUL"));
	/* Missing: an error only when asked for by name. */
	snprintf(path, sizeof path, "%s/none.conf", dir);
	assert_int_equal(pdx_audit_config_load(&a, path, 1), 0);
	assert_int_equal(pdx_audit_config_load(&a, path, 0), -1);
	/* A directory is not a config file. */
	assert_int_equal(pdx_audit_config_load(&a, dir, 1), -1);
	pdx_audit_accepts_free(&a);
}

static void
test_rules_table(void **unused)
{
	json_t *r = pdx_audit_rules(), *x;
	size_t i, j;

	assert_int_equal(json_array_size(r), 18);
	json_array_foreach(r, i, x)
	{
		const char *id = json_string_value(json_object_get(x, "rule"));

		assert_true(pdx_audit_rule_exists(id));
		assert_true(pdx_level_parse(json_string_value(json_object_get(x,
				"level"))) >= PDX_LEVEL_INFO);
		assert_true(
		    strlen(json_string_value(json_object_get(x, "next"))) > 20);
		for (j = 0; j < i; j++)
			assert_string_not_equal(id,
			    json_string_value(
				json_object_get(json_array_get(r, j), "rule")));
	}
	assert_false(pdx_audit_rule_exists("nope"));
	json_decref(r);
}

/* ---- evaluation ------------------------------------------------------- */

static struct pdx_state *
fresh_state(const char *name)
{
	char path[512];
	struct pdx_state *st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	st = pdx_state_open(path);
	assert_non_null(st);
	return st;
}

static void
test_process_rules(void **unused)
{
	char procdir[512];
	struct pdx_socket v[6];
	struct pdx_audit_opts o;
	struct pdx_attr_stats st;
	struct pdx_state *state = fresh_state("proc.db");
	json_t *doc, *f;

	snprintf(procdir, sizeof procdir, "%s/proc", dir);
	assert_int_equal(mkdir(procdir, 0755), 0);
	fake_proc(procdir, 101, "/tmp/evil (deleted)");
	fake_proc(procdir, 102, "/usr/bin/socat");
	fake_proc(procdir, 103, "/usr/bin/true");
	fake_proc(procdir, 104, "/memfd:x (deleted)");
	v[0] = sock(PDX_TCP, "127.0.0.1", 3000, 101, "evil");
	v[1] = sock(PDX_TCP, "0.0.0.0", 4000, 102, "sshd");
	v[2] = sock(PDX_UDP, "::1", 4001, 103, "true");
	v[3] = sock(PDX_TCP, "127.0.0.1", 4002, 104, "bash");
	v[4] = sock(PDX_TCP, "127.0.0.1", 4003, 0, NULL);
	v[5] = sock(PDX_TCP, "127.0.0.1", 4004, 105, "python3");
	assert_int_equal(pdx_note_add(state, 4001, PDX_UDP, "ours"), 0);
	assert_int_equal(pdx_note_add(state, 4002, PDX_UDP, "other proto"), 0);
	memset(&o, 0, sizeof o);
	o.procdir = procdir;
	memset(&st, 0, sizeof st);
	doc = pdx_audit_evaluate(NULL, state, &o, v, 6, &st, PDX_BACKEND_AUTO,
	    PDX_BACKEND_NETLINK);
	assert_non_null(doc);

	f = finding(doc, "deleted-executable", 3000);
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "exe")),
	    "/tmp/evil");
	assert_string_equal(json_string_value(json_object_get(f, "level")),
	    "high");
	assert_int_equal(json_integer_value(json_object_get(f, "pid")), 101);
	assert_non_null(finding(doc, "writable-exe-dir", 3000));
	/* Renamed socat: caught by its executable's name. */
	assert_non_null(finding(doc, "relay-or-shell-listener", 4000));
	/* A shell running from memory. */
	assert_non_null(finding(doc, "relay-or-shell-listener", 4002));
	assert_non_null(finding(doc, "deleted-executable", 4002));
	assert_null(finding(doc, "writable-exe-dir", 4002));
	/* A system binary, noted: nothing at all. */
	assert_null(finding(doc, "relay-or-shell-listener", 4001));
	assert_null(finding(doc, "undocumented-listener", 4001));
	/* A note for another transport does not count. */
	assert_non_null(finding(doc, "undocumented-listener", 4002));
	/* No registry: the interpreter rule cannot run. */
	assert_int_equal(count_rule(doc, "interpreter-listener"), 0);
	assert_int_equal(count_rule(doc, "deleted-executable"), 2);
	assert_int_equal(count_rule(doc, "relay-or-shell-listener"), 2);
	/* Pid 105 has no /proc entry: gone, not refused. */
	assert_false(json_is_true(json_object_get(doc, "complete")));
	assert_true(any_reason(doc, "incomplete", "no registry"));
	assert_false(any_reason(doc, "incomplete", "permission denied"));
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(doc, "summary"),
				 "unattributed")),
	    1);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(doc, "summary"),
				 "listeners")),
	    6);
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(doc, "summary"),
				    "worst")),
	    "high");
	assert_int_equal(pdx_audit_worst(doc), PDX_LEVEL_HIGH);
	{
		/* no_findings: the same document less the findings */
		json_t *lean, *full = json_deep_copy(doc);

		o.no_findings = 1;
		lean = pdx_audit_evaluate(NULL, state, &o, v, 6, &st,
		    PDX_BACKEND_AUTO, PDX_BACKEND_NETLINK);
		o.no_findings = 0;
		assert_non_null(lean);
		assert_true(
		    json_array_size(json_object_get(full, "findings")) > 0);
		assert_int_equal(json_array_size(
				     json_object_get(lean, "findings")),
		    0);
		json_object_del(full, "findings");
		json_object_del(lean, "findings");
		json_object_del(full, "time");
		json_object_del(lean, "time");
		assert_true(json_equal(full, lean));
		json_decref(full);
		json_decref(lean);
	}
	json_decref(doc);

	/* What was not seen, said. */
	st.permission = 2;
	st.denied_procs = 3;
	doc = pdx_audit_evaluate(NULL, NULL, &o, v, 6, &st, PDX_BACKEND_AUTO,
	    PDX_BACKEND_PROC);
	assert_true(any_reason(doc, "incomplete", "permission denied"));
	assert_true(any_reason(doc, "incomplete", "netlink"));
	assert_true(any_reason(doc, "incomplete", "no state database"));
	assert_int_equal(count_rule(doc, "undocumented-listener"), 0);
	json_decref(doc);
	/* --proc asked for: not a refusal. */
	memset(&st, 0, sizeof st);
	doc = pdx_audit_evaluate(NULL, NULL, &o, v, 1, &st, PDX_BACKEND_PROC,
	    PDX_BACKEND_PROC);
	assert_false(any_reason(doc, "incomplete", "netlink"));
	json_decref(doc);
	pdx_state_close(state);
}

static void
test_accepted_sorted(void **unused)
{
	struct pdx_socket v[2];
	struct pdx_audit_opts o;
	struct pdx_audit_accepts a;
	struct pdx_state *state = fresh_state("acc.db");
	json_t *doc, *f;
	size_t i;
	int last = PDX_LEVEL_HIGH + 1, seen_acc = 0;

	v[0] = sock(PDX_TCP, "0.0.0.0", 645, 7, "nc");
	v[1] = sock(PDX_TCP, "0.0.0.0", 646, 8, "ncat");
	memset(&a, 0, sizeof a);
	assert_int_equal(pdx_audit_accept_add(&a,
			     "relay-or-shell-listener:645/tcp", "lab box",
			     "test:1"),
	    0);
	memset(&o, 0, sizeof o);
	o.procdir = "/nonexistent-proc";
	o.accepts = &a;
	doc = pdx_audit_evaluate(NULL, state, &o, v, 2, NULL, PDX_BACKEND_AUTO,
	    PDX_BACKEND_NETLINK);
	assert_non_null(doc);
	f = finding(doc, "relay-or-shell-listener", 645);
	assert_true(json_is_true(json_object_get(f, "accepted")));
	assert_string_equal(json_string_value(
				json_object_get(f, "accepted_reason")),
	    "lab box");
	assert_string_equal(json_string_value(
				json_object_get(f, "accepted_by")),
	    "test:1");
	assert_false(json_is_true(
	    json_object_get(finding(doc, "relay-or-shell-listener", 646),
		"accepted")));
	/* Not accepted first, most severe first; accepted ones last. */
	json_array_foreach(json_object_get(doc, "findings"), i, f)
	{
		int acc = json_is_true(json_object_get(f, "accepted"));
		int l = pdx_level_parse(
		    json_string_value(json_object_get(f, "level")));

		if (acc && !seen_acc) {
			seen_acc = 1;
			last = PDX_LEVEL_HIGH + 1;
		}
		assert_true(acc == seen_acc);
		assert_true(l <= last);
		last = l;
	}
	assert_true(seen_acc);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(doc, "summary"),
				 "accepted")),
	    1);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(doc, "summary"),
				 "high")),
	    1);
	json_decref(doc);
	pdx_audit_accepts_free(&a);
	pdx_state_close(state);
}

/* ---- baseline, diff, history ------------------------------------------ */

static json_t *
run_over(struct pdx_state *state, const char *ports, struct pdx_socket *v,
    size_t n)
{
	struct pdx_audit_opts o;
	json_t *doc;

	memset(&o, 0, sizeof o);
	o.ports = ports;
	o.procdir = "/nonexistent-proc";
	doc = pdx_audit_evaluate(NULL, state, &o, v, n, NULL, PDX_BACKEND_AUTO,
	    PDX_BACKEND_NETLINK);
	assert_non_null(doc);
	return doc;
}

static void
test_baseline_diff_history(void **unused)
{
	struct pdx_state *state = fresh_state("base.db");
	struct pdx_socket v[3];
	struct pdx_portset ps;
	json_t *doc, *d, *h;
	sqlite3_stmt *q;
	int i;

	v[0] = sock(PDX_TCP, "127.0.0.1", 4001, 0, NULL);
	v[1] = sock(PDX_TCP, "127.0.0.1", 4002, 0, NULL);
	v[2] = sock(PDX_TCP, "127.0.0.1", 4003, 0, NULL);

	doc = run_over(state, "4001-4003", v, 2);
	assert_int_equal(count_rule(doc, "new-since-baseline"), 0);
	assert_true(json_is_null(json_object_get(doc, "baseline")));
	d = pdx_audit_diff(state, doc);
	assert_true(json_is_null(json_object_get(d, "baseline")));
	json_decref(d);
	assert_int_equal(pdx_audit_record(state, doc, 3), 0);
	assert_int_equal(pdx_audit_save_baseline(state, doc), 2);
	json_decref(doc);

	/* 4002 gone, 4003 added. */
	{
		struct pdx_socket w[2] = { v[0], v[2] };

		doc = run_over(state, "4001-4003", w, 2);
	}
	assert_false(json_is_null(json_object_get(doc, "baseline")));
	assert_int_equal(count_rule(doc, "new-since-baseline"), 1);
	assert_non_null(finding(doc, "new-since-baseline", 4003));
	assert_int_equal(pdx_audit_record(state, doc, 3), 0);
	d = pdx_audit_diff(state, doc);
	assert_non_null(d);
	assert_int_equal(json_array_size(json_object_get(d, "added")), 1);
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(json_object_get(d,
								"added"),
						 0),
				 "port")),
	    4003);
	assert_false(json_is_null(
	    json_object_get(json_array_get(json_object_get(d, "added"), 0),
		"first_seen")));
	assert_int_equal(json_array_size(json_object_get(d, "gone")), 1);
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(json_object_get(d,
								"gone"),
						 0),
				 "port")),
	    4002);
	assert_false(json_is_null(
	    json_object_get(json_array_get(json_object_get(d, "gone"), 0),
		"last_seen")));
	json_decref(d);
	json_decref(doc);

	/* A diff scoped to 4001 sees neither change. */
	doc = run_over(state, "4001", v, 1);
	d = pdx_audit_diff(state, doc);
	assert_int_equal(json_array_size(json_object_get(d, "added")), 0);
	assert_int_equal(json_array_size(json_object_get(d, "gone")), 0);
	json_decref(d);
	/* Saving the baseline of 4001 alone keeps 4002's row. */
	assert_int_equal(pdx_audit_save_baseline(state, doc), 1);
	json_decref(doc);
	doc = run_over(state, "4001-4003", v, 1);
	d = pdx_audit_diff(state, doc);
	assert_int_equal(json_array_size(json_object_get(d, "gone")), 1);
	json_decref(d);
	json_decref(doc);

	/* The history is bounded: 3 runs kept of many. */
	for (i = 0; i < 5; i++) {
		doc = run_over(state, "4001-4003", v, 3);
		assert_int_equal(pdx_audit_record(state, doc, 3), 0);
		json_decref(doc);
	}
	assert_int_equal(
	    sqlite3_prepare_v2(pdx_state_handle(state),
		"SELECT (SELECT COUNT(*) FROM audit_runs), (SELECT COUNT(*) FROM"
		" audit_spans s" SPAN_RUNS("s",
		    "r") "), (SELECT COUNT(*) FROM"
			 " audit_spans WHERE last_run < (SELECT MIN(id) FROM audit_runs))",
		-1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 3);
	/* 3 listeners in each of the 3 runs kept; spans of pruned runs gone */
	assert_int_equal(sqlite3_column_int(q, 1), 9);
	assert_int_equal(sqlite3_column_int(q, 2), 0);
	sqlite3_finalize(q);
	pdx_portset_clear(&ps);
	pdx_portset_add(&ps, 4002, 4003);
	h = pdx_audit_history(state, &ps);
	assert_non_null(h);
	assert_int_equal(json_integer_value(json_object_get(h, "runs")), 3);
	assert_int_equal(json_array_size(json_object_get(h, "listeners")), 2);
	assert_true(json_is_true(
	    json_object_get(json_array_get(json_object_get(h, "listeners"), 0),
		"in_latest_run")));
	json_decref(h);

	/* A malformed document is refused, not trusted. */
	doc = json_pack("{s:{s:s, s:s}, s:[{s:s}]}", "scope", "ports", "all",
	    "transports", "tcp", "listeners", "proto", "tcp");
	assert_int_equal(pdx_audit_save_baseline(state, doc), -1);
	assert_int_equal(pdx_audit_record(state, doc, 3), -1);
	json_decref(doc);
	doc = json_object();
	assert_null(pdx_audit_diff(state, doc));
	json_decref(doc);
	pdx_state_close(state);
}

/* A process name that is not text must neither fail nor pass through. */
/* An integer the state's sql gives. */
static long long
state_int(struct pdx_state *state, const char *sql)
{
	sqlite3_stmt *q;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(pdx_state_handle(state), sql, -1,
			     &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* Records a run of v over 5001-5002. */
static void
record_over(struct pdx_state *state, struct pdx_socket *v, size_t n)
{
	json_t *doc = run_over(state, "5001-5002", v, n);

	assert_int_equal(pdx_audit_record(state, doc, 0), 0);
	json_decref(doc);
}

/*
 * The open spans' digest: a run with the latest run's listeners writes no
 * span; one that differs, or follows a run the digest does not name (an
 * older portdex's), compares and writes them as before.
 */
static void
test_history_digest(void **unused)
{
	struct pdx_state *state = fresh_state("digest.db");
	struct pdx_socket v[2], w[2];
	char sql[256];

	v[0] = sock(PDX_TCP, "127.0.0.1", 5001, 0, NULL);
	v[1] = sock(PDX_TCP, "127.0.0.1", 5002, 0, NULL);
	w[0] = sock(PDX_TCP, "127.0.0.1", 5001, 77, "other");
	w[1] = v[1];
	record_over(state, v, 2);
	record_over(state, v, 2);
	assert_int_equal(
	    state_int(state,
		"SELECT COUNT(*) FROM audit_kv"
		" WHERE key = 'spans_digest' AND value LIKE '1 2 2 %'"),
	    1);
	assert_int_equal(state_int(state, "SELECT COUNT(*) FROM audit_spans"),
	    2);
	/* 5001's process changes: its span closes at run 2, one opens */
	record_over(state, w, 2);
	assert_int_equal(
	    state_int(state,
		"SELECT COUNT(*) FROM audit_spans"
		" WHERE port = 5001 AND first_run = 1 AND last_run = 2"),
	    1);
	assert_int_equal(
	    state_int(state,
		"SELECT COUNT(*) FROM audit_spans"
		" WHERE port = 5001 AND first_run = 3 AND last_run IS NULL AND"
		" process = 'other'"),
	    1);
	record_over(state, w, 2);
	assert_int_equal(state_int(state, "SELECT COUNT(*) FROM audit_spans"),
	    3);
	/* another writer's run: 5002's span closed, no digest of its own */
	snprintf(sql, sizeof sql,
	    "INSERT INTO audit_runs(id, at, scope,"
	    " listeners, findings, worst, complete) VALUES (5, 0, 'x', 1, 0,"
	    " 'none', 1); UPDATE audit_spans SET last_run = 4 WHERE port ="
	    " 5002");
	assert_int_equal(sqlite3_exec(pdx_state_handle(state), sql, NULL, NULL,
			     NULL),
	    SQLITE_OK);
	record_over(state, w, 2);
	assert_int_equal(
	    state_int(state,
		"SELECT COUNT(*) FROM audit_spans"
		" WHERE port = 5002 AND first_run = 6 AND last_run IS NULL"),
	    1);
	assert_int_equal(
	    state_int(state,
		"SELECT COUNT(*) FROM audit_kv"
		" WHERE key = 'spans_digest' AND value LIKE '1 6 2 %'"),
	    1);
	/* a damaged digest is not trusted either */
	assert_int_equal(
	    sqlite3_exec(pdx_state_handle(state),
		"UPDATE"
		" audit_kv SET value = '1 6 2 zz' WHERE key = 'spans_digest';"
		" DELETE FROM audit_spans WHERE port = 5001 AND last_run IS NULL",
		NULL, NULL, NULL),
	    SQLITE_OK);
	record_over(state, w, 2);
	assert_int_equal(state_int(state,
			     "SELECT COUNT(*) FROM audit_spans"
			     " WHERE last_run IS NULL"),
	    2);
	pdx_state_close(state);
	(void)unused;
}

static void
test_hostile_names(void **unused)
{
	struct pdx_socket v[1];
	struct pdx_audit_opts o;
	json_t *doc, *l;
	const char *p;

	v[0] = sock(PDX_TCP, "127.0.0.1", 4100, 9, "x\xff\x1b[2Jy");
	memset(&o, 0, sizeof o);
	o.procdir = "/nonexistent-proc";
	doc = pdx_audit_evaluate(NULL, NULL, &o, v, 1, NULL, PDX_BACKEND_AUTO,
	    PDX_BACKEND_NETLINK);
	assert_non_null(doc);
	l = json_array_get(json_object_get(doc, "listeners"), 0);
	p = json_string_value(json_object_get(l, "process"));
	assert_non_null(p);
	assert_string_equal(p, "x??[2Jy");
	json_decref(doc);
}

static void
test_bad_scope(void **unused)
{
	struct pdx_audit_opts o;

	memset(&o, 0, sizeof o);
	o.ports = "1-70000";
	assert_null(pdx_audit_evaluate(NULL, NULL, &o, NULL, 0, NULL, 0, 0));
	assert_null(pdx_audit_run(NULL, NULL, &o));
	{
		size_t c[4];

		assert_int_equal(pdx_audit_count(NULL, NULL, &o, c, 4, NULL),
		    -1);
	}
}

/*
 * pdx_audit_count's counts are the document's: a listener of this test
 * on 0.0.0.0 (its own port: no other process's sockets in scope) while
 * this process is named "nc" (a relay), counted per rule both ways, one
 * rule accepted.
 */
static void
test_count(void **unused)
{
	struct pdx_audit_opts o;
	struct pdx_audit_accepts acc;
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	char ports[16], spec[64];
	json_t *doc, *rules, *f;
	size_t *c, nr, i, k, seen = 0, accepted = 0;
	int fd, complete = -1, one = 1;
	char name[17] = "";

	(void)unused;
	assert_int_equal(prctl(PR_GET_NAME, name, 0, 0, 0), 0);
	assert_int_equal(prctl(PR_SET_NAME, "nc", 0, 0, 0), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(ports, sizeof ports, "%u", ntohs(sa.sin_port));
	memset(&o, 0, sizeof o);
	o.ports = ports;
	o.protos = PDX_TCP;
	doc = pdx_audit_run(NULL, NULL, &o);
	assert_non_null(doc);
	/* accept the first finding's rule: counted in neither */
	memset(&acc, 0, sizeof acc);
	f = json_array_get(json_object_get(doc, "findings"), 0);
	assert_non_null(f);
	snprintf(spec, sizeof spec, "%s:%s/tcp",
	    json_string_value(json_object_get(f, "rule")), ports);
	assert_int_equal(pdx_audit_accept_add(&acc, spec, "test", "test_count"),
	    0);
	json_decref(doc);
	o.accepts = &acc;
	doc = pdx_audit_run(NULL, NULL, &o);
	assert_non_null(doc);
	rules = pdx_audit_rules();
	nr = json_array_size(rules);
	assert_int_equal(nr, pdx_audit_nrules());
	c = calloc(nr, sizeof *c);
	assert_non_null(c);
	for (i = 0; i < nr; i++)
		c[i] = 9999;
	assert_int_equal(pdx_audit_count(NULL, NULL, &o, c, nr, &complete), 0);
	assert_int_equal(complete,
	    json_is_true(json_object_get(doc, "complete")));
	for (i = 0; i < nr; i++) {
		const char *id = json_string_value(
		    json_object_get(json_array_get(rules, i), "rule"));
		size_t n = 0;

		json_array_foreach(json_object_get(doc, "findings"), k, f)
		{
			if (strcmp(json_string_value(
				       json_object_get(f, "rule")),
				id) != 0)
				continue;
			if (json_is_true(json_object_get(f, "accepted")))
				accepted++;
			else
				n++;
		}
		assert_int_equal(c[i], n);
		seen += n;
	}
	assert_int_equal(accepted, 1);
	assert_int_equal(seen,
	    (size_t)json_integer_value(
		json_object_get(json_object_get(doc, "summary"), "findings")));
	free(c);
	json_decref(rules);
	json_decref(doc);
	pdx_audit_accepts_free(&acc);
	close(fd);
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_specs),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_rules_table),
		cmocka_unit_test(test_process_rules),
		cmocka_unit_test(test_accepted_sorted),
		cmocka_unit_test(test_baseline_diff_history),
		cmocka_unit_test(test_history_digest),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_bad_scope),
		cmocka_unit_test(test_count),
	};
	char cmd[300];
	int rc;

	snprintf(dir, sizeof dir, "/tmp/pdx-test-audit.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
