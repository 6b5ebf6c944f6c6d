/*
 * netns.c - named network namespaces, the ones `ip netns add` creates
 * under /var/run/netns: entering one (and coming back) around a socket
 * listing, and listing their names for --all-netns.  Needs CAP_SYS_ADMIN
 * to enter; listing needs nothing.  It knows nothing about sockets.
 */
#ifdef __linux__

#define _GNU_SOURCE /* setns */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portdex.h"

#define NETNS_DIR "/var/run/netns"

/* A name is one path component: no '/', not "." or "..", not too long. */
static int
valid_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 256 && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int
pdx_netns_enter(const char *name)
{
	char path[sizeof NETNS_DIR + 260];
	int saved, target;

	if (!valid_name(name)) {
		pdx_set_error("'%.64s' is not a network namespace name", name);
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s", NETNS_DIR, name);
	if ((target = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		pdx_set_error("network namespace '%s': %s", name,
		    errno == ENOENT ? "no such namespace (see ip netns list)"
				    : strerror(errno));
		return -1;
	}
	if ((saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		pdx_set_error("/proc/self/ns/net: %s", strerror(errno));
		close(target);
		return -1;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		pdx_set_error("entering network namespace '%s': %s%s", name,
		    strerror(errno),
		    errno == EPERM ? " (needs CAP_SYS_ADMIN, e.g. root)" : "");
		close(target);
		close(saved);
		return -1;
	}
	close(target);
	return saved;
}

int
pdx_netns_leave(int saved)
{
	int rc = 0;

	if (setns(saved, CLONE_NEWNET) < 0) {
		pdx_set_error("returning to the original network namespace: "
			      "%s",
		    strerror(errno));
		rc = -1;
	}
	close(saved);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
pdx_netns_list(char ***out, size_t *np)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL, **nv;
	size_t n = 0, cap = 0;

	*out = NULL;
	*np = 0;
	if ((d = opendir(NETNS_DIR)) == NULL) {
		if (errno == ENOENT)
			return 0;
		pdx_set_error("%s: %s", NETNS_DIR, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !valid_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto oom;
			v = nv;
		}
		if ((v[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof *v, name_cmp);
	*out = v;
	*np = n;
	return 0;
oom:
	closedir(d);
	pdx_netns_list_free(v, n);
	pdx_set_error("out of memory");
	return -1;
}

void
pdx_netns_list_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

#endif /* __linux__ */
