/*
 * test_output.c - src/output.c's word wrapping: wrap_is_plain (which
 * texts take wrap_plain's shortcut, SSE2 where there is SSE2) against the
 * definition it replaced (strlen, strpbrk, strstr), and out_wrap's two
 * paths against each other: a plain text wrapped by wrap_plain is what
 * the word-by-word path makes of it.  And struct out_doc, the document
 * written as it is made (ls, audit): random documents, handed over member
 * by member and element by element, must come out byte for byte as
 * out_json prints the whole document, in JSON and in CSV.
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

/* ---- out_doc against out_json ----------------------------------------- */

static const char *const texts[] = { "", "a", "x y", "tab\there", "line\nbreak",
	"quote \" and , comma", "caf\xc3\xa9", "\xe2\x82\xac 5", "back\\slash",
	"cr\r\n", "127.0.0.1:22", "null" };
static const char *const keys[] = { "backend", "local", "port", "pid",
	"process", "user", "reach", "note", "x.y", "caf\xc3\xa9", "a b",
	"remote" };

#define NTEXTS (sizeof texts / sizeof *texts)
#define NKEYS (sizeof keys / sizeof *keys)

static json_t *
rnd_scalar(unsigned *seed)
{
	switch (rnd(seed) % 6) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rnd(seed) % 2);
	case 2:
		return json_integer((json_int_t)rnd(seed) - 20000);
	case 3:
		return json_real((double)rnd(seed) / 7.0);
	default:
		return json_string(texts[rnd(seed) % NTEXTS]);
	}
}

static json_t *
rnd_value(unsigned *seed, int depth)
{
	unsigned r = rnd(seed) % 10, n, i;
	json_t *v;

	if (depth > 3 || r < 5)
		return rnd_scalar(seed);
	n = rnd(seed) % 5;
	if (r < 8) {
		v = json_object();
		for (i = 0; i < n; i++)
			json_object_set_new(v, keys[rnd(seed) % NKEYS],
			    rnd_value(seed, depth + 1));
	} else {
		v = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(v, rnd_value(seed, depth + 1));
	}
	return v;
}

/* What out_json prints of doc, and what out_doc makes of it. */
static char *
printed(struct cmd_ctx *ctx, json_t *doc, int streamed, unsigned *seed)
{
	struct out_doc d;
	char *buf = NULL;
	size_t len = 0, i;
	const char *k;
	json_t *v, *x;

	assert_non_null(ctx->out = open_memstream(&buf, &len));
	if (!streamed)
		out_json(ctx, doc);
	else {
		out_doc_begin(&d, ctx);
		json_object_foreach(doc, k, v)
		{
			/* arrays as elements mostly, some whole */
			if (json_is_array(v) && rnd(seed) % 4 != 0) {
				out_doc_array(&d, k);
				json_array_foreach(v, i, x)
				    out_doc_item(&d, json_incref(x));
				out_doc_array_end(&d);
			} else
				out_doc_member(&d, k, json_incref(v));
		}
		assert_int_equal(out_doc_end(&d), 0);
	}
	fclose(ctx->out);
	return buf;
}

/*
 * A document as ls and audit write theirs: scalars, then the row arrays
 * in the order format_specs names them, then anything (in JSON the order
 * is free; in CSV a row carries the scalars written before it).
 */
static json_t *
rnd_doc(unsigned *seed, const char *rows, int csv)
{
	json_t *doc = json_object(), *arr;
	unsigned n = rnd(seed) % 4, i, j, m;
	const char *p;
	char name[32];

	for (i = 0; i < n; i++)
		json_object_set_new(doc, keys[rnd(seed) % NKEYS],
		    csv ? rnd_scalar(seed) : rnd_value(seed, 1));
	for (p = rows; *p != '\0';) {
		size_t l = strcspn(p, ",");

		snprintf(name, sizeof name, "%.*s", (int)l, p);
		p += l + (p[l] == ',');
		if (rnd(seed) % 5 == 0)
			continue; /* not every row array is there */
		arr = json_array();
		m = rnd(seed) % 6;
		for (j = 0; j < m; j++)
			json_array_append_new(arr,
			    rnd(seed) % 8 == 0 ? rnd_scalar(seed)
					       : rnd_value(seed, 0));
		json_object_set_new(doc, name, arr);
	}
	n = rnd(seed) % 3;
	for (i = 0; i < n; i++) {
		json_t *v = rnd(seed) % 2 ? rnd_value(seed, 2) : json_array();

		snprintf(name, sizeof name, "more%u", i);
		/* CSV: no scalar after the rows */
		if (csv && !json_is_object(v) && !json_is_array(v)) {
			json_decref(v);
			v = json_pack("{s:o}", "v", rnd_scalar(seed));
		}
		json_object_set_new(doc, name, v);
	}
	return doc;
}

static void
test_doc_matches_dump(void **state)
{
	static const char *const cmds[] = { "ls", "audit", "note" };
	static const char *const rows[] = { "sockets",
		"findings,added,gone,listeners", "" };
	struct cmd_ctx ctx;
	unsigned seed = 5, csv_lines = 0;
	int it, c, csv;

	(void)state;
	for (it = 0; it < 2000; it++)
		for (c = 0; c < 3; c++)
			for (csv = 0; csv < 2; csv++) {
				json_t *doc = rnd_doc(&seed, rows[c], csv);
				unsigned s2 = seed;
				char *a, *b, *q;

				memset(&ctx, 0, sizeof ctx);
				ctx.cmd = cmds[c];
				ctx.json = 1;
				ctx.format = csv ? OUT_CSV : OUT_JSON;
				a = printed(&ctx, doc, 0, &s2);
				b = printed(&ctx, doc, 1, &s2);
				seed = s2;
				if (strcmp(a, b) != 0)
					fail_msg("%s %s:\n%s---\n%s", cmds[c],
					    csv ? "csv" : "json", a, b);
				for (q = a; csv && (q = strchr(q, '\n')); q++)
					csv_lines++;
				free(a);
				free(b);
				json_decref(doc);
			}
	/* the CSV cases printed rows, not only empty documents */
	assert_true(csv_lines > 5000);
}

/* An element that could not be made fails the document. */
static void
test_doc_failure(void **state)
{
	struct cmd_ctx ctx;
	struct out_doc d;
	char *buf = NULL;
	size_t len = 0;
	int csv;

	(void)state;
	for (csv = 0; csv < 2; csv++) {
		memset(&ctx, 0, sizeof ctx);
		ctx.cmd = "ls";
		ctx.format = csv ? OUT_CSV : OUT_JSON;
		assert_non_null(ctx.out = open_memstream(&buf, &len));
		out_doc_begin(&d, &ctx);
		out_doc_member(&d, "backend", json_string("netlink"));
		out_doc_array(&d, "sockets");
		out_doc_item(&d, json_pack("{s:i}", "port", 22));
		out_doc_item(&d, NULL);
		out_doc_array_end(&d);
		assert_int_equal(out_doc_end(&d), -1);
		fclose(ctx.out);
		free(buf);
		buf = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_matches_definition),
		cmocka_unit_test(test_plain_boundaries),
		cmocka_unit_test(test_wrap_paths_agree),
		cmocka_unit_test(test_doc_matches_dump),
		cmocka_unit_test(test_doc_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
