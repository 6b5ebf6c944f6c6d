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
#include "util-int.h"

struct pdx_state {
	sqlite3		*db;
	char		*path;
	int		 readonly;	/* opened by pdx_state_open_read */
	/* every note by port, id, once read (all is non-NULL then) */
	struct note_row {
		int	 id, port, proto;
		char	*text, *author, *created;	/* in arena */
	}		*all;
	size_t		 nall;
	char		*arena;		/* every note's strings */
	sqlite3_stmt	*dv;		/* PRAGMA data_version (read-write) */
	long long	 dv_at;		/* data_version when all was read */
	int		 migrated_from;	/* schema version before a migration */
	char		 backup[PATH_MAX];	/* copy kept before it, or "" */
	int		 counter_fd;	/* pdx_state_file_counter: fd + 1 */
	/* all holds only these ports' notes (pdx_notes_load_ports), sorted */
	unsigned	*only;
	size_t		 nonly;
};

static void
free_rows(struct pdx_state *s)
{
	free(s->all);
	free(s->arena);
	free(s->only);
	s->only = NULL;
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
	PDX_STATE_MIGRATION_4,	/* 4: the audit history as spans (db-int.h) */
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
	switch (rc & 0xff) {	/* damage shows as many codes (TOOBIG...) */
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
	if (*version < 0 || *version > NMIGRATIONS) {	/* < 0: not ours */
		pdx_set_error(*version < 0 ? "%s: schema version %d is not "
		    "one portdex writes (its newest is %d): the header is "
		    "damaged; run 'portdex state check'" : "%s: schema version"
		    " %d is newer than this portdex knows (%d); use a newer "
		    "portdex", s->path, *version, NMIGRATIONS);
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
	free_rows(s);
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
	return s->db;
}

int
pdx_state_no_temp_files(struct pdx_state *s)
{
	if (sqlite3_exec(s->db, "PRAGMA temp_store=MEMORY", NULL, NULL,
	    NULL) != SQLITE_OK) {
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
		const char *f = sqlite3_db_filename(s->db, "main");
		int fd = f != NULL && *f != '\0' ? open(f, O_RDONLY |
		    O_CLOEXEC) : -1;

		s->counter_fd = fd >= 0 ? fd + 1 : -1;
	}
	if (s->counter_fd <= 0 || pread(s->counter_fd - 1, h, sizeof h, 0) !=
	    (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0 ||
	    h[18] == 2 || h[19] == 2)
		return -1;
	return (long long)((uint32_t)h[24] << 24 | (uint32_t)h[25] << 16 |
	    (uint32_t)h[26] << 8 | h[27]);
}

long long
pdx_state_data_version(struct pdx_state *s)
{
	long long v = -1;

	if (s->dv == NULL && sqlite3_prepare_v2(s->db, "PRAGMA data_version",
	    -1, &s->dv, NULL) != SQLITE_OK) {
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
	free_rows(s);
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
	free_rows(s);
	if (rc != SQLITE_DONE) {
		state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		return -1;
	}
	return sqlite3_changes(s->db);
}

/* A note as the API gives it (json_pack's format parsing costs more). */
static json_t *
note_json(int id, int port, int proto, const char *text, const char *author,
    const char *created)
{
	json_t *o = json_object();

	json_object_set_new_nocheck(o, "id", json_integer(id));
	json_object_set_new_nocheck(o, "port", json_integer(port));
	json_object_set_new_nocheck(o, "transport", json_string(proto == 0 ?
	    "any" : pdx_proto_name(proto)));
	json_object_set_new_nocheck(o, "text", pdx_json_clean(text != NULL ?
	    text : ""));	/* as read: a damaged page may garble it */
	json_object_set_new_nocheck(o, "author", pdx_json_clean(author !=
	    NULL ? author : ""));
	json_object_set_new_nocheck(o, "created", pdx_json_clean(created !=
	    NULL ? created : ""));
	return o;
}

/*
 * One port's notes by id into a new JSON array; -1 with the error set if
 * any step fails, so a damaged page is never mistaken for the end of the
 * notes (load_notes does the same for every note).
 */
static int
query_notes(struct pdx_state *s, int port, json_t **out)
{
	sqlite3_stmt *st;
	json_t *a;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT port, proto, text, author,"
	    " created, id FROM notes WHERE port = ?1 ORDER BY id", -1, &st,
	    NULL) != SQLITE_OK) {
		if (!foreign(s))
			state_fail(s->path, s->db,
			    sqlite3_extended_errcode(s->db));
		return -1;
	}
	sqlite3_bind_int(st, 1, port);
	a = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(a, note_json(sqlite3_column_int(st, 5),
		    sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3),
		    (const char *)sqlite3_column_text(st, 4)));
	if (rc != SQLITE_DONE) {
		state_fail(s->path, s->db, sqlite3_extended_errcode(s->db));
		sqlite3_finalize(st);
		json_decref(a);
		return -1;
	}
	sqlite3_finalize(st);
	*out = a;
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct note_row *x = a, *y = b;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Sorts rows by port, then id, when the scan gave them in increasing id
 * order (a rowid scan does) and every port is 0-65535: two stable passes
 * on the port's bytes.  A qsort of 1,000 notes cost a third of an `ls` on a
 * lived-in machine (bench/README.md).  0, or -1 when qsort must do it.
 */
static int
rows_radix_sort(struct note_row *rows, size_t n)
{
	struct note_row *tmp, *from = rows, *to;
	size_t count[256], i, sum, c;
	int shift;

	for (i = 0; i < n; i++)
		if (rows[i].port < 0 || rows[i].port > 65535 ||
		    (i > 0 && rows[i].id <= rows[i - 1].id))
			return -1;
	if ((tmp = malloc(n * sizeof *tmp)) == NULL)
		return -1;
	to = tmp;
	for (shift = 0; shift <= 8; shift += 8) {
		memset(count, 0, sizeof count);
		for (i = 0; i < n; i++)
			count[((unsigned)from[i].port >> shift) & 0xff]++;
		for (i = 0, sum = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			to[count[((unsigned)from[i].port >> shift) & 0xff]++] =
			    from[i];
		from = to;
		to = from == tmp ? rows : tmp;
	}
	/* two passes: the result is back in rows */
	free(tmp);
	return 0;
}

/* Append a column's text to the arena; its offset, or -1 (no memory). */
static long
arena_put(char **arena, size_t *len, size_t *cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	/*
	 * strlen, not sqlite3_column_bytes: each column call takes and drops
	 * the connection's mutex, and every reader of these strings stops at
	 * the first NUL anyway.
	 */
	size_t n = t != NULL ? strlen((const char *)t) : 0;
	size_t at = *len;

	if (*len + n + 1 > *cap) {
		size_t c = *cap == 0 ? 16384 : *cap;
		char *m;

		while (*len + n + 1 > c)
			c *= 2;
		if ((m = realloc(*arena, c)) == NULL)
			return -1;
		*arena = m;
		*cap = c;
	}
	if (n > 0)
		memcpy(*arena + at, t, n);
	(*arena)[at + n] = '\0';
	*len += n + 1;
	return (long)at;
}

/* Growing buffers of rows and their strings, read from a statement. */
struct rowbuf {
	struct note_row	*rows;
	size_t		 n, cap, len, acap;
	char		*arena;
	long		(*off)[3];	/* text, author, created in arena */
};

/* Appends the rows st gives (reset after); SQLITE_OK or the failure. */
static int
read_rows(sqlite3_stmt *st, struct rowbuf *b)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct note_row *r;
		int j;

		if (b->n == b->cap) {
			size_t c = b->cap * 2 + 64;
			struct note_row *m = realloc(b->rows, c * sizeof *m);
			void *o = m != NULL ? realloc(b->off, c *
			    sizeof *b->off) : NULL;

			if (m != NULL)
				b->rows = m;
			if (o == NULL)
				return SQLITE_NOMEM;
			b->off = o;
			b->cap = c;
		}
		r = &b->rows[b->n];
		r->id = sqlite3_column_int(st, 5);
		r->port = sqlite3_column_int(st, 0);
		r->proto = sqlite3_column_int(st, 1);
		for (j = 0; j < 3; j++)
			if ((b->off[b->n][j] = arena_put(&b->arena, &b->len,
			    &b->acap, st, 2 + j)) < 0)
				return SQLITE_NOMEM;
		b->n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Every note into s->all by port and id: a scan in rowid order, sorted here
 * (walking the port index would seek the table once a row).  Given only (k
 * sorted, distinct ports; taken), those ports' notes through the index.
 */
static int
load_notes(struct pdx_state *s, unsigned *only, size_t k)
{
	sqlite3_stmt *st;
	struct rowbuf b = { 0 };
	size_t i;
	int rc = SQLITE_OK;

	/*
	 * A command's read-only snapshot reads the pages straight from the
	 * mapped file: no page cache to fill (each fresh page of it a page
	 * fault) and a fault per 16 pages instead of a pread each.  Not for
	 * a card's one-port query: mapping and unmapping cost it more.
	 */
	if (s->readonly && only == NULL)
		sqlite3_exec(s->db, "PRAGMA mmap_size=268435456", NULL, NULL,
		    NULL);
	if (sqlite3_prepare_v2(s->db, only == NULL ? "SELECT port, proto, "
	    "text, author, created, id FROM notes" : "SELECT port, proto, "
	    "text, author, created, id FROM notes WHERE port = ?1 ORDER BY "
	    "id", -1, &st, NULL) != SQLITE_OK) {
		if (!foreign(s))
			state_fail(s->path, s->db,
			    sqlite3_extended_errcode(s->db));
		free(only);
		return -1;
	}
	if (only == NULL)
		rc = read_rows(st, &b);
	for (i = 0; only != NULL && i < k && rc == SQLITE_OK; i++) {
		sqlite3_bind_int(st, 1, (int)only[i]);
		rc = read_rows(st, &b);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		state_fail(s->path, s->db, rc == SQLITE_NOMEM ? rc :
		    sqlite3_extended_errcode(s->db));
		free(b.rows);
		free(b.off);
		free(b.arena);
		free(only);
		free_rows(s);
		return -1;
	}
	for (i = 0; i < b.n; i++) {
		b.rows[i].text = b.arena + b.off[i][0];
		b.rows[i].author = b.arena + b.off[i][1];
		b.rows[i].created = b.arena + b.off[i][2];
	}
	free(b.off);
	if (only == NULL && b.n > 1 && rows_radix_sort(b.rows, b.n) != 0)
		qsort(b.rows, b.n, sizeof *b.rows, row_cmp);
	free_rows(s);
	/* an empty result still marks the notes as read */
	s->all = b.rows != NULL ? b.rows : calloc(1, sizeof *b.rows);
	s->nall = b.n;
	s->arena = b.arena;
	s->only = only;
	s->nonly = k;
	if (s->all == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	return 0;
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
	if (s->all != NULL && s->only == NULL && !changed_elsewhere(s))
		return 0;
	if (!s->readonly && s->dv == NULL)
		changed_elsewhere(s);	/* remember the version read */
	return load_notes(s, NULL, 0);
}

static int
uns_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* 10 listeners, 1,000 notes: reading all was most of `ls --no-pids`. */
int
pdx_notes_load_ports(struct pdx_state *s, const unsigned *ports, size_t n)
{
	unsigned *only;
	size_t i, k = 0;

	if (!s->readonly || n > PDX_NOTES_PORTS_MAX || s->all != NULL)
		return pdx_notes_load(s);
	if ((only = malloc((n + 1) * sizeof *only)) == NULL)
		return pdx_set_error("out of memory"), -1;
	if (n > 0)
		memcpy(only, ports, n * sizeof *only);
	qsort(only, n, sizeof *only, uns_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || only[i] != only[k - 1])
			only[k++] = only[i];
	return load_notes(s, only, k);
}

/* Index of the first loaded note of port (nall if none). */
static size_t
first_of(const struct pdx_state *s, int port)
{
	size_t lo = 0, hi = s->nall;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->all[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

json_t *
pdx_notes(struct pdx_state *s, int port, const char *match)
{
	json_t *a;
	size_t i;

	/*
	 * One port's notes before any list was asked for (a card): the
	 * indexed query is cheaper than reading every note.
	 */
	if (s->all == NULL && port >= 0 && match == NULL)
		return query_notes(s, port, &a) == 0 ? a : NULL;
	if (pdx_notes_load(s) != 0)
		return NULL;
	a = json_array();
	for (i = port >= 0 ? first_of(s, port) : 0; i < s->nall; i++) {
		const struct note_row *r = &s->all[i];

		if (port >= 0 && r->port != port)
			break;
		if (match != NULL && !contains(r->text, match))
			continue;
		json_array_append_new(a, note_json(r->id, r->port, r->proto,
		    r->text, r->author, r->created));
	}
	return a;
}

const char *
pdx_note_text(struct pdx_state *s, unsigned port, int proto)
{
	size_t i;

	/*
	 * Read once: a caller asking per socket has loaded the notes for
	 * its command (a read-write handle would otherwise ask SQLite for
	 * the data version, taking and dropping a lock, once per socket).
	 */
	if (s == NULL || ((s->all == NULL || (s->only != NULL &&
	    !bsearch(&port, s->only, s->nonly, sizeof port, uns_cmp))) &&
	    pdx_notes_load(s) != 0))
		return NULL;
	for (i = first_of(s, (int)port); i < s->nall &&
	    s->all[i].port == (int)port; i++)
		if (s->all[i].proto == 0 || s->all[i].proto == proto)
			return s->all[i].text;
	return NULL;
}
