/*
 * card.c - the card model: everything the registry knows about one port,
 * as a JSON tree that the text renderer, --json and the web pages share
 * (schema in docs/json.md).  It reads the registry only; the live "on this
 * machine" section, the user's notes and the headline are card-extra.c's,
 * the display view card-view.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "portdex.h"
#include "registry-int.h"

/*
 * The IANA rows covering a port, every transport at once (a card used to
 * ask once per transport, and compiling the statements was most of the
 * time of `portdex PORT`).
 */
/* Columns spelled out in both halves: expanding "*" costs a prepare more. */
#define ROW_COLS \
	"SELECT name, port, proto, description, assignee, contact, reg_date," \
	" mod_date, reference, service_code, unauth, notes, status, was," \
	" protomask, origin, id FROM iana"
/*
 * A range covering port starts at most the widest range's span below it
 * (meta span.iana, 828 in 2026): the range index is read over that window
 * only, not over every range below or above the port.  The spans come
 * from the card's one read of meta (struct card_meta) and are bound as
 * ?2: a subquery per statement cost a compile each run.
 */
static const char rows_sql[] = ROW_COLS
    " WHERE port_lo = ?1 AND port_hi = ?1"
    " UNION ALL " ROW_COLS " INDEXED BY iana_range"
    " WHERE port_hi > port_lo AND port_lo BETWEEN ?1 - ?2"
    " AND ?1 AND port_hi >= ?1"
    " ORDER BY 17";

/* What the card reads from meta, in one statement. */
struct card_meta {
	json_t *registry;	      /* primary, origin, date */
	int span_iana, span_services; /* 65535 when not known */
	int ranked[PDX_NPROTO];	      /* nmap.ranked.PROTO, 0 when not */
};

/* The rows of a port: their JSON objects with what the card picks by. */
struct port_rows {
	json_t *row; /* array of the rows' objects */
	int *protomask, *status;
	size_t n;
};

static void
port_rows_free(struct port_rows *r)
{
	json_decref(r->row);
	free(r->protomask);
	free(r->status);
}

static int
port_rows(struct pdx_db *d, const struct pdx_cport *cp, unsigned port, int span,
    struct port_rows *r)
{
	struct pdx_rows st;
	size_t cap = 0;
	int i, rc;

	memset(r, 0, sizeof *r);
	r->row = json_array();
	if (pdx_rows_open(d, cp, PDX_CT_IANA, rows_sql, (int)port, span, &st) !=
	    0)
		return -1;
	while ((rc = pdx_rows_step(&st)) == 1) {
		json_t *o = json_object();

		if (r->n == cap) {
			int *pm, *sm;

			cap = cap ? cap * 2 : 8;
			pm = realloc(r->protomask, cap * sizeof *pm);
			if (pm != NULL)
				r->protomask = pm;
			sm = realloc(r->status, cap * sizeof *sm);
			if (sm != NULL)
				r->status = sm;
			if (pm == NULL || sm == NULL) {
				json_decref(o);
				pdx_rows_end(&st);
				pdx_set_error("out of memory");
				return -1;
			}
		}
		for (i = 0; i < PDX_NCOLS; i++)
			json_object_set_new(o, pdx_iana_json_keys[i],
			    json_string(pdx_rows_text(&st, i)));
		r->status[r->n] = pdx_rows_int(&st, 12);
		r->protomask[r->n] = pdx_rows_int(&st, 14);
		json_object_set_new(o, "status",
		    json_string(pdx_status_name(r->status[r->n])));
		json_object_set_new(o, "was",
		    pdx_rows_null(&st, 13)
			? json_null()
			: json_string(pdx_rows_text(&st, 13)));
		json_object_set_new(o, "source",
		    json_string(pdx_rows_text(&st, 15)));
		json_array_append_new(r->row, o);
		r->n++;
	}
	pdx_rows_end(&st);
	if (rc != 0) {
		pdx_set_error("%s: %s", d->path, pdx_last_error());
		return -1;
	}
	return 0;
}

/*
 * The rows of one transport (protomask equal, or 0 for all), their best
 * status and its "was".  Each transport gets its own copy of a row.
 */
static json_t *
iana_entries(const struct port_rows *r, int proto, int *status, json_t **wasj)
{
	json_t *a = json_array();
	size_t k;
	int best = -1;

	*wasj = json_null();
	for (k = 0; k < r->n; k++) {
		json_t *o;

		if (r->protomask[k] != proto && r->protomask[k] != 0)
			continue;
		o = json_deep_copy(json_array_get(r->row, k));
		if (r->status[k] > best) {
			best = r->status[k];
			json_decref(*wasj);
			*wasj = json_incref(json_object_get(o, "was"));
		}
		json_array_append_new(a, o);
	}
	*status = best < 0 ? PDX_ST_UNASSIGNED : best;
	return a;
}

/* nmap's figures for every transport of port, by transport index. */
static void
nmap_info(struct pdx_db *d, const struct pdx_cport *cp, unsigned port,
    const struct card_meta *m, json_t *out[PDX_NPROTO])
{
	static const char sql[] =
	    "SELECT name, freq, rank, proto FROM nmap WHERE port = ?1";
	struct pdx_rows st;
	int i;

	for (i = 0; i < PDX_NPROTO; i++)
		out[i] = NULL;
	if (pdx_rows_open(d, cp, PDX_CT_NMAP, sql, (int)port, 0, &st) != 0)
		return;
	while (pdx_rows_step(&st) == 1) {
		i = pdx_proto_index(pdx_rows_int(&st, 3));
		if (i < 0 || out[i] != NULL)
			continue;
		out[i] = json_pack("{s:s, s:f, s:i, s:i}", "name",
		    pdx_rows_text(&st, 0), "frequency", pdx_rows_double(&st, 1),
		    "rank", pdx_rows_int(&st, 2), "ranked", m->ranked[i]);
	}
	pdx_rows_end(&st);
}

/* The services(5) entries of port, by transport index. */
static void
services_info(struct pdx_db *d, const struct pdx_cport *cp, unsigned port,
    int span, json_t *out[PDX_NPROTO])
{
	static const char sql[] =
	    "SELECT name, aliases, comment, source, protomask FROM services"
	    " INDEXED BY services_port"
	    " WHERE port_lo BETWEEN ?1 - ?2 AND ?1"
	    " AND port_hi >= ?1"
	    " AND source != 'services-primary' ORDER BY rowid";
	struct pdx_rows st;
	int i;

	for (i = 0; i < PDX_NPROTO; i++)
		out[i] = json_array();
	if (pdx_rows_open(d, cp, PDX_CT_SERVICES, sql, (int)port, span, &st) !=
	    0)
		return;
	while (pdx_rows_step(&st) == 1) {
		int mask = pdx_rows_int(&st, 4);

		for (i = 0; i < PDX_NPROTO; i++)
			if (mask & (1 << i))
				json_array_append_new(out[i],
				    json_pack("{s:s, s:s, s:s, s:s}", "name",
					pdx_rows_text(&st, 0), "aliases",
					pdx_rows_text(&st, 1), "comment",
					pdx_rows_text(&st, 2), "source",
					pdx_rows_text(&st, 3)));
	}
	pdx_rows_end(&st);
}

static json_t *
range_info(unsigned port)
{
	static const struct {
		int cls;
		unsigned lo, hi;
		const char *label;
		const char *meaning;
	} ranges[] = {
		{ PDX_RANGE_SYSTEM, 0, 1023, "system (well-known)",
		    "assigned by IANA through IETF review; binding needs root "
		    "or CAP_NET_BIND_SERVICE on Linux" },
		{ PDX_RANGE_USER, 1024, 49151, "user (registered)",
		    "registered with IANA on request; any user may bind it" },
		{ PDX_RANGE_DYNAMIC, 49152, 65535, "dynamic (private)",
		    "never assigned by IANA; used for ephemeral client ports "
		    "and private services" },
	};
	int c = pdx_range_class(port);
	json_t *o;
	unsigned elo, ehi;

	o = json_pack("{s:s, s:s, s:i, s:i, s:b, s:s}", "class",
	    pdx_range_class_name(c), "label", ranges[c].label, "lo",
	    ranges[c].lo, "hi", ranges[c].hi, "privileged",
	    c == PDX_RANGE_SYSTEM, "meaning", ranges[c].meaning);
	if (pdx_ephemeral_range(NULL, &elo, &ehi) == 0)
		json_object_set_new(o, "ephemeral",
		    json_pack("{s:i, s:i, s:b, s:s}", "lo", elo, "hi", ehi,
			"inside", port >= elo && port <= ehi, "source",
			"/proc/sys/net/ipv4/ip_local_port_range"));
	else
		json_object_set_new(o, "ephemeral", json_null());
	return o;
}

static json_t *
check_commands(unsigned port)
{
	char b[7][160];

	snprintf(b[0], sizeof b[0], "sudo ss -tulpn 'sport = :%u'", port);
	snprintf(b[1], sizeof b[1], "sudo lsof -nP -i :%u", port);
	snprintf(b[2], sizeof b[2], "sudo lsof -nP -i :%u", port);
	snprintf(b[3], sizeof b[3], "netstat -anv | grep '\\.%u '", port);
	snprintf(b[4], sizeof b[4], "netstat -ano | findstr :%u", port);
	snprintf(b[5], sizeof b[5], "Get-NetTCPConnection -LocalPort %u", port);
	snprintf(b[6], sizeof b[6], "Get-NetUDPEndpoint -LocalPort %u", port);
	return json_pack("{s:[s,s], s:[s,s], s:[s,s,s]}", "linux", b[0], b[1],
	    "macos", b[2], b[3], "windows", b[4], b[5], b[6]);
}

/*
 * The card's meta keys.  Where the official rows came from is said
 * plainly on every card: IANA's CSV (shipped, downloaded or named) with
 * its newest date, or a services file that is not IANA's.
 */
static void
card_meta_read(struct pdx_db *d, const struct pdx_cport *cp,
    struct card_meta *m)
{
	struct pdx_rows st;
	int i;

	m->registry = json_pack("{s:s, s:s, s:s}", "primary", "", "origin", "",
	    "date", "");
	m->span_iana = m->span_services = 65535;
	for (i = 0; i < PDX_NPROTO; i++)
		m->ranked[i] = 0;
	/* the card file's meta rows: this query's, see cardfile.c */
	if (pdx_rows_open(d, cp, PDX_CT_META,
		"SELECT key, value FROM meta"
		" WHERE key IN ('primary', 'iana_origin', 'iana_date', 'span.iana',"
		" 'span.services') OR key GLOB 'nmap.ranked.*'",
		0, 0, &st) != 0)
		return;
	while (pdx_rows_step(&st) == 1) {
		const char *k = pdx_rows_text(&st, 0);
		const char *v = pdx_rows_text(&st, 1);

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "span.iana") == 0)
			m->span_iana = pdx_rows_int(&st, 1);
		else if (strcmp(k, "span.services") == 0)
			m->span_services = pdx_rows_int(&st, 1);
		else if (strncmp(k, "nmap.ranked.", 12) == 0) {
			i = pdx_proto_index(atoi(k + 12));
			if (i >= 0)
				m->ranked[i] = pdx_rows_int(&st, 1);
		} else
			json_object_set_new(m->registry,
			    strcmp(k, "primary") == 0		? "primary"
				: strcmp(k, "iana_origin") == 0 ? "origin"
								: "date",
			    json_string(v));
	}
	pdx_rows_end(&st);
}

json_t *
pdx_card(struct pdx_db *d, unsigned port, int protomask)
{
	struct port_rows rows;
	struct card_meta meta;
	struct pdx_cport cpbuf;
	const struct pdx_cport *cp;
	json_t *card, *transports, *nmap[PDX_NPROTO], *svcs[PDX_NPROTO];
	size_t k;
	int i;

	if (port > 65535) {
		pdx_set_error("port %u is out of range 0-65535", port);
		return NULL;
	}
	/* the port's rows from the card file; NULL: ask the registry */
	cp = pdx_db_card_rows(d, port, &cpbuf);
	card_meta_read(d, cp, &meta);
	if (port_rows(d, cp, port, meta.span_iana, &rows) != 0) {
		port_rows_free(&rows);
		json_decref(meta.registry);
		if (cp != NULL)
			pdx_cport_free(&cpbuf);
		return NULL;
	}
	if (protomask == 0) {
		/* tcp and udp, and any other transport IANA lists */
		protomask = PDX_TCP | PDX_UDP;
		for (k = 0; k < rows.n; k++)
			protomask |= rows.protomask[k];
	}
	nmap_info(d, cp, port, &meta, nmap);
	services_info(d, cp, port, meta.span_services, svcs);
	transports = json_array();
	for (i = 0; i < PDX_NPROTO; i++) {
		int p = 1 << i, status;
		json_t *iana, *was, *t;
		const char *svc = "";

		if ((protomask & p) == 0) {
			json_decref(nmap[i]);
			json_decref(svcs[i]);
			continue;
		}
		iana = iana_entries(&rows, p, &status, &was);
		for (k = 0; k < json_array_size(iana); k++) {
			const char *n = json_string_value(
			    json_object_get(json_array_get(iana, k),
				"service_name"));

			if (n != NULL && *n != '\0') {
				svc = n;
				break;
			}
		}
		t = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
		    "transport", pdx_proto_name(p), "status",
		    pdx_status_name(status), "service", svc, "was", was, "iana",
		    iana, "nmap", nmap[i] != NULL ? nmap[i] : json_null(),
		    "services", svcs[i]);
		json_array_append_new(transports, t);
	}
	port_rows_free(&rows);
	card = json_pack("{s:i, s:i, s:o, s:o}", "schema_version",
	    PDX_CARD_SCHEMA, "port", port, "transports", transports, "range",
	    range_info(port));
	json_object_set_new(card, "registry", meta.registry);
	pdx_card_knowledge(d, cp, card, port, protomask);
	if (cp != NULL)
		pdx_cport_free(&cpbuf);
	json_object_set_new(card, "check", check_commands(port));
	return card;
}

json_t *
pdx_card_brief(struct pdx_db *d, unsigned port, int protomask)
{
	json_t *o, *t;
	int i;

	int all = protomask == 0;

	if (all) /* tcp and udp, and any other transport IANA lists */
		protomask = PDX_PROTO_ALL;
	t = json_array();
	for (i = 0; i < PDX_NPROTO; i++) {
		struct pdx_brief b;
		int p = 1 << i;

		if ((protomask & p) == 0)
			continue;
		if (pdx_brief(d, port, p, &b) != 0) {
			json_decref(t);
			return NULL;
		}
		if (all && p != PDX_TCP && p != PDX_UDP &&
		    b.status == PDX_ST_UNASSIGNED)
			continue;
		json_array_append_new(t,
		    json_pack("{s:s, s:s, s:s, s:s}", "transport",
			pdx_proto_name(p), "service", b.name, "status",
			pdx_status_name(b.status), "risk",
			pdx_level_name(b.risk)));
	}
	o = json_pack("{s:i, s:i, s:o}", "schema_version", PDX_CARD_SCHEMA,
	    "port", port, "transports", t);
	return o;
}
