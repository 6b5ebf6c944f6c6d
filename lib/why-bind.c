/*
 * why-bind.c - portdex why --bind: real bind() calls on the wildcard
 * address of each transport and family asked about, plain first and,
 * when that fails with EADDRINUSE, with the options that might get
 * around it.  It never keeps a socket: each is closed as soon as bind()
 * has answered, and UDP is only tried without SO_REUSEADDR/SO_REUSEPORT,
 * since a sharing bind of a live UDP port would join its group and could
 * take a datagram meant for the holder.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "portdex.h"
#include "why-int.h"
#include "util-int.h"

enum bind_opt { OPT_NONE, OPT_REUSEADDR, OPT_REUSEPORT, OPT_V6ONLY };
static const char *const bind_opt_names[] = {
	"none",
	"SO_REUSEADDR",
	"SO_REUSEPORT",
	"IPV6_V6ONLY",
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
	len = pdx_sockaddr_any(&ss, family, port);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		e = errno;
	close(fd);
	return e;
}

static void
add_bind(json_t *binds, int proto, const struct why_family *f,
    enum bind_opt opt, int e)
{
	json_array_append_new(binds,
	    json_pack("{s:s, s:s, s:s, s:s, s:b,"
		      " s:o, s:o}",
		"transport", pdx_proto_name(proto), "family", f->name,
		"address", f->wildcard, "option", bind_opt_names[opt], "ok",
		e == 0, "errno",
		e != 0 ? json_string(why_errname(e)) : json_null(), "error",
		e != 0 ? json_string(strerror(e)) : json_null()));
}

/*
 * The plain binds (what decides the verdict; -1 in got[][] when a family
 * is not offered here) and, when one fails with EADDRINUSE, the options
 * that might get around it: for TCP SO_REUSEADDR and SO_REUSEPORT (a TCP
 * socket that is never listening takes no traffic), for IPv6
 * IPV6_V6ONLY.
 */
void
why_run_binds(struct why *w, json_t *binds, int got[NWHYPROTO][NWHYFAM])
{
	size_t p, f;

	for (p = 0; p < NWHYPROTO; p++)
		for (f = 0; f < NWHYFAM; f++) {
			const struct why_family *fm = &why_families[f];
			int proto = why_protos[p].proto,
			    type = why_protos[p].type, e;

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
void
why_tried_options(struct why *w, json_t *binds)
{
	size_t i;

	for (i = 0; i < json_array_size(binds); i++) {
		json_t *b = json_array_get(binds, i);
		const char *opt = json_string_value(
		    json_object_get(b, "option"));
		const char *fam = json_string_value(
		    json_object_get(b, "family"));

		if (strcmp(opt, "none") == 0 ||
		    !json_is_true(json_object_get(b, "ok")))
			continue;
		why_finding(w, "bind",
		    pdx_proto_parse(
			json_string_value(json_object_get(b, "transport"))),
		    "info",
		    "a socket "
		    "that sets %s before bind() gets %s%s%s:%u now (tried)",
		    opt, strcmp(fam, "ipv6") == 0 ? "[" : "",
		    json_string_value(json_object_get(b, "address")),
		    strcmp(fam, "ipv6") == 0 ? "]" : "", w->port);
	}
}
