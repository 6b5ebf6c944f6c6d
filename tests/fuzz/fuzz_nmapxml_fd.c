/*
 * fuzz_nmapxml_fd.c - libFuzzer harness for pdx_nmapxml_read_fd, the
 * reader `portdex annotate` and `import-nmap -` use on a pipe: the caller
 * has read the first bytes already (to see that they are XML) and hands
 * them over with the descriptor, whose bytes follow.  The input's first
 * byte says how many of the remaining bytes are that head; the rest is
 * written to a pipe (a memfd when it would not fit), which the reader
 * drains in whatever pieces read() returns.
 *
 * Checked: the same bytes read from memory (pdx_nmapxml_read_mem) give
 * the same answer, host by host (the head/descriptor seam loses,
 * repeats or reorders nothing; after an error, the hosts either reader
 * handed out are the start of the other's); the host count returned equals the
 * callbacks made; a failure sets the error; every port a number in
 * 0-65535; the descriptor is left open (the reader does not own it).
 */
#define _GNU_SOURCE /* pipe2, memfd_create */
#include <fcntl.h>
#include <sys/mman.h>

#include "fuzz.h"
#include "portdex/nmapxml.h"

struct seen {
	json_t *hosts; /* compact dumps of the hosts, in order */
};

static int
host_cb(json_t *run, json_t *host, void *arg)
{
	struct seen *s = arg;
	json_t *ports = json_object_get(host, "ports"), *p, *pair;
	size_t i;

	CHECK(json_is_object(run));
	CHECK(json_is_array(ports));
	json_array_foreach(ports, i, p)
	{
		json_int_t n = json_integer_value(json_object_get(p, "port"));

		CHECK(n >= 0 && n <= 65535);
	}
	pair = json_pack("[OO]", run, host);
	CHECK(pair != NULL);
	json_array_append_new(s->hosts, pair);
	return 0;
}

/* Whether the shorter of a and b is the start of the other. */
static int
prefix(json_t *a, json_t *b)
{
	size_t i, n = json_array_size(a);

	if (json_array_size(b) < n)
		n = json_array_size(b);
	for (i = 0; i < n; i++)
		if (!json_equal(json_array_get(a, i), json_array_get(b, i)))
			return 0;
	return 1;
}

/* An fd from which the reader gets body[0..len): a pipe, else a memfd. */
static int
body_fd(const uint8_t *body, size_t len)
{
	int p[2], fd;
	ssize_t w;

	if (len <= 65536 && pipe2(p, O_CLOEXEC) == 0) {
		size_t off = 0;

		while (off < len) {
			w = write(p[1], body + off, len - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(p[1]);
		CHECK(off == len);
		return p[0];
	}
	fd = memfd_create("fuzz-nmapxml", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, body, len) == (ssize_t)len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen byfd, bymem;
	size_t headlen;
	char *head, *all;
	long nfd, nmem;
	int fd;

	if (size < 1)
		return 0;
	headlen = data[0];
	data++;
	size--;
	if (headlen > size)
		headlen = size;
	/* exact-size copies, so a read past either end is reported */
	head = malloc(headlen > 0 ? headlen : 1);
	all = malloc(size > 0 ? size : 1);
	CHECK(head != NULL && all != NULL);
	memcpy(head, data, headlen);
	memcpy(all, data, size);

	byfd.hosts = json_array();
	bymem.hosts = json_array();
	fd = body_fd(data + headlen, size - headlen);
	nfd = pdx_nmapxml_read_fd(fd, head, headlen, "fuzz.xml", host_cb,
	    &byfd);
	if (nfd < 0)
		fuzz_error_set();
	else
		CHECK((size_t)nfd == json_array_size(byfd.hosts));
	CHECK(fcntl(fd, F_GETFD) >= 0);
	close(fd);

	nmem = pdx_nmapxml_read_mem(all, size, "fuzz.xml", host_cb, &bymem);
	if (nmem < 0)
		fuzz_error_set();
	/*
	 * The same verdict and the same hosts, in the same order.  After a
	 * failure the two may have stopped at different hosts (the memory
	 * reader sees the error sooner or later than the piecewise one),
	 * but what each handed out is a prefix of the other's.
	 */
	CHECK((nfd < 0) == (nmem < 0));
	if (nfd >= 0)
		CHECK(json_equal(byfd.hosts, bymem.hosts));
	else
		CHECK(prefix(byfd.hosts, bymem.hosts));

	json_decref(byfd.hosts);
	json_decref(bymem.hosts);
	free(head);
	free(all);
	return 0;
}
