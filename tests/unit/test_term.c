/* Unit tests for the terminal view (reports/term.c), written to a memory stream: the
 * progress line is redrawn in place, failures and errors show as they come with expected
 * and observed, the recap and the summary close it, and colour codes appear only when asked. */
#include "fixture.h"
#include "reports/report.h"
#include "reports/term.h"
#include "lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TCASE(term);

static void add(struct report *r, const char *id, enum status st, const char *expected, const char *observed,
		const char *detail)
{
	struct case_result c = { .id = (char *)id, .title = "t", .group = "g", .expected = (char *)expected,
				 .observed = (char *)observed, .status = st, .detail = (char *)detail,
				 .rationale = "because" };
	report_add(r, &c);
}

/* Runs the view over the report's cases; returns what it wrote (caller frees). */
static char *view(struct report *r, enum term_verbosity verbosity, int color, const char *note)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct term_opts o = { .verbosity = verbosity, .color = color };
	struct term_view *v = term_open(f, r->ncases, &o);
	for (size_t i = 0; i < r->ncases; i++)
		term_case(v, &r->cases[i]);
	term_close(v, r, note);
	fclose(f);
	return out;
}

static void sample(struct report *r)
{
	memset(r, 0, sizeof(*r));
	add(r, "0901/a", ST_PASS, "ok", "ok", "");
	add(r, "0902/b", ST_FAIL, "EADDRINUSE", "ok", "");
	add(r, "0903/c", ST_ERROR, "ok", "", "state LISTEN not reached");
	add(r, "0904/d", ST_SKIP, "ok", "", "sysctl absent");
}

TEST(term, failures_as_they_come_then_recap_and_summary)
{
	struct report r;
	sample(&r);
	char *s = view(&r, TERM_NORMAL, 0, NULL);
	ck_assert_ptr_null(strchr(s, '\033'));
	ck_assert_ptr_nonnull(strstr(s, "\r0/4 cases, 0 failed, 0 errors, "));
	char *fail = strstr(s, "FAIL  0902/b\n      expected EADDRINUSE, observed ok\n");
	char *err = strstr(s, "ERROR 0903/c\n      expected ok, not reached\n      state LISTEN not reached\n");
	char *recap = strstr(s, "\n1 failed, 1 error:\n"
				"  FAIL  0902/b (expected EADDRINUSE, observed ok)\n"
				"  ERROR 0903/c (expected ok, not reached)\n"
				"1 passed, 1 failed, 1 skipped, 1 errors in ");
	ck_assert_ptr_nonnull(fail);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(recap);
	ck_assert(fail < err && err < recap);
	/* The progress after the failure counts it; passes and skips are not listed. */
	ck_assert_ptr_nonnull(strstr(fail, "\r2/4 cases, 1 failed, 0 errors, "));
	ck_assert_ptr_null(strstr(s, "0901/a"));
	ck_assert_ptr_null(strstr(s, "0904/d"));
	free(s);
	report_free(&r);
}

TEST(term, quiet_verbose_color_and_note)
{
	struct report r;
	sample(&r);
	char *q = view(&r, TERM_QUIET, 0, "stopped after 1 failure");
	ck_assert_ptr_null(strstr(q, "cases,"));
	ck_assert_ptr_null(strchr(q, '\r'));
	ck_assert_ptr_nonnull(strstr(q, "\nstopped after 1 failure\n1 passed, "));
	char *v = view(&r, TERM_VERBOSE, 0, NULL);
	ck_assert_ptr_nonnull(strstr(v, "PASS  0901/a\n"));
	ck_assert_ptr_nonnull(strstr(v, "SKIP  0904/d\n      sysctl absent\n      why: because\n"));
	char *c = view(&r, TERM_NORMAL, 1, NULL);
	ck_assert_ptr_nonnull(strstr(c, "\033[1;31mFAIL\033[0m  0902/b"));
	ck_assert_ptr_nonnull(strstr(c, "1 passed, \033[1;31m1 failed\033[0m"));
	free(q);
	free(v);
	free(c);
	report_free(&r);
}

TEST(term, a_clean_run_is_green)
{
	struct report r = { 0 };
	for (int i = 0; i < 12; i++)
		add(&r, "0901/a", ST_PASS, "ok", "ok", "");
	char *c = view(&r, TERM_NORMAL, 1, NULL);
	ck_assert_ptr_nonnull(strstr(c, "\033[32m12 passed\033[0m, 0 failed, 0 skipped, 0 errors in "));
	free(c);
	report_free(&r);
}

UNIT_MAIN("term")
