/*
 * sockets-other.c - local sockets on platforms that have no backend yet
 * (macOS libproc, FreeBSD pcblist, Windows GetExtendedTcpTable are still
 * to be written, one file each): every entry point says so clearly.  It is
 * compiled only where __linux__ is not defined, so on Linux it is empty.
 */
#ifndef __linux__

#include <stdlib.h>

#include "portdex.h"
#include "sockets-int.h"

#define UNSUPPORTED \
	"listing local sockets is not supported on this " \
	"platform yet"

static int
none_list(int proto, int family, const struct pdx_sock_filter *f,
    struct pdx_socket **v, size_t *n, size_t *cap)
{
	pdx_set_error(UNSUPPORTED);
	return -1;
}

const struct pdx_sock_backend_ops pdx_backend_none = { PDX_BACKEND_AUTO, "none",
	none_list };

int
pdx_sockets_attribute_at(const char *procdir, struct pdx_socket *v, size_t n,
    struct pdx_attr_stats *st)
{
	pdx_set_error(UNSUPPORTED);
	return -1;
}

int
pdx_sockets_attribute(struct pdx_socket *v, size_t n, struct pdx_attr_stats *st)
{
	pdx_set_error(UNSUPPORTED);
	return -1;
}

int
pdx_proc_net_parse_line(const char *line, size_t len, int family, int proto,
    struct pdx_socket *out)
{
	pdx_set_error(UNSUPPORTED);
	return -1;
}

int
pdx_diag_parse(const void *buf, size_t len, int proto,
    const struct pdx_sock_filter *f, struct pdx_socket **v, size_t *n,
    size_t *cap)
{
	pdx_set_error(UNSUPPORTED);
	return -1;
}

size_t
pdx_diag_port_bytecode(const struct pdx_portset *ps, void *buf, size_t size)
{
	return 0;
}

int
pdx_netns_enter(const char *name)
{
	pdx_set_error("network namespaces are not supported on this platform");
	return -1;
}

int
pdx_netns_leave(int saved)
{
	return -1;
}

int
pdx_netns_list(char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return 0;
}

void
pdx_netns_list_free(char **v, size_t n)
{
}

#endif /* !__linux__ */
