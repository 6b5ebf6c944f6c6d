/*
 * registry-int.h - what the library's own files share about the registry
 * database and are not part of the public API: the handle's layout and
 * the build-time hooks of risk.c and knowledge-import.c.
 */
#ifndef PDX_REGISTRY_INT_H
#define PDX_REGISTRY_INT_H

#include <sqlite3.h>

#include "portdex.h"

/*
 * The brief table's rows: transport index i, ports c * PDX_BRIEF_PORTS up
 * to the next row's first (4000 bytes: a row fits in one page), id
 * i * PDX_BRIEF_ROWS + c.  brief_names: row r holds names r * PDX_NAMES_ROW
 * to r * PDX_NAMES_ROW + PDX_NAMES_ROW - 1, each ending in a NUL.
 */
#define PDX_BRIEF_PORTS	1000
#define PDX_BRIEF_ROWS	66	/* ceil(65536 / PDX_BRIEF_PORTS) */
#define PDX_NAMES_ROW	64

struct pdx_names_row {
	char		*data;		/* NULL: not read yet */
	const char	*name[PDX_NAMES_ROW];
	unsigned	 n;
};

struct pdx_db {
	sqlite3		*db;
	char		*path;
	/*
	 * brief and brief_names are read a row (one page) at a time, through
	 * one blob handle per table that moves from row to row, and every row
	 * read is kept: a lookup costs a page read the first time its row is
	 * needed and nothing after.
	 */
	sqlite3_blob	*brief_blob, *names_blob;
	uint32_t	*brief[PDX_NPROTO][PDX_BRIEF_ROWS];
	struct pdx_names_row *names;	/* by row, grown on demand */
	size_t		 nnames_rows;
	char		*meta_buf;
	char		*rpc_name, *rpc_aliases;
};

/*
 * The registry schema version in meta: 2 since the brief words carry the
 * risk facts (a card's risk reasons need no query).
 */
#define PDX_REGISTRY_SCHEMA	2
#define PDX_REGISTRY_SCHEMA_S	"2"

/*
 * risk.c: fills the risk level (bits 4-7) and the risk facts (bits 8-15)
 * of every brief word from the rules that depend only on the registry and
 * the curated knowledge.
 */
int	pdx_risk_fill(sqlite3 *, uint32_t *words[PDX_NPROTO]);

/*
 * knowledge-db.c: fills related_by_port from the curated pairs and the
 * IANA rows (after both are in, and after the IANA indexes).
 */
int	pdx_related_build(sqlite3 *);

/* The brief word of port in transport index i; 0 or -1 with the error. */
int	pdx_brief_word(struct pdx_db *, int i, unsigned port, uint32_t *w);

/*
 * knowledge-import.c: loads data/uses.tsv and data/related.tsv into the
 * registry being built (tables uses, related, and their fts documents).
 * dir NULL: the installed or source data directory.
 */
int	pdx_knowledge_import(sqlite3 *, const char *dir, json_t *report,
	    int no_search);

/* knowledge-db.c: adds uses, related and risk sections to a card. */
void	pdx_card_knowledge(struct pdx_db *, json_t *card, unsigned port,
	    int protomask);
/* risk.c: the assessment of one port/transport ({level, reasons}). */
json_t	*pdx_risk_assess(struct pdx_db *, unsigned port, int proto,
	    int status);

/* Runs a prepared query helper: "SQL error" messages name the db file. */
int	pdx_db_prepare(struct pdx_db *, const char *sql, sqlite3_stmt **);

#endif
