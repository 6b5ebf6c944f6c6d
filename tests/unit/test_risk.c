/*
 * test_risk.c - unit tests for lib/risk.c: every rule of the security
 * assessment has a case that makes it fire and one that does not, checked
 * in both places the rules reach, the card (transports[i].risk.reasons and
 * level, the card's overall level) and the brief table (pdx_brief().risk),
 * which are computed by different code (per port at card time, in bulk at
 * build time).  The registry is built in a scratch directory from a
 * hand-written IANA CSV and curated-knowledge files, so every expectation
 * follows from the fixture and from docs/risk.md (the rule ids and their
 * levels), not from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "portdex.h"

/* The rules and levels docs/risk.md documents. */
static const struct doc_rule {
	const char *id;
	int level;
} doc_rules[] = {
	{ "malware-port", PDX_LEVEL_HIGH },
	{ "malware-port-shared", PDX_LEVEL_MEDIUM },
	{ "malware-reported", PDX_LEVEL_LOW },
	{ "exploited-service", PDX_LEVEL_MEDIUM },
	{ "udp-amplification", PDX_LEVEL_MEDIUM },
	{ "cleartext-login", PDX_LEVEL_HIGH },
	{ "no-living-service", PDX_LEVEL_MEDIUM },
	{ "obsolete-service", PDX_LEVEL_MEDIUM },
	{ "cleartext-transfer", PDX_LEVEL_MEDIUM },
	{ "rpc-exposure", PDX_LEVEL_MEDIUM },
	{ "admin-exposure", PDX_LEVEL_MEDIUM },
	{ "iana-unauthorized-use", PDX_LEVEL_LOW },
	{ "privileged-range", PDX_LEVEL_INFO },
};
#define NDOC (sizeof doc_rules / sizeof *doc_rules)

static const char csv[] =
    "Service Name,Port Number,Transport Protocol,Description,Assignee,"
    "Contact,Registration Date,Modification Date,Reference,Service Code,"
    "Unauthorized Use Reported,Assignment Notes\n"
    ",4,tcp,Unassigned,,,,,,,,\n"
    ",4,udp,Unassigned,,,,,,,,\n"
    "msp,18,tcp,Message Send Protocol (historic),[A],[A],,,,,,\n"
    "ftp,21,tcp,File Transfer Protocol [Control],[A],[A],,,,,,\n"
    "ftp,21,udp,File Transfer Protocol [Control],[A],[A],,,,,,\n"
    "ssh,22,tcp,The Secure Shell (SSH) Protocol,[A],[A],,,,,,\n"
    "telnet,23,tcp,Telnet,[A],[A],,,,,,\n"
    "telnet,23,udp,Telnet,[A],[A],,,,,,\n"
    "tftp,69,udp,Trivial File Transfer,[A],[A],,,,,,\n"
    "sunrpc,111,tcp,SUN Remote Procedure Call,[A],[A],,,,,,\n"
    "sunrpc,111,udp,SUN Remote Procedure Call,[A],[A],,,,,,\n"
    "login,513,tcp,\"remote login a la telnet;\",[A],[A],,,,,,\n"
    "appleqtcsrvr,545,tcp,appleqtcsrvr,[A],[A],,,,,,\n"
    "appleqtcsrvr,545,udp,appleqtcsrvr,[A],[A],,,,,,\n"
    ",585,,De-registered,,,,,,,,\n"
    "dwr,644,tcp,dwr,[A],[A],,,,,,\n"
    "pssc,645,tcp,PSSC,[A],[A],,,,,,\n"
    "pssc,645,udp,PSSC,[A],[A],,,,,,\n"
    ",1023,tcp,Reserved,,,,,,,,\n"
    ",1023,udp,Reserved,,,,,,,,\n"
    ",1024-1100,,Unassigned,,,,,,,,\n"
    "histsvc,2000,tcp,Historic fixture service,[A],[A],,,,,,\n"
    "mysql,3306,tcp,MySQL,[A],[A],,,,,,\n"
    "mysql,3306,udp,MySQL,[A],[A],,,,,,\n"
    "commplex,5000,tcp,fixture,[A],[A],,,,,"
    "Known UNAUTHORIZED USE on port 5000,\n"
    "commplex,5000,udp,fixture,[A],[A],,,,,,\n"
    "other,5001,tcp,fixture,[A],[A],,,,,,\n"
    "rangesvc,6000-6002,tcp,fixture range,[A],[A],,,,,"
    "Unauthorized Use Known on ports 6000-6002,\n"
    "squid,3128,tcp,fixture,[A],[A],,,,,,\n"
    ",12345,tcp,Unassigned,,,,,,,,\n"
    ",31337,tcp,Unassigned,,,,,,,,\n";

static const char uses_tsv[] =
    "port\tprotos\tkind\tname\tplatform\tyears\tconfidence\tlead\tsource\ttext\n"
    /* the official service, dead: fires obsolete-service */
    "545\ttcp,udp\thistoric\tQuickTime Conferencing\tMac OS\t-\t"
    "reported\t-\tseed:545; IANA registry appleqtcsrvr 545/tcp\t"
    "Fixture: the assigned service died out.\n"
    /* historic but not the official service: does not */
    "644\ttcp\thistoric\tSome old tool\t-\t-\tdocumented\t-\t"
    "https://example.org/old\tFixture: an old unofficial tool.\n"
    /* the official service dead, but not a well-known port */
    "2000\ttcp\thistoric\tHistoric fixture service\t-\t-\tdocumented\t-\t"
    "IANA registry histsvc 2000/tcp\tFixture: dead above 1023.\n"
    /* reported malware only */
    "645\ttcp,udp\tmalware\ttrojans\t-\t-\treported\t-\tseed:645\t"
    "Fixture: reported malware.\n"
    /* documented malware, tcp only */
    "12345\ttcp\tmalware\tNetBus\tWindows\t1998\tdocumented\t-\t"
    "https://example.org/netbus\tFixture: documented malware.\n"
    /* documented and reported on the same port: only the high rule */
    "31337\ttcp\tmalware\tBack Orifice\tWindows\t1998\tdocumented\t-\t"
    "https://example.org/bo\tFixture: documented malware.\n"
    "3128\ttcp\tmalware\tMyDoom\tWindows\t2004\tdocumented\t-\t"
    "https://example.org/mydoom\tFixture: documented malware.\n"
    "3128\ttcp\tvendor-default\tSquid\t-\t-\tdocumented\t-\t"
    "https://example.org/squid\tFixture: a proxy's default.\n"
    "31337\ttcp\tmalware\tElite\t-\t-\treported\t-\tseed:645\t"
    "Fixture: reported malware on the same port.\n"
    /* a documented amplifier, a reported one, an attack tool */
    "19\tudp\tamplification\tCharGEN\t-\t-\tdocumented\t-\t"
    "https://example.org/ta14\tFixture: documented amplifier.\n"
    "1900\tudp\tamplification\tSSDP\t-\t-\treported\t-\t"
    "https://example.org/list\tFixture: reported amplifier.\n"
    "50050\ttcp\tattack-tool\tCobalt Strike\t-\t2012\tdocumented\t-\t"
    "https://example.org/cs\tFixture: documented attack tool.\n"
    "40056\ttcp\tattack-tool\tSome C2\t-\t-\treported\t-\t"
    "https://example.org/c2\tFixture: reported attack tool.\n"
    /* an attack tool on a port with a documented legitimate use */
    "3128\ttcp\tattack-tool\tRogue proxy\t-\t2013\tdocumented\t-\t"
    "https://example.org/rogue\tFixture: attack tool on a shared port.\n"
    /* a worm that attacks the service; a C2 server port */
    "1025\ttcp\texploited\tSome worm\t-\t2017\tdocumented\t-\t"
    "https://example.org/worm\tFixture: the service is attacked.\n"
    "1026\ttcp\tc2\tSome RAT C2\t-\t2019\tdocumented\t-\t"
    "https://example.org/rat\tFixture: a C2 server port.\n";

static const char related_tsv[] = "port_a\tport_b\treason\tsource\n";

static char tmpdir[256];
static struct pdx_db *db;

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		fail_msg("cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	struct pdx_update_opts o;
	char kdir[300], udir[320], csvpath[300], dbpath[300];
	json_t *r;

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pdx-test-risk.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(kdir, sizeof kdir, "%s/k", tmpdir);
	if (mkdir(kdir, 0700) != 0)
		return -1;
	write_file(tmpdir, "iana.csv", csv);
	snprintf(udir, sizeof udir, "%s/uses", kdir);
	if (mkdir(udir, 0700) != 0)
		return -1;
	write_file(udir, "fixture.tsv", uses_tsv);
	write_file(kdir, "related.tsv", related_tsv);
	snprintf(csvpath, sizeof csvpath, "%s/iana.csv", tmpdir);
	snprintf(dbpath, sizeof dbpath, "%s/registry.db", tmpdir);
	memset(&o, 0, sizeof o);
	o.db_path = dbpath;
	o.iana = csvpath;
	o.knowledge_dir = kdir;
	o.no_search = 1;
	if ((r = pdx_update(&o)) == NULL) {
		fprintf(stderr, "update: %s\n", pdx_last_error());
		return -1;
	}
	json_decref(r);
	if ((db = pdx_db_open(dbpath)) == NULL) {
		fprintf(stderr, "open: %s\n", pdx_last_error());
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];

	(void)state;
	pdx_db_close(db);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
doc_level(const char *rule)
{
	size_t i;

	for (i = 0; i < NDOC; i++)
		if (strcmp(doc_rules[i].id, rule) == 0)
			return doc_rules[i].level;
	return -1; /* not documented: the caller reports it */
}

/* The risk object of one transport of the card of port. */
static json_t *
card_risk(json_t *card, int proto)
{
	json_t *t = json_object_get(card, "transports");
	size_t i;

	for (i = 0; i < json_array_size(t); i++) {
		json_t *tr = json_array_get(t, i);

		if (strcmp(json_string_value(json_object_get(tr, "transport")),
			pdx_proto_name(proto)) == 0)
			return json_object_get(tr, "risk");
	}
	return NULL; /* no such transport: the caller reports it */
}

/*
 * Checks everything the rules say about port/proto: whether rule fired
 * (want), that every reason carries its documented level, that the
 * transport's level is the highest of its reasons, that the brief table
 * agrees, and that the card's overall level is the highest transport's.
 */
/*
 * check() reports a failure at the FIRES or QUIET line that called it:
 * CFAIL and CASSERT pass the caller's file and line to cmocka.
 */
#define CFAIL(...) \
	do { \
		print_error(__VA_ARGS__); \
		print_error("\n"); \
		_fail(file, line); \
	} while (0)
#define CASSERT(c) \
	_assert_true(cast_to_largest_integral_type(c), #c, file, line)

static void
check(unsigned port, int proto, const char *rule, int want, const char *file,
    int line)
{
	json_t *card, *risk, *reasons, *t;
	struct pdx_brief b;
	size_t i;
	int fired = 0, top = PDX_LEVEL_NONE, overall = PDX_LEVEL_NONE;

	card = pdx_card(db, port, PDX_TCP | PDX_UDP);
	if (card == NULL)
		CFAIL("card %u: %s", port, pdx_last_error());
	risk = card_risk(card, proto);
	CASSERT(risk != NULL);
	reasons = json_object_get(risk, "reasons");
	CASSERT(json_is_array(reasons));
	for (i = 0; i < json_array_size(reasons); i++) {
		json_t *r = json_array_get(reasons, i);
		const char *id = json_string_value(json_object_get(r, "rule"));
		int lv = pdx_level_parse(
		    json_string_value(json_object_get(r, "level")));

		CASSERT(id != NULL);
		if (doc_level(id) < 0)
			CFAIL("rule '%s' is not documented", id);
		if (lv != doc_level(id))
			CFAIL("%u/%s: rule %s has level %s, documented %s",
			    port, pdx_proto_name(proto), id, pdx_level_name(lv),
			    pdx_level_name(doc_level(id)));
		CASSERT(json_string_value(json_object_get(r, "text")) != NULL);
		if (lv > top)
			top = lv;
		if (strcmp(id, rule) == 0)
			fired++;
	}
	if (want && fired != 1)
		CFAIL("%u/%s: rule %s fired %d times, expected once", port,
		    pdx_proto_name(proto), rule, fired);
	if (!want && fired != 0)
		CFAIL("%u/%s: rule %s fired but should not", port,
		    pdx_proto_name(proto), rule);
	if (pdx_level_parse(
		json_string_value(json_object_get(risk, "level"))) != top)
		CFAIL("%u/%s: level %s, but the highest reason is %s", port,
		    pdx_proto_name(proto),
		    json_string_value(json_object_get(risk, "level")),
		    pdx_level_name(top));
	CASSERT(pdx_brief(db, port, proto, &b) == 0);
	if (b.risk != top)
		CFAIL("%u/%s: brief risk %s, card %s", port,
		    pdx_proto_name(proto), pdx_level_name(b.risk),
		    pdx_level_name(top));
	t = json_object_get(card, "transports");
	for (i = 0; i < json_array_size(t); i++) {
		int lv = pdx_level_parse(json_string_value(
		    json_object_get(json_object_get(json_array_get(t, i),
					"risk"),
			"level")));

		if (lv > overall)
			overall = lv;
	}
	CASSERT(pdx_level_parse(json_string_value(
		    json_object_get(json_object_get(card, "risk"), "level"))) ==
	    overall);
	json_decref(card);
}

#define FIRES(port, proto, rule) check(port, proto, rule, 1, __FILE__, __LINE__)
#define QUIET(port, proto, rule) check(port, proto, rule, 0, __FILE__, __LINE__)

static void
test_rule_table(void **state)
{
	json_t *rules = pdx_risk_rules();
	size_t i, j;

	(void)state;
	assert_int_equal(json_array_size(rules), NDOC);
	for (i = 0; i < NDOC; i++) {
		int found = 0;

		for (j = 0; j < json_array_size(rules); j++) {
			json_t *r = json_array_get(rules, j);

			if (strcmp(json_string_value(
				       json_object_get(r, "rule")),
				doc_rules[i].id) != 0)
				continue;
			found = 1;
			assert_int_equal(pdx_level_parse(json_string_value(
					     json_object_get(r, "level"))),
			    doc_rules[i].level);
			assert_true(strlen(json_string_value(
					json_object_get(r, "text"))) > 20);
		}
		if (!found)
			fail_msg("rule %s missing", doc_rules[i].id);
	}
	json_decref(rules);
}

static void
test_malware_port(void **state)
{
	(void)state;
	FIRES(12345, PDX_TCP, "malware-port");
	FIRES(31337, PDX_TCP, "malware-port");
	QUIET(12345, PDX_UDP, "malware-port"); /* the row is tcp only */
	QUIET(645, PDX_TCP, "malware-port");   /* only reported */
	QUIET(5001, PDX_TCP, "malware-port");
}

static void
test_malware_shared(void **state)
{
	(void)state;
	FIRES(3128, PDX_TCP, "malware-port-shared");
	QUIET(3128, PDX_TCP, "malware-port");
	QUIET(12345, PDX_TCP, "malware-port-shared");
	QUIET(5001, PDX_TCP, "malware-port-shared");
}

static void
test_malware_reported(void **state)
{
	(void)state;
	FIRES(19, PDX_UDP, "udp-amplification");
	QUIET(19, PDX_TCP, "udp-amplification");
	QUIET(1900, PDX_UDP, "udp-amplification"); /* only reported */
	FIRES(50050, PDX_TCP, "malware-port");
	FIRES(40056, PDX_TCP, "malware-reported");
	QUIET(40056, PDX_TCP, "malware-port");
	FIRES(1025, PDX_TCP, "exploited-service");
	QUIET(1025, PDX_TCP, "malware-port");
	QUIET(1026, PDX_TCP, "malware-port"); /* c2: outbound, no listener */
	QUIET(1026, PDX_TCP, "malware-reported");
	QUIET(1026, PDX_TCP, "exploited-service");
	FIRES(645, PDX_TCP, "malware-reported");
	FIRES(645, PDX_UDP, "malware-reported");
	QUIET(12345, PDX_TCP, "malware-reported"); /* documented */
	QUIET(31337, PDX_TCP, "malware-reported"); /* documented wins */
	QUIET(644, PDX_TCP, "malware-reported");
}

static void
test_cleartext_login(void **state)
{
	(void)state;
	FIRES(23, PDX_TCP, "cleartext-login");
	FIRES(513, PDX_TCP, "cleartext-login");
	QUIET(23, PDX_UDP, "cleartext-login"); /* telnet is tcp */
	QUIET(22, PDX_TCP, "cleartext-login");
}

static void
test_no_living_service(void **state)
{
	(void)state;
	FIRES(4, PDX_TCP, "no-living-service");	   /* unassigned */
	FIRES(18, PDX_TCP, "no-living-service");   /* historic */
	FIRES(585, PDX_UDP, "no-living-service");  /* de-registered */
	FIRES(1023, PDX_TCP, "no-living-service"); /* reserved */
	QUIET(22, PDX_TCP, "no-living-service");   /* assigned */
	QUIET(1024, PDX_TCP, "no-living-service"); /* not well-known */
	QUIET(31337, PDX_TCP, "no-living-service");
}

static void
test_obsolete_service(void **state)
{
	(void)state;
	FIRES(545, PDX_TCP, "obsolete-service");
	FIRES(545, PDX_UDP, "obsolete-service");
	QUIET(644, PDX_TCP, "obsolete-service");  /* not the official */
	QUIET(2000, PDX_TCP, "obsolete-service"); /* above 1023 */
	QUIET(22, PDX_TCP, "obsolete-service");
}

static void
test_cleartext_transfer(void **state)
{
	(void)state;
	FIRES(21, PDX_TCP, "cleartext-transfer");
	FIRES(69, PDX_UDP, "cleartext-transfer");
	QUIET(21, PDX_UDP, "cleartext-transfer");
	QUIET(69, PDX_TCP, "cleartext-transfer");
	QUIET(22, PDX_TCP, "cleartext-transfer");
}

static void
test_rpc_exposure(void **state)
{
	(void)state;
	FIRES(111, PDX_TCP, "rpc-exposure");
	FIRES(111, PDX_UDP, "rpc-exposure");
	QUIET(645, PDX_TCP, "rpc-exposure");
	QUIET(112, PDX_TCP, "rpc-exposure");
}

static void
test_admin_exposure(void **state)
{
	(void)state;
	FIRES(3306, PDX_TCP, "admin-exposure");
	QUIET(3306, PDX_UDP, "admin-exposure");
	QUIET(5001, PDX_TCP, "admin-exposure");
}

static void
test_iana_unauthorized(void **state)
{
	(void)state;
	FIRES(5000, PDX_TCP, "iana-unauthorized-use");
	QUIET(5000, PDX_UDP, "iana-unauthorized-use"); /* row has none */
	QUIET(5001, PDX_TCP, "iana-unauthorized-use");
	/* A range row covers each of its ports. */
	FIRES(6000, PDX_TCP, "iana-unauthorized-use");
	FIRES(6001, PDX_TCP, "iana-unauthorized-use");
	FIRES(6002, PDX_TCP, "iana-unauthorized-use");
	QUIET(6003, PDX_TCP, "iana-unauthorized-use");
}

static void
test_privileged_range(void **state)
{
	(void)state;
	FIRES(22, PDX_TCP, "privileged-range");
	FIRES(1023, PDX_UDP, "privileged-range");
	QUIET(1024, PDX_TCP, "privileged-range");
	QUIET(3306, PDX_TCP, "privileged-range");
}

/* The level is the highest rule that fired, never a sum. */
static void
test_levels(void **state)
{
	struct pdx_brief b;
	static const struct {
		unsigned port;
		int proto;
		int level;
	} cases[] = {
		{ 22, PDX_TCP, PDX_LEVEL_INFO },     /* privileged only */
		{ 1024, PDX_TCP, PDX_LEVEL_NONE },   /* nothing */
		{ 5000, PDX_TCP, PDX_LEVEL_LOW },    /* unauthorized */
		{ 3306, PDX_TCP, PDX_LEVEL_MEDIUM }, /* admin */
		{ 645, PDX_UDP,
		    PDX_LEVEL_LOW }, /* reported + info: never above low */
		{ 23, PDX_TCP, PDX_LEVEL_HIGH }, /* login + info */
		{ 23, PDX_UDP, PDX_LEVEL_INFO },
		{ 12345, PDX_TCP, PDX_LEVEL_HIGH },
		{ 4, PDX_TCP, PDX_LEVEL_MEDIUM }, /* dead + info */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		assert_int_equal(pdx_brief(db, cases[i].port, cases[i].proto,
				     &b),
		    0);
		if (b.risk != cases[i].level)
			fail_msg("%u/%s: level %s, expected %s", cases[i].port,
			    pdx_proto_name(cases[i].proto),
			    pdx_level_name(b.risk),
			    pdx_level_name(cases[i].level));
		/* check() compares the card with the brief as well */
		check(cases[i].port, cases[i].proto, "none-such", 0, __FILE__,
		    __LINE__);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_malware_port),
		cmocka_unit_test(test_malware_shared),
		cmocka_unit_test(test_malware_reported),
		cmocka_unit_test(test_cleartext_login),
		cmocka_unit_test(test_no_living_service),
		cmocka_unit_test(test_obsolete_service),
		cmocka_unit_test(test_cleartext_transfer),
		cmocka_unit_test(test_rpc_exposure),
		cmocka_unit_test(test_admin_exposure),
		cmocka_unit_test(test_iana_unauthorized),
		cmocka_unit_test(test_privileged_range),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
