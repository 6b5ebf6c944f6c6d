/* portdex/scan.h - part of the libportdex API (see portdex.h). */
#ifndef PORTDEX_SCAN_H
#define PORTDEX_SCAN_H
#include "portdex.h"

#include <sys/socket.h>

PDX_API_BEGIN

/*
 * TCP connect scan of exactly one host (lib/scan.c).  The library resolves
 * the host once, connects to every port of a pdx_portset with non-blocking
 * sockets watched by epoll, and records one state per port.  It never
 * prints: progress goes to an optional callback.
 */

enum pdx_scan_state {
	PDX_SCAN_UNSCANNED = 0, /* not in the port set */
	PDX_SCAN_OPEN,		/* the handshake completed (not to itself) */
	PDX_SCAN_CLOSED,	/* refused (RST), or a self-connect */
	PDX_SCAN_FILTERED,	/* no answer after the retry, or unreachable */
};
/* "open", "closed", "filtered" ("" for unscanned). */
const char *pdx_scan_state_name(int);

/* The one host to scan, resolved once. */
struct pdx_scan_target {
	struct sockaddr_storage addr; /* port is filled per probe */
	socklen_t addrlen;
	char host[256];	  /* as given */
	char numeric[64]; /* the address scanned */
};

/*
 * Resolve host (a name or a literal IPv4/IPv6 address) to one address.
 * family is AF_UNSPEC, AF_INET or AF_INET6.  CIDR blocks, ranges, lists and
 * wildcards are refused: a scan covers exactly the host given.  Returns 0,
 * or -1 with the error set.
 */
int pdx_scan_resolve(const char *host, int family, struct pdx_scan_target *);

typedef void (*pdx_scan_progress_fn)(void *arg, unsigned done, unsigned total);

struct pdx_scan_opts {
	unsigned timeout_ms;  /* per attempt; 0: 1000 */
	unsigned retries;     /* extra tries after a timeout (1) */
	unsigned concurrency; /* sockets in flight; 0: from the limit */
	unsigned rate;	      /* connects per second, 0: no limit */
	unsigned threads;     /* 0: one per online CPU, at most 4 */
	pdx_scan_progress_fn progress; /* called about 10 times a second */
	void *progress_arg;	       /* from the calling thread, or NULL */
};
/* Defaults: timeout 1000 ms, one retry, everything else automatic. */
void pdx_scan_opts_init(struct pdx_scan_opts *);

struct pdx_scan_result {
	uint8_t state[65536]; /* enum pdx_scan_state per port */
	unsigned nports;      /* ports probed */
	unsigned nopen, nclosed, nfiltered;
	unsigned nselfconnect; /* self-connects seen (counted closed) */
	unsigned nretried;     /* ports tried twice */
	unsigned concurrency;  /* sockets in flight, as used */
	unsigned threads;      /* worker threads, as used */
	double elapsed;	       /* seconds, wall clock */
};

/*
 * Raise RLIMIT_NOFILE's soft limit to the hard limit where allowed and
 * return how many sockets a scan may keep in flight (leaving room for
 * the process's other descriptors).
 */
unsigned pdx_scan_concurrency(void);

/*
 * Scan the ports of set on target.  res is filled in (it is large: 64 KiB;
 * allocate it).  Returns 0, or -1 with the error set when the scan could
 * not run at all (no sockets, epoll failure).
 */
int pdx_scan(const struct pdx_scan_target *, const struct pdx_portset *,
    const struct pdx_scan_opts *, struct pdx_scan_result *res);

/*
 * The default port set: the `limit` TCP ports nmap sees open most often,
 * from the registry's nmap table; 1-1024 when db is NULL or the table is
 * absent or empty.  Returns the number of ports taken from the registry
 * (0 when it fell back).
 */
int
pdx_scan_default_ports(struct pdx_db *, unsigned limit, struct pdx_portset *);

/*
 * The result as a JSON tree: {"host", "address", "ports": [{"port",
 * "state", "service", "status", "risk"}...], "summary": {...}}.  Ports in
 * port order; only open ones unless all is set.  db may be NULL (no
 * annotations).  Returns a new reference (the caller decrefs) or NULL.
 */
json_t *pdx_scan_json(struct pdx_db *, const struct pdx_scan_target *,
    const struct pdx_scan_result *, int all);

PDX_API_END

#endif
