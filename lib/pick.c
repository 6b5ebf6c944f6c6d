/*
 * pick.c - choosing a port for a new service (portdex pick): the checks a
 * candidate must pass, as a table, and the walk outwards from a start
 * port that applies them in order, cheapest first, so the real bind()
 * runs only on ports that passed everything else; a block of adjacent
 * ports (--consecutive) is suggested only when every port of it passes.
 * It reads the registry (brief table, nmap, uses), the state database's
 * notes and the kernel's ephemeral range and reserved ports; it does not
 * decide how suggestions are printed (that is src/cmd-pick.c) and it
 * never keeps a socket open.
 *
 * The checks, in the order they run:
 *   bad_port   not a port browsers refuse to connect to (the fetch
 *              standard's bad-port list), so a web UI on it can be opened;
 *   ephemeral  outside this kernel's ephemeral range (a client socket
 *              could take the port at any time);
 *   reserved   not in ip_local_reserved_ports (the administrator set it
 *              aside, usually for a service of their own);
 *   portable   only when asked: below 49152, where Windows and macOS
 *              start their ephemeral range, so the port also works there;
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
 * A suggestion in Kubernetes' default NodePort range passes but carries
 * a warning: on a cluster node kube-proxy may publish that port.
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
#include "db-int.h"
#include "registry-int.h"
#include "portdex/pick.h"
#include "util-int.h"

#define EPHEMERAL_PROC "/proc/sys/net/ipv4/ip_local_port_range"
#define RESERVED_PROC "/proc/sys/net/ipv4/ip_local_reserved_ports"
#define TEXTMAX 256

/* The two transports pick works with, in output order. */
static const struct pick_proto {
	int proto;
	int type;
	int idx; /* index into pick.freq */
} pick_protos[] = {
	{ PDX_TCP, SOCK_STREAM, 0 },
	{ PDX_UDP, SOCK_DGRAM, 1 },
};
#define NPICKPROTO (sizeof pick_protos / sizeof *pick_protos)

struct pick {
	struct pdx_db *db;
	int protos;
	double max_freq;
	unsigned eph_lo, eph_hi;
	int eph_known; /* read from the kernel */
	const char *eph_path;
	int have_uses, have_nmap, have_notes;
	int portable;
	int res_known; /* reserved ports read */
	const char *res_path;
	struct pdx_portset reserved; /* ip_local_reserved_ports */
	unsigned char *memo;	     /* per port: 0 unknown, 1 ok, 2 not */
	struct pdx_portset uses;     /* ports with a curated use */
	struct pdx_portset notes;    /* ports in your notes */
	float *freq[NPICKPROTO];     /* < 0: not listed */
	json_t *bound;		     /* ports found in use */
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
	/* v6-only, so that :: answers for IPv6 sockets alone. */
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof one);
	len = pdx_sockaddr_any(&ss, family, port);
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

/* ---- browsers' bad ports, the kernel's reserved ports ---------------- */

/*
 * The ports browsers refuse to fetch http: and https: URLs on: the "bad
 * port" table of the WHATWG Fetch Standard, section "Port blocking"
 * (https://fetch.spec.whatwg.org/#bad-port), checked against the
 * standard's source fetch.bs at commit 586cd2a4 (2026-07-02), which added
 * 4190 and 6679 last.  HTTP/3 runs over UDP on the URL's port, so the list
 * holds for a UDP pick too.  Sorted, for the binary search.
 */
/* clang-format off */
static const unsigned short bad_ports[] = {
	0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53,
	69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
	119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514,
	515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989,
	990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
	6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
};
/* clang-format on */

int
pdx_port_is_bad_for_browsers(unsigned port)
{
	size_t lo = 0, hi = sizeof bad_ports / sizeof *bad_ports;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (bad_ports[mid] == port)
			return 1;
		if (bad_ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int
pdx_reserved_ports(const char *path, struct pdx_portset *out)
{
	char *text;
	size_t len, i;
	int rc;

	if (path == NULL)
		path = RESERVED_PROC;
	pdx_portset_clear(out);
	if ((text = pdx_read_file(path, 1 << 20, &len)) == NULL)
		return -1;
	while (len > 0 &&
	    (text[len - 1] == '\n' || text[len - 1] == ' ' ||
		text[len - 1] == '\t'))
		text[--len] = '\0';
	if (len == 0) {
		free(text);
		return 0;
	}
	/* the kernel writes "8080,9000-9010": digits, commas, dashes */
	for (i = 0; i < len; i++)
		if (text[i] == '\0' ||
		    strchr("0123456789,-", text[i]) == NULL || text[0] == '-')
			break;
	if (i < len || (rc = pdx_portset_parse(out, text)) != 0) {
		if (i < len)
			pdx_set_error("%s: not a list of ports", path);
		else
			pdx_set_error("%s: %s", path, pdx_last_error());
		pdx_portset_clear(out);
		free(text);
		return -1;
	}
	free(text);
	return 0;
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
check_bad_port(struct pick *pk, unsigned port, char *text, size_t n)
{
	(void)pk;
	if (pdx_port_is_bad_for_browsers(port))
		return 0;
	snprintf(text, n,
	    "not a port browsers refuse (the fetch standard's "
	    "bad ports)");
	return 1;
}

static int
check_reserved(struct pick *pk, unsigned port, char *text, size_t n)
{
	if (pdx_portset_has(&pk->reserved, port))
		return 0;
	if (pk->res_known)
		snprintf(text, n,
		    "not in this kernel's "
		    "ip_local_reserved_ports");
	else
		snprintf(text, n,
		    "reserved ports not checked (%s could not "
		    "be read)",
		    pk->res_path);
	return 1;
}

/* 2: passed and not asked, so nothing to say. */
static int
check_portable(struct pick *pk, unsigned port, char *text, size_t n)
{
	if (!pk->portable)
		return 2;
	if (port >= PDX_PORTABLE_EPHEMERAL_LO)
		return 0;
	snprintf(text, n,
	    "below %d, outside Windows' and macOS's default "
	    "ephemeral range",
	    PDX_PORTABLE_EPHEMERAL_LO);
	return 1;
}

static int
check_ephemeral(struct pick *pk, unsigned port, char *text, size_t n)
{
	if (port >= pk->eph_lo && port <= pk->eph_hi)
		return 0;
	if (pk->eph_known)
		snprintf(text, n,
		    "outside this kernel's ephemeral range "
		    "%u-%u",
		    pk->eph_lo, pk->eph_hi);
	else
		snprintf(text, n,
		    "outside %u-%u, assumed ephemeral (%s "
		    "could not be read)",
		    pk->eph_lo, pk->eph_hi, pk->eph_path);
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
	snprintf(text, n,
	    pk->have_uses ? "no known use in portdex's "
			    "curated data"
			  : "no curated data in this registry to check");
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
			snprintf(part, sizeof part,
			    " %s open-frequency "
			    "%.6f,",
			    pdx_proto_name(pick_protos[i].proto), f);
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
	snprintf(text, n,
	    pk->have_notes ? "not in your notes"
			   : "no notes database to check");
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
		snprintf(text, n,
		    "free here: bind() succeeded on 0.0.0.0 "
		    "and :: for %s",
		    what);
	else {
		protos_text(unchecked, unk, sizeof unk);
		snprintf(text, n,
		    "not in use here: no bind() for %s failed "
		    "with 'address in use', but some %s binds failed for "
		    "another reason (no IPv6 or no permission)",
		    what, unk);
	}
	return 1;
}

static const struct pick_check {
	const char *id;
	int (*pass)(struct pick *, unsigned, char *, size_t);
} pick_checks[] = {
	{ "bad_port", check_bad_port },
	{ "ephemeral", check_ephemeral },
	{ "reserved", check_reserved },
	{ "portable", check_portable },
	{ "iana", check_iana },
	{ "uses", check_uses },
	{ "nmap", check_nmap },
	{ "notes", check_notes },
	{ "bind", check_bind },
};
#define NCHECKS (sizeof pick_checks / sizeof *pick_checks)

/* ---- loading what the checks read ------------------------------------ */

#define has_table pdx_sqlite_has_table

#define PICK_MAX_USE_SPAN 1000

static int
load_uses(struct pick *pk, sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc;

	pdx_portset_clear(&pk->uses);
	if (!(pk->have_uses = has_table(db, "uses")))
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT port_lo, port_hi FROM uses", -1, &st,
		NULL) != SQLITE_OK) {
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
			pk->freq[i][p] = -1; /* not listed */
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
		json_int_t p = json_integer_value(
		    json_object_get(json_array_get(notes, i), "port"));

		if (p >= 0 && p <= 65535)
			pdx_portset_add(&pk->notes, (unsigned)p, (unsigned)p);
	}
	json_decref(notes);
	pk->have_notes = 1;
	return 0;
}

/* ---- the walk -------------------------------------------------------- */

/*
 * Runs every check on port.  Returns 1 when it passes them all, 0 when
 * one turns it away, -1 on error.  The first run of a port counts it as
 * examined (and, when turned away, against the check that did it); the
 * answer is remembered, and later runs (text != NULL: the texts of a
 * suggestion are wanted) ask the kernel again.
 */
static int
run_checks(struct pick *pk, unsigned port, char text[][TEXTMAX],
    json_int_t skipped[NCHECKS], long *examined)
{
	char scratch[TEXTMAX];
	size_t i;
	int r, first = pk->memo[port] == 0;

	if (!first && text == NULL)
		return pk->memo[port] == 1;
	if (first)
		(*examined)++;
	for (i = 0; i < NCHECKS; i++) {
		char *t = text != NULL ? text[i] : scratch;

		t[0] = '\0';
		if ((r = pick_checks[i].pass(pk, port, t, TEXTMAX)) < 0)
			return -1;
		if (r == 0) {
			if (first)
				skipped[i]++;
			pk->memo[port] = 2;
			return 0;
		}
	}
	pk->memo[port] = 1;
	return 1;
}

/* The suggestion of the block start..start+len-1 (every port passed). */
static json_t *
suggestion(struct pick *pk, unsigned start, unsigned len, int near,
    char text[][TEXTMAX])
{
	json_t *checks, *freq, *ports, *warn;
	unsigned p, hi = start + len - 1;
	size_t i;
	char w[TEXTMAX];

	checks = json_array();
	for (i = 0; i < NCHECKS; i++)
		if (text[i][0] != '\0')
			json_array_append_new(checks,
			    json_pack("{s:s, s:s}", "check", pick_checks[i].id,
				"text", text[i]));
	freq = json_object();
	for (i = 0; i < NPICKPROTO; i++) {
		float f = pk->freq[i][start];

		if ((pk->protos & pick_protos[i].proto) == 0)
			continue;
		json_object_set_new(freq, pdx_proto_name(pick_protos[i].proto),
		    f < 0 ? json_null() : json_real(f));
	}
	ports = json_array();
	for (p = start; p <= hi; p++)
		json_array_append_new(ports, json_integer(p));
	warn = json_array();
	/* any port of the block inside 30000-32767 */
	if (start <= PDX_NODEPORT_HI && hi >= PDX_NODEPORT_LO) {
		snprintf(w, sizeof w,
		    "inside Kubernetes' default NodePort "
		    "range %d-%d: on a cluster node kube-proxy may publish "
		    "%s",
		    PDX_NODEPORT_LO, PDX_NODEPORT_HI,
		    len > 1 ? "ports of this block" : "this port");
		json_array_append_new(warn, json_string(w));
	}
	return json_pack("{s:i, s:i, s:o, s:i, s:s, s:b, s:o, s:o, s:o}",
	    "port", (int)start, "port_hi", (int)hi, "ports", ports, "distance",
	    abs((int)start - near), "range_class",
	    pdx_range_class_name(pdx_range_class(start)), "kubernetes_nodeport",
	    json_array_size(warn) > 0, "warnings", warn, "nmap", freq, "checks",
	    checks);
}

/*
 * Tries the block start..start+len-1: appends a suggestion and marks its
 * ports taken when every port passes.  Returns 1, 0 or -1 (error).
 */
static int
try_block(struct pick *pk, const struct pdx_portset *range,
    struct pdx_portset *taken, unsigned start, unsigned len, int near,
    json_t *out, json_int_t skipped[NCHECKS], long *examined)
{
	char text[NCHECKS][TEXTMAX];
	json_t *s;
	unsigned p;
	int r;

	if (start + len - 1 > 65535)
		return 0;
	for (p = start; p < start + len; p++)
		if (!pdx_portset_has(range, p) || pdx_portset_has(taken, p))
			return 0;
	for (p = start; p < start + len; p++)
		if ((r = run_checks(pk, p, NULL, skipped, examined)) <= 0)
			return r;
	/* the start's texts, asked again: the kernel may have changed */
	if ((r = run_checks(pk, start, text, skipped, examined)) <= 0)
		return r;
	if ((s = suggestion(pk, start, len, near, text)) == NULL ||
	    json_array_append_new(out, s) != 0) {
		pdx_set_error("pick: out of memory");
		return -1;
	}
	pdx_portset_add(taken, start, start + len - 1);
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
	free(pk->memo);
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
	if (o->consecutive > PDX_PICK_MAX_BLOCK) {
		pdx_set_error("a block of %u ports is more than %d",
		    o->consecutive, PDX_PICK_MAX_BLOCK);
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
	for (*hi = 65535;
	     *hi > *lo && !pdx_portset_has(o->range, (unsigned)*hi); (*hi)--)
		;
	return 0;
}

json_t *
pdx_pick(struct pdx_db *db, const struct pdx_pick_opts *o)
{
	struct pdx_portset defrange, taken;
	const struct pdx_portset *range;
	struct pick *pk;
	json_int_t skipped[NCHECKS];
	json_t *out = NULL, *sugg = NULL, *skip, *tr;
	int protos, lo, hi, near, d, k, found = 0;
	unsigned len = o->consecutive > 0 ? o->consecutive : 1;
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
	pk->eph_path = o->ephemeral_path != NULL ? o->ephemeral_path
						 : EPHEMERAL_PROC;
	pk->bound = json_array();
	pk->portable = o->portable != 0;
	pk->res_path = o->reserved_path != NULL ? o->reserved_path
						: RESERVED_PROC;
	/* unreadable: no port is turned away, and each text says so */
	pk->res_known = pdx_reserved_ports(pk->res_path, &pk->reserved) == 0;
	if ((pk->memo = calloc(65536, 1)) == NULL) {
		pdx_set_error("pick: out of memory");
		goto fail;
	}
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
	pdx_portset_clear(&taken);
	sugg = json_array();
	/*
	 * Outwards from near; at equal distance the lower port first.  A
	 * candidate is the first port of a block of len ports.
	 */
	for (d = 0; d <= 65535 && found < (int)o->count; d++) {
		int cand[2] = { near - d, near + d };

		if (cand[0] < lo && cand[1] > hi)
			break;
		for (k = 0; k < (d == 0 ? 1 : 2) && found < (int)o->count;
		     k++) {
			int r;

			if (cand[k] < 0 || cand[k] > 65535)
				continue;
			if ((r = try_block(pk, range, &taken, (unsigned)cand[k],
				 len, near, sugg, skipped, &examined)) < 0)
				goto fail;
			found += r;
		}
	}

	tr = json_array();
	for (i = 0; i < NPICKPROTO; i++)
		if (protos & pick_protos[i].proto)
			json_array_append_new(tr,
			    json_string(pdx_proto_name(pick_protos[i].proto)));
	skip = json_object();
	for (i = 0; i < NCHECKS; i++)
		json_object_set_new(skip, pick_checks[i].id,
		    json_integer(skipped[i]));
	out = json_pack("{s:i, s:o, s:{s:i, s:i, s:i}, s:f, s:i, s:b,"
			" s:{s:i, s:i, s:s, s:b}, s:{s:i, s:s, s:b},"
			" s:b, s:b, s:b, s:o, s:I, s:o, s:O}",
	    "near", near, "transports", tr, "range", "lo", lo, "hi", hi,
	    "ports", (int)range->count, "max_frequency", pk->max_freq,
	    "consecutive", (int)len, "portable", pk->portable, "ephemeral",
	    "lo", (int)pk->eph_lo, "hi", (int)pk->eph_hi, "source",
	    pk->eph_path, "from_kernel", pk->eph_known, "reserved", "count",
	    (int)pk->reserved.count, "source", pk->res_path, "from_kernel",
	    pk->res_known, "notes_checked", pk->have_notes, "nmap_checked",
	    pk->have_nmap, "uses_checked", pk->have_uses, "suggestions", sugg,
	    "examined", (json_int_t)examined, "skipped", skip, "bound",
	    pk->bound);
	if (out == NULL)
		pdx_set_error("pick: out of memory");
	pick_free(pk);
	return out;
fail:
	json_decref(sugg);
	pick_free(pk);
	return NULL;
}
