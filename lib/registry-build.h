/*
 * registry-build.h - what the files of `portdex update` share: a registry
 * row kept in memory, the build in progress, and the steps each file
 * owns: importing the sources (registry-import.c), the derived tables
 * and search documents (registry-derive.c), the diff against the old
 * registry (registry-diff.c); registry-build.c runs the update.
 */
#ifndef PDX_REGISTRY_BUILD_H
#define PDX_REGISTRY_BUILD_H
#include <stdint.h>

#include <sqlite3.h>
#include <jansson.h>

#include "portdex.h"

#define MAX_SOURCE_SIZE (64u * 1024 * 1024)

struct nmap_rec;

/*
 * A registry row as it went into the iana table, kept in memory: the
 * brief table, the search documents and the diff are built from these
 * instead of reading the table back and sorting it in SQL.
 */
struct irow {
	const char *f[PDX_NCOLS]; /* point into buf */
	const char *was;	  /* into buf, or NULL */
	const char *origin;	  /* static: the source's kind */
	char *buf;
	int port_lo, port_hi; /* -1: no port (NULL) */
	int proto, status;
	long id; /* iana.id: the order of insertion */
};

/* A growable array of rows (the new registry's, or the old one's). */
struct rowset {
	struct irow *v;
	size_t n, cap;
};

struct build {
	sqlite3 *db;
	sqlite3_stmt *ins_svc, *ins_rpc, *ins_meta;
	const char *origin;
	long nrows;
	struct rowset rows; /* every row of table iana */
	int rows_are_iana;  /* origin 'iana' (the diff's rows) */
	struct nmap_rec *nmap;
	size_t nnmap, capnmap;
	char sources[4096]; /* "iana:FILE (date), ..." for meta */
	/* the brief table, kept for the brief file written at the end */
	uint32_t *bwords[PDX_NPROTO];
	char *bnames;
	uint32_t *boffs;
	uint32_t bnnames;
	size_t bnbytes;
	/* the malware rows of table uses, for the brief file (names strdup'd) */
	struct pdx_malware *bmal;
	size_t bnmal;
};

typedef int (*batch_bind_fn)(sqlite3_stmt *, int, size_t, void *);
typedef long (*parse_fn)(const char *, size_t, const char *, void *, void *);

/* Shared by the update's files (defined where their section is). */
int rb_add_service_as_iana(const struct pdx_service_entry *e, void *arg);
int rb_batch_insert(sqlite3 *db, const char *head, const char *tuple, int ncols,
    size_t per, size_t n, batch_bind_fn bind, void *arg, const char *what);
int rb_add_iana_row(const struct pdx_iana_row *r, void *arg);
long rb_import_file(struct build *b, json_t *report, const char *kind,
    const char *path, parse_fn parse, void *fn);
void rb_rowset_free(struct rowset *rs);
int rb_add_service(const struct pdx_service_entry *e, void *arg);
struct irow *
rb_rowset_add(struct rowset *rs, const char *const *f, const char *was);
int rb_store_iana(struct build *b);
int rb_store_nmap(struct build *b);
void rb_free_nmap(struct build *b);
int rb_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what);
int rb_exec_sql(sqlite3 *db, const char *sql, const char *what);
int rb_meta_set(struct build *b, const char *key, const char *value);
int rb_add_nmap(const struct pdx_nmap_entry *e, void *arg);
int rb_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
int rb_add_rpc(const struct pdx_rpc_entry *e, void *arg);
int rb_build_search(struct build *b, const char *tmp);
int rb_build_brief(struct build *b);
int rb_build_malware(struct build *b);
void rb_free_malware(struct build *b);
int rb_build_diff(sqlite3 *db, const struct rowset *nw, json_t *report);

#endif
