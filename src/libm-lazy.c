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
 * CMake compiles this file into the tool only when it links SQLite
 * statically; --as-needed then leaves libm out unless another archive
 * needs a function these stubs do not cover.
 */
#include <dlfcn.h>
#include <math.h>
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
	HIDDEN double name(double x) \
	{ \
		static double (*fn)(double); \
		if (fn == NULL && (*(void **)&fn = libm_sym(#name)) == NULL) \
			return NAN; \
		return fn(x); \
	}
#define MATH2(name) \
	HIDDEN double name(double x, double y) \
	{ \
		static double (*fn)(double, double); \
		if (fn == NULL && (*(void **)&fn = libm_sym(#name)) == NULL) \
			return NAN; \
		return fn(x, y); \
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
