/* compare as plain text for a terminal: the runs, a count per class, then one block per case.
 * The changed cases come first, in full; then one line per unchanged case (left out and only
 * counted with only_changes). */
#include "reports/compare.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

/* A copy of s safe to print on a terminal: a report could carry newlines or escape sequences. */
static char *clean(const char *s)
{
	char *c = xstrdup(compare_str(s));
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

/* Prints fmt with one string argument, cleaned. */
static void put(FILE *f, const char *fmt, const char *s)
{
	char *c = clean(s);
	fprintf(f, fmt, c);
	free(c);
}

static void write_run(FILE *f, const struct compare_run *run, size_t n)
{
	const struct run_info *in = &run->report->info;
	const struct summary *s = &run->summary;

	fprintf(f, "run %zu  ", n);
	put(f, "%s\n", run->label);
	put(f, "       kernel   %s", in->kernel_release);
	put(f, "  %s", in->kernel_version);
	put(f, "  %s\n", in->machine);
	put(f, "       tool     %s", in->tool_name);
	put(f, " %s\n", in->tool_version);
	put(f, "       started  %s", in->started);
	put(f, " on %s\n", in->hostname);
	if (*run->source)
		put(f, "       report   %s\n", run->source);
	fprintf(f, "       cases    %zu: %zu pass, %zu fail, %zu skip, %zu error", s->total,
		s->pass, s->fail, s->skip, s->error);
	if (s->xfail || s->xpass)
		fprintf(f, ", %zu xfail, %zu xpass", s->xfail, s->xpass);
	fprintf(f, "%s\n", run->report->interrupted ? " (run interrupted: cases not run are absent)" : "");
}

static void write_counts(FILE *f, const struct comparison *cmp)
{
	fprintf(f, "changes:");
	for (int c = CHANGE_NCLASSES - 1; c > CHANGE_SAME; c--)
		fprintf(f, " %zu %s%s", cmp->count[c], change_class_name((enum change_class)c),
			c > CHANGE_SAME + 1 ? "," : ";");
	fprintf(f, " %zu same\n", cmp->count[CHANGE_SAME]);
}

static void write_row(FILE *f, const struct comparison *cmp, const struct compare_row *row,
		      int label_width)
{
	char *params = compare_params(row->info);

	fprintf(f, "\n%-10s  ", change_class_name(row->label));
	put(f, "%s\n", row->id);
	if (row->info->title && *row->info->title)
		put(f, "    %s\n", row->info->title);
	if (*params)
		put(f, "    params: %s\n", params);
	for (size_t j = 0; j < cmp->nruns; j++) {
		const struct compare_cell *cell = &row->cells[j];
		int ran = cell->result && cell->result->status != ST_SKIP;
		char *label = clean(cmp->runs[j].label);
		char *outcome = clean(compare_outcome(cell));
		struct buf line = { 0 };
		buf_printf(&line, "    %-*s  %-14s %-6s", label_width, label, outcome,
			   ran ? compare_status(cell) : "");
		if (cell->label != CHANGE_SAME)
			buf_printf(&line, " <- %s", change_class_name(cell->label));
		while (line.len && line.s[line.len - 1] == ' ')
			line.s[--line.len] = '\0';
		fprintf(f, "%s\n", line.s);
		buf_free(&line);
		free(outcome);
		free(label);
	}
	free(params);
}

int compare_write_text(FILE *f, const struct comparison *cmp, int only_changes)
{
	size_t changed = compare_nchanged(cmp);
	int width = 0;

	fprintf(f, "sockreuse compare: %zu runs, %zu cases, %zu changed\n", cmp->nruns, cmp->nrows,
		changed);
	for (size_t i = 0; i < cmp->nruns; i++) {
		int w = (int)strlen(cmp->runs[i].label);
		width = w > width ? w : width;
		write_run(f, &cmp->runs[i], i + 1);
	}
	fputc('\n', f);
	write_counts(f, cmp);

	/* The changed cases in full, then one line per unchanged case. */
	for (size_t k = 0; k < changed; k++)
		write_row(f, cmp, &cmp->rows[cmp->order[k]], width);

	if (!changed)
		fprintf(f, "\nno changes: all %zu cases are the same in every run\n", cmp->nrows);
	if (only_changes && cmp->count[CHANGE_SAME] && changed)
		fprintf(f, "\n%zu unchanged case%s not shown (--only-changes)\n",
			cmp->count[CHANGE_SAME], cmp->count[CHANGE_SAME] == 1 ? "" : "s");
	if (!only_changes && cmp->count[CHANGE_SAME]) {
		fprintf(f, "\nunchanged (%zu):\n", cmp->count[CHANGE_SAME]);
		for (size_t k = changed; k < cmp->nrows; k++) {
			const struct compare_row *row = &cmp->rows[cmp->order[k]];
			char *text = compare_cell_text(&row->cells[0]);
			put(f, "same        %s", row->id);
			put(f, "  %s\n", text);
			free(text);
		}
	}
	return ferror(f) ? -1 : 0;
}
