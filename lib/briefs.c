/*
 * briefs.c - the brief file: a copy of the registry's brief table (one
 * word per port and transport: name index, risk facts, risk, status) and
 * its names, which `portdex update` writes beside the registry as
 * REGISTRY.brief.  `portdex ls` annotates every socket with those words
 * only; reading them from this file spares it SQLite's open and schema
 * parse, which took longer than listing ten sockets.  Since version 2 it
 * also holds the registry's malware rows, all `portdex audit` asks SQL
 * for, so that audit too needs no SQLite.
 *
 * The file names the registry it was made from by its size and three
 * fields of its SQLite header (pdx_regid_read): a registry rebuilt, or
 * changed in place without it, makes it stale, and the caller reads the
 * registry itself; a copy of both files (an installation) still matches.
 *
 * Layout, all integers in host order (the byte-order word tells a file
 * from another machine), as in portdex-db(5):
 *
 *	0	magic "PDXBRIEF"
 *	8	u32 version (2), u32 byte-order word 0x01020304
 *	16	u32 transports (PDX_NPROTO), u32 registry schema
 *	24	u32 names, u32 name bytes
 *	32	u64 registry size
 *	40	12 bytes of the registry's SQLite header: the change counter
 *		(offset 24), user_version (60: a random number each build
 *		sets), application_id (68)
 *	52	u32 malware rows, u32 malware name bytes, then 4 zero bytes
 *	64	words: transports * 65,536 u32
 *	...	name offsets: (names + 1) u32, the first 0, the last the bytes
 *	...	name bytes: names, each ending in a NUL; name 0 is ""
 *	...	malware rows: the rows of `SELECT port_lo, port_hi, protomask,
 *		name FROM uses WHERE kind = 'malware' ORDER BY name`, each 4
 *		u32: port_lo, port_hi, protomask, the name's offset in
 *		the malware name bytes
 *	...	malware name bytes: names, each ending in a NUL
 *
 * A file of another version (1: no malware rows) is stale, not damaged:
 * the registry answers until `portdex update` writes a new one.
 *
 * Nothing here trusts the file: sizes are checked against its length,
 * offsets against the name bytes, a name index against the count, and
 * the malware rows (ports, transports, names and their order) when read.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portdex.h"
#include "registry-int.h"
#include "util-int.h"

#define BF_MAGIC "PDXBRIEF"
#define BF_VERSION 2
#define BF_ORDER 0x01020304u
#define BF_HEADER 64
#define BF_CHUNK 1024 /* ports per read: 4 KB */
#define BF_CHUNKS (65536 / BF_CHUNK)
#define BF_MAX_NAMES 65536u
#define BF_MAX_BYTES (16u << 20)
#define BF_MAX_MAL (1u << 20) /* malware rows */
#define BF_MALROW 16	      /* bytes of a malware row */

struct bf_header {
	char magic[8];
	uint32_t version, order;
	uint32_t nproto, schema;
	uint32_t nnames, nbytes;
	uint64_t size;
	unsigned char id[12];
	uint32_t nmal, nmbytes;
	unsigned char zero[4];
};

struct pdx_bfile {
	int fd;
	char *path;
	uint32_t nnames, nbytes;
	uint32_t *chunk[PDX_NPROTO][BF_CHUNKS];
	uint32_t *offs; /* nnames + 1, NULL until needed */
	char *names;	/* in offs's allocation, after it */
	uint32_t nmal, nmbytes;
	struct pdx_malware *mal; /* nmal rows, NULL until needed */
	char *malbuf;		 /* the rows and names as read */
	const char *map;	 /* the whole file mapped, or NULL: read */
	size_t maplen;
};

_Static_assert(sizeof(struct bf_header) == BF_HEADER, "brief header");

static off_t
words_end(void)
{
	return BF_HEADER + (off_t)PDX_NPROTO * 65536 * 4;
}

int
pdx_regid_read(const char *registry, struct pdx_regid *id)
{
	unsigned char h[100];
	struct stat st;
	int fd, rc;

	if ((fd = open(registry, O_RDONLY | O_CLOEXEC)) < 0) {
		pdx_set_error("%s: %s", registry, strerror(errno));
		return -1;
	}
	rc = fstat(fd, &st) == 0 && pdx_pread_full(fd, h, sizeof h, 0) == 0 &&
		memcmp(h, "SQLite format 3", 16) == 0
	    ? 0
	    : -1;
	close(fd);
	if (rc != 0) {
		pdx_set_error("%s: not an SQLite database", registry);
		return -1;
	}
	id->size = (uint64_t)st.st_size;
	memcpy(id->h, h + 24, 4);     /* file change counter */
	memcpy(id->h + 4, h + 60, 4); /* user_version */
	memcpy(id->h + 8, h + 68, 4); /* application_id */
	return 0;
}

void
pdx_bfile_close(struct pdx_bfile *f)
{
	int i, c;

	if (f == NULL)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->map != NULL)
		pdx_unmap_file(f->map, f->maplen); /* chunks, offs: in it */
	else {
		for (i = 0; i < PDX_NPROTO; i++)
			for (c = 0; c < BF_CHUNKS; c++)
				free(f->chunk[i][c]);
		free(f->offs); /* names share its allocation */
	}
	free(f->mal);
	free(f->malbuf);
	free(f->path);
	free(f);
}

static int
bad(struct pdx_bfile *f, const char *path, const char *what)
{
	pdx_set_error("%s: damaged brief file (%s); 'portdex update' "
		      "rewrites it",
	    path, what);
	pdx_bfile_close(f);
	return PDX_BF_BAD;
}

int
pdx_bfile_open_fd(int fd, const char *path, const struct pdx_regid *reg,
    struct pdx_bfile **out)
{
	struct pdx_bfile *f;
	struct bf_header h;
	struct stat st;
	off_t want;

	*out = NULL;
	if ((f = calloc(1, sizeof *f)) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		free(f);
		close(fd);
		pdx_set_error("out of memory");
		return PDX_BF_BAD;
	}
	f->fd = fd;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return bad(f, path, "not a regular file");
	if (pdx_pread_full(fd, &h, sizeof h, 0) != 0)
		return bad(f, path, "shorter than its header");
	if (memcmp(h.magic, BF_MAGIC, 8) != 0)
		return bad(f, path, "no PDXBRIEF mark");
	/* Another version, byte order or schema: not damaged, just not ours. */
	if (h.version != BF_VERSION || h.order != BF_ORDER ||
	    h.nproto != PDX_NPROTO || h.schema != PDX_REGISTRY_SCHEMA) {
		pdx_bfile_close(f);
		pdx_set_error("%s: brief file of another format", path);
		return PDX_BF_STALE;
	}
	if (h.nnames == 0 || h.nnames > BF_MAX_NAMES || h.nbytes == 0 ||
	    h.nbytes > BF_MAX_BYTES)
		return bad(f, path, "impossible name counts");
	if (h.nmal > BF_MAX_MAL || h.nmbytes > BF_MAX_BYTES ||
	    (h.nmal == 0) != (h.nmbytes == 0))
		return bad(f, path, "impossible malware counts");
	if (memcmp(h.zero, (char[sizeof h.zero]){ 0 }, sizeof h.zero) != 0)
		return bad(f, path, "bytes 60-63 not zero");
	want = words_end() + ((off_t)h.nnames + 1) * 4 + (off_t)h.nbytes +
	    (off_t)h.nmal * BF_MALROW + (off_t)h.nmbytes;
	if (st.st_size != want)
		return bad(f, path, "wrong length");
	if (reg != NULL &&
	    (h.size != reg->size || memcmp(h.id, reg->h, sizeof h.id) != 0)) {
		pdx_bfile_close(f);
		pdx_set_error("%s: made for another registry file", path);
		return PDX_BF_STALE;
	}
	f->nnames = h.nnames;
	f->nbytes = h.nbytes;
	f->nmal = h.nmal;
	f->nmbytes = h.nmbytes;
	/*
	 * Mapped when it can be: a listing needs words and names scattered
	 * over the whole file, read from the page cache in place (the file
	 * is replaced by rename, never rewritten where it is).
	 */
	if ((f->map = pdx_map_file(fd, (size_t)st.st_size, path)) != NULL)
		f->maplen = (size_t)st.st_size;
	*out = f;
	return PDX_BF_OK;
}

int
pdx_bfile_open(const char *path, const struct pdx_regid *reg,
    struct pdx_bfile **out)
{
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return errno == ENOENT ? PDX_BF_NONE : PDX_BF_BAD;
	}
	return pdx_bfile_open_fd(fd, path, reg, out);
}

int
pdx_bfile_word(struct pdx_bfile *f, int i, unsigned port, uint32_t *w)
{
	unsigned c = port / BF_CHUNK;
	uint32_t **chunk;

	if (i < 0 || i >= PDX_NPROTO || port > 65535) {
		pdx_set_error("bad port %u or transport %d", port, i);
		return -1;
	}
	if (f->map != NULL) {
		memcpy(w, f->map + BF_HEADER + ((size_t)i * 65536 + port) * 4,
		    4);
		return 0;
	}
	chunk = &f->chunk[i][c];
	if (*chunk == NULL) {
		if ((*chunk = malloc(BF_CHUNK * 4)) == NULL) {
			pdx_set_error("out of memory");
			return -1;
		}
		if (pdx_pread_full(f->fd, *chunk, BF_CHUNK * 4,
			BF_HEADER +
			    ((off_t)i * 65536 + (off_t)c * BF_CHUNK) * 4) !=
		    0) {
			free(*chunk);
			*chunk = NULL;
			pdx_set_error("%s: %s", f->path,
			    errno != 0 ? strerror(errno)
				       : "cut short while read");
			return -1;
		}
	}
	*w = (*chunk)[port % BF_CHUNK];
	return 0;
}

/* Reads and checks the name offsets and bytes, once. */
static int
load_names(struct pdx_bfile *f)
{
	size_t noffs = (size_t)f->nnames + 1;
	uint32_t k;
	char *buf = NULL;

	if (f->map != NULL) {
		/* 4-aligned: words_end() is, and so is the mapping */
		f->offs = (uint32_t *)(void *)(uintptr_t)(f->map + words_end());
		f->names = (char *)(uintptr_t)(f->map + words_end() +
		    noffs * 4);
	} else if ((buf = malloc(noffs * 4 + f->nbytes)) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	if (buf != NULL &&
	    pdx_pread_full(f->fd, buf, noffs * 4 + f->nbytes, words_end()) !=
		0) {
		free(buf);
		pdx_set_error("%s: %s", f->path,
		    errno != 0 ? strerror(errno) : "cut short while read");
		return -1;
	}
	if (buf != NULL) {
		f->offs = (uint32_t *)(void *)buf; /* malloc: aligned */
		f->names = buf + noffs * 4;
	}
	/* Each name is bytes [offs[k], offs[k+1]) and ends in its NUL. */
	for (k = 0; k < f->nnames; k++)
		if (f->offs[k] >= f->offs[k + 1] ||
		    f->offs[k + 1] > f->nbytes ||
		    f->names[f->offs[k + 1] - 1] != '\0')
			break;
	if (k < f->nnames || f->offs[0] != 0 ||
	    f->offs[f->nnames] != f->nbytes) {
		free(buf);
		f->offs = NULL;
		f->names = NULL;
		pdx_set_error("%s: damaged brief file (name offsets); "
			      "'portdex update' rewrites it",
		    f->path);
		return -1;
	}
	return 0;
}

int
pdx_bfile_name(struct pdx_bfile *f, uint32_t nid, const char **name)
{
	*name = "";
	if (nid == 0)
		return 0;
	if (f->offs == NULL && load_names(f) != 0)
		return -1;
	if (nid >= f->nnames) {
		pdx_set_error("%s: damaged brief file (name %u of %u); "
			      "'portdex update' rewrites it",
		    f->path, nid, f->nnames);
		return -1;
	}
	*name = f->names + f->offs[nid];
	return 0;
}

/* Whether malware row r (its name at offset o of the name bytes) is sane. */
static int
mal_ok(const struct pdx_bfile *f, const uint32_t r[4], const char *mnames)
{
	return r[0] <= r[1] && r[1] <= 65535 &&
	    (r[2] & ~(uint32_t)PDX_PROTO_ALL) == 0 && r[3] < f->nmbytes &&
	    (r[3] == 0 || mnames[r[3] - 1] == '\0');
}

int
pdx_bfile_malware(struct pdx_bfile *f, const struct pdx_malware **rows,
    size_t *n)
{
	size_t len = (size_t)f->nmal * BF_MALROW + f->nmbytes, k;
	const char *mnames, *prev = NULL;
	struct pdx_malware *mal;
	uint32_t r[4];
	char *buf;

	*rows = f->mal;
	*n = f->nmal;
	if (f->mal != NULL || f->nmal == 0)
		return 0;
	if ((buf = malloc(len)) == NULL ||
	    (mal = malloc(f->nmal * sizeof *mal)) == NULL) {
		free(buf);
		pdx_set_error("out of memory");
		return -1;
	}
	if (pdx_pread_full(f->fd, buf, len,
		words_end() + ((off_t)f->nnames + 1) * 4 + f->nbytes) != 0) {
		free(buf);
		free(mal);
		pdx_set_error("%s: %s", f->path,
		    errno != 0 ? strerror(errno) : "cut short while read");
		return -1;
	}
	mnames = buf + (size_t)f->nmal * BF_MALROW;
	/* every name ends in its NUL; the rows are in name order */
	for (k = 0; mnames[f->nmbytes - 1] == '\0' && k < f->nmal; k++) {
		memcpy(r, buf + k * BF_MALROW, sizeof r);
		if (!mal_ok(f, r, mnames) ||
		    (prev != NULL && strcmp(prev, mnames + r[3]) > 0))
			break;
		mal[k] = (struct pdx_malware){ r[0], r[1], (int)r[2],
			mnames + r[3] };
		prev = mal[k].name;
	}
	if (k < f->nmal) {
		free(buf);
		free(mal);
		pdx_set_error("%s: damaged brief file (malware row %zu); "
			      "'portdex update' rewrites it",
		    f->path, k);
		return -1;
	}
	f->malbuf = buf;
	*rows = f->mal = mal;
	return 0;
}

/* The malware rows as the file holds them, in one allocation (*len). */
static char *
mal_pack(const struct pdx_malware *mal, size_t nmal, size_t *len,
    size_t *nmbytes)
{
	size_t k, nb = 0;
	char *buf, *o;

	for (k = 0; k < nmal; k++)
		nb += strlen(mal[k].name) + 1;
	*nmbytes = nb;
	*len = nmal * BF_MALROW + nb;
	if (nmal > BF_MAX_MAL || nb > BF_MAX_BYTES ||
	    (buf = malloc(*len + 1)) == NULL)
		return NULL;
	o = buf + nmal * BF_MALROW;
	for (k = 0; k < nmal; k++) {
		uint32_t r[4] = { mal[k].lo, mal[k].hi, (uint32_t)mal[k].mask,
			(uint32_t)(o - (buf + nmal * BF_MALROW)) };
		size_t l = strlen(mal[k].name) + 1;

		memcpy(buf + k * BF_MALROW, r, sizeof r);
		memcpy(o, mal[k].name, l);
		o += l;
	}
	return buf;
}

int
pdx_bfile_write(const char *path, uint32_t *const words[PDX_NPROTO],
    const char *names, const uint32_t *offs, uint32_t nnames, size_t nbytes,
    const struct pdx_malware *mal, size_t nmal, const struct pdx_regid *reg)
{
	struct bf_header h;
	uint32_t end = (uint32_t)nbytes;
	struct iovec iov[5 + PDX_NPROTO];
	size_t mlen, nmbytes;
	char *mbuf;
	int i, rc;

	if (nnames == 0 || nnames > BF_MAX_NAMES || nbytes == 0 ||
	    nbytes > BF_MAX_BYTES) {
		pdx_set_error("%s: %u names in %zu bytes do not fit a brief "
			      "file",
		    path, nnames, nbytes);
		return -1;
	}
	if ((mbuf = mal_pack(mal, nmal, &mlen, &nmbytes)) == NULL) {
		pdx_set_error("%s: %zu malware rows do not fit a brief file",
		    path, nmal);
		return -1;
	}
	memset(&h, 0, sizeof h);
	memcpy(h.magic, BF_MAGIC, 8);
	h.version = BF_VERSION;
	h.order = BF_ORDER;
	h.nproto = PDX_NPROTO;
	h.schema = PDX_REGISTRY_SCHEMA;
	h.nnames = nnames;
	h.nbytes = (uint32_t)nbytes;
	h.nmal = (uint32_t)nmal;
	h.nmbytes = (uint32_t)nmbytes;
	h.size = reg->size;
	memcpy(h.id, reg->h, sizeof h.id);
	iov[0] = (struct iovec){ &h, sizeof h };
	for (i = 0; i < PDX_NPROTO; i++)
		iov[1 + i] = (struct iovec){ words[i], 65536 * 4 };
	iov[1 + i] = (struct iovec){ (void *)offs, (size_t)nnames * 4 };
	iov[2 + i] = (struct iovec){ &end, 4 };
	iov[3 + i] = (struct iovec){ (void *)names, nbytes };
	iov[4 + i] = (struct iovec){ mbuf, mlen };
	rc = pdx_write_file(path, iov, 5 + PDX_NPROTO);
	free(mbuf);
	return rc;
}
