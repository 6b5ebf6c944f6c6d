/*
 * registry-build.c - `portdex update`: builds a new registry database from
 * the sources found (IANA CSV, services(5) files, nmap-services, RPC
 * names, curated knowledge), beside the old one, and renames it over it
 * only when everything went in.  Also computes what changed against the
 * previous database.  Reading the registry is registry.c's job; the
 * parsers are in sources.c and knowledge.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "registry-int.h"
#include "registry-build.h"

static const char schema_sql[] =
    "PRAGMA journal_mode=OFF;"
    "PRAGMA synchronous=OFF;"
    "PRAGMA page_size=4096;"
    "PRAGMA cache_size=-65536;"
    "PRAGMA temp_store=MEMORY;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE iana(id INTEGER PRIMARY KEY, origin TEXT NOT NULL,"
    " name TEXT NOT NULL, port TEXT NOT NULL, proto TEXT NOT NULL,"
    " description TEXT NOT NULL, assignee TEXT NOT NULL,"
    " contact TEXT NOT NULL, reg_date TEXT NOT NULL,"
    " mod_date TEXT NOT NULL, reference TEXT NOT NULL,"
    " service_code TEXT NOT NULL, unauth TEXT NOT NULL,"
    " notes TEXT NOT NULL, port_lo INTEGER, port_hi INTEGER,"
    " protomask INTEGER NOT NULL, status INTEGER NOT NULL, was TEXT);"
    "CREATE TABLE services(name TEXT NOT NULL, port_lo INTEGER NOT NULL,"
    " port_hi INTEGER NOT NULL, protomask INTEGER NOT NULL,"
    " aliases TEXT NOT NULL, comment TEXT NOT NULL, source TEXT NOT NULL);"
    "CREATE TABLE nmap(port INTEGER NOT NULL, proto INTEGER NOT NULL,"
    " name TEXT NOT NULL, freq REAL NOT NULL, rank INTEGER,"
    " PRIMARY KEY(port, proto)) WITHOUT ROWID;"
    "CREATE TABLE rpc(number INTEGER NOT NULL, name TEXT NOT NULL,"
    " aliases TEXT NOT NULL, source TEXT NOT NULL);"
    "CREATE TABLE brief(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE brief_names(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE VIRTUAL TABLE fts USING fts5(name, body, kind UNINDEXED,"
    " port_lo UNINDEXED, port_hi UNINDEXED, protomask UNINDEXED,"
    " summary UNINDEXED, tokenize='unicode61', detail='column');";

static const char index_sql[] =
    "CREATE INDEX iana_port ON iana(port_lo);"
    "CREATE INDEX iana_range ON iana(port_lo, port_hi)"
    " WHERE port_hi > port_lo;"
    "CREATE INDEX iana_name ON iana(name COLLATE NOCASE);"
    "CREATE INDEX services_port ON services(port_lo, port_hi);"
    "CREATE INDEX services_name ON services(name COLLATE NOCASE);"
    "CREATE INDEX rpc_number ON rpc(number);";

/* ---- finding sources ------------------------------------------------- */

static const char *
first_existing(const char *const *paths)
{
	for (; *paths != NULL; paths++)
		if (access(*paths, R_OK) == 0)
			return *paths;
	return NULL;
}

static const char *const services_paths[] = { "/usr/share/wireshark/services",
	"/etc/services", NULL };
static const char *const nmap_paths[] = { "/usr/share/nmap/nmap-services",
	"/usr/local/share/nmap/nmap-services", NULL };
static const char *const nmap_rpc_paths[] = { "/usr/share/nmap/nmap-rpc",
	"/usr/local/share/nmap/nmap-rpc", NULL };
static const char *const etc_rpc_paths[] = { "/etc/rpc", NULL };

#ifndef PDX_DATADIR
#define PDX_DATADIR "/usr/local/share/portdex"
#endif
#define IANA_CSV "service-names-port-numbers.csv"

/*
 * The newest YYYY-MM-DD in an IANA CSV (its newest registration or
 * modification): how old a copy of the registry is.  out gets "" when the
 * file cannot be read or holds no date.
 */
static void
iana_csv_date(const char *path, char out[11])
{
	char *buf, *p;
	size_t len;

	memset(out, 0, 11);
	if ((buf = pdx_read_file(path, 64u << 20, &len)) == NULL)
		return;
	for (p = buf; p + 10 <= buf + len; p++) {
		if (isdigit((unsigned char)p[0]) &&
		    isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) &&
		    isdigit((unsigned char)p[3]) && p[4] == '-' &&
		    isdigit((unsigned char)p[5]) &&
		    isdigit((unsigned char)p[6]) && p[7] == '-' &&
		    isdigit((unsigned char)p[8]) &&
		    isdigit((unsigned char)p[9]) &&
		    (p[0] == '1' || p[0] == '2') && memcmp(p, out, 10) > 0 &&
		    (p + 10 == buf + len || !isdigit((unsigned char)p[10])))
			memcpy(out, p, 10);
	}
	free(buf);
}

/* Where update --download keeps IANA's CSV: beside the registry. */
static void
kept_download_path(const char *dir, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, IANA_CSV) >= n)
		out[0] = '\0'; /* too long: nothing is kept */
}

/*
 * The IANA CSV to build from when none is named: the newer (by the dates
 * inside) of the snapshot shipped with portdex and a copy an earlier
 * --download kept beside the registry.  Sets *origin to "shipped" or
 * "downloaded".  NULL when there is neither.
 */
static const char *
default_iana(const char *dir, const char *kdir, char *buf, size_t n,
    const char **origin)
{
	const char *e = getenv("PORTDEX_DATA"), *cands[4];
	char kept[PATH_MAX], d1[11], d2[11];
	size_t i, k = 0;

	buf[0] = '\0';
	cands[k++] = kdir;
	cands[k++] = e != NULL && *e != '\0' ? e : NULL;
	cands[k++] = PDX_DATADIR;
#ifdef PDX_SRCDIR
	cands[k++] = PDX_SRCDIR "/data";
#endif
	for (i = 0; i < k; i++) {
		if (cands[i] == NULL)
			continue;
		snprintf(buf, n, "%s/iana/%s", cands[i], IANA_CSV);
		if (access(buf, R_OK) == 0)
			break;
		buf[0] = '\0';
	}
	kept_download_path(dir, kept, sizeof kept);
	if (kept[0] != '\0' && access(kept, R_OK) == 0) {
		iana_csv_date(kept, d2);
		if (buf[0] != '\0')
			iana_csv_date(buf, d1);
		if (buf[0] == '\0' || strcmp(d2, d1) > 0) {
			snprintf(buf, n, "%s", kept);
			*origin = "downloaded";
			return buf;
		}
	}
	*origin = "shipped";
	return buf[0] != '\0' ? buf : NULL;
}

static int
is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 ||
	    strncmp(s, "https://", 8) == 0 || strncmp(s, "file://", 7) == 0;
}

/* ---- the update ------------------------------------------------------ */

/* Records how long a stage took in report.timings_ms (for bench/). */
static void
stage(json_t *report, const char *name, struct timespec *t0)
{
	struct timespec t1;
	json_t *t = json_object_get(report, "timings_ms");

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (t == NULL) {
		t = json_object();
		json_object_set_new(report, "timings_ms", t);
	}
	json_object_set_new(t, name,
	    json_real((t1.tv_sec - t0->tv_sec) * 1e3 +
		(t1.tv_nsec - t0->tv_nsec) / 1e6));
	*t0 = t1;
}

static int
lock_registry(const struct pdx_update_opts *o, int *fdp, json_t *report)
{
	const char *db_path = o->db_path;
	char lock[PATH_MAX];
	int fd;

	if (snprintf(lock, sizeof lock, "%s.lock", db_path) >=
	    (int)sizeof lock) {
		pdx_set_error("%s: path too long", db_path);
		return -1;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		pdx_set_error("%s: %s", lock, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			pdx_set_error("%s: %s", lock, strerror(errno));
			close(fd);
			return -1;
		}
		json_object_set_new(report, "waited_for_lock", json_true());
		if (o->notify != NULL) {
			char msg[PATH_MAX + 80];

			snprintf(msg, sizeof msg,
			    "another update of %s is "
			    "running; waiting for it to finish",
			    db_path);
			o->notify(msg, o->notify_arg);
		}
		if (flock(fd, LOCK_EX) == -1) {
			pdx_set_error("%s: %s", lock, strerror(errno));
			close(fd);
			return -1;
		}
	}
	*fdp = fd;
	return 0;
}

static int
fsync_path(const char *path, int dir)
{
	int fd = open(path,
	    (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	int rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static void
dirname_of(const char *path, char *out, size_t n)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		snprintf(out, n, ".");
	else if (s == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(s - path), path);
}

/*
 * Removes what killed updates left beside the registry (NAME.new-PID and
 * NAME.download-PID whose process is gone).  Called with the lock held,
 * so no live update owns them.
 */
static void
remove_stale(const char *db_path, json_t *report)
{
	static const char *const kinds[] = { ".new-", ".download-",
		".brief.new-", ".card.new-" };
	char dir[PATH_MAX], path[PATH_MAX + 256];
	const char *base = strrchr(db_path, '/');
	struct dirent *de;
	DIR *d;
	size_t i, blen;
	int removed = 0;

	base = base != NULL ? base + 1 : db_path;
	blen = strlen(base);
	dirname_of(db_path, dir, sizeof dir);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0)
			continue;
		for (i = 0; i < sizeof kinds / sizeof *kinds; i++) {
			const char *p = de->d_name + blen;
			char *end;
			long pid;

			if (strncmp(p, kinds[i], strlen(kinds[i])) != 0)
				continue;
			pid = strtol(p + strlen(kinds[i]), &end, 10);
			if (*end != '\0' || pid <= 0)
				continue;
			if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue; /* a live process owns it */
			if (snprintf(path, sizeof path, "%s/%s", dir,
				de->d_name) < (int)sizeof path &&
			    unlink(path) == 0)
				removed++;
		}
	}
	closedir(d);
	if (removed > 0)
		json_object_set_new(report, "stale_files_removed",
		    json_integer(removed));
}

static int
mkdir_p(const char *dir)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * A second thread flushes the registry and writes and fsyncs the brief
 * file and the card file while the diff is computed: they need only the
 * registry's id, final at COMMIT, and its committed rows.  Without a thread (pthread_create
 * failing) it is written at the join.
 */
struct brief_job {
	struct build *b;
	const char *path;
	const char *cpath; /* the card file */
	struct pdx_cbuild *card;
	int card_only;	     /* the card file's job, not the brief's */
	const char *regpath; /* the registry to flush first */
	struct pdx_regid id;
	pthread_t tid;
	int started, pending, rc;
	char err[512];
};

static int fsync_path(const char *, int);

/*
 * The card file, from a connection of its own to the committed registry
 * (the update's connection computes the diff meanwhile).
 */
static int
card_job(struct brief_job *j)
{
	sqlite3 *db = NULL;
	int rc;

	if (sqlite3_open_v2(j->regpath, &db,
		SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", j->regpath,
		    db != NULL ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -1;
	}
	j->card = pdx_cbuild_make(db);
	sqlite3_close(db);
	if (j->card == NULL)
		return -1;
	rc = pdx_cfile_write(j->cpath, j->card, &j->id);
	pdx_cbuild_free(j->card);
	j->card = NULL;
	return rc;
}

static void *
brief_job_run(void *arg)
{
	struct brief_job *j = arg;

	/*
	 * The registry's pages are all written at COMMIT: flushing them now,
	 * while the diff runs, leaves little for the fsync after close (whose
	 * failure is the one reported).
	 */
	if (j->regpath != NULL && !j->card_only)
		(void)fsync_path(j->regpath, 0);
	if (j->card_only)
		j->rc = card_job(j);
	else
		j->rc = pdx_bfile_write(j->path, j->b->bwords, j->b->bnames,
		    j->b->boffs, j->b->bnnames, j->b->bnbytes, j->b->bmal,
		    j->b->bnmal, &j->id);
	if (j->rc != 0)
		snprintf(j->err, sizeof j->err, "%s", pdx_last_error());
	return NULL;
}

/* Waits for the job (or does it); 0, or -1 with the error set. */
static int
brief_job_finish(struct brief_job *j)
{
	if (j->started)
		pthread_join(j->tid, NULL);
	else
		brief_job_run(j);
	j->started = 0;
	if (j->rc != 0)
		pdx_set_error("%s", j->err);
	return j->rc;
}

/*
 * One update: its options, the database being built beside the old one,
 * the report, and the paths to clean up.  pdx_update runs the stages in
 * order: prepare, open, the primary source, the secondary sources, the
 * derived tables and COMMIT, the brief file's thread, the diff, install.
 */
struct upd {
	const struct pdx_update_opts *o;
	struct build b;
	json_t *report;
	char tmp[PATH_MAX], dir[PATH_MAX], dl[PATH_MAX];
	char btmp[PATH_MAX], bpath[PATH_MAX], defiana[PATH_MAX];
	char ctmp[PATH_MAX], cpath[PATH_MAX];
	char ianadate[11];
	const char *origin;
	const char *iana, *svc, *nm, *nrpc, *erpc; /* the sources */
	struct brief_job bjob, cjob;		   /* brief file; card file */
	int lockfd;
	struct timespec t0;
};

/* The directory, the lock, the temporary name, the sources. */
static int
upd_prepare(struct upd *u)
{
	const struct pdx_update_opts *o = u->o;

	dirname_of(o->db_path, u->dir, sizeof u->dir);
	if (mkdir_p(u->dir) != 0) {
		pdx_set_error("%s: cannot create directory: %s", u->dir,
		    strerror(errno));
		return -1;
	}
	u->report = json_pack("{s:s, s:[]}", "database", o->db_path, "sources");
	if (lock_registry(o, &u->lockfd, u->report) != 0)
		return -1;
	remove_stale(o->db_path, u->report);
	if (snprintf(u->tmp, sizeof u->tmp, "%s.new-%ld", o->db_path,
		(long)getpid()) >= (int)sizeof u->tmp) {
		pdx_set_error("%s: path too long", o->db_path);
		u->tmp[0] = '\0';
		return -1;
	}
	unlink(u->tmp);
	if (u->iana != NULL && is_url(u->iana)) {
		snprintf(u->dl, sizeof u->dl, "%s.download-%ld", o->db_path,
		    (long)getpid());
		if (pdx_download(u->iana, u->dl, 120) != 0)
			return -1;
		json_object_set_new(u->report, "downloaded",
		    json_string(u->iana));
	}
	if (!o->no_search) {
		if (u->iana == NULL)
			u->iana = default_iana(u->dir, o->knowledge_dir,
			    u->defiana, sizeof u->defiana, &u->origin);
		if (u->svc == NULL)
			u->svc = first_existing(services_paths);
		if (u->nm == NULL)
			u->nm = first_existing(nmap_paths);
		if (u->nrpc == NULL)
			u->nrpc = first_existing(nmap_rpc_paths);
		if (u->erpc == NULL)
			u->erpc = first_existing(etc_rpc_paths);
	}
	if (u->iana == NULL && u->svc == NULL) {
		pdx_set_error(
		    "no source for the registry: give --from FILE|URL "
		    "(IANA's CSV) or install a services file "
		    "(/usr/share/wireshark/services or /etc/services)");
		return -1;
	}
	return 0;
}

/* The new database: schema, a transaction, the insert statements. */
static int
upd_open(struct upd *u)
{
	struct build *b = &u->b;

	if (sqlite3_open_v2(u->tmp, &b->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		pdx_set_error("%s: %s", u->tmp,
		    b->db != NULL ? sqlite3_errmsg(b->db) : "cannot create");
		return -1;
	}
	if (rb_exec_sql(b->db, schema_sql, u->tmp) != 0 ||
	    rb_exec_sql(b->db, "BEGIN", u->tmp) != 0)
		return -1;
	if (rb_prepare(b->db, "INSERT INTO services VALUES (?,?,?,?,?,?,?)",
		&b->ins_svc) != 0 ||
	    rb_prepare(b->db, "INSERT INTO rpc VALUES (?,?,?,?)",
		&b->ins_rpc) != 0 ||
	    rb_prepare(b->db, "INSERT OR REPLACE INTO meta VALUES (?,?)",
		&b->ins_meta) != 0)
		return -1;
	return 0;
}

/* IANA's CSV, else a services file, as the rows of table iana. */
static int
upd_primary(struct upd *u)
{
	struct build *b = &u->b;
	const char *iana = u->iana, *path, *origin;
	long n;

	if (iana == NULL) {
		if (rb_import_file(b, u->report, "services-primary", u->svc,
			(parse_fn)pdx_services_parse,
			(void *)rb_add_service_as_iana) < 0)
			return -1;
		rb_meta_set(b, "primary", "services");
		return rb_store_iana(b);
	}
	path = u->dl[0] != '\0'
	    ? u->dl
	    : (strncmp(iana, "file://", 7) == 0 ? iana + 7 : iana);
	n = rb_import_file(b, u->report, "iana", path, (parse_fn)pdx_iana_parse,
	    (void *)rb_add_iana_row);
	if (n < 0)
		return -1;
	if (n == 0) {
		pdx_set_error("%s: the IANA file has no rows", iana);
		return -1;
	}
	if (u->dl[0] != '\0') {
		/* name the URL, not the temporary file */
		json_t *s = json_array_get(json_object_get(u->report,
					       "sources"),
		    0);
		json_object_set_new(s, "path", json_string(iana));
	}
	rb_meta_set(b, "primary", "iana");
	iana_csv_date(path, u->ianadate);
	rb_meta_set(b, "iana_date", u->ianadate);
	origin = u->dl[0] != '\0' ? "downloaded"
	    : u->origin != NULL	  ? u->origin
				  : "named";
	rb_meta_set(b, "iana_origin", origin);
	json_object_set_new(u->report, "iana_date", json_string(u->ianadate));
	json_object_set_new(u->report, "iana_origin", json_string(origin));
	b->rows_are_iana = 1;
	return rb_store_iana(b);
}

/* services(5) names, nmap's frequencies, RPC names. */
static int
upd_secondary(struct upd *u)
{
	struct build *b = &u->b;
	const char *svc = u->svc;

	if (svc != NULL &&
	    rb_import_file(b, u->report, "services", svc,
		(parse_fn)pdx_services_parse, (void *)rb_add_service) < 0)
		return -1;
	if (!u->o->no_search &&
	    strcmp(svc != NULL ? svc : "", "/etc/services") != 0 &&
	    access("/etc/services", R_OK) == 0 &&
	    rb_import_file(b, u->report, "etc-services", "/etc/services",
		(parse_fn)pdx_services_parse, (void *)rb_add_service) < 0)
		return -1;
	if (u->nm != NULL &&
	    (rb_import_file(b, u->report, "nmap-services", u->nm,
		 (parse_fn)pdx_nmap_parse, (void *)rb_add_nmap) < 0 ||
		rb_store_nmap(b) != 0))
		return -1;
	if (u->erpc != NULL &&
	    rb_import_file(b, u->report, "etc-rpc", u->erpc,
		(parse_fn)pdx_rpcnames_parse, (void *)rb_add_rpc) < 0)
		return -1;
	if (u->nrpc != NULL &&
	    rb_import_file(b, u->report, "nmap-rpc", u->nrpc,
		(parse_fn)pdx_rpcnames_parse, (void *)rb_add_rpc) < 0)
		return -1;
	return 0;
}

/* The meta rows and the build's identity, then COMMIT. */
static int
upd_commit(struct upd *u)
{
	struct build *b = &u->b;
	char when[32], sql[96];
	time_t now = time(NULL);
	struct tm tm;
	uint32_t nonce;

	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	rb_meta_set(b, "built", when);
	rb_meta_set(b, "sources", b->sources);
	rb_meta_set(b, "schema", PDX_REGISTRY_SCHEMA_S);
	rb_meta_set(b, "portdex_version", PDX_VERSION);
	/*
	 * A random user_version per build: with the size and the change
	 * counter it tells this registry from any other one
	 * (pdx_regid_read), so a brief file is never taken for another
	 * build's.  application_id marks the file as ours.
	 */
	if (getrandom(&nonce, sizeof nonce, 0) != sizeof nonce)
		nonce = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^
		    (uint32_t)u->t0.tv_nsec;
	snprintf(sql, sizeof sql,
	    "PRAGMA user_version = %ld; "
	    "PRAGMA application_id = %d",
	    (long)(nonce & 0x7fffffff), PDX_REGISTRY_APPID);
	if (rb_exec_sql(b->db, sql, u->tmp) != 0)
		return -1;
	return rb_exec_sql(b->db, "COMMIT", u->tmp);
}

/* The brief and card files, written by a second thread while the diff runs. */
static int
upd_brief_start(struct upd *u)
{
	const char *db = u->o->db_path;

	/* the registry's id is final now: the brief file can be written */
	if (pdx_regid_read(u->tmp, &u->bjob.id) != 0)
		return -1;
	if (snprintf(u->btmp, sizeof u->btmp, "%s.brief.new-%ld", db,
		(long)getpid()) >= (int)sizeof u->btmp ||
	    snprintf(u->bpath, sizeof u->bpath, "%s.brief", db) >=
		(int)sizeof u->bpath ||
	    snprintf(u->ctmp, sizeof u->ctmp, "%s.card.new-%ld", db,
		(long)getpid()) >= (int)sizeof u->ctmp ||
	    snprintf(u->cpath, sizeof u->cpath, "%s.card", db) >=
		(int)sizeof u->cpath) {
		pdx_set_error("%s: path too long", db);
		u->btmp[0] = u->ctmp[0] = '\0';
		return -1;
	}
	u->bjob.b = &u->b;
	u->bjob.path = u->btmp;
	u->bjob.regpath = u->tmp;
	/* the card file in a thread of its own: its dump is CPU, the brief's
	 * thread mostly waits for fsync */
	u->cjob = u->bjob;
	u->cjob.cpath = u->ctmp;
	u->cjob.card_only = 1;
	u->cjob.regpath = u->tmp;
	u->bjob.started = pthread_create(&u->bjob.tid, NULL, brief_job_run,
			      &u->bjob) == 0;
	u->bjob.pending = 1;
	u->cjob.started = pthread_create(&u->cjob.tid, NULL, brief_job_run,
			      &u->cjob) == 0;
	u->cjob.pending = 1;
	return 0;
}

/* What changed against the registry being replaced (never fatal). */
static void
upd_diff(struct upd *u)
{
	struct build *b = &u->b;
	struct rowset none = { NULL, 0, 0 };
	sqlite3_stmt *st;
	int have_old = access(u->o->db_path, R_OK) == 0, attached = 0;

	json_object_set_new(u->report, "previous", json_boolean(have_old));
	if (!have_old)
		return;
	if (rb_prepare(b->db, "ATTACH DATABASE ? AS old", &st) == 0) {
		sqlite3_bind_text(st, 1, u->o->db_path, -1, SQLITE_STATIC);
		attached = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_finalize(st);
	}
	if (!attached ||
	    rb_build_diff(b->db, b->rows_are_iana ? &b->rows : &none,
		u->report) != 0)
		json_object_set_new(u->report, "diff_error",
		    json_string(
			attached ? pdx_last_error() : sqlite3_errmsg(b->db)));
	if (attached)
		rb_exec_sql(b->db, "DETACH DATABASE old", u->tmp);
}

/*
 * Closes and syncs the new registry and renames it, then its brief file,
 * over the old ones.  The brief file names the registry by its size and
 * SQLite header (pdx_regid_read), which the rename keeps; check that
 * nothing changed it since COMMIT.  Registry first: between the two
 * renames the old brief file is stale, and stale brief files are passed
 * over.
 */
static int
upd_install(struct upd *u)
{
	struct build *b = &u->b;
	struct pdx_regid rid;

	sqlite3_finalize(b->ins_svc);
	sqlite3_finalize(b->ins_rpc);
	sqlite3_finalize(b->ins_meta);
	b->ins_svc = b->ins_rpc = b->ins_meta = NULL;
	if (sqlite3_close(b->db) != SQLITE_OK) {
		pdx_set_error("%s: %s", u->tmp, sqlite3_errmsg(b->db));
		b->db = NULL;
		return -1;
	}
	b->db = NULL;
	if (chmod(u->tmp, 0644) != 0 || fsync_path(u->tmp, 0) != 0) {
		pdx_set_error("%s: %s", u->tmp, strerror(errno));
		return -1;
	}
	u->bjob.pending = u->cjob.pending = 0;
	if (brief_job_finish(&u->cjob) != 0) {
		(void)brief_job_finish(&u->bjob);
		return -1; /* upd_free removes what was written */
	}
	if (brief_job_finish(&u->bjob) != 0)
		return -1; /* upd_free removes what was written */
	if (pdx_regid_read(u->tmp, &rid) != 0)
		return -1;
	if (rid.size != u->bjob.id.size ||
	    memcmp(rid.h, u->bjob.id.h, sizeof rid.h) != 0) {
		pdx_set_error("%s: changed after COMMIT", u->tmp);
		return -1;
	}
	if (rename(u->tmp, u->o->db_path) != 0) {
		pdx_set_error("%s: %s", u->o->db_path, strerror(errno));
		return -1;
	}
	u->tmp[0] = '\0';
	if (rename(u->btmp, u->bpath) != 0) {
		pdx_set_error("%s: %s", u->bpath, strerror(errno));
		return -1;
	}
	u->btmp[0] = '\0';
	if (rename(u->ctmp, u->cpath) != 0) {
		pdx_set_error("%s: %s", u->cpath, strerror(errno));
		return -1;
	}
	u->ctmp[0] = '\0';
	if (u->dl[0] != '\0') {
		/* --download keeps IANA's CSV for later updates */
		char kept[PATH_MAX];

		kept_download_path(u->dir, kept, sizeof kept);
		if (kept[0] != '\0' && rename(u->dl, kept) == 0)
			u->dl[0] = '\0';
	}
	fsync_path(u->dir, 1);
	return 0;
}

/* Frees what the update holds and removes what a failed one left. */
static void
upd_free(struct upd *u, int ok)
{
	struct build *b = &u->b;
	int i;

	if (u->bjob.pending)
		(void)brief_job_finish(&u->bjob); /* then removed below */
	if (u->cjob.pending)
		(void)brief_job_finish(&u->cjob);
	sqlite3_finalize(b->ins_svc);
	sqlite3_finalize(b->ins_rpc);
	sqlite3_finalize(b->ins_meta);
	if (b->db != NULL)
		sqlite3_close(b->db);
	rb_free_nmap(b);
	rb_rowset_free(&b->rows);
	for (i = 0; i < PDX_NPROTO; i++)
		free(b->bwords[i]);
	free(b->bnames);
	free(b->boffs);
	rb_free_malware(b);
	if (!ok && u->tmp[0] != '\0')
		unlink(u->tmp);
	if (u->btmp[0] != '\0')
		unlink(u->btmp);
	if (u->ctmp[0] != '\0')
		unlink(u->ctmp);
	pdx_cbuild_free(u->cjob.card);
	if (u->dl[0] != '\0')
		unlink(u->dl);
	if (u->lockfd != -1)
		close(u->lockfd);
}

json_t *
pdx_update(const struct pdx_update_opts *o)
{
	struct upd *u;
	json_t *report = NULL;
	int ok = 0;

	if (o->db_path == NULL || *o->db_path == '\0') {
		pdx_set_error("no registry path");
		return NULL;
	}
	if ((u = calloc(1, sizeof *u)) ==
	    NULL) { /* 6 paths: not on the stack */
		pdx_set_error("out of memory");
		return NULL;
	}
	u->o = o;
	u->lockfd = -1;
	u->iana = o->iana;
	u->svc = o->services;
	u->nm = o->nmap_services;
	u->nrpc = o->nmap_rpc;
	u->erpc = o->etc_rpc;
	clock_gettime(CLOCK_MONOTONIC, &u->t0);
	if (upd_prepare(u) != 0 || upd_open(u) != 0)
		goto out;
	stage(u->report, "setup", &u->t0);
	if (upd_primary(u) != 0)
		goto out;
	stage(u->report, "primary", &u->t0);
	if (upd_secondary(u) != 0)
		goto out;
	stage(u->report, "secondary", &u->t0);
	if (pdx_knowledge_import(u->b.db, o->knowledge_dir, u->report,
		o->no_search) != 0)
		goto out;
	stage(u->report, "knowledge", &u->t0);
	if (rb_exec_sql(u->b.db, index_sql, u->tmp) != 0 ||
	    pdx_related_build(u->b.db) != 0)
		goto out;
	stage(u->report, "indexes", &u->t0);
	if (rb_build_search(&u->b, u->tmp) != 0)
		goto out;
	stage(u->report, "search", &u->t0);
	if (rb_build_brief(&u->b) != 0 || rb_build_malware(&u->b) != 0)
		goto out;
	stage(u->report, "brief", &u->t0);
	if (upd_commit(u) != 0 || upd_brief_start(u) != 0)
		goto out;
	upd_diff(u);
	stage(u->report, "diff", &u->t0);
	json_object_set_new(u->report, "rows", json_integer(u->b.nrows));
	if (upd_install(u) != 0)
		goto out;
	stage(u->report, "commit", &u->t0);
	ok = 1;
out:
	upd_free(u, ok);
	if (ok)
		report = u->report;
	else
		json_decref(u->report);
	free(u);
	return report;
}
