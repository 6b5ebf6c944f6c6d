/*
 * db-int.h - the SQLite connections behind the library's handles, for the
 * library's own files and its tests.  The tool (src/) never sees them:
 * what it needs from a database is a library call (include/portdex.h).
 */
#ifndef PDX_DB_INT_H
#define PDX_DB_INT_H
#include <sqlite3.h>

#include "portdex.h"

/* The registry's connection (opened on first use; NULL with the error). */
sqlite3 *pdx_db_handle(struct pdx_db *);
/* The state database's connection (borrowed). */
sqlite3 *pdx_state_handle(struct pdx_state *);

/*
 * Schema 3's history (a row per listener per run in audit_run_listeners)
 * as schema 4's spans: each listener's runs of consecutive runs (by rank
 * among the runs kept) with the same process and user become one span,
 * open (last_run NULL) when it reaches the latest run.  Used by the
 * migration and by `state recover` on an older file.
 */
#define PDX_AUDIT_SPANS_FROM_ROWS \
	"INSERT OR REPLACE INTO audit_spans(proto, address, port, first_run," \
	" last_run, process, user) SELECT proto, address, port, MIN(run)," \
	" NULLIF(MAX(run), (SELECT MAX(id) FROM audit_runs)), process, user" \
	" FROM (SELECT l.proto, l.address, l.port, l.process, l.user, l.run," \
	" r.rn - ROW_NUMBER() OVER (PARTITION BY l.proto, l.address, l.port," \
	" l.process, l.user ORDER BY l.run) AS grp FROM audit_run_listeners l" \
	" JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM" \
	" audit_runs) r ON r.id = l.run)" \
	" GROUP BY proto, address, port, process, user, grp"

/*
 * Schema 4: the audit history as spans (lib/audit-history.c): one row per
 * listener and run of consecutive runs with the same process and user,
 * open (last_run NULL) while the listener is in the latest run, so a run
 * writes only what changed.  Schema 3's rows are converted; that table is
 * kept, empty (`state recover` converts an older file's rows the same way).
 */
#define PDX_STATE_MIGRATION_4 \
	"CREATE TABLE audit_spans(proto INTEGER NOT NULL," \
	" address TEXT NOT NULL, port INTEGER NOT NULL," \
	" first_run INTEGER NOT NULL, last_run INTEGER," \
	" process TEXT NOT NULL, user TEXT NOT NULL," \
	" PRIMARY KEY (proto, address, port, first_run)) WITHOUT ROWID;" \
	"CREATE INDEX audit_spans_last ON audit_spans(last_run, process," \
	" user);" PDX_AUDIT_SPANS_FROM_ROWS \
	"; DELETE FROM audit_run_listeners;"

#endif
