/*
 * serve.h - what the pieces of `portdex serve` share: the server's
 * configuration and state, the request being answered, the bounded
 * output buffer every page is written into, and the page, API and
 * metrics builders (serve-html.c, serve-metrics.c) that the route table
 * in serve.c dispatches to.  Option parsing and privilege dropping are
 * cmd-serve.c's.
 */
#ifndef PORTDEX_SERVE_H
#define PORTDEX_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "cli.h"
#include "portdex/votes.h"

/* Request limits (documented in docs/serve.md). */
#define SERVE_MAX_URL 1024	      /* path and query, bytes */
#define SERVE_MAX_QUERY 256	      /* the q parameter, bytes */
#define SERVE_MAX_BODY 64	      /* a vote form, bytes */
#define SERVE_CONN_MEMORY (16 * 1024) /* per connection, headers */
#define SERVE_MAX_CONNS 512
#define SERVE_MAX_CONNS_PER_IP 256
#define SERVE_TIMEOUT_S 15
#define SERVE_MAX_PAGE (64 * 1024 * 1024) /* one response */
/* Items per list of /api/v1/listening and /api/v1/audit: default, most */
#define SERVE_LIST_LIMIT 200
#define SERVE_LIST_LIMIT_MAX 100000

/* A growable byte buffer that refuses to grow past max (sets oom). */
struct hbuf {
	char *p;
	size_t len, cap, max;
	int oom;
};
void hb_init(struct hbuf *, size_t max);
void hb_free(struct hbuf *);
void hb_add(struct hbuf *, const char *, size_t);
void hb_puts(struct hbuf *, const char *);
void hb_printf(struct hbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* The one HTML escaper: & < > " ' become entities; NULL is "". */
void hb_esc(struct hbuf *, const char *);
/* Takes the bytes out (caller frees with free()); the buffer is reset. */
char *hb_take(struct hbuf *, size_t *len);

/* A pool of registry handles: pdx_db is not safe across threads. */
struct db_pool {
	struct pdx_db **db;
	int *busy;
	int n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

#define SERVE_NCODES 600

/*
 * Rendered pages, keyed by path: a chained hash table whose entries all
 * belong to one generation of the state database (a note or a vote
 * changes it, and the table is emptied).  Bounded by bytes: when full,
 * pages are rendered without being kept.  Pages with live data are
 * never stored.
 */
#define CACHE_BUCKETS 16384
#define CACHE_STRIPES 64
struct cache_entry {
	struct cache_entry *next;
	const char *type;
	size_t len;
	char *body;
	char key[];
};
struct page_cache {
	struct cache_entry *bucket[CACHE_BUCKETS];
	pthread_mutex_t mu[CACHE_STRIPES];
	pthread_mutex_t flush_mu;
	atomic_size_t bytes;
	size_t max_bytes; /* 0: no cache */
	atomic_ullong hits, misses;
	atomic_ullong local_gen; /* our own votes */
	unsigned long long gen;	 /* of the entries held */
};

/*
 * serve --web-config (serve-webcfg.c): TLS, client certificates, basic
 * auth and response headers, as the exporters' web configuration file
 * says.  One is in use at a time; SIGHUP replaces it.
 */
enum {
	WEBCFG_NO_CLIENT_CERT,
	WEBCFG_REQUEST_CLIENT_CERT,
	WEBCFG_REQUIRE_ANY_CLIENT_CERT,
	WEBCFG_VERIFY_IF_GIVEN,
	WEBCFG_REQUIRE_AND_VERIFY,
};
struct webcfg {
	char *path; /* the file, for messages */
	int tls;
	char *cert_file, *key_file, *client_ca_file;
	char *cert_pem, *key_pem, *ca_pem; /* the files read */
	size_t cert_len, key_len, ca_len;
	int client_auth;
	char *priorities; /* GnuTLS's */
	struct webcfg_user {
		char *name, *hash;
	} * users;
	size_t nusers; /* 0: no basic auth */
	struct webcfg_header {
		char *name, *value;
	} * headers;
	size_t nheaders;
	/*
	 * Passwords verified, as exporter-toolkit keeps them: HMAC-SHA-256
	 * of user, bcrypt hash and password under a random key of this
	 * config's own, so a good pair skips bcrypt next time.  Failures are
	 * never kept; a SIGHUP empties it (webcfg_forget); at most
	 * WEBCFG_AUTH_CACHE pairs, the oldest replaced.
	 */
#define WEBCFG_AUTH_CACHE 64
	pthread_mutex_t auth_mu;
	int auth_keyed; /* 0: key missing, nothing cached */
	unsigned char auth_key[32];
	unsigned char auth_ok[WEBCFG_AUTH_CACHE][32];
	size_t nauth, auth_next;
};
/* The file's settings, its files read and checked; NULL with the error. */
struct webcfg *webcfg_load(const char *path);
/* Only the YAML text (no file read): the fuzzer's way in. */
struct webcfg *webcfg_parse(const char *text, size_t len, const char *path);
void webcfg_free(struct webcfg *);
/* 1 when user and password match a basic_auth_users entry. */
int
webcfg_check_password(struct webcfg *, const char *user, const char *password);
/* Empties the cache of verified passwords (SIGHUP). */
void webcfg_forget(struct webcfg *);
/* 1 when the connection's client certificate passes client_auth_type. */
int
webcfg_check_client(const struct webcfg *, void *connection, const char **why);
/* The configured value of a response header, or NULL. */
const char *webcfg_header(const struct webcfg *, const char *name);

struct serve {
	/* configuration (cmd-serve.c) */
	int expose_local;
	int expose_notes; /* notes in pages and API */
	size_t metrics_max_ports;
	const char *web_config; /* --web-config FILE or NULL */
	struct webcfg *web;	/* under web_mu */
	pthread_rwlock_t web_mu;
	int access_log;
	/* the access log and libmicrohttpd's messages (NULL: stderr) */
	FILE *log;
	int threads;
	int listen_fd;
	char listen_name[96]; /* for messages */
	struct pdx_vote_limits limits;
	const char *db_path;

	/* opened before privileges are dropped */
	struct db_pool pool;
	struct pdx_state *state; /* NULL: votes and notes off */
	pthread_mutex_t state_mu;

	/* facts about the registry, read once */
	long long registry_rows;
	time_t registry_built; /* 0: unknown */

	struct page_cache cache;

	/* counters for /metrics */
	atomic_ullong requests[SERVE_NCODES];
	time_t started;
};

/* The request being answered, and the response being built. */
struct req {
	struct serve *srv;
	void *conn;	    /* struct MHD_Connection */
	const char *method; /* "GET", "HEAD", "POST" */
	const char *path;
	const struct sockaddr *client;
	const char *body; /* POST form, NUL-terminated */
	size_t body_len;

	/* the response */
	int status;
	const char *type; /* Content-Type */
	struct hbuf out;
	const char *location; /* for 303 */
	long retry_after;     /* for 429, 0: none */
	const char *allow;    /* for 405 */
	int cacheable;	      /* static: may be cached */
	int live;	      /* has live data: never cached */
	int csv;	      /* API: answer CSV, not JSON */
	int vary;	      /* the answer depends on Accept */
};

/* serve.c */
int serve_run(struct serve *);
/*
 * Starts libmicrohttpd with the server's handlers and limits; flags are
 * MHD's (threads, polling).  It listens on s->listen_fd when that is not
 * -1; with MHD_USE_NO_LISTEN_SOCKET it takes only the connections given
 * with MHD_add_connection (the fuzzer's way in).  NULL on failure.
 */
struct MHD_Daemon;
struct MHD_Daemon *serve_start(struct serve *, unsigned flags);
/* Sets up the page cache of max_bytes (0: off); -1 on failure. */
int cache_init(struct serve *, size_t max_bytes);
void cache_free(struct serve *);
/* The query argument name of the request (borrowed), or NULL. */
const char *req_arg(struct req *, const char *name);
struct pdx_db *pool_get(struct db_pool *);
void pool_put(struct db_pool *, struct pdx_db *);
/*
 * The card of port as the API serves it: the registry card, notes, votes
 * and, with --expose-local, the live section.  New reference or NULL.
 */
json_t *serve_card(struct req *, struct pdx_db *, unsigned port, int protomask);
/* find --json results for q, notes first.  New reference or NULL. */
json_t *serve_find(struct req *, struct pdx_db *, const char *q);

/* serve-html.c: each fills r->out, r->status and r->type. */
void html_home(struct req *);
void html_search(struct req *, const char *q, json_t *results);
void html_card(struct req *, json_t *card, int protomask);
void html_error(struct req *, int status, const char *title, const char *text);
void html_style(struct req *);
void html_favicon(struct req *);
void html_port_list(struct req *, const char *what, json_t *list);

/* serve-metrics.c */
void metrics_page(struct req *, struct pdx_db *);
/*
 * The families that describe the host, shared by /metrics and
 * `ls/audit --format prometheus`: build and registry (metrics_host),
 * listeners and audit (metrics_local).
 */
#define METRICS_MAX_PORTS_DEFAULT 500
struct metrics_src {
	struct pdx_db *db;
	struct pdx_state *state;   /* notes, accepts; may be NULL */
	pthread_mutex_t *state_mu; /* NULL: not shared */
	size_t max_ports;	   /* series with a port number */
	long long registry_rows;
	time_t registry_built; /* 0: unknown */
};
void metrics_host(struct hbuf *, const struct metrics_src *);
void metrics_local(struct hbuf *, const struct metrics_src *);

#endif
