/*
 * test_why.c - unit tests for lib/why.c (pdx_why): bad options, and the
 * answer about ports this test holds itself on loopback with plain
 * socket calls written here - a TCP listener (held: EADDRINUSE predicted
 * and confirmed by bind), a UDP socket (only UDP blocked), two
 * SO_REUSEPORT listeners (a group of two), and a port nothing holds;
 * the DNAT check answers (ok, or not_checked with the reason).
 * Namespaces, TIME_WAIT and unprivileged callers are the CLI test's
 * (tests/cli/test-why.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "portdex.h"
#include "portdex/why.h"

/* Binds 127.0.0.1:port (listening for TCP); -1 when it cannot. */
static int
hold(int type, unsigned port, int reuseport)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if ((fd = socket(AF_INET, type, 0)) < 0)
		return -1;
	if (reuseport)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
		    sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 1) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A port from base on that this test can hold for TCP and UDP. */
static unsigned
free_port(unsigned base)
{
	unsigned p;

	for (p = base; p < base + 200; p++) {
		int a = hold(SOCK_STREAM, p, 0), b = hold(SOCK_DGRAM, p, 0);

		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
		if (a >= 0 && b >= 0)
			return p;
	}
	return 0;
}

static json_t *
why(unsigned port, int protos, int try_bind)
{
	struct pdx_why_opts o;
	json_t *r;

	memset(&o, 0, sizeof o);
	o.port = port;
	o.protos = protos;
	o.families = PDX_FAM_INET4;
	o.try_bind = try_bind;
	if ((r = pdx_why(&o)) == NULL)
		fail_msg("pdx_why: %s", pdx_last_error());
	return r;
}

/* The effect of the first finding of check for transport (or any). */
static const char *
effect(json_t *r, const char *check, const char *transport)
{
	json_t *f = json_object_get(r, "findings");
	size_t i;

	for (i = 0; i < json_array_size(f); i++) {
		json_t *e = json_array_get(f, i);
		const char *t = json_string_value(
		    json_object_get(e, "transport"));

		if (strcmp(json_string_value(json_object_get(e, "check")),
			check) == 0 &&
		    (transport == NULL || t == NULL ||
			strcmp(t, transport) == 0))
			return json_string_value(json_object_get(e, "effect"));
	}
	return "";
}

static void
test_why_errors(void **state)
{
	struct pdx_why_opts o;

	(void)state;
	memset(&o, 0, sizeof o);
	assert_null(pdx_why(&o));
	assert_non_null(strstr(pdx_last_error(), "port 0"));
	o.port = 65536;
	assert_null(pdx_why(&o));
	o.port = 80;
	o.protos = PDX_SCTP;
	assert_null(pdx_why(&o));
	assert_non_null(strstr(pdx_last_error(), "tcp and udp"));
	o.protos = 0;
	o.netns = "x";
	o.all_netns = 1;
	assert_null(pdx_why(&o));
	o.all_netns = 0;
	o.netns = "../etc";
	assert_null(pdx_why(&o));
}

static void
test_why_held(void **state)
{
	unsigned p = free_port(27300);
	json_t *r, *h, *d;
	int fd = -1;

	(void)state;
	if (p == 0 || (fd = hold(SOCK_STREAM, p, 0)) < 0)
		skip();
	/* explanation only, then confirmed by real binds */
	r = why(p, PDX_TCP, 0);
	assert_true(json_is_false(json_object_get(r, "would_bind")));
	assert_string_equal(json_string_value(
				json_object_get(r, "verdict_from")),
	    "explanation");
	assert_string_equal(json_string_value(json_object_get(r, "errno")),
	    "EADDRINUSE");
	assert_int_equal(json_array_size(json_object_get(r, "binds")), 0);
	h = json_object_get(r, "holders");
	assert_int_equal(json_array_size(h), 1);
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(h, 0), "pid")),
	    getpid());
	assert_true(json_is_null(
	    json_object_get(json_array_get(h, 0), "reuseport_group")));
	assert_string_equal(effect(r, "held", "tcp"), "blocks");
	/* the DNAT check: "ok" (nothing captures a port this test just
	 * found free) when the ruleset was read, else "not_checked" with
	 * the reason; never silent */
	d = json_object_get(r, "dnat");
	assert_true(json_is_boolean(json_object_get(d, "checked")));
	assert_string_equal(effect(r, "dnat", NULL),
	    json_is_true(json_object_get(d, "checked")) ? "ok" : "not_checked");
	assert_int_equal(json_array_size(json_object_get(d, "captures")), 0);
	assert_non_null(json_string_value(json_object_get(d, "text")));
	json_decref(r);
	r = why(p, PDX_TCP, 1);
	assert_string_equal(json_string_value(
				json_object_get(r, "verdict_from")),
	    "bind");
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(r, "binds"), 0),
				"errno")),
	    "EADDRINUSE");
	/* a listener: SO_REUSEADDR does not get through either */
	assert_true(json_is_false(
	    json_object_get(json_array_get(json_object_get(r, "binds"), 1),
		"ok")));
	json_decref(r);
	/* UDP is another port space */
	r = why(p, PDX_UDP, 1);
	assert_true(json_is_true(json_object_get(r, "would_bind")));
	assert_string_equal(effect(r, "held", "udp"), "ok");
	json_decref(r);
	close(fd);
	r = why(p, PDX_TCP, 1);
	assert_true(json_is_true(json_object_get(r, "would_bind")));
	assert_int_equal(json_array_size(json_object_get(r, "holders")), 0);
	json_decref(r);
}

static void
test_why_udp_and_group(void **state)
{
	unsigned p = free_port(27600);
	json_t *r, *h;
	int a = -1, b = -1;

	(void)state;
	if (p == 0 || (a = hold(SOCK_DGRAM, p, 0)) < 0)
		skip();
	r = why(p, 0, 1);
	assert_true(json_is_false(json_object_get(r, "would_bind")));
	assert_string_equal(effect(r, "held", "udp"), "blocks");
	assert_string_equal(effect(r, "held", "tcp"), "ok");
	json_decref(r);
	close(a);

	if ((a = hold(SOCK_STREAM, p, 1)) < 0)
		skip();
	if ((b = hold(SOCK_STREAM, p, 1)) < 0) {
		close(a);
		skip();
	}
	r = why(p, PDX_TCP, 1);
	h = json_object_get(r, "holders");
	assert_int_equal(json_array_size(h), 2);
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(h, 0),
				 "reuseport_group")),
	    2);
	assert_string_equal(effect(r, "reuseport", "tcp"), "info");
	json_decref(r);
	close(a);
	close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_why_errors),
		cmocka_unit_test(test_why_held),
		cmocka_unit_test(test_why_udp_and_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
