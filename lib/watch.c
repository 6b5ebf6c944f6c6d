/*
 * watch.c - the difference between two listings of the machine's sockets,
 * for `portdex watch`: which sockets appeared and which went away since
 * the last interval.  Both listings are kept sorted by one key, so each
 * step is a sort and a merge; the /proc walk that ties a socket to its
 * process is done for the new sockets only, and the others keep what was
 * found when they appeared.  It does not list sockets (lib/sockets*.c),
 * sleep, print or run commands (src/cmd-watch.c).
 */
#include <stdlib.h>
#include <string.h>

#include "portdex.h"
#include "portdex/watch.h"

struct pdx_watch {
	struct pdx_sock_filter f;
	int attribute;
	int started;
	struct pdx_socket *prev;
	size_t nprev;
	unsigned long walks;
};

const char *
pdx_watch_event_name(int e)
{
	return e == PDX_WATCH_APPEARED ? "appeared"
	    : e == PDX_WATCH_GONE      ? "gone"
				       : "";
}

struct pdx_watch *
pdx_watch_new(const struct pdx_sock_filter *f, int attribute)
{
	struct pdx_watch *w = calloc(1, sizeof *w);

	if (w == NULL) {
		pdx_set_error("out of memory");
		return NULL;
	}
	w->f = *f;
	w->attribute = attribute;
	return w;
}

void
pdx_watch_free(struct pdx_watch *w)
{
	if (w == NULL)
		return;
	pdx_sockets_free(w->prev, w->nprev);
	free(w);
}

size_t
pdx_watch_count(const struct pdx_watch *w)
{
	return w->nprev;
}

unsigned long
pdx_watch_walks(const struct pdx_watch *w)
{
	return w->walks;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct pdx_socket *x = a, *y = b;
	int c;

	c = strcmp(x->netns != NULL ? x->netns : "",
	    y->netns != NULL ? y->netns : "");
	if (c != 0)
		return c;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->lport != y->lport)
		return x->lport < y->lport ? -1 : 1;
	if ((c = memcmp(x->laddr, y->laddr, sizeof x->laddr)) != 0)
		return c;
	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return 0;
}

/* Does s pass the process part of the filter? */
static int
wanted(const struct pdx_watch *w, const struct pdx_socket *s)
{
	if (w->f.pid != 0 && s->pid != w->f.pid)
		return 0;
	return w->f.process == NULL ||
	    (s->pid > 0 && strcmp(s->comm, w->f.process) == 0);
}

/* Moves the process fields of from to to (from keeps none). */
static void
carry(struct pdx_socket *to, struct pdx_socket *from)
{
	to->pid = from->pid;
	memcpy(to->comm, from->comm, sizeof to->comm);
#define MOVE(f) \
	do { \
		free(to->f); \
		to->f = from->f; \
		from->f = NULL; \
	} while (0)
	MOVE(cmdline);
	MOVE(user);
	MOVE(unit);
	MOVE(container);
	MOVE(others);
#undef MOVE
}

/* Attributes the sockets of now at the indices idx (k of them). */
static int
attribute_new(struct pdx_watch *w, struct pdx_socket *now, size_t *idx,
    size_t k)
{
	struct pdx_socket *tmp;
	size_t i;
	int rc;

	if (k == 0 || !w->attribute)
		return 0;
	if ((tmp = malloc(k * sizeof *tmp)) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	for (i = 0; i < k; i++)
		tmp[i] = now[idx[i]];
	rc = pdx_sockets_attribute(tmp, k, NULL);
	w->walks++;
	/* The copies own what attribution allocated: hand it back. */
	for (i = 0; i < k; i++)
		now[idx[i]] = tmp[i];
	free(tmp);
	return rc;
}

long
pdx_watch_step(struct pdx_watch *w, struct pdx_socket *now, size_t n,
    pdx_watch_fn fn, void *arg)
{
	size_t i = 0, j = 0, k = 0, *fresh = NULL;
	char *kept = NULL; /* per old socket: 1 if still listed */
	long events = 0;
	int c, stop = 0;

	if (n > 0)
		qsort(now, n, sizeof *now, key_cmp);
	if ((n > 0 && (fresh = malloc(n * sizeof *fresh)) == NULL) ||
	    (w->nprev > 0 && (kept = calloc(w->nprev, 1)) == NULL)) {
		free(fresh);
		pdx_sockets_free(now, n);
		pdx_set_error("out of memory");
		return -1;
	}
	/* Merge: new sockets are collected, old ones keep their process. */
	while (i < w->nprev || j < n) {
		c = i == w->nprev ? 1
		    : j == n	  ? -1
				  : key_cmp(&w->prev[i], &now[j]);
		if (c == 0) {
			carry(&now[j], &w->prev[i]);
			kept[i] = 1;
			i++, j++;
		} else if (c < 0)
			i++;
		else
			fresh[k++] = j++;
	}
	if (attribute_new(w, now, fresh, k) != 0 && w->attribute) {
		/* /proc unreadable: events still go out, without pids. */
		w->attribute = 0;
	}
	if (w->started) {
		for (i = 0; i < w->nprev && !stop; i++) {
			if (kept[i] || !wanted(w, &w->prev[i]))
				continue;
			events++;
			stop = fn(PDX_WATCH_GONE, &w->prev[i], arg) != 0;
		}
		for (i = 0; i < k && !stop; i++) {
			if (!wanted(w, &now[fresh[i]]))
				continue;
			events++;
			stop = fn(PDX_WATCH_APPEARED, &now[fresh[i]], arg) != 0;
		}
	}
	w->started = 1;
	free(fresh);
	free(kept);
	pdx_sockets_free(w->prev, w->nprev);
	w->prev = now;
	w->nprev = n;
	return events;
}
