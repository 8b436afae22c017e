/* The step language's verbs, as the language sees them: name, arguments and their kinds,
 * properties. The parser and the planner check steps against this table before anything
 * runs; exec/ holds one implementation per verb, keyed by the same name (a unit test keeps
 * the two in step). Growing the language starts here (docs/case-format.md lists the verbs). */
#ifndef SOCKREUSE_VERBS_SPEC_H
#define SOCKREUSE_VERBS_SPEC_H
#include <stdbool.h>
#include <stddef.h>

/* What an argument may be. Each kind is checked where it is written literally (when the
 * file loads) and again after {var} substitution (when the plan is built). */
enum arg_kind {
	ARG_END = 0,
	ARG_NAME,     /* a socket name (or name prefix): a word that fits a socket slot */
	ARG_PROTO,    /* tcp | udp; the planner fills a missing one from the case's proto */
	ARG_FAMILY,   /* inet | inet6; the planner fills a missing one from the case's family */
	ARG_ADDR,     /* an address word (host, host2, peer, any, unassigned, loopback) or a literal */
	ARG_PORT,     /* a port number, lo..hi */
	ARG_NUM,      /* an integer, lo..hi */
	ARG_BOOL,     /* 0 | 1 */
	ARG_WORD,     /* one of .words */
	ARG_STATE,    /* a TCP state name (.words narrows them) */
	ARG_OPTION,   /* a socket option the suite speaks of */
	ARG_OPTVAL,   /* the value of the ARG_OPTION before it */
	ARG_RANGE,    /* LO-HI with 1 <= LO <= HI <= 65535 */
	ARG_RANGE_LO, /* LO-HI, or LO followed by HI as the next argument */
	ARG_SYSCTL,   /* the name of a sysctl of the case's own network namespace */
	ARG_TEXT,     /* any word (a sysctl value) */
};

struct arg_spec {
	enum arg_kind kind;
	const char *key;    /* options only: the KEY of KEY=VALUE */
	long lo, hi;        /* ARG_NUM, ARG_PORT bounds */
	const char *words;  /* ARG_WORD, ARG_STATE: the allowed words, space-separated */
	bool optional;      /* a positional argument that may be left out (trailing ones only) */
	int repeat;         /* the last positional argument may be given up to this many times */
	/* Where the planner takes a missing argument from: the case variable fill (the
	 * case's family, its RPORT ...), else dflt. Verbs then never read case variables. */
	const char *fill, *dflt;
};

/* The ports every case may name without declaring them ({PORT}, {RPORT} ...), one list: the
 * planner's built-in variables, and what occupy's rport= is when a step is run without the
 * planner (a unit test of the verb). */
#define CASE_PORT 4000
#define CASE_PORT2 4001
#define CASE_RPORT 5000   /* the remote's listener */
#define CASE_RPORT2 5001  /* a second listener of the remote */

#define VERB_WAITS_ON_TIMER 0x1u  /* lets time pass: the scheduler overlaps such cases */
/* Changes the namespace itself (a link, a neighbour, a sysctl), not only its sockets: the
 * case's namespace never serves another case. A verb with writes_sysctl counts as one. */
#define VERB_CHANGES_NETNS 0x2u

#define VERB_MAX_ARGS 8

struct verb_spec {
	const char *name;
	const char *usage;
	unsigned flags;
	struct arg_spec args[VERB_MAX_ARGS];  /* positional, in order; ends at ARG_END */
	struct arg_spec opts[VERB_MAX_ARGS];  /* KEY=VALUE after them, any order, each once */
	const char *writes_sysctl;            /* a sysctl the verb writes by itself, or NULL */
};

extern const struct verb_spec verb_specs[];
extern const size_t nverb_specs;

/* The verb of that name, or NULL. */
const struct verb_spec *verb_spec_find(const char *name);
/* How many words may follow the verb. */
void verb_arity(const struct verb_spec *v, int *min, int *max);

/* Checks a step's words (argv[0] is the verb) against the table. With literal_only, words
 * that still hold a {var} are left for later. Returns 0, or -1 with a message in err and
 * the index of the word at fault in *bad (0: the verb or the count). */
int verb_check(const struct verb_spec *v, int argc, char *const argv[], bool literal_only, int *bad,
	       char *err, size_t errlen);

/* The spec of the word at index i of a step (positional or KEY=VALUE), or NULL. */
const struct arg_spec *verb_arg_spec(const struct verb_spec *v, int argc, char *const argv[], int i);

/* The list of every verb name, comma-separated, for messages. Caller frees. */
char *verb_names(void);

#endif
