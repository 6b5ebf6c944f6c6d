/*
 * metrics-file.c - `portdex ls --format prometheus` and `portdex audit
 * --format prometheus`: the host's metric families of /metrics (build and
 * registry, listeners, audit; serve-metrics.c writes them) on stdout, or
 * with --textfile DIR into DIR/portdex.prom for node_exporter's textfile
 * collector.  The file is written as a temporary file in DIR, synced and
 * renamed over the old one, so the collector never reads half a file.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "serve.h"

#define TEXTFILE_NAME "portdex.prom"

int
metrics_wanted(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--format") == 0 ||
		    strncmp(argv[i], "--format=", 9) == 0 ||
		    strcmp(argv[i], "--textfile") == 0 ||
		    strncmp(argv[i], "--textfile=", 11) == 0)
			return 1;
	return 0;
}

static time_t
utc_time(const char *iso)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

/* Writes len bytes of text to dir/portdex.prom by a rename; 0 or -1. */
static int
write_textfile(const char *cmd, const char *dir, const char *text, size_t len)
{
	char tmp[4096], path[4096];
	size_t off = 0;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, TEXTFILE_NAME) >=
		sizeof path ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir,
		TEXTFILE_NAME) >= sizeof tmp) {
		out_error(cmd, "--textfile: directory name too long");
		return -1;
	}
	/* a name not ending in .prom: the collector passes it over */
	if ((fd = mkstemp(tmp)) < 0) {
		out_error(cmd, "--textfile: cannot create a file in %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	/* readable by node_exporter, whatever user it runs as */
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	out_error(cmd, "--textfile: cannot write %s: %s", path,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int
metrics_cmd(struct cmd_ctx *ctx, const char *cmd, const struct cmd_args *a)
{
	struct metrics_src m;
	struct pdx_db *db = ctx->db;
	struct hbuf b;
	const char *format = NULL, *dir = NULL;
	long long v, rows;
	int i, rc = EXIT_OK;

	memset(&m, 0, sizeof m);
	m.max_ports = METRICS_MAX_PORTS_DEFAULT;
	/* parsed quietly (args.c): said here, with what may be given */
	for (i = 0; i < a->nopt; i++) {
		switch (a->opt[i].id) {
		case OPT_MX_FORMAT:
			format = a->opt[i].val;
			break;
		case OPT_MX_TEXTFILE:
			dir = a->opt[i].val;
			break;
		case OPT_MX_MAX_PORTS:
			if (pdx_parse_number(a->opt[i].val, 0, 65536,
				"--metrics-max-ports", &v) != 0) {
				out_error(cmd, "%s", pdx_last_error());
				return EXIT_USAGE;
			}
			m.max_ports = (size_t)v;
			break;
		}
	}
	if (a->err == ':') {
		out_error(cmd, "%s needs a value", a->err_word);
		return EXIT_USAGE;
	}
	if (a->err != 0) {
		out_error(cmd,
		    "%s: with --format prometheus or --textfile, "
		    "only --metrics-max-ports N may be given",
		    a->err_word);
		return EXIT_USAGE;
	}
	if (a->argc > 0) {
		out_error(cmd, "unexpected operand '%s'", a->argv[0]);
		return EXIT_USAGE;
	}
	if (ctx->format != OUT_TEXT) { /* main took a --format of its own */
		out_error(cmd,
		    "--textfile and --metrics-max-ports go with "
		    "--format prometheus, not --format %s",
		    ctx->json && ctx->format == OUT_JSON ? "json"
			: ctx->format == OUT_CSV	 ? "csv"
							 : "jsonl");
		return EXIT_USAGE;
	}
	if (format != NULL && strcmp(format, "prometheus") != 0) {
		out_error(cmd, "--format takes 'prometheus', not '%s'", format);
		return EXIT_USAGE;
	}
	if (dir != NULL && access(dir, W_OK) != 0) {
		out_error(cmd, "--textfile: %s: %s", dir, strerror(errno));
		return EXIT_USAGE;
	}
	if (db == NULL && (db = pdx_db_open(ctx->db_path)) == NULL) {
		out_error(cmd, "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if ((rows = pdx_registry_rows(db)) >= 0)
		m.registry_rows = rows;
	m.registry_built = utc_time(pdx_db_meta(db, "built"));
	m.db = db;
	m.state = ctx->state;
	hb_init(&b, SERVE_MAX_PAGE);
	metrics_host(&b, &m);
	metrics_local(&b, &m);
	if (b.oom) {
		out_error(cmd, "out of memory");
		rc = EXIT_USAGE;
	} else if (dir != NULL) {
		if (write_textfile(cmd, dir, b.p, b.len) != 0)
			rc = EXIT_USAGE;
	} else if (fwrite(b.p, 1, b.len, ctx->out) != b.len ||
	    fflush(ctx->out) != 0) {
		out_error(cmd, "cannot write the metrics: %s", strerror(errno));
		rc = EXIT_USAGE;
	}
	hb_free(&b);
	if (db != ctx->db)
		pdx_db_close(db);
	return rc;
}
