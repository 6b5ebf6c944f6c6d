/*
 * rpc.c - the ONC RPC portmapper client: asking a host's portmapper or
 * rpcbind for its registrations with libtirpc (PMAPPROC_DUMP version 2,
 * then RPCBPROC_DUMP version 4 or 3 for netids, universal addresses and
 * owners; TCP first, UDP when TCP cannot connect), the decoder of a dump
 * reply (one function serves both the live call and the public parser
 * that fuzzers feed), and the annotated JSON of the registrations.  It
 * does not render text; that is src/cmd-rpc.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rpc/rpc.h>
#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"

#define RPC_PMAP_PORT 111
#define RPC_PROG_PMAP 100000
#define RPC_PROC_DUMP 4
#define RPC_DEFAULT_TIMEOUT_MS 5000
#define RPC_MAX_ADDRS 4 /* addresses of a name tried */

/* ---- small helpers --------------------------------------------------- */

static const struct {
	const char *netid;
	int proto;
} rpc_netids[] = {
	{ "tcp", PDX_TCP },
	{ "tcp6", PDX_TCP },
	{ "udp", PDX_UDP },
	{ "udp6", PDX_UDP },
};

int
pdx_rpc_netid_proto(const char *netid)
{
	size_t i;

	for (i = 0; i < sizeof rpc_netids / sizeof *rpc_netids; i++)
		if (strcmp(rpc_netids[i].netid, netid) == 0)
			return rpc_netids[i].proto;
	return 0;
}

/*
 * A universal address is the host's usual text form followed by two more
 * dot-separated decimal fields, the port's high and low bytes.
 */
int
pdx_rpc_uaddr_port(const char *uaddr, char *host, size_t hostsz, unsigned *port)
{
	const char *lo, *hi;
	char tmp[PDX_RPC_ADDR_MAX + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	long long h, l;
	size_t n;

	if ((lo = strrchr(uaddr, '.')) == NULL || lo == uaddr)
		return -1;
	for (hi = lo - 1; hi > uaddr && hi[-1] != '.'; hi--)
		;
	if (hi == uaddr)
		return -1;
	n = (size_t)(lo - hi);
	if (n == 0 || n > 3 || strlen(lo + 1) == 0 || strlen(lo + 1) > 3)
		return -1;
	memcpy(tmp, hi, n);
	tmp[n] = '\0';
	if (strspn(tmp, "0123456789") != n ||
	    strspn(lo + 1, "0123456789") != strlen(lo + 1))
		return -1;
	h = atoll(tmp);
	l = atoll(lo + 1);
	if (h > 255 || l > 255)
		return -1;
	n = (size_t)(hi - 1 - uaddr);
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, uaddr, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, bin) != 1 &&
	    inet_pton(AF_INET6, tmp, bin) != 1)
		return -1;
	if (host != NULL) {
		if (hostsz <= n)
			return -1;
		memcpy(host, tmp, n + 1);
	}
	*port = (unsigned)(h * 256 + l);
	return 0;
}

/* ---- decoding a dump ------------------------------------------------- */

struct dump_decode {
	int vers; /* 2, 3 or 4 */
	struct pdx_rpc_reg *v;
	size_t n, cap;
	char error[160]; /* set when decoding failed */
};

static bool_t
decode_fail(struct dump_decode *d, const char *msg)
{
	snprintf(d->error, sizeof d->error, "entry %zu: %s", d->n + 1, msg);
	return FALSE;
}

/* A counted XDR string into buf (max bytes); no NULs, others shown '?'. */
static bool_t
decode_string(XDR *xdrs, struct dump_decode *d, char *buf, u_int max,
    const char *what)
{
	u_int len, i;
	char msg[64];

	if (!xdr_u_int(xdrs, &len))
		return decode_fail(d, "truncated");
	if (len > max) {
		snprintf(msg, sizeof msg, "%s of %u bytes (limit %u)", what,
		    len, max);
		return decode_fail(d, msg);
	}
	if (!xdr_opaque(xdrs, buf, len))
		return decode_fail(d, "truncated");
	buf[len] = '\0';
	for (i = 0; i < len; i++) {
		if (buf[i] == '\0') {
			snprintf(msg, sizeof msg, "%s holds a NUL byte", what);
			return decode_fail(d, msg);
		}
		/* Shown and put in JSON: printable ASCII only. */
		if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] >= 0x7f)
			buf[i] = '?';
	}
	return TRUE;
}

static bool_t
decode_entry(XDR *xdrs, struct dump_decode *d, struct pdx_rpc_reg *r)
{
	u_int prog, vers, prot, port;
	unsigned p;

	memset(r, 0, sizeof *r);
	r->port = -1;
	if (!xdr_u_int(xdrs, &prog) || !xdr_u_int(xdrs, &vers))
		return decode_fail(d, "truncated");
	r->prog = prog;
	r->vers = vers;
	if (d->vers == 2) {
		if (!xdr_u_int(xdrs, &prot) || !xdr_u_int(xdrs, &port))
			return decode_fail(d, "truncated");
		if (port > 65535)
			return decode_fail(d, "port out of range");
		r->port = (int)port;
		if (prot == IPPROTO_TCP)
			r->proto = PDX_TCP;
		else if (prot == IPPROTO_UDP)
			r->proto = PDX_UDP;
		snprintf(r->netid, sizeof r->netid, "%s",
		    prot == IPPROTO_TCP	      ? "tcp"
			: prot == IPPROTO_UDP ? "udp"
					      : "");
		if (r->netid[0] == '\0')
			snprintf(r->netid, sizeof r->netid, "proto%u", prot);
		return TRUE;
	}
	if (!decode_string(xdrs, d, r->netid, PDX_RPC_NETID_MAX, "netid") ||
	    !decode_string(xdrs, d, r->addr, PDX_RPC_ADDR_MAX, "address") ||
	    !decode_string(xdrs, d, r->owner, PDX_RPC_OWNER_MAX, "owner"))
		return FALSE;
	r->proto = pdx_rpc_netid_proto(r->netid);
	if (r->proto != 0 && pdx_rpc_uaddr_port(r->addr, NULL, 0, &p) == 0)
		r->port = (int)p;
	return TRUE;
}

/*
 * The xdrproc for both lists: an XDR optional-data linked list, i.e. a
 * boolean "another entry follows" before each entry and a false at the end.
 */
static bool_t
xdr_dump(XDR *xdrs, struct dump_decode *d)
{
	u_int more;

	if (xdrs->x_op == XDR_FREE)
		return TRUE; /* the caller owns d->v */
	if (xdrs->x_op != XDR_DECODE)
		return FALSE;
	d->n = 0;
	d->error[0] = '\0';
	for (;;) {
		if (!xdr_u_int(xdrs, &more))
			return decode_fail(d, "truncated list");
		if (more == 0)
			return TRUE;
		if (more != 1)
			return decode_fail(d, "bad list marker");
		if (d->n >= PDX_RPC_MAX_ENTRIES)
			return decode_fail(d, "too many entries");
		if (d->n == d->cap) {
			size_t ncap = d->cap == 0 ? 32 : d->cap * 2;
			struct pdx_rpc_reg *nv;

			if ((nv = realloc(d->v, ncap * sizeof *nv)) == NULL)
				return decode_fail(d, "out of memory");
			d->v = nv;
			d->cap = ncap;
		}
		if (!decode_entry(xdrs, d, &d->v[d->n]))
			return FALSE;
		d->n++;
	}
}

long
pdx_rpc_parse_dump(const void *buf, size_t len, int vers,
    struct pdx_rpc_reg **out)
{
	struct dump_decode d;
	XDR xdrs;
	bool_t ok;
	u_int pos;

	*out = NULL;
	if (vers != 2 && vers != 3 && vers != 4) {
		pdx_set_error("no dump format for version %d", vers);
		return -1;
	}
	if (len > 16 * 1024 * 1024) {
		pdx_set_error("dump reply of %zu bytes is too large", len);
		return -1;
	}
	memset(&d, 0, sizeof d);
	d.vers = vers;
	xdrmem_create(&xdrs, (char *)(uintptr_t)buf, (u_int)len, XDR_DECODE);
	ok = xdr_dump(&xdrs, &d);
	pos = xdr_getpos(&xdrs);
	xdr_destroy(&xdrs);
	if (!ok) {
		pdx_set_error("malformed dump reply: %s", d.error);
		free(d.v);
		return -1;
	}
	if (pos != len) {
		pdx_set_error("malformed dump reply: %zu bytes after the list",
		    len - pos);
		free(d.v);
		return -1;
	}
	if (d.v == NULL && (d.v = malloc(sizeof *d.v)) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	*out = d.v;
	return (long)d.n;
}

/* ---- the query ------------------------------------------------------- */

void
pdx_rpc_dump_free(struct pdx_rpc_dump *dump)
{
	free(dump->pmap);
	free(dump->rpcb);
	dump->pmap = dump->rpcb = NULL;
	dump->npmap = dump->nrpcb = 0;
}

/* Does addr belong to this host?  Binding to it succeeds only then. */
static int
addr_is_local(const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage ss;
	int fd, rc;

	memcpy(&ss, sa, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	if ((fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	rc = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return rc;
}

/* Connect a TCP socket within timeout_ms; returns the fd or -errno. */
static int
tcp_connect(const struct sockaddr *sa, socklen_t len, unsigned timeout_ms)
{
	struct pollfd pfd;
	socklen_t el = sizeof(int);
	int fd, e = 0, fl;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len) != 0) {
		if (errno != EINPROGRESS) {
			e = errno;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		for (;;) {
			int n = poll(&pfd, 1, (int)timeout_ms);

			if (n > 0)
				break;
			if (n == 0) {
				e = ETIMEDOUT;
				goto fail;
			}
			if (errno != EINTR) {
				e = errno;
				goto fail;
			}
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e != 0)
			goto fail;
	}
	/* libtirpc expects a blocking stream. */
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		e = errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -e;
}

/* DUMP takes no arguments (libtirpc's xdr_void has no parameters). */
static bool_t
xdr_noargs(XDR *xdrs, void *unused)
{
	return TRUE;
}

struct rpc_attempt {
	CLIENT *cl;
	int fd;
	struct timeval tv;
};

/* One DUMP call at version vers; fills d.  Returns the clnt_stat. */
static enum clnt_stat
call_dump(struct rpc_attempt *a, int vers, struct dump_decode *d,
    struct rpc_err *err)
{
	rpcvers_t v = (rpcvers_t)vers;
	enum clnt_stat st;

	memset(d, 0, sizeof *d);
	d->vers = vers;
	memset(err, 0, sizeof *err);
	if (!clnt_control(a->cl, CLSET_VERS, (char *)&v))
		return RPC_FAILED;
	st = clnt_call(a->cl, RPC_PROC_DUMP, (xdrproc_t)xdr_noargs, NULL,
	    (xdrproc_t)xdr_dump, (char *)d, a->tv);
	clnt_geterr(a->cl, err);
	if (st != RPC_SUCCESS) {
		free(d->v);
		d->v = NULL;
		d->n = 0;
	}
	return st;
}

static void
attempt_close(struct rpc_attempt *a)
{
	if (a->cl != NULL)
		clnt_destroy(a->cl);
	if (a->fd >= 0)
		close(a->fd);
	a->cl = NULL;
	a->fd = -1;
}

/*
 * Open a client to the portmapper at sa over tcp or udp.  Returns 0, or a
 * negative errno for a connection that could not be made.
 */
static int
attempt_open(struct rpc_attempt *a, const struct sockaddr *sa, socklen_t len,
    int tcp, unsigned timeout_ms)
{
	struct netbuf nb;
	struct timeval retry;
	int one = 1;

	a->cl = NULL;
	a->tv.tv_sec = timeout_ms / 1000;
	a->tv.tv_usec = (timeout_ms % 1000) * 1000;
	nb.buf = (void *)(uintptr_t)sa;
	nb.len = nb.maxlen = len;
	if (tcp) {
		if ((a->fd = tcp_connect(sa, len, timeout_ms)) < 0) {
			int e = -a->fd;

			a->fd = -1;
			return -e;
		}
		a->cl = clnt_vc_create(a->fd, &nb, RPC_PROG_PMAP, 2, 0, 0);
	} else {
		a->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC,
		    IPPROTO_UDP);
		if (a->fd < 0)
			return -errno;
		a->cl = clnt_dg_create(a->fd, &nb, RPC_PROG_PMAP, 2, 0, 0);
	}
	if (a->cl == NULL) {
		attempt_close(a);
		return -ENOMEM;
	}
	if (!tcp) {
		/* Resend every second; a connected socket hears ICMP. */
		retry.tv_sec = timeout_ms >= 2000 ? 1 : 0;
		retry.tv_usec = timeout_ms >= 2000
		    ? 0
		    : (long)(timeout_ms / 2 + 1) * 1000;
		clnt_control(a->cl, CLSET_RETRY_TIMEOUT, (char *)&retry);
		clnt_control(a->cl, CLSET_CONNECT, (char *)&one);
	}
	return 0;
}

/* Map a failed call to our error kinds, with a message. */
static int
call_error(const char *where, enum clnt_stat st, const struct rpc_err *err,
    const struct dump_decode *d)
{
	switch (st) {
	case RPC_TIMEDOUT:
		pdx_set_error("%s: no reply in time", where);
		return PDX_RPC_ETIMEDOUT;
	case RPC_CANTDECODERES:
		if (d->error[0] != '\0')
			pdx_set_error("%s: malformed reply: %s", where,
			    d->error);
		else
			pdx_set_error("%s: malformed reply", where);
		return PDX_RPC_EMALFORMED;
	case RPC_CANTRECV:
	case RPC_CANTSEND:
		if (err->re_errno == ECONNREFUSED) {
			pdx_set_error("%s: connection refused", where);
			return PDX_RPC_EREFUSED;
		}
		if (err->re_errno == 0 || err->re_errno == ECONNRESET) {
			pdx_set_error("%s: closed without an RPC reply "
				      "(not a portmapper)",
			    where);
			return PDX_RPC_ENOPMAP;
		}
		pdx_set_error("%s: %s", where, strerror(err->re_errno));
		return PDX_RPC_ESYSTEM;
	case RPC_PROGUNAVAIL:
	case RPC_PROGVERSMISMATCH:
	case RPC_PROCUNAVAIL:
	case RPC_VERSMISMATCH:
	case RPC_AUTHERROR:
	case RPC_CANTDECODEARGS:
	case RPC_SYSTEMERROR:
		pdx_set_error("%s: an RPC server without a portmapper (%s)",
		    where, clnt_sperrno(st));
		return PDX_RPC_ENOPMAP;
	default:
		pdx_set_error("%s: %s", where, clnt_sperrno(st));
		return PDX_RPC_EMALFORMED;
	}
}

/* Both dumps over one open client.  Returns 0 or a pdx_rpc_err. */
static int
query_dumps(struct rpc_attempt *a, const char *where, struct pdx_rpc_dump *dump)
{
	static const int rpcb_versions[] = { 4, 3 };
	struct dump_decode d;
	struct rpc_err err;
	enum clnt_stat st;
	size_t i;
	int rc = 0;

	st = call_dump(a, 2, &d, &err);
	if (st == RPC_SUCCESS) {
		dump->pmap = d.v;
		dump->npmap = d.n;
		dump->have_pmap = 1;
	} else if (st != RPC_PROGVERSMISMATCH)
		return call_error(where, st, &err, &d);
	else
		rc = call_error(where, st, &err, &d);
	for (i = 0; i < sizeof rpcb_versions / sizeof *rpcb_versions; i++) {
		st = call_dump(a, rpcb_versions[i], &d, &err);
		if (st == RPC_SUCCESS) {
			dump->rpcb = d.v;
			dump->nrpcb = d.n;
			dump->rpcb_vers = rpcb_versions[i];
			return 0;
		}
		if (st == RPC_CANTDECODERES)
			return call_error(where, st, &err, &d);
		if (st != RPC_PROGVERSMISMATCH && st != RPC_PROCUNAVAIL)
			break;
	}
	/* Version 3/4 are optional; version 2 alone is an answer. */
	return dump->have_pmap ? 0 : rc;
}

int
pdx_rpc_query(const char *host, const struct pdx_rpc_opts *opts_in,
    struct pdx_rpc_dump *dump)
{
	struct pdx_rpc_opts opts;
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage addrs[RPC_MAX_ADDRS];
	socklen_t lens[RPC_MAX_ADDRS];
	struct rpc_attempt a;
	char where[160], num[64], port[8];
	int naddr = 0, i, tcp, rc, e, gai;
	int tcp_err = 0;

	memset(dump, 0, sizeof *dump);
	if (opts_in != NULL)
		opts = *opts_in;
	else
		memset(&opts, 0, sizeof opts);
	if (opts.timeout_ms == 0)
		opts.timeout_ms = RPC_DEFAULT_TIMEOUT_MS;
	if (opts.port == 0)
		opts.port = RPC_PMAP_PORT;
	if (opts.port > 65535) {
		pdx_set_error("port %u is out of range 1-65535", opts.port);
		return PDX_RPC_ESYSTEM;
	}
	if (host == NULL || *host == '\0')
		host = "localhost";
	if (opts.no_tcp && opts.no_udp) {
		pdx_set_error("neither tcp nor udp allowed");
		return PDX_RPC_ESYSTEM;
	}

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", opts.port);
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		pdx_set_error("cannot resolve '%s': %s", host,
		    gai_strerror(gai));
		return PDX_RPC_ERESOLVE;
	}
	for (ai = res; ai != NULL && naddr < RPC_MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof addrs[0])
			continue;
		memcpy(&addrs[naddr], ai->ai_addr, ai->ai_addrlen);
		lens[naddr++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (naddr == 0) {
		pdx_set_error("'%s' has no IPv4 or IPv6 address", host);
		return PDX_RPC_ERESOLVE;
	}

	/* TCP to each address, then UDP to each. */
	for (tcp = 1; tcp >= 0; tcp--) {
		if ((tcp && opts.no_tcp) || (!tcp && opts.no_udp))
			continue;
		for (i = 0; i < naddr; i++) {
			const struct sockaddr *sa =
			    (const struct sockaddr *)&addrs[i];
			const void *ip = sa->sa_family == AF_INET
			    ? (const void *)&((const struct sockaddr_in *)sa)
				  ->sin_addr
			    : (const void *)&((const struct sockaddr_in6 *)sa)
				  ->sin6_addr;

			inet_ntop(sa->sa_family, ip, num, sizeof num);
			snprintf(where, sizeof where, "%s (%s) %s port %u",
			    host, num, tcp ? "tcp" : "udp", opts.port);
			if ((e = attempt_open(&a, sa, lens[i], tcp,
				 opts.timeout_ms)) != 0) {
				if (tcp && tcp_err == 0)
					tcp_err = -e;
				continue;
			}
			rc = query_dumps(&a, where, dump);
			attempt_close(&a);
			if (rc == PDX_RPC_EREFUSED && !tcp)
				continue; /* udp: ICMP port unreachable */
			if (rc != 0) {
				pdx_rpc_dump_free(dump);
				if (!tcp && tcp_err != 0) {
					char msg[512];

					snprintf(msg, sizeof msg, "%s",
					    pdx_last_error());
					pdx_set_error("%s (tcp: %s)", msg,
					    strerror(tcp_err));
				}
				return rc;
			}
			snprintf(dump->transport, sizeof dump->transport, "%s",
			    tcp ? "tcp" : "udp");
			snprintf(dump->address, sizeof dump->address, "%s",
			    num);
			dump->local = addr_is_local(sa, lens[i]);
			return 0;
		}
	}
	if (tcp_err == ETIMEDOUT) {
		pdx_set_error("%s port %u: no portmapper answered in time",
		    host, opts.port);
		return PDX_RPC_ETIMEDOUT;
	}
	if (tcp_err == ECONNREFUSED || tcp_err == 0) {
		pdx_set_error("%s port %u: connection refused: no "
			      "portmapper is running there",
		    host, opts.port);
		return PDX_RPC_EREFUSED;
	}
	pdx_set_error("%s port %u: %s", host, opts.port, strerror(tcp_err));
	return tcp_err == EHOSTUNREACH || tcp_err == ENETUNREACH
	    ? PDX_RPC_ETIMEDOUT
	    : PDX_RPC_ESYSTEM;
}

/* ---- annotation ------------------------------------------------------ */

/* Is word one of the space-separated words of list? */
static int
word_in(const char *word, const char *list)
{
	size_t n = strlen(word);
	const char *p = list;

	if (n == 0 || list == NULL)
		return 0;
	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

static json_t *
aliases_json(const char *aliases)
{
	json_t *a = json_array();
	const char *p = aliases, *e;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			;
		json_array_append_new(a, json_stringn(p, (size_t)(e - p)));
		p = e;
	}
	return a;
}

/* Local listeners on a port, looked up once per port and proto. */
struct local_cache {
	unsigned port[64];
	int proto[64];
	json_t *found[64];
	size_t n;
};

static json_t *
local_listeners(struct local_cache *c, unsigned port, int proto)
{
	json_t *a;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->port[i] == port && c->proto[i] == proto)
			return json_incref(c->found[i]);
	if ((a = pdx_local_port(port, proto)) == NULL)
		return json_null();
	if (c->n < sizeof c->port / sizeof *c->port) {
		c->port[c->n] = port;
		c->proto[c->n] = proto;
		c->found[c->n++] = json_incref(a);
	}
	return a;
}

/*
 * Every IANA service name assigned on port/proto (2049/tcp has both "nfs"
 * and "shilp"), from the registry's iana table.  New reference; an empty
 * array when the registry cannot say.
 */
static json_t *
iana_names(struct pdx_db *db, unsigned port, int proto)
{
	sqlite3 *h = pdx_db_handle(db);
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();

	if (h != NULL &&
	    sqlite3_prepare_v2(h,
		"SELECT DISTINCT name FROM iana"
		" WHERE port_lo <= ?1 AND port_hi >= ?1 AND name != '' AND"
		" (protomask = 0 OR (protomask & ?2) != 0) ORDER BY id",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, (int)port);
		sqlite3_bind_int(st, 2, proto);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(a,
			    json_string(
				(const char *)sqlite3_column_text(st, 0)));
	}
	sqlite3_finalize(st);
	return a;
}

/* Name, IANA assignment, difference and risk of one registration. */
static void
annotate(json_t *o, struct pdx_db *db, const struct pdx_rpc_reg *r,
    struct local_cache *lc)
{
	const char *name = NULL, *aliases = NULL;
	struct pdx_brief b;
	char *nm = NULL, *al = NULL;

	if (db != NULL &&
	    pdx_rpc_name(db, (long)r->prog, &name, &aliases) == 0) {
		/* Borrowed until the next pdx_rpc_name call: copy. */
		nm = strdup(name);
		al = strdup(aliases != NULL ? aliases : "");
	}
	json_object_set_new(o, "name",
	    nm != NULL ? json_string(nm) : json_null());
	json_object_set_new(o, "aliases", aliases_json(al));
	if (db != NULL && r->proto != 0 && r->port >= 0 &&
	    pdx_brief(db, (unsigned)r->port, r->proto, &b) == 0) {
		json_t *names = iana_names(db, (unsigned)r->port, r->proto), *n;
		const char *match = NULL;
		size_t i;

		if (json_array_size(names) == 0 && b.name[0] != '\0')
			json_array_append_new(names, json_string(b.name));
		json_array_foreach(names, i, n)
		{
			const char *s = json_string_value(n);

			if (match == NULL && nm != NULL && s != NULL &&
			    (strcasecmp(s, nm) == 0 || word_in(s, al)))
				match = s;
		}
		/* "name" is the IANA name that agrees, else the first. */
		json_object_set_new(o, "iana",
		    json_pack("{s:s, s:s, s:o}", "name",
			match != NULL ? match : b.name, "status",
			pdx_status_name(b.status), "names", names));
		json_object_set_new(o, "iana_differs",
		    json_boolean(json_array_size(names) > 0 && match == NULL));
		json_object_set_new(o, "risk",
		    json_string(pdx_level_name(b.risk)));
	}
	if (lc != NULL && r->proto != 0 && r->port > 0)
		json_object_set_new(o, "listeners",
		    local_listeners(lc, (unsigned)r->port, r->proto));
	free(nm);
	free(al);
}

/* rpcbind's entries that describe the same registration as v2 row r. */
static void
match_rpcb(json_t *o, const struct pdx_rpc_dump *dump,
    const struct pdx_rpc_reg *r)
{
	json_t *netids = json_array(), *addrs = json_array();
	const char *owner = NULL;
	size_t i;

	for (i = 0; i < dump->nrpcb; i++) {
		const struct pdx_rpc_reg *b = &dump->rpcb[i];

		if (b->prog != r->prog || b->vers != r->vers ||
		    b->proto != r->proto || b->port != r->port)
			continue;
		json_array_append_new(netids, json_string(b->netid));
		json_array_append_new(addrs, json_string(b->addr));
		if (owner == NULL)
			owner = b->owner;
	}
	json_object_set_new(o, "netids", netids);
	json_object_set_new(o, "addresses", addrs);
	json_object_set_new(o, "owner",
	    owner != NULL ? json_string(owner) : json_null());
}

json_t *
pdx_rpc_json(struct pdx_db *db, const char *host,
    const struct pdx_rpc_dump *dump)
{
	struct local_cache *lc = NULL;
	json_t *root, *regs, *rb, *o;
	size_t i;

	if ((root = json_object()) == NULL || (regs = json_array()) == NULL ||
	    (rb = json_array()) == NULL) {
		json_decref(root);
		pdx_set_error("out of memory");
		return NULL;
	}
	if (dump->local && (lc = calloc(1, sizeof *lc)) == NULL) {
		json_decref(root);
		json_decref(regs);
		json_decref(rb);
		pdx_set_error("out of memory");
		return NULL;
	}
	json_object_set_new(root, "host",
	    json_string(host != NULL && *host != '\0' ? host : "localhost"));
	json_object_set_new(root, "address", json_string(dump->address));
	json_object_set_new(root, "transport", json_string(dump->transport));
	json_object_set_new(root, "local", json_boolean(dump->local));
	json_object_set_new(root, "portmapper_v2",
	    json_boolean(dump->have_pmap));
	json_object_set_new(root, "rpcbind_version",
	    dump->rpcb_vers > 0 ? json_integer(dump->rpcb_vers) : json_null());

	/* What rpcinfo -p lists: the v2 table, else rpcbind's inet rows. */
	for (i = 0; i < dump->npmap; i++) {
		const struct pdx_rpc_reg *r = &dump->pmap[i];

		o = json_pack("{s:I, s:I, s:s, s:i}", "program",
		    (json_int_t)r->prog, "version", (json_int_t)r->vers,
		    "proto",
		    r->proto != 0 ? pdx_proto_name(r->proto) : r->netid, "port",
		    r->port);
		match_rpcb(o, dump, r);
		annotate(o, db, r, lc);
		json_array_append_new(regs, o);
	}
	for (i = 0; i < dump->nrpcb; i++) {
		const struct pdx_rpc_reg *r = &dump->rpcb[i];

		o = json_pack("{s:I, s:I, s:s, s:s, s:s}", "program",
		    (json_int_t)r->prog, "version", (json_int_t)r->vers,
		    "netid", r->netid, "address", r->addr, "owner", r->owner);
		json_object_set_new(o, "proto",
		    r->proto != 0 ? json_string(pdx_proto_name(r->proto))
				  : json_null());
		json_object_set_new(o, "port",
		    r->port >= 0 ? json_integer(r->port) : json_null());
		annotate(o, db, r, NULL);
		json_array_append_new(rb, o);
		if (!dump->have_pmap && r->proto != 0 && r->port >= 0) {
			json_t *c = json_pack("{s:I, s:I, s:s, s:i}", "program",
			    (json_int_t)r->prog, "version", (json_int_t)r->vers,
			    "proto", pdx_proto_name(r->proto), "port", r->port);

			json_object_set_new(c, "netids",
			    json_pack("[s]", r->netid));
			json_object_set_new(c, "addresses",
			    json_pack("[s]", r->addr));
			json_object_set_new(c, "owner", json_string(r->owner));
			annotate(c, db, r, lc);
			json_array_append_new(regs, c);
		}
	}
	json_object_set_new(root, "registrations", regs);
	json_object_set_new(root, "rpcbind", rb);
	if (lc != NULL) {
		for (i = 0; i < lc->n; i++)
			json_decref(lc->found[i]);
		free(lc);
	}
	return root;
}
