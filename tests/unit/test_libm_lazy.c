/*
 * test_libm_lazy.c - src/libm-lazy.c: the math functions SQLite's SQL
 * calls, forwarded to libm loaded on first use.  Each stub must reach
 * libm's own function (identities between them, not values a stub could
 * return by itself), the stubs must be the ones linked (not libm's), and
 * with the static SQLite the SQL functions must give the same answers.
 */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sqlite3.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static void
stubs_forward(void **state)
{
	/* volatile: the compiler must not work the values out itself */
	volatile double x = 0.7, one = 1.0, onehalf = 1.5, two = 2.0;
	volatile double ten = 10.0, half = 0.5, a = 7.5, b = 2.7;

	NEAR(sin(x) * sin(x) + cos(x) * cos(x), 1.0);
	NEAR(tan(x), sin(x) / cos(x));
	NEAR(asin(sin(x)), x);
	NEAR(acos(cos(x)), x);
	NEAR(atan(tan(x)), x);
	NEAR(atan2(sin(x), cos(x)), x);
	NEAR(cosh(x) * cosh(x) - sinh(x) * sinh(x), 1.0);
	NEAR(tanh(x), sinh(x) / cosh(x));
	NEAR(asinh(sinh(x)), x);
	NEAR(acosh(cosh(onehalf)), 1.5);
	NEAR(atanh(tanh(x)), x);
	NEAR(log(exp(x)), x);
	NEAR(exp(one), 2.718281828459045);
	NEAR(pow(two, half), sqrt(two));
	NEAR(pow(two, ten), 1024.0);
	NEAR(sqrt(two) * sqrt(two), 2.0);
	NEAR(fmod(a, two), 1.5);
	NEAR(fmod(-a, two), -1.5);
	NEAR(trunc(-b), -2.0);
	NEAR(trunc(b), 2.0);
}

/* The stubs are in this program (where sql_double is), not in libm. */
static double sql_double(sqlite3 *db, const char *sql);

static void
stubs_are_linked(void **state)
{
	double (*volatile f)(double) = cos;
	double (*volatile g)(double, double) = pow;
	double (*volatile h)(sqlite3 *, const char *) = sql_double;
	Dl_info a, b, self;

	assert_int_not_equal(dladdr((void *)f, &a), 0);
	assert_int_not_equal(dladdr((void *)g, &b), 0);
	assert_int_not_equal(dladdr((void *)h, &self), 0);
	assert_ptr_equal(a.dli_fbase, self.dli_fbase);
	assert_ptr_equal(b.dli_fbase, self.dli_fbase);
}

static double
sql_double(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	double d;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(st, 0), SQLITE_FLOAT);
	d = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return d;
}

/* SQLite's SQL math, through the stubs when SQLite is linked in. */
static void
sql_math(void **state)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	NEAR(sql_double(db, "SELECT pow(2, 10)"), 1024.0);
	NEAR(sql_double(db, "SELECT sqrt(16)"), 4.0);
	NEAR(sql_double(db, "SELECT ln(exp(2))"), 2.0);
	NEAR(sql_double(db, "SELECT cos(0.7)*cos(0.7) + sin(0.7)*sin(0.7)"),
	    1.0);
	NEAR(sql_double(db, "SELECT atan2(1, 1) * 4"), M_PI);
	NEAR(sql_double(db, "SELECT mod(7.5, 2)"), 1.5);
	NEAR(sql_double(db, "SELECT trunc(-2.7)"), -2.0);
	NEAR(sql_double(db, "SELECT acosh(cosh(1.5))"), 1.5);
	sqlite3_close(db);
}

int pdx_libm_load(void);

/* serve's loading before its sandbox: every function, no complaint. */
static void
load_all(void **state)
{
	volatile double x = 0.25;

	assert_int_equal(pdx_libm_load(), 0);
	NEAR(tanh(x), sinh(x) / cosh(x));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stubs_forward),
		cmocka_unit_test(stubs_are_linked),
		cmocka_unit_test(sql_math),
		cmocka_unit_test(load_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
