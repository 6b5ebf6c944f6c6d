/*
 * notes-file.c - the notes file: every note of the state database, written
 * beside it as STATE.notes by a portdex that has just written the state,
 * so that a command that only reads notes (a card, `ls`) needs no SQLite:
 * opening the state and parsing its schema for one indexed query was a
 * quarter of a card's instructions on a machine with notes.
 *
 * The file names the state file as it was when the notes were read: its
 * device, inode, size, modification and change times (nanoseconds) and the
 * change counter of its SQLite header, all taken while a read transaction
 * held the state's shared lock, so no commit fell between them and the
 * rows.  Any later write to the state file (a commit of any program, a
 * damaged page, a restored copy) changes one of them and the file is
 * stale: the reader goes to SQLite, which is the truth and says what is
 * wrong.  A damaged notes file (a checksum, a length) is never believed
 * either.  Readers never write it.
 *
 * The notes' own revision (notes_rev.rev, a random value that triggers
 * change on every insert, update or delete of a note) lets a writer that
 * changed something else (an audit run, a vote) re-stamp the header in
 * place instead of reading every note again.
 *
 * Layout, integers in host order (portdex-db(5)):
 *	0	magic "PDXNOTE1", u32 version (1), u32 byte-order 0x01020304
 *	16	u64 device, u64 inode, u64 size, i64 mtime ns, i64 ctime ns
 *	56	u32 change counter, u32 notes
 *	64	i64 revision, u32 body bytes, u32 0
 *	80	u64 checksum of the body, u64 checksum of these 96 bytes
 *		(this field 0)
 *	96	the notes by port, then id: i32 id, i32 port, i32 proto,
 *		u32 bytes of text, author, created; then each, NUL-ended
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "state-int.h"
#include "util-int.h"

#define NF_MAGIC "PDXNOTE1"
#define NF_VERSION 1
#define NF_ORDER 0x01020304u
#define NF_HEADER 96
#define NF_ENTRY 24
#define NF_RECORD 24
#define NF_MAX_BODY ((size_t)64 << 20)

struct nf_stamp {
	uint64_t dev, ino, size;
	int64_t mtime, ctime;
	uint32_t counter;
};

struct nf_header {
	char magic[8];
	uint32_t version, order;
	uint64_t dev, ino, size;
	int64_t mtime, ctime;
	uint32_t counter, count;
	int64_t rev;
	uint32_t body_len, nports;
	uint64_t index_sum, head_sum;
};
_Static_assert(sizeof(struct nf_header) == NF_HEADER, "notes header");

/* A port's entry in the index: its notes are len bytes at off. */
struct nf_entry {
	uint32_t port, count, off, len;
	uint64_t sum;
};
_Static_assert(sizeof(struct nf_entry) == NF_ENTRY, "notes index entry");

/* An open notes file: its index, read from fd or from memory. */
struct pdx_nfile {
	int fd;
	const char *mem; /* the file mapped, the fuzzer's image, or NULL */
	int mapped;	 /* mem is pdx_map_file's */
	size_t len;
	uint32_t nports, count, body_len;
	size_t body; /* offset of the records */
	struct nf_entry *index;
};

/*
 * PATH.notes, or with tmp PATH.notes.PID.tmp (two writers closing at once
 * each write a file of their own; the last rename wins, whole).  -1 if too
 * long.
 */
static int
nf_path(char *buf, size_t len, const char *state, int tmp)
{
	int n = tmp
	    ? snprintf(buf, len, "%s.notes.%ld.tmp", state, (long)getpid())
	    : snprintf(buf, len, "%s.notes", state);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The state file as it is now; -1 if unreadable or not a rollback file. */
static int
nf_stamp(int fd, struct nf_stamp *t)
{
	unsigned char h[28];
	struct stat sb;

	if (fstat(fd, &sb) != 0 ||
	    pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h ||
	    memcmp(h, "SQLite format 3", 16) != 0 || h[18] == 2 || h[19] == 2)
		return -1;
	memset(t, 0, sizeof *t);
	t->dev = (uint64_t)sb.st_dev;
	t->ino = (uint64_t)sb.st_ino;
	t->size = (uint64_t)sb.st_size;
	t->mtime = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	t->ctime = (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
	t->counter = (uint32_t)h[24] << 24 | (uint32_t)h[25] << 16 |
	    (uint32_t)h[26] << 8 | h[27];
	return 0;
}

static int
nf_stamp_path(const char *path, struct nf_stamp *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = nf_stamp(fd, t);
	close(fd);
	return r;
}

static int
nf_same(const struct nf_header *h, const struct nf_stamp *t)
{
	return h->dev == t->dev && h->ino == t->ino && h->size == t->size &&
	    h->mtime == t->mtime && h->ctime == t->ctime &&
	    h->counter == t->counter;
}

/* Whether a header read is one this portdex wrote, intact. */
static int
nf_header_ok(struct nf_header *h)
{
	uint64_t sum = h->head_sum;
	int ok;

	h->head_sum = 0;
	ok = pdx_sum64(h, sizeof *h) == sum;
	h->head_sum = sum;
	return ok && memcmp(h->magic, NF_MAGIC, 8) == 0 &&
	    h->version == NF_VERSION && h->order == NF_ORDER &&
	    h->body_len <= NF_MAX_BODY && h->count <= h->body_len / NF_RECORD &&
	    h->nports <= h->count && h->nports <= 65536;
}

static void
nf_seal(struct nf_header *h, const struct nf_stamp *t)
{
	h->dev = t->dev;
	h->ino = t->ino;
	h->size = t->size;
	h->mtime = t->mtime;
	h->ctime = t->ctime;
	h->counter = t->counter;
	h->head_sum = 0;
	h->head_sum = pdx_sum64(h, sizeof *h);
}

/* Reads n bytes at off; 0 or -1. */
static int
nf_read(const struct pdx_nfile *f, void *buf, size_t n, size_t off)
{
	if (off > f->len || f->len - off < n)
		return -1;
	if (f->mem != NULL) {
		memcpy(buf, f->mem + off, n);
		return 0;
	}
	return pdx_pread_full(f->fd, buf, n, (off_t)off);
}

void
pdx_nfile_close(struct pdx_nfile *f)
{
	if (f == NULL)
		return;
	if (f->mapped)
		pdx_unmap_file(f->mem, f->len);
	if (f->fd >= 0)
		close(f->fd);
	free(f->index);
	free(f);
}

/*
 * Checks the header (against the stamp unless t is NULL) and the index:
 * sorted distinct ports, each block inside the body, the blocks in order
 * and covering it exactly, the counts adding up.  0 or -1.
 */
static int
nf_open_index(struct pdx_nfile *f, const struct nf_stamp *t)
{
	struct nf_header h;
	uint64_t at = 0, n = 0;
	size_t ilen;
	uint32_t i;

	if (nf_read(f, &h, sizeof h, 0) != 0 || !nf_header_ok(&h) ||
	    (t != NULL && !nf_same(&h, t)))
		return -1;
	ilen = (size_t)h.nports * NF_ENTRY;
	f->nports = h.nports;
	f->count = h.count;
	f->body_len = h.body_len;
	f->body = NF_HEADER + ilen;
	if (f->len - f->body != h.body_len ||
	    (f->index = malloc(ilen + 1)) == NULL ||
	    nf_read(f, f->index, ilen, NF_HEADER) != 0 ||
	    pdx_sum64(f->index, ilen) != h.index_sum)
		return -1;
	for (i = 0; i < h.nports; i++) {
		const struct nf_entry *e = &f->index[i];

		if (e->port > 65535 || (i > 0 && e->port <= e[-1].port) ||
		    e->count == 0 || e->off != at || e->len > h.body_len - at ||
		    e->len / NF_RECORD < e->count)
			return -1;
		at += e->len;
		n += e->count;
	}
	return at == h.body_len && n == h.count ? 0 : -1;
}

struct pdx_nfile *
pdx_nfile_open_mem(const void *p, size_t len)
{
	struct pdx_nfile *f = calloc(1, sizeof *f);

	if (f == NULL)
		return NULL;
	f->fd = -1;
	f->mem = p != NULL ? p : "";
	f->len = len;
	if (nf_open_index(f, NULL) != 0) {
		pdx_nfile_close(f);
		return NULL;
	}
	return f;
}

int
pdx_nfile_open(struct pdx_state *s)
{
	char path[PATH_MAX];
	struct pdx_nfile *f;
	struct nf_stamp t;
	struct stat sb;

	if (nf_path(path, sizeof path, s->path, 0) != 0 ||
	    (f = calloc(1, sizeof *f)) == NULL)
		return 0;
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(f->fd, &sb) != 0 || nf_stamp_path(s->path, &t) != 0) {
		pdx_nfile_close(f);
		return 0;
	}
	f->len = (size_t)sb.st_size;
	/* read in place: a listing takes the notes of its ports only */
	if ((f->mem = pdx_map_file(f->fd, f->len, path)) != NULL)
		f->mapped = 1;
	if (nf_open_index(f, &t) != 0) {
		pdx_nfile_close(f);
		return 0;
	}
	s->nf = f;
	return 1;
}

/* One port's block: its records into r[0..count) with strings in b. */
static int
nf_block(const struct nf_entry *e, char *b, struct note_row *r)
{
	size_t at = 0, i;

	if (pdx_sum64(b, e->len) != e->sum)
		return -1;
	for (i = 0; i < e->count; i++) {
		int32_t v[3];
		uint32_t l[3];
		char **str[3] = { &r[i].text, &r[i].author, &r[i].created };
		int j;

		if (e->len - at < NF_RECORD)
			return -1;
		memcpy(v, b + at, 12);
		memcpy(l, b + at + 12, 12);
		at += NF_RECORD;
		r[i].id = v[0];
		r[i].port = v[1];
		r[i].proto = v[2];
		if (r[i].port != (int)e->port || r[i].proto < 0 ||
		    r[i].proto > 255 || (i > 0 && r[i].id <= r[i - 1].id))
			return -1;
		for (j = 0; j < 3; j++) {
			if (l[j] >= e->len - at || b[at + l[j]] != '\0' ||
			    memchr(b + at, '\0', l[j]) != NULL)
				return -1;
			*str[j] = b + at;
			at += (size_t)l[j] + 1;
		}
	}
	return at == e->len ? 0 : -1;
}

int
pdx_nfile_mapped(const struct pdx_nfile *f)
{
	return f != NULL && f->mapped;
}

/*
 * The entry of port, searching the index from *j on (ports asked in
 * ascending order), or NULL; *j is left at the first entry not below port.
 */
static const struct nf_entry *
nf_next(const struct pdx_nfile *f, size_t *j, unsigned port)
{
	while (*j < f->nports && f->index[*j].port < port)
		++*j;
	return *j < f->nports && f->index[*j].port == port ? &f->index[*j]
							   : NULL;
}

int
pdx_nfile_rows(const struct pdx_nfile *f, const unsigned *only, size_t k,
    struct note_row **rows, size_t *nrows, char **arena)
{
	const struct nf_entry *e;
	struct note_row *r = NULL;
	char *b = NULL;
	size_t i, j, n = 0, len = 0, at;

	*rows = NULL;
	*nrows = 0;
	*arena = NULL;
	if (only == NULL) {
		n = f->count;
		len = f->body_len;
	} else
		/* only and the index are both sorted: one walk, no search */
		for (i = 0, j = 0; i < k; i++)
			if ((e = nf_next(f, &j, only[i])) != NULL) {
				n += e->count;
				len += e->len;
			}
	if ((r = calloc(n + 1, sizeof *r)) == NULL ||
	    (b = malloc(len + 1)) == NULL)
		goto bad;
	/* every block at once, or each wanted one */
	if (only == NULL && nf_read(f, b, len, f->body) != 0)
		goto bad;
	for (i = 0, j = 0, n = 0, at = 0; i < (only == NULL ? f->nports : k);
	     i++) {
		if ((e = only == NULL ? &f->index[i]
				      : nf_next(f, &j, only[i])) == NULL)
			continue;
		if ((only != NULL &&
			nf_read(f, b + at, e->len, f->body + e->off) != 0) ||
		    nf_block(e, b + at, r + n) != 0)
			goto bad;
		n += e->count;
		at += e->len;
	}
	*rows = r;
	*nrows = n;
	*arena = b;
	return 0;
bad:
	free(r);
	free(b);
	return -1;
}

/* Appends n bytes to a growing buffer; -1 out of memory. */
static int
nf_put(char **b, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap == 0 ? 65536 : *cap;
		char *m;

		while (*len + n > c)
			c *= 2;
		if ((m = realloc(*b, c)) == NULL)
			return -1;
		*b = m;
		*cap = c;
	}
	memcpy(*b + *len, p, n);
	*len += n;
	return 0;
}

/* The file being written: its records and its index. */
struct nf_out {
	char *body, *index;
	size_t len, cap, ilen, icap;
	uint32_t count, nports;
};

/* Appends one note (a new index entry when its port is new); 0 or -1. */
static int
nf_add(struct nf_out *o, const int32_t v[3], const char *const str[3])
{
	struct nf_entry e;
	uint32_t l[3];
	size_t start = o->len;
	int j;

	/* what the reader would refuse is not written (nf_block) */
	if (v[1] < 0 || v[1] > 65535 || v[2] < 0 || v[2] > 255)
		return -1;
	for (j = 0; j < 3; j++)
		l[j] = (uint32_t)strlen(str[j]);
	if (nf_put(&o->body, &o->len, &o->cap, v, 12) != 0 ||
	    nf_put(&o->body, &o->len, &o->cap, l, 12) != 0)
		return -1;
	for (j = 0; j < 3; j++)
		if (nf_put(&o->body, &o->len, &o->cap, str[j], l[j] + 1) != 0)
			return -1;
	if (o->len > NF_MAX_BODY)
		return -1;
	if (o->nports > 0) {
		memcpy(&e, o->index + o->ilen - NF_ENTRY, NF_ENTRY);
		if (e.port == (uint32_t)v[1]) {
			e.count++;
			e.len += (uint32_t)(o->len - start);
			memcpy(o->index + o->ilen - NF_ENTRY, &e, NF_ENTRY);
			o->count++;
			return 0;
		}
	}
	memset(&e, 0, sizeof e);
	e.port = (uint32_t)v[1];
	e.count = 1;
	e.off = (uint32_t)start;
	e.len = (uint32_t)(o->len - start);
	o->nports++;
	o->count++;
	return nf_put(&o->index, &o->ilen, &o->icap, &e, NF_ENTRY);
}

/* Every note, by port then id, as the file's body and index; 0 or -1. */
static int
nf_collect(sqlite3 *db, struct nf_out *o)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db,
		"SELECT id, port, proto, text, author, "
		"created FROM notes ORDER BY port, id",
		-1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int32_t v[3];
		const char *str[3];
		int j;

		for (j = 0; j < 3; j++) {
			v[j] = sqlite3_column_int(st, j);
			str[j] = (const char *)sqlite3_column_text(st, 3 + j);
			if (str[j] == NULL)
				str[j] = "";
		}
		if (nf_add(o, v, str) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Removes temporary files of writers that died before their rename
 * (PATH.notes.PID.tmp untouched for an hour: a writer takes
 * milliseconds, and the age, not the PID, tells, since a writer in
 * another PID namespace may share the file).
 */
static void
nf_sweep(const char *path)
{
	char dir[PATH_MAX], prefix[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct dirent *e;
	struct stat sb;
	time_t now = time(NULL);
	size_t pl;
	int dfd, n;
	DIR *d;

	n = slash == NULL ? snprintf(dir, sizeof dir, ".")
			  : snprintf(dir, sizeof dir, "%.*s",
				slash == path ? 1 : (int)(slash - path), path);
	if (n <= 0 || (size_t)n >= sizeof dir ||
	    (n = snprintf(prefix, sizeof prefix, "%s.",
		 slash == NULL ? path : slash + 1)) <= 0 ||
	    (size_t)n >= sizeof prefix ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	pl = strlen(prefix);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l > pl + 4 && strncmp(e->d_name, prefix, pl) == 0 &&
		    strcmp(e->d_name + l - 4, ".tmp") == 0 &&
		    strspn(e->d_name + pl, "0123456789") == l - pl - 4 &&
		    fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(sb.st_mode) && now - sb.st_mtime > 3600)
			unlinkat(dfd, e->d_name, 0);
	}
	closedir(d);
}

/* Writes the whole file anew (tmp, then rename); 0 or -1. */
static int
nf_rewrite(struct pdx_state *s, const struct nf_stamp *t, int64_t rev,
    mode_t mode)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct nf_header h;
	struct nf_out o;
	struct iovec iov[3];
	uint32_t i;
	int ok;

	memset(&o, 0, sizeof o);
	if (nf_path(path, sizeof path, s->path, 0) != 0 ||
	    nf_path(tmp, sizeof tmp, s->path, 1) != 0 ||
	    nf_collect(s->db, &o) != 0) {
		free(o.body);
		free(o.index);
		return -1;
	}
	/* each port's checksum, now that its block is complete */
	for (i = 0; i < o.nports; i++) {
		struct nf_entry e;

		memcpy(&e, o.index + (size_t)i * NF_ENTRY, NF_ENTRY);
		e.sum = pdx_sum64(o.body + e.off, e.len);
		memcpy(o.index + (size_t)i * NF_ENTRY, &e, NF_ENTRY);
	}
	memset(&h, 0, sizeof h);
	memcpy(h.magic, NF_MAGIC, 8);
	h.version = NF_VERSION;
	h.order = NF_ORDER;
	h.count = o.count;
	h.rev = rev;
	h.body_len = (uint32_t)o.len;
	h.nports = o.nports;
	h.index_sum = pdx_sum64(o.index != NULL ? o.index : "", o.ilen);
	nf_seal(&h, t);
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof h;
	iov[1].iov_base = o.index != NULL ? o.index : "";
	iov[1].iov_len = o.ilen;
	iov[2].iov_base = o.body != NULL ? o.body : "";
	iov[2].iov_len = o.len;
	ok = pdx_write_file_mode(tmp, iov, 3, mode) == 0 &&
	    rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	else
		nf_sweep(path);
	free(o.body);
	free(o.index);
	return ok ? 0 : -1;
}

/* The notes' revision (notes_rev), read inside the caller's transaction. */
static int
nf_rev(sqlite3 *db, int64_t *rev)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT rev FROM notes_rev", -1, &st,
		NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*rev = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Inside a read transaction (the state's shared lock: no commit can fall
 * between the stamp and the rows): nothing to do when the file already
 * names the state as it is; the header re-stamped in place when the notes
 * are the ones it holds (same revision, same file); else written anew.
 */
static int
nf_refresh(struct pdx_state *s)
{
	char path[PATH_MAX];
	struct nf_header h;
	struct nf_stamp t;
	struct stat sb;
	int64_t rev;
	int fd, r = -1;

	if (nf_rev(s->db, &rev) != 0 ||
	    nf_path(path, sizeof path, s->path, 0) != 0 ||
	    (fd = open(s->path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (nf_stamp(fd, &t) != 0 || fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		if (pdx_pread_full(fd, &h, sizeof h, 0) == 0 &&
		    nf_header_ok(&h) && h.rev == rev && h.dev == t.dev &&
		    h.ino == t.ino) {
			if (nf_same(&h, &t))
				r = 0;
			else {
				nf_seal(&h, &t);
				r = pwrite(fd, &h, sizeof h, 0) ==
					(ssize_t)sizeof h
				    ? 0
				    : -1;
			}
		}
		close(fd);
		if (r == 0)
			return 0;
	}
	return nf_rewrite(s, &t, rev, sb.st_mode & 0666);
}

void
pdx_nfile_update(struct pdx_state *s)
{
	if (s->db == NULL || s->readonly || sqlite3_get_autocommit(s->db) == 0)
		return;
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return;
	if (nf_refresh(s) != 0) {
		char path[PATH_MAX];

		/* a stale file is never believed; a useless one goes */
		if (nf_path(path, sizeof path, s->path, 0) == 0)
			unlink(path);
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}
