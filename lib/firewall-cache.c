/*
 * firewall-cache.c - the ruleset cache: libnftables' JSON text of a
 * namespace's ruleset, kept so that the next command in the same namespace
 * need not ask libnftables again while the ruleset is the same.  Loading
 * and listing the ruleset through libnftables was two thirds of `ls` at
 * 1,000 rules (bench/README.md, issue 16).
 *
 * The kernel names the ruleset: every change to a namespace's nf_tables
 * ruleset bumps its generation (NFT_MSG_GETGEN), which nft uses for its
 * own cache; a namespace has a cookie never reused while the machine runs
 * (SO_NETNS_COOKIE, Linux 5.14); the boot has an id.  A cached text is
 * used only when all three match what the kernel says now, its length and
 * checksum hold, and the generation was read before the text was listed
 * (a change in between gives the text a newer generation than the one it
 * is filed under: the next command misses and lists again).  Anything
 * else, and libnftables is asked as before.  Legacy xtables tables are
 * not in it: they are looked at every time.
 *
 * One file per namespace, $XDG_CACHE_HOME/portdex/ruleset-COOKIE (else
 * ~/.cache/portdex; $PORTDEX_CACHE names the directory, "" turns the cache
 * off), mode 0600 in a 0700 directory, written to a temporary file of the
 * writer's own and renamed.  The directory and the file are used only
 * when they belong to the effective user and nobody else may write the
 * directory (fc_open_dir).  Layout: the line "PDXNFT1 BOOT_ID COOKIE GEN
 * LENGTH SUM\n" (SUM: pdx_sum64 of the text, hexadecimal), then the text.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#endif

#include "portdex.h"
#include "firewall-int.h"
#include "util-int.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define FC_MAX ((size_t)256 << 20)
#define FC_KEEP (24 * 3600) /* another namespace's file, untouched that long */

/*
 * The cache's directory (static buffer), or NULL: no cache.  *base is the
 * directory it was derived from ($XDG_CACHE_HOME or $HOME), NULL when
 * $PORTDEX_CACHE names it.
 */
static const char *
fc_dir(const char **base)
{
	static char buf[PATH_MAX];
	const char *e;
	int n;

	*base = NULL;
	if ((e = getenv("PORTDEX_CACHE")) != NULL)
		return *e == '/' ? e : NULL;
	if ((e = getenv("XDG_CACHE_HOME")) != NULL && *e == '/')
		n = snprintf(buf, sizeof buf, "%s/portdex", e);
	else if ((e = getenv("HOME")) != NULL && *e == '/')
		n = snprintf(buf, sizeof buf, "%s/.cache/portdex", e);
	else
		return NULL;
	*base = e;
	return n > 0 && (size_t)n < sizeof buf ? buf : NULL;
}

/* Whether the directory open as fd is ours alone: owner, no symlink. */
static int
fc_ours(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    sb.st_uid == geteuid() && (sb.st_mode & 022) == 0;
}

/*
 * The cache's directory, open (a descriptor), or -1: no cache.  The text
 * in it decides verdicts, so it is used only when it is a directory (not
 * a symlink) owned by the effective user that nobody else may write; and
 * a directory derived from a home (or $XDG_CACHE_HOME) that is not the
 * effective user's (root run with a user's environment, sudo -E) is not
 * used at all: root neither reads what that user wrote nor creates files
 * in the user's home.  With create, a missing directory is made (0700),
 * and ~/.cache with it when that is missing.
 */
static int
fc_open_dir(int create)
{
	const char *base, *dir = fc_dir(&base);
	char parent[PATH_MAX];
	struct stat sb;
	int fd, n;

	if (dir == NULL)
		return -1;
	if (base != NULL && (stat(base, &sb) != 0 || sb.st_uid != geteuid()))
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (base != NULL && getenv("XDG_CACHE_HOME") == NULL &&
		    (n = snprintf(parent, sizeof parent, "%s/.cache", base)) >
			0 &&
		    (size_t)n < sizeof parent)
			(void)mkdir(parent, 0700);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0 && !fc_ours(fd)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

#ifdef __linux__
static int
gen_attr(const struct nlattr *a, void *arg)
{
	if (mnl_attr_get_type(a) == NFTA_GEN_ID &&
	    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*(uint32_t *)arg = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

static int
gen_reply(const struct nlmsghdr *nlh, void *arg)
{
	uint32_t *gen = arg;

	if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWGEN &&
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr, gen) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/* The ruleset's generation in this namespace; 0, or -1. */
static int
fc_generation(uint32_t *gen)
{
	struct mnl_socket *nl;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned seq = 1, portid;
	uint32_t g = UINT32_MAX;
	ssize_t len;
	int rc = -1;

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
	    (len = mnl_socket_recvfrom(nl, buf, sizeof buf)) <= 0 ||
	    mnl_cb_run(buf, (size_t)len, seq, portid, gen_reply, &g) < 0 ||
	    g == UINT32_MAX)
		goto out;
	*gen = g;
	rc = 0;
out:
	mnl_socket_close(nl);
	return rc;
}

/* This namespace's cookie; 0, or -1 (a kernel before 5.14). */
static int
fc_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof *cookie;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	rc = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len);
	close(fd);
	return rc == 0 && len == sizeof *cookie ? 0 : -1;
}
#endif

/* The boot's id (36 characters); 0, or -1. */
static int
fc_boot(char id[40])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	int ok;

	if (f == NULL)
		return -1;
	ok = fgets(id, 40, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	id[strcspn(id, "\n")] = '\0';
	return strlen(id) == 36 && strspn(id, "0123456789abcdef-") == 36 ? 0
									 : -1;
}

int
fw_cache_key(struct fw_cache_key *k)
{
	memset(k, 0, sizeof *k);
#ifdef __linux__
	const char *base;

	if (fc_dir(&base) == NULL || fc_boot(k->boot) != 0 ||
	    fc_cookie(&k->cookie) != 0 || fc_generation(&k->gen) != 0)
		return -1;
	k->ok = 1;
	return 0;
#else
	return -1;
#endif
}

/* The file's name in the directory, or its temporary file's; 0 or -1. */
static int
fc_name(char *buf, size_t size, const struct fw_cache_key *k, int tmp)
{
	int n = tmp ? snprintf(buf, size, "ruleset-%llu.%ld.tmp",
			  (unsigned long long)k->cookie, (long)getpid())
		    : snprintf(buf, size, "ruleset-%llu",
			  (unsigned long long)k->cookie);

	return n > 0 && (size_t)n < size ? 0 : -1;
}

char *
fw_cache_get(const struct fw_cache_key *k, size_t *len)
{
	char name[64], head[160], want[160], *text = NULL;
	unsigned long long l = 0, sum = 0;
	struct stat sb;
	size_t hlen;
	int dfd, fd, hl = 0, n;

	if (!k->ok || fc_name(name, sizeof name, k, 0) != 0 ||
	    (dfd = fc_open_dir(0)) < 0)
		return NULL;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(dfd);
	if (fd < 0)
		return NULL;
	/* the head: its line, then the text's length and checksum */
	n = snprintf(want, sizeof want, "PDXNFT1 %s %llu %lu ", k->boot,
	    (unsigned long long)k->cookie, (unsigned long)k->gen);
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() ||
	    (hlen = sizeof head - 1 < (size_t)sb.st_size
		    ? sizeof head - 1
		    : (size_t)sb.st_size) == 0 ||
	    pdx_pread_full(fd, head, hlen, 0) != 0 ||
	    (head[hlen] = '\0', n <= 0) || (size_t)n >= sizeof want ||
	    memcmp(head, want, (size_t)n) != 0 ||
	    sscanf(head + n, "%llu %llx%n", &l, &sum, &hl) != 2 ||
	    head[n + hl] != '\n' || l == 0 || l > FC_MAX ||
	    (uint64_t)sb.st_size != (uint64_t)(n + hl + 1) + l ||
	    (text = malloc(l + 1)) == NULL ||
	    pdx_pread_full(fd, text, l, n + hl + 1) != 0 ||
	    pdx_sum64(text, l) != sum) {
		free(text);
		close(fd);
		return NULL;
	}
	close(fd);
	text[l] = '\0';
	*len = l;
	return text;
}

/*
 * Removes the files of other namespaces (or other boots) not written for
 * FC_KEEP seconds: a namespace's cookie is never used again once it is
 * gone, so its file would stay for good.
 */
static void
fc_prune(int dfd, const char *mine)
{
	struct dirent *e;
	struct stat sb;
	time_t now = time(NULL);
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "ruleset-", 8) != 0 ||
		    strcmp(e->d_name, mine) == 0)
			continue;
		if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode) && now - sb.st_mtime > FC_KEEP)
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

void
fw_cache_put(const struct fw_cache_key *k, const char *text, size_t len)
{
	char name[64], tmp[80], head[160];
	int dfd, fd, n, ok;

	if (!k->ok || len == 0 || len > FC_MAX ||
	    fc_name(name, sizeof name, k, 0) != 0 ||
	    fc_name(tmp, sizeof tmp, k, 1) != 0)
		return;
	n = snprintf(head, sizeof head, "PDXNFT1 %s %llu %lu %zu %llx\n",
	    k->boot, (unsigned long long)k->cookie, (unsigned long)k->gen, len,
	    (unsigned long long)pdx_sum64(text, len));
	if (n <= 0 || (size_t)n >= sizeof head || (dfd = fc_open_dir(1)) < 0)
		return;
	/*
	 * No fsync: a file cut by a crash fails its length or checksum and
	 * is listed again.
	 */
	fd = openat(dfd, tmp,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	ok = fd >= 0 && pdx_write_all(fd, head, (size_t)n) == 0 &&
	    pdx_write_all(fd, text, len) == 0 && fchmod(fd, 0600) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (!ok || renameat(dfd, tmp, dfd, name) != 0) {
		if (fd >= 0)
			unlinkat(dfd, tmp, 0);
	} else
		fc_prune(dfd, name);
	close(dfd);
}
