/*
 * test_briefs.c - the brief file (lib/briefs.c) that `portdex update`
 * writes beside the registry and `portdex ls` reads instead of SQLite.
 * The registry is built from a generated IANA CSV with a few hundred
 * names on all four transports (more than one row of names, ranges across
 * the file's 1,024-port chunks), then:
 *  - pdx_db_open_brief() answers pdx_brief() like pdx_db_open() for all
 *    262,144 port/transport pairs, and from the file: it still answers
 *    with the registry gone, and a word patched in the file shows;
 *  - a registry changed in place after the file was written, or rebuilt,
 *    makes the file stale: the registry answers, even for words patched
 *    in the file; a copy of both files still is a pair;
 *  - damaged files (cut short, bad mark, wrong length, bad name offsets,
 *    a name index past the end) are passed over with a note, and every
 *    answer is still the registry's;
 *  - the malware rows (audit's) from the file equal the registry's SQL
 *    rows, and reading them opens no SQLite; damaged rows (ports,
 *    transports, names, their order, the section cut) are passed over
 *    with a note and SQL answers; a version-1 file is stale, not damaged.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "registry-int.h"

#define NSVC 300
#define HEADER 64
#define WORDS (HEADER + 4L * 65536 * 4)

static char tmpdir[64], dbpath[128], bpath[128], keep[128];
static struct pdx_db *ref; /* the registry through SQLite */

static const int protos[] = { PDX_TCP, PDX_UDP, PDX_SCTP, PDX_DCCP };
static const char *const pnames[] = { "tcp", "udp", "sctp", "dccp" };

/* Service i: its port and transport, spread over the whole port space. */
static unsigned
svc_port(int i)
{
	return (unsigned)(i * 211 + 7) % 65536;
}

static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;

	if ((in = fopen(from, "rb")) == NULL || (out = fopen(to, "wb")) == NULL)
		fail_msg("copy %s %s", from, to);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static char csvpath[160];

/* Builds the registry (and its brief file) from the CSV. */
static int
rebuild(void)
{
	struct pdx_update_opts o;
	json_t *r;

	memset(&o, 0, sizeof o);
	o.db_path = dbpath;
	o.iana = csvpath;
	o.knowledge_dir = PDX_SRCDIR "/data"; /* the malware rows */
	o.no_search = 1;
	if ((r = pdx_update(&o)) == NULL) {
		fprintf(stderr, "update: %s\n", pdx_last_error());
		return -1;
	}
	json_decref(r);
	return 0;
}

static int
setup(void **state)
{
	FILE *f;
	int i;

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pdx-test-briefs.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(csvpath, sizeof csvpath, "%s/iana.csv", tmpdir);
	snprintf(dbpath, sizeof dbpath, "%s/registry.db", tmpdir);
	snprintf(bpath, sizeof bpath, "%s/registry.db.brief", tmpdir);
	snprintf(keep, sizeof keep, "%s/brief.keep", tmpdir);
	if ((f = fopen(csvpath, "w")) == NULL)
		return -1;
	fprintf(f,
	    "Service Name,Port Number,Transport Protocol,Description,"
	    "Assignee,Contact,Registration Date,Modification Date,Reference,"
	    "Service Code,Unauthorized Use Reported,Assignment Notes\n");
	for (i = 0; i < NSVC; i++)
		fprintf(f, "svc%d,%u,%s,Service %d,[A],[A],,,,,,\n", i,
		    svc_port(i), pnames[i % 4], i);
	/* ranges across chunk boundaries, one reserved, one unassigned */
	fprintf(f, "wide,1020-1030,tcp,Wide,[A],[A],,,,,,\n");
	fprintf(f, ",2040-2050,udp,Reserved,,,,,,,,\n");
	fprintf(f, ",40000-40100,tcp,Unassigned,,,,,,,,\n");
	fclose(f);
	if (rebuild() != 0)
		return -1;
	if ((ref = pdx_db_open(dbpath)) == NULL) {
		fprintf(stderr, "open: %s\n", pdx_last_error());
		return -1;
	}
	copy_file(bpath, keep);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[200];

	(void)state;
	pdx_db_close(ref);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Puts the pristine brief file back after a test damaged it. */
static void
restore(void)
{
	copy_file(keep, bpath);
}

/* Number of pairs where d and the registry disagree (d may fail). */
static long
differences(struct pdx_db *d)
{
	struct pdx_brief a, b;
	long diff = 0;
	unsigned port;
	int i;

	for (i = 0; i < 4; i++)
		for (port = 0; port <= 65535; port++) {
			assert_int_equal(pdx_brief(ref, port, protos[i], &b),
			    0);
			if (pdx_brief(d, port, protos[i], &a) != 0 ||
			    strcmp(a.name, b.name) != 0 ||
			    a.status != b.status || a.risk != b.risk)
				diff++;
		}
	return diff;
}

/* Overwrites n bytes at off of the brief file. */
static void
patch(long off, const void *bytes, size_t n)
{
	int fd = open(bpath, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, n, off), (ssize_t)n);
	close(fd);
}

static long
word_off(int proto_index, unsigned port)
{
	return HEADER + ((long)proto_index * 65536 + port) * 4;
}

/* Reads a u32 of the brief file's header. */
static uint32_t
hdr32(long off)
{
	uint32_t v;
	int fd = open(bpath, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &v, 4, off), 4);
	close(fd);
	return v;
}

/* Where the malware rows start (portdex-db(5)). */
static long
mal_off(void)
{
	return WORDS + ((long)hdr32(24) + 1) * 4 + hdr32(28);
}

static void
test_written(void **state)
{
	struct stat st;
	struct pdx_brief b;
	int i;

	(void)state;
	assert_int_equal(stat(bpath, &st), 0);
	/* header, words, at least NSVC names and their offsets */
	assert_true(st.st_size > WORDS + NSVC * 8);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* the fixture is what the registry says */
	for (i = 0; i < NSVC; i++) {
		char want[16];

		snprintf(want, sizeof want, "svc%d", i);
		assert_int_equal(pdx_brief(ref, svc_port(i), protos[i % 4], &b),
		    0);
		assert_string_equal(b.name, want);
		assert_int_equal(b.status, PDX_ST_ASSIGNED);
	}
}

static void
test_same_answers(void **state)
{
	struct pdx_db *d;
	char away[160];

	(void)state;
	assert_non_null(d = pdx_db_open_brief(dbpath));
	assert_int_equal(differences(d), 0);
	assert_null(pdx_db_brief_note(d));
	/*
	 * From the file: with the registry moved away, every answer still
	 * comes, and the registry itself cannot be opened.
	 */
	snprintf(away, sizeof away, "%s.away", dbpath);
	assert_int_equal(rename(dbpath, away), 0);
	assert_int_equal(differences(d), 0);
	assert_null(pdx_db_handle(d));
	assert_int_equal(rename(away, dbpath), 0);
	pdx_db_close(d);
}

static void
test_patched_word_shows(void **state)
{
	struct pdx_db *d;
	struct pdx_brief b, want;
	uint32_t w;

	(void)state;
	/* svc1 on udp: make the file say "reserved", no name */
	assert_int_equal(pdx_brief(ref, svc_port(1), PDX_UDP, &want), 0);
	w = PDX_ST_RESERVED;
	patch(word_off(1, svc_port(1)), &w, 4);
	assert_non_null(d = pdx_db_open_brief(dbpath));
	assert_int_equal(pdx_brief(d, svc_port(1), PDX_UDP, &b), 0);
	assert_string_equal(b.name, "");
	assert_int_equal(b.status, PDX_ST_RESERVED);
	assert_int_not_equal(b.status, want.status);
	assert_int_equal(differences(d), 1);
	pdx_db_close(d);
	restore();
}

static void
test_stale(void **state)
{
	struct pdx_db *d;
	sqlite3 *h;
	uint32_t w[64];

	(void)state;
	/* garbage words the file would give if it were read */
	memset(w, 0xff, sizeof w);
	patch(word_off(0, 0), w, sizeof w);
	/* a change made to the registry without the file: a new counter */
	assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
			     "UPDATE meta SET value = value || 'x' "
			     "WHERE key = 'built'",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	assert_non_null(d = pdx_db_open_brief(dbpath));
	assert_int_equal(differences(d), 0);
	assert_null(pdx_db_brief_note(d)); /* stale is not damage */
	assert_non_null(pdx_db_handle(d));
	pdx_db_close(d);
	restore();
	/* a rebuilt registry with an old brief file: stale as well */
	copy_file(bpath, keep);
	rebuild();
	copy_file(keep, bpath); /* the file of the earlier build */
	patch(word_off(0, 0), w, sizeof w);
	assert_non_null(d = pdx_db_open_brief(dbpath));
	assert_int_equal(differences(d), 0);
	pdx_db_close(d);
	rebuild(); /* a matching pair again */
	copy_file(bpath, keep);
	pdx_db_close(ref);
	assert_non_null(ref = pdx_db_open(dbpath));
}

static void
test_copy(void **state)
{
	char dir[128], db2[160], b2[180];
	struct pdx_db *d;
	struct pdx_brief b;
	uint32_t w = PDX_ST_HISTORIC;

	(void)state;
	/* both files copied elsewhere (an installation): still a pair */
	snprintf(dir, sizeof dir, "%s/copy", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(db2, sizeof db2, "%s/registry.db", dir);
	snprintf(b2, sizeof b2, "%s/registry.db.brief", dir);
	copy_file(dbpath, db2);
	copy_file(bpath, b2);
	{
		int fd = open(b2, O_WRONLY);

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, &w, 4, word_off(3, 9)), 4);
		close(fd);
	}
	assert_non_null(d = pdx_db_open_brief(db2));
	assert_int_equal(pdx_brief(d, 9, PDX_DCCP, &b), 0);
	assert_int_equal(b.status, PDX_ST_HISTORIC); /* the file's word */
	assert_int_equal(differences(d), 1);
	pdx_db_close(d);
}

/* Opens with a damaged file: the registry's answers and a note. */
static void
expect_passed_over(const char *what, const char *note_part)
{
	struct pdx_db *d;

	if ((d = pdx_db_open_brief(dbpath)) == NULL)
		fail_msg("%s: open: %s", what, pdx_last_error());
	if (differences(d) != 0)
		fail_msg("%s: answers differ from the registry", what);
	if (pdx_db_brief_note(d) == NULL ||
	    strstr(pdx_db_brief_note(d), note_part) == NULL)
		fail_msg("%s: note '%s'", what,
		    pdx_db_brief_note(d) ? pdx_db_brief_note(d) : "(none)");
	pdx_db_close(d);
	restore();
}

static void
test_damaged(void **state)
{
	uint32_t big = 0xffffffffu, w;
	char c = 'x';
	FILE *f;

	(void)state;
	assert_int_equal(truncate(bpath, 40), 0);
	expect_passed_over("cut in its header", "damaged brief file");
	assert_int_equal(truncate(bpath, WORDS / 2), 0);
	expect_passed_over("cut in its words", "wrong length");
	patch(0, "PDXBRIEX", 8);
	expect_passed_over("bad mark", "no PDXBRIEF mark");
	assert_non_null(f = fopen(bpath, "ab"));
	fputc(0, f);
	fclose(f);
	expect_passed_over("one byte more", "wrong length");
	/* name offsets: the second one far past the names */
	patch(WORDS + 4, &big, 4);
	expect_passed_over("name offsets", "name offsets");
	/* a name index past the end, in the word of svc0 (tcp) */
	w = (0xfffeu << 16) | PDX_ST_ASSIGNED;
	patch(word_off(0, svc_port(0)), &w, 4);
	expect_passed_over("name index", "name 65534");
	/* the names' last NUL (before the malware rows) */
	patch(mal_off() - 1, &c, 1);
	expect_passed_over("last NUL", "name offsets");
}

static void
test_other_format(void **state)
{
	struct pdx_db *d;
	uint32_t v = 99;

	(void)state;
	patch(8, &v, 4); /* version */
	assert_non_null(d = pdx_db_open_brief(dbpath));
	assert_int_equal(differences(d), 0);
	assert_null(pdx_db_brief_note(d)); /* not damage: another format */
	pdx_db_close(d);
	restore();
	/* and no brief file at all */
	assert_int_equal(unlink(bpath), 0);
	assert_non_null(d = pdx_db_open_brief(dbpath));
	assert_int_equal(differences(d), 0);
	assert_null(pdx_db_brief_note(d));
	pdx_db_close(d);
	restore();
}

/* The malware rows of a handle, one "lo hi mask name" line each. */
struct malrows {
	char text[65536];
	size_t len, n;
};

static int
mal_add(void *arg, const struct pdx_malware *m)
{
	struct malrows *r = arg;
	int k = snprintf(r->text + r->len, sizeof r->text - r->len,
	    "%u %u %d %s\n", m->lo, m->hi, m->mask, m->name);

	assert_true(k > 0 && (size_t)k < sizeof r->text - r->len);
	r->len += (size_t)k;
	r->n++;
	return 0;
}

static void
malware_of(struct pdx_db *d, struct malrows *r)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(pdx_db_malware(d, mal_add, r), 0);
}

static void
test_malware(void **state)
{
	struct malrows want, got;
	struct pdx_db *d;
	uint32_t mask;

	(void)state;
	malware_of(ref, &want);
	/* the curated data has them: Back Orifice, 31337 */
	assert_true(want.n > 10);
	assert_non_null(strstr(want.text, "31337 31337 "));
	assert_int_equal(hdr32(8), 2);
	assert_int_equal(hdr32(52), (uint32_t)want.n);
	assert_non_null(d = pdx_db_open_brief(dbpath));
	malware_of(d, &got);
	assert_string_equal(got.text, want.text);
	/* from the file: SQLite never connected */
	assert_null(d->db);
	assert_non_null(d->bf);
	assert_null(pdx_db_brief_note(d));
	/* a second walk gives the same; a walk can stop */
	malware_of(d, &got);
	assert_string_equal(got.text, want.text);
	assert_null(d->db);
	pdx_db_close(d);
	/* a row patched in the file shows: the file answers */
	mask = hdr32(mal_off() + 8) == PDX_PROTO_ALL ? PDX_TCP : PDX_PROTO_ALL;
	patch(mal_off() + 8, &mask, 4); /* row 0's transports */
	assert_non_null(d = pdx_db_open_brief(dbpath));
	malware_of(d, &got);
	assert_string_not_equal(got.text, want.text);
	assert_int_equal(got.n, want.n);
	assert_null(d->db);
	pdx_db_close(d);
	restore();
}

/* Opens with damaged malware rows: SQL's rows, and a note. */
static void
expect_mal_passed_over(const char *what)
{
	struct malrows want, got;
	struct pdx_db *d;

	malware_of(ref, &want);
	if ((d = pdx_db_open_brief(dbpath)) == NULL)
		fail_msg("%s: open: %s", what, pdx_last_error());
	malware_of(d, &got);
	if (strcmp(got.text, want.text) != 0)
		fail_msg("%s: rows differ from the registry's", what);
	if (pdx_db_brief_note(d) == NULL ||
	    strstr(pdx_db_brief_note(d), "damaged brief file") == NULL)
		fail_msg("%s: note '%s'", what,
		    pdx_db_brief_note(d) ? pdx_db_brief_note(d) : "(none)");
	if (d->db == NULL)
		fail_msg("%s: SQLite did not answer", what);
	/* the words still agree (from SQL now) */
	if (differences(d) != 0)
		fail_msg("%s: answers differ from the registry", what);
	pdx_db_close(d);
	restore();
}

static void
test_malware_damaged(void **state)
{
	long m = mal_off(), mn;
	uint32_t n = hdr32(52), v;
	struct stat st;

	(void)state;
	mn = m + (long)n * 16;
	v = 70000;
	patch(m + 4, &v, 4);
	expect_mal_passed_over("hi past 65535");
	v = hdr32(m + 4) + 1;
	patch(m, &v, 4);
	expect_mal_passed_over("lo above hi");
	v = 0x100;
	patch(m + 16 + 8, &v, 4);
	expect_mal_passed_over("an unknown transport");
	v = hdr32(56);
	patch(m + 32 + 12, &v, 4);
	expect_mal_passed_over("name offset at the end");
	v = 1;
	patch(m + 16 + 12, &v, 4);
	expect_mal_passed_over("name offset inside a name");
	/* the last row named as the first: out of order */
	v = 0;
	patch(m + (long)(n - 1) * 16 + 12, &v, 4);
	expect_mal_passed_over("out of order");
	assert_int_equal(stat(bpath, &st), 0);
	assert_int_equal(st.st_size, mn + (long)hdr32(56));
	patch(st.st_size - 1, "x", 1);
	expect_mal_passed_over("last NUL");
	/* counts against the length: more rows, fewer name bytes, cut */
	v = n + 1;
	patch(52, &v, 4);
	expect_passed_over("more rows", "wrong length");
	v = 0;
	patch(52, &v, 4);
	expect_passed_over("rows without names", "malware counts");
	v = 0xffffffffu;
	patch(52, &v, 4);
	expect_passed_over("too many rows", "malware counts");
	assert_int_equal(truncate(bpath, mn - 3), 0);
	expect_passed_over("cut in its rows", "wrong length");
	patch(60, "x", 1);
	expect_passed_over("bytes 60-63", "not zero");
}

/* A version-1 file (no malware section) is stale: no note, SQL answers. */
static void
test_version1(void **state)
{
	struct malrows want, got;
	struct pdx_db *d;
	uint32_t v = 1;
	char zero[12] = { 0 };

	(void)state;
	malware_of(ref, &want);
	patch(8, &v, 4);
	patch(52, zero, sizeof zero);
	assert_int_equal(truncate(bpath, mal_off()), 0);
	assert_non_null(d = pdx_db_open_brief(dbpath));
	assert_null(pdx_db_brief_note(d));
	assert_non_null(d->db);
	assert_null(d->bf);
	malware_of(d, &got);
	assert_string_equal(got.text, want.text);
	assert_int_equal(differences(d), 0);
	pdx_db_close(d);
	restore();
}

static void
test_no_registry(void **state)
{
	char path[160];

	(void)state;
	snprintf(path, sizeof path, "%s/none.db", tmpdir);
	assert_null(pdx_db_open_brief(path));
	assert_non_null(strstr(pdx_last_error(), "no registry database"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_same_answers),
		cmocka_unit_test(test_patched_word_shows),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_other_format),
		cmocka_unit_test(test_malware),
		cmocka_unit_test(test_malware_damaged),
		cmocka_unit_test(test_version1),
		cmocka_unit_test(test_no_registry),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
