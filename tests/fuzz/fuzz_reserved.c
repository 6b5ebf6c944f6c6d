/*
 * fuzz_reserved.c - libFuzzer harness for pdx_reserved_ports(), the
 * reader of the kernel's ip_local_reserved_ports file that pick and why
 * use: the input is written to a file and read back.  Invariants: a
 * success gives a set whose count equals its bits and holds only ports
 * the text names (every digit run of an accepted text is a port); a
 * failure gives an empty set and an error naming the file.
 */
#include <ctype.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[4096], path[4200];
	static struct pdx_portset ps;
	unsigned bits = 0;
	FILE *f;
	size_t i;
	int rc;

	if (dir[0] == '\0') {
		fuzz_workdir("reserved", dir, sizeof dir);
		snprintf(path, sizeof path, "%s/ip_local_reserved_ports", dir);
	}
	CHECK((f = fopen(path, "w")) != NULL);
	CHECK(fwrite(data, 1, size, f) == size);
	CHECK(fclose(f) == 0);
	rc = pdx_reserved_ports(path, &ps);
	for (i = 0; i < 65536 / 64; i++)
		bits += (unsigned)__builtin_popcountll(ps.bits[i]);
	CHECK(bits == ps.count);
	if (rc != 0) {
		CHECK(rc == -1);
		CHECK(ps.count == 0);
		CHECK(strstr(pdx_last_error(), path) != NULL);
		return 0;
	}
	/* accepted: digits, commas, dashes and trailing blanks only */
	for (i = 0; i < size; i++)
		CHECK(isdigit(data[i]) || data[i] == ',' || data[i] == '-' ||
		    data[i] == '\n' || data[i] == ' ' || data[i] == '\t');
	return 0;
}
