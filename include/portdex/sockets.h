/*
 * portdex/sockets.h - part of the libportdex API (see portdex.h): the
 * sockets of this machine (or of a named network namespace), which process
 * holds each one, and their JSON form.
 *
 * Listing and attribution are separate steps: pdx_sockets_list() asks the
 * kernel (netlink sock_diag, or /proc/net as a fallback) and is cheap;
 * pdx_sockets_attribute() walks /proc/PID/fd to find the holders and is
 * done only when pids are wanted.
 */
#ifndef PORTDEX_SOCKETS_H
#define PORTDEX_SOCKETS_H
#include "portdex.h"

#include <sys/types.h>

PDX_API_BEGIN

/* Kernel socket states (the TCP numbering, used by UDP and SCTP too). */
enum pdx_sock_state {
	PDX_SS_ESTABLISHED = 1,
	PDX_SS_SYN_SENT,
	PDX_SS_SYN_RECV,
	PDX_SS_FIN_WAIT1,
	PDX_SS_FIN_WAIT2,
	PDX_SS_TIME_WAIT,
	PDX_SS_CLOSE, /* shown as UNCONN: bound, not connected */
	PDX_SS_CLOSE_WAIT,
	PDX_SS_LAST_ACK,
	PDX_SS_LISTEN,
	PDX_SS_CLOSING,
	PDX_SS_NEW_SYN_RECV,
	PDX_SS_MAX
};
/* Bit of a state in pdx_sock_filter.states. */
#define PDX_SSF(st) (1u << (st))
/* What ls shows by default: listening TCP and bound UDP (like ss -l). */
#define PDX_SSF_LISTENING (PDX_SSF(PDX_SS_LISTEN) | PDX_SSF(PDX_SS_CLOSE))
#define PDX_SSF_ALL ((1u << PDX_SS_MAX) - 2)

/* "LISTEN", "UNCONN", "ESTAB", ...; "?" for an unknown state. */
const char *pdx_sock_state_name(int state);

/* Address families for pdx_sock_filter.families. */
#define PDX_FAM_INET4 0x1
#define PDX_FAM_INET6 0x2

enum pdx_sock_backend {
	PDX_BACKEND_AUTO = 0, /* netlink, else /proc/net */
	PDX_BACKEND_NETLINK,
	PDX_BACKEND_PROC,
};
/* "netlink", "proc", "auto". */
const char *pdx_backend_name(int backend);

/* One socket.  Strings are owned by the array (pdx_sockets_free). */
struct pdx_socket {
	int proto;	   /* PDX_TCP, PDX_UDP, PDX_SCTP */
	int family;	   /* AF_INET or AF_INET6 */
	int state;	   /* enum pdx_sock_state */
	uint8_t laddr[16]; /* network order; 4 bytes for v4 */
	uint8_t raddr[16];
	unsigned lport, rport;
	unsigned ifindex; /* bound device, 0 if none */
	char local[64];	  /* printable address (with %dev) */
	char remote[64];
	uint32_t rqueue, wqueue;
	long uid;	     /* socket owner */
	unsigned long inode; /* 0 for TIME_WAIT and orphans */
	int v6only;	     /* 1, 0, or -1 when unknown */
	char *netns;	     /* namespace name, NULL: the current */

	/* Filled by pdx_sockets_attribute(); pid 0 when not attributed. */
	pid_t pid;
	char comm[32];
	char *cmdline;	 /* arguments joined by spaces */
	char *user;	 /* name of uid, or NULL */
	char *unit;	 /* systemd unit, or NULL */
	char *container; /* "docker:0123456789ab", or NULL */
	/*
	 * Other processes holding the same socket (a pre-forking server's
	 * workers, children of pid): "PID COMM" entries joined by ", ", or
	 * NULL when pid is the only holder found.
	 */
	char *others;
};

struct pdx_sock_filter {
	int protos;	 /* PDX_TCP|PDX_UDP|PDX_SCTP; 0: tcp+udp */
	int families;	 /* PDX_FAM_*; 0: both */
	unsigned states; /* PDX_SSF bits; 0: PDX_SSF_LISTENING */
	const struct pdx_portset *ports; /* local ports, NULL: any */
	long uid;			 /* socket owner, -1: any */
	int backend;			 /* enum pdx_sock_backend */
	const char *netns;		 /* name under /var/run/netns, NULL */
	/* Applied by pdx_sockets_select() after attribution. */
	pid_t pid;	     /* 0: any */
	const char *process; /* comm, exact; NULL: any */
};
/* A filter that lets every listening tcp/udp socket through. */
void pdx_sock_filter_init(struct pdx_sock_filter *);

/*
 * Lists the sockets that pass the kernel-side part of the filter (protocol,
 * family, state, port, uid), sorted by proto, family, port, address.
 * On success returns 0 and a new array in *out (caller frees it with
 * pdx_sockets_free; *out may be NULL when *n is 0).  Returns -1 and sets
 * the error when no backend can list the sockets, or the namespace cannot
 * be entered.  *backend_used (may be NULL) gets the backend that answered.
 */
int pdx_sockets_list(const struct pdx_sock_filter *, struct pdx_socket **out,
    size_t *n, int *backend_used);
void pdx_sockets_free(struct pdx_socket *, size_t n);
/*
 * A list of n zeroed sockets to fill by hand (for pdx_watch_step, or
 * tests), for pdx_sockets_free; NULL with the error set.
 */
struct pdx_socket *pdx_sockets_new(size_t n);
/*
 * Appends the n2 sockets of b (a list of pdx_sockets_list, taken over
 * with its strings, and freed) to the list *v of *n; 0, or -1 with the
 * error set (b freed either way).  A list is grown only this way, never
 * with realloc: it is not a malloc block (large lists are mappings).
 */
int pdx_sockets_append(struct pdx_socket **v, size_t *n, struct pdx_socket *b,
    size_t n2);

/* Why sockets were left without a process. */
struct pdx_attr_stats {
	size_t wanted; /* sockets with an inode */
	size_t attributed;
	size_t permission;   /* not found, and some /proc/PID/fd unreadable */
	size_t no_process;   /* not found though every process was read */
	size_t no_inode;     /* inode 0: TIME_WAIT, orphaned */
	size_t denied_procs; /* processes whose fds could not be read */
	size_t procs_walked;
};

/*
 * Fills pid, comm, cmdline, unit and container of each socket whose inode
 * is held by a process we may look at, with one walk of /proc/PID/fd that
 * stops when every inode is found (the lowest pid holding a socket wins),
 * and user from each socket's uid.  stats may be NULL.  Returns 0, or -1
 * when /proc cannot be read at all.
 */
int
pdx_sockets_attribute(struct pdx_socket *, size_t n, struct pdx_attr_stats *);
/*
 * The "attribution" object of ls, audit and serve's JSON for n sockets:
 * {sockets, attributed, permission_denied, no_process, no_inode,
 * unreadable_processes}.  NULL when out of memory.
 */
json_t *pdx_attr_stats_json(const struct pdx_attr_stats *, size_t n);

/*
 * Keeps only the sockets that pass the process part of the filter (pid,
 * process name), compacting the array and freeing the others; *n shrinks.
 */
void pdx_sockets_select(struct pdx_socket *, size_t *n,
    const struct pdx_sock_filter *);

/*
 * The JSON object of one socket (new reference; NULL on allocation
 * failure).  With a db, adds "service": {name, status, risk} from
 * pdx_brief().  A wildcard address carries "all_interfaces": true, and a
 * "::" socket with IPV6_V6ONLY off "serves_ipv4": true.
 */
json_t *pdx_socket_json(const struct pdx_socket *, struct pdx_db *db_or_NULL);

/*
 * The listening sockets on port of the transports in protomask (0: tcp
 * and udp) in the current namespace, with pids where permitted: a JSON
 * array (new reference, maybe empty), or NULL and the error.
 */
json_t *pdx_local_port(unsigned port, int protomask);

/* ---- network namespaces (lib/netns.c) -------------------------------- */

/*
 * Enters the namespace /var/run/netns/NAME.  Returns a descriptor of the
 * namespace we came from (give it to pdx_netns_leave), or -1 and the error.
 */
int pdx_netns_enter(const char *name);
/* Returns to the namespace saved by pdx_netns_enter and closes fd. */
int pdx_netns_leave(int saved_fd);
/*
 * The names under /var/run/netns, sorted.  Returns 0 and a new array of
 * new strings (free with pdx_netns_list_free), or -1 and the error.  A
 * missing directory is an empty list.
 */
int pdx_netns_list(char ***names, size_t *n);
void pdx_netns_list_free(char **, size_t n);

PDX_API_END

#endif
