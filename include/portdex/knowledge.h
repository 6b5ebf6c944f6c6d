/*
 * portdex/knowledge.h - part of the libportdex API (see portdex.h): the
 * curated knowledge files under data/ (the files of uses/: what really uses a port;
 * related.tsv: which ports belong together), their parsers and their lint.
 * The format is documented in docs/knowledge.md.
 */
#ifndef PORTDEX_KNOWLEDGE_H
#define PORTDEX_KNOWLEDGE_H
#include "portdex.h"

PDX_API_BEGIN

/* What kind of use a row of a uses file records. */
enum pdx_use_kind {
	PDX_USE_UNOFFICIAL = 0,	   /* used without an assignment */
	PDX_USE_VENDOR_DEFAULT,	   /* a product's documented default */
	PDX_USE_PLATFORM_DEFAULT,  /* an operating system's default */
	PDX_USE_HISTORIC,	   /* a use that has died out */
	PDX_USE_MALWARE,	   /* trojans, worms, backdoors */
	PDX_USE_GAME,		   /* game servers and clients */
	PDX_USE_IANA_UNAUTHORIZED, /* IANA's "Unauthorized Use Reported" */
	PDX_USE_SERVICE,	   /* the port's protocol as implemented */
	PDX_USE_ATTACK_TOOL,	   /* offensive tooling's default */
	PDX_USE_AMPLIFICATION,	   /* UDP reflection/amplification */
	PDX_USE_C2,		   /* malware's command servers listen */
	PDX_USE_EXPLOITED,	   /* malware attacks the service here */
	PDX_USE_NKINDS
};
/* "vendor-default" for PDX_USE_VENDOR_DEFAULT; "" when out of range. */
const char *pdx_use_kind_name(int);
/* The kind for a name, -1 if unknown. */
int pdx_use_kind_parse(const char *);

/* How well a row is backed. */
enum pdx_confidence {
	PDX_CONF_DOCUMENTED = 0, /* a primary source says so */
	PDX_CONF_REPORTED,	 /* only a secondary report */
	PDX_CONF_OBSERVED,	 /* nmap's label or frequency alone */
	PDX_CONF_NLEVELS
};
const char *pdx_confidence_name(int);
int pdx_confidence_parse(const char *);

/* The forms a source may take (a row may cite several, "; "-separated). */
enum pdx_source_kind {
	PDX_SRC_URL = 1,   /* "https://..." or "Title https://..." */
	PDX_SRC_RFC = 2,   /* "RFC 1094" */
	PDX_SRC_IANA = 4,  /* "IANA registry NAME PORT[/PROTO]" */
	PDX_SRC_NMAP = 8,  /* "nmap-services NAME PORT/PROTO (nmap-common V)" */
	PDX_SRC_SEED = 16, /* "seed:645" */
};

/*
 * One row of a uses file.  Every string is borrowed from the parser and is
 * valid only during the callback; copy what you keep.
 */
struct pdx_use {
	int port_lo, port_hi;
	int protos;	      /* PDX_* mask, never 0 */
	int kind;	      /* enum pdx_use_kind */
	int confidence;	      /* enum pdx_confidence */
	int lead;	      /* 1: the port's headline identity */
	const char *name;     /* product, protocol or malware */
	const char *platform; /* "" when the file says "-" */
	const char *years;    /* as written: "1998", "1999-2004", ... */
	int year_from;	      /* 0 when open or unknown */
	int year_to;	      /* 0 when open or unknown */
	const char *source;   /* one or more, "; "-separated */
	int source_kinds;     /* PDX_SRC_* mask of what source cites */
	const char *text;     /* one sentence */
	unsigned line;
};
typedef int (*pdx_use_fn)(const struct pdx_use *, void *);

/*
 * Parse a uses file (data/uses/NAME.tsv) held in memory (UTF-8, LF line ends, no NUL bytes, lines
 * of at most PDX_KNOWLEDGE_MAXLINE bytes).  Calls fn for each row (fn may
 * be NULL); fn returns 0 to go on, a positive value to stop early, or a
 * negative value to fail (it sets the error).  Returns the number of rows
 * seen, or -1 with the error "NAME:LINE: what" on the first bad line.
 */
#define PDX_KNOWLEDGE_MAXLINE 2048
long pdx_knowledge_parse(const char *buf, size_t len, const char *name,
    pdx_use_fn fn, void *arg);

/* One row of related.tsv: two ports (or ranges) and why they belong. */
struct pdx_related {
	int a_lo, a_hi;
	int b_lo, b_hi;
	const char *reason;
	const char *source; /* "" when the file says "-" */
	int source_kinds;   /* 0 for "-" */
	unsigned line;
};
typedef int (*pdx_related_fn)(const struct pdx_related *, void *);

/* Same contract as pdx_knowledge_parse, for related.tsv. */
long pdx_related_parse(const char *buf, size_t len, const char *name,
    pdx_related_fn fn, void *arg);

/* The fixed header lines (without the newline). */
extern const char pdx_uses_header[];
extern const char pdx_related_header[];

/*
 * The curated uses live in dir/uses/ as one file per domain (NAME.tsv,
 * same header).  Lists their paths, sorted by name, as a malloc'd array
 * of malloc'd strings (caller frees with pdx_knowledge_files_free);
 * returns the count, 0 when the directory is missing, -1 on error.
 */
long pdx_knowledge_files(const char *dir, char ***paths);
void pdx_knowledge_files_free(char **paths, long n);

/*
 * Checks the files of dir/uses/ and dir/related.tsv beyond what the parsers check:
 * duplicates (same ports, transports, kind and name, across
 * files; the same pair twice in either order), rows out of port order,
 * two lead rows for one port and transport, rows backed only by a seed
 * article not marked "reported", rows backed only by nmap not marked
 * "observed", a documented vendor default cited only to a secondary
 * source, self-pairs.  Returns the number
 * of problems found (0: clean), or -1 if a file cannot be read or does
 * not parse.  When report is not NULL, *report is set to a malloc'd text
 * of one "FILE:LINE: what" line per problem (caller frees), or NULL when
 * clean.
 */
long pdx_knowledge_lint(const char *dir, char **report);

/*
 * Which ports the curated uses name, one bit per transport index
 * (pdx_proto_index) in mask[port] (65536 bytes, cleared first); a use for
 * every transport sets every bit.  Only uses of at most max_span ports
 * count: wide ranges (dynamic ports, RTP media) would mark every
 * ephemeral port.  A registry without curated knowledge leaves mask
 * clear.  0, or -1 with the error set.
 */
int pdx_curated_ports(struct pdx_db *, unsigned max_span, uint8_t *mask);

PDX_API_END

#endif
