/*
 * fuzz_services.c - libFuzzer harness for pdx_services_parse (services(5)
 * files, glibc's and Wireshark's dialects).  Entries must name a service,
 * a port range inside 0-65535 and at least one known transport.
 */
#include "fuzz.h"

static int
svc_cb(const struct pdx_service_entry *e, void *arg)
{
	fuzz_touch(e->name);
	fuzz_touch(e->aliases);
	fuzz_touch(e->comment);
	CHECK(e->name != NULL);
	CHECK(
	    e->port_lo >= 0 && e->port_lo <= e->port_hi && e->port_hi <= 65535);
	CHECK(e->protos != 0 && (e->protos & ~PDX_PROTO_ALL) == 0);
	(*(long *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long rows = 0, n;

	n = pdx_services_parse((const char *)data, size, "services", svc_cb,
	    &rows);
	if (n < 0)
		fuzz_error_set();
	else
		CHECK(n == rows);
	return 0;
}
