/*
 * fuzz_brief.c - libFuzzer harness for the brief file reader
 * (lib/briefs.c: pdx_bfile_open_fd, pdx_bfile_word, pdx_bfile_name,
 * pdx_bfile_malware).  A brief file is over a megabyte, so the input is
 * not the file but edits to a valid one that pdx_bfile_write made at
 * start-up (300 names, words that use them, 40 malware rows): records of
 *	op (1 byte)  offset (3 bytes, little-endian)  length (1)  bytes
 * where op % 5 picks the header, the words, the name offsets and bytes, a
 * new length for the file (shorter or longer by the offset, mod 64 KB), or
 * the malware rows and names.  The edited file is opened without
 * the registry check and asked for the words of every edited port and of
 * a fixed sample, for each word's name, and for the malware rows (twice).
 * Every answer must be 0 or -1; a name must be a C string; malware rows
 * given must be sane (ports, transports, name order).  The
 * edits are undone after each input, so each input starts from the valid
 * file.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>

#include "fuzz.h"
#include "../../lib/registry-int.h"

#define HEADER 64
#define WORDS (HEADER + (long)PDX_NPROTO * 65536 * 4)
#define NNAMES 300
#define NMAL 40

static int fd = -1;
static unsigned char *tmpl; /* the valid file */
static long tsize;
static long malstart; /* where the malware rows begin */

static void
make_template(void)
{
	uint32_t *words[PDX_NPROTO], offs[NNAMES];
	char names[NNAMES * 16], mnames[NMAL][16];
	struct pdx_malware mal[NMAL];
	size_t nb = 1;
	struct pdx_regid reg;
	unsigned i, p;

	names[0] = '\0';
	offs[0] = 0;
	for (i = 1; i < NNAMES; i++) {
		offs[i] = (uint32_t)nb;
		nb += (size_t)sprintf(names + nb, "name-%u", i) + 1;
	}
	for (i = 0; i < PDX_NPROTO; i++) {
		CHECK((words[i] = calloc(65536, 4)) != NULL);
		for (p = 0; p < 65536; p += 7)
			words[i][p] = ((p % NNAMES) << 16) | (p & 0xff);
	}
	for (i = 0; i < NMAL; i++) {
		/* names in order, a few repeated; ranges and masks varied */
		snprintf(mnames[i], sizeof mnames[i], "mal-%02u", i - i % 3);
		mal[i] = (struct pdx_malware){ i * 1637, i * 1637 + i % 5,
			(int)(i % PDX_PROTO_ALL) + 1, mnames[i] };
	}
	memset(&reg, 0, sizeof reg);
	if ((fd = memfd_create("brief", 0)) < 0) {
		perror("memfd_create");
		exit(1);
	}
	{
		char dir[4096], path[4200];
		int tfd;

		fuzz_workdir("brief", dir, sizeof dir);
		snprintf(path, sizeof path, "%s/t.brief", dir);
		CHECK(pdx_bfile_write(path, words, names, offs, NNAMES, nb, mal,
			  NMAL, &reg) == 0);
		CHECK((tfd = open(path, O_RDONLY)) >= 0);
		tsize = lseek(tfd, 0, SEEK_END);
		malstart = WORDS + (NNAMES + 1) * 4 + (long)nb;
		CHECK(tsize > malstart + NMAL * 16);
		CHECK((tmpl = malloc((size_t)tsize)) != NULL);
		CHECK(pread(tfd, tmpl, (size_t)tsize, 0) == tsize);
		close(tfd);
		unlink(path);
		rmdir(dir);
	}
	CHECK(pwrite(fd, tmpl, (size_t)tsize, 0) == tsize);
	for (i = 0; i < PDX_NPROTO; i++)
		free(words[i]);
}

/* Asks for port p of transport i and the name of its word. */
static void
ask(struct pdx_bfile *f, int i, unsigned p)
{
	const char *name;
	uint32_t w;
	int rc;

	rc = pdx_bfile_word(f, i, p, &w);
	CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		fuzz_error_set();
		return;
	}
	rc = pdx_bfile_name(f, w >> 16, &name);
	CHECK(rc == 0 || rc == -1);
	CHECK(name != NULL);
	fuzz_touch(name);
	if (rc != 0)
		fuzz_error_set();
}

/* Asks for the malware rows: given ones must be sane. */
static void
ask_malware(struct pdx_bfile *f)
{
	const struct pdx_malware *rows;
	size_t n, k;
	int rc;

	rc = pdx_bfile_malware(f, &rows, &n);
	CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		fuzz_error_set();
		return;
	}
	CHECK(n == 0 || rows != NULL);
	for (k = 0; k < n; k++) {
		CHECK(rows[k].lo <= rows[k].hi && rows[k].hi <= 65535);
		CHECK((rows[k].mask & ~PDX_PROTO_ALL) == 0);
		fuzz_touch(rows[k].name);
		CHECK(k == 0 || strcmp(rows[k - 1].name, rows[k].name) <= 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sample[] = { 0, 1, 7, 1023, 1024, 2047, 40000,
		65535 };
	struct {
		long off;
		unsigned len;
	} undo[64];
	unsigned asked[64];
	size_t nundo = 0, nasked = 0, k;
	struct pdx_bfile *f;
	struct fuzz_edit e;
	long newsize = tsize, off, base, span;
	unsigned j;
	int dupfd, rc, i;

	if (tmpl == NULL)
		make_template();
	while (nundo < 64 && fuzz_next_edit(&data, &size, 3, &e)) {
		switch (e.op % 5) {
		case 0:
			base = 0;
			span = HEADER;
			break;
		case 1:
			base = HEADER;
			span = WORDS - HEADER;
			break;
		case 2:
			base = WORDS;
			span = malstart - WORDS;
			break;
		case 4:
			base = malstart;
			span = tsize - malstart;
			break;
		default:
			off = e.off % 65536;
			newsize = (e.len & 1) ? tsize + off % 4096
					      : tsize - off;
			if (newsize < 0)
				newsize = 0;
			continue;
		}
		off = fuzz_place(&data, &size, &e, base, span, tsize);
		CHECK(pwrite(fd, e.bytes, e.len, off) == (ssize_t)e.len);
		undo[nundo].off = off;
		undo[nundo++].len = e.len;
		if (off >= HEADER && off < WORDS && nasked < 64)
			asked[nasked++] = (unsigned)((off - HEADER) / 4);
	}
	if (newsize != tsize)
		CHECK(ftruncate(fd, newsize) == 0);

	/* the reader takes the descriptor over: give it a copy */
	CHECK((dupfd = dup(fd)) >= 0);
	rc = pdx_bfile_open_fd(dupfd, "fuzz.brief", NULL, &f);
	CHECK(rc == PDX_BF_OK || rc == PDX_BF_STALE || rc == PDX_BF_BAD);
	CHECK((rc == PDX_BF_OK) == (f != NULL));
	if (f != NULL) {
		for (k = 0; k < nasked; k++)
			ask(f, (int)(asked[k] / 65536), asked[k] % 65536);
		for (i = 0; i < PDX_NPROTO; i++)
			for (j = 0; j < sizeof sample / sizeof *sample; j++)
				ask(f, i, sample[j]);
		/* out of range asks fail cleanly */
		CHECK(pdx_bfile_word(f, PDX_NPROTO, 0, &(uint32_t){ 0 }) == -1);
		CHECK(pdx_bfile_word(f, 0, 65536, &(uint32_t){ 0 }) == -1);
		ask_malware(f);
		ask_malware(f); /* kept from the first read */
		pdx_bfile_close(f);
	} else
		fuzz_error_set();

	/* back to the valid file */
	if (newsize != tsize)
		CHECK(ftruncate(fd, tsize) == 0);
	if (newsize < tsize)
		CHECK(pwrite(fd, tmpl + newsize, (size_t)(tsize - newsize),
			  newsize) == tsize - newsize);
	for (k = 0; k < nundo; k++)
		CHECK(pwrite(fd, tmpl + undo[k].off, undo[k].len,
			  undo[k].off) == (ssize_t)undo[k].len);
	return 0;
}
