/*
 * test_util.c - unit tests for lib/util.c: the per-thread error message,
 * bounded number parsing, protocol/level/status names, port sets and
 * their iteration, port-space classes, the ephemeral range reader and
 * pdx_read_file.  Expected values come from the specification in
 * portdex.h or from a brute-force model computed in the test, never from
 * the code under test.  The parsers of source files are test_sources.c's.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "portdex.h"
#include "assert-error.h"
#include "util-int.h"

/* A private scratch directory per test program, removed at the end. */
static char tmpdir[256];

static int
setup_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/pdx-test-util-XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmpdir(void **state)
{
	char cmd[512];

	(void)state;
	if (tmpdir[0] == '\0')
		return 0;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes len bytes to tmpdir/name; returns the path (static buffer). */
static const char *
write_tmp(const char *name, const void *data, size_t len)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* ---- errors ---------------------------------------------------------- */

static void
test_error_truncates(void **state)
{
	char big[5000];

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	pdx_set_error("%s", big);
	/* Bounded, NUL-terminated, and still the start of what was set. */
	assert_true(strlen(pdx_last_error()) < sizeof big - 1);
	assert_true(strlen(pdx_last_error()) > 100);
	assert_int_equal(pdx_last_error()[0], 'x');
	pdx_set_error("port %d: %s", 7, "bad");
	assert_string_equal(pdx_last_error(), "port 7: bad");
	/* The message may be built from the previous one. */
	pdx_set_error("file:%d: %s", 3, pdx_last_error());
	assert_string_equal(pdx_last_error(), "file:3: port 7: bad");
}

/*
 * A message quoting bytes someone else chose (SQLite's "malformed database
 * schema (...)" names a damaged schema's garbled name) comes out as
 * printable UTF-8: a terminal gets no escape sequence, JSON accepts it.
 */
static void
test_error_printable(void **state)
{
	json_t *j;
	char big[1100];

	(void)state;
	pdx_set_error("malformed database schema (%s)", "\x9b\x1b[2J\xff\x01z");
	assert_string_equal(pdx_last_error(),
	    "malformed database schema (?\?[2J??z)");
	/* well-formed UTF-8 stays; overlong, surrogate, cut short do not */
	pdx_set_error("%s", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 ");
	assert_string_equal(pdx_last_error(),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92 ");
	pdx_set_error("%s", "\xc0\xaf \xed\xa0\x80 \xe2\x82 \xc2\x9b \xc2\xa0");
	assert_string_equal(pdx_last_error(), "?? ??? ?? ?? \xc2\xa0");
	/* a multi-byte character cut by the buffer's end */
	memset(big, 'x', sizeof big);
	memcpy(big + 1021, "\xe2\x82\xac", 3);
	big[sizeof big - 1] = '\0';
	pdx_set_error("%s", big);
	assert_non_null(j = json_string(pdx_last_error()));
	json_decref(j);
}

static void *
thread_sets_error(void *arg)
{
	pdx_set_error("from the thread");
	snprintf(arg, 64, "%s", pdx_last_error());
	return NULL;
}

static void
test_error_per_thread(void **state)
{
	pthread_t t;
	char seen[64] = "";

	(void)state;
	pdx_set_error("from main");
	assert_int_equal(pthread_create(&t, NULL, thread_sets_error, seen), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_string_equal(seen, "from the thread");
	assert_string_equal(pdx_last_error(), "from main");
}

/* ---- pdx_parse_number ------------------------------------------------ */

static void
test_number_good(void **state)
{
	static const struct {
		const char *s;
		long long lo, hi, want;
	} t[] = {
		{ "0", 0, 65535, 0 },
		{ "65535", 0, 65535, 65535 },
		{ "22", 0, 65535, 22 },
		{ "00080", 0, 65535, 80 },
		{ "-5", -10, 10, -5 },
		{ "-10", -10, 10, -10 },
		{ "4294967295", 0, 4294967295LL, 4294967295LL },
		{ "1", 1, 1, 1 },
	};
	size_t i;
	long long v;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = -12345;
		if (pdx_parse_number(t[i].s, t[i].lo, t[i].hi, "port", &v) != 0)
			fail_msg("'%s' in %lld-%lld rejected: %s", t[i].s,
			    t[i].lo, t[i].hi, pdx_last_error());
		assert_int_equal(v, t[i].want);
	}
}

static void
test_number_bad(void **state)
{
	static const struct {
		const char *s;
		const char *msg; /* must appear in the message */
	} t[] = {
		{ "65536", "port '65536' is out of range 0-65535" },
		{ "70000", "port '70000' is out of range 0-65535" },
		{ "-1", "port '-1' is out of range 0-65535" },
		{ "99999999999999999999999999", "out of range" },
		{ "-99999999999999999999999999", "out of range" },
		{ "abc", "port 'abc' is not a number" },
		{ "12a", "port '12a' is not a number" },
		{ " 1", "is not a number" },
		{ "1 ", "is not a number" },
		{ "0x10", "is not a number" },
		{ "1.5", "is not a number" },
		{ "-", "is not a number" },
		{ "+", "is not a number" },
		{ "--1", "is not a number" },
		{ "", "empty port" },
	};
	size_t i;
	long long v;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = 42;
		if (pdx_parse_number(t[i].s, 0, 65535, "port", &v) != -1)
			fail_msg("'%s' accepted as %lld", t[i].s, v);
		assert_int_equal(v, 42); /* untouched on error */
		assert_error_has(t[i].msg);
	}
	assert_int_equal(pdx_parse_number(NULL, 0, 9, "count", &v), -1);
	assert_error_has("count");
	/* The noun is the caller's. */
	assert_int_equal(pdx_parse_number("11", 0, 10, "count", &v), -1);
	assert_error_has("count '11' is out of range 0-10");
}

static void
test_number_long_input(void **state)
{
	char s[2000];

	(void)state;
	memset(s, '7', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	assert_int_equal(pdx_parse_number(s, 0, 65535, "port",
			     &(long long){ 0 }),
	    -1);
	assert_error_has("out of range");
	/* The message quotes a bounded prefix, not the whole input. */
	assert_true(strlen(pdx_last_error()) < 200);
	s[1000] = 'z';
	assert_int_equal(pdx_parse_number(s, 0, 65535, "port",
			     &(long long){ 0 }),
	    -1);
}

/* ---- protocols, levels, statuses, classes ---------------------------- */

static void
test_proto(void **state)
{
	static const struct {
		const char *name;
		int bit;
	} t[] = {
		{ "tcp", PDX_TCP },
		{ "udp", PDX_UDP },
		{ "sctp", PDX_SCTP },
		{ "dccp", PDX_DCCP },
	};
	static const char *const bad[] = {
		"",
		"icmp",
		"tc",
		"tcpx",
		"ddp",
		"tcp ",
		" udp",
		"tcp/udp",
	};
	size_t i;
	int seen = 0;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		assert_int_equal(pdx_proto_parse(t[i].name), t[i].bit);
		assert_string_equal(pdx_proto_name(t[i].bit), t[i].name);
		assert_int_equal(pdx_proto_index(t[i].bit), (int)i);
		seen |= t[i].bit;
	}
	assert_int_equal(seen, PDX_PROTO_ALL);
	assert_int_equal(pdx_proto_parse("TCP"), PDX_TCP);
	assert_int_equal(pdx_proto_parse("Udp"), PDX_UDP);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pdx_proto_parse(bad[i]) != 0)
			fail_msg("'%s' parsed as a protocol", bad[i]);
	/* Zero and combinations are not one protocol. */
	assert_string_equal(pdx_proto_name(0), "");
	assert_string_equal(pdx_proto_name(PDX_TCP | PDX_UDP), "");
	assert_string_equal(pdx_proto_name(16), "");
	assert_string_equal(pdx_proto_name(-1), "");
	assert_int_equal(pdx_proto_index(0), -1);
	assert_int_equal(pdx_proto_index(PDX_TCP | PDX_UDP), -1);
}

static void
test_level(void **state)
{
	static const char *const names[] = { "none", "info", "low", "medium",
		"high" };
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		assert_int_equal(pdx_level_parse(names[i]), i);
		assert_string_equal(pdx_level_name(i), names[i]);
	}
	assert_int_equal(pdx_level_parse("HIGH"), PDX_LEVEL_HIGH);
	assert_int_equal(pdx_level_parse("Medium"), PDX_LEVEL_MEDIUM);
	assert_int_equal(pdx_level_parse("critical"), -1);
	assert_int_equal(pdx_level_parse(""), -1);
	assert_int_equal(pdx_level_parse("hig"), -1);
	assert_int_equal(pdx_level_parse("high "), -1);
	assert_string_equal(pdx_level_name(-1), "unknown");
	assert_string_equal(pdx_level_name(5), "unknown");
}

static void
test_status_names(void **state)
{
	(void)state;
	assert_string_equal(pdx_status_name(PDX_ST_UNASSIGNED), "unassigned");
	assert_string_equal(pdx_status_name(PDX_ST_RESERVED), "reserved");
	assert_string_equal(pdx_status_name(PDX_ST_DEREGISTERED),
	    "de-registered");
	assert_string_equal(pdx_status_name(PDX_ST_HISTORIC), "historic");
	assert_string_equal(pdx_status_name(PDX_ST_ASSIGNED), "assigned");
	assert_string_equal(pdx_status_name(-1), "unknown");
	assert_string_equal(pdx_status_name(PDX_ST_ASSIGNED + 1), "unknown");
}

static void
test_range_class(void **state)
{
	unsigned p;

	(void)state;
	assert_int_equal(pdx_range_class(0), PDX_RANGE_SYSTEM);
	assert_int_equal(pdx_range_class(1023), PDX_RANGE_SYSTEM);
	assert_int_equal(pdx_range_class(1024), PDX_RANGE_USER);
	assert_int_equal(pdx_range_class(49151), PDX_RANGE_USER);
	assert_int_equal(pdx_range_class(49152), PDX_RANGE_DYNAMIC);
	assert_int_equal(pdx_range_class(65535), PDX_RANGE_DYNAMIC);
	/* Every port against the RFC 6335 boundaries. */
	for (p = 0; p <= 65535; p++) {
		int want = p <= 1023 ? PDX_RANGE_SYSTEM
		    : p <= 49151     ? PDX_RANGE_USER
				     : PDX_RANGE_DYNAMIC;

		if (pdx_range_class(p) != want)
			fail_msg("port %u: class %d, want %d", p,
			    pdx_range_class(p), want);
	}
	assert_string_equal(pdx_range_class_name(PDX_RANGE_SYSTEM), "system");
	assert_string_equal(pdx_range_class_name(PDX_RANGE_USER), "user");
	assert_string_equal(pdx_range_class_name(PDX_RANGE_DYNAMIC), "dynamic");
	assert_string_equal(pdx_range_class_name(99), "unknown");
}

/* ---- port sets ------------------------------------------------------- */

static void
test_portset_parse_good(void **state)
{
	struct pdx_portset ps;
	unsigned p;

	(void)state;
	assert_int_equal(pdx_portset_parse(&ps, "22,80,1000-2000"), 0);
	assert_int_equal(ps.count, 2 + 1001);
	for (p = 0; p <= 65535; p++) {
		int want = p == 22 || p == 80 || (p >= 1000 && p <= 2000);

		if (pdx_portset_has(&ps, p) != want)
			fail_msg("port %u: has=%d want=%d", p,
			    pdx_portset_has(&ps, p), want);
	}
	assert_int_equal(pdx_portset_has(&ps, 70000), 0);

	/* "-" is every port that can be bound: 1-65535. */
	assert_int_equal(pdx_portset_parse(&ps, "-"), 0);
	assert_int_equal(ps.count, 65535);
	assert_int_equal(pdx_portset_has(&ps, 0), 0);
	assert_int_equal(pdx_portset_has(&ps, 1), 1);
	assert_int_equal(pdx_portset_has(&ps, 65535), 1);

	/* Overlaps and duplicates count once; a parse starts empty. */
	assert_int_equal(pdx_portset_parse(&ps, "1-10,5-15,15,15"), 0);
	assert_int_equal(ps.count, 15);
	assert_int_equal(pdx_portset_parse(&ps, "0"), 0);
	assert_int_equal(ps.count, 1);
	assert_int_equal(pdx_portset_has(&ps, 0), 1);
	assert_int_equal(pdx_portset_parse(&ps, "65535,0-0"), 0);
	assert_int_equal(ps.count, 2);
	assert_int_equal(pdx_portset_parse(&ps, "7-7"), 0);
	assert_int_equal(ps.count, 1);
	assert_int_equal(pdx_portset_has(&ps, 7), 1);
	assert_int_equal(pdx_portset_parse(&ps, "0-65535"), 0);
	assert_int_equal(ps.count, 65536);
}

static void
test_portset_parse_bad(void **state)
{
	static const struct {
		const char *spec;
		const char *msg;
	} t[] = {
		{ "", "empty" },
		{ "abc", "'abc'" },
		{ "22,abc", "'abc'" },
		{ "22,", "ends with ','" },
		{ "22,80,", "ends with ','" },
		{ ",22", "bad element" },
		{ "22,,80", "bad element" },
		{ "2000-1000", "2000-1000" },
		{ "12-5", "12-5" },
		{ "65536", "65536" },
		{ "70000", "70000" },
		{ "1-65536", "65536" },
		{ "1-", "port" },
		{ "-5", "-5" },
		{ "1--5", "port" },
		{ "1-2-3", "port" },
		{ "22 ", "'22 '" },
		{ "--", "port" },
	};
	struct pdx_portset ps;
	char longspec[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (pdx_portset_parse(&ps, t[i].spec) != -1)
			fail_msg("'%s' accepted", t[i].spec);
		assert_error_has(t[i].msg);
	}
	assert_int_equal(pdx_portset_parse(&ps, NULL), -1);
	/* An element too long for any port. */
	memset(longspec, '1', sizeof longspec - 1);
	longspec[sizeof longspec - 1] = '\0';
	assert_int_equal(pdx_portset_parse(&ps, longspec), -1);
	assert_true(strlen(pdx_last_error()) < 200);
}

/* Brute-force model of pdx_portset_next() for one set. */
static void
check_next_against_has(const struct pdx_portset *ps)
{
	int p, want, got;

	for (p = 0; p <= 65535; p++) {
		want = -1;
		for (int q = p; q <= 65535; q++)
			if (pdx_portset_has(ps, (unsigned)q)) {
				want = q;
				break;
			}
		got = pdx_portset_next(ps, p);
		if (got != want)
			fail_msg("next(%d) = %d, want %d", p, got, want);
		/* Skip ahead to keep the model O(n): answers between p and
		 * want are all want. */
		if (want < 0)
			break;
		for (; p < want; p++)
			if (pdx_portset_next(ps, p + 1) != want)
				fail_msg("next(%d) != %d", p + 1, want);
	}
	for (; p <= 65536; p++)
		if (pdx_portset_next(ps, p) != -1)
			fail_msg("next(%d) = %d after the last port", p,
			    pdx_portset_next(ps, p));
}

static void
test_portset_next(void **state)
{
	static const unsigned edges[] = { 0, 63, 64, 127, 128, 65472, 65535 };
	struct pdx_portset ps;
	uint32_t x = 12345;
	unsigned i, n, k;
	int p;

	(void)state;
	assert_int_equal(pdx_portset_parse(&ps, "22,80,1000-2000"), 0);
	assert_int_equal(pdx_portset_next(&ps, 0), 22);
	assert_int_equal(pdx_portset_next(&ps, -5), 22);
	assert_int_equal(pdx_portset_next(&ps, 22), 22);
	assert_int_equal(pdx_portset_next(&ps, 23), 80);
	assert_int_equal(pdx_portset_next(&ps, 81), 1000);
	assert_int_equal(pdx_portset_next(&ps, 1500), 1500);
	assert_int_equal(pdx_portset_next(&ps, 2000), 2000);
	assert_int_equal(pdx_portset_next(&ps, 2001), -1);
	assert_int_equal(pdx_portset_next(&ps, 65536), -1);
	/* Walking the set visits exactly count ports, in order. */
	for (n = 0, p = pdx_portset_next(&ps, 0); p >= 0;
	     p = pdx_portset_next(&ps, p + 1))
		n++;
	assert_int_equal(n, ps.count);

	pdx_portset_clear(&ps);
	assert_int_equal(ps.count, 0);
	assert_int_equal(pdx_portset_next(&ps, 0), -1);

	/* Word boundaries of the bitmap. */
	for (i = 0; i < sizeof edges / sizeof edges[0]; i++)
		pdx_portset_add(&ps, edges[i], edges[i]);
	assert_int_equal(ps.count, sizeof edges / sizeof edges[0]);
	check_next_against_has(&ps);

	/* Sparse pseudo-random sets (fixed seed, reproducible). */
	for (k = 0; k < 3; k++) {
		pdx_portset_clear(&ps);
		for (i = 0; i < 40; i++) {
			x = x * 1103515245u + 12345u;
			pdx_portset_add(&ps, (x >> 8) % 65536,
			    (x >> 8) % 65536);
		}
		check_next_against_has(&ps);
	}
}

static void
test_portset_add_clamps(void **state)
{
	struct pdx_portset ps;

	(void)state;
	pdx_portset_clear(&ps);
	pdx_portset_add(&ps, 65530, 70000);
	assert_int_equal(ps.count, 6);
	assert_int_equal(pdx_portset_has(&ps, 65535), 1);
	assert_int_equal(pdx_portset_has(&ps, 65536), 0);
	pdx_portset_add(&ps, 10, 5); /* empty range adds nothing */
	assert_int_equal(ps.count, 6);
}

/* ---- ephemeral range ------------------------------------------------- */

static void
test_ephemeral_good(void **state)
{
	static const struct {
		const char *text;
		unsigned lo, hi;
	} t[] = {
		{ "32768\t60999\n", 32768, 60999 },
		{ "1024 65535", 1024, 65535 },
		{ "  40000   40000  \n", 40000, 40000 },
	};
	unsigned lo, hi;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		const char *path = write_tmp("range", t[i].text,
		    strlen(t[i].text));

		lo = hi = 99999;
		if (pdx_ephemeral_range(path, &lo, &hi) != 0)
			fail_msg("'%s' rejected: %s", t[i].text,
			    pdx_last_error());
		assert_int_equal(lo, t[i].lo);
		assert_int_equal(hi, t[i].hi);
	}
}

static void
test_ephemeral_bad(void **state)
{
	static const char *const bad[] = {
		"abc def\n",
		"",
		"\n",
		"32768\n",
		"60999 32768\n",
		"1 70000\n",
		"70000 70001\n",
		"-1 5\n",
		"x 5\n",
		"5 x\n",
	};
	unsigned lo = 7, hi = 8;
	size_t i;
	const char *path;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		path = write_tmp("range", bad[i], strlen(bad[i]));
		if (pdx_ephemeral_range(path, &lo, &hi) != -1)
			fail_msg("'%s' accepted as %u-%u", bad[i], lo, hi);
		assert_error_has(path);
		assert_int_equal(lo, 7);
		assert_int_equal(hi, 8);
	}
	path = write_tmp("range", "1 2", 3);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(pdx_ephemeral_range(path, &lo, &hi), -1);
	assert_error_has(path);
	assert_error_has(strerror(ENOENT));
}

static void
test_ephemeral_proc(void **state)
{
	const char *proc = "/proc/sys/net/ipv4/ip_local_port_range";
	unsigned lo, hi, a, b;
	FILE *f;

	(void)state;
	if ((f = fopen(proc, "r")) == NULL)
		skip(); /* no procfs: nothing to compare with */
	assert_int_equal(fscanf(f, "%u %u", &a, &b), 2);
	fclose(f);
	assert_int_equal(pdx_ephemeral_range(NULL, &lo, &hi), 0);
	assert_int_equal(lo, a);
	assert_int_equal(hi, b);
	assert_true(lo <= hi && hi <= 65535);
}

/* ---- pdx_read_file --------------------------------------------------- */

static void
test_read_file_missing_and_dir(void **state)
{
	char path[600];
	size_t len = 99;

	(void)state;
	snprintf(path, sizeof path, "%s/does-not-exist", tmpdir);
	assert_null(pdx_read_file(path, 1024, &len));
	assert_error_has(path);
	assert_error_has(strerror(ENOENT));
	assert_int_equal(len, 99);

	assert_null(pdx_read_file(tmpdir, 1024, &len));
	assert_error_has(tmpdir);
	assert_error_has("directory");
}

static void
test_read_file_contents(void **state)
{
	static const char data[] = "one\0two\nthree"; /* NUL kept */
	const char *path;
	char *buf;
	size_t len = 0;

	(void)state;
	path = write_tmp("data", data, sizeof data - 1);
	buf = pdx_read_file(path, 1024, &len);
	assert_non_null(buf);
	assert_int_equal(len, sizeof data - 1);
	assert_memory_equal(buf, data, sizeof data - 1);
	assert_int_equal(buf[len], '\0');
	free(buf);

	/* lenp may be NULL. */
	buf = pdx_read_file(path, 1024, NULL);
	assert_non_null(buf);
	assert_string_equal(buf, "one");
	free(buf);

	path = write_tmp("empty", "", 0);
	buf = pdx_read_file(path, 1024, &len);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void
test_read_file_limit(void **state)
{
	char data[100];
	const char *path;
	char *buf;
	size_t len = 0;

	(void)state;
	memset(data, 'a', sizeof data);
	path = write_tmp("hundred", data, sizeof data);

	assert_null(pdx_read_file(path, 99, &len));
	assert_error_has(path);
	assert_error_has("larger than 99 bytes");
	assert_null(pdx_read_file(path, 0, &len));

	buf = pdx_read_file(path, 1000, &len);
	assert_non_null(buf);
	assert_int_equal(len, 100);
	free(buf);

	/* "max bounds the size": a file of exactly max bytes fits. */
	buf = pdx_read_file(path, 100, &len);
	if (buf == NULL)
		fail_msg("100-byte file rejected with max 100: %s",
		    pdx_last_error());
	assert_int_equal(len, 100);
	assert_memory_equal(buf, data, 100);
	free(buf);
}

/* SIZE_MAX means "no bound": max + 1 must not wrap around. */
static void
test_read_file_unbounded(void **state)
{
	char data[5000];
	const char *path;
	char *buf;
	size_t len = 0;

	(void)state;
	memset(data, 'b', sizeof data);
	path = write_tmp("unbounded", data, sizeof data);
	buf = pdx_read_file(path, SIZE_MAX, &len);
	if (buf == NULL)
		fail_msg("max SIZE_MAX: %s", pdx_last_error());
	assert_int_equal(len, sizeof data);
	assert_memory_equal(buf, data, sizeof data);
	free(buf);
}

/*
 * A FIFO has no size, so the reader must grow its buffer: a child writes
 * n bytes of a known pattern and exits; the parent reads with max.
 */
static char *
read_fifo(size_t n, size_t max, size_t *len)
{
	char path[600];
	char *buf;
	pid_t pid;
	int status;

	snprintf(path, sizeof path, "%s/fifo", tmpdir);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f;
		size_t i;

		signal(SIGPIPE, SIG_IGN);
		alarm(20); /* never outlive a stuck parent */
		if ((f = fopen(path, "w")) == NULL)
			_exit(1);
		for (i = 0; i < n; i++)
			if (putc('a' + (int)(i % 26), f) == EOF)
				break;
		fclose(f);
		_exit(0);
	}
	buf = pdx_read_file(path, max, len);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	return buf;
}

static void
test_read_file_fifo(void **state)
{
	size_t len = 0, i, n = 300000;
	char *buf;

	(void)state;
	buf = read_fifo(n, 1 << 20, &len);
	assert_non_null(buf);
	assert_int_equal(len, n);
	for (i = 0; i < n; i++)
		if (buf[i] != 'a' + (int)(i % 26))
			fail_msg("byte %zu is '%c'", i, buf[i]);
	assert_int_equal(buf[n], '\0');
	free(buf);

	buf = read_fifo(n, 100000, &len);
	assert_null(buf);
	assert_error_has("larger than 100000 bytes");
}

/*
 * pdx_map_file maps only when the program allowed it, and registers the
 * mapping for pdx_mapped_path (the SIGBUS handler's question) until
 * pdx_unmap_file; 17 files at once overflow the table: read instead.
 */
static void
test_map_file(void **state)
{
	char path[] = "/tmp/pdx-map-XXXXXX", name[17][32];
	const char *p, *q[17];
	int fd, i, got = 0;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	pdx_map_allow(0);
	assert_null(pdx_map_file(fd, 10, path));
	pdx_map_allow(1);
	assert_null(pdx_map_file(fd, 0, path));
	assert_non_null(p = pdx_map_file(fd, 10, path));
	assert_memory_equal(p, "0123456789", 10);
	assert_string_equal(pdx_mapped_path(p), path);
	assert_string_equal(pdx_mapped_path(p + 9), path);
	assert_null(pdx_mapped_path(p + 4096));
	assert_null(pdx_mapped_path(path));
	for (i = 0; i < 17; i++) {
		snprintf(name[i], sizeof name[i], "file %d", i);
		if ((q[i] = pdx_map_file(fd, 10, name[i])) != NULL) {
			got++;
			assert_string_equal(pdx_mapped_path(q[i] + 3), name[i]);
		}
	}
	assert_int_equal(got, 15); /* 16 slots, one is p's */
	for (i = 0; i < 17; i++)
		pdx_unmap_file(q[i], 10);
	pdx_unmap_file(p, 10);
	assert_null(pdx_mapped_path(p));
	pdx_map_allow(0);
	close(fd);
	unlink(path);
}

/* Whether the page at p is mapped: mincore fails with ENOMEM if not. */
static int
page_mapped(const void *p)
{
	unsigned char vec;
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;

	return mincore((void *)a, 1, &vec) == 0;
}

/*
 * After pdx_exit_soon, a released mapping stays for the kernel to tear
 * down at exit (its slot is free all the same); before, it goes.  Last
 * in the list: the process cannot go back.
 */
static void
test_exit_soon(void **state)
{
	char path[] = "/tmp/pdx-exit-XXXXXX";
	const char *p;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	pdx_map_allow(1);
	assert_non_null(p = pdx_map_file(fd, 10, path));
	assert_true(page_mapped(p));
	pdx_unmap_file(p, 10);
	assert_false(page_mapped(p));
	pdx_exit_soon();
	assert_non_null(p = pdx_map_file(fd, 10, path));
	pdx_unmap_file(p, 10);
	assert_null(pdx_mapped_path(p));
	assert_true(page_mapped(p));
	assert_memory_equal(p, "0123456789", 10);
	pdx_map_allow(0);
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_truncates),
		cmocka_unit_test(test_error_printable),
		cmocka_unit_test(test_error_per_thread),
		cmocka_unit_test(test_number_good),
		cmocka_unit_test(test_number_bad),
		cmocka_unit_test(test_number_long_input),
		cmocka_unit_test(test_proto), cmocka_unit_test(test_level),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_range_class),
		cmocka_unit_test(test_portset_parse_good),
		cmocka_unit_test(test_portset_parse_bad),
		cmocka_unit_test(test_portset_next),
		cmocka_unit_test(test_portset_add_clamps),
		cmocka_unit_test(test_ephemeral_good),
		cmocka_unit_test(test_ephemeral_bad),
		cmocka_unit_test(test_ephemeral_proc),
		cmocka_unit_test(test_read_file_missing_and_dir),
		cmocka_unit_test(test_read_file_contents),
		cmocka_unit_test(test_read_file_limit),
		cmocka_unit_test(test_read_file_fifo),
		cmocka_unit_test(test_map_file),
		/* Last: before the fix in the report it aborts the program. */
		cmocka_unit_test(test_read_file_unbounded),
		cmocka_unit_test(test_exit_soon), /* last: for good */
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
