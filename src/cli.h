/*
 * cli.h - what the tool's commands share: the command table entry, the
 * context main() prepares from the table's flags (databases opened once,
 * output options), and the output helpers in output.c.
 */
#ifndef PORTDEX_CLI_H
#define PORTDEX_CLI_H

#include <stdio.h>

#include "portdex.h"

/* Exit statuses, documented in portdex(1). */
#define EXIT_OK		0
#define EXIT_FINDINGS	1	/* findings, or "not found" where that is asked */
#define EXIT_USAGE	2	/* usage or input error */

struct pdx_state;

/* --format values; OUT_F(f) is f's bit in a set of them. */
enum out_format { OUT_TEXT, OUT_JSON, OUT_JSONL, OUT_CSV, OUT_NFORMATS };
#define OUT_F(f)	(1u << (f))

struct cmd_ctx {
	int		 json;		/* --json, or --format json|jsonl|csv */
	int		 format;	/* enum out_format */
	const char	*cmd;		/* the command's name */
	int		 color;		/* resolved: 1 use colour */
	int		 quiet;		/* -q */
	const char	*db_path;	/* --db or default */
	const char	*state_path;	/* --state or default */
	struct pdx_db	*db;		/* opened when CMD_NEEDS_DB */
	struct pdx_state *state;	/* opened when CMD_NEEDS_STATE */
	FILE		*out;
	int		 width;		/* columns text output may use */
	char		 state_error[512];	/* why the state could not open */
};

#define CMD_NEEDS_DB	0x1	/* main opens the registry read-only */
#define CMD_NEEDS_STATE	0x2	/* main opens the state database */
#define CMD_WRITES	0x4	/* the command changes stored data */
#define CMD_OPT_DB	0x8	/* open the registry if it exists */
#define CMD_OPT_STATE	0x10	/* open the state database if it exists */
#define CMD_SAYS_STATE	0x20	/* says itself why the state did not open */

struct cmd_entry {
	const char	*name;
	const char	*alias;
	const char	*usage;		/* operands and options, man synopsis */
	const char	*summary;	/* one line for --help */
	int		 flags;
	/* argv[0] is "portdex NAME"; getopt_long state is reset. */
	int		(*exec)(struct cmd_ctx *, int argc, char **argv);
	/* One line per option: "  -p, --ports PORTS  what it does\n". */
	const char	*options;
};

extern const struct cmd_entry *const cmd_table[];

/* output.c */
void	 out_json(struct cmd_ctx *, json_t *);	/* prints, keeps the ref */
/* Colour escape for a role ("bold", "dim", "high", ...) or "". */
const char *out_sgr(struct cmd_ctx *, const char *role);
const char *out_reset(struct cmd_ctx *);
/* The string member key of o, or "" (o NULL, no such member, not a
 * string); borrowed from o. */
const char *out_str(json_t *o, const char *key);
/* Writes text wrapped at width, continuation lines indented. */
void	 out_wrap(FILE *, const char *text, int indent, int first_used,
	    int width);
/* Prints "portdex: CMD: message" to stderr. */
void	 out_error(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Prints the command's usage line to stderr and returns EXIT_USAGE. */
int	 cmd_usage(const struct cmd_entry *);
const struct cmd_entry *cmd_find(const char *name);
void	 cmd_help(const struct cmd_entry *);

/* main.c: says where the copy kept before a schema migration is. */
void	 state_migrated(struct cmd_ctx *);
/*
 * --format: the values main() takes for cmd (none: the command parses its
 * own --format, if any); out_format_parse says which are allowed when value
 * is not; out_format_take removes --format from argv and sets ctx->format
 * (and ctx->json for json, jsonl and csv; jsonl becomes the command's own
 * --jsonl).  0, or -1 after an error message.
 */
unsigned out_formats(const char *cmd);
int	 out_format_parse(const char *cmd, const char *value, unsigned allowed,
	    int *fmt);
int	 out_format_take(struct cmd_ctx *, const char *cmd, int *argc,
	    char **argv);
/*
 * CSV (RFC 4180, CRLF line ends, a header row) from a JSON model: out_json
 * calls out_csv when ctx->format is OUT_CSV (rows chosen per command, see
 * docs/json.md).  out_csv_stream prints doc's rows (rows: the member
 * arrays giving them, or NULL: doc is one row) a document at a time; the
 * header, printed first, is names or the first rows' columns, kept in
 * *cols (the caller decrefs it).
 */
void	 out_csv(struct cmd_ctx *, json_t *doc);
void	 out_csv_stream(struct cmd_ctx *, json_t **cols,
	    const char *const *names, const char *rows, json_t *doc);
/* Writes s as one CSV field (RFC 4180: quoted when it holds a comma, a
 * quote or a line break). */
void	 out_csv_field(FILE *, const char *s);

/*
 * cmd-import-nmap.c: prints the nmap XML report read from fd (its first
 * headlen bytes already read, in head) as import-nmap does, in fmt
 * (OUT_TEXT, OUT_JSON or OUT_CSV; open ports); with OUT_JSON and doc, the
 * document is handed back instead.  Returns an exit status.
 */
int	 import_nmap_report(struct cmd_ctx *, int fmt, int fd,
	    const char *head, size_t headlen, const char *name, json_t **doc);

/*
 * metrics-file.c: `ls/audit --format prometheus [--textfile DIR]`, the
 * host's families of serve's /metrics.  metrics_wanted says whether argv
 * asks for it.
 */
int	 metrics_wanted(int argc, char **argv);
int	 metrics_cmd(struct cmd_ctx *, const char *cmd, int argc, char **argv);

/* render.c: text rendering of the card model. */
void	 render_card(struct cmd_ctx *, json_t *card);
void	 render_brief(struct cmd_ctx *, json_t *brief);
void	 render_brief_header(struct cmd_ctx *);


#endif
