/*
 * serve-webcfg.c - `serve --web-config FILE`: the web configuration file
 * Prometheus exporters share (tls_server_config, basic_auth_users,
 * http_server_config), read with libyaml; the certificate, key and client
 * CA files it names, checked with GnuTLS before the server uses them; the
 * GnuTLS priority string for min_version, max_version and cipher_suites;
 * and the two checks made on every request: the client certificate
 * (client_auth_type) and the basic-auth password, verified against its
 * bcrypt hash by libcrypt.  Starting the TLS daemon with these and
 * re-reading the file on SIGHUP are serve.c's.
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/random.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <yaml.h>

#include "serve.h"

#define WEBCFG_MAX_FILE (1024 * 1024) /* the YAML and each PEM */
#define WEBCFG_MAX_USERS 1024
#define WEBCFG_MAX_DEPTH 16

static const struct {
	const char *name;
	int type;
} auth_types[] = {
	{ "NoClientCert", WEBCFG_NO_CLIENT_CERT },
	{ "RequestClientCert", WEBCFG_REQUEST_CLIENT_CERT },
	{ "RequireAnyClientCert", WEBCFG_REQUIRE_ANY_CLIENT_CERT },
	{ "VerifyClientCertIfGiven", WEBCFG_VERIFY_IF_GIVEN },
	{ "RequireAndVerifyClientCert", WEBCFG_REQUIRE_AND_VERIFY },
};

static const struct {
	const char *name;
	const char *gnutls;
} versions[] = {
	{ "TLS10", "VERS-TLS1.0" },
	{ "TLS11", "VERS-TLS1.1" },
	{ "TLS12", "VERS-TLS1.2" },
	{ "TLS13", "VERS-TLS1.3" },
};

/*
 * The cipher suites of the format (Go's names for TLS 1.0-1.2), as
 * GnuTLS's key exchange, cipher and MAC.  TLS 1.3's suites are not
 * configurable in the format; GnuTLS's TLS 1.3 ciphers are the listed
 * suites' ciphers too (documented in docs/serve.md).
 */
static const struct {
	const char *name;
	const char *kx, *cipher, *mac;
} suites[] = {
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA",
	    "AES-128-GCM", "AEAD" },
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA", "AES-128-GCM",
	    "AEAD" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA",
	    "AES-256-GCM", "AEAD" },
	{ "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA", "AES-256-GCM",
	    "AEAD" },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA",
	    "CHACHA20-POLY1305", "AEAD" },
	{ "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA",
	    "CHACHA20-POLY1305", "AEAD" },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA",
	    "CHACHA20-POLY1305", "AEAD" },
	{ "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA",
	    "CHACHA20-POLY1305", "AEAD" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA", "AES-128-CBC",
	    "SHA1" },
	{ "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA", "AES-128-CBC",
	    "SHA1" },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA", "AES-256-CBC",
	    "SHA1" },
	{ "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA", "AES-256-CBC",
	    "SHA1" },
	{ "TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "AES-128-GCM", "AEAD" },
	{ "TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "AES-256-GCM", "AEAD" },
	{ "TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "AES-128-CBC", "SHA1" },
	{ "TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "AES-256-CBC", "SHA1" },
};

/* The headers http_server_config.headers may set (as the format allows). */
static const char *const settable_headers[] = {
	"Content-Security-Policy",
	"X-Frame-Options",
	"X-Content-Type-Options",
	"X-XSS-Protection",
	"Strict-Transport-Security",
};

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

/* Overwrites then frees a secret. */
static void
free_secret(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

void
webcfg_free(struct webcfg *w)
{
	size_t i;

	if (w == NULL)
		return;
	free(w->path);
	free(w->cert_file);
	free(w->key_file);
	free(w->client_ca_file);
	free(w->cert_pem);
	free_secret(w->key_pem, w->key_len);
	free(w->ca_pem);
	free(w->priorities);
	for (i = 0; i < w->nusers; i++) {
		free(w->users[i].name);
		free(w->users[i].hash);
	}
	free(w->users);
	for (i = 0; i < w->nheaders; i++) {
		free(w->headers[i].name);
		free(w->headers[i].value);
	}
	free(w->headers);
	explicit_bzero(w->auth_key, sizeof w->auth_key);
	explicit_bzero(w->auth_ok, sizeof w->auth_ok);
	pthread_mutex_destroy(&w->auth_mu);
	free(w);
}

/* ---- the YAML document, as a small tree ------------------------------- */

/*
 * libyaml's document API gives the nodes; these helpers walk a mapping
 * and say where a field is (line numbers count from 1).
 */
static const char *
scalar(yaml_document_t *d, yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE
	    ? (const char *)n->data.scalar.value
	    : NULL;
}

static int
fail(const struct webcfg *w, yaml_node_t *n, const char *field, const char *why)
{
	if (n != NULL)
		pdx_set_error("%s: line %lu: %s: %s", w->path,
		    (unsigned long)n->start_mark.line + 1, field, why);
	else
		pdx_set_error("%s: %s: %s", w->path, field, why);
	return -1;
}

/* A file name from the document, relative to the file's directory. */
static char *
file_field(const struct webcfg *w, const char *v)
{
	char *copy, *dir, *full;

	if (v[0] == '/')
		return xstrdup(v);
	copy = xstrdup(w->path);
	dir = dirname(copy);
	if (asprintf(&full, "%s/%s", dir, v) < 0)
		abort();
	free(copy);
	return full;
}

static int
parse_tls(struct webcfg *w, yaml_document_t *d, yaml_node_t *m)
{
	yaml_node_pair_t *p;
	const char *min = "TLS12", *max = "TLS13";
	yaml_node_t *suites_node = NULL, *min_node = NULL, *max_node = NULL;
	char prio[1024];
	size_t i, k;
	int vmin = -1, vmax = -1;

	if (m->type != YAML_MAPPING_NODE)
		return fail(w, m, "tls_server_config", "expected a mapping");
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(d, p->key);
		yaml_node_t *vn = yaml_document_get_node(d, p->value);
		const char *key = scalar(d, kn), *v = scalar(d, vn);
		char field[96];

		if (key == NULL)
			return fail(w, kn, "tls_server_config",
			    "a key is not a plain word");
		snprintf(field, sizeof field, "tls_server_config.%.60s", key);
		if (strcmp(key, "cipher_suites") == 0) {
			if (vn == NULL || vn->type != YAML_SEQUENCE_NODE)
				return fail(w, vn, field, "expected a list");
			suites_node = vn;
			continue;
		}
		if (strcmp(key, "curve_preferences") == 0 ||
		    strcmp(key, "client_allowed_sans") == 0 ||
		    strcmp(key, "cert") == 0 || strcmp(key, "key") == 0 ||
		    strcmp(key, "client_ca") == 0)
			return fail(w, kn, field,
			    "not supported by portdex "
			    "serve (use cert_file, key_file, client_ca_file)");
		if (v == NULL)
			return fail(w, vn, field, "expected a single value");
		if (strcmp(key, "cert_file") == 0) {
			free(w->cert_file);
			w->cert_file = file_field(w, v);
		} else if (strcmp(key, "key_file") == 0) {
			free(w->key_file);
			w->key_file = file_field(w, v);
		} else if (strcmp(key, "client_ca_file") == 0) {
			free(w->client_ca_file);
			w->client_ca_file = file_field(w, v);
		} else if (strcmp(key, "client_auth_type") == 0) {
			for (i = 0; i < sizeof auth_types / sizeof *auth_types;
			     i++)
				if (strcmp(v, auth_types[i].name) == 0)
					break;
			if (i == sizeof auth_types / sizeof *auth_types)
				return fail(w, vn, field,
				    "unknown type (one "
				    "of NoClientCert, RequestClientCert, "
				    "RequireAnyClientCert, "
				    "VerifyClientCertIfGiven, "
				    "RequireAndVerifyClientCert)");
			w->client_auth = auth_types[i].type;
		} else if (strcmp(key, "min_version") == 0) {
			min = v;
			min_node = vn;
		} else if (strcmp(key, "max_version") == 0) {
			max = v;
			max_node = vn;
		} else if (strcmp(key, "prefer_server_cipher_suites") == 0) {
			if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
				return fail(w, vn, field,
				    "expected true or "
				    "false");
		} else
			return fail(w, kn, field, "unknown field");
	}
	if (w->cert_file == NULL)
		return fail(w, m, "tls_server_config.cert_file",
		    "missing: "
		    "TLS needs a certificate file");
	if (w->key_file == NULL)
		return fail(w, m, "tls_server_config.key_file",
		    "missing: "
		    "TLS needs a private key file");
	if (w->client_ca_file != NULL &&
	    w->client_auth == WEBCFG_NO_CLIENT_CERT)
		return fail(w, m, "tls_server_config.client_ca_file",
		    "given "
		    "with client_auth_type NoClientCert: set the client_auth_"
		    "type that should use it");
	if (w->client_ca_file == NULL &&
	    (w->client_auth == WEBCFG_VERIFY_IF_GIVEN ||
		w->client_auth == WEBCFG_REQUIRE_AND_VERIFY))
		return fail(w, m, "tls_server_config.client_ca_file",
		    "missing:"
		    " client certificates cannot be verified without the CA");
	for (i = 0; i < sizeof versions / sizeof *versions; i++) {
		if (strcmp(min, versions[i].name) == 0)
			vmin = (int)i;
		if (strcmp(max, versions[i].name) == 0)
			vmax = (int)i;
	}
	if (vmin < 0)
		return fail(w, min_node, "tls_server_config.min_version",
		    "unknown version (TLS10, TLS11, TLS12 or TLS13)");
	if (vmax < 0)
		return fail(w, max_node, "tls_server_config.max_version",
		    "unknown version (TLS10, TLS11, TLS12 or TLS13)");
	if (vmin > vmax)
		return fail(w, min_node, "tls_server_config.min_version",
		    "above max_version");
	k = (size_t)snprintf(prio, sizeof prio, "NORMAL:-VERS-ALL");
	for (i = (size_t)vmin; i <= (size_t)vmax; i++)
		k += (size_t)snprintf(prio + k, sizeof prio - k, ":+%s",
		    versions[i].gnutls);
	if (suites_node != NULL) {
		yaml_node_item_t *it;

		if (suites_node->data.sequence.items.start ==
		    suites_node->data.sequence.items.top)
			return fail(w, suites_node,
			    "tls_server_config.cipher_suites", "empty list");
		k += (size_t)snprintf(prio + k, sizeof prio - k,
		    ":-CIPHER-ALL:-MAC-ALL:-KX-ALL");
		for (it = suites_node->data.sequence.items.start;
		     it < suites_node->data.sequence.items.top; it++) {
			yaml_node_t *sn = yaml_document_get_node(d, *it);
			const char *name = scalar(d, sn);

			for (i = 0;
			     name != NULL && i < sizeof suites / sizeof *suites;
			     i++)
				if (strcmp(name, suites[i].name) == 0)
					break;
			if (name == NULL || i == sizeof suites / sizeof *suites)
				return fail(w, sn,
				    "tls_server_config.cipher_suites",
				    "unknown or unsupported cipher suite "
				    "(docs/serve.md lists the supported ones)");
			if (k + 80 >= sizeof prio)
				return fail(w, sn,
				    "tls_server_config.cipher_suites",
				    "too many suites");
			k += (size_t)snprintf(prio + k, sizeof prio - k,
			    ":+%s:+%s:+%s", suites[i].kx, suites[i].cipher,
			    suites[i].mac);
		}
	}
	w->priorities = xstrdup(prio);
	w->tls = 1;
	return 0;
}

static int
parse_http(struct webcfg *w, yaml_document_t *d, yaml_node_t *m)
{
	yaml_node_pair_t *p, *q;
	size_t i;

	if (m->type != YAML_MAPPING_NODE)
		return fail(w, m, "http_server_config", "expected a mapping");
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(d, p->key);
		yaml_node_t *vn = yaml_document_get_node(d, p->value);
		const char *key = scalar(d, kn);

		if (key == NULL)
			return fail(w, kn, "http_server_config",
			    "a key is not a plain word");
		if (strcmp(key, "http2") == 0) {
			/* libmicrohttpd speaks HTTP/1.1 only: accepted. */
			if (scalar(d, vn) == NULL)
				return fail(w, vn, "http_server_config.http2",
				    "expected true or false");
			continue;
		}
		if (strcmp(key, "headers") != 0)
			return fail(w, kn, "http_server_config",
			    "unknown "
			    "field (http2 or headers)");
		if (vn == NULL || vn->type != YAML_MAPPING_NODE)
			return fail(w, vn, "http_server_config.headers",
			    "expected a mapping of header: value");
		for (q = vn->data.mapping.pairs.start;
		     q < vn->data.mapping.pairs.top; q++) {
			yaml_node_t *hk = yaml_document_get_node(d, q->key);
			yaml_node_t *hv = yaml_document_get_node(d, q->value);
			const char *name = scalar(d, hk), *val = scalar(d, hv);
			const char *c;

			for (i = 0; name != NULL &&
			     i < sizeof settable_headers /
				     sizeof *settable_headers;
			     i++)
				if (strcasecmp(name, settable_headers[i]) == 0)
					break;
			if (name == NULL ||
			    i ==
				sizeof settable_headers /
				    sizeof *settable_headers)
				return fail(w, hk, "http_server_config.headers",
				    "not a header the format may set "
				    "(Content-Security-Policy, "
				    "X-Frame-Options, X-Content-Type-Options,"
				    " X-XSS-Protection, "
				    "Strict-Transport-Security)");
			if (val == NULL)
				return fail(w, hv, "http_server_config.headers",
				    "expected a text value");
			for (c = val; *c != '\0'; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					return fail(w, hv,
					    "http_server_config.headers",
					    "control character in the value");
			if (webcfg_header(w, settable_headers[i]) != NULL)
				return fail(w, hk, "http_server_config.headers",
				    "a header is given twice");
			w->headers = realloc(w->headers,
			    (w->nheaders + 1) * sizeof *w->headers);
			if (w->headers == NULL)
				abort();
			w->headers[w->nheaders].name = xstrdup(
			    settable_headers[i]);
			w->headers[w->nheaders].value = xstrdup(val);
			w->nheaders++;
		}
	}
	return 0;
}

static int
parse_users(struct webcfg *w, yaml_document_t *d, yaml_node_t *m)
{
	yaml_node_pair_t *p;
	size_t i;

	if (m->type != YAML_MAPPING_NODE)
		return fail(w, m, "basic_auth_users",
		    "expected a mapping of "
		    "user: bcrypt hash");
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(d, p->key);
		yaml_node_t *vn = yaml_document_get_node(d, p->value);
		const char *user = scalar(d, kn), *hash = scalar(d, vn);
		char field[96];

		if (user == NULL || *user == '\0' || strchr(user, ':') != NULL)
			return fail(w, kn, "basic_auth_users",
			    "a user name "
			    "is a non-empty word without ':'");
		snprintf(field, sizeof field, "basic_auth_users.%.60s", user);
		if (hash == NULL)
			return fail(w, vn, field, "expected a bcrypt hash");
		if (strncmp(hash, "$2a$", 4) != 0 &&
		    strncmp(hash, "$2b$", 4) != 0 &&
		    strncmp(hash, "$2y$", 4) != 0)
			return fail(w, vn, field,
			    "not a bcrypt hash "
			    "($2a$, $2b$ or $2y$)");
		if (strlen(hash) != 60)
			return fail(w, vn, field,
			    "a bcrypt hash is 60 "
			    "characters");
		for (i = 0; i < w->nusers; i++)
			if (strcmp(w->users[i].name, user) == 0)
				return fail(w, kn, field, "given twice");
		if (w->nusers >= WEBCFG_MAX_USERS)
			return fail(w, kn, "basic_auth_users",
			    "too many users");
		w->users = realloc(w->users,
		    (w->nusers + 1) * sizeof *w->users);
		if (w->users == NULL)
			abort();
		w->users[w->nusers].name = xstrdup(user);
		w->users[w->nusers].hash = xstrdup(hash);
		w->nusers++;
	}
	return 0;
}

struct webcfg *
webcfg_parse(const char *text, size_t len, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *p;
	struct webcfg *w;
	int ok = -1, seen = 0, bit;

	if ((w = calloc(1, sizeof *w)) == NULL)
		abort();
	w->path = xstrdup(path);
	pthread_mutex_init(&w->auth_mu, NULL);
	/* no key, no cache: every request then pays its bcrypt */
	w->auth_keyed = getrandom(w->auth_key, sizeof w->auth_key, 0) ==
	    (ssize_t)sizeof w->auth_key;
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		pdx_set_error("%s: line %lu: not valid YAML: %s", path,
		    (unsigned long)parser.problem_mark.line + 1,
		    parser.problem != NULL ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		webcfg_free(w);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		/* An empty file: the format's "no TLS, no auth". */
		ok = 0;
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		fail(w, root, "(top level)",
		    "expected a mapping "
		    "(tls_server_config, http_server_config, "
		    "basic_auth_users)");
		goto out;
	}
	for (p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&doc, p->value);
		const char *key = scalar(&doc, kn);

		if (key == NULL || vn == NULL) {
			fail(w, kn, "(top level)", "a key is not a plain word");
			goto out;
		}
		bit = strcmp(key, "tls_server_config") == 0  ? 1
		    : strcmp(key, "http_server_config") == 0 ? 2
		    : strcmp(key, "basic_auth_users") == 0   ? 4
							     : 0;
		if (seen & bit) {
			fail(w, kn, key, "given twice");
			goto out;
		}
		seen |= bit;
		/* "key:" with nothing after it is an empty section. */
		if (vn->type == YAML_SCALAR_NODE && vn->data.scalar.length == 0)
			continue;
		if (strcmp(key, "tls_server_config") == 0) {
			if (parse_tls(w, &doc, vn) != 0)
				goto out;
		} else if (strcmp(key, "http_server_config") == 0) {
			if (parse_http(w, &doc, vn) != 0)
				goto out;
		} else if (strcmp(key, "basic_auth_users") == 0) {
			if (parse_users(w, &doc, vn) != 0)
				goto out;
		} else {
			fail(w, kn, key,
			    "unknown field (tls_server_config, "
			    "http_server_config or basic_auth_users)");
			goto out;
		}
	}
	ok = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ok != 0) {
		webcfg_free(w);
		return NULL;
	}
	return w;
}

/* Reads a whole file of at most WEBCFG_MAX_FILE bytes; NUL-terminated. */
static char *
read_file(const char *path, const char *field, const char *cfg, size_t *lenp)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (field != NULL)
			pdx_set_error("%s: %s: cannot read %s: %s", cfg, field,
			    path, strerror(errno));
		else
			pdx_set_error("%s: cannot read: %s", path,
			    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > WEBCFG_MAX_FILE) {
		if (field != NULL)
			pdx_set_error("%s: %s: %s is not a regular file of at "
				      "most 1 MiB",
			    cfg, field, path);
		else
			pdx_set_error("%s: not a regular file of at most "
				      "1 MiB",
			    path);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		abort();
	while (len < (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Checks the certificate and key (and the CA) with GnuTLS. */
static int
check_tls(struct webcfg *w)
{
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_datum_t c, k, ca;
	const char *errpos = NULL;
	int rc;

	if (pdx_lazy_load("gnutls") != 0)
		return -1;
	if ((rc = gnutls_certificate_allocate_credentials(&cred)) < 0) {
		pdx_set_error("%s: GnuTLS: %s", w->path, gnutls_strerror(rc));
		return -1;
	}
	c.data = (unsigned char *)w->cert_pem;
	c.size = (unsigned)w->cert_len;
	k.data = (unsigned char *)w->key_pem;
	k.size = (unsigned)w->key_len;
	rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k,
	    GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		pdx_set_error(
		    "%s: tls_server_config.cert_file/key_file: %s "
		    "and %s are not a PEM certificate and its private key: %s",
		    w->path, w->cert_file, w->key_file, gnutls_strerror(rc));
		gnutls_certificate_free_credentials(cred);
		return -1;
	}
	if (w->ca_pem != NULL) {
		ca.data = (unsigned char *)w->ca_pem;
		ca.size = (unsigned)w->ca_len;
		rc = gnutls_certificate_set_x509_trust_mem(cred, &ca,
		    GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			pdx_set_error("%s: tls_server_config.client_ca_file: "
				      "%s holds no PEM certificate%s%s",
			    w->path, w->client_ca_file, rc < 0 ? ": " : "",
			    rc < 0 ? gnutls_strerror(rc) : "");
			gnutls_certificate_free_credentials(cred);
			return -1;
		}
	}
	gnutls_certificate_free_credentials(cred);
	if ((rc = gnutls_priority_init(&prio, w->priorities, &errpos)) < 0) {
		pdx_set_error("%s: tls_server_config: GnuTLS refuses the "
			      "versions and cipher suites (%s): %s",
		    w->path, w->priorities, gnutls_strerror(rc));
		return -1;
	}
	gnutls_priority_deinit(prio);
	return 0;
}

struct webcfg *
webcfg_load(const char *path)
{
	struct webcfg *w;
	char *text;
	size_t len;

	if ((text = read_file(path, NULL, NULL, &len)) == NULL)
		return NULL;
	w = webcfg_parse(text, len, path);
	free(text);
	if (w == NULL || !w->tls)
		return w;
	if ((w->cert_pem = read_file(w->cert_file,
		 "tls_server_config.cert_file", path, &w->cert_len)) == NULL ||
	    (w->key_pem = read_file(w->key_file, "tls_server_config.key_file",
		 path, &w->key_len)) == NULL ||
	    (w->client_ca_file != NULL &&
		(w->ca_pem = read_file(w->client_ca_file,
		     "tls_server_config.client_ca_file", path, &w->ca_len)) ==
		    NULL) ||
	    check_tls(w) != 0) {
		webcfg_free(w);
		return NULL;
	}
	return w;
}

/* ---- per request -------------------------------------------------------- */

/* Equal strings, in a time that depends only on their lengths. */
static int
equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/*
 * The cache's name for a (user, hash, password): HMAC-SHA-256 under the
 * config's key of "user\0hash\0password".  0, or -1 (not cached then).
 */
static int
auth_digest(struct webcfg *w, const char *user, const char *hash,
    const char *password, unsigned char d[32])
{
	size_t lu = strlen(user), lh = strlen(hash), lp = strlen(password);
	char *msg;
	int rc;

	if (!w->auth_keyed || (msg = malloc(lu + lh + lp + 2)) == NULL)
		return -1;
	memcpy(msg, user, lu + 1);
	memcpy(msg + lu + 1, hash, lh + 1);
	memcpy(msg + lu + lh + 2, password, lp);
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, w->auth_key,
	    sizeof w->auth_key, msg, lu + lh + lp + 2, d);
	explicit_bzero(msg, lu + lh + lp + 2);
	free(msg);
	return rc < 0 ? -1 : 0;
}

/* Whether d is in the cache: every entry compared, each in full. */
static int
auth_cached(struct webcfg *w, const unsigned char d[32])
{
	unsigned char found = 0;
	size_t i, j;

	pthread_mutex_lock(&w->auth_mu);
	for (i = 0; i < w->nauth; i++) {
		unsigned char diff = 0;

		for (j = 0; j < 32; j++)
			diff |= (unsigned char)(w->auth_ok[i][j] ^ d[j]);
		found |= (unsigned char)(diff == 0);
	}
	pthread_mutex_unlock(&w->auth_mu);
	return found != 0;
}

static void
auth_keep(struct webcfg *w, const unsigned char d[32])
{
	pthread_mutex_lock(&w->auth_mu);
	memcpy(w->auth_ok[w->auth_next], d, 32);
	w->auth_next = (w->auth_next + 1) % WEBCFG_AUTH_CACHE;
	if (w->nauth < WEBCFG_AUTH_CACHE)
		w->nauth++;
	pthread_mutex_unlock(&w->auth_mu);
}

void
webcfg_forget(struct webcfg *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->auth_mu);
	explicit_bzero(w->auth_ok, sizeof w->auth_ok);
	w->nauth = 0;
	w->auth_next = 0;
	pthread_mutex_unlock(&w->auth_mu);
}

int
webcfg_check_password(struct webcfg *w, const char *user, const char *password)
{
	struct crypt_data *cd;
	const char *hash, *out;
	unsigned char d[32];
	size_t i;
	int ok = 0, known = 0, named = -1;

	if (w->nusers == 0)
		return 0;
	/* An unknown user costs a bcrypt too: no timing tells who exists. */
	hash = w->users[0].hash;

	for (i = 0; user != NULL && i < w->nusers; i++)
		if (strcmp(w->users[i].name, user) == 0) {
			hash = w->users[i].hash;
			known = 1;
			break;
		}
	/* A pair verified before skips the bcrypt (failures never do). */
	if (known && password != NULL &&
	    (named = auth_digest(w, user, hash, password, d)) == 0 &&
	    auth_cached(w, d)) {
		explicit_bzero(d, sizeof d);
		return 1;
	}
	if ((cd = calloc(1, sizeof *cd)) == NULL)
		return 0;
	out = crypt_r(password != NULL ? password : "", hash, cd);
	/* crypt_r fails with NULL or a string starting with '*'. */
	if (out != NULL && out[0] != '*')
		ok = equal_ct(out, hash);
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	ok = ok && known && user != NULL && password != NULL;
	if (ok && named == 0)
		auth_keep(w, d);
	explicit_bzero(d, sizeof d);
	return ok;
}

int
webcfg_check_client(const struct webcfg *w, void *connection, const char **why)
{
	const union MHD_ConnectionInfo *ci;
	gnutls_session_t session;
	unsigned int status = 0, n = 0;
	int rc;

	*why = NULL;
	if (!w->tls || w->client_auth <= WEBCFG_REQUEST_CLIENT_CERT)
		return 1;
	ci = MHD_get_connection_info(connection,
	    MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || (session = ci->tls_session) == NULL) {
		*why = "no TLS session";
		return 0;
	}
	if (gnutls_certificate_get_peers(session, &n) == NULL || n == 0) {
		if (w->client_auth == WEBCFG_VERIFY_IF_GIVEN)
			return 1;
		*why = "no client certificate";
		return 0;
	}
	if (w->client_auth == WEBCFG_REQUIRE_ANY_CLIENT_CERT)
		return 1;
	rc = gnutls_certificate_verify_peers2(session, &status);
	if (rc < 0) {
		*why = gnutls_strerror(rc);
		return 0;
	}
	if (status != 0) {
		*why = (status & GNUTLS_CERT_EXPIRED) ? "client certificate "
							"expired"
		    : (status & GNUTLS_CERT_NOT_ACTIVATED)
		    ? "client certificate not yet valid"
		    : (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		    ? "client "
		      "certificate not signed by client_ca_file"
		    : "client certificate not valid";
		return 0;
	}
	return 1;
}

const char *
webcfg_header(const struct webcfg *w, const char *name)
{
	size_t i;

	for (i = 0; w != NULL && i < w->nheaders; i++)
		if (strcasecmp(w->headers[i].name, name) == 0)
			return w->headers[i].value;
	return NULL;
}
