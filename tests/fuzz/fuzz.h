/*
 * fuzz.h - what the harnesses share: copies of the input that end exactly
 * where the input ends (so that AddressSanitizer sees a read one byte too
 * far), a sink that makes the harness touch every string a parser hands
 * out, and CHECK, which turns a broken promise of an API into a crash the
 * fuzzer reports.  It does not test any one parser.
 */
#ifndef PDX_FUZZ_H
#define PDX_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portdex.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A broken invariant is a finding: say which, then abort. */
#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

static volatile size_t fuzz_sink;

/* Reads the whole of a string the parser returned (NULL is allowed). */
static inline void
fuzz_touch(const char *s)
{
	if (s != NULL)
		fuzz_sink += strlen(s);
}

/* A NUL-terminated copy of the input, or NULL.  Caller frees. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* After a failure the message must be set and readable. */
static inline void
fuzz_error_set(void)
{
	const char *e = pdx_last_error();

	CHECK(e != NULL && *e != '\0');
	fuzz_touch(e);
}

#endif
