/*
 * sockets-linux.c - the Linux netlink backend: one NETLINK_SOCK_DIAG dump
 * per protocol and family (TCP, UDP, SCTP where the kernel has sctp_diag),
 * with the state filter and, when the user filters by port, an inet_diag
 * bytecode program so the kernel sends only the sockets wanted.  It also
 * owns the parser of the replies, which trusts nothing it reads.  It does
 * not find processes (procwalk.c) nor read /proc/net (sockets-proc.c).
 */
#ifdef __linux__

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "portdex.h"
#include "sockets-int.h"

#define DIAG_RECVBUF (64 * 1024)
#define DIAG_MAX_BC 4096 /* bytes of bytecode before we filter here */

static const struct {
	int pdx;
	int ipproto;
} diag_protos[] = {
	{ PDX_TCP, IPPROTO_TCP },
	{ PDX_UDP, IPPROTO_UDP },
	{ PDX_SCTP, IPPROTO_SCTP },
};

static int
ipproto_of(int proto)
{
	size_t i;

	for (i = 0; i < sizeof diag_protos / sizeof diag_protos[0]; i++)
		if (diag_protos[i].pdx == proto)
			return diag_protos[i].ipproto;
	return -1;
}

/*
 * Writes the kernel program "local port in one of the set's ranges" into
 * buf.  Each range but the last is
 *	S_GE lo (no: next range) ; S_LE hi (no: next range) ; JMP accept
 * and the last one's failures jump past the end, which rejects.  Every op
 * "yes" is the next op, as the kernel's audit demands.  Returns the length,
 * or 0 when the set is empty, whole, or too fragmented to be worth it (the
 * caller then filters in user space only).
 */
size_t
pdx_diag_port_bytecode(const struct pdx_portset *ps, void *buf, size_t size)
{
	struct inet_diag_bc_op *op = buf;
	unsigned lo[DIAG_MAX_BC / 16], hi[DIAG_MAX_BC / 16];
	size_t nr = 0, len, i, k;
	unsigned seen = 0;
	int p;

	if (ps == NULL || ps->count == 0 || ps->count >= 65536)
		return 0;
	/* stops at the set's last port (count), not at 65535 */
	for (p = pdx_portset_next(ps, 0); p >= 0;
	     p = p < 65535 ? pdx_portset_next(ps, p + 1) : -1) {
		if (nr == sizeof lo / sizeof lo[0])
			return 0;
		lo[nr] = (unsigned)p;
		seen++;
		while (p < 65535 && pdx_portset_has(ps, (unsigned)p + 1)) {
			p++;
			seen++;
		}
		hi[nr++] = (unsigned)p;
		if (seen >= ps->count)
			break;
	}
	if (nr == 0)
		return 0;
	/* 16 bytes per range (two compares of two ops) + 4 per JMP. */
	len = nr * 16 + (nr - 1) * 4;
	if (len > size || len > DIAG_MAX_BC)
		return 0;
	memset(buf, 0, len);
	for (i = 0, k = 0; i < nr; i++) {
		size_t at = k * 4, next, left = len - at;

		/* Where a failed compare goes: the next range, or reject. */
		next = i + 1 < nr ? at + 20 : len + 4;
		op[k].code = INET_DIAG_BC_S_GE;
		op[k].yes = 8;
		op[k].no = (unsigned short)(next - at);
		op[k + 1].no = (unsigned short)lo[i];
		op[k + 2].code = INET_DIAG_BC_S_LE;
		op[k + 2].yes = 8;
		op[k + 2].no = (unsigned short)(next - at - 8);
		op[k + 3].no = (unsigned short)hi[i];
		k += 4;
		if (i + 1 < nr) {
			op[k].code = INET_DIAG_BC_JMP;
			op[k].yes = 4;
			op[k].no = (unsigned short)(left - 16);
			k++;
		}
	}
	return len;
}

/* Walks the attributes after the inet_diag_msg; -1 if malformed. */
static int
parse_attrs(const unsigned char *p, size_t len, struct pdx_socket *s)
{
	const struct nlattr *a;
	int rem;

	if (len > INT32_MAX)
		return -1;
	rem = (int)len;
	a = (const struct nlattr *)p;
	while (rem >= (int)sizeof *a) {
		if (!mnl_attr_ok(a, rem))
			return -1;
		if (mnl_attr_get_type(a) == INET_DIAG_SKV6ONLY) {
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
				return -1;
			s->v6only = mnl_attr_get_u8(a) != 0;
		}
		rem -= (int)MNL_ALIGN(a->nla_len);
		if (rem < 0)
			rem = 0; /* the last attribute's padding */
		else
			a = mnl_attr_next(a);
	}
	return 0;
}

/* One SOCK_DIAG_BY_FAMILY message: 1 parsed, 0 skipped, -1 malformed. */
static int
parse_diag_msg(const unsigned char *payload, size_t plen, int proto,
    struct pdx_socket *s)
{
	struct inet_diag_msg m;
	size_t alen;

	if (plen < sizeof m) {
		pdx_set_error("sock_diag reply: message of %zu bytes is "
			      "shorter than inet_diag_msg (%zu)",
		    plen, sizeof m);
		return -1;
	}
	memcpy(&m, payload, sizeof m);
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6) {
		pdx_set_error("sock_diag reply: unknown address family %u",
		    m.idiag_family);
		return -1;
	}
	memset(s, 0, sizeof *s);
	s->proto = proto;
	s->family = m.idiag_family;
	s->state = m.idiag_state;
	alen = s->family == AF_INET ? 4 : 16;
	memcpy(s->laddr, m.id.idiag_src, alen);
	memcpy(s->raddr, m.id.idiag_dst, alen);
	s->lport = ntohs(m.id.idiag_sport);
	s->rport = ntohs(m.id.idiag_dport);
	s->ifindex = m.id.idiag_if;
	s->rqueue = m.idiag_rqueue;
	s->wqueue = m.idiag_wqueue;
	s->uid = (long)m.idiag_uid;
	s->inode = m.idiag_inode;
	s->v6only = -1;
	if (plen > NLMSG_ALIGN(sizeof m) &&
	    parse_attrs(payload + NLMSG_ALIGN(sizeof m),
		plen - NLMSG_ALIGN(sizeof m), s) < 0) {
		pdx_set_error("sock_diag reply: malformed attribute");
		return -1;
	}
	if (s->state <= 0 || s->state >= PDX_SS_MAX)
		return 0; /* a state newer than we know */
	return 1;
}

static int
diag_parse_aligned(const unsigned char *buf, size_t len, int proto,
    const struct pdx_sock_filter *f, struct pdx_socket **v, size_t *n,
    size_t *cap)
{
	struct nlmsghdr h;
	struct nlmsgerr e;
	struct pdx_socket s;
	size_t off = 0, step;
	int rc;

	while (len - off >= sizeof h) {
		memcpy(&h, buf + off, sizeof h);
		if (h.nlmsg_len < sizeof h || h.nlmsg_len > len - off) {
			pdx_set_error("sock_diag reply: message length %u "
				      "does not fit the %zu bytes left",
			    h.nlmsg_len, len - off);
			errno = EBADMSG;
			return -1;
		}
		if (h.nlmsg_flags & NLM_F_DUMP_INTR) {
			pdx_set_error("sock_diag dump was interrupted by a "
				      "change; try again");
			errno = EINTR;
			return -1;
		}
		switch (h.nlmsg_type) {
		case NLMSG_DONE:
			return 1;
		case NLMSG_ERROR:
			if (h.nlmsg_len < NLMSG_HDRLEN + sizeof e) {
				pdx_set_error("sock_diag reply: truncated "
					      "error message");
				errno = EBADMSG;
				return -1;
			}
			memcpy(&e, buf + off + NLMSG_HDRLEN, sizeof e);
			if (e.error == 0)
				break; /* an acknowledgement */
			if (e.error > 0 || e.error < -4095) {
				pdx_set_error("sock_diag reply: bad error "
					      "code %d",
				    e.error);
				errno = EBADMSG;
				return -1;
			}
			errno = -e.error;
			pdx_set_error("sock_diag: %s", strerror(errno));
			return -1;
		case SOCK_DIAG_BY_FAMILY:
			if (h.nlmsg_len < NLMSG_HDRLEN) {
				pdx_set_error("sock_diag reply: message "
					      "shorter than its header");
				errno = EBADMSG;
				return -1;
			}
			rc = parse_diag_msg(buf + off + NLMSG_HDRLEN,
			    h.nlmsg_len - NLMSG_HDRLEN, proto, &s);
			if (rc < 0) {
				errno = EBADMSG;
				return -1;
			}
			if (rc > 0 && pdx_sock_filter_match(f, &s)) {
				pdx_socket_format_addrs(&s);
				if (pdx_sockvec_push(v, n, cap, &s) < 0) {
					errno = ENOMEM;
					return -1;
				}
			}
			break;
		default:
			break; /* NLMSG_NOOP and anything new */
		}
		step = NLMSG_ALIGN(h.nlmsg_len);
		off = step > len - off ? len : off + step;
	}
	if (off != len) {
		pdx_set_error("sock_diag reply: %zu stray bytes after the "
			      "last message",
		    len - off);
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

int
pdx_diag_parse(const void *buf, size_t len, int proto,
    const struct pdx_sock_filter *f, struct pdx_socket **v, size_t *n,
    size_t *cap)
{
	unsigned char *copy;
	int rc;

	if (buf == NULL && len != 0) {
		pdx_set_error("sock_diag reply: no buffer");
		return -1;
	}
	if (((uintptr_t)buf & 3) == 0)
		return diag_parse_aligned(buf, len, proto, f, v, n, cap);
	/* The attribute walk reads 16-bit fields in place: align first. */
	if ((copy = malloc(len)) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	memcpy(copy, buf, len);
	rc = diag_parse_aligned(copy, len, proto, f, v, n, cap);
	free(copy);
	return rc;
}

/*
 * One sock_diag socket serves every dump of a thread (a card asks for four,
 * and opening and binding a socket for each cost more than the dumps).  A
 * socket answers for the network namespace it was opened in, so it is
 * kept only while the thread stays in that namespace; a dump that failed
 * half-way closes it, so that nothing stale is read by the next.
 */
static _Thread_local struct {
	struct mnl_socket *nl;
	dev_t dev;
	ino_t ino;
	unsigned seq;
} nlc;

/* A thread that ends closes its socket (serve's worker threads do end). */
static pthread_once_t nl_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t nl_key;
static int nl_key_ok;

static void nl_socket_drop(void);

static void
nl_thread_end(void *unused)
{
	(void)unused;
	nl_socket_drop();
}

static void
nl_key_make(void)
{
	nl_key_ok = pthread_key_create(&nl_key, nl_thread_end) == 0;
}

static void
nl_socket_drop(void)
{
	if (nlc.nl != NULL)
		mnl_socket_close(nlc.nl);
	nlc.nl = NULL;
	if (nl_key_ok)
		(void)pthread_setspecific(nl_key, NULL);
}

static struct mnl_socket *
nl_socket(void)
{
	struct timeval tv = { 5, 0 };
	struct stat ns;
	int have_ns = stat("/proc/self/ns/net", &ns) == 0;

	if (nlc.nl != NULL && have_ns && ns.st_dev == nlc.dev &&
	    ns.st_ino == nlc.ino)
		return nlc.nl;
	nl_socket_drop();
	if ((nlc.nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC)) ==
	    NULL) {
		pdx_set_error("netlink sock_diag socket: %s", strerror(errno));
		return NULL;
	}
	(void)setsockopt(mnl_socket_get_fd(nlc.nl), SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof tv);
	if (mnl_socket_bind(nlc.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		pdx_set_error("netlink sock_diag bind: %s", strerror(errno));
		nl_socket_drop();
		return NULL;
	}
	/* without /proc the namespace cannot be told: never reused */
	nlc.dev = have_ns ? ns.st_dev : 0;
	nlc.ino = have_ns ? ns.st_ino : 0;
	(void)pthread_once(&nl_key_once, nl_key_make);
	if (nl_key_ok) /* any non-NULL value: the destructor then runs */
		(void)pthread_setspecific(nl_key, &nlc);
	return nlc.nl;
}

static int
nl_list(int proto, int family, const struct pdx_sock_filter *f,
    struct pdx_socket **v, size_t *n, size_t *cap)
{
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;
	unsigned char bc[DIAG_MAX_BC];
	char *rbuf;
	size_t bclen, n0 = *n;
	ssize_t got;
	unsigned states;
	int ipproto, rc = -1, done = 0;

	if ((ipproto = ipproto_of(proto)) < 0)
		return -2;
	if ((rbuf = malloc(DIAG_RECVBUF)) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	if ((nl = nl_socket()) == NULL) {
		free(rbuf);
		return -1;
	}

	nlh = mnl_nlmsg_put_header(rbuf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++nlc.seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof *req);
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = (uint8_t)ipproto;
	states = f != NULL && f->states != 0 ? f->states : PDX_SSF_LISTENING;
	/*
	 * A TCP socket in CLOSE state is in no table inet_diag walks, but
	 * asking for any state besides LISTEN makes the kernel walk the whole
	 * established hash (about 0.7 ms here with nothing in it): a TCP
	 * dump of listeners asks for LISTEN alone.
	 */
	if (ipproto == IPPROTO_TCP && (states & ~PDX_SSF(PDX_SS_CLOSE)) != 0)
		states &= ~PDX_SSF(PDX_SS_CLOSE);
	req->idiag_states = states;
	bclen = pdx_diag_port_bytecode(f != NULL ? f->ports : NULL, bc,
	    sizeof bc);
	if (bclen > 0)
		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, bclen, bc);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		pdx_set_error("netlink sock_diag send: %s", strerror(errno));
		goto out;
	}
	while (!done) {
		got = mnl_socket_recvfrom(nl, rbuf, DIAG_RECVBUF);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			pdx_set_error("netlink sock_diag receive: %s",
			    errno == EAGAIN ? "timed out" : strerror(errno));
			goto out;
		}
		if (got == 0) {
			pdx_set_error("netlink sock_diag: dump ended early");
			goto out;
		}
		switch (
		    pdx_diag_parse(rbuf, (size_t)got, proto, f, v, n, cap)) {
		case 1:
			done = 1;
			break;
		case 0:
			break;
		default:
			/* No diag module for this protocol here. */
			if (errno == ENOENT || errno == EOPNOTSUPP ||
			    errno == EPROTONOSUPPORT)
				rc = -2;
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0) {
		*n = n0; /* nothing half-listed */
		nl_socket_drop();
	} else if (nlc.ino == 0)
		nl_socket_drop();
	free(rbuf);
	return rc;
}

const struct pdx_sock_backend_ops pdx_backend_netlink = { PDX_BACKEND_NETLINK,
	"netlink", nl_list };

#endif /* __linux__ */
