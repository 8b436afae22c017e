/* compare as JUnit XML in the strict Ant shape of tests/junit.xsd, so a CI that reads JUnit shows
 * what changed between kernels. One testsuite per group, one testcase per case. A regression,
 * behaviour or coverage change is a <failure> whose message says what changed; a fix passes (the
 * schema allows nothing else in a passing testcase, so fixes are listed in the suite's
 * <system-out>); a case skipped in every run is <skipped>. Each testsuite carries the identity of
 * every run as properties. All cases are listed unless only_changes. */
#include "reports/compare.h"
#include "reports/escape.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int is_failure(const struct compare_row *row)
{
	return row->label == CHANGE_REGRESSION || row->label == CHANGE_BEHAVIOUR ||
	       row->label == CHANGE_COVERAGE;
}

static int skipped_everywhere(const struct comparison *cmp, const struct compare_row *row)
{
	for (size_t j = 0; j < cmp->nruns; j++)
		if (!row->cells[j].result || row->cells[j].result->status != ST_SKIP)
			return 0;
	return 1;
}

static int shown(const struct compare_row *row, int only_changes)
{
	return !only_changes || row->label != CHANGE_SAME;
}

/* The case's duration in the latest run that has it, in seconds. */
static double row_seconds(const struct comparison *cmp, const struct compare_row *row)
{
	for (size_t j = cmp->nruns; j-- > 0;)
		if (row->cells[j].result)
			return row->cells[j].result->duration_ms / 1000.0;
	return 0;
}

/* JUnit timestamps are xs:dateTime without a zone (the schema's pattern): the latest run's start
 * time (UTC, "...Z") when it parses, normalised through timegm so no impossible date slips
 * through; else now. */
static void timestamp(const struct comparison *cmp, char *out, size_t len)
{
	const char *s = cmp->nruns ? compare_str(cmp->runs[cmp->nruns - 1].report->info.started) : "";
	int y, mo, d, h, mi, sec;
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) == 6 && y >= 1970 &&
	    y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 &&
	    mi <= 59 && sec >= 0 && sec <= 60) {
		tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
		tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
		t = timegm(&tm);
	} else {
		t = time(NULL);
	}
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Seconds as the schema's non-negative decimal, whatever the input held. */
static void put_seconds(FILE *f, const char *name, double s)
{
	char num[FIXED3_LEN];
	fmt_fixed3(num, s);
	fprintf(f, " %s=\"%s\"", name, num);
}

/* A name the schema accepts as a non-empty token: a blank hostname would collapse to nothing. */
static const char *token_or(const char *s, const char *fallback)
{
	for (const char *p = compare_str(s); *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return s;
	return fallback;
}

static void property(FILE *f, size_t run, const char *name, const char *value)
{
	fprintf(f, "      <property name=\"run.%zu.%s\" value=\"", run, name);
	compare_put_xml(f, value);
	fputs("\"/>\n", f);
}

static void write_properties(FILE *f, const struct comparison *cmp)
{
	fprintf(f, "    <properties>\n      <property name=\"compare.runs\" value=\"%zu\"/>\n",
		cmp->nruns);
	for (size_t i = 0; i < cmp->nruns; i++) {
		const struct run_info *in = &cmp->runs[i].report->info;
		const struct summary *s = &cmp->runs[i].summary;
		char counts[128];
		property(f, i + 1, "label", cmp->runs[i].label);
		property(f, i + 1, "kernel.release", in->kernel_release);
		property(f, i + 1, "kernel.version", in->kernel_version);
		property(f, i + 1, "kernel.machine", in->machine);
		property(f, i + 1, "tool.version", in->tool_version);
		property(f, i + 1, "started", in->started);
		property(f, i + 1, "hostname", in->hostname);
		property(f, i + 1, "report", cmp->runs[i].source);
		snprintf(counts, sizeof(counts), "%zu total, %zu pass, %zu fail, %zu skip, %zu error%s",
			 s->total, s->pass, s->fail, s->skip, s->error,
			 cmp->runs[i].report->interrupted ? " (interrupted)" : "");
		property(f, i + 1, "summary", counts);
	}
	fputs("    </properties>\n", f);
}

/* Every run's outcome, one per line: the body of a failure or system-out. */
static void write_outcomes(FILE *f, const struct comparison *cmp, const struct compare_row *row)
{
	for (size_t j = 0; j < cmp->nruns; j++) {
		const struct compare_cell *cell = &row->cells[j];
		char *text = compare_cell_text(cell);
		compare_put_xml(f, cmp->runs[j].label);
		fputs(": ", f);
		compare_put_xml(f, text);
		free(text);
		if (cell->result && *compare_str(cell->result->expected)) {
			fputs(", expected ", f);
			compare_put_xml(f, cell->result->expected);
		}
		if (cell->label != CHANGE_SAME)
			fprintf(f, " [%s]", change_class_name(cell->label));
		fputs("&#10;", f);
	}
}

static void write_testcase(FILE *f, const struct comparison *cmp, const struct compare_row *row,
			   const char *group)
{
	fputs("    <testcase name=\"", f);
	compare_put_xml(f, row->id);
	fputs("\" classname=\"sockreuse.compare.", f);
	compare_put_xml(f, group);
	fputc('"', f);
	put_seconds(f, "time", row_seconds(cmp, row));
	if (is_failure(row)) {
		char *what = compare_describe(cmp, row);
		fputs(">\n      <failure message=\"", f);
		compare_put_xml(f, what);
		fprintf(f, "\" type=\"%s\">", change_class_name(row->label));
		write_outcomes(f, cmp, row);
		fputs("</failure>\n    </testcase>\n", f);
		free(what);
	} else if (row->label == CHANGE_SAME && skipped_everywhere(cmp, row)) {
		fputs(">\n      <skipped message=\"skipped in every run\">skipped in every run</skipped>\n"
		      "    </testcase>\n", f);
	} else {
		fputs("/>\n", f);
	}
}

/* The suite's <system-out>: the fixes, which a passing testcase has no room to mention. */
static void write_fixes(FILE *f, const struct comparison *cmp, size_t g)
{
	size_t nfixes = 0;

	for (size_t k = cmp->group_start[g]; k < cmp->group_start[g + 1]; k++) {
		const struct compare_row *row = &cmp->rows[cmp->members[k]];
		if (row->label != CHANGE_FIX)
			continue;
		char *what = compare_describe(cmp, row);
		fputs(nfixes++ ? "" : "    <system-out>", f);
		compare_put_xml(f, row->id);
		fputs(": ", f);
		compare_put_xml(f, what);
		fputs("&#10;", f);
		free(what);
	}
	fputs(nfixes ? "</system-out>\n" : "    <system-out/>\n", f);
}

static void write_suite(FILE *f, const struct comparison *cmp, size_t g, int only_changes,
			const char *stamp, size_t *next_id)
{
	const char *group = *cmp->groups[g] ? cmp->groups[g] : "ungrouped";
	size_t tests = 0, failures = 0, skipped = 0;
	double seconds = 0;

	for (size_t k = cmp->group_start[g]; k < cmp->group_start[g + 1]; k++) {
		const struct compare_row *row = &cmp->rows[cmp->members[k]];
		if (!shown(row, only_changes))
			continue;
		tests++;
		failures += is_failure(row);
		skipped += row->label == CHANGE_SAME && skipped_everywhere(cmp, row);
		seconds += row_seconds(cmp, row);
	}
	if (!tests)
		return;
	/* package and id: the Ant schema wants both on every suite of a <testsuites>. */
	fputs("  <testsuite name=\"sockreuse.compare.", f);
	compare_put_xml(f, group);
	fputs("\" package=\"sockreuse.compare.", f);
	compare_put_xml(f, group);
	fprintf(f, "\" id=\"%zu\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\"", (*next_id)++,
		tests, failures, skipped);
	put_seconds(f, "time", seconds);
	fprintf(f, " timestamp=\"%s\" hostname=\"", stamp);
	compare_put_xml(f, token_or(cmp->nruns ? cmp->runs[cmp->nruns - 1].report->info.hostname : NULL,
				    "unknown"));
	fputs("\">\n", f);
	write_properties(f, cmp);
	for (size_t k = cmp->group_start[g]; k < cmp->group_start[g + 1]; k++)
		if (shown(&cmp->rows[cmp->members[k]], only_changes))
			write_testcase(f, cmp, &cmp->rows[cmp->members[k]], group);
	write_fixes(f, cmp, g);
	fputs("    <system-err/>\n  </testsuite>\n", f);
}

int compare_write_junit(FILE *f, const struct comparison *cmp, int only_changes)
{
	char stamp[32];
	size_t id = 0;

	timestamp(cmp, stamp, sizeof(stamp));
	/* No attributes on <testsuites>: the Ant schema allows none (the suites carry the counts). */
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
	for (size_t g = 0; g < cmp->ngroups; g++)
		write_suite(f, cmp, g, only_changes, stamp, &id);
	fputs("</testsuites>\n", f);
	return ferror(f) ? -1 : 0;
}
