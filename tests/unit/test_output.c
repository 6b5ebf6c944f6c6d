/*
 * test_output.c - src/output.c's word wrapping: wrap_is_plain (which
 * texts take wrap_plain's shortcut, SSE2 where there is SSE2) against the
 * definition it replaced (strlen, strpbrk, strstr), and out_wrap's two
 * paths against each other: a plain text wrapped by wrap_plain is what
 * the word-by-word path makes of it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../src/output.c"

static int
plain_ref(const char *t, size_t *len)
{
	*len = strlen(t);
	return *len == 0 ||
	    (t[0] != ' ' && t[*len - 1] != ' ' && strpbrk(t, "\n\t") == NULL &&
		strstr(t, "  ") == NULL);
}

static unsigned
rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/* Random texts of spaces, tabs, newlines and letters, at every alignment. */
static void
test_plain_matches_definition(void **state)
{
	static const char alpha[] = "ab \n\tc   dddd";
	char buf[128];
	unsigned seed = 7, plain = 0, not = 0;
	int it;

	(void)state;
	for (it = 0; it < 400000; it++) {
		size_t n = rnd(&seed) % 90, o = rnd(&seed) % 16, j, l1, l2;
		int a, b;

		for (j = 0; j < n; j++)
			buf[o + j] = alpha[rnd(&seed) % (sizeof alpha - 1)];
		buf[o + n] = '\0';
		a = plain_ref(buf + o, &l1);
		b = wrap_is_plain(buf + o, &l2);
		if (a != b || l1 != l2)
			fail_msg(
			    "'%s': definition %d (%zu), wrap_is_plain %d (%zu)",
			    buf + o, a, l1, b, l2);
		a ? plain++ : not ++;
	}
	/* both answers were exercised */
	assert_true(plain > 1000 && not > 1000);
}

/* Two spaces, a tab or a newline across a 16-byte boundary. */
static void
test_plain_boundaries(void **state)
{
	char buf[80];
	size_t len, i;

	(void)state;
	for (i = 1; i + 2 < 60; i++) {
		memset(buf, 'x', 60);
		buf[60] = '\0';
		buf[i] = buf[i + 1] = ' ';
		assert_false(wrap_is_plain(buf, &len));
		assert_int_equal(len, 60);
		buf[i + 1] = 'x';
		assert_true(wrap_is_plain(buf, &len));
		buf[i] = i % 2 ? '\t' : '\n';
		assert_false(wrap_is_plain(buf, &len));
	}
	assert_true(wrap_is_plain("", &len) && len == 0);
	assert_false(wrap_is_plain(" a", &len));
	assert_false(wrap_is_plain("a ", &len));
	assert_false(wrap_is_plain(" ", &len));
}

static char *
wrapped(const char *text, int indent, int first, int width)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	out_wrap(f, text, indent, first, width);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/*
 * A plain text takes the shortcut; the same words with extra spaces (at
 * either end, two between some words) take the word-by-word path: the
 * lines must be the same.
 */
static void
test_wrap_paths_agree(void **state)
{
	static const char *words[] = {
		"a", "listener", "127.0.0.1:32797/tcp", "(filenet-rmi):", "it",
		"was", "not", "listening", "when", "the", "baseline",
		"averyveryverylongwordthatdoesnotfitonanylineofthiswidthatall"
	};
	char text[800], loose[1200];
	unsigned seed = 11;
	int it;

	(void)state;
	for (it = 0; it < 3000; it++) {
		size_t n = 1 + rnd(&seed) % 30, k, used = 0, lused = 0, len;
		int width = 20 + (int)(rnd(&seed) % 70);
		int indent = (int)(rnd(&seed) % 14),
		    first = (int)(rnd(&seed) % 20);
		char *a, *b;

		lused += (size_t)snprintf(loose, sizeof loose, " ");
		for (k = 0; k < n; k++) {
			const char *w =
			    words[rnd(&seed) % (sizeof words / sizeof *words)];

			used += (size_t)snprintf(text + used,
			    sizeof text - used, "%s%s", k ? " " : "", w);
			lused += (size_t)snprintf(loose + lused,
			    sizeof loose - lused, "%s%s", w,
			    rnd(&seed) % 3 == 0 ? "  " : " ");
		}
		assert_true(wrap_is_plain(text, &len));
		assert_false(wrap_is_plain(loose, &len));
		a = wrapped(text, indent, first, width);
		b = wrapped(loose, indent, first, width);
		if (strcmp(a, b) != 0)
			fail_msg("width %d indent %d first %d '%s':\n%s---\n%s",
			    width, indent, first, text, a, b);
		free(a);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_matches_definition),
		cmocka_unit_test(test_plain_boundaries),
		cmocka_unit_test(test_wrap_paths_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
