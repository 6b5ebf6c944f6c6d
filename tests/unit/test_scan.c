/*
 * test_scan.c - unit tests of lib/scan.c: what the target resolver
 * refuses and accepts, the descriptor budget, the default port list
 * (checked against nmap-services read here independently), and real scans
 * of loopback ports whose state the test itself arranged: listening
 * sockets must be open, bound-but-not-listening ones closed, and nothing
 * else reported.  Firewalled (filtered) ports and self-connects need a
 * network namespace; tests/cli/test-scan.sh covers those.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "portdex.h"

static void
test_state_names(void **state)
{
	assert_string_equal(pdx_scan_state_name(PDX_SCAN_OPEN), "open");
	assert_string_equal(pdx_scan_state_name(PDX_SCAN_CLOSED), "closed");
	assert_string_equal(pdx_scan_state_name(PDX_SCAN_FILTERED), "filtered");
	assert_string_equal(pdx_scan_state_name(PDX_SCAN_UNSCANNED), "");
	assert_string_equal(pdx_scan_state_name(99), "");
	assert_string_equal(pdx_scan_state_name(-1), "");
}

static void
test_resolve_refuses(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/8",
		"127.0.0.1/32",
		"::1/128",
		"10.0.0.1-20",
		"10.0.0-3.1",
		"127.0.0.1,127.0.0.2",
		"127.0.0.*",
		"a b",
		"",
	};
	struct pdx_scan_target t;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (pdx_scan_resolve(bad[i], AF_UNSPEC, &t) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		if (*bad[i] != '\0')
			assert_non_null(
			    strstr(pdx_last_error(), "exactly one host"));
	}
	assert_int_equal(pdx_scan_resolve(NULL, AF_UNSPEC, &t), -1);
	assert_int_equal(pdx_scan_resolve("no-such-host.invalid", AF_UNSPEC,
			     &t),
	    -1);
	assert_non_null(strstr(pdx_last_error(), "no-such-host.invalid"));
	/* A v6 literal cannot be had as IPv4. */
	assert_int_equal(pdx_scan_resolve("::1", AF_INET, &t), -1);
}

static void
test_resolve_accepts(void **state)
{
	struct pdx_scan_target t;

	assert_int_equal(pdx_scan_resolve("127.0.0.1", AF_UNSPEC, &t), 0);
	assert_int_equal(t.addr.ss_family, AF_INET);
	assert_string_equal(t.numeric, "127.0.0.1");
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(pdx_scan_resolve("::1", AF_UNSPEC, &t), 0);
	assert_int_equal(t.addr.ss_family, AF_INET6);
	assert_string_equal(t.numeric, "::1");
	/* A name with a dash is a name, not a range. */
	assert_int_equal(pdx_scan_resolve("localhost", AF_INET, &t), 0);
	assert_string_equal(t.numeric, "127.0.0.1");
	assert_string_equal(t.host, "localhost");
}

static void
test_concurrency(void **state)
{
	struct rlimit rl;
	unsigned c = pdx_scan_concurrency();

	assert_true(c >= 16);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	/* Raised to the hard limit where that is allowed. */
	if (rl.rlim_max != RLIM_INFINITY)
		assert_true(rl.rlim_cur == rl.rlim_max);
	assert_true(c < rl.rlim_cur);
}

static void
test_default_fallback(void **state)
{
	struct pdx_portset ps;

	assert_int_equal(pdx_scan_default_ports(NULL, 1000, &ps), 0);
	assert_int_equal(ps.count, 1024);
	assert_true(pdx_portset_has(&ps, 1));
	assert_true(pdx_portset_has(&ps, 1024));
	assert_false(pdx_portset_has(&ps, 0));
	assert_false(pdx_portset_has(&ps, 1025));
}

/* nmap-services, read here with sscanf: port -> tcp frequency. */
static int
read_nmap_tcp(const char *path, double *freq)
{
	char line[512], name[128], pp[32];
	double f;
	unsigned port;
	FILE *fp;
	int n = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%127s %31s %lf", name, pp, &f) != 3)
			continue;
		if (sscanf(pp, "%u/tcp", &port) != 1 ||
		    strstr(pp, "/tcp") == NULL || port > 65535)
			continue;
		freq[port] = f;
		n++;
	}
	fclose(fp);
	return n;
}

static int
cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Builds a registry from the IANA snapshot (and whatever nmap data is
 * installed) and checks the default list against nmap-services itself.
 */
static void
test_default_registry(void **state)
{
	static double freq[65536], sorted[65536];
	const char *shared = getenv("PDX_SHARED");
	const char *nmap = "/usr/share/nmap/nmap-services";
	char dir[] = "/tmp/pdx-scan-XXXXXX", db_path[256], csv[512];
	struct pdx_update_opts uo;
	struct pdx_portset ps;
	struct pdx_db *db;
	double threshold;
	json_t *rep;
	int n, have, p;

	if (shared == NULL)
		shared = PDX_SRCDIR "/../shared";
	snprintf(csv, sizeof csv,
	    "%s/data/iana/"
	    "service-names-port-numbers.csv",
	    shared);
	if (access(csv, R_OK) != 0)
		fail_msg("IANA snapshot %s missing", csv);
	assert_non_null(mkdtemp(dir));
	snprintf(db_path, sizeof db_path, "%s/registry.db", dir);
	memset(&uo, 0, sizeof uo);
	uo.db_path = db_path;
	uo.iana = csv;
	rep = pdx_update(&uo);
	if (rep == NULL)
		fail_msg("update: %s", pdx_last_error());
	json_decref(rep);
	assert_non_null(db = pdx_db_open(db_path));

	n = pdx_scan_default_ports(db, 1000, &ps);
	have = read_nmap_tcp(nmap, freq);
	if (have <= 0) {
		/* No nmap data installed: the fallback. */
		assert_int_equal(n, 0);
		assert_int_equal(ps.count, 1024);
	} else {
		int k = 0;

		assert_int_equal(n, have < 1000 ? have : 1000);
		assert_int_equal(ps.count, (unsigned)n);
		for (p = 0; p < 65536; p++)
			if (freq[p] > 0)
				sorted[k++] = freq[p];
		qsort(sorted, (size_t)k, sizeof *sorted, cmp_desc);
		threshold = sorted[(n < k ? n : k) - 1];
		/* Strictly more frequent than the cut: in; less: out. */
		for (p = 1; p < 65536; p++) {
			if (freq[p] > threshold &&
			    !pdx_portset_has(&ps, (unsigned)p))
				fail_msg("port %d (freq %g) missing", p,
				    freq[p]);
			if (pdx_portset_has(&ps, (unsigned)p) &&
			    freq[p] < threshold)
				fail_msg("port %d (freq %g) below the cut", p,
				    freq[p]);
		}
		assert_true(pdx_portset_has(&ps, 80));
		assert_true(pdx_portset_has(&ps, 22));
	}
	pdx_db_close(db);
	unlink(db_path);
	snprintf(csv, sizeof csv, "%s/registry.db.lock", dir);
	unlink(csv);
	rmdir(dir);
}

/* Sockets the test opened: listening ones and bound-only ones. */
#define NLISTEN 6
#define NBOUND 6

static int
open_socket(int family, int do_listen, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof *s6;
	}
	fd = socket(family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	*port = ntohs(family == AF_INET
		? ((struct sockaddr_in *)&ss)->sin_port
		: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void
scan_family(int family, const char *host)
{
	struct pdx_scan_result *res = malloc(sizeof *res);
	struct pdx_scan_target t;
	struct pdx_scan_opts o;
	struct pdx_portset ps;
	unsigned lport[NLISTEN], bport[NBOUND];
	int lfd[NLISTEN], bfd[NBOUND], i, p;
	json_t *j;

	assert_non_null(res);
	pdx_portset_clear(&ps);
	for (i = 0; i < NLISTEN; i++) {
		lfd[i] = open_socket(family, 1, &lport[i]);
		pdx_portset_add(&ps, lport[i], lport[i]);
	}
	for (i = 0; i < NBOUND; i++) {
		bfd[i] = open_socket(family, 0, &bport[i]);
		pdx_portset_add(&ps, bport[i], bport[i]);
	}
	assert_int_equal(pdx_scan_resolve(host, AF_UNSPEC, &t), 0);
	pdx_scan_opts_init(&o);
	assert_int_equal(pdx_scan(&t, &ps, &o, res), 0);
	assert_int_equal(res->nports, NLISTEN + NBOUND);
	assert_int_equal(res->nopen, NLISTEN);
	assert_int_equal(res->nclosed, NBOUND);
	assert_int_equal(res->nfiltered, 0);
	for (i = 0; i < NLISTEN; i++)
		assert_int_equal(res->state[lport[i]], PDX_SCAN_OPEN);
	for (i = 0; i < NBOUND; i++)
		assert_int_equal(res->state[bport[i]], PDX_SCAN_CLOSED);
	for (p = 0; p < 65536; p++)
		if (!pdx_portset_has(&ps, (unsigned)p))
			assert_int_equal(res->state[p], PDX_SCAN_UNSCANNED);

	/* JSON: open ones only, then all of them. */
	j = pdx_scan_json(NULL, &t, res, 0);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "ports")), NLISTEN);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "ports"), 0),
				"state")),
	    "open");
	json_decref(j);
	j = pdx_scan_json(NULL, &t, res, 1);
	assert_int_equal(json_array_size(json_object_get(j, "ports")),
	    NLISTEN + NBOUND);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(j, "summary"),
				 "closed")),
	    NBOUND);
	json_decref(j);

	/* The listeners still accept: the scan left them working. */
	for (i = 0; i < NLISTEN; i++)
		close(lfd[i]);
	for (i = 0; i < NBOUND; i++)
		close(bfd[i]);
	/* Closed now: scanning again must say so. */
	assert_int_equal(pdx_scan(&t, &ps, &o, res), 0);
	assert_int_equal(res->nopen, 0);
	free(res);
}

static void
test_scan_ipv4(void **state)
{
	scan_family(AF_INET, "127.0.0.1");
}

static void
test_scan_ipv6(void **state)
{
	scan_family(AF_INET6, "::1");
}

/* A wide sweep with one thread and with several gives the same answer. */
static void
test_scan_threads_agree(void **state)
{
	struct pdx_scan_result *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	struct pdx_scan_target t;
	struct pdx_scan_opts o;
	struct pdx_portset ps;
	unsigned port[20];
	int fd[20], i;

	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < 20; i++)
		fd[i] = open_socket(AF_INET, 1, &port[i]);
	pdx_portset_clear(&ps);
	pdx_portset_add(&ps, 1, 65535);
	assert_int_equal(pdx_scan_resolve("127.0.0.1", AF_INET, &t), 0);
	pdx_scan_opts_init(&o);
	o.threads = 1;
	o.concurrency = 50; /* small: slots must be recycled */
	assert_int_equal(pdx_scan(&t, &ps, &o, a), 0);
	o.threads = 3;
	o.concurrency = 0;
	assert_int_equal(pdx_scan(&t, &ps, &o, b), 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(a->state[port[i]], PDX_SCAN_OPEN);
		assert_int_equal(b->state[port[i]], PDX_SCAN_OPEN);
		close(fd[i]);
	}
	assert_int_equal(a->nports, 65535);
	assert_int_equal(a->nopen + a->nclosed + a->nfiltered, 65535);
	assert_int_equal(a->nfiltered, 0);
	/*
	 * Other programs' listeners come and go on a shared machine, so
	 * "only ours" is checked in a namespace by tests/cli/test-scan.sh.
	 */
	assert_true(a->nopen >= 20);
	assert_true(b->nopen >= 20);
	free(a);
	free(b);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
progress_count(void *arg, unsigned done, unsigned total)
{
	unsigned *calls = arg;

	assert_true(done <= total);
	(*calls)++;
}

static void
test_scan_rate(void **state)
{
	struct pdx_scan_result *res = malloc(sizeof *res);
	struct pdx_scan_target t;
	struct pdx_scan_opts o;
	struct pdx_portset ps;
	unsigned calls = 0;
	double t0, el;

	assert_non_null(res);
	pdx_portset_clear(&ps);
	pdx_portset_add(&ps, 20001, 20300); /* 300 ports */
	assert_int_equal(pdx_scan_resolve("127.0.0.1", AF_INET, &t), 0);
	pdx_scan_opts_init(&o);
	o.rate = 1000;
	o.progress = progress_count;
	o.progress_arg = &calls;
	t0 = mono();
	assert_int_equal(pdx_scan(&t, &ps, &o, res), 0);
	el = mono() - t0;
	/* 300 connects at 1000/s take about 0.3 s, never much less. */
	assert_true(el >= 0.28);
	assert_true(el < 3.0);
	assert_int_equal(res->nports, 300);
	assert_true(calls >= 2);
	free(res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_resolve_refuses),
		cmocka_unit_test(test_resolve_accepts),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_default_fallback),
		cmocka_unit_test(test_default_registry),
		cmocka_unit_test(test_scan_ipv4),
		cmocka_unit_test(test_scan_ipv6),
		cmocka_unit_test(test_scan_threads_agree),
		cmocka_unit_test(test_scan_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
