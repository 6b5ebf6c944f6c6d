/*
 * sql-on.h - for the unit tests that set up or damage a state database
 * with SQLite itself, outside the library (include after cmocka.h and
 * sqlite3.h).
 */
#ifndef PDX_TEST_SQL_ON_H
#define PDX_TEST_SQL_ON_H

/* Runs sql on the file at path; fails the test with SQLite's message. */
static void
sql_on(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg != NULL ? msg : "?");
	sqlite3_close(db);
}

#endif
