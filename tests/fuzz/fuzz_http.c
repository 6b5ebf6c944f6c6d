/*
 * fuzz_http.c - libFuzzer harness for `portdex serve`'s request handling,
 * driven the way a stranger drives it: the input is the raw bytes a
 * client sends on one connection (one request or several, pipelined).
 *
 * At start-up the harness builds a small registry with pdx_update (a few
 * IANA rows and the curated data/ files when they are there) and a state
 * database with two notes in a private directory, and sets up the server
 * as cmd-serve.c does (one registry handle, a 1 MiB page cache, votes
 * limited as by default, the access log on, written to /dev/null), then
 * starts libmicrohttpd with serve.c's own handlers (serve_start) without
 * a listening socket.  For each input it hands libmicrohttpd one end of
 * a socket pair as a connection from 127.0.0.1, writes the input into
 * the other end, closes that end for writing, and runs the daemon until
 * it has answered and closed the connection, reading the answer.
 *
 * Checks, besides the sanitizers: the daemon closes the connection and
 * forgets it; a plainly valid first request (valid_first_request) gets
 * an answer; an answer, when there is one, begins with an HTTP/1.x
 * status line and its first status is not 5xx; portdex itself answered
 * no request with a 5xx (the server's per-status counters: with a state
 * database and no --expose-local, no valid or invalid request deserves
 * one); and when portdex answered a whole request, bytes reached the
 * client.
 *
 * Every input starts from the same state: when an input ends, the pages
 * it cached and the votes it cast are dropped.  The live routes
 * (--expose-local) are not fuzzed: they read this machine's sockets,
 * which is neither fast nor repeatable.
 * PDX_FUZZ_HTTP_SHOW=1 copies every answer to stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "fuzz.h"
#include "serve.h"
#include "../../lib/db-int.h"

static const char registry_csv[] =
    "Service Name,Port Number,Transport Protocol,Description,Assignee,"
    "Contact,Registration Date,Modification Date,Reference,Service Code,"
    "Unauthorized Use Reported,Assignment Notes\n"
    ",0,tcp,Reserved,,,,,,,,\n"
    "ssh,22,tcp,The Secure Shell (SSH) Protocol,,,,,[RFC4251],,,\n"
    "ssh,22,udp,The Secure Shell (SSH) Protocol,,,,,[RFC4251],,,\n"
    "sunrpc,111,tcp,SUN Remote Procedure Call,[Someone],[Someone],,,,,,\n"
    "pssc,645,tcp,PSSC,[A_Person],[A_Person],,,,,,\n"
    "pssc,645,udp,PSSC,[A_Person],[A_Person],,,,,,\n"
    ",646,tcp,\"Unassigned\",,,,,,,,\"was something,\n"
    "now free\"\n"
    "x11,6000-6063,tcp,X Window System <x>,,,,,,,,\n"
    "x11,6000-6063,udp,X Window System <x>,,,,,,,,\n"
    "dwr,644,tcp,\"dwr & \"\"co\"\"\",,,,,,,Yes,\n"
    "sctpx,9,sctp,Discard over SCTP,,,,,,,,\n";

static char dir[128];
static struct serve srv; /* large: the status counters */
static struct MHD_Daemon *daemon_;
static FILE *devnull;
static int show; /* PDX_FUZZ_HTTP_SHOW */
static char logbuf[BUFSIZ];

static void
cleanup(void)
{
	if (daemon_ != NULL)
		MHD_stop_daemon(daemon_);
	if (srv.pool.db != NULL && srv.pool.db[0] != NULL)
		pdx_db_close(srv.pool.db[0]);
	cache_free(&srv);
	if (srv.state != NULL)
		pdx_state_close(srv.state);
	if (devnull != NULL)
		fclose(devnull);
	fuzz_rmdir(dir);
}

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_http: %s: %s\n", what, pdx_last_error());
	exit(1);
}

/* The registry and the state database, in dir. */
static void
make_databases(char *db, size_t dbsize, char *st, size_t stsize)
{
	struct pdx_update_opts o;
	char csv[sizeof dir + 16], kdir[4096];
	const char *k = getenv("PDX_FUZZ_KNOWLEDGE");
	json_t *rep;
	FILE *f;

	snprintf(csv, sizeof csv, "%s/iana.csv", dir);
	snprintf(db, dbsize, "%s/registry.db", dir);
	snprintf(st, stsize, "%s/state.db", dir);
	if ((f = fopen(csv, "w")) == NULL ||
	    fwrite(registry_csv, 1, sizeof registry_csv - 1, f) !=
		sizeof registry_csv - 1 ||
	    fclose(f) != 0) {
		perror("fuzz_http: iana.csv");
		exit(1);
	}
	snprintf(kdir, sizeof kdir, "%s", k != NULL ? k : PDX_SRCDIR "/data");
	memset(&o, 0, sizeof o);
	o.db_path = db;
	o.iana = csv;
	o.knowledge_dir = access(kdir, R_OK) == 0 ? kdir : NULL;
	o.no_search = 1;
	if ((rep = pdx_update(&o)) == NULL)
		fail("building the registry");
	json_decref(rep);
	if ((srv.state = pdx_state_open(st)) == NULL)
		fail("state database");
	if (pdx_note_add(srv.state, 645, 0, "our <b>test</b> & \"note\"") !=
		0 ||
	    pdx_note_add(srv.state, 22, PDX_TCP, "jump host, shell") != 0)
		fail("notes");
}

int LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char db[sizeof dir + 16];
	struct serve *s = &srv;
	char st[sizeof dir + 16];
	const char *built;
	sqlite3_stmt *q;

#ifdef FUZZ_HAVE_SQLITE_MALLOC
	fuzz_sqlite_malloc();
#endif
	signal(SIGPIPE, SIG_IGN);
	show = getenv("PDX_FUZZ_HTTP_SHOW") != NULL;
	fuzz_workdir("http", dir, sizeof dir);
	atexit(cleanup);
	if ((devnull = fopen("/dev/null", "w")) == NULL) {
		perror("fuzz_http: /dev/null");
		exit(1);
	}
	/* A buffer of its own, not one malloc'd by the first log line. */
	setvbuf(devnull, logbuf, _IOFBF, sizeof logbuf);
	make_databases(db, sizeof db, st, sizeof st);

	/* What cmd-serve.c sets up, with one thread. */
	s->access_log = 1;
	s->log = devnull;
	s->listen_fd = -1;
	s->threads = 1;
	s->limits = (struct pdx_vote_limits)PDX_VOTE_LIMITS_DEFAULT;
	s->db_path = db;
	pthread_mutex_init(&s->state_mu, NULL);
	if (cache_init(s, (size_t)1 << 20) != 0)
		fail("cache");
	s->pool.n = 1;
	s->pool.db = calloc(1, sizeof *s->pool.db);
	s->pool.busy = calloc(1, sizeof *s->pool.busy);
	if (s->pool.db == NULL || s->pool.busy == NULL)
		fail("out of memory");
	pthread_mutex_init(&s->pool.mu, NULL);
	pthread_cond_init(&s->pool.cv, NULL);
	if ((s->pool.db[0] = pdx_db_open(db)) == NULL)
		fail("registry");
	/* As cmd-serve.c's registry_facts(), with a fixed build time. */
	CHECK(sqlite3_prepare_v2(pdx_db_handle(s->pool.db[0]),
		  "SELECT count(*) FROM iana", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW);
	s->registry_rows = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	built = pdx_db_meta(s->pool.db[0], "built");
	s->registry_built = built != NULL ? 946684800 : 0;
	s->started = time(NULL);
	/* External polling: the harness runs the daemon itself. */
	if ((daemon_ = serve_start(s,
		 MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG)) == NULL) {
		fprintf(stderr, "fuzz_http: cannot start libmicrohttpd\n");
		exit(1);
	}
	return 0;
}

/* What portdex answered, by status (before[] as of the input's start). */
static unsigned long long before[SERVE_NCODES];

static void
show_counts(void)
{
	int code;

	for (code = 0; code < SERVE_NCODES; code++) {
		unsigned long long n = atomic_load(&srv.requests[code]);

		if (n != before[code])
			fprintf(stderr, "[portdex answered %d x%llu]\n", code,
			    n - before[code]);
		before[code] = n;
	}
}

static unsigned long long
count_5xx(void)
{
	unsigned long long n = 0;
	int code;

	for (code = 500; code < 600 && code < SERVE_NCODES; code++)
		n += atomic_load(&srv.requests[code]);
	return n;
}

/*
 * Answers but 413: that one is given while the body still arrives, and
 * a client that hangs up before sending all it announced never gets it.
 */
static unsigned long long
count_answers(void)
{
	unsigned long long n = 0;
	int code;

	for (code = 0; code < SERVE_NCODES; code++)
		if (code != 413)
			n += atomic_load(&srv.requests[code]);
	return n;
}

static unsigned
connections(void)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(daemon_,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return i != NULL ? i->num_connections : 0;
}

/* "HTTP/1.x NNN " at p (n bytes); the status, or -1. */
static int
status_line(const char *p, size_t n)
{
	if (n < 13 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' || p[9] < '1' ||
	    p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
	    p[11] > '9' || p[12] != ' ')
		return -1;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

static int
is_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * Whether the input begins with a request that is plainly valid: METHOD
 * (capitals) SP /TARGET (visible ASCII) SP HTTP/1.0 or HTTP/1.1 CRLF,
 * header lines "name: value" with a token name and a visible value, no
 * body (no Content-Length or Transfer-Encoding), an empty line.  Such a
 * request must get an answer.
 */
static int
valid_first_request(const uint8_t *d, size_t n)
{
	size_t i = 0, j, lines;

	for (j = 0; i < n && d[i] >= 'A' && d[i] <= 'Z'; i++, j++)
		;
	if (j == 0 || j > 10 || i >= n || d[i++] != ' ' || i >= n ||
	    d[i] != '/')
		return 0;
	for (; i < n && d[i] > 0x20 && d[i] < 0x7f; i++)
		;
	if (n - i < 11 ||
	    (memcmp(d + i, " HTTP/1.1\r\n", 11) != 0 &&
		memcmp(d + i, " HTTP/1.0\r\n", 11) != 0))
		return 0;
	for (i += 11, lines = 0; lines < 32; lines++) {
		if (n - i >= 2 && d[i] == '\r' && d[i + 1] == '\n')
			return 1;
		for (j = i; i < n && is_tchar(d[i]); i++)
			;
		if (i == j || i >= n || d[i++] != ':')
			return 0;
		if ((i - j == 15 &&
			strncasecmp((const char *)d + j,
			    "content-length:", 15) == 0) ||
		    (i - j == 18 &&
			strncasecmp((const char *)d + j,
			    "transfer-encoding:", 18) == 0))
			return 0;
		for (; i < n && (d[i] == '\t' || (d[i] >= 0x20 && d[i] < 0x7f));
		     i++)
			;
		if (n - i < 2 || d[i] != '\r' || d[i + 1] != '\n')
			return 0;
		i += 2;
	}
	return 0;
}

/* Empties the page cache. */
static void
empty_cache(void)
{
	cache_free(&srv);
	CHECK(pdx_state_data_version(srv.state) >= 0);
}

/* Votes of the last input are forgotten, so that inputs do not mix. */
static void
forget_votes(void)
{
	pthread_mutex_lock(&srv.state_mu);
	CHECK(sqlite3_exec(pdx_state_handle(srv.state),
		  "DELETE FROM votes; DELETE FROM vote_clients", NULL, NULL,
		  NULL) == SQLITE_OK);
	pthread_mutex_unlock(&srv.state_mu);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer;
	unsigned long long e0 = count_5xx(), a0 = count_answers(), gen;
	char head[64];
	size_t got = 0, off = 0, k;
	int sv[2], fl, eof = 0, sent = 0, status;
	ssize_t n;
	char buf[16384];

	gen = atomic_load(&srv.cache.local_gen);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	memset(&peer, 0, sizeof peer);
	peer.sin_family = AF_INET;
	peer.sin_port = htons(40000);
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(daemon_, sv[0], (const struct sockaddr *)&peer,
		sizeof peer) != MHD_YES) {
		/* MHD closed sv[0]. */
		close(sv[1]);
		fprintf(stderr, "fuzz_http: MHD_add_connection failed\n");
		abort();
	}
	fl = fcntl(sv[1], F_GETFL);
	CHECK(fl != -1 && fcntl(sv[1], F_SETFL, fl | O_NONBLOCK) == 0);

	/*
	 * Write the request while running the daemon (the socket holds a
	 * few hundred KiB; the input is smaller), then close our sending
	 * side and read until the daemon closes the connection.
	 */
	for (k = 0; !eof; k++) {
		CHECK(k < 100000); /* the daemon hangs */
		if (!sent && off < size) {
			n = write(sv[1], data + off, size - off);
			if (n > 0)
				off += (size_t)n;
			else if (n == -1 &&
			    (errno == EPIPE || errno == ECONNRESET))
				sent = 1; /* the daemon hung up first */
			else
				CHECK(n == -1 &&
				    (errno == EAGAIN || errno == EWOULDBLOCK));
		}
		if (!sent && off == size) {
			CHECK(
			    shutdown(sv[1], SHUT_WR) == 0 || errno == ENOTCONN);
			sent = 1;
		}
		MHD_run(daemon_);
		while ((n = read(sv[1], buf, sizeof buf)) > 0) {
			if (got < sizeof head)
				memcpy(head + got, buf,
				    (size_t)n < sizeof head - got
					? (size_t)n
					: sizeof head - got);
			got += (size_t)n;
			if (show)
				fwrite(buf, 1, (size_t)n, stderr);
		}
		if (n == 0)
			eof = 1;
		else
			CHECK(errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ECONNRESET);
		if (n == -1 && errno == ECONNRESET)
			eof = 1;
	}
	close(sv[1]);
	/* The connection is closed; MHD frees it on a later run. */
	for (k = 0; connections() > 0 && k < 100; k++)
		MHD_run(daemon_);
	CHECK(connections() == 0);
	if (show)
		show_counts();

	if (valid_first_request(data, size)) {
		if (show)
			fprintf(stderr, "[a plainly valid first request]\n");
		CHECK(got > 0);
	}
	if (got > 0) {
		status = status_line(head,
		    got < sizeof head ? got : sizeof head);
		CHECK(status >= 100);
		/* 505 is the answer to an HTTP version it does not speak. */
		CHECK(status < 500 || status == 505);
	}
	CHECK(count_5xx() == e0);
	CHECK(count_answers() == a0 || got > 0);
	fuzz_sink += got;
	/*
	 * What this input cached or voted is dropped now, not when the next
	 * one starts: libFuzzer takes memory still held when an input ends
	 * for a leak and runs the input again to look for it.
	 */
	if (atomic_load(&srv.cache.bytes) > 0)
		empty_cache();
	if (atomic_load(&srv.cache.local_gen) != gen)
		forget_votes();
	return 0;
}
