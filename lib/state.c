/*
 * state.c - the state database: the user's notes about ports, and the
 * versioned schema that votes, audit baselines and history add to.  A
 * rollback journal (synchronous=FULL) and a busy timeout let writers run
 * at once without losing a write, and a reader open the file read-only
 * creating nothing beside it (WAL would create -wal and -shm).  Never
 * rebuilt: migrations add (4 makes history spans) after a copy.  Notes
 * are read once a command (pdx_notes); state-recover.c salvages a file.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "db-int.h"
#include "state-int.h"
#include "util-int.h"

void
pdx_notes_free(struct pdx_state *s)
{
	free(s->all);
	free(s->arena);
	free(s->only);
	free(s->onlymap);
	s->only = NULL;
	s->onlymap = NULL;
	s->nonly = 0;
	s->all = NULL;
	s->arena = NULL;
	s->nall = 0;
}

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
	PDX_STATE_MIGRATION_4, /* 4: the audit history as spans (db-int.h) */
	/*
	 * 5: the notes' revision, a random value every change of a note
	 * replaces (whoever makes it), so that a writer knows whether the
	 * notes file (notes-file.c) still holds the notes
	 */
	"CREATE TABLE notes_rev(rev INTEGER NOT NULL);"
	"INSERT INTO notes_rev VALUES (random());"
	"CREATE TRIGGER notes_rev_insert AFTER INSERT ON notes"
	" BEGIN UPDATE notes_rev SET rev = random(); END;"
	"CREATE TRIGGER notes_rev_update AFTER UPDATE ON notes"
	" BEGIN UPDATE notes_rev SET rev = random(); END;"
	"CREATE TRIGGER notes_rev_delete AFTER DELETE ON notes"
	" BEGIN UPDATE notes_rev SET rev = random(); END;",
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
void
pdx_state_fail(const char *path, sqlite3 *db, int rc)
{
	const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	pdx_set_error("%s: %s%s", path, msg, pdx_state_advice(rc));
}

const char *
pdx_state_advice(int rc)
{
	switch (rc & 0xff) { /* damage shows as many codes (TOOBIG...) */
	case SQLITE_OK:
	case SQLITE_NOMEM:
		return "";
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
		return "; run 'portdex state check'";
	}
}

static int
state_exec(struct pdx_state *s, const char *sql)
{
	char *msg = NULL;
	int rc;

	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg)) != SQLITE_OK) {
		pdx_set_error("%s: %s%s", s->path,
		    msg != NULL ? msg : sqlite3_errmsg(s->db),
		    pdx_state_advice(sqlite3_extended_errcode(s->db)));
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
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK) {
		pdx_state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		pdx_state_fail(s->path, s->db, rc);
		return -1;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (*version < 0 || *version > NMIGRATIONS) { /* < 0: not ours */
		pdx_set_error(*version < 0
			? "%s: schema version %d is not "
			  "one portdex writes (its newest is %d): the header is "
			  "damaged; run 'portdex state check'"
			: "%s: schema version"
			  " %d is newer than this portdex knows (%d); use a newer "
			  "portdex",
		    s->path, *version, NMIGRATIONS);
		return -1;
	}
	return 0;
}

/* Whether the file is another application's database (its error set). */
int
pdx_state_foreign(struct pdx_state *s)
{
	sqlite3_stmt *st;
	int r = 0;

	if (sqlite3_prepare_v2(s->db,
		"SELECT NOT EXISTS (SELECT 1 FROM"
		" sqlite_master WHERE type = 'table' AND name = 'notes') AND"
		" EXISTS (SELECT 1 FROM sqlite_master)",
		-1, &st, NULL) != SQLITE_OK) {
		pdx_state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return 1;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0)) {
		pdx_set_error("%s: not a portdex state database (it has no "
			      "notes table); name another file with --state or "
			      "$PORTDEX_STATE",
		    s->path);
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
	    snprintf(tmp, sizeof tmp, "%s.tmp", s->backup) >= (int)sizeof tmp) {
		pdx_set_error("%s: path too long", s->path);
		return -1;
	}
	unlink(tmp);
	if ((rc = sqlite3_open_v2(tmp, &to,
		 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)) !=
	    SQLITE_OK)
		goto fail;
	if ((b = sqlite3_backup_init(to, "main", s->db, "main")) == NULL) {
		rc = sqlite3_errcode(to);
		goto fail;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		rc = sqlite3_errcode(to) != SQLITE_OK ? sqlite3_errcode(to)
						      : rc;
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
		      " %d: %s",
	    s->path, from,
	    to != NULL ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
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
	if (schema_version(s, &version) != 0 || pdx_state_foreign(s))
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
	if (sqlite3_open_v2(path, &s->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_FULLMUTEX,
		NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	/*
	 * DELETE: a reader opens the file read-only and creates nothing.  A
	 * file still in WAL (older portdex) that another connection holds
	 * open stays WAL until a later open; errors show in migrate().
	 */
	sqlite3_exec(s->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	/*
	 * secure_delete: a deleted note's bytes and freed pages are zeroed,
	 * whatever the SQLite build's default, so `state recover`, reading
	 * a damaged file page by page, never brings a deleted note back.
	 */
	if (state_exec(s, "PRAGMA synchronous=FULL") != 0 ||
	    state_exec(s, "PRAGMA foreign_keys=ON") != 0 ||
	    state_exec(s, "PRAGMA secure_delete=ON") != 0)
		goto fail;
	if (migrate(s) != 0)
		goto fail;
	return s;
fail:
	pdx_state_close(s);
	return NULL;
}

/* The read-only open through SQLite (pdx_state_open_read's second way). */
static struct pdx_state *
open_read_sqlite(const char *path)
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
		if ((rc = sqlite3_open_v2(path, &s->db,
			 SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL)) !=
		    SQLITE_OK) {
			if (access(path, R_OK) != 0)
				pdx_set_error("%s: cannot be read: %s; check "
					      "its owner and mode",
				    path, strerror(errno));
			else
				pdx_state_fail(path, s->db, rc);
			pdx_state_close(s);
			return NULL;
		}
		sqlite3_busy_timeout(s->db, 10000);
		if ((rc = schema_version(s, &version)) == 0 && version == 0 &&
		    !pdx_state_foreign(s)) {
			/* portdex never leaves a state database empty */
			pdx_set_error(
			    "%s: empty, no notes table (the file was "
			    "cut short or is not the one portdex wrote); run "
			    "'portdex state check'",
			    path);
			pdx_state_close(s);
			return NULL;
		} else if (rc == 0 && version > 0)
			return s;
		else if (rc == 0) {
			pdx_state_close(s); /* another application's */
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

/*
 * A command that only reads takes the notes from the notes file when it
 * names the state file as it is now: no SQLite at all (a card on a machine
 * with notes spent a quarter of its instructions opening the state and
 * parsing its schema).  SQLite is opened on the first other need.
 */
struct pdx_state *
pdx_state_open_read(const char *path)
{
	struct pdx_state *s;

	if ((s = calloc(1, sizeof *s)) != NULL &&
	    (s->path = strdup(path)) != NULL) {
		s->readonly = 1;
		if (pdx_nfile_open(s) == 1)
			return s;
	}
	pdx_state_close(s);
	return open_read_sqlite(path);
}

int
pdx_state_attach(struct pdx_state *s)
{
	struct pdx_state *t;

	if (s->db != NULL)
		return 0;
	if ((t = open_read_sqlite(s->path)) == NULL)
		return -1;
	s->db = t->db;
	t->db = NULL;
	pdx_state_close(t);
	return 0;
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
	if (!s->readonly && s->db != NULL)
		pdx_nfile_update(s); /* after this handle's commits */
	pdx_notes_free(s);
	pdx_nfile_close(s->nf);
	sqlite3_finalize(s->dv);
	if (s->counter_fd > 0)
		close(s->counter_fd - 1);
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
}

sqlite3 *
pdx_state_handle(struct pdx_state *s)
{
	return pdx_state_attach(s) == 0 ? s->db : NULL;
}

int
pdx_state_no_temp_files(struct pdx_state *s)
{
	if (pdx_state_attach(s) != 0)
		return -1;
	if (sqlite3_exec(s->db, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		pdx_set_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

/*
 * The header's file change counter (bytes 24-27), which every commit of
 * any connection increments in the rollback-journal mode the state file
 * is kept in.  Not kept in WAL mode (header bytes 18-19 = 2): -1 then.
 */
long long
pdx_state_file_counter(struct pdx_state *s)
{
	unsigned char h[28];

	if (s->counter_fd == 0) {
		int fd = open(s->path, O_RDONLY | O_CLOEXEC);

		s->counter_fd = fd >= 0 ? fd + 1 : -1;
	}
	if (s->counter_fd <= 0 ||
	    pread(s->counter_fd - 1, h, sizeof h, 0) != (ssize_t)sizeof h ||
	    memcmp(h, "SQLite format 3", 16) != 0 || h[18] == 2 || h[19] == 2)
		return -1;
	return (long long)((uint32_t)h[24] << 24 | (uint32_t)h[25] << 16 |
	    (uint32_t)h[26] << 8 | h[27]);
}

long long
pdx_state_data_version(struct pdx_state *s)
{
	long long v = -1;

	if (pdx_state_attach(s) != 0)
		return -1;
	if (s->dv == NULL &&
	    sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &s->dv,
		NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	if (sqlite3_step(s->dv) == SQLITE_ROW)
		v = sqlite3_column_int64(s->dv, 0);
	else
		pdx_set_error("%s: %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_reset(s->dv);
	return v;
}
