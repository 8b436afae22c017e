/* compare as one self-contained HTML page: a summary per class (also the colour legend), the runs,
 * then a case × run matrix grouped by family, changed cells coloured by class. All cases are listed
 * unless only_changes. No scripts and no external resources: details come from title= tooltips
 * and <details> elements. The markup is also well-formed XML (every element closed, attributes
 * quoted, text escaped), so it can be checked and processed with an XML parser. */
#include "reports/compare.h"
#include "reports/escape.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}\n"
	"h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.2em 0 .4em}\n"
	"table{border-collapse:collapse;margin:0 0 1em}\n"
	"th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\n"
	"thead th{background:#eee;position:sticky;top:0}\n"
	"td.num{text-align:right}\n"
	"tr.group th{background:#e2e2e2;font-size:1.05em}\n"
	"td.cell{white-space:nowrap;font-family:monospace}\n"
	".st{display:block;font:.8em system-ui,sans-serif;color:#666}\n"
	".st-fail,.st-error{color:#a00;font-weight:bold}\n"
	".params{font-family:monospace;font-size:.85em;color:#444}\n"
	"summary{cursor:pointer;font-family:monospace}\n"
	"dl{margin:.3em 0}dt{font-weight:bold}dd{margin:0 0 .3em 1em;max-width:50em}\n"
	".chg-regression{background:#f4b4ab}\n"
	".chg-fix{background:#bde5be}\n"
	".chg-behaviour{background:#fbe09a}\n"
	".chg-coverage{background:#cbd5f2}\n"
	".absent{color:#999;font-style:italic}\n";

/* Text escaped for XML. Attribute rules serve element content too (quotes and whitespace
 * controls become references either way), so one helper covers both. */
static void esc(FILE *f, const char *s)
{
	struct buf b = { 0 };
	esc_xml(&b, s, XML_ATTR);
	if (b.len)
		fwrite(b.s, 1, b.len, f);
	buf_free(&b);
}

static void write_summary(FILE *f, const struct comparison *cmp)
{
	fputs("<h2>Summary</h2>\n<table class=\"summary\">\n"
	      "<thead><tr><th>class</th><th>cases</th><th>meaning</th></tr></thead>\n<tbody>\n", f);
	for (int c = CHANGE_NCLASSES - 1; c >= CHANGE_SAME; c--) {
		const char *name = change_class_name((enum change_class)c);
		fprintf(f, "<tr><td class=\"chg-%s\">%s</td><td class=\"num\">%zu</td><td>", name, name,
			cmp->count[c]);
		esc(f, change_class_meaning((enum change_class)c));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

static void run_field(FILE *f, const struct comparison *cmp, const char *name,
		      const char *(*value)(const struct compare_run *))
{
	fprintf(f, "<tr><th>%s</th>", name);
	for (size_t i = 0; i < cmp->nruns; i++) {
		fputs("<td>", f);
		esc(f, value(&cmp->runs[i]));
		fputs("</td>", f);
	}
	fputs("</tr>\n", f);
}


static void write_runs(FILE *f, const struct comparison *cmp)
{
	fputs("<h2>Runs</h2>\n<table class=\"runs\">\n<thead><tr><th>run</th>", f);
	for (size_t i = 0; i < cmp->nruns; i++)
		fprintf(f, "<th>%zu</th>", i + 1);
	fputs("</tr></thead>\n<tbody>\n", f);
	for (const struct run_field *rf = compare_run_fields; rf->name; rf++)
		run_field(f, cmp, rf->name, rf->value);
	fputs("<tr><th>pass / fail / skip / error</th>", f);
	for (size_t i = 0; i < cmp->nruns; i++) {
		const struct summary *s = &cmp->runs[i].summary;
		fprintf(f, "<td>%zu / %zu / %zu / %zu%s</td>", s->pass, s->fail, s->skip, s->error,
			cmp->runs[i].report->interrupted ? " (interrupted)" : "");
	}
	fputs("</tr>\n<tr><th>cases</th>", f);
	for (size_t i = 0; i < cmp->nruns; i++)
		fprintf(f, "<td class=\"num\">%zu</td>", cmp->runs[i].summary.total);
	fputs("</tr>\n</tbody>\n</table>\n", f);
}

/* The expected outcome: one value when every run agrees, else "release: value" per run, since
 * expectations legitimately depend on the kernel version. */
static void write_expected(FILE *f, const struct comparison *cmp, const struct compare_row *row)
{
	const char *first = NULL;
	int differs = 0;

	/* Skipped cases may assert nothing: only stated expectations are compared. */
	for (size_t j = 0; j < cmp->nruns; j++) {
		const struct case_result *c = row->cells[j].result;
		if (!c || !*compare_str(c->expected))
			continue;
		if (!first)
			first = c->expected;
		else if (strcmp(first, c->expected) != 0)
			differs = 1;
	}
	if (!differs) {
		esc(f, first ? first : "(nothing asserted)");
		return;
	}
	for (size_t j = 0, n = 0; j < cmp->nruns; j++) {
		const struct case_result *c = row->cells[j].result;
		if (!c || !*compare_str(c->expected))
			continue;
		fputs(n++ ? "; " : "", f);
		esc(f, cmp->runs[j].label);
		fputs(": ", f);
		esc(f, c->expected);
	}
}

static void write_case_cell(FILE *f, const struct comparison *cmp, const struct compare_row *row)
{
	const struct case_result *c = row->info;

	fputs("<td class=\"case\" title=\"", f);
	esc(f, c->title);
	fputs("\"><details><summary>", f);
	esc(f, row->id);
	fputs("</summary><dl>", f);
	if (c->title && *c->title) {
		fputs("<dt>title</dt><dd>", f);
		esc(f, c->title);
		fputs("</dd>", f);
	}
	fputs("<dt>expected</dt><dd>", f);
	write_expected(f, cmp, row);
	fputs("</dd>", f);
	if (c->rationale && *c->rationale) {
		fputs("<dt>rationale</dt><dd>", f);
		esc(f, c->rationale);
		fputs("</dd>", f);
	}
	if (c->nrefs) {
		fputs("<dt>references</dt><dd>", f);
		for (size_t i = 0; i < c->nrefs; i++) {
			fputs(i ? "; " : "", f);
			esc(f, c->refs[i]);
		}
		fputs("</dd>", f);
	}
	if (row->label != CHANGE_SAME) {
		char *what = compare_describe(cmp, row);
		fputs("<dt>what changed</dt><dd>", f);
		esc(f, what);
		fputs("</dd>", f);
		free(what);
	}
	fputs("</dl></details></td>", f);
}

/* The tooltip of a cell: what was expected, and why it did not pass or what it changed from. */
static void write_cell_title(FILE *f, const struct comparison *cmp, size_t j,
			     const struct compare_cell *cell)
{
	const struct case_result *c = cell->result;

	esc(f, cmp->runs[j].label);
	if (!c) {
		fputs(": not in this run", f);
	} else {
		fputs(": expected ", f);
		esc(f, *compare_str(c->expected) ? c->expected : "(nothing)");
		fputs(", observed ", f);
		esc(f, *compare_str(c->observed) ? c->observed : "(not reached)");
		if (c->detail && *c->detail) {
			fputs("&#10;", f);
			esc(f, c->detail);
		}
		for (size_t i = 0; i < c->facts.n; i++) {
			fputs(i ? " " : "&#10;", f);
			esc(f, c->facts.v[i].key);
			fputc('=', f);
			esc(f, c->facts.v[i].val);
		}
	}
	if (cell->label != CHANGE_SAME) {
		fprintf(f, "&#10;%s against ", change_class_name(cell->label));
		esc(f, cmp->runs[cell->ref].label);
	}
}

static void write_row(FILE *f, const struct comparison *cmp, const struct compare_row *row)
{
	char *params = compare_params(row->info);

	fprintf(f, "<tr class=\"row-%s\">", change_class_name(row->label));
	write_case_cell(f, cmp, row);
	for (size_t j = 0; j < cmp->nruns; j++) {
		const struct compare_cell *cell = &row->cells[j];
		fputs("<td class=\"cell", f);
		if (cell->label != CHANGE_SAME)
			fprintf(f, " chg chg-%s", change_class_name(cell->label));
		if (!cell->result)
			fputs(" absent", f);
		fputs("\" title=\"", f);
		write_cell_title(f, cmp, j, cell);
		fputs("\">", f);
		esc(f, compare_outcome(cell));
		if (cell->result && cell->result->status != ST_SKIP)
			fprintf(f, "<span class=\"st st-%s\">%s</span>", compare_status(cell),
				compare_status(cell));
		fputs("</td>", f);
	}
	if (row->label == CHANGE_SAME)
		fputs("<td>same</td>", f);
	else
		fprintf(f, "<td class=\"chg chg-%s\">%s</td>", change_class_name(row->label),
			change_class_name(row->label));
	/* Last: the id already names the matrix cell, and the outcomes are what a reader scans. */
	fputs("<td class=\"params\">", f);
	esc(f, params);
	fputs("</td></tr>\n", f);
	free(params);
}

static void write_group(FILE *f, const struct comparison *cmp, size_t g, int only_changes)
{
	size_t total = 0, changed = 0;

	for (size_t r = 0; r < cmp->nrows; r++)
		if (cmp->rows[r].group == g) {
			total++;
			changed += cmp->rows[r].label != CHANGE_SAME;
		}
	if (only_changes && !changed)
		return;
	fprintf(f, "<tbody>\n<tr class=\"group\"><th colspan=\"%zu\">", cmp->nruns + 3);
	esc(f, *cmp->groups[g] ? cmp->groups[g] : "(no group)");
	fprintf(f, " \xe2\x80\x94 %zu case%s, %zu changed</th></tr>\n", total, total == 1 ? "" : "s",
		changed);
	for (size_t r = 0; r < cmp->nrows; r++)
		if (cmp->rows[r].group == g && (!only_changes || cmp->rows[r].label != CHANGE_SAME))
			write_row(f, cmp, &cmp->rows[r]);
	fputs("</tbody>\n", f);
}

static void write_matrix(FILE *f, const struct comparison *cmp, int only_changes)
{
	fputs("<h2>Cases</h2>\n<p>Each cell is the observed outcome and status of the case in that "
	      "run, coloured when it changed against the runs before it (hover a cell for the "
	      "expectation and details, open a case for its title, expectation and rationale).", f);
	if (only_changes)
		fprintf(f, " Only changed cases are shown; %zu unchanged are not.",
			cmp->count[CHANGE_SAME]);
	fputs("</p>\n", f);
	if (only_changes && !compare_nchanged(cmp)) {
		fputs("<p>No changed cases.</p>\n", f);
		return;
	}
	fputs("<table class=\"matrix\">\n<thead><tr><th>case</th>", f);
	for (size_t i = 0; i < cmp->nruns; i++) {
		fputs("<th title=\"", f);
		esc(f, cmp->runs[i].report->info.kernel_version);
		fputs("\">", f);
		esc(f, cmp->runs[i].label);
		fputs("</th>", f);
	}
	fputs("<th>change</th><th>params</th></tr></thead>\n", f);
	for (size_t g = 0; g < cmp->ngroups; g++)
		write_group(f, cmp, g, only_changes);
	fputs("</table>\n", f);
}

int compare_write_html(FILE *f, const struct comparison *cmp, int only_changes)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	      "<title>sockreuse compare: ", f);
	for (size_t i = 0; i < cmp->nruns; i++) {
		fputs(i ? " / " : "", f);
		esc(f, cmp->runs[i].label);
	}
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>sockreuse compare</h1>\n",
		style);
	fprintf(f, "<p>%zu runs, %zu cases, <strong>%zu changed</strong>.</p>\n", cmp->nruns,
		cmp->nrows, compare_nchanged(cmp));
	write_summary(f, cmp);
	write_runs(f, cmp);
	write_matrix(f, cmp, only_changes);
	fputs("</body>\n</html>\n", f);
	return ferror(f) ? -1 : 0;
}
