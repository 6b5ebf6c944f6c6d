/*
 * bench-run - times commands against each other, interleaved.
 *
 *   bench-run [-r RUNS] [-w WARMUP] -- [VAR=VALUE...] CMD [ARG...]
 *       [';' [%N] [VAR=VALUE...] CMD [ARG...]]...
 *
 * Runs the commands in rounds (A B C, A B C, ...), so that a change in
 * the machine's load during the run hits every command alike, with
 * stdout and stderr on /dev/null.  A command preceded by %N runs in the
 * first N rounds only (for tools that take seconds); VAR=VALUE words before
 * a command go into its environment only.  For each command it
 * prints one tab-separated line:
 *
 *   median-wall-ms  median-cpu-ms  min-wall-ms  runs  failed  command
 *
 * wall is fork to reap, measured with CLOCK_MONOTONIC; cpu is the
 * child's user + system time from wait4().  Exit status 1 if a command
 * could not be run at all; a command exiting non-zero is counted in
 * "failed" (grep -q exits 1 on no match, and that is still a timing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cmd {
	char **argv;
	int limit; /* rounds it takes part in, 0: all */
	double *wall, *cpu;
	int n, failed;
};

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	if (n == 0)
		return 0;
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs c once; 0, or -1 if it could not be started. */
static int
run(struct cmd *c, int record)
{
	struct rusage ru;
	double t0, t1;
	pid_t pid;
	int status, fd;

	t0 = now_ms();
	if ((pid = fork()) < 0) {
		perror("bench-run: fork");
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		while (strchr(c->argv[0], '=') != NULL && c->argv[1] != NULL) {
			if (putenv(c->argv[0]) != 0)
				_exit(127);
			c->argv++;
		}
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("bench-run: wait4");
		return -1;
	}
	t1 = now_ms();
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		fprintf(stderr, "bench-run: cannot run %s\n", c->argv[0]);
		return -1;
	}
	if (!record)
		return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		c->failed++;
	c->wall[c->n] = t1 - t0;
	c->cpu[c->n] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	c->n++;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cmd *cmds;
	int runs = 21, warm = 2, ncmd = 0, i, r, opt;

	while ((opt = getopt(argc, argv, "r:w:")) != -1) {
		switch (opt) {
		case 'r':
			runs = atoi(optarg);
			break;
		case 'w':
			warm = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind >= argc || runs < 1 || runs > 100000 || warm < 0)
		goto usage;
	if ((cmds = calloc((size_t)argc, sizeof *cmds)) == NULL)
		return 1;
	/* split argv[optind..] at ";" into commands */
	for (i = optind; i < argc; i++) {
		struct cmd *c = &cmds[ncmd];

		/* a command's first word may be %N (the ";" is NULL now) */
		if (argv[i][0] == '%' && c->argv == NULL && c->limit == 0) {
			c->limit = atoi(argv[i] + 1);
			continue;
		}
		c->argv = &argv[i];
		while (i < argc && strcmp(argv[i], ";") != 0)
			i++;
		if (i < argc)
			argv[i] = NULL;
		c->wall = calloc((size_t)runs, sizeof(double));
		c->cpu = calloc((size_t)runs, sizeof(double));
		if (c->wall == NULL || c->cpu == NULL)
			return 1;
		ncmd++;
	}
	if (ncmd == 0)
		goto usage;
	for (r = 0; r < warm; r++)
		for (i = 0; i < ncmd; i++)
			if (run(&cmds[i], 0) != 0)
				return 1;
	for (r = 0; r < runs; r++)
		for (i = 0; i < ncmd; i++) {
			if (cmds[i].limit > 0 && r >= cmds[i].limit)
				continue;
			if (run(&cmds[i], 1) != 0)
				return 1;
		}
	for (i = 0; i < ncmd; i++) {
		struct cmd *c = &cmds[i];
		double mw = median(c->wall, c->n); /* sorts wall */
		char **a;

		printf("%.3f\t%.3f\t%.3f\t%d\t%d\t", mw, median(c->cpu, c->n),
		    c->n > 0 ? c->wall[0] : 0, c->n, c->failed);
		for (a = c->argv; *a != NULL; a++)
			printf("%s%s", a == c->argv ? "" : " ", *a);
		putchar('\n');
	}
	return 0;
usage:
	fprintf(stderr,
	    "usage: bench-run [-r RUNS] [-w WARMUP] -- [VAR=VALUE...]"
	    " CMD [ARG...] [';' [%%N] [VAR=VALUE...] CMD [ARG...]]...\n");
	return 2;
}
