/*
 * firewall-read.c - reading the packet filter of a network namespace: the
 * nftables ruleset through libnftables' JSON output (iptables-nft rules
 * included), with the legacy xtables tables that were not read and why a
 * ruleset could not be read (no CAP_NET_ADMIN, no libnftables) said on the
 * ruleset.  Judging it is firewall.c's.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PDX_HAVE_NFTABLES
#include <nftables/libnftables.h>
#endif
#ifdef __linux__
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#endif

#include "portdex.h"
#include "portdex/firewall.h"
#include "portdex/sockets.h"
#include "firewall-int.h"

/* ---- reading ------------------------------------------------------------ */

#ifdef PDX_HAVE_NFTABLES
/* Names of the legacy xtables tables in /proc/net (this namespace). */
static char *
legacy_tables(void)
{
	static const char *const files[] = { "/proc/net/ip_tables_names",
		"/proc/net/ip6_tables_names" };
	char buf[256] = "", line[64];
	size_t i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		if ((f = fopen(files[i], "re")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] == '\0')
				continue;
			fw_add_why(buf, sizeof buf, " ",
			    i == 0 ? "ip_tables:" : "ip6_tables:");
			fw_add_why(buf, sizeof buf, "", line);
		}
		fclose(f);
	}
	return buf[0] != '\0' ? strdup(buf) : NULL;
}
#endif

static struct pdx_ruleset *
unread(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A ruleset that could not be read, carrying the reason. */
static struct pdx_ruleset *
unread(const char *fmt, ...)
{
	struct pdx_ruleset *rs = calloc(1, sizeof *rs);
	char msg[512];
	va_list ap;

	if (rs == NULL) {
		pdx_set_error("out of memory");
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if ((rs->error = strdup(msg)) == NULL) {
		free(rs);
		pdx_set_error("out of memory");
		return NULL;
	}
	return rs;
}

#if defined(PDX_HAVE_NFTABLES) && defined(__linux__)
/*
 * Does this process have CAP_NET_ADMIN in its effective set?  capget(2)
 * (one system call; /proc/self/status took four and a stdio buffer).
 */
static int
net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) != 0)
		return geteuid() == 0;
	return (d[CAP_NET_ADMIN / 32].effective >> (CAP_NET_ADMIN % 32)) & 1;
}

static int
count_table(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(*(int *)arg)++;
	return MNL_CB_OK;
}

/*
 * The number of nf_tables tables in this namespace, asked over netlink
 * directly: loading libnftables costs milliseconds, and a machine with
 * no tables has nothing for it to read.  -1 when it cannot tell.
 */
static int
nft_table_count(void)
{
	struct mnl_socket *nl;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned seq = 1, portid;
	int n = 0, rc;
	ssize_t len;

	if ((nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return -1;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof *nfg);
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		mnl_socket_close(nl);
		return -1;
	}
	rc = MNL_CB_OK;
	while (rc > 0 && (len = mnl_socket_recvfrom(nl, buf, sizeof buf)) > 0)
		rc = mnl_cb_run(buf, (size_t)len, seq, portid, count_table, &n);
	mnl_socket_close(nl);
	return rc < 0 ? -1 : n;
}
#endif

#ifdef PDX_HAVE_NFTABLES
/* The ruleset of the current namespace. */
static struct pdx_ruleset *
read_here(void)
{
	struct nft_ctx *nft;
	struct pdx_ruleset *rs;
	struct fw_cache_key key;
	const char *out, *err;
	char *legacy = legacy_tables(), *cached;
	size_t clen;

	if (!net_admin()) {
		free(legacy);
		return unread("the packet filter was not read: %s%s",
		    "reading it needs CAP_NET_ADMIN", " (run as root)");
	}
	if (nft_table_count() == 0) {
		/* no tables: no rules, nothing for libnftables to load */
		rs = fw_ruleset_empty();
		if (rs != NULL)
			rs->legacy = legacy;
		else
			free(legacy);
		return rs;
	}
	/* the generation first: a change while listing files it as older */
	(void)fw_cache_key(&key);
	if ((cached = fw_cache_get(&key, &clen)) != NULL) {
		rs = pdx_ruleset_parse(cached, clen);
		free(cached);
		if (rs != NULL) {
			rs->legacy = legacy;
			return rs;
		}
	}
	if ((nft = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		free(legacy);
		return unread("the packet filter was not read: %s%s",
		    pdx_last_error(), "");
	}
	nft_ctx_output_set_flags(nft,
	    NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
	if (nft_ctx_buffer_output(nft) != 0 || nft_ctx_buffer_error(nft) != 0) {
		nft_ctx_free(nft);
		free(legacy);
		return unread("the packet filter was not read: %s%s",
		    "libnftables could not buffer its output", "");
	}
	if (nft_run_cmd_from_buffer(nft, "list ruleset") != 0) {
		int e = errno;

		err = nft_ctx_get_error_buffer(nft);
		rs = unread("the packet filter was not read: %s%s",
		    err != NULL && *err != '\0' ? err : strerror(e),
		    geteuid() != 0 ? " (needs CAP_NET_ADMIN, e.g. root)" : "");
		if (rs != NULL && rs->error != NULL)
			rs->error[strcspn(rs->error, "\n")] = '\0';
		nft_ctx_free(nft);
		free(legacy);
		return rs;
	}
	out = nft_ctx_get_output_buffer(nft);
	rs = pdx_ruleset_parse(out != NULL ? out : "",
	    out != NULL ? strlen(out) : 0);
	if (rs != NULL && out != NULL && *out != '\0')
		fw_cache_put(&key, out, strlen(out));
	if (rs == NULL && out != NULL && *out == '\0')
		rs = pdx_ruleset_parse("{\"nftables\": []}", 16);
	nft_ctx_free(nft);
	if (rs == NULL) {
		free(legacy);
		return unread("the packet filter was not read: %s%s",
		    pdx_last_error(), "");
	}
	rs->legacy = legacy;
	return rs;
}
#endif

struct pdx_ruleset *
pdx_ruleset_read(const char *netns)
{
#ifdef PDX_HAVE_NFTABLES
	struct pdx_ruleset *rs;
	int saved = -1;

	if (netns != NULL && (saved = pdx_netns_enter(netns)) < 0)
		return unread("the packet filter was not read: %s%s",
		    pdx_last_error(), "");
	rs = read_here();
	if (saved >= 0 && pdx_netns_leave(saved) < 0) {
		pdx_ruleset_free(rs);
		return NULL;
	}
	return rs;
#else
	(void)netns;
	return unread("the packet filter was not read: %s%s",
	    "portdex was built without libnftables", "");
#endif
}
