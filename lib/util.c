/*
 * util.c - small shared pieces of libportdex: the per-thread error message,
 * bounded number parsing, protocol and level names, port sets, port-space
 * classes, reading whole files.  Nothing here touches a database.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdint.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <jansson.h>

#include "portdex.h"
#include "util-int.h"

static _Thread_local char pdx_errbuf[1024];

const char *
pdx_last_error(void)
{
	return pdx_errbuf[0] != '\0' ? pdx_errbuf : "no error";
}

/*
 * Length of the well-formed UTF-8 sequence at s (1-4), or 0: overlong
 * forms, surrogates and code points past U+10FFFF are not well-formed,
 * and C1 control characters are refused with them.
 */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* C1 controls too: some terminals take U+009B as an escape */
	if ((n == 2 && cp < 0xa0) ||
	    (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

void
pdx_set_error(const char *fmt, ...)
{
	char tmp[sizeof pdx_errbuf];
	unsigned char *p;
	va_list ap;
	size_t n;

	/* The arguments may include pdx_last_error() itself. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	/*
	 * A message may quote bytes someone else chose (a damaged schema's
	 * names in SQLite's "malformed database schema (...)", a path):
	 * control characters and bytes that are not UTF-8 become '?', so it
	 * reaches a terminal as text and a JSON answer as a string (jansson
	 * refuses invalid UTF-8, and an error must never vanish).
	 */
	for (p = (unsigned char *)tmp; *p != '\0'; p += n)
		if (*p < 0x20 || *p == 0x7f || (n = utf8_seq(p)) == 0) {
			*p = '?';
			n = 1;
		}
	memcpy(pdx_errbuf, tmp, sizeof tmp);
}

int
pdx_parse_number(const char *s, long long lo, long long hi, const char *what,
    long long *out)
{
	const char *p = s;
	long long v = 0;
	int neg = 0;

	if (s == NULL || *s == '\0') {
		pdx_set_error("empty %s", what);
		return -1;
	}
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (*p == '\0')
		goto bad;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (v > (999999999999LL))
			goto range; /* far beyond any bound we use */
		v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		goto range;
	*out = v;
	return 0;
bad:
	pdx_set_error("%s '%.64s' is not a number", what, s);
	return -1;
range:
	pdx_set_error("%s '%.64s' is out of range %lld-%lld", what, s, lo, hi);
	return -1;
}

static const char *const proto_names[PDX_NPROTO] = { "tcp", "udp", "sctp",
	"dccp" };

const char *
pdx_proto_name(int proto)
{
	int i = pdx_proto_index(proto);

	return i < 0 ? "" : proto_names[i];
}

int
pdx_proto_parse(const char *name)
{
	int i;

	for (i = 0; i < PDX_NPROTO; i++)
		if (strcasecmp(name, proto_names[i]) == 0)
			return 1 << i;
	return 0;
}

int
pdx_proto_index(int proto)
{
	switch (proto) {
	case PDX_TCP:
		return 0;
	case PDX_UDP:
		return 1;
	case PDX_SCTP:
		return 2;
	case PDX_DCCP:
		return 3;
	}
	return -1;
}

static const char *const status_names[] = { "unassigned", "reserved",
	"de-registered", "historic", "assigned" };

const char *
pdx_status_name(int st)
{
	if (st < 0 || st > PDX_ST_ASSIGNED)
		return "unknown";
	return status_names[st];
}

static const char *const level_names[] = { "none", "info", "low", "medium",
	"high" };

const char *
pdx_level_name(int l)
{
	if (l < 0 || l > PDX_LEVEL_HIGH)
		return "unknown";
	return level_names[l];
}

int
pdx_level_parse(const char *s)
{
	int i;

	for (i = 0; i <= PDX_LEVEL_HIGH; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void
pdx_portset_clear(struct pdx_portset *ps)
{
	memset(ps, 0, sizeof *ps);
}

void
pdx_portset_add(struct pdx_portset *ps, unsigned lo, unsigned hi)
{
	unsigned p;

	if (hi > 65535)
		hi = 65535;
	for (p = lo; p <= hi; p++) {
		uint64_t bit = (uint64_t)1 << (p % 64);

		if ((ps->bits[p / 64] & bit) == 0) {
			ps->bits[p / 64] |= bit;
			ps->count++;
		}
	}
}

int
pdx_portset_has(const struct pdx_portset *ps, unsigned port)
{
	if (port > 65535)
		return 0;
	return (ps->bits[port / 64] >> (port % 64)) & 1;
}

int
pdx_portset_next(const struct pdx_portset *ps, int from)
{
	uint64_t w;
	int k;

	if (from < 0)
		from = 0;
	if (from > 65535)
		return -1;
	/* the rest of from's word, then whole words (a card asks for one) */
	if ((w = ps->bits[from / 64] >> (from % 64)) != 0)
		return from + __builtin_ctzll(w);
	for (k = from / 64 + 1; k < 65536 / 64; k++)
		if (ps->bits[k] != 0)
			return k * 64 + __builtin_ctzll(ps->bits[k]);
	return -1;
}

int
pdx_portset_parse(struct pdx_portset *ps, const char *spec)
{
	char elem[64];
	const char *p = spec, *e;
	long long lo, hi;
	size_t n;

	pdx_portset_clear(ps);
	if (spec == NULL || *spec == '\0') {
		pdx_set_error("empty port list");
		return -1;
	}
	if (strcmp(spec, "-") == 0) {
		pdx_portset_add(ps, 1, 65535);
		return 0;
	}
	while (*p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n >= sizeof elem) {
			pdx_set_error("bad element '%.*s' in port list",
			    (int)(n > 32 ? 32 : n), p);
			return -1;
		}
		memcpy(elem, p, n);
		elem[n] = '\0';
		char *dash = strchr(elem + 1, '-');
		if (dash != NULL) {
			*dash = '\0';
			if (pdx_parse_number(elem, 0, 65535, "port", &lo) !=
				0 ||
			    pdx_parse_number(dash + 1, 0, 65535, "port", &hi) !=
				0)
				return -1;
			if (hi < lo) {
				pdx_set_error("range %lld-%lld ends before it "
					      "starts",
				    lo, hi);
				return -1;
			}
		} else {
			if (pdx_parse_number(elem, 0, 65535, "port", &lo) != 0)
				return -1;
			hi = lo;
		}
		pdx_portset_add(ps, (unsigned)lo, (unsigned)hi);
		p += n;
		if (*p == ',')
			p++;
		if (e != NULL && *p == '\0') {
			pdx_set_error("port list ends with ','");
			return -1;
		}
	}
	return 0;
}

int
pdx_range_class(unsigned port)
{
	if (port < 1024)
		return PDX_RANGE_SYSTEM;
	if (port < 49152)
		return PDX_RANGE_USER;
	return PDX_RANGE_DYNAMIC;
}

const char *
pdx_range_class_name(int c)
{
	switch (c) {
	case PDX_RANGE_SYSTEM:
		return "system";
	case PDX_RANGE_USER:
		return "user";
	case PDX_RANGE_DYNAMIC:
		return "dynamic";
	}
	return "unknown";
}

int
pdx_ephemeral_range(const char *path, unsigned *lo, unsigned *hi)
{
	FILE *f;
	unsigned a, b;
	int n;

	if (path == NULL)
		path = "/proc/sys/net/ipv4/ip_local_port_range";
	if ((f = fopen(path, "r")) == NULL) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return -1;
	}
	n = fscanf(f, "%u %u", &a, &b);
	fclose(f);
	if (n != 2 || a > 65535 || b > 65535 || a > b) {
		pdx_set_error("%s: not a port range", path);
		return -1;
	}
	*lo = a;
	*hi = b;
	return 0;
}

char *
pdx_read_file(const char *path, size_t max, size_t *lenp)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		pdx_set_error("%s: is a directory", path);
		close(fd);
		return NULL;
	}
	/* No file that large fits in memory; keeps max + 2 from wrapping. */
	if (max > SIZE_MAX / 4)
		max = SIZE_MAX / 4;
	/*
	 * Room for max bytes, one more to see that the file goes on past
	 * max, and the NUL.
	 */
	cap = (fstat(fd, &st) == 0 && st.st_size > 0 &&
		  (uintmax_t)st.st_size <= max)
	    ? (size_t)st.st_size + 2
	    : 65536;
	if (cap > max + 2)
		cap = max + 2;
	if ((buf = malloc(cap)) == NULL)
		goto nomem;
	for (;;) {
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= max + 2) {
				pdx_set_error("%s: larger than %zu bytes", path,
				    max);
				goto fail;
			}
			cap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL)
				goto nomem;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			pdx_set_error("%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			pdx_set_error("%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	buf[len] = '\0';
	close(fd);
	if (lenp != NULL)
		*lenp = len;
	return buf;
nomem:
	pdx_set_error("%s: out of memory", path);
fail:
	free(buf);
	close(fd);
	return NULL;
}

/*
 * A JSON string of s, with control characters (and, when s is not valid
 * UTF-8, every non-ASCII byte) replaced by '?', for text that someone
 * else chose (process names, paths, a note's bytes as the file holds
 * them): it can neither fail the caller nor reach a terminal as escape
 * sequences.  New reference.
 */
json_t *
pdx_json_clean(const char *s)
{
	size_t n, i;
	char *c;
	json_t *j;
	int ascii = 1;

	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
		ascii &= (unsigned char)s[i] < 0x80;
	}
	if (s[i] == '\0') {
		/* printable ASCII is valid UTF-8: no second pass over it */
		if (ascii)
			return json_stringn_nocheck(s, i);
		if ((j = json_string(s)) != NULL)
			return j;
	}
	n = i + strlen(s + i);
	if ((c = strdup(s)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			c[i] = '?';
	if ((j = json_string(c)) == NULL) {
		for (i = 0; i < n; i++)
			if ((unsigned char)c[i] >= 0x80)
				c[i] = '?';
		j = json_string(c);
	}
	free(c);
	return j;
}

/*
 * The files mapped now, for the program's SIGBUS handler: lo and hi are
 * set last and cleared first, so the handler never sees a half-made slot
 * as used.
 */
#define MAP_SLOTS 16
static struct map_slot {
	volatile uintptr_t lo, hi;
	char path[240];
} map_slots[MAP_SLOTS];
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int map_allowed;
static int exit_soon;

void
pdx_map_allow(int on)
{
	map_allowed = on != 0;
}

void
pdx_exit_soon(void)
{
	exit_soon = 1;
}

void
pdx_unmap(void *p, size_t len)
{
	if (!exit_soon)
		munmap(p, len);
}

const char *
pdx_mapped_path(const void *addr)
{
	uintptr_t at = (uintptr_t)addr;
	size_t i;

	for (i = 0; i < MAP_SLOTS; i++)
		if (map_slots[i].lo <= at && at < map_slots[i].hi)
			return map_slots[i].path;
	return NULL;
}

const void *
pdx_map_file(int fd, size_t len, const char *path)
{
	void *p;
	size_t i;

	if (len == 0 || !map_allowed)
		return NULL;
	if ((p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		return NULL;
	pthread_mutex_lock(&map_lock);
	for (i = 0; i < MAP_SLOTS && map_slots[i].hi != 0; i++)
		;
	if (i < MAP_SLOTS) {
		snprintf(map_slots[i].path, sizeof map_slots[i].path, "%s",
		    path);
		map_slots[i].lo = (uintptr_t)p;
		map_slots[i].hi = (uintptr_t)p + len;
	}
	pthread_mutex_unlock(&map_lock);
	if (i == MAP_SLOTS) { /* no slot: read the file instead */
		munmap(p, len);
		return NULL;
	}
	return p;
}

void
pdx_unmap_file(const void *p, size_t len)
{
	size_t i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&map_lock);
	for (i = 0; i < MAP_SLOTS; i++)
		if (map_slots[i].lo == (uintptr_t)p) {
			map_slots[i].hi = 0;
			map_slots[i].lo = 0;
			break;
		}
	pthread_mutex_unlock(&map_lock);
	pdx_unmap((void *)(uintptr_t)p, len);
}

int
pdx_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* A checksum 8 bytes at a time (a byte-wise one cost a card 0.4 M). */
uint64_t
pdx_sum64(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, b, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 32);
}

int
pdx_pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

int
pdx_write_file(const char *path, const struct iovec *iov, int n)
{
	return pdx_write_file_mode(path, iov, n, 0644);
}

int
pdx_write_file_mode(const char *path, const struct iovec *iov, int n,
    mode_t mode)
{
	int fd, i, ok;

	if ((fd = open(path,
		 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)) <
	    0) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return -1;
	}
	ok = 1;
	for (i = 0; ok && i < n; i++)
		ok = pdx_write_all(fd, iov[i].iov_base, iov[i].iov_len) == 0;
	ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0;
	if (!ok)
		pdx_set_error("%s: %s", path, strerror(errno));
	if (close(fd) != 0 && ok) {
		pdx_set_error("%s: %s", path, strerror(errno));
		ok = 0;
	}
	if (!ok)
		unlink(path);
	return ok ? 0 : -1;
}

socklen_t
pdx_sockaddr_any(struct sockaddr_storage *ss, int family, unsigned port)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)port);
		return sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		return sizeof *sin6;
	}
}
