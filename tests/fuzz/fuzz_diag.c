/*
 * fuzz_diag.c - libFuzzer harness for pdx_diag_parse (a buffer of netlink
 * sock_diag replies as read from the socket).  The first byte picks the
 * transport, whether a filter is applied and whether the buffer starts
 * unaligned; the rest is the buffer.  Every socket appended must be
 * printable and within range, and the array must free cleanly.
 */
#include "fuzz.h"
#include "../../lib/sockets-int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int protos[] = { PDX_TCP, PDX_UDP, PDX_SCTP, PDX_DCCP };
	struct pdx_sock_filter f;
	struct pdx_portset ps;
	struct pdx_socket *v = NULL;
	size_t n = 0, cap = 0, i, off;
	uint8_t *buf;
	int rc, sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	off = (sel & 8) ? 1 : 0;
	if ((buf = malloc(size + off)) == NULL)
		return 0;
	memcpy(buf + off, data, size);
	pdx_sock_filter_init(&f);
	if (sel & 16) {
		f.states = PDX_SSF_ALL;
		pdx_portset_clear(&ps);
		pdx_portset_add(&ps, 1, 1024);
		f.ports = &ps;
	}
	rc = pdx_diag_parse(buf + off, size, protos[sel & 3],
	    (sel & 4) ? &f : NULL, &v, &n, &cap);
	CHECK(rc >= -1 && rc <= 1);
	if (rc < 0)
		fuzz_error_set();
	CHECK(n <= cap);
	for (i = 0; i < n; i++) {
		CHECK(v[i].lport <= 65535 && v[i].rport <= 65535);
		CHECK(memchr(v[i].local, '\0', sizeof v[i].local) != NULL);
		CHECK(memchr(v[i].remote, '\0', sizeof v[i].remote) != NULL);
		fuzz_touch(v[i].local);
		fuzz_touch(v[i].remote);
		fuzz_touch(pdx_sock_state_name(v[i].state));
		json_decref(pdx_socket_json(&v[i], NULL));
	}
	pdx_sockets_free(v, n);
	free(buf);
	return 0;
}
