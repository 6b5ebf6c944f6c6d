/*
 * why.c - why a bind() of a port would fail or succeed here (portdex why).
 * It gathers the facts once - every socket using the port as its local
 * port (lib/sockets*.c) with its holder (lib/procwalk.c), the kernel's
 * ephemeral range, reserved ports, ip_unprivileged_port_start and
 * bindv6only, the caller's CAP_NET_BIND_SERVICE - then runs a table of
 * checks that each explain one cause as findings, predicts the errno of a
 * plain bind on the wildcard address for each transport and family, and,
 * when asked, compares that with real bind() calls.  It does not print
 * (src/cmd-why.c does) and it never keeps a socket: each test socket is
 * closed as soon as bind() has answered, and UDP is only tried without
 * SO_REUSEADDR/SO_REUSEPORT, since a sharing bind of a live UDP port would
 * join its group and could take a datagram meant for the holder.
 *
 * The kernel's rules this follows (Linux, net/ipv4/inet_connection_sock.c
 * and inet_hashtables.c): a bind to port P below ip_unprivileged_port_start
 * needs CAP_NET_BIND_SERVICE (EACCES, checked first); otherwise it fails
 * with EADDRINUSE when a socket of the same transport uses P as its local
 * port on an overlapping address - the wildcard overlaps every address, a
 * "::" socket without IPV6_V6ONLY overlaps IPv4 too - unless both sockets
 * set SO_REUSEADDR and the other is not listening (a TIME_WAIT socket
 * keeps the setting of the socket that left it), or both set SO_REUSEPORT
 * under the same user.  sock_diag shows neither option, so several
 * listeners on one address and port are reported as an SO_REUSEPORT group
 * from their number alone; a TCP socket that is bound but not listening
 * is in no list the kernel offers, and only the real bind() finds it.
 */
#ifdef __linux__
#define _GNU_SOURCE /* capget through syscall() */
#include <linux/capability.h>
#include <sys/syscall.h>
#endif
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portdex.h"
#include "why-int.h"

#define SYSCTL_UNPRIV "/proc/sys/net/ipv4/ip_unprivileged_port_start"
#define SYSCTL_V6ONLY "/proc/sys/net/ipv6/bindv6only"

const struct why_proto why_protos[NWHYPROTO] = {
	{ PDX_TCP, SOCK_STREAM },
	{ PDX_UDP, SOCK_DGRAM },
};

const struct why_family why_families[NWHYFAM] = {
	{ AF_INET, PDX_FAM_INET4, "ipv4", "0.0.0.0" },
	{ AF_INET6, PDX_FAM_INET6, "ipv6", "::" },
};

/* ---- small helpers ---------------------------------------------------- */

static const struct errno_name {
	int err;
	const char *name;
} errno_names[] = {
	{ EADDRINUSE, "EADDRINUSE" },
	{ EACCES, "EACCES" },
	{ EPERM, "EPERM" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT" },
	{ EINVAL, "EINVAL" },
	{ EMFILE, "EMFILE" },
	{ ENFILE, "ENFILE" },
	{ ENOBUFS, "ENOBUFS" },
	{ ENOMEM, "ENOMEM" },
};

const char *
why_errname(int e)
{
	static __thread char buf[32];
	size_t i;

	for (i = 0; i < sizeof errno_names / sizeof *errno_names; i++)
		if (errno_names[i].err == e)
			return errno_names[i].name;
	snprintf(buf, sizeof buf, "errno %d", e);
	return buf;
}

/* A decimal number from a one-line /proc file, or -1. */
static long
read_long(const char *path)
{
	FILE *f;
	long v;
	int n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fscanf(f, "%ld", &v);
	fclose(f);
	return n == 1 && v >= 0 ? v : -1;
}

/* 1 or 0: CAP_NET_BIND_SERVICE in our effective set; -1: unknown. */
static int
cap_net_bind(void)
{
#ifdef __linux__
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];

	memset(&h, 0, sizeof h);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	return (d[0].effective >> CAP_NET_BIND_SERVICE) & 1;
#else
	return -1;
#endif
}

static int
is_wild(const struct pdx_socket *s)
{
	static const uint8_t zero[16];

	return memcmp(s->laddr, zero, s->family == AF_INET ? 4 : 16) == 0;
}

static int
is_v4mapped(const struct pdx_socket *s)
{
	return s->family == AF_INET6 &&
	    memcmp(s->laddr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
}

/* Is s a socket that has an address and port of its own (not TW or a
 * connection that came with a listener)? */
static int
is_holder(const struct pdx_socket *s)
{
	if (s->proto == PDX_TCP)
		return s->state == PDX_SS_LISTEN;
	return 1; /* UDP: every socket listed is bound */
}

/*
 * Does s stand in the way of a plain bind on the wildcard address of
 * family fam (for AF_INET6, dual-stack unless v6only)?
 */
static int
conflicts(const struct pdx_socket *s, int fam, int v6only)
{
	if (fam == AF_INET) {
		if (s->family == AF_INET || is_v4mapped(s))
			return 1;
		/* a "::" socket takes IPv4 too unless IPV6_V6ONLY is on */
		return is_wild(s) && s->v6only != 1;
	}
	if (s->family == AF_INET6)
		return 1;
	return !v6only;
}

static const char *
proto_of(int proto)
{
	return pdx_proto_name(proto);
}

void
why_finding(struct why *w, const char *check, int proto, const char *effect,
    const char *fmt, ...)
{
	char text[TEXTMAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	json_array_append_new(w->findings,
	    json_pack("{s:s, s:o, s:s, s:s}", "check", check, "transport",
		proto != 0 ? json_string(proto_of(proto)) : json_null(),
		"effect", effect, "text", text));
}

/* "0.0.0.0:8080 (pid 12 nginx, user www-data, unit nginx.service)" */
static void
describe(const struct pdx_socket *s, char *buf, size_t n)
{
	size_t len;

	if (s->family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", s->local, s->lport);
	else
		snprintf(buf, n, "%s:%u", s->local, s->lport);
	len = strlen(buf);
	if (s->pid > 0)
		snprintf(buf + len, n - len, " (pid %ld %s%s%s%s%s)",
		    (long)s->pid, s->comm, s->user != NULL ? ", user " : "",
		    s->user != NULL ? s->user : "",
		    s->container != NULL || s->unit != NULL ? ", " : "",
		    s->container != NULL  ? s->container
			: s->unit != NULL ? s->unit
					  : "");
	else if (s->inode != 0)
		snprintf(buf + len, n - len,
		    " (uid %ld, process not found: "
		    "%s)",
		    s->uid,
		    geteuid() == 0 ? "another PID namespace "
				     "or the kernel"
				   : "run as root to see it");
}

/* ---- the checks ------------------------------------------------------- */

static void
check_privileged(struct why *w)
{
	if (w->unpriv_start < 0) {
		why_finding(w, "privileged", 0, "not_checked",
		    "%s could not "
		    "be read: whether %u needs privilege is unknown",
		    SYSCTL_UNPRIV, w->port);
		return;
	}
	if ((long)w->port >= w->unpriv_start) {
		why_finding(w, "privileged", 0, "ok",
		    "no privilege needed: "
		    "%u is not below net.ipv4.ip_unprivileged_port_start "
		    "(%ld)",
		    w->port, w->unpriv_start);
		return;
	}
	if (w->cap_bind == 1)
		why_finding(w, "privileged", 0, "ok",
		    "%u is below "
		    "net.ipv4.ip_unprivileged_port_start (%ld), and you have "
		    "CAP_NET_BIND_SERVICE",
		    w->port, w->unpriv_start);
	else
		why_finding(w, "privileged", 0, "blocks",
		    "EACCES: %u is "
		    "below net.ipv4.ip_unprivileged_port_start (%ld) and you "
		    "(uid %ld) %s CAP_NET_BIND_SERVICE; run the service as "
		    "root, give it the capability (setcap "
		    "cap_net_bind_service=+ep on the binary, or a systemd "
		    "unit's AmbientCapabilities=CAP_NET_BIND_SERVICE), lower "
		    "the sysctl, or use a port from %ld up",
		    w->port, w->unpriv_start, (long)geteuid(),
		    w->cap_bind == 0 ? "lack" : "may lack (capget failed)",
		    w->unpriv_start);
}

static void
check_holders(struct why *w)
{
	char line[TEXTMAX], one[256];
	size_t i, p, n, f, other;

	for (p = 0; p < NWHYPROTO; p++) {
		int proto = why_protos[p].proto;

		if ((w->protos & proto) == 0)
			continue;
		line[0] = '\0';
		other = 0;
		for (i = n = 0; i < w->nsocks; i++) {
			const struct pdx_socket *s = &w->socks[i];
			int hit = 0;

			if (s->proto != proto || !is_holder(s))
				continue;
			for (f = 0; f < NWHYFAM; f++)
				hit |= (w->families & why_families[f].bit) &&
				    conflicts(s, why_families[f].family,
					w->bindv6only == 1);
			if (!hit) {
				other++;
				continue;
			}
			describe(s, one, sizeof one);
			if (n++ < 4)
				snprintf(line + strlen(line),
				    sizeof line - strlen(line), "%s%s",
				    n > 1 ? "; " : "", one);
		}
		if (other > 0)
			why_finding(w, "held", proto, "info",
			    "%zu socket%s "
			    "on %u/%s use%s only the address family not "
			    "asked for, so %s not in the way",
			    other, other > 1 ? "s" : "", w->port,
			    proto_of(proto), other > 1 ? "" : "s",
			    other > 1 ? "they are" : "it is");
		if (n == 0) {
			why_finding(w, "held", proto, "ok",
			    "no socket holds "
			    "%u/%s here",
			    w->port, proto_of(proto));
			continue;
		}
		if (n > 4)
			snprintf(line + strlen(line),
			    sizeof line - strlen(line), "; and %zu more",
			    n - 4);
		why_finding(w, "held", proto, "blocks",
		    "EADDRINUSE: %zu "
		    "socket%s hold%s %u/%s: %s",
		    n, n > 1 ? "s" : "", n > 1 ? "" : "s", w->port,
		    proto_of(proto), line);
	}
}

/* Several listeners on one address and port: only SO_REUSEPORT allows it
 * (for UDP SO_REUSEADDR too), and sock_diag does not show the option. */
static void
check_reuseport(struct why *w)
{
	size_t i, j, n;

	for (i = 0; i < w->nsocks; i++) {
		const struct pdx_socket *a = &w->socks[i];
		int first = 1;
		long uid = a->uid;

		if (!is_holder(a))
			continue;
		for (j = n = 0; j < w->nsocks; j++) {
			const struct pdx_socket *b = &w->socks[j];

			if (!is_holder(b) || b->proto != a->proto ||
			    b->family != a->family ||
			    memcmp(b->laddr, a->laddr, 16) != 0 ||
			    b->ifindex != a->ifindex)
				continue;
			if (j < i)
				first = 0;
			if (b->uid != uid)
				uid = -1;
			n++;
		}
		if (n < 2 || !first)
			continue;
		why_finding(w, "reuseport", a->proto, "info",
		    "%zu sockets "
		    "share %s%s%s:%u: an SO_REUSEPORT group%s (the kernel's "
		    "socket lists do not show the option; only it lets "
		    "several sockets bind one address and port). A new "
		    "socket %s%ld that sets SO_REUSEPORT before bind() joins "
		    "the group and shares its traffic instead of failing",
		    n, a->family == AF_INET6 ? "[" : "", a->local,
		    a->family == AF_INET6 ? "]" : "", a->lport,
		    a->proto == PDX_UDP ? " (for UDP, or SO_REUSEADDR)" : "",
		    uid >= 0 ? "of uid " : "of the same user, uid ",
		    uid >= 0 ? uid : a->uid);
	}
}

static void
check_dual_stack(struct why *w)
{
	size_t i, p;
	char one[256];

	for (p = 0; p < NWHYPROTO; p++) {
		int proto = why_protos[p].proto, v4held = 0, said = 0;

		if ((w->protos & proto) == 0)
			continue;
		for (i = 0; i < w->nsocks; i++) {
			const struct pdx_socket *s = &w->socks[i];

			if (s->proto != proto || !is_holder(s))
				continue;
			if (s->family == AF_INET)
				v4held = 1;
			if (s->family == AF_INET6 && is_wild(s) &&
			    s->v6only != 1 && (w->families & PDX_FAM_INET4)) {
				describe(s, one, sizeof one);
				why_finding(w, "dual_stack", proto, "blocks",
				    "%s is bound with IPV6_V6ONLY %s: it takes "
				    "IPv4 too, so a bind of 0.0.0.0:%u fails "
				    "with EADDRINUSE; the holder can set "
				    "IPV6_V6ONLY to leave IPv4 free "
				    "(net.ipv6.bindv6only is %d here)",
				    one,
				    s->v6only == 0
					? "off"
					: "probably off "
					  "(not shown by this socket list)",
				    w->port, w->bindv6only);
				said = 1;
			}
		}
		if (v4held && (w->families & PDX_FAM_INET6) &&
		    w->bindv6only == 0 && !said) {
			why_finding(w, "dual_stack", proto, "blocks",
			    "IPv4 sockets hold %u/%s and "
			    "net.ipv6.bindv6only is 0, so a socket bound to "
			    "[::]:%u takes IPv4 too and fails with EADDRINUSE; "
			    "with IPV6_V6ONLY set before bind() it takes IPv6 "
			    "alone",
			    w->port, proto_of(proto), w->port);
			said = 1;
		}
		if (!said && w->bindv6only >= 0 &&
		    w->families == (PDX_FAM_INET4 | PDX_FAM_INET6))
			why_finding(w, "dual_stack", proto, "info",
			    "net.ipv6.bindv6only is %d: a socket bound to "
			    "[::] %s",
			    w->bindv6only,
			    w->bindv6only == 0
				? "takes IPv4 too unless it sets IPV6_V6ONLY, so "
				  "it and a 0.0.0.0 socket cannot both have the "
				  "port"
				: "takes IPv6 alone unless it clears "
				  "IPV6_V6ONLY");
	}
}

static void
check_time_wait(struct why *w)
{
	size_t i, tw = 0, conn = 0;

	if ((w->protos & PDX_TCP) == 0)
		return;
	for (i = 0; i < w->nsocks; i++) {
		if (w->socks[i].proto != PDX_TCP || is_holder(&w->socks[i]))
			continue;
		if (w->socks[i].state == PDX_SS_TIME_WAIT)
			tw++;
		else
			conn++;
	}
	if (tw > 0)
		why_finding(w, "time_wait", PDX_TCP, "blocks",
		    "%zu "
		    "connection%s in TIME_WAIT use%s %u as %s local port "
		    "(gone within 60 s): a bind without SO_REUSEADDR fails "
		    "with EADDRINUSE until then; a socket that sets "
		    "SO_REUSEADDR can bind now if the program that left them "
		    "had set it too, as servers do",
		    tw, tw > 1 ? "s" : "", tw > 1 ? "" : "s", w->port,
		    tw > 1 ? "their" : "its");
	else
		why_finding(w, "time_wait", PDX_TCP, "ok",
		    "no connection "
		    "in TIME_WAIT uses %u",
		    w->port);
	if (conn > 0)
		why_finding(w, "connections", PDX_TCP, "blocks",
		    "%zu "
		    "connection%s use%s %u as %s local port (accepted by a "
		    "listener, or outgoing and given the port from the "
		    "ephemeral range): a bind without SO_REUSEADDR fails "
		    "with EADDRINUSE while %s open",
		    conn, conn > 1 ? "s" : "", conn > 1 ? "" : "s", w->port,
		    conn > 1 ? "their" : "its",
		    conn > 1 ? "they are" : "it is");
}

static void
check_ephemeral(struct why *w)
{
	int reserved = w->res_known && pdx_portset_has(&w->reserved, w->port);

	if (w->res_known && reserved)
		why_finding(w, "reserved", 0, "info",
		    "%u is in "
		    "net.ipv4.ip_local_reserved_ports: the kernel never gives "
		    "it to a socket that asks for any port; an explicit bind() "
		    "of it still works",
		    w->port);
	else if (!w->res_known)
		why_finding(w, "reserved", 0, "not_checked",
		    "net.ipv4.ip_local_reserved_ports could not be read");
	if (!w->eph_known) {
		why_finding(w, "ephemeral", 0, "not_checked",
		    "the ephemeral "
		    "range (net.ipv4.ip_local_port_range) could not be read");
		return;
	}
	if (w->port < w->eph_lo || w->port > w->eph_hi)
		why_finding(w, "ephemeral", 0, "ok",
		    "outside the ephemeral "
		    "range %u-%u: outgoing connections are not given %u",
		    w->eph_lo, w->eph_hi, w->port);
	else if (reserved)
		why_finding(w, "ephemeral", 0, "ok",
		    "inside the ephemeral "
		    "range %u-%u, but reserved, so outgoing connections are "
		    "not given it",
		    w->eph_lo, w->eph_hi);
	else
		why_finding(w, "ephemeral", 0, "warning",
		    "inside the "
		    "ephemeral range %u-%u: an outgoing connection may be "
		    "given %u at any time, and a bind then fails with "
		    "EADDRINUSE while it lasts; add it to "
		    "net.ipv4.ip_local_reserved_ports to keep it for a "
		    "service",
		    w->eph_lo, w->eph_hi, w->port);
}
/* The explanation's errno for a plain wildcard bind, per transport and
 * family; every check above has had its say by then. */
static void
predict(struct why *w)
{
	size_t p, f, i;

	for (p = 0; p < NWHYPROTO; p++)
		for (f = 0; f < NWHYFAM; f++) {
			int e = 0, fam = why_families[f].family;

			if (w->unpriv_start >= 0 &&
			    (long)w->port < w->unpriv_start && w->cap_bind != 1)
				e = EACCES;
			for (i = 0; e == 0 && i < w->nsocks; i++)
				if (w->socks[i].proto == why_protos[p].proto &&
				    conflicts(&w->socks[i], fam,
					w->bindv6only == 1))
					e = EADDRINUSE;
			w->expect[p][f] = e;
		}
}

static const struct why_check {
	const char *id;
	void (*run)(struct why *);
} why_checks[] = {
	{ "privileged", check_privileged },
	{ "held", check_holders },
	{ "reuseport", check_reuseport },
	{ "dual_stack", check_dual_stack },
	{ "time_wait", check_time_wait },
	{ "ephemeral", check_ephemeral },
};

/* ---- gathering -------------------------------------------------------- */

/* Are the namespace named name and ours the same one? */
static int
same_netns(const char *name)
{
	char path[300];
	struct stat a, b;

	snprintf(path, sizeof path, "/var/run/netns/%s", name);
	if (stat(path, &a) != 0 || stat("/proc/self/ns/net", &b) != 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
list_port(struct why *w, const char *netns, struct pdx_socket **v, size_t *n)
{
	struct pdx_sock_filter f;
	struct pdx_portset ps;

	pdx_sock_filter_init(&f);
	f.protos = w->protos;
	f.states = PDX_SSF_ALL;
	pdx_portset_clear(&ps);
	pdx_portset_add(&ps, w->port, w->port);
	f.ports = &ps;
	f.netns = netns;
	return pdx_sockets_list(&f, v, n, NULL);
}

/* Other named namespaces' sockets on the port, as JSON (new ref), and
 * their DNAT/redirect rules that capture it, added to dnat. */
static json_t *
other_netns(struct why *w, const char *here, json_t *dnat)
{
	json_t *out = json_array();
	struct pdx_socket *v;
	char **names;
	size_t nn, n, i, k;

	if (pdx_netns_list(&names, &nn) < 0) {
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < nn; i++) {
		if ((here != NULL && strcmp(names[i], here) == 0) ||
		    (here == NULL && same_netns(names[i])))
			continue;
		why_dnat_netns(w, names[i], dnat);
		if (list_port(w, names[i], &v, &n) < 0) {
			pdx_netns_list_free(names, nn);
			json_decref(out);
			return NULL;
		}
		(void)pdx_sockets_attribute(v, n, NULL);
		for (k = 0; k < n; k++)
			json_array_append_new(out,
			    pdx_socket_json(&v[k], NULL));
		pdx_sockets_free(v, n);
	}
	pdx_netns_list_free(names, nn);
	why_dnat_netns_done(w, dnat);
	return out;
}

static int
check_opts(const struct pdx_why_opts *o)
{
	if (o->port < 1 || o->port > 65535) {
		pdx_set_error("port %u is out of range 1-65535 (a bind to "
			      "port 0 asks the kernel for any free port)",
		    o->port);
		return -1;
	}
	if ((o->protos & ~(PDX_TCP | PDX_UDP)) != 0) {
		pdx_set_error("why answers for tcp and udp only");
		return -1;
	}
	if (o->netns != NULL && o->all_netns) {
		pdx_set_error("a namespace and every namespace exclude each "
			      "other");
		return -1;
	}
	return 0;
}

/* The sockets of this namespace, sorted into holders, TIME_WAIT and
 * connections, each with what it blocks. */
static void
socket_lists(struct why *w, const char *netns, json_t *out)
{
	json_t *holders = json_array(), *tw = json_array(),
	       *conn = json_array();
	size_t i, j, f;

	for (i = 0; i < w->nsocks; i++) {
		struct pdx_socket *s = &w->socks[i];
		json_t *o, *blocks;
		size_t group = 0;

		if (netns != NULL && s->netns == NULL)
			s->netns = strdup(netns);
		if ((o = pdx_socket_json(s, NULL)) == NULL)
			continue;
		if (!is_holder(s)) {
			json_array_append_new(s->state == PDX_SS_TIME_WAIT
				? tw
				: conn,
			    o);
			continue;
		}
		blocks = json_array();
		for (f = 0; f < NWHYFAM; f++)
			if ((w->families & why_families[f].bit) &&
			    conflicts(s, why_families[f].family,
				w->bindv6only == 1))
				json_array_append_new(blocks,
				    json_string(why_families[f].name));
		for (j = 0; j < w->nsocks; j++)
			if (is_holder(&w->socks[j]) &&
			    w->socks[j].proto == s->proto &&
			    w->socks[j].family == s->family &&
			    w->socks[j].ifindex == s->ifindex &&
			    memcmp(w->socks[j].laddr, s->laddr, 16) == 0)
				group++;
		json_object_set_new(o, "blocks", blocks);
		json_object_set_new(o, "reuseport_group",
		    group > 1 ? json_integer((json_int_t)group) : json_null());
		json_array_append_new(holders, o);
	}
	json_object_set_new(out, "holders", holders);
	json_object_set_new(out, "time_wait", tw);
	json_object_set_new(out, "connections", conn);
}

static json_t *
way_out(struct why *w, struct pdx_db *db, int would_bind)
{
	char cmd[96];
	json_t *sugg = json_null();

	snprintf(cmd, sizeof cmd, "portdex pick --near %u%s%s", w->port,
	    w->protos == PDX_TCP       ? " --proto tcp"
		: w->protos == PDX_UDP ? " --proto udp"
				       : "",
	    "");
	if (db != NULL && !would_bind) {
		struct pdx_portset range;
		struct pdx_pick_opts po;
		json_t *r;
		size_t i;

		/* IANA's user range, without the port asked about */
		pdx_portset_clear(&range);
		if (w->port > PDX_PICK_LO)
			pdx_portset_add(&range, PDX_PICK_LO,
			    w->port <= PDX_PICK_HI ? w->port - 1 : PDX_PICK_HI);
		if (w->port < PDX_PICK_HI)
			pdx_portset_add(&range,
			    w->port >= PDX_PICK_LO ? w->port + 1 : PDX_PICK_LO,
			    PDX_PICK_HI);
		memset(&po, 0, sizeof po);
		po.range = &range;
		po.count = 3;
		po.protos = w->protos;
		po.near = (int)w->port;
		po.max_freq = -1;
		if ((r = pdx_pick(db, &po)) != NULL) {
			json_t *s = json_object_get(r, "suggestions");

			json_decref(sugg);
			sugg = json_array();
			for (i = 0; i < json_array_size(s); i++)
				json_array_append(sugg,
				    json_object_get(json_array_get(s, i),
					"port"));
			json_decref(r);
		}
	}
	return json_pack("{s:s, s:o}", "command", cmd, "suggestions", sugg);
}

/* ---- the stages of pdx_why ------------------------------------------- */

/* A struct why for the options, with no facts yet; NULL (error set). */
static struct why *
why_new(const struct pdx_why_opts *o)
{
	struct why *w;

	if ((w = calloc(1, sizeof *w)) == NULL) {
		pdx_set_error("why: out of memory");
		return NULL;
	}
	w->port = o->port;
	w->protos = o->protos != 0 ? o->protos : PDX_TCP | PDX_UDP;
	w->families = o->families != 0 ? o->families
				       : PDX_FAM_INET4 | PDX_FAM_INET6;
	w->findings = json_array();
	return w;
}

/* Frees w and its sockets; not w->findings, which the answer owns. */
static void
why_free(struct why *w)
{
	pdx_sockets_free(w->socks, w->nsocks);
	free(w);
}

/*
 * The facts of the namespace we are in: the sockets using the port with
 * their holders, the kernel's ranges and settings, the caller's
 * capability.  -1 (error set) when the sockets cannot be listed.
 */
static int
gather(struct why *w)
{
	if (list_port(w, NULL, &w->socks, &w->nsocks) < 0)
		return -1;
	/* no pids (permission) is not a failure: the sockets still stand */
	(void)pdx_sockets_attribute(w->socks, w->nsocks, NULL);
	w->eph_known = pdx_ephemeral_range(NULL, &w->eph_lo, &w->eph_hi) == 0;
	w->res_known = pdx_reserved_ports(NULL, &w->reserved) == 0;
	w->unpriv_start = read_long(SYSCTL_UNPRIV);
	w->bindv6only = (int)read_long(SYSCTL_V6ONLY);
	w->cap_bind = cap_net_bind();
	return 0;
}

/* Does a plain bind asked about fail: by the real binds when tried,
 * else by the explanation? */
static int
bind_fails(const struct why *w, int tried, int got[NWHYPROTO][NWHYFAM])
{
	size_t p, f;

	for (p = 0; p < NWHYPROTO; p++)
		for (f = 0; f < NWHYFAM; f++)
			if ((w->protos & why_protos[p].proto) &&
			    (w->families & why_families[f].bit) &&
			    (tried ? got[p][f] > 0 : w->expect[p][f] != 0))
				return 1;
	return 0;
}

/* The verdict: the real binds when tried, else the explanation. */
struct verdict {
	json_t *expected; /* the explanation's errno per bind */
	int would;	  /* would every plain bind asked about work */
	int first_err;	  /* the first failing bind's errno */
	int from_bind;	  /* decided by real binds */
};

/* A tried bind that disagrees with the explanation, as a finding. */
static void
disagrees(struct why *w, size_t p, size_t f, int e, int got)
{
	why_finding(w, "bind", why_protos[p].proto, "info",
	    "the "
	    "explanation expected %s for %s but bind() on %s said %s%s",
	    e != 0 ? why_errname(e) : "success", why_families[f].wildcard,
	    why_families[f].wildcard, got != 0 ? why_errname(got) : "success",
	    got == EADDRINUSE
		? ": a TCP socket bound but not "
		  "listening, or a socket in a state the kernel's lists leave "
		  "out, holds it"
		: "");
}

static void
verdict(struct why *w, int tried, int got[NWHYPROTO][NWHYFAM],
    struct verdict *v)
{
	size_t p, f;
	int any = 0;

	v->expected = json_array();
	v->would = 1;
	v->first_err = 0;
	for (p = 0; p < NWHYPROTO; p++)
		for (f = 0; f < NWHYFAM; f++) {
			int e = w->expect[p][f];

			if ((w->protos & why_protos[p].proto) == 0 ||
			    (w->families & why_families[f].bit) == 0)
				continue;
			json_array_append_new(v->expected,
			    json_pack("{s:s, "
				      "s:s, s:o}",
				"transport", proto_of(why_protos[p].proto),
				"family", why_families[f].name, "errno",
				e != 0 ? json_string(why_errname(e))
				       : json_null()));
			if (tried) {
				if (got[p][f] < 0)
					continue; /* no IPv6 here */
				any = 1;
				if (got[p][f] != e)
					disagrees(w, p, f, e, got[p][f]);
				e = got[p][f];
			}
			if (e != 0 && v->would) {
				v->would = 0;
				v->first_err = e;
			}
		}
	v->from_bind = tried && any;
}

/* The answer without its socket lists (new ref; takes binds, dnat, way
 * and the verdict's expected), or NULL. */
static json_t *
document(struct why *w, const struct pdx_why_opts *o, const struct verdict *v,
    json_t *binds, json_t *dnat, json_t *way)
{
	json_t *eph, *tr, *fams;
	size_t p, f;

	eph = w->eph_known ? json_pack("{s:i, s:i, s:b}", "lo", (int)w->eph_lo,
				 "hi", (int)w->eph_hi, "inside",
				 w->port >= w->eph_lo && w->port <= w->eph_hi)
			   : json_null();
	tr = json_array();
	for (p = 0; p < NWHYPROTO; p++)
		if (w->protos & why_protos[p].proto)
			json_array_append_new(tr,
			    json_string(proto_of(why_protos[p].proto)));
	fams = json_array();
	for (f = 0; f < NWHYFAM; f++)
		if (w->families & why_families[f].bit)
			json_array_append_new(fams,
			    json_string(why_families[f].name));
	return json_pack("{s:i, s:o, s:o, s:o, s:b, s:s, s:o, s:o, s:o, s:o,"
			 " s:{s:o, s:o, s:o, s:o}, s:{s:i, s:o}, s:o, s:o}",
	    "port", (int)w->port, "transports", tr, "families", fams, "netns",
	    o->netns != NULL ? json_string(o->netns) : json_null(),
	    "would_bind", v->would, "verdict_from",
	    v->from_bind ? "bind" : "explanation", "errno",
	    v->first_err != 0 ? json_string(why_errname(v->first_err))
			      : json_null(),
	    "expected", v->expected, "findings", w->findings, "binds", binds,
	    "kernel", "ephemeral", eph, "reserved",
	    w->res_known ? json_boolean(pdx_portset_has(&w->reserved, w->port))
			 : json_null(),
	    "unprivileged_port_start",
	    w->unpriv_start >= 0 ? json_integer(w->unpriv_start) : json_null(),
	    "bindv6only",
	    w->bindv6only >= 0 ? json_integer(w->bindv6only) : json_null(),
	    "caller", "euid", (int)geteuid(), "cap_net_bind_service",
	    w->cap_bind >= 0 ? json_boolean(w->cap_bind) : json_null(), "dnat",
	    dnat, "way_out", way);
}

/*
 * In the namespace asked about: the facts, the checks, the DNAT rules,
 * the prediction, the real binds when asked, the way out (pick's own
 * bind checks must run there too).  Then, back home, the other
 * namespaces, the verdict and the document.
 */
json_t *
pdx_why(const struct pdx_why_opts *o)
{
	struct why *w;
	struct verdict v;
	json_t *out, *binds, *others = NULL, *dnat, *way;
	int saved = -1, got[NWHYPROTO][NWHYFAM];
	size_t i;

	if (check_opts(o) != 0 || (w = why_new(o)) == NULL)
		return NULL;
	memset(got, 0, sizeof got);
	binds = json_array();
	if (o->netns != NULL && (saved = pdx_netns_enter(o->netns)) < 0)
		goto fail;
	if (gather(w) < 0)
		goto fail;
	for (i = 0; i < sizeof why_checks / sizeof *why_checks; i++)
		why_checks[i].run(w);
	dnat = why_dnat_capture(w, o->netns);
	predict(w);
	if (o->try_bind) {
		why_run_binds(w, binds, got);
		why_tried_options(w, binds);
	}
	way = way_out(w, o->db, !bind_fails(w, o->try_bind, got));
	if (saved >= 0) {
		int rc = pdx_netns_leave(saved);

		saved = -1;
		if (rc < 0)
			goto fail_dnat;
	}
	if (o->all_netns && (others = other_netns(w, o->netns, dnat)) == NULL)
		goto fail_dnat;
	verdict(w, o->try_bind, got, &v);
	if ((out = document(w, o, &v, binds, dnat, way)) == NULL) {
		pdx_set_error("why: out of memory");
		json_decref(others);
	} else {
		socket_lists(w, o->netns, out);
		json_object_set_new(out, "other_netns",
		    others != NULL ? others : json_array());
	}
	why_free(w);
	return out;
fail_dnat:
	json_decref(dnat);
	json_decref(way);
fail:
	if (saved >= 0)
		(void)pdx_netns_leave(saved);
	json_decref(binds);
	json_decref(w->findings);
	why_free(w);
	return NULL;
}
