/* compare: classification on in-memory reports, json_read on crafted files, JSON round trip. */
#include "fixture.h"
#include "reports/compare.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

/* ---- building reports in memory ---- */

static void add_case(struct report *r, const char *id, const char *expected, const char *observed,
		     enum status st, const char *group)
{
	struct case_result c;
	memset(&c, 0, sizeof(c));
	c.id = (char *)id;
	c.title = (char *)"a title";
	c.group = (char *)group;
	c.expected = (char *)expected;
	c.observed = (char *)observed;
	c.status = st;
	c.duration_ms = 2;
	kv_set(&c.params, "op", "bind");
	report_add(r, &c);
	kv_free(&c.params);
}

/* A case whose expectation is what it observed (pass) or "ok" (otherwise). */
static void add(struct report *r, const char *id, const char *observed, enum status st)
{
	add_case(r, id, st == ST_PASS ? observed : "ok", observed, st, "bind");
}

static void set_release(struct report *r, const char *release)
{
	free(r->info.kernel_release);
	r->info.kernel_release = xstrdup(release);
}

/* Runs are reports[0..n-1] with releases "k1", "k2", ... */
struct fixture {
	struct report runs[3];
	size_t n;
	struct comparison cmp;
};

static void fx_init(struct fixture *fx, size_t n)
{
	memset(fx, 0, sizeof(*fx));
	fx->n = n;
	for (size_t i = 0; i < n; i++) {
		char rel[8];
		snprintf(rel, sizeof(rel), "k%zu", i + 1);
		set_release(&fx->runs[i], rel);
	}
}

static void fx_build(struct fixture *fx)
{
	compare_build(&fx->cmp, fx->runs, NULL, fx->n);
}

static void fx_free(struct fixture *fx)
{
	compare_free(&fx->cmp);
	for (size_t i = 0; i < fx->n; i++)
		report_free(&fx->runs[i]);
}

static const struct compare_row *row_of(const struct comparison *cmp, const char *id)
{
	for (size_t r = 0; r < cmp->nrows; r++)
		if (strcmp(cmp->rows[r].id, id) == 0)
			return &cmp->rows[r];
	ck_abort_msg("no row %s", id);
	return NULL;
}

/* A case of run `run`, as add() makes it. */
struct entry {
	size_t run;
	const char *id, *observed;
	enum status st;
};

/* n runs holding the entries, compared. */
static void fx_with(struct fixture *fx, size_t n, const struct entry *e, size_t ne)
{
	fx_init(fx, n);
	for (size_t i = 0; i < ne; i++)
		add(&fx->runs[e[i].run], e[i].id, e[i].observed, e[i].st);
	fx_build(fx);
}
#define FX_WITH(fx, n, ...)                                           \
	fx_with((fx), (n), (const struct entry[]){ __VA_ARGS__ },     \
		sizeof((const struct entry[]){ __VA_ARGS__ }) / sizeof(struct entry))

#define BIT(c) CHANGE_BIT(CHANGE_##c)

/* One case over two runs: its classes and label. */
static void check_pair(const char *obs1, enum status st1, const char *obs2, enum status st2,
		       unsigned classes, enum change_class label)
{
	struct fixture fx;
	FX_WITH(&fx, 2, { 0, "0001/x", obs1, st1 }, { 1, "0001/x", obs2, st2 });
	const struct compare_row *row = row_of(&fx.cmp, "0001/x");
	ck_assert_uint_eq(row->classes, classes);
	ck_assert_str_eq(change_class_name(row->label), change_class_name(label));
	ck_assert_uint_eq(fx.cmp.count[label], 1);
	ck_assert_uint_eq(compare_nchanged(&fx.cmp), label != CHANGE_SAME);
	fx_free(&fx);
}

/* ---- classification ---- */

TCASE(classify);

/* One case over two runs, as the runs saw it, and its classes and label. */
static const struct pair_row {
	const char *obs1;
	enum status st1;
	const char *obs2;
	enum status st2;
	unsigned classes;
	enum change_class label;
} pairs[] = {
	/* The same outcome is same. */
	{ "ok", ST_PASS, "ok", ST_PASS, 0, CHANGE_SAME },
	{ "EINVAL", ST_FAIL, "EINVAL", ST_FAIL, 0, CHANGE_SAME },
	{ "", ST_SKIP, "", ST_SKIP, 0, CHANGE_SAME },
	{ "", ST_ERROR, "", ST_ERROR, 0, CHANGE_SAME },
	/* A different outcome, both passing, is behaviour, not a regression: the expectation
	 * depends on the kernel, both runs pass, the kernel changed. */
	{ "EADDRINUSE", ST_PASS, "ok", ST_PASS, BIT(BEHAVIOUR), CHANGE_BEHAVIOUR },
	/* Pass to fail or error is a regression. */
	{ "ok", ST_PASS, "EADDRINUSE", ST_FAIL, BIT(REGRESSION) | BIT(BEHAVIOUR), CHANGE_REGRESSION },
	{ "ok", ST_PASS, "", ST_ERROR, BIT(REGRESSION) | BIT(BEHAVIOUR), CHANGE_REGRESSION },
	/* Same observed, new expectation: still a regression, no behaviour change. */
	{ "ok", ST_PASS, "ok", ST_FAIL, BIT(REGRESSION), CHANGE_REGRESSION },
	/* Known issues are not failing: pass -> xfail (a listed kernel bug) and xpass are shown,
	 * never a regression or a fix. */
	{ "ok", ST_PASS, "EADDRINUSE", ST_XFAIL, BIT(BEHAVIOUR), CHANGE_BEHAVIOUR },
	{ "EADDRINUSE", ST_FAIL, "EADDRINUSE", ST_XFAIL, BIT(BEHAVIOUR), CHANGE_BEHAVIOUR },
	{ "ok", ST_PASS, "ok", ST_XPASS, BIT(BEHAVIOUR), CHANGE_BEHAVIOUR },
	{ "EADDRINUSE", ST_XFAIL, "EADDRINUSE", ST_XFAIL, 0, CHANGE_SAME },
	{ "EADDRINUSE", ST_XFAIL, "EADDRINUSE", ST_FAIL, BIT(BEHAVIOUR), CHANGE_BEHAVIOUR },
	/* Fail or error to pass is a fix. */
	{ "EINVAL", ST_FAIL, "ok", ST_PASS, BIT(FIX) | BIT(BEHAVIOUR), CHANGE_FIX },
	{ "", ST_ERROR, "ok", ST_PASS, BIT(FIX) | BIT(BEHAVIOUR), CHANGE_FIX },
	/* Fail to error is behaviour. */
	{ "EINVAL", ST_FAIL, "EINVAL", ST_ERROR, BIT(BEHAVIOUR), CHANGE_BEHAVIOUR },
	{ "EINVAL", ST_FAIL, "EPERM", ST_FAIL, BIT(BEHAVIOUR), CHANGE_BEHAVIOUR },
	/* Becoming skipped or unskipped is coverage. */
	{ "ok", ST_PASS, "", ST_SKIP, BIT(COVERAGE), CHANGE_COVERAGE },
	{ "", ST_SKIP, "ok", ST_PASS, BIT(COVERAGE), CHANGE_COVERAGE },
	{ "", ST_SKIP, "EINVAL", ST_FAIL, BIT(COVERAGE), CHANGE_COVERAGE },
};

TEST_LOOP(classify, each_pair_of_runs, 0, sizeof(pairs) / sizeof(pairs[0]))
{
	const struct pair_row *r = &pairs[_i];
	check_pair(r->obs1, r->st1, r->obs2, r->st2, r->classes, r->label);
}
END_TEST

TEST(classify, precedence_of_labels)
{
	ck_assert_int_eq(change_label(0), CHANGE_SAME);
	ck_assert_int_eq(change_label(BIT(COVERAGE)), CHANGE_COVERAGE);
	ck_assert_int_eq(change_label(BIT(COVERAGE) | BIT(BEHAVIOUR)), CHANGE_BEHAVIOUR);
	ck_assert_int_eq(change_label(BIT(BEHAVIOUR) | BIT(FIX)), CHANGE_FIX);
	ck_assert_int_eq(change_label(BIT(FIX) | BIT(REGRESSION)), CHANGE_REGRESSION);
	ck_assert_int_eq(change_label(BIT(COVERAGE) | BIT(BEHAVIOUR) | BIT(FIX) | BIT(REGRESSION)),
			 CHANGE_REGRESSION);
	ck_assert_str_eq(change_class_name(CHANGE_REGRESSION), "regression");
	ck_assert_str_eq(change_class_name(CHANGE_FIX), "fix");
	ck_assert_str_eq(change_class_name(CHANGE_BEHAVIOUR), "behaviour");
	ck_assert_str_eq(change_class_name(CHANGE_COVERAGE), "coverage");
	ck_assert_str_eq(change_class_name(CHANGE_SAME), "same");
}
END_TEST

TEST(classify, missing_cases_are_coverage_and_rows_keep_first_appearance_order)
{
	struct fixture fx;
	FX_WITH(&fx, 2, { 0, "0003/a", "ok", ST_PASS }, { 0, "0001/b", "ok", ST_PASS },
		{ 1, "0002/new", "ok", ST_PASS }, { 1, "0001/b", "ok", ST_PASS });

	ck_assert_uint_eq(fx.cmp.nrows, 3);
	ck_assert_str_eq(fx.cmp.rows[0].id, "0003/a");
	ck_assert_str_eq(fx.cmp.rows[1].id, "0001/b");
	ck_assert_str_eq(fx.cmp.rows[2].id, "0002/new");

	const struct compare_row *gone = row_of(&fx.cmp, "0003/a");
	ck_assert_int_eq(gone->label, CHANGE_COVERAGE);
	ck_assert_ptr_null(gone->cells[1].result);
	ck_assert_str_eq(compare_outcome(&gone->cells[1]), "absent");
	ck_assert_str_eq(compare_status(&gone->cells[1]), "absent");
	ck_assert_int_eq(row_of(&fx.cmp, "0002/new")->label, CHANGE_COVERAGE);
	ck_assert_int_eq(row_of(&fx.cmp, "0001/b")->label, CHANGE_SAME);
	ck_assert_uint_eq(fx.cmp.count[CHANGE_COVERAGE], 2);
	ck_assert_uint_eq(fx.cmp.count[CHANGE_SAME], 1);
	fx_free(&fx);
}
END_TEST

TEST(classify, three_runs_regression_then_fix)
{
	struct fixture fx;
	FX_WITH(&fx, 3, { 0, "0001/x", "ok", ST_PASS }, { 1, "0001/x", "EADDRINUSE", ST_FAIL },
		{ 2, "0001/x", "ok", ST_PASS });
	const struct compare_row *row = row_of(&fx.cmp, "0001/x");

	ck_assert_uint_eq(row->classes, BIT(REGRESSION) | BIT(FIX) | BIT(BEHAVIOUR));
	ck_assert_int_eq(row->label, CHANGE_REGRESSION);
	ck_assert_int_eq(row->cells[0].label, CHANGE_SAME);
	ck_assert_int_eq(row->cells[1].label, CHANGE_REGRESSION);
	ck_assert_uint_eq(row->cells[1].ref, 0);
	ck_assert_int_eq(row->cells[2].label, CHANGE_FIX);
	ck_assert_uint_eq(row->cells[2].ref, 1);

	char *what = compare_describe(&fx.cmp, row);
	ck_assert_str_eq(what, "regression: ok (pass) on k1 -> EADDRINUSE (fail) on k2; "
			       "fix: EADDRINUSE (fail) on k2 -> ok (pass) on k3");
	free(what);
	fx_free(&fx);
}
END_TEST

TEST(classify, three_runs_regression_across_a_skip)
{
	/* pass, skip, fail: the regression compares with the last run where the case ran. */
	struct fixture fx;
	FX_WITH(&fx, 3, { 0, "0001/x", "ok", ST_PASS }, { 1, "0001/x", "", ST_SKIP },
		{ 2, "0001/x", "EPERM", ST_ERROR });
	const struct compare_row *row = row_of(&fx.cmp, "0001/x");

	ck_assert_int_eq(row->cells[1].label, CHANGE_COVERAGE);
	ck_assert_uint_eq(row->cells[1].ref, 0);
	ck_assert_uint_eq(row->cells[2].changes, BIT(REGRESSION) | BIT(BEHAVIOUR) | BIT(COVERAGE));
	ck_assert_uint_eq(row->cells[2].ref, 0);
	ck_assert_int_eq(row->label, CHANGE_REGRESSION);
	fx_free(&fx);
}
END_TEST

TEST(classify, three_runs_present_in_the_middle_only)
{
	struct fixture fx;
	FX_WITH(&fx, 3, { 0, "0001/a", "ok", ST_PASS }, { 1, "0001/a", "ok", ST_PASS },
		{ 1, "0002/b", "ok", ST_PASS }, { 2, "0001/a", "ok", ST_PASS });
	const struct compare_row *row = row_of(&fx.cmp, "0002/b");

	ck_assert_int_eq(row->label, CHANGE_COVERAGE);
	ck_assert_int_eq(row->cells[1].label, CHANGE_COVERAGE);
	ck_assert_int_eq(row->cells[2].label, CHANGE_COVERAGE);
	ck_assert_ptr_eq(row->info, &fx.runs[1].cases[1]);
	ck_assert_int_eq(row_of(&fx.cmp, "0001/a")->label, CHANGE_SAME);
	ck_assert_uint_eq(compare_nchanged(&fx.cmp), 1);
	fx_free(&fx);
}
END_TEST

TEST(classify, run_labels_are_unique)
{
	struct fixture fx;
	fx_init(&fx, 3);
	set_release(&fx.runs[0], "6.1.0");
	set_release(&fx.runs[1], "6.1.0");
	set_release(&fx.runs[2], "");
	fx_build(&fx);
	ck_assert_str_eq(fx.cmp.runs[0].label, "6.1.0 (run 1)");
	ck_assert_str_eq(fx.cmp.runs[1].label, "6.1.0 (run 2)");
	ck_assert_str_eq(fx.cmp.runs[2].label, "run 3");
	ck_assert_uint_eq(fx.cmp.nrows, 0);
	fx_free(&fx);
}
END_TEST

TEST(classify, duplicate_ids_in_memory_take_the_first)
{
	struct fixture fx;
	FX_WITH(&fx, 2, { 0, "0001/x", "ok", ST_PASS }, { 0, "0001/x", "EINVAL", ST_FAIL },
		{ 1, "0001/x", "ok", ST_PASS });
	ck_assert_uint_eq(fx.cmp.nrows, 1);
	ck_assert_int_eq(fx.cmp.rows[0].label, CHANGE_SAME);
	fx_free(&fx);
}
END_TEST

TEST(classify, groups_in_order_of_first_appearance)
{
	struct fixture fx;
	fx_init(&fx, 2);
	add_case(&fx.runs[0], "0001/a", "ok", "ok", ST_PASS, "connect");
	add_case(&fx.runs[0], "0002/b", "ok", "ok", ST_PASS, "bind");
	add_case(&fx.runs[1], "0003/c", "ok", "ok", ST_PASS, "udp");
	add_case(&fx.runs[1], "0004/d", "ok", "ok", ST_PASS, "connect");
	fx_build(&fx);
	ck_assert_uint_eq(fx.cmp.ngroups, 3);
	ck_assert_str_eq(fx.cmp.groups[0], "connect");
	ck_assert_str_eq(fx.cmp.groups[1], "bind");
	ck_assert_str_eq(fx.cmp.groups[2], "udp");
	ck_assert_uint_eq(row_of(&fx.cmp, "0004/d")->group, 0);
	fx_free(&fx);
}
END_TEST

TEST(classify, params_are_a_compact_list)
{
	struct case_result c;
	memset(&c, 0, sizeof(c));
	kv_set(&c.params, "op", "bind");
	kv_set(&c.params, "state", "TIME_WAIT");
	char *p = compare_params(&c);
	ck_assert_str_eq(p, "op=bind state=TIME_WAIT");
	free(p);
	kv_free(&c.params);
	p = compare_params(&c);
	ck_assert_str_eq(p, "");
	free(p);
}
END_TEST

/* Every writer succeeds on odd strings, and the XML ones never let markup from the data out. */
/* Each group's rows, in row order, through the index the writers walk instead of the table. */
TEST(classify, groups_index_their_rows)
{
	struct fixture fx;
	fx_init(&fx, 2);
	add_case(&fx.runs[0], "a1", "ok", "ok", ST_PASS, "g1");
	add_case(&fx.runs[0], "b1", "ok", "ok", ST_PASS, "g2");
	add_case(&fx.runs[0], "a2", "ok", "ok", ST_PASS, "g1");
	add_case(&fx.runs[0], "c1", "ok", "ok", ST_PASS, "g3");
	add_case(&fx.runs[0], "b2", "ok", "ok", ST_PASS, "g2");
	add_case(&fx.runs[1], "b1", "ok", "ok", ST_PASS, "g2");
	add_case(&fx.runs[1], "d1", "ok", "ok", ST_PASS, "g2");
	fx_build(&fx);
	const struct comparison *c = &fx.cmp;
	ck_assert_uint_eq(c->ngroups, 3);
	ck_assert_str_eq(c->groups[0], "g1");
	ck_assert_str_eq(c->groups[1], "g2");
	ck_assert_str_eq(c->groups[2], "g3");
	static const char *const want[3][3] = { { "a1", "a2" }, { "b1", "b2", "d1" }, { "c1" } };
	static const size_t nwant[3] = { 2, 3, 1 };
	for (size_t g = 0; g < 3; g++) {
		ck_assert_uint_eq(c->group_start[g + 1] - c->group_start[g], nwant[g]);
		for (size_t k = 0; k < nwant[g]; k++) {
			const struct compare_row *row = &c->rows[c->members[c->group_start[g] + k]];
			ck_assert_str_eq(row->id, want[g][k]);
			ck_assert_uint_eq(row->group, g);
		}
	}
	fx_free(&fx);
}

/* As many groups as cases: one row each, every group found once. */
TEST(classify, many_groups)
{
	struct fixture fx;
	fx_init(&fx, 2);
	enum { N = 50000 };
	for (size_t r = 0; r < 2; r++)
		for (int i = 0; i < N; i++) {
			char id[32], group[32];
			snprintf(id, sizeof(id), "%04d/n=%d", i % 10000, i);
			snprintf(group, sizeof(group), "g%d", i);
			add_case(&fx.runs[r], id, "ok", "ok", ST_PASS, group);
		}
	fx_build(&fx);
	ck_assert_uint_eq(fx.cmp.nrows, N);
	ck_assert_uint_eq(fx.cmp.ngroups, N);
	for (size_t g = 0; g < N; g++) {
		ck_assert_uint_eq(fx.cmp.group_start[g + 1] - fx.cmp.group_start[g], 1);
		ck_assert_uint_eq(fx.cmp.rows[fx.cmp.members[fx.cmp.group_start[g]]].group, g);
	}
	fx_free(&fx);
}

TEST(classify, writers_escape_odd_strings)
{
	static const char odd[] = "<b>&amp;\"'|*_`\n\t\x01\xff end";
	struct fixture fx;
	fx_init(&fx, 2);
	set_release(&fx.runs[0], odd);
	add_case(&fx.runs[0], odd, odd, odd, ST_PASS, odd);
	add_case(&fx.runs[1], odd, odd, "ok", ST_FAIL, odd);
	fx_build(&fx);

	int (*writers[])(FILE *, const struct comparison *, int) = {
		compare_write_text, compare_write_md, compare_write_html, compare_write_junit,
	};
	for (size_t w = 0; w < sizeof(writers) / sizeof(writers[0]); w++) {
		for (int only = 0; only <= 1; only++) {
			char *out = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&out, &len);
			ck_assert_int_eq(writers[w](f, &fx.cmp, only), 0);
			fclose(f);
			ck_assert_ptr_nonnull(strstr(out, "regression"));
			if (w >= 2) {
				ck_assert_ptr_null(strstr(out, "<b>"));
				ck_assert_ptr_null(strstr(out, "\x01"));
				ck_assert_ptr_null(strstr(out, "\xff"));
			}
			if (w == 0)
				ck_assert_ptr_null(strchr(out, '\x01'));
			free(out);
		}
	}
	fx_free(&fx);
}
END_TEST

/* ---- json_read ---- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/test_compare.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* Writes content to a file in the temp dir; returns its path (malloc'ed). */
static char *write_tmp(const char *name, const char *content)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
	return path;
}

/* json_read on content must fail with a one-line message naming the file and containing
 * want, and leave the report empty. */
static void check_bad(const char *content, const char *want)
{
	char *path = write_tmp("bad.json", content);
	struct report r;
	char err[512];

	ck_assert_int_eq(json_read(path, &r, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':',
		      "message does not name the file: %s", err);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' not in: %s", want, err);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_uint_eq(r.ncases, 0);
	ck_assert_ptr_null(r.cases);
	report_free(&r);
	free(path);
}

#define HEAD "{\"format\":\"sockreuse-report/1\","

struct bad_report {
	const char *content, *want;
};

TCASE(json_read, .setup = make_tmpdir, .teardown = remove_tmpdir);

TEST(json_read, json_read_missing_file)
{
	char *path = xasprintf("%s/missing.json", tmpdir);
	char *want = xasprintf("%s: No such file or directory", path);
	struct report r;
	char err[512];
	ck_assert_int_eq(json_read(path, &r, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
	free(want);
	free(path);
}
END_TEST

TEST(json_read, json_read_directory)
{
	struct report r;
	char err[512];
	ck_assert_int_eq(json_read(tmpdir, &r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Is a directory"));
}
END_TEST

/* Files that are no report: the content, and what the message says. */
static const struct bad_report not_reports[] = {
	{ "", "empty file" },
	{ "hello", "not JSON: " },
	{ "hello", "line 1" },
	{ "{\"format\": \"sockreuse-report/1\", \"cases\": [{\"id\": \"a\", \"sta", "premature end of input" },
	{ "{\"format\": \"sockreuse-report/1\", \"cases\": [", "not JSON (truncated): " },
	{ "{\"format\": \"sockreuse-report/1\", \"cases\": [{\"id\": \"a", "(truncated)" },
	{ "{} trailing", "not JSON: " },
	{ "{\"a\": \"\xff\"}", "not JSON: " },
	{ "[]", "not a sockreuse report: the top level is an array" },
	{ "{\"a\":1}", "not a sockreuse report: no \"format\"" },
	{ "{\"format\":\"junit\",\"cases\":[]}", "not a sockreuse report: \"format\" is \"junit\"" },
	{ "{\"format\":3,\"cases\":[]}", "\"format\" is a number" },
	{ HEAD "\"case\":[]}", "not a sockreuse report: no \"cases\" array" },
	{ HEAD "\"cases\":{}}", "no \"cases\" array" },
};

TEST_LOOP(json_read, json_read_rejects_what_is_not_a_report, 0, sizeof(not_reports) / sizeof(not_reports[0]))
{
	check_bad(not_reports[_i].content, not_reports[_i].want);
}
END_TEST

/* Reports with a bad case: the content, and what the message says. */
static const struct bad_report bad_cases[] = {
	{ HEAD "\"cases\":[{\"id\":\"a\",\"status\":\"pass\"},{\"status\":\"pass\"}]}", "case 2 has no \"id\"" },
	{ HEAD "\"cases\":[{\"id\":\"\",\"status\":\"pass\"}]}", "case 1: \"id\" is empty" },
	{ HEAD "\"cases\":[{\"id\":7,\"status\":\"pass\"}]}", "case 1: \"id\" is a number" },
	{ HEAD "\"cases\":[3]}", "case 1 is a number, not an object" },
	{ HEAD "\"cases\":[{\"id\":\"a\",\"status\":\"pass\"},{\"id\":\"b\",\"status\":\"pass\"},{\"id\":\"a\",\"status\":\"fail\"}]}", "duplicate case id \"a\" (cases 1 and 3)" },
	{ HEAD "\"cases\":[{\"id\":\"a\"}]}", "case \"a\" has no \"status\"" },
	{ HEAD "\"cases\":[{\"id\":\"a\",\"status\":\"xfailed\"}]}", "unknown status \"xfailed\"" },
	{ HEAD "\"cases\":[{\"id\":\"a\",\"status\":\"pass\",\"observed\":5}]}", "case \"a\": \"observed\" is a number, not a string" },
	{ HEAD "\"cases\":[{\"id\":\"a\",\"status\":\"pass\",\"params\":[]}]}", "\"params\" is an array, not an object" },
	{ HEAD "\"cases\":[{\"id\":\"a\",\"status\":\"pass\",\"refs\":[1]}]}", "refs[0]" },
	{ HEAD "\"cases\":[{\"id\":\"a\",\"status\":\"pass\",\"duration_ms\":\"x\"}]}", "\"duration_ms\" is a string, not a number" },
	{ HEAD "\"kernel\":\"6.1\",\"cases\":[]}", "\"kernel\" is a string, not an object" },
	{ HEAD "\"interrupted\":1,\"cases\":[]}", "\"interrupted\" is a number" },
	/* An id with a newline must not break the one-line message. */
	{ HEAD "\"cases\":[{\"id\":\"a\\nb\"}]}", "has no \"status\"" },
};

TEST_LOOP(json_read, json_read_rejects_bad_cases, 0, sizeof(bad_cases) / sizeof(bad_cases[0]))
{
	check_bad(bad_cases[_i].content, bad_cases[_i].want);
}
END_TEST

TEST(json_read, json_read_is_tolerant_of_optional_and_unknown_fields)
{
	char *path = write_tmp("min.json",
			       HEAD "\"future\":{\"x\":[1,2]},\"kernel\":{\"release\":\"6.1\",\"new\":1},"
			       "\"cases\":[{\"id\":\"0042/op=bind\",\"status\":\"skip\",\"whatever\":true,"
			       "\"facts\":null},"
			       "{\"id\":\"0043/x\",\"status\":\"pass\",\"observed\":null,"
			       "\"params\":{\"op\":\"bind\",\"n\":null,\"o\":{}},\"refs\":null,\"number\":7,"
			       "\"facts\":{\"port\":40000,\"reused\":true,\"r\":0.5}}]}");
	struct report r;
	char err[512];

	ck_assert_msg(json_read(path, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(r.ncases, 2);
	ck_assert_str_eq(r.info.kernel_release, "6.1");
	ck_assert_str_eq(r.info.kernel_version, "");
	ck_assert_str_eq(r.info.hostname, "");
	ck_assert_int_eq(r.interrupted, 0);
	ck_assert_int_eq(r.cases[0].number, 42); /* from the id when "number" is absent */
	ck_assert_int_eq(r.cases[0].status, ST_SKIP);
	ck_assert_str_eq(r.cases[0].observed, "");
	ck_assert_str_eq(r.cases[0].rationale, "");
	ck_assert_uint_eq(r.cases[0].nrefs, 0);
	ck_assert_int_eq(r.cases[1].number, 7);
	ck_assert_uint_eq(r.cases[1].params.n, 1);
	ck_assert_str_eq(kv_get(&r.cases[1].params, "op"), "bind");
	ck_assert_str_eq(kv_get(&r.cases[1].facts, "port"), "40000");
	ck_assert_str_eq(kv_get(&r.cases[1].facts, "reused"), "true");
	ck_assert_str_eq(kv_get(&r.cases[1].facts, "r"), "0.5");
	report_free(&r);
	free(path);
}
END_TEST

/* ---- round trip through json_write ---- */

TEST(json_read, json_round_trip_of_odd_strings)
{
	static const char *const odd[] = {
		"", "plain", "quote \" backslash \\ slash /", "line\nbreak\r\ttab",
		"ctl \x01\x1f del \x7f", "\xc3\xa9\xe2\x9c\x93 \xf0\x9f\x98\x80 (UTF-8)",
		"<xml> & 'apos' ]]>", "{\"json\": [1, 2]}",
	};
	const size_t nodd = sizeof(odd) / sizeof(odd[0]);
	struct report r, back;
	char err[512];

	memset(&r, 0, sizeof(r));
	r.info.tool_name = xstrdup("sockreuse");
	r.info.tool_version = xstrdup(odd[2]);
	r.info.kernel_release = xstrdup(odd[5]);
	r.info.kernel_version = xstrdup(odd[3]);
	r.info.machine = xstrdup("x86_64");
	r.info.hostname = xstrdup(odd[6]);
	r.info.started = xstrdup("2026-11-21T10:11:39Z");
	r.info.duration_s = 1.5;
	r.interrupted = 1;
	kv_set(&r.info.properties, odd[3], odd[4]);
	for (size_t i = 0; i < nodd; i++) {
		struct case_result c;
		char *id = xasprintf("%04zu/%s", i, odd[i]);
		memset(&c, 0, sizeof(c));
		c.id = id;
		c.number = (int)i;
		c.title = (char *)odd[i];
		c.group = (char *)odd[(i + 1) % nodd];
		/* expected is one of the outcomes the schema allows; the reader refuses others */
		static const char *const outcomes[] = { "ok", "EADDRINUSE", "", "any" };
		c.expected = (char *)outcomes[i % 4];
		c.observed = (char *)odd[(i + 3) % nodd];
		c.status = (enum status)(i % 4);
		c.duration_ms = 0.25 * (double)i;
		c.detail = (char *)odd[(i + 4) % nodd];
		c.rationale = (char *)odd[(i + 5) % nodd];
		c.refs = (char **)odd;
		c.nrefs = i;
		kv_set(&c.params, odd[i], odd[(i + 6) % nodd]);
		kv_set(&c.facts, "k", odd[(i + 7) % nodd]);
		report_add(&r, &c);
		kv_free(&c.params);
		kv_free(&c.facts);
		free(id);
	}

	char *path = xasprintf("%s/round.json", tmpdir);
	FILE *f = fopen(path, "w");
	ck_assert_int_eq(json_write(f, &r), 0);
	fclose(f);
	ck_assert_msg(json_read(path, &back, err, sizeof(err)) == 0, "%s", err);

	ck_assert_str_eq(back.info.tool_version, r.info.tool_version);
	ck_assert_str_eq(back.info.kernel_release, r.info.kernel_release);
	ck_assert_str_eq(back.info.kernel_version, r.info.kernel_version);
	ck_assert_str_eq(back.info.hostname, r.info.hostname);
	ck_assert_str_eq(back.info.started, r.info.started);
	ck_assert_double_eq_tol(back.info.duration_s, 1.5, 1e-9);
	ck_assert_int_eq(back.interrupted, 1);
	ck_assert_str_eq(kv_get(&back.info.properties, odd[3]), odd[4]);
	ck_assert_uint_eq(back.ncases, r.ncases);
	for (size_t i = 0; i < r.ncases; i++) {
		const struct case_result *a = &r.cases[i], *b = &back.cases[i];
		ck_assert_str_eq(b->id, a->id);
		ck_assert_int_eq(b->number, a->number);
		ck_assert_str_eq(b->title, a->title);
		ck_assert_str_eq(b->group, a->group);
		ck_assert_str_eq(b->expected, a->expected);
		ck_assert_str_eq(b->observed, a->observed);
		ck_assert_int_eq(b->status, a->status);
		ck_assert_double_eq_tol(b->duration_ms, a->duration_ms, 1e-9);
		ck_assert_str_eq(b->detail, a->detail);
		ck_assert_str_eq(b->rationale, a->rationale);
		ck_assert_uint_eq(b->nrefs, a->nrefs);
		for (size_t k = 0; k < a->nrefs; k++)
			ck_assert_str_eq(b->refs[k], a->refs[k]);
		ck_assert_str_eq(kv_get(&b->params, odd[i]), kv_get(&a->params, odd[i]));
		ck_assert_str_eq(kv_get(&b->facts, "k"), kv_get(&a->facts, "k"));
	}
	report_free(&back);
	report_free(&r);
	free(path);
}
END_TEST

UNIT_MAIN("compare")
