/*
 * fuzz_db.c - libFuzzer harness for reading a damaged registry database:
 * pdx_db_open, then everything a command reads from it (meta, brief,
 * card, names, search, RPC names, export).  SQLite checks its own file
 * format; this harness is about our code, which must turn a damaged file
 * into an error and never crash on NULL columns, short blobs or odd types.
 *
 * At start-up the harness builds a small, valid registry with pdx_update
 * from a few hand-written IANA rows (and the curated data/ files when
 * they are there) and keeps it in memory as a template.  An input that
 * starts with SQLite's magic string is used as the whole file; any other
 * input is a list of patches applied to the template, each one
 * [offset: 4 bytes, little endian][n: 1 byte][n bytes]; the last offset
 * also picks the port whose card is read and what else is read.
 */
#include <errno.h>
#include <fcntl.h>
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

static char	 dir[] = "/tmp/pdx-fuzz-db.XXXXXX";
static char	 dbpath[sizeof dir + 16];
static uint8_t	*tmpl;
static size_t	 tmpl_len;

static void
cleanup(void)
{
	char p[sizeof dir + 32];
	static const char *const names[] = {
		"template.csv", "template.db", "template.db.lock", "fuzz.db",
		"fuzz.db-journal", "fuzz.db-wal", "fuzz.db-shm",
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
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

int	LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pdx_update_opts o;
	char csv[sizeof dir + 16], tdb[sizeof dir + 16], kdir[4096];
	const char *k = getenv("PDX_FUZZ_KNOWLEDGE");
	json_t *rep;

	if (mkdtemp(dir) == NULL) {
		perror("fuzz_db: mkdtemp");
		exit(1);
	}
	atexit(cleanup);
	snprintf(csv, sizeof csv, "%s/template.csv", dir);
	snprintf(tdb, sizeof tdb, "%s/template.db", dir);
	snprintf(dbpath, sizeof dbpath, "%s/fuzz.db", dir);
	if (write_file(csv, template_csv, sizeof template_csv - 1) != 0) {
		perror("fuzz_db: template.csv");
		exit(1);
	}
	snprintf(kdir, sizeof kdir, "%s", k != NULL ? k : PDX_SRCDIR "/data");
	memset(&o, 0, sizeof o);
	o.db_path = tdb;
	o.iana = csv;
	o.knowledge_dir = access(kdir, R_OK) == 0 ? kdir : NULL;
	o.no_search = 1;
	if ((rep = pdx_update(&o)) == NULL) {
		fprintf(stderr, "fuzz_db: cannot build the template: %s\n",
		    pdx_last_error());
		exit(1);
	}
	json_decref(rep);
	if ((tmpl = (uint8_t *)pdx_read_file(tdb, 64 << 20, &tmpl_len))
	    == NULL) {
		fprintf(stderr, "fuzz_db: %s\n", pdx_last_error());
		exit(1);
	}
	return 0;
}

static void
touch_json(json_t *j)
{
	char *s;

	if (j == NULL)
		return;
	if ((s = json_dumps(j, JSON_COMPACT)) != NULL) {
		fuzz_touch(s);
		free(s);
	}
	json_decref(j);
}

/*
 * One card per input keeps the harness near 50 runs a second under the
 * sanitizers (opening the file and preparing the statements dominate).
 */
static void
read_everything(struct pdx_db *d, unsigned port, unsigned sel)
{
	struct pdx_brief b;
	const char *name, *aliases;
	FILE *null;

	fuzz_touch(pdx_db_meta(d, "sources"));
	touch_json(pdx_card(d, port, (sel & 1) ? PDX_PROTO_ALL : 0));
	if (pdx_brief(d, port, PDX_TCP, &b) == 0) {
		fuzz_touch(b.name);
		CHECK(b.status <= PDX_ST_ASSIGNED && b.risk <= PDX_LEVEL_HIGH);
	}
	touch_json(pdx_card_brief(d, port, 0));
	switch (sel % 5) {
	case 0:
		touch_json(pdx_ports_by_name(d, "ssh"));
		break;
	case 1:
		touch_json(pdx_find(d, "shell", 5));
		break;
	case 2:
		if (pdx_rpc_name(d, 100000, &name, &aliases) == 0) {
			fuzz_touch(name);
			fuzz_touch(aliases);
		}
		break;
	default:
		if ((null = fopen("/dev/null", "w")) != NULL) {
			(void)pdx_export(d, (int)(sel / 5 % 3), null);
			fclose(null);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char magic[16] = "SQLite format 3";
	struct pdx_db *d;
	uint8_t *img;
	size_t len, i;
	unsigned port = 645, sel = 0;

	if (size >= sizeof magic && memcmp(data, magic, sizeof magic) == 0) {
		img = malloc(size);
		len = size;
		if (img == NULL)
			return 0;
		memcpy(img, data, size);
	} else {
		if ((img = malloc(tmpl_len)) == NULL)
			return 0;
		memcpy(img, tmpl, tmpl_len);
		len = tmpl_len;
		for (i = 0; i + 5 <= size; ) {
			uint32_t off = (uint32_t)data[i] |
			    (uint32_t)data[i + 1] << 8 |
			    (uint32_t)data[i + 2] << 16 |
			    (uint32_t)data[i + 3] << 24;
			size_t n = data[i + 4], j;

			i += 5;
			port = off & 0xffff;
			sel = off >> 16;
			for (j = 0; j < n && i < size; j++, i++)
				img[(off + j) % len] = data[i];
		}
	}
	if (write_file(dbpath, img, len) != 0) {
		fprintf(stderr, "fuzz_db: %s: %s\n", dbpath, strerror(errno));
		exit(1);
	}
	free(img);
	if ((d = pdx_db_open(dbpath)) == NULL) {
		fuzz_error_set();
		return 0;
	}
	read_everything(d, port, sel);
	pdx_db_close(d);
	return 0;
}
