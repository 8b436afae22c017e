/* The case-file parser: what it accepts, and the file:line:col message for what it does not. */
#include "fixture.h"
#include "parse/casefile.h"
#include "plan/plan.h"
#include "parse/expect.h"

#include <stdlib.h>
#include <string.h>

#define MINIMAL                                                                                  \
	"case 0901\n"                                                                            \
	"title t\n"                                                                              \
	"group g\n"                                                                              \
	"test:\n"                                                                                \
	"    socket s tcp\n"                                                                     \
	"expect ok\n"                                                                            \
	"    why because\n"                                                                      \
	"    ref bind(2)\n"

static int parse(const char *text, struct case_file *cf, char *err)
{
	return casefile_parse("cases/0901-x.case", text, cf, err, 512);
}

/* The message starts with the position and holds the phrase. */
static void assert_message(const char *err, const char *pos, const char *phrase)
{
	ck_assert_msg(strncmp(err, pos, strlen(pos)) == 0, "message '%s' does not start with '%s'", err, pos);
	ck_assert_msg(strstr(err, phrase), "message '%s' does not say '%s'", err, phrase);
}

/* Parses text that must load. */
static void parse_ok(const char *text, struct case_file *cf)
{
	char err[512] = "";
	ck_assert_msg(parse(text, cf, err) == 0, "%s", err);
}

/* Parses text that must fail and checks the message starts with the position and holds a phrase. */
static void expect_error(const char *text, const char *pos, const char *phrase)
{
	struct case_file cf;
	char err[512] = "";
	ck_assert_int_eq(parse(text, &cf, err), -1);
	assert_message(err, pos, phrase);
}

TCASE(parse);

TEST(parse, minimal_file_parses)
{
	struct case_file cf;
	parse_ok(MINIMAL, &cf);
	ck_assert_int_eq(cf.number, 901);
	ck_assert_str_eq(cf.title, "t");
	ck_assert_str_eq(cf.group, "g");
	ck_assert_str_eq(cf.topology, "loopback");
	ck_assert_uint_eq(cf.test.n, 1);
	ck_assert_int_eq(cf.test.v[0].argc, 3);
	ck_assert_str_eq(cf.expects[0].outcome, "ok");
	ck_assert_str_eq(cf.expects[0].refs[0], "bind(2)");
	casefile_free(&cf);
}
END_TEST

TEST(parse, full_file_parses)
{
	const char *text =
		"# comment\n"
		"case 0901\n"
		"title {op} on {state}\n"
		"group bind\n"
		"about line one\n"
		"      line two\n"
		"topology pair\n"
		"timeout 5\n"
		"matrix state LISTEN TIME_WAIT\n"
		"matrix op bind listen\n"
		"exclude when state=LISTEN op=listen\n"
		"param uid same\n"
		"sysctl net.ipv4.tcp_tw_reuse 1\n"
		"let a any when state=LISTEN\n"
		"let a host\n"
		"setup:\n"
		"    occupy old {state} passive {a} 4000\n"
		"test:\n"
		"    socket new tcp\n"
		"    listen new when op=listen\n"
		"expect EADDRINUSE when state=LISTEN kernel>=6.1\n"
		"    why w1\n"
		"    ref r1\n"
		"    ref r2\n"
		"expect EADDRNOTAVAIL when kernel<6.1\n"
		"    why w2\n"
		"    ref r3\n"
		"expect ok\n"
		"    why w3\n"
		"    ref r4\n";
	struct case_file cf;
	char err[512] = "";
	parse_ok(text, &cf);
	ck_assert_str_eq(cf.about, "line one line two");
	ck_assert_str_eq(cf.topology, "pair");
	ck_assert(cf.timeout_s == 5);
	ck_assert_uint_eq(cf.naxes, 2);
	ck_assert_uint_eq(cf.axes[0].nvals, 2);
	ck_assert_uint_eq(cf.nexcludes, 1);
	ck_assert_uint_eq(cf.nlets, 2);
	ck_assert_uint_eq(cf.nexpects, 3);
	ck_assert_uint_eq(cf.expects[0].when.n, 2);
	ck_assert_int_eq(cf.expects[0].when.v[1].op, COND_GE);
	ck_assert_uint_eq(cf.expects[0].nrefs, 2);
	ck_assert_uint_eq(cf.test.v[1].when.n, 1);
	ck_assert_int_eq(cf.test.v[1].argc, 2);
	ck_assert_str_eq(kv_get(&cf.sysctls, "net.ipv4.tcp_tw_reuse"), "1");

	/* Expansion: 2x2 cells, one excluded; the step with `when` only where it holds. */
	struct plan p = { 0 };
	ck_assert_msg(plan_expand(&p, &cf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(p.ncases, 3);
	ck_assert_str_eq(p.cases[0].id, "0901/state=LISTEN/op=bind");
	ck_assert_str_eq(p.cases[1].id, "0901/state=TIME_WAIT/op=bind");
	ck_assert_str_eq(p.cases[2].id, "0901/state=TIME_WAIT/op=listen");
	ck_assert_str_eq(p.cases[0].title, "bind on LISTEN");
	ck_assert_str_eq(p.cases[0].setup.v[0].argv[4], "any");
	ck_assert_str_eq(p.cases[1].setup.v[0].argv[4], "host");
	ck_assert_uint_eq(p.cases[1].test.n, 1);
	ck_assert_uint_eq(p.cases[2].test.n, 2);
	ck_assert_str_eq(kv_get(&p.cases[2].params, "sysctl.net.ipv4.tcp_tw_reuse"), "1");
	ck_assert_str_eq(kv_get(&p.cases[2].params, "topology"), "pair");
	ck_assert_str_eq(kv_get(&p.cases[2].params, "uid"), "same");
	p.nfiles = 0;  /* cf is owned here, not by the plan */
	plan_free(&p);
	casefile_free(&cf);
}
END_TEST

/* Files that must not load: each, where its error points, and what the message says. */
static const struct bad_file {
	const char *text, *pos, *phrase;
} bad_files[] = {
	{ "", "cases/0901-x.case:1:1:", "expected 'case NUMBER'" },
	{ "title t\n", "cases/0901-x.case:1:1:", "starts with 'case NUMBER'" },
	{ "case 12\n", "cases/0901-x.case:1:6:", "four-digit" },
	{ "case 0902\n", "cases/0901-x.case:1:6:", "does not match the file name" },
	{ "case 0901\nfrobnicate x\n", "cases/0901-x.case:2:1:", "unknown directive 'frobnicate'" },
	{ "case 0901\nmatrix a x x\n", "cases/0901-x.case:2:12:", "listed twice" },
	{ "case 0901\nmatrix a x\nmatrix a y\n", "cases/0901-x.case:3:8:", "declared twice" },
	{ "case 0901\nmatrix a x/y\n", "cases/0901-x.case:2:10:", "may not contain '/'" },
	{ "case 0901\nexpect ok when a~b\n", "cases/0901-x.case:2:16:", "expected a condition" },
	{ "case 0901\nexpect ok when kernel=6.1\n", "cases/0901-x.case:2:16:", "kernel>=" },
	{ "case 0901\nexpect ok when kernel>=six\n", "cases/0901-x.case:2:16:", "kernel version" },
	{ "case 0901\nexpect ok when state>=x\n", "cases/0901-x.case:2:16:", "compare kernel versions only" },
	{ "case 0901\nexpect maybe\n", "cases/0901-x.case:2:8:", "expected an outcome" },
	{ "case 0901\nexpect any\n", "cases/0901-x.case:2:8:", "'expect any' asserts nothing" },
	{ "case 0901\nexpect ok when kernel>=6.1.x\n", "cases/0901-x.case:2:16:", "kernel version like 6.14" },
	{ "case 0901\nparam sysctl.net.ipv4.ip_local_port_range 40000-40000\n", "cases/0901-x.case:2:7:", "write 'sysctl net.ipv4.ip_local_port_range VALUE' instead" },
	{ "case 0901\n    socket s tcp\n", "cases/0901-x.case:2:5:", "outside a block" },
	{ "case 0901\nexpect ok\n    because x\n", "cases/0901-x.case:3:5:", "expected 'why' or 'ref'" },
	{ "case 0901\ntopology mesh\n", "cases/0901-x.case:2:10:", "loopback or pair" },
	{ "case 0901\ntest:\n    frob s\n", "cases/0901-x.case:3:5:", "unknown step 'frob'" },
	{ "case 0901\ntest:\n    bind s host\n", "cases/0901-x.case:3:5:", "'bind' takes 3 arguments, got 2" },
	{ "case 0901\ntest:\n    bind s host 70000\n", "cases/0901-x.case:3:17:", "expected a port" },
	{ "case 0901\ntest:\n    host c\n", "cases/0901-x.case:3:10:", "expected a b" },
	{ "case 0901\ntitle a\ntitle b\n", "cases/0901-x.case:3:1:", "given twice" },
	{ "case 0901\ntimeout -1\n", "cases/0901-x.case:2:9:", "positive number" },
	{ "case 0901\nti\x01tle\n", "cases/0901-x.case:2:3:", "control character" },
	{ "case 0901\ntitle t\ngroup g\ntest:\n    socket s tcp\n", "cases/0901-x.case:5:1:", "no 'expect' rule" },
	{ "case 0901\ntitle t\ngroup g\ntest:\n    socket s tcp\nexpect ok\n    ref x\n", "cases/0901-x.case:6:1:", "no 'why'" },
	{ "case 0901\ntitle t\ngroup g\ntest:\n    socket s tcp\nexpect ok when a=1\n    why w\n    ref x\n", "cases/0901-x.case:6:1:", "last 'expect' must have no 'when'" },
};

TEST_LOOP(parse, errors_name_file_line_column, 0, sizeof(bad_files) / sizeof(bad_files[0]))
{
	expect_error(bad_files[_i].text, bad_files[_i].pos, bad_files[_i].phrase);
}
END_TEST

/* Errors found while expanding: unknown names, unknown steps, wrong arity. */
static void expect_expand_error(const char *text, const char *pos, const char *phrase)
{
	struct case_file cf;
	char err[512] = "";
	parse_ok(text, &cf);
	struct plan p = { 0 };
	ck_assert_int_eq(plan_expand(&p, &cf, err, sizeof(err)), -1);
	assert_message(err, pos, phrase);
	plan_free(&p);
	casefile_free(&cf);
}

TEST(parse, expansion_errors)
{
	/* A word filled in by the plan is checked then, at the column where it was written. */
	expect_expand_error("case 0901\ntitle t\ngroup g\nlet p 70000\ntest:\n    bind s host {p}\nexpect ok\n"
			    "    why w\n    ref r\n",
			    "cases/0901-x.case:6:17:", "expected a port");
	expect_expand_error("case 0901\ntitle t\ngroup g\ntest:\n    socket s tcp\nexpect ok when nope=1\n"
			    "    why w\n    ref r\nexpect ok\n    why w\n    ref r\n",
			    "cases/0901-x.case:6:16:", "'nope'");
	expect_expand_error("case 0901\ntitle t\ngroup g\ntest:\n    socket {nope} tcp\nexpect ok\n    why w\n    ref r\n",
			    "cases/0901-x.case:5:12:", "unknown variable {nope}");
	expect_expand_error("case 0901\ntitle t\ngroup g\nmatrix a x\nexclude when a=x\ntest:\n    socket s tcp\n"
			    "expect ok\n    why w\n    ref r\n",
			    "cases/0901-x.case", "every matrix cell is excluded");
}
END_TEST

TEST(parse, trailing_comments_end_values_not_text)
{
	const char *text = "case 0901   # the number\n"
			   "title a #1 title\n"
			   "group g\n"
			   "sysctl net.ipv4.ip_local_port_range 40000 40001   # two words\n"
			   "test:\n"
			   "    socket s tcp   # a comment\n"
			   "expect ok\n"
			   "    why because # it is\n"
			   "    ref bind(2)\n";
	struct case_file cf;
	parse_ok(text, &cf);
	ck_assert_str_eq(kv_get(&cf.sysctls, "net.ipv4.ip_local_port_range"), "40000 40001");
	ck_assert_int_eq(cf.test.v[0].argc, 3);
	ck_assert_str_eq(cf.title, "a #1 title");
	ck_assert_str_eq(cf.expects[0].why, "because # it is");
	casefile_free(&cf);
}
END_TEST

TEST(parse, kernel_conditions_only_in_expect)
{
	expect_expand_error("case 0901\ntitle t\ngroup g\ntest:\n    socket s tcp when kernel>=6.1\nexpect ok\n"
			    "    why w\n    ref r\n",
			    "cases/0901-x.case:5:23:", "kernel conditions belong in 'expect'");
	expect_expand_error("case 0901\ntitle t\ngroup g\nmatrix a x y\nexclude when a=x kernel<6.1\ntest:\n"
			    "    socket s tcp\nexpect ok\n    why w\n    ref r\n",
			    "cases/0901-x.case:5:18:", "kernel conditions belong in 'expect'");
}
END_TEST

/* "expect E at STEP" names the verb that must fail; "try STEP" marks a step that may. */
TEST(parse, expect_at_and_try)
{
	const char *text = "case 0901\ntitle t\ngroup g\n"
			   "setup:\n    socket a tcp\n    try bind a host 4000\n"
			   "test:\n    socket s tcp\n    bind s host 4000\n    listen s\n"
			   "expect EADDRINUSE at listen when x=1\n    why w\n    ref r\n"
			   "expect EADDRINUSE at bind\n    why w\n    ref r\n";
	struct case_file cf;
	parse_ok(text, &cf);
	ck_assert(cf.setup.v[1].may_fail);
	ck_assert(!cf.setup.v[0].may_fail);
	ck_assert_str_eq(cf.setup.v[1].argv[0], "bind");
	ck_assert_int_eq(cf.setup.v[1].argc, 4);
	ck_assert_str_eq(cf.expects[0].at, "listen");
	ck_assert_str_eq(cf.expects[0].label, "EADDRINUSE at listen");
	ck_assert_uint_eq(cf.expects[0].when.n, 1);
	ck_assert(expect_met(&cf.expects[1], "EADDRINUSE", "bind"));
	ck_assert(!expect_met(&cf.expects[1], "EADDRINUSE", "listen"));
	ck_assert(!expect_met(&cf.expects[1], "EADDRINUSE", NULL));
	ck_assert(!expect_met(&cf.expects[1], "ok", NULL));
	casefile_free(&cf);
	expect_error("case 0901\ntitle t\ngroup g\ntest:\n    socket s tcp\nexpect ok at bind\n    why w\n    ref r\n",
		     "cases/0901-x.case:6:", "needs an errno outcome");
	expect_error("case 0901\ntitle t\ngroup g\ntest:\n    socket s tcp\nexpect EINVAL at frob\n    why w\n    ref r\n",
		     "cases/0901-x.case:6:18:", "'at' takes a verb");
	expect_error("case 0901\ntitle t\ngroup g\ntest:\n    try\nexpect ok\n    why w\n    ref r\n",
		     "cases/0901-x.case:5:5:", "'try' takes a step");
	expect_error("case 0901\ntitle t\ngroup g\ntest:\n    try bind s host\nexpect ok\n    why w\n    ref r\n",
		     "cases/0901-x.case:5:", "'bind' takes");
}
END_TEST

TEST(parse, subst_replaces_and_reports_unknown)
{
	struct kvlist v = { 0 };
	char err[128];
	kv_set(&v, "a", "1");
	kv_set(&v, "bb", "two");
	char *s = subst_vars("x{a}y{bb}{a}", &v, err, sizeof(err));
	ck_assert_str_eq(s, "x1ytwo1");
	free(s);
	ck_assert_ptr_null(subst_vars("{c}", &v, err, sizeof(err)));
	ck_assert_str_eq(err, "unknown variable {c}");
	ck_assert_ptr_null(subst_vars("{a", &v, err, sizeof(err)));
	kv_free(&v);
}
END_TEST

/* The planner writes into each step what the case decides, so verbs read their words only. */
TEST(parse, plan_fills_family_and_rport)
{
	const char *text = "case 0901\ntitle t\ngroup g\nmatrix family inet6\ntest:\n"
			   "    occupy o TIME_WAIT active host {PORT}\n"
			   "    occupy p TIME_WAIT active host {PORT2} rport=6000 family=inet\n"
			   "    socket s tcp\n"
			   "expect ok\n    why w\n    ref r\n";
	struct case_file cf;
	struct plan p = { 0 };
	char err[512] = "";
	ck_assert_msg(parse(text, &cf, err) == 0, "%s", err);
	ck_assert_msg(plan_expand(&p, &cf, err, sizeof(err)) == 0, "%s", err);
	const struct steplist *t = &p.cases[0].test;
	ck_assert_int_eq(t->v[0].argc, 8);
	ck_assert_str_eq(t->v[0].argv[6], "rport=5000");
	ck_assert_str_eq(t->v[0].argv[7], "family=inet6");
	ck_assert_int_eq(t->v[1].argc, 8);  /* written: kept as written */
	ck_assert_str_eq(t->v[1].argv[6], "rport=6000");
	ck_assert_str_eq(t->v[1].argv[7], "family=inet");
	ck_assert_int_eq(t->v[2].argc, 4);
	ck_assert_str_eq(t->v[2].argv[3], "inet6");
	plan_free(&p);
	casefile_free(&cf);
}
END_TEST

UNIT_MAIN("casefile")
