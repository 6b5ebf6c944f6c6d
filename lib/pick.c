/*
 * pick.c - choosing a port for a new service (portdex pick): the checks a
 * candidate must pass, as a table, and the walk outwards from a start
 * port that applies them in order, cheapest first, so the real bind()
 * runs only on ports that passed everything else.  It reads the registry
 * (brief table, nmap, uses), the state database's notes and the kernel's
 * ephemeral range; it does not decide how suggestions are printed (that
 * is src/cmd-pick.c) and it never keeps a socket open.
 *
 * The checks, in the order they run:
 *   ephemeral  outside this kernel's ephemeral range (a client socket
 *              could take the port at any time);
 *   iana       unassigned by IANA on every transport (tcp, udp, sctp,
 *              dccp), so neither assigned, reserved, de-registered nor
 *              historic: a port given to a service on one transport is
 *              left alone on the others, as its owner may claim them;
 *   uses       no row of the curated uses table on any transport;
 *   nmap       nmap's open-frequency at most max_freq on each transport
 *              asked (an unlisted port counts as never seen open);
 *   notes      no note of yours on the port, on any transport;
 *   bind       bind() on 0.0.0.0 and on :: for each transport asked
 *              does not fail with EADDRINUSE (without SO_REUSEADDR, so
 *              a TCP port with connections in TIME_WAIT counts as in
 *              use: something used it moments ago).
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "portdex/pick.h"

#define EPHEMERAL_PROC	"/proc/sys/net/ipv4/ip_local_port_range"
#define TEXTMAX		256

/* The two transports pick works with, in output order. */
static const struct pick_proto {
	int		 proto;
	int		 type;
	int		 idx;	/* index into pick.freq */
} pick_protos[] = {
	{ PDX_TCP, SOCK_STREAM, 0 },
	{ PDX_UDP, SOCK_DGRAM, 1 },
};
#define NPICKPROTO (sizeof pick_protos / sizeof *pick_protos)

struct pick {
	struct pdx_db		*db;
	int			 protos;
	double			 max_freq;
	unsigned		 eph_lo, eph_hi;
	int			 eph_known;	/* read from the kernel */
	const char		*eph_path;
	int			 have_uses, have_nmap, have_notes;
	struct pdx_portset	 uses;		/* ports with a curated use */
	struct pdx_portset	 notes;		/* ports in your notes */
	float			*freq[NPICKPROTO]; /* < 0: not listed */
	json_t			*bound;		/* ports found in use */
};

/* ---- the bind() check ------------------------------------------------ */

/* 0: the bind succeeded, 1: EADDRINUSE, -1: failed otherwise. */
static int
try_bind(int family, int type, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rc, one = 1;

	if ((fd = socket(family, type | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		/* v6-only, so that :: answers for IPv6 sockets alone. */
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof one);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof *sin6;
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == 0)
		rc = 0;
	else
		rc = errno == EADDRINUSE ? 1 : -1;
	close(fd);
	return rc;
}

int
pdx_port_in_use(unsigned port, int protos, int *unchecked)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int used = 0, unknown = 0;
	size_t i, f;

	if (unchecked != NULL)
		*unchecked = 0;
	if (port == 0 || port > 65535) {
		pdx_set_error("port %u cannot be checked by bind()", port);
		return -1;
	}
	for (i = 0; i < NPICKPROTO; i++) {
		if ((protos & pick_protos[i].proto) == 0)
			continue;
		for (f = 0; f < sizeof families / sizeof *families; f++) {
			int r = try_bind(families[f], pick_protos[i].type,
			    port);

			if (r == 1)
				used |= pick_protos[i].proto;
			else if (r < 0)
				unknown |= pick_protos[i].proto;
		}
	}
	if (unchecked != NULL)
		*unchecked = unknown & ~used;
	return used;
}

/* ---- the checks ------------------------------------------------------ */

/* "tcp and udp", "tcp": the transports of mask, for messages. */
static void
protos_text(int mask, char *buf, size_t n)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < NPICKPROTO; i++) {
		if ((mask & pick_protos[i].proto) == 0)
			continue;
		if (buf[0] != '\0')
			strncat(buf, " and ", n - strlen(buf) - 1);
		strncat(buf, pdx_proto_name(pick_protos[i].proto),
		    n - strlen(buf) - 1);
	}
}

static int
check_ephemeral(struct pick *pk, unsigned port, char *text, size_t n)
{
	if (port >= pk->eph_lo && port <= pk->eph_hi)
		return 0;
	if (pk->eph_known)
		snprintf(text, n, "outside this kernel's ephemeral range "
		    "%u-%u", pk->eph_lo, pk->eph_hi);
	else
		snprintf(text, n, "outside %u-%u, assumed ephemeral (%s "
		    "could not be read)", pk->eph_lo, pk->eph_hi, pk->eph_path);
	return 1;
}

static int
check_iana(struct pick *pk, unsigned port, char *text, size_t n)
{
	struct pdx_brief b;
	int i;

	for (i = 0; i < PDX_NPROTO; i++) {
		if (pdx_brief(pk->db, port, 1 << i, &b) != 0)
			return -1;
		if (b.status != PDX_ST_UNASSIGNED)
			return 0;
	}
	snprintf(text, n, "unassigned by IANA on every transport");
	return 1;
}

static int
check_uses(struct pick *pk, unsigned port, char *text, size_t n)
{
	if (pdx_portset_has(&pk->uses, port))
		return 0;
	snprintf(text, n, pk->have_uses ? "no known use in portdex's "
	    "curated data" : "no curated data in this registry to check");
	return 1;
}

static int
check_nmap(struct pick *pk, unsigned port, char *text, size_t n)
{
	char part[64];
	size_t i;

	if (!pk->have_nmap) {
		snprintf(text, n, "no nmap data in this registry to check");
		return 1;
	}
	for (i = 0; i < NPICKPROTO; i++)
		if ((pk->protos & pick_protos[i].proto) != 0 &&
		    pk->freq[i][port] > pk->max_freq)
			return 0;
	snprintf(text, n, "nmap:");
	for (i = 0; i < NPICKPROTO; i++) {
		float f = pk->freq[i][port];

		if ((pk->protos & pick_protos[i].proto) == 0)
			continue;
		if (f < 0)
			snprintf(part, sizeof part, " %s not listed,",
			    pdx_proto_name(pick_protos[i].proto));
		else if (f == 0)
			snprintf(part, sizeof part, " %s never seen open,",
			    pdx_proto_name(pick_protos[i].proto));
		else
			snprintf(part, sizeof part, " %s open-frequency "
			    "%.6f,", pdx_proto_name(pick_protos[i].proto), f);
		strncat(text, part, n - strlen(text) - 1);
	}
	snprintf(part, sizeof part, " limit %g", pk->max_freq);
	strncat(text, part, n - strlen(text) - 1);
	return 1;
}

static int
check_notes(struct pick *pk, unsigned port, char *text, size_t n)
{
	if (pdx_portset_has(&pk->notes, port))
		return 0;
	snprintf(text, n, pk->have_notes ? "not in your notes" :
	    "no notes database to check");
	return 1;
}

static int
check_bind(struct pick *pk, unsigned port, char *text, size_t n)
{
	char what[32], unk[32];
	int used, unchecked;

	if ((used = pdx_port_in_use(port, pk->protos, &unchecked)) < 0)
		return -1;
	if (used != 0) {
		json_array_append_new(pk->bound, json_integer(port));
		return 0;
	}
	protos_text(pk->protos, what, sizeof what);
	if (unchecked == 0)
		snprintf(text, n, "free here: bind() succeeded on 0.0.0.0 "
		    "and :: for %s", what);
	else {
		protos_text(unchecked, unk, sizeof unk);
		snprintf(text, n, "not in use here: no bind() for %s failed "
		    "with 'address in use', but some %s binds failed for "
		    "another reason (no IPv6 or no permission)", what, unk);
	}
	return 1;
}

static const struct pick_check {
	const char	*id;
	int		(*pass)(struct pick *, unsigned, char *, size_t);
} pick_checks[] = {
	{ "ephemeral", check_ephemeral },
	{ "iana", check_iana },
	{ "uses", check_uses },
	{ "nmap", check_nmap },
	{ "notes", check_notes },
	{ "bind", check_bind },
};
#define NCHECKS (sizeof pick_checks / sizeof *pick_checks)

/* ---- loading what the checks read ------------------------------------ */

static int
has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int yes;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE"
	    " type = 'table' AND name = ?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

#define PICK_MAX_USE_SPAN	1000

static int
load_uses(struct pick *pk, sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc;

	pdx_portset_clear(&pk->uses);
	if (!(pk->have_uses = has_table(db, "uses")))
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT port_lo, port_hi FROM uses", -1,
	    &st, NULL) != SQLITE_OK) {
		pdx_set_error("pick: %s", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int lo = sqlite3_column_int(st, 0);
		int hi = sqlite3_column_int(st, 1);

		/*
		 * A pool a product allocates from (RTP media, libvirt's
		 * displays, the dynamic RPC range: over PICK_MAX_USE_SPAN
		 * ports) is no known use of any one port in it.
		 */
		if (lo >= 0 && hi <= 65535 && lo <= hi &&
		    hi - lo <= PICK_MAX_USE_SPAN)
			pdx_portset_add(&pk->uses, (unsigned)lo, (unsigned)hi);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("pick: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int
load_nmap(struct pick *pk, sqlite3 *db)
{
	sqlite3_stmt *st;
	size_t i;
	int rc, p;

	for (i = 0; i < NPICKPROTO; i++) {
		if ((pk->freq[i] = malloc(65536 * sizeof(float))) == NULL) {
			pdx_set_error("pick: out of memory");
			return -1;
		}
		for (p = 0; p < 65536; p++)
			pk->freq[i][p] = -1;	/* not listed */
	}
	if (!has_table(db, "nmap"))
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT port, proto, freq FROM nmap", -1,
	    &st, NULL) != SQLITE_OK) {
		pdx_set_error("pick: %s", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int port = sqlite3_column_int(st, 0);
		int proto = sqlite3_column_int(st, 1);
		double f = sqlite3_column_double(st, 2);

		if (port < 0 || port > 65535 || !isfinite(f) || f < 0)
			continue;
		for (i = 0; i < NPICKPROTO; i++)
			if (pick_protos[i].proto == proto) {
				pk->freq[i][port] = (float)f;
				pk->have_nmap = 1;
			}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("pick: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int
load_notes(struct pick *pk, struct pdx_state *state)
{
	json_t *notes;
	size_t i;

	pdx_portset_clear(&pk->notes);
	if (state == NULL)
		return 0;
	if ((notes = pdx_notes(state, -1, NULL)) == NULL)
		return -1;
	for (i = 0; i < json_array_size(notes); i++) {
		json_int_t p = json_integer_value(json_object_get(
		    json_array_get(notes, i), "port"));

		if (p >= 0 && p <= 65535)
			pdx_portset_add(&pk->notes, (unsigned)p, (unsigned)p);
	}
	json_decref(notes);
	pk->have_notes = 1;
	return 0;
}

/* ---- the walk -------------------------------------------------------- */

/* Runs every check on port; appends a suggestion or counts the skip. */
static int
examine(struct pick *pk, unsigned port, int near, json_t *out,
    json_int_t skipped[NCHECKS])
{
	char text[NCHECKS][TEXTMAX];
	json_t *sugg, *checks, *freq;
	size_t i;
	int r;

	for (i = 0; i < NCHECKS; i++) {
		text[i][0] = '\0';
		if ((r = pick_checks[i].pass(pk, port, text[i], TEXTMAX)) < 0)
			return -1;
		if (r == 0) {
			skipped[i]++;
			return 0;
		}
	}
	checks = json_array();
	for (i = 0; i < NCHECKS; i++)
		json_array_append_new(checks, json_pack("{s:s, s:s}",
		    "check", pick_checks[i].id, "text", text[i]));
	freq = json_object();
	for (i = 0; i < NPICKPROTO; i++) {
		float f = pk->freq[i][port];

		if ((pk->protos & pick_protos[i].proto) == 0)
			continue;
		json_object_set_new(freq, pdx_proto_name(pick_protos[i].proto),
		    f < 0 ? json_null() : json_real(f));
	}
	sugg = json_pack("{s:i, s:i, s:s, s:o, s:o}", "port", (int)port,
	    "distance", abs((int)port - near), "range_class",
	    pdx_range_class_name(pdx_range_class(port)), "nmap", freq,
	    "checks", checks);
	json_array_append_new(out, sugg);
	return 1;
}

static void
pick_free(struct pick *pk)
{
	size_t i;

	if (pk == NULL)
		return;
	for (i = 0; i < NPICKPROTO; i++)
		free(pk->freq[i]);
	json_decref(pk->bound);
	free(pk);
}

static int
check_opts(const struct pdx_pick_opts *o, int *protos, int *lo, int *hi)
{
	if (o->count < 1 || o->count > PDX_PICK_MAX) {
		pdx_set_error("count %u is out of range 1-%d", o->count,
		    PDX_PICK_MAX);
		return -1;
	}
	*protos = o->protos == 0 ? PDX_TCP | PDX_UDP : o->protos;
	if ((*protos & ~(PDX_TCP | PDX_UDP)) != 0) {
		pdx_set_error("pick checks tcp and udp only");
		return -1;
	}
	if (o->near < -1 || o->near > 65535) {
		pdx_set_error("port '%d' is out of range 0-65535", o->near);
		return -1;
	}
	if (isnan(o->max_freq) || o->max_freq > 1) {
		pdx_set_error("frequency limit %g is out of range 0-1",
		    o->max_freq);
		return -1;
	}
	if (o->range == NULL) {
		*lo = PDX_PICK_LO;
		*hi = PDX_PICK_HI;
		return 0;
	}
	if ((*lo = pdx_portset_next(o->range, 0)) < 0) {
		pdx_set_error("the range to search is empty");
		return -1;
	}
	for (*hi = 65535; *hi > *lo && !pdx_portset_has(o->range,
	    (unsigned)*hi); (*hi)--)
		;
	return 0;
}

json_t *
pdx_pick(struct pdx_db *db, const struct pdx_pick_opts *o)
{
	struct pdx_portset defrange;
	const struct pdx_portset *range;
	struct pick *pk;
	json_int_t skipped[NCHECKS];
	json_t *out = NULL, *sugg = NULL, *skip, *tr;
	int protos, lo, hi, near, d, k, found = 0;
	long examined = 0;
	size_t i;

	if (check_opts(o, &protos, &lo, &hi) != 0)
		return NULL;
	if (o->range == NULL) {
		pdx_portset_clear(&defrange);
		pdx_portset_add(&defrange, PDX_PICK_LO, PDX_PICK_HI);
		range = &defrange;
	} else
		range = o->range;
	near = o->near >= 0 ? o->near : (lo + hi) / 2;
	if ((pk = calloc(1, sizeof *pk)) == NULL) {
		pdx_set_error("pick: out of memory");
		return NULL;
	}
	pk->db = db;
	pk->protos = protos;
	pk->max_freq = o->max_freq < 0 ? PDX_PICK_MAX_FREQ : o->max_freq;
	pk->eph_path = o->ephemeral_path != NULL ? o->ephemeral_path :
	    EPHEMERAL_PROC;
	pk->bound = json_array();
	if (pdx_ephemeral_range(pk->eph_path, &pk->eph_lo, &pk->eph_hi) == 0)
		pk->eph_known = 1;
	else {
		pk->eph_lo = PDX_PICK_EPHEMERAL_LO;
		pk->eph_hi = PDX_PICK_EPHEMERAL_HI;
	}
	if (load_uses(pk, pdx_db_handle(db)) != 0 ||
	    load_nmap(pk, pdx_db_handle(db)) != 0 ||
	    load_notes(pk, o->state) != 0)
		goto fail;

	memset(skipped, 0, sizeof skipped);
	sugg = json_array();
	/* Outwards from near; at equal distance the lower port first. */
	for (d = 0; d <= 65535 && found < (int)o->count; d++) {
		int cand[2] = { near - d, near + d };

		if (cand[0] < lo && cand[1] > hi)
			break;
		for (k = 0; k < (d == 0 ? 1 : 2) && found < (int)o->count;
		    k++) {
			int r;

			if (cand[k] < 0 || cand[k] > 65535 ||
			    !pdx_portset_has(range, (unsigned)cand[k]))
				continue;
			examined++;
			if ((r = examine(pk, (unsigned)cand[k], near, sugg,
			    skipped)) < 0)
				goto fail;
			found += r;
		}
	}

	tr = json_array();
	for (i = 0; i < NPICKPROTO; i++)
		if (protos & pick_protos[i].proto)
			json_array_append_new(tr, json_string(
			    pdx_proto_name(pick_protos[i].proto)));
	skip = json_object();
	for (i = 0; i < NCHECKS; i++)
		json_object_set_new(skip, pick_checks[i].id,
		    json_integer(skipped[i]));
	out = json_pack("{s:i, s:o, s:{s:i, s:i, s:i}, s:f,"
	    " s:{s:i, s:i, s:s, s:b}, s:b, s:b, s:b, s:o, s:I, s:o, s:O}",
	    "near", near, "transports", tr,
	    "range", "lo", lo, "hi", hi, "ports", (int)range->count,
	    "max_frequency", pk->max_freq,
	    "ephemeral", "lo", (int)pk->eph_lo, "hi", (int)pk->eph_hi,
	    "source", pk->eph_path, "from_kernel", pk->eph_known,
	    "notes_checked", pk->have_notes,
	    "nmap_checked", pk->have_nmap,
	    "uses_checked", pk->have_uses,
	    "suggestions", sugg, "examined", (json_int_t)examined,
	    "skipped", skip, "bound", pk->bound);
	if (out == NULL)
		pdx_set_error("pick: out of memory");
	pick_free(pk);
	return out;
fail:
	json_decref(sugg);
	pick_free(pk);
	return NULL;
}
