/*
 * fuzz_notesfile.c - libFuzzer harness for the notes file reader
 * (lib/notes-file.c: pdx_nfile_open_mem, pdx_nfile_rows).  The input is
 * edits to a valid notes file that a real state database wrote at
 * start-up (notes on several ports, several on one port, empty and long
 * texts): records of
 *	op (1 byte)  offset (2 bytes, little-endian)  length (1)  bytes
 * where op % 5 picks the header, the port index or the notes to
 * overwrite, a new length for the file, or "make the checksums good" (so
 * that the checks behind them are reached, as a file that lies would).
 * Every port's notes and all of them are read back.  Every answer must be
 * 0 or -1; rows must be sorted by port and id, each row's port one asked
 * for, and every string a C string inside the file's copy.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "fuzz.h"
#include "../../lib/state-int.h"
#include "../../lib/util-int.h"

#define HEADER 96
#define ENTRY 24

static unsigned char *tmpl; /* the valid file */
static long tsize;

static void
make_template(void)
{
	char dir[4096], path[4200], nf[4300], text[300];
	struct pdx_state *s;
	int fd, i;

	fuzz_workdir("notesfile", dir, sizeof dir);
	snprintf(path, sizeof path, "%s/state.db", dir);
	snprintf(nf, sizeof nf, "%s.notes", path);
	CHECK((s = pdx_state_open(path)) != NULL);
	for (i = 0; i < 24; i++) {
		memset(text, 'a' + i % 26, sizeof text - 1);
		text[i % 3 == 0 ? 1 + i * 11 : 5] = '\0';
		CHECK(pdx_note_add(s,
			  (unsigned)(i % 3 == 0 ? 22 : i * 2731 % 65536),
			  i % 4 == 0 ? 0 : (i % 2 ? 6 : 17), text) == 0);
	}
	pdx_state_close(s);
	CHECK((fd = open(nf, O_RDONLY)) >= 0);
	tsize = lseek(fd, 0, SEEK_END);
	CHECK(tsize > HEADER);
	CHECK((tmpl = malloc((size_t)tsize)) != NULL);
	CHECK(pread(fd, tmpl, (size_t)tsize, 0) == tsize);
	close(fd);
	unlink(nf);
	unlink(path);
	rmdir(dir);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Makes every checksum of an edited file good where its sizes allow. */
static void
fix_sums(unsigned char *b, long len)
{
	uint32_t nports = get32(b + 76), i, off, l;
	uint64_t sum;
	long body = HEADER + (long)nports * ENTRY;

	if (len < HEADER || body > len)
		return;
	for (i = 0; i < nports; i++) {
		unsigned char *e = b + HEADER + (size_t)i * ENTRY;

		off = get32(e + 8);
		l = get32(e + 12);
		if (off > len - body || l > len - body - off)
			continue;
		sum = pdx_sum64(b + body + off, l);
		memcpy(e + 16, &sum, 8);
	}
	sum = pdx_sum64(b + HEADER, (size_t)nports * ENTRY);
	memcpy(b + 80, &sum, 8);
	memset(b + 88, 0, 8);
	sum = pdx_sum64(b, HEADER);
	memcpy(b + 88, &sum, 8);
}

/* Reads the notes of only (k ports; NULL: all) and checks what came. */
static void
ask(const struct pdx_nfile *f, const unsigned char *buf, long len,
    const unsigned *only, size_t k)
{
	struct note_row *r;
	char *arena;
	size_t n, i, j;
	int rc;

	(void)buf;
	(void)len;
	rc = pdx_nfile_rows(f, only, k, &r, &n, &arena);
	CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		CHECK(r == NULL && n == 0 && arena == NULL);
		return;
	}
	for (i = 0; i < n; i++) {
		CHECK(r[i].port >= 0 && r[i].port <= 65535);
		if (i > 0)
			CHECK(r[i].port > r[i - 1].port ||
			    (r[i].port == r[i - 1].port &&
				r[i].id > r[i - 1].id));
		if (only != NULL) {
			for (j = 0; j < k && only[j] != (unsigned)r[i].port;
			     j++)
				;
			CHECK(j < k);
		}
		fuzz_touch(r[i].text);
		fuzz_touch(r[i].author);
		fuzz_touch(r[i].created);
	}
	free(r);
	free(arena);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sample[] = { 0, 22, 2731, 5462, 8193, 65535 };
	struct pdx_nfile *f;
	unsigned char *buf;
	struct fuzz_edit e;
	long len = tsize, off, base, span;
	int fix = 0;

	if (tmpl == NULL)
		make_template();
	CHECK((buf = malloc((size_t)tsize + 4096)) != NULL);
	memcpy(buf, tmpl, (size_t)tsize);
	memset(buf + tsize, 0, 4096);
	while (fuzz_next_edit(&data, &size, 2, &e)) {
		switch (e.op % 5) {
		case 0:
			base = 0;
			span = HEADER;
			break;
		case 1:
			base = HEADER;
			span = ENTRY * 16;
			break;
		case 2:
			base = HEADER;
			span = tsize - HEADER;
			break;
		case 3:
			len = (e.len & 1) ? tsize + e.off % 4096
					  : tsize - e.off % tsize;
			continue;
		default:
			fix = 1;
			continue;
		}
		off = fuzz_place(&data, &size, &e, base, span, tsize);
		memcpy(buf + off, e.bytes, e.len);
	}
	if (fix)
		fix_sums(buf, len);
	/* an exact copy: a read past the end is ASan's finding */
	{
		unsigned char *exact = malloc((size_t)len + 1);

		CHECK(exact != NULL);
		memcpy(exact, buf, (size_t)len);
		f = pdx_nfile_open_mem(exact, (size_t)len);
		if (f != NULL) {
			ask(f, exact, len, NULL, 0);
			ask(f, exact, len, sample, 6);
			ask(f, exact, len, sample + 1, 1);
			pdx_nfile_close(f);
		}
		free(exact);
	}
	free(buf);
	return 0;
}
