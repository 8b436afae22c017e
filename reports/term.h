/* The terminal view of a run: one progress line, each failure or error as it happens with
 * its expected and observed outcome, and a recap at the end. For people; scripts read TAP,
 * JSON or the --jsonl events. */
#ifndef SOCKREUSE_TERM_H
#define SOCKREUSE_TERM_H
#include "reports/report.h"

#include <stdio.h>

enum term_verbosity { TERM_QUIET = -1, TERM_NORMAL = 0, TERM_VERBOSE = 1 };

struct term_opts {
	enum term_verbosity verbosity;  /* quiet: recap and summary only; verbose: every case, and why */
	int color;                      /* SGR colours */
};

struct term_view;

/* Starts the view on f (a terminal) for a run of total cases. */
struct term_view *term_open(FILE *f, size_t total, const struct term_opts *o);
/* One finished case (the report's copy: it must outlive the view). */
void term_case(struct term_view *v, const struct case_result *c);
/* Time passed with no case finishing: the progress line's clock moves on. */
void term_tick(struct term_view *v);
/* Ends the view: the recap of failures and errors, then the summary line; note, when not
 * NULL, says why the run ended early. Frees v. */
void term_close(struct term_view *v, const struct report *r, const char *note);

#endif
