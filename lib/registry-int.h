/*
 * registry-int.h - what the library's own files share about the registry
 * database and are not part of the public API: the handle's layout and
 * the build-time hooks of risk.c and knowledge-import.c.
 */
#ifndef PDX_REGISTRY_INT_H
#define PDX_REGISTRY_INT_H

#include <sqlite3.h>

#include "portdex.h"

struct pdx_db {
	sqlite3		*db;
	char		*path;
	/*
	 * brief table: the first lookups of a transport read single words
	 * through an open blob handle; past BRIEF_BULK of them the whole
	 * table of that transport is copied into memory.
	 */
	int		 names_loaded;
	uint32_t	*brief[PDX_NPROTO];
	sqlite3_blob	*brief_blob[PDX_NPROTO];
	unsigned	 brief_reads[PDX_NPROTO];
	char		*names;		/* NUL-separated, index 0 = "" */
	const char	**name_ptr;
	unsigned	 nnames;
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
