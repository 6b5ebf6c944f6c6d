/*
 * scan.c - the TCP connect scan of one host: resolving the host once (and
 * refusing networks and ranges), the descriptor budget, the default port
 * list from the registry's nmap frequencies, the epoll probe loop run by a
 * few worker threads, and the JSON form of a result.  It does not print,
 * draw progress or parse command lines; that is src/cmd-scan.c.
 *
 * The probe loop leans on a Linux property to stay cheap: calling
 * connect() again on a socket whose non-blocking connect is under way
 * reports its outcome (0 connected, ECONNREFUSED refused, EALREADY still
 * pending), and a socket whose attempt was refused goes back to the
 * unconnected state and can connect again.  So a closed port costs two
 * system calls and no socket churn.  A socket in any unexpected state is
 * simply closed and the port tried on a fresh one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"

#define SCAN_MAX_CONCURRENCY 8192 /* sockets in flight, all threads */
#define SCAN_FD_RESERVE 64	  /* descriptors left for the rest */
#define SCAN_MAX_THREADS 4
#define SCAN_SPARES 64		 /* refused sockets kept for reuse */
#define SCAN_STALL_LIMIT_MS 5000 /* no local port for this long: fail */

static const char *const scan_state_names[] = {
	[PDX_SCAN_UNSCANNED] = "",
	[PDX_SCAN_OPEN] = "open",
	[PDX_SCAN_CLOSED] = "closed",
	[PDX_SCAN_FILTERED] = "filtered",
};

const char *
pdx_scan_state_name(int st)
{
	if (st < 0 || st > PDX_SCAN_FILTERED)
		return "";
	return scan_state_names[st];
}

void
pdx_scan_opts_init(struct pdx_scan_opts *o)
{
	memset(o, 0, sizeof *o);
	o->timeout_ms = 1000;
	o->retries = 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the target ------------------------------------------------------ */

/*
 * An IPv4-looking operand with a dash ("10.0.0.1-20") or an octet list is a
 * range; a name may contain dashes, but never only digits, dots and dashes.
 */
static int
looks_like_range(const char *h)
{
	const char *p;
	int dash = 0;

	for (p = h; *p != '\0'; p++) {
		if (*p == '-')
			dash = 1;
		else if (!(*p >= '0' && *p <= '9') && *p != '.')
			return 0;
	}
	return dash;
}

int
pdx_scan_resolve(const char *host, int family, struct pdx_scan_target *t)
{
	struct addrinfo hints, *res = NULL;
	const char *bad;
	const void *a;
	int rc;

	memset(t, 0, sizeof *t);
	if (host == NULL || *host == '\0') {
		pdx_set_error("no host given");
		return -1;
	}
	if (strlen(host) >= sizeof t->host) {
		pdx_set_error("host name too long");
		return -1;
	}
	if (strchr(host, '/') != NULL) {
		pdx_set_error("'%s' is a network: scan takes exactly one host",
		    host);
		return -1;
	}
	if ((bad = strpbrk(host, ",* \t\n")) != NULL ||
	    looks_like_range(host)) {
		pdx_set_error("'%s' is a list or range of hosts: scan takes "
			      "exactly one host",
		    host);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0 || res == NULL) {
		pdx_set_error("cannot resolve '%s': %s", host,
		    rc != 0 ? gai_strerror(rc) : "no address");
		return -1;
	}
	if (res->ai_addrlen > sizeof t->addr ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		pdx_set_error("'%s': unsupported address family", host);
		return -1;
	}
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	strncpy(t->host, host, sizeof t->host - 1);
	if (t->addr.ss_family == AF_INET)
		a = &((struct sockaddr_in *)&t->addr)->sin_addr;
	else
		a = &((struct sockaddr_in6 *)&t->addr)->sin6_addr;
	inet_ntop(t->addr.ss_family, a, t->numeric, sizeof t->numeric);
	return 0;
}

/* ---- descriptor budget and defaults ---------------------------------- */

unsigned
pdx_scan_concurrency(void)
{
	struct rlimit rl;
	rlim_t soft;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 256;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = rl;

		/* An unlimited hard limit still has a kernel ceiling. */
		if (want.rlim_max == RLIM_INFINITY)
			want.rlim_cur = 1 << 20;
		else
			want.rlim_cur = want.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl.rlim_cur = want.rlim_cur;
	}
	soft = rl.rlim_cur;
	if (soft <= SCAN_FD_RESERVE + 16)
		return 16;
	soft -= SCAN_FD_RESERVE;
	return soft > SCAN_MAX_CONCURRENCY ? SCAN_MAX_CONCURRENCY
					   : (unsigned)soft;
}

int
pdx_scan_default_ports(struct pdx_db *db, unsigned limit,
    struct pdx_portset *ps)
{
	sqlite3 *h;
	sqlite3_stmt *st = NULL;
	int n = 0;

	pdx_portset_clear(ps);
	if (db != NULL && (h = pdx_db_handle(db)) != NULL &&
	    sqlite3_prepare_v2(h,
		"SELECT port FROM nmap WHERE proto = ?1"
		" AND port BETWEEN 1 AND 65535 ORDER BY freq DESC, port"
		" LIMIT ?2",
		-1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, PDX_TCP);
		sqlite3_bind_int64(st, 2, limit);
		while (sqlite3_step(st) == SQLITE_ROW) {
			int p = sqlite3_column_int(st, 0);

			pdx_portset_add(ps, (unsigned)p, (unsigned)p);
			n++;
		}
	}
	sqlite3_finalize(st);
	if (n == 0) {
		pdx_portset_clear(ps);
		pdx_portset_add(ps, 1, 1024);
	}
	return n;
}

/* ---- the probe loop -------------------------------------------------- */

struct scan_shared {
	const struct pdx_scan_target *target;
	const struct pdx_scan_opts *opts;
	struct pdx_scan_result *res;
	uint16_t *ports; /* the set, in order */
	unsigned nports;
	unsigned chunk;
	unsigned cap;	    /* in flight per thread */
	atomic_uint cursor; /* next index of ports */
	atomic_uint done;   /* ports with a state */
	atomic_uint issued; /* connects (rate limit) */
	atomic_uint selfconnect;
	atomic_uint retried;
	atomic_int failed; /* a thread gave up */
	double start;
	char error[256]; /* first failure */
	pthread_mutex_t lock;
};

struct slot {
	int fd; /* -1: free */
	uint16_t port;
	uint8_t attempt;
	double deadline;
};

struct worker {
	struct scan_shared *sh;
	int ep;
	struct slot *slots;
	unsigned *freeslots; /* stack of free slot indexes */
	unsigned nfree;
	unsigned inflight;
	uint16_t *retry;       /* ring of ports to try again */
	unsigned rhead, rtail; /* counts, mod 65536 */
	uint8_t *attempts;     /* per port, tries so far */
	uint8_t *again;	       /* per port, odd failures */
	int spares[SCAN_SPARES];
	unsigned nspares;
	unsigned local_end; /* end of the chunk in hand */
	unsigned local_next;
	int cap_now;	 /* lowered on EMFILE */
	double earliest; /* smallest deadline, or 0 */
};

static void
scan_fail(struct scan_shared *sh, const char *what, int err)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->error[0] == '\0')
		snprintf(sh->error, sizeof sh->error, "%s: %s", what,
		    strerror(err));
	pthread_mutex_unlock(&sh->lock);
	atomic_store(&sh->failed, 1);
}

static void
set_state(struct worker *w, unsigned port, int st)
{
	w->sh->res->state[port] = (uint8_t)st;
	atomic_fetch_add_explicit(&w->sh->done, 1, memory_order_relaxed);
}

/* The next port to probe: retries first, then the shared list. */
static int
next_port(struct worker *w)
{
	struct scan_shared *sh = w->sh;

	if (w->rhead != w->rtail)
		return w->retry[w->rhead++ & 0xffff];
	if (w->local_next >= w->local_end) {
		unsigned i = atomic_fetch_add(&sh->cursor, sh->chunk);

		if (i >= sh->nports)
			return -1;
		w->local_next = i;
		w->local_end = i + sh->chunk > sh->nports ? sh->nports
							  : i + sh->chunk;
	}
	return sh->ports[w->local_next++];
}

static int
more_ports(struct worker *w)
{
	return w->rhead != w->rtail || w->local_next < w->local_end ||
	    atomic_load(&w->sh->cursor) < w->sh->nports;
}

static void
requeue(struct worker *w, unsigned port)
{
	w->retry[w->rtail++ & 0xffff] = (uint16_t)port;
}

/*
 * connect() failed in a way that says nothing about the port (a reused
 * socket in an odd state, an unexpected errno): try again on a fresh
 * socket, but not forever.
 */
static void
try_again(struct worker *w, unsigned port)
{
	if (w->again[port]++ < 3)
		requeue(w, port);
	else
		set_state(w, port, PDX_SCAN_FILTERED);
}

/* The socket is connected: is it connected to itself? */
static int
is_self_connect(int fd)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof l, rl = sizeof r;

	if (getsockname(fd, (struct sockaddr *)&l, &ll) != 0 ||
	    getpeername(fd, (struct sockaddr *)&r, &rl) != 0)
		return 0;
	return ll == rl && memcmp(&l, &r, ll) == 0;
}

static void
drop_fd(struct worker *w, int fd, int reusable)
{
	if (reusable && w->nspares < SCAN_SPARES)
		w->spares[w->nspares++] = fd;
	else
		close(fd);
}

static int
new_socket(struct worker *w)
{
	struct linger lg = { 1, 0 };
	int fd;

	if (w->nspares > 0)
		return w->spares[--w->nspares];
	fd = socket(w->sh->target->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -1;
	/* Close with a reset: no TIME_WAIT, no half-open peers. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	return fd;
}

static void
set_port(struct sockaddr_storage *sa, unsigned port)
{
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

enum outcome {
	OUT_PENDING, /* still connecting */
	OUT_DONE,    /* state recorded; fd already disposed of */
	OUT_AGAIN,   /* socket unusable; try the port on a fresh one */
	OUT_NOLOCAL, /* no local address/port free: back off */
};

/*
 * Record the outcome of connect() (rc, errno e) for port on fd.  A refused
 * socket is kept for reuse; everything else is closed.
 */
static enum outcome
classify(struct worker *w, int fd, unsigned port, int rc, int e)
{
	if (rc == 0) {
		if (is_self_connect(fd)) {
			atomic_fetch_add(&w->sh->selfconnect, 1);
			set_state(w, port, PDX_SCAN_CLOSED);
		} else
			set_state(w, port, PDX_SCAN_OPEN);
		close(fd);
		return OUT_DONE;
	}
	switch (e) {
	case EINPROGRESS:
	case EALREADY:
	case EINTR:
		return OUT_PENDING;
	case ECONNREFUSED:
		set_state(w, port, PDX_SCAN_CLOSED);
		drop_fd(w, fd, 1);
		return OUT_DONE;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EACCES:
	case EPERM:
	case ETIMEDOUT:
		/* An ICMP error or a local firewall: nmap says filtered. */
		set_state(w, port, PDX_SCAN_FILTERED);
		close(fd);
		return OUT_DONE;
	case EADDRNOTAVAIL:
	case EAGAIN:
		close(fd);
		return OUT_NOLOCAL;
	default:
		close(fd);
		return OUT_AGAIN;
	}
}

/* Rate limit: may one more connect start now? */
static int
rate_allows(struct scan_shared *sh, double now, double *wait)
{
	unsigned rate = sh->opts->rate, n;
	double allowed;

	if (rate == 0)
		return 1;
	allowed = (now - sh->start) * rate + 1;
	n = atomic_load(&sh->issued);
	while ((double)n < allowed) {
		if (atomic_compare_exchange_weak(&sh->issued, &n, n + 1))
			return 1;
	}
	*wait = ((double)n + 1 - allowed) / rate;
	return 0;
}

/*
 * Start probes until the slots are full, the rate limit says wait, or the
 * ports run out.  Returns seconds to wait before the next start (0 when
 * not limited by rate), or -1 on a fatal error.
 */
static double
fill(struct worker *w, double *stall_since)
{
	struct scan_shared *sh = w->sh;
	struct sockaddr_storage sa = sh->target->addr;
	double now = now_s(), wait = 0;
	int port, fd, rc, e;

	while (w->inflight < (unsigned)w->cap_now && w->nfree > 0) {
		if (!rate_allows(sh, now, &wait))
			return wait;
		if ((port = next_port(w)) < 0)
			return 0;
		if ((fd = new_socket(w)) < 0) {
			e = errno;
			requeue(w, (unsigned)port);
			if ((e == EMFILE || e == ENFILE || e == ENOBUFS ||
				e == ENOMEM) &&
			    w->inflight > 0) {
				w->cap_now = (int)w->inflight;
				return 0;
			}
			scan_fail(sh, "socket", e);
			return -1;
		}
		set_port(&sa, (unsigned)port);
		rc = connect(fd, (struct sockaddr *)&sa, sh->target->addrlen);
		e = rc == 0 ? 0 : errno;
		if (rc != 0 && e == EINPROGRESS) {
			/* Loopback answers at once; ask before using epoll. */
			rc = connect(fd, (struct sockaddr *)&sa,
			    sh->target->addrlen);
			e = rc == 0 ? 0 : errno;
		}
		switch (classify(w, fd, (unsigned)port, rc, e)) {
		case OUT_DONE:
			*stall_since = 0;
			break;
		case OUT_AGAIN:
			try_again(w, (unsigned)port);
			break;
		case OUT_NOLOCAL:
			requeue(w, (unsigned)port);
			if (*stall_since == 0)
				*stall_since = now;
			else if (w->inflight == 0 &&
			    (now - *stall_since) * 1000 > SCAN_STALL_LIMIT_MS) {
				scan_fail(sh, "connect", e);
				return -1;
			}
			return 0.01;
		case OUT_PENDING: {
			struct epoll_event ev;
			unsigned si = w->freeslots[--w->nfree];
			struct slot *s = &w->slots[si];

			s->fd = fd;
			s->port = (uint16_t)port;
			s->attempt = w->attempts[port];
			s->deadline = now + sh->opts->timeout_ms / 1000.0;
			if (w->earliest == 0 || s->deadline < w->earliest)
				w->earliest = s->deadline;
			memset(&ev, 0, sizeof ev);
			ev.events = EPOLLOUT | EPOLLERR | EPOLLHUP;
			ev.data.u32 = si;
			if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
				e = errno;
				close(fd);
				s->fd = -1;
				w->freeslots[w->nfree++] = si;
				scan_fail(sh, "epoll_ctl", e);
				return -1;
			}
			w->inflight++;
			break;
		}
		}
	}
	return 0;
}

static void
release_slot(struct worker *w, unsigned si)
{
	w->slots[si].fd = -1;
	w->freeslots[w->nfree++] = si;
	w->inflight--;
}

/* A watched socket became ready: connect() again tells the outcome. */
static void
settle(struct worker *w, unsigned si)
{
	struct slot *s = &w->slots[si];
	struct sockaddr_storage sa = w->sh->target->addr;
	int fd = s->fd, rc, e;

	if (fd < 0)
		return;
	set_port(&sa, s->port);
	rc = connect(fd, (struct sockaddr *)&sa, w->sh->target->addrlen);
	e = rc == 0 ? 0 : errno;
	if (rc != 0 && (e == EALREADY || e == EINPROGRESS || e == EINTR))
		return; /* spurious wake-up */
	epoll_ctl(w->ep, EPOLL_CTL_DEL, fd, NULL);
	switch (classify(w, fd, s->port, rc, e)) {
	case OUT_AGAIN:
		try_again(w, s->port);
		break;
	case OUT_NOLOCAL:
	case OUT_PENDING:
		requeue(w, s->port);
		break;
	case OUT_DONE:
		break;
	}
	release_slot(w, si);
}

/* Give up on attempts past their deadline: retry once, then filtered. */
static void
expire(struct worker *w, double now)
{
	unsigned si, total = w->sh->cap;
	double earliest = 0;

	for (si = 0; si < total; si++) {
		struct slot *s = &w->slots[si];

		if (s->fd < 0)
			continue;
		if (s->deadline > now) {
			if (earliest == 0 || s->deadline < earliest)
				earliest = s->deadline;
			continue;
		}
		epoll_ctl(w->ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		if (w->attempts[s->port] < w->sh->opts->retries) {
			w->attempts[s->port]++;
			atomic_fetch_add(&w->sh->retried, 1);
			requeue(w, s->port);
		} else
			set_state(w, s->port, PDX_SCAN_FILTERED);
		release_slot(w, si);
	}
	w->earliest = earliest;
}

static void
report_progress(struct scan_shared *sh, double *last, int final)
{
	double now;

	if (sh->opts->progress == NULL)
		return;
	now = now_s();
	if (!final && now - *last < 0.1)
		return;
	*last = now;
	sh->opts->progress(sh->opts->progress_arg, atomic_load(&sh->done),
	    sh->nports);
}

static void
worker_run(struct worker *w, int reports)
{
	struct scan_shared *sh = w->sh;
	struct epoll_event evs[256];
	double last = now_s(), stall = 0, wait, now;
	int n, i, tmo;

	for (;;) {
		if (atomic_load(&sh->failed))
			break;
		if ((wait = fill(w, &stall)) < 0)
			break;
		if (w->inflight == 0 && !more_ports(w))
			break;
		if (reports)
			report_progress(sh, &last, 0);
		now = now_s();
		/* Sleep until the first deadline, a rate slot, or 100 ms. */
		tmo = 100;
		if (w->earliest > 0 && (w->earliest - now) * 1000 < tmo)
			tmo = (int)((w->earliest - now) * 1000) + 1;
		if (wait > 0 && wait * 1000 < tmo)
			tmo = (int)(wait * 1000) + 1;
		if (w->inflight == 0) {
			if (wait > 0 || stall > 0) {
				struct timespec ts = { 0,
					(long)tmo * 1000000L };

				nanosleep(&ts, NULL);
			}
			continue;
		}
		if (tmo < 0)
			tmo = 0;
		n = epoll_wait(w->ep, evs, 256, tmo);
		if (n < 0 && errno != EINTR) {
			scan_fail(sh, "epoll_wait", errno);
			break;
		}
		for (i = 0; i < n; i++)
			settle(w, evs[i].data.u32);
		now = now_s();
		if (w->earliest > 0 && now >= w->earliest)
			expire(w, now);
	}
	if (reports)
		report_progress(sh, &last, 1);
}

static void
worker_free(struct worker *w)
{
	unsigned i;

	if (w->slots != NULL) {
		for (i = 0; i < w->sh->cap; i++)
			if (w->slots[i].fd >= 0)
				close(w->slots[i].fd);
	}
	for (i = 0; i < w->nspares; i++)
		close(w->spares[i]);
	if (w->ep >= 0)
		close(w->ep);
	free(w->slots);
	free(w->freeslots);
	free(w->retry);
	free(w->attempts);
	free(w->again);
}

static int
worker_init(struct worker *w, struct scan_shared *sh)
{
	unsigned i;

	memset(w, 0, sizeof *w);
	w->sh = sh;
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->slots = calloc(sh->cap, sizeof *w->slots);
	w->freeslots = calloc(sh->cap, sizeof *w->freeslots);
	w->retry = calloc(65536, sizeof *w->retry);
	w->attempts = calloc(65536, 1);
	w->again = calloc(65536, 1);
	if (w->ep < 0 || w->slots == NULL || w->freeslots == NULL ||
	    w->retry == NULL || w->attempts == NULL || w->again == NULL) {
		pdx_set_error("cannot set up a scan worker: %s",
		    strerror(errno != 0 ? errno : ENOMEM));
		return -1;
	}
	for (i = 0; i < sh->cap; i++) {
		w->slots[i].fd = -1;
		w->freeslots[i] = sh->cap - 1 - i;
	}
	w->nfree = sh->cap;
	w->cap_now = (int)sh->cap;
	return 0;
}

static void *
worker_thread(void *arg)
{
	worker_run(arg, 0);
	return NULL;
}

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (unsigned)n;
}

int
pdx_scan(const struct pdx_scan_target *t, const struct pdx_portset *set,
    const struct pdx_scan_opts *opts_in, struct pdx_scan_result *res)
{
	struct pdx_scan_opts opts;
	struct scan_shared sh;
	struct worker *ws = NULL;
	pthread_t tids[SCAN_MAX_THREADS];
	unsigned i, nthreads, conc, started = 0;
	int p, rc = -1;

	if (opts_in != NULL)
		opts = *opts_in;
	else
		pdx_scan_opts_init(&opts);
	if (opts.timeout_ms == 0)
		opts.timeout_ms = 1000;
	if (opts.retries > 10)
		opts.retries = 10;
	memset(res, 0, sizeof *res);
	memset(&sh, 0, sizeof sh);
	if (t->addr.ss_family != AF_INET && t->addr.ss_family != AF_INET6) {
		pdx_set_error("scan target has no address");
		return -1;
	}
	if ((sh.ports = malloc(65536 * sizeof *sh.ports)) == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	for (p = pdx_portset_next(set, 0); p >= 0;
	     p = pdx_portset_next(set, p + 1))
		sh.ports[sh.nports++] = (uint16_t)p;

	conc = pdx_scan_concurrency();
	if (opts.concurrency > 0 && opts.concurrency < conc)
		conc = opts.concurrency;
	nthreads = opts.threads > 0 ? opts.threads : online_cpus();
	if (nthreads > SCAN_MAX_THREADS)
		nthreads = SCAN_MAX_THREADS;
	/* A thread per 2048 ports at most: small scans stay on one. */
	if (nthreads > sh.nports / 2048 + 1)
		nthreads = sh.nports / 2048 + 1;
	if (nthreads > conc)
		nthreads = conc;
	sh.target = t;
	sh.opts = &opts;
	sh.res = res;
	sh.cap = conc / nthreads;
	sh.chunk = sh.nports / (nthreads * 32) + 1;
	if (sh.chunk > 256)
		sh.chunk = 256;
	pthread_mutex_init(&sh.lock, NULL);
	sh.start = now_s();

	if ((ws = calloc(nthreads, sizeof *ws)) == NULL) {
		pdx_set_error("out of memory");
		goto out;
	}
	for (i = 0; i < nthreads; i++) {
		if (worker_init(&ws[i], &sh) != 0) {
			nthreads = i + 1;
			goto out;
		}
	}
	for (i = 1; i < nthreads; i++) {
		if (pthread_create(&tids[i], NULL, worker_thread, &ws[i]) != 0)
			break;
		started++;
	}
	/* The calling thread works too, and reports progress. */
	worker_run(&ws[0], 1);
	for (i = 1; i <= started; i++)
		pthread_join(tids[i], NULL);
	if (atomic_load(&sh.failed)) {
		pdx_set_error("scan of %s failed: %s", t->numeric, sh.error);
		goto out;
	}
	res->elapsed = now_s() - sh.start;
	res->nports = sh.nports;
	res->nselfconnect = atomic_load(&sh.selfconnect);
	res->nretried = atomic_load(&sh.retried);
	res->concurrency = sh.cap * nthreads;
	res->threads = nthreads;
	for (i = 0; i < sh.nports; i++) {
		switch (res->state[sh.ports[i]]) {
		case PDX_SCAN_OPEN:
			res->nopen++;
			break;
		case PDX_SCAN_CLOSED:
			res->nclosed++;
			break;
		case PDX_SCAN_FILTERED:
			res->nfiltered++;
			break;
		default:
			pdx_set_error("scan of %s left port %u without a "
				      "state",
			    t->numeric, sh.ports[i]);
			goto out;
		}
	}
	rc = 0;
out:
	if (ws != NULL) {
		for (i = 0; i < nthreads; i++)
			if (ws[i].sh != NULL)
				worker_free(&ws[i]);
	}
	free(ws);
	free(sh.ports);
	pthread_mutex_destroy(&sh.lock);
	return rc;
}

/* ---- JSON ------------------------------------------------------------ */

json_t *
pdx_scan_json(struct pdx_db *db, const struct pdx_scan_target *t,
    const struct pdx_scan_result *res, int all)
{
	json_t *root, *ports, *o;
	struct pdx_brief b;
	unsigned p;

	if ((root = json_object()) == NULL || (ports = json_array()) == NULL) {
		json_decref(root);
		pdx_set_error("out of memory");
		return NULL;
	}
	json_object_set_new(root, "host", json_string(t->host));
	json_object_set_new(root, "address", json_string(t->numeric));
	json_object_set_new(root, "family",
	    json_string(t->addr.ss_family == AF_INET6 ? "ipv6" : "ipv4"));
	json_object_set_new(root, "ports", ports);
	for (p = 0; p < 65536; p++) {
		int st = res->state[p];

		if (st == PDX_SCAN_UNSCANNED || (!all && st != PDX_SCAN_OPEN))
			continue;
		o = json_object();
		json_object_set_new(o, "port", json_integer(p));
		json_object_set_new(o, "proto", json_string("tcp"));
		json_object_set_new(o, "state",
		    json_string(pdx_scan_state_name(st)));
		if (db != NULL && pdx_brief(db, p, PDX_TCP, &b) == 0) {
			json_object_set_new(o, "service", json_string(b.name));
			json_object_set_new(o, "status",
			    json_string(pdx_status_name(b.status)));
			json_object_set_new(o, "risk",
			    json_string(pdx_level_name(b.risk)));
		}
		json_array_append_new(ports, o);
	}
	o = json_object();
	json_object_set_new(o, "scanned", json_integer(res->nports));
	json_object_set_new(o, "open", json_integer(res->nopen));
	json_object_set_new(o, "closed", json_integer(res->nclosed));
	json_object_set_new(o, "filtered", json_integer(res->nfiltered));
	json_object_set_new(o, "self_connects",
	    json_integer(res->nselfconnect));
	json_object_set_new(o, "retried", json_integer(res->nretried));
	json_object_set_new(o, "seconds", json_real(res->elapsed));
	json_object_set_new(o, "concurrency", json_integer(res->concurrency));
	json_object_set_new(o, "threads", json_integer(res->threads));
	json_object_set_new(root, "summary", o);
	return root;
}
