/*
 * fuzz_rulesetcache.c - libFuzzer harness for the ruleset cache's reader
 * (lib/firewall-cache.c: fw_cache_get).  The input is a cache file: as it
 * is when its first byte is even; else the rest behind a head that names
 * the harness's key, with the rest's true length and checksum when the
 * second byte is odd (so that the reading of the text is reached) and the
 * second byte's value as the length otherwise.  A text returned must be
 * exactly the file's text: its length, its bytes, a NUL after them.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "fuzz.h"
#include "../../lib/firewall-int.h"
#include "../../lib/util-int.h"

static char dir[4096], path[4300];
static const struct fw_cache_key key = { "01234567-89ab-cdef-0123-456789abcdef",
	7, 3, 1 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char head[200], *text;
	const uint8_t *body = data;
	size_t len = 0, blen = size, hlen = 0;
	int fd;

	if (dir[0] == '\0') {
		fuzz_workdir("rulesetcache", dir, sizeof dir);
		snprintf(path, sizeof path, "%s/ruleset-7", dir);
		setenv("PORTDEX_CACHE", dir, 1);
	}
	if (size >= 2 && (data[0] & 1)) {
		body = data + 2;
		blen = size - 2;
		hlen = (size_t)snprintf(head, sizeof head,
		    "PDXNFT1 %s 7 3 %zu %llx\n", key.boot,
		    (data[1] & 1) ? blen : (size_t)data[1],
		    (unsigned long long)pdx_sum64(body, blen));
	}
	CHECK((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	CHECK(write(fd, head, hlen) == (ssize_t)hlen);
	CHECK(write(fd, body, blen) == (ssize_t)blen);
	close(fd);
	text = fw_cache_get(&key, &len);
	if (text != NULL) {
		CHECK(hlen > 0 && len == blen);
		CHECK(memcmp(text, body, len) == 0 && text[len] == '\0');
		free(text);
	}
	return 0;
}
