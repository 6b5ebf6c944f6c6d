/*
 * test_votes.c - unit tests for lib/votes.c: choice names, casting votes
 * against the per-port and per-window limits (with the wait the caller
 * is told), counts and their JSON form, bad arguments, and the client key
 * of IPv4, IPv6 (/64) and IPv4-mapped addresses; a read-only handle and
 * a damaged database are errors, never zero counts.  Expected values come
 * from the contract in portdex/votes.h, counted here, never from the code
 * under test.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "portdex.h"
#include "sql-on.h"

static char tmpdir[256];

static int
setup_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/pdx-test-votes-XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmpdir(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh state database per test, named after it. */
static struct pdx_state *
fresh(const char *name)
{
	char path[512];
	struct pdx_state *s;

	snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
	unlink(path);
	s = pdx_state_open(path);
	if (s == NULL)
		fail_msg("pdx_state_open(%s): %s", path, pdx_last_error());
	return s;
}

static void
counts_are(struct pdx_state *s, unsigned port, long long sad, long long meh,
    long long happy)
{
	long long c[PDX_NVOTES] = { -1, -1, -1 };

	assert_int_equal(pdx_vote_counts(s, port, c), 0);
	assert_int_equal(c[PDX_VOTE_SAD], sad);
	assert_int_equal(c[PDX_VOTE_MEH], meh);
	assert_int_equal(c[PDX_VOTE_HAPPY], happy);
}

static void
test_choice_names(void **state)
{
	(void)state;
	assert_string_equal(pdx_vote_choice_name(PDX_VOTE_SAD), "sad");
	assert_string_equal(pdx_vote_choice_name(PDX_VOTE_MEH), "meh");
	assert_string_equal(pdx_vote_choice_name(PDX_VOTE_HAPPY), "happy");
	assert_null(pdx_vote_choice_name(-1));
	assert_null(pdx_vote_choice_name(PDX_NVOTES));
	assert_int_equal(pdx_vote_choice_parse("sad"), PDX_VOTE_SAD);
	assert_int_equal(pdx_vote_choice_parse("meh"), PDX_VOTE_MEH);
	assert_int_equal(pdx_vote_choice_parse("happy"), PDX_VOTE_HAPPY);
	/* exact and lower case only */
	assert_int_equal(pdx_vote_choice_parse("Happy"), -1);
	assert_int_equal(pdx_vote_choice_parse("happy "), -1);
	assert_int_equal(pdx_vote_choice_parse(""), -1);
	assert_int_equal(pdx_vote_choice_parse(NULL), -1);
}

static void
test_no_limits_counts_every_vote(void **state)
{
	struct pdx_state *s = fresh("nolimits");
	json_t *j;
	int i;

	(void)state;
	counts_are(s, 22, 0, 0, 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_HAPPY, "c1",
				     NULL, 1000 + i, NULL),
		    0);
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_SAD, "c1", NULL, 2000,
			     NULL),
	    0);
	assert_int_equal(pdx_vote_cast(s, 80, PDX_VOTE_MEH, "c2", NULL, 2000,
			     NULL),
	    0);
	counts_are(s, 22, 1, 0, 5);
	counts_are(s, 80, 0, 1, 0);
	counts_are(s, 443, 0, 0, 0);
	j = pdx_votes_json(s, 22);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "sad")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "meh")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "happy")), 5);
	json_decref(j);
	pdx_state_close(s);
}

static void
test_per_port_limit(void **state)
{
	struct pdx_vote_limits lim = { 600, 0, 0 };
	struct pdx_state *s = fresh("perport");
	long wait = -1;

	(void)state;
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_HAPPY, "a", &lim, 10000,
			     &wait),
	    0);
	assert_int_equal(wait, 0);
	/* the same port again 100 s later: 500 s to wait, nothing stored */
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_SAD, "a", &lim, 10100,
			     &wait),
	    1);
	assert_int_equal(wait, 500);
	counts_are(s, 22, 0, 0, 1);
	/* another port, another client: not limited */
	assert_int_equal(pdx_vote_cast(s, 23, PDX_VOTE_SAD, "a", &lim, 10100,
			     &wait),
	    0);
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_SAD, "b", &lim, 10100,
			     &wait),
	    0);
	/* after the window it counts again */
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_MEH, "a", &lim, 10601,
			     &wait),
	    0);
	counts_are(s, 22, 1, 1, 1);
	counts_are(s, 23, 1, 0, 0);
	pdx_state_close(s);
}

static void
test_window_limit(void **state)
{
	struct pdx_vote_limits lim = { 0, 3600, 3 };
	struct pdx_state *s = fresh("window");
	long wait = -1;
	unsigned p;

	(void)state;
	/* three votes at t = 0, 100, 200 on three ports */
	for (p = 0; p < 3; p++)
		assert_int_equal(pdx_vote_cast(s, 1000 + p, PDX_VOTE_HAPPY, "w",
				     &lim, 50000 + 100 * p, &wait),
		    0);
	/* the fourth inside the hour waits for the oldest to leave it */
	assert_int_equal(pdx_vote_cast(s, 2000, PDX_VOTE_HAPPY, "w", &lim,
			     50300, &wait),
	    1);
	assert_int_equal(wait, 50000 + 3600 - 50300);
	counts_are(s, 2000, 0, 0, 0);
	/* once the oldest is out of the window, one more fits */
	assert_int_equal(pdx_vote_cast(s, 2000, PDX_VOTE_HAPPY, "w", &lim,
			     53601, &wait),
	    0);
	counts_are(s, 2000, 0, 0, 1);
	/* and the default limits are the documented ones */
	{
		struct pdx_vote_limits d = PDX_VOTE_LIMITS_DEFAULT;

		assert_int_equal(d.per_port_s, 600);
		assert_int_equal(d.window_s, 3600);
		assert_int_equal(d.max_votes, 30);
	}
	pdx_state_close(s);
}

static void
test_bad_arguments(void **state)
{
	struct pdx_state *s = fresh("bad");
	char longkey[80];
	long long c[PDX_NVOTES];
	long wait = 7;

	(void)state;
	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	assert_int_equal(pdx_vote_cast(s, 65536, PDX_VOTE_SAD, "c", NULL, 1,
			     &wait),
	    -1);
	assert_int_equal(wait, 0);
	assert_non_null(strstr(pdx_last_error(), "0-65535"));
	assert_int_equal(pdx_vote_cast(s, 22, 7, "c", NULL, 1, NULL), -1);
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_SAD, NULL, NULL, 1,
			     NULL),
	    -1);
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_SAD, longkey, NULL, 1,
			     NULL),
	    -1);
	assert_int_equal(pdx_vote_cast(NULL, 22, PDX_VOTE_SAD, "c", NULL, 1,
			     NULL),
	    -1);
	assert_int_equal(pdx_vote_counts(s, 70000, c), -1);
	assert_int_equal(pdx_vote_counts(NULL, 22, c), -1);
	assert_null(pdx_votes_json(s, 70000));
	/* nothing was stored by the refused votes */
	counts_are(s, 22, 0, 0, 0);
	pdx_state_close(s);
}

static void
test_client_key(void **state)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr sa;
	char buf[64];

	(void)state;
	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &in.sin_addr);
	assert_int_equal(pdx_vote_client_key(&in, buf, sizeof buf), 0);
	assert_string_equal(buf, "192.0.2.7");

	memset(&in6, 0, sizeof in6);
	in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &in6.sin6_addr);
	assert_int_equal(pdx_vote_client_key(&in6, buf, sizeof buf), 0);
	assert_string_equal(buf, "2001:db8:1:2::/64");
	/* two hosts of one /64 share the key */
	inet_pton(AF_INET6, "2001:db8:1:2::1", &in6.sin6_addr);
	assert_int_equal(pdx_vote_client_key(&in6, buf, sizeof buf), 0);
	assert_string_equal(buf, "2001:db8:1:2::/64");

	inet_pton(AF_INET6, "::ffff:198.51.100.9", &in6.sin6_addr);
	assert_int_equal(pdx_vote_client_key(&in6, buf, sizeof buf), 0);
	assert_string_equal(buf, "198.51.100.9");

	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNIX;
	assert_int_equal(pdx_vote_client_key(&sa, buf, sizeof buf), -1);
	assert_int_equal(pdx_vote_client_key(&in, buf, 16), -1);
	assert_int_equal(pdx_vote_client_key(NULL, buf, sizeof buf), -1);
}

/* The page votes' table starts on, and the page size, read by SQLite. */
static void
votes_page(const char *path, long *page, long *size)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
		"SELECT rootpage, (SELECT "
		"page_size FROM pragma_page_size) FROM sqlite_master WHERE "
		"name = 'votes'",
		-1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*page = sqlite3_column_int(st, 0);
	*size = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(*page > 1 && *size >= 512);
}

static void
test_read_only_and_damaged(void **state)
{
	char path[512];
	unsigned char junk[512];
	long long c[PDX_NVOTES];
	struct pdx_state *s;
	long page, size, wait = 7;
	FILE *f;

	(void)state;
	s = fresh("damaged");
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_HAPPY, "c1", NULL, 1000,
			     NULL),
	    0);
	pdx_state_close(s);
	snprintf(path, sizeof path, "%s/damaged.db", tmpdir);

	/* a read-only handle counts but refuses a vote, with the error set */
	if ((s = pdx_state_open_read(path)) == NULL)
		fail_msg("open_read: %s", pdx_last_error());
	counts_are(s, 22, 0, 0, 1);
	pdx_set_error("%s", "");
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_SAD, "c2", NULL, 1001,
			     &wait),
	    -1);
	assert_int_equal(wait, 0);
	assert_true(pdx_last_error()[0] != '\0');
	counts_are(s, 22, 0, 0, 1);
	pdx_state_close(s);

	/* the votes table's first page overwritten: an error, not zeros */
	votes_page(path, &page, &size);
	memset(junk, 0xa5, sizeof junk);
	assert_non_null(f = fopen(path, "r+b"));
	assert_int_equal(fseek(f, (page - 1) * size, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
	assert_int_equal(fclose(f), 0);
	if ((s = pdx_state_open(path)) != NULL) {
		pdx_set_error("%s", "");
		assert_int_equal(pdx_vote_counts(s, 22, c), -1);
		assert_true(pdx_last_error()[0] != '\0');
		assert_null(pdx_votes_json(s, 22));
		assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_SAD, "c3", NULL,
				     1002, NULL),
		    -1);
		pdx_state_close(s);
	} else /* refused at open is an error too, and says so */
		assert_true(pdx_last_error()[0] != '\0');

	/* the votes table gone (another program's doing): an error too */
	s = fresh("dropped");
	pdx_state_close(s);
	snprintf(path, sizeof path, "%s/dropped.db", tmpdir);
	sql_on(path, "DROP TABLE votes");
	if ((s = pdx_state_open(path)) == NULL)
		fail_msg("open after DROP TABLE votes: %s", pdx_last_error());
	assert_int_equal(pdx_vote_counts(s, 22, c), -1);
	assert_non_null(strstr(pdx_last_error(), "votes"));
	assert_null(pdx_votes_json(s, 22));
	assert_int_equal(pdx_vote_cast(s, 22, PDX_VOTE_SAD, "c4", NULL, 1003,
			     NULL),
	    -1);
	pdx_state_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choice_names),
		cmocka_unit_test(test_no_limits_counts_every_vote),
		cmocka_unit_test(test_per_port_limit),
		cmocka_unit_test(test_window_limit),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_client_key),
		cmocka_unit_test(test_read_only_and_damaged),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
