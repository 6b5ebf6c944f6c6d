/*
 * card-extra.c - completes a card with what the registry cannot know: the
 * user's notes (state database) and the live "on this machine" section
 * (sockets backend).  Shared by `show` and `serve` so both print the same
 * model.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void
card_add_notes(struct pdx_state *st, json_t *card)
{
	json_t *notes;
	int port = (int)json_integer_value(json_object_get(card, "port"));

	if (st == NULL)
		return;
	if ((notes = pdx_notes(st, port, NULL)) == NULL)
		return;
	json_object_set_new(card, "notes", notes);
}

static const char *
js(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "";
}

/* One aligned text line for a socket of the card's live section. */
static void
socket_line(json_t *s)
{
	json_t *local = json_object_get(s, "local");
	char addr[96], who[256], line[512];
	const char *a = js(local, "address");
	const char *reach = json_is_true(json_object_get(s,
	    "all_interfaces")) ? (json_is_true(json_object_get(s,
	    "serves_ipv4")) && strchr(a, ':') != NULL ?
	    "all interfaces, IPv4 too" : "all interfaces") : "";

	snprintf(addr, sizeof addr, strchr(a, ':') != NULL ? "[%s]:%lld" :
	    "%s:%lld", a, (long long)json_integer_value(json_object_get(local,
	    "port")));
	if (json_is_integer(json_object_get(s, "pid")))
		snprintf(who, sizeof who, "pid %lld %s (%s)%s%s",
		    (long long)json_integer_value(json_object_get(s, "pid")),
		    js(s, "process"), js(s, "user"),
		    *js(s, "unit") != '\0' ? " " : "", js(s, "unit"));
	else
		snprintf(who, sizeof who, "uid %lld (%s), process not visible",
		    (long long)json_integer_value(json_object_get(s, "uid")),
		    js(s, "user"));
	snprintf(line, sizeof line, "%-4s %-7s %-24s %s%s%s", js(s, "proto"),
	    js(s, "state"), addr, who, *reach ? "; " : "", reach);
	json_object_set_new(s, "line", json_string(line));
}

void
card_add_local(json_t *card, int protomask)
{
	unsigned port = (unsigned)json_integer_value(json_object_get(card,
	    "port"));
	json_t *socks, *local;
	char msg[128];
	size_t i;
	int unattributed = 0;

	if (protomask == 0)
		protomask = PDX_TCP | PDX_UDP;
	if ((socks = pdx_local_port(port, protomask)) == NULL) {
		json_object_set_new(card, "local", json_pack("{s:s, s:[]}",
		    "error", pdx_last_error(), "sockets"));
		return;
	}
	for (i = 0; i < json_array_size(socks); i++) {
		json_t *s = json_array_get(socks, i);

		socket_line(s);
		if (!json_is_integer(json_object_get(s, "pid")))
			unattributed++;
	}
	if (protomask == (PDX_TCP | PDX_UDP))
		snprintf(msg, sizeof msg, "nothing is listening on %u/tcp or "
		    "%u/udp", port, port);
	else
		snprintf(msg, sizeof msg, "nothing is listening on %u/%s",
		    port, protomask == PDX_TCP ? "tcp" : protomask == PDX_UDP ?
		    "udp" : "this transport");
	local = json_pack("{s:o, s:s}", "sockets", socks, "summary",
	    json_array_size(socks) == 0 ? msg : "");
	if (unattributed > 0 && geteuid() != 0)
		json_object_set_new(local, "footer", json_sprintf("%d socket%s "
		    "could not be tied to a process: run as root to see "
		    "other users' processes", unattributed,
		    unattributed == 1 ? "" : "s"));
	json_object_set_new(card, "local", local);
}
