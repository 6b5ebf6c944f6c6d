/*
 * fuzz_rpcnames.c - libFuzzer harness for pdx_rpcnames_parse (/etc/rpc and
 * nmap-rpc).  Entries must name a program with a non-negative number.
 */
#include "fuzz.h"

static int
rpc_cb(const struct pdx_rpc_entry *e, void *arg)
{
	fuzz_touch(e->name);
	fuzz_touch(e->aliases);
	CHECK(e->name != NULL && e->number >= 0);
	(*(long *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long rows = 0, n;

	n = pdx_rpcnames_parse((const char *)data, size, "rpc", rpc_cb, &rows);
	if (n < 0)
		fuzz_error_set();
	else
		CHECK(n == rows);
	return 0;
}
