/*
 * fuzz_nmap.c - libFuzzer harness for pdx_nmap_parse (nmap-services).
 * Entries must carry a port in 0-65535, one known transport and an open
 * frequency that is a number between 0 and 1.
 */
#include "fuzz.h"

static int
nmap_cb(const struct pdx_nmap_entry *e, void *arg)
{
	fuzz_touch(e->name);
	CHECK(e->port >= 0 && e->port <= 65535);
	CHECK(pdx_proto_index(e->proto) >= 0);
	CHECK(e->freq >= 0.0 && e->freq <= 1.0); /* false for NaN too */
	(*(long *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long rows = 0, n;

	n = pdx_nmap_parse((const char *)data, size, "nmap-services", nmap_cb,
	    &rows);
	if (n < 0)
		fuzz_error_set();
	else
		CHECK(n == rows);
	return 0;
}
