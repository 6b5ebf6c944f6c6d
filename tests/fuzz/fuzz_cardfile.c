/*
 * fuzz_cardfile.c - libFuzzer harness for the card file reader
 * (lib/cardfile.c: pdx_cfile_open_mem, pdx_cfile_port and the pdx_rows
 * cursor over a port's rows).  The input is edits to a valid card file
 * that pdx_cbuild_make and pdx_cfile_write made at start-up from a small
 * registry in memory (every table, narrow and wide rows, NULLs, integers,
 * reals, texts): records of
 *	op (1 byte)  offset (3 bytes, little-endian)  length (1)  bytes
 * where op % 8 picks the header, the port index, the wide list, the refs
 * or the rows to overwrite, a new length for the file (shorter or longer
 * by the offset), or "make the checksums good" (so that the structure
 * checks behind them are reached, as a file that lies would).  The edited
 * file is opened without the registry check; the rows of every port an
 * edit touched and of a fixed sample are read through the cursor, every
 * column with every accessor.  Every answer must be 0 or -1; texts must
 * be C strings.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "fuzz.h"
#include "../../lib/registry-int.h"

#define HEADER 64
#define INDEX (65537L * 8)

static const int ncols[PDX_CT_N] = { 2, 17, 4, 5, 11, 5 };
static unsigned char *tmpl; /* the valid file */
static long tsize;

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "fuzz_cardfile: %s\n", msg);
		abort();
	}
}

static void
make_template(void)
{
	char dir[4096], path[4200], sql[512];
	struct pdx_cbuild *cb;
	struct pdx_regid reg;
	sqlite3 *db;
	int fd, p;

	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	exec_ok(db,
	    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
	    "CREATE TABLE iana(id INTEGER PRIMARY KEY, origin TEXT, name TEXT,"
	    " port TEXT, proto TEXT, description TEXT, assignee TEXT,"
	    " contact TEXT, reg_date TEXT, mod_date TEXT, reference TEXT,"
	    " service_code TEXT, unauth TEXT, notes TEXT, port_lo INTEGER,"
	    " port_hi INTEGER, protomask INTEGER, status INTEGER, was TEXT);"
	    "CREATE TABLE services(name TEXT, port_lo INTEGER, port_hi INTEGER,"
	    " protomask INTEGER, aliases TEXT, comment TEXT, source TEXT);"
	    "CREATE TABLE nmap(port INTEGER, proto INTEGER, name TEXT,"
	    " freq REAL, rank INTEGER, PRIMARY KEY(port, proto))"
	    " WITHOUT ROWID;"
	    "CREATE TABLE uses(id INTEGER PRIMARY KEY, port_lo INTEGER,"
	    " port_hi INTEGER, protomask INTEGER, kind TEXT, name TEXT,"
	    " platform TEXT, years TEXT, confidence TEXT, source TEXT,"
	    " text TEXT, official INTEGER, lead INTEGER);"
	    "CREATE TABLE related_by_port(k_lo INTEGER, k_hi INTEGER,"
	    " lo INTEGER, hi INTEGER, service TEXT, reason TEXT, source TEXT);"
	    "INSERT INTO meta VALUES ('primary', 'iana'), ('iana_date',"
	    " '2026-02-25'), ('span.iana', '100'), ('nmap.ranked.1', '8366');"
	    "INSERT INTO uses VALUES (1, 1025, 5000, 3, 'service', 'wide',"
	    " '-', '', 'high', 'RFC 1', 'a wide range', 0, 0), (2, 49152, 65535,"
	    " 1, 'malware', 'wider', '-', '', 'low', 'seed:1', 'the top', 0, 1);"
	    "INSERT INTO related_by_port VALUES (6000, 6063, 177, 177, 'xdmcp',"
	    " 'X', 'IANA registry x11 6000');"
	    "INSERT INTO iana(origin, name, port, proto, description, assignee,"
	    " contact, reg_date, mod_date, reference, service_code, unauth,"
	    " notes, port_lo, port_hi, protomask, status, was) VALUES ('iana',"
	    " 'x11', '6000-6063', 'tcp', 'X Window System', '', '', '', '', '',"
	    " '', '', '', 6000, 6063, 1, 3, NULL);");
	for (p = 0; p < 300; p += 7) {
		snprintf(sql, sizeof sql,
		    "INSERT INTO iana(origin, name, port,"
		    " proto, description, assignee, contact, reg_date, mod_date,"
		    " reference, service_code, unauth, notes, port_lo, port_hi,"
		    " protomask, status, was) VALUES ('iana', 'svc%d', '%d',"
		    " 'tcp', 'service %d', 'a', 'c', '', '', '', '', '', '', %d,"
		    " %d, 1, 3, %s);"
		    "INSERT INTO nmap VALUES (%d, 6, 'svc%d', %f, %d);"
		    "INSERT INTO services VALUES ('s%d', %d, %d, 3, '', '',"
		    " 'services');",
		    p, p, p, p, p, p % 2 ? "'old'" : "NULL", p, p, p / 1000.0,
		    p, p, p, p + 1);
		exec_ok(db, sql);
	}
	CHECK((cb = pdx_cbuild_make(db)) != NULL);
	sqlite3_close(db);
	memset(&reg, 0, sizeof reg);
	fuzz_workdir("cardfile", dir, sizeof dir);
	snprintf(path, sizeof path, "%s/t.card", dir);
	CHECK(pdx_cfile_write(path, cb, &reg) == 0);
	pdx_cbuild_free(cb);
	CHECK((fd = open(path, O_RDONLY)) >= 0);
	tsize = lseek(fd, 0, SEEK_END);
	CHECK(tsize > HEADER + INDEX);
	CHECK((tmpl = malloc((size_t)tsize)) != NULL);
	CHECK(pread(fd, tmpl, (size_t)tsize, 0) == tsize);
	close(fd);
	unlink(path);
	rmdir(dir);
}

static uint32_t
fnv(uint32_t h, const unsigned char *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Makes every checksum of an edited file good where its sizes allow. */
static void
fix_sums(unsigned char *b, long len)
{
	uint32_t nwide, nrefs, rows_len, k, p, a, e, seed, off, rl;
	unsigned char *wide, *refs, *rows;

	if (len < HEADER + INDEX)
		return;
	nwide = get32(b + 44) % 4096;
	nrefs = get32(b + 48);
	rows_len = get32(b + 52);
	if (HEADER + INDEX + (long)nwide * 12 + (long)nrefs * 4 > len)
		return;
	wide = b + HEADER + INDEX;
	refs = wide + (size_t)nwide * 12;
	rows = refs + (size_t)nrefs * 4;
	if (rows_len > (uint64_t)(b + len - rows))
		rows_len = (uint32_t)(b + len - rows);
	for (k = 0; k < nwide + nrefs; k++) {
		off = k < nwide ? get32(wide + k * 12 + 8)
				: get32(refs + (k - nwide) * 4);
		if (off > rows_len || rows_len - off < 12)
			continue;
		rl = get32(rows + off);
		if (rl < 12 || rl > rows_len - off)
			continue;
		seed = fnv(2166136261u, rows + off + 12, rl - 12);
		memcpy(rows + off + 8, &seed, 4);
	}
	for (p = 0; p < 65536; p++) {
		a = get32(b + HEADER + p * 8);
		e = get32(b + HEADER + (p + 1) * 8);
		if (a > e || e > nrefs)
			continue;
		seed = fnv(2166136261u, (const unsigned char *)&p, 4);
		seed = fnv(seed, refs + (size_t)a * 4, (size_t)(e - a) * 4);
		memcpy(b + HEADER + p * 8 + 4, &seed, 4);
	}
	seed = fnv(2166136261u, wide, (size_t)nwide * 12);
	memcpy(b + 56, &seed, 4);
	memset(b + 60, 0, 4);
	seed = fnv(2166136261u, b, HEADER);
	memcpy(b + 60, &seed, 4);
}

/* Reads every row of port through the cursor, every column every way. */
static void
ask(const struct pdx_cfile *f, unsigned port)
{
	struct pdx_cport cp;
	struct pdx_rows r;
	int t, i, rc;

	rc = pdx_cfile_port(f, port, &cp);
	CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		fuzz_error_set();
		return;
	}
	for (t = 0; t < PDX_CT_N; t++) {
		CHECK(pdx_rows_open(NULL, &cp, t, NULL, (int)port, 0xff, &r) ==
		    0);
		while ((rc = pdx_rows_step(&r)) == 1)
			for (i = 0; i < ncols[t]; i++) {
				fuzz_sink += (size_t)pdx_rows_int(&r, i);
				fuzz_sink += pdx_rows_double(&r, i) > 0;
				fuzz_sink += (size_t)pdx_rows_null(&r, i);
				fuzz_touch(pdx_rows_text(&r, i));
			}
		CHECK(rc == 0);
		pdx_rows_end(&r);
	}
	pdx_cport_free(&cp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sample[] = { 0, 1, 7, 177, 294, 1025, 6000, 6063,
		49152, 65535 };
	unsigned asked[64];
	size_t nasked = 0, k;
	struct pdx_cfile *f;
	unsigned char *buf;
	struct fuzz_edit e;
	long len = tsize, off, base, span;
	int rc, fix = 0;

	if (tmpl == NULL)
		make_template();
	CHECK((buf = malloc((size_t)tsize + 4096)) != NULL);
	memcpy(buf, tmpl, (size_t)tsize);
	memset(buf + tsize, 0, 4096);
	while (fuzz_next_edit(&data, &size, 3, &e)) {
		switch (e.op % 8) {
		case 0:
			base = 0;
			span = HEADER;
			break;
		case 1:
			base = HEADER;
			span = INDEX;
			break;
		case 2:
		case 3:
			base = HEADER + INDEX;
			span = 4096; /* the wide list and refs */
			break;
		case 4:
		case 5:
			base = HEADER + INDEX;
			span = tsize - base; /* anywhere after the index */
			break;
		case 6:
			len = (e.len & 1) ? tsize + e.off % 4096
					  : tsize - e.off % tsize;
			continue;
		default:
			fix = 1;
			continue;
		}
		off = fuzz_place(&data, &size, &e, base, span, tsize);
		memcpy(buf + off, e.bytes, e.len);
		if (off >= HEADER && off < HEADER + INDEX && nasked < 64)
			asked[nasked++] = (unsigned)((off - HEADER) / 8) %
			    65536;
	}
	if (fix)
		fix_sums(buf, len);

	rc = pdx_cfile_open_mem(buf, (size_t)len, "fuzz.card", NULL, &f);
	CHECK(rc == PDX_BF_OK || rc == PDX_BF_STALE || rc == PDX_BF_BAD);
	CHECK((rc == PDX_BF_OK) == (f != NULL));
	if (f != NULL) {
		struct pdx_cport cp;

		for (k = 0; k < nasked; k++)
			ask(f, asked[k]);
		for (k = 0; k < sizeof sample / sizeof *sample; k++)
			ask(f, sample[k]);
		CHECK(pdx_cfile_port(f, 65536, &cp) == -1);
		pdx_cfile_close(f);
	} else
		fuzz_error_set();
	free(buf);
	return 0;
}
