/*
 * audit-accept.c - findings accepted on purpose: --ignore and the
 * audit configuration files (a rule, a port, a transport, a reason).
 */
#define _GNU_SOURCE /* strndup */
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "portdex.h"
#include "db-int.h"
#include "sockets-int.h"
#include "portdex/firewall.h"
#include "portdex/audit.h"
#include "registry-int.h"
#include "audit-int.h"

/* ---- accepting findings ------------------------------------------------ */

int
pdx_audit_accept_add(struct pdx_audit_accepts *as, const char *spec,
    const char *reason_text, const char *origin)
{
	struct pdx_audit_accept a;
	char buf[128], *colon, *slash;
	long long p;

	memset(&a, 0, sizeof a);
	a.port = -1;
	if (strlen(spec) >= sizeof buf || *spec == '\0') {
		pdx_set_error("'%.40s' is not RULE[:PORT[/PROTO]]", spec);
		return -1;
	}
	strcpy(buf, spec);
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon++ = '\0';
		if ((slash = strchr(colon, '/')) != NULL) {
			*slash++ = '\0';
			if ((a.proto = pdx_proto_parse(slash)) == 0) {
				pdx_set_error("'%s': unknown transport '%s'",
				    spec, slash);
				return -1;
			}
		}
		if (pdx_parse_number(colon, 0, 65535, "port", &p) != 0) {
			char e[160];

			snprintf(e, sizeof e, "%s", pdx_last_error());
			pdx_set_error("'%s': %s", spec, e);
			return -1;
		}
		a.port = (int)p;
	}
	if (strcmp(buf, "*") != 0 && !pdx_audit_rule_exists(buf)) {
		pdx_set_error("unknown rule '%s' (portdex audit --rules lists "
			      "them)",
		    buf);
		return -1;
	}
	if (as->n >= PDX_AUDIT_MAX_ACCEPTS) {
		pdx_set_error("more than %d accepted findings",
		    PDX_AUDIT_MAX_ACCEPTS);
		return -1;
	}
	if (as->n == as->cap) {
		size_t ncap = as->cap == 0 ? 16 : as->cap * 2;
		struct pdx_audit_accept *nv = realloc(as->v, ncap * sizeof *nv);

		if (nv == NULL)
			goto oom;
		as->v = nv;
		as->cap = ncap;
	}
	a.rule = strdup(buf);
	a.reason = strdup(reason_text != NULL ? reason_text : "");
	a.origin = strdup(origin != NULL ? origin : "");
	if (a.rule == NULL || a.reason == NULL || a.origin == NULL) {
		free(a.rule);
		free(a.reason);
		free(a.origin);
		goto oom;
	}
	as->v[as->n++] = a;
	return 0;
oom:
	pdx_set_error("out of memory");
	return -1;
}

void
pdx_audit_accepts_free(struct pdx_audit_accepts *as)
{
	size_t i;

	if (as == NULL)
		return;
	for (i = 0; i < as->n; i++) {
		free(as->v[i].rule);
		free(as->v[i].reason);
		free(as->v[i].origin);
	}
	free(as->v);
	memset(as, 0, sizeof *as);
}

#define CONF_MAX (1024 * 1024)
#define CONF_LINE_MAX 1024

/* One line of a config file (NUL-terminated, no newline). */
static int
conf_line(struct pdx_audit_accepts *as, char *line, const char *origin)
{
	char *p = line, *word, *spec, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	end = p + strlen(p);
	while (
	    end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	word = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	if (strcmp(word, "accept") != 0) {
		pdx_set_error("unknown directive '%.40s' (expected 'accept "
			      "RULE[:PORT[/PROTO]] [reason]')",
		    word);
		return -1;
	}
	p += strspn(p, " \t");
	spec = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, " \t");
	if (*spec == '\0') {
		pdx_set_error("'accept' needs RULE[:PORT[/PROTO]]");
		return -1;
	}
	return pdx_audit_accept_add(as, spec, p, origin);
}

int
pdx_audit_config_load(struct pdx_audit_accepts *as, const char *path,
    int optional)
{
	char *buf, *line, *nl, origin[PATH_MAX + 16];
	size_t len, before = as->n;
	unsigned lineno = 0;

	/* EACCES here: a directory we may not search (serve as nobody). */
	if (optional && access(path, F_OK) != 0 &&
	    (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
		return 0;
	if ((buf = pdx_read_file(path, CONF_MAX, &len)) == NULL)
		return -1;
	if (memchr(buf, '\0', len) != NULL) {
		pdx_set_error("%s: a NUL byte: not a text file", path);
		free(buf);
		return -1;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL)
			nl = buf + len;
		*nl = '\0';
		if (strlen(line) > CONF_LINE_MAX) {
			pdx_set_error("%s:%u: line longer than %d bytes", path,
			    lineno, CONF_LINE_MAX);
			goto fail;
		}
		snprintf(origin, sizeof origin, "%s:%u", path, lineno);
		if (conf_line(as, line, origin) != 0) {
			char e[256];

			snprintf(e, sizeof e, "%s", pdx_last_error());
			pdx_set_error("%s:%u: %s", path, lineno, e);
			goto fail;
		}
	}
	free(buf);
	return (int)(as->n - before);
fail:
	free(buf);
	return -1;
}

int
pdx_audit_config_default(struct pdx_audit_accepts *as)
{
	char path[PATH_MAX];
	const char *e;

	if (pdx_audit_config_load(as, "/etc/portdex/audit.conf", 1) < 0)
		return -1;
	if ((e = getenv("XDG_CONFIG_HOME")) != NULL && *e == '/')
		snprintf(path, sizeof path, "%s/portdex/audit.conf", e);
	else if ((e = getenv("HOME")) != NULL && *e == '/')
		snprintf(path, sizeof path, "%s/.config/portdex/audit.conf", e);
	else
		return 0;
	return pdx_audit_config_load(as, path, 1) < 0 ? -1 : 0;
}

const struct pdx_audit_accept *
audit_accepted(const struct pdx_audit_accepts *as, const char *rule,
    unsigned port, int proto)
{
	size_t i;

	for (i = 0; as != NULL && i < as->n; i++) {
		const struct pdx_audit_accept *a = &as->v[i];

		if ((strcmp(a->rule, "*") == 0 || strcmp(a->rule, rule) == 0) &&
		    (a->port < 0 || (unsigned)a->port == port) &&
		    (a->proto == 0 || a->proto == proto))
			return a;
	}
	return NULL;
}
