/*
 * procwalk.c - which process holds each socket: one walk of /proc/PID/fd
 * that stops as soon as every wanted socket inode is found, then the
 * holder's name, command line, systemd unit or container (from
 * /proc/PID/cgroup), and the user name of each socket's uid.  It counts
 * the sockets it could not attribute and why.  Listing sockets is not its
 * business (sockets*.c).
 */
#define _GNU_SOURCE /* memmem, strndup */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portdex.h"
#include "sockets-int.h"

/* ---- cgroup paths: systemd unit and container ------------------------ */

/* Unit names that are really containers: PREFIX<id>SUFFIX. */
static const struct {
	const char *prefix;
	const char *suffix;
	const char *kind;
} ctr_scopes[] = {
	{ "docker-", ".scope", "docker" },
	{ "libpod-", ".scope", "podman" },
	{ "cri-containerd-", ".scope", "containerd" },
	{ "crio-", ".scope", "crio" },
	{ "lxc.payload.", "", "lxc" },
};

/* Directories whose child is a container: PARENT/<id>. */
static const struct {
	const char *parent;
	const char *kind;
} ctr_dirs[] = {
	{ "docker", "docker" },
	{ "lxc", "lxc" },
	{ "machine.slice", "machine" },
};

static const char *const unit_suffixes[] = { ".service", ".scope" };

static int
ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n >= k && memcmp(s + n - k, suf, k) == 0;
}

static int
all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return n > 0;
}

/* "kind:id", a long hex id cut to the 12 characters tools show. */
static char *
ctr_name(const char *kind, const char *id, size_t n)
{
	char *r;
	size_t k = strlen(kind);

	if (n > 12 && all_hex(id, n))
		n = 12;
	if ((r = malloc(k + n + 2)) == NULL)
		return NULL;
	memcpy(r, kind, k);
	r[k] = ':';
	memcpy(r + k + 1, id, n);
	r[k + n + 1] = '\0';
	return r;
}

/* Scans one cgroup path (n bytes) for a unit and a container. */
static void
scan_path(const char *path, size_t n, char **unit, char **container)
{
	const char *c = path, *end = path + n, *slash, *prev = NULL;
	size_t prevlen = 0, len, i, pl, sl;

	for (; c < end; c = slash + 1) {
		if ((slash = memchr(c, '/', (size_t)(end - c))) == NULL)
			slash = end;
		len = (size_t)(slash - c);
		if (len == 0)
			continue;
		for (i = 0; *container == NULL &&
		     i < sizeof ctr_scopes / sizeof ctr_scopes[0];
		     i++) {
			pl = strlen(ctr_scopes[i].prefix);
			sl = strlen(ctr_scopes[i].suffix);
			if (len > pl + sl &&
			    memcmp(c, ctr_scopes[i].prefix, pl) == 0 &&
			    ends_with(c, len, ctr_scopes[i].suffix))
				*container = ctr_name(ctr_scopes[i].kind,
				    c + pl, len - pl - sl);
		}
		for (i = 0; *container == NULL && prev != NULL &&
		     i < sizeof ctr_dirs / sizeof ctr_dirs[0];
		     i++) {
			if (prevlen == strlen(ctr_dirs[i].parent) &&
			    memcmp(prev, ctr_dirs[i].parent, prevlen) == 0)
				*container = ctr_name(ctr_dirs[i].kind, c, len);
		}
		if (*container == NULL && len == 64 && all_hex(c, len))
			*container = ctr_name("container", c, len);
		for (i = 0; i < sizeof unit_suffixes / sizeof unit_suffixes[0];
		     i++) {
			if (ends_with(c, len, unit_suffixes[i]) &&
			    len > strlen(unit_suffixes[i])) {
				free(*unit);
				*unit = strndup(c, len);
			}
		}
		prev = c;
		prevlen = len;
	}
}

void
pdx_cgroup_parse(const char *text, char **unit, char **container)
{
	const char *line, *nl, *best = NULL, *path;
	size_t bestlen = 0, len;
	int rank, bestrank = -1;

	*unit = NULL;
	*container = NULL;
	if (text == NULL)
		return;
	/*
	 * Prefer the unified hierarchy ("0::/..."), then systemd's named
	 * one, then any line: "ID:CONTROLLERS:PATH".
	 */
	for (line = text; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		len = (size_t)(nl - line);
		path = memchr(line, ':', len);
		if (path != NULL)
			path = memchr(path + 1, ':', (size_t)(nl - path - 1));
		if (path != NULL) {
			path++;
			if (len >= 3 && memcmp(line, "0::", 3) == 0)
				rank = 2;
			else if (memmem(line, len, ":name=systemd:", 14) !=
			    NULL)
				rank = 1;
			else
				rank = 0;
			if (rank > bestrank) {
				bestrank = rank;
				best = path;
				bestlen = (size_t)(nl - path);
			}
		}
		if (*nl == '\0')
			break;
	}
	if (best != NULL)
		scan_path(best, bestlen, unit, container);
	/* A container's scope is its own unit; say it once. */
	if (*container != NULL && *unit != NULL && strchr(*unit, '-') &&
	    ends_with(*unit, strlen(*unit), ".scope")) {
		size_t i;

		for (i = 0; i < sizeof ctr_scopes / sizeof ctr_scopes[0]; i++)
			if (strncmp(*unit, ctr_scopes[i].prefix,
				strlen(ctr_scopes[i].prefix)) == 0) {
				free(*unit);
				*unit = NULL;
				break;
			}
	}
}

#ifdef __linux__

/* ---- inode lookup ----------------------------------------------------- */

struct inoslot {
	unsigned long ino; /* 0: empty */
	size_t idx;	   /* first socket with it */
};

/* Keys live in the table: no trip to the big socket array per probe. */
struct inomap {
	struct inoslot *slot;
	size_t mask;
	size_t *next; /* next socket with the same inode + 1 */
	/*
	 * Socket i's holder: 0 none yet, OF_TAKEN attributed before the
	 * walk, else an index + 1 into the walk's processes.
	 */
	uint32_t *of;
};
#define OF_TAKEN UINT32_MAX

static size_t
ino_hash(unsigned long ino, size_t mask)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
}

static void
inomap_free(struct inomap *m)
{
	free(m->slot);
	free(m->next);
	free(m->of);
	memset(m, 0, sizeof *m);
}

static int
inomap_build(struct inomap *m, struct pdx_socket *v, size_t n)
{
	size_t size = 64, i, h;

	/* at most 3/4 full: 1,200 sockets fill 32 kB of slots, not 64 */
	while (size / 4 * 3 < n)
		size *= 2;
	m->mask = size - 1;
	m->slot = calloc(size, sizeof *m->slot);
	m->next = calloc(n + 1, sizeof *m->next);
	m->of = calloc(n + 1, sizeof *m->of);
	if (m->slot == NULL || m->next == NULL || m->of == NULL) {
		inomap_free(m);
		pdx_set_error("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v[i].pid != 0)
			m->of[i] = OF_TAKEN;
		if (v[i].inode == 0)
			continue;
		for (h = ino_hash(v[i].inode, m->mask);
		     m->slot[h].ino != 0 && m->slot[h].ino != v[i].inode;
		     h = (h + 1) & m->mask)
			;
		if (m->slot[h].ino == 0) {
			m->slot[h].ino = v[i].inode;
			m->slot[h].idx = i;
		} else {
			/* Same inode listed twice: chain it. */
			m->next[i] = m->next[m->slot[h].idx];
			m->next[m->slot[h].idx] = i + 1;
		}
	}
	return 0;
}

/* Index + 1 of the first socket with ino, 0 if none. */
static size_t
inomap_find(const struct inomap *m, unsigned long ino)
{
	size_t h;

	for (h = ino_hash(ino, m->mask); m->slot[h].ino != 0;
	     h = (h + 1) & m->mask)
		if (m->slot[h].ino == ino)
			return m->slot[h].idx + 1;
	return 0;
}

/* ---- per-process facts ------------------------------------------------ */

struct procinfo {
	pid_t pid;
	char comm[32];
	char *cmdline;
	char *unit;
	char *container;
};

/* Reads at most size-1 bytes of dir/name; returns the length or -1. */
static ssize_t
read_small(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t got, total = 0;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((size_t)total < size - 1) {
		got = read(fd, buf + total, size - 1 - (size_t)total);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		total += got;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

static void
procinfo_load(struct procinfo *pi, int piddir, pid_t pid)
{
	char buf[4096];
	ssize_t len, i;

	memset(pi, 0, sizeof *pi);
	pi->pid = pid;
	if ((len = read_small(piddir, "comm", buf, sizeof buf)) > 0) {
		if (buf[len - 1] == '\n')
			buf[--len] = '\0';
		if ((size_t)len >= sizeof pi->comm)
			len = sizeof pi->comm - 1;
		memcpy(pi->comm, buf, (size_t)len);
		pi->comm[len] = '\0';
	}
	if ((len = read_small(piddir, "cmdline", buf, sizeof buf)) > 0) {
		while (len > 0 && buf[len - 1] == '\0')
			len--;
		for (i = 0; i < len; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[len] = '\0';
		if (len > 0)
			pi->cmdline = strdup(buf);
	}
	if (read_small(piddir, "cgroup", buf, sizeof buf) > 0)
		pdx_cgroup_parse(buf, &pi->unit, &pi->container);
}

static void
procinfo_clear(struct procinfo *pi)
{
	free(pi->cmdline);
	free(pi->unit);
	free(pi->container);
	memset(pi, 0, sizeof *pi);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
give(struct pdx_socket *s, const struct procinfo *pi)
{
	s->pid = pi->pid;
	memcpy(s->comm, pi->comm, sizeof s->comm);
	s->cmdline = dup_or_null(pi->cmdline);
	s->unit = dup_or_null(pi->unit);
	s->container = dup_or_null(pi->container);
}

/* ---- user names, cached by uid ---------------------------------------- */

/* The line at p in [p, end): p, and *eol at its newline (or end). */
static const char *
next_line(const char *p, const char *end, const char **eol)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*eol = nl != NULL ? nl : end;
	return p;
}

int
pdx_passwd_files_first(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *eol, *c;
	char tok[16];
	int found = 0;
	size_t k;

	for (; p < end; p = eol + 1) {
		next_line(p, end, &eol);
		for (c = p; c < eol && (*c == ' ' || *c == '\t'); c++)
			;
		if (eol - c < 7 || memcmp(c, "passwd", 6) != 0)
			continue;
		for (c += 6; c < eol && (*c == ' ' || *c == '\t'); c++)
			;
		if (c == eol || *c != ':')
			continue;
		if (found++)
			return 0; /* said twice: not ours to guess which */
		/* the first source, then what follows it */
		for (c++; c < eol && (*c == ' ' || *c == '\t'); c++)
			;
		for (k = 0; c < eol && *c != ' ' && *c != '\t' && *c != '#' &&
		     k < sizeof tok - 1;
		     c++)
			tok[k++] = *c;
		tok[k] = '\0';
		if (strcmp(tok, "files") != 0)
			return 0;
		for (; c < eol && (*c == ' ' || *c == '\t'); c++)
			;
		if (c < eol && *c == '[')
			return 0; /* an action on files */
	}
	return found == 1;
}

const char *
pdx_passwd_name(const char *text, size_t len, long uid, size_t *namelen)
{
	const char *p = text, *end = text + len, *eol, *c, *colon, *start;
	unsigned long long u;

	for (; p < end; p = eol + 1) {
		next_line(p, end, &eol);
		for (c = p; c < eol && (*c == ' ' || *c == '\t'); c++)
			;
		if (c == eol || *c == '#')
			continue;
		start = c;
		if (*c == '+' || *c == '-')
			return NULL; /* NIS compat lines: NSS's to read */
		if ((colon = memchr(c, ':', (size_t)(eol - c))) == NULL ||
		    colon == c)
			continue;
		/* name:password:uid: */
		if ((c = memchr(colon + 1, ':', (size_t)(eol - colon - 1))) ==
		    NULL)
			continue;
		for (c++, u = 0;
		     c < eol && *c >= '0' && *c <= '9' && u <= 0xffffffffULL;
		     c++)
			u = u * 10 + (unsigned)(*c - '0');
		if (c < eol && *c == ':' && c[-1] != ':' && uid >= 0 &&
		    u == (unsigned long long)uid) {
			*namelen = (size_t)(colon - start);
			return start;
		}
	}
	return NULL;
}

/*
 * /etc/passwd read once a listing when NSS would read it first anyway:
 * /etc/nsswitch.conf lists "files" first for passwd (Debian's "files
 * systemd").  glibc then answers a uid found there with the first such
 * line's name, the answer here, without its two nscd probes and a
 * configuration parse and file read per uid (0.2-0.5 ms for two users on
 * this machine's virtual disk).  A uid not in the file, or any other
 * configuration, goes to getpwuid.
 */
struct pwfile {
	char *text;
	size_t len;
	int state; /* 0 not read, 1 usable, -1 not */
};

static char *
user_name(struct pwfile *f, long uid)
{
	struct passwd *pw;
	const char *name;
	size_t len;
	char *conf;

	if (f->state == 0) {
		f->state = -1;
		if ((conf = pdx_read_file("/etc/nsswitch.conf", 1 << 16,
			 &len)) != NULL) {
			if (pdx_passwd_files_first(conf, len) &&
			    (f->text = pdx_read_file("/etc/passwd", 64 << 20,
				 &f->len)) != NULL)
				f->state = 1;
			free(conf);
		}
	}
	if (f->state == 1 &&
	    (name = pdx_passwd_name(f->text, f->len, uid, &len)) != NULL)
		return strndup(name, len);
	pw = getpwuid((uid_t)uid);
	return pw != NULL ? strdup(pw->pw_name) : NULL;
}

static void
name_users(struct pdx_socket *v, size_t n)
{
	struct {
		long uid;
		char *name;
	} cache[32];
	struct pwfile pwf = { NULL, 0, 0 };
	size_t ncache = 0, i, k;
	char *name;

	for (i = 0; i < n; i++) {
		/* A socket with no inode (TIME_WAIT) has no real owner. */
		if (v[i].user != NULL || v[i].uid < 0 || v[i].inode == 0)
			continue;
		for (k = 0; k < ncache && cache[k].uid != v[i].uid; k++)
			;
		if (k < ncache)
			name = cache[k].name;
		else {
			name = user_name(&pwf, v[i].uid);
			if (ncache < sizeof cache / sizeof cache[0]) {
				cache[ncache].uid = v[i].uid;
				cache[ncache++].name = name;
			} else {
				v[i].user = name;
				continue;
			}
		}
		v[i].user = dup_or_null(name);
	}
	for (k = 0; k < ncache; k++)
		free(cache[k].name);
	free(pwf.text);
}

/* ---- the walk ---------------------------------------------------------- */

/* The inode in "socket:[12345]", or 0. */
static unsigned long
socket_inode(const char *link, ssize_t len)
{
	unsigned long ino = 0;
	ssize_t i;

	if (len < 10 || memcmp(link, "socket:[", 8) != 0 ||
	    link[len - 1] != ']')
		return 0;
	for (i = 8; i < len - 1; i++) {
		if (link[i] < '0' || link[i] > '9' || ino > ULONG_MAX / 10)
			return 0;
		ino = ino * 10 + (unsigned long)(link[i] - '0');
	}
	return ino;
}

static int
is_pid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* ---- other holders: a pre-forking server's workers -------------------- */

#define MAX_CHILDREN 256
#define MAX_CHILD_SOCKS 4096

/* The socket inodes process pid holds, into out (at most max); count. */
static size_t
socket_inodes(int procfd, const char *pid, unsigned long *out, size_t max)
{
	char path[64], link[64];
	struct dirent *e;
	size_t n = 0;
	ssize_t len;
	unsigned long ino;
	DIR *d;
	int fd;

	snprintf(path, sizeof path, "%s/fd", pid);
	if ((fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return 0;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return 0;
	}
	while (n < max && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		len = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
		if (len > 0 && (ino = socket_inode(link, len)) != 0)
			out[n++] = ino;
	}
	closedir(d);
	return n;
}

/* Appends "PID COMM" to s->others (", "-separated); 0 or -1 (no memory). */
static int
add_other(struct pdx_socket *s, const char *pid, const char *comm)
{
	size_t old = s->others != NULL ? strlen(s->others) : 0;
	size_t add = strlen(pid) + strlen(comm) + 4;
	char *n = realloc(s->others, old + add);

	if (n == NULL)
		return -1;
	snprintf(n + old, add, "%s%s %s", old > 0 ? ", " : "", pid, comm);
	s->others = n;
	return 0;
}

/*
 * For each listening or unconnected socket that has a holder, the holder's
 * children that hold it too (nginx's, Apache's, gunicorn's workers), from
 * /proc/PID/task/PID/children: a few files, not another walk of /proc.
 * Each holder's children are read once.
 */
static void
find_other_holders(const char *procdir, struct pdx_socket *v, size_t n)
{
	unsigned long *inos = NULL;
	pid_t done[64];
	size_t ndone = 0, i, j, k, m;
	int procfd;

	if ((procfd = open(procdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	if ((inos = malloc(MAX_CHILD_SOCKS * sizeof *inos)) == NULL)
		goto out;
	for (i = 0; i < n && ndone < sizeof done / sizeof *done; i++) {
		char path[96], buf[4096], *p, *save = NULL;
		pid_t holder = v[i].pid;
		ssize_t len;
		int fd, nchild = 0;

		if (holder == 0 ||
		    (v[i].state != PDX_SS_LISTEN && v[i].state != PDX_SS_CLOSE))
			continue;
		for (k = 0; k < ndone && done[k] != holder; k++)
			;
		if (k < ndone)
			continue;
		done[ndone++] = holder;
		snprintf(path, sizeof path, "%ld/task/%ld/children",
		    (long)holder, (long)holder);
		if ((fd = openat(procfd, path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		for (p = strtok_r(buf, " \n", &save);
		     p != NULL && nchild < MAX_CHILDREN;
		     p = strtok_r(NULL, " \n", &save)) {
			char comm[32] = "?";
			size_t ni;

			if (!is_pid(p))
				continue;
			nchild++;
			ni = socket_inodes(procfd, p, inos, MAX_CHILD_SOCKS);
			if (ni == 0)
				continue;
			snprintf(path, sizeof path, "%s/comm", p);
			if ((fd = openat(procfd, path, O_RDONLY | O_CLOEXEC)) >=
			    0) {
				if ((len = read(fd, comm, sizeof comm - 1)) >
				    0) {
					comm[len] = '\0';
					comm[strcspn(comm, "\n")] = '\0';
				}
				close(fd);
			}
			/* every socket of this holder that the child shares */
			for (j = i; j < n; j++) {
				if (v[j].pid != holder)
					continue;
				for (m = 0; m < ni; m++)
					if (inos[m] == v[j].inode) {
						(void)add_other(&v[j], p, comm);
						break;
					}
			}
		}
	}
out:
	free(inos);
	close(procfd);
}

/*
 * Loads the facts of process name (a directory under procdirfd) into a new
 * entry of *procs; its index + 1, or 0 when out of memory.
 */
static size_t
proc_add(struct procinfo **procs, size_t *n, size_t *cap, int procdirfd,
    const char *name)
{
	struct procinfo *np;
	int piddir;

	if (*n == *cap) {
		size_t ncap = *cap > 0 ? *cap * 2 : 16;

		if (ncap > UINT32_MAX - 1 ||
		    (np = realloc(*procs, ncap * sizeof *np)) == NULL)
			return 0;
		*procs = np;
		*cap = ncap;
	}
	piddir = openat(procdirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	procinfo_load(&(*procs)[*n], piddir, (pid_t)strtol(name, NULL, 10));
	if (piddir >= 0)
		close(piddir);
	return ++*n;
}

/* One walk of /proc: what it looks for and what it found so far. */
struct walk {
	struct inomap map;
	struct procinfo *procs; /* the holders, each loaded once */
	size_t nprocs, capprocs;
	size_t wanted, found;
	struct pdx_attr_stats st;
	int procfd;
};

/*
 * Reads the fd links of process name (a directory under w->procfd) and
 * records it as the holder of every wanted socket it holds; 0, or -1
 * when out of memory.
 */
static int
walk_proc(struct walk *w, const char *name)
{
	struct dirent64 *fe;
	char link[64], fdpath[300];
	/* dirent64 records are 8-byte aligned within the buffer */
	char dbuf[16384] __attribute__((aligned(8)));
	/* a dirent64 takes 24 bytes at least: a batch's socket inodes fit */
	enum { NINO = sizeof dbuf / 24 + 1 };
	unsigned long inos[NINO];
	size_t i, k, want, off, nino, loaded = 0;
	unsigned long ino;
	ssize_t len, got;
	int fdfd, done_proc = 0;

	/* Straight to PID/fd: most processes hold nothing wanted. */
	snprintf(fdpath, sizeof fdpath, "%s/fd", name);
	fdfd = openat(w->procfd, fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdfd < 0) {
		if (errno == EACCES || errno == EPERM)
			w->st.denied_procs++;
		return 0; /* or gone already */
	}
	w->st.procs_walked++;
	/*
	 * getdents64 straight into a buffer: no DIR stream (three system
	 * calls and an allocation less per process).  The first read asks
	 * for a few entries only: the kernel builds a dentry for every entry
	 * it returns, and a process whose links are refused (pid 1 in a VM,
	 * say) is left after the first readlink instead of after listing
	 * hundreds of fds.
	 */
	want = 512;
	while (!done_proc && (got = getdents64(fdfd, dbuf, want)) > 0) {
		/*
		 * Two passes: every link of the batch, then the lookups.  A
		 * system call can cost the process its TLB (page-table
		 * isolation without PCID, on a virtual machine), and a lookup
		 * between two calls then missed on the table and the socket
		 * array each time: 0.8 ms of 1,000 listeners.
		 */
		nino = 0;
		for (off = 0; off < (size_t)got && nino < NINO;
		     off += fe->d_reclen) {
			fe = (struct dirent64 *)(void *)(dbuf + off);
			if (fe->d_reclen == 0)
				break; /* cannot happen; no loop */
			if (fe->d_name[0] == '.')
				continue;
			len = readlinkat(fdfd, fe->d_name, link,
			    sizeof link - 1);
			if (len < 0 && (errno == EACCES || errno == EPERM)) {
				w->st.denied_procs++;
				done_proc = 1;
				break;
			}
			if (len > 0 && (ino = socket_inode(link, len)) != 0)
				inos[nino++] = ino;
		}
		for (i = 0; i < nino && w->found < w->wanted; i++)
			for (k = inomap_find(&w->map, inos[i]); k != 0;
			     k = w->map.next[k - 1]) {
				if (w->map.of[k - 1] != 0)
					continue;
				if (loaded == 0 &&
				    (loaded = proc_add(&w->procs, &w->nprocs,
					 &w->capprocs, w->procfd, name)) == 0) {
					close(fdfd);
					return -1;
				}
				w->map.of[k - 1] = (uint32_t)loaded;
				w->found++;
			}
		if (w->found == w->wanted)
			done_proc = 1;
		want = sizeof dbuf;
	}
	close(fdfd);
	return 0;
}

/*
 * The children of kthreadd (pid 2), sorted, into kids (at most max); how
 * many.  They are kernel threads, which hold no files, unless pid 2 is
 * another program (in a pid namespace) or a child is a user-mode helper
 * the kernel started: the walk leaves them for last, and visits them only
 * if a wanted socket is still without a holder.  Without the file
 * (CONFIG_PROC_CHILDREN unset), none.
 */
static size_t
kthread_pids(int procfd, uint32_t *kids, size_t max)
{
	char buf[8192], *p, *end;
	unsigned long pid;
	ssize_t len;
	size_t n = 0, i, j;
	uint32_t t;

	if ((len = read_small(procfd, "2/task/2/children", buf, sizeof buf)) <
	    0)
		return 0;
	/* a full buffer may end in the middle of a pid: not that one */
	if ((size_t)len == sizeof buf - 1 && (p = strrchr(buf, ' ')) != NULL)
		*p = '\0';
	kids[n++] = 2;
	for (p = buf; n < max && *p != '\0'; p = end) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (*p < '0' || *p > '9')
			break;
		errno = 0;
		pid = strtoul(p, &end, 10);
		if (errno != 0 || pid > INT_MAX)
			break;
		kids[n++] = (uint32_t)pid;
	}
	/* insertion sort: the file lists them nearly in order */
	for (i = 1; i < n; i++) {
		t = kids[i];
		for (j = i; j > 0 && kids[j - 1] > t; j--)
			kids[j] = kids[j - 1];
		kids[j] = t;
	}
	return n;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
is_kid(const uint32_t *kids, size_t n, const char *name)
{
	unsigned long pid = strtoul(name, NULL, 10);
	uint32_t key = (uint32_t)pid;

	return pid <= UINT32_MAX &&
	    bsearch(&key, kids, n, sizeof *kids, cmp_u32) != NULL;
}

int
pdx_sockets_attribute_at(const char *procdir, struct pdx_socket *v, size_t n,
    struct pdx_attr_stats *stp)
{
	struct walk w;
	struct dirent *de;
	DIR *proc = NULL;
	uint32_t kids[1024];
	char name[16];
	size_t i, nkids = 0;

	memset(&w, 0, sizeof w);
	for (i = 0; i < n; i++) {
		if (v[i].inode == 0)
			w.st.no_inode++;
		else if (v[i].pid == 0)
			w.wanted++;
	}
	w.st.wanted = w.wanted;
	if (w.wanted > 0 && inomap_build(&w.map, v, n) < 0)
		return -1;
	if (w.wanted > 0 && (proc = opendir(procdir)) == NULL) {
		pdx_set_error("%s: %s", procdir, strerror(errno));
		inomap_free(&w.map);
		return -1;
	}
	if (proc != NULL) {
		w.procfd = dirfd(proc);
		/*
		 * Kernel threads are most of /proc on a quiet machine (62 of
		 * 70 processes here), each an open, two getdents and a close
		 * for nothing: they come last (kthread_pids).
		 */
		nkids = kthread_pids(w.procfd, kids,
		    sizeof kids / sizeof *kids);
	}
	while (w.found < w.wanted && (de = readdir(proc)) != NULL) {
		if (!is_pid(de->d_name) ||
		    (nkids > 0 && is_kid(kids, nkids, de->d_name)))
			continue;
		if (walk_proc(&w, de->d_name) < 0)
			goto oom;
	}
	for (i = 0; i < nkids && w.found < w.wanted; i++) {
		snprintf(name, sizeof name, "%lu", (unsigned long)kids[i]);
		if (walk_proc(&w, name) < 0)
			goto oom;
	}
	/*
	 * The holders go into the sockets in the array's order, after the
	 * walk: one pass over it, not a jump to a random socket after each
	 * link read (the reads cost the process its TLB: see walk_proc).
	 */
	for (i = 0; i < n && w.wanted > 0; i++)
		if (w.map.of[i] != 0 && w.map.of[i] != OF_TAKEN)
			give(&v[i], &w.procs[w.map.of[i] - 1]);
	if (proc != NULL)
		closedir(proc);
	inomap_free(&w.map);
	for (i = 0; i < w.nprocs; i++)
		procinfo_clear(&w.procs[i]);
	free(w.procs);
	w.st.attributed = w.found;
	if (w.st.denied_procs > 0)
		w.st.permission = w.wanted - w.found;
	else
		w.st.no_process = w.wanted - w.found;
	if (w.found > 0)
		find_other_holders(procdir, v, n);
	name_users(v, n);
	if (stp != NULL)
		*stp = w.st;
	return 0;
oom:
	closedir(proc);
	inomap_free(&w.map);
	for (i = 0; i < w.nprocs; i++)
		procinfo_clear(&w.procs[i]);
	free(w.procs);
	pdx_set_error("out of memory");
	return -1;
}

int
pdx_sockets_attribute(struct pdx_socket *v, size_t n, struct pdx_attr_stats *st)
{
	return pdx_sockets_attribute_at("/proc", v, n, st);
}

#endif /* __linux__ */
