/*
 * fuzz.h - what the harnesses share: copies of the input that end exactly
 * where the input ends (so that AddressSanitizer sees a read one byte too
 * far), a sink that makes the harness touch every string a parser hands
 * out, CHECK, which turns a broken promise of an API into a crash the
 * fuzzer reports, a private working directory for harnesses that need
 * files, and a cheaper allocator for SQLite (fuzz_sqlite_malloc).  It
 * does not test any one parser.
 */
#ifndef PDX_FUZZ_H
#define PDX_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>
#include <sqlite3.h>

#include "portdex.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A broken invariant is a finding: say which, then abort. */
#define CHECK(c) \
	do { \
		if (!(c)) { \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
			    __FILE__, __LINE__, #c); \
			abort(); \
		} \
	} while (0)

static volatile size_t fuzz_sink;

/* Reads the whole of a string the parser returned (NULL is allowed). */
static inline void
fuzz_touch(const char *s)
{
	if (s != NULL)
		fuzz_sink += strlen(s);
}

/* A NUL-terminated copy of the input, or NULL.  Caller frees. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* After a failure the message must be set and readable. */
static inline void
fuzz_error_set(void)
{
	const char *e = pdx_last_error();

	CHECK(e != NULL && *e != '\0');
	fuzz_touch(e);
}

/*
 * The harnesses that edit a valid file (fuzz_brief, fuzz_cardfile,
 * fuzz_notesfile) read their input as records: op (1 byte), an offset
 * (obytes bytes, little-endian), a length (1 byte), then, for an op that
 * writes, that many bytes.  fuzz_next_edit takes a record's head (0 when
 * the input is used up); fuzz_place takes its bytes (cut to what is left
 * and to end) and returns where they go: base + offset % span.
 */
struct fuzz_edit {
	unsigned op, len;
	long off;
	const uint8_t *bytes;
};

static inline int
fuzz_next_edit(const uint8_t **data, size_t *size, int obytes,
    struct fuzz_edit *e)
{
	const uint8_t *d = *data;
	int i;

	if (*size < (size_t)obytes + 2)
		return 0;
	e->op = d[0];
	e->off = 0;
	for (i = 0; i < obytes; i++)
		e->off |= (long)d[1 + i] << (8 * i);
	e->len = d[1 + obytes];
	*data += obytes + 2;
	*size -= (size_t)obytes + 2;
	e->bytes = *data;
	return 1;
}

static inline long
fuzz_place(const uint8_t **data, size_t *size, struct fuzz_edit *e, long base,
    long span, long end)
{
	long off = base + e->off % span;

	if (e->len > *size)
		e->len = (unsigned)*size;
	if (off + (long)e->len > end)
		e->len = (unsigned)(end - off);
	*data += e->len;
	*size -= e->len;
	return off;
}

/* Removes the files in dir (not below it), then dir itself. */
static inline void
fuzz_rmdir(const char *dir)
{
	char p[4096];
	struct dirent *e;
	DIR *dp = opendir(dir);

	if (dp != NULL) {
		while ((e = readdir(dp)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(dp);
	}
	rmdir(dir);
}

/*
 * Makes dir = BASE/pdx-fuzz-TAG.PID, BASE being /dev/shm (memory: the
 * harness rewrites and rereads its files every run) or else /tmp, and
 * exits on failure.  A crash ends the process without atexit handlers,
 * so the directories of processes that no longer run are removed here.
 */
static inline void
fuzz_workdir(const char *tag, char *dir, size_t size)
{
	static const char *const bases[] = { "/dev/shm", "/tmp" };
	char prefix[64], p[4096];
	struct dirent *e;
	size_t i, n;
	DIR *dp;

	n = (size_t)snprintf(prefix, sizeof prefix, "pdx-fuzz-%s.", tag);
	for (i = 0; i < sizeof bases / sizeof *bases; i++) {
		if ((dp = opendir(bases[i])) == NULL)
			continue;
		while ((e = readdir(dp)) != NULL) {
			const char *pid = e->d_name + n;
			char *end;
			long v;

			if (strncmp(e->d_name, prefix, n) != 0 || *pid == '\0')
				continue;
			v = strtol(pid, &end, 10);
			if (*end != '\0' || v <= 0 || v == (long)getpid() ||
			    kill((pid_t)v, 0) == 0 || errno != ESRCH)
				continue;
			snprintf(p, sizeof p, "%s/%s", bases[i], e->d_name);
			fuzz_rmdir(p);
		}
		closedir(dp);
		snprintf(dir, size, "%s/%s%ld", bases[i], prefix,
		    (long)getpid());
		fuzz_rmdir(dir); /* a dead process's, with our pid */
		if (mkdir(dir, 0700) == 0)
			return;
	}
	fprintf(stderr, "fuzz: cannot make a directory for %s: %s\n", tag,
	    strerror(errno));
	exit(1);
}

/*
 * SQLite's memory for harnesses that open a database every run.  Under
 * AddressSanitizer's allocator, which records a stack trace for every
 * allocation, SQLite's many small allocations were half of such a run.
 * This allocator keeps what the sanitizer checks on them and drops only
 * the stack traces: each block comes from the C library's own heap
 * (which AddressSanitizer does not intercept) with a poisoned header and
 * at least 32 poisoned bytes after the exact size asked for, so a read
 * past a column's text or blob is still reported (as use-after-poison);
 * a freed block stays poisoned while the next 4096 frees go by, so a use
 * after free is reported too; a double or foreign free is a CHECK.
 * Blocks up to 8 KiB are then kept, poisoned, for reuse by size class.
 * LeakSanitizer does not see these blocks: fuzz_sqlite_live() counts the
 * live ones, for the harness to check that a run left none behind.
 * Call fuzz_sqlite_malloc() before anything uses SQLite.
 */
#if defined(__GLIBC__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_HAVE_SQLITE_MALLOC 1
void *__libc_malloc(size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);

#define FZ_HDR 16
#define FZ_REDZONE 32
#define FZ_LIVE 0x6c697665u
#define FZ_FREED 0x64656164u
#ifndef FZ_QUARANTINE
#define FZ_QUARANTINE 4096
#endif
#define FZ_CLASS 32  /* bytes between size classes */
#define FZ_KEEP 8192 /* largest block kept for reuse */
/* Not instrumented: the allocator's branches are no coverage to seek. */
#define FZ_PLAIN __attribute__((no_sanitize("address", "coverage")))

struct fz_hdr {
	uint32_t n; /* bytes asked for */
	uint32_t magic;
	uint64_t pad;
};

static size_t fz_live;
static struct {
	char *p;
	size_t len;
} fz_quarantine[FZ_QUARANTINE];
static size_t fz_qnext;
static struct {
	char **v;
	size_t n, cap;
} fz_bin[FZ_KEEP / FZ_CLASS + 1];

/* The size of the block that holds n bytes. */
FZ_PLAIN static inline size_t
fz_block(size_t n)
{
	size_t t = FZ_HDR + ((n + 7) & ~(size_t)7) + FZ_REDZONE;

	return t <= FZ_KEEP ? (t + FZ_CLASS - 1) / FZ_CLASS * FZ_CLASS : t;
}

FZ_PLAIN static inline void *
fz_malloc(int n)
{
	size_t t;
	char *b;

	if (n < 0)
		return NULL;
	t = fz_block((size_t)n);
	if (t <= FZ_KEEP && fz_bin[t / FZ_CLASS].n > 0)
		b = fz_bin[t / FZ_CLASS].v[--fz_bin[t / FZ_CLASS].n];
	else {
		if ((b = __libc_malloc(t)) == NULL)
			return NULL;
		__asan_poison_memory_region(b, t);
	}
	/* b is poisoned from end to end. */
	((struct fz_hdr *)(void *)b)->n = (uint32_t)n;
	((struct fz_hdr *)(void *)b)->magic = FZ_LIVE;
	__asan_unpoison_memory_region(b + FZ_HDR, (size_t)n);
	fz_live++;
	return b + FZ_HDR;
}

/* Keeps a poisoned block out of quarantine, or gives it back. */
FZ_PLAIN static inline void
fz_release(char *b, size_t t)
{
	size_t c = t / FZ_CLASS;

	if (t <= FZ_KEEP && fz_bin[c].n == fz_bin[c].cap) {
		size_t cap = fz_bin[c].cap ? 2 * fz_bin[c].cap : 64;
		char **v = __libc_realloc(fz_bin[c].v, cap * sizeof *v);

		if (v != NULL) {
			fz_bin[c].v = v;
			fz_bin[c].cap = cap;
		}
	}
	if (t <= FZ_KEEP && fz_bin[c].n < fz_bin[c].cap) {
		fz_bin[c].v[fz_bin[c].n++] = b;
		return;
	}
	__asan_unpoison_memory_region(b, t);
	__libc_free(b);
}

FZ_PLAIN static inline void
fz_free(void *p)
{
	struct fz_hdr *h;
	char *old;
	size_t len;

	if (p == NULL)
		return;
	h = (struct fz_hdr *)(void *)((char *)p - FZ_HDR);
	CHECK(h->magic == FZ_LIVE); /* a double or foreign free */
	h->magic = FZ_FREED;
	__asan_poison_memory_region(p, h->n);
	fz_live--;
	old = fz_quarantine[fz_qnext].p;
	len = fz_quarantine[fz_qnext].len;
	fz_quarantine[fz_qnext].p = (char *)h;
	fz_quarantine[fz_qnext].len = fz_block(h->n);
	fz_qnext = (fz_qnext + 1) % FZ_QUARANTINE;
	if (old != NULL)
		fz_release(old, len);
}

FZ_PLAIN static inline int
fz_size(void *p)
{
	return p == NULL
	    ? 0
	    : (int)((struct fz_hdr *)(void *)((char *)p - FZ_HDR))->n;
}

FZ_PLAIN static inline void *
fz_realloc(void *p, int n)
{
	void *q = fz_malloc(n);
	int old = fz_size(p);

	if (q == NULL)
		return NULL;
	if (p != NULL)
		memcpy(q, p, (size_t)(old < n ? old : n));
	fz_free(p);
	return q;
}

FZ_PLAIN static inline int
fz_roundup(int n)
{
	return n;
}

FZ_PLAIN static inline int
fz_init(void *arg)
{
	return SQLITE_OK;
}

FZ_PLAIN static inline void
fz_shutdown(void *arg)
{
}

/*
 * The bins and the quarantine above are shared: SQLite calls them from
 * every thread (pdx_update builds the brief file and the card file in
 * threads of their own while the harness builds its template), so every
 * call holds one lock.  Without it two threads corrupted the headers and
 * a later free tripped "h->magic == FZ_LIVE".
 */
static pthread_mutex_t fz_mu = PTHREAD_MUTEX_INITIALIZER;

FZ_PLAIN static void *
fz_malloc_l(int n)
{
	void *p;

	pthread_mutex_lock(&fz_mu);
	p = fz_malloc(n);
	pthread_mutex_unlock(&fz_mu);
	return p;
}

FZ_PLAIN static void
fz_free_l(void *p)
{
	pthread_mutex_lock(&fz_mu);
	fz_free(p);
	pthread_mutex_unlock(&fz_mu);
}

FZ_PLAIN static void *
fz_realloc_l(void *p, int n)
{
	void *q;

	pthread_mutex_lock(&fz_mu);
	q = fz_realloc(p, n);
	pthread_mutex_unlock(&fz_mu);
	return q;
}

FZ_PLAIN static int
fz_size_l(void *p)
{
	int n;

	pthread_mutex_lock(&fz_mu);
	n = fz_size(p);
	pthread_mutex_unlock(&fz_mu);
	return n;
}

static inline void
fuzz_sqlite_malloc(void)
{
	static const sqlite3_mem_methods m = {
		fz_malloc_l,
		fz_free_l,
		fz_realloc_l,
		fz_size_l,
		fz_roundup,
		fz_init,
		fz_shutdown,
		NULL,
	};

	CHECK(sqlite3_config(SQLITE_CONFIG_MALLOC, &m) == SQLITE_OK);
	CHECK(sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK);
}

/* SQLite's blocks now allocated. */
static inline size_t
fuzz_sqlite_live(void)
{
	return fz_live;
}
#endif
#endif

#endif
