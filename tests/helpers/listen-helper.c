/*
 * listen-helper.c - opens the sockets a test or benchmark asks for and
 * holds them until killed (or a time limit passes), so `portdex ls` has
 * known listeners to find.  For each socket it prints one line
 *	PROTO FAMILY ADDRESS PORT INODE UID
 * as the kernel reports them after bind (port 0 picks a free one), then
 * "READY PID".  It only binds: it never sends or accepts traffic.
 *
 * usage: listen-helper [-t SECONDS] [-u UID] [-n COUNT] SPEC...
 *	SPEC is PROTO/ADDRESS/PORT[/dual|/v6only], PROTO tcp or udp;
 *	-n repeats every SPEC COUNT times; -u drops to UID (and its gid
 *	as the same number) before opening anything.
 */
#define _GNU_SOURCE /* setresuid */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portdex.h"

static void
die(const char *what, const char *arg)
{
	fprintf(stderr, "listen-helper: %s%s%s: %s\n", what, arg ? " " : "",
	    arg ? arg : "", strerror(errno));
	exit(2);
}

static void
raise_nofile(long long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit", NULL);
	if ((long long)rl.rlim_cur >= want)
		return;
	if ((long long)rl.rlim_max < want)
		rl.rlim_max = (rlim_t)want; /* works as root */
	rl.rlim_cur = (rlim_t)want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit RLIMIT_NOFILE", NULL);
}

static void
open_one(const char *spec)
{
	char buf[256], *proto, *addr, *port, *opt, *save;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;
	long long p;
	struct stat st;
	char shown[INET6_ADDRSTRLEN];
	int fd, type, one = 1, v6only = -1;

	snprintf(buf, sizeof buf, "%s", spec);
	proto = strtok_r(buf, "/", &save);
	addr = strtok_r(NULL, "/", &save);
	port = strtok_r(NULL, "/", &save);
	opt = strtok_r(NULL, "/", &save);
	if (proto == NULL || addr == NULL || port == NULL) {
		fprintf(stderr, "listen-helper: bad spec '%s'\n", spec);
		exit(2);
	}
	if (strcmp(proto, "tcp") == 0)
		type = SOCK_STREAM;
	else if (strcmp(proto, "udp") == 0)
		type = SOCK_DGRAM;
	else {
		fprintf(stderr, "listen-helper: bad protocol '%s'\n", proto);
		exit(2);
	}
	if (pdx_parse_number(port, 0, 65535, "port", &p) < 0) {
		fprintf(stderr, "listen-helper: %s\n", pdx_last_error());
		exit(2);
	}
	if (opt != NULL)
		v6only = strcmp(opt, "v6only") == 0;
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
		fprintf(stderr, "listen-helper: bad address '%s'\n", addr);
		exit(2);
	}
	if ((fd = socket(u.sa.sa_family, type, 0)) < 0)
		die("socket", spec);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (v6only >= 0 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) <
		0)
		die("IPV6_V6ONLY", spec);
	if (bind(fd, &u.sa, len) < 0)
		die("bind", spec);
	if (type == SOCK_STREAM && listen(fd, 4) < 0)
		die("listen", spec);
	len = sizeof u;
	if (getsockname(fd, &u.sa, &len) < 0 || fstat(fd, &st) < 0)
		die("getsockname", spec);
	if (u.sa.sa_family == AF_INET)
		inet_ntop(AF_INET, &u.in.sin_addr, shown, sizeof shown);
	else
		inet_ntop(AF_INET6, &u.in6.sin6_addr, shown, sizeof shown);
	printf("%s %s %s %u %lu %ld\n", proto,
	    u.sa.sa_family == AF_INET ? "ipv4" : "ipv6", shown,
	    ntohs(u.sa.sa_family == AF_INET ? u.in.sin_port : u.in6.sin6_port),
	    (unsigned long)st.st_ino, (long)geteuid());
}

int
main(int argc, char **argv)
{
	long long secs = 120, count = 1, uid = -1, i;
	int ch, a, badnum = 0;

	while ((ch = getopt(argc, argv, "t:u:n:")) != -1) {
		switch (ch) {
		case 't':
			if (pdx_parse_number(optarg, 1, 86400, "seconds",
				&secs) < 0)
				goto badnum;
			break;
		case 'u':
			if (pdx_parse_number(optarg, 0, 4294967294LL, "uid",
				&uid) < 0)
				goto badnum;
			break;
		case 'n':
			if (pdx_parse_number(optarg, 1, 1000000, "count",
				&count) < 0)
				goto badnum;
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
	raise_nofile(count * (argc - optind) + 64);
	if (uid >= 0 &&
	    (setgroups(0, NULL) < 0 ||
		setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0 ||
		setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0))
		die("dropping to uid", NULL);
	/* Let the new uid read our /proc/PID/fd, as it could had it run us. */
	if (uid >= 0)
		(void)prctl(PR_SET_DUMPABLE, 1);
	for (i = 0; i < count; i++)
		for (a = optind; a < argc; a++)
			open_one(argv[a]);
	printf("READY %ld\n", (long)getpid());
	fflush(stdout);
	for (;;)
		pause();
badnum:
	badnum = 1;
usage:
	if (badnum)
		fprintf(stderr, "listen-helper: %s\n", pdx_last_error());
	fprintf(stderr,
	    "usage: listen-helper [-t SECONDS] [-u UID] "
	    "[-n COUNT] PROTO/ADDRESS/PORT[/dual|/v6only]...\n");
	return 2;
}
