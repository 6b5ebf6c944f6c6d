/*
 * test_knowledge.c - tests of knowledge.c (the uses.tsv and related.tsv
 * parsers), knowledge-lint.c (their lint) and the curated data itself:
 * every coverage promise of docs/knowledge.md is checked against truth
 * obtained here, independently of the data: the IANA CSV (../shared),
 * the seed articles, and nmap's nmap-services when it is installed.
 */
#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "portdex.h"

#define NMAP_SERVICES "/usr/share/nmap/nmap-services"
#define MAX_DATA (64 * 1024 * 1024)

static const char *
srcdir(void)
{
	const char *s = getenv("PDX_SRCDIR");

	return s != NULL && *s != '\0' ? s : PDX_SRCDIR;
}

static const char *
shareddir(void)
{
	static char buf[4096];
	const char *s = getenv("PDX_SHARED");

	if (s != NULL && *s != '\0')
		return s;
	snprintf(buf, sizeof buf, "%s/../shared", srcdir());
	return buf;
}

static char *
slurp(const char *dir, const char *rel, size_t *len)
{
	char path[4096];
	char *b;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, rel) >=
	    sizeof path)
		fail_msg("path too long: %s/%s", dir, rel);
	b = pdx_read_file(path, MAX_DATA, len);
	if (b == NULL)
		fail_msg("cannot read %s: %s", path, pdx_last_error());
	return b;
}

/* ---- the data, loaded once ------------------------------------------- */

struct use {
	int lo, hi, protos, kind, conf, skinds, y0, y1, lead;
	char *name, *source, *text, *years, *file;
	unsigned line;
};
static const char *cur_file; /* the file being loaded, its base name */

static struct use *uses;
static size_t nuses;

static int
keep_use(const struct pdx_use *u, void *arg)
{
	struct use *x;

	(void)arg;
	uses = realloc(uses, (nuses + 1) * sizeof *uses);
	assert_non_null(uses);
	x = &uses[nuses++];
	x->lo = u->port_lo;
	x->hi = u->port_hi;
	x->protos = u->protos;
	x->kind = u->kind;
	x->conf = u->confidence;
	x->skinds = u->source_kinds;
	x->y0 = u->year_from;
	x->y1 = u->year_to;
	x->name = strdup(u->name);
	x->source = strdup(u->source);
	x->text = strdup(u->text);
	x->years = strdup(u->years);
	x->line = u->line;
	x->lead = u->lead;
	x->file = strdup(cur_file != NULL ? cur_file : "");
	return 0;
}

struct rel {
	int alo, ahi, blo, bhi;
};
static struct rel *rels;
static size_t nrels;

static int
keep_rel(const struct pdx_related *r, void *arg)
{
	(void)arg;
	rels = realloc(rels, (nrels + 1) * sizeof *rels);
	assert_non_null(rels);
	rels[nrels].alo = r->a_lo;
	rels[nrels].ahi = r->a_hi;
	rels[nrels].blo = r->b_lo;
	rels[nrels].bhi = r->b_hi;
	nrels++;
	return 0;
}

static int
setup_data(void **state)
{
	char *b, dir[4096], **files = NULL;
	size_t len;
	long n, nf, i;

	(void)state;
	snprintf(dir, sizeof dir, "%s/data", srcdir());
	if ((nf = pdx_knowledge_files(dir, &files)) <= 0) {
		fprintf(stderr, "%s/uses: no files\n", dir);
		return -1;
	}
	for (i = 0; i < nf; i++) {
		cur_file = strrchr(files[i], '/') + 1;
		b = slurp("/", files[i], &len);
		n = pdx_knowledge_parse(b, len, files[i], keep_use, NULL);
		free(b);
		if (n < 0) {
			fprintf(stderr, "%s\n", pdx_last_error());
			return -1;
		}
	}
	cur_file = NULL;
	b = slurp(srcdir(), "data/related.tsv", &len);
	n = pdx_related_parse(b, len, "data/related.tsv", keep_rel, NULL);
	free(b);
	if (n < 0) {
		fprintf(stderr, "%s\n", pdx_last_error());
		return -1;
	}
	pdx_knowledge_files_free(files, nf);
	return 0;
}

static int
teardown_data(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nuses; i++) {
		free(uses[i].name);
		free(uses[i].source);
		free(uses[i].text);
		free(uses[i].years);
		free(uses[i].file);
	}
	free(uses);
	free(rels);
	uses = NULL;
	rels = NULL;
	nuses = nrels = 0;
	return 0;
}

static int
covers(const struct use *u, int port, int proto)
{
	return u->lo <= port && port <= u->hi && (u->protos & proto) != 0;
}

/* ---- the parser on small inputs -------------------------------------- */

static const char hdr[] =
    "port\tprotos\tkind\tname\tplatform\tyears\tconfidence\tlead\tsource\ttext\n";

struct seen {
	struct pdx_use u[4];
	char name[4][64], years[4][16];
	int n;
};

static int
see_use(const struct pdx_use *u, void *arg)
{
	struct seen *s = arg;

	if (s->n >= 4)
		return 1;
	s->u[s->n] = *u;
	snprintf(s->name[s->n], sizeof s->name[0], "%s", u->name);
	snprintf(s->years[s->n], sizeof s->years[0], "%s", u->years);
	s->n++;
	return 0;
}

static void
test_parse_good(void **state)
{
	static const char in[] =
	    "# a comment\n\n"
	    "port\tprotos\tkind\tname\tplatform\tyears\tconfidence\tlead\tsource\ttext\n"
	    "8080\ttcp\tvendor-default\tTomcat\t-\t-\tdocumented\t-\t"
	    "Tomcat docs https://tomcat.example.org/x\tTomcat listens here.\n"
	    "# another\n"
	    "30100-30102\ttcp,udp\tmalware\tNetSphere\tWindows\t1999-2001\t"
	    "reported\t-\tseed:645; RFC 1094\tA trojan.\n"
	    "7\tsctp,dccp\thistoric\tx\t-\t2004-\tdocumented\t-\t"
	    "IANA registry echo 7/tcp; nmap-services echo 7/tcp "
	    "(nmap-common 7.93)\tEcho.\n";
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof s);
	assert_int_equal(pdx_knowledge_parse(in, sizeof in - 1, "t.tsv",
			     see_use, &s),
	    3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.u[0].port_lo, 8080);
	assert_int_equal(s.u[0].port_hi, 8080);
	assert_int_equal(s.u[0].protos, PDX_TCP);
	assert_int_equal(s.u[0].kind, PDX_USE_VENDOR_DEFAULT);
	assert_int_equal(s.u[0].confidence, PDX_CONF_DOCUMENTED);
	assert_int_equal(s.u[0].source_kinds, PDX_SRC_URL);
	assert_int_equal(s.u[0].year_from, 0);
	assert_int_equal(s.u[0].line, 4);
	assert_string_equal(s.name[0], "Tomcat");
	assert_int_equal(s.u[1].port_lo, 30100);
	assert_int_equal(s.u[1].port_hi, 30102);
	assert_int_equal(s.u[1].protos, PDX_TCP | PDX_UDP);
	assert_int_equal(s.u[1].kind, PDX_USE_MALWARE);
	assert_int_equal(s.u[1].confidence, PDX_CONF_REPORTED);
	assert_int_equal(s.u[1].source_kinds, PDX_SRC_SEED | PDX_SRC_RFC);
	assert_int_equal(s.u[1].year_from, 1999);
	assert_int_equal(s.u[1].year_to, 2001);
	assert_string_equal(s.years[1], "1999-2001");
	assert_int_equal(s.u[1].line, 6);
	assert_int_equal(s.u[2].protos, PDX_SCTP | PDX_DCCP);
	assert_int_equal(s.u[2].source_kinds, PDX_SRC_IANA | PDX_SRC_NMAP);
	assert_int_equal(s.u[2].year_from, 2004);
	assert_int_equal(s.u[2].year_to, 0);

	/* A callback can stop early; a failing callback fails the parse. */
	assert_int_equal(pdx_knowledge_parse(in, sizeof in - 1, "t.tsv", NULL,
			     NULL),
	    3);
	assert_string_equal(pdx_use_kind_name(PDX_USE_IANA_UNAUTHORIZED),
	    "iana-unauthorized");
	assert_int_equal(pdx_use_kind_parse("game"), PDX_USE_GAME);
	assert_int_equal(pdx_use_kind_parse("Game"), -1);
	assert_string_equal(pdx_confidence_name(PDX_CONF_REPORTED), "reported");
	assert_int_equal(pdx_confidence_parse("maybe"), -1);
	assert_string_equal(pdx_use_kind_name(99), "");
}

static int
stop_at_first(const struct pdx_use *u, void *arg)
{
	(void)u;
	(*(int *)arg)++;
	return 1;
}

static int
fail_at_first(const struct pdx_use *u, void *arg)
{
	(void)u;
	(void)arg;
	pdx_set_error("callback says no");
	return -1;
}

static void
test_parse_callback(void **state)
{
	char in[512];
	int calls = 0;

	(void)state;
	snprintf(in, sizeof in,
	    "%s1\ttcp\tgame\ta\t-\t-\tdocumented\t-\t"
	    "RFC 1\tA.\n2\ttcp\tgame\tb\t-\t-\tdocumented\t-\tRFC 2\tB.\n",
	    hdr);
	assert_int_equal(pdx_knowledge_parse(in, strlen(in), "t", stop_at_first,
			     &calls),
	    1);
	assert_int_equal(calls, 1);
	assert_int_equal(pdx_knowledge_parse(in, strlen(in), "t", fail_at_first,
			     NULL),
	    -1);
	assert_string_equal(pdx_last_error(), "callback says no");
}

/* Each bad row, on line 2 after the header, and a piece of its error. */
static const struct bad_case {
	const char *row;
	const char *msg;
} bad_cases[] = {
	{ "70000\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.",
	    "out of range" },
	{ "90-80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.", "reversed" },
	{ "x\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.", "not a number" },
	{ "-5\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.", "port" },
	{ "80\ttcp,icmp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.", "icmp" },
	{ "80\tTCP\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.", "TCP" },
	{ "80\ttcp,tcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.", "twice" },
	{ "80\ttcp,\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.", "transport" },
	{ "80\ttcp\tcasual\ta\t-\t-\tdocumented\t-\tRFC 1\tA.",
	    "unknown kind" },
	{ "80\ttcp\tgame\t-\t-\t-\tdocumented\t-\tRFC 1\tA.", "name" },
	{ "80\ttcp\tgame\ta\t-\t98\tdocumented\t-\tRFC 1\tA.", "years" },
	{ "80\ttcp\tgame\ta\t-\t2005-2001\tdocumented\t-\tRFC 1\tA.", "years" },
	{ "80\ttcp\tgame\ta\t-\t-\tsure\t-\tRFC 1\tA.", "confidence" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\t-\tA.", "source" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tmy friend\tA.", "source" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC x\tA.", "source" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tseed:\tA.", "source" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\thttps://x\tA.", "source" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tIANA registry http\tA.",
	    "source" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tnmap-services http 80/tcp\tA.",
	    "source" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1; ; RFC 2\tA.",
	    "empty source" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tno full stop",
	    "sentence" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1", "fields" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.\textra", "fields" },
	{ "80\ttcp\tgame\t\t-\t-\tdocumented\t-\tRFC 1\tA.", "empty" },
	{ "80\ttcp\tgame\ta \t-\t-\tdocumented\t-\tRFC 1\tA.", "spaces" },
	{ "80\ttcp\tgame\ta\t-\t-\tdocumented\t-\tRFC 1\tA.\r", "carriage" },
	{ "80\ttcp\tgame\t\xff\t-\t-\tdocumented\t-\tRFC 1\tA.", "UTF-8" },
	{ "80\ttcp\tgame\t\xc0\xaf\t-\t-\tdocumented\t-\tRFC 1\tA.", "UTF-8" },
};

static void
test_parse_bad(void **state)
{
	char in[8192];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		n = snprintf(in, sizeof in, "%s%s\n", hdr, bad_cases[i].row);
		assert_true(n > 0 && (size_t)n < sizeof in);
		pdx_set_error("none");
		if (pdx_knowledge_parse(in, (size_t)n, "bad.tsv", NULL, NULL) !=
		    -1)
			fail_msg("case %zu accepted: %s", i, bad_cases[i].row);
		if (strncmp(pdx_last_error(), "bad.tsv:2: ", 11) != 0 ||
		    strstr(pdx_last_error(), bad_cases[i].msg) == NULL)
			fail_msg("case %zu: message '%s' lacks 'bad.tsv:2: ' "
				 "or '%s'",
			    i, pdx_last_error(), bad_cases[i].msg);
	}
}

static void
test_parse_bad_file(void **state)
{
	char in[8192];
	size_t n;

	(void)state;
	/* empty, comments only, wrong header */
	assert_int_equal(pdx_knowledge_parse("", 0, "e", NULL, NULL), -1);
	assert_non_null(strstr(pdx_last_error(), "empty"));
	assert_int_equal(pdx_knowledge_parse("# x\n\n", 5, "e", NULL, NULL),
	    -1);
	assert_int_equal(pdx_knowledge_parse("port\tprotos\n", 12, "h", NULL,
			     NULL),
	    -1);
	assert_non_null(strstr(pdx_last_error(), "h:1: "));
	/* a NUL byte on line 3 */
	n = (size_t)snprintf(in, sizeof in,
	    "%s1\ttcp\tgame\ta\t-\t-\t"
	    "documented\t-\tRFC 1\tA.\n1\ttcp",
	    hdr);
	in[n++] = '\0';
	memcpy(in + n, "\tx\n", 3);
	n += 3;
	assert_int_equal(pdx_knowledge_parse(in, n, "nul", NULL, NULL), -1);
	assert_string_equal(pdx_last_error(), "nul:3: NUL byte in input");
	/* an overlong line */
	n = (size_t)snprintf(in, sizeof in,
	    "%s1\ttcp\tgame\ta\t-\t-\t"
	    "documented\t-\tRFC 1\t",
	    hdr);
	memset(in + n, 'a', 3000);
	n += 3000;
	memcpy(in + n, ".\n", 2);
	n += 2;
	assert_int_equal(pdx_knowledge_parse(in, n, "long", NULL, NULL), -1);
	assert_non_null(strstr(pdx_last_error(), "long:2: line longer"));
	/* a text that is too long but within the line bound */
	n = (size_t)snprintf(in, sizeof in,
	    "%s1\ttcp\tgame\ta\t-\t-\t"
	    "documented\t-\tRFC 1\t",
	    hdr);
	memset(in + n, 'a', 600);
	n += 600;
	memcpy(in + n, ".\n", 2);
	n += 2;
	assert_int_equal(pdx_knowledge_parse(in, n, "txt", NULL, NULL), -1);
	assert_non_null(strstr(pdx_last_error(), "txt:2: text is longer"));
	/* the last line may lack its newline */
	n = (size_t)snprintf(in, sizeof in,
	    "%s1\ttcp\tgame\ta\t-\t-\t"
	    "documented\t-\tRFC 1\tA.",
	    hdr);
	assert_int_equal(pdx_knowledge_parse(in, n, "eof", NULL, NULL), 1);
	assert_int_equal(pdx_knowledge_parse(NULL, 0, "x", NULL, NULL), -1);
}

static void
test_related_parse(void **state)
{
	static const char good[] = "port_a\tport_b\treason\tsource\n"
				   "644\t635\tNFS mount\tseed:644\n"
				   "194\t6665-6669\tIRC\t-\n";
	static const char *const bad[] = {
		"port_a\tport_b\treason\tsource\n644\t70000\tx\t-\n",
		"port_a\tport_b\treason\tsource\n644\t635\t-\t-\n",
		"port_a\tport_b\treason\tsource\n644\t635\tx\tsomewhere\n",
		"port_a\tport_b\treason\tsource\n644\t635\tx\n",
		"port_a\tport_b\n644\t635\n",
	};
	size_t i;

	(void)state;
	assert_int_equal(pdx_related_parse(good, sizeof good - 1, "r", NULL,
			     NULL),
	    2);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (pdx_related_parse(bad[i], strlen(bad[i]), "r", NULL,
			NULL) != -1)
			fail_msg("related case %zu accepted", i);
		assert_non_null(strstr(pdx_last_error(), "r:"));
	}
}

/* ---- lint ------------------------------------------------------------ */

static void
write_file(const char *dir, const char *base, const char *text)
{
	char path[4096];
	FILE *f;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, base) >=
	    sizeof path)
		fail_msg("path too long: %s/%s", dir, base);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_lint_detects(void **state)
{
	char dir[] = "/tmp/pdx-know-XXXXXX", path[4200], udir[4096];
	char *report = NULL;
	long n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(udir, sizeof udir, "%s/uses", dir);
	assert_int_equal(mkdir(udir, 0700), 0);
	/*
	 * a.tsv: 3 and 6 duplicate 2 (case differs on 6); 5 differs in
	 * transports; 7 is seed-only but "documented" and out of order
	 * after nothing (it is not: 645 > 80), 8 is fine; 9 is nmap-only
	 * but "documented"; 10 comes before 9's port (unsorted); 11 is a
	 * vendor default "documented" only by an encyclopedia; 12 and 13
	 * lead the same port and transport.
	 */
	write_file(udir, "a.tsv",
	    "port\tprotos\tkind\tname\tplatform\tyears\tconfidence\tlead\tsource\ttext\n"
	    "80\ttcp\tgame\tDoom\t-\t-\tdocumented\t-\tRFC 1\tA.\n"
	    "80\ttcp\tgame\tDoom\t-\t1999\tdocumented\t-\tRFC 2\tB.\n"
	    "80\ttcp\tgame\tQuake\t-\t-\tdocumented\t-\tRFC 1\tA.\n"
	    "80\ttcp,udp\tgame\tDoom\t-\t-\tdocumented\t-\tRFC 1\tA.\n"
	    "80\ttcp\tgame\tDOOM\t-\t-\tdocumented\t-\tRFC 1\tA.\n"
	    "645\ttcp\tunofficial\tDIS\t-\t-\tdocumented\t-\tseed:645\tA.\n"
	    "646\ttcp\tunofficial\tDIS\t-\t-\treported\t-\tseed:645\tA.\n"
	    "700\ttcp\tunofficial\tX\t-\t-\tdocumented\t-\t"
	    "nmap-services x 700/tcp (nmap-common 7.93)\tA.\n"
	    "650\ttcp\tunofficial\tY\t-\t-\treported\t-\tRFC 9\tA.\n"
	    "9200\ttcp\tvendor-default\tZ\t-\t-\tdocumented\t-\t"
	    "Z https://en.wikipedia.org/wiki/Z\tA.\n"
	    "9300\ttcp,udp\tservice\tW\t-\t-\tdocumented\tlead\tRFC 3\tA.\n"
	    "9300\tudp\tservice\tV\t-\t-\tdocumented\tlead\tRFC 3\tA.\n");
	/* b.tsv: line 3 repeats a.tsv:2 in another file */
	write_file(udir, "b.tsv",
	    "port\tprotos\tkind\tname\tplatform\tyears\tconfidence\tlead\tsource\ttext\n"
	    "79\ttcp\tgame\tDoom\t-\t-\tdocumented\t-\tRFC 1\tA.\n"
	    "80\ttcp\tgame\tDoom\t-\t-\tdocumented\t-\tRFC 1\tA.\n"
	    "9300\ttcp\tvendor-default\tU\t-\t-\tdocumented\t-\t"
	    "U manual https://u.example.org/ports\tA.\n");
	/* 4 repeats 2 reversed; 5 is a self-pair. */
	write_file(dir, "related.tsv",
	    "port_a\tport_b\treason\tsource\n"
	    "22\t23\tssh\t-\n"
	    "22\t513\trlogin\t-\n"
	    "23\t22\tagain\t-\n"
	    "80\t80\tself\t-\n");
	n = pdx_knowledge_lint(dir, &report);
	if (n != 10)
		fail_msg("lint found %ld problems, expected 10:\n%s", n,
		    report != NULL ? report : "");
	assert_non_null(strstr(report, "a.tsv:3: duplicate"));
	assert_non_null(strstr(report, "a.tsv:6: duplicate"));
	assert_non_null(strstr(report, "b.tsv:3: duplicate"));
	assert_non_null(strstr(report, "a.tsv:2)"));
	assert_non_null(strstr(report, "a.tsv:7: 'DIS'"));
	assert_null(strstr(report, "a.tsv:8:"));
	assert_non_null(strstr(report,
	    "a.tsv:9: 'X' is backed only by "
	    "nmap"));
	assert_non_null(strstr(report, "a.tsv:10: rows are not sorted"));
	assert_non_null(strstr(report,
	    "a.tsv:11: 'Z' is a documented "
	    "vendor default"));
	assert_non_null(strstr(report,
	    "a.tsv:13: a second lead row for "
	    "port 9300"));
	assert_null(strstr(report, "b.tsv:4:"));
	assert_non_null(strstr(report, "related.tsv:4: duplicate pair"));
	assert_non_null(strstr(report, "related.tsv:5: port 80"));
	free(report);

	/* a parse error makes the lint fail, with the file and line */
	write_file(udir, "a.tsv",
	    "port\tprotos\tkind\tname\tplatform\tyears\tconfidence\tlead\tsource\ttext\n"
	    "80\ttcp\tgame\tDoom\t-\t-\tdocumented\t-\t\tA.\n");
	assert_int_equal(pdx_knowledge_lint(dir, &report), -1);
	assert_null(report);
	assert_non_null(strstr(pdx_last_error(), "a.tsv:2:"));
	snprintf(path, sizeof path, "%s/a.tsv", udir);
	unlink(path);
	snprintf(path, sizeof path, "%s/b.tsv", udir);
	unlink(path);
	/* no curated file at all is an error, not an empty answer */
	assert_int_equal(pdx_knowledge_lint(dir, NULL), -1);
	assert_non_null(strstr(pdx_last_error(), "no curated files"));
	assert_int_equal(rmdir(udir), 0);
	snprintf(path, sizeof path, "%s/related.tsv", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_lint_repo(void **state)
{
	char dir[4096], *report = NULL;
	long n;

	(void)state;
	snprintf(dir, sizeof dir, "%s/data", srcdir());
	n = pdx_knowledge_lint(dir, &report);
	if (n != 0) {
		/* the whole report: fail_msg() cuts long messages */
		fprintf(stderr, "%s", report ? report : "");
		fail_msg("data/ does not lint clean (%ld): %s", n,
		    n < 0 ? pdx_last_error() : "see above");
	}
	free(report);
}

/* ---- coverage 1: the seed articles ----------------------------------- */

static int
has_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/*
 * The text of the seed article about port, found by its heading ("2. Port
 * 645" under the breadcrumb, or a first line "Port 1644 ..."), not by a
 * mere mention.  Caller frees; NULL when no article is about that port.
 */
static char *
seed_text(int port)
{
	char dir[4096], head[64], first[64];
	struct dirent *de;
	DIR *d;
	char *found = NULL;

	if ((size_t)snprintf(dir, sizeof dir, "%s/seeds", shareddir()) >=
	    sizeof dir)
		fail_msg("path too long: %s", shareddir());
	snprintf(head, sizeof head, "2. Port %d\n", port);
	snprintf(first, sizeof first, "Port %d ", port);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("cannot open %s", dir);
	while (found == NULL && (de = readdir(d)) != NULL) {
		char rel[512];
		size_t len;
		char *b;

		if (de->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof rel, "seeds/%s", de->d_name);
		b = slurp(shareddir(), rel, &len);
		if (strstr(b, head) != NULL ||
		    strncmp(b, first, strlen(first)) == 0)
			found = b;
		else
			free(b);
	}
	closedir(d);
	return found;
}

static void
test_seed_coverage(void **state)
{
	/* Every use the articles report, as the issue lists them. */
	static const struct {
		int port;
		const char *word1, *word2;
	} want[] = {
		{ 645, "DirectPlay", NULL },
		{ 645, "eDirectory", NULL },
		{ 645, "Distributed Interactive Simulation", NULL },
		{ 645, "trojan", NULL },
		{ 1644, "IRC", NULL },
		{ 545, "QuickTime Conferencing", NULL },
		{ 945, "ipcserver", "NetInfo" },
		{ 644, "mount", "NFS" },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		int found = 0;

		for (j = 0; j < nuses; j++) {
			const struct use *u = &uses[j];

			if (!covers(u, want[i].port, PDX_TCP))
				continue;
			if (!has_ci(u->name, want[i].word1) &&
			    !has_ci(u->text, want[i].word1))
				continue;
			if (want[i].word2 != NULL &&
			    !has_ci(u->name, want[i].word2) &&
			    !has_ci(u->text, want[i].word2))
				continue;
			found = 1;
			/* seed-only means reported */
			if ((u->skinds & ~(PDX_SRC_SEED | PDX_SRC_IANA)) == 0)
				assert_int_equal(u->conf, PDX_CONF_REPORTED);
		}
		if (!found)
			fail_msg("no use of %d mentions %s", want[i].port,
			    want[i].word1);
	}
	/* Every seed citation names an article about that port, and the
	 * article names the use. */
	for (j = 0; j < nuses; j++) {
		const char *s = strstr(uses[j].source, "seed:");
		char *text;
		int port;

		if (s == NULL)
			continue;
		port = atoi(s + 5);
		text = seed_text(port);
		if (text == NULL)
			fail_msg("line %u cites seed:%d, no such article",
			    uses[j].line, port);
		if (!has_ci(text, uses[j].name))
			fail_msg("line %u: seed:%d does not mention '%s'",
			    uses[j].line, port, uses[j].name);
		free(text);
	}
}

/* ---- coverage 2: IANA's unauthorized-use notes ----------------------- */

struct iana_row {
	char *name, *port, *proto;
};
struct iana_ctx {
	struct iana_row *rows;
	size_t n;
	struct pdx_portset want[2]; /* tcp, udp */
	long noted;
	unsigned char *protoset; /* per port: PDX_* of its rows */
};

/* The ports a note names: whole numbers and N-M ranges, not "RFC4146". */
static int
note_ports(const char *note, int lo[16], int hi[16])
{
	const char *p = note;
	int n = 0;

	while (*p != '\0' && n < 16) {
		if (isdigit((unsigned char)*p) &&
		    (p == note || !isalnum((unsigned char)p[-1]))) {
			char *e;
			long a = strtol(p, &e, 10), b = a;

			if (*e == '-' && isdigit((unsigned char)e[1]))
				b = strtol(e + 1, &e, 10);
			if (!isalnum((unsigned char)*e) && a <= b &&
			    b <= 65535) {
				lo[n] = (int)a;
				hi[n] = (int)b;
				n++;
			}
			p = e;
			continue;
		}
		p++;
	}
	return n;
}

static int
keep_iana(const struct pdx_iana_row *r, void *arg)
{
	struct iana_ctx *c = arg;
	const char *note = r->f[PDX_COL_UNAUTH];
	int lo[16], hi[16], n, i;

	c->rows = realloc(c->rows, (c->n + 1) * sizeof *c->rows);
	assert_non_null(c->rows);
	c->rows[c->n].name = strdup(r->f[PDX_COL_NAME]);
	c->rows[c->n].port = strdup(r->f[PDX_COL_PORT]);
	c->rows[c->n].proto = strdup(r->f[PDX_COL_PROTO]);
	c->n++;
	if (note == NULL || note[0] == '\0')
		return 0;
	c->noted++;
	if ((n = note_ports(note, lo, hi)) == 0) {
		if (r->port_lo < 0)
			return 0;
		lo[0] = r->port_lo;
		hi[0] = r->port_hi;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		/* a row without a transport covers both */
		if (r->proto == 0 || r->proto == PDX_TCP)
			pdx_portset_add(&c->want[0], (unsigned)lo[i],
			    (unsigned)hi[i]);
		if (r->proto == 0 || r->proto == PDX_UDP)
			pdx_portset_add(&c->want[1], (unsigned)lo[i],
			    (unsigned)hi[i]);
	}
	return 0;
}

static struct iana_ctx *
load_iana(void)
{
	struct iana_ctx *c = calloc(1, sizeof *c);
	char *b;
	size_t len;

	assert_non_null(c);
	b = slurp(shareddir(), "data/iana/service-names-port-numbers.csv",
	    &len);
	if (pdx_iana_parse(b, len, "iana.csv", keep_iana, c) < 0)
		fail_msg("%s", pdx_last_error());
	free(b);
	return c;
}

static void
free_iana(struct iana_ctx *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->rows[i].name);
		free(c->rows[i].port);
		free(c->rows[i].proto);
	}
	free(c->rows);
	free(c);
}

/* Each "IANA registry NAME PORT[/PROTO]" in source names a real row. */
static void
check_iana_citations(struct iana_ctx *c, const struct use *u,
    const char *source)
{
	const char *p = source;

	while ((p = strstr(p, "IANA registry ")) != NULL) {
		char name[128], ref[64], *slash, proto[16] = "";
		size_t i;
		int ok = 0;

		if (sscanf(p + 14, "%127s %63[^;]", name, ref) != 2)
			fail_msg("line %u: bad IANA citation", u->line);
		if ((slash = strchr(ref, '/')) != NULL) {
			snprintf(proto, sizeof proto, "%s", slash + 1);
			*slash = '\0';
		}
		for (i = 0; i < c->n && !ok; i++)
			ok = strcmp(c->rows[i].port, ref) == 0 &&
			    (strcmp(c->rows[i].name, name) == 0 ||
				(name[0] == '-' && name[1] == '\0' &&
				    c->rows[i].name[0] == '\0')) &&
			    (proto[0] == '\0' ||
				strcmp(c->rows[i].proto, proto) == 0);
		if (!ok)
			fail_msg("line %u cites IANA row '%s %s/%s', which the "
				 "registry does not have",
			    u->line, name, ref, proto);
		p += 14;
	}
}

static void
test_iana_unauthorized(void **state)
{
	struct iana_ctx *c = load_iana();
	long missing = 0, ports = 0;
	size_t j;
	int t, port;

	(void)state;
	/* The registry file has its 112 noted rows (as of this snapshot,
	 * and more or fewer later): we need some to test anything. */
	assert_true(c->noted >= 100);
	for (t = 0; t < 2; t++) {
		int proto = t == 0 ? PDX_TCP : PDX_UDP;

		for (port = pdx_portset_next(&c->want[t], 0); port >= 0;
		     port = pdx_portset_next(&c->want[t], port + 1)) {
			int ok = 0;

			ports++;
			for (j = 0; j < nuses && !ok; j++)
				ok = uses[j].kind ==
					PDX_USE_IANA_UNAUTHORIZED &&
				    covers(&uses[j], port, proto) &&
				    (uses[j].skinds & PDX_SRC_IANA) != 0;
			if (!ok) {
				fprintf(stderr,
				    "IANA notes unauthorized use "
				    "of %d/%s; uses.tsv has no row\n",
				    port, pdx_proto_name(proto));
				missing++;
			}
		}
	}
	fprintf(stderr,
	    "# %ld noted IANA rows, %ld port/transport pairs "
	    "named\n",
	    c->noted, ports);
	assert_int_equal(missing, 0);
	/* and no iana-unauthorized row claims a port IANA does not note */
	for (j = 0; j < nuses; j++) {
		if (uses[j].kind != PDX_USE_IANA_UNAUTHORIZED)
			continue;
		for (port = uses[j].lo; port <= uses[j].hi; port++)
			if (!pdx_portset_has(&c->want[0], (unsigned)port) &&
			    !pdx_portset_has(&c->want[1], (unsigned)port))
				fail_msg("line %u: IANA notes nothing on %d",
				    uses[j].line, port);
	}
	for (j = 0; j < nuses; j++)
		check_iana_citations(c, &uses[j], uses[j].source);
	free_iana(c);
}

/* ---- coverage 3: what nmap sees open ---------------------------------- */

struct nm_entry {
	char *name;
	int port, proto;
	double freq;
	unsigned line;
};
struct nm_ctx {
	struct nm_entry *e;
	size_t n;
};

static int
keep_nmap(const struct pdx_nmap_entry *e, void *arg)
{
	struct nm_ctx *c = arg;

	c->e = realloc(c->e, (c->n + 1) * sizeof *c->e);
	assert_non_null(c->e);
	c->e[c->n].name = strdup(e->name);
	c->e[c->n].port = e->port;
	c->e[c->n].proto = e->proto;
	c->e[c->n].freq = e->freq;
	c->e[c->n].line = e->line;
	c->n++;
	return 0;
}

static int
by_freq(const void *a, const void *b)
{
	const struct nm_entry *x = a, *y = b;

	if (x->freq != y->freq)
		return x->freq > y->freq ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Lower case without punctuation: "X11:1" and "x11" compare apart, so
 * the alias table below names what is the same protocol. */
static void
squash(const char *s, char *out, size_t n)
{
	size_t i = 0;

	for (; *s != '\0' && i + 1 < n; s++)
		if (isalnum((unsigned char)*s))
			out[i++] = (char)tolower((unsigned char)*s);
	out[i] = '\0';
}

/*
 * nmap names that are IANA's service under another name (same protocol,
 * same product): these do not differ from the registry.  Judgement
 * recorded here so that the test fails on any new difference.
 */
static const struct {
	const char *nmap, *iana;
} same_service[] = {
	{ "smtps", "submissions" },
	{ "kpasswd5", "kpasswd" },
	{ "irc", "ircu" },
	{ "snews", "nntps" },
	{ "whois", "nicname" },
	{ "sip-tls", "sips" },
	{ "dhcps", "bootps" },
	{ "dhcpc", "bootpc" },
	{ "route", "router" },
	{ "radacct", "radius-acct" },
	{ "ldapssl", "ldaps" },
	{ "upnp", "ssdp" },
};

/* Does any IANA row covering port/proto carry this (squashed) name? */
static int
iana_has_name(struct iana_ctx *ic, const char *sq, int port, int proto)
{
	size_t r;
	char a[128];

	for (r = 0; r < ic->n; r++) {
		int lo, hi;
		const char *dash;

		if (ic->rows[r].name[0] == '\0' || ic->rows[r].port[0] == '\0')
			continue;
		lo = atoi(ic->rows[r].port);
		dash = strchr(ic->rows[r].port, '-');
		hi = dash != NULL ? atoi(dash + 1) : lo;
		if (port < lo || port > hi)
			continue;
		if (ic->rows[r].proto[0] != '\0' &&
		    pdx_proto_parse(ic->rows[r].proto) != proto)
			continue;
		squash(ic->rows[r].name, a, sizeof a);
		if (strcmp(a, sq) == 0)
			return 1;
	}
	return 0;
}

static int
is_alias(const char *nmap, struct iana_ctx *ic, int port, int proto)
{
	size_t i;
	char sq[128];

	for (i = 0; i < sizeof same_service / sizeof same_service[0]; i++) {
		if (strcmp(nmap, same_service[i].nmap) != 0)
			continue;
		squash(same_service[i].iana, sq, sizeof sq);
		if (iana_has_name(ic, sq, port, proto))
			return 1;
	}
	return 0;
}

static void
test_nmap(void **state)
{
	struct nm_ctx c = { NULL, 0 };
	struct iana_ctx *ic;
	char *b;
	size_t len, i, j;
	long cand = 0, missing = 0;
	int t;

	(void)state;
	if (access(NMAP_SERVICES, R_OK) != 0) {
		/* The data still parses and lints; only this cross-check
		 * needs nmap-common, a test dependency. */
		fprintf(stderr, "# %s absent: nmap cross-checks not run\n",
		    NMAP_SERVICES);
		return;
	}
	b = pdx_read_file(NMAP_SERVICES, MAX_DATA, &len);
	assert_non_null(b);
	if (pdx_nmap_parse(b, len, NMAP_SERVICES, keep_nmap, &c) < 0)
		fail_msg("%s", pdx_last_error());
	free(b);
	assert_true(c.n > 10000);

	/* Every "nmap-services NAME PORT/PROTO" citation is true. */
	for (j = 0; j < nuses; j++) {
		const char *p = uses[j].source;

		while ((p = strstr(p, "nmap-services ")) != NULL) {
			char name[128], proto[16];
			int port, ok = 0;

			if (sscanf(p + 14, "%127s %d/%15[a-z]", name, &port,
				proto) != 3)
				fail_msg("line %u: bad nmap citation",
				    uses[j].line);
			for (i = 0; i < c.n && !ok; i++)
				ok = c.e[i].port == port &&
				    c.e[i].proto == pdx_proto_parse(proto) &&
				    strcmp(c.e[i].name, name) == 0;
			if (!ok)
				fail_msg("line %u cites nmap-services '%s "
					 "%d/%s', which nmap does not list",
				    uses[j].line, name, port, proto);
			p += 14;
		}
	}

	/* The 1,000 TCP and 200 UDP ports nmap sees open most often: each
	 * whose nmap name is not IANA's must have a use row. */
	qsort(c.e, c.n, sizeof *c.e, by_freq);
	ic = load_iana();
	for (t = 0; t < 2; t++) {
		int proto = t == 0 ? PDX_TCP : PDX_UDP;
		size_t want = t == 0 ? 1000 : 200, seen = 0;

		for (i = 0; i < c.n && seen < want; i++) {
			char sq[128];
			int ok = 0;

			if (c.e[i].proto != proto)
				continue;
			seen++;
			if (strcmp(c.e[i].name, "unknown") == 0)
				continue;
			squash(c.e[i].name, sq, sizeof sq);
			if (iana_has_name(ic, sq, c.e[i].port, proto) ||
			    is_alias(c.e[i].name, ic, c.e[i].port, proto))
				continue;
			cand++;
			/* IANA's own note does not say what the use is */
			for (j = 0; j < nuses && !ok; j++)
				ok = covers(&uses[j], c.e[i].port, proto) &&
				    uses[j].kind != PDX_USE_IANA_UNAUTHORIZED;
			if (!ok) {
				fprintf(stderr,
				    "nmap sees %s on %d/%s (IANA "
				    "differs); uses.tsv has no row\n",
				    c.e[i].name, c.e[i].port,
				    pdx_proto_name(proto));
				missing++;
			}
		}
		assert_int_equal(seen, want);
	}
	fprintf(stderr, "# %ld of nmap's top ports differ from IANA\n", cand);
	assert_true(cand > 100);
	assert_int_equal(missing, 0);
	free_iana(ic);
	for (i = 0; i < c.n; i++)
		free(c.e[i].name);
	free(c.e);
}

/* The ports the issue names as going beyond IANA, nmap or not. */
static void
test_named_products(void **state)
{
	static const struct {
		int port, proto;
	} want[] = {
		{ 8080, PDX_TCP },
		{ 8443, PDX_TCP },
		{ 3000, PDX_TCP },
		{ 5000, PDX_TCP },
		{ 5900, PDX_TCP },
		{ 6379, PDX_TCP },
		{ 27017, PDX_TCP },
		{ 9200, PDX_TCP },
		{ 11211, PDX_TCP },
		{ 2375, PDX_TCP },
		{ 3389, PDX_TCP },
		{ 1433, PDX_TCP },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		int ok = 0;

		for (j = 0; j < nuses && !ok; j++)
			ok = covers(&uses[j], want[i].port, want[i].proto) &&
			    uses[j].kind != PDX_USE_MALWARE &&
			    uses[j].kind != PDX_USE_IANA_UNAUTHORIZED;
		if (!ok)
			fail_msg("no product row for %d", want[i].port);
	}
}

/* ---- coverage 4 and 5 ------------------------------------------------- */

/*
 * The promises of docs/knowledge.md, "What the data must cover", counted:
 * entries (a port, or a range counted once) with a use beyond IANA's own
 * note and beyond nmap's label; how many of them a primary non-nmap
 * source documents; malware and attack tools first seen after 2015; the
 * domain files; the amplification protocols.
 */
#define MIN_ENTRIES 1500
#define MIN_DOCUMENTED 800
#define MIN_RECENT_MALWARE 40
#define MIN_DOMAIN_ROWS 10
#define MAX_TOP_WITHOUT_LEAD 0

static int
entry_cmp(const void *a, const void *b)
{
	const long *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Distinct (lo, hi) pairs among keys[0..n), which it sorts. */
static size_t
distinct(long *keys, size_t n)
{
	size_t i, d = 0;

	qsort(keys, n, sizeof *keys, entry_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			d++;
	return d;
}

static void
test_coverage_counts(void **state)
{
	static const char *const domains[] = {
		"containers.tsv",
		"databases.tsv",
		"ics.tsv",
		"iot.tsv",
		"attack.tsv",
		"windows.tsv",
		"macos.tsv",
		"amplification.tsv",
		"games-voice.tsv",
		"vpn-remote.tsv",
		"admin-panels.tsv",
		"dev-tools.tsv",
		"media-sync.tsv",
	};
	long *all = calloc(nuses + 1, sizeof *all);
	long *doc = calloc(nuses + 1, sizeof *doc);
	size_t j, k, na = 0, nd = 0, recent = 0, nall, ndoc;
	size_t per_level[PDX_CONF_NLEVELS] = { 0 };

	(void)state;
	assert_non_null(all);
	assert_non_null(doc);
	for (j = 0; j < nuses; j++) {
		const struct use *u = &uses[j];

		assert_true(u->skinds != 0);
		per_level[u->conf]++;
		if (u->conf == PDX_CONF_OBSERVED ||
		    u->kind == PDX_USE_IANA_UNAUTHORIZED)
			continue;
		/* beyond IANA and nmap: a source that is neither */
		if ((u->skinds & (PDX_SRC_URL | PDX_SRC_RFC | PDX_SRC_SEED)) ==
		    0)
			continue;
		all[na++] = (long)u->lo << 17 | u->hi;
		if (u->conf == PDX_CONF_DOCUMENTED &&
		    (u->skinds & (PDX_SRC_URL | PDX_SRC_RFC)) != 0)
			doc[nd++] = (long)u->lo << 17 | u->hi;
		if ((u->kind == PDX_USE_MALWARE ||
			u->kind == PDX_USE_ATTACK_TOOL ||
			u->kind == PDX_USE_C2 ||
			u->kind == PDX_USE_EXPLOITED) &&
		    u->y0 > 2015)
			recent++;
	}
	nall = distinct(all, na);
	ndoc = distinct(doc, nd);
	fprintf(stderr,
	    "# %zu rows (%zu documented, %zu reported, %zu "
	    "observed); %zu entries beyond IANA's note and nmap's label, "
	    "%zu documented by a primary non-nmap source; %zu malware or "
	    "attack-tool rows first seen after 2015\n",
	    nuses, per_level[PDX_CONF_DOCUMENTED], per_level[PDX_CONF_REPORTED],
	    per_level[PDX_CONF_OBSERVED], nall, ndoc, recent);
	for (k = 0; k < sizeof domains / sizeof domains[0]; k++) {
		size_t rows = 0;

		for (j = 0; j < nuses; j++)
			rows += strcmp(uses[j].file, domains[k]) == 0;
		fprintf(stderr, "#   %-20s %zu rows\n", domains[k], rows);
		if (rows < MIN_DOMAIN_ROWS)
			fail_msg("domain %s has %zu rows, fewer than %d",
			    domains[k], rows, MIN_DOMAIN_ROWS);
	}
	free(all);
	free(doc);
	if (nall < MIN_ENTRIES)
		fail_msg("%zu entries, fewer than %d", nall, MIN_ENTRIES);
	if (ndoc < MIN_DOCUMENTED)
		fail_msg("%zu documented entries, fewer than %d", ndoc,
		    MIN_DOCUMENTED);
	if (recent < MIN_RECENT_MALWARE)
		fail_msg("%zu recent malware rows, fewer than %d", recent,
		    MIN_RECENT_MALWARE);
}

/*
 * Every port among nmap's 300 TCP and 100 UDP most often open has a lead
 * row: the identity its card leads with.
 */
static void
test_top_ports_lead(void **state)
{
	struct nm {
		int port, proto;
		double freq;
	} *v = NULL;
	size_t nv = 0, cap = 0, i, j, missing = 0;
	int pass;
	char *b, *line, *save = NULL;
	size_t len;

	(void)state;
	b = slurp("/usr/share/nmap", "nmap-services", &len);
	for (line = strtok_r(b, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128], pp[32];
		int port;
		double f;

		if (line[0] == '#' ||
		    sscanf(line, "%127s %31s %lf", name, pp, &f) != 3 ||
		    sscanf(pp, "%d/", &port) != 1)
			continue;
		if (nv == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof *v);
			assert_non_null(v);
		}
		v[nv].port = port;
		v[nv].proto = strstr(pp, "/tcp") ? PDX_TCP
		    : strstr(pp, "/udp")	 ? PDX_UDP
						 : 0;
		v[nv].freq = f;
		nv++;
	}
	free(b);
	for (pass = 0; pass < 2; pass++) {
		int proto = pass == 0 ? PDX_TCP : PDX_UDP;
		size_t want = pass == 0 ? 300 : 100, taken = 0;
		double last = 2.0;

		while (taken < want) {
			/* the next most frequent of this transport */
			size_t best = nv;

			for (i = 0; i < nv; i++)
				if (v[i].proto == proto && v[i].freq < last &&
				    (best == nv || v[i].freq > v[best].freq))
					best = i;
			if (best == nv)
				break;
			last = v[best].freq;
			for (i = 0; i < nv && taken < want; i++) {
				int ok = 0;

				if (v[i].proto != proto || v[i].freq != last)
					continue;
				taken++;
				for (j = 0; j < nuses && !ok; j++)
					ok = uses[j].lead &&
					    covers(&uses[j], v[i].port, proto);
				if (!ok) {
					missing++;
					fprintf(stderr,
					    "# no lead row for "
					    "%d/%s\n",
					    v[i].port, pdx_proto_name(proto));
				}
			}
		}
	}
	free(v);
	if (missing > MAX_TOP_WITHOUT_LEAD)
		fail_msg("%zu of nmap's top ports have no lead row", missing);
}

static void
test_related_pairs(void **state)
{
	/* The chains the issue asks for, plus common families. */
	static const int pairs[][2] = {
		{ 644, 635 },
		{ 635, 111 },
		{ 111, 2049 },
		{ 545, 554 },
		{ 554, 5060 },
		{ 5060, 443 },
		{ 194, 6665 },
		{ 6665, 6697 },
		{ 6697, 1644 },
		{ 22, 23 },
		{ 80, 443 },
		{ 80, 8080 },
		{ 443, 8443 },
		{ 25, 587 },
		{ 25, 465 },
		{ 143, 993 },
		{ 110, 995 },
		{ 389, 636 },
		{ 53, 853 },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		int a = pairs[i][0], b = pairs[i][1], ok = 0;

		for (j = 0; j < nrels && !ok; j++)
			ok = (rels[j].alo <= a && a <= rels[j].ahi &&
				 rels[j].blo <= b && b <= rels[j].bhi) ||
			    (rels[j].alo <= b && b <= rels[j].ahi &&
				rels[j].blo <= a && a <= rels[j].bhi);
		if (!ok)
			fail_msg("no related pair %d <-> %d", a, b);
	}
}

int
main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_callback),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_bad_file),
		cmocka_unit_test(test_related_parse),
		cmocka_unit_test(test_lint_detects),
		cmocka_unit_test(test_lint_repo),
	};
	const struct CMUnitTest data[] = {
		cmocka_unit_test(test_seed_coverage),
		cmocka_unit_test(test_iana_unauthorized),
		cmocka_unit_test(test_nmap),
		cmocka_unit_test(test_named_products),
		cmocka_unit_test(test_coverage_counts),
		cmocka_unit_test(test_top_ports_lead),
		cmocka_unit_test(test_related_pairs),
	};
	int rc;

	rc = cmocka_run_group_tests_name("knowledge parser", unit, NULL, NULL);
	rc += cmocka_run_group_tests_name("knowledge data", data, setup_data,
	    teardown_data);
	return rc;
}
