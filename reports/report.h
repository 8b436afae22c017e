/* The result of a run, as the writers see it and as the JSON reader rebuilds it.
 * Everything here is plain data: the writers never look at the runner's internals. */
#ifndef SOCKREUSE_REPORT_H
#define SOCKREUSE_REPORT_H
#include <stdio.h>
#include <stddef.h>
#include "lib/kv.h"

/* xfail and xpass exist only with a known-issues file (run --known): a failing case listed
 * there is xfail, a listed case that passes is xpass. Neither counts as failing. */
enum status { ST_PASS, ST_FAIL, ST_SKIP, ST_ERROR, ST_XFAIL, ST_XPASS };

/* "pass", "fail", "skip", "error", "xfail", "xpass" */
const char *status_name(enum status s);
/* Parses a status name; returns -1 when it is none of them. */
int status_parse(const char *s);

struct case_result {
	char *id;          /* stable id: "0110/family=inet/..." */
	int number;        /* the case file's number, e.g. 110 */
	char *title;       /* with matrix values filled in */
	char *group;       /* family of cases, e.g. "bind" */
	struct kvlist params;   /* flat params (DESIGN vocabulary) */
	char *expected;    /* "ok", an errno name, or "" when nothing is asserted */
	char *observed;    /* "ok", an errno name, or "" when the step under test was not reached */
	enum status status;
	double duration_ms;
	char *detail;      /* why not pass: error text, skip reason, failing step; may be "" */
	char *rationale;   /* why the expected outcome is what it is */
	char **refs;       /* references: man pages, RFC sections, kernel functions */
	size_t nrefs;
	struct kvlist facts;    /* optional observed facts: "port", "failed_at", "count" ... */
	char *known;       /* the known-issues entry's reason (xfail, xpass), else "" */
	char *file;        /* the case file, as the run named it; may be "" */
	int line;          /* the line of the expectation that applied (0: unknown) */
	int borrowed;      /* made by case_result_borrow: owns its detail only */
};

struct run_info {
	char *tool_name;       /* "sockreuse" */
	char *tool_version;
	char *kernel_release;  /* uname -r */
	char *kernel_version;  /* uname -v */
	char *kernel_upstream; /* "6.1.192": the upstream version, which Debian's release hides */
	char *machine;         /* uname -m */
	char *hostname;
	char *started;         /* ISO 8601 UTC, "2026-11-21T10:11:39Z" */
	double duration_s;
	struct kvlist properties; /* e.g. host sysctl defaults, as read in a fresh namespace */
};

struct report {
	struct run_info info;
	struct case_result *cases;
	size_t ncases, cap;
	int interrupted;       /* the run was stopped by a signal; cases not run are absent */
	char *interruption;    /* why, when interrupted: "interrupted by SIGINT: 3 of 40 cases finished" */
};

struct summary {
	size_t total, pass, fail, skip, error, xfail, xpass;
};
struct summary report_summary(const struct report *r);

/* Takes ownership of nothing: deep-copies c into the report. */
void report_add(struct report *r, const struct case_result *c);
/* Deep-copies src into dst (NULL strings become ""). */
void case_result_copy(struct case_result *dst, const struct case_result *src);
/* A result that shares every field with src but detail, which it copies: for results
 * whose strings (the plan's, the tallies') outlive them. The runner keeps them so while
 * cases fork, because a deep copy of 4000 results is heap that every fork would copy. */
void case_result_borrow(struct case_result *dst, const struct case_result *src);
void case_result_free(struct case_result *c);
void report_free(struct report *r);

/* Writers. Each writes the complete report to f and returns 0, or -1 on an I/O error.
 * TAP can also be streamed: tap_begin, tap_case for each result, tap_end. */
int tap_write(FILE *f, const struct report *r);
void tap_begin(FILE *f);
void tap_case(FILE *f, size_t n, const struct case_result *c);
void tap_end(FILE *f, size_t n, const struct report *r);
/* JUnit valid under the Ant (windyroad) and Jenkins xunit schemas; the annotated variant adds
 * file and line to each testcase for CI annotations (valid under junit-10.xsd only). */
int junit_write(FILE *f, const struct report *r);
int junit_write_annotated(FILE *f, const struct report *r);
int json_write(FILE *f, const struct report *r);
/* One case as one line of JSON, the object json_write puts in "cases", then flushes f. */
int json_case_line(FILE *f, const struct case_result *c);

/* Writes a report to path as lib/outfile.h says: a regular file is replaced atomically,
 * anything else written through, "-" is standard output. Returns 0, or -1 with err set. */
int report_write_file(const char *path, int (*writer)(FILE *, const struct report *),
		      const struct report *r, char *err, size_t errlen);

/* Reads a JSON report written by json_write (or by an older version of the tool), or a
 * compact baseline; either may be gzip-compressed (.json.gz), read through zlib.
 * Returns 0, or -1 with a one-line message in err naming the problem. */
int json_read(const char *path, struct report *out, char *err, size_t errlen);

#endif
