/*
 * fuzz_iana.c - libFuzzer harness for pdx_iana_parse (IANA's CSV).  Every
 * row handed to the callback must carry readable fields and ports,
 * transport and status within their ranges; a malformed file must fail
 * with a message.  The CSV grammar itself is sources.c's.
 */
#include "fuzz.h"

static int
row_cb(const struct pdx_iana_row *r, void *arg)
{
	int i;

	for (i = 0; i < PDX_NCOLS; i++)
		fuzz_touch(r->f[i]);
	fuzz_touch(r->was);
	CHECK(r->port_lo >= -1 && r->port_lo <= 65535);
	CHECK(r->port_hi >= r->port_lo && r->port_hi <= 65535);
	CHECK(r->proto == 0 || pdx_proto_index(r->proto) >= 0);
	CHECK(r->status >= PDX_ST_UNASSIGNED && r->status <= PDX_ST_ASSIGNED);
	CHECK(r->line >= 1);
	(*(long *)arg)++;
	/* Stop early now and then: the parser must clean up mid-file. */
	return (r->line % 97) == 13;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long rows = 0, n;

	n = pdx_iana_parse((const char *)data, size, "fuzz.csv", row_cb, &rows);
	if (n < 0)
		fuzz_error_set();
	else
		CHECK(n == rows);
	/* Without a callback the file is only checked. */
	return 0;
}
