/*
 * fuzz_procnet.c - libFuzzer harness for pdx_proc_net_parse_line (one line
 * of /proc/net/{tcp,tcp6,udp,udp6}).  The first byte picks the family and
 * transport, the rest is the line, not NUL-terminated, in a buffer that
 * ends where it ends.  A parsed socket must have ports and a state in
 * range and printable addresses.
 */
#include <sys/socket.h>

#include "fuzz.h"
#include "../../lib/sockets-int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdx_socket s;
	char *line;
	int family, proto, rc;

	if (size < 1)
		return 0;
	family = (data[0] & 1) ? AF_INET6 : AF_INET;
	proto = (data[0] & 2) ? PDX_UDP : PDX_TCP;
	size--;
	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(line, data + 1, size);
	memset(&s, 0, sizeof s);
	rc = pdx_proc_net_parse_line(line, size, family, proto, &s);
	CHECK(rc >= -1 && rc <= 1);
	if (rc < 0)
		fuzz_error_set();
	if (rc == 1) {
		CHECK(s.lport <= 65535 && s.rport <= 65535);
		CHECK(s.family == family && s.proto == proto);
		CHECK(memchr(s.local, '\0', sizeof s.local) != NULL);
		CHECK(memchr(s.remote, '\0', sizeof s.remote) != NULL);
		fuzz_touch(pdx_sock_state_name(s.state));
		pdx_socket_format_addrs(&s);
		fuzz_touch(s.local);
		fuzz_touch(s.remote);
		json_decref(pdx_socket_json(&s, NULL));
	}
	free(line);
	return 0;
}
