/*
 * portdex/audit.h - part of the libportdex API (see portdex.h): the audit
 * of this machine's listeners.  A table of rules (id, level, explanation,
 * check) runs over the listening sockets, what the registry knows of
 * their ports, their processes and executables, the user's notes and the
 * saved baseline, and gives findings as one JSON document (docs/audit.md
 * describes it).  Accepting a finding on purpose (a config file, or an
 * --ignore) marks it accepted; it is never dropped.  Baselines and a
 * bounded history of runs live in the state database.
 */
#ifndef PORTDEX_AUDIT_H
#define PORTDEX_AUDIT_H
#include "portdex.h"

PDX_API_BEGIN

/* Declared in portdex/sockets.h, which may be included after this file. */
struct pdx_socket;
struct pdx_attr_stats;

#define PDX_AUDIT_SCHEMA 1
#define PDX_AUDIT_HISTORY_MAX 1000 /* runs kept in the history */

/* One accepted finding: RULE[:PORT[/PROTO]] with a reason. */
struct pdx_audit_accept {
	char *rule;   /* a rule id, or "*" for every rule */
	int port;     /* -1: any port */
	int proto;    /* PDX_* bit, 0: any transport */
	char *reason; /* may be "" */
	char *origin; /* "FILE:LINE" or "--ignore" */
};

/* A growable list of accepts (at most PDX_AUDIT_MAX_ACCEPTS). */
#define PDX_AUDIT_MAX_ACCEPTS 10000
struct pdx_audit_accepts {
	struct pdx_audit_accept *v;
	size_t n, cap;
};

/*
 * Adds one accept from spec ("RULE", "RULE:PORT", "RULE:PORT/PROTO";
 * RULE is a rule id or "*").  reason and origin are copied.  Returns 0,
 * or -1 and the error (unknown rule, bad port or transport).
 */
int pdx_audit_accept_add(struct pdx_audit_accepts *, const char *spec,
    const char *reason, const char *origin);
/*
 * Reads a config file: blank lines and '#' comments are skipped, every
 * other line is "accept RULE[:PORT[/PROTO]] [reason...]".  A missing file
 * is not an error when optional is set (returns 0 and adds nothing),
 * nor is one whose directory we may not search.
 * Returns the number of accepts added, or -1 and the error ("FILE:LINE:
 * ...").
 */
int pdx_audit_config_load(struct pdx_audit_accepts *, const char *path,
    int optional);
/*
 * Loads the default config files that exist: /etc/portdex/audit.conf,
 * then $XDG_CONFIG_HOME/portdex/audit.conf (or ~/.config/...).
 * Returns 0 or -1 and the error.
 */
int pdx_audit_config_default(struct pdx_audit_accepts *);
void pdx_audit_accepts_free(struct pdx_audit_accepts *);

/* The rule table as JSON: [{rule, level, text, next}].  New reference. */
json_t *pdx_audit_rules(void);
/* Whether id names a rule. */
int pdx_audit_rule_exists(const char *id);

struct pdx_ruleset;

struct pdx_audit_opts {
	const char *ports;   /* port set spec, NULL: every port */
	int protos;	     /* PDX_TCP|PDX_UDP|PDX_SCTP; 0: tcp+udp */
	int backend;	     /* enum pdx_sock_backend */
	const char *procdir; /* NULL: "/proc" */
	const struct pdx_audit_accepts *accepts; /* may be NULL */
	int default_config;			 /* accepts NULL: read the
						   default config files */
	int record;	      /* add this run to the history */
	unsigned history_max; /* 0: PDX_AUDIT_HISTORY_MAX */
	/*
	 * The packet filter (portdex/firewall.h) to judge the listeners
	 * and find published ports; NULL: pdx_audit_run reads this
	 * namespace's, pdx_audit_evaluate consults none.
	 */
	const struct pdx_ruleset *ruleset;
	/*
	 * The document's "findings" left empty (its summary still counts
	 * them): for callers that read only the listeners, scope and
	 * coverage (portdex audit --diff, --save-baseline).
	 */
	int no_findings;
};

/*
 * Audits the listeners of this machine.  db (the registry) and state may
 * be NULL: the rules that need them do not run and the document says so
 * ("complete": false).  Returns a new JSON document (docs/audit.md), or
 * NULL and the error when the sockets cannot be listed at all.
 */
json_t *pdx_audit_run(struct pdx_db *, struct pdx_state *,
    const struct pdx_audit_opts *);

/*
 * The same over sockets the caller already has (tests; v is borrowed and
 * must have been attributed if pids are wanted).  backend is the one that
 * listed them, requested the one asked for; st may be NULL (no
 * attribution was tried).
 */
json_t *pdx_audit_evaluate(struct pdx_db *, struct pdx_state *,
    const struct pdx_audit_opts *, const struct pdx_socket *v, size_t n,
    const struct pdx_attr_stats *st, int requested, int backend);

/*
 * The number of rules in the table (pdx_audit_rules' array).
 */
size_t pdx_audit_nrules(void);
/*
 * Audits this machine's listeners as pdx_audit_run does, without building
 * the document (for metrics): count[i] (i < ncount) is set to the number
 * of findings of rule i of the table (pdx_audit_rules' order) that are not
 * accepted, *complete (may be NULL) to what the document's "complete"
 * would say.  Nothing is recorded (opts' record is ignored).  Returns 0,
 * or -1 and the error when the sockets cannot be listed at all.
 */
int pdx_audit_count(struct pdx_db *, struct pdx_state *,
    const struct pdx_audit_opts *, size_t *count, size_t ncount, int *complete);

/*
 * A finding as pdx_audit_stream hands it over: the fields of the
 * document's finding that the text shows, its strings cleaned as in the
 * document (NULL where the document has null).  Valid during the call.
 */
struct pdx_audit_finding {
	int level; /* PDX_LEVEL_* */
	const char *rule;
	int proto; /* PDX_TCP, ... */
	const char *address;
	unsigned port;
	long pid; /* 0: no process seen */
	const char *process, *user, *unit;
	const char *why, *next;
	int accepted;
	const char *accepted_by, *accepted_reason; /* when accepted */
};

/* The document's summary, scope and coverage for pdx_audit_stream. */
struct pdx_audit_summary {
	size_t listeners;
	size_t findings; /* not accepted */
	size_t accepted;
	size_t level[PDX_LEVEL_HIGH + 1]; /* not accepted */
	size_t unattributed;
	int worst; /* PDX_LEVEL_NONE: none */
	int complete;
	const char *ports;   /* the scope: opts' ports or "all" */
	char transports[32]; /* "tcp,udp,sctp" */
	json_t *incomplete;  /* arrays of strings, owned */
	json_t *notes;
};

/*
 * Audits this machine's listeners as pdx_audit_run does (and records the
 * run when opts say so) without building the document: sum is filled,
 * then fn is called with each finding in the document's order, most
 * severe first (fn returning nonzero stops the calls).  Returns 0, or -1
 * and the error (sum then holds nothing to free).  Free sum with
 * pdx_audit_summary_free.
 */
typedef int (*pdx_audit_finding_fn)(void *arg, const struct pdx_audit_finding *,
    const struct pdx_audit_summary *);
int pdx_audit_stream(struct pdx_db *, struct pdx_state *,
    const struct pdx_audit_opts *, unsigned flags,
    struct pdx_audit_summary *sum, pdx_audit_finding_fn fn, void *arg);
/* flags: info findings not accepted come without why and next (NULL) */
#define PDX_AUDIT_STREAM_TERSE_INFO 0x1
void pdx_audit_summary_free(struct pdx_audit_summary *);

/*
 * A JSON document handed over as it is made: its members in order, an
 * array member as array(key), then item() for each element, then
 * array_end().  Each json_t handed over is the callee's (a new
 * reference); NULL means an element could not be made (out of memory).
 */
struct pdx_json_sink {
	void (*member)(void *arg, const char *key, json_t *v);
	void (*array)(void *arg, const char *key);
	void (*item)(void *arg, json_t *v);
	void (*array_end)(void *arg);
	void *arg;
};
/*
 * Audits this machine's listeners as pdx_audit_run does (and records the
 * run when opts say so), handing the document to sink as it is made
 * instead of building it: the same members in the same order, a finding
 * or a listener in memory at a time.  Returns 0, or -1 and the error
 * (nothing handed over).
 */
int pdx_audit_run_sink(struct pdx_db *, struct pdx_state *,
    const struct pdx_audit_opts *, const struct pdx_json_sink *sink);

/*
 * The worst level among the findings of doc that are not accepted
 * (PDX_LEVEL_NONE when there are none).
 */
int pdx_audit_worst(json_t *doc);

/*
 * Stores the listeners of doc as the baseline: the rows within doc's
 * scope (its ports and transports) are replaced.  Returns the number of
 * listeners saved, or -1 and the error.
 */
int pdx_audit_save_baseline(struct pdx_state *, json_t *doc);
/*
 * Listeners added and gone since the baseline, within doc's scope:
 * {baseline: {saved} | null, added: [...], gone: [...]} with first/last
 * seen times from the history.  New reference, or NULL and the error.
 */
json_t *pdx_audit_diff(struct pdx_state *, json_t *doc);
/*
 * Adds doc as one run to the history and prunes the oldest runs beyond
 * max (0: PDX_AUDIT_HISTORY_MAX).  Returns 0 or -1 and the error.
 */
int pdx_audit_record(struct pdx_state *, json_t *doc, unsigned max);
/*
 * When each listener (on ports in ps, NULL: all) was first and last seen
 * in the history: {runs, since, listeners: [...]}.  New reference, or
 * NULL and the error.
 */
json_t *pdx_audit_history(struct pdx_state *, const struct pdx_portset *ps);

PDX_API_END

#endif
