/*
 * portdex/pick.h - part of the libportdex API (see portdex.h): choosing a
 * port for a new service.  pdx_pick() walks the port space outwards from a
 * start port and keeps the ports that pass every check (browsers' bad
 * ports, this kernel's ephemeral range and reserved ports, IANA, curated
 * uses, nmap's open-frequency, your notes, and a real bind() on this
 * machine), alone or as blocks of adjacent ports.  lib/pick.c explains
 * each check.
 */
#ifndef PORTDEX_PICK_H
#define PORTDEX_PICK_H
#include "portdex.h"

PDX_API_BEGIN

/*
 * nmap's open-frequency above which a port counts as "seen open too
 * often": more than 1 in 2,000 hosts nmap's data probed.  One sighting in
 * nmap's UDP sample is about 0.0002, so a UDP port seen once or twice
 * still passes; TCP frequencies are finer grained.
 */
#define PDX_PICK_MAX_FREQ 0.0005
/* The most suggestions one call returns. */
#define PDX_PICK_MAX 1000
/* The default search range (the IANA user range) and its middle. */
#define PDX_PICK_LO 1024
#define PDX_PICK_HI 49151
/* Used when the kernel's ephemeral range cannot be read: Linux's default
 * start through the top of IANA's dynamic range (BSD, macOS, Windows). */
#define PDX_PICK_EPHEMERAL_LO 32768
#define PDX_PICK_EPHEMERAL_HI 65535
/* The most adjacent ports one suggestion may hold (--consecutive). */
#define PDX_PICK_MAX_BLOCK 1000
/* Kubernetes' default NodePort range (kube-apiserver's
 * --service-node-port-range): a suggestion in it gets a warning. */
#define PDX_NODEPORT_LO 30000
#define PDX_NODEPORT_HI 32767
/* Windows' and macOS's default ephemeral range, avoided with portable. */
#define PDX_PORTABLE_EPHEMERAL_LO 49152

struct pdx_state;

struct pdx_pick_opts {
	unsigned count; /* suggestions wanted, 1..PDX_PICK_MAX */
	int protos;	/* PDX_TCP and/or PDX_UDP; 0: both */
	int near;	/* start port; -1: middle of the range */
	/* Ports to search (borrowed); NULL: PDX_PICK_LO-PDX_PICK_HI. */
	const struct pdx_portset *range;
	double max_freq;	 /* < 0: PDX_PICK_MAX_FREQ */
	struct pdx_state *state; /* notes to avoid; NULL: none */
	/* The ephemeral range file; NULL: the /proc default. */
	const char *ephemeral_path;
	/* The reserved ports file; NULL: the /proc default. */
	const char *reserved_path;
	/* Adjacent free ports per suggestion, 1..PDX_PICK_MAX_BLOCK; 0: 1. */
	unsigned consecutive;
	/* Also avoid 49152-65535, the other systems' ephemeral range. */
	int portable;
};

/*
 * Suggests up to opts->count ports (or blocks of opts->consecutive
 * adjacent ports, none shared between two blocks), nearest to opts->near
 * first (equal distances: the lower port first; a block's distance is its
 * first port's).  Returns a new reference:
 *   { near, transports, range {lo, hi, ports}, max_frequency,
 *     consecutive, portable,
 *     ephemeral {lo, hi, source, from_kernel},
 *     reserved {count (ports reserved), source, from_kernel},
 *     notes_checked, nmap_checked, uses_checked,
 *     suggestions [ {port, port_hi, ports [every port of the block],
 *                    distance, range_class, kubernetes_nodeport,
 *                    warnings [text],
 *                    nmap {tcp, udp: frequency or null when unlisted},
 *                    checks [ {check, text} ]} ],
 *     examined, skipped {bad_port, ephemeral, reserved, portable, iana,
 *                        uses, nmap, notes, bind},
 *     bound [ports found in use here] }
 * (the *_checked flags are false when that data was not available, so
 * the check passed every port; the checks of a block are its first
 * port's, and every port of it passed them all).
 * An empty suggestions array is not an error.  Returns NULL and sets the
 * error on bad options or a damaged database.
 */
json_t *pdx_pick(struct pdx_db *, const struct pdx_pick_opts *);

/*
 * The bind() check on its own: tries to bind port on 0.0.0.0 and on ::
 * (IPv6-only) for each transport in protos (PDX_TCP, PDX_UDP).  Returns
 * the mask of transports where a bind failed with EADDRINUSE.  *unchecked
 * (may be NULL) gets the mask of transports where a bind failed for
 * another reason (no IPv6, permission), so the answer is incomplete.
 */
int pdx_port_in_use(unsigned port, int protos, int *unchecked);

/* 1 when browsers refuse to fetch http(s) URLs with this port (the fetch
 * standard's "bad port" list), else 0. */
int pdx_port_is_bad_for_browsers(unsigned port);

/*
 * The kernel's ip_local_reserved_ports from path (NULL: the /proc
 * default): the ports it never hands to a socket that asks for any port.
 * Returns 0 and fills *out (an empty file is an empty set), or -1 and the
 * error naming the file.
 */
int pdx_reserved_ports(const char *path, struct pdx_portset *out);

PDX_API_END

#endif
