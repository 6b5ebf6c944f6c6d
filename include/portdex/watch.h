/*
 * portdex/watch.h - part of the libportdex API (see portdex.h): following
 * the machine's listeners over time.  The caller lists the sockets once
 * per interval (pdx_sockets_list); pdx_watch_step() compares that listing
 * with the previous one, walks /proc only for the sockets that are new,
 * carries the process of the others over, and reports each socket that
 * appeared or went away exactly once.
 */
#ifndef PORTDEX_WATCH_H
#define PORTDEX_WATCH_H
#include "portdex.h"
#include "portdex/sockets.h"

PDX_API_BEGIN

enum pdx_watch_event {
	PDX_WATCH_APPEARED = 1,
	PDX_WATCH_GONE,
};
/* "appeared", "gone". */
const char *pdx_watch_event_name(int);

/*
 * Called per event with the socket (borrowed for the call; its process
 * fields are those found when it appeared).  Return 0 to go on, non-zero
 * to stop reporting this step's remaining events.
 */
typedef int (*pdx_watch_fn)(int event, const struct pdx_socket *, void *arg);

struct pdx_watch;

/*
 * A watch whose reported sockets must also pass f's process part (pid,
 * process name; f is copied, its strings borrowed for the watch's life).
 * attribute 0 skips the /proc walk (no pids).  NULL on allocation failure.
 */
struct pdx_watch *pdx_watch_new(const struct pdx_sock_filter *f, int attribute);
void pdx_watch_free(struct pdx_watch *);

/*
 * One interval: now (n sockets, taken over: the watch frees them) is the
 * new listing.  The first step only records (no events).  Sockets are the
 * same when namespace, transport, family, address, port and inode are.
 * Returns the number of events reported, or -1 with the error set (now is
 * freed either way).
 */
long pdx_watch_step(struct pdx_watch *, struct pdx_socket *now, size_t n,
    pdx_watch_fn, void *arg);

/* Sockets held now, and /proc walks done so far (for the cost figures). */
size_t pdx_watch_count(const struct pdx_watch *);
unsigned long pdx_watch_walks(const struct pdx_watch *);

PDX_API_END

#endif
