/*
 * libm-lazy.c - the math functions of SQLite's SQL (cos(), pow(), ln()...),
 * loaded from libm with dlopen() the first time one is called.
 *
 * The tool links SQLite from its static archive, which Debian builds with
 * the SQL math functions; linked normally, their 19 references make libm a
 * library every run loads and relocates: 0.3 ms of a 3 ms run on the
 * machine bench/ measures on, though portdex's own SQL calls none of them.
 * These stubs have libm's names and prototypes, hidden in the tool (the
 * libraries it dlopen()s still see libm's own), and forward to libm's
 * function.  If libm cannot be loaded (it is part of the C library, so it
 * can only be missing from a broken system), they say so on stderr once
 * and return NaN, which SQLite turns into NULL.
 *
 * A command that sandboxes itself (serve: landlock lets it open no library
 * later) calls pdx_libm_load() first: SQLite's FTS5 ranks `find`'s results
 * with log(), and stubs that could not load libm would rank them all alike.
 *
 * CMake compiles this file into the tool only when it links SQLite
 * statically, and then defines PDX_LIBM_LAZY for the tool's sources;
 * --as-needed leaves libm out unless another archive needs a function
 * these stubs do not cover.
 */
#include <dlfcn.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#define HIDDEN __attribute__((visibility("hidden")))

static void *
libm_sym(const char *name)
{
	static void *h;
	static int said;
	void *p = NULL;

	if (h == NULL)
		h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
	if (h != NULL)
		p = dlsym(h, name);
	if (p == NULL && !said) {
		said = 1;
		fprintf(stderr, "portdex: libm.so.6: %s: %s\n", name,
		    h == NULL ? dlerror() : "not found");
	}
	return p;
}

#define MATH1(name) \
	static double (*fn_##name)(double); \
	HIDDEN double name(double x) \
	{ \
		if (fn_##name == NULL && \
		    (*(void **)&fn_##name = libm_sym(#name)) == NULL) \
			return NAN; \
		return fn_##name(x); \
	}
#define MATH2(name) \
	static double (*fn_##name)(double, double); \
	HIDDEN double name(double x, double y) \
	{ \
		if (fn_##name == NULL && \
		    (*(void **)&fn_##name = libm_sym(#name)) == NULL) \
			return NAN; \
		return fn_##name(x, y); \
	}

MATH1(acos)
MATH1(acosh)
MATH1(asin)
MATH1(asinh)
MATH1(atan)
MATH2(atan2)
MATH1(atanh)
MATH1(cos)
MATH1(cosh)
MATH1(exp)
MATH2(fmod)
MATH1(log)
MATH2(pow)
MATH1(sin)
MATH1(sinh)
MATH1(sqrt)
MATH1(tan)
MATH1(tanh)
MATH1(trunc)

int pdx_libm_load(void); /* cli.h */

int
pdx_libm_load(void)
{
	static const struct {
		const char *name;
		void **fn;
	} all[] = {
		{ "acos", (void **)&fn_acos },
		{ "acosh", (void **)&fn_acosh },
		{ "asin", (void **)&fn_asin },
		{ "asinh", (void **)&fn_asinh },
		{ "atan", (void **)&fn_atan },
		{ "atan2", (void **)&fn_atan2 },
		{ "atanh", (void **)&fn_atanh },
		{ "cos", (void **)&fn_cos },
		{ "cosh", (void **)&fn_cosh },
		{ "exp", (void **)&fn_exp },
		{ "fmod", (void **)&fn_fmod },
		{ "log", (void **)&fn_log },
		{ "pow", (void **)&fn_pow },
		{ "sin", (void **)&fn_sin },
		{ "sinh", (void **)&fn_sinh },
		{ "sqrt", (void **)&fn_sqrt },
		{ "tan", (void **)&fn_tan },
		{ "tanh", (void **)&fn_tanh },
		{ "trunc", (void **)&fn_trunc },
	};
	size_t i;

	for (i = 0; i < sizeof all / sizeof *all; i++)
		if (*all[i].fn == NULL &&
		    (*all[i].fn = libm_sym(all[i].name)) == NULL)
			return -1;
	return 0;
}
