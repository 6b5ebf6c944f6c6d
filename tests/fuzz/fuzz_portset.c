/*
 * fuzz_portset.c - libFuzzer harness for the number and port-list parsers
 * every command uses: pdx_parse_number against an independent reading of
 * the same text, and pdx_portset_parse against the set's own invariants
 * (count equals the bits set, pdx_portset_next visits exactly those).
 * The input is "LO HI\n" bounds for the number, then the text.
 */
#include <ctype.h>

#include "fuzz.h"

/*
 * The grammar pdx_parse_number promises: an optional sign, then decimal
 * digits only.  Returns 1 and the value when the text is such a number
 * that fits in 18 digits, 0 when it is not a number, 2 when it is too
 * long to compare.
 */
static int
reference_number(const char *s, long long *v)
{
	const char *p = s;
	int neg = 0;
	size_t nd;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p == '\0')
		return 0;
	for (nd = 0; p[nd] != '\0'; nd++)
		if (!isdigit((unsigned char)p[nd]))
			return 0;
	while (*p == '0' && p[1] != '\0')
		p++;
	if (strlen(p) > 18)
		return 2;
	*v = 0;
	for (; *p != '\0'; p++)
		*v = *v * 10 + (*p - '0');
	if (neg)
		*v = -*v;
	return 1;
}

static void
check_number(const char *s, long long lo, long long hi)
{
	long long got = 12345, want = 0;
	int rc, ref;

	rc = pdx_parse_number(s, lo, hi, "port", &got);
	ref = reference_number(s, &want);
	if (rc != 0)
		fuzz_error_set();
	if (ref == 0)
		CHECK(rc == -1);
	else if (ref == 1) {
		if (want >= lo && want <= hi)
			CHECK(rc == 0 && got == want);
		else
			CHECK(rc == -1);
	} else if (rc == 0)
		CHECK(got >= lo && got <= hi);
}

static void
check_portset(const char *spec)
{
	static struct pdx_portset ps;
	unsigned bits = 0, visited = 0;
	int i, p;

	if (pdx_portset_parse(&ps, spec) != 0) {
		fuzz_error_set();
		return;
	}
	for (i = 0; i < 65536 / 64; i++)
		bits += (unsigned)__builtin_popcountll(ps.bits[i]);
	CHECK(bits == ps.count);
	CHECK(ps.count > 0);
	for (p = pdx_portset_next(&ps, 0); p >= 0;
	     p = pdx_portset_next(&ps, p + 1)) {
		CHECK(p <= 65535 && pdx_portset_has(&ps, (unsigned)p));
		visited++;
		if (p == 65535)
			break;
	}
	CHECK(visited == ps.count);
	/* A set that parsed has no empty element and no trailing ','. */
	CHECK(strstr(spec, ",,") == NULL && spec[strlen(spec) - 1] != ',');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *text, *nl;
	long long lo = 0, hi = 65535;

	if ((s = fuzz_cstr(data, size)) == NULL)
		return 0;
	text = s;
	if ((nl = strchr(s, '\n')) != NULL) {
		long long a, b;

		*nl = '\0';
		if (sscanf(s, "%lld %lld", &a, &b) == 2 &&
		    a > -1000000000000LL && b < 1000000000000LL && a <= b) {
			lo = a;
			hi = b;
		}
		text = nl + 1;
	}
	check_number(text, lo, hi);
	check_number(text, 0, 65535);
	check_portset(text);
	CHECK(pdx_proto_parse(text) == 0 ||
	    pdx_proto_index(pdx_proto_parse(text)) >= 0);
	free(s);
	return 0;
}
