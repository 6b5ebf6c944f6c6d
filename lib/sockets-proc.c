/*
 * sockets-proc.c - the /proc/net backend, used when netlink sock_diag is
 * not available (or asked for with --proc): reads /proc/net/{tcp,tcp6,udp,
 * udp6} line by line.  The line parser is public so a fuzzer can feed it.
 * The kernel cannot filter here, so every filter is applied as lines are
 * read.  SCTP is not offered (its /proc files have another shape).
 */
#ifdef __linux__

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portdex.h"
#include "sockets-int.h"

/* The next whitespace-separated token of [*p, end). */
static int
next_token(const char **p, const char *end, const char **tok, size_t *len)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	if (s == end)
		return 0;
	*tok = s;
	while (s < end && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
		s++;
	*len = (size_t)(s - *tok);
	*p = s;
	return 1;
}

/* Exactly n (1..8) hex digits. */
static int
parse_hex(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;
	int d;

	if (n == 0 || n > 8)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* Decimal digits only, at most max. */
static int
parse_dec(const char *s, size_t n, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (unsigned)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * "0100007F:0016": the kernel prints each 32-bit word of the address as it
 * sits in memory, read as a host integer; copying the parsed word back to
 * memory gives the network-order bytes on any host.
 */
static int
parse_endpoint(const char *s, size_t n, int family, uint8_t *addr,
    unsigned *port)
{
	size_t hexlen = family == AF_INET ? 8 : 32, i;
	uint32_t w, p;

	if (n != hexlen + 5 || s[hexlen] != ':')
		return -1;
	for (i = 0; i < hexlen / 8; i++) {
		if (parse_hex(s + i * 8, 8, &w) < 0)
			return -1;
		memcpy(addr + i * 4, &w, 4);
	}
	if (parse_hex(s + hexlen + 1, 4, &p) < 0)
		return -1;
	*port = p;
	return 0;
}

/* "HEX:HEX" into two words. */
static int
parse_pair(const char *s, size_t n, uint32_t *a, uint32_t *b)
{
	const char *c = memchr(s, ':', n);

	if (c == NULL || parse_hex(s, (size_t)(c - s), a) < 0 ||
	    parse_hex(c + 1, n - (size_t)(c - s) - 1, b) < 0)
		return -1;
	return 0;
}

int
pdx_proc_net_parse_line(const char *line, size_t len, int family, int proto,
    struct pdx_socket *out)
{
	const char *p = line, *end = line + len, *tok[10];
	size_t tl[10], i;
	unsigned long long v;
	uint32_t st, a, b;

	if (line == NULL || (family != AF_INET && family != AF_INET6)) {
		pdx_set_error("/proc/net line: bad arguments");
		return -1;
	}
	for (i = 0; i < 10; i++) {
		if (!next_token(&p, end, &tok[i], &tl[i])) {
			if (i == 0)
				return 0; /* blank line */
			pdx_set_error("/proc/net line: %zu fields, need at "
				      "least 10",
			    i);
			return -1;
		}
		if (i == 0 && tl[0] == 2 && memcmp(tok[0], "sl", 2) == 0)
			return 0; /* the header */
	}
	memset(out, 0, sizeof *out);
	out->proto = proto;
	out->family = family;
	out->v6only = -1;
	if (tl[0] < 2 || tok[0][tl[0] - 1] != ':' ||
	    parse_dec(tok[0], tl[0] - 1, UINT32_MAX, &v) < 0) {
		pdx_set_error("/proc/net line: bad slot '%.*s'",
		    (int)(tl[0] > 16 ? 16 : tl[0]), tok[0]);
		return -1;
	}
	if (parse_endpoint(tok[1], tl[1], family, out->laddr, &out->lport) <
		0 ||
	    parse_endpoint(tok[2], tl[2], family, out->raddr, &out->rport) <
		0) {
		pdx_set_error("/proc/net line: bad address for %s",
		    family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	if (tl[3] != 2 || parse_hex(tok[3], 2, &st) < 0 || st == 0 ||
	    st >= PDX_SS_MAX) {
		pdx_set_error("/proc/net line: bad state '%.*s'",
		    (int)(tl[3] > 16 ? 16 : tl[3]), tok[3]);
		return -1;
	}
	out->state = (int)st;
	if (parse_pair(tok[4], tl[4], &a, &b) < 0) {
		pdx_set_error("/proc/net line: bad queue field");
		return -1;
	}
	out->wqueue = a;
	out->rqueue = b;
	if (parse_pair(tok[5], tl[5], &a, &b) < 0 ||
	    parse_hex(tok[6], tl[6], &a) < 0) {
		pdx_set_error("/proc/net line: bad timer field");
		return -1;
	}
	if (parse_dec(tok[7], tl[7], UINT32_MAX, &v) < 0) {
		pdx_set_error("/proc/net line: bad uid");
		return -1;
	}
	out->uid = (long)v;
	/* tok[8], the timeout, may be negative; it is not used. */
	if (parse_dec(tok[9], tl[9], UINT64_MAX, &v) < 0) {
		pdx_set_error("/proc/net line: bad inode");
		return -1;
	}
	out->inode = (unsigned long)v;
	return 1;
}

static const struct {
	int proto;
	int family;
	const char *path;
} proc_files[] = {
	{ PDX_TCP, AF_INET, "/proc/net/tcp" },
	{ PDX_TCP, AF_INET6, "/proc/net/tcp6" },
	{ PDX_UDP, AF_INET, "/proc/net/udp" },
	{ PDX_UDP, AF_INET6, "/proc/net/udp6" },
};

static int
proc_list(int proto, int family, const struct pdx_sock_filter *f,
    struct pdx_socket **v, size_t *n, size_t *cap)
{
	struct pdx_socket s;
	const char *path = NULL;
	char *line = NULL;
	size_t lsize = 0, i, n0 = *n;
	unsigned long lineno = 0;
	ssize_t got;
	FILE *fp;
	int rc;

	for (i = 0; i < sizeof proc_files / sizeof proc_files[0]; i++)
		if (proc_files[i].proto == proto &&
		    proc_files[i].family == family)
			path = proc_files[i].path;
	if (path == NULL)
		return -2;
	if ((fp = fopen(path, "re")) == NULL) {
		/* No IPv6 in this kernel: nothing to list. */
		if (errno == ENOENT && family == AF_INET6)
			return 0;
		pdx_set_error("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((got = getline(&line, &lsize, fp)) > 0) {
		lineno++;
		rc = pdx_proc_net_parse_line(line, (size_t)got, family, proto,
		    &s);
		if (rc < 0) {
			char msg[256];

			snprintf(msg, sizeof msg, "%s", pdx_last_error());
			pdx_set_error("%s:%lu: %s", path, lineno, msg);
			goto fail;
		}
		if (rc == 0 || !pdx_sock_filter_match(f, &s))
			continue;
		pdx_socket_format_addrs(&s);
		if (pdx_sockvec_push(v, n, cap, &s) < 0)
			goto fail;
	}
	if (ferror(fp)) {
		pdx_set_error("%s: %s", path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(fp);
	return 0;
fail:
	*n = n0;
	free(line);
	fclose(fp);
	return -1;
}

const struct pdx_sock_backend_ops pdx_backend_proc = { PDX_BACKEND_PROC, "proc",
	proc_list };

#endif /* __linux__ */
