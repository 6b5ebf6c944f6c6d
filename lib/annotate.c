/*
 * annotate.c - the line parsers of `portdex annotate`: given one line of
 * text (bytes and a length, no line end), which ports does it name, over
 * which transport, in which role, and where in the line.  One parser per
 * format, tried in a fixed order by pdx_lineparse(); each says in its
 * comment what it accepts (docs/annotate.md says the same for users).
 * What portdex knows of a port is annotate-db.c's; reading, writing and
 * line ends are the tool's (src/cmd-annotate.c).
 *
 * The parsers read only inside [line, line + len), never need a NUL, never
 * allocate (except jansson for a line that starts with '{'), and keep no
 * pointer into the line.  A port is 0-65535 written with 1-5 digits.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "portdex/annotate.h"

static const char *const role_names[] = {
	"",
	"src",
	"dst",
	"local",
	"peer",
	"scanned",
};

const char *
pdx_port_role_name(int r)
{
	if (r < 0 || r >= (int)(sizeof role_names / sizeof *role_names))
		return "";
	return role_names[r];
}

static const char *const format_names[PDX_LF_COUNT] = {
	"",
	"zeek-header",
	"zeek-tsv",
	"suricata-eve",
	"zeek-json",
	"kernel-log",
	"nmap-grepable",
	"nmap",
	"ss",
	"netstat",
	"lsof",
	"generic",
};

const char *
pdx_line_format_name(int f)
{
	return f >= 0 && f < PDX_LF_COUNT ? format_names[f] : "";
}

void
pdx_lineparser_init(struct pdx_lineparser *ps)
{
	memset(ps, 0, sizeof *ps);
	ps->generic = 1;
	ps->zeek_orig = ps->zeek_resp = ps->zeek_proto = -1;
	ps->zeek_sep = '\t';
}

/* ---- small scanners ------------------------------------------------------ */

/*
 * A port at p (before end): 1-5 digits worth 0-65535, not followed by
 * another digit.  Returns the number of digits, 0 if there is no port.
 */
static size_t
port_at(const char *p, const char *end, unsigned *port)
{
	unsigned v = 0;
	size_t n = 0;

	while (p + n < end && n < 6 && p[n] >= '0' && p[n] <= '9')
		v = v * 10 + (unsigned)(p[n++] - '0');
	if (n == 0 || n > 5 || v > 65535)
		return 0;
	*port = v;
	return n;
}

static void
add_hit(struct pdx_port_hit *hits, int max, int *n, unsigned port, int proto,
    int role, size_t off, size_t len)
{
	if (*n >= max)
		return;
	hits[*n].port = port;
	hits[*n].proto = proto;
	hits[*n].role = role;
	hits[*n].off = off;
	hits[*n].len = len;
	(*n)++;
}

/* The transport named by s[0..n) (any case), 0 if none of ours. */
static int
proto_word(const char *s, size_t n)
{
	static const struct {
		const char *name;
		int proto;
	} words[] = {
		{ "tcp", PDX_TCP },
		{ "tcp6", PDX_TCP },
		{ "udp", PDX_UDP },
		{ "udp6", PDX_UDP },
		/* RFC 3828: UDP-Lite shares UDP's port numbers */
		{ "udplite", PDX_UDP },
		{ "udpl", PDX_UDP },
		{ "udpl6", PDX_UDP },
		{ "sctp", PDX_SCTP },
		{ "sctp6", PDX_SCTP },
		{ "dccp", PDX_DCCP },
	};
	size_t i;

	if (n == 3 && memcmp(s, "TCP", 3) == 0)
		return PDX_TCP;
	if (n == 3 && memcmp(s, "UDP", 3) == 0)
		return PDX_UDP;
	for (i = 0; i < sizeof words / sizeof *words; i++)
		if (strlen(words[i].name) == n &&
		    strncasecmp(words[i].name, s, n) == 0)
			return words[i].proto;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits line into at most max whitespace-separated tokens. */
struct tok {
	const char *p;
	size_t n;
};

static int
tokens(const char *line, size_t len, struct tok *t, int max)
{
	const char *p = line, *end = line + len;
	int n = 0;

	while (n < max) {
		while (p < end && is_space(*p))
			p++;
		if (p == end)
			break;
		t[n].p = p;
		while (p < end && !is_space(*p))
			p++;
		t[n].n = (size_t)(p - t[n].p);
		n++;
	}
	return n;
}

static int
tok_is(const struct tok *t, const char *w)
{
	return t->n == strlen(w) && memcmp(t->p, w, t->n) == 0;
}

static int
tok_number(const struct tok *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!isdigit((unsigned char)t->p[i]))
			return 0;
	return t->n > 0;
}

/*
 * The port of an "ADDR:PORT" socket column (ss, netstat, lsof): the text
 * after the last ':' of t, digits or a service name ("*:ssh").  A '*'
 * port (a peer not yet known) is no hit.  Returns 1 and sets *port, *off
 * and *len, else 0.
 */
static int
sock_port(struct pdx_lineparser *ps, const char *line, const struct tok *t,
    int proto, unsigned *port, size_t *off, size_t *len)
{
	const char *colon = memrchr(t->p, ':', t->n), *q, *end = t->p + t->n;
	char name[64];
	size_t n;
	int v;

	if (colon == NULL || colon + 1 == end)
		return 0;
	q = colon + 1;
	n = (size_t)(end - q);
	if (port_at(q, end, port) == n) {
		*off = (size_t)(q - line);
		*len = n;
		return 1;
	}
	/* a service name in the services(5) alphabet */
	if (ps->resolve == NULL || n >= sizeof name)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)q[i]) && q[i] != '-' &&
		    q[i] != '_' && q[i] != '.' && q[i] != '+')
			return 0;
	if (!isalpha((unsigned char)q[0]))
		return 0;
	memcpy(name, q, n);
	name[n] = '\0';
	if ((v = ps->resolve(name, proto, ps->resolve_arg)) < 0 || v > 65535)
		return 0;
	*port = (unsigned)v;
	*off = (size_t)(q - line);
	*len = n;
	return 1;
}

/* ---- Zeek TSV: the header lines and conn.log (and any id.* log) ---------- */

/*
 * Zeek's ASCII logs open with '#' lines: "#separator \x09" (the column
 * separator, written as a \xNN escape), "#set_separator", "#empty_field",
 * "#unset_field", "#path", "#open", "#fields" (the column names,
 * separated by the separator), "#types", and "#close" at the end.  This
 * parser takes those lines (no ports) and remembers from "#fields" the
 * columns id.orig_p, id.resp_p and proto for parse_zeek_tsv.
 */
static int
parse_zeek_header(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	static const char *const directives[] = {
		"#separator ",
		"#set_separator",
		"#empty_field",
		"#unset_field",
		"#path",
		"#open",
		"#fields",
		"#types",
		"#close",
	};
	const char *p, *end = line + len;
	size_t i, dl = 0;
	int col;

	(void)hits;
	(void)max;
	if (len == 0 || line[0] != '#')
		return -1;
	for (i = 0; i < sizeof directives / sizeof *directives; i++) {
		dl = strlen(directives[i]);
		if (len >= dl && memcmp(line, directives[i], dl) == 0)
			break;
	}
	if (i == sizeof directives / sizeof *directives)
		return -1;
	if (i == 0) {
		/* "#separator \x09": one byte, as a \xNN escape or itself */
		p = line + dl;
		if (end - p == 4 && p[0] == '\\' && p[1] == 'x' &&
		    isxdigit((unsigned char)p[2]) &&
		    isxdigit((unsigned char)p[3])) {
			char hex[3] = { p[2], p[3], '\0' };

			ps->zeek_sep = (char)strtol(hex, NULL, 16);
		} else if (end - p == 1)
			ps->zeek_sep = *p;
		return 0;
	}
	if (strcmp(directives[i], "#fields") != 0)
		return 0;
	ps->zeek_orig = ps->zeek_resp = ps->zeek_proto = -1;
	p = line + dl;
	if (p < end && *p == ps->zeek_sep)
		p++;
	for (col = 0; p <= end && col < 4096; col++) {
		const char *e = memchr(p, ps->zeek_sep, (size_t)(end - p));
		size_t n;

		if (e == NULL)
			e = end;
		n = (size_t)(e - p);
		if (n == 9 && memcmp(p, "id.orig_p", 9) == 0)
			ps->zeek_orig = col;
		else if (n == 9 && memcmp(p, "id.resp_p", 9) == 0)
			ps->zeek_resp = col;
		else if (n == 5 && memcmp(p, "proto", 5) == 0)
			ps->zeek_proto = col;
		if (e == end)
			break;
		p = e + 1;
	}
	return 0;
}

/*
 * A data line of a Zeek TSV log whose "#fields" header named id.orig_p
 * or id.resp_p: the originator's port (src) and the responder's (dst);
 * the transport from the proto column ("tcp", "udp"; for "icmp" Zeek
 * puts the ICMP type and code in the port columns: no port).  A line
 * with too few columns, or a non-number where a port belongs ("-" is
 * Zeek's unset field), is not this format.
 */
static int
parse_zeek_tsv(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	const char *p = line, *end = line + len;
	const char *cp[3] = { NULL, NULL, NULL };
	size_t cn[3] = { 0, 0, 0 };
	int want[3] = { ps->zeek_orig, ps->zeek_resp, ps->zeek_proto };
	int last = -1, col, i, n = 0, proto = 0;
	unsigned port;

	if (ps->zeek_orig < 0 && ps->zeek_resp < 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (want[i] > last)
			last = want[i];
	for (col = 0; col <= last; col++) {
		const char *e = memchr(p, ps->zeek_sep, (size_t)(end - p));

		if (e == NULL) {
			if (col < last)
				return -1;
			e = end;
		}
		for (i = 0; i < 3; i++)
			if (want[i] == col) {
				cp[i] = p;
				cn[i] = (size_t)(e - p);
			}
		if (e == end)
			break;
		p = e + 1;
	}
	for (i = 0; i < 2; i++)
		if (cp[i] != NULL &&
		    (cn[i] == 0 ||
			port_at(cp[i], cp[i] + cn[i], &port) != cn[i]))
			return -1;
	if (cp[2] != NULL) {
		if (cn[2] == 4 && memcmp(cp[2], "icmp", 4) == 0)
			return 0;
		proto = proto_word(cp[2], cn[2]);
	}
	for (i = 0; i < 2; i++)
		if (cp[i] != NULL && port_at(cp[i], cp[i] + cn[i], &port) > 0)
			add_hit(hits, max, &n, port, proto,
			    i == 0 ? PDX_ROLE_SRC : PDX_ROLE_DST,
			    (size_t)(cp[i] - line), cn[i]);
	return n;
}

/* ---- JSON lines: Suricata eve.json and Zeek's JSON logs ------------------ */

/*
 * Where the value of "key" is in the raw line: the digits after the key,
 * its colon and blanks.  jansson does not say where a value was, so the
 * span is found again in the text; when it is not there as plain digits
 * (an escaped key), the span is empty (off 0, len 0).
 */
static void
json_span(const char *line, size_t len, const char *qkey, size_t *off,
    size_t *n)
{
	const char *end = line + len, *p = line;
	size_t kl = strlen(qkey);
	unsigned port;

	*off = *n = 0;
	while ((p = memmem(p, (size_t)(end - p), qkey, kl)) != NULL) {
		const char *q = p + kl;

		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q < end && *q == ':') {
			q++;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if ((*n = port_at(q, end, &port)) > 0) {
				*off = (size_t)(q - line);
				return;
			}
		}
		p += kl;
	}
}

/* 1 if the line starts (after blanks) with '{'. */
static int
json_start(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && is_space(line[i]))
		i++;
	return i < len && line[i] == '{';
}

/* The object of a line that json_start() accepted, or NULL. */
static json_t *
json_line(const char *line, size_t len)
{
	return json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
}

static int
json_port(json_t *o, const char *key, unsigned *port)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (!json_is_integer(v))
		return 0;
	i = json_integer_value(v);
	if (i < 0 || i > 65535)
		return 0;
	*port = (unsigned)i;
	return 1;
}

/* Ports of an object under src_key and dst_key, transport from proto. */
static int
json_hits(json_t *o, const char *line, size_t len, const char *src_key,
    const char *dst_key, const char *qsrc, const char *qdst,
    struct pdx_port_hit *hits, int max)
{
	const char *ps = json_string_value(json_object_get(o, "proto"));
	unsigned port;
	size_t off, n;
	int k = 0, proto = 0;

	if (ps != NULL) {
		if (strncasecmp(ps, "icmp", 4) == 0 ||
		    strcasecmp(ps, "ipv6-icmp") == 0)
			return 0; /* ICMP type and code, not ports */
		proto = proto_word(ps, strlen(ps));
	}
	if (json_port(o, src_key, &port)) {
		json_span(line, len, qsrc, &off, &n);
		add_hit(hits, max, &k, port, proto, PDX_ROLE_SRC, off, n);
	}
	if (json_port(o, dst_key, &port)) {
		json_span(line, len, qdst, &off, &n);
		add_hit(hits, max, &k, port, proto, PDX_ROLE_DST, off, n);
	}
	return k;
}

/*
 * Suricata's EVE JSON: one object per line with the flow's tuple at the
 * top level: "src_port" and "dest_port" (numbers) and "proto" ("TCP",
 * "UDP", "SCTP"; ICMP events carry icmp_type/icmp_code instead).  Parsed
 * with jansson, only for a line that starts with '{' and names one of
 * the two keys; an object without either (a "stats" event) is not this
 * format.
 */
static int
parse_suricata(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	json_t *o;
	int n;

	(void)ps;
	if (!json_start(line, len))
		return -1;
	if (memmem(line, len, "\"src_port\"", 10) == NULL &&
	    memmem(line, len, "\"dest_port\"", 11) == NULL)
		return -1;
	if ((o = json_line(line, len)) == NULL)
		return -1;
	if (!json_is_object(o) ||
	    (json_object_get(o, "src_port") == NULL &&
		json_object_get(o, "dest_port") == NULL)) {
		json_decref(o);
		return -1;
	}
	n = json_hits(o, line, len, "src_port", "dest_port", "\"src_port\"",
	    "\"dest_port\"", hits, max);
	json_decref(o);
	return n;
}

/*
 * Zeek's JSON logs (LogAscii::use_json): one object per line whose
 * conn_id is flattened into "id.orig_h", "id.orig_p", "id.resp_h",
 * "id.resp_p", with "proto" ("tcp", "udp", "icmp") in conn.log.
 */
static int
parse_zeek_json(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	json_t *o;
	int n;

	(void)ps;
	if (!json_start(line, len))
		return -1;
	if (memmem(line, len, "\"id.orig_p\"", 11) == NULL &&
	    memmem(line, len, "\"id.resp_p\"", 11) == NULL)
		return -1;
	if ((o = json_line(line, len)) == NULL)
		return -1;
	if (!json_is_object(o) ||
	    (json_object_get(o, "id.orig_p") == NULL &&
		json_object_get(o, "id.resp_p") == NULL)) {
		json_decref(o);
		return -1;
	}
	n = json_hits(o, line, len, "id.orig_p", "id.resp_p", "\"id.orig_p\"",
	    "\"id.resp_p\"", hits, max);
	json_decref(o);
	return n;
}

/* ---- kernel LOG lines ---------------------------------------------------- */

/* 1 if the word key (klen bytes) ends just before eq and starts a word. */
static int
key_before(const char *line, const char *eq, const char *key, size_t klen)
{
	const char *k = eq - klen;

	return (size_t)(eq - line) >= klen && memcmp(k, key, klen) == 0 &&
	    (k == line || k[-1] == ' ');
}

/*
 * The packet lines the kernel logs for iptables' and nftables' LOG
 * target (nf_log_syslog: "IN=eth0 OUT= MAC=... SRC=... DST=... LEN=...
 * PROTO=TCP SPT=51234 DPT=22 WINDOW=..."), with whatever comes before
 * them: a syslog or journald preamble ("Dec  4 18:00:00 host kernel:
 * [ 1234.5678] "), ufw's "[UFW BLOCK] ", firewalld's "filter_IN_public_
 * REJECT: " or "FINAL_REJECT: ", any --log-prefix.  A line is this
 * format when it has the words IN= and then PROTO=; SPT= after PROTO= is
 * the source port and DPT= the destination.  An ICMP packet (PROTO=ICMP,
 * ICMPv6 or a number) has no ports: the ports of the packet an ICMP
 * error quotes in brackets are not reported.  One pass over the '='
 * signs of the line: this parser sees a million lines a second.
 */
static int
parse_kernel(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	const char *end = line + len, *p = line, *eq, *spt = NULL, *dpt = NULL;
	unsigned sport = 0, dport = 0;
	size_t sn = 0, dn = 0, pl;
	int n = 0, proto = -1, in = 0;

	(void)ps;
	while ((eq = memchr(p, '=', (size_t)(end - p))) != NULL) {
		p = eq + 1;
		if (!in) {
			in = key_before(line, eq, "IN", 2);
			continue;
		}
		if (proto < 0) {
			if (!key_before(line, eq, "PROTO", 5))
				continue;
			for (pl = 0; p + pl < end && p[pl] != ' '; pl++)
				;
			if ((proto = proto_word(p, pl)) == 0)
				return 0; /* ICMP: no ports */
			continue;
		}
		if (spt == NULL && key_before(line, eq, "SPT", 3)) {
			spt = p;
			sn = port_at(p, end, &sport);
		} else if (key_before(line, eq, "DPT", 3)) {
			dpt = p;
			dn = port_at(p, end, &dport);
			break;
		}
	}
	if (proto < 0)
		return -1;
	if (spt != NULL && sn > 0)
		add_hit(hits, max, &n, sport, proto, PDX_ROLE_SRC,
		    (size_t)(spt - line), sn);
	if (dpt != NULL && dn > 0)
		add_hit(hits, max, &n, dport, proto, PDX_ROLE_DST,
		    (size_t)(dpt - line), dn);
	return n;
}

/* ---- nmap ---------------------------------------------------------------- */

/*
 * nmap's grepable output (-oG): "Host: 192.0.2.1 (name)<TAB>Ports: "
 * then entries "PORT/STATE/PROTOCOL/OWNER/SERVICE/RPC/VERSION/" joined by
 * ", ", up to the next tab ("Ignored State: ...").  Every entry is a
 * port, whatever its state.  A "Host:" line without "Ports:" (the
 * "Status: Up" line) is this format with no port.
 */
static int
parse_nmap_grep(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	const char *end = line + len, *p, *stop;
	unsigned port;
	int n = 0;

	(void)ps;
	if (len < 6 || memcmp(line, "Host: ", 6) != 0)
		return -1;
	if ((p = memmem(line, len, "Ports: ", 7)) == NULL)
		return 0;
	p += 7;
	stop = memchr(p, '\t', (size_t)(end - p));
	if (stop == NULL)
		stop = end;
	while (p < stop) {
		const char *s, *pr, *e;
		size_t dn;

		while (p < stop && *p == ' ')
			p++;
		dn = port_at(p, stop, &port);
		/* PORT/STATE/PROTO/ */
		if (dn > 0 && p + dn < stop && p[dn] == '/' &&
		    (s = memchr(p + dn + 1, '/',
			 (size_t)(stop - p - dn - 1))) != NULL) {
			pr = s + 1;
			e = memchr(pr, '/', (size_t)(stop - pr));
			if (e != NULL)
				add_hit(hits, max, &n, port,
				    proto_word(pr, (size_t)(e - pr)),
				    PDX_ROLE_SCANNED, (size_t)(p - line), dn);
		}
		/* the next entry: after ", " */
		if ((e = memmem(p, (size_t)(stop - p), ", ", 2)) == NULL)
			break;
		p = e + 2;
	}
	return n;
}

static int
nmap_state(const char *s, size_t n)
{
	static const char *const states[] = {
		"open",
		"closed",
		"filtered",
		"unfiltered",
		"open|filtered",
		"closed|filtered",
	};
	size_t i;

	for (i = 0; i < sizeof states / sizeof *states; i++)
		if (strlen(states[i]) == n && memcmp(states[i], s, n) == 0)
			return 1;
	return 0;
}

/*
 * nmap's normal output (-oN, and what it prints on a terminal): the port
 * table's rows "22/tcp   open  ssh  OpenSSH 9.2p1", a port/transport
 * pair at the start of the line followed by a state (open, closed,
 * filtered, unfiltered, open|filtered, closed|filtered); and the verbose
 * "Discovered open port 22/tcp on 192.0.2.1".
 */
static int
parse_nmap(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	static const char disc[] = "Discovered open port ";
	const char *end = line + len, *p = line, *slash;
	struct tok t[2];
	unsigned port;
	size_t dn, pl;
	int n = 0, proto, verbose = 0;

	(void)ps;
	if (len > sizeof disc - 1 && memcmp(line, disc, sizeof disc - 1) == 0) {
		p = line + sizeof disc - 1;
		verbose = 1;
	}
	if ((dn = port_at(p, end, &port)) == 0 || p + dn >= end || p[dn] != '/')
		return -1;
	slash = p + dn + 1;
	for (pl = 0; slash + pl < end && !is_space(slash[pl]); pl++)
		;
	if ((proto = proto_word(slash, pl)) == 0)
		return -1;
	if (!verbose &&
	    (tokens(slash + pl, (size_t)(end - slash - pl), t, 1) != 1 ||
		!nmap_state(t[0].p, t[0].n)))
		return -1;
	add_hit(hits, max, &n, port, proto, PDX_ROLE_SCANNED,
	    (size_t)(p - line), dn);
	return n;
}

/* ---- socket listings: ss, netstat, lsof ---------------------------------- */

/* ss's state names (ss -t without -n shows the same). */
static int
ss_state(const struct tok *t)
{
	static const char *const states[] = {
		"LISTEN",
		"ESTAB",
		"UNCONN",
		"TIME-WAIT",
		"SYN-SENT",
		"SYN-RECV",
		"FIN-WAIT-1",
		"FIN-WAIT-2",
		"CLOSE-WAIT",
		"LAST-ACK",
		"CLOSING",
		"CLOSED",
	};
	size_t i;

	for (i = 0; i < sizeof states / sizeof *states; i++)
		if (tok_is(t, states[i]))
			return (int)i + 1;
	return 0;
}

/*
 * ss's socket table: "[Netid] State Recv-Q Send-Q Local-Address:Port
 * Peer-Address:Port [Process]", for example "tcp LISTEN 0 128
 * 0.0.0.0:22 0.0.0.0:* users:((...))" or, with -t/-u and no Netid
 * column, "LISTEN 0 4096 [::]:22 [::]:*".  The port is what follows the
 * last ':' of a column: digits, or a service name without -n; "*" is no
 * port.  Without a Netid column the transport is udp for UNCONN and tcp
 * for the other states.
 */
static int
parse_ss(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	struct tok t[6];
	int nt = tokens(line, len, t, 6), i0, n = 0, proto, st, i;
	unsigned port;
	size_t off, pl;

	if (nt < 5)
		return -1;
	if ((st = ss_state(&t[0])) != 0) {
		i0 = 1;
		proto = tok_is(&t[0], "UNCONN") ? PDX_UDP : PDX_TCP;
	} else if (nt >= 6 && (st = ss_state(&t[1])) != 0) {
		i0 = 2;
		proto = proto_word(t[0].p, t[0].n);
		if (proto == 0 && !tok_is(&t[0], "raw") &&
		    !tok_is(&t[0], "mptcp"))
			return -1;
		if (tok_is(&t[0], "mptcp"))
			proto = PDX_TCP;
	} else
		return -1;
	if (!tok_number(&t[i0]) || !tok_number(&t[i0 + 1]) || nt < i0 + 4)
		return -1;
	if (proto == 0) /* raw sockets: the "port" is a protocol */
		return 0;
	for (i = 0; i < 2; i++)
		if (sock_port(ps, line, &t[i0 + 2 + i], proto, &port, &off,
			&pl))
			add_hit(hits, max, &n, port, proto,
			    i == 0 ? PDX_ROLE_LOCAL : PDX_ROLE_PEER, off, pl);
	return n;
}

/*
 * netstat's internet socket table (netstat -tulpn, -a, -n or not):
 * "Proto Recv-Q Send-Q Local-Address Foreign-Address [State]
 * [PID/Program]", Proto being tcp, tcp6, udp, udp6, udpl, udpl6, sctp or
 * raw; addresses "0.0.0.0:22", ":::22", "localhost:domain" (names without
 * -n).  raw sockets have no ports.
 */
static int
parse_netstat(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	struct tok t[5];
	int nt = tokens(line, len, t, 5), n = 0, proto, i;
	unsigned port;
	size_t off, pl;

	if (nt < 5 || !tok_number(&t[1]) || !tok_number(&t[2]))
		return -1;
	proto = proto_word(t[0].p, t[0].n);
	if (proto == 0)
		return tok_is(&t[0], "raw") || tok_is(&t[0], "raw6") ? 0 : -1;
	for (i = 0; i < 2; i++)
		if (sock_port(ps, line, &t[3 + i], proto, &port, &off, &pl))
			add_hit(hits, max, &n, port, proto,
			    i == 0 ? PDX_ROLE_LOCAL : PDX_ROLE_PEER, off, pl);
	return n;
}

/*
 * lsof -i: "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME", TYPE
 * being IPv4 or IPv6, NODE the transport (TCP, UDP, SCTP) and NAME
 * "ADDR:PORT" or "LOCAL->REMOTE", followed by "(LISTEN)" or another TCP
 * state; ports are digits with -P and service names without ("*:ssh",
 * "localhost:ipp").
 */
static int
parse_lsof(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	struct tok t[12], side;
	int nt = tokens(line, len, t, 12), i, n = 0, proto = 0;
	const char *arrow;
	unsigned port;
	size_t off, pl;

	for (i = 1; i + 3 < nt; i++)
		if (tok_is(&t[i], "IPv4") || tok_is(&t[i], "IPv6"))
			break;
	if (i + 3 >= nt)
		return -1;
	/* TYPE DEVICE SIZE/OFF NODE NAME; SIZE/OFF may be empty */
	for (i = i + 2; i < nt - 1 && i <= 12; i++)
		if ((proto = proto_word(t[i].p, t[i].n)) != 0 &&
		    t[i].p[0] >= 'A' && t[i].p[0] <= 'Z')
			break;
	if (i >= nt - 1)
		return -1;
	side = t[i + 1];
	arrow = memmem(side.p, side.n, "->", 2);
	if (arrow != NULL)
		side.n = (size_t)(arrow - side.p);
	if (sock_port(ps, line, &side, proto, &port, &off, &pl))
		add_hit(hits, max, &n, port, proto, PDX_ROLE_LOCAL, off, pl);
	if (arrow != NULL) {
		side.p = arrow + 2;
		side.n = (size_t)(t[i + 1].p + t[i + 1].n - side.p);
		if (sock_port(ps, line, &side, proto, &port, &off, &pl))
			add_hit(hits, max, &n, port, proto, PDX_ROLE_PEER, off,
			    pl);
	}
	return n;
}

/* ---- the generic fallback ------------------------------------------------ */

/* A dotted quad ends at p (exclusive), starting at or after line. */
static int
ipv4_before(const char *line, const char *p)
{
	int dots = 0, digits = 0;

	while (p > line && (isdigit((unsigned char)p[-1]) || p[-1] == '.')) {
		p--;
		if (*p == '.') {
			if (digits == 0 || digits > 3)
				return 0;
			dots++;
			digits = 0;
		} else
			digits++;
	}
	if (p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
		return 0;
	return dots == 3 && digits >= 1 && digits <= 3;
}

static int
word_before(const char *line, const char *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(p - line) < n || strncasecmp(p - n, w, n) != 0)
		return 0;
	p -= n;
	return p == line || !isalnum((unsigned char)p[-1]);
}

/*
 * The fallback for any other line: "192.0.2.1:8080", "[2001:db8::1]:443",
 * "localhost:5432" and "*:22" (transport unknown); "8080/tcp", "53/udp";
 * the word "port" (any case) followed by an optional '=', ':' or '#' and
 * a number ("port 22", "Port=8443", "\"port\": 5432").  The number must
 * end there (not followed by a letter, digit, '.' or ':').  Off with
 * --no-generic.
 */
static int
parse_generic(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max)
{
	const char *end = line + len, *p;
	unsigned port;
	size_t dn, i;
	int n = 0;

	if (!ps->generic)
		return -1;
	for (i = 0; i < len && n < max; i++) {
		const char *d = NULL;
		int proto = 0;

		p = line + i;
		if (*p == ':' && p > line &&
		    (ipv4_before(line, p) || p[-1] == ']' ||
			word_before(line, p, "localhost") ||
			(p[-1] == '*' && (p - 1 == line || is_space(p[-2])))))
			d = p + 1;
		else if ((*p == 'p' || *p == 'P') && end - p > 4 &&
		    strncasecmp(p, "port", 4) == 0 &&
		    (p == line || !isalnum((unsigned char)p[-1]))) {
			const char *q = p + 4;

			if (q < end && *q == '"')
				q++;
			while (q < end && *q == ' ')
				q++;
			if (q < end && (*q == '=' || *q == ':' || *q == '#'))
				q++;
			while (q < end && *q == ' ')
				q++;
			if (q > p + 4)
				d = q;
		} else if (isdigit((unsigned char)*p) &&
		    (p == line || !isalnum((unsigned char)p[-1])) &&
		    (dn = port_at(p, end, &port)) > 0 && p + dn + 4 <= end &&
		    p[dn] == '/' && (proto = proto_word(p + dn + 1, 3)) != 0 &&
		    (p + dn + 4 == end || !isalnum((unsigned char)p[dn + 4]))) {
			add_hit(hits, max, &n, port, proto, PDX_ROLE_NONE,
			    (size_t)(p - line), dn);
			i += dn + 3;
			continue;
		}
		if (d == NULL || (dn = port_at(d, end, &port)) == 0)
			continue;
		if (d + dn < end &&
		    (isalnum((unsigned char)d[dn]) || d[dn] == '.' ||
			d[dn] == ':'))
			continue;
		add_hit(hits, max, &n, port, 0, PDX_ROLE_NONE,
		    (size_t)(d - line), dn);
		i = (size_t)(d - line) + dn - 1;
	}
	return n > 0 ? n : -1;
}

/* ---- dispatch ------------------------------------------------------------ */

static const pdx_line_parser_fn parsers[PDX_LF_COUNT] = {
	[PDX_LF_ZEEK_HEADER] = parse_zeek_header,
	[PDX_LF_ZEEK_TSV] = parse_zeek_tsv,
	[PDX_LF_SURICATA] = parse_suricata,
	[PDX_LF_ZEEK_JSON] = parse_zeek_json,
	[PDX_LF_KERNEL] = parse_kernel,
	[PDX_LF_NMAP_GREP] = parse_nmap_grep,
	[PDX_LF_NMAP] = parse_nmap,
	[PDX_LF_SS] = parse_ss,
	[PDX_LF_NETSTAT] = parse_netstat,
	[PDX_LF_LSOF] = parse_lsof,
	[PDX_LF_GENERIC] = parse_generic,
};

pdx_line_parser_fn
pdx_line_parser(int format)
{
	return format > PDX_LF_NONE && format < PDX_LF_COUNT ? parsers[format]
							     : NULL;
}

int
pdx_lineparse(struct pdx_lineparser *ps, const char *line, size_t len,
    struct pdx_port_hit *hits, int max, int *format)
{
	int f, n;

	*format = PDX_LF_NONE;
	if (max < 0)
		max = 0;
	for (f = PDX_LF_NONE + 1; f < PDX_LF_COUNT; f++)
		if ((n = parsers[f](ps, line, len, hits, max)) >= 0) {
			*format = f;
			return n;
		}
	return 0;
}
