/*
 * votes.c - the "was this page helpful?" votes: casting one (inside a
 * transaction that checks the client's rate limit, prunes old limit rows
 * and bumps the count), reading the counts, and the rate-limit key of a
 * client address.  The tables come from state.c's migration 2; the web
 * form and its HTTP answers belong to the tool (src/serve*.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "portdex/votes.h"

static const char *const choice_names[PDX_NVOTES] = {
	"sad",
	"meh",
	"happy",
};

const char *
pdx_vote_choice_name(int c)
{
	if (c < 0 || c >= PDX_NVOTES)
		return NULL;
	return choice_names[c];
}

int
pdx_vote_choice_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < PDX_NVOTES; i++)
		if (strcmp(s, choice_names[i]) == 0)
			return i;
	return -1;
}

static int
db_fail(sqlite3 *db, const char *what)
{
	pdx_set_error("state database: %s: %s", what, sqlite3_errmsg(db));
	return -1;
}

/* Runs sql with up to three integer/text bindings; -1 on failure. */
static int
run(sqlite3 *db, const char *sql, const char *text, long long a, long long b)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "prepare");
	if (text != NULL)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(db, "step");
	return 0;
}

/* One integer from a query with the same bindings as run(), or -1. */
static long long
scalar(sqlite3 *db, const char *sql, const char *text, long long a, long long b)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "prepare");
	if (text != NULL)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a);
	sqlite3_bind_int64(st, 3, b);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL
		    ? 0
		    : sqlite3_column_int64(st, 0);
	else
		db_fail(db, "step");
	sqlite3_finalize(st);
	return v;
}

/*
 * The seconds until client may vote for port again (0: now), or -1.
 * The oldest vote in the window decides when the window frees a slot.
 */
static long long
wait_needed(sqlite3 *db, const char *client, unsigned port,
    const struct pdx_vote_limits *l, time_t now)
{
	long long last, n, oldest, wait = 0;

	if (l->per_port_s > 0) {
		last = scalar(db,
		    "SELECT max(at) FROM vote_clients WHERE"
		    " client = ?1 AND port = ?2 AND at > ?3",
		    client, port, (long long)now - l->per_port_s);
		if (last < 0)
			return -1;
		if (last > 0)
			wait = last + l->per_port_s - (long long)now;
	}
	if (l->window_s > 0 && l->max_votes > 0) {
		n = scalar(db,
		    "SELECT count(*) FROM vote_clients WHERE"
		    " client = ?1 AND at > ?3",
		    client, 0, (long long)now - l->window_s);
		if (n < 0)
			return -1;
		if (n >= l->max_votes) {
			oldest = scalar(db,
			    "SELECT min(at) FROM vote_clients"
			    " WHERE client = ?1 AND at > ?3",
			    client, 0, (long long)now - l->window_s);
			if (oldest < 0)
				return -1;
			if (oldest + l->window_s - (long long)now > wait)
				wait = oldest + l->window_s - (long long)now;
		}
	}
	return wait > 0 ? wait : 0;
}

int
pdx_vote_cast(struct pdx_state *s, unsigned port, int choice,
    const char *client, const struct pdx_vote_limits *lim, time_t now,
    long *retry_s)
{
	static const struct pdx_vote_limits none = { 0, 0, 0 };
	sqlite3 *db;
	long long wait, keep;

	if (retry_s != NULL)
		*retry_s = 0;
	if (s == NULL || port > 65535 || pdx_vote_choice_name(choice) == NULL ||
	    client == NULL || strlen(client) > 64) {
		pdx_set_error(
		    "a vote needs a port 0-65535, a choice (sad, "
		    "meh or happy) and a client key of at most 64 bytes");
		return -1;
	}
	if (lim == NULL)
		lim = &none;
	if ((db = pdx_state_handle(s)) == NULL)
		return -1;
	if (run(db, "BEGIN IMMEDIATE", NULL, 0, 0) != 0)
		return -1;
	/* Rows older than either window can no longer matter. */
	keep = lim->per_port_s > lim->window_s ? lim->per_port_s
					       : lim->window_s;
	if (run(db, "DELETE FROM vote_clients WHERE at <= ?2", NULL,
		(long long)now - keep, 0) != 0)
		goto fail;
	if ((wait = wait_needed(db, client, port, lim, now)) < 0)
		goto fail;
	if (wait > 0) {
		run(db, "COMMIT", NULL, 0, 0);
		if (retry_s != NULL)
			*retry_s = (long)wait;
		return 1;
	}
	if (keep > 0 &&
	    run(db,
		"INSERT INTO vote_clients(client, port, at)"
		" VALUES (?1, ?2, ?3)",
		client, port, (long long)now) != 0)
		goto fail;
	if (run(db,
		"INSERT INTO votes(port, choice, count) VALUES (?2, ?1, 1)"
		" ON CONFLICT (port, choice) DO UPDATE SET count = count + 1",
		choice_names[choice], port, 0) != 0)
		goto fail;
	if (run(db, "COMMIT", NULL, 0, 0) != 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
pdx_vote_counts(struct pdx_state *s, unsigned port,
    long long counts[PDX_NVOTES])
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int c, rc;

	memset(counts, 0, PDX_NVOTES * sizeof *counts);
	if (s == NULL || port > 65535) {
		pdx_set_error("vote counts need a state database and a port "
			      "0-65535");
		return -1;
	}
	if ((db = pdx_state_handle(s)) == NULL)
		return -1;
	if (sqlite3_prepare_v2(db,
		"SELECT choice, count FROM votes WHERE"
		" port = ?",
		-1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "prepare");
	sqlite3_bind_int(st, 1, (int)port);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c = pdx_vote_choice_parse(
		    (const char *)sqlite3_column_text(st, 0));
		if (c >= 0)
			counts[c] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, "step");
	return 0;
}

json_t *
pdx_votes_json(struct pdx_state *s, unsigned port)
{
	long long n[PDX_NVOTES];
	json_t *o;
	int i;

	if (pdx_vote_counts(s, port, n) != 0)
		return NULL;
	if ((o = json_object()) == NULL)
		goto oom;
	for (i = 0; i < PDX_NVOTES; i++)
		if (json_object_set_new(o, choice_names[i],
			json_integer(n[i])) != 0) {
			json_decref(o);
			goto oom;
		}
	return o;
oom:
	pdx_set_error("out of memory");
	return NULL;
}

int
pdx_vote_client_key(const void *sa, char *buf, size_t size)
{
	const struct sockaddr *s = sa;
	char a[INET6_ADDRSTRLEN];

	if (s == NULL || size < 64) {
		pdx_set_error("client key: no address or a short buffer");
		return -1;
	}
	if (s->sa_family == AF_INET) {
		const struct sockaddr_in *in = sa;

		inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)size);
		return 0;
	}
	if (s->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = sa;
		struct in6_addr p = in6->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&p)) {
			inet_ntop(AF_INET, &p.s6_addr[12], buf,
			    (socklen_t)size);
			return 0;
		}
		memset(&p.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &p, a, sizeof a);
		snprintf(buf, size, "%s/64", a);
		return 0;
	}
	pdx_set_error("client key: address family %d is not IP",
	    (int)s->sa_family);
	return -1;
}
