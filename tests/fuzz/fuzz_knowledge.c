/*
 * fuzz_knowledge.c - libFuzzer harness for the curated knowledge parsers:
 * the same input goes to pdx_knowledge_parse (uses.tsv) and to
 * pdx_related_parse (related.tsv).  Rows must hold ranges inside
 * 0-65535, known kinds and confidences, and readable strings.
 */
#include "fuzz.h"

static int
use_cb(const struct pdx_use *u, void *arg)
{
	fuzz_touch(u->name);
	fuzz_touch(u->platform);
	fuzz_touch(u->years);
	fuzz_touch(u->source);
	fuzz_touch(u->text);
	CHECK(
	    u->port_lo >= 0 && u->port_lo <= u->port_hi && u->port_hi <= 65535);
	CHECK(u->protos != 0 && (u->protos & ~PDX_PROTO_ALL) == 0);
	CHECK(u->kind >= 0 && u->kind < PDX_USE_NKINDS);
	CHECK(u->confidence >= 0 && u->confidence < PDX_CONF_NLEVELS);
	CHECK(*pdx_use_kind_name(u->kind) != '\0');
	(*(long *)arg)++;
	return 0;
}

static int
rel_cb(const struct pdx_related *r, void *arg)
{
	fuzz_touch(r->reason);
	fuzz_touch(r->source);
	CHECK(r->a_lo >= 0 && r->a_lo <= r->a_hi && r->a_hi <= 65535);
	CHECK(r->b_lo >= 0 && r->b_lo <= r->b_hi && r->b_hi <= 65535);
	(*(long *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long rows = 0, n;

	n = pdx_knowledge_parse((const char *)data, size, "uses.tsv", use_cb,
	    &rows);
	if (n < 0)
		fuzz_error_set();
	else
		CHECK(n == rows);
	/* fn may be NULL: the file is only checked. */
	CHECK(pdx_knowledge_parse((const char *)data, size, "uses.tsv", NULL,
		  NULL) == n);
	rows = 0;
	n = pdx_related_parse((const char *)data, size, "related.tsv", rel_cb,
	    &rows);
	if (n < 0)
		fuzz_error_set();
	else
		CHECK(n == rows);
	return 0;
}
