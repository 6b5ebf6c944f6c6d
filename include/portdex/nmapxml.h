/*
 * portdex/nmapxml.h - part of the libportdex API (see portdex.h): nmap's
 * XML report format (nmap.dtd), read with libxml2's streaming reader one
 * host at a time, the annotation of a reported port with what portdex
 * expects there, and the writing of a portdex scan as such a report.
 */
#ifndef PORTDEX_NMAPXML_H
#define PORTDEX_NMAPXML_H
#include "portdex.h"
#include "portdex/scan.h"

PDX_API_BEGIN

/*
 * Called once per <host>, in file order.  run holds <nmaprun>'s
 * attributes ({"scanner", "args", "start", "version",
 * "xmloutputversion"}, each present when the report has it); host is
 * {"address", "addrtype", "addresses": [{"addr", "addrtype"}],
 * "hostnames": [...], "status", "ports": [{"port", "proto", "state",
 * "reason", "service": {"name", "product", "version", "extrainfo",
 * "tunnel", "method", "conf"} (null when nmap named none)}],
 * "extraports": [{"state", "count"}]}.  Both are borrowed for the call
 * (incref what you keep).  Return 0 to go on, non-zero to stop (the
 * reader then returns -1 and keeps the error fn set, if any).
 */
typedef int (*pdx_nmapxml_fn)(json_t *run, json_t *host, void *arg);

/* More ports than this in one <host> is refused (65,536 x 4 transports). */
#define PDX_NMAPXML_MAX_PORTS 262144

/*
 * Read the nmap XML report at path ("-": standard input) without loading
 * anything over the network, without a DTD and refusing entity
 * declarations and references (nmap writes none).  Returns the number of
 * hosts, or -1 with the error "PATH:LINE: what" (hosts before the error
 * have been handed to fn).
 */
long pdx_nmapxml_read_file(const char *path, pdx_nmapxml_fn, void *arg);
/*
 * The same for a report read from fd, whose first headlen bytes (head)
 * were read already (a caller that looked at them); fd is not closed.
 */
long pdx_nmapxml_read_fd(int fd, const char *head, size_t headlen,
    const char *name, pdx_nmapxml_fn, void *arg);
/* The same for a report in memory; name is used in errors. */
long pdx_nmapxml_read_mem(const char *buf, size_t len, const char *name,
    pdx_nmapxml_fn, void *arg);

/*
 * What portdex expects on a port nmap reported: {"headline", "status",
 * "risk", "verdict", "reason", "matched"?}.  verdict is the first of
 *   "unidentified" nmap could not name the service (none, unknown,
 *                 tcpwrapped)
 *   "unprobed"    nmap's name came from its port table, not the service
 *   "no-expectation" portdex knows no use of the port (an IANA service
 *                 or a curated use narrower than 1,000 ports)
 *   "match"       nmap's service or product is a known use of the port
 *   "mismatch"    what nmap identified is no known use of the port
 * port is one of the host's "ports" objects above.  New reference, or
 * NULL with the error set.
 */
json_t *pdx_nmapxml_expect(struct pdx_db *, json_t *port);

/* What the written report says about the run that made it. */
struct pdx_nmapxml_run {
	const char *args;     /* the command line, as one string */
	const char *version;  /* portdex's version */
	long long start, end; /* Unix times */
	int all;	      /* list closed and filtered ports too */
};

/*
 * Write res as an nmap XML report (xmloutputversion 1.05) to path ("-":
 * standard output): one <host> with its open ports (every scanned port
 * with run->all), the rest as <extraports>, service names from the
 * registry (method "table", as nmap does without -sV; db may be NULL).
 * Returns 0, or -1 with the error set.
 */
int pdx_nmapxml_write_scan(const char *path, struct pdx_db *,
    const struct pdx_scan_target *, const struct pdx_scan_result *,
    const struct pdx_nmapxml_run *);

PDX_API_END

#endif
