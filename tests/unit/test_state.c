/*
 * test_state.c - unit tests for lib/state.c, notes.c and notes-file.c: the
 * notes file (a reader answers from it without SQLite; stale, damaged or
 * gone, SQLite answers the same; a writer re-stamps or rewrites it), the
 * default path, creating and migrating the state database (with the copy
 * kept before a migration), notes (add, list by port then id, match, the per-socket
 * text lookup, remove), the read-only open (creates and changes no file,
 * refuses writes), a read-write handle seeing another connection's note,
 * and the one-line errors for a zero-length file, another application's
 * database, a newer schema and a file that is not a database.  Expected
 * values come from the contract in portdex.h, never from the code under
 * test.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "state-int.h"
#include "sql-on.h"
#include "assert-error.h"

static char tmpdir[256];

static int
setup_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/pdx-test-state-XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmpdir(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

/* How many entries the directory of the test has whose name starts so. */
static int
entries_starting(const char *prefix)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void
test_default_path(void **state)
{
	(void)state;
	setenv("PORTDEX_STATE", "/x/y/state.db", 1);
	assert_string_equal(pdx_default_state_path(), "/x/y/state.db");
	unsetenv("PORTDEX_STATE");
	setenv("XDG_STATE_HOME", "/xdg", 1);
	assert_string_equal(pdx_default_state_path(), "/xdg/portdex/state.db");
	/* a relative XDG_STATE_HOME is ignored (the spec wants absolute) */
	setenv("XDG_STATE_HOME", "rel", 1);
	setenv("HOME", "/home/u", 1);
	assert_string_equal(pdx_default_state_path(),
	    "/home/u/.local/state/portdex/state.db");
	unsetenv("XDG_STATE_HOME");
	assert_string_equal(pdx_default_state_path(),
	    "/home/u/.local/state/portdex/state.db");
}

static void
test_create_and_notes(void **state)
{
	char path[512];
	struct pdx_state *s;
	json_t *a, *n;
	size_t i;
	const int ports[] = { 443, 22, 443, 8080, 22 };
	const int protos[] = { PDX_TCP, 0, PDX_UDP, PDX_TCP, PDX_TCP };
	const char *texts[] = { "web front", "bastion ssh", "quic",
		"Proxy of the lab", "second on 22" };

	(void)state;
	path_of(path, sizeof path, "sub/dir/notes.db");
	s = pdx_state_open(path);
	if (s == NULL)
		fail_msg("open: %s", pdx_last_error());
	assert_string_equal(pdx_state_path(s), path);
	assert_null(pdx_state_backup(s, NULL)); /* a new file: no copy */
	for (i = 0; i < 5; i++)
		assert_int_equal(pdx_note_add(s, (unsigned)ports[i], protos[i],
				     texts[i]),
		    0);

	/* every note, by port then id (insertion order within a port) */
	a = pdx_notes(s, -1, NULL);
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 5);
	{
		const char *want[] = { "bastion ssh", "second on 22",
			"web front", "quic", "Proxy of the lab" };

		for (i = 0; i < 5; i++)
			assert_string_equal(json_string_value(json_object_get(
						json_array_get(a, i), "text")),
			    want[i]);
	}
	n = json_array_get(a, 0);
	assert_int_equal(json_integer_value(json_object_get(n, "port")), 22);
	assert_string_equal(json_string_value(json_object_get(n, "transport")),
	    "any");
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(a, 2),
				    "transport")),
	    "tcp");
	assert_true(
	    strlen(json_string_value(json_object_get(n, "created"))) == 20);
	json_decref(a);

	/* one port; a case-insensitive match */
	a = pdx_notes(s, 443, NULL);
	assert_int_equal(json_array_size(a), 2);
	json_decref(a);
	a = pdx_notes(s, -1, "PROXY");
	assert_int_equal(json_array_size(a), 1);
	assert_int_equal(json_integer_value(
			     json_object_get(json_array_get(a, 0), "port")),
	    8080);
	json_decref(a);
	a = pdx_notes(s, 9, NULL);
	assert_non_null(a); /* none: an empty list, not NULL */
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);

	/* the per-socket text: the first note for the transport or any */
	assert_int_equal(pdx_notes_load(s), 0);
	assert_string_equal(pdx_note_text(s, 22, PDX_UDP), "bastion ssh");
	assert_string_equal(pdx_note_text(s, 443, PDX_UDP), "quic");
	assert_string_equal(pdx_note_text(s, 443, PDX_TCP), "web front");
	assert_null(pdx_note_text(s, 8080, PDX_UDP));
	assert_null(pdx_note_text(s, 1, PDX_TCP));

	/* removing: one transport, then the rest; the lookup follows */
	assert_int_equal(pdx_note_rm(s, 443, PDX_TCP), 1);
	assert_string_equal(pdx_note_text(s, 443, PDX_UDP), "quic");
	assert_null(pdx_note_text(s, 443, PDX_TCP));
	assert_int_equal(pdx_note_rm(s, 22, 0), 2);
	assert_int_equal(pdx_note_rm(s, 22, 0), 0);
	a = pdx_notes(s, -1, NULL);
	assert_int_equal(json_array_size(a), 2);
	json_decref(a);

	/* bad notes are refused with the rule */
	assert_int_equal(pdx_note_add(s, 65536, 0, "x"), -1);
	assert_error_has("0-65535");
	assert_int_equal(pdx_note_add(s, 1, 0, ""), -1);
	assert_int_equal(pdx_note_add(s, 1, 0, NULL), -1);
	pdx_state_close(s);
	pdx_state_close(NULL);
}

static void
test_many_notes_sorted(void **state)
{
	char path[512];
	struct pdx_state *s;
	json_t *a;
	size_t i;
	int prev_port = -1, prev_id = -1, p;

	(void)state;
	path_of(path, sizeof path, "many.db");
	s = pdx_state_open(path);
	assert_non_null(s);
	/* ports out of order, several per port */
	for (i = 0; i < 300; i++) {
		char t[64];

		p = (int)((i * 7919) % 50);
		snprintf(t, sizeof t, "note %zu", i);
		assert_int_equal(pdx_note_add(s, (unsigned)p, 0, t), 0);
	}
	a = pdx_notes(s, -1, NULL);
	assert_int_equal(json_array_size(a), 300);
	for (i = 0; i < 300; i++) {
		json_t *n = json_array_get(a, i);
		int port = (int)json_integer_value(json_object_get(n, "port"));
		int id = (int)json_integer_value(json_object_get(n, "id"));

		assert_true(
		    port > prev_port || (port == prev_port && id > prev_id));
		prev_port = port;
		prev_id = id;
	}
	json_decref(a);
	pdx_state_close(s);
}

/*
 * A listing's many ports (more than 64: sorted through a bitmap, asked
 * about through one), duplicated and out of order, from the notes file
 * and from SQLite: each asked port's notes come back, a port not asked
 * loads every note, a port with none gives none.  A number that is no
 * port takes the sorting path.
 */
static void
test_many_ports_loaded(void **state)
{
	char path[512];
	struct pdx_state *s, *r;
	unsigned ports[200]; /* under PDX_NOTES_PORTS_MAX: SQLite too */
	size_t i;
	int round;

	(void)state;
	path_of(path, sizeof path, "manyports.db");
	s = pdx_state_open(path);
	assert_non_null(s);
	assert_int_equal(pdx_note_add(s, 200, PDX_TCP, "two hundred"), 0);
	assert_int_equal(pdx_note_add(s, 65535, 0, "last"), 0);
	assert_int_equal(pdx_note_add(s, 100, 0, "not asked"), 0);
	pdx_state_close(s);
	for (i = 0; i < 200; i++)
		ports[i] = (unsigned)(60000 - (i % 100) * 300); /* 100 twice */
	ports[17] = 200;
	ports[150] = 65535;
	for (round = 0; round < 4; round++) {
		char nf[600];

		if (round == 2) {
			/* without the notes file: SQLite answers */
			snprintf(nf, sizeof nf, "%s.notes", path);
			(void)unlink(nf);
		}
		ports[3] = round % 2 == 1 ? 70000 : 60000;
		r = pdx_state_open_read(path);
		assert_non_null(r);
		assert_int_equal(pdx_notes_load_ports(r, ports, 200), 0);
		/* those ports' notes only: 200 and 65535, not 100 */
		assert_int_equal(r->nall, 2);
		assert_non_null(r->onlymap);
		assert_string_equal(pdx_note_text(r, 200, PDX_TCP),
		    "two hundred");
		assert_null(pdx_note_text(r, 200, PDX_UDP));
		assert_string_equal(pdx_note_text(r, 65535, PDX_UDP), "last");
		assert_null(pdx_note_text(r, 60000, PDX_TCP));
		assert_null(pdx_note_text(r, 70000, PDX_TCP));
		/* not among the ports asked: every note is read then */
		assert_string_equal(pdx_note_text(r, 100, PDX_TCP),
		    "not asked");
		assert_string_equal(pdx_note_text(r, 200, PDX_TCP),
		    "two hundred");
		pdx_state_close(r);
	}
}

static void
test_read_only_open(void **state)
{
	char path[512], wal[600];
	struct pdx_state *s, *r;
	struct stat before, after;

	(void)state;
	path_of(path, sizeof path, "ro.db");
	s = pdx_state_open(path);
	assert_non_null(s);
	assert_int_equal(pdx_note_add(s, 5432, PDX_TCP, "pg of billing"), 0);
	pdx_state_close(s);
	snprintf(wal, sizeof wal, "%s-wal", path);
	assert_int_equal(stat(path, &before), 0);
	/* the file and the notes file its writer left (notes-file.c) */
	assert_int_equal(entries_starting("ro.db"), 2);

	r = pdx_state_open_read(path);
	if (r == NULL)
		fail_msg("open_read: %s", pdx_last_error());
	assert_int_equal(pdx_notes_load(r), 0);
	assert_string_equal(pdx_note_text(r, 5432, PDX_TCP), "pg of billing");
	/* a read-only handle refuses to write, with the error set */
	assert_int_equal(pdx_note_add(r, 1, 0, "no"), -1);
	assert_true(pdx_last_error()[0] != '\0');
	/* nothing created beside it, nothing changed */
	assert_int_equal(entries_starting("ro.db"), 2);
	pdx_state_close(r);
	assert_int_equal(entries_starting("ro.db"), 2);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	assert_int_equal(before.st_mtime, after.st_mtime);
	assert_int_not_equal(access(wal, F_OK), 0);
}

/* The inode and modification time of a file, to tell a rewrite. */
static void
stat_of(const char *path, struct stat *sb)
{
	if (stat(path, sb) != 0)
		fail_msg("%s: missing", path);
}

/* Flips one byte of a file at off. */
static void
flip_byte(const char *path, long off)
{
	FILE *f = fopen(path, "r+b");
	int c;

	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	c = fgetc(f);
	assert_int_not_equal(c, EOF);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	fputc(c ^ 0x5a, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * The notes file (notes-file.c): a writer leaves it; a reader answers
 * from it without SQLite; a change by another program, a damaged byte or
 * a removed file sends the reader to SQLite with the same answer; a
 * writer that changed no note re-stamps it in place.
 */
static void
test_notes_file(void **state)
{
	char path[512], nf[600];
	struct pdx_state *s, *r;
	struct stat a, b;
	json_t *n;

	(void)state;
	path_of(path, sizeof path, "nf.db");
	snprintf(nf, sizeof nf, "%s.notes", path);
	s = pdx_state_open(path);
	assert_non_null(s);
	assert_int_equal(pdx_note_add(s, 22, 0, "bastion"), 0);
	assert_int_equal(pdx_note_add(s, 5432, PDX_TCP, "pg of billing"), 0);
	assert_int_equal(pdx_note_add(s, 5432, PDX_UDP, "second"), 0);
	pdx_state_close(s);
	stat_of(nf, &a);

	/* answered from the file: no SQLite connection at all */
	r = pdx_state_open_read(path);
	assert_non_null(r);
	n = pdx_notes(r, 5432, NULL);
	assert_non_null(n);
	assert_int_equal(json_array_size(n), 2);
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(n, 1), "text")),
	    "second");
	json_decref(n);
	assert_string_equal(pdx_note_text(r, 22, PDX_TCP), "bastion");
	assert_null(pdx_note_text(r, 23, PDX_TCP));
	assert_null(r->db);
	n = pdx_notes(r, -1, NULL);
	assert_int_equal(json_array_size(n), 3);
	json_decref(n);
	assert_null(r->db);
	pdx_state_close(r);

	/* another program's change: stale, SQLite answers */
	sql_on(path, "UPDATE notes SET text = 'changed' WHERE port = 22");
	r = pdx_state_open_read(path);
	assert_non_null(r);
	assert_string_equal(pdx_note_text(r, 22, PDX_TCP), "changed");
	assert_non_null(r->db);
	pdx_state_close(r);

	/* a writer that changes no note re-stamps the file in place */
	s = pdx_state_open(path);
	assert_non_null(s);
	assert_int_equal(pdx_note_add(s, 80, 0, "web"), 0);
	pdx_state_close(s); /* rewritten: notes changed */
	stat_of(nf, &a);
	s = pdx_state_open(path);
	assert_non_null(s);
	assert_int_equal(sqlite3_exec(pdx_state_handle(s),
			     "INSERT INTO "
			     "audit_kv VALUES ('test', 'x')",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	pdx_state_close(s);
	stat_of(nf, &b);
	assert_int_equal(a.st_ino, b.st_ino);
	r = pdx_state_open_read(path);
	assert_non_null(r);
	assert_string_equal(pdx_note_text(r, 80, PDX_TCP), "web");
	assert_string_equal(pdx_note_text(r, 22, PDX_TCP), "changed");
	assert_null(r->db);
	pdx_state_close(r);

	/* a damaged byte in a port's notes: SQLite answers, the same */
	flip_byte(nf, (long)b.st_size - 3);
	r = pdx_state_open_read(path);
	assert_non_null(r);
	assert_string_equal(pdx_note_text(r, 80, PDX_TCP), "web");
	assert_non_null(r->db);
	pdx_state_close(r);
	/* a damaged header: the same */
	flip_byte(nf, 20);
	r = pdx_state_open_read(path);
	assert_non_null(r);
	assert_non_null(r->db);
	assert_string_equal(pdx_note_text(r, 5432, PDX_UDP), "second");
	pdx_state_close(r);
	/* a writer replaces a damaged file with a good one */
	s = pdx_state_open(path);
	assert_non_null(s);
	assert_int_equal(pdx_note_rm(s, 80, 0), 1);
	pdx_state_close(s);
	r = pdx_state_open_read(path);
	assert_non_null(r);
	assert_null(pdx_note_text(r, 80, PDX_TCP));
	assert_string_equal(pdx_note_text(r, 5432, PDX_TCP), "pg of billing");
	assert_null(r->db);
	pdx_state_close(r);
	/* gone: SQLite answers */
	assert_int_equal(unlink(nf), 0);
	r = pdx_state_open_read(path);
	assert_non_null(r);
	assert_string_equal(pdx_note_text(r, 22, PDX_TCP), "changed");
	assert_non_null(r->db);
	pdx_state_close(r);
}

static void
test_sees_other_connection(void **state)
{
	char path[512];
	struct pdx_state *a, *b;
	json_t *l;

	(void)state;
	path_of(path, sizeof path, "two.db");
	a = pdx_state_open(path);
	b = pdx_state_open(path);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(pdx_note_add(a, 1, 0, "first"), 0);
	l = pdx_notes(b, -1, NULL);
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	/* another connection adds one: b's next list has it */
	assert_int_equal(pdx_note_add(a, 2, 0, "second"), 0);
	l = pdx_notes(b, -1, NULL);
	assert_int_equal(json_array_size(l), 2);
	json_decref(l);
	pdx_state_close(a);
	pdx_state_close(b);
}

static void
test_damaged_and_foreign(void **state)
{
	char path[512];
	FILE *f;

	(void)state;
	/* zero-length */
	path_of(path, sizeof path, "zero.db");
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_null(pdx_state_open_read(path));
	assert_error_has("zero.db: empty");
	assert_error_has("portdex state check");

	/* not a database at all */
	path_of(path, sizeof path, "text.db");
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 2000; i++)
		fputs("this is not an SQLite file\n", f);
	fclose(f);
	assert_null(pdx_state_open_read(path));
	assert_error_has("text.db");
	assert_error_has("portdex state check");
	assert_null(pdx_state_open(path));
	assert_error_has("text.db");

	/* another application's database: refused, left alone */
	path_of(path, sizeof path, "other.db");
	sql_on(path,
	    "CREATE TABLE messages(x); INSERT INTO messages VALUES(1)");
	assert_null(pdx_state_open(path));
	assert_error_has("other.db: not a portdex state database");

	/* a newer schema */
	path_of(path, sizeof path, "newer.db");
	{
		struct pdx_state *s = pdx_state_open(path);

		assert_non_null(s);
		pdx_state_close(s);
	}
	sql_on(path, "PRAGMA user_version = 99");
	assert_null(pdx_state_open_read(path));
	assert_error_has("schema version 99 is newer");
	assert_null(pdx_state_open(path));
	assert_error_has("schema version 99 is newer");
}

static void
test_migration_keeps_copy(void **state)
{
	char path[512], copy[600];
	struct pdx_state *s;
	const char *b;
	int from = -1;
	json_t *a;

	(void)state;
	path_of(path, sizeof path, "v1.db");
	/* schema version 1 as an old portdex wrote it */
	sql_on(path,
	    "CREATE TABLE notes(id INTEGER PRIMARY KEY, port INTEGER"
	    " NOT NULL, proto INTEGER NOT NULL, text TEXT NOT NULL, author"
	    " TEXT NOT NULL, created TEXT NOT NULL);"
	    "CREATE INDEX notes_port ON notes(port);"
	    "INSERT INTO notes(port, proto, text, author, created) VALUES"
	    " (22, 0, 'from schema 1', 'old', '2020-01-01T00:00:00Z');"
	    "PRAGMA user_version = 1;");
	s = pdx_state_open(path);
	if (s == NULL)
		fail_msg("open: %s", pdx_last_error());
	b = pdx_state_backup(s, &from);
	snprintf(copy, sizeof copy, "%s.before-migration", path);
	assert_non_null(b);
	assert_string_equal(b, copy);
	assert_int_equal(from, 1);
	assert_int_equal(access(copy, R_OK), 0);
	/* the note survived; the copy is the old schema */
	a = pdx_notes(s, 22, NULL);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	assert_true(pdx_state_schema_version() > 1);
	pdx_state_close(s);
	{
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version",
				     -1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 1);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	/* opening again migrates nothing: no copy named */
	s = pdx_state_open(path);
	assert_non_null(s);
	assert_null(pdx_state_backup(s, NULL));
	pdx_state_close(s);
}

/* Schema 3's history (a row per listener per run) becomes spans. */
static void
test_history_to_spans(void **state)
{
	char path[512];
	struct pdx_state *s;
	sqlite3_stmt *st;
	int i;
	static const char *const want[] = {
		"80|1|2|p1",
		"80|4||p1",
		"81|1|2|p1",
		"81|3||p2",
		"82|1|1|p1",
	};

	(void)state;
	path_of(path, sizeof path, "v3.db");
	s = pdx_state_open(path);
	assert_non_null(s);
	pdx_state_close(s);
	/* back to schema 3 as an older portdex left it: 4 runs */
	sql_on(path,
	    "DROP TABLE audit_spans; DROP TABLE notes_rev;"
	    "DROP TRIGGER notes_rev_insert; DROP TRIGGER notes_rev_update;"
	    "DROP TRIGGER notes_rev_delete;"
	    "INSERT INTO audit_runs(id, at, scope, listeners, findings, worst,"
	    " complete) VALUES (1, 100, 'all tcp', 3, 0, 'none', 1),"
	    " (2, 200, 'all tcp', 2, 0, 'none', 1),"
	    " (3, 300, 'all tcp', 1, 0, 'none', 1),"
	    " (4, 400, 'all tcp', 2, 0, 'none', 1);"
	    "INSERT INTO audit_run_listeners VALUES"
	    " (1, 6, '127.0.0.1', 80, 'p1', 'u'), (2, 6, '127.0.0.1', 80, 'p1',"
	    " 'u'), (4, 6, '127.0.0.1', 80, 'p1', 'u'),"
	    " (1, 6, '127.0.0.1', 81, 'p1', 'u'), (2, 6, '127.0.0.1', 81, 'p1',"
	    " 'u'), (3, 6, '127.0.0.1', 81, 'p2', 'u'),"
	    " (4, 6, '127.0.0.1', 81, 'p2', 'u'),"
	    " (1, 6, '127.0.0.1', 82, 'p1', 'u');"
	    "PRAGMA user_version = 3;");
	s = pdx_state_open(path);
	if (s == NULL)
		fail_msg("open: %s", pdx_last_error());
	assert_non_null(pdx_state_backup(s, NULL));
	/* a gap (80 missing from run 3) and a new process split a span */
	assert_int_equal(
	    sqlite3_prepare_v2(pdx_state_handle(s),
		"SELECT"
		" port || '|' || first_run || '|' || COALESCE(last_run, '') ||"
		" '|' || process FROM audit_spans ORDER BY port, first_run",
		-1, &st, NULL),
	    SQLITE_OK);
	for (i = 0; i < 5; i++) {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0),
		    want[i]);
	}
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(pdx_state_handle(s),
			     "SELECT"
			     " COUNT(*) FROM audit_run_listeners",
			     -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	pdx_state_close(s);
}

static void
test_advice(void **state)
{
	(void)state;
	assert_non_null(
	    strstr(pdx_state_advice(SQLITE_CORRUPT), "portdex state check"));
	assert_non_null(
	    strstr(pdx_state_advice(SQLITE_NOTADB), "portdex state check"));
	assert_non_null(strstr(pdx_state_advice(SQLITE_BUSY), "try again"));
	assert_non_null(strstr(pdx_state_advice(SQLITE_READONLY), "mode"));
	assert_non_null(strstr(pdx_state_advice(SQLITE_FULL), "disk space"));
	/* extended codes are read by their primary code */
	assert_string_equal(pdx_state_advice(SQLITE_IOERR_READ),
	    pdx_state_advice(SQLITE_IOERR));
	assert_string_equal(pdx_state_advice(SQLITE_OK), "");
	assert_string_equal(pdx_state_advice(SQLITE_NOMEM), "");
	/* a damaged record can read as a huge string: still damage */
	assert_non_null(
	    strstr(pdx_state_advice(SQLITE_TOOBIG), "portdex state check"));
	assert_non_null(
	    strstr(pdx_state_advice(SQLITE_ERROR), "portdex state check"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_create_and_notes),
		cmocka_unit_test(test_many_notes_sorted),
		cmocka_unit_test(test_many_ports_loaded),
		cmocka_unit_test(test_read_only_open),
		cmocka_unit_test(test_notes_file),
		cmocka_unit_test(test_sees_other_connection),
		cmocka_unit_test(test_damaged_and_foreign),
		cmocka_unit_test(test_migration_keeps_copy),
		cmocka_unit_test(test_history_to_spans),
		cmocka_unit_test(test_advice),
	};

	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
