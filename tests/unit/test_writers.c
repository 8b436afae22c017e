/* Unit tests for the report model, the escaping rules and the TAP, JUnit and JSON writers.
 * Reports are built in memory with every status and hostile strings, written to memory
 * streams, and checked line by line; the JSON is parsed back with jansson. */
#include "fixture.h"
#include "reports/report.h"
#include "reports/escape.h"
#include "lib/util.h"
#include "lib/kv.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FFFD UTF8_REPLACEMENT

#define NASTY_ID "0120/nasty \"q\" <a&b> #1"
#define NASTY_TITLE "two\nlines\tand \x01 bell"
#define NASTY_DETAIL "line1\nline2\t\x01 \xff end"
#define SKIP_REASON "sysctl net.ipv4.tcp_tw_recycle absent # since 4.12"
#define ERROR_DETAIL "state FIN_WAIT2 not reached: timeout after 2000 ms"
#define RATIONALE "Linux requires SO_REUSEADDR on both sockets: see inet_csk_bind_conflict()"

/* ---- helpers ---------------------------------------------------------------------------- */

static char *escaped(void (*fn)(struct buf *, const char *), const char *s)
{
	struct buf b = { 0 };
	buf_add(&b, "");
	fn(&b, s);
	return b.s;
}

static char *xml(const char *s, enum xml_context ctx)
{
	struct buf b = { 0 };
	buf_add(&b, "");
	esc_xml(&b, s, ctx);
	return b.s;
}

/* got is a string the test owns: it must be want. */
#define ck_owned_str_eq(got, want)              \
	do {                                    \
		char *got_ = (got);             \
		ck_assert_str_eq(got_, want);   \
		free(got_);                     \
	} while (0)

#define ck_escape(fn, in, want) ck_owned_str_eq(escaped(fn, in), want)

#define ck_xml(in, ctx, want) ck_owned_str_eq(xml(in, ctx), want)

static char *render(int (*writer)(FILE *, const struct report *), const struct report *r)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(writer(f, r), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(strlen(s), len); /* no NUL bytes slipped in */
	return s;
}

/* Independent of utf8_decode on purpose: the writers' own decoder is what is under test. */
static int valid_utf8(const char *s)
{
	static const unsigned long min[] = { 0, 0x80, 0x800, 0x10000 };
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n;
		unsigned long cp;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xE0) == 0xC0)
			n = 1, cp = *p & 0x1F;
		else if ((*p & 0xF0) == 0xE0)
			n = 2, cp = *p & 0x0F;
		else if ((*p & 0xF8) == 0xF0)
			n = 3, cp = *p & 0x07;
		else
			return 0;
		p++;
		for (int i = 0; i < n; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (*p & 0x3F);
		}
		if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
	}
	return 1;
}

/* Control bytes other than those listed in allowed. */
static int has_control_except(const char *s, const char *allowed)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 || *p == 0x7F) && !strchr(allowed, *p))
			return 1;
	return 0;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void add_case(struct report *r, const char *id, int number, const char *title,
		     const char *group, const char *expected, const char *observed,
		     enum status st, double ms, const char *detail, const char *rationale,
		     const char *const *refs, size_t nrefs, const char *const *kvs, size_t nkv,
		     const char *const *facts, size_t nfacts)
{
	struct case_result c = {
		.id = (char *)id, .number = number, .title = (char *)title, .group = (char *)group,
		.expected = (char *)expected, .observed = (char *)observed, .status = st,
		.duration_ms = ms, .detail = (char *)detail, .rationale = (char *)rationale,
		.refs = (char **)refs, .nrefs = nrefs,
	};
	for (size_t i = 0; i + 1 < nkv; i += 2)
		kv_set(&c.params, kvs[i], kvs[i + 1]);
	for (size_t i = 0; i + 1 < nfacts; i += 2)
		kv_set(&c.facts, facts[i], facts[i + 1]);
	report_add(r, &c);
	kv_free(&c.params);
	kv_free(&c.facts);
}

/* One case of each status, in the order pass, fail, skip, error; groups bind, listen, bind,
 * (none). */
static void build_report(struct report *r)
{
	static const char *const pass_params[] = { "op", "bind", "old_reuseaddr", "1" };
	static const char *const fail_params[] = {
		"op", "listen", "sysctl.net.ipv4.tcp_tw_reuse", "2", "note", "a: b # c",
	};
	static const char *const fail_refs[] = {
		"man 7 socket", "RFC 9293 \xC2\xA7" "3.3.2", "", "tcp(7): tcp_tw_reuse",
	};
	static const char *const fail_facts[] = { "port", "40000" };

	memset(r, 0, sizeof(*r));
	r->info.tool_name = xstrdup("sockreuse");
	r->info.tool_version = xstrdup("0.1.0");
	r->info.kernel_release = xstrdup("6.1.0-test");
	r->info.kernel_version = xstrdup("#1 SMP Debian 6.1.0");
	r->info.machine = xstrdup("x86_64");
	r->info.hostname = xstrdup("host<1>");
	r->info.started = xstrdup("2026-11-21T10:11:39Z");
	r->info.duration_s = 12.3456;
	kv_set(&r->info.properties, "sysctl.net.ipv4.ip_local_port_range", "32768\t60999");

	add_case(r, "0110/TIME_WAIT/old=1/new=1/addr=same", 110, "restart over TIME_WAIT", "bind",
		 "ok", "ok", ST_PASS, 1500, "", "both sockets set SO_REUSEADDR", NULL, 0,
		 pass_params, 4, NULL, 0);
	add_case(r, NASTY_ID, 120, NASTY_TITLE, "listen", "EADDRINUSE", "ok", ST_FAIL, NAN,
		 NASTY_DETAIL, RATIONALE, fail_refs, 4, fail_params, 6, fail_facts, 2);
	add_case(r, "0130/skip", 130, "tw_recycle", "bind", "ok", "", ST_SKIP, INFINITY,
		 SKIP_REASON, "", NULL, 0, NULL, 0, NULL, 0);
	add_case(r, "0140/err", 140, "fin_wait2", "", "", "", ST_ERROR, -3, ERROR_DETAIL, "",
		 NULL, 0, NULL, 0, NULL, 0);
}

/* ---- escaping ---------------------------------------------------------------------------- */

TCASE(escape);

TEST(escape, utf8_decoding)
{
	size_t n;
	ck_assert_int_eq(utf8_decode("A", &n), 'A');
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(utf8_decode("\xC3\xA9", &n), 0xE9);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(utf8_decode("\xE2\x82\xAC", &n), 0x20AC);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(utf8_decode("\xF0\x9F\x98\x80", &n), 0x1F600);
	ck_assert_uint_eq(n, 4);

	static const char *const bad[] = {
		"\x80", "\xFF", "\xC0\xAF" /* overlong '/' */, "\xE0\x80\xAF" /* overlong */,
		"\xED\xA0\x80" /* surrogate */, "\xF4\x90\x80\x80" /* > U+10FFFF */,
		"\xE2\x82" /* truncated */, "\xC3(" /* bad continuation */,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(utf8_decode(bad[i], &n), -1);
		ck_assert_uint_eq(n, 1);
	}
}
END_TEST

TEST(escape, xml_escaping)
{
	ck_xml("a<b>&\"c'", XML_TEXT, "a&lt;b&gt;&amp;\"c'");
	ck_xml("a<b>&\"c'", XML_ATTR, "a&lt;b&gt;&amp;&quot;c'");
	ck_xml("x\ty\nz\r", XML_ATTR, "x&#9;y&#10;z&#13;");
	ck_xml("x\ty\nz\r", XML_TEXT, "x\ty\nz&#13;");
	ck_xml("]]>", XML_TEXT, "]]&gt;");
	/* XML 1.0 cannot carry these even as character references. */
	ck_xml("a\x01z\x1f", XML_TEXT, "a\\x01z\\x1f");
	ck_xml("\x0b\x0c", XML_ATTR, "\\x0b\\x0c");
	ck_xml("\xEF\xBF\xBE\xEF\xBF\xBF", XML_TEXT, FFFD FFFD);
	ck_xml("bad \xff\xfe end", XML_TEXT, "bad " FFFD FFFD " end");
	ck_xml("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", XML_ATTR, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
	ck_xml("", XML_TEXT, "");
	ck_xml(NULL, XML_ATTR, "");
}
END_TEST

/* Each escaper on inputs that need it and inputs that do not: escaper, input, what it makes. */
static const struct escape_row {
	void (*fn)(struct buf *, const char *);
	const char *in, *want;
} escapes[] = {
	/* JSON string literals */
	{ esc_json, "a\"b\\c/d", "\"a\\\"b\\\\c/d\"" },
	{ esc_json, "\b\f\n\r\t\x01\x1f\x7f", "\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"" },
	{ esc_json, "", "\"\"" },
	{ esc_json, NULL, "\"\"" },
	{ esc_json, "x\xffy", "\"x" FFFD "y\"" },
	{ esc_json, "\xC3\xA9", "\"\xC3\xA9\"" },
	/* YAML scalars, sequence entries and keys */
	{ esc_yaml_scalar, "EADDRINUSE", "EADDRINUSE" },
	{ esc_yaml_scalar, "ok", "ok" },
	{ esc_yaml_scalar, "man 7 socket", "man 7 socket" },
	{ esc_yaml_scalar, "inet_csk_get_port()", "inet_csk_get_port()" },
	{ esc_yaml_scalar, "/proc/sys/net", "/proc/sys/net" },
	{ esc_yaml_scalar, "", "\"\"" },
	{ esc_yaml_scalar, NULL, "\"\"" },
	{ esc_yaml_scalar, "0", "\"0\"" },
	{ esc_yaml_scalar, "1.5", "\"1.5\"" },
	{ esc_yaml_scalar, "yes", "\"yes\"" },
	{ esc_yaml_scalar, "Null", "\"Null\"" },
	{ esc_yaml_scalar, "a: b", "\"a: b\"" },
	{ esc_yaml_scalar, "#x", "\"#x\"" },
	{ esc_yaml_scalar, "a #b", "\"a #b\"" },
	{ esc_yaml_scalar, " lead", "\" lead\"" },
	{ esc_yaml_scalar, "trail ", "\"trail \"" },
	{ esc_yaml_scalar, "- item", "\"- item\"" },
	{ esc_yaml_scalar, "'single'", "\"'single'\"" },
	{ esc_yaml_scalar, "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ esc_yaml_scalar, "l1\nl2\tt\r\x01\x7f", "\"l1\\nl2\\tt\\r\\x01\\x7f\"" },
	{ esc_yaml_scalar, "\xC2\x85", "\"\\x85\"" }, /* NEL: a YAML line break */
	{ esc_yaml_scalar, "\xff", "\"" FFFD "\"" },
	{ esc_yaml_scalar, "\xC3\xA9t\xC3\xA9", "\"\xC3\xA9t\xC3\xA9\"" },
	/* Sequence entries: ": " would make TAP::Parser read a mapping, even inside quotes. */
	{ esc_yaml_item, "man 7 socket", "man 7 socket" },
	{ esc_yaml_item, "a: b", "\"a\\x3a b\"" },
	{ esc_yaml_item, "RFC: 1: x", "\"RFC\\x3a 1\\x3a x\"" },
	{ esc_yaml_item, "a:b", "\"a:b\"" },
	{ esc_yaml_item, "", "\"\"" },
	{ esc_yaml_scalar, "a: b", "\"a: b\"" },
	{ esc_yaml_key, "op", "op" },
	{ esc_yaml_key, "sysctl.net.ipv4.tcp_tw_reuse", "sysctl.net.ipv4.tcp_tw_reuse" },
	{ esc_yaml_key, "weird key", "\"weird key\"" },
	{ esc_yaml_key, "1abc", "\"1abc\"" },
	{ esc_yaml_key, "a:b", "\"a:b\"" },
	{ esc_yaml_key, "/path", "\"/path\"" },
	{ esc_yaml_key, "", "\"\"" },
	/* TAP description text */
	{ esc_tap_text, "a#b", "a\\#b" },
	{ esc_tap_text, "# SKIP not really", "\\# SKIP not really" },
	{ esc_tap_text, "a\\b", "a\\\\b" },
	{ esc_tap_text, "x\ny\r\tz\x01", "x\\x0ay\\x0d\\x09z\\x01" },
	{ esc_tap_text, "bad\xff", "bad" FFFD },
	{ esc_tap_text, "<ok & fine>", "<ok & fine>" },
};

TEST_LOOP(escape, escapers, 0, sizeof(escapes) / sizeof(escapes[0]))
{
	ck_escape(escapes[_i].fn, escapes[_i].in, escapes[_i].want);
}
END_TEST

TEST(escape, json_escaping)
{
	/* Every ASCII byte survives a round trip through a real JSON parser. */
	char ascii[128];
	for (int i = 1; i < 128; i++)
		ascii[i - 1] = (char)i;
	ascii[127] = '\0';
	char *lit = escaped(esc_json, ascii);
	json_error_t e;
	json_t *j = json_loads(lit, JSON_DECODE_ANY, &e);
	ck_assert_msg(j != NULL, "jansson: %s", e.text);
	ck_assert_str_eq(json_string_value(j), ascii);
	json_decref(j);
	free(lit);

	/* Every high byte alone is invalid UTF-8; the literal must still parse. */
	char high[129];
	for (int i = 0; i < 128; i++)
		high[i] = (char)(128 + i);
	high[128] = '\0';
	lit = escaped(esc_json, high);
	ck_assert(valid_utf8(lit));
	j = json_loads(lit, JSON_DECODE_ANY, &e);
	ck_assert_msg(j != NULL, "jansson: %s", e.text);
	json_decref(j);
	free(lit);
}
END_TEST

TEST(escape, fixed3_numbers)
{
	static const struct {
		double in;
		const char *want;
	} cases[] = {
		{ 0, "0.000" },       { 1.5, "1.500" },   { 0.0004, "0.000" },
		{ 0.0006, "0.001" },  { 1234.5678, "1234.568" },
		{ -1, "0.000" },      { -0.0001, "0.000" },
		{ 1e300, "1000000000000.000" },
	};
	char out[FIXED3_LEN];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fmt_fixed3(out, cases[i].in);
		ck_assert_str_eq(out, cases[i].want);
	}
	fmt_fixed3(out, NAN);
	ck_assert_str_eq(out, "0.000");
	fmt_fixed3(out, INFINITY);
	ck_assert_str_eq(out, "0.000");
	fmt_fixed3(out, -INFINITY);
	ck_assert_str_eq(out, "0.000");
}
END_TEST

/* ---- the report model -------------------------------------------------------------------- */

TCASE(model);

TEST(model, status_names)
{
	ck_assert_str_eq(status_name(ST_PASS), "pass");
	ck_assert_str_eq(status_name(ST_FAIL), "fail");
	ck_assert_str_eq(status_name(ST_SKIP), "skip");
	ck_assert_str_eq(status_name(ST_ERROR), "error");
	ck_assert_str_eq(status_name((enum status)42), "error");
	for (int s = ST_PASS; s <= ST_ERROR; s++)
		ck_assert_int_eq(status_parse(status_name((enum status)s)), s);
	ck_assert_int_eq(status_parse("PASS"), -1);
	ck_assert_int_eq(status_parse("passed"), -1);
	ck_assert_int_eq(status_parse(""), -1);
	ck_assert_int_eq(status_parse(NULL), -1);
}
END_TEST

TEST(model, add_makes_deep_copy)
{
	struct report r = { 0 };
	struct case_result c = { 0 };
	c.id = xstrdup("0001/x");
	c.number = 1;
	c.title = xstrdup("title");
	c.group = NULL; /* NULL fields come back as "" */
	c.expected = xstrdup("ok");
	c.observed = xstrdup("EADDRINUSE");
	c.status = ST_FAIL;
	c.duration_ms = 2.5;
	c.detail = xstrdup("d");
	c.rationale = NULL;
	c.refs = xcalloc(2, sizeof(char *));
	c.refs[0] = xstrdup("ref0");
	c.refs[1] = xstrdup("ref1");
	c.nrefs = 2;
	kv_set(&c.params, "op", "bind");
	kv_set(&c.facts, "port", "1");

	report_add(&r, &c);
	ck_assert_ptr_ne(r.cases[0].id, c.id);
	ck_assert_ptr_ne(r.cases[0].refs, c.refs);
	ck_assert_ptr_ne(r.cases[0].refs[0], c.refs[0]);
	c.id[0] = 'X';
	c.refs[0][0] = 'X';
	kv_set(&c.params, "op", "listen");
	case_result_free(&c);
	ck_assert_ptr_null(c.id);
	ck_assert_uint_eq(c.nrefs, 0);

	/* Grow past the initial capacity so the array moves. */
	for (int i = 0; i < 40; i++) {
		struct case_result more = { .id = "more", .status = ST_PASS };
		report_add(&r, &more);
	}
	const struct case_result *d = &r.cases[0];
	ck_assert_uint_eq(r.ncases, 41);
	ck_assert_str_eq(d->id, "0001/x");
	ck_assert_int_eq(d->number, 1);
	ck_assert_str_eq(d->title, "title");
	ck_assert_str_eq(d->group, "");
	ck_assert_str_eq(d->expected, "ok");
	ck_assert_str_eq(d->observed, "EADDRINUSE");
	ck_assert_int_eq(d->status, ST_FAIL);
	ck_assert(d->duration_ms == 2.5);
	ck_assert_str_eq(d->detail, "d");
	ck_assert_str_eq(d->rationale, "");
	ck_assert_uint_eq(d->nrefs, 2);
	ck_assert_str_eq(d->refs[0], "ref0");
	ck_assert_str_eq(d->refs[1], "ref1");
	ck_assert_str_eq(kv_get(&d->params, "op"), "bind");
	ck_assert_str_eq(kv_get(&d->facts, "port"), "1");
	ck_assert_str_eq(r.cases[40].title, "");

	report_free(&r);
	ck_assert_ptr_null(r.cases);
	ck_assert_uint_eq(r.ncases, 0);
}
END_TEST

TEST(model, summary_counts)
{
	struct report r;
	build_report(&r);
	struct summary s = report_summary(&r);
	ck_assert_uint_eq(s.total, 4);
	ck_assert_uint_eq(s.pass, 1);
	ck_assert_uint_eq(s.fail, 1);
	ck_assert_uint_eq(s.skip, 1);
	ck_assert_uint_eq(s.error, 1);

	r.cases[0].status = (enum status)99; /* corrupt: never a pass */
	s = report_summary(&r);
	ck_assert_uint_eq(s.pass, 0);
	ck_assert_uint_eq(s.error, 2);
	report_free(&r);
}
END_TEST

/* ---- TAP --------------------------------------------------------------------------------- */

static const char expected_tap[] =
	"TAP version 13\n"
	"ok 1 - 0110/TIME_WAIT/old=1/new=1/addr=same\n"
	"not ok 2 - 0120/nasty \"q\" <a&b> \\#1\n"
	"  ---\n"
	"  expected: EADDRINUSE\n"
	"  observed: ok\n"
	"  status: fail\n"
	"  detail: \"line1\\nline2\\t\\x01 " FFFD " end\"\n"
	"  rationale: \"" RATIONALE "\"\n"
	"  params:\n"
	"    op: listen\n"
	"    sysctl.net.ipv4.tcp_tw_reuse: \"2\"\n"
	"    note: \"a: b # c\"\n"
	"  refs:\n"
	"    - man 7 socket\n"
	"    - \"RFC 9293 \xC2\xA7" "3.3.2\"\n"
	"    - \"\"\n"
	"    - \"tcp(7)\\x3a tcp_tw_reuse\"\n"
	"  facts:\n"
	"    port: \"40000\"\n"
	"  ...\n"
	"ok 3 - 0130/skip # SKIP sysctl net.ipv4.tcp_tw_recycle absent \\# since 4.12\n"
	"not ok 4 - 0140/err\n"
	"  ---\n"
	"  expected: \"\"\n"
	"  observed: \"\"\n"
	"  status: error\n"
	"  detail: \"" ERROR_DETAIL "\"\n"
	"  rationale: \"\"\n"
	"  ...\n"
	"1..4\n"
	"# 1 passed, 1 failed, 1 skipped, 1 errors\n";

TCASE(tap);

TEST(tap, tap_whole_report)
{
	struct report r;
	build_report(&r);
	char *out = render(tap_write, &r);
	ck_assert_str_eq(out, expected_tap);
	ck_assert(valid_utf8(out));
	ck_assert(!has_control_except(out, "\n"));
	free(out);

	/* An interrupted run bails out, with its reason, so that no TAP consumer passes it. */
	r.interrupted = 1;
	r.interruption = xstrdup("interrupted by SIGINT: 4 of 9 cases finished");
	out = render(tap_write, &r);
	size_t len = strlen(out);
	const char *tail = "1..4\n# 1 passed, 1 failed, 1 skipped, 1 errors\n"
			   "Bail out! interrupted by SIGINT: 4 of 9 cases finished\n";
	ck_assert_uint_ge(len, strlen(tail));
	ck_assert_str_eq(out + len - strlen(tail), tail);
	free(out);
	report_free(&r);
}
END_TEST

/* Streaming: numbers come from the caller, the plan from what was emitted. */
TEST(tap, tap_streaming_and_plan)
{
	struct report r;
	build_report(&r);
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	tap_begin(f);
	tap_case(f, 1, &r.cases[0]);
	tap_case(f, 2, &r.cases[2]);
	tap_case(f, 3, &r.cases[3]);
	/* The run was stopped: the report holds what finished, the plan counts what was shown. */
	case_result_free(&r.cases[1]);
	r.cases[1] = r.cases[3];
	r.ncases = 3;
	r.interrupted = 1;
	tap_end(f, 3, &r);
	fclose(f);

	ck_assert_ptr_eq(strstr(s, "TAP version 13\n"), s);
	ck_assert_ptr_nonnull(strstr(s, "\nok 1 - 0110/"));
	ck_assert_ptr_nonnull(strstr(s, "\nok 2 - 0130/skip # SKIP "));
	ck_assert_ptr_nonnull(strstr(s, "\nnot ok 3 - 0140/err\n  ---\n"));
	ck_assert_uint_eq(count_of(s, "ok "), 3);
	const char *tail = "\n1..3\n# 1 passed, 0 failed, 1 skipped, 1 errors\nBail out! interrupted\n";
	ck_assert_str_eq(s + len - strlen(tail), tail);
	ck_assert_uint_eq(count_of(s, "1.."), 1);
	free(s);
	report_free(&r);
}
END_TEST

/* A run without cases, in the writers whose text for it is fixed. */
static const struct {
	int (*writer)(FILE *, const struct report *);
	const char *text;
} empty_runs[] = {
	{ tap_write, "TAP version 13\n1..0\n# 0 passed, 0 failed, 0 skipped, 0 errors\n" },
	{ junit_write, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n</testsuites>\n" },
};

TCASE(empty);

TEST_LOOP(empty, empty_run, 0, sizeof(empty_runs) / sizeof(empty_runs[0]))
{
	struct report r = { 0 };
	char *out = render(empty_runs[_i].writer, &r);
	ck_assert_str_eq(out, empty_runs[_i].text);
	free(out);
}
END_TEST

/* An id with no description text, and a skip with no reason, keep the line parseable. */
TEST(tap, tap_bare_lines)
{
	struct report r = { 0 };
	struct case_result c = { .id = "", .status = ST_SKIP, .detail = "" };
	report_add(&r, &c);
	char *out = render(tap_write, &r);
	ck_assert_ptr_nonnull(strstr(out, "\nok 1 # SKIP\n"));
	free(out);
	report_free(&r);
}
END_TEST

TCASE(files);

TEST(files, writers_report_io_errors)
{
	struct report r;
	build_report(&r);
	int (*writers[])(FILE *, const struct report *) = { tap_write, junit_write, json_write };
	for (size_t i = 0; i < 3; i++) {
		FILE *f = fopen("/dev/full", "w");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(writers[i](f, &r), -1);
		fclose(f);
	}
	report_free(&r);
}
END_TEST

/* ---- JUnit ------------------------------------------------------------------------------- */

TCASE(junit);

TEST(junit, junit_whole_report)
{
	struct report r;
	build_report(&r);
	char *x = render(junit_write, &r);

	/* The Ant schema allows no attribute on <testsuites>. */
	ck_assert_ptr_eq(strstr(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"), x);
	ck_assert_str_eq(x + strlen(x) - strlen("</testsuites>\n"), "</testsuites>\n");

	/* One suite per group, in first-appearance order; the ungrouped case gets its own. */
	/* The kernel in the suite's name (what GitHub reporters show), package and id for the Ant
	 * schema. */
	const char *bind = strstr(x, "  <testsuite name=\"bind on 6.1.0-test\" package=\"sockreuse.bind\" "
				     "id=\"0\" tests=\"2\" failures=\"0\" "
				     "errors=\"0\" skipped=\"1\" time=\"1.500\" "
				     "timestamp=\"2026-11-21T10:11:39\" hostname=\"host&lt;1&gt;\">\n");
	const char *listen = strstr(x, "  <testsuite name=\"listen on 6.1.0-test\" package=\"sockreuse.listen\" "
				       "id=\"1\" tests=\"1\" failures=\"1\" "
				       "errors=\"0\" skipped=\"0\" time=\"0.000\" ");
	const char *ungrouped = strstr(x, "  <testsuite name=\"ungrouped on 6.1.0-test\" "
					  "package=\"sockreuse.ungrouped\" id=\"2\" tests=\"1\" failures=\"0\" "
					  "errors=\"1\" skipped=\"0\" time=\"0.000\" ");
	ck_assert_ptr_nonnull(bind);
	ck_assert_ptr_nonnull(listen);
	ck_assert_ptr_nonnull(ungrouped);
	ck_assert(bind < listen && listen < ungrouped);
	ck_assert_uint_eq(count_of(x, "<testsuite "), 3);
	ck_assert_uint_eq(count_of(x, "<testcase "), 4);
	ck_assert_uint_eq(count_of(x, "    <system-out/>\n    <system-err/>\n  </testsuite>\n"), 3);

	/* Properties, repeated in every suite. */
	ck_assert_uint_eq(count_of(x, "<property name=\"kernel.release\" value=\"6.1.0-test\"/>"), 3);
	ck_assert_ptr_nonnull(strstr(x, "<property name=\"kernel.version\" value=\"#1 SMP Debian 6.1.0\"/>"));
	ck_assert_ptr_nonnull(strstr(x, "<property name=\"kernel.machine\" value=\"x86_64\"/>"));
	ck_assert_ptr_nonnull(strstr(x, "<property name=\"tool.version\" value=\"0.1.0\"/>"));
	ck_assert_ptr_nonnull(strstr(x, "<property name=\"sysctl.net.ipv4.ip_local_port_range\" "
					"value=\"32768&#9;60999\"/>"));
	ck_assert_ptr_null(strstr(x, "run.interrupted"));

	/* The cases, both suites of "bind" in one <testsuite>. */
	ck_assert_ptr_nonnull(strstr(bind, "    <testcase name=\"0110/TIME_WAIT/old=1/new=1/addr=same\" "
					   "classname=\"sockreuse.bind\" time=\"1.500\"/>\n"));
	ck_assert_ptr_nonnull(strstr(bind, "    <testcase name=\"0130/skip\" classname=\"sockreuse.bind\" "
					   "time=\"0.000\">\n      <skipped message=\"" SKIP_REASON
					   "\">" SKIP_REASON "</skipped>\n    </testcase>\n"));
	ck_assert_ptr_nonnull(strstr(listen, "    <testcase name=\"0120/nasty &quot;q&quot; &lt;a&amp;b&gt; #1\" "
					     "classname=\"sockreuse.listen\" time=\"0.000\">\n"
					     "      <failure message=\"expected EADDRINUSE, observed ok\" "
					     "type=\"fail\">kernel: 6.1.0-test\ntitle: two\nlines\tand \\x01 bell\n"
					     "expected: EADDRINUSE\nobserved: ok\n"
					     "detail: line1\nline2\t\\x01 " FFFD " end\n"
					     "rationale: " RATIONALE "\n"
					     "params: op=listen sysctl.net.ipv4.tcp_tw_reuse=2 note=a: b # c\n"
					     "refs: man 7 socket; RFC 9293 \xC2\xA7" "3.3.2; ; tcp(7): tcp_tw_reuse\n"
					     "facts: port=40000\n</failure>\n    </testcase>\n"));
	ck_assert_ptr_nonnull(strstr(ungrouped, "    <testcase name=\"0140/err\" classname=\"sockreuse.ungrouped\" "
						"time=\"0.000\">\n      <error message=\"" ERROR_DETAIL
						"\" type=\"error\">kernel: 6.1.0-test\ntitle: fin_wait2\nexpected: (none)\n"
						"observed: (none)\ndetail: " ERROR_DETAIL "\n</error>\n"));

	ck_assert(valid_utf8(x));
	ck_assert(!has_control_except(x, "\n\t"));
	free(x);

	/* The annotated variant names the case file and the line of the expectation; the strict
	 * one cannot (the Ant schema has no such attributes). */
	free(r.cases[0].file);
	r.cases[0].file = xstrdup("cases/0110-reuse.case");
	r.cases[0].line = 42;
	x = render(junit_write_annotated, &r);
	ck_assert_ptr_nonnull(strstr(x, "classname=\"sockreuse.bind\" time=\"1.500\" "
					"file=\"cases/0110-reuse.case\" line=\"42\"/>\n"));
	free(x);
	x = render(junit_write, &r);
	ck_assert_ptr_null(strstr(x, " file=\""));
	ck_assert_ptr_null(strstr(x, " line=\""));
	free(x);

	/* An interrupted run: an <error> testcase in a suite of its own, which CI pages show. */
	r.interrupted = 1;
	r.interruption = xstrdup("interrupted by SIGTERM: 4 of 9 cases finished");
	x = render(junit_write, &r);
	ck_assert_ptr_nonnull(strstr(x, "<property name=\"run.interrupted\" value=\"true\"/>"));
	ck_assert_ptr_nonnull(strstr(x, "<testsuite name=\"run on 6.1.0-test\" package=\"sockreuse.run\" id=\"3\" "
					"tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" "));
	ck_assert_ptr_nonnull(strstr(x, "<testcase name=\"interrupted\" classname=\"sockreuse.run\" time=\"0.000\">\n"
					"      <error message=\"interrupted by SIGTERM: 4 of 9 cases finished\" "
					"type=\"interrupted\">"));
	free(x);
	report_free(&r);
}
END_TEST

static char *junit_timestamp_of(const char *started)
{
	struct report r = { 0 };
	struct case_result c = { .id = "t", .group = "g", .status = ST_PASS };
	r.info.started = started ? xstrdup(started) : NULL;
	report_add(&r, &c);
	char *x = render(junit_write, &r);
	const char *p = strstr(x, "timestamp=\"");
	ck_assert_ptr_nonnull(p);
	char *ts = xstrndup(p + strlen("timestamp=\""), 19);
	ck_assert_int_eq(p[strlen("timestamp=\"") + 19], '"');
	ck_assert_ptr_nonnull(strstr(x, " hostname=\"unknown\">"));
	free(x);
	report_free(&r);
	return ts;
}

#define ck_timestamp(started, want) ck_owned_str_eq(junit_timestamp_of(started), want)

TEST(junit, junit_timestamp_has_no_zone)
{
	ck_timestamp("2026-11-21T10:11:39Z", "2026-11-21T10:11:39");
	ck_timestamp("2026-11-21T10:11:39.123456Z", "2026-11-21T10:11:39");
	ck_timestamp("2026-11-21T01:11:39+02:00", "2026-11-20T23:11:39");
	ck_timestamp("2026-12-31T23:30:00-0100", "2027-01-01T00:30:00");
	ck_timestamp("2026-11-21T10:11:39+05:30", "2026-11-21T04:41:39");
	ck_timestamp("2026-11-21T10:11:39", "2026-11-21T10:11:39");
	ck_timestamp("yesterday", "1970-01-01T00:00:00");
	ck_timestamp("0999-01-01T00:00:00Z", "1970-01-01T00:00:00"); /* %Y would not give 4 digits */
	ck_timestamp("2026-13-01T00:00:00Z", "1970-01-01T00:00:00");
	ck_timestamp("", "1970-01-01T00:00:00");
	ck_timestamp(NULL, "1970-01-01T00:00:00");
}
END_TEST

/* xs:token collapses whitespace, so names of only whitespace would be empty ones. */
TEST(junit, junit_blank_names)
{
	struct report r = { 0 };
	struct case_result a = { .id = "a", .group = " \t", .status = ST_PASS };
	struct case_result b = { .id = "b", .group = "", .status = ST_PASS };
	r.info.hostname = xstrdup(" \n");
	kv_set(&r.info.properties, " ", "dropped");
	report_add(&r, &a);
	report_add(&r, &b);
	char *x = render(junit_write, &r);
	ck_assert_uint_eq(count_of(x, "<testsuite name=\"ungrouped on unknown\" package=\"sockreuse.ungrouped\" "
				      "id=\"0\" tests=\"2\""), 1);
	ck_assert_uint_eq(count_of(x, "classname=\"sockreuse.ungrouped\""), 2);
	ck_assert_ptr_nonnull(strstr(x, " hostname=\"unknown\">"));
	ck_assert_ptr_null(strstr(x, "dropped"));
	free(x);
	report_free(&r);
}
END_TEST

/* ---- JSON -------------------------------------------------------------------------------- */

static json_t *parse_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	ck_assert_msg(j != NULL, "invalid JSON at line %d: %s", e.line, e.text);
	return j;
}

static const char *jstr(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	ck_assert_msg(json_is_string(v), "\"%s\" is not a string", key);
	return json_string_value(v);
}

static void ck_keys(const json_t *obj, const char *const *keys, size_t n)
{
	size_t i = 0;
	const char *k;
	json_t *v;
	ck_assert_uint_eq(json_object_size(obj), n);
	json_object_foreach((json_t *)obj, k, v) {
		(void)v;
		ck_assert_str_eq(k, keys[i]);
		i++;
	}
}

TCASE(json);

TEST(json, json_whole_report)
{
	static const char *const top_keys[] = {
		"format", "tool", "kernel", "hostname", "started", "duration_s", "interrupted",
		"interruption", "properties", "summary", "cases",
	};
	static const char *const case_keys[] = {
		"id", "number", "file", "line", "title", "group", "params", "expected", "observed", "status",
		"duration_ms", "detail", "rationale", "refs", "facts",
	};
	struct report r;
	build_report(&r);
	char *text = render(json_write, &r);
	ck_assert(valid_utf8(text));
	ck_assert(!has_control_except(text, "\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n  \"duration_s\": 12.346,\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n      \"duration_ms\": 1500.000,\n"));
	ck_assert_ptr_null(strstr(text, "nan"));
	ck_assert_ptr_null(strstr(text, "inf"));

	json_t *j = parse_json(text);
	ck_keys(j, top_keys, 11);
	ck_assert_str_eq(jstr(j, "format"), "sockreuse-report/1");
	json_t *tool = json_object_get(j, "tool"), *kernel = json_object_get(j, "kernel");
	ck_assert_str_eq(jstr(tool, "name"), "sockreuse");
	ck_assert_str_eq(jstr(tool, "version"), "0.1.0");
	ck_assert_str_eq(jstr(kernel, "release"), "6.1.0-test");
	ck_assert_str_eq(jstr(kernel, "version"), "#1 SMP Debian 6.1.0");
	ck_assert_str_eq(jstr(kernel, "machine"), "x86_64");
	ck_assert_str_eq(jstr(j, "hostname"), "host<1>");
	ck_assert_str_eq(jstr(j, "started"), "2026-11-21T10:11:39Z");
	ck_assert(json_real_value(json_object_get(j, "duration_s")) == 12.346);
	ck_assert(json_is_false(json_object_get(j, "interrupted")));
	ck_assert_str_eq(jstr(json_object_get(j, "properties"), "sysctl.net.ipv4.ip_local_port_range"),
			 "32768\t60999");

	json_t *sum = json_object_get(j, "summary");
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "total")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "pass")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "fail")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "skip")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "error")), 1);

	json_t *cases = json_object_get(j, "cases");
	ck_assert_uint_eq(json_array_size(cases), 4);
	static const char *const statuses[] = { "pass", "fail", "skip", "error" };
	for (size_t i = 0; i < 4; i++) {
		json_t *c = json_array_get(cases, i);
		ck_keys(c, case_keys, 15);
		ck_assert_str_eq(jstr(c, "status"), statuses[i]);
		ck_assert(json_is_integer(json_object_get(c, "number")));
		ck_assert(json_is_real(json_object_get(c, "duration_ms")));
	}

	json_t *f = json_array_get(cases, 1);
	ck_assert_str_eq(jstr(f, "id"), NASTY_ID);
	ck_assert_int_eq(json_integer_value(json_object_get(f, "number")), 120);
	ck_assert_str_eq(jstr(f, "title"), NASTY_TITLE);
	ck_assert_str_eq(jstr(f, "group"), "listen");
	ck_assert_str_eq(jstr(f, "expected"), "EADDRINUSE");
	ck_assert_str_eq(jstr(f, "observed"), "ok");
	ck_assert_str_eq(jstr(f, "detail"), "line1\nline2\t\x01 " FFFD " end");
	ck_assert_str_eq(jstr(f, "rationale"), RATIONALE);
	ck_assert(json_real_value(json_object_get(f, "duration_ms")) == 0); /* was NaN */
	json_t *params = json_object_get(f, "params");
	static const char *const param_keys[] = { "op", "sysctl.net.ipv4.tcp_tw_reuse", "note" };
	ck_keys(params, param_keys, 3);
	ck_assert_str_eq(jstr(params, "note"), "a: b # c");
	json_t *refs = json_object_get(f, "refs");
	ck_assert_uint_eq(json_array_size(refs), 4);
	ck_assert_str_eq(json_string_value(json_array_get(refs, 1)), "RFC 9293 \xC2\xA7" "3.3.2");
	ck_assert_str_eq(json_string_value(json_array_get(refs, 2)), "");
	ck_assert_str_eq(json_string_value(json_array_get(refs, 3)), "tcp(7): tcp_tw_reuse");
	ck_assert_str_eq(jstr(json_object_get(f, "facts"), "port"), "40000");

	json_t *skip = json_array_get(cases, 2), *err = json_array_get(cases, 3);
	ck_assert(json_real_value(json_object_get(skip, "duration_ms")) == 0); /* was inf */
	ck_assert(json_real_value(json_object_get(err, "duration_ms")) == 0);  /* was -3 */
	ck_assert_uint_eq(json_array_size(json_object_get(skip, "refs")), 0);
	ck_assert_uint_eq(json_object_size(json_object_get(skip, "params")), 0);
	ck_assert_str_eq(jstr(err, "group"), "");
	ck_assert_str_eq(jstr(err, "expected"), "");

	json_decref(j);
	free(text);

	r.interrupted = 1;
	text = render(json_write, &r);
	j = parse_json(text);
	ck_assert(json_is_true(json_object_get(j, "interrupted")));
	json_decref(j);
	free(text);
	report_free(&r);
}
END_TEST

TEST(json, json_empty_run)
{
	struct report r = { 0 };
	char *text = render(json_write, &r);
	json_t *j = parse_json(text);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "cases")), 0);
	ck_assert_uint_eq(json_object_size(json_object_get(j, "properties")), 0);
	ck_assert_str_eq(jstr(json_object_get(j, "tool"), "name"), "");
	ck_assert_ptr_nonnull(strstr(text, "\"cases\": []\n}\n"));
	json_decref(j);
	free(text);
}
END_TEST

/* ---- atomic file writing ----------------------------------------------------------------- */

/* The names in dir, sorted and joined with ' '. */
static char *dir_listing(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	struct buf b = { 0 };
	buf_add(&b, "");
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
			buf_printf(&b, "%s%s", b.len ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return b.s;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;
	buf_add(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_addn(&b, chunk, n);
	fclose(f);
	return b.s;
}

static int failing_writer(FILE *f, const struct report *r)
{
	(void)r;
	fputs("half a rep", f);
	return -1;
}

#define ck_listing(dir, want) ck_owned_str_eq(dir_listing(dir), want)

TEST(files, write_file_is_atomic)
{
	char dir[] = "/tmp/test_writers.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *path = xasprintf("%s/out.json", dir);
	char err[256] = "";
	struct report r;
	build_report(&r);

	ck_assert_int_eq(report_write_file(path, json_write, &r, err, sizeof(err)), 0);
	ck_listing(dir, "out.json");
	char *text = read_all(path);
	json_decref(parse_json(text));
	char *mem = render(json_write, &r);
	ck_assert_str_eq(text, mem);
	free(text);
	free(mem);

	/* Replacing an existing report. */
	ck_assert_int_eq(report_write_file(path, tap_write, &r, err, sizeof(err)), 0);
	ck_listing(dir, "out.json");
	text = read_all(path);
	ck_assert_str_eq(text, expected_tap);
	free(text);

	/* A writer that fails leaves the old file as it was and no temporary behind. */
	ck_assert_int_eq(report_write_file(path, failing_writer, &r, err, sizeof(err)), -1);
	char *want = xasprintf("cannot write %s: %s", path, strerror(EIO));
	ck_assert_str_eq(err, want);
	free(want);
	ck_listing(dir, "out.json");
	text = read_all(path);
	ck_assert_str_eq(text, expected_tap);
	free(text);

	/* A relative path, with no directory part. */
	char cwd[4096];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(report_write_file("rel.xml", junit_write, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_listing(dir, "out.json rel.xml");

	char *rel = xasprintf("%s/rel.xml", dir);
	unlink(rel);
	free(rel);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
	free(path);
	report_free(&r);
}
END_TEST

TEST(files, write_file_fails_cleanly)
{
	char err[256] = "";
	struct report r;
	build_report(&r);

	ck_assert_int_eq(report_write_file("/nonexistent-sockreuse-dir/x.json", json_write, &r,
					   err, sizeof(err)), -1);
	ck_assert_str_eq(err, "cannot write /nonexistent-sockreuse-dir/x.json: No such file or directory");

	/* The target is a directory: the rename fails after the data was written. */
	char dir[] = "/tmp/test_writers.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *sub = xasprintf("%s/sub", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(report_write_file(sub, json_write, &r, err, sizeof(err)), -1);
	char *want = xasprintf("cannot write %s: %s", sub, strerror(EISDIR));
	ck_assert_str_eq(err, want);
	free(want);
	ck_listing(dir, "sub");

	/* Root ignores directory permissions, so this part only runs unprivileged. */
	if (geteuid() != 0) {
		char *ro = xasprintf("%s/x.json", sub);
		ck_assert_int_eq(chmod(sub, 0555), 0);
		ck_assert_int_eq(report_write_file(ro, json_write, &r, err, sizeof(err)), -1);
		want = xasprintf("cannot write %s: Permission denied", ro);
		ck_assert_str_eq(err, want);
		free(want);
		chmod(sub, 0755);
		free(ro);
	}

	/* err may be omitted. */
	ck_assert_int_eq(report_write_file("/nonexistent-sockreuse-dir/x", tap_write, &r, NULL, 0), -1);

	rmdir(sub);
	rmdir(dir);
	free(sub);
	report_free(&r);
}
END_TEST

UNIT_MAIN("writers")
