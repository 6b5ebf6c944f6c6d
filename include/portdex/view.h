/*
 * portdex/view.h - part of the libportdex API (see portdex.h): the whole
 * card as `show` and `serve` give it (registry facts, notes, live
 * sockets, headline and summary), and its display view: the sections and
 * blocks that the text and HTML emitters draw.  Both are JSON; the card is
 * documented in docs/json.md, the view in card-view.c.
 */
#ifndef PORTDEX_VIEW_H
#define PORTDEX_VIEW_H
#include "portdex.h"

PDX_API_BEGIN

#define PDX_CARD_NOTES 1 /* the user's notes from the state db */
#define PDX_CARD_LOCAL 2 /* what listens on the port here */

/*
 * The card of port with what flags ask for, plus "headline" and
 * "summary".  st may be NULL (no notes: an empty list).  New reference;
 * NULL and the error on failure.
 */
json_t *pdx_card_full(struct pdx_db *, struct pdx_state *, unsigned port,
    int protomask, int flags);
/* The parts pdx_card_full() adds, for callers that build in steps. */
void pdx_card_add_notes(struct pdx_state *, json_t *card);
void pdx_card_add_local(json_t *card, int protomask);
/* Sets the card's "headline" and "summary" from the rest of it. */
void pdx_card_summarize(json_t *card);
/* A few words for a risk rule id ("a UDP amplification vector"). */
const char *pdx_rule_words(const char *rule);

/* Media a view is built for: some sections are for one medium only. */
#define PDX_VIEW_TEXT 1
#define PDX_VIEW_HTML 2

/*
 * The display view of a card: {"port", "headline", "summary", "sections":
 * [{"id", "title", "blocks": [...]}]}, where each block is one of
 *   {"t":"group", "label", "text"}            a heading line in a section
 *   {"t":"field", "label", "text", "href"?}   a labelled value
 *   {"t":"para", "text"}                      a paragraph
 *   {"t":"item", "title", "meta", "text", "sources":[{"text","href"?}]}
 *   {"t":"rule", "level", "tags", "text"}     a risk reason
 *   {"t":"code", "label", "text"}             a command to run
 *   {"t":"qa", "label", "text"}               a question and its answer
 * Labels, order, grouping and wording are decided here, once.  New
 * reference.
 */
json_t *pdx_card_view(json_t *card, int media);

/*
 * One cited source ("RFC 6143", "Title https://...", "IANA registry ...",
 * "nmap-services ...", "seed:645") as words for people and, where the
 * source has one, a link.  Writes both (href "" when none).
 */
void pdx_source_display(const char *src, size_t n, char *text, size_t tn,
    char *href, size_t hn);

PDX_API_END

#endif
