/*
 * test_watch.c - unit tests for lib/watch.c (pdx_watch_step) and the
 * reading half of lib/nmapxml.c (pdx_nmapxml_read_mem).  The listings are
 * built here by hand (no /proc walk: attribution off), so each expected
 * event follows from the fixture; the nmap reports are small strings
 * written from nmap.dtd.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "portdex.h"
#include "portdex/nmapxml.h"
#include "portdex/watch.h"

struct seen {
	int n;
	char log[1024];
	int stop_after;
};

static int
record(int event, const struct pdx_socket *s, void *arg)
{
	struct seen *w = arg;
	size_t l = strlen(w->log);

	snprintf(w->log + l, sizeof w->log - l, "%s%s %u/%lu/%d", l ? "," : "",
	    pdx_watch_event_name(event), s->lport, s->inode, (int)s->pid);
	w->n++;
	return w->stop_after > 0 && w->n >= w->stop_after;
}

/* A listing of k TCP sockets on 127.0.0.1: ports[i], inodes[i], pid. */
static struct pdx_socket *
listing(size_t k, const unsigned *ports, const unsigned long *inodes, pid_t pid)
{
	struct pdx_socket *v = pdx_sockets_new(k);
	size_t i;

	assert_non_null(v);
	for (i = 0; i < k; i++) {
		v[i].proto = PDX_TCP;
		v[i].family = AF_INET;
		v[i].state = PDX_SS_LISTEN;
		v[i].laddr[0] = 127;
		v[i].laddr[3] = 1;
		v[i].lport = ports[i];
		v[i].inode = inodes[i];
		v[i].pid = pid;
	}
	return v;
}

static void
test_watch_events(void **unused)
{
	struct pdx_sock_filter f;
	struct pdx_watch *w;
	struct seen s;
	unsigned p1[] = { 80, 22, 443 }, p2[] = { 443, 22, 8080 },
		 p3[] = { 443, 22, 8080 };
	unsigned long i1[] = { 1, 2, 3 }, i2[] = { 3, 2, 4 },
		      i3[] = { 3, 2, 5 };

	(void)unused;
	pdx_sock_filter_init(&f);
	w = pdx_watch_new(&f, 0);
	assert_non_null(w);
	memset(&s, 0, sizeof s);
	/* The first listing is the baseline: no events. */
	assert_int_equal(pdx_watch_step(w, listing(3, p1, i1, 10), 3, record,
			     &s),
	    0);
	assert_int_equal(pdx_watch_count(w), 3);
	/* 80 went, 8080 came (in another order: the watch sorts). */
	assert_int_equal(pdx_watch_step(w, listing(3, p2, i2, 20), 3, record,
			     &s),
	    2);
	/* The gone one keeps its process (10); the new one has 20. */
	assert_string_equal(s.log, "gone 80/1/10,appeared 8080/4/20");
	/* Same port, new inode: a new socket (gone, then appeared). */
	s.log[0] = '\0';
	s.n = 0;
	assert_int_equal(pdx_watch_step(w, listing(3, p3, i3, 30), 3, record,
			     &s),
	    2);
	assert_string_equal(s.log, "gone 8080/4/20,appeared 8080/5/30");
	/* Nothing changes: nothing is reported. */
	s.log[0] = '\0';
	assert_int_equal(pdx_watch_step(w, listing(3, p3, i3, 30), 3, record,
			     &s),
	    0);
	assert_string_equal(s.log, "");
	/* Everything goes at once; the callback stops after one. */
	s.stop_after = 1;
	s.n = 0;
	assert_int_equal(pdx_watch_step(w, listing(0, NULL, NULL, 0), 0, record,
			     &s),
	    1);
	assert_int_equal(pdx_watch_count(w), 0);
	pdx_watch_free(w);
}

static void
test_watch_pid_filter(void **unused)
{
	struct pdx_sock_filter f;
	struct pdx_watch *w;
	struct seen s;
	unsigned p[] = { 1000, 2000 };
	unsigned long in[] = { 7, 8 };
	struct pdx_socket *v;

	(void)unused;
	pdx_sock_filter_init(&f);
	f.pid = 42;
	w = pdx_watch_new(&f, 0);
	assert_non_null(w);
	memset(&s, 0, sizeof s);
	assert_int_equal(pdx_watch_step(w, listing(0, NULL, NULL, 0), 0, record,
			     &s),
	    0);
	v = listing(2, p, in, 42);
	v[1].pid = 43; /* another process's socket: not reported */
	assert_int_equal(pdx_watch_step(w, v, 2, record, &s), 1);
	assert_string_equal(s.log, "appeared 1000/7/42");
	pdx_watch_free(w);
}

/*
 * Issue 19: "a process walk only for new sockets".  With attribution on,
 * the baseline is walked once; a listing with nothing new costs no walk;
 * a listing with new sockets costs one walk (for them only: the others
 * keep what was found before, pid included).
 */
static void
test_watch_walks_only_for_new(void **unused)
{
	struct pdx_sock_filter f;
	struct pdx_watch *w;
	struct seen s;
	unsigned p1[] = { 1000, 2000 }, p2[] = { 1000, 2000, 3000 };
	unsigned long i1[] = { 7, 8 }, i2[] = { 7, 8, 9 };

	(void)unused;
	pdx_sock_filter_init(&f);
	w = pdx_watch_new(&f, 1);
	assert_non_null(w);
	memset(&s, 0, sizeof s);
	assert_int_equal(pdx_watch_walks(w), 0);
	/* the baseline: one walk */
	assert_int_equal(pdx_watch_step(w, listing(2, p1, i1, 0), 2, record,
			     &s),
	    0);
	assert_int_equal(pdx_watch_walks(w), 1);
	/* the same sockets, three times: no walk */
	for (int k = 0; k < 3; k++)
		assert_int_equal(pdx_watch_step(w, listing(2, p1, i1, 0), 2,
				     record, &s),
		    0);
	assert_int_equal(pdx_watch_walks(w), 1);
	/* one new socket: one walk */
	assert_int_equal(pdx_watch_step(w, listing(3, p2, i2, 0), 3, record,
			     &s),
	    1);
	assert_int_equal(pdx_watch_walks(w), 2);
	/* one gone, none new: no walk */
	assert_int_equal(pdx_watch_step(w, listing(2, p1, i1, 0), 2, record,
			     &s),
	    1);
	assert_int_equal(pdx_watch_walks(w), 2);
	assert_int_equal(s.n, 2);
	pdx_watch_free(w);
}
static int
count_host(json_t *run, json_t *host, void *arg)
{
	(void)run;
	*(int *)arg += (int)json_array_size(json_object_get(host, "ports"));
	return 0;
}

static void
test_nmapxml_read(void **unused)
{
	static const char good[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n"
	    "<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\"/>"
	    "<ports><port protocol=\"tcp\" portid=\"22\"><state "
	    "state=\"open\"/></port><port protocol=\"udp\" portid=\"53\"/>"
	    "</ports></host><host/><runstats/></nmaprun>\n";
	static const char badproto[] =
	    "<nmaprun>\n<host><ports>\n<port protocol=\"icmp\" portid=\"1\"/>"
	    "</ports></host></nmaprun>";
	static const char entity[] =
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [<!ENTITY e \"x\">]>"
	    "\n<nmaprun>&e;</nmaprun>";
	int ports = 0;

	(void)unused;
	assert_int_equal(pdx_nmapxml_read_mem(good, sizeof good - 1, "g.xml",
			     count_host, &ports),
	    2);
	assert_int_equal(ports, 2);
	assert_int_equal(pdx_nmapxml_read_mem(badproto, sizeof badproto - 1,
			     "b.xml", count_host, &ports),
	    -1);
	assert_non_null(strstr(pdx_last_error(),
	    "b.xml:3: <port> protocol "
	    "'icmp'"));
	assert_int_equal(pdx_nmapxml_read_mem(entity, sizeof entity - 1,
			     "e.xml", count_host, &ports),
	    -1);
	assert_non_null(strstr(pdx_last_error(), "e.xml:"));
	assert_int_equal(pdx_nmapxml_read_mem("", 0, "empty.xml", count_host,
			     &ports),
	    -1);
	assert_non_null(strstr(pdx_last_error(), "empty.xml"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_watch_pid_filter),
		cmocka_unit_test(test_watch_walks_only_for_new),
		cmocka_unit_test(test_nmapxml_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
