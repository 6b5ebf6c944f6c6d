/*
 * test_pick.c - unit tests for lib/pick.c (pdx_pick, pdx_port_in_use).  A
 * small registry is built in a scratch directory from a hand-written IANA
 * CSV, curated-knowledge files and an nmap-services file, with a fake
 * ephemeral-range file and a state database holding one note, so that the
 * expected suggestions follow from the fixture alone.  Sockets the test
 * binds itself are checked with plain bind() calls written here, not with
 * the code under test.  The real IANA file is the CLI test's
 * (tests/cli/test-pick.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "portdex.h"
#include "portdex/pick.h"
#include "assert-error.h"

/*
 * The fixture: ports 20000-20049.  Each excluded port and why; every
 * other port in the block is unassigned, unknown and rare.
 */
#define BASE 20000
#define TOP 20049
#define P_ASSIGNED 20000 /* assigned, tcp only */
#define P_RESERVED 20010
#define P_SCTP 20011	 /* assigned on sctp only */
#define P_DEREG 20012	 /* de-registered */
#define P_HISTORIC 20013 /* "Unassigned [was ...]" */
#define P_USE 20014	 /* curated use (udp) */
#define P_HOT_TCP 20015	 /* nmap tcp 0.01 */
#define P_COOL_TCP 20016 /* nmap tcp 0.0001: passes */
#define P_HOT_UDP 20017	 /* nmap udp 0.002 */
#define P_NOTE 20018	 /* in the notes */
#define P_BOUND 20019	 /* bound by the test (tcp, 127.0.0.1) */
#define P_RANGE_LO 20020 /* IANA range row 20020-20021 assigned */
#define P_RANGE_HI 20021
#define P_KRESERVED 20045 /* in the fake ip_local_reserved_ports */
#define EPH_LO 20030	  /* the fake ephemeral range */
#define EPH_HI 20040

static const char csv[] =
    "Service Name,Port Number,Transport Protocol,Description,Assignee,"
    "Contact,Registration Date,Modification Date,Reference,Service Code,"
    "Unauthorized Use Reported,Assignment Notes\n"
    "svc-a,20000,tcp,Service A,[Someone],[Someone],2001-01-01,,,,,\n"
    ",20001-20009,,Unassigned,,,,,,,,\n"
    ",20010,tcp,Reserved,,,,,,,,\n"
    ",20010,udp,Reserved,,,,,,,,\n"
    "svc-s,20011,sctp,Service S,[Someone],[Someone],,,,,,\n"
    ",20012,tcp,De-registered,,,,,,,,\n"
    ",20013,udp,Unassigned [was oldsvc],,,,,,,,\n"
    "svc-r,20020-20021,udp,Range service,[Someone],[Someone],,,,,,\n"
    ",20022-20049,,Unassigned,,,,,,,,\n";

static const char nmap_services[] = "# fixture\n"
				    "hot\t20015/tcp\t0.010000\n"
				    "cool\t20016/tcp\t0.000100\n"
				    "hotudp\t20017/udp\t0.002000\n"
				    "zero\t20023/udp\t0.000000\n";

static const char uses_tsv[] =
    "port\tprotos\tkind\tname\tplatform\tyears\tconfidence\tlead\tsource\ttext\n"
    "20014\tudp\tunofficial\tFixture tool\t-\t-\tdocumented\t-\t"
    "https://example.org/fixture\tA fixture tool uses this port.\n";

static const char related_tsv[] = "port_a\tport_b\treason\tsource\n";

static char tmpdir[256];
static char dbpath[300], statepath[300], ephpath[300], respath[300];
static struct pdx_db *db;
static struct pdx_state *st;

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		fail_msg("cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	struct pdx_update_opts o;
	char kdir[300], udir[320], p1[300], p2[300];
	json_t *r;

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pdx-test-pick.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(kdir, sizeof kdir, "%s/k", tmpdir);
	if (mkdir(kdir, 0700) != 0)
		return -1;
	write_file(tmpdir, "iana.csv", csv);
	write_file(tmpdir, "nmap-services", nmap_services);
	snprintf(udir, sizeof udir, "%s/uses", kdir);
	if (mkdir(udir, 0700) != 0)
		return -1;
	write_file(udir, "fixture.tsv", uses_tsv);
	write_file(kdir, "related.tsv", related_tsv);
	write_file(tmpdir, "ephemeral", "20030\t20040\n");
	write_file(tmpdir, "reserved", "20045,64000-64010\n");
	snprintf(dbpath, sizeof dbpath, "%s/registry.db", tmpdir);
	snprintf(statepath, sizeof statepath, "%s/state.db", tmpdir);
	snprintf(ephpath, sizeof ephpath, "%s/ephemeral", tmpdir);
	snprintf(respath, sizeof respath, "%s/reserved", tmpdir);
	snprintf(p1, sizeof p1, "%s/iana.csv", tmpdir);
	snprintf(p2, sizeof p2, "%s/nmap-services", tmpdir);
	memset(&o, 0, sizeof o);
	o.db_path = dbpath;
	o.iana = p1;
	o.nmap_services = p2;
	o.knowledge_dir = kdir;
	o.no_search = 1;
	if ((r = pdx_update(&o)) == NULL) {
		fprintf(stderr, "update: %s\n", pdx_last_error());
		return -1;
	}
	json_decref(r);
	if ((db = pdx_db_open(dbpath)) == NULL ||
	    (st = pdx_state_open(statepath)) == NULL ||
	    pdx_note_add(st, P_NOTE, PDX_TCP, "fixture note") != 0) {
		fprintf(stderr, "setup: %s\n", pdx_last_error());
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];

	(void)state;
	pdx_state_close(st);
	pdx_db_close(db);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- independent socket helpers ------------------------------------- */

/* A socket bound to addr:port (family AF_INET/AF_INET6), or -1. */
static int
bind_on(int family, int type, const char *addr, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if ((fd = socket(family, type, 0)) == -1)
		return -1;
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s->sin_addr);
		len = sizeof *s;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &s->sin6_addr);
		len = sizeof *s;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The port a bound socket got. */
static unsigned
port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Whether some other program holds port (any wildcard bind fails). */
static int
busy_elsewhere(unsigned port, int protos)
{
	int types[2] = { SOCK_STREAM, SOCK_DGRAM }, i, fd;

	for (i = 0; i < 2; i++) {
		if ((protos & (i == 0 ? PDX_TCP : PDX_UDP)) == 0)
			continue;
		if ((fd = bind_on(AF_INET, types[i], "0.0.0.0", port)) < 0)
			return 1;
		close(fd);
		if ((fd = bind_on(AF_INET6, types[i], "::", port)) >= 0)
			close(fd);
		else if (errno == EADDRINUSE)
			return 1;
	}
	return 0;
}

/* ---- pdx_port_in_use ------------------------------------------------- */

static void
test_port_in_use(void **state)
{
	int fd, fd2, unchecked;
	unsigned p;

	(void)state;
	/* TCP on one v4 address: the wildcard bind must collide. */
	fd = bind_on(AF_INET, SOCK_STREAM, "127.0.0.1", 0);
	assert_true(fd >= 0);
	p = port_of(fd);
	assert_int_equal(pdx_port_in_use(p, PDX_TCP, &unchecked), PDX_TCP);
	assert_int_equal(pdx_port_in_use(p, PDX_TCP | PDX_UDP, NULL) & PDX_TCP,
	    PDX_TCP);
	/* The same port on UDP is another socket space. */
	if ((fd2 = bind_on(AF_INET, SOCK_DGRAM, "0.0.0.0", p)) >= 0) {
		close(fd2);
		assert_int_equal(pdx_port_in_use(p, PDX_UDP, NULL), 0);
	}
	close(fd);
	if (!busy_elsewhere(p, PDX_TCP))
		assert_int_equal(pdx_port_in_use(p, PDX_TCP, &unchecked), 0);

	/* A listening TCP socket. */
	fd = bind_on(AF_INET, SOCK_STREAM, "0.0.0.0", 0);
	assert_true(fd >= 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(pdx_port_in_use(port_of(fd), PDX_TCP, NULL), PDX_TCP);
	close(fd);

	/* UDP on ::1 only: found by the :: bind. */
	fd = bind_on(AF_INET6, SOCK_DGRAM, "::1", 0);
	if (fd >= 0) {
		p = port_of(fd);
		assert_int_equal(pdx_port_in_use(p, PDX_UDP, NULL), PDX_UDP);
		close(fd);
	} else
		print_message("no IPv6 loopback: skipped the ::1 case\n");

	/* Bad ports. */
	assert_int_equal(pdx_port_in_use(0, PDX_TCP, NULL), -1);
	assert_error_has("port 0");
	assert_int_equal(pdx_port_in_use(65536, PDX_TCP, NULL), -1);
}

/* ---- pdx_pick over the fixture --------------------------------------- */

static json_t *
pick(int protos, int near, unsigned count, struct pdx_state *s)
{
	struct pdx_portset range;
	struct pdx_pick_opts o;
	json_t *r;

	pdx_portset_clear(&range);
	pdx_portset_add(&range, BASE, TOP);
	memset(&o, 0, sizeof o);
	o.count = count;
	o.protos = protos;
	o.near = near;
	o.range = &range;
	o.max_freq = -1;
	o.state = s;
	o.ephemeral_path = ephpath;
	o.reserved_path = respath;
	r = pdx_pick(db, &o);
	if (r == NULL)
		fail_msg("pdx_pick: %s", pdx_last_error());
	return r;
}

/* The ports pick must return for protos, in ascending order. */
static int
expected_ok(unsigned p, int protos, int with_notes)
{
	if (p >= EPH_LO && p <= EPH_HI)
		return 0;
	switch (p) {
	case P_ASSIGNED:
	case P_RESERVED:
	case P_SCTP:
	case P_DEREG:
	case P_HISTORIC:
	case P_USE:
	case P_RANGE_LO:
	case P_RANGE_HI:
	case P_KRESERVED:
		return 0;
	case P_HOT_TCP:
		return (protos & PDX_TCP) == 0;
	case P_HOT_UDP:
		return (protos & PDX_UDP) == 0;
	case P_NOTE:
		return !with_notes;
	}
	return !busy_elsewhere(p, protos);
}

static void
check_set(json_t *r, int protos, int with_notes, int bound_tcp)
{
	json_t *s = json_object_get(r, "suggestions");
	char got[65536 / 8], want[65536 / 8];
	unsigned p;
	size_t i;

	memset(got, 0, sizeof got);
	memset(want, 0, sizeof want);
	for (i = 0; i < json_array_size(s); i++) {
		p = (unsigned)json_integer_value(
		    json_object_get(json_array_get(s, i), "port"));
		assert_in_range(p, BASE, TOP);
		if (got[p / 8] & (1 << (p % 8)))
			fail_msg("port %u suggested twice", p);
		got[p / 8] |= (char)(1 << (p % 8));
	}
	for (p = BASE; p <= TOP; p++) {
		int ok = expected_ok(p, protos, with_notes);

		if (p == P_BOUND && bound_tcp && (protos & PDX_TCP))
			ok = 0;
		if (ok)
			want[p / 8] |= (char)(1 << (p % 8));
	}
	for (p = BASE; p <= TOP; p++) {
		int g = (got[p / 8] >> (p % 8)) & 1;
		int w = (want[p / 8] >> (p % 8)) & 1;

		if (g != w)
			fail_msg("port %u: %s", p,
			    g ? "suggested but should "
				"not be"
			      : "not suggested but should be");
	}
}

static void
test_pick_fixture(void **state)
{
	json_t *r, *sugg;
	int fd;

	(void)state;
	fd = bind_on(AF_INET, SOCK_STREAM, "127.0.0.1", P_BOUND);
	if (fd < 0)
		skip(); /* another program holds the fixture's port */

	/* Every port of the block, both transports, notes on. */
	r = pick(0, BASE, 50, st);
	check_set(r, PDX_TCP | PDX_UDP, 1, 1);
	assert_true(json_is_true(json_object_get(r, "notes_checked")));
	assert_true(json_is_true(
	    json_object_get(json_object_get(r, "ephemeral"), "from_kernel")));
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(r, "ephemeral"),
				 "lo")),
	    EPH_LO);
	/* The skip counts: each check turned its own ports away. */
	{
		json_t *sk = json_object_get(r, "skipped");

		assert_int_equal(json_integer_value(
				     json_object_get(sk, "ephemeral")),
		    EPH_HI - EPH_LO + 1);
		assert_int_equal(json_integer_value(
				     json_object_get(sk, "uses")),
		    1);
		assert_int_equal(json_integer_value(
				     json_object_get(sk, "reserved")),
		    1);
		assert_int_equal(json_integer_value(
				     json_object_get(sk, "bad_port")),
		    0);
		assert_int_equal(json_integer_value(
				     json_object_get(sk, "nmap")),
		    2);
		assert_int_equal(json_integer_value(
				     json_object_get(sk, "notes")),
		    1);
		assert_true(
		    json_integer_value(json_object_get(sk, "bind")) >= 1);
		assert_int_equal(json_integer_value(
				     json_object_get(r, "examined")),
		    TOP - BASE + 1);
	}
	/* The bound port is named as found in use. */
	{
		json_t *b = json_object_get(r, "bound");
		size_t i;
		int seen = 0;

		for (i = 0; i < json_array_size(b); i++)
			seen |= json_integer_value(json_array_get(b, i)) ==
			    P_BOUND;
		assert_true(seen);
	}
	/* Each suggestion says why: every check, with its nmap figures. */
	sugg = json_object_get(r, "suggestions");
	assert_true(json_array_size(sugg) > 0);
	{
		size_t i;

		for (i = 0; i < json_array_size(sugg); i++) {
			json_t *s = json_array_get(sugg, i);
			json_t *c = json_object_get(s, "checks");

			/* bad_port, ephemeral, reserved, iana, uses, nmap,
			 * notes, bind: portable only when asked */
			assert_int_equal(json_array_size(c), 8);
			if (json_integer_value(json_object_get(s, "port")) ==
			    P_COOL_TCP) {
				assert_true(
				    json_real_value(
					json_object_get(json_object_get(s,
							    "nmap"),
					    "tcp")) > 0.00009);
				assert_non_null(
				    strstr(json_string_value(
					       json_object_get(json_array_get(c,
								   5),
						   "text")),
					"0.000100"));
			}
		}
	}
	json_decref(r);

	/* TCP only: the hot UDP port is fine, the bound TCP port is not. */
	r = pick(PDX_TCP, BASE, 50, st);
	check_set(r, PDX_TCP, 1, 1);
	json_decref(r);
	/* UDP only: the TCP-bound port is fine, the hot TCP one too. */
	r = pick(PDX_UDP, BASE, 50, st);
	check_set(r, PDX_UDP, 1, 1);
	json_decref(r);
	/* Without the notes database the noted port comes back. */
	r = pick(0, BASE, 50, NULL);
	check_set(r, PDX_TCP | PDX_UDP, 0, 1);
	assert_true(json_is_false(json_object_get(r, "notes_checked")));
	json_decref(r);

	close(fd);
	/* Released: the port is suggested again (unless busy elsewhere). */
	r = pick(PDX_TCP, BASE, 50, st);
	check_set(r, PDX_TCP, 1, 0);
	json_decref(r);
}

static void
test_pick_order(void **state)
{
	json_t *r, *r2, *s;
	size_t i;
	long prev_d = -1, prev_p = -1;

	(void)state;
	r = pick(0, 20025, 12, st);
	s = json_object_get(r, "suggestions");
	assert_int_equal(json_array_size(s), 12);
	assert_int_equal(json_integer_value(json_object_get(r, "near")), 20025);
	for (i = 0; i < json_array_size(s); i++) {
		json_t *e = json_array_get(s, i);
		long p = (long)json_integer_value(json_object_get(e, "port"));
		long d = (long)json_integer_value(
		    json_object_get(e, "distance"));

		assert_int_equal(d, labs(p - 20025));
		/* By distance, then by port. */
		assert_true(d > prev_d || (d == prev_d && p > prev_p));
		prev_d = d;
		prev_p = p;
	}
	/* The same data gives the same answer. */
	r2 = pick(0, 20025, 12, st);
	assert_true(json_equal(r, r2));
	json_decref(r2);
	json_decref(r);

	/* The default start is the middle of the range. */
	r = pick(0, -1, 1, st);
	assert_int_equal(json_integer_value(json_object_get(r, "near")),
	    (BASE + TOP) / 2);
	json_decref(r);
}

static void
test_pick_defaults(void **state)
{
	struct pdx_pick_opts o;
	json_t *r, *s;
	size_t i;

	(void)state;
	/* Default range 1024-49151; nothing in the fixture's ephemeral. */
	memset(&o, 0, sizeof o);
	o.count = 20;
	o.near = -1;
	o.max_freq = -1;
	o.ephemeral_path = ephpath;
	assert_non_null(r = pdx_pick(db, &o));
	assert_int_equal(json_integer_value(json_object_get(r, "near")),
	    (PDX_PICK_LO + PDX_PICK_HI) / 2);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(r, "range"),
				 "lo")),
	    PDX_PICK_LO);
	s = json_object_get(r, "suggestions");
	assert_int_equal(json_array_size(s), 20);
	json_decref(r);

	/* An unreadable ephemeral file: the conservative fallback. */
	o.ephemeral_path = "/nonexistent/ip_local_port_range";
	o.near = 32700;
	assert_non_null(r = pdx_pick(db, &o));
	assert_true(json_is_false(
	    json_object_get(json_object_get(r, "ephemeral"), "from_kernel")));
	s = json_object_get(r, "suggestions");
	for (i = 0; i < json_array_size(s); i++)
		assert_true(json_integer_value(
				json_object_get(json_array_get(s, i), "port")) <
		    PDX_PICK_EPHEMERAL_LO);
	json_decref(r);

	/* A lower frequency limit turns the cool port away too. */
	{
		struct pdx_portset one;

		pdx_portset_clear(&one);
		pdx_portset_add(&one, P_COOL_TCP, P_COOL_TCP);
		o.range = &one;
		o.near = -1;
		o.ephemeral_path = ephpath;
		o.max_freq = 0.00005;
		assert_non_null(r = pdx_pick(db, &o));
		assert_int_equal(json_array_size(
				     json_object_get(r, "suggestions")),
		    0);
		json_decref(r);
		o.max_freq = 0.0002;
		assert_non_null(r = pdx_pick(db, &o));
		if (!busy_elsewhere(P_COOL_TCP, PDX_TCP | PDX_UDP))
			assert_int_equal(json_array_size(
					     json_object_get(r, "suggestions")),
			    1);
		json_decref(r);
	}
}

static void
test_pick_errors(void **state)
{
	struct pdx_pick_opts o;
	struct pdx_portset empty;

	(void)state;
	memset(&o, 0, sizeof o);
	o.near = -1;
	o.max_freq = -1;
	o.count = 0;
	assert_null(pdx_pick(db, &o));
	assert_error_has("count");
	o.count = PDX_PICK_MAX + 1;
	assert_null(pdx_pick(db, &o));
	o.count = 1;
	o.protos = PDX_SCTP;
	assert_null(pdx_pick(db, &o));
	assert_error_has("tcp and udp");
	o.protos = 0;
	o.near = 65536;
	assert_null(pdx_pick(db, &o));
	assert_error_has("65536");
	o.near = -1;
	pdx_portset_clear(&empty);
	o.range = &empty;
	assert_null(pdx_pick(db, &o));
	assert_error_has("empty");
	o.range = NULL;
	o.max_freq = 2;
	assert_null(pdx_pick(db, &o));
}

/* Blocks of adjacent ports: every port of a block passes, none shared. */
static void
test_pick_blocks(void **state)
{
	struct pdx_portset range, seen;
	struct pdx_pick_opts o;
	json_t *r, *s;
	size_t i, j;

	(void)state;
	pdx_portset_clear(&range);
	pdx_portset_add(&range, BASE, TOP);
	pdx_portset_clear(&seen);
	memset(&o, 0, sizeof o);
	o.count = 20;
	o.near = BASE;
	o.range = &range;
	o.max_freq = -1;
	o.state = st;
	o.ephemeral_path = ephpath;
	o.reserved_path = respath;
	o.consecutive = 3;
	assert_non_null(r = pdx_pick(db, &o));
	assert_int_equal(json_integer_value(json_object_get(r, "consecutive")),
	    3);
	s = json_object_get(r, "suggestions");
	assert_true(json_array_size(s) > 0);
	for (i = 0; i < json_array_size(s); i++) {
		json_t *e = json_array_get(s, i);
		json_t *ports = json_object_get(e, "ports");
		unsigned p = (unsigned)json_integer_value(
		    json_object_get(e, "port"));

		assert_int_equal(json_integer_value(
				     json_object_get(e, "port_hi")),
		    p + 2);
		assert_int_equal(json_array_size(ports), 3);
		for (j = 0; j < 3; j++) {
			unsigned q = (unsigned)json_integer_value(
			    json_array_get(ports, j));

			assert_int_equal(q, p + j);
			if (!expected_ok(q, PDX_TCP | PDX_UDP, 1))
				fail_msg("block %u holds port %u", p, q);
			if (pdx_portset_has(&seen, q))
				fail_msg("port %u in two blocks", q);
			pdx_portset_add(&seen, q, q);
		}
	}
	/* 20001-20009 is the only run of 9 passing ports (unless busy) */
	json_decref(r);
	o.consecutive = 9;
	assert_non_null(r = pdx_pick(db, &o));
	s = json_object_get(r, "suggestions");
	if (!busy_elsewhere(20001, PDX_TCP | PDX_UDP) &&
	    !busy_elsewhere(20009, PDX_TCP | PDX_UDP))
		assert_int_equal(json_array_size(s), 1);
	for (i = 0; i < json_array_size(s); i++)
		assert_int_equal(json_integer_value(
				     json_object_get(json_array_get(s, i),
					 "port")),
		    20001);
	json_decref(r);
	o.consecutive = PDX_PICK_MAX_BLOCK + 1;
	assert_null(pdx_pick(db, &o));
	assert_error_has("block");
}

/* --portable, the NodePort warning, the bad-port list. */
static void
test_pick_portable_nodeport(void **state)
{
	struct pdx_portset range;
	struct pdx_pick_opts o;
	json_t *r, *s;
	size_t i;

	(void)state;
	pdx_portset_clear(&range);
	pdx_portset_add(&range, 49140, 49170);
	memset(&o, 0, sizeof o);
	o.count = 40;
	o.near = 49160;
	o.range = &range;
	o.max_freq = -1;
	o.ephemeral_path = ephpath;
	o.reserved_path = respath;
	o.portable = 1;
	assert_non_null(r = pdx_pick(db, &o));
	s = json_object_get(r, "suggestions");
	for (i = 0; i < json_array_size(s); i++)
		assert_true(
		    json_integer_value(
			json_object_get(json_array_get(s, i), "port")) < 49152);
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(r, "skipped"),
				 "portable")),
	    49170 - 49152 + 1);
	json_decref(r);

	/* every suggestion in 30000-32767 is flagged, none outside */
	pdx_portset_clear(&range);
	pdx_portset_add(&range, 29990, 30010);
	o.range = &range;
	o.near = 30000;
	o.portable = 0;
	assert_non_null(r = pdx_pick(db, &o));
	s = json_object_get(r, "suggestions");
	assert_true(json_array_size(s) > 0);
	for (i = 0; i < json_array_size(s); i++) {
		json_t *e = json_array_get(s, i);
		json_int_t p = json_integer_value(json_object_get(e, "port"));
		int np = json_is_true(
		    json_object_get(e, "kubernetes_nodeport"));

		assert_int_equal(np, p >= 30000 && p <= 32767);
		assert_int_equal(json_array_size(
				     json_object_get(e, "warnings")),
		    (size_t)np);
	}
	json_decref(r);

	assert_true(pdx_port_is_bad_for_browsers(0));
	assert_true(pdx_port_is_bad_for_browsers(6000));
	assert_true(pdx_port_is_bad_for_browsers(4190));
	assert_true(pdx_port_is_bad_for_browsers(10080));
	assert_false(pdx_port_is_bad_for_browsers(80));
	assert_false(pdx_port_is_bad_for_browsers(8080));
	assert_false(pdx_port_is_bad_for_browsers(10081));
	assert_false(pdx_port_is_bad_for_browsers(65535));
}

static void
test_reserved_ports(void **state)
{
	struct pdx_portset ps;
	char path[400];

	(void)state;
	assert_int_equal(pdx_reserved_ports(respath, &ps), 0);
	assert_int_equal(ps.count, 12);
	assert_true(pdx_portset_has(&ps, P_KRESERVED));
	assert_true(pdx_portset_has(&ps, 64010));
	assert_false(pdx_portset_has(&ps, 64011));
	write_file(tmpdir, "res-empty", "\n");
	snprintf(path, sizeof path, "%s/res-empty", tmpdir);
	assert_int_equal(pdx_reserved_ports(path, &ps), 0);
	assert_int_equal(ps.count, 0);
	write_file(tmpdir, "res-bad", "80,x\n");
	snprintf(path, sizeof path, "%s/res-bad", tmpdir);
	assert_int_equal(pdx_reserved_ports(path, &ps), -1);
	assert_error_has("res-bad");
	write_file(tmpdir, "res-bad", "-\n");
	assert_int_equal(pdx_reserved_ports(path, &ps), -1);
	write_file(tmpdir, "res-bad", "90-80\n");
	assert_int_equal(pdx_reserved_ports(path, &ps), -1);
	assert_error_has("res-bad");
	assert_int_equal(pdx_reserved_ports("/nonexistent/reserved", &ps), -1);
	assert_error_has("/nonexistent/reserved");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_pick_fixture),
		cmocka_unit_test(test_pick_order),
		cmocka_unit_test(test_pick_defaults),
		cmocka_unit_test(test_pick_errors),
		cmocka_unit_test(test_pick_blocks),
		cmocka_unit_test(test_pick_portable_nodeport),
		cmocka_unit_test(test_reserved_ports),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
