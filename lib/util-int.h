/*
 * util-int.h - small pieces util.c shares with the library's other files
 * (and its tests), not part of the API the tool sees.
 */
#ifndef PDX_UTIL_INT_H
#define PDX_UTIL_INT_H
#include <sys/socket.h>
#include <sys/types.h>
#include <stdint.h>
#include <sys/uio.h>
#include <jansson.h>

/* s as a JSON string, control bytes and invalid UTF-8 made '?'. */
json_t *pdx_json_clean(const char *s);

/*
 * A 64-bit checksum of n bytes, 8 at a time, for the files portdex writes
 * beside its databases (damage is never believed); not a MAC.
 */
uint64_t pdx_sum64(const void *p, size_t n);

/*
 * Reads exactly n bytes at off of fd into buf (again after EINTR and
 * short reads); 0, or -1 with errno set (0: the file ended first).
 */
int pdx_pread_full(int fd, void *buf, size_t n, off_t off);

/*
 * A read-only mapping of len bytes of fd, a file portdex replaces by
 * rename (the brief file, the notes file), named path for the program's
 * SIGBUS handler (pdx_mapped_path); NULL (then read it) unless the
 * program allowed it (pdx_map_allow), or if it fails.  Reading in place
 * spares a copy into fresh memory, which on a virtual machine costs a
 * fault of several microseconds a page.  Undone by pdx_unmap_file.
 */
const void *pdx_map_file(int fd, size_t len, const char *path);
void pdx_unmap_file(const void *p, size_t len);
/* munmap, unless the process exits soon (pdx_exit_soon): then nothing */
void pdx_unmap(void *p, size_t len);

/* Writes all of buf to fd (EINTR retried); 0, or -1 with errno. */
int pdx_write_all(int fd, const void *buf, size_t n);
/*
 * Creates path (0644, O_NOFOLLOW, truncated) holding the n pieces of iov
 * one after the other, and fsyncs it.  Returns 0, or -1 with the error
 * set (naming path) and path removed.
 */
int pdx_write_file(const char *path, const struct iovec *iov, int n);
/* The same with the file's mode. */
int pdx_write_file_mode(const char *path, const struct iovec *iov, int n,
    mode_t mode);

/*
 * Fills ss with the wildcard address of family (AF_INET: 0.0.0.0, else
 * ::) and port, for a test bind; returns its length.
 */
socklen_t
pdx_sockaddr_any(struct sockaddr_storage *ss, int family, unsigned port);

#endif
