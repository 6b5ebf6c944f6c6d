/*
 * test_sources.c - unit tests for the source parsers in lib/sources.c:
 * the IANA CSV (pdx_iana_parse, pdx_iana_status), services(5) files,
 * nmap-services and RPC program lists.  Each parser gets good input whose
 * callback values are checked field by field, and malformed input whose
 * error must name the file and line.  One test parses the real IANA file
 * from ../shared and checks it against a small quote-aware scanner
 * written here, independent of the library.  Storing rows in the
 * registry is tested elsewhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portdex.h"
#include "assert-error.h"

/* The IANA header as published, written out here on purpose. */
#define HDR \
	"Service Name,Port Number,Transport Protocol,Description," \
	"Assignee,Contact,Registration Date,Modification Date,Reference," \
	"Service Code,Unauthorized Use Reported,Assignment Notes"

#define TEN_MB (10u * 1024 * 1024)

#define assert_error_starts(s) \
	do { \
		const char *m_ = pdx_last_error(); \
		if (strncmp(m_, (s), strlen(s)) != 0) \
			fail_msg( \
			    "error message '%s' does not start with '%s'", m_, \
			    (s)); \
	} while (0)

/* ---- collecting callback results ------------------------------------- */

#define MAXROWS 32

struct irow {
	char *f[PDX_NCOLS];
	int lo, hi, proto, status;
	char *was;
	unsigned line;
};

struct icoll {
	struct irow r[MAXROWS];
	int n;
	int calls;
	int stop_at; /* return stop_rc at this call (1-based) */
	int stop_rc;
};

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

static int
iana_collect(const struct pdx_iana_row *row, void *arg)
{
	struct icoll *c = arg;
	struct irow *r;
	int i;

	c->calls++;
	if (c->n < MAXROWS) {
		r = &c->r[c->n++];
		for (i = 0; i < PDX_NCOLS; i++)
			r->f[i] = xstrdup(row->f[i]);
		r->lo = row->port_lo;
		r->hi = row->port_hi;
		r->proto = row->proto;
		r->status = row->status;
		r->was = row->was != NULL ? xstrdup(row->was) : NULL;
		r->line = row->line;
	}
	if (c->stop_at != 0 && c->calls == c->stop_at)
		return c->stop_rc;
	return 0;
}

static void
icoll_free(struct icoll *c)
{
	int i, j;

	for (i = 0; i < c->n; i++) {
		for (j = 0; j < PDX_NCOLS; j++)
			free(c->r[i].f[j]);
		free(c->r[i].was);
	}
	memset(c, 0, sizeof *c);
}

/* Parses HDR "\n" followed by body (len bytes, may hold NULs). */
static long
iana_body(const char *body, size_t len, const char *eol, struct icoll *c)
{
	size_t hl = strlen(HDR) + strlen(eol);
	char *buf = malloc(hl + len + 1);
	long n;

	assert_non_null(buf);
	memcpy(buf, HDR, strlen(HDR));
	memcpy(buf + strlen(HDR), eol, strlen(eol));
	memcpy(buf + hl, body, len);
	buf[hl + len] = '\0';
	/* Pass the exact length: the parser must not need the NUL. */
	n = pdx_iana_parse(buf, hl + len, "t.csv", iana_collect, c);
	free(buf);
	return n;
}

#define IANA(lit, c) iana_body((lit), sizeof(lit) - 1, "\n", (c))

static void
expect_iana_error(const char *body, size_t len, const char *prefix,
    const char *has)
{
	struct icoll c;
	long n;

	memset(&c, 0, sizeof c);
	n = iana_body(body, len, "\n", &c);
	icoll_free(&c);
	if (n != -1)
		fail_msg("malformed input accepted (%ld rows): expected '%s'",
		    n, has);
	assert_error_starts(prefix);
	assert_error_has(has);
}

#define IANA_BAD(lit, prefix, has) \
	expect_iana_error((lit), sizeof(lit) - 1, (prefix), (has))

static void
check_row(const struct irow *r, const char *const want[PDX_NCOLS])
{
	int i;

	for (i = 0; i < PDX_NCOLS; i++)
		if (strcmp(r->f[i], want[i]) != 0)
			fail_msg("line %u column %d: '%s', want '%s'", r->line,
			    i + 1, r->f[i], want[i]);
}

/* ---- IANA: good input ------------------------------------------------ */

static void
test_iana_header_constant(void **state)
{
	char hdr[] = HDR;
	char *save = NULL, *tok;
	int i = 0;

	(void)state;
	for (tok = strtok_r(hdr, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save), i++) {
		assert_true(i < PDX_NCOLS);
		assert_string_equal(pdx_iana_header[i], tok);
	}
	assert_int_equal(i, PDX_NCOLS);
}

static void
test_iana_all_fields(void **state)
{
	static const char *const want[PDX_NCOLS] = {
		"ssh",
		"22",
		"tcp",
		"The Secure Shell (SSH) Protocol",
		"[RFC4251]",
		"[RFC4251]",
		"2001-01-01",
		"2020-02-02",
		"[RFC4251]",
		"S1",
		"Known Unauthorized Use",
		"a note",
	};
	static const char two[] = HDR "\na,1,tcp,,,,,,,,,\nb,2,udp,,,,,,,,,\n";
	struct icoll c = { 0 };

	(void)state;
	assert_int_equal(
	    IANA("ssh,22,tcp,The Secure Shell (SSH) Protocol,"
		 "[RFC4251],[RFC4251],2001-01-01,2020-02-02,[RFC4251],S1,"
		 "Known Unauthorized Use,a note\n",
		&c),
	    1);
	assert_int_equal(c.n, 1);
	check_row(&c.r[0], want);
	assert_int_equal(c.r[0].lo, 22);
	assert_int_equal(c.r[0].hi, 22);
	assert_int_equal(c.r[0].proto, PDX_TCP);
	assert_int_equal(c.r[0].status, PDX_ST_ASSIGNED);
	assert_null(c.r[0].was);
	assert_int_equal(c.r[0].line, 2);
	icoll_free(&c);

	/* Header only: no rows, not an error. */
	assert_int_equal(IANA("", &c), 0);
	assert_int_equal(c.calls, 0);
	/* No newline at the end of the last record. */
	assert_int_equal(IANA("a,1,tcp,d,,,,,,,,x", &c), 1);
	assert_string_equal(c.r[0].f[PDX_COL_NOTES], "x");
	icoll_free(&c);
	/* A NULL callback just counts. */
	assert_int_equal(pdx_iana_parse(two, sizeof two - 1, "t.csv", NULL,
			     NULL),
	    2);
}

static void
test_iana_quoting(void **state)
{
	static const char *const want[PDX_NCOLS] = {
		"q",
		"5",
		"udp",
		"say \"hi\", then \"\"go\"\"",
		"",
		"",
		"",
		"",
		"",
		"",
		"",
		"\"",
	};
	struct icoll c = { 0 };

	(void)state;
	assert_int_equal(IANA("\"q\",5,\"udp\",\"say \"\"hi\"\", then "
			      "\"\"\"\"go\"\"\"\"\",\"\",,,,,,,\"\"\"\"\n",
			     &c),
	    1);
	check_row(&c.r[0], want);
	assert_int_equal(c.r[0].lo, 5);
	assert_int_equal(c.r[0].proto, PDX_UDP);
	icoll_free(&c);
}

static void
test_iana_multiline(void **state)
{
	struct icoll c = { 0 };

	(void)state;
	/*
	 * Line 1 is the header, lines 2-5 one record, 6 a plain one, 7-8
	 * one more; an error in the record of line 7 must say line 7.
	 */
	assert_int_equal(
	    IANA("foo,1,tcp,\"first\nsecond\",,,,,,,,\"n1\nn2\nn3\"\n"
		 "bar,2,udp,plain,,,,,,,,\n"
		 "baz,3,tcp,\"x\n\",,,,,,,,\n",
		&c),
	    3);
	assert_int_equal(c.r[0].line, 2);
	assert_string_equal(c.r[0].f[PDX_COL_DESC], "first\nsecond");
	assert_string_equal(c.r[0].f[PDX_COL_NOTES], "n1\nn2\nn3");
	assert_int_equal(c.r[1].line, 6);
	assert_string_equal(c.r[1].f[PDX_COL_NAME], "bar");
	assert_int_equal(c.r[2].line, 7);
	assert_string_equal(c.r[2].f[PDX_COL_DESC], "x\n");
	icoll_free(&c);

	IANA_BAD("foo,1,tcp,\"first\nsecond\",,,,,,,,\"n1\nn2\nn3\"\n"
		 "bar,2,udp,plain,,,,,,,,\n"
		 "baz,70000,tcp,,,,,,,,,\n",
	    "t.csv:7:", "70000");
}

static void
test_iana_crlf_bom(void **state)
{
	static const char crlf[] = "a,1,tcp,desc one,,,,,,,,last\r\n"
				   "b,2,udp,\"two\r\nlines\",,,,,,,,\r\n"
				   "c,3,sctp,,,,,,,,,\r\n";
	struct icoll c = { 0 };
	char *buf;
	size_t hl;
	int i;

	(void)state;
	assert_int_equal(iana_body(crlf, sizeof crlf - 1, "\r\n", &c), 3);
	assert_string_equal(c.r[0].f[PDX_COL_NOTES], "last");
	assert_string_equal(c.r[0].f[PDX_COL_DESC], "desc one");
	assert_int_equal(c.r[0].line, 2);
	assert_int_equal(c.r[1].line, 3);
	assert_int_equal(c.r[2].line, 5);
	assert_int_equal(c.r[2].proto, PDX_SCTP);
	for (i = 0; i < c.n; i++)
		for (int j = 0; j < PDX_NCOLS; j++)
			if (j != PDX_COL_DESC &&
			    strchr(c.r[i].f[j], '\r') != NULL)
				fail_msg("row %d column %d keeps a CR", i, j);
	icoll_free(&c);

	/* A UTF-8 byte order mark before the header. */
	hl = 3 + strlen(HDR) + 1;
	buf = malloc(hl + 64);
	assert_non_null(buf);
	memcpy(buf, "\xef\xbb\xbf" HDR "\n", hl);
	strcpy(buf + hl, "bom,9,dccp,,,,,,,,,\n");
	assert_int_equal(pdx_iana_parse(buf, strlen(buf), "t.csv", iana_collect,
			     &c),
	    1);
	assert_string_equal(c.r[0].f[PDX_COL_NAME], "bom");
	assert_int_equal(c.r[0].proto, PDX_DCCP);
	assert_int_equal(c.r[0].line, 2);
	icoll_free(&c);
	free(buf);
}

static void
test_iana_ports_and_transports(void **state)
{
	static const struct {
		const char *proto;
		int bit;
	} tr[] = {
		{ "tcp", PDX_TCP },
		{ "udp", PDX_UDP },
		{ "sctp", PDX_SCTP },
		{ "dccp", PDX_DCCP },
		{ "", 0 },
	};
	struct icoll c = { 0 };
	size_t i;

	(void)state;
	assert_int_equal(
	    IANA("x11,6000-6063,tcp,X Window System,,,,,,,,\n"
		 "zigbee-bridge,,udp,ZigBee Bridge device,,,2013-05-28,,,,,\n"
		 ",4-6,,Unassigned,,,,,,,,\n"
		 "all,0-65535,dccp,,,,,,,,,\n"
		 "one,7-7,sctp,,,,,,,,,\n",
		&c),
	    5);
	assert_int_equal(c.r[0].lo, 6000);
	assert_int_equal(c.r[0].hi, 6063);
	assert_int_equal(c.r[0].proto, PDX_TCP);
	assert_string_equal(c.r[0].f[PDX_COL_PORT], "6000-6063");
	/* Name-only row: no port. */
	assert_int_equal(c.r[1].lo, -1);
	assert_int_equal(c.r[1].hi, -1);
	assert_int_equal(c.r[1].proto, PDX_UDP);
	assert_int_equal(c.r[1].status, PDX_ST_ASSIGNED);
	/* Unassigned range covering every transport. */
	assert_int_equal(c.r[2].lo, 4);
	assert_int_equal(c.r[2].hi, 6);
	assert_int_equal(c.r[2].proto, 0);
	assert_int_equal(c.r[2].status, PDX_ST_UNASSIGNED);
	assert_null(c.r[2].was);
	assert_int_equal(c.r[3].lo, 0);
	assert_int_equal(c.r[3].hi, 65535);
	assert_int_equal(c.r[4].lo, 7);
	assert_int_equal(c.r[4].hi, 7);
	icoll_free(&c);

	for (i = 0; i < sizeof tr / sizeof tr[0]; i++) {
		char body[64];

		snprintf(body, sizeof body, "svc,100,%s,,,,,,,,,\n",
		    tr[i].proto);
		assert_int_equal(iana_body(body, strlen(body), "\n", &c), 1);
		assert_int_equal(c.r[0].proto, tr[i].bit);
		assert_string_equal(c.r[0].f[PDX_COL_PROTO], tr[i].proto);
		icoll_free(&c);
	}
}

static void
test_iana_status(void **state)
{
	static const struct {
		const char *body;
		int status;
		const char *was;
	} t[] = {
		{ "echo,7,tcp,Echo,,,,,,,,\n", PDX_ST_ASSIGNED, NULL },
		{ ",0,tcp,Reserved,,,,2024-12-20,[RFC6335],,,\n",
		    PDX_ST_RESERVED, NULL },
		{ ",2,tcp,Reserved,,,,2025-02-13,,,,\"De-assigned on "
		  "2025-02-13, previously compressnet by [Bernie_Volz]\"\n",
		    PDX_ST_RESERVED, "compressnet" },
		{ ",4,tcp,Unassigned,,,,,,,,\n", PDX_ST_UNASSIGNED, NULL },
		{ ",15,tcp,Unassigned [was netstat],,,,,,,,\n", PDX_ST_HISTORIC,
		    "netstat" },
		{ ",585,,De-registered,,,,2006-04-25,,,,\"Use of 585 is not "
		  "recommended, use 993 instead\"\n",
		    PDX_ST_DEREGISTERED, NULL },
		{ ",2905,udp,De-registered,,,2001-06-07,,,,,\n",
		    PDX_ST_DEREGISTERED, NULL },
		{ "msp,18,tcp,Message Send Protocol (historic),[Rina_Nethaniel],"
		  "[Rina_Nethaniel],,,,,,\n",
		    PDX_ST_HISTORIC, "msp" },
	};
	struct icoll c = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (iana_body(t[i].body, strlen(t[i].body), "\n", &c) != 1)
			fail_msg("%s: %s", t[i].body, pdx_last_error());
		if (c.r[0].status != t[i].status)
			fail_msg("%s: status %s, want %s", t[i].body,
			    pdx_status_name(c.r[0].status),
			    pdx_status_name(t[i].status));
		if (t[i].was == NULL && c.r[0].was != NULL)
			fail_msg("%s: was '%s', want none", t[i].body,
			    c.r[0].was);
		if (t[i].was != NULL &&
		    (c.r[0].was == NULL || strcmp(c.r[0].was, t[i].was) != 0))
			fail_msg("%s: was '%s', want '%s'", t[i].body,
			    c.r[0].was != NULL ? c.r[0].was : "(none)",
			    t[i].was);
		icoll_free(&c);
	}
}

static void
test_iana_status_direct(void **state)
{
	char *was = (char *)"untouched";

	(void)state;
	assert_int_equal(pdx_iana_status("", "Reserved", NULL, &was),
	    PDX_ST_RESERVED);
	assert_null(was);
	assert_int_equal(pdx_iana_status("", "Unassigned", "", &was),
	    PDX_ST_UNASSIGNED);
	assert_null(was);
	assert_int_equal(pdx_iana_status("", "Unassigned [was netstat]", "",
			     &was),
	    PDX_ST_HISTORIC);
	assert_non_null(was);
	assert_string_equal(was, "netstat");
	free(was);
	assert_int_equal(pdx_iana_status("ftp", "File Transfer", "", &was),
	    PDX_ST_ASSIGNED);
	assert_null(was);
}

static void
test_iana_callback_stops(void **state)
{
	static const char body[] =
	    "a,1,tcp,,,,,,,,,\nb,2,tcp,,,,,,,,,\nc,3,tcp,,,,,,,,,\n";
	struct icoll c = { 0 };
	long n;

	(void)state;
	c.stop_at = 2;
	c.stop_rc = 1;
	n = IANA(body, &c);
	assert_int_equal(c.calls, 2);
	assert_true(n >= 0);
	icoll_free(&c);

	c.stop_at = 1;
	c.stop_rc = -1;
	assert_int_equal(IANA(body, &c), -1);
	assert_int_equal(c.calls, 1);
	icoll_free(&c);
}

/* ---- IANA: malformed input ------------------------------------------- */

static void
test_iana_bad_header(void **state)
{
	static const char *const bad[] = {
		"Service,Port,Transport Protocol,Description,Assignee,Contact,"
		"Registration Date,Modification Date,Reference,"
		"Service Code,Unauthorized Use Reported,Assignment Notes\n",
		/* eleven columns */
		"Service Name,Port Number,Transport Protocol,Description,"
		"Assignee,Contact,Registration Date,Modification Date,"
		"Reference,Service Code,Unauthorized Use Reported\n",
		/* thirteen */
		HDR ",Extra\n",
		"name,port\nfoo,1\n",
		"\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (pdx_iana_parse(bad[i], strlen(bad[i]), "h.csv", NULL,
			NULL) != -1)
			fail_msg("header '%s' accepted", bad[i]);
		assert_error_starts("h.csv:1:");
		assert_error_has("header");
	}
	assert_int_equal(pdx_iana_parse("", 0, "empty.csv", NULL, NULL), -1);
	assert_error_has("empty.csv");
}

static void
test_iana_malformed(void **state)
{
	(void)state;
	IANA_BAD("a,1,tcp,\"never closed", "t.csv:2:", "unterminated");
	IANA_BAD("ok,1,tcp,,,,,,,,,\na,2,tcp,\"never closed,,,,,,,,\n",
	    "t.csv:3:", "unterminated");
	/* Named by the line where the record starts, not where input ends. */
	IANA_BAD("ok,1,tcp,,,,,,,,,\na,2,tcp,\"l3\nl4\nl5,,,,,,,,\n",
	    "t.csv:3:", "unterminated");
	IANA_BAD("ok,1,tcp,,,,,,,,,\nfoo,70000,tcp,,,,,,,,,\n",
	    "t.csv:3:", "70000");
	IANA_BAD("foo,12-5,tcp,,,,,,,,,\n", "t.csv:2:", "12-5");
	IANA_BAD("foo,5-70000,tcp,,,,,,,,,\n", "t.csv:2:", "70000");
	IANA_BAD("foo,-1,tcp,,,,,,,,,\n", "t.csv:2:", "-1");
	IANA_BAD("foo,abc,tcp,,,,,,,,,\n", "t.csv:2:", "abc");
	IANA_BAD("foo,1-,tcp,,,,,,,,,\n", "t.csv:2:", "port");
	IANA_BAD("foo, 1,tcp,,,,,,,,,\n", "t.csv:2:", "port");
	IANA_BAD("foo,1,tcp,,,,,,,,\n", "t.csv:2:", "11 fields");
	IANA_BAD("foo,1,tcp,,,,,,,,,,\n", "t.csv:2:", "fields");
	IANA_BAD("ok,1,tcp,,,,,,,,,\njunk\n", "t.csv:3:", "fields");
	IANA_BAD("foo,1,xtp,,,,,,,,,\n", "t.csv:2:", "xtp");
	IANA_BAD("foo,1,tcp/udp,,,,,,,,,\n", "t.csv:2:", "tcp/udp");
	IANA_BAD("foo,1,tcp,\"desc\"x,,,,,,,,\n",
	    "t.csv:2:", "after a closing quote");
	IANA_BAD("foo,1,tcp,de\"sc,,,,,,,,\n", "t.csv:2:", "quote");
	IANA_BAD(",,tcp,desc,,,,,,,,\n",
	    "t.csv:2:", "neither a port nor a service name");
	IANA_BAD(",,,,,,,,,,,\n", "t.csv:2:", "neither");
	IANA_BAD("foo,1,tcp,a\rb,,,,,,,,\n", "t.csv:2:", "carriage return");
	/* A blank line in the middle is a one-field record. */
	IANA_BAD("a,1,tcp,,,,,,,,,\n\nb,2,tcp,,,,,,,,,\n",
	    "t.csv:3:", "fields");
}

static void
test_iana_nul(void **state)
{
	static const char body[] = "a,1,tcp,d,,,,,,,,\nb,2,tcp,x\0y,,,,,,,,\n";
	static const char quoted[] =
	    "a,1,tcp,d,,,,,,,,\nb,2,tcp,\"x\ny\0\",,,,,,,,\n";

	(void)state;
	IANA_BAD(body, "t.csv:3:", "NUL");
	IANA_BAD(quoted, "t.csv:", "NUL");
	/* In the header. */
	assert_int_equal(pdx_iana_parse("Service\0Name", 12, "h.csv", NULL,
			     NULL),
	    -1);
	assert_error_starts("h.csv:1:");
}

static void
test_iana_huge_line(void **state)
{
	static const char pre[] = "ok,1,tcp,,,,,,,,,\nbig,2,tcp,";
	static const char post[] = ",,,,,,,,\n";
	size_t n = sizeof pre - 1 + TEN_MB + sizeof post - 1;
	char *body = malloc(n + 2);
	int quoted;

	(void)state;
	assert_non_null(body);
	for (quoted = 0; quoted <= 1; quoted++) {
		memcpy(body, pre, sizeof pre - 1);
		memset(body + sizeof pre - 1, 'a', TEN_MB);
		if (quoted) {
			body[sizeof pre - 1] = '"';
			body[sizeof pre - 1 + TEN_MB - 1] = '"';
		}
		memcpy(body + sizeof pre - 1 + TEN_MB, post, sizeof post - 1);
		expect_iana_error(body, n, "t.csv:3:", "longer");
	}
	/* Ten megabytes of one unterminated quoted field, with newlines. */
	memcpy(body, pre, sizeof pre - 1);
	memset(body + sizeof pre - 1, '\n', TEN_MB);
	body[sizeof pre - 1] = '"';
	expect_iana_error(body, sizeof pre - 1 + TEN_MB, "t.csv:", "");
	free(body);
}

/* ---- services(5) ----------------------------------------------------- */

#define MAXSVC 32

struct scoll {
	struct {
		char *name, *aliases, *comment;
		int lo, hi, protos;
		unsigned line;
	} e[MAXSVC];
	int n, calls, stop_at;
};

static int
svc_collect(const struct pdx_service_entry *e, void *arg)
{
	struct scoll *c = arg;

	c->calls++;
	if (c->n < MAXSVC) {
		c->e[c->n].name = xstrdup(e->name);
		c->e[c->n].aliases = xstrdup(e->aliases);
		c->e[c->n].comment = xstrdup(e->comment);
		c->e[c->n].lo = e->port_lo;
		c->e[c->n].hi = e->port_hi;
		c->e[c->n].protos = e->protos;
		c->e[c->n].line = e->line;
		c->n++;
	}
	return c->stop_at != 0 && c->calls == c->stop_at ? 1 : 0;
}

static void
scoll_free(struct scoll *c)
{
	int i;

	for (i = 0; i < c->n; i++) {
		free(c->e[i].name);
		free(c->e[i].aliases);
		free(c->e[i].comment);
	}
	memset(c, 0, sizeof *c);
}

static long
svc(const char *s, size_t len, struct scoll *c)
{
	return pdx_services_parse(s, len, "svc", svc_collect, c);
}

#define SVC(lit, c) svc((lit), sizeof(lit) - 1, (c))

static void
check_svc(const struct scoll *c, int i, const char *name, int lo, int hi,
    int protos, const char *aliases, const char *comment, unsigned line)
{
	assert_true(i < c->n);
	assert_string_equal(c->e[i].name, name);
	assert_int_equal(c->e[i].lo, lo);
	assert_int_equal(c->e[i].hi, hi);
	assert_int_equal(c->e[i].protos, protos);
	assert_string_equal(c->e[i].aliases, aliases);
	assert_string_equal(c->e[i].comment, comment);
	assert_int_equal(c->e[i].line, line);
}

static void
test_services_good(void **state)
{
	static const char text[] =
	    "# /etc/services-like header\n"				/* 1 */
	    "\n"							/* 2 */
	    "echo\t\t7/tcp/udp\t\t# Echo\n"				/* 3 */
	    "x11 6000-6063/tcp/udp # X Window System\n"			/* 4 */
	    "http 80/tcp www www-http   # WorldWideWeb HTTP  \n"	/* 5 */
	    "rtmp\t\t1/ddp\t\t\t# Routing Table Maintenance Protocol\n" /* 6 */
	    "fsp 21/udp fspd\n"						/* 7 */
	    "   \t  \n"							/* 8 */
	    "s1 9/sctp\n"						/* 9 */
	    "d1 9/dccp\n"						/* 10 */
	    "mixed 5/ddp/tcp\n"						/* 11 */
	    "bare 99/tcp #\n"						/* 12 */
	    "    # indented comment\n"					/* 13 */
	    "zip\t6/ddp\n"						/* 14 */
	    "last 65535/UDP";						/* 15 */
	struct scoll c = { 0 };

	(void)state;
	assert_int_equal(SVC(text, &c), 9);
	assert_int_equal(c.n, 9);
	check_svc(&c, 0, "echo", 7, 7, PDX_TCP | PDX_UDP, "", "Echo", 3);
	check_svc(&c, 1, "x11", 6000, 6063, PDX_TCP | PDX_UDP, "",
	    "X Window System", 4);
	check_svc(&c, 2, "http", 80, 80, PDX_TCP, "www www-http",
	    "WorldWideWeb HTTP", 5);
	check_svc(&c, 3, "fsp", 21, 21, PDX_UDP, "fspd", "", 7);
	check_svc(&c, 4, "s1", 9, 9, PDX_SCTP, "", "", 9);
	check_svc(&c, 5, "d1", 9, 9, PDX_DCCP, "", "", 10);
	check_svc(&c, 6, "mixed", 5, 5, PDX_TCP, "", "", 11);
	check_svc(&c, 7, "bare", 99, 99, PDX_TCP, "", "", 12);
	check_svc(&c, 8, "last", 65535, 65535, PDX_UDP, "", "", 15);
	scoll_free(&c);

	/* CRLF line ends leave no CR in any value. */
	assert_int_equal(SVC("echo 7/tcp alias\r\nfoo 8/udp # note\r\n"
			     "bar 9/tcp\r\n",
			     &c),
	    3);
	check_svc(&c, 0, "echo", 7, 7, PDX_TCP, "alias", "", 1);
	check_svc(&c, 1, "foo", 8, 8, PDX_UDP, "", "note", 2);
	check_svc(&c, 2, "bar", 9, 9, PDX_TCP, "", "", 3);
	scoll_free(&c);

	/* Only comments and unknown protocols: zero entries, no error. */
	assert_int_equal(SVC("# nothing\nrtmp 1/ddp\n\n", &c), 0);
	assert_int_equal(SVC("", &c), 0);
	assert_int_equal(c.calls, 0);

	/* The callback stops the parse. */
	c.stop_at = 1;
	assert_true(SVC("a 1/tcp\nb 2/tcp\n", &c) >= 0);
	assert_int_equal(c.calls, 1);
	scoll_free(&c);
}

static void
expect_svc_error(const char *s, size_t len, const char *prefix, const char *has)
{
	struct scoll c = { 0 };
	long n = svc(s, len, &c);

	scoll_free(&c);
	if (n != -1)
		fail_msg("'%.60s' accepted (%ld entries)", s, n);
	assert_error_starts(prefix);
	assert_error_has(has);
}

#define SVC_BAD(lit, prefix, has) \
	expect_svc_error((lit), sizeof(lit) - 1, (prefix), (has))

static void
test_services_bad(void **state)
{
	(void)state;
	SVC_BAD("# c\nfoo /tcp\n", "svc:2:", "missing port");
	SVC_BAD("ok 1/tcp\nfoo tcp\n", "svc:2:", "foo");
	SVC_BAD("foo\n", "svc:1:", "foo");
	SVC_BAD("# a\n\nfoo 70000/tcp\n", "svc:3:", "70000");
	SVC_BAD("foo 12-5/tcp/udp\n", "svc:1:", "12-5");
	SVC_BAD("foo abc/tcp\n", "svc:1:", "abc");
	SVC_BAD("foo -1/tcp\n", "svc:1:", "-1");
	SVC_BAD("foo 7/\n", "svc:1:", "protocol");
	SVC_BAD("foo 7/tcp/\n", "svc:1:", "protocol");
	SVC_BAD("foo 7//udp\n", "svc:1:", "protocol");
	SVC_BAD("ok 1/tcp\nfoo 7/tcp\0 bar\n", "svc:2:", "NUL");
}

static void
test_services_huge_line(void **state)
{
	char *s = malloc(TEN_MB + 64);
	size_t n;

	(void)state;
	assert_non_null(s);
	n = (size_t)sprintf(s, "ok 1/tcp\nbig 2/tcp ");
	memset(s + n, 'a', TEN_MB);
	memcpy(s + n + TEN_MB, "\nafter 3/tcp\n", 13);
	expect_svc_error(s, n + TEN_MB + 13, "svc:2:", "longer");
	/* Also when the long line is the last one, without a newline. */
	expect_svc_error(s, n + TEN_MB, "svc:2:", "longer");
	free(s);
}

/* ---- nmap-services --------------------------------------------------- */

struct ncoll {
	struct {
		char *name;
		int port, proto;
		double freq;
		unsigned line;
	} e[MAXSVC];
	int n;
};

static int
nmap_collect(const struct pdx_nmap_entry *e, void *arg)
{
	struct ncoll *c = arg;

	if (c->n < MAXSVC) {
		c->e[c->n].name = xstrdup(e->name);
		c->e[c->n].port = e->port;
		c->e[c->n].proto = e->proto;
		c->e[c->n].freq = e->freq;
		c->e[c->n].line = e->line;
		c->n++;
	}
	return 0;
}

static void
ncoll_free(struct ncoll *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		free(c->e[i].name);
	memset(c, 0, sizeof *c);
}

static void
check_nmap(const struct ncoll *c, int i, const char *name, int port, int proto,
    double freq, unsigned line)
{
	double d;

	assert_true(i < c->n);
	assert_string_equal(c->e[i].name, name);
	assert_int_equal(c->e[i].port, port);
	assert_int_equal(c->e[i].proto, proto);
	d = c->e[i].freq - freq;
	if (d > 1e-12 || d < -1e-12)
		fail_msg("%s: frequency %.9g, want %.9g", name, c->e[i].freq,
		    freq);
	assert_int_equal(c->e[i].line, line);
}

static void
test_nmap_good(void **state)
{
	static const char text[] =
	    "# Fields in this file are: Service name, portnum/protocol, "
	    "open-frequency, optional comments\n"			/* 1 */
	    "#\n"							/* 2 */
	    "tcpmux\t1/tcp\t0.001995\t# TCP Port Service Multiplexer\n" /* 3 */
	    "unknown\t3/udp\t0.000000\n"				/* 4 */
	    "\n"							/* 5 */
	    "http\t80/tcp\t0.484143\t# World Wide Web HTTP\n"		/* 6 */
	    "s 9/sctp 1\n"						/* 7 */
	    "zero 0/tcp 0.0\r\n"					/* 8 */
	    "max 65535/udp 1.000000\n"					/* 9 */
	    "exp 5/tcp 2.5e-05";					/* 10 */
	struct ncoll c = { 0 };

	(void)state;
	assert_int_equal(pdx_nmap_parse(text, sizeof text - 1, "nmap",
			     nmap_collect, &c),
	    7);
	check_nmap(&c, 0, "tcpmux", 1, PDX_TCP, 0.001995, 3);
	check_nmap(&c, 1, "unknown", 3, PDX_UDP, 0.0, 4);
	check_nmap(&c, 2, "http", 80, PDX_TCP, 0.484143, 6);
	check_nmap(&c, 3, "s", 9, PDX_SCTP, 1.0, 7);
	check_nmap(&c, 4, "zero", 0, PDX_TCP, 0.0, 8);
	check_nmap(&c, 5, "max", 65535, PDX_UDP, 1.0, 9);
	check_nmap(&c, 6, "exp", 5, PDX_TCP, 0.000025, 10);
	ncoll_free(&c);
}

static void
expect_nmap_error(const char *s, size_t len, const char *prefix,
    const char *has)
{
	struct ncoll c = { 0 };
	long n = pdx_nmap_parse(s, len, "nmap", nmap_collect, &c);

	ncoll_free(&c);
	if (n != -1)
		fail_msg("'%.60s' accepted (%ld entries)", s, n);
	assert_error_starts(prefix);
	assert_error_has(has);
}

#define NMAP_BAD(lit, prefix, has) \
	expect_nmap_error((lit), sizeof(lit) - 1, (prefix), (has))

static void
test_nmap_bad(void **state)
{
	char *s;
	size_t n;

	(void)state;
	/* Frequencies. */
	NMAP_BAD("# c\nx 1/tcp abc\n", "nmap:2:", "abc");
	NMAP_BAD("x 1/tcp 1.5\n", "nmap:1:", "1.5");
	NMAP_BAD("x 1/tcp -0.1\n", "nmap:1:", "-0.1");
	NMAP_BAD("x 1/tcp nan\n", "nmap:1:", "nan");
	NMAP_BAD("x 1/tcp inf\n", "nmap:1:", "inf");
	NMAP_BAD("x 1/tcp 0.5x\n", "nmap:1:", "0.5x");
	NMAP_BAD("x 1/tcp\n", "nmap:1:", "frequency");
	NMAP_BAD("x 1/tcp # 0.5\n", "nmap:1:", "frequency");
	/* Ports and protocols. */
	NMAP_BAD("ok 1/tcp 0.1\nx 70000/tcp 0.1\n", "nmap:2:", "70000");
	NMAP_BAD("x abc/tcp 0.1\n", "nmap:1:", "abc");
	NMAP_BAD("x 1-5/tcp 0.1\n", "nmap:1:", "1-5");
	NMAP_BAD("x -1/tcp 0.1\n", "nmap:1:", "-1");
	NMAP_BAD("x /tcp 0.1\n", "nmap:1:", "port");
	NMAP_BAD("x 1/xyz 0.1\n", "nmap:1:", "xyz");
	NMAP_BAD("x 1 0.1\n", "nmap:1:", "port/proto");
	NMAP_BAD("x\n", "nmap:1:", "port/proto");
	NMAP_BAD("ok 1/tcp 0.1\nx 2/tcp 0.\0"
		 "1\n",
	    "nmap:2:", "NUL");

	s = malloc(TEN_MB + 64);
	assert_non_null(s);
	n = (size_t)sprintf(s, "x 1/tcp 0.1 # ");
	memset(s + n, 'c', TEN_MB);
	expect_nmap_error(s, n + TEN_MB, "nmap:1:", "longer");
	free(s);
}

/* ---- RPC program names ----------------------------------------------- */

struct rcoll {
	struct {
		char *name, *aliases;
		long number;
		unsigned line;
	} e[MAXSVC];
	int n;
};

static int
rpc_collect(const struct pdx_rpc_entry *e, void *arg)
{
	struct rcoll *c = arg;

	if (c->n < MAXSVC) {
		c->e[c->n].name = xstrdup(e->name);
		c->e[c->n].aliases = xstrdup(e->aliases);
		c->e[c->n].number = e->number;
		c->e[c->n].line = e->line;
		c->n++;
	}
	return 0;
}

static void
rcoll_free(struct rcoll *c)
{
	int i;

	for (i = 0; i < c->n; i++) {
		free(c->e[i].name);
		free(c->e[i].aliases);
	}
	memset(c, 0, sizeof *c);
}

static void
check_rpc(const struct rcoll *c, int i, const char *name, long number,
    const char *aliases, unsigned line)
{
	assert_true(i < c->n);
	assert_string_equal(c->e[i].name, name);
	assert_int_equal(c->e[i].number, number);
	assert_string_equal(c->e[i].aliases, aliases);
	assert_int_equal(c->e[i].line, line);
}

static void
test_rpc_good(void **state)
{
	static const char text[] =
	    "# This file contains user readable names\n"	     /* 1 */
	    "\n"						     /* 2 */
	    "portmapper\t100000\tportmap sunrpc rpcbind\n"	     /* 3 */
	    "ypbind\t\t100007\n"				     /* 4 */
	    "rstatd 100001 rstat rup perfmeter rstat_svc\t# stats\n" /* 5 */
	    "big 4294967295\r\n"				     /* 6 */
	    "zero 0 # nothing\n"				     /* 7 */
	    "x25.inr\t\t100022";				     /* 8 */
	struct rcoll c = { 0 };

	(void)state;
	assert_int_equal(pdx_rpcnames_parse(text, sizeof text - 1, "rpc",
			     rpc_collect, &c),
	    6);
	check_rpc(&c, 0, "portmapper", 100000, "portmap sunrpc rpcbind", 3);
	check_rpc(&c, 1, "ypbind", 100007, "", 4);
	check_rpc(&c, 2, "rstatd", 100001, "rstat rup perfmeter rstat_svc", 5);
	check_rpc(&c, 3, "big", 4294967295L, "", 6);
	check_rpc(&c, 4, "zero", 0, "", 7);
	check_rpc(&c, 5, "x25.inr", 100022, "", 8);
	rcoll_free(&c);
}

static void
expect_rpc_error(const char *s, size_t len, const char *prefix, const char *has)
{
	struct rcoll c = { 0 };
	long n = pdx_rpcnames_parse(s, len, "rpc", rpc_collect, &c);

	rcoll_free(&c);
	if (n != -1)
		fail_msg("'%.60s' accepted (%ld entries)", s, n);
	assert_error_starts(prefix);
	assert_error_has(has);
}

#define RPC_BAD(lit, prefix, has) \
	expect_rpc_error((lit), sizeof(lit) - 1, (prefix), (has))

static void
test_rpc_bad(void **state)
{
	char *s;
	size_t n;

	(void)state;
	RPC_BAD("# c\nfoo abc\n", "rpc:2:", "abc");
	RPC_BAD("foo -1\n", "rpc:1:", "-1");
	RPC_BAD("foo 4294967296\n", "rpc:1:", "4294967296");
	RPC_BAD("foo 1.5 alias\n", "rpc:1:", "1.5");
	RPC_BAD("foo 0x10\n", "rpc:1:", "0x10");
	RPC_BAD("ok 1\nfoo\n", "rpc:2:", "number");
	RPC_BAD("foo # 100000\n", "rpc:1:", "number");
	RPC_BAD("ok 1\nfoo 10\0"
		"0\n",
	    "rpc:2:", "NUL");

	s = malloc(TEN_MB + 64);
	assert_non_null(s);
	n = (size_t)sprintf(s, "ok 1\nfoo 100000 ");
	memset(s + n, 'a', TEN_MB);
	expect_rpc_error(s, n + TEN_MB, "rpc:2:", "longer");
	free(s);
}

/* ---- the real IANA file ---------------------------------------------- */

/*
 * An independent reading of RFC 4180, kept deliberately simple: records
 * of fields, quotes doubled inside quoted fields, LF or CRLF between
 * records.  It records each record's first line and whether any field
 * holds a newline.
 */
struct rec {
	char *f[PDX_NCOLS + 4];
	int nf;
	unsigned line;
	int has_nl;
};

static size_t
scan_records(const char *p, size_t len, struct rec **out)
{
	struct rec *v = NULL;
	size_t n = 0, cap = 0, i = 0;
	unsigned line = 1;
	char *fld = malloc(len + 1);

	assert_non_null(fld);
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		struct rec r = { .line = line };

		for (;;) {
			size_t fl = 0;

			if (i < len && p[i] == '"') {
				for (i++; i < len; i++) {
					if (p[i] == '"' && i + 1 < len &&
					    p[i + 1] == '"')
						fld[fl++] = p[i++];
					else if (p[i] == '"')
						break;
					else {
						if (p[i] == '\n') {
							line++;
							r.has_nl = 1;
						}
						fld[fl++] = p[i];
					}
				}
				assert_true(i < len); /* closing quote */
				i++;
			} else {
				while (i < len && p[i] != ',' && p[i] != '\n' &&
				    p[i] != '\r')
					fld[fl++] = p[i++];
			}
			fld[fl] = '\0';
			assert_true(r.nf < PDX_NCOLS + 4);
			r.f[r.nf++] = xstrdup(fld);
			if (i < len && p[i] == ',') {
				i++;
				continue;
			}
			if (i < len && p[i] == '\r')
				i++;
			if (i < len && p[i] == '\n') {
				i++;
				line++;
			}
			break;
		}
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof *v);
			assert_non_null(v);
		}
		v[n++] = r;
	}
	free(fld);
	*out = v;
	return n;
}

struct realcmp {
	struct rec *recs;
	size_t nrecs;
	size_t next; /* index of the next expected record */
	char err[512];
	struct irow first, last;
};

static int
real_compare(const struct pdx_iana_row *row, void *arg)
{
	struct realcmp *rc = arg;
	struct rec *r;
	int i;

	if (rc->next >= rc->nrecs) {
		snprintf(rc->err, sizeof rc->err, "more rows than records");
		return 1;
	}
	r = &rc->recs[rc->next];
	if (r->nf != PDX_NCOLS) {
		snprintf(rc->err, sizeof rc->err,
		    "record at line %u has %d "
		    "fields",
		    r->line, r->nf);
		return 1;
	}
	if (row->line != r->line) {
		snprintf(rc->err, sizeof rc->err,
		    "row %zu: line %u, scanner "
		    "says %u",
		    rc->next, row->line, r->line);
		return 1;
	}
	for (i = 0; i < PDX_NCOLS; i++)
		if (strcmp(row->f[i], r->f[i]) != 0) {
			snprintf(rc->err, sizeof rc->err,
			    "line %u column "
			    "%d: '%.100s' vs '%.100s'",
			    r->line, i + 1, row->f[i], r->f[i]);
			return 1;
		}
	/* Keep copies of the first and last rows for the explicit checks. */
	if (rc->next == 1 || rc->next == rc->nrecs - 1) {
		struct irow *k = rc->next == 1 ? &rc->first : &rc->last;

		for (i = 0; i < PDX_NCOLS; i++)
			k->f[i] = xstrdup(row->f[i]);
		k->line = row->line;
		k->lo = row->port_lo;
		k->hi = row->port_hi;
		k->proto = row->proto;
	}
	rc->next++;
	return 0;
}

static char *
read_raw(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long sz;

	if (f == NULL)
		fail_msg("cannot open %s (set PDX_SHARED)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz > 0);
	rewind(f);
	buf = malloc((size_t)sz + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	buf[sz] = '\0';
	*len = (size_t)sz;
	return buf;
}

/* Expects f to be the scanner's view of a port field "N" or "N-M". */
static void
check_ports(const struct irow *r, const char *field)
{
	long lo = -1, hi = -1;
	char *end;

	if (*field != '\0') {
		lo = hi = strtol(field, &end, 10);
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		assert_int_equal(*end, '\0');
	}
	assert_int_equal(r->lo, lo);
	assert_int_equal(r->hi, hi);
}

static void
test_iana_real_file(void **state)
{
	const char *rel = "data/iana/service-names-port-numbers.csv";
	const char *shared = getenv("PDX_SHARED");
	const char *src = getenv("PDX_SRCDIR");
	struct realcmp rc;
	char path[1024];
	char *buf;
	size_t len, i, multi = 0;
	long rows;
	int j;

	(void)state;
	if (shared != NULL && *shared != '\0')
		snprintf(path, sizeof path, "%s/%s", shared, rel);
	else
		snprintf(path, sizeof path, "%s/../shared/%s",
		    src != NULL && *src != '\0' ? src : PDX_SRCDIR, rel);
	buf = read_raw(path, &len);

	memset(&rc, 0, sizeof rc);
	rc.nrecs = scan_records(buf, len, &rc.recs);
	/* The scanner's own view: the header, then 14,500 rows. */
	assert_true(rc.nrecs > 1);
	assert_int_equal(rc.recs[0].nf, PDX_NCOLS);
	for (j = 0; j < PDX_NCOLS; j++)
		assert_string_equal(rc.recs[0].f[j], pdx_iana_header[j]);
	for (i = 1; i < rc.nrecs; i++)
		if (rc.recs[i].has_nl)
			multi++;
	assert_int_equal(rc.nrecs - 1, 14500);
	assert_int_equal(multi, 444);

	/* The library must see exactly the same rows, fields and lines. */
	rc.next = 1;
	rows = pdx_iana_parse(buf, len, path, real_compare, &rc);
	if (rc.err[0] != '\0')
		fail_msg("%s", rc.err);
	if (rows < 0)
		fail_msg("parse failed: %s", pdx_last_error());
	assert_int_equal(rows, 14500);
	assert_int_equal(rc.next, rc.nrecs);

	/* First and last rows as they are in the file. */
	for (j = 0; j < PDX_NCOLS; j++) {
		assert_string_equal(rc.first.f[j], rc.recs[1].f[j]);
		assert_string_equal(rc.last.f[j], rc.recs[rc.nrecs - 1].f[j]);
	}
	assert_int_equal(rc.first.line, 2);
	assert_int_equal(rc.last.line, rc.recs[rc.nrecs - 1].line);
	check_ports(&rc.first, rc.recs[1].f[PDX_COL_PORT]);
	check_ports(&rc.last, rc.recs[rc.nrecs - 1].f[PDX_COL_PORT]);
	assert_int_equal(rc.first.proto,
	    pdx_proto_parse(rc.recs[1].f[PDX_COL_PROTO]));
	assert_int_equal(rc.last.proto,
	    pdx_proto_parse(rc.recs[rc.nrecs - 1].f[PDX_COL_PROTO]));

	for (j = 0; j < PDX_NCOLS; j++) {
		free(rc.first.f[j]);
		free(rc.last.f[j]);
	}
	for (i = 0; i < rc.nrecs; i++)
		for (j = 0; j < rc.recs[i].nf; j++)
			free(rc.recs[i].f[j]);
	free(rc.recs);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iana_header_constant),
		cmocka_unit_test(test_iana_all_fields),
		cmocka_unit_test(test_iana_quoting),
		cmocka_unit_test(test_iana_multiline),
		cmocka_unit_test(test_iana_crlf_bom),
		cmocka_unit_test(test_iana_ports_and_transports),
		cmocka_unit_test(test_iana_status),
		cmocka_unit_test(test_iana_status_direct),
		cmocka_unit_test(test_iana_callback_stops),
		cmocka_unit_test(test_iana_bad_header),
		cmocka_unit_test(test_iana_malformed),
		cmocka_unit_test(test_iana_nul),
		cmocka_unit_test(test_iana_huge_line),
		cmocka_unit_test(test_services_good),
		cmocka_unit_test(test_services_bad),
		cmocka_unit_test(test_services_huge_line),
		cmocka_unit_test(test_nmap_good),
		cmocka_unit_test(test_nmap_bad),
		cmocka_unit_test(test_rpc_good),
		cmocka_unit_test(test_rpc_bad),
		cmocka_unit_test(test_iana_real_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
