/* JUnit XML valid under both schemas CI servers check it with: the Ant one (windyroad
 * JUnit.xsd: no attributes on <testsuites>, package and id on every <testsuite>, properties,
 * system-out and system-err in that order) and Jenkins xunit's junit-10.xsd (copies of both in
 * tests/). One <testsuite> per case group, in the order groups first appear (cases keep the
 * report's plan order within it), one <testcase> per case. The annotated variant adds each
 * testcase's file and line, which GitLab and the GitHub annotation actions read and junit-10.xsd
 * allows; the Ant schema has no place for them. */
#include "reports/report.h"
#include "reports/escape.h"
#include "lib/util.h"
#include "lib/strindex.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMESTAMP_LEN 20 /* "YYYY-MM-DDTHH:MM:SS" */

/* The strict schema wants xs:dateTime without a zone, so the run's ISO 8601 start time is
 * brought to UTC and its zone dropped. Anything unparsable becomes the epoch rather than an
 * attribute the schema rejects. */
static void junit_timestamp(const char *started, char out[TIMESTAMP_LEN])
{
	int y, mo, d, h, mi, s, n = 0;
	struct tm tm;

	strcpy(out, "1970-01-01T00:00:00");
	if (!started || sscanf(started, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
		return;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    s < 0 || s > 60)
		return;

	const char *rest = started + n;
	long offset = 0;
	if (*rest == '.' || *rest == ',')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (*rest == '+' || *rest == '-') {
		int oh = 0, om = 0;
		if (sscanf(rest + 1, "%2d:%2d", &oh, &om) != 2 && sscanf(rest + 1, "%2d%2d", &oh, &om) < 1)
			return;
		offset = (oh * 3600L + om * 60L) * (*rest == '-' ? -1 : 1);
	}

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = s;
	time_t t = timegm(&tm) - offset;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
		return;
	strftime(out, TIMESTAMP_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Names the schema types as xs:token with minLength 1: whitespace collapses away, so a name
 * of only whitespace is as empty as "". */
static int blank(const char *s)
{
	return !s || s[strspn(s, " \t\n\r")] == '\0';
}

/* Cases without a group share one suite. */
static const char *group_of(const struct case_result *c)
{
	return blank(c->group) ? "ungrouped" : c->group;
}

static void attr(struct buf *b, const char *name, const char *val)
{
	buf_printf(b, " %s=\"", name);
	esc_xml(b, val, XML_ATTR);
	buf_add(b, "\"");
}

static void attr_seconds(struct buf *b, const char *name, double s)
{
	char num[FIXED3_LEN];
	fmt_fixed3(num, s);
	buf_printf(b, " %s=\"%s\"", name, num);
}

static void property(struct buf *b, const char *name, const char *val)
{
	/* A blank key names nothing, and the schema rejects it. */
	if (blank(name))
		return;
	buf_add(b, "      <property");
	attr(b, "name", name);
	attr(b, "value", val);
	buf_add(b, "/>\n");
}

static void properties(struct buf *b, const struct report *r)
{
	buf_add(b, "    <properties>\n");
	property(b, "kernel.release", or_empty(r->info.kernel_release));
	property(b, "kernel.version", or_empty(r->info.kernel_version));
	property(b, "kernel.machine", or_empty(r->info.machine));
	property(b, "tool.version", or_empty(r->info.tool_version));
	if (r->interrupted)
		property(b, "run.interrupted", "true");
	for (size_t i = 0; i < r->info.properties.n; i++)
		property(b, r->info.properties.v[i].key, r->info.properties.v[i].val);
	buf_add(b, "    </properties>\n");
}

static const char *shown(const char *s)
{
	return s && *s ? s : "(none)";
}

static char *outcome_message(const struct case_result *c)
{
	return xasprintf("expected %s, observed %s", shown(c->expected), shown(c->observed));
}

static void kv_line(struct buf *b, const char *label, const struct kvlist *l)
{
	if (l->n == 0)
		return;
	buf_printf(b, "%s:", label);
	for (size_t i = 0; i < l->n; i++)
		buf_printf(b, " %s=%s", l->v[i].key, l->v[i].val);
	buf_add(b, "\n");
}

/* The body of <failure>/<error>: everything a reader of a CI page needs to see why. Built
 * raw, escaped once when written. */
static char *problem_text(const struct case_result *c)
{
	struct buf t = { 0 };
	if (c->title && *c->title)
		buf_printf(&t, "title: %s\n", c->title);
	buf_printf(&t, "expected: %s\nobserved: %s\n", shown(c->expected), shown(c->observed));
	if (c->detail && *c->detail)
		buf_printf(&t, "detail: %s\n", c->detail);
	if (c->rationale && *c->rationale)
		buf_printf(&t, "rationale: %s\n", c->rationale);
	kv_line(&t, "params", &c->params);
	if (c->nrefs) {
		buf_add(&t, "refs:");
		for (size_t i = 0; i < c->nrefs; i++)
			buf_printf(&t, "%s %s", i ? ";" : "", or_empty(c->refs[i]));
		buf_add(&t, "\n");
	}
	kv_line(&t, "facts", &c->facts);
	return t.s;
}

/* GitLab shows a testcase's name, classname, file and this text, not the suite or its
 * properties: the text names the kernel so that a failure on a CI page says where it was seen. */
static void problem(struct buf *b, const char *element, const char *message,
		    const struct case_result *c, const struct report *r)
{
	char *body = problem_text(c);
	char *text = xasprintf("kernel: %s\n%s", blank(r->info.kernel_release) ? "unknown" : r->info.kernel_release,
			       or_empty(body));
	free(body);
	buf_printf(b, "      <%s", element);
	attr(b, "message", message);
	attr(b, "type", element[0] == 'f' ? "fail" : "error");
	buf_add(b, ">");
	esc_xml(b, text, XML_TEXT);
	buf_printf(b, "</%s>\n", element);
	free(text);
}

/* What fmt_fixed3 will show for a case, so a suite's time is the sum of its cases' times
 * and a NaN in one case does not poison the total. */
static double shown_seconds(double ms)
{
	double s = ms / 1000.0;
	return isfinite(s) && s > 0 ? s : 0;
}

static void testcase(struct buf *b, const struct case_result *c, const char *group, const struct report *r,
		     int annotated)
{
	char *classname = xasprintf("sockreuse.%s", group);
	buf_add(b, "    <testcase");
	attr(b, "name", or_empty(c->id));
	attr(b, "classname", classname);
	attr_seconds(b, "time", shown_seconds(c->duration_ms));
	if (annotated && !blank(c->file)) {
		attr(b, "file", c->file);
		if (c->line > 0)
			buf_printf(b, " line=\"%d\"", c->line);
	}
	free(classname);

	/* A known issue that passes is a pass with a remark; the Ant schema has no place for one
	 * inside a testcase, so the remark goes to the suite's <system-out>. */
	if (c->status == ST_PASS || c->status == ST_XPASS) {
		buf_add(b, "/>\n");
		return;
	}
	buf_add(b, ">\n");
	if (c->status == ST_SKIP) {
		/* The reason as text too: most readers show an element's text, not its attributes. */
		buf_add(b, "      <skipped");
		attr(b, "message", or_empty(c->detail));
		buf_add(b, ">");
		esc_xml(b, or_empty(c->detail), XML_TEXT);
		buf_add(b, "</skipped>\n");
	} else if (c->status == ST_XFAIL) {
		/* A known issue: skipped for CI, with the reason as the text. */
		char *msg = xasprintf("known issue: %s", or_empty(c->known));
		buf_add(b, "      <skipped");
		attr(b, "message", msg);
		buf_add(b, ">");
		esc_xml(b, or_empty(c->known), XML_TEXT);
		buf_add(b, "</skipped>\n");
		free(msg);
	} else if (c->status == ST_FAIL) {
		char *msg = outcome_message(c);
		problem(b, "failure", msg, c, r);
		free(msg);
	} else {
		char *msg = c->detail && *c->detail ? xstrdup(c->detail) : outcome_message(c);
		problem(b, "error", msg, c, r);
		free(msg);
	}
	buf_add(b, "    </testcase>\n");
}

/* Opens a <testsuite>: the attributes both schemas require, the kernel release in its name
 * (where the GitHub reporters show a suite), then its properties. */
static void suite_open(struct buf *b, const struct report *r, const char *group, size_t id,
		       const struct summary *s, double seconds, const char *timestamp)
{
	char *name = xasprintf("%s on %s", group, blank(r->info.kernel_release) ? "unknown" : r->info.kernel_release);
	char *package = xasprintf("sockreuse.%s", group);
	buf_add(b, "  <testsuite");
	attr(b, "name", name);
	attr(b, "package", package);
	buf_printf(b, " id=\"%zu\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
		   id, s->total, s->fail, s->error, s->skip);
	attr_seconds(b, "time", seconds);
	attr(b, "timestamp", timestamp);
	attr(b, "hostname", blank(r->info.hostname) ? "unknown" : r->info.hostname);
	buf_add(b, ">\n");
	properties(b, r);
	free(name);
	free(package);
}

/* Ends a suite; out (may be NULL) is the text of its <system-out>. */
static void suite_close(struct buf *b, const char *out)
{
	if (out && *out) {
		buf_add(b, "    <system-out>");
		esc_xml(b, out, XML_TEXT);
		buf_add(b, "</system-out>\n");
	} else {
		buf_add(b, "    <system-out/>\n");
	}
	buf_add(b, "    <system-err/>\n  </testsuite>\n");
}

/* The cases of one group: indices into r->cases, in report order. */
struct group {
	const char *name;
	size_t *cases, n, cap;
};

static void testsuite(struct buf *b, const struct report *r, const struct group *g, size_t id,
		      const char *timestamp, int annotated)
{
	struct summary s = { 0 };
	double seconds = 0;
	for (size_t k = 0; k < g->n; k++) {
		const struct case_result *c = &r->cases[g->cases[k]];
		s.total++;
		s.fail += c->status == ST_FAIL;
		s.skip += c->status == ST_SKIP || c->status == ST_XFAIL;
		s.error += c->status == ST_ERROR;
		seconds += shown_seconds(c->duration_ms);
	}
	suite_open(b, r, g->name, id, &s, seconds, timestamp);
	struct buf remarks = { 0 };
	for (size_t k = 0; k < g->n; k++) {
		const struct case_result *c = &r->cases[g->cases[k]];
		testcase(b, c, g->name, r, annotated);
		if (c->status == ST_XPASS)
			buf_printf(&remarks, "%s: xpass: listed as a known issue, but passes: %s\n", or_empty(c->id),
				   or_empty(c->known));
	}
	suite_close(b, remarks.s);
	buf_free(&remarks);
}

/* An interrupted run is one more suite whose one testcase is an <error>: CI pages show
 * errors, and a property alone would let the run read as green. */
static void interruption_suite(struct buf *b, const struct report *r, size_t id, const char *timestamp)
{
	struct summary s = { .total = 1, .error = 1 };
	const char *why = blank(r->interruption) ? "the run was interrupted" : r->interruption;
	suite_open(b, r, "run", id, &s, 0, timestamp);
	buf_add(b, "    <testcase name=\"interrupted\" classname=\"sockreuse.run\" time=\"0.000\">\n"
		   "      <error");
	attr(b, "message", why);
	attr(b, "type", "interrupted");
	buf_add(b, ">");
	char *text = xasprintf("kernel: %s\n%s: the cases that did not finish are absent from this report\n",
			       blank(r->info.kernel_release) ? "unknown" : r->info.kernel_release, why);
	esc_xml(b, text, XML_TEXT);
	free(text);
	buf_add(b, "</error>\n    </testcase>\n");
	suite_close(b, NULL);
}

/* Groups in order of first appearance, each with its cases: one pass through an index of the
 * names, so that a report of many groups costs no more than one of few. */
static struct group *group_cases(const struct report *r, size_t *ngroups)
{
	struct strindex index = { 0 };
	struct group *g = NULL;
	size_t n = 0;
	for (size_t i = 0; i < r->ncases; i++) {
		const char *name = group_of(&r->cases[i]);
		size_t k = strindex_add(&index, name, n);
		if (k == n) {
			if ((n & (n - 1)) == 0) /* n is 0 or a power of two: double */
				g = xrealloc(g, (n ? 2 * n : 1) * sizeof(*g));
			g[n++] = (struct group){ .name = name };
		}
		if (g[k].n == g[k].cap) {
			g[k].cap = g[k].cap ? 2 * g[k].cap : 8;
			g[k].cases = xrealloc(g[k].cases, g[k].cap * sizeof(size_t));
		}
		g[k].cases[g[k].n++] = i;
	}
	strindex_free(&index);
	*ngroups = n;
	return g;
}

static int junit_render(FILE *f, const struct report *r, int annotated)
{
	struct buf b = { 0 };
	char timestamp[TIMESTAMP_LEN];
	size_t ngroups;
	struct group *groups = group_cases(r, &ngroups);

	junit_timestamp(r->info.started, timestamp);
	buf_add(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	for (size_t g = 0; g < ngroups; g++) {
		testsuite(&b, r, &groups[g], g, timestamp, annotated);
		free(groups[g].cases);
	}
	if (r->interrupted)
		interruption_suite(&b, r, ngroups, timestamp);
	buf_add(&b, "</testsuites>\n");
	free(groups);

	size_t written = fwrite(b.s, 1, b.len, f);
	int rc = written != b.len || fflush(f) != 0 || ferror(f) ? -1 : 0;
	buf_free(&b);
	return rc;
}

int junit_write(FILE *f, const struct report *r)
{
	return junit_render(f, r, 0);
}

int junit_write_annotated(FILE *f, const struct report *r)
{
	return junit_render(f, r, 1);
}
