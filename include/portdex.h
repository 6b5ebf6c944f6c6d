/*
 * portdex.h - the public API of libportdex (prefix pdx_).
 *
 * The library owns the data: the registry database (IANA rows, nmap
 * frequencies, RPC names, curated knowledge, the search index), the state
 * database (notes, votes, baselines), the parsers for every source format,
 * and the card model.  It never prints and never exits: every function that
 * can fail returns a negative value or NULL and leaves a message for
 * pdx_last_error().  Presentation (text, HTML) belongs to the tool.
 *
 * Card and search results are jansson json_t trees: the text renderer, the
 * --json output and the web pages all walk the same tree.
 */
#ifndef PORTDEX_H
#define PORTDEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/*
 * What include/ declares is libportdex's API, and only that is exported
 * from libportdex.so: the library is built with hidden visibility
 * (CMakeLists.txt) and every public header wraps its declarations in
 * PDX_API_BEGIN ... PDX_API_END.  tests/meta/exports.sh compares the
 * exported symbols with these declarations.
 */
#if defined(__GNUC__) || defined(__clang__)
#define PDX_API_BEGIN _Pragma("GCC visibility push(default)")
#define PDX_API_END _Pragma("GCC visibility pop")
#else
#define PDX_API_BEGIN
#define PDX_API_END
#endif

PDX_API_BEGIN

#define PDX_VERSION "0.1.0"
#define PDX_CARD_SCHEMA 2

/* ---- the process ----------------------------------------------------- */

/*
 * Process-wide settings for a short-lived command, before any other call:
 * SQLite keeps no allocation statistics and allocates no page cache ahead
 * of use.  Optional; a program that embeds SQLite itself may skip it.
 */
void pdx_init(void);
/*
 * Reading files in place.  Once a program allows it, the library reads
 * its brief and notes files by mapping them (their pages come from the
 * page cache, with no copy).  Such a program must catch SIGBUS: should
 * another program cut a mapped file short, a read past its new end raises
 * it (portdex itself replaces these files by rename, never in place).
 * pdx_mapped_path, safe in a signal handler, names the file mapped at an
 * address, or gives NULL: the fault is not the library's.  Off by default.
 */
void pdx_map_allow(int on);
/*
 * The process is about to exit: from now on the library leaves the
 * mappings it releases (a socket listing's vector, the mapped brief and
 * notes files) to the kernel's teardown at exit, which is cheaper than
 * unmapping them one at a time (0.4 ms of a 7 ms `portdex ls`).  What it
 * took from malloc is still freed.  Not for a program that goes on.
 */
void pdx_exit_soon(void);
const char *pdx_mapped_path(const void *addr);

/* ---- errors ---------------------------------------------------------- */

/* The message left by the last failing call in this thread. */
const char *pdx_last_error(void);
/* Printf-style: set the message (used by the library and its tests). */
void pdx_set_error(const char *, ...) __attribute__((format(printf, 1, 2)));

/* ---- numbers, protocols, port sets ----------------------------------- */

/*
 * Parse a whole decimal number in [lo, hi].  On error returns -1 and the
 * message names the input ("port '70000' is out of range 0-65535").
 * what is the noun used in the message ("port", "count", ...).
 */
int pdx_parse_number(const char *s, long long lo, long long hi,
    const char *what, long long *out);

enum pdx_proto {
	PDX_TCP = 1,
	PDX_UDP = 2,
	PDX_SCTP = 4,
	PDX_DCCP = 8,
};
#define PDX_PROTO_ALL (PDX_TCP | PDX_UDP | PDX_SCTP | PDX_DCCP)
#define PDX_NPROTO 4

/* "tcp" for PDX_TCP; "" for 0 (a row that covers every transport). */
const char *pdx_proto_name(int proto);
/* Returns the PDX_* bit for a name ("tcp", "UDP"), 0 if unknown. */
int pdx_proto_parse(const char *name);
/* Index 0..3 of a single proto bit. */
int pdx_proto_index(int proto);

/* A set of ports 0..65535, parsed from "22,80,8000-8100" or "-" (all). */
struct pdx_portset {
	uint64_t bits[65536 / 64];
	unsigned count;
};
void pdx_portset_clear(struct pdx_portset *);
void pdx_portset_add(struct pdx_portset *, unsigned lo, unsigned hi);
int pdx_portset_has(const struct pdx_portset *, unsigned port);
/* Returns 0 or -1 (bad spec, message names the bad element). */
int pdx_portset_parse(struct pdx_portset *, const char *spec);
/* Next port >= from in the set, or -1. */
int pdx_portset_next(const struct pdx_portset *, int from);

/* ---- ranges of the port space ---------------------------------------- */

enum pdx_range_class {
	PDX_RANGE_SYSTEM,  /* 0-1023 */
	PDX_RANGE_USER,	   /* 1024-49151 */
	PDX_RANGE_DYNAMIC, /* 49152-65535 */
};
int pdx_range_class(unsigned port);
const char *pdx_range_class_name(int);
/*
 * This kernel's ephemeral range from path (NULL: the /proc default).
 * Returns 0 and sets *lo, *hi, or -1 when it cannot be read.
 */
int pdx_ephemeral_range(const char *path, unsigned *lo, unsigned *hi);

/* ---- status of an assignment ----------------------------------------- */

enum pdx_status {
	PDX_ST_UNASSIGNED = 0,
	PDX_ST_RESERVED,
	PDX_ST_DEREGISTERED,
	PDX_ST_HISTORIC,
	PDX_ST_ASSIGNED,
};
const char *pdx_status_name(int);

/* Risk levels, shared by the card, ls, audit and scan. */
enum pdx_level {
	PDX_LEVEL_NONE = 0,
	PDX_LEVEL_INFO,
	PDX_LEVEL_LOW,
	PDX_LEVEL_MEDIUM,
	PDX_LEVEL_HIGH,
};
const char *pdx_level_name(int);
/* Returns the level for "info".."high" (and "none"), -1 if unknown. */
int pdx_level_parse(const char *);

/* ---- source parsers -------------------------------------------------- */

/* The twelve IANA columns, in file order. */
enum pdx_iana_col {
	PDX_COL_NAME,
	PDX_COL_PORT,
	PDX_COL_PROTO,
	PDX_COL_DESC,
	PDX_COL_ASSIGNEE,
	PDX_COL_CONTACT,
	PDX_COL_REGDATE,
	PDX_COL_MODDATE,
	PDX_COL_REFERENCE,
	PDX_COL_SVCCODE,
	PDX_COL_UNAUTH,
	PDX_COL_NOTES,
	PDX_NCOLS
};
extern const char *const pdx_iana_header[PDX_NCOLS];

/* One IANA row; strings are owned by the row (pdx_iana_row_free). */
struct pdx_iana_row {
	char *f[PDX_NCOLS];
	int port_lo, port_hi; /* -1 when the row has no port */
	int proto;	      /* PDX_* bit, 0 when the row has none */
	int status;	      /* enum pdx_status */
	char *was;	      /* historic name, or NULL */
	unsigned line;	      /* first line of the record in its file */
};
void pdx_iana_row_free(struct pdx_iana_row *);
/* Derives status and 'was' from the description and notes. */
int pdx_iana_status(const char *name, const char *desc, const char *notes,
    char **was);

/*
 * Parse an IANA CSV held in memory.  Calls fn for each row (the row is
 * borrowed for the duration of the call); fn returns 0 to go on, a
 * positive value to stop early (the rows seen so far are returned), or a
 * negative value to fail (-1 is returned; fn sets the error).  name is
 * used in messages ("FILE:LINE: ...").  Returns the number of rows, or -1
 * on a malformed file.  The other parsers below follow the same rules.
 */
typedef int (*pdx_iana_fn)(const struct pdx_iana_row *, void *);
long pdx_iana_parse(const char *buf, size_t len, const char *name,
    pdx_iana_fn fn, void *arg);

/* One services(5) entry: name, ports, protos (mask), aliases, comment. */
struct pdx_service_entry {
	const char *name;
	int port_lo, port_hi;
	int protos;
	const char *aliases; /* space-separated, may be "" */
	const char *comment; /* may be "" */
	unsigned line;
};
typedef int (*pdx_service_fn)(const struct pdx_service_entry *, void *);
long pdx_services_parse(const char *buf, size_t len, const char *name,
    pdx_service_fn fn, void *arg);

/* One nmap-services entry. */
struct pdx_nmap_entry {
	const char *name;
	int port;
	int proto;
	double freq;
	unsigned line;
};
typedef int (*pdx_nmap_fn)(const struct pdx_nmap_entry *, void *);
long pdx_nmap_parse(const char *buf, size_t len, const char *name,
    pdx_nmap_fn fn, void *arg);

/* One RPC program (/etc/rpc, nmap-rpc): name, number, aliases. */
struct pdx_rpc_entry {
	const char *name;
	long number;
	const char *aliases;
	unsigned line;
};
typedef int (*pdx_rpc_fn)(const struct pdx_rpc_entry *, void *);
long pdx_rpcnames_parse(const char *buf, size_t len, const char *name,
    pdx_rpc_fn fn, void *arg);

/*
 * Read a whole file into memory (NUL-terminated, NUL bytes inside are
 * kept and counted in *len).  Caller frees.  max bounds the size.
 */
char *pdx_read_file(const char *path, size_t max, size_t *len);

/* ---- the registry database ------------------------------------------- */

struct pdx_db;

/*
 * The default registry path: $PORTDEX_DB, else $XDG_DATA_HOME/portdex,
 * ~/.local/share/portdex, then the installed data directory.  Returns a
 * static buffer.  for_write picks the user's own location.
 */
const char *pdx_default_db_path(int for_write);

/* Opens read-only.  Returns NULL and sets the error on failure. */
struct pdx_db *pdx_db_open(const char *path);
/*
 * The same, for a caller that wants pdx_brief() first (portdex ls): when
 * the brief file `portdex update` writes beside the registry (PATH.brief)
 * belongs to this registry file, pdx_brief() reads it and the registry
 * itself is opened on the first other use; otherwise this is
 * pdx_db_open().  pdx_db_brief_note() then says why a brief file that is
 * there but damaged was passed over (NULL when there is nothing to say).
 */
struct pdx_db *pdx_db_open_brief(const char *path);
const char *pdx_db_brief_note(struct pdx_db *);
/* 1 if pdx_brief() reads the brief file now; else 0 and *why says why. */
int pdx_db_brief_used(struct pdx_db *, const char **why);
/*
 * The same, for cards (portdex show): when the card file `portdex update`
 * writes beside the registry (PATH.card) and the brief file belong to this
 * registry file, pdx_card() reads them and SQLite is opened on the first
 * other need; otherwise this is pdx_db_open().  pdx_db_card_note() says
 * why a card file that is there but damaged was passed over (the registry
 * answered), or NULL.
 */
struct pdx_db *pdx_db_open_card(const char *path);
const char *pdx_db_card_note(struct pdx_db *);
void pdx_db_close(struct pdx_db *);
/* Rows of the IANA registry in the database; -1 with the error set. */
long long pdx_registry_rows(struct pdx_db *);
/*
 * Keeps SQLite's temporary tables and indices in memory for this handle
 * (a sandboxed server has no place for temporary files); 0 or -1.
 */
int pdx_db_no_temp_files(struct pdx_db *);
/* A meta value (borrowed until the next call), or NULL. */
const char *pdx_db_meta(struct pdx_db *, const char *key);

/* Per-port summary used by ls, scan, rpc, audit and bulk annotation. */
struct pdx_brief {
	const char *name; /* IANA service name or "" */
	uint8_t status;	  /* enum pdx_status */
	uint8_t risk;	  /* enum pdx_level */
};
/*
 * Summary of port/proto; the strings live as long as the db.  Loads a
 * compact table on first use (two blobs), so calling it 131,072 times is
 * cheap.  Returns 0, or -1 on a bad port/proto or a damaged database.
 */
int pdx_brief(struct pdx_db *, unsigned port, int proto, struct pdx_brief *);

/*
 * The card of one port for the transports in protomask (0: tcp and udp,
 * plus sctp/dccp where IANA has rows).  Returns a new reference; NULL and
 * the error on failure.  Schema: docs/json.md.
 */
json_t *pdx_card(struct pdx_db *, unsigned port, int protomask);
/* Ports that carry service name (IANA, services, nmap). New reference. */
json_t *pdx_ports_by_name(struct pdx_db *, const char *name);
/* One compact line of a port for a range listing. New reference. */
json_t *pdx_card_brief(struct pdx_db *, unsigned port, int protomask);

/* The risk rules of the card, as a JSON array of {rule, level, text}. */
json_t *pdx_risk_rules(void);

/* Ranked full-text search; returns a JSON array (new reference). */
json_t *pdx_find(struct pdx_db *, const char *query, int limit);

/* Export formats. */
enum pdx_export_format {
	PDX_EXPORT_CSV,
	PDX_EXPORT_SERVICES,
	PDX_EXPORT_JSON,
};
int pdx_export(struct pdx_db *, int format, FILE *out);

/* ---- building the registry (portdex update) -------------------------- */

struct pdx_update_opts {
	const char *db_path;	   /* the registry to replace */
	const char *iana;	   /* IANA CSV file or URL, or NULL */
	const char *services;	   /* services(5) file, or NULL: search */
	const char *nmap_services; /* or NULL: search */
	const char *nmap_rpc;	   /* or NULL: search */
	const char *etc_rpc;	   /* or NULL: search */
	const char *knowledge_dir; /* curated data, or NULL: search */
	int no_search;		   /* use only what is named above */
	/* Told when the update must wait for another one (may be NULL). */
	void (*notify)(const char *msg, void *arg);
	void *notify_arg;
};

/*
 * Builds a new registry beside db_path and renames it over the old one.
 * On any error the old file is untouched and the error names the file
 * and line.  Returns a JSON report of the sources used and what changed
 * (rows added/removed/changed with fields), or NULL.
 */
json_t *pdx_update(const struct pdx_update_opts *);

/* Downloads url to path with libcurl. Returns 0 or -1. */
int pdx_download(const char *url, const char *path, long timeout_s);

/* ---- the state database (notes, votes, baselines) -------------------- */

struct pdx_state;

/* $PORTDEX_STATE, else $XDG_STATE_HOME/portdex/state.db (static buffer). */
const char *pdx_default_state_path(void);
/*
 * Opens (creating it and its directory if needed) and migrates the state
 * database: WAL, a busy timeout, versioned schema.  NULL on error.
 */
struct pdx_state *pdx_state_open(const char *path);
/*
 * Opens an existing state database read-only for a command that only
 * reads: no file is created or written (a file an older portdex left in
 * WAL mode is turned to a rollback journal once).  Checks the schema: a
 * damaged file, another application's database or a newer schema is an
 * error naming the file and what to do.  NULL on error.
 */
struct pdx_state *pdx_state_open_read(const char *path);
void pdx_state_close(struct pdx_state *);
/* The same for the state database. */
int pdx_state_no_temp_files(struct pdx_state *);
/*
 * The state database's change counter: it moves when another connection
 * (another process's `portdex note`) commits; a handle's own commits do
 * not move it.  -1 with the error set.
 */
long long pdx_state_data_version(struct pdx_state *);
/*
 * A cheaper change counter for caches: the state file's own, which moves
 * on every commit of any connection (this handle's too), read with one
 * pread and no lock, so any thread may ask once the first call (which
 * opens the file) is made.  -1 when the file keeps no such counter (WAL
 * mode) or cannot be read: then ask pdx_state_data_version.
 */
long long pdx_state_file_counter(struct pdx_state *);
const char *pdx_state_path(const struct pdx_state *);
/*
 * The copy kept before this open migrated the schema (PATH.before-
 * migration, replaced by the next migration) and the version migrated
 * from; NULL if there was no migration.
 */
const char *pdx_state_backup(const struct pdx_state *, int *from);
/* The schema version this portdex writes. */
int pdx_state_schema_version(void);
/* "; what to do" for an SQLite result code on the state database. */
const char *pdx_state_advice(int sqlite_rc);

/* Notes: proto 0 means every transport.  Returns 0 / -1. */
int
pdx_note_add(struct pdx_state *, unsigned port, int proto, const char *text);
/* Removes the notes of port (and proto, unless 0); returns how many. */
int pdx_note_rm(struct pdx_state *, unsigned port, int proto);
/*
 * Notes of port (-1: all) whose text contains match (NULL: any), ordered
 * by port then id.  The first list (port -1 or a match) reads every note
 * once into memory and later calls look up there (a read-write handle
 * reads again when another connection changed the file); a single port
 * asked first is one indexed query.  NULL with the error set (naming the
 * file and what to do) if the notes cannot be read: never an empty list.
 */
json_t *pdx_notes(struct pdx_state *, int port, const char *match);
/* Reads every note now (what pdx_notes does at the first list); 0 / -1. */
int pdx_notes_load(struct pdx_state *);
/*
 * Reads the notes of these ports only (any order, repeats allowed) for
 * pdx_note_text; asked for another port, or for a list, every note is read
 * then.  More than PDX_NOTES_PORTS_MAX ports (unless the notes file is
 * read in place, mapped: then any number), or a read-write handle:
 * pdx_notes_load.  0 / -1 (the error set).
 */
#define PDX_NOTES_PORTS_MAX 256
int pdx_notes_load_ports(struct pdx_state *, const unsigned *, size_t);
/*
 * The text of the first note of port for proto (or for every transport),
 * from the notes read once (pdx_notes_load); NULL if none or unreadable.
 * Borrowed: valid until the next note is added or removed.
 */
const char *pdx_note_text(struct pdx_state *, unsigned port, int proto);

/*
 * state-recover.c: PRAGMA integrity_check and the schema version of the
 * file at path, as {"file", "ok", "integrity": [messages], "schema",
 * "schema_known", "notes", "baseline", "votes"}; NULL if it cannot be
 * opened at all (the error set).
 */
json_t *pdx_state_check(const char *path);
/*
 * Builds a new state database from every row of the damaged one at path
 * that can still be read (row by row: SQLite's recovery extension is not
 * part of the library), renames the damaged file to PATH.damaged-
 * YYYYMMDDTHHMMSSZ and puts the new one in its place.  Returns {"file",
 * "damaged_copy", "saved": {"notes", "baseline", "votes", "vote_clients",
 * "audit_kv", "audit_runs", "audit_run_listeners" (schema 3), "audit_spans"},
 * "lost_pages": bool}
 * or NULL with the error set (then nothing was moved).
 */
json_t *pdx_state_recover(const char *path);

#define PDX_IANA_URL \
	"https://www.iana.org/assignments/service-names-port-numbers/" \
	"service-names-port-numbers.csv"

/* RPC program names from the registry (/etc/rpc, nmap-rpc). */
/* Returns 0 and borrowed strings (valid until the next call), -1 if none. */
int pdx_rpc_name(struct pdx_db *, long program, const char **name,
    const char **aliases);

/*
 * Loads libmicrohttpd ("microhttpd"), libtirpc ("tirpc") or libxml2
 * ("libxml2") now instead of
 * at their first use (lazy-libs.c); 0 or -1 with the error set.
 */
int pdx_lazy_load(const char *which);

PDX_API_END

#endif /* PORTDEX_H */

/* The rest of the API, one header per area. */
#include "portdex/knowledge.h"
#include "portdex/sockets.h"
#include "portdex/scan.h"
#include "portdex/rpc.h"
#include "portdex/votes.h"
#include "portdex/pick.h"
#include "portdex/audit.h"
#include "portdex/why.h"
#include "portdex/view.h"
