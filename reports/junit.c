/* JUnit XML in the common Ant shape (tests/junit.xsd): one <testsuite> per case group, in the
 * order groups first appear, one <testcase> per case. */
#include "reports/report.h"
#include "reports/escape.h"
#include "lib/util.h"

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

static void problem(struct buf *b, const char *element, const char *message,
		    const struct case_result *c)
{
	char *text = problem_text(c);
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

static void testcase(struct buf *b, const struct case_result *c, const char *group)
{
	char *classname = xasprintf("sockreuse.%s", group);
	buf_add(b, "    <testcase");
	attr(b, "name", or_empty(c->id));
	attr(b, "classname", classname);
	attr_seconds(b, "time", shown_seconds(c->duration_ms));
	free(classname);

	if (c->status == ST_PASS) {
		buf_add(b, "/>\n");
		return;
	}
	buf_add(b, ">\n");
	if (c->status == ST_SKIP) {
		buf_add(b, "      <skipped");
		attr(b, "message", or_empty(c->detail));
		buf_add(b, "/>\n");
	} else if (c->status == ST_XFAIL) {
		/* A known issue: skipped for CI, with the reason as the text. */
		char *msg = xasprintf("known issue: %s", or_empty(c->known));
		buf_add(b, "      <skipped");
		attr(b, "message", msg);
		buf_add(b, ">");
		esc_xml(b, or_empty(c->known), XML_TEXT);
		buf_add(b, "</skipped>\n");
		free(msg);
	} else if (c->status == ST_XPASS) {
		buf_add(b, "      <system-out>");
		esc_xml(b, "xpass: listed as a known issue, but passes: ", XML_TEXT);
		esc_xml(b, or_empty(c->known), XML_TEXT);
		buf_add(b, "</system-out>\n");
	} else if (c->status == ST_FAIL) {
		char *msg = outcome_message(c);
		problem(b, "failure", msg, c);
		free(msg);
	} else {
		char *msg = c->detail && *c->detail ? xstrdup(c->detail) : outcome_message(c);
		problem(b, "error", msg, c);
		free(msg);
	}
	buf_add(b, "    </testcase>\n");
}

static void testsuite(struct buf *b, const struct report *r, size_t first, const char *timestamp)
{
	const char *group = group_of(&r->cases[first]);
	struct summary s = { 0 };
	double seconds = 0;

	for (size_t i = first; i < r->ncases; i++) {
		const struct case_result *c = &r->cases[i];
		if (strcmp(group_of(c), group) != 0)
			continue;
		s.total++;
		s.fail += c->status == ST_FAIL;
		s.skip += c->status == ST_SKIP || c->status == ST_XFAIL;
		s.error += c->status == ST_ERROR;
		seconds += shown_seconds(c->duration_ms);
	}

	buf_add(b, "  <testsuite");
	attr(b, "name", group);
	buf_printf(b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
		   s.total, s.fail, s.error, s.skip);
	attr_seconds(b, "time", seconds);
	attr(b, "timestamp", timestamp);
	attr(b, "hostname", blank(r->info.hostname) ? "unknown" : r->info.hostname);
	buf_add(b, ">\n");
	properties(b, r);
	for (size_t i = first; i < r->ncases; i++)
		if (strcmp(group_of(&r->cases[i]), group) == 0)
			testcase(b, &r->cases[i], group);
	buf_add(b, "    <system-out/>\n    <system-err/>\n  </testsuite>\n");
}

static int group_seen_before(const struct report *r, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(group_of(&r->cases[j]), group_of(&r->cases[i])) == 0)
			return 1;
	return 0;
}

int junit_write(FILE *f, const struct report *r)
{
	struct buf b = { 0 };
	struct summary s = report_summary(r);
	char timestamp[TIMESTAMP_LEN];

	junit_timestamp(r->info.started, timestamp);
	buf_add(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"sockreuse\"");
	buf_printf(&b, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
		   s.total, s.fail, s.error, s.skip + s.xfail);
	attr_seconds(&b, "time", r->info.duration_s);
	buf_add(&b, ">\n");
	for (size_t i = 0; i < r->ncases; i++)
		if (!group_seen_before(r, i))
			testsuite(&b, r, i, timestamp);
	buf_add(&b, "</testsuites>\n");

	size_t written = fwrite(b.s, 1, b.len, f);
	int rc = written != b.len || fflush(f) != 0 || ferror(f) ? -1 : 0;
	buf_free(&b);
	return rc;
}
