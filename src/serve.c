/*
 * serve.c - the web service's engine: the libmicrohttpd daemon on a
 * socket cmd-serve.c has already bound, the route table, request limits
 * (URL, query and body sizes; connection memory and counts), the JSON
 * API, the vote form's POST, security headers on every answer, the
 * access log (Common Log Format, on stderr), a graceful stop on SIGTERM
 * or SIGINT, and --web-config's TLS daemon, client-certificate and
 * basic-auth checks and reload on SIGHUP (the file's format is
 * serve-webcfg.c's).  What pages look like is serve-html.c's, what
 * /metrics says is serve-metrics.c's; options and privileges are
 * cmd-serve.c's.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "portdex/audit.h"
#include "portdex/firewall.h"
#include "serve.h"

#define CSP \
	"default-src 'none'; style-src 'self'; img-src 'self'; " \
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/* What MHD keeps for us between the calls of one request. */
struct rctx {
	char uri[SERVE_MAX_URL + 32]; /* for the log */
	int long_uri;
	int started;
	char method[16];
	char version[16];
	char body[SERVE_MAX_BODY + 1];
	size_t body_len;
	int body_too_big;
	int status;
	size_t bytes;
};

/* ---- the registry pool ---------------------------------------------- */

struct pdx_db *
pool_get(struct db_pool *p)
{
	struct pdx_db *d = NULL;
	int i;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (i = 0; i < p->n; i++)
			if (!p->busy[i]) {
				p->busy[i] = 1;
				d = p->db[i];
				break;
			}
		if (d != NULL)
			break;
		pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return d;
}

void
pool_put(struct db_pool *p, struct pdx_db *d)
{
	int i;

	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->n; i++)
		if (p->db[i] == d)
			p->busy[i] = 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* ---- the page cache ------------------------------------------------------ */

int
cache_init(struct serve *s, size_t max_bytes)
{
	struct page_cache *c = &s->cache;
	int i;

	c->max_bytes = max_bytes;
	for (i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	pthread_mutex_init(&c->flush_mu, NULL);
	if (max_bytes > 0 && s->state != NULL &&
	    pdx_state_data_version(s->state) < 0)
		return -1;
	/* the file's counter from now on: its first read opens the file */
	if (max_bytes > 0 && s->state != NULL)
		(void)pdx_state_file_counter(s->state);
	return 0;
}

/* Frees every entry; the caller holds every stripe lock (or is alone). */
static void
cache_empty(struct page_cache *c)
{
	struct cache_entry *e, *next;
	size_t i;

	for (i = 0; i < CACHE_BUCKETS; i++) {
		for (e = c->bucket[i]; e != NULL; e = next) {
			next = e->next;
			free(e->body);
			free(e);
		}
		c->bucket[i] = NULL;
	}
	atomic_store(&c->bytes, 0);
}

void
cache_free(struct serve *s)
{
	cache_empty(&s->cache);
}

/*
 * The generation of the pages: the state database's data version (bumped
 * by other processes' commits: `portdex note`) and our own vote count
 * (our commits do not bump it for our connection).  When it moves, the
 * old pages are dropped.
 */
static unsigned long long
cache_gen(struct serve *s)
{
	struct page_cache *c = &s->cache;
	unsigned long long v = 0;
	long long dv;
	int i;

	/*
	 * The file's change counter: one pread, no lock (asking SQLite took
	 * the state mutex, a shared lock and a hot-journal check on every
	 * cached page: a quarter of the CPU of a cached page over TLS).
	 */
	if (s->state != NULL && c->max_bytes > 0 &&
	    (dv = pdx_state_file_counter(s->state)) >= 0)
		v = (unsigned long long)dv;
	else if (s->state != NULL && c->max_bytes > 0) {
		pthread_mutex_lock(&s->state_mu);
		dv = pdx_state_data_version(s->state);
		pthread_mutex_unlock(&s->state_mu);
		if (dv > 0)
			v = (unsigned long long)dv;
	}
	v = (v << 32) + atomic_load(&c->local_gen);
	pthread_mutex_lock(&c->flush_mu);
	if (v != c->gen) {
		for (i = 0; i < CACHE_STRIPES; i++)
			pthread_mutex_lock(&c->mu[i]);
		cache_empty(c);
		c->gen = v;
		for (i = CACHE_STRIPES - 1; i >= 0; i--)
			pthread_mutex_unlock(&c->mu[i]);
	}
	pthread_mutex_unlock(&c->flush_mu);
	return v;
}

static size_t
cache_bucket(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % CACHE_BUCKETS;
}

/* Copies a cached page of generation gen into r; returns 1 on a hit. */
static int
cache_get(struct serve *s, struct req *r, unsigned long long gen)
{
	struct page_cache *c = &s->cache;
	size_t i = cache_bucket(r->path);
	struct cache_entry *e;
	int hit = 0;

	pthread_mutex_lock(&c->mu[i % CACHE_STRIPES]);
	for (e = c->bucket[i]; e != NULL && c->gen == gen; e = e->next) {
		if (strcmp(e->key, r->path) != 0)
			continue;
		hb_init(&r->out, e->len + 1);
		hb_add(&r->out, e->body, e->len);
		r->type = e->type;
		r->status = 200;
		hit = !r->out.oom;
		break;
	}
	pthread_mutex_unlock(&c->mu[i % CACHE_STRIPES]);
	atomic_fetch_add(hit ? &c->hits : &c->misses, 1);
	return hit;
}

static void
cache_put(struct serve *s, struct req *r, unsigned long long gen)
{
	struct page_cache *c = &s->cache;
	size_t i = cache_bucket(r->path), klen = strlen(r->path);
	struct cache_entry *e, *n;

	if (r->status != 200 || r->live || r->out.oom || r->out.len == 0)
		return;
	if (atomic_load(&c->bytes) + r->out.len > c->max_bytes)
		return; /* full: serve uncached rather than evict */
	if ((n = malloc(sizeof *n + klen + 1)) == NULL)
		return;
	if ((n->body = malloc(r->out.len)) == NULL) {
		free(n);
		return;
	}
	memcpy(n->key, r->path, klen + 1);
	memcpy(n->body, r->out.p, r->out.len);
	n->len = r->out.len;
	n->type = r->type;
	pthread_mutex_lock(&c->mu[i % CACHE_STRIPES]);
	for (e = c->bucket[i]; e != NULL; e = e->next)
		if (strcmp(e->key, n->key) == 0)
			break;
	if (e == NULL && c->gen == gen) { /* else another thread won */
		n->next = c->bucket[i];
		c->bucket[i] = n;
		atomic_fetch_add(&c->bytes, n->len);
		n = NULL;
	}
	pthread_mutex_unlock(&c->mu[i % CACHE_STRIPES]);
	if (n != NULL) {
		free(n->body);
		free(n);
	}
}

/* ---- helpers for handlers --------------------------------------------- */

const char *
req_arg(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

static void
json_answer(struct req *r, int status, json_t *j)
{
	char *s;

	r->status = status;
	r->type = "application/json";
	if (j == NULL ||
	    (s = json_dumps(j,
		 JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)) ==
		NULL) {
		r->status = 500;
		hb_puts(&r->out, "{\"error\": \"out of memory\"}\n");
		return;
	}
	hb_puts(&r->out, s);
	hb_puts(&r->out, "\n");
	free(s);
}

/*
 * The message may quote the request, which can hold any bytes (a path
 * such as /api/v1/ports/%ff), and jansson refuses invalid UTF-8: bytes
 * outside printable ASCII become '?', so the answer stays a 4xx.
 */
static void
json_error(struct req *r, int status, const char *msg)
{
	char safe[512];
	size_t i;
	json_t *j;

	for (i = 0; msg[i] != '\0' && i < sizeof safe - 1; i++)
		safe[i] = (unsigned char)msg[i] >= 0x20 &&
			(unsigned char)msg[i] < 0x7f
		    ? msg[i]
		    : '?';
	safe[i] = '\0';
	j = json_pack("{s:s, s:i}", "error", safe, "status", status);
	json_answer(r, status, j);
	json_decref(j);
}

/* Errors speak the route's language: JSON under /api/, else HTML. */
static void
answer_error(struct req *r, int api, int status, const char *title,
    const char *text)
{
	if (api)
		json_error(r, status, text);
	else
		html_error(r, status, title, text);
}

/*
 * The API's documents as CSV (?format=csv, or Accept: text/csv): the rows
 * and columns of `portdex CMD --format csv` for the same document, by the
 * CLI's own writer (output.c's out_csv, which takes CMD's rows).
 */
static void
csv_answer(struct req *r, int status, json_t *j, const char *cmd)
{
	struct cmd_ctx ctx;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (j == NULL || (f = open_memstream(&buf, &len)) == NULL) {
		r->status = 500;
		r->type = "text/plain; charset=utf-8";
		hb_puts(&r->out, "out of memory\n");
		return;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.cmd = cmd;
	ctx.format = OUT_CSV;
	ctx.json = 1;
	ctx.out = f;
	out_csv(&ctx, j);
	if (fclose(f) != 0 || buf == NULL) {
		free(buf);
		r->status = 500;
		r->type = "text/plain; charset=utf-8";
		hb_puts(&r->out, "out of memory\n");
		return;
	}
	r->status = status;
	r->type = "text/csv; charset=utf-8";
	hb_add(&r->out, buf, len);
	free(buf);
}

/* An API document, as JSON or, when the request asked, CSV (see above). */
static void
api_answer(struct req *r, json_t *j, const char *cmd)
{
	if (r->csv)
		csv_answer(r, 200, j, cmd);
	else
		json_answer(r, 200, j);
}

/*
 * The q= weight of a media range's parameters ("; q=0.5"): 1000 for 1,
 * 0 for 0; a malformed weight counts as 1 (as if none were given).
 */
static int
media_weight(const char *p, const char *end)
{
	int w = 1000, scale = 100;

	while ((p = memchr(p, ';', (size_t)(end - p))) != NULL) {
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
			continue;
		p += 2;
		if (p < end && *p == '0') {
			w = 0;
			if (++p < end && *p == '.')
				for (p++; p < end &&
				     isdigit((unsigned char)*p) && scale > 0;
				     p++, scale /= 10)
					w += (*p - '0') * scale;
		}
		return w;
	}
	return w;
}

/*
 * Whether an API request asks for CSV: format=csv (format=json: JSON; any
 * other value is a 400, answered here, -1), else an Accept header that
 * weighs text/csv above application/json (equal weights: the first
 * named).  0 for JSON, 1 for CSV.
 */
static int
wants_csv(struct req *r)
{
	const char *v, *p, *end;
	int wcsv = -1, wjson = -1, pcsv = 0, pjson = 0, w, i;
	size_t n;

	if ((v = req_arg(r, "format")) != NULL) {
		if (strcmp(v, "csv") == 0)
			return 1;
		if (strcmp(v, "json") == 0)
			return 0;
		json_error(r, 400, "format takes json or csv");
		return -1;
	}
	r->vary = 1; /* the answer follows Accept */
	v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept");
	for (p = v, i = 0; p != NULL && *p != '\0'; i++) {
		end = p + strcspn(p, ",");
		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ";, \t");
		w = media_weight(p, end);
		if (n == 8 && strncasecmp(p, "text/csv", 8) == 0 && wcsv < 0) {
			wcsv = w;
			pcsv = i;
		} else if (n == 16 &&
		    strncasecmp(p, "application/json", 16) == 0 && wjson < 0) {
			wjson = w;
			pjson = i;
		}
		p = *end != '\0' ? end + 1 : end;
	}
	return wcsv > 0 && (wcsv > wjson || (wcsv == wjson && pcsv < pjson));
}

/*
 * Parses "N" or "N/WORD" (the rest of /port/ or /api/v1/ports/).  Returns
 * 0 with *port and the suffix (borrowed, "" when none), or -1 with the
 * message in pdx_last_error().
 */
static int
parse_port_path(const char *rest, unsigned *port, char *suffix,
    size_t suffix_size)
{
	char num[16];
	const char *slash = strchr(rest, '/');
	size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	long long v;

	if (n == 0 || n >= sizeof num) {
		pdx_set_error("'%.20s' is not a port number (0-65535)", rest);
		return -1;
	}
	memcpy(num, rest, n);
	num[n] = '\0';
	if (pdx_parse_number(num, 0, 65535, "port", &v) != 0)
		return -1;
	*port = (unsigned)v;
	snprintf(suffix, suffix_size, "%s", slash != NULL ? slash + 1 : "");
	if (slash != NULL && strlen(slash + 1) >= suffix_size) {
		pdx_set_error("unknown page under port %u", *port);
		return -1;
	}
	return 0;
}

/* ---- the card and search models, as the API and pages use them ------- */

json_t *
serve_card(struct req *r, struct pdx_db *db, unsigned port, int protomask)
{
	struct serve *s = r->srv;
	json_t *card, *votes = NULL;

	/* the state database only under its lock: notes, then votes */
	card = pdx_card_full(db, NULL, port, protomask,
	    PDX_CARD_NOTES | (s->expose_local ? PDX_CARD_LOCAL : 0));
	if (card == NULL)
		return NULL;
	pthread_mutex_lock(&s->state_mu);
	if (s->state != NULL) {
		/* Notes are this machine's data: --expose-local/-notes. */
		if (s->expose_notes)
			pdx_card_add_notes(s->state, card);
		votes = pdx_votes_json(s->state, port);
	}
	pthread_mutex_unlock(&s->state_mu);
	json_object_set_new(card, "votes", votes != NULL ? votes : json_null());
	return card;
}

json_t *
serve_find(struct req *r, struct pdx_db *db, const char *q)
{
	struct serve *s = r->srv;
	json_t *res, *seen;
	char words[SERVE_MAX_QUERY + 1], *w, *save = NULL;
	size_t i;

	if ((res = pdx_find(db, q, 25)) == NULL)
		return NULL;
	if (s->state == NULL || !s->expose_notes)
		return res;
	/* Notes that contain a word come first, each once (as find does). */
	snprintf(words, sizeof words, "%s", q);
	seen = json_object();
	pthread_mutex_lock(&s->state_mu);
	for (w = strtok_r(words, " \t", &save); w != NULL;
	     w = strtok_r(NULL, " \t", &save)) {
		json_t *n = pdx_notes(s->state, -1, w);

		for (i = 0; n != NULL && i < json_array_size(n); i++) {
			json_t *o = json_array_get(n, i);
			char key[32];

			snprintf(key, sizeof key, "%lld",
			    (long long)json_integer_value(
				json_object_get(o, "id")));
			if (json_object_get(seen, key) != NULL)
				continue;
			json_object_set_new(seen, key, json_true());
			json_array_insert_new(res, 0,
			    json_pack("{s:s, s:O, s:s, s:[O], s:O, s:O, s:f}",
				"name", "note", "text",
				json_object_get(o, "text"), "kind", "note",
				"transports", json_object_get(o, "transport"),
				"port", json_object_get(o, "port"), "port_hi",
				json_object_get(o, "port"), "score", 100.0));
		}
		json_decref(n);
	}
	pthread_mutex_unlock(&s->state_mu);
	json_decref(seen);
	return res;
}

/* ---- handlers ---------------------------------------------------------- */

static void
h_home(struct req *r, const char *rest)
{
	html_home(r);
}

static void
h_style(struct req *r, const char *rest)
{
	html_style(r);
}

static void
h_favicon(struct req *r, const char *rest)
{
	html_favicon(r);
}

/* The q argument, bounded; NULL (and the answer given) when too long. */
static const char *
query_arg(struct req *r, int api)
{
	const char *q = req_arg(r, "q");

	if (q == NULL)
		return "";
	if (strlen(q) > SERVE_MAX_QUERY) {
		answer_error(r, api, 400, "Query too long",
		    "A search query is at most 256 bytes.");
		return NULL;
	}
	return q;
}

static void
search(struct req *r, int api)
{
	const char *q;
	struct pdx_db *db;
	json_t *res = NULL;

	if ((q = query_arg(r, api)) == NULL)
		return;
	if (*q == '\0' && api) {
		json_error(r, 400, "missing query: /api/v1/search?q=WORDS");
		return;
	}
	if (*q != '\0') {
		db = pool_get(&r->srv->pool);
		res = serve_find(r, db, q);
		pool_put(&r->srv->pool, db);
		if (res == NULL) {
			answer_error(r, api, 400, "Bad query",
			    pdx_last_error());
			return;
		}
	}
	if (api)
		api_answer(r, res, "find");
	else
		html_search(r, q, res);
	json_decref(res);
}

static void
h_search(struct req *r, const char *rest)
{
	search(r, 0);
}

static void
h_api_search(struct req *r, const char *rest)
{
	search(r, 1);
}

static void
vote(struct req *r, unsigned port)
{
	struct serve *s = r->srv;
	char key[64], choice[16] = "", loc[48];
	const char *p, *origin, *host;
	long retry = 0;
	int c, rc;

	/* A form posted from another site is not a vote on this one. */
	origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "Origin");
	host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	if (origin != NULL && strcmp(origin, "null") != 0) {
		const char *o = strstr(origin, "://");

		if (o == NULL || host == NULL || strcmp(o + 3, host) != 0) {
			html_error(r, 403, "Forbidden",
			    "Votes are accepted only from this site's pages.");
			return;
		}
	}
	/* The body is "choice=WORD", possibly among other fields. */
	for (p = r->body; p != NULL && *p != '\0';
	     p = strchr(p, '&'), p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, "choice=", 7) == 0) {
			size_t n = strcspn(p + 7, "&");

			if (n < sizeof choice) {
				memcpy(choice, p + 7, n);
				choice[n] = '\0';
			}
			break;
		}
	}
	if ((c = pdx_vote_choice_parse(choice)) < 0) {
		html_error(r, 400, "Bad vote",
		    "A vote is choice=sad, choice=meh or choice=happy.");
		return;
	}
	if (s->state == NULL) {
		html_error(r, 503, "Votes unavailable",
		    "This server runs without a state database.");
		return;
	}
	if (r->client == NULL ||
	    pdx_vote_client_key(r->client, key, sizeof key) != 0) {
		html_error(r, 400, "Bad client", "Votes need an IP client.");
		return;
	}
	pthread_mutex_lock(&s->state_mu);
	rc = pdx_vote_cast(s->state, port, c, key, &s->limits, time(NULL),
	    &retry);
	pthread_mutex_unlock(&s->state_mu);
	if (rc < 0) {
		html_error(r, 500, "Vote not stored", pdx_last_error());
		return;
	}
	if (rc > 0) {
		r->retry_after = retry > 0 ? retry : 1;
		html_error(r, 429, "Too many votes",
		    "Thank you, but this address has voted recently. "
		    "Please try again later.");
		return;
	}
	atomic_fetch_add(&s->cache.local_gen, 1);
	snprintf(loc, sizeof loc, "/port/%u#vote", port);
	r->location = strdup(loc);
	r->status = 303;
	r->type = "text/html; charset=utf-8";
	hb_puts(&r->out,
	    "<!doctype html><title>Thank you</title>"
	    "<p>Vote recorded.</p>\n");
}

/*
 * /port/LO-HI and /port/NAME: a range lists its ports; a service name is
 * its port's card, or the list of its ports when it has several.
 * Returns 1 when it answered, 0 when rest is a plain port.
 */
#define SERVE_MAX_RANGE 1024
static int
port_list_page(struct req *r, const char *rest)
{
	char word[64];
	size_t n = strcspn(rest, "/");
	struct pdx_db *db;
	json_t *ports = NULL, *list;
	unsigned lo, hi, p;
	long long a, b;
	size_t k, total = 0;
	int proto = 0;

	if (n == 0 || n >= sizeof word ||
	    (rest[0] >= '0' && rest[0] <= '9' && memchr(rest, '-', n) == NULL))
		return 0; /* a plain port: its card */
	memcpy(word, rest, n);
	word[n] = '\0';
	/* a name starts with a letter and holds what service names hold */
	if (!(word[0] >= '0' && word[0] <= '9') &&
	    (!isalpha((unsigned char)word[0]) ||
		word[strspn(word,
		    "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")] != '\0'))
		return 0; /* parse_port_path says what is wrong */
	if (rest[n] == '/' && (proto = pdx_proto_parse(rest + n + 1)) == 0) {
		html_error(r, 404, "Not found",
		    "A port page is /port/N, "
		    "/port/LO-HI, /port/NAME, each optionally /tcp (udp, sctp, "
		    "dccp).");
		return 1;
	}
	db = pool_get(&r->srv->pool);
	list = json_array();
	if (word[0] >= '0' && word[0] <= '9') {
		char *dash = strchr(word, '-');

		*dash = '\0';
		if (pdx_parse_number(word, 0, 65535, "port", &a) != 0 ||
		    pdx_parse_number(dash + 1, 0, 65535, "port", &b) != 0 ||
		    b < a || b - a >= SERVE_MAX_RANGE) {
			pool_put(&r->srv->pool, db);
			json_decref(list);
			html_error(r, 400, "Bad range",
			    "A range is LO-HI with "
			    "LO <= HI, both 0-65535, at most 1024 ports.");
			return 1;
		}
		for (p = (unsigned)a; p <= (unsigned)b; p++) {
			json_t *c = pdx_card_brief(db, p, proto);

			if (c != NULL)
				json_array_append_new(list, c);
		}
		snprintf(word, sizeof word, "%lld-%lld", a, b);
	} else {
		ports = pdx_ports_by_name(db, word);
		for (k = 0; k < json_array_size(ports); k++) {
			json_t *pr = json_array_get(ports, k);

			lo = (unsigned)json_integer_value(
			    json_object_get(pr, "lo"));
			hi = (unsigned)json_integer_value(
			    json_object_get(pr, "hi"));
			total += hi - lo + 1;
			for (p = lo;
			     p <= hi && json_array_size(list) < SERVE_MAX_RANGE;
			     p++) {
				json_t *c = pdx_card_brief(db, p, proto);

				if (c != NULL)
					json_array_append_new(list, c);
			}
		}
		json_decref(ports);
		if (total == 1) {
			/* one port: its card */
			json_t *card;

			p = (unsigned)json_integer_value(
			    json_object_get(json_array_get(list, 0), "port"));
			card = serve_card(r, db, p, proto);
			pool_put(&r->srv->pool, db);
			json_decref(list);
			if (card == NULL) {
				html_error(r, 500, "Internal error",
				    pdx_last_error());
				return 1;
			}
			html_card(r, card, proto);
			json_decref(card);
			return 1;
		}
	}
	pool_put(&r->srv->pool, db);
	if (json_array_size(list) == 0) {
		json_decref(list);
		html_error(r, 404, "Not found",
		    "No port carries that service "
		    "name; try the search.");
		return 1;
	}
	html_port_list(r, word, list);
	json_decref(list);
	return 1;
}

static void
h_port(struct req *r, const char *rest)
{
	char suffix[16];
	unsigned port;
	int proto = 0;
	struct pdx_db *db;
	json_t *card;

	if (strcmp(r->method, "GET") == 0 && port_list_page(r, rest))
		return;
	if (parse_port_path(rest, &port, suffix, sizeof suffix) != 0) {
		html_error(r, 400, "Bad port", pdx_last_error());
		return;
	}
	if (strcmp(suffix, "vote") == 0) {
		if (strcmp(r->method, "POST") != 0) {
			r->allow = "POST";
			html_error(r, 405, "Method not allowed",
			    "Votes are sent with POST from the port's page.");
			return;
		}
		vote(r, port);
		return;
	}
	if (strcmp(r->method, "POST") == 0) {
		r->allow = "GET, HEAD";
		html_error(r, 405, "Method not allowed",
		    "This page is read with GET.");
		return;
	}
	if (*suffix != '\0' && (proto = pdx_proto_parse(suffix)) == 0) {
		html_error(r, 404, "Not found",
		    "A port page is /port/N or "
		    "/port/N/tcp (udp, sctp, dccp).");
		return;
	}
	db = pool_get(&r->srv->pool);
	card = serve_card(r, db, port, proto);
	pool_put(&r->srv->pool, db);
	if (card == NULL) {
		html_error(r, 500, "Internal error", pdx_last_error());
		return;
	}
	html_card(r, card, proto);
	json_decref(card);
}

static void
h_api_port(struct req *r, const char *rest)
{
	char suffix[16];
	unsigned port;
	int proto = 0;
	struct pdx_db *db;
	json_t *card;

	if (parse_port_path(rest, &port, suffix, sizeof suffix) != 0) {
		json_error(r, 400, pdx_last_error());
		return;
	}
	if (*suffix != '\0' && (proto = pdx_proto_parse(suffix)) == 0) {
		json_error(r, 404,
		    "unknown transport: /api/v1/ports/N or "
		    "/api/v1/ports/N/tcp (udp, sctp, dccp)");
		return;
	}
	db = pool_get(&r->srv->pool);
	card = serve_card(r, db, port, proto);
	pool_put(&r->srv->pool, db);
	if (card == NULL) {
		json_error(r, 500, pdx_last_error());
		return;
	}
	api_answer(r, card, "show");
	json_decref(card);
}

/*
 * The parameters of the local lists: level (info, low, medium, high: that
 * risk or finding level and above), port (one port) and limit (items per
 * list, SERVE_LIST_LIMIT by default).  A bad value is a 400; -1 then.
 */
struct list_args {
	int level;	/* PDX_LEVEL_NONE: any */
	long long port; /* -1: any */
	long long limit;
};
static int
list_args(struct req *r, struct list_args *a)
{
	const char *v;
	char msg[400];

	a->level = PDX_LEVEL_NONE;
	a->port = -1;
	a->limit = SERVE_LIST_LIMIT;
	if ((v = req_arg(r, "level")) != NULL &&
	    (a->level = pdx_level_parse(v)) < PDX_LEVEL_INFO) {
		snprintf(msg, sizeof msg,
		    "bad level '%.64s': info, low, "
		    "medium or high",
		    v);
		json_error(r, 400, msg);
		return -1;
	}
	if ((v = req_arg(r, "port")) != NULL &&
	    pdx_parse_number(v, 0, 65535, "port", &a->port) != 0) {
		json_error(r, 400, pdx_last_error());
		return -1;
	}
	if ((v = req_arg(r, "limit")) != NULL &&
	    pdx_parse_number(v, 1, SERVE_LIST_LIMIT_MAX, "limit", &a->limit) !=
		0) {
		json_error(r, 400, pdx_last_error());
		return -1;
	}
	return 0;
}

/* Cuts array to limit items; its size before goes into page as name. */
static void
list_cut(json_t *page, const char *name, json_t *array, long long limit)
{
	size_t n = json_array_size(array);

	json_object_set_new(page, name, json_integer((json_int_t)n));
	while (json_array_size(array) > (size_t)limit)
		json_array_remove(array, json_array_size(array) - 1);
	if (n > (size_t)limit)
		json_object_set_new(page, "truncated", json_true());
}

/* A socket's note, as `ls --json` has it (null without --expose-notes). */
static json_t *
listening_note(struct serve *s, const struct pdx_socket *v)
{
	const char *t;
	json_t *j = NULL;

	if (s->state == NULL || !s->expose_notes)
		return json_null();
	pthread_mutex_lock(&s->state_mu);
	if ((t = pdx_note_text(s->state, v->lport, v->proto)) != NULL)
		j = json_string(t);
	pthread_mutex_unlock(&s->state_mu);
	return j != NULL ? j : json_null();
}

static void
h_api_listening(struct req *r, const char *rest)
{
	struct pdx_sock_filter f;
	struct pdx_attr_stats st;
	struct pdx_portset ps;
	struct pdx_socket *v = NULL;
	struct list_args la;
	size_t n = 0, i, total = 0;
	int backend = 0;
	struct pdx_db *db;
	struct pdx_ruleset *rs;
	json_t *root, *arr;

	if (list_args(r, &la) != 0)
		return;
	pdx_sock_filter_init(&f);
	if (la.port >= 0) {
		pdx_portset_clear(&ps);
		pdx_portset_add(&ps, (unsigned)la.port, (unsigned)la.port);
		f.ports = &ps;
	}
	if (pdx_sockets_list(&f, &v, &n, &backend) != 0) {
		json_error(r, 500, pdx_last_error());
		return;
	}
	memset(&st, 0, sizeof st);
	(void)pdx_sockets_attribute(v, n, &st);
	arr = json_array();
	db = pool_get(&r->srv->pool);
	rs = pdx_ruleset_read(NULL); /* the firewall's verdicts */
	if (r->srv->state != NULL && r->srv->expose_notes) {
		pthread_mutex_lock(&r->srv->state_mu);
		(void)pdx_notes_load(r->srv->state);
		pthread_mutex_unlock(&r->srv->state_mu);
	}
	for (i = 0; i < n; i++) {
		json_t *o, *j;
		struct pdx_verdict fv, fv4;
		struct pdx_brief br;

		if (la.level > PDX_LEVEL_NONE &&
		    (pdx_brief(db, v[i].lport, v[i].proto, &br) != 0 ||
			br.risk < la.level))
			continue;
		if (total++ >= (size_t)la.limit)
			continue; /* counted, not shown */
		o = pdx_socket_json(&v[i], db);
		if (o != NULL)
			json_object_set_new(o, "note",
			    listening_note(r->srv, &v[i]));
		if (o != NULL &&
		    (v[i].state == PDX_SS_LISTEN ||
			v[i].state == PDX_SS_CLOSE)) {
			pdx_firewall_judge(rs, v[i].family, v[i].proto,
			    v[i].laddr, v[i].lport, v[i].v6only, &fv, &fv4);
			if ((j = pdx_verdict_json(&fv)) != NULL &&
			    fv4.reach != PDX_REACH_NONE)
				json_object_set_new(j, "ipv4",
				    pdx_verdict_json(&fv4));
			json_object_set_new(o, "reach", j);
		}
		json_array_append_new(arr, o);
	}
	pdx_ruleset_free(rs);
	pool_put(&r->srv->pool, db);
	root = json_pack("{s:s, s:o, s:o, s:{s:I, s:I, s:b}}", "backend",
	    pdx_backend_name(backend), "sockets", arr, "attribution",
	    pdx_attr_stats_json(&st, n), "page", "limit", (json_int_t)la.limit,
	    "sockets", (json_int_t)total, "truncated",
	    total > (size_t)la.limit);
	pdx_sockets_free(v, n);
	api_answer(r, root, "ls");
	json_decref(root);
}

/*
 * The document of `portdex audit --json`, as the server sees it, with
 * the findings at level and above, and each list cut to limit items (the
 * "page" object says how many there were).
 */
static void
h_api_audit(struct req *r, const char *rest)
{
	struct pdx_audit_opts o;
	struct list_args la;
	struct pdx_db *db;
	json_t *doc, *fs, *page;
	const char *lv;
	char ports[16];
	size_t i;

	if (list_args(r, &la) != 0)
		return;
	memset(&o, 0, sizeof o);
	o.default_config = 1;
	if (la.port >= 0) {
		snprintf(ports, sizeof ports, "%u", (unsigned)la.port);
		o.ports = ports;
	}
	db = pool_get(&r->srv->pool);
	pthread_mutex_lock(&r->srv->state_mu);
	doc = pdx_audit_run(db, r->srv->state, &o);
	pthread_mutex_unlock(&r->srv->state_mu);
	pool_put(&r->srv->pool, db);
	if (doc == NULL) {
		json_error(r, 500, pdx_last_error());
		return;
	}
	fs = json_object_get(doc, "findings");
	for (i = json_array_size(fs); la.level > PDX_LEVEL_NONE && i-- > 0;)
		if ((lv = json_string_value(
			 json_object_get(json_array_get(fs, i), "level"))) ==
			NULL ||
		    pdx_level_parse(lv) < la.level)
			json_array_remove(fs, i);
	page = json_pack("{s:I, s:b}", "limit", (json_int_t)la.limit,
	    "truncated", 0);
	list_cut(page, "findings", fs, la.limit);
	list_cut(page, "listeners", json_object_get(doc, "listeners"),
	    la.limit);
	json_object_set_new(doc, "page", page);
	api_answer(r, doc, "audit");
	json_decref(doc);
}

static void
h_metrics(struct req *r, const char *rest)
{
	struct pdx_db *db = pool_get(&r->srv->pool);

	metrics_page(r, db);
	pool_put(&r->srv->pool, db);
}

#define M_GET 0x1 /* GET and HEAD */
#define M_POST 0x2

/* The routes; a prefix route gets the rest of the path. */
static const struct route {
	const char *path;
	int prefix;
	int methods;
	int api;   /* errors as JSON */
	int local; /* only with --expose-local */
	int cache; /* GET answers may be cached */
	void (*fn)(struct req *, const char *rest);
} routes[] = {
	{ "/", 0, M_GET, 0, 0, 0, h_home },
	{ "/style.css", 0, M_GET, 0, 0, 0, h_style },
	{ "/favicon.svg", 0, M_GET, 0, 0, 0, h_favicon },
	{ "/favicon.ico", 0, M_GET, 0, 0, 0, h_favicon },
	{ "/search", 0, M_GET, 0, 0, 0, h_search },
	{ "/port/", 1, M_GET | M_POST, 0, 0, 1, h_port },
	{ "/api/v1/ports/", 1, M_GET, 1, 0, 1, h_api_port },
	{ "/api/v1/search", 0, M_GET, 1, 0, 0, h_api_search },
	{ "/api/v1/listening", 0, M_GET, 1, 1, 0, h_api_listening },
	{ "/api/v1/audit", 0, M_GET, 1, 1, 0, h_api_audit },
	{ "/metrics", 0, M_GET, 0, 0, 0, h_metrics },
};

static void
dispatch(struct req *r)
{
	const struct route *rt;
	size_t i, n;
	int m = strcmp(r->method, "POST") == 0 ? M_POST
	    : (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
	    ? M_GET
	    : 0;

	for (i = 0; i < sizeof routes / sizeof *routes; i++) {
		rt = &routes[i];
		n = strlen(rt->path);
		if (rt->prefix ? strncmp(r->path, rt->path, n) != 0
			       : strcmp(r->path, rt->path) != 0)
			continue;
		if (rt->local && !r->srv->expose_local) {
			answer_error(r, rt->api, 404, "Not found",
			    "local data is served only with --expose-local");
			return;
		}
		if ((rt->methods & m) == 0) {
			r->allow = (rt->methods & M_POST) ? "GET, HEAD, POST"
							  : "GET, HEAD";
			answer_error(r, rt->api, 405, "Method not allowed",
			    "This method is not allowed here.");
			return;
		}
		/* the API answers JSON, or CSV when asked (not cached) */
		if (rt->api && (r->csv = wants_csv(r)) < 0)
			return;
		if (rt->cache && m == M_GET && r->srv->cache.max_bytes > 0 &&
		    !r->srv->expose_local && !r->csv) {
			unsigned long long gen = cache_gen(r->srv);

			if (cache_get(r->srv, r, gen))
				return;
			rt->fn(r, r->path + (rt->prefix ? n : 0));
			cache_put(r->srv, r, gen);
			return;
		}
		rt->fn(r, r->path + (rt->prefix ? n : 0));
		return;
	}
	answer_error(r, strncmp(r->path, "/api/", 5) == 0, 404, "Not found",
	    "There is no page at this address.");
}

/* ---- libmicrohttpd glue ------------------------------------------------ */

static void
count_status(struct serve *s, int status)
{
	if (status >= 0 && status < SERVE_NCODES)
		atomic_fetch_add(&s->requests[status], 1);
}

static enum MHD_Result
queue(struct MHD_Connection *c, struct req *r, struct rctx *x)
{
	static const char *const defaults[][2] = {
		{ "Content-Security-Policy", CSP },
		{ "X-Content-Type-Options", "nosniff" },
		{ "Referrer-Policy", "no-referrer" },
		{ "X-Frame-Options", "DENY" },
	};
	struct MHD_Response *resp;
	const struct webcfg *web;
	enum MHD_Result ret;
	char *body;
	size_t len, i, j;
	char retry[32];

	if (r->out.oom) {
		hb_free(&r->out);
		r->status = 500;
		r->type = "text/plain; charset=utf-8";
		hb_init(&r->out, 256);
		hb_puts(&r->out, "response too large\n");
	}
	body = hb_take(&r->out, &len);
	resp = MHD_create_response_from_buffer(len, body != NULL ? body : "",
	    body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
	    r->type != NULL ? r->type : "text/plain; charset=utf-8");
	/* --web-config's headers take the place of ours, or add to them. */
	pthread_rwlock_rdlock(&r->srv->web_mu);
	web = r->srv->web;
	for (i = 0; i < sizeof defaults / sizeof *defaults; i++) {
		const char *v = webcfg_header(web, defaults[i][0]);

		MHD_add_response_header(resp, defaults[i][0],
		    v != NULL ? v : defaults[i][1]);
	}
	for (i = 0; web != NULL && i < web->nheaders; i++) {
		for (j = 0; j < sizeof defaults / sizeof *defaults; j++)
			if (strcasecmp(web->headers[i].name, defaults[j][0]) ==
			    0)
				break;
		if (j == sizeof defaults / sizeof *defaults)
			MHD_add_response_header(resp, web->headers[i].name,
			    web->headers[i].value);
	}
	pthread_rwlock_unlock(&r->srv->web_mu);
	if (r->status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    "Basic realm=\"portdex\", charset=\"UTF-8\"");
	MHD_add_response_header(resp, "Cache-Control",
	    r->cacheable ? "public, max-age=86400" : "no-cache");
	if (r->vary)
		MHD_add_response_header(resp, "Vary", "Accept");
	if (r->location != NULL)
		MHD_add_response_header(resp, "Location", r->location);
	if (r->allow != NULL)
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->retry_after > 0) {
		snprintf(retry, sizeof retry, "%ld", r->retry_after);
		MHD_add_response_header(resp, "Retry-After", retry);
	}
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	x->status = r->status;
	x->bytes = strcmp(r->method, "HEAD") == 0 ? 0 : len;
	count_status(r->srv, r->status);
	free((char *)r->location);
	return ret;
}

/*
 * The checks of --web-config on a request: -1 to close the connection
 * (its client certificate is refused), 0 for a 401 (no or a wrong
 * password), 1 to answer.
 */
static int
web_check(struct serve *s, struct MHD_Connection *c)
{
	struct webcfg *w;
	const char *why = NULL;
	char *user, *pass = NULL;
	int rc = 1;

	pthread_rwlock_rdlock(&s->web_mu);
	if ((w = s->web) == NULL)
		goto out;
	if (!webcfg_check_client(w, c, &why)) {
		fprintf(s->log != NULL ? s->log : stderr,
		    "portdex: serve: "
		    "connection refused: %s\n",
		    why != NULL ? why : "client certificate refused");
		rc = -1;
		goto out;
	}
	if (w->nusers == 0)
		goto out;
	user = MHD_basic_auth_get_username_password(c, &pass);
	rc = user != NULL && pass != NULL &&
	    webcfg_check_password(w, user, pass);
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user != NULL)
		MHD_free(user);
out:
	pthread_rwlock_unlock(&s->web_mu);
	return rc;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct serve *s = cls;
	struct rctx *x = *con_cls;
	const union MHD_ConnectionInfo *ci;
	struct req r;

	if (x == NULL) /* no URI callback ran: should not happen */
		return MHD_NO;
	memset(&r, 0, sizeof r);
	r.srv = s;
	r.conn = c;
	r.method = method;
	r.path = url;
	r.status = 200;
	if (!x->started) {
		int auth;

		x->started = 1;
		snprintf(x->method, sizeof x->method, "%s", method);
		snprintf(x->version, sizeof x->version, "%s", version);
		/* --web-config: the client's certificate, then its password */
		if ((auth = web_check(s, c)) < 0)
			return MHD_NO; /* the connection is closed */
		if (auth == 0) {
			hb_init(&r.out, SERVE_MAX_PAGE);
			html_error(&r, 401, "Unauthorized",
			    "This server asks "
			    "for a user name and password.");
			return queue(c, &r, x);
		}
		if (strcmp(method, "POST") == 0) {
			const char *cl = MHD_lookup_connection_value(c,
			    MHD_HEADER_KIND, "Content-Length");

			if (cl != NULL &&
			    strtoull(cl, NULL, 10) > SERVE_MAX_BODY)
				x->body_too_big = 1;
		}
		/*
		 * Answer on the next call, once MHD has the whole request:
		 * an answer queued earlier makes it close the connection.
		 */
		if (!x->body_too_big)
			return MHD_YES;
	}
	if (*upload_size > 0) {
		if (x->body_len + *upload_size > SERVE_MAX_BODY)
			x->body_too_big = 1;
		else {
			memcpy(x->body + x->body_len, upload, *upload_size);
			x->body_len += *upload_size;
			x->body[x->body_len] = '\0';
		}
		*upload_size = 0;
		if (!x->body_too_big)
			return MHD_YES;
	}
	hb_init(&r.out, SERVE_MAX_PAGE);
	r.body = x->body;
	r.body_len = x->body_len;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	r.client = ci != NULL ? ci->client_addr : NULL;
	if (x->long_uri)
		html_error(&r, 414, "Address too long",
		    "A request address is at most 1024 bytes.");
	else if (x->body_too_big)
		html_error(&r, 413, "Request too large",
		    "A form is at most 64 bytes.");
	else
		dispatch(&r);
	return queue(c, &r, x);
}

/*
 * One struct rctx per connection, made when MHD accepts it and freed
 * when MHD closes it, reused by each request on it.  Not per request:
 * MHD 0.9.75 never calls NOTIFY_COMPLETED for a request it gives up on
 * after the URI callback (a query of a few hundred arguments fills the
 * connection's memory pool), which leaked the context every time.
 */
/*
 * libmicrohttpd asks for a client certificate when it has a trust list
 * but lets the handshake go on without one; where client_auth_type
 * requires one, the handshake itself fails without it (web_check() also
 * refuses such a connection, should the session not be ready here).
 */
static void
require_client_cert(struct serve *s, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	int require;

	pthread_rwlock_rdlock(&s->web_mu);
	require = s->web != NULL && s->web->tls &&
	    (s->web->client_auth == WEBCFG_REQUIRE_ANY_CLIENT_CERT ||
		s->web->client_auth == WEBCFG_REQUIRE_AND_VERIFY);
	pthread_rwlock_unlock(&s->web_mu);
	if (!require)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci != NULL && ci->tls_session != NULL)
		gnutls_certificate_server_set_request((gnutls_session_t)
							  ci->tls_session,
		    GNUTLS_CERT_REQUIRE);
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct serve *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct rctx));
		require_client_cert(s, c);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		free(*socket_context);
		*socket_context = NULL;
	}
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;
	struct rctx *x;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (x = ci->socket_context) == NULL)
		return NULL;
	memset(x, 0, sizeof *x);
	if (strlen(uri) > SERVE_MAX_URL) {
		x->long_uri = 1;
		snprintf(x->uri, sizeof x->uri, "%.*s...", SERVE_MAX_URL, uri);
	} else
		snprintf(x->uri, sizeof x->uri, "%s", uri);
	return x;
}

/* Copies s into the log line with quotes and control bytes escaped. */
static void
log_escaped(struct hbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			hb_printf(b, "\\x%02x", ch);
		else
			hb_add(b, s, 1);
	}
}

static void
on_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct serve *s = cls;
	struct rctx *x = *con_cls;
	const union MHD_ConnectionInfo *ci;
	char addr[INET6_ADDRSTRLEN] = "-", when[64];
	struct hbuf b;
	struct tm tm;
	time_t now;

	if (x == NULL)
		return;
	*con_cls = NULL;
	if (s->access_log && x->started) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci != NULL && ci->client_addr != NULL) {
			const struct sockaddr *sa = ci->client_addr;

			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET,
				    &((const struct sockaddr_in *)(const void *)
					    sa)
					 ->sin_addr,
				    addr, sizeof addr);
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6,
				    &((const struct sockaddr_in6 *)(const void
					      *)sa)
					 ->sin6_addr,
				    addr, sizeof addr);
		}
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
		hb_init(&b, 4 * SERVE_MAX_URL + 256);
		hb_printf(&b, "%s - - [%s] \"", addr, when);
		log_escaped(&b, x->method);
		hb_puts(&b, " ");
		log_escaped(&b, x->uri);
		hb_puts(&b, " ");
		log_escaped(&b, x->version);
		if (x->status > 0)
			hb_printf(&b, "\" %d %zu\n", x->status, x->bytes);
		else
			hb_puts(&b, "\" - -\n");
		if (!b.oom)
			fwrite(b.p, 1, b.len, s->log != NULL ? s->log : stderr);
		hb_free(&b);
	}
	/* x belongs to the connection: on_connection() frees it. */
}

/* libmicrohttpd's own format strings: not ours to make literal. */
static void
mhd_log(void *, const char *, va_list) __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct serve *s = cls;
	char buf[512];

	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	fprintf(s->log != NULL ? s->log : stderr,
	    "portdex: serve: libmicrohttpd: %s\n", buf);
}

/*
 * libmicrohttpd's options for the TLS of w (into o, of at least 5), and
 * MHD_USE_TLS into *flags; none without TLS.
 */
static void
tls_options(const struct webcfg *w, struct MHD_OptionItem *o, unsigned *flags)
{
	size_t k = 0;

	if (w != NULL && w->tls) {
		*flags |= MHD_USE_TLS;
		o[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
			w->key_pem };
		o[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
			w->cert_pem };
		o[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES,
			0, w->priorities };
		/* With a trust list, MHD asks clients for a certificate. */
		if (w->ca_pem != NULL &&
		    w->client_auth != WEBCFG_NO_CLIENT_CERT)
			o[k++] = (struct MHD_OptionItem){
				MHD_OPTION_HTTPS_MEM_TRUST, 0, w->ca_pem
			};
	}
	o[k] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

struct MHD_Daemon *
serve_start(struct serve *s, unsigned flags)
{
	struct MHD_OptionItem tls[5];

	tls_options(s->web, tls, &flags);
	/*
	 * The listening socket is the last option: without one, END takes
	 * its place and MHD reads no further.
	 */
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)(s->threads > 1 ? s->threads : 0),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_CONN_MEMORY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_MAX_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)SERVE_MAX_CONNS_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)SERVE_TIMEOUT_S, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
	    s->listen_fd != -1 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END,
	    (MHD_socket)s->listen_fd, MHD_OPTION_END);
}

/*
 * SIGHUP: --web-config is read again.  A file that does not load leaves
 * the old settings in place.  TLS settings live in the daemon: a new one
 * is started on the same listening socket before the old one stops
 * accepting, so no connection attempt finds the port closed.  Returns the
 * daemon now serving.
 */
static struct MHD_Daemon *
reload(struct serve *s, struct MHD_Daemon *d, unsigned flags)
{
	struct webcfg *w, *old;
	struct MHD_Daemon *nd;
	struct MHD_OptionItem tls[5];
	FILE *log = s->log != NULL ? s->log : stderr;

	if (s->web_config == NULL) {
		fprintf(log,
		    "portdex: serve: SIGHUP: no --web-config to "
		    "read again\n");
		return d;
	}
	/* Passwords are verified anew after every SIGHUP, kept or not. */
	pthread_rwlock_rdlock(&s->web_mu);
	webcfg_forget(s->web);
	pthread_rwlock_unlock(&s->web_mu);
	if ((w = webcfg_load(s->web_config)) == NULL) {
		fprintf(log,
		    "portdex: serve: SIGHUP: keeping the previous "
		    "settings: %s\n",
		    pdx_last_error());
		return d;
	}
	if (!w->tls && s->web != NULL && s->web->tls) {
		fprintf(log,
		    "portdex: serve: SIGHUP: keeping the previous "
		    "settings: %s: tls_server_config is gone; TLS cannot be "
		    "turned off without a restart\n",
		    s->web_config);
		webcfg_free(w);
		return d;
	}
	nd = NULL;
	if (w->tls) {
		tls_options(w, tls, &flags);
		nd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_ARRAY,
		    tls, MHD_OPTION_THREAD_POOL_SIZE,
		    (unsigned)(s->threads > 1 ? s->threads : 0),
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)SERVE_CONN_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned)SERVE_MAX_CONNS,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (unsigned)SERVE_MAX_CONNS_PER_IP,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_TIMEOUT_S,
		    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		    MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		    MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
		    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
		    MHD_OPTION_END);
		if (nd == NULL) {
			fprintf(log,
			    "portdex: serve: SIGHUP: keeping the "
			    "previous settings: the TLS daemon does not "
			    "start with %s's settings\n",
			    s->web_config);
			webcfg_free(w);
			return d;
		}
	}
	pthread_rwlock_wrlock(&s->web_mu);
	old = s->web;
	s->web = w;
	pthread_rwlock_unlock(&s->web_mu);
	if (nd != NULL) {
		MHD_quiesce_daemon(d);
		MHD_stop_daemon(d);
		d = nd;
	}
	webcfg_free(old);
	fprintf(log,
	    "portdex: serve: SIGHUP: %s read again (%s, %zu "
	    "user%s)\n",
	    s->web_config, w->tls ? "TLS" : "no TLS", w->nusers,
	    w->nusers == 1 ? "" : "s");
	return d;
}

int
serve_run(struct serve *s)
{
	struct MHD_Daemon *d;
	sigset_t set, old;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
	    MHD_USE_ITC;
	int sig = 0;

#ifdef __linux__
	flags |= MHD_USE_EPOLL;
#else
	flags |= MHD_USE_POLL;
#endif
	s->started = time(NULL);
	/* The daemon's threads inherit a mask without the stop signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	d = serve_start(s, flags);
	if (d == NULL) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pdx_set_error("cannot start the HTTP daemon on %s",
		    s->listen_name);
		return -1;
	}
	fprintf(stderr,
	    "portdex: serve: listening on http%s://%s/ (%d "
	    "thread%s)\n",
	    s->web != NULL && s->web->tls ? "s" : "", s->listen_name,
	    s->threads, s->threads == 1 ? "" : "s");
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		d = reload(s, d, flags);
	fprintf(stderr, "portdex: serve: %s, stopping\n", strsignal(sig));
	/* Stop accepting, let the running requests finish, then stop. */
	MHD_quiesce_daemon(d);
	MHD_stop_daemon(d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}
