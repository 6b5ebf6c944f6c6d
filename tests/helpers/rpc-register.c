/*
 * rpc-register.c - test helper: registers RPC programs with the local
 * rpcbind through libtirpc, holds a TCP listener and a UDP socket on each
 * registered port (so the port has a process behind it), prints "ready",
 * waits until SIGTERM or SIGINT, then unregisters and exits.  It serves
 * no RPC calls; it only makes rpcbind's tables say what the test wants.
 *
 * usage: rpc-register PROG VERS PORT [PROG VERS PORT ...]
 * exit: 0 done, 2 usage, 3 a port could not be bound, 4 rpcbind refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rpc/rpc.h>

#include "portdex.h"

#define MAX_REGS 16

struct reg {
	long long prog, vers, port;
	int tcp_fd, udp_fd;
	int done_tcp, done_udp;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
bind_port(int type, unsigned port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	if ((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Register prog/vers at port on netid ("tcp" or "udp") with rpcbind. */
static int
set_one(const struct reg *r, const char *netid)
{
	struct netconfig *nc;
	struct sockaddr_in sa;
	struct netbuf nb;
	int ok;

	if ((nc = getnetconfigent(netid)) == NULL) {
		fprintf(stderr, "rpc-register: no netconfig for %s\n", netid);
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)r->port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	nb.buf = &sa;
	nb.len = nb.maxlen = sizeof sa;
	ok = rpcb_set((rpcprog_t)r->prog, (rpcvers_t)r->vers, nc, &nb);
	freenetconfigent(nc);
	return ok ? 0 : -1;
}

static void
unset_one(const struct reg *r, const char *netid)
{
	struct netconfig *nc;

	if ((nc = getnetconfigent(netid)) == NULL)
		return;
	rpcb_unset((rpcprog_t)r->prog, (rpcvers_t)r->vers, nc);
	freenetconfigent(nc);
}

int
main(int argc, char **argv)
{
	struct reg regs[MAX_REGS];
	struct sigaction sa;
	sigset_t block, old;
	int i, n, rc = 0;

	if (argc < 4 || (argc - 1) % 3 != 0 || (argc - 1) / 3 > MAX_REGS) {
		fprintf(stderr, "usage: rpc-register PROG VERS PORT ...\n");
		return 2;
	}
	n = (argc - 1) / 3;
	memset(regs, 0, sizeof regs);
	for (i = 0; i < n; i++) {
		if (pdx_parse_number(argv[1 + 3 * i], 1, 4294967295LL,
			"program", &regs[i].prog) != 0 ||
		    pdx_parse_number(argv[2 + 3 * i], 0, 4294967295LL,
			"version", &regs[i].vers) != 0 ||
		    pdx_parse_number(argv[3 + 3 * i], 1, 65535, "port",
			&regs[i].port) != 0) {
			fprintf(stderr, "rpc-register: %s\n", pdx_last_error());
			return 2;
		}
		regs[i].tcp_fd = regs[i].udp_fd = -1;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Blocked until sigsuspend, so a signal cannot slip in between. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);

	for (i = 0; i < n; i++) {
		int j, shared = 0;

		/* Several programs may share one port. */
		for (j = 0; j < i; j++)
			if (regs[j].port == regs[i].port)
				shared = 1;
		if (!shared &&
		    ((regs[i].tcp_fd = bind_port(SOCK_STREAM,
			  (unsigned)regs[i].port)) < 0 ||
			(regs[i].udp_fd = bind_port(SOCK_DGRAM,
			     (unsigned)regs[i].port)) < 0)) {
			fprintf(stderr, "rpc-register: port %lld: %s\n",
			    regs[i].port, strerror(errno));
			rc = 3;
			goto out;
		}
		if (set_one(&regs[i], "tcp") != 0 || !(regs[i].done_tcp = 1) ||
		    set_one(&regs[i], "udp") != 0) {
			fprintf(stderr,
			    "rpc-register: rpcbind refused "
			    "%lld/%lld\n",
			    regs[i].prog, regs[i].vers);
			rc = 4;
			goto out;
		}
		regs[i].done_udp = 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
out:
	for (i = 0; i < n; i++) {
		if (regs[i].done_tcp)
			unset_one(&regs[i], "tcp");
		if (regs[i].done_udp)
			unset_one(&regs[i], "udp");
		if (regs[i].tcp_fd >= 0)
			close(regs[i].tcp_fd);
		if (regs[i].udp_fd >= 0)
			close(regs[i].udp_fd);
	}
	return rc;
}
