/*
 * audit-int.h - what the audit's files share: what a rule needs, the facts
 * about one listener, the rule table's shape, a finding, and the helpers
 * more than one of them calls.  audit.c evaluates (gathering facts with
 * audit-facts.c, the rules of audit-rules.c, accepted findings of
 * audit-accept.c); audit-store.c keeps baselines and history.
 */
#ifndef PDX_AUDIT_INT_H
#define PDX_AUDIT_INT_H
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "portdex.h"
#include "portdex/audit.h"
#include "portdex/firewall.h"

/* ---- what a rule needs to be evaluated ------------------------------ */

#define NEED_DB 0x1	   /* the registry */
#define NEED_PID 0x2	   /* the socket's process */
#define NEED_EXE 0x4	   /* the process's executable */
#define NEED_STATE 0x8	   /* the state database */
#define NEED_BASELINE 0x10 /* a saved baseline */

/* Programs that are not services when they hold a listening socket. */
enum tool_kind { TOOL_NONE, TOOL_RELAY, TOOL_SHELL, TOOL_INTERP };

struct tool {
	const char *name;
	int kind;
	int versioned; /* "python" also matches "python3.11" */
	int by_exe;    /* also match the executable's name */
};

/* ---- facts about one listener --------------------------------------- */

struct listener {
	const struct pdx_socket *s;
	struct pdx_brief b;
	int has_brief;
	/* the port's risk reasons (pdx_risk_reason_bits), if it has risk */
	uint32_t reasons;
	const char *reasons_what;
	/* on the heap (two PATH_MAX arrays were 8 kB a listener) */
	char *exe; /* NULL unless exe_known */
	int exe_known;
	int exe_refused; /* reading it was refused */
	int exe_deleted;
	const char *exe_dir_why; /* NULL: not writable */
	char *exe_dir;		 /* NULL unless writable_why */
	int exe_borrowed;	 /* exe, exe_dir: another's */
	const struct tool *tool;
	int noted;
	int in_baseline;
	int loopback, wildcard;
	/*
	 * The firewall's verdict (and IPv4's for a dual "::"), if read:
	 * v[0] and v[1] on the heap, only for listeners judged.
	 */
	struct pdx_verdict *v;
	int judged;
	const struct pdx_published *pub; /* a published port */
};

struct audit {
	struct pdx_db *db;
	struct pdx_state *state;
	const char *procdir;
	int have_baseline;
	time_t baseline_saved;
	char *new_clause; /* check_new's, made once */
	json_t *notes;	  /* array, or NULL */
	json_t *baseline; /* key -> saved time */
	/* the registry's malware rows, read once per run (malware_names) */
	struct mal_row {
		unsigned lo, hi;
		int mask;
		char *name;
	} * mal;
	size_t nmal;
	int mal_read;
};

struct check_arg {
	struct audit *a;
	const struct listener *l;
	char *buf; /* the rule's clause of "why" */
	size_t size;
	int level; /* set: the finding's level instead */
};

struct audit_rule {
	const char *id;
	int level;
	int needs;
	const char *text; /* what the rule looks for */
	const char *next; /* what to check next; {port} {proto} {pid} */
	int (*check)(struct check_arg *);
};

extern const struct audit_rule audit_rules[];
extern const size_t audit_nrules;
#define NRULES audit_nrules

struct finding {
	const struct audit_rule *rule;
	int level; /* the rule's, or info */
	const struct listener *l;
	const struct pdx_audit_accept *acc;
	char *clause; /* its "why"; NULL
						   when only counted */
};

/*
 * One evaluation: its inputs, the listeners and findings it builds, and
 * what it counts on the way.  audit_eval_run runs its phases in
 * order: setup, the facts of every socket and published port, the rules,
 * what could not be seen, then the document or a view.
 */
struct eval {
	struct audit a;
	const struct pdx_audit_opts *o;
	const struct pdx_socket *v;
	size_t n;
	const struct pdx_attr_stats *st;
	int requested, backend;
	int protos;
	struct pdx_portset ps;
	struct listener *ls;
	size_t nl; /* listeners of sockets */
	size_t np; /* then of published ports */
	struct finding *fs;
	size_t nf, capf;
	struct clause_block *clauses; /* the findings' clauses */
	size_t no_pid, exe_refused;
	size_t *pidix, pidcap;
	struct pdx_published *pub;
	struct pdx_socket *pubsock;
	size_t npub;
	int count_only; /* no clauses, no document */
	int terse_info; /* no clauses for the info
						   findings not accepted */
};

/* The evaluation of audit.c (its phases there), shared with the views. */
int audit_eval_run(struct eval *e);
void audit_eval_init(struct eval *e, struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, const struct pdx_socket *v, size_t n,
    const struct pdx_attr_stats *st, int requested, int backend);
void audit_eval_free(struct eval *e);
void audit_eval_completeness(const struct eval *e, json_t *incomplete,
    json_t *notes);
void audit_subject(const struct listener *l, char *buf, size_t size);
void audit_expand(const char *tmpl, const struct pdx_socket *s, char *buf,
    size_t size);
void audit_protos_text(int protos, char *buf, size_t size);
json_t *audit_clean_str(const char *s);
/* The document of e handed to k as it is made (audit.c). */
int audit_eval_emit(const struct eval *e, const struct pdx_json_sink *k);
/*
 * What audit_run_view does with this machine's sockets, attributed (the
 * accepted findings of the default configuration and this namespace's
 * firewall filled into opts when asked): 0, or -1 with the error.
 */
typedef int (*audit_view_fn)(void *arg, struct pdx_db *db,
    struct pdx_state *state, const struct pdx_audit_opts *o,
    const struct pdx_socket *v, size_t n, const struct pdx_attr_stats *st,
    int requested, int backend);
int audit_run_view(struct pdx_db *db, struct pdx_state *state,
    const struct pdx_audit_opts *o, audit_view_fn view, void *arg);

/* Shared by the audit files (defined where their section is). */
json_t *audit_opt_str(const char *s);
void audit_listener_key(int proto, const char *address, unsigned port,
    char *buf, size_t size);
const char *audit_base_name(const char *path);
void audit_endpoint(const struct pdx_socket *s, char *buf, size_t size);
/*
 * A string put together in a fixed buffer, cut where snprintf would cut
 * it (size - 1 bytes and a NUL): the per-finding texts without parsing
 * a format each time.
 */
struct abuf {
	char *b;
	size_t len, size;
};
void ab_init(struct abuf *t, char *buf, size_t size);
void ab_num(struct abuf *t, long long v);

/* Inline: a literal's length and copy are then the compiler's. */
static inline void
ab_mem(struct abuf *t, const char *s, size_t n)
{
	if (t->size == 0)
		return;
	if (n > t->size - 1 - t->len)
		n = t->size - 1 - t->len;
	memcpy(t->b + t->len, s, n);
	t->len += n;
	t->b[t->len] = '\0';
}

static inline void
ab_str(struct abuf *t, const char *s)
{
	ab_mem(t, s, strlen(s));
}
int audit_is_loopback(int family, const uint8_t *a);
int audit_is_wildcard(int family, const uint8_t *a);
json_t *audit_json_time(time_t t);
const struct tool *audit_tool_match(const char *name, int exe);
int audit_check_admin_published(struct check_arg *c);
const struct pdx_audit_accept *
audit_accepted(const struct pdx_audit_accepts *as, const char *rule,
    unsigned port, int proto);
int audit_load_baseline(struct audit *a);
int audit_read_exe_once(struct audit *a, struct listener *ls,
    struct listener *l, size_t *pidix, size_t pidcap);
int audit_state_error(sqlite3 *db);

/* ---- the history (audit-history.c) ----------------------------------- */

/* The runs of a span in SQL (a range of run ids; open: to the latest). */
#define SPAN_RUNS(s, r) \
	" JOIN audit_runs " r " ON " r ".id >= " s ".first_run AND " r \
	".id <=" \
	" COALESCE(" s ".last_run, 9223372036854775807)"

/* Listener i of a run to record; 0, or -1 (the error set) when malformed. */
typedef int (*rec_row_fn)(void *arg, size_t i, int *proto, const char **addr,
    unsigned *port, const char **process, const char **user);
/*
 * Adds one run (its summary, then nrows listeners from row) to the
 * history in one transaction and prunes the oldest runs beyond max (0:
 * PDX_AUDIT_HISTORY_MAX).  0, or -1 and the error.
 */
int audit_record_run(struct pdx_state *state, const char *scope,
    sqlite3_int64 nl, sqlite3_int64 nfind, const char *worst, int complete,
    unsigned max, size_t nrows, rec_row_fn row, void *arg);

#endif
