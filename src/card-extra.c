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

void
card_add_local(json_t *card, int protomask)
{
	(void)card;
	(void)protomask;
}
