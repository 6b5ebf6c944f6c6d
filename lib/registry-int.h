/*
 * registry-int.h - what the library's own files share about the registry
 * database and are not part of the public API: the handle's layout and
 * the build-time hooks of risk.c and knowledge-db.c.
 */
#ifndef PDX_REGISTRY_INT_H
#define PDX_REGISTRY_INT_H

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"

/*
 * The brief table's rows: transport index i, ports c * PDX_BRIEF_PORTS up
 * to the next row's first (4000 bytes: a row fits in one page), id
 * i * PDX_BRIEF_ROWS + c.  brief_names: row r holds names r * PDX_NAMES_ROW
 * to r * PDX_NAMES_ROW + PDX_NAMES_ROW - 1, each ending in a NUL.
 */
#define PDX_BRIEF_PORTS 1000
#define PDX_BRIEF_ROWS 66 /* ceil(65536 / PDX_BRIEF_PORTS) */
#define PDX_NAMES_ROW 64

struct pdx_names_row {
	char *data; /* NULL: not read yet */
	const char *name[PDX_NAMES_ROW];
	unsigned n;
};

struct pdx_bfile;

struct pdx_db {
	sqlite3 *db; /* NULL until needed, with bf */
	char *path;
	/*
	 * pdx_db_open_brief: the brief file, when it matches the registry;
	 * pdx_brief() reads it and SQLite is opened on the first other need.
	 */
	struct pdx_bfile *bf;
	struct pdx_bfile *bf_dead; /* one that failed a read: kept, unused */
	/* pdx_db_open_card: the card file, when it matches the registry */
	struct pdx_cfile *cf;
	char *cf_note; /* why a damaged card file was not used */
	char *bf_note; /* why a damaged brief file was not used */
	char *bf_why;  /* why none was used (any reason) */
	/*
	 * brief and brief_names are read a row (one page) at a time, through
	 * one blob handle per table that moves from row to row, and every row
	 * read is kept: a lookup costs a page read the first time its row is
	 * needed and nothing after.
	 */
	sqlite3_blob *brief_blob, *names_blob;
	uint32_t *brief[PDX_NPROTO][PDX_BRIEF_ROWS];
	struct pdx_names_row *names; /* by row, grown on demand */
	size_t nnames_rows;
	char *meta_buf;
	char *rpc_name, *rpc_aliases;
};

/*
 * The registry schema version in meta: 2 since the brief words carry the
 * risk facts (a card's risk reasons need no query).
 */
#define PDX_REGISTRY_SCHEMA 2
#define PDX_REGISTRY_SCHEMA_S "2"

/*
 * briefs.c: the brief file beside the registry (REGISTRY.brief), a flat
 * copy of the brief table that `portdex ls` reads without SQLite.
 *
 * A registry is named by its size and three fields of its SQLite header:
 * the change counter (bumped by every write), user_version (a random
 * number each build sets) and application_id (PDX_REGISTRY_APPID).
 * pdx_regid_read returns 0 or -1 (error set).
 *
 * open returns PDX_BF_OK with *out set, or another value with the error
 * set: NONE (no file), STALE (made for another registry or in another
 * format: not an error), BAD (damaged).  reg: the registry's id, or NULL
 * not to check that the file belongs to it.  open_fd takes fd over.  word
 * and name return 0 or -1 (error set).
 */
#define PDX_REGISTRY_APPID 0x50445852 /* "PDXR" */

enum { PDX_BF_OK, PDX_BF_NONE, PDX_BF_STALE, PDX_BF_BAD };

struct pdx_regid {
	uint64_t size;
	unsigned char h[12];
};

int pdx_regid_read(const char *registry, struct pdx_regid *);
int pdx_bfile_open(const char *path, const struct pdx_regid *reg,
    struct pdx_bfile **out);
int pdx_bfile_open_fd(int fd, const char *path, const struct pdx_regid *reg,
    struct pdx_bfile **out);
int pdx_bfile_word(struct pdx_bfile *, int i, unsigned port, uint32_t *w);
int pdx_bfile_name(struct pdx_bfile *, uint32_t nid, const char **name);
void pdx_bfile_close(struct pdx_bfile *);

/* A malware row of table uses (audit's): ports lo-hi, transports mask. */
struct pdx_malware {
	unsigned lo, hi;
	int mask;
	const char *name;
};

/*
 * The file's malware rows, in name order, read and checked on the first
 * call; they stay valid until the file is closed.  0, or -1 (error set).
 */
int pdx_bfile_malware(struct pdx_bfile *, const struct pdx_malware **rows,
    size_t *n);
/*
 * Writes the brief file at path (mode 0644, fsync'd; removed on failure):
 * the words, nnames names in nbytes bytes at offsets offs (offs[0] = 0),
 * nmal malware rows (in name order), and the registry's id.
 */
int pdx_bfile_write(const char *path, uint32_t *const words[PDX_NPROTO],
    const char *names, const uint32_t *offs, uint32_t nnames, size_t nbytes,
    const struct pdx_malware *mal, size_t nmal, const struct pdx_regid *reg);

/*
 * registry.c: the registry's malware rows (SELECT port_lo, port_hi,
 * protomask, name FROM uses WHERE kind = 'malware' ORDER BY name), from
 * the brief file when the handle has one (SQLite is not opened), else
 * from SQL.  fn is called for each row in turn (the row is valid during
 * the call only) and stops the walk by returning non-zero.  0, or -1
 * with the error set (a damaged file is dropped, and SQL answers).
 */
int pdx_db_malware(struct pdx_db *,
    int (*fn)(void *arg, const struct pdx_malware *), void *arg);

/*
 * cardfile.c: the card file beside the registry (REGISTRY.card), the rows
 * of the tables a card reads, indexed by port, so that a card needs no
 * SQLite.  Each table's columns are those of the card's query of it.
 */
enum {
	PDX_CT_META,
	PDX_CT_IANA,
	PDX_CT_NMAP,
	PDX_CT_SERVICES,
	PDX_CT_USES,
	PDX_CT_RELATED,
	PDX_CT_N
};
enum { PDX_CV_NULL, PDX_CV_INT, PDX_CV_REAL, PDX_CV_TEXT };

struct pdx_cfile;
struct pdx_cbuild;

/* One value of a row (text borrowed from the port's rows as read). */
struct pdx_cval {
	int tag; /* PDX_CV_* */
	int64_t i;
	double d;
	const char *s;
};

/* The rows of one port, every table, in the tables' query order. */
struct pdx_cport {
	unsigned port;
	size_t n, ncol;
	struct {
		int table;
		size_t col;
	} * row;
	struct pdx_cval *col;
	unsigned char *data; /* the rows' bytes, read */
	size_t ndata;
	uint32_t last;
};

/*
 * Build: every row of the tables from the registry being built (before
 * COMMIT); write: the file at path for that registry's id (mode 0644,
 * fsync'd; removed on failure).  0 / NULL with the error set.
 */
struct pdx_cbuild *pdx_cbuild_make(sqlite3 *);
void pdx_cbuild_free(struct pdx_cbuild *);
int pdx_cfile_write(const char *path, const struct pdx_cbuild *,
    const struct pdx_regid *reg);
/*
 * Open as pdx_bfile_open (PDX_BF_*; reg NULL: no check of the registry);
 * open_mem reads a buffer that must outlive the handle.  port: the port's
 * rows, checked (checksums, bounds); 0, or -1 with the error set.
 */
int pdx_cfile_open(const char *path, const struct pdx_regid *reg,
    struct pdx_cfile **out);
int pdx_cfile_open_mem(const void *buf, size_t len, const char *path,
    const struct pdx_regid *reg, struct pdx_cfile **out);
void pdx_cfile_close(struct pdx_cfile *);
int pdx_cfile_port(const struct pdx_cfile *, unsigned port, struct pdx_cport *);
void pdx_cport_free(struct pdx_cport *);
int64_t pdx_cval_int(const struct pdx_cval *);

/*
 * registry.c: the rows of port from the handle's card file into *buf
 * (pdx_cport_free it), or NULL: no card file, or a damaged one, which the
 * handle then drops and notes (pdx_db_card_note): ask the registry.
 */
const struct pdx_cport *
pdx_db_card_rows(struct pdx_db *, unsigned port, struct pdx_cport *buf);

/*
 * A query's rows, from SQLite or from a port's rows of the card file (cp
 * not NULL): open binds ?1 = b1 and ?2 = b2 when sql has them; with cp it
 * applies what the card's queries ask beyond the port (uses: protomask &
 * b2; related: the first 40).  step: 1 a row, 0 the end, -1 an error
 * (set).  The column accessors are sqlite3_column_*'s.
 */
struct pdx_rows {
	struct pdx_db *d;
	sqlite3_stmt *st;
	const struct pdx_cport *cp;
	const struct pdx_cval *cur;
	int table, b2, failed;
	size_t next, seen;
	char num[32];
};
int pdx_rows_open(struct pdx_db *, const struct pdx_cport *cp, int table,
    const char *sql, int b1, int b2, struct pdx_rows *);
int pdx_rows_step(struct pdx_rows *);
void pdx_rows_end(struct pdx_rows *);
int pdx_rows_int(struct pdx_rows *, int col);
double pdx_rows_double(struct pdx_rows *, int col);
const char *pdx_rows_text(struct pdx_rows *, int col);
int pdx_rows_null(struct pdx_rows *, int col);

/*
 * risk.c: fills the risk level (bits 4-7) and the risk facts (bits 8-15)
 * of every brief word from the rules that depend only on the registry and
 * the curated knowledge.
 */
int pdx_risk_fill(sqlite3 *, uint32_t *words[PDX_NPROTO]);

/*
 * knowledge-db.c: fills related_by_port from the curated pairs and the
 * IANA rows (after both are in, and after the IANA indexes).
 */
int pdx_related_build(sqlite3 *);

/* The brief word of port in transport index i; 0 or -1 with the error. */
int pdx_brief_word(struct pdx_db *, int i, unsigned port, uint32_t *w);

/*
 * knowledge-db.c: loads the files of data/uses/ and data/related.tsv into the
 * registry being built (tables uses, related, and their fts documents).
 * dir NULL: the installed or source data directory.
 */
int
pdx_knowledge_import(sqlite3 *, const char *dir, json_t *report, int no_search);

/*
 * knowledge-db.c: adds uses, related and risk sections to a card (cp: the
 * port's rows from the card file, or NULL: the registry's).
 */
void pdx_card_knowledge(struct pdx_db *, const struct pdx_cport *cp,
    json_t *card, unsigned port, int protomask);
/* risk.c: the assessment of one port/transport ({level, reasons}). */
json_t *pdx_risk_assess(struct pdx_db *, unsigned port, int proto, int status);
/*
 * The same reasons without the JSON (audit): bit i for the rules table's
 * rule i, in the order of the reasons; *what the words a family rule's
 * reason has as "what" (NULL: none).  pdx_risk_reason_id() gives rule i's
 * id and whether it is a family rule (NULL past the last rule).
 */
uint32_t pdx_risk_reason_bits(struct pdx_db *, unsigned port, int proto,
    int status, const char **what);
const char *pdx_risk_reason_id(unsigned i, int *family);

/* Runs a prepared query helper: "SQL error" messages name the db file. */
int pdx_db_prepare(struct pdx_db *, const char *sql, sqlite3_stmt **);
/*
 * Whether the database has the table (the curated tables are optional).
 * Asks the schema SQLite has already loaded: no statement is compiled.
 */
int pdx_sqlite_has_table(sqlite3 *, const char *name);
#define pdx_db_has_table(d, name) pdx_sqlite_has_table(pdx_db_handle(d), (name))

/* registry.c: the IANA columns' names in JSON, in file order. */
extern const char *const pdx_iana_json_keys[PDX_NCOLS];

#endif
