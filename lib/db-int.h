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
sqlite3	*pdx_db_handle(struct pdx_db *);
/* The state database's connection (borrowed). */
sqlite3	*pdx_state_handle(struct pdx_state *);

#endif
