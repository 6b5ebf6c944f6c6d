/*
 * state.c - the state database: the user's notes about ports, and the
 * versioned schema that later features (votes, audit baselines and
 * history) add to.  A rollback journal (synchronous=FULL) and a busy
 * timeout let several writers run at once without losing a write, and let
 * a command that only reads open the file read-only without creating any
 * file beside it (WAL would create -wal and -shm even for a reader).
 * It is never rebuilt: migrations only add, after a copy of the file is
 * kept.  Notes are read through one way (pdx_notes): once per command
 * into memory, then looked up by port.  Checking and salvaging a damaged
 * database is state-recover.c's; the registry is registry*.c's.
 */
#include <errno.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"

struct pdx_state {
	sqlite3		*db;
	char		*path;
	int		 readonly;	/* opened by pdx_state_open_read */
	json_t		*all;		/* every note by port, id (or NULL) */
	sqlite3_stmt	*dv;		/* PRAGMA data_version (read-write) */
	long long	 dv_at;		/* data_version when all was read */
	int		 migrated_from;	/* schema version before a migration */
	char		 backup[PATH_MAX];	/* copy kept before it, or "" */
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

/*
 * Sets the error of a failed SQLite call on the state database: the file,
 * SQLite's words, and what the user can do about it.
 */
static void
state_fail(const char *path, sqlite3 *db, int rc)
{
	const char *msg = db != NULL ? sqlite3_errmsg(db) :
	    sqlite3_errstr(rc);

	pdx_set_error("%s: %s%s", path, msg, pdx_state_advice(rc));
}

const char *
pdx_state_advice(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
		return "; run 'portdex state check'";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "; another program holds it locked: try again when it"
		    " is done";
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_AUTH:
		return "; check the file's and its directory's owner and "
		    "mode";
	case SQLITE_FULL:
		return "; free disk space and try again";
	case SQLITE_IOERR:
		return "; check the disk, then run 'portdex state check'";
	default:
		return "";
	}
}

static int
state_exec(struct pdx_state *s, const char *sql)
{
	char *msg = NULL;
	int rc;

	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg)) != SQLITE_OK) {
		pdx_set_error("%s: %s%s", s->path, msg != NULL ? msg :
		    sqlite3_errmsg(s->db), pdx_state_advice(
		    sqlite3_extended_errcode(s->db)));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/*
 * The schema version, and whether the file holds portdex's notes table:
 * 0 or -1 with the error set (another application's database is said so).
 */
static int
schema_version(struct pdx_state *s, int *version)
{
	sqlite3_stmt *st;
	int rc;

	/* the header's field: no schema parse (a reader's whole check) */
	*version = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL)
	    != SQLITE_OK) {
		state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		state_fail(s->path, s->db, rc);
		return -1;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (*version > NMIGRATIONS) {
		pdx_set_error("%s: schema version %d is newer than this "
		    "portdex knows (%d); use a newer portdex", s->path,
		    *version, NMIGRATIONS);
		return -1;
	}
	return 0;
}

/* Whether the file is another application's database (its error set). */
static int
foreign(struct pdx_state *s)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT NOT EXISTS (SELECT 1 FROM"
	    " sqlite_master WHERE type = 'table' AND name = 'notes') AND"
	    " EXISTS (SELECT 1 FROM sqlite_master)", -1, &st, NULL) !=
	    SQLITE_OK) {
		state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return 1;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0)) {
		pdx_set_error("%s: not a portdex state database (it has no "
		    "notes table); name another file with --state or "
		    "$PORTDEX_STATE", s->path);
		r = 1;
	}
	sqlite3_finalize(st);
	return r;
}

/*
 * Copies the database to PATH.before-migration (one copy, replaced by the
 * next migration) with SQLite's backup API (a consistent snapshot).
 */
static int
keep_copy(struct pdx_state *s, int from)
{
	sqlite3 *to = NULL;
	sqlite3_backup *b;
	char tmp[PATH_MAX + 8];
	int rc;

	if (snprintf(s->backup, sizeof s->backup, "%s.before-migration",
	    s->path) >= (int)sizeof s->backup ||
	    snprintf(tmp, sizeof tmp, "%s.tmp", s->backup) >=
	    (int)sizeof tmp) {
		pdx_set_error("%s: path too long", s->path);
		return -1;
	}
	unlink(tmp);
	if ((rc = sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL)) != SQLITE_OK)
		goto fail;
	if ((b = sqlite3_backup_init(to, "main", s->db, "main")) == NULL) {
		rc = sqlite3_errcode(to);
		goto fail;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		rc = sqlite3_errcode(to) != SQLITE_OK ? sqlite3_errcode(to) :
		    rc;
		goto fail;
	}
	if (sqlite3_close(to) != SQLITE_OK || rename(tmp, s->backup) != 0) {
		pdx_set_error("%s: cannot keep a copy before migrating: %s",
		    s->backup, strerror(errno));
		unlink(tmp);
		s->backup[0] = '\0';
		return -1;
	}
	s->migrated_from = from;
	return 0;
fail:
	pdx_set_error("%s: cannot keep a copy before migrating it from schema"
	    " %d: %s", s->path, from, to != NULL ? sqlite3_errmsg(to) :
	    sqlite3_errstr(rc));
	sqlite3_close(to);
	unlink(tmp);
	s->backup[0] = '\0';
	return -1;
}

static int
migrate(struct pdx_state *s)
{
	int version = 0, i;
	char sql[64];

	/* the copy first: SQLite's backup cannot read inside our write */
	if (schema_version(s, &version) != 0 || foreign(s))
		return -1;
	if (version == NMIGRATIONS)
		return 0;
	if (version > 0 && keep_copy(s, version) != 0)
		return -1;
	if (state_exec(s, "BEGIN IMMEDIATE") != 0)
		return -1;
	/* another process may have migrated it meanwhile */
	if (schema_version(s, &version) != 0) {
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
	/*
	 * DELETE: a reader opens the file read-only and creates nothing.  A
	 * file still in WAL (older portdex) that another connection holds
	 * open stays WAL until a later open; errors show in migrate().
	 */
	sqlite3_exec(s->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	if (state_exec(s, "PRAGMA synchronous=FULL") != 0 ||
	    state_exec(s, "PRAGMA foreign_keys=ON") != 0)
		goto fail;
	if (migrate(s) != 0)
		goto fail;
	return s;
fail:
	pdx_state_close(s);
	return NULL;
}

struct pdx_state *
pdx_state_open_read(const char *path)
{
	struct pdx_state *s;
	int version, rc, tries;
	unsigned char hdr[20];
	FILE *f;

	/*
	 * A database an older portdex left in WAL mode would make even a
	 * read-only reader create -wal and -shm: it is turned to a rollback
	 * journal once, by the read-write open (bytes 18-19 of the header
	 * are 2 for WAL).
	 */
	if ((f = fopen(path, "rb")) != NULL) {
		if (fread(hdr, 1, sizeof hdr, f) == sizeof hdr &&
		    memcmp(hdr, "SQLite format 3", 16) == 0 &&
		    (hdr[18] == 2 || hdr[19] == 2) &&
		    (s = pdx_state_open(path)) != NULL)
			pdx_state_close(s);
		fclose(f);
	}
	for (tries = 0; tries < 2; tries++) {
		if ((s = calloc(1, sizeof *s)) == NULL ||
		    (s->path = strdup(path)) == NULL) {
			free(s);
			pdx_set_error("out of memory");
			return NULL;
		}
		s->readonly = 1;
		if ((rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_FULLMUTEX, NULL)) != SQLITE_OK) {
			if (access(path, R_OK) != 0)
				pdx_set_error("%s: cannot be read: %s; check "
				    "its owner and mode", path,
				    strerror(errno));
			else
				state_fail(path, s->db, rc);
			pdx_state_close(s);
			return NULL;
		}
		sqlite3_busy_timeout(s->db, 10000);
		if ((rc = schema_version(s, &version)) == 0 && version == 0 &&
		    !foreign(s)) {
			/* portdex never leaves a state database empty */
			pdx_set_error("%s: empty, no notes table (the file was "
			    "cut short or is not the one portdex wrote); run "
			    "'portdex state check'", path);
			pdx_state_close(s);
			return NULL;
		} else if (rc == 0 && version > 0)
			return s;
		else if (rc == 0) {
			pdx_state_close(s);	/* another application's */
			return NULL;
		}
		/*
		 * A hot journal (a writer died mid-transaction) needs a
		 * writer to roll it back: one read-write open does that.
		 */
		rc = sqlite3_extended_errcode(s->db);
		pdx_state_close(s);
		if (rc != SQLITE_READONLY_ROLLBACK || tries > 0)
			return NULL;
		if ((s = pdx_state_open(path)) == NULL)
			return NULL;
		pdx_state_close(s);
	}
	return NULL;
}

const char *
pdx_state_path(const struct pdx_state *s)
{
	return s->path;
}

const char *
pdx_state_backup(const struct pdx_state *s, int *from)
{
	if (from != NULL)
		*from = s->migrated_from;
	return s->backup[0] != '\0' ? s->backup : NULL;
}

int
pdx_state_schema_version(void)
{
	return NMIGRATIONS;
}

void
pdx_state_close(struct pdx_state *s)
{
	if (s == NULL)
		return;
	json_decref(s->all);
	sqlite3_finalize(s->dv);
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
		state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, when, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	json_decref(s->all);
	s->all = NULL;
	if (rc != SQLITE_DONE) {
		state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
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
		state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, (int)port);
	sqlite3_bind_int(st, 2, proto);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	json_decref(s->all);
	s->all = NULL;
	if (rc != SQLITE_DONE) {
		state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	return sqlite3_changes(s->db);
}

/*
 * Runs the notes query (port < 0: every note) into a new array ordered by
 * port, then id; NULL with the error set if any step fails, so a damaged
 * page is never mistaken for the end of the notes.
 */
static json_t *
query_notes(struct pdx_state *s, int port)
{
	sqlite3_stmt *st;
	json_t *a;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT port, proto, text, author,"
	    " created, id FROM notes WHERE (?1 < 0 OR port = ?1)"
	    " ORDER BY port, id", -1, &st, NULL) != SQLITE_OK) {
		if (!foreign(s))
			state_fail(s->path, s->db,
			    sqlite3_extended_errcode(s->db));
		return NULL;
	}
	sqlite3_bind_int(st, 1, port);
	a = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 2);
		const char *author = (const char *)sqlite3_column_text(st, 3);
		const char *created = (const char *)sqlite3_column_text(st, 4);

		json_array_append_new(a, json_pack(
		    "{s:i, s:i, s:s, s:s, s:s, s:s}",
		    "id", sqlite3_column_int(st, 5),
		    "port", sqlite3_column_int(st, 0),
		    "transport", sqlite3_column_int(st, 1) == 0 ? "any" :
		    pdx_proto_name(sqlite3_column_int(st, 1)),
		    "text", text != NULL ? text : "",
		    "author", author != NULL ? author : "",
		    "created", created != NULL ? created : ""));
	}
	if (rc != SQLITE_DONE) {
		state_fail(s->path, s->db, rc);
		sqlite3_finalize(st);
		json_decref(a);
		return NULL;
	}
	sqlite3_finalize(st);
	return a;
}

/* Whether another connection changed the file since the notes were read. */
static int
changed_elsewhere(struct pdx_state *s)
{
	long long v = -1;

	if (s->readonly)
		return 0;	/* a command's snapshot: read once */
	if (s->dv == NULL && sqlite3_prepare_v2(s->db, "PRAGMA data_version",
	    -1, &s->dv, NULL) != SQLITE_OK)
		return 1;
	if (sqlite3_step(s->dv) == SQLITE_ROW)
		v = sqlite3_column_int64(s->dv, 0);
	sqlite3_reset(s->dv);
	if (v != s->dv_at) {
		s->dv_at = v;
		return 1;
	}
	return 0;
}

/* ASCII case-insensitive substring, as SQL's LIKE '%m%' compares. */
static int
contains(const char *hay, const char *m)
{
	size_t n = strlen(m);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, m, n) == 0)
			return 1;
	return n == 0;
}

int
pdx_notes_load(struct pdx_state *s)
{
	json_t *a;

	if (s->all != NULL && !changed_elsewhere(s))
		return 0;
	if (!s->readonly && s->dv == NULL)
		changed_elsewhere(s);	/* remember the version read */
	if ((a = query_notes(s, -1)) == NULL)
		return -1;
	json_decref(s->all);
	s->all = a;
	return 0;
}

json_t *
pdx_notes(struct pdx_state *s, int port, const char *match)
{
	json_t *a;
	size_t lo, hi, i;

	/*
	 * One port's notes before any list was asked for (a card): the
	 * indexed query is cheaper than reading every note.
	 */
	if (s->all == NULL && port >= 0 && match == NULL)
		return query_notes(s, port);
	if (pdx_notes_load(s) != 0)
		return NULL;
	lo = 0;
	hi = json_array_size(s->all);
	if (port >= 0) {
		/* sorted by port: the first note of port */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (json_integer_value(json_object_get(json_array_get(
			    s->all, mid), "port")) < port)
				lo = mid + 1;
			else
				hi = mid;
		}
		hi = json_array_size(s->all);
	}
	a = json_array();
	for (i = lo; i < hi; i++) {
		json_t *n = json_array_get(s->all, i);

		if (port >= 0 && json_integer_value(json_object_get(n,
		    "port")) != port)
			break;
		if (match != NULL && !contains(json_string_value(
		    json_object_get(n, "text")), match))
			continue;
		json_array_append(a, n);
	}
	return a;
}
