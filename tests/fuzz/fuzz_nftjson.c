/*
 * fuzz_nftjson.c - libFuzzer harness for pdx_ruleset_parse (the JSON of
 * `nft -j list ruleset`), then the evaluator on it: a verdict for a few
 * listeners (IPv4, IPv6, dual-stack, bound to an address) and the list
 * of published ports.  Verdicts must be one of the five words, `unknown`
 * must say why, and published ports must be valid port numbers.
 */
#include <sys/socket.h>

#include "fuzz.h"
#include "portdex/firewall.h"

static void
check_verdict(const struct pdx_verdict *v)
{
	CHECK(v->reach >= PDX_REACH_LOOPBACK && v->reach <= PDX_REACH_UNKNOWN);
	if (v->reach == PDX_REACH_UNKNOWN)
		CHECK(v->rule[0] != '\0' || v->detail[0] != '\0');
	if (v->reach == PDX_REACH_RESTRICTED)
		CHECK(v->detail[0] != '\0');
	fuzz_touch(v->rule);
	fuzz_touch(v->detail);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t any[16], a4[4] = { 10, 0, 0, 1 },
				      lo4[4] = { 127, 0, 0, 1 };
	static const unsigned ports[] = { 22, 53, 80, 5432, 30080 };
	struct pdx_ruleset *rs;
	struct pdx_published *pub;
	struct pdx_verdict v, v4;
	size_t i, n;

	rs = pdx_ruleset_parse((const char *)data, size);
	if (rs == NULL) {
		fuzz_error_set();
		return 0;
	}
	for (i = 0; i < sizeof ports / sizeof ports[0]; i++) {
		pdx_firewall_judge(rs, AF_INET, PDX_TCP, any, ports[i], -1, &v,
		    NULL);
		check_verdict(&v);
		pdx_firewall_judge(rs, AF_INET6, PDX_UDP, any, ports[i], 0, &v,
		    &v4);
		check_verdict(&v);
		check_verdict(&v4);
		pdx_firewall_judge(rs, AF_INET, PDX_TCP, a4, ports[i], -1, &v,
		    NULL);
		check_verdict(&v);
	}
	pdx_firewall_judge(rs, AF_INET, PDX_TCP, lo4, 22, -1, &v, NULL);
	CHECK(v.reach == PDX_REACH_LOOPBACK);
	CHECK(pdx_firewall_published(rs, &pub, &n) == 0);
	for (i = 0; i < n; i++) {
		json_t *j;

		CHECK(pub[i].port_lo <= pub[i].port_hi &&
		    pub[i].port_hi <= 65535);
		check_verdict(&pub[i].reach);
		j = pdx_published_json(&pub[i]);
		CHECK(j != NULL);
		json_decref(j);
	}
	free(pub);
	pdx_ruleset_free(rs);
	return 0;
}
