/*
 * firewall-int.h - what the firewall's files share: the ruleset as read
 * and indexed (firewall-ruleset.c), the packet a verdict follows and what
 * one rule says about it (firewall-rule.c); firewall.c walks the chains,
 * finds published ports and reads the ruleset of a namespace.
 */
#ifndef PDX_FIREWALL_INT_H
#define PDX_FIREWALL_INT_H
#include <stdint.h>

#include <jansson.h>

#include "portdex.h"
#include "portdex/firewall.h"

enum { HOOK_OTHER, HOOK_PREROUTING, HOOK_INPUT, HOOK_FORWARD };

/*
 * A rule's shortcut, made once when the ruleset is parsed: its first
 * "tcp/udp/th dport" match with constant ports, when only matches come
 * before it.  A packet whose transport or port that match refuses makes
 * the whole rule false (eval_rule stops at the first false match, and
 * matches, counters and logs before it have no other effect), so
 * walk_path skips the rule without
 * reading its JSON: at 1,000 listeners and 1,000 port rules this is most
 * of the verdicts' cost.  usable 0: no shortcut, the rule is evaluated.
 */
struct fw_pre {
	int usable;
	int l4;	       /* 0: th, any transport */
	int neg;       /* op "!=" */
	size_t off, n; /* rs->pranges[off..off+n) */
};

/*
 * The shortcuts indexed by port, per chain: a rule whose shortcut takes
 * the packet only at a few ports (== or in, ranges of fewer than
 * FW_PT_SPAN ports) is listed at each of them (pts, sorted by port, then
 * rule); every other rule (no shortcut, !=, wide ranges) in always.  The
 * rules listed neither at the packet's port nor in always are exactly
 * ones fw_pre_false refuses, so walk_path passes over them at once.
 */
#define FW_PT_SPAN 64

struct fw_pt {
	unsigned port;
	unsigned idx; /* the rule's index in the chain */
};

struct fw_chain {
	const char *family, *table, *name;
	json_t *rules;	    /* array of rule objects (borrowed) */
	struct fw_pre *pre; /* one per rule, or NULL */
	size_t nrules;	    /* with pre: json_array_size(rules) */
	struct fw_pt *pts;  /* with pre: see struct fw_pt */
	size_t npts;
	size_t *always; /* rule indices, ascending */
	size_t nalways;
	int base;   /* has a hook */
	int hook;   /* HOOK_* */
	int filter; /* type filter */
	int nat;    /* type nat */
	long prio;
	int policy_drop;
};

struct pdx_ruleset {
	json_t *root;
	struct fw_chain *chains;
	size_t nchains;
	json_t *sets;	/* array of set and map objects */
	json_t *holder; /* owns the chains' rule arrays */
	size_t nrules;
	char *error;
	char *legacy;
	int netdev; /* a netdev ingress chain with rules */
	char netdev_rule[192];
	unsigned *pranges; /* the shortcuts' port ranges, lo hi */
	size_t npranges, cappranges;
};

/*
 * A ruleset with no tables, as pdx_ruleset_parse makes of
 * {"nftables": []} but without parsing JSON (nor seeding jansson's hash
 * function from /dev/urandom); NULL when out of memory (the error set).
 */
struct pdx_ruleset *fw_ruleset_empty(void);

/* The packet being judged: one new connection from another host. */
struct pkt {
	int family; /* AF_INET, AF_INET6 */
	int l4;	    /* IP protocol number: 6, 17, 132 */
	unsigned dport;
	const uint8_t *daddr; /* NULL: any local address */
	int hook;	      /* HOOK_INPUT or HOOK_FORWARD */
	const char *tfamily;  /* family of the table being walked */
	const char *table;
};

/*
 * The kinds of key matched against a value: a port, a protocol number,
 * an address of the packet's family, a name (interface, ct state).
 */
enum { K_PORT, K_L4, K_ADDR, K_NAME };

struct key {
	int kind;
	long num;   /* K_PORT, K_L4 */
	int family; /* K_ADDR */
	const uint8_t *addr;
	const char *name; /* K_NAME */
};

/* What a match (or a whole rule's matches) says about the packet. */
enum { M_TRUE, M_FALSE, M_SRC, M_UNK };

struct mres {
	int r;
	char why[256]; /* M_SRC: the condition; M_UNK: the reason */
};

/*
 * What a match's left side gave: an answer in res (MD_DONE), a key to
 * look up in the right side (MD_LOOKUP), or a right side that could not
 * be read (MD_UNREADABLE).
 */
enum { MD_DONE, MD_LOOKUP, MD_UNREADABLE };

enum { V_NONE, V_ACCEPT, V_DROP, V_RETURN, V_JUMP, V_GOTO, V_UNKNOWN };

struct rres {
	int m; /* M_TRUE, M_FALSE, M_SRC, M_UNK */
	char why[256];
	int v;		    /* V_* */
	const char *target; /* V_JUMP, V_GOTO */
};

/* Shared by the firewall's files (defined where their section is). */
struct fw_chain *fw_find_chain(const struct pdx_ruleset *rs, const char *family,
    const char *table, const char *name);
int fw_pre_false(const struct pdx_ruleset *rs, const struct fw_pre *pre, int l4,
    unsigned dport);
void fw_pre_skip(const struct fw_chain *c, unsigned dport, size_t *idx,
    long *budget);
json_t *fw_find_set(const struct pdx_ruleset *rs, const char *family,
    const char *table, const char *name);
const char *fw_jstr(json_t *o, const char *k);
int fw_is_transport(const char *proto);
long fw_port_number(json_t *v);
int fw_l4_by_name(const char *s);
void fw_value_text(json_t *v, char *buf, size_t size);
void fw_eval_rule(const struct pdx_ruleset *rs, const struct pkt *p,
    json_t *rule, struct rres *r);
int fw_l4_number(json_t *v);
void fw_add_why(char *buf, size_t size, const char *sep, const char *s);

/*
 * firewall-cache.c: the ruleset's JSON text kept per namespace while the
 * kernel's generation of it is the same.  fw_cache_key reads the boot id,
 * the namespace's cookie and the ruleset's generation (before listing:
 * ok = 0 when any is unknown or the cache is off); fw_cache_get returns
 * the cached text (malloc'd, *len bytes) when it is the one of that key,
 * or NULL; fw_cache_put files a text under the key (errors ignored: it is
 * a cache).
 */
struct fw_cache_key {
	char boot[40];
	uint64_t cookie;
	uint32_t gen;
	int ok;
};
int fw_cache_key(struct fw_cache_key *);
char *fw_cache_get(const struct fw_cache_key *, size_t *len);
void fw_cache_put(const struct fw_cache_key *, const char *text, size_t len);

#endif
