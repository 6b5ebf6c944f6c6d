/*
 * state.c - the state database: the user's notes about ports, and the
 * versioned schema that later features (votes, audit baselines and
 * history) add to.  WAL and a busy timeout let several writers run at
 * once without losing a write.  It is never rebuilt: migrations only add.
 * The registry (read-only, rebuilt by update) is registry*.c's.
 */
#include <errno.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"

struct pdx_state {
	sqlite3	*db;
	char	*path;
};

/* Each step moves the schema from version i to i + 1; never edit one. */
static const char *const migrations[] = {
	/* 1: notes */
	"CREATE TABLE notes(id INTEGER PRIMARY KEY, port INTEGER NOT NULL,"
	" proto INTEGER NOT NULL, text TEXT NOT NULL, author TEXT NOT NULL,"
	" created TEXT NOT NULL);"
	"CREATE INDEX notes_port ON notes(port);",
	/* 2: web votes (a count per port and choice), per-client limits */
	"CREATE TABLE votes(port INTEGER NOT NULL, choice TEXT NOT NULL"
	" CHECK (choice IN ('sad', 'meh', 'happy')),"
	" count INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (port, choice))"
	" WITHOUT ROWID;"
	"CREATE TABLE vote_clients(client TEXT NOT NULL, port INTEGER NOT NULL,"
	" at INTEGER NOT NULL);"
	"CREATE INDEX vote_clients_client ON vote_clients(client, at);",
	/* 3: audit baseline, bounded run history (lib/audit.c) */
	"CREATE TABLE audit_baseline(proto INTEGER NOT NULL,"
	" address TEXT NOT NULL, port INTEGER NOT NULL, process TEXT NOT NULL,"
	" user TEXT NOT NULL, saved INTEGER NOT NULL,"
	" PRIMARY KEY (proto, address, port)) WITHOUT ROWID;"
	"CREATE TABLE audit_kv(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE audit_runs(id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
	" scope TEXT NOT NULL, listeners INTEGER NOT NULL,"
	" findings INTEGER NOT NULL, worst TEXT NOT NULL,"
	" complete INTEGER NOT NULL);"
	"CREATE TABLE audit_run_listeners(run INTEGER NOT NULL"
	" REFERENCES audit_runs(id) ON DELETE CASCADE, proto INTEGER NOT NULL,"
	" address TEXT NOT NULL, port INTEGER NOT NULL, process TEXT NOT NULL,"
	" user TEXT NOT NULL, PRIMARY KEY (run, proto, address, port))"
	" WITHOUT ROWID;"
	"CREATE INDEX audit_run_listeners_key ON"
	" audit_run_listeners(proto, address, port);",
};
#define NMIGRATIONS (int)(sizeof migrations / sizeof *migrations)

const char *
pdx_default_state_path(void)
{
	static char buf[PATH_MAX];
	const char *e;

	if ((e = getenv("PORTDEX_STATE")) != NULL && *e != '\0')
		return e;
	if ((e = getenv("XDG_STATE_HOME")) != NULL && *e == '/')
		snprintf(buf, sizeof buf, "%s/portdex/state.db", e);
	else if ((e = getenv("HOME")) != NULL && *e == '/')
		snprintf(buf, sizeof buf, "%s/.local/state/portdex/state.db",
		    e);
	else
		snprintf(buf, sizeof buf, "/var/lib/portdex/state.db");
	return buf;
}

static int
mkdirs_for(const char *path)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static int
state_exec(struct pdx_state *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pdx_set_error("%s: %s", s->path, msg != NULL ? msg :
		    sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
migrate(struct pdx_state *s)
{
	sqlite3_stmt *st;
	int version = 0, i;
	char sql[64];

	if (state_exec(s, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL)
	    == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > NMIGRATIONS) {
		pdx_set_error("%s: schema version %d is newer than this "
		    "portdex knows (%d)", s->path, version, NMIGRATIONS);
		state_exec(s, "ROLLBACK");
		return -1;
	}
	for (i = version; i < NMIGRATIONS; i++) {
		if (state_exec(s, migrations[i]) != 0) {
			state_exec(s, "ROLLBACK");
			return -1;
		}
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", NMIGRATIONS);
	if (state_exec(s, sql) != 0 || state_exec(s, "COMMIT") != 0) {
		state_exec(s, "ROLLBACK");
		return -1;
	}
	return 0;
}

struct pdx_state *
pdx_state_open(const char *path)
{
	struct pdx_state *s;

	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		pdx_set_error("out of memory");
		return NULL;
	}
	if (mkdirs_for(path) != 0) {
		pdx_set_error("%s: cannot create its directory: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (state_exec(s, "PRAGMA journal_mode=WAL") != 0 ||
	    state_exec(s, "PRAGMA synchronous=NORMAL") != 0 ||
	    state_exec(s, "PRAGMA foreign_keys=ON") != 0)
		goto fail;
	if (migrate(s) != 0)
		goto fail;
	return s;
fail:
	pdx_state_close(s);
	return NULL;
}

void
pdx_state_close(struct pdx_state *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
}

void *
pdx_state_handle(struct pdx_state *s)
{
	return s->db;
}

int
pdx_note_add(struct pdx_state *s, unsigned port, int proto, const char *text)
{
	sqlite3_stmt *st;
	char when[32];
	const char *who = getenv("SUDO_USER");
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (port > 65535 || text == NULL || *text == '\0' ||
	    strlen(text) > 4096) {
		pdx_set_error("a note needs a port 0-65535 and a text of 1 to "
		    "4096 bytes");
		return -1;
	}
	if (who == NULL && (who = getenv("USER")) == NULL) {
		struct passwd *pw = getpwuid(getuid());

		who = pw != NULL ? pw->pw_name : "";
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO notes(port, proto, text,"
	    " author, created) VALUES (?,?,?,?,?)", -1, &st, NULL) !=
	    SQLITE_OK) {
		pdx_set_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, when, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int
pdx_note_rm(struct pdx_state *s, unsigned port, int proto)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM notes WHERE port = ?1 AND"
	    " (?2 = 0 OR proto = ?2)", -1, &st, NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	return sqlite3_changes(s->db);
}

json_t *
pdx_notes(struct pdx_state *s, int port, const char *match)
{
	sqlite3_stmt *st;
	json_t *a;

	if (sqlite3_prepare_v2(s->db, "SELECT port, proto, text, author,"
	    " created, id FROM notes WHERE (?1 < 0 OR port = ?1) AND (?2 IS NULL"
	    " OR text LIKE '%' || ?2 || '%') ORDER BY port, id", -1, &st,
	    NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		return NULL;
	}
	sqlite3_bind_int(st, 1, port);
	if (match != NULL)
		sqlite3_bind_text(st, 2, match, -1, SQLITE_STATIC);
	a = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_pack(
		    "{s:i, s:i, s:s, s:s, s:s, s:s}",
		    "id", sqlite3_column_int(st, 5),
		    "port", sqlite3_column_int(st, 0),
		    "transport", sqlite3_column_int(st, 1) == 0 ? "any" :
		    pdx_proto_name(sqlite3_column_int(st, 1)),
		    "text", (const char *)sqlite3_column_text(st, 2),
		    "author", (const char *)sqlite3_column_text(st, 3),
		    "created", (const char *)sqlite3_column_text(st, 4)));
	sqlite3_finalize(st);
	return a;
}
