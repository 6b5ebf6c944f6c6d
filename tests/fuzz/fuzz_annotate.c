/*
 * fuzz_annotate.c - libFuzzer harness for the line parsers of
 * `portdex annotate` (lib/annotate.c).  The input is split into lines,
 * as the command does; every line goes through pdx_lineparse with one
 * parser state kept across lines (a Zeek "#fields" line changes how the
 * next lines are read), and through each parser on its own, with a
 * resolver that answers for any name.  Every hit must lie inside its
 * line, carry a port 0-65535, a known transport and role, and a span of
 * digits or of a service name; no parser may write past max hits.
 *
 * Built once as fuzz_annotate (every parser on every line) and once per
 * input format as fuzz_annotate_FORMAT (tests/fuzz/CMakeLists.txt defines
 * PDX_FUZZ_FORMAT): only that parser, with its own seed corpus, so that
 * the fuzzer's coverage and time go to that one parser.
 */
#include <ctype.h>

#include "fuzz.h"
#include "portdex/annotate.h"

static int
any_name(const char *name, int proto, void *arg)
{
	(void)arg;
	(void)proto;
	fuzz_touch(name);
	return (int)(strlen(name) * 977 % 65536);
}

static void
check_hits(const char *line, size_t len, const struct pdx_port_hit *h, int n,
    int max)
{
	int i;

	CHECK(n >= -1 && n <= max);
	for (i = 0; i < n; i++) {
		CHECK(h[i].port <= 65535);
		CHECK(h[i].proto == 0 || pdx_proto_index(h[i].proto) >= 0);
		CHECK(h[i].role >= PDX_ROLE_NONE &&
		    h[i].role <= PDX_ROLE_SCANNED);
		CHECK(h[i].off <= len && h[i].len <= len - h[i].off);
		for (size_t k = 0; k < h[i].len; k++)
			CHECK(isalnum((unsigned char)line[h[i].off + k]) ||
			    strchr("-_.+", line[h[i].off + k]) != NULL);
	}
	/* the hits after the last one written are left alone */
	CHECK(h[max].port == 0xdeadu);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdx_port_hit h[PDX_ANNOTATE_MAXHITS + 1];
	struct pdx_lineparser ps, one;
	const char *p = (const char *)data, *end = p + size;
	int n, f, max;

	pdx_lineparser_init(&ps);
	ps.resolve = any_name;
	one = ps;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (nl != NULL ? nl : end) - p;
		/* a copy that ends where the line ends, for ASan */
		char *line = malloc(len > 0 ? len : 1);

		CHECK(line != NULL);
		memcpy(line, p, len);
		max = (int)(len % (PDX_ANNOTATE_MAXHITS + 1));
		h[max].port = 0xdeadu;
#ifdef PDX_FUZZ_FORMAT
		/* Zeek's TSV lines are read through the "#fields" line */
		if (PDX_FUZZ_FORMAT == PDX_LF_ZEEK_TSV) {
			n = pdx_line_parser(
			    PDX_LF_ZEEK_HEADER)(&one, line, len, h, max);
			check_hits(line, len, h, n, max);
		}
		h[max].port = 0xdeadu;
		n = pdx_line_parser(PDX_FUZZ_FORMAT)(&one, line, len, h, max);
		check_hits(line, len, h, n, max);
		(void)ps;
		(void)f;
#else
		n = pdx_lineparse(&ps, line, len, h, max, &f);
		CHECK(f >= PDX_LF_NONE && f < PDX_LF_COUNT);
		CHECK(n >= 0);
		check_hits(line, len, h, n, max);
		for (f = PDX_LF_NONE + 1; f < PDX_LF_COUNT; f++) {
			h[PDX_ANNOTATE_MAXHITS].port = 0xdeadu;
			n = pdx_line_parser(
			    f)(&one, line, len, h, PDX_ANNOTATE_MAXHITS);
			check_hits(line, len, h, n, PDX_ANNOTATE_MAXHITS);
		}
#endif
		free(line);
		p += len + (nl != NULL);
	}
	return 0;
}
