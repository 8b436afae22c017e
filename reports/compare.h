/* Comparing reports from several runs (usually the same suite on different kernels), case by case.
 *
 * Runs are given oldest first: "earlier" and "later" below mean the order of the runs, which the
 * CLI sorts by upstream kernel version (compare_order_by_version) unless told to keep it.
 * Cases line up by id; the rows are the union of all ids, in order of first appearance (every id
 * of run 1 in its order, then the ids only run 2 adds, and so on), so output is stable.
 *
 * A case "ran" in a run when it is present there and its status is not skip.
 * Each cell (a case in one run, from the second run on) is compared with what came before it:
 *
 *   regression  the nearest earlier run where the case ran says pass, this one fail or error
 *   fix         the nearest earlier run where the case ran says fail or error, this one pass
 *   behaviour   against that same earlier run, the observed outcome differs, or the status moves
 *               otherwise (fail and error, or into or out of xfail / xpass: a known issue listed
 *               with run --known is not failing, so pass -> xfail is no regression). Expected outcomes may legitimately differ per kernel, so a
 *               case that passes on both kernels with different observed outcomes is a behaviour
 *               change: shown, documented, but not a regression.
 *   coverage    against the previous run, the case appeared, disappeared, became skipped or stopped
 *               being skipped (a missing prerequisite, an interrupted run, a newer suite)
 *
 * A cell may carry several classes; a row's classes are the union of its cells'. Comparing with
 * the nearest run where the case ran is what makes this equal to the pairwise definition: a row is
 * a regression iff some earlier run passed and some later run failed or errored.
 *
 * One label is shown per row and per cell; the most important class wins:
 *
 *   regression > fix > behaviour > coverage > same
 *
 * (A fix usually changes the observed outcome too; "fix" says more than "behaviour". A regression
 * anywhere in the history outranks a later fix.)
 * Every class except same counts as a change: the CLI exits 1 when any row has one. */
#ifndef SOCKREUSE_COMPARE_H
#define SOCKREUSE_COMPARE_H
#include <stdio.h>
#include <stddef.h>
#include "reports/report.h"

/* In increasing precedence: the label of a set of classes is the highest one in it. */
enum change_class {
	CHANGE_SAME,
	CHANGE_COVERAGE,
	CHANGE_BEHAVIOUR,
	CHANGE_FIX,
	CHANGE_REGRESSION,
	CHANGE_NCLASSES
};
#define CHANGE_BIT(c) (1u << (c))

/* "same", "coverage", "behaviour", "fix", "regression" */
const char *change_class_name(enum change_class c);
/* One sentence for legends: what the class means. */
const char *change_class_meaning(enum change_class c);
/* The label of a set of CHANGE_BITs: its highest-precedence class, or CHANGE_SAME when empty. */
enum change_class change_label(unsigned classes);

struct compare_run;

/* The identity of a run, field by field, in the order the writers show it. */
struct run_field {
	const char *name;
	const char *(*value)(const struct compare_run *r);
};
/* Ends with an entry whose name is NULL. */
extern const struct run_field compare_run_fields[];


struct compare_run {
	const struct report *report;
	const char *source;     /* the file it was read from, or "" */
	char *label;            /* column header: the kernel release, made unique among the runs */
	struct summary summary;
};

struct compare_cell {
	const struct case_result *result; /* NULL when the case is absent from this run */
	unsigned changes;       /* CHANGE_BITs against earlier runs; always 0 in the first run */
	enum change_class label;
	size_t ref;             /* the run this cell's label compares against (valid when changed) */
};

struct compare_row {
	const char *id;
	const struct case_result *info; /* the first record of the case: title, group, params */
	struct compare_cell *cells;     /* one per run */
	unsigned classes;               /* union of the cells' changes */
	enum change_class label;
	size_t group;                   /* index into comparison.groups */
};

struct comparison {
	struct compare_run *runs;
	size_t nruns;
	struct compare_row *rows;
	size_t nrows;
	size_t count[CHANGE_NCLASSES];  /* rows per label */
	size_t *order;                  /* row indices as shown: changed rows first, then the rest,
	                                 * each part in row order */
	const char **groups;            /* the cases' groups in order of first appearance */
	size_t ngroups;
	/* The rows of group g, in row order: rows[members[k]] for k from group_start[g] up to
	 * group_start[g + 1]. Writers walk a group through these, never the whole table. */
	size_t *members;
	size_t *group_start;            /* ngroups + 1 entries */
};

/* Sorts reports (and their sources alongside) by the upstream three-part kernel version
 * (info.kernel_upstream, else read from the release and version strings), then by release;
 * runs of the same version keep their order. */
void compare_order_by_version(struct report *reports, const char **sources, size_t n);

/* Builds the comparison of n reports (borrowed: they must outlive it). sources names each run
 * (a file name) and may be NULL. n may be anything, though a comparison means n >= 2. */
void compare_build(struct comparison *cmp, const struct report *reports,
		   const char *const *sources, size_t n);
void compare_free(struct comparison *cmp);

/* Rows whose label is not CHANGE_SAME. */
size_t compare_nchanged(const struct comparison *cmp);

/* Helpers shared by the output formats. Strings are NULL-safe; returned ones are malloc'ed. */
const char *compare_str(const char *s);               /* s, or "" when NULL */
/* "op=bind proto=tcp state=TIME_WAIT" */
char *compare_params(const struct case_result *c);
/* What a cell shows: the observed outcome ("ok", "EADDRINUSE"), "-" when the step under test was
 * not reached, "skip" when skipped, "absent" when the case is not in the run. */
const char *compare_outcome(const struct compare_cell *cell);
/* "pass", "fail", "skip", "error", or "absent" */
const char *compare_status(const struct compare_cell *cell);
/* Outcome and status together: "EADDRINUSE (fail)", "- (error)", "skip", "absent". */
char *compare_cell_text(const struct compare_cell *cell);
/* One line saying what changed in a row, e.g.
 * "regression: ok (pass) on 6.1.0-27-amd64 -> EADDRINUSE (fail) on 6.12.12-amd64";
 * "same" for an unchanged row. */
char *compare_describe(const struct comparison *cmp, const struct compare_row *row);

/* Writes s escaped for XML. Attribute rules serve element content too (quotes and whitespace
 * controls become references either way), so one helper covers both. */
void compare_put_xml(FILE *f, const char *s);

/* Writes c's params as compare_params() lists them, through put (a writer's escaper). */
void compare_put_params(FILE *f, const struct case_result *c, void (*put)(FILE *f, const char *s));

/* How a writer spells a row of a table with one cell per run. */
struct table_style {
	const char *row_open, *head_close;	/* around the row's name */
	const char *cell_open, *cell_close;	/* around each run's value */
	const char *row_close;
	void (*put)(FILE *f, const char *s);	/* writes a value escaped */
};
/* One cell per run, value(run) in each. */
void compare_put_cells(FILE *f, const struct comparison *cmp, const struct table_style *st,
		       const char *(*value)(const struct compare_run *r));
/* A row per field of compare_run_fields. */
void compare_put_run_fields(FILE *f, const struct comparison *cmp, const struct table_style *st);
/* The run's label (a value for compare_put_cells). */
const char *compare_run_label(const struct compare_run *r);

/* Output formats. Each writes the whole comparison to f: the identity of each run and its status
 * counts, a count per class, then the cases (only the changed ones when only_changes is set).
 * Each returns 0, or -1 when writing failed. */
int compare_write_text(FILE *f, const struct comparison *cmp, int only_changes);
int compare_write_md(FILE *f, const struct comparison *cmp, int only_changes);
int compare_write_html(FILE *f, const struct comparison *cmp, int only_changes);
int compare_write_junit(FILE *f, const struct comparison *cmp, int only_changes);

/* sockreuse compare A.json B.json [C.json ...] [--format text|md|html|junit] [--only-changes]
 * [--all] [--output FILE]. argv[0] is "compare".
 * text shows only the changed cases (and counts the rest) unless --all; md, html and junit show
 * every case unless --only-changes. --output writes a temporary file and renames it into place;
 * "-" or no --output is standard output. Runs are given oldest first.
 * Returns the exit status: 0 nothing changed, 1 something changed (any class but same, fixes
 * included), 2 usage error, bad input or a failed write, with one line on stderr. */
int compare_main(int argc, char **argv);

#endif
