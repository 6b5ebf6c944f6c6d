/*
 * bench-annotate.c - annotates every tcp and udp port (131,072 lookups) in
 * one process, either with portdex's brief table or with getservbyport(3)
 * over whatever services file the C library reads, and prints the time
 * taken and how many ports got a name.  bench/registry.sh runs both.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portdex.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	static const char *const protos[] = { "tcp", "udp" };
	double t0, t1;
	long named = 0;
	int p, i;

	if (argc < 2) {
		fprintf(stderr,
		    "usage: bench-annotate portdex DB | "
		    "getservbyport\n");
		return 2;
	}
	t0 = now_ms();
	if (strcmp(argv[1], "portdex") == 0 && argc == 3) {
		struct pdx_db *db = pdx_db_open(argv[2]);
		struct pdx_brief b;

		if (db == NULL) {
			fprintf(stderr, "%s\n", pdx_last_error());
			return 2;
		}
		for (p = 0; p < 65536; p++)
			for (i = 0; i < 2; i++)
				if (pdx_brief(db, (unsigned)p,
					i == 0 ? PDX_TCP : PDX_UDP, &b) == 0 &&
				    b.name[0] != '\0')
					named++;
		pdx_db_close(db);
	} else if (strcmp(argv[1], "getservbyport") == 0) {
		setservent(1);
		for (p = 0; p < 65536; p++)
			for (i = 0; i < 2; i++)
				if (getservbyport(htons((uint16_t)p),
					protos[i]) != NULL)
					named++;
		endservent();
	} else {
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	t1 = now_ms();
	printf("%s %.3f ms %ld named\n", argv[1], t1 - t0, named);
	return 0;
}
