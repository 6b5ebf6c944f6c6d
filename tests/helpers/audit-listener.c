/*
 * audit-listener.c - a listener for the audit tests: it binds the sockets
 * it is told, optionally renames itself (its comm, as `nc` or `socat`
 * would appear to ps and to /proc/PID/comm), prints one line per socket
 *	PROTO ADDRESS PORT
 * (port 0 picks a free one) and "READY PID", then holds them until it is
 * killed, its parent dies or a time limit passes.  It never accepts or
 * sends traffic.  Copying it to /tmp and deleting the copy after start
 * gives a listener whose executable is gone.
 *
 * usage: audit-listener [-c NAME] [-t SECONDS] PROTO/ADDRESS/PORT...
 */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portdex.h"

static void
bind_one(const char *spec)
{
	char buf[128], *proto, *addr, *port, *save = NULL;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;
	long long p;
	char shown[INET6_ADDRSTRLEN];
	int fd, type, one = 1;

	snprintf(buf, sizeof buf, "%s", spec);
	proto = strtok_r(buf, "/", &save);
	addr = strtok_r(NULL, "/", &save);
	port = strtok_r(NULL, "/", &save);
	if (proto == NULL || addr == NULL || port == NULL ||
	    pdx_parse_number(port, 0, 65535, "port", &p) != 0) {
		fprintf(stderr, "audit-listener: bad spec '%s'\n", spec);
		exit(2);
	}
	if (strcmp(proto, "tcp") == 0)
		type = SOCK_STREAM;
	else if (strcmp(proto, "udp") == 0)
		type = SOCK_DGRAM;
	else {
		fprintf(stderr, "audit-listener: bad protocol '%s'\n", proto);
		exit(2);
	}
	memset(&u, 0, sizeof u);
	if (inet_pton(AF_INET, addr, &u.in.sin_addr) == 1) {
		u.in.sin_family = AF_INET;
		u.in.sin_port = htons((uint16_t)p);
		len = sizeof u.in;
	} else if (inet_pton(AF_INET6, addr, &u.in6.sin6_addr) == 1) {
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = htons((uint16_t)p);
		len = sizeof u.in6;
	} else {
		fprintf(stderr, "audit-listener: bad address '%s'\n", addr);
		exit(2);
	}
	if ((fd = socket(u.sa.sa_family, type, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, &u.sa, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) < 0)) {
		fprintf(stderr, "audit-listener: %s: %s\n", spec,
		    strerror(errno));
		exit(2);
	}
	len = sizeof u;
	if (getsockname(fd, &u.sa, &len) < 0) {
		fprintf(stderr, "audit-listener: getsockname: %s\n",
		    strerror(errno));
		exit(2);
	}
	if (u.sa.sa_family == AF_INET)
		inet_ntop(AF_INET, &u.in.sin_addr, shown, sizeof shown);
	else
		inet_ntop(AF_INET6, &u.in6.sin6_addr, shown, sizeof shown);
	printf("%s %s %u\n", proto, shown,
	    ntohs(u.sa.sa_family == AF_INET ? u.in.sin_port : u.in6.sin6_port));
}

int
main(int argc, char **argv)
{
	long long secs = 120;
	const char *name = NULL;
	int ch, i;

	while ((ch = getopt(argc, argv, "c:t:")) != -1) {
		switch (ch) {
		case 'c':
			name = optarg;
			break;
		case 't':
			if (pdx_parse_number(optarg, 1, 3600, "seconds",
				&secs) != 0) {
				fprintf(stderr, "audit-listener: %s\n",
				    pdx_last_error());
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	/* Never outlive the test that started us. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	alarm((unsigned)secs);
	if (name != NULL && prctl(PR_SET_NAME, name) != 0) {
		fprintf(stderr, "audit-listener: PR_SET_NAME: %s\n",
		    strerror(errno));
		return 2;
	}
	for (i = optind; i < argc; i++)
		bind_one(argv[i]);
	printf("READY %ld\n", (long)getpid());
	fflush(stdout);
	for (;;)
		pause();
usage:
	fprintf(stderr,
	    "usage: audit-listener [-c NAME] [-t SECONDS] "
	    "PROTO/ADDRESS/PORT...\n");
	return 2;
}
