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
#define _GNU_SOURCE	/* capget through syscall() */
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
#include "portdex/firewall.h"

#define SYSCTL_UNPRIV	"/proc/sys/net/ipv4/ip_unprivileged_port_start"
#define SYSCTL_V6ONLY	"/proc/sys/net/ipv6/bindv6only"
#define TEXTMAX		1024

static const struct why_proto {
	int		 proto;
	int		 type;
} why_protos[] = {
	{ PDX_TCP, SOCK_STREAM },
	{ PDX_UDP, SOCK_DGRAM },
};
#define NWHYPROTO (sizeof why_protos / sizeof *why_protos)

static const struct why_family {
	int		 family;
	int		 bit;		/* PDX_FAM_* */
	const char	*name;
	const char	*wildcard;
} why_families[] = {
	{ AF_INET, PDX_FAM_INET4, "ipv4", "0.0.0.0" },
	{ AF_INET6, PDX_FAM_INET6, "ipv6", "::" },
};
#define NWHYFAM (sizeof why_families / sizeof *why_families)

/* What the checks read, gathered once. */
struct why {
	unsigned		 port;
	int			 protos, families;
	struct pdx_socket	*socks;		/* this namespace, port P */
	size_t			 nsocks;
	unsigned		 eph_lo, eph_hi;
	int			 eph_known;
	struct pdx_portset	 reserved;
	int			 res_known;
	long			 unpriv_start;	/* -1: unknown */
	int			 bindv6only;	/* -1: unknown */
	int			 cap_bind;	/* -1: unknown */
	/* predicted errno per transport and family (0: the bind works) */
	int			 expect[NWHYPROTO][NWHYFAM];
	json_t			*findings;
};

/* ---- small helpers ---------------------------------------------------- */

static const struct errno_name {
	int		 err;
	const char	*name;
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

static const char *
errno_name(int e)
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
	return 1;	/* UDP: every socket listed is bound */
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

static void
add_finding(struct why *w, const char *check, int proto, const char *effect,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
add_finding(struct why *w, const char *check, int proto, const char *effect,
    const char *fmt, ...)
{
	char text[TEXTMAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	json_array_append_new(w->findings, json_pack("{s:s, s:o, s:s, s:s}",
	    "check", check, "transport", proto != 0 ?
	    json_string(proto_of(proto)) : json_null(), "effect", effect,
	    "text", text));
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
		    s->container != NULL ? s->container :
		    s->unit != NULL ? s->unit : "");
	else if (s->inode != 0)
		snprintf(buf + len, n - len, " (uid %ld, process not found: "
		    "%s)", s->uid, geteuid() == 0 ? "another PID namespace "
		    "or the kernel" : "run as root to see it");
}

/* ---- the checks ------------------------------------------------------- */

static void
check_privileged(struct why *w)
{
	if (w->unpriv_start < 0) {
		add_finding(w, "privileged", 0, "not_checked", "%s could not "
		    "be read: whether %u needs privilege is unknown",
		    SYSCTL_UNPRIV, w->port);
		return;
	}
	if ((long)w->port >= w->unpriv_start) {
		add_finding(w, "privileged", 0, "ok", "no privilege needed: "
		    "%u is not below net.ipv4.ip_unprivileged_port_start "
		    "(%ld)", w->port, w->unpriv_start);
		return;
	}
	if (w->cap_bind == 1)
		add_finding(w, "privileged", 0, "ok", "%u is below "
		    "net.ipv4.ip_unprivileged_port_start (%ld), and you have "
		    "CAP_NET_BIND_SERVICE", w->port, w->unpriv_start);
	else
		add_finding(w, "privileged", 0, "blocks", "EACCES: %u is "
		    "below net.ipv4.ip_unprivileged_port_start (%ld) and you "
		    "(uid %ld) %s CAP_NET_BIND_SERVICE; run the service as "
		    "root, give it the capability (setcap "
		    "cap_net_bind_service=+ep on the binary, or a systemd "
		    "unit's AmbientCapabilities=CAP_NET_BIND_SERVICE), lower "
		    "the sysctl, or use a port from %ld up", w->port,
		    w->unpriv_start, (long)geteuid(), w->cap_bind == 0 ?
		    "lack" : "may lack (capget failed)", w->unpriv_start);
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
				snprintf(line + strlen(line), sizeof line -
				    strlen(line), "%s%s", n > 1 ? "; " : "",
				    one);
		}
		if (other > 0)
			add_finding(w, "held", proto, "info", "%zu socket%s "
			    "on %u/%s use%s only the address family not "
			    "asked for, so %s not in the way", other,
			    other > 1 ? "s" : "", w->port, proto_of(proto),
			    other > 1 ? "" : "s", other > 1 ? "they are" :
			    "it is");
		if (n == 0) {
			add_finding(w, "held", proto, "ok", "no socket holds "
			    "%u/%s here", w->port, proto_of(proto));
			continue;
		}
		if (n > 4)
			snprintf(line + strlen(line), sizeof line -
			    strlen(line), "; and %zu more", n - 4);
		add_finding(w, "held", proto, "blocks", "EADDRINUSE: %zu "
		    "socket%s hold%s %u/%s: %s", n, n > 1 ? "s" : "",
		    n > 1 ? "" : "s", w->port, proto_of(proto), line);
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
		add_finding(w, "reuseport", a->proto, "info", "%zu sockets "
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
				add_finding(w, "dual_stack", proto, "blocks",
				    "%s is bound with IPV6_V6ONLY %s: it takes "
				    "IPv4 too, so a bind of 0.0.0.0:%u fails "
				    "with EADDRINUSE; the holder can set "
				    "IPV6_V6ONLY to leave IPv4 free "
				    "(net.ipv6.bindv6only is %d here)", one,
				    s->v6only == 0 ? "off" : "probably off "
				    "(not shown by this socket list)", w->port,
				    w->bindv6only);
				said = 1;
			}
		}
		if (v4held && (w->families & PDX_FAM_INET6) &&
		    w->bindv6only == 0 && !said) {
			add_finding(w, "dual_stack", proto, "blocks",
			    "IPv4 sockets hold %u/%s and "
			    "net.ipv6.bindv6only is 0, so a socket bound to "
			    "[::]:%u takes IPv4 too and fails with EADDRINUSE; "
			    "with IPV6_V6ONLY set before bind() it takes IPv6 "
			    "alone", w->port, proto_of(proto), w->port);
			said = 1;
		}
		if (!said && w->bindv6only >= 0 &&
		    w->families == (PDX_FAM_INET4 | PDX_FAM_INET6))
			add_finding(w, "dual_stack", proto, "info",
			    "net.ipv6.bindv6only is %d: a socket bound to "
			    "[::] %s", w->bindv6only, w->bindv6only == 0 ?
			    "takes IPv4 too unless it sets IPV6_V6ONLY, so "
			    "it and a 0.0.0.0 socket cannot both have the "
			    "port" : "takes IPv6 alone unless it clears "
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
		add_finding(w, "time_wait", PDX_TCP, "blocks", "%zu "
		    "connection%s in TIME_WAIT use%s %u as %s local port "
		    "(gone within 60 s): a bind without SO_REUSEADDR fails "
		    "with EADDRINUSE until then; a socket that sets "
		    "SO_REUSEADDR can bind now if the program that left them "
		    "had set it too, as servers do", tw, tw > 1 ? "s" : "",
		    tw > 1 ? "" : "s", w->port, tw > 1 ? "their" : "its");
	else
		add_finding(w, "time_wait", PDX_TCP, "ok", "no connection "
		    "in TIME_WAIT uses %u", w->port);
	if (conn > 0)
		add_finding(w, "connections", PDX_TCP, "blocks", "%zu "
		    "connection%s use%s %u as %s local port (accepted by a "
		    "listener, or outgoing and given the port from the "
		    "ephemeral range): a bind without SO_REUSEADDR fails "
		    "with EADDRINUSE while %s open", conn, conn > 1 ? "s" :
		    "", conn > 1 ? "" : "s", w->port, conn > 1 ? "their" :
		    "its", conn > 1 ? "they are" : "it is");
}

static void
check_ephemeral(struct why *w)
{
	int reserved = w->res_known && pdx_portset_has(&w->reserved, w->port);

	if (w->res_known && reserved)
		add_finding(w, "reserved", 0, "info", "%u is in "
		    "net.ipv4.ip_local_reserved_ports: the kernel never gives "
		    "it to a socket that asks for any port; an explicit bind() "
		    "of it still works", w->port);
	else if (!w->res_known)
		add_finding(w, "reserved", 0, "not_checked",
		    "net.ipv4.ip_local_reserved_ports could not be read");
	if (!w->eph_known) {
		add_finding(w, "ephemeral", 0, "not_checked", "the ephemeral "
		    "range (net.ipv4.ip_local_port_range) could not be read");
		return;
	}
	if (w->port < w->eph_lo || w->port > w->eph_hi)
		add_finding(w, "ephemeral", 0, "ok", "outside the ephemeral "
		    "range %u-%u: outgoing connections are not given %u",
		    w->eph_lo, w->eph_hi, w->port);
	else if (reserved)
		add_finding(w, "ephemeral", 0, "ok", "inside the ephemeral "
		    "range %u-%u, but reserved, so outgoing connections are "
		    "not given it", w->eph_lo, w->eph_hi);
	else
		add_finding(w, "ephemeral", 0, "warning", "inside the "
		    "ephemeral range %u-%u: an outgoing connection may be "
		    "given %u at any time, and a bind then fails with "
		    "EADDRINUSE while it lasts; add it to "
		    "net.ipv4.ip_local_reserved_ports to keep it for a "
		    "service", w->eph_lo, w->eph_hi, w->port);
}

/*
 * A DNAT or redirect rule on the prerouting path that captures the port
 * before a local socket sees it (issue 16, published ports).  The ruleset
 * is read in the namespace asked about (lib/firewall.c); a ruleset that
 * cannot be read (no CAP_NET_ADMIN, no libnftables) answers "not
 * checked" with the reason, never "no DNAT rule".  A capture does not
 * stop a bind, so it is a warning, not a block: the bind succeeds (and
 * the exit status says so), but connections from other machines for the
 * port go to the rule's destination instead of the socket.  Returns a new
 * {checked, text, rules_read, captures [..], legacy} object.
 */
#define MAX_CAPTURES	16

static int
captures_port(const struct why *w, const struct pdx_published *e)
{
	if (w->port < e->port_lo || w->port > e->port_hi)
		return 0;
	if (e->proto != 0 && (e->proto & w->protos) == 0)
		return 0;
	if (e->family == 0 || (e->family == AF_INET &&
	    (w->families & PDX_FAM_INET4)) || (e->family == AF_INET6 &&
	    (w->families & PDX_FAM_INET6)))
		return 1;
	/* IPv4 traffic also reaches a "::" socket that is not v6-only */
	return e->family == AF_INET && (w->families & PDX_FAM_INET6) &&
	    w->bindv6only != 1;
}

static json_t *
why_dnat_capture(struct why *w)
{
	struct pdx_ruleset *rs = pdx_ruleset_read(NULL);
	struct pdx_published *pub = NULL;
	const char *legacy;
	char text[TEXTMAX], to[96];
	json_t *caps, *out;
	size_t i, npub = 0, n = 0, nwarn = 0;

	if (rs == NULL || pdx_ruleset_error(rs) != NULL ||
	    pdx_firewall_published(rs, &pub, &npub) < 0) {
		snprintf(text, sizeof text, "not checked: %s, so a "
		    "DNAT/redirect rule that sends traffic for %u elsewhere "
		    "before it reaches a socket would not show here",
		    rs != NULL && pdx_ruleset_error(rs) != NULL ?
		    pdx_ruleset_error(rs) : pdx_last_error(), w->port);
		add_finding(w, "dnat", 0, "not_checked", "%s", text);
		pdx_ruleset_free(rs);
		return json_pack("{s:b, s:s, s:n, s:[], s:n}", "checked", 0,
		    "text", text, "rules_read", "captures", "legacy");
	}
	caps = json_array();
	for (i = 0; i < npub; i++) {
		const struct pdx_published *e = &pub[i];
		unsigned dport = e->to_port != 0 ? e->to_port : w->port;
		int same = strcmp(e->kind, "redirect") == 0 &&
		    dport == w->port;
		json_t *o;

		if (!captures_port(w, e))
			continue;
		if (n++ >= MAX_CAPTURES)
			continue;
		if (e->to_addr[0] != '\0')
			snprintf(to, sizeof to, strchr(e->to_addr, ':') !=
			    NULL ? "[%s]:%u" : "%s:%u", e->to_addr, dport);
		else
			snprintf(to, sizeof to, "port %u of this machine",
			    dport);
		if (same)
			snprintf(text, sizeof text, "a redirect rule (%s) "
			    "sends %s traffic for %u to the same port of this "
			    "machine: a socket bound to %u still gets it",
			    e->rule, e->proto != 0 ? pdx_proto_name(e->proto)
			    : "all", w->port, w->port);
		else
			snprintf(text, sizeof text, "captured: %s traffic "
			    "from the network for %u is sent to %s by a %s "
			    "rule (%s) before any socket here sees it; a bind "
			    "succeeds, but a server on %u gets none of the "
			    "traffic other machines send to it (what this "
			    "machine sends itself takes the output hook, not "
			    "prerouting); the destination's firewall verdict: "
			    "%s", e->proto != 0 ? pdx_proto_name(e->proto) :
			    "all", w->port, to, strcmp(e->kind, "dnat") == 0 ?
			    "DNAT" : "redirect", e->rule, w->port,
			    pdx_reach_name(e->reach.reach));
		if (!same && nwarn++ < 4)
			add_finding(w, "dnat", e->proto & (PDX_TCP | PDX_UDP),
			    "warning", "%s", text);
		else if (same)
			add_finding(w, "dnat", e->proto & (PDX_TCP | PDX_UDP),
			    "info", "%s", text);
		if ((o = pdx_published_json(e)) != NULL) {
			json_object_set_new(o, "captures", json_boolean(!same));
			json_object_set_new(o, "text", json_string(text));
			json_array_append_new(caps, o);
		}
	}
	if (nwarn > 4)
		add_finding(w, "dnat", 0, "warning", "and %zu more DNAT/"
		    "redirect rules capture %u", nwarn - 4, w->port);
	if (n == 0) {
		snprintf(text, sizeof text, "no DNAT or redirect rule on the "
		    "prerouting path captures %u (%zu nftables rules read)",
		    w->port, pdx_ruleset_rules(rs));
		add_finding(w, "dnat", 0, "ok", "%s", text);
	} else
		snprintf(text, sizeof text, "%zu DNAT/redirect rule%s on the "
		    "prerouting path match%s %u", n, n > 1 ? "s" : "",
		    n > 1 ? "" : "es", w->port);
	legacy = pdx_ruleset_legacy(rs);
	if (legacy != NULL)
		add_finding(w, "dnat", 0, "not_checked", "legacy xtables "
		    "tables (%s) were not evaluated: a DNAT rule made with "
		    "iptables-legacy would not show here", legacy);
	out = json_pack("{s:b, s:s, s:I, s:o, s:s?}", "checked", 1, "text",
	    text, "rules_read", (json_int_t)pdx_ruleset_rules(rs), "captures",
	    caps, "legacy", legacy);
	free(pub);
	pdx_ruleset_free(rs);
	return out;
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
			    (long)w->port < w->unpriv_start &&
			    w->cap_bind != 1)
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
	const char	*id;
	void		(*run)(struct why *);
} why_checks[] = {
	{ "privileged", check_privileged },
	{ "held", check_holders },
	{ "reuseport", check_reuseport },
	{ "dual_stack", check_dual_stack },
	{ "time_wait", check_time_wait },
	{ "ephemeral", check_ephemeral },
};

/* ---- real binds ------------------------------------------------------- */

enum bind_opt { OPT_NONE, OPT_REUSEADDR, OPT_REUSEPORT, OPT_V6ONLY };
static const char *const bind_opt_names[] = {
	"none", "SO_REUSEADDR", "SO_REUSEPORT", "IPV6_V6ONLY",
};

/* 0 when bind() succeeded (the socket is closed at once), else errno. */
static int
try_bind(int family, int type, unsigned port, enum bind_opt opt)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, e = 0;

	if ((fd = socket(family, type | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	if (opt == OPT_REUSEADDR)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof one);
#ifdef SO_REUSEPORT
	if (opt == OPT_REUSEPORT)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
		    sizeof one);
#endif
	if (opt == OPT_V6ONLY)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof one);
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof *sin6;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		e = errno;
	close(fd);
	return e;
}

static void
add_bind(json_t *binds, int proto, const struct why_family *f,
    enum bind_opt opt, int e)
{
	json_array_append_new(binds, json_pack("{s:s, s:s, s:s, s:s, s:b,"
	    " s:o, s:o}", "transport", proto_of(proto), "family", f->name,
	    "address", f->wildcard, "option", bind_opt_names[opt],
	    "ok", e == 0, "errno", e != 0 ? json_string(errno_name(e)) :
	    json_null(), "error", e != 0 ? json_string(strerror(e)) :
	    json_null()));
}

/*
 * The plain binds (what decides the verdict; -1 in got[][] when a family
 * is not offered here) and, when one fails with EADDRINUSE, the options
 * that might get around it: for TCP SO_REUSEADDR and SO_REUSEPORT (a TCP
 * socket that is never listening takes no traffic), for IPv6
 * IPV6_V6ONLY.
 */
static void
run_binds(struct why *w, json_t *binds, int got[NWHYPROTO][NWHYFAM])
{
	size_t p, f;

	for (p = 0; p < NWHYPROTO; p++)
		for (f = 0; f < NWHYFAM; f++) {
			const struct why_family *fm = &why_families[f];
			int proto = why_protos[p].proto, type =
			    why_protos[p].type, e;

			got[p][f] = 0;
			if ((w->protos & proto) == 0 ||
			    (w->families & fm->bit) == 0)
				continue;
			e = try_bind(fm->family, type, w->port, OPT_NONE);
			if (e == EAFNOSUPPORT) {
				got[p][f] = -1;
				continue;
			}
			got[p][f] = e;
			add_bind(binds, proto, fm, OPT_NONE, e);
			if (e != EADDRINUSE)
				continue;
			if (proto == PDX_TCP) {
				add_bind(binds, proto, fm, OPT_REUSEADDR,
				    try_bind(fm->family, type, w->port,
				    OPT_REUSEADDR));
#ifdef SO_REUSEPORT
				add_bind(binds, proto, fm, OPT_REUSEPORT,
				    try_bind(fm->family, type, w->port,
				    OPT_REUSEPORT));
#endif
			}
			if (fm->family == AF_INET6 && w->bindv6only != 1)
				add_bind(binds, proto, fm, OPT_V6ONLY,
				    try_bind(fm->family, type, w->port,
				    OPT_V6ONLY));
		}
}

/* The options that got a failing bind through, as findings. */
static void
tried_options(struct why *w, json_t *binds)
{
	size_t i;

	for (i = 0; i < json_array_size(binds); i++) {
		json_t *b = json_array_get(binds, i);
		const char *opt = json_string_value(json_object_get(b,
		    "option"));
		const char *fam = json_string_value(json_object_get(b,
		    "family"));

		if (strcmp(opt, "none") == 0 ||
		    !json_is_true(json_object_get(b, "ok")))
			continue;
		add_finding(w, "bind", pdx_proto_parse(json_string_value(
		    json_object_get(b, "transport"))), "info", "a socket "
		    "that sets %s before bind() gets %s%s%s:%u now (tried)",
		    opt, strcmp(fam, "ipv6") == 0 ? "[" : "",
		    json_string_value(json_object_get(b, "address")),
		    strcmp(fam, "ipv6") == 0 ? "]" : "", w->port);
	}
}

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
list_port(struct why *w, const char *netns, struct pdx_socket **v,
    size_t *n)
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

/* Other named namespaces' sockets on the port, as JSON (new ref). */
static json_t *
other_netns(struct why *w, const char *here)
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
		if (list_port(w, names[i], &v, &n) < 0) {
			pdx_netns_list_free(names, nn);
			json_decref(out);
			return NULL;
		}
		(void)pdx_sockets_attribute(v, n, NULL);
		for (k = 0; k < n; k++)
			json_array_append_new(out, pdx_socket_json(&v[k],
			    NULL));
		pdx_sockets_free(v, n);
	}
	pdx_netns_list_free(names, nn);
	return out;
}

static int
check_opts(const struct pdx_why_opts *o)
{
	if (o->port < 1 || o->port > 65535) {
		pdx_set_error("port %u is out of range 1-65535 (a bind to "
		    "port 0 asks the kernel for any free port)", o->port);
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
			json_array_append_new(s->state == PDX_SS_TIME_WAIT ?
			    tw : conn, o);
			continue;
		}
		blocks = json_array();
		for (f = 0; f < NWHYFAM; f++)
			if ((w->families & why_families[f].bit) &&
			    conflicts(s, why_families[f].family,
			    w->bindv6only == 1))
				json_array_append_new(blocks, json_string(
				    why_families[f].name));
		for (j = 0; j < w->nsocks; j++)
			if (is_holder(&w->socks[j]) &&
			    w->socks[j].proto == s->proto &&
			    w->socks[j].family == s->family &&
			    w->socks[j].ifindex == s->ifindex &&
			    memcmp(w->socks[j].laddr, s->laddr, 16) == 0)
				group++;
		json_object_set_new(o, "blocks", blocks);
		json_object_set_new(o, "reuseport_group", group > 1 ?
		    json_integer((json_int_t)group) : json_null());
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
	    w->protos == PDX_TCP ? " --proto tcp" : w->protos == PDX_UDP ?
	    " --proto udp" : "", "");
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
			pdx_portset_add(&range, w->port >= PDX_PICK_LO ?
			    w->port + 1 : PDX_PICK_LO, PDX_PICK_HI);
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
				json_array_append(sugg, json_object_get(
				    json_array_get(s, i), "port"));
			json_decref(r);
		}
	}
	return json_pack("{s:s, s:o}", "command", cmd, "suggestions", sugg);
}

json_t *
pdx_why(const struct pdx_why_opts *o)
{
	struct why *w;
	json_t *out = NULL, *binds, *expected, *tr, *fams, *others = NULL,
	    *eph, *dnat, *way = NULL;
	int saved = -1, got[NWHYPROTO][NWHYFAM], would = 1, from_bind = 0,
	    first_err = 0, any, fails = 0;
	size_t p, f, i;

	if (check_opts(o) != 0)
		return NULL;
	memset(got, 0, sizeof got);
	if ((w = calloc(1, sizeof *w)) == NULL) {
		pdx_set_error("why: out of memory");
		return NULL;
	}
	w->port = o->port;
	w->protos = o->protos != 0 ? o->protos : PDX_TCP | PDX_UDP;
	w->families = o->families != 0 ? o->families :
	    PDX_FAM_INET4 | PDX_FAM_INET6;
	w->findings = json_array();
	binds = json_array();

	/* everything below is about the namespace asked for */
	if (o->netns != NULL && (saved = pdx_netns_enter(o->netns)) < 0)
		goto fail;
	if (list_port(w, NULL, &w->socks, &w->nsocks) < 0)
		goto fail;
	/* no pids (permission) is not a failure: the sockets still stand */
	(void)pdx_sockets_attribute(w->socks, w->nsocks, NULL);
	w->eph_known = pdx_ephemeral_range(NULL, &w->eph_lo, &w->eph_hi) == 0;
	w->res_known = pdx_reserved_ports(NULL, &w->reserved) == 0;
	w->unpriv_start = read_long(SYSCTL_UNPRIV);
	w->bindv6only = (int)read_long(SYSCTL_V6ONLY);
	w->cap_bind = cap_net_bind();
	for (i = 0; i < sizeof why_checks / sizeof *why_checks; i++)
		why_checks[i].run(w);
	dnat = why_dnat_capture(w);
	predict(w);
	if (o->try_bind) {
		run_binds(w, binds, got);
		tried_options(w, binds);
	}
	/* pick's own bind checks must run in the namespace asked about */
	for (p = 0; p < NWHYPROTO; p++)
		for (f = 0; f < NWHYFAM; f++)
			if ((w->protos & why_protos[p].proto) &&
			    (w->families & why_families[f].bit) &&
			    (o->try_bind ? got[p][f] > 0 : w->expect[p][f] != 0))
				fails = 1;
	way = way_out(w, o->db, !fails);
	if (saved >= 0) {
		int rc = pdx_netns_leave(saved);

		saved = -1;
		if (rc < 0)
			goto fail_dnat;
	}
	if (o->all_netns && (others = other_netns(w, o->netns)) == NULL)
		goto fail_dnat;

	/* the verdict: the real binds when tried, else the explanation */
	expected = json_array();
	any = 0;
	for (p = 0; p < NWHYPROTO; p++)
		for (f = 0; f < NWHYFAM; f++) {
			int e = w->expect[p][f];

			if ((w->protos & why_protos[p].proto) == 0 ||
			    (w->families & why_families[f].bit) == 0)
				continue;
			json_array_append_new(expected, json_pack("{s:s, s:s,"
			    " s:o}", "transport", proto_of(why_protos[p].proto),
			    "family", why_families[f].name, "errno", e != 0 ?
			    json_string(errno_name(e)) : json_null()));
			if (o->try_bind) {
				if (got[p][f] < 0)
					continue;	/* no IPv6 here */
				any = 1;
				if (got[p][f] != e)
					add_finding(w, "bind", why_protos[p].proto,
					    "info", "the explanation expected "
					    "%s for %s but bind() on %s said %s%s",
					    e != 0 ? errno_name(e) : "success",
					    why_families[f].wildcard,
					    why_families[f].wildcard,
					    got[p][f] != 0 ? errno_name(got[p][f])
					    : "success", got[p][f] == EADDRINUSE ?
					    ": a TCP socket bound but not "
					    "listening, or a socket in a state the "
					    "kernel's lists leave out, holds it" :
					    "");
				e = got[p][f];
			}
			if (e != 0 && would) {
				would = 0;
				first_err = e;
			}
		}
	from_bind = o->try_bind && any;
	eph = w->eph_known ? json_pack("{s:i, s:i, s:b}", "lo",
	    (int)w->eph_lo, "hi", (int)w->eph_hi, "inside", w->port >=
	    w->eph_lo && w->port <= w->eph_hi) : json_null();
	tr = json_array();
	for (p = 0; p < NWHYPROTO; p++)
		if (w->protos & why_protos[p].proto)
			json_array_append_new(tr, json_string(proto_of(
			    why_protos[p].proto)));
	fams = json_array();
	for (f = 0; f < NWHYFAM; f++)
		if (w->families & why_families[f].bit)
			json_array_append_new(fams, json_string(
			    why_families[f].name));
	out = json_pack("{s:i, s:o, s:o, s:o, s:b, s:s, s:o, s:o, s:o, s:o,"
	    " s:{s:o, s:o, s:o, s:o}, s:{s:i, s:o}, s:o, s:o}",
	    "port", (int)w->port, "transports", tr, "families", fams,
	    "netns", o->netns != NULL ? json_string(o->netns) : json_null(),
	    "would_bind", would,
	    "verdict_from", from_bind ? "bind" : "explanation",
	    "errno", first_err != 0 ? json_string(errno_name(first_err)) :
	    json_null(),
	    "expected", expected, "findings", w->findings, "binds", binds,
	    "kernel", "ephemeral", eph,
	    "reserved", w->res_known ? json_boolean(pdx_portset_has(
	    &w->reserved, w->port)) : json_null(),
	    "unprivileged_port_start", w->unpriv_start >= 0 ?
	    json_integer(w->unpriv_start) : json_null(),
	    "bindv6only", w->bindv6only >= 0 ? json_integer(w->bindv6only) :
	    json_null(),
	    "caller", "euid", (int)geteuid(), "cap_net_bind_service",
	    w->cap_bind >= 0 ? json_boolean(w->cap_bind) : json_null(),
	    "dnat", dnat, "way_out", way);
	if (out == NULL) {
		pdx_set_error("why: out of memory");
		json_decref(others);
		goto done;
	}
	socket_lists(w, o->netns, out);
	json_object_set_new(out, "other_netns", others != NULL ? others :
	    json_array());
done:
	pdx_sockets_free(w->socks, w->nsocks);
	free(w);
	return out;
fail_dnat:
	json_decref(dnat);
	json_decref(way);
fail:
	if (saved >= 0)
		(void)pdx_netns_leave(saved);
	json_decref(binds);
	json_decref(w->findings);
	pdx_sockets_free(w->socks, w->nsocks);
	free(w);
	return NULL;
}
