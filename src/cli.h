/*
 * cli.h - what the tool's commands share: the command table entry, the
 * context main() prepares from the table's flags (databases opened once,
 * output options), and the output helpers in output.c.
 */
#ifndef PORTDEX_CLI_H
#define PORTDEX_CLI_H

#include <stdio.h>

#include "portdex.h"
#include "portdex/sockets.h"

/* Exit statuses, documented in portdex(1). */
#define EXIT_OK 0
#define EXIT_FINDINGS 1 /* findings, or "not found" where that is asked */
#define EXIT_USAGE 2	/* usage or input error */

struct pdx_state;

/* --format values; OUT_F(f) is f's bit in a set of them. */
enum out_format { OUT_TEXT, OUT_JSON, OUT_JSONL, OUT_CSV, OUT_NFORMATS };
#define OUT_F(f) (1u << (f))

struct cmd_ctx {
	int json;		 /* --json, or --format json|jsonl|csv */
	int format;		 /* enum out_format */
	const char *cmd;	 /* the command's name */
	int color;		 /* resolved: 1 use colour */
	int quiet;		 /* -q */
	const char *db_path;	 /* --db or default */
	const char *state_path;	 /* --state or default */
	struct pdx_db *db;	 /* opened when CMD_NEEDS_DB */
	struct pdx_state *state; /* opened when CMD_NEEDS_STATE */
	FILE *out;
	int width;	       /* columns text output may use */
	char state_error[512]; /* why the state could not open */
};

#define CMD_NEEDS_DB 0x1    /* main opens the registry read-only */
#define CMD_NEEDS_STATE 0x2 /* main opens the state database */
#define CMD_WRITES 0x4	    /* the command changes stored data */
#define CMD_OPT_DB 0x8	    /* open the registry if it exists */
#define CMD_OPT_STATE 0x10  /* open the state database if it exists */
#define CMD_SAYS_STATE 0x20 /* says itself why the state did not open */

#define CMD_INORDER 0x40 /* options end at the first operand */
#define CMD_METRICS 0x80 /* --format prometheus: metrics_cmd instead */
/*
 * With CMD_NEEDS_DB or CMD_OPT_DB: open the registry with its brief file
 * (pdx_db_open_brief): SQLite is connected only when a query needs it.
 */
#define CMD_DB_BRIEF 0x100

/*
 * The options of a command, in one table: main() parses the command line
 * once from it (getopt_long, so getopt's messages and long-option
 * prefixes as ever), `--help` prints its lines, `portdex --dump-options`
 * lists it for the completions' and the man page's tests.
 */
enum opt_kind {
	OPT_FLAG,  /* no value */
	OPT_STR,   /* a word */
	OPT_INT,   /* a number */
	OPT_PORTS, /* a port set: 22,80,8000-8100 */
	OPT_ENUM,  /* one of meta's "a|b|c" */
	OPT_FILE,  /* a file name */
	OPT_DIR,   /* a directory name */
};
#define OPTF_NEXT 0x1 /* also takes the next word (-oX FILE) */

struct cmd_opt {
	const char *name; /* long name, or NULL */
	int short_name;	  /* short option letter, or 0 */
	int kind;	  /* enum opt_kind */
	int id;		  /* what the parse reports (cmd_arg.id) */
	const char *meta; /* the value's placeholder or values */
	/* --help line(s), or NULL: an earlier option's line names it */
	const char *help;
	unsigned flags; /* OPTF_* */
};

/* Options declared once, for every command that takes them. */
struct cmd_optgroup {
	const char *name;
	unsigned flags;		    /* OPTG_* */
	const struct cmd_opt *opts; /* ends with a zeroed row */
};
#define OPTG_METRICS 0x1 /* parsed only for --format prometheus */

/* One option as given: its id, its value, the word after it (OPTF_NEXT). */
struct cmd_arg {
	int id;
	const char *val;
	const char *next;
};

/* The parsed command line: the options in order, then the operands. */
struct cmd_args {
	struct cmd_arg *opt;
	int nopt;
	char **argv; /* the operands */
	int argc;
	char **raw_argv; /* as given, argv[0] "portdex NAME" */
	int raw_argc;
	char **buf; /* owned */
	/* ARGS_QUIET: what went wrong (':' a value missing, '?' unknown) */
	int err;
	const char *err_word;
	char *err_msg; /* getopt's message, said by args_done */
};

struct cmd_entry {
	const char *name;
	const char *alias;
	const char *usage;   /* operands and options, man synopsis */
	const char *summary; /* one line for --help */
	int flags;
	int (*exec)(struct cmd_ctx *, const struct cmd_args *);
	/* NULL-terminated; NULL: no options, every word is an operand */
	const struct cmd_optgroup *const *groups;
	int min_operands;
	int max_operands; /* -1: any number */
	/* said before the usage when there are more operands: NULL
	 * "unexpected operand 'WORD'", "" nothing, else this (%s: WORD) */
	const char *too_many;
	const char *too_few; /* said when there are fewer, or NULL */
	/* --help lines for the operands, before the options' */
	const char *operands;
};

extern const struct cmd_entry *const cmd_table[];

/* output.c */
void out_json(struct cmd_ctx *, json_t *); /* prints, keeps the ref */
/* Colour escape for a role ("bold", "dim", "high", ...) or "". */
const char *out_sgr(struct cmd_ctx *, const char *role);
const char *out_reset(struct cmd_ctx *);
/* The string member key of o, or "" (o NULL, no such member, not a
 * string); borrowed from o. */
const char *out_str(json_t *o, const char *key);
/* Writes text wrapped at width, continuation lines indented. */
void out_wrap(FILE *, const char *text, int indent, int first_used, int width);
/* Prints "portdex: CMD: message" to stderr. */
void out_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the command's usage line to stderr and returns EXIT_USAGE. */
int cmd_usage(const struct cmd_entry *);
const struct cmd_entry *cmd_find(const char *name);
void cmd_help(const struct cmd_entry *);

/* main.c: says where the copy kept before a schema migration is. */
void state_migrated(struct cmd_ctx *);
/*
 * --format: the values main() takes for cmd (none: the command parses its
 * own --format, if any); out_format_parse says which are allowed when value
 * is not; out_format_take removes --format from argv and sets ctx->format
 * (and ctx->json for json, jsonl and csv; jsonl becomes the command's own
 * --jsonl).  0, or -1 after an error message.
 */
unsigned out_formats(const char *cmd);
int out_format_parse(const char *cmd, const char *value, unsigned allowed,
    int *fmt);
int out_format_take(struct cmd_ctx *, const char *cmd, int *argc, char **argv);
/*
 * CSV (RFC 4180, CRLF line ends, a header row) from a JSON model: out_json
 * calls out_csv when ctx->format is OUT_CSV (rows chosen per command, see
 * docs/json.md).  out_csv_stream prints doc's rows (rows: the member
 * arrays giving them, or NULL: doc is one row) a document at a time; the
 * header, printed first, is names or the first rows' columns, kept in
 * *cols (the caller decrefs it).
 */
void out_csv(struct cmd_ctx *, json_t *doc);
void out_csv_stream(struct cmd_ctx *, json_t **cols, const char *const *names,
    const char *rows, json_t *doc);
/*
 * A document written as it is made, for the commands whose documents grow
 * with the machine (ls, audit): a top-level object whose members come one
 * at a time, an array member's elements one at a time too.  JSON comes out
 * byte for byte as out_json would print the whole document; CSV as out_csv
 * would (the rows are kept as compact JSON text until the header, which
 * needs every row's columns, is known: far smaller than the document).
 * Each json_t handed over is the writer's (a new reference; NULL counts as
 * a failure).  out_doc_end finishes and frees: 0, or -1 when something
 * could not be written, said in why (out of memory; the CSV rows' temporary
 * file could not be written).
 */
struct out_doc {
	struct cmd_ctx *ctx;
	int csv, failed, found, row_array;
	size_t members, items;
	const char *rows, *array_key;
	json_t *carry, *whole, *cols, *seen; /* CSV */
	char *buf;			     /* CSV: the rows so far */
	size_t len, cap;
	FILE *spill;	       /* CSV: the rows so far, past DOC_SPILL bytes */
	const char *spill_dir; /* where spill is */
	int no_spill;	       /* no temporary file could be had */
	char why[512];	       /* what failed, when out_doc_end gives -1 */
};
void out_doc_begin(struct out_doc *, struct cmd_ctx *);
void out_doc_member(struct out_doc *, const char *key, json_t *v);
void out_doc_array(struct out_doc *, const char *key);
void out_doc_item(struct out_doc *, json_t *v);
void out_doc_array_end(struct out_doc *);
int out_doc_end(struct out_doc *);
/* Writes s as one CSV field (RFC 4180: quoted when it holds a comma, a
 * quote or a line break). */
void out_csv_field(FILE *, const char *s);

/*
 * cmd-import-nmap.c: prints the nmap XML report read from fd (its first
 * headlen bytes already read, in head) as import-nmap does, in fmt
 * (OUT_TEXT, OUT_JSON or OUT_CSV; open ports); with OUT_JSON and doc, the
 * document is handed back instead.  Returns an exit status.
 */
int import_nmap_report(struct cmd_ctx *, int fmt, int fd, const char *head,
    size_t headlen, const char *name, json_t **doc);

/*
 * metrics-file.c: `ls/audit --format prometheus [--textfile DIR]`, the
 * host's families of serve's /metrics.  metrics_wanted says whether argv
 * asks for it; metrics_cmd gets the options of the metrics group
 * (args_metrics) parsed with ARGS_QUIET.
 */
int metrics_wanted(int argc, char **argv);
int metrics_cmd(struct cmd_ctx *, const char *cmd, const struct cmd_args *);

/*
 * args.c: the one parser over a command's option table.  args_parse
 * parses argv (argv[0] "portdex NAME") into a (args_free frees it): the
 * groups without OPTG_METRICS, or with ARGS_METRICS only those (in order).
 * A bad word stops the parse: a->opt holds the options before it and
 * a->err is set; getopt's message waits for args_done (with ARGS_QUIET
 * there is none: a->err and a->err_word say what went wrong).  -1 only
 * then, or out of memory (a->err 0, said).
 *
 * Each command takes a->opt in order (a bad value said as it comes), then
 * calls args_done: -1 after getopt's message about a bad word, or when
 * the operand count is not the entry's (said as the entry says); the
 * command then prints its usage.  The order of the messages is that of
 * the words.
 */
#define ARGS_METRICS 0x1
#define ARGS_QUIET 0x2
int args_parse(const struct cmd_entry *, unsigned how, int argc, char **argv,
    struct cmd_args *a);
void args_free(struct cmd_args *);
int args_done(const struct cmd_entry *, const struct cmd_args *);
/* The --help lines of the entry's options (every group). */
void args_help(FILE *, const struct cmd_entry *);
/*
 * `portdex --dump-options` (for the tests, undocumented): a line per
 * option, tab-separated: the command ("portdex" for a global option), the
 * short and the long name and the value's placeholder ("-": none), and who
 * parses it ("command", or "main": the global options and the --format
 * main takes for the command).
 */
void args_dump(FILE *, const char *cmd, const struct cmd_entry *);

/* Option groups declared once (args.c). */
extern const struct cmd_optgroup optg_proto;   /* -t -u -S: ls watch audit */
extern const struct cmd_optgroup optg_sockets; /* ls's and watch's filters */
extern const struct cmd_optgroup optg_metrics; /* ls audit: prometheus */
enum {
	/* ids of optg_sockets' long-only options */
	OPT_SK_PID = 1000,
	OPT_SK_USER,
	OPT_SK_PROCESS,
	OPT_SK_NO_PIDS,
	OPT_SK_NETNS,
	OPT_SK_ALL_NETNS,
	OPT_SK_PROC,
	OPT_SK_REACH,
	/* optg_metrics' */
	OPT_MX_FORMAT,
	OPT_MX_TEXTFILE,
	OPT_MX_MAX_PORTS,
};

/*
 * What optg_proto and optg_sockets set, for ls and watch: sock_opts_init,
 * then sock_opts_take for each option (1 taken, 0 not the group's, -1
 * after a message), then sock_opts_finish (the checks across options).
 */
struct sock_opts {
	struct pdx_sock_filter f;
	struct pdx_portset ports;
	int pids;
	int all_netns;
	int protos;
	int fams;
	unsigned reach; /* bits 1 << PDX_REACH_*; 0: any */
};
void sock_opts_init(struct sock_opts *);
int sock_opts_take(struct sock_opts *, const char *cmd, const struct cmd_arg *);
int sock_opts_finish(struct sock_opts *, const char *cmd);

/* render.c: text rendering of the card model. */
void render_card(struct cmd_ctx *, json_t *card);
void render_brief(struct cmd_ctx *, json_t *brief);
void render_brief_header(struct cmd_ctx *);

/*
 * libm-lazy.c (with the static SQLite: PDX_LIBM_LAZY): loads every math
 * function SQLite calls now, before a sandbox; 0, or -1 (said on stderr).
 */
int pdx_libm_load(void);

#endif
