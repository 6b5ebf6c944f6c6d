/*
 * serve-metrics.c - /metrics in the Prometheus text exposition format
 * (version 0.0.4): build information, the registry's age and size, the
 * HTTP answers given so far by status code, and, only with
 * --expose-local, the listening sockets of this machine by port,
 * transport, address scope and risk level, and the audit's findings by
 * rule.  Label values are escaped as
 * the format requires.  The HTTP side is serve.c's.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

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
family(struct hbuf *b, const char *name, const char *type,
    const char *help)
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

static void
listeners(struct hbuf *b, struct pdx_db *db)
{
	struct pdx_sock_filter f;
	struct pdx_socket *v = NULL;
	size_t n = 0, i;
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
	hb_puts(b, "portdex_local_up 1\n");
	/*
	 * Sockets of one port, transport, scope, risk and firewall verdict
	 * are counted once; a dual-stack "::" counts its more open half.
	 */
	counts = json_object();
	rs = pdx_ruleset_read(NULL);
	for (i = 0; i < n; i++) {
		struct pdx_brief br;
		struct pdx_verdict fv, fv4;
		char k[128];

		if (pdx_brief(db, v[i].lport, v[i].proto, &br) != 0)
			br.risk = PDX_LEVEL_NONE;
		pdx_firewall_judge(rs, v[i].family, v[i].proto, v[i].laddr,
		    v[i].lport, v[i].v6only, &fv, &fv4);
		if (fv4.reach == PDX_REACH_OPEN || (fv4.reach ==
		    PDX_REACH_RESTRICTED && fv.reach != PDX_REACH_OPEN))
			fv.reach = fv4.reach;
		snprintf(k, sizeof k, "%u\t%s\t%s\t%s\t%s", v[i].lport,
		    pdx_proto_name(v[i].proto), scope_of(&v[i]),
		    pdx_level_name(br.risk), pdx_reach_name(fv.reach));
		json_object_set_new(counts, k, json_integer(
		    json_integer_value(json_object_get(counts, k)) + 1));
	}
	pdx_sockets_free(v, n);
	pdx_ruleset_free(rs);
	family(b, "portdex_listeners", "gauge", "Listening TCP sockets and "
	    "bound UDP/SCTP sockets on this machine, by local port, transport,"
	    " address scope, the port's risk level and the firewall's verdict"
	    " (reach).");
	json_object_foreach(counts, key, val) {
		char port[8], proto[8], scope[16], risk[16], reach[16];

		if (sscanf(key, "%7[^\t]\t%7[^\t]\t%15[^\t]\t%15[^\t]\t%15s",
		    port, proto, scope, risk, reach) != 5)
			continue;
		hb_printf(b, "portdex_listeners{port=\"%s\",proto=\"%s\","
		    "scope=\"%s\",risk=\"%s\",reach=\"%s\"} %lld\n", port,
		    proto, scope, risk, reach,
		    (long long)json_integer_value(val));
	}
	json_decref(counts);
}

/* Findings not accepted, per rule of the table (0 when none). */
static void
audit_findings(struct hbuf *b, struct serve *s, struct pdx_db *db)
{
	struct pdx_audit_opts o;
	json_t *doc, *rules, *rule, *f;
	size_t i, k;

	memset(&o, 0, sizeof o);
	o.default_config = 1;
	pthread_mutex_lock(&s->state_mu);
	doc = pdx_audit_run(db, s->state, &o);
	pthread_mutex_unlock(&s->state_mu);
	if (doc == NULL || (rules = pdx_audit_rules()) == NULL) {
		json_decref(doc);
		return;
	}
	family(b, "portdex_audit_findings", "gauge", "Findings of the audit "
	    "of this machine's listeners that are not accepted, by rule and "
	    "level.");
	json_array_foreach(rules, i, rule) {
		const char *id = json_string_value(json_object_get(rule,
		    "rule"));
		long long n = 0;

		json_array_foreach(json_object_get(doc, "findings"), k, f)
			if (!json_is_true(json_object_get(f, "accepted")) &&
			    json_equal(json_object_get(f, "rule"),
			    json_object_get(rule, "rule")))
				n++;
		hb_puts(b, "portdex_audit_findings{rule=\"");
		label_value(b, id);
		hb_puts(b, "\",level=\"");
		label_value(b, json_string_value(json_object_get(rule,
		    "level")));
		hb_printf(b, "\"} %lld\n", n);
	}
	json_decref(rules);
	json_decref(doc);
}

void
metrics_page(struct req *r, struct pdx_db *db)
{
	struct serve *s = r->srv;
	struct hbuf *b = &r->out;
	const char *v;
	int code;

	r->type = "text/plain; version=0.0.4; charset=utf-8";
	family(b, "portdex_build_info", "gauge",
	    "Always 1; the labels say which portdex answers.");
	hb_puts(b, "portdex_build_info{version=\"");
	label_value(b, PDX_VERSION);
	hb_printf(b, "\",card_schema=\"%d\"} 1\n", PDX_CARD_SCHEMA);

	family(b, "portdex_start_time_seconds", "gauge",
	    "When this server started, in seconds since the Unix epoch.");
	hb_printf(b, "portdex_start_time_seconds %lld\n",
	    (long long)s->started);

	if (s->registry_built > 0) {
		family(b, "portdex_registry_age_seconds", "gauge",
		    "Seconds since the registry database was built.");
		hb_printf(b, "portdex_registry_age_seconds %lld\n",
		    (long long)(time(NULL) - s->registry_built));
	}
	family(b, "portdex_registry_rows", "gauge",
	    "Rows of the IANA registry in the registry database.");
	hb_printf(b, "portdex_registry_rows %lld\n", s->registry_rows);
	if ((v = pdx_db_meta(db, "primary")) != NULL) {
		family(b, "portdex_registry_info", "gauge",
		    "Always 1; the label names the registry's primary source.");
		hb_puts(b, "portdex_registry_info{primary=\"");
		label_value(b, v);
		hb_puts(b, "\"} 1\n");
	}

	family(b, "portdex_http_requests_total", "counter",
	    "HTTP requests answered, by status code.");
	for (code = 100; code < SERVE_NCODES; code++) {
		unsigned long long n = atomic_load(&s->requests[code]);

		if (n > 0 || code == 200)
			hb_printf(b, "portdex_http_requests_total{code=\"%d\"} "
			    "%llu\n", code, n);
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
		listeners(b, db);
		audit_findings(b, s, db);
	}
}
