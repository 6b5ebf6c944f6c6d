/*
 * cut-mapped.c - an LD_PRELOAD shim for tests/cli/test-mapped-cut.sh: when
 * the program maps the file named by PDX_CUT_FILE, the shim cuts that file
 * to zero bytes right after the mapping is made, as another program
 * truncating it in place would, so the program's next read of the mapping
 * raises SIGBUS.  Every other mapping is left alone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static void *(*real)(void *, size_t, int, int, int, off_t);
	const char *want = getenv("PDX_CUT_FILE");
	char link[64], path[PATH_MAX];
	ssize_t n;
	void *p;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "mmap");
	p = real(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED || fd < 0 || want == NULL)
		return p;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof path - 1);
	if (n > 0) {
		path[n] = '\0';
		if (strcmp(path, want) == 0 && truncate(path, 0) == 0)
			fprintf(stderr, "cut-mapped: cut %s\n", path);
	}
	return p;
}
