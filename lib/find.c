/*
 * find.c - `portdex find` and the web search: ranks ports as a person
 * would.  A number is that port; an exact service name or alias (after a
 * short table of synonyms: smb, rdp, k8s...) comes next; then the curated
 * identities and names; then names that start with the word; then the
 * registry's full-text index (FTS5 over names, descriptions and uses).
 * Within a tier, ports nmap sees open more often come first.  One result
 * per port or range.  It reads the registry only.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "portdex.h"
#include "registry-int.h"

enum tier {
	T_FTS = 1,  /* full-text match */
	T_PREFIX,   /* a service name starts with the word */
	T_CURATED,  /* a curated use names it */
	T_IDENTITY, /* the curated identity (lead row) names it */
	T_NAME,	    /* exact IANA/nmap/services name or alias */
	T_PORT,	    /* the query is this port number */
};

/* What people type, and the registry's names (and curated words) for it. */
static const struct synonym {
	const char *word;
	const char *names;   /* space-separated service names */
	const char *curated; /* a word to look for in curated names */
} synonyms[] = {
	{ "http", "http https http-alt", NULL },
	{ "web", "http https", NULL },
	{ "smb", "microsoft-ds netbios-ssn", NULL },
	{ "cifs", "microsoft-ds", NULL },
	{ "samba", "microsoft-ds netbios-ssn", NULL },
	{ "mssql", "ms-sql-s ms-sql-m", "SQL Server" },
	{ "sqlserver", "ms-sql-s ms-sql-m", "SQL Server" },
	{ "k8s", "", "Kubernetes" },
	{ "kube", "", "Kubernetes" },
	{ "rdp", "ms-wbt-server", "Remote Desktop" },
	{ "vnc", "rfb", "VNC" },
	{ "dns", "domain", "DNS" },
	{ "ntp", "ntp", NULL },
	{ "ldap", "ldap ldaps", NULL },
	{ "mongo", "mongodb", "MongoDB" },
	{ "postgres", "postgresql", "PostgreSQL" },
	{ "pg", "postgresql", "PostgreSQL" },
	{ "elastic", "", "Elasticsearch" },
	{ "es", "", "Elasticsearch" },
	{ "imap", "imap imaps", NULL },
	{ "pop3", "pop3 pop3s", NULL },
	{ "pop", "pop3 pop3s", NULL },
	{ "smtp", "smtp submission submissions", NULL },
	{ "mail", "smtp submission imap imaps pop3 pop3s", NULL },
	{ "netbios", "netbios-ns netbios-dgm netbios-ssn", NULL },
	{ "winrm", "wsman wsmans", "WinRM" },
	{ "ssl", "https", NULL },
	{ "tls", "https", NULL },
	{ "irc", "ircd irc ircu ircs-u", NULL },
	{ "nfs", "nfs", NULL },
	{ "sip", "sip sip-tls", NULL },
	{ "mysql", "mysql", "MySQL" },
	{ "redis", "redis", "Redis" },
	{ "kafka", "", "Kafka" },
	{ "prometheus", "", "Prometheus" },
};

struct cand {
	int lo, hi, tier, protos;
	double pop, fts;
	char *name, *text, *kind;
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static void
cand_add(struct cands *c, int lo, int hi, int tier, int protos,
    const char *name, const char *text, const char *kind, double fts)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		struct cand *x = &c->v[i];

		if (x->lo != lo || x->hi != hi)
			continue;
		x->protos |= protos;
		if (fts > x->fts)
			x->fts = fts;
		if (tier > x->tier) {
			x->tier = tier;
			free(x->name);
			free(x->text);
			free(x->kind);
			x->name = strdup(name);
			x->text = strdup(text);
			x->kind = strdup(kind);
		}
		return;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct cand *nv = realloc(c->v, cap * sizeof *nv);

		if (nv == NULL)
			return;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n] = (struct cand){ lo, hi, tier, protos, 0.0, fts,
		strdup(name), strdup(text), strdup(kind) };
	if (c->v[c->n].name == NULL || c->v[c->n].text == NULL ||
	    c->v[c->n].kind == NULL) {
		free(c->v[c->n].name);
		free(c->v[c->n].text);
		free(c->v[c->n].kind);
		return;
	}
	c->n++;
}

static void
cands_free(struct cands *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].text);
		free(c->v[i].kind);
	}
	free(c->v);
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s != NULL ? s : "";
}

/*
 * Turns free words into an FTS5 query: each word becomes a quoted prefix
 * term, so no user input is ever FTS5 syntax.  op is " " (all words) or
 * " OR ".  Returns malloc'd text, or NULL when no word remains.
 */
static char *
fts_query(const char *q, const char *op)
{
	size_t cap = strlen(q) * 4 + 16, len = 0;
	char *out = malloc(cap);
	const char *p = q;
	int words = 0;

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		const char *s;

		while (*p != '\0' &&
		    !((unsigned char)*p >= 0x80 || (*p >= '0' && *p <= '9') ||
			(*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			p++;
		s = p;
		while ((unsigned char)*p >= 0x80 || (*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			p++;
		if (p == s)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s\"%.*s\"*",
		    words > 0 ? op : "", (int)(p - s), s);
		words++;
	}
	if (words == 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int
fts_candidates(struct pdx_db *d, const char *query, struct cands *c)
{
	static const char sql[] =
	    "SELECT name, summary, kind, port_lo, port_hi, protomask,"
	    " bm25(fts, 10.0, 1.0) AS score FROM fts WHERE fts MATCH ?"
	    " AND port_lo IS NOT NULL ORDER BY score, port_lo LIMIT 80";
	static const char *const ops[] = { " ", " OR " };
	sqlite3_stmt *st;
	size_t i, before = c->n;

	for (i = 0; i < 2 && c->n == before; i++) {
		char *q = fts_query(query, ops[i]);

		if (q == NULL) {
			pdx_set_error("nothing to search for in '%.64s'",
			    query);
			return -1;
		}
		if (pdx_db_prepare(d, sql, &st) != 0) {
			free(q);
			return -1;
		}
		sqlite3_bind_text(st, 1, q, -1, SQLITE_TRANSIENT);
		free(q);
		while (sqlite3_step(st) == SQLITE_ROW)
			cand_add(c, sqlite3_column_int(st, 3),
			    sqlite3_column_int(st, 4), T_FTS,
			    sqlite3_column_int(st, 5), col(st, 0), col(st, 1),
			    col(st, 2), -sqlite3_column_double(st, 6));
		sqlite3_finalize(st);
		if (strchr(query, ' ') == NULL)
			break; /* one word: OR would be the same query */
	}
	return 0;
}

/* Rows whose service name is name (any case): IANA, nmap, services. */
static void
name_candidates(struct pdx_db *d, const char *name, int tier, struct cands *c)
{
	static const char *const sql[] = {
		"SELECT port_lo, port_hi, name, description, protomask, 'iana'"
		" FROM iana WHERE name = ?1 COLLATE NOCASE AND port_lo IS NOT"
		" NULL",
		"SELECT port, port, name, '', proto, 'nmap' FROM nmap WHERE"
		" name = ?1 COLLATE NOCASE AND freq > 0",
		"SELECT port_lo, port_hi, name, comment, protomask, 'services'"
		" FROM services WHERE name = ?1 COLLATE NOCASE OR ' ' ||"
		" aliases || ' ' LIKE '% ' || ?1 || ' %'",
	};
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < sizeof sql / sizeof *sql; i++) {
		if (pdx_db_prepare(d, sql[i], &st) != 0)
			continue;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW)
			cand_add(c, sqlite3_column_int(st, 0),
			    sqlite3_column_int(st, 1), tier,
			    sqlite3_column_int(st, 4), col(st, 2),
			    *col(st, 3) != '\0' ? col(st, 3) : col(st, 2),
			    col(st, 5), 0.0);
		sqlite3_finalize(st);
	}
}

/* IANA names that start with word (http -> https), as a lower tier. */
static void
prefix_candidates(struct pdx_db *d, const char *word, struct cands *c)
{
	sqlite3_stmt *st;
	char pat[160];

	if (strlen(word) < 2 || strlen(word) + 2 > sizeof pat ||
	    strpbrk(word, "%_") != NULL)
		return;
	memcpy(pat, word, strlen(word));
	memcpy(pat + strlen(word), "%", 2);
	if (pdx_db_prepare(d,
		"SELECT port_lo, port_hi, name, description,"
		" protomask FROM iana WHERE name LIKE ?1 AND port_lo IS NOT NULL"
		" LIMIT 40",
		&st) != 0)
		return;
	sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		cand_add(c, sqlite3_column_int(st, 0),
		    sqlite3_column_int(st, 1), T_PREFIX,
		    sqlite3_column_int(st, 4), col(st, 2), col(st, 3), "iana",
		    0.0);
	sqlite3_finalize(st);
}

/* Curated uses whose name holds phrase (any case); leads rank higher. */
static void
curated_candidates(struct pdx_db *d, const char *phrase, struct cands *c)
{
	sqlite3_stmt *st;

	if (strlen(phrase) < 2)
		return;
	if (pdx_db_prepare(d,
		"SELECT port_lo, port_hi, name, text,"
		" protomask, lead, kind FROM uses WHERE instr(lower(name),"
		" lower(?1)) > 0 AND kind NOT IN ('iana-unauthorized')"
		" AND confidence != 'observed' LIMIT 200",
		&st) != 0)
		return;
	sqlite3_bind_text(st, 1, phrase, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int lead = sqlite3_column_int(st, 5);
		const char *nm = col(st, 2), *at = strcasestr(nm, phrase);

		/* whole words only: "ntp" is not NNTP */
		if (at == NULL || (at > nm && isalnum((unsigned char)at[-1])))
			continue;
		int bad = strcmp(col(st, 6), "malware") == 0 ||
		    strcmp(col(st, 6), "attack-tool") == 0;

		cand_add(c, sqlite3_column_int(st, 0),
		    sqlite3_column_int(st, 1),
		    lead      ? T_IDENTITY
			: bad ? T_FTS
			      : T_CURATED,
		    sqlite3_column_int(st, 4), col(st, 2), col(st, 3), "use",
		    0.0);
	}
	sqlite3_finalize(st);
}

/* nmap's highest open-frequency on the first port of each candidate. */
static void
popularity(struct pdx_db *d, struct cands *c)
{
	sqlite3_stmt *st;
	size_t i;

	if (pdx_db_prepare(d, "SELECT max(freq) FROM nmap WHERE port = ?",
		&st) != 0)
		return;
	for (i = 0; i < c->n; i++) {
		sqlite3_bind_int(st, 1, c->v[i].lo);
		if (sqlite3_step(st) == SQLITE_ROW)
			c->v[i].pop = sqlite3_column_double(st, 0);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

static int
by_rank(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->tier != y->tier)
		return y->tier - x->tier;
	if (x->pop != y->pop)
		return y->pop > x->pop ? 1 : -1;
	if (x->fts != y->fts)
		return y->fts > x->fts ? 1 : -1;
	return x->lo - y->lo;
}

static json_t *
protos_json(int mask)
{
	json_t *a = json_array();
	int i;

	if (mask == 0)
		mask = PDX_PROTO_ALL;
	for (i = 0; i < PDX_NPROTO; i++)
		if (mask & (1 << i))
			json_array_append_new(a,
			    json_string(pdx_proto_name(1 << i)));
	return a;
}

/* The query in lower case, its words separated by one space. */
static void
normalize(const char *q, char *out, size_t n)
{
	size_t k = 0;

	for (; *q != '\0' && k + 1 < n; q++) {
		if (isspace((unsigned char)*q)) {
			if (k > 0 && out[k - 1] != ' ')
				out[k++] = ' ';
			continue;
		}
		out[k++] = (char)tolower((unsigned char)*q);
	}
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
}

json_t *
pdx_find(struct pdx_db *d, const char *query, int limit)
{
	struct cands c = { NULL, 0, 0 };
	char q[512], word[128];
	const char *p;
	json_t *res;
	size_t i;

	if (query == NULL) {
		pdx_set_error("no query");
		return NULL;
	}
	normalize(query, q, sizeof q);
	if (limit <= 0)
		limit = 20;
	/* numbers: those ports */
	for (p = q; *p != '\0';) {
		long long v;
		size_t n = strcspn(p, " ");

		snprintf(word, sizeof word, "%.*s",
		    (int)(n < sizeof word ? n : sizeof word - 1), p);
		if (pdx_parse_number(word, 0, 65535, "port", &v) == 0) {
			struct pdx_brief b;
			char text[64];

			snprintf(text, sizeof text, "port %lld", v);
			if (pdx_brief(d, (unsigned)v, PDX_TCP, &b) == 0 &&
			    *b.name != '\0')
				cand_add(&c, (int)v, (int)v, T_PORT, 0, b.name,
				    text, "port", 0.0);
			else
				cand_add(&c, (int)v, (int)v, T_PORT, 0, text,
				    text, "port", 0.0);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	/* names: the whole query as one name, and its synonyms */
	{
		char name[512];

		snprintf(name, sizeof name, "%s", q);
		for (i = 0; name[i] != '\0'; i++)
			if (name[i] == ' ')
				name[i] = '-';
		name_candidates(d, name, T_NAME, &c);
		for (i = 0; i < sizeof synonyms / sizeof *synonyms; i++) {
			const char *s;

			if (strcmp(synonyms[i].word, q) != 0)
				continue;
			for (s = synonyms[i].names; *s != '\0';) {
				size_t n = strcspn(s, " ");

				snprintf(word, sizeof word, "%.*s", (int)n, s);
				name_candidates(d, word, T_NAME, &c);
				s += n;
				while (*s == ' ')
					s++;
			}
			if (synonyms[i].curated != NULL)
				curated_candidates(d, synonyms[i].curated, &c);
		}
		if (q[strspn(q, "0123456789 ")] != '\0')
			prefix_candidates(d, name, &c);
	}
	if (q[strspn(q, "0123456789 ")] != '\0')
		curated_candidates(d, q, &c);
	if (fts_candidates(d, q, &c) != 0 && c.n == 0) {
		cands_free(&c);
		return NULL;
	}
	popularity(d, &c);
	if (c.n > 0)
		qsort(c.v, c.n, sizeof *c.v, by_rank);
	res = json_array();
	for (i = 0; i < c.n && (int)i < limit; i++)
		json_array_append_new(res,
		    json_pack("{s:s, s:s, s:s, s:o, s:i, s:i, s:f, s:i}",
			"name", c.v[i].name, "text", c.v[i].text, "kind",
			c.v[i].kind, "transports", protos_json(c.v[i].protos),
			"port", c.v[i].lo, "port_hi", c.v[i].hi, "score",
			(double)c.v[i].tier * 10.0 + c.v[i].pop, "tier",
			c.v[i].tier));
	cands_free(&c);
	return res;
}
