/*
 * risk.c - the security assessment of a port: a table of rules (id, level,
 * explanation, check), each looking at facts the registry holds about a
 * port and transport (IANA status and notes, curated uses, protocol
 * families).  Used at build time to fill the risk byte of the brief table
 * and at card time to list every reason that fired.  Rules about a live
 * listener (process, address, baseline) are the audit's, not these.
 * docs/risk.md documents each rule.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "portdex.h"
#include "registry-int.h"

struct family_port;

/* Facts about one port/transport that the rules read. */
struct risk_facts {
	unsigned port;
	int proto;
	int status;	      /* enum pdx_status */
	int unauth;	      /* IANA unauthorized-use note */
	int malware;	      /* curated: documented malware port */
	int malware_reported; /* curated: only reported */
	int historic_use;     /* curated: the official use is dead */
	int legit_use;	      /* curated: documented non-malware use */
	int amplify;	      /* curated: documented UDP amplifier */
	int attack_tool;      /* curated: documented attack tool */
	int exploited;	      /* curated: documented worm/exploit target */
	const struct family_port *fam; /* family_of(port, proto) */
};

/* Protocol families with a known exposure problem. */
enum family {
	FAM_CLEARTEXT_LOGIN = 1, /* credentials or trust in the clear */
	FAM_CLEARTEXT_FILE,	 /* ftp, tftp, finger */
	FAM_RPC,		 /* portmapper, NFS and helpers */
	FAM_ADMIN,		 /* databases, admin APIs, remote desktop */
};

static const struct family_port {
	unsigned short port;
	unsigned char protos;
	unsigned char family;
	const char *what;
} family_ports[] = {
	{ 21, PDX_TCP, FAM_CLEARTEXT_FILE, "FTP" },
	{ 23, PDX_TCP, FAM_CLEARTEXT_LOGIN, "Telnet" },
	{ 69, PDX_UDP, FAM_CLEARTEXT_FILE, "TFTP" },
	{ 79, PDX_TCP, FAM_CLEARTEXT_FILE, "finger" },
	{ 111, PDX_TCP | PDX_UDP, FAM_RPC, "the ONC RPC portmapper" },
	{ 512, PDX_TCP, FAM_CLEARTEXT_LOGIN, "rexec" },
	{ 513, PDX_TCP, FAM_CLEARTEXT_LOGIN, "rlogin" },
	{ 514, PDX_TCP, FAM_CLEARTEXT_LOGIN, "rsh" },
	{ 635, PDX_TCP | PDX_UDP, FAM_RPC, "NFS mountd (common fixed port)" },
	{ 1433, PDX_TCP, FAM_ADMIN, "Microsoft SQL Server" },
	{ 1521, PDX_TCP, FAM_ADMIN, "Oracle database listener" },
	{ 2049, PDX_TCP | PDX_UDP, FAM_RPC, "NFS" },
	{ 2375, PDX_TCP, FAM_ADMIN, "the Docker API without TLS" },
	{ 2376, PDX_TCP, FAM_ADMIN, "the Docker API" },
	{ 2379, PDX_TCP, FAM_ADMIN, "etcd" },
	{ 3306, PDX_TCP, FAM_ADMIN, "MySQL/MariaDB" },
	{ 3389, PDX_TCP | PDX_UDP, FAM_ADMIN, "remote desktop (RDP)" },
	{ 4045, PDX_TCP | PDX_UDP, FAM_RPC, "NFS lock manager" },
	{ 5432, PDX_TCP, FAM_ADMIN, "PostgreSQL" },
	{ 5900, PDX_TCP, FAM_ADMIN, "VNC remote desktop" },
	{ 5984, PDX_TCP, FAM_ADMIN, "CouchDB" },
	{ 6379, PDX_TCP, FAM_ADMIN, "Redis" },
	{ 9042, PDX_TCP, FAM_ADMIN, "Cassandra" },
	{ 9200, PDX_TCP, FAM_ADMIN, "Elasticsearch/OpenSearch HTTP API" },
	{ 10250, PDX_TCP, FAM_ADMIN, "the Kubernetes kubelet API" },
	{ 11211, PDX_TCP | PDX_UDP, FAM_ADMIN, "memcached" },
	{ 20048, PDX_TCP | PDX_UDP, FAM_RPC, "NFS mountd (Linux default)" },
	{ 27017, PDX_TCP, FAM_ADMIN, "MongoDB" },
};

/*
 * The family row of port/proto, or NULL: a binary search, since the table
 * is sorted by port (the build asks for all 262,144 port/transports).
 */
static const struct family_port *
family_of(unsigned port, int proto)
{
	size_t lo = 0, hi = sizeof family_ports / sizeof *family_ports;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (family_ports[mid].port < port)
			lo = mid + 1;
		else if (family_ports[mid].port > port)
			hi = mid;
		else
			return (family_ports[mid].protos & proto) != 0
			    ? &family_ports[mid]
			    : NULL;
	}
	return NULL;
}

static int
check_dead_wellknown(const struct risk_facts *f)
{
	return f->port < 1024 && f->status != PDX_ST_ASSIGNED;
}

static int
check_historic_use(const struct risk_facts *f)
{
	return f->port < 1024 && f->status == PDX_ST_ASSIGNED &&
	    f->historic_use;
}

/*
 * An attack tool's default counts only where nothing legitimate is
 * documented: on 443 or 3000 it says nothing about a listener.
 */
static int
check_malware(const struct risk_facts *f)
{
	return (f->malware || f->attack_tool) && !f->legit_use;
}

/* Squid's 3128 and SOCKS's 1080 are also MyDoom's: less alarming. */
static int
check_malware_shared(const struct risk_facts *f)
{
	return f->malware && f->legit_use;
}

static int
check_malware_reported(const struct risk_facts *f)
{
	return f->malware_reported && !f->malware;
}

static int
check_exploited(const struct risk_facts *f)
{
	return f->exploited;
}

static int
check_amplification(const struct risk_facts *f)
{
	return f->amplify && f->proto == PDX_UDP;
}

static int
check_unauth(const struct risk_facts *f)
{
	return f->unauth;
}

static int
check_fam_login(const struct risk_facts *f)
{
	return f->fam != NULL && f->fam->family == FAM_CLEARTEXT_LOGIN;
}

static int
check_fam_file(const struct risk_facts *f)
{
	return f->fam != NULL && f->fam->family == FAM_CLEARTEXT_FILE;
}

static int
check_fam_rpc(const struct risk_facts *f)
{
	return f->fam != NULL && f->fam->family == FAM_RPC;
}

static int
check_fam_admin(const struct risk_facts *f)
{
	return f->fam != NULL && f->fam->family == FAM_ADMIN;
}

static int
check_privileged(const struct risk_facts *f)
{
	return f->port < 1024;
}

static const struct pdx_risk_rule {
	const char *id;
	int level;
	const char *text;
	int (*check)(const struct risk_facts *);
	int family; /* names the protocol when it fires */
} risk_rules[] = {
	{ "malware-port", PDX_LEVEL_HIGH,
	    "known trojan or backdoor port (curated data): a listener here "
	    "deserves a look at its process and binary",
	    check_malware, 0 },
	{ "malware-port-shared", PDX_LEVEL_MEDIUM,
	    "known trojan or backdoor port that legitimate software also uses "
	    "by default (curated data): check which program listens",
	    check_malware_shared, 0 },
	{ "malware-reported", PDX_LEVEL_LOW,
	    "malware reportedly used this port (curated data, no primary "
	    "source): check what listens before trusting it",
	    check_malware_reported, 0 },
	{ "exploited-service", PDX_LEVEL_MEDIUM,
	    "worms, botnets or exploits attack the service on this port "
	    "(curated data): keep it patched, authenticated and off the "
	    "internet",
	    check_exploited, 0 },
	{ "udp-amplification", PDX_LEVEL_MEDIUM,
	    "UDP reflection/amplification vector (curated data): an open "
	    "server answers spoofed small requests with large replies; keep "
	    "it off the internet or rate-limit it",
	    check_amplification, 0 },
	{ "cleartext-login", PDX_LEVEL_HIGH,
	    "legacy remote login that sends credentials in the clear or "
	    "trusts addresses; replace with SSH",
	    check_fam_login, 1 },
	{ "no-living-service", PDX_LEVEL_MEDIUM,
	    "well-known port with no living IANA assignment (unassigned, "
	    "reserved, de-registered or historic): nothing legitimate is "
	    "expected to listen here",
	    check_dead_wellknown, 0 },
	{ "obsolete-service", PDX_LEVEL_MEDIUM,
	    "the service IANA assigned here is long obsolete (curated data): "
	    "a listener is unexpected",
	    check_historic_use, 0 },
	{ "cleartext-transfer", PDX_LEVEL_MEDIUM,
	    "cleartext file or information service; keep it off untrusted "
	    "networks or use an encrypted successor",
	    check_fam_file, 1 },
	{ "rpc-exposure", PDX_LEVEL_MEDIUM,
	    "ONC RPC / NFS service: it reveals and serves more than it "
	    "should to untrusted networks; keep it inside trusted ones",
	    check_fam_rpc, 1 },
	{ "admin-exposure", PDX_LEVEL_MEDIUM,
	    "database, admin API or remote desktop: should listen on "
	    "loopback or a private network, never face the internet",
	    check_fam_admin, 1 },
	{ "iana-unauthorized-use", PDX_LEVEL_LOW,
	    "IANA records unauthorized use of this port: what listens may "
	    "not be the registered service",
	    check_unauth, 0 },
	{ "privileged-range", PDX_LEVEL_INFO,
	    "system port: binding it needs root or CAP_NET_BIND_SERVICE, so "
	    "its listener ran with privilege",
	    check_privileged, 0 },
};
#define NRULES (sizeof risk_rules / sizeof *risk_rules)

/*
 * {"rule", "level", "text"[, "what"]} as json_pack("{s:s, s:s, s:s,
 * s:s*}") made it (NULL if a string is not UTF-8 or without memory),
 * without parsing the format for each listener an audit assesses.
 */
static int
set_str(json_t *o, const char *key, const char *v)
{
	json_t *j = json_string(v);

	return j == NULL || json_object_set_new_nocheck(o, key, j) != 0;
}

static json_t *
reason_json(const char *rule, const char *level, const char *text,
    const char *what)
{
	json_t *o = json_object();

	if (o == NULL || set_str(o, "rule", rule) ||
	    set_str(o, "level", level) || set_str(o, "text", text) ||
	    (what != NULL && set_str(o, "what", what))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
evaluate(const struct risk_facts *f, json_t *reasons)
{
	size_t i;
	int level = PDX_LEVEL_NONE;

	for (i = 0; i < NRULES; i++) {
		if (!risk_rules[i].check(f))
			continue;
		if (risk_rules[i].level > level)
			level = risk_rules[i].level;
		if (reasons != NULL) {
			const struct family_port *p = f->fam;

			json_array_append_new(reasons,
			    reason_json(risk_rules[i].id,
				pdx_level_name(risk_rules[i].level),
				risk_rules[i].text,
				p != NULL && risk_rules[i].family ? p->what
								  : NULL));
		}
	}
	return level;
}

json_t *
pdx_risk_rules(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < NRULES; i++)
		json_array_append_new(a,
		    json_pack("{s:s, s:s, s:s}", "rule", risk_rules[i].id,
			"level", pdx_level_name(risk_rules[i].level), "text",
			risk_rules[i].text));
	return a;
}

#define has_table pdx_sqlite_has_table

#define F_UNAUTH 1
#define F_MALWARE 2
#define F_HISTORIC 4
#define F_MALWARE_REP 8
#define F_LEGIT 16
#define F_AMPLIFY 32
#define F_ATTACK 64
#define F_EXPLOITED 128

/*
 * Which facts a curated use row gives its ports: one place for the build
 * (every row) and the card (the rows of one port).  kind and confidence
 * are the uses table's text columns, official its flag.
 */
static int
use_flags(const char *kind, const char *confidence, int official)
{
	static const char *const legit_kinds[] = { "unofficial",
		"vendor-default", "platform-default", "game", "service" };
	int documented, fl = 0;
	size_t i;

	if (kind == NULL || confidence == NULL)
		return 0;
	documented = strcmp(confidence, "documented") == 0;
	/*
	 * Only a documented row raises a level above low: reported and
	 * observed malware rows give the low malware-reported rule.
	 */
	if (strcmp(kind, "malware") == 0)
		fl |= documented ? F_MALWARE : F_MALWARE_REP;
	else if (strcmp(kind, "attack-tool") == 0)
		fl |= documented ? F_ATTACK : F_MALWARE_REP;
	else if (strcmp(kind, "exploited") == 0)
		fl |= documented ? F_EXPLOITED : 0;
	else if (strcmp(kind, "amplification") == 0)
		fl |= documented ? F_AMPLIFY : 0;
	else if (strcmp(kind, "historic") == 0 && official == 1)
		fl |= F_HISTORIC;
	else if (documented)
		for (i = 0; i < sizeof legit_kinds / sizeof *legit_kinds; i++)
			if (strcmp(kind, legit_kinds[i]) == 0)
				fl |= F_LEGIT;
	return fl;
}

static void
facts_from_flags(struct risk_facts *f, int fl)
{
	f->unauth = (fl & F_UNAUTH) != 0;
	f->malware = (fl & F_MALWARE) != 0;
	f->malware_reported = (fl & F_MALWARE_REP) != 0;
	f->historic_use = (fl & F_HISTORIC) != 0;
	f->legit_use = (fl & F_LEGIT) != 0;
	f->amplify = (fl & F_AMPLIFY) != 0;
	f->attack_tool = (fl & F_ATTACK) != 0;
	f->exploited = (fl & F_EXPLOITED) != 0;
}

/* Sets bit on every port/transport of a (lo, hi, mask) row. */
static void
mark_range(uint8_t *flags[PDX_NPROTO], int lo, int hi, int mask, int bit)
{
	int i, p;

	if (mask == 0)
		mask = PDX_PROTO_ALL;
	if (lo < 0 || hi > 65535 || lo > hi || bit == 0)
		return;
	for (i = 0; i < PDX_NPROTO; i++)
		if (mask & (1 << i))
			for (p = lo; p <= hi; p++)
				flags[i][p] |= (uint8_t)bit;
}

/*
 * Marks the facts of every row of sql: (lo, hi, mask) and, when
 * with_kind, (kind, confidence, official) classified by use_flags();
 * otherwise every row gives bit.
 */
static int
mark(sqlite3 *db, const char *sql, uint8_t *flags[PDX_NPROTO], int bit,
    int with_kind)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		pdx_set_error("risk: %s", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int lo = sqlite3_column_int(st, 0),
		    hi = sqlite3_column_int(st, 1), fl = bit;

		if (with_kind) {
			fl = use_flags((const char *)sqlite3_column_text(st, 3),
			    (const char *)sqlite3_column_text(st, 4),
			    sqlite3_column_int(st, 5));
			/*
			 * A wide range's legitimate use (an RTP range, the
			 * dynamic RPC range) says nothing about one port in
			 * it: it does not soften a trojan port's rule.
			 */
			if (hi - lo >= 100)
				fl &= ~F_LEGIT;
		}
		mark_range(flags, lo, hi, sqlite3_column_int(st, 2), fl);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pdx_set_error("risk: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static const char unauth_sql[] =
    "SELECT port_lo, port_hi, protomask FROM iana WHERE unauth != ''"
    " AND port_lo IS NOT NULL";
static const char uses_sql[] =
    "SELECT port_lo, port_hi, protomask, kind, confidence, official"
    " FROM uses";

/* Whether the registry's official rows came from a services file. */
static int
services_primary(sqlite3 *db)
{
	sqlite3_stmt *st;
	int yes = 0;

	if (sqlite3_prepare_v2(db,
		"SELECT value FROM meta WHERE key ="
		" 'primary'",
		-1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		yes = strcmp((const char *)sqlite3_column_text(st, 0),
			  "services") == 0;
	sqlite3_finalize(st);
	return yes;
}

int
pdx_risk_fill(sqlite3 *db, uint32_t *words[PDX_NPROTO])
{
	uint8_t *flags[PDX_NPROTO];
	struct risk_facts f;
	int i, rc = -1, status_known;
	unsigned p;

	memset(flags, 0, sizeof flags);
	for (i = 0; i < PDX_NPROTO; i++)
		if ((flags[i] = calloc(65536, 1)) == NULL) {
			pdx_set_error("risk: out of memory");
			goto out;
		}
	if (mark(db, unauth_sql, flags, F_UNAUTH, 0) != 0)
		goto out;
	if (has_table(db, "uses") && mark(db, uses_sql, flags, 0, 1) != 0)
		goto out;
	memset(&f, 0, sizeof f);
	status_known = !services_primary(db);
	for (i = 0; i < PDX_NPROTO; i++) {
		f.proto = 1 << i;
		for (p = 0; p < 65536; p++) {
			uint32_t w = words[i][p];

			f.port = p;
			/*
			 * Built from a services file, not IANA's CSV: no IANA
			 * status is known, so none may raise a rule.
			 */
			f.status = status_known ? (int)(w & 0xff)
						: PDX_ST_ASSIGNED;
			f.fam = family_of(p, f.proto);
			facts_from_flags(&f, flags[i][p]);
			words[i][p] = (w & ~0xfff0u) |
			    ((uint32_t)flags[i][p] << 8) |
			    ((uint32_t)evaluate(&f, NULL) << 4);
		}
	}
	rc = 0;
out:
	for (i = 0; i < PDX_NPROTO; i++)
		free(flags[i]);
	return rc;
}

/*
 * The reasons of port/proto at status: the rules read the facts that
 * pdx_risk_fill() stored in the port's brief word when the registry was
 * built, so the card and the brief table agree by construction.
 */
static void
assess_facts(struct pdx_db *d, unsigned port, int proto, int status,
    struct risk_facts *f)
{
	uint32_t w = 0;
	int i = pdx_proto_index(proto);

	if (i < 0 || pdx_brief_word(d, i, port, &w) != 0)
		w = 0; /* no facts: the port-only rules still apply */
	memset(f, 0, sizeof *f);
	f->port = port;
	f->proto = proto;
	f->status = status;
	f->fam = family_of(port, proto);
	facts_from_flags(f, (int)((w >> 8) & 0xff));
}

_Static_assert(NRULES <= 32, "a reason a bit of a uint32_t");

uint32_t
pdx_risk_reason_bits(struct pdx_db *d, unsigned port, int proto, int status,
    const char **what)
{
	struct risk_facts f;
	uint32_t bits = 0;
	size_t i;

	assess_facts(d, port, proto, status, &f);
	for (i = 0; i < NRULES; i++)
		if (risk_rules[i].check(&f))
			bits |= (uint32_t)1 << i;
	*what = f.fam != NULL ? f.fam->what : NULL;
	return bits;
}

const char *
pdx_risk_reason_id(unsigned i, int *family)
{
	if (i >= NRULES)
		return NULL;
	*family = risk_rules[i].family;
	return risk_rules[i].id;
}

json_t *
pdx_risk_assess(struct pdx_db *d, unsigned port, int proto, int status)
{
	struct risk_facts f;
	json_t *reasons = json_array();
	int level;

	assess_facts(d, port, proto, status, &f);
	level = evaluate(&f, reasons);
	{
		json_t *o = json_object();

		/* reasons is taken, as by json_pack's "o", even on failure */
		if (o == NULL || set_str(o, "level", pdx_level_name(level))) {
			json_decref(o);
			json_decref(reasons);
			return NULL;
		}
		if (json_object_set_new_nocheck(o, "reasons", reasons) != 0) {
			json_decref(o);
			return NULL;
		}
		return o;
	}
}
