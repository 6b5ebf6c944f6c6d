/*
 * test_sockets.c - unit tests of local sockets: the /proc/net line parser
 * and the netlink reply parser (good input, every truncation, crafted bad
 * messages, random damage: they must reject, never crash), the port
 * bytecode (run through a model of the kernel's audit and interpreter),
 * the cgroup parser, the /proc fd walk on a fake /proc, and a live socket
 * of this process found by both backends.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "portdex.h"
#include "sockets-int.h"

static uint32_t rng = 0x2545F491;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* ---- /proc/net lines --------------------------------------------------- */

/* Writes a line the way the kernel's tcp4_seq_show/tcp6 code does. */
static int
make_proc_line(char *buf, size_t size, int family, const uint8_t *la,
    unsigned lp, const uint8_t *ra, unsigned rp, unsigned st, unsigned uid,
    unsigned long ino)
{
	char l[40], r[40];
	uint32_t w[4];
	int i, words = family == AF_INET ? 1 : 4;

	for (i = 0; i < words; i++) {
		memcpy(&w[i], la + 4 * i, 4);
		sprintf(l + 8 * i, "%08X", w[i]);
		memcpy(&w[i], ra + 4 * i, 4);
		sprintf(r + 8 * i, "%08X", w[i]);
	}
	return snprintf(buf, size,
	    "%4d: %s:%04X %s:%04X %02X %08X:%08X "
	    "%02X:%08lX %08X %5u %8d %lu 1 0000000000000000 100 0 0 10 0\n",
	    7, l, lp, r, rp, st, 3, 5, 0, 0UL, 0, uid, 0, ino);
}

static void
proc_good_lines(void **state)
{
	struct pdx_socket s;
	uint8_t la[16], ra[16];
	char line[512];
	int i, j, fam, len;

	for (i = 0; i < 2000; i++) {
		fam = i & 1 ? AF_INET6 : AF_INET;
		for (j = 0; j < 16; j++) {
			la[j] = (uint8_t)rnd();
			ra[j] = (uint8_t)rnd();
		}
		unsigned lp = rnd() & 0xffff, rp = rnd() & 0xffff;
		unsigned st = 1 + rnd() % 11, uid = rnd() % 100000;
		unsigned long ino = rnd();

		len = make_proc_line(line, sizeof line, fam, la, lp, ra, rp, st,
		    uid, ino);
		assert_int_equal(pdx_proc_net_parse_line(line, (size_t)len, fam,
				     PDX_TCP, &s),
		    1);
		assert_int_equal(s.family, fam);
		assert_int_equal(s.proto, PDX_TCP);
		assert_memory_equal(s.laddr, la, fam == AF_INET ? 4 : 16);
		assert_memory_equal(s.raddr, ra, fam == AF_INET ? 4 : 16);
		assert_int_equal(s.lport, lp);
		assert_int_equal(s.rport, rp);
		assert_int_equal(s.state, st);
		assert_int_equal(s.uid, uid);
		assert_int_equal(s.inode, ino);
		assert_int_equal(s.wqueue, 3);
		assert_int_equal(s.rqueue, 5);
		assert_int_equal(s.v6only, -1);
	}
}

static void
proc_real_lines(void **state)
{
	static const char *const v4 =
	    "   0: 0100007F:0016 00000000:0000 0A "
	    "00000000:00000000 00:00000000 00000000     0        0 4242 1 "
	    "0000000000000000 100 0 0 10 0";
	static const char *const hdr =
	    "  sl  local_address rem_address   st "
	    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
	struct pdx_socket s;
	uint32_t w;
	uint8_t want[4];

	assert_int_equal(pdx_proc_net_parse_line(hdr, strlen(hdr), AF_INET,
			     PDX_TCP, &s),
	    0);
	assert_int_equal(pdx_proc_net_parse_line("", 0, AF_INET, PDX_TCP, &s),
	    0);
	assert_int_equal(pdx_proc_net_parse_line("  \n", 3, AF_INET, PDX_TCP,
			     &s),
	    0);
	assert_int_equal(pdx_proc_net_parse_line(v4, strlen(v4), AF_INET,
			     PDX_UDP, &s),
	    1);
	w = 0x0100007F;
	memcpy(want, &w, 4);
	assert_memory_equal(s.laddr, want, 4);
	assert_int_equal(s.lport, 22);
	assert_int_equal(s.state, PDX_SS_LISTEN);
	assert_int_equal(s.inode, 4242);
	assert_int_equal(s.proto, PDX_UDP);
	/* The same line read as IPv6 has the wrong address width. */
	assert_int_equal(pdx_proc_net_parse_line(v4, strlen(v4), AF_INET6,
			     PDX_TCP, &s),
	    -1);
}

static void
proc_bad_lines(void **state)
{
	static const char *const bad[] = {
		"   0: 0100007F:0016",
		"   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0",
		"   0 0100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   x: 0100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 0100007G:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 0100007F0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 0100007F:00016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 0100007F:0016 00000000:0000 00 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 0100007F:0016 00000000:0000 FF 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 0100007F:0016 00000000:0000 0A0 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 0100007F:0016 00000000:0000 0A 0000000000000000 "
		"00:00000000 00000000     0        0 1",
		"   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     -1        0 1",
		"   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     99999999999        0 1",
		"   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 12x",
		"   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 "
		"99999999999999999999999",
		"   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 0000000Z     0        0 1",
		"   0: :0016 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 1",
	};
	struct pdx_socket s;
	size_t i;
	char *copy;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* An exact-size copy: ASan sees any read past the end. */
		size_t n = strlen(bad[i]);

		copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, bad[i], n);
		if (pdx_proc_net_parse_line(copy, n, AF_INET, PDX_TCP, &s) !=
		    -1)
			fail_msg("accepted bad line %zu: %s", i, bad[i]);
		assert_true(strlen(pdx_last_error()) > 0);
		free(copy);
	}
	assert_int_equal(pdx_proc_net_parse_line(bad[0], strlen(bad[0]),
			     AF_UNIX, PDX_TCP, &s),
	    -1);
}

static void
proc_damage(void **state)
{
	struct pdx_socket s;
	uint8_t la[16] = { 127, 0, 0, 1 }, ra[16] = { 0 };
	char line[512], *copy;
	int len, i, k, rc;
	size_t cut, ino_at;

	len = make_proc_line(line, sizeof line, AF_INET6, la, 80, ra, 0, 10, 0,
	    99);
	assert_non_null(strstr(line, " 99 "));
	ino_at = (size_t)(strstr(line, " 99 ") - line) + 1;
	/*
	 * Every truncation: a line is taken only once it reaches the inode
	 * (a cut inside it reads as a shorter number, as the format allows).
	 */
	for (cut = 0; cut <= (size_t)len; cut++) {
		copy = malloc(cut + 1);
		assert_non_null(copy);
		memcpy(copy, line, cut);
		rc = pdx_proc_net_parse_line(copy, cut, AF_INET6, PDX_TCP, &s);
		assert_int_equal(rc,
		    cut > ino_at		   ? 1
			: cut <= strspn(line, " ") ? 0
						   : -1);
		if (rc == 1)
			assert_int_equal(s.inode, cut == ino_at + 1 ? 9 : 99);
		free(copy);
	}
	/* Random byte damage never crashes and never invents fields. */
	for (i = 0; i < 20000; i++) {
		copy = malloc((size_t)len);
		assert_non_null(copy);
		memcpy(copy, line, (size_t)len);
		for (k = 0; k < 1 + (int)(rnd() % 4); k++)
			copy[rnd() % (unsigned)len] = (char)rnd();
		rc = pdx_proc_net_parse_line(copy, (size_t)len, AF_INET6,
		    PDX_TCP, &s);
		assert_true(rc >= -1 && rc <= 1);
		if (rc == 1) {
			assert_true(s.state > 0 && s.state < PDX_SS_MAX);
			assert_true(s.lport <= 0xffff);
		}
		free(copy);
	}
}

/* ---- netlink replies --------------------------------------------------- */

struct msgbuf {
	unsigned char b[4096] __attribute__((aligned(8)));
	size_t len;
};

static struct nlmsghdr *
put_msg(struct msgbuf *m, uint16_t type, size_t payload)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(m->b + m->len);

	memset(h, 0, NLMSG_SPACE(payload));
	h->nlmsg_len = (uint32_t)NLMSG_LENGTH(payload);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_MULTI;
	m->len += NLMSG_SPACE(payload);
	return h;
}

/* One socket message with an optional v6only attribute. */
static void
put_sock(struct msgbuf *m, int family, const char *addr, unsigned port,
    unsigned state, unsigned uid, unsigned ino, int v6only)
{
	size_t plen = NLMSG_ALIGN(sizeof(struct inet_diag_msg)) +
	    (v6only >= 0 ? NLA_ALIGN(NLA_HDRLEN + 1) : 0);
	struct nlmsghdr *h = put_msg(m, SOCK_DIAG_BY_FAMILY, plen);
	struct inet_diag_msg *d = NLMSG_DATA(h);
	struct nlattr *a;

	d->idiag_family = (uint8_t)family;
	d->idiag_state = (uint8_t)state;
	d->id.idiag_sport = htons((uint16_t)port);
	inet_pton(family, addr, d->id.idiag_src);
	d->idiag_uid = uid;
	d->idiag_inode = ino;
	if (v6only >= 0) {
		a = (struct nlattr *)((unsigned char *)d +
		    NLMSG_ALIGN(sizeof *d));
		a->nla_len = NLA_HDRLEN + 1;
		a->nla_type = INET_DIAG_SKV6ONLY;
		*((unsigned char *)a + NLA_HDRLEN) = (unsigned char)v6only;
	}
}

static void
put_done(struct msgbuf *m)
{
	put_msg(m, NLMSG_DONE, sizeof(int));
}

static int
parse(const void *b, size_t len, struct pdx_socket **v, size_t *n)
{
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	return pdx_diag_parse(b, len, PDX_TCP, NULL, v, n, &cap);
}

static void
diag_good(void **state)
{
	struct msgbuf m = { .len = 0 };
	struct pdx_socket *v;
	size_t n;

	put_sock(&m, AF_INET, "127.0.0.1", 8080, PDX_SS_LISTEN, 1000, 77, -1);
	put_sock(&m, AF_INET6, "::", 443, PDX_SS_LISTEN, 0, 78, 0);
	put_sock(&m, AF_INET6, "::1", 53, PDX_SS_CLOSE, 5, 79, 1);
	assert_int_equal(parse(m.b, m.len, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].local, "127.0.0.1");
	assert_int_equal(v[0].lport, 8080);
	assert_int_equal(v[0].uid, 1000);
	assert_int_equal(v[0].inode, 77);
	assert_int_equal(v[0].v6only, -1);
	assert_string_equal(v[1].local, "::");
	assert_int_equal(v[1].v6only, 0);
	assert_int_equal(v[2].v6only, 1);
	assert_int_equal(v[2].state, PDX_SS_CLOSE);
	pdx_sockets_free(v, n);
	put_done(&m);
	assert_int_equal(parse(m.b, m.len, &v, &n), 1);
	assert_int_equal(n, 3);
	pdx_sockets_free(v, n);

	/* The same bytes at an odd address. */
	{
		unsigned char *odd = malloc(m.len + 1);

		assert_non_null(odd);
		memcpy(odd + 1, m.b, m.len);
		assert_int_equal(parse(odd + 1, m.len, &v, &n), 1);
		assert_int_equal(n, 3);
		pdx_sockets_free(v, n);
		free(odd);
	}
}

static void
diag_truncated(void **state)
{
	struct msgbuf m = { .len = 0 };
	struct pdx_socket *v;
	size_t n, cut, bounds[4], nb = 0;
	unsigned char *copy;
	int rc, k;

	put_sock(&m, AF_INET, "10.1.2.3", 1, PDX_SS_LISTEN, 0, 1, -1);
	bounds[nb++] = m.len;
	put_sock(&m, AF_INET6, "::1", 2, PDX_SS_LISTEN, 0, 2, 1);
	bounds[nb++] = m.len;
	put_done(&m);
	for (cut = 0; cut < m.len; cut++) {
		copy = malloc(cut ? cut : 1);
		assert_non_null(copy);
		memcpy(copy, m.b, cut);
		rc = parse(copy, cut, &v, &n);
		/* Only a cut between whole messages is not an error. */
		for (k = 0; k < (int)nb && bounds[k] != cut; k++)
			;
		if (cut == 0 || k < (int)nb)
			assert_int_equal(rc, 0);
		else {
			if (rc != -1)
				fail_msg("cut at %zu accepted", cut);
			assert_int_equal(errno, EBADMSG);
		}
		pdx_sockets_free(v, n);
		free(copy);
	}
}

static void
diag_crafted(void **state)
{
	struct msgbuf m;
	struct nlmsghdr *h;
	struct nlmsgerr *e;
	struct nlattr *a;
	struct pdx_socket *v;
	size_t n;

	/* nlmsg_len larger than the buffer. */
	m.len = 0;
	put_sock(&m, AF_INET, "1.2.3.4", 5, PDX_SS_LISTEN, 0, 1, -1);
	((struct nlmsghdr *)m.b)->nlmsg_len += 64;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	/* nlmsg_len smaller than a header. */
	((struct nlmsghdr *)m.b)->nlmsg_len = 8;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	/* A socket message too short for inet_diag_msg. */
	m.len = 0;
	put_msg(&m, SOCK_DIAG_BY_FAMILY, 12);
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	assert_int_equal(errno, EBADMSG);
	pdx_sockets_free(v, n);
	/* An unknown address family. */
	m.len = 0;
	put_sock(&m, AF_INET, "1.2.3.4", 5, PDX_SS_LISTEN, 0, 1, -1);
	((struct inet_diag_msg *)NLMSG_DATA((struct nlmsghdr *)m.b))
	    ->idiag_family = AF_UNIX;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	/* An attribute shorter than its header, then one past the end. */
	m.len = 0;
	put_sock(&m, AF_INET6, "::", 5, PDX_SS_LISTEN, 0, 1, 1);
	h = (struct nlmsghdr *)m.b;
	a = (struct nlattr *)((unsigned char *)NLMSG_DATA(h) +
	    NLMSG_ALIGN(sizeof(struct inet_diag_msg)));
	a->nla_len = 2;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	a->nla_len = 200;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	/* SKV6ONLY with no payload. */
	a->nla_len = NLA_HDRLEN;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	/* Stray bytes after the last message. */
	m.len = 0;
	put_sock(&m, AF_INET, "1.2.3.4", 5, PDX_SS_LISTEN, 0, 1, -1);
	m.len += 6;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	/* The kernel's "no such protocol" error, and a truncated error. */
	m.len = 0;
	h = put_msg(&m, NLMSG_ERROR, sizeof *e);
	e = NLMSG_DATA(h);
	e->error = -ENOENT;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	assert_int_equal(errno, ENOENT);
	pdx_sockets_free(v, n);
	e->error = 12345;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	assert_int_equal(errno, EBADMSG);
	pdx_sockets_free(v, n);
	h->nlmsg_len = NLMSG_LENGTH(2);
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	/* A dump the kernel marks as inconsistent. */
	m.len = 0;
	put_sock(&m, AF_INET, "1.2.3.4", 5, PDX_SS_LISTEN, 0, 1, -1);
	((struct nlmsghdr *)m.b)->nlmsg_flags |= NLM_F_DUMP_INTR;
	assert_int_equal(parse(m.b, m.len, &v, &n), -1);
	pdx_sockets_free(v, n);
	/* A state newer than we know is skipped, not an error. */
	m.len = 0;
	put_sock(&m, AF_INET, "1.2.3.4", 5, 200, 0, 1, -1);
	put_done(&m);
	assert_int_equal(parse(m.b, m.len, &v, &n), 1);
	assert_int_equal(n, 0);
	pdx_sockets_free(v, n);
	/* No buffer at all. */
	assert_int_equal(parse(NULL, 10, &v, &n), -1);
}

static void
diag_damage(void **state)
{
	struct msgbuf m = { .len = 0 }, c;
	struct pdx_socket *v;
	size_t n, i;
	int k, rc;

	put_sock(&m, AF_INET, "192.0.2.1", 25, PDX_SS_LISTEN, 0, 1, -1);
	put_sock(&m, AF_INET6, "2001:db8::1", 26, PDX_SS_LISTEN, 0, 2, 0);
	put_sock(&m, AF_INET6, "::", 27, PDX_SS_CLOSE, 0, 3, 1);
	put_done(&m);
	for (i = 0; i < 50000; i++) {
		c = m;
		for (k = 0; k < 1 + (int)(rnd() % 6); k++)
			c.b[rnd() % m.len] = (unsigned char)rnd();
		c.len = rnd() % 8 == 0 ? rnd() % (m.len + 1) : m.len;
		rc = parse(c.b, c.len, &v, &n);
		assert_true(rc >= -1 && rc <= 1);
		assert_true(n <= 3);
		for (k = 0; k < (int)n; k++) {
			assert_true(
			    v[k].family == AF_INET || v[k].family == AF_INET6);
			assert_true(v[k].state > 0 && v[k].state < PDX_SS_MAX);
			assert_true(strlen(v[k].local) < sizeof v[k].local);
		}
		pdx_sockets_free(v, n);
	}
}

/* ---- the port bytecode, through a model of the kernel --------------- */

struct bcop {
	uint8_t code, yes;
	uint16_t no;
};

/* The kernel's audit: the yes-chain ends exactly at the end, and every
 * "no" lands on that chain or exactly 4 bytes past the end. */
static int
bc_valid_cc(const unsigned char *bc, int len, int cc)
{
	while (len >= 0) {
		const struct bcop *op = (const void *)bc;

		if (cc > len)
			return 0;
		if (cc == len)
			return 1;
		if (op->yes < 4 || op->yes & 3)
			return 0;
		len -= op->yes;
		bc += op->yes;
	}
	return 0;
}

static int
bc_audit(const unsigned char *start, int blen)
{
	const unsigned char *bc = start;
	int len = blen;

	while (len > 0) {
		const struct bcop *op = (const void *)bc;
		int min = 4;

		switch (op->code) {
		case INET_DIAG_BC_S_GE:
		case INET_DIAG_BC_S_LE:
			min += 4;
			if (len < min)
				return 0;
			break;
		case INET_DIAG_BC_JMP:
			break;
		default:
			return 0;
		}
		if (op->no < min || op->no > len + 4 || op->no & 3)
			return 0;
		if (op->no < len && !bc_valid_cc(start, blen, len - op->no))
			return 0;
		if (op->yes < min || op->yes > len + 4 || op->yes & 3)
			return 0;
		bc += op->yes;
		len -= op->yes;
	}
	return len == 0;
}

static int
bc_run(const unsigned char *bc, int len, unsigned sport)
{
	while (len > 0) {
		const struct bcop *op = (const void *)bc;
		int yes = 1;

		switch (op->code) {
		case INET_DIAG_BC_JMP:
			yes = 0;
			break;
		case INET_DIAG_BC_S_GE:
			yes = sport >= op[1].no;
			break;
		case INET_DIAG_BC_S_LE:
			yes = sport <= op[1].no;
			break;
		}
		if (yes) {
			len -= op->yes;
			bc += op->yes;
		} else {
			len -= op->no;
			bc += op->no;
		}
	}
	return len == 0;
}

static void
bytecode_model(void **state)
{
	static struct pdx_portset ps;
	unsigned char bc[4096] __attribute__((aligned(4)));
	size_t len;
	unsigned p;
	int t, k, ranges;

	for (t = 0; t < 300; t++) {
		pdx_portset_clear(&ps);
		ranges = 1 + (int)(rnd() % (t < 250 ? 12 : 400));
		for (k = 0; k < ranges; k++) {
			unsigned lo = rnd() % 65536,
				 w = rnd() % 4 == 0 ? rnd() % 3000 : 0;

			pdx_portset_add(&ps, lo,
			    lo + w > 65535 ? 65535 : lo + w);
		}
		len = pdx_diag_port_bytecode(&ps, bc, sizeof bc);
		if (len == 0) {
			/* Only when too fragmented for a program. */
			assert_true(ranges > 100);
			continue;
		}
		assert_true(bc_audit(bc, (int)len));
		for (p = 0; p < 65536; p++)
			if (bc_run(bc, (int)len, p) != pdx_portset_has(&ps, p))
				fail_msg("set %d: port %u judged wrongly", t,
				    p);
	}
	pdx_portset_clear(&ps);
	assert_int_equal(pdx_diag_port_bytecode(&ps, bc, sizeof bc), 0);
	pdx_portset_add(&ps, 0, 65535);
	assert_int_equal(pdx_diag_port_bytecode(&ps, bc, sizeof bc), 0);
	assert_int_equal(pdx_diag_port_bytecode(NULL, bc, sizeof bc), 0);
	pdx_portset_clear(&ps);
	pdx_portset_add(&ps, 22, 22);
	assert_int_equal(pdx_diag_port_bytecode(&ps, bc, 8), 0);
}

/* ---- cgroup ----------------------------------------------------------- */

static void
cgroup_parse(void **state)
{
	static const struct {
		const char *text, *unit, *ctr;
	} cases[] = {
		{ "0::/system.slice/ssh.service\n", "ssh.service", NULL },
		{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
		  "foo.service\n",
		    "foo.service", NULL },
		{ "0::/system.slice/docker-0123456789abcdef0123456789abcdef"
		  "0123456789abcdef0123456789abcdef.scope\n",
		    NULL, "docker:0123456789ab" },
		{ "12:pids:/docker/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaa\n1:name=systemd:/docker/aaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		    NULL, "docker:aaaaaaaaaaaa" },
		{ "0::/machine.slice/libpod-1111111111111111111111111111111111"
		  "111111111111111111111111111111.scope/container\n",
		    NULL, "podman:111111111111" },
		{ "0::/lxc.payload.web1/system.slice/nginx.service\n",
		    "nginx.service", "lxc:web1" },
		{ "0::/\n", NULL, NULL },
		{ "", NULL, NULL },
		{ "garbage without colons", NULL, NULL },
		{ "0::/.service\n", NULL, NULL },
		{ "9:cpu:/a.scope\n0::/init.scope", "init.scope", NULL },
	};
	size_t i;
	char *u, *c;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pdx_cgroup_parse(cases[i].text, &u, &c);
		if (cases[i].unit == NULL)
			assert_null(u);
		else {
			assert_non_null(u);
			assert_string_equal(u, cases[i].unit);
		}
		if (cases[i].ctr == NULL)
			assert_null(c);
		else {
			assert_non_null(c);
			assert_string_equal(c, cases[i].ctr);
		}
		free(u);
		free(c);
	}
	pdx_cgroup_parse(NULL, &u, &c);
	assert_null(u);
	assert_null(c);
}

/* ---- the fd walk on a fake /proc ------------------------------------- */

static void
write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
procwalk_fake(void **state)
{
	char root[] = "/tmp/pdx-proc-XXXXXX", p[512];
	struct pdx_socket v[4];
	struct pdx_attr_stats st;

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof p, "%s/self", root); /* not a pid */
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/321", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/321/fd", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/321/fd/3", root);
	assert_int_equal(symlink("socket:[5551]", p), 0);
	snprintf(p, sizeof p, "%s/321/fd/4", root);
	assert_int_equal(symlink("/dev/null", p), 0);
	snprintf(p, sizeof p, "%s/321/fd/5", root);
	assert_int_equal(symlink("socket:[12x]", p), 0);
	snprintf(p, sizeof p, "%s/321/comm", root);
	write_file(p, "fakesrv\n", 8);
	snprintf(p, sizeof p, "%s/321/cmdline", root);
	write_file(p,
	    "/usr/bin/fakesrv\0-p\0"
	    "80\0",
	    sizeof "/usr/bin/fakesrv\0-p\0"
		   "80\0" -
		1);
	snprintf(p, sizeof p, "%s/321/cgroup", root);
	write_file(p, "0::/system.slice/fake.service\n", 30);
	snprintf(p, sizeof p, "%s/400", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/400/fd", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/400/fd/7", root);
	assert_int_equal(symlink("socket:[5552]", p), 0);

	memset(v, 0, sizeof v);
	v[0].inode = 5551;
	v[0].uid = 0;
	v[1].inode = 9999; /* held by nobody */
	v[1].uid = 0;
	v[2].inode = 0; /* TIME_WAIT */
	v[2].uid = -1;
	v[3].inode = 5552;
	v[3].uid = 0;
	assert_int_equal(pdx_sockets_attribute_at(root, v, 4, &st), 0);
	assert_int_equal(v[0].pid, 321);
	assert_string_equal(v[0].comm, "fakesrv");
	assert_string_equal(v[0].cmdline, "/usr/bin/fakesrv -p 80");
	assert_string_equal(v[0].unit, "fake.service");
	assert_null(v[0].container);
	assert_string_equal(v[0].user, "root");
	assert_int_equal(v[1].pid, 0);
	assert_int_equal(v[2].pid, 0);
	assert_null(v[2].user);
	assert_int_equal(v[3].pid, 400);
	assert_string_equal(v[3].comm, "");
	assert_null(v[3].cmdline);
	assert_int_equal(st.wanted, 3);
	assert_int_equal(st.attributed, 2);
	assert_int_equal(st.no_process, 1);
	assert_int_equal(st.no_inode, 1);
	assert_int_equal(st.permission, 0);
	for (int i = 0; i < 4; i++) {
		free(v[i].cmdline);
		free(v[i].user);
		free(v[i].unit);
		free(v[i].container);
	}
	memset(v, 0, sizeof v);
	v[0].inode = 5551;
	assert_int_equal(pdx_sockets_attribute_at("/nonexistent-pdx", v, 1,
			     &st),
	    -1);
	snprintf(p, sizeof p, "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

/*
 * kthreadd's children (2/task/2/children) are walked last, and only when
 * a wanted socket is still without a holder: one of them holding a socket
 * (a user-mode helper, or pid 2 not being kthreadd in a pid namespace) is
 * still found.
 */
static void
procwalk_kthreads_last(void **state)
{
	char root[] = "/tmp/pdx-proc-XXXXXX", p[512];
	const char *dirs[] = { "2", "2/fd", "2/task", "2/task/2", "321",
		"321/fd", "400", "400/fd", "500", "500/fd" };
	struct pdx_socket v[2];
	struct pdx_attr_stats st;
	size_t i;

	assert_non_null(mkdtemp(root));
	for (i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	snprintf(p, sizeof p, "%s/2/task/2/children", root);
	write_file(p, "500 400 ", 8);
	snprintf(p, sizeof p, "%s/321/fd/3", root);
	assert_int_equal(symlink("socket:[5551]", p), 0);
	snprintf(p, sizeof p, "%s/400/fd/7", root);
	assert_int_equal(symlink("socket:[5552]", p), 0);

	/* all found among the other processes: no kernel thread visited */
	memset(v, 0, sizeof v);
	v[0].inode = 5551;
	v[0].uid = -1;
	assert_int_equal(pdx_sockets_attribute_at(root, v, 1, &st), 0);
	assert_int_equal(v[0].pid, 321);
	assert_int_equal(st.procs_walked, 1);

	/* one held by a child of pid 2: the second pass finds it */
	memset(v, 0, sizeof v);
	v[0].inode = 5551;
	v[0].uid = -1;
	v[1].inode = 5552;
	v[1].uid = -1;
	assert_int_equal(pdx_sockets_attribute_at(root, v, 2, &st), 0);
	assert_int_equal(v[0].pid, 321);
	assert_int_equal(v[1].pid, 400);
	assert_int_equal(st.attributed, 2);
	assert_int_equal(st.no_process, 0);
	/* 321, then kthreadd's in pid order: 2, 400 (500 not needed) */
	assert_int_equal(st.procs_walked, 3);
	for (i = 0; i < 2; i++) {
		free(v[i].cmdline);
		free(v[i].user);
	}
	snprintf(p, sizeof p, "rm -rf '%s'", root);
	assert_int_equal(system(p), 0);
}

/* ---- a live socket of this process ------------------------------------ */

static void
live_socket(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct pdx_sock_filter f;
	struct pdx_portset ps, other;
	struct pdx_socket *v;
	struct stat st;
	size_t n, i, hits;
	int fd, backend, b, used;
	json_t *a, *o;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(fstat(fd, &st), 0);
	pdx_portset_clear(&ps);
	pdx_portset_add(&ps, ntohs(sin.sin_port), ntohs(sin.sin_port));
	pdx_portset_clear(&other);
	pdx_portset_add(&other, ntohs(sin.sin_port) ^ 1,
	    ntohs(sin.sin_port) ^ 1);

	for (b = PDX_BACKEND_NETLINK; b <= PDX_BACKEND_PROC; b++) {
		pdx_sock_filter_init(&f);
		f.backend = b;
		f.ports = &ps;
		f.protos = PDX_TCP;
		backend = -1;
		assert_int_equal(pdx_sockets_list(&f, &v, &n, &backend), 0);
		assert_int_equal(backend, b);
		assert_int_equal(n, 1);
		assert_int_equal(v[0].inode, st.st_ino);
		assert_int_equal(v[0].uid, geteuid());
		assert_string_equal(v[0].local, "127.0.0.1");
		assert_int_equal(v[0].state, PDX_SS_LISTEN);
		assert_int_equal(pdx_sockets_attribute(v, n, NULL), 0);
		assert_int_equal(v[0].pid, getpid());
		f.pid = getpid() + 1;
		pdx_sockets_select(v, &n, &f);
		assert_int_equal(n, 0);
		pdx_sockets_free(v, n);

		/* The kernel (or the /proc reader) leaves other ports out. */
		f.ports = &other;
		assert_int_equal(pdx_sockets_list(&f, &v, &n, NULL), 0);
		for (i = 0; i < n; i++)
			assert_true(v[i].inode != (unsigned long)st.st_ino);
		pdx_sockets_free(v, n);
		/* UDP only: not there. */
		f.ports = &ps;
		f.protos = PDX_UDP;
		assert_int_equal(pdx_sockets_list(&f, &v, &n, NULL), 0);
		assert_int_equal(n, 0);
		pdx_sockets_free(v, n);
	}

	/*
	 * Both backends agree on the whole listening set.  Other programs
	 * open and close sockets between the two listings: a few tries.
	 */
	for (int attempt = 0; attempt < 5; attempt++) {
		struct pdx_socket *w;
		size_t wn;

		pdx_sock_filter_init(&f);
		f.backend = PDX_BACKEND_NETLINK;
		assert_int_equal(pdx_sockets_list(&f, &v, &n, &used), 0);
		f.backend = PDX_BACKEND_PROC;
		assert_int_equal(pdx_sockets_list(&f, &w, &wn, NULL), 0);
		for (i = 0, hits = 0; i < n; i++)
			for (size_t j = 0; j < wn; j++)
				if (v[i].inode == w[j].inode &&
				    v[i].lport == w[j].lport)
					hits++;
		pdx_sockets_free(v, n);
		pdx_sockets_free(w, wn);
		if (hits == n && n == wn)
			break;
		assert_true(attempt < 4);
		usleep(200000);
	}

	a = pdx_local_port(ntohs(sin.sin_port), PDX_TCP);
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 1);
	o = json_array_get(a, 0);
	assert_int_equal(json_integer_value(json_object_get(o, "pid")),
	    getpid());
	assert_true(json_is_false(json_object_get(o, "all_interfaces")));
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(o, "local"),
				 "port")),
	    ntohs(sin.sin_port));
	json_decref(a);
	close(fd);
	a = pdx_local_port(ntohs(sin.sin_port), PDX_TCP);
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
	assert_null(pdx_local_port(70000, 0));
}

static void
socket_json(void **state)
{
	struct pdx_socket s;
	json_t *o;

	memset(&s, 0, sizeof s);
	s.proto = PDX_UDP;
	s.family = AF_INET6;
	s.state = PDX_SS_CLOSE;
	s.lport = 5353;
	s.v6only = 0;
	s.uid = 7;
	pdx_socket_format_addrs(&s);
	o = pdx_socket_json(&s, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "UNCONN");
	assert_true(json_is_true(json_object_get(o, "all_interfaces")));
	assert_true(json_is_true(json_object_get(o, "serves_ipv4")));
	assert_true(json_is_false(json_object_get(o, "v6only")));
	assert_true(json_is_null(json_object_get(o, "pid")));
	assert_true(json_is_null(json_object_get(o, "remote")));
	assert_null(json_object_get(o, "service"));
	json_decref(o);
	s.v6only = 1;
	o = pdx_socket_json(&s, NULL);
	assert_true(json_is_false(json_object_get(o, "serves_ipv4")));
	json_decref(o);
	s.laddr[15] = 1; /* ::1 */
	pdx_socket_format_addrs(&s);
	o = pdx_socket_json(&s, NULL);
	assert_true(json_is_false(json_object_get(o, "all_interfaces")));
	assert_string_equal(json_string_value(
				json_object_get(json_object_get(o, "local"),
				    "address")),
	    "::1");
	json_decref(o);
	assert_string_equal(pdx_sock_state_name(0), "?");
	assert_string_equal(pdx_sock_state_name(PDX_SS_LISTEN), "LISTEN");
	assert_string_equal(pdx_sock_state_name(99), "?");
}

/* Our formatter writes what inet_ntop writes, for every shape of address. */
static void
format_addr(void **state)
{
	static const char *const fixed[] = {
		"::",
		"::1",
		"::2",
		"1::",
		"1:2:3:4:5:6:7:8",
		"::ffff:1.2.3.4",
		"::1.2.3.4",
		"::ffff:0.0.0.0",
		"fe80::1",
		"1:0:0:2:0:0:0:3",
		"1:0:0:2:0:0:3:4",
		"0:0:1::",
		"2001:db8::ff00:42:8329",
		"1:0:2:0:3:0:4:0",
		"::ffff:0:1.2.3.4",
		"0:1:0:0:0:0:0:0",
	};
	uint8_t a[16];
	char mine[64], theirs[64];
	size_t i;
	int k, fam;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		assert_int_equal(inet_pton(AF_INET6, fixed[i], a), 1);
		pdx_format_addr(AF_INET6, a, mine);
		inet_ntop(AF_INET6, a, theirs, sizeof theirs);
		assert_string_equal(mine, theirs);
	}
	for (i = 0; i < 200000; i++) {
		fam = i % 3 == 0 ? AF_INET : AF_INET6;
		for (k = 0; k < 16; k++) {
			/* Many zero bytes, so runs of zero groups happen. */
			a[k] = rnd() % 3 == 0 ? (uint8_t)rnd() : 0;
		}
		if (i % 7 == 0) {
			memset(a, 0, 10);
			a[10] = a[11] = (uint8_t)(i % 2 ? 0xff : 0);
		}
		pdx_format_addr(fam, a, mine);
		inet_ntop(fam, a, theirs, sizeof theirs);
		if (strcmp(mine, theirs) != 0)
			fail_msg("formatted %s, inet_ntop says %s", mine,
			    theirs);
	}
}

static void
netns_errors(void **state)
{
	assert_int_equal(pdx_netns_enter("../etc"), -1);
	assert_int_equal(pdx_netns_enter(""), -1);
	assert_int_equal(pdx_netns_enter("pdx-surely-not-there"), -1);
	assert_non_null(strstr(pdx_last_error(), "no such namespace"));
}

/* A list of n sockets whose lport is from + i and whose user is a string. */
static struct pdx_socket *
numbered(size_t n, unsigned from)
{
	struct pdx_socket *v = pdx_sockets_new(n);
	char u[16];
	size_t i;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].lport, 0); /* zeroed */
		assert_null(v[i].user);
		v[i].lport = from + (unsigned)i;
		snprintf(u, sizeof u, "u%u", from + (unsigned)i);
		assert_non_null(v[i].user = strdup(u));
	}
	return v;
}

/*
 * pdx_sockets_new and pdx_sockets_append, on the heap (a few sockets) and
 * in a mapping of their own (past 2 MB: 10,000 sockets), each onto each:
 * every socket and its string arrive in order; the appended list is freed
 * (ASan and valgrind see a leak or a double free otherwise).
 */
static void
sockets_append(void **state)
{
	static const size_t sizes[][2] = { { 3, 5 }, { 3, 10000 }, { 10000, 3 },
		{ 10000, 10000 }, { 0, 7 }, { 7, 0 } };
	size_t k, i, n;
	struct pdx_socket *v, *b;
	char u[16];

	(void)state;
	for (k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		n = sizes[k][0];
		v = n > 0 ? numbered(n, 1) : NULL;
		b = numbered(sizes[k][1] > 0 ? sizes[k][1] : 1, 30000);
		if (sizes[k][1] == 0) {
			free(b[0].user);
			b[0].user = NULL;
		}
		assert_int_equal(pdx_sockets_append(&v, &n, b, sizes[k][1]), 0);
		assert_int_equal(n, sizes[k][0] + sizes[k][1]);
		for (i = 0; i < n; i++) {
			unsigned want = i < sizes[k][0]
			    ? 1 + (unsigned)i
			    : 30000 + (unsigned)(i - sizes[k][0]);

			snprintf(u, sizeof u, "u%u", want);
			if (v[i].lport != want || strcmp(v[i].user, u) != 0)
				fail_msg("case %zu: socket %zu is %u %s", k, i,
				    v[i].lport, v[i].user);
		}
		pdx_sockets_free(v, n);
	}
}

/*
 * The VmFlags of the mapping holding address p, from /proc/self/smaps, in
 * buf; 0, or -1 when no mapping holds it.
 */
static int
vm_flags(const void *p, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = -1;
	unsigned long lo, hi, at = (unsigned long)(uintptr_t)p;

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = lo <= at && at < hi;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(buf, len, "%s", line + 8);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * The socket vector asks for huge pages only once it outgrows its small
 * pages: the advice wakes khugepaged, which preempted short listings.
 */
static void
vector_huge_late(void **state)
{
	struct pdx_socket *v = NULL, s;
	size_t n = 0, cap = 0, i;
	char flags[512];
	int thp = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) ==
	    0;

	(void)state;
	memset(&s, 0, sizeof s);
	for (i = 0; i < 10; i++) {
		s.lport = (unsigned)(i + 1);
		assert_int_equal(pdx_sockvec_push(&v, &n, &cap, &s), 0);
	}
	/* the reserve past the small pages (64 kB) is not marked either */
	assert_int_equal(vm_flags(v, flags, sizeof flags), 0);
	assert_null(strstr(flags, " hg"));
	assert_int_equal(vm_flags((char *)v + (128 << 10), flags, sizeof flags),
	    0);
	assert_null(strstr(flags, " hg"));
	/* a few hundred kB: past the small pages */
	for (; i < 2000; i++) {
		s.lport = (unsigned)(i + 1);
		assert_int_equal(pdx_sockvec_push(&v, &n, &cap, &s), 0);
	}
	assert_int_equal(n, 2000);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i].lport, i + 1);
	assert_int_equal(vm_flags(&v[n - 1], flags, sizeof flags), 0);
	if (thp)
		assert_non_null(strstr(flags, " hg"));
	pdx_sockets_free(v, n);
}

/* ---- user names without NSS --------------------------------------------- */

static void
passwd_files_first(void **state)
{
	static const struct {
		const char *conf;
		int want;
	} cases[] = {
		{ "passwd:         files systemd\ngroup: files\n", 1 },
		{ "# c\n  passwd :files\n", 1 },
		{ "passwd: files # then nothing\n", 1 },
		{ "passwd: files", 1 },
		{ "passwd: systemd files\n", 0 },
		{ "passwd: compat\n", 0 },
		{ "passwd: files [SUCCESS=continue] ldap\n", 0 },
		{ "passwd: filesx\n", 0 },
		{ "passwd: files\npasswd: ldap\n", 0 },
		{ "group: files\n", 0 },
		{ "#passwd: files\n", 0 },
		{ "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		if (pdx_passwd_files_first(cases[i].conf,
			strlen(cases[i].conf)) != cases[i].want)
			fail_msg("case %zu: '%s'", i, cases[i].conf);
	}
}

static void
passwd_name(void **state)
{
	const char pw[] = "root:x:0:0:root:/root:/bin/bash\n"
			  "# a comment:x:7:7\n"
			  "\n"
			  "bad:x::1:\n"
			  "big:x:99999999999999999999:1:\n"
			  "alice:x:1000:1000::/home/alice:/bin/sh\n"
			  "alice2:x:1000:1000::/home/alice:/bin/sh\n"
			  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/"
			  "nologin";
	const char compat[] = "root:x:0:0::/:/bin/sh\n+@netgroup\n"
			      "bob:x:5:5::/:/bin/sh\n";
	const char *name;
	size_t len = 0;

	(void)state;
	name = pdx_passwd_name(pw, strlen(pw), 0, &len);
	assert_non_null(name);
	assert_int_equal(len, 4);
	assert_memory_equal(name, "root", 4);
	/* the first line with the uid, as glibc's files module answers */
	name = pdx_passwd_name(pw, strlen(pw), 1000, &len);
	assert_non_null(name);
	assert_int_equal(len, 5);
	assert_memory_equal(name, "alice", 5);
	/* the last line, without a newline */
	name = pdx_passwd_name(pw, strlen(pw), 65534, &len);
	assert_non_null(name);
	assert_int_equal(len, 6);
	assert_null(pdx_passwd_name(pw, strlen(pw), 7, &len));
	assert_null(pdx_passwd_name(pw, strlen(pw), 1, &len));
	assert_null(pdx_passwd_name(pw, strlen(pw), 4242, &len));
	assert_null(pdx_passwd_name(pw, strlen(pw), -1, &len));
	/* a NIS line: NSS reads such a file, never this */
	assert_non_null(pdx_passwd_name(compat, strlen(compat), 0, &len));
	assert_null(pdx_passwd_name(compat, strlen(compat), 5, &len));
}

/*
 * On this machine: when its nsswitch.conf lists files first, every uid of
 * its /etc/passwd gets the name getpwuid gives.
 */
static void
passwd_name_as_nss(void **state)
{
	char *conf, *pw = NULL, *p;
	size_t clen, plen, len;
	int checked = 0;

	(void)state;
	if ((conf = pdx_read_file("/etc/nsswitch.conf", 1 << 16, &clen)) ==
	    NULL)
		skip();
	if (!pdx_passwd_files_first(conf, clen) ||
	    (pw = pdx_read_file("/etc/passwd", 64 << 20, &plen)) == NULL) {
		free(conf);
		skip();
	}
	for (p = pw; p != NULL && *p != '\0';
	     p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		struct passwd *e;
		const char *name;
		char *c = strchr(p, ':');
		long uid;

		if (c == NULL || (c = strchr(c + 1, ':')) == NULL)
			continue;
		uid = strtol(c + 1, NULL, 10);
		if ((e = getpwuid((uid_t)uid)) == NULL)
			continue;
		name = pdx_passwd_name(pw, plen, uid, &len);
		assert_non_null(name);
		assert_int_equal(len, strlen(e->pw_name));
		assert_memory_equal(name, e->pw_name, len);
		checked++;
	}
	assert_true(checked > 0);
	free(pw);
	free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proc_good_lines),
		cmocka_unit_test(proc_real_lines),
		cmocka_unit_test(proc_bad_lines),
		cmocka_unit_test(proc_damage),
		cmocka_unit_test(diag_good),
		cmocka_unit_test(diag_truncated),
		cmocka_unit_test(diag_crafted),
		cmocka_unit_test(diag_damage),
		cmocka_unit_test(bytecode_model),
		cmocka_unit_test(cgroup_parse),
		cmocka_unit_test(procwalk_fake),
		cmocka_unit_test(procwalk_kthreads_last),
		cmocka_unit_test(live_socket),
		cmocka_unit_test(socket_json),
		cmocka_unit_test(format_addr),
		cmocka_unit_test(netns_errors),
		cmocka_unit_test(sockets_append),
		cmocka_unit_test(vector_huge_late),
		cmocka_unit_test(passwd_files_first),
		cmocka_unit_test(passwd_name),
		cmocka_unit_test(passwd_name_as_nss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
