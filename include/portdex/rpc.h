/* portdex/rpc.h - part of the libportdex API (see portdex.h). */
#ifndef PORTDEX_RPC_H
#define PORTDEX_RPC_H
#include "portdex.h"

PDX_API_BEGIN

/*
 * ONC RPC portmapper / rpcbind registrations (lib/rpc.c): the version 2
 * PMAPPROC_DUMP list (what `rpcinfo -p` shows) and, where the server
 * answers, the rpcbind version 4 (else 3) RPCBPROC_DUMP list with netids,
 * universal addresses and owners.
 */

#define PDX_RPC_NETID_MAX 32
#define PDX_RPC_ADDR_MAX 128
#define PDX_RPC_OWNER_MAX 64
#define PDX_RPC_MAX_ENTRIES 8192 /* a longer list is refused */

/* One registration, from either list. */
struct pdx_rpc_reg {
	unsigned long prog;
	unsigned long vers;
	int proto;			   /* PDX_TCP, PDX_UDP, or 0 (other) */
	int port;			   /* -1 when the address has none */
	char netid[PDX_RPC_NETID_MAX + 1]; /* "" from v2 */
	char addr[PDX_RPC_ADDR_MAX + 1];   /* universal address */
	char owner[PDX_RPC_OWNER_MAX + 1];
};

/* Why a query failed (pdx_rpc_query's return value). */
enum pdx_rpc_err {
	PDX_RPC_OK = 0,
	PDX_RPC_ERESOLVE = -1,	 /* host name did not resolve */
	PDX_RPC_EREFUSED = -2,	 /* connection refused on tcp and udp */
	PDX_RPC_ETIMEDOUT = -3,	 /* no answer in time */
	PDX_RPC_ENOPMAP = -4,	 /* something answered, not a portmapper */
	PDX_RPC_EMALFORMED = -5, /* a reply that does not decode */
	PDX_RPC_ESYSTEM = -6,	 /* local failure (sockets, memory) */
};

struct pdx_rpc_dump {
	struct pdx_rpc_reg *pmap; /* v2 list, server order */
	size_t npmap;
	int have_pmap;		  /* v2 answered */
	struct pdx_rpc_reg *rpcb; /* v3/v4 list */
	size_t nrpcb;
	int rpcb_vers;	   /* 4, 3, or 0 (not answered) */
	char transport[4]; /* "tcp" or "udp", as used */
	char address[64];  /* numeric address asked */
	int local;	   /* the address is this host's */
};

struct pdx_rpc_opts {
	unsigned timeout_ms; /* per call and connect; 0: 5000 */
	unsigned port;	     /* portmapper port; 0: 111 */
	int no_tcp;	     /* ask over udp only */
	int no_udp;	     /* no udp fallback */
};

/*
 * Ask host's portmapper (TCP, then UDP when TCP is refused or times out).
 * Fills *dump (free with pdx_rpc_dump_free).  Returns PDX_RPC_OK, or one
 * of the negative pdx_rpc_err values with the error message set.
 */
int pdx_rpc_query(const char *host, const struct pdx_rpc_opts *,
    struct pdx_rpc_dump *dump);
void pdx_rpc_dump_free(struct pdx_rpc_dump *);

/*
 * Pure parser of a raw dump reply: buf holds the XDR-encoded result of
 * PMAPPROC_DUMP (vers 2) or RPCBPROC_DUMP (vers 3 or 4), without the RPC
 * reply header.  The live query decodes with the same code.  On success
 * returns the number of entries and sets *out to a malloc'd array the
 * caller frees; returns -1 with the error set on a malformed buffer.
 * Never reads outside buf.
 */
long pdx_rpc_parse_dump(const void *buf, size_t len, int vers,
    struct pdx_rpc_reg **out);

/*
 * Split a universal address ("127.0.0.1.2.111", "::1.0.111") into host
 * text and port.  Returns 0, or -1 when it is not an IP address with a
 * port (e.g. a unix socket path).  host may be NULL.
 */
int pdx_rpc_uaddr_port(const char *uaddr, char *host, size_t hostsz,
    unsigned *port);

/* PDX_TCP for "tcp"/"tcp6", PDX_UDP for "udp"/"udp6", else 0. */
int pdx_rpc_netid_proto(const char *netid);

/*
 * The dump as a JSON tree, each registration annotated with the program's
 * name and aliases, the IANA assignment of its port (and whether it
 * differs), the risk level, and for a local query the process behind the
 * port.  db may be NULL.  Returns a new reference or NULL.
 */
json_t *
pdx_rpc_json(struct pdx_db *, const char *host, const struct pdx_rpc_dump *);

PDX_API_END

#endif
