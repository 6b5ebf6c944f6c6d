/*
 * annotate-db.c - what `portdex annotate` says of each port it finds:
 * the headline identity, IANA's status, the risk level, the top practical
 * use, and whether this machine listens on it.  Built for a million
 * lookups: status, risk and IANA's name come from the brief table
 * (pdx_brief: one word per port), the curated uses are read once into
 * memory and the answer per port and transport is cached, and the
 * listening sockets are one bitmap, reloaded on request.  The full card
 * (card.c, card-extra.c) is not used: its headline is the same choice
 * made from the card's JSON (the lead use, else IANA's service), except
 * that a card may show IANA's description where this shows the name.
 * The line parsers are annotate.c's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "portdex.h"
#include "portdex/annotate.h"
#include "portdex/sockets.h"
#include "registry-int.h"

/* Uses kept: more rows than this are left out (the data holds ~1,600). */
#define AN_MAX_USES 32000

struct an_use {
	int lo, hi, mask;
	int lead;
	int summary; /* narrow, sourced, not IANA's note */
	const char *name;
};

struct pdx_annotator {
	struct pdx_db *db;
	struct an_use *uses;
	size_t nuses;
	char *names; /* the uses' names, NUL-separated */
	/*
	 * Per transport (NULL until used) and port: the lead use's index + 1
	 * (15 bits, 0: none) | the top use's index + 1 << 15.
	 */
	uint32_t *cache[PDX_NPROTO];
	int listeners; /* 1: keep the bitmap below */
	uint64_t listen[PDX_NPROTO][65536 / 64];
	struct timespec loaded;
};

/*
 * The card's rule for a use named in its summary (card-extra.c
 * summary_use): not nmap's label alone, not IANA's unauthorized-use
 * note, not a wide range's row.
 */
static int
summary_use(int lo, int hi, const char *kind, const char *confidence)
{
	return hi - lo < 100 && strcmp(confidence, "observed") != 0 &&
	    strcmp(kind, "iana-unauthorized") != 0;
}

static int
load_uses(struct pdx_annotator *a)
{
	static const char sql[] =
	    "SELECT port_lo, port_hi, protomask, kind,"
	    " confidence, lead, name FROM uses ORDER BY id";
	sqlite3_stmt *st;
	size_t cap = 0, nlen = 0, ncap = 0, i;
	char *names = NULL;
	size_t *offs = NULL;
	int rc;

	if (pdx_db_prepare(a->db, sql, &st) != 0)
		return -1;
	while (
	    (rc = sqlite3_step(st)) == SQLITE_ROW && a->nuses < AN_MAX_USES) {
		const char *name = (const char *)sqlite3_column_text(st, 6);
		const char *kind = (const char *)sqlite3_column_text(st, 3);
		const char *conf = (const char *)sqlite3_column_text(st, 4);
		struct an_use *u;
		size_t l;

		if (name == NULL || kind == NULL || conf == NULL)
			continue;
		l = strlen(name) + 1;
		if (a->nuses == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			struct an_use *nu = realloc(a->uses, nc * sizeof *nu);
			size_t *no = realloc(offs, nc * sizeof *no);

			if (nu != NULL)
				a->uses = nu;
			if (no != NULL)
				offs = no;
			if (nu == NULL || no == NULL)
				goto nomem;
			cap = nc;
		}
		while (nlen + l > ncap) {
			size_t nc = ncap ? ncap * 2 : 16384;
			char *nn = realloc(names, nc);

			if (nn == NULL)
				goto nomem;
			names = nn;
			ncap = nc;
		}
		memcpy(names + nlen, name, l);
		u = &a->uses[a->nuses];
		u->lo = sqlite3_column_int(st, 0);
		u->hi = sqlite3_column_int(st, 1);
		u->mask = sqlite3_column_int(st, 2);
		u->lead = sqlite3_column_int(st, 5) != 0;
		u->summary = summary_use(u->lo, u->hi, kind, conf);
		offs[a->nuses++] = nlen;
		nlen += l;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		pdx_set_error("%s: cannot read the curated uses", a->db->path);
		free(names);
		free(offs);
		return -1;
	}
	a->names = names;
	for (i = 0; i < a->nuses; i++)
		a->uses[i].name = names + offs[i];
	free(offs);
	/* the pages of the uses table (~1 MB) are not needed again */
	sqlite3_db_release_memory(a->db->db);
	return 0;
nomem:
	sqlite3_finalize(st);
	free(names);
	free(offs);
	pdx_set_error("out of memory");
	return -1;
}

static void
load_listeners(struct pdx_annotator *a)
{
	struct pdx_sock_filter f;
	struct pdx_socket *v = NULL;
	size_t n = 0, i;
	int backend, pi;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &a->loaded);
	memset(a->listen, 0, sizeof a->listen);
	pdx_sock_filter_init(&f);
	f.protos = PDX_TCP | PDX_UDP | PDX_SCTP;
	/* no listeners known is the answer when sockets cannot be read */
	if (pdx_sockets_list(&f, &v, &n, &backend) != 0)
		return;
	for (i = 0; i < n; i++)
		if ((pi = pdx_proto_index(v[i].proto)) >= 0 &&
		    v[i].lport <= 65535)
			a->listen[pi][v[i].lport / 64] |= (uint64_t)1
			    << (v[i].lport % 64);
	pdx_sockets_free(v, n);
}

struct pdx_annotator *
pdx_annotator_new(struct pdx_db *db, int listeners)
{
	struct pdx_annotator *a = calloc(1, sizeof *a);

	if (a == NULL) {
		pdx_set_error("out of memory");
		return NULL;
	}
	a->db = db;
	if (load_uses(a) != 0) {
		pdx_annotator_free(a);
		return NULL;
	}
	a->listeners = listeners;
	if (listeners)
		load_listeners(a);
	return a;
}

void
pdx_annotator_free(struct pdx_annotator *a)
{
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < PDX_NPROTO; i++)
		free(a->cache[i]);
	free(a->uses);
	free(a->names);
	free(a);
}

void
pdx_annotator_refresh(struct pdx_annotator *a, double seconds)
{
	struct timespec now;

	if (!a->listeners || seconds <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if ((double)(now.tv_sec - a->loaded.tv_sec) +
		(double)(now.tv_nsec - a->loaded.tv_nsec) / 1e9 >=
	    seconds)
		load_listeners(a);
}

/*
 * The word of port over transport index pi (see the struct).  The table
 * of a transport is filled on its first use, row by row in id order (the
 * card's order): the narrowest lead use, and the first use the card's
 * summary would name.  The rows cover some 230,000 ports in all.
 */
static int
use_word(struct pdx_annotator *a, int pi, unsigned port, uint32_t *w)
{
	uint32_t *t = a->cache[pi];
	size_t i;

	if (t == NULL) {
		if ((t = calloc(65536, sizeof(uint32_t))) == NULL) {
			pdx_set_error("out of memory");
			return -1;
		}
		for (i = 0; i < a->nuses; i++) {
			const struct an_use *u = &a->uses[i];

			if ((u->mask & (1 << pi)) == 0 || u->lo < 0 ||
			    u->hi > 65535)
				continue;
			for (int p = u->lo; p <= u->hi; p++) {
				uint32_t lead = t[p] & 0x7fff;
				uint32_t top = (t[p] >> 15) & 0x7fff;
				const struct an_use *l = lead != 0
				    ? &a->uses[lead - 1]
				    : NULL;

				if (u->lead &&
				    (l == NULL ||
					u->hi - u->lo < l->hi - l->lo))
					lead = (uint32_t)i + 1;
				else if (!u->lead && u->summary && top == 0)
					top = (uint32_t)i + 1;
				t[p] = lead | top << 15;
			}
		}
		a->cache[pi] = t;
	}
	*w = t[port];
	return 0;
}

static int
listening(struct pdx_annotator *a, int pi, unsigned port)
{
	return (a->listen[pi][port / 64] >> (port % 64)) & 1;
}

int
pdx_annotate_port(struct pdx_annotator *a, unsigned port, int proto,
    struct pdx_port_note *nt)
{
	struct pdx_brief b;
	uint32_t w, lead, top;
	int pi;

	if (port > 65535) {
		pdx_set_error("bad port %u", port);
		return -1;
	}
	if (proto == 0) {
		/* tcp, unless only udp has something to say */
		struct pdx_brief bt, bu;
		uint32_t wt, wu;

		if (pdx_brief(a->db, port, PDX_TCP, &bt) != 0 ||
		    pdx_brief(a->db, port, PDX_UDP, &bu) != 0 ||
		    use_word(a, 0, port, &wt) != 0 ||
		    use_word(a, 1, port, &wu) != 0)
			return -1;
		proto = (bt.status != PDX_ST_ASSIGNED &&
			    (wt & 0x3fffffff) == 0 &&
			    (bu.status == PDX_ST_ASSIGNED ||
				(wu & 0x3fffffff) != 0))
		    ? PDX_UDP
		    : PDX_TCP;
	}
	if ((pi = pdx_proto_index(proto)) < 0) {
		pdx_set_error("bad transport %d", proto);
		return -1;
	}
	if (pdx_brief(a->db, port, proto, &b) != 0 ||
	    use_word(a, pi, port, &w) != 0)
		return -1;
	lead = w & 0x7fff;
	top = (w >> 15) & 0x7fff;
	nt->proto = proto;
	nt->iana_name = b.name;
	nt->status = b.status;
	nt->risk = b.risk;
	if (lead != 0) {
		nt->service = a->uses[lead - 1].name;
		nt->from = "curated";
		nt->use = nt->service;
	} else {
		nt->service = b.name;
		nt->from = *b.name != '\0' ? "iana" : "none";
		nt->use = top != 0 ? a->uses[top - 1].name : NULL;
	}
	nt->listening = a->listeners ? listening(a, pi, port) : 0;
	return 0;
}

int
pdx_annotator_resolve(const char *name, int proto, void *arg)
{
	static const char sql[] =
	    "SELECT port_lo FROM iana WHERE name = ?1"
	    " COLLATE NOCASE AND port_lo = port_hi AND status = ?3 AND"
	    " (protomask & ?2) != 0 ORDER BY id LIMIT 1";
	struct pdx_annotator *a = arg;
	struct servent *se;
	sqlite3_stmt *st;
	int port = -1;

	/* lsof and netstat printed the name the system's services gave */
	se = getservbyname(name,
	    proto == PDX_UDP	   ? "udp"
		: proto == PDX_TCP ? "tcp"
				   : NULL);
	if (se != NULL)
		return ntohs((uint16_t)se->s_port);
	if (a == NULL || pdx_db_prepare(a->db, sql, &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, proto != 0 ? proto : PDX_TCP | PDX_UDP);
	sqlite3_bind_int(st, 3, PDX_ST_ASSIGNED);
	if (sqlite3_step(st) == SQLITE_ROW)
		port = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return port;
}
