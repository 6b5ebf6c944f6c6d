/*
 * test_annotate.c - unit tests for the line parsers of lib/annotate.c:
 * each parser on lines of its format (written here from the formats'
 * documentation) gives the ports, transports, roles and byte spans it
 * should, and says -1 to lines of other formats; pdx_lineparse tries them
 * in order and keeps the Zeek header's state; the generic fallback can be
 * turned off; service names are resolved through the callback only.  What
 * is known of a port (lib/annotate-db.c) is the CLI test's
 * (tests/cli/test-annotate.sh), which has a registry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "portdex.h"
#include "portdex/annotate.h"

static struct pdx_port_hit hits[PDX_ANNOTATE_MAXHITS];

/* Runs format f's parser on s; returns its result. */
static int
run(int f, struct pdx_lineparser *ps, const char *s)
{
	memset(hits, 0xa5, sizeof hits);
	return pdx_line_parser(f)(ps, s, strlen(s), hits, PDX_ANNOTATE_MAXHITS);
}

/* Hit i is port/proto in role, and its span in s is text. */
static void
hit_is(const char *s, int i, unsigned port, int proto, int role,
    const char *text)
{
	assert_int_equal(hits[i].port, port);
	assert_int_equal(hits[i].proto, proto);
	assert_int_equal(hits[i].role, role);
	assert_int_equal(hits[i].len, strlen(text));
	assert_true(hits[i].off + hits[i].len <= strlen(s));
	assert_memory_equal(s + hits[i].off, text, strlen(text));
}

static void
test_kernel(void **st)
{
	struct pdx_lineparser ps;
	const char *ufw =
	    "Dec  4 18:01:02 gw kernel: [UFW BLOCK] IN=eth0 "
	    "OUT= MAC=52:54:00:12:34:56 SRC=198.51.100.7 DST=192.0.2.10 "
	    "LEN=60 TTL=52 ID=4242 DF PROTO=TCP SPT=51514 DPT=22 "
	    "WINDOW=64240 RES=0x00 SYN URGP=0";
	const char *fwd =
	    "kernel: FINAL_REJECT: IN=ens3 OUT= SRC=198.51.100.2 "
	    "DST=192.0.2.10 LEN=40 PROTO=UDP SPT=5353 DPT=53 LEN=20";
	const char *sctp = "IN=eth0 OUT= PROTO=SCTP SPT=5000 DPT=3868";
	const char *icmp =
	    "IN=eth0 OUT= SRC=10.0.0.2 DST=10.0.0.1 PROTO=ICMP "
	    "TYPE=3 CODE=3 [SRC=10.0.0.1 DST=10.0.0.2 PROTO=UDP SPT=53 "
	    "DPT=4000 ]";

	(void)st;
	pdx_lineparser_init(&ps);
	assert_int_equal(run(PDX_LF_KERNEL, &ps, ufw), 2);
	hit_is(ufw, 0, 51514, PDX_TCP, PDX_ROLE_SRC, "51514");
	hit_is(ufw, 1, 22, PDX_TCP, PDX_ROLE_DST, "22");
	assert_int_equal(run(PDX_LF_KERNEL, &ps, fwd), 2);
	hit_is(fwd, 1, 53, PDX_UDP, PDX_ROLE_DST, "53");
	assert_int_equal(run(PDX_LF_KERNEL, &ps, sctp), 2);
	hit_is(sctp, 1, 3868, PDX_SCTP, PDX_ROLE_DST, "3868");
	/* ICMP: the format, no port, not the quoted packet's */
	assert_int_equal(run(PDX_LF_KERNEL, &ps, icmp), 0);
	/* not this format: no IN=, a word that only ends in PROTO= */
	assert_int_equal(run(PDX_LF_KERNEL, &ps, "PROTO=TCP SPT=1 DPT=2"), -1);
	assert_int_equal(run(PDX_LF_KERNEL, &ps, "IN=x XPROTO=TCP SPT=1 DPT=2"),
	    -1);
	/* a port out of range is no port */
	assert_int_equal(run(PDX_LF_KERNEL, &ps,
			     "IN=x PROTO=TCP SPT=70000 DPT=22"),
	    1);
	hit_is("IN=x PROTO=TCP SPT=70000 DPT=22", 0, 22, PDX_TCP, PDX_ROLE_DST,
	    "22");
}

static void
test_json(void **st)
{
	struct pdx_lineparser ps;
	const char *eve =
	    "{\"timestamp\":\"2026-12-04T18:02:00.0+0000\","
	    "\"event_type\":\"alert\",\"src_ip\":\"198.51.100.7\",\"src_port\":"
	    "51515,\"dest_ip\":\"192.0.2.10\",\"dest_port\": 80,\"proto\":"
	    "\"TCP\"}";
	const char *zeek =
	    "{\"ts\":1.5,\"uid\":\"C1\",\"id.orig_h\":"
	    "\"192.0.2.1\","
	    "\"id.orig_p\":123,\"id.resp_h\":\"192.0.2.2\",\"id.resp_p\":123,"
	    "\"proto\":\"udp\"}";

	(void)st;
	pdx_lineparser_init(&ps);
	assert_int_equal(run(PDX_LF_SURICATA, &ps, eve), 2);
	hit_is(eve, 0, 51515, PDX_TCP, PDX_ROLE_SRC, "51515");
	hit_is(eve, 1, 80, PDX_TCP, PDX_ROLE_DST, "80");
	assert_int_equal(run(PDX_LF_ZEEK_JSON, &ps, eve), -1);
	assert_int_equal(run(PDX_LF_ZEEK_JSON, &ps, zeek), 2);
	hit_is(zeek, 1, 123, PDX_UDP, PDX_ROLE_DST, "123");
	assert_int_equal(run(PDX_LF_SURICATA, &ps, zeek), -1);
	/* ICMP: no ports; broken JSON and non-objects: not the format */
	assert_int_equal(run(PDX_LF_SURICATA, &ps,
			     "{\"src_port\":8,"
			     "\"dest_port\":0,\"proto\":\"ICMP\"}"),
	    0);
	assert_int_equal(run(PDX_LF_SURICATA, &ps, "{\"src_port\":1,"), -1);
	assert_int_equal(run(PDX_LF_SURICATA, &ps, "[\"src_port\"]"), -1);
	assert_int_equal(run(PDX_LF_SURICATA, &ps,
			     "{\"src_port\":\"x\",\"dest_port\":99999}"),
	    0);
}

static void
test_zeek_tsv(void **st)
{
	struct pdx_lineparser ps;
	const char *row = "1733335200.1\tC1\t192.0.2.10\t52000\t198.51.100.80"
			  "\t443\ttcp\tssl";
	int f;

	(void)st;
	pdx_lineparser_init(&ps);
	/* no #fields yet: a TSV line is nothing */
	assert_int_equal(run(PDX_LF_ZEEK_TSV, &ps, row), -1);
	assert_int_equal(pdx_lineparse(&ps, "#separator \\x09", 15, hits, 4,
			     &f),
	    0);
	assert_int_equal(f, PDX_LF_ZEEK_HEADER);
	assert_int_equal(ps.zeek_sep, '\t');
	assert_int_equal(
	    run(PDX_LF_ZEEK_HEADER, &ps,
		"#fields\tts\tuid\t"
		"id.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice"),
	    0);
	assert_int_equal(ps.zeek_orig, 3);
	assert_int_equal(ps.zeek_resp, 5);
	assert_int_equal(ps.zeek_proto, 6);
	assert_int_equal(pdx_lineparse(&ps, row, strlen(row), hits, 4, &f), 2);
	assert_int_equal(f, PDX_LF_ZEEK_TSV);
	hit_is(row, 0, 52000, PDX_TCP, PDX_ROLE_SRC, "52000");
	hit_is(row, 1, 443, PDX_TCP, PDX_ROLE_DST, "443");
	/* icmp: the format, no port; "-" or too few columns: not it */
	assert_int_equal(run(PDX_LF_ZEEK_TSV, &ps, "1\tC\ta\t8\tb\t0\ticmp"),
	    0);
	assert_int_equal(run(PDX_LF_ZEEK_TSV, &ps, "1\tC\ta\t-\tb\t0\ttcp"),
	    -1);
	assert_int_equal(run(PDX_LF_ZEEK_TSV, &ps, "1\tC\ta\t8"), -1);
	/* a '#' line that is not Zeek's */
	assert_int_equal(run(PDX_LF_ZEEK_HEADER, &ps, "# Nmap 7.93 scan"), -1);
}

/* A resolver that knows "ssh" (22) and "https" (443) only. */
static int
resolve(const char *name, int proto, void *arg)
{
	(*(int *)arg)++;
	(void)proto;
	if (strcmp(name, "ssh") == 0)
		return 22;
	if (strcmp(name, "https") == 0)
		return 443;
	return -1;
}

static void
test_sockets(void **st)
{
	struct pdx_lineparser ps;
	const char *ss = "tcp   ESTAB  0  0  192.0.2.10:22  198.51.100.7:51514 "
			 "users:((\"sshd\",pid=1500,fd=4))";
	const char *ss2 = "UNCONN 0 0 [::]:5353 [::]:*";
	const char *ns = "tcp6  0  0 :::443   :::*   LISTEN  900/nginx";
	const char *ns2 = "tcp 0 0 0.0.0.0:ssh 0.0.0.0:* LISTEN 812/sshd";
	const char *lsof =
	    "firefox 4242 alice 98u IPv4 880011 0t0 TCP "
	    "192.0.2.10:51600->198.51.100.80:https (ESTABLISHED)";
	int calls = 0;

	(void)st;
	pdx_lineparser_init(&ps);
	assert_int_equal(run(PDX_LF_SS, &ps, ss), 2);
	hit_is(ss, 0, 22, PDX_TCP, PDX_ROLE_LOCAL, "22");
	hit_is(ss, 1, 51514, PDX_TCP, PDX_ROLE_PEER, "51514");
	assert_int_equal(run(PDX_LF_SS, &ps, ss2), 1);
	hit_is(ss2, 0, 5353, PDX_UDP, PDX_ROLE_LOCAL, "5353");
	assert_int_equal(run(PDX_LF_SS, &ps, ns), -1);
	assert_int_equal(run(PDX_LF_NETSTAT, &ps, ns), 1);
	hit_is(ns, 0, 443, PDX_TCP, PDX_ROLE_LOCAL, "443");
	assert_int_equal(run(PDX_LF_NETSTAT, &ps, ss), -1);
	/* names: only through the resolver */
	assert_int_equal(run(PDX_LF_NETSTAT, &ps, ns2), 0);
	ps.resolve = resolve;
	ps.resolve_arg = &calls;
	assert_int_equal(run(PDX_LF_NETSTAT, &ps, ns2), 1);
	hit_is(ns2, 0, 22, PDX_TCP, PDX_ROLE_LOCAL, "ssh");
	assert_int_equal(run(PDX_LF_LSOF, &ps, lsof), 2);
	hit_is(lsof, 0, 51600, PDX_TCP, PDX_ROLE_LOCAL, "51600");
	hit_is(lsof, 1, 443, PDX_TCP, PDX_ROLE_PEER, "https");
	assert_true(calls >= 2);
	assert_int_equal(run(PDX_LF_LSOF, &ps,
			     "sshd 812 root 3u IPv4 18123 "
			     "0t0 TCP *:nosuchname (LISTEN)"),
	    0);
	assert_int_equal(run(PDX_LF_LSOF, &ps, ss), -1);
}

static void
test_nmap(void **st)
{
	struct pdx_lineparser ps;
	const char *g =
	    "Host: 192.0.2.10 ()\tPorts: 22/open/tcp//ssh//OpenSSH "
	    "9.2p1/, 161/open|filtered/udp//snmp///\tIgnored State: closed "
	    "(998)";
	const char *n = "443/tcp  filtered      https";

	(void)st;
	pdx_lineparser_init(&ps);
	assert_int_equal(run(PDX_LF_NMAP_GREP, &ps, g), 2);
	hit_is(g, 0, 22, PDX_TCP, PDX_ROLE_SCANNED, "22");
	hit_is(g, 1, 161, PDX_UDP, PDX_ROLE_SCANNED, "161");
	assert_int_equal(run(PDX_LF_NMAP_GREP, &ps,
			     "Host: 192.0.2.10 ()\tStatus: Up"),
	    0);
	assert_int_equal(run(PDX_LF_NMAP, &ps, n), 1);
	hit_is(n, 0, 443, PDX_TCP, PDX_ROLE_SCANNED, "443");
	assert_int_equal(run(PDX_LF_NMAP, &ps,
			     "Discovered open port 3306/tcp on 192.0.2.10"),
	    1);
	assert_int_equal(hits[0].port, 3306);
	assert_int_equal(run(PDX_LF_NMAP, &ps, "22/tcp is nice"), -1);
	assert_int_equal(run(PDX_LF_NMAP, &ps, "PORT STATE SERVICE"), -1);
}

static void
test_generic(void **st)
{
	struct pdx_lineparser ps;
	const char *a = "Accepted publickey for alice from 198.51.100.7 port "
			"51514 ssh2";
	const char *b = "upstream: \"http://127.0.0.1:8080/\" and [2001:db8::1]"
			":9090 and localhost:5432 and 53/udp";
	const char *c = "12:34:56 52:54:00:12:34:56 1.2.3.4:99999 1.2.3:80 "
			"v1.2.3.4:80";
	int f;

	(void)st;
	pdx_lineparser_init(&ps);
	assert_int_equal(run(PDX_LF_GENERIC, &ps, a), 1);
	hit_is(a, 0, 51514, 0, PDX_ROLE_NONE, "51514");
	assert_int_equal(run(PDX_LF_GENERIC, &ps, b), 4);
	hit_is(b, 0, 8080, 0, PDX_ROLE_NONE, "8080");
	hit_is(b, 1, 9090, 0, PDX_ROLE_NONE, "9090");
	hit_is(b, 2, 5432, 0, PDX_ROLE_NONE, "5432");
	hit_is(b, 3, 53, PDX_UDP, PDX_ROLE_NONE, "53");
	assert_int_equal(run(PDX_LF_GENERIC, &ps, c), -1);
	ps.generic = 0;
	assert_int_equal(run(PDX_LF_GENERIC, &ps, a), -1);
	assert_int_equal(pdx_lineparse(&ps, a, strlen(a), hits, 4, &f), 0);
	assert_int_equal(f, PDX_LF_NONE);
}

static void
test_dispatch(void **st)
{
	struct pdx_lineparser ps;
	const char nul[] = "IN=eth0 \0 PROTO=TCP SPT=1 DPT=22";
	int f, i;

	(void)st;
	pdx_lineparser_init(&ps);
	/* max bounds the hits written */
	memset(hits, 0xa5, sizeof hits);
	assert_int_equal(pdx_lineparse(&ps, "IN=x PROTO=TCP SPT=1 DPT=2", 26,
			     hits, 1, &f),
	    1);
	assert_int_equal(f, PDX_LF_KERNEL);
	assert_int_equal(hits[1].port, 0xa5a5a5a5u);
	/* a NUL is a byte like another; the length is what counts */
	assert_int_equal(pdx_lineparse(&ps, nul, sizeof nul - 1, hits, 4, &f),
	    2);
	assert_int_equal(hits[1].port, 22);
	assert_int_equal(pdx_lineparse(&ps, "", 0, hits, 4, &f), 0);
	assert_int_equal(f, PDX_LF_NONE);
	for (i = PDX_LF_NONE + 1; i < PDX_LF_COUNT; i++) {
		assert_non_null(pdx_line_parser(i));
		assert_true(*pdx_line_format_name(i) != '\0');
	}
	assert_null(pdx_line_parser(PDX_LF_NONE));
	assert_null(pdx_line_parser(PDX_LF_COUNT));
	assert_string_equal(pdx_port_role_name(PDX_ROLE_DST), "dst");
	assert_string_equal(pdx_port_role_name(99), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_zeek_tsv),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_nmap),
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
