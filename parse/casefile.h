/* A case file, parsed: the scenario family as written, before matrix expansion.
 *
 * The format is line oriented (docs/case-format.md). A directive starts in column 0;
 * indented lines continue it (steps under "setup:"/"test:", "why"/"ref" under "expect",
 * more text under "about"). Lines whose first non-blank character is '#' are comments. */
#ifndef SOCKREUSE_CASEFILE_H
#define SOCKREUSE_CASEFILE_H
#include <stdbool.h>
#include <stddef.h>
#include "lib/kv.h"

/* Where something was written, for messages: "cases/0110.case:12:8". */
struct srcpos {
	int line, col;
};

enum cond_op { COND_EQ, COND_NE, COND_GE, COND_LT };

/* key=a|b, key!=a|b, kernel>=6.14, kernel<6.1 */
struct cond {
	char *key;
	enum cond_op op;
	char **vals;
	size_t nvals;
	struct srcpos pos;
};

struct condlist {
	struct cond *v;
	size_t n;
};

struct axis {
	char *name;
	char **vals;
	size_t nvals;
	struct srcpos pos;
};

/* let NAME VALUE [when CONDS]: the first rule for NAME whose conditions hold gives its value. */
struct let_rule {
	char *name;
	char *value;
	struct condlist when;
	struct srcpos pos;
};

/* expect OUTCOME [at STEP] [when CONDS] + why + refs: the first rule whose conditions hold
 * is the expectation. OUTCOME is "ok", an errno name, or "any" (observed, not asserted);
 * with "at STEP" the step that failed must be that verb too. */
struct expect_rule {
	char *outcome;
	char *at;        /* NULL, or the verb the outcome must come from */
	char *label;     /* as reports show it: "EADDRINUSE" or "EADDRINUSE at listen" */
	struct condlist when;
	char *why;
	char **refs;
	size_t nrefs;
	struct srcpos pos;
};

struct step {
	char **argv;     /* raw tokens; {var} is substituted per instance */
	int argc;
	int *cols;       /* the column of each token, for messages */
	struct condlist when;  /* "VERB ARGS when COND...": the step is part of matching instances only */
	struct srcpos pos;
	bool may_fail;   /* "try VERB ARGS": a refused call is recorded as a fact, not a failure */
};

struct steplist {
	struct step *v;
	size_t n;
};

struct case_file {
	char *path;
	int number;
	int line;                /* of the 'case' directive: where the case begins */
	char *title;
	char *group;
	char *about;
	char *topology;          /* "loopback", "pair", or "{var}" */
	double timeout_s;        /* 0: the run's default */
	struct axis *axes;
	size_t naxes;
	struct condlist *excludes;
	size_t nexcludes;
	struct kvlist params;    /* param NAME VALUE (values may hold {var}) */
	struct kvlist sysctls;   /* sysctl NAME VALUE (values may hold {var}) */
	struct let_rule *lets;
	size_t nlets;
	struct steplist setup, test;
	struct expect_rule *expects;
	size_t nexpects;
	/* Where things were written, for messages about them once the plan fills them in. */
	struct srcpos number_pos, title_pos, topology_pos;
	struct srcpos *param_pos, *sysctl_pos;  /* one per entry of params, sysctls */
};

/* The range of a case's timeout, in seconds, in a case file and on the command line: a
 * case needs a few milliseconds at least, and an hour is far beyond any scenario. */
#define TIMEOUT_MIN_S 0.1
#define TIMEOUT_MAX_S 3600.0

/* Parses text (the contents of path). Returns 0, or -1 with "path:line:col: message" in err. */
int casefile_parse(const char *path, const char *text, struct case_file *out, char *err, size_t errlen);
/* Reads and parses a file. Same contract. */
int casefile_load(const char *path, struct case_file *out, char *err, size_t errlen);
void casefile_free(struct case_file *cf);

#endif
