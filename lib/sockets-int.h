/*
 * sockets-int.h - what the library's socket files share and the tests
 * reach: the platform backends, the parsers of the kernel's replies
 * (netlink sock_diag, /proc/net, cgroup files) and the address
 * formatting they use.  Not part of the public API (include/).
 */
#ifndef PDX_SOCKETS_INT_H
#define PDX_SOCKETS_INT_H
#include "portdex/sockets.h"

/*
 * Parses one line of /proc/net/{tcp,tcp6,udp,udp6} (len bytes, need not be
 * NUL-terminated).  family is AF_INET or AF_INET6, proto PDX_TCP/PDX_UDP.
 * Returns 1 and fills the kernel fields of *out, 0 for the header line or
 * an empty line, -1 (and the error) for a malformed line.
 */
int pdx_proc_net_parse_line(const char *line, size_t len, int family, int proto,
    struct pdx_socket *out);

/*
 * Parses a buffer of netlink sock_diag replies (as read from the socket),
 * appending each socket to *socks (grown with realloc; caller frees with
 * pdx_sockets_free) that passes the filter (NULL: every socket).  Returns
 * 1 when the buffer holds the end of the dump (NLMSG_DONE), 0 when more
 * is to come, -1 on an error reply or a malformed buffer (and the error).
 */
int pdx_diag_parse(const void *buf, size_t len, int proto,
    const struct pdx_sock_filter *, struct pdx_socket **socks, size_t *n,
    size_t *cap);

/*
 * Writes into buf (size bytes) the inet_diag bytecode that accepts a local
 * port in ps.  Returns its length, or 0 when the set is empty, whole, does
 * not fit, or has too many ranges (then only user space filters).
 */
size_t
pdx_diag_port_bytecode(const struct pdx_portset *ps, void *buf, size_t size);

/*
 * The systemd unit and container of a /proc/PID/cgroup text.  Each of
 * *unit and *container is set to a new string (caller frees) or NULL.
 */
void pdx_cgroup_parse(const char *text, char **unit, char **container);

/* The same with /proc rooted elsewhere (tests). */
int pdx_sockets_attribute_at(const char *procdir, struct pdx_socket *, size_t n,
    struct pdx_attr_stats *);
/*
 * User names without NSS when NSS would read /etc/passwd first anyway
 * (procwalk.c): whether nsswitch.conf's text (len bytes) lists "files"
 * first for passwd, with no action on it; and the name on passwd's first
 * line for uid (its length in *len), or NULL (not there, or a line NSS
 * reads otherwise: then getpwuid answers).
 */
int pdx_passwd_files_first(const char *nsswitch, size_t len);
const char *
pdx_passwd_name(const char *passwd, size_t len, long uid, size_t *namelen);

/* ---- backends (lib/sockets*.c) ---------------------------------------- */

/*
 * A platform backend: list appends to the array the sockets of one
 * protocol and family (AF_INET/AF_INET6) passing the filter; it returns 0,
 * -1 with the error, or -2 when this kernel does not offer the protocol.
 */
struct pdx_sock_backend_ops {
	int id; /* enum pdx_sock_backend */
	const char *name;
	int (*list)(int proto, int family, const struct pdx_sock_filter *,
	    struct pdx_socket **, size_t *n, size_t *cap);
};
extern const struct pdx_sock_backend_ops pdx_backend_netlink;
extern const struct pdx_sock_backend_ops pdx_backend_proc;
extern const struct pdx_sock_backend_ops pdx_backend_none;

/* Shared by the backends: does the socket pass the kernel-side filter? */
int pdx_sock_filter_match(const struct pdx_sock_filter *,
    const struct pdx_socket *);
/* Appends a copy of s (its pointers are taken over).  Returns 0 or -1. */
int pdx_sockvec_push(struct pdx_socket **, size_t *n, size_t *cap,
    const struct pdx_socket *s);
/* Writes the text of an AF_INET/AF_INET6 address (as inet_ntop does)
 * into buf, which holds INET6_ADDRSTRLEN (46) bytes. */
void pdx_format_addr(int family, const uint8_t *addr, char *buf);
/* Fills local/remote from the raw addresses. */
void pdx_socket_format_addrs(struct pdx_socket *);

#endif
