/*
 * main.c - the portdex tool's entry point: global options, command lookup
 * (a unique prefix is enough; ambiguous prefixes name the candidates), the
 * setup the command table asks for (opening the registry and the state
 * database once), and the exit status.  Commands themselves live in
 * cmd-NAME.c, one per file.
 */
#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/*
 * The global options, which may stand anywhere before "--": main() takes
 * them out so each command sees only its own.  The usage line, each
 * command's help and `portdex --dump-options` print this table.
 */
enum { G_JSON, G_DB, G_STATE, G_COLOR, G_QUIET, G_VERSION, G_HELP, G_DUMP };
#define G_USAGE 0x1  /* in the usage line and each --help */
#define G_HIDDEN 0x2 /* for the tests: not documented */
static const struct global_opt {
	const char *name; /* as shown */
	const char *alt;  /* the other spelling, or NULL */
	const char *meta; /* its value's placeholder; NULL: none */
	int id;
	int flags;
} globals[] = {
	{ "--json", NULL, NULL, G_JSON, G_USAGE },
	{ "--db", NULL, "PATH", G_DB, G_USAGE },
	{ "--state", NULL, "PATH", G_STATE, G_USAGE },
	{ "--color", NULL, "WHEN", G_COLOR, G_USAGE },
	{ "-q", "--quiet", NULL, G_QUIET, G_USAGE },
	{ "--version", "-V", NULL, G_VERSION, 0 },
	{ "--help", "-h", NULL, G_HELP, 0 },
	{ "--dump-options", NULL, NULL, G_DUMP, G_HIDDEN },
};
#define NGLOBALS (sizeof globals / sizeof *globals)

/* "[--json] [--db PATH] ..." or "--json, --db PATH, ...". */
static void
globals_line(FILE *f, int brackets)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NGLOBALS; i++) {
		if (!(globals[i].flags & G_USAGE))
			continue;
		fprintf(f, "%s%s%s%s%s%s",
		    n++ == 0	   ? ""
			: brackets ? " "
				   : ", ",
		    brackets ? "[" : "", globals[i].name,
		    globals[i].meta != NULL ? " " : "",
		    globals[i].meta != NULL ? globals[i].meta : "",
		    brackets ? "]" : "");
	}
}

static void
usage(FILE *f)
{
	const struct cmd_entry *const *c;

	fprintf(f, "usage: portdex ");
	globals_line(f, 1);
	fprintf(f,
	    " COMMAND [ARGS]\n"
	    "       portdex PORT...\n"
	    "       portdex --version | --help\n\ncommands:\n");
	for (c = cmd_table; *c != NULL; c++)
		fprintf(f, "  %-7s %s\n", (*c)->name, (*c)->usage);
	fprintf(f,
	    "\nexit status: 0 ok, 1 findings or not found, "
	    "2 usage or input error\n");
}

/* `portdex --dump-options`: every option of the tables, one a line. */
static void
dump_options(void)
{
	const struct cmd_entry *const *c;
	size_t i;

	for (i = 0; i < NGLOBALS; i++) {
		const struct global_opt *g = &globals[i];
		const char *s = "-", *l = g->name;

		if (g->flags & G_HIDDEN)
			continue;
		if (g->alt != NULL)
			s = g->name[1] == '-' ? g->alt : g->name;
		if (g->name[1] != '-')
			l = g->alt != NULL ? g->alt : "-";
		printf("portdex\t%s\t%s\t%s\tmain\n", s, l,
		    g->meta != NULL ? g->meta : "-");
	}
	for (c = cmd_table; *c != NULL; c++)
		args_dump(stdout, (*c)->name, *c);
}

/* --version --json: the same facts as one object. */
static void
version_json(struct cmd_ctx *ctx, const char *db_path)
{
	struct pdx_db *db;
	const char *v;
	json_t *o = json_pack("{s:s}", "version", PDX_VERSION);

	if (db_path == NULL)
		db_path = pdx_default_db_path(0);
	json_object_set_new(o, "registry", json_string(db_path));
	if ((db = pdx_db_open(db_path)) == NULL)
		json_object_set_new(o, "registry_error",
		    json_string(pdx_last_error()));
	else {
		static const char *const keys[] = { "built", "sources",
			"iana_date", "iana_origin", "schema" };
		size_t i;

		for (i = 0; i < sizeof keys / sizeof *keys; i++)
			if ((v = pdx_db_meta(db, keys[i])) != NULL)
				json_object_set_new(o, keys[i], json_string(v));
		pdx_db_close(db);
	}
	out_json(ctx, o);
	json_decref(o);
}

/*
 * --version's --format (text, json or csv; csv: --json's object as a
 * header and one row), wherever it stands.  0, or -1 after a message.
 */
static int
version_format(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *v;
	int i, fmt;

	if (ctx->json)
		ctx->format = OUT_JSON;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--format") == 0) {
			if (i + 1 >= argc) {
				out_error(NULL, "--format needs a value");
				return -1;
			}
			v = argv[++i];
		} else if (strncmp(argv[i], "--format=", 9) == 0)
			v = argv[i] + 9;
		else
			continue;
		if (out_format_parse(NULL, v,
			OUT_F(OUT_TEXT) | OUT_F(OUT_JSON) | OUT_F(OUT_CSV),
			&fmt) != 0)
			return -1;
		ctx->format = fmt;
		ctx->json = fmt != OUT_TEXT;
	}
	return 0;
}

/* The version, and the registry in use (--db counts) with its sources. */
static void
version(const char *db_path)
{
	struct pdx_db *db;
	const char *v;

	printf("portdex %s\n", PDX_VERSION);
	if (db_path == NULL)
		db_path = pdx_default_db_path(0);
	if ((db = pdx_db_open(db_path)) == NULL) {
		printf("registry: none: %s\n", pdx_last_error());
		return;
	}
	printf("registry: %s\n", db_path);
	if ((v = pdx_db_meta(db, "built")) != NULL)
		printf("built: %s\n", v);
	if ((v = pdx_db_meta(db, "sources")) != NULL)
		printf("sources: %s\n", v);
	pdx_db_close(db);
	/* the flat copy `ls` reads (portdex-db(5)), and whether it fits */
	if ((db = pdx_db_open_brief(db_path)) != NULL) {
		if (pdx_db_brief_used(db, &v))
			printf("brief file: %s.brief\n", db_path);
		else
			printf("brief file: not used: %s\n", v);
		pdx_db_close(db);
	}
}

/* Edit distance of two short words (adjacent swaps count one). */
static int
distance(const char *a, const char *b)
{
	int d[17][17], i, j, la = (int)strlen(a), lb = (int)strlen(b);

	if (la > 16 || lb > 16)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < c)
				c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c)
				c = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
				c = d[i - 2][j - 2] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* The command nearest to a mistyped name, or NULL if none is close. */
static const struct cmd_entry *
cmd_nearest(const char *name)
{
	const struct cmd_entry *const *c, *best = NULL;
	int bd = 3, dd;

	for (c = cmd_table; *c != NULL; c++)
		if ((dd = distance(name, (*c)->name)) < bd) {
			bd = dd;
			best = *c;
		}
	return best;
}

/* Like cmd_find, without a message when nothing matches. */
static const struct cmd_entry *
cmd_match(const char *name)
{
	const struct cmd_entry *const *c;
	size_t n = strlen(name);
	int matches = 0;

	for (c = cmd_table; *c != NULL; c++)
		if (strcmp((*c)->name, name) == 0 ||
		    ((*c)->alias != NULL && strcmp((*c)->alias, name) == 0))
			return *c;
	for (c = cmd_table; *c != NULL && n > 0; c++)
		if (strncmp((*c)->name, name, n) == 0)
			matches++;
	return matches > 0 ? cmd_find(name) : NULL;
}

const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry *const *c, *found = NULL;
	size_t n = strlen(name);
	int matches = 0;
	char cands[256] = "";

	for (c = cmd_table; *c != NULL; c++) {
		if (strcmp((*c)->name, name) == 0 ||
		    ((*c)->alias != NULL && strcmp((*c)->alias, name) == 0))
			return *c;
	}
	for (c = cmd_table; *c != NULL && n > 0; c++) {
		if (strncmp((*c)->name, name, n) == 0) {
			found = *c;
			matches++;
			if (strlen(cands) + strlen((*c)->name) + 2 <
			    sizeof cands) {
				if (cands[0] != '\0')
					strcat(cands, ", ");
				strcat(cands, (*c)->name);
			}
		}
	}
	if (matches > 1) {
		out_error(NULL, "ambiguous command '%s': %s", name, cands);
		return NULL;
	}
	if (matches == 0) {
		out_error(NULL, "unknown command '%s' (see portdex --help)",
		    name);
		return NULL;
	}
	return found;
}

int
cmd_usage(const struct cmd_entry *c)
{
	fprintf(stderr, "usage: portdex %s %s\n", c->name, c->usage);
	return EXIT_USAGE;
}

/* Whether the registry knows name as a service name (quietly). */
static int
is_service_name(const char *db_path, const char *name)
{
	struct pdx_db *db;
	json_t *ports;
	int found;

	if ((db = pdx_db_open(
		 db_path != NULL ? db_path : pdx_default_db_path(0))) == NULL)
		return 0;
	ports = pdx_ports_by_name(db, name);
	found = json_array_size(ports) > 0;
	json_decref(ports);
	pdx_db_close(db);
	return found;
}

/* `portdex help COMMAND` and `portdex COMMAND --help`. */
void
cmd_help(const struct cmd_entry *c)
{
	const struct cmd_optgroup *const *g;
	int any = c->operands != NULL;

	printf("usage: portdex %s %s\n\n%s.\n", c->name, c->usage, c->summary);
	for (g = c->groups; g != NULL && *g != NULL; g++)
		any = 1;
	if (any) {
		printf("\noptions:\n");
		args_help(stdout, c);
	}
	if (out_formats(c->name) != 0) {
		static const char *const names[] = { "text", "json", "jsonl",
			"csv" };
		unsigned f = out_formats(c->name);
		char list[64] = "";
		size_t i;

		for (i = 0; i < sizeof names / sizeof *names; i++)
			if (f & OUT_F(i))
				snprintf(list + strlen(list),
				    sizeof list - strlen(list), "%s%s",
				    *list ? "|" : "", names[i]);
		if (!any)
			printf("\noptions:\n");
		printf("  --format FMT          %s (default text; csv: see "
		       "portdex(1))\n",
		    list);
	}
	printf("\nglobal options: ");
	globals_line(stdout, 0);
	printf("; see portdex(1)\n");
}

/* A first operand that is a port, a range or PORT/PROTO means "show". */
static int
looks_like_port(const char *s)
{
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9')
		return 1; /* "-1": show says it is out of range */
	return s[0] >= '0' && s[0] <= '9';
}

/*
 * Columns text output may use: $COLUMNS, else the terminal's width, else
 * 80 (a pipe or a file).
 */
static int
output_width(void)
{
	const char *c = getenv("COLUMNS");
	struct winsize ws;
	long long v;

	if (c != NULL && *c != '\0' &&
	    pdx_parse_number(c, 20, 1000, "COLUMNS", &v) == 0)
		return (int)v;
	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* Says where the copy kept before a schema migration is (state.c). */
void
state_migrated(struct cmd_ctx *ctx)
{
	const char *copy;
	int from;

	if (ctx->state == NULL || ctx->quiet ||
	    (copy = pdx_state_backup(ctx->state, &from)) == NULL)
		return;
	fprintf(stderr,
	    "portdex: the state database %s was upgraded from "
	    "schema %d to %d; the file as it was is kept as %s\n",
	    ctx->state_path, from, pdx_state_schema_version(), copy);
}

/*
 * SIGBUS: the library reads its brief and notes files in place; should
 * another program cut one short meanwhile, say which file and exit 2
 * instead of dumping core.  Not in such a file: the default action, as
 * the access is made again.
 */
static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	static const char a[] = "portdex: ",
			  b[] =
			      ": the file was cut short by another program "
			      "while portdex read it; run the command again\n";
	const char *path = pdx_mapped_path(si->si_addr);

	(void)sig;
	(void)uc;
	if (path == NULL) {
		signal(SIGBUS, SIG_DFL);
		return;
	}
	(void)!write(2, a, sizeof a - 1);
	(void)!write(2, path, strlen(path));
	(void)!write(2, b, sizeof b - 1);
	_exit(EXIT_USAGE);
}

static void
guard_mapped_files(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == 0)
		pdx_map_allow(1);
}

int
main(int argc, char **argv)
{
	struct cmd_ctx ctx;
	struct cmd_args args;
	const struct cmd_entry *cmd;
	const char *color = NULL;
	char **nargv, progname[32];
	int i, nargc = 0, rc = EXIT_USAGE, dashdash = 0, want_version = 0;

	pdx_init(); /* before SQLite's first use */
	guard_mapped_files();
	/*
	 * No setlocale(): portdex handles its text as bytes (UTF-8 in, UTF-8
	 * out), uses no wide characters and asks ctype only about ASCII, so
	 * the "C" locale is right, and loading the user's locale cost 0.1 ms
	 * (a tenth of a card) for nothing.
	 */
	memset(&ctx, 0, sizeof ctx);
	ctx.out = stdout;
	ctx.width = output_width();
	if ((nargv = calloc((size_t)argc + 2, sizeof *nargv)) == NULL)
		return EXIT_USAGE;

	/*
	 * Global options may stand anywhere before "--"; they are taken out
	 * so each command sees only its own.
	 */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct global_opt *g = NULL;
		size_t k, l;

		if (dashdash || a[0] != '-' || a[1] == '\0' ||
		    (a[1] >= '0' && a[1] <= '9')) {
			nargv[nargc++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			nargv[nargc++] = argv[i];
			continue;
		}
		for (k = 0; k < NGLOBALS && g == NULL; k++) {
			if (strcmp(a, globals[k].name) == 0 ||
			    (globals[k].alt != NULL &&
				strcmp(a, globals[k].alt) == 0))
				g = &globals[k];
			else if (globals[k].meta != NULL &&
			    strncmp(a, globals[k].name,
				l = strlen(globals[k].name)) == 0 &&
			    a[l] == '=') {
				g = &globals[k];
				val = a + l + 1;
			}
		}
		if (g != NULL && g->meta != NULL && val == NULL) {
			if (i + 1 >= argc) {
				out_error(NULL, "option %s needs a value", a);
				rc = EXIT_USAGE;
				goto done;
			}
			val = argv[++i];
		}
		switch (g != NULL ? g->id : -1) {
		case G_JSON:
			ctx.json = 1;
			break;
		case G_QUIET:
			ctx.quiet = 1;
			break;
		case G_DB:
			ctx.db_path = val;
			break;
		case G_STATE:
			ctx.state_path = val;
			break;
		case G_COLOR:
			color = val;
			break;
		case G_VERSION:
			want_version = 1; /* after --db, wherever it is */
			break;
		case G_DUMP:
			dump_options();
			rc = EXIT_OK;
			goto done;
		case G_HELP:
			if (nargc == 0) {
				usage(stdout);
				rc = EXIT_OK;
				goto done;
			}
			nargv[nargc++] = argv[i]; /* the command's */
			break;
		default:
			nargv[nargc++] = argv[i];
		}
	}
	if (want_version) {
		if (version_format(&ctx, nargc, nargv) != 0) {
			rc = EXIT_USAGE;
			goto done;
		}
		if (ctx.json)
			version_json(&ctx, ctx.db_path);
		else
			version(ctx.db_path);
		rc = EXIT_OK;
		goto done;
	}
	/* portdex help [COMMAND] */
	if (nargc >= 1 && strcmp(nargv[0], "help") == 0) {
		if (nargc == 1) {
			usage(stdout);
			rc = EXIT_OK;
		} else if ((cmd = cmd_find(nargv[1])) != NULL) {
			cmd_help(cmd);
			rc = EXIT_OK;
		}
		goto done;
	}
	if (nargc == 0) {
		usage(stderr);
		rc = EXIT_USAGE;
		goto done;
	}

	if (color == NULL || strcmp(color, "auto") == 0) {
		const char *nc = getenv("NO_COLOR");

		ctx.color = isatty(STDOUT_FILENO) &&
		    (nc == NULL || *nc == '\0');
	} else if (strcmp(color, "always") == 0)
		ctx.color = 1;
	else if (strcmp(color, "never") == 0)
		ctx.color = 0;
	else {
		out_error(NULL,
		    "--color takes auto, always or never, not "
		    "'%s'",
		    color);
		rc = EXIT_USAGE;
		goto done;
	}
	if (ctx.json)
		ctx.color = 0;

	/*
	 * A port, a list or a range means "show"; so does a word that is no
	 * command but a service name (portdex ssh).  A word that is neither
	 * but close to a command is a typo.
	 */
	if (!looks_like_port(nargv[0]) && nargv[0][0] != '-' &&
	    cmd_match(nargv[0]) == NULL) {
		const struct cmd_entry *near = cmd_nearest(nargv[0]);

		if (near != NULL && !is_service_name(ctx.db_path, nargv[0])) {
			out_error(NULL,
			    "unknown command '%s'; did you mean "
			    "'%s'? (see portdex help)",
			    nargv[0], near->name);
			rc = EXIT_USAGE;
			goto done;
		}
		memmove(nargv + 1, nargv, (size_t)nargc * sizeof *nargv);
		nargv[0] = "show";
		nargc++;
	} else if (looks_like_port(nargv[0])) {
		memmove(nargv + 1, nargv, (size_t)nargc * sizeof *nargv);
		nargv[0] = "show";
		nargc++;
	}
	if ((cmd = cmd_find(nargv[0])) == NULL)
		goto done;
	for (i = 1; i < nargc; i++) {
		if (strcmp(nargv[i], "--") == 0)
			break;
		if (strcmp(nargv[i], "-h") == 0 ||
		    strcmp(nargv[i], "--help") == 0) {
			cmd_help(cmd);
			rc = EXIT_OK;
			goto done;
		}
	}
	/* getopt's messages name the program: "portdex ls: ..." */
	snprintf(progname, sizeof progname, "portdex %s", cmd->name);
	nargv[0] = progname;
	ctx.cmd = cmd->name;
	if (out_format_take(&ctx, cmd->name, &nargc, nargv) != 0) {
		rc = EXIT_USAGE;
		goto done;
	}

	if (ctx.db_path == NULL)
		ctx.db_path = pdx_default_db_path(
		    (cmd->flags & CMD_WRITES) != 0);
	if (cmd->flags & (CMD_NEEDS_DB | CMD_OPT_DB)) {
		ctx.db = (cmd->flags & CMD_DB_BRIEF)
		    ? pdx_db_open_brief(ctx.db_path)
		    : pdx_db_open(ctx.db_path);
		if (ctx.db == NULL && (cmd->flags & CMD_NEEDS_DB)) {
			out_error(cmd->name, "%s", pdx_last_error());
			rc = EXIT_USAGE;
			goto done;
		}
	}
	if (ctx.state_path == NULL)
		ctx.state_path = pdx_default_state_path();
	/*
	 * A command that only reads opens the state read-only: it creates
	 * and writes nothing, and a missing file is simply no notes.
	 */
	if ((cmd->flags & CMD_OPT_STATE) && access(ctx.state_path, F_OK) == 0 &&
	    (ctx.state = pdx_state_open_read(ctx.state_path)) == NULL) {
		/* never an empty answer: the user's notes exist but failed */
		snprintf(ctx.state_error, sizeof ctx.state_error, "%s",
		    pdx_last_error());
		if (!ctx.quiet && !(cmd->flags & CMD_SAYS_STATE))
			fprintf(stderr,
			    "portdex: your notes could not be "
			    "read: %s\n",
			    ctx.state_error);
	}
	if (cmd->flags & CMD_NEEDS_STATE) {
		ctx.state = pdx_state_open(ctx.state_path);
		if (ctx.state == NULL) {
			out_error(cmd->name, "%s", pdx_last_error());
			rc = EXIT_USAGE;
			goto done;
		}
		state_migrated(&ctx);
	}

	/* The command line parsed once, from the command's table. */
	if ((cmd->flags & CMD_METRICS) && metrics_wanted(nargc, nargv)) {
		if (args_parse(cmd, ARGS_METRICS | ARGS_QUIET, nargc, nargv,
			&args) != 0 &&
		    args.err == 0)
			rc = EXIT_USAGE;
		else
			rc = metrics_cmd(&ctx, cmd->name, &args);
	} else if (args_parse(cmd, 0, nargc, nargv, &args) != 0 &&
	    args.err == 0)
		rc = EXIT_USAGE; /* out of memory, said */
	else if (cmd->groups == NULL && args_done(cmd, &args) != 0)
		rc = cmd_usage(cmd);
	else
		rc = cmd->exec(&ctx, &args); /* it calls args_done */
	args_free(&args);
	pdx_exit_soon(); /* the files mapped are the kernel's to unmap */

	if (fflush(stdout) != 0 || ferror(stdout)) {
		out_error(cmd->name, "writing output: %s", strerror(errno));
		rc = EXIT_USAGE;
	}
done:
	pdx_state_close(ctx.state);
	pdx_db_close(ctx.db);
	free(nargv);
	return rc;
}
