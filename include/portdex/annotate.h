/*
 * portdex/annotate.h - part of the libportdex API (see portdex.h): finding
 * the ports in one line of text people already have (firewall logs, IDS
 * events, flow logs, ss/netstat/lsof output, nmap reports) and what portdex
 * knows of each (`portdex annotate`).  The formats each parser accepts are
 * documented beside it in lib/annotate.c and in docs/annotate.md.
 *
 * Parsers never allocate and never keep a pointer into the line; a line is
 * bytes (NUL bytes and invalid UTF-8 are allowed), given with its length,
 * without its line end.
 */
#ifndef PORTDEX_ANNOTATE_H
#define PORTDEX_ANNOTATE_H
#include "portdex.h"

PDX_API_BEGIN

/* Longest line a caller should hand over; longer ones come in pieces. */
#define PDX_ANNOTATE_MAXLINE 65536
/* At most this many ports are reported for one line. */
#define PDX_ANNOTATE_MAXHITS 16

/* What a port is to the traffic or socket the line describes. */
enum pdx_port_role {
	PDX_ROLE_NONE = 0, /* the line does not say */
	PDX_ROLE_SRC,	   /* a packet's or flow's source port */
	PDX_ROLE_DST,	   /* a packet's or flow's destination port */
	PDX_ROLE_LOCAL,	   /* a socket's own port (ss, netstat, lsof) */
	PDX_ROLE_PEER,	   /* the other end of a socket */
	PDX_ROLE_SCANNED,  /* a port nmap reports on */
};
/* "src", "dst", "local", "peer", "scanned", "" for PDX_ROLE_NONE. */
const char *pdx_port_role_name(int);

/* One port found in a line. */
struct pdx_port_hit {
	unsigned port;
	int proto;	 /* PDX_TCP...; 0: not said */
	int role;	 /* enum pdx_port_role */
	size_t off, len; /* the port's bytes: digits or a name */
};

/* The formats, in the order pdx_lineparse tries them. */
enum pdx_line_format {
	PDX_LF_NONE = 0,
	PDX_LF_ZEEK_HEADER, /* a "#fields" or other '#' line of conn.log */
	PDX_LF_ZEEK_TSV,
	PDX_LF_SURICATA, /* eve.json */
	PDX_LF_ZEEK_JSON,
	PDX_LF_KERNEL,	  /* iptables/nftables/ufw/firewalld LOG */
	PDX_LF_NMAP_GREP, /* nmap -oG */
	PDX_LF_NMAP,	  /* nmap -oN (and its terminal output) */
	PDX_LF_SS,
	PDX_LF_NETSTAT,
	PDX_LF_LSOF,
	PDX_LF_GENERIC, /* ADDR:PORT, "port N" */
	PDX_LF_COUNT
};
/* "kernel-log", "suricata-eve", ...; "" for PDX_LF_NONE. */
const char *pdx_line_format_name(int);

/*
 * Resolves a service name that lsof or netstat printed in place of a port
 * ("*:ssh"): returns the port, or -1 when the name is unknown.  proto is
 * PDX_TCP or PDX_UDP, or 0 when the line does not say.
 */
typedef int (*pdx_service_port_fn)(const char *name, int proto, void *arg);

/*
 * The state of a stream of lines: the columns of the last Zeek "#fields"
 * header, whether the generic fallback is on, the name resolver.
 * Caller-allocated; pdx_lineparser_init() sets every field.
 */
struct pdx_lineparser {
	int generic; /* 1: the ADDR:PORT, port N fallback */
	/* Zeek TSV: columns of id.orig_p, id.resp_p, proto; -1 unknown. */
	int zeek_orig, zeek_resp, zeek_proto;
	char zeek_sep;		     /* from "#separator", default '\t' */
	pdx_service_port_fn resolve; /* NULL: names are not resolved */
	void *resolve_arg;
};
void pdx_lineparser_init(struct pdx_lineparser *);

/*
 * Finds the ports of one line: tries each parser in the order of enum
 * pdx_line_format and stops at the first that recognises the line.
 * Returns the number of hits written (0..max), sets *format to the parser
 * that recognised the line (PDX_LF_NONE when none did).  A recognised
 * line may have no port (an ICMP packet's LOG line, a header).
 */
int pdx_lineparse(struct pdx_lineparser *, const char *line, size_t len,
    struct pdx_port_hit *hits, int max, int *format);

/*
 * One parser: returns -1 when the line is not of its format, else the
 * number of hits written (0..max).  Every parser has this signature;
 * they are exposed for the tests and the fuzzer.
 */
typedef int (*pdx_line_parser_fn)(struct pdx_lineparser *, const char *, size_t,
    struct pdx_port_hit *, int);
/* The parser of a format, NULL for PDX_LF_NONE or out of range. */
pdx_line_parser_fn pdx_line_parser(int format);

/* ---- annotations: what portdex knows of a port ------------------------ */

/* What `portdex annotate` says of one port. */
struct pdx_port_note {
	const char *service;   /* the headline identity, or "" */
	const char *from;      /* "curated", "iana" or "none" */
	const char *iana_name; /* IANA's service name, or "" */
	int status;	       /* enum pdx_status */
	int risk;	       /* enum pdx_level */
	const char *use;       /* the top practical use, or NULL */
	int listening;	       /* 1: this machine listens on it */
	int proto;	       /* the transport looked up */
};

struct pdx_annotator;

/*
 * Makes an annotator over an open registry (borrowed; it must outlive the
 * annotator): loads the curated uses once (a few hundred KB) and, unless
 * listeners is 0, this machine's listening sockets.  Returns NULL and the
 * error on failure.  Free with pdx_annotator_free().
 */
struct pdx_annotator *pdx_annotator_new(struct pdx_db *, int listeners);
void pdx_annotator_free(struct pdx_annotator *);
/*
 * Reload the listening sockets when they are older than seconds (0:
 * never reload).  Called by a streaming caller before each line; it costs
 * a clock read when nothing is due.
 */
void pdx_annotator_refresh(struct pdx_annotator *, double seconds);
/*
 * What is known of port over proto (0: the transport is unknown: tcp,
 * unless only udp has an assignment or a use).  The strings live as long
 * as the annotator and its registry.  Returns 0, or -1 with the error.
 */
int pdx_annotate_port(struct pdx_annotator *, unsigned port, int proto,
    struct pdx_port_note *);
/* A pdx_service_port_fn over the system's services and the registry. */
int pdx_annotator_resolve(const char *name, int proto, void *annotator);

PDX_API_END

#endif
