/*
 * sockets.c - the platform-independent half of local sockets: the table of
 * backends and the choice between them, entering a named network namespace
 * around a listing, the filters, sorting, and the JSON form of a socket
 * (annotated from the registry when one is given).  How sockets are read
 * from a kernel lives in sockets-linux.c (netlink), sockets-proc.c
 * (/proc/net) and sockets-other.c; who holds them lives in procwalk.c.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portdex.h"
#include "sockets-int.h"
#include "util-int.h"

static const char *const state_names[PDX_SS_MAX] = {
	[PDX_SS_ESTABLISHED] = "ESTAB",
	[PDX_SS_SYN_SENT] = "SYN-SENT",
	[PDX_SS_SYN_RECV] = "SYN-RECV",
	[PDX_SS_FIN_WAIT1] = "FIN-WAIT-1",
	[PDX_SS_FIN_WAIT2] = "FIN-WAIT-2",
	[PDX_SS_TIME_WAIT] = "TIME-WAIT",
	[PDX_SS_CLOSE] = "UNCONN",
	[PDX_SS_CLOSE_WAIT] = "CLOSE-WAIT",
	[PDX_SS_LAST_ACK] = "LAST-ACK",
	[PDX_SS_LISTEN] = "LISTEN",
	[PDX_SS_CLOSING] = "CLOSING",
	[PDX_SS_NEW_SYN_RECV] = "NEW-SYN-RECV",
};

const char *
pdx_sock_state_name(int state)
{
	if (state <= 0 || state >= PDX_SS_MAX || state_names[state] == NULL)
		return "?";
	return state_names[state];
}

/*
 * The backends in the order AUTO tries them.  On a platform without a
 * backend the table holds only the one that says so.
 */
static const struct pdx_sock_backend_ops *const backends[] = {
#ifdef __linux__
	&pdx_backend_netlink, &pdx_backend_proc,
#else
	&pdx_backend_none,
#endif
	NULL
};

static const char *const backend_names[] = {
	[PDX_BACKEND_AUTO] = "auto",
	[PDX_BACKEND_NETLINK] = "netlink",
	[PDX_BACKEND_PROC] = "proc",
};

const char *
pdx_backend_name(int b)
{
	if (b < 0 || b > PDX_BACKEND_PROC)
		return "?";
	return backend_names[b];
}

void
pdx_sock_filter_init(struct pdx_sock_filter *f)
{
	memset(f, 0, sizeof *f);
	f->protos = PDX_TCP | PDX_UDP;
	f->families = PDX_FAM_INET4 | PDX_FAM_INET6;
	f->states = PDX_SSF_LISTENING;
	f->uid = -1;
}

int
pdx_sock_filter_match(const struct pdx_sock_filter *f,
    const struct pdx_socket *s)
{
	unsigned states;

	if (f == NULL)
		return 1;
	states = f->states != 0 ? f->states : PDX_SSF_LISTENING;
	if (s->state <= 0 || s->state >= PDX_SS_MAX ||
	    (states & PDX_SSF(s->state)) == 0)
		return 0;
	if (f->ports != NULL && !pdx_portset_has(f->ports, s->lport))
		return 0;
	if (f->uid >= 0 && s->uid != f->uid)
		return 0;
	return 1;
}

/*
 * The socket vector.  A listing of thousands of sockets is megabytes of
 * structs (300 bytes each) written once, and on a virtual machine each
 * fresh 4 kB page costs several microseconds (the host maps it too):
 * 10,000 sockets spent 5-6 ms in page faults, a third of `ls`.  So the
 * vector never moves and touches no page it does not fill: it lives in a
 * mapping of its own, reserved large (address space only), populated
 * ahead of the writes (MADV_POPULATE_WRITE).  Its first VEC_ZONE bytes
 * (about 200 sockets) are 4 kB pages that end on a 2 MB boundary; the rest
 * is marked for transparent huge pages when the vector first reaches it,
 * one fault per 2 MB.  A short
 * listing pays no huge page; a long one pays 4 kB faults for its first
 * 16 pages only.  Growing on the heap instead moved it at each doubling,
 * every move into fresh pages: 1,000 sockets touched about 150 pages for
 * 89 of sockets (bench/README.md).  Only without a mapping does it fall
 * back on the heap.  A head before the first socket says which kind the
 * vector is, so pdx_sockets_free and pdx_sockets_append undo either.
 */
#define VEC_HUGE ((size_t)2 << 20)
#define VEC_RESERVE ((size_t)64 << 20)
#define VEC_ZONE ((size_t)64 << 10)

struct vec_head {
	void *map;     /* start of the mapping, NULL: malloc'd */
	size_t maplen; /* its length */
	size_t cap;    /* sockets that fit */
	size_t filled; /* bytes of the mapping populated so far */
	int huge;      /* past VEC_ZONE marked for huge pages */
	char pad[28];  /* the sockets start 64 bytes in */
};
_Static_assert(sizeof(struct vec_head) == 64, "vector head");

static struct vec_head *
vec_head(struct pdx_socket *v)
{
	return (struct vec_head *)(void *)((char *)v - sizeof(struct vec_head));
}

static struct pdx_socket *
vec_first(struct vec_head *h)
{
	return (struct pdx_socket *)(void *)(h + 1);
}

/*
 * Maps the pages of a vector grown on the heap in one call, rather than a
 * fault per 4 kB as the sockets are written: the whole pages inside
 * [p, p + len), 64 kB or more.  A hint, its failure is harmless.
 */
static void
heap_prefault(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)4095;

	if (len >= 65536 && e > a)
		(void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)len;
#endif
}

/*
 * Populates the mapping up to byte end: its small pages (VEC_ZONE) at
 * once, then a 2 MB page at a time.
 */
static void
vec_fill(struct vec_head *h, size_t end)
{
	size_t to;

	if (end <= h->filled)
		return;
	if (end <= VEC_ZONE)
		to = VEC_ZONE;
	else
		to = VEC_ZONE +
		    ((end - VEC_ZONE + VEC_HUGE - 1) & ~(VEC_HUGE - 1));
	if (to > h->maplen)
		to = h->maplen;
#ifdef MADV_HUGEPAGE
	/*
	 * Marked only once the vector outgrows its small pages: the advice
	 * enlists the process with khugepaged and wakes it, and on two cores
	 * it then took the CPU from 42 of 100 listings of 210 sockets.
	 */
	if (to > VEC_ZONE && !h->huge) {
		h->huge = 1;
		(void)madvise((char *)h->map + VEC_ZONE, h->maplen - VEC_ZONE,
		    MADV_HUGEPAGE);
	}
#endif
#ifdef MADV_POPULATE_WRITE
	/* a hint: its failure leaves the pages to fault one by one */
	(void)madvise((char *)h->map + h->filled, to - h->filled,
	    MADV_POPULATE_WRITE);
#endif
	h->filled = to;
}

/*
 * A mapping for at least bytes, NULL if none: its first VEC_ZONE bytes end
 * on a 2 MB boundary, and the rest is whole huge pages.
 */
static struct vec_head *
vec_map(size_t bytes)
{
	size_t len = bytes < VEC_RESERVE / 2 ? VEC_RESERVE : bytes * 2, lead;
	struct vec_head *h;
	char *p, *start;

	len = (len + VEC_HUGE - 1) & ~(VEC_HUGE - 1);
	if (len > SIZE_MAX - VEC_HUGE)
		return NULL;
	p = mmap(NULL, len + VEC_HUGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	start = (char *)((((uintptr_t)p + VEC_ZONE + VEC_HUGE - 1) &
			     ~(uintptr_t)(VEC_HUGE - 1)) -
	    VEC_ZONE);
	lead = (size_t)(start - p);
	if (lead > 0)
		munmap(p, lead);
	if (VEC_HUGE - lead > 0)
		munmap(start + len, VEC_HUGE - lead);
	h = (struct vec_head *)(void *)start;
	h->map = start;
	h->maplen = len;
	h->filled = 0;
	h->huge = 0;
	vec_fill(h, sizeof *h);
	h->cap = (len - sizeof *h) / sizeof(struct pdx_socket);
	return h;
}

static void
vec_release(struct vec_head *h)
{
	if (h->map != NULL)
		pdx_unmap(h->map, h->maplen);
	else
		free(h);
}

/*
 * Makes room for want sockets in *v, which holds n; 0 or -1 (the error
 * set, *v unchanged).
 */
static int
vec_reserve(struct pdx_socket **v, size_t n, size_t want)
{
	struct vec_head *h = *v != NULL ? vec_head(*v) : NULL, *nh;
	size_t ncap, bytes;

	if (h != NULL && want <= h->cap) {
		if (h->map != NULL)
			vec_fill(h, sizeof *h + want * sizeof **v);
		return 0;
	}
	ncap = h == NULL ? 64 : h->cap * 2;
	if (ncap < want)
		ncap = want;
	if (ncap > (SIZE_MAX - sizeof *h) / sizeof **v / 2) {
		pdx_set_error("out of memory listing sockets");
		return -1;
	}
	bytes = sizeof *h + ncap * sizeof **v;
	nh = NULL;
	if ((nh = vec_map(bytes)) != NULL) {
		vec_fill(nh, sizeof *h + want * sizeof **v);
		if (n > 0)
			memcpy(vec_first(nh), *v, n * sizeof **v);
		if (h != NULL)
			vec_release(h);
	} else if (h == NULL || h->map == NULL) {
		/* no mapping to be had: the heap */
		if ((nh = realloc(h, bytes)) == NULL) {
			pdx_set_error("out of memory listing sockets");
			return -1;
		}
		nh->map = NULL;
		nh->maplen = 0;
		nh->filled = 0;
		nh->huge = 0;
		nh->cap = ncap;
		heap_prefault(vec_first(nh) + n, (ncap - n) * sizeof **v);
	} else {
		pdx_set_error("out of memory listing sockets");
		return -1;
	}
	*v = vec_first(nh);
	return 0;
}

int
pdx_sockvec_push(struct pdx_socket **v, size_t *n, size_t *cap,
    const struct pdx_socket *s)
{
	if (*n == *cap || *v == NULL) {
		if (vec_reserve(v, *n, *n + 1) != 0)
			return -1;
		*cap = vec_head(*v)->cap;
	} else if (vec_head(*v)->map != NULL &&
	    (*n + 1) * sizeof **v + sizeof(struct vec_head) >
		vec_head(*v)->filled)
		vec_fill(vec_head(*v),
		    sizeof(struct vec_head) + (*n + 1) * sizeof **v);
	(*v)[(*n)++] = *s;
	return 0;
}

struct pdx_socket *
pdx_sockets_new(size_t n)
{
	struct pdx_socket *v = NULL;

	if (vec_reserve(&v, 0, n > 0 ? n : 1) != 0)
		return NULL;
	memset(v, 0, (n > 0 ? n : 1) * sizeof *v);
	return v;
}

int
pdx_sockets_append(struct pdx_socket **v, size_t *n, struct pdx_socket *b,
    size_t bn)
{
	if (bn == 0) {
		pdx_sockets_free(b, 0);
		return 0;
	}
	if (*n > SIZE_MAX / 2 || bn > SIZE_MAX / 2 ||
	    vec_reserve(v, *n, *n + bn) != 0) {
		pdx_sockets_free(b, bn);
		pdx_set_error("out of memory listing sockets");
		return -1;
	}
	memcpy(*v + *n, b, bn * sizeof *b);
	*n += bn;
	vec_release(vec_head(b)); /* its strings are *v's now */
	return 0;
}

static int
addr_is_wildcard(const struct pdx_socket *s, const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, s->family == AF_INET ? 4 : 16) == 0;
}

static char *
put_dec(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *
put_v4(char *p, const uint8_t *a)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0)
			*p++ = '.';
		p = put_dec(p, a[i]);
	}
	return p;
}

/*
 * inet_ntop's text (RFC 5952 and glibc's choices: the longest run of two
 * or more zero groups, the first on a tie, becomes "::"; mapped and
 * compatible IPv4 keep the dotted quad), without its sprintf calls, which
 * dominate a listing of ten thousand sockets.  buf holds 46 bytes.
 */
void
pdx_format_addr(int family, const uint8_t *a, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int i, best = -1, bestlen = 0, run = 0, started;
	char *p = buf;

	if (family == AF_INET) {
		*put_v4(p, a) = '\0';
		return;
	}
	for (i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		run = w[i] == 0 ? run + 1 : 0;
		if (run > bestlen) {
			bestlen = run;
			best = i - run + 1;
		}
	}
	if (bestlen < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (best + bestlen == 8)
				*p++ = ':';
			i += bestlen - 1;
			continue;
		}
		if (i > 0)
			*p++ = ':';
		if (i == 6 && best == 0 &&
		    (bestlen == 6 || (bestlen == 5 && w[5] == 0xffff))) {
			p = put_v4(p, a + 12);
			break;
		}
		started = 0;
		for (int k = 12; k >= 0; k -= 4) {
			unsigned d = w[i] >> k & 0xf;

			if (d != 0 || started || k == 0) {
				*p++ = hex[d];
				started = 1;
			}
		}
	}
	*p = '\0';
}

static void
format_one(const struct pdx_socket *s, const uint8_t *a, unsigned ifindex,
    char *buf, size_t size)
{
	char dev[IF_NAMESIZE];
	size_t len;

	pdx_format_addr(s->family, a, buf);
	if (ifindex != 0) {
		len = strlen(buf);
		if (if_indextoname(ifindex, dev) != NULL)
			snprintf(buf + len, size - len, "%%%s", dev);
		else
			snprintf(buf + len, size - len, "%%%u", ifindex);
	}
}

void
pdx_socket_format_addrs(struct pdx_socket *s)
{
	format_one(s, s->laddr, s->ifindex, s->local, sizeof s->local);
	format_one(s, s->raddr, 0, s->remote, sizeof s->remote);
}

static void
free_strings(struct pdx_socket *s)
{
	free(s->netns);
	free(s->cmdline);
	free(s->user);
	free(s->unit);
	free(s->container);
	free(s->others);
}

void
pdx_sockets_free(struct pdx_socket *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free_strings(&v[i]);
	vec_release(vec_head(v));
}

static int
sock_cmp(const void *a, const void *b)
{
	const struct pdx_socket *x = a, *y = b;
	int c;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	if (x->lport != y->lport)
		return x->lport < y->lport ? -1 : 1;
	if ((c = memcmp(x->laddr, y->laddr, sizeof x->laddr)) != 0)
		return c;
	if (x->rport != y->rport)
		return x->rport < y->rport ? -1 : 1;
	if ((c = memcmp(x->raddr, y->raddr, sizeof x->raddr)) != 0)
		return c;
	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/*
 * What the listing is sorted by, most of it packed in one integer: proto,
 * family, local port and the first four bytes of the local address decide
 * almost every comparison without touching the (large) socket structs.
 */
struct sort_key {
	uint64_t k;
	const struct pdx_socket *s;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return sock_cmp(x->s, y->s);
}

/*
 * Sorts keys, then puts each socket in its place by following the
 * permutation's cycles, moving each struct once: the structs are big, and
 * a second array of them would cost page faults that show at ten thousand
 * sockets.
 */
static int
sort_sockets(struct pdx_socket **vp, size_t n)
{
	struct pdx_socket *v = *vp, tmp;
	struct sort_key *keys;
	size_t *from, i, j, k;

	keys = malloc(n * sizeof *keys);
	from = malloc(n * sizeof *from);
	if (keys == NULL || from == NULL) {
		free(keys);
		free(from);
		pdx_set_error("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct pdx_socket *x = &v[i];
		/* sock_cmp's order: proto, IPv4 first, port, address */
		uint64_t fam = x->family == AF_INET ? 0 : 1;

		keys[i].k = ((uint64_t)(x->proto & 0x7f) << 57) | (fam << 56) |
		    ((uint64_t)(x->lport & 0xffffff) << 32) |
		    ((uint64_t)x->laddr[0] << 24) |
		    ((uint64_t)x->laddr[1] << 16) |
		    ((uint64_t)x->laddr[2] << 8) | x->laddr[3];
		keys[i].s = x;
	}
	qsort(keys, n, sizeof *keys, key_cmp);
	/* from[i]: where the socket that belongs at i is now. */
	for (i = 0; i < n; i++)
		from[i] = (size_t)(keys[i].s - v);
	free(keys);
	for (i = 0; i < n; i++) {
		if (from[i] == i)
			continue;
		/* one cycle: i <- from[i] <- from[from[i]] ... back to i */
		tmp = v[i];
		j = i;
		while ((k = from[j]) != i) {
			v[j] = v[k];
			from[j] = j;
			j = k;
		}
		v[j] = tmp;
		from[j] = j;
	}
	free(from);
	return 0;
}

static const struct {
	int proto;
	int family;
	int fambit;
} combos[] = {
	{ PDX_TCP, AF_INET, PDX_FAM_INET4 },
	{ PDX_TCP, AF_INET6, PDX_FAM_INET6 },
	{ PDX_UDP, AF_INET, PDX_FAM_INET4 },
	{ PDX_UDP, AF_INET6, PDX_FAM_INET6 },
	{ PDX_SCTP, AF_INET, PDX_FAM_INET4 },
	{ PDX_SCTP, AF_INET6, PDX_FAM_INET6 },
};

/* Lists in the current namespace with the backends the filter allows. */
static int
list_here(const struct pdx_sock_filter *f, struct pdx_socket **v, size_t *n,
    size_t *cap, int *used)
{
	const struct pdx_sock_backend_ops *const *b;
	int protos, fams, rc = 0, any = 0;
	size_t i;

	protos = f->protos != 0 ? f->protos : PDX_TCP | PDX_UDP;
	fams = f->families != 0 ? f->families : PDX_FAM_INET4 | PDX_FAM_INET6;
	for (i = 0; i < sizeof combos / sizeof combos[0]; i++) {
		if ((protos & combos[i].proto) == 0 ||
		    (fams & combos[i].fambit) == 0)
			continue;
		/*
		 * Each protocol goes to the first backend that offers it,
		 * so a kernel without udp_diag still lists UDP from /proc.
		 */
		rc = -2;
		for (b = backends; *b != NULL; b++) {
			if (f->backend != PDX_BACKEND_AUTO &&
			    f->backend != (*b)->id)
				continue;
			rc = (*b)->list(combos[i].proto, combos[i].family, f, v,
			    n, cap);
			if (rc == 0) {
				if (!any || (*b)->id != PDX_BACKEND_NETLINK)
					*used = (*b)->id;
				any = 1;
				break;
			}
			if (rc == -1 && f->backend != PDX_BACKEND_AUTO)
				return -1;
		}
		if (rc == -1)
			return -1; /* every backend failed */
	}
	if (!any && rc == -2 && (protos & (PDX_TCP | PDX_UDP)) != 0) {
		pdx_set_error("listing sockets is not supported by the %s "
			      "backend on this system",
		    pdx_backend_name(f->backend));
		return -1;
	}
	return 0;
}

int
pdx_sockets_list(const struct pdx_sock_filter *filter, struct pdx_socket **out,
    size_t *np, int *backend_used)
{
	struct pdx_sock_filter def;
	struct pdx_socket *v = NULL;
	size_t n = 0, cap = 0, i;
	int saved = -1, used = PDX_BACKEND_AUTO, rc;

	*out = NULL;
	*np = 0;
	if (filter == NULL) {
		pdx_sock_filter_init(&def);
		filter = &def;
	}
	if (filter->netns != NULL &&
	    (saved = pdx_netns_enter(filter->netns)) < 0)
		return -1;
	rc = list_here(filter, &v, &n, &cap, &used);
	if (saved >= 0 && pdx_netns_leave(saved) < 0)
		rc = -1;
	if (rc < 0) {
		pdx_sockets_free(v, n);
		return -1;
	}
	if (filter->netns != NULL) {
		for (i = 0; i < n; i++) {
			if ((v[i].netns = strdup(filter->netns)) == NULL) {
				pdx_sockets_free(v, n);
				pdx_set_error("out of memory");
				return -1;
			}
		}
	}
	if (n > 1 && sort_sockets(&v, n) < 0) {
		pdx_sockets_free(v, n);
		return -1;
	}
	*out = v;
	*np = n;
	if (backend_used != NULL)
		*backend_used = used;
	return 0;
}

void
pdx_sockets_select(struct pdx_socket *v, size_t *np,
    const struct pdx_sock_filter *f)
{
	size_t i, j = 0;

	for (i = 0; i < *np; i++) {
		int keep = 1;

		if (f->pid > 0 && v[i].pid != f->pid)
			keep = 0;
		if (f->process != NULL &&
		    (v[i].pid == 0 || strcmp(v[i].comm, f->process) != 0))
			keep = 0;
		if (keep) {
			if (j != i)
				v[j] = v[i];
			j++;
		} else
			free_strings(&v[i]);
	}
	*np = j;
}

/* Adds key: string, or null when s is NULL. */
static int
set_str(json_t *o, const char *key, const char *s)
{
	char clean[4096];
	json_t *j;
	size_t i, n;

	if (s == NULL)
		return json_object_set_new(o, key, json_null());
	n = strlen(s);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	/* json_string() is NULL for text that is not UTF-8 */
	if (i == n && (j = json_string(s)) != NULL)
		return json_object_set_new(o, key, j);
	/*
	 * Process names and command lines are whatever a process chose:
	 * bytes that are not printable ASCII become '?', so the JSON stays
	 * valid and nothing reaches a terminal raw.
	 */
	if (n >= sizeof clean)
		n = sizeof clean - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		clean[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	clean[n] = '\0';
	return json_object_set_new(o, key, json_string(clean));
}

json_t *
pdx_socket_json(const struct pdx_socket *s, struct pdx_db *db)
{
	json_t *o, *l, *r;
	struct pdx_brief b;
	int wild, bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	wild = addr_is_wildcard(s, s->laddr);
	bad |= set_str(o, "proto", pdx_proto_name(s->proto));
	bad |= set_str(o, "family", s->family == AF_INET ? "ipv4" : "ipv6");
	bad |= set_str(o, "state", pdx_sock_state_name(s->state));
	l = json_pack("{s:s, s:I}", "address", s->local, "port",
	    (json_int_t)s->lport);
	bad |= json_object_set_new(o, "local", l);
	if (s->state != PDX_SS_LISTEN && s->state != PDX_SS_CLOSE)
		r = json_pack("{s:s, s:I}", "address", s->remote, "port",
		    (json_int_t)s->rport);
	else
		r = json_null();
	bad |= json_object_set_new(o, "remote", r);
	bad |= json_object_set_new(o, "all_interfaces", json_boolean(wild));
	bad |= json_object_set_new(o, "v6only",
	    s->family == AF_INET6 && s->v6only >= 0 ? json_boolean(s->v6only)
						    : json_null());
	bad |= json_object_set_new(o, "serves_ipv4",
	    json_boolean(s->family == AF_INET ||
		(s->family == AF_INET6 && wild && s->v6only == 0)));
	bad |= json_object_set_new(o, "uid", json_integer(s->uid));
	bad |= set_str(o, "user", s->user);
	bad |= json_object_set_new(o, "inode",
	    json_integer((json_int_t)s->inode));
	bad |= set_str(o, "netns", s->netns);
	bad |= json_object_set_new(o, "pid",
	    s->pid > 0 ? json_integer(s->pid) : json_null());
	bad |= set_str(o, "process", s->pid > 0 ? s->comm : NULL);
	bad |= set_str(o, "cmdline", s->cmdline);
	bad |= set_str(o, "unit", s->unit);
	bad |= set_str(o, "container", s->container);
	bad |= set_str(o, "other_holders", s->others);
	if (db != NULL && pdx_brief(db, s->lport, s->proto, &b) == 0) {
		json_t *svc = json_pack("{s:s, s:s, s:s}", "name",
		    b.name != NULL ? b.name : "", "status",
		    pdx_status_name(b.status), "risk", pdx_level_name(b.risk));

		bad |= json_object_set_new(o, "service", svc);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
pdx_local_port(unsigned port, int protomask)
{
	struct pdx_sock_filter f;
	struct pdx_portset ps;
	struct pdx_socket *v;
	size_t n, i;
	json_t *a, *o;

	if (port > 65535) {
		pdx_set_error("port %u is out of range 0-65535", port);
		return NULL;
	}
	pdx_sock_filter_init(&f);
	if (protomask != 0)
		f.protos = protomask & (PDX_TCP | PDX_UDP | PDX_SCTP);
	pdx_portset_clear(&ps);
	pdx_portset_add(&ps, port, port);
	f.ports = &ps;
	if (pdx_sockets_list(&f, &v, &n, NULL) < 0)
		return NULL;
	/* Attribution failing only means no pids: the list still stands. */
	(void)pdx_sockets_attribute(v, n, NULL);
	if ((a = json_array()) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if ((o = pdx_socket_json(&v[i], NULL)) == NULL ||
		    json_array_append_new(a, o) != 0) {
			json_decref(a);
			goto oom;
		}
	}
	pdx_sockets_free(v, n);
	return a;
oom:
	pdx_sockets_free(v, n);
	pdx_set_error("out of memory");
	return NULL;
}

json_t *
pdx_attr_stats_json(const struct pdx_attr_stats *st, size_t n)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "sockets",
	    (json_int_t)n, "attributed", (json_int_t)st->attributed,
	    "permission_denied", (json_int_t)st->permission, "no_process",
	    (json_int_t)st->no_process, "no_inode", (json_int_t)st->no_inode,
	    "unreadable_processes", (json_int_t)st->denied_procs);
}
