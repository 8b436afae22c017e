/* The comparison model: lines up the cases of several runs by id and classifies what changed.
 * The rules and their precedence are documented in compare.h. */
#include "reports/compare.h"
#include "reports/escape.h"
#include "lib/kversion.h"
#include "lib/util.h"
#include "lib/strindex.h"

#include <stdlib.h>
#include <string.h>

static const char *const class_names[CHANGE_NCLASSES] = {
	[CHANGE_SAME] = "same",
	[CHANGE_COVERAGE] = "coverage",
	[CHANGE_BEHAVIOUR] = "behaviour",
	[CHANGE_FIX] = "fix",
	[CHANGE_REGRESSION] = "regression",
};

const char *change_class_name(enum change_class c)
{
	return (unsigned)c < CHANGE_NCLASSES ? class_names[c] : "?";
}

static const char *const class_meanings[CHANGE_NCLASSES] = {
	[CHANGE_SAME] = "the same outcome and status in every run",
	[CHANGE_COVERAGE] = "absent or skipped in some runs and not in others",
	[CHANGE_BEHAVIOUR] = ("the observed outcome differs between runs; expected outcomes may "
			      "differ per kernel, so this is no regression when both pass"),
	[CHANGE_FIX] = "failed or errored in an earlier run, passes in a later one",
	[CHANGE_REGRESSION] = "passed in an earlier run, fails or errors in a later one",
};

const char *change_class_meaning(enum change_class c)
{
	return (unsigned)c < CHANGE_NCLASSES ? class_meanings[c] : "";
}

enum change_class change_label(unsigned classes)
{
	for (int c = CHANGE_NCLASSES - 1; c > CHANGE_SAME; c--)
		if (classes & CHANGE_BIT(c))
			return (enum change_class)c;
	return CHANGE_SAME;
}

const char *compare_str(const char *s)
{
	return s ? s : "";
}

/* One case record of one run, for lining runs up by id. */
struct entry {
	const char *id;
	size_t run, index;
};

static int entry_by_id(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int d = strcmp(x->id, y->id);
	if (d)
		return d;
	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int entry_by_appearance(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Whether the case was absent (0), skipped (1) or ran (2) in a run. */
static int presence(const struct case_result *c)
{
	if (!c)
		return 0;
	return c->status == ST_SKIP ? 1 : 2;
}

/* xfail (a listed known issue) and xpass are not failing: moving between them and pass is no
 * regression and no fix, though a changed observed outcome is still a behaviour change. */
static int failed(const struct case_result *c)
{
	return c->status == ST_FAIL || c->status == ST_ERROR;
}

/* Classifies each cell of a row against the runs before it, and the row as their union. */
static void classify_row(struct compare_row *row, size_t nruns)
{
	size_t last_ran = (size_t)-1; /* the nearest earlier run where the case ran */

	row->classes = 0;
	for (size_t j = 0; j < nruns; j++) {
		struct compare_cell *cell = &row->cells[j];
		const struct case_result *cur = cell->result;
		unsigned ch = 0;

		if (j > 0 && presence(cur) != presence(row->cells[j - 1].result))
			ch |= CHANGE_BIT(CHANGE_COVERAGE);
		if (presence(cur) == 2 && last_ran != (size_t)-1) {
			const struct case_result *ref = row->cells[last_ran].result;
			if (ref->status == ST_PASS && failed(cur))
				ch |= CHANGE_BIT(CHANGE_REGRESSION);
			if (failed(ref) && cur->status == ST_PASS)
				ch |= CHANGE_BIT(CHANGE_FIX);
			/* Any other move of the status (fail -> error, fail -> xfail when a known
			 * issue is listed, pass -> xpass) is shown as a behaviour change. */
			if (strcmp(compare_str(ref->observed), compare_str(cur->observed)) != 0 ||
			    (ref->status != cur->status &&
			     !(ch & (CHANGE_BIT(CHANGE_REGRESSION) | CHANGE_BIT(CHANGE_FIX)))))
				ch |= CHANGE_BIT(CHANGE_BEHAVIOUR);
		}
		cell->changes = ch;
		cell->label = change_label(ch);
		/* Coverage is about the run just before; the other classes about the last one where
		 * the case ran. */
		if (cell->label == CHANGE_COVERAGE || last_ran == (size_t)-1)
			cell->ref = j > 0 ? j - 1 : 0;
		else
			cell->ref = last_ran;
		row->classes |= ch;
		if (presence(cur) == 2)
			last_ran = j;
	}
	row->label = change_label(row->classes);
}

/* Column headers: the kernel release, or "run N" without one; a release shared by several runs
 * (the same kernel twice) gets the run number too, so every column is told apart. */
static void label_runs(struct compare_run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *rel = compare_str(runs[i].report->info.kernel_release);
		int shared = 0;
		for (size_t k = 0; k < n && !shared; k++)
			shared = k != i && strcmp(rel, compare_str(runs[k].report->info.kernel_release)) == 0;
		if (!*rel)
			runs[i].label = xasprintf("run %zu", i + 1);
		else if (shared)
			runs[i].label = xasprintf("%s (run %zu)", rel, i + 1);
		else
			runs[i].label = xstrdup(rel);
	}
}

/* The index of group among the groups seen so far, adding it when new. */
static size_t group_index(struct comparison *cmp, struct strindex *seen, const char *group)
{
	size_t g;
	if (strindex_find(seen, group, &g))
		return g;
	/* The index borrows its keys: it gets the comparison's own copy, which may outlive group
	 * (a name made up for a compact baseline's row). */
	g = cmp->ngroups;
	if ((g & (g - 1)) == 0) /* 0 or a power of two: double */
		cmp->groups = xrealloc(cmp->groups, (g ? 2 * g : 1) * sizeof(*cmp->groups));
	cmp->groups[cmp->ngroups++] = xstrdup(group);
	strindex_add(seen, cmp->groups[g], g);
	return g;
}

/* Each group's rows, by a counting sort of the rows on their group. */
static void index_groups(struct comparison *cmp)
{
	cmp->group_start = xcalloc(cmp->ngroups + 1, sizeof(*cmp->group_start));
	cmp->members = xcalloc(cmp->nrows ? cmp->nrows : 1, sizeof(*cmp->members));
	for (size_t r = 0; r < cmp->nrows; r++)
		cmp->group_start[cmp->rows[r].group + 1]++;
	for (size_t g = 0; g < cmp->ngroups; g++)
		cmp->group_start[g + 1] += cmp->group_start[g];
	size_t *fill = xcalloc(cmp->ngroups ? cmp->ngroups : 1, sizeof(*fill));
	for (size_t r = 0; r < cmp->nrows; r++) {
		size_t g = cmp->rows[r].group;
		cmp->members[cmp->group_start[g] + fill[g]++] = r;
	}
	free(fill);
}

void compare_build(struct comparison *cmp, const struct report *reports,
		   const char *const *sources, size_t n)
{
	size_t total = 0, k = 0;

	memset(cmp, 0, sizeof(*cmp));
	cmp->nruns = n;
	cmp->runs = xcalloc(n, sizeof(*cmp->runs));
	for (size_t i = 0; i < n; i++) {
		cmp->runs[i].report = &reports[i];
		cmp->runs[i].source = sources && sources[i] ? sources[i] : "";
		cmp->runs[i].summary = report_summary(&reports[i]);
		total += reports[i].ncases;
	}
	label_runs(cmp->runs, n);

	struct entry *all = xcalloc(total, sizeof(*all));
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < reports[i].ncases; c++)
			all[k++] = (struct entry){ compare_str(reports[i].cases[c].id), i, c };
	qsort(all, total, sizeof(*all), entry_by_id);

	/* Sorted by id, each id's first entry is its first appearance. */
	struct entry *firsts = xcalloc(total, sizeof(*firsts));
	size_t nids = 0;
	for (size_t i = 0; i < total; i++)
		if (i == 0 || strcmp(all[i].id, all[i - 1].id) != 0)
			firsts[nids++] = all[i];
	qsort(firsts, nids, sizeof(*firsts), entry_by_appearance);

	struct strindex seen_groups = { 0 };
	cmp->nrows = nids;
	cmp->rows = xcalloc(nids ? nids : 1, sizeof(*cmp->rows));
	for (size_t r = 0; r < nids; r++) {
		struct compare_row *row = &cmp->rows[r];
		const struct entry *e = &firsts[r];
		row->info = &reports[e->run].cases[e->index];
		row->id = compare_str(row->info->id);
		row->cells = xcalloc(n, sizeof(*row->cells));

		/* Find the id's run of entries in the id-sorted array; a run's first record of an id
		 * wins over duplicates (json_read refuses those, in-memory reports might not). */
		struct entry key = { row->id, 0, 0 };
		size_t lo = 0, hi = total;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (entry_by_id(&all[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < total && strcmp(all[i].id, row->id) == 0; i++) {
			struct compare_cell *cell = &row->cells[all[i].run];
			if (!cell->result)
				cell->result = &reports[all[i].run].cases[all[i].index];
		}
		classify_row(row, n);
		cmp->count[row->label]++;
		/* A compact baseline keeps no title or group (they live in the cases): describe the
		 * row by the first run that has them, and fall back to the case file's number. */
		for (size_t j = 0; j < n && !*compare_str(row->info->group); j++)
			if (row->cells[j].result && *compare_str(row->cells[j].result->group))
				row->info = row->cells[j].result;
		if (*compare_str(row->info->group)) {
			row->group = group_index(cmp, &seen_groups, row->info->group);
		} else {
			char *file = xstrndup(row->id, strcspn(row->id, "/"));
			row->group = group_index(cmp, &seen_groups, file);
			free(file);
		}
	}
	strindex_free(&seen_groups);
	index_groups(cmp);
	free(firsts);
	free(all);
	cmp->order = xcalloc(nids ? nids : 1, sizeof(*cmp->order));
	size_t o = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t r = 0; r < nids; r++)
			if ((cmp->rows[r].label != CHANGE_SAME) == (pass == 0))
				cmp->order[o++] = r;
}

/* The sort key of a run: its upstream version, and whether one was found. */
static int run_version(const struct report *r, struct upstream *u)
{
	if (upstream_parse(r->info.kernel_upstream, u) == 0)
		return 1;
	char buf[64];
	upstream_of_kernel(r->info.kernel_release, r->info.kernel_version, buf, sizeof(buf));
	return upstream_parse(buf, u) == 0;
}

void compare_order_by_version(struct report *reports, const char **sources, size_t n)
{
	/* Insertion sort: stable, and runs are a handful. Runs without a version go last. */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0; j--) {
			struct upstream a, b;
			int ha = run_version(&reports[j - 1], &a), hb = run_version(&reports[j], &b);
			int d = 0;
			if (ha && hb)
				d = upstream_cmp(&a, &b);
			else if (ha != hb)
				d = ha ? -1 : 1;
			if (d == 0 && ha && hb)
				d = strverscmp(compare_str(reports[j - 1].info.kernel_release),
					       compare_str(reports[j].info.kernel_release));
			if (d <= 0)
				break;
			struct report t = reports[j - 1];
			reports[j - 1] = reports[j];
			reports[j] = t;
			if (sources) {
				const char *ts = sources[j - 1];
				sources[j - 1] = sources[j];
				sources[j] = ts;
			}
		}
	}
}

void compare_free(struct comparison *cmp)
{
	for (size_t r = 0; r < cmp->nrows; r++)
		free(cmp->rows[r].cells);
	for (size_t i = 0; i < cmp->nruns; i++)
		free(cmp->runs[i].label);
	free(cmp->rows);
	free(cmp->order);
	free(cmp->runs);
	for (size_t g = 0; g < cmp->ngroups; g++)
		free((char *)cmp->groups[g]);
	free(cmp->groups);
	free(cmp->members);
	free(cmp->group_start);
	memset(cmp, 0, sizeof(*cmp));
}

size_t compare_nchanged(const struct comparison *cmp)
{
	return cmp->nrows - cmp->count[CHANGE_SAME];
}

char *compare_params(const struct case_result *c)
{
	struct buf b = { 0 };
	buf_add(&b, "");
	for (size_t i = 0; i < c->params.n; i++)
		buf_printf(&b, "%s%s=%s", i ? " " : "", compare_str(c->params.v[i].key),
			   compare_str(c->params.v[i].val));
	return b.s;
}

const char *compare_outcome(const struct compare_cell *cell)
{
	const struct case_result *c = cell->result;
	if (!c)
		return "absent";
	if (c->status == ST_SKIP)
		return "skip";
	return c->observed && *c->observed ? c->observed : "-";
}

const char *compare_status(const struct compare_cell *cell)
{
	return cell->result ? status_name(cell->result->status) : "absent";
}

char *compare_cell_text(const struct compare_cell *cell)
{
	if (!cell->result || cell->result->status == ST_SKIP)
		return xstrdup(compare_outcome(cell));
	return xasprintf("%s (%s)", compare_outcome(cell), compare_status(cell));
}

static void add_cell_text(struct buf *b, const struct compare_cell *cell, const char *run)
{
	char *text = compare_cell_text(cell);
	buf_printf(b, "%s on %s", text, run);
	free(text);
}

char *compare_describe(const struct comparison *cmp, const struct compare_row *row)
{
	struct buf b = { 0 };
	buf_add(&b, "");
	if (row->label == CHANGE_SAME) {
		buf_add(&b, "same");
		return b.s;
	}
	for (size_t j = 1; j < cmp->nruns; j++) {
		const struct compare_cell *cell = &row->cells[j];
		if (cell->label == CHANGE_SAME)
			continue;
		buf_printf(&b, "%s%s: ", b.len ? "; " : "", change_class_name(cell->label));
		add_cell_text(&b, &row->cells[cell->ref], cmp->runs[cell->ref].label);
		buf_add(&b, " -> ");
		add_cell_text(&b, cell, cmp->runs[j].label);
	}
	return b.s;
}

static const char *f_release(const struct compare_run *r) { return r->report->info.kernel_release; }
static const char *f_version(const struct compare_run *r) { return r->report->info.kernel_version; }
static const char *f_machine(const struct compare_run *r) { return r->report->info.machine; }
static const char *f_tool(const struct compare_run *r) { return r->report->info.tool_version; }
static const char *f_started(const struct compare_run *r) { return r->report->info.started; }
static const char *f_host(const struct compare_run *r) { return r->report->info.hostname; }
static const char *f_source(const struct compare_run *r) { return r->source; }

const struct run_field compare_run_fields[] = {
	{ "kernel release", f_release }, { "kernel version", f_version }, { "machine", f_machine },
	{ "tool version", f_tool },      { "started", f_started },        { "hostname", f_host },
	{ "report", f_source },          { NULL, NULL },
};

void compare_put_xml(FILE *f, const char *s)
{
	struct buf b = { 0 };
	esc_xml(&b, s, XML_ATTR);
	if (b.len)
		fwrite(b.s, 1, b.len, f);
	buf_free(&b);
}

void compare_put_params(FILE *f, const struct case_result *c, void (*put)(FILE *f, const char *s))
{
	char *params = compare_params(c);
	put(f, params);
	free(params);
}

const char *compare_run_label(const struct compare_run *r)
{
	return r->label;
}

void compare_put_cells(FILE *f, const struct comparison *cmp, const struct table_style *st,
		       const char *(*value)(const struct compare_run *r))
{
	for (size_t i = 0; i < cmp->nruns; i++) {
		fputs(st->cell_open, f);
		st->put(f, value(&cmp->runs[i]));
		fputs(st->cell_close, f);
	}
}

void compare_put_run_fields(FILE *f, const struct comparison *cmp, const struct table_style *st)
{
	for (const struct run_field *rf = compare_run_fields; rf->name; rf++) {
		fputs(st->row_open, f);
		fputs(rf->name, f);
		fputs(st->head_close, f);
		compare_put_cells(f, cmp, st, rf->value);
		fputs(st->row_close, f);
	}
}
