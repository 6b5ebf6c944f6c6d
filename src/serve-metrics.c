/*
 * serve-metrics.c - /metrics in the Prometheus text exposition format
 * (version 0.0.4): build information, the registry's age and size, the
 * HTTP answers given so far by status code, and, only with
 * --expose-local, the listening sockets of this machine by port,
 * transport, address scope, risk level and firewall verdict (ports that
 * do not matter folded into port="other", at most --metrics-max-ports
 * ports of their own), and the audit's findings by rule.  The host's
 * families are shared with `ls/audit --format prometheus`
 * (metrics-file.c).  Label values are escaped as
 * the format requires.  The HTTP side is serve.c's.
 */
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "portdex/audit.h"
#include "portdex/firewall.h"
#include "serve.h"

/* A label value: backslash, double quote and newline are escaped. */
static void
label_value(struct hbuf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\')
			hb_puts(b, "\\\\");
		else if (*s == '"')
			hb_puts(b, "\\\"");
		else if (*s == '\n')
			hb_puts(b, "\\n");
		else
			hb_add(b, s, 1);
	}
}

static void
family(struct hbuf *b, const char *name, const char *type, const char *help)
{
	hb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Where a listener can be reached from: "loopback", "all" (a wildcard
 * address), "link-local", or "address" (one specific address).
 */
static const char *
scope_of(const struct pdx_socket *s)
{
	static const uint8_t v6any[16], v6lo[16] = { [15] = 1 };
	const uint8_t *a = s->laddr;

	if (s->family == AF_INET) {
		if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0)
			return "all";
		if (a[0] == 127)
			return "loopback";
		if (a[0] == 169 && a[1] == 254)
			return "link-local";
		return "address";
	}
	if (memcmp(a, v6any, 16) == 0)
		return "all";
	if (memcmp(a, v6lo, 16) == 0)
		return "loopback";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local";
	if (memcmp(a, v6any, 10) == 0 && a[10] == 0xff && a[11] == 0xff)
		return a[12] == 127 ? "loopback" : "address";
	return "address";
}

/*
 * A use of the knowledge data names the port itself or a range of at most
 * METRICS_CURATED_SPAN ports: wide ranges (dynamic ports, RTP media) would
 * make every ephemeral port "curated".  One bit per transport index.
 */
#define METRICS_CURATED_SPAN 64

/* One socket's labels, found once in the first pass. */
struct lrow {
	uint16_t port;
	uint8_t risk;
	const char *proto, *scope, *reach;
};

/*
 * How much a port matters for a series of its own: 0 not at all, else
 * higher wins when there are more than max ports (a note, then the risk
 * level, then an IANA assignment, then a curated use).
 */
static unsigned
port_weight(int noted, int risk, int assigned, int curated)
{
	if (!noted && risk <= PDX_LEVEL_NONE && !assigned && !curated)
		return 0;
	return 1 + (noted ? 64 : 0) + (risk > PDX_LEVEL_NONE ? risk * 4 : 0) +
	    (assigned ? 2 : 0) + (curated ? 1 : 0);
}

static void
listeners(struct hbuf *b, const struct metrics_src *m)
{
	struct pdx_sock_filter f;
	struct pdx_socket *v = NULL;
	struct lrow *rows;
	size_t n = 0, i, nweight[128], kept = 0;
	uint8_t *weight, *cur;
	unsigned cut = 0, w;
	json_t *counts;
	const char *key;
	json_t *val;
	struct pdx_ruleset *rs;

	pdx_sock_filter_init(&f);
	f.protos = PDX_TCP | PDX_UDP | PDX_SCTP;
	family(b, "portdex_local_up", "gauge",
	    "Whether this machine's sockets could be listed (1) or not (0).");
	if (pdx_sockets_list(&f, &v, &n, NULL) != 0) {
		hb_puts(b, "portdex_local_up 0\n");
		return;
	}
	rows = calloc(n + 1, sizeof *rows);
	weight = calloc(65536, 1);
	cur = malloc(65536);
	counts = json_object();
	if (rows == NULL || weight == NULL || cur == NULL || counts == NULL) {
		hb_puts(b, "portdex_local_up 0\n");
		goto out;
	}
	hb_puts(b, "portdex_local_up 1\n");
	(void)pdx_curated_ports(m->db, METRICS_CURATED_SPAN, cur);
	if (m->state != NULL && m->state_mu != NULL)
		pthread_mutex_lock(m->state_mu);
	/* Notes once per scrape, again only when another process wrote. */
	if (m->state != NULL)
		(void)pdx_notes_load(m->state);
	/*
	 * Pass one: each socket's labels and how much its port matters.
	 * A dual-stack "::" counts its more open half.
	 */
	rs = pdx_ruleset_read(NULL);
	memset(nweight, 0, sizeof nweight);
	for (i = 0; i < n; i++) {
		struct pdx_brief br;
		struct pdx_verdict fv, fv4;
		int noted, pi = pdx_proto_index(v[i].proto);

		if (pdx_brief(m->db, v[i].lport, v[i].proto, &br) != 0) {
			br.risk = PDX_LEVEL_NONE;
			br.status = PDX_ST_UNASSIGNED;
		}
		pdx_firewall_judge(rs, v[i].family, v[i].proto, v[i].laddr,
		    v[i].lport, v[i].v6only, &fv, &fv4);
		if (fv4.reach == PDX_REACH_OPEN ||
		    (fv4.reach == PDX_REACH_RESTRICTED &&
			fv.reach != PDX_REACH_OPEN))
			fv.reach = fv4.reach;
		rows[i].port = (uint16_t)v[i].lport;
		rows[i].risk = br.risk;
		rows[i].proto = pdx_proto_name(v[i].proto);
		rows[i].scope = scope_of(&v[i]);
		rows[i].reach = pdx_reach_name(fv.reach);
		noted = m->state != NULL &&
		    pdx_note_text(m->state, v[i].lport, v[i].proto) != NULL;
		w = port_weight(noted, br.risk, br.status == PDX_ST_ASSIGNED,
		    pi >= 0 && (cur[v[i].lport] & (1u << pi)) != 0);
		if (w > weight[v[i].lport]) {
			if (weight[v[i].lport] != 0)
				nweight[weight[v[i].lport]]--;
			weight[v[i].lport] = (uint8_t)w;
			nweight[w]++;
		}
	}
	if (m->state != NULL && m->state_mu != NULL)
		pthread_mutex_unlock(m->state_mu);
	pdx_ruleset_free(rs);
	/*
	 * The ports kept: every weight class from the highest down while
	 * they fit in max_ports; the class that does not fit whole keeps its
	 * lowest port numbers.
	 */
	for (w = 127; w > 0; w--) {
		if (kept + nweight[w] > m->max_ports) {
			cut = w;
			break;
		}
		kept += nweight[w];
	}
	if (cut > 0) {
		size_t room = m->max_ports - kept;
		unsigned p;

		for (p = 0; p < 65536; p++) {
			if (weight[p] < cut)
				weight[p] = 0;
			else if (weight[p] == cut) {
				if (room > 0)
					room--;
				else
					weight[p] = 0;
			}
		}
	}
	/* Pass two: one count per series, the rest folded into "other". */
	for (i = 0; i < n; i++) {
		char k[128], port[8];

		if (weight[rows[i].port] != 0)
			snprintf(port, sizeof port, "%u", rows[i].port);
		else
			snprintf(port, sizeof port, "other");
		snprintf(k, sizeof k, "%s\t%s\t%s\t%s\t%s", port, rows[i].proto,
		    rows[i].scope, pdx_level_name(rows[i].risk), rows[i].reach);
		json_object_set_new(counts, k,
		    json_integer(
			json_integer_value(json_object_get(counts, k)) + 1));
	}
	family(b, "portdex_listeners", "gauge",
	    "Listening TCP sockets and "
	    "bound UDP/SCTP sockets on this machine, by local port, transport,"
	    " address scope, the port's risk level and the firewall's verdict"
	    " (reach); ports that are not assigned, curated, risky or noted,"
	    " and any beyond --metrics-max-ports, are counted as port "
	    "\"other\".");
	json_object_foreach(counts, key, val)
	{
		char port[8], proto[8], scope[16], risk[16], reach[16];

		if (sscanf(key, "%7[^\t]\t%7[^\t]\t%15[^\t]\t%15[^\t]\t%15s",
			port, proto, scope, risk, reach) != 5)
			continue;
		hb_printf(b,
		    "portdex_listeners{port=\"%s\",proto=\"%s\","
		    "scope=\"%s\",risk=\"%s\",reach=\"%s\"} %lld\n",
		    port, proto, scope, risk, reach,
		    (long long)json_integer_value(val));
	}
out:
	json_decref(counts);
	free(cur);
	free(weight);
	free(rows);
	pdx_sockets_free(v, n);
}

/*
 * Findings not accepted, per rule of the table (0 when none): counted by
 * the library, no audit document built (its JSON was most of a scrape at
 * 10,000 listeners).
 */
static void
audit_findings(struct hbuf *b, const struct metrics_src *m)
{
	struct pdx_audit_opts o;
	json_t *rules, *rule;
	size_t i, nr;
	size_t *count;
	int complete = 0, rc;

	if ((rules = pdx_audit_rules()) == NULL)
		return;
	nr = json_array_size(rules);
	if ((count = calloc(nr + 1, sizeof *count)) == NULL) {
		json_decref(rules);
		return;
	}
	memset(&o, 0, sizeof o);
	o.default_config = 1;
	if (m->state_mu != NULL)
		pthread_mutex_lock(m->state_mu);
	rc = pdx_audit_count(m->db, m->state, &o, count, nr, &complete);
	if (m->state_mu != NULL)
		pthread_mutex_unlock(m->state_mu);
	if (rc != 0) {
		free(count);
		json_decref(rules);
		return;
	}
	family(b, "portdex_audit_complete", "gauge",
	    "Whether the audit saw "
	    "everything it needs (1) or not (0: a process, the registry or "
	    "the state database could not be read).");
	hb_printf(b, "portdex_audit_complete %d\n", complete ? 1 : 0);
	family(b, "portdex_audit_findings", "gauge",
	    "Findings of the audit "
	    "of this machine's listeners that are not accepted, by rule and "
	    "level.");
	json_array_foreach(rules, i, rule)
	{
		const char *id = json_string_value(
		    json_object_get(rule, "rule"));

		hb_puts(b, "portdex_audit_findings{rule=\"");
		label_value(b, id);
		hb_puts(b, "\",level=\"");
		label_value(b,
		    json_string_value(json_object_get(rule, "level")));
		hb_printf(b, "\"} %zu\n", count[i]);
	}
	free(count);
	json_decref(rules);
}

void
metrics_host(struct hbuf *b, const struct metrics_src *m)
{
	const char *v;

	family(b, "portdex_build_info", "gauge",
	    "Always 1; the labels say which portdex answers.");
	hb_puts(b, "portdex_build_info{version=\"");
	label_value(b, PDX_VERSION);
	hb_printf(b, "\",card_schema=\"%d\"} 1\n", PDX_CARD_SCHEMA);
	if (m->registry_built > 0) {
		family(b, "portdex_registry_age_seconds", "gauge",
		    "Seconds since the registry database was built.");
		hb_printf(b, "portdex_registry_age_seconds %lld\n",
		    (long long)(time(NULL) - m->registry_built));
	}
	family(b, "portdex_registry_rows", "gauge",
	    "Rows of the IANA registry in the registry database.");
	hb_printf(b, "portdex_registry_rows %lld\n", m->registry_rows);
	if ((v = pdx_db_meta(m->db, "primary")) != NULL) {
		family(b, "portdex_registry_info", "gauge",
		    "Always 1; the label names the registry's primary source.");
		hb_puts(b, "portdex_registry_info{primary=\"");
		label_value(b, v);
		hb_puts(b, "\"} 1\n");
	}
}

void
metrics_local(struct hbuf *b, const struct metrics_src *m)
{
	listeners(b, m);
	audit_findings(b, m);
}

/*
 * The audit's document (tens of MB at 10,000 listeners) is freed into the
 * malloc arena of the thread that answered, and glibc keeps it: an idle
 * serve stayed at 130-200 MB after such scrapes, and each worker thread
 * can keep one.  When this process holds more than METRICS_TRIM_RSS, the
 * free pages go back to the system.  Below that nothing is done: giving
 * pages back costs the next scrape a page fault for each (more than
 * doubled the CPU of a scrape at 100 listeners).
 */
#define METRICS_TRIM_RSS (32L << 20)
static void
trim_if_big(void)
{
	long pages, size;
	FILE *f;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return;
	if (fscanf(f, "%ld %ld", &size, &pages) == 2 &&
	    pages > METRICS_TRIM_RSS / sysconf(_SC_PAGESIZE))
		malloc_trim(0);
	fclose(f);
}

void
metrics_page(struct req *r, struct pdx_db *db)
{
	struct serve *s = r->srv;
	struct hbuf *b = &r->out;
	struct metrics_src m;
	int code;

	memset(&m, 0, sizeof m);
	m.db = db;
	m.state = s->state;
	m.state_mu = &s->state_mu;
	m.max_ports = s->metrics_max_ports;
	m.registry_rows = s->registry_rows;
	m.registry_built = s->registry_built;
	r->type = "text/plain; version=0.0.4; charset=utf-8";
	metrics_host(b, &m);
	family(b, "portdex_start_time_seconds", "gauge",
	    "When this server started, in seconds since the Unix epoch.");
	hb_printf(b, "portdex_start_time_seconds %lld\n",
	    (long long)s->started);

	family(b, "portdex_http_requests_total", "counter",
	    "HTTP requests answered, by status code.");
	for (code = 100; code < SERVE_NCODES; code++) {
		unsigned long long n = atomic_load(&s->requests[code]);

		if (n > 0 || code == 200)
			hb_printf(b,
			    "portdex_http_requests_total{code=\"%d\"} "
			    "%llu\n",
			    code, n);
	}
	if (s->cache.max_bytes > 0) {
		family(b, "portdex_page_cache_hits_total", "counter",
		    "Pages answered from the rendered-page cache.");
		hb_printf(b, "portdex_page_cache_hits_total %llu\n",
		    (unsigned long long)atomic_load(&s->cache.hits));
		family(b, "portdex_page_cache_misses_total", "counter",
		    "Cacheable pages that had to be rendered.");
		hb_printf(b, "portdex_page_cache_misses_total %llu\n",
		    (unsigned long long)atomic_load(&s->cache.misses));
		family(b, "portdex_page_cache_bytes", "gauge",
		    "Bytes of pages held in the cache.");
		hb_printf(b, "portdex_page_cache_bytes %zu\n",
		    (size_t)atomic_load(&s->cache.bytes));
	}
	if (s->expose_local) {
		metrics_local(b, &m);
		trim_if_big();
	}
}
