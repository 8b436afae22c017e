/* compare as one self-contained HTML page that leads with what changed:
 *
 *   an index (anchors to every section and family), the counts per class (also the colour
 *   legend), the runs, then the changed cases: one row each, every run's outcome side by side
 *   and, under it, that run's own why (the expectation and rationale of the rule that applied
 *   on that kernel); then the unchanged cases, folded per family in <details>.
 *
 * No scripts and no external resources. Every table sits in a box that scrolls sideways, so
 * nothing is cut off at 1400 px or on a phone; long ids break after each '/'. The markup is
 * also well-formed XML (every element closed, attributes quoted, text escaped). */
#include "reports/compare.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1em;color:#222;background:#fff}\n"
	"h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.2em 0 .4em}\n"
	"nav{margin:.5em 0 1em}nav a{margin-right:.8em;white-space:nowrap}\n"
	".scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}\n"
	"table{border-collapse:collapse;margin:0 0 1em}\n"
	"th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\n"
	"thead th{background:#eee}\n"
	"td.num{text-align:right}\n"
	"td.case{min-width:14em;max-width:28em;overflow-wrap:anywhere;font-family:monospace}\n"
	"td.cell{font-family:monospace;min-width:7em}\n"
	".out{white-space:nowrap}\n"
	".st{display:block;font:.8em system-ui,sans-serif;color:#666}\n"
	".st-fail,.st-error{color:#a00;font-weight:bold}\n"
	".st-xfail,.st-xpass{color:#850;font-weight:bold}\n"
	".why{display:block;font:.8em system-ui,sans-serif;color:#444;max-width:22em;"
	"white-space:normal;margin-top:.2em}\n"
	".params{font-family:monospace;font-size:.85em;color:#444;min-width:18em;max-width:30em}\n"
	"summary{cursor:pointer}\n"
	"details.family{margin:.3em 0}details.family>summary{font-weight:bold}\n"
	".chg-regression{background:#f4b4ab}\n"
	".chg-fix{background:#bde5be}\n"
	".chg-behaviour{background:#fbe09a}\n"
	".chg-coverage{background:#cbd5f2}\n"
	".absent{color:#999;font-style:italic}\n"
	"@media (max-width:700px){body{margin:.4em;font-size:13px}td.case{min-width:10em}}\n";


/* An id with a break opportunity after each '/', so that it wraps on a narrow screen. */
static void esc_id(FILE *f, const char *id)
{
	for (const char *p = compare_str(id); *p;) {
		size_t n = strcspn(p, "/");
		char *part = xstrndup(p, n + (p[n] == '/'));
		compare_put_xml(f, part);
		free(part);
		p += n;
		if (*p == '/') {
			p++;
			if (*p)
				fputs("<wbr/>", f);
		}
	}
}

/* The anchor of a case row and of a family. */
static void anchor_case(FILE *f, const char *id)
{
	fputs("c-", f);
	compare_put_xml(f, id);
}

static void anchor_family(FILE *f, size_t g)
{
	fprintf(f, "fam-%zu", g);
}

static const char *group_name(const struct comparison *cmp, size_t g)
{
	return *cmp->groups[g] ? cmp->groups[g] : "(no group)";
}

/* How many cases of family g are unchanged; *total is how many it has. */
static size_t group_unchanged(const struct comparison *cmp, size_t g, size_t *total)
{
	size_t same = 0;

	*total = cmp->group_start[g + 1] - cmp->group_start[g];
	for (size_t k = cmp->group_start[g]; k < cmp->group_start[g + 1]; k++)
		same += cmp->rows[cmp->members[k]].label == CHANGE_SAME;
	return same;
}

/* An element that names family g: open, the anchor, then middle and the family's name. */
static void family_tag(FILE *f, const struct comparison *cmp, size_t g, const char *open,
		       const char *middle)
{
	fputs(open, f);
	anchor_family(f, g);
	fputs(middle, f);
	compare_put_xml(f, group_name(cmp, g));
}

static void write_index(FILE *f, const struct comparison *cmp, int only_changes)
{
	fputs("<nav id=\"index\"><a href=\"#summary\">summary</a> <a href=\"#runs\">runs</a> ", f);
	fprintf(f, "<a href=\"#changed\">changed cases (%zu)</a> ", compare_nchanged(cmp));
	if (!only_changes) {
		fprintf(f, "<a href=\"#unchanged\">unchanged (%zu)</a> ", cmp->count[CHANGE_SAME]);
		for (size_t g = 0; g < cmp->ngroups; g++) {
			size_t total, same = group_unchanged(cmp, g, &total);
			if (same) {
				family_tag(f, cmp, g, "<a href=\"#", "\">");
				fprintf(f, " (%zu)</a> ", same);
			}
		}
	}
	fputs("</nav>\n", f);
}

static void write_summary(FILE *f, const struct comparison *cmp)
{
	fputs("<h2 id=\"summary\">Summary</h2>\n<div class=\"scroll\"><table class=\"summary\">\n"
	      "<thead><tr><th>class</th><th>cases</th><th>meaning</th></tr></thead>\n<tbody>\n", f);
	for (int c = CHANGE_NCLASSES - 1; c >= CHANGE_SAME; c--) {
		const char *name = change_class_name((enum change_class)c);
		fprintf(f, "<tr><td class=\"chg-%s\">%s</td><td class=\"num\">%zu</td><td>", name, name,
			cmp->count[c]);
		compare_put_xml(f, change_class_meaning((enum change_class)c));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table></div>\n", f);
}

static const struct table_style html_table = {
	.row_open = "<tr><th>", .head_close = "</th>", .cell_open = "<td>", .cell_close = "</td>",
	.row_close = "</tr>\n", .put = compare_put_xml,
};

static void write_runs(FILE *f, const struct comparison *cmp)
{
	fputs("<h2 id=\"runs\">Runs</h2>\n<div class=\"scroll\"><table class=\"runs\">\n"
	      "<thead><tr><th>run</th>", f);
	for (size_t i = 0; i < cmp->nruns; i++)
		fprintf(f, "<th>%zu</th>", i + 1);
	fputs("</tr></thead>\n<tbody>\n", f);
	compare_put_run_fields(f, cmp, &html_table);
	fputs("<tr><th>pass / fail / skip / error / xfail / xpass</th>", f);
	for (size_t i = 0; i < cmp->nruns; i++) {
		const struct summary *s = &cmp->runs[i].summary;
		fprintf(f, "<td>%zu / %zu / %zu / %zu / %zu / %zu%s</td>", s->pass, s->fail, s->skip,
			s->error, s->xfail, s->xpass, cmp->runs[i].report->interrupted ? " (interrupted)" : "");
	}
	fputs("</tr>\n<tr><th>cases</th>", f);
	for (size_t i = 0; i < cmp->nruns; i++)
		fprintf(f, "<td class=\"num\">%zu</td>", cmp->runs[i].summary.total);
	fputs("</tr>\n</tbody>\n</table></div>\n", f);
}

/* The case column: the id (an anchor), its title, and what changed. */
static void write_case_cell(FILE *f, const struct comparison *cmp, const struct compare_row *row)
{
	const struct case_result *c = row->info;

	fputs("<td class=\"case\"><a href=\"#", f);
	anchor_case(f, row->id);
	fputs("\">", f);
	esc_id(f, row->id);
	fputs("</a>", f);
	if (c->title && *c->title) {
		fputs("<span class=\"why\">", f);
		compare_put_xml(f, c->title);
		fputs("</span>", f);
	}
	if (row->label != CHANGE_SAME) {
		char *what = compare_describe(cmp, row);
		fputs("<span class=\"why\">", f);
		compare_put_xml(f, what);
		fputs("</span>", f);
		free(what);
	}
	fputs("</td>", f);
}

/* The tooltip of a cell: what was expected, and why it did not pass or what it changed from. */
static void write_cell_title(FILE *f, const struct comparison *cmp, size_t j,
			     const struct compare_cell *cell)
{
	const struct case_result *c = cell->result;

	compare_put_xml(f, cmp->runs[j].label);
	if (!c) {
		fputs(": not in this run", f);
	} else {
		fputs(": expected ", f);
		compare_put_xml(f, *compare_str(c->expected) ? c->expected : "(not in this report)");
		fputs(", observed ", f);
		compare_put_xml(f, *compare_str(c->observed) ? c->observed : "(not reached)");
		if (c->detail && *c->detail) {
			fputs("&#10;", f);
			compare_put_xml(f, c->detail);
		}
		if (c->known && *c->known) {
			fputs("&#10;known issue: ", f);
			compare_put_xml(f, c->known);
		}
		for (size_t i = 0; i < c->facts.n; i++) {
			fputs(i ? " " : "&#10;", f);
			compare_put_xml(f, c->facts.v[i].key);
			fputc('=', f);
			compare_put_xml(f, c->facts.v[i].val);
		}
	}
	if (cell->label != CHANGE_SAME) {
		fprintf(f, "&#10;%s against ", change_class_name(cell->label));
		compare_put_xml(f, cmp->runs[cell->ref].label);
	}
}

/* This run's own why: the expectation and rationale of the rule that applied on its kernel.
 * Compact baselines carry neither (they live in the case files): then nothing is shown. */
static int same_rule(const struct case_result *a, const struct case_result *b)
{
	return a && b && strcmp(compare_str(a->expected), compare_str(b->expected)) == 0 &&
	       strcmp(compare_str(a->rationale), compare_str(b->rationale)) == 0;
}

/* prev is the record of the column to the left (NULL for the first): the same rule there is
 * said in two words instead of repeated. */
static void write_why(FILE *f, const struct case_result *c, const struct case_result *prev)
{
	if (!c || (!*compare_str(c->expected) && !*compare_str(c->rationale)))
		return;
	if (same_rule(c, prev)) {
		fputs("<span class=\"why\">expects ", f);
		compare_put_xml(f, c->expected);
		fputs(": the same rule as on the left</span>", f);
		return;
	}
	fputs("<span class=\"why\">", f);
	if (*compare_str(c->expected)) {
		fputs("expects ", f);
		compare_put_xml(f, c->expected);
		fputs(*compare_str(c->rationale) ? ": " : "", f);
	}
	compare_put_xml(f, compare_str(c->rationale));
	fputs("</span>", f);
}

static void write_cell(FILE *f, const struct comparison *cmp, size_t j,
		       const struct compare_cell *cell, const struct compare_cell *left, int why)
{
	fputs("<td class=\"cell", f);
	if (cell->label != CHANGE_SAME)
		fprintf(f, " chg chg-%s", change_class_name(cell->label));
	if (!cell->result)
		fputs(" absent", f);
	fputs("\" title=\"", f);
	write_cell_title(f, cmp, j, cell);
	fputs("\"><span class=\"out\">", f);
	compare_put_xml(f, compare_outcome(cell));
	fputs("</span>", f);
	if (cell->result && cell->result->status != ST_SKIP)
		fprintf(f, "<span class=\"st st-%s\">%s</span>", compare_status(cell), compare_status(cell));
	if (why)
		write_why(f, cell->result, left ? left->result : NULL);
	fputs("</td>", f);
}

/* The last cell of a row: its params, then the row's end. */
static void write_params_cell(FILE *f, const struct compare_row *row)
{
	fputs("<td class=\"params\">", f);
	compare_put_params(f, row->info, compare_put_xml);
	fputs("</td></tr>\n", f);
}

static void write_changed_row(FILE *f, const struct comparison *cmp, const struct compare_row *row)
{
	fprintf(f, "<tr class=\"row-%s\" id=\"", change_class_name(row->label));
	anchor_case(f, row->id);
	fputs("\">", f);
	write_case_cell(f, cmp, row);
	fprintf(f, "<td class=\"chg chg-%s\">%s</td>", change_class_name(row->label),
		change_class_name(row->label));
	for (size_t j = 0; j < cmp->nruns; j++)
		write_cell(f, cmp, j, &row->cells[j], j ? &row->cells[j - 1] : NULL, 1);
	write_params_cell(f, row);
}

static void write_changed(FILE *f, const struct comparison *cmp)
{
	size_t changed = compare_nchanged(cmp);

	fprintf(f, "<h2 id=\"changed\">Changed cases (%zu)</h2>\n", changed);
	if (!changed) {
		fputs("<p>No changed cases: every case has the same outcome and status in every "
		      "run.</p>\n", f);
		return;
	}
	fputs("<p>Each kernel's outcome and status side by side, coloured where it changed against "
	      "the runs before it; under each, the expectation that applied on that kernel and why. "
	      "Hover a cell for the details of the run.</p>\n", f);
	fputs("<div class=\"scroll\"><table class=\"matrix changed\">\n<thead><tr><th>case</th>"
	      "<th>change</th>", f);
	for (size_t i = 0; i < cmp->nruns; i++) {
		fputs("<th title=\"", f);
		compare_put_xml(f, cmp->runs[i].report->info.kernel_version);
		fputs("\">", f);
		compare_put_xml(f, cmp->runs[i].label);
		fputs("</th>", f);
	}
	fputs("<th>params</th></tr></thead>\n<tbody>\n", f);
	for (size_t k = 0; k < changed; k++)
		write_changed_row(f, cmp, &cmp->rows[cmp->order[k]]);
	fputs("</tbody>\n</table></div>\n", f);
}

/* Unchanged rows are the same in every run: one outcome column says it all. */
static void write_same_row(FILE *f, const struct comparison *cmp, const struct compare_row *row)
{
	fputs("<tr id=\"", f);
	anchor_case(f, row->id);
	fputs("\">", f);
	write_case_cell(f, cmp, row);
	write_cell(f, cmp, 0, &row->cells[0], NULL, 1);
	write_params_cell(f, row);
}

static void write_unchanged(FILE *f, const struct comparison *cmp)
{
	fprintf(f, "<h2 id=\"unchanged\">Unchanged cases (%zu)</h2>\n", cmp->count[CHANGE_SAME]);
	if (!cmp->count[CHANGE_SAME]) {
		fputs("<p>None.</p>\n", f);
		return;
	}
	fprintf(f, "<p>The same outcome and status in all %zu runs, folded per family.</p>\n",
		cmp->nruns);
	for (size_t g = 0; g < cmp->ngroups; g++) {
		size_t total, same = group_unchanged(cmp, g, &total);
		if (!same)
			continue;
		family_tag(f, cmp, g, "<details class=\"family\" id=\"", "\"><summary>");
		fprintf(f, " \xe2\x80\x94 %zu unchanged of %zu</summary>\n", same, total);
		fputs("<div class=\"scroll\"><table class=\"matrix same\">\n<thead><tr><th>case</th>"
		      "<th>outcome in every run</th><th>params</th></tr></thead>\n<tbody>\n", f);
		for (size_t k = cmp->group_start[g]; k < cmp->group_start[g + 1]; k++) {
			const struct compare_row *row = &cmp->rows[cmp->members[k]];
			if (row->label == CHANGE_SAME)
				write_same_row(f, cmp, row);
		}
		fputs("</tbody>\n</table></div>\n</details>\n", f);
	}
}

int compare_write_html(FILE *f, const struct comparison *cmp, int only_changes)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	      "<title>sockreuse compare: ", f);
	for (size_t i = 0; i < cmp->nruns; i++) {
		fputs(i ? " / " : "", f);
		compare_put_xml(f, cmp->runs[i].label);
	}
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>sockreuse compare</h1>\n",
		style);
	fprintf(f, "<p>%zu runs, %zu cases, <strong>%zu changed</strong>", cmp->nruns, cmp->nrows,
		compare_nchanged(cmp));
	if (only_changes && cmp->count[CHANGE_SAME])
		fprintf(f, " (the %zu unchanged are left out: --only-changes)", cmp->count[CHANGE_SAME]);
	fputs(".</p>\n", f);
	write_index(f, cmp, only_changes);
	write_changed(f, cmp);
	write_summary(f, cmp);
	write_runs(f, cmp);
	if (!only_changes)
		write_unchanged(f, cmp);
	fputs("</body>\n</html>\n", f);
	return ferror(f) ? -1 : 0;
}
