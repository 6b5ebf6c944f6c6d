/*
 * registry-diff.c - what changed between the registry being replaced
 * and the new one (added, removed, changed rows), for update's report.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "registry-int.h"
#include "registry-build.h"

/* ---- diff against the previous registry ------------------------------ */

static const char *const diff_cols[] = {
	"description",
	"assignee",
	"contact",
	"reg_date",
	"mod_date",
	"reference",
	"service_code",
	"unauth",
	"notes",
};

static json_t *
row_key(const struct irow *r)
{
	return json_pack("{s:s, s:s, s:s}", "service_name", r->f[PDX_COL_NAME],
	    "port", r->f[PDX_COL_PORT], "transport", r->f[PDX_COL_PROTO]);
}

/* The IANA rows of the attached database "old", in id order. */
static int
load_old(sqlite3 *db, struct rowset *rs)
{
	sqlite3_stmt *st;
	int rc, i;

	if (rb_prepare(db,
		"SELECT name, port, proto, description, assignee,"
		" contact, reg_date, mod_date, reference, service_code, unauth,"
		" notes, id FROM old.iana WHERE origin = 'iana' ORDER BY id",
		&st) != 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *f[PDX_NCOLS];
		struct irow *r;

		for (i = 0; i < PDX_NCOLS; i++)
			f[i] = (const char *)sqlite3_column_text(st, i);
		if ((r = rb_rowset_add(rs, f, NULL)) == NULL) {
			sqlite3_finalize(st);
			return -1;
		}
		r->id = (long)sqlite3_column_int64(st, PDX_NCOLS);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("previous registry: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* (name, port, proto), then id: the diff's key order. */
static int
by_key(const void *a, const void *b)
{
	const struct irow *x = *(const struct irow *const *)a;
	const struct irow *y = *(const struct irow *const *)b;
	int i, c;

	for (i = 0; i < 3; i++)
		if ((c = strcmp(x->f[i], y->f[i])) != 0)
			return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * The rows of rs sorted by key, each with its occurrence number among the
 * rows of the same key (written to occ).  Returns a malloc'd array the
 * caller frees (NULL when rs is empty or memory ran out).
 */
static const struct irow **
sorted_keys(const struct rowset *rs, int **occ)
{
	const struct irow **v;
	size_t i;

	*occ = NULL;
	if (rs->n == 0)
		return NULL;
	if ((v = malloc(rs->n * sizeof *v)) == NULL ||
	    (*occ = malloc(rs->n * sizeof **occ)) == NULL) {
		free(v);
		return NULL;
	}
	for (i = 0; i < rs->n; i++)
		v[i] = &rs->v[i];
	qsort(v, rs->n, sizeof *v, by_key);
	for (i = 0; i < rs->n; i++)
		(*occ)[i] = i > 0 && strcmp(v[i]->f[0], v[i - 1]->f[0]) == 0 &&
			strcmp(v[i]->f[1], v[i - 1]->f[1]) == 0 &&
			strcmp(v[i]->f[2], v[i - 1]->f[2]) == 0
		    ? (*occ)[i - 1] + 1
		    : 0;
	return v;
}

static int
same_row(const struct irow *x, const struct irow *y)
{
	int i;

	for (i = 0; i < PDX_NCOLS; i++)
		if (strcmp(x->f[i], y->f[i]) != 0)
			return 0;
	return 1;
}

/*
 * Compares the old IANA rows with the new ones.  Rows are matched by
 * (name, port, proto, occurrence); a row that keeps its key but changes a
 * field is "changed", with the fields named.  Usually nothing changed:
 * when both lists are equal row for row in id order, no sort is needed.
 */
int
rb_build_diff(sqlite3 *db, const struct rowset *nw, json_t *report)
{
	struct rowset old;
	const struct irow **n = NULL, **o = NULL;
	int *kn = NULL, *ko = NULL, rc = -1;
	json_t *added = json_array(), *removed = json_array(),
	       *changed = json_array(), *diff;
	size_t i, a, c;

	memset(&old, 0, sizeof old);
	if (load_old(db, &old) != 0)
		goto out;
	for (i = 0; i < nw->n && i < old.n; i++)
		if (!same_row(&nw->v[i], &old.v[i]))
			break;
	if (i == nw->n && i == old.n)
		goto done;
	if (((n = sorted_keys(nw, &kn)) == NULL && nw->n > 0) ||
	    ((o = sorted_keys(&old, &ko)) == NULL && old.n > 0)) {
		pdx_set_error("registry: out of memory");
		goto out;
	}
	for (a = 0, c = 0; a < nw->n || c < old.n;) {
		int cmp;

		if (a == nw->n)
			cmp = 1;
		else if (c == old.n)
			cmp = -1;
		else {
			for (i = 0, cmp = 0; i < 3 && cmp == 0; i++)
				cmp = strcmp(n[a]->f[i], o[c]->f[i]);
			if (cmp == 0)
				cmp = kn[a] - ko[c];
		}
		if (cmp < 0)
			json_array_append_new(added, row_key(n[a++]));
		else if (cmp > 0)
			json_array_append_new(removed, row_key(o[c++]));
		else {
			json_t *fields = json_object();

			for (i = 0; i < sizeof diff_cols / sizeof *diff_cols;
			     i++) {
				const char *was = o[c]->f[3 + i];
				const char *now = n[a]->f[3 + i];

				if (strcmp(was, now) != 0)
					json_object_set_new(fields,
					    diff_cols[i],
					    json_pack("{s:s, s:s}", "old", was,
						"new", now));
			}
			if (json_object_size(fields) > 0) {
				json_t *k = row_key(n[a]);

				json_object_set_new(k, "fields", fields);
				json_array_append_new(changed, k);
			} else
				json_decref(fields);
			a++;
			c++;
		}
	}
done:
	diff = json_pack("{s:I, s:I, s:I, s:O, s:O, s:O}", "added_count",
	    (json_int_t)json_array_size(added), "removed_count",
	    (json_int_t)json_array_size(removed), "changed_count",
	    (json_int_t)json_array_size(changed), "added", added, "removed",
	    removed, "changed", changed);
	json_object_set_new(report, "diff", diff);
	rc = 0;
out:
	free(n);
	free(o);
	free(kn);
	free(ko);
	rb_rowset_free(&old);
	json_decref(added);
	json_decref(removed);
	json_decref(changed);
	return rc;
}
