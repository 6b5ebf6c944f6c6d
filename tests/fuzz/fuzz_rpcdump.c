/*
 * fuzz_rpcdump.c - libFuzzer harness for the portmapper reply decoders:
 * pdx_rpc_parse_dump (XDR of PMAPPROC_DUMP v2 or RPCBPROC_DUMP v3/v4; the
 * first byte picks the version) and, on the same bytes as text,
 * pdx_rpc_uaddr_port and pdx_rpc_netid_proto.  Entries must hold
 * NUL-terminated strings and ports in range.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdx_rpc_reg *r = NULL;
	char host[64], *s;
	unsigned port = 0;
	long n, i;
	int vers;

	if (size < 1)
		return 0;
	vers = 2 + data[0] % 3;
	n = pdx_rpc_parse_dump(data + 1, size - 1, vers, &r);
	if (n < 0) {
		fuzz_error_set();
		CHECK(r == NULL);
	} else {
		CHECK(n <= PDX_RPC_MAX_ENTRIES);
		CHECK(n == 0 || r != NULL);
		for (i = 0; i < n; i++) {
			CHECK(memchr(r[i].netid, '\0', sizeof r[i].netid));
			CHECK(memchr(r[i].addr, '\0', sizeof r[i].addr));
			CHECK(memchr(r[i].owner, '\0', sizeof r[i].owner));
			CHECK(r[i].port >= -1 && r[i].port <= 65535);
			fuzz_touch(r[i].netid);
			fuzz_touch(r[i].addr);
			fuzz_touch(r[i].owner);
		}
	}
	free(r);

	if ((s = fuzz_cstr(data + 1, size - 1)) == NULL)
		return 0;
	if (pdx_rpc_uaddr_port(s, host, sizeof host, &port) == 0) {
		CHECK(port <= 65535);
		CHECK(memchr(host, '\0', sizeof host) != NULL);
	}
	(void)pdx_rpc_uaddr_port(s, NULL, 0, &port);
	(void)pdx_rpc_uaddr_port(s, host, 4, &port);
	CHECK(pdx_rpc_netid_proto(s) == 0 ||
	    pdx_rpc_netid_proto(s) == PDX_TCP ||
	    pdx_rpc_netid_proto(s) == PDX_UDP);
	free(s);
	return 0;
}
