/* compare as Markdown tables (GitHub-flavoured): the runs side by side, a count per class, then a
 * case × run table per group. All cases are listed unless only_changes; changed cells are bold. */
#include "reports/compare.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

/* Writes s as the text of a table cell: one line, no pipe ending the cell early, and no
 * character that Markdown would read as markup (ids hold '_' and '*' can appear in details). */
static void md_put(FILE *f, const char *s)
{
	for (const char *p = compare_str(s); *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch < 0x20 || ch == 0x7f)
			fputc(' ', f);
		else if (strchr("\\|`*_[]<>#!~&", ch))
			fprintf(f, "\\%c", ch);
		else
			fputc(ch, f);
	}
}

static const struct table_style md_table = {
	.row_open = "| ", .head_close = " |", .cell_open = " ", .cell_close = " |", .row_close = "\n",
	.put = md_put,
};

/* A table's head: the cells before the runs, a label per run, the cells after, then the rule
 * under every cell (each '|' but the row's first closes one). */
static void write_head(FILE *f, const struct comparison *cmp, const char *before, const char *after)
{
	size_t pipes = cmp->nruns;

	for (const char *p = before; *p; p++)
		pipes += *p == '|';
	for (const char *p = after; *p; p++)
		pipes += *p == '|';
	fputs(before, f);
	compare_put_cells(f, cmp, &md_table, compare_run_label);
	fprintf(f, "%s\n|", after);
	for (size_t i = 1; i < pipes; i++)
		fputs(" --- |", f);
	fputc('\n', f);
}

static void write_runs(FILE *f, const struct comparison *cmp)
{
	fputs("## Runs\n\n", f);
	write_head(f, cmp, "| |", "");
	compare_put_run_fields(f, cmp, &md_table);
	fputs("| pass / fail / skip / error |", f);
	for (size_t i = 0; i < cmp->nruns; i++) {
		const struct summary *s = &cmp->runs[i].summary;
		fprintf(f, " %zu / %zu / %zu / %zu%s |", s->pass, s->fail, s->skip, s->error,
			cmp->runs[i].report->interrupted ? " (interrupted)" : "");
	}
	fputs("\n| cases |", f);
	for (size_t i = 0; i < cmp->nruns; i++)
		fprintf(f, " %zu |", cmp->runs[i].summary.total);
	fputs("\n\n", f);
}

static void write_counts(FILE *f, const struct comparison *cmp)
{
	fputs("## Changes\n\n| class | cases | meaning |\n| --- | ---: | --- |\n", f);
	for (int c = CHANGE_NCLASSES - 1; c >= CHANGE_SAME; c--)
		fprintf(f, "| %s | %zu | %s |\n", change_class_name((enum change_class)c),
			cmp->count[c], change_class_meaning((enum change_class)c));
	fputc('\n', f);
}

static void write_row(FILE *f, const struct comparison *cmp, const struct compare_row *row)
{
	fputs("| ", f);
	md_put(f, row->id);
	fputs(" | ", f);
	compare_put_params(f, row->info, md_put);
	fputs(" |", f);
	for (size_t j = 0; j < cmp->nruns; j++) {
		const struct compare_cell *cell = &row->cells[j];
		const char *strong = cell->label != CHANGE_SAME ? "**" : "";
		char *text = compare_cell_text(cell);
		fprintf(f, " %s", strong);
		md_put(f, text);
		fprintf(f, "%s |", strong);
		free(text);
	}
	fprintf(f, " %s |\n", change_class_name(row->label));
}

/* The group's changed rows (which > 0), unchanged rows (which < 0) or all rows (0). */
static void write_group(FILE *f, const struct comparison *cmp, size_t g, int which)
{
	const char *group = cmp->groups[g];
	size_t shown = 0;

	for (size_t k = cmp->group_start[g]; k < cmp->group_start[g + 1]; k++) {
		const struct compare_row *row = &cmp->rows[cmp->members[k]];
		if ((which > 0 && row->label == CHANGE_SAME) ||
		    (which < 0 && row->label != CHANGE_SAME))
			continue;
		if (!shown++) {
			fputs("### ", f);
			md_put(f, *group ? group : "(no group)");
			fputs("\n\n", f);
			write_head(f, cmp, "| case | params |", " change |");
		}
		write_row(f, cmp, row);
	}
	if (shown)
		fputc('\n', f);
}

int compare_write_md(FILE *f, const struct comparison *cmp, int only_changes)
{
	fprintf(f, "# sockreuse compare\n\n%zu runs, %zu cases, %zu changed.\n\n", cmp->nruns,
		cmp->nrows, compare_nchanged(cmp));
	write_runs(f, cmp);
	write_counts(f, cmp);
	size_t changed = compare_nchanged(cmp);
	fputs("## Changed cases\n\n", f);
	if (!changed)
		fputs("No changed cases.\n\n", f);
	for (size_t g = 0; g < cmp->ngroups; g++)
		write_group(f, cmp, g, 1);
	if (only_changes) {
		if (cmp->count[CHANGE_SAME] && changed)
			fprintf(f, "%zu unchanged cases not shown.\n", cmp->count[CHANGE_SAME]);
	} else if (cmp->count[CHANGE_SAME]) {
		fputs("## Unchanged cases\n\n", f);
		for (size_t g = 0; g < cmp->ngroups; g++)
			write_group(f, cmp, g, -1);
	}
	return ferror(f) ? -1 : 0;
}
