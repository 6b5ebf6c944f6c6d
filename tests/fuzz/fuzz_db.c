/*
 * fuzz_db.c - libFuzzer harness for reading a damaged registry database:
 * pdx_db_open, then what a command reads from it (meta, card, brief,
 * range lines, names, search, RPC names, export).  SQLite checks its own
 * file format; this harness is about our code, which must turn a damaged
 * file into an error and never crash on NULL columns, short blobs or odd
 * types.
 *
 * At start-up the harness builds a small, valid registry with pdx_update
 * from a few hand-written IANA rows (and the curated data/ files when
 * they are there) and keeps it in memory as a template.  The template is
 * the same bytes in every run (a fixed build time, source path and file
 * date), so that a saved input damages the same place next time.  An
 * input that starts with SQLite's magic string is used as the whole
 * file; any other input is a list of patches applied to the template,
 * each one [offset: 4 bytes, little endian][n: 1 byte][n bytes]; the
 * last offset's low 16 bits pick the port and its high 16 bits (sel)
 * what is read.  Every input opens the file and reads meta; then sel % 8
 * picks one reader:
 *
 *   0  the card of the port (tcp, udp and what IANA lists)
 *   1  the card of the port, every transport
 *   2  the brief of the port for each transport, and its range line
 *      (opened as `ls` does, pdx_db_open_brief, when sel / 8 is odd:
 *      there is no brief file beside it, so that reads the header and
 *      falls back to SQLite)
 *   3  ports by name ("ssh")
 *   4  a search ("shell")
 *   5  an RPC program's name (100000)
 *   6, 7  an export: CSV, services(5) or JSON as sel / 8 % 3
 *
 * Speed (the goal is a million runs per harness; this one ran 60 to 80
 * a second under the sanitizers): the template is about 1.4 MB (four
 * 256 KiB brief blobs, the curated uses and their full-text index), and
 * copying it and writing it to a file for every input took most of the
 * time.  Now the file lives in memory (/dev/shm, else /tmp) and is
 * written once; an input's patches are written into it with pwrite and
 * undone afterwards from the template, so an input costs its patches,
 * not the file.  SQLite reads it through a mapping and allocates with
 * fuzz.h's fuzz_sqlite_malloc (poisoned like AddressSanitizer's blocks,
 * without the stack traces that were half of a run); a run must give all
 * of that memory back (a CHECK, as LeakSanitizer does not see it).  What
 * remains is SQLite reading the schema and preparing statements, and the
 * card, which alone was half of a run: hence one reader per input rather
 * than all of them.  PDX_FUZZ_DB_VERIFY=1 checks after every input that
 * the file is the template again.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

static const char template_csv[] =
    "Service Name,Port Number,Transport Protocol,Description,Assignee,"
    "Contact,Registration Date,Modification Date,Reference,Service Code,"
    "Unauthorized Use Reported,Assignment Notes\n"
    ",0,tcp,Reserved,,,,,,,,\n"
    "ssh,22,tcp,The Secure Shell (SSH) Protocol,,,,,[RFC4251],,,\n"
    "ssh,22,udp,The Secure Shell (SSH) Protocol,,,,,[RFC4251],,,\n"
    "sunrpc,111,tcp,SUN Remote Procedure Call,[Someone],[Someone],,,,,,\n"
    "pssc,645,tcp,PSSC,[A_Person],[A_Person],,,,,,\n"
    "pssc,645,udp,PSSC,[A_Person],[A_Person],,,,,,\n"
    ",646,tcp,\"Unassigned\",,,,,,,,\"was something,\n"
    "now free\"\n"
    "x11,6000-6063,tcp,X Window System,,,,,,,,\n"
    "x11,6000-6063,udp,X Window System,,,,,,,,\n"
    "dwr,644,tcp,dwr,,,,,,,Yes,\n"
    "sctpx,9,sctp,Discard over SCTP,,,,,,,,\n";

/* What the template says about when it was built. */
#define FIXED_BUILT "2000-01-01T00:00:00Z"
#define FIXED_MTIME 946684800 /* 2000-01-01, the CSV's date */

static char dir[128];
static char dbpath[sizeof dir + 16], rawpath[sizeof dir + 16];
static int dbfd = -1; /* dbpath: the template between runs */
static int verify;    /* PDX_FUZZ_DB_VERIFY */
static FILE *devnull; /* where exports go */
static char nullbuf[BUFSIZ];
static uint8_t *tmpl;
static size_t tmpl_len;

static void
cleanup(void)
{
	if (dbfd != -1)
		close(dbfd);
	if (devnull != NULL)
		fclose(devnull);
	fuzz_rmdir(dir);
}

static int
write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t w;

	if (fd == -1)
		return -1;
	w = write(fd, buf, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

/* pwrite of all of buf at off into the working file, or exit. */
static void
put(const void *buf, size_t len, size_t off)
{
	if (pwrite(dbfd, buf, len, (off_t)off) != (ssize_t)len) {
		fprintf(stderr, "fuzz_db: %s: %s\n", dbpath, strerror(errno));
		exit(1);
	}
}

/*
 * Builds the template in dir with relative names, so that no path of
 * this run ends up in it, and replaces the build time.  Exits on failure.
 */
static void
build_template(void)
{
	struct pdx_update_opts o;
	struct timespec ts[2] = { { FIXED_MTIME, 0 }, { FIXED_MTIME, 0 } };
	char kdir[4096], built[64];
	const char *k = getenv("PDX_FUZZ_KNOWLEDGE"), *b;
	struct pdx_db *d;
	json_t *rep;
	uint8_t *at;
	int cwd;

	snprintf(kdir, sizeof kdir, "%s", k != NULL ? k : PDX_SRCDIR "/data");
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY)) == -1 ||
	    chdir(dir) != 0) {
		perror("fuzz_db: chdir");
		exit(1);
	}
	if (write_file("template.csv", template_csv, sizeof template_csv - 1) !=
		0 ||
	    utimensat(AT_FDCWD, "template.csv", ts, 0) != 0) {
		perror("fuzz_db: template.csv");
		exit(1);
	}
	memset(&o, 0, sizeof o);
	o.db_path = "template.db";
	o.iana = "template.csv";
	o.knowledge_dir = access(kdir, R_OK) == 0 ? kdir : NULL;
	o.no_search = 1;
	rep = pdx_update(&o);
	if (fchdir(cwd) != 0) {
		perror("fuzz_db: fchdir");
		exit(1);
	}
	close(cwd);
	if (rep == NULL) {
		fprintf(stderr, "fuzz_db: cannot build the template: %s\n",
		    pdx_last_error());
		exit(1);
	}
	json_decref(rep);
	snprintf(dbpath, sizeof dbpath, "%s/template.db", dir);
	built[0] = '\0';
	if ((d = pdx_db_open(dbpath)) != NULL) {
		if ((b = pdx_db_meta(d, "built")) != NULL)
			snprintf(built, sizeof built, "%s", b);
		pdx_db_close(d);
	}
	if (strlen(built) != sizeof FIXED_BUILT - 1) {
		fprintf(stderr,
		    "fuzz_db: template: unexpected build time "
		    "'%s'\n",
		    built);
		exit(1);
	}
	if ((tmpl = (uint8_t *)pdx_read_file(dbpath, 64 << 20, &tmpl_len)) ==
	    NULL) {
		fprintf(stderr, "fuzz_db: %s\n", pdx_last_error());
		exit(1);
	}
	/* The value is stored once, as text of the same length. */
	at = memmem(tmpl, tmpl_len, built, strlen(built));
	CHECK(at != NULL);
	memcpy(at, FIXED_BUILT, strlen(built));
	CHECK(memmem(tmpl, tmpl_len, built, strlen(built)) == NULL);
}

int LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
#ifdef FUZZ_HAVE_SQLITE_MALLOC
	fuzz_sqlite_malloc();
#endif
	/*
	 * Pages read through a mapping of the file, not copied with pread
	 * into allocated buffers: SQLite copies every value it hands out
	 * either way, so our code sees the same.
	 */
	CHECK(sqlite3_config(SQLITE_CONFIG_MMAP_SIZE, (sqlite3_int64)64 << 20,
		  (sqlite3_int64)64 << 20) == SQLITE_OK);
	fuzz_workdir("db", dir, sizeof dir);
	atexit(cleanup);
	verify = getenv("PDX_FUZZ_DB_VERIFY") != NULL;
	if ((devnull = fopen("/dev/null", "w")) == NULL) {
		perror("fuzz_db: /dev/null");
		exit(1);
	}
	/*
	 * A buffer of its own: one malloc'd by the first export and kept
	 * looks like a leak to libFuzzer, which then runs the input again.
	 */
	setvbuf(devnull, nullbuf, _IOFBF, sizeof nullbuf);
	build_template();
	snprintf(dbpath, sizeof dbpath, "%s/fuzz.db", dir);
	snprintf(rawpath, sizeof rawpath, "%s/raw.db", dir);
	/* A patch (at most 255 bytes) wraps around the end at most once. */
	if (tmpl_len < 256 || write_file(dbpath, tmpl, tmpl_len) != 0 ||
	    (dbfd = open(dbpath, O_RDWR)) == -1) {
		fprintf(stderr, "fuzz_db: %s: %s\n", dbpath,
		    tmpl_len < 256 ? "template too small" : strerror(errno));
		exit(1);
	}
	return 0;
}

/* Reads every key and string in j (cheaper than printing it). */
static void
touch_all(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j))
		fuzz_touch(json_string_value(j));
	else if (json_is_array(j)) {
		json_array_foreach(j, i, v) touch_all(v);
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
		{
			fuzz_touch(k);
			touch_all(v);
		}
	}
}

static void
touch_json(json_t *j)
{
	touch_all(j);
	json_decref(j);
}

/* Meta, then the one reader sel picks (see the top of the file). */
static void
read_some(struct pdx_db *d, unsigned port, unsigned sel)
{
	static const int protos[] = { PDX_TCP, PDX_UDP, PDX_SCTP, PDX_DCCP };
	struct pdx_brief b;
	const char *name, *aliases;
	size_t i;

	fuzz_touch(pdx_db_meta(d, "sources"));
	switch (sel % 8) {
	case 0:
	case 1:
		touch_json(pdx_card(d, port, sel % 8 ? PDX_PROTO_ALL : 0));
		break;
	case 2:
		for (i = 0; i < sizeof protos / sizeof *protos; i++) {
			if (pdx_brief(d, port, protos[i], &b) != 0) {
				fuzz_error_set();
				continue;
			}
			fuzz_touch(b.name);
			CHECK(b.status <= PDX_ST_ASSIGNED &&
			    b.risk <= PDX_LEVEL_HIGH);
		}
		touch_json(pdx_card_brief(d, port, 0));
		break;
	case 3:
		touch_json(pdx_ports_by_name(d, "ssh"));
		break;
	case 4:
		touch_json(pdx_find(d, "shell", 5));
		break;
	case 5:
		if (pdx_rpc_name(d, 100000, &name, &aliases) == 0) {
			fuzz_touch(name);
			fuzz_touch(aliases);
		}
		break;
	default:
		if (pdx_export(d, (int)(sel / 8 % 3), devnull) != 0)
			fuzz_error_set();
	}
}

/*
 * Where the patches of one input went, to be undone from the template:
 * each patch is at most two pieces (it may wrap around the end).
 */
struct piece {
	size_t off, len;
};

/* Writes the input's patches into the file; returns how many pieces. */
static size_t
apply_patches(const uint8_t *data, size_t size, struct piece *pc,
    unsigned *port, unsigned *sel)
{
	size_t i = 0, np = 0;

	while (i + 5 <= size) {
		uint32_t off = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
		    (uint32_t)data[i + 2] << 16 | (uint32_t)data[i + 3] << 24;
		size_t n = data[i + 4], at;

		i += 5;
		*port = off & 0xffff;
		*sel = off >> 16;
		if (n > size - i)
			n = size - i; /* the input ends in the patch */
		at = off % tmpl_len;
		while (n > 0) {
			size_t k = n < tmpl_len - at ? n : tmpl_len - at;

			put(data + i, k, at);
			pc[np].off = at;
			pc[np].len = k;
			np++;
			i += k;
			n -= k;
			at = 0;
		}
	}
	return np;
}

static void
undo_patches(const struct piece *pc, size_t np)
{
	size_t k;
	uint8_t *buf;

	for (k = 0; k < np; k++)
		put(tmpl + pc[k].off, pc[k].len, pc[k].off);
	if (!verify)
		return;
	buf = malloc(tmpl_len);
	CHECK(buf != NULL);
	CHECK(pread(dbfd, buf, tmpl_len, 0) == (ssize_t)tmpl_len);
	CHECK(memcmp(buf, tmpl, tmpl_len) == 0);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char magic[16] = "SQLite format 3";
	struct pdx_db *d;
	struct piece *pc = NULL;
	size_t np = 0;
	unsigned port = 645, sel = 0;
	const char *path = dbpath;
#ifdef FUZZ_HAVE_SQLITE_MALLOC
	size_t live = fuzz_sqlite_live();
#endif

	if (size >= sizeof magic && memcmp(data, magic, sizeof magic) == 0) {
		/* The whole file: small, so written out each time. */
		if (write_file(rawpath, data, size) != 0) {
			fprintf(stderr, "fuzz_db: %s: %s\n", rawpath,
			    strerror(errno));
			exit(1);
		}
		path = rawpath;
	} else {
		if ((pc = malloc((size / 5 + 1) * 2 * sizeof *pc)) == NULL)
			return 0;
		np = apply_patches(data, size, pc, &port, &sel);
	}
	/* the brief reader as `ls` opens it, half the time */
	if ((d = (sel % 8 == 2 && sel / 8 % 2 ? pdx_db_open_brief(path)
					      : pdx_db_open(path))) == NULL)
		fuzz_error_set();
	else {
		read_some(d, port, sel);
		pdx_db_close(d);
	}
#ifdef FUZZ_HAVE_SQLITE_MALLOC
	/* Every statement finalized, the connection closed: no leak. */
	CHECK(fuzz_sqlite_live() == live);
#endif
	if (pc != NULL) {
		undo_patches(pc, np);
		free(pc);
	}
	return 0;
}
