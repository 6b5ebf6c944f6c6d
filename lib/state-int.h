/*
 * state-int.h - the state database's handle, shared by state.c (opening,
 * migrations), notes.c (the notes) and notes-file.c (the notes file a card
 * reads without SQLite).
 */
#ifndef PDX_STATE_INT_H
#define PDX_STATE_INT_H
#include <limits.h>
#include <stdint.h>
#include <sqlite3.h>

#include "portdex.h"

/* A note as read, its strings in an arena. */
struct note_row {
	int id, port, proto;
	char *text, *author, *created;
};

struct pdx_state {
	sqlite3 *db;
	char *path;
	int readonly; /* opened by pdx_state_open_read */
	/* every note by port, id, once read (all is non-NULL then) */
	struct note_row *all; /* strings in arena */
	size_t nall;
	char *arena;	       /* every note's strings */
	sqlite3_stmt *dv;      /* PRAGMA data_version (read-write) */
	long long dv_at;       /* data_version when all was read */
	int migrated_from;     /* schema version before a migration */
	char backup[PATH_MAX]; /* copy kept before it, or "" */
	int counter_fd;	       /* pdx_state_file_counter: fd + 1 */
	/* all holds only these ports' notes (pdx_notes_load_ports), sorted */
	unsigned *only;
	size_t nonly;
	uint64_t *onlymap; /* the same as bits, when there are many, or NULL */
	struct pdx_nfile *nf; /* the notes file, when current */
};

/*
 * Opens SQLite on a handle pdx_state_open_read filled from the notes file
 * (nothing to do otherwise); 0, or -1 with the error set.
 */
int pdx_state_attach(struct pdx_state *);
/* Frees the notes read (s->all, arena, only). */
void pdx_notes_free(struct pdx_state *);
/* Sets the error of a failed SQLite call: the file, SQLite's words, advice. */
void pdx_state_fail(const char *path, sqlite3 *, int rc);
/* Whether the file is another application's database (its error set). */
int pdx_state_foreign(struct pdx_state *);

/*
 * notes-file.c.  Opens PATH.notes when it names the state file as it is
 * now, into s->nf (1); 0 when missing, stale or damaged (s unchanged).
 */
int pdx_nfile_open(struct pdx_state *);
/* The same from memory, with no state to compare (the fuzzer); or NULL. */
struct pdx_nfile *pdx_nfile_open_mem(const void *, size_t);
void pdx_nfile_close(struct pdx_nfile *);
/* Whether f is read in place (mapped): any number of ports is cheap. */
int pdx_nfile_mapped(const struct pdx_nfile *f);
/*
 * The notes of these ports (only: sorted and distinct; NULL: all) by port
 * and id into *rows (malloc'd, *nrows of them), their strings in *arena
 * (malloc'd).  0, or -1 if the file is damaged (nothing returned).
 */
int pdx_nfile_rows(const struct pdx_nfile *, const unsigned *only, size_t k,
    struct note_row **rows, size_t *nrows, char **arena);
/* After a read-write handle's commits: brings PATH.notes up to date. */
void pdx_nfile_update(struct pdx_state *);

#endif
