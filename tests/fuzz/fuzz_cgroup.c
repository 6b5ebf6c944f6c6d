/*
 * fuzz_cgroup.c - libFuzzer harness for pdx_cgroup_parse (the text of
 * /proc/PID/cgroup, which a process can influence through its cgroup
 * names).  Whatever it returns must be a readable string the caller frees.
 */
#include "fuzz.h"
#include "../../lib/sockets-int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *unit = NULL, *container = NULL;

	if ((s = fuzz_cstr(data, size)) == NULL)
		return 0;
	pdx_cgroup_parse(s, &unit, &container);
	fuzz_touch(unit);
	fuzz_touch(container);
	free(unit);
	free(container);
	free(s);
	return 0;
}
