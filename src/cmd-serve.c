/*
 * cmd-serve.c - `portdex serve`: options, the setup done while still
 * privileged (opening one registry handle per worker thread and the state
 * database, binding the listening socket), then dropping what is no longer
 * needed before the first request is read: the user (--user, required
 * when started as root), then file access (Landlock) and dangerous system
 * calls (a seccomp filter) where the kernel offers them.  With
 * --web-config the file and the certificates it names are read first
 * and stay readable inside the sandbox (SIGHUP reads them again); without
 * one, --expose-local beyond loopback needs --insecure-expose.  The
 * server itself is serve.c's.
 */
#define _GNU_SOURCE /* O_PATH, strptime, timegm */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#ifdef __linux__
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#endif

#include "serve.h"

extern const struct cmd_entry cmd_serve_entry;

/* ---- the listening socket ----------------------------------------------- */

/*
 * Parses ADDR:PORT, [V6ADDR]:PORT or PORT (numeric only: no DNS) into ss.
 * Returns 0, or -1 with the error.
 */
static int
parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1";
	const char *port = spec, *colon;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	long long p;
	size_t n;

	memset(ss, 0, sizeof *ss);
	if (spec[0] == '[') {
		if ((colon = strstr(spec, "]:")) == NULL ||
		    (n = (size_t)(colon - spec - 1)) >= sizeof host) {
			pdx_set_error("--listen '%s': expected [ADDRESS]:PORT",
			    spec);
			return -1;
		}
		memcpy(host, spec + 1, n);
		host[n] = '\0';
		port = colon + 2;
	} else if ((colon = strrchr(spec, ':')) != NULL) {
		if ((n = (size_t)(colon - spec)) >= sizeof host) {
			pdx_set_error("--listen '%s': address too long", spec);
			return -1;
		}
		memcpy(host, spec, n);
		host[n] = '\0';
		port = colon + 1;
	}
	if (pdx_parse_number(port, 0, 65535, "port", &p) != 0)
		return -1;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		*len = sizeof *in;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof *in6;
		return 0;
	}
	pdx_set_error("--listen '%s': '%s' is not a numeric IPv4 or IPv6 "
		      "address",
	    spec, host);
	return -1;
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const uint8_t *)&(
			   (const struct sockaddr_in *)(const void *)ss)
			       ->sin_addr)[0] == 127;
	return IN6_IS_ADDR_LOOPBACK(
	    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr);
}

/* Binds and listens; fills name with "ADDR:PORT" as bound. */
static int
open_listener(struct sockaddr_storage *ss, socklen_t len, char *name,
    size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int fd, one = 1, zero = 0;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		pdx_set_error("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* "[::]" serves IPv4 too; a specific v6 address cannot anyway. */
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (bind(fd, (struct sockaddr *)ss, len) != 0 || listen(fd, 128) != 0) {
		pdx_set_error("cannot listen on that address: %s",
		    strerror(errno));
		close(fd);
		return -1;
	}
	len = sizeof *ss;
	getsockname(fd, (struct sockaddr *)ss, &len);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
		snprintf(name, size, "%s:%u", a, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
		snprintf(name, size, "[%s]:%u", a, ntohs(in6->sin6_port));
	}
	return fd;
}

/* ---- dropping privileges ------------------------------------------------ */

/*
 * A vote is a write transaction, and the state database's rollback
 * journal is made beside the file: the user serve becomes must be able to
 * create files in that directory (systemd's StateDirectory= gives it one).
 */
static char *dir_of(const char *);

static void
warn_state_dir(const char *state_path, const struct passwd *pw)
{
	char *dir = dir_of(state_path);
	struct stat sb;

	if (dir == NULL || stat(dir, &sb) != 0) {
		free(dir);
		return;
	}
	if (!((sb.st_uid == pw->pw_uid && (sb.st_mode & S_IWUSR)) ||
		(sb.st_gid == pw->pw_gid && (sb.st_mode & S_IWGRP)) ||
		(sb.st_mode & S_IWOTH)))
		fprintf(stderr,
		    "portdex: serve: warning: %s cannot create "
		    "files in %s, so votes cannot be stored (the state "
		    "database's journal is made there): chown %s %s\n",
		    pw->pw_name, dir, pw->pw_name, dir);
	free(dir);
}

/* The directory part of path (a new string), "." when it has none. */
static char *
dir_of(const char *path)
{
	char *copy = strdup(path), *d;

	if (copy == NULL)
		return NULL;
	d = strdup(dirname(copy));
	free(copy);
	return d;
}

static int
drop_user(const struct passwd *pw)
{
	gid_t gid = pw->pw_gid;

	if (setgroups(1, &gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		pdx_set_error("cannot become user %s: %s", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() != pw->pw_uid) {
		pdx_set_error("still able to regain root after dropping to %s",
		    pw->pw_name);
		return -1;
	}
	return 0;
}

#ifdef __linux__
/*
 * Landlock, from the kernel's UAPI (spelled out here so that older
 * headers build; the values are a stable ABI).
 */
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_REFER (1ULL << 13)
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_IOCTL_DEV (1ULL << 15)
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};
struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define LL_WRITE \
	(LL_READ | LL_FS_WRITE_FILE | LL_FS_MAKE_REG | LL_FS_REMOVE_FILE | \
	    LL_FS_TRUNCATE)

static int
ll_allow(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct ll_path_beneath pb;
	struct stat st;
	int rc;

	if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	/* A file takes only file rights. */
	if (fstat(pb.parent_fd, &st) == 0 && !S_ISDIR(st.st_mode))
		access &= LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE |
		    LL_FS_EXECUTE | LL_FS_IOCTL_DEV;
	pb.allowed_access = access & handled;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH,
	    &pb, 0);
	close(pb.parent_fd);
	return rc;
}

/*
 * Confines the process to the files it still needs.  Returns the ABI
 * version applied, 0 when the kernel has no Landlock, -1 on failure.
 */
static int
sandbox_landlock(const char *db_dir, const char *state_dir, int local,
    const struct webcfg *web, char *what, size_t size)
{
	struct ll_ruleset_attr attr;
	size_t attr_size = sizeof attr.handled_access_fs;
	int abi, fd, ok = 1;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;
	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = (1ULL << 13) - 1; /* ABI 1 */
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 4) {
		/* Handled with no rule: no new TCP bind or connect at all. */
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attr_size = sizeof attr;
	}
	if ((fd = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size,
		 0)) < 0)
		return -1;
	ok &= ll_allow(fd, db_dir, LL_READ, attr.handled_access_fs) == 0;
	if (state_dir != NULL)
		ok &= ll_allow(fd, state_dir, LL_WRITE,
			  attr.handled_access_fs) == 0;
	ok &= ll_allow(fd, "/proc/sys/net/ipv4/ip_local_port_range", LL_READ,
		  attr.handled_access_fs) == 0;
	ok &= ll_allow(fd, "/dev/urandom", LL_READ, attr.handled_access_fs) ==
	    0;
	if (web != NULL) {
		/*
		 * SIGHUP reads the web configuration again: its directory and
		 * those of the files it names now stay readable (a reload
		 * may name other files there, not elsewhere).
		 */
		const char *paths[4] = { web->path, web->cert_file,
			web->key_file, web->client_ca_file };
		size_t i;

		for (i = 0; i < 4; i++) {
			char *dir;

			if (paths[i] == NULL)
				continue;
			if ((dir = dir_of(paths[i])) == NULL) {
				ok = 0;
				break;
			}
			ok &= ll_allow(fd, dir, LL_READ,
				  attr.handled_access_fs) == 0;
			free(dir);
		}
	}
#if defined(__SANITIZE_ADDRESS__)
	/* The leak checker reads /proc/self at exit. */
	local = 1;
#endif
	if (local) {
		/* Sockets, processes, user names (and NSS modules). */
		ok &= ll_allow(fd, "/proc", LL_READ, attr.handled_access_fs) ==
		    0;
		ok &= ll_allow(fd, "/etc", LL_READ, attr.handled_access_fs) ==
		    0;
		ok &= ll_allow(fd, "/usr", LL_READ, attr.handled_access_fs) ==
		    0;
	}
	if (!ok || syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	snprintf(what, size, "landlock ABI %d (files%s%s)", abi,
	    abi >= 4 ? ", no new TCP bind/connect" : "",
	    abi >= 6 ? ", signal and abstract-socket scoping" : "");
	return abi;
}

/* System calls a web server never makes: they fail with EPERM. */
/* clang-format off */
static const int denied_syscalls[] = {
	SYS_execve, SYS_execveat, SYS_fork, SYS_vfork,
#if !defined(__SANITIZE_ADDRESS__)
	SYS_ptrace,	/* the leak checker uses it at exit */
#endif
	SYS_process_vm_readv, SYS_process_vm_writev, SYS_mount,
	SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_setuid, SYS_setgid,
	SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid,
	SYS_setgroups, SYS_kexec_load, SYS_init_module, SYS_finit_module,
	SYS_delete_module, SYS_bpf, SYS_perf_event_open, SYS_keyctl,
	SYS_add_key, SYS_request_key, SYS_unshare, SYS_setns,
	SYS_userfaultfd, SYS_personality, SYS_swapon, SYS_swapoff,
	SYS_reboot, SYS_acct, SYS_open_by_handle_at, SYS_name_to_handle_at,
	SYS_fanotify_init, SYS_kcmp,
};
/* clang-format on */

static int
sandbox_seccomp(void)
{
#if defined(__x86_64__)
#define PDX_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PDX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#ifdef PDX_AUDIT_ARCH
	enum { N = sizeof denied_syscalls / sizeof *denied_syscalls };
	struct sock_filter f[N + 8];
	struct sock_fprog prog;
	size_t i, k = 0;

	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    PDX_AUDIT_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* x32 system calls are a second table: refuse them all. */
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    0x40000000, (uint8_t)(N + 1), 0);
#else
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
#endif
	for (i = 0; i < N; i++)
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)denied_syscalls[i], (uint8_t)(N - i), 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	prog.len = (unsigned short)k;
	prog.filter = f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return -1;
	return 1;
#else
	return 0;
#endif
}
#endif /* __linux__ */

/*
 * First half, still as root (the paths may be unreadable to the user we
 * become): no_new_privs and Landlock.  what gets a description.
 */
static int
sandbox_files(struct serve *s, const char *db_path, const char *state_path,
    char *what, size_t size)
{
	char *db_dir, *state_dir = NULL;
	int ll = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		pdx_set_error("prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return -1;
	}
	snprintf(what, size, "no landlock (the kernel has none)");
#ifdef __linux__
	db_dir = dir_of(db_path);
	if (s->state != NULL)
		state_dir = dir_of(state_path);
	if (db_dir == NULL || (s->state != NULL && state_dir == NULL)) {
		free(db_dir);
		pdx_set_error("out of memory");
		return -1;
	}
	ll = sandbox_landlock(db_dir, state_dir, s->expose_local, s->web, what,
	    size);
	free(db_dir);
	free(state_dir);
	if (ll < 0) {
		pdx_set_error("landlock: %s", strerror(errno));
		return -1;
	}
#endif
	return 0;
}

/* Second half, after the user is dropped (it forbids set*id). */
static int
sandbox_syscalls(const char *what, int verbose)
{
	int sc = 0;

#ifdef __linux__
	if ((sc = sandbox_seccomp()) < 0) {
		pdx_set_error("seccomp: %s", strerror(errno));
		return -1;
	}
#endif
	if (verbose)
		fprintf(stderr,
		    "portdex: serve: sandbox: no_new_privs, %s, "
		    "%s\n",
		    what, sc > 0 ? "seccomp filter" : "no seccomp filter");
	return 0;
}

/* ---- setup --------------------------------------------------------------- */

static time_t
parse_utc(const char *iso)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

static int
open_pool(struct serve *s, const char *path, int n)
{
	int i;

	s->pool.n = n;
	s->pool.db = calloc((size_t)n, sizeof *s->pool.db);
	s->pool.busy = calloc((size_t)n, sizeof *s->pool.busy);
	if (s->pool.db == NULL || s->pool.busy == NULL) {
		pdx_set_error("out of memory");
		return -1;
	}
	pthread_mutex_init(&s->pool.mu, NULL);
	pthread_cond_init(&s->pool.cv, NULL);
	for (i = 0; i < n; i++) {
		if ((s->pool.db[i] = pdx_db_open(path)) == NULL)
			return -1;
		/* No temporary files: the sandbox leaves no place for them. */
		(void)pdx_db_no_temp_files(s->pool.db[i]);
	}
	return 0;
}

static void
close_pool(struct serve *s)
{
	int i;

	for (i = 0; i < s->pool.n && s->pool.db != NULL; i++)
		pdx_db_close(s->pool.db[i]);
	free(s->pool.db);
	free(s->pool.busy);
}

static void
registry_facts(struct serve *s, struct pdx_db *db)
{
	long long n = pdx_registry_rows(db);

	if (n >= 0)
		s->registry_rows = n;
	s->registry_built = parse_utc(pdx_db_meta(db, "built"));
}

static int
serve_exec(struct cmd_ctx *ctx, const struct cmd_args *args)
{
	static struct serve srv; /* large: the status counters */
	struct serve *s = &srv;
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *listen_spec = "127.0.0.1:6450", *user = NULL;
	struct passwd *pw = NULL;
	long long v;
	char what[160];
	long ncpu, cache_mb = 64;
	const char *val;
	int k, rc = EXIT_USAGE, insecure = 0;

	memset(s, 0, sizeof *s);
	s->access_log = !ctx->quiet;
	s->listen_fd = -1;
	s->limits = (struct pdx_vote_limits)PDX_VOTE_LIMITS_DEFAULT;
	s->metrics_max_ports = METRICS_MAX_PORTS_DEFAULT;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	s->threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu;
	for (k = 0; k < args->nopt; k++) {
		val = args->opt[k].val;
		switch (args->opt[k].id) {
		case 'w':
			s->web_config = val;
			break;
		case 'I':
			insecure = 1;
			break;
		case 'N':
			s->expose_notes = 1;
			break;
		case 'P':
			if (pdx_parse_number(val, 0, 65536,
				"--metrics-max-"
				"ports",
				&v) != 0) {
				out_error("serve", "%s", pdx_last_error());
				return EXIT_USAGE;
			}
			s->metrics_max_ports = (size_t)v;
			break;
		case 'l':
			listen_spec = val;
			break;
		case 't':
			if (pdx_parse_number(val, 1, 256, "thread count", &v) !=
			    0) {
				out_error("serve", "%s", pdx_last_error());
				return EXIT_USAGE;
			}
			s->threads = (int)v;
			break;
		case 'x':
			s->expose_local = 1;
			break;
		case 'c':
			if (pdx_parse_number(val, 0, 65536,
				"cache size "
				"(MiB)",
				&v) != 0) {
				out_error("serve", "%s", pdx_last_error());
				return EXIT_USAGE;
			}
			cache_mb = (long)v;
			break;
		case 'u':
			user = val;
			break;
		case 'v': {
			/* PER_PORT_S,WINDOW_S,MAX_VOTES */
			char buf[64], *a, *b, *c;
			long long x[3];

			snprintf(buf, sizeof buf, "%s", val);
			a = strtok(buf, ",");
			b = strtok(NULL, ",");
			c = strtok(NULL, ",");
			if (a == NULL || b == NULL || c == NULL ||
			    pdx_parse_number(a, 0, 86400 * 365, "seconds",
				&x[0]) != 0 ||
			    pdx_parse_number(b, 0, 86400 * 365, "seconds",
				&x[1]) != 0 ||
			    pdx_parse_number(c, 0, 1000000, "vote count",
				&x[2]) != 0) {
				out_error("serve",
				    "--vote-limit takes "
				    "PER_PORT_SECONDS,WINDOW_SECONDS,MAX_VOTES "
				    "(%s)",
				    a == NULL || b == NULL || c == NULL
					? "three numbers"
					: pdx_last_error());
				return EXIT_USAGE;
			}
			s->limits.per_port_s = (long)x[0];
			s->limits.window_s = (long)x[1];
			s->limits.max_votes = (long)x[2];
			break;
		}
		}
	}
	if (args_done(&cmd_serve_entry, args) != 0)
		return cmd_usage(&cmd_serve_entry);
	if (parse_listen(listen_spec, &ss, &sslen) != 0) {
		out_error("serve", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (geteuid() == 0 && user == NULL) {
		out_error("serve",
		    "refusing to serve as root: give --user "
		    "NAME to drop to that user once the databases are open and "
		    "the socket is bound");
		return EXIT_USAGE;
	}
	if (user != NULL && geteuid() != 0) {
		out_error("serve", "--user needs root (to switch users)");
		return EXIT_USAGE;
	}
	if (user != NULL &&
	    ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0)) {
		out_error("serve",
		    pw == NULL ? "no user '%s'"
			       : "--user %s is root: give an unprivileged user",
		    user);
		return EXIT_USAGE;
	}
	if (pw != NULL && ctx->state != NULL && !ctx->quiet)
		warn_state_dir(ctx->state_path, pw);
	if (s->expose_local)
		s->expose_notes = 1;
	pthread_rwlock_init(&s->web_mu, NULL);
	if (s->web_config != NULL &&
	    (s->web = webcfg_load(s->web_config)) == NULL) {
		out_error("serve", "--web-config: %s", pdx_last_error());
		return EXIT_USAGE;
	}
	if (!is_loopback(&ss) && (s->expose_local || s->expose_notes) &&
	    (s->web == NULL || !s->web->tls ||
		(s->web->nusers == 0 &&
		    s->web->client_auth != WEBCFG_REQUIRE_AND_VERIFY)) &&
	    !insecure) {
		out_error("serve",
		    "refusing to serve this machine's %s on %s, "
		    "which is not a loopback address, %s: anyone who can reach "
		    "the port would read them%s.  Give --web-config FILE with "
		    "tls_server_config and basic_auth_users, or "
		    "--insecure-expose if the network is trusted",
		    s->expose_local ? "processes, users, listeners and notes"
				    : "notes",
		    listen_spec,
		    s->web == NULL     ? "in clear text and "
					 "without authentication"
			: !s->web->tls ? "in clear text"
				       : "without authentication",
		    s->web == NULL || !s->web->tls ? " or overhear them" : "");
		webcfg_free(s->web);
		return EXIT_USAGE;
	}
	if (!is_loopback(&ss))
		fprintf(stderr,
		    "portdex: serve: warning: --listen %s is not "
		    "a loopback address: anyone who can reach it can %s these"
		    " pages%s\n",
		    listen_spec,
		    s->web != NULL && s->web->nusers > 0 ? "try to read"
							 : "read",
		    s->expose_local ? " and this machine's listening sockets"
				    : "");

	s->db_path = ctx->db_path;
	s->state = ctx->state;
	pthread_mutex_init(&s->state_mu, NULL);
	if (s->state != NULL)
		(void)pdx_state_no_temp_files(s->state);
	if (cache_init(s, (size_t)cache_mb << 20) != 0) {
		out_error("serve", "%s", pdx_last_error());
		goto out;
	}
	if (open_pool(s, ctx->db_path, s->threads + 1) != 0) {
		out_error("serve", "%s", pdx_last_error());
		goto out;
	}
	registry_facts(s, ctx->db);
	if ((s->listen_fd = open_listener(&ss, sslen, s->listen_name,
		 sizeof s->listen_name)) < 0) {
		out_error("serve", "--listen %s: %s", listen_spec,
		    pdx_last_error());
		goto out;
	}
	tzset(); /* the access log's local time, read before sandboxing */
	if (pdx_lazy_load("microhttpd") != 0 ||
	    (s->web_config != NULL && pdx_lazy_load("gnutls") != 0)) {
		out_error("serve", "%s", pdx_last_error());
		return EXIT_USAGE;
	}
#ifdef PDX_LIBM_LAZY
	/* SQLite's math (FTS5's ranking) from libm: loaded while it can be */
	if (pdx_libm_load() != 0) {
		out_error("serve", "libm.so.6 could not be loaded");
		return EXIT_USAGE;
	}
#endif
	if (sandbox_files(s, ctx->db_path, ctx->state_path, what,
		sizeof what) != 0 ||
	    (pw != NULL && drop_user(pw) != 0) ||
	    sandbox_syscalls(what, !ctx->quiet) != 0) {
		out_error("serve", "%s", pdx_last_error());
		goto out;
	}
	if (pw != NULL && !ctx->quiet)
		fprintf(stderr, "portdex: serve: running as %s (uid %ld)\n",
		    pw->pw_name, (long)getuid());
	if (serve_run(s) != 0) {
		out_error("serve", "%s", pdx_last_error());
		goto out;
	}
	rc = EXIT_OK;
out:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	close_pool(s);
	cache_free(s);
	webcfg_free(s->web);
	return rc;
}

static const struct cmd_opt serve_opts[] = {
	{ "listen", 'l', OPT_STR, 'l', "ADDR:PORT",
	    "  -l, --listen ADDR:PORT   where to listen (default "
	    "127.0.0.1:6450)\n",
	    0 },
	{ "threads", 't', OPT_INT, 't', "N",
	    "  -t, --threads N       worker threads\n", 0 },
	{ "expose-local", 'x', OPT_FLAG, 'x', NULL,
	    "  -x, --expose-local    also serve this machine's listeners and "
	    "audit\n",
	    0 },
	{ "user", 'u', OPT_STR, 'u', "NAME",
	    "  -u, --user NAME       drop to this user once the socket is "
	    "bound\n",
	    0 },
	{ "vote-limit", 'v', OPT_STR, 'v', "PER_PORT_S,WINDOW_S,MAX",
	    "  -v, --vote-limit PER_PORT_S,WINDOW_S,MAX   rate of \"helpful\" "
	    "votes\n",
	    0 },
	{ "cache-mb", 'c', OPT_INT, 'c', "N",
	    "  -c, --cache-mb N      answer cache size\n", 0 },
	{ "web-config", 'w', OPT_FILE, 'w', "FILE",
	    "  -w, --web-config FILE  TLS, client certificates, basic auth and "
	    "headers\n"
	    "                        (the Prometheus exporters' web "
	    "configuration file;\n"
	    "                        SIGHUP reads it again)\n",
	    0 },
	{ "insecure-expose", 0, OPT_FLAG, 'I', NULL,
	    "      --insecure-expose  allow --expose-local beyond loopback "
	    "without TLS and\n"
	    "                        basic auth\n",
	    0 },
	{ "expose-notes", 0, OPT_FLAG, 'N', NULL,
	    "      --expose-notes    show your notes in pages and the API "
	    "(implied by\n"
	    "                        --expose-local)\n",
	    0 },
	{ "metrics-max-ports", 0, OPT_INT, 'P', "N",
	    "      --metrics-max-ports N  ports with series of their own in "
	    "/metrics\n"
	    "                        (default 500; the rest count as port "
	    "\"other\")\n",
	    0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0 },
};
static const struct cmd_optgroup serve_group = { "serve", 0, serve_opts };
static const struct cmd_optgroup *const serve_groups[] = { &serve_group, NULL };

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.usage = "[--listen ADDR:PORT] [--threads N] [--expose-local] "
		 "[--user NAME] [--vote-limit PER_PORT_S,WINDOW_S,MAX] "
		 "[--cache-mb N] [--web-config FILE] [--insecure-expose] "
		 "[--expose-notes] [--metrics-max-ports N]",
	.summary = "web pages, a JSON API and Prometheus /metrics for every "
		   "port",
	.flags = CMD_NEEDS_DB | CMD_NEEDS_STATE | CMD_INORDER,
	.exec = serve_exec,
	.groups = serve_groups,
	.min_operands = 0,
	.max_operands = 0,
	.too_many = "",
};
